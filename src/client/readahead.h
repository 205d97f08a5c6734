/*
 * readahead.h - parallel READs ahead of a sequential reader of one open
 * file (see readahead.c for why).
 */
#ifndef SMBFUSE_READAHEAD_H
#define SMBFUSE_READAHEAD_H

#include <sys/types.h>

#include "workq.h"

/* Read size bytes at off into buf from the server: bytes read or -errno. */
typedef ssize_t (*ra_fetch_fn)(void *ctx, void *buf, size_t size, off_t off);

struct readahead;

/* gen points at a counter that every change to the file (a write or a
 * truncate through any handle) increments: data fetched before the
 * latest change is never served. */
struct readahead *ra_new(struct workq *q, ra_fetch_fn fetch, void *ctx,
			 const unsigned long *gen);
/* Waits for the reads still in flight (they use ctx). */
void ra_free(struct readahead *ra);

/* Serve a read from what is prefetched, prefetching more when the reads
 * are sequential: the bytes copied (perhaps fewer than asked: the caller
 * reads the rest from the server), or -EAGAIN when nothing could be
 * served. */
ssize_t ra_read(struct readahead *ra, void *buf, size_t size, off_t off);

/* Forget everything prefetched (the file was written or truncated). */
void ra_drop(struct readahead *ra);

#endif
