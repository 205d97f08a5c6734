/*
 * conn_int.h - what conn.c (requests, credits, sending) and
 * conn_reader.c (the reader thread: receiving, verifying, handing
 * responses to their callers) share of one connection's state.
 * Nothing outside those two files includes it.
 */
#ifndef SMBFUSE_CONN_INT_H
#define SMBFUSE_CONN_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "conn.h"

#define PENDING_BUCKETS 256
#define BREAK_MESSAGE_ID 0xFFFFFFFFFFFFFFFFull

/* A thread in conn_call waiting for its responses (on its stack). */
struct waiter {
	pthread_cond_t cond;
	struct conn_msg *rsp;		/* n slots, filled by the reader */
	int remaining;			/* responses still to come */
	int err;			/* set when the connection dies */
	uint64_t deadline;		/* now_ms() value; extended by interim responses */
	int timeout_ms;
	bool interim;			/* a STATUS_PENDING came for one of them */
	struct conn_data *data;		/* out-of-line data, or NULL */
	/* The reader is writing into data->in right now, without the lock:
	 * the caller must not return (and free the buffer) until it is
	 * done, whatever else happened meanwhile. */
	bool sink_busy;
};

/* A call from submit to collect: what was registered and sent (the
 * CANCELs of an aborted wait need the request's messages again). */
struct conn_call {
	struct conn *c;
	struct waiter w;
	uint8_t *req;			/* the caller's, valid until collected */
	int n;
	uint64_t mids[CONN_MAX_CHAIN];
	uint16_t charges[CONN_MAX_CHAIN];
	size_t starts[CONN_MAX_CHAIN], lens[CONN_MAX_CHAIN];
	bool probe;			/* an ECHO may extend the deadline */
	bool has_wait;
	struct conn_wait wait;
	struct conn_msg slots[CONN_MAX_CHAIN];	/* conn_submit's: the responses */
};

/* One message in flight, keyed by its MessageId. */
struct pending {
	uint64_t mid;
	struct pending *next;		/* bucket chain */
	struct waiter *w;		/* NULL once the caller gave up */
	int slot;			/* index into w->rsp */
	uint16_t command;
	bool must_sign;			/* the response must carry a good signature */
	uint64_t async_id;		/* from an interim STATUS_PENDING */
	bool sink;			/* a READ whose data may go to w->data->in */
};

struct conn {
	int refs;			/* atomic */
	int fd;				/* fixed after conn_open */
	pthread_t reader;		/* fixed after conn_open */
	pthread_t echoer;		/* fixed after conn_open */
	bool echoer_started;		/* fixed after conn_open */
	int request_timeout_ms;		/* fixed after conn_open */
	int echo_interval_s;		/* fixed after conn_open */

	pthread_mutex_t send_lock;	/* serializes writes to fd */

	/* Held while the break handler runs, so that clearing it waits the
	 * call out (the handler's owner may free what it uses next). */
	pthread_mutex_t break_lock;
	conn_break_fn break_fn;		/* break_lock */
	void *break_arg;		/* break_lock */
	conn_death_fn death_fn;		/* fixed after conn_open */
	void *death_arg;		/* fixed after conn_open */

	pthread_mutex_t lock;		/* guards every field below */
	/* Someone is receiving: in poll for, or reading and handling, the
	 * next frame.  The reader thread, or a caller waiting for its own
	 * answer (conn_receive_until): whoever finds it free takes it, so
	 * that a lone caller's answer wakes the caller itself and not
	 * first a reader thread that then wakes the caller. */
	bool rx_busy;
	pthread_cond_t rx_cond;		/* a caller gave rx_busy back, or death:
					 * the reader thread waits for it */
	/* The reader thread's epoll set, holding fd; while a caller
	 * receives, fd's events are off in it, so that the frames that
	 * caller reads do not wake the reader thread as well (a wakeup of
	 * a second CPU per round trip).  Fixed after conn_open; changed
	 * only together with rx_busy. */
	int epfd;
	pthread_cond_t credit_cond;	/* credits granted, or death */
	pthread_cond_t echo_cond;	/* wakes the echo thread on close */
	uint64_t next_mid;
	uint32_t credits;		/* granted and not yet spent */
	/* Messages sent and not yet answered: changed under lock, read
	 * without it by conn_inflight (a channel's load). */
	_Atomic uint32_t inflight;
	struct pending *table[PENDING_BUCKETS];
	bool dead;
	bool closing;
	int dead_err;
	char dead_why[CONN_ERRLEN];
	uint64_t last_rx;		/* now_ms() of the last frame received */
	struct conn_info info;		/* fixed once negotiated */
	bool large_mtu;
	size_t max_frame;
	struct conn_security sec;
	uint64_t nonce_counter;		/* for transform nonces */
	uint8_t nonce_salt[8];		/* random, per connection */
};

/* The pending entry of MessageId mid: find, or find and remove.
 * Caller holds c->lock. */
struct pending *pending_find(struct conn *c, uint64_t mid);
struct pending *pending_take(struct conn *c, uint64_t mid);

/* Mark the connection dead with a reason and wake every waiter.
 * Caller holds c->lock.  The first cause wins. */
void die_locked(struct conn *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The reader thread (conn_reader.c); started by conn_open.  It
 * receives whenever no caller does. */
void *reader_main(void *arg);

/* For a caller that holds the receiving side (rx_busy, taken under
 * c->lock and given back by the caller): wait until a frame arrives or
 * the clock passes wake_ms (now_ms(); UINT64_MAX: no limit), and
 * receive it if it came whole: 1.  0 when nothing came; -EAGAIN when a
 * frame is still arriving (the reader thread is to take it: the caller
 * must not block in read(2) past its deadline).  Without c->lock.  A
 * frame that kills the connection marks it dead (die_locked) like the
 * reader thread would. */
int conn_receive_until(struct conn *c, uint64_t wake_ms);

/* A caller takes and gives back the receiving side (the reader thread
 * sets rx_busy alone).  Caller holds c->lock; take only when !rx_busy. */
void rx_take(struct conn *c);
void rx_give_back(struct conn *c);

#endif
