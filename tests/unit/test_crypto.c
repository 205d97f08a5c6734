/*
 * Known-answer tests for src/kdf.c, src/sign.c and src/seal.c, with the
 * published values in tests/unit/vectors (see their README.md).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "unit.h"
#include "vectors.h"

#define V(file, name, lenp) vec(file, name, lenp)

static void test_sp800_108(void)
{
	static const char *const counts[] = { "count0", "count10", "count20", "count30" };
	char name[64];
	size_t i, klen, flen, olen, llen;
	uint8_t *ki, *fixed, *ko, *lbits, out[64];

	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "cavp.%s.ki", counts[i]);
		ki = V("sp800-108-kdf.txt", name, &klen);
		snprintf(name, sizeof(name), "cavp.%s.fixed_input_data", counts[i]);
		fixed = V("sp800-108-kdf.txt", name, &flen);
		snprintf(name, sizeof(name), "cavp.%s.ko", counts[i]);
		ko = V("sp800-108-kdf.txt", name, &olen);
		snprintf(name, sizeof(name), "cavp.%s.l_bits", counts[i]);
		lbits = V("sp800-108-kdf.txt", name, &llen);
		CHECK_INT(olen * 8, (size_t)lbits[2] << 8 | lbits[3]);
		CHECK_INT(kdf_counter_hmac_sha256(ki, klen, fixed, flen, out, olen), 0);
		CHECK_MEM(out, ko, olen);
		free(ki); free(fixed); free(ko); free(lbits);
	}
}

/* Compare one derived key with the vector "<prefix>.<what>". */
static void check_key(const char *file, const char *prefix, const char *what,
		      const uint8_t *got, size_t len)
{
	char name[96];
	size_t n;
	uint8_t *want;

	snprintf(name, sizeof(name), "%s.%s", prefix, what);
	want = V(file, name, &n);
	CHECK_INT(n, len);
	CHECK_MEM(got, want, len);
	free(want);
}

static void test_keys_30(void)
{
	static const char *const sessions[] = { "anat30.master", "enc30" };
	struct smb2_keys k;
	char name[96];
	size_t i, n;
	uint8_t *sk;

	for (i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "%s.session_key", sessions[i]);
		sk = V("smb30-kdf.txt", name, &n);
		CHECK_INT(smb2_derive_keys(0x0300, sk, n, NULL, 16, &k), 0);
		check_key("smb30-kdf.txt", sessions[i], "signing_key", k.signing, 16);
		check_key("smb30-kdf.txt", sessions[i], "encryption_key", k.encryption, 16);
		check_key("smb30-kdf.txt", sessions[i], "decryption_key", k.decryption, 16);
		check_key("smb30-kdf.txt", sessions[i], "application_key", k.application, 16);
		free(sk);
	}
	/* Below 3.0 the signing key is the session key itself. */
	sk = V("smb30-kdf.txt", "enc30.session_key", &n);
	CHECK_INT(smb2_derive_keys(0x0210, sk, n, NULL, 16, &k), 0);
	CHECK_MEM(k.signing, sk, 16);
	free(sk);
}

static void test_keys_311(void)
{
	static const char *const sessions[] = { "anat311m", "enc311gcm", "enc311ccm" };
	struct smb2_keys k;
	char name[96];
	size_t i, n, hn;
	uint8_t *sk, *hash;

	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "%s.session_key", sessions[i]);
		sk = V("smb311-kdf.txt", name, &n);
		snprintf(name, sizeof(name), "%s.preauth_hash", sessions[i]);
		hash = V("smb311-kdf.txt", name, &hn);
		CHECK_INT(hn, SMB2_PREAUTH_HASH_SIZE);
		CHECK_INT(smb2_derive_keys(0x0311, sk, n, hash, 16, &k), 0);
		check_key("smb311-kdf.txt", sessions[i], "signing_key", k.signing, 16);
		check_key("smb311-kdf.txt", sessions[i], "encryption_key", k.encryption, 16);
		check_key("smb311-kdf.txt", sessions[i], "decryption_key", k.decryption, 16);
		check_key("smb311-kdf.txt", sessions[i], "application_key", k.application, 16);
		free(sk);
		free(hash);
	}
	CHECK_INT(smb2_derive_keys(0x0311, k.signing, 16, NULL, 16, &k), -EINVAL);
}

