#!/usr/bin/env bash
# A second, independent server: impacket's smbserver.py (2.0.2 only, with
# its own quirks).  smbfuse must work against it too.
. "$(dirname "$0")/lib.sh"
need_cmd python3 ss
SERVER=/usr/share/doc/python3-impacket/examples/smbserver.py
[ -f "$SERVER" ] || skip "needs python3-impacket"
/usr/bin/python3 -c 'import impacket' 2>/dev/null || skip "needs python3-impacket"

dir=$(mktemp -d)
at_exit rm -rf "$dir"
mkdir "$dir/share"
echo "hello from impacket" >"$dir/share/hello.txt"
pass="Imp-$$-$RANDOM"
for _ in 1 2 3 4 5; do
	port=$(( 20000 + RANDOM % 40000 ))
	[ -z "$(ss -Hltn "sport = :$port")" ] || continue
	/usr/bin/python3 "$SERVER" -smb2support -ip 127.0.0.1 -port "$port" \
		-username alice -password "$pass" SHARE "$dir/share" >"$dir/server.log" 2>&1 &
	server_pid=$!
	at_exit "kill $server_pid 2>/dev/null; wait $server_pid 2>/dev/null"
	for _ in $(seq 1 200); do
		[ -n "$(ss -Hltn "sport = :$port")" ] && break
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.05
	done
	[ -n "$(ss -Hltn "sport = :$port")" ] && break
done
[ -n "$(ss -Hltn "sport = :$port")" ] || { echo "impacket server did not start:"; cat "$dir/server.log"; exit 1; }

printf 'username=alice\npassword=%s\n' "$pass" >"$dir/cred"
chmod 600 "$dir/cred"
RIG_ADDR=127.0.0.1 RIG_PORT=$port RIG_SHARE=SHARE RIG_CREDENTIALS=$dir/cred

probe vers=2.0
check "impacket: probe with vers=2.0" has dialect 2.0.2
check "impacket: named session" has session "ntlmssp alice"
probe vers=2.0,sign
check "impacket: signing on request" has signing HMAC-SHA256
probe
check "impacket: 2.0.2 answer to a 2.1+ offer is refused with a hint" failed_with "vers=2.0"
probe "vers=2.0,username=alice,password=wrong"
check "impacket: wrong password" failed_with "wrong user name or password"

# A basic mount and read (needs root for the mount).
if [ "$(id -u)" = 0 ] && [ -e /dev/fuse ] && command -v fusermount3 >/dev/null; then
	mnt=$dir/mnt
	mkdir -p "$mnt"
	check "impacket: mount with vers=2.0" "$SMBFUSE" "//127.0.0.1/SHARE" "$mnt" \
		-o "port=$port,credentials=$dir/cred,vers=2.0"
	pid=$(daemon_pid //127.0.0.1/SHARE "$mnt")
	at_exit "umount_rig '$mnt' $pid"
	check "impacket: read a file" test "$(cat "$mnt/hello.txt" 2>&1)" = "hello from impacket"
	check "impacket: list the share" bash -c "ls '$mnt' | grep -qx hello.txt"
	check "impacket: write a new file" bash -c "echo written >'$mnt/new.txt'"
	check "impacket: the server holds it" test "$(cat "$dir/share/new.txt" 2>&1)" = written
	# unlink is CREATE(FILE_DELETE_ON_CLOSE) + CLOSE: a server must
	# honour the create option, not only SET_INFO(disposition).
	check "impacket: unlink" rm "$mnt/new.txt"
	check "impacket: gone on the server" test ! -e "$dir/share/new.txt"
	# (Not a non-empty rmdir: impacket deletes a directory marked for
	# deletion with shutil.rmtree, contents and all, where Samba and
	# Windows answer DIRECTORY_NOT_EMPTY; fs.sh checks that on Samba.)
	check "impacket: mkdir" mkdir "$mnt/sub"
	check "impacket: rmdir" rmdir "$mnt/sub"
	check "impacket: the directory is gone on the server" test ! -e "$dir/share/sub"
	check "impacket: unmount" umount_rig "$mnt" "$pid"
fi

done_testing
