/*
 * namecache.c - directories whose every name the mount knows (see
 * namecache.h for what it is for and its rules).
 *
 * A known directory holds its names folded to ASCII lower case in a hash
 * set.  Bounded: at most NC_MAX_DIRS directories and NC_MAX_NAMES names
 * in all (the oldest directory goes first), and a listing longer than
 * NC_MAX_LISTING names is not kept.
 */
#include "config.h"

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "namecache.h"
#include "util.h"

#define NC_BUCKETS 256
#define NC_MAX_DIRS 1024
#define NC_MAX_NAMES 65536
#define NC_MAX_LISTING 8192
/* Directories at most this big are listed again when their time ran out
 * while a program was still asking for new names in them. */
#define NC_MAX_RELIST 4096

struct kname {
	struct kname *next;
	uint32_t hash;
	char s[];			/* folded */
};

struct kdir {
	struct kdir *next;		/* hash chain */
	struct kdir *older, *newer;	/* by when it became known */
	char *path;
	uint64_t until;			/* now_ms() past which it is not known */
	unsigned long scope;		/* whose listing it is (namecache_set_scope) */
	bool relisting;			/* namecache_claim_relist said so once */
	struct kname **b;
	size_t nb, n;
};

struct namecache {
	int ttl_ms;			/* fixed */
	unsigned long (*scope)(void);	/* fixed once set; NULL: one scope */
	pthread_mutex_t lock;		/* guards everything below */
	struct kdir *h[NC_BUCKETS];
	struct kdir *oldest, *newest;
	size_t ndirs, nnames;
	/* Bumped by every change: a listing that saw one meanwhile may
	 * miss a name or hold a removed one, and is not kept. */
	uint64_t changes;
};

struct namecache_listing {
	char *dir;
	unsigned long scope;		/* of the thread that lists */
	uint64_t changes;		/* at the start */
	bool overflow;			/* too many names, or out of memory */
	struct kdir d;			/* the names gathered (only b, nb, n used) */
};

static uint32_t hash_bytes(const char *s, size_t n, bool fold)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (fold && ch >= 'A' && ch <= 'Z')
			ch = (unsigned char)(ch - 'A' + 'a');
		h = (h ^ ch) * 16777619u;
	}
	return h;
}

static void fold_into(char *dst, const char *src)
{
	for (; *src; src++, dst++)
		*dst = (*src >= 'A' && *src <= 'Z') ? (char)(*src - 'A' + 'a') : *src;
	*dst = 0;
}

/* Only names of ASCII characters are answered from the cache: folding
 * other letters' case the way the server does is its business. */
static bool plain_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

struct namecache *namecache_new(int ttl_ms)
{
	struct namecache *nc = calloc(1, sizeof(*nc));

	if (!nc)
		return NULL;
	nc->ttl_ms = ttl_ms;
	pthread_mutex_init(&nc->lock, NULL);
	return nc;
}

static void names_free(struct kdir *d)
{
	struct kname *k, *next;
	size_t i;

	for (i = 0; i < d->nb; i++)
		for (k = d->b[i]; k; k = next) {
			next = k->next;
			free(k);
		}
	free(d->b);
	d->b = NULL;
	d->nb = d->n = 0;
}

/* --- one directory's names --------------------------------------------------- */

/* Where folded is in d's set, or where it would go; NULL while d has
 * no names at all. */
static struct kname **name_slot(struct kdir *d, const char *folded, uint32_t h)
{
	struct kname **pp;

	if (!d->nb)
		return NULL;
	for (pp = &d->b[h % d->nb]; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && !strcmp((*pp)->s, folded))
			return pp;
	return pp;
}

/* Add name (unfolded); 1 added, 0 there already, -1 out of memory. */
static int name_add(struct kdir *d, const char *name)
{
	size_t len = strlen(name), i;
	uint32_t h = hash_bytes(name, len, true);
	struct kname *k, **pp, **nb, *next;

	if (!d->nb || d->n >= d->nb * 2) {
		size_t nnb = d->nb ? d->nb * 4 : 16;

		nb = calloc(nnb, sizeof(*nb));
		if (!nb)
			return -1;
		for (i = 0; i < d->nb; i++)
			for (k = d->b[i]; k; k = next) {
				next = k->next;
				k->next = nb[k->hash % nnb];
				nb[k->hash % nnb] = k;
			}
		free(d->b);
		d->b = nb;
		d->nb = nnb;
	}
	k = malloc(sizeof(*k) + len + 1);
	if (!k)
		return -1;
	fold_into(k->s, name);
	k->hash = h;
	pp = name_slot(d, k->s, h);
	if (*pp) {
		free(k);
		return 0;
	}
	k->next = NULL;
	*pp = k;
	d->n++;
	return 1;
}

/* --- directories --------------------------------------------------------------- */

static struct kdir **dir_slot(struct namecache *nc, const char *dir, size_t len)
{
	struct kdir **pp;

	for (pp = &nc->h[hash_bytes(dir, len, false) % NC_BUCKETS]; *pp; pp = &(*pp)->next)
		if (strlen((*pp)->path) == len && !memcmp((*pp)->path, dir, len))
			return pp;
	return pp;
}

