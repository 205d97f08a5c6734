#!/usr/bin/env python3
"""fsx.py - a data-integrity exerciser in the style of fsx: a long random
sequence of writes, reads, truncates and extensions on one file, every
read checked against an in-memory model of what the file must hold.

    fsx.py FILE [--ops N] [--seed S]

Offsets live in two regions: the first 12 MiB of the file, and 8 MiB
around 4 GiB, so that operations cross the 1 MiB request boundaries, the
8 MiB read/write limits and the 32-bit offset boundary.  The file is
closed and reopened now and then (the caches must not lie across opens)
and fsynced now and then.  On a mismatch it prints the seed and the last
operations, and exits 1.
"""
import argparse
import os
import random
import sys

PAGE = 1 << 16
REGIONS = [(0, 12 << 20), ((4 << 30) - (4 << 20), (4 << 30) + (4 << 20))]


class Model:
    """A sparse byte array: pages of PAGE bytes, zeros where absent."""

    def __init__(self):
        self.pages = {}
        self.size = 0

    def write(self, off, data):
        pos = 0
        while pos < len(data):
            p, o = divmod(off + pos, PAGE)
            n = min(PAGE - o, len(data) - pos)
            page = self.pages.setdefault(p, bytearray(PAGE))
            page[o:o + n] = data[pos:pos + n]
            pos += n
        self.size = max(self.size, off + len(data))

    def read(self, off, n):
        n = max(0, min(n, self.size - off))
        out = bytearray(n)
        pos = 0
        while pos < n:
            p, o = divmod(off + pos, PAGE)
            k = min(PAGE - o, n - pos)
            page = self.pages.get(p)
            if page:
                out[pos:pos + k] = page[o:o + k]
            pos += k
        return bytes(out)

    def truncate(self, size):
        if size < self.size:
            last = size // PAGE
            for p in [p for p in self.pages if p > last]:
                del self.pages[p]
            if last in self.pages:
                o = size % PAGE
                self.pages[last][o:] = bytes(PAGE - o)
        self.size = size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--ops", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    rnd = random.Random(seed)
    model = Model()
    log = []
    fd = os.open(a.file, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)

    def fail(msg):
        print("fsx: FAIL (seed %d, op %d): %s" % (seed, len(log), msg))
        for line in log[-15:]:
            print("  " + line)
        sys.exit(1)

    def offset(maxlen):
        lo, hi = rnd.choice(REGIONS)
        # Favour request boundaries: 1 MiB multiples, +-1 byte.
        if rnd.random() < 0.3:
            o = lo + rnd.randrange((hi - lo) >> 20) * (1 << 20) + rnd.choice([-1, 0, 1])
        else:
            o = rnd.randrange(lo, hi)
        return max(0, min(o, hi - maxlen))

    for i in range(a.ops):
        op = rnd.random()
        if op < 0.40:
            n = rnd.choice([1, 17, 4096, 65535, 65536, 65537, 1 << 20, (1 << 20) + 3, rnd.randrange(1, 3 << 20)])
            off = offset(n)
            data = rnd.randbytes(n)
            log.append("write %d@%d" % (n, off))
            if os.pwrite(fd, data, off) != n:
                fail("short write")
            model.write(off, data)
        elif op < 0.80:
            n = rnd.choice([1, 4096, 131072, 1 << 20, rnd.randrange(1, 9 << 20)])
            off = offset(n) if rnd.random() < 0.8 else max(0, model.size - rnd.randrange(1, 1 << 20))
            log.append("read %d@%d (size %d)" % (n, off, model.size))
            got = os.pread(fd, n, off)
            want = model.read(off, n)
            if got != want:
                bad = next((k for k in range(min(len(got), len(want))) if got[k] != want[k]), None)
                fail("read %d@%d: got %d bytes, want %d; first difference at +%s" %
                     (n, off, len(got), len(want), bad))
        elif op < 0.88:
            lo, hi = rnd.choice(REGIONS)
            size = rnd.randrange(lo, hi)
            log.append("truncate %d" % size)
            os.ftruncate(fd, size)
            model.truncate(size)
        elif op < 0.94:
            log.append("close+reopen")
            os.close(fd)
            fd = os.open(a.file, os.O_RDWR)
            st = os.fstat(fd).st_size
            if st != model.size:
                fail("size after reopen %d, want %d" % (st, model.size))
        else:
            log.append("fsync")
            os.fsync(fd)
    if os.fstat(fd).st_size != model.size:
        fail("final size %d, want %d" % (os.fstat(fd).st_size, model.size))
    for lo, hi in REGIONS:
        hi = min(hi, model.size)
        if lo < hi and os.pread(fd, hi - lo, lo) != model.read(lo, hi - lo):
            fail("final contents of [%d, %d) differ" % (lo, hi))
    os.close(fd)
    os.unlink(a.file)
    print("fsx: %d operations, seed %d, all reads matched" % (a.ops, seed))


if __name__ == "__main__":
    main()
