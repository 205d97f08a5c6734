#!/usr/bin/env python3
"""Timed workloads on a directory, for bench/run.  Prints one number:
seconds, MB/s or IOPS, as the workload says.

    ops.py seqread FILE BLOCK            -> MB/s
    ops.py seqwrite FILE BLOCK MB        -> MB/s, fsync and close included
    ops.py randread FILE COUNT           -> IOPS, one 4 KiB read at a time
    ops.py randread_direct FILE COUNT QD -> IOPS, O_DIRECT, QD threads in flight
    ops.py create DIR N [PREFIX]         -> seconds (names PREFIX00000.., f by default)
    ops.py lstat DIR N                   -> seconds
    ops.py delete DIR N                  -> seconds
    ops.py lsl DIR                       -> seconds for "ls -l DIR"
    ops.py copyin SRC DST                -> seconds to copy a tree of files in
"""
import mmap
import os
import random
import shutil
import sys
import threading
import time


def seqread(path, block):
    fd = os.open(path, os.O_RDONLY)
    total = 0
    t = time.perf_counter()
    while True:
        b = os.read(fd, block)
        if not b:
            break
        total += len(b)
    dt = time.perf_counter() - t
    os.close(fd)
    return total / dt / 1e6


def seqwrite(path, block, mb):
    buf = os.urandom(block)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    n = mb * (1 << 20) // block
    t = time.perf_counter()
    for _ in range(n):
        os.write(fd, buf)
    os.fsync(fd)	# the bytes are at the server, not merely handed over
    os.close(fd)
    dt = time.perf_counter() - t
    return n * block / dt / 1e6


def randread(path, count):
    fd = os.open(path, os.O_RDONLY)
    blocks = os.fstat(fd).st_size // 4096
    rnd = random.Random(1)
    offs = [rnd.randrange(blocks) * 4096 for _ in range(count)]
    t = time.perf_counter()
    for o in offs:
        os.pread(fd, 4096, o)
    dt = time.perf_counter() - t
    os.close(fd)
    return count / dt


def randread_direct(path, count, qd):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
    blocks = os.fstat(fd).st_size // 4096
    per = count // qd

    def worker(seed):
        buf = mmap.mmap(-1, 4096)  # page-aligned, as O_DIRECT wants
        rnd = random.Random(seed)
        for _ in range(per):
            os.preadv(fd, [buf], rnd.randrange(blocks) * 4096)

    ths = [threading.Thread(target=worker, args=(i,)) for i in range(qd)]
    t = time.perf_counter()
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    dt = time.perf_counter() - t
    os.close(fd)
    return per * qd / dt


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def create(d, n, prefix="f"):
    def run():
        for i in range(n):
            os.close(os.open(os.path.join(d, "%s%05d" % (prefix, i)), os.O_CREAT | os.O_WRONLY, 0o644))
    return timed(run)


def lstat(d, n):
    return timed(lambda: [os.lstat(os.path.join(d, "f%05d" % i)) for i in range(n)])


def delete(d, n):
    return timed(lambda: [os.unlink(os.path.join(d, "f%05d" % i)) for i in range(n)])


def lsl(d):
    # The real thing: GNU ls -l, with its per-file xattr questions.
    import subprocess
    return timed(lambda: subprocess.run(["ls", "-l", d], stdout=subprocess.DEVNULL, check=True))


def copyin(src, dst):
    return timed(lambda: shutil.copytree(src, dst))


if __name__ == "__main__":
    op, a = sys.argv[1], sys.argv[2:]
    fns = {
        "seqread": lambda: seqread(a[0], int(a[1])),
        "seqwrite": lambda: seqwrite(a[0], int(a[1]), int(a[2])),
        "randread": lambda: randread(a[0], int(a[1])),
        "randread_direct": lambda: randread_direct(a[0], int(a[1]), int(a[2])),
        "create": lambda: create(a[0], int(a[1]), *a[2:3]),
        "lstat": lambda: lstat(a[0], int(a[1])),
        "delete": lambda: delete(a[0], int(a[1])),
        "lsl": lambda: lsl(a[0]),
        "copyin": lambda: copyin(a[0], a[1]),
    }
    print("%.3f" % fns[op]())
