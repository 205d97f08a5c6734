/*
 * client_xattr.c - extended attributes as SMB2 EAs (MS-FSCC 2.4.15
 * FILE_FULL_EA_INFORMATION, 2.4.15.1 FILE_GET_EA_INFORMATION).
 *
 * Only the "user." namespace maps onto EAs: "user.foo" is the EA "foo".
 * Names in other namespaces (security.selinux, system.posix_acl_access
 * ...) are answered EOPNOTSUPP at once, with no round trip.  "ls -l" asks
 * for those two on every file; on EOPNOTSUPP (unlike ENODATA) it stops
 * asking for the rest of the file system, which saves a FUSE round trip
 * per file.  SMB cannot store an empty EA value (setting
 * one removes the EA), so setxattr with an empty value is EINVAL.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/xattr.h>

#include "client_int.h"
#include "ntstatus.h"
#include "smb2.h"

#define USER_PREFIX "user."
#define EA_BUFFER 65536

/* The EA name for an xattr name, or NULL if it is not user.* or not a
 * valid EA name (printable ASCII, 1..255 bytes). */
static const char *ea_name(const char *name)
{
	const char *n;

	if (strncmp(name, USER_PREFIX, sizeof(USER_PREFIX) - 1) != 0)
		return NULL;
	n = name + sizeof(USER_PREFIX) - 1;
	if (!*n || strlen(n) > 255)
		return NULL;
	for (const char *p = n; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return NULL;
	return n;
}

/* CREATE + QUERY_INFO(FileFullEaInformation, optionally for one name) + CLOSE.  The
 * QUERY_INFO response stays in *rsp, its output buffer in *out and *n. */
static int query_eas(struct client *c, const char *path, const char *name, struct conn_msg *rsp,
		     const uint8_t **out, size_t *n)
{
	struct mid_req m = {
		.kind = MID_QUERY_INFO, .info_type = SMB2_0_INFO_FILE,
		.info_class = FileFullEaInformation, .output_len = EA_BUFFER,
	};
	struct wr in;
	uint32_t st = STATUS_SUCCESS;
	char *sp;
	int ret;

	*out = NULL;
	*n = 0;
	ret = smb_path(c, path, &sp);
	if (ret)
		return ret;
	wr_init(&in);
	if (name) {
		wr_u32(&in, 0);
		wr_u8(&in, (uint8_t)strlen(name));
		wr_bytes(&in, name, strlen(name) + 1);
		m.input = in.p;
		m.input_len = in.len;
	}
	ret = in.bad ? -ENOMEM :
		path_compound(c, sp, FILE_READ_EA | FILE_READ_ATTRIBUTES, FILE_OPEN,
			      FILE_OPEN_REPARSE_POINT, &m, &st, rsp);
	if (ret == 0 && st == STATUS_BUFFER_OVERFLOW) {
		conn_msg_free(rsp);	/* a partial list would lie */
		ret = -E2BIG;
	} else if (ret == 0 && pdu_query_info_dec(rsp->buf, rsp->len, out, n) != 0) {
		conn_msg_free(rsp);
		ret = -EIO;
	} else if (ret && (st == STATUS_NO_EAS_ON_FILE || st == STATUS_NONEXISTENT_EA_ENTRY)) {
		ret = 0;		/* an empty list */
	}
	wr_free(&in);
	free(sp);
	return ret;
}

struct ea {
	const char *name;		/* not terminated: name_len bytes */
	size_t name_len;
	const uint8_t *value;
	size_t value_len;
};

/* The next FILE_FULL_EA_INFORMATION entry: 1, 0 at the end, -EIO. */
static int ea_next(const uint8_t *buf, size_t n, size_t *pos, struct ea *e)
{
	struct rd r;
	uint32_t next;
	uint8_t nl;
	uint16_t vl;
	size_t at = *pos;

	if (at >= n)
		return 0;
	rd_init(&r, buf, n);
	rd_seek(&r, at);
	next = rd_u32(&r);
	rd_skip(&r, 1);
	nl = rd_u8(&r);
	vl = rd_u16(&r);
	e->name = (const char *)rd_take(&r, nl);
	rd_skip(&r, 1);			/* the NUL after the name */
	e->value = rd_take(&r, vl);
	if (r.bad || (next && (next < 8u + nl + 1 + vl || next > n - at)))
		return -EIO;
	e->name_len = nl;
	e->value_len = vl;
	*pos = next ? at + next : n;
	return 1;
}

ssize_t client_getxattr(struct client *c, const char *path, const char *name, void *buf,
			size_t size)
{
	const char *en = ea_name(name);
	struct conn_msg rsp = { 0 };
	const uint8_t *out;
	size_t n, pos = 0;
	struct ea e;
	ssize_t ret;
	int r;

	if (!en)
		return -EOPNOTSUPP;
	ret = query_eas(c, path, en, &rsp, &out, &n);
	if (ret)
		return ret == -EOPNOTSUPP ? -ENODATA : ret;
	ret = -ENODATA;
	while ((r = ea_next(out, n, &pos, &e)) == 1) {
		if (e.name_len != strlen(en) || strncasecmp(e.name, en, e.name_len) != 0)
			continue;
		if (e.value_len == 0)
			break;		/* a zero-length value means "no such EA" */
		if (size == 0)
			ret = (ssize_t)e.value_len;
		else if (size < e.value_len)
			ret = -ERANGE;
		else {
			memcpy(buf, e.value, e.value_len);
			ret = (ssize_t)e.value_len;
		}
		break;
	}
	if (r < 0)
		ret = -EIO;
	conn_msg_free(&rsp);
	return ret;
}

ssize_t client_listxattr(struct client *c, const char *path, char *buf, size_t size)
{
	struct conn_msg rsp = { 0 };
	const uint8_t *out;
	size_t n, pos = 0, need = 0;
	struct ea e;
	ssize_t ret;
	int r;

	ret = query_eas(c, path, NULL, &rsp, &out, &n);
	if (ret == -EOPNOTSUPP)
		return 0;
	if (ret)
		return ret;
	while ((r = ea_next(out, n, &pos, &e)) == 1) {
		size_t len = sizeof(USER_PREFIX) - 1 + e.name_len + 1;

		if (e.value_len == 0)
			continue;
		if (size) {
			if (need + len > size) {
				conn_msg_free(&rsp);
				return -ERANGE;
			}
			memcpy(buf + need, USER_PREFIX, sizeof(USER_PREFIX) - 1);
			memcpy(buf + need + sizeof(USER_PREFIX) - 1, e.name, e.name_len);
			buf[need + len - 1] = '\0';
		}
		need += len;
	}
	conn_msg_free(&rsp);
	return r < 0 ? -EIO : (ssize_t)need;
}

/* CREATE + SET_INFO(FileFullEaInformation, one entry) + CLOSE; an empty
 * value removes the EA. */
static int set_ea(struct client *c, const char *path, const char *en, const void *value,
		  size_t size)
{
	struct mid_req m = {
		.kind = MID_SET_INFO, .info_type = SMB2_0_INFO_FILE,
		.info_class = FileFullEaInformation,
	};
	struct wr info;
	char *sp;
	int ret;

	if (size > UINT16_MAX)
		return -E2BIG;
	ret = smb_path(c, path, &sp);
	if (ret)
		return ret;
	wr_init(&info);
	wr_u32(&info, 0);
	wr_u8(&info, 0);
	wr_u8(&info, (uint8_t)strlen(en));
	wr_u16(&info, (uint16_t)size);
	wr_bytes(&info, en, strlen(en) + 1);
	wr_bytes(&info, value, size);
	m.input = info.p;
	m.input_len = info.len;
	ret = info.bad ? -ENOMEM :
		path_compound(c, sp, FILE_WRITE_EA | FILE_READ_ATTRIBUTES, FILE_OPEN,
			      FILE_OPEN_REPARSE_POINT, &m, NULL, NULL);
	wr_free(&info);
	free(sp);
	attrcache_forget(c->cache, path);
	return ret;
}

int client_setxattr(struct client *c, const char *path, const char *name, const void *value,
		    size_t size, int flags)
{
	const char *en = ea_name(name);
	ssize_t have;

	if (!en)
		return -EOPNOTSUPP;
	if (size == 0)
		return -EINVAL;
	if (flags & (XATTR_CREATE | XATTR_REPLACE)) {
		have = client_getxattr(c, path, name, NULL, 0);
		if (have < 0 && have != -ENODATA)
			return (int)have;
		if ((flags & XATTR_CREATE) && have >= 0)
			return -EEXIST;
		if ((flags & XATTR_REPLACE) && have == -ENODATA)
			return -ENODATA;
	}
	return set_ea(c, path, en, value, size);
}

int client_removexattr(struct client *c, const char *path, const char *name)
{
	const char *en = ea_name(name);
	ssize_t have;

	if (!en)
		return -EOPNOTSUPP;
	have = client_getxattr(c, path, name, NULL, 0);
	if (have < 0)
		return (int)have;
	return set_ea(c, path, en, NULL, 0);
}
