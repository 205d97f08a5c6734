/*
 * reconnect.h - the session's channel over time: the first connection,
 * noticing that it died, and replacing it in the background (a new
 * connection, NEGOTIATE checked against the first one, a logon with
 * PreviousSessionId, every tree connected again and every open
 * reclaimed) with capped exponential backoff, for as long as the
 * session lives.  Used by session.c only.
 */
#ifndef SMBFUSE_RECONNECT_H
#define SMBFUSE_RECONNECT_H

#include "session.h"

/* A new connection to the session's server, negotiated: *conn holds one
 * reference; info and preauth what NEGOTIATE settled. */
int session_connect(struct session *s, struct conn **conn, struct conn_info *info,
		    uint8_t preauth[SMB2_PREAUTH_HASH_SIZE], char err[SESSION_ERRLEN]);

/* The same to host (an address of the server's), the connection kept
 * in *slot (s->attempt, s->bind_attempt) until it is set up, so that an
 * unmount can kill it. */
int session_connect_to(struct session *s, const char *host, struct conn **slot,
		       struct conn **conn, struct conn_info *info,
		       uint8_t preauth[SMB2_PREAUTH_HASH_SIZE], char err[SESSION_ERRLEN]);

/* The connection session_connect made is set up (or given up on): an
 * unmount no longer needs to kill it.  _slot: the same for a slot. */
void session_forget_attempt(struct session *s);
void session_forget_slot(struct session *s, struct conn **slot);

/* Give a new channel the session's break handler (reconnect, binding). */
void session_install_break_handler(struct session *s, struct conn *conn);

/* Every channel's death handler (arg: the session). */
void session_conn_died(void *arg, struct conn *c);

/* channels.c: stop the binder thread and drop the bound channels
 * (unmount; session_begin_close calls it, more than once is fine). */
void session_stop_channels(struct session *s);

/* Make conn (logged on as sid, with keys sec) the session's channel and
 * start the thread that replaces it when it dies.  The session takes
 * the reference. */
int session_start_recovery(struct session *s, struct conn *conn, uint64_t sid,
			   const struct conn_security *sec);

/* Stop that thread and drop the channel (at close). */
void session_stop_recovery(struct session *s);

#endif
