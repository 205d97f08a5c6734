/*
 * Unit tests for client_mfsymlink.c: the Minshall+French symlink file
 * format, byte for byte (the MD5 below is of "../include/stdio.h"), and
 * what is not such a file.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "client_int.h"
#include "unit.h"

static void test_format(void)
{
	static const char head[] = "XSym\n0018\n53c41469268c5751d76c9ca5306c04a4\n../include/stdio.h\n";
	uint8_t buf[MFSYMLINK_SIZE];
	size_t i, n = sizeof(head) - 1;
	int spaces = 1;

	CHECK_INT(mfsymlink_format("../include/stdio.h", buf), 0);
	CHECK_MEM(buf, head, n);
	for (i = n; i < sizeof(buf); i++)
		spaces &= buf[i] == ' ';
	CHECK(spaces);
}

static void test_parse(void)
{
	char long_target[MFSYMLINK_TARGET_MAX + 2], target[64];
	uint8_t buf[MFSYMLINK_SIZE];

	CHECK_INT(mfsymlink_format("a/b c", buf), 0);
	CHECK_INT(mfsymlink_parse(buf, sizeof(buf), target, sizeof(target)), 5);
	CHECK(strcmp(target, "a/b c") == 0);
	/* Cut to the buffer, still NUL-terminated; the length is the whole. */
	CHECK_INT(mfsymlink_parse(buf, sizeof(buf), target, 3), 5);
	CHECK(strcmp(target, "a/") == 0);
	/* Not such a file: another size, another header, a bad digit, an
	 * MD5 that does not match the target. */
	CHECK_INT(mfsymlink_parse(buf, sizeof(buf) - 1, NULL, 0), -EINVAL);
	buf[0] = 'x';
	CHECK_INT(mfsymlink_parse(buf, sizeof(buf), NULL, 0), -EINVAL);
	buf[0] = 'X';
	buf[7] = 'z';
	CHECK_INT(mfsymlink_parse(buf, sizeof(buf), NULL, 0), -EINVAL);
	buf[7] = '0';
	buf[10] ^= 1;
	CHECK_INT(mfsymlink_parse(buf, sizeof(buf), NULL, 0), -EINVAL);
	/* Targets: empty is refused, 1024 bytes fit, 1025 do not. */
	CHECK_INT(mfsymlink_format("", buf), -ENOENT);
	memset(long_target, 'x', MFSYMLINK_TARGET_MAX);
	long_target[MFSYMLINK_TARGET_MAX] = '\0';
	CHECK_INT(mfsymlink_format(long_target, buf), 0);
	CHECK_INT(mfsymlink_parse(buf, sizeof(buf), NULL, 0), MFSYMLINK_TARGET_MAX);
	long_target[MFSYMLINK_TARGET_MAX] = 'x';
	long_target[MFSYMLINK_TARGET_MAX + 1] = '\0';
	CHECK_INT(mfsymlink_format(long_target, buf), -ENAMETOOLONG);
}

int main(void)
{
	test_format();
	test_parse();
	return unit_result();
}
