/*
 * Known-answer tests for src/ntlm.c (MS-NLMP 4.2.4 and a real Windows
 * 10 exchange with MIC, see vectors/ntlmv2.txt), and a self-check of the
 * AUTHENTICATE message smbfuse builds.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ntlm.h"
#include "unit.h"
#include "vectors.h"
#include "wire.h"

#define F "ntlmv2.txt"

static void check_vec(const uint8_t *got, const char *name, size_t len)
{
	size_t n;
	uint8_t *want = vec(F, name, &n);

	CHECK_INT(n, len);
	CHECK_MEM(got, want, len);
	free(want);
}

/* MS-NLMP 4.2.4: NT hash, NTOWFv2, NTProofStr, SessionBaseKey. */
static void test_nlmp(void)
{
	uint8_t hash[16], ntowf[16], proof[16], base[16];
	size_t sn, tn;
	uint8_t *sc = vec(F, "nlmp.server_challenge", &sn);
	uint8_t *temp = vec(F, "nlmp.v2.temp", &tn);

	CHECK_INT(ntlm_nt_hash("Password", hash), 0);
	check_vec(hash, "nlmp.nt_hash", 16);
	/* Longer than the writer's first buffer (256 bytes of UTF-16):
	 * 150 'x' and 100 U+00E9, hashed by openssl dgst -md4 over the
	 * UTF-16LE. */
	{
		static const uint8_t want[16] = {
			0x83, 0x25, 0xfe, 0x52, 0xbb, 0x7c, 0x12, 0x20,
			0x65, 0xdf, 0xca, 0x9a, 0x55, 0xbb, 0x20, 0x82,
		};
		uint8_t got[16];
		char pw[151 + 200];
		size_t i;

		memset(pw, 'x', 150);
		for (i = 0; i < 100; i++)
			memcpy(pw + 150 + 2 * i, "\xc3\xa9", 2);
		pw[350] = '\0';
		CHECK_INT(ntlm_nt_hash(pw, got), 0);
		CHECK_MEM(got, want, 16);
	}
	CHECK_INT(ntlm_ntowfv2(hash, "User", "Domain", ntowf), 0);
	check_vec(ntowf, "nlmp.v2.ntowfv2", 16);
	/* User names are upper-cased, domains are not. */
	CHECK_INT(ntlm_ntowfv2(hash, "uSeR", "Domain", proof), 0);
	CHECK_MEM(proof, ntowf, 16);
	CHECK_INT(ntlm_ntowfv2(hash, "User", "DOMAIN", proof), 0);
	CHECK(memcmp(proof, ntowf, 16) != 0);

	CHECK_INT(ntlm_hmac_md5(ntowf, 16, sc, sn, temp, tn, proof), 0);
	check_vec(proof, "nlmp.v2.ntproofstr", 16);
	CHECK_INT(ntlm_hmac_md5(ntowf, 16, proof, 16, NULL, 0, base), 0);
	check_vec(base, "nlmp.v2.session_base_key", 16);
	free(sc);
	free(temp);
}

/* The Windows exchange: the same formulas reproduce its NTProofStr, and
 * its MIC covers NEGOTIATE || CHALLENGE || AUTHENTICATE (MIC zeroed). */
static void test_windows_exchange(void)
{
	uint8_t hash[16], ntowf[16], proof[16], mic[16], *auth2;
	size_t sn, tn, nn, cn, an, en;
	uint8_t *sc = vec(F, "anat.server_challenge", &sn);
	uint8_t *temp = vec(F, "anat.temp", &tn);
	uint8_t *neg = vec(F, "anat.negotiate_message", &nn);
	uint8_t *chal = vec(F, "anat.challenge_message", &cn);
	uint8_t *auth = vec(F, "anat.authenticate_message", &an);
	uint8_t *exported = vec(F, "anat.exported_session_key", &en);

	CHECK_INT(ntlm_nt_hash("Password01!", hash), 0);
	check_vec(hash, "anat.nt_hash", 16);
	CHECK_INT(ntlm_ntowfv2(hash, "administrator", "SUT311", ntowf), 0);
	check_vec(ntowf, "anat.ntowfv2", 16);
	CHECK_INT(ntlm_hmac_md5(ntowf, 16, sc, sn, temp, tn, proof), 0);
	check_vec(proof, "anat.ntproofstr", 16);

	auth2 = malloc(an);
	memcpy(auth2, auth, an);
	memset(auth2 + 72, 0, 16);
	{
		struct wr all;

		wr_init(&all);
		wr_bytes(&all, neg, nn);
		wr_bytes(&all, chal, cn);
		wr_bytes(&all, auth2, an);
		CHECK_INT(ntlm_hmac_md5(exported, 16, all.p, all.len, NULL, 0, mic), 0);
		wr_free(&all);
	}
	check_vec(mic, "anat.mic", 16);
	CHECK_MEM(auth + 72, mic, 16);
	free(auth2);
	free(sc); free(temp); free(neg); free(chal); free(auth); free(exported);
}

