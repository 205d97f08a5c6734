/*
 * auth_krb5.c - Kerberos initiator through GSSAPI (RFC 2743 2.2.1,
 * RFC 4121; MS-SMB2 3.2.4.2.3 and 3.2.5.3.1 for its use).  See
 * auth_krb5.h.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5.h>		/* error code values only: nothing of libkrb5 is called */

#include <openssl/crypto.h>

#include "auth_krb5.h"
#include "fsid.h"
#include "wire.h"

struct auth_krb5 {
	gss_cred_id_t cred;
	gss_ctx_id_t ctx;
	gss_name_t target;
	bool established;
	char principal[256];	/* the client, user@REALM */
	char target_desc[300];	/* the service, as asked for */
	char ccache_desc[300];	/* where the ticket was looked for */
	bool as_user;		/* fixed: see auth_krb5_opts */
	uid_t uid;
	gid_t gid;
};

/* What is asked of the context.  Mutual: the server must prove it knows
 * the service key (its AP-REP), or a man in the middle could pose as it.
 * Integrity and sequencing: what Windows asks for an SMB session too, so
 * that both sides pick the same subkeys. */
#define WANT_FLAGS (GSS_C_MUTUAL_FLAG | GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG | GSS_C_INTEG_FLAG)

static void seterr(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void seterr(char *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, AUTH_KRB5_ERRLEN, fmt, ap);
	va_end(ap);
}

/* The cache is touched (read, the service ticket written) in
 * gss_acquire_cred*, gss_inquire_cred and gss_init_sec_context: those
 * run with the user's file rights where a multiuser mount asks. */
static int enter_user(const struct auth_krb5 *k, struct fsid_saved *saved, char *err)
{
	saved->changed = false;
	if (!k->as_user || fsid_enter(k->uid, k->gid, saved) == 0)
		return 0;
	seterr(err, "cannot read uid %u's Kerberos credentials with that user's rights "
	       "(a multiuser mount must be made by root)", (unsigned)k->uid);
	return -EPERM;
}

/* GSSAPI's own words for a status, major or minor (krb5 mechanism). */
static void status_text(OM_uint32 code, int type, char *buf, size_t len)
{
	OM_uint32 min, ctx = 0;
	gss_buffer_desc msg = GSS_C_EMPTY_BUFFER;
	size_t used = 0;

	buf[0] = '\0';
	do {
		if (GSS_ERROR(gss_display_status(&min, code, type, (gss_OID)gss_mech_krb5, &ctx, &msg)))
			break;
		used += (size_t)snprintf(buf + used, len - used, "%s%.*s", used ? "; " : "",
					 (int)msg.length, (const char *)msg.value);
		gss_release_buffer(&min, &msg);
	} while (ctx != 0 && used < len);
}

static bool minor_is(OM_uint32 minor, krb5_error_code code)
{
	return minor == (OM_uint32)code;
}

/* The realm part of the client principal, "" while unknown. */
static const char *client_realm(const struct auth_krb5 *k)
{
	const char *at = strrchr(k->principal, '@');

	return at ? at + 1 : "";
}

