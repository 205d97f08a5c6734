/*
 * conn.h - one TCP connection to an SMB2 server: MessageIds and credits,
 * the table of requests in flight, the reader thread that matches
 * responses to them, and signing / sealing of whatever passes.
 *
 * Any number of threads may call conn_call at once; each registers its
 * request under its MessageId(s), sends it, and waits until its
 * response is received (or the connection dies, or its deadline
 * passes): by itself when nobody else is receiving, else by whoever is
 * (another caller, or the reader thread, which receives while no caller
 * does).  That is how many FUSE requests end up in flight on one
 * connection.  conn_submit / conn_collect are the same call in two
 * steps, so one thread can have several in flight; conn_detach sends
 * one whose answer nobody waits for.
 *
 * A connection is never repaired: once dead (EOF, a send or read
 * error, a keepalive ECHO left unanswered, a malformed or forged
 * message) it fails every waiter and stays dead; the session above
 * replaces it with a new one (reconnect.c).  It is reference counted,
 * so a caller that took it before it died can still finish with it.
 *
 * Locks (see docs/DESIGN.md for the whole order): conn.send_lock, then
 * conn.lock, then conn.break_lock.  Whoever receives takes conn.lock and
 * conn.break_lock, never both.  No lock is held while sleeping on the
 * socket.
 */
#ifndef SMBFUSE_CONN_H
#define SMBFUSE_CONN_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

#define CONN_MAX_CHAIN 8		/* messages in one compound */
#define CONN_ERRLEN 256

struct conn;
struct conn_call;

/* What NEGOTIATE settled (negotiate.c fills it in): both sides' offers
 * and the outcome.  Fixed once conn_set_negotiated has run. */
struct conn_info {
	uint16_t dialect;
	uint16_t server_security_mode;
	uint32_t server_capabilities;
	uint8_t server_guid[16];
	uint32_t max_read, max_write, max_transact;	/* capped to what smbfuse uses */
	enum smb2_sign_alg sign_alg;
	enum smb2_cipher cipher;	/* NONE if the server offers none */
	unsigned server_mechs;		/* SPNEGO_MECH_* the server offered */
	/* What this client offered; VALIDATE_NEGOTIATE_INFO repeats it. */
	uint8_t client_guid[16];
	uint16_t client_security_mode;
	uint32_t client_capabilities;
	uint16_t offered[5];
	int noffered;
};

/* One received message (its header at buf[0]).  Owned by the caller
 * after conn_call: free with conn_msg_free. */
struct conn_msg {
	uint8_t *buf;
	size_t len;
	bool was_signed;		/* carried a signature that verified */
	bool was_encrypted;		/* arrived inside a transform */
};

void conn_msg_free(struct conn_msg *m);

/* The Status field of a received message's header. */
uint32_t conn_msg_status(const struct conn_msg *m);

/* What the session layer hands the connection once it has keys. */
struct conn_security {
	uint64_t session_id;
	bool have_sign_key;		/* sign_key is valid (not guest/anonymous) */
	bool sign;			/* sign every request, require signed responses */
	enum smb2_sign_alg sign_alg;
	uint8_t sign_key[16];
	bool encrypt;			/* seal requests, require sealed responses */
	enum smb2_cipher cipher;
	uint8_t enc_key[32];
	uint8_t dec_key[32];
	/* Multichannel: the channels of a session seal with the same key,
	 * so each one's nonces carry its own index (0 for the first). */
	uint8_t channel_index;
	/* A bound channel (and one being bound): its SESSION_SETUP
	 * responses are checked by session.c, not here with sign_key: they
	 * are signed with the session's key, or (the last of a binding)
	 * with the channel's, before this connection has it. */
	bool binding;
};

/* Called by the receiving thread (the reader, or a caller reading its
 * own answer) for an oplock or lease break notification
 * (MessageId 0xFFFFFFFFFFFFFFFF); msg is valid only during the call, and
 * the handler must not call conn_call itself (hand the work to another
 * thread). */
typedef void (*conn_break_fn)(void *arg, const uint8_t *msg, size_t len);

struct conn_opts {
	const char *host;
	uint16_t port;
	int connect_timeout_ms;
	int request_timeout_ms;		/* default deadline of a call */
	int echo_interval_s;		/* idle time before an ECHO; 0 = never */
	int cancel_fd;			/* readable: stop connecting (-1: none) */
};

/* Called once when the connection dies (from whichever thread noticed,
 * with conn.lock held: the handler may only take leaf locks and wake
 * someone). */
typedef void (*conn_death_fn)(void *arg, struct conn *c);

/* Connect; on failure *conn is NULL and err says why.  The caller holds
 * the one reference. */
int conn_open(const struct conn_opts *o, struct conn **conn, char err[CONN_ERRLEN]);

/* References: the last conn_put fails every waiter, stops the threads,
 * closes the socket and frees. */
struct conn *conn_get(struct conn *c);
void conn_put(struct conn *c);

/* Mark the connection dead now (e.g. at unmount, or when the session
 * gives up on it); waiters get -ENOTCONN. */
void conn_kill(struct conn *c, const char *why);

/* After NEGOTIATE: the dialect decides CreditCharge use (LARGE_MTU);
 * the limits bound what the reader accepts. */
void conn_set_negotiated(struct conn *c, const struct conn_info *info);
/* What NEGOTIATE settled; valid once conn_set_negotiated ran. */
const struct conn_info *conn_info(const struct conn *c);

/* Turn on signing / sealing (or update them, e.g. after re-auth). */
void conn_set_security(struct conn *c, const struct conn_security *s);

