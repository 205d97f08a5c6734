/*
 * session.c - NEGOTIATE, SESSION_SETUP (SPNEGO/NTLMSSP), keys,
 * TREE_CONNECT and secure negotiate (MS-SMB2 3.2.4.2, 3.2.5.2-3.2.5.5,
 * 3.2.5.14.12).  See session.h.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "auth_krb5.h"
#include "log.h"
#include "ntlm.h"
#include "ntstatus.h"
#include "pdu.h"
#include "session.h"
#include "smb2.h"
#include "spnego.h"
#include "transport.h"
#include "util.h"
#include "wire.h"

/* Frames may hold a message of max_read/max_write plus headers and a
 * compound around it; this is the slack allowed beyond the largest. */
#define FRAME_SLACK (64 * 1024)
/* Below this MS-SMB2 does not let a server go (2.2.4). */
#define MIN_MAX_SIZE 65536
/* The most smbfuse asks for in one READ or WRITE. */
#define CLIENT_MAX_IO (8 * 1024 * 1024)
/* The longest authentication session key kept: Kerberos AES-256 gives 32
 * bytes (NTLM 16); the 256-bit ciphers use all of it (MS-SMB2 3.2.5.3.1). */
#define SESSION_KEY_MAX AUTH_KRB5_MAX_KEY

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
	vsnprintf(err, SESSION_ERRLEN, fmt, ap);
	va_end(ap);
}

void session_hdr(const struct session *s, struct smb2_hdr *h, uint16_t command)
{
	memset(h, 0, sizeof(*h));
	h->command = command;
	h->session_id = s->session_id;
	h->tree_id = s->tree_id;
}

/* The state of one session_open, beyond what struct session keeps. */
struct setup {
	const struct session_opts *o;
	struct session *s;
	char *err;
	uint16_t offered[5];
	int noffered;
	uint8_t client_guid[16];
	uint16_t client_security_mode;
	uint32_t client_capabilities;
	uint8_t preauth[SMB2_PREAUTH_HASH_SIZE];	/* connection, then session */
	unsigned server_mechs;
	struct smb2_keys keys;		/* the session's keys, wiped at the end */
	const char *krb5_principal;	/* re-authentication: who the session is */
	struct conn_security sec;	/* what the connection was told */
};

/* Send one message (w holds it from offset 0) and take its response. */
static int call1(struct setup *st, struct wr *w, struct conn_msg *rsp, const char *what)
{
	int ret;

	if (w->bad)
		return -ENOMEM;
	ret = conn_call(st->s->conn, w->p, w->len, 1, rsp, 0);
	if (ret) {
		if (ret == -ETIMEDOUT)
			seterr(st->err, "the server did not answer %s within the timeout", what);
		else if (ret == -EAGAIN)
			seterr(st->err, "%s cannot be sent: the server granted no credits, so it allows "
			       "no more requests", what);
		else
			seterr(st->err, "%s failed: %s", what,
			       *conn_error(st->s->conn) ? conn_error(st->s->conn) : strerror(-ret));
	}
	return ret;
}

