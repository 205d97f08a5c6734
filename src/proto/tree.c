/*
 * tree.c - TREE_CONNECT and the secure-negotiate check that follows it
 * (MS-SMB2 3.2.4.2.4, 3.2.5.5, 3.2.5.14.12), and the tree's registry of
 * opens.  See tree.h.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "log.h"
#include "ntstatus.h"
#include "open.h"
#include "pdu.h"
#include "smb2.h"
#include "tree.h"
#include "util.h"
#include "wire.h"

#define seterr session_seterr

/* One TREE_CONNECT (and validation) on a given connection: the first
 * one, or the one after a reconnect. */
struct tcon {
	struct tree *t;
	struct conn *conn;
	uint64_t sid;
	struct conn_security *sec;	/* the session's keys on conn; sealing may be turned on */
	char *err;
	/* the outcome */
	uint32_t tree_id;
	uint32_t share_flags, share_capabilities, maximal_access;
	enum secure_negotiate secneg;
};

static int call1(struct tcon *st, struct wr *w, struct conn_msg *rsp, const char *what)
{
	return session_call_one(st->conn, w, rsp, what, st->err);
}

/* --- TREE_CONNECT and VALIDATE_NEGOTIATE_INFO ------------------------------ */

static int tree_connect(struct tcon *st)
{
	struct session *s = st->t->s;
	struct tree_connect_rsp p;
	struct conn_msg rsp = { 0 };
	struct smb2_hdr h;
	char unc[600];
	uint32_t status;
	struct wr w;
	int ret;

	snprintf(unc, sizeof(unc), "\\\\%s\\%s", s->host, st->t->share);
	memset(&h, 0, sizeof(h));
	h.command = SMB2_TREE_CONNECT;
	h.session_id = st->sid;
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
		seterr(st->err, "share name '%s' is not valid", st->t->share);
		goto out;
	}
	ret = call1(st, &w, &rsp, "TREE_CONNECT");
	if (ret)
		goto out;
	status = conn_msg_status(&rsp);
	if (status != STATUS_SUCCESS) {
		ret = ntstatus_to_errno(status);
		if (status == STATUS_BAD_NETWORK_NAME)
			seterr(st->err, "share '%s' does not exist on server %s", st->t->share, s->host);
		else if (status == STATUS_ACCESS_DENIED || status == STATUS_NETWORK_ACCESS_DENIED)
			seterr(st->err, "access to share '%s' is denied for %s", st->t->share, s->user_desc);
		else
			seterr(st->err, "TREE_CONNECT to '%s' failed: %s", st->t->share, ntstatus_name(status));
		goto out;
	}
	if (pdu_tree_connect_dec(rsp.buf, rsp.len, &p) != 0) {
		seterr(st->err, "malformed TREE_CONNECT response");
		ret = -EPROTO;
		goto out;
	}
	if (p.share_type != SMB2_SHARE_TYPE_DISK) {
		seterr(st->err, "'%s' is not a disk share (it is a %s)", st->t->share,
		       p.share_type == SMB2_SHARE_TYPE_PIPE ? "named pipe" : "printer");
		ret = -ENOTDIR;
		goto out;
	}
	st->tree_id = le32_get(rsp.buf + SMB2_HDR_TREE_ID);
	st->share_flags = p.share_flags;
	st->share_capabilities = p.capabilities;
	st->maximal_access = p.maximal_access;
	if ((p.share_flags & SMB2_SHAREFLAG_ENCRYPT_DATA) && !st->sec->encrypt) {
		/* The share wants encryption: from now on everything is sealed. */
		seterr(st->err, "share '%s' requires encryption, which this session cannot provide",
		       st->t->share);
		ret = -EOPNOTSUPP;
		if (s->guest || s->anonymous || session_seal(s, st->conn, st->sec) != 0)
			goto out;
		ret = 0;
		st->err[0] = '\0';
	}
out:
	conn_msg_free(&rsp);
	wr_free(&w);
	return ret;
}

