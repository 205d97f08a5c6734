#!/usr/bin/env bash
# fcntl and flock locks that other clients see: two mounts of one share
# stand in for two machines (each mount is its own SMB connection, its
# own smbd process).  Exclusive and shared byte ranges, blocking waits
# and their interruption (the server must forget a cancelled wait),
# F_GETLK, POSIX's owner rules (a forked child is another owner; any
# close drops the process's locks), flock, SQLite transactions from both
# mounts at once, nobrl, and locks across a lost connection and across
# a server restart.
. "$(dirname "$0")/lib.sh"
need_root "starts smbd and mounts"
need_cmd smbd python3 fusermount3 flock ss
[ -e /dev/fuse ] || skip "needs /dev/fuse"

work=$(mktemp -d)
at_exit "rm -rf '$work'"
T="python3 $top_srcdir/tests/integration/locktool.py"

# logged LOG N TEXT [SECONDS]: LOG says TEXT at least N times (waiting up
# to SECONDS, default 20).
logged() {
	local log=$1 n=$2 text=$3 i
	for i in $(seq 1 $((${4:-20} * 10))); do
		[ "$(grep -cF -- "$text" "$log")" -ge "$n" ] && return 0
		sleep 0.1
	done
	echo "  $log has $(grep -cF -- "$text" "$log") x '$text' (want $n):"
	tail -20 "$log" | sed 's/^/    /'
	return 1
}

# is WANT CMD...: CMD prints WANT.
is() {
	local want=$1 got
	shift
	got=$("$@" 2>&1) || true
	[ "$got" = "$want" ] || { echo "  want '$want', got '$got' from: $*"; return 1; }
}

# holder NAME CMD...: run CMD (a locktool hold or close-releases, or a
# flock(1) that waits for the same files) in the background and wait
# until it created $work/NAME.ready (it holds its lock then).
# "say NAME read|write" has it do that through its locked descriptor and
# prints its answer; "release NAME" stops it and waits for the end (in
# this shell: not from a $(...) copy of it); "last NAME" shows its last
# line.  Files rather than a pipe tell it what to do: every process the
# test starts later would inherit the pipe and keep it open.
declare -A HOLD_PID
holder() {
	local name=$1 i
	shift
	rm -f "$work/$name".*
	"$@" >"$work/$name.out" 2>&1 &
	HOLD_PID[$name]=$!
	at_exit "kill ${HOLD_PID[$name]} 2>/dev/null"
	for i in $(seq 1 100); do
		[ -e "$work/$name.ready" ] && return 0
		alive "${HOLD_PID[$name]}" || break
		sleep 0.1
	done
	echo "  $name did not take its lock: $(cat "$work/$name.out")"
	return 1
}
say() {
	local before i
	before=$(wc -l <"$work/$1.out")
	echo "$2" >"$work/$1.go.tmp" && mv "$work/$1.go.tmp" "$work/$1.ready.go"
	for i in $(seq 1 100); do
		[ "$(wc -l <"$work/$1.out")" -gt "$before" ] && break
		sleep 0.1
	done
	tail -1 "$work/$1.out"
}
release() {
	touch "$work/$1.ready.stop"
	wait "${HOLD_PID[$1]}" 2>/dev/null || true
}
last() { tail -1 "$work/$1.out"; }

# === two mounts of the default rig ===========================================
rig_start default
check "mount A" mount_logged "$work/a" "" "$work/a.log"
a_pid=$MOUNT_PID
check "mount B" mount_logged "$work/b" "" "$work/b.log"
b_pid=$MOUNT_PID
A=$work/a B=$work/b
printf '%s\n' "the original text" >"$A/f"
printf 'x%.0s' $(seq 1 4096) >"$A/g"

