/* libFuzzer target: the transport's frame reader, fed through a socket
 * pair in pieces the input chooses (short reads, a frame split across
 * many, several frames in one write, a length prefix cut off, a
 * NetBIOS type byte that is not 0).  It must return whole frames no
 * longer than its bound, or an error, and never read past what came.
 *
 * Input: byte 0 picks the bound (max frame size), then runs of
 * [piece length][piece bytes] written one after the other. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t bounds[4] = { 0, 64, 4096, 1 << 20 };
	size_t max, pos = 1, n, flen;
	uint8_t *buf;
	int sv[2], ret;

	if (size < 1 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return 0;
	max = bounds[data[0] % 4];
	/* Write every piece first (the input is small: it fits in the
	 * socket buffer), then close: the reader meets EOF at the end. */
	while (pos < size) {
		n = data[pos++];
		if (n > size - pos)
			n = size - pos;
		if (n && write(sv[1], data + pos, n) != (ssize_t)n)
			break;
		pos += n;
	}
	close(sv[1]);
	for (;;) {
		ret = transport_read_frame(sv[0], max, &buf, &flen);
		if (ret)
			break;
		if (flen > max || (flen && !buf))
			abort();
		free(buf);
	}
	close(sv[0]);
	return 0;
}
