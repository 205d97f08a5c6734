/*
 * attr.c - SMB attributes <-> struct stat (see attr.h).
 */
#include "config.h"

#include <string.h>

#include "attr.h"
#include "smb2.h"
#include "util.h"

/* Seconds from 1601-01-01 to 1970-01-01. */
#define EPOCH_DIFF 11644473600LL

struct timespec filetime_to_timespec(uint64_t ft)
{
	struct timespec ts;
	int64_t secs = (int64_t)(ft / 10000000ULL) - EPOCH_DIFF;

	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)(ft % 10000000ULL) * 100;
	return ts;
}

uint64_t timespec_to_filetime(const struct timespec *ts)
{
	int64_t secs = (int64_t)ts->tv_sec + EPOCH_DIFF;

	if (secs < 0)
		return 0;
	return (uint64_t)secs * 10000000ULL + (uint64_t)ts->tv_nsec / 100;
}

uint64_t attr_ino(uint64_t server_index, const char *path)
{
	uint64_t h;

	if (server_index)
		return server_index;
	h = str_hash(path);
	return h ? h : 1;
}

void attr_to_stat(const struct attr_cfg *cfg, const struct smb2_attrs *a, uint64_t ino,
		  uint32_t nlink, uint32_t reparse_tag, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	if (reparse_tag == IO_REPARSE_TAG_SYMLINK) {
		st->st_mode = S_IFLNK | 0777;
	} else if (a->attributes & FILE_ATTRIBUTE_DIRECTORY) {
		/* Windows ignores READONLY on directories; so does smbfuse. */
		st->st_mode = S_IFDIR | (cfg->dir_mode & 07777);
	} else {
		st->st_mode = S_IFREG | (cfg->file_mode & 07777);
		if (a->attributes & FILE_ATTRIBUTE_READONLY)
			st->st_mode &= ~(mode_t)(S_IWUSR | S_IWGRP | S_IWOTH);
	}
	st->st_ino = ino;
	st->st_nlink = nlink ? nlink : 1;
	st->st_uid = cfg->uid;
	st->st_gid = cfg->gid;
	st->st_size = reparse_tag == IO_REPARSE_TAG_SYMLINK ? 0 : (off_t)a->end_of_file;
	st->st_blocks = (blkcnt_t)((a->allocation_size + 511) / 512);
	st->st_blksize = cfg->blksize;
	st->st_atim = filetime_to_timespec(a->access_time);
	st->st_mtim = filetime_to_timespec(a->write_time);
	st->st_ctim = filetime_to_timespec(a->change_time);
}
