/*
 * vectors.h - read the published known-answer values in tests/unit/vectors
 * (copied from the project's shared vectors; format in their README.md).
 */
#ifndef SMBFUSE_TEST_VECTORS_H
#define SMBFUSE_TEST_VECTORS_H

#include <stddef.h>
#include <stdint.h>

/* The value NAME in FILE (e.g. "smb30-kdf.txt") as freshly allocated bytes,
 * its length in *len.  Exits the test with a message if it is missing:
 * a vector that cannot be read is a failure, never a silent pass. */
uint8_t *vec(const char *file, const char *name, size_t *len);

#endif
