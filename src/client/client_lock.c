/*
 * client_lock.c - fcntl (POSIX) and flock locks held on the server as
 * SMB2 byte-range locks (MS-SMB2 2.2.26), so that other clients see
 * them.
 *
 * Two views of each locked file are kept, under the file's own mutex:
 *
 *  - the POSIX view (struct plock): what each lock owner holds, with
 *    POSIX's rules: one owner's ranges merge and split, a new lock
 *    replaces what the owner held under it, an unlock may cut a hole.
 *    The owner is the kernel's: a process (files_struct) for fcntl
 *    locks, an open file description for flock.  Conflicts between the
 *    owners of this mount are decided here: the server cannot, as it
 *    knows only handles, and two processes may share one handle (fork).
 *
 *  - the server's view (struct srvlock): the SMB2 locks taken for each
 *    owner, on the handle it locked through.  SMB2 locks neither merge
 *    nor split: an unlock must name a range exactly as it was locked,
 *    and an exclusive lock never stacks on another lock of the same
 *    handle.  So the server's locks only cover the POSIX view: a new
 *    lock takes just the parts the owner does not hold yet; a lock no
 *    part of which the owner still holds is unlocked; a shared lock
 *    the owner holds only part of is replaced by locks of those parts
 *    (taken first, shared locks stack); an exclusive lock downgraded
 *    to shared is replaced the same way where the server lets a shared
 *    lock stack on it.  An exclusive lock the owner unlocked only part
 *    of stays whole on the server until the rest goes: replacing it
 *    would leave a moment in which another client could take the part
 *    still held.  An upgrade from shared to exclusive cannot be atomic
 *    either (the exclusive lock would conflict with the shared one):
 *    the shared lock goes first, and comes back if the exclusive one
 *    is refused.
 *
 * Shared locks all go on one handle per file (the lockfile's own open
 * of it), exclusive ones on the owner's: Samba 4.17 with its default
 * "posix locking = yes" keeps an OFD lock on the file behind when one of
 * two handles of one connection that hold overlapping shared locks
 * unlocks, and that leftover refuses every exclusive lock of the range
 * until the handle closes (SQLite readers on one mount then lock each
 * other out for good).  Shared locks of one handle stack cleanly.  The
 * price: a downgrade (exclusive to shared) moves between handles, so it
 * is not atomic either.
 *
 * flock locks are a one-byte lock at FLOCK_OFFSET (2^63), past every
 * offset an fcntl lock can reach: flocks exclude each other across
 * clients that use the same convention, and, as on a local Linux file
 * system, never conflict with fcntl locks.  The append lock
 * (client_append.c) is at 2^64 - 2, out of both ways.
 *
 * While a lock is held the data under it must be the server's: taking
 * one drops the kernel's cached pages of the file (and the daemon's
 * prefetched data).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

#include "client_int.h"
#include "log.h"
#include "ntstatus.h"
#include "smb2.h"
#include "util.h"

#define FLOCK_OFFSET 0x8000000000000000ull
/* The largest end an fcntl lock can have (OFFSET_MAX). */
#define POSIX_END_MAX 0x7FFFFFFFFFFFFFFFull

struct plock {
	struct plock *next;
	uint64_t owner;
	pid_t pid;
	uint64_t start, end;		/* inclusive */
	bool excl;
};

struct srvlock {
	struct srvlock *next;
	uint64_t owner;
	struct client_file *f;		/* the handle it is held on */
	uint64_t start, end;		/* inclusive, exactly as sent */
	bool excl;
};

/* Every lock of one file, found by the file's identity (its inode
 * number), so that hard links and every open of the file share it. */
struct lockfile {
	struct lockfile *next;		/* c->locks_lock: c->lockfiles */
	ino_t ino;			/* fixed */
	int refs;			/* c->locks_lock: client_files using it */
	pthread_mutex_t lock;		/* guards the fields below */
	pthread_cond_t released;	/* a lock of this file went */
	struct plock *posix;
	struct srvlock *srv;
	/* The handle every shared lock of this mount on the file is held
	 * on (opened at the first one; atomic pointer, set once). */
	struct client_file *hl;
};

