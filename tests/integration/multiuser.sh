#!/usr/bin/env bash
# multiuser.sh - -o multiuser: one mount (by root), several local users,
# each on an SMB session of their own with their own credentials, so that
# the server decides what each may do: files they create are theirs on
# the server, a file another user may not read stays closed to them, a
# user without credentials is refused (and the log says why), a fixed
# credentials file takes effect without a remount, and an idle user's
# session is logged off and comes back when needed.
. "$(dirname "$0")/lib.sh"
need_root "starts smbd, mounts as root, adds local users"
need_cmd smbd smbpasswd fusermount3 runuser useradd usermod ss
[ -e /dev/fuse ] || skip "needs /dev/fuse"

work=$(mktemp -d)
chmod 0755 "$work"
at_exit rm -rf "$work"
mnt=$work/mnt
log=$work/daemon.log

rig_start default
export MOUNT_FLAGS=-v	# logons and logoffs are informational messages
# Everyone may create files in the share's root (on the server's disk).
chmod 1777 "$RIG_SHARE_DIR"

# Three local users; the first two are Samba users with passwords of
# their own, the third has none.  Homes under $work (set again for an
# account an earlier run left).
users=(smbfuse-mu1 smbfuse-mu2 smbfuse-mu3)
for u in "${users[@]}"; do
	(
		flock 9
		id "$u" >/dev/null 2>&1 ||
			useradd --system --no-create-home --home-dir /nonexistent --shell /bin/sh "$u"
	) 9>/tmp/.smbfuse-mu-useradd.lock
	mkdir -p "$work/home-$u"
	chown "$u" "$work/home-$u"
	usermod -d "$work/home-$u" "$u" 2>/dev/null || true
done
mu1=${users[0]} mu2=${users[1]} mu3=${users[2]}
declare -A pass
for u in "$mu1" "$mu2"; do
	pass[$u]="Mu-$(head -c 9 /dev/urandom | od -An -tx1 | tr -d ' \n')"
	printf '%s\n%s\n' "${pass[$u]}" "${pass[$u]}" |
		smbpasswd -c "$RIG_DIR/smb.conf" -s -a "$u" >/dev/null
done
# credfile USER [PASSWORD]: that user's credentials file, as the
# template below names it, owned by them and private.
creds=$work/creds
mkdir -p "$creds" && chmod 0755 "$creds"
credfile() {
	printf 'username=%s\npassword=%s\n' "$1" "${2:-${pass[$1]}}" >"$creds/$1.cred"
	chown "$1" "$creds/$1.cred"
	chmod 0600 "$creds/$1.cred"
}
credfile "$mu1"
credfile "$mu2"
as() { local u=$1; shift; runuser -u "$u" -- "$@"; }
owner_on_server() { stat -c %U "$RIG_SHARE_DIR/$1" 2>/dev/null; }

# --- options that cannot work ---------------------------------------------------------
# refused OPTIONS TEXT [as USER]: smbfuse refuses to mount, saying TEXT.
refused() {
	local out rc=0
	if [ -n "${3:-}" ]; then
		out=$(runuser -u "$3" -- "$SMBFUSE" "//$RIG_ADDR/$RIG_SHARE" "$work/nomnt" \
			-o "port=$RIG_PORT,$1" 2>&1) || rc=$?
	else
		out=$("$SMBFUSE" "//$RIG_ADDR/$RIG_SHARE" "$work/nomnt" \
			-o "port=$RIG_PORT,credentials=$RIG_CREDENTIALS,$1" 2>&1) || rc=$?
	fi
	[ "$rc" != 0 ] && grep -qF -- "$2" <<<"$out" ||
		{ echo "  want a failure saying '$2'; got $rc: $out"; return 1; }
}
mkdir -p "$work/nomnt"
check "user_credentials= without multiuser is refused" \
	refused "user_credentials=/etc/x/%u" "add -o multiuser"
check "user_credentials= must be absolute or under ~/" \
	refused "multiuser,user_credentials=creds/%u" "absolute path"
check "an unknown % in user_credentials= is refused" \
	refused "multiuser,user_credentials=/x/%z" "%z"
check "multiuser with a guest logon is refused" refused "multiuser,guest" "same rights"
check "multiuser by an ordinary user is refused" \
	refused "multiuser,username=x,password=y" "multiuser needs root" "$mu1"

# --- one mount, three users -------------------------------------------------------------
check "mount -o multiuser" mount_logged "$mnt" \
	"multiuser,user_credentials=$creds/%u.cred,user_idle=2" "$log"
