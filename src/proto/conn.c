/*
 * conn.c - one SMB2 connection: credits, MessageIds, requests in flight,
 * the reader thread, signing and sealing (see conn.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "log.h"
#include "ntstatus.h"
#include "pdu.h"
#include "smb2.h"
#include "transport.h"
#include "util.h"
#include "wire.h"

#include "conn_int.h"

/* Before NEGOTIATE: large enough for any negotiate response. */
#define INITIAL_MAX_FRAME (256 * 1024)
/* Credits we try to keep granted, so that many requests can be in flight. */
#define CREDIT_TARGET 512
/* How often a request on a server that still answers ECHOs may wait
 * its timeout out again (a slow disk, a blocked lock) before it fails. */
#define SLOW_SERVER_EXTENSIONS 3

void conn_msg_free(struct conn_msg *m)
{
	free(m->buf);
	m->buf = NULL;
	m->len = 0;
}

uint32_t conn_msg_status(const struct conn_msg *m)
{
	return le32_get(m->buf + SMB2_HDR_STATUS);
}

static struct pending **bucket(struct conn *c, uint64_t mid)
{
	return &c->table[(mid ^ (mid >> 8)) % PENDING_BUCKETS];
}

/* Remove and return the pending entry for mid.  Caller holds c->lock. */
struct pending *pending_take(struct conn *c, uint64_t mid)
{
	struct pending **pp = bucket(c, mid), *p;

	for (; (p = *pp); pp = &p->next) {
		if (p->mid == mid) {
			*pp = p->next;
			return p;
		}
	}
	return NULL;
}

struct pending *pending_find(struct conn *c, uint64_t mid)
{
	struct pending *p;

	for (p = *bucket(c, mid); p; p = p->next)
		if (p->mid == mid)
			return p;
	return NULL;
}

void die_locked(struct conn *c, int err, const char *fmt, ...)
{
	struct pending *p, *next;
	va_list ap;
	int i;

	if (c->dead)
		return;
	c->dead = true;
	c->dead_err = err;
	va_start(ap, fmt);
	vsnprintf(c->dead_why, sizeof(c->dead_why), fmt, ap);
	va_end(ap);
	/* Debug only: the session says what the loss means to the user
	 * (a failed mount, a reconnect). */
	if (!c->closing)
		log_debug("connection dead: %s", c->dead_why);
	for (i = 0; i < PENDING_BUCKETS; i++) {
		for (p = c->table[i]; p; p = next) {
			next = p->next;
			if (p->w) {
				p->w->err = err;
				pthread_cond_signal(&p->w->cond);
			}
			free(p);
		}
		c->table[i] = NULL;
	}
	c->inflight = 0;
	pthread_cond_broadcast(&c->credit_cond);
	pthread_cond_broadcast(&c->echo_cond);
	pthread_cond_broadcast(&c->rx_cond);
	/* Unblocks a sender stuck in write() and the reader in read(). */
	shutdown(c->fd, SHUT_RDWR);
	if (c->death_fn && !c->closing)
		c->death_fn(c->death_arg, c);
}

const char *conn_error(struct conn *c)
{
	return c->dead_why;
}

bool conn_alive(struct conn *c)
{
	bool alive;

	pthread_mutex_lock(&c->lock);
	alive = !c->dead;
	pthread_mutex_unlock(&c->lock);
	return alive;
}

int conn_peer_addr(struct conn *c, char *buf, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	const void *a;

	buf[0] = '\0';
	if (getpeername(c->fd, (struct sockaddr *)&ss, &len) != 0)
		return -errno;
	if (ss.ss_family == AF_INET)
		a = &((const struct sockaddr_in *)&ss)->sin_addr;
	else if (ss.ss_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)&ss)->sin6_addr;
	else
		return -EAFNOSUPPORT;
	if (!inet_ntop(ss.ss_family, a, buf, (socklen_t)size)) {
		buf[0] = '\0';
		return -errno;
	}
	return 0;
}

