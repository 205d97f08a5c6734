/*
 * opts.c - command line, -o options and credentials (see opts.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "credfile.h"
#include "log.h"
#include "ntlm.h"
#include "opts.h"
#include "secret.h"
#include "user_creds.h"
#include "smb2.h"

static int fail(char *err, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, OPTS_ERRLEN, fmt, ap);
	va_end(ap);
	return ret;
}

void opts_init(struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->port = 445;
	o->sec = SEC_NTLMSSP;
	o->min_dialect = SMB2_DIALECT_210;
	o->max_dialect = SMB2_DIALECT_311;
	o->secure_negotiate = true;
	o->timeout_s = 30;
	o->echo_interval_s = 60;
	o->uid = getuid();
	o->gid = getgid();
	o->file_mode = 0644;
	o->dir_mode = 0755;
	o->actimeo_s = 1.0;
}

static void wipe_free(char *s)
{
	if (s)
		OPENSSL_cleanse(s, strlen(s));
	free(s);
}

void opts_free(struct options *o)
{
	free(o->host);
	free(o->share);
	free(o->path);
	free(o->user);
	free(o->domain);
	free(o->spn);
	free(o->krb5_ccache);
	free(o->user_credentials);
	wipe_free(o->password);
	secret_free(o->nt_hash);
	memset(o, 0, sizeof(*o));
}

static int set_str(char **dst, const char *v, size_t n)
{
	char *s = strndup(v, n);

	if (!s)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

static int set_secret(char **dst, const char *v, size_t n)
{
	char *s = strndup(v, n);

	if (!s)
		return -ENOMEM;
	wipe_free(*dst);
	*dst = s;
	return 0;
}

int opts_parse_unc(struct options *o, const char *unc, char err[OPTS_ERRLEN])
{
	const char *p = unc, *host, *share, *end;
	size_t hl, sl;
	char *path, *q;

	if (!((p[0] == '/' && p[1] == '/') || (p[0] == '\\' && p[1] == '\\')))
		return fail(err, -EINVAL, "'%s' is not of the form //SERVER/SHARE[/PATH]", unc);
	host = p + 2;
	if (*host == '[') {
		end = strchr(host, ']');
		if (!end)
			return fail(err, -EINVAL, "unterminated IPv6 address in '%s'", unc);
		host++;
		hl = (size_t)(end - host);
		end++;
	} else {
		end = host + strcspn(host, "/\\");
		hl = (size_t)(end - host);
	}
	if (hl == 0 || (*end != '/' && *end != '\\'))
		return fail(err, -EINVAL, "'%s' names no share: use //SERVER/SHARE[/PATH]", unc);
	share = end + 1;
	sl = strcspn(share, "/\\");
	if (sl == 0)
		return fail(err, -EINVAL, "'%s' names no share: use //SERVER/SHARE[/PATH]", unc);
	if (set_str(&o->host, host, hl) || set_str(&o->share, share, sl))
		return fail(err, -ENOMEM, "out of memory");
	/* The rest, without leading or doubled separators, '\\'-joined. */
	path = strdup(share + sl);
	if (!path)
		return fail(err, -ENOMEM, "out of memory");
	for (q = path; *q; q++)
		if (*q == '/')
			*q = '\\';
	{
		char *r = path, *w = path;

		while (*r) {
			if (*r == '\\' && (w == path || w[-1] == '\\')) {
				r++;
				continue;
			}
			*w++ = *r++;
		}
		if (w > path && w[-1] == '\\')
			w--;
		*w = '\0';
	}
	free(o->path);
	o->path = path;
	return 0;
}

static int parse_int(const char *v, size_t n, long min, long max, long *out)
{
	char buf[32], *end;
	long x;

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, v, n);
	buf[n] = '\0';
	errno = 0;
	x = strtol(buf, &end, 0);
	if (errno || *end || x < min || x > max)
		return -EINVAL;
	*out = x;
	return 0;
}

