/*
 * client_writebehind.c - write-behind: a write(2) returns once its bytes
 * are in the daemon; they reach the server behind it, gathered into
 * large WRITEs with several in flight.
 *
 * Why: smbfuse does not use the kernel's writeback cache in any mode (it
 * keeps its own idea of a file's size and would never again see another
 * client's, see fs.c), so every write(2) is one synchronous FUSE
 * request.  Answering it only after the server's answer caps a 4 KiB
 * writer at one round trip per write, and a 1 MiB writer at one WRITE in
 * flight while the wire could carry several.
 *
 * How: each writable open file gathers writes that follow on from each
 * other into one buffer.  The buffer goes to the server (a job on the
 * work queue) at once when no WRITE of the file is in flight; otherwise
 * when it is full, when a write does not follow on from it, or when a
 * WRITE of the file finishes (the job that finishes takes it along).  So
 * data never waits while nothing is being sent, and gathers while the
 * wire is busy (Nagle's rule, for files).  At most WB_INFLIGHT WRITEs of
 * one file are in flight, and never two whose ranges overlap (the server
 * may do requests of one connection in either order).
 *
 * A new file's first bytes (an open that created or truncated it) are
 * held back instead, up to WB_HOLD_MAX bytes and WB_HOLD_MS: programs
 * that unpack or copy (tar, cp -p, rsync) write a small file and set
 * its times at once, and the times then take the held bytes along in
 * one compound (WRITE + SET_INFO + QUERY_INFO, wb_take_held) instead of
 * waiting for a WRITE and then sending the SET_INFO.  Anything else
 * that needs the bytes sends them as it would have (wb_flush), and the
 * holder thread sends those nobody asked for once WB_HOLD_MS is up.
 *
 * Errors: a WRITE that fails leaves its error on the file; the next
 * write(2), fsync(2) or close(2) through it reports it, whichever comes
 * first (as NFS does), and the log says so at once.  Whatever must see
 * the data at the server waits for it first (the wb_flush_* calls):
 * fsync and close, reads, stat, listing the directory, truncate, times,
 * rename, locks, copies, and the acknowledgement of a lease break.  A
 * lost connection loses nothing: the WRITEs are requests like any other
 * and go again on the new connection (request.c).
 *
 * Locks: wb.lock guards one file's state and is taken either alone or
 * under client.writers_lock; nothing is sent while holding it.
 * client.holder_lock is a leaf (taken under wb.lock to wake the holder).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client_int.h"
#include "log.h"
#include "util.h"

#define WB_CHUNK (1024 * 1024)		/* most bytes gathered into one WRITE */
#define WB_MIN_CAP (64 * 1024)		/* a gather buffer's first size */
#define WB_INFLIGHT 4			/* WRITEs of one file in flight at once */
#define WB_HOLD_MAX (64 * 1024)		/* most bytes of a new file held back */
#define WB_HOLD_MS 2			/* how long at most */

struct wb_slot {
	struct writebehind *wb;		/* fixed */
	bool used;			/* a job is writing it */
	uint8_t *data;
	size_t cap, len;
	off_t off;
	uint64_t seq;			/* the how-manieth buffer sent */
};

struct writebehind {
	struct client *c;		/* fixed */
	struct client_file *f;		/* fixed */
	size_t chunk;			/* fixed: at most WB_CHUNK, and what one WRITE may carry */
	pthread_mutex_t lock;		/* guards everything below */
	pthread_cond_t done;		/* a WRITE finished */
	uint8_t *buf;			/* gathering: len bytes for offset off */
	size_t cap, len;
	off_t off;
	uint8_t *spare;			/* a chunk-sized buffer kept for reuse */
	struct wb_slot slot[WB_INFLIGHT];
	int inflight;
	uint64_t seq;			/* buffers sent so far */
	/* A new file whose first bytes have not been sent: what is
	 * gathered waits (wb_take_held) until WB_HOLD_MS after held_at. */
	bool hold;
	uint64_t held_at;		/* now_ms() when the first bytes came; 0: none yet */
	bool counted;			/* counted in c->wb_busy */
	bool told;			/* the failure was logged */
	int error;			/* first failure not yet reported */
};

