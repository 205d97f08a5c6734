/*
 * client_ns.c - changes to the namespace and to attributes: mkdir, rmdir,
 * unlink, rename, link, symlink/readlink, truncate, utimens, chmod.  Each
 * is one compound (CREATE + SET_INFO/IOCTL + CLOSE) where it can be.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client_int.h"
#include "log.h"
#include "ntstatus.h"
#include "smb2.h"
#include "utf16.h"

/* CREATE + SET_INFO(FILE, cls, buf) + CLOSE on a path.  Returns the
 * first failing status's errno; *status gets that status. */
static int path_set_info(struct client *c, const char *sp, uint32_t access, uint32_t options,
			 uint8_t cls, const uint8_t *buf, size_t n, uint32_t *status, bool *resent)
{
	struct mid_req m = {
		.kind = MID_SET_INFO, .info_type = SMB2_0_INFO_FILE, .info_class = cls,
		.input = buf, .input_len = n, .resent = resent,
	};

	return path_compound(c, sp, access, FILE_OPEN, options, &m, status, NULL);
}

/* SET_INFO on the open file if there is one, else on the path, with
 * the file's attributes asked for in the same compound: they replace
 * the cached ones, so the getattr the kernel sends after a utimens or
 * chmod (and chmod's own stat) costs no round trip. */
static int set_info(struct client *c, const char *path, struct client_file *f, uint32_t access,
		    uint8_t cls, const uint8_t *buf, size_t n)
{
	const char *name = path ? path : f->path;
	struct file_all_info fa;
	struct mid_req m = {
		.kind = MID_SET_INFO, .info_type = SMB2_0_INFO_FILE, .info_class = cls,
		.input = buf, .input_len = n, .then_info = &fa,
	};
	struct wb_slot *held = NULL;
	const void *data;
	struct stat st;
	uint32_t status;
	ssize_t written;
	size_t len;
	off_t off;
	char *sp;
	int ret;

	/* Writes behind this change go first: a truncate must not be
	 * undone by a WRITE after it, nor times by a write.  A new file's
	 * held first bytes go in the same compound, before the change. */
	if (f)
		held = wb_take_held(f->wb, &data, &len, &off);	/* NULL without wb */
	if (held)
		wb_flush_others(c, f);
	else if (f)
		wb_flush_like(c, f);
	else
		wb_flush_path(c, path);
	file_changed(c, name);
	memset(&fa, 0, sizeof(fa));
	if (held) {
		ret = handle_write_then(c, f->open, data, len, off, &written, &m);
		wb_held_done(held, written);
	} else if (f) {
		ret = handle_request(c, f->open, &m, NULL, NULL);
	} else {
		ret = smb_path(c, path, &sp);
		if (ret)
			return ret;
		ret = path_compound(c, sp, access | FILE_READ_ATTRIBUTES, FILE_OPEN,
				    FILE_OPEN_REPARSE_POINT, &m, &status, NULL);
		free(sp);
	}
	attrcache_forget(c->cache, name);
	/* Not for links (their stat is worked out apart: client_ns's
	 * readlink, mfsymlinks) nor when the query failed. */
	if (ret == 0 && fa.a.creation_time &&
	    !(fa.a.attributes & FILE_ATTRIBUTE_REPARSE_POINT)) {
		attr_to_stat(&c->cfg, &fa.a, attr_ino(fa.index_number, name), fa.nlink, 0, &st);
		if (!(c->mfsymlinks && mfsymlink_candidate(&st)))
			attrcache_put(c->cache, name, &st);
	}
	file_changed(c, name);	/* before and after: see client_write */
	return ret;
}

/* MS-FSCC 2.4.13 FileEndOfFileInformation */
int client_truncate(struct client *c, const char *path, struct client_file *f, off_t size)
{
	uint8_t buf[8];

	if (size < 0)
		return -EINVAL;
	le64_put(buf, (uint64_t)size);
	return set_info(c, path, f, FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES,
			FileEndOfFileInformation, buf, sizeof(buf));
}

