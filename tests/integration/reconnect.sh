#!/usr/bin/env bash
# Surviving the network: a real mount whose TCP connection is reset
# (ss -K), whose server stops answering (SIGSTOP: a silent link, no RST)
# or is killed and started again, must come back by itself, lose no
# byte a program was told is written, and say what happened in its log.
#
# RECONNECT_MB=N sizes the large read and write (default 256).
. "$(dirname "$0")/lib.sh"
need_root "starts smbd, mounts and resets connections"
need_cmd smbd python3 fusermount3 ss sha256sum ip
[ -e /dev/fuse ] || skip "needs /dev/fuse"

MB=${RECONNECT_MB:-256}
work=$(mktemp -d)
at_exit "rm -rf '$work'"
mnt=$work/mnt

# mount_fg MNT OPTIONS: mount with the daemon's log in $work/daemon.log.
mount_fg() { mount_logged "$1" "$2" "$work/daemon.log"; }

# reset: destroy the daemon's TCP connections to the rig (as a NAT box
# or a server reboot would), without touching anything else.
reset() {
	ss -K dst "$RIG_ADDR" dport = "$RIG_PORT" >/dev/null 2>&1
}

# logged N TEXT [SECONDS]: the daemon's log says TEXT at least N times
# (waiting up to SECONDS, default 20, for it).
logged() {
	local n=$1 text=$2 i
	for i in $(seq 1 $((${3:-20} * 10))); do
		[ "$(grep -cF -- "$text" "$work/daemon.log")" -ge "$n" ] && return 0
		sleep 0.1
	done
	echo "  log has $(grep -cF -- "$text" "$work/daemon.log") x '$text' (want $n):"
	sed 's/^/    /' "$work/daemon.log" | tail -20
	return 1
}