# --- exclusive and shared ranges ------------------------------------------
check "A: exclusive lock on bytes 0-99" holder x $T hold "$A/f" w 0 100 "$work/x.ready"
check "B: a non-blocking exclusive lock of the range fails" is busy $T try "$B/f" w 0 100
check "B: so does a shared one" is busy $T try "$B/f" r 50 10
check "B: a range next to it is free" is ok $T try "$B/f" w 100 100
check "another process on A is refused too (a local owner)" is busy $T try "$A/f" w 99 1
check "F_GETLK on B names the range, held by another machine (pid 0)" \
	is "w 0 100 0" $T getlk "$B/f" r 0 100
check "F_GETLK on A names the holder's pid" \
	is "w 0 100 ${HOLD_PID[x]}" $T getlk "$A/f" w 0 0
check "the holder writes under its lock" is "write ok" say x write

# A blocking wait: still waiting while A holds the lock, granted once A
# lets go.
$T wait "$B/f" w 0 100 60 >"$work/waiter.out" 2>&1 &
waiter=$!
at_exit "kill $waiter 2>/dev/null"
sleep 1.5
check "B: a blocking lock waits while A holds the range" \
	bash -c "[ -d /proc/$waiter ] && [ ! -s '$work/waiter.out' ]"
release x
check "A: unlock" is released last x
wait "$waiter" || true
check "B: the blocking lock is granted when A unlocks" is got cat "$work/waiter.out"

check "A: shared lock on bytes 0-99" holder s $T hold "$A/f" r 0 100 "$work/s.ready"
check "B: another shared lock coexists" is ok $T try "$B/f" r 0 100
check "B: an exclusive one is refused" is busy $T try "$B/f" w 10 1
check "F_GETLK on B for a write lock finds the read lock" is "r 0 100 0" $T getlk "$B/f" w 0 100

# --- a signal interrupts a blocking wait; the server forgets it -------------
check "B: SIGALRM interrupts a blocking wait" is interrupted $T wait "$B/f" w 0 100 1
release s
check "A: unlock the shared lock" is released last s
# Had the CANCEL not reached the server, it would now grant the
# interrupted wait to B's handle, and hold the range for nobody.
check "after the interrupted wait, the range is free for a third process" \
	is ok $T try "$A/f" w 0 100

# --- POSIX's owner rules ---------------------------------------------------
check "a forked child is another owner: refused the parent's range" is busy $T fork-share "$A/f"
check "closing another descriptor of the file drops the process's locks" \
	holder c $T close-releases "$A/f" "$work/c.ready"
check "  so B can lock the range while that process still runs" is ok $T try "$B/f" w 0 0
release c
check "A: a lock held by a process that is killed" holder k $T hold "$A/f" w 0 0 "$work/k.ready"
kill -9 "${HOLD_PID[k]}"
wait "${HOLD_PID[k]}" 2>/dev/null || true
check "  is gone with it" is ok $T try "$B/f" w 0 0
check "upgrade, downgrade, extend and a hole, then unlock, on one descriptor" is ok $T upgrade "$A/f"
check "  leave nothing locked on the server" is ok $T try "$B/f" w 0 0

# --- data under a lock is the server's --------------------------------------
cat "$B/g" >/dev/null	# B's kernel caches the file
check "A: exclusive lock on the whole file" holder d $T hold "$A/g" w 0 0 "$work/d.ready"
check "  A writes through its locked descriptor" is "write ok" say d write
release d
check "B locks and reads what A wrote, not its cached copy" python3 -c '
import fcntl, sys
f = open(sys.argv[1], "rb")
fcntl.lockf(f, fcntl.LOCK_SH)
sys.exit(0 if f.read(2) == b"Wx" and open(sys.argv[2], "rb").read(2) == b"Wx" else 1)
' "$B/g" "$RIG_SHARE_DIR/g"

# --- flock ---------------------------------------------------------------------
: >"$A/fl"
check "A: flock -x" holder fx flock -x "$A/fl" sh -c "touch '$work/fx.ready'
	while [ ! -e '$work/fx.ready.stop' ]; do sleep 0.05; done"
