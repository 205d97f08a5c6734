/*
 * asn1.c - bounded DER reading and writing for SPNEGO (see asn1.h).
 */
#include "config.h"

#include <string.h>

#include "asn1.h"

bool der_next(struct rd *r, uint8_t *tag, struct rd *val)
{
	size_t len = 0;
	uint8_t b, i, nbytes;

	*tag = rd_u8(r);
	if ((*tag & 0x1F) == 0x1F)	/* high tag numbers: not used here */
		r->bad = true;
	b = rd_u8(r);
	if (b < 0x80) {
		len = b;
	} else {
		nbytes = b & 0x7F;
		/* 0x80 is the indefinite form, which DER forbids. */
		if (nbytes == 0 || nbytes > 4)
			r->bad = true;
		for (i = 0; i < nbytes && !r->bad; i++)
			len = (len << 8) | rd_u8(r);
	}
	if (r->bad) {
		*val = (struct rd){ .bad = true };
		return false;
	}
	*val = rd_sub(r, r->off, len);
	rd_skip(r, len);
	return !r->bad;
}

bool der_expect(struct rd *r, uint8_t tag, struct rd *val)
{
	uint8_t got;

	if (!der_next(r, &got, val))
		return false;
	if (got != tag) {
		r->bad = true;
		val->bad = true;
		return false;
	}
	return true;
}

/* The bytes of a DER length: 1 for < 128, else 0x8N and N bytes. */
static size_t der_len_size(size_t n)
{
	size_t s = 1;

	if (n < 0x80)
		return 1;
	while (n) {
		s++;
		n >>= 8;
	}
	return s;
}

static void der_len_put(uint8_t *p, size_t n)
{
	size_t s = der_len_size(n), i;

	if (s == 1) {
		p[0] = (uint8_t)n;
		return;
	}
	p[0] = (uint8_t)(0x80 | (s - 1));
	for (i = s - 1; i >= 1; i--) {
		p[i] = (uint8_t)n;
		n >>= 8;
	}
}

void der_put(struct wr *w, uint8_t tag, const void *content, size_t n)
{
	uint8_t len[9];

	der_len_put(len, n);
	wr_u8(w, tag);
	wr_bytes(w, len, der_len_size(n));
	wr_bytes(w, content, n);
}

size_t der_begin(struct wr *w, uint8_t tag)
{
	wr_u8(w, tag);
	wr_u8(w, 0);		/* length placeholder, widened by der_end */
	return w->len;
}

void der_end(struct wr *w, size_t mark)
{
	size_t n, ls;

	if (w->bad || mark > w->len || mark < 1) {
		w->bad = true;
		return;
	}
	n = w->len - mark;
	ls = der_len_size(n);
	if (ls > 1) {
		if (!wr_reserve(w, ls - 1))
			return;
		memmove(w->p + mark + ls - 1, w->p + mark, n);
		w->len += ls - 1;
	}
	der_len_put(w->p + mark - 1, n);
}
