/*
 * spnego.c - SPNEGO NegTokenInit / NegTokenResp (RFC 4178 4.2, MS-SPNG).
 *
 *   InitialContextToken ::= [APPLICATION 0] { thisMech OID (SPNEGO),
 *                                             [0] NegTokenInit }
 *   NegTokenInit ::= SEQUENCE { [0] mechTypes SEQUENCE OF OID,
 *                               [1] reqFlags OPTIONAL,
 *                               [2] mechToken OCTET STRING OPTIONAL,
 *                               [3] mechListMIC / negHints OPTIONAL }
 *   NegTokenResp ::= [1] SEQUENCE { [0] negState ENUMERATED OPTIONAL,
 *                                   [1] supportedMech OID OPTIONAL,
 *                                   [2] responseToken OCTET STRING OPTIONAL,
 *                                   [3] mechListMIC OCTET STRING OPTIONAL }
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "asn1.h"
#include "spnego.h"

static const uint8_t oid_spnego[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02 };
static const uint8_t oid_ntlmssp[] = { 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a };
static const uint8_t oid_krb5[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02 };
static const uint8_t oid_ms_krb5[] = { 0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02 };

static const struct {
	unsigned mech;
	const uint8_t *oid;
	size_t len;
} mechs_known[] = {
	{ SPNEGO_MECH_NTLMSSP, oid_ntlmssp, sizeof(oid_ntlmssp) },
	{ SPNEGO_MECH_KRB5, oid_krb5, sizeof(oid_krb5) },
	{ SPNEGO_MECH_MS_KRB5, oid_ms_krb5, sizeof(oid_ms_krb5) },
};

/* The mechanism bit of an OID's contents, 0 if not one we know. */
static unsigned mech_of(const struct rd *oid)
{
	size_t i, n = oid->len;

	for (i = 0; i < sizeof(mechs_known) / sizeof(mechs_known[0]); i++)
		if (n == mechs_known[i].len && memcmp(oid->p, mechs_known[i].oid, n) == 0)
			return mechs_known[i].mech;
	return 0;
}

int spnego_server_mechs(const uint8_t *buf, size_t len, unsigned *mechs)
{
	struct rd r, app, oid, ctx0, seq, field, list, m;
	uint8_t tag;

	*mechs = 0;
	if (len == 0)
		return 0;
	rd_init(&r, buf, len);
	if (!der_expect(&r, DER_APP(0), &app) || !der_expect(&app, DER_OID, &oid))
		return -EPROTO;
	if (oid.len != sizeof(oid_spnego) || memcmp(oid.p, oid_spnego, oid.len) != 0)
		return -EPROTO;
	if (!der_expect(&app, DER_CTX(0), &ctx0) || !der_expect(&ctx0, DER_SEQUENCE, &seq))
		return -EPROTO;
	while (rd_left(&seq)) {
		if (!der_next(&seq, &tag, &field))
			return -EPROTO;
		if (tag != DER_CTX(0))
			continue;	/* reqFlags, negHints: nothing we use */
		if (!der_expect(&field, DER_SEQUENCE, &list))
			return -EPROTO;
		while (rd_left(&list)) {
			if (!der_expect(&list, DER_OID, &m))
				return -EPROTO;
			*mechs |= mech_of(&m);
		}
	}
	return 0;
}

static const uint8_t *mech_oid(enum spnego_mech mech, size_t *len)
{
	size_t i;

	for (i = 0; i < sizeof(mechs_known) / sizeof(mechs_known[0]); i++)
		if (mechs_known[i].mech == (unsigned)mech) {
			*len = mechs_known[i].len;
			return mechs_known[i].oid;
		}
	return NULL;
}

int spnego_init_token(struct wr *out, enum spnego_mech mech,
		      const uint8_t *token, size_t len, struct wr *mechtypes)
{
	size_t oidlen, app, c0, seq, c1, types_at, c2;
	const uint8_t *oid = mech_oid(mech, &oidlen);

	if (!oid)
		return -EINVAL;
	app = der_begin(out, DER_APP(0));
	der_put(out, DER_OID, oid_spnego, sizeof(oid_spnego));
	c0 = der_begin(out, DER_CTX(0));
	seq = der_begin(out, DER_SEQUENCE);
	c1 = der_begin(out, DER_CTX(0));
	types_at = out->len;
	{
		size_t list = der_begin(out, DER_SEQUENCE);

		der_put(out, DER_OID, oid, oidlen);
		der_end(out, list);
	}
	if (mechtypes && !out->bad)
		wr_bytes(mechtypes, out->p + types_at, out->len - types_at);
	der_end(out, c1);
	c2 = der_begin(out, DER_CTX(2));
	der_put(out, DER_OCTET_STRING, token, len);
	der_end(out, c2);
	der_end(out, seq);
	der_end(out, c0);
	der_end(out, app);
	return out->bad || (mechtypes && mechtypes->bad) ? -ENOMEM : 0;
}

int spnego_resp_token(struct wr *out, const uint8_t *token, size_t len,
		      const uint8_t *mic, size_t miclen)
{
	size_t c1, seq, f;

	c1 = der_begin(out, DER_CTX(1));
	seq = der_begin(out, DER_SEQUENCE);
	if (token) {
		f = der_begin(out, DER_CTX(2));
		der_put(out, DER_OCTET_STRING, token, len);
		der_end(out, f);
	}
	if (mic) {
		f = der_begin(out, DER_CTX(3));
		der_put(out, DER_OCTET_STRING, mic, miclen);
		der_end(out, f);
	}
	der_end(out, seq);
	der_end(out, c1);
	return out->bad ? -ENOMEM : 0;
}

int spnego_parse_resp(const uint8_t *buf, size_t len, struct spnego_resp *resp)
{
	struct rd r, c1, seq, field, v;
	uint8_t tag;

	memset(resp, 0, sizeof(*resp));
	resp->state = SPNEGO_ABSENT;
	rd_init(&r, buf, len);
	if (!der_expect(&r, DER_CTX(1), &c1) || !der_expect(&c1, DER_SEQUENCE, &seq))
		return -EPROTO;
	while (rd_left(&seq)) {
		if (!der_next(&seq, &tag, &field))
			return -EPROTO;
		switch (tag) {
		case DER_CTX(0):
			if (!der_expect(&field, DER_ENUMERATED, &v) || v.len != 1)
				return -EPROTO;
			resp->state = (enum spnego_state)v.p[0];
			if (resp->state > SPNEGO_REQUEST_MIC)
				return -EPROTO;
			break;
		case DER_CTX(1):
			if (!der_expect(&field, DER_OID, &v))
				return -EPROTO;
			resp->mech = mech_of(&v);
			if (!resp->mech)
				return -EPROTO;	/* a mechanism we never offered */
			break;
		case DER_CTX(2):
			if (!der_expect(&field, DER_OCTET_STRING, &v))
				return -EPROTO;
			resp->token = v.p;
			resp->token_len = v.len;
			break;
		case DER_CTX(3):
			if (!der_expect(&field, DER_OCTET_STRING, &v))
				return -EPROTO;
			resp->mic = v.p;
			resp->mic_len = v.len;
			break;
		default:
			return -EPROTO;
		}
	}
	return r.bad ? -EPROTO : 0;
}
