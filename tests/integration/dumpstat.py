#!/usr/bin/env python3
"""dumpstat.py - what the frames smbtamper.py --dump wrote say
(DIR/<conn>-<n>-<c|s>.bin, n counting the frames of a connection in
the order the proxy took them in).  Prints one number.

    dumpstat.py overtaken DIR CMD
        How many requests of command CMD went out after another one of
        that command and were answered before it, at most.  With the
        proxy holding one request back for a while (hold-request), a
        client that sends the pieces of one large request one after the
        other sends nothing more until the held piece is answered (0);
        one that has them all in flight at once gets the others answered
        meanwhile (the number of the other pieces).
    dumpstat.py together DIR CMD1 CMD2
        How many frames from the client carry a message of CMD1 and one
        of CMD2 (a compound holding both).

CMD is a number (8 READ, 9 WRITE, 17 SET_INFO).  An interim
STATUS_PENDING is not an answer; sealed frames (transform headers) are
skipped, their commands cannot be read.
"""
import os
import re
import struct
import sys

STATUS_PENDING = 0x00000103
FLAG_SERVER_TO_REDIR = 0x1
FLAG_ASYNC = 0x2


def messages(frame):
    """(command, flags, status, message id) of each message of a frame."""
    off = 0
    while off + 64 <= len(frame) and frame[off:off + 4] == b"\xfeSMB":
        status, command = struct.unpack_from("<IH", frame, off + 8)
        flags, next_command, mid = struct.unpack_from("<IIQ", frame, off + 16)
        yield command, flags, status, mid
        if not next_command:
            break
        off += next_command


def overtaken_most(events):
    """events: ("c"|"s", mid) in the proxy's order."""
    sent, answered = {}, {}
    for i, (side, mid) in enumerate(events):
        if side == "c":
            sent.setdefault(mid, i)
        else:
            answered.setdefault(mid, i)
    most = 0
    for mid, at in sent.items():
        done = answered.get(mid, len(events))
        n = sum(1 for m, a in sent.items()
                if a > at and answered.get(m, len(events)) < done)
        most = max(most, n)
    return most


def frames_of(d):
    """{connection: [(side, bytes) in the proxy's order]}"""
    by_conn = {}
    for name in os.listdir(d):
        m = re.fullmatch(r"(\d+)-(\d+)-([cs])\.bin", name)
        if m:
            by_conn.setdefault(int(m.group(1)), []).append((int(m.group(2)), m.group(3), name))
    out = {}
    for conn, frames in by_conn.items():
        out[conn] = []
        for _, side, name in sorted(frames):
            with open(os.path.join(d, name), "rb") as f:
                out[conn].append((side, f.read()))
    return out


def overtaken(d, want):
    most = 0
    for frames in frames_of(d).values():
        events = []
        for side, data in frames:
            for command, flags, status, mid in messages(data):
                if command != want:
                    continue
                if side == "c" and not flags & FLAG_SERVER_TO_REDIR:
                    events.append(("c", mid))
                elif side == "s" and not (status == STATUS_PENDING and flags & FLAG_ASYNC):
                    events.append(("s", mid))
        most = max(most, overtaken_most(events))
    return most


def together(d, a, b):
    n = 0
    for frames in frames_of(d).values():
        for side, data in frames:
            commands = {m[0] for m in messages(data)}
            if side == "c" and a in commands and b in commands:
                n += 1
    return n


def main():
    a = sys.argv[1:]
    if len(a) == 3 and a[0] == "overtaken":
        print(overtaken(a[1], int(a[2])))
    elif len(a) == 4 and a[0] == "together":
        print(together(a[1], int(a[2]), int(a[3])))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
