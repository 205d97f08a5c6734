#!/usr/bin/env python3
"""Every file operation through a real smbfuse mount, checked with real
syscalls and, where it says something, against the share's directory on
the server side.

    fs_ops.py MOUNTPOINT SERVER_DIR [--quick]

MOUNTPOINT is the smbfuse mount of the share whose files live in
SERVER_DIR (the rig's share directory, readable by root).  Prints
"ok - NAME" or "FAIL - NAME: why" per check and exits 1 if any failed.
"""
import ctypes
import errno
import hashlib
import multiprocessing
import os
import stat
import sys
import time

MNT, SRV = sys.argv[1], sys.argv[2]
QUICK = "--quick" in sys.argv
failures = 0
libc = ctypes.CDLL(None, use_errno=True)


def check(name, fn):
    global failures
    try:
        fn()
        print("ok - " + name, flush=True)
    except Exception as e:  # a failed check is reported, the rest go on
        failures += 1
        print("FAIL - %s: %r" % (name, e), flush=True)


def expect_errno(code, fn, *args):
    try:
        fn(*args)
    except OSError as e:
        if e.errno != code:
            raise AssertionError("wanted %s, got %s" % (errno.errorcode[code], errno.errorcode.get(e.errno)))
        return
    raise AssertionError("wanted %s, call succeeded" % errno.errorcode[code])


def m(*p):
    return os.path.join(MNT, *p)


def s(*p):
    return os.path.join(SRV, *p)


def data(n, seed=0):
    out = bytearray()
    block = hashlib.sha256(str(seed).encode()).digest()
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:n])


def write_file(path, content):
    with open(path, "wb") as f:
        f.write(content)


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def eq(a, b, what=""):
    if a != b:
        ra, rb = repr(a), repr(b)
        raise AssertionError("%s: %s != %s" % (what, ra[:80], rb[:80]))


# --- files and data -----------------------------------------------------------

def t_sizes():
    for n in [0, 1, 4095, 4096, 65536, 65537, 1 << 20, (1 << 20) + 1, 8 << 20]:
        d = data(n, n)
        write_file(m("size-%d" % n), d)
        eq(os.stat(m("size-%d" % n)).st_size, n, "size via mount")
        eq(read_file(m("size-%d" % n)), d, "read back %d" % n)
        eq(read_file(s("size-%d" % n)), d, "server copy %d" % n)
        os.unlink(m("size-%d" % n))


