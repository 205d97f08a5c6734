/*
 * user_creds.c - a multiuser mount's per-user credentials (see
 * user_creds.h).
 *
 * The daemon runs as root, and root can read every file: everything it
 * reads on a user's behalf is read with that user's file system ids
 * (fsid.h), so that a user can point it only at what the user could
 * read anyway.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "fsid.h"
#include "log.h"
#include "user_creds.h"

/* Bounds for what is read of /proc/PID: an environment larger than this
 * is not searched past it. */
#define ENVIRON_MAX (256 * 1024)
#define STATUS_MAX 8192

/* template with %u, %U, %% and a leading "~/" replaced.  login or home
 * NULL: the user has none, which only matters if template asks. */
static int expand(const char *template, uid_t uid, const char *login, const char *home,
		  char *out, size_t size, char err[SESSION_ERRLEN])
{
	size_t used = 0;
	const char *p = template;
	int n;

#define PUT(s) do {							\
		n = snprintf(out + used, size - used, "%s", (s));	\
		if (n < 0 || (size_t)n >= size - used)			\
			goto too_long;					\
		used += (size_t)n;					\
	} while (0)

	if (p[0] == '~' && p[1] == '/') {
		if (!home || !*home) {
			session_seterr(err, "uid %u has no home directory in the password "
				       "database, which user_credentials=%s needs", (unsigned)uid,
				       template);
			return -ENOENT;
		}
		PUT(home);
		p++;			/* keep the '/' */
	} else if (p[0] != '/') {
		session_seterr(err, "user_credentials=%s must be an absolute path or start with ~/",
			       template);
		return -EINVAL;
	}
	for (; *p; p++) {
		char one[2] = { *p, '\0' }, num[16];

		if (*p != '%') {
			PUT(one);
			continue;
		}
		switch (*++p) {
		case 'u':
			if (!login || !*login) {
				session_seterr(err, "uid %u has no login name, which "
					       "user_credentials=%s needs (%%u)", (unsigned)uid, template);
				return -ENOENT;
			}
			/* A name is one path component, never a way up or out. */
			if (strchr(login, '/') || !strcmp(login, "..") || !strcmp(login, ".")) {
				session_seterr(err, "the login name of uid %u cannot be part of a path",
					       (unsigned)uid);
				return -EINVAL;
			}
			PUT(login);
			break;
		case 'U':
			snprintf(num, sizeof(num), "%u", (unsigned)uid);
			PUT(num);
			break;
		case '%':
			PUT("%");
			break;
		default:
			session_seterr(err, "user_credentials=%s: '%%%c' is not one of %%u (login "
				       "name), %%U (uid), %%%%", template, *p ? *p : ' ');
			return -EINVAL;
		}
	}
	return 0;
too_long:
	session_seterr(err, "user_credentials=%s makes a path too long for uid %u", template,
		       (unsigned)uid);
	return -ENAMETOOLONG;
#undef PUT
}

int user_creds_check_template(const char *template, char err[SESSION_ERRLEN])
{
	char path[4096];

	return expand(template, 0, "user", "/home/user", path, sizeof(path), err);
}

/* The login name and home of uid, "" where the password database has
 * no entry. */
const char *user_creds_login(uid_t uid, char *login, size_t lsize, char *home, size_t hsize)
{
	struct passwd pw, *found = NULL;
	char buf[4096];

	login[0] = home[0] = '\0';
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &found) != 0 || !found)
		return NULL;
	snprintf(login, lsize, "%s", pw.pw_name);
	snprintf(home, hsize, "%s", pw.pw_dir ? pw.pw_dir : "");
	return login;
}

/* uid's primary group from the password database (gid unchanged when
 * uid has no entry). */
static void lookup_gid(uid_t uid, gid_t *gid)
{
	struct passwd pw, *found = NULL;
	char buf[4096];

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &found) == 0 && found)
		*gid = pw.pw_gid;
}

/* Up to max bytes of a /proc file into a new buffer (NUL-terminated),
 * or NULL. */
