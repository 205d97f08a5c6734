/*
 * user_creds.h - what one local user of a multiuser mount logs on with:
 * with sec=ntlmssp, the credentials file the template names for that
 * user (read with the user's own file rights, and owned by the user);
 * with sec=krb5, the ticket cache the calling process names in its
 * KRB5CCNAME (or the system's default for that uid), which GSSAPI then
 * reads with the user's rights too.
 */
#ifndef SMBFUSE_USER_CREDS_H
#define SMBFUSE_USER_CREDS_H

#include <sys/types.h>

#include "credfile.h"
#include "session.h"

/* Where a user's credentials file is when nothing else is said. */
#define USER_CREDS_DEFAULT_TEMPLATE "~/.smbcredentials"

struct user_creds {
	struct credfile cf;		/* sec=ntlmssp: what the file said */
	char *ccache;			/* sec=krb5: the cache's name */
	char login[256];		/* the user's login name, "" if none */
};

/* uid's login name and home directory from the password database (cut
 * to the sizes given; "" for an empty one): login, or NULL (both "")
 * for a uid without an entry. */
const char *user_creds_login(uid_t uid, char *login, size_t lsize, char *home, size_t hsize);

/* Whether template can name a file: an absolute path, or one under the
 * user's home ("~/..."), with %u (login name), %U (uid) and %% only.
 * 0, or -EINVAL with err saying what is wrong. */
int user_creds_check_template(const char *template, char err[SESSION_ERRLEN]);

/*
 * The session options for uid (a copy of base with the user's
 * credentials in it: pointers into uc, which must outlive so's use).
 * pid is the process that asked (its environment names the Kerberos
 * cache).  0, or -errno with err saying why this user cannot log on.
 */
int user_creds_get(const struct session_opts *base, const char *template, uid_t uid,
		   gid_t gid, pid_t pid, struct user_creds *uc, struct session_opts *so,
		   char err[SESSION_ERRLEN]);
/* Wipe and free what user_creds_get kept. */
void user_creds_free(struct user_creds *uc);

#endif
