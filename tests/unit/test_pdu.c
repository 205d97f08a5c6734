/*
 * Codec tests for src/pdu_*.c: encoders against the bytes a Windows
 * client sent (vectors/smb311-preauth.txt); decoders on Windows and
 * Samba responses (vectors and golden/), and every truncation of each
 * response refused without reading out of bounds.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "crypto.h"
#include "golden.h"
#include "ntstatus.h"
#include "pdu.h"
#include "spnego.h"
#include "unit.h"
#include "vectors.h"
#include "wire.h"

typedef int (*decode_fn)(const uint8_t *msg, size_t len, void *out);

/* Decoders with their output type erased, for the truncation loop. */
static int dec_negotiate(const uint8_t *m, size_t n, void *o) { return pdu_negotiate_dec(m, n, o); }
static int dec_session(const uint8_t *m, size_t n, void *o) { return pdu_session_setup_dec(m, n, o); }
static int dec_tree(const uint8_t *m, size_t n, void *o) { return pdu_tree_connect_dec(m, n, o); }
static int dec_ioctl(const uint8_t *m, size_t n, void *o) { return pdu_ioctl_dec(m, n, o); }
static int dec_error(const uint8_t *m, size_t n, void *o) { (void)o; return pdu_error_dec(m, n); }
static int dec_empty(const uint8_t *m, size_t n, void *o) { (void)o; return pdu_empty_dec(m, n); }
static int dec_hdr(const uint8_t *m, size_t n, void *o) { return pdu_hdr_dec(m, n, o); }

/* Every strict prefix of a well-formed message must be refused.  Each
 * prefix is copied to a buffer of exactly its size, so that ASan catches
 * any read past it. */
static void all_truncations_fail(const char *what, decode_fn fn, const uint8_t *msg, size_t len)
{
	union { struct negotiate_rsp a; struct session_setup_rsp b; struct tree_connect_rsp c;
		struct ioctl_rsp d; struct smb2_hdr e; struct create_rsp f; } out;
	size_t i;
	uint8_t *copy;
	int bad = 0;

	CHECK_INT(fn(msg, len, &out), 0);
	for (i = 0; i < len; i++) {
		copy = malloc(i ? i : 1);
		memcpy(copy, msg, i);
		if (fn(copy, i, &out) != -EPROTO) {
			if (!bad)
				fprintf(stderr, "%s: truncation to %zu of %zu bytes accepted\n", what, i, len);
			bad++;
		}
		free(copy);
	}
	CHECK_INT(bad, 0);
}

static void test_header(void)
{
	size_t n;
	uint8_t *m = vec("smb311-preauth.txt", "anat311m.step4_session_setup_response1", &n);
	struct smb2_hdr h;
	struct wr w;

	CHECK_INT(pdu_hdr_dec(m, n, &h), 0);
	CHECK_INT(h.command, SMB2_SESSION_SETUP);
	CHECK_INT(h.status, STATUS_MORE_PROCESSING_REQUIRED);
	CHECK(h.flags & SMB2_FLAGS_SERVER_TO_REDIR);
	CHECK(h.session_id == 0x0000100000000019ull);
	all_truncations_fail("header", dec_hdr, m, 64);
	/* Re-encoding the decoded header gives the same bytes (but for the
	 * signature, which the encoder leaves zero, and ProcessId). */
	wr_init(&w);
	pdu_hdr_enc(&w, &h);
	CHECK_INT(w.len, 64);
	CHECK_MEM(w.p, m, 32);
	CHECK_MEM(w.p + 36, m + 36, 12);
	m[0] = 0xfd;
	CHECK_INT(pdu_hdr_dec(m, n, &h), -EPROTO);
	wr_free(&w);
	free(m);
}

/* Our NEGOTIATE encoder, fed the Windows client's parameters, produces
 * the Windows client's body byte for byte. */
