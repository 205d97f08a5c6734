#!/usr/bin/env bash
# The rig itself, checked with Samba's own client: every named
# configuration starts, serves its share and implies what its name says.
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

# The value testparm reads for an smb.conf parameter of the running rig.
param() { testparm -s --parameter-name="$1" "$RIG_DIR/smb.conf" 2>/dev/null; }

# true iff smbclient's login with these arguments fails with LOGON_FAILURE.
logon_refused() {
	local out
	out=$(smbc "$@" -c ls) && return 1
	[[ $out == *NT_STATUS_LOGON_FAILURE* ]]
}

# true iff smbclient (default floor SMB2_02) cannot connect at all.
smb2_refused() { ! smbc -A "$RIG_CREDENTIALS" -c ls >/dev/null; }

for config in default smb202 smb21 smb30 smb302 signing encrypt bench; do
	rig_start "$config"
	check "$config: put/get round trip" roundtrip -A "$RIG_CREDENTIALS"
	check "$config: IPv6 listener" bash -c "smbclient //rig/$RIG_SHARE -I ::1 -p $RIG_PORT -A $RIG_CREDENTIALS -c ls >/dev/null 2>&1"
	check "$config: wrong password refused" logon_refused -U "$RIG_USER%not-the-password"
	case $config in
	default|signing|encrypt|bench) want=SMB3_11 ;;
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

done_testing
