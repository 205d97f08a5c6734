#!/usr/bin/env python3
"""smbtamper - a TCP proxy that alters real SMB2 traffic, for tests.

    smbtamper.py --target-port PORT --mode MODE [--target-host 127.0.0.1]

Listens on 127.0.0.1 at a free port, prints "PORT <n>" on stdout once it
listens, and forwards every connection to the target, changing frames as
MODE says.  It stops by itself after --lifetime seconds (default 120) and
only ever connects to the loopback target it was given.

Modes (each acts on the first matching message of each connection):
  pass                 forward unchanged
  strip3x              remove the 3.x dialects from the client's NEGOTIATE
  clear-signing-req    clear SIGNING_REQUIRED in the server's NEGOTIATE response
  clear-caps           clear the LEASING and ENCRYPTION bits in the server's
                       NEGOTIATE response capabilities
  alter-guid           change one byte of the server's ServerGuid
  strip-validate-sig   remove the signature from the VALIDATE_NEGOTIATE_INFO
                       response (clear SIGNED, zero the signature)
  validate-denied      answer VALIDATE_NEGOTIATE_INFO with an unsigned
                       STATUS_ACCESS_DENIED error response
  flip-signed:CMD      flip the last byte of the first signed response to
                       command CMD (a number, e.g. 8 for READ, 3 TREE_CONNECT)
  flip-sealed:N        flip the last byte of the first encrypted (transform)
                       frame from the server longer than N bytes
  drop-ap-rep          replace the security buffer of the first successful
                       SESSION_SETUP response with a bare SPNEGO
                       accept-completed (a Kerberos server that never proves
                       its identity)
  close-after:N        close both sides after forwarding N server frames
  zero-credits         grant no credits in any response after NEGOTIATE
  lose-answer:CMD      once in the proxy's life (and only after --arm-file
                       exists), close the connection instead of forwarding
                       a response frame holding a message of command CMD:
                       the server did the work, the client never hears it;
                       CMD,CMD,...: a frame holding exactly that compound
  cut-answer:CMD       once in the proxy's life (and only after --arm-file
                       exists), forward only the first half of a response
                       frame holding a message of command CMD, then
                       nothing more from the server on that connection
                       (its frames are read and dropped) while it stays
                       open: a link that died in the middle of a frame
  hold-request:CMD:S   once in the proxy's life (and only after --arm-file
                       exists), keep a request frame holding a message of
                       command CMD for S seconds while the connection's
                       other frames pass: the server gets it after requests
                       the client sent later (SMB2 allows that order)

--arm-file PATH: lose-answer, cut-answer and hold-request act only once
PATH exists.
--dump DIR writes every frame as forwarded, as DIR/<conn>-<n>-<c|s>.bin
(c: from the client, s: from the server), for making golden test data.
"""
import argparse
import os
import select
import socket
import struct
import sys
import threading
import time

SMB2_MAGIC = b"\xfeSMB"
FLAGS_SIGNED = 0x8
FLAGS_SERVER_TO_REDIR = 0x1
NEGOTIATE, SESSION_SETUP, TREE_CONNECT, IOCTL = 0, 1, 3, 11
# NegTokenResp { negState accept-completed }, nothing else (RFC 4178 4.2.2)
SPNEGO_ACCEPT_COMPLETED = bytes.fromhex("a1073005a0030a0100")
FSCTL_VALIDATE_NEGOTIATE_INFO = 0x00140204
STATUS_ACCESS_DENIED = 0xC0000022


def read_frame(sock):
    hdr = b""
    while len(hdr) < 4:
        chunk = sock.recv(4 - len(hdr))
        if not chunk:
            return None
        hdr += chunk
    n = struct.unpack(">I", hdr)[0] & 0xFFFFFF
    body = bytearray()
    while len(body) < n:
        chunk = sock.recv(min(1 << 20, n - len(body)))
        if not chunk:
            return None
        body += chunk
    return body


def send_frame(sock, body):
    sock.sendall(struct.pack(">I", len(body)) + bytes(body))


