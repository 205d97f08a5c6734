#!/usr/bin/env bash
# multichannel.sh - -o max_channels=2 against a Samba with two
# interfaces: the rig's network namespace reached over two veth pairs
# (10.98.N.0/30, which smbrig makes, and 10.96.N.0/30, made here).  The
# mount binds a second channel to the second address, I/O goes over
# both connections and every byte stays right; cutting either link
# during a large read leaves the read correct and the mount working,
# and the channel is bound again once the link is back; with sign and
# with seal the same, every channel signing or sealing.
. "$(dirname "$0")/lib.sh"
need_root "network namespaces, smbd, mounts"
need_cmd smbd ip ss nsenter sha256sum fusermount3
[ -e /dev/fuse ] || skip "needs /dev/fuse"

work=$(mktemp -d)
at_exit "rm -rf '$work'"
mnt=$work/mnt
log=$work/daemon.log
export MOUNT_FLAGS=-v

SMBRIG_NETNS=1 rig_start default
n=${RIG_NETNS#smbfuse-rig}
ADDR2=10.96.$n.1 HOST2=10.96.$n.2 VETH2=smbmc$n
# The second link: host side $VETH2, namespace side mc1.  Like smbrig's,
# an "unreachable" route keeps traffic of a cut link on this machine.
ip route add unreachable "10.96.$n.0/30" metric 4242
at_exit "ip route del unreachable '10.96.$n.0/30' metric 4242 2>/dev/null"
ip link add "$VETH2" type veth peer name mc1 netns "$RIG_NETNS"
at_exit "ip link del '$VETH2' 2>/dev/null"
ip addr add "$HOST2/30" dev "$VETH2"
ip link set "$VETH2" up
ip -n "$RIG_NETNS" addr add "$ADDR2/30" dev mc1
ip -n "$RIG_NETNS" link set mc1 up
# Samba serves and reports both addresses (with a speed: veth has none).
sed -i "s|^\tinterfaces = .*|\tinterfaces = \"$RIG_ADDR;speed=10000000000\" \"$ADDR2;speed=10000000000\"|" \
	"$RIG_DIR/smb.conf"
rig_restart
for _ in $(seq 1 100); do
	nsenter --net="/run/netns/$RIG_NETNS" ss -Hltn "sport = :$RIG_PORT" | grep -qF "$ADDR2:" && break
	sleep 0.1
done

head -c 64M /dev/urandom >"$work/big"
cp "$work/big" "$RIG_SHARE_DIR/big"
chown "$RIG_USER" "$RIG_SHARE_DIR/big"
want=$(sha256sum <"$work/big")

probe
check "probe: the server offers multichannel" has multichannel yes
check "probe: both interfaces are reported" \
	eval 'has interface "$RIG_ADDR (10 Gbit/s)" && has interface "$ADDR2 (10 Gbit/s)"'
probe max_channels=2
check "probe max_channels=2: the session gets two channels" has channels 2

# conns: the daemon's established connections to the server, as
# "address bytes_received" lines.
conns() {
	ss -Htnpi state established "( dport = :$RIG_PORT )" |
		awk -v pid="pid=$MOUNT_PID," '
			/^[0-9]/ || /^ *[0-9]+ +[0-9]+ / { peer = $4; mine = index($0, pid) > 0; next }
			mine { if (match($0, /bytes_received:[0-9]+/)) print peer, substr($0, RSTART + 15, RLENGTH - 15); mine = 0 }'
}
nconns() { conns | wc -l; }
wait_for() {	# wait_for SECONDS CMD...: until CMD succeeds
	local i
	for i in $(seq 1 $(($1 * 10))); do "${@:2}" && return 0; sleep 0.1; done
	return 1
}
bound() { [ "$(grep -c "multichannel: bound a channel to $1" "$log")" -ge "$2" ]; }
read_ok() {	# read_ok: the big file reads back right through the mount
	echo 3 >/proc/sys/vm/drop_caches
	[ "$(sha256sum <"$mnt/big")" = "$want" ]
}
# busy_on ADDR: the connection to ADDR has received more than 1 MiB.
busy_on() { conns | awk -v a="$1" 'index($1, a ":") == 1 && $2 > 1048576 { ok = 1 } END { exit !ok }'; }

# read_across_cut LINK WHAT: read the big file while LINK goes down
# (after 0.3 s, so mid-read); the read must succeed with every byte right.
read_across_cut() {
	local rc
	echo 3 >/proc/sys/vm/drop_caches
	(sha256sum <"$mnt/big" >"$work/sum") &
	reader=$!
	sleep 0.3
	ip link set "$1" down
	wait "$reader" && rc=0 || rc=$?
	check "$2: the read during it succeeds" test "$rc" = 0
	check "... every byte right" test "$(cat "$work/sum")" = "$want"
}

for mode in plain sign seal; do
	opts="max_channels=2,echo_interval=2,timeout=5"
	[ "$mode" = plain ] || opts="$opts,$mode"
	check "$mode: mount with max_channels=2" mount_logged "$mnt" "$opts" "$log"
	check "$mode: a second channel is bound to the second address" wait_for 10 bound "$ADDR2" 1
	check "$mode: two connections, one to each address" \
		eval '[ "$(nconns)" = 2 ] && conns | grep -q "^$RIG_ADDR:" && conns | grep -q "^$ADDR2:"'
	check "$mode: a 64 MiB file reads back right" read_ok
	check "$mode: written through the mount, the server holds every byte" \
		eval 'cp "$work/big" "$mnt/copy" && sync -f "$mnt" && cmp -s "$work/big" "$RIG_SHARE_DIR/copy"'
	check "$mode: I/O went over both connections" eval 'busy_on "$RIG_ADDR" && busy_on "$ADDR2"'
	echo "# $mode: bytes received per connection: $(conns | tr '\n' ' ')"
	if [ "$mode" = plain ]; then
		# Cut the second link during a large read: the channel on it
		# dies (no answer to its ECHO), its requests go again on the
		# first, and the read is right.
		read_across_cut "$VETH2" "cut second link"
		check "... the log says the channel was lost" \
			wait_for 20 grep -q "channel to $ADDR2 lost" "$log"
		check "... the mount works on: write and read back" \
			eval 'echo after-cut >"$mnt/after" && [ "$(cat "$mnt/after")" = after-cut ]'
		ip link set "$VETH2" up
		check "... link back: the channel is bound again" wait_for 90 bound "$ADDR2" 2
		# A listing while a link is cut and its channel not yet known
		# dead: what is stuck on it goes again elsewhere (or, for a
		# QUERY_DIRECTORY continuation, the listing starts again), and
		# no name is missed.  (Which of the two happens depends on
		# which request the channel got first: the count says.)
		mkdir "$RIG_SHARE_DIR/many"
		(cd "$RIG_SHARE_DIR/many" && seq -f 'file-%05g' 1 20000 | xargs touch)
		chown -R "$RIG_USER" "$RIG_SHARE_DIR/many"
		ip link set "$VETH2" down
		count=$(ls -f "$mnt/many" | grep -c '^file-' || true)
		check "cut second link: a listing of 20000 names across it misses none (got $count)" \
			test "$count" = 20000
		echo "# the listing started again $(grep -c 'listing /many again' "$log") time(s)"
		ip link set "$VETH2" up
		check "... link back: bound again" wait_for 90 bound "$ADDR2" 3
		rm -rf "$RIG_SHARE_DIR/many"
		# Now the first link: the bound channel takes over, without a
		# reconnect of the session.
		read_across_cut "$RIG_VETH" "cut first link"
		check "... the channel on it is dropped" wait_for 20 grep -q "channel to $RIG_ADDR lost" "$log"
		check "... and the session lives on: no reconnect" \
			sh -c "! grep -q 'reconnecting' '$log'"
		check "... the mount works on" \
			eval 'echo after-cut2 >"$mnt/after" && [ "$(cat "$mnt/after")" = after-cut2 ]'
		ip link set "$RIG_VETH" up
		check "... link back: a channel is bound to the first address again" \
			wait_for 90 bound "$RIG_ADDR" 1
	fi
	rm -f "$mnt/copy" "$mnt/after"
	check "$mode: unmount leaves no process, no sanitizer report" \
		eval 'umount_rig "$mnt" "$MOUNT_PID" && ! grep -qE "Sanitizer|runtime error" "$log"'
	[ "$_failures" = 0 ] || { echo "# daemon log:"; sed 's/^/#   /' "$log" | tail -30; }
done
done_testing