static int parse_vers(struct options *o, const char *v, size_t n)
{
	static const struct { const char *name; uint16_t min, max; } table[] = {
		{ "2.0", SMB2_DIALECT_202, SMB2_DIALECT_202 },
		{ "2.1", SMB2_DIALECT_210, SMB2_DIALECT_210 },
		{ "3.0", SMB2_DIALECT_300, SMB2_DIALECT_300 },
		{ "3.02", SMB2_DIALECT_302, SMB2_DIALECT_302 },
		{ "3.0.2", SMB2_DIALECT_302, SMB2_DIALECT_302 },
		{ "3.1.1", SMB2_DIALECT_311, SMB2_DIALECT_311 },
		{ "3.11", SMB2_DIALECT_311, SMB2_DIALECT_311 },
		{ "3", SMB2_DIALECT_300, SMB2_DIALECT_311 },
		{ "default", SMB2_DIALECT_210, SMB2_DIALECT_311 },
	};
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (strlen(table[i].name) == n && strncmp(table[i].name, v, n) == 0) {
			o->min_dialect = table[i].min;
			o->max_dialect = table[i].max;
			return 0;
		}
	}
	return -EINVAL;
}

/* Options for mount(8), systemd or the FUSE helper that smbfuse itself
 * has no use for. */
static bool ignored(const char *k, size_t n)
{
	static const char *const names[] = {
		"_netdev", "nofail", "auto", "noauto", "user", "users", "nouser",
		"defaults", "owner", "group", "comment", "relatime",
	};
	size_t i;

	if ((n >= 2 && strncmp(k, "x-", 2) == 0) || (n >= 8 && strncmp(k, "comment=", 8) == 0))
		return true;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && strncmp(names[i], k, n) == 0)
			return true;
	return false;
}

/* Flags of the mount itself, which the kernel applies (fstab's "user"
 * implies noexec, nosuid, nodev): passed on to the FUSE mount. */
static bool kernel_flag(const char *k, size_t n)
{
	static const char *const names[] = {
		"exec", "noexec", "suid", "nosuid", "dev", "nodev", "atime", "noatime",
		"sync", "async", "dirsync",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && strncmp(names[i], k, n) == 0)
			return true;
	return false;
}

static int add_kernel_flag(struct options *o, const char *k, size_t n, char *err)
{
	size_t used = strlen(o->kernel_flags);

	if (used + n + 2 > sizeof(o->kernel_flags))
		return fail(err, -EINVAL, "too many mount flags");
	snprintf(o->kernel_flags + used, sizeof(o->kernel_flags) - used, ",%.*s", (int)n, k);
	return 0;
}

static bool key_is(const char *k, size_t kl, const char *name)
{
	return strlen(name) == kl && strncmp(k, name, kl) == 0;
}

