#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/systemd/run.sh [KERNEL [UPGRADE]] - the packages on a machine like an operator's: Debian
# with systemd as PID 1, booted under QEMU on KERNEL, then upgraded to the kernel UPGRADE and
# rebooted into it. KERNEL 6.1 (the default) is Debian 12, upgraded to bookworm-backports' 6.12;
# KERNEL 6.12-deb13 is Debian 13, upgraded to trixie-backports' 7.3 (tests/systemd/lib.sh).
#
#   1. dpkg-buildpackage -us -uc -b from the repository's files (a clean copy of what git
#      tracks, as a clone has them), then lintian over the result: no error, no warning
#      without an override (debian/*.lintian-overrides say why each is left). On the release
#      the guest runs, as its operator would: here for Debian 12, in the trixie chroot
#      (tests/vm/chroot.sh) for Debian 13, whose libraries' packages have other names
#   2. the guest's disk, tests/systemd/image.sh (debootstrap, cached), a copy per run
#   3. boot 1 and boot 2 of tests/systemd/guest.sh, each its own QEMU run on the same disk
#      (-no-reboot: the guest's `systemctl reboot` ends the first, so a crash cannot loop).
#      Boot 1 runs KERNEL and installs UPGRADE; boot 2 runs UPGRADE, with the kernel and the
#      initramfs boot 1 installed, read off the disk (debugfs): QEMU stands in for the boot loader
#   4. the kernel log of both boots clean
#
# TCPSTATES_SYSTEMD_DEBS=DIR takes the packages from DIR instead of building them (the build and
# lintian checks are then skips): for iterating on the guest.
#
# TAP: a fixed number of checks; a guest check never reached is printed as
# "not ok ... not reached". Output folder: build/systemd-runs/<kver>.XXXXXX (console.log of
# both boots, the guest's journal entries and notes, the packages and the build log).
set -uo pipefail

SD_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$SD_DIR/../.." && pwd -P)
ALIAS=${1:-6.1}
# shellcheck source=tests/vm/kernels.sh
. "$REPO/tests/vm/kernels.sh"
# shellcheck source=tests/lib/tap.sh
. "$REPO/tests/lib/tap.sh"
# shellcheck source=tests/systemd/lib.sh
. "$SD_DIR/lib.sh"
TAP_PREFIX="[systemd-$ALIAS] "
GUEST_CHECKS=20
# one boot, at most: under a load of 40 a first boot with its DKMS build passed 1800 s
BOOT_TIMEOUT=${TCPSTATES_SYSTEMD_TIMEOUT:-3600}
T0=$SECONDS

msg()
{
	printf '# systemd: %s\n' "$*"
}

PKG_DEPS=(dpkg-dev debhelper dh-dkms fakeroot lintian libmicrohttpd-dev libsystemd-dev)
kernel_ensure_deps >&2
_kernels_apt_install "${PKG_DEPS[@]}" e2fsprogs debootstrap >&2
KVER=$(kernel_resolve "$ALIAS") || exit 1
SUITE=$(image_suite "$KVER") || exit 1
UPGRADE=${2:-$(image_upgrade "$KVER")}
KVER2=$(kernel_resolve "$UPGRADE") || exit 1
# pkg_run CMD...: the tools that build and check packages, run on the guest's release: here
# (Debian 12), or in that release's chroot, which sees build/ at the same path
pkg_run()
{
	if [ "$SUITE" = bookworm ]; then
		"$@"
	else
		CHROOT_BINDS=$REPO/build chroot_run "$SUITE" "$@"
	fi
}
if [ "$SUITE" != bookworm ]; then
	chroot_apt "$SUITE" install --no-install-recommends build-essential "${PKG_DEPS[@]}" >&2 ||
		{ echo "# systemd: error: cannot install the packaging tools in the $SUITE chroot"; exit 1; }
fi
mkdir -p "$REPO/build/systemd-runs"
OUT=$(mktemp -d "$REPO/build/systemd-runs/$KVER.XXXXXX")
msg "$SUITE, kernel $KVER, upgraded to $KVER2, output $OUT"

# ---- 1. the packages ----
build_packages()
{
	local src=$OUT/pkg/tcpstates
	mkdir -p "$src"
	(cd "$REPO" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) | tar -xf - -C "$src" &&
		pkg_run sh -c 'cd "$0" && dpkg-buildpackage -us -uc -b' "$src" \
			>"$OUT/dpkg-buildpackage.log" 2>&1 ||
		{ tail -n 20 "$OUT/dpkg-buildpackage.log" | sed 's/^/# /'; return 1; }
	mkdir -p "$OUT/debs"
	cp "$OUT"/pkg/tcpstates-dkms_*.deb "$OUT"/pkg/tcptimeline_*.deb "$OUT/debs/"
}
if [ -n "${TCPSTATES_SYSTEMD_DEBS:-}" ]; then
	# iterating on the guest: packages built before (both checks still counted, as skips)
	mkdir -p "$OUT/debs" "$OUT/pkg"
	cp "$TCPSTATES_SYSTEMD_DEBS"/tcpstates-dkms_*.deb "$TCPSTATES_SYSTEMD_DEBS"/tcptimeline_*.deb "$OUT/debs/"
	skip "dpkg-buildpackage -us -uc -b from the repository's files" "TCPSTATES_SYSTEMD_DEBS=$TCPSTATES_SYSTEMD_DEBS"
