/*
 * session.c - SESSION_SETUP (SPNEGO with NTLMSSP or Kerberos), the keys,
 * re-authentication, and the session's channel: the connection its
 * requests travel on, replaced by reconnect.c when it dies (MS-SMB2
 * 3.2.4.2.3-3.2.5.3).  See session.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
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
#include "reconnect.h"
#include "secret.h"
#include "session.h"
#include "smb2.h"
#include "spnego.h"
#include "util.h"
#include "wire.h"

/* The longest authentication session key kept: Kerberos AES-256 gives 32
 * bytes (NTLM 16); the 256-bit ciphers use all of it (MS-SMB2 3.2.5.3.1). */
#define SESSION_KEY_MAX AUTH_KRB5_MAX_KEY

void session_seterr(char err[SESSION_ERRLEN], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, SESSION_ERRLEN, fmt, ap);
	va_end(ap);
}

#define seterr session_seterr

/* The state of one logon (or re-authentication), beyond what struct
 * session keeps. */
struct setup {
	struct session *s;
	struct conn *conn;		/* the connection it runs on */
	const struct conn_info *ci;	/* what that connection negotiated */
	char *err;
	uint64_t sid;			/* the SessionId being set up (0 until the first answer) */
	uint64_t prev_sid;		/* the one it replaces, 0 at the first logon */
	bool was_encrypting;		/* the session sealed before: keep sealing */
	uint16_t client_security_mode;
	uint8_t preauth[SMB2_PREAUTH_HASH_SIZE];	/* connection, then session */
	struct smb2_keys keys;		/* the session's keys, wiped at the end */
	const char *krb5_principal;	/* re-authentication: who the session is */
	struct conn_security sec;	/* what the connection was told */
	/* Binding a channel: what signs until its own key exists. */
	bool binding;
	struct conn_security bind_sec;
};

int session_call_one(struct conn *conn, struct wr *w, struct conn_msg *rsp, const char *what,
		     char err[SESSION_ERRLEN])
{
	int ret;

	if (w->bad)
		return -ENOMEM;
	ret = conn_call(conn, w->p, w->len, 1, rsp, 0);
	if (ret) {
		if (ret == -ETIMEDOUT)
			seterr(err, "the server did not answer %s within the timeout", what);
		else if (ret == -EAGAIN)
			seterr(err, "%s cannot be sent: the server granted no credits, so it allows "
			       "no more requests", what);
		else
			seterr(err, "%s failed: %s", what,
			       *conn_error(conn) ? conn_error(conn) : strerror(-ret));
	}
	return ret;
}

static int call1(struct setup *st, struct wr *w, struct conn_msg *rsp, const char *what)
{
	return session_call_one(st->conn, w, rsp, what, st->err);
}

/* --- SESSION_SETUP ------------------------------------------------------- */