/* MS-FSCC 2.4.7 FileBasicInformation: a time of 0 means "leave it". */
static void basic_info(uint8_t buf[40], uint64_t atime, uint64_t mtime, uint32_t attributes)
{
	memset(buf, 0, 40);
	le64_put(buf + 8, atime);
	le64_put(buf + 16, mtime);
	le32_put(buf + 32, attributes);
}

static uint64_t time_arg(const struct timespec *t, uint64_t now)
{
	if (t->tv_nsec == UTIME_OMIT)
		return 0;
	if (t->tv_nsec == UTIME_NOW)
		return now;
	return timespec_to_filetime(t);
}

int client_utimens(struct client *c, const char *path, struct client_file *f,
		   const struct timespec times[2])
{
	struct timespec now;
	uint64_t ftnow;
	uint8_t buf[40];

	struct client_file *w = NULL;
	int ret;

	clock_gettime(CLOCK_REALTIME, &now);
	ftnow = timespec_to_filetime(&now);
	basic_info(buf, time_arg(&times[0], ftnow), time_arg(&times[1], ftnow), 0);
	/* By path, while a handle that wrote may still be open (the kernel
	 * sends RELEASE after close(2) returns, so "write, close, touch"
	 * can reach us in that order): through that handle, or its close
	 * would set the write time to "now" again. */
	if (!f && path && (w = writer_borrow(c, path)) != NULL)
		f = w;
	ret = set_info(c, path, f, FILE_WRITE_ATTRIBUTES, FileBasicInformation, buf, sizeof(buf));
	if (w)
		writer_return(c, w);
	return ret;
}

int client_chmod(struct client *c, const char *path, mode_t mode)
{
	struct stat st;
	uint32_t attrs;
	uint8_t buf[40];
	int ret;

	ret = client_stat(c, path, &st);
	if (ret)
		return ret;
	if (S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode))
		return 0;	/* only files carry a meaningful READONLY */
	if (!!(st.st_mode & 0200) == !!(mode & 0222))
		return 0;	/* the write bits already say the same */
	/* The other attribute bits are not in struct stat: NORMAL clears
	 * them all, which is what a chmod of a plain file means here
	 * (ARCHIVE is kept as Windows would set it). */
	attrs = (mode & 0222) ? FILE_ATTRIBUTE_ARCHIVE : FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_ARCHIVE;
	basic_info(buf, 0, 0, attrs);
	return set_info(c, path, NULL, FILE_WRITE_ATTRIBUTES, FileBasicInformation, buf, sizeof(buf));
}

int client_mkdir(struct client *c, const char *path, mode_t mode)
{
	/* The new directory's attributes come in the same compound
	 * (CREATE + QUERY_INFO + CLOSE): the kernel stats what it made
	 * right after, and that then costs no round trip. */
	struct file_all_info fa;
	struct mid_req m = {
		.kind = MID_QUERY_INFO, .info_type = SMB2_0_INFO_FILE,
		.info_class = FileAllInformation, .output_len = 4096,
	};
	struct conn_msg rsp = { 0 };
	const uint8_t *out;
	struct stat st;
	size_t n;
	char *sp;
	int ret;

	(void)mode;
	ret = smb_path(c, path, &sp);
	if (ret)
		return ret;
	ret = path_compound(c, sp, FILE_READ_ATTRIBUTES, FILE_CREATE, FILE_DIRECTORY_FILE, &m,
			    NULL, &rsp);
	free(sp);
	forget_with_parent(c, path);
	names_after(c, path, ret, true);
	if (ret == 0) {
		namecache_created_dir(c->names, path);	/* empty, as only we know */
		if (pdu_query_info_dec(rsp.buf, rsp.len, &out, &n) == 0 &&
		    file_all_info_dec(out, n, &fa) == 0 &&
		    (fa.a.attributes & FILE_ATTRIBUTE_DIRECTORY)) {
			attr_to_stat(&c->cfg, &fa.a, attr_ino(fa.index_number, path), fa.nlink, 0, &st);
			attrcache_put(c->cache, path, &st);
		}
	}
	conn_msg_free(&rsp);
	return ret;
}

