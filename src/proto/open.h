/*
 * open.h - an open file or directory (MS-SMB2 3.2.1.6 Open): its FileId,
 * and everything needed to get it back after the connection dies: the
 * CREATE parameters, the CreateGuid, the durable handle the server
 * granted, the lease, and the path (which rename keeps current).
 *
 * After a reconnect an open is reclaimed (DH2C / DHnC, the same handle
 * with its lease, locks and pending state on the server), or, where the
 * server no longer holds it (smbd restarted), opened again by path with
 * the same access and sharing, never truncating or creating.  If that
 * fails too the open is lost: every request on it fails with EIO and
 * the log names the file, while the rest of the mount goes on.
 */
#ifndef SMBFUSE_OPEN_H
#define SMBFUSE_OPEN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "pdu.h"
#include "tree.h"

struct open_params {
	uint32_t access, share, disposition, options, attributes;
	bool lease;			/* ask for a lease with lease_key */
	uint8_t lease_key[16];
	uint32_t lease_state;		/* what to ask for */
};

struct smb_open {
	struct tree *t;			/* fixed */
	struct open_params p;		/* fixed: how it was opened */
	uint8_t create_guid[16];	/* fixed: v2 durable handles */
	int durable_asked;		/* DURABLE_* asked for (and granted) */
	pthread_mutex_t recover_lock;	/* one reclaim at a time */
	/* t->lock guards the fields below. */
	char *path;			/* share path, '\\'-separated; rename updates it */
	struct smb2_fid fid;
	uint64_t chan_gen;		/* the channel fid is valid on */
	bool durable;			/* the server granted a durable handle */
	bool lost;			/* could not be reclaimed nor reopened */
	/* Byte-range locks the server holds on this handle, and whether a
	 * reopen (not a reclaim) lost them (set under t->lock, read
	 * atomically): data I/O through the open then fails with EIO, as it
	 * may no longer be protected. */
	int locks;
	bool locks_lost;
	/* MS-SMB2 3.2.4.19: LockSequenceIndex i+1 is in use by a LOCK on
	 * the way when bit i of lock_busy is set; lock_seq[i] is the
	 * number it last carried. */
	uint64_t lock_busy;
	uint8_t lock_seq[SMB2_LOCK_SEQ_BUCKETS];
	bool registered;
	/* Holders besides the owner: the recovery thread works on an open
	 * outside t->lock, and its owner may release it meanwhile (a
	 * CLOSE that gave up waiting); the last one frees it. */
	int refs;
	struct smb_open *next, **pprev;	/* the tree's registry */
};

/* A new open of path (not yet sent, not registered). */
struct smb_open *open_new(struct tree *t, const char *path, const struct open_params *p);
/* Free an open that never got registered (its CREATE failed). */
void open_free(struct smb_open *o);

/* The CREATE request for o's first open: parameters, lease, durable
 * handle request where the dialect has one.  q->name points into o. */
void open_create_req(const struct smb_open *o, struct create_req *q, uint16_t dialect);

/* Its CREATE succeeded on channel gen: remember the handle and register
 * it with the tree. */
void open_created(struct smb_open *o, const struct create_rsp *p, uint64_t gen, uint16_t dialect);

/* The FileId to use on channel ch; an open from an older channel is
 * reclaimed or reopened first.  -EIO once the open is lost. */
int open_fid(struct smb_open *o, const struct channel *ch, struct smb2_fid *fid);

/* For reconnect.c: get every open of t back on the new channel.
 * Counts what happened. */
struct open_stats {
	int reclaimed, reopened, lost;
};
void open_recover_all(struct tree *t, struct conn *conn, uint64_t sid, uint32_t tid,
		      uint64_t gen, struct open_stats *st);

/* Byte-range locks on o (client_lock.c keeps the ranges): count the
 * server's (delta +1 / -1), and ask whether a reconnect lost them. */
void open_count_locks(struct smb_open *o, int delta);
bool open_locks_lost(struct smb_open *o);

/* The LockSequence for the next LOCK on o (0 where the dialect has none
 * or all 64 are on the way); give it back with open_lock_seq_done once
 * the LOCK is answered.  A LOCK sent again after a reconnect keeps its
 * value, so that the server can tell a replay (MS-SMB2 3.3.5.14). */
uint32_t open_lock_seq(struct smb_open *o, uint16_t dialect);
void open_lock_seq_done(struct smb_open *o, uint32_t seq);

/* A rename from -> to (share paths): opens of from, or below it, follow. */
void open_renamed(struct tree *t, const char *from, const char *to);

/* Deregister o and free it (after its CLOSE, or when giving up). */
void open_release(struct smb_open *o);

/* Forget every open of t (unmount). */
void open_forget_all(struct tree *t);

#endif