struct writebehind *wb_new(struct client *c, struct client_file *f)
{
	struct writebehind *wb = calloc(1, sizeof(*wb));
	int i;

	if (!wb)
		return NULL;
	wb->c = c;
	wb->f = f;
	wb->chunk = session_max_write(c->s) < WB_CHUNK ? session_max_write(c->s) : WB_CHUNK;
	pthread_mutex_init(&wb->lock, NULL);
	pthread_cond_init(&wb->done, NULL);
	for (i = 0; i < WB_INFLIGHT; i++)
		wb->slot[i].wb = wb;
	return wb;
}

/* The held bytes are on their way, or the file never had any: no
 * longer held (wb.lock held). */
static void end_hold(struct writebehind *wb)
{
	if (!wb->hold)
		return;
	wb->hold = false;
	if (wb->held_at)
		__atomic_sub_fetch(&wb->c->wb_held, 1, __ATOMIC_ACQ_REL);
}

/* After wb_flush: nothing is in flight. */
void wb_free(struct writebehind *wb)
{
	if (!wb)
		return;
	end_hold(wb);
	free(wb->buf);
	free(wb->spare);
	pthread_mutex_destroy(&wb->lock);
	pthread_cond_destroy(&wb->done);
	free(wb);
}

bool wb_any(struct client *c)
{
	return __atomic_load_n(&c->wb_busy, __ATOMIC_ACQUIRE) != 0;
}

/* Keep c->wb_busy the number of files with data gathered or in flight. */
static void update_busy(struct writebehind *wb)
{
	bool busy = wb->len || wb->inflight;

	if (busy != wb->counted) {
		wb->counted = busy;
		__atomic_add_fetch(&wb->c->wb_busy, busy ? 1 : -1, __ATOMIC_ACQ_REL);
	}
}

static bool overlaps_flight(const struct writebehind *wb, off_t off, size_t len)
{
	int i;

	for (i = 0; i < WB_INFLIGHT; i++) {
		const struct wb_slot *s = &wb->slot[i];

		if (s->used && off < s->off + (off_t)s->len && s->off < off + (off_t)len)
			return true;
	}
	return false;
}

static struct wb_slot *free_slot(struct writebehind *wb)
{
	int i;

	for (i = 0; i < WB_INFLIGHT; i++)
		if (!wb->slot[i].used)
			return &wb->slot[i];
	return NULL;
}

/* Move what is gathered into slot s (wb.lock held). */
static void take_gathered(struct writebehind *wb, struct wb_slot *s)
{
	end_hold(wb);
	s->used = true;
	s->data = wb->buf;
	s->cap = wb->cap;
	s->len = wb->len;
	s->off = wb->off;
	s->seq = ++wb->seq;
	wb->inflight++;
	wb->buf = NULL;
	wb->cap = wb->len = 0;
}

/* A finished buffer: kept for the next gathering if it is a whole
 * chunk's size and none is kept yet (wb.lock held). */
static void give_back(struct writebehind *wb, struct wb_slot *s)
{
	if (!wb->spare && s->cap == wb->chunk)
		wb->spare = s->data;
	else
		free(s->data);
	s->data = NULL;
	s->used = false;
	wb->inflight--;
}

static void record_error(struct writebehind *wb, int err)
{
	if (!wb->error)
		wb->error = err;
	if (!wb->told) {
		wb->told = true;
		log_warn("writing %s behind the application failed: %s; its next write, fsync or "
			 "close reports it", wb->f->path, strerror(-err));
	}
}

/* What a WRITE of slot s came to (n bytes written, or -errno), before
 * the slot is given back (wb.lock held). */
static void record_outcome(struct writebehind *wb, const struct wb_slot *s, ssize_t n)
{
	if (n < 0)
		record_error(wb, (int)n);
	else if ((size_t)n < s->len)
		record_error(wb, -ENOSPC);	/* a short WRITE: the server is full */
}

