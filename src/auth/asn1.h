/*
 * asn1.h - the little DER that SPNEGO needs (ITU-T X.690), bounded.
 *
 * Only low tag numbers (one identifier byte) and definite lengths of up
 * to four bytes are accepted: everything SPNEGO and the Kerberos AP-REQ
 * wrapper use.  The reader never leaves its region.
 */
#ifndef SMBFUSE_ASN1_H
#define SMBFUSE_ASN1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define DER_SEQUENCE 0x30
#define DER_OID 0x06
#define DER_OCTET_STRING 0x04
#define DER_ENUMERATED 0x0A
#define DER_BIT_STRING 0x03
#define DER_GENERAL_STRING 0x1B
/* Context-specific constructed [n] and application constructed [n]. */
#define DER_CTX(n) (0xA0 | (n))
#define DER_APP(n) (0x60 | (n))

/* Read one TLV from r: its identifier in *tag and a reader over its
 * contents in *val.  Returns false (r marked bad) if it is malformed or
 * does not fit. */
bool der_next(struct rd *r, uint8_t *tag, struct rd *val);

/* Read one TLV and require its identifier to be tag. */
bool der_expect(struct rd *r, uint8_t tag, struct rd *val);

/* Append tag, the DER length of n, and the n content bytes. */
void der_put(struct wr *w, uint8_t tag, const void *content, size_t n);

/* Start a constructed value whose length is not known yet; der_end
 * moves the content to make room for the final length.  Returns the
 * mark to pass to der_end. */
size_t der_begin(struct wr *w, uint8_t tag);
void der_end(struct wr *w, size_t mark);

#endif