static char *read_proc(const char *path, size_t max, size_t *len)
{
	char *buf = malloc(max + 1);
	size_t used = 0;
	ssize_t n;
	int fd;

	if (!buf)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return NULL;
	}
	while (used < max && (n = read(fd, buf + used, max - used)) > 0)
		used += (size_t)n;
	close(fd);
	buf[used] = '\0';
	*len = used;
	return buf;
}

/* Whether process pid runs as uid and nothing else (every field of its
 * "Uid:" line: real, effective, saved, file system): its environment is
 * then that user's to speak for.  A setuid program's environment is its
 * caller's, not the user it runs as. */
static bool runs_as(pid_t pid, uid_t uid)
{
	char path[64], *buf, *line;
	unsigned long ids[4];
	size_t len;
	bool ok = false;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	buf = read_proc(path, STATUS_MAX, &len);
	if (!buf)
		return false;
	line = strstr(buf, "\nUid:");
	if (line && sscanf(line + 5, "%lu %lu %lu %lu", &ids[0], &ids[1], &ids[2], &ids[3]) == 4)
		ok = ids[0] == (unsigned long)uid && ids[1] == (unsigned long)uid &&
			ids[2] == (unsigned long)uid && ids[3] == (unsigned long)uid;
	free(buf);
	return ok;
}

/* KRB5CCNAME of process pid, if it has one and runs as uid: a new
 * string, or NULL. */
static char *environ_ccache(pid_t pid, uid_t uid)
{
	static const char key[] = "KRB5CCNAME=";
	char path[64], *buf, *p, *found = NULL;
	size_t len;

	if (pid <= 0 || !runs_as(pid, uid))
		return NULL;
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	buf = read_proc(path, ENVIRON_MAX, &len);
	if (!buf)
		return NULL;
	/* NUL-separated entries; the last may be cut short at the bound. */
	for (p = buf; p < buf + len; p += strlen(p) + 1)
		if (!strncmp(p, key, sizeof(key) - 1) && p[sizeof(key) - 1]) {
			found = strdup(p + sizeof(key) - 1);
			break;
		}
	free(buf);
	if (found && !runs_as(pid, uid)) {
		/* The process changed its ids (or the pid was reused)
		 * while it was read. */
		free(found);
		found = NULL;
	}
	return found;
}

/* Caches that are files the user owns can be read with the user's file
 * rights; a KCM daemon or the kernel keyring would see root asking. */
static bool ccache_readable_as_user(const char *name)
{
	if (name[0] == '/')
		return true;
	if (!strncmp(name, "FILE:/", 6) || !strncmp(name, "DIR:/", 5))
		return true;
	return false;
}

/* The cache (a file, or a DIR: collection) must be the user's own, as a
 * credentials file must: readable by the user is not enough (a cache
 * another user left readable, or one readable through a group). */
static int ccache_owned(const char *name, uid_t uid, gid_t gid, char err[SESSION_ERRLEN])
{
	const char *path = name[0] == '/' ? name : strchr(name, ':') + 1;
	struct fsid_saved saved;
	struct stat st;
	int ret;

	if (fsid_enter(uid, gid, &saved) != 0) {
		session_seterr(err, "cannot take uid %u's file rights to look at %s", (unsigned)uid,
			       name);
		return -EPERM;
	}
	ret = stat(path, &st) == 0 ? 0 : -errno;
	fsid_leave(&saved);
	if (ret == -ENOENT) {
		session_seterr(err, "no Kerberos ticket for uid %u: %s does not exist (run kinit)",
			       (unsigned)uid, name);
		return -ENOKEY;
	}
	if (ret) {
		session_seterr(err, "cannot look at the credential cache %s: %s", name,
			       strerror(-ret));
		return ret;
	}
	if (st.st_uid != uid) {
		session_seterr(err, "the credential cache %s belongs to uid %u, not to uid %u: "
			       "refused", name, (unsigned)st.st_uid, (unsigned)uid);
		return -EACCES;
	}
	return 0;
}

