/* libFuzzer target: a SESSION_SETUP response, the SPNEGO NegTokenResp in
 * it, and the NTLMSSP CHALLENGE inside that, answered as the client would. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ntlm.h"
#include "pdu.h"
#include "spnego.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void answer_challenge(const uint8_t *tok, size_t len)
{
	static const struct ntlm_creds cr = {
		.user = "user", .domain = "DOMAIN", .password = "Password",
		.workstation = "WS", .target_spn = "cifs/server",
	};
	static const struct ntlm_fixed fx = { .time = 1 };
	struct ntlm_ctx c;
	struct wr neg, auth;

	ntlm_init(&c);
	wr_init(&neg);
	wr_init(&auth);
	if (ntlm_negotiate(&c, &neg) == 0)
		(void)ntlm_authenticate(&c, &cr, tok, len, &fx, &auth);
	ntlm_free(&c);
	wr_free(&neg);
	wr_free(&auth);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct session_setup_rsp p;
	struct spnego_resp r;

	if (pdu_session_setup_dec(data, size, &p) == 0 && p.secbuf_len &&
	    spnego_parse_resp(p.secbuf, p.secbuf_len, &r) == 0 && r.token)
		answer_challenge(r.token, r.token_len);
	/* The same bytes as a bare SPNEGO token and a bare CHALLENGE. */
	if (spnego_parse_resp(data, size, &r) == 0 && r.token)
		answer_challenge(r.token, r.token_len);
	answer_challenge(data, size);
	return 0;
}
