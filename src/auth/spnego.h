/*
 * spnego.h - SPNEGO tokens (RFC 4178, MS-SPNG) around NTLMSSP or Kerberos.
 *
 * The client sends NegTokenInit (GSS-API framed) with its mechanisms and
 * the first token of the chosen one, then NegTokenResp for every later
 * round; the server answers each with NegTokenResp.  mechListMIC, when
 * present, protects the mechanism list against a downgrade: it is the
 * chosen mechanism's MIC over the DER of the client's mechTypes.
 */
#ifndef SMBFUSE_SPNEGO_H
#define SMBFUSE_SPNEGO_H

#include <stddef.h>
#include <stdint.h>

struct wr;

enum spnego_mech {
	SPNEGO_MECH_NTLMSSP = 1 << 0,
	SPNEGO_MECH_KRB5 = 1 << 1,	/* 1.2.840.113554.1.2.2 */
	SPNEGO_MECH_MS_KRB5 = 1 << 2,	/* 1.2.840.48018.1.2.2, Windows' alias */
};

enum spnego_state {
	SPNEGO_ABSENT = -1,
	SPNEGO_ACCEPT_COMPLETED = 0,
	SPNEGO_ACCEPT_INCOMPLETE = 1,
	SPNEGO_REJECT = 2,
	SPNEGO_REQUEST_MIC = 3,
};

/* The mechanisms a server lists in the NegTokenInit(2) of its NEGOTIATE
 * response, as a bit set of enum spnego_mech.  An empty buffer offers
 * nothing in particular (0).  -EPROTO if the token is malformed. */
int spnego_server_mechs(const uint8_t *buf, size_t len, unsigned *mechs);

/* NegTokenInit offering the one mechanism mech with its first token.
 * The DER of the mechTypes list is appended to mechtypes (for the
 * mechListMIC later) when mechtypes is not NULL. */
int spnego_init_token(struct wr *out, enum spnego_mech mech,
		      const uint8_t *token, size_t len, struct wr *mechtypes);

/* NegTokenResp carrying a responseToken (if token is not NULL) and a
 * mechListMIC (if mic is not NULL). */
int spnego_resp_token(struct wr *out, const uint8_t *token, size_t len,
		      const uint8_t *mic, size_t miclen);

struct spnego_resp {
	enum spnego_state state;
	unsigned mech;			/* supportedMech, 0 if absent */
	const uint8_t *token;		/* responseToken, NULL if absent */
	size_t token_len;
	const uint8_t *mic;		/* mechListMIC, NULL if absent */
	size_t mic_len;
};

/* Parse a server's NegTokenResp; pointers point into buf. */
int spnego_parse_resp(const uint8_t *buf, size_t len, struct spnego_resp *r);

#endif