/* Turn a GSS failure into a message a user can act on, and an errno. */
static int explain(struct auth_krb5 *k, OM_uint32 maj, OM_uint32 min, char *err)
{
	const char *who = k->principal[0] ? k->principal : "this user";
	char text[256];

	if (minor_is(min, KRB5_FCC_NOFILE) || minor_is(min, KRB5_CC_NOTFOUND) ||
	    minor_is(min, KRB5_CC_NOSUPP) || minor_is(min, KRB5_CC_BADNAME) ||
	    (GSS_ROUTINE_ERROR(maj) == GSS_S_NO_CRED && !k->principal[0])) {
		seterr(err, "no Kerberos ticket for this user in %s: run kinit (or give krb5ccname=)",
		       k->ccache_desc);
		return -ENOKEY;
	}
	if (GSS_ROUTINE_ERROR(maj) == GSS_S_CREDENTIALS_EXPIRED ||
	    minor_is(min, KRB5KRB_AP_ERR_TKT_EXPIRED) || minor_is(min, KRB5KDC_ERR_TGT_REVOKED)) {
		seterr(err, "the Kerberos ticket of %s in %s has expired: run kinit to get a new one",
		       who, k->ccache_desc);
		return -EKEYEXPIRED;
	}
	if (minor_is(min, KRB5KRB_AP_ERR_SKEW)) {
		seterr(err, "Kerberos refused the ticket because the clocks of this machine and of "
		       "the server or KDC differ too much (more than the allowed skew, usually 5 "
		       "minutes): set the time (NTP)");
		return -EKEYREJECTED;
	}
	if (minor_is(min, KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN)) {
		seterr(err, "the Kerberos KDC of %s knows no service principal %s: name the server "
		       "as the domain knows it (usually its full DNS name), or give spn=",
		       *client_realm(k) ? client_realm(k) : "the realm", k->target_desc);
		return -ENOENT;
	}
	if (minor_is(min, KRB5_KDC_UNREACH)) {
		seterr(err, "cannot reach a Kerberos KDC for realm %s (asked for a ticket for %s): "
		       "check the network and the realm's kdc entries in krb5.conf",
		       *client_realm(k) ? client_realm(k) : "?", k->target_desc);
		return -EHOSTUNREACH;
	}
	if (minor_is(min, KRB5_REALM_UNKNOWN) || minor_is(min, KRB5_REALM_CANT_RESOLVE)) {
		seterr(err, "no Kerberos KDC is known for realm %s: add it to krb5.conf",
		       *client_realm(k) ? client_realm(k) : "?");
		return -EHOSTUNREACH;
	}
	if (minor_is(min, KRB5KDC_ERR_CLIENT_REVOKED)) {
		seterr(err, "the KDC refuses tickets to %s: the account is disabled or locked out", who);
		return -EACCES;
	}
	if (minor_is(min, KRB5KDC_ERR_ETYPE_NOSUPP)) {
		seterr(err, "the KDC and this machine share no Kerberos encryption type for %s",
		       k->target_desc);
		return -EACCES;
	}
	if (minor_is(min, KRB5KRB_AP_ERR_MODIFIED) || minor_is(min, KRB5KRB_AP_ERR_BAD_INTEGRITY) ||
	    GSS_ROUTINE_ERROR(maj) == GSS_S_DEFECTIVE_TOKEN || GSS_ROUTINE_ERROR(maj) == GSS_S_BAD_SIG) {
		seterr(err, "the server's Kerberos answer does not verify: it is not %s, or the "
		       "exchange was tampered with", k->target_desc);
		return -EACCES;
	}
	status_text(min, GSS_C_MECH_CODE, text, sizeof(text));
	if (!text[0])
		status_text(maj, GSS_C_GSS_CODE, text, sizeof(text));
	seterr(err, "Kerberos authentication of %s to %s failed: %s", who, k->target_desc, text);
	return -EACCES;
}

static int import_target(struct auth_krb5 *k, const struct auth_krb5_opts *o, char *err)
{
	OM_uint32 maj, min;
	gss_buffer_desc name;
	gss_OID type;
	char buf[300];

	/* opts.c has checked the form of spn= */
	if (o->spn && strlen(o->spn) >= sizeof(buf)) {
		seterr(err, "spn= is longer than %zu bytes", sizeof(buf) - 1);
		return -EINVAL;
	}
	if (o->spn && strchr(o->spn, '/')) {
		/* A principal name as the KDC spells it: no canonicalization. */
		snprintf(buf, sizeof(buf), "%s", o->spn);
		type = (gss_OID)GSS_KRB5_NT_PRINCIPAL_NAME;
		snprintf(k->target_desc, sizeof(k->target_desc), "%s", o->spn);
	} else {
		/* service@host: krb5.conf's rules (dns_canonicalize_hostname,
		 * rdns, domain_realm) make it a principal. */
		if (o->spn)
			snprintf(buf, sizeof(buf), "%s", o->spn);
		else
			snprintf(buf, sizeof(buf), "cifs@%s", o->host);
		type = GSS_C_NT_HOSTBASED_SERVICE;
		snprintf(k->target_desc, sizeof(k->target_desc), "%s", buf);
		*strchr(k->target_desc, '@') = '/';
	}
	name.value = buf;
	name.length = strlen(buf);
	maj = gss_import_name(&min, &name, type, &k->target);
	if (GSS_ERROR(maj)) {
		seterr(err, "'%s' is not a valid Kerberos service name", buf);
		return -EINVAL;
	}
	return 0;
}

