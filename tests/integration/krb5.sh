#!/usr/bin/env bash
# krb5.sh - sec=krb5 against a real Samba AD domain controller (tests/rig/
# adrig, in a network namespace this test creates): tickets from kinit,
# probe and mount, signing and sealing, an ordinary user with their own
# ticket, every error a user can act on, and NTLMSSP against the same DC.
. "$(dirname "$0")/lib.sh"
need_root "the DC runs in a network namespace"
need_cmd samba samba-tool kinit klist kdestroy ip unshare fusermount3 runuser mountpoint
ADRIG="$top_srcdir/tests/rig/adrig"
: "${top_builddir:=$top_srcdir}"
export ADRIG_CACHE="$top_builddir/tests/adrig-provision.tar"

# ad_start: start a DC (ADRIG_GLOBAL may add smb.conf lines); sets AD_*.
ad_start() {
	local out
	out=$("$ADRIG" start) || { echo "FAIL: could not start the AD DC rig" >&2; exit 1; }
	eval "$out"
	at_exit "'$ADRIG' stop '$AD_DIR'"
	export KRB5_CONFIG=$AD_KRB5_CONFIG
}

# kinit_as CCACHE [kinit options...]: a ticket for the test user.
kinit_as() {
	local cc=$1
	shift
	printf '%s\n' "$AD_PASS" | KRB5CCNAME=$cc kinit "$@" "$AD_USER" >/dev/null
}

# kprobe OPTIONS: smbfuse --probe against the DC (no password anywhere).
kprobe() { probe_run "//$AD_ADDR/$AD_SHARE" "$1"; }

ad_start
work=$(mktemp -d)
at_exit "rm -rf '$work'"
chmod 755 "$work"
export KRB5CCNAME=FILE:$work/cc.alice
check "kinit as a domain user" kinit_as "$KRB5CCNAME"

# --- probe ----------------------------------------------------------------------------
kprobe sec=krb5
check "krb5: session is Kerberos as the ticket's principal" has session "krb5 alice@$AD_REALM"
check "krb5: dialect 3.1.1" has dialect 3.1.1
check "krb5: signed (the DC requires it), keys from the Kerberos session key" \
	grep -qE '^signing: (AES-128-GMAC|AES-128-CMAC)$' <<<"$PROBE_OUT"
check "krb5: 3.1.1 preauth integrity" has secure_negotiate preauth-integrity
check "krb5: the service ticket is for cifs/<address>" \
	grep -q "cifs/$AD_ADDR@" <(klist 2>/dev/null)

kprobe sec=krb5,seal
check "krb5 + seal: encrypted" grep -qE '^encryption: AES-(128|256)-(GCM|CCM)$' <<<"$PROBE_OUT$PROBE_ERR"
for v in 3.0 3.02 2.1; do
	kprobe "sec=krb5,vers=$v"
	check "krb5 vers=$v: logged on, negotiation validated (signed with the krb5 key)" \
		eval 'has session "krb5 alice@$AD_REALM" && has secure_negotiate validated'
done
kprobe "sec=krb5,spn=cifs/$AD_DC_NAME"
check "spn= names the service principal explicitly" has session "krb5 alice@$AD_REALM"
kprobe "sec=krb5,spn=cifs@$AD_DC_NAME"
check "spn= as service@host" has session "krb5 alice@$AD_REALM"
kprobe "sec=krb5,krb5ccname=$KRB5CCNAME"
check "krb5ccname= names the cache" has session "krb5 alice@$AD_REALM"