/* Build an AUTHENTICATE for the Windows CHALLENGE with the Windows
 * exported session key fixed: the signing and sealing keys and the
 * SPNEGO mechListMICs must then be the published ones; and everything
 * inside our own message must check out. */
static void test_authenticate(void)
{
	struct ntlm_creds cr = {
		.user = "administrator", .domain = "SUT311", .password = "Password01!",
		.workstation = "SMBFUSE", .target_spn = "cifs/server",
	};
	struct ntlm_fixed fx = { .client_challenge = { 1, 2, 3, 4, 5, 6, 7, 8 }, .time = 1 };
	struct ntlm_ctx c;
	struct wr neg, auth;
	struct rd r;
	size_t cn, en, tn, sn;
	uint8_t *chal = vec(F, "anat.challenge_message", &cn);
	uint8_t *exported = vec(F, "anat.exported_session_key", &en);
	uint8_t *types = vec(F, "anat.spnego_mechtypes_der", &tn);
	uint8_t *server_mic = vec(F, "anat.spnego_server_mechlistmic", &sn);
	uint8_t hash[16], ntowf[16], proof[16], base[16], mic[16], sig[16], *sc;
	uint16_t nt_len, key_len;
	uint32_t nt_off, key_off;

	memcpy(fx.exported_session_key, exported, 16);
	ntlm_init(&c);
	wr_init(&neg);
	wr_init(&auth);
	CHECK_INT(ntlm_negotiate(&c, &neg), 0);
	CHECK_INT(neg.len, 40);
	CHECK_INT(ntlm_authenticate(&c, &cr, chal, cn, &fx, &auth), 0);
	CHECK_MEM(c.session_key, exported, 16);
	check_vec(c.client_sign_key, "anat.client_signing_key", 16);
	check_vec(c.server_sign_key, "anat.server_signing_key", 16);
	check_vec(c.client_seal_key, "anat.client_sealing_key", 16);
	check_vec(c.server_seal_key, "anat.server_sealing_key", 16);

	CHECK_INT(ntlm_sign(&c, types, tn, sig), 0);
	check_vec(sig, "anat.spnego_client_mechlistmic", 16);
	CHECK_INT(ntlm_verify(&c, types, tn, server_mic, sn), 0);
	/* The server's sequence number moved on: a replay fails. */
	CHECK_INT(ntlm_verify(&c, types, tn, server_mic, sn), -EBADMSG);

	/* Our message: NTProofStr over its own temp, the key exchange, MIC. */
	rd_init(&r, auth.p, auth.len);
	rd_skip(&r, 20);
	nt_len = rd_u16(&r); rd_skip(&r, 2); nt_off = rd_u32(&r);
	rd_seek(&r, 52);
	key_len = rd_u16(&r); rd_skip(&r, 2); key_off = rd_u32(&r);
	CHECK(!r.bad && nt_len > 16 && range_ok(auth.len, nt_off, nt_len));
	CHECK(key_len == 16 && range_ok(auth.len, key_off, 16));
	if (!r.bad && range_ok(auth.len, nt_off, nt_len) && nt_len > 16) {
		sc = chal + 24;	/* ServerChallenge */
		ntlm_nt_hash("Password01!", hash);
		ntlm_ntowfv2(hash, "administrator", "SUT311", ntowf);
		ntlm_hmac_md5(ntowf, 16, sc, 8, auth.p + nt_off + 16, nt_len - 16, proof);
		CHECK_MEM(auth.p + nt_off, proof, 16);
		/* The client challenge sits at offset 16 of temp. */
		CHECK_MEM(auth.p + nt_off + 16 + 16, fx.client_challenge, 8);
		ntlm_hmac_md5(ntowf, 16, proof, 16, NULL, 0, base);
		{
			struct wr all;
			uint8_t zeroed[1024];

			wr_init(&all);
			wr_bytes(&all, neg.p, neg.len);
			wr_bytes(&all, chal, cn);
			memcpy(zeroed, auth.p, auth.len);
			memset(zeroed + 72, 0, 16);
			wr_bytes(&all, zeroed, auth.len);
			ntlm_hmac_md5(exported, 16, all.p, all.len, NULL, 0, mic);
			CHECK_MEM(auth.p + 72, mic, 16);
			wr_free(&all);
		}
	}
	ntlm_free(&c);
	wr_free(&neg);
	wr_free(&auth);
	free(chal); free(exported); free(types); free(server_mic);
}

