#!/usr/bin/env bash
# A proxy of our own (tests/proxy/smbtamper.py) alters real traffic
# between smbfuse and the rig's smbd.  Untampered, everything works
# through it; each tampering must make smbfuse fail with an error that
# names the cause, against a 3.1.1 and a 3.0 server.
. "$(dirname "$0")/lib.sh"
need_root "starts smbd"
need_cmd smbd python3


# tampered MODE EXPECTED-TEXT [PROBE-OPTIONS]
tampered() {
	proxy_start "$1"
	probe "${3:-}"
	proxy_stop
	failed_with "$2"
}
untampered() {
	proxy_start pass
	probe "${1:-}"
	proxy_stop
	has dialect "$2"
}

for config in default smb30; do
	rig_start "$config"
	want=3.1.1; [ "$config" = smb30 ] && want=3.0
	check "$config: untampered through the proxy" untampered "" "$want"
	check "$config: 3.x dialects stripped from NEGOTIATE" \
		tampered strip3x "could not be validated"
	if [ "$config" = default ]; then
		# 3.1.1: the preauth hash no longer matches, so the keys differ
		# and the final SESSION_SETUP signature fails.
		check "$config: capabilities cleared" tampered clear-caps "tampered with"
		check "$config: ServerGuid altered" tampered alter-guid "tampered with"
	else
		check "$config: capabilities cleared" tampered clear-caps "could not be validated"
		check "$config: ServerGuid altered" tampered alter-guid "server GUIDs differ"
		check "$config: VALIDATE_NEGOTIATE_INFO signature stripped" \
			tampered strip-validate-sig "should be signed but is not"
		check "$config: VALIDATE_NEGOTIATE_INFO answered with unsigned ACCESS_DENIED" \
			tampered validate-denied "could not be validated"
	fi
	check "$config: connection closed after NEGOTIATE" tampered close-after:1 "closed the connection"
	check "$config: connection closed mid SESSION_SETUP" tampered close-after:2 "closed the connection"
	check "$config: server grants no credits" tampered zero-credits "granted no credits"
	rig_stop
done