static uint32_t rsp_status(const struct conn_msg *m)
{
	return le32_get(m->buf + SMB2_HDR_STATUS);
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
static int probe_smb1_only(const struct session_opts *o)
{
	static const char *const dialects[] = { "NT LM 0.12", "SMB 2.002", "SMB 2.???" };
	char terr[TRANSPORT_ERRLEN];
	struct iovec iov[1];
	struct wr w;
	uint8_t *frame = NULL;
	size_t flen = 0, bc_at;
	unsigned i;
	int fd = -1, ret;

	ret = transport_connect(o->host, o->port, o->connect_timeout_ms, &fd, terr);
	if (ret)
		return ret;
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
	ret = transport_writev(fd, iov, 1);
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

static void describe_offered(const struct setup *st, char *buf, size_t n)
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

static int negotiate(struct setup *st)
{
	static const uint16_t all[] = {
		SMB2_DIALECT_202, SMB2_DIALECT_210, SMB2_DIALECT_300,
		SMB2_DIALECT_302, SMB2_DIALECT_311,
	};
	const struct session_opts *o = st->o;
	struct session *s = st->s;
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

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (all[i] >= o->min_dialect && all[i] <= o->max_dialect) {
			st->offered[st->noffered++] = all[i];
			if (all[i] >= SMB2_DIALECT_300)
				has3 = true;
		}
	}
	if (!st->noffered) {
		seterr(st->err, "no SMB dialect lies in the range asked for");
		return -EINVAL;
	}
	describe_offered(st, list, sizeof(list));
	if (RAND_bytes(st->client_guid, 16) != 1 || RAND_bytes(q.salt, sizeof(q.salt)) != 1) {
		seterr(st->err, "no random numbers available");
		return -EIO;
	}
	st->client_security_mode = SMB2_NEGOTIATE_SIGNING_ENABLED |
		(o->require_signing ? SMB2_NEGOTIATE_SIGNING_REQUIRED : 0);
	st->client_capabilities = SMB2_GLOBAL_CAP_DFS | SMB2_GLOBAL_CAP_LEASING |
		SMB2_GLOBAL_CAP_LARGE_MTU | (has3 ? SMB2_GLOBAL_CAP_ENCRYPTION : 0);
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
		seterr(st->err, "cannot encode NEGOTIATE: %s", strerror(-ret));
		goto out;
	}
	ret = conn_call(s->conn, w.p, w.len, 1, &rsp, 0);
	if (ret) {
		const char *why = conn_error(s->conn);

		if (ret == -EPROTONOSUPPORT || (ret == -ENOTCONN && probe_smb1_only(o) == 1))
			seterr(st->err, "server %s only offers SMB1; smbfuse needs SMB 2.0.2 or later "
			       "(on Samba, set 'server min protocol = SMB2_02' and a max protocol above NT1)",
			       o->host);
		else if (ret == -ETIMEDOUT)
			seterr(st->err, "server %s did not answer NEGOTIATE within the timeout", o->host);
		else
			seterr(st->err, "NEGOTIATE with %s failed (offered %s): %s", o->host, list,
			       *why ? why : strerror(-ret));
		goto out;
	}
	/* The preauth hash covers the messages exactly as sent/received. */
	memset(st->preauth, 0, sizeof(st->preauth));
	smb2_preauth_update(st->preauth, w.p, w.len);
	status = rsp_status(&rsp);
	if (status != STATUS_SUCCESS) {
		ret = pdu_error_dec(rsp.buf, rsp.len) ? -EPROTO : ntstatus_to_errno(status);
		if (status == STATUS_NOT_SUPPORTED || status == STATUS_INVALID_PARAMETER)
			seterr(st->err, "server %s supports none of the dialects smbfuse offered (%s): %s",
			       o->host, list, ntstatus_name(status));
		else
			seterr(st->err, "server %s refused NEGOTIATE (offered %s): %s", o->host, list,
			       ntstatus_name(status));
		goto out;
	}
	ret = pdu_negotiate_dec(rsp.buf, rsp.len, &p);
	if (ret) {
		seterr(st->err, "malformed NEGOTIATE response from %s", o->host);
		goto out;
	}
	ret = -EPROTO;
	if (!offered(st->offered, (size_t)st->noffered, p.dialect)) {
		seterr(st->err, "server chose dialect %s (0x%04x), which smbfuse did not offer (%s)%s",
		       dialect_name(p.dialect), p.dialect, list,
		       p.dialect == SMB2_DIALECT_202 ? ": mount with vers=2.0 to allow SMB 2.0.2" : "");
		goto out;
	}
	if (p.max_read < MIN_MAX_SIZE || p.max_write < MIN_MAX_SIZE || p.max_transact < MIN_MAX_SIZE) {
		seterr(st->err, "server limits are below the 64 KiB minimum of MS-SMB2 "
		       "(MaxRead %u, MaxWrite %u, MaxTransact %u)", p.max_read, p.max_write, p.max_transact);
		goto out;
	}
	if (!(p.security_mode & SMB2_NEGOTIATE_SIGNING_ENABLED) && o->require_signing) {
		seterr(st->err, "signing was required (sign), but server %s does not offer signing", o->host);
		goto out;
	}
	s->dialect = p.dialect;
	s->server_security_mode = p.security_mode;
	s->server_capabilities = p.capabilities;
	memcpy(s->server_guid, p.server_guid, 16);
	s->max_transact = p.max_transact;
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
			seterr(st->err, "3.1.1 NEGOTIATE response lacks SHA-512 preauth integrity");
			goto out;
		}
		if (p.has_cipher && p.cipher != 0 &&
		    !offered(offered_ciphers, sizeof(offered_ciphers) / 2, p.cipher)) {
			seterr(st->err, "server chose cipher %u, which smbfuse did not offer", p.cipher);
			goto out;
		}
		if (p.has_cipher)
			s->cipher = (enum smb2_cipher)p.cipher;
		if (p.has_signing) {
			if (!offered(offered_sign_algs, sizeof(offered_sign_algs) / 2, p.sign_alg)) {
				seterr(st->err, "server chose signing algorithm %u, which smbfuse did not offer",
				       p.sign_alg);
				goto out;
			}
			s->sign_alg = (enum smb2_sign_alg)p.sign_alg;
		}
		smb2_preauth_update(st->preauth, rsp.buf, rsp.len);
	} else if (p.dialect >= SMB2_DIALECT_300 && (p.capabilities & SMB2_GLOBAL_CAP_ENCRYPTION)) {
		s->cipher = SMB2_CIPHER_AES128_CCM;
	}
	if (spnego_server_mechs(p.secbuf, p.secbuf_len, &st->server_mechs) != 0) {
		seterr(st->err, "malformed SPNEGO token in the NEGOTIATE response");
		goto out;
	}
	conn_set_negotiated(s->conn, p.dialect,
			    p.dialect >= SMB2_DIALECT_210 && (p.capabilities & SMB2_GLOBAL_CAP_LARGE_MTU),
			    (s->max_read > s->max_write ? s->max_read : s->max_write) +
			    (s->max_transact < CLIENT_MAX_IO ? s->max_transact : CLIENT_MAX_IO) +
			    FRAME_SLACK);
	ret = 0;
out:
	conn_msg_free(&rsp);
	wr_free(&w);
	return ret;
}

/* --- SESSION_SETUP ------------------------------------------------------- */

