/*
 * pdu_tree.c - TREE_CONNECT request and response.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "pdu.h"
#include "utf16.h"
#include "wire.h"

/* MS-SMB2 2.2.9 TREE_CONNECT Request (no extension: Flags 0) */
int pdu_tree_connect_enc(struct wr *w, size_t msg_start, const char *path)
{
	size_t off_at;
	long n;

	wr_u16(w, 9);
	wr_u16(w, 0);			/* Flags / Reserved */
	off_at = w->len;
	wr_u16(w, 0);			/* PathOffset */
	wr_u16(w, 0);			/* PathLength */
	wr_patch_u16(w, off_at, (uint16_t)(w->len - msg_start));
	n = utf16_put(w, path, strlen(path));
	if (n < 0)
		return (int)n;
	if (n > UINT16_MAX)
		return -ENAMETOOLONG;
	wr_patch_u16(w, off_at + 2, (uint16_t)n);
	return w->bad ? -ENOMEM : 0;
}

/* MS-SMB2 2.2.10 TREE_CONNECT Response */
int pdu_tree_connect_dec(const uint8_t *msg, size_t len, struct tree_connect_rsp *p)
{
	struct rd r;

	memset(p, 0, sizeof(*p));
	rd_init(&r, msg, len);
	rd_seek(&r, SMB2_HEADER_SIZE);
	if (rd_u16(&r) != 16)
		return -EPROTO;
	p->share_type = rd_u8(&r);
	rd_skip(&r, 1);
	p->share_flags = rd_u32(&r);
	p->capabilities = rd_u32(&r);
	p->maximal_access = rd_u32(&r);
	return r.bad ? -EPROTO : 0;
}
