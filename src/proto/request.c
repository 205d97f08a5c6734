/*
 * request.c - requests on a tree, through re-authentication and
 * reconnects (see request.h).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
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

/* Where each message of rq starts and how long it is; -EINVAL for a
 * request of no message, more than a compound holds, or cut short. */
static int split(const struct request *rq, size_t *start, size_t *len)
{
	size_t off = 0;
	uint32_t next;
	int i;

	if (rq->n < 1 || rq->n > CONN_MAX_CHAIN)
		return -EINVAL;
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

/* Where one request stands across its sends. */
struct attempt {
	bool reauth_done;		/* re-authenticated for it once already */
	int sends;			/* sent again this often */
};

/* The connection died with rq on the way: the server may or may not
 * have done it.  true (and rq->resent) when it may go again; else
 * false with *ret = -EIO. */
static bool lost_on_the_way(struct request *rq, int *ret, struct attempt *a)
{
	if (rq->no_resend || ++a->sends > MAX_RESENDS) {
		*ret = -EIO;
		return false;
	}
	rq->resent = true;
	log_debug("sending a request again after the connection was lost");
	return true;
}

/* What to make of one send's outcome (ret and rsp from conn_call,
 * made with ChannelSequence seq after authentication auth): true when
 * rq must go again (rsp freed), false when *ret is the answer. */
static bool send_again(struct session *s, struct request *rq, struct conn_msg *rsp,
		       int *ret, uint16_t seq, uint64_t auth, struct attempt *a)
{
	if (*ret == 0 && !a->reauth_done && reauthenticated(s, rq, rsp, auth)) {
		a->reauth_done = true;
		return true;
	}
	/* A change sent with a ChannelSequence that a channel's death has
	 * since made old: the server refuses it unseen (MS-SMB2
	 * 3.3.5.2.10), and it goes again with the current one. */
	if (*ret == 0 && rsp[0].len >= SMB2_HEADER_SIZE &&
	    le32_get(rsp[0].buf + SMB2_HDR_STATUS) == STATUS_FILE_NOT_AVAILABLE &&
	    session_channel_sequence(s) != seq && ++a->sends <= MAX_RESENDS) {
		for (int i = 0; i < rq->n; i++)
			conn_msg_free(&rsp[i]);
		rq->resent = true;
		return true;
	}
	if (*ret != -ENOTCONN || !s->reconnect)
		return false;
	return lost_on_the_way(rq, ret, a);
}

/* tree_request from where attempt a left rq. */
static int request_loop(struct tree *t, struct request *rq, struct conn_msg *rsp,
			const size_t *start, const size_t *len, struct attempt *a)
{
	struct session *s = t->s;
	struct conn_wait plain = { .data = rq->data };
	struct conn_wait patient = {
		.patient = true, .abort = s->abort_fn, .abort_arg = s->abort_arg, .data = rq->data,
	};
	struct channel ch;
	uint64_t auth;
	uint16_t seq;
	int ret;

	for (;;) {
		ret = session_channel(s, &ch, s->abort_fn, s->abort_arg);
		if (ret)
			return ret;
		ret = address(t, rq, &ch, start, len);
		if (ret) {
			session_channel_put(&ch);
			if (ret != -ENOTCONN)
				return ret;
			/* the reclaim's connection died too */
			if (!lost_on_the_way(rq, &ret, a))
				return ret;
			continue;
		}
		auth = session_auth_gen(s);
		if (!rq->unheld)
			session_enter(s);
		ret = conn_call_wait(ch.conn, rq->buf, rq->len, rq->n, rsp, 0,
				     rq->patient ? &patient : &plain);
		if (!rq->unheld)
			session_leave(s);
		rq->gen = ch.gen;
		seq = ch.channel_sequence;
		session_channel_put(&ch);
		if (!send_again(s, rq, rsp, &ret, seq, auth, a))
			return ret;
	}
}

int tree_request(struct tree *t, struct request *rq, struct conn_msg *rsp)
{
	size_t start[CONN_MAX_CHAIN], len[CONN_MAX_CHAIN];
	struct attempt a = { 0 };
	int ret;

	ret = split(rq, start, len);
	if (ret)
		return ret;
	rq->resent = false;
	return request_loop(t, rq, rsp, start, len, &a);
}

/* One request of tree_requests: where its messages are, the channel it
 * went on and its call. */
struct batch_entry {
	size_t start[CONN_MAX_CHAIN], len[CONN_MAX_CHAIN];
	struct channel ch;
	bool have_ch;
	bool addressed;			/* its identifiers are written in */
	struct conn_call *call;
	uint64_t auth;
	struct attempt a;
};

int tree_requests(struct tree *t, struct request **rqs, struct conn_msg **rsps, int n,
		  int *rets)
{
	struct session *s = t->s;
	struct batch_entry *b;
	struct conn_wait plain;
	uint16_t seq;
	int i, ret;

	if (n < 1)
		return -EINVAL;
	b = calloc((size_t)n, sizeof(*b));
	if (!b)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		ret = rqs[i]->patient || rqs[i]->unheld ? -EINVAL :
			split(rqs[i], b[i].start, b[i].len);
		if (ret)
			goto out;
		rqs[i]->resent = false;
	}
	/* Each on the channel least busy at its turn (session_channel:
	 * with multichannel they spread), then all on the wire; the
	 * connection's credits bound how many are in flight at once. */
	for (i = 0; i < n; i++) {
		rets[i] = session_channel(s, &b[i].ch, s->abort_fn, s->abort_arg);
		if (rets[i])
			continue;
		b[i].have_ch = true;
		rets[i] = address(t, rqs[i], &b[i].ch, b[i].start, b[i].len);
		b[i].addressed = rets[i] == 0;
	}
	session_enter(s);
	for (i = 0; i < n; i++) {
		if (!b[i].addressed)
			continue;
		b[i].auth = session_auth_gen(s);
		plain = (struct conn_wait){ .data = rqs[i]->data };
		rets[i] = conn_submit(b[i].ch.conn, rqs[i]->buf, rqs[i]->len, rqs[i]->n, 0, &plain,
				      &b[i].call);
	}
	for (i = 0; i < n; i++)
		if (b[i].call)
			rets[i] = conn_collect(b[i].call, rsps[i]);
	session_leave(s);
	/* What did not simply succeed or fail (a lost connection, an
	 * expired session) goes on alone, as tree_request would have. */
	for (i = 0; i < n; i++) {
		bool again;

		if (!b[i].have_ch)
			continue;	/* session_channel's answer is final */
		rqs[i]->gen = b[i].ch.gen;
		seq = b[i].ch.channel_sequence;
		session_channel_put(&b[i].ch);
		b[i].have_ch = false;
		if (b[i].addressed)
			again = send_again(s, rqs[i], rsps[i], &rets[i], seq, b[i].auth, &b[i].a);
		else	/* a reclaim's connection died too: as tree_request */
			again = rets[i] == -ENOTCONN && lost_on_the_way(rqs[i], &rets[i], &b[i].a);
		if (again)
			rets[i] = request_loop(t, rqs[i], rsps[i], b[i].start, b[i].len, &b[i].a);
	}
	ret = 0;
out:
	for (i = 0; i < n; i++)
		if (b[i].have_ch)
			session_channel_put(&b[i].ch);
	free(b);
	return ret;
}

int tree_send_detached(struct tree *t, struct request *rq)
{
	struct session *s = t->s;
	size_t start[CONN_MAX_CHAIN], len[CONN_MAX_CHAIN];
	struct conn_call *call;
	struct channel ch;
	int ret;

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
