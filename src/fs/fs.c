/*
 * fs.c - FUSE operations (high-level, path-based: SMB2 names files by
 * path too) mapped onto the client verbs.  Each fs_<op> is thin: the
 * work and the errno mapping are in client*.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dirlist.h"
#include "fs.h"
#include "log.h"
#include "util.h"

/* fuse_session_exited, after fs.h has chosen the API version */
#include <fuse_lowlevel.h>

static struct fs_config *cfg_of(void)
{
	return fuse_get_context()->private_data;
}

/* The client, told whom this operation is for (a multiuser mount sends
 * it on that user's session). */
static struct client *cl(void)
{
	struct fuse_context *fc = fuse_get_context();
	struct client *c = ((struct fs_config *)fc->private_data)->client;

	client_set_caller(c, fc->uid, fc->gid, fc->pid);
	return c;
}

/* fi->fh is a struct client_file for files, and a struct dirlist with
 * the low bit set for directories (opendir): a lock or flush on a
 * directory's descriptor must not take one for the other. */
#define FH_DIR 1u

static struct client_file *file_of(struct fuse_file_info *fi)
{
	if (!fi || (fi->fh & FH_DIR))
		return NULL;
	return (struct client_file *)(uintptr_t)fi->fh;
}

static struct dirlist *dir_of(struct fuse_file_info *fi)
{
	return (struct dirlist *)(uintptr_t)(fi->fh & ~(uint64_t)FH_DIR);
}

/* A lease break: another client changed path, drop the kernel's copy. */
static void fs_invalidate(void *arg, const char *path)
{
	fuse_invalidate_path(arg, path);
}

/* A request waiting for the server to come back gives up when the mount
 * is going away (the kernel has hung up: every answer would be lost) or
 * when the process that asked was interrupted (so that even a hard
 * mount's waits end with ^C). */
static int fs_abort(void *arg)
{
	if (fuse_session_exited(fuse_get_session(arg)))
		return -ENOTCONN;
	return fuse_interrupted() ? -EINTR : 0;
}

static void *fs_init(struct fuse_conn_info *conn, struct fuse_config *fc)
{
	struct fs_config *cfg = cfg_of();

	client_set_invalidate(cfg->client, fs_invalidate, fuse_get_context()->fuse);
	client_set_abort(cfg->client, fs_abort, fuse_get_context()->fuse);
	/* Inode numbers are the server's file index (ls -i, hard links). */
	fc->use_ino = 1;
	fc->entry_timeout = cfg->actimeo_s;
	fc->attr_timeout = cfg->actimeo_s;
	/* The kernel keeps names and attributes per inode, for every user
	 * alike: a multiuser mount has it ask every time, and the client's
	 * caches answer each user only with what their own session saw. */
	if (cfg->multiuser)
		fc->entry_timeout = fc->attr_timeout = 0;
	fc->negative_timeout = 0;
	/* Unlinking an open file renames it to .fuse_hidden* until its last
	 * close, as POSIX programs expect the name to go away at once. */
	fc->hard_remove = 0;
	switch (cfg->cache) {
	case CACHE_STRICT:
		/* Close-to-open consistency, as NFS gives: pages are kept
		 * while mtime and size say the file is unchanged at open, and
		 * dropped when a lease break says another client changed it.
		 * No writeback cache here: with it the kernel never again
		 * takes a regular file's size from the server, so a file
		 * another client extended would look cut short. */
		fc->auto_cache = 1;
		break;
	case CACHE_LOOSE:
		/* Fast for one client: the kernel keeps pages across opens
		 * without asking whether the file changed.  Writes still go
		 * through the daemon's write-behind, not the kernel's
		 * writeback cache: that would gain little over write-behind
		 * (4 KiB writes here: 100-148 vs 99-155 MB/s) and cost, through
		 * libfuse's path-based interface, a failed SETATTR (ESTALE,
		 * reported by the next syncfs) for every file unlinked after
		 * a write, a size the server never stored kept after a
		 * refused write-back, appends the kernel splits and places,
		 * and every other client's size change. */
		fc->kernel_cache = 1;
		break;
	case CACHE_NONE:
		fc->direct_io = 1;
		break;
	}
	/* Large requests are what throughput depends on: one FUSE request
	 * per megabyte, not per 128 KiB page cluster. */
	conn->max_write = cfg->max_io;
	conn->max_read = cfg->max_io;	/* the same as -o max_read (main.c) */
	conn->max_readahead = cfg->max_io;
	conn->max_background = 64;
	/* Always readdirplus, not the kernel's "auto" guess: the attributes
	 * come with every entry anyway, and they spare "ls -l" a lookup per
	 * file. */
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
#ifdef FUSE_CAP_HANDLE_KILLPRIV_V2
	/* SMB keeps no setuid bits or file capabilities to clear on a
	 * write: say so, and the kernel stops asking getxattr
	 * security.capability before every write(2), which costs one FUSE
	 * round trip per write as much as the write itself (libfuse 3.14,
	 * Debian 12's, cannot ask: fuse_io.c adds the flag there). */
	if (conn->capable & FUSE_CAP_HANDLE_KILLPRIV_V2)
		conn->want |= FUSE_CAP_HANDLE_KILLPRIV_V2;
#endif
	/* Locks go to the server (fs_lock, fs_flock), unless nobrl: then
	 * the kernel keeps them, seen by this mount alone. */
	if (cfg->nobrl)
		conn->want &= ~(FUSE_CAP_POSIX_LOCKS | FUSE_CAP_FLOCK_LOCKS);
	else
		conn->want |= conn->capable & (FUSE_CAP_POSIX_LOCKS | FUSE_CAP_FLOCK_LOCKS);
	if (cfg->ready)
		cfg->ready(cfg);
	return cfg;
}

