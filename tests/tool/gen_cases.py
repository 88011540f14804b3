#!/usr/bin/env python3
"""Writes the hand-made golden inputs in cases/*.txt (/proc/tcpstates text).

Each scenario follows the module's documented event sequences
(module/uapi/tcpstates.h) with sequence numbers consistent between the two
sides: the server's rcv_nxt is the client's ISN A + 1, FIN C is the client's
write_seq at close, and so on. Real recordings from the VM suite can be
dropped into cases/ next to these; this script only rewrites its own files.
Run: python3 tests/tool/gen_cases.py && UPDATE=1 tests/tool/run.sh

Beside each input, NAME.expect holds what the generator put into it, as JSON lines: per
connection side (cookie and local port, in order of appearance) the ISNs A and B, the FINs C
and D and the close kind it made. tests/tool/run.sh asserts tcptimeline --json against them,
independently of the golden files, which the tool itself writes.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = 5_000_000_000_000  # 5000 s of uptime
MS, US, S = 1_000_000, 1_000, 1_000_000_000
DROP_ACCEPT_QUEUE, DROP_SYN_QUEUE, DROP_SYNCOOKIE, DROP_OTHER = 1, 2, 3, 4
# request_end's aux above its low byte (TCPSTATES_REQ_END_*, uapi/tcpstates.h)
REQ_TIMEOUT, REQ_ACK_DROPPED, REQ_LISTENER, REQ_RESET, REQ_SEGMENT = 1, 2, 3, 4, 5
NS_HOST = 4026531840

HEADER = ("SEQ TIME_NS CPU EVENT NETNS COOKIE PID COMM LADDR LPORT RADDR RPORT "
          "OLDSTATE NEWSTATE WRITE_SEQ SND_UNA SND_NXT RCV_NXT SND_WND RCV_WND "
          "MSS SRTT_US TGID UID CTX FAMILY FLAGS SND_WSCALE RCV_WSCALE OPTIONS "
          "RETRANS BYTES_ACKED BYTES_RECEIVED SK_ERR AUX")
HEADER_V2 = HEADER + " NETNS_COOKIE"  # ABI 2 appended the namespace's cookie
HEADER_V3 = HEADER_V2 + " RCV_UNREAD"  # later in ABI 2: data not yet read
NETNS_COOKIE_HOST = 1

F_MAPPED, F_SEQ, F_WINDOW, F_TCPINFO, F_TIMEWAIT, F_REQUEST, F_UNREAD = 1, 2, 4, 8, 16, 32, 64


class Sock:
    """One socket's view: addresses, owner and its sequence counters."""

    def __init__(self, cookie, la, lp, ra, rp, pid=0, comm="-", netns=NS_HOST,
                 fam="ipv4", mapped=False, uid=1000, isn=0, mss=65483,
                 netns_cookie=NETNS_COOKIE_HOST):
        self.__dict__.update(locals())
        del self.__dict__["self"]
        self.una = self.nxt = self.wseq = isn + 1
        self.rcv = 0
        self.unread = 0     # rcv_nxt - copied_seq (abi 3)
        self.acked = self.recvd = 0
        self.retrans = 0
        self.srtt = 0


class Stream:
    """abi=2 writes what an ABI 2 module prints: the NETNS_COOKIE column,
    time_wait records from the timewait socket (old state "-"), and "-" for
    a pid the reader may not know (hide_pid: a reader in another PID
    namespace) and a uid with no mapping in its user namespace. abi=3 is
    ABI 2 with the RCV_UNREAD column: a full socket's records that carry
    sequence numbers carry rcv_unread (F_UNREAD), the others "-"."""

    def __init__(self, name, comment, abi=1, hide_pid=False, preamble=""):
        self.name, self.comment = name, comment
        self.abi, self.hide_pid = abi, hide_pid
        self.preamble = preamble
        self.lines, self.seq = [], 0
        self.expects = []   # [(cookie, lport), {field: value}] per connection side

    def conn(self, s):
        """A new connection on socket s (a reused socket is a new one)."""
        self.expects.append([(s.cookie, s.lp), {}])

    def want(self, s, **fields):
        """What the reader must find for s's current connection (--json field names)."""
        mine = [e for e in self.expects if e[0] == (s.cookie, s.lp)]
        if not mine:
            self.conn(s)
            mine = self.expects[-1:]
        mine[-1][1].update({k: v & 0xffffffff if isinstance(v, int) else v
                            for k, v in fields.items()})

    def skip(self, n):
        """Records overwritten while cat ran: a gap in SEQ."""
        self.seq += n

    def ev(self, t, kind, s, old, new, task=False, seq=True, info=True,
           wnd=True, sk_err=0, aux=0, flags=0, cpu=0, pid=None):
        f = flags | (F_MAPPED if s.mapped else 0)
        if seq:
            f |= F_SEQ
        unread = self.abi >= 3 and seq and not flags & (F_TIMEWAIT | F_REQUEST) \
            and kind not in ("time_wait", "tw_rearm", "tw_expire", "tw_kill",
                             "request", "request_end")
        if unread:
            f |= F_UNREAD
        if wnd:
            f |= F_WINDOW
        if info:
            f |= F_TCPINFO
        p = (pid if pid is not None else s.pid) if task else None
        if self.hide_pid:
            p = None
        if self.abi >= 2 and kind == "time_wait":
            old = "-"
        col = [self.seq, T0 + t, cpu, kind, s.netns, s.cookie,
               p if p else "-", s.comm if p else "-",
               s.la, s.lp, s.ra, s.rp, old, new]
        col += [v & 0xffffffff for v in (s.wseq, s.una, s.nxt, s.rcv)] \
            if seq else ["-"] * 4
        col += [65536, 65483] if wnd else ["-"] * 2
        col += [s.mss, s.srtt] if info else ["-"] * 2
        col += [p if p else "-", "-" if s.uid is None else s.uid,
                "task" if task else "softirq",
                s.fam, "0x%02x" % f]
        col += [7, 7, "sack,ts,wscale", s.retrans, s.acked, s.recvd] if info \
            else ["-"] * 6
        col += [sk_err, aux]
        if self.abi >= 2:
            col.append(s.netns_cookie)
        if self.abi >= 3:
            col.append(s.unread if unread else "-")
        self.lines.append(" ".join(str(c) for c in col))
        self.seq += 1

    def write(self):
        with open(os.path.join(HERE, "cases", self.name + ".txt"), "w") as f:
            for line in self.comment.strip().splitlines():
                f.write("# " + line.strip() + "\n")
            f.write(self.preamble)
            f.write((HEADER_V3 if self.abi >= 3 else HEADER_V2 if self.abi >= 2
                     else HEADER) + "\n")
            for line in self.lines:
                f.write(line + "\n")
        path = os.path.join(HERE, "cases", self.name + ".expect")
        if not self.expects:
            if os.path.exists(path):
                os.unlink(path)
            return
        with open(path, "w") as f:
            for (cookie, lport), fields in self.expects:
                f.write(json.dumps(dict(cookie=cookie, lport=lport, **fields)) + "\n")


def listen(st, t, lsk):
    st.ev(t, "listen", lsk, "CLOSE", "LISTEN", task=True, seq=False,
          info=False, wnd=False)


