/*
 * client_int.h - what the client_*.c files share: the client itself, the
 * compound builder and path conversion.  Not for other layers.
 */
#ifndef SMBFUSE_CLIENT_INT_H
#define SMBFUSE_CLIENT_INT_H

#include <pthread.h>

#include "attrcache.h"
#include "dirmemo.h"
#include "namecache.h"
#include "client.h"
#include "conn.h"
#include "open.h"
#include "pdu.h"
#include "readahead.h"
#include "request.h"
#include "tree.h"
#include "workq.h"
#include "wire.h"

struct users;
struct user_session;

/* Whose lease breaks a session hands over: the ack goes back on t, the
 * tree of the session the break came on (u: that user's, NULL for the
 * mount's own). */
struct break_link {
	struct client *c;
	struct tree *t;
	struct user_session *u;
};

struct client {
	struct session *s;		/* fixed after client_open: the mount's own */
	struct tree *t;			/* fixed after client_open: the share, on s */
	struct break_link own_link;	/* fixed: s's breaks */
	struct users *users;		/* fixed: -o multiuser's sessions, or NULL */
	struct attr_cfg cfg;		/* fixed */
	char *prefix;			/* fixed: '\\'-separated, "" for the share root */
	struct attrcache *cache;	/* has its own lock */
	struct namecache *names;	/* directories known in full; its own lock */
	struct dirmemo *memo;		/* the last complete listings (NULL: multiuser); its own lock */
	struct workq *workers;		/* prefetching READs (readahead.c) */
	struct workq *breaks;		/* lease break acknowledgements, never behind a READ */
	struct workq *wb_q;		/* WRITEs behind the application (client_writebehind.c) */
	int wb_busy;			/* atomic: files with write-behind data not yet written */
	int wb_held;			/* atomic: files whose first bytes are held back */
	/* The holder thread, which sends held bytes once they are due
	 * (client_writebehind.c). */
	pthread_t holder;
	bool holder_started;
	pthread_mutex_t holder_lock;	/* guards holder_stop; holder_cond's */
	pthread_cond_t holder_cond;	/* something is held, or stop */
	bool holder_stop;
	bool writebehind;		/* fixed: -o cache=none turns it off */
	/* Change counters, one per hash bucket of paths: a write, truncate
	 * or copy into a file bumps its bucket, and readahead drops what it
	 * fetched before (atomic increments and loads; no lock). */
	unsigned long change_gen[1024];
	uint64_t lease_salt;		/* fixed: random per mount */
	bool use_leases;		/* fixed: the server does leasing */
	bool mfsymlinks;		/* fixed: -o mfsymlinks */
	bool told_mfsymlinks;		/* atomic: the hint was logged once */
	bool reparse_refused;		/* atomic: the server refused a symlink reparse point */
	pthread_mutex_t lease_lock;	/* guards the three fields below */
	struct lease_entry *leases;
	client_invalidate_fn invalidate;
	void *invalidate_arg;
	pthread_mutex_t locks_lock;	/* guards lockfiles (and each one's refs) */
	struct lockfile *lockfiles;	/* files with byte-range locks (client_lock.c) */
	pthread_mutex_t writers_lock;	/* guards the two fields below */
	pthread_cond_t writers_idle;	/* a borrowed handle was given back */
	struct client_file *writers;	/* open writable files (next_writer) */
};

/* A writable file open on path, if there is one: setting times through
 * its handle makes them stick when that handle closes (MS-FSA
 * 2.1.5.14.2), where a SET_INFO through another handle could be undone
 * by the close of one that wrote.  If that file's CLOSE is on the way,
 * waits for it to be done and returns NULL (a SET_INFO by path is safe
 * after it).  Only the caller's own files (multiuser: those on the
 * caller's session).  Give a file back with writer_return (its close
 * waits). */
struct client_file *writer_borrow(struct client *c, const char *path);
void writer_return(struct client *c, struct client_file *f);

/* client_lease.c */
/* The lease key for opening path: the file's (see client_lease.c). */
void lease_key_for(const struct client *c, const char *path, uint8_t key[16]);
void lease_remember(struct client *c, const uint8_t key[16], const char *path);
void lease_forget_all(struct client *c);
/* A connection's break handler; arg is a struct break_link. */
void lease_break_received(void *arg, const uint8_t *msg, size_t len);

