#!/usr/bin/python3
"""Checks of the test rig itself, with impacket as the client.

  rig_check.py linkcut VETH SECONDS
      list the share, take VETH down for SECONDS with a request sent
      during the cut, list again: all on one TCP connection.
  rig_check.py hold-lock NAME SECONDS
      hold an exclusive lock on byte 2^64-2 of NAME (the one smbfuse
      takes around an O_APPEND write) for SECONDS, then release it.
  rig_check.py durable reset|restart [--lock]
      open a file with a durable v2 handle (batch oplock; with --lock
      also an exclusive byte-range lock), lose the connection, then
      reconnect the handle on a new one.  reset: this process kills its
      own connection with "ss -K" (the kernel sends the server an RST).
      restart: print RESTART and wait for a line on stdin, meanwhile
      the caller restarts the server.
  rig_check.py deny-writers NAME
      open NAME for reading while denying others write access (as many
      Windows programs open a file), print the outcome (OK or the
      status, e.g. STATUS_SHARING_VIOLATION), then read NAME through an
      open that denies nothing and print "SIZE n": the bytes it holds.

The server is the rig in the environment: RIG_ADDR, RIG_PORT, RIG_SHARE,
RIG_USER, RIG_PASSWORD.  Prints what it saw; exit 0 when the rig did
what the check expects (durable: the handle came back), 1 when not.
"""
import os
import subprocess
import sys
import threading
import time
import uuid

from impacket import smb3structs as s3
from impacket import nt_errors, smb3, smbconnection
from impacket.smbconnection import SMBConnection

# impacket raises either, depending on the layer.
SessionError = (smb3.SessionError, smbconnection.SessionError)

ENV = {k: os.environ[k] for k in
       ("RIG_ADDR", "RIG_PORT", "RIG_SHARE", "RIG_USER", "RIG_PASSWORD")}


def connect():
    conn = SMBConnection(ENV["RIG_ADDR"], ENV["RIG_ADDR"],
                         sess_port=int(ENV["RIG_PORT"]), timeout=30)
    conn.login(ENV["RIG_USER"], ENV["RIG_PASSWORD"], "WORKGROUP")
    return conn


def ip_link(veth, state):
    subprocess.run(["ip", "link", "set", veth, state], check=True)


def linkcut(veth, seconds):
    conn = connect()
    conn.listPath(ENV["RIG_SHARE"], "*")
    sock = conn.getSMBServer().get_socket()
    local = sock.getsockname()
    ip_link(veth, "down")
    restore = threading.Timer(seconds, ip_link, (veth, "up"))
    restore.start()
    try:
        # A request sent into the cut: held, retransmitted after "up".
        time.sleep(seconds * 2 / 3)
        t0 = time.monotonic()
        conn.listPath(ENV["RIG_SHARE"], "*")
        waited = time.monotonic() - t0
    finally:
        restore.join()
        ip_link(veth, "up")
    conn.listPath(ENV["RIG_SHARE"], "*")
    same = conn.getSMBServer().get_socket().getsockname() == local
    print(f"linkcut: answered after {waited:.1f} s, same connection: {same}")
    conn.logoff()
    return 0 if same else 1


def context(name, data):
    """One SMB2 create context (the only one: Next = 0)."""
    ctx = s3.SMB2CreateContext()
    ctx["NameOffset"] = 16
    ctx["NameLength"] = len(name)
    ctx["DataOffset"] = 24
    ctx["DataLength"] = len(data)
    ctx["Buffer"] = name + b"\0" * (8 - len(name)) + data
    return ctx


def contexts_of(resp):
    """The names of the create contexts in a CREATE response."""
    buf, names, off = resp["Buffer"], [], 0
    while off + 16 <= len(buf):
        nxt = int.from_bytes(buf[off:off + 4], "little")
        noff = int.from_bytes(buf[off + 4:off + 6], "little")
        nlen = int.from_bytes(buf[off + 6:off + 8], "little")
        names.append(buf[off + noff:off + noff + nlen].decode("latin-1"))
        if not nxt:
            break
        off += nxt
    return names


def create(smb, tid, name, ctx):
    """CREATE with a batch oplock and one context; (FileID, response)."""
    seen = {}
    recv = smb.recvSMB

    def keep(pid):
        seen["ans"] = recv(pid)
        return seen["ans"]
    smb.recvSMB = keep
    try:
        fid = smb.create(tid, name, s3.FILE_READ_DATA | s3.FILE_WRITE_DATA,
                         s3.FILE_SHARE_READ | s3.FILE_SHARE_WRITE,
                         s3.FILE_NON_DIRECTORY_FILE, s3.FILE_OVERWRITE_IF, 0x80,
                         oplockLevel=s3.SMB2_OPLOCK_LEVEL_BATCH,
                         createContexts=[ctx])
    finally:
        smb.recvSMB = recv
    return fid, s3.SMB2Create_Response(seen["ans"]["Data"])


def lock(smb, tid, fid, offset=0, length=10,
         flags=s3.SMB2_LOCKFLAG_EXCLUSIVE_LOCK | s3.SMB2_LOCKFLAG_FAIL_IMMEDIATELY):
    """A byte-range lock (by default exclusive, on bytes 0-9) or unlock
    (impacket's own lock() cannot encode its lock elements)."""
    el = s3.SMB2_LOCK_ELEMENT()
    el["Offset"], el["Length"] = offset, length
    el["Flags"] = flags
    req = s3.SMB2Lock()
    req["FileID"] = fid
    req["LockCount"] = 1
    req["Locks"] = el.getData()
    packet = smb.SMB_PACKET()
    packet["Command"] = s3.SMB2_LOCK
    packet["TreeID"] = tid
    packet["Data"] = req
    ans = smb.recvSMB(smb.sendSMB(packet))
    return ans.isValidAnswer(0)


