#!/bin/bash
# Offline tests for tools/tcptimeline, TAP output.
#
#   tests/tool/run.sh            run everything (make -C tools test)
#   UPDATE=1 tests/tool/run.sh   rewrite the expected outputs from the tool
#
# Golden cases: cases/NAME.txt (/proc/tcpstates text) or cases/NAME.tcpcap
# (a capture written with -w). Expected outputs next to it: NAME.out (default
# timeline), .brief, .json, .ladder, .csv, .stats, .svg, .diagram (in a UTF-8
# locale); a missing one fails until
# UPDATE=1 writes it (never when CI is set). NAME.expect, written by gen_cases.py with the
# input, holds what the generator put in (ISNs, FINs, close kinds): --json must show it,
# whatever the goldens say (expect.py). Malformed inputs: malformed/NAME.txt or generated
# binary ones, each with NAME.err (expected stderr) and exit status 3.
set -u
export TZ=UTC	# wall-clock times in the goldens are local time
HERE=$(cd "$(dirname "$0")" && pwd)
TOOLS=$(cd "$HERE/../../tools" && pwd)
TT=${TT:-$TOOLS/tcptimeline}
O=${O:-$TOOLS/build}
ASAN=$O/tcptimeline-asan
UPDATE=${UPDATE:-0}
# A golden is the tool's own output, checked by a person when it is written: never in CI, where
# UPDATE=1 would turn every golden check into "ok (updated)".
if [ "$UPDATE" = 1 ] && [ -n "${CI:-}" ]; then
	echo "$0: UPDATE=1 is refused when CI is set" >&2
	exit 2
fi
FUZZ_RUNS=${FUZZ_RUNS:-3000}	# about 7.5 s of CPU (4.4 before the diagram joined); make -C tools fuzz runs longer
HDR=160	# the capture header -w writes (tools/decode/capture.c); older writers wrote 64
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# shellcheck source=tests/lib/tap.sh
. "$HERE/../lib/tap.sh"	# ok, not_ok, skip, tap_plan: the lines every suite prints

# golden NAME EXPECTED ACTUAL: compare (or update) a file.
golden() {
	local name=$1 exp=$2 act=$3
	if [ "$UPDATE" = 1 ]; then
		cp "$act" "$exp"
		ok "$name (updated)"
	elif [ ! -f "$exp" ]; then
		not_ok "$name: no $(basename "$exp"); run UPDATE=1 $0"
	elif diff -u "$exp" "$act" > "$TMP/diff"; then
		ok "$name"
	else
		not_ok "$name"
		sed 's/^/# /' "$TMP/diff" | head -40
	fi
}

# same NAME A B: two outputs that must be identical
same() {
	if cmp -s "$2" "$3"; then
		ok "$1"
	else
		not_ok "$1"
		diff -u "$2" "$3" | sed 's/^/# /' | head -20
	fi
}

# expect NAME RC STDERR CMD...: exit status RC and exactly STDERR on stderr
expect() {
	local name=$1 rc=$2 err=$3 got
	shift 3
	"$@" > "$TMP/expect.out" 2> "$TMP/expect.err"
	got=$?
	if [ "$got" = "$rc" ] && [ "$(cat "$TMP/expect.err")" = "$err" ]; then
		ok "$name"
	else
		not_ok "$name (exit $got)"
		sed 's/^/# /' "$TMP/expect.err" | head -5
	fi
}
# filt NAME WANT CASE ARGS...: the JSON lines (sides) shown
filt() {
	local name=$1 want=$2 case=$3 got
	shift 3
	got=$("$TT" -T "$HERE/cases/$case.txt" --json "$@" 2> /dev/null | grep -c '"cookie"')
	[ "$got" = "$want" ] && ok "filter $name" || not_ok "filter $name: $got sides, want $want"
}

input_args() {
	case $1 in
	*.txt) echo "-T $1" ;;
	*) echo "-r $1" ;;
	esac
}