/* client_users.c: a multiuser mount's sessions, one per local user. */
int users_start(struct client *c, const struct client_opts *o, char err[SESSION_ERRLEN]);
/* The tree the calling thread's requests go on, and the user session it
 * belongs to with a reference taken (NULL: the mount's own tree, with
 * nothing to give back).  -EACCES (and others) when the caller's user
 * cannot log on. */
int users_enter(struct client *c, struct tree **t, struct user_session **u);
/* The tree the caller's requests go on if the caller is logged on now,
 * else NULL; for comparing only (nothing is held): whose handles the
 * caller may borrow. */
const struct tree *users_caller_tree(struct client *c);
/* One more reference; NULL-safe. */
void users_hold(struct user_session *u);
/* One more reference unless the session is being closed (false).  From
 * a connection's break handler.  NULL (the mount's own): true. */
bool users_hold_live(struct user_session *u);
void users_put(struct user_session *u);
/* fn on the mount's tree and every logged-on user's. */
void users_each_tree(struct client *c, void (*fn)(struct tree *t, void *arg), void *arg);
void users_set_abort(struct client *c, client_abort_fn fn, void *arg);
/* Unmounting: stop the reaper; no request waits for a reconnect, no
 * more break handed over.  Then users_free after the work queues. */
void users_begin_close(struct client *c);
void users_free(struct client *c);

/* Have the kernel drop what it caches of path, from another thread (a
 * FUSE operation must not do it on a path it is working on). */
void kernel_forget_later(struct client *c, const char *path);

/* List dir again for the name cache only (client_dir.c): what a lookup
 * does when namecache_claim_relist says so.  0 or -errno. */
int client_relist_names(struct client *c, const char *dir);

/* A change to the data of path: bump its change counter. */
void file_changed(struct client *c, const char *path);
/* The change counter of path. */
const unsigned long *file_gen(struct client *c, const char *path);

/*
 * A compound chain being built: chain_next starts each message (related
 * to the one before, after the first), the caller appends its body, and
 * chain_send sends them in one frame and collects every response.
 */
struct chain {
	struct client *c;
	/* The tree it goes on: set, or that of the first open it names, or
	 * the caller's (users_enter, whose reference chain_free drops). */
	struct tree *t;
	struct user_session *user;
	struct wr w;
	size_t start[CONN_MAX_CHAIN];
	int n;
	struct smb_open *open[CONN_MAX_CHAIN];	/* message i addresses this open's handle */
	struct conn_msg rsp[CONN_MAX_CHAIN];
	bool sent;
	/* A change that must not be made twice: fail with EIO rather than
	 * send it again after a lost connection. */
	bool no_resend;
	bool resent;			/* out: went again on a new connection */
	uint64_t gen;			/* out: the channel that answered */
	/* Sent without the session's send lock: a lease break
	 * acknowledgement, which a request on the wire may be waiting for
	 * (queued behind a re-authentication it would stall that request
	 * until the server's break timeout). */
	bool unheld;
	/* A blocking lock: waits while the server says STATUS_PENDING, and
	 * is cancelled when the caller is interrupted (request.h). */
	bool patient;
	/* Data that travels outside w (a WRITE's, or where a READ's
	 * goes): conn_data. */
	struct conn_data *data;
};

void chain_init(struct chain *ch, struct client *c);
/* Write the header of the next message; credit_charge 0 means 1.  The
 * SessionId and TreeId are filled in when it is sent. */
void chain_next(struct chain *ch, uint16_t command, uint16_t credit_charge);
/* The same for a request on an open's handle: its FileId (whatever the
 * encoder wrote) is replaced at send time with the handle as it is then. */
void chain_next_on(struct chain *ch, uint16_t command, uint16_t credit_charge,
		   struct smb_open *o);
int chain_send(struct chain *ch);
/* Send n chains (at most CHAIN_BATCH) at once and wait for them all
 * (tree_requests); rets[i] is what chain_send would have returned for
 * chs[i].  They all go on the first one's tree. */
#define CHAIN_BATCH 16
void chain_send_all(struct chain **chs, int n, int *rets);
/* Send and do not wait for the answers (tree_send_detached). */
int chain_send_detached(struct chain *ch);
uint32_t chain_status(const struct chain *ch, int i);
void chain_free(struct chain *ch);

/* Credits a request moving n payload bytes costs with LARGE_MTU. */
uint16_t credit_charge_for(size_t n);

/* The first failing status of a chain's responses (STATUS_SUCCESS if
 * all succeeded); the CREATE's failure is the one that counts. */
uint32_t chain_failure(const struct chain *ch);
/* The same as an errno (0 if all succeeded). */
int chain_errno(const struct chain *ch);