def t_open_flags():
    p = m("flags.txt")
    write_file(p, b"hello")
    expect_errno(errno.EEXIST, os.open, p, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    fd = os.open(p, os.O_WRONLY | os.O_APPEND)
    os.write(fd, b" world")
    os.close(fd)
    eq(read_file(p), b"hello world", "append")
    fd = os.open(p, os.O_WRONLY | os.O_TRUNC)
    os.close(fd)
    eq(os.stat(p).st_size, 0, "O_TRUNC")
    fd = os.open(p, os.O_RDWR)
    os.write(fd, b"abcdef")
    os.lseek(fd, 2, 0)
    eq(os.read(fd, 2), b"cd", "O_RDWR read after write")
    os.close(fd)
    expect_errno(errno.ENOENT, os.open, m("nope.txt"), os.O_RDONLY)
    expect_errno(errno.ENOENT, os.open, m("nodir", "x"), os.O_RDONLY)
    expect_errno(errno.ENOTDIR, os.open, m("flags.txt", "x"), os.O_RDONLY)
    os.unlink(p)


def t_offsets_beyond_4g():
    p = m("big-sparse")
    off = (5 << 30) + 12345
    with open(p, "wb") as f:
        f.seek(off)
        f.write(b"past four gigabytes")
    eq(os.stat(p).st_size, off + 19, "size past 4 GiB")
    with open(p, "rb") as f:
        f.seek(off)
        eq(f.read(), b"past four gigabytes", "read past 4 GiB")
        f.seek(1 << 32)
        eq(f.read(16), b"\0" * 16, "hole reads zeros")
    os.truncate(p, (1 << 32) + 1)
    eq(os.stat(p).st_size, (1 << 32) + 1, "truncate to 4 GiB + 1")
    os.unlink(p)


def t_truncate():
    p = m("trunc")
    write_file(p, b"0123456789")
    os.truncate(p, 4)
    eq(read_file(p), b"0123", "shrink by path")
    with open(p, "r+b") as f:
        os.ftruncate(f.fileno(), 8)
        eq(os.fstat(f.fileno()).st_size, 8, "grow by handle")
    eq(read_file(p), b"0123\0\0\0\0", "grown part is zeros")
    eq(read_file(s("trunc")), b"0123\0\0\0\0", "server agrees")
    os.unlink(p)


def t_close_to_open():
    d1, d2 = data(3 << 20, 1), data((3 << 20) + 12345, 2)  # a different size too
    write_file(m("cto"), d1)
    eq(read_file(m("cto")), d1, "first read (sequential: prefetched)")
    time.sleep(0.05)
    write_file(s("cto"), d2)  # changed on the server behind our back
    os.utime(s("cto"), ns=(10**18, 10**18))
    time.sleep(1.2)  # past actimeo
    eq(read_file(m("cto")), d2, "a new open sees the server's new data")
    os.unlink(m("cto"))


def t_eof_short_read():
    p = m("short")
    write_file(p, b"abc")
    fd = os.open(p, os.O_RDONLY)
    eq(os.pread(fd, 100, 1), b"bc", "short read at EOF")
    eq(os.pread(fd, 100, 3), b"", "read at EOF is empty, not an error")
    eq(os.pread(fd, 100, 1000), b"", "read past EOF is empty")
    os.close(fd)
    os.unlink(p)


# --- namespace ----------------------------------------------------------------

def t_dirs():
    os.mkdir(m("d1"))
    expect_errno(errno.EEXIST, os.mkdir, m("d1"))
    write_file(m("d1", "f"), b"x")
    expect_errno(errno.ENOTEMPTY, os.rmdir, m("d1"))
    expect_errno(errno.ENOTDIR, os.rmdir, m("d1", "f"))
    expect_errno(errno.EISDIR, os.unlink, m("d1"))
    expect_errno(errno.ENOENT, os.rmdir, m("nonexistent"))
    expect_errno(errno.ENOENT, os.mkdir, m("nonexistent", "sub"))
    os.unlink(m("d1", "f"))
    os.rmdir(m("d1"))
    assert not os.path.exists(s("d1")), "gone on the server"


def renameat2(a, b, flags):
    AT_FDCWD = -100
    r = libc.renameat2(AT_FDCWD, a.encode(), AT_FDCWD, b.encode(), flags)
    if r != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def t_rename():
    write_file(m("r1"), b"one")
    write_file(m("r2"), b"two")
    os.rename(m("r1"), m("r3"))
    eq(read_file(m("r3")), b"one", "renamed")
    assert not os.path.exists(m("r1"))
    os.rename(m("r3"), m("r2"))  # replaces
    eq(read_file(m("r2")), b"one", "rename over existing")
    write_file(m("r4"), b"four")
    expect_errno(errno.EEXIST, renameat2, m("r4"), m("r2"), 1)  # RENAME_NOREPLACE
    renameat2(m("r4"), m("r5"), 1)
    os.mkdir(m("rd1"))
    write_file(m("rd1", "inner"), b"in")
    os.rename(m("rd1"), m("rd2"))
    eq(read_file(m("rd2", "inner")), b"in", "directory renamed with contents")
    os.mkdir(m("rd3"))
    os.rename(m("rd2"), m("rd3"))  # over an empty directory
    eq(read_file(m("rd3", "inner")), b"in", "dir over empty dir")
    os.mkdir(m("rd4"))
    write_file(m("rd4", "x"), b"x")
    expect_errno(errno.ENOTEMPTY, os.rename, m("rd4"), m("rd3"))
    expect_errno(errno.EISDIR, os.rename, m("r2"), m("rd4"))
    expect_errno(errno.ENOENT, os.rename, m("missing"), m("x"))
    for p in ["r2", "r5", "rd3/inner", "rd4/x"]:
        os.unlink(m(p))
    os.rmdir(m("rd3"))
    os.rmdir(m("rd4"))


def t_unlink_open():
    p = m("open-unlinked")
    write_file(p, b"still here")
    f = open(p, "rb")
    os.unlink(p)
    assert not os.path.exists(p), "name gone at once"
    eq(f.read(), b"still here", "open file still readable")
    f.close()
    time.sleep(0.2)
    left = [n for n in os.listdir(MNT) if n.startswith(".fuse_hidden")]
    eq(left, [], "hidden file removed after the last close")


def t_readonly_unlink():
    p = m("ro-file")
    write_file(p, b"ro")
    os.chmod(p, 0o444)
    eq(stat.S_IMODE(os.stat(p).st_mode) & 0o222, 0, "write bits gone")
    expect_errno(errno.EACCES, os.open, p, os.O_WRONLY)
    os.chmod(p, 0o644)
    assert os.stat(p).st_mode & 0o200, "write bits back"
    os.chmod(p, 0o444)
    os.unlink(p)  # POSIX: the directory decides, not the file
    assert not os.path.exists(s("ro-file"))


def t_chown():
    p = m("own")
    write_file(p, b"")
    st = os.stat(p)
    os.chown(p, st.st_uid, st.st_gid)
    expect_errno(errno.EPERM, os.chown, p, st.st_uid + 4242, -1)
    os.unlink(p)


def t_times():
    p = m("times")
    write_file(p, b"t")
    ns = 1234567890 * 10**9 + 123456700  # a multiple of 100 ns is kept exactly
    os.utime(p, ns=(ns, ns + 10**9))
    st = os.stat(p)
    eq(st.st_mtime_ns, ns + 10**9, "mtime with 100 ns precision")
    eq(st.st_atime_ns, ns, "atime")
    eq(os.stat(s("times")).st_mtime_ns, ns + 10**9, "server mtime")
    os.utime(p, ns=(ns, ns))
    now = time.time()
    os.utime(p)  # UTIME_NOW
    assert abs(os.stat(p).st_mtime - now) < 5, "UTIME_NOW"
    # Times set by path while a handle that wrote is still open stick
    # when that handle closes (smbfuse sets them through it).
    fd = os.open(p, os.O_WRONLY)
    os.write(fd, b"more")
    os.utime(p, ns=(ns, ns + 10**9))
    os.close(fd)
    time.sleep(0.2)
    eq(os.stat(s("times")).st_mtime_ns, ns + 10**9, "server mtime after the writer closed")
    os.unlink(p)


def t_statfs():
    v = os.statvfs(MNT)
    assert v.f_blocks > 0 and v.f_bsize > 0 and v.f_bavail <= v.f_blocks, v
    srv = os.statvfs(SRV)
    assert abs(v.f_blocks * v.f_frsize - srv.f_blocks * srv.f_frsize) < (1 << 30), "size near the server's"


def t_fsync():
    with open(m("sync"), "wb") as f:
        f.write(b"durable")
        f.flush()
        os.fsync(f.fileno())
    os.unlink(m("sync"))


def t_hardlink():
    write_file(m("h1"), b"linked")
    os.link(m("h1"), m("h2"))  # Samba does hard links: no way out here
    eq(os.stat(m("h1")).st_ino, os.stat(m("h2")).st_ino, "same inode")
    eq(os.stat(m("h2")).st_nlink, 2, "two links")
    eq(read_file(m("h2")), b"linked", "content")
    os.unlink(m("h1"))
    os.unlink(m("h2"))


def t_symlink():
    try:
        os.symlink("target", m("sl"))
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.EOPNOTSUPP):
            raise AssertionError("symlink refused with %s, not EPERM/EOPNOTSUPP" % errno.errorcode[e.errno])
        assert not os.path.lexists(m("sl")), "no half-made link left behind"
        return
    eq(os.readlink(m("sl")), "target", "readlink")
    os.unlink(m("sl"))


