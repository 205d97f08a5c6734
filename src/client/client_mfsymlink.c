/*
 * client_mfsymlink.c - symbolic links as Minshall+French symlink files
 * (-o mfsymlinks), for servers that refuse reparse points (Samba 4.17
 * among them).
 *
 * The format is the one the Linux kernel's SMB client and macOS use, so
 * that a link made here reads as a link there: a regular file of exactly
 * 1067 bytes,
 *
 *     "XSym\n"  four decimal digits (the target's length) "\n"
 *     the target's MD5 in 32 lower-case hex digits "\n"
 *     the target (at most 1024 bytes), "\n" if there is room, then
 *     spaces to the end.
 *
 * A file is taken for a link only if all of that holds, the MD5
 * included, so an ordinary file of that size stays a file.  Checking
 * costs one READ, made only for regular files of exactly 1067 bytes.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "client_int.h"
#include "log.h"
#include "ntstatus.h"
#include "smb2.h"

#define MF_HEADER "XSym\n"
#define MF_LEN_AT 5			/* "XSym\n" */
#define MF_MD5_AT (MF_LEN_AT + 5)	/* "NNNN\n" */
#define MF_TARGET_AT (MF_MD5_AT + 33)	/* 32 hex digits, "\n" */

static int md5_hex(const char *s, size_t n, char hex[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (EVP_Digest(s, n, md, &mdlen, EVP_md5(), NULL) != 1 || mdlen != 16)
		return -EIO;
	for (i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

bool mfsymlink_candidate(const struct stat *st)
{
	return S_ISREG(st->st_mode) && st->st_size == MFSYMLINK_SIZE;
}

int mfsymlink_format(const char *target, uint8_t out[MFSYMLINK_SIZE])
{
	size_t n = strlen(target), at;
	char hex[33];
	int ret;

	if (n == 0)
		return -ENOENT;			/* symlink(2) with an empty target */
	if (n > MFSYMLINK_TARGET_MAX)
		return -ENAMETOOLONG;
	ret = md5_hex(target, n, hex);
	if (ret)
		return ret;
	at = (size_t)snprintf((char *)out, MFSYMLINK_SIZE, MF_HEADER "%04zu\n%s\n", n, hex);
	memcpy(out + at, target, n);
	at += n;
	/* A target of the full 1024 bytes leaves no room for the newline. */
	if (at < MFSYMLINK_SIZE)
		out[at++] = '\n';
	memset(out + at, ' ', MFSYMLINK_SIZE - at);
	return 0;
}

int mfsymlink_parse(const uint8_t *buf, size_t n, char *target, size_t size)
{
	char hex[33], want[33];
	unsigned len = 0;
	int i;

	if (n != MFSYMLINK_SIZE || memcmp(buf, MF_HEADER, MF_LEN_AT) != 0 ||
	    buf[MF_MD5_AT - 1] != '\n' || buf[MF_TARGET_AT - 1] != '\n')
		return -EINVAL;
	for (i = 0; i < 4; i++) {
		if (buf[MF_LEN_AT + i] < '0' || buf[MF_LEN_AT + i] > '9')
			return -EINVAL;
		len = len * 10 + (unsigned)(buf[MF_LEN_AT + i] - '0');
	}
	if (len == 0 || len > MFSYMLINK_TARGET_MAX)
		return -EINVAL;
	memcpy(want, buf + MF_MD5_AT, 32);
	want[32] = '\0';
	if (md5_hex((const char *)buf + MF_TARGET_AT, len, hex) != 0 || strcmp(hex, want) != 0)
		return -EINVAL;
	if (target && size) {
		n = len < size - 1 ? len : size - 1;
		memcpy(target, buf + MF_TARGET_AT, n);
		target[n] = '\0';
	}
	return (int)len;
}

int mfsymlink_read(struct client *c, const char *sp, char *target, size_t size)
{
	static const struct mid_req read_all = { .kind = MID_READ, .output_len = MFSYMLINK_SIZE };
	struct conn_msg rsp = { 0 };
	const uint8_t *data;
	size_t n;
	int ret;

	ret = path_compound(c, sp, FILE_READ_DATA | FILE_READ_ATTRIBUTES, FILE_OPEN,
			    FILE_NON_DIRECTORY_FILE, &read_all, NULL, &rsp);
	if (ret)
		return ret;
	ret = pdu_read_dec(rsp.buf, rsp.len, &data, &n) ? -EIO : mfsymlink_parse(data, n, target, size);
	conn_msg_free(&rsp);
	return ret;
}

int mfsymlink_create(struct client *c, const char *sp, const char *target)
{
	uint8_t buf[MFSYMLINK_SIZE];
	struct mid_req write_all = {
		.kind = MID_WRITE, .input = buf, .input_len = sizeof(buf),
		/* Sent twice, FILE_CREATE would report EEXIST for the link
		 * the first one made. */
		.no_resend = true,
	};
	uint32_t status;
	int ret;

	ret = mfsymlink_format(target, buf);
	if (ret)
		return ret;
	ret = path_compound(c, sp, FILE_WRITE_DATA | FILE_READ_ATTRIBUTES, FILE_CREATE,
			    FILE_NON_DIRECTORY_FILE, &write_all, &status, NULL);
	return ret;
}

void mfsymlink_fix_stat(struct client *c, const char *sp, struct stat *st)
{
	int len;

	if (!c->mfsymlinks || !mfsymlink_candidate(st))
		return;
	len = mfsymlink_read(c, sp, NULL, 0);
	if (len <= 0)
		return;			/* an ordinary file of that size */
	st->st_mode = S_IFLNK | 0777;
	st->st_size = len;
}
