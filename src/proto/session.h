/*
 * session.h - from a TCP connection to a usable tree: NEGOTIATE, the
 * SESSION_SETUP exchange, keys, TREE_CONNECT and the secure-negotiate
 * check.  Everything that makes a connection trustworthy happens here;
 * once session_open returns, every request on the tree is protected as
 * the negotiation decided.
 */
#ifndef SMBFUSE_SESSION_H
#define SMBFUSE_SESSION_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "crypto.h"

#define SESSION_ERRLEN 512

enum session_sec {
	SEC_NTLMSSP,		/* user name and password */
	SEC_KRB5,		/* the user's Kerberos ticket */
	SEC_NONE,		/* anonymous (NULL) session, or guest */
};

enum secure_negotiate {
	SECNEG_PREAUTH,		/* 3.1.1: preauth integrity covers it */
	SECNEG_VALIDATED,	/* VALIDATE_NEGOTIATE_INFO matched */
	SECNEG_NOT_SUPPORTED,	/* a signed "not supported" from a down-level server */
	SECNEG_SKIPPED_GUEST,	/* guest/anonymous: nothing to sign it with */
	SECNEG_DISABLED,	/* turned off by the user */
};

struct session_opts {
	const char *host;
	uint16_t port;
	const char *share;		/* share name only */
	enum session_sec sec;
	const char *user;
	const char *domain;
	const char *password;
	const char *spn;		/* Kerberos service principal, NULL: cifs@host */
	const char *krb5_ccache;	/* NULL: KRB5CCNAME or the default */
	uint16_t min_dialect;		/* e.g. 0x0210 */
	uint16_t max_dialect;		/* e.g. 0x0311 */
	bool require_signing;
	bool require_encryption;
	bool secure_negotiate;		/* validate below 3.1.1 (default on) */
	int connect_timeout_ms;
	int request_timeout_ms;
	int echo_interval_s;
};

struct session {
	struct conn *conn;
	/* What NEGOTIATE settled; fixed after session_open. */
	uint16_t dialect;
	uint16_t server_security_mode;
	uint32_t server_capabilities;
	uint8_t server_guid[16];
	uint32_t max_read, max_write, max_transact;
	enum smb2_sign_alg sign_alg;
	enum smb2_cipher cipher;	/* NONE if the server offers none */
	/* What SESSION_SETUP settled. */
	uint64_t session_id;
	enum session_sec mech;		/* how the user was authenticated */
	bool guest;
	bool anonymous;
	bool signing;			/* every request signed */
	bool encrypting;		/* every request sealed */
	char user_desc[256];		/* "DOMAIN\\user", "user@REALM", "guest", "anonymous" */
	/* Kerberos re-authentication (session_reauth): the fields below
	 * and krb5_target/krb5_lifetime_s change under reauth_lock. */
	pthread_mutex_t reauth_lock;
	/* Held shared by every request of the tree while it is on the wire
	 * (session_enter/leave), exclusively while re-authenticating: the
	 * server refuses what arrives in between.  Held across one
	 * conn_call only; lease break acknowledgements, which a request on
	 * the wire may be waiting for, go without it. */
	pthread_rwlock_t send_lock;
	char krb5_target[300];		/* sec=krb5: the service principal asked for */
	unsigned krb5_lifetime_s;	/* sec=krb5: seconds the ticket had left at logon */
	char *reauth_host, *reauth_spn, *reauth_ccache;	/* what the ticket was got with */
	uint16_t client_security_mode;	/* as sent in SESSION_SETUP */
	uint64_t auth_gen;		/* bumped (atomically) by every re-authentication */
	uint64_t reauth_failed_ms;	/* when a slow attempt last failed, 0: none */
	uint64_t reauth_logged_ms;	/* when a failure was last logged */
	int reauth_failed_ret;
	char reauth_failed_err[SESSION_ERRLEN];
	/* TREE_CONNECT */
	uint32_t tree_id;
	uint32_t share_flags;
	uint32_t share_capabilities;
	uint32_t maximal_access;
	enum secure_negotiate secneg;
};

/* Connect, negotiate, authenticate, connect the tree, validate.
 * On failure returns -errno and err holds one sentence for the user. */
int session_open(const struct session_opts *o, struct session **s, char err[SESSION_ERRLEN]);

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
 * burst of requests does not wait for it once each.  -EKEYEXPIRED for a session
 * that cannot re-authenticate (NTLM, guest).
 */
uint64_t session_auth_gen(struct session *s);
void session_enter(struct session *s);
void session_leave(struct session *s);
int session_reauth(struct session *s, uint64_t seen, char err[SESSION_ERRLEN]);

/* TREE_DISCONNECT and LOGOFF (best effort), then close. */
void session_close(struct session *s);

const char *dialect_name(uint16_t dialect);

/* Fill in an SMB2 header for a request on this session's tree. */
struct smb2_hdr;
void session_hdr(const struct session *s, struct smb2_hdr *h, uint16_t command);

#endif