/* A range list: what a lock must still take. */
#define PIECES_MAX 64
struct pieces {
	int n;
	uint64_t start[PIECES_MAX], end[PIECES_MAX];
};

static bool overlaps(uint64_t s1, uint64_t e1, uint64_t s2, uint64_t e2)
{
	return s1 <= e2 && s2 <= e1;
}

/* --- the wire -------------------------------------------------------------- */

int lock_range(struct client *c, struct smb_open *o, uint64_t start, uint64_t end,
	       uint32_t flags)
{
	struct smb2_lock l = { .offset = start, .length = end - start + 1, .flags = flags };
	uint32_t seq = open_lock_seq(o, o->t->s->info.dialect), status;
	struct chain ch;
	int ret;

	chain_init(&ch, c);
	/* A lock that may wait waits as long as the server says it is
	 * working on it, and is cancelled if the caller is interrupted. */
	ch.patient = !(flags & (SMB2_LOCKFLAG_UNLOCK | SMB2_LOCKFLAG_FAIL_IMMEDIATELY));
	chain_next_on(&ch, SMB2_LOCK, 0, o);
	ret = pdu_lock_enc(&ch.w, (struct smb2_fid){ 0, 0 }, seq, &l, 1);
	if (!ret)
		ret = chain_send(&ch);
	if (!ret) {
		status = chain_status(&ch, 0);
		/* Windows answers a repeated refused lock with
		 * FILE_LOCK_CONFLICT instead of LOCK_NOT_GRANTED: both
		 * mean "held by another". */
		if (status == STATUS_LOCK_NOT_GRANTED || status == STATUS_FILE_LOCK_CONFLICT)
			ret = -EAGAIN;
		else if (status != STATUS_SUCCESS)
			ret = client_errno(status);
		else if (pdu_lock_dec(ch.rsp[0].buf, ch.rsp[0].len) != 0)
			ret = -EIO;
	}
	chain_free(&ch);
	open_lock_seq_done(o, seq);
	return ret;
}

/* Record a lock the server granted (and return it in *out, if not NULL). */
static int srv_remember(struct lockfile *lf, struct client_file *f, uint64_t owner,
			uint64_t start, uint64_t end, bool excl, struct srvlock **out)
{
	struct srvlock *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOLCK;
	*r = (struct srvlock){ .next = lf->srv, .owner = owner, .f = f, .start = start,
			       .end = end, .excl = excl };
	lf->srv = r;
	open_count_locks(f->open, +1);
	if (out)
		*out = r;
	return 0;
}

/* The handle for a shared lock asked through f: the file's lock handle,
 * opened now if need be (and checked to be the same file: a rename may
 * have given its path to another); f itself if that fails. */
static struct client_file *shared_handle(struct client *c, struct lockfile *lf,
					 struct client_file *f)
{
	struct client_file *hl;
	struct stat st;

	if (lf->hl)
		/* Another user's lock handle (multiuser) is not this one's:
		 * the lock goes on the user's own descriptor. */
		return lf->hl->open->t == f->open->t ? lf->hl : f;
	if (open_sibling(c, f, &hl) != 0)
		return f;
	/* Through the handle: the attribute cache is keyed by path. */
	if (handle_stat(c, hl, &st) != 0 || st.st_ino != lf->ino) {
		client_close_file(c, hl);
		return f;
	}
	__atomic_store_n(&lf->hl, hl, __ATOMIC_RELEASE);
	return hl;
}

/* Take a lock on the server, at once (or -EAGAIN) unless wait, and
 * remember it (in *out, if not NULL).  A shared one goes on the file's
 * lock handle.  Caller holds lf->lock; a waiting lock lets go of it
 * while the server waits, as what ends the wait may be an unlock by
 * another owner of this file (through another client, say). */
