/*
 * client.c - the client core: connecting, compounds, paths, stat, open,
 * read, write, flush, statfs (see client.h).  Namespace changes are in
 * client_ns.c, directories in client_dir.c, EAs in client_xattr.c,
 * FSCTL-based verbs in client_ioctl.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "client_int.h"
#include "log.h"
#include "ntstatus.h"
#include "smb2.h"
#include "util.h"

/* --- compounds ------------------------------------------------------------ */

void chain_init(struct chain *ch, struct client *c)
{
	memset(ch, 0, sizeof(*ch));
	ch->c = c;
	wr_init(&ch->w);
}

void chain_next(struct chain *ch, uint16_t command, uint16_t credit_charge)
{
	struct smb2_hdr h;

	if (ch->n == CONN_MAX_CHAIN) {
		ch->w.bad = true;
		return;
	}
	if (ch->n > 0)
		conn_chain_link(&ch->w, ch->start[ch->n - 1]);
	memset(&h, 0, sizeof(h));
	h.command = command;
	h.credit_charge = credit_charge;
	if (ch->n > 0)
		h.flags |= SMB2_FLAGS_RELATED_OPERATIONS;
	ch->start[ch->n++] = ch->w.len;
	pdu_hdr_enc(&ch->w, &h);
}

void chain_next_on(struct chain *ch, uint16_t command, uint16_t credit_charge,
		   struct smb_open *o)
{
	chain_next(ch, command, credit_charge);
	if (ch->n > 0)
		ch->open[ch->n - 1] = o;
}

/* The request the chain built, for request.c. */
static struct request chain_request(const struct chain *ch)
{
	struct request rq = {
		.buf = ch->w.p, .len = ch->w.len, .n = ch->n,
		.no_resend = ch->no_resend, .unheld = ch->unheld, .patient = ch->patient,
		.data = ch->data,
	};

	memcpy(rq.open, ch->open, sizeof(rq.open));
	return rq;
}

/* The tree ch goes on (see struct chain). */
static int chain_tree(struct chain *ch)
{
	int i;

	if (ch->t)
		return 0;
	for (i = 0; i < ch->n; i++)
		if (ch->open[i]) {
			ch->t = ch->open[i]->t;
			return 0;
		}
	return users_enter(ch->c, &ch->t, &ch->user);
}

/* What sending rq (built from ch) came to, for ch: ret as the caller
 * sees it (a connection's protocol faults are EIO). */
static int chain_sent(struct chain *ch, const struct request *rq, int ret)
{
	ch->resent = rq->resent;
	ch->gen = rq->gen;
	if (ret == 0)
		ch->sent = true;
	else if (ret == -EPROTO || ret == -EPROTONOSUPPORT || ret == -EAGAIN)
		ret = -EIO;
	return ret;
}

int chain_send(struct chain *ch)
{
	struct request rq = chain_request(ch);
	int ret;

	if (ch->w.bad)
		return -ENOMEM;
	ret = chain_tree(ch);
	if (ret)
		return ret;
	return chain_sent(ch, &rq, tree_request(ch->t, &rq, ch->rsp));
}

void chain_send_all(struct chain **chs, int n, int *rets)
{
	struct request rq[CHAIN_BATCH], *rqs[CHAIN_BATCH];
	struct conn_msg *rsps[CHAIN_BATCH];
	int i, ret;

	if (n < 1 || n > CHAIN_BATCH) {
		for (i = 0; i < n; i++)
			rets[i] = -EINVAL;
		return;
	}
	ret = chs[0]->w.bad ? -ENOMEM : chain_tree(chs[0]);
	for (i = 0; !ret && i < n; i++) {
		if (chs[i]->w.bad)
			ret = -ENOMEM;
		chs[i]->t = chs[0]->t;	/* one tree: the first's */
		rq[i] = chain_request(chs[i]);
		rqs[i] = &rq[i];
		rsps[i] = chs[i]->rsp;
	}
	if (!ret)
		ret = tree_requests(chs[0]->t, rqs, rsps, n, rets);
	for (i = 0; i < n; i++)
		rets[i] = ret ? ret : chain_sent(chs[i], &rq[i], rets[i]);
}

int chain_send_detached(struct chain *ch)
{
	struct request rq = chain_request(ch);
	int ret;

	if (ch->w.bad)
		return -ENOMEM;
	if (ch->data)
		return -EINVAL;	/* no one would keep its buffers alive */
	ret = chain_tree(ch);
	return ret ? ret : tree_send_detached(ch->t, &rq);
}

uint32_t chain_status(const struct chain *ch, int i)
{
	return le32_get(ch->rsp[i].buf + SMB2_HDR_STATUS);
}

uint32_t chain_failure(const struct chain *ch)
{
	int i;

	for (i = 0; i < ch->n; i++)
		if (chain_status(ch, i) != STATUS_SUCCESS)
			return chain_status(ch, i);
	return STATUS_SUCCESS;
}

int chain_errno(const struct chain *ch)
{
	uint32_t st = chain_failure(ch);

	return st == STATUS_SUCCESS ? 0 : client_errno(st);
}

void chain_free(struct chain *ch)
{
	int i;

	for (i = 0; i < CONN_MAX_CHAIN; i++)
		conn_msg_free(&ch->rsp[i]);
	wr_free(&ch->w);
	users_put(ch->user);
	ch->user = NULL;
}

uint16_t credit_charge_for(size_t n)
{
	return n ? (uint16_t)((n - 1) / 65536 + 1) : 1;
}

int chain_create(struct chain *ch, const char *smbpath, uint32_t access, uint32_t disposition,
		 uint32_t options, uint32_t attributes)
{
	return chain_create_lease(ch, smbpath, access, disposition, options, attributes, NULL, 0);
}

int chain_create_lease(struct chain *ch, const char *smbpath, uint32_t access,
		       uint32_t disposition, uint32_t options, uint32_t attributes,
		       const uint8_t *lease_key, uint32_t lease_state)
{
	struct create_req q = {
		.oplock = lease_key ? SMB2_OPLOCK_LEVEL_LEASE : SMB2_OPLOCK_LEVEL_NONE,
		.lease_key = lease_key,
		.lease_state = lease_state,
		.access = access,
		.attributes = attributes,
		.share = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
		.disposition = disposition,
		.options = options,
		.name = smbpath,
	};

	chain_next(ch, SMB2_CREATE, 0);
	return pdu_create_enc(&ch->w, ch->start[ch->n - 1], &q);
}

