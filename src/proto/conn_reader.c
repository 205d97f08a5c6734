/*
 * conn_reader.c - the receiving half of a connection: reading each
 * frame, decrypting and verifying it, and handing every message to the
 * caller waiting for it (conn.h).  Whoever holds conn.rx_busy does it:
 * a caller waiting for its own answer when nobody else was receiving
 * (conn_receive_until), else the reader thread.  The data of a READ
 * response is read (and decrypted) straight into the caller's buffer
 * when it asked so (conn_data): no copy and no allocation for the bulk
 * of the bytes.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "conn_int.h"
#include "log.h"
#include "ntstatus.h"
#include "pdu.h"
#include "smb2.h"
#include "transport.h"
#include "util.h"
#include "wire.h"


#define WHY_BAD_TAG "an encrypted message failed authentication (tampered with, or wrong key)"

/* Why the connection is dropped, in the words both receive paths use:
 * a signature that does not verify. */
static void why_bad_signature(char *why, size_t whylen, const struct smb2_hdr *h)
{
	snprintf(why, whylen,
		 "a response (command %u, MessageId %llu) has a bad signature: "
		 "it was altered in transit; dropping the connection",
		 h->command, (unsigned long long)h->message_id);
}

/* ... and deliver() refusing a message (ret, non-zero). */
static void why_undelivered(char *why, size_t whylen, int ret, const struct smb2_hdr *h)
{
	if (ret == -EBADMSG)
		snprintf(why, whylen,
			 "a response (command %u, MessageId %llu, %s) should be signed but is "
			 "not (tampering?); dropping the connection",
			 h->command, (unsigned long long)h->message_id, ntstatus_name(h->status));
	else
		snprintf(why, whylen, "the server answered MessageId %llu, which is not in flight",
			 (unsigned long long)h->message_id);
}

/* Verify a received message's signature if it carries one for our
 * session.  Whether an unsigned message is acceptable depends on its
 * request, and is decided in deliver().  Returns 0 or -EBADMSG.
 *
 * In a compound, the signature covers the message and its padding up to
 * NextCommand (MS-SMB2 3.3.4.1.3).  impacket's server signs each message
 * before it links the chain: with NextCommand still 0 and without the
 * zero padding.  That is accepted too, and *len is then cut to what was
 * signed, so no unsigned byte is ever read; what NextCommand could do if
 * forged is skip a message, whose request then times out. */
static int check_signature(const struct conn_security *sec, uint8_t *msg, size_t *len,
			   const struct smb2_hdr *h, bool encrypted, bool *was_signed)
{
	size_t n = *len, k;
	int pass, ok = 0;

	*was_signed = false;
	if (encrypted || !(h->flags & SMB2_FLAGS_SIGNED))
		return 0;
	if (!sec->have_sign_key || h->session_id != sec->session_id ||
	    (sec->binding && h->command == SMB2_SESSION_SETUP))
		/* A signature we cannot check: the session layer checks
		 * SESSION_SETUP responses itself, once it has the key. */
		return 0;
	if (smb2_verify(sec->sign_alg, sec->sign_key, msg, n) == 0) {
		*was_signed = true;
		return 0;
	}
	if (!h->next_command)
		return -EBADMSG;
	/* pass 0: unpadded; pass 1: unpadded and NextCommand taken as 0 */
	for (pass = 0; pass < 2 && !ok; pass++) {
		if (pass == 1)
			le32_put(msg + SMB2_HDR_NEXT_COMMAND, 0);
		for (k = 0; k < 8 && n - k >= SMB2_HEADER_SIZE && (k == 0 || msg[n - k] == 0); k++) {
			if ((pass == 0 && k == 0) ||
			    smb2_verify(sec->sign_alg, sec->sign_key, msg, n - k) != 0)
				continue;
			*len = n - k;
			ok = 1;
			break;
		}
	}
	le32_put(msg + SMB2_HDR_NEXT_COMMAND, h->next_command);
	if (!ok)
		return -EBADMSG;
	*was_signed = true;
	return 0;
}

/* Hand one message of a received chain to its waiter.  Caller holds
 * c->lock.  Returns -EPROTO for a message that belongs to no request. */
