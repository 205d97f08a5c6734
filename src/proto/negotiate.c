/*
 * negotiate.c - NEGOTIATE (MS-SMB2 3.2.4.2.1-3.2.5.2): what dialect,
 * limits, signing algorithm and cipher a new connection gets; and, for a
 * server that hangs up on SMB2, finding out whether it speaks only SMB1.
 * See negotiate.h.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "log.h"
#include "negotiate.h"
#include "ntstatus.h"
#include "pdu.h"
#include "smb2.h"
#include "spnego.h"
#include "transport.h"
#include "util.h"
#include "wire.h"

/* Below this MS-SMB2 does not let a server go (2.2.4). */
#define MIN_MAX_SIZE 65536
/* The most smbfuse asks for in one READ or WRITE. */
#define CLIENT_MAX_IO (8 * 1024 * 1024)

const char *dialect_name(uint16_t d)
{
	switch (d) {
	case SMB2_DIALECT_202: return "2.0.2";
	case SMB2_DIALECT_210: return "2.1";
	case SMB2_DIALECT_300: return "3.0";
	case SMB2_DIALECT_302: return "3.0.2";
	case SMB2_DIALECT_311: return "3.1.1";
	case SMB2_DIALECT_WILDCARD: return "2.???";
	default: return "unknown";
	}
}

static void seterr(char *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void seterr(char *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, NEGOTIATE_ERRLEN, fmt, ap);
	va_end(ap);
}

/* --- SMB1-only diagnosis ------------------------------------------------ */

/*
 * Samba with only NT1 enabled closes the connection on an SMB2 NEGOTIATE.
 * To tell the user why, ask once more with an SMB1 multi-protocol
 * NEGOTIATE offering "NT LM 0.12", "SMB 2.002" and "SMB 2.???": an
 * SMB1-only server answers in SMB1; an SMB2 server answers with an SMB2
 * NEGOTIATE response (dialect 0x02FF or 0x0202).  Returns 1 for SMB1-only,
 * 0 for "speaks SMB2", -errno if that cannot be told.
 */
static int probe_smb1_only(const struct negotiate_params *o)
{
	static const char *const dialects[] = { "NT LM 0.12", "SMB 2.002", "SMB 2.???" };
	char terr[TRANSPORT_ERRLEN];
	struct iovec iov[1];
	struct wr w;
	uint8_t *frame = NULL;
	size_t flen = 0, bc_at;
	unsigned i;
	int fd = -1, ret;

	ret = transport_connect(o->host, o->port, o->connect_timeout_ms, -1, &fd, terr);
	if (ret)
		return ret;
	/* A server that takes the connection and then says nothing must
	 * not hold the mount: the answer comes within the timeout or not. */
	{
		int ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 30000;
		struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	wr_init(&w);
	wr_u32(&w, 0);				/* frame header, patched below */
	/* [MS-CIFS] 2.2.3.1 SMB header, then 2.2.4.52.1 NEGOTIATE request */
	wr_u32(&w, SMB1_PROTOCOL_ID);
	wr_u8(&w, 0x72);			/* SMB_COM_NEGOTIATE */
	wr_u32(&w, 0);				/* Status */
	wr_u8(&w, 0x18);			/* Flags: caseless, canonical paths */
	wr_u16(&w, 0xC801);			/* Flags2: unicode, NT status, ext sec, long names */
	wr_zero(&w, 12);			/* PIDHigh, SecuritySignature, Reserved */
	wr_u16(&w, 0xFFFF);			/* TID */
	wr_u16(&w, (uint16_t)getpid());
	wr_u16(&w, 0);				/* UID */
	wr_u16(&w, 0);				/* MID */
	wr_u8(&w, 0);				/* WordCount */
	bc_at = w.len;
	wr_u16(&w, 0);
	for (i = 0; i < sizeof(dialects) / sizeof(dialects[0]); i++) {
		wr_u8(&w, 0x02);
		wr_bytes(&w, dialects[i], strlen(dialects[i]) + 1);
	}
	wr_patch_u16(&w, bc_at, (uint16_t)(w.len - bc_at - 2));
	wr_patch_be32(&w, 0, (uint32_t)(w.len - 4));
	if (w.bad) {
		ret = -ENOMEM;
		goto out;
	}
	iov[0].iov_base = w.p;
	iov[0].iov_len = w.len;
	ret = transport_writev(fd, iov, 1, 10000);
	if (!ret)
		ret = transport_read_frame(fd, 65536, &frame, &flen);
	if (ret)
		goto out;
	if (flen >= 4 && le32_get(frame) == SMB1_PROTOCOL_ID)
		ret = 1;
	else if (flen >= 4 && le32_get(frame) == SMB2_PROTOCOL_ID)
		ret = 0;
	else
		ret = -EPROTO;
out:
	free(frame);
	wr_free(&w);
	close(fd);
	return ret;
}

/* --- NEGOTIATE ------------------------------------------------------------- */

static const uint16_t offered_ciphers[] = {
	SMB2_CIPHER_AES128_GCM, SMB2_CIPHER_AES128_CCM,
	SMB2_CIPHER_AES256_GCM, SMB2_CIPHER_AES256_CCM,
};
static const uint16_t offered_sign_algs[] = {
	SMB2_SIGN_AES_GMAC, SMB2_SIGN_AES_CMAC, SMB2_SIGN_HMAC_SHA256,
};

static void describe_offered(const struct conn_info *st, char *buf, size_t n)
{
	size_t used = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < st->noffered && used < n; i++)
		used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? ", " : "",
					 dialect_name(st->offered[i]));
}