/* One option: key (kl bytes) and value (vl bytes; v NULL if no '='). */
static int parse_one(struct options *o, const char *k, size_t kl, const char *v, size_t vl,
		     char *err)
{
	long x;

	if (key_is(k, kl, "username") || key_is(k, kl, "user")) {
		if (!v)
			return ignored(k, kl) ? 0 : fail(err, -EINVAL, "option '%.*s' needs a value", (int)kl, k);
		/* user=DOMAIN/name and DOMAIN\name as mount.cifs takes them */
		const char *sep = memchr(v, '/', vl);

		if (!sep)
			sep = memchr(v, '\\', vl);
		if (sep) {
			if (set_str(&o->domain, v, (size_t)(sep - v)))
				return -ENOMEM;
			vl -= (size_t)(sep - v) + 1;
			v = sep + 1;
		}
		return set_str(&o->user, v, vl);
	}
	if (key_is(k, kl, "password") || key_is(k, kl, "pass")) {
		if (!v)
			return fail(err, -EINVAL, "option 'password' needs a value");
		o->password_given = true;
		return set_secret(&o->password, v, vl);
	}
	if (key_is(k, kl, "domain") || key_is(k, kl, "dom") || key_is(k, kl, "workgroup")) {
		if (!v)
			return fail(err, -EINVAL, "option '%.*s' needs a value", (int)kl, k);
		return set_str(&o->domain, v, vl);
	}
	if (key_is(k, kl, "credentials") || key_is(k, kl, "cred")) {
		char file[PATH_MAX];

		if (!v || vl >= sizeof(file))
			return fail(err, -EINVAL, "option 'credentials' needs a file name");
		memcpy(file, v, vl);
		file[vl] = '\0';
		return opts_read_credentials(o, file, err);
	}
	if (key_is(k, kl, "port")) {
		if (!v || parse_int(v, vl, 1, 65535, &x))
			return fail(err, -EINVAL, "port= needs a number from 1 to 65535");
		o->port = (uint16_t)x;
		return 0;
	}
	if (key_is(k, kl, "vers")) {
		if (!v || parse_vers(o, v, vl))
			return fail(err, -EINVAL, "vers=%.*s is not one of 2.0, 2.1, 3.0, 3.02, 3.1.1, 3, default",
				    (int)vl, v ? v : "");
		return 0;
	}
	if (key_is(k, kl, "sec")) {
		if (v && vl == 7 && !strncmp(v, "ntlmssp", 7))
			o->sec = SEC_NTLMSSP;
		else if (v && vl == 4 && !strncmp(v, "krb5", 4))
			o->sec = SEC_KRB5;
		else if (v && vl == 5 && !strncmp(v, "krb5i", 5)) {
			o->sec = SEC_KRB5;	/* mount.cifs: Kerberos with signing */
			o->sign = true;
		}
		else if (v && vl == 4 && !strncmp(v, "none", 4))
			o->sec = SEC_NONE;
		else
			return fail(err, -EINVAL, "sec=%.*s is not one of ntlmssp, krb5, krb5i, none",
				    (int)vl, v ? v : "");
		return 0;
	}
	if (key_is(k, kl, "spn") || key_is(k, kl, "servicename")) {
		if (!v || vl == 0)
			return fail(err, -EINVAL, "option '%.*s' needs a Kerberos service name "
				    "(service/host[@REALM] or service@host)", (int)kl, k);
		if (!memchr(v, '/', vl) && !memchr(v, '@', vl))
			return fail(err, -EINVAL, "%.*s=%.*s is neither service/host[@REALM] nor "
				    "service@host", (int)kl, k, (int)vl, v);
		return set_str(&o->spn, v, vl);
	}
	if (key_is(k, kl, "krb5ccname")) {
		if (!v || vl == 0)
			return fail(err, -EINVAL, "option 'krb5ccname' needs a credential cache name "
				    "(FILE:/tmp/krb5cc_1000, KEYRING:persistent:1000, ...)");
		return set_str(&o->krb5_ccache, v, vl);
	}
	if (key_is(k, kl, "guest")) {
		o->sec = SEC_NONE;
		return 0;
	}
	if (key_is(k, kl, "sign")) {
		o->sign = true;
		return 0;
	}
	/* What a request does while the server is unreachable: soft fails
	 * it after timeout=, hard waits (as mount.cifs and NFS). */
	if (key_is(k, kl, "hard") || key_is(k, kl, "soft")) {
		o->hard = key_is(k, kl, "hard");
		return 0;
	}
	/* Several connections for one session (SMB 3.x), as mount.cifs
	 * names it: multichannel alone means two. */
	if (key_is(k, kl, "multichannel")) {
		if (o->max_channels < 2)
			o->max_channels = 2;
		return 0;
	}
	if (key_is(k, kl, "nomultichannel")) {
		o->max_channels = 1;
		return 0;
	}
	if (key_is(k, kl, "max_channels")) {
		if (!v || parse_int(v, vl, 1, SESSION_MAX_CHANNELS, &x))
			return fail(err, -EINVAL, "max_channels= needs a number of connections from 1 to %d",
				    SESSION_MAX_CHANNELS);
		o->max_channels = (int)x;
		return 0;
	}
	if (key_is(k, kl, "seal")) {
		o->seal = true;
		return 0;
	}
	if (key_is(k, kl, "nosecurenegotiate")) {
		o->secure_negotiate = false;
		return 0;
	}
	if (key_is(k, kl, "timeout")) {
		if (!v || parse_int(v, vl, 1, 3600, &x))
			return fail(err, -EINVAL, "timeout= needs a number of seconds from 1 to 3600");
		o->timeout_s = (int)x;
		return 0;
	}
	if (key_is(k, kl, "echo_interval")) {
		if (!v || parse_int(v, vl, 0, 600, &x))
			return fail(err, -EINVAL, "echo_interval= needs a number of seconds from 0 to 600");
		o->echo_interval_s = (int)x;
		return 0;
	}
	if (key_is(k, kl, "uid") || key_is(k, kl, "gid")) {
		char name[256];
		bool is_uid = k[0] == 'u';

		if (!v || vl == 0 || vl >= sizeof(name))
			return fail(err, -EINVAL, "%.*s= needs a number or a name", (int)kl, k);
		if (parse_int(v, vl, 0, INT32_MAX, &x) != 0) {
			memcpy(name, v, vl);
			name[vl] = '\0';
			if (is_uid) {
				struct passwd *pw = getpwnam(name);

				if (!pw)
					return fail(err, -EINVAL, "uid=%s: no such user", name);
				x = (long)pw->pw_uid;
			} else {
				struct group *gr = getgrnam(name);

				if (!gr)
					return fail(err, -EINVAL, "gid=%s: no such group", name);
				x = (long)gr->gr_gid;
			}
		}
		if (is_uid)
			o->uid = (uid_t)x;
		else
			o->gid = (gid_t)x;
		return 0;
	}
	if (key_is(k, kl, "file_mode") || key_is(k, kl, "dir_mode")) {
		char buf[16];

		if (!v || vl == 0 || vl >= sizeof(buf))
			return fail(err, -EINVAL, "%.*s= needs an octal mode such as 0644", (int)kl, k);
		memcpy(buf, v, vl);
		buf[vl] = '\0';
		errno = 0;
		x = strtol(buf, NULL, 8);
		if (strspn(buf, "01234567") != vl || x > 07777)
			return fail(err, -EINVAL, "%.*s=%s is not an octal mode such as 0644",
				    (int)kl, k, buf);
		if (k[0] == 'f')
			o->file_mode = (mode_t)x;
		else
			o->dir_mode = (mode_t)x;
		return 0;
	}
	if (key_is(k, kl, "actimeo")) {
		if (!v || parse_int(v, vl, 0, 86400, &x))
			return fail(err, -EINVAL, "actimeo= needs a number of seconds (0 disables caching)");
		o->actimeo_s = (double)x;
		return 0;
	}
	if (key_is(k, kl, "cache")) {
		if (v && vl == 6 && !strncmp(v, "strict", 6))
			o->cache = 0;
		else if (v && vl == 5 && !strncmp(v, "loose", 5))
			o->cache = 1;
		else if (v && vl == 4 && !strncmp(v, "none", 4))
			o->cache = 2;
		else
			return fail(err, -EINVAL, "cache=%.*s is not one of strict, loose, none",
				    (int)vl, v ? v : "");
		return 0;
	}
	if (key_is(k, kl, "rsize") || key_is(k, kl, "wsize") || key_is(k, kl, "max_read")) {
		if (!v || parse_int(v, vl, 4096, 16 * 1024 * 1024, &x))
			return fail(err, -EINVAL, "%.*s= needs a byte count from 4096 to 16777216",
				    (int)kl, k);
		if (k[0] == 'w')
			o->wsize = (unsigned)x;
		else
			o->rsize = (unsigned)x;
		return 0;
	}
	if (key_is(k, kl, "ro")) {
		o->ro = true;
		return 0;
	}
	if (key_is(k, kl, "rw")) {
		o->ro = false;
		return 0;
	}
	if (key_is(k, kl, "allow_other")) {
		o->allow_other = true;
		return 0;
	}
	if (key_is(k, kl, "allow_root")) {
		o->allow_root = true;
		return 0;
	}
	if (key_is(k, kl, "default_permissions")) {
		o->default_permissions = true;
		return 0;
	}
	/* Symbolic links as Minshall+French files where the server refuses
	 * reparse points (mount.cifs's name). */
	if (key_is(k, kl, "mfsymlinks")) {
		o->mfsymlinks = true;
		return 0;
	}
	/* Every local user logs on as themselves (mount.cifs's name). */
	if (key_is(k, kl, "multiuser")) {
		o->multiuser = true;
		o->allow_other = true;	/* the point of it: other users come in */
		return 0;
	}
	if (key_is(k, kl, "user_credentials")) {
		char tmpl[PATH_MAX];

		if (!v || vl == 0 || vl >= sizeof(tmpl))
			return fail(err, -EINVAL, "user_credentials= needs a file name template "
				    "such as /etc/smbfuse/%%u.cred or ~/.smbcredentials");
		memcpy(tmpl, v, vl);
		tmpl[vl] = '\0';
		if (user_creds_check_template(tmpl, err))
			return -EINVAL;
		return set_str(&o->user_credentials, v, vl);
	}
	if (key_is(k, kl, "user_idle")) {
		if (!v || parse_int(v, vl, 1, 86400, &x))
			return fail(err, -EINVAL, "user_idle= needs a number of seconds from 1 to 86400");
		o->user_idle_s = (int)x;
		return 0;
	}
	if (key_is(k, kl, "ignore_chown")) {
		o->ignore_chown = true;
		return 0;
	}
	/* fcntl and flock locks kept inside this mount, not sent to the
	 * server (mount.cifs's name). */
	if (key_is(k, kl, "nobrl")) {
		o->nobrl = true;
		return 0;
	}
	if (key_is(k, kl, "nonempty")) {
		o->nonempty = true;
		return 0;
	}
	if (key_is(k, kl, "debug")) {
		o->debug = true;
		o->foreground = true;
		return 0;
	}
	/* Accepted for mount.cifs users; smbfuse always behaves this way:
	 * owners and modes come from uid=/gid=/file_mode=/dir_mode= (SMB
	 * without POSIX extensions has none), and permission checks are the
	 * server's unless default_permissions is given. */
	if (key_is(k, kl, "forceuid") || key_is(k, kl, "forcegid") || key_is(k, kl, "noperm") ||
	    key_is(k, kl, "nounix") || key_is(k, kl, "noserverino") || key_is(k, kl, "serverino"))
		return 0;
	/* Set by smbfuse itself, or by mount.fuse3 on its own. */
	if (key_is(k, kl, "fsname") || key_is(k, kl, "subtype") || key_is(k, kl, "blkdev"))
		return 0;
	if (ignored(k, kl))
		return 0;
	if (kernel_flag(k, kl))
		return add_kernel_flag(o, k, kl, err);
	if (o->sloppy) {
		log_warn("ignoring unknown option '%.*s' (mount -s)", (int)kl, k);
		return 0;
	}
	return fail(err, -EINVAL, "unknown option '%.*s' (see smbfuse(1) for the list)", (int)kl, k);
}

