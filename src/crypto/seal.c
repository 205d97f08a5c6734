/*
 * seal.c - the SMB3 transform: AES-CCM / AES-GCM encryption of whole
 * messages (MS-SMB2 2.2.41 TRANSFORM_HEADER, 3.1.4.3).
 *
 * TRANSFORM_HEADER, 52 bytes:
 *   0 ProtocolId 0xFD 'S' 'M' 'B'   4 Signature (the AEAD tag, 16)
 *  20 Nonce (16; CCM uses the first 11 bytes, GCM the first 12)
 *  36 OriginalMessageSize (4)      40 Reserved (2)
 *  42 Flags / EncryptionAlgorithm (2) = 0x0001 (encrypted)
 *  44 SessionId (8)
 * The additional authenticated data is bytes 20..51: the whole Nonce
 * field through SessionId.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/uio.h>

#include <openssl/evp.h>

#include "crypto.h"
#include "wire.h"

#define TH_SIGNATURE 4
#define TH_NONCE 20
#define TH_SIZE 36
#define TH_FLAGS 42
#define TH_SESSION_ID 44
#define TH_AAD_LEN (SMB2_TRANSFORM_HEADER_SIZE - TH_NONCE)
#define TAG_SIZE 16

const char *smb2_cipher_name(enum smb2_cipher c)
{
	switch (c) {
	case SMB2_CIPHER_NONE: return "none";
	case SMB2_CIPHER_AES128_CCM: return "AES-128-CCM";
	case SMB2_CIPHER_AES128_GCM: return "AES-128-GCM";
	case SMB2_CIPHER_AES256_CCM: return "AES-256-CCM";
	case SMB2_CIPHER_AES256_GCM: return "AES-256-GCM";
	}
	return "unknown";
}

size_t smb2_cipher_key_size(enum smb2_cipher c)
{
	switch (c) {
	case SMB2_CIPHER_AES128_CCM:
	case SMB2_CIPHER_AES128_GCM: return 16;
	case SMB2_CIPHER_AES256_CCM:
	case SMB2_CIPHER_AES256_GCM: return 32;
	default: return 0;
	}
}

size_t smb2_cipher_nonce_size(enum smb2_cipher c)
{
	switch (c) {
	case SMB2_CIPHER_AES128_CCM:
	case SMB2_CIPHER_AES256_CCM: return 11;
	case SMB2_CIPHER_AES128_GCM:
	case SMB2_CIPHER_AES256_GCM: return 12;
	default: return 0;
	}
}

static const EVP_CIPHER *evp_cipher(enum smb2_cipher c)
{
	switch (c) {
	case SMB2_CIPHER_AES128_CCM: return EVP_aes_128_ccm();
	case SMB2_CIPHER_AES128_GCM: return EVP_aes_128_gcm();
	case SMB2_CIPHER_AES256_CCM: return EVP_aes_256_ccm();
	case SMB2_CIPHER_AES256_GCM: return EVP_aes_256_gcm();
	default: return NULL;
	}
}

static bool is_ccm(enum smb2_cipher c)
{
	return c == SMB2_CIPHER_AES128_CCM || c == SMB2_CIPHER_AES256_CCM;
}

/* Set up ctx for one message: cipher, nonce length, (CCM) tag length and
 * total length, key and nonce, then the AAD.  With a tag given (decrypt),
 * CCM needs it before the data and GCM may have it at any point. */
static int aead_begin(EVP_CIPHER_CTX *ctx, enum smb2_cipher c, int enc,
		      const uint8_t *key, const uint8_t *hdr, size_t len,
		      uint8_t *tag)
{
	size_t noncelen = smb2_cipher_nonce_size(c);
	int outl;

	if (!EVP_CipherInit_ex(ctx, evp_cipher(c), NULL, NULL, NULL, enc) ||
	    !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, (int)noncelen, NULL))
		return -EIO;
	if (is_ccm(c) &&
	    !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_SIZE, enc ? NULL : tag))
		return -EIO;
	if (!EVP_CipherInit_ex(ctx, NULL, NULL, key, hdr + TH_NONCE, enc))
		return -EIO;
	if (is_ccm(c) && !EVP_CipherUpdate(ctx, NULL, &outl, NULL, (int)len))
		return -EIO;
	if (!EVP_CipherUpdate(ctx, NULL, &outl, hdr + TH_NONCE, TH_AAD_LEN))
		return -EIO;
	return 0;
}

int smb2_encrypt_iov(enum smb2_cipher c, const uint8_t *key, uint64_t session_id,
		     const uint8_t *nonce, const struct iovec *iov, int niov, uint8_t *out)
{
	uint8_t *dst = out + SMB2_TRANSFORM_HEADER_SIZE;
	EVP_CIPHER_CTX *ctx = NULL;
	size_t len = 0, pos = 0;
	int outl, fin, ret, i;

	for (i = 0; i < niov; i++)
		len += iov[i].iov_len;
	if (!evp_cipher(c) || len > INT32_MAX)
		return -EINVAL;
	memset(out, 0, SMB2_TRANSFORM_HEADER_SIZE);
	out[0] = 0xFD; out[1] = 'S'; out[2] = 'M'; out[3] = 'B';
	memcpy(out + TH_NONCE, nonce, smb2_cipher_nonce_size(c));
	le32_put(out + TH_SIZE, (uint32_t)len);
	le16_put(out + TH_FLAGS, 0x0001);
	le64_put(out + TH_SESSION_ID, session_id);

	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return -ENOMEM;
	ret = aead_begin(ctx, c, 1, key, out, len, NULL);
	if (ret)
		goto out;
	ret = -EIO;
	if (is_ccm(c)) {
		/* OpenSSL's CCM takes the whole message in one update:
		 * gather it first, then encrypt in place. */
		for (i = 0; i < niov; i++) {
			if (iov[i].iov_len)
				memcpy(dst + pos, iov[i].iov_base, iov[i].iov_len);
			pos += iov[i].iov_len;
		}
		if (!EVP_CipherUpdate(ctx, dst, &outl, dst, (int)len))
			goto out;
		pos = (size_t)outl;
	} else {
		for (i = 0; i < niov; i++) {
			if (!iov[i].iov_len)
				continue;
			if (!EVP_CipherUpdate(ctx, dst + pos, &outl, iov[i].iov_base,
					      (int)iov[i].iov_len))
				goto out;
			pos += (size_t)outl;
		}
	}
	if (!EVP_CipherFinal_ex(ctx, dst + pos, &fin) ||
	    !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_SIZE, out + TH_SIGNATURE))
		goto out;
	ret = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return ret;
}

