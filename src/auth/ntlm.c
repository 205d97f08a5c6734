/*
 * ntlm.c - NTLMSSP client with NTLMv2 (MS-NLMP 2.2, 3.1.5, 3.3.2, 3.4).
 *
 * Why the legacy provider: the NT hash is MD4 and the key exchange and
 * the NTLM signature's checksum use RC4.  OpenSSL 3 keeps both in its
 * "legacy" provider (shipped with libssl3 on Debian).  It is loaded into
 * a private OSSL_LIB_CTX used for these two algorithms only, so nothing
 * else in the process can pick them up by accident, and no MD4 or RC4 of
 * our own has to be carried and reviewed.
 */
#include "config.h"

#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wctype.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

#include "ntlm.h"
#include "utf16.h"
#include "wire.h"

/* --- primitives ---------------------------------------------------------- */

static OSSL_LIB_CTX *legacy_ctx;
static EVP_MD *md4;
static EVP_CIPHER *rc4;
static pthread_once_t legacy_once = PTHREAD_ONCE_INIT;

static void load_legacy(void)
{
	legacy_ctx = OSSL_LIB_CTX_new();
	if (!legacy_ctx)
		return;
	if (!OSSL_PROVIDER_load(legacy_ctx, "legacy") ||
	    !OSSL_PROVIDER_load(legacy_ctx, "default"))
		return;
	md4 = EVP_MD_fetch(legacy_ctx, "MD4", NULL);
	rc4 = EVP_CIPHER_fetch(legacy_ctx, "RC4", NULL);
}

bool ntlm_available(void)
{
	pthread_once(&legacy_once, load_legacy);
	return md4 && rc4;
}

int ntlm_hmac_md5(const uint8_t *key, size_t keylen, const uint8_t *a, size_t alen,
		  const uint8_t *b, size_t blen, uint8_t out[16])
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_utf8_string("digest", (char *)"MD5", 0),
		OSSL_PARAM_END,
	};
	size_t got = 0;
	int ret = -EIO;

	if (ctx && EVP_MAC_init(ctx, key, keylen, params) &&
	    EVP_MAC_update(ctx, a, alen) && (blen == 0 || EVP_MAC_update(ctx, b, blen)) &&
	    EVP_MAC_final(ctx, out, &got, 16) && got == 16)
		ret = 0;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ret;
}

static int md5_two(const uint8_t *a, size_t alen, const char *b, uint8_t out[16])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int got = 0;
	int ret = -EIO;

	if (md && EVP_DigestInit_ex(md, EVP_md5(), NULL) &&
	    EVP_DigestUpdate(md, a, alen) && EVP_DigestUpdate(md, b, strlen(b) + 1) &&
	    EVP_DigestFinal_ex(md, out, &got) && got == 16)
		ret = 0;
	EVP_MD_CTX_free(md);
	return ret;
}

/* A fresh RC4 handle keyed with key (16 bytes). */
static EVP_CIPHER_CTX *rc4_new(const uint8_t key[16])
{
	EVP_CIPHER_CTX *c;

	if (!ntlm_available())
		return NULL;
	c = EVP_CIPHER_CTX_new();
	if (c && !EVP_EncryptInit_ex(c, rc4, NULL, key, NULL)) {
		EVP_CIPHER_CTX_free(c);
		c = NULL;
	}
	return c;
}

static int rc4_apply(EVP_CIPHER_CTX *c, uint8_t *buf, size_t len)
{
	int outl;

	return c && EVP_EncryptUpdate(c, buf, &outl, buf, (int)len) ? 0 : -EIO;
}

int ntlm_nt_hash(const char *password, uint8_t out[16])
{
	EVP_MD_CTX *md = NULL;
	unsigned int got = 0;
	struct wr w;
	int ret = -EIO;

	if (!ntlm_available())
		return -ENOTSUP;
	wr_init(&w);
	/* Room for all of it at once (UTF-16 takes at most twice the bytes
	 * of UTF-8): growing by realloc would free copies of the password
	 * that nothing wipes. */
	if (!wr_reserve(&w, 2 * strlen(password) + 2)) {
		ret = -ENOMEM;
		goto out;
	}
	if (utf16_put(&w, password, strlen(password)) < 0) {
		ret = -EILSEQ;
		goto out;
	}
	md = EVP_MD_CTX_new();
	if (md && EVP_DigestInit_ex(md, md4, NULL) &&
	    EVP_DigestUpdate(md, w.p ? w.p : (const uint8_t *)"", w.len) &&
	    EVP_DigestFinal_ex(md, out, &got) && got == 16)
		ret = 0;
out:
	if (w.p)
		OPENSSL_cleanse(w.p, w.len);
	wr_free(&w);
	EVP_MD_CTX_free(md);
	return ret;
}

