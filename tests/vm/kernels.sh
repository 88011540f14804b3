# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# tests/vm/kernels.sh - sourced library: which Debian kernels the VM tests boot, and how to get them.
#
# Aliases (the concrete version is resolved from apt at run time, never hard-coded):
#   6.1      linux-image-amd64     from bookworm / bookworm-security (highest of the two)
#   6.12     linux-image-amd64     from bookworm-backports
#   6.12-rt  linux-image-rt-amd64  from bookworm-backports (PREEMPT_RT)
# A concrete kernel release such as 6.1.0-56-amd64 is accepted as well.
#
# A kernel built here instead (tests/debug-kernel/build.sh): TCPSTATES_KDIR=<its built tree>
# (modules_prepare'd, everything the guest needs built in). KERNEL is then only the run's
# name: the release is the tree's, the module builds against the tree, the initramfs loads no
# module, and QEMU boots ${TCPSTATES_KERNEL_IMAGE:-$TCPSTATES_KDIR/arch/x86/boot/bzImage}
# (not its vmlinux: that one, non-relocatable, stops at once through PVH with nothing on the
# console).
#
# Nothing is installed into /boot: the image .deb is fetched with `apt-get download` and unpacked
# with `dpkg-deb -x` into $TCPSTATES_CACHE/kernels/<kver>/root/ (default ~/.cache/tcpstates).
# Only linux-headers-<kver> is installed with apt (it provides /lib/modules/<kver>/build).
#
# Functions (all print diagnostics to stderr, results to stdout):
#   kernels_aliases                 list the aliases
#   kernel_resolve ALIAS            -> kver, e.g. 6.12.95+deb12-rt-amd64
#   kernel_ensure_deps              install the host tools the harness needs (apt-get update at most once)
#   kernel_ensure_headers KVER      install linux-headers-KVER unless /lib/modules/KVER/build exists
#   kernel_fetch KVER               -> directory holding boot/vmlinuz-KVER and lib/modules/KVER (cached)
#   kernel_cache_dir KVER           -> $TCPSTATES_CACHE/kernels/KVER
#   kernel_boot_image KVER          -> file for QEMU -kernel (uncompressed PVH vmlinux when possible)
#   kernel_build_dir KVER           -> the tree modules build against (make -C)
#   kernel_custom                   true when TCPSTATES_KDIR names a locally built kernel

TCPSTATES_CACHE=${TCPSTATES_CACHE:-${HOME:-/root}/.cache/tcpstates}
_KERNELS_APT_UPDATED=${_KERNELS_APT_UPDATED:-0}

kernels_aliases()
{
	printf '%s\n' 6.1 6.12 6.12-rt
}

_kmsg()
{
	printf 'kernels: %s\n' "$*" >&2
}

_kdie()
{
	printf 'kernels: error: %s\n' "$*" >&2
	exit 1
}

_as_root()
{
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		_kdie "need root for: $*"
	fi
}

# apt-get update, at most once per process tree.
_kernels_apt_update()
{
	[ "$_KERNELS_APT_UPDATED" = 1 ] && return 0
	_kmsg "apt-get update"
	_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 ||
		_kdie "apt-get update failed"
	_KERNELS_APT_UPDATED=1
	export _KERNELS_APT_UPDATED
}

# bookworm-backports holds the 6.12 kernels; a fresh Debian 12 machine does not list it.
_kernels_ensure_backports()
{
	if grep -rqsE '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		return 0
	fi
	_kmsg "adding bookworm-backports to /etc/apt/sources.list.d/tcpstates-backports.list"
	printf 'deb http://deb.debian.org/debian bookworm-backports main\n' |
		_as_root tee /etc/apt/sources.list.d/tcpstates-backports.list >/dev/null
	_KERNELS_APT_UPDATED=0
	_kernels_apt_update
}

# _kernels_apt_install PKG... : install what is not installed yet (one apt-get update if needed).
_kernels_apt_install()
{
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	_kmsg "installing ${missing[*]}"
	if ! _as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >&2; then
		_kernels_apt_update
		_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends "${missing[@]}" >&2 ||
			_kdie "apt-get install ${missing[*]} failed"
	fi
}

# Host tools: QEMU and the initramfs ingredients, the module build, and what the guest runs (the
# guest executes the host's binaries through 9p, so python3/tcpdump/iproute2 must be on the host).
kernel_ensure_deps()
{
	_kernels_apt_install qemu-system-x86 busybox-static cpio xz-utils zstd kmod python3 \
		tcpdump iproute2 procps build-essential binutils gcc make bc flex bison libelf-dev coreutils grep
}

