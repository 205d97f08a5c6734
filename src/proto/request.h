/*
 * request.h - sending requests on a tree, through re-authentications and
 * reconnects.  This is the one way file system requests reach the wire.
 *
 * The messages are built once (conn_call's form: back to back, linked
 * by NextCommand).  At every send the SessionId, TreeId, ChannelSequence
 * and each message's FileId are written in as the channel has them at
 * that moment: after a reconnect they are all new.  A compound that the
 * connection lost on the way is sent again on the next channel unless
 * told otherwise; writes and other changes on a durable handle then
 * carry SMB2_FLAGS_REPLAY_OPERATION (MS-SMB2 3.2.4.1.7 ... 3.2.5.1.8).
 */
#ifndef SMBFUSE_REQUEST_H
#define SMBFUSE_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "open.h"
#include "tree.h"

struct request {
	uint8_t *buf;			/* the messages (modified in place) */
	size_t len;
	int n;
	struct smb_open *open[CONN_MAX_CHAIN];	/* whose FileId message i carries, or NULL */
	/* After a lost connection: send again (the default), or fail with
	 * -EIO where doing it twice could do harm. */
	bool no_resend;
	bool unheld;			/* a lease break ack: not under the send lock */
	/* Waits as long as the server says it is working on it (a lock
	 * that another client holds), and until the session's abort hook
	 * says stop, which CANCELs it (conn_wait). */
	bool patient;
	/* A READ's or WRITE's data out of line (conn_data), or NULL. */
	struct conn_data *data;
	bool resent;			/* out: it went again on a later channel */
	uint64_t gen;			/* out: the channel it was answered on */
};

/* Send rq on t and wait for its n responses (in rsp; free with
 * conn_msg_free).  -errno as conn_call, and -EHOSTDOWN when a soft mount
 * gave up waiting for the reconnect. */
int tree_request(struct tree *t, struct request *rq, struct conn_msg *rsp);

/* Send the n requests rqs at once (each waits for no other's answer)
 * and wait for them all: rsps[i] gets the responses of rqs[i] and
 * rets[i] what tree_request would have returned for it.  Each takes the
 * channel least busy at its turn; one that meets a lost connection or
 * an expired session goes again alone, as tree_request would send it.
 * For many READs or WRITEs of one large request.  None may be patient
 * or unheld.  0, or -errno (rets unset) when nothing was sent. */
int tree_requests(struct tree *t, struct request **rqs, struct conn_msg **rsps, int n,
		  int *rets);

/* Send rq on t and do not wait for its answers (conn_detach): for a
 * request whose outcome changes nothing for the caller, such as the
 * CLOSE of a directory handle after its listing.  Never sent again: a
 * lost connection took whatever it names with it.  0 once sent. */
int tree_send_detached(struct tree *t, struct request *rq);

#endif