# --- mount ----------------------------------------------------------------------------
mnt=$work/mnt
mkdir -p "$mnt"
mount_krb5() { mount_share "//$AD_ADDR/$AD_SHARE" "$1" "$2"; }
# file_ops DIR: write, read back, stat, rename, mkdir, list, remove.
file_ops() {
	local d=$1
	head -c 300000 /dev/urandom >"$work/data" &&
		cp "$work/data" "$d/data" &&
		cmp "$work/data" "$d/data" &&
		[ "$(stat -c %s "$d/data")" = 300000 ] &&
		mv "$d/data" "$d/moved" &&
		mkdir "$d/dir" && echo hello >"$d/dir/f" &&
		[ "$(ls "$d/dir")" = f ] && [ "$(cat "$d/dir/f")" = hello ] &&
		rm "$d/dir/f" && rmdir "$d/dir" && rm "$d/moved" &&
		[ -z "$(ls -A "$d")" ]
}
check "mount with sec=krb5" mount_krb5 "$mnt" sec=krb5
check "krb5 mount: write, read, stat, rename, mkdir, remove" file_ops "$mnt"
echo from-alice >"$mnt/owner-check"
# The server created the file as the domain user (an idmap uid), which
# shows the session is alice's, not a guest's or root's.
check "krb5 mount: files are created as the domain user on the server" \
	test "$(stat -c %u "$AD_SHARE_DIR/owner-check")" -ge 3000000
rm -f "$mnt/owner-check"
# Reconnect: the connection reset under the mount; it logs on again with
# a ticket from the cache, and an open descriptor reads on.
# krb5_reset_check NAME: the current mount survives ss -K.
krb5_reset_check() {
	echo "kept across reconnects" >"$mnt/kept"
	exec 7<"$mnt/kept"
	check "$1: the mount's connection to the DC was reset" \
		bash -c "ss -HK dst '$AD_ADDR' dport = 445 2>/dev/null | grep -q ."
	check "$1: after a reset, file operations work again" file_ops_soon "$mnt"
	check "$1: after a reset, an open descriptor still reads" \
		bash -c "[ \"\$(cat <&7)\" = 'kept across reconnects' ]"
	exec 7<&-
	rm -f "$mnt/kept"
}
# file_ops_soon DIR: file_ops succeeds within 20 s (the reconnect).
file_ops_soon() {
	local i
	for i in $(seq 1 40); do
		[ -e "$1/kept" ] && file_ops_but_kept "$1" && return 0
		sleep 0.5
	done
	return 1
}
file_ops_but_kept() {
	rm -rf "$1/sub"; mkdir "$1/sub" && file_ops "$1/sub" && rmdir "$1/sub"
}
krb5_reset_check "krb5"
umount_rig "$mnt" "$MOUNT_PID"

# Multichannel with Kerberos: the second channel authenticates with a
# service ticket of its own, and its signing key comes from that.
mclog=$work/mc.log
"$SMBFUSE" "//$AD_ADDR/$AD_SHARE" "$mnt" -f -v -o sec=krb5,max_channels=2 2>"$mclog" &
mcpid=$!
at_exit "umount_rig '$mnt' '$mcpid'"
for _ in $(seq 1 100); do mounted "$mnt" && break; sleep 0.1; done
bound_krb5() { grep -q "multichannel: bound a channel to" "$mclog"; }
for _ in $(seq 1 100); do bound_krb5 && break; sleep 0.1; done
check "krb5 + max_channels=2: a second channel is bound" bound_krb5
check "krb5 + max_channels=2: two connections to the DC" \
	test "$(ss -Htnp state established dst "$AD_ADDR" dport = 445 | grep -c "pid=$mcpid,")" = 2
check "krb5 + max_channels=2: write, read, stat, rename, mkdir, remove" file_ops "$mnt"
check "krb5 + max_channels=2: unmounted, the daemon gone" umount_rig "$mnt" "$mcpid"
[ "$_failures" = 0 ] || { echo "# multichannel daemon log:"; sed 's/^/#   /' "$mclog"; }

check "mount with sec=krb5,seal" mount_krb5 "$mnt" sec=krb5,seal
check "krb5 + seal mount: write, read, stat, rename, mkdir, remove" file_ops "$mnt"
krb5_reset_check "krb5 + seal"
umount_rig "$mnt" "$MOUNT_PID"

# --- an ordinary user with their own ticket, in the default cache ---------------------
user=smbfuse-krb-test
id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent \
	--shell /bin/sh "$user"