static void write_job(void *arg)
{
	struct wb_slot *s = arg;
	struct writebehind *wb = s->wb;
	ssize_t n;

	for (;;) {
		n = write_range(wb->c, wb->f, s->data, s->len, s->off);
		pthread_mutex_lock(&wb->lock);
		record_outcome(wb, s, n);
		give_back(wb, s);
		/* What was gathered meanwhile goes now, in this thread. */
		if (wb->len && !overlaps_flight(wb, wb->off, wb->len)) {
			take_gathered(wb, s);
			pthread_mutex_unlock(&wb->lock);
			continue;
		}
		update_busy(wb);
		pthread_cond_broadcast(&wb->done);
		pthread_mutex_unlock(&wb->lock);
		return;
	}
}

/* Send what is gathered, once a slot is free and nothing in flight
 * overlaps it (wb.lock held; dropped while waiting). */
static void send_gathered(struct writebehind *wb)
{
	struct wb_slot *s;

	while (wb->len) {
		s = free_slot(wb);
		if (!s || overlaps_flight(wb, wb->off, wb->len)) {
			pthread_cond_wait(&wb->done, &wb->lock);
			continue;
		}
		take_gathered(wb, s);
		if (workq_add(wb->c->wb_q, write_job, s) != 0) {
			/* No memory for a job: write it here and now. */
			pthread_mutex_unlock(&wb->lock);
			write_job(s);
			pthread_mutex_lock(&wb->lock);
		}
		return;
	}
}

/* Room for need bytes in the gather buffer (wb.lock held). */
static int make_room(struct writebehind *wb, size_t need)
{
	size_t cap = wb->cap ? wb->cap : WB_MIN_CAP;
	uint8_t *p;

	if (need <= wb->cap)
		return 0;
	if (!wb->buf && wb->spare) {
		wb->buf = wb->spare;
		wb->cap = wb->chunk;
		wb->spare = NULL;
		return 0;
	}
	while (cap < need)
		cap *= 2;
	if (cap > wb->chunk)
		cap = wb->chunk;
	p = realloc(wb->buf, cap);
	if (!p)
		return -ENOMEM;
	wb->buf = p;
	wb->cap = cap;
	return 0;
}

ssize_t wb_write(struct writebehind *wb, const void *buf, size_t size, off_t off)
{
	size_t done = 0, take;
	ssize_t ret;

	pthread_mutex_lock(&wb->lock);
	if (wb->error) {
		ret = wb->error;
		wb->error = 0;
		goto out;
	}
	while (done < size) {
		off_t at = off + (off_t)done;

		/* Only what follows on from the gathered bytes joins them. */
		if (wb->len && (at != wb->off + (off_t)wb->len || wb->len == wb->chunk))
			send_gathered(wb);
		if (!wb->len)
			wb->off = at;
		take = size - done < wb->chunk - wb->len ? size - done : wb->chunk - wb->len;
		ret = make_room(wb, wb->len + take);
		if (ret) {
			if (done)
				break;
			goto out;
		}
		memcpy(wb->buf + wb->len, (const uint8_t *)buf + done, take);
		wb->len += take;
		done += take;
		update_busy(wb);
		if (wb->hold && wb->len <= WB_HOLD_MAX && wb->off == 0) {
			if (!wb->held_at) {
				wb->held_at = now_ms();
				__atomic_add_fetch(&wb->c->wb_held, 1, __ATOMIC_ACQ_REL);
				wb_holder_wake(wb->c);
			}
			continue;
		}
		if (wb->len == wb->chunk || !wb->inflight)
			send_gathered(wb);
	}
	ret = (ssize_t)done;
out:
	pthread_mutex_unlock(&wb->lock);
	if (ret > 0) {
		/* What was cached of the file is older than these bytes. */
		attrcache_forget(wb->c->cache, wb->f->path);
		file_changed(wb->c, wb->f->path);
	}
	return ret;
}