# until_ok SECONDS CMD...: CMD succeeds within SECONDS.
until_ok() {
	local t=$1 i
	shift
	for i in $(seq 1 $((t * 5))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

# Stop or continue the server: smbd and its connection processes share a
# process group led by the rig's smbd.
server() { kill "-$1" -- "-$RIG_PID"; }

# unmounted_clean MNT: unmount, the daemon exits, and its log has no
# sanitizer report (the sanitizer build runs this test too).
unmounted_clean() {
	umount_rig "$1" "$MOUNT_PID" || return 1
	! grep -A20 -E "Sanitizer|runtime error" "$work/daemon.log"
}

# slow_copy SRC DST: copy 1 MiB every 0.1 s, then fsync (so that a cut
# lands in the middle); a failure prints its errno text and exits 1.
slow_copy() {
	python3 -c '
import os, sys, time
src, dst = sys.argv[1:3]
try:
    with open(src, "rb") as f, open(dst, "wb") as g:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            g.write(b)
            g.flush()
            time.sleep(0.1)
        os.fsync(g.fileno())
except OSError as e:
    print(e.strerror, file=sys.stderr)
    sys.exit(1)' "$1" "$2"
}

same_file() { cmp -s "$1" "$2" || { echo "  $1 and $2 differ"; return 1; }; }

for config in ${RECONNECT_CONFIGS:-default smb21 signing encrypt}; do
	rig_start "$config"
	check "$config: mount" mount_fg "$mnt" "echo_interval=2,timeout=5"
	mounted "$mnt" || { rig_stop; continue; }
	printf 'hello\n' >"$RIG_SHARE_DIR/hello"
	chown "$RIG_USER" "$RIG_SHARE_DIR/hello"

	# Idle: the next access finds the mount working again.
	cat "$mnt/hello" >/dev/null
	reset
	check "$config: idle reset is logged" logged 1 "connection to $RIG_ADDR lost"
	check "$config: idle reset: reconnected by itself" logged 1 "restored after"
	echo "# $config: idle reset: $(grep -o 'restored after .*' "$work/daemon.log" | tail -1)"
	check "$config: idle reset: the share reads again" bash -c "[ \"\$(cat '$mnt/hello')\" = hello ]"

	# An open file survives: its handle is reclaimed (durable) or
	# opened again, and the same descriptor reads on.
	exec 7<"$mnt/hello"
	reset
	check "$config: open file: reconnected" logged 2 "restored after"
	check "$config: open file: the descriptor still reads" bash -c "[ \"\$(cat <&7)\" = hello ]"
	# Samba grants a durable handle to a file with a handle lease (2.1:
	# DHnQ/DHnC; 3.x: DH2Q/DH2C), so it comes back as the same open.
	# (At least one: the RELEASE of the cat just before may reach the
	# daemon only after the reset, and its handle is reclaimed too.)
	check "$config: open file: reclaimed through its durable handle" \
		bash -c "grep 'restored after' '$work/daemon.log' | tail -1 | grep -qE ': [1-9][0-9]* open files? reclaimed, 0 reopened, 0 lost'"
	exec 7<&-

	if [ "$config" = default ]; then
		# A large read and a large write with fsync, each with the
		# connection reset under it twice: every byte right.
		head -c "${MB}M" /dev/urandom >"$work/big"
		cp "$work/big" "$RIG_SHARE_DIR/big"
		chown "$RIG_USER" "$RIG_SHARE_DIR/big"
		want=$(sha256sum <"$work/big")
		(sha256sum <"$mnt/big" >"$work/read.sum") &
		reader=$!
		sleep 0.5; reset; sleep 1; reset
		wait "$reader" && rc=0 || rc=$?
		check "$config: read under resets succeeds" test "$rc" = 0
		check "$config: read under resets: every byte right" test "$(cat "$work/read.sum")" = "$want"

		(dd if="$work/big" of="$mnt/big.copy" bs=1M conv=fsync status=none) &
		writer=$!
		sleep 0.5; reset; sleep 1; reset
		wait "$writer" && rc=0 || rc=$?
		check "$config: write+fsync under resets succeeds" test "$rc" = 0
		check "$config: write under resets: the server holds every byte" \
			same_file "$work/big" "$RIG_SHARE_DIR/big.copy"
		rm -f "$work/big" "$RIG_SHARE_DIR/big" "$RIG_SHARE_DIR/big.copy"

		# A file written through one descriptor across a reset: the
		# writes go on through it and end up on the server in order.
		exec 8>"$mnt/log.txt"
		for i in $(seq 1 20); do
			echo "line $i" >&8
			[ "$i" = 10 ] && reset
		done
		exec 8>&-
		check "$config: a descriptor writing across a reset keeps writing" \
			bash -c "seq 1 20 | sed 's/^/line /' | cmp -s - '$RIG_SHARE_DIR/log.txt'"

		# fsx while the connection is reset every two seconds.
		(for i in $(seq 1 10); do sleep 2; reset; done) &
		resetter=$!
		at_exit "kill $resetter 2>/dev/null"
		check "$config: fsx under resets" \
			python3 "$top_srcdir/tests/integration/fsx.py" "$mnt/fsx.dat" --ops "${FSX_OPS:-1500}"
		kill "$resetter" 2>/dev/null || true	# it may have ended (a slow fsx)
		wait "$resetter" 2>/dev/null || true

		# A server that stops answering (no RST: as a silent link cut),
		# soft mount: a new request fails with "Host is down" after the
		# timeout (5 s, then the ECHO that confirms, then 5 s waiting for
		# the reconnect), and works again soon after the server is back.
		server STOP
		start=$(date +%s)
		out=$(stat "$mnt/nosuchfile" 2>&1) && rc=0 || rc=$?
		took=$(( $(date +%s) - start ))
		check "$config: soft: a request fails while the server is gone" test "$rc" != 0
		check "$config: soft: ... with 'Host is down'" grep -q "Host is down" <<<"$out"
		echo "# soft mount: the failing request took ${took} s"
		check "$config: soft: the silent server is noticed" logged 1 "did not answer an ECHO"
		server CONT
		check "$config: soft: working again after the server is back" \
			until_ok 30 cat "$mnt/hello"
	fi
	check "$config: unmount leaves no process, no sanitizer report" unmounted_clean "$mnt"
	rig_stop
done

# smbd killed and started again: it forgets every handle, so the open
# files are opened again by name, and a descriptor that was writing
# before goes on writing; the server ends up with exactly what was
# written through it.
rig_start durable
if check "restart: mount" mount_fg "$mnt" "echo_interval=2"; then
	exec 8>"$mnt/restart.log"
	for i in $(seq 1 10); do echo "line $i" >&8; done
	# A second open file whose file goes away while the server is down.
	echo doomed >"$RIG_SHARE_DIR/gone"
	chown "$RIG_USER" "$RIG_SHARE_DIR/gone"
	exec 7<"$mnt/gone"
	rm "$RIG_SHARE_DIR/gone"
	# (The new smbd must not inherit the descriptors: they would hold
	# the mount.)
	rig_restart 7<&- 8>&-
	for i in $(seq 11 20); do echo "line $i" >&8; done
	exec 8>&-
	check "restart: the descriptor kept writing, every line on the server" \
		bash -c "seq 1 20 | sed 's/^/line /' | cmp -s - '$RIG_SHARE_DIR/restart.log'"
	echo "# restart: $(grep -o 'restored after .*' "$work/daemon.log" | tail -1)"
	check "restart: one open reopened by name, one lost" \
		bash -c "grep 'restored after' '$work/daemon.log' | grep -qE '0 open files reclaimed, 1 reopened, 1 lost'"
	# read(2) itself (cat would fstat first, which asks by name: ENOENT).
	out=$(python3 -c 'import os
try:
    os.read(7, 100)
except OSError as e:
    print(e.strerror)
    raise SystemExit(1)' 2>&1) && rc=0 || rc=$?
	exec 7<&-
	check "restart: the lost file's descriptor fails with EIO" \
		bash -c "[ $rc != 0 ] && grep -q 'Input/output error' <<<'$out'"
	check "restart: the log names the lost file" logged 1 "gone could not be opened again"
	check "restart: unmount leaves no process, no sanitizer report" unmounted_clean "$mnt"
fi
rig_stop

# A link that goes silent (no RST): the server in a network namespace of
# its own, its veth pair set down and up again.
if ip netns list >/dev/null 2>&1 && command -v nsenter >/dev/null; then
	cut_link() { ip link set "$RIG_VETH" down; }
	mend_link() { ip link set "$RIG_VETH" up; }
	SMBRIG_NETNS=1 rig_start durable
	at_exit "ip link set '$RIG_VETH' up 2>/dev/null"
	printf 'hello\n' >"$RIG_SHARE_DIR/hello"
	chown "$RIG_USER" "$RIG_SHARE_DIR/hello"

	# 20 s during a read, with the default timeouts: the requests
	# wait it out and the reader notices nothing.
	if check "link: mount (defaults)" mount_fg "$mnt" ""; then
		head -c 64M /dev/urandom >"$work/big"
		cp "$work/big" "$RIG_SHARE_DIR/big"
		chown "$RIG_USER" "$RIG_SHARE_DIR/big"
		python3 -c '
import sys, time, hashlib
h = hashlib.sha256()
with open(sys.argv[1], "rb") as f:
    while True:
        b = f.read(1 << 20)
        if not b:
            break
        h.update(b)
        time.sleep(0.05)
print(h.hexdigest())' "$mnt/big" >"$work/read.sum" &
		reader=$!
		sleep 1; cut_link; sleep 20; mend_link
		wait "$reader" && rc=0 || rc=$?
		check "link: a 20 s cut during a read: the read succeeds" test "$rc" = 0
		check "link: ... every byte right" \
			test "$(cat "$work/read.sum")" = "$(sha256sum "$work/big" | cut -d' ' -f1)"
		check "link: ... without a reconnect" bash -c "! grep -q 'lost' '$work/daemon.log'"
		check "link: defaults: unmount leaves no process" unmounted_clean "$mnt"
	fi

	# Longer than timeout=, soft: a writer and a new request fail with a
	# clear errno; the mount works again seconds after the link is back.
	if check "link: mount (soft, timeout=5)" mount_fg "$mnt" "echo_interval=2,timeout=5"; then
		head -c 16M /dev/urandom >"$work/data"
		(slow_copy "$work/data" "$mnt/soft.dat" 2>"$work/dd.err") &
		writer=$!
		sleep 0.5
		cut_link
		out=$(stat "$mnt/nosuchfile" 2>&1) && rc=0 || rc=$?
		check "link: soft: a request during the cut fails with 'Host is down'" \
			bash -c "[ $rc != 0 ] && grep -q 'Host is down' <<<'$out'"
		wait "$writer" && rc=0 || rc=$?
		check "link: soft: the writer fails with a clear errno" \
			bash -c "[ $rc != 0 ] && grep -qE 'Host is down|Input/output error' '$work/dd.err'"
		sleep 5
		mend_link
		start=$(date +%s)
		check "link: soft: working again after the link is back" until_ok 30 cat "$mnt/hello"
		echo "# soft mount: working again $(( $(date +%s) - start )) s after the link came back"
		check "link: soft: unmount leaves no process" unmounted_clean "$mnt"
	fi

	# hard: the writer waits out a cut longer than the timeout.
	if check "link: mount (hard, timeout=5)" mount_fg "$mnt" "hard,echo_interval=2,timeout=5"; then
		(slow_copy "$work/data" "$mnt/hard.dat") &
		writer=$!
		sleep 0.5
		cut_link; sleep 15; mend_link
		wait "$writer" && rc=0 || rc=$?
		check "link: hard: the writer completes after the link is back" test "$rc" = 0
		check "link: hard: the server holds every byte" same_file "$work/data" "$RIG_SHARE_DIR/hard.dat"
		check "link: hard: unmount leaves no process" unmounted_clean "$mnt"
	fi
	rig_stop
else
	echo "# no network namespaces here: the link cut checks are left out"
fi

# Durable handles on the wire: through a proxy that records every frame,
# a file open across a reset is reclaimed with a DH2C create context on
# the new connection, and the server grants it (not a reopen by name).
rig_start default
mkdir -p "$work/dump"
proxy_start pass --dump "$work/dump"
saved_port=$RIG_PORT
RIG_PORT=$PROXY_PORT
if check "durable: mount through the proxy" mount_fg "$mnt" "echo_interval=2,timeout=5"; then
	printf 'kept\n' >"$RIG_SHARE_DIR/kept"
	chown "$RIG_USER" "$RIG_SHARE_DIR/kept"
	exec 7<"$mnt/kept"
	reset
	check "durable: reconnected" logged 1 "restored after"
	check "durable: the log counts it reclaimed" \
		bash -c "grep 'restored after' '$work/daemon.log' | grep -q ': 1 open file reclaimed, 0 reopened'"
	check "durable: the descriptor still reads" bash -c "[ \"\$(cat <&7)\" = kept ]"
	exec 7<&-
	check "durable: a DH2C CREATE on the new connection succeeded" python3 -c '
import glob, os, struct, sys
frames = {}
for f in glob.glob(os.path.join(sys.argv[1], "*.bin")):
    conn, n, side = os.path.basename(f)[:-4].split("-")
    frames.setdefault(int(conn), []).append((int(n), side, open(f, "rb").read()))
ok = False
for conn, fs in frames.items():
    if conn < 2:
        continue
    asked = {struct.unpack_from("<Q", d, 24)[0] for n, side, d in fs
             if side == "c" and struct.unpack_from("<H", d, 12)[0] == 5 and b"DH2C" in d}
    for n, side, d in fs:
        if side == "s" and struct.unpack_from("<Q", d, 24)[0] in asked and \
           struct.unpack_from("<I", d, 8)[0] == 0:
            ok = True
sys.exit(0 if ok else 1)' "$work/dump"
	check "durable: unmount leaves no process, no sanitizer report" unmounted_clean "$mnt"
fi
RIG_PORT=$saved_port
proxy_stop
rig_stop

# Answers lost with the connection: the proxy drops the connection
# instead of forwarding the response to a change the server has made.
# lost_answer CMD NAME: mount through a proxy that loses the first answer
# to command CMD once armed; run NAME_setup, arm, NAME_action (which must
# succeed), then NAME_verify.
lost_answer() {
	local cmd=$1 name=$2
	rm -rf "$work/dump" "$work/arm"
	mkdir -p "$work/dump"
	proxy_start "lose-answer:$cmd" --arm-file "$work/arm" --dump "$work/dump"
	RIG_PORT=$PROXY_PORT
	if check "$name: mount through the proxy" mount_fg "$mnt" "echo_interval=2,timeout=10"; then
		"${name}_setup"
		touch "$work/arm"
		check "$name: succeeds though its answer was lost" "${name}_action"
		check "$name: the connection was lost and restored" logged 1 "restored after"
		check "$name: the server shows it done once" "${name}_verify"
		check "$name: unmount leaves no process, no sanitizer report" unmounted_clean "$mnt"
	fi
	RIG_PORT=$saved_port
	proxy_stop
}
# CREATE(FILE_DELETE_ON_CLOSE) + CLOSE: sent again, it finds nothing to
# delete; the name is gone, as asked.
unlink_setup() { echo x >"$mnt/doomed"; }
unlink_action() { rm "$mnt/doomed"; }
unlink_verify() { [ ! -e "$RIG_SHARE_DIR/doomed" ]; }
# SET_INFO(rename): sent again, the source is gone and the target there.
rename_setup() { echo moving >"$mnt/from"; }
rename_action() { mv "$mnt/from" "$mnt/to"; }
rename_verify() { [ ! -e "$RIG_SHARE_DIR/from" ] && [ "$(cat "$RIG_SHARE_DIR/to")" = moving ]; }
# A WRITE on a durable handle: sent again on the reclaimed handle with
# SMB2_FLAGS_REPLAY_OPERATION, and the bytes land once, in place.
write_setup() { exec 8>"$mnt/replayed"; echo first >&8; }
write_action() { echo second >&8 && exec 8>&-; }
write_verify() {
	printf 'first\nsecond\n' | cmp -s - "$RIG_SHARE_DIR/replayed" || return 1
	python3 - "$work/dump" <<'PY'
import glob, os, struct, sys
replays = 0
for f in glob.glob(os.path.join(sys.argv[1], "*-c.bin")):
    d = open(f, "rb").read()
    conn = int(os.path.basename(f).split("-")[0])
    if conn >= 2 and struct.unpack_from("<H", d, 12)[0] == 9 and \
            struct.unpack_from("<I", d, 16)[0] & 0x20000000:
        replays += 1
sys.exit(0 if replays else 1)
PY
}
rig_start default
saved_port=$RIG_PORT
lost_answer 5,6 unlink
lost_answer 17 rename
lost_answer 9 write

# A link that dies in the middle of an answer (half a frame, then
# nothing, the connection still open), keepalive off: the request that
# waits for it ends at its timeout, the ECHO it sends finds the link
# dead, and the request goes again on a new connection.  A caller never
# sits in read(2) on a frame that stopped half way.
rm -f "$work/arm"
proxy_start "cut-answer:16" --arm-file "$work/arm"
RIG_PORT=$PROXY_PORT
if check "cut: mount through the proxy (no keepalive, timeout=3)" mount_fg "$mnt" "echo_interval=0,timeout=3"; then
	echo data >"$mnt/cutme"
	sleep 1.2	# past actimeo: the stat asks the server (QUERY_INFO)
	touch "$work/arm"
	out=$(timeout -s KILL 60 stat -c %s "$mnt/cutme" 2>&1) && rc=0 || rc=$?
	check "cut: a stat whose answer stopped half way completes ($out)" \
		test "$rc" = 0 -a "$out" = 5
	check "cut: the dead link was found and replaced" logged 1 "restored after"
	check "cut: unmount leaves no process, no sanitizer report" unmounted_clean "$mnt"
fi
RIG_PORT=$saved_port
proxy_stop
rig_stop

# Hard mount: a writer waits for a server that stopped answering, and
# completes once it answers again; unmount still works while it is gone.
rig_start default
if check "hard: mount" mount_fg "$mnt" "hard,echo_interval=2,timeout=3"; then
	head -c 4M /dev/urandom >"$work/data"
	echo warm >"$mnt/warm"
	server STOP
	(dd if="$work/data" of="$mnt/hard.dat" bs=1M conv=fsync status=none) &
	writer=$!
	sleep 12
	check "hard: the writer is still waiting" alive "$writer"
	server CONT
	wait "$writer" && rc=0 || rc=$?
	check "hard: the writer completes once the server is back" test "$rc" = 0
	check "hard: the server holds every byte" same_file "$work/data" "$RIG_SHARE_DIR/hard.dat"
	server STOP
	sleep 1
	check "hard: unmount works while the server is gone" unmounted_clean "$mnt"
	server CONT
fi
rig_stop
done_testing