static int srv_take(struct client *c, struct lockfile *lf, struct client_file *f,
		    uint64_t owner, uint64_t start, uint64_t end, bool excl, bool wait,
		    struct srvlock **out)
{
	uint32_t flags = excl ? SMB2_LOCKFLAG_EXCLUSIVE_LOCK : SMB2_LOCKFLAG_SHARED_LOCK;
	int ret;

	if (!excl)
		f = shared_handle(c, lf, f);
	if (wait) {
		pthread_mutex_unlock(&lf->lock);
		ret = lock_range(c, f->open, start, end, flags);
		pthread_mutex_lock(&lf->lock);
	} else {
		ret = lock_range(c, f->open, start, end, flags | SMB2_LOCKFLAG_FAIL_IMMEDIATELY);
	}
	if (ret)
		return ret;
	ret = srv_remember(lf, f, owner, start, end, excl, out);
	if (ret)
		lock_range(c, f->open, start, end, SMB2_LOCKFLAG_UNLOCK);
	return ret;
}

/* Unlock *rp on the server and forget it. */
static void srv_drop(struct client *c, struct srvlock **rp)
{
	struct srvlock *r = *rp;
	int ret;

	*rp = r->next;
	ret = lock_range(c, r->f->open, r->start, r->end, SMB2_LOCKFLAG_UNLOCK);
	/* A handle that lost its locks in a reconnect has nothing to
	 * unlock; anything else is worth a word: the server may still
	 * hold the range until the file is closed. */
	if (ret && !open_locks_lost(r->f->open))
		log_warn("unlocking bytes %llu-%llu of %s failed (%s): other clients may "
			 "wait for them until the file is closed",
			 (unsigned long long)r->start, (unsigned long long)r->end, r->f->path,
			 strerror(-ret));
	open_count_locks(r->f->open, -1);
	free(r);
}

/* Unlock r (wherever it is in the list) and forget it. */
static void srv_drop_this(struct client *c, struct lockfile *lf, struct srvlock *r)
{
	struct srvlock **rp;

	for (rp = &lf->srv; *rp && *rp != r; rp = &(*rp)->next)
		;
	if (*rp)
		srv_drop(c, rp);
}

/* --- the POSIX view -------------------------------------------------------- */

/* The first lock of another owner that a lock of owner on [start, end]
 * (exclusive or not) conflicts with. */
static struct plock *local_conflict(struct lockfile *lf, uint64_t owner, uint64_t start,
				    uint64_t end, bool excl)
{
	struct plock *p;

	for (p = lf->posix; p; p = p->next)
		if (p->owner != owner && overlaps(p->start, p->end, start, end) &&
		    (excl || p->excl))
			return p;
	return NULL;
}

/* POSIX's rule for a new lock (or unlock, with type F_UNLCK) of owner
 * on [start, end]: what the owner held there goes, the new lock takes
 * its place and absorbs the owner's locks of its type that touch it.
 * Both allocations (the new lock, the second half of a split) are made
 * first, so that a failure changes nothing.  Ends never exceed
 * FLOCK_OFFSET, so end + 1 cannot wrap. */