def handshake(st, t, c, s, req_cookie, lsk_pid=None, rtt=20 * US, accept=True,
              synack_retrans=0, acks_dropped=0, accept_wait=50 * US - 4 * US, ports=0):
    """Client c connects to server child s (request cookie req_cookie).
    The listener drops the first acks_dropped final ACKs (its accept queue
    full), each answered by a SYN-ACK retransmission. Returns the time after
    accept(), accept_wait after the server's ESTABLISHED."""
    A, B = c.isn, s.isn
    c.una, c.nxt, c.wseq, c.rcv = A, A + 1, A + 1, 0
    lp = c.lp
    c.lp = 0  # tcp_v4_connect sets SYN_SENT before the port is chosen
    st.ev(t, "state", c, "CLOSE", "SYN_SENT", task=True, seq=False, info=False,
          wnd=False)
    c.lp = lp
    st.ev(t + 3 * US, "connect", c, "SYN_SENT", "SYN_SENT", task=True,
          info=False, aux=ports)
    req = Sock(req_cookie, s.la, s.lp, s.ra, s.rp, netns=s.netns, fam=s.fam,
               mapped=s.mapped, uid=0, isn=B)
    req.una, req.nxt, req.wseq, req.rcv = B, B + 1, B + 1, A + 1
    t1 = t + 3 * US + rtt // 2
    st.ev(t1, "request", req, "-", "NEW_SYN_RECV", flags=F_REQUEST, wnd=False,
          info=False)
    t2 = t1 + rtt // 2
    c.una = A + 1
    c.rcv = B + 1
    c.srtt = rtt // US
    st.ev(t2, "state", c, "SYN_SENT", "ESTABLISHED")
    t3 = t2 + rtt // 2
    for _ in range(acks_dropped):
        st.ev(t3, "listen_drop", req, "NEW_SYN_RECV", "NEW_SYN_RECV",
              flags=F_REQUEST, wnd=False, info=False, aux=DROP_ACCEPT_QUEUE)
        t3 += rtt
    s.una, s.nxt, s.wseq, s.rcv = B + 1, B + 1, B + 1, A + 1
    s.srtt = rtt // US
    st.ev(t3, "child", s, "NEW_SYN_RECV", "SYN_RECV")
    st.ev(t3 + 2 * US, "request_end", req, "NEW_SYN_RECV", "-",
          flags=F_REQUEST, wnd=False, info=False, aux=synack_retrans)
    st.ev(t3 + 4 * US, "state", s, "SYN_RECV", "ESTABLISHED")
    t4 = t3 + 4 * US + accept_wait
    st.want(c, isn_local=A, isn_remote=B)
    st.want(s, isn_local=B, isn_remote=A)
    if accept:
        st.ev(t4, "accept", s, "ESTABLISHED", "ESTABLISHED", task=True)
    return t4


def transfer(a, b, n):
    """a sends n bytes to b, acknowledged."""
    a.nxt += n
    a.wseq += n
    a.una += n
    a.acked += n
    b.rcv += n
    b.recvd += n


def orderly_close(st, t, x, y, rtt=20 * US, orphan=True, tw_ms=60000):
    """x closes first (active), y passive; y closes soon after.
    Returns the time the last record was written."""
    h = rtt // 2
    C = x.wseq
    st.ev(t, "state", x, "ESTABLISHED", "FIN_WAIT1", task=True)
    x.wseq += 1
    x.nxt += 1
    y.rcv = C + 1
    st.ev(t + h, "state", y, "ESTABLISHED", "CLOSE_WAIT")
    x.una += 1
    st.ev(t + 2 * h, "state", x, "FIN_WAIT1", "FIN_WAIT2")
    if orphan:
        st.ev(t + 2 * h + 1 * US, "time_wait", x, "FIN_WAIT2", "FIN_WAIT2",
              aux=tw_ms, flags=F_TIMEWAIT, wnd=False, info=False)
        st.ev(t + 2 * h + 2 * US, "state", x, "FIN_WAIT2", "CLOSE",
              wnd=False)
    t2 = t + 300 * US
    D = y.wseq
    st.ev(t2, "state", y, "CLOSE_WAIT", "LAST_ACK", task=True)
    y.wseq += 1
    y.nxt += 1
    x.rcv = D + 1
    if orphan:
        st.ev(t2 + h, "tw_rearm", x, "-", "TIME_WAIT", aux=tw_ms,
              flags=F_TIMEWAIT, wnd=False, info=False)
    else:
        st.ev(t2 + h, "time_wait", x, "FIN_WAIT2", "TIME_WAIT", aux=tw_ms,
              flags=F_TIMEWAIT, wnd=False, info=False)
        st.ev(t2 + h + 1 * US, "state", x, "FIN_WAIT2", "CLOSE", wnd=False)
    y.una += 1
    st.ev(t2 + 2 * h, "state", y, "LAST_ACK", "CLOSE")
    st.want(x, fin_seq_local=C, fin_seq_remote=D, close="active")
    st.want(y, fin_seq_local=D, fin_seq_remote=C, close="passive")
    return t2 + 2 * h


def tw_expire(st, t, x):
    st.ev(t, "tw_expire", x, "TIME_WAIT", "CLOSE", flags=F_TIMEWAIT,
          wnd=False, info=False)


def lo_pair(cport=45678, sport=8080, A=1_000_000_000, B=3_000_000_000,
            netns=NS_HOST, la="127.0.0.1", ra="127.0.0.1", fam="ipv4",
            c_netns=None, s_netns=None, cookies=(8193, 8200), mapped=False):
    c = Sock(cookies[0], la, cport, ra, sport, pid=4242, comm="curl",
             netns=c_netns or netns, fam=fam, isn=A)
    s = Sock(cookies[1], ra, sport, la, cport, pid=777, comm="nginx",
             netns=s_netns or netns, fam=fam, isn=B, mapped=mapped)
    return c, s


def client_close_first(st):
    lsk = Sock(4097, "0.0.0.0", 8080, "0.0.0.0", 0, pid=777, comm="nginx")
    listen(st, 0, lsk)
    c, s = lo_pair()
    t = handshake(st, 1 * S, c, s, 8199)
    transfer(c, s, 78)
    transfer(s, c, 1024)
    t = orderly_close(st, t + 2 * MS, c, s)
    tw_expire(st, t + 60 * S, c)
    st.write()


def case_client_close_first():
    client_close_first(Stream("client_close_first", """
        Loopback: curl connects to nginx on 127.0.0.1:8080, sends a request,
        gets a reply and closes first (orphaned: FIN_WAIT2 handed to a
        timewait socket, TIME_WAIT when nginx's FIN arrives, expiry 60 s later).
        The listener stays open to the end of the input."""))


def case_server_close_first():
    st = Stream("server_close_first", """
        Loopback: the server (nginx) sends its reply and closes first; curl
        sees CLOSE_WAIT, then closes (LAST_ACK). The server side goes through
        FIN_WAIT1, FIN_WAIT2 and TIME_WAIT and expires.""")
    c, s = lo_pair(cport=45680)
    t = handshake(st, 1 * S, c, s, 8199)
    transfer(c, s, 78)
    transfer(s, c, 4096)
    t = orderly_close(st, t + 1 * MS, s, c)
    tw_expire(st, t + 60 * S, s)
    st.write()


