# lib.sh - shared helpers for the integration tests (sourced, not run).
#
# A test sources this file, calls need_root / need_cmd for what it needs
# (each exits 77, automake's "skipped", with a reason), then rig_start for
# every server it wants.  Every server started here is stopped by the EXIT
# trap, whether the test passes, fails or is interrupted.

set -euo pipefail

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
SMBRIG="$top_srcdir/tests/rig/smbrig"

_rig_dirs=()
_cleanups=()
_failures=0

_lib_exit() {
	local rc=$? i
	set +e
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_cleanups[$i]}"
	done
	for d in "${_rig_dirs[@]}"; do
		"$SMBRIG" stop "$d" >/dev/null 2>&1
	done
	exit "$rc"
}
trap _lib_exit EXIT
trap 'exit 130' INT TERM
[ -z "${SMBFUSE_UNIT_ONLY:-}" ] || { echo "SKIP: SMBFUSE_UNIT_ONLY is set"; exit 77; }

skip() { echo "SKIP: $*"; exit 77; }
need_root() { [ "$(id -u)" = 0 ] || skip "needs root ($*)"; }
need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "needs $c"
	done
}

# Run a command at exit (before the servers stop), e.g. an unmount.
at_exit() { _cleanups+=("$*"); }

# fuse_open_to_all: make /dev/fuse usable by every user, as a normal
# system has it, for the tests of ordinary users' mounts; the EXIT trap
# puts the old mode back.  Tests run in parallel (make check -j), so the
# old mode is kept once, in a state file shared under a lock, with one
# line per test holding it open; the last one out restores it.  A holder
# that died without its trap is pruned by PID, so a killed run cannot
# leave the device open for good.
_FUSE_STATE=${TMPDIR:-/tmp}/.smbfuse-devfuse
fuse_open_to_all() {
	(
		flock 8
		_fuse_prune
		[ -s "$_FUSE_STATE" ] || echo "mode $(stat -c %a /dev/fuse)" >"$_FUSE_STATE"
		echo "pid $$" >>"$_FUSE_STATE"
		chmod 0666 /dev/fuse
	) 8>"$_FUSE_STATE.lock"
	at_exit _fuse_release
}
_fuse_release() {
	(
		flock 8
		sed -i "/^pid $$\$/d" "$_FUSE_STATE"
		_fuse_prune
	) 8>"$_FUSE_STATE.lock"
}
# (under the lock) drop holders that are gone; with none left, restore.
_fuse_prune() {
	local k v mode="" live=()
	[ -s "$_FUSE_STATE" ] || return 0
	while read -r k v; do
		case $k in
		mode) mode=$v ;;
		pid) [ -d "/proc/$v" ] && live+=("$v") ;;
		esac
	done <"$_FUSE_STATE"
	if [ ${#live[@]} = 0 ]; then
		[ -z "$mode" ] || chmod "$mode" /dev/fuse
		rm -f "$_FUSE_STATE"
	else
		{ echo "mode $mode"; printf 'pid %s\n' "${live[@]}"; } >"$_FUSE_STATE"
	fi
}

# rig_start CONFIG: start a server; sets the RIG_* variables of smbrig
# (SMBRIG_NETNS=1 rig_start CONFIG: in a network namespace).
rig_start() {
	local out
	out=$("$SMBRIG" start "$1") || { echo "FAIL: could not start the '$1' rig" >&2; exit 1; }
	eval "$out"
	_rig_dirs+=("$RIG_DIR")
}

# rig_stop: stop the server most recently started.
rig_stop() {
	"$SMBRIG" stop "$RIG_DIR"
}

# rig_restart: kill that server and start it again (same port, share and
# password); updates RIG_PID.
rig_restart() {
	local out
	out=$("$SMBRIG" restart "$RIG_DIR") || { echo "FAIL: could not restart the rig in $RIG_DIR" >&2; exit 1; }
	eval "$out"
}

# check NAME CMD...: run one check, print ok/FAIL with its name; a failure
# is counted and the test continues so one run shows every failure.
check() {
	local name=$1
	shift
	if "$@"; then
		echo "ok - $name"
	else
		echo "FAIL - $name"
		_failures=$((_failures + 1))
	fi
}

# done_testing: exit 1 if any check failed.
done_testing() {
	if [ "$_failures" -gt 0 ]; then
		echo "$_failures check(s) failed"
		exit 1
	fi
	exit 0
}

# probe [OPTIONS...]: run smbfuse --probe against the current rig with the
# rig's credentials plus OPTIONS (a -o list); output in $PROBE_OUT, stderr
# in $PROBE_ERR, exit status in $PROBE_RC.
probe() {
	local extra=${1:-} host=${PROBE_HOST:-$RIG_ADDR} port=${PROBE_PORT:-$RIG_PORT}
	probe_run "//$host/$RIG_SHARE" "port=$port,credentials=$RIG_CREDENTIALS${extra:+,$extra}"
}

# probe_run //SERVER/SHARE OPTIONS: smbfuse --probe with exactly these
# options, run under PROBE_WRAP if set (a command, e.g. faketime); the
# same PROBE_OUT, PROBE_ERR and PROBE_RC as probe.
probe_run() {
	PROBE_RC=0
	PROBE_OUT=$(timeout 60 ${PROBE_WRAP:-} "$SMBFUSE" --probe "$1" -o "$2" 2>"$_tmp_err") ||
		PROBE_RC=$?
	PROBE_ERR=$(cat "$_tmp_err")
}

# proxy_start MODE [ARGS...]: start tests/proxy/smbtamper.py in MODE (with
# more of its arguments, e.g. --dump DIR) in front of PROXY_HOST:
# PROXY_TARGET_PORT (default: the current rig); sets PROXY_PORT,
# PROXY_PID, and PROBE_PORT so that probe goes through it.
proxy_start() {
	local mode=$1 out
	shift
	out=$(mktemp)
	python3 "$top_srcdir/tests/proxy/smbtamper.py" --target-host "${PROXY_HOST:-127.0.0.1}" \
		--target-port "${PROXY_TARGET_PORT:-$RIG_PORT}" --mode "$mode" --lifetime 300 "$@" \
		>"$out" 2>&1 &
	PROXY_PID=$!
	at_exit "kill $PROXY_PID 2>/dev/null; rm -f $out"
	for _ in $(seq 1 100); do
		grep -q '^PORT ' "$out" && break
		sleep 0.05
	done
	PROXY_PORT=$(sed -n 's/^PORT //p' "$out")
	[ -n "$PROXY_PORT" ] || { echo "proxy did not start: $(cat "$out")"; exit 1; }
	PROBE_PORT=$PROXY_PORT
}

# proxy_stop: stop the proxy proxy_start started last.
proxy_stop() {
	kill "$PROXY_PID" 2>/dev/null || true
	wait "$PROXY_PID" 2>/dev/null || true
	unset PROBE_PORT
}
_tmp_err=$(mktemp)
at_exit rm -f "$_tmp_err"

# has KEY VALUE: the last probe printed "KEY: VALUE".
has() { grep -qxF "$1: $2" <<<"$PROBE_OUT" || { echo "  want '$1: $2'; got:"; sed 's/^/    /' <<<"$PROBE_OUT$PROBE_ERR"; return 1; }; }

# failed_with TEXT: the last probe failed and its error contains TEXT.
failed_with() {
	[ "$PROBE_RC" != 0 ] && grep -qF -- "$1" <<<"$PROBE_ERR" ||
		{ echo "  want failure with '$1'; got rc=$PROBE_RC:"; sed 's/^/    /' <<<"$PROBE_OUT$PROBE_ERR"; return 1; }
}

# daemon_pid SOURCE MNT: the PID of the smbfuse daemon serving MNT, or
# nothing.  Matched on the full command line it was started with.
daemon_pid() { pgrep -nf "smbfuse $1 $2( |\$)" || true; }

# reset_conns PID: reset process PID's TCP connections to the rig (as a
# NAT box or a flaky link would), and no one else's.
reset_conns() {
	local p
	for p in $(ss -Htnp dst "$RIG_ADDR" dport = "$RIG_PORT" | grep -F "pid=$1," |
		awk '$1 == "ESTAB" { sub(/.*:/, "", $4); print $4 }'); do
		ss -K dst "$RIG_ADDR" dport = "$RIG_PORT" sport = ":$p" >/dev/null 2>&1
	done
}

# reset_during PID DAEMON [PAUSE]: while process PID runs (a copy),
# reset the daemon's connections to the rig twice, PAUSE seconds
# (default 0.4) apart; then wait up to a minute for PID to end.
reset_during() {
	local i
	for i in 1 2; do
		sleep "${3:-0.4}"
		alive "$1" || echo "  (it ended before reset $i)"
		reset_conns "$2"
	done
	for _ in $(seq 1 600); do alive "$1" || break; sleep 0.1; done
}

# mount_rig MNT [OPTIONS]: mount the current rig's share on MNT (created
# if missing) as a daemon, with the rig's credentials plus OPTIONS.  The
# EXIT trap unmounts it and makes sure the daemon is gone.  Sets
# MOUNT_PID to the daemon's PID.
mount_rig() {
	local extra=${2:-}
	mount_share "//$RIG_ADDR/$RIG_SHARE" "$1" "port=$RIG_PORT,credentials=$RIG_CREDENTIALS${extra:+,$extra}"
}

# mount_share //SERVER/SHARE MNT OPTIONS: the same with exactly these
# options.
mount_share() {
	local src=$1 mnt=$2
	mkdir -p "$mnt"
	"$SMBFUSE" "$src" "$mnt" -o "$3" || return 1
	MOUNT_PID=$(daemon_pid "$src" "$mnt")
	at_exit "umount_rig '$mnt' '$MOUNT_PID'"
	mountpoint -q "$mnt"
}

# mount_logged MNT OPTIONS LOG: mount the current rig's share on MNT with
# the daemon in the foreground as a background job, its stderr (the log)
# in LOG, for checks on what it says; the rig's credentials plus OPTIONS.
# Sets MOUNT_PID; the EXIT trap unmounts.  MOUNT_FLAGS=-v: informational
# messages too.
mount_logged() {
	local i
	mkdir -p "$1"
	: >"$3"
	# shellcheck disable=SC2086 # MOUNT_FLAGS: words, e.g. "-v"
	"$SMBFUSE" "//$RIG_ADDR/$RIG_SHARE" "$1" -f ${MOUNT_FLAGS:-} \
		-o "port=$RIG_PORT,credentials=$RIG_CREDENTIALS${2:+,$2}" 2>"$3" &
	MOUNT_PID=$!
	at_exit "umount_rig '$1' '$MOUNT_PID'"
	for i in $(seq 1 200); do
		mounted "$1" && return 0
		alive "$MOUNT_PID" || break
		sleep 0.05
	done
	echo "  mount failed: $(cat "$3")"
	return 1
}

# alive PID: the process runs (a zombie waiting for init to reap it has
# exited: PID 1 of some sandboxes reaps slowly).
alive() {
	local st
	st=$(sed -n 's/^[0-9]* ([^)]*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

# umount_rig MNT [PID]: unmount and wait for that daemon to exit.  PID
# is the daemon's, found by daemon_pid; anything else is not touched.
# mounted MNT: MNT is in the mount table.  Read from mountinfo rather
# than with mountpoint(1), whose stat() of MNT goes to the daemon and
# fails (so "not a mount point") whenever the daemon answers an error.
mounted() {
	local want
	want=$(realpath -sm "$1")
	awk -v m="$want" '$5 == m { found = 1 } END { exit !found }' /proc/self/mountinfo
}

# holders MNT: the processes with a file, directory or mapping under MNT.
holders() {
	local p m
	m=$(realpath -sm "$1")
	for p in /proc/[0-9]*; do
		if ls -l "$p/cwd" "$p/root" "$p/fd" 2>/dev/null | grep -qF -- " $m" ||
			grep -qF -- " $m" "$p/maps" 2>/dev/null; then
			printf '%s(%s) ' "${p#/proc/}" "$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null | cut -c1-60)"
		fi
	done
}

umount_rig() {
	local mnt=$1 pid=${2:-} i
	local why=""
	if mounted "$mnt"; then
		if ! why=$(fusermount3 -u "$mnt" 2>&1); then
			why="$why; held by: $(holders "$mnt")"
			umount -l "$mnt" 2>/dev/null
		fi
	fi
	case $pid in ''|*[!0-9]*|0|1) return 0 ;; esac
	for i in $(seq 1 100); do
		alive "$pid" || return 0
		sleep 0.05
	done
	echo "daemon $pid still running after unmount ($(mounted "$mnt" && echo still mounted ||
		echo not mounted)${why:+; fusermount3 -u said: $why}); its threads, in smbfuse's code:"
	# Where it is stuck, for the log: a backtrace if gdb is there.
	if command -v gdb >/dev/null 2>&1; then
		timeout 20 gdb -batch -p "$pid" -ex "thread apply all bt" 2>/dev/null |
			grep -E '^Thread|src/' | sed 's/^/    /' | head -200
	else
		for t in /proc/"$pid"/task/*; do
			echo "    $(cat "$t/comm" 2>/dev/null) $(cat "$t/wchan" 2>/dev/null)"
		done
	fi
	echo "killing it"
	kill -9 "$pid" 2>/dev/null
	return 1
}