static int deliver(struct conn *c, const uint8_t *frame, uint8_t *msg, size_t len,
		   bool own_frame, const struct smb2_hdr *h, bool was_signed, bool encrypted,
		   bool *consumed)
{
	struct pending *p;
	struct waiter *w;
	uint8_t *copy;

	*consumed = false;
	c->credits += h->credits;
	if (h->credits)
		pthread_cond_broadcast(&c->credit_cond);
	p = pending_find(c, h->message_id);
	if (!p)
		return -EPROTO;
	if (h->command != p->command)
		return -EPROTO;
	/* An interim response carries no signature (MS-SMB2 3.3.4.1.1);
	 * every other one must be signed when its request was. */
	if (!(h->status == STATUS_PENDING && (h->flags & SMB2_FLAGS_ASYNC_COMMAND)) &&
	    !was_signed && !encrypted && p->must_sign)
		return -EBADMSG;
	if (h->status == STATUS_PENDING && (h->flags & SMB2_FLAGS_ASYNC_COMMAND)) {
		/* Interim: the real answer comes later under this AsyncId. */
		p->async_id = h->async_id;
		if (p->w) {
			p->w->deadline = now_ms() + (uint64_t)p->w->timeout_ms;
			p->w->interim = true;
		}
		return 0;
	}
	p = pending_take(c, h->message_id);
	c->inflight--;
	w = p->w;
	if (w) {
		if (own_frame && msg == frame) {
			copy = msg;	/* the whole frame is this message */
			*consumed = true;
		} else {
			copy = malloc(len);
			if (!copy) {
				w->err = -ENOMEM;
				pthread_cond_signal(&w->cond);
				free(p);
				return 0;
			}
			memcpy(copy, msg, len);
		}
		w->rsp[p->slot].buf = copy;
		w->rsp[p->slot].len = len;
		w->rsp[p->slot].was_signed = was_signed;
		w->rsp[p->slot].was_encrypted = encrypted;
		if (--w->remaining == 0)
			pthread_cond_signal(&w->cond);
	}
	free(p);
	return 0;
}

/* Process one frame (plaintext, possibly a chain).  Returns 0 or a
 * negative errno with c->dead_why not yet set (the caller kills). */