int chain_close(struct chain *ch)
{
	chain_next(ch, SMB2_CLOSE, 0);
	return pdu_close_enc(&ch->w, smb2_fid_related, 0);
}

/* Append m, addressed to o's handle (NULL: the related one), to a chain. */
static int mid_enc(struct chain *ch, struct smb_open *o, const struct mid_req *m)
{
	struct smb2_fid fid = o ? (struct smb2_fid){ 0, 0 } : smb2_fid_related;
	size_t at;

	if (m->kind == MID_QUERY_INFO) {
		struct query_info_req q = {
			.info_type = m->info_type, .info_class = m->info_class,
			.output_len = m->output_len, .fid = fid,
			.input = m->input, .input_len = m->input_len,
		};

		chain_next_on(ch, SMB2_QUERY_INFO, 0, o);
		at = ch->start[ch->n - 1];
		return pdu_query_info_enc(&ch->w, at, &q);
	}
	if (m->kind == MID_READ) {
		chain_next_on(ch, SMB2_READ, credit_charge_for(m->output_len), o);
		return pdu_read_enc(&ch->w, fid, 0, m->output_len);
	}
	if (m->kind == MID_WRITE) {
		chain_next_on(ch, SMB2_WRITE, credit_charge_for(m->input_len), o);
		at = ch->start[ch->n - 1];
		return pdu_write_enc(&ch->w, at, fid, 0, m->input, (uint32_t)m->input_len);
	}
	if (m->kind == MID_SET_INFO) {
		chain_next_on(ch, SMB2_SET_INFO, 0, o);
		at = ch->start[ch->n - 1];
		return pdu_set_info_enc(&ch->w, at, m->info_type, m->info_class, fid,
					m->input, m->input_len);
	}
	{
		struct ioctl_req q = {
			.ctl_code = m->ctl_code, .input = m->input, .input_len = m->input_len,
			.max_output = m->output_len, .flags = SMB2_0_IOCTL_IS_FSCTL,
		};

		memcpy(q.file_id, &fid, 16);
		chain_next_on(ch, SMB2_IOCTL, 0, o);
		at = ch->start[ch->n - 1];
		return pdu_ioctl_enc(&ch->w, at, &q);
	}
}

/* Append the QUERY_INFO FileAllInformation of m->then_info, if asked. */
static int then_info_enc(struct chain *ch, struct smb_open *o, const struct mid_req *m)
{
	static const struct mid_req all_info = {
		.kind = MID_QUERY_INFO, .info_type = SMB2_0_INFO_FILE,
		.info_class = FileAllInformation, .output_len = 4096,
	};

	return m->then_info ? mid_enc(ch, o, &all_info) : 0;
}

/* Fill m->then_info from the response at index i. */
static void then_info_dec(struct chain *ch, int i, const struct mid_req *m)
{
	const uint8_t *out;
	size_t n;

	if (!m->then_info)
		return;
	if (chain_status(ch, i) != STATUS_SUCCESS ||
	    pdu_query_info_dec(ch->rsp[i].buf, ch->rsp[i].len, &out, &n) != 0 ||
	    file_all_info_dec(out, n, m->then_info) != 0)
		memset(m->then_info, 0, sizeof(*m->then_info));
}

/* Send a built chain and decide as path_compound and handle_request
 * promise: the first failing status up to the middle request (at index
 * last), or the middle request's. */
static int finish(struct chain *ch, int last, const struct mid_req *m, uint32_t *status,
		  struct conn_msg *rsp)
{
	uint32_t st = STATUS_SUCCESS;
	int ret, i;

	ret = chain_send(ch);
	if (m->resent)
		*m->resent = ch->resent;
	if (ret)
		goto out;
	for (i = 0; i <= last; i++) {
		st = chain_status(ch, i);
		if (st != STATUS_SUCCESS)
			break;
	}
	if (st != STATUS_SUCCESS && !(i == last && m->kind == MID_QUERY_INFO &&
				      st == STATUS_BUFFER_OVERFLOW)) {
		ret = client_errno(st);
		goto out;
	}
	then_info_dec(ch, last + 1, m);
	if (rsp) {
		*rsp = ch->rsp[last];
		ch->rsp[last].buf = NULL;
	}
out:
	if (status)
		*status = st;
	return ret;
}

int path_compound(struct client *c, const char *smbpath, uint32_t access, uint32_t disposition,
		  uint32_t options, const struct mid_req *m, uint32_t *status,
		  struct conn_msg *rsp)
{
	struct chain ch;
	int ret;

	chain_init(&ch, c);
	ch.no_resend = m->no_resend;
	ret = chain_create(&ch, smbpath, access, disposition, options, 0);
	if (!ret)
		ret = mid_enc(&ch, NULL, m);
	if (!ret)
		ret = then_info_enc(&ch, NULL, m);
	if (!ret)
		ret = chain_close(&ch);
	if (!ret)
		ret = finish(&ch, 1, m, status, rsp);
	else if (status)
		*status = STATUS_SUCCESS;
	chain_free(&ch);
	return ret;
}

int path_open_close(struct client *c, const char *smbpath, uint32_t access, uint32_t options,
		    uint32_t *status, bool *resent)
{
	struct chain ch;
	int ret;

	*status = STATUS_SUCCESS;
	chain_init(&ch, c);
	ret = chain_create(&ch, smbpath, access, FILE_OPEN, options, 0);
	if (!ret)
		ret = chain_close(&ch);
	if (!ret)
		ret = chain_send(&ch);
	*resent = ch.resent;
	if (!ret) {
		*status = chain_failure(&ch);
		ret = chain_errno(&ch);
	}
	chain_free(&ch);
	return ret;
}