def durable(mode, with_lock):
    name = f"durable-{os.getpid()}.dat"
    guid = uuid.uuid4().bytes
    data = b"durable " + guid.hex().encode()
    conn = connect()
    smb = conn.getSMBServer()
    tid = conn.connectTree(ENV["RIG_SHARE"])
    req = s3.SMB2_CREATE_DURABLE_HANDLE_REQUEST_V2()
    req["CreateGuid"] = guid
    fid, resp = create(smb, tid, name, context(b"DH2Q", req.getData()))
    granted = "DH2Q" in contexts_of(resp)
    print(f"durable: oplock {resp['OplockLevel']:#x}, handle "
          f"{'granted' if granted else 'not granted'}")
    smb.write(tid, fid, data, 0, len(data))
    if with_lock:
        print(f"durable: byte-range lock {'held' if lock(smb, tid, fid) else 'refused'}")
    local = smb.get_socket().getsockname()
    if mode == "reset":
        subprocess.run(["ss", "-K", "-t", "dst", ENV["RIG_ADDR"], "sport", "=", str(local[1])],
                       check=True, stdout=subprocess.DEVNULL)
        left = subprocess.run(["ss", "-Htn", "sport", "=", str(local[1])],
                              capture_output=True, text=True).stdout
        if left.strip():
            print(f"durable: ss -K left the connection: {left.strip()}")
            return 1
    else:
        print("RESTART", flush=True)
        sys.stdin.readline()
    # Let the server notice the loss before we ask for the handle.
    time.sleep(0.5)

    conn2 = connect()
    smb2 = conn2.getSMBServer()
    tid2 = conn2.connectTree(ENV["RIG_SHARE"])
    rc = s3.SMB2_CREATE_DURABLE_HANDLE_RECONNECT_V2()
    rc["FileID"] = s3.SMB2_FILEID(fid)
    rc["CreateGuid"] = guid
    ok = False
    try:
        fid2, _ = create(smb2, tid2, name, context(b"DH2C", rc.getData()))
        got = smb2.read(tid2, fid2, 0, len(data))
        ok = got == data
        print(f"durable: reconnected after {mode}, data {'intact' if ok else 'differs'}")
        smb2.close(tid2, fid2)
    except smb3.SessionError as e:
        code = e.get_error_code()   # smb3.create() raises smb3's kind
        why = nt_errors.ERROR_MESSAGES.get(code, (f"{code:#x}",))[0]
        print(f"durable: reconnect after {mode} refused: {why}")
    except Exception as e:      # the server dropped the connection
        print(f"durable: reconnect after {mode} failed: {e}")
        return 1
    try:
        conn2.deleteFile(ENV["RIG_SHARE"], name)
    except SessionError:
        pass
    conn2.logoff()
    return 0 if ok else 1


def hold_lock(name, seconds):
    """Hold the byte smbfuse locks around an O_APPEND write (2^64 - 2)
    for a while: an append through a mount then waits for it, and the
    server answers that LOCK with STATUS_PENDING first."""
    conn = connect()
    smb = conn.getSMBServer()
    tid = conn.connectTree(ENV["RIG_SHARE"])
    fid = conn.openFile(tid, name, desiredAccess=0x12019F, shareMode=7)
    if not lock(smb, tid, fid, offset=0xFFFFFFFFFFFFFFFE, length=1):
        print("could not take the lock")
        return 1
    print("LOCKED", flush=True)
    time.sleep(seconds)
    ok = lock(smb, tid, fid, offset=0xFFFFFFFFFFFFFFFE, length=1, flags=s3.SMB2_LOCKFLAG_UNLOCK)
    conn.closeFile(tid, fid)
    return 0 if ok else 1


def deny_writers(name):
    """A writer on another machine holds NAME open: the server breaks
    that client's handle lease and waits for the acknowledgement before
    it answers this open (refused, as the writer keeps its handle); what
    that client wrote before must be on the server by then."""
    conn = connect()
    tid = conn.connectTree(ENV["RIG_SHARE"])
    try:
        fid = conn.openFile(tid, name, desiredAccess=s3.FILE_READ_DATA,
                            shareMode=s3.FILE_SHARE_READ)
        conn.closeFile(tid, fid)
        print("OK")
    except SessionError as e:
        print(nt_errors.ERROR_MESSAGES.get(e.getErrorCode(), ("0x%x" % e.getErrorCode(),))[0])
    fid = conn.openFile(tid, name, desiredAccess=s3.FILE_READ_DATA, shareMode=7)
    size, off = 0, 0
    while True:
        data = conn.readFile(tid, fid, off, 1 << 16)
        if not data:
            break
        size += len(data)
        off += len(data)
    conn.closeFile(tid, fid)
    print("SIZE %d" % size)
    conn.logoff()
    return 0


def main(argv):
    if len(argv) == 3 and argv[0] == "linkcut":
        return linkcut(argv[1], float(argv[2]))
    if len(argv) == 2 and argv[0] == "deny-writers":
        return deny_writers(argv[1])
    if len(argv) == 3 and argv[0] == "hold-lock":
        return hold_lock(argv[1], float(argv[2]))
    if len(argv) in (2, 3) and argv[0] == "durable" and argv[1] in ("reset", "restart"):
        return durable(argv[1], argv[2:] == ["--lock"])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