def case_simultaneous_close():
    st = Stream("simultaneous_close", """
        Loopback: both applications call close() within microseconds; the
        FINs cross, each side goes FIN_WAIT1 -> CLOSING -> TIME_WAIT.""")
    c, s = lo_pair(cport=45690)
    t = handshake(st, 1 * S, c, s, 8199)
    transfer(c, s, 10)
    transfer(s, c, 10)
    C, D = c.wseq, s.wseq
    st.ev(t + MS, "state", c, "ESTABLISHED", "FIN_WAIT1", task=True)
    st.ev(t + MS + 2 * US, "state", s, "ESTABLISHED", "FIN_WAIT1", task=True)
    c.wseq += 1; c.nxt += 1; s.wseq += 1; s.nxt += 1
    c.rcv, s.rcv = D + 1, C + 1
    st.ev(t + MS + 10 * US, "state", c, "FIN_WAIT1", "CLOSING")
    st.ev(t + MS + 11 * US, "state", s, "FIN_WAIT1", "CLOSING")
    c.una += 1; s.una += 1
    for x, dt in ((c, 20), (s, 21)):
        st.ev(t + MS + dt * US, "time_wait", x, "CLOSING", "TIME_WAIT",
              aux=60000, flags=F_TIMEWAIT, wnd=False, info=False)
        st.ev(t + MS + dt * US + 1 * US, "state", x, "CLOSING", "CLOSE",
              wnd=False)
    tw_expire(st, t + MS + 60 * S + 20 * US, c)
    tw_expire(st, t + MS + 60 * S + 21 * US, s)
    st.want(c, fin_seq_local=C, fin_seq_remote=D, close="simultaneous")
    st.want(s, fin_seq_local=D, fin_seq_remote=C, close="simultaneous")
    st.write()


def case_rst_linger0():
    st = Stream("rst_linger0", """
        Loopback: the client sets SO_LINGER {1, 0} and closes: it sends an RST
        (reset_sent in task context) and goes straight to CLOSE; the server
        receives the RST (ECONNRESET, sk_err 104).""")
    c, s = lo_pair(cport=45700)
    t = handshake(st, 1 * S, c, s, 8199)
    transfer(c, s, 100)
    st.ev(t + 5 * MS, "reset_sent", c, "ESTABLISHED", "ESTABLISHED", task=True)
    st.ev(t + 5 * MS + 1 * US, "state", c, "ESTABLISHED", "CLOSE", task=True)
    st.ev(t + 5 * MS + 10 * US, "state", s, "ESTABLISHED", "CLOSE",
          sk_err=104)
    st.want(c, close="reset_sent")
    st.want(s, close="reset_received")
    st.write()


def case_rst_received():
    st = Stream("rst_received", """
        A client talks to a remote server (not on this host, so one side
        only); mid-stream the server's RST arrives: ESTABLISHED -> CLOSE with
        sk_err 104 in softirq context.""")
    c = Sock(12001, "192.168.1.10", 51000, "203.0.113.5", 443, pid=5150,
             comm="wget", isn=271828182)
    c.una, c.nxt, c.wseq = c.isn, c.isn + 1, c.isn + 1
    st.ev(0, "state", c, "CLOSE", "SYN_SENT", task=True, seq=False,
          info=False, wnd=False)
    st.ev(4 * US, "connect", c, "SYN_SENT", "SYN_SENT", task=True, info=False)
    c.una = c.isn + 1
    c.rcv = 314159265 + 1
    c.srtt = 23000
    st.ev(23 * MS, "state", c, "SYN_SENT", "ESTABLISHED")
    s = Sock(0, "", 0, "", 0, isn=314159265)
    transfer(c, s, 517)
    transfer(s, c, 150000)
    c.retrans = 3
    st.ev(2 * S, "state", c, "ESTABLISHED", "CLOSE", sk_err=104)
    st.want(c, isn_local=271828182, isn_remote=314159265, close="reset_received")
    st.write()


def case_refused():
    st = Stream("refused", """
        Loopback connect() to a port nobody listens on: the RST answers the
        SYN, SYN_SENT -> CLOSE with sk_err 111. The application retries on
        the same socket (same cookie): a reused socket is a new connection,
        refused again.""")
    c = Sock(9001, "127.0.0.1", 40000, "127.0.0.1", 9999, pid=3030,
             comm="client", isn=123456789)
    for i, t in enumerate((0, 1 * S)):
        c.isn = 123456789 + i * 1000000
        c.una, c.nxt, c.wseq, c.rcv = c.isn, c.isn + 1, c.isn + 1, 0
        st.ev(t, "state", c, "CLOSE", "SYN_SENT", task=True, seq=False,
              info=False, wnd=False)
        st.ev(t + 3 * US, "connect", c, "SYN_SENT", "SYN_SENT", task=True,
              info=False)
        st.ev(t + 20 * US, "state", c, "SYN_SENT", "CLOSE", sk_err=111)
        st.conn(c)
        st.want(c, isn_local=c.isn, close="refused", reason="refused")
    st.write()


def case_connect_timeout():
    st = Stream("connect_timeout", """
        connect() to a black hole: six SYN retransmissions, then
        SYN_SENT -> CLOSE with sk_err 110 (ETIMEDOUT) from the timer.""")
    c = Sock(9100, "10.1.1.1", 52000, "192.0.2.1", 80, pid=3131,
             comm="curl", isn=987654321)
    c.una, c.nxt, c.wseq = c.isn, c.isn + 1, c.isn + 1
    st.ev(0, "state", c, "CLOSE", "SYN_SENT", task=True, seq=False,
          info=False, wnd=False)
    st.ev(3 * US, "connect", c, "SYN_SENT", "SYN_SENT", task=True, info=False)
    c.retrans = 6
    st.ev(127 * S, "state", c, "SYN_SENT", "CLOSE", sk_err=110)
    st.want(c, isn_local=987654321, close="timeout", reason="syn_timeout")
    st.write()


def case_listener():
    st = Stream("listener", """
        A listener opens on port 2222, serves nothing, and is closed.""")
    lsk = Sock(7001, "0.0.0.0", 2222, "0.0.0.0", 0, pid=999, comm="sshd")
    listen(st, 0, lsk)
    st.ev(30 * S, "state", lsk, "LISTEN", "CLOSE", task=True, seq=False,
          info=False, wnd=False)
    st.write()


def case_half_open():
    st = Stream("half_open", """
        A SYN from a remote host reaches the listener; the server answers
        with SYN-ACKs (5 retransmissions) but the final ACK never comes: the
        request socket is dropped, no child, a half-open that timed out.""")
    lsk = Sock(7100, "0.0.0.0", 80, "0.0.0.0", 0, pid=777, comm="nginx")
    listen(st, 0, lsk)
    req = Sock(7101, "10.0.0.2", 80, "198.51.100.7", 5555, uid=0, isn=55555)
    req.una, req.nxt, req.wseq, req.rcv = 55555, 55556, 55556, 77778
    st.ev(1 * S, "request", req, "-", "NEW_SYN_RECV", flags=F_REQUEST,
          wnd=False, info=False)
    st.ev(64 * S, "request_end", req, "NEW_SYN_RECV", "-", flags=F_REQUEST,
          wnd=False, info=False, aux=5)
    st.write()


def case_ipv6():
    st = Stream("ipv6", """
        Loopback over IPv6 (::1): client closes first, TIME_WAIT expires.""")
    c, s = lo_pair(cport=50001, la="::1", ra="::1", fam="ipv6",
                   A=111111111, B=222222222)
    t = handshake(st, 1 * S, c, s, 8199)
    transfer(c, s, 300)
    transfer(s, c, 3000)
    t = orderly_close(st, t + 3 * MS, c, s)
    tw_expire(st, t + 60 * S, c)
    st.write()


def case_v4_mapped():
    st = Stream("v4_mapped", """
        A dual-stack server listens on [::]:8443; an IPv4 client connects to
        127.0.0.1. The server's sockets are IPv6 sockets with IPv4-mapped
        addresses: reported as ipv4 with the MAPPED flag (0x01).""")
    c, s = lo_pair(cport=47000, sport=8443, mapped=True, A=3_500_000_000,
                   B=4_000_000_000)
    t = handshake(st, 1 * S, c, s, 8199)
    transfer(c, s, 50)
    transfer(s, c, 500)
    t = orderly_close(st, t + 1 * MS, c, s)
    tw_expire(st, t + 60 * S, c)
    st.write()


