/*
 * attr.h - SMB attributes <-> struct stat: FILETIME <-> timespec (100 ns
 * precision kept), file attributes -> mode, allocation -> st_blocks.
 * SMB has no POSIX owner or mode bits here: owner and mode come from the
 * mount options, with the read-only attribute taking away write bits.
 */
#ifndef SMBFUSE_ATTR_H
#define SMBFUSE_ATTR_H

#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "pdu.h"

struct attr_cfg {
	uid_t uid;
	gid_t gid;
	mode_t file_mode;		/* permission bits of files, e.g. 0644 */
	mode_t dir_mode;		/* of directories, e.g. 0755 */
	blksize_t blksize;		/* st_blksize: the preferred I/O size */
};

/* FILETIME (100 ns since 1601-01-01 UTC) <-> timespec. */
struct timespec filetime_to_timespec(uint64_t ft);
uint64_t timespec_to_filetime(const struct timespec *ts);

/* The inode number to show: the server's file index, or, from servers
 * that send none (0: impacket's), a hash of the path, which is stable and
 * never 0 (glibc's readdir skips entries whose inode number is 0). */
uint64_t attr_ino(uint64_t server_index, const char *path);

/* Fill st from the attributes of one file.  reparse_tag is non-zero for a
 * reparse point (a symlink shows as S_IFLNK). */
void attr_to_stat(const struct attr_cfg *cfg, const struct smb2_attrs *a, uint64_t ino,
		  uint32_t nlink, uint32_t reparse_tag, struct stat *st);

#endif
