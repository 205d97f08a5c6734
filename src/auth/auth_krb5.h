/*
 * auth_krb5.h - a Kerberos security context for SESSION_SETUP, through
 * GSSAPI (RFC 2743, RFC 4121; MIT libgssapi-krb5).  The only GSSAPI user.
 *
 * The initiator's tokens (AP-REQ, then nothing once the server's AP-REP
 * is taken) travel inside SPNEGO, which session.c builds: this file only
 * speaks raw krb5 mechanism tokens.  Mutual authentication is required:
 * the context completes only after the server has proven it holds the
 * service key.  The session key is the one GSSAPI exports for SSPI
 * compatibility (the acceptor subkey when there is one), which is what
 * Windows and Samba feed into the SMB key derivation too.
 *
 * Every failure leaves a one-line message a user can act on ("run kinit",
 * "the clocks differ", ...) built from the GSS major and krb5 minor
 * status, never a bare "I/O error".
 */
#ifndef SMBFUSE_AUTH_KRB5_H
#define SMBFUSE_AUTH_KRB5_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct wr;
struct auth_krb5;

#define AUTH_KRB5_ERRLEN 400
#define AUTH_KRB5_MAX_KEY 32

/* Where the ticket comes from and whom it is for. */
struct auth_krb5_opts {
	const char *host;	/* the server as the user named it */
	const char *spn;	/* NULL: cifs@host; "svc/host[@REALM]" or "svc@host" */
	const char *ccache;	/* NULL: KRB5CCNAME or the default for this uid */
	const char *principal;	/* for messages when the cache cannot tell (NULL) */
	/* A multiuser mount's user: the cache is read (and the service
	 * ticket stored) with that uid's and gid's file rights (fsid.h),
	 * never root's. */
	bool as_user;
	uid_t uid;
	gid_t gid;
};

/* Take the user's credentials from the cache and prepare a context for
 * the server's principal.  The client principal (user@REALM) is known
 * from here on.  -ENOKEY: no ticket; -EKEYEXPIRED: expired; other -errno
 * with err set. */
int auth_krb5_begin(const struct auth_krb5_opts *o, struct auth_krb5 **k,
		    char err[AUTH_KRB5_ERRLEN]);

/* One round: in is the server's token (NULL, 0 on the first call); the
 * token to send, if any, is appended to out.  *done becomes true when the
 * context is established and the server has authenticated itself. */
int auth_krb5_step(struct auth_krb5 *k, const uint8_t *in, size_t inlen,
		   struct wr *out, bool *done, char err[AUTH_KRB5_ERRLEN]);

/* The established context's session key (16 or 32 bytes). */
int auth_krb5_session_key(struct auth_krb5 *k, uint8_t key[AUTH_KRB5_MAX_KEY], size_t *len);

/* MIC over msg (SPNEGO mechListMIC), appended to out; and its check. */
int auth_krb5_get_mic(struct auth_krb5 *k, const uint8_t *msg, size_t len, struct wr *out);
int auth_krb5_verify_mic(struct auth_krb5 *k, const uint8_t *msg, size_t len,
			 const uint8_t *mic, size_t miclen);

/* The client principal, "user@REALM". */
const char *auth_krb5_principal(const struct auth_krb5 *k);

/* The server principal as asked for, for messages ("cifs/host"). */
const char *auth_krb5_target(const struct auth_krb5 *k);

/* Seconds the established context (the service ticket) stays valid,
 * 0 if unknown or already expired. */
unsigned auth_krb5_lifetime(struct auth_krb5 *k);

void auth_krb5_free(struct auth_krb5 *k);

#endif