def case_two_netns():
    st = Stream("two_netns", """
        Two network namespaces joined by a veth pair on one host: the client
        (netns 4026532500, 10.9.0.1) talks to the server (netns 4026532600,
        10.9.0.2). Both sides are recorded; they pair by mirrored 4-tuple and
        matching ISNs.""")
    c, s = lo_pair(cport=33333, sport=80, la="10.9.0.1", ra="10.9.0.2",
                   c_netns=4026532500, s_netns=4026532600, A=4294967000,
                   B=17)
    t = handshake(st, 1 * S, c, s, 8199, rtt=60 * US)
    transfer(c, s, 200)
    transfer(s, c, 2000)
    t = orderly_close(st, t + 2 * MS, c, s, rtt=60 * US)
    tw_expire(st, t + 60 * S, c)
    st.write()


def case_shutdown_half_close():
    st = Stream("shutdown_half_close", """
        The client calls shutdown(SHUT_WR) (FIN_WAIT1 in task context) but
        keeps the socket open and keeps reading; the server sends 64 KiB more,
        then closes. The FIN reaches the still-open socket in FIN_WAIT2, so
        time_wait goes FIN_WAIT2 -> TIME_WAIT directly.""")
    c, s = lo_pair(cport=46000)
    t = handshake(st, 1 * S, c, s, 8199)
    transfer(c, s, 40)
    st.ev(t + MS, "state", c, "ESTABLISHED", "FIN_WAIT1", task=True)
    C = c.wseq - 0
    c.wseq += 1; c.nxt += 1
    s.rcv = C + 1
    st.ev(t + MS + 10 * US, "state", s, "ESTABLISHED", "CLOSE_WAIT")
    c.una += 1
    st.ev(t + MS + 20 * US, "state", c, "FIN_WAIT1", "FIN_WAIT2")
    transfer(s, c, 65536)
    t2 = t + 40 * MS
    st.ev(t2, "state", s, "CLOSE_WAIT", "LAST_ACK", task=True)
    D = s.wseq
    s.wseq += 1; s.nxt += 1
    c.rcv = D + 1
    st.ev(t2 + 10 * US, "time_wait", c, "FIN_WAIT2", "TIME_WAIT", aux=60000,
          flags=F_TIMEWAIT, wnd=False, info=False)
    st.ev(t2 + 11 * US, "state", c, "FIN_WAIT2", "CLOSE", wnd=False)
    s.una += 1
    st.ev(t2 + 20 * US, "state", s, "LAST_ACK", "CLOSE")
    tw_expire(st, t2 + 10 * US + 60 * S, c)
    st.write()


def case_timewait_reuse():
    st = Stream("timewait_reuse", """
        The client closes first and its timewait socket waits; 2 s later it
        connects again from the same port to the same server (tcp_tw_reuse):
        the old timewait socket is killed (tw_kill) and the new connection
        (new cookie) runs. The old TIME_WAIT ends early, the new one expires.""")
    c, s = lo_pair(cport=41000, cookies=(8193, 8200))
    t = handshake(st, 1 * S, c, s, 8199)
    transfer(c, s, 10)
    t = orderly_close(st, t + MS, c, s)
    c2, s2 = lo_pair(cport=41000, cookies=(8300, 8302), A=1_500_000_000,
                     B=3_700_000_000)
    t2 = t + 2 * S
    c2.una, c2.nxt, c2.wseq = c2.isn, c2.isn + 1, c2.isn + 1
    st.ev(t2, "state", c2, "CLOSE", "SYN_SENT", task=True, seq=False,
          info=False, wnd=False)
    st.ev(t2 + 2 * US, "tw_kill", c, "TIME_WAIT", "CLOSE", flags=F_TIMEWAIT,
          wnd=False, info=False)
    # the rest of the new handshake, as handshake() writes it
    A, B = c2.isn, s2.isn
    st.ev(t2 + 3 * US, "connect", c2, "SYN_SENT", "SYN_SENT", task=True,
          info=False)
    req = Sock(8301, s2.la, s2.lp, s2.ra, s2.rp, uid=0, isn=B)
    req.una, req.nxt, req.wseq, req.rcv = B, B + 1, B + 1, A + 1
    st.ev(t2 + 13 * US, "request", req, "-", "NEW_SYN_RECV", flags=F_REQUEST,
          wnd=False, info=False)
    c2.una, c2.rcv, c2.srtt = A + 1, B + 1, 20
    st.ev(t2 + 23 * US, "state", c2, "SYN_SENT", "ESTABLISHED")
    s2.una, s2.nxt, s2.wseq, s2.rcv, s2.srtt = B + 1, B + 1, B + 1, A + 1, 20
    st.ev(t2 + 33 * US, "child", s2, "NEW_SYN_RECV", "SYN_RECV")
    st.ev(t2 + 35 * US, "request_end", req, "NEW_SYN_RECV", "-",
          flags=F_REQUEST, wnd=False, info=False)
    st.ev(t2 + 37 * US, "state", s2, "SYN_RECV", "ESTABLISHED")
    st.ev(t2 + 80 * US, "accept", s2, "ESTABLISHED", "ESTABLISHED", task=True)
    transfer(c2, s2, 10)
    t3 = orderly_close(st, t2 + 5 * MS, c2, s2)
    tw_expire(st, t3 + 60 * S, c2)
    st.write()


def case_lost_marker():
    st = Stream("lost_marker", """
        Records were overwritten while cat ran (the SEQ column jumps by 40).
        The first conversation is open across the gap: incomplete. The second
        starts after the gap and is complete.""")
    c, s = lo_pair(cport=42000)
    t = handshake(st, 1 * S, c, s, 8199)
    st.skip(40)
    transfer(c, s, 1000)
    transfer(s, c, 1000)
    t = orderly_close(st, t + 10 * S, c, s)
    tw_expire(st, t + 60 * S, c)
    c2, s2 = lo_pair(cport=42001, cookies=(8400, 8402), A=700, B=900)
    t = handshake(st, t + 61 * S, c2, s2, 8401)
    t = orderly_close(st, t + MS, c2, s2)
    tw_expire(st, t + 60 * S, c2)
    st.write()


def case_simultaneous_open():
    st = Stream("simultaneous_open", """
        Two sockets connect() to each other at the same time (127.0.0.1:6000
        and :6001): each goes SYN_SENT -> SYN_RECV -> ESTABLISHED, then the
        first closes normally.""")
    a = Sock(9500, "127.0.0.1", 6000, "127.0.0.1", 6001, pid=11, comm="peer_a",
             isn=1000)
    b = Sock(9501, "127.0.0.1", 6001, "127.0.0.1", 6000, pid=12, comm="peer_b",
             isn=2000)
    for x, t in ((a, 0), (b, 1 * US)):
        x.una, x.nxt, x.wseq = x.isn, x.isn + 1, x.isn + 1
        st.ev(t, "state", x, "CLOSE", "SYN_SENT", task=True, seq=False,
              info=False, wnd=False)
        st.ev(t + 2 * US, "connect", x, "SYN_SENT", "SYN_SENT", task=True,
              info=False)
    a.rcv, b.rcv = 2001, 1001
    st.ev(10 * US, "state", a, "SYN_SENT", "SYN_RECV")
    st.ev(11 * US, "state", b, "SYN_SENT", "SYN_RECV")
    a.una, b.una = 1001, 2001
    st.ev(20 * US, "state", a, "SYN_RECV", "ESTABLISHED")
    st.ev(21 * US, "state", b, "SYN_RECV", "ESTABLISHED")
    t = orderly_close(st, 5 * MS, a, b)
    tw_expire(st, t + 60 * S, a)
    st.write()