static int validate_negotiate(struct tcon *st)
{
	const struct conn_info *ci = conn_info(st->conn);
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
	ret = pdu_validate_negotiate_enc(&in, ci->client_capabilities, ci->client_guid,
					 ci->client_security_mode, ci->offered, ci->noffered);
	if (ret)
		goto out;
	q.input = in.p;
	q.input_len = in.len;
	memset(&h, 0, sizeof(h));
	h.command = SMB2_IOCTL;
	h.session_id = st->sid;
	h.tree_id = st->tree_id;
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
		       *conn_error(st->conn) ? conn_error(st->conn) : strerror(-ret));
		goto out;
	}
	status = conn_msg_status(&rsp);
	if (status == STATUS_NOT_SUPPORTED || status == STATUS_INVALID_DEVICE_REQUEST ||
	    status == STATUS_FILE_CLOSED) {
		/* A down-level server that does not implement it; the answer
		 * was signed (the connection checked), so it is genuine. */
		st->secneg = SECNEG_NOT_SUPPORTED;
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
	if (v.capabilities != ci->server_capabilities || memcmp(v.guid, ci->server_guid, 16) != 0 ||
	    v.security_mode != ci->server_security_mode || v.dialect != ci->dialect) {
		seterr(st->err, "the negotiation could not be validated (possible tampering): the server "
		       "reports %s %s, capabilities 0x%x, security mode 0x%x, but NEGOTIATE said %s, "
		       "0x%x, 0x%x%s",
		       "dialect", dialect_name(v.dialect), v.capabilities, v.security_mode,
		       dialect_name(ci->dialect), ci->server_capabilities, ci->server_security_mode,
		       memcmp(v.guid, ci->server_guid, 16) ? ", and the server GUIDs differ" : "");
		goto out;
	}
	st->secneg = SECNEG_VALIDATED;
	ret = 0;
out:
	conn_msg_free(&rsp);
	wr_free(&in);
	wr_free(&w);
	return ret;
}

int tree_connect_on(struct tree *t, struct conn *conn, uint64_t sid,
		    struct conn_security *sec, char err[SESSION_ERRLEN])
{
	struct session *s = t->s;
	struct tcon st = { .t = t, .conn = conn, .sid = sid, .sec = sec, .err = err };
	int ret;

	err[0] = '\0';
	ret = tree_connect(&st);
	if (!ret) {
		if (conn_info(conn)->dialect == SMB2_DIALECT_311)
			st.secneg = SECNEG_PREAUTH;
		else if (!s->secure_negotiate)
			st.secneg = SECNEG_DISABLED;
		else if (s->guest || s->anonymous)
			st.secneg = SECNEG_SKIPPED_GUEST;
		else
			ret = validate_negotiate(&st);
	}
	if (ret)
		return ret;
	pthread_mutex_lock(&t->lock);
	t->tree_id = st.tree_id;
	t->share_flags = st.share_flags;
	t->share_capabilities = st.share_capabilities;
	t->maximal_access = st.maximal_access;
	t->secneg = st.secneg;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

int tree_open(struct session *s, const char *share, struct tree **out, char err[SESSION_ERRLEN])
{
	struct channel ch;
	struct tree *t;
	int ret;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (!t || !(t->share = strdup(share))) {
		free(t);
		seterr(err, "out of memory");
		return -ENOMEM;
	}
	t->s = s;
	pthread_mutex_init(&t->lock, NULL);
	ret = session_channel(s, &ch, NULL, NULL);
	if (ret) {
		seterr(err, "the connection to %s is down", s->host);
		goto fail;
	}
	pthread_mutex_lock(&s->lock);
	{
		struct conn_security sec = s->sec_state;

		pthread_mutex_unlock(&s->lock);
		ret = tree_connect_on(t, ch.conn, ch.session_id, &sec, err);
		OPENSSL_cleanse(&sec, sizeof(sec));
	}
	session_channel_put(&ch);
	if (ret)
		goto fail;
	if (!s->secure_negotiate && s->info.dialect != SMB2_DIALECT_311)
		log_warn("secure negotiate is off (nosecurenegotiate): a downgrade of the dialect "
			 "or of the security settings would go unnoticed");
	pthread_mutex_lock(&s->trees_lock);
	t->next = s->trees;
	s->trees = t;
	pthread_mutex_unlock(&s->trees_lock);
	*out = t;
	return 0;
fail:
	pthread_mutex_destroy(&t->lock);
	free(t->share);
	free(t);
	return ret;
}

void tree_close(struct tree *t)
{
	struct session *s;
	struct tree **pp;
	struct channel ch;

	if (!t)
		return;
	s = t->s;
	pthread_mutex_lock(&s->trees_lock);
	for (pp = &s->trees; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	pthread_mutex_unlock(&s->trees_lock);
	/* Without waiting for a reconnect: unmounting must not hang. */
	if (session_channel_now(s, &ch) == 0) {
		session_send_courtesy(&ch, SMB2_TREE_DISCONNECT, tree_id(t));
		session_channel_put(&ch);
	}
	open_forget_all(t);
	pthread_mutex_destroy(&t->lock);
	free(t->share);
	free(t);
}

uint32_t tree_id(struct tree *t)
{
	uint32_t id;

	pthread_mutex_lock(&t->lock);
	id = t->tree_id;
	pthread_mutex_unlock(&t->lock);
	return id;
}
