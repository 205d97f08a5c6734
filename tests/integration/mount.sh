#!/usr/bin/env bash
# Mounting as people do: mount -t fuse.smbfuse, an fstab line, an
# ordinary user through fusermount3, credentials from a file and from
# PASSWD; no password in /proc/PID/cmdline, /proc/PID/environ, the mount
# table or a core dump of the daemon; and every error a user can act on,
# checked by message and exit status.
. "$(dirname "$0")/lib.sh"
need_root "starts smbd, mounts, adds a test user"
need_cmd smbd fusermount3 mount runuser
[ -e /dev/fuse ] || skip "needs /dev/fuse"

work=$(mktemp -d)
chmod 0755 "$work"
at_exit rm -rf "$work"
mnt=$work/mnt
mkdir -p "$mnt"

rig_start default
echo "through the mount" >"$RIG_SHARE_DIR/hello.txt"
chown "$RIG_USER" "$RIG_SHARE_DIR/hello.txt"

# smbfuse_run ARGS...: run smbfuse; output in $OUT, status in $RC.  A
# mount that should have failed but worked is unmounted again at once.
smbfuse_run() {
	RC=0
	OUT=$("$SMBFUSE" "$@" 2>&1) || RC=$?
	if [ "$RC" = 0 ] && mountpoint -q "$mnt"; then
		umount_rig "$mnt" "$(dpid "$mnt")"
	fi
}
fails_with() {	# fails_with STATUS TEXT: the last smbfuse_run failed so
	[ "$RC" = "$1" ] && grep -qF -- "$2" <<<"$OUT" ||
		{ echo "  want status $1 and '$2'; got $RC: $OUT"; return 1; }
}
reads_hello() { [ "$(cat "$1/hello.txt" 2>/dev/null)" = "through the mount" ]; }
dpid() { daemon_pid "//$RIG_ADDR/$RIG_SHARE" "$1"; }
# unmounted MNT PID: unmount and see the daemon go.
unmounted() { umount_rig "$1" "$2" && ! mountpoint -q "$1"; }

# --- mount(8) and fstab ---------------------------------------------------------
# mount(8) runs mount.fuse3 with PATH=/sbin:/bin:/usr/sbin:/usr/bin, so
# "-t fuse.smbfuse" finds an installed smbfuse (./configure --prefix=/usr).
# The build tree's binary is named in mount.fuse3's "PROGRAM#SOURCE" form
# instead, which goes through the same helper and the same options.
if PATH=/sbin:/bin:/usr/sbin:/usr/bin command -v smbfuse >/dev/null &&
	[ "$(PATH=/sbin:/bin:/usr/sbin:/usr/bin command -v smbfuse)" -ef "$SMBFUSE" ]; then
	mtype=fuse.smbfuse msrc="//$RIG_ADDR/$RIG_SHARE"
else
	mtype=fuse msrc="$SMBFUSE#//$RIG_ADDR/$RIG_SHARE"
fi
echo "# mounting as: mount -t $mtype $msrc"
check "mount -t $mtype" mount -t "$mtype" "$msrc" "$mnt" \
	-o "port=$RIG_PORT,credentials=$RIG_CREDENTIALS,uid=1234,_netdev,nofail"
check "mount -t: files readable" reads_hello "$mnt"
check "mount -t: uid= applied" test "$(stat -c %u "$mnt/hello.txt")" = 1234
pid=$(dpid "$mnt")
# gone_after CMD...: CMD succeeds and the daemon $pid (which must have
# been found) exits.
gone_after() {
	[ -n "$pid" ] || { echo "  no daemon PID found"; return 1; }
	"$@" && for _ in $(seq 1 100); do alive "$pid" || return 0; sleep 0.05; done
	return 1
}
check "umount: mount gone, no process left" gone_after umount "$mnt"

cat >"$work/fstab" <<EOF
$msrc  $mnt  $mtype  port=$RIG_PORT,credentials=$RIG_CREDENTIALS,uid=0,_netdev,nofail,x-systemd.automount  0  0
EOF
check "mount --fstab with _netdev, nofail, x-systemd.*" mount -T "$work/fstab" "$mnt"
check "fstab mount: files readable" reads_hello "$mnt"
check "fstab mount: unmount" unmounted "$mnt" "$(dpid "$mnt")"

