#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/systemd/image.sh KERNEL [UPGRADE] - the disk of the systemd guest: a Debian root that
# boots KERNEL (default 6.1) with systemd as PID 1, as an ext4 image. KERNEL's Debian release is
# the root's: Debian 12 (bookworm) for 6.1, Debian 13 (trixie) for 6.12-deb13. Prints the image's
# folder, which holds root.img, vmlinuz and initrd.img (the root's own, made by its
# initramfs-tools).
#
# UPGRADE (default: the release's backports kernel, 6.12 on Debian 12, 7.3 on 13) is not
# installed: its image and headers packages, and what they need that the root lacks, wait in
# apt's cache (its release in /root/upgrade/kver, the suite it comes from in .../release) for
# the guest to install offline, as an operator's kernel upgrade, so that DKMS builds the module
# for it and the guest reboots into it.
#
# The root is made once with debootstrap, through tests/vm/chroot.sh's helpers, and cached in
# $TCPSTATES_CACHE/systemd/<kver>/ (a missing or partial one is made again). It holds what an
# operator's machine has before it installs tcpstates: systemd, the running kernel and its
# headers (preseeded: the guest has no network), and what the packages depend on (dkms and its
# compiler, libmicrohttpd12, libsystemd0), plus python3 for the test's traffic and JSON checks.
# The test boots it with -snapshot: every run starts from the same disk.
#
# Its /etc/fstab mounts two virtio-9p exports the test adds to QEMU: the repository
# (read-only, /mnt/repo) and a results folder (/mnt/results). tcpstates-test.service runs
# /mnt/repo/tests/systemd/guest.sh at every boot, once multi-user.target is reached.
set -euo pipefail

SD_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=tests/vm/kernels.sh
. "$SD_DIR/../vm/kernels.sh"
# shellcheck source=tests/systemd/lib.sh
. "$SD_DIR/lib.sh"

# Bumped when what goes into the image changes, so cached images are made again.
IMAGE_FORMAT=4
IMAGE_SIZE=6G
# zstd: initramfs-tools recommends it (apt installs recommends on a real host, not here), and
# compresses with it by default; without it gzip, far slower under TCG
IMAGE_PACKAGES=(systemd systemd-sysv udev dbus kmod procps iproute2 e2fsprogs initramfs-tools
	zstd python3 openssl dkms libsystemd0)

msg()
{
	printf '# image: %s\n' "$*" >&2
}

die()
{
	printf '# image: error: %s\n' "$*" >&2
	exit 1
}

