/*
 * fuse_io.c - the daemon's reads and writes of /dev/fuse, through
 * libfuse's custom I/O hooks, to tell the kernel one thing libfuse 3.14
 * cannot: FUSE_HANDLE_KILLPRIV_V2.
 *
 * Why: without that flag the kernel clears FUSE's "no security bits"
 * inode flag (S_NOSEC), so before every write(2) it asks the daemon for
 * the file's security.capability xattr, to know whether a write must
 * drop it: one FUSE round trip per write as costly as the write
 * itself.  With the flag the file system promises to drop setuid,
 * setgid and capabilities itself on write, truncate and chown; an SMB
 * share keeps none of them, so the promise is kept by having nothing to
 * drop, and the kernel marks an inode S_NOSEC at its first write, until
 * its attributes are next refreshed (then it asks once more).
 * libfuse gained the knob (FUSE_CAP_HANDLE_KILLPRIV_V2) in 3.15; with
 * that version fs_init asks for it and none of this is built.
 *
 * How: the first request on the device is always INIT (the kernel sends
 * nothing else until it is answered), and the first reply is its
 * answer.  The read hook notes whether the kernel offered the flag; the
 * writev hook adds it to a successful INIT answer, in a copy.  Every
 * other read, write and splice is passed on unchanged, so libfuse
 * behaves as with its own I/O (splice included).  The INIT exchange
 * happens on one thread before any other request, so the two statics
 * need no lock; the atomic flag only lets later replies skip the check
 * cheaply.
 *
 * FUSE wire format: <linux/fuse.h>, protocol 7.33 for the flag.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fuse_io.h"
#include "log.h"

#ifndef FUSE_CAP_HANDLE_KILLPRIV_V2

static uint64_t init_unique;	/* the INIT request's id, 0 when none pending */
static bool init_done;		/* atomic: INIT answered, nothing left to do */

static ssize_t io_read(int fd, void *buf, size_t len, void *userdata)
{
	const struct fuse_in_header *in = buf;
	const struct fuse_init_in *init = (const void *)(in + 1);
	ssize_t n = read(fd, buf, len);

	(void)userdata;
	if (n < (ssize_t)(sizeof(*in) + offsetof(struct fuse_init_in, flags) + sizeof(init->flags)) ||
	    __atomic_load_n(&init_done, __ATOMIC_RELAXED) || in->opcode != FUSE_INIT)
		return n;
	if (init->major == FUSE_KERNEL_VERSION && (init->flags & FUSE_HANDLE_KILLPRIV_V2))
		init_unique = in->unique;
	else
		__atomic_store_n(&init_done, true, __ATOMIC_RELAXED);
	return n;
}

static ssize_t io_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	const struct fuse_out_header *out = iov[0].iov_base;
	struct fuse_init_out init;
	struct iovec copy[2];

	(void)userdata;
	if (__atomic_load_n(&init_done, __ATOMIC_RELAXED) || init_unique == 0 ||
	    iov[0].iov_len != sizeof(*out) || out->unique != init_unique)
		return writev(fd, iov, count);
	__atomic_store_n(&init_done, true, __ATOMIC_RELAXED);
	/* libfuse answers INIT as header + one argument; an error, or an
	 * answer of another shape (an older minor's shorter reply) goes
	 * out as it is. */
	if (out->error != 0 || count != 2 || iov[1].iov_len != sizeof(init))
		return writev(fd, iov, count);
	memcpy(&init, iov[1].iov_base, sizeof(init));
	init.flags |= FUSE_HANDLE_KILLPRIV_V2;
	copy[0] = iov[0];
	copy[1].iov_base = &init;
	copy[1].iov_len = sizeof(init);
	log_debug("fuse: INIT answered with HANDLE_KILLPRIV_V2 (no xattr query before each write)");
	return writev(fd, copy, 2);
}

static ssize_t io_splice_receive(int fdin, off_t *offin, int fdout, off_t *offout, size_t len,
				 unsigned int flags, void *userdata)
{
	(void)userdata;
	return splice(fdin, offin, fdout, offout, len, flags);
}

static ssize_t io_splice_send(int fdin, off_t *offin, int fdout, off_t *offout, size_t len,
			      unsigned int flags, void *userdata)
{
	(void)userdata;
	return splice(fdin, offin, fdout, offout, len, flags);
}

int fuse_io_install(struct fuse_session *se)
{
	static const struct fuse_custom_io io = {
		.read = io_read,
		.writev = io_writev,
		.splice_receive = io_splice_receive,
		.splice_send = io_splice_send,
	};
	int ret = fuse_session_custom_io(se, &io, fuse_session_fd(se));

	return ret;
}

#else

int fuse_io_install(struct fuse_session *se)
{
	(void)se;
	return 0;
}

#endif
