/*
 * client_append.c - O_APPEND writes that other clients' appends do not
 * overwrite.
 *
 * The kernel hands a FUSE file system an O_APPEND write at the offset
 * it believes is the end of file, which is stale as soon as another
 * client has appended.  SMB has an atomic append (MS-SMB2 3.3.5.13: a
 * WRITE at offset 0xFFFFFFFFFFFFFFFF on a handle opened for
 * FILE_APPEND_DATA alone), but Samba 4.17 answers it with
 * STATUS_INVALID_PARAMETER and treats an append-only handle like any
 * other.  So the append is made atomic among the clients that agree on
 * it: an exclusive byte-range lock on one byte at 2^64 - 2 (past every
 * offset a POSIX program can lock, so never in the way of its own
 * locks), then the end of file as the server has it, the WRITE there,
 * and the unlock.  Other SMB clients that do not take that lock (a
 * Windows program appending) can still race.
 */
#include "config.h"

#include <errno.h>
#include <sys/stat.h>

#include "client_int.h"
#include "log.h"
#include "smb2.h"

#define APPEND_LOCK_OFFSET 0xFFFFFFFFFFFFFFFEull

/* Take (flags EXCLUSIVE, waiting as a blocking fcntl lock does) or drop
 * (UNLOCK) the append lock. */
static int append_lock(struct client *c, struct client_file *f, uint32_t flags)
{
	return lock_range(c, f->open, APPEND_LOCK_OFFSET, APPEND_LOCK_OFFSET, flags);
}

ssize_t append_write(struct client *c, struct client_file *f, const void *buf, size_t size)
{
	struct stat st;
	ssize_t n;
	int locked, ret;

	locked = append_lock(c, f, SMB2_LOCKFLAG_EXCLUSIVE_LOCK) == 0;
	if (!locked)
		log_debug("append lock on %s refused: appending without it", f->path);
	ret = handle_stat(c, f, &st);
	n = ret ? ret : write_range(c, f, buf, size, st.st_size);
	if (locked && append_lock(c, f, SMB2_LOCKFLAG_UNLOCK) != 0)
		log_warn("releasing the append lock on %s failed: other clients' appends to it "
			 "wait until it is closed", f->path);
	return n;
}
