/*
 * negotiate.h - the first exchange on a new connection: NEGOTIATE, which
 * settles the dialect, the limits, the signing algorithm and the cipher
 * (and, in 3.1.1, starts the preauth integrity hash).  A reconnect runs
 * it again on the replacement connection; reconnect.c then checks that
 * the server offers at least what it offered before.
 */
#ifndef SMBFUSE_NEGOTIATE_H
#define SMBFUSE_NEGOTIATE_H

#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "crypto.h"

#define NEGOTIATE_ERRLEN 512

struct negotiate_params {
	const char *host;		/* also the 3.1.1 NETNAME context */
	uint16_t port;
	int connect_timeout_ms;		/* for the SMB1-only diagnosis */
	uint16_t min_dialect, max_dialect;
	bool require_signing;
	/* A server that hangs up on the SMB2 NEGOTIATE: ask once more in
	 * SMB1 to tell the user it speaks only SMB1 (the first connection
	 * only; a reconnect knows the server speaks SMB2). */
	bool diagnose_smb1;
	/* Offer SMB2_GLOBAL_CAP_MULTI_CHANNEL (3.x): only when channels are
	 * to be bound (or asked about), since Samba then hands every new
	 * connection with this ClientGuid to the process that has it. */
	bool multichannel;
	uint8_t client_guid[16];	/* the mount's, the same on every connection */
};

/*
 * NEGOTIATE on conn; on success info holds the outcome (and conn was told
 * it), and preauth the 3.1.1 hash over request and response.  On failure
 * -errno and err holds one sentence for the user ("server only offers
 * SMB1 ...", "server chose dialect ... which smbfuse did not offer").
 */
int negotiate(struct conn *conn, const struct negotiate_params *o, struct conn_info *info,
	      uint8_t preauth[SMB2_PREAUTH_HASH_SIZE], char err[NEGOTIATE_ERRLEN]);

const char *dialect_name(uint16_t dialect);

#endif