static void test_negotiate_request(void)
{
	static const uint16_t dialects[] = { 0x0202, 0x0210, 0x0300, 0x0302, 0x0311 };
	static const uint16_t ciphers[] = { SMB2_CIPHER_AES128_GCM, SMB2_CIPHER_AES128_CCM };
	size_t n;
	uint8_t *m = vec("smb311-preauth.txt", "enc311gcm.step1_negotiate_request", &n);
	struct negotiate_req q = {
		.security_mode = le16_get(m + 68),
		.capabilities = le32_get(m + 72),
		.dialects = dialects, .ndialects = 5,
		.ciphers = ciphers, .nciphers = 2,
	};
	struct smb2_hdr h;
	struct wr w;

	memcpy(q.client_guid, m + 76, 16);
	memcpy(q.salt, m + 112 + 8 + 6, 32);	/* first context, after its header and counts */
	CHECK_INT(pdu_hdr_dec(m, n, &h), 0);
	wr_init(&w);
	pdu_hdr_enc(&w, &h);
	CHECK_INT(pdu_negotiate_enc(&w, 0, &q), 0);
	CHECK_INT(w.len, n);
	if (w.len == n)
		CHECK_MEM(w.p + 64, m + 64, n - 64);
	wr_free(&w);
	free(m);
}

static void test_negotiate_response(void)
{
	struct negotiate_rsp p;
	unsigned mechs;
	size_t n;
	uint8_t *m = vec("smb311-preauth.txt", "enc311gcm.step2_negotiate_response", &n);

	CHECK_INT(pdu_negotiate_dec(m, n, &p), 0);
	CHECK_INT(p.dialect, 0x0311);
	CHECK(p.has_preauth && p.preauth_alg == SMB2_PREAUTH_INTEGRITY_SHA512);
	CHECK(p.has_cipher && p.cipher == SMB2_CIPHER_AES128_GCM);
	CHECK(!p.has_signing);
	CHECK(p.secbuf_len > 0);
	CHECK_INT(spnego_server_mechs(p.secbuf, p.secbuf_len, &mechs), 0);
	CHECK(mechs & SPNEGO_MECH_NTLMSSP);
	all_truncations_fail("Windows negotiate 3.1.1", dec_negotiate, m, n);
	free(m);

	m = golden("samba-negotiate-rsp-311.bin", &n);
	CHECK_INT(pdu_negotiate_dec(m, n, &p), 0);
	CHECK_INT(p.dialect, 0x0311);
	CHECK(p.has_preauth && p.has_cipher && p.has_signing);
	CHECK_INT(p.max_read, 8388608);
	all_truncations_fail("Samba negotiate 3.1.1", dec_negotiate, m, n);
	/* A second PREAUTH context is refused. */
	{
		uint32_t off = le32_get(m + 64 + 60);

		CHECK_INT(le16_get(m + off), SMB2_PREAUTH_INTEGRITY_CAPABILITIES);
		le16_put(m + 64 + 6, 0);	/* NegotiateContextCount 0: fine */
		CHECK_INT(pdu_negotiate_dec(m, n, &p), 0);
		CHECK(!p.has_preauth);
	}
	free(m);

	m = golden("samba-negotiate-rsp-300.bin", &n);
	CHECK_INT(pdu_negotiate_dec(m, n, &p), 0);
	CHECK_INT(p.dialect, 0x0300);
	CHECK(!p.has_preauth);
	all_truncations_fail("Samba negotiate 3.0", dec_negotiate, m, n);
	/* StructureSize is checked first. */
	m[64] = 64;
	CHECK_INT(pdu_negotiate_dec(m, n, &p), -EPROTO);
	free(m);
}

static void test_session_setup(void)
{
	static const uint8_t token[] = { 0x60, 0x02, 0x05, 0x00 };
	struct session_setup_req q = { .security_mode = 1, .capabilities = 1,
				       .secbuf = token, .secbuf_len = sizeof(token) };
	struct session_setup_rsp p;
	struct smb2_hdr h = { .command = SMB2_SESSION_SETUP };
	size_t n;
	uint8_t *m;
	struct wr w;

	wr_init(&w);
	pdu_hdr_enc(&w, &h);
	CHECK_INT(pdu_session_setup_enc(&w, 0, &q), 0);
	CHECK_INT(w.len, 64 + 24 + sizeof(token));
	CHECK_INT(le16_get(w.p + 64), 25);
	CHECK_INT(le16_get(w.p + 64 + 12), 88);		/* SecurityBufferOffset */
	CHECK_INT(le16_get(w.p + 64 + 14), sizeof(token));
	CHECK_MEM(w.p + 88, token, sizeof(token));
	wr_free(&w);

	m = vec("smb311-preauth.txt", "anat311m.step4_session_setup_response1", &n);
	CHECK_INT(pdu_session_setup_dec(m, n, &p), 0);
	CHECK(p.secbuf && p.secbuf_len == n - 72);
	all_truncations_fail("Windows session setup", dec_session, m, n);
	free(m);
	m = golden("samba-session-setup-rsp-more.bin", &n);
	all_truncations_fail("Samba session setup", dec_session, m, n);
	free(m);
}

