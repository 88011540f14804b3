#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Checks tcptimeline --diagram-svg against --json of the same input, counted here on its own.

  diagram_check.py edges JSON SVG    every edge's count = the transitions of --json's states
  diagram_check.py times JSON SVG    p50 and p99 within 1/64 of the exact nearest-rank values
  diagram_check.py figure SVG...     each of RFC 9293 Figure 5's 20 edges is drawn in every SVG
  diagram_check.py lit JSON SVG      one conversation: the edges drawn lit are its sides' edges

An edge is a pair of consecutive states of a side; a side's first state is an edge only from
CLOSE (into SYN_SENT or LISTEN) or from LISTEN (into NEW_SYN_RECV, or into SYN_RECV for a server).
A side that ends in CLOSE by a reset, a refusal, a timeout or an error took the figure's edge
"off" the figure (the figure has no such arrow). The time of an edge is the time in its source
state: the next state's entry minus the source's. Prints what differs; exits 1 if anything does.
"""
import json
import math
import sys
import xml.etree.ElementTree as ET

NS = '{http://www.w3.org/2000/svg}'
FIGURE = {('CLOSE', 'LISTEN'), ('CLOSE', 'SYN_SENT'), ('LISTEN', 'CLOSE'), ('LISTEN', 'SYN_RECV'),
          ('LISTEN', 'SYN_SENT'), ('SYN_SENT', 'CLOSE'), ('SYN_SENT', 'SYN_RECV'),
          ('SYN_SENT', 'ESTABLISHED'), ('SYN_RECV', 'LISTEN'), ('SYN_RECV', 'ESTABLISHED'),
          ('SYN_RECV', 'FIN_WAIT1'), ('ESTABLISHED', 'FIN_WAIT1'), ('ESTABLISHED', 'CLOSE_WAIT'),
          ('FIN_WAIT1', 'FIN_WAIT2'), ('FIN_WAIT1', 'CLOSING'), ('FIN_WAIT2', 'TIME_WAIT'),
          ('CLOSING', 'TIME_WAIT'), ('TIME_WAIT', 'CLOSE'), ('CLOSE_WAIT', 'LAST_ACK'),
          ('LAST_ACK', 'CLOSE')}
ABNORMAL = {'reset_sent', 'reset_received', 'refused', 'timeout', 'error'}


def sides(path):
    with open(path) as f:
        return [d for d in map(json.loads, f) if 'states' in d]


def edges_of(side):
    """(from, to, off, seconds-or-None) for each edge the side took."""
    st = side['states']
    for i, s in enumerate(st):
        to = s['state']
        if i:
            frm = st[i - 1]['state']
        elif to in ('SYN_SENT', 'LISTEN'):
            frm = 'CLOSE'
        elif to == 'NEW_SYN_RECV' or (to == 'SYN_RECV' and side['role'] == 'server'):
            frm = 'LISTEN'
        else:
            continue
        off = ((frm, to) in FIGURE and to == 'CLOSE' and i == len(st) - 1
               and side['close'] in ABNORMAL)
        dt = s['enter_ns'] - st[i - 1]['enter_ns'] if i else None
        yield frm, to, off, dt


def svg_edges(path):
    out = []
    for g in ET.parse(path).getroot().iter(NS + 'g'):
        if 'edge' in g.get('class', '').split():
            out.append(g)
    return out


def nearest_rank(v, p):
    v = sorted(v)
    return v[min(len(v), max(1, math.ceil(p * len(v) - 1e-9))) - 1]


def check_edges(js, svg):
    want, got, bad = {}, {}, []
    for s in sides(js):
        for frm, to, _, _ in edges_of(s):
            want[(frm, to)] = want.get((frm, to), 0) + 1
    for g in svg_edges(svg):
        k = (g.get('data-from'), g.get('data-to'))
        got[k] = got.get(k, 0) + int(g.get('data-count'))
    for k in sorted(set(want) | set(got)):
        if want.get(k, 0) != got.get(k, 0):
            bad.append(f'{k[0]} -> {k[1]}: json {want.get(k, 0)}, diagram {got.get(k, 0)}')
    return bad


def check_times(js, svg):
    samples, bad, seen = {}, [], 0
    for s in sides(js):
        for frm, to, off, dt in edges_of(s):
            if dt is not None:
                samples.setdefault((frm, to, off), []).append(dt)
    for g in svg_edges(svg):
        k = (g.get('data-from'), g.get('data-to'), g.get('data-off') == '1')
        v = samples.pop(k, [])
        for p, attr in ((0.5, 'data-p50-ns'), (0.99, 'data-p99-ns')):
            if not v and g.get(attr) is None:
                continue
            if not v or g.get(attr) is None:
                bad.append(f'{k}: {attr} {g.get(attr)}, json has {len(v)} samples')
                continue
            exact, shown = nearest_rank(v, p), int(g.get(attr))
            seen += 1
            if abs(shown - exact) * 64 > exact:  # the sketch's bound: 1/64
                bad.append(f'{k[0]} -> {k[1]} {attr}: {shown}, exact {exact}')
    bad += [f'{k}: {len(v)} samples the diagram has no edge for' for k, v in samples.items()]
    return bad


def check_figure(svgs):
    bad = []
    for svg in svgs:
        drawn = {(g.get('data-from'), g.get('data-to')) for g in svg_edges(svg)
                 if g.get('data-figure') == '1' and g.find(NS + 'polyline') is not None}
        bad += [f'{svg}: {a} -> {b} not drawn' for a, b in sorted(FIGURE - drawn)]
    return bad


def check_lit(js, svg):
    want = set()
    for s in sides(js):
        want |= {(f, t, o) for f, t, o, _ in edges_of(s)}
    got = {(g.get('data-from'), g.get('data-to'), g.get('data-off') == '1')
           for g in svg_edges(svg) if 'lit' in g.get('class').split()}
    return [f'{k}: lit {k in got}, taken {k in want}' for k in sorted(want ^ got)]


def main():
    what, args = sys.argv[1], sys.argv[2:]
    bad = {'edges': check_edges, 'times': check_times, 'lit': check_lit}[what](*args) \
        if what != 'figure' else check_figure(args)
    for b in bad[:10]:
        print('#', b)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
