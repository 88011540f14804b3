#!/usr/bin/env python3
# victim.py follow|pause STOPFILE: a reader of /dev/tcpstates in a container's network namespace,
# from the head at its start (then it creates STOPFILE.MODE.ready) until STOPFILE exists.
# follow: reads as records come (poll + read), then drains what is left.
# pause:  opens, sleeps until STOPFILE exists (a stalled or batch consumer), then drains.
# Prints "MODE records=R lost=L markers=M span=S" (span: the last seq read - the first + 1).
import fcntl
import os
import select
import struct
import sys
import time

RS = 176
LOST = 13
mode, stop = sys.argv[1], sys.argv[2]
fd = os.open('/dev/tcpstates', os.O_RDONLY | os.O_NONBLOCK)
fcntl.ioctl(fd, 0xE702, 0)  # TCPSTATES_IOC_SEEK_HEAD: this run's records only
open(f'{stop}.{mode}.ready', 'w').close()
recs = lost = markers = 0
first = last = None


def drain():
    global recs, lost, markers, first, last
    while True:
        try:
            buf = os.read(fd, RS * 256)
        except BlockingIOError:
            return
        for off in range(0, len(buf), RS):
            seq, = struct.unpack_from('<Q', buf, off)
            aux, = struct.unpack_from('<Q', buf, off + 24)
            kind, = struct.unpack_from('<H', buf, off + 64)
            first = seq if first is None else first
            if kind == LOST:
                markers += 1
                lost += aux
                last = seq + aux - 1
            else:
                recs += 1
                last = seq


if mode == 'pause':
    while not os.path.exists(stop):
        time.sleep(0.2)
else:
    p = select.poll()
    p.register(fd, select.POLLIN)
    while not os.path.exists(stop):
        if p.poll(200):
            drain()
drain()
span = 0 if first is None else last - first + 1
print(f'{mode} records={recs} lost={lost} markers={markers} span={span}')
