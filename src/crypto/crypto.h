/*
 * crypto.h - the SMB2/3 cryptography: key derivation, preauth hash,
 * message signing and the SMB3 transform (encryption).
 *
 * These files (kdf.c, sign.c, seal.c) and ntlm.c are the only users of
 * OpenSSL.  Every function returns 0 or a negative errno; a signature or
 * tag that does not match is -EBADMSG.  Keys are the caller's: they are
 * never copied into long-lived state here, and callers wipe them with
 * OPENSSL_cleanse when done.
 */
#ifndef SMBFUSE_CRYPTO_H
#define SMBFUSE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define SMB2_PREAUTH_HASH_SIZE 64

/* --- key derivation (MS-SMB2 3.1.4.2; NIST SP800-108 counter mode) ----- */

/* NIST SP800-108 counter mode with HMAC-SHA256 and a 32-bit counter
 * before the fixed input; outlen bytes of output. */
int kdf_counter_hmac_sha256(const uint8_t *key, size_t keylen,
			    const uint8_t *fixed, size_t fixedlen,
			    uint8_t *out, size_t outlen);

/* KDF in counter mode with HMAC-SHA256, r = 32, L = 8 * outlen (16 or
 * 32 bytes).  label and context are passed with their terminating NUL
 * included, as MS-SMB2 spells them; the KDF adds its own 0x00 separator. */
int smb2_kdf(const uint8_t *key, size_t keylen,
	     const uint8_t *label, size_t labellen,
	     const uint8_t *context, size_t contextlen,
	     uint8_t *out, size_t outlen);

/* The keys of one session, from the client's point of view. */
struct smb2_keys {
	uint8_t signing[16];
	uint8_t encryption[32];		/* client -> server */
	uint8_t decryption[32];		/* server -> client */
	uint8_t application[16];
	size_t cipher_key_len;		/* 16 or 32: bytes used of the two above */
};

/* MS-SMB2 3.2.5.3.1: derive a session's keys.  full_key is the
 * authentication's session key (16 bytes for NTLM, may be 32 for
 * Kerberos); its first 16 bytes are Session.SessionKey, and the 256-bit
 * ciphers take the whole of it.  Below 3.0 the signing key is the session
 * key itself and there is no encryption.  preauth is the 3.1.1 preauth
 * hash after the last SESSION_SETUP request (NULL below 3.1.1). */
int smb2_derive_keys(uint16_t dialect, const uint8_t *full_key, size_t full_len,
		     const uint8_t preauth[SMB2_PREAUTH_HASH_SIZE],
		     size_t cipher_key_len, struct smb2_keys *k);

/* MS-SMB2 3.2.5.2 / 3.3.5.4: hash = SHA-512(hash || message). */
int smb2_preauth_update(uint8_t hash[SMB2_PREAUTH_HASH_SIZE],
			const uint8_t *msg, size_t len);

/* --- signing (MS-SMB2 3.1.4.1) ----------------------------------------- */

/* Values are the SIGNING_CAPABILITIES ids (MS-SMB2 2.2.3.1.7). */
enum smb2_sign_alg {
	SMB2_SIGN_HMAC_SHA256 = 0,
	SMB2_SIGN_AES_CMAC = 1,
	SMB2_SIGN_AES_GMAC = 2,
};

#define SMB2_SIGNATURE_OFFSET 48
#define SMB2_SIGNATURE_SIZE 16

const char *smb2_sign_alg_name(enum smb2_sign_alg alg);

/* The signature of one SMB2 message (header + body, len >= 64) as if its
 * Signature field were zero; msg itself is not changed.  key is 16 bytes. */
int smb2_sign_calc(enum smb2_sign_alg alg, const uint8_t key[16],
		   const uint8_t *msg, size_t len, uint8_t sig[16]);

/* The same over a message in pieces (iov[0] holds at least the 64-byte
 * header), so a READ's or WRITE's data is signed where it lies. */
int smb2_sign_calc_iov(enum smb2_sign_alg alg, const uint8_t key[16],
		       const struct iovec *iov, int niov, uint8_t sig[16]);

