/*
 * Tests for src/util/secret.c: the bytes round-trip; the kernel reports
 * the pages locked (where this process may lock memory at all), not to
 * be dumped and wiped on fork (where the kernel has it); a process that
 * may lock nothing still gets its secret, and says so once; and
 * secret_free hands the kernel back only zeroes.
 *
 * The last is seen from munmap itself: this program defines munmap,
 * which the linker binds secret.o's call to (the executable's symbol
 * comes before libc's), looks at the pages and then makes the system
 * call.  So it checks what the real secret_free does, with no hook in
 * the library.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "secret.h"
#include "unit.h"

/* --- munmap, watched ------------------------------------------------------ */

static const uint8_t *watched;	/* a byte of the secret about to be freed */
static int watched_unmaps;	/* munmap calls that covered it */
static int watched_dirty;	/* ... of which saw a byte that was not 0 */

int munmap(void *addr, size_t len)
{
	const uint8_t *p = addr;
	size_t i;

	if (watched && watched >= p && watched < p + len) {
		watched_unmaps++;
		for (i = 0; i < len; i++) {
			if (p[i]) {
				watched_dirty++;
				break;
			}
		}
	}
	return (int)syscall(SYS_munmap, addr, len);
}

/* --- what the kernel says about a mapping ------------------------------- */

struct region {
	bool found;
	long locked_kb;		/* smaps "Locked:" */
	char flags[256];	/* smaps "VmFlags:", e.g. " rd wr mr mw me lo dd wf " */
};

/* The /proc/self/smaps entry of the mapping that holds addr. */
static struct region region_of(const void *addr)
{
	struct region r = { 0 };
	uintptr_t a = (uintptr_t)addr;
	unsigned long start, end;
	bool in = false;
	char *line = NULL;
	size_t cap = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return r;
	while (getline(&line, &cap, f) > 0) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {
			if (in)
				break;	/* the next mapping: ours is done */
			in = a >= start && a < end;
			r.found = in;
		} else if (in && !strncmp(line, "Locked:", 7)) {
			r.locked_kb = strtol(line + 7, NULL, 10);
		} else if (in && !strncmp(line, "VmFlags:", 8)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(r.flags, sizeof(r.flags), "%s ", line + 8);
		}
	}
	free(line);
	fclose(f);
	return r;
}

static bool has_flag(const struct region *r, const char *flag)
{
	char want[8];

	snprintf(want, sizeof(want), " %s ", flag);
	return strstr(r->flags, want) != NULL;
}

/* Whether mlock locks a page here, and whether the kernel knows
 * MADV_WIPEONFORK: tried on a page of the test's own, so the checks
 * below expect only what the kernel and the limits allow.  "Locks" is
 * what smaps says, not what mlock returned: AddressSanitizer replaces
 * mlock with one that does nothing and returns 0. */
static bool can_mlock, can_wipeonfork;

static void probe_kernel(void)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return;
	if (mlock(p, (size_t)page) == 0) {
		struct region r = region_of(p);

		can_mlock = has_flag(&r, "lo");
	}
#ifdef MADV_WIPEONFORK
	can_wipeonfork = madvise(p, (size_t)page, MADV_WIPEONFORK) == 0;
#endif
	munmap(p, (size_t)page);
	fprintf(stderr, "mlock %s, MADV_WIPEONFORK %s here\n",
		can_mlock ? "locks" : "refused or does nothing", can_wipeonfork ? "known" : "unknown");
}

/* --- the tests ------------------------------------------------------------ */

static void test_round_trip(void)
{
	static const char text[] = "not a real password";
	uint8_t big[10000];
	struct secret *s;
	size_t i;

	s = secret_dup(text, sizeof(text));
	CHECK(s != NULL);
	if (s) {
		CHECK_INT(secret_len(s), sizeof(text));
		CHECK_MEM(secret_data(s), text, sizeof(text));
		secret_free(s);
	}
	/* New ones are zero, writable, and may span pages. */
	s = secret_new(sizeof(big));
	CHECK(s != NULL);
	if (s) {
		for (i = 0; i < sizeof(big); i++)
			CHECK_INT(secret_data(s)[i], 0);
		for (i = 0; i < sizeof(big); i++)
			big[i] = (uint8_t)(i * 7 + 1);
		memcpy(secret_data(s), big, sizeof(big));
		CHECK_MEM(secret_data(s), big, sizeof(big));
		secret_free(s);
	}
	s = secret_new(0);
	CHECK(s != NULL);
	if (s)
		CHECK_INT(secret_len(s), 0);
	secret_free(s);
	secret_free(NULL);
	errno = 0;
	CHECK(secret_new(SIZE_MAX - 16) == NULL);
	CHECK_INT(errno, ENOMEM);
}

