/* Unit tests for UTF-8 <-> UTF-16LE conversion (src/utf16.c). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "utf16.h"
#include "wire.h"

/* UTF-8 in, expected UTF-16LE out, and back again. */
static void roundtrip(const char *utf8, const uint8_t *want, size_t wantlen)
{
	struct wr w;
	char *back = NULL;
	long n;

	wr_init(&w);
	n = utf16_put(&w, utf8, strlen(utf8));
	CHECK_INT(n, (long)wantlen);
	if (n == (long)wantlen)
		CHECK_MEM(w.p, want, wantlen);
	n = utf16_to_utf8(w.p, w.len, &back);
	CHECK_INT(n, (long)strlen(utf8));
	CHECK(back && strcmp(back, utf8) == 0);
	free(back);
	wr_free(&w);
}

static void test_valid(void)
{
	static const uint8_t ascii[] = { 'a', 0, ' ', 0, 'b', 0 };
	/* "é" U+00E9, "€" U+20AC, "😀" U+1F600 = D83D DE00 */
	static const uint8_t mixed[] = { 0xe9, 0x00, 0xac, 0x20, 0x3d, 0xd8, 0x00, 0xde };
	struct wr w;

	roundtrip("a b", ascii, sizeof(ascii));
	roundtrip("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", mixed, sizeof(mixed));

	wr_init(&w);
	CHECK_INT(utf16_put(&w, "", 0), 0);
	wr_free(&w);
}

static void test_invalid_utf8(void)
{
	static const char *const bad[] = {
		"\xc0\xaf",		/* overlong '/' */
		"\xe0\x80\xaf",		/* overlong, 3 bytes */
		"\xed\xa0\x80",		/* U+D800 written in UTF-8 */
		"\xf4\x90\x80\x80",	/* above U+10FFFF */
		"\xc3",			/* truncated */
		"\x80",			/* stray continuation */
		"\xff",
	};
	size_t i;
	struct wr w;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		wr_init(&w);
		CHECK_INT(utf16_put(&w, bad[i], strlen(bad[i])), -EILSEQ);
		wr_free(&w);
	}
}

static void test_invalid_utf16(void)
{
	static const uint8_t lone_high[] = { 0x3d, 0xd8, 'a', 0 };
	static const uint8_t lone_low[] = { 0x00, 0xde };
	static const uint8_t high_at_end[] = { 'a', 0, 0x3d, 0xd8 };
	static const uint8_t nul[] = { 'a', 0, 0, 0 };
	static const uint8_t odd[] = { 'a', 0, 'b' };
	char *out = (char *)1;

	CHECK_INT(utf16_to_utf8(lone_high, sizeof(lone_high), &out), -EILSEQ);
	CHECK(out == NULL);
	CHECK_INT(utf16_to_utf8(lone_low, sizeof(lone_low), &out), -EILSEQ);
	CHECK_INT(utf16_to_utf8(high_at_end, sizeof(high_at_end), &out), -EILSEQ);
	CHECK_INT(utf16_to_utf8(nul, sizeof(nul), &out), -EILSEQ);
	CHECK_INT(utf16_to_utf8(odd, sizeof(odd), &out), -EINVAL);
	CHECK_INT(utf16_to_utf8(odd, 0, &out), 0);
	CHECK(out && out[0] == '\0');
	free(out);
}

int main(void)
{
	test_valid();
	test_invalid_utf8();
	test_invalid_utf16();
	return unit_result();
}