def case_abi2_client_close_first():
    client_close_first(Stream("abi2_client_close_first", """
        client_close_first as an ABI 2 module prints it: the NETNS_COOKIE
        column, and the time_wait record from the timewait socket (old state
        "-"). The timelines must not differ from the ABI 1 ones.""", abi=2))


# /proc/tcpstates_stats as an ABI 2 module prints it, its realtime offset
# putting the stream's T0 (5000 s of uptime) at 2026-11-30 14:03:07.123456 UTC.
STATS = """abi_version 2
record_size 176
capacity 65536
written 18
oldest 0
filtered 0
requests_unhashed 0
realtime_offset_ns 1796042387123456000
wakeups_now 0
wakeups_timer 18
hook_set_state active
"""


def case_wallclock():
    client_close_first(Stream("wallclock", """
        client_close_first saved with 'cat /proc/tcpstates_stats
        /proc/tcpstates': the stats lines carry the realtime offset, so the
        times can be shown as wall-clock time.""", abi=2, preamble=STATS))


def case_abi2_container():
    st = Stream("abi2_container", """
        ABI 2, read inside a container: its own network namespace (cookie 7)
        and PID namespace, so the module gives no pid (the reader could not
        translate it) and uid "-" (not mapped in the container's user
        namespace). A remote client talks to the container's server, which
        closes first. The owner is unknown, never pid 0 or uid 0 (root).""",
        abi=2, hide_pid=True)
    ns, nsc = 4026532700, 7
    lsk = Sock(5001, "0.0.0.0", 80, "0.0.0.0", 0, pid=1, comm="httpd",
               netns=ns, netns_cookie=nsc, uid=None)
    listen(st, 0, lsk)
    req = Sock(5002, "10.88.0.5", 80, "192.0.2.50", 40000, netns=ns,
               netns_cookie=nsc, uid=None, isn=900)
    req.una, req.nxt, req.wseq, req.rcv = 900, 901, 901, 501
    st.ev(1 * S, "request", req, "-", "NEW_SYN_RECV", flags=F_REQUEST,
          wnd=False, info=False)
    s = Sock(5003, "10.88.0.5", 80, "192.0.2.50", 40000, pid=1, comm="httpd",
             netns=ns, netns_cookie=nsc, uid=None, isn=900)
    s.una, s.nxt, s.wseq, s.rcv, s.srtt = 901, 901, 901, 501, 4000
    st.ev(1 * S + 8 * MS, "child", s, "NEW_SYN_RECV", "SYN_RECV")
    st.ev(1 * S + 8 * MS + 2 * US, "request_end", req, "NEW_SYN_RECV", "-",
          flags=F_REQUEST, wnd=False, info=False)
    st.ev(1 * S + 8 * MS + 4 * US, "state", s, "SYN_RECV", "ESTABLISHED")
    st.ev(1 * S + 9 * MS, "accept", s, "ESTABLISHED", "ESTABLISHED",
          task=True)
    c = Sock(0, "192.0.2.50", 40000, "10.88.0.5", 80, isn=500)
    transfer(c, s, 100)
    transfer(s, c, 2000)
    t = 1 * S + 20 * MS
    st.ev(t, "state", s, "ESTABLISHED", "FIN_WAIT1", task=True)
    s.wseq += 1
    s.nxt += 1
    s.una += 1
    st.ev(t + 8 * MS, "state", s, "FIN_WAIT1", "FIN_WAIT2")
    st.ev(t + 8 * MS + 1 * US, "time_wait", s, "FIN_WAIT2", "FIN_WAIT2",
          aux=60000, flags=F_TIMEWAIT, wnd=False, info=False)
    st.ev(t + 8 * MS + 2 * US, "state", s, "FIN_WAIT2", "CLOSE", wnd=False)
    s.rcv += 1
    st.ev(t + 12 * MS, "tw_rearm", s, "-", "TIME_WAIT", aux=60000,
          flags=F_TIMEWAIT, wnd=False, info=False)
    tw_expire(st, t + 12 * MS + 60 * S, s)
    st.write()


def case_tw_overflow():
    st = Stream("tw_overflow", """
        ABI 2: net.ipv4.tcp_max_tw_buckets is reached when the client, which
        closed first, would enter TIME_WAIT: tw_overflow (no timewait socket),
        then the full socket goes FIN_WAIT2 -> CLOSE. The server's FIN then
        finds no socket and is answered by an RST (LAST_ACK -> CLOSE with
        ECONNRESET).""", abi=2)
    c, s = lo_pair(cport=43000)
    t = handshake(st, 1 * S, c, s, 8199)
    transfer(c, s, 20)
    transfer(s, c, 200)
    t += MS
    st.ev(t, "state", c, "ESTABLISHED", "FIN_WAIT1", task=True)
    C = c.wseq
    c.wseq += 1
    c.nxt += 1
    s.rcv = C + 1
    st.ev(t + 10 * US, "state", s, "ESTABLISHED", "CLOSE_WAIT")
    c.una += 1
    st.ev(t + 20 * US, "state", c, "FIN_WAIT1", "FIN_WAIT2")
    st.ev(t + 21 * US, "tw_overflow", c, "FIN_WAIT2", "FIN_WAIT2",
          flags=F_TIMEWAIT, wnd=False, info=False)
    st.ev(t + 22 * US, "state", c, "FIN_WAIT2", "CLOSE", wnd=False)
    t2 = t + 300 * US
    st.ev(t2, "state", s, "CLOSE_WAIT", "LAST_ACK", task=True)
    s.wseq += 1
    s.nxt += 1
    st.ev(t2 + 20 * US, "state", s, "LAST_ACK", "CLOSE", sk_err=104)
    st.write()


def shutdown_then_close(st, t, x, old, new):
    """shutdown(SHUT_WR) sends the FIN (old -> new), close() 5 ms later sets
    new again with WRITE_SEQ one past it. Returns the FIN's seq."""
    fin = x.wseq
    st.ev(t, "state", x, old, new, task=True)
    x.wseq += 1
    x.nxt += 1
    st.ev(t + 5 * MS, "state", x, new, new, task=True)
    return fin


def case_shutdown_close_repeat():
    st = Stream("shutdown_close_repeat", """
        Both sides send their FIN with shutdown(SHUT_WR) and then call close()
        while the peer's ACK is still on its way (a slow link, netem): the
        kernel sets the same state again (FIN_WAIT1 -> FIN_WAIT1, LAST_ACK ->
        LAST_ACK), now with WRITE_SEQ one past the FIN. The FINs on the wire
        are C and D, the first entries into FIN_WAIT1 and LAST_ACK.""")
    c, s = lo_pair(cport=44000)
    t = handshake(st, 1 * S, c, s, 8199, rtt=40 * MS)
    transfer(c, s, 300)
    transfer(s, c, 5000)
    t += 100 * MS
    C = shutdown_then_close(st, t, c, "ESTABLISHED", "FIN_WAIT1")
    s.rcv = C + 1
    st.ev(t + 20 * MS, "state", s, "ESTABLISHED", "CLOSE_WAIT")
    c.una += 1
    st.ev(t + 40 * MS, "state", c, "FIN_WAIT1", "FIN_WAIT2")
    st.ev(t + 40 * MS + 1 * US, "time_wait", c, "FIN_WAIT2", "FIN_WAIT2",
          aux=60000, flags=F_TIMEWAIT, wnd=False, info=False)
    st.ev(t + 40 * MS + 2 * US, "state", c, "FIN_WAIT2", "CLOSE", wnd=False)
    t2 = t + 60 * MS
    D = shutdown_then_close(st, t2, s, "CLOSE_WAIT", "LAST_ACK")
    c.rcv = D + 1
    st.ev(t2 + 20 * MS, "tw_rearm", c, "-", "TIME_WAIT", aux=60000,
          flags=F_TIMEWAIT, wnd=False, info=False)
    s.una += 1
    st.ev(t2 + 40 * MS, "state", s, "LAST_ACK", "CLOSE")
    tw_expire(st, t2 + 20 * MS + 60 * S, c)
    st.write()