static void test_tree_connect(void)
{
	struct tree_connect_rsp p;
	struct smb2_hdr h = { .command = SMB2_TREE_CONNECT };
	static const uint8_t want[] = { '\\', 0, '\\', 0, 's', 0, '\\', 0, 'x', 0 };
	size_t n;
	uint8_t *m;
	struct wr w;

	wr_init(&w);
	pdu_hdr_enc(&w, &h);
	CHECK_INT(pdu_tree_connect_enc(&w, 0, "\\\\s\\x"), 0);
	CHECK_INT(le16_get(w.p + 64), 9);
	CHECK_INT(le16_get(w.p + 68), 72);		/* PathOffset */
	CHECK_INT(le16_get(w.p + 70), sizeof(want));
	CHECK_MEM(w.p + 72, want, sizeof(want));
	wr_free(&w);

	m = golden("samba-tree-connect-rsp.bin", &n);
	CHECK_INT(pdu_tree_connect_dec(m, n, &p), 0);
	CHECK_INT(p.share_type, SMB2_SHARE_TYPE_DISK);
	CHECK(p.maximal_access != 0);
	all_truncations_fail("Samba tree connect", dec_tree, m, n);
	free(m);
}

static void test_ioctl(void)
{
	static const uint16_t dialects[] = { 0x0210, 0x0300 };
	struct validate_negotiate_rsp v;
	struct ioctl_rsp p;
	uint8_t guid[16] = { 1, 2, 3 };
	size_t n;
	uint8_t *m;
	struct wr w;

	wr_init(&w);
	CHECK_INT(pdu_validate_negotiate_enc(&w, 0x7f, guid, 1, dialects, 2), 0);
	CHECK_INT(w.len, 24 + 4);
	CHECK_INT(le32_get(w.p), 0x7f);
	CHECK_INT(le16_get(w.p + 20), 1);
	CHECK_INT(le16_get(w.p + 22), 2);
	CHECK_INT(le16_get(w.p + 26), 0x0300);
	wr_free(&w);

	m = golden("samba-ioctl-validate-rsp.bin", &n);
	CHECK_INT(pdu_ioctl_dec(m, n, &p), 0);
	CHECK_INT(p.ctl_code, FSCTL_VALIDATE_NEGOTIATE_INFO);
	CHECK_INT(p.output_len, 24);
	CHECK_INT(pdu_validate_negotiate_dec(p.output, p.output_len, &v), 0);
	CHECK_INT(v.dialect, 0x0300);
	CHECK_INT(pdu_validate_negotiate_dec(p.output, 23, &v), -EPROTO);
	all_truncations_fail("Samba ioctl", dec_ioctl, m, n);
	/* OutputOffset pointing past the message */
	le32_put(m + 64 + 32, (uint32_t)n);
	CHECK_INT(pdu_ioctl_dec(m, n, &p), -EPROTO);
	free(m);
}

/* The interface list: Samba's answer, then lists cut, looped and
 * overlapping, and a list longer than the caller keeps. */
