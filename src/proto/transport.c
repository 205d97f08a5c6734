/*
 * transport.c - TCP connect with a deadline, framed reads and writes.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "transport.h"
#include "util.h"

/* Connect one address within ms milliseconds. */
static int connect_one(const struct addrinfo *ai, int ms, int cancel_fd, int *out)
{
	struct pollfd pfd[2];
	socklen_t sl = sizeof(int);
	int fd, flags, soerr = 0, one = 1, ret;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return -errno;
	flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			ret = -errno;
			goto fail;
		}
		pfd[0].fd = fd;
		pfd[0].events = POLLOUT;
		pfd[1].fd = cancel_fd;
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		do {
			ret = poll(pfd, cancel_fd >= 0 ? 2 : 1, ms);
		} while (ret < 0 && errno == EINTR);
		if (ret == 0) {
			ret = -ETIMEDOUT;
			goto fail;
		}
		if (ret > 0 && (pfd[1].revents & POLLIN)) {
			ret = -ECANCELED;
			goto fail;
		}
		if (ret < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0) {
			ret = -errno;
			goto fail;
		}
		if (soerr) {
			ret = -soerr;
			goto fail;
		}
	}
	fcntl(fd, F_SETFL, flags);
	/* Requests are small and latency-bound: no Nagle delay. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	*out = fd;
	return 0;
fail:
	close(fd);
	return ret;
}

int transport_connect(const char *host, uint16_t port, int timeout_ms, int cancel_fd, int *fd,
		      char err[TRANSPORT_ERRLEN])
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC };
	struct addrinfo *res = NULL, *ai;
	char name[256], portstr[8];
	size_t n = strlen(host);
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	int ret, gai, left;

	/* "[::1]" -> "::1" */
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		host++;
		n -= 2;
	}
	if (n >= sizeof(name)) {
		snprintf(err, TRANSPORT_ERRLEN, "server name is too long");
		return -ENAMETOOLONG;
	}
	memcpy(name, host, n);
	name[n] = '\0';
	snprintf(portstr, sizeof(portstr), "%u", port);
	hints.ai_flags = AI_ADDRCONFIG;
	gai = getaddrinfo(name, portstr, &hints, &res);
	if (gai == EAI_NONAME || gai == EAI_NODATA || gai == EAI_FAMILY) {
		/* AI_ADDRCONFIG hides ::1 on hosts with no IPv6 address
		 * but loopback; ask again without it. */
		hints.ai_flags = 0;
		gai = getaddrinfo(name, portstr, &hints, &res);
	}
	if (gai) {
		snprintf(err, TRANSPORT_ERRLEN, "cannot resolve server name '%s': %s",
			 name, gai_strerror(gai));
		return gai == EAI_AGAIN ? -EAGAIN : -ENOENT;
	}
	ret = -EHOSTUNREACH;
	for (ai = res; ai; ai = ai->ai_next) {
		left = (int)(deadline - now_ms());
		if ((int64_t)(deadline - now_ms()) <= 0) {
			ret = -ETIMEDOUT;
			break;
		}
		ret = connect_one(ai, left, cancel_fd, fd);
		if (ret == 0 || ret == -ECANCELED)
			break;
	}
	freeaddrinfo(res);
	switch (ret) {
	case 0:
		break;
	case -ECONNREFUSED:
		snprintf(err, TRANSPORT_ERRLEN,
			 "connection to %s port %u refused: no SMB server listens there", name, port);
		break;
	case -ETIMEDOUT:
		snprintf(err, TRANSPORT_ERRLEN,
			 "no answer from %s port %u within %d ms (server down, or a firewall drops the traffic)",
			 name, port, timeout_ms);
		break;
	default:
		snprintf(err, TRANSPORT_ERRLEN, "cannot connect to %s port %u: %s",
			 name, port, strerror(-ret));
	}
	return ret;
}

int transport_writev(int fd, struct iovec *iov, int n, int stall_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	struct msghdr msg = { 0 };
	ssize_t w;
	int r;

	while (n > 0) {
		/* Never blocked in the kernel: a write stuck behind a cut
		 * link would hold the send lock, and every request and ECHO
		 * behind it, until TCP gives up a quarter of an hour later. */
		msg.msg_iov = iov;
		msg.msg_iovlen = (size_t)n;
		w = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -errno;
			r = poll(&pfd, 1, stall_ms);
			if (r == 0)
				return -ETIMEDOUT;
			if (r < 0 && errno != EINTR)
				return -errno;
			continue;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

int transport_read_full(int fd, void *buf, size_t n)
{
	uint8_t *p = buf;
	ssize_t r;

	while (n) {
		r = read(fd, p, n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -ECONNRESET;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int transport_read_len(int fd, size_t max, size_t *len)
{
	uint8_t hdr[4];
	size_t n;
	int ret;

	*len = 0;
	for (;;) {
		ret = transport_read_full(fd, hdr, 4);
		if (ret)
			return ret;
		if (hdr[0] != 0)
			return -EPROTO;
		n = (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
		if (n)
			break;
	}
	if (n > max)
		return -EPROTO;
	*len = n;
	return 0;
}

int transport_read_frame(int fd, size_t max, uint8_t **buf, size_t *len)
{
	size_t n;
	uint8_t *p;
	int ret;

	*buf = NULL;
	*len = 0;
	ret = transport_read_len(fd, max, &n);
	if (ret)
		return ret;
	p = malloc(n);
	if (!p)
		return -ENOMEM;
	ret = transport_read_full(fd, p, n);
	if (ret) {
		free(p);
		return ret;
	}
	*buf = p;
	*len = n;
	return 0;
}
