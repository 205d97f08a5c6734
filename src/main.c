/*
 * main.c - smbfuse's entry point: command line -> configuration -> mount.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

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
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
			printf("smbfuse %s\n", PACKAGE_VERSION);
			return 0;
		}
	}
	if (argc < 3) {
		usage(stderr);
		return 2;
	}
	log_err("this build cannot mount yet: the SMB2 client is still being written");
	return 1;
}