static int krb5_creds(uid_t uid, gid_t gid, pid_t pid, struct user_creds *uc,
		      char err[SESSION_ERRLEN])
{
	char dflt[64];

	uc->ccache = environ_ccache(pid, uid);
	if (!uc->ccache) {
		/* MIT's built-in default, which Debian keeps. */
		snprintf(dflt, sizeof(dflt), "FILE:/tmp/krb5cc_%u", (unsigned)uid);
		uc->ccache = strdup(dflt);
		if (!uc->ccache)
			return -ENOMEM;
	}
	if (!ccache_readable_as_user(uc->ccache)) {
		session_seterr(err, "KRB5CCNAME=%s is a kind of credential cache a multiuser mount "
			       "cannot read for uid %u: use a FILE: or DIR: cache (kinit -c "
			       "FILE:/tmp/krb5cc_%u)", uc->ccache, (unsigned)uid, (unsigned)uid);
		return -ENOKEY;
	}
	return ccache_owned(uc->ccache, uid, gid, err);
}

static int ntlm_creds(const struct session_opts *base, const char *template, uid_t uid,
		      gid_t gid, struct user_creds *uc, struct session_opts *so,
		      char err[SESSION_ERRLEN])
{
	char home[4096], file[4096], ferr[CREDFILE_ERRLEN];
	struct fsid_saved saved;
	int ret;

	user_creds_login(uid, uc->login, sizeof(uc->login), home, sizeof(home));
	ret = expand(template, uid, uc->login, home, file, sizeof(file), err);
	if (ret)
		return ret;
	if (fsid_enter(uid, gid, &saved) != 0) {
		session_seterr(err, "cannot take uid %u's file rights to read %s (a multiuser "
			       "mount must run as root)", (unsigned)uid, file);
		return -EPERM;
	}
	ret = credfile_read(file, uid, &uc->cf, ferr);
	fsid_leave(&saved);
	if (ret) {
		session_seterr(err, "%s", ferr);
		return ret;
	}
	if (!uc->cf.password) {
		session_seterr(err, "credentials file %s has no password= line", file);
		return -ENOKEY;
	}
	if (!uc->cf.user && !uc->login[0]) {
		session_seterr(err, "credentials file %s has no username= line, and uid %u has "
			       "no login name to use instead", file, (unsigned)uid);
		return -ENOKEY;
	}
	so->user = uc->cf.user ? uc->cf.user : uc->login;
	so->domain = uc->cf.domain ? uc->cf.domain : base->domain;
	so->password = uc->cf.password;
	so->nt_hash = NULL;
	return 0;
}

int user_creds_get(const struct session_opts *base, const char *template, uid_t uid,
		   gid_t gid, pid_t pid, struct user_creds *uc, struct session_opts *so,
		   char err[SESSION_ERRLEN])
{
	int ret;

	memset(uc, 0, sizeof(*uc));
	/* Files are read with the user's own group, not that of whatever
	 * process asked first (a setgid program's). */
	lookup_gid(uid, &gid);
	*so = *base;
	so->password = NULL;
	so->nt_hash = NULL;
	switch (base->sec) {
	case SEC_NTLMSSP:
		ret = ntlm_creds(base, template, uid, gid, uc, so, err);
		break;
	case SEC_KRB5:
		ret = krb5_creds(uid, gid, pid, uc, err);
		if (!ret) {
			so->krb5_ccache = uc->ccache;
			so->user = NULL;	/* the ticket's principal */
			so->as_user = true;
			so->uid = uid;
			so->gid = gid;
		}
		break;
	default:
		session_seterr(err, "a multiuser mount needs sec=ntlmssp or sec=krb5");
		ret = -EINVAL;
		break;
	}
	if (ret)
		user_creds_free(uc);
	return ret;
}

void user_creds_free(struct user_creds *uc)
{
	credfile_free(&uc->cf);
	free(uc->ccache);
	uc->ccache = NULL;
}