static int session_setup_round(struct setup *st, const uint8_t *tok, size_t toklen,
			       struct conn_msg *rsp, struct session_setup_rsp *p,
			       bool *final)
{
	struct session *s = st->s;
	struct session_setup_req q = {
		.security_mode = (uint8_t)st->client_security_mode,
		.capabilities = SMB2_GLOBAL_CAP_DFS,
		.secbuf = tok, .secbuf_len = toklen,
	};
	struct smb2_hdr h;
	uint32_t status;
	struct wr w;
	int ret;

	session_hdr(s, &h, SMB2_SESSION_SETUP);
	h.tree_id = 0;
	wr_init(&w);
	pdu_hdr_enc(&w, &h);
	ret = pdu_session_setup_enc(&w, 0, &q);
	if (!ret)
		ret = call1(st, &w, rsp, "SESSION_SETUP");
	if (ret)
		goto out;
	/* Every SESSION_SETUP request goes into the hash; of the responses,
	 * all but the final (SUCCESS) one. */
	if (s->dialect == SMB2_DIALECT_311)
		smb2_preauth_update(st->preauth, w.p, w.len);
	status = rsp_status(rsp);
	if (status == STATUS_MORE_PROCESSING_REQUIRED) {
		*final = false;
		if (s->dialect == SMB2_DIALECT_311)
			smb2_preauth_update(st->preauth, rsp->buf, rsp->len);
	} else if (status == STATUS_SUCCESS) {
		*final = true;
	} else if (st->o->sec == SEC_KRB5 &&
		   (status == STATUS_LOGON_FAILURE || status == STATUS_ACCESS_DENIED)) {
		ret = -EACCES;
		seterr(st->err, "server %s refused the Kerberos ticket of %s for %s (%s): it does not "
		       "hold that service principal's key, or the ticket is not for it (check spn=)",
		       st->o->host, s->user_desc, s->krb5_target, ntstatus_name(status));
		goto out;
	} else {
		ret = ntstatus_to_errno(status);
		switch (status) {
		case STATUS_LOGON_FAILURE:
		case STATUS_WRONG_PASSWORD:
		case STATUS_NO_SUCH_USER:
			seterr(st->err, "logon failed: wrong user name or password for %s (%s)",
			       s->user_desc, ntstatus_name(status));
			break;
		case STATUS_ACCOUNT_DISABLED:
			seterr(st->err, "logon failed: the account %s is disabled", s->user_desc);
			break;
		case STATUS_ACCOUNT_LOCKED_OUT:
			seterr(st->err, "logon failed: the account %s is locked out", s->user_desc);
			break;
		case STATUS_PASSWORD_EXPIRED:
		case STATUS_PASSWORD_MUST_CHANGE:
			seterr(st->err, "logon failed: the password of %s has expired and must be changed",
			       s->user_desc);
			break;
		case STATUS_ACCOUNT_EXPIRED:
			seterr(st->err, "logon failed: the account %s has expired", s->user_desc);
			break;
		case STATUS_ACCOUNT_RESTRICTION:
		case STATUS_INVALID_LOGON_HOURS:
		case STATUS_INVALID_WORKSTATION:
		case STATUS_LOGON_TYPE_NOT_GRANTED:
			seterr(st->err, "logon failed: account restrictions forbid %s to log on (%s)",
			       s->user_desc, ntstatus_name(status));
			break;
		case STATUS_ACCESS_DENIED:
			seterr(st->err, "logon refused by the server for %s (%s)%s", s->user_desc,
			       ntstatus_name(status), st->o->sec == SEC_NONE ?
			       ": it does not allow anonymous or guest access" : "");
			break;
		default:
			seterr(st->err, "SESSION_SETUP failed: %s", ntstatus_name(status));
		}
		goto out;
	}
	if (pdu_session_setup_dec(rsp->buf, rsp->len, p) != 0) {
		seterr(st->err, "malformed SESSION_SETUP response");
		ret = -EPROTO;
		goto out;
	}
	if (s->session_id == 0)
		s->session_id = le64_get(rsp->buf + SMB2_HDR_SESSION_ID);
	else if (le64_get(rsp->buf + SMB2_HDR_SESSION_ID) != s->session_id) {
		seterr(st->err, "the server changed the SessionId during SESSION_SETUP");
		ret = -EPROTO;
	}
out:
	wr_free(&w);
	return ret;
}

/* The final SESSION_SETUP response must be signed with the new key in
 * 3.x (MS-SMB2 3.2.5.3.1), and whenever signing is required. */
static int verify_final(struct setup *st, const struct conn_msg *rsp, const uint8_t key[16])
{
	struct session *s = st->s;
	bool is_signed = le32_get(rsp->buf + SMB2_HDR_FLAGS) & SMB2_FLAGS_SIGNED;

	if (is_signed) {
		if (smb2_verify(s->sign_alg, key, rsp->buf, rsp->len) != 0) {
			seterr(st->err, "the final SESSION_SETUP response has a bad signature: "
			       "the server does not share this session's key (a wrong password or ticket), or the "
			       "exchange was tampered with");
			return -EACCES;
		}
		return 0;
	}
	if (s->dialect >= SMB2_DIALECT_300 || s->signing) {
		seterr(st->err, "the final SESSION_SETUP response is not signed, although it must be "
		       "(tampering, or a broken server)");
		return -EACCES;
	}
	return 0;
}

/* From now on every request of the session is sealed. */
static void seal_session(struct setup *st)
{
	st->s->encrypting = true;
	st->sec.encrypt = true;
	st->sec.cipher = st->s->cipher;
	memcpy(st->sec.enc_key, st->keys.encryption, sizeof(st->sec.enc_key));
	memcpy(st->sec.dec_key, st->keys.decryption, sizeof(st->sec.dec_key));
}

/*
 * NTLMSSP inside SPNEGO: NegTokenInit(NEGOTIATE) -> CHALLENGE, then
 * NegTokenResp(AUTHENTICATE, mechListMIC) -> SUCCESS.  Leaves the final
 * response in rsp/p and the session key in key.
 */