check "B: flock -n fails while A holds it" bash -c "! flock -n '$B/fl' true"
check "B: flock -w 1 gives up after a second (an interrupted wait)" bash -c "! flock -w 1 '$B/fl' true"
check "flock and fcntl locks do not conflict (as on Linux)" is ok $T try "$B/fl" w 0 0
release fx
check "B: flock -n succeeds once A let go" flock -n "$B/fl" true
check "A: flock -s" holder fs flock -s "$A/fl" sh -c "touch '$work/fs.ready'
	while [ ! -e '$work/fs.ready.stop' ]; do sleep 0.05; done"
check "B: flock -s -n shares it" flock -s -n "$B/fl" true
check "B: flock -x -n does not" bash -c "! flock -x -n '$B/fl' true"
release fs

check "A unmounts" umount_rig "$work/a" "$a_pid"
check "B unmounts" umount_rig "$work/b" "$b_pid"
# --- SQLite from both mounts at once ------------------------------------------
# With actimeo=0, as NFS needs noac for it: SQLite decides whether a
# rollback journal is "hot" from whether the file exists, and a name
# cached for a second outlives the journal another machine deleted.
check "mount E (actimeo=0)" mount_logged "$work/e" actimeo=0 "$work/e.log"
e_pid=$MOUNT_PID
check "mount F (actimeo=0)" mount_logged "$work/f" actimeo=0 "$work/f.log"
f_pid=$MOUNT_PID
A=$work/e B=$work/f
check "SQLite: create a database on A" timeout 120 \
	sqlite3 "$A/db" "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT UNIQUE, seen INTEGER);"
pids=()
for m in e f; do
	for w in 1 2 3; do
		timeout 300 $T sqlite "$work/$m/db" "$m$w" 40 >"$work/sql.$m$w" 2>&1 &
		pids+=($!)
	done
done
at_exit "kill ${pids[*]} 2>/dev/null"
sql_workers() {
	local p rc=0
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	[ "$rc" = 0 ] || cat "$work"/sql.*
	return $rc
}
check "SQLite: 3 processes on each mount, 40 write transactions each" sql_workers
check "SQLite: integrity_check is ok" is ok timeout 120 sqlite3 "$B/db" "PRAGMA integrity_check;"
check "SQLite: no committed row lost (240)" is 240 timeout 120 sqlite3 "$A/db" "SELECT COUNT(*) FROM t;"
# Each transaction counted the rows it saw before adding its own: with
# every transaction isolated, those counts are 0..239, each once.
check "SQLite: every transaction saw all the ones before it" \
	is 240 timeout 120 sqlite3 "$A/db" "SELECT COUNT(DISTINCT seen) FROM t WHERE seen BETWEEN 0 AND 239;"

check "E unmounts" umount_rig "$work/e" "$e_pid"
check "F unmounts" umount_rig "$work/f" "$f_pid"
A=$work/a B=$work/b
check "no sanitizer report" bash -c "! grep -A20 -E 'Sanitizer|runtime error' '$work/a.log' '$work/b.log' '$work/e.log' '$work/f.log'"

# --- nobrl: locks stay in the mount --------------------------------------------
check "mount C with nobrl" mount_logged "$work/c" nobrl "$work/c.log"
c_pid=$MOUNT_PID
check "mount D with nobrl" mount_logged "$work/d" nobrl "$work/d.log"
d_pid=$MOUNT_PID
check "C: exclusive lock" holder n $T hold "$work/c/f" w 0 0 "$work/n.ready"
check "D does not see it (nobrl)" is ok $T try "$work/d/f" w 0 0
check "C's other processes do (the kernel's own locks)" is busy $T try "$work/c/f" w 0 0
release n
check "C unmounts" umount_rig "$work/c" "$c_pid"
check "D unmounts" umount_rig "$work/d" "$d_pid"
rig_stop