static void test_kernel_flags(void)
{
	struct secret *s = secret_dup("0123456789abcdef", 16);
	struct region r;

	CHECK(s != NULL);
	if (!s)
		return;
	r = region_of(secret_data(s));
	CHECK(r.found);
	fprintf(stderr, "secret's VmFlags:%s(Locked: %ld kB)\n", r.flags, r.locked_kb);
	CHECK(has_flag(&r, "dd"));
	if (can_mlock) {
		CHECK(has_flag(&r, "lo"));
		CHECK(r.locked_kb > 0);
	}
	if (can_wipeonfork)
		CHECK(has_flag(&r, "wf"));
	secret_free(s);
}

/* A child of fork sees zeroes where the parent keeps its secret. */
static void test_fork(void)
{
	struct secret *s = secret_dup("0123456789abcdef", 16);
	int status = -1;
	pid_t pid;

	CHECK(s != NULL);
	if (!s)
		return;
	if (!can_wipeonfork) {
		fprintf(stderr, "skipped: the fork check (no MADV_WIPEONFORK)\n");
		secret_free(s);
		return;
	}
	pid = fork();
	if (pid == 0) {
		static const uint8_t zero[16];

		_exit(memcmp(secret_data(s), zero, 16) == 0 ? 0 : 1);
	}
	CHECK(pid > 0);
	if (pid > 0)
		waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_MEM(secret_data(s), "0123456789abcdef", 16);
	secret_free(s);
}

/* A process that may lock nothing (RLIMIT_MEMLOCK 0, and for root no
 * CAP_IPC_LOCK either: it becomes nobody) still gets working secrets,
 * not locked, still not dumped, and the debug log says so once (where
 * mlock can fail at all: see can_mlock). */
static void test_no_lock_allowed(void)
{
	struct rlimit none = { 0, 0 };
	char out[4096];
	int pfd[2], status = -1;
	size_t n = 0;
	ssize_t got;
	pid_t pid;

	if (pipe(pfd) != 0) {
		CHECK(!"pipe");
		return;
	}
	pid = fork();
	if (pid == 0) {
		struct secret *a, *b;
		struct region r;
		int bad = 0;

		dup2(pfd[1], 2);
		close(pfd[0]);
		if (setrlimit(RLIMIT_MEMLOCK, &none) != 0)
			_exit(10);
		if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
			_exit(11);
		log_set_level(LOG_LVL_DEBUG);
		a = secret_dup("first", 5);
		b = secret_dup("second", 6);
		if (!a || !b)
			_exit(12);
		r = region_of(secret_data(a));
		bad |= memcmp(secret_data(a), "first", 5) != 0;
		bad |= memcmp(secret_data(b), "second", 6) != 0;
		bad |= !r.found || !has_flag(&r, "dd") || has_flag(&r, "lo") || r.locked_kb != 0;
		secret_free(a);
		secret_free(b);
		_exit(bad ? 13 : 0);
	}
	close(pfd[1]);
	CHECK(pid > 0);
	while (n < sizeof(out) - 1 && (got = read(pfd[0], out + n, sizeof(out) - 1 - n)) > 0)
		n += (size_t)got;
	out[n] = '\0';
	close(pfd[0]);
	if (pid > 0)
		waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status));
	CHECK_INT(WEXITSTATUS(status), 0);
	if (can_mlock) {
		const char *first = strstr(out, "cannot lock a secret's memory");

		CHECK(first != NULL);
		CHECK(first && !strstr(first + 1, "cannot lock a secret's memory"));
	} else {
		fprintf(stderr, "skipped: the log check (mlock does not lock here)\n");
	}
	if (WEXITSTATUS(status) || (can_mlock && !strstr(out, "cannot lock")))
		fprintf(stderr, "the child said: %s\n", out);
}

static void test_free_wipes(void)
{
	uint8_t ones[5000];
	struct secret *s;
	long page = sysconf(_SC_PAGESIZE);
	unsigned char vec[4];
	uintptr_t at;

	memset(ones, 0xA5, sizeof(ones));
	s = secret_dup(ones, sizeof(ones));
	CHECK(s != NULL);
	if (!s)
		return;
	watched = secret_data(s) + sizeof(ones) - 1;
	at = (uintptr_t)watched & ~(uintptr_t)(page - 1);
	secret_free(s);
	CHECK_INT(watched_unmaps, 1);
	CHECK_INT(watched_dirty, 0);
	/* And the pages are gone, not merely zeroed. */
	CHECK(mincore((void *)at, (size_t)page, vec) != 0 && errno == ENOMEM);
	watched = NULL;
}

int main(void)
{
	probe_kernel();
	test_round_trip();
	test_kernel_flags();
	test_fork();
	test_no_lock_allowed();
	test_free_wipes();
	return unit_result();
}
