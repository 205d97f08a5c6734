/*
 * pdu_create.c - CREATE and CLOSE, and the lease create context.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "pdu.h"
#include "utf16.h"
#include "wire.h"

const struct smb2_fid smb2_fid_related = { SMB2_FILEID_RELATED, SMB2_FILEID_RELATED };

/* The lease request/response context is named "RqLs" (MS-SMB2 2.2.13.2.8). */
static const uint8_t lease_tag[4] = { 'R', 'q', 'L', 's' };
/* Durable handles: requests and their answers (2.2.13.2.3, 2.2.13.2.11,
 * 2.2.14.2.3, 2.2.14.2.12) and reconnects (2.2.13.2.4, 2.2.13.2.12). */
static const uint8_t dhnq_tag[4] = { 'D', 'H', 'n', 'Q' };
static const uint8_t dh2q_tag[4] = { 'D', 'H', '2', 'Q' };
static const uint8_t dhnc_tag[4] = { 'D', 'H', 'n', 'C' };
static const uint8_t dh2c_tag[4] = { 'D', 'H', '2', 'C' };

/* The body offset of the FileId in each request that carries one. */
static int fid_offset(uint16_t command)
{
	switch (command) {
	case SMB2_CLOSE: case SMB2_FLUSH: case SMB2_LOCK: case SMB2_IOCTL:
	case SMB2_QUERY_DIRECTORY: case SMB2_CHANGE_NOTIFY:
		return 8;
	case SMB2_READ: case SMB2_WRITE: case SMB2_SET_INFO:
		return 16;
	case SMB2_QUERY_INFO:
		return 24;
	default:
		return -1;
	}
}

int pdu_patch_fid(uint8_t *msg, size_t len, struct smb2_fid fid)
{
	int off;

	if (len < SMB2_HEADER_SIZE)
		return -EINVAL;
	off = fid_offset(le16_get(msg + SMB2_HDR_COMMAND));
	if (off < 0 || len < SMB2_HEADER_SIZE + (size_t)off + 16)
		return -EINVAL;
	le64_put(msg + SMB2_HEADER_SIZE + off, fid.persistent);
	le64_put(msg + SMB2_HEADER_SIZE + off + 8, fid.volatile_);
	return 0;
}

/* One create context (2.2.13.2): 8-aligned, chained to the one before
 * through its Next field.  *prev is where the previous one starts (0:
 * none yet; ctx_at is where CreateContextsOffset/Length live). */
static void context_add(struct wr *w, size_t msg_start, size_t ctx_at, size_t *prev,
			const uint8_t tag[4], const uint8_t *data, size_t data_len)
{
	size_t c;

	wr_align(w, 8);
	c = w->len;
	if (*prev)
		wr_patch_u32(w, *prev, (uint32_t)(c - *prev));
	else
		wr_patch_u32(w, ctx_at, (uint32_t)(c - msg_start));
	*prev = c;
	wr_u32(w, 0);			/* Next */
	wr_u16(w, 16);			/* NameOffset from the context start */
	wr_u16(w, 4);
	wr_u16(w, 0);
	wr_u16(w, 24);			/* DataOffset */
	wr_u32(w, (uint32_t)data_len);
	wr_bytes(w, tag, 4);
	wr_zero(w, 4);
	wr_bytes(w, data, data_len);
	if (w->bad)
		return;
	wr_patch_u32(w, ctx_at + 4, (uint32_t)(w->len - le32_get(w->p + ctx_at) - msg_start));
}

/* MS-SMB2 2.2.13 CREATE Request (+ 2.2.13.2 SMB2_CREATE_CONTEXT) */
int pdu_create_enc(struct wr *w, size_t msg_start, const struct create_req *q)
{
	size_t name_at, ctx_at, prev = 0;
	long n;

	wr_u16(w, 57);
	wr_u8(w, 0);			/* SecurityFlags */
	wr_u8(w, q->oplock);
	wr_u32(w, SMB2_IMPERSONATION_IMPERSONATION);
	wr_u64(w, 0);			/* SmbCreateFlags */
	wr_u64(w, 0);			/* Reserved */
	wr_u32(w, q->access);
	wr_u32(w, q->attributes);
	wr_u32(w, q->share);
	wr_u32(w, q->disposition);
	wr_u32(w, q->options);
	name_at = w->len;
	wr_u16(w, 0);			/* NameOffset */
	wr_u16(w, 0);			/* NameLength */
	ctx_at = w->len;
	wr_u32(w, 0);			/* CreateContextsOffset */
	wr_u32(w, 0);			/* CreateContextsLength */
	wr_patch_u16(w, name_at, (uint16_t)(w->len - msg_start));
	n = utf16_put(w, q->name, strlen(q->name));
	if (n < 0)
		return (int)n;
	if (n > UINT16_MAX)
		return -ENAMETOOLONG;
	wr_patch_u16(w, name_at + 2, (uint16_t)n);
	/* The Buffer is never empty (an empty name still sends a byte). */
	if (n == 0)
		wr_u8(w, 0);
	if (q->oplock == SMB2_OPLOCK_LEVEL_LEASE && q->lease_key) {
		/* SMB2_CREATE_REQUEST_LEASE: key, state, flags, duration */
		uint8_t d[32] = { 0 };

		memcpy(d, q->lease_key, 16);
		le32_put(d + 16, q->lease_state);
		context_add(w, msg_start, ctx_at, &prev, lease_tag, d, sizeof(d));
	}
	if (q->durable == DURABLE_V2 && q->reclaim) {
		uint8_t d[36] = { 0 };	/* FileId, CreateGuid, Flags */

		le64_put(d, q->reclaim_fid.persistent);
		le64_put(d + 8, q->reclaim_fid.volatile_);
		memcpy(d + 16, q->create_guid, 16);
		context_add(w, msg_start, ctx_at, &prev, dh2c_tag, d, sizeof(d));
	} else if (q->durable == DURABLE_V2) {
		uint8_t d[32] = { 0 };	/* Timeout, Flags, Reserved, CreateGuid */

		le32_put(d, q->durable_timeout_ms);
		memcpy(d + 16, q->create_guid, 16);
		context_add(w, msg_start, ctx_at, &prev, dh2q_tag, d, sizeof(d));
	} else if (q->durable == DURABLE_V1 && q->reclaim) {
		uint8_t d[16];

		le64_put(d, q->reclaim_fid.persistent);
		le64_put(d + 8, q->reclaim_fid.volatile_);
		context_add(w, msg_start, ctx_at, &prev, dhnc_tag, d, sizeof(d));
	} else if (q->durable == DURABLE_V1) {
		static const uint8_t d[16];

		context_add(w, msg_start, ctx_at, &prev, dhnq_tag, d, sizeof(d));
	}
	return w->bad ? -ENOMEM : 0;
}