# === a lost connection, a server restart: the durable rig ===================
# (posix locking = no: Samba 4.17 keeps a durable handle's locks over a
# reconnect only so; with its default, smbd's child aborts on it.)
rig_start durable
check "durable: mount A" mount_logged "$work/a" "echo_interval=2,timeout=5" "$work/ra.log"
a_pid=$MOUNT_PID
check "durable: mount B" mount_logged "$work/b" "" "$work/rb.log"
b_pid=$MOUNT_PID
echo data >"$A/r"
check "durable: A locks bytes 0-9" holder r $T hold "$A/r" w 0 10 "$work/r.ready"
reset_conns "$a_pid"
check "durable: A's connection reset, and restored" logged "$work/ra.log" 1 "restored after"
check "durable: the open was reclaimed (its locks with it)" \
	bash -c "grep 'restored after' '$work/ra.log' | tail -1 | grep -q ': 1 open file reclaimed'"
check "durable: B is still refused the range" is busy $T try "$B/r" w 0 10
check "durable: the holder still writes through its descriptor" is "write ok" say r write
release r
check "durable: unlock after the reconnect" is released last r
check "durable: B gets the range" is ok $T try "$B/r" w 0 10

check "durable: A locks again" holder l $T hold "$A/r" w 0 10 "$work/l.ready"
rig_restart 7<&- 8>&-
check "restart: restored" logged "$work/ra.log" 2 "restored after" 40
check "restart: the log says the lock is lost, and which file" \
	logged "$work/ra.log" 1 "held r open: its 1 byte-range lock(s) are lost"
check "restart: I/O through the descriptor that had the lock fails with EIO" \
	is "read EIO" say l read
check "restart: B may take the range (the server forgot it)" is ok $T try "$B/r" w 0 10
release l
check "restart: a new descriptor works normally (the holder's W is in)" is Wata cat "$A/r"
check "durable: A unmounts" umount_rig "$work/a" "$a_pid"
check "durable: B unmounts" umount_rig "$work/b" "$b_pid"
check "durable: no sanitizer report" \
	bash -c "! grep -A20 -E 'Sanitizer|runtime error' '$work/ra.log' '$work/rb.log'"

# --- a LOCK whose answer is lost: sent again with its LockSequence ----------
# The proxy drops the connection instead of forwarding the answer to A's
# LOCK: the server holds the lock, A never heard.  Sent again on the
# reclaimed handle, the LOCK carries the same LockSequence, and the
# server answers it as done (MS-SMB2 3.3.5.14) rather than refusing (or,
# as here, a blocking lock: waiting forever for) the lock A itself holds.
proxy_start "lose-answer:10" --arm-file "$work/arm"
saved_port=$RIG_PORT
RIG_PORT=$PROXY_PORT
check "replay: mount A through a proxy that loses a LOCK's answer" \
	mount_logged "$work/a" "echo_interval=2,timeout=10" "$work/pa.log"
a_pid=$MOUNT_PID
RIG_PORT=$saved_port
check "replay: mount B" mount_logged "$work/b" "" "$work/pb.log"
b_pid=$MOUNT_PID
echo x >"$A/q"
touch "$work/arm"
check "replay: A's blocking lock is granted though its answer was lost" \
	holder q $T hold "$A/q" w 0 10 "$work/q.ready"
check "replay: the connection was lost and restored" logged "$work/pa.log" 1 "restored after"
check "replay: B is refused the range" is busy $T try "$B/q" w 0 10
release q
check "replay: one unlock frees it (the server took the lock once)" is ok $T try "$B/q" w 0 10
check "replay: A unmounts" umount_rig "$work/a" "$a_pid"
check "replay: B unmounts" umount_rig "$work/b" "$b_pid"
check "replay: no sanitizer report" \
	bash -c "! grep -A20 -E 'Sanitizer|runtime error' '$work/pa.log' '$work/pb.log'"
proxy_stop

done_testing
