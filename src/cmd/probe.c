/*
 * probe.c - smbfuse --probe (see probe.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "netif.h"
#include "probe.h"
#include "tree.h"
#include "session.h"
#include "smb2.h"
#include "util.h"

static const char *secneg_name(enum secure_negotiate s)
{
	switch (s) {
	case SECNEG_PREAUTH: return "preauth-integrity";
	case SECNEG_VALIDATED: return "validated";
	case SECNEG_NOT_SUPPORTED: return "not-supported-by-server";
	case SECNEG_SKIPPED_GUEST: return "skipped-guest";
	case SECNEG_DISABLED: return "disabled";
	}
	return "unknown";
}

static void print_caps(FILE *out, uint32_t caps)
{
	static const struct { uint32_t bit; const char *name; } names[] = {
		{ SMB2_GLOBAL_CAP_DFS, "DFS" },
		{ SMB2_GLOBAL_CAP_LEASING, "LEASING" },
		{ SMB2_GLOBAL_CAP_LARGE_MTU, "LARGE_MTU" },
		{ SMB2_GLOBAL_CAP_MULTI_CHANNEL, "MULTI_CHANNEL" },
		{ SMB2_GLOBAL_CAP_PERSISTENT_HANDLES, "PERSISTENT_HANDLES" },
		{ SMB2_GLOBAL_CAP_DIRECTORY_LEASING, "DIRECTORY_LEASING" },
		{ SMB2_GLOBAL_CAP_ENCRYPTION, "ENCRYPTION" },
	};
	const char *sep = "";
	size_t i;

	fprintf(out, "capabilities: ");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (caps & names[i].bit) {
			fprintf(out, "%s%s", sep, names[i].name);
			sep = ",";
		}
	}
	fprintf(out, "%s\n", *sep ? "" : "none");
}

/* The server's interfaces (3.x): the addresses multichannel can use. */
static void print_interfaces(FILE *out, struct tree *t)
{
	struct netif ifs[NETIF_MAX];
	char desc[128];
	size_t n = 0, i;
	int ret;

	if (t->s->info.dialect < SMB2_DIALECT_300)
		return;
	fprintf(out, "multichannel: %s\n", (t->s->info.server_capabilities &
					       SMB2_GLOBAL_CAP_MULTI_CHANNEL) ? "yes" : "no");
	ret = netif_query(t, ifs, NETIF_MAX, &n);
	if (ret) {
		fprintf(out, "interfaces: none reported (%s)\n",
			ret == -EOPNOTSUPP ? "not supported" : strerror(-ret));
		return;
	}
	for (i = 0; i < n; i++) {
		netif_describe(&ifs[i], desc, sizeof(desc));
		fprintf(out, "interface: %s\n", desc);
	}
}

/* With multichannel asked for: bind them as a mount would, and say how
 * many the session got (waiting a few seconds for the binder). */
static void print_channels(FILE *out, struct session *s, struct tree *t, int want)
{
	char err[SESSION_ERRLEN];
	int i, n;

	if (session_start_channels(s, t, err) != 0) {
		fprintf(out, "channels: 1 (%s)\n", err);
		return;
	}
	for (i = 0; i < 50 && (n = session_channel_count(s)) < want; i++)
		sleep_ms(100);
	fprintf(out, "channels: %d\n", session_channel_count(s));
}

int probe_run(const struct options *o, FILE *out)
{
	struct session_opts so;
	char err[SESSION_ERRLEN];
	struct session *s;
	struct tree *t = NULL;
	const struct conn_info *ci;
	const uint8_t *g;
	int ret;

	opts_to_session(o, &so);
	so.offer_multichannel = true;	/* to tell whether the server would */
	so.reconnect = false;	/* a probe reports what it finds, once */
	ret = session_open(&so, &s, err);
	if (!ret && (ret = tree_open(s, so.share, &t, err)) != 0)
		session_close(s);
	if (ret) {
		log_err("%s", err);
		return ret;
	}
	ci = &s->info;
	g = ci->server_guid;
	fprintf(out, "server: %s\n", o->host);
	fprintf(out, "share: %s\n", o->share);
	fprintf(out, "dialect: %s\n", dialect_name(ci->dialect));
	fprintf(out, "signing: %s\n", s->encrypting ? "none (encrypted instead)" :
		s->signing ? smb2_sign_alg_name(ci->sign_alg) : "none");
	fprintf(out, "encryption: %s\n", s->encrypting ? smb2_cipher_name(ci->cipher) : "none");
	fprintf(out, "secure_negotiate: %s\n", secneg_name(t->secneg));
	/* GUIDs print as Windows shows them: the first three fields are
	 * little-endian on the wire. */
	fprintf(out, "server_guid: %02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		"%02x%02x%02x%02x%02x%02x\n",
		g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6],
		g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
	print_caps(out, ci->server_capabilities);
	fprintf(out, "max_read: %u\n", ci->max_read);
	fprintf(out, "max_write: %u\n", ci->max_write);
	fprintf(out, "max_transact: %u\n", ci->max_transact);
	if (s->guest || s->anonymous)
		fprintf(out, "session: %s\n", s->guest ? "guest" : "anonymous");
	else
		fprintf(out, "session: %s %s\n", s->mech == SEC_KRB5 ? "krb5" : "ntlmssp", s->user_desc);
	fprintf(out, "share_flags: 0x%08x\n", t->share_flags);
	print_interfaces(out, t);
	if (so.max_channels > 1)
		print_channels(out, s, t, so.max_channels);
	tree_close(t);
	session_close(s);
	return 0;
}
