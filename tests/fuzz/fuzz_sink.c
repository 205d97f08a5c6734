/* libFuzzer target: a connection's reader (conn_reader.c) answering a
 * READ that named a destination buffer, the path that reads (and
 * decrypts) the data straight into it.  A real connection is opened to
 * a loopback listener; one thread sends the READ through conn_call_wait
 * and waits, and this one plays the server: it reads the request and
 * answers with a message built from the input, signed or sealed with
 * the connection's known key, so that the checks after the signature
 * and the tag are reached, which random bytes never pass.
 *
 * Input: [security][edits][flip lo][flip hi][capacity][filler KiB] then
 * the response message's first bytes; the filler (a known pattern) is
 * appended so that frames reach the size the direct path takes (16 KiB
 * and more) without the fuzzer growing inputs that large.
 *
 * What must hold: a success carries exactly the bytes that were sent
 * (in the destination, or whole in the response); a signed or sealed
 * message changed after signing or sealing is never a success; nothing
 * hangs (the server side ends every exchange by closing). */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "crypto.h"
#include "pdu.h"
#include "smb2.h"
#include "transport.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SESSION_ID 0x1122334455667788ULL
#define IN_HEAD 6

static const uint8_t key[32] = { 0x5a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

/* How the session protects messages, picked by the input's first byte. */
static const struct {
	bool sign, encrypt;
	enum smb2_sign_alg alg;
	enum smb2_cipher cipher;
} modes[] = {
	{ false, false, SMB2_SIGN_AES_CMAC, SMB2_CIPHER_NONE },
	{ true, false, SMB2_SIGN_HMAC_SHA256, SMB2_CIPHER_NONE },
	{ true, false, SMB2_SIGN_AES_CMAC, SMB2_CIPHER_NONE },
	{ true, false, SMB2_SIGN_AES_GMAC, SMB2_CIPHER_NONE },
	{ false, true, SMB2_SIGN_AES_CMAC, SMB2_CIPHER_AES128_GCM },
	{ false, true, SMB2_SIGN_AES_CMAC, SMB2_CIPHER_AES256_GCM },
	{ false, true, SMB2_SIGN_AES_CMAC, SMB2_CIPHER_AES128_CCM },
};
#define NMODES (sizeof(modes) / sizeof(modes[0]))

/* edits: what the harness fixes up so that the fuzzer's bytes get far */
#define EDIT_MID 0x01		/* MessageId := the request's */
#define EDIT_HEADER 0x02	/* a successful READ response's header */
#define EDIT_LENGTH 0x04	/* DataLength := what follows DataOffset */
#define EDIT_FLIP 0x08		/* change one byte after signing / sealing */

struct caller {
	struct conn *c;
	bool sign;
	uint8_t *dst;
	size_t cap;
	struct conn_data io;
	struct conn_msg rsp;
	int ret;
	bool done;			/* atomic */
};

static void *call_read(void *arg)
{
	struct caller *k = arg;
	struct conn_wait wait = { .data = &k->io };
	struct smb2_hdr h = { .command = SMB2_READ, .credit_charge = 1, .session_id = SESSION_ID,
			      .flags = k->sign ? SMB2_FLAGS_SIGNED : 0 };
	struct wr w;

	wr_init(&w);
	pdu_hdr_enc(&w, &h);
	k->ret = -ENOMEM;
	if (pdu_read_enc(&w, (struct smb2_fid){ 1, 2 }, 0, 65536) == 0 && !w.bad)
		k->ret = conn_call_wait(k->c, w.p, w.len, 1, &k->rsp, 5000, &wait);
	wr_free(&w);
	__atomic_store_n(&k->done, true, __ATOMIC_RELEASE);
	return NULL;
}

static int listener(uint16_t *port)
{
	static int fd = -1;
	static uint16_t bound;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);

	if (fd < 0) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 8) != 0 ||
		    getsockname(fd, (struct sockaddr *)&a, &alen) != 0)
			abort();
		bound = ntohs(a.sin_port);
	}
	*port = bound;
	return fd;
}

/* The request's MessageId, decrypting it first on a sealed session. */
static uint64_t request_mid(int s, const struct conn_security *sec)
{
	uint8_t *f;
	size_t n;
	uint64_t mid = 0;
	long plen;

	if (transport_read_frame(s, 1 << 20, &f, &n) != 0)
		return 0;
	if (sec->encrypt) {
		plen = smb2_decrypt(sec->cipher, sec->enc_key, f, n);
		if (plen >= SMB2_HEADER_SIZE)
			mid = le64_get(f + SMB2_TRANSFORM_HEADER_SIZE + SMB2_HDR_MESSAGE_ID);
	} else if (n >= SMB2_HEADER_SIZE) {
		mid = le64_get(f + SMB2_HDR_MESSAGE_ID);
	}
	free(f);
	return mid;
}