uint32_t conn_inflight(struct conn *c)
{
	/* Without the lock: a session picks a channel while holding its
	 * own, which comes after conn.lock. */
	return atomic_load_explicit(&c->inflight, memory_order_relaxed);
}

/* Frames may hold a message of max_read/max_write plus headers and a
 * compound around it; this is the slack allowed beyond the largest. */
#define FRAME_SLACK (64 * 1024)

void conn_set_negotiated(struct conn *c, const struct conn_info *info)
{
	uint32_t io = info->max_read > info->max_write ? info->max_read : info->max_write;

	pthread_mutex_lock(&c->lock);
	c->info = *info;
	c->large_mtu = info->dialect >= SMB2_DIALECT_210 &&
		(info->server_capabilities & SMB2_GLOBAL_CAP_LARGE_MTU);
	c->max_frame = (size_t)io + info->max_transact + FRAME_SLACK;
	pthread_mutex_unlock(&c->lock);
}

const struct conn_info *conn_info(const struct conn *c)
{
	return &c->info;
}

void conn_kill(struct conn *c, const char *why)
{
	pthread_mutex_lock(&c->lock);
	die_locked(c, -ENOTCONN, "%s", why);
	pthread_mutex_unlock(&c->lock);
}

void conn_set_security(struct conn *c, const struct conn_security *s)
{
	pthread_mutex_lock(&c->lock);
	OPENSSL_cleanse(&c->sec, sizeof(c->sec));
	c->sec = *s;
	pthread_mutex_unlock(&c->lock);
}

void conn_set_break_handler(struct conn *c, conn_break_fn fn, void *arg)
{
	pthread_mutex_lock(&c->break_lock);
	c->break_fn = fn;
	c->break_arg = arg;
	pthread_mutex_unlock(&c->break_lock);
}

void conn_set_death_handler(struct conn *c, conn_death_fn fn, void *arg)
{
	pthread_mutex_lock(&c->lock);
	c->death_fn = fn;
	c->death_arg = arg;
	pthread_mutex_unlock(&c->lock);
}

void conn_chain_link(struct wr *w, size_t msg_start)
{
	wr_align(w, 8);
	wr_patch_u32(w, msg_start + SMB2_HDR_NEXT_COMMAND, (uint32_t)(w->len - msg_start));
}

/* --- keepalive ------------------------------------------------------------ */

static int call(struct conn *c, uint8_t *req, size_t len, int n,
		struct conn_msg *rsp, int timeout_ms, const struct conn_wait *wt);

/* An ECHO that must be answered within timeout_ms, or the connection
 * is taken for dead: a server that cannot answer an ECHO is not going to
 * answer anything else on this socket. */
static int send_echo(struct conn *c, int timeout_ms)
{
	struct smb2_hdr h = { .command = SMB2_ECHO };
	struct conn_msg rsp = { 0 };
	struct wr w;
	int ret;

	wr_init(&w);
	pdu_hdr_enc(&w, &h);
	pdu_empty_enc(&w);
	ret = w.bad ? -ENOMEM : call(c, w.p, w.len, 1, &rsp, timeout_ms, NULL);
	if (ret == 0 && pdu_empty_dec(rsp.buf, rsp.len) != 0)
		ret = -EPROTO;
	if (ret == -ETIMEDOUT) {
		pthread_mutex_lock(&c->lock);
		die_locked(c, -ENOTCONN, "the server did not answer an ECHO within %d s",
			   timeout_ms / 1000);
		pthread_mutex_unlock(&c->lock);
		ret = -ENOTCONN;
	}
	conn_msg_free(&rsp);
	wr_free(&w);
	return ret;
}

/* How long an ECHO may go unanswered: the echo interval, but at least a
 * few seconds (a loaded server on a slow link) and at most the request
 * timeout. */
static int echo_timeout_ms(const struct conn *c)
{
	int t = c->echo_interval_s > 0 ? c->echo_interval_s * 1000 : c->request_timeout_ms;

	if (t < 5000)
		t = 5000;
	return t < c->request_timeout_ms ? t : c->request_timeout_ms;
}

