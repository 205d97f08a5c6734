/*
 * main.c - smbfuse's entry point: command line -> options -> probe, or
 * connect and mount.
 *
 * Mounting daemonizes only once the share is mounted, so that a script
 * can rely on the mount being there when the command returns: the parent
 * waits on a pipe for the child's verdict and exits with it.  The child
 * connects after the fork, because threads do not survive one.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "fs.h"
#include "fuse_io.h"
#include "log.h"
#include "opts.h"
#include "mount_helper.h"
#include "probe.h"
#include "secret.h"

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
"  -v             verbose: log what happens besides warnings (logons, reconnects)\n"
"  -d             debug: log every request (implies -f)\n"
"  --probe        connect, authenticate and show what was negotiated\n"
"  -h, --help     show this help and exit\n"
"  -V, --version  show the version and exit\n"
"\n"
"See smbfuse(1) for the options and examples.\n");
}

/* Ask for the password on the terminal, without echo. */
static int prompt_password(struct options *o)
{
	struct termios old, quiet;
	char buf[512], ttybuf[512];
	FILE *tty;
	size_t n;
	int ret = -ENOTTY;

	tty = fopen("/dev/tty", "r+");
	if (!tty)
		return ret;
	/* What is typed passes through stdio's buffer: one that is wiped. */
	setvbuf(tty, ttybuf, _IOFBF, sizeof(ttybuf));
	fprintf(tty, "Password for %s@//%s/%s: ", o->user ? o->user : "", o->host, o->share);
	fflush(tty);
	if (tcgetattr(fileno(tty), &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	}
	if (fgets(buf, sizeof(buf), tty)) {
		n = strcspn(buf, "\r\n");
		buf[n] = '\0';
		ret = opts_set_password(o, buf, n);
	}
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputc('\n', tty);
	fclose(tty);
	OPENSSL_cleanse(buf, sizeof(buf));
	OPENSSL_cleanse(ttybuf, sizeof(ttybuf));
	return ret;
}

/* What is mounted at mp (its source, in src) if it is an smbfuse mount:
 * mountinfo's fifth field is the mount point, the filesystem type and
 * source follow the " - " separator.  Octal escapes (\040 for a space)
 * are compared as they stand, on both sides. */
static bool smbfuse_mounted_at(const char *mp, char *src, size_t n)
{
	char real[PATH_MAX], line[8192], point[PATH_MAX], fstype[64], source[PATH_MAX];
	bool found = false;
	const char *sep;
	FILE *f;

	if (!realpath(mp, real))
		return false;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", point) != 1 ||
		    sscanf(sep + 3, "%63s %4095s", fstype, source) != 2)
			continue;
		if (strcmp(point, real) == 0 && strcmp(fstype, "fuse.smbfuse") == 0) {
			snprintf(src, n, "%s", source);
			found = true;
		}
	}
	fclose(f);
	return found;
}

/* The mount point must be a directory, not an smbfuse mount already, and
 * empty unless -o nonempty. */
