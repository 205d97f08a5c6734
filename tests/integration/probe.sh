#!/usr/bin/env bash
# smbfuse --probe against every rig configuration: the dialect and the
# protections each configuration implies, and the errors a user can act on.
. "$(dirname "$0")/lib.sh"
need_root "starts smbd"
need_cmd smbd

rig_start default
probe
check "default: 3.1.1" has dialect 3.1.1
check "default: preauth integrity" has secure_negotiate preauth-integrity
check "default: named user" has session "ntlmssp WORKGROUP\\$RIG_USER"
check "default: no signing required" has signing none
check "default: the server offers multichannel" has multichannel yes
check "default: its interfaces are listed (the rig listens on 127.0.0.1 and ::1)" \
	eval 'has interface "127.0.0.1 (1 Gbit/s)" && has interface "::1 (1 Gbit/s)"'
probe sign
check "default+sign: signing on (GMAC)" has signing AES-128-GMAC
probe seal
check "default+seal: encrypted" has encryption AES-128-GCM
for v in 2.1 3.0 3.02; do
	probe "vers=$v"
	want=$v; [ "$v" = 3.02 ] && want=3.0.2
	check "default+vers=$v: $want" has dialect "$want"
	check "default+vers=$v: validated" has secure_negotiate validated
done
probe "vers=2.1"
check "vers=2.1: no multichannel line (3.x only)" bash -c "! grep -q '^multichannel:' <<<\"\$1\"" _ "$PROBE_OUT"
probe "vers=3.0,seal"
check "default+vers=3.0,seal: AES-128-CCM" has encryption AES-128-CCM
probe nosecurenegotiate,vers=3.0
check "nosecurenegotiate: disabled" has secure_negotiate disabled
PROBE_HOST='[::1]' probe
check "IPv6 [::1]" has dialect 3.1.1
probe "username=$RIG_USER,password=wrong"
check "wrong password: LOGON_FAILURE named" failed_with "wrong user name or password"
RIG_SHARE=nosuch probe
check "unknown share named" failed_with "share 'nosuch' does not exist"
probe "bogus_option"
check "unknown option named" failed_with "unknown option 'bogus_option'"
PROBE_PORT=1 probe
check "closed port" failed_with "refused"
PROBE_HOST=no-such-host.invalid probe
check "unresolvable name" failed_with "cannot resolve server name"
rig_stop

rig_start smb30
probe
check "smb30: 3.0" has dialect 3.0
check "smb30: validated" has secure_negotiate validated
probe seal
check "smb30+seal: AES-128-CCM" has encryption AES-128-CCM
probe vers=3.1.1
check "smb30+vers=3.1.1: no common dialect" failed_with "supports none of the dialects"
rig_stop

rig_start smb302
probe
check "smb302: 3.0.2 validated" has dialect 3.0.2
check "smb302: validated" has secure_negotiate validated
rig_stop

rig_start smb21
probe
check "smb21: 2.1" has dialect 2.1
check "smb21: validated (3.x was offered)" has secure_negotiate validated
probe seal
check "smb21+seal: encryption impossible, said so" failed_with "encryption was required (seal)"
probe sign
check "smb21+sign: HMAC-SHA256" has signing HMAC-SHA256
rig_stop

rig_start smb202
probe vers=2.0
check "smb202: 2.0.2" has dialect 2.0.2
probe
check "smb202 without vers=2.0: no common dialect" failed_with "supports none of the dialects"
rig_stop

rig_start signing
probe
check "signing: every request signed" has signing AES-128-GMAC
probe vers=3.0
check "signing+vers=3.0: AES-128-CMAC" has signing AES-128-CMAC
probe vers=2.1
check "signing+vers=2.1: HMAC-SHA256" has signing HMAC-SHA256
rig_stop

rig_start encrypt
probe
check "encrypt: encryption on" has encryption AES-128-GCM
probe vers=3.0
check "encrypt+vers=3.0: AES-128-CCM" has encryption AES-128-CCM
rig_stop

# Each cipher and signing algorithm, as the server's choice forces it.
for alg in AES-128-GCM AES-128-CCM AES-256-GCM AES-256-CCM; do
	SMBRIG_GLOBAL="server smb3 encryption algorithms = $alg" rig_start encrypt
	probe
	check "encrypt, server offers only $alg: negotiated and used" has encryption "$alg"
	rig_stop
done
for alg in AES-128-CMAC HMAC-SHA256; do
	SMBRIG_GLOBAL="server smb3 signing algorithms = $alg" rig_start signing
	probe
	check "signing, server offers only $alg: negotiated and used" has signing "$alg"
	rig_stop
done

rig_start guest
probe sec=none
check "guest: anonymous session" has session anonymous
check "guest: validation skipped or preauth" has dialect 3.1.1
probe "sec=none,vers=3.0"
check "guest+vers=3.0: skipped-guest" has secure_negotiate skipped-guest
rig_stop

rig_start smb1only
probe
check "smb1only: SMB1 error" failed_with "only offers SMB1"
rig_stop

done_testing