static void *echo_main(void *arg)
{
	struct conn *c = arg;
	uint64_t interval = (uint64_t)c->echo_interval_s * 1000, due;
	struct timespec ts;

	pthread_mutex_lock(&c->lock);
	while (!c->closing && !c->dead) {
		due = c->last_rx + interval;
		if (now_ms() < due) {
			ts = ms_to_timespec(due);
			pthread_cond_timedwait(&c->echo_cond, &c->lock, &ts);
			continue;
		}
		pthread_mutex_unlock(&c->lock);
		if (send_echo(c, echo_timeout_ms(c)) != 0)
			log_debug("keepalive ECHO failed");
		pthread_mutex_lock(&c->lock);
		/* Wait a full interval after an echo even if the reply was
		 * quick, so an idle mount sends one per interval. */
		if (c->last_rx + interval <= now_ms())
			c->last_rx = now_ms();
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* --- open, close ---------------------------------------------------------- */


int conn_open(const struct conn_opts *o, struct conn **out, char err[CONN_ERRLEN])
{
	struct conn *c;
	int fd, ret;

	*out = NULL;
	ret = transport_connect(o->host, o->port, o->connect_timeout_ms, o->cancel_fd, &fd, err);
	if (ret)
		return ret;
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		snprintf(err, CONN_ERRLEN, "out of memory");
		return -ENOMEM;
	}
	c->refs = 1;
	c->fd = fd;
	c->request_timeout_ms = o->request_timeout_ms > 0 ? o->request_timeout_ms : 30000;
	c->echo_interval_s = o->echo_interval_s;
	c->credits = 1;		/* MS-SMB2 3.2.4.1.2: one to start with */
	c->max_frame = INITIAL_MAX_FRAME;
	c->last_rx = now_ms();
	RAND_bytes(c->nonce_salt, sizeof(c->nonce_salt));
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->send_lock, NULL);
	pthread_mutex_init(&c->break_lock, NULL);
	cond_init_monotonic(&c->credit_cond);
	cond_init_monotonic(&c->echo_cond);
	pthread_cond_init(&c->rx_cond, NULL);
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (c->epfd < 0 ||
	    epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &(struct epoll_event){ .events = EPOLLIN, .data.fd = fd }) != 0) {
		ret = -errno;
		if (c->epfd >= 0)
			close(c->epfd);
		close(fd);
		free(c);
		snprintf(err, CONN_ERRLEN, "cannot watch the connection: %s", strerror(-ret));
		return ret;
	}
	if (pthread_create(&c->reader, NULL, reader_main, c) != 0) {
		close(c->epfd);
		close(fd);
		free(c);
		snprintf(err, CONN_ERRLEN, "cannot start the reader thread");
		return -EAGAIN;
	}
	if (c->echo_interval_s > 0 &&
	    pthread_create(&c->echoer, NULL, echo_main, c) == 0)
		c->echoer_started = true;
	*out = c;
	return 0;
}

struct conn *conn_get(struct conn *c)
{
	__atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
	return c;
}

void conn_put(struct conn *c)
{
	if (!c || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	pthread_mutex_lock(&c->lock);
	c->closing = true;
	die_locked(c, -ENOTCONN, "the connection was closed");
	pthread_cond_broadcast(&c->echo_cond);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->reader, NULL);
	if (c->echoer_started)
		pthread_join(c->echoer, NULL);
	close(c->epfd);
	close(c->fd);
	OPENSSL_cleanse(&c->sec, sizeof(c->sec));
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->send_lock);
	pthread_mutex_destroy(&c->break_lock);
	pthread_cond_destroy(&c->credit_cond);
	pthread_cond_destroy(&c->echo_cond);
	pthread_cond_destroy(&c->rx_cond);
	free(c);
}

/* --- calls ---------------------------------------------------------------- */

/* Credits a message costs: its CreditCharge with LARGE_MTU, else 1. */
static uint16_t charge_of(const struct conn *c, const uint8_t *msg)
{
	uint16_t ch = le16_get(msg + SMB2_HDR_CREDIT_CHARGE);

	return c->large_mtu && ch > 1 ? ch : 1;
}

