/*
 * reconnect.c - keeping a session connected (MS-SMB2 3.2.4.2 on a new
 * connection, 3.2.4.2.3 PreviousSessionId, 3.2.4.4 durable reconnect).
 * See reconnect.h.
 *
 * The reader or a sender notices the death (EOF, a reset, an ECHO left
 * unanswered: conn.c) and the death handler marks the session down; the
 * recovery thread then tries, waiting 0.2 s, 0.4 s ... up to 10 s (each
 * +-25% so that many clients of one rebooted server do not come back
 * in step) between attempts.  Nothing is published until the whole
 * chain is done: the requests waiting in session_channel see either the
 * old dead channel or a new one with its trees and opens in place.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "log.h"
#include "open.h"
#include "reconnect.h"
#include "tree.h"
#include "util.h"

#define BACKOFF_FIRST_MS 200
#define BACKOFF_MAX_MS 10000
/* How often a reconnect that keeps failing says so. */
#define FAILURE_LOG_MS 60000

#define seterr session_seterr

/* A dead channel for the binder thread to drop (s->lock held). */
static void retire(struct session *s, struct conn *c, const char *addr_in)
{
	char addr[sizeof(s->retired[0].addr)];

	snprintf(addr, sizeof(addr), "%s", addr_in);	/* addr_in may be a field of s */
	/* Never full: the binder empties it before it binds another
	 * channel, so it holds at most one entry a channel.  (Were it full,
	 * the reference would leak: it cannot be dropped here, under the
	 * dying connection's lock.) */
	if (s->nretired < SESSION_MAX_CHANNELS) {
		s->retired[s->nretired].conn = c;
		snprintf(s->retired[s->nretired].addr, sizeof(s->retired[0].addr), "%s", addr);
		s->nretired++;
	}
	/* 3.x: what comes now is told apart from what was in flight on
	 * the channel that died (MS-SMB2 3.2.4.1, 3.3.5.2.10). */
	s->channel_sequence++;
	pthread_cond_broadcast(&s->bind_wake);
}

/* Called with the dying connection's lock held (conn.c): takes only the
 * session's lock, which nothing holds while calling into a conn.  A
 * bound channel that dies is dropped, and the first channel, when it
 * dies with others bound, is replaced by one of them: the session lives
 * on as long as one channel does.  Only when the last one dies does the
 * recovery thread log on again. */
void session_conn_died(void *arg, struct conn *c)
{
	struct session *s = arg;
	int i;

	pthread_mutex_lock(&s->lock);
	if (s->closing) {
		pthread_mutex_unlock(&s->lock);
		return;
	}
	if (s->conn == c && s->nextra > 0) {
		retire(s, c, s->conn_addr[0] ? s->conn_addr : s->host);
		s->nextra--;
		s->conn = s->extra[s->nextra].conn;
		snprintf(s->conn_addr, sizeof(s->conn_addr), "%s", s->extra[s->nextra].addr);
		pthread_cond_broadcast(&s->chan_cond);
	} else if (s->conn == c) {
		s->conn = NULL;
		s->dead = c;		/* the session's reference, dropped by the thread */
		s->down = true;
		s->down_since_ms = now_ms();
		snprintf(s->down_why, sizeof(s->down_why), "%s", conn_error(c));
		pthread_cond_broadcast(&s->wake);
		pthread_cond_broadcast(&s->chan_cond);
	} else {
		for (i = 0; i < s->nextra; i++)
			if (s->extra[i].conn == c) {
				retire(s, c, s->extra[i].addr);
				s->extra[i] = s->extra[--s->nextra];
				break;
			}
	}
	pthread_mutex_unlock(&s->lock);
}

void session_forget_attempt(struct session *s)
{
	session_forget_slot(s, &s->attempt);
}

void session_forget_slot(struct session *s, struct conn **slot)
{
	struct conn *c;

	pthread_mutex_lock(&s->lock);
	c = *slot;
	*slot = NULL;
	pthread_mutex_unlock(&s->lock);
	conn_put(c);
}

int session_connect(struct session *s, struct conn **out, struct conn_info *info,
		    uint8_t preauth[SMB2_PREAUTH_HASH_SIZE], char err[SESSION_ERRLEN])
{
	return session_connect_to(s, s->host, &s->attempt, out, info, preauth, err);
}

int session_connect_to(struct session *s, const char *host, struct conn **slot,
		       struct conn **out, struct conn_info *info,
		       uint8_t preauth[SMB2_PREAUTH_HASH_SIZE], char err[SESSION_ERRLEN])
{
	struct conn_opts co = {
		.host = host, .port = s->port,
		.connect_timeout_ms = s->connect_timeout_ms,
		.request_timeout_ms = s->request_timeout_ms,
		.echo_interval_s = s->echo_interval_s,
		.cancel_fd = s->cancel_fd[0],
	};
	char cerr[CONN_ERRLEN];
	struct conn *conn;
	int ret;

	*out = NULL;
	ret = conn_open(&co, &conn, cerr);
	if (ret) {
		seterr(err, "%s", cerr);
		return ret;
	}
	conn_set_death_handler(conn, session_conn_died, s);
	/* Until the caller is done setting it up, an unmount kills it
	 * rather than wait for its timeouts. */
	pthread_mutex_lock(&s->lock);
	if (!s->closing)
		*slot = conn_get(conn);
	else
		ret = -ENOTCONN;
	pthread_mutex_unlock(&s->lock);
	if (!ret)
		ret = negotiate(conn, &s->np, info, preauth, err);
	if (ret) {
		session_forget_slot(s, slot);
		conn_put(conn);
		return ret;
	}
	*out = conn;
	return 0;
}