uid=$(id -u "$user")
umnt=$work/user-mnt
mkdir -p "$umnt" && chown "$user" "$umnt"
fuse_open_to_all
# Their default cache (FILE:/tmp/krb5cc_UID, as krb5.conf leaves it).
at_exit "runuser -u '$user' -- env -u KRB5CCNAME KRB5_CONFIG='$KRB5_CONFIG' kdestroy -q 2>/dev/null"
as_user() { runuser -u "$user" -- env -u KRB5CCNAME KRB5_CONFIG="$KRB5_CONFIG" "$@"; }
check "ordinary user: kinit into their default cache" \
	sh -c "printf '%s\n' \"\$1\" | runuser -u '$user' -- env -u KRB5CCNAME KRB5_CONFIG='$KRB5_CONFIG' kinit '$AD_USER' >/dev/null" sh "$AD_PASS"
check "ordinary user mounts with sec=krb5" \
	as_user "$SMBFUSE" "//$AD_ADDR/$AD_SHARE" "$umnt" -o sec=krb5
upid=$(daemon_pid "//$AD_ADDR/$AD_SHARE" "$umnt")
at_exit "umount_rig '$umnt' '$upid'"
check "ordinary user: the daemon runs as that user" \
	test "$(stat -c %u "/proc/$upid" 2>/dev/null)" = "$uid"
check "ordinary user: write and read back through the mount" \
	as_user sh -c "echo mine >'$umnt/user-file' && test \"\$(cat '$umnt/user-file')\" = mine && rm '$umnt/user-file'"
check "ordinary user: fusermount3 -u, no process left" \
	sh -c "runuser -u '$user' -- fusermount3 -u '$umnt' && ! mountpoint -q '$umnt'"
umount_rig "$umnt" "$upid"

# --- multiuser: root mounts with alice's ticket; a local user logs on with their own -----
# smbfuse-krb-test gets a ticket for the domain's other user (websvc) in
# their default cache; a second local user has none, then points
# KRB5CCNAME at root's cache (which they may not read).
user2=smbfuse-krb-test2
id "$user2" >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent \
	--shell /bin/sh "$user2"
uid2=$(id -u "$user2")
# Their default cache, from an earlier run that was killed, goes first.
runuser -u "$user2" -- env -u KRB5CCNAME KRB5_CONFIG="$KRB5_CONFIG" kdestroy -q 2>/dev/null || true
at_exit "runuser -u '$user2' -- env -u KRB5CCNAME KRB5_CONFIG='$KRB5_CONFIG' kdestroy -q 2>/dev/null"
check "ordinary user: kinit as $AD_USER2 into their default cache" \
	sh -c "printf '%s\n' \"\$1\" | runuser -u '$user' -- env -u KRB5CCNAME KRB5_CONFIG='$KRB5_CONFIG' kinit '$AD_USER2' >/dev/null" sh "$AD_PASS2"
mmnt=$work/multi
mkdir -p "$mmnt"
mlog=$work/multi.log
"$SMBFUSE" "//$AD_ADDR/$AD_SHARE" "$mmnt" -f -v -o sec=krb5,multiuser 2>"$mlog" &
mpid=$!
at_exit "umount_rig '$mmnt' '$mpid'"
for _ in $(seq 1 100); do mounted "$mmnt" && break; sleep 0.1; done
check "multiuser: mounted with root's (alice's) ticket" mounted "$mmnt"
echo by-root >"$mmnt/mu-root"
check "multiuser: $user writes with their own ticket" \
	as_user sh -c "echo by-user >'$mmnt/mu-user'"
check "multiuser: the log says they logged on as $AD_USER2" \
	grep -q "multiuser: uid $uid logged on to $AD_ADDR as $AD_USER2@$AD_REALM" "$mlog"
check "multiuser: the two files have different owners on the server" \
	test "$(stat -c %u "$AD_SHARE_DIR/mu-root")" != "$(stat -c %u "$AD_SHARE_DIR/mu-user")"
check "multiuser: $user2 (no ticket) is refused: Permission denied" \
	sh -c "! runuser -u '$user2' -- env -u KRB5CCNAME ls '$mmnt' >/dev/null 2>'$work/mu.err' && grep -q 'Permission denied' '$work/mu.err'"
