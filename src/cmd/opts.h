/*
 * opts.h - what the user asked for: //SERVER/SHARE[/PATH], the -o options
 * (named as mount.cifs names them where they overlap), the credentials
 * file and the USER / PASSWD environment variables.
 */
#ifndef SMBFUSE_OPTS_H
#define SMBFUSE_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "secret.h"
#include "session.h"

#define OPTS_ERRLEN 512

struct options {
	char *host;			/* as given, brackets removed for IPv6 */
	char *share;
	char *path;			/* within the share, '\\'-separated, "" for the root */
	uint16_t port;
	char *user;
	char *domain;
	/* The password as given, short-lived: it is wiped (in place, so
	 * that pointers into it read "") by opts_forget_password as soon as
	 * the first logon no longer needs it, and by opts_free. */
	char *password;
	bool password_given;
	/* sec=ntlmssp: the NT hash of the password (of "" if none was
	 * given), made by opts_keep_nt_hash.  This is the long-lived copy of
	 * the credential, what a reconnect logs on with; NULL for sec=krb5
	 * and sec=none, where nothing is kept. */
	struct secret *nt_hash;
	char *spn;			/* sec=krb5: service principal, NULL: cifs@host */
	char *krb5_ccache;		/* sec=krb5: credential cache, NULL: the default */
	enum session_sec sec;
	uint16_t min_dialect, max_dialect;
	bool sign, seal;
	bool secure_negotiate;
	int timeout_s;			/* per request, and to connect */
	int echo_interval_s;
	bool hard;			/* wait for a reconnect however long it takes */
	int max_channels;		/* multichannel: connections at most (1: one) */
	/* mounting */
	uid_t uid;
	gid_t gid;
	mode_t file_mode, dir_mode;
	double actimeo_s;
	int cache;			/* enum cache_mode (fs.h) */
	unsigned rsize, wsize;		/* 0: as negotiated */
	bool ro;
	bool allow_other, allow_root, default_permissions;
	bool ignore_chown;
	bool mfsymlinks;
	/* multiuser: each local user on a session of their own, with the
	 * credentials file user_credentials names (NULL: the default) or,
	 * with sec=krb5, their own tickets; closed after user_idle_s. */
	bool multiuser;
	char *user_credentials;
	int user_idle_s;
	bool nobrl;			/* locks local to the mount */
	bool nonempty;
	bool sloppy;			/* mount -s: unknown options are ignored */
	char kernel_flags[128];		/* ",noexec,nosuid...": for the FUSE mount */
	bool foreground;
	bool verbose;			/* -v: informational messages too */
	bool debug;
};

void opts_init(struct options *o);
void opts_free(struct options *o);

/* //SERVER/SHARE[/PATH] (backslashes accepted too). */
int opts_parse_unc(struct options *o, const char *unc, char err[OPTS_ERRLEN]);

/* One comma-separated -o string.  Unknown options are an error naming
 * them; options meant for mount(8) or systemd (_netdev, nofail, x-*...)
 * are ignored. */
int opts_parse(struct options *o, const char *optstr, char err[OPTS_ERRLEN]);

/* What no single option can check: the options that need another, and
 * the ones that cannot go together.  0, or -EINVAL with err saying why.
 * After every option (and the environment) is in. */
int opts_check(const struct options *o, char err[OPTS_ERRLEN]);

/* Read credentials=FILE: username=, password=, domain= lines.  A file
 * that group or others may read is refused. */
int opts_read_credentials(struct options *o, const char *file, char err[OPTS_ERRLEN]);

/* Take USER / PASSWD from the environment where nothing was given.
 * Then PASSWD, used or not, leaves the environment: its value is
 * overwritten where it lies, since /proc/PID/environ shows the block
 * the process started with, whatever unsetenv takes out of environ. */
void opts_from_env(struct options *o);

/* The password typed at a prompt (n bytes at pw). */
int opts_set_password(struct options *o, const char *pw, size_t n);

/* Overwrite the password= / pass= values of the -o lists in argv ("-o
 * LIST" and "-oLIST", read as main reads them), so that
 * /proc/PID/cmdline of the running daemon shows no secret. */
void opts_scrub_argv(int argc, char **argv);

/* sec=ntlmssp: keep the NT hash of the password in o->nt_hash.  Other
 * mechanisms keep nothing, and the password is forgotten at once.  0,
 * or -ENOTSUP (no MD4 in OpenSSL), -EILSEQ (not UTF-8), -ENOMEM or what
 * mmap said, with a message in err.  Call it after any fork: the child of a fork sees a
 * secret zeroed (secret.h). */
int opts_keep_nt_hash(struct options *o, char err[OPTS_ERRLEN]);

/* Wipe the password, in place. */
void opts_forget_password(struct options *o);

/* The session options these translate to (pointers into o). */
void opts_to_session(const struct options *o, struct session_opts *so);

#endif