static int authenticate_ntlm(struct setup *st, struct conn_msg *rsp, struct session_setup_rsp *p,
			     uint8_t key[SESSION_KEY_MAX], size_t *keylen)
{
	const struct session_opts *o = st->o;
	struct ntlm_creds cr = {
		.user = o->user ? o->user : "",
		.domain = o->domain ? o->domain : "",
		.password = o->password ? o->password : "",
		.workstation = "SMBFUSE",
		.anonymous = o->sec == SEC_NONE,
	};
	struct ntlm_ctx ntlm;
	struct wr tok, spn, types, spn2;
	struct spnego_resp sr;
	uint8_t mic[16];
	char spn_name[300];
	bool final = false;
	int ret;

	ntlm_init(&ntlm);
	wr_init(&tok);
	wr_init(&spn);
	wr_init(&types);
	wr_init(&spn2);
	if (o->sec == SEC_NONE)
		snprintf(st->s->user_desc, sizeof(st->s->user_desc), "anonymous");
	else if (cr.domain[0])
		snprintf(st->s->user_desc, sizeof(st->s->user_desc), "%s\\%s", cr.domain, cr.user);
	else
		snprintf(st->s->user_desc, sizeof(st->s->user_desc), "%s", cr.user);

	if (st->server_mechs && !(st->server_mechs & SPNEGO_MECH_NTLMSSP)) {
		seterr(st->err, "server %s does not offer NTLMSSP (only Kerberos): use sec=krb5", o->host);
		ret = -ENOTSUP;
		goto out;
	}
	if (!ntlm_available()) {
		seterr(st->err, "NTLM needs MD4 and RC4 from OpenSSL's legacy provider, which is not "
		       "installed (Debian: it ships in libssl3)");
		ret = -ENOTSUP;
		goto out;
	}
	snprintf(spn_name, sizeof(spn_name), "cifs/%s", o->host);
	cr.target_spn = spn_name;

	/* Round 1: NegTokenInit(NTLMSSP NEGOTIATE) -> CHALLENGE */
	ret = ntlm_negotiate(&ntlm, &tok);
	if (!ret)
		ret = spnego_init_token(&spn, SPNEGO_MECH_NTLMSSP, tok.p, tok.len, &types);
	if (ret) {
		seterr(st->err, "cannot build the NTLM negotiate token: %s", strerror(-ret));
		goto out;
	}
	ret = session_setup_round(st, spn.p, spn.len, rsp, p, &final);
	if (ret)
		goto out;
	ret = -EPROTO;
	if (final || spnego_parse_resp(p->secbuf, p->secbuf_len, &sr) != 0 || !sr.token ||
	    sr.state != SPNEGO_ACCEPT_INCOMPLETE || (sr.mech && sr.mech != SPNEGO_MECH_NTLMSSP)) {
		seterr(st->err, "unexpected answer to the NTLM negotiate message");
		goto out;
	}

	/* Round 2: NegTokenResp(AUTHENTICATE, mechListMIC) -> SUCCESS */
	wr_free(&tok);
	wr_init(&tok);
	ret = ntlm_authenticate(&ntlm, &cr, sr.token, sr.token_len, NULL, &tok);
	if (ret == -EILSEQ) {
		seterr(st->err, "the user name, domain or password is not valid UTF-8");
		goto out;
	} else if (ret == -ENOTSUP) {
		seterr(st->err, "the server does not offer NTLMv2 with 128-bit session security");
		goto out;
	} else if (ret) {
		seterr(st->err, "malformed NTLM challenge from the server");
		goto out;
	}
	if (!cr.anonymous)
		ret = ntlm_sign(&ntlm, types.p, types.len, mic);
	if (!ret)
		ret = spnego_resp_token(&spn2, tok.p, tok.len, cr.anonymous ? NULL : mic, 16);
	if (ret)
		goto out;
	conn_msg_free(rsp);
	ret = session_setup_round(st, spn2.p, spn2.len, rsp, p, &final);
	if (ret)
		goto out;
	ret = -EPROTO;
	if (!final) {
		seterr(st->err, "the server wants more SESSION_SETUP rounds than NTLMSSP has");
		goto out;
	}
	if (p->secbuf_len) {
		if (spnego_parse_resp(p->secbuf, p->secbuf_len, &sr) != 0 ||
		    (sr.state != SPNEGO_ACCEPT_COMPLETED && sr.state != SPNEGO_ABSENT)) {
			seterr(st->err, "malformed or negative SPNEGO answer to NTLM authentication");
			goto out;
		}
		/* The server's mechListMIC proves the mechanism list was not
		 * altered on the way. */
		if (sr.mic && !cr.anonymous &&
		    ntlm_verify(&ntlm, types.p, types.len, sr.mic, sr.mic_len) != 0) {
			seterr(st->err, "the server's SPNEGO mechListMIC does not verify (tampering?)");
			ret = -EACCES;
			goto out;
		}
	}
	memcpy(key, ntlm.session_key, NTLM_KEY_SIZE);
	*keylen = NTLM_KEY_SIZE;
	ret = 0;
out:
	ntlm_free(&ntlm);
	wr_free(&tok);
	wr_free(&spn);
	wr_free(&spn2);
	wr_free(&types);
	return ret;
}

/*
 * Kerberos inside SPNEGO (MS-SMB2 3.2.4.2.3): NegTokenInit(AP-REQ), then
 * as many NegTokenResp rounds as the server asks for (a KRB-ERROR the
 * mechanism can recover from, or a mechListMIC it requests) until it
 * answers SUCCESS with its AP-REP, which must complete the context: the
 * server has then proven it holds the service key.
 */
#define KRB5_MAX_ROUNDS 6