# --- credentials, and what the running daemon lets others see ------------------------
# hides PID FILE [TEXT]: /proc/PID/FILE (cmdline, environ) can be read and
# does not contain TEXT (default: the password).
hides() {
	local text=${3:-$RIG_PASSWORD}
	[ -n "$1" ] && [ -r "/proc/$1/$2" ] || { echo "  no daemon to look at"; return 1; }
	! tr '\0' '\n' <"/proc/$1/$2" | grep -qF -- "$text" ||
		{ echo "  /proc/$1/$2 shows it: $(tr '\0' '\n' <"/proc/$1/$2" | grep -F -- "$text")"; return 1; }
}
# mtab_hides_password: nor does the mount table (fsname= and the options
# libfuse was given).
mtab_hides_password() { ! grep -qF -- "$RIG_PASSWORD" /proc/self/mountinfo; }

check "PASSWD from the environment: mounts" env PASSWD="$RIG_PASSWORD" "$SMBFUSE" \
	"//$RIG_ADDR/$RIG_SHARE" "$mnt" -o "port=$RIG_PORT,username=$RIG_USER"
pid=$(dpid "$mnt")
at_exit "umount_rig '$mnt' '$pid'"
check "PASSWD mount: files readable" reads_hello "$mnt"
# (the daemon's other variables are still there: the file was read)
check "PASSWD mount: /proc/PID/environ readable" grep -qz '^PATH=' "/proc/${pid:-0}/environ"
check "PASSWD mount: /proc/PID/environ shows no password" hides "$pid" environ
check "PASSWD mount: unmount" unmounted "$mnt" "$pid"

# A PASSWD that password= left unused is taken out all the same.
decoy="Decoy-$RANDOM$RANDOM"
check "unused PASSWD: mounts with password=" env PASSWD="$decoy" "$SMBFUSE" \
	"//$RIG_ADDR/$RIG_SHARE" "$mnt" -o "port=$RIG_PORT,username=$RIG_USER,password=$RIG_PASSWORD"
pid=$(dpid "$mnt")
at_exit "umount_rig '$mnt' '$pid'"
check "unused PASSWD: files readable" reads_hello "$mnt"
check "unused PASSWD: not in /proc/PID/environ" hides "$pid" environ "$decoy"
check "unused PASSWD: unmount" unmounted "$mnt" "$pid"

# cmdline_case NAME ARGS...: mount with these arguments after SOURCE and
# MNT; the password they carry must show neither in /proc/PID/cmdline
# nor in the mount table.
cmdline_case() {
	local name=$1 pid
	shift
	if ! "$SMBFUSE" "//$RIG_ADDR/$RIG_SHARE" "$mnt" "$@"; then
		check "$name: mounts" false
		return
	fi
	pid=$(dpid "$mnt")
	at_exit "umount_rig '$mnt' '$pid'"
	check "$name: files readable" reads_hello "$mnt"
	check "$name: /proc/PID/cmdline shows no password" hides "$pid" cmdline
	check "$name: the mount table shows no password" mtab_hides_password
	check "$name: unmount" unmounted "$mnt" "$pid"
}
cmdline_case "-o ...,password=" -o "port=$RIG_PORT,username=$RIG_USER,password=$RIG_PASSWORD"
cmdline_case "-o password=" -o "password=$RIG_PASSWORD" -o "port=$RIG_PORT,username=$RIG_USER"
cmdline_case "-opassword= (glued)" "-opassword=$RIG_PASSWORD" -o "port=$RIG_PORT,username=$RIG_USER"
cmdline_case "-oport=...,password= (glued)" "-oport=$RIG_PORT,password=$RIG_PASSWORD,username=$RIG_USER"
cmdline_case "-o user=,password=" -o "user=$RIG_USER,password=$RIG_PASSWORD,port=$RIG_PORT"
cmdline_case "-o pass=" -o "port=$RIG_PORT,user=$RIG_USER,pass=$RIG_PASSWORD"

