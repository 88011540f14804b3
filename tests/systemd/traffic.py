#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""traffic.py PORT - real TCP traffic on 127.0.0.1, and the truth about it as JSON.

A server on PORT accepts one connection; the client sends 5 bytes, the server answers 6, the
client closes first, then the server. Then a connect to PORT + 1, where nothing listens:
refused. Prints one JSON object: each socket's addresses, ports, SO_COOKIE (what tcpstates
calls the cookie) and process, the bytes each side sent, and who closed first, read from
the sockets themselves, for tests/systemd/guest.sh to hold the journal entries against.
"""
import json
import os
import socket
import struct
import sys
import time

SO_COOKIE = 57


def cookie(s):
    return struct.unpack("Q", s.getsockopt(socket.SOL_SOCKET, SO_COOKIE, 8))[0]


def side(s, role, sent, received, close):
    la, lp = s.getsockname()
    ra, rp = s.getpeername()
    return {"role": role, "laddr": la, "lport": lp, "raddr": ra, "rport": rp,
            "cookie": cookie(s), "pid": os.getpid(), "tx_bytes": sent,
            "rx_bytes": received, "close": close}


def main():
    port = int(sys.argv[1])
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(1)
    cli = socket.create_connection(("127.0.0.1", port))
    con, _ = srv.accept()
    time.sleep(0.3)
    cli.sendall(b"hello")
    assert con.recv(5) == b"hello"
    con.sendall(b"world!")
    assert cli.recv(6) == b"world!"
    time.sleep(0.3)
    truth = [side(cli, "client", 5, 6, "active"), side(con, "server", 6, 5, "passive")]
    cli.close()
    time.sleep(0.3)
    con.close()
    srv.close()
    ref = socket.socket()
    try:
        ref.connect(("127.0.0.1", port + 1))
        raise SystemExit("traffic.py: connect to %d was not refused" % (port + 1))
    except ConnectionRefusedError:
        pass
    truth.append({"role": "client", "raddr": "127.0.0.1", "rport": port + 1,
                  "cookie": cookie(ref), "pid": os.getpid(), "close": "refused"})
    ref.close()
    print(json.dumps(truth))


main()
