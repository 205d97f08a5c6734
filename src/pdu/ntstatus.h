/*
 * ntstatus.h - the NTSTATUS codes smbfuse names, and their errno values.
 *
 * The server's status travels unchanged in each response; only client.c
 * turns it into an errno, after handling the statuses whose meaning
 * depends on context (END_OF_FILE on read is a short read, NO_MORE_FILES
 * ends a listing, PENDING keeps waiting).  Codes are spelled as in
 * MS-ERREF 2.3.1.
 */
#ifndef SMBFUSE_NTSTATUS_H
#define SMBFUSE_NTSTATUS_H

#include <stddef.h>
#include <stdint.h>

#define STATUS_SUCCESS                                   0x00000000U
#define STATUS_PENDING                                   0x00000103U
#define STATUS_REPARSE                                   0x00000104U
#define STATUS_NOTIFY_CLEANUP                            0x0000010BU
#define STATUS_NOTIFY_ENUM_DIR                           0x0000010CU
#define STATUS_OBJECT_NAME_EXISTS                        0x40000000U
#define STATUS_BUFFER_OVERFLOW                           0x80000005U
#define STATUS_NO_MORE_FILES                             0x80000006U
#define STATUS_NO_MORE_EAS                               0x80000012U
#define STATUS_INVALID_EA_NAME                           0x80000013U
#define STATUS_EA_LIST_INCONSISTENT                      0x80000014U
#define STATUS_INVALID_EA_FLAG                           0x80000015U
#define STATUS_STOPPED_ON_SYMLINK                        0x8000002DU
#define STATUS_UNSUCCESSFUL                              0xC0000001U
#define STATUS_NOT_IMPLEMENTED                           0xC0000002U
#define STATUS_INVALID_INFO_CLASS                        0xC0000003U
#define STATUS_INFO_LENGTH_MISMATCH                      0xC0000004U
#define STATUS_ACCESS_VIOLATION                          0xC0000005U
#define STATUS_INVALID_HANDLE                            0xC0000008U
#define STATUS_INVALID_PARAMETER                         0xC000000DU
#define STATUS_NO_SUCH_DEVICE                            0xC000000EU
#define STATUS_NO_SUCH_FILE                              0xC000000FU
#define STATUS_INVALID_DEVICE_REQUEST                    0xC0000010U
#define STATUS_END_OF_FILE                               0xC0000011U
#define STATUS_MORE_PROCESSING_REQUIRED                  0xC0000016U
#define STATUS_NO_MEMORY                                 0xC0000017U
#define STATUS_ACCESS_DENIED                             0xC0000022U
#define STATUS_BUFFER_TOO_SMALL                          0xC0000023U
#define STATUS_OBJECT_TYPE_MISMATCH                      0xC0000024U
#define STATUS_OBJECT_NAME_INVALID                       0xC0000033U
#define STATUS_OBJECT_NAME_NOT_FOUND                     0xC0000034U
#define STATUS_OBJECT_NAME_COLLISION                     0xC0000035U
#define STATUS_OBJECT_PATH_INVALID                       0xC0000039U
#define STATUS_OBJECT_PATH_NOT_FOUND                     0xC000003AU
#define STATUS_OBJECT_PATH_SYNTAX_BAD                    0xC000003BU
#define STATUS_DATA_ERROR                                0xC000003EU
#define STATUS_SHARING_VIOLATION                         0xC0000043U
#define STATUS_QUOTA_EXCEEDED                            0xC0000044U
#define STATUS_EAS_NOT_SUPPORTED                         0xC000004FU
#define STATUS_EA_TOO_LARGE                              0xC0000050U
#define STATUS_NONEXISTENT_EA_ENTRY                      0xC0000051U
#define STATUS_NO_EAS_ON_FILE                            0xC0000052U
#define STATUS_FILE_LOCK_CONFLICT                        0xC0000054U
#define STATUS_LOCK_NOT_GRANTED                          0xC0000055U
#define STATUS_DELETE_PENDING                            0xC0000056U
#define STATUS_INVALID_OWNER                             0xC000005AU
#define STATUS_INVALID_PRIMARY_GROUP                     0xC000005BU
#define STATUS_NO_LOGON_SERVERS                          0xC000005EU
#define STATUS_PRIVILEGE_NOT_HELD                        0xC0000061U
#define STATUS_NO_SUCH_USER                              0xC0000064U
#define STATUS_WRONG_PASSWORD                            0xC000006AU
#define STATUS_LOGON_FAILURE                             0xC000006DU
#define STATUS_ACCOUNT_RESTRICTION                       0xC000006EU
#define STATUS_INVALID_LOGON_HOURS                       0xC000006FU
#define STATUS_INVALID_WORKSTATION                       0xC0000070U
#define STATUS_PASSWORD_EXPIRED                          0xC0000071U
#define STATUS_ACCOUNT_DISABLED                          0xC0000072U
#define STATUS_NONE_MAPPED                               0xC0000073U
#define STATUS_INVALID_SECURITY_DESCR                    0xC0000079U
#define STATUS_RANGE_NOT_LOCKED                          0xC000007EU
#define STATUS_DISK_FULL                                 0xC000007FU
#define STATUS_FILE_INVALID                              0xC0000098U
#define STATUS_ALLOTTED_SPACE_EXCEEDED                   0xC0000099U
#define STATUS_INSUFFICIENT_RESOURCES                    0xC000009AU
#define STATUS_MEDIA_WRITE_PROTECTED                     0xC00000A2U
#define STATUS_IO_TIMEOUT                                0xC00000B5U
#define STATUS_FILE_IS_A_DIRECTORY                       0xC00000BAU
#define STATUS_NOT_SUPPORTED                             0xC00000BBU
#define STATUS_DUPLICATE_NAME                            0xC00000BDU
#define STATUS_BAD_NETWORK_PATH                          0xC00000BEU
#define STATUS_INVALID_NETWORK_RESPONSE                  0xC00000C3U
#define STATUS_NETWORK_NAME_DELETED                      0xC00000C9U
#define STATUS_NETWORK_ACCESS_DENIED                     0xC00000CAU
#define STATUS_BAD_DEVICE_TYPE                           0xC00000CBU
#define STATUS_BAD_NETWORK_NAME                          0xC00000CCU
#define STATUS_REQUEST_NOT_ACCEPTED                      0xC00000D0U
#define STATUS_NOT_SAME_DEVICE                           0xC00000D4U
#define STATUS_FILE_RENAMED                              0xC00000D5U
#define STATUS_INVALID_SERVER_STATE                      0xC00000DCU
#define STATUS_OPLOCK_NOT_GRANTED                        0xC00000E2U
#define STATUS_INVALID_OPLOCK_PROTOCOL                   0xC00000E3U
#define STATUS_INTERNAL_ERROR                            0xC00000E5U
#define STATUS_DIRECTORY_NOT_EMPTY                       0xC0000101U
#define STATUS_NOT_A_DIRECTORY                           0xC0000103U
#define STATUS_BAD_LOGON_SESSION_STATE                   0xC0000104U
#define STATUS_NAME_TOO_LONG                             0xC0000106U
#define STATUS_FILES_OPEN                                0xC0000107U
#define STATUS_TOO_MANY_OPENED_FILES                     0xC000011FU
#define STATUS_CANCELLED                                 0xC0000120U
#define STATUS_CANNOT_DELETE                             0xC0000121U
#define STATUS_FILE_DELETED                              0xC0000123U
#define STATUS_FILE_CLOSED                               0xC0000128U
#define STATUS_TIME_DIFFERENCE_AT_DC                     0xC0000133U
#define STATUS_INVALID_LEVEL                             0xC0000148U
#define STATUS_PIPE_BROKEN                               0xC000014BU
#define STATUS_LOGON_TYPE_NOT_GRANTED                    0xC000015BU
#define STATUS_ILLEGAL_CHARACTER                         0xC0000161U
#define STATUS_INVALID_DEVICE_STATE                      0xC0000184U
#define STATUS_TRUSTED_RELATIONSHIP_FAILURE              0xC000018DU
#define STATUS_ACCOUNT_EXPIRED                           0xC0000193U
#define STATUS_FS_DRIVER_REQUIRED                        0xC000019CU
#define STATUS_USER_SESSION_DELETED                      0xC0000203U
#define STATUS_INSUFF_SERVER_RESOURCES                   0xC0000205U
#define STATUS_INVALID_BUFFER_SIZE                       0xC0000206U
#define STATUS_CONNECTION_DISCONNECTED                   0xC000020CU
#define STATUS_CONNECTION_RESET                          0xC000020DU
#define STATUS_PASSWORD_MUST_CHANGE                      0xC0000224U
#define STATUS_NOT_FOUND                                 0xC0000225U
#define STATUS_RETRY                                     0xC000022DU
#define STATUS_ACCOUNT_LOCKED_OUT                        0xC0000234U
#define STATUS_CONNECTION_REFUSED                        0xC0000236U
#define STATUS_NETWORK_UNREACHABLE                       0xC000023CU
#define STATUS_HOST_UNREACHABLE                          0xC000023DU
#define STATUS_REQUEST_ABORTED                           0xC0000240U
#define STATUS_USER_MAPPED_FILE                          0xC0000243U
#define STATUS_PATH_NOT_COVERED                          0xC0000257U
#define STATUS_NOT_A_REPARSE_POINT                       0xC0000275U
#define STATUS_IO_REPARSE_DATA_INVALID                   0xC0000278U
#define STATUS_IO_REPARSE_TAG_NOT_HANDLED                0xC0000279U
#define STATUS_ENCRYPTION_FAILED                         0xC000028AU
#define STATUS_DECRYPTION_FAILED                         0xC000028BU
#define STATUS_NETWORK_SESSION_EXPIRED                   0xC000035CU
#define STATUS_DOWNGRADE_DETECTED                        0xC0000388U
#define STATUS_FILE_SYSTEM_LIMITATION                    0xC0000427U
#define STATUS_SERVER_UNAVAILABLE                        0xC0000466U
#define STATUS_FILE_NOT_AVAILABLE                        0xC0000467U
#define STATUS_FILE_TOO_LARGE                            0xC0000904U
#define STATUS_SMB_NO_PREAUTH_INTEGRITY_HASH_OVERLAP     0xC05D0000U

struct ntstatus_info {
	uint32_t code;
	int err;		/* positive errno; 0 for success codes */
	const char *name;
};

/* The table entry for code, or NULL if smbfuse does not know it. */
const struct ntstatus_info *ntstatus_lookup(uint32_t code);

/* "STATUS_ACCESS_DENIED", or "NTSTATUS 0x%08x" (in a static per-thread
 * buffer) for a code not in the table.  Never NULL. */
const char *ntstatus_name(uint32_t code);

/* Negative errno for a failure status: the table's value, -EIO for an
 * unknown code.  0 for success. */
int ntstatus_to_errno(uint32_t code);

/* The whole table, sorted by code (exposed for the unit tests). */
extern const struct ntstatus_info ntstatus_table[];
extern const size_t ntstatus_table_len;

#endif