check "... the log says to run kinit" grep -q "uid $uid2 ($user2): .*kinit" "$mlog"
sleep 3.2	# past the retry interval
check "multiuser: $user2 naming root's cache in KRB5CCNAME is refused" \
	sh -c "! runuser -u '$user2' -- env KRB5CCNAME='$KRB5CCNAME' KRB5_CONFIG='$KRB5_CONFIG' ls '$mmnt' >/dev/null 2>&1"
check "... and nothing was created as alice for them" \
	sh -c "! runuser -u '$user2' -- env KRB5CCNAME='$KRB5CCNAME' touch '$mmnt/mu-stolen' 2>/dev/null && ! test -e '$AD_SHARE_DIR/mu-stolen'"
sleep 3.2
# user2_kinit [OPTIONS]: a ticket for alice in user2's default cache.
user2_kinit() {
	printf '%s\n' "$AD_PASS" | runuser -u "$user2" -- env -u KRB5CCNAME KRB5_CONFIG="$KRB5_CONFIG" \
		kinit "$@" "$AD_USER" >/dev/null
}
as_user2() { runuser -u "$user2" -- env -u KRB5CCNAME KRB5_CONFIG="$KRB5_CONFIG" "$@"; }
user2_in() { user2_kinit "$@" && as_user2 ls "$mmnt" >/dev/null; }
# A ten-second service ticket: the server ends that user's session when
# it expires, and only that user's.
check "multiuser: after kinit (a 10 s ticket), $user2 is in without a remount" \
	user2_in -S "cifs/$AD_ADDR@$AD_REALM" -l 10s
for _ in $(seq 1 30); do as_user2 klist -s || break; sleep 1; done
sleep 1
err=$(as_user2 ls "$mmnt" 2>&1 >/dev/null || true)
check "multiuser: $user2's ticket expired: 'Key has expired' (got: $err)" grep -q "Key has expired" <<<"$err"
check "... while $user (their own ticket) reads on" test "$(as_user cat "$mmnt/mu-user")" = by-user
check "... and root too" test "$(cat "$mmnt/mu-root")" = by-root
check "multiuser: after a fresh kinit, $user2 is back" \
	user2_in
rm -f "$mmnt/mu-root" "$AD_SHARE_DIR/mu-user"
check "multiuser: unmounted, the daemon gone" umount_rig "$mmnt" "$mpid"
[ "$_failures" = 0 ] || { echo "# multiuser daemon log:"; sed 's/^/#   /' "$mlog"; }

# --- errors a user can act on ---------------------------------------------------------
KRB5CCNAME=FILE:$work/none kprobe sec=krb5
check "no ticket: says run kinit" failed_with "run kinit"
check "no ticket: names the cache it looked in" failed_with "FILE:$work/none"
kprobe "sec=krb5,krb5ccname=FILE:$work/none2"
check "krb5ccname= to an empty cache: says run kinit" failed_with "run kinit"
mkdir -p "$work/nomnt"
rc=0
KRB5CCNAME=FILE:$work/none "$SMBFUSE" "//$AD_ADDR/$AD_SHARE" "$work/nomnt" -o sec=krb5 \
	2>"$work/nomnt.err" || rc=$?
check "no ticket: mount fails with the same message, nothing mounted" \
	sh -c "[ $rc != 0 ] && grep -q 'run kinit' '$work/nomnt.err' && ! mountpoint -q '$work/nomnt'"

kprobe sec=krb5,spn=cifs/nosuch.smbfuse.test
check "unknown service principal: says so and suggests spn=" failed_with "knows no service principal cifs/nosuch.smbfuse.test"
kprobe "sec=krb5,spn=$AD_OTHER_SPN"
check "ticket for another account's SPN: the server refuses it, naming the SPN" \
	failed_with "refused the Kerberos ticket of alice@$AD_REALM for $AD_OTHER_SPN"
kprobe sec=krb5,spn=nonsense
check "malformed spn= is refused" failed_with "spn=nonsense"

