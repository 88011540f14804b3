#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The traffic between the two guests of tests/crosshost (on their private link only).

  peer.py serve ADDR         guest b: servers on ADDR:7301 (the client closes first) and
                             ADDR:7302 (the server closes first), and a control port 7399;
                             returns when a client sends "done" to 7399
  peer.py wait PEER SECS     guest a: until PEER:7399 answers "pong" (b is up), or exit 1
  peer.py talk PEER          guest a: 3 conversations to 7301, 2 to 7302, one at a time,
                             each: "hello" -> "world!" -> the close its port says
  peer.py done PEER          guest a: tell b to stop
  peer.py hear ADDR SECS     guest b: the one message a sends to ADDR:7398 once its journal is
                             uploaded ("uploaded LPORT RPORT": the conversation b looks up),
                             printed; exit 1 if none came within SECS
  peer.py tell PEER MSG SECS guest a: says MSG to PEER:7398, trying until SECS have passed

Steps are 300 ms apart (more than the 200 ms delayed-ACK maximum), so every ACK leaves on its own
and each conversation makes the same packets on every run. Prints one JSON line per client
socket: its local port and the server port.
"""
import json
import socket
import sys
import threading
import time

GAP = 0.3
PORTS = {7301: "client", 7302: "server"}
CONTROL = 7399
# after both recorders and tcpdump have stopped: a tells b its journal is uploaded
UPLOADED = 7398


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d:
            raise EOFError("peer closed early")
        b += d
    return b


def listener(addr, port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(16)
    return ls


def serve_port(addr, port, closer):
    ls = listener(addr, port)
    while True:
        s, _ = ls.accept()
        recv_exact(s, 5)
        s.sendall(b"world!")
        if closer == "client":
            while s.recv(64):
                pass
            time.sleep(GAP)
        else:
            time.sleep(GAP)
        s.close()


def serve(addr):
    for port, closer in PORTS.items():
        threading.Thread(target=serve_port, args=(addr, port, closer),
                         daemon=True).start()
    ls = listener(addr, CONTROL)
    while True:
        s, _ = ls.accept()
        cmd = s.recv(16)
        s.sendall(b"pong")
        s.close()
        if cmd == b"done":
            return


def control(peer, cmd, timeout=2):
    s = socket.create_connection((peer, CONTROL), timeout=timeout)
    s.sendall(cmd)
    r = s.recv(16)
    s.close()
    return r


def wait(peer, secs):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        try:
            if control(peer, b"ping") == b"pong":
                return 0
        except OSError:
            time.sleep(0.5)
    return 1


def talk(peer):
    for port, n in ((7301, 3), (7302, 2)):
        for _ in range(n):
            s = socket.create_connection((peer, port), timeout=10)
            print(json.dumps({"lport": s.getsockname()[1], "rport": port}), flush=True)
            s.sendall(b"hello")
            recv_exact(s, 6)
            if PORTS[port] == "client":
                time.sleep(GAP)
            else:
                while s.recv(64):
                    pass
                time.sleep(GAP)
            s.close()
            time.sleep(GAP)


def hear(addr, secs):
    ls = listener(addr, UPLOADED)
    ls.settimeout(secs)
    try:
        s, _ = ls.accept()
    except socket.timeout:
        return 1
    s.settimeout(10)
    msg = s.recv(256)
    s.sendall(b"ok")
    s.close()
    print(msg.decode(), flush=True)
    return 0


def tell(peer, msg, secs):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        try:
            s = socket.create_connection((peer, UPLOADED), timeout=2)
            s.sendall(msg.encode())
            r = s.recv(16)
            s.close()
            if r == b"ok":
                return 0
        except OSError:
            pass
        time.sleep(0.5)
    return 1


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "serve":
        serve(sys.argv[2])
    elif cmd == "wait":
        sys.exit(wait(sys.argv[2], int(sys.argv[3])))
    elif cmd == "talk":
        talk(sys.argv[2])
    elif cmd == "done":
        control(sys.argv[2], b"done")
    elif cmd == "hear":
        sys.exit(hear(sys.argv[2], int(sys.argv[3])))
    elif cmd == "tell":
        sys.exit(tell(sys.argv[2], sys.argv[3], int(sys.argv[4])))
    else:
        sys.exit(__doc__)
