/*
 * netif.h - the server's network interfaces, as it reports them
 * (FSCTL_QUERY_NETWORK_INTERFACE_INFO, MS-SMB2 3.2.4.20.10): the
 * addresses a multichannel session can bind more channels to, and what
 * --probe shows.
 */
#ifndef SMBFUSE_NETIF_H
#define SMBFUSE_NETIF_H

#include <stddef.h>

#include "pdu.h"
#include "tree.h"

/* Ask on t; up to max entries into ifs, *n of them.  -EOPNOTSUPP when
 * the server does not answer this FSCTL (below 3.0, or turned off),
 * other -errno as a request. */
int netif_query(struct tree *t, struct netif *ifs, size_t max, size_t *n);

/* "10.0.0.1 (10 Gbit/s, RSS)" for the log and --probe. */
void netif_describe(const struct netif *f, char *buf, size_t size);

#endif
