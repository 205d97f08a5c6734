/*
 * ntlm.h - NTLMSSP with NTLMv2 responses (MS-NLMP), client side.
 *
 * The exchange is NEGOTIATE -> CHALLENGE -> AUTHENTICATE.  The client
 * answers with an NTLMv2 response over the server's target info (adding
 * MsvAvFlags with "MIC present" and the target SPN), a MIC over all three
 * messages, and a random exported session key sent RC4-encrypted under
 * the key exchange key (NTLMSSP_NEGOTIATE_KEY_EXCH).  The exported
 * session key becomes the SMB session key.
 *
 * MD4 (the NT hash) and RC4 come from OpenSSL's "legacy" provider, loaded
 * into a private library context so that the process's default context
 * keeps only modern algorithms: see ntlm.c.
 */
#ifndef SMBFUSE_NTLM_H
#define SMBFUSE_NTLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wr;

/* MS-NLMP 2.2.2.5 NEGOTIATE flags smbfuse uses. */
#define NTLMSSP_NEGOTIATE_UNICODE		0x00000001u
#define NTLMSSP_REQUEST_TARGET			0x00000004u
#define NTLMSSP_NEGOTIATE_SIGN			0x00000010u
#define NTLMSSP_NEGOTIATE_SEAL			0x00000020u
#define NTLMSSP_NEGOTIATE_NTLM			0x00000200u
#define NTLMSSP_NEGOTIATE_ANONYMOUS		0x00000800u
#define NTLMSSP_NEGOTIATE_ALWAYS_SIGN		0x00008000u
#define NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY 0x00080000u
#define NTLMSSP_NEGOTIATE_TARGET_INFO		0x00800000u
#define NTLMSSP_NEGOTIATE_VERSION		0x02000000u
#define NTLMSSP_NEGOTIATE_128			0x20000000u
#define NTLMSSP_NEGOTIATE_KEY_EXCH		0x40000000u
#define NTLMSSP_NEGOTIATE_56			0x80000000u

#define NTLM_KEY_SIZE 16

struct ntlm_creds {
	const char *user;		/* UTF-8; NULL or "" with anonymous */
	const char *domain;		/* UTF-8; may be "" */
	const char *password;		/* UTF-8; not read when nt_hash is set */
	/* The NT hash (ntlm_nt_hash of the password), all NTLMv2 needs of
	 * it: what a long-lived session keeps instead of the password.
	 * NULL: computed from password. */
	const uint8_t *nt_hash;		/* 16 bytes */
	const char *workstation;	/* UTF-8; may be NULL */
	const char *target_spn;		/* e.g. "cifs/server"; may be NULL */
	bool anonymous;
};

/* Inputs that are random in real use, fixed by the unit tests. */
struct ntlm_fixed {
	uint8_t client_challenge[8];
	uint8_t exported_session_key[NTLM_KEY_SIZE];
	uint64_t time;			/* FILETIME when no server timestamp */
};

struct ntlm_ctx {
	/* The NEGOTIATE and CHALLENGE messages as sent and received, kept
	 * for the MIC. */
	uint8_t *negotiate_msg;
	size_t negotiate_len;
	uint32_t flags;			/* as the server's CHALLENGE set them */
	uint8_t session_key[NTLM_KEY_SIZE];	/* exported session key */
	uint8_t client_sign_key[NTLM_KEY_SIZE];
	uint8_t server_sign_key[NTLM_KEY_SIZE];
	uint8_t client_seal_key[NTLM_KEY_SIZE];
	uint8_t server_seal_key[NTLM_KEY_SIZE];
	void *client_seal;		/* RC4 handles (EVP_CIPHER_CTX) */
	void *server_seal;
	uint32_t client_seq, server_seq;
	bool have_keys;
	bool anonymous;
};

/* Load MD4/RC4 once; false if OpenSSL's legacy provider is missing. */
bool ntlm_available(void);

void ntlm_init(struct ntlm_ctx *c);
/* Wipes every key and frees what the context holds. */
void ntlm_free(struct ntlm_ctx *c);

/* The NEGOTIATE_MESSAGE, appended to out (and kept for the MIC). */
int ntlm_negotiate(struct ntlm_ctx *c, struct wr *out);

/* Parse the server's CHALLENGE_MESSAGE and append the AUTHENTICATE_MESSAGE
 * to out.  fixed is NULL in real use (random values are drawn).
 * -EPROTO for a malformed challenge, -ENOTSUP if the server does not
 * offer what smbfuse insists on (NTLMv2 session security, 128-bit). */
int ntlm_authenticate(struct ntlm_ctx *c, const struct ntlm_creds *cr,
		      const uint8_t *challenge, size_t len,
		      const struct ntlm_fixed *fixed, struct wr *out);

/* MS-NLMP 3.4.4.2 signature (16 bytes) of msg with the client's signing
 * key and next sequence number: the SPNEGO mechListMIC. */
int ntlm_sign(struct ntlm_ctx *c, const uint8_t *msg, size_t len, uint8_t sig[16]);

/* Check a server's signature over msg; -EBADMSG if it does not match. */
int ntlm_verify(struct ntlm_ctx *c, const uint8_t *msg, size_t len, const uint8_t *sig,
		size_t siglen);

/* Building blocks, exposed for the known-answer tests. */
int ntlm_nt_hash(const char *password, uint8_t out[16]);
int ntlm_ntowfv2(const uint8_t nt_hash[16], const char *user, const char *domain,
		 uint8_t out[16]);
int ntlm_hmac_md5(const uint8_t *key, size_t keylen, const uint8_t *a, size_t alen,
		  const uint8_t *b, size_t blen, uint8_t out[16]);

#endif
