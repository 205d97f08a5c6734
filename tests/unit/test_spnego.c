/*
 * Tests for src/spnego.c and src/asn1.c: tokens taken from the published
 * Windows exchanges (vectors/smb311-preauth.txt), the mechTypes DER from
 * vectors/ntlmv2.txt, a Samba AD DC's Kerberos exchange (golden/), and
 * every truncation of each server token.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "asn1.h"
#include "golden.h"
#include "spnego.h"
#include "unit.h"
#include "vectors.h"
#include "wire.h"

/* The security buffer of a NEGOTIATE (body offset 56) or SESSION_SETUP
 * (body offset 4) response message. */
static const uint8_t *secbuf(const uint8_t *msg, size_t len, size_t field, size_t *n)
{
	uint16_t off = le16_get(msg + 64 + field), l = le16_get(msg + 64 + field + 2);

	if (!range_ok(len, off, l))
		return NULL;
	*n = l;
	return msg + off;
}

static void test_server_init(void)
{
	size_t len, n, i;
	uint8_t *msg = vec("smb311-preauth.txt", "anat311m.step2_negotiate_response", &len);
	const uint8_t *tok = secbuf(msg, len, 56, &n);
	unsigned mechs = 0;

	CHECK(tok != NULL);
	CHECK_INT(spnego_server_mechs(tok, n, &mechs), 0);
	/* The Windows server offers NTLMSSP (and maybe Kerberos). */
	CHECK(mechs & SPNEGO_MECH_NTLMSSP);
	CHECK_INT(spnego_server_mechs(tok, 0, &mechs), 0);
	CHECK_INT(mechs, 0);
	/* The outer [APPLICATION 0] covers the whole token, so every
	 * truncation must be refused. */
	for (i = 1; i < n; i++)
		CHECK_INT(spnego_server_mechs(tok, i, &mechs), -EPROTO);
	free(msg);
}

static void test_server_resp(void)
{
	size_t len, n, i;
	uint8_t *msg = vec("smb311-preauth.txt", "anat311m.step4_session_setup_response1", &len);
	const uint8_t *tok = secbuf(msg, len, 4, &n);
	struct spnego_resp r;

	CHECK(tok != NULL);
	CHECK_INT(spnego_parse_resp(tok, n, &r), 0);
	CHECK_INT(r.state, SPNEGO_ACCEPT_INCOMPLETE);
	CHECK_INT(r.mech, SPNEGO_MECH_NTLMSSP);
	CHECK(r.token && r.token_len > 32 && memcmp(r.token, "NTLMSSP\0\2", 9) == 0);
	for (i = 0; i < n; i++)
		CHECK_INT(spnego_parse_resp(tok, i, &r), -EPROTO);
	free(msg);

	msg = vec("smb311-preauth.txt", "anat311m.final_session_setup_response", &len);
	tok = secbuf(msg, len, 4, &n);
	CHECK_INT(spnego_parse_resp(tok, n, &r), 0);
	CHECK_INT(r.state, SPNEGO_ACCEPT_COMPLETED);
	CHECK(r.mic && r.mic_len == 16);
	free(msg);
}

static void test_client_tokens(void)
{
	static const uint8_t ntlm_tok[] = "NTLMSSP";
	struct wr out, types;
	size_t tn;
	uint8_t *want = vec("ntlmv2.txt", "anat.spnego_mechtypes_der", &tn);
	struct rd r, app, v;

	wr_init(&out);
	wr_init(&types);
	CHECK_INT(spnego_init_token(&out, SPNEGO_MECH_NTLMSSP, ntlm_tok, sizeof(ntlm_tok), &types), 0);
	CHECK_INT(types.len, tn);
	CHECK_MEM(types.p, want, tn);
	/* It reads back as a well-formed [APPLICATION 0] token. */
	rd_init(&r, out.p, out.len);
	CHECK(der_expect(&r, DER_APP(0), &app));
	CHECK(der_expect(&app, DER_OID, &v));
	CHECK_INT(rd_left(&r), 0);
	wr_free(&out);

	/* A NegTokenResp we build parses with our own parser. */
	{
		uint8_t big[300];
		struct spnego_resp resp;

		memset(big, 0x5a, sizeof(big));	/* > 127 bytes: long-form lengths */
		wr_init(&out);
		CHECK_INT(spnego_resp_token(&out, big, sizeof(big), ntlm_tok, 8), 0);
		CHECK_INT(spnego_parse_resp(out.p, out.len, &resp), 0);
		CHECK_INT(resp.token_len, sizeof(big));
		CHECK_INT(resp.mic_len, 8);
		CHECK_INT(resp.state, SPNEGO_ABSENT);
		wr_free(&out);
	}
	wr_free(&types);
	free(want);
}

