#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/vm/qemu.sh - which QEMU the test guests run on, without replacing the system's.
#
# Usage:
#   tests/vm/qemu.sh path SPEC    print the qemu-system-x86_64 to run for SPEC, installing it first
#   tests/vm/qemu.sh version SPEC print its version line
#
# SPEC (TCPSTATES_QEMU in tests/vm/vm.sh):
#   system | ''   the qemu-system-x86_64 on PATH (Debian 12: 7.2)
#   backports     QEMU 10.0 from bookworm-backports, unpacked into $TCPSTATES_CACHE/qemu/VERSION:
#                 `apt-get download` of qemu-system-x86, -common, -data and backports' seabios,
#                 `dpkg-deb -x` beside each other, and a wrapper script that runs that binary with
#                 its own firmware (-L) and modules. The libraries it links against are bookworm's
#                 (installed with apt if missing). Nothing outside the cache changes, so 7.2 stays
#                 the system QEMU and both can be compared on one machine.
#   /path/to/qemu-system-x86_64   that binary (a wrapper script that adds its options is fine)
set -euo pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=tests/vm/kernels.sh
. "$VM_DIR/kernels.sh"

QEMU_BPO_PKGS=(qemu-system-x86 qemu-system-common qemu-system-data)

die()
{
	printf '# qemu: error: %s\n' "$*" >&2
	exit 1
}

# bpo_version PKG -> the version of PKG in bookworm-backports
bpo_version()
{
	apt-cache madison "$1" 2>/dev/null | awk -F'|' '$3 ~ /bookworm-backports/ { gsub(/ /, "", $2); print $2; exit }'
}

# install_backports -> path of the wrapper (unpacks once; later calls only print the path)
install_backports()
{
	local ver root wrapper stage p bios_ver missing
	_kernels_ensure_backports
	ver=$(bpo_version qemu-system-x86)
	if [ -z "$ver" ]; then
		_kernels_apt_update
		ver=$(bpo_version qemu-system-x86)
	fi
	[ -n "$ver" ] || die "no qemu-system-x86 in bookworm-backports"
	root=$TCPSTATES_CACHE/qemu/${ver//[:~]/_}
	wrapper=$root/qemu-system-x86_64
	if [ ! -x "$wrapper" ]; then
		mkdir -p "$TCPSTATES_CACHE/qemu"
		(
			flock 9
			[ -x "$wrapper" ] && exit 0
			printf '# qemu: unpacking qemu-system-x86 %s from bookworm-backports into %s\n' "$ver" "$root" >&2
			stage=$(mktemp -d "$TCPSTATES_CACHE/qemu/stage.XXXXXX")
			# shellcheck disable=SC2064
			trap "rm -rf '$stage'" EXIT
			mkdir -p "$stage/debs" "$stage/root"
			bios_ver=$(bpo_version seabios)
			(
				cd "$stage/debs"
				for p in "${QEMU_BPO_PKGS[@]}"; do
					apt-get download -q "$p=$ver" >&2 2>/dev/null || exit 1
				done
				# qemu 10 wants seabios newer than bookworm's (Depends: seabios >> 1.16.3-1~)
				apt-get download -q "seabios${bios_ver:+=$bios_ver}" >&2 2>/dev/null
			) || die "apt-get download of QEMU $ver failed"
			for p in "$stage"/debs/*.deb; do
				dpkg-deb -x "$p" "$stage/root"
			done
			cat >"$stage/root/qemu-system-x86_64" <<-EOF
				#!/bin/sh
				# QEMU $ver from bookworm-backports, unpacked by tests/vm/qemu.sh
				R=$root/usr
				export QEMU_MODULE_DIR=\$R/lib/x86_64-linux-gnu/qemu
				exec "\$R/bin/qemu-system-x86_64" -L "\$R/share/qemu" -L "\$R/share/seabios" "\$@"
			EOF
			chmod 755 "$stage/root/qemu-system-x86_64"
			rm -rf "$root"
			mv "$stage/root" "$root"
		) 9>"$TCPSTATES_CACHE/qemu/.lock" || exit 1
	fi
	# Its libraries come from bookworm: install the packages that provide any that are missing.
	missing=$(ldd "$root/usr/bin/qemu-system-x86_64" | awk '/not found/ { print $1 }')
	if [ -n "$missing" ]; then
		_kernels_apt_install $(apt-cache show "qemu-system-x86=$ver" |
			sed -n 's/^Depends: //p' | tr ',' '\n' | sed 's/ *(.*//; s/^ *//' |
			grep -E '^lib|^zlib')
		missing=$(ldd "$root/usr/bin/qemu-system-x86_64" | awk '/not found/ { print $1 }')
		[ -z "$missing" ] || die "QEMU $ver still misses libraries: $missing"
	fi
	printf '%s\n' "$wrapper"
}

qemu_path()
{
	case "${1:-system}" in
	system | '') command -v qemu-system-x86_64 || die "qemu-system-x86_64 not installed" ;;
	backports) install_backports ;;
	/*) [ -x "$1" ] || die "$1 is not executable"; printf '%s\n' "$1" ;;
	*) die "TCPSTATES_QEMU: system, backports or an absolute path, not '$1'" ;;
	esac
}

case "${1:-}" in
path) qemu_path "${2:-}" ;;
version) "$(qemu_path "${2:-}")" --version | head -n 1 ;;
*) sed -n '/^# Usage:/,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
