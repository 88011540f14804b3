#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""tests/debug-kernel/kmsgtail.py OUT - every kernel log record from now on, into OUT, until SIGTERM.

failinit.sh scans the kernel log of its sweep. Cut from `dmesg` between two markers, that window
could be empty without a word: the sweep's allocation-failure warnings can push the start marker
out of the 128 KiB ring. Read from /dev/kmsg instead, each record is read once, by its sequence
number, as it is written: a record the ring overwrote before it was read (EPIPE) or a jump in the
sequence numbers is a line "GAP ..." in OUT, and the caller fails the check on it.
"""
import os
import signal
import sys


def main():
    fd = os.open('/dev/kmsg', os.O_RDONLY)
    os.lseek(fd, 0, os.SEEK_END)         # from the next record on
    out = open(sys.argv[1], 'w', buffering=1)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print('kmsgtail: reading', file=out)  # the caller waits for this line before its marker
    last = None
    while True:
        try:
            rec = os.read(fd, 8192).decode(errors='replace')
        except BrokenPipeError:
            out.write('GAP: records overwritten before they were read\n')
            continue
        head, _, text = rec.partition(';')
        seq = int(head.split(',')[1])
        if last is not None and seq != last + 1:
            out.write(f'GAP: sequence {last} then {seq}\n')
        last = seq
        out.write(text.split('\n', 1)[0] + '\n')


if __name__ == '__main__':
    main()