/* A Samba AD DC (tests/rig/adrig) offers Kerberos under both OIDs and
 * answers a Kerberos NegTokenInit with its AP-REP. */
static void test_samba_kerberos(void)
{
	/* RFC 1964 1.1: GSS framing [APPLICATION 0], the krb5 OID, then the
	 * token id 02 00 (AP-REP) and the [APPLICATION 15] AP-REP itself. */
	static const uint8_t krb5_oid[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02 };
	size_t len, n, i;
	uint8_t *msg = golden("samba-ad-negotiate-rsp-311.bin", &len);
	const uint8_t *tok = secbuf(msg, len, 56, &n);
	struct spnego_resp r;
	struct rd rd, app, oid;
	unsigned mechs = 0;

	CHECK(tok != NULL);
	CHECK_INT(spnego_server_mechs(tok, n, &mechs), 0);
	CHECK_INT(mechs, SPNEGO_MECH_NTLMSSP | SPNEGO_MECH_KRB5 | SPNEGO_MECH_MS_KRB5);
	free(msg);

	msg = golden("samba-ad-session-setup-rsp-krb5.bin", &len);
	tok = secbuf(msg, len, 4, &n);
	CHECK(tok != NULL);
	CHECK_INT(spnego_parse_resp(tok, n, &r), 0);
	CHECK_INT(r.state, SPNEGO_ACCEPT_COMPLETED);
	CHECK_INT(r.mech, SPNEGO_MECH_KRB5);
	CHECK(r.mic == NULL);	/* one mechanism offered: no MIC needed */
	CHECK(r.token != NULL);
	rd_init(&rd, r.token, r.token_len);
	CHECK(der_expect(&rd, DER_APP(0), &app));
	CHECK(app.len > sizeof(krb5_oid) + 3 && memcmp(app.p, krb5_oid, sizeof(krb5_oid)) == 0);
	oid = app;
	CHECK(oid.p[sizeof(krb5_oid)] == 0x02 && oid.p[sizeof(krb5_oid) + 1] == 0x00);
	CHECK(oid.p[sizeof(krb5_oid) + 2] == 0x6f);
	for (i = 0; i < n; i++)
		CHECK_INT(spnego_parse_resp(tok, i, &r), -EPROTO);
	free(msg);
}

/* Our Kerberos NegTokenInit: the mechTypes list is the krb5 OID alone;
 * a later NegTokenResp may carry only a mechListMIC. */
static void test_kerberos_tokens(void)
{
	static const uint8_t want_types[] = {
		0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02,
	};
	static const uint8_t ap_req[] = { 0x60, 0x01, 0x00 };
	static const uint8_t mic[] = { 1, 2, 3, 4 };
	struct wr out, types;
	struct spnego_resp r;

	wr_init(&out);
	wr_init(&types);
	CHECK_INT(spnego_init_token(&out, SPNEGO_MECH_KRB5, ap_req, sizeof(ap_req), &types), 0);
	CHECK_INT(types.len, sizeof(want_types));
	CHECK_MEM(types.p, want_types, sizeof(want_types));
	wr_free(&out);
	wr_init(&out);
	CHECK_INT(spnego_resp_token(&out, NULL, 0, mic, sizeof(mic)), 0);
	CHECK_INT(spnego_parse_resp(out.p, out.len, &r), 0);
	CHECK(r.token == NULL);
	CHECK(r.mic && r.mic_len == sizeof(mic) && memcmp(r.mic, mic, sizeof(mic)) == 0);
	wr_free(&out);
	wr_free(&types);
}

static void test_der_edges(void)
{
	static const uint8_t indefinite[] = { 0x30, 0x80, 0x00, 0x00 };
	static const uint8_t huge[] = { 0x30, 0x85, 1, 0, 0, 0, 0 };
	static const uint8_t overrun[] = { 0x30, 0x82, 0xff, 0xff, 0x00 };
	static const uint8_t high_tag[] = { 0x1f, 0x01, 0x00 };
	struct rd r, v;
	uint8_t tag;

	rd_init(&r, indefinite, sizeof(indefinite));
	CHECK(!der_next(&r, &tag, &v));
	rd_init(&r, huge, sizeof(huge));
	CHECK(!der_next(&r, &tag, &v));
	rd_init(&r, overrun, sizeof(overrun));
	CHECK(!der_next(&r, &tag, &v));
	rd_init(&r, high_tag, sizeof(high_tag));
	CHECK(!der_next(&r, &tag, &v));
}

int main(void)
{
	test_server_init();
	test_server_resp();
	test_client_tokens();
	test_samba_kerberos();
	test_kerberos_tokens();
	test_der_edges();
	return unit_result();
}
