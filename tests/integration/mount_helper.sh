#!/usr/bin/env bash
# mount(8)'s helper: "mount -t smbfuse", "mount -t fuse.smbfuse" and fstab
# lines of type smbfuse, as root and (with "user") as an ordinary user,
# through mount.smbfuse / mount.fuse.smbfuse as make install puts them.
#
# The system's /sbin and /etc/fstab are not touched: the checks run in a
# mount namespace of their own, where a directory holding the helpers
# (and links to everything else of /usr/sbin) is bound over /usr/sbin and
# a test fstab over /etc/fstab.
. "$(dirname "$0")/lib.sh"
need_root "starts smbd, mounts, adds a test user"
need_cmd smbd fusermount3 mount umount unshare runuser useradd
[ -e /dev/fuse ] || skip "needs /dev/fuse"

work=$(mktemp -d)
chmod 0755 "$work"
at_exit rm -rf "$work"

rig_start default
echo "through mount(8)" >"$RIG_SHARE_DIR/hello.txt"
chown "$RIG_USER" "$RIG_SHARE_DIR/hello.txt"

user=smbfuse-helper-test
id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent --shell /bin/sh "$user"
at_exit "userdel '$user' 2>/dev/null"
mkdir -p "$work/root-mnt" "$work/user-mnt" "$work/sbin" "$work/orig-sbin"
chown "$user" "$work/user-mnt"
install -m 0600 -o "$user" "$RIG_CREDENTIALS" "$work/user.cred"
fuse_open_to_all

for f in /usr/sbin/*; do ln -s "$work/orig-sbin/${f##*/}" "$work/sbin/"; done
ln -sf "$SMBFUSE" "$work/sbin/mount.smbfuse"
ln -sf "$SMBFUSE" "$work/sbin/mount.fuse.smbfuse"
cat >"$work/fstab" <<EOF
//$RIG_ADDR/$RIG_SHARE $work/user-mnt smbfuse noauto,user,_netdev,nofail,port=$RIG_PORT,credentials=$work/user.cred 0 0
EOF

# What runs inside the namespace; it prints ok/FAIL lines like check.
export work user RIG_ADDR RIG_SHARE RIG_PORT RIG_CREDENTIALS
cat >"$work/inner.sh" <<'EOF'
set -u
fails=0
t() {
	local name=$1
	shift
	if "$@"; then echo "ok - $name"; else echo "FAIL - $name"; fails=$((fails + 1)); fi
}
# Copies of other tests' FUSE mounts would keep their daemons alive.
awk '$3 ~ /^fuse/ { print $2 }' /proc/self/mounts | while read -r m; do umount -l "$m"; done
mount --bind /usr/sbin "$work/orig-sbin"
mount --bind "$work/sbin" /usr/sbin
mount --bind "$work/fstab" /etc/fstab

src=//$RIG_ADDR/$RIG_SHARE
creds=port=$RIG_PORT,credentials=$RIG_CREDENTIALS
reads() { [ "$(cat "$1/hello.txt" 2>/dev/null)" = "through mount(8)" ]; }
field() { awk -v m="$1" -v f="$2" '$2 == m { print $f }' /proc/self/mounts; }
has_flag() { field "$1" 4 | tr , '\n' | grep -qx "$2"; }
daemon() { pgrep -f "smbfuse $src $1" | head -1; }
gone() {
	local i
	for i in $(seq 1 100); do [ -z "$(daemon "$1")" ] && return 0; sleep 0.05; done
	return 1
}
umounted() { umount "$1" && gone "$1"; }
refused() { [ "$rc" != 0 ] && grep -q "$1" <<<"$out"; }
not_mounted() { ! mountpoint -q "$1"; }

m=$work/root-mnt
t "mount -t smbfuse, fstab-only options given too" \
	mount -t smbfuse "$src" "$m" -o "$creds,_netdev,nofail,x-systemd.automount"
t "mount -t smbfuse: the share reads" reads "$m"
t "mount -t smbfuse: the mount table says fuse.smbfuse" test "$(field "$m" 3)" = fuse.smbfuse
t "umount, and the daemon exits" umounted "$m"

t "mount -t fuse.smbfuse through mount.fuse.smbfuse" mount -t fuse.smbfuse "$src" "$m" -o "$creds,noexec"
t "mount -t fuse.smbfuse: the share reads" reads "$m"
t "noexec reaches the kernel" has_flag "$m" noexec
umounted "$m"

out=$(mount -t smbfuse "$src" "$m" -o "$creds,bogus=1" 2>&1) && rc=0 || rc=$?
t "an unknown option is refused, by name" refused "unknown option 'bogus'"
mountpoint -q "$m" && umounted "$m"
t "mount -s (sloppy): an unknown option is only warned about" \
	mount -s -t smbfuse "$src" "$m" -o "$creds,bogus=1"
t "mount -s: the share reads" reads "$m"
mountpoint -q "$m" && umounted "$m"
t "the helper's own -f (fake) checks and mounts nothing" \
	/usr/sbin/mount.smbfuse "$src" "$m" -f -o "$creds"
t "... nothing mounted" not_mounted "$m"

# An fstab "user" line, mounted and unmounted by an ordinary user.
u=$work/user-mnt
t "fstab user mount by an ordinary user: mount DIR" runuser -u "$user" -- mount "$u"
t "fstab user mount: the user reads the share" runuser -u "$user" -- cat "$u/hello.txt"
t "fstab user mount: the daemon runs as that user" test "$(ps -o user= -p "$(daemon "$u")")" = "$user"
t "fstab user mount: 'user' implies noexec" has_flag "$u" noexec
t "fstab user mount: ... nosuid and nodev" bash -c "grep -F ' $u ' /proc/self/mounts | grep -q nosuid,nodev"
t "fstab user mount: the user unmounts it" runuser -u "$user" -- fusermount3 -u "$u"
t "fstab user mount: the daemon exits" gone "$u"
mountpoint -q "$u" && umount -l "$u"
mountpoint -q "$m" && umount -l "$m"
exit "$fails"
EOF
if unshare -m --propagation private bash "$work/inner.sh"; then
	:
else
	_failures=$((_failures + $?))
fi
done_testing