int handle_request(struct client *c, struct smb_open *o, const struct mid_req *m,
		   uint32_t *status, struct conn_msg *rsp)
{
	struct chain ch;
	int ret;

	chain_init(&ch, c);
	ret = mid_enc(&ch, o, m);
	if (!ret)
		ret = then_info_enc(&ch, o, m);
	if (!ret)
		ret = finish(&ch, 0, m, status, rsp);
	else if (status)
		*status = STATUS_SUCCESS;
	chain_free(&ch);
	return ret;
}

/* --- errors ---------------------------------------------------------------- */

int handle_write_then(struct client *c, struct smb_open *o, const void *data, size_t len,
		      off_t off, ssize_t *written, const struct mid_req *m)
{
	struct chain ch;
	uint32_t st, count;
	int ret;

	*written = -EIO;
	if (len > 65536)
		return -EINVAL;
	chain_init(&ch, c);
	chain_next_on(&ch, SMB2_WRITE, 1, o);
	ret = pdu_write_enc(&ch.w, ch.start[0], (struct smb2_fid){ 0, 0 }, (uint64_t)off, data,
			    (uint32_t)len);
	if (!ret)
		ret = mid_enc(&ch, o, m);
	if (!ret)
		ret = then_info_enc(&ch, o, m);
	if (!ret)
		ret = chain_send(&ch);
	if (ret) {
		*written = ret;
		goto out;
	}
	st = chain_status(&ch, 0);
	if (st != STATUS_SUCCESS)
		*written = client_errno(st);
	else if (pdu_write_dec(ch.rsp[0].buf, ch.rsp[0].len, &count) != 0 || count > len)
		*written = -EIO;
	else
		*written = count;
	/* A server may fail what follows a failed WRITE with its status
	 * (MS-SMB2 3.3.5.2.7.2): m then reports it too. */
	st = chain_status(&ch, 1);
	ret = st == STATUS_SUCCESS ? 0 : client_errno(st);
	if (!ret)
		then_info_dec(&ch, 2, m);
	else if (m->then_info)
		memset(m->then_info, 0, sizeof(*m->then_info));
out:
	chain_free(&ch);
	return ret;
}

int client_errno(uint32_t status)
{
	int err = ntstatus_to_errno(status);

	if (err == -EIO && !ntstatus_lookup(status))
		log_warn("server returned %s; reporting EIO", ntstatus_name(status));
	return err;
}

/* --- paths ----------------------------------------------------------------- */

int smb_path(const struct client *c, const char *path, char **out)
{
	size_t plen = strlen(c->prefix), n = strlen(path), i, o = 0, comp_len = 0;
	const unsigned char *p = (const unsigned char *)path;
	char *s;

	*out = NULL;
	s = malloc(plen + n + 2);
	if (!s)
		return -ENOMEM;
	memcpy(s, c->prefix, plen);
	o = plen;
	for (i = 0; i < n; i++) {
		unsigned char ch = p[i];

		/* One name longer than NAME_MAX (what statfs says) is refused
		 * here, as a local file system would, not by the server with
		 * a status that reads as "not found". */
		comp_len = ch == '/' ? 0 : comp_len + 1;
		if (comp_len > NAME_MAX) {
			free(s);
			return -ENAMETOOLONG;
		}
		if (ch == '/') {
			/* collapse "//" and drop the leading one when there is
			 * no prefix */
			if (o == 0 || s[o - 1] == '\\')
				continue;
			s[o++] = '\\';
			continue;
		}
		if (ch < 0x20 || ch == '\\' || ch == ':' || ch == '*' || ch == '?' ||
		    ch == '"' || ch == '<' || ch == '>' || ch == '|') {
			free(s);
			return -EINVAL;
		}
		s[o++] = (char)ch;
	}
	if (o > plen && s[o - 1] == '\\')
		o--;
	s[o] = '\0';
	*out = s;
	return 0;
}

static char *parent_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash || slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

void names_after(struct client *c, const char *path, int ret, bool exists)
{
	if (ret)
		namecache_doubt(c->names, path);
	else if (exists)
		namecache_added(c->names, path);
	else
		namecache_removed(c->names, path);
}

void forget_with_parent(struct client *c, const char *path)
{
	char *parent = parent_of(path);

	attrcache_forget(c->cache, path);
	if (parent) {
		attrcache_forget(c->cache, parent);
		free(parent);
	}
}

static size_t gen_slot(const char *path)
{
	size_t h = 5381;

	while (*path)
		h = h * 33 + (unsigned char)*path++;
	return h % 1024;
}

void file_changed(struct client *c, const char *path)
{
	if (path)
		__atomic_add_fetch(&c->change_gen[gen_slot(path)], 1, __ATOMIC_RELEASE);
}

const unsigned long *file_gen(struct client *c, const char *path)
{
	return &c->change_gen[gen_slot(path)];
}

/* --- open / close the client ---------------------------------------------- */

