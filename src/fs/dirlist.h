/*
 * dirlist.h - one open directory's listing, held from the first readdir
 * to releasedir, so that readdir can answer at offsets.
 *
 * Why: libfuse 3.14's high-level readdirplus sends entries without
 * their node ids when the file system fills with offset 0 (libfuse
 * then buffers the listing itself), and the kernel, finding no dentry,
 * looks up every name again: "ls -l" of 10,000 files cost 10,000 extra
 * FUSE round trips.  Filled with offsets, libfuse makes the nodes and
 * the kernel keeps the entries readdirplus gave it.
 */
#ifndef SMBFUSE_DIRLIST_H
#define SMBFUSE_DIRLIST_H

#include <stddef.h>
#include <sys/stat.h>

struct dirent_kept {
	char *name;
	struct stat st;
};

struct dirlist {
	struct dirent_kept *e;
	size_t n, cap;
	int err;			/* -ENOMEM while filling: the listing is short */
};

/* A client_dir_fn that appends an entry to the struct dirlist at arg. */
int dirlist_add(void *arg, const char *name, const struct stat *st);
/* Empty it (for a fresh listing), keeping the allocation. */
void dirlist_clear(struct dirlist *d);
void dirlist_free(struct dirlist *d);

#endif