static int handle_frame(struct conn *c, const struct conn_security *sec, uint8_t *frame,
			size_t flen, char *why, size_t whylen)
{
	struct smb2_hdr h;
	uint8_t *buf = frame, *msg;
	size_t len = flen, off = 0, mlen;
	bool encrypted = false, consumed = false, was_signed, frame_owned = true;
	/* a verified message of this frame said the session has expired */
	bool chain_expired = false;
	long plen;
	int ret = 0;

	if (len >= 4 && le32_get(buf) == SMB2_TRANSFORM_PROTOCOL_ID) {
		if (!sec->encrypt || len < SMB2_TRANSFORM_HEADER_SIZE ||
		    le64_get(buf + 44) != sec->session_id) {
			snprintf(why, whylen, "received an encrypted message for a session that does not encrypt");
			ret = -EPROTO;
			goto out;
		}
		plen = smb2_decrypt(sec->cipher, sec->dec_key, buf, len);
		if (plen < 0) {
			snprintf(why, whylen, "%s",
				 plen == -EBADMSG ? WHY_BAD_TAG : "malformed encrypted message");
			ret = plen == -EBADMSG ? -EBADMSG : -EPROTO;
			goto out;
		}
		buf += SMB2_TRANSFORM_HEADER_SIZE;
		len = (size_t)plen;
		encrypted = true;
		frame_owned = false;	/* messages start past the transform header */
	} else if (len >= 4 && le32_get(buf) == SMB1_PROTOCOL_ID) {
		snprintf(why, whylen,
			 "the server answered in SMB1: it only speaks SMB1 (NT1), and smbfuse needs SMB 2.0.2 or later "
			 "(on Samba, set 'server min protocol = SMB2_02')");
		ret = -EPROTONOSUPPORT;
		goto out;
	} else if (len >= 4 && le32_get(buf) == SMB2_COMPRESSION_PROTOCOL_ID) {
		snprintf(why, whylen, "the server sent a compressed message, which smbfuse never asked for");
		ret = -EPROTO;
		goto out;
	}

	for (;;) {
		msg = buf + off;
		if (pdu_hdr_dec(msg, len - off, &h) != 0) {
			snprintf(why, whylen, "malformed SMB2 header from the server");
			ret = -EPROTO;
			goto out;
		}
		if (!(h.flags & SMB2_FLAGS_SERVER_TO_REDIR)) {
			snprintf(why, whylen, "the server sent a request, not a response");
			ret = -EPROTO;
			goto out;
		}
		/* Chain: NextCommand is 8-aligned and inside the frame. */
		if (h.next_command) {
			if ((h.next_command & 7) || h.next_command < SMB2_HEADER_SIZE ||
			    h.next_command > len - off - SMB2_HEADER_SIZE) {
				snprintf(why, whylen, "malformed compound response (NextCommand %u)",
					 (unsigned)h.next_command);
				ret = -EPROTO;
				goto out;
			}
			mlen = h.next_command;
		} else {
			mlen = len - off;
		}
		if (sec->encrypt && !encrypted && h.session_id == sec->session_id &&
		    h.message_id != BREAK_MESSAGE_ID) {
			snprintf(why, whylen, "the server sent an unencrypted response on an encrypted session");
			ret = -EPROTO;
			goto out;
		}
		if (h.message_id == BREAK_MESSAGE_ID && h.command == SMB2_OPLOCK_BREAK) {
			pthread_mutex_lock(&c->break_lock);
			if (c->break_fn)
				c->break_fn(c->break_arg, msg, mlen);
			pthread_mutex_unlock(&c->break_lock);
		} else {
			ret = check_signature(sec, msg, &mlen, &h, encrypted, &was_signed);
			if ((ret || !was_signed) && chain_expired && (h.flags & SMB2_FLAGS_RELATED_OPERATIONS)) {
				/* Samba answers the related requests behind an
				 * expired session's first one with a copy of the
				 * request's signature.  The verified first answer
				 * already says what happened to all of them; the
				 * follower's own status and body are not trusted. */
				le32_put(msg + SMB2_HDR_STATUS, STATUS_NETWORK_SESSION_EXPIRED);
				h.status = STATUS_NETWORK_SESSION_EXPIRED;
				was_signed = true;
				ret = 0;
			}
			if (ret) {
				why_bad_signature(why, whylen, &h);
				goto out;
			}
			if ((was_signed || encrypted) && h.status == STATUS_NETWORK_SESSION_EXPIRED)
				chain_expired = true;
			pthread_mutex_lock(&c->lock);
			ret = deliver(c, frame, msg, mlen, frame_owned && h.next_command == 0 && off == 0,
				      &h, was_signed, encrypted, &consumed);
			pthread_mutex_unlock(&c->lock);
			if (ret) {
				why_undelivered(why, whylen, ret, &h);
				goto out;
			}
		}
		if (!h.next_command)
			break;
		off += h.next_command;
	}
out:
	if (!consumed)
		free(frame);
	return ret;
}

/* --- READ data straight to its destination -------------------------------- */

/* Smaller frames are read whole: the copy saved would not pay for the
 * extra read(2). */
#define SINK_MIN_FRAME (16 * 1024)
/* What is read first: enough for a transform header or a READ
 * response's header and fixed body, whichever the frame starts with. */
#define SINK_PROBE (SMB2_HEADER_SIZE + PDU_READ_RSP_FIXED)
/* A READ response's header, fixed body and padding up to its data
 * (DataOffset is one byte). */
#define SINK_HEAD_MAX 256
/* Sealed data is read and decrypted in pieces of this size, each while
 * it is still in the CPU's cache. */
#define SINK_PIECE (256 * 1024)

/* What the start of a frame said about it. */
struct frame_start {
	uint8_t raw[SMB2_TRANSFORM_HEADER_SIZE + SINK_PROBE];	/* as read */
	size_t have;			/* bytes in raw */
	bool sealed;
	struct smb2_decryptor d;	/* sealed: positioned after head[0..SINK_PROBE) */
	uint8_t head[SINK_HEAD_MAX];	/* plaintext header and fixed body */
	struct smb2_hdr h;
	size_t data_off;
	uint32_t count;
};

