/*
 * open.c - opens and how they come back after a reconnect (MS-SMB2
 * 3.2.4.4 Re-establishing a Durable Open, 3.2.4.3.5 / 3.2.4.3.9 the
 * durable handle requests).  See open.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "log.h"
#include "ntstatus.h"
#include "open.h"
#include "smb2.h"
#include "util.h"
#include "wire.h"

struct smb_open *open_new(struct tree *t, const char *path, const struct open_params *p)
{
	struct smb_open *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->path = strdup(path);
	if (!o->path || RAND_bytes(o->create_guid, sizeof(o->create_guid)) != 1) {
		free(o->path);
		free(o);
		return NULL;
	}
	o->t = t;
	o->p = *p;
	o->refs = 1;
	pthread_mutex_init(&o->recover_lock, NULL);
	return o;
}

void open_free(struct smb_open *o)
{
	if (!o)
		return;
	pthread_mutex_destroy(&o->recover_lock);
	free(o->path);
	free(o);
}

/* Which durable handle to ask for: v2 from 3.0 on, v1 on 2.1.  Only
 * with a lease: the server grants durability only to an open that holds
 * a handle lease (or a batch oplock, which smbfuse never asks for). */
static int durable_kind(const struct smb_open *o, uint16_t dialect)
{
	if (!o->p.lease)
		return DURABLE_NONE;
	if (dialect >= SMB2_DIALECT_300)
		return DURABLE_V2;
	return dialect == SMB2_DIALECT_210 ? DURABLE_V1 : DURABLE_NONE;
}

void open_create_req(const struct smb_open *o, struct create_req *q, uint16_t dialect)
{
	memset(q, 0, sizeof(*q));
	q->oplock = o->p.lease ? SMB2_OPLOCK_LEVEL_LEASE : SMB2_OPLOCK_LEVEL_NONE;
	q->lease_key = o->p.lease ? o->p.lease_key : NULL;
	q->lease_state = o->p.lease_state;
	q->access = o->p.access;
	q->attributes = o->p.attributes;
	q->share = o->p.share;
	q->disposition = o->p.disposition;
	q->options = o->p.options;
	q->name = o->path;
	q->durable = durable_kind(o, dialect);
	q->create_guid = o->create_guid;
}

static void registry_add(struct smb_open *o)
{
	struct tree *t = o->t;

	o->next = t->opens;
	if (t->opens)
		t->opens->pprev = &o->next;
	o->pprev = &t->opens;
	t->opens = o;
	o->registered = true;
}

void open_created(struct smb_open *o, const struct create_rsp *p, uint64_t gen, uint16_t dialect)
{
	pthread_mutex_lock(&o->t->lock);
	o->fid = p->fid;
	o->chan_gen = gen;
	o->durable = p->durable;
	o->durable_asked = p->durable ? durable_kind(o, dialect) : DURABLE_NONE;
	registry_add(o);
	pthread_mutex_unlock(&o->t->lock);
}

/* One CREATE on a connection that is not published yet (or is, and the
 * open is stale): reclaim the durable handle, or open by path again. */
static int create_on(struct smb_open *o, struct conn *conn, uint64_t sid, uint32_t tid,
		     bool reclaim, struct create_rsp *p, uint32_t *status)
{
	struct smb2_hdr h = { .command = SMB2_CREATE, .session_id = sid, .tree_id = tid };
	const struct conn_info *ci = conn_info(conn);
	struct conn_msg rsp = { 0 };
	struct create_req q;
	struct wr w;
	char *path;
	int ret;

	pthread_mutex_lock(&o->t->lock);
	path = strdup(o->path);
	q.reclaim_fid = o->fid;
	pthread_mutex_unlock(&o->t->lock);
	if (!path)
		return -ENOMEM;
	{
		struct smb2_fid old = q.reclaim_fid;

		open_create_req(o, &q, ci->dialect);
		q.reclaim_fid = old;
	}
	q.name = path;
	/* Never create, truncate or delete again: the file is what it is. */
	q.disposition = FILE_OPEN;
	q.options &= ~(uint32_t)FILE_DELETE_ON_CLOSE;
	q.reclaim = reclaim;
	if (reclaim)
		q.durable = o->durable_asked;
	if (ci->dialect >= SMB2_DIALECT_300)
		h.status = 0;	/* ChannelSequence: the open is new to this channel */
	wr_init(&w);
	pdu_hdr_enc(&w, &h);
	ret = pdu_create_enc(&w, 0, &q);
	if (!ret)
		ret = w.bad ? -ENOMEM : conn_call(conn, w.p, w.len, 1, &rsp, 0);
	if (!ret) {
		*status = le32_get(rsp.buf + SMB2_HDR_STATUS);
		if (*status == STATUS_SUCCESS && pdu_create_dec(rsp.buf, rsp.len, p) != 0)
			ret = -EIO;
	}
	conn_msg_free(&rsp);
	wr_free(&w);
	free(path);
	return ret;
}

