#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""tests/debug-kernel/failsites.py TRACE TOTAL - which of a load's failable allocations to fail.

TRACE is the ftrace buffer of one calibration load (failinit.sh): kprobe events `enter` and
`leave` at finit_module()'s entry and return, and between them an event `site` at each call of
should_fail() (lib/fault-inject.c, where /proc/thread-self/fail-nth counts), each followed by its
kernel stack (options/stacktrace), all filtered to the failnth process. The Nth site event is the
allocation that fail-nth N fails.

A run of consecutive sites with the same stack, return addresses and offsets included, is one
allocation in a loop: register_kretprobe() allocating each of the connect hook's 256 instances,
one at a time, on 6.1. Failing its 2nd to its 255th takes the same error path as failing its
first or its last, one load each. So each run is failed at its first and its last site, and
every site that differs from both neighbours is failed as before.

Prints the site numbers to fail, one per line, and on stderr a summary; exits 1 (printing
nothing on stdout) when the trace does not hold exactly TOTAL sites between one enter and one
leave: then the caller fails every site, as it did before.
"""
import sys


def sites(path):
    stacks, cur, state = [], None, 'before'
    for line in open(path, errors='replace'):
        if line.startswith('#'):
            continue
        if line.startswith(' => '):
            if cur is not None:
                cur.append(line[4:].strip())
            continue
        if '<stack trace>' in line:      # the header of the stack of the event before it
            continue
        cur = None
        if ' enter: ' in line:
            if state != 'before':
                raise ValueError('a second finit_module() entry')
            state = 'in'
        elif ' leave: ' in line:
            if state != 'in':
                raise ValueError('finit_module() returned before it was entered')
            state = 'after'
        elif ' site: ' in line and state == 'in':
            cur = []
            stacks.append(cur)
    if state != 'after':
        raise ValueError(f'finit_module() {"never entered" if state == "before" else "never returned"}')
    if any(not s for s in stacks):
        raise ValueError('a site without its stack (is options/stacktrace on?)')
    return [tuple(s) for s in stacks]


def main():
    path, total = sys.argv[1], int(sys.argv[2])
    try:
        stacks = sites(path)
    except (OSError, ValueError) as e:
        print(f'failsites: {e}', file=sys.stderr)
        return 1
    if len(stacks) != total:
        print(f'failsites: {len(stacks)} sites traced, fail-nth counted {total}', file=sys.stderr)
        return 1
    chosen, runs, longest = [], 0, 0
    for i, s in enumerate(stacks):
        first = i == 0 or stacks[i - 1] != s
        last = i == total - 1 or stacks[i + 1] != s
        if first:
            n = 1
            while i + n < total and stacks[i + n] == s:
                n += 1
            if n > 2:
                runs += 1
                longest = max(longest, n)
        if first or last:
            chosen.append(i + 1)
    for n in chosen:
        print(n)
    print(f'failsites: {total} sites, {len(chosen)} to fail; {total - len(chosen)} inside '
          f'{runs} runs of an identical stack (the longest {longest}) are not failed',
          file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
