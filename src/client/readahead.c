/*
 * readahead.c - keep READs in flight ahead of a sequential reader.
 *
 * The kernel reads a FUSE file in pieces of its readahead window (128
 * KiB unless root raises read_ahead_kb), one after the other: alone that
 * is one round trip per 128 KiB.  When one open file is read
 * sequentially, this keeps up to RA_CHUNKS reads of RA_CHUNK bytes in
 * flight on the work queue, and serves the kernel's pieces from them.
 *
 * Prefetched data lives at most RA_MAX_AGE_MS: a reader does not see
 * data older than the attribute cache would let it see.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "readahead.h"
#include "util.h"

#define RA_CHUNK (1024 * 1024)
#define RA_CHUNKS 8
#define RA_MAX_AGE_MS 1000

struct chunk {
	off_t off;
	uint8_t *data;			/* RA_CHUNK bytes */
	ssize_t got;			/* bytes read, or -errno; valid when !pending */
	bool pending;			/* a job is filling it */
	bool stale;			/* dropped while in use: the last user frees */
	int waiters;			/* readers waiting for it or copying from it */
	uint64_t born;			/* now_ms() when it was asked for */
	unsigned long gen;		/* the file's change counter when asked for */
	struct readahead *ra;
};

struct readahead {
	struct workq *q;		/* fixed */
	ra_fetch_fn fetch;		/* fixed */
	void *ctx;			/* fixed */
	const unsigned long *gen;	/* fixed; read with atomic loads */
	pthread_mutex_t lock;		/* guards the fields below */
	pthread_cond_t cond;		/* a chunk finished */
	struct chunk *chunks[RA_CHUNKS * 2];	/* live and stale ones */
	int pending;			/* jobs not yet finished */
	off_t next_off;			/* where a sequential read would go on */
	int streak;			/* sequential reads in a row */
	off_t eof;			/* a short chunk ended here; -1 unknown */
	unsigned long seen_gen;		/* the change counter at the last read */
};

static unsigned long gen_now(const struct readahead *ra)
{
	return __atomic_load_n(ra->gen, __ATOMIC_ACQUIRE);
}

struct readahead *ra_new(struct workq *q, ra_fetch_fn fetch, void *ctx,
			 const unsigned long *gen)
{
	struct readahead *ra = calloc(1, sizeof(*ra));

	if (!ra)
		return NULL;
	ra->q = q;
	ra->fetch = fetch;
	ra->ctx = ctx;
	ra->gen = gen;
	ra->eof = -1;
	pthread_mutex_init(&ra->lock, NULL);
	pthread_cond_init(&ra->cond, NULL);
	return ra;
}

static void chunk_free(struct chunk *ch)
{
	free(ch->data);
	free(ch);
}

/* Forget chunk slot i (or mark it stale if a job still fills it).
 * Caller holds the lock. */
static void drop_slot(struct readahead *ra, int i)
{
	struct chunk *ch = ra->chunks[i];

	if (!ch)
		return;
	if (ch->pending || ch->waiters)
		ch->stale = true;
	else
		chunk_free(ch);
	ra->chunks[i] = NULL;
}

void ra_drop(struct readahead *ra)
{
	int i;

	pthread_mutex_lock(&ra->lock);
	for (i = 0; i < RA_CHUNKS * 2; i++)
		drop_slot(ra, i);
	ra->streak = 0;
	ra->eof = -1;
	pthread_mutex_unlock(&ra->lock);
}

void ra_free(struct readahead *ra)
{
	if (!ra)
		return;
	ra_drop(ra);
	/* The jobs still running hold the file's handle: wait for them. */
	pthread_mutex_lock(&ra->lock);
	while (ra->pending)
		pthread_cond_wait(&ra->cond, &ra->lock);
	pthread_mutex_unlock(&ra->lock);
	pthread_mutex_destroy(&ra->lock);
	pthread_cond_destroy(&ra->cond);
	free(ra);
}

static void fetch_job(void *arg)
{
	struct chunk *ch = arg;
	struct readahead *ra = ch->ra;
	ssize_t got = ra->fetch(ra->ctx, ch->data, RA_CHUNK, ch->off);

	pthread_mutex_lock(&ra->lock);
	ch->got = got;
	ch->pending = false;
	if (got >= 0 && got < RA_CHUNK && (ra->eof < 0 || ch->off + got < ra->eof))
		ra->eof = ch->off + got;
	if (ch->stale && !ch->waiters)
		chunk_free(ch);
	ra->pending--;
	pthread_cond_broadcast(&ra->cond);
	pthread_mutex_unlock(&ra->lock);
}