# KDC unreachable: only a TGT in the cache, and krb5.conf pointing the
# realm at a port where nothing listens.
kinit_as "FILE:$work/cc.tgt"
sed "s/kdc = .*/kdc = 127.0.0.1:9/" "$AD_KRB5_CONFIG" >"$work/krb5-nokdc.conf"
KRB5_CONFIG=$work/krb5-nokdc.conf KRB5CCNAME=FILE:$work/cc.tgt kprobe sec=krb5
check "KDC unreachable: says so, naming the realm" failed_with "cannot reach a Kerberos KDC for realm $AD_REALM"

# An expired ticket: a ten-second one, then wait until klist agrees it
# has expired.
kinit_as "FILE:$work/cc.short" -l 10s
for _ in $(seq 1 30); do
	KRB5CCNAME=FILE:$work/cc.short klist -s || break
	sleep 1
done
KRB5CCNAME=FILE:$work/cc.short kprobe sec=krb5
check "expired ticket: says so and to run kinit" failed_with "has expired: run kinit"

# --- tampering between smbfuse and the DC ---------------------------------------------
# smbtamper.py on loopback forwards to the DC; the ticket is for the DC's
# name, so spn= says which.
tampered_krb5() {
	local mode=$1 want=$2
	PROXY_HOST=$AD_ADDR PROXY_TARGET_PORT=445 proxy_start "$mode" --lifetime 30
	probe_run "//127.0.0.1/$AD_SHARE" "port=$PROXY_PORT,sec=krb5,spn=cifs/$AD_ADDR"
	proxy_stop
	if [ "$mode" = pass ]; then
		has session "krb5 alice@$AD_REALM"
	else
		failed_with "$want"
	fi
}
check "through the proxy unchanged: Kerberos logon works" tampered_krb5 pass ""
check "a server that never sends its AP-REP is refused (mutual authentication)" \
	tampered_krb5 drop-ap-rep "without proving its own identity"
check "an altered AP-REP is refused" tampered_krb5 flip-signed:1 "Kerberos answer does not verify"

# --- the session expires with the ticket; a fresh ticket revives the mount -------------
# A ten-second service ticket (kinit -S, no TGT): the DC ends the session
# when it expires.  Until a fresh ticket is in the cache, file operations
# fail with EKEYEXPIRED and the mount stays; then the next one
# re-authenticates on the same session and goes on.
# parallel_reads FILE TEXT: eight concurrent readers all see TEXT.
parallel_reads() {
	local pids=() p ok=0
	for _ in 1 2 3 4 5 6 7 8; do
		grep -qx "$2" "$1" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do
		wait "$p" || ok=1
	done
	return $ok
}
for extra in "" ",seal"; do
	cc=FILE:$work/cc.svc$extra
	emnt=$work/mnt-expiry$extra
	kinit_as "$cc" -S "cifs/$AD_ADDR@$AD_REALM" -l 10s
	echo "survives expiry" >"$AD_SHARE_DIR/expiry.txt"
	# In the foreground, so that its log can be shown if a check fails.
	mkdir -p "$emnt"
	KRB5CCNAME=$cc "$SMBFUSE" "//$AD_ADDR/$AD_SHARE" "$emnt" -o "sec=krb5,actimeo=0$extra" -d \
		>"$work/expiry$extra.log" 2>&1 &
	epid=$!
	at_exit "umount_rig '$emnt' '$epid'"
	for _ in $(seq 1 100); do mountpoint -q "$emnt" && break; sleep 0.1; done
	check "expiry$extra: mounted with a ten-second ticket" mountpoint -q "$emnt"
	check "expiry$extra: readable before" grep -qx "survives expiry" "$emnt/expiry.txt"
	for _ in $(seq 1 30); do
		KRB5CCNAME=$cc klist -s || break
		sleep 1
	done
	sleep 1
	err=$(cat "$emnt/expiry.txt" 2>&1 || true)
	check "expiry$extra: without a fresh ticket, 'Key has expired' (got: $err)" \
		grep -q "Key has expired" <<<"$err"
	check "expiry$extra: the mount stays" alive "$epid"
	kinit_as "$cc" -S "cifs/$AD_ADDR@$AD_REALM" -l 10m
	check "expiry$extra: after kinit, eight readers at once all read through the same mount" \
		parallel_reads "$emnt/expiry.txt" "survives expiry"
	check "expiry$extra: and writes (the session kept its keys)" \
		sh -c "echo again >'$emnt/expiry2.txt' && grep -qx again '$AD_SHARE_DIR/expiry2.txt'"
	check "expiry$extra: unmounted, the daemon gone" umount_rig "$emnt" "$epid"
	[ "$_failures" = 0 ] || { echo "# daemon log (last 60 lines):"; tail -60 "$work/expiry$extra.log" | sed 's/^/#   /'; }
	rm -f "$AD_SHARE_DIR/expiry.txt" "$AD_SHARE_DIR/expiry2.txt"