/* The four published 3.1.1 preauth chains: hash_n = SHA-512(hash_{n-1} ||
 * message_n), over NEGOTIATE and every SESSION_SETUP but the final
 * response. */
static void test_preauth_chains(void)
{
	static const char *const chains[] = { "anat311m", "anat311c2", "enc311gcm", "enc311ccm" };
	static const char *const steps[] = {
		"step1_negotiate_request", "step2_negotiate_response",
		"step3_session_setup_request1", "step4_session_setup_response1",
		"step5_session_setup_request2",
	};
	uint8_t hash[SMB2_PREAUTH_HASH_SIZE], *msg, *want;
	char name[96];
	size_t c, s, n, wn;

	for (c = 0; c < 4; c++) {
		snprintf(name, sizeof(name), "%s.hash0", chains[c]);
		want = V("smb311-preauth.txt", name, &wn);
		CHECK_INT(wn, sizeof(hash));
		memcpy(hash, want, sizeof(hash));
		free(want);
		for (s = 0; s < 5; s++) {
			snprintf(name, sizeof(name), "%s.%s", chains[c], steps[s]);
			msg = V("smb311-preauth.txt", name, &n);
			CHECK_INT(smb2_preauth_update(hash, msg, n), 0);
			free(msg);
			snprintf(name, sizeof(name), "%s.hash%zu", chains[c], s + 1);
			want = V("smb311-preauth.txt", name, &wn);
			CHECK_MEM(hash, want, sizeof(hash));
			free(want);
		}
	}
}

/* The published message cut into pieces at every place past the header
 * (as a READ's data read into the caller's buffer is): the same
 * verdict, and a change in the last piece is caught. */
static void check_signed_pieces(enum smb2_sign_alg alg, const uint8_t *key, uint8_t *msg,
				size_t mn)
{
	struct iovec iov[3];
	size_t cut;

	for (cut = 64; cut <= mn; cut += 7) {
		iov[0] = (struct iovec){ msg, cut };
		iov[1] = (struct iovec){ msg + cut, (mn - cut) / 2 };
		iov[2] = (struct iovec){ msg + cut + (mn - cut) / 2, mn - cut - (mn - cut) / 2 };
		CHECK_INT(smb2_verify_iov(alg, key, iov, 3), 0);
		if (cut < mn) {
			msg[mn - 1] ^= 0x40;
			CHECK_INT(smb2_verify_iov(alg, key, iov, 3), -EBADMSG);
			msg[mn - 1] ^= 0x40;
		}
	}
	iov[0].iov_len = 63;	/* the header is never cut */
	CHECK_INT(smb2_verify_iov(alg, key, iov, 1), -EINVAL);
}

/* Verify a published signed message; then flip one byte and see it
 * rejected, and re-sign the zeroed message to get the same signature. */