else
	check "dpkg-buildpackage -us -uc -b from the repository's files" build_packages
fi

lintian_clean()
{
	local changes
	changes=$(ls "$OUT"/pkg/tcpstates_*.changes 2>/dev/null) || return 1
	pkg_run lintian --fail-on error,warning --display-level '>=warning' "$changes" \
		>"$OUT/lintian.log" 2>&1
	local rc=$?
	sed 's/^/# /' "$OUT/lintian.log"
	return $rc
}
if [ -n "${TCPSTATES_SYSTEMD_DEBS:-}" ]; then
	skip "lintian: no error, no warning without an override" "TCPSTATES_SYSTEMD_DEBS=$TCPSTATES_SYSTEMD_DEBS"
else
	check "lintian: no error, no warning without an override" lintian_clean
fi

# ---- 2. the disk ----
IMG=$("$SD_DIR/image.sh" "$ALIAS" "$UPGRADE") || IMG=
msg "image: ${IMG:-none}"

# ---- 3. two boots ----
QEMU=$("$REPO/tests/vm/qemu.sh" path "${TCPSTATES_QEMU:-backports}") || exit 1

# boot N VMLINUZ INITRD
boot()
{
	local n=$1 t0=$SECONDS rc
	msg "boot $n: $2"
	timeout --kill-after=10 "$BOOT_TIMEOUT" "$QEMU" -nodefaults -no-user-config -display none \
		-no-reboot -accel tcg -smp 2 -m 2048 \
		-kernel "$2" -initrd "$3" \
		-append "root=/dev/vda rw console=ttyS0,115200 no_timer_check panic=-1 systemd.show_status=1" \
		-drive "file=$OUT/root.img,format=raw,if=virtio" \
		-virtfs "local,path=$REPO,mount_tag=repo,security_model=none,readonly=on,multidevs=remap" \
		-virtfs "local,path=$OUT,mount_tag=results,security_model=none,multidevs=remap" \
		-device virtio-rng-pci -serial "file:$OUT/console.boot$n.log" -monitor none \
		</dev/null >>"$OUT/qemu.log" 2>&1
	rc=$?
	msg "boot $n ended in $((SECONDS - t0)) s (QEMU exit $rc)"
}

if [ -n "$IMG" ] && compgen -G "$OUT/debs/tcpstates-dkms_*.deb" >/dev/null; then
	cp --sparse=always "$IMG/root.img" "$OUT/root.img"
	: >"$OUT/tap"
	boot 1 "$IMG/vmlinuz" "$IMG/initrd.img"
	# the second boot only after a first that ran to its reboot, on the kernel it installed
	if grep -q "^ok - DKMS built and installed tcpstates for $KVER2" "$OUT/tap" &&
		debugfs -R "dump /boot/vmlinuz-$KVER2 $OUT/vmlinuz-$KVER2" "$OUT/root.img" 2>/dev/null &&
		debugfs -R "dump /boot/initrd.img-$KVER2 $OUT/initrd.img-$KVER2" "$OUT/root.img" 2>/dev/null &&
		[ -s "$OUT/vmlinuz-$KVER2" ] && [ -s "$OUT/initrd.img-$KVER2" ]; then
		boot 2 "$OUT/vmlinuz-$KVER2" "$OUT/initrd.img-$KVER2"
	fi
	rm -f "$OUT/root.img"
fi

n=0
while IFS= read -r line; do
	case "$line" in
	'ok - '*) n=$((n + 1)); ok "${line#ok - }" ;;
	'not ok - '*) n=$((n + 1)); not_ok "${line#not ok - }" ;;
	*) printf '%s\n' "$line" ;;
	esac
done < <(cat "$OUT/tap" 2>/dev/null)
while [ "$n" -lt "$GUEST_CHECKS" ]; do
	n=$((n + 1))
	not_ok "guest check $n not reached"
done
[ -f "$OUT/notes" ] && sed 's/^/# /' "$OUT/notes"

console_clean()
{
	local logs
	logs=$(ls "$OUT"/console.boot*.log 2>/dev/null) || return 1
	# shellcheck disable=SC2086
	! grep -E 'BUG:|WARNING:|Oops|Kernel panic|KFENCE:|general protection' $logs | head -n 10
}
check "the kernel log of both boots clean" console_clean
msg "suite took $((SECONDS - T0)) s"
tap_plan
tap_exit
