#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Hostile HTTP clients for the exporter's tests (loopback only, bounded).

  hostile.py hold PORT CONNS SLOW SECONDS
      open CONNS idle connections and SLOW slowloris clients (a header line
      every second, never the blank line that ends the request), keep them
      for SECONDS, close them; prints "connected N of CONNS, slowloris M
      still open at the end"
  hostile.py huge PORT MB
      one request whose header is MB megabytes; prints "rejected: ..." when
      the server answered 4xx or closed before taking it all, else "accepted"
"""
import errno
import resource
import select
import socket
import sys
import time

HOST = "127.0.0.1"


def hold(port, conns, slow, seconds):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = conns + slow + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
    socks = []
    for _ in range(conns):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex((HOST, port))
        socks.append(s)
    # the connections that completed within 5 s
    deadline = time.monotonic() + 5
    pending = set(socks)
    connected = 0
    while pending and time.monotonic() < deadline:
        _, w, _ = select.select([], list(pending)[:512], [], 0.2)
        for s in w:
            pending.discard(s)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                connected += 1
    slows = []
    for _ in range(slow):
        s = socket.create_connection((HOST, port), timeout=5)
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        slows.append(s)
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        for s in list(slows):
            try:
                s.sendall(b"X-Slow-%d: y\r\n" % n)
            except OSError:
                slows.remove(s)
        n += 1
        time.sleep(1)
    print("connected %d of %d, slowloris %d of %d still open at the end"
          % (connected, conns, len(slows), slow))
    for s in socks + slows:
        s.close()


def huge(port, mb):
    s = socket.create_connection((HOST, port), timeout=10)
    sent = 0
    total = mb * 1000000
    chunk = b"a" * 65536
    try:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Huge: ")
        while sent < total:
            s.sendall(chunk)
            sent += len(chunk)
        s.sendall(b"\r\n\r\n")
    except OSError as e:
        print("rejected: the server closed after %d bytes (%s)"
              % (sent, errno.errorcode.get(e.errno, e.errno)))
        return
    try:
        line = s.recv(64).split(b"\r\n")[0].decode(errors="replace")
    except OSError as e:
        line = "closed (%s)" % errno.errorcode.get(e.errno, e.errno)
    if line.startswith("HTTP/1.1 4") or line.startswith("closed") or not line:
        print("rejected: %s after %d bytes" % (line or "closed", sent))
    else:
        print("accepted: %s" % line)


if __name__ == "__main__":
    if sys.argv[1] == "hold":
        hold(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]),
             int(sys.argv[5]))
    elif sys.argv[1] == "huge":
        huge(int(sys.argv[2]), int(sys.argv[3]))
    else:
        sys.exit(__doc__)