/* Upper-case UTF-16LE in place, unit by unit, as Windows' case table
 * does for user names (surrogates are left alone). */
static locale_t upper_loc;
static pthread_once_t upper_once = PTHREAD_ONCE_INIT;

static void load_upper_loc(void)
{
	/* C.UTF-8 is in every glibc since 2.35 and in Debian's before that;
	 * without it only ASCII letters are upper-cased. */
	upper_loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

static void utf16_upper(uint8_t *p, size_t len)
{
	locale_t loc;
	size_t i;
	uint16_t u;
	wint_t up;

	pthread_once(&upper_once, load_upper_loc);
	loc = upper_loc;
	for (i = 0; i + 1 < len; i += 2) {
		u = le16_get(p + i);
		if (u >= 0xD800 && u <= 0xDFFF)
			continue;
		if (u < 0x80)
			up = (u >= 'a' && u <= 'z') ? u - 32 : u;
		else
			up = loc ? towupper_l(u, loc) : u;
		if (up <= 0xFFFF)
			le16_put(p + i, (uint16_t)up);
	}
}

int ntlm_ntowfv2(const uint8_t nt_hash[16], const char *user, const char *domain,
		 uint8_t out[16])
{
	struct wr w;
	long ulen;
	int ret;

	wr_init(&w);
	ulen = utf16_put(&w, user, strlen(user));
	if (ulen < 0 || utf16_put(&w, domain, strlen(domain)) < 0) {
		wr_free(&w);
		return -EILSEQ;
	}
	utf16_upper(w.p, (size_t)ulen);
	ret = ntlm_hmac_md5(nt_hash, 16, w.p ? w.p : (const uint8_t *)"", w.len, NULL, 0, out);
	wr_free(&w);
	return ret;
}

/* --- messages ------------------------------------------------------------ */

static const uint8_t signature[8] = { 'N', 'T', 'L', 'M', 'S', 'S', 'P', 0 };

/* What smbfuse asks for: NTLMv2 with extended session security, 128-bit
 * keys, key exchange, signing and sealing (for the mechListMIC). */
#define CLIENT_FLAGS (NTLMSSP_NEGOTIATE_56 | NTLMSSP_NEGOTIATE_KEY_EXCH | \
	NTLMSSP_NEGOTIATE_128 | NTLMSSP_NEGOTIATE_VERSION | \
	NTLMSSP_NEGOTIATE_TARGET_INFO | NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY | \
	NTLMSSP_NEGOTIATE_ALWAYS_SIGN | NTLMSSP_NEGOTIATE_NTLM | \
	NTLMSSP_NEGOTIATE_SEAL | NTLMSSP_NEGOTIATE_SIGN | \
	NTLMSSP_REQUEST_TARGET | NTLMSSP_NEGOTIATE_UNICODE)

/* MS-NLMP 2.2.2.10 VERSION: 10.0, build 0, NTLM revision 15. */
static void put_version(struct wr *w)
{
	static const uint8_t v[8] = { 10, 0, 0, 0, 0, 0, 0, 0x0F };

	wr_bytes(w, v, sizeof(v));
}

void ntlm_init(struct ntlm_ctx *c)
{
	memset(c, 0, sizeof(*c));
}

void ntlm_free(struct ntlm_ctx *c)
{
	free(c->negotiate_msg);
	EVP_CIPHER_CTX_free(c->client_seal);
	EVP_CIPHER_CTX_free(c->server_seal);
	OPENSSL_cleanse(c, sizeof(*c));
}

/* MS-NLMP 2.2.1.1 NEGOTIATE_MESSAGE (no domain or workstation supplied). */
int ntlm_negotiate(struct ntlm_ctx *c, struct wr *out)
{
	size_t start = out->len;

	if (!ntlm_available())
		return -ENOTSUP;
	wr_bytes(out, signature, 8);
	wr_u32(out, 1);
	wr_u32(out, CLIENT_FLAGS);
	wr_zero(out, 8);	/* DomainNameFields */
	wr_zero(out, 8);	/* WorkstationFields */
	put_version(out);
	if (out->bad)
		return -ENOMEM;
	free(c->negotiate_msg);
	c->negotiate_len = out->len - start;
	c->negotiate_msg = malloc(c->negotiate_len);
	if (!c->negotiate_msg)
		return -ENOMEM;
	memcpy(c->negotiate_msg, out->p + start, c->negotiate_len);
	return 0;
}

