/*
 * mount_helper.h - smbfuse run as mount(8)'s helper.  mount -t smbfuse
 * (or an fstab line of type smbfuse) runs /sbin/mount.smbfuse, and
 * mount -t fuse.smbfuse runs /sbin/mount.fuse.smbfuse; both are links to
 * smbfuse.  mount(8) calls a helper as
 *
 *     mount.TYPE SOURCE DIR [-s] [-f] [-n] [-v] [-o OPTIONS] [-t TYPE] [-N NS]
 *
 * with the real user id of whoever ran mount (for an fstab "user" mount,
 * that user).  OPTIONS carries fstab's options too (_netdev, nofail,
 * user, noauto...), which smbfuse accepts and passes on where they mean
 * something to the kernel (noexec, nosuid, nodev).
 */
#ifndef SMBFUSE_MOUNT_HELPER_H
#define SMBFUSE_MOUNT_HELPER_H

#include <stdbool.h>

#define HELPER_ERRLEN 256

/* argv[0] names a mount helper (mount.smbfuse, mount.fuse.smbfuse). */
bool mount_helper_invoked(const char *argv0);

struct helper_args {
	int argc;
	char **argv;		/* smbfuse's own command line: argv0 SOURCE DIR [-o OPTIONS] */
	bool fake;		/* -f: check everything, mount nothing */
	bool sloppy;		/* -s: unknown options are ignored, not refused */
	bool verbose;		/* -v */
};

/* Translate mount(8)'s command line.  -EINVAL with err set for one that
 * is not of that form (a namespace, -N, is refused: smbfuse cannot mount
 * into another one). */
int mount_helper_args(int argc, char **argv, struct helper_args *h, char err[HELPER_ERRLEN]);
void mount_helper_free(struct helper_args *h);

#endif
