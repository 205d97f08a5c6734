#!/usr/bin/env bash
# Write-behind: write(2) returns before the server has the bytes, and
# nothing a program was told is written is lost or seen out of order.
# Everything that could see the data at the server waits for it: stat,
# listings, reads, truncate, close, a lease break another client causes.
# To prove the waiting (rather than a fast server), the mount under test
# goes through a proxy that holds its first WRITE for HOLD seconds: a
# check that did not wait would see the file without those bytes.  Also
# a full disk (ENOSPC reported by write, fsync or close; cache=none at
# the write itself), a new file's first bytes sent with its times, a
# pseudo-random mix of overlapping writes, and a lost connection in the
# middle of 4 KiB writes.
. "$(dirname "$0")/lib.sh"
need_root "starts smbd and mounts"
need_cmd smbd python3 fusermount3 ss
[ -e /dev/fuse ] || skip "needs /dev/fuse"

work=$(mktemp -d)
chmod 0755 "$work"
at_exit "rm -rf '$work'"
W="python3 $top_srcdir/tests/integration/writer.py"
HOLD=3
WRITE=9		# SMB2 WRITE

# is WANT CMD...: CMD prints WANT.
is() {
	local want=$1 got
	shift
	got=$("$@" 2>&1) || true
	[ "$got" = "$want" ] || { echo "  want '$want', got '$got' from: $*"; return 1; }
}

# held NAME: mount the rig through a fresh proxy that, once armed, holds
# the first WRITE for HOLD seconds (the mount in $work/NAME, its log in
# $work/NAME.log); create file f with one byte, arm the proxy, and start
# a writer that writes 64 KiB of 'A' into f in one write(2) and keeps f
# open until "unhold NAME".
held() {
	local m=$work/$1
	rm -f "$work/$1.arm"
	proxy_start "hold-request:$WRITE:$HOLD" --arm-file "$work/$1.arm"
	RIG_PORT_SAVED=$RIG_PORT
	RIG_PORT=$PROXY_PORT
	mount_logged "$m" "" "$work/$1.log" || { RIG_PORT=$RIG_PORT_SAVED; return 1; }
	RIG_PORT=$RIG_PORT_SAVED
	echo x >"$m/f"
	mkdir -p "$work/$1.w"
	touch "$work/$1.arm"
	$W hold "$m/f" 65536 "$work/$1.w" >"$work/$1.out" 2>&1 &
	for _ in $(seq 1 100); do
		[ -e "$work/$1.w/ready" ] && return 0
		sleep 0.05
	done
	echo "  the writer did not start: $(cat "$work/$1.out")"
	return 1
}
unhold() {
	touch "$work/$1.w/stop"
	for _ in $(seq 1 $((HOLD * 40))); do
		grep -q close "$work/$1.out" && break
		sleep 0.05
	done
	cat "$work/$1.out"
}
server_size() { stat -c %s "$RIG_SHARE_DIR/$1"; }

# === the default rig =========================================================
rig_start default
export RIG_ADDR RIG_PORT RIG_SHARE RIG_USER RIG_PASSWORD

# --- what waits for the bytes behind --------------------------------------------
if check "held: mount through the proxy (stat)" held st; then
	check "held: stat of the name shows the 64 KiB written behind" is 65536 stat -c %s "$work/st/f"
	check "held: ... and so does the server by then" is 65536 server_size f
	check "held: close ok" is "close ok" unhold st
fi
if check "held: mount through the proxy (ls -l)" held ls; then
	check "held: ls -l lists the size written behind" \
		is 65536 bash -c "ls -l '$work/ls' | awk '\$NF == \"f\" { print \$5 }'"
	unhold ls >/dev/null
fi
if check "held: mount through the proxy (read)" held rd; then
	check "held: a read through another descriptor sees the bytes" \
		is 65536 bash -c "tr -d x <'$work/rd/f' | grep -o A | wc -l"
	unhold rd >/dev/null
fi
if check "held: mount through the proxy (truncate)" held tr; then
	truncate -s 1000 "$work/tr/f"
	unhold tr >/dev/null
	check "held: a truncate by name after the writes is not undone by them" is 1000 server_size f
fi
if check "held: mount through the proxy (close)" held cl; then
	touch "$work/cl.w/stop"
	for _ in $(seq 1 $((HOLD * 40))); do grep -q close "$work/cl.out" && break; sleep 0.05; done
	check "held: close(2) returns once the bytes are at the server" is 65536 server_size f
	check "held: ... and says ok" is "close ok" cat "$work/cl.out"
