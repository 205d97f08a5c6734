/* libFuzzer target: the other responses the client core reads: header,
 * ERROR, TREE_CONNECT, IOCTL with VALIDATE_NEGOTIATE_INFO output, and the
 * empty bodies of LOGOFF / TREE_DISCONNECT / ECHO. */
#include "config.h"

#include "pdu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smb2_hdr h;
	struct tree_connect_rsp t;
	struct ioctl_rsp io;
	struct validate_negotiate_rsp v;

	(void)pdu_hdr_dec(data, size, &h);
	(void)pdu_error_dec(data, size);
	(void)pdu_empty_dec(data, size);
	(void)pdu_tree_connect_dec(data, size, &t);
	if (pdu_ioctl_dec(data, size, &io) == 0 && io.output_len)
		(void)pdu_validate_negotiate_dec(io.output, io.output_len, &v);
	return 0;
}