/* Get o back on conn: 1 reclaimed, 2 reopened, 0 lost, or -errno when
 * the connection failed (o unchanged: the next channel tries again). */
static int recover_one(struct smb_open *o, struct conn *conn, uint64_t sid, uint32_t tid,
		       uint64_t gen)
{
	struct create_rsp p;
	uint32_t status = STATUS_SUCCESS;
	bool durable;
	int ret, how = 0;

	pthread_mutex_lock(&o->recover_lock);
	pthread_mutex_lock(&o->t->lock);
	durable = o->durable && !o->lost;
	if (o->lost || o->chan_gen == gen) {
		how = o->lost ? 0 : 1;
		pthread_mutex_unlock(&o->t->lock);
		pthread_mutex_unlock(&o->recover_lock);
		return how;
	}
	pthread_mutex_unlock(&o->t->lock);
	if (durable) {
		ret = create_on(o, conn, sid, tid, true, &p, &status);
		if (ret)
			goto out;
		if (status == STATUS_SUCCESS) {
			how = 1;
		} else {
			/* Under the tree's lock: a rename may replace o->path. */
			pthread_mutex_lock(&o->t->lock);
			log_debug("reclaiming the durable handle of %s failed: %s", o->path,
				  ntstatus_name(status));
			pthread_mutex_unlock(&o->t->lock);
		}
	}
	if (!how) {
		/* A fresh CreateGuid: the old one names a handle the server
		 * has forgotten, or one it still holds for someone else. */
		RAND_bytes(o->create_guid, sizeof(o->create_guid));
		ret = create_on(o, conn, sid, tid, false, &p, &status);
		if (ret)
			goto out;
		if (status == STATUS_SUCCESS)
			how = 2;
	}
	pthread_mutex_lock(&o->t->lock);
	if (how) {
		o->fid = p.fid;
		o->durable = how == 1 || p.durable;
		/* A reopen asked for a durable handle afresh: what the next
		 * reclaim must name is what it got. */
		if (how == 2)
			o->durable_asked = p.durable ? durable_kind(o, conn_info(conn)->dialect) :
				DURABLE_NONE;
		o->chan_gen = gen;
		/* A new handle has none of the old one's locks, and the
		 * server's record of lock sequences starts afresh. */
		if (how == 2 && o->locks > 0 && !o->locks_lost) {
			__atomic_store_n(&o->locks_lost, true, __ATOMIC_RELEASE);
			log_err("after reconnecting, the server no longer held %s open: its %d "
				"byte-range lock(s) are lost, and I/O through its open file "
				"descriptors fails with EIO from now on", o->path, o->locks);
		}
		if (how == 2)
			memset(o->lock_seq, 0, sizeof(o->lock_seq));
	} else {
		o->lost = true;
		log_err("after reconnecting, %s could not be opened again (%s): its open file "
			"descriptors fail with EIO from now on", o->path, ntstatus_name(status));
	}
	pthread_mutex_unlock(&o->t->lock);
	ret = how;
out:
	pthread_mutex_unlock(&o->recover_lock);
	return ret;
}

int open_fid(struct smb_open *o, const struct channel *ch, struct smb2_fid *fid)
{
	uint32_t tid;
	int ret;

	for (;;) {
		pthread_mutex_lock(&o->t->lock);
		if (o->lost) {
			pthread_mutex_unlock(&o->t->lock);
			return -EIO;
		}
		if (o->chan_gen == ch->gen) {
			*fid = o->fid;
			pthread_mutex_unlock(&o->t->lock);
			return 0;
		}
		tid = o->t->tree_id;
		pthread_mutex_unlock(&o->t->lock);
		/* Registered from a CREATE answered on the old channel after
		 * the recovery had gone through the registry. */
		ret = recover_one(o, ch->conn, ch->session_id, tid, ch->gen);
		if (ret < 0)
			return ret;
	}
}

