/*
 * attrcache.h - a short-lived cache of struct stat by path.
 *
 * readdir fills it with what QUERY_DIRECTORY returned, so the lookups and
 * getattrs that follow a listing cost no round trip; every change the
 * client makes drops the entries it touches.  Entries live for the
 * mount's actimeo (like cifs, about a second), so changes made by others
 * show up that soon.
 */
#ifndef SMBFUSE_ATTRCACHE_H
#define SMBFUSE_ATTRCACHE_H

#include <stdbool.h>
#include <sys/stat.h>

struct attrcache;

/* ttl_ms 0 makes a cache that never keeps anything. */
struct attrcache *attrcache_new(int ttl_ms);
void attrcache_free(struct attrcache *ac);

/* Whose view the calling thread asks for (a multiuser mount: the user,
 * whose session may see less than another's): an entry answers only the
 * scope that put it.  Without one, every caller shares one scope.  Set
 * before any other use. */
void attrcache_set_scope(struct attrcache *ac, unsigned long (*scope)(void));

bool attrcache_get(struct attrcache *ac, const char *path, struct stat *st);
void attrcache_put(struct attrcache *ac, const char *path, const struct stat *st);
void attrcache_forget(struct attrcache *ac, const char *path);
/* Forget path and everything below it (after a directory rename). */
void attrcache_forget_tree(struct attrcache *ac, const char *path);
/* How many entries it holds, expired ones not yet dropped included. */
size_t attrcache_count(struct attrcache *ac);

#endif
