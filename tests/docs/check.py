#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check the documentation against what the code prints and declares (tests/docs/run.sh).

Usage: check.py DEMO_OUTPUT MODINFO_PARMS FIRST_TEST_NUMBER

Each check is one TAP line; the numbering continues from FIRST_TEST_NUMBER.
  columns   tcpstates(4)'s /proc/tcpstates columns are the header the module printed
  stats     tcpstates(4)'s /proc/tcpstates_stats keys are the keys the module printed
  events    tcpstates(4)'s EVENTS are the UAPI header's event list
  params    tcpstates(4)'s PARAMETERS are the module's (modinfo)
  readme    every README.md example of a command ("$ CMD" on its first line) is one the demo
            runs and shows what the demo printed (the numbers that differ from run to run
            aside, see norm; a line "..." stands for lines left out; /proc/tcpstates rows as a
            set, scheduling's columns aside: see proc_row)
"""
import os
import re
import sys

TOP = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
demo_file, parms_file, n = sys.argv[1], sys.argv[2], int(sys.argv[3]) - 1
failed = 0


def tap(ok, name, evidence=()):
    global n, failed
    n += 1
    failed += not ok
    print(f"{'ok' if ok else 'not ok'} {n} - docs: {name}")
    if not ok:
        for line in list(evidence)[:15]:
            print(f'#   {line}')


def man_section(text, start, stop):
    """The names a man page section defines: the words of each .TP entry's tag line."""
    lines = text.split(start, 1)[1].split(stop, 1)[0].splitlines()
    words = []
    for i, line in enumerate(lines[:-1]):
        m = re.match(r'^\.(B|BI) (.*)$', lines[i + 1]) if line.startswith('.TP') else None
        if m and m[1] == 'BI':      # .BI alternates bold and italic: hook_ NAME is hook_NAME
            words.append(''.join(w.strip('"') for w in m[2].split()))
        elif m:
            words += [w.strip('"') for w in m[2].split()]
    return words


def demo_steps(text):
    """The demo's output as {command: [lines]}, from its '$ command' lines."""
    steps, cur = {}, None
    for line in text.splitlines():
        if line.startswith('$ '):
            cur = line[2:].split('  #')[0].strip()
            steps[cur] = []
        elif cur is not None:
            steps[cur].append(line)
    return steps


# The numbers that differ from one run of the demo to the next, made alike by norm: wall-clock
# times and durations (and a duration's unit with them: 769.640us one run, 1.2ms the next),
# the ISNs and FINs and what follows from them, nanosecond times (6 digits and more; but the
# initial network namespace's inode is the same on every boot), ephemeral ports (32768-60999:
# the client's), and a process's pid and a socket's cookie. Every other number must be the
# demo's: a capacity, a record count, a port, an address, a window, a byte count.
INIT_NETNS = '4026531840'


def vary(m):
    n = m.group(0)
    if n == INIT_NETNS:
        return n
    if len(n) >= 6 or (len(n) == 5 and 32768 <= int(n) <= 60999):
        return 'N'
    return n


def norm(line):
    """A line with the numbers that differ from run to run made alike (see above), a cookie's
    hex form (sk:a is cookie 10) with its number."""
    line = re.sub(r'\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+\b', 'TIME', line)
    line = re.sub(r'\b\d+(\.\d+)?(ns|us|µs|ms|s)\b', 'DUR', line)
    line = re.sub(r'\b(pid|cookie) \d+\b', r'\1 N', line)
    line = re.sub(r'\(sk:[0-9a-f]+\)', '(sk:N)', line)
    return ' '.join(re.sub(r'\b\d+\b', vary, line).split())


def proc_row(line, header):
    """A /proc/tcpstates row with the columns scheduling decides replaced by '*'."""
    cols = line.split()
    if len(cols) != len(header) or cols == header:
        return line
    for name in ('CPU', 'PID', 'COMM', 'TGID', 'CTX'):
        cols[header.index(name)] = '*'
    # the record's place in the ring (the order is the scheduler's), the socket's cookie and
    # the smoothed RTT (the host's speed) differ from run to run
    for name in ('SEQ', 'COOKIE', 'SRTT_US'):
        if cols[header.index(name)] != '-':
            cols[header.index(name)] = 'N'
    return ' '.join(cols)


man4 = open(os.path.join(TOP, 'module/tcpstates.4')).read()
uapi = open(os.path.join(TOP, 'module/uapi/tcpstates.h')).read()
steps = demo_steps(open(demo_file).read())

header = (steps.get('cat /proc/tcpstates') or [''])[0].split()
documented = man_section(man4, '.SS /proc/tcpstates\n', '.SS /proc/tcpstates_stats')
tap(documented == header and header, 'tcpstates(4) lists the columns /proc/tcpstates prints, in order',
    [f'man page: {" ".join(documented)}', f'module:   {" ".join(header)}'])

printed = [re.sub(r'^(hook|missed|mechanism)_.*', r'\1_', line.split()[0])
           for line in steps.get('cat /proc/tcpstates_stats', []) if line.strip()]
printed = sorted(set(printed))
keys = [re.sub(r'^(hook|missed|mechanism)_.*', r'\1_', w)
        for w in man_section(man4, '.SS /proc/tcpstates_stats', '.SS /dev/tcpstates')]
keys = sorted(set(keys))
tap(keys == printed and printed, 'tcpstates(4) documents every /proc/tcpstates_stats key the module prints',
    [f'documented only: {sorted(set(keys) - set(printed))}',
     f'printed only:    {sorted(set(printed) - set(keys))}'])

events = re.findall(r'^\tX\(\w+,\s*(\w+),\s*\d+\)', uapi.split('#define TCPSTATES_EVENT_LIST', 1)[1]
                    .split('\n\n', 1)[0], re.M)
man_events = man_section(man4, '.SH EVENTS', '.SH PARAMETERS')
tap(man_events == events and events, 'tcpstates(4) EVENTS are the UAPI event list, in order',
    [f'man page: {man_events}', f'uapi:     {events}'])

parms = sorted(line.split(':', 1)[0] for line in open(parms_file) if ':' in line)
man_parms = sorted(man_section(man4, '.SH PARAMETERS', '.SH EXAMPLES'))
tap(man_parms == parms and parms, f'tcpstates(4) PARAMETERS are the module\'s ({len(parms)})',
    [f'modinfo:  {parms}', f'man page: {man_parms}'])

# README: code blocks whose first line is "$ CMD" for a CMD the demo ran
readme = open(os.path.join(TOP, 'README.md')).read()
blocks = re.findall(r'^```\n(.*?)^```', readme, re.M | re.S)
bad, seen, examples = [], 0, 0
for block in blocks:
    lines = block.rstrip('\n').split('\n')
    if not lines[0].startswith('$ '):
        continue
    examples += 1
    cmd = lines[0][2:].split('  #')[0].strip()
    if cmd not in steps:
        bad.append(f'$ {cmd}: a README example of a command the demo does not run')
        continue
    seen += 1
    if cmd == 'cat /proc/tcpstates':
        # Which records a loopback handshake makes is fixed; their order and who runs them is
        # not. The SYN and the SYN-ACK run in the softirq that the sender's own bh-enable runs
        # (the request record before the client's connect record, the client's ESTABLISHED in
        # its task), unless ksoftirqd is already awake on that CPU: then they run there, later
        # (connect before request, ESTABLISHED in softirq with no process). Evidence:
        # docs/evidence/demo-order/. So the rows are compared as a set, with
        # the columns that scheduling decides (CPU, PID, COMM, TGID, CTX) made alike.
        want = [norm(proc_row(x, header)) for x in lines[1:]]
        got = [norm(proc_row(x, header)) for x in steps[cmd]]
        for w in want:
            if w == '...':
                continue
            if w not in got:
                bad.append(f'$ {cmd}: README row not printed by the demo: {w[:90]}')
                break
            got.remove(w)
        continue
    want = [norm(x) for x in lines[1:]]
    got = [norm(x) for x in steps[cmd]]
    pos = 0
    for w in want:
        if w == '...':
            continue
        try:
            pos = got.index(w, pos) + 1
        except ValueError:
            bad.append(f'$ {cmd}: README line not printed by the demo (in this order): {w[:90]}')
            break
tap(seen >= 3 and seen == examples and not bad,
    f'README.md examples match what the demo prints ({seen} of {examples} examples)',
    bad + ([] if seen >= 3 else [f'only {seen} README examples of demo commands found']))
sys.exit(1 if failed else 0)
