# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# tests/vm/kernels.sh - sourced library: which Debian kernels the VM tests boot, and how to get them.
#
# Aliases (the concrete version is resolved from apt at run time, never hard-coded; the table in
# _kernels_table says where each comes from):
#   5.10        linux-image-amd64     bullseye(-security)          gcc-10, bullseye chroot
#   6.1         linux-image-amd64     bookworm(-security)          gcc-12, this machine
#   6.12        linux-image-amd64     bookworm-backports           gcc-12, bookworm chroot
#   6.12-rt     linux-image-rt-amd64  bookworm-backports           gcc-12, bookworm chroot (PREEMPT_RT)
#   6.12-deb13  linux-image-amd64     trixie(-security)            gcc-14, trixie chroot
#   7.3         linux-image-amd64     trixie-backports (newest)    gcc-14, trixie chroot
#   7.3-rt      linux-image-rt-amd64  trixie-backports (newest)    gcc-14, trixie chroot (PREEMPT_RT)
#   7.2-sid     linux-image-amd64     sid                          gcc-16, sid chroot
#   7.3-rc      linux-image-amd64     experimental                 gcc-16, sid chroot
# kernels_vm_aliases lists the ones the VM suites boot; all of them are built and booted once by
# the build check. A concrete kernel release such as 6.1.0-56-amd64 is accepted as well.
#
# Kernels whose headers need a compiler Debian 12 lacks (or, 6.12 from bookworm-backports, would
# install a kernel into this machine's /boot) are built, and their images fetched, in a minimal
# chroot of their suite (tests/vm/chroot.sh, cached under $TCPSTATES_CACHE/chroots).
#
# A kernel built here instead (tests/debug-kernel/build.sh): TCPSTATES_KDIR=<its built tree>
# (modules_prepare'd, everything the guest needs built in). KERNEL is then only the run's
# name: the release is the tree's, the module builds against the tree, the initramfs loads no
# module, and QEMU boots ${TCPSTATES_KERNEL_IMAGE:-$TCPSTATES_KDIR/arch/x86/boot/bzImage}
# (not its vmlinux: that one, non-relocatable, stops at once through PVH with nothing on the
# console).
#
# Nothing is installed into this machine's /boot: the image .deb is fetched with `apt-get download`
# and unpacked with `dpkg-deb -x` into $TCPSTATES_CACHE/kernels/<kver>/root/ (default
# ~/.cache/tcpstates). Only linux-headers-<kver> is installed with apt, here for 6.1 (it provides
# /lib/modules/<kver>/build), in the suite's chroot for the others.
#
# Functions (all print diagnostics to stderr, results to stdout):
#   kernels_aliases                 list the aliases
#   kernel_resolve ALIAS            -> kver, e.g. 6.12.95+deb12-rt-amd64
#   kernel_ensure_deps              install the host tools the harness needs (apt-get update at most once)
#   kernel_ensure_headers KVER      install linux-headers-KVER (here or in its suite's chroot)
#   kernel_make KVER DIR ARGS...    make -C <its headers> M=DIR ARGS (here or in the chroot)
#   kernel_suite KVER               -> host | bullseye | trixie | sid: where KVER's headers build
#   kernel_fetch KVER               -> directory holding boot/vmlinuz-KVER and lib/modules/KVER (cached)
#   kernel_cache_dir KVER           -> $TCPSTATES_CACHE/kernels/KVER
#   kernel_boot_image KVER          -> file for QEMU -kernel (uncompressed PVH vmlinux when possible)
#   kernel_build_dir KVER           -> the tree modules build against (make -C)
#   kernel_custom                   true when TCPSTATES_KDIR names a locally built kernel

TCPSTATES_CACHE=${TCPSTATES_CACHE:-${HOME:-/root}/.cache/tcpstates}
# shellcheck source=tests/vm/chroot.sh
. "$(dirname "${BASH_SOURCE[0]}")/chroot.sh"
_KERNELS_APT_UPDATED=${_KERNELS_APT_UPDATED:-0}