# --- a core dump of the daemon ------------------------------------------------------------
# The NT hash, kept for reconnecting, lives in pages marked MADV_DONTDUMP,
# and the password is wiped once the logon is done: a core of the running
# daemon holds neither (gcore leaves out the "dd" mappings, as the
# kernel's own core dumps do).  The controls: that core does hold what
# the daemon keeps in ordinary memory (the user name), and a core that
# gdb is told to take of the "dd" mappings too does hold the hash.
hex() { od -An -v -tx1 | tr -d ' \n'; }
# in_core CORE HEX: the core file holds these bytes.
in_core() {
	python3 -c 'import mmap, sys
with open(sys.argv[1], "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
	sys.exit(m.find(bytes.fromhex(sys.argv[2])) < 0)' "$1" "$2"
}
not_in_core() { ! in_core "$@"; }
# dump_core PID FILE [GDB-SETTING]: a core of PID in FILE, by gdb's gcore.
dump_core() {
	timeout 120 gdb -batch -nx -p "$1" ${3:+-ex "$3"} -ex "gcore $2" >"$2.log" 2>&1 &&
		[ -s "$2" ] || { echo "  gcore failed: $(tail -3 "$2.log")"; return 1; }
}
if ! command -v gdb >/dev/null 2>&1; then
	echo "# SKIP: the core dump checks need gdb (apt-get install gdb)"
elif grep -qa __asan_init "$SMBFUSE"; then
	# Its shadow and allocator make a core of many gigabytes, and its
	# mlock locks nothing.
	echo "# SKIP: the core dump checks, in a sanitizer build"
else
	# The hash as the server keeps it, to look for: field 4 of pdbedit -w.
	nt_hex=$(pdbedit -s "$RIG_DIR/smb.conf" -L -w -u "$RIG_USER" 2>/dev/null | cut -d: -f4 |
		tr 'A-F' 'a-f') || true
	pw_hex=$(printf '%s' "$RIG_PASSWORD" | hex)
	pw16_hex=$(printf '%s' "$RIG_PASSWORD" | iconv -f UTF-8 -t UTF-16LE | hex)
	user_hex=$(printf '%s' "$RIG_USER" | hex)
	core=$work/core
	at_exit "rm -f '$core' '$core.log'"
	check "core: mounts from a credentials file" "$SMBFUSE" "//$RIG_ADDR/$RIG_SHARE" "$mnt" \
		-o "port=$RIG_PORT,credentials=$RIG_CREDENTIALS"
	pid=$(dpid "$mnt")
	at_exit "umount_rig '$mnt' '$pid'"
	check "core: files readable" reads_hello "$mnt"
	check "core: the NT hash to look for is known" test "${#nt_hex}" = 32
	check "core: the daemon has a locked mapping left out of core dumps" \
		grep -qE '^VmFlags:( .*)? (lo( .*)? dd|dd( .*)? lo)( |$)' "/proc/${pid:-0}/smaps"
	rm -f "$core"
	check "core: gcore dumps the daemon" dump_core "$pid" "$core"
	if [ -s "$core" ]; then
		check "core: holds the user name (control)" in_core "$core" "$user_hex"
		check "core: does not hold the password" not_in_core "$core" "$pw_hex"
		check "core: nor the password in UTF-16LE" not_in_core "$core" "$pw16_hex"
		check "core: nor the NT hash" not_in_core "$core" "$nt_hex"
	fi
	rm -f "$core"
	check "core with the dd mappings: gcore dumps the daemon" \
		dump_core "$pid" "$core" "set dump-excluded-mappings on"
	if [ -s "$core" ]; then
		check "core with the dd mappings: holds the NT hash (control)" in_core "$core" "$nt_hex"
	fi
	rm -f "$core"
	check "core: unmount" unmounted "$mnt" "$pid"
fi

cp "$RIG_CREDENTIALS" "$work/open.cred"
chmod 0644 "$work/open.cred"
smbfuse_run "//$RIG_ADDR/$RIG_SHARE" "$mnt" -o "port=$RIG_PORT,credentials=$work/open.cred"
check "credentials file readable by others is refused, saying how to fix it" fails_with 2 "chmod 600"

# --- an ordinary user, through the setuid fusermount3 ----------------------------------
user=smbfuse-mnt-test
id "$user" >/dev/null 2>&1 || useradd --system --create-home --home-dir "$work/home" --shell /bin/sh "$user"
home=$(getent passwd "$user" | cut -d: -f6)
mkdir -p "$home/share" && chown "$user" "$home" "$home/share"
install -m 0600 -o "$user" "$RIG_CREDENTIALS" "$home/cred"
# As a normal system has it: /dev/fuse usable by everyone.
fuse_open_to_all
check "ordinary user mounts onto a directory they own" runuser -u "$user" -- \
	"$SMBFUSE" "//$RIG_ADDR/$RIG_SHARE" "$home/share" -o "port=$RIG_PORT,credentials=$home/cred"
check "user mount: files readable by that user" runuser -u "$user" -- cat "$home/share/hello.txt"
# (root itself may not look in: FUSE keeps other users out without allow_other)
check "user mount: owned by that user" test "$(runuser -u "$user" -- stat -c %U "$home/share/hello.txt")" = "$user"
pid=$(dpid "$home/share")
check "user mount: the daemon runs as that user" test "$(ps -o user= -p "${pid:-0}")" = "$user"
check "user mount: fusermount3 -u by the user, no process left" \
	gone_after runuser -u "$user" -- fusermount3 -u "$home/share"
if ! grep -q '^user_allow_other' /etc/fuse.conf 2>/dev/null; then
	RC=0
	OUT=$(runuser -u "$user" -- "$SMBFUSE" "//$RIG_ADDR/$RIG_SHARE" "$home/share" \
		-o "port=$RIG_PORT,credentials=$home/cred,allow_other" 2>&1) || RC=$?
	check "user + allow_other without user_allow_other: clear error" fails_with 1 "user_allow_other"
fi
umount_rig "$home/share" "$(dpid "$home/share")" >/dev/null 2>&1

# --- errors a user can act on --------------------------------------------------------------
o="port=$RIG_PORT,credentials=$RIG_CREDENTIALS"
smbfuse_run //no-such-host.invalid/share "$mnt" -o "$o"
check "error: name does not resolve" fails_with 1 "cannot resolve server name"
smbfuse_run "//$RIG_ADDR/$RIG_SHARE" "$mnt" -o "port=1,credentials=$RIG_CREDENTIALS"
check "error: port closed" fails_with 1 "refused"
# A listener that accepts and never answers: the timeout must end it.
python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(30)' >"$work/silent" &
silent_pid=$!
at_exit "kill $silent_pid 2>/dev/null"
for _ in $(seq 1 50); do [ -s "$work/silent" ] && break; sleep 0.1; done
smbfuse_run "//$RIG_ADDR/$RIG_SHARE" "$mnt" -o "port=$(cat "$work/silent"),credentials=$RIG_CREDENTIALS,timeout=2"
check "error: server does not answer within timeout=" fails_with 1 "did not answer NEGOTIATE within the timeout"
smbfuse_run "//$RIG_ADDR/$RIG_SHARE" "$mnt" -o "port=$RIG_PORT,username=$RIG_USER,password=wrong"
check "error: wrong password" fails_with 1 "wrong user name or password"
smbfuse_run "//$RIG_ADDR/nosuch" "$mnt" -o "$o"
check "error: unknown share" fails_with 1 "does not exist"
smbfuse_run "//$RIG_ADDR/denied" "$mnt" -o "$o"
check "error: access to the share denied" fails_with 1 "access to share 'denied' is denied"
smbfuse_run "//$RIG_ADDR/$RIG_SHARE" "$mnt/missing" -o "$o"
check "error: mount point missing" fails_with 1 "No such file or directory"
smbfuse_run "//$RIG_ADDR/$RIG_SHARE" "$RIG_CREDENTIALS" -o "$o"
check "error: mount point not a directory" fails_with 1 "is not a directory"
touch "$mnt/local-file"
smbfuse_run "//$RIG_ADDR/$RIG_SHARE" "$mnt" -o "$o"
check "error: mount point not empty" fails_with 1 "not empty"
rm -f "$mnt/local-file"
smbfuse_run "//$RIG_ADDR/$RIG_SHARE" "$mnt" -o "$o,frobnicate=1"
check "error: unknown option named" fails_with 2 "unknown option 'frobnicate'"
smbfuse_run "//$RIG_ADDR/$RIG_SHARE" "$mnt" -o "$o,vers=9"
check "error: bad vers= value" fails_with 2 "vers=9"
smbfuse_run "//$RIG_ADDR/$RIG_SHARE/no/such/dir" "$mnt" -o "$o"
check "error: path inside the share missing" fails_with 1 "No such file or directory"
smbpasswd -c "$RIG_DIR/smb.conf" -d "$RIG_USER" >/dev/null 2>&1
smbfuse_run "//$RIG_ADDR/$RIG_SHARE" "$mnt" -o "$o"
check "error: account disabled" fails_with 1 "disabled"
smbpasswd -c "$RIG_DIR/smb.conf" -e "$RIG_USER" >/dev/null 2>&1
rig_stop

rig_start smb21
smbfuse_run "//$RIG_ADDR/$RIG_SHARE" "$mnt" -o "port=$RIG_PORT,credentials=$RIG_CREDENTIALS,seal"
check "error: encryption required, server cannot" fails_with 1 "encryption was required (seal)"
rig_stop

rig_start smb202
smbfuse_run "//$RIG_ADDR/$RIG_SHARE" "$mnt" -o "port=$RIG_PORT,credentials=$RIG_CREDENTIALS"
check "error: no dialect in common" fails_with 1 "supports none of the dialects smbfuse offered (2.1, 3.0, 3.0.2, 3.1.1)"
rig_stop

rig_start smb1only
smbfuse_run "//$RIG_ADDR/$RIG_SHARE" "$mnt" -o "port=$RIG_PORT,credentials=$RIG_CREDENTIALS"
check "error: SMB1-only server" fails_with 1 "only offers SMB1"
rig_stop

check "no mount left behind" bash -c "! mountpoint -q '$mnt'"
done_testing