/* Set (or, with NULL, clear and wait out a running call of) the break
 * handler. */
void conn_set_break_handler(struct conn *c, conn_break_fn fn, void *arg);
/* Set before anything can kill the connection (right after conn_open). */
void conn_set_death_handler(struct conn *c, conn_death_fn fn, void *arg);

/*
 * Send one message or a compound chain and wait for every response.
 *
 * req holds n messages back to back, each built with pdu_hdr_enc and an
 * encoder; in a chain every message but the last is padded to 8 bytes
 * and has NextCommand set (conn_chain_link does both).  The caller sets
 * Command, Flags, TreeId, SessionId and CreditCharge (0 means 1); the
 * connection fills in MessageId and CreditRequest, signs and seals.  The
 * buffer is modified in place.  A message whose caller set
 * SMB2_FLAGS_SIGNED is signed even when the session does not sign
 * everything, and its response must then be signed too (this is how
 * VALIDATE_NEGOTIATE_INFO goes).
 *
 * Returns 0 with n responses in rsp, or -errno: -ETIMEDOUT (the
 * deadline passed; with timeout_ms 0, the connection's default, an ECHO
 * is sent first, and while the server answers it the request waits up
 * to three more timeouts: the server is alive but slow), -ENOTCONN when
 * the connection died of a lost link (an unanswered ECHO counts), the
 * cause of any other death (-EIO for a forged message, -EPROTO for a
 * malformed one; see conn_error), -EAGAIN if the server granted no
 * credits.
 */
int conn_call(struct conn *c, uint8_t *req, size_t len, int n,
	      struct conn_msg *rsp, int timeout_ms);

/*
 * How to wait for a request that may take long by design: a lock that
 * another client holds (the server answers STATUS_PENDING at once and
 * the real answer when the lock is granted).  patient: no deadline once
 * the interim response came (the keepalive ECHO still finds a dead
 * server).  abort, if set, is asked every CONN_ABORT_POLL_MS; when it
 * returns non-zero an SMB2 CANCEL goes for each message still waiting
 * (MS-SMB2 3.2.4.24), and the call then waits, with the usual deadline,
 * for their answers: STATUS_CANCELLED, or the real one if it was on its
 * way.  conn_call is conn_call_wait with none of this.
 */
#define CONN_ABORT_POLL_MS 200

/*
 * Bytes that travel outside the message buffer, so that they are never
 * copied on the way (the bulk of READ and WRITE):
 * out: a WRITE's data, sent right behind the last message, whose body
 * (pdu_write_enc with data NULL) says how long it is; it is signed and
 * sealed as part of that message.
 * in: where the data of the last message's READ response goes.  When
 * the response is a plain success that fits, its data is read from the
 * socket (and, with AES-GCM sealing, decrypted) straight into in, and
 * its conn_msg holds only the header and fixed body (in_used, in_got
 * bytes).  Otherwise (an error, a compound, CCM sealing, more than
 * in_cap) the response comes whole in its conn_msg as always.
 * The caller's buffers must stay valid until the call returns; in may
 * have been written even when it fails.
 */
struct conn_data {
	const void *out;
	size_t out_len;
	void *in;
	size_t in_cap;
	bool in_used;			/* out: the READ's data is in in */
	size_t in_got;			/* out: how much of it */
};

struct conn_wait {
	bool patient;
	int (*abort)(void *arg);
	void *abort_arg;
	struct conn_data *data;		/* NULL: everything in the buffers */
};
int conn_call_wait(struct conn *c, uint8_t *req, size_t len, int n, struct conn_msg *rsp,
		   int timeout_ms, const struct conn_wait *wait);

/*
 * The same in two steps, so that one thread can have many calls in
 * flight, or send one whose answer it does not need.  conn_submit does
 * what conn_call_wait does up to the send (credits, MessageIds,
 * signing, sealing) and returns once the frame is on its way; then
 * exactly one of:
 * - conn_collect waits for the responses as conn_call_wait would (the
 *   deadline runs from the submit; ECHO probe, patience and abort as
 *   wait said) and returns them in rsp, with conn_call_wait's errors;
 * - conn_detach gives the call up at once: the reader takes its answers
 *   in and drops them (their credits still count; a forged one still
 *   kills the connection).  For a request whose outcome changes nothing
 *   the caller does next, such as closing a directory handle after
 *   reading its listing: it then costs no round trip.
 * req and the buffers of wait->data must stay valid until then (a
 * CANCEL is built from req; the reader may be filling data->in).  The
 * call holds a reference to c.
 */
int conn_submit(struct conn *c, uint8_t *req, size_t len, int n, int timeout_ms,
		const struct conn_wait *wait, struct conn_call **call);
int conn_collect(struct conn_call *call, struct conn_msg *rsp);
void conn_detach(struct conn_call *call);

/* Finish a message in a chain being built: pad it to 8 bytes and point
 * its NextCommand at the next one.  msg_start is where it begins in w. */
struct wr;
void conn_chain_link(struct wr *w, size_t msg_start);

/* Why the connection died ("" while it lives); valid until the last put. */
const char *conn_error(struct conn *c);
bool conn_alive(struct conn *c);
/* The server's address as connected to, numeric ("10.0.0.1", "::1"),
 * into buf ("" and -errno if it cannot be told). */
int conn_peer_addr(struct conn *c, char *buf, size_t size);
/* Messages sent and not yet answered: how busy it is (multichannel
 * picks the least busy channel). */
uint32_t conn_inflight(struct conn *c);


#endif
