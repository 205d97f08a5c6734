/*
 * pdu.h - pure encoders and decoders for SMB2 messages.
 *
 * No I/O and no state: an encoder appends one message body to a writer
 * (the header is written separately by pdu_hdr_enc); a decoder reads one
 * whole received message (header at offset 0, since every offset field
 * in SMB2 counts from the start of the header) and returns 0 or -EPROTO.
 * Decoders check StructureSize first and every (offset, length) pair
 * against the message before touching the bytes it names; pointers they
 * return point into the message.
 */
#ifndef SMBFUSE_PDU_H
#define SMBFUSE_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smb2.h"

struct wr;

/* --- 2.2.1 header ---------------------------------------------------- */

struct smb2_hdr {
	uint16_t credit_charge;
	uint32_t status;		/* ChannelSequence/Reserved in requests */
	uint16_t command;
	uint16_t credits;		/* CreditRequest / CreditResponse */
	uint32_t flags;
	uint32_t next_command;
	uint64_t message_id;
	uint64_t async_id;		/* when SMB2_FLAGS_ASYNC_COMMAND */
	uint32_t tree_id;		/* when not async */
	uint64_t session_id;
};

void pdu_hdr_enc(struct wr *w, const struct smb2_hdr *h);
int pdu_hdr_dec(const uint8_t *msg, size_t len, struct smb2_hdr *h);

/* --- 2.2.2 ERROR response ------------------------------------------- */

int pdu_error_dec(const uint8_t *msg, size_t len);

/* --- 2.2.3 / 2.2.4 NEGOTIATE ----------------------------------------- */

struct negotiate_req {
	uint16_t security_mode;
	uint32_t capabilities;
	uint8_t client_guid[16];
	const uint16_t *dialects;
	int ndialects;
	/* Negotiate contexts: sent when 3.1.1 is among the dialects. */
	uint8_t salt[32];
	const uint16_t *ciphers;
	int nciphers;
	const uint16_t *sign_algs;
	int nsign_algs;
	const char *netname;		/* server name as the user gave it */
};

/* Appends the body; msg_start is where this message's header begins in w. */
int pdu_negotiate_enc(struct wr *w, size_t msg_start, const struct negotiate_req *q);

struct negotiate_rsp {
	uint16_t security_mode;
	uint16_t dialect;
	uint8_t server_guid[16];
	uint32_t capabilities;
	uint32_t max_transact, max_read, max_write;
	uint64_t system_time;
	const uint8_t *secbuf;
	size_t secbuf_len;
	/* 3.1.1 negotiate contexts (each at most once) */
	uint16_t ncontexts;
	bool has_preauth;
	uint16_t preauth_alg;
	bool has_cipher;
	uint16_t cipher;		/* 0: the server chose none of ours */
	bool has_signing;
	uint16_t sign_alg;
};

int pdu_negotiate_dec(const uint8_t *msg, size_t len, struct negotiate_rsp *p);

/* --- 2.2.5 / 2.2.6 SESSION_SETUP, 2.2.7 LOGOFF ---------------------- */

struct session_setup_req {
	uint8_t flags;
	uint8_t security_mode;
	uint32_t capabilities;
	uint64_t previous_session_id;
	const uint8_t *secbuf;
	size_t secbuf_len;
};

int pdu_session_setup_enc(struct wr *w, size_t msg_start, const struct session_setup_req *q);

struct session_setup_rsp {
	uint16_t session_flags;
	const uint8_t *secbuf;
	size_t secbuf_len;
};

int pdu_session_setup_dec(const uint8_t *msg, size_t len, struct session_setup_rsp *p);

/* The StructureSize-9 body with one output buffer that QUERY_INFO and
 * QUERY_DIRECTORY responses share. */
int pdu_out_buffer_dec(const uint8_t *msg, size_t len, const uint8_t **out, size_t *n);

/* LOGOFF, TREE_DISCONNECT and ECHO share one 4-byte body. */
void pdu_empty_enc(struct wr *w);
int pdu_empty_dec(const uint8_t *msg, size_t len);

/* --- 2.2.9 / 2.2.10 TREE_CONNECT ------------------------------------- */