int wb_flush(struct writebehind *wb, bool report)
{
	uint64_t upto;
	bool waiting;
	int i, ret = 0;

	if (!wb)
		return 0;
	pthread_mutex_lock(&wb->lock);
	send_gathered(wb);
	upto = wb->seq;
	do {
		waiting = false;
		for (i = 0; i < WB_INFLIGHT; i++)
			if (wb->slot[i].used && wb->slot[i].seq <= upto)
				waiting = true;
		if (waiting)
			pthread_cond_wait(&wb->done, &wb->lock);
	} while (waiting);
	if (report) {
		ret = wb->error;
		wb->error = 0;
		wb->told = false;
	}
	pthread_mutex_unlock(&wb->lock);
	return ret;
}

void wb_hold_first(struct writebehind *wb)
{
	if (!wb)
		return;
	pthread_mutex_lock(&wb->lock);
	if (!wb->seq && !wb->len)
		wb->hold = true;
	pthread_mutex_unlock(&wb->lock);
}

struct wb_slot *wb_take_held(struct writebehind *wb, const void **data, size_t *len, off_t *off)
{
	struct wb_slot *s = NULL;

	if (!wb)
		return NULL;
	pthread_mutex_lock(&wb->lock);
	/* Held bytes: nothing of the file was ever sent, so nothing is in
	 * flight and a slot is free. */
	if (wb->hold && wb->len && !wb->inflight && !wb->error) {
		s = free_slot(wb);
		take_gathered(wb, s);
		*data = s->data;
		*len = s->len;
		*off = s->off;
	}
	pthread_mutex_unlock(&wb->lock);
	return s;
}

void wb_held_done(struct wb_slot *s, ssize_t n)
{
	struct writebehind *wb = s->wb;

	pthread_mutex_lock(&wb->lock);
	record_outcome(wb, s, n);
	give_back(wb, s);
	/* Bytes written meanwhile were gathered behind it. */
	send_gathered(wb);
	update_busy(wb);
	pthread_cond_broadcast(&wb->done);
	pthread_mutex_unlock(&wb->lock);
}

/* --- which files to flush -------------------------------------------------- */

struct match {
	const char *sp;			/* a share path, or NULL */
	bool children;			/* sp is a directory: files right in it */
	const uint8_t *key;		/* a lease key, or NULL */
	const struct tree *t;		/* only the opens on this tree, or NULL: all */
	/* Instead: the files whose held bytes are due (the holder), which
	 * are sent without waiting for them. */
	bool due;
	const struct client_file *skip;	/* not this one */
};

/* Is o what m names?  (o->t->lock held.) */
static bool matches(const struct smb_open *o, const struct match *m)
{
	size_t n;

	if (m->t && o->t != m->t)
		return false;
	if (m->key && o->p.lease && !memcmp(o->p.lease_key, m->key, 16))
		return true;
	if (!m->sp)
		return !m->key;		/* neither: every file */
	if (!m->children)
		return !strcmp(o->path, m->sp);
	n = strlen(m->sp);
	if (n && (strncmp(o->path, m->sp, n) || o->path[n] != '\\'))
		return false;
	return !strchr(o->path + (n ? n + 1 : 0), '\\');
}

/* Flush the write-behind of every writable open file m names. */
static void flush_matching(struct client *c, const struct match *m)
{
	struct client_file *f, **found = NULL, **more;
	size_t n = 0, cap = 0, i;

	if (!wb_any(c))
		return;
	pthread_mutex_lock(&c->writers_lock);
	for (f = c->writers; f; f = f->next_writer) {
		bool hit;

		if (!f->wb || f->closing || f == m->skip)
			continue;	/* a closing file flushed first */
		pthread_mutex_lock(&f->wb->lock);
		if (m->due)
			hit = f->wb->hold && f->wb->held_at &&
				now_ms() - f->wb->held_at >= WB_HOLD_MS;
		else
			hit = f->wb->len || f->wb->inflight;
		pthread_mutex_unlock(&f->wb->lock);
		if (!hit)
			continue;
		pthread_mutex_lock(&f->open->t->lock);
		hit = m->due || matches(f->open, m);
		pthread_mutex_unlock(&f->open->t->lock);
		if (!hit)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			more = realloc(found, cap * sizeof(*found));
			if (!more)
				break;	/* flush what was found */
			found = more;
		}
		f->borrowed++;	/* not closed under us */
		found[n++] = f;
	}
	pthread_mutex_unlock(&c->writers_lock);
	for (i = 0; i < n; i++) {
		if (m->due) {
			pthread_mutex_lock(&found[i]->wb->lock);
			send_gathered(found[i]->wb);
			pthread_mutex_unlock(&found[i]->wb->lock);
		} else {
			wb_flush(found[i]->wb, false);
		}
		writer_return(c, found[i]);
	}
	free(found);
}