/* Delete a path.  A file: CREATE(DELETE, FILE_DELETE_ON_CLOSE) + CLOSE;
 * the server deletes it when that handle (or, if others have it open,
 * the last one) closes.  One request fewer for the server than a
 * SET_INFO(disposition): an rm -rf of /usr/include (8058 files) took
 * 5.95/6.09/6.01 s with SET_INFO and 5.54/5.36/5.26 s with this.  A
 * directory: CREATE + SET_INFO(disposition) + CLOSE, because the server
 * checks that a directory is empty at SET_INFO, and rmdir must fail
 * there (ENOTEMPTY), not at a close whose status nobody reads. */
static int delete_path(struct client *c, const char *sp, uint32_t options, uint32_t *status)
{
	uint8_t yes = 1;
	bool resent = false;
	int ret;

	if (options & FILE_NON_DIRECTORY_FILE)
		ret = path_open_close(c, sp, DELETE, options | FILE_OPEN_REPARSE_POINT |
				      FILE_DELETE_ON_CLOSE, status, &resent);
	else
		ret = path_set_info(c, sp, DELETE | FILE_READ_ATTRIBUTES,
				    options | FILE_OPEN_REPARSE_POINT, FileDispositionInformation,
				    &yes, 1, status, &resent);
	/* Sent again after a lost connection and now not found: the first
	 * one reached the server; either way the name is gone, as asked. */
	if (ret == -ENOENT && resent) {
		log_info("a delete was sent again after a reconnect and found nothing: done before");
		ret = 0;
	}
	return ret;
}

/* Clear READONLY so that a POSIX unlink/rename of a read-only file works
 * (Windows refuses to delete one; POSIX only asks about the directory). */
static int clear_readonly(struct client *c, const char *sp)
{
	uint8_t buf[40];
	uint32_t status;

	basic_info(buf, 0, 0, FILE_ATTRIBUTE_NORMAL);
	return path_set_info(c, sp, FILE_WRITE_ATTRIBUTES, FILE_OPEN_REPARSE_POINT,
			     FileBasicInformation, buf, sizeof(buf), &status, NULL);
}

int client_unlink(struct client *c, const char *path)
{
	uint32_t status;
	char *sp;
	int ret;

	ret = smb_path(c, path, &sp);
	if (ret)
		return ret;
	ret = delete_path(c, sp, FILE_NON_DIRECTORY_FILE, &status);
	if (status == STATUS_CANNOT_DELETE || status == STATUS_ACCESS_DENIED) {
		if (clear_readonly(c, sp) == 0)
			ret = delete_path(c, sp, FILE_NON_DIRECTORY_FILE, &status);
	}
	free(sp);
	forget_with_parent(c, path);
	names_after(c, path, ret, false);
	return ret;
}

int client_rmdir(struct client *c, const char *path)
{
	uint32_t status;
	char *sp;
	int ret;

	ret = smb_path(c, path, &sp);
	if (ret)
		return ret;
	if (sp[0] == '\0' || !strcmp(sp, c->prefix)) {
		free(sp);
		return -EBUSY;		/* the mount's root */
	}
	ret = delete_path(c, sp, FILE_DIRECTORY_FILE, &status);
	free(sp);
	forget_with_parent(c, path);
	names_after(c, path, ret, false);
	namecache_forget_tree(c->names, path);
	return ret;
}

/* Opens follow a rename on every session's tree: the mount's own and
 * (multiuser) each user's. */
struct renamed {
	const char *from, *to;
};

static void renamed_on(struct tree *t, void *arg)
{
	const struct renamed *r = arg;

	open_renamed(t, r->from, r->to);
}

