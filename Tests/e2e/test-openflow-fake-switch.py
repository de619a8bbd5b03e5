#!/usr/bin/env python3
"""A minimal OpenFlow 1.3 "switch" for tests: listens on 127.0.0.1:PORT, answers the handshake
and barriers the way a switch would, and appends every message the controller side sends
(ovs-ofctl here) to OUT as raw bytes. Serves CONNS connections, then exits; gives up after TIMEOUT s.

Usage: test-openflow-fake-switch.py PORT OUT [CONNS] [TIMEOUT]
Writes PORT to stdout once listening (use 0 for an ephemeral port).
"""
import socket
import struct
import sys
import time

def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    conns = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    deadline = time.time() + (float(sys.argv[4]) if len(sys.argv) > 4 else 30)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(4)
    print(srv.getsockname()[1], flush=True)
    with open(out, "ab") as capture:
        for _ in range(conns):
            srv.settimeout(max(0.1, deadline - time.time()))
            try:
                c, _ = srv.accept()
            except socket.timeout:
                break
            serve(c, capture, deadline)
    srv.close()

def msg(mtype, xid, body=b""):
    return struct.pack("!BBHI", 4, mtype, 8 + len(body), xid) + body

def serve(c, capture, deadline):
    # OFPT_HELLO with a version bitmap advertising 1.3 only (OF 1.3.5 §7.5.1).
    c.sendall(msg(0, 1, struct.pack("!HHI", 1, 8, 1 << 4)))
    buf = b""
    c.settimeout(1.0)
    while time.time() < deadline:
        try:
            data = c.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            break
        if not data:
            break
        buf += data
        while len(buf) >= 8:
            version, mtype, length, xid = struct.unpack("!BBHI", buf[:8])
            if length < 8 or len(buf) < length:
                break
            m, buf = buf[:length], buf[length:]
            if mtype == 0:
                continue  # hello: not captured (it is the peer's, not a command)
            capture.write(m)
            capture.flush()
            if mtype == 2:    # ECHO_REQUEST -> ECHO_REPLY
                c.sendall(msg(3, xid, m[8:]))
            elif mtype == 5:  # FEATURES_REQUEST -> FEATURES_REPLY (dpid 1, 254 tables)
                c.sendall(msg(6, xid, struct.pack("!QIBBHII", 1, 0, 254, 0, 0, 0x4F, 0)))
            elif mtype == 7:  # GET_CONFIG_REQUEST -> GET_CONFIG_REPLY
                c.sendall(msg(8, xid, struct.pack("!HH", 0, 128)))
            elif mtype == 20:  # BARRIER_REQUEST -> BARRIER_REPLY
                c.sendall(msg(21, xid))
            elif mtype == 18:  # MULTIPART_REQUEST -> empty reply of the same type
                mp_type = struct.unpack("!H", m[8:10])[0]
                if mp_type == 12:
                    # Table features (OF 1.3.5 §7.3.5.5.1): one ofp_table_features for table 0,
                    # 64 bytes, no properties.
                    table = struct.pack("!HB5x32sQQII", 64, 0, b"table0", 0, 0, 0, 1000000)
                    c.sendall(msg(19, xid, struct.pack("!HHI", mp_type, 0, 0) + table))
                else:
                    c.sendall(msg(19, xid, struct.pack("!HHI", mp_type, 0, 0)))
    c.close()

if __name__ == "__main__":
    main()
