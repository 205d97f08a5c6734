/*
 * wire.h - bounded little-endian reader and growable writer.
 *
 * Every byte smbfuse takes from the network passes through a struct rd.
 * A read past the end never touches memory outside the buffer: it marks
 * the reader bad and yields zeroes, so a decoder can be written as
 * straight-line code that checks rd.bad once at the end (docs/DESIGN.md,
 * "Wire rules").  Nothing here casts a buffer to a struct; integers are
 * assembled from bytes with shifts, so host endianness does not matter.
 *
 * The writer appends to a heap buffer that grows as needed; a failed
 * allocation marks it bad (checked once, at the end, like the reader).
 * Lengths that are only known later are back-patched with wr_patch_*.
 */
#ifndef SMBFUSE_WIRE_H
#define SMBFUSE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rd {
	const uint8_t *p;	/* start of the readable region */
	size_t len;		/* its length in bytes */
	size_t off;		/* next byte to read, 0 <= off <= len */
	bool bad;		/* set by any out-of-range access; sticky */
};

struct wr {
	uint8_t *p;		/* heap buffer, owned by the writer */
	size_t len;		/* bytes written so far */
	size_t cap;		/* allocated size of p */
	bool bad;		/* allocation failed or a patch was out of range */
};

/* --- reader ------------------------------------------------------------ */

static inline void rd_init(struct rd *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->bad = false;
}

/* Bytes left to read (0 once the reader has gone bad). */
static inline size_t rd_left(const struct rd *r)
{
	return r->bad ? 0 : r->len - r->off;
}

uint8_t rd_u8(struct rd *r);
uint16_t rd_u16(struct rd *r);
uint32_t rd_u32(struct rd *r);
uint64_t rd_u64(struct rd *r);
uint16_t rd_be16(struct rd *r);
uint32_t rd_be32(struct rd *r);

/* Copy n bytes into dst (zero-filled if they are not all there). */
void rd_copy(struct rd *r, void *dst, size_t n);

/* Return a pointer to the next n bytes and step over them, or NULL (and
 * mark the reader bad) if fewer than n bytes remain. */
const uint8_t *rd_take(struct rd *r, size_t n);

void rd_skip(struct rd *r, size_t n);

/* Move to an absolute offset within the region (for offset fields). */
void rd_seek(struct rd *r, size_t off);

/* A sub-reader over [off, off+n) of r's region, as named by an
 * (offset, length) pair from the wire.  If the range does not lie inside
 * r's region, both the sub-reader and r are marked bad. */
struct rd rd_sub(struct rd *r, size_t off, size_t n);

/* true iff [off, off+n) lies within a region of len bytes, without
 * overflow.  The one place where wire-supplied ranges are validated. */
static inline bool range_ok(size_t len, size_t off, size_t n)
{
	return off <= len && n <= len - off;
}

/* --- writer ------------------------------------------------------------ */

void wr_init(struct wr *w);
void wr_free(struct wr *w);

/* Hand the buffer to the caller (who frees it) and reset the writer. */
uint8_t *wr_steal(struct wr *w, size_t *len);

/* Make room for n more bytes; returns false (and marks bad) on ENOMEM. */
bool wr_reserve(struct wr *w, size_t n);

void wr_u8(struct wr *w, uint8_t v);
void wr_u16(struct wr *w, uint16_t v);
void wr_u32(struct wr *w, uint32_t v);
void wr_u64(struct wr *w, uint64_t v);
void wr_be16(struct wr *w, uint16_t v);
void wr_be32(struct wr *w, uint32_t v);
void wr_bytes(struct wr *w, const void *src, size_t n);
void wr_zero(struct wr *w, size_t n);

/* Pad with zeroes until len is a multiple of align (a power of two). */
void wr_align(struct wr *w, size_t align);

void wr_patch_u16(struct wr *w, size_t at, uint16_t v);
void wr_patch_u32(struct wr *w, size_t at, uint32_t v);
void wr_patch_be32(struct wr *w, size_t at, uint32_t v);

/* --- plain little-endian helpers on memory the caller has bounded ------ */

static inline uint16_t le16_get(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t le32_get(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) |
	       ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t le64_get(const uint8_t *p)
{
	return (uint64_t)le32_get(p) | ((uint64_t)le32_get(p + 4) << 32);
}

static inline void le16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void le32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void le64_put(uint8_t *p, uint64_t v)
{
	le32_put(p, (uint32_t)v);
	le32_put(p + 4, (uint32_t)(v >> 32));
}

#endif
