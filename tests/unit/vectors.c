/* vectors.c - reader for the known-answer value files (see vectors.h). */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vectors.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

uint8_t *vec(const char *file, const char *name, size_t *len)
{
	const char *top = getenv("top_srcdir");
	char path[4096], *line = NULL, *p, *eq;
	size_t cap = 0, n, i;
	uint8_t *out;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/unit/vectors/%s", top ? top : ".", file);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "cannot open vector file %s (set top_srcdir)\n", path);
		exit(1);
	}
	while (getline(&line, &cap, f) > 0) {
		if (line[0] == '#')
			continue;
		eq = strstr(line, " = ");
		if (!eq || (size_t)(eq - line) != strlen(name) ||
		    strncmp(line, name, strlen(name)) != 0)
			continue;
		p = eq + 3;
		n = strcspn(p, " \r\n");
		if (n % 2)
			break;
		out = malloc(n / 2 + 1);
		if (!out)
			break;
		for (i = 0; i < n / 2; i++) {
			int hi = hexval(p[2 * i]), lo = hexval(p[2 * i + 1]);

			if (hi < 0 || lo < 0) {
				fprintf(stderr, "%s: bad hex in %s\n", file, name);
				exit(1);
			}
			out[i] = (uint8_t)(hi << 4 | lo);
		}
		*len = n / 2;
		free(line);
		fclose(f);
		return out;
	}
	fprintf(stderr, "vector %s not found in %s\n", name, path);
	exit(1);
}
