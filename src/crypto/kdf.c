/*
 * kdf.c - SMB3 key derivation and the 3.1.1 preauth integrity hash.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "crypto.h"
#include "wire.h"

/*
 * NIST SP800-108 KDF in counter mode, PRF = HMAC-SHA256, r = 32: block i
 * (from 1) is HMAC(Key, [i]_be32 || FixedInput), and the output is the
 * first outlen bytes of the blocks in order.
 */
int kdf_counter_hmac_sha256(const uint8_t *key, size_t keylen,
			    const uint8_t *fixed, size_t fixedlen,
			    uint8_t *out, size_t outlen)
{
	uint8_t be[4], block[32];
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	size_t done = 0, n, got;
	uint32_t i;
	int ret = -EIO;

	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!mac)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	for (i = 1; done < outlen; i++) {
		EVP_MAC_CTX_free(ctx);
		ctx = EVP_MAC_CTX_new(mac);
		be[0] = (uint8_t)(i >> 24); be[1] = (uint8_t)(i >> 16);
		be[2] = (uint8_t)(i >> 8);  be[3] = (uint8_t)i;
		if (!ctx || !EVP_MAC_init(ctx, key, keylen, params) ||
		    !EVP_MAC_update(ctx, be, 4) ||
		    !EVP_MAC_update(ctx, fixed, fixedlen) ||
		    !EVP_MAC_final(ctx, block, &got, sizeof(block)) || got != 32)
			goto out;
		n = outlen - done < 32 ? outlen - done : 32;
		memcpy(out + done, block, n);
		done += n;
	}
	ret = 0;
out:
	OPENSSL_cleanse(block, sizeof(block));
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ret;
}

/* MS-SMB2 3.1.4.2: FixedInput = Label || 0x00 || Context || [L]_be32. */
int smb2_kdf(const uint8_t *key, size_t keylen,
	     const uint8_t *label, size_t labellen,
	     const uint8_t *context, size_t contextlen,
	     uint8_t *out, size_t outlen)
{
	struct wr fixed;
	int ret;

	if (outlen == 0 || outlen > 64)
		return -EINVAL;
	wr_init(&fixed);
	wr_bytes(&fixed, label, labellen);
	wr_u8(&fixed, 0);
	wr_bytes(&fixed, context, contextlen);
	wr_be32(&fixed, (uint32_t)outlen * 8);
	ret = fixed.bad ? -ENOMEM :
		kdf_counter_hmac_sha256(key, keylen, fixed.p, fixed.len, out, outlen);
	wr_free(&fixed);
	return ret;
}

/* The labels and contexts of MS-SMB2 3.2.5.3.1, NUL included. */
#define S(str) (const uint8_t *)(str), sizeof(str)
#define H SMB2_PREAUTH_HASH_SIZE

int smb2_derive_keys(uint16_t dialect, const uint8_t *full_key, size_t full_len,
		     const uint8_t preauth[SMB2_PREAUTH_HASH_SIZE],
		     size_t cipher_key_len, struct smb2_keys *k)
{
	/* Session.SessionKey: the first 16 bytes, zero-padded if shorter. */
	uint8_t sk[16] = { 0 };
	const uint8_t *ekey;
	size_t elen;
	int ret = 0;

	memset(k, 0, sizeof(*k));
	memcpy(sk, full_key, full_len < 16 ? full_len : 16);
	if (cipher_key_len != 16 && cipher_key_len != 32)
		cipher_key_len = 16;
	k->cipher_key_len = cipher_key_len;
	/* AES-256 keys come from the full key when there is one. */
	elen = cipher_key_len == 32 && full_len >= 32 ? full_len : 16;
	ekey = elen == 16 ? sk : full_key;

	if (dialect < 0x0300) {
		memcpy(k->signing, sk, 16);
	} else if (dialect < 0x0311) {
		ret = smb2_kdf(sk, 16, S("SMB2AESCMAC"), S("SmbSign"), k->signing, 16);
		if (!ret)
			ret = smb2_kdf(ekey, elen, S("SMB2AESCCM"), S("ServerIn "),
				       k->encryption, cipher_key_len);
		if (!ret)
			ret = smb2_kdf(ekey, elen, S("SMB2AESCCM"), S("ServerOut"),
				       k->decryption, cipher_key_len);
		if (!ret)
			ret = smb2_kdf(sk, 16, S("SMB2APP"), S("SmbRpc"), k->application, 16);
	} else if (!preauth) {
		ret = -EINVAL;
	} else {
		ret = smb2_kdf(sk, 16, S("SMBSigningKey"), preauth, H, k->signing, 16);
		if (!ret)
			ret = smb2_kdf(ekey, elen, S("SMBC2SCipherKey"), preauth, H,
				       k->encryption, cipher_key_len);
		if (!ret)
			ret = smb2_kdf(ekey, elen, S("SMBS2CCipherKey"), preauth, H,
				       k->decryption, cipher_key_len);
		if (!ret)
			ret = smb2_kdf(sk, 16, S("SMBAppKey"), preauth, H, k->application, 16);
	}
	OPENSSL_cleanse(sk, sizeof(sk));
	if (ret)
		OPENSSL_cleanse(k, sizeof(*k));
	return ret;
}

int smb2_preauth_update(uint8_t hash[SMB2_PREAUTH_HASH_SIZE],
			const uint8_t *msg, size_t len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int got = 0;
	int ret = -EIO;

	if (!md)
		return -ENOMEM;
	if (EVP_DigestInit_ex(md, EVP_sha512(), NULL) &&
	    EVP_DigestUpdate(md, hash, SMB2_PREAUTH_HASH_SIZE) &&
	    EVP_DigestUpdate(md, msg, len) &&
	    EVP_DigestFinal_ex(md, hash, &got) && got == SMB2_PREAUTH_HASH_SIZE)
		ret = 0;
	EVP_MD_CTX_free(md);
	return ret;
}