/* path is the UNC "\\server\share" in UTF-8. */
int pdu_tree_connect_enc(struct wr *w, size_t msg_start, const char *path);

struct tree_connect_rsp {
	uint8_t share_type;
	uint32_t share_flags;
	uint32_t capabilities;
	uint32_t maximal_access;
};

int pdu_tree_connect_dec(const uint8_t *msg, size_t len, struct tree_connect_rsp *p);

/* --- 2.2.31 / 2.2.32 IOCTL ------------------------------------------- */

struct ioctl_req {
	uint32_t ctl_code;
	uint8_t file_id[16];
	const uint8_t *input;
	size_t input_len;
	uint32_t max_output;
	uint32_t flags;			/* SMB2_0_IOCTL_IS_FSCTL */
};

int pdu_ioctl_enc(struct wr *w, size_t msg_start, const struct ioctl_req *q);

struct ioctl_rsp {
	uint32_t ctl_code;
	uint8_t file_id[16];
	const uint8_t *output;
	size_t output_len;
};

int pdu_ioctl_dec(const uint8_t *msg, size_t len, struct ioctl_rsp *p);

/* 2.2.31.4 VALIDATE_NEGOTIATE_INFO request input, and 2.2.32.6 its
 * 24-byte response. */
int pdu_validate_negotiate_enc(struct wr *w, uint32_t capabilities, const uint8_t guid[16],
			       uint16_t security_mode, const uint16_t *dialects, int n);

struct validate_negotiate_rsp {
	uint32_t capabilities;
	uint8_t guid[16];
	uint16_t security_mode;
	uint16_t dialect;
};

int pdu_validate_negotiate_dec(const uint8_t *out, size_t len, struct validate_negotiate_rsp *p);

/* 2.2.32.5 NETWORK_INTERFACE_INFO: the FSCTL_QUERY_NETWORK_INTERFACE_INFO
 * response, one entry per server address. */
#define NETIF_CAP_RSS	0x00000001u
#define NETIF_CAP_RDMA	0x00000002u
/* No server has this many addresses worth a channel; more are ignored. */
#define NETIF_MAX	64

struct netif {
	uint32_t if_index;
	uint32_t capability;		/* NETIF_CAP_* */
	uint64_t link_speed;		/* bits per second */
	int family;			/* AF_INET, AF_INET6, or 0 for another */
	uint8_t addr[16];		/* network order: 4 bytes for AF_INET */
	uint32_t scope_id;		/* AF_INET6 */
};

/* The entries of out (the IOCTL's output) into ifs, at most max of
 * them; *n says how many.  -EPROTO for a malformed list. */
int pdu_netif_dec(const uint8_t *out, size_t len, struct netif *ifs, size_t max, size_t *n);

/* --- FileId ------------------------------------------------------------ */

struct smb2_fid {
	uint64_t persistent;
	uint64_t volatile_;
};

/* The FileId of a related compound request. */
extern const struct smb2_fid smb2_fid_related;

/* Put fid into the FileId field of a request built already (msg is its
 * header; CLOSE, FLUSH, READ, WRITE, LOCK, IOCTL, QUERY_DIRECTORY,
 * CHANGE_NOTIFY, QUERY_INFO, SET_INFO): a request sent again after a
 * reconnect names the handle as it is now.  -EINVAL for another command
 * or a message too short. */
int pdu_patch_fid(uint8_t *msg, size_t len, struct smb2_fid fid);

/* --- 2.2.13 / 2.2.14 CREATE ------------------------------------------ */