int client_open(const struct client_opts *o, struct client **out, char err[SESSION_ERRLEN])
{
	struct client *c;
	struct stat st;
	int ret;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->lease_lock, NULL);
	pthread_mutex_init(&c->writers_lock, NULL);
	pthread_mutex_init(&c->locks_lock, NULL);
	pthread_cond_init(&c->writers_idle, NULL);
	c->cfg = o->attr;
	c->mfsymlinks = o->mfsymlinks;
	c->prefix = strdup(o->prefix ? o->prefix : "");
	c->cache = attrcache_new(o->actimeo_ms);
	c->names = namecache_new(o->actimeo_ms);
	/* Not for multiuser mounts: a listing one user's session made is
	 * not another's to see. */
	if (!o->multiuser)
		c->memo = dirmemo_new(o->actimeo_ms);
	c->workers = workq_new(8);
	c->breaks = workq_new(1);
	c->wb_q = workq_new(8);
	c->writebehind = o->writebehind;
	if (!c->prefix || !c->cache || !c->names || (!c->memo && !o->multiuser) || !c->workers ||
	    !c->breaks || !c->wb_q || wb_holder_start(c) != 0) {
		ret = -ENOMEM;
		snprintf(err, SESSION_ERRLEN, "out of memory");
		goto fail;
	}
	RAND_bytes((uint8_t *)&c->lease_salt, sizeof(c->lease_salt));
	ret = session_open(&o->session, &c->s, err);
	if (!ret)
		ret = tree_open(c->s, o->session.share, &c->t, err);
	if (ret)
		goto fail;
	/* Multichannel is a help, not a condition: without it the mount
	 * works on its one connection. */
	if (o->session.max_channels > 1 && session_start_channels(c->s, c->t, err) != 0)
		log_warn("multichannel: %s; going on with one connection", err);
	c->use_leases = c->s->info.dialect >= SMB2_DIALECT_210 &&
		(c->s->info.server_capabilities & SMB2_GLOBAL_CAP_LEASING);
	c->own_link.c = c;
	c->own_link.t = c->t;
	session_set_break_handler(c->s, lease_break_received, &c->own_link);
	if (o->multiuser) {
		ret = users_start(c, o, err);
		if (ret)
			goto fail;
	}
	if (c->cfg.blksize == 0)
		c->cfg.blksize = (blksize_t)(session_max_read(c->s) < 1048576 ?
					     session_max_read(c->s) : 1048576);
	/* The mount root must exist and be a directory. */
	ret = client_stat(c, "/", &st);
	if (ret == 0 && !S_ISDIR(st.st_mode))
		ret = -ENOTDIR;
	if (ret) {
		snprintf(err, SESSION_ERRLEN, "path '%s' in share '%s': %s", c->prefix,
			 o->session.share, strerror(-ret));
		goto fail;
	}
	*out = c;
	return 0;
fail:
	client_close(c);
	return ret;
}

void client_set_abort(struct client *c, client_abort_fn fn, void *arg)
{
	session_set_abort(c->s, fn, arg);
	users_set_abort(c, fn, arg);
}

void client_close(struct client *c)
{
	if (!c)
		return;
	/* Unmounting: no request waits for a reconnect any more, and one
	 * in progress is given up, so that nothing below waits for it. */
	if (c->s)
		session_begin_close(c->s);
	users_begin_close(c);
	/* No new break jobs (this waits out one being queued), then let
	 * the queued ones finish. */
	if (c->s)
		session_set_break_handler(c->s, NULL, NULL);
	workq_free(c->breaks);
	workq_free(c->workers);
	wb_holder_stop(c);
	workq_free(c->wb_q);	/* the WRITEs still queued finish first */
	users_free(c);		/* after the queues: their jobs hold user sessions */
	tree_close(c->t);
	session_close(c->s);
	lease_forget_all(c);
	pthread_mutex_destroy(&c->lease_lock);
	pthread_mutex_destroy(&c->writers_lock);
	pthread_mutex_destroy(&c->locks_lock);
	pthread_cond_destroy(&c->writers_idle);
	attrcache_free(c->cache);
	namecache_free(c->names);
	dirmemo_free(c->memo);
	free(c->prefix);
	free(c);
}

/* --- stat -------------------------------------------------------------------- */

/* One round trip: CREATE (the link itself, not what it points to) +
 * QUERY_INFO FileAllInformation + CLOSE. */
static int stat_smb(struct client *c, const char *path, const char *smbpath, struct stat *st,
		    uint32_t *attrs)
{
	static const struct mid_req all_info = {
		.kind = MID_QUERY_INFO, .info_type = SMB2_0_INFO_FILE,
		.info_class = FileAllInformation, .output_len = 4096,
	};
	struct file_all_info fa;
	struct conn_msg rsp = { 0 };
	const uint8_t *out;
	size_t n;
	uint32_t tag = 0;
	int ret;

	ret = path_compound(c, smbpath, FILE_READ_ATTRIBUTES, FILE_OPEN, FILE_OPEN_REPARSE_POINT,
			    &all_info, NULL, &rsp);
	if (ret)
		return ret;
	if (pdu_query_info_dec(rsp.buf, rsp.len, &out, &n) != 0 || file_all_info_dec(out, n, &fa) != 0) {
		conn_msg_free(&rsp);
		return -EIO;
	}
	if (fa.a.attributes & FILE_ATTRIBUTE_REPARSE_POINT)
		tag = IO_REPARSE_TAG_SYMLINK;	/* refined by readlink; see client_ns.c */
	attr_to_stat(&c->cfg, &fa.a, attr_ino(fa.index_number, path), fa.nlink, tag, st);
	mfsymlink_fix_stat(c, smbpath, st);
	if (attrs)
		*attrs = fa.a.attributes;
	conn_msg_free(&rsp);
	return 0;
}

int client_stat(struct client *c, const char *path, struct stat *st)
{
	char *sp, *dir;
	int ret;

	/* A name the mount knows is not there (the kernel asks before
	 * every create): no round trip. */
	if (namecache_absent(c->names, path))
		return -ENOENT;
	/* Sizes and times as they will be once what this mount wrote is
	 * at the server. */
	wb_flush_path(c, path);
	if (attrcache_get(c->cache, path, st))
		return 0;
	/* One listing instead of a lookup per new name, once what the mount
	 * knew of a small directory it was filling has run out. */
	dir = namecache_claim_relist(c->names, path);
	if (dir) {
		ret = client_relist_names(c, dir);
		free(dir);
		if (ret == 0 && namecache_absent(c->names, path))
			return -ENOENT;
	}
	ret = smb_path(c, path, &sp);
	if (ret)
		return ret;
	ret = stat_smb(c, path, sp, st, NULL);
	/* Another name of the file may have writes behind it. */
	if (ret == 0 && S_ISREG(st->st_mode) && st->st_nlink > 1 && wb_any(c)) {
		wb_flush_all(c);
		ret = stat_smb(c, path, sp, st, NULL);
	}
	free(sp);
	if (ret == 0)
		attrcache_put(c->cache, path, st);
	return ret;
}

int client_fstat(struct client *c, struct client_file *f, struct stat *st)
{
	wb_flush_like(c, f);
	if (attrcache_get(c->cache, f->path, st))
		return 0;
	return handle_stat(c, f, st);
}

