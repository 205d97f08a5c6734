/*
 * pdu_lease.c - lease break notification and acknowledgment.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "pdu.h"
#include "wire.h"

/* MS-SMB2 2.2.23.2 Lease Break Notification: StructureSize 44, NewEpoch,
 * Flags, LeaseKey, CurrentLeaseState, NewLeaseState, BreakReason,
 * AccessMaskHint, ShareMaskHint. */
int pdu_lease_break_dec(const uint8_t *msg, size_t len, struct lease_break *p)
{
	struct rd r;

	memset(p, 0, sizeof(*p));
	rd_init(&r, msg, len);
	rd_seek(&r, SMB2_HEADER_SIZE);
	if (rd_u16(&r) != 44)
		return -EPROTO;
	rd_skip(&r, 2);
	p->flags = rd_u32(&r);
	rd_copy(&r, p->key, 16);
	p->current_state = rd_u32(&r);
	p->new_state = rd_u32(&r);
	rd_skip(&r, 12);
	return r.bad ? -EPROTO : 0;
}

/* MS-SMB2 2.2.24.2 Lease Break Acknowledgment */
int pdu_lease_ack_enc(struct wr *w, const uint8_t key[16], uint32_t state)
{
	wr_u16(w, 36);
	wr_u16(w, 0);
	wr_u32(w, 0);			/* Flags */
	wr_bytes(w, key, 16);
	wr_u32(w, state);
	wr_u64(w, 0);			/* LeaseDuration */
	return w->bad ? -ENOMEM : 0;
}

/* MS-SMB2 2.2.25.2 Lease Break Response */
int pdu_lease_ack_dec(const uint8_t *msg, size_t len, uint8_t key[16], uint32_t *state)
{
	struct rd r;

	rd_init(&r, msg, len);
	rd_seek(&r, SMB2_HEADER_SIZE);
	if (rd_u16(&r) != 36)
		return -EPROTO;
	rd_skip(&r, 6);
	rd_copy(&r, key, 16);
	*state = rd_u32(&r);
	rd_skip(&r, 8);
	return r.bad ? -EPROTO : 0;
}
