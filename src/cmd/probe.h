/*
 * probe.h - smbfuse --probe: connect, authenticate, connect the tree,
 * validate, and print what was negotiated as "key: value" lines.
 */
#ifndef SMBFUSE_PROBE_H
#define SMBFUSE_PROBE_H

#include <stdio.h>

#include "opts.h"

/* Returns 0, or -errno after printing the reason to stderr. */
int probe_run(const struct options *o, FILE *out);

#endif
