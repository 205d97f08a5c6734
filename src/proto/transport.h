/*
 * transport.h - TCP to the server and Direct TCP framing (MS-SMB2 2.1).
 *
 * Every SMB2 message travels in a frame with a 4-byte header: a zero
 * byte and a 24-bit big-endian length.  Errors come back as -errno with
 * a sentence for the user in err (never containing secrets).
 */
#ifndef SMBFUSE_TRANSPORT_H
#define SMBFUSE_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define TRANSPORT_ERRLEN 256

/* Connect to host (name, IPv4, or IPv6 with or without brackets) at
 * port, trying each address for up to timeout_ms in all.
 * -ENOENT: the name does not resolve; -ECONNREFUSED: port closed;
 * -ETIMEDOUT; -EHOSTUNREACH / -ENETUNREACH; -ECANCELED as soon as
 * cancel_fd (if not -1) becomes readable: an unmount does not wait for
 * a server that drops SYNs. */
int transport_connect(const char *host, uint16_t port, int timeout_ms, int cancel_fd, int *fd,
		      char err[TRANSPORT_ERRLEN]);

/* Write all of iov (the caller puts the 4-byte frame header first).
 * -EPIPE / -ECONNRESET / -EIO when the connection is gone; -ETIMEDOUT
 * when the socket took no byte for stall_ms (a cut link: the send
 * buffer is full and nothing is acknowledged; the connection is then
 * useless, as part of a frame may have gone). */
int transport_writev(int fd, struct iovec *iov, int n, int stall_ms);

/* Read one frame: returns its payload (malloc'd) and length.  A frame
 * longer than max is -EPROTO (the caller drops the connection); a frame
 * whose first byte is not 0 (NetBIOS session message) is -EPROTO.
 * 0-length frames (keepalives) are skipped.  -ECONNRESET on EOF. */
int transport_read_frame(int fd, size_t max, uint8_t **buf, size_t *len);

/* Its two halves, for a reader that puts a frame's bytes where they
 * belong: the next frame's length (the same rules), then exactly n
 * bytes of it into buf. */
int transport_read_len(int fd, size_t max, size_t *len);
int transport_read_full(int fd, void *buf, size_t n);

#endif
