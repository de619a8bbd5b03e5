#!/usr/bin/env python3
"""Writes the UDP payload of every frame in a classic pcap file (Ethernet, 802.1Q, IPv4, IPv6) as one
file per datagram: udp-payloads.py CAPTURE OUTDIR PREFIX. Used by run.sh to seed the sFlow target
from real captures when they are at hand; fragments are kept as far as they go."""
import os
import struct
import sys


def payloads(data):
    if len(data) < 24:
        return
    magic = data[:4]
    end = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">", b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\x3c\x4d": ">"}.get(magic)
    if end is None:
        return
    link = struct.unpack(end + "I", data[20:24])[0]
    at = 24
    while at + 16 <= len(data):
        incl = struct.unpack(end + "I", data[at + 8:at + 12])[0]
        frame = data[at + 16:at + 16 + incl]
        at += 16 + incl
        if link != 1 or len(frame) < 14:
            continue
        et, p = struct.unpack(">H", frame[12:14])[0], 14
        while et in (0x8100, 0x88A8) and len(frame) >= p + 4:
            et, p = struct.unpack(">H", frame[p + 2:p + 4])[0], p + 4
        ip = frame[p:]
        if et == 0x0800 and len(ip) >= 20 and ip[9] == 17:
            frag = struct.unpack(">H", ip[6:8])[0] & 0x1FFF
            if frag == 0:
                yield ip[(ip[0] & 0x0F) * 4 + 8:]
        elif et == 0x86DD and len(ip) >= 40:
            nh, q = ip[6], 40
            if nh == 44 and len(ip) >= 48:  # fragment header: only the first fragment has the UDP header
                if struct.unpack(">H", ip[42:44])[0] & 0xFFF8:
                    continue
                nh, q = ip[40], 48
            if nh == 17:
                yield ip[q + 8:]


def main():
    capture, outdir, prefix = sys.argv[1:4]
    with open(capture, "rb") as f:
        data = f.read()
    os.makedirs(outdir, exist_ok=True)
    for i, p in enumerate(payloads(data)):
        with open(os.path.join(outdir, f"{prefix}-{i:03d}.bin"), "wb") as f:
            f.write(p)


main()