def t_xattr():
    p = m("xa")
    write_file(p, b"")
    os.setxattr(p, "user.color", b"blue")  # the rig's share keeps EAs
    eq(os.getxattr(p, "user.color"), b"blue", "getxattr")
    assert "user.color" in os.listxattr(p), os.listxattr(p)
    os.setxattr(p, "user.color", b"green", os.XATTR_REPLACE)
    eq(os.getxattr(p, "user.color"), b"green", "replace")
    expect_errno(errno.EEXIST, os.setxattr, p, "user.color", b"red", os.XATTR_CREATE)
    expect_errno(errno.ENODATA, os.getxattr, p, "user.nothere")
    # Other namespaces: "not supported", which ls caches per file system.
    expect_errno(errno.EOPNOTSUPP, os.getxattr, p, "security.selinux")
    expect_errno(errno.EOPNOTSUPP, os.getxattr, p, "system.posix_acl_access")
    os.removexattr(p, "user.color")
    expect_errno(errno.ENODATA, os.getxattr, p, "user.color")
    expect_errno(errno.ENODATA, os.removexattr, p, "user.color")
    os.unlink(p)


def t_copy_file_range():
    d = data(3 << 20, 7)
    write_file(m("cfr-src"), d)
    with open(m("cfr-src"), "rb") as a, open(m("cfr-dst"), "wb") as b:
        left = len(d)
        while left:
            n = os.copy_file_range(a.fileno(), b.fileno(), left)
            assert n > 0
            left -= n
    eq(read_file(s("cfr-dst")), d, "server-side copy content")
    os.unlink(m("cfr-src"))
    os.unlink(m("cfr-dst"))


def t_fallocate():
    with open(m("falloc"), "wb") as f:
        os.posix_fallocate(f.fileno(), 0, 1 << 20)
        eq(os.fstat(f.fileno()).st_size, 1 << 20, "posix_fallocate extends")
    os.unlink(m("falloc"))


def t_names():
    for name in ["with space", "ünïcödé-名前-😀", "a" * 200, "trailing.dot."[:-1]]:
        write_file(m(name), name.encode())
        eq(read_file(m(name)), name.encode(), name)
        assert name in os.listdir(MNT), name
        assert os.path.exists(s(name)), "server has " + name
        os.unlink(m(name))
    for bad in ["a:b", "a*b", "a?b", 'a"b', "a<b", "a>b", "a|b", "a\\b"]:
        expect_errno(errno.EINVAL, os.open, m(bad), os.O_CREAT | os.O_WRONLY)