int opts_parse(struct options *o, const char *optstr, char err[OPTS_ERRLEN])
{
	const char *p = optstr, *end, *eq;
	size_t n;
	int ret;

	while (*p) {
		end = strchr(p, ',');
		n = end ? (size_t)(end - p) : strlen(p);
		if (n) {
			eq = memchr(p, '=', n);
			ret = eq ? parse_one(o, p, (size_t)(eq - p), eq + 1, n - (size_t)(eq - p) - 1, err)
				 : parse_one(o, p, n, NULL, 0, err);
			if (ret) {
				if (ret == -ENOMEM)
					fail(err, ret, "out of memory");
				return ret;
			}
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

int opts_check(const struct options *o, char err[OPTS_ERRLEN])
{
	if (!o->multiuser) {
		if (o->user_credentials || o->user_idle_s)
			return fail(err, -EINVAL, "%s= is an option of multiuser mounts: add "
				    "-o multiuser, or leave it out",
				    o->user_credentials ? "user_credentials" : "user_idle");
		return 0;
	}
	/* Reading each user's credentials with that user's rights, and
	 * serving every user of the machine, is root's work. */
	if (geteuid() != 0)
		return fail(err, -EPERM, "multiuser needs root: the daemon serves every local "
			    "user and reads each one's credentials as that user");
	if (o->sec == SEC_NONE)
		return fail(err, -EINVAL, "multiuser with a guest or anonymous logon gives every "
			    "user the same rights: use sec=ntlmssp or sec=krb5");
	if (o->sec == SEC_KRB5 && o->user_credentials)
		return fail(err, -EINVAL, "user_credentials= names NTLM credentials files; with "
			    "sec=krb5 each user's own Kerberos tickets are used");
	return 0;
}

int opts_read_credentials(struct options *o, const char *file, char err[OPTS_ERRLEN])
{
	struct credfile cf;
	int ret;

	ret = credfile_read(file, (uid_t)-1, &cf, err);
	if (ret)
		return ret;
	if (cf.user)
		ret = set_str(&o->user, cf.user, strlen(cf.user));
	if (!ret && cf.domain)
		ret = set_str(&o->domain, cf.domain, strlen(cf.domain));
	if (!ret && cf.password) {
		o->password_given = true;
		ret = set_secret(&o->password, cf.password, strlen(cf.password));
	}
	credfile_free(&cf);
	return ret ? fail(err, ret, "out of memory") : 0;
}

/* Overwrite the value of every NAME= in the environment where it lies,
 * then take NAME out.  environ's strings are, unless setenv replaced
 * them, the block the kernel copied in at exec, which is what
 * /proc/PID/environ shows to the user's other processes (and root) for
 * as long as the process runs; unsetenv alone only drops the pointer.
 * Every NAME= is wiped: an execve may pass one twice. */
static void scrub_env(const char *name)
{
	size_t n = strlen(name);
	char **e;

	for (e = environ; e && *e; e++)
		if (!strncmp(*e, name, n) && (*e)[n] == '=')
			OPENSSL_cleanse(*e + n + 1, strlen(*e + n + 1));
	unsetenv(name);
}

void opts_from_env(struct options *o)
{
	const char *u = getenv("USER"), *p = getenv("PASSWD");

	if (!o->user && u && *u)
		set_str(&o->user, u, strlen(u));
	if (!o->password_given && p && set_secret(&o->password, p, strlen(p)) == 0)
		o->password_given = true;
	scrub_env("PASSWD");
}

int opts_set_password(struct options *o, const char *pw, size_t n)
{
	int ret = set_secret(&o->password, pw, n);

	if (!ret)
		o->password_given = true;
	return ret;
}

/* Overwrite the password= / pass= values in one -o list, split as
 * opts_parse splits it. */
static void scrub_optlist(char *p)
{
	size_t n, kl;
	char *eq;

	while (*p) {
		n = strcspn(p, ",");
		eq = memchr(p, '=', n);
		kl = eq ? (size_t)(eq - p) : 0;
		if (eq && (key_is(p, kl, "password") || key_is(p, kl, "pass")))
			memset(eq + 1, '*', n - kl - 1);
		p += n;
		if (*p == ',')
			p++;
	}
}

void opts_scrub_argv(int argc, char **argv)
{
	int i;

	/* As main reads them: "-oLIST", or "-o" with the list next.  Other
	 * arguments are left alone, even a mount point named password=x. */
	for (i = 1; i < argc; i++) {
		if (strncmp(argv[i], "-o", 2) != 0)
			continue;
		if (argv[i][2])
			scrub_optlist(argv[i] + 2);
		else if (i + 1 < argc)
			scrub_optlist(argv[++i]);
	}
}

int opts_keep_nt_hash(struct options *o, char err[OPTS_ERRLEN])
{
	struct secret *h;
	int ret;

	if (o->sec != SEC_NTLMSSP) {
		/* Kerberos logs on with a ticket, guest with nothing. */
		opts_forget_password(o);
		return 0;
	}
	h = secret_new(NTLM_KEY_SIZE);
	if (!h) {
		ret = -errno;
		return fail(err, ret, "cannot keep the credentials: %s", strerror(-ret));
	}
	/* Straight into the secret: no copy of the hash anywhere else. */
	ret = ntlm_nt_hash(o->password ? o->password : "", secret_data(h));
	if (ret) {
		secret_free(h);
		if (ret == -EILSEQ)
			return fail(err, ret, "the password is not valid UTF-8");
		if (ret == -ENOTSUP)
			return fail(err, ret, "NTLM needs MD4 and RC4 from OpenSSL's legacy provider, "
				    "which is not installed (Debian: it ships in libssl3)");
		return fail(err, ret, "cannot compute the password's NT hash");
	}
	secret_free(o->nt_hash);
	o->nt_hash = h;
	return 0;
}

void opts_forget_password(struct options *o)
{
	if (o->password)
		OPENSSL_cleanse(o->password, strlen(o->password));
}

void opts_to_session(const struct options *o, struct session_opts *so)
{
	memset(so, 0, sizeof(*so));
	so->host = o->host;
	so->port = o->port;
	so->share = o->share;
	so->sec = o->sec;
	so->user = o->user;
	so->domain = o->domain;
	so->password = o->password;
	so->nt_hash = o->nt_hash ? secret_data(o->nt_hash) : NULL;
	so->spn = o->spn;
	so->krb5_ccache = o->krb5_ccache;
	so->min_dialect = o->min_dialect;
	so->max_dialect = o->max_dialect;
	so->require_signing = o->sign;
	so->require_encryption = o->seal;
	so->secure_negotiate = o->secure_negotiate;
	so->connect_timeout_ms = o->timeout_s * 1000;
	so->request_timeout_ms = o->timeout_s * 1000;
	so->echo_interval_s = o->echo_interval_s;
	so->hard = o->hard;
	so->reconnect = true;
	so->max_channels = o->max_channels;
}
