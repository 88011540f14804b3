# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# tests/vm/chroot.sh - sourced library (by kernels.sh): a minimal Debian chroot per suite, for the
# kernels whose headers need a compiler Debian 12 does not have (5.10: bullseye's gcc-10; trixie's
# 6.12 and 7.x: gcc-14; sid and experimental: gcc-16), and for bookworm-backports' 6.12, whose
# headers depend on their linux-image: installed here, that would put a kernel and an initramfs
# into this machine's /boot (minutes each). Each chroot is made once with debootstrap
# from the Debian mirror and kept in $TCPSTATES_CACHE/chroots/<suite>; nothing depends on it being
# there: a missing one is made again (a cache speeds things up, it is never needed).
#
#   chroot_ensure SUITE          -> the chroot's root (made under flock if missing)
#   chroot_apt SUITE ARGS...     apt-get ARGS inside it (apt-get update at most once per process)
#   chroot_run SUITE CMD...      CMD inside it, in a private mount namespace with /proc, /dev and
#                                /sys, plus every host folder in $CHROOT_BINDS bound at its own path
#                                (so a build there writes straight into the work tree), in
#                                $CHROOT_CWD (default /)
#
# Suites: bullseye (+ bullseye-security, bullseye-updates), bookworm and trixie (+ -security,
# -updates, -backports), sid (+ experimental). The sid and experimental Release files may be past their
# Valid-Until date: the chroot's apt is told not to check it (that is all it relaxes; signatures
# are checked as always).
#
# Environment: TCPSTATES_MIRROR (default http://deb.debian.org/debian); the security archive is
# the mirror's with -security appended. TCPSTATES_APT_MAX_AGE (seconds, default 3600): how old
# the chroot's package lists may be before aliases are resolved again from a fresh apt-get update.

TCPSTATES_CACHE=${TCPSTATES_CACHE:-${HOME:-/root}/.cache/tcpstates}
TCPSTATES_MIRROR=${TCPSTATES_MIRROR:-http://deb.debian.org/debian}
# packages every toolchain chroot gets at creation (the compiler comes with the headers, which
# depend on the gcc-N they were built with): make, perl for W=1's kernel-doc, sparse for C=2
CHROOT_PACKAGES=make,libc6-dev,perl,sparse,xz-utils,zstd

_chmsg()
{
	printf 'chroot: %s\n' "$*" >&2
}

_chdie()
{
	printf 'chroot: error: %s\n' "$*" >&2
	exit 1
}

chroot_dir()
{
	printf '%s/chroots/%s\n' "$TCPSTATES_CACHE" "$1"
}

# _chroot_sources SUITE: the chroot's sources.list
_chroot_sources()
{
	local m=$TCPSTATES_MIRROR
	case "$1" in
	bullseye | bookworm | trixie)
		printf 'deb %s %s main\n' "$m" "$1" "$m" "$1-updates"
		printf 'deb %s-security %s-security main\n' "$m" "$1"
		[ "$1" = bullseye ] || printf 'deb %s %s main\n' "$m" "$1-backports"
		;;
	sid)
		printf 'deb %s %s main\n' "$m" sid "$m" experimental
		;;
	*) _chdie "no such toolchain suite '$1' (bullseye, bookworm, trixie, sid)" ;;
	esac
	return 0
}

# chroot_ensure SUITE -> root of the chroot (debootstrap --variant=minbase, once, locked)
chroot_ensure()
{
	local suite=$1 dir t0
	dir=$(chroot_dir "$suite")
	if [ -f "$dir/.tcpstates-complete" ]; then
		printf '%s\n' "$dir"
		return 0
	fi
	_chroot_sources "$suite" >/dev/null
	command -v debootstrap >/dev/null 2>&1 || _kernels_apt_install debootstrap
	mkdir -p "$(dirname "$dir")"
	(
		flock 9
		[ -f "$dir/.tcpstates-complete" ] && exit 0
		t0=$(date +%s)
		rm -rf "$dir.tmp"
		_chmsg "debootstrap $suite into $dir (once; later runs reuse it)"
		# no docs, man pages or translations: a third of the unpacking, never read here
		mkdir -p "$dir.tmp/etc/dpkg/dpkg.cfg.d"
		printf '%s\n' 'path-exclude=/usr/share/doc/*' 'path-exclude=/usr/share/man/*' \
			'path-exclude=/usr/share/locale/*' 'path-exclude=/usr/share/info/*' \
			>"$dir.tmp/etc/dpkg/dpkg.cfg.d/01-tcpstates-nodoc"
		if ! debootstrap --variant=minbase --include="$CHROOT_PACKAGES" "$suite" "$dir.tmp" \
			"$TCPSTATES_MIRROR" >"$dir.debootstrap.log" 2>&1; then
			tail -n 20 "$dir.debootstrap.log" >&2
			_chdie "debootstrap $suite failed (log: $dir.debootstrap.log)"
		fi
		_chroot_sources "$suite" >"$dir.tmp/etc/apt/sources.list"
		printf '%s\n' 'Acquire::Check-Valid-Until "false";' 'APT::Install-Recommends "false";' \
			'Acquire::Languages "none";' >"$dir.tmp/etc/apt/apt.conf.d/99-tcpstates"
		cp /etc/resolv.conf "$dir.tmp/etc/resolv.conf" 2>/dev/null || true
		rm -rf "$dir.tmp/var/cache/apt/archives/"*.deb
		mv "$dir.tmp" "$dir"
		touch "$dir/.tcpstates-complete"
		_chmsg "$suite chroot made in $(($(date +%s) - t0)) s"
	) 9>"$dir.lock" || exit 1
	printf '%s\n' "$dir"
}