/* The create contexts of a response: pick out the lease. */
static int create_contexts_dec(struct rd *ctxs, struct create_rsp *p)
{
	uint32_t next;
	uint16_t name_off, name_len, data_off;
	uint32_t data_len;
	struct rd c, name, data;
	size_t at;

	while (rd_left(ctxs)) {
		at = ctxs->off;
		next = rd_u32(ctxs);
		name_off = rd_u16(ctxs);
		name_len = rd_u16(ctxs);
		rd_skip(ctxs, 2);
		data_off = rd_u16(ctxs);
		data_len = rd_u32(ctxs);
		if (ctxs->bad)
			return -EPROTO;
		c = rd_sub(ctxs, at, next ? next : ctxs->len - at);
		name = rd_sub(&c, name_off, name_len);
		data = rd_sub(&c, data_off, data_len);
		if (c.bad || ctxs->bad)
			return -EPROTO;
		if (name.len == 4 && memcmp(name.p, lease_tag, 4) == 0 && data.len >= 32) {
			p->has_lease = true;
			rd_copy(&data, p->lease_key, 16);
			p->lease_state = rd_u32(&data);
		} else if (name.len == 4 && memcmp(name.p, dh2q_tag, 4) == 0 && data.len >= 8) {
			p->durable = true;
			p->durable_timeout_ms = rd_u32(&data);
		} else if (name.len == 4 && memcmp(name.p, dhnq_tag, 4) == 0) {
			p->durable = true;
		}
		if (!next)
			break;
		if (next & 7)
			return -EPROTO;
		rd_seek(ctxs, at + next);
	}
	return ctxs->bad ? -EPROTO : 0;
}

static void attrs_dec(struct rd *r, struct smb2_attrs *a)
{
	a->creation_time = rd_u64(r);
	a->access_time = rd_u64(r);
	a->write_time = rd_u64(r);
	a->change_time = rd_u64(r);
	a->allocation_size = rd_u64(r);
	a->end_of_file = rd_u64(r);
	a->attributes = rd_u32(r);
}

/* MS-SMB2 2.2.14 CREATE Response */
int pdu_create_dec(const uint8_t *msg, size_t len, struct create_rsp *p)
{
	struct rd r, ctxs;
	uint32_t off, n;

	memset(p, 0, sizeof(*p));
	rd_init(&r, msg, len);
	rd_seek(&r, SMB2_HEADER_SIZE);
	if (rd_u16(&r) != 89)
		return -EPROTO;
	p->oplock = rd_u8(&r);
	rd_skip(&r, 1);			/* Flags */
	p->create_action = rd_u32(&r);
	attrs_dec(&r, &p->a);
	rd_skip(&r, 4);			/* Reserved2 */
	p->fid.persistent = rd_u64(&r);
	p->fid.volatile_ = rd_u64(&r);
	off = rd_u32(&r);
	n = rd_u32(&r);
	if (r.bad)
		return -EPROTO;
	if (n) {
		ctxs = rd_sub(&r, off, n);
		if (r.bad || create_contexts_dec(&ctxs, p) != 0)
			return -EPROTO;
	}
	return 0;
}

/* MS-SMB2 2.2.15 CLOSE Request */
int pdu_close_enc(struct wr *w, struct smb2_fid fid, uint16_t flags)
{
	wr_u16(w, 24);
	wr_u16(w, flags);
	wr_u32(w, 0);
	wr_u64(w, fid.persistent);
	wr_u64(w, fid.volatile_);
	return w->bad ? -ENOMEM : 0;
}

/* MS-SMB2 2.2.16 CLOSE Response */
int pdu_close_dec(const uint8_t *msg, size_t len, struct close_rsp *p)
{
	struct rd r;

	memset(p, 0, sizeof(*p));
	rd_init(&r, msg, len);
	rd_seek(&r, SMB2_HEADER_SIZE);
	if (rd_u16(&r) != 60)
		return -EPROTO;
	p->flags = rd_u16(&r);
	rd_skip(&r, 4);
	attrs_dec(&r, &p->a);
	return r.bad ? -EPROTO : 0;
}