static int fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	log_debug("getattr %s", path ? path : "(fh)");
	/* An open file is asked through its handle: its name may have
	 * gone, or belong to another file by now. */
	if (file_of(fi))
		return client_fstat(cl(), file_of(fi), st);
	return client_stat(cl(), path, st);
}

static int fs_readlink(const char *path, char *buf, size_t size)
{
	log_debug("readlink %s", path);
	return client_readlink(cl(), path, buf, size);
}

static int fs_mkdir(const char *path, mode_t mode)
{
	log_debug("mkdir %s", path);
	return client_mkdir(cl(), path, mode);
}

static int fs_unlink(const char *path)
{
	log_debug("unlink %s", path);
	return client_unlink(cl(), path);
}

static int fs_rmdir(const char *path)
{
	log_debug("rmdir %s", path);
	return client_rmdir(cl(), path);
}

static int fs_symlink(const char *target, const char *path)
{
	log_debug("symlink %s -> %s", path, target);
	return client_symlink(cl(), target, path);
}

static int fs_rename(const char *from, const char *to, unsigned int flags)
{
	log_debug("rename %s -> %s (flags %u)", from, to, flags);
	return client_rename(cl(), from, to, flags);
}

static int fs_link(const char *from, const char *to)
{
	log_debug("link %s -> %s", to, from);
	return client_link(cl(), from, to);
}

static int fs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	log_debug("chmod %s %o", path ? path : "(fh)", (unsigned)mode);
	return client_chmod(cl(), path ? path : file_of(fi)->path, mode);
}

/* SMB (without POSIX extensions) has no owners to change: a chown to
 * the owner shown already succeeds; any other is EPERM, or ignored with
 * -o ignore_chown. */
static int fs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	struct stat st;
	int ret;

	log_debug("chown %s %d:%d", path ? path : "(fh)", (int)uid, (int)gid);
	ret = path ? client_stat(cl(), path, &st) : client_fstat(cl(), file_of(fi), &st);
	if (ret)
		return ret;
	if ((uid == (uid_t)-1 || uid == st.st_uid) && (gid == (gid_t)-1 || gid == st.st_gid))
		return 0;
	return cfg_of()->ignore_chown ? 0 : -EPERM;
}

static int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	log_debug("truncate %s %lld", path ? path : "(fh)", (long long)size);
	return client_truncate(cl(), path, file_of(fi), size);
}

static int open_common(const char *path, int flags, mode_t mode, struct fuse_file_info *fi)
{
	struct client_file *f;
	int ret;

	ret = client_open_file(cl(), path, flags, mode, &f, NULL);
	if (ret)
		return ret;
	fi->fh = (uint64_t)(uintptr_t)f;
	if (cfg_of()->cache == CACHE_LOOSE)
		fi->keep_cache = 1;
	/* An O_APPEND write must reach the client layer whole, to be
	 * appended in one piece (client_append.c); through the page cache
	 * the kernel splits a write that crosses a page boundary. */
	if (cfg_of()->cache == CACHE_NONE || (flags & O_APPEND))
		fi->direct_io = 1;
	/* fs_flush has nothing to do for a file not open for writing:
	 * spare the kernel the round trip, unless locks go to the server,
	 * as a close (flush) must then drop the closing process's locks
	 * (POSIX's rule). */
	fi->noflush = cfg_of()->nobrl && (flags & O_ACCMODE) == O_RDONLY;
	return 0;
}

/* Paths answered -ESTALE a moment ago (see fs_open), by hash, so that
 * the VFS's one retry gets ENOENT if the name is still gone: a walk that
 * is not looked up again (a reopen through /proc/self/fd/N) or another
 * client racing would otherwise show ESTALE to the program.  A
 * collision of two paths costs at worst that ESTALE. */
