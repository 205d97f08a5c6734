/*
 * client.h - file system verbs on one share: stat, open, read, write,
 * readdir, rename... each turned into as few SMB2 round trips as the
 * protocol allows (compounds), and the only place where an NTSTATUS
 * becomes an errno.
 *
 * Paths are the FUSE's: UTF-8, '/'-separated, starting with '/'.  Every
 * function returns 0 (or a count) or -errno, and may be called from any
 * number of threads at once.
 */
#ifndef SMBFUSE_CLIENT_H
#define SMBFUSE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include "attr.h"
#include "pdu.h"
#include "session.h"

struct client;

struct client_opts {
	struct session_opts session;
	const char *prefix;		/* path inside the share ('\\'-separated), or "" */
	struct attr_cfg attr;
	int actimeo_ms;			/* attribute cache lifetime; 0 = no cache */
	bool mfsymlinks;		/* symlinks as Minshall+French files where the
					 * server refuses reparse points */
	bool writebehind;		/* write(2) returns before the server's answer
					 * (client_writebehind.c) */
	/* -o multiuser: every local user logs on with their own
	 * credentials (client_users.c).  user_credentials: the template
	 * for their credentials files (NULL: ~/.smbcredentials); user_idle_s:
	 * seconds after which an unused user session is closed (0: 600). */
	bool multiuser;
	const char *user_credentials;
	int user_idle_s;
};

/* Connect and check that the prefix is a directory.  err explains. */
int client_open(const struct client_opts *o, struct client **c, char err[SESSION_ERRLEN]);
void client_close(struct client *c);

/* An open file or directory. */
struct smb_open;
struct client_file {
	struct smb_open *open;		/* the handle, kept across reconnects */
	bool is_dir;
	bool writable;
	bool append;			/* O_APPEND: every write goes at the server's end of file */
	char *path;			/* the FUSE path it was opened by */
	struct client *c;
	struct readahead *ra;		/* NULL for directories and write-only files */
	struct writebehind *wb;		/* NULL: writes go through (read-only, O_APPEND,
					 * O_SYNC, locked, or write-behind off) */
	struct user_session *user;	/* the user whose session opened it (a reference), or NULL */
	struct lockfile *lf;		/* its file's locks, once it locked (client_lock.c) */
	ino_t ino;			/* the file's, once client_lock.c asked (0: not yet) */
	/* c->writers_lock: the list of writable files, how many
	 * writer_borrow callers use fid, and whether its CLOSE is on the way. */
	struct client_file *next_writer;
	int borrowed;
	bool closing;
};

/* stat(2) of a path; st_ino is the server's file index. */
int client_stat(struct client *c, const char *path, struct stat *st);
/* fstat(2) of an open file. */
int client_fstat(struct client *c, struct client_file *f, struct stat *st);

/* open(2)/creat(2): flags as open(2) takes them; mode for O_CREAT. With
 * st non-NULL the file's attributes after the open are returned. */
int client_open_file(struct client *c, const char *path, int flags, mode_t mode,
		     struct client_file **f, struct stat *st);
int client_close_file(struct client *c, struct client_file *f);

/* A short count only at end of file. */
ssize_t client_read(struct client *c, struct client_file *f, void *buf, size_t size, off_t off);
ssize_t client_write(struct client *c, struct client_file *f, const void *buf, size_t size,
		     off_t off);
/* fsync(2): what this mount wrote to the file reaches the server (write-
 * behind), and the server its disk (SMB2 FLUSH). */
int client_flush(struct client *c, struct client_file *f);
/* close(2) of a descriptor of f: wait for what was written through it to
 * be at the server; a failure of a write not reported yet is the answer. */
int client_flush_writes(struct client *c, struct client_file *f);

int client_truncate(struct client *c, const char *path, struct client_file *f, off_t size);
/* times[0] atime, times[1] mtime; tv_nsec UTIME_NOW / UTIME_OMIT honoured. */
int client_utimens(struct client *c, const char *path, struct client_file *f,
		   const struct timespec times[2]);