static int session_setup_round(struct setup *st, const uint8_t *tok, size_t toklen,
			       struct conn_msg *rsp, struct session_setup_rsp *p,
			       bool *final)
{
	struct session *s = st->s;
	struct session_setup_req q = {
		.flags = st->binding ? SMB2_SESSION_FLAG_BINDING : 0,
		.security_mode = (uint8_t)st->client_security_mode,
		.capabilities = SMB2_GLOBAL_CAP_DFS,
		.previous_session_id = st->prev_sid,
		.secbuf = tok, .secbuf_len = toklen,
	};
	struct smb2_hdr h = { .command = SMB2_SESSION_SETUP, .session_id = st->sid };
	uint32_t status;
	struct wr w;
	int ret;

	wr_init(&w);
	pdu_hdr_enc(&w, &h);
	ret = pdu_session_setup_enc(&w, 0, &q);
	if (!ret)
		ret = call1(st, &w, rsp, "SESSION_SETUP");
	if (ret)
		goto out;
	/* Every SESSION_SETUP request goes into the hash; of the responses,
	 * all but the final (SUCCESS) one. */
	if (st->ci->dialect == SMB2_DIALECT_311)
		smb2_preauth_update(st->preauth, w.p, w.len);
	status = conn_msg_status(rsp);
	/* A binding's answers before the last are signed with the session's
	 * key (MS-SMB2 3.2.5.1.3); this connection leaves them to us. */
	if (st->binding && status != STATUS_SUCCESS &&
	    (le32_get(rsp->buf + SMB2_HDR_FLAGS) & SMB2_FLAGS_SIGNED) &&
	    smb2_verify(st->bind_sec.sign_alg, st->bind_sec.sign_key, rsp->buf, rsp->len) != 0) {
		seterr(st->err, "a SESSION_SETUP response while binding a channel has a bad "
		       "signature (tampering?)");
		ret = -EACCES;
		goto out;
	}
	if (status == STATUS_MORE_PROCESSING_REQUIRED) {
		*final = false;
		if (st->ci->dialect == SMB2_DIALECT_311)
			smb2_preauth_update(st->preauth, rsp->buf, rsp->len);
	} else if (status == STATUS_SUCCESS) {
		*final = true;
	} else if (st->s->sec == SEC_KRB5 &&
		   (status == STATUS_LOGON_FAILURE || status == STATUS_ACCESS_DENIED)) {
		ret = -EACCES;
		seterr(st->err, "server %s refused the Kerberos ticket of %s for %s (%s): it does not "
		       "hold that service principal's key, or the ticket is not for it (check spn=)",
		       st->s->host, s->user_desc, s->krb5_target, ntstatus_name(status));
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
			       ntstatus_name(status), st->s->sec == SEC_NONE ?
			       ": it does not allow anonymous or guest access" : "");
			break;
		default:
			seterr(st->err, "%s failed: %s", st->binding ? "binding a channel" :
			       "SESSION_SETUP", ntstatus_name(status));
		}
		goto out;
	}
	if (pdu_session_setup_dec(rsp->buf, rsp->len, p) != 0) {
		seterr(st->err, "malformed SESSION_SETUP response");
		ret = -EPROTO;
		goto out;
	}
	if (st->sid == 0)
		st->sid = le64_get(rsp->buf + SMB2_HDR_SESSION_ID);
	else if (le64_get(rsp->buf + SMB2_HDR_SESSION_ID) != st->sid) {
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
	bool is_signed = le32_get(rsp->buf + SMB2_HDR_FLAGS) & SMB2_FLAGS_SIGNED;

	if (is_signed) {
		if (smb2_verify(st->ci->sign_alg, key, rsp->buf, rsp->len) != 0) {
			seterr(st->err, "the final SESSION_SETUP response has a bad signature: "
			       "the server does not share this session's key (a wrong password or ticket), or the "
			       "exchange was tampered with");
			return -EACCES;
		}
		return 0;
	}
	if (st->ci->dialect >= SMB2_DIALECT_300 || st->sec.sign) {
		seterr(st->err, "the final SESSION_SETUP response is not signed, although it must be "
		       "(tampering, or a broken server)");
		return -EACCES;
	}
	return 0;
}


/*
 * NTLMSSP inside SPNEGO: NegTokenInit(NEGOTIATE) -> CHALLENGE, then
 * NegTokenResp(AUTHENTICATE, mechListMIC) -> SUCCESS.  Leaves the final
 * response in rsp/p and the session key in key.
 */