/* FUSE path -> share path ('\\'-separated, below the prefix).  Names
 * with characters SMB cannot hold ( \ : * ? " < > | or controls) are
 * -EINVAL, names longer than NAME_MAX bytes -ENAMETOOLONG; the caller
 * frees *out. */
int smb_path(const struct client *c, const char *path, char **out);

/* Append a CREATE for path (converted already) to a chain. */
int chain_create(struct chain *ch, const char *smbpath, uint32_t access, uint32_t disposition,
		 uint32_t options, uint32_t attributes);
/* The same, asking for a lease with the given key and state. */
int chain_create_lease(struct chain *ch, const char *smbpath, uint32_t access,
		       uint32_t disposition, uint32_t options, uint32_t attributes,
		       const uint8_t *lease_key, uint32_t lease_state);
/* Append a CLOSE of the related handle. */
int chain_close(struct chain *ch);

/* The request in the middle of a CREATE + request + CLOSE compound, the
 * shape most path operations take (one round trip, nothing left open). */
enum mid_kind { MID_QUERY_INFO, MID_SET_INFO, MID_IOCTL, MID_READ, MID_WRITE };

struct mid_req {
	enum mid_kind kind;
	uint8_t info_type, info_class;		/* QUERY_INFO, SET_INFO */
	uint32_t ctl_code;			/* IOCTL */
	uint32_t output_len;			/* QUERY_INFO, IOCTL; READ: bytes to read at 0 */
	const uint8_t *input;			/* QUERY_INFO input, SET_INFO buffer, IOCTL input,
						 * WRITE data (at offset 0) */
	size_t input_len;
	/* If not NULL: set when the compound went again after a lost
	 * connection, so that a change the server may have made already
	 * can be judged by its outcome (a rename's source gone, say). */
	bool *resent;
	/* Not sent again after a lost connection (an answer lost then is
	 * EIO): a create that must not be judged by EEXIST afterwards. */
	bool no_resend;
	/* If not NULL: a QUERY_INFO FileAllInformation follows m in the
	 * same compound, and its answer lands here (all zero if it failed):
	 * what a change left, for the attribute cache, at no round trip. */
	struct file_all_info *then_info;
};

/* Run CREATE(smbpath) + m + CLOSE.  0 when the CREATE and the middle
 * request succeeded (BUFFER_OVERFLOW counts for QUERY_INFO), and then the
 * middle response is handed to *rsp (if rsp is not NULL); otherwise the
 * errno of the first failure.  *status (if not NULL) gets the status that
 * decided: the failing one, or the middle request's. */
int path_compound(struct client *c, const char *smbpath, uint32_t access, uint32_t disposition,
		  uint32_t options, const struct mid_req *m, uint32_t *status,
		  struct conn_msg *rsp);

/* Run CREATE(smbpath, FILE_OPEN) + CLOSE: for what a create option does
 * by itself (FILE_DELETE_ON_CLOSE).  0 or the errno of the first failure,
 * whose status lands in *status; *resent as in struct mid_req. */
int path_open_close(struct client *c, const char *smbpath, uint32_t access, uint32_t options,
		    uint32_t *status, bool *resent);

/* The same request (m) on an open handle, alone. */
int handle_request(struct client *c, struct smb_open *o, const struct mid_req *m,
		   uint32_t *status, struct conn_msg *rsp);
/* A WRITE of len bytes of data at off (at most 64 KiB: they travel in
 * the message), then m, on an open handle, in one related compound:
 * the server does them in that order.  *written gets the WRITE's count
 * or -errno; the return is handle_request's for m. */
int handle_write_then(struct client *c, struct smb_open *o, const void *data, size_t len,
		      off_t off, ssize_t *written, const struct mid_req *m);

/* client_mfsymlink.c: symbolic links as Minshall+French symlink files
 * (-o mfsymlinks). */
#define MFSYMLINK_SIZE 1067
#define MFSYMLINK_TARGET_MAX 1024
bool mfsymlink_candidate(const struct stat *st);
/* The file's 1067 bytes for target; -ENAMETOOLONG past 1024 bytes. */
int mfsymlink_format(const char *target, uint8_t out[MFSYMLINK_SIZE]);
/* The target's length (copied, NUL-terminated and cut to size, into
 * target if not NULL), or -EINVAL for anything not such a file. */