static int check_mountpoint(const char *mp, bool nonempty)
{
	char src[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (stat(mp, &st) != 0) {
		log_err("mount point %s: %s", mp, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_err("mount point %s is not a directory", mp);
		return -1;
	}
	/* Mounting the same (or another) share over one that is there
	 * would hide it; mount.cifs users expect "already mounted". */
	if (smbfuse_mounted_at(mp, src, sizeof(src))) {
		log_err("%s is already mounted (%s there); unmount it first with fusermount3 -u %s",
			mp, src, mp);
		return -1;
	}
	if (nonempty)
		return 0;
	d = opendir(mp);
	if (!d)
		return 0;	/* cannot look: let the mount decide */
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			closedir(d);
			log_err("mount point %s is not empty (its files would be hidden); "
				"use -o nonempty to mount over them anyway", mp);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

/* Tell the waiting parent how the mount went (once). */
static void report(int *fd, char status)
{
	if (*fd >= 0) {
		if (write(*fd, &status, 1) != 1)
			log_debug("the parent is gone");
		close(*fd);
		*fd = -1;
	}
}

static void detach_stdio(void);

/* fs_init: the kernel has answered, the mount is live.  A daemon lets go
 * of the terminal only now, so that anything going wrong before reaches
 * the user. */
static void mount_ready(struct fs_config *cfg)
{
	if (cfg->ready_fd >= 0) {
		report(&cfg->ready_fd, 0);
		detach_stdio();
	}
}

static void detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

/* The abort hook while the mount goes away: nothing waits any more. */
static int unmounting(void *arg)
{
	(void)arg;
	return -ENOTCONN;
}

static int mount_and_serve(struct options *o, const char *mountpoint)
{
	struct client_opts co = { 0 };
	struct fs_config cfg = { 0 };
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_loop_config *loop = NULL;
	struct fuse *fuse = NULL;
	struct client *c = NULL;
	char err[SESSION_ERRLEN], oerr[OPTS_ERRLEN], fsopts[1200];
	int pfd[2] = { -1, -1 }, ret = 1, io_ret;
	bool mounted = false;
	pid_t pid;
	char status;

	if (check_mountpoint(mountpoint, o->nonempty))
		return 1;
	if (!o->foreground) {
		if (pipe(pfd) != 0) {
			log_err("pipe: %s", strerror(errno));
			return 1;
		}
		pid = fork();
		if (pid < 0) {
			log_err("fork: %s", strerror(errno));
			return 1;
		}
		if (pid > 0) {
			/* The parent: wait for the verdict (EOF means the child
			 * died, having said why on stderr). */
			close(pfd[1]);
			/* The daemon logs on; here the password has no use. */
			opts_forget_password(o);
			if (read(pfd[0], &status, 1) != 1)
				status = 1;
			if (status != 0)
				waitpid(pid, NULL, 0);
			return status ? 1 : 0;
		}
		close(pfd[0]);
		setsid();
	}

	/* Only now, in the process that stays: a secret made before the
	 * fork would read as zeroes here (MADV_WIPEONFORK). */
	if (opts_keep_nt_hash(o, oerr) != 0) {
		log_err("%s", oerr);
		goto out;
	}
	opts_forget_password(o);
	opts_to_session(o, &co.session);
	co.prefix = o->path;
	co.attr.uid = o->uid;
	co.attr.gid = o->gid;
	co.attr.file_mode = o->file_mode;
	co.attr.dir_mode = o->dir_mode;
	co.actimeo_ms = (int)(o->actimeo_s * 1000);
	co.mfsymlinks = o->mfsymlinks;
	co.multiuser = o->multiuser;
	co.user_credentials = o->user_credentials;
	co.user_idle_s = o->user_idle_s;
	/* cache=none promises that write(2) returns with the data at the
	 * server, as the kernel client's does. */
	co.writebehind = o->cache != CACHE_NONE;
	if (client_open(&co, &c, err) != 0) {
		log_err("%s", err);
		goto out;
	}
	/* The session keeps its own copy of the hash, for reconnects. */
	secret_free(o->nt_hash);
	o->nt_hash = NULL;

	cfg.client = c;
	cfg.actimeo_s = o->actimeo_s;
	cfg.cache = (enum cache_mode)o->cache;
	cfg.ignore_chown = o->ignore_chown;
	cfg.nobrl = o->nobrl;
	cfg.multiuser = o->multiuser;
	cfg.max_io = 1024 * 1024;
	cfg.ready = mount_ready;
	cfg.ready_fd = -1;
	if (o->rsize && o->rsize < cfg.max_io)
		cfg.max_io = o->rsize;
	if (o->wsize && o->wsize < cfg.max_io)
		cfg.max_io = o->wsize;

	/* libfuse gets arguments of its own, never smbfuse's argv: nothing
	 * of a password= reaches it (or the mount table, where fsname= and
	 * these options show). */
	snprintf(fsopts, sizeof(fsopts), "fsname=//%s/%s,subtype=smbfuse,max_read=%u%s%s%s%s%s",
		 o->host, o->share, cfg.max_io, o->allow_other ? ",allow_other" : "",
		 o->allow_root ? ",allow_root" : "",
		 o->default_permissions ? ",default_permissions" : "", o->ro ? ",ro" : "",
		 o->kernel_flags);
	if (fuse_opt_add_arg(&args, "smbfuse") || fuse_opt_add_arg(&args, "-o") ||
	    fuse_opt_add_arg(&args, fsopts) || (o->debug && fuse_opt_add_arg(&args, "-d"))) {
		log_err("out of memory");
		goto out;
	}
	fuse = fuse_new(&args, &fs_ops, sizeof(fs_ops), &cfg);
	if (!fuse) {
		log_err("cannot set up FUSE (see the message above)");
		goto out;
	}
	if (fuse_mount(fuse, mountpoint) != 0) {
		if (access("/dev/fuse", F_OK) != 0)
			log_err("FUSE is not available: /dev/fuse is missing (load the fuse module, "
				"or install fuse3)");
		else if (o->allow_other && getuid() != 0)
			log_err("cannot mount %s: allow_other needs 'user_allow_other' in "
				"/etc/fuse.conf for ordinary users", mountpoint);
		else
			log_err("cannot mount on %s (see the message above)", mountpoint);
		goto out;
	}
	mounted = true;
	io_ret = fuse_io_install(fuse_get_session(fuse));
	if (io_ret) {
		log_err("cannot set up FUSE's I/O: %s", strerror(-io_ret));
		goto out;
	}
	if (fuse_set_signal_handlers(fuse_get_session(fuse)) != 0) {
		log_err("cannot set signal handlers");
		goto out;
	}
	if (!o->foreground) {
		/* The parent hears "mounted" from fs_init, once the kernel
		 * has talked to us. */
		cfg.ready_fd = pfd[1];
		pfd[1] = -1;
		if (chdir("/") != 0)
			log_debug("chdir /: %s", strerror(errno));
		log_to_syslog("smbfuse");
	}
	loop = fuse_loop_cfg_create();
	/* Each thread waits for one SMB2 request: the thread count is the
	 * number of requests that can be in flight. */
	fuse_loop_cfg_set_max_threads(loop, 64);
	fuse_loop_cfg_set_idle_threads(loop, 16);
	ret = fuse_loop_mt(fuse, loop) ? 1 : 0;
	report(&cfg.ready_fd, 1);
	fuse_remove_signal_handlers(fuse_get_session(fuse));
out:
	report(&pfd[1], 1);
	if (loop)
		fuse_loop_cfg_destroy(loop);
	if (fuse) {
		/* No lease break, and no request waiting for a reconnect, may
		 * reach the FUSE handle once it is gone: from here on waits
		 * end at once (the mount is going away). */
		if (c) {
			client_set_invalidate(c, NULL, NULL);
			client_set_abort(c, unmounting, NULL);
		}
		if (mounted)
			fuse_unmount(fuse);
		fuse_destroy(fuse);
	}
	fuse_opt_free_args(&args);
	client_close(c);
	return ret;
}

int main(int argc, char **argv)
{
	const char *unc = NULL, *mountpoint = NULL;
	char err[OPTS_ERRLEN], herr[HELPER_ERRLEN];
	struct helper_args helper = { 0 };
	struct options o;
	bool probe = false;
	int i, ret = 1;

	/* Frames and readahead chunks are a megabyte each, allocated and
	 * freed all the time: keep them in the heap instead of mapping fresh
	 * zeroed pages for every one (page faults were a tenth of the time
	 * of a sequential read in perf). */
	mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 128 * 1024 * 1024);
	/* But few arenas: buffers are freed by other threads than the ones
	 * that made them (a frame read by the reader, freed by the FUSE
	 * thread; a write-behind buffer filled by one, freed by a worker),
	 * and with glibc's default of eight per core each thread's arena
	 * kept its own megabytes: peak RSS 74 MB against 37-45 MB with
	 * four, at the same throughput within this machine's noise. */
	mallopt(M_ARENA_MAX, 4);
	opts_init(&o);
	/* As mount(8)'s helper: its command line becomes smbfuse's own, and
	 * the original (which may hold a password=) is scrubbed at once. */
	if (mount_helper_invoked(argv[0])) {
		ret = mount_helper_args(argc, argv, &helper, herr);
		opts_scrub_argv(argc, argv);
		if (ret) {
			log_err("%s", ret == -ENOMEM ? "out of memory" : herr);
			ret = 1;
			goto out;
		}
		ret = 1;
		argc = helper.argc;
		argv = helper.argv;
		o.sloppy = helper.sloppy;
		if (helper.verbose)
			log_set_level(LOG_LVL_INFO);
	}
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
			o.debug = true;
			o.foreground = true;
		} else if (!strcmp(a, "-f")) {
			o.foreground = true;
		} else if (!strcmp(a, "-v")) {
			o.verbose = true;
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
	/* Before anything can fork or show up in ps. */
	opts_scrub_argv(argc, argv);
	if (o.verbose)
		log_set_level(LOG_LVL_INFO);
	if (o.debug)
		log_set_level(LOG_LVL_DEBUG);
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
	if (opts_check(&o, err)) {
		log_err("%s", err);
		ret = 2;
		goto out;
	}
	if (o.sec == SEC_NTLMSSP && !o.password_given && isatty(0) && prompt_password(&o) != 0) {
		log_err("no password given and none could be read from the terminal");
		goto out;
	}
	if (helper.fake) {
		/* mount -f: everything checked, nothing mounted. */
		ret = 0;
		goto out;
	}
	if (probe) {
		/* As a mount does: the logon comes from the hash. */
		if (opts_keep_nt_hash(&o, err) != 0) {
			log_err("%s", err);
			goto out;
		}
		opts_forget_password(&o);
		ret = probe_run(&o, stdout) ? 1 : 0;
	} else {
		ret = mount_and_serve(&o, mountpoint);
	}
out:
	opts_free(&o);
	mount_helper_free(&helper);
	return ret;
}