void session_install_break_handler(struct session *s, struct conn *conn)
{
	conn_break_fn fn;
	void *arg;
	bool done;

	/* Until it sticks: session_set_break_handler (client_close) may
	 * change the session's meanwhile, and the new one must win. */
	do {
		pthread_mutex_lock(&s->lock);
		fn = s->break_fn;
		arg = s->break_arg;
		pthread_mutex_unlock(&s->lock);
		conn_set_break_handler(conn, fn, arg);
		pthread_mutex_lock(&s->lock);
		done = s->break_fn == fn && s->break_arg == arg;
		pthread_mutex_unlock(&s->lock);
	} while (!done);
}

/* The server must offer what it offered when the session began: the
 * same dialect (so that signing, sealing and durable handles mean what
 * they meant), limits no smaller than the ones the client uses. */
static int same_server(const struct session *s, const struct conn_info *now, char *err)
{
	const struct conn_info *was = &s->info;

	if (now->dialect != was->dialect) {
		seterr(err, "the server now negotiates SMB %s where it negotiated %s before; "
		       "refusing the new connection", dialect_name(now->dialect),
		       dialect_name(was->dialect));
		return -EPROTO;
	}
	if (now->max_read < was->max_read || now->max_write < was->max_write ||
	    now->max_transact < was->max_transact) {
		seterr(err, "the server now allows smaller reads or writes than before; "
		       "refusing the new connection");
		return -EPROTO;
	}
	if (memcmp(now->server_guid, was->server_guid, 16) != 0)
		log_info("the server at %s has a new GUID (another server, or reinstalled): "
			 "open files will be opened again by name", s->host);
	return 0;
}

static void publish(struct session *s, struct conn *conn, uint64_t gen, uint64_t sid,
		    const struct conn_security *sec)
{
	char addr[sizeof(s->conn_addr)];

	/* The address behind the host name: multichannel counts the
	 * channels on each of the server's addresses. */
	conn_peer_addr(conn, addr, sizeof(addr));
	pthread_mutex_lock(&s->lock);
	s->conn = conn;
	s->chan_gen = gen;
	s->session_id = sid;
	s->encrypting = sec->encrypt;
	s->sec_state = *sec;
	snprintf(s->conn_addr, sizeof(s->conn_addr), "%s", addr);
	s->next_channel_index = 1;	/* new keys: nonce indexes start over */
	s->down = false;
	pthread_cond_broadcast(&s->chan_cond);
	pthread_mutex_unlock(&s->lock);
	/* It may have died before it was ours, when its death was ignored. */
	if (!conn_alive(conn))
		session_conn_died(s, conn);
}

/* One attempt: the whole chain on a new connection, then publish. */
static int reconnect_once(struct session *s, struct open_stats *st, char *err)
{
	uint8_t preauth[SMB2_PREAUTH_HASH_SIZE];
	struct conn_security sec = { 0 };
	struct conn_info info;
	struct conn *conn = NULL;
	uint64_t old_sid, sid = 0, gen;
	struct tree *t;
	int ret;

	ret = session_connect(s, &conn, &info, preauth, err);
	if (!ret)
		ret = same_server(s, &info, err);
	pthread_mutex_lock(&s->lock);
	old_sid = s->session_id;
	/* A generation of its own for every attempt: opens reclaimed on an
	 * attempt that failed later must not look current on the next. */
	gen = ++s->gen_counter;
	pthread_mutex_unlock(&s->lock);
	if (!ret)
		ret = session_logon(s, conn, &info, preauth, old_sid, &sid, &sec, err);
	OPENSSL_cleanse(preauth, sizeof(preauth));
	if (ret)
		goto fail;
	session_install_break_handler(s, conn);
	/* 3.x: a new ChannelSequence, so that the server can tell what
	 * comes now from what was in flight before (MS-SMB2 3.2.4.1). */
	pthread_mutex_lock(&s->lock);
	s->channel_sequence++;
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_lock(&s->trees_lock);
	for (t = s->trees; t && !ret; t = t->next) {
		ret = tree_connect_on(t, conn, sid, &sec, err);
		if (!ret)
			open_recover_all(t, conn, sid, tree_id(t), gen, st);
		if (!ret && !conn_alive(conn)) {
			seterr(err, "%s", conn_error(conn));
			ret = -ENOTCONN;
		}
	}
	pthread_mutex_unlock(&s->trees_lock);
	if (ret)
		goto fail;
	session_forget_attempt(s);
	publish(s, conn, gen, sid, &sec);
	OPENSSL_cleanse(&sec, sizeof(sec));
	return 0;
fail:
	session_forget_attempt(s);
	OPENSSL_cleanse(&sec, sizeof(sec));
	conn_put(conn);
	return ret;
}

