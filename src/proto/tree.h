/*
 * tree.h - a connected share (MS-SMB2 3.2.1.4 TreeConnect): its TreeId,
 * what the server says of it, and the registry of every open on it, so
 * that a reconnect can connect the tree again and reclaim each open.
 */
#ifndef SMBFUSE_TREE_H
#define SMBFUSE_TREE_H

#include <pthread.h>
#include <stdint.h>

#include "session.h"

enum secure_negotiate {
	SECNEG_PREAUTH,		/* 3.1.1: preauth integrity covers it */
	SECNEG_VALIDATED,	/* VALIDATE_NEGOTIATE_INFO matched */
	SECNEG_NOT_SUPPORTED,	/* a signed "not supported" from a down-level server */
	SECNEG_SKIPPED_GUEST,	/* guest/anonymous: nothing to sign it with */
	SECNEG_DISABLED,	/* turned off by the user */
};

struct smb_open;

struct tree {
	struct session *s;		/* fixed */
	char *share;			/* fixed: the share's name */
	struct tree *next;		/* s->trees_lock: the session's trees */
	pthread_mutex_t lock;		/* guards every field below */
	uint32_t tree_id;		/* a new one after every reconnect */
	uint32_t share_flags;
	uint32_t share_capabilities;
	uint32_t maximal_access;
	enum secure_negotiate secneg;
	struct smb_open *opens;		/* every open on the tree (open.next) */
};

/* TREE_CONNECT to share on the session's channel, then validate the
 * negotiation (below 3.1.1).  err explains a failure. */
int tree_open(struct session *s, const char *share, struct tree **t, char err[SESSION_ERRLEN]);

/* TREE_DISCONNECT (best effort, no waiting for a reconnect), forget the
 * opens, free.  Before session_close. */
void tree_close(struct tree *t);

/* For reconnect.c: connect t again on a new connection (logged on as
 * sid) with the session's keys there (sealing may get turned on). */
int tree_connect_on(struct tree *t, struct conn *conn, uint64_t sid,
		    struct conn_security *sec, char err[SESSION_ERRLEN]);

uint32_t tree_id(struct tree *t);

#endif