#define STALE_SLOTS 8
#define STALE_MS 1000
static pthread_mutex_t stale_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	uint64_t hash;
	uint64_t at;		/* now_ms() */
} stale[STALE_SLOTS];		/* stale_lock */

/* True for the retry of an open just answered -ESTALE (and forgets it);
 * false the first time, which it notes.  started: when this open began
 * (now_ms()), since the retry's own wait for the server (a
 * delete-pending name is tried for over a second) must not count. */
static bool stale_again(const char *path, uint64_t started)
{
	uint64_t h = str_hash(path);
	size_t i = h % STALE_SLOTS;
	bool again;

	pthread_mutex_lock(&stale_lock);
	again = stale[i].hash == h && started >= stale[i].at && started - stale[i].at < STALE_MS;
	stale[i].hash = again ? 0 : h;
	stale[i].at = now_ms();
	pthread_mutex_unlock(&stale_lock);
	return again;
}

static int fs_open(const char *path, struct fuse_file_info *fi)
{
	uint64_t started = now_ms();
	int ret;

	log_debug("open %s flags 0%o", path, (unsigned)fi->flags);
	ret = open_common(path, fi->flags, 0, fi);
	/* The kernel opens only a name it holds an entry for (kept for
	 * actimeo), and never tells the daemon O_CREAT: not found now means
	 * another client removed the name since.  -ESTALE has the VFS look
	 * the name up again, past its entry and ours (the client layer just
	 * forgot it), and retry once: open(O_CREAT) then creates the file as
	 * it must, a plain open gets ENOENT.  (An O_EXCL create never comes
	 * here: the kernel looks the name up first, and the mount answers
	 * from its attribute cache.) */
	if (ret == -ENOENT && !stale_again(path, started))
		ret = -ESTALE;
	return ret;
}

static int fs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	log_debug("create %s flags 0%o mode %o", path, (unsigned)fi->flags, (unsigned)mode);
	return open_common(path, fi->flags | O_CREAT, mode, fi);
}

static int fs_read(const char *path, char *buf, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	ssize_t n;

	(void)path;
	log_debug("read %s %zu@%lld", path ? path : "(fh)", size, (long long)off);
	n = client_read(cl(), file_of(fi), buf, size, off);
	return (int)n;
}

static int fs_write(const char *path, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	ssize_t n;

	(void)path;
	log_debug("write %s %zu@%lld", path ? path : "(fh)", size, (long long)off);
	n = client_write(cl(), file_of(fi), buf, size, off);
	return (int)n;
}

static int fs_statfs(const char *path, struct statvfs *st)
{
	(void)path;
	return client_statfs(cl(), st);
}

/* flush runs at every close(2) of a descriptor: what was written
 * through it reaches the server (write-behind), and a write that failed
 * there is close's answer.  Not SMB2 FLUSH: forcing the server to disk
 * each time is fsync's job, not close's. */
static int fs_flush(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	return file_of(fi) ? client_flush_writes(cl(), file_of(fi)) : 0;
}

/* fcntl locks.  libfuse also calls this at every flush (close) with
 * F_UNLCK over the whole file for the closing process: POSIX's "any
 * close drops the process's locks on the file". */
static int fs_lock(const char *path, struct fuse_file_info *fi, int cmd, struct flock *lk)
{
	uint64_t start = (uint64_t)lk->l_start, end;
	int type = lk->l_type, ret;
	pid_t pid = lk->l_pid;

	/* libfuse hands the kernel's [start, end] as l_start and l_len,
	 * 0 for "to the end of file". */
	/* SMB locks byte ranges of files only. */
	if (!file_of(fi))
		return -ENOLCK;
	end = lk->l_len ? start + (uint64_t)lk->l_len - 1 : UINT64_MAX;
	log_debug("lock %s cmd %d type %d %llu-%llu owner %llx", path ? path : "(fh)", cmd,
		  type, (unsigned long long)start, (unsigned long long)end,
		  (unsigned long long)fi->lock_owner);
	if (cmd == F_GETLK) {
		ret = client_getlk(cl(), file_of(fi), fi->lock_owner, &type, &start, &end, &pid);
		if (ret)
			return ret;
		lk->l_type = (short)type;
		lk->l_whence = SEEK_SET;
		lk->l_start = (off_t)start;
		lk->l_len = end >= INT64_MAX ? 0 : (off_t)(end - start + 1);
		lk->l_pid = pid;
		return 0;
	}
	return client_setlk(cl(), file_of(fi), fi->lock_owner, pid, type, start, end,
			    cmd == F_SETLKW);
}

