/*
 * client_users.c - a multiuser mount (-o multiuser), as the kernel
 * client's: each local user reaches the share through an SMB session
 * of their own, logged on with their own credentials (user_creds.h),
 * so that the server decides what each one may do.  The mount's own
 * session serves its owner (root) and the mount's own threads.
 *
 * A user's session is made at the first request the user makes, on a
 * connection of its own (with a ClientGuid of its own: the server
 * keeps its leases apart from the other users'), and closed after
 * user_idle seconds without use by the reaper thread.  A user that
 * cannot log on is refused (EACCES for missing or refused credentials)
 * for USER_RETRY_MS, then tried again: a kinit or a new credentials
 * file takes effect without a remount.
 *
 * Lock order: a connection's break_lock before users.lock
 * (lease_break_received), and users.lock before session.lock
 * (users_set_abort); nothing else is taken under users.lock.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client_int.h"
#include "log.h"
#include "user_creds.h"
#include "util.h"

/* How long a failed logon is the answer before the next attempt. */
#define USER_RETRY_MS 3000
/* The same failure is logged at most this often per user. */
#define USER_LOG_GAP_MS 60000

enum user_state { USER_CONNECTING, USER_READY, USER_FAILED };

struct user_session {
	struct users *us;		/* fixed */
	uid_t uid;			/* fixed */
	gid_t gid;			/* fixed: the gid of the first request */
	struct break_link link;		/* fixed: what its breaks are acknowledged on */
	/* us->lock guards the fields below; s and t are written by the
	 * thread that connects (state CONNECTING) and fixed once READY. */
	int refs;			/* requests, open files and break jobs using it */
	enum user_state state;
	bool dying;			/* taken off the list by the reaper */
	int failed_ret;
	uint64_t failed_ms;
	uint64_t last_used_ms;
	char logged[SESSION_ERRLEN];	/* the last failure logged, and when */
	uint64_t logged_ms;
	struct session *s;
	struct tree *t;
	struct user_session *next;
};

struct users {
	struct client *c;		/* fixed */
	struct session_opts base;	/* fixed: the mount's, without its credentials */
	char *host, *share, *domain, *spn;	/* fixed: base's strings */
	char *template;			/* fixed: user_credentials= */
	uid_t owner;			/* fixed: served by the mount's own session */
	int idle_ms;			/* fixed */
	pthread_mutex_t lock;		/* guards the fields below and each entry's */
	pthread_cond_t changed;		/* a logon finished, or closing */
	struct user_session *list;
	client_abort_fn abort_fn;
	void *abort_arg;
	bool closing;
	bool reaper_started;
	pthread_t reaper;
};

/* Who the calling thread works for: set by the file system layer at the
 * start of every operation; a thread that never set it (the client's
 * own workers) works for the mount's owner. */
static __thread struct {
	const struct client *c;
	uid_t uid;
	gid_t gid;
	pid_t pid;
} caller;

void client_set_caller(struct client *c, uid_t uid, gid_t gid, pid_t pid)
{
	caller.c = c;
	caller.uid = uid;
	caller.gid = gid;
	caller.pid = pid;
}

/* The caches' scope (attrcache_set_scope): the calling user's, so that
 * what one user's session was told never answers another user; the
 * mount's owner and its own threads share scope 0. */
static unsigned long caller_scope(void)
{
	const struct users *us = caller.c ? caller.c->users : NULL;

	if (!us || caller.uid == us->owner)
		return 0;
	return (unsigned long)caller.uid + 1;
}

/* Log a user's failure unless it said the same within USER_LOG_GAP_MS
 * (us->lock held). */
static void log_failure(struct user_session *u, const char *why)
{
	uint64_t now = now_ms();
	char name[256], home[8];
	const char *login;

	if (!strcmp(u->logged, why) && now - u->logged_ms < USER_LOG_GAP_MS)
		return;
	login = user_creds_login(u->uid, name, sizeof(name), home, sizeof(home));
	snprintf(u->logged, sizeof(u->logged), "%s", why);
	u->logged_ms = now;
	log_warn("multiuser: uid %u (%s): %s; access refused", (unsigned)u->uid,
		 login ? login : "no name", why);
}

