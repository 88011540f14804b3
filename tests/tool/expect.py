#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""tests/tool/expect.py NAME.expect JSON - tcptimeline --json against what gen_cases.py put in.

NAME.expect (written by gen_cases.py with the input) holds, per connection side, its cookie and
local port and the values the generator made: ISNs, FINs, close kind. The n-th expectation of a
(cookie, lport) must be the n-th --json object with them, and every field it names must be
equal. Prints each difference, exits 1 if there is any.
"""
import json
import sys


def main():
    want = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    got = [g for g in (json.loads(line) for line in open(sys.argv[2]) if line.strip())
           if 'cookie' in g]
    bad, seen = [], {}
    for w in want:
        key = (w['cookie'], w['lport'])
        n = seen.get(key, 0)
        seen[key] = n + 1
        sides = [g for g in got if (g['cookie'], g['lport']) == key]
        if n >= len(sides):
            bad.append(f'cookie {key[0]} port {key[1]}: connection {n + 1} not in the output')
            continue
        for field, value in w.items():
            if sides[n].get(field) != value:
                bad.append(f'cookie {key[0]} port {key[1]} connection {n + 1}: {field} '
                           f'{sides[n].get(field)!r}, the input has {value!r}')
    for line in bad:
        print(line)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