/* CREATE(from) + SET_INFO(FileRenameInformation or FileLinkInformation) + CLOSE */
static int rename_or_link(struct client *c, const char *from, const char *to, uint8_t cls,
			  bool replace, uint32_t *status)
{
	struct wr info;
	struct stat sb;
	char *sf = NULL, *st = NULL;
	bool resent = false;
	int ret;

	wr_init(&info);
	ret = smb_path(c, from, &sf);
	if (!ret)
		ret = smb_path(c, to, &st);
	if (!ret)
		ret = file_rename_info_enc(&info, replace, st);
	if (!ret)
		ret = path_set_info(c, sf, cls == FileRenameInformation ? DELETE | FILE_READ_ATTRIBUTES :
				    FILE_READ_ATTRIBUTES, FILE_OPEN_REPARSE_POINT, cls, info.p, info.len,
				    status, &resent);
	/* A rename sent again after a lost connection that no longer finds
	 * its source: done already if the target is there now. */
	if (ret == -ENOENT && resent && cls == FileRenameInformation) {
		attrcache_forget(c->cache, to);
		if (client_stat(c, to, &sb) == 0) {
			log_info("a rename was sent again after a reconnect: it had been done");
			ret = 0;
		}
	}
	/* Opens follow the file: a reopen after a reconnect looks for it
	 * under its new name. */
	if (ret == 0 && cls == FileRenameInformation) {
		struct renamed r = { sf, st };

		users_each_tree(c, renamed_on, &r);
	}
	wr_free(&info);
	free(sf);
	free(st);
	return ret;
}

/* Two names of one file: the same server file index (st_ino is a hash
 * of the path where the server reports none, so that never matches). */
static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && !S_ISDIR(a->st_mode) && a->st_nlink > 1;
}

int client_rename(struct client *c, const char *from, const char *to, unsigned flags)
{
	struct stat sfrom, sto;
	uint32_t status;
	bool moved = true;
	int ret;

	if (flags & ~RENAME_NOREPLACE)
		return -EINVAL;
	/* Whatever stats either name next finds the data written. */
	wb_flush_path(c, from);
	wb_flush_path(c, to);
	ret = rename_or_link(c, from, to, FileRenameInformation, !(flags & RENAME_NOREPLACE), &status);
	/* POSIX lets a directory replace an empty directory; SMB does not:
	 * remove the empty target and try again. */
	if ((status == STATUS_ACCESS_DENIED || status == STATUS_OBJECT_NAME_COLLISION) &&
	    !(flags & RENAME_NOREPLACE) &&
	    client_stat(c, from, &sfrom) == 0 && client_stat(c, to, &sto) == 0) {
		if (same_file(&sfrom, &sto)) {
			/* Two links to one file: POSIX says rename does
			 * nothing and succeeds; SMB refuses. */
			ret = 0;
			moved = false;
		} else if (S_ISDIR(sfrom.st_mode) && S_ISDIR(sto.st_mode)) {
			ret = client_rmdir(c, to);
			if (ret == 0)
				ret = rename_or_link(c, from, to, FileRenameInformation, true, &status);
		} else if (S_ISDIR(sto.st_mode)) {
			ret = -EISDIR;
		} else if (S_ISDIR(sfrom.st_mode)) {
			ret = -ENOTDIR;
		}
	}
	attrcache_forget_tree(c->cache, from);
	attrcache_forget_tree(c->cache, to);
	file_changed(c, from);
	file_changed(c, to);
	forget_with_parent(c, from);
	forget_with_parent(c, to);
	/* A directory moved takes what is known below it along. */
	namecache_forget_tree(c->names, from);
	namecache_forget_tree(c->names, to);
	names_after(c, from, moved ? ret : -EAGAIN, false);
	names_after(c, to, moved ? ret : -EAGAIN, true);
	return ret;
}