static int authenticate_krb5(struct setup *st, struct conn_msg *rsp, struct session_setup_rsp *p,
			     uint8_t key[SESSION_KEY_MAX], size_t *keylen)
{
	const struct session_opts *o = st->o;
	struct session *s = st->s;
	struct auth_krb5_opts ko = { .host = o->host, .spn = o->spn, .ccache = o->krb5_ccache,
				     .principal = st->krb5_principal };
	struct auth_krb5 *k = NULL;
	struct spnego_resp sr = { .state = SPNEGO_ABSENT };
	char kerr[AUTH_KRB5_ERRLEN];
	struct wr tok, msg, types, mic;
	bool final = false, done = false;
	int ret, round;

	wr_init(&tok);
	wr_init(&msg);
	wr_init(&types);
	wr_init(&mic);
	if (st->server_mechs && !(st->server_mechs & (SPNEGO_MECH_KRB5 | SPNEGO_MECH_MS_KRB5))) {
		seterr(st->err, "server %s does not offer Kerberos (it is not joined to a domain, or "
		       "knows no realm): use sec=ntlmssp", o->host);
		ret = -ENOTSUP;
		goto out;
	}
	ret = auth_krb5_begin(&ko, &k, kerr);
	if (ret) {
		seterr(st->err, "%s", kerr);
		goto out;
	}
	snprintf(s->user_desc, sizeof(s->user_desc), "%s", auth_krb5_principal(k));
	snprintf(s->krb5_target, sizeof(s->krb5_target), "%s", auth_krb5_target(k));
	ret = auth_krb5_step(k, NULL, 0, &tok, &done, kerr);
	if (ret) {
		seterr(st->err, "%s", kerr);
		goto out;
	}
	ret = spnego_init_token(&msg, SPNEGO_MECH_KRB5, tok.p, tok.len, &types);
	if (ret)
		goto out;
	for (round = 0;; round++) {
		conn_msg_free(rsp);
		ret = session_setup_round(st, msg.p, msg.len, rsp, p, &final);
		if (ret)
			goto out;
		ret = -EPROTO;
		memset(&sr, 0, sizeof(sr));
		sr.state = SPNEGO_ABSENT;
		if (p->secbuf_len && spnego_parse_resp(p->secbuf, p->secbuf_len, &sr) != 0) {
			seterr(st->err, "malformed SPNEGO answer to Kerberos authentication");
			goto out;
		}
		if (sr.state == SPNEGO_REJECT || (sr.mech && sr.mech != SPNEGO_MECH_KRB5 &&
						  sr.mech != SPNEGO_MECH_MS_KRB5)) {
			seterr(st->err, "server %s refused Kerberos in SPNEGO", o->host);
			goto out;
		}
		wr_free(&tok);
		wr_init(&tok);
		if (sr.token) {
			ret = auth_krb5_step(k, sr.token, sr.token_len, &tok, &done, kerr);
			if (ret) {
				seterr(st->err, "%s", kerr);
				goto out;
			}
		}
		if (final)
			break;
		ret = -EPROTO;
		if (round + 1 >= KRB5_MAX_ROUNDS) {
			seterr(st->err, "the server asked for more than %d Kerberos SESSION_SETUP rounds",
			       KRB5_MAX_ROUNDS);
			goto out;
		}
		/* Another round: our next token, and our mechListMIC once
		 * the context exists and the server wants one. */
		wr_free(&mic);
		wr_init(&mic);
		if (done && (sr.state == SPNEGO_REQUEST_MIC || sr.mic) &&
		    auth_krb5_get_mic(k, types.p, types.len, &mic) != 0)
			goto out;
		if (!tok.len && !mic.len) {
			seterr(st->err, "the server wants another Kerberos round, but there is nothing "
			       "to send");
			goto out;
		}
		wr_free(&msg);
		wr_init(&msg);
		ret = spnego_resp_token(&msg, tok.len ? tok.p : NULL, tok.len,
					mic.len ? mic.p : NULL, mic.len);
		if (ret)
			goto out;
	}
	ret = -EACCES;
	if (!done) {
		seterr(st->err, "server %s accepted the Kerberos ticket without proving its own "
		       "identity (no AP-REP): refusing the session", o->host);
		goto out;
	}
	if (sr.state != SPNEGO_ACCEPT_COMPLETED && sr.state != SPNEGO_ABSENT) {
		seterr(st->err, "malformed or negative SPNEGO answer to Kerberos authentication");
		goto out;
	}
	if (sr.mic && auth_krb5_verify_mic(k, types.p, types.len, sr.mic, sr.mic_len) != 0) {
		seterr(st->err, "the server's SPNEGO mechListMIC does not verify (tampering?)");
		goto out;
	}
	ret = auth_krb5_session_key(k, key, keylen);
	if (ret) {
		seterr(st->err, "the Kerberos context has no session key");
		goto out;
	}
	s->krb5_lifetime_s = auth_krb5_lifetime(k);
out:
	auth_krb5_free(k);
	wr_free(&tok);
	wr_free(&msg);
	wr_free(&types);
	wr_free(&mic);
	return ret;
}

static int authenticate(struct setup *st)
{
	const struct session_opts *o = st->o;
	struct session *s = st->s;
	struct conn_msg rsp = { 0 };
	struct session_setup_rsp p;
	struct smb2_keys *keys = &st->keys;
	struct conn_security *sec = &st->sec;
	uint8_t key[SESSION_KEY_MAX];
	size_t keylen = 0;
	int ret;

	s->mech = o->sec;
	if (o->sec == SEC_KRB5)
		ret = authenticate_krb5(st, &rsp, &p, key, &keylen);
	else
		ret = authenticate_ntlm(st, &rsp, &p, key, &keylen);
	if (ret)
		goto out;

	s->guest = (p.session_flags & SMB2_SESSION_FLAG_IS_GUEST) != 0;
	s->anonymous = o->sec == SEC_NONE || (p.session_flags & SMB2_SESSION_FLAG_IS_NULL) != 0;
	if (s->guest && o->sec != SEC_NONE) {
		if (o->require_signing || (s->server_security_mode & SMB2_NEGOTIATE_SIGNING_REQUIRED)) {
			seterr(st->err, "the server logged %s on as guest, which cannot sign, while signing "
			       "is required: check the user name and password", s->user_desc);
			ret = -EACCES;
			goto out;
		}
		log_warn("the server logged %s on as the guest account", s->user_desc);
	}
	if (s->guest)
		snprintf(s->user_desc, sizeof(s->user_desc), "guest");
	else if (s->anonymous)
		snprintf(s->user_desc, sizeof(s->user_desc), "anonymous");

	memset(sec, 0, sizeof(*sec));
	sec->session_id = s->session_id;
	if (!s->guest && !s->anonymous) {
		ret = smb2_derive_keys(s->dialect, key, keylen,
				       s->dialect == SMB2_DIALECT_311 ? st->preauth : NULL,
				       smb2_cipher_key_size(s->cipher ? s->cipher : SMB2_CIPHER_AES128_CCM),
				       keys);
		if (ret) {
			seterr(st->err, "key derivation failed");
			goto out;
		}
		s->signing = o->require_signing ||
			(s->server_security_mode & SMB2_NEGOTIATE_SIGNING_REQUIRED);
		ret = verify_final(st, &rsp, keys->signing);
		if (ret)
			goto out;
		sec->have_sign_key = true;
		sec->sign = s->signing;
		sec->sign_alg = s->sign_alg;
		memcpy(sec->sign_key, keys->signing, 16);
		if (o->require_encryption || (p.session_flags & SMB2_SESSION_FLAG_ENCRYPT_DATA)) {
			if (s->cipher == SMB2_CIPHER_NONE) {
				seterr(st->err, "encryption was required (seal), but server %s offers no cipher "
				       "smbfuse supports (dialect %s)", o->host, dialect_name(s->dialect));
				ret = -EOPNOTSUPP;
				goto out;
			}
			seal_session(st);
		}
	} else if (o->require_encryption) {
		seterr(st->err, "encryption was required (seal), but a %s session has no keys to encrypt with",
		       s->user_desc);
		ret = -EOPNOTSUPP;
		goto out;
	}
	conn_set_security(s->conn, sec);
	ret = 0;
out:
	OPENSSL_cleanse(key, sizeof(key));
	conn_msg_free(&rsp);
	return ret;
}

