/*
 * pdu_negotiate.c - NEGOTIATE request and response, with the 3.1.1
 * negotiate contexts.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "pdu.h"
#include "utf16.h"
#include "wire.h"

/* Write one negotiate context header and return where its DataLength is. */
static size_t ctx_begin(struct wr *w, uint16_t type)
{
	size_t at;

	wr_align(w, 8);
	wr_u16(w, type);
	at = w->len;
	wr_u16(w, 0);		/* DataLength, patched by ctx_end */
	wr_u32(w, 0);		/* Reserved */
	return at;
}

static void ctx_end(struct wr *w, size_t at)
{
	wr_patch_u16(w, at, (uint16_t)(w->len - at - 6));
}

/* MS-SMB2 2.2.3 NEGOTIATE Request, 2.2.3.1 NEGOTIATE_CONTEXT */
int pdu_negotiate_enc(struct wr *w, size_t msg_start, const struct negotiate_req *q)
{
	size_t ctx_off_at, at;
	bool smb311 = false;
	uint16_t nctx = 0;
	int i;

	for (i = 0; i < q->ndialects; i++)
		if (q->dialects[i] == SMB2_DIALECT_311)
			smb311 = true;
	wr_u16(w, 36);
	wr_u16(w, (uint16_t)q->ndialects);
	wr_u16(w, q->security_mode);
	wr_u16(w, 0);
	wr_u32(w, q->capabilities);
	wr_bytes(w, q->client_guid, 16);
	ctx_off_at = w->len;
	wr_u32(w, 0);		/* NegotiateContextOffset, or ClientStartTime */
	wr_u16(w, 0);		/* NegotiateContextCount */
	wr_u16(w, 0);
	for (i = 0; i < q->ndialects; i++)
		wr_u16(w, q->dialects[i]);
	if (smb311) {
		/* The contexts start 8-byte aligned from the header. */
		wr_align(w, 8);
		wr_patch_u32(w, ctx_off_at, (uint32_t)(w->len - msg_start));

		at = ctx_begin(w, SMB2_PREAUTH_INTEGRITY_CAPABILITIES);
		wr_u16(w, 1);
		wr_u16(w, sizeof(q->salt));
		wr_u16(w, SMB2_PREAUTH_INTEGRITY_SHA512);
		wr_bytes(w, q->salt, sizeof(q->salt));
		ctx_end(w, at);
		nctx++;

		if (q->nciphers) {
			at = ctx_begin(w, SMB2_ENCRYPTION_CAPABILITIES);
			wr_u16(w, (uint16_t)q->nciphers);
			for (i = 0; i < q->nciphers; i++)
				wr_u16(w, q->ciphers[i]);
			ctx_end(w, at);
			nctx++;
		}
		if (q->nsign_algs) {
			at = ctx_begin(w, SMB2_SIGNING_CAPABILITIES);
			wr_u16(w, (uint16_t)q->nsign_algs);
			for (i = 0; i < q->nsign_algs; i++)
				wr_u16(w, q->sign_algs[i]);
			ctx_end(w, at);
			nctx++;
		}
		if (q->netname && *q->netname) {
			at = ctx_begin(w, SMB2_NETNAME_NEGOTIATE_CONTEXT_ID);
			if (utf16_put(w, q->netname, strlen(q->netname)) < 0)
				return -EILSEQ;
			ctx_end(w, at);
			nctx++;
		}
		wr_patch_u16(w, ctx_off_at + 4, nctx);
	}
	return w->bad ? -ENOMEM : 0;
}

/* One context of the response: each kind at most once, and with exactly
 * one algorithm chosen (MS-SMB2 3.2.5.2). */
static int parse_context(struct negotiate_rsp *p, uint16_t type, struct rd *d)
{
	uint16_t n;

	switch (type) {
	case SMB2_PREAUTH_INTEGRITY_CAPABILITIES:
		if (p->has_preauth)
			return -EPROTO;
		p->has_preauth = true;
		n = rd_u16(d);			/* HashAlgorithmCount */
		rd_skip(d, 2);			/* SaltLength (salt unused) */
		if (n != 1)
			return -EPROTO;
		p->preauth_alg = rd_u16(d);
		break;
	case SMB2_ENCRYPTION_CAPABILITIES:
		if (p->has_cipher)
			return -EPROTO;
		p->has_cipher = true;
		if (rd_u16(d) != 1)
			return -EPROTO;
		p->cipher = rd_u16(d);
		break;
	case SMB2_SIGNING_CAPABILITIES:
		if (p->has_signing)
			return -EPROTO;
		p->has_signing = true;
		if (rd_u16(d) != 1)
			return -EPROTO;
		p->sign_alg = rd_u16(d);
		break;
	default:
		break;	/* compression, netname echo, ...: not used */
	}
	return d->bad ? -EPROTO : 0;
}

/* MS-SMB2 2.2.4 NEGOTIATE Response */
int pdu_negotiate_dec(const uint8_t *msg, size_t len, struct negotiate_rsp *p)
{
	struct rd r, sb, ctx;
	uint16_t sb_off, sb_len, i;
	uint32_t ctx_off;
	int ret;

	memset(p, 0, sizeof(*p));
	rd_init(&r, msg, len);
	rd_seek(&r, SMB2_HEADER_SIZE);
	if (rd_u16(&r) != 65)
		return -EPROTO;
	p->security_mode = rd_u16(&r);
	p->dialect = rd_u16(&r);
	p->ncontexts = rd_u16(&r);
	rd_copy(&r, p->server_guid, 16);
	p->capabilities = rd_u32(&r);
	p->max_transact = rd_u32(&r);
	p->max_read = rd_u32(&r);
	p->max_write = rd_u32(&r);
	p->system_time = rd_u64(&r);
	rd_skip(&r, 8);			/* ServerStartTime */
	sb_off = rd_u16(&r);
	sb_len = rd_u16(&r);
	ctx_off = rd_u32(&r);
	if (r.bad)
		return -EPROTO;
	if (sb_len) {
		sb = rd_sub(&r, sb_off, sb_len);
		if (sb.bad)
			return -EPROTO;
		p->secbuf = sb.p;
		p->secbuf_len = sb.len;
	}
	if (p->dialect != SMB2_DIALECT_311) {
		p->ncontexts = 0;	/* the field is Reserved below 3.1.1 */
		return 0;
	}
	/* Contexts: each 8-byte aligned, within the message. */
	rd_seek(&r, ctx_off);
	for (i = 0; i < p->ncontexts; i++) {
		uint16_t type, dlen;

		if (i)
			rd_skip(&r, (8 - (r.off & 7)) & 7);
		type = rd_u16(&r);
		dlen = rd_u16(&r);
		rd_skip(&r, 4);
		ctx = rd_sub(&r, r.off, dlen);
		rd_skip(&r, dlen);
		if (r.bad)
			return -EPROTO;
		ret = parse_context(p, type, &ctx);
		if (ret)
			return ret;
	}
	return r.bad ? -EPROTO : 0;
}
