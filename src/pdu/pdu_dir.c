/*
 * pdu_dir.c - QUERY_DIRECTORY and its FileIdFullDirectoryInformation
 * entries.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "pdu.h"
#include "utf16.h"
#include "wire.h"

/* MS-SMB2 2.2.33 QUERY_DIRECTORY Request */
int pdu_query_directory_enc(struct wr *w, size_t msg_start, struct smb2_fid fid,
			    uint8_t flags, const char *pattern, uint32_t output_len)
{
	size_t name_at;
	long n;

	wr_u16(w, 33);
	wr_u8(w, FileIdFullDirectoryInformation);
	wr_u8(w, flags);
	wr_u32(w, 0);			/* FileIndex */
	wr_u64(w, fid.persistent);
	wr_u64(w, fid.volatile_);
	name_at = w->len;
	wr_u16(w, 0);
	wr_u16(w, 0);
	wr_u32(w, output_len);
	wr_patch_u16(w, name_at, (uint16_t)(w->len - msg_start));
	n = utf16_put(w, pattern, strlen(pattern));
	if (n < 0)
		return (int)n;
	wr_patch_u16(w, name_at + 2, (uint16_t)n);
	return w->bad ? -ENOMEM : 0;
}

/* MS-SMB2 2.2.34 QUERY_DIRECTORY Response */
int pdu_query_directory_dec(const uint8_t *msg, size_t len, const uint8_t **out, size_t *n)
{
	return pdu_out_buffer_dec(msg, len, out, n);
}

/* MS-FSCC 2.4.18 FileIdFullDirectoryInformation: NextEntryOffset,
 * FileIndex, 4 times, EndOfFile, AllocationSize, FileAttributes,
 * FileNameLength, EaSize, Reserved, FileId, FileName. */
#define DIRENT_FIXED 80

int dirent_next(const uint8_t *buf, size_t n, size_t *pos, struct smb2_dirent *e)
{
	struct rd r, name;
	uint32_t next, name_len;
	size_t at = *pos;

	if (at >= n)
		return 0;
	rd_init(&r, buf, n);
	rd_seek(&r, at);
	next = rd_u32(&r);
	rd_skip(&r, 4);
	e->a.creation_time = rd_u64(&r);
	e->a.access_time = rd_u64(&r);
	e->a.write_time = rd_u64(&r);
	e->a.change_time = rd_u64(&r);
	e->a.end_of_file = rd_u64(&r);
	e->a.allocation_size = rd_u64(&r);
	e->a.attributes = rd_u32(&r);
	name_len = rd_u32(&r);
	e->reparse_tag = rd_u32(&r);
	rd_skip(&r, 4);
	e->file_id = rd_u64(&r);
	name = rd_sub(&r, at + DIRENT_FIXED, name_len);
	if (r.bad || (name_len & 1))
		return -EPROTO;
	/* The next entry starts 8-byte aligned, past this one's name. */
	if (next && (next < DIRENT_FIXED + name_len || (next & 7) || next > n - at))
		return -EPROTO;
	if (!(e->a.attributes & FILE_ATTRIBUTE_REPARSE_POINT))
		e->reparse_tag = 0;
	e->name = name.p;
	e->name_len = name.len;
	*pos = next ? at + next : n;
	return 1;
}
