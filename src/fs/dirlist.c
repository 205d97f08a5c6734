/*
 * dirlist.c - an open directory's listing (see dirlist.h).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dirlist.h"

int dirlist_add(void *arg, const char *name, const struct stat *st)
{
	struct dirlist *d = arg;
	struct dirent_kept *more;
	size_t cap;

	if (d->n == d->cap) {
		cap = d->cap ? d->cap * 2 : 64;
		more = realloc(d->e, cap * sizeof(*more));
		if (!more)
			goto nomem;
		d->e = more;
		d->cap = cap;
	}
	d->e[d->n].name = strdup(name);
	if (!d->e[d->n].name)
		goto nomem;
	d->e[d->n].st = *st;
	d->n++;
	return 0;
nomem:
	d->err = -ENOMEM;
	return 1;	/* stop the listing */
}

void dirlist_clear(struct dirlist *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->e[i].name);
	d->n = 0;
	d->err = 0;
}

void dirlist_free(struct dirlist *d)
{
	if (!d)
		return;
	dirlist_clear(d);
	free(d->e);
	free(d);
}