int handle_stat(struct client *c, struct client_file *f, struct stat *st)
{
	static const struct mid_req all_info = {
		.kind = MID_QUERY_INFO, .info_type = SMB2_0_INFO_FILE,
		.info_class = FileAllInformation, .output_len = 4096,
	};
	struct file_all_info fa;
	struct conn_msg rsp = { 0 };
	const uint8_t *out;
	size_t n;
	int ret;

	ret = handle_request(c, f->open, &all_info, NULL, &rsp);
	if (ret)
		return ret;
	ret = pdu_query_info_dec(rsp.buf, rsp.len, &out, &n) || file_all_info_dec(out, n, &fa) ?
		-EIO : 0;
	if (!ret) {
		attr_to_stat(&c->cfg, &fa.a, attr_ino(fa.index_number, f->path), fa.nlink, 0, st);
		attrcache_put(c->cache, f->path, st);
	}
	conn_msg_free(&rsp);
	return ret;
}

/* --- open / close files ---------------------------------------------------- */

static ssize_t ra_fetch(void *ctx, void *buf, size_t size, off_t off);

/* CLOSE an open's handle and forget the open. */
static int close_open(struct client *c, struct smb_open *o)
{
	struct chain ch;
	int ret;

	chain_init(&ch, c);
	chain_next_on(&ch, SMB2_CLOSE, 0, o);
	ret = pdu_close_enc(&ch.w, (struct smb2_fid){ 0, 0 }, 0);
	if (!ret)
		ret = chain_send(&ch);
	if (!ret)
		ret = chain_errno(&ch);
	chain_free(&ch);
	open_release(o);
	return ret;
}

static uint32_t access_for(int flags)
{
	uint32_t read = FILE_READ_DATA | FILE_READ_ATTRIBUTES | FILE_READ_EA | SYNCHRONIZE;
	uint32_t write = FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_WRITE_ATTRIBUTES |
			 FILE_WRITE_EA | FILE_READ_ATTRIBUTES | SYNCHRONIZE;

	switch (flags & O_ACCMODE) {
	case O_WRONLY:
		/* The kernel's page cache may read around a write: ask for
		 * read access too (the caller retries without it). */
		return write | FILE_READ_DATA;
	case O_RDWR:
		return read | write;
	default:
		return read;
	}
}

static uint32_t disposition_for(int flags)
{
	if ((flags & O_CREAT) && (flags & O_EXCL))
		return FILE_CREATE;
	if (flags & O_CREAT)
		return (flags & O_TRUNC) ? FILE_OVERWRITE_IF : FILE_OPEN_IF;
	return (flags & O_TRUNC) ? FILE_OVERWRITE : FILE_OPEN;
}

/* CREATE o, and with fa non-NULL a related QUERY_INFO(FileAllInformation)
 * in the same compound: after creating a file the kernel asks for its
 * attributes at once, and this answers before it asks.  On success the
 * open is registered with the tree. */
static int open_once(struct client *c, struct smb_open *o, struct create_rsp *p,
		     struct file_all_info *fa)
{
	struct query_info_req q = {
		.info_type = SMB2_0_INFO_FILE, .info_class = FileAllInformation,
		.output_len = 4096, .fid = smb2_fid_related,
	};
	struct create_req cq;
	const uint8_t *out;
	struct chain ch;
	size_t n;
	int ret, tries = 0;

again:
	chain_init(&ch, c);
	ch.t = o->t;
	open_create_req(o, &cq, o->t->s->info.dialect);
	/* Creating anew (O_EXCL) must not happen twice: a second try
	 * would report EEXIST for the file the first one made. */
	ch.no_resend = cq.disposition == FILE_CREATE;
	chain_next(&ch, SMB2_CREATE, 0);
	ret = pdu_create_enc(&ch.w, ch.start[0], &cq);
	if (!ret && fa) {
		chain_next(&ch, SMB2_QUERY_INFO, 0);
		ret = pdu_query_info_enc(&ch.w, ch.start[1], &q);
	}
	if (!ret)
		ret = chain_send(&ch);
	/* The name belongs to a file another client deleted while a third
	 * still has it open (SMB frees a name at the last close, where a
	 * local file system frees it at unlink): the close is usually a
	 * moment away, as when SQLite on two machines recreates its
	 * journal while the other still looks at the old one.  Wait for
	 * it a little (10 ms doubling, about 1.3 s in all) before ENOENT. */
	if (!ret && chain_status(&ch, 0) == STATUS_DELETE_PENDING && tries < 7) {
		chain_free(&ch);
		sleep_ms(10u << tries++);
		goto again;
	}
	if (!ret && chain_status(&ch, 0) != STATUS_SUCCESS)
		ret = client_errno(chain_status(&ch, 0));
	if (!ret && pdu_create_dec(ch.rsp[0].buf, ch.rsp[0].len, p) != 0)
		ret = -EIO;
	if (!ret)
		open_created(o, p, ch.gen, o->t->s->info.dialect);
	if (!ret && fa) {
		/* The file is open even if the query failed: say so by
		 * zeroing fa rather than failing the open. */
		if (chain_status(&ch, 1) != STATUS_SUCCESS ||
		    pdu_query_info_dec(ch.rsp[1].buf, ch.rsp[1].len, &out, &n) != 0 ||
		    file_all_info_dec(out, n, fa) != 0)
			memset(fa, 0, sizeof(*fa));
	}
	chain_free(&ch);
	return ret;
}

/* A new open of sp on tree t with these parameters, sent; NULL-safe on
 * failure. */
static int open_path(struct client *c, struct tree *t, const char *sp,
		     const struct open_params *op, struct create_rsp *p,
		     struct file_all_info *fa, struct smb_open **out)
{
	struct smb_open *o = open_new(t, sp, op);
	int ret;

	*out = NULL;
	if (!o)
		return -ENOMEM;
	ret = open_once(c, o, p, fa);
	if (ret) {
		open_free(o);
		return ret;
	}
	*out = o;
	return 0;
}

/* The client_file for open o, opened by FUSE path path for user (whose
 * reference it takes over); NULL (and o closed: the server's handle is
 * not leaked) when out of memory. */
static struct client_file *file_wrap(struct client *c, struct smb_open *o, const char *path,
				     struct user_session *user)
{
	struct client_file *f = calloc(1, sizeof(*f));