fi
# Another client that opens the file denying writers: the server breaks
# this mount's handle lease and waits for the acknowledgement, which
# waits for the WRITE; so that client reads all of it.
if check "held: mount through the proxy (lease break)" held lb; then
	out=$(/usr/bin/python3 "$top_srcdir/tests/integration/rig_check.py" deny-writers f 2>&1)
	check "held: another client denying writers is refused (the writer keeps its handle)" \
		grep -qx STATUS_SHARING_VIOLATION <<<"$out"
	check "held: ... and finds every byte written before the break (SIZE 65536)" \
		grep -qx "SIZE 65536" <<<"$out"
	unhold lb >/dev/null
fi

# --- a new file's first bytes wait for its times ------------------------------
# tar, cp -p and rsync write a small new file and set its times at once:
# the bytes then go in one compound with the SET_INFO (one round trip,
# not a WRITE and then a SET_INFO), and the server has both when
# futimens returns.  Bytes that nothing asks for go out by themselves
# within moments.  Through a proxy that records every frame.
SET_INFO=17
# new_file NAME PATH SIZE MTIME: writer.py new in the background, until
# it is ready (it wrote and set the times) or says why not.
new_file() {
	local name=$1
	shift
	mkdir -p "$work/$name.w"
	$W new "$@" "$work/$name.w" >"$work/$name.out" 2>&1 &
	for _ in $(seq 1 100); do
		[ -e "$work/$name.w/ready" ] && return 0
		[ -s "$work/$name.out" ] && break
		sleep 0.05
	done
	echo "  the writer did not get ready: $(cat "$work/$name.out")"
	return 1
}
new_close() {
	touch "$work/$1.w/stop"
	for _ in $(seq 1 100); do grep -q close "$work/$1.out" && break; sleep 0.05; done
	cat "$work/$1.out"
}
# soon WANT CMD...: CMD prints WANT within 3 s.
soon() {
	for _ in $(seq 1 60); do [ "$("${@:2}" 2>/dev/null)" = "$1" ] && return 0; sleep 0.05; done
	is "$@"
}
mkdir -p "$work/dump"
proxy_start pass --dump "$work/dump"
RIG_PORT_SAVED=$RIG_PORT
RIG_PORT=$PROXY_PORT
check "new: mount through the recording proxy" mount_logged "$work/nw" "" "$work/nw.log"
nw_pid=$MOUNT_PID
RIG_PORT=$RIG_PORT_SAVED
check "new: create, write 3000 bytes, futimens (as tar does)" \
	new_file t1 "$work/nw/t1" 3000 1500000000
check "new: ... the server has the bytes when futimens returns" is 3000 server_size t1
check "new: ... and the time" is 1500000000 stat -c %Y "$RIG_SHARE_DIR/t1"
check "new: ... close ok" is "close ok" new_close t1
check "new: ... and the time stays" is 1500000000 stat -c %Y "$RIG_SHARE_DIR/t1"
# One frame, unless the machine paused the writer between its write and
# its futimens for longer than the 2 ms hold (then the bytes went alone,
# which is right too; a loaded CI machine did it once): a few more new
# files, and one of them must go together.  Without the hold none does.
together() { python3 "$top_srcdir/tests/integration/dumpstat.py" together "$work/dump" $WRITE $SET_INFO; }
files=1
while [ "$(together)" -lt 1 ] && [ $files -lt 6 ]; do
	files=$((files + 1))
	# new_close even when new_file failed: a writer that did start
	# waits for its stop file.
	new_file "t1-$files" "$work/nw/t1-$files" 3000 1500000000
	new_close "t1-$files" >/dev/null
done
check "new: the bytes went in one frame with the SET_INFO ($(together) of $files files)" \
	test "$(together)" -ge 1
check "new: create and write 3000 bytes, then nothing" new_file t2 "$work/nw/t2" 3000 -
check "new: ... the bytes reach the server by themselves" soon 3000 server_size t2
check "new: ... close ok" is "close ok" new_close t2
check "new: unmount" umount_rig "$work/nw" "$nw_pid"

# --- two mounts, many writes ----------------------------------------------------
check "mount A" mount_logged "$work/a" "" "$work/a.log"
a_pid=$MOUNT_PID
check "mount B" mount_logged "$work/b" "" "$work/b.log"
head -c 16M /dev/urandom >"$work/src16"
check "A: 16 MiB in 4 KiB writes" is ok $W copy "$work/src16" "$work/a/c4k" 4096
check "B: sees every byte after A's close" cmp -s "$work/src16" "$work/b/c4k"
check "A: 16 MiB in 1 MiB writes" is ok $W copy "$work/src16" "$work/a/c1m" 1048576
check "B: sees every byte" cmp -s "$work/src16" "$work/b/c1m"
for seed in 1 2 3; do
	check "A: overlapping writes, holes and rewrites (seed $seed) as a model says" \
		is match $W scatter "$work/a/sc$seed" "$RIG_SHARE_DIR/sc$seed" "$seed"