done

# Clock skew: smbfuse run ten minutes ahead (libfaketime), once with only
# a TGT (the KDC refuses the TGS request) and once with the service
# ticket already cached (the server refuses the AP-REQ).
if command -v faketime >/dev/null 2>&1; then
	# faketime is an LD_PRELOAD library; a sanitizer build must be told
	# that its runtime need not come first.
	skewed="env ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 faketime -f +10m"
	kinit_as "FILE:$work/cc.skew"
	KRB5CCNAME=FILE:$work/cc.skew PROBE_WRAP=$skewed kprobe sec=krb5
	check "clock skew at the KDC: says the clocks differ" failed_with "clocks of this machine"
	KRB5CCNAME=FILE:$work/cc.skew kprobe sec=krb5
	KRB5CCNAME=FILE:$work/cc.skew PROBE_WRAP=$skewed kprobe sec=krb5
	check "clock skew at the server: says the clocks differ" failed_with "clocks of this machine"
else
	echo "# faketime not installed: clock skew not tested"
fi

# A standalone Samba (no realm) offers only NTLMSSP.
rig_start default
probe_run "//$RIG_ADDR/$RIG_SHARE" "port=$RIG_PORT,sec=krb5"
check "sec=krb5 against a server without Kerberos: says so, suggests sec=ntlmssp" \
	failed_with "does not offer Kerberos"
rig_stop

# --- NTLMSSP against the same DC ------------------------------------------------------
printf 'username=%s\npassword=%s\ndomain=%s\n' "$AD_USER" "$AD_PASS" "$AD_DOMAIN" >"$work/cred"
chmod 600 "$work/cred"
kprobe "credentials=$work/cred"
check "NTLMSSP with domain=: a domain user logs on" has session "ntlmssp $AD_DOMAIN\\$AD_USER"
check "NTLMSSP against the DC: signed" grep -qE '^signing: AES' <<<"$PROBE_OUT"
kprobe "user=$AD_USER,domain=$AD_DOMAIN,password=wrong-$RANDOM"
check "NTLMSSP, wrong password for a domain user: logon failed" failed_with "wrong user name or password"

# --- a 256-bit cipher: the whole 32-byte Kerberos session key ----------------------------
ADRIG_GLOBAL="server smb3 encryption algorithms = AES-256-GCM" ad_start
kprobe sec=krb5,seal
check "krb5 + AES-256-GCM: encrypted with a key from all 32 bytes" has encryption AES-256-GCM
check "mount with sec=krb5,seal over AES-256-GCM" mount_krb5 "$work/mnt256" sec=krb5,seal
check "AES-256-GCM mount: write, read, stat, rename, mkdir, remove" file_ops "$work/mnt256"
umount_rig "$work/mnt256" "$MOUNT_PID"

# --- the rig leaves nothing behind ----------------------------------------------------
n=$(cat "$AD_DIR/index")
# samba renames its processes, so they are found by the files they hold.
holds_files() { [ -n "$(holders "$1")" ]; }
check "the running DC is seen by the files it holds (so the check below can fail)" \
	holds_files "$AD_DIR"
"$ADRIG" stop "$AD_DIR"
check "adrig stop: its network namespace is gone" sh -c "! ip netns list | grep -qw 'smbfuse-ad$n'"
check "adrig stop: its veth is gone" sh -c "! ip link show 'adrig$n' >/dev/null 2>&1"
check "adrig stop: no process of it is left" eval '! holds_files "$AD_DIR"'
check "adrig stop: its directory is gone" test ! -e "$AD_DIR"

done_testing