/* Only the write bits mean anything to SMB: none -> READONLY attribute. */
int client_chmod(struct client *c, const char *path, mode_t mode);

int client_mkdir(struct client *c, const char *path, mode_t mode);
int client_rmdir(struct client *c, const char *path);
int client_unlink(struct client *c, const char *path);
/* flags: RENAME_NOREPLACE honoured; RENAME_EXCHANGE is -EINVAL. */
int client_rename(struct client *c, const char *from, const char *to, unsigned flags);
int client_link(struct client *c, const char *from, const char *to);
int client_symlink(struct client *c, const char *target, const char *path);
int client_readlink(struct client *c, const char *path, char *buf, size_t size);

int client_statfs(struct client *c, struct statvfs *st);

/* Called once per entry; return non-zero to stop early. */
typedef int (*client_dir_fn)(void *arg, const char *name, const struct stat *st);
int client_readdir(struct client *c, const char *path, client_dir_fn fn, void *arg);

/* Extended attributes, as SMB2 EAs under the "user." namespace. */
ssize_t client_getxattr(struct client *c, const char *path, const char *name, void *buf,
			size_t size);
int client_setxattr(struct client *c, const char *path, const char *name, const void *value,
		    size_t size, int flags);
ssize_t client_listxattr(struct client *c, const char *path, char *buf, size_t size);
int client_removexattr(struct client *c, const char *path, const char *name);

/* Server-side copy (FSCTL_SRV_COPYCHUNK_WRITE); returns bytes copied. */
ssize_t client_copy_range(struct client *c, struct client_file *in, off_t off_in,
			  struct client_file *out, off_t off_out, size_t len);

/* fallocate: mode 0 extends the allocation, FALLOC_FL_PUNCH_HOLE|KEEP_SIZE
 * zeroes a range (FSCTL_SET_ZERO_DATA); others -EOPNOTSUPP. */
int client_fallocate(struct client *c, struct client_file *f, int mode, off_t off, off_t len);

/* Byte-range locks held on the server (client_lock.c).  owner is the
 * kernel's lock owner; start and end are inclusive (end OFFSET_MAX: to
 * the end of any file).  setlk: type F_RDLCK, F_WRLCK or F_UNLCK; with
 * wait it waits for a conflicting lock to go (until interrupted: -EINTR),
 * else -EAGAIN.  getlk: *type in, the conflicting lock (or F_UNLCK) out.
 * flock: op as flock(2) takes it.  Closing a file does not unlock: the
 * caller unlocks the closing process's locks first (POSIX's rule). */
int client_setlk(struct client *c, struct client_file *f, uint64_t owner, pid_t pid, int type,
		 uint64_t start, uint64_t end, bool wait);
int client_getlk(struct client *c, struct client_file *f, uint64_t owner, int *type,
		 uint64_t *start, uint64_t *end, pid_t *pid);
int client_flock(struct client *c, struct client_file *f, uint64_t owner, int op);

/* The errno for a server status (context-free cases). */
int client_errno(uint32_t status);

/* What the file system layer does when another client changed a file
 * this mount may have cached (a lease break): drop the kernel's cache. */
typedef void (*client_invalidate_fn)(void *arg, const char *path);
/* Set (or, with NULL, clear and wait out a running call). */
void client_set_invalidate(struct client *c, client_invalidate_fn fn, void *arg);

/* Who the calling thread works for until it says otherwise (multiuser:
 * whose session its requests go on): the file system layer's caller. */
void client_set_caller(struct client *c, uid_t uid, gid_t gid, pid_t pid);

/* What tells a request waiting for a reconnect to give up: returns
 * -errno (the mount is going away, the caller was interrupted) or 0. */
typedef int (*client_abort_fn)(void *arg);
void client_set_abort(struct client *c, client_abort_fn fn, void *arg);


#endif