class Tamper:
    """Per-connection state: which tampering has been done."""

    def __init__(self, mode):
        self.mode = mode
        self.done = False
        self.server_frames = 0
        self.validate_mid = None

    # --- client -> server -------------------------------------------------
    def from_client(self, f):
        if f[:4] != SMB2_MAGIC:
            return f
        cmd = struct.unpack_from("<H", f, 12)[0]
        mid = struct.unpack_from("<Q", f, 24)[0]
        if self.mode == "strip3x" and cmd == NEGOTIATE and not self.done:
            count = struct.unpack_from("<H", f, 66)[0]
            dialects = [struct.unpack_from("<H", f, 100 + 2 * i)[0] for i in range(count)]
            keep = [d for d in dialects if d < 0x0300]
            struct.pack_into("<H", f, 66, len(keep))
            for i, d in enumerate(keep):
                struct.pack_into("<H", f, 100 + 2 * i, d)
            # The context offset/count field is ClientStartTime without 3.1.1.
            struct.pack_into("<Q", f, 64 + 28, 0)
            self.done = True
        if cmd == IOCTL and struct.unpack_from("<I", f, 64 + 4)[0] == FSCTL_VALIDATE_NEGOTIATE_INFO:
            self.validate_mid = mid
        return f

    # --- server -> client -------------------------------------------------
    def from_server(self, f):
        self.server_frames += 1
        m = self.mode
        if (m.startswith("flip-sealed:") and not self.done and f[:4] == b"\xfdSMB" and
                len(f) > int(m.split(":", 1)[1], 0)):
            f[-1] ^= 0x01
            self.done = True
        if f[:4] != SMB2_MAGIC:
            return f
        cmd = struct.unpack_from("<H", f, 12)[0]
        flags = struct.unpack_from("<I", f, 16)[0]
        mid = struct.unpack_from("<Q", f, 24)[0]
        m = self.mode
        if cmd == NEGOTIATE and not self.done:
            if m == "clear-signing-req":
                mode = struct.unpack_from("<H", f, 66)[0]
                struct.pack_into("<H", f, 66, mode & ~0x2)
                self.done = True
            elif m == "clear-caps":
                caps = struct.unpack_from("<I", f, 64 + 24)[0]
                struct.pack_into("<I", f, 64 + 24, caps & ~(0x2 | 0x40))
                self.done = True
            elif m == "alter-guid":
                f[64 + 8] ^= 0x5A
                self.done = True
        if cmd == IOCTL and mid == self.validate_mid and not self.done:
            if m == "strip-validate-sig":
                struct.pack_into("<I", f, 16, flags & ~FLAGS_SIGNED)
                f[48:64] = bytes(16)
                self.done = True
            elif m == "validate-denied":
                hdr = bytearray(f[:64])
                struct.pack_into("<I", hdr, 8, STATUS_ACCESS_DENIED)
                struct.pack_into("<I", hdr, 16, (flags | FLAGS_SERVER_TO_REDIR) & ~FLAGS_SIGNED)
                struct.pack_into("<I", hdr, 20, 0)
                hdr[48:64] = bytes(16)
                f = hdr + struct.pack("<HBBI", 9, 0, 0, 0) + b"\0"
                self.done = True
        if (m == "drop-ap-rep" and cmd == SESSION_SETUP and not self.done and
                struct.unpack_from("<I", f, 8)[0] == 0):
            # SESSION_SETUP response body: StructureSize, SessionFlags,
            # SecurityBufferOffset, SecurityBufferLength, then the buffer.
            body = bytearray(f[64:72])
            struct.pack_into("<HH", body, 4, 64 + 8, len(SPNEGO_ACCEPT_COMPLETED))
            f = bytearray(f[:64]) + body + SPNEGO_ACCEPT_COMPLETED
            self.done = True
        if m == "zero-credits" and cmd != NEGOTIATE:
            struct.pack_into("<H", f, 14, 0)
        if m.startswith("flip-signed:") and not self.done:
            want = int(m.split(":", 1)[1], 0)
            if cmd == want and flags & FLAGS_SIGNED:
                f[-1] ^= 0x01
                self.done = True
        return f


