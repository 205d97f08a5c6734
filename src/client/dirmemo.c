/*
 * dirmemo.c - the last few complete listings (see dirmemo.h for what
 * for and the rules that keep them right).
 *
 * DIRMEMO_SLOTS listings at most, the oldest replaced first; a listing
 * of more than DIRMEMO_MAX_NAMES names is not kept (a directory that
 * big costs one round trip per megabyte of entries anyway, and the
 * memory is better spent elsewhere).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dirmemo.h"
#include "util.h"

#define DIRMEMO_SLOTS 4
#define DIRMEMO_MAX_NAMES 8192

struct dirmemo {
	int ttl_ms;				/* fixed */
	pthread_mutex_t lock;			/* guards slot[] and every refs */
	struct dirmemo_listing *slot[DIRMEMO_SLOTS];
};

struct dirmemo *dirmemo_new(int ttl_ms)
{
	struct dirmemo *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->ttl_ms = ttl_ms;
	pthread_mutex_init(&m->lock, NULL);
	return m;
}

static void listing_free(struct dirmemo_listing *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->e[i].name);
	free(l->e);
	free(l->dir);
	free(l);
}

void dirmemo_free(struct dirmemo *m)
{
	int i;

	if (!m)
		return;
	for (i = 0; i < DIRMEMO_SLOTS; i++)
		if (m->slot[i])
			listing_free(m->slot[i]);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

struct dirmemo_listing *dirmemo_begin(struct dirmemo *m, const char *dir)
{
	struct dirmemo_listing *l;

	if (!m || !m->ttl_ms)
		return NULL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->dir = strdup(dir);
	if (!l->dir) {
		free(l);
		return NULL;
	}
	return l;
}

void dirmemo_add(struct dirmemo_listing *l, const char *name, ino_t ino, mode_t mode)
{
	struct dirmemo_entry *e;
	size_t cap;

	if (!l || l->err)
		return;
	if (l->n == DIRMEMO_MAX_NAMES) {
		l->err = -E2BIG;
		return;
	}
	if (l->n == l->cap) {
		cap = l->cap ? l->cap * 2 : 64;
		e = realloc(l->e, cap * sizeof(*e));
		if (!e) {
			l->err = -ENOMEM;
			return;
		}
		l->e = e;
		l->cap = cap;
	}
	e = &l->e[l->n];
	e->name = strdup(name);
	if (!e->name) {
		l->err = -ENOMEM;
		return;
	}
	e->ino = ino;
	e->mode = mode;
	l->n++;
}

void dirmemo_drop(struct dirmemo_listing *l)
{
	if (l)
		listing_free(l);
}

/* Drop the slot's reference to what it holds (m->lock held). */
static void slot_clear(struct dirmemo *m, int i)
{
	struct dirmemo_listing *old = m->slot[i];

	m->slot[i] = NULL;
	if (old && --old->refs == 0)
		listing_free(old);
}

void dirmemo_keep(struct dirmemo *m, struct dirmemo_listing *l, uint64_t stamp)
{
	int i, at = 0;

	if (!l)
		return;
	if (l->err) {
		listing_free(l);
		return;
	}
	l->stamp = stamp;
	l->until = now_ms() + (uint64_t)m->ttl_ms;
	l->refs = 1;			/* the slot's */
	pthread_mutex_lock(&m->lock);
	/* The same directory's slot, else an empty one, else the oldest. */
	for (i = 0; i < DIRMEMO_SLOTS; i++) {
		if (m->slot[i] && !strcmp(m->slot[i]->dir, l->dir)) {
			at = i;
			break;
		}
		if (!m->slot[i] || (m->slot[at] && m->slot[i]->until < m->slot[at]->until))
			at = i;
	}
	slot_clear(m, at);
	m->slot[at] = l;
	pthread_mutex_unlock(&m->lock);
}

struct dirmemo_listing *dirmemo_get(struct dirmemo *m, const char *dir, uint64_t stamp)
{
	struct dirmemo_listing *l = NULL;
	uint64_t now = now_ms();
	int i;

	if (!m || !m->ttl_ms)
		return NULL;
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < DIRMEMO_SLOTS; i++) {
		if (!m->slot[i] || strcmp(m->slot[i]->dir, dir))
			continue;
		if (m->slot[i]->stamp == stamp && now < m->slot[i]->until) {
			l = m->slot[i];
			l->refs++;
		} else if (m->slot[i]->stamp < stamp || now >= m->slot[i]->until) {
			slot_clear(m, i);	/* stale for good: stamps only grow */
		}			/* else kept after the caller read its stamp */
		break;
	}
	pthread_mutex_unlock(&m->lock);
	return l;
}

void dirmemo_put(struct dirmemo *m, struct dirmemo_listing *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&m->lock);
	if (--l->refs == 0)
		listing_free(l);
	pthread_mutex_unlock(&m->lock);
}