static int authenticate_ntlm(struct setup *st, struct conn_msg *rsp, struct session_setup_rsp *p,
			     uint8_t key[SESSION_KEY_MAX], size_t *keylen)
{
	struct session *o = st->s;
	struct ntlm_creds cr = {
		.user = o->user ? o->user : "",
		.domain = o->domain ? o->domain : "",
		.password = "",
		.nt_hash = o->nt_hash ? secret_data(o->nt_hash) : NULL,
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
	/* A binding changes nothing of the session: it runs beside the
	 * requests that read these. */
	if (st->binding)
		;
	else if (o->sec == SEC_NONE)
		snprintf(st->s->user_desc, sizeof(st->s->user_desc), "anonymous");
	else if (cr.domain[0])
		snprintf(st->s->user_desc, sizeof(st->s->user_desc), "%s\\%s", cr.domain, cr.user);
	else
		snprintf(st->s->user_desc, sizeof(st->s->user_desc), "%s", cr.user);

	if (st->ci->server_mechs && !(st->ci->server_mechs & SPNEGO_MECH_NTLMSSP)) {
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
	struct session *o = st->s;
	struct session *s = st->s;
	struct auth_krb5_opts ko = { .host = o->host, .spn = o->spn, .ccache = o->krb5_ccache,
				     .principal = st->krb5_principal, .as_user = o->as_user,
				     .uid = o->as_uid, .gid = o->as_gid };
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
	if (st->ci->server_mechs && !(st->ci->server_mechs & (SPNEGO_MECH_KRB5 | SPNEGO_MECH_MS_KRB5))) {
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
	if (!st->binding) {
		snprintf(s->user_desc, sizeof(s->user_desc), "%s", auth_krb5_principal(k));
		snprintf(s->krb5_target, sizeof(s->krb5_target), "%s", auth_krb5_target(k));
	}
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
	if (!st->binding)
		s->krb5_lifetime_s = auth_krb5_lifetime(k);
out:
	auth_krb5_free(k);
	wr_free(&tok);
	wr_free(&msg);
	wr_free(&types);
	wr_free(&mic);
	return ret;
}

/* The keys of this logon's session key (and, in 3.1.1, its preauth
 * hash) into st->keys (MS-SMB2 3.2.5.3.1). */
static int derive_keys(struct setup *st, const uint8_t *key, size_t keylen)
{
	int ret = smb2_derive_keys(st->ci->dialect, key, keylen,
				   st->ci->dialect == SMB2_DIALECT_311 ? st->preauth : NULL,
				   smb2_cipher_key_size(st->ci->cipher ? st->ci->cipher :
							SMB2_CIPHER_AES128_CCM),
				   &st->keys);

	if (ret)
		seterr(st->err, "key derivation failed");
	return ret;
}

/*
 * A binding authenticated (MS-SMB2 3.2.5.3.3): the channel's signing key
 * comes from this authentication's own session key (and, in 3.1.1, this
 * connection's preauth hash); the final answer must be signed with it.
 * Encryption keys stay the session's.
 */
static int bind_finish(struct setup *st, const struct conn_msg *rsp,
		       const struct session_setup_rsp *p, const uint8_t *key, size_t keylen)
{
	struct smb2_keys *keys = &st->keys;
	struct conn_security *sec = &st->sec;
	int ret;

	if (p->session_flags & (SMB2_SESSION_FLAG_IS_GUEST | SMB2_SESSION_FLAG_IS_NULL)) {
		seterr(st->err, "the server bound the channel as guest or anonymous");
		return -EACCES;
	}
	ret = derive_keys(st, key, keylen);
	if (ret)
		return ret;
	ret = verify_final(st, rsp, keys->signing);
	if (ret)
		return ret;
	*sec = st->bind_sec;	/* sign and encrypt: the session's, as copied under its lock */
	sec->binding = true;	/* a re-authentication's answers: session.c checks them */
	memcpy(sec->sign_key, keys->signing, 16);
	conn_set_security(st->conn, sec);
	return 0;
}

static int authenticate(struct setup *st)
{
	struct session *o = st->s;
	struct session *s = st->s;
	struct conn_msg rsp = { 0 };
	struct session_setup_rsp p;
	struct smb2_keys *keys = &st->keys;
	struct conn_security *sec = &st->sec;
	uint8_t key[SESSION_KEY_MAX];
	size_t keylen = 0;
	int ret;

	if (!st->binding)
		s->mech = o->sec;
	if (o->sec == SEC_KRB5)
		ret = authenticate_krb5(st, &rsp, &p, key, &keylen);
	else
		ret = authenticate_ntlm(st, &rsp, &p, key, &keylen);
	if (ret)
		goto out;
	if (st->binding) {
		ret = bind_finish(st, &rsp, &p, key, keylen);
		goto out;
	}
	if (st->prev_sid && ((p.session_flags & SMB2_SESSION_FLAG_IS_GUEST) != 0) != s->guest) {
		seterr(st->err, "the server logged %s on as %s this time", s->user_desc,
		       s->guest ? "that user, not the guest" : "the guest");
		ret = -EACCES;
		goto out;
	}

	s->guest = (p.session_flags & SMB2_SESSION_FLAG_IS_GUEST) != 0;
	s->anonymous = o->sec == SEC_NONE || (p.session_flags & SMB2_SESSION_FLAG_IS_NULL) != 0;
	if (s->guest && o->sec != SEC_NONE) {
		if (o->require_signing || (st->ci->server_security_mode & SMB2_NEGOTIATE_SIGNING_REQUIRED)) {
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
	sec->session_id = st->sid;
	if (!s->guest && !s->anonymous) {
		ret = derive_keys(st, key, keylen);
		if (ret)
			goto out;
		/* A reconnect keeps signing if the session signed before,
		 * whatever the server says now. */
		sec->sign = o->require_signing || (st->prev_sid && s->signing) ||
			(st->ci->server_security_mode & SMB2_NEGOTIATE_SIGNING_REQUIRED);
		ret = verify_final(st, &rsp, keys->signing);
		if (ret)
			goto out;
		s->signing = sec->sign;
		sec->have_sign_key = true;
		sec->sign_alg = st->ci->sign_alg;
		memcpy(sec->sign_key, keys->signing, 16);
		/* The encryption keys are kept even while not sealing: a share
		 * that requires encryption turns it on at TREE_CONNECT. */
		sec->cipher = st->ci->cipher;
		memcpy(sec->enc_key, keys->encryption, sizeof(sec->enc_key));
		memcpy(sec->dec_key, keys->decryption, sizeof(sec->dec_key));
		if (o->require_encryption || st->was_encrypting ||
		    (p.session_flags & SMB2_SESSION_FLAG_ENCRYPT_DATA)) {
			if (st->ci->cipher == SMB2_CIPHER_NONE) {
				seterr(st->err, "encryption was required (seal), but server %s offers no cipher "
				       "smbfuse supports (dialect %s)", o->host, dialect_name(st->ci->dialect));
				ret = -EOPNOTSUPP;
				goto out;
			}
			sec->encrypt = true;
		}
	} else if (o->require_encryption) {
		seterr(st->err, "encryption was required (seal), but a %s session has no keys to encrypt with",
		       s->user_desc);
		ret = -EOPNOTSUPP;
		goto out;
	}
	conn_set_security(st->conn, sec);
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
	char who[sizeof(s->user_desc)];
	struct channel ch;
	struct setup st = { .s = s, .err = err, .krb5_principal = who,
			    .client_security_mode = s->client_security_mode };
	struct conn_msg rsp = { 0 };
	struct session_setup_rsp p;
	uint8_t key[SESSION_KEY_MAX];
	size_t keylen = 0;
	int ret;

	/* Not waiting for a reconnect here (under the send lock, with no
	 * way to be interrupted): the reconnect logs on afresh anyway. */
	ret = session_channel_now(s, &ch);
	if (ret)
		return -ENOTCONN;
	st.conn = ch.conn;
	st.ci = conn_info(ch.conn);
	st.sid = ch.session_id;
	snprintf(who, sizeof(who), "%s", s->user_desc);
	ret = authenticate_krb5(&st, &rsp, &p, key, &keylen);
	OPENSSL_cleanse(key, sizeof(key));
	if (ret)
		goto out;
	ret = -EACCES;
	/* The answer must come from the server we share the keys with.  On
	 * a bound channel (multichannel) the connection leaves the check to
	 * us: it is signed with the session's key, not the channel's. */
	if (!rsp.was_signed && !rsp.was_encrypted &&
	    (le32_get(rsp.buf + SMB2_HDR_FLAGS) & SMB2_FLAGS_SIGNED)) {
		struct conn_security k;

		pthread_mutex_lock(&s->lock);
		k = s->sec_state;
		pthread_mutex_unlock(&s->lock);
		rsp.was_signed = k.have_sign_key &&
			smb2_verify(k.sign_alg, k.sign_key, rsp.buf, rsp.len) == 0;
		OPENSSL_cleanse(&k, sizeof(k));
	}
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
	session_channel_put(&ch);
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
	if (ret == -ENOTCONN) {
		/* The connection is down: the caller sends again, waits for
		 * the reconnect, whose logon takes a fresh ticket. */
		ret = 0;
		goto out;
	}
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

/* --- logon ----------------------------------------------------------------- */

int session_logon(struct session *s, struct conn *conn, const struct conn_info *info,
		  const uint8_t preauth[SMB2_PREAUTH_HASH_SIZE], uint64_t previous_id,
		  uint64_t *session_id, struct conn_security *sec, char err[SESSION_ERRLEN])
{
	char who[sizeof(s->user_desc)];
	struct setup st = {
		.s = s, .conn = conn, .ci = info, .err = err, .prev_sid = previous_id,
		.client_security_mode = info->client_security_mode,
	};
	int ret;

	err[0] = '\0';
	memcpy(st.preauth, preauth, sizeof(st.preauth));
	if (previous_id) {
		pthread_mutex_lock(&s->lock);
		st.was_encrypting = s->encrypting;
		pthread_mutex_unlock(&s->lock);
		/* The same Kerberos principal as before, not whoever's
		 * ticket the cache holds now. */
		if (s->mech == SEC_KRB5) {
			snprintf(who, sizeof(who), "%s", s->user_desc);
			st.krb5_principal = who;
		}
	}
	ret = authenticate(&st);
	if (!ret) {
		*session_id = st.sid;
		*sec = st.sec;
		s->client_security_mode = st.client_security_mode;
	}
	OPENSSL_cleanse(st.preauth, sizeof(st.preauth));
	OPENSSL_cleanse(&st.keys, sizeof(st.keys));
	OPENSSL_cleanse(&st.sec, sizeof(st.sec));
	return ret;
}

int session_bind(struct session *s, struct conn *conn, const struct conn_info *info,
		 const uint8_t preauth[SMB2_PREAUTH_HASH_SIZE], uint64_t sid, uint8_t index,
		 struct conn_security *sec, char err[SESSION_ERRLEN])
{
	char who[sizeof(s->user_desc)];
	struct setup st = {
		.s = s, .conn = conn, .ci = info, .err = err, .sid = sid, .binding = true,
		.client_security_mode = info->client_security_mode,
	};
	bool sign, encrypt;
	int ret;

	err[0] = '\0';
	pthread_mutex_lock(&s->lock);
	st.bind_sec = s->sec_state;
	pthread_mutex_unlock(&s->lock);
	sign = st.bind_sec.sign;
	encrypt = st.bind_sec.encrypt;
	if (!st.bind_sec.have_sign_key) {
		seterr(err, "a %s session has no keys to bind more channels with", s->user_desc);
		ret = -EOPNOTSUPP;
		goto out;
	}
	/* Its requests signed with the session's key, not sealed
	 * (SESSION_SETUP never is); its own key comes at the end. */
	st.bind_sec.session_id = sid;
	st.bind_sec.sign = true;
	st.bind_sec.encrypt = false;
	st.bind_sec.binding = true;
	st.bind_sec.channel_index = index;
	conn_set_security(conn, &st.bind_sec);
	st.bind_sec.sign = sign;
	st.bind_sec.encrypt = encrypt;
	/* The same user: a Kerberos cache may hold someone else's ticket
	 * by now, which the server would refuse anyway. */
	if (s->mech == SEC_KRB5) {
		snprintf(who, sizeof(who), "%s", s->user_desc);
		st.krb5_principal = who;
	}
	memcpy(st.preauth, preauth, sizeof(st.preauth));
	ret = authenticate(&st);
	if (!ret)
		*sec = st.sec;
out:
	OPENSSL_cleanse(st.preauth, sizeof(st.preauth));
	OPENSSL_cleanse(&st.keys, sizeof(st.keys));
	OPENSSL_cleanse(&st.sec, sizeof(st.sec));
	OPENSSL_cleanse(&st.bind_sec, sizeof(st.bind_sec));
	return ret;
}

int session_seal(struct session *s, struct conn *conn, struct conn_security *sec)
{
	if (!sec->have_sign_key || sec->cipher == SMB2_CIPHER_NONE)
		return -EOPNOTSUPP;
	sec->encrypt = true;
	conn_set_security(conn, sec);
	pthread_mutex_lock(&s->lock);
	if (s->conn == conn || !s->conn) {
		s->encrypting = true;
		s->sec_state = *sec;
	}
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* --- the channel ---------------------------------------------------------- */

uint32_t session_max_read(const struct session *s)
{
	return s->info.max_read;
}

uint32_t session_max_write(const struct session *s)
{
	return s->info.max_write;
}

uint32_t session_max_transact(const struct session *s)
{
	return s->info.max_transact;
}

/* The least busy channel, with a reference.  Ties go round the
 * channels in turn (as the kernel client's do), so that requests one at
 * a time use them all too.  Caller holds s->lock. */
static void take_channel(struct session *s, struct channel *ch)
{
	struct conn *best = s->conn, *c;
	int i, k, n = s->nextra + 1;
	uint32_t load = UINT32_MAX, l;

	for (k = 0; n > 1 && k < n; k++) {
		i = (int)((s->chan_turn + (unsigned)k) % (unsigned)n);
		c = i == 0 ? s->conn : s->extra[i - 1].conn;
		l = conn_inflight(c);
		if (l < load) {
			best = c;
			load = l;
		}
	}
	s->chan_turn++;
	ch->conn = conn_get(best);
	ch->gen = s->chan_gen;
	ch->session_id = s->session_id;
	ch->channel_sequence = s->channel_sequence;
}

int session_channel(struct session *s, struct channel *ch, session_abort_fn abort_fn,
		    void *abort_arg)
{
	uint64_t deadline = now_ms() + (uint64_t)s->request_timeout_ms, wake;
	struct timespec ts;
	int ret = 0;

	memset(ch, 0, sizeof(*ch));
	pthread_mutex_lock(&s->lock);
	for (;;) {
		if (s->conn) {
			take_channel(s, ch);
			break;
		}
		if (s->closing || !s->reconnect) {
			ret = -ENOTCONN;
			break;
		}
		if (!s->hard && now_ms() >= deadline) {
			ret = -EHOSTDOWN;
			break;
		}
		/* Wake every second to ask abort_fn: an unmount or an
		 * interrupted caller ends even a hard wait. */
		wake = now_ms() + 1000;
		if (!s->hard && wake > deadline)
			wake = deadline;
		ts = ms_to_timespec(wake);
		pthread_cond_timedwait(&s->chan_cond, &s->lock, &ts);
		if (abort_fn) {
			pthread_mutex_unlock(&s->lock);
			ret = abort_fn(abort_arg);
			pthread_mutex_lock(&s->lock);
			if (ret)
				break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

uint64_t session_channel_gen(struct session *s)
{
	uint64_t gen;

	pthread_mutex_lock(&s->lock);
	gen = s->conn ? s->chan_gen : 0;
	pthread_mutex_unlock(&s->lock);
	return gen;
}

uint16_t session_channel_sequence(struct session *s)
{
	uint16_t seq;

	pthread_mutex_lock(&s->lock);
	seq = s->channel_sequence;
	pthread_mutex_unlock(&s->lock);
	return seq;
}

void session_channel_put(struct channel *ch)
{
	if (ch->conn)
		conn_put(ch->conn);
	ch->conn = NULL;
}

void session_set_abort(struct session *s, session_abort_fn fn, void *arg)
{
	pthread_mutex_lock(&s->lock);
	s->abort_fn = fn;
	s->abort_arg = arg;
	pthread_mutex_unlock(&s->lock);
}

void session_set_break_handler(struct session *s, conn_break_fn fn, void *arg)
{
	struct conn *c = NULL;

	struct conn *more[SESSION_MAX_CHANNELS - 1];
	int i, n;

	pthread_mutex_lock(&s->lock);
	s->break_fn = fn;
	s->break_arg = arg;
	if (s->conn)
		c = conn_get(s->conn);
	n = s->nextra;
	for (i = 0; i < n; i++)
		more[i] = conn_get(s->extra[i].conn);
	pthread_mutex_unlock(&s->lock);
	/* Not under s->lock: conn.lock comes first.  A channel bound
	 * meanwhile reads break_fn after it installs its own (channels.c). */
	if (c) {
		conn_set_break_handler(c, fn, arg);
		conn_put(c);
	}
	for (i = 0; i < n; i++) {
		conn_set_break_handler(more[i], fn, arg);
		conn_put(more[i]);
	}
}

/* --- open / close ---------------------------------------------------------- */

static void session_free(struct session *s)
{
	free(s->host);
	free(s->user);
	free(s->domain);
	free(s->spn);
	free(s->krb5_ccache);
	secret_free(s->nt_hash);
	if (s->cancel_fd[0] >= 0)
		close(s->cancel_fd[0]);
	if (s->cancel_fd[1] >= 0)
		close(s->cancel_fd[1]);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->trees_lock);
	pthread_cond_destroy(&s->chan_cond);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->reauth_lock);
	pthread_rwlock_destroy(&s->send_lock);
	pthread_cond_destroy(&s->bind_wake);
	free(s->ifs);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

static int dup_opt(char **dst, const char *src)
{
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}


/* NTLM logs on from the NT hash alone: that is what the session keeps,
 * in locked memory, for logging on again after a lost connection; never
 * the password. */
static int keep_nt_hash(struct session *s, const struct session_opts *o)
{
	if (o->sec != SEC_NTLMSSP)
		return 0;
	if (o->nt_hash) {
		s->nt_hash = secret_dup(o->nt_hash, 16);
		return s->nt_hash ? 0 : -ENOMEM;
	}
	s->nt_hash = secret_new(16);
	if (!s->nt_hash)
		return -ENOMEM;
	return ntlm_nt_hash(o->password ? o->password : "", secret_data(s->nt_hash));
}

/* Copy what the session needs for its whole life, reconnects included. */
static struct session *session_new(const struct session_opts *o)
{
	pthread_rwlockattr_t a;
	struct session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (pipe2(s->cancel_fd, O_CLOEXEC | O_NONBLOCK) != 0)
		s->cancel_fd[0] = s->cancel_fd[1] = -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->trees_lock, NULL);
	cond_init_monotonic(&s->chan_cond);
	cond_init_monotonic(&s->wake);
	cond_init_monotonic(&s->bind_wake);
	pthread_mutex_init(&s->reauth_lock, NULL);
	/* A waiting re-authentication goes before new requests. */
	pthread_rwlockattr_init(&a);
	pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&s->send_lock, &a);
	pthread_rwlockattr_destroy(&a);
	if (dup_opt(&s->host, o->host) || dup_opt(&s->user, o->user) ||
	    dup_opt(&s->domain, o->domain) || dup_opt(&s->spn, o->spn) ||
	    dup_opt(&s->krb5_ccache, o->krb5_ccache) || keep_nt_hash(s, o) ||
	    RAND_bytes(s->np.client_guid, sizeof(s->np.client_guid)) != 1) {
		session_free(s);
		return NULL;
	}
	s->port = o->port;
	s->sec = o->sec;
	s->as_user = o->as_user;
	s->as_uid = o->uid;
	s->as_gid = o->gid;
	s->require_signing = o->require_signing;
	s->require_encryption = o->require_encryption;
	s->secure_negotiate = o->secure_negotiate;
	s->hard = o->hard;
	s->reconnect = o->reconnect;
	s->max_channels = o->max_channels > SESSION_MAX_CHANNELS ? SESSION_MAX_CHANNELS :
		o->max_channels < 1 ? 1 : o->max_channels;
	s->next_channel_index = 1;
	s->connect_timeout_ms = o->connect_timeout_ms;
	s->request_timeout_ms = o->request_timeout_ms > 0 ? o->request_timeout_ms : 30000;
	s->echo_interval_s = o->echo_interval_s;
	s->np.host = s->host;
	s->np.port = o->port;
	s->np.connect_timeout_ms = o->connect_timeout_ms;
	s->np.min_dialect = o->min_dialect;
	s->np.max_dialect = o->max_dialect;
	s->np.require_signing = o->require_signing;
	s->np.diagnose_smb1 = true;
	s->np.multichannel = s->max_channels > 1 || o->offer_multichannel;
	return s;
}

int session_open(const struct session_opts *o, struct session **out, char err[SESSION_ERRLEN])
{
	uint8_t preauth[SMB2_PREAUTH_HASH_SIZE];
	struct conn_security sec;
	struct conn *conn = NULL;
	struct session *s;
	uint64_t sid = 0;
	int ret;

	*out = NULL;
	err[0] = '\0';
	s = session_new(o);
	if (!s) {
		seterr(err, "out of memory");
		return -ENOMEM;
	}
	ret = session_connect(s, &conn, &s->info, preauth, err);
	if (!ret)
		ret = session_logon(s, conn, &s->info, preauth, 0, &sid, &sec, err);
	session_forget_attempt(s);
	OPENSSL_cleanse(preauth, sizeof(preauth));
	if (ret) {
		if (!err[0])
			seterr(err, "%s", strerror(-ret));
		conn_put(conn);
		session_free(s);
		return ret;
	}
	s->np.diagnose_smb1 = false;
	ret = session_start_recovery(s, conn, sid, &sec);
	OPENSSL_cleanse(&sec, sizeof(sec));
	if (ret) {
		seterr(err, "cannot start the reconnect thread");
		conn_put(conn);
		session_free(s);
		return ret;
	}
	*out = s;
	return 0;
}

int session_channel_now(struct session *s, struct channel *ch)
{
	memset(ch, 0, sizeof(*ch));
	pthread_mutex_lock(&s->lock);
	if (s->conn)
		take_channel(s, ch);
	pthread_mutex_unlock(&s->lock);
	/* Not under session.lock: conn.lock comes before it. */
	if (ch->conn && !conn_alive(ch->conn))
		session_channel_put(ch);
	return ch->conn ? 0 : -ENOTCONN;
}

void session_send_courtesy(const struct channel *ch, uint16_t command, uint32_t tree_id)
{
	struct conn_msg rsp = { 0 };
	struct smb2_hdr h = { .command = command, .session_id = ch->session_id, .tree_id = tree_id };
	struct wr w;

	wr_init(&w);
	pdu_hdr_enc(&w, &h);
	pdu_empty_enc(&w);
	/* A courtesy: the server cleans up at disconnect anyway, and an
	 * unmount must not wait for a server that stopped answering. */
	if (!w.bad && conn_call(ch->conn, w.p, w.len, 1, &rsp, CLOSE_TIMEOUT_MS) == 0)
		conn_msg_free(&rsp);
	wr_free(&w);
}

void session_close(struct session *s)
{
	struct channel ch;

	if (!s)
		return;
	if (session_channel_now(s, &ch) == 0) {
		session_send_courtesy(&ch, SMB2_LOGOFF, 0);
		session_channel_put(&ch);
	}
	session_stop_recovery(s);
	session_free(s);
}
