/*
 * unit.h - the few macros the unit tests share.
 *
 * Each unit test is a program: CHECK() records a failure with its file
 * and line and carries on, so one run reports every failing check;
 * main() ends with "return unit_result();" and the automake harness reads
 * the exit status (0 pass, 1 fail).
 */
#ifndef SMBFUSE_UNIT_H
#define SMBFUSE_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failures;
static int unit_checks;

#define CHECK(cond)							\
	do {								\
		unit_checks++;						\
		if (!(cond)) {						\
			unit_failures++;				\
			fprintf(stderr, "%s:%d: CHECK failed: %s\n",	\
				__FILE__, __LINE__, #cond);		\
		}							\
	} while (0)

#define CHECK_INT(got, want)						\
	do {								\
		long long g_ = (long long)(got), w_ = (long long)(want); \
		unit_checks++;						\
		if (g_ != w_) {						\
			unit_failures++;				\
			fprintf(stderr, "%s:%d: %s is %lld, want %lld\n", \
				__FILE__, __LINE__, #got, g_, w_);	\
		}							\
	} while (0)

#define CHECK_MEM(got, want, n)						\
	do {								\
		unit_checks++;						\
		if (memcmp((got), (want), (n)) != 0) {			\
			unit_failures++;				\
			fprintf(stderr, "%s:%d: %s differs from %s\n",	\
				__FILE__, __LINE__, #got, #want);	\
			unit_hexdump("got ", (got), (n));		\
			unit_hexdump("want", (want), (n));		\
		}							\
	} while (0)

static inline void unit_hexdump(const char *tag, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	fprintf(stderr, "  %s:", tag);
	for (i = 0; i < n && i < 64; i++)
		fprintf(stderr, " %02x", b[i]);
	fprintf(stderr, "%s\n", n > 64 ? " ..." : "");
}

static inline int unit_result(void)
{
	fprintf(stderr, "%d checks, %d failed\n", unit_checks, unit_failures);
	return unit_failures ? 1 : 0;
}

#endif
