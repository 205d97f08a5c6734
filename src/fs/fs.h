/*
 * fs.h - the FUSE operations.  With main.c the only includer of fuse.h.
 */
#ifndef SMBFUSE_FS_H
#define SMBFUSE_FS_H

#define FUSE_USE_VERSION 312
#include <fuse.h>

#include "client.h"

enum cache_mode {
	CACHE_STRICT,		/* page cache kept while the file is unchanged */
	CACHE_LOOSE,		/* page cache kept across opens unchecked */
	CACHE_NONE,		/* every read and write goes to the server */
};

struct fs_config {
	struct client *client;
	double actimeo_s;
	enum cache_mode cache;
	bool ignore_chown;		/* chown to someone else: 0 instead of EPERM */
	bool nobrl;			/* fcntl/flock locks kept by the kernel, in this mount */
	bool multiuser;			/* users see the share through sessions of their own */
	unsigned max_io;		/* largest FUSE read/write to ask for */
	/* Called once the kernel has sent INIT, i.e. when the mount really
	 * works (main.c tells the waiting parent then). */
	void (*ready)(struct fs_config *cfg);
	int ready_fd;
};

/* The operations table; private_data of the FUSE context is the
 * struct fs_config. */
extern const struct fuse_operations fs_ops;

#endif