static void dir_drop(struct namecache *nc, struct kdir **pp)
{
	struct kdir *d = *pp;

	*pp = d->next;
	if (d->older)
		d->older->newer = d->newer;
	else
		nc->oldest = d->newer;
	if (d->newer)
		d->newer->older = d->older;
	else
		nc->newest = d->older;
	nc->ndirs--;
	nc->nnames -= d->n;
	names_free(d);
	free(d->path);
	free(d);
}

/* The known directory dir (the first len bytes), or NULL.  An expired
 * one is kept for one more ttl (it answers nothing then, but tells
 * namecache_claim_relist that the directory was known just now), and
 * dropped on the way after that. */
static struct kdir *dir_find_any(struct namecache *nc, const char *dir, size_t len)
{
	struct kdir **pp = dir_slot(nc, dir, len);

	if (!*pp)
		return NULL;
	if (now_ms() >= (*pp)->until + (uint64_t)nc->ttl_ms) {
		dir_drop(nc, pp);
		return NULL;
	}
	return *pp;
}

static struct kdir *dir_find(struct namecache *nc, const char *dir, size_t len)
{
	struct kdir *d = dir_find_any(nc, dir, len);

	return d && now_ms() < d->until ? d : NULL;
}

static unsigned long scope_now(const struct namecache *nc)
{
	return nc->scope ? nc->scope() : 0;
}

void namecache_set_scope(struct namecache *nc, unsigned long (*scope)(void))
{
	nc->scope = scope;
}

/* Make dir known to scope with the names in from (taken over; NULL:
 * none). */
static void dir_set(struct namecache *nc, const char *dir, struct kdir *from,
		    unsigned long scope)
{
	size_t len = strlen(dir), n = from ? from->n : 0;
	struct kdir **pp = dir_slot(nc, dir, len), *d;

	if (*pp)
		dir_drop(nc, pp);
	while (nc->oldest && (nc->ndirs >= NC_MAX_DIRS || nc->nnames + n > NC_MAX_NAMES))
		dir_drop(nc, dir_slot(nc, nc->oldest->path, strlen(nc->oldest->path)));
	d = calloc(1, sizeof(*d));
	if (!d || !(d->path = strdup(dir)) || nc->nnames + n > NC_MAX_NAMES) {
		if (d)
			free(d->path);
		free(d);
		if (from)
			names_free(from);
		return;
	}
	if (from) {
		d->b = from->b;
		d->nb = from->nb;
		d->n = from->n;
		from->b = NULL;
		from->nb = from->n = 0;
	}
	d->until = now_ms() + (uint64_t)nc->ttl_ms;
	d->scope = scope;
	pp = dir_slot(nc, dir, len);
	d->next = *pp;
	*pp = d;
	d->older = nc->newest;
	if (nc->newest)
		nc->newest->newer = d;
	else
		nc->oldest = d;
	nc->newest = d;
	nc->ndirs++;
	nc->nnames += d->n;
}

void namecache_free(struct namecache *nc)
{
	if (!nc)
		return;
	while (nc->oldest)
		dir_drop(nc, dir_slot(nc, nc->oldest->path, strlen(nc->oldest->path)));
	pthread_mutex_destroy(&nc->lock);
	free(nc);
}

/* path -> its directory's length ("/" for a name in the root: 1) and
 * where its name starts; false for the root itself. */
static bool split(const char *path, size_t *dirlen, const char **name)
{
	const char *slash = strrchr(path, '/');

	if (!slash || !slash[1])
		return false;
	*dirlen = slash == path ? 1 : (size_t)(slash - path);
	*name = slash + 1;
	return true;
}

/* --- the interface ---------------------------------------------------------------- */

void namecache_created_dir(struct namecache *nc, const char *dir)
{
	if (!nc->ttl_ms)
		return;
	pthread_mutex_lock(&nc->lock);
	nc->changes++;
	dir_set(nc, dir, NULL, scope_now(nc));
	pthread_mutex_unlock(&nc->lock);
}

struct namecache_listing *namecache_listing_begin(struct namecache *nc, const char *dir)
{
	struct namecache_listing *l;

	if (!nc->ttl_ms)
		return NULL;
	l = calloc(1, sizeof(*l));
	if (!l || !(l->dir = strdup(dir))) {
		free(l);
		return NULL;
	}
	l->scope = scope_now(nc);
	pthread_mutex_lock(&nc->lock);
	l->changes = nc->changes;
	pthread_mutex_unlock(&nc->lock);
	return l;
}

void namecache_listing_add(struct namecache_listing *l, const char *name)
{
	if (!l || l->overflow || !strcmp(name, ".") || !strcmp(name, ".."))
		return;
	if (l->d.n >= NC_MAX_LISTING || name_add(&l->d, name) < 0)
		l->overflow = true;
}

uint64_t namecache_stamp(struct namecache *nc)
{
	uint64_t v;

	pthread_mutex_lock(&nc->lock);
	v = nc->changes;
	pthread_mutex_unlock(&nc->lock);
	return v;
}

