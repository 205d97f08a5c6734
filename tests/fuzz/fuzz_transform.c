/* libFuzzer target: a TRANSFORM_HEADER message decrypted with each
 * cipher.  Garbage must be refused without touching memory outside the
 * frame; the first input byte picks the cipher. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[32] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t *copy;

	if (size < 1)
		return 0;
	copy = malloc(size - 1 ? size - 1 : 1);
	if (!copy)
		return 0;
	memcpy(copy, data + 1, size - 1);
	(void)smb2_decrypt((enum smb2_cipher)(1 + data[0] % 4), key, copy, size - 1);
	free(copy);
	return 0;
}
