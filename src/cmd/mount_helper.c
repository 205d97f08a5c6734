/*
 * mount_helper.c - mount(8)'s helper convention, turned into smbfuse's
 * command line (see mount_helper.h).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mount_helper.h"

/* argv0 SOURCE DIR -o OPTIONS, and the NULL that ends it */
#define HELPER_MAX_ARGS 6

bool mount_helper_invoked(const char *argv0)
{
	const char *base = strrchr(argv0, '/');

	base = base ? base + 1 : argv0;
	return strcmp(base, "mount.smbfuse") == 0 || strcmp(base, "mount.fuse.smbfuse") == 0;
}

static int fail(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(char *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, HELPER_ERRLEN, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int mount_helper_args(int argc, char **argv, struct helper_args *h, char err[HELPER_ERRLEN])
{
	const char *pos[2] = { NULL, NULL }, *opts = NULL;
	int i, npos = 0, n = 0;
	const char *a;

	memset(h, 0, sizeof(*h));
	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (!strcmp(a, "-o") || !strcmp(a, "-t") || !strcmp(a, "-N")) {
			if (i + 1 >= argc)
				return fail(err, "%s needs a value", a);
			if (a[1] == 'N')
				return fail(err, "%s: mounting into another mount namespace is not "
					    "supported", a);
			if (a[1] == 'o')
				opts = argv[i + 1];
			i++;		/* -t TYPE: smbfuse is the only type */
		} else if (!strncmp(a, "-o", 2)) {
			opts = a + 2;
		} else if (a[0] == '-' && a[1] && strspn(a + 1, "sfnvl") == strlen(a + 1)) {
			/* -n (no mtab: there is none) and -l mean nothing here */
			h->sloppy |= strchr(a, 's') != NULL;
			h->fake |= strchr(a, 'f') != NULL;
			h->verbose |= strchr(a, 'v') != NULL;
		} else if (a[0] == '-' && a[1]) {
			return fail(err, "unknown mount(8) helper argument '%s'", a);
		} else if (npos < 2) {
			pos[npos++] = a;
		} else {
			return fail(err, "unexpected argument '%s'", a);
		}
	}
	if (npos < 2)
		return fail(err, "%s", "usage: mount.smbfuse //SERVER/SHARE DIR [-sfnv] [-o OPTIONS]");
	h->argv = calloc(HELPER_MAX_ARGS, sizeof(*h->argv));
	if (!h->argv)
		return -ENOMEM;
	h->argv[n++] = strdup(argv[0]);
	h->argv[n++] = strdup(pos[0]);
	h->argv[n++] = strdup(pos[1]);
	if (opts) {
		h->argv[n++] = strdup("-o");
		h->argv[n++] = strdup(opts);
	}
	h->argc = n;
	for (i = 0; i < n; i++) {
		if (!h->argv[i]) {
			mount_helper_free(h);
			return -ENOMEM;
		}
	}
	return 0;
}

void mount_helper_free(struct helper_args *h)
{
	int i;

	if (!h->argv)
		return;
	for (i = 0; i < HELPER_MAX_ARGS; i++) {
		if (h->argv[i])
			memset(h->argv[i], 0, strlen(h->argv[i]));	/* may hold a password= */
		free(h->argv[i]);
	}
	free(h->argv);
	h->argv = NULL;
}
