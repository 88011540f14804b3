#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/debug-kernel/build.sh - build (or reuse) a small 6.1 debug kernel for the VM tests.
#
# Usage: tests/debug-kernel/build.sh
#   prints the kernel tree on stdout; it holds the bzImage QEMU boots, and
#   is modules_prepare'd with a Module.symvers, so `make -C TREE M=...` builds the tcpstates
#   module against it (tests/vm/vm.sh does that when TCPSTATES_KDIR=TREE).
#
# The tree is Debian's linux-source-6.1 (installed with apt if missing), configured as
# `make tinyconfig` + debug.config (scripts/kconfig/merge_config.sh, then olddefconfig): a minimal
# guest with everything built in, plus KASAN, lockdep (PROVE_LOCKING, PROVE_RCU),
# DEBUG_ATOMIC_SLEEP and kmemleak. It is cached under
#   ${TCPSTATES_CACHE:-~/.cache/tcpstates}/debug-6.1/<key>/
# where <key> hashes debug.config, BUILD_FORMAT and the linux-source-6.1 package version, so editing
# the fragment or upgrading the source rebuilds, and nothing else does. Other keys are removed
# once unused for a day.
#
# Environment: TCPSTATES_JOBS (make -j, default 2). The first build takes 12 minutes on two idle
# cores (23 minutes measured with QEMU guests running beside it); a cached one returns at once.
#
# TCPSTATES_DEBUG_VARIANT=kcsan builds the second configuration instead, cached under kcsan-6.1/:
# debug.config without KASAN, kmemleak and fault injection (KCSAN excludes KASAN, and each slows
# the other's guest), plus kcsan.config: the kernel's data-race detector (tests/debug-kernel/
# kcsan.sh runs it).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
CACHE=${TCPSTATES_CACHE:-${HOME:-/root}/.cache/tcpstates}
TARBALL=/usr/src/linux-source-6.1.tar.xz
VARIANT=${TCPSTATES_DEBUG_VARIANT:-debug}
JOBS=${TCPSTATES_JOBS:-2}
# Bumped when the way this script builds changes, so cached kernels are rebuilt.
BUILD_FORMAT=1

msg()
{
	printf '# debug-kernel: %s\n' "$*" >&2
}

die()
{
	printf '# debug-kernel: error: %s\n' "$*" >&2
	exit 1
}

# The source, and what a kernel build needs beyond build-essential: flex and bison (Kconfig and
# the dtc/genksyms parsers), bc (timeconst.h), libelf-dev (objtool), libssl-dev (certificate tools).
# kernels.sh's install waits for a dpkg lock another apt holds, and says what it installs.
# shellcheck source=tests/vm/kernels.sh
. "$HERE/../vm/kernels.sh"
need=(flex bison bc libelf-dev libssl-dev)
[ -f "$TARBALL" ] || need+=(linux-source-6.1)
_kernels_apt_install "${need[@]}"
[ -f "$TARBALL" ] || die "$TARBALL missing after installing linux-source-6.1"
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || stat -c %Y "$TARBALL")

# the fragment: debug.config as it is, or for kcsan its guest and debugging lines with kcsan.config
fragment()
{
	case $VARIANT in
	debug) cat "$HERE/debug.config" ;;
	kcsan)
		grep -vE '^CONFIG_(KASAN[A-Z_]*|DEBUG_KMEMLEAK|FAULT_INJECTION[A-Z_]*|FAILSLAB|LOCALVERSION)=' \
			"$HERE/debug.config"
		cat "$HERE/kcsan.config"
		;;
	*) die "TCPSTATES_DEBUG_VARIANT=$VARIANT: debug or kcsan" ;;
	esac
}
key=$({
	echo "linux-source-6.1 $srcver"
	echo "format $BUILD_FORMAT"
	fragment | sha256sum
} | sha256sum | cut -c1-12)
base=$CACHE/$VARIANT-6.1
dir=$base/$key
tree=$dir/linux

if [ -f "$dir/.complete" ]; then
	touch "$dir/.complete" # in use: see the clean-up below
	printf '%s\n' "$tree"
	exit 0
fi

mkdir -p "$dir"
(
	flock 9
	[ -f "$dir/.complete" ] && exit 0
	t0=$(date +%s)
	if [ ! -f "$dir/.extracted" ]; then
		msg "extracting $TARBALL ($srcver) into $dir"
		rm -rf "$tree" "$dir/src.tmp"
		mkdir -p "$dir/src.tmp"
		tar -xf "$TARBALL" -C "$dir/src.tmp"
		mv "$dir/src.tmp/linux-source-6.1" "$tree"
		rmdir "$dir/src.tmp"
		touch "$dir/.extracted"
	fi
	cd "$tree"
	msg "configuring: tinyconfig + the $VARIANT fragment"
	fragment >"$dir/fragment.config"
	make -s tinyconfig >&2
	scripts/kconfig/merge_config.sh -m .config "$dir/fragment.config" >/dev/null
	make -s olddefconfig >&2
	# a fragment line olddefconfig dropped (unmet dependency) would silently weaken the kernel
	lost=0
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*) grep -qxF "$line" .config || { msg "config lost: $line"; lost=1; } ;;
		'# CONFIG_'*' is not set')
			sym=${line#'# '}
			sym=${sym%' is not set'}
			! grep -q "^$sym=" .config || { msg "config lost: $line"; lost=1; }
			;;
		esac
	done <"$dir/fragment.config"
	[ "$lost" = 0 ] || die "the $VARIANT fragment does not apply to this tree (see the lines above)"
	msg "make -j$JOBS bzImage modules_prepare modules (about 12-15 minutes on two idle cores)"
	make -s -j"$JOBS" bzImage >&2 || die "kernel build failed"
	make -s -j"$JOBS" modules_prepare >&2 || die "make modules_prepare failed"
	# no module is configured: this only writes Module.symvers, which M= builds check against
	make -s -j"$JOBS" modules >&2 || die "make modules failed"
	[ -f vmlinux ] && [ -f Module.symvers ] || die "no vmlinux or Module.symvers after the build"
	make -s kernelrelease >"$dir/kernelrelease"
	msg "built $(cat "$dir/kernelrelease") in $(($(date +%s) - t0)) s"
	touch "$dir/.complete"
	# Another key's kernel is stale once nothing has used it for a day. Not at once: a second
	# tree with another debug.config (a branch beside main) may be booting it right now.
	find "$base" -mindepth 2 -maxdepth 2 -name .complete -mmin +1440 -printf '%h\n' |
		while read -r old; do [ "$old" = "$dir" ] || rm -rf "$old"; done
) 9>"$dir/.lock" || exit 1
printf '%s\n' "$tree"