DUMP = {"dir": None, "conn": 0}
# lose-answer: armed by a file, done once for all connections.
LOSE = {"arm": None, "done": False, "lock": threading.Lock()}


def commands_in(f):
    """The commands of the messages chained in a plaintext frame."""
    cmds, off = [], 0
    while off + 64 <= len(f) and f[off:off + 4] == SMB2_MAGIC:
        cmds.append(struct.unpack_from("<H", f, off + 12)[0])
        nxt = struct.unpack_from("<I", f, off + 20)[0]
        if not nxt:
            break
        off += nxt
    return cmds


def lose_this(mode, f, kind="lose-answer:"):
    if not mode.startswith(kind):
        return False
    want = [int(c, 0) for c in mode.split(":")[1].split(",")]
    with LOSE["lock"]:
        if LOSE["done"] or not (LOSE["arm"] and os.path.exists(LOSE["arm"])):
            return False
        cmds = commands_in(f)
        if (want[0] not in cmds) if len(want) == 1 else (cmds != want):
            return False
        LOSE["done"] = True
        return True


def dump(conn, n, side, data):
    if DUMP["dir"]:
        with open(os.path.join(DUMP["dir"], "%d-%03d-%s.bin" % (conn, n, side)), "wb") as f:
            f.write(bytes(data))


def pump(client, server, mode, deadline):
    t = Tamper(mode)
    DUMP["conn"] += 1
    conn, n = DUMP["conn"], 0
    close_after = int(mode.split(":", 1)[1]) if mode.startswith("close-after:") else None
    cut = False
    socks = [client, server]
    to_server = threading.Lock()	# the pump and a held frame's timer both send

    def forward(f):
        with to_server:
            try:
                send_frame(server, f)
            except OSError:
                pass	# the connection is gone: so is the frame

    try:
        while time.time() < deadline:
            r, _, _ = select.select(socks, [], [], 1.0)
            for s in r:
                f = read_frame(s)
                if f is None:
                    return
                n += 1
                if s is client:
                    f = t.from_client(f)
                    dump(conn, n, "c", f)
                    if lose_this(mode, f, "hold-request:"):
                        held = float(mode.split(":")[2])
                        threading.Timer(held, forward, (f,)).start()
                        continue
                    forward(f)
                else:
                    if close_after is not None and t.server_frames >= close_after:
                        return
                    if lose_this(mode, f):
                        return
                    if cut:
                        continue	# the link is gone: nothing more arrives
                    if lose_this(mode, f, "cut-answer:"):
                        cut = True
                        raw = struct.pack(">I", len(f)) + bytes(f)
                        client.sendall(raw[:len(raw) // 2])
                        continue
                    f = t.from_server(f)
                    dump(conn, n, "s", f)
                    send_frame(client, f)
    except OSError:
        return
    finally:
        for s in socks:
            try:
                s.close()
            except OSError:
                pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target-host", default="127.0.0.1")
    ap.add_argument("--target-port", type=int, required=True)
    ap.add_argument("--mode", default="pass")
    ap.add_argument("--lifetime", type=float, default=120.0)
    ap.add_argument("--dump")
    ap.add_argument("--arm-file")
    a = ap.parse_args()
    DUMP["dir"] = a.dump
    LOSE["arm"] = a.arm_file
    # Loopback, or the AD DC rig's namespace (tests/rig/adrig: 10.99.N.1).
    if not (a.target_host.startswith("127.") or a.target_host == "::1" or
            a.target_host.startswith("10.99.")):
        sys.exit("smbtamper: only loopback and adrig (10.99.N.1) targets are allowed")
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("127.0.0.1", 0))
    lst.listen(16)
    print("PORT %d" % lst.getsockname()[1], flush=True)
    deadline = time.time() + a.lifetime
    lst.settimeout(1.0)
    while time.time() < deadline:
        try:
            c, _ = lst.accept()
        except socket.timeout:
            continue
        s = socket.create_connection((a.target_host, a.target_port), timeout=10)
        s.settimeout(None)
        c.settimeout(None)
        threading.Thread(target=pump, args=(c, s, a.mode, deadline), daemon=True).start()
    os._exit(0)


if __name__ == "__main__":
    main()