/* Take back messages that were registered but never sent: their
 * entries go, and so do the credits they would have spent. */
static void unregister(struct conn *c, const uint64_t *mids, const uint16_t *charges, int n)
{
	struct pending *p;
	int i;

	for (i = 0; i < n; i++) {
		p = pending_take(c, mids[i]);
		if (p) {
			free(p);
			c->inflight--;
			c->credits += charges[i];
		}
	}
}

/* Give up on the messages of a call: late responses are then dropped
 * quietly instead of being taken for unknown MessageIds. */
static void abandon(struct conn *c, const uint64_t *mids, int n)
{
	struct pending *p;
	int i;

	for (i = 0; i < n; i++) {
		p = pending_find(c, mids[i]);
		if (p)
			p->w = NULL;
	}
}

/* Seal a chain and the data behind it into a new buffer (transform
 * header + ciphertext). */
static int seal_chain(struct conn *c, const struct conn_security *sec,
		      const uint8_t *req, size_t len, const void *out, size_t out_len,
		      uint8_t **sealed, size_t *sealed_len)
{
	struct iovec iov[2] = { { (void *)req, len }, { (void *)out, out_len } };
	uint8_t nonce[16] = { 0 }, *buf;
	uint64_t ctr;
	int ret;

	pthread_mutex_lock(&c->lock);
	ctr = ++c->nonce_counter;
	pthread_mutex_unlock(&c->lock);
	/* Unique per key: a counter (whose top byte is the channel's index:
	 * the channels of a session share the key), then random bytes of
	 * this connection. */
	ctr = (ctr & 0x00FFFFFFFFFFFFFFull) | ((uint64_t)sec->channel_index << 56);
	le64_put(nonce, ctr);
	memcpy(nonce + 8, c->nonce_salt, smb2_cipher_nonce_size(sec->cipher) - 8);
	buf = malloc(SMB2_TRANSFORM_HEADER_SIZE + len + out_len);
	if (!buf)
		return -ENOMEM;
	ret = smb2_encrypt_iov(sec->cipher, sec->enc_key, sec->session_id, nonce, iov,
			       out_len ? 2 : 1, buf);
	if (ret) {
		free(buf);
		return ret;
	}
	*sealed = buf;
	*sealed_len = SMB2_TRANSFORM_HEADER_SIZE + len + out_len;
	return 0;
}

/* Sign (or seal) the n messages of req, and the out-of-line data behind
 * the last one, as the connection's security says, and write them as
 * one frame.  -ENOTCONN (and the connection is dead) when the write
 * failed; another -errno when nothing was sent. */