/* MS-NLMP 2.2.2.1 AV_PAIR ids. */
#define MSV_AV_EOL 0
#define MSV_AV_FLAGS 6
#define MSV_AV_TIMESTAMP 7
#define MSV_AV_TARGET_NAME 9
#define MSV_AV_CHANNEL_BINDINGS 10
#define MSV_AV_FLAG_MIC_PRESENT 0x00000002u

struct challenge {
	uint32_t flags;
	uint8_t server_challenge[8];
	const uint8_t *target_info;
	size_t target_info_len;
	bool has_timestamp;
	uint64_t timestamp;
	uint32_t av_flags;
};

/* MS-NLMP 2.2.1.2 CHALLENGE_MESSAGE. */
static int parse_challenge(const uint8_t *msg, size_t len, struct challenge *ch)
{
	struct rd r, ti;
	uint16_t ti_len, id, n;
	uint32_t ti_off;
	const uint8_t *sig;
	bool eol = false;

	memset(ch, 0, sizeof(*ch));
	rd_init(&r, msg, len);
	sig = rd_take(&r, 8);
	if (!sig || memcmp(sig, signature, 8) != 0 || rd_u32(&r) != 2)
		return -EPROTO;
	rd_skip(&r, 8);			/* TargetNameFields: not needed */
	ch->flags = rd_u32(&r);
	rd_copy(&r, ch->server_challenge, 8);
	rd_skip(&r, 8);			/* Reserved */
	ti_len = rd_u16(&r);
	rd_skip(&r, 2);
	ti_off = rd_u32(&r);
	if (r.bad)
		return -EPROTO;
	if (!(ch->flags & NTLMSSP_NEGOTIATE_TARGET_INFO) || ti_len == 0)
		return -ENOTSUP;	/* NTLMv2 needs the target info */
	ti = rd_sub(&r, ti_off, ti_len);
	if (r.bad)
		return -EPROTO;
	ch->target_info = ti.p;
	ch->target_info_len = ti.len;
	/* Walk the AV pairs: they must end with MsvAvEOL inside the field. */
	while (rd_left(&ti) && !eol) {
		const uint8_t *v;

		id = rd_u16(&ti);
		n = rd_u16(&ti);
		v = rd_take(&ti, n);
		if (!v)
			return -EPROTO;
		if (id == MSV_AV_EOL)
			eol = true;
		else if (id == MSV_AV_TIMESTAMP && n == 8) {
			ch->has_timestamp = true;
			ch->timestamp = le64_get(v);
		} else if (id == MSV_AV_FLAGS && n == 4)
			ch->av_flags = le32_get(v);
	}
	if (!eol || ti.bad)
		return -EPROTO;
	ch->target_info_len = ti.off;	/* up to and including EOL */
	return 0;
}

/* The AV pairs the client sends back inside its NTLMv2 response: the
 * server's, minus EOL and MsvAvFlags, plus MsvAvFlags (MIC present),
 * zero channel bindings and the target SPN, then EOL. */
static int build_av_pairs(const struct challenge *ch, const struct ntlm_creds *cr,
			  struct wr *w)
{
	struct rd r;
	uint16_t id, n;
	const uint8_t *v;
	size_t at;

	rd_init(&r, ch->target_info, ch->target_info_len);
	while (rd_left(&r)) {
		id = rd_u16(&r);
		n = rd_u16(&r);
		v = rd_take(&r, n);
		if (!v || id == MSV_AV_EOL)
			break;
		if (id == MSV_AV_FLAGS || id == MSV_AV_TARGET_NAME ||
		    id == MSV_AV_CHANNEL_BINDINGS)
			continue;
		wr_u16(w, id);
		wr_u16(w, n);
		wr_bytes(w, v, n);
	}
	wr_u16(w, MSV_AV_FLAGS);
	wr_u16(w, 4);
	wr_u32(w, ch->av_flags | MSV_AV_FLAG_MIC_PRESENT);
	wr_u16(w, MSV_AV_CHANNEL_BINDINGS);
	wr_u16(w, 16);
	wr_zero(w, 16);
	if (cr->target_spn && *cr->target_spn) {
		wr_u16(w, MSV_AV_TARGET_NAME);
		at = w->len;
		wr_u16(w, 0);
		if (utf16_put(w, cr->target_spn, strlen(cr->target_spn)) < 0)
			return -EILSEQ;
		wr_patch_u16(w, at, (uint16_t)(w->len - at - 2));
	}
	wr_u16(w, MSV_AV_EOL);
	wr_u16(w, 0);
	return w->bad ? -ENOMEM : 0;
}