static void flush_like(struct client *c, struct client_file *f, bool others);

/* By a FUSE path: the file itself, or (children) the files right in it. */
static void flush_by_path(struct client *c, const char *path, bool children)
{
	struct match m = { .children = children };
	char *sp;

	if (!wb_any(c) || smb_path(c, path, &sp) != 0)
		return;
	m.sp = sp;
	flush_matching(c, &m);
	free(sp);
}

void wb_flush_path(struct client *c, const char *path)
{
	flush_by_path(c, path, false);
}

void wb_flush_dir(struct client *c, const char *path)
{
	flush_by_path(c, path, true);
}

void wb_flush_like(struct client *c, struct client_file *f)
{
	flush_like(c, f, false);
}

void wb_flush_others(struct client *c, struct client_file *f)
{
	flush_like(c, f, true);
}

static void flush_like(struct client *c, struct client_file *f, bool others)
{
	struct match m = { .skip = others ? f : NULL };
	char *sp;

	if (!wb_any(c))
		return;
	pthread_mutex_lock(&f->open->t->lock);
	sp = strdup(f->open->path);
	pthread_mutex_unlock(&f->open->t->lock);
	if (!sp)
		return;
	m.sp = sp;
	m.key = f->open->p.lease ? f->open->p.lease_key : NULL;
	flush_matching(c, &m);
	free(sp);
}

void wb_flush_lease(struct client *c, const struct tree *t, const uint8_t key[16])
{
	struct match m = { .key = key, .t = t };

	flush_matching(c, &m);
}

void wb_flush_all(struct client *c)
{
	struct match m = { 0 };

	flush_matching(c, &m);
}

/* --- the holder: held bytes go once WB_HOLD_MS is up ------------------------ */

static void *holder_main(void *arg)
{
	struct client *c = arg;
	struct match due = { .due = true };
	struct timespec pause = { 0, WB_HOLD_MS * 1000000L };

	pthread_mutex_lock(&c->holder_lock);
	while (!c->holder_stop) {
		if (!__atomic_load_n(&c->wb_held, __ATOMIC_ACQUIRE)) {
			pthread_cond_wait(&c->holder_cond, &c->holder_lock);
			continue;
		}
		pthread_mutex_unlock(&c->holder_lock);
		nanosleep(&pause, NULL);
		flush_matching(c, &due);
		pthread_mutex_lock(&c->holder_lock);
	}
	pthread_mutex_unlock(&c->holder_lock);
	return NULL;
}

void wb_holder_wake(struct client *c)
{
	pthread_mutex_lock(&c->holder_lock);
	pthread_cond_signal(&c->holder_cond);
	pthread_mutex_unlock(&c->holder_lock);
}

int wb_holder_start(struct client *c)
{
	pthread_mutex_init(&c->holder_lock, NULL);
	pthread_cond_init(&c->holder_cond, NULL);
	if (pthread_create(&c->holder, NULL, holder_main, c) != 0)
		return -EAGAIN;
	c->holder_started = true;
	return 0;
}

void wb_holder_stop(struct client *c)
{
	if (!c->holder_started)
		return;
	pthread_mutex_lock(&c->holder_lock);
	c->holder_stop = true;
	pthread_cond_signal(&c->holder_cond);
	pthread_mutex_unlock(&c->holder_lock);
	pthread_join(c->holder, NULL);
	c->holder_started = false;
	pthread_mutex_destroy(&c->holder_lock);
	pthread_cond_destroy(&c->holder_cond);
}
