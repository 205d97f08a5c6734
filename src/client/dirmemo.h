/*
 * dirmemo.h - the last few complete listings, for a directory opened
 * again at once.
 *
 * Programs open a directory twice in a row: rm -r reads it once to see
 * whether it is empty and again to remove what is in it, and find, du
 * and shells' completion do much the same.  Without this every second
 * read is another CREATE + QUERY_DIRECTORY + CLOSE, for a listing the
 * mount has just seen.  A listing is kept only while the name cache
 * (namecache.h) has seen no change anywhere since it was made (its
 * stamp), and for at most the mount's actimeo, like every other cached
 * view of the share: another client's new name may be missed that long,
 * as a lookup of it would be answered "no such file" that long.  Only
 * the names, in the server's order, with each entry's inode number and
 * type: the attributes handed out with a replayed listing come from the
 * attribute cache at that moment (client_dir.c), which every change the
 * mount makes keeps right.
 *
 * Paths are FUSE's.  Has its own lock (a leaf).
 */
#ifndef SMBFUSE_DIRMEMO_H
#define SMBFUSE_DIRMEMO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct dirmemo_entry {
	char *name;
	ino_t ino;
	mode_t mode;			/* as the listing gave it */
};

/* One kept listing; read-only once made, shared by reference. */
struct dirmemo_listing {
	char *dir;
	uint64_t stamp;			/* the name cache's at the end of the listing */
	uint64_t until;			/* now_ms() past which it is not used */
	struct dirmemo_entry *e;
	size_t n, cap;
	int refs;			/* guarded by the memo's lock */
	int err;			/* -ENOMEM while gathering: not kept */
};

struct dirmemo;

/* ttl_ms 0 makes a memo that keeps nothing. */
struct dirmemo *dirmemo_new(int ttl_ms);
void dirmemo_free(struct dirmemo *m);

/* Gathering: a listing of dir being made (NULL when nothing would be
 * kept), its entries added in order, then either kept (the listing was
 * complete and the name cache's stamp is the same as at its start) or
 * dropped. */
struct dirmemo_listing *dirmemo_begin(struct dirmemo *m, const char *dir);
void dirmemo_add(struct dirmemo_listing *l, const char *name, ino_t ino, mode_t mode);
void dirmemo_keep(struct dirmemo *m, struct dirmemo_listing *l, uint64_t stamp);
void dirmemo_drop(struct dirmemo_listing *l);

/* dir's kept listing if it was made at stamp and less than a ttl ago (a
 * reference: dirmemo_put), else NULL. */
struct dirmemo_listing *dirmemo_get(struct dirmemo *m, const char *dir, uint64_t stamp);
void dirmemo_put(struct dirmemo *m, struct dirmemo_listing *l);

#endif