# chroot_run SUITE CMD...: run CMD in the chroot (private mount namespace; nothing stays mounted)
chroot_run()
{
	local suite=$1 dir
	shift
	dir=$(chroot_ensure "$suite")
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare -m --propagation private -- /bin/sh -c '
		set -e
		dir=$1
		binds=$2
		cwd=$3
		shift 3
		mount -t proc proc "$dir/proc"
		mount --rbind /dev "$dir/dev"
		mount --rbind /sys "$dir/sys"
		for b in $binds; do
			mkdir -p "$dir$b"
			mount --bind "$b" "$dir$b"
		done
		exec chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
			/bin/sh -c "cd \"\$0\" && exec \"\$@\"" "$cwd" "$@"
	' chroot-run "$dir" "${CHROOT_BINDS:-}" "${CHROOT_CWD:-/}" "$@"
}

# _chroot_no_initramfs SUITE: linux-headers 6.12 and later depend on their linux-image, whose
# postinst makes an initramfs (a minute or more of CPU each). Nothing boots from a chroot: divert
# update-initramfs to true, the way Debian's container images do.
_chroot_no_initramfs()
{
	local dir
	dir=$(chroot_dir "$1")
	[ -f "$dir/.tcpstates-no-initramfs" ] && return 0
	chroot_run "$1" dpkg-divert --quiet --local --rename \
		--divert /usr/sbin/update-initramfs.tcpstates --add /usr/sbin/update-initramfs &&
		ln -sf /bin/true "$dir/usr/sbin/update-initramfs" &&
		touch "$dir/.tcpstates-no-initramfs"
}

# _chroot_update SUITE: apt-get update in the chroot, at most once per process, and not when the
# last one is younger than TCPSTATES_APT_MAX_AGE seconds (default an hour). Call with the lock.
_chroot_update()
{
	local dir var
	dir=$(chroot_dir "$1")
	var=_CHROOT_UPDATED_$1
	[ "${!var:-0}" = 1 ] && [ -f "$dir/.tcpstates-updated" ] && return 0
	if [ -z "$(find "$dir/.tcpstates-updated" -newermt "-${TCPSTATES_APT_MAX_AGE:-3600} seconds" \
		2>/dev/null)" ]; then
		_chmsg "$1: apt-get update"
		chroot_run "$1" apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 ||
			_chdie "$1: apt-get update failed"
		touch "$dir/.tcpstates-updated"
	fi
}

# chroot_apt SUITE ARGS...: apt-get in the chroot, serialized per chroot, after _chroot_update
chroot_apt()
{
	local suite=$1 dir
	shift
	dir=$(chroot_ensure "$suite")
	(
		flock 9
		_chroot_no_initramfs "$suite" || _chdie "$suite: cannot divert update-initramfs"
		_chroot_update "$suite"
		chroot_run "$suite" apt-get -o DPkg::Lock::Timeout=600 -q -y "$@"
	) 9>"$dir.apt.lock"
	local rc=$?
	printf -v "_CHROOT_UPDATED_$suite" 1
	export "_CHROOT_UPDATED_$suite"
	return $rc
}

# chroot_query SUITE CMD...: apt-cache and friends (read only), after _chroot_update
chroot_query()
{
	local suite=$1 dir
	shift
	dir=$(chroot_ensure "$suite")
	(
		flock 9
		_chroot_update "$suite"
	) 9>"$dir.apt.lock" || return 1
	printf -v "_CHROOT_UPDATED_$suite" 1
	export "_CHROOT_UPDATED_$suite"
	chroot_run "$suite" "$@"
}