static int protect_and_send(struct conn *c, const struct conn_security *sec, uint8_t *req,
			    size_t len, int n, const size_t *starts, const size_t *lens,
			    const void *out, size_t out_len)
{
	uint8_t *sealed = NULL, nbh[4];
	size_t sealed_len = 0, flen;
	struct iovec iov[3];
	int i, niov, ret;

	/* Sign each message (outside the lock: crypto runs in parallel). */
	for (i = 0; i < n; i++) {
		uint8_t *m = req + starts[i];
		bool asked = le32_get(m + SMB2_HDR_FLAGS) & SMB2_FLAGS_SIGNED;
		struct iovec piece[2] = { { m, lens[i] }, { (void *)out, out_len } };

		if (!sec->have_sign_key || !(sec->sign || asked) || sec->encrypt ||
		    le64_get(m + SMB2_HDR_SESSION_ID) != sec->session_id ||
		    le16_get(m + SMB2_HDR_COMMAND) == SMB2_NEGOTIATE)
			continue;
		le32_put(m + SMB2_HDR_FLAGS, le32_get(m + SMB2_HDR_FLAGS) | SMB2_FLAGS_SIGNED);
		ret = smb2_sign_calc_iov(sec->sign_alg, sec->sign_key, piece,
					 i == n - 1 && out_len ? 2 : 1, m + SMB2_SIGNATURE_OFFSET);
		if (ret)
			return ret;
	}
	if (sec->encrypt && le64_get(req + SMB2_HDR_SESSION_ID) == sec->session_id) {
		ret = seal_chain(c, sec, req, len, out, out_len, &sealed, &sealed_len);
		if (ret)
			return ret;
	}

	/* Direct TCP: a zero byte and a 24-bit length. */
	flen = sealed ? sealed_len : len + out_len;
	nbh[0] = 0;
	nbh[1] = (uint8_t)(flen >> 16);
	nbh[2] = (uint8_t)(flen >> 8);
	nbh[3] = (uint8_t)flen;
	iov[0].iov_base = nbh;
	iov[0].iov_len = 4;
	iov[1].iov_base = sealed ? sealed : req;
	iov[1].iov_len = sealed ? sealed_len : len;
	iov[2].iov_base = (void *)out;
	iov[2].iov_len = out_len;
	niov = !sealed && out_len ? 3 : 2;
	/* A server that takes nothing for as long as an ECHO may go
	 * unanswered is as good as one that does not answer it. */
	pthread_mutex_lock(&c->send_lock);
	ret = transport_writev(c->fd, iov, niov, echo_timeout_ms(c));
	pthread_mutex_unlock(&c->send_lock);
	free(sealed);
	if (ret == -ETIMEDOUT) {
		pthread_mutex_lock(&c->lock);
		die_locked(c, -ENOTCONN, "the server took no data for %d s", echo_timeout_ms(c) / 1000);
		pthread_mutex_unlock(&c->lock);
		return -ENOTCONN;
	}
	if (ret) {
		pthread_mutex_lock(&c->lock);
		die_locked(c, -ENOTCONN, "sending to the server failed: %s", strerror(-ret));
		pthread_mutex_unlock(&c->lock);
		return -ENOTCONN;
	}
	return 0;
}

/* MS-SMB2 3.2.4.24: one CANCEL for each of the n messages (MessageIds
 * mids) still waiting for its answer; by AsyncId where an interim
 * response gave one.  It takes no credit and gets no answer: the
 * cancelled request answers (STATUS_CANCELLED).  Caller holds c->lock;
 * it is dropped while sending. */
static void send_cancels(struct conn *c, const uint8_t *req, const size_t *starts,
			 const uint64_t *mids, int n)
{
	struct conn_security sec;
	struct smb2_hdr h;
	struct pending *p;
	size_t start = 0, len;
	struct wr w;
	int i;

	for (i = 0; i < n; i++) {
		const uint8_t *m = req + starts[i];

		p = pending_find(c, mids[i]);
		if (!p)
			continue;	/* answered already */
		memset(&h, 0, sizeof(h));
		h.command = SMB2_CANCEL;
		h.message_id = mids[i];
		h.session_id = le64_get(m + SMB2_HDR_SESSION_ID);
		if (p->async_id) {
			h.flags = SMB2_FLAGS_ASYNC_COMMAND;
			h.async_id = p->async_id;
		} else {
			h.tree_id = le32_get(m + SMB2_HDR_TREE_ID);
		}
		sec = c->sec;
		pthread_mutex_unlock(&c->lock);
		wr_init(&w);
		pdu_hdr_enc(&w, &h);
		pdu_cancel_enc(&w);
		len = w.len;
		if (!w.bad && protect_and_send(c, &sec, w.p, len, 1, &start, &len, NULL, 0) == 0)
			log_debug("cancelled request %llu", (unsigned long long)mids[i]);
		wr_free(&w);
		OPENSSL_cleanse(&sec, sizeof(sec));
		pthread_mutex_lock(&c->lock);
	}
}

/* Release what a call holds once nothing more can arrive for it: wait
 * out the reader filling data->in (the caller frees that buffer next),
 * and on failure the responses that did come. */
static void call_end(struct conn_call *k, int ret)
{
	struct conn *c = k->c;
	int i;

	pthread_mutex_lock(&c->lock);
	while (k->w.sink_busy)
		pthread_cond_wait(&k->w.cond, &c->lock);
	pthread_mutex_unlock(&c->lock);
	if (ret)
		for (i = 0; i < k->n; i++)
			conn_msg_free(&k->w.rsp[i]);
	pthread_cond_destroy(&k->w.cond);
}

