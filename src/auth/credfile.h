/*
 * credfile.h - a credentials file as mount.cifs reads it: lines
 * username= (user=, also DOMAIN/name or DOMAIN\name), password= (pass=)
 * and domain= (dom=, workgroup=); '#' starts a comment.  The mount's
 * credentials= file and, on a multiuser mount, each user's own.
 */
#ifndef SMBFUSE_CREDFILE_H
#define SMBFUSE_CREDFILE_H

#include <stdbool.h>
#include <sys/types.h>

#define CREDFILE_ERRLEN 512

struct credfile {
	char *user;			/* NULL: the file names none */
	char *domain;			/* NULL: the file names none */
	char *password;			/* NULL: none given; wiped by credfile_free */
};

/*
 * Read file into cf (zeroed first).  Refused: anything but a regular
 * file, a file group or others may read (-EPERM, with the chmod that
 * mends it), and with owner other than (uid_t)-1 a file owned by anyone
 * else (-EPERM).  err holds one sentence naming the file.
 */
int credfile_read(const char *file, uid_t owner, struct credfile *cf, char err[CREDFILE_ERRLEN]);
void credfile_free(struct credfile *cf);

#endif