/* Compute the signature and store it in the message's Signature field.
 * The caller sets SMB2_FLAGS_SIGNED first: the flag is covered. */
int smb2_sign(enum smb2_sign_alg alg, const uint8_t key[16],
	      uint8_t *msg, size_t len);

/* 0 if the message's Signature field is right (constant-time compare),
 * -EBADMSG if not. */
int smb2_verify(enum smb2_sign_alg alg, const uint8_t key[16],
		const uint8_t *msg, size_t len);
int smb2_verify_iov(enum smb2_sign_alg alg, const uint8_t key[16],
		    const struct iovec *iov, int niov);

/* --- encryption (MS-SMB2 2.2.41, 3.1.4.3) ------------------------------ */

/* Values are the ENCRYPTION_CAPABILITIES cipher ids (MS-SMB2 2.2.3.1.2). */
enum smb2_cipher {
	SMB2_CIPHER_NONE = 0,
	SMB2_CIPHER_AES128_CCM = 1,
	SMB2_CIPHER_AES128_GCM = 2,
	SMB2_CIPHER_AES256_CCM = 3,
	SMB2_CIPHER_AES256_GCM = 4,
};

#define SMB2_TRANSFORM_HEADER_SIZE 52
#define SMB2_TRANSFORM_NONCE_SIZE 16

const char *smb2_cipher_name(enum smb2_cipher c);
size_t smb2_cipher_key_size(enum smb2_cipher c);	/* 16 or 32; 0 if unknown */
size_t smb2_cipher_nonce_size(enum smb2_cipher c);	/* 11 (CCM) or 12 (GCM) */

/* Encrypt the plaintext SMB2 message msg[0..len) into out, which must
 * have room for SMB2_TRANSFORM_HEADER_SIZE + len bytes: a TRANSFORM_HEADER
 * (nonce as given, smb2_cipher_nonce_size bytes, rest of the field zero)
 * followed by the ciphertext. */
int smb2_encrypt(enum smb2_cipher c, const uint8_t *key, uint64_t session_id,
		 const uint8_t *nonce, const uint8_t *msg, size_t len,
		 uint8_t *out);

/* Decrypt a received transformed message in place: frame[0..len) holds a
 * TRANSFORM_HEADER and ciphertext; on success the plaintext replaces the
 * ciphertext at frame + SMB2_TRANSFORM_HEADER_SIZE and its length is
 * returned.  -EBADMSG for a bad tag, -EPROTO for a malformed header. */
long smb2_decrypt(enum smb2_cipher c, const uint8_t *key,
		  uint8_t *frame, size_t len);

/* The same over a message in pieces (the ciphertext gathered into out). */
int smb2_encrypt_iov(enum smb2_cipher c, const uint8_t *key, uint64_t session_id,
		     const uint8_t *nonce, const struct iovec *iov, int niov, uint8_t *out);

/*
 * Decryption as a stream, for a message read from the socket piece by
 * piece: its header decrypted first to learn where its data belongs,
 * the data then decrypted where it is to stay (in == out is allowed).
 * AES-GCM only: begin says -EOPNOTSUPP for CCM, which OpenSSL decrypts
 * in one piece (smb2_decrypt).  Until finish returns 0 the plaintext is
 * unauthenticated: the caller must not act on it, only on its header's
 * framing, and must discard all of it when finish says -EBADMSG.
 * finish and abort release the state; abort is for giving up midway.
 */
struct smb2_decryptor {
	void *ctx;			/* EVP_CIPHER_CTX */
	uint8_t tag[16];
	size_t left;			/* ciphertext bytes not yet decrypted */
};
int smb2_decrypt_begin(struct smb2_decryptor *d, enum smb2_cipher c, const uint8_t *key,
		       const uint8_t hdr[SMB2_TRANSFORM_HEADER_SIZE], size_t clen);
int smb2_decrypt_update(struct smb2_decryptor *d, const uint8_t *in, uint8_t *out, size_t len);
int smb2_decrypt_finish(struct smb2_decryptor *d);
void smb2_decrypt_abort(struct smb2_decryptor *d);

#endif
