#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""tests/tool/statsjson.py STATS STATSJSON: --stats-json says what --stats says.

STATS is the text of `tcptimeline --stats` (checked against its goldens), STATSJSON the one line
`--stats-json` printed for the same input. Every figure the text shows is looked up in the JSON:
records and losses, connections by role, close kind and reason, per listener its connections and
what it turned away, per destination (the ten the text shows; the rest summed on its "more"
line) connects, EADDRNOTAVAIL, TIME_WAIT and ports held now and at most, range, ports left, the
last minute's ports taken and freed and whether none are left; TIME_WAIT entered, expired,
killed and skipped; resets and connections with SYN retries. Prints what differs; exit 1 if
anything does.
"""
import json
import re
import sys


def main(text_path, json_path):
    with open(text_path) as f:
        text = f.read().splitlines()
    with open(json_path) as f:
        lines = f.read().splitlines()
    bad = []

    def want(what, got, exp):
        if got != exp:
            bad.append(f'{what}: json {got!r}, text {exp!r}')

    if len(lines) != 1:
        print(f'{json_path}: {len(lines)} lines, not 1')
        return 1
    j = json.loads(lines[0])

    m = re.match(r'records (\d+), lost markers (\d+) \((\d+) records? lost\)', text[0])
    want('records', (j['records'], j['lost_markers'], j['lost_records']),
         tuple(int(x) for x in m.groups()))
    roles, closes, reasons = {}, {}, {}
    lst, dests, more = [], [], None
    for i, line in enumerate(text):
        if m := re.match(r'connections (\d+) \(incomplete (\d+)\)$', line):
            want('connections', (j['connections'], j['incomplete']),
                 tuple(int(x) for x in m.groups()))
        elif m := re.match(r'  (role|close|reason) +(\S+) +(\d+)$', line):
            {'role': roles, 'close': closes, 'reason': reasons}[m[1]][m[2]] = int(m[3])
        elif m := re.match(r'  netns (\d+) port (\d+)$', line):
            c = re.match(r'    connections (\d+): established (\d+), accepted (\d+), request '
                         r'dropped (\d+) \(SYN-ACKs unanswered (\d+)\), final ACKs dropped (\d+)$',
                         text[i + 1])
            d = dict(re.findall(r' (\w+) (\d+)', text[i + 2].split('(')[0]))
            lst.append({'netns': int(m[1]), 'port': int(m[2]),
                        **dict(zip(('connections', 'established', 'accepted', 'request_dropped',
                                    'synack_timeout', 'acks_dropped'), map(int, c.groups()))),
                        'listen_drop': {k: int(v) for k, v in d.items()}})
        elif m := re.match(r'  netns (\d+) (\S+) -> (\S+):(\d+)$', line):
            c = re.match(r'    connects (\d+), no free port \(EADDRNOTAVAIL\) (\d+)', text[i + 1])
            t = re.match(r'    TIME_WAIT (\d+) \(peak (\d+)\)$', text[i + 2])
            h = re.match(r'    ports held (\d+) \(peak (\d+)\)(?: of (\d+)-(\d+): (\d+) left)?',
                         text[i + 3])
            d = {'netns': int(m[1]), 'laddr': m[2], 'raddr': m[3].strip('[]'),
                 'rport': int(m[4]), 'connects': int(c[1]), 'no_port': int(c[2]),
                 'time_wait': int(t[1]), 'time_wait_peak': int(t[2]),
                 'held': int(h[1]), 'held_peak': int(h[2])}
            if h[3]:
                d.update(port_low=int(h[3]), port_high=int(h[4]), left=int(h[5]))
            if i + 4 < len(text) and (w := re.match(r'    last \S+: (\d+) taken, (\d+) freed(.*)$',
                                                     text[i + 4])):
                d.update(taken=int(w[1]), freed=int(w[2]))
                d['none_left'] = w[3] == ': none left'
                d['filling'] = w[3].startswith(': at that rate')
            dests.append(d)
        elif m := re.match(r'  (\d+) more: ports held (\d+), TIME_WAIT (\d+)$', line):
            more = tuple(int(x) for x in m.groups())
        elif m := re.match(r'TIME_WAIT entered (\d+), expired (\d+), killed (\d+), skipped '
                           r'\(tw_overflow\) (\d+)$', line):
            want('time_wait', j['time_wait'], dict(zip(('entered', 'expired', 'killed', 'skipped'),
                                                       map(int, m.groups()))))
        elif m := re.match(r'resets (\d+), connections with SYN retries (\d+)$', line):
            want('resets', (j['resets'], j['syn_retry_connections']),
                 tuple(int(x) for x in m.groups()))
    want('roles', j['roles'], roles)
    want('closes', j['closes'], closes)
    want('reasons', j['reasons'], reasons)
    want('listeners', [{k: v for k, v in x.items() if k != 'accept_wait_ns'}
                       for x in j['listeners']], lst)
    jd = j['destinations']
    for k, d in enumerate(dests):
        got = dict(jd[k]) if k < len(jd) else {}
        if 'none_left' in d:
            got['none_left'] = got.get('exhausted_in_ns') == 0
            got['filling'] = bool(got.get('exhausted_in_ns'))
        want(f'destination {k}', {x: got.get(x) for x in d}, d)
    rest = jd[len(dests):]
    want('destinations beyond those shown',
         (len(rest), sum(x['held'] for x in rest), sum(x['time_wait'] for x in rest)) if rest
         else None, more)
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(*sys.argv[1:]))