def t_deep():
    parts = ["level%02d" % i for i in range(30)]
    os.makedirs(m(*parts))
    write_file(m(*parts, "leaf"), b"deep")
    eq(read_file(s(*parts, "leaf")), b"deep", "deep path")
    os.unlink(m(*parts, "leaf"))
    for i in range(len(parts), 0, -1):
        os.rmdir(m(*parts[:i]))


def t_big_dir():
    n = 1000 if QUICK else 10000
    # Made through the mount, filled on the server (fast): the mount
    # knows the new directory as empty, and its listing must replace
    # that with what the server holds.
    os.mkdir(m("bigdir"))
    for i in range(n):
        open(s("bigdir", "f%05d" % i), "w").close()
    os.system("chown -R --reference=%s %s" % (SRV, s("bigdir")))
    names = os.listdir(m("bigdir"))
    eq(len(names), n, "entry count")
    eq(sorted(names), ["f%05d" % i for i in range(n)], "names")
    st = [os.lstat(m("bigdir", x)) for x in names[:100]]
    assert all(stat.S_ISREG(x.st_mode) for x in st)
    for x in names:
        os.unlink(m("bigdir", x))
    os.rmdir(m("bigdir"))


def t_listing_attrs():
    os.mkdir(m("la"))
    write_file(m("la", "file"), b"12345")
    os.mkdir(m("la", "sub"))
    with os.scandir(m("la")) as it:
        ents = {e.name: e.stat(follow_symlinks=False) for e in it}
    eq(ents["file"].st_size, 5, "size from the listing")
    assert stat.S_ISDIR(ents["sub"].st_mode)
    eq(ents["file"].st_ino, os.stat(s("la", "file")).st_ino, "inode is the server's")
    os.unlink(m("la", "file"))
    os.rmdir(m("la", "sub"))
    os.rmdir(m("la"))


def _worker(args):
    idx, path, region = args
    d = data(region, idx)
    if path.endswith("shared"):
        fd = os.open(path, os.O_WRONLY)
        os.pwrite(fd, d, idx * region)
        os.close(fd)
        return True
    for _ in range(3):
        write_file(path, d)
        if read_file(path) != d:
            return False
    return True


def t_concurrency():
    region = 256 * 1024
    shared = m("shared")
    with open(shared, "wb") as f:
        f.truncate(8 * region)
    jobs = [(i, shared, region) for i in range(8)] + [(100 + i, m("own%d" % i), region) for i in range(6)]
    with multiprocessing.Pool(8) as pool:
        assert all(pool.map(_worker, jobs)), "a worker saw its data differ"
    got = read_file(shared)
    for i in range(8):
        eq(got[i * region:(i + 1) * region], data(region, i), "region %d" % i)
    os.unlink(shared)
    for i in range(6):
        os.unlink(m("own%d" % i))


TESTS = [
    ("file sizes 0 .. 8 MiB round trip", t_sizes),
    ("open flags: O_EXCL, O_APPEND, O_TRUNC, O_RDWR, ENOENT, ENOTDIR", t_open_flags),
    ("offsets beyond 4 GiB", t_offsets_beyond_4g),
    ("truncate and ftruncate", t_truncate),
    ("short reads at end of file", t_eof_short_read),
    ("close-to-open: a new open sees changes made on the server", t_close_to_open),
    ("mkdir/rmdir and their errors", t_dirs),
    ("rename: files, replace, NOREPLACE, directories", t_rename),
    ("unlink of an open file", t_unlink_open),
    ("chmod maps to READONLY; unlink of a read-only file", t_readonly_unlink),
    ("chown: same owner ok, another EPERM", t_chown),
    ("utimens with 100 ns precision, UTIME_NOW", t_times),
    ("statfs", t_statfs),
    ("fsync", t_fsync),
    ("hard links", t_hardlink),
    ("symlinks (or a clear EPERM)", t_symlink),
    ("extended attributes", t_xattr),
    ("copy_file_range (server-side copy)", t_copy_file_range),
    ("fallocate", t_fallocate),
    ("names: spaces, unicode, long; invalid characters EINVAL", t_names),
    ("deep paths", t_deep),
    ("listing attributes (readdirplus)", t_listing_attrs),
    ("large directory", t_big_dir),
    ("concurrent processes, shared and separate files", t_concurrency),
]

if __name__ == "__main__":
    only = os.environ.get("FS_ONLY")
    for name, fn in TESTS:
        if only and only not in name:
            continue
        check(name, fn)
    sys.exit(1 if failures else 0)
