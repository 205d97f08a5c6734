/*
 * client_dir.c - directory listing: CREATE + two QUERY_DIRECTORY in one
 * compound, more QUERY_DIRECTORY until STATUS_NO_MORE_FILES, then a
 * CLOSE that nobody waits for: one round trip for most directories.
 * Every entry's attributes come with it (FileIdFullDirectoryInformation)
 * and go into the attribute cache, so an "ls -l" costs about one round
 * trip per buffer of entries, not one per file.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "client_int.h"
#include "log.h"
#include "ntstatus.h"
#include "smb2.h"
#include "utf16.h"

/* How much directory data one QUERY_DIRECTORY asks for. */
#define DIR_BUFFER (1024 * 1024)
/* ... and the second one, asked for in the same compound. */
#define DIR_SECOND_BUFFER (64 * 1024)

struct listing {
	struct client *c;
	const char *path;		/* the directory's FUSE path */
	client_dir_fn fn;
	void *arg;
	int stop;			/* what fn returned, if non-zero */
	/* A listing started again after a reconnect skips what it has
	 * handed out already (the server lists a directory in the same
	 * order each time unless it changes in between). */
	unsigned long emitted, skip;
	struct namecache_listing *names;	/* every name, for the name cache */
	struct dirmemo_listing *memo;	/* every entry handed out, to be kept (dirmemo.h) */
	bool names_only;		/* for the name cache only (client_relist_names) */
};

/* dir/name (FUSE paths), malloc'd; NULL when out of memory. */
static char *child_path(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name), at = dl;
	char *full = malloc(dl + nl + 2);

	if (!full)
		return NULL;
	memcpy(full, dir, dl);
	if (at == 0 || dir[at - 1] != '/')
		full[at++] = '/';
	memcpy(full + at, name, nl + 1);
	return full;
}

/* Hand every entry of one output buffer to the callback. */
static int emit_entries(struct listing *l, const uint8_t *buf, size_t n)
{
	struct smb2_dirent e;
	struct stat st;
	size_t pos = 0;
	char *name, *full;
	long nl;
	int ret;

	while ((ret = dirent_next(buf, n, &pos, &e)) == 1) {
		nl = utf16_to_utf8(e.name, e.name_len, &name);
		if (nl < 0) {
			log_warn("skipping a directory entry in %s whose name is not valid UTF-16",
				 l->path);
			continue;
		}
		if (l->names_only) {
			namecache_listing_add(l->names, name);
			free(name);
			continue;
		}
		full = child_path(l->path, name);
		if (!full) {
			free(name);
			return -ENOMEM;
		}
		attr_to_stat(&l->c->cfg, &e.a, attr_ino(e.file_id, full), 1, e.reparse_tag, &st);
		if (l->c->mfsymlinks && mfsymlink_candidate(&st)) {
			char *sp;

			if (smb_path(l->c, full, &sp) == 0) {
				mfsymlink_fix_stat(l->c, sp, &st);
				free(sp);
			}
		}
		if (strcmp(name, ".") && strcmp(name, ".."))
			attrcache_put(l->c->cache, full, &st);
		namecache_listing_add(l->names, name);
		free(full);
		if (l->skip) {
			l->skip--;
			free(name);
			continue;
		}
		l->emitted++;
		dirmemo_add(l->memo, name, st.st_ino, st.st_mode);
		l->stop = l->fn(l->arg, name, &st);
		free(name);
		if (l->stop)
			return 0;
	}
	return ret < 0 ? -EIO : 0;
}

/* Append a QUERY_DIRECTORY to a chain. */
static int chain_query_dir(struct chain *ch, struct smb2_fid fid, uint8_t flags, uint32_t outlen)
{
	chain_next(ch, SMB2_QUERY_DIRECTORY, credit_charge_for(outlen));
	return pdu_query_directory_enc(&ch->w, ch->start[ch->n - 1], fid, flags, "*", outlen);
}