struct create_req {
	uint8_t oplock;			/* SMB2_OPLOCK_LEVEL_* */
	uint32_t access;
	uint32_t attributes;
	uint32_t share;
	uint32_t disposition;
	uint32_t options;
	const char *name;		/* UTF-8, '\'-separated, "" for the root */
	/* A lease request (oplock == LEASE): RqLs context, version 1. */
	const uint8_t *lease_key;	/* 16 bytes, or NULL */
	uint32_t lease_state;
	/* A durable handle: asked for (DHnQ, MS-SMB2 2.2.13.2.3; DH2Q,
	 * 2.2.13.2.11 with create_guid and durable_timeout_ms), or reclaimed
	 * after a reconnect (DHnC 2.2.13.2.4, DH2C 2.2.13.2.12: reclaim_fid,
	 * and create_guid for v2). */
	enum { DURABLE_NONE, DURABLE_V1, DURABLE_V2 } durable;
	bool reclaim;
	struct smb2_fid reclaim_fid;
	const uint8_t *create_guid;	/* 16 bytes, v2 */
	uint32_t durable_timeout_ms;	/* v2 request; 0 lets the server choose */
};

int pdu_create_enc(struct wr *w, size_t msg_start, const struct create_req *q);

/* The times, sizes and attributes that CREATE, CLOSE with POSTQUERY,
 * FileNetworkOpenInformation and directory entries all carry. */
struct smb2_attrs {
	uint64_t creation_time, access_time, write_time, change_time;
	uint64_t allocation_size, end_of_file;
	uint32_t attributes;
};

struct create_rsp {
	uint8_t oplock;
	uint32_t create_action;
	struct smb2_attrs a;
	struct smb2_fid fid;
	bool has_lease;
	uint32_t lease_state;
	uint8_t lease_key[16];
	/* The server granted a durable handle (a DHnQ or DH2Q answer). */
	bool durable;
	uint32_t durable_timeout_ms;	/* v2 only */
};

int pdu_create_dec(const uint8_t *msg, size_t len, struct create_rsp *p);

/* --- 2.2.23.2 Lease Break Notification, 2.2.24.2 / 2.2.25.2 Lease Break
 * Acknowledgment and Response --------------------------------------- */

#define SMB2_LEASE_READ_CACHING		0x01u
#define SMB2_LEASE_HANDLE_CACHING	0x02u
#define SMB2_LEASE_WRITE_CACHING	0x04u
#define SMB2_NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED 0x01u

struct lease_break {
	uint32_t flags;
	uint8_t key[16];
	uint32_t current_state, new_state;
};

/* -EPROTO for anything but a lease break notification (an oplock break
 * has StructureSize 24). */
int pdu_lease_break_dec(const uint8_t *msg, size_t len, struct lease_break *p);
int pdu_lease_ack_enc(struct wr *w, const uint8_t key[16], uint32_t state);
/* The response to an acknowledgment: the same shape. */
int pdu_lease_ack_dec(const uint8_t *msg, size_t len, uint8_t key[16], uint32_t *state);

/* --- 2.2.15 / 2.2.16 CLOSE ------------------------------------------- */

int pdu_close_enc(struct wr *w, struct smb2_fid fid, uint16_t flags);

struct close_rsp {
	uint16_t flags;
	struct smb2_attrs a;		/* valid with SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB */
};

int pdu_close_dec(const uint8_t *msg, size_t len, struct close_rsp *p);

/* --- 2.2.26 / 2.2.27 LOCK ---------------------------------------------- */

#define SMB2_LOCKFLAG_SHARED_LOCK	0x01u
#define SMB2_LOCKFLAG_EXCLUSIVE_LOCK	0x02u
#define SMB2_LOCKFLAG_UNLOCK		0x04u
#define SMB2_LOCKFLAG_FAIL_IMMEDIATELY	0x10u

struct smb2_lock {
	uint64_t offset, length;
	uint32_t flags;			/* SMB2_LOCKFLAG_* */
};

/* LockSequence (MS-SMB2 3.2.4.19): a LOCK sent again after a lost
 * connection with the same value is recognised by the server as one it
 * may have done already, and not done twice. */
#define SMB2_LOCK_SEQ_BUCKETS 64
uint32_t pdu_lock_seq(unsigned index, unsigned number);
int pdu_lock_enc(struct wr *w, struct smb2_fid fid, uint32_t seq, const struct smb2_lock *locks,
		 int n);
int pdu_lock_dec(const uint8_t *msg, size_t len);

/* --- 2.2.30 CANCEL ------------------------------------------------------ */

void pdu_cancel_enc(struct wr *w);

