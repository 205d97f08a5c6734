/* libFuzzer target: a NEGOTIATE response from the server, its negotiate
 * contexts, and the SPNEGO token in its security buffer. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pdu.h"
#include "spnego.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct negotiate_rsp p;
	unsigned mechs;

	if (pdu_negotiate_dec(data, size, &p) == 0 && p.secbuf_len)
		(void)spnego_server_mechs(p.secbuf, p.secbuf_len, &mechs);
	return 0;
}
