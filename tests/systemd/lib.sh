# SPDX-License-Identifier: GPL-2.0
#
# tests/systemd/lib.sh - which Debian release a systemd guest is, for image.sh and run.sh
# (sourced after tests/vm/kernels.sh).

# image_suite KVER: the Debian release whose root boots KVER
image_suite()
{
	case "$(kernel_suite "$1")" in
	host | bookworm) echo bookworm ;;
	trixie) echo trixie ;;
	*)
		printf '# systemd: error: no systemd image for %s: Debian 12 and 13 kernels only (6.1, 6.12-deb13)\n' "$1" >&2
		exit 1
		;;
	esac
}

# image_upgrade KVER: the kernel its release's operator upgrades to, from backports
image_upgrade()
{
	case "$(image_suite "$1")" in
	bookworm) echo 6.12 ;;
	trixie) echo 7.3 ;;
	esac
}

