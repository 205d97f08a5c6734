/*
 * utf16.c - strict UTF-8 <-> UTF-16LE conversion (see utf16.h).
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "utf16.h"
#include "wire.h"

/* Decode one code point from s[0..n); store its length in *used.
 * Returns the code point, or -1 for anything that is not well-formed
 * UTF-8 (RFC 3629). */
static long utf8_next(const unsigned char *s, size_t n, size_t *used)
{
	unsigned char c = s[0];
	size_t len, i;
	long cp, min;

	if (c < 0x80) {
		*used = 1;
		return c;
	} else if ((c & 0xE0) == 0xC0) {
		len = 2;
		cp = c & 0x1F;
		min = 0x80;
	} else if ((c & 0xF0) == 0xE0) {
		len = 3;
		cp = c & 0x0F;
		min = 0x800;
	} else if ((c & 0xF8) == 0xF0) {
		len = 4;
		cp = c & 0x07;
		min = 0x10000;
	} else {
		return -1;
	}
	if (len > n)
		return -1;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return -1;
	*used = len;
	return cp;
}

long utf16_put(struct wr *w, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t start = w->len, used;
	long cp;

	while (n) {
		cp = utf8_next(u, n, &used);
		if (cp < 0)
			return -EILSEQ;
		if (cp >= 0x10000) {
			cp -= 0x10000;
			wr_u16(w, (uint16_t)(0xD800 | (cp >> 10)));
			wr_u16(w, (uint16_t)(0xDC00 | (cp & 0x3FF)));
		} else {
			wr_u16(w, (uint16_t)cp);
		}
		u += used;
		n -= used;
	}
	if (w->bad)
		return -ENOMEM;
	return (long)(w->len - start);
}

long utf16_to_utf8(const uint8_t *p, size_t nbytes, char **out)
{
	size_t units = nbytes / 2, i, o = 0;
	unsigned char *buf;
	uint32_t cp, lo;
	long ret;

	*out = NULL;
	if (nbytes % 2)
		return -EINVAL;
	/* Each UTF-16 unit becomes at most 3 UTF-8 bytes (a surrogate pair,
	 * two units, becomes 4). */
	if (units > (SIZE_MAX - 1) / 3)
		return -ENOMEM;
	buf = malloc(units * 3 + 1);
	if (!buf)
		return -ENOMEM;
	for (i = 0; i < units; i++) {
		cp = le16_get(p + 2 * i);
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			if (i + 1 >= units)
				goto bad;
			lo = le16_get(p + 2 * (i + 1));
			if (lo < 0xDC00 || lo > 0xDFFF)
				goto bad;
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			i++;
		} else if ((cp >= 0xDC00 && cp <= 0xDFFF) || cp == 0) {
			/* A lone low surrogate, or a NUL that a C string
			 * cannot carry. */
			goto bad;
		}
		if (cp < 0x80) {
			buf[o++] = (unsigned char)cp;
		} else if (cp < 0x800) {
			buf[o++] = (unsigned char)(0xC0 | (cp >> 6));
			buf[o++] = (unsigned char)(0x80 | (cp & 0x3F));
		} else if (cp < 0x10000) {
			buf[o++] = (unsigned char)(0xE0 | (cp >> 12));
			buf[o++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
			buf[o++] = (unsigned char)(0x80 | (cp & 0x3F));
		} else {
			buf[o++] = (unsigned char)(0xF0 | (cp >> 18));
			buf[o++] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
			buf[o++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
			buf[o++] = (unsigned char)(0x80 | (cp & 0x3F));
		}
	}
	buf[o] = '\0';
	*out = (char *)buf;
	return (long)o;
bad:
	ret = -EILSEQ;
	free(buf);
	return ret;
}
