#!/usr/bin/env bash
# A read or write larger than the server takes in one message (the
# smallio rig: 64 KiB MaxRead and MaxWrite, as on small NAS boxes) goes
# as several READs or WRITEs on the wire at once, not one after another;
# the bytes land where they belong, short reads at the end of file stop
# where the file does, fsx finds nothing wrong, and pieces lost with a
# reset connection go again.  "At once" is checked on the wire: a proxy
# holds one piece back, and the others must go on meanwhile
# (tests/integration/dumpstat.py).
. "$(dirname "$0")/lib.sh"
need_root "starts smbd and mounts"
need_cmd smbd python3 fusermount3 dd cmp
[ -e /dev/fuse ] || skip "needs /dev/fuse"

work=$(mktemp -d)
at_exit "rm -rf '$work'"

rig_start smallio
real_port=$RIG_PORT
# proxied_mount NAME CMD: mount through a proxy that records every frame
# and, once $work/arm-NAME exists, holds one request of command CMD back
# for a second; M is the mount.  cache=none: every read(2) and write(2)
# of 1 MiB reaches the server as it is (no readahead, no write-behind),
# so each is one request of 16 pieces.
proxied_mount() {
	mkdir -p "$work/dump-$1"
	RIG_PORT=$real_port
	proxy_start "hold-request:$2:1" --arm-file "$work/arm-$1" --dump "$work/dump-$1"
	RIG_PORT=$PROXY_PORT
	M=$work/m-$1
	mount_logged "$M" "cache=none" "$work/m-$1.log"
	local rc=$?
	RIG_PORT=$real_port
	return $rc
}
# overtaken NAME CMD: how many pieces went out after the held one and
# were answered before it (tests/integration/dumpstat.py): none when
# the pieces go one after the other.
overtaken() { python3 "$top_srcdir/tests/integration/dumpstat.py" overtaken "$work/dump-$1" "$2"; }

size=$((8 * 1048576 + 12345))
head -c $size /dev/urandom >"$work/src"
check "mount (cache=none, through a proxy that holds a WRITE back)" proxied_mount w 9
touch "$work/arm-w"
check "8 MiB + 12345 bytes written in 1 MiB writes" \
	dd if="$work/src" of="$M/big" bs=1M oflag=direct status=none
check "... the server holds exactly those bytes" cmp "$work/src" "$RIG_SHARE_DIR/big"
w=$(overtaken w 9)
# One 1 MiB write(2) is 16 WRITEs of 64 KiB.
check "... the other WRITEs of that write(2) went on while one was held ($w)" test "$w" -ge 8
check "unmount" umount_rig "$M" "$MOUNT_PID"

check "mount (cache=none, through a proxy that holds a READ back)" proxied_mount r 8
touch "$work/arm-r"
check "read back in 1 MiB reads: the same bytes" \
	sh -c "dd if='$M/big' bs=1M iflag=direct status=none | cmp - '$work/src'"
r=$(overtaken r 8)
check "... the other READs of that read(2) went on while one was held ($r)" test "$r" -ge 8

# pread at END, LEN: what it returns must be the file's bytes there,
# cut at its end.
tail_ok() {
	python3 - "$M/big" "$work/src" "$1" "$2" <<'EOF'
import os, sys
path, ref, at, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
want = open(ref, "rb").read()[at:at + n]
fd = os.open(path, os.O_RDONLY)
data = os.pread(fd, n, at)
os.close(fd)
sys.exit(0 if data == want else 1)
EOF
}
check "a 1 MiB read that crosses the end of file stops there" tail_ok $((size - 300000)) 1048576
check "a 1 MiB read from the last 64 KiB piece" tail_ok $((8 * 1048576)) 1048576
check "a 1 MiB read past the end of file is empty" tail_ok $((size + 4096)) 1048576

# Writes that start and end inside pieces, over what is there.
check "an unaligned 3 MiB write in the middle" python3 - "$M/big" "$work/src" <<'EOF'
import os, sys
data = os.urandom(3 * 1048576 + 777)
for path in sys.argv[1:]:
    fd = os.open(path, os.O_WRONLY)
    os.pwrite(fd, data, 1234567)
    os.close(fd)
EOF
check "... the server holds the same bytes as the model" cmp "$work/src" "$RIG_SHARE_DIR/big"

check "fsx 1500 operations on cache=none" \
	python3 "$top_srcdir/tests/integration/fsx.py" "$M/fsx.dat" --ops 1500
check "unmount" umount_rig "$M" "$MOUNT_PID"

check "mount with the default cache" mount_logged "$work/m2" "" "$work/m2.log"
check "fsx 1500 operations (readahead and write-behind)" \
	python3 "$top_srcdir/tests/integration/fsx.py" "$work/m2/fsx2.dat" --ops 1500
check "unmount" umount_rig "$work/m2" "$MOUNT_PID"
rig_stop

# Pieces of one request on the wire when the connection is reset: those
# lost go again on the next connection (replayed on the durable handle),
# and the file holds every byte.
SMBRIG_GLOBAL="smb2 max read = 65536; smb2 max write = 65536; smb2 max trans = 65536" \
	rig_start durable
check "reset: mount (cache=none)" mount_logged "$work/r" "cache=none,echo_interval=2,timeout=5" "$work/r.log"
r_pid=$MOUNT_PID
head -c 192M /dev/urandom >"$work/src192"
dd if="$work/src192" of="$work/r/big" bs=1M oflag=direct status=none 2>"$work/dd.err" &
copier=$!
reset_during "$copier" "$r_pid" 0.2
wait "$copier" && rc=0 || rc=$?
check "reset: 192 MiB in 1 MiB writes across two resets: dd succeeded" test "$rc" = 0
check "reset: the server holds every byte" cmp "$work/src192" "$RIG_SHARE_DIR/big"
check "reset: ... and reads them back in 1 MiB reads, across a reset" sh -c "
	(sleep 0.3; ss -K dst '$RIG_ADDR' dport = '$RIG_PORT' >/dev/null 2>&1) &
	dd if='$work/r/big' bs=1M iflag=direct status=none | cmp - '$work/src192'"
check "reset: the log shows the reconnects" grep -q "restored" "$work/r.log"
check "reset: unmount" umount_rig "$work/r" "$r_pid"
done_testing
