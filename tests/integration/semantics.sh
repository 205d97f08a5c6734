#!/usr/bin/env bash
# POSIX semantics that ordinary programs rely on, each once broken:
# names reused while the old file is still open (unlink and recreate,
# log rotation, rename over an open file), hard links (rename onto
# another link of the same file, a copy past the end of the file), names
# at and past the limits, cache=loose, and the mount errors a user
# meets.  Every check runs on a real mount of a real Samba share; each
# states what a local file system (ext4, tmpfs) does.
. "$(dirname "$0")/lib.sh"
need_root "starts smbd and mounts"
need_cmd smbd python3 fusermount3
[ -e /dev/fuse ] || skip "needs /dev/fuse"

work=$(mktemp -d)
at_exit "rm -rf '$work'"
mnt=$work/mnt

rig_start default
check "mount" mount_rig "$mnt"
first_pid=$MOUNT_PID
d=$mnt
sd=$RIG_SHARE_DIR

# mount_fg_log MNT OPTIONS: mount with the daemon's log in $work/daemon.log.
mount_fg_log() { mount_logged "$1" "$2" "$work/daemon.log"; }

# --- a name reused while the old file is open --------------------------------
# The old file stays readable through its descriptor, the new one is a
# file of its own (the lease key names the file, not the path).
reuse_after_unlink() {
	echo old >"$d/f1" && exec 3<"$d/f1" && rm "$d/f1" && echo new >"$d/f1" &&
		[ "$(cat "$d/f1")" = new ] && [ "$(cat <&3)" = old ]
	local rc=$?
	exec 3<&-
	return $rc
}
check "unlink an open file, create the name again" reuse_after_unlink

log_rotation() {
	echo first >"$d/log" && exec 4>>"$d/log" && mv "$d/log" "$d/log.1" &&
		echo new >"$d/log" && echo second >&4 &&
		[ "$(cat "$d/log")" = new ] && [ "$(cat "$d/log.1")" = "$(printf 'first\nsecond')" ]
	local rc=$?
	exec 4>&-
	return $rc
}
check "log rotation: rename an open log, create it anew, write to both" log_rotation

rename_over_open() {
	echo one >"$d/x1" && echo two >"$d/x2" && exec 5<"$d/x2" && mv "$d/x1" "$d/x2" &&
		[ "$(cat "$d/x2")" = one ] && [ "$(cat <&5)" = two ]
	local rc=$?
	exec 5<&-
	return $rc
}
check "rename over an open file" rename_over_open

# --- hard links -------------------------------------------------------------------
rename_onto_own_link() {
	touch "$d/s1" && ln "$d/s1" "$d/s2" &&
		python3 -c 'import os, sys; os.rename(sys.argv[1], sys.argv[2])' "$d/s1" "$d/s2" &&
		[ -e "$sd/s1" ] && [ -e "$sd/s2" ]
}
check "rename onto another link of the same file: success, nothing happens" rename_onto_own_link

# Appends through either name of one file land after each other (the
# kernel caches each name's size on its own; O_APPEND asks the server).
links_append() {
	printf AAAA >"$d/ha" && ln "$d/ha" "$d/hb" && printf BBBB >>"$d/ha" && printf CCCC >>"$d/hb" &&
		[ "$(cat "$d/ha")" = AAAABBBBCCCC ] && [ "$(cat "$sd/ha")" = AAAABBBBCCCC ]
}
check "appends through two names of one file: AAAABBBBCCCC, as ext4" links_append

# A copy whose source range lies past its end (truncated through the
# other name): a short copy, here of 0 bytes, not EIO.
check "copy_file_range past the end of the file copies what there is" python3 -c '
import os, sys
d = sys.argv[1]
open(d + "/c1", "wb").write(os.urandom(100000))
os.link(d + "/c1", d + "/c2")
os.stat(d + "/c2")
os.truncate(d + "/c1", 1000)
s = os.open(d + "/c2", os.O_RDONLY)
t = os.open(d + "/cd", os.O_WRONLY | os.O_CREAT, 0o644)
sys.exit(0 if os.copy_file_range(s, t, 20000, 50000, 0) == 0 else 1)' "$d"

# The link count of the old name after ln, on a mount that caches
# attributes for 30 s: the kernel is told at once that it changed.
check "a mount with actimeo=30" mount_rig "$work/mnt3" actimeo=30
nlink_after_ln() {
	local i
	touch "$work/mnt3/n1" && stat "$work/mnt3/n1" >/dev/null && ln "$work/mnt3/n1" "$work/mnt3/n2" || return 1
	for i in $(seq 1 50); do
		[ "$(stat -c %h "$work/mnt3/n1")" = 2 ] && return 0
		sleep 0.2
	done
	echo "  nlink of the old name: $(stat -c %h "$work/mnt3/n1")"
	return 1
}
check "ln: the old name's link count is 2 right away, not after actimeo" nlink_after_ln
check "the actimeo=30 mount unmounts" umount_rig "$work/mnt3" "$MOUNT_PID"

