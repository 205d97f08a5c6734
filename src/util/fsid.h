/*
 * fsid.h - act on files as another user, in this thread only.
 *
 * A multiuser mount's daemon runs as root and reads each user's own
 * credentials (a Kerberos cache, a credentials file).  It must read
 * them with that user's rights, not root's: a path a user names (say in
 * KRB5CCNAME) must not let them read someone else's cache.  Linux's
 * file system uid and gid are per thread (setfsuid(2) is a plain system
 * call, unlike setuid, which glibc applies to every thread), and a
 * thread whose fsuid is not 0 loses the capabilities that override
 * file permissions; they come back when it returns to 0.  Supplementary
 * groups stay root's, which is why a credentials file is also checked
 * for its owner.
 */
#ifndef SMBFUSE_FSID_H
#define SMBFUSE_FSID_H

#include <stdbool.h>
#include <sys/types.h>

struct fsid_saved {
	uid_t uid;
	gid_t gid;
	bool changed;
};

/* Switch this thread's file system ids to uid/gid.  0, or -EPERM when
 * the switch did not take (not root).  A no-op for the ids it has. */
int fsid_enter(uid_t uid, gid_t gid, struct fsid_saved *saved);
/* Switch back to what fsid_enter found. */
void fsid_leave(const struct fsid_saved *saved);

#endif