# ---- golden cases ----
for in in "$HERE"/cases/*.txt "$HERE"/cases/*.tcpcap; do
	[ -f "$in" ] || continue
	base=${in%.*}
	name=$(basename "$base")
	args=$(input_args "$in")
	for fmt in out brief json ladder csv stats svg diagram; do
		case $fmt in
		out) opt= ;;
		svg) opt="--svg $TMP/$name.svg" ;;
		*) opt=--$fmt ;;
		esac
		# shellcheck disable=SC2086
		LC_ALL=C.UTF-8 "$TT" $args $opt > "$TMP/$name.$fmt" 2> "$TMP/err"
		rc=$?
		[ "$fmt" = svg ] && cp "$TMP/$name.svg" "$TMP/$name.$fmt" 2>/dev/null
		if [ $rc -ne 0 ]; then
			not_ok "$name $fmt: exit $rc: $(head -1 "$TMP/err")"
			continue
		fi
		golden "$name $fmt" "$base.$fmt" "$TMP/$name.$fmt"
	done
	# --stats-json: every figure of the (golden) --stats text, looked up in the JSON.
	# shellcheck disable=SC2086
	"$TT" $args --stats-json > "$TMP/$name.statsjson" 2> /dev/null &&
		python3 "$HERE/statsjson.py" "$TMP/$name.stats" "$TMP/$name.statsjson" \
			> "$TMP/statsjson.diff" 2>&1 &&
		ok "$name: --stats-json says what --stats says" ||
		{ not_ok "$name: --stats-json says what --stats says"
		  sed 's/^/# /' "$TMP/statsjson.diff" | head -10; }
	# What gen_cases.py put into the input, asserted whatever the goldens say (UPDATE=1 too).
	if [ -f "$base.expect" ]; then
		python3 "$HERE/expect.py" "$base.expect" "$TMP/$name.json" > "$TMP/expect.diff" 2>&1 &&
			ok "$name: --json has the ISNs, FINs and close kinds the generator put in" ||
			{ not_ok "$name: --json has the ISNs, FINs and close kinds the generator put in"
			  sed 's/^/# /' "$TMP/expect.diff" | head -10; }
	fi
	case $in in *.tcpcap) continue ;; esac

	# The same records through the binary path: text -> capture -> replay.
	"$TT" -T "$in" -w "$TMP/$name.tcpcap" 2> /dev/null
	"$TT" -r "$TMP/$name.tcpcap" --json > "$TMP/$name.rjson"
	same "$name: capture replay = text (json)" "$TMP/$name.json" "$TMP/$name.rjson"
	"$TT" -T "$in" --dump > "$TMP/d1"
	"$TT" -r "$TMP/$name.tcpcap" --dump > "$TMP/d2"
	same "$name: capture keeps every record (dump)" "$TMP/d1" "$TMP/d2"
done

# ABI 2 text: --dump prints what the module prints, line for line; text from a module before
# RCV_UNREAD gets that column, "-" on every line (no record of it has F_UNREAD).
for in in "$HERE"/cases/*.txt; do
	grep -q '^SEQ .* NETNS_COOKIE\( RCV_UNREAD\)\?$' "$in" || continue
	name=$(basename "${in%.*}")
	"$TT" -T "$in" --dump > "$TMP/$name.dump"
	old=(cat)
	grep -q '^SEQ .* NETNS_COOKIE$' "$in" && old=(sed -e '/^SEQ /s/$/ RCV_UNREAD/' -e '/^[0-9]/s/$/ -/')
	grep -v -e '^#' -e '^[a-z][a-z0-9_]* [^ ]*$' "$in" | "${old[@]}" > "$TMP/$name.lines"
	same "$name: --dump reproduces the ABI 2 text" "$TMP/$name.lines" "$TMP/$name.dump"
done

# ABI 1 captures: 168-byte records, netns_cookie reads as 0; and the
# 64-byte header of the writers of that time (no host label, no run).
c=$HERE/cases/client_close_first
"$TT" -T "$c.txt" -w "$TMP/v2.tcpcap" 2> /dev/null
python3 - "$TMP/v2.tcpcap" "$TMP/v1.tcpcap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
hs = struct.unpack_from("<I", d, 12)[0]
h = bytearray(d[:64])
struct.pack_into("<III", h, 12, 64, 1, 168)
recs = [d[i:i + 168] for i in range(hs, len(d), 176)]
open(sys.argv[2], "wb").write(bytes(h) + b"".join(recs))
PY
"$TT" -r "$TMP/v1.tcpcap" --json > "$TMP/v1.json"
same "ABI 1 capture (168-byte records) reads as the text does" "$c.json" "$TMP/v1.json"

# Two overlapping snapshots appended to one file (cat /proc/tcpstates >> t.txt,
# twice): merged, each record once, no error.
c=$HERE/cases/client_close_first
{ grep -v '^#' "$c.txt" | head -13; grep -v '^#' "$c.txt" | sed -n '1p;7,$p'; } > "$TMP/twice.txt"
"$TT" -T "$TMP/twice.txt" --json > "$TMP/twice.json" 2> "$TMP/twice.err"
rc=$?
[ $rc = 0 ] && cmp -s "$c.json" "$TMP/twice.json" &&
	grep -q '^tcptimeline: .*: 7 records seen twice (overlapping snapshots) skipped$' "$TMP/twice.err" &&
	ok "overlapping snapshots merge" ||
	not_ok "overlapping snapshots merge (rc $rc: $(head -1 "$TMP/twice.err"))"

# A gap in a capture's sequence is not a loss: the device marks every loss
# itself; a gap is records this reader does not see (another namespace's).
{ head -c $((64 + 176 * 5)) "$TMP/v2.tcpcap"; tail -c +$((64 + 176 * 8 + 1)) "$TMP/v2.tcpcap"; } > "$TMP/gap.tcpcap"
"$TT" -r "$TMP/gap.tcpcap" --dump > "$TMP/gap.dump"
[ $? = 0 ] && [ "$(wc -l < "$TMP/gap.dump")" = 16 ] && ! grep -q ' lost ' "$TMP/gap.dump" &&
	ok "a seq gap in a capture is not taken for a loss" ||
	not_ok "a seq gap in a capture is not taken for a loss"

# Terminal safety: a comm of control characters comes out escaped in every
# format (the goldens show how); not one raw control byte reaches stdout.
ce=$HERE/cases/comm_escapes.txt
raw=0
for opt in --timeline --brief --ladder --json --csv --stats --stats-json --dump "--svg -" --diagram \
	"--diagram-svg -"; do
	# shellcheck disable=SC2086
	bad=$(LC_ALL=C "$TT" -T "$ce" $opt 2> /dev/null | tr -d '\n\t' | LC_ALL=C tr -d '[:print:]' | wc -c)
	[ "$bad" = 0 ] || { raw=1; echo "# $opt: $bad raw control bytes"; }
done
[ $raw = 0 ] && ok "no raw control character from a comm reaches the terminal" ||
	not_ok "no raw control character from a comm reaches the terminal"

# ---- wall-clock time ----
w=$HERE/cases/wallclock
"$TT" -T "$w.txt" --time=utc > "$TMP/utc.out"
grep -q '^    open       active, SYN sent 2026-11-30 14:03:08.123456Z$' "$TMP/utc.out" &&
	ok "--time=utc" || not_ok "--time=utc"
"$TT" -T "$w.txt" --time=relative --ladder > "$TMP/rel.out"
grep -q '^  1.000000000 ' "$TMP/rel.out" && ok "--time=relative" || not_ok "--time=relative"
"$TT" -T "$w.txt" --time=mono > "$TMP/mono.out"
cmp -s "$TMP/mono.out" "$HERE/cases/client_close_first.out" &&
	ok "--time=mono: the times as recorded" || not_ok "--time=mono: the times as recorded"
"$TT" -T "$c.txt" --realtime-offset=1796042387123456000 > "$TMP/offset.out"
same "--realtime-offset gives text its wall-clock time" "$w.out" "$TMP/offset.out"
"$TT" -T "$w.txt" -w "$TMP/w.tcpcap" 2> /dev/null
"$TT" -r "$TMP/w.tcpcap" > "$TMP/w.out"
same "a capture keeps the text's wall-clock offset" "$w.out" "$TMP/w.out"
expect "--time=wall without an offset is an error" 1 \
	"tcptimeline: $c.txt: --time=wall needs the wall-clock offset, which this text does not carry: give --realtime-offset, or save the text with 'cat /proc/tcpstates_stats /proc/tcpstates'" \
	"$TT" -T "$c.txt" --time=wall
expect "by default, text without an offset says its times are monotonic" 0 \
	"tcptimeline: $c.txt: this text carries no wall-clock offset: times are CLOCK_MONOTONIC seconds (see --realtime-offset)" \
	"$TT" -T "$c.txt"

# ---- other input paths, on one case ----
c=$HERE/cases/client_close_first
"$TT" -r "$c.txt" --json > "$TMP/auto.json"
same "-r auto-detects /proc text" "$c.json" "$TMP/auto.json"
"$TT" -T - --json < "$c.txt" > "$TMP/stdin.json"
same "--text - reads stdin" "$c.json" "$TMP/stdin.json"
# the device path: raw records, no header, through a FIFO in odd chunks
"$TT" -T "$c.txt" -w "$TMP/c.tcpcap" 2> /dev/null
mkfifo "$TMP/fifo"
(tail -c +$((HDR + 1)) "$TMP/c.tcpcap" | dd bs=100 status=none > "$TMP/fifo") &
"$TT" --device "$TMP/fifo" --json | sed "s/\"host\":\"$(hostname)\"}\$/\"host\":null}/" > "$TMP/dev.json"
wait
same "--device FIFO of raw records (live path; labelled with this host's name)" "$c.json" "$TMP/dev.json"
# a lost marker from the device survives a capture
"$TT" -T "$HERE/cases/lost_marker.txt" -w "$TMP/lost.tcpcap" 2> /dev/null
"$TT" -r "$TMP/lost.tcpcap" --json > "$TMP/lost.json"
grep -q '^{"lost":40,"seq":8,' "$TMP/lost.json" &&
	ok "lost marker replayed from capture" || not_ok "lost marker replayed from capture"

# ---- follow mode: signals end it cleanly, a kill leaves a readable capture ----
# follow SIGNAL DIR LINES [ARGS]: the live path through a FIFO whose writer
# stays open, so only a signal ends it. The handshake is deterministic: the
# tool's --dump (a FIFO too, -U: a line per record as it is done) shows LINES
# lines (the header and the records) before the signal is sent. A dead tool
# ends the reads at once; the 120 s guard only keeps a broken tool from
# hanging the suite.
head -c $((HDR + 176 * 10)) "$TMP/c.tcpcap" > "$TMP/first10.tcpcap"
follow() {
	local sig=$1 d=$2 lines=$3 i line
	shift 3
	mkdir -p "$d"
	mkfifo "$d/in" "$d/dump"
	exec 9<> "$d/in"
	"$TT" --device "$d/in" -U --dump="$d/dump" --json="$d/out.json" \
		-w "$d/out.tcpcap" "$@" 2> "$d/err" &
	pid=$!
	exec 8< "$d/dump"
	tail -c +$((HDR + 1)) "$TMP/first10.tcpcap" >&9
	shown=0
	# A line that does not come in 120 s will not come: stop there, rather than wait 120 s for
	# each line still missing (a filter that drops them took 22 minutes to say so).
	for i in $(seq "$lines"); do
		read -r -t 120 -u 8 line || break
		shown=$((shown + 1))
	done
	kill -"$sig" $pid
	{ wait $pid; } 2> /dev/null	# no "Killed" from the shell
	rc=$?
	exec 8<&- 9>&-
}
for sig in INT TERM HUP; do
	follow $sig "$TMP/follow-$sig" 11
	d=$TMP/follow-$sig
	"$TT" -r "$d/out.tcpcap" --dump > "$d/replay" 2> "$d/replay.err"
	[ $rc = 0 ] && [ "$(grep -c '"close":"open"' "$d/out.json")" = 3 ] &&
		[ "$(wc -l < "$d/replay")" = 11 ] &&
		grep -q "^tcptimeline: 10 records written to $d/out.tcpcap (1920 bytes); none lost$" "$d/err" &&
		ok "SIG$sig ends follow mode: open connections flushed, capture complete, exit 0" ||
		not_ok "SIG$sig ends follow mode (rc $rc): $(head -1 "$d/err")"
done
follow KILL "$TMP/follow-KILL" 11
"$TT" -r "$TMP/follow-KILL/out.tcpcap" --dump > "$TMP/follow-KILL/replay"
[ $? = 0 ] && [ "$(wc -l < "$TMP/follow-KILL/replay")" = 11 ] &&
	ok "-U: a killed recording is readable to its last record" ||
	not_ok "-U: a killed recording is readable to its last record"

# A filtered live recording passes a record on as soon as its connection is
# decided: with a port filter that is when the port is known, not at the end.
follow INT "$TMP/follow-port" 11 -p 8080
[ $rc = 0 ] && [ $shown = 11 ] && ok "live -p: each record is passed on once its port is known" ||
	not_ok "live -p: each record is passed on once its port is known ($shown of 11 lines)"

# --on-time-wait: a conversation is shown when its closer enters TIME_WAIT,
# not 60 s later, and the timewait socket's end makes no second connection.
"$TT" -T "$c.txt" --on-time-wait --json > "$TMP/otw.json"
[ "$(wc -l < "$TMP/otw.json")" = 3 ] &&
	grep -q '"cookie":8193,.*"end_ns":5001002393000,.*"time_wait_end":null' "$TMP/otw.json" &&
	ok "--on-time-wait: shown at TIME_WAIT entry, the expiry absorbed" ||
	not_ok "--on-time-wait: shown at TIME_WAIT entry, the expiry absorbed"
filt "--on-time-wait: a killed timewait socket makes no extra side" 4 timewait_reuse --on-time-wait
d=$TMP/otw-live
mkdir -p "$d"
mkfifo "$d/in" "$d/json"
exec 9<> "$d/in"
"$TT" --device "$d/in" --on-time-wait --json="$d/json" 2> /dev/null &
pid=$!
exec 8< "$d/json"
head -c $((HDR + 176 * 17)) "$TMP/c.tcpcap" | tail -c +$((HDR + 1)) >&9	# all but the expiry
shown=0
for i in 1 2; do read -r -t 120 -u 8 line || break; shown=$((shown + 1)); done
kill -INT $pid
{ wait $pid; } 2> /dev/null
exec 8<&- 9>&-
[ $shown = 2 ] && ok "live --on-time-wait: the conversation comes out before its TIME_WAIT ends" ||
	not_ok "live --on-time-wait: the conversation comes out before its TIME_WAIT ends ($shown of 2)"

# -i: --stats for each interval of the records' time.
"$TT" -T "$HERE/cases/vm61_scenarios.txt" -i 5 --time=relative > "$TMP/interval"
[ "$(grep -c '^--- ' "$TMP/interval")" = 13 ] &&
	[ "$(awk '/^records / { n += $2 } END { print n }' "$TMP/interval")" = 200 ] &&
	head -1 "$TMP/interval" | grep -qx -- '--- 0.000000000 to 5.000000000 ---' &&
	ok "-i: statistics per interval, every record in one" ||
	not_ok "-i: statistics per interval, every record in one"
"$TT" -T "$HERE/cases/vm61_scenarios.txt" -i 5 --time=relative --stats-json > "$TMP/interval.json"
python3 - "$TMP/interval.json" <<'PY' && ok "-i --stats-json: a JSON line per interval, every record in one" ||
import json, sys
lines = [json.loads(x) for x in open(sys.argv[1])]
assert len(lines) == 13 and sum(x['records'] for x in lines) == 200
assert (lines[0]['from'], lines[0]['to']) == ('0.000000000', '5.000000000')
assert 'from' in lines[-1] and 'to' not in lines[-1]
PY
	not_ok "-i --stats-json: a JSON line per interval, every record in one"
# its keys and layout, as a program reads them (the figures are statsjson.py's)
"$TT" -T "$HERE/cases/vm61_ports.txt" --stats-json > "$TMP/ports.statsjson"
golden "vm61_ports --stats-json" "$HERE/cases/vm61_ports.statsjson" "$TMP/ports.statsjson"

# ---- write errors: reported, exit 2 ----
expect "--svg on a full disk" 2 "tcptimeline: --svg: /dev/full: No space left on device" \
	"$TT" -T "$c.txt" --svg /dev/full --time=mono
expect "--json on a full disk" 2 "tcptimeline: --json: /dev/full: No space left on device" \
	"$TT" -T "$c.txt" --json=/dev/full
expect "-w on a full disk" 2 "tcptimeline: --write: /dev/full: No space left on device" \
	"$TT" -T "$c.txt" -w /dev/full
# standard output is checked at exit, whatever wrote there (coreutils' close_stdout)
expect "--help on a full disk" 2 "tcptimeline: standard output: No space left on device" \
	sh -c '"$1" --help > /dev/full' sh "$TT"
expect "--metrics - on a full disk" 2 "tcptimeline: --metrics: standard output: No space left on device" \
	sh -c '"$1" -T "$2" --metrics - > /dev/full' sh "$TT" "$c.txt"
python3 - "$TT" "$c.txt" > "$TMP/epipe" <<'PY'
import os, subprocess, sys
r, w = os.pipe()
os.close(r)  # nobody will read: every write is EPIPE
p = subprocess.run([sys.argv[1], "-T", sys.argv[2], "--json"], stdout=w,
                   stderr=subprocess.PIPE)
print(p.returncode)
sys.stdout.write(p.stderr.decode())
PY
[ "$(cat "$TMP/epipe")" = "2
tcptimeline: --json: standard output: Broken pipe" ] && ok "a closed pipe is reported, exit 2" ||
	not_ok "a closed pipe is reported, exit 2: $(tail -1 "$TMP/epipe")"

# Memory: finished connections are freed, live ones stay bounded.
if make -s -C "$TOOLS" O="$O" gencap > /dev/null 2>&1; then
	"$O/gencap" 300000 | "$TT" -r /dev/stdin --bench 2> "$TMP/bench"
	peak=$(sed -n 's/.*peak live connections \([0-9]*\).*/\1/p' "$TMP/bench")
	[ -n "$peak" ] && [ "$peak" -lt 1000 ] &&
		ok "follow memory bounded: peak $peak live of $(grep -o '[0-9][0-9]* connections' "$TMP/bench")" ||
		not_ok "follow memory bounded: $(cat "$TMP/bench")"
