/*
 * netif.c - FSCTL_QUERY_NETWORK_INTERFACE_INFO (see netif.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "netif.h"
#include "ntstatus.h"
#include "request.h"
#include "smb2.h"
#include "wire.h"

/* The answer is 152 bytes an interface: room for NETIF_MAX and more. */
#define NETIF_OUTPUT_MAX 65536

int netif_query(struct tree *t, struct netif *ifs, size_t max, size_t *n)
{
	struct ioctl_req q = {
		.ctl_code = FSCTL_QUERY_NETWORK_INTERFACE_INFO,
		.max_output = NETIF_OUTPUT_MAX,
		.flags = SMB2_0_IOCTL_IS_FSCTL,
	};
	struct conn_msg rsp = { 0 };
	struct request rq = { 0 };
	struct ioctl_rsp p;
	struct smb2_hdr h;
	uint32_t status;
	struct wr w;
	int ret;

	*n = 0;
	/* Not about a file: FileId all ones (MS-SMB2 2.2.31). */
	memset(q.file_id, 0xFF, sizeof(q.file_id));
	memset(&h, 0, sizeof(h));
	h.command = SMB2_IOCTL;
	h.credit_charge = 1;
	wr_init(&w);
	pdu_hdr_enc(&w, &h);
	ret = pdu_ioctl_enc(&w, 0, &q);
	if (ret)
		goto out;
	rq.buf = w.p;
	rq.len = w.len;
	rq.n = 1;
	ret = tree_request(t, &rq, &rsp);
	if (ret)
		goto out;
	status = conn_msg_status(&rsp);
	if (status == STATUS_NOT_SUPPORTED || status == STATUS_INVALID_DEVICE_REQUEST ||
	    status == STATUS_NOT_IMPLEMENTED) {
		ret = -EOPNOTSUPP;
		goto out;
	}
	if (status != STATUS_SUCCESS) {
		ret = ntstatus_to_errno(status);
		goto out;
	}
	if (pdu_ioctl_dec(rsp.buf, rsp.len, &p) != 0 ||
	    pdu_netif_dec(p.output, p.output_len, ifs, max, n) != 0)
		ret = -EPROTO;
out:
	conn_msg_free(&rsp);
	wr_free(&w);
	return ret;
}

void netif_describe(const struct netif *f, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN] = "?";
	const char *unit = "bit/s";
	uint64_t speed = f->link_speed;

	if (f->family == AF_INET || f->family == AF_INET6)
		inet_ntop(f->family, f->addr, addr, sizeof(addr));
	if (speed >= 1000000000 && speed % 1000000000 == 0) {
		speed /= 1000000000;
		unit = "Gbit/s";
	} else if (speed >= 1000000 && speed % 1000000 == 0) {
		speed /= 1000000;
		unit = "Mbit/s";
	}
	snprintf(buf, size, "%s (%" PRIu64 " %s%s%s)", addr, speed, unit,
		 (f->capability & NETIF_CAP_RSS) ? ", RSS" : "",
		 (f->capability & NETIF_CAP_RDMA) ? ", RDMA" : "");
}