/* Current time as a FILETIME (100 ns since 1601). */
static uint64_t filetime_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec + 11644473600ULL) * 10000000ULL +
	       (uint64_t)ts.tv_nsec / 100;
}

/* Derive the signing and sealing keys and the RC4 handles
 * (MS-NLMP 3.4.5.2, 3.4.5.3, with 128-bit keys). */
static int derive_keys(struct ntlm_ctx *c)
{
	const uint8_t *k = c->session_key;
	int ret;

	ret = md5_two(k, 16, "session key to client-to-server signing key magic constant",
		      c->client_sign_key);
	if (!ret)
		ret = md5_two(k, 16, "session key to server-to-client signing key magic constant",
			      c->server_sign_key);
	if (!ret)
		ret = md5_two(k, 16, "session key to client-to-server sealing key magic constant",
			      c->client_seal_key);
	if (!ret)
		ret = md5_two(k, 16, "session key to server-to-client sealing key magic constant",
			      c->server_seal_key);
	if (ret)
		return ret;
	c->client_seal = rc4_new(c->client_seal_key);
	c->server_seal = rc4_new(c->server_seal_key);
	if (!c->client_seal || !c->server_seal)
		return -EIO;
	c->have_keys = true;
	return 0;
}

/* Append a (Len, MaxLen, Offset) field header at fields_at and its bytes
 * to the payload. */
static void put_field(struct wr *w, size_t start, size_t fields_at,
		      const uint8_t *data, size_t n)
{
	wr_patch_u16(w, fields_at, (uint16_t)n);
	wr_patch_u16(w, fields_at + 2, (uint16_t)n);
	wr_patch_u32(w, fields_at + 4, (uint32_t)(w->len - start));
	wr_bytes(w, data, n);
}

/* Append UTF-16LE of s as a field; returns -EILSEQ for bad UTF-8. */
static int put_str_field(struct wr *w, size_t start, size_t fields_at, const char *s)
{
	size_t at = w->len;
	long n = s ? utf16_put(w, s, strlen(s)) : 0;

	if (n < 0)
		return (int)n;
	wr_patch_u16(w, fields_at, (uint16_t)n);
	wr_patch_u16(w, fields_at + 2, (uint16_t)n);
	wr_patch_u32(w, fields_at + 4, (uint32_t)(at - start));
	return 0;
}

/* Offsets in AUTHENTICATE_MESSAGE (MS-NLMP 2.2.1.3). */
#define AUTH_LM 12
#define AUTH_NT 20
#define AUTH_DOMAIN 28
#define AUTH_USER 36
#define AUTH_WORKSTATION 44
#define AUTH_SESSION_KEY 52
#define AUTH_FLAGS 60
#define AUTH_MIC 72
#define AUTH_PAYLOAD 88

