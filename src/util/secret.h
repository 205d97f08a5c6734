/*
 * secret.h - bytes that stay in memory for the life of the mount (the NT
 * hash that reconnecting logs on with) and must not leave it.
 *
 * Each secret has anonymous pages of its own, never shared with the
 * heap, so that nothing else's copy, realloc or free can scatter it:
 *   - mlock'ed, so it is never written to swap.  An ordinary user's
 *     RLIMIT_MEMLOCK may refuse that; the secret is still made (logged
 *     once, at debug level), since a mount that works matters more;
 *   - MADV_DONTDUMP: left out of core dumps, the kernel's and gcore's;
 *   - MADV_WIPEONFORK where the kernel has it (Linux 4.14): a child of
 *     fork() sees zeroes there.  So a daemon makes its secrets after it
 *     has forked, not before;
 *   - wiped (OPENSSL_cleanse) before the pages go back to the kernel.
 *
 * The contents can be written and read through secret_data; nothing else
 * about a secret changes after secret_new.  Copies made from it (a stack
 * buffer, a digest context) are the user's to wipe.
 */
#ifndef SMBFUSE_SECRET_H
#define SMBFUSE_SECRET_H

#include <stddef.h>
#include <stdint.h>

struct secret;

/* len zero bytes (len may be 0).  NULL with errno set (ENOMEM, or what
 * mmap or madvise said) on failure. */
struct secret *secret_new(size_t len);

/* A secret holding a copy of the len bytes at p.  NULL as secret_new. */
struct secret *secret_dup(const void *p, size_t len);

/* The secret's len bytes, writable (the secret is the caller's). */
uint8_t *secret_data(const struct secret *s);
size_t secret_len(const struct secret *s);

/* Wipe the bytes and unmap their pages.  NULL is accepted. */
void secret_free(struct secret *s);

#endif
