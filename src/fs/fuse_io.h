/*
 * fuse_io.h - the daemon's own I/O on /dev/fuse (fuse_io.c): what
 * libfuse 3.14 cannot ask the kernel for, added to its INIT answer.
 */
#ifndef SMBFUSE_FUSE_IO_H
#define SMBFUSE_FUSE_IO_H

#include "fs.h"	/* FUSE_USE_VERSION before the libfuse headers */

#include <fuse_lowlevel.h>

/* Between fuse_mount() and the loop: 0, or -errno from libfuse. */
int fuse_io_install(struct fuse_session *se);

#endif
