/* golden.h - read a captured message from tests/unit/golden (see its README). */
#ifndef SMBFUSE_TEST_GOLDEN_H
#define SMBFUSE_TEST_GOLDEN_H

#include <stddef.h>
#include <stdint.h>

/* The bytes of tests/unit/golden/NAME, freshly allocated; exits the test
 * if the file cannot be read. */
uint8_t *golden(const char *name, size_t *len);

#endif
