/*
 * fsid.c - per-thread file system ids (see fsid.h).
 */
#include "config.h"

#include <errno.h>
#include <sys/fsuid.h>
#include <unistd.h>

#include "fsid.h"

int fsid_enter(uid_t uid, gid_t gid, struct fsid_saved *saved)
{
	saved->changed = false;
	saved->uid = geteuid();
	saved->gid = getegid();
	if (uid == saved->uid && gid == saved->gid)
		return 0;
	/* setfsuid returns the previous id and never fails visibly: ask
	 * again (with an id that changes nothing) to learn what it is now.
	 * The group goes first: once the uid is not 0 the thread may no
	 * longer change it. */
	saved->gid = (gid_t)setfsgid(gid);
	saved->uid = (uid_t)setfsuid(uid);
	saved->changed = true;
	if ((uid_t)setfsuid((uid_t)-1) != uid || (gid_t)setfsgid((gid_t)-1) != gid) {
		fsid_leave(saved);
		saved->changed = false;
		return -EPERM;
	}
	return 0;
}

void fsid_leave(const struct fsid_saved *saved)
{
	if (!saved->changed)
		return;
	setfsuid(saved->uid);
	setfsgid(saved->gid);
}