static void test_netif(void)
{
	struct netif ifs[NETIF_MAX], one;
	struct ioctl_rsp p;
	uint8_t *m, *list;
	size_t n, got, i;

	m = golden("samba-ioctl-netif-rsp.bin", &n);
	CHECK_INT(pdu_ioctl_dec(m, n, &p), 0);
	CHECK_INT(p.ctl_code, FSCTL_QUERY_NETWORK_INTERFACE_INFO);
	CHECK_INT(p.output_len, 2 * 152);
	CHECK_INT(pdu_netif_dec(p.output, p.output_len, ifs, NETIF_MAX, &got), 0);
	CHECK_INT(got, 2);
	CHECK_INT(ifs[0].family, AF_INET6);
	CHECK_INT(ifs[0].addr[15], 1);
	CHECK_INT(ifs[1].family, AF_INET);
	CHECK_INT(ifs[1].addr[0], 127);
	CHECK_INT(ifs[1].addr[3], 1);
	CHECK_INT(ifs[1].link_speed == 1000000000ULL, 1);
	/* Every cut short of the whole list is refused. */
	list = malloc(p.output_len);
	memcpy(list, p.output, p.output_len);
	for (i = 1; i < p.output_len; i++)
		CHECK_INT(pdu_netif_dec(list, i, ifs, NETIF_MAX, &got), -EPROTO);
	/* A Next of 0 ends the list, whatever follows; one into the entry
	 * itself (a loop, or overlap) or past the end is refused. */
	le32_put(list, 0);
	CHECK_INT(pdu_netif_dec(list, p.output_len, ifs, NETIF_MAX, &got), 0);
	CHECK_INT(got, 1);
	le32_put(list, 100);
	CHECK_INT(pdu_netif_dec(list, p.output_len, ifs, NETIF_MAX, &got), -EPROTO);
	le32_put(list, 1000);
	CHECK_INT(pdu_netif_dec(list, p.output_len, ifs, NETIF_MAX, &got), -EPROTO);
	le32_put(list, 152);
	/* Kept: at most max; the rest still checked. */
	CHECK_INT(pdu_netif_dec(list, p.output_len, &one, 1, &got), 0);
	CHECK_INT(got, 1);
	CHECK_INT(one.family, AF_INET6);
	/* An empty answer: no interfaces. */
	CHECK_INT(pdu_netif_dec(list, 0, ifs, NETIF_MAX, &got), 0);
	CHECK_INT(got, 0);
	free(list);
	all_truncations_fail("Samba netif ioctl", dec_ioctl, m, n);
	free(m);
}

static void test_error_and_empty(void)
{
	size_t n;
	uint8_t *m = golden("samba-error-rsp.bin", &n);

	CHECK_INT(le32_get(m + 8), STATUS_BAD_NETWORK_NAME);
	CHECK_INT(pdu_error_dec(m, n), 0);
	all_truncations_fail("Samba error", dec_error, m, 72);
	free(m);
	m = golden("samba-logoff-rsp.bin", &n);
	CHECK_INT(pdu_empty_dec(m, n), 0);
	all_truncations_fail("Samba logoff", dec_empty, m, n);
	free(m);
}

static int dec_create(const uint8_t *m, size_t n, void *o) { return pdu_create_dec(m, n, o); }

/* Walk the create contexts of an encoded CREATE request: each name must
 * come in order with its data length, 8-aligned and chained by Next. */
static void check_contexts(const uint8_t *msg, size_t len, const char *const *names,
			   const uint32_t *data_lens, int n)
{
	uint32_t off = le32_get(msg + 64 + 48), total = le32_get(msg + 64 + 52), next;
	size_t at = off;
	int i;

	CHECK(off % 8 == 0 && off + total == len);
	for (i = 0; i < n; i++) {
		CHECK(at + 24 <= len);
		next = le32_get(msg + at);
		CHECK_INT(le16_get(msg + at + 4), 16);		/* NameOffset */
		CHECK_INT(le16_get(msg + at + 6), 4);		/* NameLength */
		CHECK_INT(le16_get(msg + at + 10), 24);		/* DataOffset */
		CHECK_INT(le32_get(msg + at + 12), data_lens[i]);
		CHECK_MEM(msg + at + 16, names[i], 4);
		CHECK_INT(next == 0, i == n - 1);
		CHECK(next % 8 == 0);
		at += next;
	}
}

