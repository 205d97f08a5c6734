/*
 * client_lease.c - read/handle leases on open files, and what happens
 * when the server breaks one (MS-SMB2 3.2.5.19.2).
 *
 * Every open of a regular file asks for a lease with READ and HANDLE
 * caching (never WRITE: dirty data lives in the kernel's page cache,
 * which a break acknowledgment could not flush in time).  The lease key
 * names the file, not the path: derived from the file's identity (the
 * inode number, the server's file index) when the mount knows it, so
 * that the opens of one file by this mount share one lease and never
 * break each other; random for a file it has not seen yet.  A key tied
 * to a name would be refused (INVALID_PARAMETER) once that name is
 * another file while the first is still open: unlink-and-recreate, log
 * rotation, a rename over an open file.  When another client changes
 * the file, the server breaks the lease: the reader thread hands the
 * notification to the work queue, which acknowledges it and tells the
 * file system layer to drop what the kernel has cached for that path.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/rand.h>

#include "client_int.h"
#include "log.h"
#include "ntstatus.h"
#include "smb2.h"

/* Remembered lease keys: enough for the files a mount has open at once;
 * beyond that the oldest are forgotten (a break for a forgotten key is
 * still acknowledged; the kernel then revalidates at the next open). */
#define LEASES_MAX 4096

struct lease_entry {
	struct lease_entry *next;
	uint8_t key[16];
	char path[];
};

void lease_key_for(const struct client *c, const char *path, uint8_t key[16])
{
	uint64_t a = 14695981039346656037ULL ^ c->lease_salt;
	uint64_t b = 1099511628211ULL * 31 + c->lease_salt;
	struct stat st;
	int i;

	if (!attrcache_get(c->cache, path, &st) || !st.st_ino) {
		RAND_bytes(key, 16);
		return;
	}
	for (i = 0; i < 8; i++) {
		uint8_t byte = (uint8_t)(st.st_ino >> (8 * i));

		a = (a ^ byte) * 1099511628211ULL;
		b = (b ^ byte) * 6364136223846793005ULL + 1442695040888963407ULL;
	}
	le64_put(key, a);
	le64_put(key + 8, b);
}

void lease_remember(struct client *c, const uint8_t key[16], const char *path)
{
	struct lease_entry *e, **pp;
	size_t n = strlen(path) + 1, count = 0;

	pthread_mutex_lock(&c->lease_lock);
	for (e = c->leases; e; e = e->next) {
		if (!memcmp(e->key, key, 16) && !strcmp(e->path, path)) {
			pthread_mutex_unlock(&c->lease_lock);
			return;
		}
	}
	e = malloc(sizeof(*e) + n);
	if (e) {
		memcpy(e->key, key, 16);
		memcpy(e->path, path, n);
		e->next = c->leases;
		c->leases = e;
		/* Drop the oldest past the bound. */
		for (pp = &c->leases; *pp; pp = &(*pp)->next) {
			if (++count > LEASES_MAX) {
				struct lease_entry *rest = *pp, *next;

				*pp = NULL;
				for (; rest; rest = next) {
					next = rest->next;
					free(rest);
				}
				break;
			}
		}
	}
	pthread_mutex_unlock(&c->lease_lock);
}

void lease_forget_all(struct client *c)
{
	struct lease_entry *e, *next;

	pthread_mutex_lock(&c->lease_lock);
	for (e = c->leases; e; e = next) {
		next = e->next;
		free(e);
	}
	c->leases = NULL;
	pthread_mutex_unlock(&c->lease_lock);
}

void client_set_invalidate(struct client *c, client_invalidate_fn fn, void *arg)
{
	pthread_mutex_lock(&c->lease_lock);
	c->invalidate = fn;
	c->invalidate_arg = arg;
	pthread_mutex_unlock(&c->lease_lock);
}

struct forget_job {
	struct client *c;
	char path[];
};

static void forget_job(void *arg)
{
	struct forget_job *j = arg;

	pthread_mutex_lock(&j->c->lease_lock);
	if (j->c->invalidate)
		j->c->invalidate(j->c->invalidate_arg, j->path);
	pthread_mutex_unlock(&j->c->lease_lock);
	free(j);
}

void kernel_forget_later(struct client *c, const char *path)
{
	size_t n = strlen(path) + 1;
	struct forget_job *j = malloc(sizeof(*j) + n);

	if (!j)
		return;
	j->c = c;
	memcpy(j->path, path, n);
	if (workq_add(c->breaks, forget_job, j) != 0)
		free(j);
}

struct break_job {
	struct break_link *l;		/* whose session it came on (held) */
	struct lease_break b;
};

static void break_job(void *arg)
{
	struct break_job *j = arg;
	struct client *c = j->l->c;
	struct lease_entry *e;
	struct chain ch;
	uint8_t key[16];
	uint32_t state;
	int ret = 0;

	/* Drop the cached data first, then tell the server it is gone. */
	pthread_mutex_lock(&c->lease_lock);
	for (e = c->leases; e; e = e->next) {
		if (memcmp(e->key, j->b.key, 16))
			continue;
		attrcache_forget(c->cache, e->path);
		file_changed(c, e->path);
		/* Under the lock: the file system layer clears the callback
		 * (under it too) before it goes away. */
		if (c->invalidate)
			c->invalidate(c->invalidate_arg, e->path);
		log_debug("lease on %s broken to 0x%x", e->path, (unsigned)j->b.new_state);
	}
	pthread_mutex_unlock(&c->lease_lock);

	if (j->b.flags & SMB2_NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED) {
		/* The other client is let in once this is acknowledged:
		 * what this mount wrote is at the server before. */
		wb_flush_lease(c, j->l->t, j->b.key);
		chain_init(&ch, c);
		ch.t = j->l->t;		/* the ack goes on the session the break came on */
		ch.unheld = true;
		chain_next(&ch, SMB2_OPLOCK_BREAK, 0);
		ret = pdu_lease_ack_enc(&ch.w, j->b.key, j->b.new_state);
		if (!ret)
			ret = chain_send(&ch);
		if (!ret && chain_status(&ch, 0) == STATUS_SUCCESS &&
		    pdu_lease_ack_dec(ch.rsp[0].buf, ch.rsp[0].len, key, &state) != 0)
			ret = -EIO;
		else if (!ret && chain_status(&ch, 0) != STATUS_SUCCESS)
			ret = client_errno(chain_status(&ch, 0));
		chain_free(&ch);
		if (ret)
			log_warn("acknowledging a lease break failed: %s", strerror(-ret));
	}
	users_put(j->l->u);
	free(j);
}

/* Called by the connection's reader thread: no requests from here, so
 * the work goes to the queue. */
void lease_break_received(void *arg, const uint8_t *msg, size_t len)
{
	struct break_link *l = arg;
	struct break_job *j;

	j = calloc(1, sizeof(*j));
	if (!j)
		return;
	if (pdu_lease_break_dec(msg, len, &j->b) != 0) {
		/* An oplock break: smbfuse asks for none, so none should come. */
		log_debug("ignoring a break notification that is not a lease break");
		free(j);
		return;
	}
	/* A user's session the reaper is closing: its opens are gone
	 * (or going), so there is nothing left to acknowledge. */
	if (!users_hold_live(l->u)) {
		free(j);
		return;
	}
	j->l = l;
	if (workq_add(l->c->breaks, break_job, j) != 0) {
		users_put(l->u);
		free(j);
	}
}