static bool offered(const uint16_t *list, size_t n, uint16_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i] == v)
			return true;
	return false;
}

int negotiate(struct conn *conn, const struct negotiate_params *o, struct conn_info *s,
	      uint8_t preauth[SMB2_PREAUTH_HASH_SIZE], char err[NEGOTIATE_ERRLEN])
{
	static const uint16_t all[] = {
		SMB2_DIALECT_202, SMB2_DIALECT_210, SMB2_DIALECT_300,
		SMB2_DIALECT_302, SMB2_DIALECT_311,
	};
	struct conn_info *st = s;
	struct negotiate_req q = { 0 };
	struct negotiate_rsp p;
	struct conn_msg rsp = { 0 };
	struct smb2_hdr h = { .command = SMB2_NEGOTIATE };
	char list[64];
	uint32_t status;
	size_t i, max_io;
	bool has3 = false;
	struct wr w;
	int ret;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (all[i] >= o->min_dialect && all[i] <= o->max_dialect) {
			st->offered[st->noffered++] = all[i];
			if (all[i] >= SMB2_DIALECT_300)
				has3 = true;
		}
	}
	if (!st->noffered) {
		seterr(err, "no SMB dialect lies in the range asked for");
		return -EINVAL;
	}
	describe_offered(st, list, sizeof(list));
	/* The same ClientGuid on every connection of a mount: the server
	 * knows the client by it across reconnects (MS-SMB2 3.2.4.2.2.2). */
	memcpy(st->client_guid, o->client_guid, 16);
	if (RAND_bytes(q.salt, sizeof(q.salt)) != 1) {
		seterr(err, "no random numbers available");
		return -EIO;
	}
	st->client_security_mode = SMB2_NEGOTIATE_SIGNING_ENABLED |
		(o->require_signing ? SMB2_NEGOTIATE_SIGNING_REQUIRED : 0);
	st->client_capabilities = SMB2_GLOBAL_CAP_DFS | SMB2_GLOBAL_CAP_LEASING |
		SMB2_GLOBAL_CAP_LARGE_MTU |
		(has3 ? SMB2_GLOBAL_CAP_ENCRYPTION : 0) |
		/* Multichannel: the server then allows binding channels. */
		(has3 && o->multichannel ? SMB2_GLOBAL_CAP_MULTI_CHANNEL : 0);
	q.security_mode = st->client_security_mode;
	q.capabilities = st->client_capabilities;
	memcpy(q.client_guid, st->client_guid, 16);
	q.dialects = st->offered;
	q.ndialects = st->noffered;
	q.ciphers = offered_ciphers;
	q.nciphers = sizeof(offered_ciphers) / sizeof(offered_ciphers[0]);
	q.sign_algs = offered_sign_algs;
	q.nsign_algs = sizeof(offered_sign_algs) / sizeof(offered_sign_algs[0]);
	q.netname = o->host;

	wr_init(&w);
	pdu_hdr_enc(&w, &h);
	ret = pdu_negotiate_enc(&w, 0, &q);
	if (ret) {
		seterr(err, "cannot encode NEGOTIATE: %s", strerror(-ret));
		goto out;
	}
	ret = conn_call(conn, w.p, w.len, 1, &rsp, 0);
	if (ret) {
		const char *why = conn_error(conn);

		if (ret == -EPROTONOSUPPORT ||
		    (ret == -ENOTCONN && o->diagnose_smb1 && probe_smb1_only(o) == 1))
			seterr(err, "server %s only offers SMB1; smbfuse needs SMB 2.0.2 or later "
			       "(on Samba, set 'server min protocol = SMB2_02' and a max protocol above NT1)",
			       o->host);
		else if (ret == -ETIMEDOUT)
			seterr(err, "server %s did not answer NEGOTIATE within the timeout", o->host);
		else
			seterr(err, "NEGOTIATE with %s failed (offered %s): %s", o->host, list,
			       *why ? why : strerror(-ret));
		goto out;
	}
	/* The preauth hash covers the messages exactly as sent/received. */
	memset(preauth, 0, SMB2_PREAUTH_HASH_SIZE);
	smb2_preauth_update(preauth, w.p, w.len);
	status = conn_msg_status(&rsp);
	if (status != STATUS_SUCCESS) {
		ret = pdu_error_dec(rsp.buf, rsp.len) ? -EPROTO : ntstatus_to_errno(status);
		if (status == STATUS_NOT_SUPPORTED || status == STATUS_INVALID_PARAMETER)
			seterr(err, "server %s supports none of the dialects smbfuse offered (%s): %s%s",
			       o->host, list, ntstatus_name(status),
			       offered(st->offered, (size_t)st->noffered, SMB2_DIALECT_202) ? "" :
			       "; if it speaks only SMB 2.0.2, mount with vers=2.0 to allow that");
		else
			seterr(err, "server %s refused NEGOTIATE (offered %s): %s", o->host, list,
			       ntstatus_name(status));
		goto out;
	}
	ret = pdu_negotiate_dec(rsp.buf, rsp.len, &p);
	if (ret) {
		seterr(err, "malformed NEGOTIATE response from %s", o->host);
		goto out;
	}
	ret = -EPROTO;
	if (!offered(st->offered, (size_t)st->noffered, p.dialect)) {
		seterr(err, "server chose dialect %s (0x%04x), which smbfuse did not offer (%s)%s",
		       dialect_name(p.dialect), p.dialect, list,
		       p.dialect == SMB2_DIALECT_202 ? ": mount with vers=2.0 to allow SMB 2.0.2" : "");
		goto out;
	}
	if (p.max_read < MIN_MAX_SIZE || p.max_write < MIN_MAX_SIZE || p.max_transact < MIN_MAX_SIZE) {
		seterr(err, "server limits are below the 64 KiB minimum of MS-SMB2 "
		       "(MaxRead %u, MaxWrite %u, MaxTransact %u)", p.max_read, p.max_write, p.max_transact);
		goto out;
	}
	if (!(p.security_mode & SMB2_NEGOTIATE_SIGNING_ENABLED) && o->require_signing) {
		seterr(err, "signing was required (sign), but server %s does not offer signing", o->host);
		goto out;
	}
	s->dialect = p.dialect;
	s->server_security_mode = p.security_mode;
	s->server_capabilities = p.capabilities;
	memcpy(s->server_guid, p.server_guid, 16);
	s->max_transact = p.max_transact < CLIENT_MAX_IO ? p.max_transact : CLIENT_MAX_IO;
	max_io = CLIENT_MAX_IO;
	/* Without LARGE_MTU one request carries at most 64 KiB. */
	if (!(p.capabilities & SMB2_GLOBAL_CAP_LARGE_MTU) || p.dialect == SMB2_DIALECT_202)
		max_io = 65536;
	s->max_read = p.max_read < max_io ? p.max_read : (uint32_t)max_io;
	s->max_write = p.max_write < max_io ? p.max_write : (uint32_t)max_io;
	s->sign_alg = p.dialect >= SMB2_DIALECT_300 ? SMB2_SIGN_AES_CMAC : SMB2_SIGN_HMAC_SHA256;
	s->cipher = SMB2_CIPHER_NONE;
	if (p.dialect == SMB2_DIALECT_311) {
		if (!p.has_preauth || p.preauth_alg != SMB2_PREAUTH_INTEGRITY_SHA512) {
			seterr(err, "3.1.1 NEGOTIATE response lacks SHA-512 preauth integrity");
			goto out;
		}
		if (p.has_cipher && p.cipher != 0 &&
		    !offered(offered_ciphers, sizeof(offered_ciphers) / 2, p.cipher)) {
			seterr(err, "server chose cipher %u, which smbfuse did not offer", p.cipher);
			goto out;
		}
		if (p.has_cipher)
			s->cipher = (enum smb2_cipher)p.cipher;
		if (p.has_signing) {
			if (!offered(offered_sign_algs, sizeof(offered_sign_algs) / 2, p.sign_alg)) {
				seterr(err, "server chose signing algorithm %u, which smbfuse did not offer",
				       p.sign_alg);
				goto out;
			}
			s->sign_alg = (enum smb2_sign_alg)p.sign_alg;
		}
		smb2_preauth_update(preauth, rsp.buf, rsp.len);
	} else if (p.dialect >= SMB2_DIALECT_300 && (p.capabilities & SMB2_GLOBAL_CAP_ENCRYPTION)) {
		s->cipher = SMB2_CIPHER_AES128_CCM;
	}
	if (spnego_server_mechs(p.secbuf, p.secbuf_len, &s->server_mechs) != 0) {
		seterr(err, "malformed SPNEGO token in the NEGOTIATE response");
		goto out;
	}
	conn_set_negotiated(conn, s);
	ret = 0;
out:
	conn_msg_free(&rsp);
	wr_free(&w);
	return ret;
}
