/*
 * util.h - small helpers with no better home: monotonic time and
 * deadlines for condition-variable waits, a string hash.
 */
#ifndef SMBFUSE_UTIL_H
#define SMBFUSE_UTIL_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* Milliseconds on CLOCK_MONOTONIC. */
static inline uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* FNV-1a, 64 bits, of a string: for hash tables and for the inode
 * numbers made up from paths (attr_ino), which must stay the same from
 * one version to the next. */
static inline uint64_t str_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

/* An absolute CLOCK_MONOTONIC time ms milliseconds after now_ms()==at. */
static inline struct timespec ms_to_timespec(uint64_t at)
{
	struct timespec ts = { .tv_sec = (time_t)(at / 1000),
			       .tv_nsec = (long)(at % 1000) * 1000000 };
	return ts;
}

/* Sleep ms milliseconds (a signal may end it sooner). */
static inline void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* A condition variable whose timed waits use CLOCK_MONOTONIC, as every
 * deadline here does (ms_to_timespec). */
static inline void cond_init_monotonic(pthread_cond_t *cv)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &a);
	pthread_condattr_destroy(&a);
}

#endif