/* Read the start of a frame of n bytes and decide whether it is a
 * successful READ response of one message whose data can go straight
 * to a destination: 1 if so, 0 if not (fs->raw/have hold what was
 * read), -errno if the socket failed. */
static int frame_start_read(struct conn *c, const struct conn_security *sec, size_t n,
			    struct frame_start *fs)
{
	size_t pre = 0;
	int ret;

	fs->have = 0;
	fs->sealed = false;
	if (n < SINK_MIN_FRAME)
		return 0;
	ret = transport_read_full(c->fd, fs->raw, SINK_PROBE);
	if (ret)
		return ret;
	fs->have = SINK_PROBE;
	if (le32_get(fs->raw) == SMB2_TRANSFORM_PROTOCOL_ID) {
		if (!sec->encrypt || le64_get(fs->raw + 44) != sec->session_id)
			return 0;
		ret = transport_read_full(c->fd, fs->raw + SINK_PROBE, SMB2_TRANSFORM_HEADER_SIZE);
		if (ret)
			return ret;
		fs->have += SMB2_TRANSFORM_HEADER_SIZE;
		pre = SMB2_TRANSFORM_HEADER_SIZE;
		/* CCM, or a header that does not describe this frame:
		 * the whole-frame path decides (and says why). */
		if (smb2_decrypt_begin(&fs->d, sec->cipher, sec->dec_key, fs->raw, n - pre) != 0)
			return 0;
		fs->sealed = true;
		if (smb2_decrypt_update(&fs->d, fs->raw + pre, fs->head, SINK_PROBE) != 0)
			goto not_mine;
	} else {
		if (sec->encrypt)
			return 0;	/* refused on the whole-frame path */
		memcpy(fs->head, fs->raw, SINK_PROBE);
	}
	if (pdu_hdr_dec(fs->head, SINK_PROBE, &fs->h) != 0 ||
	    !(fs->h.flags & SMB2_FLAGS_SERVER_TO_REDIR) || (fs->h.flags & SMB2_FLAGS_ASYNC_COMMAND) ||
	    fs->h.command != SMB2_READ || fs->h.next_command || fs->h.status != STATUS_SUCCESS ||
	    pdu_read_head_dec(fs->head, SINK_PROBE, &fs->data_off, &fs->count) != 0 ||
	    fs->count == 0 || fs->data_off < SINK_PROBE || fs->data_off + fs->count != n - pre)
		goto not_mine;
	return 1;
not_mine:
	if (fs->sealed)
		smb2_decrypt_abort(&fs->d);
	fs->sealed = false;
	return 0;
}

/* The rest of a READ response that frame_start_read accepted, its
 * padding into fs->head and its data into dst: read, decrypted in place
 * and checked.  0, or -errno with why set for a message that is not
 * authentic, or -errno with why empty for the socket. */
static int sink_read(struct conn *c, const struct conn_security *sec, struct frame_start *fs,
		     uint8_t *dst, bool *was_signed, char *why, size_t whylen)
{
	struct iovec iov[2] = { { fs->head, fs->data_off }, { dst, fs->count } };
	size_t done, piece, pad = fs->data_off - SINK_PROBE;
	uint8_t *at;
	int ret;

	*was_signed = false;
	at = fs->head + SINK_PROBE;
	ret = transport_read_full(c->fd, at, pad);
	if (!ret && fs->sealed)
		ret = smb2_decrypt_update(&fs->d, at, at, pad);
	for (done = 0; !ret && done < fs->count; done += piece) {
		piece = fs->count - done < SINK_PIECE ? fs->count - done : SINK_PIECE;
		ret = transport_read_full(c->fd, dst + done, piece);
		if (!ret && fs->sealed)
			ret = smb2_decrypt_update(&fs->d, dst + done, dst + done, piece);
	}
	if (ret) {
		if (fs->sealed)
			smb2_decrypt_abort(&fs->d);
		return ret;
	}
	if (fs->sealed) {
		fs->sealed = false;	/* the decryptor is done with */
		if (smb2_decrypt_finish(&fs->d) != 0) {
			/* Never leave unauthenticated plaintext behind. */
			memset(dst, 0, fs->count);
			snprintf(why, whylen, "%s", WHY_BAD_TAG);
			return -EBADMSG;
		}
		return 0;
	}
	/* As check_signature, for a message in two pieces. */
	if ((fs->h.flags & SMB2_FLAGS_SIGNED) && sec->have_sign_key &&
	    fs->h.session_id == sec->session_id) {
		if (smb2_verify_iov(sec->sign_alg, sec->sign_key, iov, 2) != 0) {
			why_bad_signature(why, whylen, &fs->h);
			return -EBADMSG;
		}
		*was_signed = true;
	}
	return 0;
}