# make_root SUITE KVER UPGRADE DIR: debootstrap a SUITE root into DIR/chroots/SUITE, install
# KVER's image and headers and the packages above, download UPGRADE's into apt's cache, then
# set it up to boot (fstab, the test unit, no timers)
make_root()
{
	local suite=$1 kver=$2 upgrade=$3 dir=$4 root libmhd=libmicrohttpd12
	# Debian 13's 64-bit time_t transition renamed the library's package
	[ "$suite" = bookworm ] || libmhd=libmicrohttpd12t64
	root=$(TCPSTATES_CACHE=$dir CHROOT_PACKAGES=ca-certificates chroot_ensure "$suite")
	TCPSTATES_CACHE=$dir chroot_apt "$suite" install --no-install-recommends \
		"linux-image-$kver" "linux-headers-$kver" "${IMAGE_PACKAGES[@]}" "$libmhd" >&2 ||
		die "apt-get install in $root failed"
	# chroot_apt diverts update-initramfs (a toolchain chroot boots nothing): this root boots
	TCPSTATES_CACHE=$dir chroot_run "$suite" /usr/sbin/update-initramfs.tcpstates -c -k "$kver" >&2 ||
		die "update-initramfs in $root failed"
	# the upgrade, downloaded as `apt-get install --download-only` leaves it: the guest installs
	# it with apt-get --no-download, from the package lists the image keeps. Before the
	# diversion of update-initramfs goes (chroot_apt makes it): the guest's install runs the real one
	TCPSTATES_CACHE=$dir chroot_run "$suite" apt-get clean >&2
	# -t: as an operator installs from backports, whose kernel needs its newer linux-base
	TCPSTATES_CACHE=$dir chroot_apt "$suite" install --no-install-recommends --download-only \
		-t "$suite-backports" "linux-image-$upgrade" "linux-headers-$upgrade" >&2 ||
		die "downloading linux-image-$upgrade and its headers in $root failed"
	mkdir -p "$root/root/upgrade"
	printf '%s\n' "$upgrade" >"$root/root/upgrade/kver"
	printf '%s\n' "$suite-backports" >"$root/root/upgrade/release"
	TCPSTATES_CACHE=$dir chroot_run "$suite" sh -c '
		rm -f /usr/sbin/update-initramfs
		dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs
		passwd -d root >/dev/null
		systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
			fstrim.timer man-db.timer >/dev/null 2>&1' >&2 || die "setting up $root failed"
	# The upgrade's initramfs, made in the guest under TCG, holds only the modules this machine
	# uses (MODULES=dep, as a VM image builder sets it) rather than most of the kernel's: less
	# to copy and compress in emulation. What it saves is not measured (the upgrade took 410 s
	# with the default, alone, and 532 s with this beside three other guests). KVER's, made
	# above natively, has the default.
	sed -i 's/^MODULES=.*/MODULES=dep/' "$root/etc/initramfs-tools/initramfs.conf"
	# man pages and docs are installed from here on: the packages under test ship man pages
	rm -f "$root/etc/dpkg/dpkg.cfg.d/01-tcpstates-nodoc" "$root/etc/resolv.conf"
	echo tsguest >"$root/etc/hostname"
	cat >"$root/etc/fstab" <<-'FSTAB'
		/dev/vda / ext4 defaults 0 1
		repo /mnt/repo 9p trans=virtio,version=9p2000.L,ro,msize=262144,nofail 0 0
		results /mnt/results 9p trans=virtio,version=9p2000.L,msize=262144,nofail 0 0
	FSTAB
	mkdir -p "$root/mnt/repo" "$root/mnt/results"
	cat >"$root/etc/systemd/system/tcpstates-test.service" <<-'UNIT'
		[Unit]
		Description=tcpstates systemd-guest test (tests/systemd/guest.sh)
		After=multi-user.target
		RequiresMountsFor=/mnt/repo /mnt/results
		ConditionPathExists=/mnt/repo/tests/systemd/guest.sh

		[Service]
		Type=oneshot
		ExecStart=/bin/bash /mnt/repo/tests/systemd/guest.sh
		StandardOutput=journal+console
		StandardError=journal+console

		[Install]
		WantedBy=multi-user.target
	UNIT
	ln -sf /etc/systemd/system/tcpstates-test.service \
		"$root/etc/systemd/system/multi-user.target.wants/tcpstates-test.service"
}

main()
{
	local alias=${1:-6.1} kver upgrade dir root suite
	kernel_ensure_deps
	kver=$(kernel_resolve "$alias")
	suite=$(image_suite "$kver")
	upgrade=$(kernel_resolve "${2:-$(image_upgrade "$kver")}")
	dir=$TCPSTATES_CACHE/systemd/$kver+$upgrade
	if [ -f "$dir/.complete-$IMAGE_FORMAT" ]; then
		printf '%s\n' "$dir"
		return 0
	fi
	command -v mkfs.ext4 >/dev/null || _kernels_apt_install e2fsprogs
	mkdir -p "$dir"
	(
		flock 9
		[ -f "$dir/.complete-$IMAGE_FORMAT" ] && exit 0
		local t0
		t0=$(date +%s)
		rm -rf "$dir/chroots" "$dir/root.img" "$dir"/.complete-*
		msg "making the $suite root for $kver, $upgrade to upgrade to, in $dir (once; later runs reuse it)"
		make_root "$suite" "$kver" "$upgrade" "$dir"
		root=$dir/chroots/$suite
		cp "$root/boot/vmlinuz-$kver" "$dir/vmlinuz"
		cp "$root/boot/initrd.img-$kver" "$dir/initrd.img"
		rm -f "$dir/root.img.tmp"
		mkfs.ext4 -q -L tsroot -d "$root" "$dir/root.img.tmp" "$IMAGE_SIZE" >&2 ||
			die "mkfs.ext4 -d $root failed"
		mv "$dir/root.img.tmp" "$dir/root.img"
		rm -rf "$dir/chroots"
		touch "$dir/.complete-$IMAGE_FORMAT"
		msg "image made in $(($(date +%s) - t0)) s: $(du -sh --apparent-size "$dir/root.img" | cut -f1) ($(du -sh "$dir/root.img" | cut -f1) used)"
	) 9>"$dir/.lock" || exit 1
	printf '%s\n' "$dir"
}

main "$@"