/* What a failed logon answers to the user's requests: missing, expired
 * or refused credentials are a permission matter; a server that cannot
 * be reached says so. */
static int refusal(int ret)
{
	switch (ret) {
	case -ENOENT: case -ENOKEY: case -EKEYEXPIRED: case -EKEYREJECTED: case -EKEYREVOKED:
	case -EPERM: case -EACCES: case -EINVAL: case -ENAMETOOLONG:
		return -EACCES;
	default:
		return ret;
	}
}

/* Log uid on and connect the share (us->lock not held). */
static int user_connect(struct users *us, struct user_session *u, pid_t pid, char *err)
{
	struct user_creds uc;
	struct session_opts so;
	struct session *s = NULL;
	struct tree *t = NULL;
	int ret;

	err[0] = '\0';		/* a failure without words still logs something sane */
	ret = user_creds_get(&us->base, us->template, u->uid, u->gid, pid, &uc, &so, err);
	if (ret)
		return ret;
	ret = session_open(&so, &s, err);
	user_creds_free(&uc);
	if (!ret)
		ret = tree_open(s, us->share, &t, err);
	if (ret) {
		session_close(s);
		return ret;
	}
	/* Multichannel for each user's session as for the mount's own. */
	if (so.max_channels > 1 && session_start_channels(s, t, err) != 0)
		log_warn("multiuser: uid %u: multichannel: %s; going on with one connection",
			 (unsigned)u->uid, err);
	err[0] = '\0';
	pthread_mutex_lock(&us->lock);
	session_set_abort(s, us->abort_fn, us->abort_arg);
	pthread_mutex_unlock(&us->lock);
	u->link.t = t;
	session_set_break_handler(s, lease_break_received, &u->link);
	u->s = s;
	u->t = t;
	log_info("multiuser: uid %u logged on to %s as %s", (unsigned)u->uid, us->host,
		 s->user_desc);
	return 0;
}

static struct user_session *find(struct users *us, uid_t uid)
{
	struct user_session *u;

	for (u = us->list; u; u = u->next)
		if (u->uid == uid)
			return u;
	return NULL;
}

int users_enter(struct client *c, struct tree **t, struct user_session **out)
{
	struct users *us = c->users;
	struct user_session *u;
	char err[SESSION_ERRLEN];
	uid_t uid = caller.uid;
	int ret;

	*out = NULL;
	*t = c->t;
	if (!us || caller.c != c || uid == us->owner)
		return 0;
	pthread_mutex_lock(&us->lock);
	u = find(us, uid);
	if (!u) {
		u = calloc(1, sizeof(*u));
		if (!u) {
			pthread_mutex_unlock(&us->lock);
			return -ENOMEM;
		}
		u->us = us;
		u->uid = uid;
		u->gid = caller.gid;
		u->link.c = c;
		u->link.u = u;
		u->state = USER_FAILED;	/* "try now" */
		u->next = us->list;
		us->list = u;
	}
	u->refs++;
	u->last_used_ms = now_ms();
	for (;;) {
		if (u->state == USER_READY)
			break;
		if (u->state == USER_CONNECTING) {
			pthread_cond_wait(&us->changed, &us->lock);
			continue;
		}
		if (u->failed_ms && now_ms() - u->failed_ms < USER_RETRY_MS) {
			ret = u->failed_ret;
			u->refs--;
			pthread_mutex_unlock(&us->lock);
			return ret;
		}
		/* This thread logs the user on; the others wait. */
		u->state = USER_CONNECTING;
		pthread_mutex_unlock(&us->lock);
		ret = user_connect(us, u, caller.pid, err);
		pthread_mutex_lock(&us->lock);
		if (ret) {
			u->state = USER_FAILED;
			u->failed_ret = refusal(ret);
			u->failed_ms = now_ms();
			log_failure(u, err[0] ? err : strerror(-ret));
		} else {
			u->state = USER_READY;
			u->logged[0] = '\0';
		}
		pthread_cond_broadcast(&us->changed);
	}
	*t = u->t;
	*out = u;
	pthread_mutex_unlock(&us->lock);
	return 0;
}

