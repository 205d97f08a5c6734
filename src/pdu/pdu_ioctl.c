/*
 * pdu_ioctl.c - IOCTL request and response, and the payloads of the
 * FSCTLs the client core uses.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

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

/* MS-SMB2 2.2.32.5 NETWORK_INTERFACE_INFO Response: entries of 152
 * bytes (Next, IfIndex, Capability, Reserved, LinkSpeed, then a 128-byte
 * SOCKADDR_STORAGE: Family, and for IPv4 Port, IPv4Address, Reserved;
 * for IPv6 Port, FlowInfo, IPv6Address, ScopeId), chained by Next, an
 * offset from the entry's start; 0 ends the list.  Each Next must move
 * forward past the entry, so a list can neither loop nor overlap. */
#define NETIF_ENTRY_SIZE 152
#define NETIF_FAMILY_V4 0x0002
#define NETIF_FAMILY_V6 0x0017

int pdu_netif_dec(const uint8_t *out, size_t len, struct netif *ifs, size_t max, size_t *n)
{
	size_t pos = 0;
	uint32_t next;
	uint16_t family;
	struct rd r;

	*n = 0;
	if (len == 0)
		return 0;		/* no interfaces to tell */
	for (;;) {
		struct netif *f = *n < max ? &ifs[*n] : NULL;
		struct netif skip;

		if (len - pos < NETIF_ENTRY_SIZE)
			return -EPROTO;
		if (!f)
			f = &skip;	/* past max: still checked, not kept */
		memset(f, 0, sizeof(*f));
		rd_init(&r, out + pos, NETIF_ENTRY_SIZE);
		next = rd_u32(&r);
		f->if_index = rd_u32(&r);
		f->capability = rd_u32(&r);
		rd_skip(&r, 4);
		f->link_speed = rd_u64(&r);
		family = rd_u16(&r);
		rd_skip(&r, 2);			/* Port: 0 */
		if (family == NETIF_FAMILY_V4) {
			f->family = AF_INET;
			rd_copy(&r, f->addr, 4);
		} else if (family == NETIF_FAMILY_V6) {
			f->family = AF_INET6;
			rd_skip(&r, 4);		/* FlowInfo */
			rd_copy(&r, f->addr, 16);
			f->scope_id = rd_u32(&r);
		}
		if (r.bad)
			return -EPROTO;
		if (f != &skip)
			(*n)++;
		if (next == 0)
			return 0;
		if (next < NETIF_ENTRY_SIZE || next > len - pos)
			return -EPROTO;
		pos += next;
	}
}
