/*
 * workq.h - a few threads that run queued jobs: the client uses them to
 * keep READs in flight ahead of a sequential reader (readahead.c), which
 * a blocking conn_call per FUSE thread could not do by itself.
 */
#ifndef SMBFUSE_WORKQ_H
#define SMBFUSE_WORKQ_H

struct workq;

typedef void (*workq_fn)(void *arg);

struct workq *workq_new(int threads);
/* Runs the queued jobs to completion, then stops the threads. */
void workq_free(struct workq *q);
/* Queue fn(arg); returns 0 or -ENOMEM (then fn is not run). */
int workq_add(struct workq *q, workq_fn fn, void *arg);

#endif