/* --- re-authentication (MS-SMB2 3.2.4.2.3, 3.2.5.3.2) --------------------- */

/* How long a failed re-authentication that needed the KDC is answered
 * from memory, and how often the same failure is logged. */
#define REAUTH_RETRY_MS 5000
#define REAUTH_LOG_MS 60000

/* Only a Kerberos session re-authenticates (s->mech is fixed after
 * session_open): every other one sends without the lock. */
void session_enter(struct session *s)
{
	if (s->mech == SEC_KRB5)
		pthread_rwlock_rdlock(&s->send_lock);
}

void session_leave(struct session *s)
{
	if (s->mech == SEC_KRB5)
		pthread_rwlock_unlock(&s->send_lock);
}

uint64_t session_auth_gen(struct session *s)
{
	return __atomic_load_n(&s->auth_gen, __ATOMIC_ACQUIRE);
}

/* One Kerberos exchange on the existing SessionId.  The connection signs
 * (or seals) the requests with the session's keys, which stay as they
 * are: the new context's key is not used (3.2.5.3.2). */
static int reauth_once(struct session *s, char *err)
{
	struct session_opts o = {
		.host = s->reauth_host, .spn = s->reauth_spn, .krb5_ccache = s->reauth_ccache,
		.sec = SEC_KRB5,
	};
	char who[sizeof(s->user_desc)];
	struct setup st = { .o = &o, .s = s, .err = err, .krb5_principal = who,
			    .client_security_mode = s->client_security_mode };
	struct conn_msg rsp = { 0 };
	struct session_setup_rsp p;
	uint8_t key[SESSION_KEY_MAX];
	size_t keylen = 0;
	int ret;

	snprintf(who, sizeof(who), "%s", s->user_desc);
	ret = authenticate_krb5(&st, &rsp, &p, key, &keylen);
	OPENSSL_cleanse(key, sizeof(key));
	if (ret)
		goto out;
	ret = -EACCES;
	/* The answer must come from the server we share the keys with. */
	if (!rsp.was_signed && !rsp.was_encrypted) {
		seterr(err, "the server's answer to re-authentication is not signed (tampering?)");
		goto out;
	}
	if (p.session_flags & (SMB2_SESSION_FLAG_IS_GUEST | SMB2_SESSION_FLAG_IS_NULL)) {
		seterr(err, "the server re-authenticated the session as guest or anonymous");
		goto out;
	}
	ret = 0;
out:
	OPENSSL_cleanse(st.preauth, sizeof(st.preauth));
	conn_msg_free(&rsp);
	return ret;
}

int session_reauth(struct session *s, uint64_t seen, char err[SESSION_ERRLEN])
{
	uint64_t now;
	int ret;

	err[0] = '\0';
	if (s->mech != SEC_KRB5 || s->guest || s->anonymous) {
		seterr(err, "the server says the session has expired, and only a Kerberos session "
		       "can be re-authenticated: remount");
		return -EKEYEXPIRED;
	}
	pthread_mutex_lock(&s->reauth_lock);
	if (s->auth_gen != seen) {
		ret = 0;	/* another request did it meanwhile */
		goto out;
	}
	now = now_ms();
	if (s->reauth_failed_ms && now - s->reauth_failed_ms < REAUTH_RETRY_MS) {
		seterr(err, "%s", s->reauth_failed_err);
		ret = s->reauth_failed_ret;
		goto out;
	}
	pthread_rwlock_wrlock(&s->send_lock);
	ret = reauth_once(s, err);
	pthread_rwlock_unlock(&s->send_lock);
	if (ret) {
		/* Said once a minute, or when the reason changes. */
		if (!s->reauth_logged_ms || now - s->reauth_logged_ms >= REAUTH_LOG_MS ||
		    strcmp(err, s->reauth_failed_err) != 0) {
			log_err("the Kerberos session has expired and re-authenticating failed: %s "
				"(file operations fail with 'Key has expired' until it succeeds; "
				"smbfuse tries again at the next access)", err);
			s->reauth_logged_ms = now ? now : 1;
		}
		snprintf(s->reauth_failed_err, sizeof(s->reauth_failed_err), "%s", err);
		/* A missing or expired ticket is found without asking the
		 * KDC, so the next access looks again (the user may just
		 * have run kinit); anything slower is not retried at once. */
		s->reauth_failed_ms = ret == -ENOKEY || ret == -EKEYEXPIRED ? 0 : (now ? now : 1);
		s->reauth_failed_ret = ret;
		goto out;
	}
	s->reauth_failed_ms = 0;
	s->reauth_logged_ms = 0;
	s->reauth_failed_err[0] = '\0';
	__atomic_add_fetch(&s->auth_gen, 1, __ATOMIC_RELEASE);
	log_info("the Kerberos session had expired; re-authenticated as %s with a fresh ticket "
		 "(valid for %u s more)", s->user_desc, s->krb5_lifetime_s);
out:
	pthread_mutex_unlock(&s->reauth_lock);
	return ret;
}