# alias, where it builds (host or a chroot suite), metapackage, the apt dists (apt-cache
# madison's column) its version is taken from (highest wins), the series the alias promises
_kernels_table()
{
	cat <<-'EOF'
		5.10        bullseye  linux-image-amd64     bullseye,bullseye-security,bullseye-updates  5.10
		6.1         host      linux-image-amd64     bookworm,bookworm-security,bookworm-updates  6.1
		6.12        bookworm  linux-image-amd64     bookworm-backports                           6.12
		6.12-rt     bookworm  linux-image-rt-amd64  bookworm-backports                           6.12
		6.12-deb13  trixie    linux-image-amd64     trixie,trixie-security,trixie-updates        6.12
		7.3         trixie    linux-image-amd64     trixie-backports                             7.3
		7.3-rt      trixie    linux-image-rt-amd64  trixie-backports                             7.3
		7.2-sid     sid       linux-image-amd64     sid                                          7.2
		7.3-rc      sid       linux-image-amd64     experimental                                 7.3
	EOF
}

kernels_aliases()
{
	_kernels_table | awk '{ print $1 }'
}

# the kernels the VM suites boot: every series once, and the newest with its RT flavour
kernels_vm_aliases()
{
	printf '%s\n' 5.10 6.1 6.12 6.12-rt 7.3 7.3-rt
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

# _kernels_apt_get ARGS...: apt-get as root, waiting for a lock another apt holds. A fresh cloud
# machine runs unattended-upgrades in its first minutes, and without a timeout apt fails at once
# ("Could not get lock /var/lib/dpkg/lock-frontend"). DPkg::Lock::Timeout makes apt wait for the
# dpkg lock; apt-get update takes the lists lock, which that option does not cover in every apt,
# so a lock error is also retried until the same time has passed. TCPSTATES_APT_WAIT: seconds,
# 600 as .ci/run waits.
_kernels_apt_get()
{
	local wait=${TCPSTATES_APT_WAIT:-600} end err rc
	end=$(($(date +%s) + wait))
	err=$(mktemp) || return 1
	while :; do
		_as_root env DEBIAN_FRONTEND=noninteractive \
			apt-get -o DPkg::Lock::Timeout="$wait" "$@" 2>"$err"
		rc=$?
		if [ $rc -ne 0 ] && grep -q 'Could not get lock' "$err" && [ "$(date +%s)" -lt "$end" ]; then
			_kmsg "apt-get $1: waiting for a lock another apt holds"
			sleep 5
			continue
		fi
		cat "$err" >&2
		rm -f "$err"
		return $rc
	done
}

# apt-get update, at most once per process tree.
_kernels_apt_update()
{
	[ "$_KERNELS_APT_UPDATED" = 1 ] && return 0
	_kmsg "apt-get update"
	_kernels_apt_get update -qq >&2 || _kdie "apt-get update failed"
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
	if ! _kernels_apt_get install -y -qq --no-install-recommends "${missing[@]}" >&2; then
		_kernels_apt_update
		_kernels_apt_get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
			_kdie "apt-get install ${missing[*]} failed"
	fi
}

# Host tools: QEMU and the initramfs ingredients, the module build, and what the guest runs (the
# guest executes the host's binaries through 9p, so python3/tcpdump/iproute2 must be on the host).
kernel_ensure_deps()
{
	_kernels_apt_install qemu-system-x86 busybox-static cpio xz-utils zstd kmod python3 \
		tcpdump iproute2 procps build-essential binutils gcc make bc flex bison libelf-dev coreutils grep \
		debootstrap util-linux
}

# _kernels_pick_version WHERE PKG DISTS: highest version of PKG among the comma-separated apt dists
# DISTS (apt-cache madison's third column), asked of this machine's apt or of WHERE's chroot.
_kernels_pick_version()
{
	local where=$1 pkg=$2 dists=",$3," best='' ver suite
	while IFS='|' read -r _ ver suite; do
		ver=${ver// /}
		read -r _ suite _ <<<"$suite" # URL DIST/COMPONENT ARCH Packages
		suite=${suite%%/*}
		case "$dists" in *",$suite,"*) ;; *) continue ;; esac
		if [ -z "$best" ] || dpkg --compare-versions "$ver" gt "$best"; then
			best=$ver
		fi
	done < <(_kernels_apt_cache "$where" madison "$pkg" 2>/dev/null)
	printf '%s\n' "$best"
}

_kernels_apt_cache()
{
	local where=$1
	shift
	if [ "$where" = host ]; then
		apt-cache "$@"
	else
		chroot_query "$where" apt-cache "$@"
	fi
}

# _kernels_meta_target WHERE PKG VERSION: the linux-image-<kver> the metapackage depends on -> <kver>
_kernels_meta_target()
{
	_kernels_apt_cache "$1" depends "$2=$3" 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\([0-9][^ ]*\)$/\1/p' | grep -v -- '-unsigned$' | head -n1
}

# _kernels_alias ALIAS -> "where pkg dists series", or nothing
_kernels_alias()
{
	_kernels_table | awk -v a="$1" '$1 == a { print $2, $3, $4, $5 }'
}

_kernels_resolve_once()
{
	local where pkg dists ver
	read -r where pkg dists _ <<<"$(_kernels_alias "$1")"
	ver=$(_kernels_pick_version "$where" "$pkg" "$dists")
	[ -n "$ver" ] || return 1
	_kernels_meta_target "$where" "$pkg" "$ver"
}

# kernel_suite KVER -> where KVER's headers build: host, or the chroot suite whose gcc they need
# (Debian's release names say it: 6.1.0-N is bookworm's, built here; +deb12 bookworm-backports',
# whose headers pull in their image, so in a bookworm chroot; +deb13 trixie's, 5.10.0-N
# bullseye's; anything newer is sid's or experimental's, both in the sid chroot)
kernel_suite()
{
	if kernel_custom; then
		echo host
		return 0
	fi
	case "$1" in
	5.10.*) echo bullseye ;;
	6.1.0-*) echo host ;;
	*+deb12-*) echo bookworm ;;
	*+deb13-*) echo trixie ;;
	*) echo sid ;;
	esac
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
	local alias=$1 kver='' where series
	if kernel_custom; then
		cat "$TCPSTATES_KDIR/include/config/kernel.release" 2>/dev/null ||
			_kdie "TCPSTATES_KDIR=$TCPSTATES_KDIR is not a built kernel tree"
		return 0
	fi
	read -r where _ _ series <<<"$(_kernels_alias "$alias")"
	if [ -z "$where" ]; then
		case "$alias" in
		[0-9]*.*-*)
			# already a concrete release (6.1.0-56-amd64, 6.12.95+deb12-rt-amd64)
			printf '%s\n' "$alias"
			return 0
			;;
		esac
		_kdie "unknown kernel '$alias' (aliases: $(kernels_aliases | tr '\n' ' '))"
	fi
	[ "$where" = host ] && case "$alias" in 6.12*) _kernels_ensure_backports ;; esac
	kver=$(_kernels_resolve_once "$alias" || true)
	if [ -z "$kver" ] && [ "$where" = host ]; then
		_kernels_apt_update
		kver=$(_kernels_resolve_once "$alias" || true)
	fi
	[ -n "$kver" ] || _kdie "cannot resolve kernel alias '$alias' from apt (apt-cache madison/depends)"
	# The alias names a series; say so when Debian has moved on (the tests still run).
	case "$kver" in
	"$series".* | "$series"-*) ;; # 7.3.4+deb13-amd64; experimental's 7.3~rc7 is 7.3-amd64
	*) _kmsg "warning: alias $alias now resolves to $kver" ;;
	esac
	case "$alias:$kver" in
	*-rt:*-rt-amd64) ;;
	*-rt:*) _kdie "alias $alias resolved to a kernel without PREEMPT_RT: $kver" ;;
	*:*-rt-amd64) _kdie "alias $alias resolved to an RT kernel: $kver" ;;
	esac
	printf '%s\n' "$kver"
}

kernel_cache_dir()
{
	printf '%s/kernels/%s\n' "$TCPSTATES_CACHE" "$1"
}

kernel_ensure_headers()
{
	local kver=$1 suite root
	if kernel_custom; then
		[ -e "$TCPSTATES_KDIR/Module.symvers" ] ||
			_kdie "$TCPSTATES_KDIR: no Module.symvers (run make modules_prepare and build it)"
		return 0
	fi
	suite=$(kernel_suite "$kver")
	if [ "$suite" != host ]; then
		# /lib/modules/<kver>/build is an absolute link inside the chroot: look at its target
		root=$(chroot_ensure "$suite")
		[ -e "$root/usr/src/linux-headers-$kver/Makefile" ] && return 0
		_kmsg "installing linux-headers-$kver in the $suite chroot"
		chroot_apt "$suite" install "linux-headers-$kver" >&2 ||
			_kdie "cannot install linux-headers-$kver in the $suite chroot"
		[ -e "$root/usr/src/linux-headers-$kver/Makefile" ] ||
			_kdie "linux-headers-$kver installed but $root/usr/src/linux-headers-$kver is missing"
		return 0
	fi
	[ -e "/lib/modules/$kver/build/Makefile" ] && return 0
	_kmsg "installing linux-headers-$kver"
	_kernels_apt_install "linux-headers-$kver" ||
		_kdie "cannot install linux-headers-$kver"
	[ -e "/lib/modules/$kver/build/Makefile" ] ||
		_kdie "linux-headers-$kver installed but /lib/modules/$kver/build is missing"
}

# kernel_make KVER DIR ARGS...: make -C <KVER's headers> M=DIR ARGS, on this machine or in the
# chroot of KVER's suite (DIR bound at its own path there, so the output lands in DIR)
kernel_make()
{
	local kver=$1 dir=$2 suite
	shift 2
	suite=$(kernel_suite "$kver")
	if [ "$suite" = host ]; then
		make -C "$(kernel_build_dir "$kver")" M="$dir" "$@"
	else
		CHROOT_BINDS="$dir" chroot_run "$suite" make -C "/lib/modules/$kver/build" M="$dir" "$@"
	fi
}

# _kernels_image_packages WHERE KVER: linux-image-KVER and the packages of that release it
# depends on (7.x splits the image into linux-binary-, linux-modules- and linux-base-KVER)
_kernels_image_packages()
{
	echo "linux-image-$2"
	_kernels_apt_cache "$1" depends "linux-image-$2" 2>/dev/null |
		awk -v k="-$2" '$1 == "Depends:" && substr($2, length($2) - length(k) + 1) == k { print $2 }' |
		sort -u
}

# _kernels_download KVER DIR: apt-get download the image packages of KVER into DIR (here or in
# the chroot)
_kernels_download()
{
	local kver=$1 dl=$2 suite pkgs
	suite=$(kernel_suite "$kver")
	if [ "$suite" != host ]; then
		chroot_apt "$suite" check >/dev/null 2>&1 # one apt-get update
		mapfile -t pkgs < <(_kernels_image_packages "$suite" "$kver")
		CHROOT_BINDS="$dl" CHROOT_CWD="$dl" chroot_run "$suite" \
			apt-get download -q "${pkgs[@]}" >&2
		return
	fi
	mapfile -t pkgs < <(_kernels_image_packages host "$kver")
	if ! (cd "$dl" && apt-get download -q "${pkgs[@]}" >&2 2>/dev/null); then
		_kernels_apt_update
		mapfile -t pkgs < <(_kernels_image_packages host "$kver")
		(cd "$dl" && apt-get download -q "${pkgs[@]}" >&2)
	fi
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
		_kernels_download "$kver" "$dir/dl" || _kdie "apt-get download linux-image-$kver failed"
		[ -n "$(find "$dir/dl" -name "linux-image-${kver}_*.deb")" ] ||
			_kdie "no .deb for linux-image-$kver in $dir/dl"
		for deb in "$dir/dl"/*.deb; do
			_kmsg "unpacking $(basename "$deb")"
			dpkg-deb -x "$deb" "$root.tmp"
		done
		# 7.x ships /usr/lib/modules/<kver>/{vmlinuz,kernel/...} only; this machine's depmod and
		# the rest of the harness read lib/modules and boot/vmlinuz-<kver>: the older layout
		if [ ! -d "$root.tmp/lib/modules/$kver" ] && [ -d "$root.tmp/usr/lib/modules/$kver" ]; then
			mkdir -p "$root.tmp/lib/modules" "$root.tmp/boot"
			mv "$root.tmp/usr/lib/modules/$kver" "$root.tmp/lib/modules/$kver"
			[ -f "$root.tmp/lib/modules/$kver/vmlinuz" ] && [ ! -e "$root.tmp/boot/vmlinuz-$kver" ] &&
				mv "$root.tmp/lib/modules/$kver/vmlinuz" "$root.tmp/boot/vmlinuz-$kver"
		fi
		[ -f "$root.tmp/boot/vmlinuz-$kver" ] || _kdie "no boot/vmlinuz-$kver in $dir/dl/*.deb"
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