int client_link(struct client *c, const char *from, const char *to)
{
	uint32_t status;
	int ret = rename_or_link(c, from, to, FileLinkInformation, false, &status);

	if (status == STATUS_NOT_SUPPORTED || status == STATUS_INVALID_DEVICE_REQUEST ||
	    status == STATUS_INVALID_INFO_CLASS)
		ret = -EPERM;	/* link(2): the file system does not do hard links */
	/* The kernel knows each name as an inode of its own: the old name's
	 * cached link count is now wrong. */
	if (ret == 0)
		kernel_forget_later(c, from);
	forget_with_parent(c, from);
	forget_with_parent(c, to);
	names_after(c, to, ret, true);
	return ret;
}

/* --- symlinks: MS-FSCC 2.1.2.4 Symbolic Link Reparse Data Buffer --------- */

#define REPARSE_MAX 16384

/* CREATE(path, OPEN_REPARSE_POINT) + IOCTL(ctl, input) + CLOSE; the
 * IOCTL response message is handed back in *rsp. */
static int reparse_ioctl(struct client *c, const char *sp, uint32_t access, uint32_t disposition,
			 uint32_t ctl, const uint8_t *in, size_t inlen, struct conn_msg *rsp,
			 uint32_t *status)
{
	struct mid_req m = {
		.kind = MID_IOCTL, .ctl_code = ctl, .input = in, .input_len = inlen,
		.output_len = in ? 0 : REPARSE_MAX,
	};

	return path_compound(c, sp, access, disposition,
			     FILE_OPEN_REPARSE_POINT | FILE_NON_DIRECTORY_FILE, &m, status, rsp);
}

int client_readlink(struct client *c, const char *path, char *buf, size_t size)
{
	struct conn_msg rsp = { 0 };
	struct ioctl_rsp p;
	struct rd r, name;
	uint16_t soff, slen, poff, plen;
	uint32_t status, flags;
	char *sp, *s = NULL, *q;
	long n;
	int ret;

	ret = smb_path(c, path, &sp);
	if (ret)
		return ret;
	if (c->mfsymlinks && size && mfsymlink_read(c, sp, buf, size) > 0) {
		free(sp);
		return 0;
	}
	ret = reparse_ioctl(c, sp, FILE_READ_ATTRIBUTES, FILE_OPEN, FSCTL_GET_REPARSE_POINT, NULL, 0,
			    &rsp, &status);
	free(sp);
	if (status == STATUS_NOT_A_REPARSE_POINT)
		return -EINVAL;		/* readlink(2) on something not a link */
	if (ret)
		return ret;
	ret = -EIO;
	if (pdu_ioctl_dec(rsp.buf, rsp.len, &p) != 0)
		goto out;
	rd_init(&r, p.output, p.output_len);
	if (rd_u32(&r) != IO_REPARSE_TAG_SYMLINK) {
		ret = -EINVAL;		/* another kind of reparse point */
		goto out;
	}
	rd_skip(&r, 4);			/* ReparseDataLength, Reserved */
	soff = rd_u16(&r);
	slen = rd_u16(&r);
	poff = rd_u16(&r);
	plen = rd_u16(&r);
	flags = rd_u32(&r);
	/* Offsets count from the start of PathBuffer (byte 20).  The print
	 * name is what the user wrote; fall back to the substitute name. */
	name = rd_sub(&r, 20 + (plen ? poff : soff), plen ? plen : slen);
	if (r.bad || (name.len & 1))
		goto out;
	n = utf16_to_utf8(name.p, name.len, &s);
	if (n < 0)
		goto out;
	for (q = s; *q; q++)
		if (*q == '\\')
			*q = '/';
	(void)flags;
	if (size == 0) {
		ret = -EINVAL;
		goto out;
	}
	/* FUSE wants it NUL-terminated, truncated if need be. */
	strncpy(buf, s, size - 1);
	buf[size - 1] = '\0';
	ret = 0;
out:
	free(s);
	conn_msg_free(&rsp);
	return ret;
}