	if (!f || !(f->path = strdup(path))) {
		free(f);
		close_open(c, o);
		users_put(user);
		return NULL;
	}
	f->open = o;
	f->c = c;
	f->user = user;
	return f;
}

int open_sibling(struct client *c, struct client_file *f, struct client_file **out)
{
	struct open_params op = f->open->p;
	struct tree *t = f->open->t;
	struct create_rsp p;
	struct smb_open *o;
	char *sp;
	int ret;

	*out = NULL;
	pthread_mutex_lock(&t->lock);
	sp = strdup(f->open->path);	/* a rename may replace it meanwhile */
	pthread_mutex_unlock(&t->lock);
	if (!sp)
		return -ENOMEM;
	/* The file as it is: never created, truncated or deleted again. */
	op.disposition = FILE_OPEN;
	op.options &= ~(uint32_t)FILE_DELETE_ON_CLOSE;
	ret = open_path(c, t, sp, &op, &p, NULL, &o);	/* as the same user */
	free(sp);
	if (ret)
		return ret;
	users_hold(f->user);
	*out = file_wrap(c, o, f->path, f->user);
	return *out ? 0 : -ENOMEM;
}

int client_open_file(struct client *c, const char *path, int flags, mode_t mode,
		     struct client_file **out, struct stat *st)
{
	struct create_rsp p;
	struct client_file *f;
	struct file_all_info fa, *fap = (flags & O_CREAT) ? &fa : NULL;
	struct open_params op = {
		.access = access_for(flags),
		.share = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
		.disposition = disposition_for(flags),
	};
	struct user_session *user;
	struct smb_open *o;
	struct tree *t;
	struct stat created;
	char *sp;
	int ret;

	*out = NULL;
	ret = smb_path(c, path, &sp);
	if (ret)
		return ret;
	if (flags & O_DIRECTORY)
		op.options |= FILE_DIRECTORY_FILE;
	if ((flags & O_CREAT) && !(mode & 0222))
		op.attributes = FILE_ATTRIBUTE_READONLY;
	if (flags & (O_SYNC | O_DSYNC))
		op.options |= FILE_WRITE_THROUGH;
	if (c->use_leases && !(flags & O_DIRECTORY)) {
		op.lease = true;
		op.lease_state = SMB2_LEASE_READ_CACHING | SMB2_LEASE_HANDLE_CACHING;
		lease_key_for(c, path, op.lease_key);
	}
	ret = users_enter(c, &t, &user);
	if (ret) {
		free(sp);
		return ret;
	}
	ret = open_path(c, t, sp, &op, &p, fap, &o);
	if (ret == -EACCES && (flags & O_ACCMODE) == O_WRONLY) {
		op.access &= ~(uint32_t)FILE_READ_DATA;
		ret = open_path(c, t, sp, &op, &p, fap, &o);
	}
	free(sp);
	if (ret)
		users_put(user);
	if (ret && (flags & O_CREAT))
		names_after(c, path, ret, true);
	/* Not there, though the caller knew the name: another client
	 * removed or renamed it.  What this mount remembers of it is stale:
	 * the next lookup asks the server. */
	if (ret == -ENOENT && !(flags & O_CREAT)) {
		forget_with_parent(c, path);
		names_after(c, path, ret, false);
	}
	if (ret)
		return ret;
	if (flags & (O_CREAT | O_TRUNC)) {
		forget_with_parent(c, path);
		file_changed(c, path);
	}
	if (flags & O_CREAT)
		names_after(c, path, 0, true);
	if (p.has_lease && op.lease)
		lease_remember(c, op.lease_key, path);
	if (fap && (fa.a.creation_time || fa.index_number)) {
		attr_to_stat(&c->cfg, &fa.a, attr_ino(fa.index_number, path), fa.nlink, 0, &created);
		attrcache_put(c->cache, path, &created);
	}
	f = file_wrap(c, o, path, user);
	if (!f)
		return -ENOMEM;
	f->is_dir = (p.a.attributes & FILE_ATTRIBUTE_DIRECTORY) != 0;
	f->writable = (flags & O_ACCMODE) != O_RDONLY;
	f->append = f->writable && (flags & O_APPEND);
	if (!f->is_dir)
		f->ra = ra_new(c->workers, ra_fetch, f, file_gen(c, path));	/* none: reads go direct */
	/* An O_APPEND write asks the server where the end is; O_SYNC asks
	 * for the data on disk when write(2) returns. */
	if (f->writable && !f->is_dir && c->writebehind && !f->append &&
	    !(flags & (O_SYNC | O_DSYNC))) {
		f->wb = wb_new(c, f);	/* none: writes go through */
		/* Starting empty: its first bytes may wait for its times. */
		if ((flags & O_CREAT) && (flags & (O_EXCL | O_TRUNC)))
			wb_hold_first(f->wb);
	}
	if (f->writable) {
		pthread_mutex_lock(&c->writers_lock);
		f->next_writer = c->writers;
		c->writers = f;
		pthread_mutex_unlock(&c->writers_lock);
	}
	if (st) {
		/* CREATE returned everything but the inode number and the
		 * link count: take those from the cache or a fresh query. */
		struct stat cached;

		if (attrcache_get(c->cache, path, &cached)) {
			attr_to_stat(&c->cfg, &p.a, cached.st_ino, (uint32_t)cached.st_nlink, 0, st);
			attrcache_put(c->cache, path, st);
		} else {
			ret = client_fstat(c, f, st);
			if (ret) {
				client_close_file(c, f);
				return ret;
			}
		}
	}
	*out = f;
	return 0;
}

struct client_file *writer_borrow(struct client *c, const char *path)
{
	/* Only the caller's own handles: a multiuser mount must not change
	 * a file through another user's session. */
	const struct tree *mine = users_caller_tree(c);
	struct client_file *f;