static int posix_apply(struct lockfile *lf, uint64_t owner, pid_t pid, uint64_t start,
		       uint64_t end, int type)
{
	bool excl = type == F_WRLCK, same;
	struct plock **pp, *p, *fresh = NULL, *tail = NULL;

	/* A lock of the owner reaching past both ends is split in two. */
	for (p = lf->posix; p; p = p->next)
		if (p->owner == owner && p->start < start && p->end > end)
			break;
	if (p && type != F_UNLCK && p->excl == excl)
		return 0;	/* held just so already */
	if ((type != F_UNLCK && !(fresh = calloc(1, sizeof(*fresh)))) ||
	    (p && !(tail = calloc(1, sizeof(*tail))))) {
		free(fresh);
		return -ENOLCK;
	}
	if (p) {
		*tail = (struct plock){ .next = lf->posix, .owner = owner, .pid = p->pid,
					.start = end + 1, .end = p->end, .excl = p->excl };
		lf->posix = tail;
		p->end = start - 1;
	}
	for (pp = &lf->posix; (p = *pp);) {
		same = type != F_UNLCK && p->excl == excl;
		if (p->owner != owner ||
		    !(overlaps(p->start, p->end, start, end) ||
		      (same && (p->end + 1 == start || end + 1 == p->start)))) {
			pp = &p->next;
			continue;
		}
		if (same || (p->start >= start && p->end <= end)) {
			/* Absorbed by the new lock, or wholly under it. */
			if (same && p->start < start)
				start = p->start;
			if (same && p->end > end)
				end = p->end;
			*pp = p->next;
			free(p);
			continue;
		}
		if (p->start < start)
			p->end = start - 1;	/* its tail was under the new one */
		else
			p->start = end + 1;	/* its head was */
		pp = &p->next;
	}
	if (fresh) {
		*fresh = (struct plock){ .next = lf->posix, .owner = owner, .pid = pid,
					 .start = start, .end = end, .excl = excl };
		lf->posix = fresh;
	}
	return 0;
}

/* What of [start, end] the owner's server locks do not cover (with an
 * exclusive lock, where excl; with any, otherwise).  -ENOLCK when the
 * answer is in more pieces than anyone would lock. */
static int uncovered(struct lockfile *lf, uint64_t owner, uint64_t start, uint64_t end,
		     bool excl, struct pieces *out)
{
	struct srvlock *r;
	uint64_t pos = start, next_pos;
	bool moved;

	out->n = 0;
	/* Walk from start: skip what a lock covers, record the gaps. */
	while (pos <= end) {
		moved = false;
		for (r = lf->srv; r; r = r->next) {
			if (r->owner != owner || (excl && !r->excl))
				continue;
			if (r->start <= pos && r->end >= pos) {
				if (r->end >= end)
					return 0;
				pos = r->end + 1;
				moved = true;
			}
		}
		if (moved)
			continue;
		/* A gap from pos to the next covered byte (or end). */
		next_pos = end;
		for (r = lf->srv; r; r = r->next)
			if (r->owner == owner && (!excl || r->excl) && r->start > pos &&
			    r->start - 1 < next_pos)
				next_pos = r->start - 1;
		if (out->n == PIECES_MAX)
			return -ENOLCK;
		out->start[out->n] = pos;
		out->end[out->n] = next_pos;
		out->n++;
		if (next_pos == end)
			break;
		pos = next_pos + 1;
	}
	return 0;
}

/* The parts of [start, end] the owner holds in the POSIX view (any
 * type), and whether any of them is exclusive. */
static int held_parts(struct lockfile *lf, uint64_t owner, uint64_t start, uint64_t end,
		      struct pieces *out, bool *any_excl)
{
	struct plock *p;

	out->n = 0;
	*any_excl = false;
	for (p = lf->posix; p; p = p->next) {
		if (p->owner != owner || !overlaps(p->start, p->end, start, end))
			continue;
		if (out->n == PIECES_MAX)
			return -ENOLCK;
		out->start[out->n] = p->start > start ? p->start : start;
		out->end[out->n] = p->end < end ? p->end : end;
		out->n++;
		*any_excl |= p->excl;
	}
	return 0;
}

/* Replace server lock *rp by shared locks of the given parts.  A shared
 * *rp is on the lock handle already: the parts are taken first (shared
 * locks of one handle stack), so no moment is left without one, and *rp
 * stays (-errno) if the server refuses.  An exclusive *rp (a downgrade)
 * is on the owner's handle, where a shared lock of another handle
 * cannot stack: it goes first, and a part that another client took in
 * that moment is no longer held (the log says so). */