/* Register the n messages of req under new MessageIds and send them as
 * one frame; their responses will go to rsp.  On failure nothing is
 * left registered and k needs no call_end. */
static int submit(struct conn *c, struct conn_call *k, uint8_t *req, size_t len, int n,
		  struct conn_msg *rsp, int timeout_ms, const struct conn_wait *wt)
{
	struct pending *pend[CONN_MAX_CHAIN] = { 0 };
	size_t off = 0;
	struct conn_data *data = wt ? wt->data : NULL;
	const void *out = data ? data->out : NULL;
	size_t out_len = out ? data->out_len : 0;
	struct conn_security sec;
	struct timespec ts;
	uint32_t need = 0, next;
	uint16_t charge, request;
	int i, ret = 0, registered = 0;

	if (n < 1 || n > CONN_MAX_CHAIN)
		return -EINVAL;
	memset(k, 0, sizeof(*k));
	k->c = c;
	k->req = req;
	k->n = n;
	if (wt)
		k->wait = *wt;
	k->has_wait = wt != NULL;
	/* Where each message of the chain starts and how long it is. */
	for (i = 0; i < n; i++) {
		if (len - off < SMB2_HEADER_SIZE)
			return -EINVAL;
		k->starts[i] = off;
		next = le32_get(req + off + SMB2_HDR_NEXT_COMMAND);
		if (i < n - 1 ? next == 0 || next > len - off : next != 0)
			return -EINVAL;
		k->lens[i] = i < n - 1 ? next : len - off;
		off += k->lens[i];
		rsp[i].buf = NULL;
		rsp[i].len = 0;
	}
	if (len + out_len > 0xFFFFFF - SMB2_TRANSFORM_HEADER_SIZE)
		return -EMSGSIZE;
	if (data) {
		data->in_used = false;
		data->in_got = 0;
	}

	k->probe = timeout_ms <= 0 && c->info.dialect;
	if (timeout_ms <= 0)
		timeout_ms = c->request_timeout_ms;
	cond_init_monotonic(&k->w.cond);
	k->w.rsp = rsp;
	k->w.data = data;
	k->w.remaining = n;
	k->w.timeout_ms = timeout_ms;
	k->w.deadline = now_ms() + (uint64_t)timeout_ms;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < n; i++)
		need += charge_of(c, req + k->starts[i]);
	/* Wait for credits; with none granted and nothing in flight none
	 * will ever come. */
	while (!c->dead && c->credits < need) {
		if (c->inflight == 0) {
			pthread_mutex_unlock(&c->lock);
			ret = -EAGAIN;
			log_debug("the server granted no credits and nothing is in flight");
			goto out_nothing;
		}
		ts = ms_to_timespec(k->w.deadline);
		if (pthread_cond_timedwait(&c->credit_cond, &c->lock, &ts) == ETIMEDOUT) {
			pthread_mutex_unlock(&c->lock);
			ret = -ETIMEDOUT;
			goto out_nothing;
		}
	}
	if (c->dead) {
		ret = c->dead_err ? c->dead_err : -ENOTCONN;
		pthread_mutex_unlock(&c->lock);
		goto out_nothing;
	}
	for (i = 0; i < n; i++) {
		uint8_t *m = req + k->starts[i];

		charge = charge_of(c, m);
		k->charges[i] = charge;
		/* Ask for enough to keep many requests in flight. */
		request = (uint16_t)(charge + (c->credits < CREDIT_TARGET ? 64 : 0));
		le16_put(m + SMB2_HDR_CREDIT, request);
		/* 2.0.2 reserves the field (0); later dialects say 1 for
		 * a single-credit request. */
		le16_put(m + SMB2_HDR_CREDIT_CHARGE,
			 c->info.dialect == SMB2_DIALECT_202 ? 0 : charge);
		k->mids[i] = c->next_mid;
		le64_put(m + SMB2_HDR_MESSAGE_ID, k->mids[i]);
		c->next_mid += charge;
		c->credits -= charge;
		pend[i] = calloc(1, sizeof(*pend[i]));
		if (!pend[i]) {
			unregister(c, k->mids, k->charges, registered);
			pthread_mutex_unlock(&c->lock);
			ret = -ENOMEM;
			goto out_nothing;
		}
		pend[i]->mid = k->mids[i];
		pend[i]->w = &k->w;
		pend[i]->slot = i;
		pend[i]->command = le16_get(m + SMB2_HDR_COMMAND);
		pend[i]->sink = data && data->in && i == n - 1 && pend[i]->command == SMB2_READ;
		/* A response must be signed when its request asked, or when
		 * the session signs everything and the request was the
		 * session's: not an ECHO on SessionId 0 (no session, so the
		 * server has nothing to sign it with), nor a SESSION_SETUP,
		 * whose responses session.c checks itself. */
		pend[i]->must_sign = (le32_get(m + SMB2_HDR_FLAGS) & SMB2_FLAGS_SIGNED) != 0 ||
			(c->sec.sign && c->sec.have_sign_key &&
			 le64_get(m + SMB2_HDR_SESSION_ID) == c->sec.session_id &&
			 pend[i]->command != SMB2_SESSION_SETUP && pend[i]->command != SMB2_NEGOTIATE);
		pend[i]->next = *bucket(c, k->mids[i]);
		*bucket(c, k->mids[i]) = pend[i];
		c->inflight++;
		registered++;
	}
	sec = c->sec;
	pthread_mutex_unlock(&c->lock);

	ret = protect_and_send(c, &sec, req, len, n, k->starts, k->lens, out, out_len);
	OPENSSL_cleanse(&sec, sizeof(sec));
	if (ret == 0)
		return 0;
	pthread_mutex_lock(&c->lock);
	if (ret == -ENOTCONN)
		ret = c->dead_err ? c->dead_err : -ENOTCONN;	/* and death took the entries */
	else if (!c->dead)
		unregister(c, k->mids, k->charges, n);
	pthread_mutex_unlock(&c->lock);
	call_end(k, ret);
	return ret;
