#!/usr/bin/env bash
# The documentation: the man page renders without warnings, and every
# option smbfuse accepts is in it.
. "$(dirname "$0")/lib.sh"
need_cmd mandoc groff

man="$top_srcdir/man/smbfuse.1"
check "mandoc -T lint is clean" bash -c "[ -z \"\$(mandoc -T lint '$man' 2>&1)\" ]"
check "groff -wall renders without warnings" bash -c "[ -z \"\$(groff -wall -man -Tutf8 '$man' 2>&1 >/dev/null)\" ]"
# Every option name opts.c matches with key_is() must appear in the page.
missing=""
for opt in $(grep -o 'key_is(k, kl, "[a-z_]*")' "$top_srcdir/src/cmd/opts.c" | sed 's/.*"\(.*\)")/\1/' | sort -u); do
	case $opt in user|pass|dom|cred|blkdev|fsname|subtype|nounix|noserverino|serverino|workgroup|debug|max_read) continue ;; esac
	grep -q "$opt" "$man" || missing="$missing $opt"
done
check "every accepted option is documented${missing:+ (missing:$missing)}" test -z "$missing"
check "smbfuse --help names the usage line" bash -c "'$SMBFUSE' --help | grep -qF 'smbfuse //SERVER/SHARE[/PATH] MOUNTPOINT [-o OPTIONS]'"
check "smbfuse --version" bash -c "'$SMBFUSE' --version | grep -q '^smbfuse [0-9]'"
done_testing
