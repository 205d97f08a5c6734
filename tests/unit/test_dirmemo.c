/*
 * Unit tests for dirmemo.c: a listing is handed out again only at the
 * stamp it was kept with and before its time runs out, a listing that
 * failed to gather is not kept, the same directory's newer listing
 * replaces the older one, the oldest goes when every slot is taken, and
 * a listing handed out stays readable after it is replaced.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dirmemo.h"
#include "unit.h"

static struct dirmemo_listing *make(struct dirmemo *m, const char *dir, int n)
{
	struct dirmemo_listing *l = dirmemo_begin(m, dir);
	char name[32];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "e%d", i);
		dirmemo_add(l, name, (ino_t)(100 + i), S_IFREG | 0644);
	}
	return l;
}

static void test_stamp_and_time(void)
{
	struct dirmemo *m = dirmemo_new(200);
	struct dirmemo_listing *l;

	dirmemo_keep(m, make(m, "/d", 3), 7);
	l = dirmemo_get(m, "/d", 7);
	CHECK(l != NULL);
	if (l) {
		CHECK_INT(l->n, 3);
		CHECK(strcmp(l->e[2].name, "e2") == 0);
		CHECK_INT(l->e[2].ino, 102);
		CHECK_INT(l->e[2].mode, S_IFREG | 0644);
		dirmemo_put(m, l);
	}
	CHECK(dirmemo_get(m, "/other", 7) == NULL);
	/* A name changed since: not handed out, and gone for good. */
	CHECK(dirmemo_get(m, "/d", 8) == NULL);
	CHECK(dirmemo_get(m, "/d", 7) == NULL);
	/* Past its time. */
	dirmemo_keep(m, make(m, "/d", 1), 9);
	usleep(250 * 1000);
	CHECK(dirmemo_get(m, "/d", 9) == NULL);
	dirmemo_free(m);
}

static void test_nothing_kept(void)
{
	struct dirmemo *m = dirmemo_new(0);
	struct dirmemo_listing *l;
	int i;

	/* ttl 0: nothing gathered, nothing kept. */
	CHECK(dirmemo_begin(m, "/d") == NULL);
	dirmemo_keep(m, NULL, 1);
	CHECK(dirmemo_get(m, "/d", 1) == NULL);
	dirmemo_free(m);
	/* Too many names: dropped at keep. */
	m = dirmemo_new(10000);
	l = dirmemo_begin(m, "/big");
	for (i = 0; i < 8193; i++)
		dirmemo_add(l, "x", 1, S_IFREG);
	CHECK_INT(l->err, -E2BIG);
	dirmemo_keep(m, l, 1);
	CHECK(dirmemo_get(m, "/big", 1) == NULL);
	dirmemo_free(m);
}

static void test_slots(void)
{
	struct dirmemo *m = dirmemo_new(10000);
	struct dirmemo_listing *held, *l;
	char dir[16];
	int i;

	dirmemo_keep(m, make(m, "/a", 1), 1);
	held = dirmemo_get(m, "/a", 1);
	/* A newer listing of /a replaces the older; the one held stays. */
	dirmemo_keep(m, make(m, "/a", 2), 1);
	l = dirmemo_get(m, "/a", 1);
	CHECK(l && l->n == 2);
	dirmemo_put(m, l);
	CHECK(held && held->n == 1 && strcmp(held->e[0].name, "e0") == 0);
	dirmemo_put(m, held);
	/* Four more directories: /a, the oldest, goes. */
	for (i = 0; i < 4; i++) {
		snprintf(dir, sizeof(dir), "/d%d", i);
		usleep(2000);
		dirmemo_keep(m, make(m, dir, 1), 1);
	}
	CHECK(dirmemo_get(m, "/a", 1) == NULL);
	for (i = 0; i < 4; i++) {
		snprintf(dir, sizeof(dir), "/d%d", i);
		l = dirmemo_get(m, dir, 1);
		CHECK(l != NULL);
		dirmemo_put(m, l);
	}
	dirmemo_free(m);
}

int main(void)
{
	test_stamp_and_time();
	test_nothing_kept();
	test_slots();
	return unit_result();
}
