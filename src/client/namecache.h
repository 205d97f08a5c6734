/*
 * namecache.h - directories whose every name the mount knows, for a
 * short while: a lookup of a name that is not there is answered ENOENT
 * without a round trip.
 *
 * The kernel looks up every name before it creates it (tar, cp -r, a
 * compiler's output): without this each new file costs a server round
 * trip that can only say "no such file".  A directory becomes known when
 * this mount creates it (empty) or lists it in full, and stays known for
 * the mount's actimeo, kept exact by the mount's own creates, renames and
 * removals; another client's new name shows up within that time, as
 * with the attribute cache.  Names are compared ignoring ASCII case (a
 * server may be case-insensitive: a name equal but for case is "maybe
 * there" and goes to the server), and a name with other than ASCII
 * letters' case to fold is never answered from here.
 *
 * Paths are the FUSE's ('/'-separated).  Has its own lock (a leaf).
 */
#ifndef SMBFUSE_NAMECACHE_H
#define SMBFUSE_NAMECACHE_H

#include <stdbool.h>
#include <stdint.h>

struct namecache;

/* ttl_ms 0 makes a cache that never knows anything. */
struct namecache *namecache_new(int ttl_ms);
void namecache_free(struct namecache *nc);
/* As attrcache_set_scope: a directory known through one scope's session
 * (a multiuser mount's user) answers only that scope's lookups.  Set
 * before any other use. */
void namecache_set_scope(struct namecache *nc, unsigned long (*scope)(void));

/* dir was just created: it is known, and empty. */
void namecache_created_dir(struct namecache *nc, const char *dir);

/* A full listing of dir, entry by entry, between begin and end (end
 * with complete false if the listing stopped early: then nothing is
 * known).  A listing may run while the mount changes dir: a change
 * meanwhile (namecache_added/_removed) spoils it. */
struct namecache_listing;
struct namecache_listing *namecache_listing_begin(struct namecache *nc, const char *dir);
void namecache_listing_add(struct namecache_listing *l, const char *name);
/* True when dir is known from here on; then *stamp is namecache_stamp
 * as of that moment (no change happened while the listing ran). */
bool namecache_listing_end(struct namecache *nc, struct namecache_listing *l, bool complete,
			   uint64_t *stamp);

/* path exists now / no longer (this mount made it so). */
void namecache_added(struct namecache *nc, const char *path);
void namecache_removed(struct namecache *nc, const char *path);
/* A change of path failed, or did what the cache cannot tell: stop
 * knowing path's directory. */
void namecache_doubt(struct namecache *nc, const char *path);
/* Forget what is known of dir and every directory below it (a
 * directory renamed or removed, or a change the cache cannot follow). */
void namecache_forget_tree(struct namecache *nc, const char *dir);

/* path's directory was known until a moment ago (less than a ttl) and
 * is small: worth listing again (names only) rather than asking the
 * server name by name, as a program filling it (tar, cp -r) would have
 * the mount do once its time ran out.  Returns the directory (malloc'd)
 * to the first caller only: the listing's end makes it known again, or
 * it stays unknown and is not claimed twice. */
char *namecache_claim_relist(struct namecache *nc, const char *path);

/* A number that changes with every change the mount makes to any
 * name (and never goes back): equal at two moments means the mount
 * changed no name in between.  Always 0 in a cache that keeps nothing
 * (ttl 0), so whatever relies on it must keep nothing then either. */
uint64_t namecache_stamp(struct namecache *nc);
/* True when path's directory is known and has no such name. */
bool namecache_absent(struct namecache *nc, const char *path);

#endif