def case_ring_wrapped():
    st = Stream("ring_wrapped", """
        The ring wrapped before cat ran: the oldest record held is seq 5000,
        and four connections to a remote server are seen mid-way. Each close
        kind is what the states prove: first seen in LAST_ACK, the peer
        closed first (passive); seen only at TIME_WAIT expiry, unknown (active
        or simultaneous, the records do not say); first seen going FIN_WAIT1
        -> CLOSING, simultaneous; first seen in FIN_WAIT1 -> FIN_WAIT2,
        active. Never "active" for want of anything better.""")
    st.skip(5000)
    a = Sock(6001, "10.0.0.1", 50001, "192.0.2.1", 443, pid=501,
             comm="client", isn=1000)
    b = Sock(6002, "10.0.0.1", 50002, "192.0.2.1", 443, isn=2000)
    c = Sock(6003, "10.0.0.1", 50003, "192.0.2.1", 443, isn=3000)
    d = Sock(6004, "10.0.0.1", 50004, "192.0.2.1", 443, isn=4000)
    for x in (a, b, c, d):
        transfer(x, Sock(0, "", 0, "", 0), 100)
        x.rcv = 9001
    st.ev(0, "state", a, "LAST_ACK", "CLOSE")
    tw_expire(st, 1 * MS, b)
    c.wseq += 1
    c.nxt += 1
    st.ev(2 * MS, "state", c, "FIN_WAIT1", "CLOSING")
    c.una += 1
    st.ev(3 * MS, "time_wait", c, "CLOSING", "TIME_WAIT", aux=60000,
          flags=F_TIMEWAIT, wnd=False, info=False)
    st.ev(3 * MS + 1 * US, "state", c, "CLOSING", "CLOSE", wnd=False)
    d.wseq += 1
    d.nxt += 1
    d.una += 1
    st.ev(4 * MS, "state", d, "FIN_WAIT1", "FIN_WAIT2")
    st.ev(4 * MS + 1 * US, "time_wait", d, "FIN_WAIT2", "FIN_WAIT2",
          aux=60000, flags=F_TIMEWAIT, wnd=False, info=False)
    st.ev(4 * MS + 2 * US, "state", d, "FIN_WAIT2", "CLOSE", wnd=False)
    tw_expire(st, 60 * S, c)
    tw_expire(st, 60 * S + 1 * MS, d)
    st.write()


def case_fin_repeat_wrapped():
    st = Stream("fin_repeat_wrapped", """
        The ring wrapped over the start of two connections to a remote
        server, and over their first entries into the closing states: each
        side is first seen setting its state again, as close() after
        shutdown(SHUT_WR) does, LAST_ACK -> LAST_ACK (port 50011) and
        FIN_WAIT1 -> FIN_WAIT1 (port 50012). Each sent 100 bytes after its
        ISN, 1000 and 2000: its FIN is 1101 and 2101, queued by the first
        entry, so the repeat shows WRITE_SEQ (and SND_NXT) one past it, 1102
        and 2102. fin_seq_local must be 1101 and 2101, not the WRITE_SEQ of
        the repeat. The peer's FIN, 9001 (RCV_NXT 9002 at TIME_WAIT), is the
        second side's fin_seq_remote; the first side's came before the gap.""")
    st.skip(7000)
    a = Sock(6011, "10.0.0.1", 50011, "192.0.2.1", 443, pid=511,
             comm="client", isn=1000)
    b = Sock(6012, "10.0.0.1", 50012, "192.0.2.1", 443, pid=512,
             comm="client", isn=2000)
    for x in (a, b):
        transfer(x, Sock(0, "", 0, "", 0), 100)
        x.rcv = 9001
        x.wseq += 1  # the FIN, queued before the ring's oldest record
        x.nxt += 1
    st.ev(0, "state", a, "LAST_ACK", "LAST_ACK", task=True)
    st.ev(1 * MS, "state", b, "FIN_WAIT1", "FIN_WAIT1", task=True)
    a.una += 1
    st.ev(20 * MS, "state", a, "LAST_ACK", "CLOSE")
    b.una += 1
    st.ev(21 * MS, "state", b, "FIN_WAIT1", "FIN_WAIT2")
    st.ev(21 * MS + 1 * US, "time_wait", b, "FIN_WAIT2", "FIN_WAIT2",
          aux=60000, flags=F_TIMEWAIT, wnd=False, info=False)
    st.ev(21 * MS + 2 * US, "state", b, "FIN_WAIT2", "CLOSE", wnd=False)
    b.rcv += 1
    st.ev(40 * MS, "tw_rearm", b, "-", "TIME_WAIT", aux=60000,
          flags=F_TIMEWAIT, wnd=False, info=False)
    tw_expire(st, 40 * MS + 60 * S, b)
    st.want(a, fin_seq_local=1101, close="passive")
    st.want(b, fin_seq_local=2101, fin_seq_remote=9001, close="active")
    st.write()

def case_connect_fails():
    st = Stream("connect_fails", """
        Connect() calls that never reach ESTABLISHED: one the application
        gives up (close() in SYN_SENT: no error, no RST, "aborted"), one that
        an ICMP host unreachable ends (sk_err EHOSTUNREACH, "error", reason
        "unreachable"); two that fail in CLOSE, a connect_error record each:
        no route (ENETUNREACH, reason "no_route") and a broadcast peer
        (EACCES from the route, reason "connect_failed").""")
    for i, (t, err) in enumerate(((0, 0), (1 * S, 113))):
        c = Sock(9201 + i, "10.1.1.1", 52100 + i, "192.0.2.9", 80, pid=3232,
                 comm="curl", isn=55000 + i * 1000)
        c.una, c.nxt, c.wseq = c.isn, c.isn + 1, c.isn + 1
        st.ev(t, "state", c, "CLOSE", "SYN_SENT", task=True, seq=False,
              info=False, wnd=False)
        st.ev(t + 3 * US, "connect", c, "SYN_SENT", "SYN_SENT", task=True,
              info=False)
        st.ev(t + 300 * MS, "state", c, "SYN_SENT", "CLOSE", task=not err,
              sk_err=err)
        st.want(c, isn_local=c.isn, close="error" if err else "aborted",
                reason="unreachable" if err else "aborted")
    for i, (err, reason) in enumerate(((101, "no_route"), (13, "connect_failed"))):
        c = Sock(9211 + i, "0.0.0.0", 0, "198.51.100.%d" % (9 + 246 * i), 443, pid=3233,
                 comm="curl")
        st.ev(2 * S + i * MS, "connect_error", c, "CLOSE", "CLOSE", task=True, seq=False,
              info=False, wnd=False, aux=err)
        st.want(c, role="client", close="error", reason=reason, isn_local=None,
                sk_err="ENETUNREACH" if err == 101 else "EACCES")
    st.write()


