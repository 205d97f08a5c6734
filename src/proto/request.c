/*
 * request.c - requests on a tree, through re-authentication and
 * reconnects (see request.h).
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "log.h"
#include "ntstatus.h"
#include "pdu.h"
#include "request.h"
#include "smb2.h"
#include "wire.h"

/* A compound goes again at most this often: a server that drops the
 * connection on one particular request must not make it loop. */
#define MAX_RESENDS 3

/* Where each message of rq starts and how long it is. */
static int split(const struct request *rq, size_t *start, size_t *len)
{
	size_t off = 0;
	uint32_t next;
	int i;

	for (i = 0; i < rq->n; i++) {
		if (rq->len - off < SMB2_HEADER_SIZE)
			return -EINVAL;
		start[i] = off;
		next = le32_get(rq->buf + off + SMB2_HDR_NEXT_COMMAND);
		len[i] = i < rq->n - 1 ? next : rq->len - off;
		if (len[i] > rq->len - off)
			return -EINVAL;
		off += len[i];
	}
	return 0;
}

static bool replayable(uint16_t command)
{
	return command == SMB2_WRITE || command == SMB2_SET_INFO || command == SMB2_IOCTL;
}

/* Write the channel's identifiers into every message of rq. */
static int address(struct tree *t, struct request *rq, const struct channel *ch,
		   const size_t *start, const size_t *len)
{
	uint16_t dialect = conn_info(ch->conn)->dialect;
	struct smb2_fid fid;
	uint32_t tid, flags;
	uint8_t *m;
	bool durable;
	int i, ret;

	tid = tree_id(t);
	for (i = 0; i < rq->n; i++) {
		m = rq->buf + start[i];
		le64_put(m + SMB2_HDR_SESSION_ID, ch->session_id);
		le32_put(m + SMB2_HDR_TREE_ID, tid);
		/* The connection signs as its session does, every time. */
		flags = le32_get(m + SMB2_HDR_FLAGS) & ~SMB2_FLAGS_SIGNED;
		durable = false;
		if (rq->open[i]) {
			ret = open_fid(rq->open[i], ch, &fid);
			if (ret)
				return ret;
			ret = pdu_patch_fid(m, len[i], fid);
			if (ret)
				return ret;
			durable = rq->open[i]->durable;
		}
		if (dialect >= SMB2_DIALECT_300) {
			/* ChannelSequence in the first two bytes of Status
			 * (MS-SMB2 2.2.1.2), and the replay flag on a change
			 * sent again through a durable handle: the server then
			 * knows it may have seen it before (3.3.5.2.10). */
			le16_put(m + SMB2_HDR_STATUS, ch->channel_sequence);
			/* A CREATE sent again may have been done, and granted a
			 * durable handle under its CreateGuid: as a replay the
			 * server answers with that open instead of refusing a
			 * second one (MS-SMB2 3.3.5.9.10). */
			if (rq->resent && ((durable && replayable(le16_get(m + SMB2_HDR_COMMAND))) ||
					   le16_get(m + SMB2_HDR_COMMAND) == SMB2_CREATE))
				flags |= SMB2_FLAGS_REPLAY_OPERATION;
		}
		le32_put(m + SMB2_HDR_FLAGS, flags);
	}
	return 0;
}

/* A Kerberos session expires with its ticket (MS-SMB2 3.2.5.1.6): when
 * the first answer says so, the server has done nothing with the chain,
 * so after re-authenticating it goes again, once.  Without a fresh ticket
 * the answers stay (EKEYEXPIRED for the caller), and session_reauth
 * tells the user what to do. */
static bool reauthenticated(struct session *s, struct request *rq, struct conn_msg *rsp,
			    uint64_t seen)
{
	char err[SESSION_ERRLEN];
	int i;

	if (le32_get(rsp[0].buf + SMB2_HDR_STATUS) != STATUS_NETWORK_SESSION_EXPIRED)
		return false;
	if (session_reauth(s, seen, err) != 0)
		return false;
	for (i = 0; i < rq->n; i++)
		conn_msg_free(&rsp[i]);
	return true;
}

int tree_request(struct tree *t, struct request *rq, struct conn_msg *rsp)
{
	struct session *s = t->s;
	size_t start[CONN_MAX_CHAIN], len[CONN_MAX_CHAIN];
	struct conn_wait plain = { .data = rq->data };
	struct conn_wait patient = {
		.patient = true, .abort = s->abort_fn, .abort_arg = s->abort_arg, .data = rq->data,
	};
	struct channel ch;
	bool reauth_done = false;
	uint64_t auth;
	int ret, sends = 0;

	if (rq->n < 1 || rq->n > CONN_MAX_CHAIN)
		return -EINVAL;
	ret = split(rq, start, len);
	if (ret)
		return ret;
	rq->resent = false;
	for (;;) {
		ret = session_channel(s, &ch, s->abort_fn, s->abort_arg);
		if (ret)
			return ret;
		ret = address(t, rq, &ch, start, len);
		if (ret) {
			session_channel_put(&ch);
			if (ret != -ENOTCONN)
				return ret;
			goto lost;	/* the reclaim's connection died too */
		}
		auth = session_auth_gen(s);
		if (!rq->unheld)
			session_enter(s);
		ret = conn_call_wait(ch.conn, rq->buf, rq->len, rq->n, rsp, 0,
				     rq->patient ? &patient : &plain);
		if (!rq->unheld)
			session_leave(s);
		rq->gen = ch.gen;
		session_channel_put(&ch);
		if (ret == 0 && !reauth_done && reauthenticated(s, rq, rsp, auth)) {
			reauth_done = true;
			continue;
		}
		/* A change sent with a ChannelSequence that a channel's death
		 * has since made old: the server refuses it unseen (MS-SMB2
		 * 3.3.5.2.10), and it goes again with the current one. */
		if (ret == 0 && rsp[0].len >= SMB2_HEADER_SIZE &&
		    le32_get(rsp[0].buf + SMB2_HDR_STATUS) == STATUS_FILE_NOT_AVAILABLE &&
		    session_channel_sequence(s) != ch.channel_sequence && ++sends <= MAX_RESENDS) {
			for (int i = 0; i < rq->n; i++)
				conn_msg_free(&rsp[i]);
			rq->resent = true;
			continue;
		}
		if (ret != -ENOTCONN || !s->reconnect)
			return ret;
lost:
		/* The connection died with the compound on the way: the
		 * server may or may not have done it. */
		if (rq->no_resend)
			return -EIO;
		if (++sends > MAX_RESENDS)
			return -EIO;
		rq->resent = true;
		log_debug("sending a request again after the connection was lost");
	}
}

int tree_send_detached(struct tree *t, struct request *rq)
{
	struct session *s = t->s;
	size_t start[CONN_MAX_CHAIN], len[CONN_MAX_CHAIN];
	struct conn_call *call;
	struct channel ch;
	int ret;

	if (rq->n < 1 || rq->n > CONN_MAX_CHAIN)
		return -EINVAL;
	ret = split(rq, start, len);
	if (ret)
		return ret;
	ret = session_channel(s, &ch, s->abort_fn, s->abort_arg);
	if (ret)
		return ret;
	ret = address(t, rq, &ch, start, len);
	if (!ret) {
		session_enter(s);
		ret = conn_submit(ch.conn, rq->buf, rq->len, rq->n, 0, NULL, &call);
		session_leave(s);
	}
	if (!ret)
		conn_detach(call);
	session_channel_put(&ch);
	return ret;
}