check "root: writes on the mount's own session" sh -c "echo root >'$mnt/by-root'"
check "root's file is the mount user's on the server" test "$(owner_on_server by-root)" = "$RIG_USER"
check "$mu1 writes a file" as "$mu1" sh -c "echo one >'$mnt/by-mu1'"
check "... it is $mu1's on the server" test "$(owner_on_server by-mu1)" = "$mu1"
check "$mu2 writes a file" as "$mu2" sh -c "echo two >'$mnt/by-mu2'"
check "... it is $mu2's on the server" test "$(owner_on_server by-mu2)" = "$mu2"
check "the log says who logged on" grep -q "multiuser: uid $(id -u "$mu1") logged on to .* as .*$mu1" "$log"
check "$mu1 makes a directory; $mu2 lists it" \
	sh -c "runuser -u '$mu1' -- mkdir '$mnt/d1' && runuser -u '$mu2' -- ls '$mnt/d1' >/dev/null"
check "... the directory is $mu1's" test "$(owner_on_server d1)" = "$mu1"

# A file only its owner may read, by the server's rules.
as "$mu1" sh -c "echo secret >'$mnt/private'"
chmod 0600 "$RIG_SHARE_DIR/private"
check "$mu1 reads their private file" test "$(as "$mu1" cat "$mnt/private")" = secret
check "$mu2 may not read it: Permission denied" \
	sh -c "! runuser -u '$mu2' -- cat '$mnt/private' 2>'$work/err' && grep -q 'Permission denied' '$work/err'"
check "... nor overwrite it" \
	sh -c "! runuser -u '$mu2' -- sh -c 'echo x >\"$mnt/private\"' 2>/dev/null"
check "... and the server still holds $mu1's text" test "$(cat "$RIG_SHARE_DIR/private")" = secret

# A file one user has open for writing is not changed through that
# user's handle by another: mu2 may not set the times of mu1's file.
as "$mu1" sh -c "echo kept >'$mnt/held-open'"
chmod 0644 "$RIG_SHARE_DIR/held-open"
as "$mu1" sh -c "exec 3>>'$mnt/held-open'; sleep 3" &
opener=$!
sleep 0.5
before=$(stat -c %Y "$RIG_SHARE_DIR/held-open")
check "$mu2 may not set the times of $mu1's file while $mu1 has it open" \
	sh -c "! runuser -u '$mu2' -- touch -d 2001-01-01 '$mnt/held-open' 2>/dev/null"
check "... and the server's times are unchanged" test "$(stat -c %Y "$RIG_SHARE_DIR/held-open")" = "$before"
wait "$opener" || true

# What one user's session saw answers no other user: a directory only
# its owner may enter, looked into by them, then at once (well within
# actimeo) by the other user.
as "$mu1" sh -c "mkdir '$mnt/closed' && echo inside >'$mnt/closed/f'"
chmod 0700 "$RIG_SHARE_DIR/closed"
check "$mu1 lists and stats inside their closed directory" \
	as "$mu1" sh -c "ls '$mnt/closed' >/dev/null && stat '$mnt/closed/f' >/dev/null"
check "... $mu2 right after: stat of a name in it is refused, not served from a cache" \
	sh -c "! runuser -u '$mu2' -- stat '$mnt/closed/f' >/dev/null 2>'$work/err' && grep -q 'Permission denied' '$work/err'"
check "... nor told which names are not there" \
	sh -c "! runuser -u '$mu2' -- stat '$mnt/closed/nothing' >/dev/null 2>'$work/err' && grep -q 'Permission denied' '$work/err'"
check "... while $mu1 still gets in" as "$mu1" stat "$mnt/closed/f" >/dev/null

# A user with no credentials file: refused, and the log says why.
mu3uid=$(id -u "$mu3")
check "$mu3 (no credentials) is refused: Permission denied" \
	sh -c "! runuser -u '$mu3' -- ls '$mnt' >/dev/null 2>'$work/err' && grep -q 'Permission denied' '$work/err'"
check "... the log names the user and the missing file" \
	grep -q "multiuser: uid $mu3uid ($mu3): .*$creds/$mu3.cred.*access refused" "$log"
check "... $mu3 cannot create a file either" \
	sh -c "! runuser -u '$mu3' -- touch '$mnt/by-mu3' 2>/dev/null && ! test -e '$RIG_SHARE_DIR/by-mu3'"

# The file is there but readable by others: refused as a credentials
# file is.
printf 'username=%s\npassword=x\n' "$mu3" >"$creds/$mu3.cred"
chown "$mu3" "$creds/$mu3.cred"
chmod 0644 "$creds/$mu3.cred"
sleep 3.2	# past the retry interval of a failed logon
check "$mu3 with a world-readable credentials file: refused" \
	sh -c "! runuser -u '$mu3' -- ls '$mnt' >/dev/null 2>&1"