def case_comm_escapes():
    st = Stream("comm_escapes", """
        A process named itself with control characters (prctl PR_SET_NAME
        takes any bytes): ESC ] 0 ; x BEL, and a space. /proc/tcpstates
        escapes only whitespace and backslash, so the raw bytes are in the
        record; every human output must show them escaped, none may reach
        the terminal.""")
    c, s = lo_pair(cport=47100)
    c.comm = "evil\\033]0;x\\007\\040z"
    t = handshake(st, 1 * S, c, s, 8199)
    transfer(c, s, 5)
    t = orderly_close(st, t + MS, c, s)
    tw_expire(st, t + 60 * S, c)
    st.write()


def nth_pair(st, t, i, cport, sport, A, B, cookie, req_cookie):
    """The i-th of a case's loopback pairs, opened at t with 100 bytes each way: (c, s, t)."""
    c, s = lo_pair(cport=cport + i, sport=sport + i, A=A * (i + 1), B=B + 1_000_000 * i)
    c.cookie, s.cookie = cookie + 2 * i, cookie + 1 + 2 * i
    t = handshake(st, t, c, s, req_cookie + i)
    transfer(c, s, 100)
    return c, s, t


def case_rst_reasons():
    st = Stream("rst_reasons", """
        Loopback: six clients reset their connections, each a different way,
        with the RCV_UNREAD column. The state record to CLOSE comes first,
        in the closing task, then the RST, as the kernel does both. Without
        a kernel reason (aux 0, before 6.10) the reason is derived where the
        records prove the path: close() over 3000 unread bytes
        (tcp_abort_on_close); SO_LINGER 0 with nothing unread, from
        ESTABLISHED and from CLOSE_WAIT where only the peer's FIN is unread
        (tcp_state); from FIN_WAIT1 nothing is proven ("reset"). Two carry
        the kernel's reason (aux 13, and 16 from FIN_WAIT1, where the records
        alone prove none), which is taken as it is.""", abi=3)
    cases = [  # (old state, unread, aux, reason, unread_at_close)
        ("ESTABLISHED", 3000, 0, "tcp_abort_on_close", 3000),
        ("ESTABLISHED", 0, 0, "tcp_state", 0),
        ("CLOSE_WAIT", 1, 0, "tcp_state", 0),
        ("FIN_WAIT1", 0, 0, "reset", 0),
        ("ESTABLISHED", 10, 13, "tcp_abort_on_close", 10),
        ("FIN_WAIT1", 0, 16, "tcp_state", 0),
    ]
    t = 1 * S
    for i, (old, unread, aux, reason, at_close) in enumerate(cases):
        c, s, t = nth_pair(st, t, i, cport=45800, sport=8300, A=1_000_000,
                           B=2_000_000_000, cookie=8400, req_cookie=8600)
        if old == "CLOSE_WAIT":
            st.ev(t + 1 * MS, "state", c, "ESTABLISHED", "CLOSE_WAIT")
            st.ev(t + 1 * MS, "state", s, "ESTABLISHED", "FIN_WAIT1", task=True)
        elif old == "FIN_WAIT1":
            st.ev(t + 1 * MS, "state", c, "ESTABLISHED", "FIN_WAIT1", task=True)
        c.unread = unread
        st.ev(t + 5 * MS, "state", c, old, "CLOSE", task=True)
        st.ev(t + 5 * MS + 2 * US, "reset_sent", c, "CLOSE", "CLOSE", task=True,
              aux=aux)
        st.ev(t + 5 * MS + 10 * US, "state", s,
              "FIN_WAIT1" if old == "CLOSE_WAIT" else "ESTABLISHED", "CLOSE",
              sk_err=104)
        st.want(c, close="reset_sent", reason=reason, unread_at_close=at_close,
                reason_source="kernel" if aux else "records")
        st.want(s, close="reset_received", reason="reset_received")
        t += 1 * S
    st.write()


def case_fin_timeouts():
    st = Stream("fin_timeouts", """
        The FIN_WAIT2 timer: the client closes, the server acks the FIN and
        never sends its own; the orphan waits in a timewait socket of
        substate FIN_WAIT2 until tcp_fin_timeout (60 s) ends it:
        fin_wait2_timeout. Then a connect() that fails before its SYN
        leaves (every ephemeral port in use: SYN_SENT -> CLOSE, no
        sequence numbers, no connect record, local port 0): no_port. And one
        that fails the same way with its port already chosen (bind() first,
        then a route or memory error): connect_failed.""", abi=3)
    c, s = lo_pair(cport=45900, sport=8390)
    t = handshake(st, 1 * S, c, s, 8690)
    transfer(c, s, 64)
    st.ev(t + 1 * MS, "state", c, "ESTABLISHED", "FIN_WAIT1", task=True)
    c.wseq += 1
    c.nxt = c.wseq
    st.ev(t + 1 * MS + 30 * US, "state", s, "ESTABLISHED", "CLOSE_WAIT")
    c.una = c.wseq
    st.ev(t + 1 * MS + 40 * US, "state", c, "FIN_WAIT1", "FIN_WAIT2")
    st.ev(t + 1 * MS + 41 * US, "time_wait", c, "FIN_WAIT2", "FIN_WAIT2",
          flags=F_TIMEWAIT, info=False, wnd=False, aux=60000)
    st.ev(t + 1 * MS + 42 * US, "state", c, "FIN_WAIT2", "CLOSE")
    st.ev(t + 61 * S, "tw_expire", c, "FIN_WAIT2", "CLOSE", flags=F_TIMEWAIT,
          info=False, wnd=False)
    st.want(c, close="active", reason="fin_wait2_timeout", time_wait_end="expired")
    for i, (lport, why) in enumerate(((0, "no_port"), (45999, "connect_failed"))):
        n = Sock(9300 + i, "127.0.0.1", lport, "127.0.0.1", 5432, pid=3300, comm="psql")
        no_syn_connect(st, t + (62 + i) * S, n, 5 * US)
        st.want(n, close="aborted", reason=why)
    st.write()


def no_syn_connect(st, t, s, took):
    """A connect() that fails before its SYN: SYN_SENT and back to CLOSE, nothing else."""
    st.ev(t, "state", s, "CLOSE", "SYN_SENT", task=True, seq=False, info=False, wnd=False)
    st.ev(t + took, "state", s, "SYN_SENT", "CLOSE", task=True, seq=False, info=False,
          wnd=False)


# A state record into CLOSE carries its timers in aux (uapi TCPSTATES_TIMERS_*).
TIMERS_USER, TIMERS_KEEPALIVE, TIMERS_VALID = 1 << 16, 1 << 17, 1 << 24


def case_listen_pressure():
    st = Stream("listen_pressure", """
        Listener pressure on port 9090 (backlog 1): the listener turns away
        one SYN with its accept queue full (1 of 1), one with its SYN queue
        full and cookies off, answers two with SYN cookies, drops one for
        another reason. One connection waits 5 ms in the accept queue;
        another's final ACK is dropped twice (accept queue full) before its
        child is made, and it is accepted 40 ms later; a third is still
        waiting to be accepted when the input ends.""", abi=3)
    lsk = Sock(9001, "0.0.0.0", 9090, "0.0.0.0", 0, pid=555, comm="app")
    listen(st, 0, lsk)
    t = 1 * S
    for cause in (DROP_ACCEPT_QUEUE | 1 << 8 | 1 << 32, DROP_SYN_QUEUE | 1 << 8,
                  DROP_SYNCOOKIE | 1 << 8, DROP_SYNCOOKIE | 1 << 8, DROP_OTHER | 1 << 8):
        st.ev(t, "listen_drop", lsk, "LISTEN", "LISTEN", seq=False, info=False,
              wnd=False, aux=cause)
        t += 1 * MS
    st.want(lsk, role="listener", listen_drops_accept_queue=1, listen_drops_syn_queue=1,
            listen_syncookies=2, listen_drops_other=1, accept_wait_ns=None,
            acks_dropped=None)
    waits = [(5 * MS, 0), (40 * MS, 2), (None, 0)]
    for i, (wait, drops) in enumerate(waits):
        c = Sock(9100 + i, "127.0.0.1", 47000 + i, "127.0.0.1", 9090, pid=4300 + i,
                 comm="client", isn=7_000_000 + i * 1000)
        s = Sock(9200 + i, "127.0.0.1", 9090, "127.0.0.1", 47000 + i, pid=555,
                 comm="app", isn=8_000_000 + i * 1000)
        st.conn(c)
        st.conn(s)
        t = handshake(st, t, c, s, 9300 + i, accept=wait is not None,
                      acks_dropped=drops, accept_wait=wait or 0)
        st.want(s, role="server", accept_wait_ns=wait, acks_dropped=drops,
                listen_drops_accept_queue=None)
        t += 100 * MS
    st.write()


