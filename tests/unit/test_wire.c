/* Unit tests for the bounded reader and the writer (src/wire.c). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "unit.h"
#include "wire.h"

static void test_reader_values(void)
{
	static const uint8_t buf[] = {
		0x01, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12,
		0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01,
		0x12, 0x34, 0xde, 0xad, 0xbe, 0xef,
	};
	struct rd r;

	rd_init(&r, buf, sizeof(buf));
	CHECK_INT(rd_u8(&r), 0x01);
	CHECK_INT(rd_u16(&r), 0x1234);
	CHECK_INT(rd_u32(&r), 0x12345678);
	CHECK(rd_u64(&r) == 0x0123456789abcdefULL);
	CHECK_INT(rd_be16(&r), 0x1234);
	CHECK_INT(rd_be32(&r), 0xdeadbeef);
	CHECK_INT(rd_left(&r), 0);
	CHECK(!r.bad);
}

/* A read past the end yields zero, marks the reader bad for good, and
 * never moves the offset past the end. */
static void test_reader_bounds(void)
{
	static const uint8_t buf[] = { 0xaa, 0xbb, 0xcc };
	uint8_t out[4] = { 1, 2, 3, 4 };
	struct rd r;

	rd_init(&r, buf, sizeof(buf));
	CHECK_INT(rd_u32(&r), 0);
	CHECK(r.bad);
	CHECK_INT(rd_u8(&r), 0);	/* sticky: even a 1-byte read fails */
	CHECK_INT(rd_left(&r), 0);
	CHECK(r.off <= r.len);

	rd_init(&r, buf, sizeof(buf));
	rd_copy(&r, out, 4);
	CHECK(r.bad);
	CHECK(out[0] == 0 && out[3] == 0);

	rd_init(&r, buf, sizeof(buf));
	CHECK(rd_take(&r, 3) == buf);
	CHECK(!r.bad);
	CHECK(rd_take(&r, 1) == NULL);
	CHECK(r.bad);

	/* A zero-length read at the end is fine. */
	rd_init(&r, buf, sizeof(buf));
	rd_skip(&r, 3);
	CHECK(rd_take(&r, 0) != NULL);
	CHECK(!r.bad);

	rd_init(&r, buf, sizeof(buf));
	rd_seek(&r, 3);
	CHECK(!r.bad);
	rd_seek(&r, 4);
	CHECK(r.bad);
}

static void test_sub_reader(void)
{
	static const uint8_t buf[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	struct rd r, s;

	rd_init(&r, buf, sizeof(buf));
	s = rd_sub(&r, 2, 4);
	CHECK(!r.bad && !s.bad);
	CHECK_INT(rd_u8(&s), 2);
	CHECK_INT(rd_left(&s), 3);

	/* Ranges that wrap or end past the region mark both readers bad. */
	s = rd_sub(&r, 6, 3);
	CHECK(s.bad && r.bad);
	rd_init(&r, buf, sizeof(buf));
	s = rd_sub(&r, SIZE_MAX, 2);
	CHECK(s.bad && r.bad);
	rd_init(&r, buf, sizeof(buf));
	s = rd_sub(&r, 2, SIZE_MAX - 1);
	CHECK(s.bad && r.bad);

	CHECK(range_ok(8, 8, 0));
	CHECK(!range_ok(8, 9, 0));
	CHECK(!range_ok(8, 1, SIZE_MAX));
}

static void test_writer(void)
{
	static const uint8_t want[] = {
		0x01, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12,
		0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01,
		0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 0x00,
	};
	struct wr w;
	size_t len;
	uint8_t *p;
	int i;

	wr_init(&w);
	wr_u8(&w, 0x01);
	wr_u16(&w, 0x1234);
	wr_u32(&w, 0x12345678);
	wr_u64(&w, 0x0123456789abcdefULL);
	wr_be16(&w, 0x1234);
	wr_be32(&w, 0xdeadbeef);
	wr_align(&w, 8);
	CHECK_INT(w.len, sizeof(want));
	CHECK(!w.bad);
	CHECK_MEM(w.p, want, sizeof(want));

	wr_patch_u16(&w, 1, 0xbeef);
	CHECK_INT(w.p[1], 0xef);
	CHECK_INT(w.p[2], 0xbe);
	wr_patch_be32(&w, 20, 0x01020304);
	CHECK_INT(w.p[20], 0x01);
	CHECK_INT(w.p[23], 0x04);
	CHECK(!w.bad);
	wr_patch_u32(&w, 22, 0);	/* past the end: refused */
	CHECK(w.bad);
	wr_free(&w);

	/* Growth well past the initial capacity keeps every byte. */
	wr_init(&w);
	for (i = 0; i < 5000; i++)
		wr_u8(&w, (uint8_t)i);
	wr_zero(&w, 3);
	p = wr_steal(&w, &len);
	CHECK_INT(len, 5003);
	CHECK_INT(p[4999], (uint8_t)4999);
	CHECK_INT(p[5002], 0);
	CHECK(w.p == NULL && w.len == 0);
	free(p);
}

int main(void)
{
	test_reader_values();
	test_reader_bounds();
	test_sub_reader();
	test_writer();
	return unit_result();
}