const struct tree *users_caller_tree(struct client *c)
{
	struct users *us = c->users;
	const struct tree *t = NULL;
	struct user_session *u;

	if (!us || caller.c != c || caller.uid == us->owner)
		return c->t;
	pthread_mutex_lock(&us->lock);
	u = find(us, caller.uid);
	if (u && u->state == USER_READY)
		t = u->t;
	pthread_mutex_unlock(&us->lock);
	return t;
}

void users_hold(struct user_session *u)
{
	if (!u)
		return;
	pthread_mutex_lock(&u->us->lock);
	u->refs++;
	pthread_mutex_unlock(&u->us->lock);
}

bool users_hold_live(struct user_session *u)
{
	bool live;

	if (!u)
		return true;
	pthread_mutex_lock(&u->us->lock);
	live = !u->dying && u->state == USER_READY;
	if (live)
		u->refs++;
	pthread_mutex_unlock(&u->us->lock);
	return live;
}

void users_put(struct user_session *u)
{
	if (!u)
		return;
	pthread_mutex_lock(&u->us->lock);
	u->refs--;
	u->last_used_ms = now_ms();
	pthread_mutex_unlock(&u->us->lock);
}

void users_each_tree(struct client *c, void (*fn)(struct tree *t, void *arg), void *arg)
{
	struct users *us = c->users;
	struct user_session *u, **held = NULL;
	size_t n = 0, i;

	fn(c->t, arg);
	if (!us)
		return;
	/* fn runs without us->lock (it takes tree locks): the sessions
	 * are held meanwhile, so the reaper leaves them be. */
	pthread_mutex_lock(&us->lock);
	for (u = us->list; u; u = u->next)
		n++;
	held = n ? calloc(n, sizeof(*held)) : NULL;	/* none: only the mount's own */
	n = 0;
	for (u = held ? us->list : NULL; u; u = u->next)
		if (u->state == USER_READY) {
			u->refs++;
			held[n++] = u;
		}
	pthread_mutex_unlock(&us->lock);
	for (i = 0; i < n; i++) {
		fn(held[i]->t, arg);
		users_put(held[i]);
	}
	free(held);
}

/* Log a user's session off and free it: no one holds it any more, and
 * it is off the list (us->lock not held). */
static void user_drop(struct user_session *u)
{
	if (u->s) {
		/* Waits out a break being handed over (its job holds a
		 * reference, so none is queued). */
		session_set_break_handler(u->s, NULL, NULL);
		session_begin_close(u->s);
	}
	tree_close(u->t);
	session_close(u->s);
	free(u);
}

/* Take off the list the sessions unused for user_idle (or, with all,
 * every one), marked dying: no new reference is taken on them. */
static struct user_session *take_idle(struct users *us, uint64_t now, bool all)
{
	struct user_session **pp = &us->list, *u, *dead = NULL;

	while ((u = *pp)) {
		bool idle = u->refs == 0 && u->state != USER_CONNECTING &&
			now - u->last_used_ms >= (uint64_t)us->idle_ms;

		if (all || idle) {
			*pp = u->next;
			u->dying = true;
			u->next = dead;
			dead = u;
		} else {
			pp = &u->next;
		}
	}
	return dead;
}

static void drop_all(struct user_session *dead, bool log)
{
	struct user_session *next;

	for (; dead; dead = next) {
		next = dead->next;
		if (log && dead->state == USER_READY)
			log_info("multiuser: uid %u logged off (idle)", (unsigned)dead->uid);
		user_drop(dead);
	}
}

