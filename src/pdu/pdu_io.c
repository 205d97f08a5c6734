/*
 * pdu_io.c - READ, WRITE and FLUSH.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "pdu.h"
#include "wire.h"

/* MS-SMB2 2.2.17 FLUSH Request */
int pdu_flush_enc(struct wr *w, struct smb2_fid fid)
{
	wr_u16(w, 24);
	wr_u16(w, 0);
	wr_u32(w, 0);
	wr_u64(w, fid.persistent);
	wr_u64(w, fid.volatile_);
	return w->bad ? -ENOMEM : 0;
}

/* MS-SMB2 2.2.19 READ Request */
int pdu_read_enc(struct wr *w, struct smb2_fid fid, uint64_t offset, uint32_t length)
{
	wr_u16(w, 49);
	wr_u8(w, 0x50);			/* Padding: data right after the 80-byte response */
	wr_u8(w, 0);			/* Flags */
	wr_u32(w, length);
	wr_u64(w, offset);
	wr_u64(w, fid.persistent);
	wr_u64(w, fid.volatile_);
	wr_u32(w, 0);			/* MinimumCount */
	wr_u32(w, 0);			/* Channel */
	wr_u32(w, 0);			/* RemainingBytes */
	wr_u16(w, 0);			/* ReadChannelInfoOffset */
	wr_u16(w, 0);			/* ReadChannelInfoLength */
	wr_u8(w, 0);			/* Buffer: one byte, as required */
	return w->bad ? -ENOMEM : 0;
}

/* MS-SMB2 2.2.20 READ Response, its fixed part only (the 16 bytes after
 * the header): where its data starts in the message and how long it is,
 * so a receiver can read the data straight to where it belongs. */
int pdu_read_head_dec(const uint8_t *msg, size_t len, size_t *data_off, uint32_t *count)
{
	struct rd r;

	rd_init(&r, msg, len);
	rd_seek(&r, SMB2_HEADER_SIZE);
	if (rd_u16(&r) != 17)
		return -EPROTO;
	*data_off = rd_u8(&r);
	rd_skip(&r, 1);
	*count = rd_u32(&r);
	rd_skip(&r, 8);			/* DataRemaining, Reserved2 */
	return r.bad ? -EPROTO : 0;
}

/* MS-SMB2 2.2.20 READ Response */
int pdu_read_dec(const uint8_t *msg, size_t len, const uint8_t **data, size_t *n)
{
	struct rd r, d;
	size_t off;
	uint32_t count;

	*data = NULL;
	*n = 0;
	if (pdu_read_head_dec(msg, len, &off, &count) != 0)
		return -EPROTO;
	if (count) {
		rd_init(&r, msg, len);
		d = rd_sub(&r, off, count);
		if (r.bad)
			return -EPROTO;
		*data = d.p;
		*n = d.len;
	}
	return 0;
}

/* MS-SMB2 2.2.21 WRITE Request */
int pdu_write_enc(struct wr *w, size_t msg_start, struct smb2_fid fid, uint64_t offset,
		  const void *data, uint32_t n)
{
	size_t off_at;

	wr_u16(w, 49);
	off_at = w->len;
	wr_u16(w, 0);			/* DataOffset */
	wr_u32(w, n);
	wr_u64(w, offset);
	wr_u64(w, fid.persistent);
	wr_u64(w, fid.volatile_);
	wr_u32(w, 0);			/* Channel */
	wr_u32(w, 0);			/* RemainingBytes */
	wr_u16(w, 0);			/* WriteChannelInfoOffset */
	wr_u16(w, 0);			/* WriteChannelInfoLength */
	wr_u32(w, 0);			/* Flags */
	wr_patch_u16(w, off_at, (uint16_t)(w->len - msg_start));
	if (n == 0)
		wr_u8(w, 0);		/* the Buffer is never empty */
	else if (data)
		wr_bytes(w, data, n);
	/* else the n bytes go out of line, right behind (conn_data) */
	return w->bad ? -ENOMEM : 0;
}

/* MS-SMB2 2.2.22 WRITE Response */
int pdu_write_dec(const uint8_t *msg, size_t len, uint32_t *count)
{
	struct rd r;

	rd_init(&r, msg, len);
	rd_seek(&r, SMB2_HEADER_SIZE);
	if (rd_u16(&r) != 17)
		return -EPROTO;
	rd_skip(&r, 2);
	*count = rd_u32(&r);
	rd_skip(&r, 8);
	return r.bad ? -EPROTO : 0;
}
