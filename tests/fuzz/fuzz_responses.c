/* libFuzzer target: every other response decoder that reads server
 * bytes: header, ERROR, TREE_CONNECT, IOCTL (+ VALIDATE_NEGOTIATE_INFO
 * and NETWORK_INTERFACE_INFO outputs), the empty bodies, CREATE (+ create contexts), CLOSE, READ,
 * WRITE, LOCK, QUERY_INFO (+ FileAllInformation, FileFsFullSizeInformation)
 * and QUERY_DIRECTORY (+ walking its entries). */
#include "config.h"

#include "pdu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smb2_hdr h;
	struct tree_connect_rsp t;
	struct ioctl_rsp io;
	struct validate_negotiate_rsp v;
	struct netif ifs[4];
	struct create_rsp cr;
	struct close_rsp cl;
	struct file_all_info fa;
	struct fs_full_size_info fs;
	struct smb2_dirent e;
	const uint8_t *out;
	size_t n, pos = 0;
	uint32_t count;

	(void)pdu_hdr_dec(data, size, &h);
	(void)pdu_error_dec(data, size);
	(void)pdu_empty_dec(data, size);
	(void)pdu_tree_connect_dec(data, size, &t);
	if (pdu_ioctl_dec(data, size, &io) == 0 && io.output_len) {
		(void)pdu_validate_negotiate_dec(io.output, io.output_len, &v);
		(void)pdu_netif_dec(io.output, io.output_len, ifs, 4, &n);
	}
	(void)pdu_create_dec(data, size, &cr);
	(void)pdu_close_dec(data, size, &cl);
	(void)pdu_read_dec(data, size, &out, &n);
	(void)pdu_write_dec(data, size, &count);
	(void)pdu_set_info_dec(data, size);
	(void)pdu_lock_dec(data, size);
	if (pdu_query_info_dec(data, size, &out, &n) == 0 && n) {
		(void)file_all_info_dec(out, n, &fa);
		(void)fs_full_size_info_dec(out, n, &fs);
		while (dirent_next(out, n, &pos, &e) == 1)
			;
	}
	return 0;
}