int ntlm_authenticate(struct ntlm_ctx *c, const struct ntlm_creds *cr,
		      const uint8_t *challenge, size_t len,
		      const struct ntlm_fixed *fixed, struct wr *out)
{
	uint8_t nt_hash[16], ntowf[16], proof[16], base_key[16], enc_key[16], lm[24], mic[16];
	uint8_t cc[8];
	const uint8_t *hash;
	struct challenge ch;
	struct wr temp;
	size_t start = out->len;
	uint32_t flags;
	uint64_t now;
	int ret;

	wr_init(&temp);
	if (!ntlm_available())
		return -ENOTSUP;
	ret = parse_challenge(challenge, len, &ch);
	if (ret)
		goto out;
	/* NTLMv2 signing needs extended session security and 128-bit keys;
	 * a server that will not give them is refused, not downgraded. */
	if (!cr->anonymous && (!(ch.flags & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY) ||
			       !(ch.flags & NTLMSSP_NEGOTIATE_128))) {
		ret = -ENOTSUP;
		goto out;
	}
	flags = (CLIENT_FLAGS & ch.flags) | NTLMSSP_NEGOTIATE_UNICODE;
	if (cr->anonymous)
		flags = (flags | NTLMSSP_NEGOTIATE_ANONYMOUS) & ~NTLMSSP_NEGOTIATE_KEY_EXCH;
	c->flags = flags;
	c->anonymous = cr->anonymous;

	/* Header with the fields to be patched, then the payload. */
	wr_bytes(out, signature, 8);
	wr_u32(out, 3);
	wr_zero(out, 6 * 8);
	wr_u32(out, flags);
	put_version(out);
	wr_zero(out, 16);	/* MIC, filled in last */

	if (cr->anonymous) {
		static const uint8_t z = 0;

		/* MS-NLMP 3.1.5.1.2: empty NT response, LM response Z(1),
		 * no session key. */
		ret = put_str_field(out, start, start + AUTH_DOMAIN, "");
		if (!ret)
			ret = put_str_field(out, start, start + AUTH_USER, "");
		if (!ret)
			ret = put_str_field(out, start, start + AUTH_WORKSTATION, cr->workstation);
		put_field(out, start, start + AUTH_LM, &z, 1);
		put_field(out, start, start + AUTH_NT, NULL, 0);
		put_field(out, start, start + AUTH_SESSION_KEY, NULL, 0);
		if (!ret && out->bad)
			ret = -ENOMEM;
		goto out;
	}

	if (fixed) {
		memcpy(cc, fixed->client_challenge, 8);
		memcpy(c->session_key, fixed->exported_session_key, 16);
		now = fixed->time;
	} else {
		if (RAND_bytes(cc, 8) != 1 || RAND_bytes(c->session_key, 16) != 1) {
			ret = -EIO;
			goto out;
		}
		now = filetime_now();
	}
	if (ch.has_timestamp)
		now = ch.timestamp;

	/* A kept hash is used where it is, not copied to the stack. */
	hash = cr->nt_hash;
	ret = 0;
	if (!hash) {
		ret = ntlm_nt_hash(cr->password ? cr->password : "", nt_hash);
		hash = nt_hash;
	}
	if (!ret)
		ret = ntlm_ntowfv2(hash, cr->user ? cr->user : "", cr->domain ? cr->domain : "",
				   ntowf);
	if (ret)
		goto out;

	/* MS-NLMP 3.3.2: temp = 0x01 0x01 Z(6) Time ClientChallenge Z(4)
	 * AvPairs Z(4); NTProofStr = HMAC_MD5(NTOWFv2, ServerChallenge||temp). */
	wr_u8(&temp, 1);
	wr_u8(&temp, 1);
	wr_zero(&temp, 6);
	wr_u64(&temp, now);
	wr_bytes(&temp, cc, 8);
	wr_zero(&temp, 4);
	ret = build_av_pairs(&ch, cr, &temp);
	if (ret)
		goto out;
	wr_zero(&temp, 4);
	if (temp.bad) {
		ret = -ENOMEM;
		goto out;
	}
	ret = ntlm_hmac_md5(ntowf, 16, ch.server_challenge, 8, temp.p, temp.len, proof);
	if (!ret)
		ret = ntlm_hmac_md5(ntowf, 16, proof, 16, NULL, 0, base_key);
	if (ret)
		goto out;
	/* With a server timestamp the LM response is Z(24) (MS-NLMP 3.1.5.1.2);
	 * otherwise LMv2. */
	memset(lm, 0, sizeof(lm));
	if (!ch.has_timestamp) {
		ret = ntlm_hmac_md5(ntowf, 16, ch.server_challenge, 8, cc, 8, lm);
		if (ret)
			goto out;
		memcpy(lm + 16, cc, 8);
	}
	/* KeyExchangeKey = SessionBaseKey for NTLMv2. */
	if (flags & NTLMSSP_NEGOTIATE_KEY_EXCH) {
		EVP_CIPHER_CTX *h = rc4_new(base_key);

		memcpy(enc_key, c->session_key, 16);
		ret = rc4_apply(h, enc_key, 16);
		EVP_CIPHER_CTX_free(h);
		if (ret)
			goto out;
	} else {
		memcpy(c->session_key, base_key, 16);
	}

	ret = put_str_field(out, start, start + AUTH_DOMAIN, cr->domain);
	if (!ret)
		ret = put_str_field(out, start, start + AUTH_USER, cr->user);
	if (!ret)
		ret = put_str_field(out, start, start + AUTH_WORKSTATION, cr->workstation);
	if (ret)
		goto out;
	put_field(out, start, start + AUTH_LM, lm, 24);
	{
		size_t nt_at = out->len;

		wr_bytes(out, proof, 16);
		wr_bytes(out, temp.p, temp.len);
		wr_patch_u16(out, start + AUTH_NT, (uint16_t)(out->len - nt_at));
		wr_patch_u16(out, start + AUTH_NT + 2, (uint16_t)(out->len - nt_at));
		wr_patch_u32(out, start + AUTH_NT + 4, (uint32_t)(nt_at - start));
	}
	if (flags & NTLMSSP_NEGOTIATE_KEY_EXCH)
		put_field(out, start, start + AUTH_SESSION_KEY, enc_key, 16);
	if (out->bad) {
		ret = -ENOMEM;
		goto out;
	}

	/* MIC = HMAC_MD5(ExportedSessionKey, NEGOTIATE || CHALLENGE ||
	 * AUTHENTICATE with the MIC field zero). */
	{
		EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
		EVP_MAC_CTX *m = mac ? EVP_MAC_CTX_new(mac) : NULL;
		OSSL_PARAM params[] = {
			OSSL_PARAM_utf8_string("digest", (char *)"MD5", 0),
			OSSL_PARAM_END,
		};
		size_t got = 0;

		ret = -EIO;
		if (m && EVP_MAC_init(m, c->session_key, 16, params) &&
		    EVP_MAC_update(m, c->negotiate_msg, c->negotiate_len) &&
		    EVP_MAC_update(m, challenge, len) &&
		    EVP_MAC_update(m, out->p + start, out->len - start) &&
		    EVP_MAC_final(m, mic, &got, sizeof(mic)) && got == 16)
			ret = 0;
		EVP_MAC_CTX_free(m);
		EVP_MAC_free(mac);
		if (ret)
			goto out;
		memcpy(out->p + start + AUTH_MIC, mic, 16);
	}
	ret = derive_keys(c);
out:
	if (temp.p)
		OPENSSL_cleanse(temp.p, temp.len);
	wr_free(&temp);
	OPENSSL_cleanse(nt_hash, sizeof(nt_hash));
	OPENSSL_cleanse(ntowf, sizeof(ntowf));
	OPENSSL_cleanse(base_key, sizeof(base_key));
	OPENSSL_cleanse(enc_key, sizeof(enc_key));
	return ret;
}

