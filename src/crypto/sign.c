/*
 * sign.c - SMB2/3 message signing (MS-SMB2 3.1.4.1).
 *
 * The signature covers the whole message (header and body, and in a
 * compound the padding up to the next message) with the 16-byte
 * Signature field taken as zero.  Which MAC depends on the dialect:
 * HMAC-SHA256 (2.0.2, 2.1, and 3.1.1 when negotiated), AES-128-CMAC (3.0,
 * 3.0.2, 3.1.1 by default) or AES-128-GMAC (3.1.1 when negotiated); the
 * first 16 bytes of the MAC are the signature.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/uio.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "crypto.h"
#include "wire.h"

/* Fetched once: EVP_MAC_fetch looks the algorithm up in the provider
 * tables, which is too slow to repeat for every message.  The objects
 * are immutable and may be shared by all threads. */
static EVP_MAC *mac_hmac, *mac_cmac, *mac_gmac;
static pthread_once_t macs_once = PTHREAD_ONCE_INIT;

static void fetch_macs(void)
{
	mac_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	mac_cmac = EVP_MAC_fetch(NULL, "CMAC", NULL);
	mac_gmac = EVP_MAC_fetch(NULL, "GMAC", NULL);
}

const char *smb2_sign_alg_name(enum smb2_sign_alg alg)
{
	switch (alg) {
	case SMB2_SIGN_HMAC_SHA256: return "HMAC-SHA256";
	case SMB2_SIGN_AES_CMAC: return "AES-128-CMAC";
	case SMB2_SIGN_AES_GMAC: return "AES-128-GMAC";
	}
	return "unknown";
}

#define HDR_FLAGS 16
#define HDR_COMMAND 12
#define HDR_MESSAGE_ID 24
#define FLAG_SERVER_TO_REDIR 0x00000001u
#define CMD_CANCEL 0x000C

/* The message may come in pieces (header and body in one buffer, a
 * READ's or WRITE's data in another): the MAC is fed each in turn, the
 * Signature field replaced by zeros wherever it falls. */
int smb2_sign_calc_iov(enum smb2_sign_alg alg, const uint8_t key[16],
		       const struct iovec *iov, int niov, uint8_t sig[16])
{
	static const uint8_t zero_sig[SMB2_SIGNATURE_SIZE];
	const uint8_t *msg = niov > 0 ? iov[0].iov_base : NULL;
	uint8_t mac_out[32], nonce[12];
	OSSL_PARAM params[3], *p = params;
	EVP_MAC_CTX *ctx = NULL;
	EVP_MAC *mac;
	size_t got = 0;
	int ret = -EIO, i;

	/* The header is always whole in the first piece. */
	if (niov < 1 || iov[0].iov_len < 64)
		return -EINVAL;
	pthread_once(&macs_once, fetch_macs);
	switch (alg) {
	case SMB2_SIGN_HMAC_SHA256:
		mac = mac_hmac;
		*p++ = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
							(char *)"SHA256", 0);
		break;
	case SMB2_SIGN_AES_CMAC:
		mac = mac_cmac;
		*p++ = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER,
							(char *)"AES-128-CBC", 0);
		break;
	case SMB2_SIGN_AES_GMAC:
		/* Nonce: MessageId, then a 32-bit word whose bit 0 says
		 * server-to-client and bit 1 says CANCEL. */
		mac = mac_gmac;
		memcpy(nonce, msg + HDR_MESSAGE_ID, 8);
		le32_put(nonce + 8,
			 ((le32_get(msg + HDR_FLAGS) & FLAG_SERVER_TO_REDIR) ? 1u : 0u) |
			 (le16_get(msg + HDR_COMMAND) == CMD_CANCEL ? 2u : 0u));
		*p++ = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER,
							(char *)"AES-128-GCM", 0);
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_IV,
							 nonce, sizeof(nonce));
		break;
	default:
		return -EINVAL;
	}
	*p = OSSL_PARAM_construct_end();
	if (!mac)
		goto out;
	ctx = EVP_MAC_CTX_new(mac);
	if (!ctx || !EVP_MAC_init(ctx, key, 16, params) ||
	    !EVP_MAC_update(ctx, msg, SMB2_SIGNATURE_OFFSET) ||
	    !EVP_MAC_update(ctx, zero_sig, SMB2_SIGNATURE_SIZE) ||
	    !EVP_MAC_update(ctx, msg + 64, iov[0].iov_len - 64))
		goto out;
	for (i = 1; i < niov; i++)
		if (iov[i].iov_len && !EVP_MAC_update(ctx, iov[i].iov_base, iov[i].iov_len))
			goto out;
	if (!EVP_MAC_final(ctx, mac_out, &got, sizeof(mac_out)) || got < 16)
		goto out;
	memcpy(sig, mac_out, 16);
	ret = 0;
out:
	EVP_MAC_CTX_free(ctx);
	OPENSSL_cleanse(mac_out, sizeof(mac_out));
	return ret;
}

int smb2_sign_calc(enum smb2_sign_alg alg, const uint8_t key[16],
		   const uint8_t *msg, size_t len, uint8_t sig[16])
{
	struct iovec one = { (void *)msg, len };

	return smb2_sign_calc_iov(alg, key, &one, 1, sig);
}

int smb2_sign(enum smb2_sign_alg alg, const uint8_t key[16],
	      uint8_t *msg, size_t len)
{
	uint8_t sig[SMB2_SIGNATURE_SIZE];
	int ret = smb2_sign_calc(alg, key, msg, len, sig);

	if (ret == 0)
		memcpy(msg + SMB2_SIGNATURE_OFFSET, sig, sizeof(sig));
	return ret;
}

int smb2_verify_iov(enum smb2_sign_alg alg, const uint8_t key[16],
		    const struct iovec *iov, int niov)
{
	uint8_t sig[SMB2_SIGNATURE_SIZE];
	int ret = smb2_sign_calc_iov(alg, key, iov, niov, sig);

	if (ret)
		return ret;
	if (CRYPTO_memcmp(sig, (const uint8_t *)iov[0].iov_base + SMB2_SIGNATURE_OFFSET,
			  sizeof(sig)) != 0)
		return -EBADMSG;
	return 0;
}

int smb2_verify(enum smb2_sign_alg alg, const uint8_t key[16],
		const uint8_t *msg, size_t len)
{
	struct iovec one = { (void *)msg, len };

	return smb2_verify_iov(alg, key, &one, 1);
}