int smb2_encrypt(enum smb2_cipher c, const uint8_t *key, uint64_t session_id,
		 const uint8_t *nonce, const uint8_t *msg, size_t len,
		 uint8_t *out)
{
	struct iovec one = { (void *)msg, len };

	return smb2_encrypt_iov(c, key, session_id, nonce, &one, 1, out);
}

/* A received TRANSFORM_HEADER that describes clen bytes of ciphertext:
 * OriginalMessageSize must be exactly that, and the Flags "encrypted". */
static int check_transform(const uint8_t *hdr, size_t clen)
{
	if (le32_get(hdr) != 0x424D53FDu || le32_get(hdr + TH_SIZE) != clen ||
	    le16_get(hdr + TH_FLAGS) != 0x0001 || clen > INT32_MAX)
		return -EPROTO;
	return 0;
}

long smb2_decrypt(enum smb2_cipher c, const uint8_t *key,
		  uint8_t *frame, size_t len)
{
	uint8_t tag[TAG_SIZE];
	EVP_CIPHER_CTX *ctx = NULL;
	uint8_t *data = frame + SMB2_TRANSFORM_HEADER_SIZE;
	size_t clen;
	int outl = 0, fin = 0;
	long ret;

	if (!evp_cipher(c))
		return -EINVAL;
	if (len < SMB2_TRANSFORM_HEADER_SIZE || le32_get(frame) != 0x424D53FDu)
		return -EPROTO;
	clen = len - SMB2_TRANSFORM_HEADER_SIZE;
	if (check_transform(frame, clen))
		return -EPROTO;
	memcpy(tag, frame + TH_SIGNATURE, TAG_SIZE);
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return -ENOMEM;
	ret = aead_begin(ctx, c, 0, key, frame, clen, tag);
	if (ret)
		goto out;
	/* In place: OpenSSL's AES modes allow out == in. */
	if (!EVP_CipherUpdate(ctx, data, &outl, data, (int)clen)) {
		ret = is_ccm(c) ? -EBADMSG : -EIO;	/* CCM checks the tag here */
		goto out;
	}
	if (!is_ccm(c)) {
		if (!EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_SIZE, tag)) {
			ret = -EIO;
			goto out;
		}
		if (!EVP_CipherFinal_ex(ctx, data + outl, &fin)) {
			ret = -EBADMSG;
			goto out;
		}
	}
	ret = (long)clen;
out:
	if (ret < 0)
		/* Never leave unauthenticated plaintext behind. */
		memset(data, 0, clen);
	EVP_CIPHER_CTX_free(ctx);
	return ret;
}

int smb2_decrypt_begin(struct smb2_decryptor *d, enum smb2_cipher c, const uint8_t *key,
		       const uint8_t hdr[SMB2_TRANSFORM_HEADER_SIZE], size_t clen)
{
	EVP_CIPHER_CTX *ctx;
	int ret;

	memset(d, 0, sizeof(*d));
	if (!evp_cipher(c))
		return -EINVAL;
	if (is_ccm(c))
		return -EOPNOTSUPP;
	if (check_transform(hdr, clen))
		return -EPROTO;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return -ENOMEM;
	ret = aead_begin(ctx, c, 0, key, hdr, clen, NULL);
	if (ret) {
		EVP_CIPHER_CTX_free(ctx);
		return ret;
	}
	memcpy(d->tag, hdr + TH_SIGNATURE, TAG_SIZE);
	d->ctx = ctx;
	d->left = clen;
	return 0;
}

int smb2_decrypt_update(struct smb2_decryptor *d, const uint8_t *in, uint8_t *out, size_t len)
{
	int outl;

	if (!d->ctx || len > d->left)
		return -EINVAL;
	/* GCM is a stream: what goes in comes out at once, byte for byte. */
	if (len && (!EVP_CipherUpdate(d->ctx, out, &outl, in, (int)len) || (size_t)outl != len))
		return -EIO;
	d->left -= len;
	return 0;
}

int smb2_decrypt_finish(struct smb2_decryptor *d)
{
	uint8_t rest[16];
	int fin = 0, ret = -EBADMSG;

	if (!d->ctx)
		return -EINVAL;
	if (d->left == 0 &&
	    EVP_CIPHER_CTX_ctrl(d->ctx, EVP_CTRL_AEAD_SET_TAG, TAG_SIZE, d->tag) &&
	    EVP_CipherFinal_ex(d->ctx, rest, &fin))
		ret = 0;
	smb2_decrypt_abort(d);
	return ret;
}

void smb2_decrypt_abort(struct smb2_decryptor *d)
{
	EVP_CIPHER_CTX_free(d->ctx);
	d->ctx = NULL;
}
