/*
 * session.h - the login (MS-SMB2 3.2.1.3 Session): who we are on the
 * server, the keys, and the channel the session's requests travel on.
 *
 * A session outlives its connections.  When the channel dies, the
 * session's recovery thread (reconnect.c) opens a new connection,
 * negotiates again, logs on again with PreviousSessionId (the
 * credentials are kept for that), reconnects every tree and reclaims
 * every open; requests wait for that (session_channel) or, with a soft
 * mount, give up after the timeout.  Everything that makes a connection
 * trustworthy (signing, sealing, the final signature check, secure
 * negotiate) happens again on the new one.
 */
#ifndef SMBFUSE_SESSION_H
#define SMBFUSE_SESSION_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "conn.h"
#include "crypto.h"
#include "negotiate.h"

#define SESSION_ERRLEN 512
/* Channels of one session at most (multichannel): the first and the
 * ones bound to it.  Samba allows 32. */
#define SESSION_MAX_CHANNELS 16
/* How long TREE_DISCONNECT and LOGOFF may take at unmount. */
#define CLOSE_TIMEOUT_MS 1000

struct tree;
struct secret;
struct netif;

enum session_sec {
	SEC_NTLMSSP,		/* user name and password */
	SEC_KRB5,		/* the user's Kerberos ticket */
	SEC_NONE,		/* anonymous (NULL) session, or guest */
};

struct session_opts {
	const char *host;
	uint16_t port;
	const char *share;		/* share name only (tree_open) */
	enum session_sec sec;
	const char *user;
	const char *domain;
	const char *password;		/* used only when nt_hash is NULL */
	const uint8_t *nt_hash;		/* NTLM: 16 bytes, MD4 of the UTF-16LE password */
	const char *spn;		/* Kerberos service principal, NULL: cifs@host */
	const char *krb5_ccache;	/* NULL: KRB5CCNAME or the default */
	/* A multiuser mount's user (sec=krb5): krb5_ccache is read with
	 * this uid's and gid's file rights (auth_krb5_opts). */
	bool as_user;
	uid_t uid;
	gid_t gid;
	uint16_t min_dialect;		/* e.g. 0x0210 */
	uint16_t max_dialect;		/* e.g. 0x0311 */
	bool require_signing;
	bool require_encryption;
	bool secure_negotiate;		/* validate below 3.1.1 (default on) */
	int connect_timeout_ms;
	int request_timeout_ms;
	int echo_interval_s;
	/* What a request does while the connection is down: wait at most
	 * timeout_ms for the reconnect (soft), or as long as it takes. */
	bool hard;
	bool reconnect;			/* false: a lost connection ends the session */
	/* Multichannel (3.x): connections the session may have at once,
	 * the first included; 0 or 1: one.  Started by
	 * session_start_channels once a tree is connected. */
	int max_channels;
	/* Offer multichannel in NEGOTIATE even with max_channels 1
	 * (--probe: whether the server would do it). */
	bool offer_multichannel;
};

/* Tells a request waiting for a reconnect to give up (the mount is going
 * away, or the caller was interrupted): returns -errno, or 0 to wait on. */
typedef int (*session_abort_fn)(void *arg);

struct session {
	/* Fixed after session_open. */
	char *host, *user, *domain, *spn, *krb5_ccache;
	bool as_user;			/* see session_opts */
	uid_t as_uid;
	gid_t as_gid;
	struct secret *nt_hash;		/* NTLM: for every logon; locked, never dumped */
	uint16_t port;
	enum session_sec sec;		/* what was asked for */
	bool require_signing, require_encryption, secure_negotiate;
	bool hard, reconnect;
	int connect_timeout_ms, request_timeout_ms, echo_interval_s;
	struct negotiate_params np;	/* the same ClientGuid on every connection */
	enum session_sec mech;		/* how the user was authenticated */
	bool guest;
	bool anonymous;
	bool signing;			/* every request signed */
	char user_desc[256];		/* "DOMAIN\\user", "user@REALM", "guest", "anonymous" */
	/* What the first NEGOTIATE settled.  A reconnect must get the same
	 * dialect; the limits may only grow (the client keeps using these). */
	struct conn_info info;