out_nothing:
	pthread_cond_destroy(&k->w.cond);
	return ret;
}

/* Wait for every response of a submitted call (in the rsp it named),
 * with its deadline, the ECHO probe and the wait options it was given;
 * then release it.  0 or -errno as conn_call. */
static int collect(struct conn_call *k)
{
	struct conn *c = k->c;
	const struct conn_wait *wt = k->has_wait ? &k->wait : NULL;
	int timeout_ms = k->w.timeout_ms;
	bool alive, cancelled = false, stop = false;
	/* Not a patient call, which may wait minutes and must ask abort. */
	bool may_receive = !(wt && (wt->patient || wt->abort));
	struct timespec ts;
	int ret = 0, extensions = 0, got;
	uint64_t wake;

	pthread_mutex_lock(&c->lock);
	while (k->w.remaining > 0 && !k->w.err) {
		bool waits_on = wt && wt->patient && k->w.interim && !cancelled;

		/* Wake by the deadline, and often enough to ask abort. */
		wake = waits_on ? UINT64_MAX : k->w.deadline;
		if (wt && wt->abort && !cancelled && wake > now_ms() + CONN_ABORT_POLL_MS)
			wake = now_ms() + CONN_ABORT_POLL_MS;
		if (may_receive && !c->rx_busy && !c->dead) {
			/* Nobody is receiving: read the answer ourselves (no
			 * hand-off through the reader thread). */
			rx_take(c);
			pthread_mutex_unlock(&c->lock);
			got = conn_receive_until(c, wake);
			pthread_mutex_lock(&c->lock);
			rx_give_back(c);
			/* A frame arriving in pieces: the reader thread
			 * takes it, and this call waits as the others do. */
			if (got == -EAGAIN)
				may_receive = false;
		} else if (wake == UINT64_MAX) {
			pthread_cond_wait(&k->w.cond, &c->lock);
		} else {
			ts = ms_to_timespec(wake);
			pthread_cond_timedwait(&k->w.cond, &c->lock, &ts);
		}
		if (k->w.remaining == 0 || k->w.err)
			continue;
		if (wt && wt->abort && !cancelled) {
			/* The hook is the fs layer's: not under c->lock. */
			pthread_mutex_unlock(&c->lock);
			stop = wt->abort(wt->abort_arg) != 0;
			pthread_mutex_lock(&c->lock);
			if (k->w.remaining == 0 || k->w.err)
				continue;
		}
		if (stop && !cancelled) {
			/* The caller gives up: the server must drop the
			 * request too, or it would grant a lock nobody
			 * waits for.  Its answer still comes, soon. */
			cancelled = true;
			send_cancels(c, k->req, k->starts, k->mids, k->n);
			k->w.deadline = now_ms() + (uint64_t)timeout_ms;
			continue;
		}
		if (waits_on || now_ms() < k->w.deadline)
			continue;
		/* No answer in time: is the server slow, or is the link
		 * gone?  An ECHO tells.  Unanswered, it kills the connection
		 * (w.err is then set: nothing more is sent on a socket that
		 * stopped answering); answered, this request waits on, a few
		 * times over at most.  Not for a caller's own deadline
		 * (courtesy messages at unmount), nor before NEGOTIATE. */
		if (k->probe && extensions < SLOW_SERVER_EXTENSIONS) {
			pthread_mutex_unlock(&c->lock);
			alive = send_echo(c, echo_timeout_ms(c)) == 0;
			pthread_mutex_lock(&c->lock);
			if (alive) {
				extensions++;
				k->w.deadline = now_ms() + (uint64_t)timeout_ms;
				continue;
			}
			if (k->w.err || k->w.remaining == 0)
				continue;
		}
		abandon(c, k->mids, k->n);
		ret = -ETIMEDOUT;
		break;
	}
	if (!ret && k->w.err)
		ret = k->w.err;
	pthread_mutex_unlock(&c->lock);
	call_end(k, ret);
	return ret;
}