static void check_signed(enum smb2_sign_alg alg, const char *prefix)
{
	char name[128];
	uint8_t *key, *msg, *sig, copy[4096];
	size_t kn, mn, sn;

	snprintf(name, sizeof(name), "%s.key", prefix);
	key = V("smb-signing.txt", name, &kn);
	snprintf(name, sizeof(name), "%s.message", prefix);
	msg = V("smb-signing.txt", name, &mn);
	snprintf(name, sizeof(name), "%s.signature", prefix);
	sig = V("smb-signing.txt", name, &sn);
	CHECK_INT(kn, 16);
	CHECK(mn <= sizeof(copy));
	CHECK_MEM(msg + SMB2_SIGNATURE_OFFSET, sig, 16);
	CHECK_INT(smb2_verify(alg, key, msg, mn), 0);

	memcpy(copy, msg, mn);
	memset(copy + SMB2_SIGNATURE_OFFSET, 0, 16);
	CHECK_INT(smb2_sign(alg, key, copy, mn), 0);
	CHECK_MEM(copy, msg, mn);

	copy[mn - 1] ^= 0x01;
	CHECK_INT(smb2_verify(alg, key, copy, mn), -EBADMSG);
	copy[mn - 1] ^= 0x01;
	check_signed_pieces(alg, key, copy, mn);
	free(key); free(msg); free(sig);
}

static void test_signing(void)
{
	check_signed(SMB2_SIGN_AES_CMAC, "enc311gcm.final_session_setup_response");
	check_signed(SMB2_SIGN_AES_CMAC, "enc311ccm.final_session_setup_response");
	check_signed(SMB2_SIGN_AES_CMAC, "anat311m.final_session_setup_response");
	check_signed(SMB2_SIGN_AES_CMAC, "anat311c2.binding_request1");
	check_signed(SMB2_SIGN_AES_CMAC, "anat311c2.binding_response1");
	check_signed(SMB2_SIGN_AES_CMAC, "anat311c2.binding_request2");
	check_signed(SMB2_SIGN_AES_CMAC, "anat311c2.binding_final_response");
	check_signed(SMB2_SIGN_HMAC_SHA256, "smblibrary.hmac_test1");
	check_signed(SMB2_SIGN_HMAC_SHA256, "smblibrary.hmac_test2");
}

static void test_signing_30(void)
{
	size_t kn, mn, sn;
	uint8_t *sk = V("smb-signing.txt", "gosmb2.session_key", &kn);
	uint8_t *skey = V("smb-signing.txt", "gosmb2.signing_key", &sn);
	uint8_t *msg = V("smb-signing.txt", "gosmb2.message", &mn);
	struct smb2_keys k;

	CHECK_INT(smb2_derive_keys(0x0300, sk, kn, NULL, 16, &k), 0);
	CHECK_MEM(k.signing, skey, 16);
	CHECK_INT(smb2_verify(SMB2_SIGN_AES_CMAC, k.signing, msg, mn), 0);
	free(sk); free(skey); free(msg);
}

/* No published SMB GMAC vector exists; check what can be checked: the
 * direction bit is covered (a response signature differs from the same
 * message as a request), and any change to the message is caught. */
static void test_gmac(void)
{
	uint8_t key[16] = { 1, 2, 3 }, msg[100] = { 0xfe, 'S', 'M', 'B', 64 }, sig1[16], sig2[16];

	msg[24] = 7;	/* MessageId */
	CHECK_INT(smb2_sign(SMB2_SIGN_AES_GMAC, key, msg, sizeof(msg)), 0);
	CHECK_INT(smb2_verify(SMB2_SIGN_AES_GMAC, key, msg, sizeof(msg)), 0);
	memcpy(sig1, msg + 48, 16);
	msg[16] |= 0x01;	/* SMB2_FLAGS_SERVER_TO_REDIR */
	CHECK_INT(smb2_verify(SMB2_SIGN_AES_GMAC, key, msg, sizeof(msg)), -EBADMSG);
	CHECK_INT(smb2_sign_calc(SMB2_SIGN_AES_GMAC, key, msg, sizeof(msg), sig2), 0);
	CHECK(memcmp(sig1, sig2, 16) != 0);
	CHECK_INT(smb2_sign_calc(SMB2_SIGN_AES_GMAC, key, msg, 10, sig2), -EINVAL);
}

/* The pieces forms against the published transform (want, still
 * encrypted): encrypting the plaintext in three pieces gives the same
 * bytes, and (GCM) decrypting as a stream gives the plaintext, with a
 * flipped bit anywhere caught at the end. */
