#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/vm/demo-guest.sh - runs INSIDE the guest for tests/vm/demo.sh: the typical session.
set -uo pipefail

SCEN=tests/scenarios/tcpscen
TT=tools/tcptimeline
CAP=/tmp/demo.tcpcap

step()
{
	printf '\n$ %s\n' "$*"
}

step "insmod tcpstates.ko"
insmod "$TCPSTATES_KO" || exit 1
dmesg | sed -n 's/^\[[ 0-9.]*\] \(tcpstates: loaded.*\)/\1/p'

step "tcptimeline -w $CAP &      # record from /dev/tcpstates while the traffic runs"
$TT -w "$CAP" &
rec=$!

step "(a client says hello to a server on 127.0.0.1:8080; the client closes first)"
$SCEN conv demo --port 8080 --close client >/dev/null
step "(a connect to 127.0.0.1:8081, where nothing listens)"
$SCEN refused demo 127.0.0.1 8081 >/dev/null
step "(the same exchange over IPv6 on [::1]:8082; the server closes first)"
$SCEN conv demo --server ::1 --port 8082 --close server >/dev/null

step "cat /proc/tcpstates"
cat /proc/tcpstates
step "cat /proc/tcpstates_stats"
cat /proc/tcpstates_stats

step "kill -INT %1      # stop the recording, as Ctrl-C would"
kill -INT $rec
wait $rec
step "tcptimeline -r $CAP"
$TT -r "$CAP"
step "tcptimeline -r $CAP --ladder --port 8080"
$TT -r "$CAP" --ladder --port 8080
step "rmmod tcpstates"
rmmod tcpstates
