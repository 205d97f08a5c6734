/*
 * pdu_header.c - the SMB2 header and the bodies with no fields worth the
 * name (ERROR, and the 4-byte body of LOGOFF, TREE_DISCONNECT, ECHO).
 */
#include "config.h"

#include <errno.h>

#include "pdu.h"
#include "wire.h"

/* MS-SMB2 2.2.1.1 / 2.2.1.2 SMB2 Packet Header (ASYNC / SYNC) */
void pdu_hdr_enc(struct wr *w, const struct smb2_hdr *h)
{
	wr_u32(w, SMB2_PROTOCOL_ID);
	wr_u16(w, SMB2_HEADER_SIZE);
	wr_u16(w, h->credit_charge);
	wr_u32(w, h->status);
	wr_u16(w, h->command);
	wr_u16(w, h->credits);
	wr_u32(w, h->flags);
	wr_u32(w, h->next_command);
	wr_u64(w, h->message_id);
	if (h->flags & SMB2_FLAGS_ASYNC_COMMAND) {
		wr_u64(w, h->async_id);
	} else {
		wr_u32(w, 0);		/* Reserved */
		wr_u32(w, h->tree_id);
	}
	wr_u64(w, h->session_id);
	wr_zero(w, 16);			/* Signature, filled in when signing */
}

int pdu_hdr_dec(const uint8_t *msg, size_t len, struct smb2_hdr *h)
{
	struct rd r;

	rd_init(&r, msg, len);
	if (rd_u32(&r) != SMB2_PROTOCOL_ID || rd_u16(&r) != SMB2_HEADER_SIZE)
		return -EPROTO;
	h->credit_charge = rd_u16(&r);
	h->status = rd_u32(&r);
	h->command = rd_u16(&r);
	h->credits = rd_u16(&r);
	h->flags = rd_u32(&r);
	h->next_command = rd_u32(&r);
	h->message_id = rd_u64(&r);
	if (h->flags & SMB2_FLAGS_ASYNC_COMMAND) {
		h->async_id = rd_u64(&r);
		h->tree_id = 0;
	} else {
		rd_skip(&r, 4);
		h->tree_id = rd_u32(&r);
		h->async_id = 0;
	}
	h->session_id = rd_u64(&r);
	rd_skip(&r, 16);
	return r.bad ? -EPROTO : 0;
}

/* MS-SMB2 2.2.2 ERROR Response: StructureSize 9, ErrorContextCount,
 * Reserved, ByteCount, ErrorData.  Only its shape is checked: smbfuse
 * acts on the header's status, not on error contexts. */
int pdu_error_dec(const uint8_t *msg, size_t len)
{
	struct rd r;
	uint32_t count;

	rd_init(&r, msg, len);
	rd_seek(&r, SMB2_HEADER_SIZE);
	if (rd_u16(&r) != 9)
		return -EPROTO;
	rd_skip(&r, 2);
	count = rd_u32(&r);
	/* Servers send one byte of ErrorData when ByteCount is 0; some
	 * send none at all. */
	if (count)
		rd_skip(&r, count);
	return r.bad ? -EPROTO : 0;
}

/* MS-SMB2 2.2.7/2.2.8 LOGOFF, 2.2.11/2.2.12 TREE_DISCONNECT, 2.2.28/2.2.29
 * ECHO: StructureSize 4, Reserved. */
void pdu_empty_enc(struct wr *w)
{
	wr_u16(w, 4);
	wr_u16(w, 0);
}

int pdu_empty_dec(const uint8_t *msg, size_t len)
{
	struct rd r;

	rd_init(&r, msg, len);
	rd_seek(&r, SMB2_HEADER_SIZE);
	if (rd_u16(&r) != 4)
		return -EPROTO;
	rd_skip(&r, 2);
	return r.bad ? -EPROTO : 0;
}

/* The body shared by the QUERY_INFO (2.2.38) and QUERY_DIRECTORY
 * (2.2.34) responses: StructureSize 9, OutputBufferOffset (2),
 * OutputBufferLength (4), Buffer. */
int pdu_out_buffer_dec(const uint8_t *msg, size_t len, const uint8_t **out, size_t *n)
{
	struct rd r, o;
	uint16_t off;
	uint32_t cnt;

	*out = NULL;
	*n = 0;
	rd_init(&r, msg, len);
	rd_seek(&r, SMB2_HEADER_SIZE);
	if (rd_u16(&r) != 9)
		return -EPROTO;
	off = rd_u16(&r);
	cnt = rd_u32(&r);
	if (r.bad)
		return -EPROTO;
	if (cnt) {
		o = rd_sub(&r, off, cnt);
		if (r.bad)
			return -EPROTO;
		*out = o.p;
		*n = o.len;
	}
	return 0;
}