/* --- TREE_CONNECT and VALIDATE_NEGOTIATE_INFO ------------------------------ */

static int tree_connect(struct setup *st)
{
	struct session *s = st->s;
	struct tree_connect_rsp p;
	struct conn_msg rsp = { 0 };
	struct smb2_hdr h;
	char unc[600];
	uint32_t status;
	struct wr w;
	int ret;

	snprintf(unc, sizeof(unc), "\\\\%s\\%s", st->o->host, st->o->share);
	session_hdr(s, &h, SMB2_TREE_CONNECT);
	h.tree_id = 0;
	/* 3.1.1 requires TREE_CONNECT to be signed (MS-SMB2 3.2.4.1.1) even
	 * where nothing else is; below 3.1.1 signing it too means a forged
	 * "signing not required" cannot make the server refuse the tree,
	 * and the validation that follows names the forgery instead. */
	if (!s->guest && !s->anonymous)
		h.flags = SMB2_FLAGS_SIGNED;
	wr_init(&w);
	pdu_hdr_enc(&w, &h);
	ret = pdu_tree_connect_enc(&w, 0, unc);
	if (ret) {
		seterr(st->err, "share name '%s' is not valid", st->o->share);
		goto out;
	}
	ret = call1(st, &w, &rsp, "TREE_CONNECT");
	if (ret)
		goto out;
	status = rsp_status(&rsp);
	if (status != STATUS_SUCCESS) {
		ret = ntstatus_to_errno(status);
		if (status == STATUS_BAD_NETWORK_NAME)
			seterr(st->err, "share '%s' does not exist on server %s", st->o->share, st->o->host);
		else if (status == STATUS_ACCESS_DENIED || status == STATUS_NETWORK_ACCESS_DENIED)
			seterr(st->err, "access to share '%s' is denied for %s", st->o->share, s->user_desc);
		else
			seterr(st->err, "TREE_CONNECT to '%s' failed: %s", st->o->share, ntstatus_name(status));
		goto out;
	}
	if (pdu_tree_connect_dec(rsp.buf, rsp.len, &p) != 0) {
		seterr(st->err, "malformed TREE_CONNECT response");
		ret = -EPROTO;
		goto out;
	}
	if (p.share_type != SMB2_SHARE_TYPE_DISK) {
		seterr(st->err, "'%s' is not a disk share (it is a %s)", st->o->share,
		       p.share_type == SMB2_SHARE_TYPE_PIPE ? "named pipe" : "printer");
		ret = -ENOTDIR;
		goto out;
	}
	s->tree_id = le32_get(rsp.buf + SMB2_HDR_TREE_ID);
	s->share_flags = p.share_flags;
	s->share_capabilities = p.capabilities;
	s->maximal_access = p.maximal_access;
	if ((p.share_flags & SMB2_SHAREFLAG_ENCRYPT_DATA) && !s->encrypting) {
		/* The share wants encryption: from now on everything is sealed. */
		seterr(st->err, "share '%s' requires encryption, which this session cannot provide",
		       st->o->share);
		ret = -EOPNOTSUPP;
		if (s->guest || s->anonymous || s->cipher == SMB2_CIPHER_NONE)
			goto out;
		ret = 0;
		st->err[0] = '\0';
		seal_session(st);
		conn_set_security(s->conn, &st->sec);
	}
out:
	conn_msg_free(&rsp);
	wr_free(&w);
	return ret;
}