static int srv_replace_shared(struct client *c, struct lockfile *lf, struct srvlock **rp,
			      const struct pieces *parts)
{
	struct srvlock *r = *rp, *made[PIECES_MAX];
	uint64_t owner = r->owner;
	struct client_file *f = r->f;
	int i, ret;

	if (r->excl) {
		srv_drop(c, rp);
		for (i = 0; i < parts->n; i++) {
			if (srv_take(c, lf, f, owner, parts->start[i], parts->end[i], false,
				     false,
				     NULL) == 0)
				continue;
			posix_apply(lf, owner, 0, parts->start[i], parts->end[i], F_UNLCK);
			log_warn("%s: bytes %llu-%llu went from an exclusive to a shared lock, and "
				 "another client took them in between: the lock on them is lost",
				 f->path, (unsigned long long)parts->start[i],
				 (unsigned long long)parts->end[i]);
		}
		return 0;
	}
	for (i = 0; i < parts->n; i++) {
		ret = srv_take(c, lf, f, owner, parts->start[i], parts->end[i], false, false,
			       &made[i]);
		if (ret) {
			while (i-- > 0)
				srv_drop_this(c, lf, made[i]);
			return ret;
		}
	}
	srv_drop_this(c, lf, r);
	return 0;
}

/* Bring the owner's server locks in line with its POSIX view after a
 * change: unlock what it no longer holds, split shared locks it holds
 * only part of, downgrade exclusive ones it holds only shared.  Never
 * takes a range the owner did not hold already, so it cannot conflict. */
static void tidy(struct client *c, struct lockfile *lf, uint64_t owner)
{
	struct srvlock **rp, *r;
	struct pieces parts;
	bool any_excl;
	uint64_t covered;
	int i;

	for (rp = &lf->srv; (r = *rp);) {
		if (r->owner != owner || held_parts(lf, owner, r->start, r->end, &parts,
						    &any_excl)) {
			rp = &r->next;
			continue;
		}
		if (parts.n == 0) {
			srv_drop(c, rp);
			continue;
		}
		covered = 0;
		for (i = 0; i < parts.n; i++)
			covered += parts.end[i] - parts.start[i] + 1;
		if ((!r->excl && covered != r->end - r->start + 1) || (r->excl && !any_excl)) {
			if (srv_replace_shared(c, lf, rp, &parts) == 0) {
				rp = &lf->srv;	/* the list changed: look again */
				continue;
			}
		}
		rp = &r->next;
	}
	pthread_cond_broadcast(&lf->released);
}

/* --- finding a file's locks ------------------------------------------------ */

/* The lock record of f's file, made if make (NULL when there is none
 * and make is false).  Holds a reference for f, once. */
static int lockfile_of(struct client *c, struct client_file *f, bool make,
		       struct lockfile **out)
{
	struct lockfile *lf;
	struct stat st;
	int ret;

