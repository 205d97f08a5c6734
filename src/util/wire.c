/*
 * wire.c - bounded little-endian reader and growable writer (see wire.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "wire.h"

/* --- reader ------------------------------------------------------------ */

/* The single bounds check every read goes through. */
static const uint8_t *rd_need(struct rd *r, size_t n)
{
	const uint8_t *p;

	if (r->bad || !range_ok(r->len, r->off, n)) {
		r->bad = true;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

uint8_t rd_u8(struct rd *r)
{
	const uint8_t *p = rd_need(r, 1);

	return p ? p[0] : 0;
}

uint16_t rd_u16(struct rd *r)
{
	const uint8_t *p = rd_need(r, 2);

	return p ? le16_get(p) : 0;
}

uint32_t rd_u32(struct rd *r)
{
	const uint8_t *p = rd_need(r, 4);

	return p ? le32_get(p) : 0;
}

uint64_t rd_u64(struct rd *r)
{
	const uint8_t *p = rd_need(r, 8);

	return p ? le64_get(p) : 0;
}

uint16_t rd_be16(struct rd *r)
{
	const uint8_t *p = rd_need(r, 2);

	return p ? (uint16_t)((p[0] << 8) | p[1]) : 0;
}

uint32_t rd_be32(struct rd *r)
{
	const uint8_t *p = rd_need(r, 4);

	return p ? ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
		   ((uint32_t)p[2] << 8) | p[3] : 0;
}

void rd_copy(struct rd *r, void *dst, size_t n)
{
	const uint8_t *p = rd_need(r, n);

	if (p)
		memcpy(dst, p, n);
	else if (n)
		memset(dst, 0, n);
}

const uint8_t *rd_take(struct rd *r, size_t n)
{
	return rd_need(r, n);
}

void rd_skip(struct rd *r, size_t n)
{
	(void)rd_need(r, n);
}

void rd_seek(struct rd *r, size_t off)
{
	if (r->bad || off > r->len)
		r->bad = true;
	else
		r->off = off;
}

struct rd rd_sub(struct rd *r, size_t off, size_t n)
{
	struct rd s = { .p = NULL, .len = 0, .off = 0, .bad = true };

	if (r->bad || !range_ok(r->len, off, n)) {
		r->bad = true;
		return s;
	}
	rd_init(&s, r->p + off, n);
	return s;
}

/* --- writer ------------------------------------------------------------ */

void wr_init(struct wr *w)
{
	w->p = NULL;
	w->len = 0;
	w->cap = 0;
	w->bad = false;
}

void wr_free(struct wr *w)
{
	free(w->p);
	wr_init(w);
}

uint8_t *wr_steal(struct wr *w, size_t *len)
{
	uint8_t *p = w->p;

	*len = w->len;
	wr_init(w);
	return p;
}

bool wr_reserve(struct wr *w, size_t n)
{
	size_t want, cap;
	uint8_t *np;

	if (w->bad)
		return false;
	if (n <= w->cap - w->len)
		return true;
	if (n > SIZE_MAX / 2 - w->len) {
		w->bad = true;
		return false;
	}
	want = w->len + n;
	cap = w->cap ? w->cap : 256;
	while (cap < want)
		cap *= 2;
	np = realloc(w->p, cap);
	if (!np) {
		w->bad = true;
		return false;
	}
	w->p = np;
	w->cap = cap;
	return true;
}

/* Reserve n bytes at the end and return where they go, or NULL. */
static uint8_t *wr_grow(struct wr *w, size_t n)
{
	uint8_t *p;

	if (!wr_reserve(w, n))
		return NULL;
	p = w->p + w->len;
	w->len += n;
	return p;
}

void wr_u8(struct wr *w, uint8_t v)
{
	uint8_t *p = wr_grow(w, 1);

	if (p)
		p[0] = v;
}

void wr_u16(struct wr *w, uint16_t v)
{
	uint8_t *p = wr_grow(w, 2);

	if (p)
		le16_put(p, v);
}

void wr_u32(struct wr *w, uint32_t v)
{
	uint8_t *p = wr_grow(w, 4);

	if (p)
		le32_put(p, v);
}

void wr_u64(struct wr *w, uint64_t v)
{
	uint8_t *p = wr_grow(w, 8);

	if (p)
		le64_put(p, v);
}

void wr_be16(struct wr *w, uint16_t v)
{
	uint8_t *p = wr_grow(w, 2);

	if (p) {
		p[0] = (uint8_t)(v >> 8);
		p[1] = (uint8_t)v;
	}
}

void wr_be32(struct wr *w, uint32_t v)
{
	uint8_t *p = wr_grow(w, 4);

	if (p) {
		p[0] = (uint8_t)(v >> 24);
		p[1] = (uint8_t)(v >> 16);
		p[2] = (uint8_t)(v >> 8);
		p[3] = (uint8_t)v;
	}
}

void wr_bytes(struct wr *w, const void *src, size_t n)
{
	uint8_t *p;

	if (n == 0)
		return;
	p = wr_grow(w, n);
	if (p)
		memcpy(p, src, n);
}

void wr_zero(struct wr *w, size_t n)
{
	uint8_t *p;

	if (n == 0)
		return;
	p = wr_grow(w, n);
	if (p)
		memset(p, 0, n);
}

void wr_align(struct wr *w, size_t align)
{
	size_t rem = w->len & (align - 1);

	if (rem)
		wr_zero(w, align - rem);
}

void wr_patch_u16(struct wr *w, size_t at, uint16_t v)
{
	if (w->bad || !range_ok(w->len, at, 2)) {
		w->bad = true;
		return;
	}
	le16_put(w->p + at, v);
}

void wr_patch_u32(struct wr *w, size_t at, uint32_t v)
{
	if (w->bad || !range_ok(w->len, at, 4)) {
		w->bad = true;
		return;
	}
	le32_put(w->p + at, v);
}

void wr_patch_be32(struct wr *w, size_t at, uint32_t v)
{
	if (w->bad || !range_ok(w->len, at, 4)) {
		w->bad = true;
		return;
	}
	w->p[at] = (uint8_t)(v >> 24);
	w->p[at + 1] = (uint8_t)(v >> 16);
	w->p[at + 2] = (uint8_t)(v >> 8);
	w->p[at + 3] = (uint8_t)v;
}