# Keepalive: an idle mount sends ECHO every echo_interval seconds (seen
# in the traffic the proxy forwards).
if [ -e /dev/fuse ] && command -v fusermount3 >/dev/null; then
	rig_start default
	dump=$(mktemp -d)
	at_exit rm -rf "$dump"
	proxy_start pass --lifetime 30 --dump "$dump"
	mnt=$(mktemp -d)
	at_exit rmdir "$mnt"
	"$SMBFUSE" "//$RIG_ADDR/$RIG_SHARE" "$mnt" \
		-o "port=$PROXY_PORT,credentials=$RIG_CREDENTIALS,echo_interval=1"
	pid=$(daemon_pid "//$RIG_ADDR/$RIG_SHARE" "$mnt")
	sleep 3.5
	echoes=$(python3 -c 'import glob,struct,sys; print(sum(1 for f in glob.glob(sys.argv[1]+"/*-c.bin") if struct.unpack_from("<H", open(f,"rb").read(), 12)[0] == 13))' "$dump")
	check "keepalive: an idle mount sent ECHOs (got $echoes in 3.5 s)" test "$echoes" -ge 2
	# Large reads and writes may make smbd answer STATUS_PENDING first
	# (its async I/O, when slower than 0.5 ms); the requests must wait
	# for the final answers.
	head -c $((48 << 20)) /dev/urandom >"$RIG_SHARE_DIR/big"
	chown "$RIG_USER" "$RIG_SHARE_DIR/big"
	check "interim responses: a 48 MiB read is intact" cmp "$mnt/big" "$RIG_SHARE_DIR/big"
	check "interim responses: a 48 MiB write is intact" bash -c "cp '$RIG_SHARE_DIR/big' '$mnt/big2' && cmp '$RIG_SHARE_DIR/big' '$RIG_SHARE_DIR/big2'"
	# A LOCK that has to wait is answered STATUS_PENDING for sure (the
	# I/O above only when smbd's async I/O is slow enough): hold the
	# byte an O_APPEND write locks from another client while appending.
	printf 'x' >"$RIG_SHARE_DIR/locked"
	chown "$RIG_USER" "$RIG_SHARE_DIR/locked"
	RIG_ADDR=$RIG_ADDR RIG_PORT=$RIG_PORT RIG_SHARE=$RIG_SHARE RIG_USER=$RIG_USER \
		RIG_PASSWORD=$RIG_PASSWORD /usr/bin/python3 "$top_srcdir/tests/integration/rig_check.py" \
		hold-lock locked 2 >"$dump.hold" 2>&1 &
	holder=$!
	for _ in $(seq 1 100); do grep -q LOCKED "$dump.hold" 2>/dev/null && break; sleep 0.05; done
	check "interim responses: an append waits for another client's lock, then succeeds" \
		bash -c "echo y >>'$mnt/locked' && [ \"\$(cat '$RIG_SHARE_DIR/locked')\" = xy ]"
	wait "$holder" || true
	rm -f "$dump.hold"
	interim=$(python3 -c 'import glob,struct,sys; print(sum(1 for f in glob.glob(sys.argv[1]+"/*-s.bin") if len(open(f,"rb").read()) >= 64 and struct.unpack_from("<I", open(f,"rb").read(), 8)[0] == 0x103))' "$dump")
	echo "# $interim interim (STATUS_PENDING) responses seen"
	check "interim responses: the server did send some (saw $interim)" test "$interim" -ge 1
	umount_rig "$mnt" "$pid"
	proxy_stop
	rig_stop

	# ECHO goes out on SessionId 0, so the server answers it unsigned
	# even when the session signs everything: that must not be taken for
	# tampering (it once dropped the connection after the first ECHO).
	rig_start signing
	echo idle >"$RIG_SHARE_DIR/idle.txt"
	mnt2=$(mktemp -d)
	at_exit rmdir "$mnt2"
	check "keepalive on a signing session: mounted" mount_rig "$mnt2" echo_interval=1
	sleep 3.5
	check "keepalive on a signing session: unsigned ECHO answers keep the connection" \
		grep -qx idle "$mnt2/idle.txt"
	check "keepalive on a signing session: no connection loss" alive "$MOUNT_PID"
	umount_rig "$mnt2" "$MOUNT_PID"
	rig_stop
fi