int mfsymlink_parse(const uint8_t *buf, size_t n, char *target, size_t size);
/* The same, read from the file at sp (one compound). */
int mfsymlink_read(struct client *c, const char *sp, char *target, size_t size);
/* Create the file at sp (FILE_CREATE: never over an existing name). */
int mfsymlink_create(struct client *c, const char *sp, const char *target);
/* With mfsymlinks on, a stat of what is such a file shows a link. */
void mfsymlink_fix_stat(struct client *c, const char *sp, struct stat *st);

/* WRITEs of at most the negotiated size until size bytes are written. */
ssize_t write_range(struct client *c, struct client_file *f, const void *buf, size_t size,
		    off_t off);

/* Another open of f's file, by its share path as it is now, with f's
 * access, sharing and lease key; no readahead, not a writer.  Close it
 * with client_close_file. */
int open_sibling(struct client *c, struct client_file *f, struct client_file **out);

/* client_lock.c: one SMB2 LOCK element on o, [start, end] inclusive,
 * flags SMB2_LOCKFLAG_*, with a LockSequence.  Without FAIL_IMMEDIATELY
 * (or UNLOCK) it waits for the server to grant it, until the caller is
 * interrupted (then cancelled: -EINTR).  Refused: -EAGAIN. */
int lock_range(struct client *c, struct smb_open *o, uint64_t start, uint64_t end,
	       uint32_t flags);

/* client_lock.c: the locks of f's file were lost in a reconnect. */
bool client_locks_lost(struct client_file *f);

/* client_lock.c: f is closing: forget its locks (the server drops them
 * with the handle) and its share of the file's lock record. */
void client_locks_closing(struct client *c, struct client_file *f);

/* client_append.c: an O_APPEND write, at the end of file as the server
 * has it. */
ssize_t append_write(struct client *c, struct client_file *f, const void *buf, size_t size);

/* stat of an open file through its handle, asking the server (the
 * result goes into the attribute cache). */
int handle_stat(struct client *c, struct client_file *f, struct stat *st);

/* client_writebehind.c: writes gathered and sent behind the
 * application.  wb_new for a writable file (NULL: out of memory, then
 * its writes go through); wb_free after a last wb_flush. */
struct writebehind *wb_new(struct client *c, struct client_file *f);
void wb_free(struct writebehind *wb);
/* Take the write (bytes taken), or an earlier WRITE's failure (-errno,
 * reported once). */
ssize_t wb_write(struct writebehind *wb, const void *buf, size_t size, off_t off);
/* Wait until every byte taken so far is at the server; with report,
 * the first failure not reported yet (and it is then reported). */
int wb_flush(struct writebehind *wb, bool report);
/* A new file (an open that created or emptied it): its first bytes
 * are held back for times to take along (wb_take_held). */
void wb_hold_first(struct writebehind *wb);
/* The held bytes of wb, if it has some and nothing else is owed: their
 * buffer (data, len at off, until wb_held_done) to send in a compound
 * of the caller's; NULL if none.  The file counts them as in flight. */
struct wb_slot;
struct wb_slot *wb_take_held(struct writebehind *wb, const void **data, size_t *len, off_t *off);
/* What the caller's WRITE of them came to (bytes, or -errno): a failure
 * is the file's, reported as a failed write-behind WRITE is. */
void wb_held_done(struct wb_slot *s, ssize_t n);
/* The holder thread: started with the client, stopped before its
 * queues; woken when bytes are held. */
int wb_holder_start(struct client *c);
void wb_holder_stop(struct client *c);
void wb_holder_wake(struct client *c);
/* Whether any file of the mount has write-behind data not yet written
 * (cheap: the wb_flush_* calls below return at once without). */
bool wb_any(struct client *c);
/* Wait for the write-behind data of the open files that are: path (a
 * FUSE path); right in directory path; the same file as f (its name or
 * its lease key); the file of a lease key; any. */
void wb_flush_path(struct client *c, const char *path);
void wb_flush_dir(struct client *c, const char *path);
void wb_flush_like(struct client *c, struct client_file *f);
/* The same but for f itself (whose held bytes the caller took). */
void wb_flush_others(struct client *c, struct client_file *f);
void wb_flush_lease(struct client *c, const struct tree *t, const uint8_t key[16]);
void wb_flush_all(struct client *c);

/* After this mount made path exist (exists) or removed it: the known
 * names of its directory follow; ret not 0 (it failed, perhaps half
 * way): they are no longer trusted. */
void names_after(struct client *c, const char *path, int ret, bool exists);

/* Forget cached attributes of path and of its parent (whose times change). */
void forget_with_parent(struct client *c, const char *path);

#endif