static void test_create_durable(void)
{
	static const uint8_t key[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	static const uint8_t guid[16] = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
					  0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf };
	static const char *const lease_dh2q[] = { "RqLs", "DH2Q" };
	static const char *const lease_dh2c[] = { "RqLs", "DH2C" };
	static const char *const dhnq[] = { "DHnQ" };
	static const char *const dhnc[] = { "DHnC" };
	static const uint32_t lens_q[] = { 32, 32 }, lens_c[] = { 32, 36 }, lens_1[] = { 16 };
	struct smb2_hdr h = { .command = SMB2_CREATE };
	struct create_req q = {
		.oplock = SMB2_OPLOCK_LEVEL_LEASE, .lease_key = key, .lease_state = 3,
		.access = 0x12019f, .share = 7, .disposition = 1, .name = "dir\\file",
		.durable = DURABLE_V2, .create_guid = guid, .durable_timeout_ms = 0,
	};
	struct create_rsp p;
	size_t n, at;
	uint8_t *m;
	struct wr w;

	/* A lease and a v2 durable handle request. */
	wr_init(&w);
	pdu_hdr_enc(&w, &h);
	CHECK_INT(pdu_create_enc(&w, 0, &q), 0);
	check_contexts(w.p, w.len, lease_dh2q, lens_q, 2);
	at = le32_get(w.p + 64 + 48);
	at += le32_get(w.p + at);			/* the DH2Q context */
	CHECK_MEM(w.p + at + 24 + 16, guid, 16);	/* CreateGuid after Timeout, Flags, Reserved */
	wr_free(&w);

	/* Its reclaim after a reconnect: the old FileId and the same guid. */
	q.reclaim = true;
	q.reclaim_fid.persistent = 0x1122334455667788ull;
	q.reclaim_fid.volatile_ = 0x99aabbccddeeff00ull;
	wr_init(&w);
	pdu_hdr_enc(&w, &h);
	CHECK_INT(pdu_create_enc(&w, 0, &q), 0);
	check_contexts(w.p, w.len, lease_dh2c, lens_c, 2);
	at = le32_get(w.p + 64 + 48);
	at += le32_get(w.p + at);
	CHECK_INT(le64_get(w.p + at + 24), 0x1122334455667788ull);
	CHECK_INT(le64_get(w.p + at + 32), 0x99aabbccddeeff00ull);
	CHECK_MEM(w.p + at + 40, guid, 16);
	wr_free(&w);

	/* Version 1, without a lease (2.1 with a batch oplock). */
	q.oplock = SMB2_OPLOCK_LEVEL_NONE;
	q.lease_key = NULL;
	q.durable = DURABLE_V1;
	q.reclaim = false;
	wr_init(&w);
	pdu_hdr_enc(&w, &h);
	CHECK_INT(pdu_create_enc(&w, 0, &q), 0);
	check_contexts(w.p, w.len, dhnq, lens_1, 1);
	wr_free(&w);
	q.reclaim = true;
	wr_init(&w);
	pdu_hdr_enc(&w, &h);
	CHECK_INT(pdu_create_enc(&w, 0, &q), 0);
	check_contexts(w.p, w.len, dhnc, lens_1, 1);
	wr_free(&w);

	/* Samba grants the lease and the durable handle... */
	m = golden("samba-create-rsp-durable.bin", &n);
	CHECK_INT(pdu_create_dec(m, n, &p), 0);
	CHECK(p.has_lease);
	CHECK(p.durable);
	all_truncations_fail("Samba durable create", dec_create, m, n);
	free(m);
	/* ... and answers the reclaim with the lease alone. */
	m = golden("samba-create-rsp-reclaim.bin", &n);
	CHECK_INT(pdu_create_dec(m, n, &p), 0);
	CHECK_INT(le32_get(m + 8), 0);
	CHECK(p.has_lease);
	free(m);
}

/* A request's FileId is rewritten in place for the commands that carry
 * one, at their own offsets; anything else is refused. */
static void test_patch_fid(void)
{
	struct smb2_fid fid = { 0x0102030405060708ull, 0x1112131415161718ull };
	struct smb2_fid zero = { 0, 0 };
	struct smb2_hdr h = { .command = SMB2_READ };
	struct wr w;

	wr_init(&w);
	pdu_hdr_enc(&w, &h);
	CHECK_INT(pdu_read_enc(&w, zero, 4096, 65536), 0);
	CHECK_INT(pdu_patch_fid(w.p, w.len, fid), 0);
	CHECK_INT(le64_get(w.p + 64 + 16), fid.persistent);
	CHECK_INT(le64_get(w.p + 64 + 24), fid.volatile_);
	CHECK_INT(le64_get(w.p + 64 + 8), 4096);	/* the Offset is left alone */
	CHECK_INT(pdu_patch_fid(w.p, 64 + 31, fid), -EINVAL);
	wr_free(&w);

	h.command = SMB2_CLOSE;
	wr_init(&w);
	pdu_hdr_enc(&w, &h);
	CHECK_INT(pdu_close_enc(&w, zero, 0), 0);
	CHECK_INT(pdu_patch_fid(w.p, w.len, fid), 0);
	CHECK_INT(le64_get(w.p + 64 + 8), fid.persistent);
	wr_free(&w);

	h.command = SMB2_CREATE;
	wr_init(&w);
	pdu_hdr_enc(&w, &h);
	wr_zero(&w, 64);
	CHECK_INT(pdu_patch_fid(w.p, w.len, fid), -EINVAL);
	wr_free(&w);
}