static int validate_negotiate(struct setup *st)
{
	struct session *s = st->s;
	struct ioctl_req q = {
		.ctl_code = FSCTL_VALIDATE_NEGOTIATE_INFO,
		.max_output = 24,
		.flags = SMB2_0_IOCTL_IS_FSCTL,
	};
	struct validate_negotiate_rsp v;
	struct conn_msg rsp = { 0 };
	struct ioctl_rsp p;
	struct smb2_hdr h;
	struct wr in, w;
	uint32_t status;
	int ret;

	memset(q.file_id, 0xFF, sizeof(q.file_id));
	wr_init(&in);
	wr_init(&w);
	ret = pdu_validate_negotiate_enc(&in, st->client_capabilities, st->client_guid,
					 st->client_security_mode, st->offered, st->noffered);
	if (ret)
		goto out;
	q.input = in.p;
	q.input_len = in.len;
	session_hdr(s, &h, SMB2_IOCTL);
	/* Signed even when the session does not sign everything; the
	 * connection then insists on a signed answer (MS-SMB2 3.2.5.14.12). */
	h.flags = SMB2_FLAGS_SIGNED;
	pdu_hdr_enc(&w, &h);
	ret = pdu_ioctl_enc(&w, 0, &q);
	if (ret)
		goto out;
	ret = call1(st, &w, &rsp, "VALIDATE_NEGOTIATE_INFO");
	if (ret) {
		seterr(st->err, "the negotiation could not be validated (possible tampering): %s",
		       *conn_error(s->conn) ? conn_error(s->conn) : strerror(-ret));
		goto out;
	}
	status = rsp_status(&rsp);
	if (status == STATUS_NOT_SUPPORTED || status == STATUS_INVALID_DEVICE_REQUEST ||
	    status == STATUS_FILE_CLOSED) {
		/* A down-level server that does not implement it; the answer
		 * was signed (the connection checked), so it is genuine. */
		s->secneg = SECNEG_NOT_SUPPORTED;
		goto out;
	}
	ret = -EACCES;
	if (status != STATUS_SUCCESS) {
		seterr(st->err, "the negotiation could not be validated (possible tampering): "
		       "the server answered VALIDATE_NEGOTIATE_INFO with %s", ntstatus_name(status));
		goto out;
	}
	if (pdu_ioctl_dec(rsp.buf, rsp.len, &p) != 0 ||
	    pdu_validate_negotiate_dec(p.output, p.output_len, &v) != 0) {
		seterr(st->err, "the negotiation could not be validated (possible tampering): "
		       "malformed VALIDATE_NEGOTIATE_INFO response");
		goto out;
	}
	if (v.capabilities != s->server_capabilities || memcmp(v.guid, s->server_guid, 16) != 0 ||
	    v.security_mode != s->server_security_mode || v.dialect != s->dialect) {
		seterr(st->err, "the negotiation could not be validated (possible tampering): the server "
		       "reports %s %s, capabilities 0x%x, security mode 0x%x, but NEGOTIATE said %s, "
		       "0x%x, 0x%x%s",
		       "dialect", dialect_name(v.dialect), v.capabilities, v.security_mode,
		       dialect_name(s->dialect), s->server_capabilities, s->server_security_mode,
		       memcmp(v.guid, s->server_guid, 16) ? ", and the server GUIDs differ" : "");
		goto out;
	}
	s->secneg = SECNEG_VALIDATED;
	ret = 0;
out:
	conn_msg_free(&rsp);
	wr_free(&in);
	wr_free(&w);
	return ret;
}

/* --- open / close ---------------------------------------------------------- */

static void session_free(struct session *s)
{
	free(s->reauth_host);
	free(s->reauth_spn);
	free(s->reauth_ccache);
	pthread_mutex_destroy(&s->reauth_lock);
	pthread_rwlock_destroy(&s->send_lock);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

int session_open(const struct session_opts *o, struct session **out, char err[SESSION_ERRLEN])
{
	struct conn_opts co = {
		.host = o->host, .port = o->port,
		.connect_timeout_ms = o->connect_timeout_ms,
		.request_timeout_ms = o->request_timeout_ms,
		.echo_interval_s = o->echo_interval_s,
	};
	struct setup st = { .o = o, .err = err };
	char cerr[CONN_ERRLEN];
	struct session *s;
	int ret;

	*out = NULL;
	err[0] = '\0';
	s = calloc(1, sizeof(*s));
	if (!s) {
		seterr(err, "out of memory");
		return -ENOMEM;
	}
	st.s = s;
	pthread_mutex_init(&s->reauth_lock, NULL);
	{
		pthread_rwlockattr_t a;

		/* A waiting re-authentication goes before new requests. */
		pthread_rwlockattr_init(&a);
		pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		pthread_rwlock_init(&s->send_lock, &a);
		pthread_rwlockattr_destroy(&a);
	}
	if (o->sec == SEC_KRB5 &&
	    (!(s->reauth_host = strdup(o->host)) ||
	     (o->spn && !(s->reauth_spn = strdup(o->spn))) ||
	     (o->krb5_ccache && !(s->reauth_ccache = strdup(o->krb5_ccache))))) {
		seterr(err, "out of memory");
		session_free(s);
		return -ENOMEM;
	}
	ret = conn_open(&co, &s->conn, cerr);
	if (ret) {
		seterr(err, "%s", cerr);
		session_free(s);
		return ret;
	}
	ret = negotiate(&st);
	s->client_security_mode = st.client_security_mode;
	if (!ret)
		ret = authenticate(&st);
	if (!ret)
		ret = tree_connect(&st);
	if (!ret) {
		if (s->dialect == SMB2_DIALECT_311)
			s->secneg = SECNEG_PREAUTH;
		else if (!o->secure_negotiate)
			s->secneg = SECNEG_DISABLED;
		else if (s->guest || s->anonymous)
			s->secneg = SECNEG_SKIPPED_GUEST;
		else
			ret = validate_negotiate(&st);
	}
	OPENSSL_cleanse(st.preauth, sizeof(st.preauth));
	OPENSSL_cleanse(&st.keys, sizeof(st.keys));
	OPENSSL_cleanse(&st.sec, sizeof(st.sec));
	if (ret) {
		if (!err[0])
			seterr(err, "%s", strerror(-ret));
		conn_close(s->conn);
		session_free(s);
		return ret;
	}
	if (!o->secure_negotiate && s->dialect != SMB2_DIALECT_311)
		log_warn("secure negotiate is off (nosecurenegotiate): a downgrade of the dialect "
			 "or of the security settings would go unnoticed");
	*out = s;
	return 0;
}

/* Send a request with an empty body and ignore the answer. */
static void send_empty(struct session *s, uint16_t command)
{
	struct conn_msg rsp = { 0 };
	struct smb2_hdr h;
	struct wr w;

	session_hdr(s, &h, command);
	wr_init(&w);
	pdu_hdr_enc(&w, &h);
	pdu_empty_enc(&w);
	if (!w.bad && conn_call(s->conn, w.p, w.len, 1, &rsp, 5000) == 0)
		conn_msg_free(&rsp);
	wr_free(&w);
}

void session_close(struct session *s)
{
	if (!s)
		return;
	if (conn_alive(s->conn)) {
		if (s->tree_id)
			send_empty(s, SMB2_TREE_DISCONNECT);
		if (s->session_id)
			send_empty(s, SMB2_LOGOFF);
	}
	conn_close(s->conn);
	session_free(s);
}
