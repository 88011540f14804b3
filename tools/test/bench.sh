#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make -C tools bench: each format's rate and peak memory on generated captures of 1 M and 10 M
# records (build/gencap), to /dev/null. records/s is per second of CPU (user + system, from
# /usr/bin/time), so a busy host slows the wall clock but not the figure much; peak RSS is the
# maximum resident set. The targets: 2 M records/s for every text format, 64 MiB.
set -eu
TT=${TT:-./tcptimeline}
GENCAP=${GENCAP:-build/gencap}
CAP=${BENCH_CAP:-/tmp/tcptimeline-bench.$$.tcpcap}
trap 'rm -f "$CAP" "$CAP.time"' EXIT

printf '%-9s %-10s %12s %10s %12s\n' records format records/s cpu_s peak_RSS_MiB
for n in ${BENCH_SIZES:-1000000 10000000}; do
	"$GENCAP" "$n" > "$CAP"
	recs=$((($(stat -c %s "$CAP") - 160) / 176)) # the header -w writes, then records
	for fmt in timeline brief ladder json csv stats dump svg write bench; do
		case $fmt in
		svg) opt="--svg /dev/null" ;;
		write) opt="-w /dev/null" ;;
		bench) opt="--bench" ;;	# decode and reconstruction alone
		*) opt=--$fmt ;;
		esac
		# shellcheck disable=SC2086 # the options are words
		/usr/bin/time -f '%U %S %M' -o "$CAP.time" "$TT" -r "$CAP" $opt > /dev/null 2>&1
		read -r u s m < "$CAP.time"
		awk -v n="$recs" -v f="$fmt" -v u="$u" -v s="$s" -v m="$m" 'BEGIN {
			c = u + s; printf "%-9d %-10s %12.0f %10.2f %12.1f\n", n, f, (c > 0 ? n / c : 0), c, m / 1024 }'
	done
done