/* Wait about ms (+-25%), or until the session closes. */
static void backoff_wait(struct session *s, unsigned ms)
{
	uint16_t r = 0;
	uint64_t until;
	struct timespec ts;

	RAND_bytes((uint8_t *)&r, sizeof(r));
	until = now_ms() + ms * 3 / 4 + (uint64_t)r % (ms / 2 + 1);
	ts = ms_to_timespec(until);
	while (!s->closing && now_ms() < until)
		if (pthread_cond_timedwait(&s->wake, &s->lock, &ts) != 0)
			break;
}

static void *recover_main(void *arg)
{
	struct session *s = arg;
	char err[SESSION_ERRLEN], why[CONN_ERRLEN];
	unsigned backoff = BACKOFF_FIRST_MS;
	uint64_t logged = 0, since;
	struct open_stats st;
	struct conn *dead;
	int attempts = 0;

	pthread_mutex_lock(&s->lock);
	while (!s->closing) {
		if (!s->down) {
			pthread_cond_wait(&s->wake, &s->lock);
			continue;
		}
		dead = s->dead;
		s->dead = NULL;
		snprintf(why, sizeof(why), "%s", s->down_why);
		since = s->down_since_ms;
		pthread_mutex_unlock(&s->lock);
		if (dead) {
			log_warn("connection to %s lost: %s; reconnecting", s->host, why);
			conn_put(dead);
			attempts = 0;
			backoff = BACKOFF_FIRST_MS;
			logged = 0;
		}
		memset(&st, 0, sizeof(st));
		err[0] = '\0';
		attempts++;
		if (reconnect_once(s, &st, err) == 0) {
			log_warn("connection to %s restored after %.1f s (%d attempt%s): %d open file%s "
				 "reclaimed, %d reopened, %d lost", s->host,
				 (double)(now_ms() - since) / 1000, attempts, attempts == 1 ? "" : "s",
				 st.reclaimed, st.reclaimed == 1 ? "" : "s", st.reopened, st.lost);
			pthread_mutex_lock(&s->lock);
			continue;
		}
		if (!logged || now_ms() - logged >= FAILURE_LOG_MS) {
			log_warn("cannot reconnect to %s yet: %s (trying again%s)", s->host,
				 err[0] ? err : "connection failed",
				 s->hard ? "; requests wait" : "; requests fail after the timeout");
			logged = now_ms();
		} else {
			log_debug("reconnect attempt %d failed: %s", attempts, err);
		}
		pthread_mutex_lock(&s->lock);
		backoff_wait(s, backoff);
		backoff = backoff * 2 < BACKOFF_MAX_MS ? backoff * 2 : BACKOFF_MAX_MS;
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int session_start_recovery(struct session *s, struct conn *conn, uint64_t sid,
			   const struct conn_security *sec)
{
	s->gen_counter = 1;
	publish(s, conn, 1, sid, sec);
	if (!s->reconnect)
		return 0;
	if (pthread_create(&s->recoverer, NULL, recover_main, s) != 0) {
		pthread_mutex_lock(&s->lock);
		s->conn = NULL;
		pthread_mutex_unlock(&s->lock);
		return -EAGAIN;
	}
	s->recoverer_started = true;
	return 0;
}

void session_begin_close(struct session *s)
{
	struct conn *attempt, *bind_attempt;

	pthread_mutex_lock(&s->lock);
	s->closing = true;
	pthread_cond_broadcast(&s->wake);
	pthread_cond_broadcast(&s->chan_cond);
	attempt = s->attempt ? conn_get(s->attempt) : NULL;
	bind_attempt = s->bind_attempt ? conn_get(s->bind_attempt) : NULL;
	pthread_cond_broadcast(&s->bind_wake);
	pthread_mutex_unlock(&s->lock);
	/* A connect() to a server that drops SYNs ends at once too. */
	if (s->cancel_fd[1] >= 0 && write(s->cancel_fd[1], "x", 1) < 0)
		log_debug("cannot wake the reconnect thread: %s", strerror(errno));
	if (attempt) {
		conn_kill(attempt, "unmounting");
		conn_put(attempt);
	}
	if (bind_attempt) {
		conn_kill(bind_attempt, "unmounting");
		conn_put(bind_attempt);
	}
	session_stop_channels(s);
}

void session_stop_recovery(struct session *s)
{
	struct conn *conn, *dead;

	session_begin_close(s);
	if (s->recoverer_started)
		pthread_join(s->recoverer, NULL);
	pthread_mutex_lock(&s->lock);
	conn = s->conn;
	dead = s->dead;
	s->conn = NULL;
	s->dead = NULL;
	pthread_mutex_unlock(&s->lock);
	conn_put(conn);
	conn_put(dead);
}