/*
 * Read and handle one frame of n bytes.  A READ response whose caller
 * gave a destination (conn_data.in) has its data read there; anything
 * else is read whole and goes to handle_frame.  0, or -errno with why
 * set for a message to drop the connection for, with why empty for a
 * failed read.
 */
static int receive_frame(struct conn *c, size_t n, char *why, size_t whylen)
{
	uint8_t *frame;
	struct conn_security sec;
	struct frame_start fs;
	struct pending *p;
	struct waiter *w = NULL;
	uint8_t *copy = NULL;
	bool was_signed, consumed = false;
	int ret;

	pthread_mutex_lock(&c->lock);
	sec = c->sec;
	pthread_mutex_unlock(&c->lock);
	ret = frame_start_read(c, &sec, n, &fs);
	if (ret < 0)
		goto out;
	if (ret == 1) {
		pthread_mutex_lock(&c->lock);
		p = pending_find(c, fs.h.message_id);
		if (p && p->sink && p->w && p->command == SMB2_READ &&
		    fs.count <= p->w->data->in_cap) {
			w = p->w;
			w->sink_busy = true;	/* pins w and its buffer */
		}
		pthread_mutex_unlock(&c->lock);
		if (!w && fs.sealed)
			smb2_decrypt_abort(&fs.d);
	}
	if (!w) {
		/* Not for a destination: the whole frame, as it came. */
		frame = malloc(n);
		if (!frame) {
			ret = -ENOMEM;
			goto out;
		}
		memcpy(frame, fs.raw, fs.have);
		ret = transport_read_full(c->fd, frame + fs.have, n - fs.have);
		if (ret) {
			free(frame);
			goto out;
		}
		ret = handle_frame(c, &sec, frame, n, why, whylen);	/* frees frame */
		goto out;
	}
	ret = sink_read(c, &sec, &fs, w->data->in, &was_signed, why, whylen);
	if (!ret) {
		copy = malloc(fs.data_off);
		if (copy)
			memcpy(copy, fs.head, fs.data_off);
		else
			ret = -ENOMEM;
	}
	pthread_mutex_lock(&c->lock);
	w->sink_busy = false;
	if (!ret) {
		w->data->in_used = true;
		w->data->in_got = fs.count;
		ret = deliver(c, copy, copy, fs.data_off, true, &fs.h, was_signed,
			      le32_get(fs.raw) == SMB2_TRANSFORM_PROTOCOL_ID, &consumed);
		if (ret)
			why_undelivered(why, whylen, ret, &fs.h);
	}
	pthread_cond_signal(&w->cond);	/* the caller may wait for sink_busy */
	pthread_mutex_unlock(&c->lock);
	if (!consumed)
		free(copy);
out:
	OPENSSL_cleanse(&sec, sizeof(sec));
	return ret;
}

/* Read and handle one frame; on a failure the connection is marked
 * dead.  0, or -errno once it is dead. */
