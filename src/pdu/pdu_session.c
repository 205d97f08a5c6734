/*
 * pdu_session.c - SESSION_SETUP request and response.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "pdu.h"
#include "wire.h"

/* MS-SMB2 2.2.5 SESSION_SETUP Request */
int pdu_session_setup_enc(struct wr *w, size_t msg_start, const struct session_setup_req *q)
{
	size_t off_at;

	if (q->secbuf_len > UINT16_MAX)
		return -EMSGSIZE;
	wr_u16(w, 25);
	wr_u8(w, q->flags);
	wr_u8(w, q->security_mode);
	wr_u32(w, q->capabilities);
	wr_u32(w, 0);			/* Channel */
	off_at = w->len;
	wr_u16(w, 0);			/* SecurityBufferOffset */
	wr_u16(w, (uint16_t)q->secbuf_len);
	wr_u64(w, q->previous_session_id);
	wr_patch_u16(w, off_at, (uint16_t)(w->len - msg_start));
	wr_bytes(w, q->secbuf, q->secbuf_len);
	return w->bad ? -ENOMEM : 0;
}

/* MS-SMB2 2.2.6 SESSION_SETUP Response */
int pdu_session_setup_dec(const uint8_t *msg, size_t len, struct session_setup_rsp *p)
{
	struct rd r, sb;
	uint16_t off, n;

	memset(p, 0, sizeof(*p));
	rd_init(&r, msg, len);
	rd_seek(&r, SMB2_HEADER_SIZE);
	if (rd_u16(&r) != 9)
		return -EPROTO;
	p->session_flags = rd_u16(&r);
	off = rd_u16(&r);
	n = rd_u16(&r);
	if (n) {
		sb = rd_sub(&r, off, n);
		p->secbuf = sb.p;
		p->secbuf_len = sb.len;
	}
	return r.bad ? -EPROTO : 0;
}
