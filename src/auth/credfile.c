/*
 * credfile.c - reading a credentials file (see credfile.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "credfile.h"

static int fail(char *err, int ret, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, CREDFILE_ERRLEN, fmt, ap);
	va_end(ap);
	return ret;
}

static int set(char **dst, const char *v, size_t n)
{
	char *p = strndup(v, n);

	if (!p)
		return -ENOMEM;
	if (*dst) {
		OPENSSL_cleanse(*dst, strlen(*dst));
		free(*dst);
	}
	*dst = p;
	return 0;
}

/* username=DOMAIN/name and DOMAIN\name, as mount.cifs takes them. */
static int set_user(struct credfile *cf, const char *v)
{
	const char *sep = strchr(v, '/');

	if (!sep)
		sep = strchr(v, '\\');
	if (sep) {
		if (set(&cf->domain, v, (size_t)(sep - v)))
			return -ENOMEM;
		v = sep + 1;
	}
	return set(&cf->user, v, strlen(v));
}

static int take_line(struct credfile *cf, char *line, const char *file, char *err)
{
	char *k = line, *v;

	line[strcspn(line, "\r\n")] = '\0';
	while (*k == ' ' || *k == '\t')
		k++;
	if (*k == '#' || *k == '\0')
		return 0;
	v = strchr(k, '=');
	if (!v)
		return fail(err, -EINVAL, "credentials file %s: line without '=': expected "
			    "username=, password= or domain=", file);
	*v++ = '\0';
	if (!strcmp(k, "username") || !strcmp(k, "user"))
		return set_user(cf, v) ? fail(err, -ENOMEM, "out of memory") : 0;
	if (!strcmp(k, "password") || !strcmp(k, "pass"))
		return set(&cf->password, v, strlen(v)) ? fail(err, -ENOMEM, "out of memory") : 0;
	if (!strcmp(k, "domain") || !strcmp(k, "dom") || !strcmp(k, "workgroup"))
		return set(&cf->domain, v, strlen(v)) ? fail(err, -ENOMEM, "out of memory") : 0;
	return fail(err, -EINVAL, "credentials file %s: unknown key '%s'", file, k);
}

int credfile_read(const char *file, uid_t owner, struct credfile *cf, char err[CREDFILE_ERRLEN])
{
	char line[1024], filebuf[4096];
	struct stat st;
	FILE *f;
	int fd, ret = 0;

	memset(cf, 0, sizeof(*cf));
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return fail(err, -errno, "cannot open credentials file %s: %s", file, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(err, -EINVAL, "credentials file %s is not a regular file", file);
	}
	if (owner != (uid_t)-1 && st.st_uid != owner) {
		close(fd);
		return fail(err, -EPERM, "credentials file %s belongs to uid %u, not to uid %u",
			    file, (unsigned)st.st_uid, (unsigned)owner);
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		close(fd);
		return fail(err, -EPERM, "credentials file %s may be read by others (mode %03o): "
			    "run 'chmod 600 %s'", file, (unsigned)(st.st_mode & 0777), file);
	}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return fail(err, -ENOMEM, "out of memory");
	}
	/* stdio's own buffer would be freed with the file's contents, the
	 * password among them, still in it: read through one that is wiped. */
	setvbuf(f, filebuf, _IOFBF, sizeof(filebuf));
	while (!ret && fgets(line, sizeof(line), f))
		ret = take_line(cf, line, file, err);
	OPENSSL_cleanse(line, sizeof(line));
	fclose(f);
	OPENSSL_cleanse(filebuf, sizeof(filebuf));
	if (ret)
		credfile_free(cf);
	return ret;
}

void credfile_free(struct credfile *cf)
{
	char **p[] = { &cf->user, &cf->domain, &cf->password };
	size_t i;

	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		if (*p[i]) {
			OPENSSL_cleanse(*p[i], strlen(*p[i]));
			free(*p[i]);
			*p[i] = NULL;
		}
	}
}
