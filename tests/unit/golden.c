/* golden.c - reader for captured messages (see golden.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "golden.h"

uint8_t *golden(const char *name, size_t *len)
{
	const char *top = getenv("top_srcdir");
	char path[4096];
	uint8_t *buf;
	long n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/unit/golden/%s", top ? top : ".", name);
	f = fopen(path, "rb");
	if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "cannot read golden file %s\n", path);
		exit(1);
	}
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "cannot read golden file %s\n", path);
		exit(1);
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}