/* The live chunk covering off, or -1.  Caller holds the lock. */
static int find(struct readahead *ra, off_t off)
{
	int i;

	for (i = 0; i < RA_CHUNKS * 2; i++)
		if (ra->chunks[i] && off >= ra->chunks[i]->off && off < ra->chunks[i]->off + RA_CHUNK)
			return i;
	return -1;
}

/* Ask for the chunks of the window from off on that are not there yet.
 * Caller holds the lock. */
static void fill_window(struct readahead *ra, off_t off)
{
	off_t start = off - off % RA_CHUNK, o;
	struct chunk *ch;
	int i, slot;

	for (i = 0; i < RA_CHUNKS; i++) {
		o = start + (off_t)i * RA_CHUNK;
		if (ra->eof >= 0 && o >= ra->eof)
			break;
		if (find(ra, o) >= 0)
			continue;
		for (slot = 0; slot < RA_CHUNKS * 2 && ra->chunks[slot]; slot++)
			;
		if (slot == RA_CHUNKS * 2)
			break;
		ch = calloc(1, sizeof(*ch));
		if (!ch || !(ch->data = malloc(RA_CHUNK))) {
			free(ch);
			break;
		}
		ch->off = o;
		ch->pending = true;
		ch->born = now_ms();
		ch->gen = gen_now(ra);
		ch->ra = ra;
		if (workq_add(ra->q, fetch_job, ch) != 0) {
			chunk_free(ch);
			break;
		}
		ra->chunks[slot] = ch;
		ra->pending++;
	}
}

ssize_t ra_read(struct readahead *ra, void *buf, size_t size, off_t off)
{
	size_t done = 0, n;
	struct chunk *ch;
	ssize_t ret;
	int i;

	pthread_mutex_lock(&ra->lock);
	/* The file changed since the last read: nothing prefetched counts. */
	if (gen_now(ra) != ra->seen_gen) {
		for (i = 0; i < RA_CHUNKS * 2; i++)
			drop_slot(ra, i);
		ra->eof = -1;
		ra->seen_gen = gen_now(ra);
	}
	/* The kernel may have two of its pieces in flight, arriving in
	 * either order: near the expected offset still counts. */
	if (off >= ra->next_off - RA_CHUNK && off <= ra->next_off + RA_CHUNK)
		ra->streak++;
	else
		ra->streak = 0;
	if (ra->streak == 0 || off + (off_t)size > ra->next_off)
		ra->next_off = off + (off_t)size;
	/* Forget what the reader has passed, and what has grown old. */
	for (i = 0; i < RA_CHUNKS * 2; i++) {
		ch = ra->chunks[i];
		if (ch && !ch->pending && (ch->off + RA_CHUNK <= off ||
					   now_ms() - ch->born > RA_MAX_AGE_MS || ra->streak == 0))
			drop_slot(ra, i);
	}
	if (ra->streak < 2) {
		pthread_mutex_unlock(&ra->lock);
		return -EAGAIN;		/* not (yet) a sequential reader */
	}
	fill_window(ra, off);
	while (done < size) {
		i = find(ra, off + (off_t)done);
		if (i < 0)
			break;
		ch = ra->chunks[i];
		ch->waiters++;
		while (ch->pending)
			pthread_cond_wait(&ra->cond, &ra->lock);
		if (ch->stale || ch->got < 0 || ch->gen != gen_now(ra) ||
		    off + (off_t)done >= ch->off + ch->got) {
			/* Dropped while we slept (the last one out frees
			 * it), failed, older than a change, or the end of
			 * the file. */
			if (--ch->waiters == 0 && ch->stale)
				chunk_free(ch);
			break;
		}
		n = (size_t)(ch->off + ch->got - (off + (off_t)done));
		if (n > size - done)
			n = size - done;
		/* The copy without the lock: the kernel's other reads of
		 * the file wait for no one's memcpy.  Being a waiter keeps
		 * the chunk (drop_slot only marks it stale), and nothing
		 * writes a chunk once it is filled. */
		pthread_mutex_unlock(&ra->lock);
		memcpy((uint8_t *)buf + done, ch->data + (off + (off_t)done - ch->off), n);
		pthread_mutex_lock(&ra->lock);
		done += n;
		if (--ch->waiters == 0 && ch->stale) {
			chunk_free(ch);
			break;
		}
		if (ch->got < RA_CHUNK)
			break;		/* the chunk ended at end of file */
	}
	/* An end of file is never answered from here: the server may have
	 * more by now (data written back after a chunk came), so the caller
	 * asks it for whatever was not copied. */
	ret = done ? (ssize_t)done : -EAGAIN;
	pthread_mutex_unlock(&ra->lock);
	return ret;
}