static void check_transform_pieces(enum smb2_cipher c, const uint8_t *key, uint64_t sid,
				   const uint8_t *want, const uint8_t *plain, size_t pn)
{
	size_t wn = pn + SMB2_TRANSFORM_HEADER_SIZE, a = pn / 3, b = pn / 2, i;
	struct iovec iov[3] = { { (void *)plain, a }, { (void *)(plain + a), b - a },
				{ (void *)(plain + b), pn - b } };
	uint8_t *out = malloc(wn), *ref = malloc(wn), *clear = malloc(pn);
	struct smb2_decryptor d;
	int ret;

	CHECK_INT(smb2_encrypt(c, key, sid, want + 20, plain, pn, ref), 0);
	CHECK_INT(smb2_encrypt_iov(c, key, sid, want + 20, iov, 3, out), 0);
	CHECK_MEM(out, ref, wn);
	ret = smb2_decrypt_begin(&d, c, key, want, pn);
	if (c == SMB2_CIPHER_AES128_CCM || c == SMB2_CIPHER_AES256_CCM) {
		CHECK_INT(ret, -EOPNOTSUPP);
		goto out;
	}
	CHECK_INT(ret, 0);
	for (i = 0; i < pn; i += 13)
		CHECK_INT(smb2_decrypt_update(&d, want + SMB2_TRANSFORM_HEADER_SIZE + i, clear + i,
					      pn - i < 13 ? pn - i : 13), 0);
	CHECK_INT(smb2_decrypt_finish(&d), 0);
	CHECK_MEM(clear, plain, pn);
	/* Every byte of ciphertext and the AAD counts. */
	memcpy(out, want, wn);
	out[wn - 1] ^= 0x01;
	CHECK_INT(smb2_decrypt_begin(&d, c, key, out, pn), 0);
	CHECK_INT(smb2_decrypt_update(&d, out + SMB2_TRANSFORM_HEADER_SIZE, clear, pn), 0);
	CHECK_INT(smb2_decrypt_finish(&d), -EBADMSG);
	/* Not all of it given: never authentic. */
	CHECK_INT(smb2_decrypt_begin(&d, c, key, want, pn), 0);
	CHECK_INT(smb2_decrypt_update(&d, want + SMB2_TRANSFORM_HEADER_SIZE, clear, pn - 1), 0);
	CHECK_INT(smb2_decrypt_finish(&d), -EBADMSG);
	/* A size that is not the header's is refused up front. */
	CHECK_INT(smb2_decrypt_begin(&d, c, key, want, pn + 1), -EPROTO);
out:
	free(out);
	free(ref);
	free(clear);
}

/* Encrypt the plaintext with the published nonce and compare the whole
 * transformed message; decrypt it back; a flipped bit is -EBADMSG. */
