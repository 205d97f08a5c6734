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
 * Windows program appending) can still race; so can cache=loose, where
 * the kernel's page cache makes the write.
 */
#include "config.h"

#include <errno.h>
#include <sys/stat.h>

#include "client_int.h"
#include "log.h"
#include "ntstatus.h"
#include "smb2.h"

#define APPEND_LOCK_OFFSET 0xFFFFFFFFFFFFFFFEull

/* Take (flags EXCLUSIVE, waiting) or drop (UNLOCK) the append lock.  A
 * wait is as patient and interruptible as a blocking fcntl lock's, and
 * the LockSequence keeps a LOCK sent again after a reconnect from
 * waiting for the lock it took itself. */
static int append_lock(struct client *c, struct client_file *f, uint32_t flags)
{
	struct smb2_lock l = { .offset = APPEND_LOCK_OFFSET, .length = 1, .flags = flags };
	uint32_t seq = open_lock_seq(f->open, c->s->info.dialect);
	struct chain ch;
	int ret;

	chain_init(&ch, c);
	ch.patient = !(flags & SMB2_LOCKFLAG_UNLOCK);
	chain_next_on(&ch, SMB2_LOCK, 0, f->open);
	ret = pdu_lock_enc(&ch.w, (struct smb2_fid){ 0, 0 }, seq, &l, 1);
	if (!ret)
		ret = chain_send(&ch);
	if (!ret)
		ret = chain_errno(&ch);
	if (!ret && pdu_lock_dec(ch.rsp[0].buf, ch.rsp[0].len) != 0)
		ret = -EIO;
	chain_free(&ch);
	open_lock_seq_done(f->open, seq);
	return ret;
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