/* MS-SMB2 2.2.26: 48-byte body, then one 24-byte element per lock. */
static void test_lock(void)
{
	struct smb2_fid fid = { 0x0102030405060708ull, 0x1112131415161718ull };
	struct smb2_lock l[2] = {
		{ .offset = 0xFFFFFFFFFFFFFFFEull, .length = 1, .flags = SMB2_LOCKFLAG_EXCLUSIVE_LOCK },
		{ .offset = 10, .length = 20, .flags = SMB2_LOCKFLAG_UNLOCK },
	};
	struct smb2_hdr h = { .command = SMB2_LOCK };
	uint8_t rsp[68] = { 0 };
	struct wr w;
	size_t i;

	wr_init(&w);
	pdu_hdr_enc(&w, &h);
	CHECK_INT(pdu_lock_enc(&w, fid, pdu_lock_seq(64, 0x1F), l, 2), 0);
	CHECK_INT(w.len, 64 + 24 + 2 * 24);
	CHECK_INT(le16_get(w.p + 64), 48);
	CHECK_INT(le16_get(w.p + 66), 2);			/* LockCount */
	/* Index 64 above the 4-bit number (0x1F keeps its low 4 bits). */
	CHECK_INT(le32_get(w.p + 68), 64u << 4 | 0xF);
	CHECK_INT(le64_get(w.p + 72), fid.persistent);
	CHECK_INT(le64_get(w.p + 88), 0xFFFFFFFFFFFFFFFEull);	/* Locks[0].Offset */
	CHECK_INT(le64_get(w.p + 96), 1);
	CHECK_INT(le32_get(w.p + 104), SMB2_LOCKFLAG_EXCLUSIVE_LOCK);
	CHECK_INT(le64_get(w.p + 112), 10);
	CHECK_INT(le32_get(w.p + 128), SMB2_LOCKFLAG_UNLOCK);
	CHECK_INT(pdu_patch_fid(w.p, w.len, fid), 0);		/* LOCK carries a FileId */
	CHECK_INT(pdu_lock_enc(&w, fid, 0, l, 0), -EINVAL);
	wr_free(&w);

	/* CANCEL (2.2.30): the 4-byte body after an ASYNC header. */
	h.command = SMB2_CANCEL;
	h.flags = SMB2_FLAGS_ASYNC_COMMAND;
	h.async_id = 0xA1A2A3A4A5A6A7A8ull;
	wr_init(&w);
	pdu_hdr_enc(&w, &h);
	pdu_cancel_enc(&w);
	CHECK_INT(w.len, 68);
	CHECK_INT(le64_get(w.p + 32), 0xA1A2A3A4A5A6A7A8ull);	/* AsyncId where TreeId was */
	CHECK_INT(le16_get(w.p + 64), 4);
	CHECK_INT(le16_get(w.p + 66), 0);
	wr_free(&w);

	/* The response: StructureSize 4 and a reserved field. */
	le32_put(rsp, 0x424D53FE);
	le16_put(rsp + 64, 4);
	CHECK_INT(pdu_lock_dec(rsp, sizeof(rsp)), 0);
	for (i = 0; i < sizeof(rsp); i++)
		CHECK_INT(pdu_lock_dec(rsp, i), -EPROTO);
	le16_put(rsp + 64, 5);
	CHECK_INT(pdu_lock_dec(rsp, sizeof(rsp)), -EPROTO);
}

int main(void)
{
	test_header();
	test_negotiate_request();
	test_negotiate_response();
	test_session_setup();
	test_tree_connect();
	test_ioctl();
	test_netif();
	test_error_and_empty();
	test_create_durable();
	test_patch_fid();
	test_lock();
	return unit_result();
}
