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
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct pieces {
	const uint8_t *data;
	size_t size;
	int fd;
};

/* Write the pieces one after the other, then close.  On a thread of its
 * own: many tiny pieces fill a socket's buffer long before their bytes
 * do (each costs a whole buffer's worth of accounting), so writing all
 * before reading would block for good. */
static void *write_pieces(void *arg)
{
	struct pieces *p = arg;
	size_t pos = 1, n;

	while (pos < p->size) {
		n = p->data[pos++];
		if (n > p->size - pos)
			n = p->size - pos;
		/* MSG_NOSIGNAL: the reader may stop (an error) and close. */
		if (n && send(p->fd, p->data + pos, n, MSG_NOSIGNAL) != (ssize_t)n)
			break;
		pos += n;
	}
	close(p->fd);
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t bounds[4] = { 0, 64, 4096, 1 << 20 };
	struct pieces p = { data, size, -1 };
	size_t max, flen;
	pthread_t writer;
	uint8_t *buf;
	int sv[2], ret;

	if (size < 1 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return 0;
	max = bounds[data[0] % 4];
	p.fd = sv[1];
	if (pthread_create(&writer, NULL, write_pieces, &p) != 0) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	/* Whole frames until the error the reader must end with (EOF
	 * at the latest, once the writer has closed). */
	for (;;) {
		ret = transport_read_frame(sv[0], max, &buf, &flen);
		if (ret)
			break;
		if (flen > max || (flen && !buf))
			abort();
		free(buf);
	}
	close(sv[0]);	/* a writer still blocked fails and ends */
	pthread_join(writer, NULL);
	return 0;
}