	/* The channel.  lock guards every field up to the next comment;
	 * chan_cond announces a new channel (or the end). */
	pthread_mutex_t lock;
	pthread_cond_t chan_cond;
	struct conn *conn;		/* NULL while down; a reference of the session's */
	struct conn *dead;		/* the channel that died, for the recovery thread to drop */
	uint64_t chan_gen;		/* the current channel's generation */
	uint64_t gen_counter;		/* the last generation handed out (one per attempt) */
	uint64_t session_id;		/* changes with every new logon */
	uint16_t channel_sequence;	/* 3.x: bumped at every reconnect (MS-SMB2 3.2.4.1) */
	bool encrypting;		/* every request sealed */
	struct conn_security sec_state;	/* keys the channel was given (wiped at close) */
	bool down;			/* the channel died; recovery is on the way */
	char down_why[CONN_ERRLEN];
	uint64_t down_since_ms;
	bool closing;
	bool recoverer_started;
	struct conn *attempt;		/* the connection a reconnect is setting up */
	int cancel_fd[2];		/* fixed: a pipe; written at close to end a connect() */
	pthread_t recoverer;
	pthread_cond_t wake;		/* tells the recovery thread the channel died */
	/* trees_lock (before lock) guards trees: the recovery thread walks
	 * them while trees come and go. */
	pthread_mutex_t trees_lock;
	struct tree *trees;		/* trees on this session (tree.next) */
	/* Multichannel (channels.c).  Under lock: the channels bound to
	 * the session besides conn, each with its own signing key and
	 * nonce index; the dead ones the binder thread is to drop; and
	 * what the binder is connecting.  Fixed after
	 * session_start_channels: ifs, nifs. */
	int max_channels;		/* fixed */
	struct session_chan {
		struct conn *conn;
		char addr[64];		/* what it connected to */
	} extra[SESSION_MAX_CHANNELS - 1], retired[SESSION_MAX_CHANNELS];
	int nextra, nretired;
	char conn_addr[64];		/* conn's numeric address ("": unknown, see host) */
	uint8_t next_channel_index;	/* for nonces: never twice under one key */
	unsigned chan_turn;		/* where take_channel starts looking */
	struct conn *bind_attempt;
	struct netif *ifs;
	size_t nifs;
	bool binder_started;
	pthread_t binder;
	pthread_cond_t bind_wake;	/* a channel died, or closing */
	conn_break_fn break_fn;		/* installed on every new channel */
	void *break_arg;
	session_abort_fn abort_fn;	/* what ends a wait for the channel */
	void *abort_arg;

	/* Kerberos re-authentication (session_reauth): the fields below
	 * and krb5_target/krb5_lifetime_s change under reauth_lock. */
	pthread_mutex_t reauth_lock;
	/* Held shared by every request while it is on the wire
	 * (session_enter/leave), exclusively while re-authenticating: the
	 * server refuses what arrives in between.  (A reconnect needs no
	 * such lock: nothing is sent on the new channel before it is
	 * published.)  Held
	 * across one conn_call only; lease break acknowledgements, which a
	 * request on the wire may be waiting for, go without it. */
	pthread_rwlock_t send_lock;
	char krb5_target[300];		/* sec=krb5: the service principal asked for */
	unsigned krb5_lifetime_s;	/* sec=krb5: seconds the ticket had left at logon */
	uint16_t client_security_mode;	/* as sent in SESSION_SETUP */
	uint64_t auth_gen;		/* bumped (atomically) by every re-authentication */
	uint64_t reauth_failed_ms;	/* when a slow attempt last failed, 0: none */
	uint64_t reauth_logged_ms;	/* when a failure was last logged */
	int reauth_failed_ret;
	char reauth_failed_err[SESSION_ERRLEN];
};

/* One message (w holds it from offset 0) on conn, and its response;
 * on failure err says what went wrong with "what" (e.g. "TREE_CONNECT"). */
int session_call_one(struct conn *conn, struct wr *w, struct conn_msg *rsp, const char *what,
		     char err[SESSION_ERRLEN]);