/* --- 2.2.17 FLUSH, 2.2.19-2.2.22 READ and WRITE ------------------------- */

int pdu_flush_enc(struct wr *w, struct smb2_fid fid);

int pdu_read_enc(struct wr *w, struct smb2_fid fid, uint64_t offset, uint32_t length);

/* The data of a READ response (a pointer into msg). */
int pdu_read_dec(const uint8_t *msg, size_t len, const uint8_t **data, size_t *n);

/* The fixed part of a READ response: the offset of its data from the
 * header's start (as sent: the caller checks it) and the data's length.
 * msg needs only those 80 bytes.  pdu_read_dec is this and the data. */
#define PDU_READ_RSP_FIXED 16
int pdu_read_head_dec(const uint8_t *msg, size_t len, size_t *data_off, uint32_t *count);

/* WRITE request with its n data bytes, copied from data; with data
 * NULL only the header and body, the data to follow out of line. */
int pdu_write_enc(struct wr *w, size_t msg_start, struct smb2_fid fid, uint64_t offset,
		  const void *data, uint32_t n);

int pdu_write_dec(const uint8_t *msg, size_t len, uint32_t *count);

/* --- 2.2.37-2.2.40 QUERY_INFO, SET_INFO ----------------------------------- */

struct query_info_req {
	uint8_t info_type;
	uint8_t info_class;
	uint32_t output_len;
	uint32_t additional;
	struct smb2_fid fid;
	const uint8_t *input;
	size_t input_len;
};

int pdu_query_info_enc(struct wr *w, size_t msg_start, const struct query_info_req *q);

/* The output buffer of a QUERY_INFO response (pointer into msg). */
int pdu_query_info_dec(const uint8_t *msg, size_t len, const uint8_t **out, size_t *n);

int pdu_set_info_enc(struct wr *w, size_t msg_start, uint8_t info_type, uint8_t info_class,
		     struct smb2_fid fid, const uint8_t *buf, size_t n);

int pdu_set_info_dec(const uint8_t *msg, size_t len);

/* --- MS-FSCC information structures ------------------------------------- */

/* FileAllInformation (MS-FSCC 2.4.2), the parts smbfuse uses. */
struct file_all_info {
	struct smb2_attrs a;
	uint32_t nlink;
	bool delete_pending;
	bool directory;
	uint64_t index_number;		/* FileInternalInformation */
	uint32_t ea_size;
};

int file_all_info_dec(const uint8_t *buf, size_t n, struct file_all_info *f);

/* FileFsFullSizeInformation (MS-FSCC 2.5.4) */
struct fs_full_size_info {
	uint64_t total_units, caller_avail_units, actual_avail_units;
	uint32_t sectors_per_unit, bytes_per_sector;
};

int fs_full_size_info_dec(const uint8_t *buf, size_t n, struct fs_full_size_info *f);

/* FileRenameInformation / FileLinkInformation, type 2 (MS-FSCC 2.4.37.2):
 * target name in UTF-8, relative to the share root. */
int file_rename_info_enc(struct wr *w, bool replace, const char *target);

/* --- 2.2.33 / 2.2.34 QUERY_DIRECTORY -------------------------------------- */

int pdu_query_directory_enc(struct wr *w, size_t msg_start, struct smb2_fid fid,
			    uint8_t flags, const char *pattern, uint32_t output_len);

int pdu_query_directory_dec(const uint8_t *msg, size_t len, const uint8_t **out, size_t *n);

/* One FileIdFullDirectoryInformation entry (MS-FSCC 2.4.18). */
struct smb2_dirent {
	struct smb2_attrs a;
	uint64_t file_id;		/* the inode number on the server */
	uint32_t reparse_tag;		/* EaSize holds it for reparse points */
	const uint8_t *name;		/* UTF-16LE, not terminated */
	size_t name_len;		/* bytes */
};

/* Read the next entry of a QUERY_DIRECTORY output buffer: 1 if one was
 * read, 0 at the end, -EPROTO if malformed.  *pos starts at 0. */
int dirent_next(const uint8_t *buf, size_t n, size_t *pos, struct smb2_dirent *e);

#endif