# --- appends from two clients ---------------------------------------------------
# Two mounts of one share stand in for two machines: 8 processes, half
# through each, append lines with O_APPEND; every line must be there,
# whole (ext4 on one machine: the same).
check "a second mount of the share" mount_rig "$work/mnt2"
appenders() {
	python3 - "$d/appended" "$work/mnt2/appended" <<'PY'
import os, sys
paths = sys.argv[1:]
pids = []
for w in range(8):
    pid = os.fork()
    if pid == 0:
        fd = os.open(paths[w % 2], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        for i in range(150):
            os.write(fd, b"writer %d line %03d\n" % (w, i))
        os.close(fd)
        os._exit(0)
    pids.append(pid)
for pid in pids:
    os.waitpid(pid, 0)
PY
	python3 - "$sd/appended" <<'PY'
import sys
lines = open(sys.argv[1], "rb").read().split(b"\n")[:-1]
want = {b"writer %d line %03d" % (w, i) for w in range(8) for i in range(150)}
got = set(lines)
print("# %d lines appended, %d of %d expected present" % (len(lines), len(got & want), len(want)))
sys.exit(0 if len(lines) == len(want) and got == want else 1)
PY
}
check "O_APPEND from two clients at once: no line lost or torn" appenders
check "the second mount unmounts" umount_rig "$work/mnt2" "$MOUNT_PID"

# --- names at the limits -------------------------------------------------------
name255=$(printf 'n%.0s' $(seq 1 255))
check "a 255-byte name works" bash -c "echo x >'$d/$name255' && [ -e '$sd/$name255' ]"
errno_of() {
	python3 -c '
import errno, os, sys
try:
    exec(sys.argv[1])
except OSError as e:
    print(errno.errorcode[e.errno])
else:
    print("OK")' "$1"
}
check "a 256-byte name: ENAMETOOLONG (as ext4)" \
	test "$(errno_of "open('$d/${name255}n', 'w')")" = ENAMETOOLONG
# A path the server finds too long (Samba stops near 4 KiB) is refused
# as too long too, not as an I/O error.
# Relative names from inside, so that the kernel's own PATH_MAX is never
# what stops it: only the server's limit does.
deep_path() {
	python3 -c '
import errno, os, sys
os.chdir(sys.argv[1])
depth = 0
try:
    while depth < 100:
        os.mkdir("d" * 100)
        os.chdir("d" * 100)
        depth += 1
except OSError as e:
    print(errno.errorcode[e.errno], "at", depth * 101, "bytes")
else:
    print("no limit met")' "$d/deep"
}
mkdir "$d/deep"
out=$(deep_path)
echo "# the deepest path failed with: $out"
check "a path too long for the server: ENAMETOOLONG" grep -q '^ENAMETOOLONG' <<<"$out"

# --- mount errors ------------------------------------------------------------------
out=$("$SMBFUSE" "//$RIG_ADDR/$RIG_SHARE" "$mnt" -o "port=$RIG_PORT,credentials=$RIG_CREDENTIALS" 2>&1) &&
	rc=0 || rc=$?
# (Should it have mounted, take that one off again, leaving the first.)
[ "$rc" != 0 ] || fusermount3 -u "$mnt"
check "a second mount on the same mount point is refused as already mounted" \
	bash -c "[ $rc != 0 ] && grep -q 'already mounted' <<<'$out'"
check "... and the first one still works" test -e "$sd/$name255"
check "unmount leaves no process" umount_rig "$mnt" "$first_pid"
rig_stop

# Symbolic links where the server refuses reparse points (Samba 4.17):
# without mfsymlinks, EPERM and a log line naming the option; with it,
# Minshall+French symlink files, byte for byte as the kernel client and
# macOS write them, and a tar of a tree with links unpacks whole.
rig_start default
if check "symlinks: mount without mfsymlinks (foreground, logged)" mount_fg_log "$mnt" ""; then
	out=$(ln -s target "$mnt/nolink" 2>&1) && rc=0 || rc=$?
	check "symlinks: refused with EPERM without mfsymlinks" \
		bash -c "[ $rc != 0 ] && grep -q 'Operation not permitted' <<<'$out'"
	check "symlinks: the log names -o mfsymlinks" grep -q "mount with -o mfsymlinks" "$work/daemon.log"
	check "symlinks: no half-made file left" test ! -e "$RIG_SHARE_DIR/nolink"
	check "symlinks: unmount" umount_rig "$mnt" "$MOUNT_PID"
fi
if check "mfsymlinks: mount" mount_rig "$mnt" mfsymlinks; then
	ln -s ../include/stdio.h "$mnt/l1"
	check "mfsymlinks: readlink gives the target" test "$(readlink "$mnt/l1")" = ../include/stdio.h
	check "mfsymlinks: lstat shows a link of the target's length" test "$(stat -c '%F %s' "$mnt/l1")" = "symbolic link 18"
	check "mfsymlinks: the server holds the Minshall+French file, byte for byte" python3 -c '
import hashlib, sys
t = b"../include/stdio.h"
want = b"XSym\n%04d\n%s\n%s\n" % (len(t), hashlib.md5(t).hexdigest().encode(), t)
want += b" " * (1067 - len(want))
sys.exit(0 if open(sys.argv[1], "rb").read() == want else 1)' "$RIG_SHARE_DIR/l1"
	head -c 1067 /dev/urandom >"$RIG_SHARE_DIR/plain1067"
	chown "$RIG_USER" "$RIG_SHARE_DIR/plain1067"
	check "mfsymlinks: an ordinary file of 1067 bytes stays a file" \
		test "$(stat -c '%F %s' "$mnt/plain1067")" = "regular file 1067"
	# A tree with every kind of link: relative, absolute, dangling, to a
	# directory, in a subdirectory; packed and unpacked through the mount.
	mkdir -p "$work/tree/a/b"
	echo data >"$work/tree/a/b/file"
	ln -s b/file "$work/tree/a/rel"
	ln -s /etc/hostname "$work/tree/abs"
	ln -s nowhere "$work/tree/a/dangling"
	ln -s a/b "$work/tree/dirlink"
	ln -s ../../abs "$work/tree/a/b/up"
	(cd "$work/tree" && tar cf "$work/tree.tar" .)
	mkdir "$mnt/unpacked"
	check "mfsymlinks: tar xf of a tree with links succeeds" tar xf "$work/tree.tar" -C "$mnt/unpacked"
	listing() { (cd "$1" && find . -printf '%y %p %l\n' | sort); }
	check "mfsymlinks: every link comes back as it was" \
		bash -c "diff <($(declare -f listing); listing '$work/tree') <($(declare -f listing); listing '$mnt/unpacked')"
	check "mfsymlinks: a link to a file reads through" test "$(cat "$mnt/unpacked/a/rel")" = data
	check "mfsymlinks: unmount" umount_rig "$mnt" "$MOUNT_PID"
fi
rig_stop

# cache=none is FUSE direct I/O: the man page says shared mappings fail
# with ENODEV there and private ones work; hold it to that.
rig_start default
if check "cache=none: mount" mount_rig "$mnt" cache=none; then
	head -c 8192 /dev/zero >"$mnt/m"
	check "cache=none: MAP_SHARED fails with ENODEV, MAP_PRIVATE works (as documented)" python3 -c '
import errno, mmap, sys
f = open(sys.argv[1], "r+b")
try:
    mmap.mmap(f.fileno(), 8192, flags=mmap.MAP_SHARED)
    sys.exit(1)
except OSError as e:
    if e.errno != errno.ENODEV:
        sys.exit(1)
m = mmap.mmap(f.fileno(), 8192, flags=mmap.MAP_PRIVATE)
m[0:5] = b"hello"' "$mnt/m"
	check "cache=none: unmount leaves no process" umount_rig "$mnt" "$MOUNT_PID"
fi
rig_stop

# cache=loose keeps pages across opens; everything above holds there
# too (it used the kernel's writeback cache once, which broke appends
# through two names and two mounts), and removing a file just written
# leaves nothing for a later syncfs to fail on (ext4: sync -f says 0).
rig_start default
sd=$RIG_SHARE_DIR
if check "cache=loose: mount" mount_rig "$mnt" cache=loose; then
	loose_pid=$MOUNT_PID
	d=$mnt
	check "cache=loose: unlink an open file, create the name again" reuse_after_unlink
	check "cache=loose: log rotation" log_rotation
	check "cache=loose: appends through two names of one file: AAAABBBBCCCC" links_append
	check "cache=loose: rm of a file just written, then sync -f: no error" \
		bash -c "head -c 10000 /dev/zero >'$d/x' && rm '$d/x' && sync -f '$d'"
	check "cache=loose: a second mount" mount_rig "$work/mnt2" cache=loose
	check "cache=loose: O_APPEND from two clients at once: no line lost or torn" appenders
	check "cache=loose: the second mount unmounts" umount_rig "$work/mnt2" "$MOUNT_PID"
	check "cache=loose: unmount leaves no process" umount_rig "$mnt" "$loose_pid"
fi
rig_stop

rig_start smb202
out=$("$SMBFUSE" --probe "//$RIG_ADDR/$RIG_SHARE" -o "port=$RIG_PORT,credentials=$RIG_CREDENTIALS" 2>&1) &&
	rc=0 || rc=$?
said() { [ "$rc" != 0 ] && grep -q -- "$1" <<<"$out" || { echo "  got rc=$rc: $out"; return 1; }; }
check "a server of SMB 2.0.2 only: the error says vers=2.0 allows it" said 'vers=2.0' 
rig_stop
done_testing