static void check_transform(enum smb2_cipher c, const char *file_prefix, const char *msg_prefix,
			    const uint8_t *session_id_le)
{
	char name[128];
	uint8_t *key, *nonce, *plain, *want, *out;
	size_t kn, nn, pn, wn;
	uint64_t sid = 0;
	int i;

	snprintf(name, sizeof(name), "%s.key", msg_prefix);
	key = V("smb-encryption.txt", name, &kn);
	snprintf(name, sizeof(name), "%s.nonce_field", msg_prefix);
	nonce = V("smb-encryption.txt", name, &nn);
	snprintf(name, sizeof(name), "%s.plaintext", msg_prefix);
	plain = V("smb-encryption.txt", name, &pn);
	snprintf(name, sizeof(name), "%s.transformed", msg_prefix);
	want = V("smb-encryption.txt", name, &wn);
	(void)file_prefix;
	for (i = 7; i >= 0; i--)
		sid = sid << 8 | session_id_le[i];
	CHECK_INT(kn, smb2_cipher_key_size(c));
	CHECK_INT(wn, pn + SMB2_TRANSFORM_HEADER_SIZE);
	out = malloc(wn);
	CHECK_INT(smb2_encrypt(c, key, sid, nonce, plain, pn, out), 0);
	/* The published nonce field may carry bytes past the AEAD nonce
	 * (BLOG-ENC30); they are in the AAD, so copy them before comparing. */
	memcpy(out + 20, want + 20, 16);
	if (memcmp(nonce + smb2_cipher_nonce_size(c), "\0\0\0\0\0", 16 - smb2_cipher_nonce_size(c)) == 0)
		CHECK_MEM(out, want, wn);
	check_transform_pieces(c, key, sid, want, plain, pn);
	CHECK_INT(smb2_decrypt(c, key, want, wn), (long)pn);
	CHECK_MEM(want + SMB2_TRANSFORM_HEADER_SIZE, plain, pn);
	free(want);
	want = V("smb-encryption.txt", name, &wn);
	want[wn - 1] ^= 0x80;
	CHECK_INT(smb2_decrypt(c, key, want, wn), -EBADMSG);
	want[wn - 1] ^= 0x80;
	want[30] ^= 0x01;	/* the AAD is covered too */
	CHECK_INT(smb2_decrypt(c, key, want, wn), -EBADMSG);
	free(key); free(nonce); free(plain); free(want); free(out);
}

static void test_encryption(void)
{
	static const char *const msgs[] = { "w_req", "w_resp", "r_req", "r_resp" };
	static const struct { const char *set; enum smb2_cipher c; } sets[] = {
		{ "enc30", SMB2_CIPHER_AES128_CCM },
		{ "enc311gcm", SMB2_CIPHER_AES128_GCM },
		{ "enc311ccm", SMB2_CIPHER_AES128_CCM },
	};
	static const struct { const char *name; enum smb2_cipher c; } synth[] = {
		{ "smbprotocol.aes128ccm", SMB2_CIPHER_AES128_CCM },
		{ "smbprotocol.aes128gcm", SMB2_CIPHER_AES128_GCM },
		{ "smbprotocol.aes256ccm", SMB2_CIPHER_AES256_CCM },
		{ "smbprotocol.aes256gcm", SMB2_CIPHER_AES256_GCM },
	};
	static const uint8_t synth_sid[8] = { 1 };
	char name[96];
	size_t s, m, n;
	uint8_t *sid;

	for (s = 0; s < 3; s++) {
		snprintf(name, sizeof(name), "%s.session_id", sets[s].set);
		sid = V("smb-encryption.txt", name, &n);
		for (m = 0; m < 4; m++) {
			snprintf(name, sizeof(name), "%s.%s", sets[s].set, msgs[m]);
			check_transform(sets[s].c, sets[s].set, name, sid);
		}
		free(sid);
	}
	for (s = 0; s < 4; s++)
		check_transform(synth[s].c, "", synth[s].name, synth_sid);
}

static void test_transform_malformed(void)
{
	uint8_t key[16] = { 0 }, frame[80] = { 0xfd, 'S', 'M', 'B' };

	CHECK_INT(smb2_decrypt(SMB2_CIPHER_AES128_GCM, key, frame, 40), -EPROTO);
	/* OriginalMessageSize larger than what follows */
	frame[36] = 200;
	frame[42] = 1;
	CHECK_INT(smb2_decrypt(SMB2_CIPHER_AES128_GCM, key, frame, sizeof(frame)), -EPROTO);
	frame[36] = sizeof(frame) - 52;
	frame[0] = 0xfe;
	CHECK_INT(smb2_decrypt(SMB2_CIPHER_AES128_GCM, key, frame, sizeof(frame)), -EPROTO);
}

int main(void)
{
	test_sp800_108();
	test_keys_30();
	test_keys_311();
	test_preauth_chains();
	test_signing();
	test_signing_30();
	test_gmac();
	test_encryption();
	test_transform_malformed();
	return unit_result();
}