static int acquire_cred(struct auth_krb5 *k, const struct auth_krb5_opts *o, char *err)
{
	gss_OID_desc krb5_oid = *gss_mech_krb5;
	gss_OID_set_desc mechs = { 1, &krb5_oid };
	gss_key_value_element_desc el = { "ccache", o->ccache };
	gss_key_value_set_desc store = { 1, &el };
	gss_name_t name = GSS_C_NO_NAME;
	gss_buffer_desc shown = GSS_C_EMPTY_BUFFER;
	OM_uint32 maj, min, maj2 = 0, min2 = 0, life = 0;
	const char *env = getenv("KRB5CCNAME");
	struct fsid_saved saved;
	int ret;

	if (o->ccache)
		snprintf(k->ccache_desc, sizeof(k->ccache_desc), "the credential cache %s", o->ccache);
	else if (env && *env)
		snprintf(k->ccache_desc, sizeof(k->ccache_desc), "the credential cache %s (KRB5CCNAME)", env);
	else
		snprintf(k->ccache_desc, sizeof(k->ccache_desc), "the default credential cache");

	if (k->as_user && !o->ccache) {
		/* The daemon's own default would be root's cache. */
		seterr(err, "no credential cache named for uid %u", (unsigned)k->uid);
		return -ENOKEY;
	}
	ret = enter_user(k, &saved, err);
	if (ret)
		return ret;
	if (o->ccache)
		maj = gss_acquire_cred_from(&min, GSS_C_NO_NAME, GSS_C_INDEFINITE, &mechs, GSS_C_INITIATE,
					    &store, &k->cred, NULL, NULL);
	else
		maj = gss_acquire_cred(&min, GSS_C_NO_NAME, GSS_C_INDEFINITE, &mechs, GSS_C_INITIATE,
				       &k->cred, NULL, NULL);
	/* MIT resolves the cache lazily; asking for the name and lifetime
	 * makes a missing or expired ticket show here, before any traffic. */
	if (!GSS_ERROR(maj))
		maj2 = gss_inquire_cred(&min2, k->cred, &name, &life, NULL, NULL);
	fsid_leave(&saved);
	if (GSS_ERROR(maj))
		return explain(k, maj, min, err);
	maj = maj2;
	min = min2;
	if (!GSS_ERROR(maj) && name != GSS_C_NO_NAME &&
	    !GSS_ERROR(gss_display_name(&min, name, &shown, NULL))) {
		snprintf(k->principal, sizeof(k->principal), "%.*s", (int)shown.length,
			 (const char *)shown.value);
		gss_release_buffer(&min, &shown);
	}
	if (name != GSS_C_NO_NAME)
		gss_release_name(&min, &name);
	if (GSS_ERROR(maj)) {
		ret = explain(k, maj, min, err);
		return ret;
	}
	if (life == 0)
		return explain(k, GSS_S_CREDENTIALS_EXPIRED, 0, err);
	return 0;
}

int auth_krb5_begin(const struct auth_krb5_opts *o, struct auth_krb5 **out, char err[AUTH_KRB5_ERRLEN])
{
	struct auth_krb5 *k;
	int ret;

	*out = NULL;
	k = calloc(1, sizeof(*k));
	if (!k) {
		seterr(err, "out of memory");
		return -ENOMEM;
	}
	k->cred = GSS_C_NO_CREDENTIAL;
	k->ctx = GSS_C_NO_CONTEXT;
	k->target = GSS_C_NO_NAME;
	k->as_user = o->as_user;
	k->uid = o->uid;
	k->gid = o->gid;
	if (o->principal)
		snprintf(k->principal, sizeof(k->principal), "%s", o->principal);
	ret = import_target(k, o, err);
	if (!ret)
		ret = acquire_cred(k, o, err);
	if (ret) {
		auth_krb5_free(k);
		return ret;
	}
	*out = k;
	return 0;
}

int auth_krb5_step(struct auth_krb5 *k, const uint8_t *in, size_t inlen,
		   struct wr *out, bool *done, char err[AUTH_KRB5_ERRLEN])
{
	gss_buffer_desc inbuf = { inlen, (void *)in };
	gss_buffer_desc outbuf = GSS_C_EMPTY_BUFFER;
	OM_uint32 maj, min, got = 0;
	struct fsid_saved saved;
	int ret = 0;