else
	skip "follow memory bounded" "gencap did not build"
fi

# ---- filters ----
filt "--role keeps the conversation" 2 client_close_first --role server
filt "--role listener" 1 client_close_first --role LISTENER
filt "--port" 2 refused --port 9999
filt "--port no match" 0 refused --port 1
filt "-p repeated adds (or)" 3 client_close_first -p 1 -p 8080
filt "-p comma list" 3 client_close_first -p 1,8080
filt "-p range" 2 refused -p 9000-9999
filt "-L local port: the server side brings its conversation, and the listener" 3 client_close_first -L 8080
filt "-D remote port" 2 client_close_first -D 8080
filt "-L and -D must both hold" 2 client_close_first -L 45678 -D 8080
filt "-L and -D, neither side has both" 0 client_close_first -L 8080 -D 8080
filt "-4" 0 ipv6 -4
filt "-6" 2 ipv6 -6
filt "-4 -6 is either" 2 ipv6 -4 -6
filt "--addr ipv6" 2 ipv6 --addr ::1
filt "--addr CIDR: not the listener on 0.0.0.0" 2 client_close_first --addr 127.0.0.0/8
filt "--addr CIDR no match" 0 client_close_first --addr 10.0.0.0/8
filt "--netns" 2 two_netns --netns 4026532600
filt "--comm" 2 client_close_first --comm curl
filt "--pid" 3 client_close_first --pid 777
filt "--state" 2 server_close_first --state CLOSE_WAIT
filt "--state in any spelling" 2 server_close_first --state close-wait
filt "--since (wall clock): the conversation and the listener" 3 wallclock --since "2026-11-30 14:03:08"
filt "--until (time of day): the listener only" 1 wallclock --until 14:03:07.5
filt "--until (monotonic seconds)" 1 client_close_first --until 5000.5
filt "--since after everything ended but the listener" 1 wallclock --since 2026-11-30T15:00:00Z
expect "--since a wall time needs the offset" 1 \
	"tcptimeline: --since: a wall-clock time needs the realtime offset, which this text does not carry: give --realtime-offset, or monotonic seconds" \
	"$TT" -T "$c.txt" --since 14:00 --time=mono

# Records follow the filters: --dump, --stats counts and -w keep the records
# of the conversations shown, in order, and a filtered recording replays as
# the filter shows the whole input.
"$TT" -T "$c.txt" --comm curl --dump > "$TMP/fdump"
[ "$(grep -vc '^SEQ' "$TMP/fdump")" = 17 ] && ! grep -q ' listen ' "$TMP/fdump" &&
	ok "--dump keeps the records of the conversations shown" ||
	not_ok "--dump keeps the records of the conversations shown"
"$TT" -T "$c.txt" --comm curl --stats | grep -q '^records 17, ' &&
	ok "--stats counts only the records of the conversations shown" ||
	not_ok "--stats counts only the records of the conversations shown"
for f in "--comm curl" "--role listener" "-L 45678" "--state TIME_WAIT" "--since 5001.0015"; do
	# shellcheck disable=SC2086
	"$TT" -T "$HERE/cases/lost_marker.txt" $f -w "$TMP/f.tcpcap" 2> /dev/null
	"$TT" -r "$TMP/f.tcpcap" --json > "$TMP/f1.json"
	# shellcheck disable=SC2086
	"$TT" -T "$HERE/cases/lost_marker.txt" $f --json > "$TMP/f2.json"
	same "-w $f: the filtered recording replays as the filter shows" "$TMP/f2.json" "$TMP/f1.json"
done

