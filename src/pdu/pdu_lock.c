/*
 * pdu_lock.c - LOCK request and response: byte-range locks.
 */
#include "config.h"

#include <errno.h>

#include "pdu.h"
#include "wire.h"

/* MS-SMB2 2.2.26 LOCK Request (+ 2.2.26.1 SMB2_LOCK_ELEMENT).  seq is
 * the LockSequence field as pdu_lock_seq makes it (0: none). */
int pdu_lock_enc(struct wr *w, struct smb2_fid fid, uint32_t seq, const struct smb2_lock *locks,
		 int n)
{
	int i;

	if (n < 1 || n > UINT16_MAX)
		return -EINVAL;
	wr_u16(w, 48);
	wr_u16(w, (uint16_t)n);
	wr_u32(w, seq);
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

/* MS-SMB2 2.2.26: LockSequenceNumber in the low 4 bits, LockSequenceIndex
 * (1..64, 0 = none) in the 28 above them. */
uint32_t pdu_lock_seq(unsigned index, unsigned number)
{
	return (uint32_t)index << 4 | (number & 0xFu);
}

/* MS-SMB2 2.2.30 CANCEL Request: StructureSize 4 and a reserved field.
 * The header names the request to cancel (MessageId, or AsyncId once
 * an interim response gave one). */
void pdu_cancel_enc(struct wr *w)
{
	wr_u16(w, 4);
	wr_u16(w, 0);
}

/* MS-SMB2 2.2.27 LOCK Response: the 4-byte body that ECHO, LOGOFF and
 * TREE_DISCONNECT answer with too. */
int pdu_lock_dec(const uint8_t *msg, size_t len)
{
	return pdu_empty_dec(msg, len);
}
