/*
 * secret.c - long-lived secrets in locked, non-dumpable pages of their
 * own (see secret.h).
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "log.h"
#include "secret.h"

/* One mapping per secret: this header, then the bytes.  Wiping and
 * unmapping the whole mapping leaves nothing of it behind. */
struct secret {
	size_t len;
	size_t map_len;
	uint8_t data[];
};

struct secret *secret_new(size_t len)
{
	static atomic_flag told_unlocked = ATOMIC_FLAG_INIT;
	long page = sysconf(_SC_PAGESIZE);
	struct secret *s;
	size_t map_len;
	void *p;
	int err;

	if (page <= 0)
		page = 4096;
	if (len > SIZE_MAX - sizeof(*s) - (size_t)page) {
		errno = ENOMEM;
		return NULL;
	}
	map_len = (sizeof(*s) + len + (size_t)page - 1) / (size_t)page * (size_t)page;
	p = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* Refused only by kernels before 3.4: a secret that a core dump
	 * could show is not what the caller asked for. */
	if (madvise(p, map_len, MADV_DONTDUMP) != 0)
		goto fail;
#ifdef MADV_WIPEONFORK
	/* EINVAL before Linux 4.14: the child then inherits the pages as
	 * fork always did, which is no worse than any other memory. */
	(void)madvise(p, map_len, MADV_WIPEONFORK);
#endif
	/* RLIMIT_MEMLOCK (64 KiB to 8 MiB for an ordinary user) may be used
	 * up: unlocked pages can reach swap, but the mount still works. */
	if (mlock(p, map_len) != 0 && !atomic_flag_test_and_set(&told_unlocked))
		log_debug("cannot lock a secret's memory (%s): it may be written to swap",
			  strerror(errno));
	s = p;
	s->len = len;
	s->map_len = map_len;
	return s;
fail:
	err = errno;
	munmap(p, map_len);
	errno = err;
	return NULL;
}

struct secret *secret_dup(const void *p, size_t len)
{
	struct secret *s = secret_new(len);

	if (s && len)
		memcpy(s->data, p, len);
	return s;
}

uint8_t *secret_data(const struct secret *s)
{
	return (uint8_t *)s->data;
}

size_t secret_len(const struct secret *s)
{
	return s->len;
}

void secret_free(struct secret *s)
{
	size_t map_len;

	if (!s)
		return;
	map_len = s->map_len;
	/* The header too: even the length says something. */
	OPENSSL_cleanse(s, map_len);
	munmap(s, map_len);
}