# _kernels_pick_version PKG MODE: highest version of PKG in bookworm{,-security,-updates}
# (MODE=stable) or in bookworm-backports (MODE=backports), from `apt-cache madison`.
_kernels_pick_version()
{
	local pkg=$1 mode=$2 best='' ver suite
	while IFS='|' read -r _ ver suite; do
		ver=${ver// /}
		case "$suite" in
		*bookworm-backports/*) [ "$mode" = backports ] || continue ;;
		*bookworm/* | *bookworm-security/* | *bookworm-updates/*) [ "$mode" = stable ] || continue ;;
		*) continue ;;
		esac
		if [ -z "$best" ] || dpkg --compare-versions "$ver" gt "$best"; then
			best=$ver
		fi
	done < <(apt-cache madison "$pkg" 2>/dev/null)
	printf '%s\n' "$best"
}

# _kernels_meta_target PKG VERSION: the linux-image-<kver> the metapackage depends on -> <kver>
_kernels_meta_target()
{
	apt-cache depends "$1=$2" 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\([0-9][^ ]*\)$/\1/p' | grep -v -- '-unsigned$' | head -n1
}

_kernels_resolve_once()
{
	local pkg mode ver
	case "$1" in
	6.1) pkg=linux-image-amd64 mode=stable ;;
	6.12) pkg=linux-image-amd64 mode=backports ;;
	6.12-rt) pkg=linux-image-rt-amd64 mode=backports ;;
	esac
	ver=$(_kernels_pick_version "$pkg" "$mode")
	[ -n "$ver" ] || return 1
	_kernels_meta_target "$pkg" "$ver"
}

kernel_custom()
{
	[ -n "${TCPSTATES_KDIR:-}" ]
}

kernel_build_dir()
{
	if kernel_custom; then
		printf '%s\n' "$TCPSTATES_KDIR"
	else
		printf '/lib/modules/%s/build\n' "$1"
	fi
}

# kernel_resolve ALIAS -> kver on stdout
kernel_resolve()
{
	local alias=$1 kver=''
	if kernel_custom; then
		cat "$TCPSTATES_KDIR/include/config/kernel.release" 2>/dev/null ||
			_kdie "TCPSTATES_KDIR=$TCPSTATES_KDIR is not a built kernel tree"
		return 0
	fi
	case "$alias" in
	6.1 | 6.12 | 6.12-rt) ;;
	[0-9]*.*-*)
		# already a concrete release (6.1.0-56-amd64, 6.12.95+deb12-rt-amd64)
		printf '%s\n' "$alias"
		return 0
		;;
	*) _kdie "unknown kernel '$alias' (aliases: $(kernels_aliases | tr '\n' ' '))" ;;
	esac
	case "$alias" in 6.12*) _kernels_ensure_backports ;; esac
	kver=$(_kernels_resolve_once "$alias" || true)
	if [ -z "$kver" ]; then
		_kernels_apt_update
		kver=$(_kernels_resolve_once "$alias" || true)
	fi
	[ -n "$kver" ] || _kdie "cannot resolve kernel alias '$alias' from apt (apt-cache madison/depends)"
	# The alias names a series; say so when Debian has moved on (the tests still run).
	case "$alias:$kver" in
	6.1:6.1.*-amd64 | 6.12:6.12.*-amd64 | 6.12-rt:6.12.*-rt-amd64) ;;
	*) _kmsg "warning: alias $alias now resolves to $kver" ;;
	esac
	case "$alias:$kver" in 6.12:*-rt-amd64) _kdie "alias 6.12 resolved to an RT kernel: $kver" ;; esac
	printf '%s\n' "$kver"
}

kernel_cache_dir()
{
	printf '%s/kernels/%s\n' "$TCPSTATES_CACHE" "$1"
}

kernel_ensure_headers()
{
	local kver=$1
	if kernel_custom; then
		[ -e "$TCPSTATES_KDIR/Module.symvers" ] ||
			_kdie "$TCPSTATES_KDIR: no Module.symvers (run make modules_prepare and build it)"
		return 0
	fi
	[ -e "/lib/modules/$kver/build/Makefile" ] && return 0
	_kmsg "installing linux-headers-$kver"
	_kernels_apt_install "linux-headers-$kver" ||
		_kdie "cannot install linux-headers-$kver"
	[ -e "/lib/modules/$kver/build/Makefile" ] ||
		_kdie "linux-headers-$kver installed but /lib/modules/$kver/build is missing"
}

# kernel_fetch KVER -> root of the unpacked linux-image package (cached, locked against
# concurrent fetches). depmod is run there so modprobe can compute module order against it.
kernel_fetch()
{
	local kver=$1 dir root deb
	dir=$(kernel_cache_dir "$kver")
	root=$dir/root
	if kernel_custom; then
		mkdir -p "$root" # no modules to load: the guest's drivers are built in
		printf '%s\n' "$root"
		return 0
	fi
	if [ -f "$dir/.complete" ]; then
		printf '%s\n' "$root"
		return 0
	fi
	mkdir -p "$dir"
	(
		flock 9
		[ -f "$dir/.complete" ] && exit 0
		rm -rf "$root" "$dir/dl"
		mkdir -p "$dir/dl"
		_kmsg "downloading linux-image-$kver"
		if ! (cd "$dir/dl" && apt-get download -q "linux-image-$kver" >&2 2>/dev/null); then
			_kernels_apt_update
			(cd "$dir/dl" && apt-get download -q "linux-image-$kver" >&2) ||
				_kdie "apt-get download linux-image-$kver failed"
		fi
		deb=$(find "$dir/dl" -name "linux-image-${kver}_*.deb" | head -n1)
		[ -n "$deb" ] || _kdie "no .deb for linux-image-$kver in $dir/dl"
		_kmsg "unpacking $(basename "$deb")"
		dpkg-deb -x "$deb" "$root.tmp"
		[ -f "$root.tmp/boot/vmlinuz-$kver" ] || _kdie "$deb holds no boot/vmlinuz-$kver"
		depmod -b "$root.tmp" "$kver" || _kdie "depmod -b $root.tmp $kver failed"
		mv "$root.tmp" "$root"
		rm -rf "$dir/dl"
		touch "$dir/.complete"
	) 9>"$dir/.lock" || exit 1
	printf '%s\n' "$root"
}

# _kernels_extract_vmlinux VMLINUZ OUT: decompress the ELF vmlinux out of a bzImage (the method of
# the kernel's scripts/extract-vmlinux: try each compressor magic until an ELF comes out).
_kernels_extract_vmlinux()
{
	local in=$1 out=$2 magic tool off
	for magic in 'xz:\xfd\x37\x7a\x58\x5a\x00' 'zstd:\x28\xb5\x2f\xfd' 'gzip:\x1f\x8b\x08'; do
		tool=${magic%%:*}
		for off in $(LC_ALL=C grep -obUaP "${magic#*:}" "$in" 2>/dev/null | cut -d: -f1 | head -n 5); do
			case "$tool" in
			xz) tail -c +$((off + 1)) "$in" | xz -dc 2>/dev/null >"$out" ;;
			zstd) tail -c +$((off + 1)) "$in" | zstd -qdc 2>/dev/null >"$out" ;;
			gzip) tail -c +$((off + 1)) "$in" | gzip -dc 2>/dev/null >"$out" ;;
			esac
			if [ "$(head -c 4 "$out" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; then
				return 0
			fi
		done
	done
	rm -f "$out"
	return 1
}

# kernel_boot_image KVER -> the file to give QEMU's -kernel.
# Under TCG the bzImage's own decompressor is slow (6.1 is xz: about 5 s of a 13 s boot), so when
# the kernel has a PVH entry point (Xen ELF note 18, CONFIG_PVH=y in Debian) boot the uncompressed
# vmlinux directly: QEMU supports that for ELF kernels. TCPSTATES_PVH=0 boots the bzImage instead.
kernel_boot_image()
{
	local kver=$1 dir root vmlinux
	if kernel_custom; then
		printf '%s\n' "${TCPSTATES_KERNEL_IMAGE:-$TCPSTATES_KDIR/arch/x86/boot/bzImage}"
		return 0
	fi
	dir=$(kernel_cache_dir "$kver")
	root=$(kernel_fetch "$kver")
	vmlinux=$dir/vmlinux
	if [ "${TCPSTATES_PVH:-1}" = 1 ]; then
		if [ ! -f "$vmlinux" ] && [ ! -f "$dir/.no-pvh" ]; then
			(
				flock 9
				[ -f "$vmlinux" ] || [ -f "$dir/.no-pvh" ] && exit 0
				if _kernels_extract_vmlinux "$root/boot/vmlinuz-$kver" "$vmlinux.tmp" &&
					readelf -n "$vmlinux.tmp" 2>/dev/null | grep -q 'Xen.*(0x00000012)'; then
					mv "$vmlinux.tmp" "$vmlinux"
				else
					rm -f "$vmlinux.tmp"
					_kmsg "$kver: no PVH entry point, booting the compressed bzImage"
					touch "$dir/.no-pvh"
				fi
			) 9>"$dir/.vmlinux.lock"
		fi
		if [ -f "$vmlinux" ]; then
			printf '%s\n' "$vmlinux"
			return 0
		fi
	fi
	printf '%s\n' "$root/boot/vmlinuz-$kver"
}