/* flock(2): the owner is the open file description. */
static int fs_flock(const char *path, struct fuse_file_info *fi, int op)
{
	log_debug("flock %s op %d owner %llx", path ? path : "(fh)", op,
		  (unsigned long long)fi->lock_owner);
	if (!file_of(fi))
		return -ENOLCK;	/* a directory: SMB locks files only */
	return client_flock(cl(), file_of(fi), fi->lock_owner, op);
}

static int fs_release(const char *path, struct fuse_file_info *fi)
{
	log_debug("release %s", path ? path : "(fh)");
	return client_close_file(cl(), file_of(fi));
}

static int fs_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	(void)path;
	(void)datasync;
	return client_flush(cl(), file_of(fi));
}

static int fs_setxattr(const char *path, const char *name, const char *value, size_t size,
		       int flags)
{
	log_debug("setxattr %s %s", path, name);
	return client_setxattr(cl(), path, name, value, size, flags);
}

static int fs_getxattr(const char *path, const char *name, char *value, size_t size)
{
	return (int)client_getxattr(cl(), path, name, value, size);
}

static int fs_listxattr(const char *path, char *list, size_t size)
{
	return (int)client_listxattr(cl(), path, list, size);
}

static int fs_removexattr(const char *path, const char *name)
{
	return client_removexattr(cl(), path, name);
}

/* The directory's listing is made at offset 0 (opendir, or rewinddir)
 * and served from there at the offsets libfuse hands back: entry i has
 * offset i + 1 (see dirlist.h for why offsets). */
static int fs_opendir(const char *path, struct fuse_file_info *fi)
{
	struct dirlist *d = calloc(1, sizeof(*d));

	(void)path;
	if (!d)
		return -ENOMEM;
	fi->fh = (uint64_t)(uintptr_t)d | FH_DIR;
	return 0;
}

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
		      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct dirlist *d = dir_of(fi);
	enum fuse_fill_dir_flags fill = (flags & FUSE_READDIR_PLUS) ? FUSE_FILL_DIR_PLUS : 0;
	size_t i;
	int ret;

	log_debug("readdir %s from %lld", path, (long long)off);
	if (off == 0) {
		dirlist_clear(d);
		ret = client_readdir(cl(), path, dirlist_add, d);
		if (ret == 0)
			ret = d->err;
		if (ret)
			return ret;
	}
	for (i = (size_t)off; i < d->n; i++)
		if (filler(buf, d->e[i].name, &d->e[i].st, (off_t)i + 1, fill))
			break;	/* the kernel's buffer is full: it asks again from here */
	return 0;
}

static int fs_releasedir(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	dirlist_free(dir_of(fi));
	return 0;
}

static int fs_access(const char *path, int mask)
{
	struct stat st;
	int ret = client_stat(cl(), path, &st);

	if (ret)
		return ret;
	if ((mask & W_OK) && !(st.st_mode & 0222))
		return -EACCES;
	return 0;
}

static int fs_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	log_debug("utimens %s", path ? path : "(fh)");
	return client_utimens(cl(), path, file_of(fi), tv);
}

static int fs_fallocate(const char *path, int mode, off_t off, off_t len,
			struct fuse_file_info *fi)
{
	(void)path;
	return client_fallocate(cl(), file_of(fi), mode, off, len);
}

static ssize_t fs_copy_file_range(const char *path_in, struct fuse_file_info *fi_in,
				  off_t off_in, const char *path_out,
				  struct fuse_file_info *fi_out, off_t off_out, size_t len,
				  int flags)
{
	(void)path_in;
	(void)path_out;
	if (flags)
		return -EINVAL;
	log_debug("copy_file_range %zu bytes", len);
	return client_copy_range(cl(), file_of(fi_in), off_in, file_of(fi_out), off_out, len);
}

const struct fuse_operations fs_ops = {
	.getattr = fs_getattr,
	.readlink = fs_readlink,
	.mkdir = fs_mkdir,
	.unlink = fs_unlink,
	.rmdir = fs_rmdir,
	.symlink = fs_symlink,
	.rename = fs_rename,
	.link = fs_link,
	.chmod = fs_chmod,
	.chown = fs_chown,
	.truncate = fs_truncate,
	.open = fs_open,
	.read = fs_read,
	.write = fs_write,
	.statfs = fs_statfs,
	.flush = fs_flush,
	.release = fs_release,
	.fsync = fs_fsync,
	.setxattr = fs_setxattr,
	.getxattr = fs_getxattr,
	.listxattr = fs_listxattr,
	.removexattr = fs_removexattr,
	.opendir = fs_opendir,
	.readdir = fs_readdir,
	.releasedir = fs_releasedir,
	.init = fs_init,
	.access = fs_access,
	.create = fs_create,
	.utimens = fs_utimens,
	.fallocate = fs_fallocate,
	.copy_file_range = fs_copy_file_range,
	.lock = fs_lock,
	.flock = fs_flock,
};