static void open_put(struct smb_open *o);

void open_count_locks(struct smb_open *o, int delta)
{
	pthread_mutex_lock(&o->t->lock);
	o->locks += delta;
	if (o->locks < 0)
		o->locks = 0;
	pthread_mutex_unlock(&o->t->lock);
}

bool open_locks_lost(struct smb_open *o)
{
	/* Asked on every read and write: no tree lock for it. */
	return __atomic_load_n(&o->locks_lost, __ATOMIC_ACQUIRE);
}

uint32_t open_lock_seq(struct smb_open *o, uint16_t dialect)
{
	uint32_t seq = 0;
	int i;

	if (dialect == SMB2_DIALECT_202)
		return 0;	/* the field is reserved there */
	pthread_mutex_lock(&o->t->lock);
	for (i = 0; i < SMB2_LOCK_SEQ_BUCKETS; i++) {
		if (o->lock_busy & (1ull << i))
			continue;
		o->lock_busy |= 1ull << i;
		/* A new number each time: the server takes a LOCK with the
		 * number it remembers for the index as done already. */
		o->lock_seq[i] = (uint8_t)((o->lock_seq[i] + 1) & 0xF);
		seq = pdu_lock_seq((unsigned)i + 1, o->lock_seq[i]);
		break;
	}
	pthread_mutex_unlock(&o->t->lock);
	return seq;
}

void open_lock_seq_done(struct smb_open *o, uint32_t seq)
{
	unsigned index = seq >> 4;

	if (index < 1 || index > SMB2_LOCK_SEQ_BUCKETS)
		return;
	pthread_mutex_lock(&o->t->lock);
	o->lock_busy &= ~(1ull << (index - 1));
	pthread_mutex_unlock(&o->t->lock);
}

void open_recover_all(struct tree *t, struct conn *conn, uint64_t sid, uint32_t tid,
		      uint64_t gen, struct open_stats *st)
{
	struct smb_open *o;
	int how;

	/* The registry may change while a CREATE is on the wire (opens are
	 * made and closed by other threads, who wait for this channel), so
	 * go round again after each one until every open is of gen. */
	for (;;) {
		pthread_mutex_lock(&t->lock);
		for (o = t->opens; o && (o->lost || o->chan_gen == gen); o = o->next)
			;
		if (o)
			o->refs++;
		pthread_mutex_unlock(&t->lock);
		if (!o)
			return;
		how = recover_one(o, conn, sid, tid, gen);
		open_put(o);
		if (how < 0)
			return;		/* the new connection failed too */
		if (how == 1)
			st->reclaimed++;
		else if (how == 2)
			st->reopened++;
		else
			st->lost++;
	}
}

void open_renamed(struct tree *t, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to);
	struct smb_open *o;
	char *np;

	pthread_mutex_lock(&t->lock);
	for (o = t->opens; o; o = o->next) {
		if (strncmp(o->path, from, fl) != 0 || (o->path[fl] && o->path[fl] != '\\'))
			continue;
		np = malloc(tl + strlen(o->path + fl) + 1);
		if (!np)
			continue;	/* a reopen would then look for the old name */
		memcpy(np, to, tl);
		strcpy(np + tl, o->path + fl);
		free(o->path);
		o->path = np;
	}
	pthread_mutex_unlock(&t->lock);
}

/* Drop a reference; the last one frees. */
static void open_put(struct smb_open *o)
{
	int left;

	pthread_mutex_lock(&o->t->lock);
	left = --o->refs;
	pthread_mutex_unlock(&o->t->lock);
	if (left == 0)
		open_free(o);
}

void open_release(struct smb_open *o)
{
	if (!o)
		return;
	pthread_mutex_lock(&o->t->lock);
	if (o->registered) {
		*o->pprev = o->next;
		if (o->next)
			o->next->pprev = o->pprev;
		o->registered = false;
	}
	pthread_mutex_unlock(&o->t->lock);
	open_put(o);
}

void open_forget_all(struct tree *t)
{
	struct smb_open *o, *next;

	pthread_mutex_lock(&t->lock);
	for (o = t->opens; o; o = next) {
		next = o->next;
		o->registered = false;
		o->pprev = NULL;
		o->next = NULL;
	}
	t->opens = NULL;
	pthread_mutex_unlock(&t->lock);
}
