/* Unit tests for the NTSTATUS table (src/ntstatus.c). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "ntstatus.h"
#include "unit.h"

/* bsearch needs strictly increasing codes: sorted and no duplicates. */
static void test_sorted_unique(void)
{
	size_t i, j;

	CHECK(ntstatus_table_len > 100);
	for (i = 1; i < ntstatus_table_len; i++) {
		if (ntstatus_table[i - 1].code >= ntstatus_table[i].code) {
			fprintf(stderr, "out of order at %s\n", ntstatus_table[i].name);
			CHECK(!"table sorted and unique");
		}
	}
	for (i = 0; i < ntstatus_table_len; i++) {
		CHECK(strncmp(ntstatus_table[i].name, "STATUS_", 7) == 0);
		CHECK(ntstatus_table[i].err >= 0);
		for (j = i + 1; j < ntstatus_table_len; j++)
			CHECK(strcmp(ntstatus_table[i].name, ntstatus_table[j].name) != 0);
		/* Every entry is found by its own code. */
		CHECK(ntstatus_lookup(ntstatus_table[i].code) == &ntstatus_table[i]);
	}
}

static void test_mapping(void)
{
	CHECK_INT(ntstatus_to_errno(STATUS_SUCCESS), 0);
	CHECK_INT(ntstatus_to_errno(STATUS_OBJECT_NAME_NOT_FOUND), -ENOENT);
	CHECK_INT(ntstatus_to_errno(STATUS_OBJECT_NAME_COLLISION), -EEXIST);
	CHECK_INT(ntstatus_to_errno(STATUS_FILE_IS_A_DIRECTORY), -EISDIR);
	CHECK_INT(ntstatus_to_errno(STATUS_NOT_A_DIRECTORY), -ENOTDIR);
	CHECK_INT(ntstatus_to_errno(STATUS_DIRECTORY_NOT_EMPTY), -ENOTEMPTY);
	CHECK_INT(ntstatus_to_errno(STATUS_SHARING_VIOLATION), -EBUSY);
	CHECK_INT(ntstatus_to_errno(STATUS_DISK_FULL), -ENOSPC);
	CHECK_INT(ntstatus_to_errno(STATUS_ACCESS_DENIED), -EACCES);
	CHECK_INT(ntstatus_to_errno(STATUS_LOGON_FAILURE), -EACCES);
	/* Unknown codes are EIO, and are still named for the log. */
	CHECK_INT(ntstatus_to_errno(0xC0FFEE01), -EIO);
	CHECK(ntstatus_lookup(0xC0FFEE01) == NULL);
	CHECK(strcmp(ntstatus_name(0xC0FFEE01), "NTSTATUS 0xc0ffee01") == 0);
	CHECK(strcmp(ntstatus_name(STATUS_PENDING), "STATUS_PENDING") == 0);
	/* Informational codes with errno 0 must not read as success. */
	CHECK_INT(ntstatus_to_errno(STATUS_REPARSE), -EIO);
}

int main(void)
{
	test_sorted_unique();
	test_mapping();
	return unit_result();
}
