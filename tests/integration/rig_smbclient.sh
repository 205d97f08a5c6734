#!/usr/bin/env bash
# The rig itself, checked with Samba's own client: every named
# configuration starts, serves its share and implies what its name says;
# "durable" and SMBRIG_NETNS also with smbtorture and impacket
# (rig_check.py): durable handles come back, a link cut is no reset.
# When this fails, the rig is broken, not smbfuse.
. "$(dirname "$0")/lib.sh"
need_root "starts smbd"
need_cmd smbclient smbd

tmp=$(mktemp -d)
at_exit rm -rf "$tmp"
echo "rig check $$" >"$tmp/upload"

smbc() { smbclient "//$RIG_ADDR/$RIG_SHARE" -p "$RIG_PORT" "$@" 2>&1; }

# Put a file, list it, get it back byte for byte.
roundtrip() {
	rm -f "$tmp/download"
	smbc "$@" -c "put $tmp/upload up.txt; get up.txt $tmp/download" >"$tmp/out" || { cat "$tmp/out"; return 1; }
	cmp -s "$tmp/upload" "$tmp/download" || { cat "$tmp/out"; return 1; }
}

# The dialect smbclient ended up with, as Samba names it (SMB3_11 ...).
negotiated() {
	local out
	out=$(smbc -A "$RIG_CREDENTIALS" -d 4 -c ls) || return 0
	sed -n 's/.*negotiated dialect\[\([A-Z0-9_]*\)\].*/\1/p' <<<"$out" | sed -n 1p
}

# The value testparm reads for an smb.conf parameter of the running rig
# ([global], or the section SECTION).
param() { testparm -s ${2:+--section-name="$2"} --parameter-name="$1" "$RIG_DIR/smb.conf" 2>/dev/null; }

# true iff smbclient's login with these arguments fails with LOGON_FAILURE.
logon_refused() {
	local out
	out=$(smbc "$@" -c ls) && return 1
	[[ $out == *NT_STATUS_LOGON_FAILURE* ]]
}

# true iff smbclient (default floor SMB2_02) cannot connect at all.
smb2_refused() { ! smbc -A "$RIG_CREDENTIALS" -c ls >/dev/null; }

# The file roundtrip put is still there, byte for byte.
fetched() {
	rm -f "$tmp/download"
	smbc -A "$RIG_CREDENTIALS" -c "get up.txt $tmp/download" >"$tmp/out" || { cat "$tmp/out"; return 1; }
	cmp -s "$tmp/upload" "$tmp/download" || { cat "$tmp/out"; return 1; }
}

# torture TEST: smbtorture's TEST against the current rig passes.
torture() {
	timeout 60 smbtorture "//$RIG_ADDR/$RIG_SHARE" -p "$RIG_PORT" -U "$RIG_USER%$RIG_PASSWORD" "$1" \
		>"$tmp/torture" 2>&1 || { grep -v '^time:' "$tmp/torture"; return 1; }
}

