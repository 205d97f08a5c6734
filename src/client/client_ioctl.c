/*
 * client_ioctl.c - verbs built on FSCTLs: server-side copy
 * (FSCTL_SRV_REQUEST_RESUME_KEY + FSCTL_SRV_COPYCHUNK_WRITE, MS-SMB2
 * 2.2.31.1 / 2.2.32.1) and fallocate (FSCTL_SET_ZERO_DATA, allocation
 * and end-of-file information).
 */
#include "config.h"

#include <errno.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>

#include "client_int.h"
#include "ntstatus.h"
#include "smb2.h"

/* Samba's and Windows' defaults: 256 chunks of up to 1 MiB, 16 MiB per
 * request. */
#define CHUNK_MAX (1024 * 1024)
#define CHUNKS_PER_REQUEST 16

/* One FSCTL on an open handle; the response stays in *rsp. */
static int handle_ioctl(struct client *c, struct smb_open *o, uint32_t ctl, const uint8_t *in,
			size_t inlen, uint32_t max_out, struct conn_msg *rsp, struct ioctl_rsp *p,
			uint32_t *status)
{
	struct mid_req m = {
		.kind = MID_IOCTL, .ctl_code = ctl, .input = in, .input_len = inlen,
		.output_len = max_out,
	};
	int ret = handle_request(c, o, &m, status, rsp);

	if (!ret && pdu_ioctl_dec(rsp->buf, rsp->len, p) != 0) {
		conn_msg_free(rsp);
		ret = -EIO;
	}
	return ret;
}

ssize_t client_copy_range(struct client *c, struct client_file *in, off_t off_in,
			  struct client_file *out, off_t off_out, size_t len)
{
	uint8_t key[24];
	struct conn_msg rsp = { 0 };
	struct ioctl_rsp p;
	struct wr w;
	uint32_t status;
	size_t done = 0, batch, chunk;
	struct stat src;
	int i, ret;

	/* copy_file_range(2) copies what there is: a range past the end of
	 * the source is a short copy (the server refuses a chunk that
	 * reaches beyond it).  The size comes from the server, not a cache
	 * another name of the file may have left stale, and after what
	 * this mount wrote to either file is there. */
	wb_flush_like(c, in);
	wb_flush_like(c, out);
	ret = handle_stat(c, in, &src);
	if (ret)
		return ret;
	if (off_in >= src.st_size)
		return 0;
	if ((uint64_t)(src.st_size - off_in) < len)
		len = (size_t)(src.st_size - off_in);
	ret = handle_ioctl(c, in->open, FSCTL_SRV_REQUEST_RESUME_KEY, NULL, 0, 32, &rsp, &p, &status);
	if (ret)
		return ret == -EOPNOTSUPP || ret == -EINVAL ? -EOPNOTSUPP : ret;
	if (p.output_len < 24) {
		conn_msg_free(&rsp);
		return -EIO;
	}
	memcpy(key, p.output, 24);
	conn_msg_free(&rsp);

	while (done < len) {
		/* MS-SMB2 2.2.31.1 SRV_COPYCHUNK_COPY */
		wr_init(&w);
		wr_bytes(&w, key, 24);
		wr_u32(&w, 0);		/* ChunkCount, patched */
		wr_u32(&w, 0);
		batch = 0;
		for (i = 0; i < CHUNKS_PER_REQUEST && done + batch < len; i++) {
			chunk = len - done - batch < CHUNK_MAX ? len - done - batch : CHUNK_MAX;
			wr_u64(&w, (uint64_t)(off_in + (off_t)(done + batch)));
			wr_u64(&w, (uint64_t)(off_out + (off_t)(done + batch)));
			wr_u32(&w, (uint32_t)chunk);
			wr_u32(&w, 0);
			batch += chunk;
		}
		wr_patch_u32(&w, 24, (uint32_t)i);
		ret = w.bad ? -ENOMEM :
			handle_ioctl(c, out->open, FSCTL_SRV_COPYCHUNK_WRITE, w.p, w.len, 12, &rsp, &p,
				     &status);
		wr_free(&w);
		if (ret) {
			if (done)
				break;
			return ret == -EINVAL || ret == -EOPNOTSUPP ? -EOPNOTSUPP : ret;
		}
		/* SRV_COPYCHUNK_RESPONSE: ChunksWritten, ChunkBytesWritten,
		 * TotalBytesWritten */
		if (p.output_len < 12) {
			conn_msg_free(&rsp);
			return done ? (ssize_t)done : -EIO;
		}
		chunk = le32_get(p.output + 8);
		conn_msg_free(&rsp);
		if (chunk > batch)
			return -EIO;
		done += chunk;
		if (chunk < batch)
			break;		/* source ended */
	}
	attrcache_forget(c->cache, out->path);
	file_changed(c, out->path);
	return (ssize_t)done;
}

int client_fallocate(struct client *c, struct client_file *f, int mode, off_t off, off_t len)
{
	struct conn_msg rsp = { 0 };
	struct ioctl_rsp p;
	struct stat st;
	uint8_t buf[16];
	uint32_t status;
	int ret;

	if (off < 0 || len <= 0)
		return -EINVAL;
	wb_flush_like(c, f);
	if (mode == (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)) {
		/* MS-FSCC 2.3.67 FILE_ZERO_DATA_INFORMATION */
		le64_put(buf, (uint64_t)off);
		le64_put(buf + 8, (uint64_t)(off + len));
		file_changed(c, f->path);
		ret = handle_ioctl(c, f->open, FSCTL_SET_ZERO_DATA, buf, 16, 0, &rsp, &p, &status);
		file_changed(c, f->path);
		conn_msg_free(&rsp);
		attrcache_forget(c->cache, f->path);
		return ret == -EINVAL ? -EOPNOTSUPP : ret;
	}
	if (mode != 0 && mode != FALLOC_FL_KEEP_SIZE)
		return -EOPNOTSUPP;
	ret = client_fstat(c, f, &st);
	if (ret)
		return ret;
	if (off + len <= st.st_size)
		return 0;
	if (mode == FALLOC_FL_KEEP_SIZE) {
		/* MS-FSCC 2.4.4 FileAllocationInformation */
		struct mid_req m = {
			.kind = MID_SET_INFO, .info_type = SMB2_0_INFO_FILE,
			.info_class = FileAllocationInformation, .input = buf, .input_len = 8,
		};

		le64_put(buf, (uint64_t)(off + len));
		file_changed(c, f->path);
		ret = handle_request(c, f->open, &m, NULL, NULL);
		attrcache_forget(c->cache, f->path);
		return ret;
	}
	return client_truncate(c, NULL, f, off + len);
}