/* Decode one QUERY_DIRECTORY response: 1 more may follow, 0 done. */
static int take_response(struct listing *l, const struct conn_msg *m)
{
	uint32_t status = le32_get(m->buf + SMB2_HDR_STATUS);
	const uint8_t *out;
	size_t n;
	int ret;

	if (status == STATUS_NO_MORE_FILES)
		return 0;
	if (status != STATUS_SUCCESS)
		return client_errno(status);
	if (pdu_query_directory_dec(m->buf, m->len, &out, &n) != 0)
		return -EIO;
	ret = emit_entries(l, out, n);
	if (ret)
		return ret;
	return l->stop ? 0 : 1;
}

/* CLOSE a listing's handle.  Nothing depends on the answer: it goes
 * without a wait.  A handle of a session since logged on again is gone
 * with the old one already. */
static void close_dir(struct client *c, struct tree *t, uint64_t gen, struct smb2_fid fid)
{
	struct chain ch;

	if (session_channel_gen(t->s) != gen)
		return;
	chain_init(&ch, c);
	ch.t = t;
	chain_next(&ch, SMB2_CLOSE, 0);
	if (pdu_close_enc(&ch.w, fid, 0) == 0)
		(void)chain_send_detached(&ch);
	chain_free(&ch);
}

/* One listing from the start.  -EAGAIN when the connection was replaced
 * between two buffers: the directory handle is gone with it. */
static int list_once(struct listing *l, const char *sp)
{
	struct client *c = l->c;
	uint32_t outlen = session_max_transact(c->s) < DIR_BUFFER ? session_max_transact(c->s) :
		DIR_BUFFER;
	struct create_rsp cr;
	struct user_session *user;
	struct chain ch;
	struct tree *t;
	uint64_t gen;
	int ret, more;

	/* Every request of the listing on one tree: the handle is that
	 * session's. */
	ret = users_enter(c, &t, &user);
	if (ret)
		return ret;

	/* Round 1: open the directory and read the first buffer, and ask
	 * for a second one at once: for a directory that fits in the first
	 * (nearly all), its "no more files" ends the listing without a
	 * round trip of its own.  Small, so that the frame stays within
	 * what the connection accepts (max_transact and some). */
	chain_init(&ch, c);
	ch.t = t;
	ret = chain_create(&ch, sp, FILE_READ_DATA | FILE_READ_ATTRIBUTES | SYNCHRONIZE, FILE_OPEN,
			   FILE_DIRECTORY_FILE, 0);
	if (!ret)
		ret = chain_query_dir(&ch, smb2_fid_related, SMB2_RESTART_SCANS, outlen);
	if (!ret)
		ret = chain_query_dir(&ch, smb2_fid_related, 0, DIR_SECOND_BUFFER);
	if (!ret)
		ret = chain_send(&ch);
	if (!ret && chain_status(&ch, 0) != STATUS_SUCCESS)
		ret = client_errno(chain_status(&ch, 0));
	if (!ret && pdu_create_dec(ch.rsp[0].buf, ch.rsp[0].len, &cr) != 0)
		ret = -EIO;
	if (ret) {
		chain_free(&ch);
		goto out;
	}
	gen = ch.gen;
	more = take_response(l, &ch.rsp[1]);
	if (more > 0)
		more = take_response(l, &ch.rsp[2]);
	chain_free(&ch);

	/* Then one QUERY_DIRECTORY per buffer until the server has no more. */
	while (more > 0) {
		if (session_channel_gen(t->s) != gen) {
			ret = -EAGAIN;	/* the handle went with the old connection */
			goto out;
		}
		chain_init(&ch, c);
		ch.t = t;
		ch.no_resend = true;
		ret = chain_query_dir(&ch, cr.fid, 0, outlen);
		if (!ret)
			ret = chain_send(&ch);
		/* Lost on the way (a reconnect, or with multichannel the
		 * death of the channel it went on: the session and its
		 * handle live on, but a QUERY_DIRECTORY is not sent twice,
		 * as the server may have moved past a buffer): from the
		 * start, a bounded number of times (list). */
		if ((ret == 0 && ch.gen != gen) || ret == -EIO) {
			chain_free(&ch);
			close_dir(c, t, gen, cr.fid);
			ret = -EAGAIN;
			goto out;
		}
		more = ret ? ret : take_response(l, &ch.rsp[0]);
		chain_free(&ch);
	}
	close_dir(c, t, gen, cr.fid);
	ret = more < 0 ? more : 0;
out:
	users_put(user);
	return ret;
}

