#!/usr/bin/env bash
# The name cache and listings: a lookup of a name the mount knows is not there (in a
# directory it created or listed in full, for actimeo) is answered
# without asking the server, and nothing that is there is ever hidden
# for longer than that: the mount's own creates, renames and removals,
# another client's new names (within actimeo), names that differ only in
# case on a case-insensitive server; a directory read twice at once is
# listed once.  Mount A goes through a proxy that
# records every frame, so "no round trip" is checked on the wire.
. "$(dirname "$0")/lib.sh"
need_root "starts smbd and mounts"
need_cmd smbd python3 fusermount3
[ -e /dev/fuse ] || skip "needs /dev/fuse"

work=$(mktemp -d)
at_exit "rm -rf '$work'"

rig_start default
mkdir -p "$work/dump"
proxy_start pass --dump "$work/dump"
real_port=$RIG_PORT
RIG_PORT=$PROXY_PORT
check "mount A (through the recording proxy)" mount_logged "$work/a" "" "$work/a.log"
a_pid=$MOUNT_PID
RIG_PORT=$real_port
check "mount B" mount_logged "$work/b" "" "$work/b.log"
A=$work/a B=$work/b

# sent NAME: how many frames from the client carry NAME (UTF-16LE, as
# in a CREATE's file name).
sent() {
	local pat n=0 f
	pat=$(printf '%s' "$1" | iconv -f utf-8 -t utf-16le | od -An -tx1 | tr -d ' \n')
	for f in "$work"/dump/*-c.bin; do
		od -An -tx1 -v "$f" | tr -d ' \n' | grep -q "$pat" && n=$((n + 1))
	done
	echo "$n"
}
absent() { ! stat "$1" >/dev/null 2>&1; }
exists() { stat "$1" >/dev/null; }

mkdir "$A/d"
check "A: a name in a directory A just made: ENOENT" absent "$A/d/nothere"
check "A: ... without asking the server" test "$(sent nothere)" = 0
check "A: a name it did not list, in a directory it did not make, is asked" absent "$A/elsewhere"
check "A: ... on the wire" test "$(sent elsewhere)" -gt 0

touch "$A/d/made"
check "A: its own create is seen at once" exists "$A/d/made"
mv "$A/d/made" "$A/d/moved"
check "A: its own rename: the new name is there" exists "$A/d/moved"
check "A: ... the old one is not" absent "$A/d/made"
rm "$A/d/moved"
check "A: its own removal" absent "$A/d/moved"
mkdir "$A/d/sub"
mv "$A/d/sub" "$A/d/sub2"
touch "$A/d/sub2/inner"
check "A: a file in a renamed directory it made" exists "$A/d/sub2/inner"

# Samba's default share is case-insensitive: "Foo" is "foo" there.
touch "$A/d/Foo"
check "A: a name differing only in case from one it made is asked, and found" exists "$A/d/foo"

# Another client's name shows up within actimeo (1 s by default).
ls "$A/d" >/dev/null			# a full listing: known
touch "$B/d/fromb"
found=no
for _ in $(seq 1 30); do stat "$A/d/fromb" >/dev/null 2>&1 && { found=yes; break; }; sleep 0.1; done
check "A: another client's new name is seen within actimeo" test "$found" = yes

# With actimeo=0 nothing is cached: at once.
check "A0: mount with actimeo=0" mount_logged "$work/a0" "actimeo=0" "$work/a0.log"
a0_pid=$MOUNT_PID
mkdir "$work/a0/z"
ls "$work/a0/z" >/dev/null
touch "$B/z/now"
check "A0: actimeo=0: another client's name at once" exists "$work/a0/z/now"
check "A0: unmount" umount_rig "$work/a0" "$a0_pid"

# ls -l: readdirplus hands the kernel every entry with its attributes,
# so the kernel looks none of them up again (libfuse 3.14 drops the
# entries when the listing is filled at offset 0: see src/fs/dirlist.h).
check "D: mount with the debug log" mount_logged "$work/dbg" "debug" "$work/dbg.log"
d_pid=$MOUNT_PID
mkdir "$work/dbg/many"
for i in $(seq 1 300); do : >"$RIG_SHARE_DIR/many/e$i"; done
n=$(ls -l "$work/dbg/many" | grep -c ' e[0-9]*$')
check "D: ls -l lists all 300" test "$n" = 300
looked=$(grep -ac "debug: getattr /many/e" "$work/dbg.log" || true)
check "D: ... and looks none of them up again (looked up: $looked)" test "$looked" = 0
check "D: unmount" umount_rig "$work/dbg" "$d_pid"

# A directory read again at once (rm -r reads each one twice) is given
# the listing just made, not another one from the server; every change
# the mount makes in between, a write's new size included, is in what
# it gives.  actimeo=30 so that nothing here runs out of time.
check "R: mount with actimeo=30 and the debug log" mount_logged "$work/r" "actimeo=30,debug" "$work/r.log"
r_pid=$MOUNT_PID
R=$work/r
replays() { grep -ac "debug: listing $1: the one made a moment ago" "$work/r.log" || true; }
mkdir "$R/r"
printf 12345 >"$R/r/f1"
: >"$R/r/f2"
ls "$R/r" >/dev/null
got=$(ls "$R/r" | tr '\n' ' ')
check "R: a second listing at once is the one just made" \
	test "$got" = "f1 f2 " -a "$(replays /r)" = 1
touch "$R/r/f3"
check "R: ... but not after the mount made a name there" test "$(ls "$R/r" | tr '\n' ' ')" = "f1 f2 f3 "
ls "$R/r" >/dev/null
head -c 100 /dev/zero >>"$R/r/f1"
check "R: a file appended to since is listed with its new size" \
	test "$(ls -l "$R/r" | awk '$NF == "f1" { print $5 }')" = 105
ls "$R/r" >/dev/null
python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
os.pwrite(fd, b"y" * 3000, 0)
os.system("ls -l " + os.path.dirname(sys.argv[1]) + " > " + sys.argv[2])
os.close(fd)' "$R/r/f3" "$work/r.ls"
check "R: ... and one written behind, still open, too" \
	test "$(awk '$NF == "f3" { print $5 }' "$work/r.ls")" = 3000
mv "$R/r/f2" "$R/r/g2"
check "R: a rename since is in the listing" test "$(ls "$R/r" | tr '\n' ' ')" = "f1 f3 g2 "
mkdir -p "$R/t/a/b" "$R/t/c"
for dd in t t/a t/a/b t/c; do : >"$R/$dd/x"; done
before=$(grep -ac "debug: listing /t.*: the one made a moment ago" "$work/r.log" || true)
rm -rf "$R/t"
after=$(grep -ac "debug: listing /t.*: the one made a moment ago" "$work/r.log" || true)
check "R: rm -rf of a tree removes it all" test ! -e "$RIG_SHARE_DIR/t"
check "R: ... reading each of its 4 directories from the server once ($((after - before)) replayed)" \
	test "$((after - before))" -ge 4
# A name another client removed while this mount still holds it (the
# kernel's entry and the mount's attributes, for actimeo): open(O_CREAT)
# must create it afresh, not fail with ENOENT (the kernel never tells
# the daemon O_CREAT on a name it believes exists); a plain open gets
# ENOENT.  actimeo=30: the stale entry outlives the test.
printf 'the old, longer text' >"$R/gone"
printf old >"$R/gone2"
stat "$R/gone" "$R/gone2" >/dev/null
rm "$B/gone" "$B/gone2"
creat() {	# creat PATH TEXT: open(O_CREAT|O_WRONLY), write TEXT
	python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY, 0o644)
os.write(fd, sys.argv[2].encode())
os.close(fd)' "$1" "$2"
}
check "R: open(O_CREAT) of a name another client removed creates it" creat "$R/gone" new
check "R: ... with what was written, at the server" test "$(cat "$RIG_SHARE_DIR/gone")" = new
check "R: ... and seen through the mount" test "$(cat "$R/gone")" = new
check "R: a plain open of such a name: ENOENT" \
	python3 -c 'import errno, os, sys
try:
    os.open(sys.argv[1], os.O_RDONLY)
except FileNotFoundError:
    sys.exit(0)
sys.exit(1)' "$R/gone2"
# A reopen through /proc/self/fd of a file another client removed while
# it was open: the VFS's retry does not look that path up again, and the
# program must get ENOENT, as before, not the ESTALE that asks for it.
reopen_removed() {
	python3 -c 'import os, subprocess, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
subprocess.run(["rm", sys.argv[2]], check=True)
try:
    os.close(os.open("/proc/self/fd/%d" % fd, os.O_RDONLY))
except FileNotFoundError:
    sys.exit(0)
except OSError as e:
    print("reopen: %s" % e, file=sys.stderr)
sys.exit(1)' "$R/held" "$B/held"
}
printf held >"$R/held"
check "R: reopen via /proc/self/fd of an open file another client removed: ENOENT" reopen_removed
check "R: unmount" umount_rig "$R" "$r_pid"

# A directory being filled (tar, cp -r) after what the mount knew of it
# ran out: one listing tells every new name is absent, not a lookup per
# name; and that listing is the server's, with another client's names.
RIG_PORT=$PROXY_PORT
check "F: mount with actimeo=3 (through the recording proxy)" \
	mount_logged "$work/f" "actimeo=3" "$work/f.log"
f_pid=$MOUNT_PID
RIG_PORT=$real_port
F=$work/f
mkdir "$F/fill"
: >"$F/fill/first"
touch "$B/fill/frombwhilestale"
sleep 3.2				# past actimeo, well within the next one
for i in $(seq -w 1 20); do : >"$F/fill/refill$i"; done
asked=0
for i in $(seq -w 1 20); do [ "$(sent "refill$i")" = 1 ] || asked=$((asked + 1)); done
check "F: 20 new names after actimeo: each sent once, in its CREATE (looked up: $asked)" test "$asked" = 0
check "F: ... and the other client's name is there" exists "$F/fill/frombwhilestale"
check "F: ... and a name nobody made is not" absent "$F/fill/refillnone"
check "F: all 22 listed" test "$(ls "$F/fill" | wc -l)" = 22
check "F: unmount" umount_rig "$F" "$f_pid"

check "A: unmount" umount_rig "$A" "$a_pid"
done_testing
