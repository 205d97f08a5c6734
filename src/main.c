/*
 * main.c - smbfuse's entry point: command line -> options -> probe or mount.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "opts.h"
#include "probe.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: smbfuse //SERVER/SHARE[/PATH] MOUNTPOINT [-o OPTIONS]\n"
"       smbfuse --probe //SERVER/SHARE [-o OPTIONS]\n"
"       smbfuse -h | --help | -V | --version\n"
"\n"
"Mount the SMB2/SMB3 share //SERVER/SHARE on the directory MOUNTPOINT.\n"
"\n"
"  -o OPTIONS     comma-separated mount options (see smbfuse(1))\n"
"  -f             stay in the foreground\n"
"  -d             debug: log every request (implies -f)\n"
"  --probe        connect, authenticate and show what was negotiated\n"
"  -h, --help     show this help and exit\n"
"  -V, --version  show the version and exit\n"
"\n"
"See smbfuse(1) for the options and examples.\n");
}

int main(int argc, char **argv)
{
	const char *unc = NULL, *mountpoint = NULL;
	char err[OPTS_ERRLEN];
	struct options o;
	bool probe = false;
	int i, ret = 1;

	opts_init(&o);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			ret = 0;
			goto out;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("smbfuse %s\n", PACKAGE_VERSION);
			ret = 0;
			goto out;
		} else if (!strcmp(a, "--probe")) {
			probe = true;
		} else if (!strcmp(a, "-d")) {
			log_set_level(LOG_LVL_DEBUG);
		} else if (!strcmp(a, "-f")) {
			/* foreground: the only mode until mounting exists */
		} else if (!strncmp(a, "-o", 2)) {
			const char *optstr = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);

			if (!optstr) {
				log_err("-o needs an option list");
				ret = 2;
				goto out;
			}
			if (opts_parse(&o, optstr, err)) {
				log_err("%s", err);
				ret = 2;
				goto out;
			}
		} else if (a[0] == '-' && a[1]) {
			log_err("unknown argument '%s' (see smbfuse --help)", a);
			ret = 2;
			goto out;
		} else if (!unc) {
			unc = a;
		} else if (!mountpoint) {
			mountpoint = a;
		} else {
			log_err("unexpected argument '%s' (see smbfuse --help)", a);
			ret = 2;
			goto out;
		}
	}
	if (!unc || (!probe && !mountpoint)) {
		usage(stderr);
		ret = 2;
		goto out;
	}
	if (opts_parse_unc(&o, unc, err)) {
		log_err("%s", err);
		ret = 2;
		goto out;
	}
	opts_from_env(&o);
	if (probe) {
		ret = probe_run(&o, stdout) ? 1 : 0;
		goto out;
	}
	log_err("this build cannot mount yet: the file system layer is still being written "
		"(smbfuse --probe works)");
	ret = 1;
out:
	opts_free(&o);
	return ret;
}
