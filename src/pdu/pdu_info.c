/*
 * pdu_info.c - QUERY_INFO, SET_INFO, and the MS-FSCC information
 * structures smbfuse reads and writes through them.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "pdu.h"
#include "utf16.h"
#include "wire.h"

/* MS-SMB2 2.2.37 QUERY_INFO Request */
int pdu_query_info_enc(struct wr *w, size_t msg_start, const struct query_info_req *q)
{
	size_t in_at;

	wr_u16(w, 41);
	wr_u8(w, q->info_type);
	wr_u8(w, q->info_class);
	wr_u32(w, q->output_len);
	in_at = w->len;
	wr_u16(w, 0);			/* InputBufferOffset */
	wr_u16(w, 0);
	wr_u32(w, (uint32_t)q->input_len);
	wr_u32(w, q->additional);
	wr_u32(w, 0);			/* Flags */
	wr_u64(w, q->fid.persistent);
	wr_u64(w, q->fid.volatile_);
	if (q->input_len) {
		wr_patch_u16(w, in_at, (uint16_t)(w->len - msg_start));
		wr_bytes(w, q->input, q->input_len);
	} else {
		wr_u8(w, 0);
	}
	return w->bad ? -ENOMEM : 0;
}

/* MS-SMB2 2.2.38 QUERY_INFO Response (also read for BUFFER_OVERFLOW):
 * the same shape as the QUERY_DIRECTORY response. */
int pdu_query_info_dec(const uint8_t *msg, size_t len, const uint8_t **out, size_t *n)
{
	return pdu_out_buffer_dec(msg, len, out, n);
}

/* MS-SMB2 2.2.39 SET_INFO Request */
int pdu_set_info_enc(struct wr *w, size_t msg_start, uint8_t info_type, uint8_t info_class,
		     struct smb2_fid fid, const uint8_t *buf, size_t n)
{
	size_t off_at;

	if (n > UINT32_MAX)
		return -EMSGSIZE;
	wr_u16(w, 33);
	wr_u8(w, info_type);
	wr_u8(w, info_class);
	wr_u32(w, (uint32_t)n);
	off_at = w->len;
	wr_u16(w, 0);			/* BufferOffset */
	wr_u16(w, 0);
	wr_u32(w, 0);			/* AdditionalInformation */
	wr_u64(w, fid.persistent);
	wr_u64(w, fid.volatile_);
	wr_patch_u16(w, off_at, (uint16_t)(w->len - msg_start));
	if (n)
		wr_bytes(w, buf, n);
	else
		wr_u8(w, 0);
	return w->bad ? -ENOMEM : 0;
}

/* MS-SMB2 2.2.40 SET_INFO Response */
int pdu_set_info_dec(const uint8_t *msg, size_t len)
{
	struct rd r;

	rd_init(&r, msg, len);
	rd_seek(&r, SMB2_HEADER_SIZE);
	if (rd_u16(&r) != 2)
		return -EPROTO;
	return r.bad ? -EPROTO : 0;
}

/* MS-FSCC 2.4.2 FileAllInformation: Basic (40), Standard (24), Internal
 * (8), EA (4), Access (4), Position (8), Mode (4), Alignment (4), Name. */
int file_all_info_dec(const uint8_t *buf, size_t n, struct file_all_info *f)
{
	struct rd r;

	memset(f, 0, sizeof(*f));
	rd_init(&r, buf, n);
	f->a.creation_time = rd_u64(&r);
	f->a.access_time = rd_u64(&r);
	f->a.write_time = rd_u64(&r);
	f->a.change_time = rd_u64(&r);
	f->a.attributes = rd_u32(&r);
	rd_skip(&r, 4);
	f->a.allocation_size = rd_u64(&r);
	f->a.end_of_file = rd_u64(&r);
	f->nlink = rd_u32(&r);
	f->delete_pending = rd_u8(&r) != 0;
	f->directory = rd_u8(&r) != 0;
	rd_skip(&r, 2);
	f->index_number = rd_u64(&r);
	f->ea_size = rd_u32(&r);
	rd_skip(&r, 4 + 8 + 4 + 4);	/* Access, Position, Mode, Alignment */
	rd_skip(&r, 4);			/* FileNameLength: the name is not used */
	return r.bad ? -EPROTO : 0;
}

/* MS-FSCC 2.5.4 FileFsFullSizeInformation */
int fs_full_size_info_dec(const uint8_t *buf, size_t n, struct fs_full_size_info *f)
{
	struct rd r;

	rd_init(&r, buf, n);
	f->total_units = rd_u64(&r);
	f->caller_avail_units = rd_u64(&r);
	f->actual_avail_units = rd_u64(&r);
	f->sectors_per_unit = rd_u32(&r);
	f->bytes_per_sector = rd_u32(&r);
	return r.bad ? -EPROTO : 0;
}

/* MS-FSCC 2.4.37.2 FILE_RENAME_INFORMATION_TYPE_2 (FileLinkInformation
 * has the same layout) */
int file_rename_info_enc(struct wr *w, bool replace, const char *target)
{
	size_t len_at;
	long n;

	wr_u8(w, replace ? 1 : 0);
	wr_zero(w, 7);
	wr_u64(w, 0);			/* RootDirectory */
	len_at = w->len;
	wr_u32(w, 0);
	n = utf16_put(w, target, strlen(target));
	if (n < 0)
		return (int)n;
	wr_patch_u32(w, len_at, (uint32_t)n);
	return w->bad ? -ENOMEM : 0;
}
