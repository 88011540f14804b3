#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/build-check.sh [--no-boot] [KERNEL...] - the module's build hygiene, as TAP lines:
#   for each kernel (default: every alias of tests/vm/kernels.sh, 5.10 to the newest 7.x, the
#   build-only ones included): builds with W=1 without a warning and sparse (C=2) reports
#   nothing, here or in the chroot of the kernel's suite; then the kernel is booted once
#   (tests/vm/symcheck-guest.sh) to check every probed symbol and load the module;
#   then checkpatch --strict over module/ is clean (once: the source is the same for all).
#
# The symbol check boots the kernel instead of reading the System.map of its -dbg package: that
# package is about 1 GB per kernel, the image the VM tests fetch anyway is 60-100 MB and boots in
# about 15 s, and its /proc/kallsyms is the same table, with the kprobe blacklist beside it and
# the module's own verdict on each hook (symcheck-guest.sh says more). --no-boot (or
# TCPSTATES_SYMCHECK=0) leaves it out, for a quick compile-only pass; TCPSTATES_SYMCHECK_KERNELS
# boots only the kernels it lists (tests/run-all.sh: those no VM suite of the run boots, since a VM
# suite loads the module there and checks every hook is active).
#
# checkpatch.pl is not in Debian's linux-headers packages: it is taken from linux-source-6.1
# (installed if missing) into the cache.
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=tests/vm/kernels.sh
. "$TOP/tests/vm/kernels.sh"

CACHE=${TCPSTATES_CACHE:-$HOME/.cache/tcpstates}
boot=${TCPSTATES_SYMCHECK:-1}
if [ "${1:-}" = --no-boot ]; then
	boot=0
	shift
fi
TAP_PREFIX="build: "
# shellcheck source=tests/lib/tap.sh
. "$TOP/tests/lib/tap.sh"


# A compiler's or sparse's diagnostics are lower case; modpost's (a section mismatch, an undefined
# symbol) are WARNING: and ERROR:.
DIAG='warning:|error:|WARNING:|ERROR:'

# Print lines that look like diagnostics, as TAP comments.
diagnostics()
{
	grep -E "$DIAG" "$1" | sed 's/^/# /' | head -20
}

# symcheck KERNEL: boot it with symcheck-guest.sh; its TAP lines become ours
symcheck()
{
	local k=$1 out line rc
	"$TOP/tests/vm/vm.sh" build "$k" >/dev/null 2>&1 || { tap 1 "[$k] module for the boot"; return; }
	# A boot that dies before the check starts (an emulator flake: docs/emulator.md) has checked
	# nothing: --boots 3 boots again, at most three boots in all, as every other harness does.
	out=$(mktemp -d "$TOP/build/vm-runs/symcheck-$k.XXXXXX")
	"$TOP/tests/vm/vm.sh" run "$k" --boots 3 --timeout 300 --out "$out" -- tests/vm/symcheck-guest.sh \
		2>"$out/harness.log" >"$out/tap.log"
	rc=$?
	while IFS= read -r line; do
		case "$line" in
		ok\ *) tap 0 "${line#ok * - }" ;;
		not\ ok\ *) tap 1 "${line#not ok * - }" ;;
		*) printf '%s\n' "$line" ;;
		esac
	done <"$out/tap.log"
	if [ "$rc" -ne 0 ] && ! grep -q '^not ok' "$out/tap.log"; then
		tap 1 "[$k] symbol check boot # $(grep -m1 'FAIL' "$out/harness.log"), see $out"
	fi
}

# ensure_checker_valid KVER: 7.x's Makefile runs scripts/checker-valid.sh before C=1/C=2 and
# silently runs no checker when it fails, and Debian's linux-headers do not ship that script.
# Put the same test there (does the checker know __typeof_unqual__? print 1 if so); a sparse
# too old for those headers then still runs no checker, and the CHECK count below says so.
ensure_checker_valid()
{
	local kver=$1 suite src
	suite=$(kernel_suite "$kver")
	src=$(readlink -f "/lib/modules/$kver/build")
	if [ "$suite" != host ]; then
		src=$(chroot_dir "$suite")$(chroot_run "$suite" readlink -f "/lib/modules/$kver/build")
	fi
	src=$(sed -n 's/^include \(.*\)\/Makefile$/\1/p' "$src/Makefile" | head -n1)
	[ -n "$src" ] || return 0
	[ "$suite" = host ] || src=$(chroot_dir "$suite")$src
	grep -q checker-valid.sh "$src/Makefile" || return 0
	[ -x "$src/scripts/checker-valid.sh" ] && return 0
	cat >"$src/scripts/checker-valid.sh" <<-'EOF'
		#!/bin/sh
		# Written by tcpstates' tests/build-check.sh: Debian's headers lack this script.
		command -v "$1" >/dev/null 2>&1 || exit 1
		tmp=$(mktemp --suffix=.c) || exit 1
		printf 'static inline int u(const int *q)\n{\n\t__typeof_unqual__(*q) v = *q;\n\treturn v;\n}\n' >"$tmp"
		"$@" "$tmp" 2>&1 | awk -v c=1 '/error/ { c = 0 } END { print c }'
		rm -f "$tmp"
	EOF
	chmod 755 "$src/scripts/checker-valid.sh"
}