	*done = false;
	if (k->established) {
		seterr(err, "the server sent a Kerberos token after authentication completed");
		return -EPROTO;
	}
	ret = enter_user(k, &saved, err);
	if (ret)
		return ret;
	maj = gss_init_sec_context(&min, k->cred, &k->ctx, k->target, (gss_OID)gss_mech_krb5,
				   WANT_FLAGS, GSS_C_INDEFINITE, GSS_C_NO_CHANNEL_BINDINGS,
				   in ? &inbuf : GSS_C_NO_BUFFER, NULL, &outbuf, &got, NULL);
	fsid_leave(&saved);
	if (GSS_ERROR(maj)) {
		ret = explain(k, maj, min, err);
		goto out;
	}
	if (outbuf.length)
		wr_bytes(out, outbuf.value, outbuf.length);
	if (maj == GSS_S_COMPLETE) {
		if (!(got & GSS_C_MUTUAL_FLAG)) {
			seterr(err, "the server %s did not authenticate itself (no mutual Kerberos "
			       "authentication)", k->target_desc);
			ret = -EACCES;
			goto out;
		}
		k->established = true;
		*done = true;
	}
out:
	gss_release_buffer(&min, &outbuf);
	return ret;
}

int auth_krb5_session_key(struct auth_krb5 *k, uint8_t key[AUTH_KRB5_MAX_KEY], size_t *len)
{
	gss_buffer_set_t set = GSS_C_NO_BUFFER_SET;
	OM_uint32 maj, min;
	int ret = -EPROTO;

	if (!k->established)
		return -EINVAL;
	maj = gss_inquire_sec_context_by_oid(&min, k->ctx, GSS_C_INQ_SSPI_SESSION_KEY, &set);
	if (GSS_ERROR(maj) || !set || set->count < 1 || set->elements[0].length < 16)
		goto out;
	/* AES-128 tickets give 16 bytes, AES-256 32; keep at most 32 (the
	 * 256-bit SMB ciphers use that much, everything else the first 16). */
	*len = set->elements[0].length < AUTH_KRB5_MAX_KEY ? set->elements[0].length : AUTH_KRB5_MAX_KEY;
	memcpy(key, set->elements[0].value, *len);
	ret = 0;
out:
	if (set) {
		if (set->count >= 1)
			OPENSSL_cleanse(set->elements[0].value, set->elements[0].length);
		gss_release_buffer_set(&min, &set);
	}
	return ret;
}

int auth_krb5_get_mic(struct auth_krb5 *k, const uint8_t *msg, size_t len, struct wr *out)
{
	gss_buffer_desc in = { len, (void *)msg }, mic = GSS_C_EMPTY_BUFFER;
	OM_uint32 maj, min;

	maj = gss_get_mic(&min, k->ctx, GSS_C_QOP_DEFAULT, &in, &mic);
	if (GSS_ERROR(maj))
		return -EPROTO;
	wr_bytes(out, mic.value, mic.length);
	gss_release_buffer(&min, &mic);
	return out->bad ? -ENOMEM : 0;
}

int auth_krb5_verify_mic(struct auth_krb5 *k, const uint8_t *msg, size_t len,
			 const uint8_t *mic, size_t miclen)
{
	gss_buffer_desc in = { len, (void *)msg }, token = { miclen, (void *)mic };
	OM_uint32 min;

	return GSS_ERROR(gss_verify_mic(&min, k->ctx, &in, &token, NULL)) ? -EACCES : 0;
}

const char *auth_krb5_principal(const struct auth_krb5 *k)
{
	return k->principal;
}

const char *auth_krb5_target(const struct auth_krb5 *k)
{
	return k->target_desc;
}

unsigned auth_krb5_lifetime(struct auth_krb5 *k)
{
	OM_uint32 min, life = 0;

	if (!k->established ||
	    GSS_ERROR(gss_inquire_context(&min, k->ctx, NULL, NULL, &life, NULL, NULL, NULL, NULL)))
		return 0;
	return life == GSS_C_INDEFINITE ? 0 : life;
}

void auth_krb5_free(struct auth_krb5 *k)
{
	OM_uint32 min;

	if (!k)
		return;
	if (k->ctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&min, &k->ctx, GSS_C_NO_BUFFER);
	if (k->cred != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&min, &k->cred);
	if (k->target != GSS_C_NO_NAME)
		gss_release_name(&min, &k->target);
	free(k);
}
