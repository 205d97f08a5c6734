/*
 * utf16.h - UTF-8 <-> UTF-16LE conversion for names on the wire.
 *
 * SMB2 carries every name as UTF-16LE without a terminator; Linux hands
 * smbfuse UTF-8.  Both directions validate strictly: overlong forms,
 * surrogate code points written in UTF-8, code points above U+10FFFF and
 * unpaired UTF-16 surrogates are -EILSEQ, so a name is never silently
 * altered on its way through.
 */
#ifndef SMBFUSE_UTF16_H
#define SMBFUSE_UTF16_H

#include <stddef.h>
#include <stdint.h>

struct wr;

/* Append the UTF-16LE form of the n UTF-8 bytes at s to w.
 * Returns the number of bytes appended, or -EILSEQ / -ENOMEM. */
long utf16_put(struct wr *w, const char *s, size_t n);

/* Convert nbytes of UTF-16LE at p (nbytes must be even) into a new
 * NUL-terminated UTF-8 string in *out (caller frees).
 * Returns the string's length, or -EILSEQ / -EINVAL / -ENOMEM. */
long utf16_to_utf8(const uint8_t *p, size_t nbytes, char **out);

#endif