/* MS-NLMP 3.4.4.2: with extended session security the signature is
 * Version(1) || RC4(HMAC_MD5(SignKey, SeqNum || msg)[0..8]) || SeqNum. */
static int ntlm_signature(const uint8_t *sign_key, void *seal, uint32_t flags,
			  uint32_t seq, const uint8_t *msg, size_t len, uint8_t sig[16])
{
	uint8_t seqb[4], mac[16];
	int ret;

	le32_put(seqb, seq);
	ret = ntlm_hmac_md5(sign_key, 16, seqb, 4, msg, len, mac);
	if (ret)
		return ret;
	if (flags & NTLMSSP_NEGOTIATE_KEY_EXCH) {
		ret = rc4_apply(seal, mac, 8);
		if (ret)
			return ret;
	}
	le32_put(sig, 1);
	memcpy(sig + 4, mac, 8);
	memcpy(sig + 12, seqb, 4);
	return 0;
}

int ntlm_sign(struct ntlm_ctx *c, const uint8_t *msg, size_t len, uint8_t sig[16])
{
	if (!c->have_keys)
		return -EINVAL;
	return ntlm_signature(c->client_sign_key, c->client_seal, c->flags,
			      c->client_seq++, msg, len, sig);
}

int ntlm_verify(struct ntlm_ctx *c, const uint8_t *msg, size_t len, const uint8_t *sig,
		size_t siglen)
{
	uint8_t want[16];
	int ret;

	if (!c->have_keys)
		return -EINVAL;
	ret = ntlm_signature(c->server_sign_key, c->server_seal, c->flags,
			     c->server_seq++, msg, len, want);
	if (ret)
		return ret;
	if (siglen != 16 || CRYPTO_memcmp(want, sig, 16) != 0)
		return -EBADMSG;
	return 0;
}
