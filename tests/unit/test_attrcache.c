/*
 * Unit tests for attrcache.c: an entry answers until its time runs out,
 * a change forgets it (and a directory's whole subtree), and entries
 * past their time do not pile up: a cache filled again and again with
 * new paths holds about one time's worth, not all it was ever given.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attrcache.h"
#include "unit.h"

static void put(struct attrcache *ac, const char *path, off_t size)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG | 0644;
	st.st_size = size;
	attrcache_put(ac, path, &st);
}

static void test_time_and_forget(void)
{
	/* A minute: no stall of a loaded machine runs it out. */
	struct attrcache *ac = attrcache_new(60000);
	struct stat st;

	put(ac, "/d/a", 5);
	put(ac, "/d/sub/b", 6);
	put(ac, "/e", 7);
	CHECK(attrcache_get(ac, "/d/a", &st) && st.st_size == 5);
	CHECK(!attrcache_get(ac, "/d/b", &st));
	put(ac, "/d/a", 9);	/* replaced, not doubled */
	CHECK(attrcache_get(ac, "/d/a", &st) && st.st_size == 9);
	CHECK_INT(attrcache_count(ac), 3);
	attrcache_forget(ac, "/e");
	CHECK(!attrcache_get(ac, "/e", &st));
	attrcache_forget_tree(ac, "/d");
	CHECK(!attrcache_get(ac, "/d/a", &st));
	CHECK(!attrcache_get(ac, "/d/sub/b", &st));
	attrcache_free(ac);

	ac = attrcache_new(20);
	put(ac, "/f", 1);
	usleep(50 * 1000);
	CHECK(!attrcache_get(ac, "/f", &st));
	CHECK_INT(attrcache_count(ac), 0);	/* dropped when asked for */
	attrcache_free(ac);

	ac = attrcache_new(0);	/* actimeo=0: keeps nothing */
	put(ac, "/g", 1);
	CHECK(!attrcache_get(ac, "/g", &st));
	attrcache_free(ac);
}

static void test_expired_do_not_pile_up(void)
{
	struct attrcache *ac = attrcache_new(20);
	char path[32];
	int round, i;

	/* Ten "directories" of 5,000 entries, each listed after the last
	 * one's time ran out, never asked for again: what ls -lR does. */
	for (round = 0; round < 10; round++) {
		for (i = 0; i < 5000; i++) {
			snprintf(path, sizeof(path), "/d%d/f%d", round, i);
			put(ac, path, i);
		}
		usleep(30 * 1000);
	}
	/* Without the sweep all 50,000 would still be there. */
	CHECK(attrcache_count(ac) <= 15000);
	attrcache_free(ac);
}

int main(void)
{
	test_time_and_forget();
	test_expired_do_not_pile_up();
	return unit_result();
}
