#!/usr/bin/env python3
"""A TCP proxy between one switch and the controller that cuts the connection in the middle of a batch.

    of_cut_proxy.py LISTEN_PORT UPSTREAM_PORT LOG CUT...

Listens on 127.0.0.1:LISTEN_PORT; each connection from the switch is relayed to 127.0.0.1:UPSTREAM_PORT.
The controller-to-switch direction is read as OpenFlow messages (8-byte header: version, type, length,
xid). Each CUT fires once, on the first message it matches:

    fabric     the first FLOW_MOD or GROUP_MOD of a connection (the fabric being programmed)
    elephant   the first FLOW_MOD whose cookie starts 0x5453 (an elephant entry)

When a cut fires, the bytes before the message and the first half of the message are relayed, then
both sockets are closed (the switch holds a truncated message; the controller's batch loses its
connection). Later connections pass through until another cut matches. Every event is a line in LOG.
"""
import socket
import struct
import sys
import threading
import time

listen_port, upstream_port, log_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
pending = list(sys.argv[4:])
lock = threading.Lock()


def log(msg):
    with lock, open(log_path, "a") as f:
        f.write(f"{time.time():.3f} {msg}\n")


def matches(cut, mtype, body):
    if cut == "fabric":
        return mtype in (14, 15)
    if cut == "elephant":
        return mtype == 14 and body[8:10] == b"\x54\x53"
    return False


def close_both(*socks):
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def pump_up(src, dst):  # switch -> controller: relayed as is
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    close_both(src, dst)


def pump_down(src, dst, conn_id):  # controller -> switch: message by message, cut on a match
    buf = b""
    try:
        while data := src.recv(65536):
            buf += data
            out = b""
            while len(buf) >= 8:
                _, mtype, length = struct.unpack("!BBH", buf[:4])
                if length < 8 or len(buf) < length:
                    break
                msg, buf = buf[:length], buf[length:]
                with lock:
                    cut = next((c for c in pending if matches(c, mtype, msg)), None)
                    if cut:
                        pending.remove(cut)
                if cut:
                    half = length // 2
                    dst.sendall(out + msg[:half])
                    log(f"cut {cut} connection {conn_id}: message type {mtype}, {length} bytes, "
                        f"relayed {half}; then closed")
                    raise ConnectionAbortedError
                out += msg
            if out:
                dst.sendall(out)
    except OSError:
        pass
    close_both(src, dst)


def main():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen_port))
    srv.listen(16)
    log(f"listening on {listen_port}, upstream {upstream_port}, cuts {pending}")
    conn_id = 0
    while True:
        client, _ = srv.accept()
        conn_id += 1
        try:
            up = socket.create_connection(("127.0.0.1", upstream_port), timeout=5)
            up.settimeout(None)
        except OSError as e:
            log(f"connection {conn_id}: upstream refused ({e})")
            client.close()
            continue
        log(f"connection {conn_id} open")
        threading.Thread(target=pump_up, args=(client, up), daemon=True).start()
        threading.Thread(target=pump_down, args=(up, client, conn_id), daemon=True).start()


main()
