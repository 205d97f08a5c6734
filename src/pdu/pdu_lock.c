/*
 * pdu_lock.c - LOCK request and response: byte-range locks.
 */
#include "config.h"

#include <errno.h>

#include "pdu.h"
#include "wire.h"

/* MS-SMB2 2.2.26 LOCK Request (+ 2.2.26.1 SMB2_LOCK_ELEMENT).  The
 * LockSequence field stays 0: no lock is replayed through it yet. */
int pdu_lock_enc(struct wr *w, struct smb2_fid fid, const struct smb2_lock *locks, int n)
{
	int i;

	if (n < 1 || n > UINT16_MAX)
		return -EINVAL;
	wr_u16(w, 48);
	wr_u16(w, (uint16_t)n);
	wr_u32(w, 0);			/* LockSequenceNumber / LockSequenceIndex */
	wr_u64(w, fid.persistent);
	wr_u64(w, fid.volatile_);
	for (i = 0; i < n; i++) {
		wr_u64(w, locks[i].offset);
		wr_u64(w, locks[i].length);
		wr_u32(w, locks[i].flags);
		wr_u32(w, 0);
	}
	return w->bad ? -ENOMEM : 0;
}

/* MS-SMB2 2.2.27 LOCK Response: the 4-byte body that ECHO, LOGOFF and
 * TREE_DISCONNECT answer with too. */
int pdu_lock_dec(const uint8_t *msg, size_t len)
{
	return pdu_empty_dec(msg, len);
}