static int call(struct conn *c, uint8_t *req, size_t len, int n,
		struct conn_msg *rsp, int timeout_ms, const struct conn_wait *wt)
{
	struct conn_call k;
	int ret;

	ret = submit(c, &k, req, len, n, rsp, timeout_ms, wt);
	return ret ? ret : collect(&k);
}

int conn_submit(struct conn *c, uint8_t *req, size_t len, int n, int timeout_ms,
		const struct conn_wait *wait, struct conn_call **call)
{
	struct conn_call *k;
	int ret;

	*call = NULL;
	k = malloc(sizeof(*k));
	if (!k)
		return -ENOMEM;
	ret = submit(c, k, req, len, n, k->slots, timeout_ms, wait);
	if (ret) {
		free(k);
		return ret;
	}
	conn_get(c);	/* the call's, until it is collected or detached */
	*call = k;
	return 0;
}

int conn_collect(struct conn_call *k, struct conn_msg *rsp)
{
	struct conn *c = k->c;
	int i, ret;

	ret = collect(k);
	for (i = 0; !ret && i < k->n; i++)
		rsp[i] = k->slots[i];
	free(k);
	conn_put(c);
	return ret;
}

void conn_detach(struct conn_call *k)
{
	struct conn *c;

	if (!k)
		return;
	c = k->c;
	pthread_mutex_lock(&c->lock);
	if (k->w.remaining > 0 && !k->w.err)
		abandon(c, k->mids, k->n);	/* answers still to come are dropped */
	pthread_mutex_unlock(&c->lock);
	call_end(k, -ECANCELED);	/* frees those that came */
	free(k);
	conn_put(c);
}

int conn_call(struct conn *c, uint8_t *req, size_t len, int n,
	      struct conn_msg *rsp, int timeout_ms)
{
	return call(c, req, len, n, rsp, timeout_ms, NULL);
}

int conn_call_wait(struct conn *c, uint8_t *req, size_t len, int n, struct conn_msg *rsp,
		   int timeout_ms, const struct conn_wait *wait)
{
	return call(c, req, len, n, rsp, timeout_ms, wait);
}
