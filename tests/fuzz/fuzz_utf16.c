/* libFuzzer target: UTF-16LE from the wire -> UTF-8 -> UTF-16LE must
 * round-trip exactly whenever the first conversion accepts the input. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "utf16.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = NULL;
	struct wr w;
	long n;

	n = utf16_to_utf8(data, size, &s);
	if (n < 0)
		return 0;
	wr_init(&w);
	if (utf16_put(&w, s, (size_t)n) != (long)size ||
	    (size && memcmp(w.p, data, size) != 0))
		abort();
	wr_free(&w);
	free(s);
	return 0;
}
