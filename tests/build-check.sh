#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/build-check.sh [KERNEL...] - the module's build hygiene, as TAP lines:
#   for each kernel (default 6.1 6.12 6.12-rt): builds with W=1 without a warning,
#   and sparse (C=2) reports nothing; then checkpatch --strict over module/ is clean.
# checkpatch.pl is not in Debian's linux-headers packages: it is taken from
# linux-source-6.1 (installed if missing) into the cache.
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=tests/vm/kernels.sh
. "$TOP/tests/vm/kernels.sh"

CACHE=${TCPSTATES_CACHE:-$HOME/.cache/tcpstates}
n=0
fails=0

tap()
{
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - build: $2"
	else
		echo "not ok $n - build: $2"
		fails=$((fails + 1))
	fi
}

# Print lines that look like compiler or sparse diagnostics, as TAP comments.
diagnostics()
{
	grep -E 'warning:|error:' "$1" | sed 's/^/# /' | head -20
}

command -v sparse >/dev/null || _kernels_apt_install sparse >&2

for k in ${@:-6.1 6.12 6.12-rt}; do
	kver=$(kernel_resolve "$k") || { tap 1 "[$k] resolve kernel"; continue; }
	kernel_ensure_headers "$kver" >&2 || { tap 1 "[$k] headers for $kver"; continue; }
	dir=$TOP/build/check-$kver
	rm -rf "$dir" && mkdir -p "$dir" && cp -r "$TOP/Kbuild" "$TOP/module" "$dir/"
	log=$dir/build.log
	make -C "/lib/modules/$kver/build" M="$dir" W=1 C=2 modules >"$log" 2>&1
	rc=$?
	diagnostics "$log"
	if [ $rc -eq 0 ] && ! grep -qE 'warning:|error:' "$log"; then
		tap 0 "[$k] W=1 and sparse clean ($kver)"
	else
		tap 1 "[$k] W=1 and sparse clean ($kver), see $log"
	fi
done

cp_dir=$CACHE/checkpatch
if [ ! -x "$cp_dir/scripts/checkpatch.pl" ]; then
	[ -f /usr/src/linux-source-6.1.tar.xz ] || _kernels_apt_install linux-source-6.1 >&2
	mkdir -p "$cp_dir"
	tar -C "$cp_dir" --strip-components=1 -xf /usr/src/linux-source-6.1.tar.xz \
		linux-source-6.1/scripts/checkpatch.pl linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
fi
# The UAPI header's name lists are X-macros (TCPSTATES_STATE_LIST(X) ...), like the kernel's own
# include/net/dropreason-core.h: a list of X(...) invocations cannot be parenthesised, and X is
# used once per entry by design. Those two checks, and only there, are off.
out=$(cd "$TOP" && {
	perl "$cp_dir/scripts/checkpatch.pl" --no-tree --strict --terse \
		--ignore FILE_PATH_CHANGES -f module/*.c module/*.h
	perl "$cp_dir/scripts/checkpatch.pl" --no-tree --strict --terse \
		--ignore FILE_PATH_CHANGES,COMPLEX_MACRO,MACRO_ARG_REUSE -f module/uapi/*.h
} 2>&1 | grep -v '^total:')
[ -n "$out" ] && echo "$out" | sed 's/^/# /'
tap "$([ -z "$out" ] && echo 0 || echo 1)" "checkpatch --strict module/"

[ $fails -eq 0 ]
