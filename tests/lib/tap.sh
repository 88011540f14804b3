# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# tests/lib/tap.sh - the TAP lines every shell suite prints (sourced), as kselftest does:
#   ok N - PREFIXname        not ok N - PREFIXname        ok N - PREFIXname # SKIP reason
#
#   TAP_PREFIX="device: "   put before every name (set it before the first line)
#   tap RC NAME             ok if RC is 0, else not ok
#   ok NAME / not_ok NAME   the same, spelled out
#   skip NAME REASON        a check that could not run here, and why (it still counts)
#   check NAME CMD...       ok if CMD succeeds
#   tap_plan                the closing "1..N"
#   tap_exit                exit 0 if nothing failed, else 1
# TAP_COUNT and TAP_FAILED count the lines printed and the failures among them.
# A '#' in a name is written '\#', as TAP asks: an unescaped one starts a directive, and a name
# such as "says # SKIP" would otherwise read as a skip (tests/lib/verdict.sh counts it as one).

TAP_PREFIX=${TAP_PREFIX:-}
TAP_COUNT=0
TAP_FAILED=0

tap()
{
	local name=$TAP_PREFIX$2
	name=${name//#/\\#}
	TAP_COUNT=$((TAP_COUNT + 1))
	if [ "$1" = 0 ]; then
		echo "ok $TAP_COUNT - $name"
	else
		echo "not ok $TAP_COUNT - $name"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

ok()
{
	tap 0 "$*"
}

not_ok()
{
	tap 1 "$*"
}

skip()
{
	local name=$TAP_PREFIX$1
	TAP_COUNT=$((TAP_COUNT + 1))
	echo "ok $TAP_COUNT - ${name//#/\\#} # SKIP $2"
}

check()
{
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

tap_plan()
{
	echo "1..$TAP_COUNT"
}

tap_exit()
{
	[ "$TAP_FAILED" = 0 ]
	exit
}
