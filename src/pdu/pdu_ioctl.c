/*
 * pdu_ioctl.c - IOCTL request and response, and the payloads of the
 * FSCTLs the client core uses.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "pdu.h"
#include "wire.h"

/* MS-SMB2 2.2.31 IOCTL Request */
int pdu_ioctl_enc(struct wr *w, size_t msg_start, const struct ioctl_req *q)
{
	size_t in_off_at, off;

	if (q->input_len > UINT32_MAX)
		return -EMSGSIZE;
	wr_u16(w, 57);
	wr_u16(w, 0);
	wr_u32(w, q->ctl_code);
	wr_bytes(w, q->file_id, 16);
	in_off_at = w->len;
	wr_u32(w, 0);			/* InputOffset */
	wr_u32(w, (uint32_t)q->input_len);
	wr_u32(w, 0);			/* MaxInputResponse */
	wr_u32(w, 0);			/* OutputOffset */
	wr_u32(w, 0);			/* OutputCount */
	wr_u32(w, q->max_output);
	wr_u32(w, q->flags);
	wr_u32(w, 0);			/* Reserved2 */
	/* An empty input still gets an offset inside the message, as
	 * Windows sends it. */
	off = w->len - msg_start;
	wr_patch_u32(w, in_off_at, q->input_len ? (uint32_t)off : 0);
	wr_patch_u32(w, in_off_at + 12, q->input_len ? 0 : (uint32_t)off);
	wr_bytes(w, q->input, q->input_len);
	return w->bad ? -ENOMEM : 0;
}

/* MS-SMB2 2.2.32 IOCTL Response */
int pdu_ioctl_dec(const uint8_t *msg, size_t len, struct ioctl_rsp *p)
{
	struct rd r, out;
	uint32_t off, n;

	memset(p, 0, sizeof(*p));
	rd_init(&r, msg, len);
	rd_seek(&r, SMB2_HEADER_SIZE);
	if (rd_u16(&r) != 49)
		return -EPROTO;
	rd_skip(&r, 2);
	p->ctl_code = rd_u32(&r);
	rd_copy(&r, p->file_id, 16);
	rd_skip(&r, 8);			/* InputOffset, InputCount */
	off = rd_u32(&r);
	n = rd_u32(&r);
	rd_skip(&r, 8);			/* Flags, Reserved2 */
	if (n) {
		out = rd_sub(&r, off, n);
		p->output = out.p;
		p->output_len = out.len;
	}
	return r.bad ? -EPROTO : 0;
}

/* MS-SMB2 2.2.31.4 VALIDATE_NEGOTIATE_INFO Request */
int pdu_validate_negotiate_enc(struct wr *w, uint32_t capabilities, const uint8_t guid[16],
			       uint16_t security_mode, const uint16_t *dialects, int n)
{
	int i;

	wr_u32(w, capabilities);
	wr_bytes(w, guid, 16);
	wr_u16(w, security_mode);
	wr_u16(w, (uint16_t)n);
	for (i = 0; i < n; i++)
		wr_u16(w, dialects[i]);
	return w->bad ? -ENOMEM : 0;
}

/* MS-SMB2 2.2.32.6 VALIDATE_NEGOTIATE_INFO Response: exactly 24 bytes. */
int pdu_validate_negotiate_dec(const uint8_t *out, size_t len, struct validate_negotiate_rsp *p)
{
	struct rd r;

	if (len != 24)
		return -EPROTO;
	rd_init(&r, out, len);
	p->capabilities = rd_u32(&r);
	rd_copy(&r, p->guid, 16);
	p->security_mode = rd_u16(&r);
	p->dialect = rd_u16(&r);
	return r.bad ? -EPROTO : 0;
}
