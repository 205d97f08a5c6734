#!/usr/bin/env python3
"""Byte-range and flock locks from a test's point of view: one process,
one lock operation, the outcome on stdout.

  locktool.py try PATH r|w START LEN        F_SETLK: "ok" or "busy"
  locktool.py hold PATH r|w START LEN READY  F_SETLKW, then create READY
                                             and keep the lock until a file
                                             READY.stop appears; "released"
                                             at the end.  A file READY.go
                                             saying "read" or "write" makes
                                             it do that through the locked
                                             descriptor (a write puts "W"
                                             at START): "read ok",
                                             "read EIO"...
  locktool.py wait PATH r|w START LEN SECS   F_SETLKW, a SIGALRM after SECS:
                                             "got" or "interrupted"
  locktool.py getlk PATH r|w START LEN       "unlocked" or "TYPE START LEN PID"
  locktool.py flock PATH sh|ex|nb-ex         flock(2): "ok" or "busy"
  locktool.py fork-share PATH                a parent's write lock, tried by
                                             its child through the same
                                             descriptor: "busy" (POSIX: the
                                             child is another owner)
  locktool.py close-releases PATH READY      lock through one descriptor,
                                             close another of the same file,
                                             create READY, wait for
                                             READY.stop
  locktool.py sqlite DB WORKER TXNS          TXNS write transactions, each
                                             inserting one row named WORKER-i
  locktool.py upgrade PATH                   shared, then exclusive, then
                                             shared again, then unlock, on
                                             one descriptor: "ok"

LEN 0 means "to the end of file", as for fcntl.  START and LEN are bytes.
"""
import fcntl
import os
import signal
import sqlite3
import struct
import sys
import time

# struct flock on Linux: l_type, l_whence, l_start, l_len, l_pid.
FLOCK = "hhqqi4x"


class Alarm(Exception):
    pass


def on_alarm(signum, frame):
    raise Alarm()


def wait_for_stop(ready, on_go=None):
    """Poll for READY.stop (and READY.go): files, not a pipe, so that no
    other process the test starts can hold the holder open."""
    while not os.path.exists(ready + ".stop"):
        if on_go and os.path.exists(ready + ".go"):
            what = open(ready + ".go").read().strip()
            os.unlink(ready + ".go")
            on_go(what)
        time.sleep(0.05)


def lk(fd, cmd, kind, start, length):
    typ = {"r": fcntl.F_RDLCK, "w": fcntl.F_WRLCK, "u": fcntl.F_UNLCK}[kind]
    arg = struct.pack(FLOCK, typ, os.SEEK_SET, start, length, 0)
    return struct.unpack(FLOCK, fcntl.fcntl(fd, cmd, arg))


def open_for(path, kind):
    return os.open(path, os.O_RDONLY if kind == "r" else os.O_RDWR)


def cmd_try(path, kind, start, length):
    fd = open_for(path, kind)
    try:
        lk(fd, fcntl.F_SETLK, kind, int(start), int(length))
        print("ok")
    except OSError as e:
        if e.errno not in (11, 13):
            raise
        print("busy")


def cmd_hold(path, kind, start, length, ready):
    fd = open_for(path, kind)
    lk(fd, fcntl.F_SETLKW, kind, int(start), int(length))
    open(ready, "w").close()

    def io(what):
        try:
            if what == "read":
                os.pread(fd, 1, int(start))
            elif what == "write":
                os.pwrite(fd, b"W", int(start))
            print(what + " ok")
        except OSError as e:
            print("%s %s" % (what, "EIO" if e.errno == 5 else e.strerror))
    wait_for_stop(ready, io)
    lk(fd, fcntl.F_SETLK, "u", int(start), int(length))
    print("released")


def cmd_wait(path, kind, start, length, secs):
    fd = open_for(path, kind)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(int(secs))
    try:
        lk(fd, fcntl.F_SETLKW, kind, int(start), int(length))
        signal.alarm(0)
        print("got")
    except Alarm:
        print("interrupted")


def cmd_getlk(path, kind, start, length):
    fd = open_for(path, kind)
    typ, _, s, n, pid = lk(fd, fcntl.F_GETLK, kind, int(start), int(length))
    if typ == fcntl.F_UNLCK:
        print("unlocked")
    else:
        print("%s %d %d %d" % ("w" if typ == fcntl.F_WRLCK else "r", s, n, pid))


def cmd_flock(path, mode):
    fd = os.open(path, os.O_RDONLY)
    op = {"sh": fcntl.LOCK_SH, "ex": fcntl.LOCK_EX, "nb-ex": fcntl.LOCK_EX | fcntl.LOCK_NB}[mode]
    try:
        fcntl.flock(fd, op)
        print("ok")
    except BlockingIOError:
        print("busy")


def cmd_fork_share(path):
    fd = os.open(path, os.O_RDWR)
    lk(fd, fcntl.F_SETLK, "w", 0, 100)
    pid = os.fork()
    if pid == 0:
        try:
            lk(fd, fcntl.F_SETLK, "w", 0, 100)
            os.write(1, b"ok\n")
        except OSError:
            os.write(1, b"busy\n")
        os._exit(0)
    os.waitpid(pid, 0)


def cmd_close_releases(path, ready):
    fd = os.open(path, os.O_RDWR)
    lk(fd, fcntl.F_SETLK, "w", 0, 0)
    other = os.open(path, os.O_RDONLY)
    os.close(other)          # POSIX: this drops the process's locks on the file
    open(ready, "w").close()
    wait_for_stop(ready)
    os.close(fd)


def cmd_upgrade(path):
    fd = os.open(path, os.O_RDWR)
    lk(fd, fcntl.F_SETLK, "r", 0, 10)
    lk(fd, fcntl.F_SETLK, "w", 0, 10)
    lk(fd, fcntl.F_SETLK, "r", 0, 10)
    lk(fd, fcntl.F_SETLK, "w", 5, 10)    # part of it exclusive, and beyond
    lk(fd, fcntl.F_SETLK, "u", 3, 4)     # a hole in the middle
    lk(fd, fcntl.F_SETLK, "u", 0, 0)
    print("ok")


def cmd_sqlite(db, worker, txns):
    con = sqlite3.connect(db, timeout=60, isolation_level=None)
    con.execute("PRAGMA busy_timeout = 60000")
    done = 0
    while done < int(txns):
        try:
            con.execute("BEGIN IMMEDIATE")
            n = con.execute("SELECT COUNT(*) FROM t").fetchone()[0]
            con.execute("INSERT INTO t(name, seen) VALUES (?, ?)", ("%s-%d" % (worker, done), n))
            con.execute("COMMIT")
            done += 1
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) and "busy" not in str(e):
                raise
            try:
                con.execute("ROLLBACK")
            except sqlite3.OperationalError:
                pass
            time.sleep(0.01)
    con.close()
    print("ok")


def main(argv):
    cmds = {
        "try": cmd_try, "hold": cmd_hold, "wait": cmd_wait, "getlk": cmd_getlk,
        "flock": cmd_flock, "fork-share": cmd_fork_share,
        "close-releases": cmd_close_releases, "sqlite": cmd_sqlite, "upgrade": cmd_upgrade,
    }
    if len(argv) < 2 or argv[0] not in cmds:
        sys.exit(__doc__)
    sys.stdout.reconfigure(line_buffering=True)
    cmds[argv[0]](*argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
