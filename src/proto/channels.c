/*
 * channels.c - multichannel (MS-SMB2 3.2.4.2.3 binding, 3.2.4.20.10
 * interfaces): more connections to the server bound to one session, so
 * that requests spread over them (session.c's take_channel picks the
 * least busy) and the session outlives the death of any one of them.
 *
 * The binder thread keeps max_channels - 1 channels bound: to the
 * addresses the server reported, the least used first, one binding at a
 * time (Samba 4.17 mishandled parallel NEGOTIATEs with one ClientGuid).
 * A server's loopback address is used only by a session on loopback.  A
 * channel that dies is dropped by the death handler (reconnect.c) and
 * bound again here; an address that failed is tried again after 0.5 s,
 * doubling up to a minute (see pick_address for when the others are
 * used meanwhile), and failures are logged once a minute, since the mount
 * works on without them.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/crypto.h>

#include "log.h"
#include "netif.h"
#include "reconnect.h"
#include "session.h"
#include "tree.h"
#include "util.h"

#define seterr session_seterr

#define BIND_BACKOFF_FIRST_MS 500
#define BIND_BACKOFF_MAX_MS 60000
/* Failures in a row after which an address no longer holds the others up. */
#define BIND_GIVE_UP 4
#define BIND_LOG_MS 60000

/* An interface's address as a host name for conn_open ("" if none). */
static void addr_of(const struct netif *f, char *buf, size_t size)
{
	buf[0] = '\0';
	if ((f->family == AF_INET || f->family == AF_INET6) &&
	    !inet_ntop(f->family, f->addr, buf, (socklen_t)size))
		buf[0] = '\0';
}