/* One AUTHENTICATE for the Windows CHALLENGE with every random input
 * fixed; 0 or the error. */
static int authenticate_fixed(const struct ntlm_creds *cr, struct wr *auth)
{
	struct ntlm_fixed fx = { .client_challenge = { 8, 7, 6, 5, 4, 3, 2, 1 }, .time = 2,
				 .exported_session_key = { 0x55, 0xAA } };
	struct ntlm_ctx c;
	struct wr neg;
	size_t cn;
	uint8_t *chal = vec(F, "anat.challenge_message", &cn);
	int ret;

	ntlm_init(&c);
	wr_init(&neg);
	ret = ntlm_negotiate(&c, &neg);
	if (!ret)
		ret = ntlm_authenticate(&c, cr, chal, cn, &fx, auth);
	ntlm_free(&c);
	wr_free(&neg);
	free(chal);
	return ret;
}

/* A kept NT hash stands in for the password: the same message, byte for
 * byte (NT response, encrypted session key, MIC); and with both given
 * the hash is what counts.  (The signing keys come from the fixed
 * exported session key, so comparing them would show nothing.) */
static void test_nt_hash_creds(void)
{
	struct ntlm_creds by_pw = {
		.user = "administrator", .domain = "SUT311", .password = "Password01!",
		.workstation = "SMBFUSE", .target_spn = "cifs/server",
	};
	struct ntlm_creds by_hash = by_pw, both = by_pw;
	uint8_t hash[16];
	struct wr a_pw, a_hash, a_both;

	CHECK_INT(ntlm_nt_hash("Password01!", hash), 0);
	by_hash.password = NULL;
	by_hash.nt_hash = hash;
	both.password = "not the password";
	both.nt_hash = hash;
	wr_init(&a_pw);
	wr_init(&a_hash);
	wr_init(&a_both);
	CHECK_INT(authenticate_fixed(&by_pw, &a_pw), 0);
	CHECK_INT(authenticate_fixed(&by_hash, &a_hash), 0);
	CHECK_INT(authenticate_fixed(&both, &a_both), 0);
	CHECK(a_pw.len > 88);
	CHECK_INT(a_hash.len, a_pw.len);
	CHECK_INT(a_both.len, a_pw.len);
	if (a_hash.len == a_pw.len && a_both.len == a_pw.len) {
		CHECK_MEM(a_hash.p, a_pw.p, a_pw.len);
		CHECK_MEM(a_both.p, a_pw.p, a_pw.len);
	}
	/* And the message does depend on the hash (the MIC at 72 does). */
	hash[0] ^= 1;
	wr_free(&a_hash);
	wr_init(&a_hash);
	CHECK_INT(authenticate_fixed(&by_hash, &a_hash), 0);
	CHECK(a_hash.len == a_pw.len && memcmp(a_hash.p + 72, a_pw.p + 72, 16) != 0);
	wr_free(&a_pw);
	wr_free(&a_hash);
	wr_free(&a_both);
}

/* Every truncation of a real CHALLENGE is refused cleanly, and so is a
 * target info that runs past the message. */
static void test_bad_challenge(void)
{
	struct ntlm_creds cr = { .user = "u", .domain = "d", .password = "p" };
	struct ntlm_ctx c;
	struct wr neg, auth;
	size_t cn, i;
	uint8_t *chal = vec(F, "anat.challenge_message", &cn);

	for (i = 0; i < cn; i++) {
		ntlm_init(&c);
		wr_init(&neg);
		wr_init(&auth);
		ntlm_negotiate(&c, &neg);
		CHECK(ntlm_authenticate(&c, &cr, chal, i, NULL, &auth) < 0);
		ntlm_free(&c);
		wr_free(&neg);
		wr_free(&auth);
	}
	chal[40] = 0xff;	/* TargetInfoLen */
	chal[41] = 0x7f;
	ntlm_init(&c);
	wr_init(&neg);
	wr_init(&auth);
	ntlm_negotiate(&c, &neg);
	CHECK_INT(ntlm_authenticate(&c, &cr, chal, cn, NULL, &auth), -EPROTO);
	ntlm_free(&c);
	wr_free(&neg);
	wr_free(&auth);
	free(chal);
}

int main(void)
{
	if (!ntlm_available()) {
		fprintf(stderr, "OpenSSL legacy provider (MD4, RC4) not available\n");
		return 1;
	}
	test_nlmp();
	test_windows_exchange();
	test_authenticate();
	test_nt_hash_creds();
	test_bad_challenge();
	return unit_result();
}