static int receive_one(struct conn *c)
{
	char why[CONN_ERRLEN];
	size_t len = 0, max;
	int ret;

	pthread_mutex_lock(&c->lock);
	max = c->max_frame;
	pthread_mutex_unlock(&c->lock);
	why[0] = '\0';
	ret = transport_read_len(c->fd, max, &len);
	if (!ret)
		ret = receive_frame(c, len, why, sizeof(why));
	pthread_mutex_lock(&c->lock);
	c->last_rx = now_ms();
	if (ret < 0 && !why[0]) {
		if (ret == -EPROTO)
			die_locked(c, -EPROTO, "malformed frame from the server (bad header or larger than %zu bytes)", max);
		else if (ret == -ECONNRESET || ret == -EPIPE)
			die_locked(c, -ENOTCONN, "the server closed the connection");
		else
			die_locked(c, -ENOTCONN, "reading from the server failed: %s", strerror(-ret));
	} else if (ret) {
		die_locked(c, ret == -EBADMSG ? -EIO : ret, "%s", why);
	}
	pthread_mutex_unlock(&c->lock);
	return ret;
}

/* Whether the socket has something to read (a frame, or its end)
 * within timeout_ms (-1: no limit). */
static bool readable(struct conn *c, int timeout_ms)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };

	return poll(&pfd, 1, timeout_ms) > 0;
}

/* Whether the next frame has come whole, so that reading it cannot
 * block: a caller must not sit in read(2) on a frame that stopped half
 * way (a link cut mid-frame), where its deadline could not end the wait
 * and send the ECHO that finds the link dead.  The end of the stream,
 * an error and a malformed length count as whole: reading them is what
 * reports them. */
static bool frame_whole(struct conn *c)
{
	uint8_t h[4];
	ssize_t n;
	int avail;

	n = recv(c->fd, h, sizeof(h), MSG_PEEK | MSG_DONTWAIT);
	if (n <= 0)
		return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
	if (n < 4)
		return false;
	if (h[0] != 0)
		return true;
	if (ioctl(c->fd, FIONREAD, &avail) != 0)
		return false;
	return (size_t)avail >= 4 + ((size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3]);
}

int conn_receive_until(struct conn *c, uint64_t wake_ms)
{
	uint64_t now = now_ms();
	int timeout = -1;

	if (wake_ms != UINT64_MAX)
		timeout = wake_ms <= now ? 0 : wake_ms - now > INT32_MAX ? INT32_MAX :
			(int)(wake_ms - now);
	if (!readable(c, timeout))
		return 0;
	if (!frame_whole(c))
		return -EAGAIN;
	receive_one(c);
	return 1;
}

void rx_take(struct conn *c)
{
	struct epoll_event ev = { .events = 0, .data.fd = c->fd };

	c->rx_busy = true;
	epoll_ctl(c->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

void rx_give_back(struct conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = c->fd };

	c->rx_busy = false;
	/* A frame that came meanwhile wakes the reader thread now. */
	epoll_ctl(c->epfd, EPOLL_CTL_MOD, c->fd, &ev);
	pthread_cond_signal(&c->rx_cond);	/* the reader thread, if it waits */
}

void *reader_main(void *arg)
{
	struct conn *c = arg;
	struct epoll_event ev;
	bool died;

	for (;;) {
		/* Wait for a frame without holding the receiving side, so
		 * that a caller can take it meanwhile and read its own
		 * answer.  A dead connection's socket is shut down, which
		 * ends the wait (EPOLLHUP is reported whatever the events). */
		if (epoll_wait(c->epfd, &ev, 1, -1) < 0 && errno != EINTR) {
			pthread_mutex_lock(&c->lock);
			die_locked(c, -ENOTCONN, "waiting for the server failed: %s", strerror(errno));
			pthread_mutex_unlock(&c->lock);
			return NULL;
		}
		pthread_mutex_lock(&c->lock);
		while (c->rx_busy && !c->dead)
			pthread_cond_wait(&c->rx_cond, &c->lock);
		if (c->dead) {
			pthread_mutex_unlock(&c->lock);
			return NULL;
		}
		/* Not rx_take: its events stay on, it is not waiting in
		 * epoll while it reads, and only this thread waits for
		 * rx_cond. */
		c->rx_busy = true;
		pthread_mutex_unlock(&c->lock);
		/* A caller may have read what woke us. */
		died = readable(c, 0) && receive_one(c) < 0;
		pthread_mutex_lock(&c->lock);
		c->rx_busy = false;
		pthread_mutex_unlock(&c->lock);
		if (died)
			return NULL;
	}
}
