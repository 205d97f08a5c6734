#!/usr/bin/env bash
# Every file operation through a real mount (tests/integration/fs_ops.py)
# and the fsx-style data-integrity exerciser (fsx.py; FSX_OPS=N for a
# longer run), against the default (3.1.1), smb21, smb30 and encrypt
# configurations; and that unmounting leaves no process behind.
. "$(dirname "$0")/lib.sh"
need_root "starts smbd and mounts"
need_cmd smbd python3 fusermount3
[ -e /dev/fuse ] || skip "needs /dev/fuse"

mnt=$(mktemp -d)
at_exit rmdir "$mnt"
quick=""
[ -n "${SMBFUSE_QUICK:-}" ] && quick=--quick

for config in ${FS_CONFIGS:-default smb21 smb30 encrypt}; do
	rig_start "$config"
	check "$config: mount" mount_rig "$mnt"
	if mountpoint -q "$mnt"; then
		echo "# fs_ops.py on $config"
		if python3 "$top_srcdir/tests/integration/fs_ops.py" "$mnt" "$RIG_SHARE_DIR" $quick; then
			echo "ok - $config: fs_ops"
		else
			echo "FAIL - $config: fs_ops"
			_failures=$((_failures + 1))
		fi
		check "$config: fsx ${FSX_OPS:-1500} operations" \
			python3 "$top_srcdir/tests/integration/fsx.py" "$mnt/fsx.dat" --ops "${FSX_OPS:-1500}"
		check "$config: unmount leaves no process" umount_rig "$mnt" "$MOUNT_PID"
	fi
	rig_stop
done
done_testing