# ---- the state diagram (--diagram, --diagram-svg) ----
# Against --json of the same input, counted by diagram_check.py on its own: each
# edge's count, and p50/p99 within the sketch's bound (1/64 of the exact value).
DC=$HERE/diagram_check.py
for in in "$HERE"/cases/*.txt "$HERE"/cases/*.tcpcap; do
	[ -f "$in" ] || continue
	name=$(basename "${in%.*}")
	args=$(input_args "$in")
	# shellcheck disable=SC2086
	"$TT" $args --json > "$TMP/$name.dj" 2> /dev/null
	# shellcheck disable=SC2086
	"$TT" $args --diagram-svg "$TMP/$name.dsvg" 2> /dev/null
	python3 "$DC" edges "$TMP/$name.dj" "$TMP/$name.dsvg" > "$TMP/dc" 2>&1 &&
		ok "$name: diagram edge counts = --json's transitions" ||
		{ not_ok "$name: diagram edge counts = --json's transitions"; cat "$TMP/dc"; }
	python3 "$DC" times "$TMP/$name.dj" "$TMP/$name.dsvg" > "$TMP/dc" 2>&1 &&
		ok "$name: diagram p50/p99 within 1/64 of --json's exact ones" ||
		{ not_ok "$name: diagram p50/p99 within 1/64 of --json's exact ones"; cat "$TMP/dc"; }
done
python3 "$DC" figure "$TMP"/*.dsvg > "$TMP/dc" 2>&1 &&
	ok "every edge of RFC 9293 Figure 5 is drawn in every case's SVG" ||
	{ not_ok "every edge of RFC 9293 Figure 5 is drawn in every case's SVG"; cat "$TMP/dc"; }
if command -v xmllint > /dev/null; then
	xmllint --noout "$TMP"/*.dsvg 2> "$TMP/dc" && ok "xmllint: every diagram SVG is well-formed XML" ||
		{ not_ok "xmllint: every diagram SVG is well-formed XML"; head -5 "$TMP/dc"; }
else
	skip "xmllint: every diagram SVG is well-formed XML" "no xmllint (apt-get install libxml2-utils)"
fi
# The pictures, kept to be looked at: the demo's recording (vm61_scenarios).
mkdir -p "$O"
cp "$TMP/vm61_scenarios.dsvg" "$O/diagram.svg"
if command -v rsvg-convert > /dev/null; then
	rsvg-convert "$O/diagram.svg" -o "$O/diagram-rsvg.png" 2> "$TMP/dc" &&
		file "$O/diagram-rsvg.png" | grep -q 'PNG image data, 1020 x' &&
		ok "rsvg-convert renders the diagram ($O/diagram-rsvg.png)" ||
		{ not_ok "rsvg-convert renders the diagram"; head -5 "$TMP/dc"; }
else
	skip "rsvg-convert renders the diagram" "no rsvg-convert (apt-get install librsvg2-bin)"
fi
# A real browser too, where one is installed (not a CI dependency: docs/testing.md).
if command -v chromium > /dev/null; then
	h=$(sed -n 's/.*<svg [^>]* height="\([0-9]*\)".*/\1/p' "$O/diagram.svg")
	rm -f "$O/diagram-chromium.png"
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
		--hide-scrollbars --window-size=1020,"$h" --screenshot="$O/diagram-chromium.png" \
		"file://$O/diagram.svg" > "$TMP/dc" 2>&1
	file "$O/diagram-chromium.png" 2> /dev/null | grep -q "PNG image data, 1020 x $h" &&
		ok "headless Chromium renders the diagram ($O/diagram-chromium.png)" ||
		{ not_ok "headless Chromium renders the diagram"; tail -3 "$TMP/dc"; }
else
	skip "headless Chromium renders the diagram" "no chromium (apt-get install chromium)"
fi
# The terminal: box drawing in a UTF-8 locale, ASCII in C, 100 columns at most.
v=$HERE/cases/vm61_scenarios.txt
LC_ALL=C "$TT" -T "$v" --diagram > "$TMP/ascii" 2> /dev/null
[ -s "$TMP/ascii" ] && ! LC_ALL=C grep -q '[^ -~]' "$TMP/ascii" && grep -q '^  |  FIN_WAIT_1  |' "$TMP/ascii" &&
	ok "--diagram in the C locale: ASCII only" || not_ok "--diagram in the C locale: ASCII only"
LC_ALL=C.UTF-8 "$TT" -T "$v" --diagram --ascii 2> /dev/null | cmp -s - "$TMP/ascii" &&
	ok "--diagram --ascii in a UTF-8 locale: the same ASCII" ||
	not_ok "--diagram --ascii in a UTF-8 locale: the same ASCII"
wide=0
for in in "$HERE"/cases/*.txt; do
	w=$(LC_ALL=C.UTF-8 "$TT" -T "$in" --diagram 2> /dev/null | LC_ALL=C.UTF-8 wc -L)
	[ "$w" -le 100 ] || { wide=1; echo "# $(basename "$in"): $w columns"; }
done
[ $wide = 0 ] && ok "--diagram fits 100 columns in every case" || not_ok "--diagram fits 100 columns in every case"
# Colour only on a terminal (script(1) gives it one), and never under NO_COLOR.
if command -v script > /dev/null; then
	script -qec "env -u NO_COLOR LC_ALL=C.UTF-8 $TT -T $v --diagram" /dev/null > "$TMP/tty" 2>&1
	grep -q $'\e\[2m' "$TMP/tty" && ! LC_ALL=C.UTF-8 "$TT" -T "$v" --diagram 2> /dev/null | grep -q $'\e' &&
		ok "--diagram: colour on a terminal, none on a pipe" ||
		not_ok "--diagram: colour on a terminal, none on a pipe"
	script -qec "env NO_COLOR=1 LC_ALL=C.UTF-8 $TT -T $v --diagram" /dev/null > "$TMP/tty" 2>&1
	grep -q '┌' "$TMP/tty" && ! grep -q $'\e' "$TMP/tty" &&
		ok "--diagram: no colour under NO_COLOR" || not_ok "--diagram: no colour under NO_COLOR"
else
	skip "--diagram: colour on a terminal, none on a pipe" "no script(1)"
	skip "--diagram: no colour under NO_COLOR" "no script(1)"
fi
# Live: on a terminal a redraw about once a second, and one more when Ctrl-C ends it
# (exit 0); on a pipe, one diagram at the end. The device is a FIFO fed for 3.5 s.
"$TT" -T "$HERE/cases/client_close_first.txt" -w "$TMP/live.tcpcap" 2> /dev/null
live_feed() {
	rm -f "$TMP/lf"
	mkfifo "$TMP/lf"
	(exec 3> "$TMP/lf"; tail -c +$((HDR + 1)) "$TMP/live.tcpcap" >&3; sleep 3.5) &
}
if command -v script > /dev/null; then
	live_feed
	script -qec "sh -c '$TT --device $TMP/lf --diagram --time=mono & p=\$!; sleep 2.6; kill -INT \$p; wait \$p; echo exit=\$?'" \
		/dev/null > "$TMP/live.out" 2>&1
	wait
	n=$(grep -ao $'\e\[H\e\[2J' "$TMP/live.out" | wc -l)
	grep -aq '^exit=0' "$TMP/live.out" && [ "$n" -ge 2 ] && [ "$n" -le 4 ] &&
		ok "live --diagram on a terminal: redrawn each second ($n), Ctrl-C ends it, exit 0" ||
		not_ok "live --diagram on a terminal: redrawn each second ($n), Ctrl-C ends it, exit 0"
else
	skip "live --diagram on a terminal: redrawn each second, Ctrl-C ends it, exit 0" "no script(1)"
fi
live_feed
"$TT" --device "$TMP/lf" --diagram --time=mono > "$TMP/live.out" 2>&1
rc=$?
wait
[ $rc = 0 ] && [ "$(grep -c '^TCP state diagram' "$TMP/live.out")" = 1 ] && ! grep -q $'\e' "$TMP/live.out" &&
	ok "live --diagram on a pipe: one diagram, at the end" ||
	not_ok "live --diagram on a pipe: one diagram, at the end"
# One conversation, by the client's cookie: its path lit, and its letters A, B, C,
# D the ladder's (which the scenario suite checks against tcpdump).
bad=0
for ck in $(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d.get("role") == "client" and d.get("peer_cookie") is not None: print(d["cookie"])' "$TMP/vm61_scenarios.dj"); do
	"$TT" -T "$v" --cookie "$ck" --json > "$TMP/one.json" 2> /dev/null
	"$TT" -T "$v" --cookie "$ck" --diagram-svg "$TMP/one.svg" 2> /dev/null
	python3 "$DC" lit "$TMP/one.json" "$TMP/one.svg" > "$TMP/dc" 2>&1 ||
		{ bad=1; echo "# cookie $ck:"; cat "$TMP/dc"; }
	l1=$("$TT" -T "$v" --cookie "$ck" --ladder 2> /dev/null | grep -m1 '^  A=')
	l2=$("$TT" -T "$v" --cookie "$ck" --diagram 2> /dev/null | grep -m1 '^  A=')
	[ -n "$l1" ] && [ "$l1" = "$l2" ] || { bad=1; echo "# cookie $ck: ladder '$l1', diagram '$l2'"; }
	n=$("$TT" -T "$v" --cookie "$ck" --diagram 2> /dev/null | grep -c '^  *[0-9.]*\( +[0-9.]*[a-z]*\)\{0,1\}$')
	[ "$n" -ge 3 ] || { bad=1; echo "# cookie $ck: $n timed edges on the path"; }
done
[ $bad = 0 ] && ok "--diagram --cookie: the conversation's path lit, its A B C D the ladder's" ||
	not_ok "--diagram --cookie: the conversation's path lit, its A B C D the ladder's"

# ---- layers: decode -> reconstruct -> output -> filter -> (record, fleet) -> cli ----
# rank of a layer; a file's includes of another layer ranked as high as its
# own or higher are errors (record/ and fleet/ share a rank: neither uses the other). The
# check fails if awk does: Debian's awk is mawk, which once refused this program (a ?: split
# across lines) while the check read its empty output as "no bad include".
layer_bad=$(cd "$TOOLS" && awk '
	function rank(l) {
		if (l == "decode") return 1
		if (l == "reconstruct") return 2
		if (l == "output") return 3
		if (l == "filter") return 4
		if (l == "record" || l == "fleet") return 5
		if (l == "cli") return 6
		return 9
	}
	/^#include "[a-z]*\// {
		split(FILENAME, d, "/"); split($2, i, "/"); sub(/^"/, "", i[1])
		if (i[1] != d[1] && rank(i[1]) >= rank(d[1])) print FILENAME " includes " i[1]
	}' decode/* reconstruct/* output/* filter/* record/* fleet/* cli/* 2>&1) ||
	layer_bad="awk failed: $layer_bad"
[ -n "$layer_bad" ] && echo "$layer_bad" | sed 's/^/# /'
layer_ok=$([ -z "$layer_bad" ] && echo 1 || echo 0)
[ $layer_ok = 1 ] && ok "layers include only the layers below them" ||
	not_ok "layers include only the layers below them"

# ---- one schema: the man page's lists are generated from the tool's ----
# man_section NAME ROFF: the man page's section between the BEGIN/END NAME
# markers must be ROFF (UPDATE=1 writes it).
MAN=$TOOLS/tcptimeline.8
man_section() {
	local name=$1 roff=$2
	sed -n "/^\\.\\\\\" BEGIN $name/,/^\\.\\\\\" END $name/p" "$MAN" | sed '1d;$d' > "$TMP/man.section"
	if [ "$UPDATE" = 1 ]; then
		sed -i -e "/^\\.\\\\\" BEGIN $name/,/^\\.\\\\\" END $name/{//!d}" \
			-e "/^\\.\\\\\" BEGIN $name/r $roff" "$MAN"
		ok "man page $name (updated)"
	else
		same "the man page's $name are the tool's" "$roff" "$TMP/man.section"
	fi
}
"$TT" --fields | awk -F'\t' 'NR > 1 {
	print ".TP"; print ".B " $1
	print "(" $2 "; " ($3 == "never" ? "never null" : "null: " $3) ") " $4 }' > "$TMP/fields.roff"
man_section FIELDS "$TMP/fields.roff"
"$TT" --close-kinds | awk -F'\t' '{ print ".TP"; print ".B " $1; print $2 }' > "$TMP/close.roff"
man_section "CLOSE KINDS" "$TMP/close.roff"
"$TT" --close-reasons | awk -F'\t' '{ print ".TP"; print ".B " $1; print $2 }' > "$TMP/reasons.roff"
man_section "CLOSE REASONS" "$TMP/reasons.roff"
if command -v man > /dev/null; then
	MANWIDTH=80 man --warnings -l "$MAN" > /dev/null 2> "$TMP/man.err"
	[ ! -s "$TMP/man.err" ] && ok "man --warnings is quiet" ||
		{ not_ok "man --warnings is quiet"; head -5 "$TMP/man.err" | sed 's/^/# /'; }
else
	skip "man --warnings is quiet" "no man"
fi
fields=$("$TT" --fields | awk -F'\t' 'NR > 1 { printf "%s%s", sep, $1; sep = "," }')
[ "$(head -1 "$c.csv")" = "$fields" ] && ok "the CSV header is the field list" ||
	not_ok "the CSV header is the field list"
[ "$(head -1 "$c.json" | python3 -c 'import json, sys; print(",".join(json.loads(sys.stdin.read())))')" = "$fields" ] &&
	ok "JSON keys are the field list, in order" || not_ok "JSON keys are the field list, in order"

# The --help and man page examples that read a file run as shown (on a test
# capture named as they name it).
"$TT" -T "$HERE/cases/wallclock.txt" -w "$TMP/trace.tcpcap" 2> /dev/null
cp "$HERE/cases/wallclock.txt" "$TMP/t.txt"
cp "$HERE/cases/vm61_scenarios.txt" "$TMP/vm61_scenarios.txt"
cp "$HERE/cases/vm73_resets.txt" "$TMP/vm73_resets.txt"
cp "$HERE/cases/vm73_timeouts.txt" "$TMP/vm73_timeouts.txt"
cp "$HERE/cases/vm73_listen.txt" "$TMP/vm73_listen.txt"
cp "$HERE/cases/vm73_reqends.txt" "$TMP/vm73_reqends.txt"
cp "$HERE/cases/vm73_noroute.txt" "$TMP/vm73_noroute.txt"
cp "$HERE/recordings/vm73rt_scenarios.txt" "$TMP/vm73rt_scenarios.txt"
cp "$HERE/cases/vm61_ports.txt" "$TMP/vm61_ports.txt"
ex_bad=0
ex_n=0
while read -r line; do
	cmd=${line%%   *}
	cmd=${cmd%% | *}
	ex_n=$((ex_n + 1))
	(cd "$TMP" && eval "\"\$TT\" ${cmd#tcptimeline }") > /dev/null 2>&1 ||
		{ ex_bad=1; echo "# fails: $cmd"; }
done < <({ "$TT" --help; MANWIDTH=200 man -l "$TOOLS/tcptimeline.8" 2> /dev/null; } |
	sed -n 's/^ *\(tcptimeline -r \(trace.tcpcap\|t.txt\) .*\)/\1/p' | sed 's/ *#.*//')