bool namecache_listing_end(struct namecache *nc, struct namecache_listing *l, bool complete,
			   uint64_t *stamp)
{
	bool kept = false;

	if (!l)
		return false;
	pthread_mutex_lock(&nc->lock);
	if (complete && !l->overflow && l->changes == nc->changes) {
		dir_set(nc, l->dir, &l->d, l->scope);
		*stamp = nc->changes;
		kept = true;
	}
	pthread_mutex_unlock(&nc->lock);
	names_free(&l->d);
	free(l->dir);
	free(l);
	return kept;
}

void namecache_added(struct namecache *nc, const char *path)
{
	const char *name;
	struct kdir *d;
	size_t dl;

	if (!nc->ttl_ms || !split(path, &dl, &name))
		return;
	pthread_mutex_lock(&nc->lock);
	nc->changes++;
	d = dir_find(nc, path, dl);
	if (d) {
		/* Past the size of a listing kept, or out of memory: stop
		 * knowing the directory rather than grow without bound. */
		int r = d->n < NC_MAX_LISTING ? name_add(d, name) : -1;

		if (r > 0)
			nc->nnames++;
		else if (r < 0)
			dir_drop(nc, dir_slot(nc, path, dl));
	}
	pthread_mutex_unlock(&nc->lock);
}

/* Where name (unfolded) is in d's set, or where it would go (NULL
 * while d has no names); *toolong for a name longer than NAME_MAX,
 * which no directory holds. */
static struct kname **find_name(struct kdir *d, const char *name, bool *toolong)
{
	char folded[NAME_MAX + 1];
	size_t len = strlen(name);

	*toolong = len > NAME_MAX;
	if (*toolong)
		return NULL;
	fold_into(folded, name);
	return name_slot(d, folded, hash_bytes(name, len, true));
}

void namecache_removed(struct namecache *nc, const char *path)
{
	const char *name;
	struct kname **pp, *k;
	struct kdir *d;
	bool toolong;
	size_t dl;

	if (!nc->ttl_ms || !split(path, &dl, &name))
		return;
	pthread_mutex_lock(&nc->lock);
	nc->changes++;
	d = dir_find(nc, path, dl);
	/* On a case-insensitive server "rm FOO" removed "foo": the folded
	 * name is the one to drop either way. */
	if (d && (pp = find_name(d, name, &toolong)) && (k = *pp) != NULL) {
		*pp = k->next;
		free(k);
		d->n--;
		nc->nnames--;
	}
	pthread_mutex_unlock(&nc->lock);
}

void namecache_doubt(struct namecache *nc, const char *path)
{
	const char *name;
	struct kdir **pp;
	size_t dl;

	if (!nc->ttl_ms || !split(path, &dl, &name))
		return;
	pthread_mutex_lock(&nc->lock);
	nc->changes++;
	pp = dir_slot(nc, path, dl);
	if (*pp)
		dir_drop(nc, pp);
	pthread_mutex_unlock(&nc->lock);
}

void namecache_forget_tree(struct namecache *nc, const char *dir)
{
	size_t len = strlen(dir), i;
	struct kdir **pp;

	if (!nc->ttl_ms)
		return;
	pthread_mutex_lock(&nc->lock);
	nc->changes++;
	for (i = 0; i < NC_BUCKETS; i++) {
		for (pp = &nc->h[i]; *pp;) {
			const char *p = (*pp)->path;

			if (!strncmp(p, dir, len) && (p[len] == 0 || p[len] == '/' || len == 1))
				dir_drop(nc, pp);
			else
				pp = &(*pp)->next;
		}
	}
	pthread_mutex_unlock(&nc->lock);
}

char *namecache_claim_relist(struct namecache *nc, const char *path)
{
	const char *name;
	struct kdir *d;
	char *dir = NULL;
	size_t dl;

	if (!nc->ttl_ms || !split(path, &dl, &name) || !plain_ascii(name))
		return NULL;
	pthread_mutex_lock(&nc->lock);
	d = dir_find_any(nc, path, dl);
	if (d && d->scope == scope_now(nc) && now_ms() >= d->until && !d->relisting &&
	    d->n <= NC_MAX_RELIST) {
		dir = strndup(path, dl);
		d->relisting = dir != NULL;
	}
	pthread_mutex_unlock(&nc->lock);
	return dir;
}

bool namecache_absent(struct namecache *nc, const char *path)
{
	const char *name;
	struct kname **pp;
	struct kdir *d;
	bool absent = false, toolong;
	size_t dl;

	if (!nc->ttl_ms || !split(path, &dl, &name) || !plain_ascii(name))
		return false;
	pthread_mutex_lock(&nc->lock);
	d = dir_find(nc, path, dl);
	if (d && d->scope == scope_now(nc)) {	/* another's listing: not for this one */
		pp = find_name(d, name, &toolong);
		/* Too long: the server's error (ENAMETOOLONG) is the answer. */
		absent = !toolong && (!pp || !*pp);
	}
	pthread_mutex_unlock(&nc->lock);
	return absent;
}