static void *reaper_main(void *arg)
{
	struct users *us = arg;
	uint64_t period = (uint64_t)us->idle_ms / 4;
	struct user_session *dead;
	struct timespec ts;

	if (period < 500)
		period = 500;
	if (period > 60000)
		period = 60000;
	pthread_mutex_lock(&us->lock);
	while (!us->closing) {
		ts = ms_to_timespec(now_ms() + period);
		pthread_cond_timedwait(&us->changed, &us->lock, &ts);
		if (us->closing)
			break;
		dead = take_idle(us, now_ms(), false);
		pthread_mutex_unlock(&us->lock);
		drop_all(dead, true);
		pthread_mutex_lock(&us->lock);
	}
	pthread_mutex_unlock(&us->lock);
	return NULL;
}

static int dup_str(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

int users_start(struct client *c, const struct client_opts *o, char err[SESSION_ERRLEN])
{
	struct users *us = calloc(1, sizeof(*us));
	int ret;

	if (!us)
		goto nomem;
	us->c = c;
	us->owner = geteuid();
	us->idle_ms = o->user_idle_s > 0 ? o->user_idle_s * 1000 : 600 * 1000;
	us->base = o->session;
	us->base.user = NULL;
	us->base.password = NULL;
	us->base.nt_hash = NULL;
	us->base.krb5_ccache = NULL;
	pthread_mutex_init(&us->lock, NULL);
	cond_init_monotonic(&us->changed);
	if (dup_str(&us->host, o->session.host) || dup_str(&us->share, o->session.share) ||
	    dup_str(&us->domain, o->session.domain) || dup_str(&us->spn, o->session.spn) ||
	    dup_str(&us->template, o->user_credentials ? o->user_credentials :
		    USER_CREDS_DEFAULT_TEMPLATE)) {
		c->users = us;
		goto nomem;
	}
	us->base.host = us->host;
	us->base.share = us->share;
	us->base.domain = us->domain;
	us->base.spn = us->spn;
	c->users = us;
	attrcache_set_scope(c->cache, caller_scope);
	namecache_set_scope(c->names, caller_scope);
	ret = user_creds_check_template(us->template, err);
	if (ret)
		return ret;
	if (pthread_create(&us->reaper, NULL, reaper_main, us) != 0) {
		session_seterr(err, "cannot start the multiuser reaper thread");
		return -EAGAIN;
	}
	us->reaper_started = true;
	return 0;
nomem:
	session_seterr(err, "out of memory");
	return -ENOMEM;
}

void users_set_abort(struct client *c, client_abort_fn fn, void *arg)
{
	struct users *us = c->users;
	struct user_session *u;

	if (!us)
		return;
	pthread_mutex_lock(&us->lock);
	us->abort_fn = fn;
	us->abort_arg = arg;
	for (u = us->list; u; u = u->next)
		if (u->state == USER_READY)
			session_set_abort(u->s, fn, arg);
	pthread_mutex_unlock(&us->lock);
}

void users_begin_close(struct client *c)
{
	struct users *us = c->users;
	struct user_session *u;

	if (!us)
		return;
	pthread_mutex_lock(&us->lock);
	us->closing = true;
	pthread_cond_broadcast(&us->changed);
	pthread_mutex_unlock(&us->lock);
	if (us->reaper_started)
		pthread_join(us->reaper, NULL);
	us->reaper_started = false;
	/* The list holds still now: the FUSE loop has ended (no logons)
	 * and the reaper is gone.  Not under us->lock: a break being
	 * handed over holds its connection's break_lock and wants us->lock. */
	for (u = us->list; u; u = u->next)
		if (u->state == USER_READY) {
			session_begin_close(u->s);
			session_set_break_handler(u->s, NULL, NULL);
		}
}

void users_free(struct client *c)
{
	struct users *us = c->users;
	struct user_session *dead;

	if (!us)
		return;
	users_begin_close(c);
	/* Whatever still holds a session is gone with the mount. */
	pthread_mutex_lock(&us->lock);
	dead = take_idle(us, now_ms(), true);
	pthread_mutex_unlock(&us->lock);
	drop_all(dead, false);
	pthread_mutex_destroy(&us->lock);
	pthread_cond_destroy(&us->changed);
	free(us->host);
	free(us->share);
	free(us->domain);
	free(us->spn);
	free(us->template);
	free(us);
	c->users = NULL;
}