int client_symlink(struct client *c, const char *target, const char *path)
{
	struct conn_msg rsp = { 0 };
	struct wr w, name;
	uint32_t status, ustatus;
	size_t len_at;
	char *sp, *t, *q;
	long n;
	int ret;

	ret = smb_path(c, path, &sp);
	if (ret)
		return ret;
	/* Once the server has refused a reparse point, go straight to the
	 * file form (two round trips fewer per link). */
	if (c->mfsymlinks && __atomic_load_n(&c->reparse_refused, __ATOMIC_RELAXED)) {
		ret = mfsymlink_create(c, sp, target);
		free(sp);
		forget_with_parent(c, path);
		names_after(c, path, ret, true);
		return ret;
	}
	t = strdup(target);
	if (!t) {
		free(sp);
		return -ENOMEM;
	}
	for (q = t; *q; q++)
		if (*q == '/')
			*q = '\\';
	wr_init(&w);
	wr_init(&name);
	n = utf16_put(&name, t, strlen(t));
	if (n < 0 || n > 8000) {
		ret = n < 0 ? (int)n : -ENAMETOOLONG;
		goto out;
	}
	/* Substitute and print names are the same; relative unless the
	 * target starts with a separator. */
	wr_u32(&w, IO_REPARSE_TAG_SYMLINK);
	len_at = w.len;
	wr_u16(&w, 0);
	wr_u16(&w, 0);
	wr_u16(&w, 0);				/* SubstituteNameOffset */
	wr_u16(&w, (uint16_t)n);
	wr_u16(&w, (uint16_t)n);		/* PrintNameOffset */
	wr_u16(&w, (uint16_t)n);
	wr_u32(&w, target[0] == '/' ? 0 : SYMLINK_FLAG_RELATIVE);
	wr_bytes(&w, name.p, name.len);
	wr_bytes(&w, name.p, name.len);
	wr_patch_u16(&w, len_at, (uint16_t)(w.len - 8));
	if (w.bad) {
		ret = -ENOMEM;
		goto out;
	}
	ret = reparse_ioctl(c, sp, FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES | FILE_READ_ATTRIBUTES |
			    DELETE, FILE_CREATE, FSCTL_SET_REPARSE_POINT, w.p, w.len, &rsp, &status);
	if (ret && status != STATUS_OBJECT_NAME_COLLISION) {
		log_debug("symlink %s: the server refused the reparse point: %s", path,
			  ntstatus_name(status));
		/* The file may have been created before the server refused
		 * the reparse data: remove it again. */
		delete_path(c, sp, FILE_NON_DIRECTORY_FILE, &ustatus);
		if (status == STATUS_NOT_SUPPORTED || status == STATUS_INVALID_DEVICE_REQUEST ||
		    status == STATUS_ACCESS_DENIED || status == STATUS_IO_REPARSE_TAG_NOT_HANDLED ||
		    status == STATUS_PRIVILEGE_NOT_HELD || status == STATUS_NOT_A_REPARSE_POINT) {
			/* symlink(2): not supported here (Samba 4.17 says
			 * NOT_A_REPARSE_POINT), unless stored as a file. */
			ret = -EPERM;
			__atomic_store_n(&c->reparse_refused, true, __ATOMIC_RELAXED);
			if (c->mfsymlinks)
				ret = mfsymlink_create(c, sp, target);
			else if (!__atomic_exchange_n(&c->told_mfsymlinks, true, __ATOMIC_RELAXED))
				log_warn("the server refuses symbolic links (%s): mount with -o mfsymlinks "
					 "to store them as Minshall+French symlink files, which the Linux "
					 "kernel client and macOS read as links too", ntstatus_name(status));
		}
	}
out:
	conn_msg_free(&rsp);
	wr_free(&w);
	wr_free(&name);
	free(t);
	free(sp);
	forget_with_parent(c, path);
	names_after(c, path, ret, true);
	return ret;
}