# Leases: a file this mount holds open is changed by another client
# (smbclient); smbd breaks the mount's lease, smbfuse acknowledges it and
# drops the kernel's cached copy.
if [ -e /dev/fuse ] && command -v fusermount3 >/dev/null && command -v smbclient >/dev/null; then
	rig_start default
	echo "version one" >"$RIG_SHARE_DIR/leased.txt"
	chown "$RIG_USER" "$RIG_SHARE_DIR/leased.txt"
	dump=$(mktemp -d)
	at_exit rm -rf "$dump"
	proxy_start pass --dump "$dump"
	mnt=$(mktemp -d)
	at_exit rmdir "$mnt"
	"$SMBFUSE" "//$RIG_ADDR/$RIG_SHARE" "$mnt" -o "port=$PROXY_PORT,credentials=$RIG_CREDENTIALS"
	pid=$(daemon_pid "//$RIG_ADDR/$RIG_SHARE" "$mnt")
	at_exit "umount_rig '$mnt' $pid"
	exec 7<"$mnt/leased.txt"		# held open: the lease stays
	first=$(cat <&7)
	echo "version two, which is longer" >"$dump/v2"
	t0=$(date +%s)
	smbclient "//$RIG_ADDR/$RIG_SHARE" -p "$RIG_PORT" -A "$RIG_CREDENTIALS" -c "put $dump/v2 leased.txt" >/dev/null 2>&1
	t1=$(date +%s)
	sleep 0.5
	check "lease: first read" test "$first" = "version one"
	check "lease: the other client was not held up by the break ($((t1 - t0)) s)" test $((t1 - t0)) -lt 10
	breaks=$(python3 -c 'import glob,struct,sys
n=a=0
for f in glob.glob(sys.argv[1]+"/*.bin"):
    d=open(f,"rb").read()
    if len(d)>=64 and struct.unpack_from("<H",d,12)[0]==18:
        if f.endswith("-s.bin") and struct.unpack_from("<Q",d,24)[0]==2**64-1: n+=1
        if f.endswith("-c.bin"): a+=1
print(n, a)' "$dump")
	check "lease: a break came and was acknowledged (breaks, acks: $breaks)" bash -c "set -- $breaks; [ \$1 -ge 1 ] && [ \$2 -ge 1 ]"
	check "lease: the held file shows the other client's data" test "$(cat "$mnt/leased.txt")" = "version two, which is longer"
	exec 7<&-
	umount_rig "$mnt" "$pid"
	proxy_stop
	rig_stop
fi

rig_start signing
check "signing: untampered through the proxy" untampered "" 3.1.1
check "signing: SIGNING_REQUIRED cleared (3.1.1)" tampered clear-signing-req "tampered with"
check "signing: SIGNING_REQUIRED cleared (3.0)" tampered clear-signing-req "could not be validated" vers=3.0
check "signing: signed TREE_CONNECT response altered" tampered flip-signed:3 "bad signature"
check "signing: signed TREE_CONNECT response altered (2.1)" tampered flip-signed:3 "bad signature" vers=2.1

# Through a real mount: a READ response altered in transit must fail
# the read with EIO, and none of its bytes may reach the reader.  A small
# file's READ comes whole; a large one's data is read straight into the
# reader's buffer (conn_reader.c) and checked there.  $1: rig config,
# $2: proxy mode, $3: file size in KiB (0: one line).  The proxy alters
# the first such response of each connection: the kernel, after a
# failed read, asks again page by page, and each of those must fail too.
read_altered() {
	local config=$1 mode=$2 kib=$3 mnt pid out rc
	if [ "$kib" = 0 ]; then
		printf 'the original contents\n' >"$RIG_SHARE_DIR/file"
	else
		python3 -c 'import sys; sys.stdout.write(("the original contents\n" * 99999)[:int(sys.argv[1]) * 1024])' \
			"$kib" >"$RIG_SHARE_DIR/file"
	fi
	chown "$RIG_USER" "$RIG_SHARE_DIR/file"
	mnt=$(mktemp -d)
	at_exit rmdir "$mnt"
	proxy_start "$mode"
	"$SMBFUSE" "//$RIG_ADDR/$RIG_SHARE" "$mnt" -o "port=$PROBE_PORT,credentials=$RIG_CREDENTIALS"
	pid=$(daemon_pid "//$RIG_ADDR/$RIG_SHARE" "$mnt")
	at_exit "umount_rig '$mnt' $pid"
	out=$(mktemp)
	at_exit rm -f "$out"
	cat "$mnt/file" >"$out" 2>&1 && rc=0 || rc=$?
	check "$config READ of ${kib} KiB altered: the read fails with EIO (exit $rc)" \
		bash -c "[ $rc != 0 ] && grep -q 'Input/output error' '$out'"
	check "$config READ of ${kib} KiB altered: no tampered byte reaches the reader" \
		bash -c "! grep -q 'original' '$out'"
	umount_rig "$mnt" "$pid"
	proxy_stop
}

if [ -e /dev/fuse ] && command -v fusermount3 >/dev/null; then
	read_altered signed flip-signed:8 0
	read_altered signed flip-signed:8 512
fi
rig_stop

rig_start encrypt
if [ -e /dev/fuse ] && command -v fusermount3 >/dev/null; then
	read_altered sealed flip-sealed:1000 512
fi
rig_stop

done_testing