# checker KVER -> the CHECK= for KVER's C=2. The suite's own sparse, unless it is too old for the
# headers (trixie's 0.6.4 cannot parse 7.x's __typeof_unqual__): then sid's, unpacked into the
# chroot under /opt (it needs glibc 2.38; trixie has 2.41). sparse checks, it does not compile.
checker()
{
	local kver=$1 suite src root
	suite=$(kernel_suite "$kver")
	[ "$suite" = host ] && { echo sparse; return; }
	src=$(chroot_run "$suite" sh -c "sed -n 's/^include \(.*\)\/Makefile\$/\1/p' /lib/modules/$kver/build/Makefile")
	if [ ! -x "$(chroot_dir "$suite")$src/scripts/checker-valid.sh" ] ||
		[ "$(chroot_run "$suite" "$src/scripts/checker-valid.sh" sparse)" = 1 ] || [ "$suite" = sid ]; then
		echo sparse
		return
	fi
	root=$(chroot_dir "$suite")
	if [ ! -x "$root/opt/sparse-sid/usr/bin/sparse" ]; then
		mkdir -p "$root/opt/sparse-sid.dl"
		(chroot_apt sid check >/dev/null 2>&1
			CHROOT_BINDS="$root/opt/sparse-sid.dl" CHROOT_CWD="$root/opt/sparse-sid.dl" \
				chroot_run sid apt-get download -q sparse) >&2 &&
			dpkg-deb -x "$root"/opt/sparse-sid.dl/sparse_*.deb "$root/opt/sparse-sid" >&2
		rm -rf "$root/opt/sparse-sid.dl"
	fi
	echo /opt/sparse-sid/usr/bin/sparse
}

command -v sparse >/dev/null || _kernels_apt_install sparse >&2
mkdir -p "$TOP/build/vm-runs"
[ "$boot" = 1 ] && kernel_ensure_deps

# shellcheck disable=SC2046 # one alias a word
[ $# -gt 0 ] || set -- $(kernels_aliases)
for k in "$@"; do
	kver=$(kernel_resolve "$k") || { tap 1 "[$k] resolve kernel"; continue; }
	(kernel_ensure_headers "$kver") >&2 || { tap 1 "[$k] headers for $kver"; continue; }
	dir=$TOP/build/check-$kver
	rm -rf "$dir" && mkdir -p "$dir" && cp -r "$TOP/Kbuild" "$TOP/module" "$dir/"
	log=$dir/build.log
	ensure_checker_valid "$kver"
	t0=$(date +%s)
	kernel_make "$kver" "$dir" W=1 C=2 CHECK="$(checker "$kver")" modules >"$log" 2>&1
	rc=$?
	diagnostics "$log"
	# sparse ran on every source file, or the check proves nothing
	nsrc=$(grep -c '^ *CC \[M\] *module/' "$log")
	nchk=$(grep -c '^ *CHECK ' "$log")
	if [ "$nchk" -lt "$nsrc" ]; then
		echo "# sparse checked $nchk of $nsrc files: $(grep -m1 'C=2 specified' "$log")"
		rc=1
	fi
	if [ $rc -eq 0 ] && ! grep -qE "$DIAG" "$log"; then
		tap 0 "[$k] W=1 and sparse clean ($kver, $(kernel_suite "$kver"), $(($(date +%s) - t0)) s)"
	else
		tap 1 "[$k] W=1 and sparse clean ($kver), see $log"
	fi
	if [ "$boot" = 1 ]; then
		case " ${TCPSTATES_SYMCHECK_KERNELS-$k} " in *" $k "*) symcheck "$k" ;; esac
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

[ "$TAP_FAILED" -eq 0 ]