	if (!mine)
		return NULL;
	pthread_mutex_lock(&c->writers_lock);
again:
	for (f = c->writers; f; f = f->next_writer) {
		if (strcmp(f->path, path) != 0 || f->open->t != mine)
			continue;
		if (f->closing) {
			/* Its CLOSE is on the way: once the server has done
			 * it, a SET_INFO by path can no longer be undone. */
			pthread_cond_wait(&c->writers_idle, &c->writers_lock);
			goto again;
		}
		f->borrowed++;
		break;
	}
	pthread_mutex_unlock(&c->writers_lock);
	return f;
}

void writer_return(struct client *c, struct client_file *f)
{
	pthread_mutex_lock(&c->writers_lock);
	if (--f->borrowed == 0)
		pthread_cond_broadcast(&c->writers_idle);
	pthread_mutex_unlock(&c->writers_lock);
}

/* Mark f closing once no one borrows its handle; after its CLOSE,
 * writer_remove takes it off the list. */
static void writer_closing(struct client *c, struct client_file *f)
{
	pthread_mutex_lock(&c->writers_lock);
	while (f->borrowed)
		pthread_cond_wait(&c->writers_idle, &c->writers_lock);
	f->closing = true;
	pthread_mutex_unlock(&c->writers_lock);
}

static void writer_remove(struct client *c, struct client_file *f)
{
	struct client_file **pp;

	pthread_mutex_lock(&c->writers_lock);
	for (pp = &c->writers; *pp; pp = &(*pp)->next_writer)
		if (*pp == f) {
			*pp = f->next_writer;
			break;
		}
	pthread_cond_broadcast(&c->writers_idle);
	pthread_mutex_unlock(&c->writers_lock);
}

int client_close_file(struct client *c, struct client_file *f)
{
	int ret;

	/* The last bytes written behind (their failure was the answer of
	 * the flush before, if the kernel sent one). */
	wb_flush(f->wb, false);
	if (f->writable)
		writer_closing(c, f);
	ra_free(f->ra);		/* first: its reads use the handle */
	client_locks_closing(c, f);
	ret = close_open(c, f->open);
	if (f->writable)
		writer_remove(c, f);

	if (f->writable)
		/* The server set the final times and size at close. */
		attrcache_forget(c->cache, f->path);
	wb_free(f->wb);
	users_put(f->user);
	free(f->path);
	free(f);
	return ret;
}

/* --- data -------------------------------------------------------------------- */

/* One READ of at most the negotiated size, in two halves so that
 * several can be in flight: read_prep builds it (the data to go
 * straight into buf), read_result says what it brought. */
static int read_prep(struct chain *ch, struct conn_data *cd, struct client_file *f, void *buf,
		     size_t size, off_t off)
{
	*cd = (struct conn_data){ .in = buf, .in_cap = size };
	chain_init(ch, f->c);
	ch->data = cd;
	chain_next_on(ch, SMB2_READ, credit_charge_for(size), f->open);
	return pdu_read_enc(&ch->w, (struct smb2_fid){ 0, 0 }, (uint64_t)off, (uint32_t)size);
}

/* Bytes read into buf, or -errno; sent is chain_send's return. */
static ssize_t read_result(struct chain *ch, const struct conn_data *cd, void *buf, size_t size,
			   int sent)
{
	const uint8_t *data;
	uint32_t st;
	size_t n;

	if (sent)
		return sent;
	st = chain_status(ch, 0);
	if (st == STATUS_END_OF_FILE)
		return 0;
	if (st != STATUS_SUCCESS)
		return client_errno(st);
	if (cd->in_used)
		return (ssize_t)cd->in_got;
	if (pdu_read_dec(ch->rsp[0].buf, ch->rsp[0].len, &data, &n) != 0 || n > size)
		return -EIO;
	memcpy(buf, data, n);
	return (ssize_t)n;
}

static ssize_t io_pieces(struct client_file *f, uint8_t *buf, size_t size, off_t off,
			 size_t max, bool write);

/* READs of at most the negotiated size until size bytes or end of file;
 * done bytes are already in buf.  A request larger than the server
 * takes in one READ goes as several in flight together. */
static ssize_t read_direct(struct client *c, struct client_file *f, void *buf, size_t size,
			   off_t off, size_t done)
{
	size_t max = session_max_read(c->s), want;
	ssize_t n;

	while (done < size) {
		want = size - done < max * CHAIN_BATCH ? size - done : max * CHAIN_BATCH;
		n = io_pieces(f, (uint8_t *)buf + done, want, off + (off_t)done, max, false);
		if (n < 0)
			return done ? (ssize_t)done : n;
		done += (size_t)n;
		if ((size_t)n < want)
			break;		/* end of file */
	}
	return (ssize_t)done;
}

/* readahead.c's way of reading. */
static ssize_t ra_fetch(void *ctx, void *buf, size_t size, off_t off)
{
	struct client_file *f = ctx;

	return read_direct(f->c, f, buf, size, off, 0);
}

ssize_t client_read(struct client *c, struct client_file *f, void *buf, size_t size, off_t off)
{
	ssize_t n;

	/* The data the process locked may have changed under it. */
	if (client_locks_lost(f))
		return -EIO;
	wb_flush_like(c, f);	/* reads see what this mount wrote */
	if (f->ra) {
		n = ra_read(f->ra, buf, size, off);
		if (n == 0 || n == (ssize_t)size)
			return n;
		if (n > 0)	/* the rest straight from the server */
			return read_direct(c, f, buf, size, off, (size_t)n);
	}
	return read_direct(c, f, buf, size, off, 0);
}

/* One WRITE, in two halves as read_prep / read_result: the data goes
 * from buf to the socket (or the cipher), never copied. */
static int write_prep(struct chain *ch, struct conn_data *cd, struct client_file *f,
		      const void *buf, size_t size, off_t off)
{
	*cd = (struct conn_data){ .out = buf, .out_len = size };
	chain_init(ch, f->c);
	ch->data = size ? cd : NULL;
	chain_next_on(ch, SMB2_WRITE, credit_charge_for(size), f->open);
	return pdu_write_enc(&ch->w, 0, (struct smb2_fid){ 0, 0 }, (uint64_t)off,
			     size ? NULL : buf, (uint32_t)size);
}