# The namespace, veth pair and route of the netns rig just stopped are
# gone.  A rig started meanwhile may have taken the same index: its
# namespace is another one (another inode), its veth has another ifindex.
net_gone() {
	local i
	for i in /sys/class/net/*/ifindex; do
		[ "$(cat "$i")" != "$veth_index" ] || { echo "  ${i%/ifindex} is still there"; return 1; }
	done
	if [ -e "/run/netns/$netns" ]; then
		[ "$(stat -L -c %i "/run/netns/$netns")" != "$ns_id" ] || { echo "  $netns is still there"; return 1; }
	elif ip route show | grep -F "$net."; then
		return 1
	fi
}

# rig_check ARGS: tests/integration/rig_check.py against the current rig,
# with impacket (Debian's python3, where python3-impacket installs it).
PY=/usr/bin/python3
have_impacket() { "$PY" -c 'import impacket' 2>/dev/null; }
rig_check() {
	RIG_ADDR=$RIG_ADDR RIG_PORT=$RIG_PORT RIG_SHARE=$RIG_SHARE RIG_USER=$RIG_USER \
		RIG_PASSWORD=$RIG_PASSWORD timeout 60 "$PY" "$top_srcdir/tests/integration/rig_check.py" "$@"
}
# maybe NAME WHY-NOT CMD...: check NAME unless WHY-NOT is non-empty.
maybe() {
	if [ -n "$2" ]; then
		echo "skip - $1 ($2)"
	else
		local name=$1
		shift 2
		check "$name" "$@"
	fi
}
no_impacket=$(have_impacket || echo "needs python3-impacket")

# The durable configuration: a durable handle with a byte-range lock
# comes back after the client's connection was reset (in the default
# configuration the smbd child panics), checked with smbtorture too;
# restart keeps port, password and share contents.
durable_checks() {
	local old_pid=$RIG_PID old_port=$RIG_PORT
	check "durable: posix locking = no" test "$(param 'posix locking' "$RIG_SHARE")" = No
	maybe "durable: locked durable v2 handle survives ss -K" "$no_impacket" \
		rig_check durable reset --lock
	maybe "durable: smbtorture smb2.durable-open.lock-lease" \
		"$(command -v smbtorture >/dev/null || echo "needs samba-testsuite")" \
		torture smb2.durable-open.lock-lease
	rig_restart
	check "restart: a new smbd on the same port" \
		eval 'test "$RIG_PID" != "$old_pid" && test "$RIG_PORT" = "$old_port" && ! kill -0 "$old_pid" 2>/dev/null'
	check "restart: the file put before is still there" fetched
}

for config in default smb202 smb21 smb30 smb302 signing encrypt bench durable; do
	rig_start "$config"
	check "$config: put/get round trip" roundtrip -A "$RIG_CREDENTIALS"
	check "$config: IPv6 listener" bash -c "smbclient //rig/$RIG_SHARE -I ::1 -p $RIG_PORT -A $RIG_CREDENTIALS -c ls >/dev/null 2>&1"
	check "$config: wrong password refused" logon_refused -U "$RIG_USER%not-the-password"
	case $config in
	default|signing|encrypt|bench|durable) want=SMB3_11 ;;
	smb202) want=SMB2_02 ;;
	smb21)  want=SMB2_10 ;;
	smb30)  want=SMB3_00 ;;
	smb302) want=SMB3_02 ;;
	esac
	got=$(negotiated)
	check "$config: negotiates $want (got ${got:-nothing})" test "$got" = "$want"
	case $config in
	signing) check "signing: server signing = mandatory (testparm: required)" test "$(param "server signing")" = required ;;
	encrypt) check "encrypt: server smb encrypt = required" test "$(param 'server smb encrypt')" = required ;;
	bench)   check "bench: share is on tmpfs" test "$(stat -f -c %T "$RIG_SHARE_DIR")" = tmpfs ;;
	durable) durable_checks ;;
	esac
	rig_stop
done

rig_start guest
check "guest: anonymous put/get round trip" roundtrip -N
rig_stop

rig_start smb1only
check "smb1only: refused by an SMB2+ client" smb2_refused
check "smb1only: served over NT1" roundtrip -A "$RIG_CREDENTIALS" \
	--option='client min protocol=NT1' --option='client max protocol=NT1'
rig_stop

# SMBRIG_NETNS: smbd in a namespace of its own, on the far end of a veth
# pair that a test can cut without an RST; stop leaves nothing behind.
if ! command -v ip >/dev/null || ! command -v nsenter >/dev/null; then
	echo "skip - netns (needs ip and nsenter)"
else
	SMBRIG_NETNS=1 rig_start durable
	check "netns: put/get round trip on $RIG_ADDR:$RIG_PORT" roundtrip -A "$RIG_CREDENTIALS"
	check "netns: smbd listens in $RIG_NETNS only" \
		eval '[ -z "$(ss -Hltnp | grep "pid=$RIG_PID,")" ] && ip netns identify "$RIG_PID" | grep -qx "$RIG_NETNS"'
	check "netns: smbd shares the test's mount namespace" \
		test "$(readlink "/proc/$RIG_PID/ns/mnt")" = "$(readlink /proc/self/ns/mnt)"
	maybe "netns: a request sent into a 3 s cut of $RIG_VETH is answered on the same connection" \
		"$no_impacket" rig_check linkcut "$RIG_VETH" 3
	maybe "netns: locked durable v2 handle survives ss -K" "$no_impacket" \
		rig_check durable reset --lock
	netns=$RIG_NETNS net=${RIG_ADDR%.1}
	ns_id=$(stat -L -c %i "/run/netns/$netns")
	veth_index=$(cat "/sys/class/net/$RIG_VETH/ifindex")
	rig_stop
	check "netns: stop removes namespace, veth pair and route" net_gone
	check "netns: a second stop is a no-op" "$SMBRIG" stop "$RIG_DIR"
fi

done_testing