/* Write one sentence for the user into err. */
void session_seterr(char err[SESSION_ERRLEN], const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Unmount begins: requests stop waiting for the channel, and a
 * reconnect attempt in progress is killed, so that closing the trees
 * does not wait for it (reconnect.c). */
void session_begin_close(struct session *s);

/* Connect, negotiate, authenticate.  On failure returns -errno and err
 * holds one sentence for the user. */
int session_open(const struct session_opts *o, struct session **s, char err[SESSION_ERRLEN]);

/* LOGOFF (best effort), stop the recovery thread, close, free.  Trees go
 * first (tree_close). */
void session_close(struct session *s);

/*
 * The channel for a request: a reference to the current connection
 * (conn_put it when done), with its generation, SessionId and
 * ChannelSequence.  If the channel is down, waits for the reconnect:
 * until it succeeds, the soft timeout passes (-EHOSTDOWN), abort says
 * so, or the session gives up for good (-ENOTCONN: reconnect off).
 */
struct channel {
	struct conn *conn;
	uint64_t gen;
	uint64_t session_id;
	uint16_t channel_sequence;
};
int session_channel(struct session *s, struct channel *ch, session_abort_fn abort_fn,
		    void *abort_arg);
void session_channel_put(struct channel *ch);
/* The channel if it is up now, without waiting: 0, or -ENOTCONN. */
int session_channel_now(struct session *s, struct channel *ch);
/* An empty-body request (LOGOFF, TREE_DISCONNECT) that waits at most
 * CLOSE_TIMEOUT_MS for its answer, and ignores it. */
void session_send_courtesy(const struct channel *ch, uint16_t command, uint32_t tree_id);

/* The current channel's generation (0 while down). */
uint64_t session_channel_gen(struct session *s);
/* The ChannelSequence requests go with now (3.x). */
uint16_t session_channel_sequence(struct session *s);

/* What tells requests waiting for a reconnect to give up (unmount,
 * interrupt); NULL: nothing but the timeout. */
void session_set_abort(struct session *s, session_abort_fn fn, void *arg);

/* Install the break handler on the current channel and every later one. */
void session_set_break_handler(struct session *s, conn_break_fn fn, void *arg);

/*
 * A Kerberos session ends when its service ticket does: the server then
 * answers STATUS_NETWORK_SESSION_EXPIRED.  session_reauth runs
 * SESSION_SETUP again on the same SessionId with a ticket from the
 * user's cache (MS-SMB2 3.2.4.2.3); the session keeps its keys, open
 * handles and tree.  seen is session_auth_gen() from before the request
 * that failed: when another thread has re-authenticated since, nothing
 * is sent and 0 returned, so the caller just retries.  A failure (no
 * fresh ticket yet) is looked at again at the next call; one that needed
 * the KDC (unreachable, say) is remembered for a few seconds, so that a
 * burst of requests does not wait for it once each.  -EKEYEXPIRED for a
 * session that cannot re-authenticate (NTLM, guest).
 */
uint64_t session_auth_gen(struct session *s);
void session_enter(struct session *s);
void session_leave(struct session *s);
int session_reauth(struct session *s, uint64_t seen, char err[SESSION_ERRLEN]);

/* The limits of the first negotiation (a reconnect keeps them). */
uint32_t session_max_read(const struct session *s);
uint32_t session_max_write(const struct session *s);
uint32_t session_max_transact(const struct session *s);

/*
 * For reconnect.c: log on over conn (a new connection, negotiated
 * already, with info and the 3.1.1 preauth hash of its NEGOTIATE),
 * naming the SessionId being replaced (0 for the first logon).  On
 * success *session_id is the new one and conn signs and seals as the
 * session must; the result is checked to be the same identity as
 * before.
 */
int session_logon(struct session *s, struct conn *conn, const struct conn_info *info,
		  const uint8_t preauth[SMB2_PREAUTH_HASH_SIZE], uint64_t previous_id,
		  uint64_t *session_id, struct conn_security *sec, char err[SESSION_ERRLEN]);

/*
 * For channels.c: bind conn (negotiated already, with info and the 3.1.1
 * preauth hash of its NEGOTIATE) to the session as one more channel,
 * SessionId sid, authenticating as the session's user again (MS-SMB2
 * 3.2.4.2.3 with SMB2_SESSION_FLAG_BINDING, 3.2.5.3.3).  On success conn
 * signs with the channel's own key and seals as the session does, with
 * nonce index index; sec is what it was given.
 */
int session_bind(struct session *s, struct conn *conn, const struct conn_info *info,
		 const uint8_t preauth[SMB2_PREAUTH_HASH_SIZE], uint64_t sid, uint8_t index,
		 struct conn_security *sec, char err[SESSION_ERRLEN]);

/* Multichannel: ask the server for its interfaces on t, and bind up to
 * max_channels - 1 more channels to the session in the background,
 * binding again after one dies.  0, or -errno with err saying why
 * multichannel cannot be used (the mount then goes on with one). */
int session_start_channels(struct session *s, struct tree *t, char err[SESSION_ERRLEN]);

/* How many channels the session has now (for tests and the log). */
int session_channel_count(struct session *s);

/* Turn on sealing for the session (a share that requires it) on conn,
 * whose keys sec holds.  -EOPNOTSUPP when the session has no keys or
 * no cipher. */
int session_seal(struct session *s, struct conn *conn, struct conn_security *sec);

#endif