[ $ex_bad = 0 ] && [ $ex_n -ge 10 ] && ok "the $ex_n examples of --help and the man page that read a file run" ||
	not_ok "the examples of --help and the man page that read a file run ($ex_n found)"

# The examples of docs/tcptimeline.md: each "$ tcptimeline ..." line of a
# code block is run and must print the rest of the block.
guide=$TOOLS/../docs/tcptimeline.md
awk -v dir="$TMP/guide" 'BEGIN { n = 0 }
	/^\$ tcptimeline / { n++; f = dir "." n; print substr($0, 3) > (f ".cmd"); out = f ".want"; printf "" > out; next }
	/^```/ { out = ""; next }
	out != "" { print > out }' "$guide"
guide_n=0
for cmdf in "$TMP"/guide.*.cmd; do
	[ -f "$cmdf" ] || continue
	guide_n=$((guide_n + 1))
	cmd=$(cat "$cmdf")
	(cd "$TMP" && eval "\"\$TT\" ${cmd#tcptimeline }") > "${cmdf%.cmd}.got" 2> /dev/null
	same "docs/tcptimeline.md: \$ $cmd" "${cmdf%.cmd}.want" "${cmdf%.cmd}.got"
done
[ $guide_n -ge 3 ] || not_ok "docs/tcptimeline.md has its examples ($guide_n found)"

# ---- kernel coding style: the kernel's .clang-format, as tools/.clang-format ----
if command -v clang-format > /dev/null; then
	make -s -C "$TOOLS" style > "$TMP/style" 2>&1 && ok "kernel .clang-format clean" ||
		{ not_ok "kernel .clang-format clean (make -C tools style FIX=1)"; head -5 "$TMP/style" | sed 's/^/# /'; }
else
	skip "kernel .clang-format clean" "no clang-format"
fi

# ---- the suites' own checks assert all that their names say ----
# check NAME [ a ] && [ b ] asserts only a: tests/lib/checklint.py finds every such line under tests/.
python3 "$HERE/../lib/checklint.py" "$HERE/.." > "$TMP/checklint" 2>&1 &&
	ok "no shell check under tests/ runs part of its condition after its verdict" ||
	{ not_ok "no shell check under tests/ runs part of its condition after its verdict"; sed 's/^/# /' "$TMP/checklint"; }

# ---- tests/run-all.sh's verdict: a skip is counted in any case, and allowed only where listed ----
mkdir -p "$TMP/verdict"
cat > "$TMP/verdict/vm-6.1.log" <<'LOG'
ok 1 - [6.1] device: a reader in a new PID namespace gets pid and tgid 0 # SKIP unshare -p does not work here
ok 2 - [6.1] client_close: client events state:SYN_SENT # skip unknown: 1 record absent, counted as missed
ok 3 - [6.1] device: a container reads only its namespace # Skip
ok 4 - [6.1] module builds
LOG
echo 0 > "$TMP/verdict/vm-6.1.rc"
echo "tests/vm/suite.sh 6.1" > "$TMP/verdict/vm-6.1.cmd"
(TOP=$HERE/../.. LOG_DIR=$TMP/verdict; . "$HERE/../lib/verdict.sh"; report vm-6.1 1) > "$TMP/verdict.out" 2>&1
grep -q '^# === vm-6.1: 1 passed, .* 3 skipped' "$TMP/verdict.out" &&
	ok "run-all's verdict: '# SKIP' in any case is a skip, not a pass" ||
	{ not_ok "run-all's verdict: '# SKIP' in any case is a skip, not a pass"; grep '^# ===' "$TMP/verdict.out" | sed 's/^/# /'; }
grep 'a skip where a check was expected' "$TMP/verdict.out" | cut -d: -f3- > "$TMP/verdict.bad"
printf '%s\n' ' ok 1 - [6.1] device: a reader in a new PID namespace gets pid and tgid 0 # SKIP unshare -p does not work here' \
	' ok 3 - [6.1] device: a container reads only its namespace # Skip' > "$TMP/verdict.want"
same "run-all's verdict: a skip tests/expected-skips does not list fails the run, a listed one passes" \
	"$TMP/verdict.want" "$TMP/verdict.bad"

# ---- UPDATE=1 is refused in CI (on a copy: were it not, it would rewrite the copy's goldens) ----
mkdir -p "$TMP/copy/tests"
cp -r "$HERE" "$HERE/../lib" "$TMP/copy/tests/"
CI=true UPDATE=1 TT=/bin/false timeout 20 bash "$TMP/copy/tests/tool/run.sh" > "$TMP/ci-update.out" 2>&1
rc=$?
[ $rc = 2 ] && grep -q 'UPDATE=1 is refused when CI is set' "$TMP/ci-update.out" &&
	ok "UPDATE=1 is refused when CI is set (exit $rc)" ||
	{ not_ok "UPDATE=1 is refused when CI is set (exit $rc)"; head -3 "$TMP/ci-update.out" | sed 's/^/# /'; }

# ---- a child the kernel dropped at birth (NEW_SYN_RECV -> CLOSE, seen under a SYN flood) ----
# tcp_v4_syn_recv_sock closes a child that lost the race for its request: the record is true, and
# must neither be refused as corrupt (it once stopped the metrics exporter) nor leave a live side.
sed '/ child /s/ NEW_SYN_RECV SYN_RECV / NEW_SYN_RECV CLOSE /' "$HERE/cases/client_close_first.txt" \
	> "$TMP/child_close.txt"
if "$TT" -T "$TMP/child_close.txt" --json > "$TMP/child_close.json" 2> "$TMP/child_close.err" &&
	[ ! -s "$TMP/child_close.err" ] && grep -q '"role":"server"' "$TMP/child_close.json"; then
	ok "a child dropped at birth (NEW_SYN_RECV -> CLOSE) is read, not refused"
else
	not_ok "a child dropped at birth (NEW_SYN_RECV -> CLOSE) is read, not refused"
	sed 's/^/# /' "$TMP/child_close.err"
fi

# ---- issue 28: one answer in every format, and usage errors that say so ----
c=$HERE/cases/client_close_first
filt "--addr ::ffff:127.0.0.1 (as ss prints it) is the IPv4 address" 2 client_close_first --addr ::ffff:127.0.0.1
filt "--addr ::ffff:127.0.0.0/104 is 127.0.0.0/8" 2 client_close_first --addr ::ffff:127.0.0.0/104
expect "-p 80, (an empty item) is a usage error" 1 \
	"tcptimeline: --port: '80,' is not a port or range (0 to 65535, e.g. 80,8000-8099)" \
	"$TT" -T "$c.txt" -p 80, --json
expect "--since after --until is a usage error" 1 \
	"tcptimeline: --since is after --until: nothing to show" \
	"$TT" -T "$c.txt" --since 20 --until 10 --json
filt "--time=relative: --until is seconds since the first record" 1 wallclock --time=relative --until 0.5
filt "--time=relative: --since is seconds since the first record" 1 wallclock --time=relative --since 70

# -i: each interval counts the TIME_WAIT entries it holds (a time_wait record straight into
# TIME_WAIT, or a timewait socket's first tw_rearm, out of FIN_WAIT2), not those of the sides
# that end in it. Counted here from the records, on the same 5 s grid.
v=$HERE/cases/vm61_scenarios.txt
"$TT" -T "$v" -i 5 --time=relative | sed -n 's/^TIME_WAIT entered \([0-9]*\),.*/\1/p' | tr '\n' ' ' > "$TMP/tw.got"
awk '$1 ~ /^[0-9]+$/ { if (!t0) t0 = $2; k = int(($2 - t0) / 5e9); if (k > last) last = k
	key = $5 " " $6
	if ($4 == "time_wait") { sub_[key] = $14; if ($14 == "TIME_WAIT") n[k]++ }
	else if ($4 == "tw_rearm" && sub_[key] == "FIN_WAIT2") { sub_[key] = "TIME_WAIT"; n[k]++ } }
	END { for (i = 0; i <= last; i++) printf "%d ", n[i] }' "$v" > "$TMP/tw.want"
[ -s "$TMP/tw.want" ] && same "-i: TIME_WAIT entered in the interval of the entry ($(cat "$TMP/tw.want"))" "$TMP/tw.want" "$TMP/tw.got"
# An RST-ended connection's bytes are exact where write_seq and rcv_nxt were recorded: the
# client of 7104 wrote 5 bytes (write_seq 3341642179 - ISN 3341642173 - 1) and received 6
# (rcv_nxt 4263549189 - 4263549182 - 1); no "~".
"$TT" -T "$v" -p 7104 --role client --json | python3 -c '
import json, sys
r = [json.loads(l) for l in sys.stdin if "\"role\":\"client\"" in l]
sys.exit(not (len(r) == 1 and (r[0]["tx_bytes"], r[0]["rx_bytes"]) == (5, 6)))' &&
	ok "RST-ended: tx/rx bytes exact from write_seq and rcv_nxt (JSON)" ||
	not_ok "RST-ended: tx/rx bytes exact from write_seq and rcv_nxt (JSON)"
"$TT" -T "$v" -p 7104 -b 2> /dev/null | awk '$2 == 257 { print $8, $9 }' > "$TMP/rst.brief"
[ "$(cat "$TMP/rst.brief")" = "5 6" ] && ok "RST-ended: --brief shows the exact bytes, no ~" ||
	not_ok "RST-ended: --brief shows the exact bytes, no ~ ($(cat "$TMP/rst.brief"))"
# An unknown TIME_WAIT timeout is unknown in the text as in JSON (null).
"$TT" -T "$HERE/cases/ring_wrapped.txt" 2> /dev/null | grep -A5 'cookie 6002 (sk:1772)$' | grep time_wait > "$TMP/tw6002"
[ "$(cat "$TMP/tw6002")" = "  time_wait  timeout ?, re-arms ?, expired" ] &&
	"$TT" -T "$HERE/cases/ring_wrapped.txt" --json 2> /dev/null | grep -q '"cookie":6002,.*"time_wait_ms":null' &&
	ok "an unknown TIME_WAIT timeout: ? in the text, null in JSON" ||
	not_ok "an unknown TIME_WAIT timeout: ? in the text, null in JSON ($(cat "$TMP/tw6002"))"
# --brief MS rounds to 0.01 ms as tcplife's "%.2f" does, checked against JSON's duration_ns on
# every side of the VM recording.
"$TT" -T "$v" --json | python3 -c '
import json, sys
for l in sys.stdin:
    o = json.loads(l)
    if "role" in o: print("%.2f" % (o["duration_ns"] / 1e6))' | sort > "$TMP/ms.want"
"$TT" -T "$v" -b --time=mono 2> /dev/null | awk 'NR > 1 { print $10 }' | sort > "$TMP/ms.got"
same "--brief MS rounds as tcplife (all 37 sides)" "$TMP/ms.want" "$TMP/ms.got"

# Merging a capture whose realtime offset is unknown (0 in its header) with one that has it: no
# time wraps (start_ns below 2^63, as the records' are), and standard error says how the clock
# was placed; the same when an offset would move a host's times before the reference's boot.
c=$HERE/cases/client_close_first
"$TT" -T "$HERE/cases/wallclock.txt" --hostname m-wall -w "$TMP/m-wall.tcpcap" 2> /dev/null
"$TT" -T "$c.txt" --hostname m-none -w "$TMP/m-none.tcpcap" 2> /dev/null
"$TT" -T "$c.txt" --hostname m-one -w "$TMP/m-one.tcpcap" 2> /dev/null
python3 - "$TMP/m-wall.tcpcap" "$TMP/m-none.tcpcap" "$TMP/m-one.tcpcap" <<'PY'
import struct, sys
for path, b in ((sys.argv[1], 1), (sys.argv[2], 2), (sys.argv[3], 2)):
    d = bytearray(open(path, "rb").read())
    d[40:56] = bytes([b]) * 16  # the header's boot_id: two hosts
    if b == 2 and path == sys.argv[3]:
        struct.pack_into("<q", d, 24, 1)  # an offset of 1 ns: before the reference's boot
    open(path, "wb").write(d)
PY
for h in none one; do
	"$TT" -r "$TMP/m-wall.tcpcap" -r "$TMP/m-$h.tcpcap" --json > "$TMP/m-$h.json" 2> "$TMP/m-$h.err"
	"$TT" -r "$TMP/m-wall.tcpcap" -r "$TMP/m-$h.tcpcap" --brief > "$TMP/m-$h.brief" 2> /dev/null
done
python3 - "$TMP/m-none.json" "$TMP/m-one.json" <<'PY' && ok "merge with an unknown or wrong realtime offset: no wrapped time" ||
import json, sys
for f in sys.argv[1:]:
    rows = [json.loads(l) for l in open(f) if '"role"' in l]
    if len(rows) != 6 or any(r["start_ns"] >= 1 << 63 or r["end_ns"] >= 1 << 63 for r in rows):
        sys.exit(1)
PY
	not_ok "merge with an unknown or wrong realtime offset: no wrapped time"
! grep -q '^[0-9]\{11\}' "$TMP/m-none.brief" "$TMP/m-one.brief" &&
	grep -qx "tcptimeline: host m-none: its capture or m-wall's carries no realtime offset, and no conversation between them places it: m-none's monotonic times are taken as m-wall's" "$TMP/m-none.err" &&
	grep -qx "tcptimeline: host m-one: on m-wall's clock its times would fall before m-wall's boot (a wrong or unknown realtime offset): they are shown on m-one's own monotonic clock" "$TMP/m-one.err" &&
	ok "merge with an unknown or wrong realtime offset: --brief has no wrapped START, and it is said" ||
	not_ok "merge with an unknown or wrong realtime offset: --brief has no wrapped START, and it is said"

# Simultaneous close: C is the FIN sent first (its side entered FIN_WAIT1 first, by JSON's
# states), D the second. On the VM recording's 7103 the server's FIN went first.
v=$HERE/cases/vm61_scenarios.txt
want=$("$TT" -T "$v" -p 7103 --json 2> /dev/null | python3 -c '
import json, sys
s = [o for o in map(json.loads, sys.stdin) if o.get("close") == "simultaneous"]
t = lambda o: [x["enter_ns"] for x in o["states"] if x["state"] == "FIN_WAIT1"][0]
a, b = sorted(s, key=t)
print("C=%d D=%d %s" % (a["fin_seq_local"], b["fin_seq_local"], a["role"]))')
"$TT" -T "$v" -p 7103 --ladder 2> /dev/null > "$TMP/simul.ladder"
side=$(grep -q '<-* FIN seq=C -| FIN_WAIT1$' "$TMP/simul.ladder" && echo server || echo client)
[ "$want" = "$(grep -o 'C=[0-9]* D=[0-9]*' "$TMP/simul.ladder") $side" ] &&
	ok "simultaneous close: C is the FIN sent first ($want)" ||
	not_ok "simultaneous close: C is the FIN sent first (want $want)"

c=$HERE/cases/client_close_first
# COMM, one rule for every format: valid UTF-8 as itself (JSON: the string), control characters,
# backslash and bytes that are not UTF-8 as \ooo (JSON: that text), the same in CSV and text.
sed 's/ curl / caf\\303\\251 /; s/ nginx / bad\\377x /' "$c.txt" > "$TMP/utf8.txt"
"$TT" -T "$TMP/utf8.txt" --json 2> /dev/null | grep -o '"comm":"[^"]*"' | sort -u | tr '\n' ' ' > "$TMP/utf8.json"
"$TT" -T "$TMP/utf8.txt" --csv 2> /dev/null | cut -d, -f12 | sort -u | tr '\n' ' ' > "$TMP/utf8.csv"
"$TT" -T "$TMP/utf8.txt" --brief 2> /dev/null | awk '{ print $3 }' | sort -u | tr '\n' ' ' > "$TMP/utf8.brief"
"$TT" -T "$TMP/utf8.txt" 2> /dev/null | sed -n 's/.* comm \([^ ]*\) uid.*/\1/p' | sort -u | tr '\n' ' ' > "$TMP/utf8.out"
[ "$(cat "$TMP/utf8.json")" = '"comm":"bad\\377x" "comm":"café" ' ] &&
	ok "COMM in JSON: UTF-8 as itself, other bytes \\ooo" ||
	not_ok "COMM in JSON: UTF-8 as itself, other bytes \\ooo ($(cat "$TMP/utf8.json"))"
[ "$(cat "$TMP/utf8.csv")" = 'bad\377x café comm ' ] && [ "$(cat "$TMP/utf8.brief")" = 'COMM bad\377x café ' ] &&
	[ "$(cat "$TMP/utf8.out")" = 'bad\377x café ' ] &&
	ok "COMM in CSV, --brief and the timeline: the same escaping as JSON's" ||
	not_ok "COMM in CSV, --brief and the timeline: the same escaping as JSON's ($(cat "$TMP/utf8.csv") | $(cat "$TMP/utf8.brief") | $(cat "$TMP/utf8.out"))"

# --svg is bounded: past TT_SVG_MAX (1000) diagrams the rest are counted, not drawn, and both
# the picture and standard error say how many (20000 records: 1192 conversations, 2384 sides).
if [ -x "$O/gencap" ]; then
	"$O/gencap" 20000 > "$TMP/g20k.tcpcap"
	"$TT" -r "$TMP/g20k.tcpcap" --svg "$TMP/g20k.svg" 2> "$TMP/g20k.err"
	[ "$(grep -c '<g class="conn">' "$TMP/g20k.svg")" = 1000 ] &&
		grep -q '>192 more diagrams not drawn: --svg draws the first 1000 (choose them with a filter)<' "$TMP/g20k.svg" &&
		grep -qx 'tcptimeline: --svg: 192 more diagrams (connections or conversations) not drawn: the picture holds the first 1000 (choose them with a filter)' "$TMP/g20k.err" &&
		ok "--svg draws at most 1000 diagrams and says how many it left out" ||
		not_ok "--svg draws at most 1000 diagrams and says how many it left out"
else
	skip "--svg draws at most 1000 diagrams" "gencap did not build"
fi

# Cookies as ss -e prints them (sk:HEX): --cookie takes that form, 0x and decimal alike, and the
# text prints both forms where a user copies one.
for k in 8193 sk:2001 0x2001; do
	filt "--cookie $k: the client, and its conversation" 2 client_close_first --cookie "$k"
done
"$TT" -T "$c.txt" 2> /dev/null | grep -c ' cookie 8193 (sk:2001)$' > "$TMP/sk.n"
[ "$(cat "$TMP/sk.n")" = 1 ] && ok "the timeline prints a cookie in both forms: cookie 8193 (sk:2001)" ||
	not_ok "the timeline prints a cookie in both forms: cookie 8193 (sk:2001)"

# ---- exit codes, messages and help ----
"$TT" --help | grep -q '^Examples:' && ok "--help has examples" || not_ok "--help has examples"
expect "--version" 0 "" "$TT" --version
grep -q "^tcptimeline [0-9.]* (reads tcpstates ABI 1 and 2)$" "$TMP/expect.out" &&
	ok "--version names the ABIs" || not_ok "--version names the ABIs"
expect "unknown option: one line and a hint, exit 1" 1 "tcptimeline: unrecognized option '--no-such-option'
Try 'tcptimeline --help' for more information." "$TT" --no-such-option
expect "a bad value names the option, exit 1" 1 \
	"tcptimeline: --port: '70000' is not a port or range (0 to 65535, e.g. 80,8000-8099)" \
	"$TT" -p 70000 -T "$c.txt"
expect "missing file: exit 2" 2 \
	"tcptimeline: $TMP/does-not-exist: No such file or directory" "$TT" -r "$TMP/does-not-exist"
expect "missing device says to load the module, exit 2" 2 \
	"tcptimeline: $TMP/does-not-exist: No such file or directory (is the tcpstates module loaded? insmod tcpstates.ko)" \
	"$TT" --device "$TMP/does-not-exist"

# ---- outputs: never over the input, never two in one stream ----
cp "$TMP/c.tcpcap" "$TMP/keep.tcpcap"
expect "-r x -w x is refused" 1 \
	"tcptimeline: --write: $TMP/keep.tcpcap is the input; refusing to overwrite it" \
	"$TT" -r "$TMP/keep.tcpcap" -w "$TMP/keep.tcpcap"
expect "--svg over the input is refused" 1 \
	"tcptimeline: --svg: $TMP/keep.tcpcap is the input; refusing to overwrite it" \
	"$TT" -r "$TMP/keep.tcpcap" --svg "$TMP/keep.tcpcap"
expect "-r - -w x < x is refused" 1 \
	"tcptimeline: --write: $TMP/keep.tcpcap is the input; refusing to overwrite it" \
	sh -c '"$1" -r - -w "$2" < "$2"' sh "$TT" "$TMP/keep.tcpcap"
cmp -s "$TMP/c.tcpcap" "$TMP/keep.tcpcap" && ok "the refused input is intact" ||
	not_ok "the refused input is intact"
# several inputs are read only after the outputs are open: no output may be any of them
cp "$TMP/c.tcpcap" "$TMP/second.tcpcap"
expect "-r x -r y -w y is refused" 1 \
	"tcptimeline: --write: $TMP/second.tcpcap is an input (--read $TMP/second.tcpcap); refusing to overwrite it" \
	"$TT" -r "$TMP/keep.tcpcap" -r "$TMP/second.tcpcap" -w "$TMP/second.tcpcap"
cmp -s "$TMP/c.tcpcap" "$TMP/second.tcpcap" && ok "the refused second input is intact" ||
	not_ok "the refused second input is intact"
expect "two formats on stdout are refused" 1 \
	"tcptimeline: --json and --csv both write to standard output; give one a file (--csv=FILE)" \
	"$TT" -T "$c.txt" --json --csv
expect "--metrics - and a format on stdout are refused" 1 \
	"tcptimeline: --metrics and --json both write to standard output; give one a file (--json=FILE)" \
	"$TT" -T "$c.txt" --json --metrics -
expect "two formats into one file are refused" 1 \
	"tcptimeline: --json and --csv both write to $TMP/both" \
	"$TT" -T "$c.txt" --json="$TMP/both" --csv="$TMP/both"
"$TT" -T "$c.txt" --json="$TMP/own.json" --csv > "$TMP/own.csv"
cmp -s "$TMP/own.json" "$c.json" && cmp -s "$TMP/own.csv" "$c.csv" &&
	ok "each format to its own file" || not_ok "each format to its own file"
"$TT" -T "$c.txt" -w - 2> /dev/null | "$TT" -r - --json > "$TMP/pipe.json"
same "-w - | -r -: a capture through a pipe" "$c.json" "$TMP/pipe.json"
"$TT" -T "$HERE/cases/listener.txt" --csv --role client > "$TMP/empty.csv"
[ "$(wc -l < "$TMP/empty.csv")" = 1 ] && [ "$(head -1 "$TMP/empty.csv")" = "$(head -1 "$c.csv")" ] &&
	ok "CSV has its header even with no rows" || not_ok "CSV has its header even with no rows"
# Empty input is an error (3), said before any output is opened: nothing is replaced by it.
printf keep > "$TMP/keep16.tcpcap"
expect "empty input: exit 3, said in one line" 3 \
	"tcptimeline: /dev/null: empty: no capture header and no /proc/tcpstates text" \
	"$TT" -r /dev/null -w "$TMP/keep16.tcpcap"
[ "$(cat "$TMP/keep16.tcpcap")" = keep ] && ok "empty input: the -w file it named is intact" ||
	not_ok "empty input: the -w file it named is intact"
# A bad --metrics address is a usage error (1), found while the options are read.
expect "--metrics 127.0.0.1:99999: a usage error (exit 1)" 1 \
	"tcptimeline: --metrics: '127.0.0.1:99999' is not ADDR:PORT, [ADDR6]:PORT or :PORT" \
	"$TT" --metrics 127.0.0.1:99999
# An input's bytes quoted in an error message reach the terminal escaped (\ooo), never raw.
{ grep -m1 '^SEQ ' "$c.txt"; printf '0 1 0 state 1 2 3 x 127.0.0.1 1 127.0.0.1 2 CLOSE \033]0;pwned\007 - - - - - - - - 3 0 task ipv4 0x00 - - - - - - 0 0\n'; } > "$TMP/esc.txt"
expect "control bytes of the input are escaped in error messages" 3 \
	"tcptimeline: $TMP/esc.txt: line 2: bad NEWSTATE field '\\033]0;pwned\\007'
tcptimeline: $TMP/esc.txt: 1 input error (see above)" \
	"$TT" -T "$TMP/esc.txt" --dump
# Two hosts (two boot ids) merged: host is a field of the one table, so JSON and CSV carry the
# same labels row by row (JSON alone had it before, outside the table). Captures without a host
# label are named by their boot id, never by the file's name.
python3 - "$TMP/c.tcpcap" "$TMP/host-a.tcpcap" "$TMP/host-b.tcpcap" <<'PY'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
for out, b in ((sys.argv[2], 1), (sys.argv[3], 2)):
    d[40:56] = bytes([b]) * 16  # the header's boot_id
    open(out, "wb").write(d)
PY
for fmt in json csv; do
	"$TT" -r "$TMP/host-a.tcpcap" -r "$TMP/host-b.tcpcap" --$fmt > "$TMP/hosts.$fmt"
done
python3 - "$TMP/hosts.json" "$TMP/hosts.csv" <<'PY' && ok "merged hosts: JSON and CSV carry the same host per row" ||
import csv, json, sys
js = [o for o in map(json.loads, open(sys.argv[1])) if "role" in o]
cs = list(csv.DictReader(open(sys.argv[2])))
pairs = lambda rows: [(r["host"], r["role"], str(r["cookie"])) for r in rows]
sys.exit(not (len(js) == 6 and pairs(js) == pairs(cs) and {r["host"] for r in cs} == {"boot-010101010101", "boot-020202020202"}))
PY
	not_ok "merged hosts: JSON and CSV carry the same host per row"

# ---- malformed inputs ----
# Binary ones are made from a good capture, so they track the format; one with the
# 64-byte header of older writers (ABI 1 above reads one too), so the offsets stay put.
good=$TMP/c64.tcpcap
python3 - "$TMP/c.tcpcap" "$good" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
hs = struct.unpack_from("<I", d, 12)[0]
h = bytearray(d[:64])
struct.pack_into("<I", h, 12, 64)
open(sys.argv[2], "wb").write(bytes(h) + d[hs:])
PY
MAL=$TMP/mal
mkdir -p "$MAL"
size=$(stat -c %s "$good")
head -c $((size - 50)) "$good" > "$MAL/truncated_record.tcpcap"
head -c 40 "$good" > "$MAL/truncated_header.tcpcap"
{ printf 'XXXXXXXX'; tail -c +9 "$good"; } > "$MAL/bad_magic.tcpcap"
patch() { # patch FILE OFFSET HEXBYTES...
	local f=$1 off=$2; shift 2
	printf "$(printf '\\x%s' "$@")" | dd of="$f" bs=1 seek="$off" conv=notrunc status=none
}
cp "$good" "$MAL/bad_abi.tcpcap"; patch "$MAL/bad_abi.tcpcap" 16 09
cp "$good" "$MAL/bad_record_size.tcpcap"; patch "$MAL/bad_record_size.tcpcap" 20 10 00
# record N at 64 + N*176; in a record: kind +64, old/new state +68/+69,
# family +70, comm +152 (struct tcpstates_record)
cp "$good" "$MAL/bad_kind.tcpcap"; patch "$MAL/bad_kind.tcpcap" $((64 + 2 * 176 + 64)) 63 00
cp "$good" "$MAL/bad_state.tcpcap"; patch "$MAL/bad_state.tcpcap" $((64 + 3 * 176 + 69)) c8
# the first value past the states (TCPSTATES_NR_STATES, 14): a bound off by one lets it through
cp "$good" "$MAL/bad_state_edge.tcpcap"; patch "$MAL/bad_state_edge.tcpcap" $((64 + 3 * 176 + 68)) 0e
cp "$good" "$MAL/bad_family.tcpcap"; patch "$MAL/bad_family.tcpcap" $((64 + 4 * 176 + 70)) 07
cp "$good" "$MAL/bad_comm.tcpcap"
patch "$MAL/bad_comm.tcpcap" $((64 + 1 * 176 + 152)) 41 41 41 41 41 41 41 41 41 41 41 41 41 41 41 41
for in in "$MAL"/*.tcpcap "$HERE"/malformed/*.txt; do
	[ -f "$in" ] || continue
	name=$(basename "${in%.*}")
	# shellcheck disable=SC2046
	"$TT" $(input_args "$in") --json > /dev/null 2> "$MAL/$name.err"
	rc=$?
	sed -i "s|$MAL/||; s|$HERE/malformed/||" "$MAL/$name.err"
	if [ $rc -ne 3 ]; then
		not_ok "malformed $name: exit $rc, expected 3"
		continue
	fi
	golden "malformed $name: reported" "$HERE/malformed/$name.err" "$MAL/$name.err"
done

# ---- sanitizers: every input through the ASan/UBSan build ----
if [ -x "$ASAN" ]; then
	bad=0
	for in in "$HERE"/cases/*.txt "$TMP"/*.tcpcap "$MAL"/*.tcpcap "$HERE"/malformed/*.txt; do
		[ -f "$in" ] || continue
		# every format at once, to files; then with the filter, -i and
		# --on-time-wait on top
		all="--timeline --brief=$TMP/a.brief --ladder=$TMP/a.ladder --json=$TMP/a.json
			--csv=$TMP/a.csv --stats=$TMP/a.stats --dump=$TMP/a.dump --svg $TMP/a.svg"
		for opt in "$all" "$all --comm curl -p 8080 --on-time-wait -i 1"; do
			# shellcheck disable=SC2086
			"$ASAN" -r "$in" $opt > /dev/null 2> "$TMP/asan.err"
			rc=$?
			if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
				bad=1
				echo "# $in $opt: exit $rc"
				head -5 "$TMP/asan.err" | sed 's/^/# /'
			fi
		done
	done
	[ $bad = 0 ] && ok "ASan/UBSan build: all inputs, all outputs" ||
		not_ok "ASan/UBSan build: all inputs, all outputs"
else
	skip "ASan/UBSan build" "$ASAN not built (make -C tools asan)"
fi

# ---- bounded fuzz run: a fixed seed and number of runs, the same every time ----
if [ "${SKIP_FUZZ:-0}" = 1 ]; then
	skip "fuzz decoder" "SKIP_FUZZ=1"
elif make -s -C "$TOOLS" O="$O" fuzz-decoder > "$TMP/fuzzbuild" 2>&1; then
	mkdir -p "$TMP/corpus"
	cp "$HERE"/cases/*.txt "$TMP"/*.tcpcap "$TMP/corpus/" 2>/dev/null
	if "$O/fuzz-decoder" -seed=1 -runs="$FUZZ_RUNS" -max_len=8192 \
		-artifact_prefix="$TMP/" "$TMP/corpus" > "$TMP/fuzz.log" 2>&1; then
		ok "fuzz decoder, reconstruction, filter and formats: $(grep -o 'Done [0-9]* runs' "$TMP/fuzz.log") (seed 1)"
	else
		not_ok "fuzz decoder"
		{ grep -A20 'ERROR' "$TMP/fuzz.log" || tail -5 "$TMP/fuzz.log"; } |
			head -30 | sed 's/^/# /'
	fi
else
	skip "fuzz decoder" "no libFuzzer (apt-get install clang libclang-rt-14-dev)"
fi

tap_plan
tap_exit