static int list(struct listing *l)
{
	struct client *c = l->c;
	const char *path = l->path;
	uint64_t stamp;
	bool known;
	char *sp;
	int ret, tries;

	ret = smb_path(c, path, &sp);
	if (ret)
		return ret;
	if (!l->names_only) {
		wb_flush_dir(c, path);	/* the sizes listed include what was written */
		l->memo = dirmemo_begin(c->memo, path);
	}
	l->names = namecache_listing_begin(c->names, path);
	for (tries = 0; tries < 3; tries++) {
		ret = list_once(l, sp);
		if (ret != -EAGAIN)
			break;
		log_info("listing %s again from the start: the connection it was on was lost", path);
		l->skip = l->emitted;	/* every entry handed out, in all tries */
	}
	/* A listing that stopped early does not know every name; one that
	 * saw a name change while it ran is not kept either, here or in the
	 * memo. */
	known = namecache_listing_end(c->names, l->names, ret == 0 && !l->stop, &stamp);
	if (known)
		dirmemo_keep(c->memo, l->memo, stamp);
	else
		dirmemo_drop(l->memo);
	free(sp);
	return ret == -EAGAIN ? -EIO : ret;
}

/* The listing of path made a moment ago, handed out again: 0, or 1 when
 * there is none to replay (dirmemo.h).  Every entry but "." and ".."
 * takes its attributes from the attribute cache, so what a change or
 * write since has made of a file is what is handed out; an entry the
 * cache has let go of means a listing from the server. */
static int replay(struct client *c, const char *path, client_dir_fn fn, void *arg)
{
	struct dirmemo_listing *m;
	struct stat *st;
	bool cached;
	size_t i;
	char *full;
	int ret = 1;

	if (!c->memo)
		return 1;
	m = dirmemo_get(c->memo, path, namecache_stamp(c->names));
	if (!m)
		return 1;
	/* Written-behind data first, as for a listing from the server
	 * (a write also forgets its file's cached attributes, so such a
	 * file means a listing from the server anyway). */
	wb_flush_dir(c, path);
	st = calloc(m->n ? m->n : 1, sizeof(*st));
	if (!st)
		goto out;
	for (i = 0; i < m->n; i++) {
		const struct dirmemo_entry *e = &m->e[i];

		if (!strcmp(e->name, ".") || !strcmp(e->name, "..")) {
			st[i].st_ino = e->ino;
			st[i].st_mode = e->mode;
			continue;
		}
		full = child_path(path, e->name);
		cached = full && attrcache_get(c->cache, full, &st[i]);
		free(full);
		/* A file of several names: a write through another name
		 * forgot only that name's attributes. */
		if (!cached || (S_ISREG(st[i].st_mode) && st[i].st_nlink > 1))
			goto out;
	}
	log_debug("listing %s: the one made a moment ago, %zu entries", path, m->n);
	for (i = 0; i < m->n; i++)
		if (fn(arg, m->e[i].name, &st[i]))
			break;
	ret = 0;
out:
	free(st);
	dirmemo_put(c->memo, m);
	return ret;
}

int client_readdir(struct client *c, const char *path, client_dir_fn fn, void *arg)
{
	struct listing l = { .c = c, .path = path, .fn = fn, .arg = arg };

	if (replay(c, path, fn, arg) == 0)
		return 0;
	return list(&l);
}

int client_relist_names(struct client *c, const char *dir)
{
	/* No callback: a names-only listing hands no entry out. */
	struct listing l = { .c = c, .path = dir, .names_only = true };

	return list(&l);
}