PORTS_VALID = 1 << 32


def case_port_pressure():
    st = Stream("port_pressure", """
        Ephemeral ports to one destination run out. A client namespace whose
        ip_local_port_range is 40000-40003 (each connect record's aux) opens
        four connections to 10.0.0.5:5432, one a second, and closes each
        first: four TIME_WAITs hold all four ports. The fifth connect() finds
        none (EADDRNOTAVAIL): SYN_SENT -> CLOSE with local port 0, no SYN.
        60 s after the first close its TIME_WAIT expires: one port is free
        again, three are held; over the last minute 3 ports were taken and
        1 freed, so at that rate the last one goes in 30 s.""", abi=3)
    ns_c, ns_s = 4026532600, 4026532601
    lsk = Sock(9601, "0.0.0.0", 5432, "0.0.0.0", 0, pid=600, comm="postgres",
               netns=ns_s)
    listen(st, 0, lsk)
    ports = PORTS_VALID | 40000 | 40003 << 16
    first = None
    for i in range(4):
        c, s = lo_pair(cport=40000 + i, sport=5432, A=11_000_000 + i * 1000,
                       B=12_000_000 + i * 1000, la="10.0.0.1", ra="10.0.0.5",
                       c_netns=ns_c, s_netns=ns_s, cookies=(9610 + 2 * i, 9611 + 2 * i))
        c.comm, s.comm, s.pid = "worker", "postgres", 600
        t = handshake(st, (1 + i) * S, c, s, 9650 + i, ports=ports)
        transfer(c, s, 10)
        orderly_close(st, t + MS, c, s)
        st.want(c, reason="fin")
        first = first or c
    fail = Sock(9660, "10.0.0.1", 0, "10.0.0.5", 5432, pid=4242, comm="worker",
                netns=ns_c, isn=0)
    no_syn_connect(st, 5 * S, fail, 2 * US)
    st.want(fail, close="aborted", reason="no_port", isn_local=None)
    tw_expire(st, 1 * S + 61 * S, first)
    st.write()


def timers(retrans=0, probes=0, user=False, keepalive=False):
    return TIMERS_VALID | retrans | probes << 8 | (TIMERS_USER if user else 0) | \
        (TIMERS_KEEPALIVE if keepalive else 0)


def case_timer_timeouts():
    st = Stream("timer_timeouts", """
        Which timer gave up: five clients lose their peer once established
        and end with ETIMEDOUT; the CLOSE record's aux carries the timers'
        counts (TCPSTATES_TIMERS_VALID). Retransmissions of unacked data
        ran out (15, tcp_retries2): retransmit_timeout. TCP_USER_TIMEOUT set
        (4 retransmissions): user_timeout. Zero-window probes, nothing in
        flight (6 probes): probe_timeout. Keepalive on, 9 probes unanswered:
        the timer sends an RST first, then ETIMEDOUT; with no reason from
        the kernel (before 6.10) the records prove tcp_keepalive_timeout.
        And an older module's CLOSE, aux 0: only "timeout".""", abi=3)
    cases = [  # (aux of the CLOSE record, reset first, reason, retransmits, probes)
        (timers(retrans=15), False, "retransmit_timeout", 15, 0),
        (timers(retrans=4, user=True), False, "user_timeout", 4, 0),
        (timers(probes=6), False, "probe_timeout", 0, 6),
        (timers(probes=9, keepalive=True), True, "tcp_keepalive_timeout", 0, 9),
        (0, False, "timeout", None, None),
    ]
    t = 1 * S
    for i, (aux, rst, reason, retrans, probes) in enumerate(cases):
        c, s, t = nth_pair(st, t, i, cport=46000, sport=8500, A=3_000_000,
                           B=2_500_000_000, cookie=9500, req_cookie=9700)
        if rst:
            st.ev(t + 20 * S, "reset_sent", c, "ESTABLISHED", "ESTABLISHED")
        st.ev(t + 20 * S + 1 * US, "state", c, "ESTABLISHED", "CLOSE", sk_err=110,
              aux=aux)
        st.want(c, close="reset_sent" if rst else "timeout", reason=reason,
                retransmits_at_close=retrans, probes_at_close=probes,
                reason_source="records")
        t += 30 * S
    st.write()


def case_request_ends():
    st = Stream("request_ends", """
        Six requests to one listener end without a child, each freed for its
        own cause (request_end's aux above its low byte): its SYN-ACKs went
        unanswered until its timer gave up; its final ACK was dropped (accept
        queue full) until the timer gave up; its timer found the listener
        closed; an RST; a SYN in its window, which the kernel answers with an
        RST; and an older module's, which does not say.""", abi=3)
    lsk = Sock(9800, "0.0.0.0", 7130, "0.0.0.0", 0, pid=556, comm="app")
    listen(st, 0, lsk)
    cases = [  # (cause, SYN-ACK retransmits, close, reason)
        (REQ_TIMEOUT, 2, "timeout", "synack_timeout"),
        (REQ_ACK_DROPPED, 2, "timeout", "ack_dropped"),
        (REQ_LISTENER, 0, "listener_closed", "listener_closed"),
        (REQ_RESET, 0, "reset_received", "reset_received"),
        (REQ_SEGMENT, 0, "reset_sent", "reset"),
        (0, 5, "timeout", "request_dropped"),
    ]
    t = 1 * S
    for i, (cause, retrans, close, reason) in enumerate(cases):
        req = Sock(9810 + i, "10.0.0.2", 7130, "198.51.100.7", 5600 + i, uid=0,
                   isn=60_000 + i)
        req.una, req.nxt, req.wseq, req.rcv = 60_000 + i, 60_001 + i, 60_001 + i, 88_001 + i
        st.ev(t, "request", req, "-", "NEW_SYN_RECV", flags=F_REQUEST, wnd=False,
              info=False)
        if cause == REQ_ACK_DROPPED:
            st.ev(t + 10 * MS, "listen_drop", req, "NEW_SYN_RECV", "NEW_SYN_RECV",
                  flags=F_REQUEST, wnd=False, info=False, aux=DROP_ACCEPT_QUEUE)
        st.ev(t + 3 * S, "request_end", req, "NEW_SYN_RECV", "-", flags=F_REQUEST,
              wnd=False, info=False, aux=retrans | cause << 8)
        st.want(req, role="server", close=close, reason=reason, synack_retrans=retrans)
        t += 5 * S
    st.write()


if __name__ == "__main__":
    os.makedirs(os.path.join(HERE, "cases"), exist_ok=True)
    for name, fn in sorted(globals().items()):
        if name.startswith("case_"):
            fn()