/* Whether an address is this machine's own loopback. */
static bool is_loopback(const char *a)
{
	struct in_addr v4;
	struct in6_addr v6;

	if (inet_pton(AF_INET, a, &v4) == 1)
		return (ntohl(v4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, a, &v6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&v6);
	return !strcmp(a, "localhost");
}

/* The interface for the next channel: the one with the fewest channels
 * on it now.  One that failed lately is waited for (its retry_at), so
 * that a short cut does not pile the channels onto another address;
 * after BIND_GIVE_UP failures in a row it is tried only when its pause
 * is over, and the others are used meanwhile.  A loopback address only
 * when the session itself is on loopback (else it is this machine, not
 * the server).  -1: none now (s->lock held). */
static int pick_address(struct session *s, const uint64_t *retry_at, const unsigned *fails,
			uint64_t now, char *buf, size_t size)
{
	bool local = is_loopback(s->conn_addr[0] ? s->conn_addr : s->host), waiting,
	     best_waiting = false;
	char a[64], best_addr[64] = "";
	size_t i;
	int j, used, best = -1, pick = -1;

	buf[0] = '\0';
	for (i = 0; i < s->nifs; i++) {
		addr_of(&s->ifs[i], a, sizeof(a));
		if (!a[0] || (!local && is_loopback(a)))
			continue;
		waiting = retry_at[i] > now;
		if (waiting && fails[i] >= BIND_GIVE_UP)
			continue;
		used = !strcmp(a, s->conn_addr[0] ? s->conn_addr : s->host);
		for (j = 0; j < s->nextra; j++)
			used += !strcmp(a, s->extra[j].addr);
		if (best < 0 || used < best || (used == best && best_waiting && !waiting)) {
			best = used;
			best_waiting = waiting;
			pick = (int)i;
			snprintf(best_addr, sizeof(best_addr), "%s", a);
		}
	}
	if (pick < 0 || best_waiting)
		return -1;
	snprintf(buf, size, "%s", best_addr);
	return pick;
}

/* The channel must be the same server, as the session negotiated it. */
static int same_session_server(const struct session *s, const struct conn_info *now, char *err)
{
	const struct conn_info *was = &s->info;

	if (now->dialect != was->dialect || now->cipher != was->cipher ||
	    now->sign_alg != was->sign_alg) {
		seterr(err, "it negotiated otherwise than the session's connection did");
		return -EPROTO;
	}
	if (memcmp(now->server_guid, was->server_guid, 16) != 0) {
		seterr(err, "another server answers there (a different server GUID)");
		return -EPROTO;
	}
	if (!(now->server_capabilities & SMB2_GLOBAL_CAP_MULTI_CHANNEL)) {
		seterr(err, "the server does not offer multichannel there");
		return -EOPNOTSUPP;
	}
	return 0;
}

/* Bind one more channel to addr.  0, or -errno with err saying why. */
static int bind_one(struct session *s, const char *addr, char *err)
{
	uint8_t preauth[SMB2_PREAUTH_HASH_SIZE];
	struct conn_security sec = { 0 };
	struct conn_info info;
	struct conn *conn = NULL, *published = NULL;
	uint64_t sid, gen;
	uint8_t index;
	int ret;

	ret = session_connect_to(s, addr, &s->bind_attempt, &conn, &info, preauth, err);
	if (ret)
		goto out;
	ret = same_session_server(s, &info, err);
	if (ret)
		goto out;
	/* The index is taken for good only when the channel is published:
	 * a binding that fails seals nothing under it.  (One binder per
	 * session: no one else takes one meanwhile.) */
	pthread_mutex_lock(&s->lock);
	sid = s->session_id;
	gen = s->chan_gen;
	index = s->next_channel_index;
	pthread_mutex_unlock(&s->lock);
	if (!index) {
		seterr(err, "255 channels were bound under this session's keys already");
		ret = -EMLINK;
		goto out;
	}
	ret = session_bind(s, conn, &info, preauth, sid, index, &sec, err);
	if (ret)
		goto out;
	session_install_break_handler(s, conn);
	/* Published only if the session is still the one it was bound to
	 * (a reconnect meanwhile made a new one). */
	pthread_mutex_lock(&s->lock);
	if (s->closing || !s->conn || s->session_id != sid || s->chan_gen != gen ||
	    s->nextra >= s->max_channels - 1) {
		ret = -ECANCELED;
		seterr(err, "the session changed while the channel was bound");
	} else {
		s->extra[s->nextra].conn = conn;
		snprintf(s->extra[s->nextra].addr, sizeof(s->extra[0].addr), "%s", addr);
		s->nextra++;
		if (s->next_channel_index == index)
			s->next_channel_index++;	/* 255, then 0: no more under these keys */
		published = conn;
		conn = NULL;		/* the session's reference now */
	}
	pthread_mutex_unlock(&s->lock);
	/* It may have died before it was on the list, when its death was
	 * ignored (as publish() in reconnect.c). */
	if (published && !conn_alive(published))
		session_conn_died(s, published);
out:
	session_forget_slot(s, &s->bind_attempt);
	OPENSSL_cleanse(preauth, sizeof(preauth));
	OPENSSL_cleanse(&sec, sizeof(sec));
	conn_put(conn);
	return ret;
}

/* Drop the channels that died (s->lock held on entry and on return). */
static void drop_retired(struct session *s)
{
	struct session_chan dead[SESSION_MAX_CHANNELS];
	int i, n = s->nretired, left;

	memcpy(dead, s->retired, sizeof(dead[0]) * (size_t)n);
	s->nretired = 0;
	left = (s->conn ? 1 : 0) + s->nextra;
	pthread_mutex_unlock(&s->lock);
	for (i = 0; i < n; i++) {
		log_warn("channel to %s lost: %s; %d channel%s left", dead[i].addr,
			 conn_error(dead[i].conn), left, left == 1 ? "" : "s");
		conn_put(dead[i].conn);
	}
	pthread_mutex_lock(&s->lock);
}

static void *binder_main(void *arg)
{
	struct session *s = arg;
	/* Per interface: when to try it again after a failure, and how long
	 * the next pause is (0.5 s doubling to a minute). */
	uint64_t retry_at[NETIF_MAX] = { 0 }, logged = 0;
	unsigned backoff[NETIF_MAX], fails[NETIF_MAX] = { 0 };
	char addr[64], err[SESSION_ERRLEN];
	struct timespec ts;
	size_t i;
	int ret, k;

	for (i = 0; i < NETIF_MAX; i++)
		backoff[i] = BIND_BACKOFF_FIRST_MS;
	pthread_mutex_lock(&s->lock);
	while (!s->closing) {
		if (s->nretired) {
			drop_retired(s);
			continue;
		}
		k = s->conn && s->nextra < s->max_channels - 1 ?
			pick_address(s, retry_at, fails, now_ms(), addr, sizeof(addr)) : -1;
		if (k < 0) {
			/* Nothing to do, or every address is waiting: a death
			 * or the end wakes this, the rest is seen within a
			 * second. */
			ts = ms_to_timespec(now_ms() + 1000);
			pthread_cond_timedwait(&s->bind_wake, &s->lock, &ts);
			continue;
		}
		pthread_mutex_unlock(&s->lock);
		err[0] = '\0';
		ret = bind_one(s, addr, err);
		if (ret == 0) {
			log_info("multichannel: bound a channel to %s", addr);
			backoff[k] = BIND_BACKOFF_FIRST_MS;
			fails[k] = 0;
		} else {
			if (!logged || now_ms() - logged >= BIND_LOG_MS) {
				log_warn("multichannel: cannot bind a channel to %s: %s (trying again; "
					 "the mount goes on with the channels it has)", addr,
					 err[0] ? err : strerror(-ret));
				logged = now_ms();
			}
			retry_at[k] = now_ms() + backoff[k];
			fails[k]++;
			backoff[k] = backoff[k] * 2 < BIND_BACKOFF_MAX_MS ? backoff[k] * 2 :
				BIND_BACKOFF_MAX_MS;
		}
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int session_start_channels(struct session *s, struct tree *t, char err[SESSION_ERRLEN])
{
	struct netif *ifs;
	size_t n = 0;
	int ret;

	if (s->max_channels <= 1)
		return 0;
	if (s->info.dialect < SMB2_DIALECT_300) {
		seterr(err, "multichannel needs SMB 3.0 or later (the server negotiated %s)",
		       dialect_name(s->info.dialect));
		return -EOPNOTSUPP;
	}
	if (!(s->info.server_capabilities & SMB2_GLOBAL_CAP_MULTI_CHANNEL)) {
		seterr(err, "server %s does not offer multichannel", s->host);
		return -EOPNOTSUPP;
	}
	if (s->guest || s->anonymous) {
		seterr(err, "a %s session cannot have more channels", s->user_desc);
		return -EOPNOTSUPP;
	}
	ifs = calloc(NETIF_MAX, sizeof(*ifs));
	if (!ifs) {
		seterr(err, "out of memory");
		return -ENOMEM;
	}
	ret = netif_query(t, ifs, NETIF_MAX, &n);
	if (ret == 0 && n == 0)
		ret = -ENOENT;
	if (ret) {
		seterr(err, "server %s reports no network interfaces to bind channels to (%s)",
		       s->host, ret == -ENOENT ? "an empty list" : strerror(-ret));
		free(ifs);
		return ret;
	}
	s->ifs = ifs;
	s->nifs = n;
	if (pthread_create(&s->binder, NULL, binder_main, s) != 0) {
		seterr(err, "cannot start the multichannel thread");
		return -EAGAIN;
	}
	s->binder_started = true;
	return 0;
}

void session_stop_channels(struct session *s)
{
	struct session_chan gone[2 * SESSION_MAX_CHANNELS];
	int i, n = 0;

	/* s->closing is set: the binder ends its wait, or its connect is
	 * killed (session_begin_close). */
	if (s->binder_started) {
		pthread_join(s->binder, NULL);
		s->binder_started = false;
	}
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->nextra; i++)
		gone[n++] = s->extra[i];
	for (i = 0; i < s->nretired; i++)
		gone[n++] = s->retired[i];
	s->nextra = s->nretired = 0;
	pthread_mutex_unlock(&s->lock);
	for (i = 0; i < n; i++)
		conn_put(gone[i].conn);
}

int session_channel_count(struct session *s)
{
	int n;

	pthread_mutex_lock(&s->lock);
	n = (s->conn ? 1 : 0) + s->nextra;
	pthread_mutex_unlock(&s->lock);
	return n;
}
