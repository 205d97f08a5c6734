/*
 * attrcache.c - path -> struct stat with expiry (see attrcache.h).
 *
 * A chained hash table under one mutex.  Entries past their time are
 * dropped when asked for, and all at once whenever the table has grown
 * to twice what a sweep last left (at least SWEEP_MIN): a walk over
 * many big directories (ls -lR) holds at most about twice what is
 * still live, not everything it ever listed (docs/DESIGN.md has the
 * numbers).  It is also bounded: when ATTRCACHE_MAX entries are still
 * live after a sweep it is emptied, which costs at worst one round trip
 * per path later, and keeps memory flat on huge trees.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attrcache.h"
#include "util.h"

#define BUCKETS 4096
#define ATTRCACHE_MAX 200000
#define SWEEP_MIN 4096

struct entry {
	struct entry *next;
	uint64_t expires;		/* now_ms() */
	unsigned long scope;		/* whose view it is (attrcache_set_scope) */
	struct stat st;
	char path[];
};

struct attrcache {
	int ttl_ms;			/* fixed */
	unsigned long (*scope)(void);	/* fixed once set; NULL: one scope */
	pthread_mutex_t lock;		/* guards everything below */
	struct entry *table[BUCKETS];
	size_t count;
	size_t sweep_at;		/* count at which expired entries go */
};

static size_t hash(const char *s)
{
	return (size_t)(str_hash(s) % BUCKETS);
}

struct attrcache *attrcache_new(int ttl_ms)
{
	struct attrcache *ac = calloc(1, sizeof(*ac));

	if (!ac)
		return NULL;
	ac->ttl_ms = ttl_ms;
	ac->sweep_at = SWEEP_MIN;
	pthread_mutex_init(&ac->lock, NULL);
	return ac;
}

/* Caller holds the lock. */
static void clear_locked(struct attrcache *ac)
{
	struct entry *e, *next;
	size_t i;

	for (i = 0; i < BUCKETS; i++) {
		for (e = ac->table[i]; e; e = next) {
			next = e->next;
			free(e);
		}
		ac->table[i] = NULL;
	}
	ac->count = 0;
	ac->sweep_at = SWEEP_MIN;
}

/* Drop every entry past its time; the next sweep comes when the table
 * has doubled again, so the walks cost a constant per put.  Caller
 * holds the lock. */
static void sweep_locked(struct attrcache *ac, uint64_t now)
{
	struct entry **pp, *e;
	size_t i;

	for (i = 0; i < BUCKETS; i++) {
		for (pp = &ac->table[i]; (e = *pp);) {
			if (now >= e->expires) {
				*pp = e->next;
				free(e);
				ac->count--;
			} else {
				pp = &e->next;
			}
		}
	}
	ac->sweep_at = ac->count * 2 > SWEEP_MIN ? ac->count * 2 : SWEEP_MIN;
	if (ac->sweep_at > ATTRCACHE_MAX)
		ac->sweep_at = ATTRCACHE_MAX;
}

size_t attrcache_count(struct attrcache *ac)
{
	size_t n;

	pthread_mutex_lock(&ac->lock);
	n = ac->count;
	pthread_mutex_unlock(&ac->lock);
	return n;
}

void attrcache_set_scope(struct attrcache *ac, unsigned long (*scope)(void))
{
	ac->scope = scope;
}

static unsigned long scope_now(const struct attrcache *ac)
{
	return ac->scope ? ac->scope() : 0;
}

void attrcache_free(struct attrcache *ac)
{
	if (!ac)
		return;
	clear_locked(ac);
	pthread_mutex_destroy(&ac->lock);
	free(ac);
}

/* Unlink and free the entry for path, if any.  Caller holds the lock. */
static void remove_locked(struct attrcache *ac, const char *path)
{
	struct entry **pp = &ac->table[hash(path)], *e;

	for (; (e = *pp); pp = &e->next) {
		if (!strcmp(e->path, path)) {
			*pp = e->next;
			free(e);
			ac->count--;
			return;
		}
	}
}

bool attrcache_get(struct attrcache *ac, const char *path, struct stat *st)
{
	unsigned long scope = scope_now(ac);
	struct entry *e;
	bool hit = false;

	if (!ac->ttl_ms)
		return false;
	pthread_mutex_lock(&ac->lock);
	for (e = ac->table[hash(path)]; e; e = e->next) {
		if (!strcmp(e->path, path)) {
			if (e->scope != scope)
				break;	/* another's: a miss, which the answer replaces */
			if (now_ms() < e->expires) {
				*st = e->st;
				hit = true;
			} else {
				remove_locked(ac, path);
			}
			break;
		}
	}
	pthread_mutex_unlock(&ac->lock);
	return hit;
}

void attrcache_put(struct attrcache *ac, const char *path, const struct stat *st)
{
	size_t n = strlen(path) + 1;
	struct entry *e;
	uint64_t now;

	if (!ac->ttl_ms)
		return;
	e = malloc(sizeof(*e) + n);
	if (!e)
		return;
	memcpy(e->path, path, n);
	e->st = *st;
	e->scope = scope_now(ac);
	now = now_ms();
	e->expires = now + (uint64_t)ac->ttl_ms;
	pthread_mutex_lock(&ac->lock);
	remove_locked(ac, path);
	if (ac->count >= ac->sweep_at)	/* sweep_at <= ATTRCACHE_MAX */
		sweep_locked(ac, now);
	if (ac->count >= ATTRCACHE_MAX)
		clear_locked(ac);
	e->next = ac->table[hash(path)];
	ac->table[hash(path)] = e;
	ac->count++;
	pthread_mutex_unlock(&ac->lock);
}

void attrcache_forget(struct attrcache *ac, const char *path)
{
	if (!ac->ttl_ms)
		return;
	pthread_mutex_lock(&ac->lock);
	remove_locked(ac, path);
	pthread_mutex_unlock(&ac->lock);
}

void attrcache_forget_tree(struct attrcache *ac, const char *path)
{
	size_t n = strlen(path), i;
	struct entry **pp, *e;

	if (!ac->ttl_ms)
		return;
	pthread_mutex_lock(&ac->lock);
	for (i = 0; i < BUCKETS; i++) {
		for (pp = &ac->table[i]; (e = *pp);) {
			if (!strncmp(e->path, path, n) && (e->path[n] == '\0' || e->path[n] == '/')) {
				*pp = e->next;
				free(e);
				ac->count--;
			} else {
				pp = &e->next;
			}
		}
	}
	pthread_mutex_unlock(&ac->lock);
}