check "... the log says how to fix it" grep -q "uid $mu3uid ($mu3): .*chmod 600" "$log"

# A file of someone else's: refused too (a user may not use another's).
install -m 0600 -o "$mu1" "$creds/$mu1.cred" "$creds/$mu3.cred"
sleep 3.2
check "$mu3 with a credentials file owned by another user: refused" \
	sh -c "! runuser -u '$mu3' -- ls '$mnt' >/dev/null 2>&1"

# The server refuses the password.
smb3pass="Mu-$(head -c 9 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n%s\n' "$smb3pass" "$smb3pass" | smbpasswd -c "$RIG_DIR/smb.conf" -s -a "$mu3" >/dev/null
credfile "$mu3" "not-the-password"
sleep 3.2
check "$mu3 with a wrong password: refused" \
	sh -c "! runuser -u '$mu3' -- ls '$mnt' >/dev/null 2>&1"
check "... the log says the server refused the logon" \
	grep -qiE "uid $mu3uid \($mu3\): .*(logon failure|password)" "$log"

# Fixed: in effect without a remount.
credfile "$mu3" "$smb3pass"
sleep 3.2
check "$mu3 with the right password: in, without a remount" \
	as "$mu3" sh -c "echo three >'$mnt/by-mu3'"
check "... and the file is $mu3's" test "$(owner_on_server by-mu3)" = "$mu3"

# --- idle sessions ----------------------------------------------------------------------
# conns: the daemon's TCP connections to the server.
conns() { ss -Htnp state established dst "$RIG_ADDR" dport = "$RIG_PORT" | grep -c "pid=$MOUNT_PID," || true; }
wait_for() {	# wait_for SECONDS CMD...: until CMD succeeds
	local i
	for i in $(seq 1 $(($1 * 10))); do "${@:2}" && return 0; sleep 0.1; done
	return 1
}
# logged_since LINE TEXT: the log says TEXT after its line LINE.
logged_since() { tail -n "+$(($1 + 1))" "$log" | grep -q "$2"; }
check "an idle user's session is logged off (user_idle=2)" \
	wait_for 10 logged_since 0 "multiuser: uid $mu3uid logged off (idle)"
check "only the mount's own connection is left" wait_for 5 eval '[ "$(conns)" = 1 ]'
start=$(wc -l <"$log")
# Both users hold a file open while their connections are counted (an
# open file keeps its user's session); mu1 lets go after 2 s, mu2 holds
# on across mu1's idle time and reads through the descriptor after.
as "$mu1" sh -c "exec 3<'$mnt/by-mu1'; sleep 2" &
holder1=$!
as "$mu2" sh -c "exec 3<'$mnt/by-mu2'; sleep 6; cat <&3" >"$work/held" 2>&1 &
holder=$!
check "two users active: a connection each, and the mount's" wait_for 5 eval '[ "$(conns)" = 3 ]'
wait "$holder1" || true
check "$mu1, idle, is logged off" \
	wait_for 10 logged_since "$start" "multiuser: uid $(id -u "$mu1") logged off (idle)"
check "... and that connection closed" wait_for 5 eval '[ "$(conns)" = 2 ]'
wait "$holder" || true
held=$(wc -l <"$log")
check "a session with an open file is kept: the descriptor reads after 6 s" \
	test "$(cat "$work/held")" = two
check "... and was not logged off while it was open" \
	sh -c "! sed -n '$((start + 1)),${held}p' '$log' | grep -q 'uid $(id -u "$mu2") logged off'"
check "a logged-off user comes back on next use" test "$(as "$mu1" cat "$mnt/by-mu1")" = one

# --- the default template: ~/.smbcredentials --------------------------------------------
umount_rig "$mnt" "$MOUNT_PID"
install -m 0600 -o "$mu1" "$creds/$mu1.cred" "$work/home-$mu1/.smbcredentials"
check "mount -o multiuser (credentials in ~/.smbcredentials)" mount_logged "$mnt" multiuser "$log"
check "$mu1 writes with the credentials in their home" as "$mu1" sh -c "echo home >'$mnt/home-mu1'"
check "... as $mu1 on the server" test "$(owner_on_server home-mu1)" = "$mu1"
check "$mu2 (no ~/.smbcredentials) is refused" \
	sh -c "! runuser -u '$mu2' -- ls '$mnt' >/dev/null 2>&1"
check "unmount" fusermount3 -u "$mnt"
for _ in $(seq 1 100); do alive "$MOUNT_PID" || break; sleep 0.05; done
check "... no process left, no sanitizer report" \
	sh -c "! kill -0 $MOUNT_PID 2>/dev/null && ! grep -q Sanitizer '$log'"
done_testing
