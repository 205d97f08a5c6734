/* libFuzzer target: what follows a successful decryption.  The input
 * (after one byte that picks the cipher) is sealed with a known key
 * first, so that decryption passes its tag check, which random input
 * never does (fuzz_transform stops there); the plaintext that comes out
 * must equal the input, and then goes through the header decoder, a
 * walk along its NextCommand chain and the response decoders, as the
 * reader treats a sealed frame. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "pdu.h"
#include "smb2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode_all(const uint8_t *m, size_t n)
{
	struct create_rsp cr;
	struct file_all_info fa;
	struct smb2_dirent e;
	const uint8_t *out;
	size_t on, pos = 0;
	uint32_t count;

	(void)pdu_error_dec(m, n);
	(void)pdu_create_dec(m, n, &cr);
	(void)pdu_read_dec(m, n, &out, &on);
	(void)pdu_write_dec(m, n, &count);
	if (pdu_query_info_dec(m, n, &out, &on) == 0 && on) {
		(void)file_all_info_dec(out, on, &fa);
		while (dirent_next(out, on, &pos, &e) == 1)
			;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[32] = { 9, 8, 7, 6, 5, 4, 3, 2, 1 };
	static const uint8_t nonce[16] = { 0x42 };
	enum smb2_cipher c;
	struct smb2_hdr h;
	uint8_t *frame;
	size_t len, off = 0;
	long plen;

	if (size < 1)
		return 0;
	c = (enum smb2_cipher)(1 + data[0] % 4);
	len = size - 1;
	frame = malloc(SMB2_TRANSFORM_HEADER_SIZE + len + 1);
	if (!frame)
		return 0;
	if (smb2_encrypt(c, key, 0x1122334455667788ULL, nonce, data + 1, len, frame) != 0)
		goto out;
	plen = smb2_decrypt(c, key, frame, SMB2_TRANSFORM_HEADER_SIZE + len);
	if (plen != (long)len || memcmp(frame + SMB2_TRANSFORM_HEADER_SIZE, data + 1, len) != 0)
		abort();	/* a sealed message must come back as it was */
	/* Each message of the chain, as the reader walks it. */
	while (off < len && pdu_hdr_dec(frame + SMB2_TRANSFORM_HEADER_SIZE + off, len - off, &h) == 0) {
		size_t mlen = h.next_command ? h.next_command : len - off;

		if (mlen > len - off || (h.next_command && h.next_command < SMB2_HEADER_SIZE))
			break;
		decode_all(frame + SMB2_TRANSFORM_HEADER_SIZE + off, mlen);
		if (!h.next_command)
			break;
		off += mlen;
	}
out:
	free(frame);
	return 0;
}