static ssize_t write_result(struct chain *ch, size_t size, int sent)
{
	uint32_t count;
	int ret = sent;

	if (!ret)
		ret = chain_errno(ch);
	if (ret)
		return ret;
	return pdu_write_dec(ch->rsp[0].buf, ch->rsp[0].len, &count) || count > size ? -EIO :
		(ssize_t)count;
}

/* size bytes at off as one READ (or WRITE), or as several of at most
 * max each, all in flight at once (at most CHAIN_BATCH): the bytes done
 * up to the first short or failed one, or its -errno when that is the
 * first.  WRITE pieces do not overlap, so the order the server does
 * them in does not matter; their buffer is only read (buf is not const
 * for READs' sake). */
static ssize_t io_pieces(struct client_file *f, uint8_t *buf, size_t size, off_t off,
			 size_t max, bool write)
{
	struct chain chs[CHAIN_BATCH], *p[CHAIN_BATCH];
	struct conn_data cd[CHAIN_BATCH];
	size_t len[CHAIN_BATCH], at = 0;
	int rets[CHAIN_BATCH], i, n;
	ssize_t done, ret = 0;
	bool short_seen = false;

	for (n = 0; n < CHAIN_BATCH && at < size; n++) {
		len[n] = size - at < max ? size - at : max;
		rets[n] = write ? write_prep(&chs[n], &cd[n], f, buf + at, len[n], off + (off_t)at) :
			read_prep(&chs[n], &cd[n], f, buf + at, len[n], off + (off_t)at);
		p[n] = &chs[n];
		at += len[n];
	}
	for (i = 0; i < n && !rets[i]; i++)
		;
	if (i == n && n == 1)
		rets[0] = chain_send(p[0]);
	else if (i == n)
		chain_send_all(p, n, rets);
	else	/* nothing was sent */
		for (int k = 0; k < n; k++)
			rets[k] = rets[i];
	for (i = 0, at = 0; i < n; i++) {
		done = write ? write_result(&chs[i], len[i], rets[i]) :
			read_result(&chs[i], &cd[i], buf + at, len[i], rets[i]);
		if (!short_seen) {
			if (done < 0)
				ret = at ? (ssize_t)at : done;
			else
				ret = (ssize_t)(at + (size_t)done);
			short_seen = done != (ssize_t)len[i];
			at += len[i];
		}
		chain_free(&chs[i]);
	}
	return ret;
}

ssize_t client_write(struct client *c, struct client_file *f, const void *buf, size_t size,
		     off_t off)
{
	int ret;

	if (client_locks_lost(f))
		return -EIO;
	if (f->append) {
		wb_flush_like(c, f);	/* the end of file is where those bytes end */
		return append_write(c, f, buf, size);
	}
	if (f->wb) {
		/* A file with byte-range locks writes through: its data must
		 * be at the server before an unlock lets another client in. */
		if (!__atomic_load_n(&f->lf, __ATOMIC_ACQUIRE))
			return wb_write(f->wb, buf, size, off);
		ret = wb_flush(f->wb, true);
		if (ret)
			return ret;
	}
	return write_range(c, f, buf, size, off);
}

ssize_t write_range(struct client *c, struct client_file *f, const void *buf, size_t size,
		    off_t off)
{
	size_t done = 0, want, max = session_max_write(c->s);
	ssize_t n;

	file_changed(c, f->path);
	while (done < size) {
		/* More than the server takes in one WRITE: several at once. */
		want = size - done < max * CHAIN_BATCH ? size - done : max * CHAIN_BATCH;
		n = io_pieces(f, (uint8_t *)buf + done, want, off + (off_t)done, max, true);
		if (n < 0)
			return done ? (ssize_t)done : n;
		if (n == 0)
			break;
		done += (size_t)n;	/* a short WRITE: the rest goes again */
	}
	attrcache_forget(c->cache, f->path);
	/* Again at the end: a READ prefetched while the WRITE was in
	 * flight may hold the old bytes. */
	file_changed(c, f->path);
	return (ssize_t)done;
}

int client_flush_writes(struct client *c, struct client_file *f)
{
	(void)c;
	return wb_flush(f->wb, true);
}

int client_flush(struct client *c, struct client_file *f)
{
	struct chain ch;
	int ret;

	/* fsync(2) writes back the file's data whichever descriptor wrote
	 * it; a failure of this descriptor's writes is its answer. */
	wb_flush_like(c, f);
	ret = wb_flush(f->wb, true);
	if (ret)
		return ret;
	chain_init(&ch, c);
	chain_next_on(&ch, SMB2_FLUSH, 0, f->open);
	ret = pdu_flush_enc(&ch.w, (struct smb2_fid){ 0, 0 });
	if (!ret)
		ret = chain_send(&ch);
	if (!ret)
		ret = chain_errno(&ch);
	chain_free(&ch);
	return ret;
}

/* --- statfs -------------------------------------------------------------------- */

int client_statfs(struct client *c, struct statvfs *sv)
{
	static const struct mid_req fs_size = {
		.kind = MID_QUERY_INFO, .info_type = SMB2_0_INFO_FILESYSTEM,
		.info_class = FileFsFullSizeInformation, .output_len = 64,
	};
	struct fs_full_size_info fs;
	struct conn_msg rsp = { 0 };
	const uint8_t *out;
	size_t n;
	int ret;

	ret = path_compound(c, c->prefix, FILE_READ_ATTRIBUTES, FILE_OPEN, FILE_DIRECTORY_FILE,
			    &fs_size, NULL, &rsp);
	if (ret)
		return ret;
	ret = pdu_query_info_dec(rsp.buf, rsp.len, &out, &n) || fs_full_size_info_dec(out, n, &fs) ?
		-EIO : 0;
	conn_msg_free(&rsp);
	if (ret)
		return ret;
	memset(sv, 0, sizeof(*sv));
	sv->f_bsize = (unsigned long)fs.sectors_per_unit * fs.bytes_per_sector;
	if (sv->f_bsize == 0)
		sv->f_bsize = 4096;
	sv->f_frsize = sv->f_bsize;
	sv->f_blocks = fs.total_units;
	sv->f_bfree = fs.actual_avail_units;
	sv->f_bavail = fs.caller_avail_units;
	sv->f_namemax = 255;
	return 0;
}
