#!/usr/bin/env python3
"""Writers for the write-behind tests (writebehind.sh), each through
plain syscalls on a mount.

  writer.py hold PATH SIZE DIR
      open PATH for writing (it exists), write SIZE bytes of 'A' in one
      write(2), create DIR/ready, wait until DIR/stop exists, close;
      prints "close ok" or "close: ERRNO".
  writer.py fill PATH TOTAL BLOCK
      create PATH and write TOTAL bytes in BLOCK-byte writes, then fsync
      and close; prints where the first error came ("write N: ERRNO",
      "fsync: ERRNO", "close: ERRNO") or "ok", and how many bytes the
      writes that succeeded were told were written ("taken N").
  writer.py copy SRC DST BLOCK
      copy SRC to DST in BLOCK-byte writes, fsync, close; "ok" or the
      error as fill prints it.
  writer.py new PATH SIZE MTIME DIR
      as tar unpacks a file: create PATH (O_EXCL), write SIZE bytes of
      'B' in one write(2), then, unless MTIME is "-", set its times to
      MTIME (futimens); create DIR/ready, wait until DIR/stop exists,
      close; prints where the first error came ("write: ERRNO",
      "utime: ERRNO", "close: ERRNO") or "close ok".
  writer.py scatter PATH CHECK SEED
      a pseudo-random mix of sequential runs, overwrites and holes by
      pwrite(2) on PATH, close, then compare CHECK (the same file as the
      server has it) with a model: "match" or "mismatch at N".
"""
import errno
import os
import random
import sys
import time


def err_name(e):
    return errno.errorcode.get(e.errno, str(e.errno))


def ready_then_close(fd, d):
    """Create d/ready, wait until d/stop exists, close fd; say how."""
    open(os.path.join(d, "ready"), "w").close()
    while not os.path.exists(os.path.join(d, "stop")):
        time.sleep(0.05)
    try:
        os.close(fd)
        print("close ok")
    except OSError as e:
        print("close: " + err_name(e))


def hold(path, size, d):
    fd = os.open(path, os.O_WRONLY)
    os.write(fd, b"A" * size)
    ready_then_close(fd, d)


def new(path, size, mtime, d):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    what = "write"
    try:
        os.write(fd, b"B" * size)
        if mtime != "-":
            what = "utime"
            os.utime(fd, (int(mtime), int(mtime)))
    except OSError as e:
        print("%s: %s" % (what, err_name(e)))
        os.close(fd)
        return
    ready_then_close(fd, d)


def write_all(fd, chunks):
    """Write each chunk; the first error as fill prints it, or None."""
    taken = 0
    for i, b in enumerate(chunks):
        try:
            n = os.write(fd, b)
        except OSError as e:
            return "write %d: %s" % (i, err_name(e)), taken
        taken += n
    for what, call in (("fsync", os.fsync), ("close", os.close)):
        try:
            call(fd)
        except OSError as e:
            if what == "fsync":
                try:
                    os.close(fd)
                except OSError:
                    pass
            return "%s: %s" % (what, err_name(e)), taken
    return "ok", taken


def fill(path, total, block):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    buf = os.urandom(block)
    outcome, taken = write_all(fd, (buf for _ in range(total // block)))
    print(outcome)
    print("taken %d" % taken)


def copy(src, dst, block):
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    with open(src, "rb") as f:
        outcome, _ = write_all(fd, iter(lambda: f.read(block), b""))
    print(outcome)


def scatter(path, check, seed):
    rnd = random.Random(seed)
    model = bytearray()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    pos = 0
    for _ in range(3000):
        r = rnd.random()
        if r < 0.6:
            off = pos		# a sequential run: gathered
        elif r < 0.85:
            off = rnd.randrange(0, max(1, len(model)))	# an overwrite
        else:
            off = len(model) + rnd.randrange(0, 300000)	# past the end: a hole
        data = rnd.randbytes(rnd.choice((1, 100, 4096, 5000, 65536, 300000)))
        os.pwrite(fd, data, off)
        if len(model) < off + len(data):
            model.extend(bytes(off + len(data) - len(model)))
        model[off:off + len(data)] = data
        pos = off + len(data)
    os.close(fd)
    with open(check, "rb") as f:
        got = f.read()
    if got == bytes(model):
        print("match")
        return
    n = next((i for i in range(min(len(got), len(model))) if got[i] != model[i]),
             min(len(got), len(model)))
    print("mismatch at %d (server %d bytes, model %d)" % (n, len(got), len(model)))


def main(a):
    if len(a) == 4 and a[0] == "hold":
        return hold(a[1], int(a[2]), a[3])
    if len(a) == 4 and a[0] == "fill":
        return fill(a[1], int(a[2]), int(a[3]))
    if len(a) == 4 and a[0] == "copy":
        return copy(a[1], a[2], int(a[3]))
    if len(a) == 5 and a[0] == "new":
        return new(a[1], int(a[2]), a[3], a[4])
    if len(a) == 4 and a[0] == "scatter":
        return scatter(a[1], a[2], int(a[3]))
    sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