	*out = NULL;
	if (f->lf) {
		*out = f->lf;
		return 0;
	}
	pthread_mutex_lock(&c->locks_lock);
	lf = c->lockfiles;
	pthread_mutex_unlock(&c->locks_lock);
	if (!lf && !make)
		return 0;	/* nothing on the mount is locked: no lookup */
	/* The file's identity through its handle, once per open: by path
	 * (the attribute cache), a name reused since the open (log
	 * rotation) would give the new file's. */
	if (!f->ino) {
		ret = handle_stat(c, f, &st);
		if (ret)
			return ret;
		f->ino = st.st_ino;
	}
	pthread_mutex_lock(&c->locks_lock);
	for (lf = c->lockfiles; lf && lf->ino != f->ino; lf = lf->next)
		;
	if (!lf && make) {
		lf = calloc(1, sizeof(*lf));
		if (!lf) {
			pthread_mutex_unlock(&c->locks_lock);
			return -ENOLCK;
		}
		lf->ino = f->ino;
		pthread_mutex_init(&lf->lock, NULL);
		cond_init_monotonic(&lf->released);
		lf->next = c->lockfiles;
		c->lockfiles = lf;
	}
	if (lf && !f->lf) {
		lf->refs++;
		/* Atomic: client_write reads it without a lock (a locked
		 * file writes through). */
		__atomic_store_n(&f->lf, lf, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&c->locks_lock);
	*out = lf;
	return 0;
}

/* The data under a lock just taken must come from the server. */
static void forget_cached_data(struct client *c, struct client_file *f)
{
	file_changed(c, f->path);
	if (c->invalidate)
		c->invalidate(c->invalidate_arg, f->path);
}

/* --- the verbs ------------------------------------------------------------- */

/* Wait for a lock of the file to go (or the caller to give up). */
static int wait_released(struct client *c, struct lockfile *lf)
{
	struct timespec ts = ms_to_timespec(now_ms() + CONN_ABORT_POLL_MS);
	int ret;

	pthread_cond_timedwait(&lf->released, &lf->lock, &ts);
	ret = c->s->abort_fn ? c->s->abort_fn(c->s->abort_arg) : 0;
	return ret;
}

/* An upgrade: the owner's shared server locks over [start, end] must go
 * before an exclusive one can be taken there.  Their parts outside the
 * range are kept by shared locks taken first. */
static int drop_shared_under(struct client *c, struct lockfile *lf, uint64_t owner,
			     uint64_t start, uint64_t end)
{
	struct srvlock **rp, *r;
	struct pieces keep;
	int ret;

	for (rp = &lf->srv; (r = *rp);) {
		if (r->owner != owner || r->excl || !overlaps(r->start, r->end, start, end)) {
			rp = &r->next;
			continue;
		}
		keep.n = 0;
		if (r->start < start) {
			keep.start[keep.n] = r->start;
			keep.end[keep.n++] = start - 1;
		}
		if (r->end > end) {
			keep.start[keep.n] = end + 1;
			keep.end[keep.n++] = r->end;
		}
		ret = srv_replace_shared(c, lf, rp, &keep);
		if (ret)
			return ret;
		rp = &lf->srv;
	}
	return 0;
}

/* Take the server locks a new lock of owner on [start, end] needs: how
 * many it took (0 when the owner's locks cover it already), or -errno. */
static int take_server_locks(struct client *c, struct lockfile *lf, struct client_file *f,
			     uint64_t owner, uint64_t start, uint64_t end, bool excl, bool wait)
{
	struct srvlock *taken[PIECES_MAX];
	struct pieces need, lost;
	bool any_excl;
	int i, ret, ntaken = 0;

	if (excl) {
		/* What the owner held shared here, to give back if the
		 * exclusive lock is refused. */
		ret = held_parts(lf, owner, start, end, &lost, &any_excl);
		if (ret)
			return ret;
		ret = drop_shared_under(c, lf, owner, start, end);
		if (ret)
			return ret;
	}
	ret = uncovered(lf, owner, start, end, excl, &need);
	for (i = 0; !ret && i < need.n; i++) {
		ret = srv_take(c, lf, f, owner, need.start[i], need.end[i], excl, wait,
			       &taken[ntaken]);
		if (!ret)
			ntaken++;
	}
	if (!ret)
		return ntaken;
	/* Refused (or interrupted): undo what this call took... */
	while (ntaken-- > 0)
		srv_drop_this(c, lf, taken[ntaken]);
	/* ...and give back the shared locks an upgrade dropped. */
	if (excl) {
		for (i = 0; i < lost.n; i++) {
			struct pieces again;
			int j;

			if (uncovered(lf, owner, lost.start[i], lost.end[i], false, &again))
				continue;
			for (j = 0; j < again.n; j++) {
				if (srv_take(c, lf, f, owner, again.start[j], again.end[j], false, false,
					     NULL) == 0)
					continue;
				/* Another client got in between: the owner no
				 * longer holds that part; say so. */
				posix_apply(lf, owner, 0, again.start[j], again.end[j], F_UNLCK);
				log_warn("%s: an upgrade to an exclusive lock failed and the shared "
					 "lock on bytes %llu-%llu could not be taken back: another "
					 "client took that range", f->path,
					 (unsigned long long)again.start[j],
					 (unsigned long long)again.end[j]);
			}
		}
	}
	return ret;
}

static int set_lock(struct client *c, struct client_file *f, uint64_t owner, pid_t pid,
		    int type, uint64_t start, uint64_t end, bool wait)
{
	struct lockfile *lf;
	bool excl = type == F_WRLCK;
	int ret, taken = 0;

	if (start > end)
		return -EINVAL;
	if (open_locks_lost(f->open) && type != F_UNLCK)
		return -EIO;
	/* What was written before a lock changes hands is at the server
	 * first: the next holder reads it there. */
	wb_flush_like(c, f);
	ret = lockfile_of(c, f, type != F_UNLCK, &lf);
	if (ret || !lf)
		return ret;
	pthread_mutex_lock(&lf->lock);
	if (type == F_UNLCK) {
		ret = posix_apply(lf, owner, pid, start, end, F_UNLCK);
		tidy(c, lf, owner);
		goto out;
	}
	for (;;) {
		while (local_conflict(lf, owner, start, end, excl)) {
			if (!wait) {
				ret = -EAGAIN;
				goto out;
			}
			ret = wait_released(c, lf);
			if (ret)
				goto out;
		}
		ret = take_server_locks(c, lf, f, owner, start, end, excl, wait);
		if (ret < 0)
			goto out;
		taken += ret;
		ret = 0;
		/* A blocking wait let go of the mutex: another owner of
		 * this mount may have taken the range meanwhile (through
		 * the same handle, where the server cannot tell them
		 * apart).  Then give it back and wait again. */
		if (!wait || !local_conflict(lf, owner, start, end, excl))
			break;
		tidy(c, lf, owner);
	}
	ret = posix_apply(lf, owner, pid, start, end, type);
	tidy(c, lf, owner);
	/* Newly locked bytes: what the kernel cached of them may be
	 * another client's old data.  (Already covered: nothing changed.) */
	if (!ret && taken)
		forget_cached_data(c, f);
out:
	pthread_mutex_unlock(&lf->lock);
	return ret;
}

int client_setlk(struct client *c, struct client_file *f, uint64_t owner, pid_t pid, int type,
		 uint64_t start, uint64_t end, bool wait)
{
	if (type != F_RDLCK && type != F_WRLCK && type != F_UNLCK)
		return -EINVAL;
	if (end > POSIX_END_MAX)
		end = POSIX_END_MAX;
	if (type == F_RDLCK && !(f->open->p.access & FILE_READ_DATA))
		return -EBADF;	/* POSIX: a read lock needs a descriptor open for reading */
	if (type == F_WRLCK && !f->writable)
		return -EBADF;
	return set_lock(c, f, owner, pid, type, start, end, wait);
}

int client_flock(struct client *c, struct client_file *f, uint64_t owner, int op)
{
	int type = (op & LOCK_UN) ? F_UNLCK : (op & LOCK_EX) ? F_WRLCK : F_RDLCK;
	int ret;

	if (!(op & (LOCK_SH | LOCK_EX | LOCK_UN)))
		return -EINVAL;
	/* A conversion is not atomic (nor is it on Linux): the old lock
	 * goes, then the new one is asked for. */
	if (type != F_UNLCK)
		set_lock(c, f, owner, 0, F_UNLCK, FLOCK_OFFSET, FLOCK_OFFSET, false);
	ret = set_lock(c, f, owner, 0, type, FLOCK_OFFSET, FLOCK_OFFSET, !(op & LOCK_NB));
	return ret == -EAGAIN ? -EWOULDBLOCK : ret;
}

int client_getlk(struct client *c, struct client_file *f, uint64_t owner, int *type,
		 uint64_t *start, uint64_t *end, pid_t *pid)
{
	struct lockfile *lf;
	struct srvlock *r;
	struct plock *p;
	struct pieces test;
	bool excl = *type == F_WRLCK;
	int i, ret;

	if (*end > POSIX_END_MAX)
		*end = POSIX_END_MAX;
	ret = lockfile_of(c, f, true, &lf);
	if (ret)
		return ret;
	pthread_mutex_lock(&lf->lock);
	p = local_conflict(lf, owner, *start, *end, excl);
	if (p) {
		*type = p->excl ? F_WRLCK : F_RDLCK;
		*start = p->start;
		*end = p->end;
		*pid = p->pid;
		goto out;
	}
	/* Other clients' locks: only a trial lock tells.  Not where this
	 * owner holds locks itself (they would be in the way, and POSIX
	 * leaves the caller's own locks out of the answer). */
	ret = uncovered(lf, owner, *start, *end, false, &test);
	for (i = 0; !ret && i < test.n; i++) {
		ret = srv_take(c, lf, f, owner, test.start[i], test.end[i], excl, false, &r);
		if (ret == 0) {
			srv_drop_this(c, lf, r);
			continue;
		}
		if (ret != -EAGAIN)
			goto out;
		/* Held elsewhere: shared, if a shared trial succeeds. */
		ret = 0;
		*type = F_WRLCK;
		if (excl && srv_take(c, lf, f, owner, test.start[i], test.end[i], false, false,
				     &r) == 0) {
			srv_drop_this(c, lf, r);
			*type = F_RDLCK;
		}
		*start = test.start[i];
		*end = test.end[i];
		*pid = 0;	/* a process of another machine */
		goto out;
	}
	if (!ret)
		*type = F_UNLCK;
out:
	pthread_mutex_unlock(&lf->lock);
	return ret;
}

bool client_locks_lost(struct client_file *f)
{
	struct lockfile *lf = f->lf;
	struct client_file *hl = lf ? __atomic_load_n(&lf->hl, __ATOMIC_ACQUIRE) : NULL;

	return open_locks_lost(f->open) || (hl && open_locks_lost(hl->open));
}

void client_locks_closing(struct client *c, struct client_file *f)
{
	struct lockfile *lf = f->lf, **lp;
	struct srvlock **rp, *r;
	bool last;

	if (!lf)
		return;
	/* The server drops the handle's locks with it; by now the owners
	 * that took them have unlocked (every close unlocks its process's
	 * locks), so these are leftovers of an unlock that failed. */
	pthread_mutex_lock(&lf->lock);
	for (rp = &lf->srv; (r = *rp);) {
		if (r->f != f) {
			rp = &r->next;
			continue;
		}
		*rp = r->next;
		posix_apply(lf, r->owner, 0, r->start, r->end, F_UNLCK);
		open_count_locks(f->open, -1);
		free(r);
	}
	pthread_cond_broadcast(&lf->released);
	pthread_mutex_unlock(&lf->lock);

	pthread_mutex_lock(&c->locks_lock);
	last = --lf->refs == 0;
	if (last) {
		for (lp = &c->lockfiles; *lp != lf; lp = &(*lp)->next)
			;
		*lp = lf->next;
	}
	pthread_mutex_unlock(&c->locks_lock);
	f->lf = NULL;
	if (!last)
		return;
	while (lf->posix) {
		struct plock *p = lf->posix;

		lf->posix = p->next;
		free(p);
	}
	/* The lock handle's CLOSE drops what is still locked on it. */
	while (lf->srv) {
		struct srvlock *q = lf->srv;

		lf->srv = q->next;
		free(q);
	}
	if (lf->hl)
		client_close_file(c, lf->hl);
	pthread_cond_destroy(&lf->released);
	pthread_mutex_destroy(&lf->lock);
	free(lf);
}
