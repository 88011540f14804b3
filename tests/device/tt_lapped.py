#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""tt_lapped.py CAPTURE - a capture tcptimeline wrote while the ring lapped it (run-guest.sh).

Its records must run on without a gap but one, and that gap must be covered by exactly one LOST
marker (kind 13) whose seq is the first record missed and whose aux is how many: the next
record's seq is the marker's seq + aux, and records follow it.
Prints what it saw; exits 1 when the capture says otherwise.
"""
import struct
import sys

HEADER_SIZE_AT = 12  # capture header: magic[8], version u32, header_size u32
RECORD = 176
LOST = 13


def main():
    data = open(sys.argv[1], "rb").read()
    (hsize,) = struct.unpack_from("<I", data, HEADER_SIZE_AT)
    recs = []
    for off in range(hsize, len(data) - RECORD + 1, RECORD):
        seq, _ts, _cookie, aux = struct.unpack_from("<QQQQ", data, off)
        (kind,) = struct.unpack_from("<H", data, off + 64)
        recs.append((seq, kind, aux))
    if (len(data) - hsize) % RECORD:
        sys.exit("%d bytes after the header: not whole records" % (len(data) - hsize))
    markers = [i for i, r in enumerate(recs) if r[1] == LOST]
    expect, bad = None, []
    for seq, kind, aux in recs:
        if expect is not None and seq != expect:
            bad.append("seq %d, want %d" % (seq, expect))
        expect = seq + aux if kind == LOST else seq + 1
    lost = sum(recs[i][2] for i in markers)
    print("%d records, %d LOST marker%s for %d lost, seq %d to %d" % (
        len(recs) - len(markers), len(markers), "" if len(markers) == 1 else "s", lost,
        recs[0][0] if recs else -1, recs[-1][0] if recs else -1))
    if len(markers) != 1 or bad or markers[0] == len(recs) - 1 or lost < 1:
        for b in bad[:5]:
            print("# " + b)
        sys.exit(1)


main()