done
check "A: unmount" umount_rig "$work/a" "$a_pid"
# Each write(2) is one FUSE request, not two: the kernel is told that
# the file system drops setuid bits and capabilities itself (an SMB
# share keeps none), so it stops asking for security.capability before
# every write (libfuse's debug output names each request).
check "debug mount" mount_logged "$work/dbg" "debug" "$work/dbg.log"
dbg_pid=$MOUNT_PID
dd if=/dev/zero of="$work/dbg/x" bs=4k count=200 conv=fsync status=none
check "debug mount: unmount" umount_rig "$work/dbg" "$dbg_pid"
xattr_asks() {
	local writes asks
	writes=$(grep -c "opcode: WRITE " "$work/dbg.log")
	asks=$(grep -c "opcode: GETXATTR " "$work/dbg.log")
	echo "# 200 writes of 4 KiB: $writes WRITE and $asks GETXATTR requests"
	[ "$writes" -ge 200 ] && [ "$asks" -le 2 ]
}
check "4 KiB writes: no xattr request before each write" xattr_asks
rig_stop

# === a full disk =============================================================
SMBRIG_SHARE_SIZE=8m rig_start default
check "full: mount" mount_logged "$work/full" "" "$work/full.log"
full_pid=$MOUNT_PID
out=$($W fill "$work/full/big" $((16 << 20)) 65536)
check "full: 16 MiB onto 8: ENOSPC from a write, fsync or close" \
	grep -qE "^(write [0-9]+|fsync|close): ENOSPC$" <<<"$out"
echo "# full: $(head -1 <<<"$out")"
check "full: the log says which file and when it is reported" \
	grep -q "writing /big behind the application failed: No space left on device" "$work/full.log"
# A new file whose held bytes go with its times (see "new:" above).
mkdir -p "$work/fullnew.w"
touch "$work/fullnew.w/stop"
out=$($W new "$work/full/newf" 60000 1500000000 "$work/fullnew.w")
check "full: a new file's first bytes sent with its times: ENOSPC from futimens or close ($out)" \
	grep -qE "^(utime|close): ENOSPC$" <<<"$out"
rm -f "$work/full/newf"
check "full: cp of a file that does not fit fails" bash -c "! cp '$work/src16' '$work/full/cp' 2>'$work/cp.err'"
check "full: ... saying No space left on device" grep -q "No space left on device" "$work/cp.err"
rm -f "$work/full/big" "$work/full/cp"
head -c 4M "$work/src16" >"$work/src4"
check "full: 4 MiB that fit: every write, fsync and close ok" is ok $W copy "$work/src4" "$work/full/fits" 65536
check "full: ... and the server holds every byte" cmp -s "$work/src4" "$RIG_SHARE_DIR/fits"
check "full: unmount" umount_rig "$work/full" "$full_pid"
check "full: cache=none mount" mount_logged "$work/none" "cache=none" "$work/none.log"
none_pid=$MOUNT_PID
rm -f "$work/none/fits"
out=$($W fill "$work/none/big" $((16 << 20)) 65536)
check "full: cache=none: the write itself fails with ENOSPC" grep -qE "^write [0-9]+: ENOSPC$" <<<"$out"
taken=$(sed -n 's/^taken //p' <<<"$out")
check "full: cache=none: the server holds what the writes were told ($taken bytes)" \
	is "$taken" server_size big
check "full: cache=none: unmount" umount_rig "$work/none" "$none_pid"
# cache=loose writes behind as strict does: the error comes back the
# same way, and the size shown afterwards is the server's, not the one
# the program meant to write.
check "full: cache=loose mount" mount_logged "$work/loose" "cache=loose" "$work/loose.log"
loose_pid=$MOUNT_PID
rm -f "$work/loose/big"
out=$($W fill "$work/loose/big" $((16 << 20)) 65536)
check "full: cache=loose: ENOSPC from a write, fsync or close" \
	grep -qE "^(write [0-9]+|fsync|close): ENOSPC$" <<<"$out"
check "full: cache=loose: the size shown is the server's" is "$(server_size big)" stat -c %s "$work/loose/big"
check "full: cache=loose: unmount" umount_rig "$work/loose" "$loose_pid"
rig_stop

# === a lost connection in the middle =======================================
rig_start durable
check "reset: mount" mount_logged "$work/r" "echo_interval=2,timeout=5" "$work/r.log"
r_pid=$MOUNT_PID
head -c 96M /dev/urandom >"$work/src96"
$W copy "$work/src96" "$work/r/c4k" 4096 >"$work/r.out" 2>&1 &
copier=$!
reset_during "$copier" "$r_pid"
check "reset: 96 MiB of 4 KiB writes across two resets: every write, fsync and close ok" \
	is ok cat "$work/r.out"
check "reset: the server holds every byte" cmp -s "$work/src96" "$RIG_SHARE_DIR/c4k"
check "reset: the log shows the reconnects" grep -q "restored" "$work/r.log"
check "reset: unmount" umount_rig "$work/r" "$r_pid"
rig_stop

done_testing