/* Write the whole frame unless the caller is already done (then the
 * reader may be gone and nobody would take the rest). */
static void send_frame(int s, const uint8_t *f, size_t n, const struct caller *k)
{
	struct pollfd p = { .fd = s, .events = POLLOUT };
	ssize_t got;

	while (n && !__atomic_load_n(&k->done, __ATOMIC_ACQUIRE)) {
		if (poll(&p, 1, 10) <= 0)
			continue;
		got = send(s, f, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (got < 0 && errno != EAGAIN && errno != EINTR)
			return;
		if (got > 0) {
			f += got;
			n -= (size_t)got;
		}
	}
}

/* The plaintext response: the input's bytes, the filler, the edits. */
static uint8_t *build_message(const uint8_t *in, size_t in_len, size_t filler, unsigned edits,
			      uint64_t mid, bool sign, size_t *len)
{
	size_t n = in_len + filler, i, off;
	uint8_t *m = calloc(1, n < SMB2_HEADER_SIZE + PDU_READ_RSP_FIXED ?
			    SMB2_HEADER_SIZE + PDU_READ_RSP_FIXED : n);

	if (!m)
		return NULL;
	memcpy(m, in, in_len);
	for (i = in_len; i < n; i++)
		m[i] = (uint8_t)(i * 31 + 7);
	if (edits & EDIT_HEADER) {
		if (n < SMB2_HEADER_SIZE + PDU_READ_RSP_FIXED)
			n = SMB2_HEADER_SIZE + PDU_READ_RSP_FIXED;
		le32_put(m, SMB2_PROTOCOL_ID);
		le16_put(m + 4, SMB2_HEADER_SIZE);
		le32_put(m + SMB2_HDR_STATUS, 0);
		le16_put(m + SMB2_HDR_COMMAND, SMB2_READ);
		le32_put(m + SMB2_HDR_FLAGS, SMB2_FLAGS_SERVER_TO_REDIR | (sign ? SMB2_FLAGS_SIGNED : 0));
		le32_put(m + SMB2_HDR_NEXT_COMMAND, 0);
		le64_put(m + SMB2_HDR_SESSION_ID, SESSION_ID);
		le16_put(m + SMB2_HEADER_SIZE, 17);	/* READ response StructureSize */
	}
	if (edits & EDIT_MID && n >= SMB2_HEADER_SIZE)
		le64_put(m + SMB2_HDR_MESSAGE_ID, mid);
	if (edits & EDIT_LENGTH && n >= SMB2_HEADER_SIZE + PDU_READ_RSP_FIXED) {
		off = m[SMB2_HEADER_SIZE + 2];
		le32_put(m + SMB2_HEADER_SIZE + 4, off <= n ? (uint32_t)(n - off) : 0);
	}
	*len = n;
	return m;
}

/* What was sent, framed: signed or sealed as the session does it. */
static uint8_t *protect(const struct conn_security *sec, uint8_t *m, size_t n, size_t *flen)
{
	static const uint8_t nonce[16] = { 0x42, 0x43 };
	size_t body = sec->encrypt ? SMB2_TRANSFORM_HEADER_SIZE + n : n;
	uint8_t *f = malloc(4 + body);

	if (!f)
		return NULL;
	f[0] = 0;
	f[1] = (uint8_t)(body >> 16);
	f[2] = (uint8_t)(body >> 8);
	f[3] = (uint8_t)body;
	if (sec->encrypt) {
		if (smb2_encrypt(sec->cipher, sec->enc_key, SESSION_ID, nonce, m, n, f + 4) != 0) {
			free(f);
			return NULL;
		}
	} else {
		if (sec->sign && n >= SMB2_HEADER_SIZE && (le32_get(m + SMB2_HDR_FLAGS) & SMB2_FLAGS_SIGNED))
			(void)smb2_sign(sec->sign_alg, sec->sign_key, m, n);
		memcpy(f + 4, m, n);
	}
	*flen = 4 + body;
	return f;
}

/* The invariants, once the call has returned. */
static void check(const struct caller *k, const uint8_t *m, size_t n, bool altered)
{
	size_t off;

	if (k->ret != 0)
		return;		/* in_used means something only on success */
	if (altered)
		abort();	/* a forged message was accepted */
	if (k->io.in_used) {
		/* header and fixed body in rsp, data in the destination */
		if (k->io.in_got > k->cap || k->rsp.len < SMB2_HEADER_SIZE + PDU_READ_RSP_FIXED ||
		    memcmp(k->rsp.buf, m, SMB2_HEADER_SIZE + PDU_READ_RSP_FIXED) != 0)
			abort();
		off = m[SMB2_HEADER_SIZE + 2];
		if (off + k->io.in_got != n || memcmp(k->dst, m + off, k->io.in_got) != 0)
			abort();
	} else if (k->rsp.len > n || memcmp(k->rsp.buf + SMB2_HDR_MESSAGE_ID, m + SMB2_HDR_MESSAGE_ID,
					    k->rsp.len - SMB2_HDR_MESSAGE_ID) != 0) {
		/* Whole: a prefix of what was sent (a chain's first
		 * message).  Status and flags may be rewritten for an
		 * expired session's chain, hence from MessageId on. */
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t caps[4] = { 16 * 1024, 64 * 1024, 300 * 1024, 1 << 20 };
	struct conn_opts o = { .host = "127.0.0.1", .connect_timeout_ms = 2000,
			       .request_timeout_ms = 5000, .cancel_fd = -1 };
	struct conn_info info = { .dialect = SMB2_DIALECT_311, .max_read = 1 << 20,
				  .max_write = 1 << 20, .max_transact = 65536,
				  .server_capabilities = SMB2_GLOBAL_CAP_LARGE_MTU };
	struct conn_security sec = { .session_id = SESSION_ID, .have_sign_key = true };
	struct caller k = { 0 };
	char err[CONN_ERRLEN];
	uint8_t *m = NULL, *f = NULL;
	size_t n = 0, flen = 0, flip;
	unsigned edits;
	pthread_t t;
	uint64_t mid;
	int lfd, s;

	if (size < IN_HEAD)
		return 0;
	sec.sign = modes[data[0] % NMODES].sign;
	sec.encrypt = modes[data[0] % NMODES].encrypt;
	sec.sign_alg = modes[data[0] % NMODES].alg;
	sec.cipher = modes[data[0] % NMODES].cipher;
	memcpy(sec.sign_key, key, sizeof(sec.sign_key));
	memcpy(sec.enc_key, key, sizeof(sec.enc_key));
	memcpy(sec.dec_key, key, sizeof(sec.dec_key));
	edits = data[1];
	k.cap = caps[data[4] % 4];
	k.dst = malloc(k.cap);
	if (!k.dst)
		return 0;
	lfd = listener(&o.port);
	if (conn_open(&o, &k.c, err) != 0)
		abort();
	s = accept(lfd, NULL, NULL);
	if (s < 0)
		abort();
	conn_set_negotiated(k.c, &info);
	conn_set_security(k.c, &sec);
	k.sign = sec.sign;
	k.io.in = k.dst;
	k.io.in_cap = k.cap;
	if (pthread_create(&t, NULL, call_read, &k) != 0)
		abort();

	mid = request_mid(s, &sec);
	m = build_message(data + IN_HEAD, size - IN_HEAD, (size_t)data[5] * 1024, edits, mid,
			  sec.sign, &n);
	/* A change to an unprotected message is just another message:
	 * made before framing, so that check() compares what was sent. */
	flip = (((size_t)data[3] << 8 | data[2]) * 257);
	if (m && n && (edits & EDIT_FLIP) && !sec.sign && !sec.encrypt)
		m[flip % n] ^= (uint8_t)(data[2] | 1);
	if (m)
		f = protect(&sec, m, n, &flen);
	if (f && flen > 4 && (edits & EDIT_FLIP) && (sec.sign || sec.encrypt))
		f[4 + flip % (flen - 4)] ^= (uint8_t)(data[2] | 1);
	if (f)
		send_frame(s, f, flen, &k);
	shutdown(s, SHUT_WR);	/* whatever the reader still waits for, it ends here */
	pthread_join(t, NULL);
	/* Only protected messages are forgeries when changed. */
	if (m)
		check(&k, m, n, f && (edits & EDIT_FLIP) && (sec.sign || sec.encrypt));
	if (k.ret == 0)
		conn_msg_free(&k.rsp);
	conn_put(k.c);
	close(s);
	free(f);
	free(m);
	free(k.dst);
	return 0;
}
