#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tests/vm/init.sh - /init of the VM harness's initramfs (busybox sh, PID 1 in the guest).
#
# Generic per kernel release: everything about one run (command, repo path, module path) is read
# from the writable 9p export "results" (/results/.vm/env, written by vm.sh on the host).
#
#   1. load the virtio/9p modules listed in /modules.list (decompressed on the host)
#   2. mount the host's / read-only (9p tag "hostroot") on /host and the results folder on /results
#   3. build /newroot: a tmpfs whose top-level entries are bind mounts of the host's (so /results can
#      exist), with fresh proc, sys, devtmpfs, devpts, tracefs, tmpfs on /tmp /run /var/tmp, and the
#      unpacked image's /lib/modules/<kver> instead of the host's
#   4. enter /newroot and run /results/.vm/cmd.sh with bash; its stdout+stderr go to ttyS1 (the host
#      streams that file to the caller), kernel messages stay on ttyS0 (console.log)
#   5. record the exit status and dmesg in /results, power off
#
# Messages of this script go to the console (ttyS0), prefixed "tcpstates-vm:".

PATH=/bin:/sbin
export PATH

log()
{
	echo "tcpstates-vm: $*"
}

halt_guest()
{
	sync
	poweroff -f
	# poweroff -f returns only if ACPI power-off failed: make QEMU (-no-reboot) exit
	reboot -f
	sleep 5
}

die()
{
	log "FATAL: $*"
	[ -d /results/.vm ] && echo "$*" >/results/.vm/fatal
	dmesg 2>/dev/null | tail -n 30
	halt_guest
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

while read -r m; do
	insmod "/modules/$m" || die "insmod $m failed"
done </modules.list

mount_9p()
{
	# the virtio-9p device may finish probing just after its driver is loaded: retry briefly
	tries=0
	until mount -t 9p -o "trans=virtio,version=9p2000.L,msize=512000,$3" "$1" "$2" 2>/dev/null; do
		tries=$((tries + 1))
		[ $tries -ge 50 ] && die "cannot mount 9p tag $1 on $2"
		sleep 0.1
	done
}
mount_9p hostroot /host ro,cache=loose
mount_9p results /results rw
[ -r /results/.vm/env ] || die "/results/.vm/env missing: not started by vm.sh?"
# shellcheck disable=SC1091
. /results/.vm/env
: "${VM_MODE:=run}" "${VM_KVER:=$(uname -r)}"

# ---- the new root ----------------------------------------------------------------------------
R=/newroot
mount -t tmpfs -o mode=0755 newroot $R
for src in /host/* /host/.[!.]*; do
	[ -e "$src" ] || [ -L "$src" ] || continue
	name=${src#/host/}
	case "$name" in
	proc | sys | dev | tmp | run | results | lost+found)
		mkdir -p "$R/$name"
		;;
	*)
		if [ -L "$src" ]; then
			cp -a "$src" "$R/$name"
		elif [ -d "$src" ]; then
			mkdir "$R/$name" && mount --bind "$src" "$R/$name"
		elif [ -f "$src" ]; then
			: >"$R/$name" && mount --bind "$src" "$R/$name"
		fi
		;;
	esac
done
mkdir -p $R/results
mount -t proc proc $R/proc
mount -t sysfs sysfs $R/sys
mount -t devtmpfs devtmpfs $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts -o gid=5,mode=0620,ptmxmode=0666 devpts $R/dev/pts
mount -t tmpfs -o mode=1777 tmpfs $R/dev/shm
[ -e $R/dev/fd ] || ln -s /proc/self/fd $R/dev/fd
[ -e $R/dev/stdin ] || ln -s /proc/self/fd/0 $R/dev/stdin
[ -e $R/dev/stdout ] || ln -s /proc/self/fd/1 $R/dev/stdout
[ -e $R/dev/stderr ] || ln -s /proc/self/fd/2 $R/dev/stderr
mount -t tmpfs -o mode=1777 tmpfs $R/tmp
mount -t tmpfs -o mode=0755 tmpfs $R/run
mkdir -p $R/run/lock $R/run/netns
[ -d $R/var/tmp ] && mount -t tmpfs -o mode=1777 tmpfs $R/var/tmp
mount -t tracefs tracefs $R/sys/kernel/tracing || die "cannot mount tracefs"
mount -t debugfs debugfs $R/sys/kernel/debug 2>/dev/null
mount -t cgroup2 cgroup2 $R/sys/fs/cgroup 2>/dev/null
mount -t bpf bpf $R/sys/fs/bpf 2>/dev/null
mount --bind /results $R/results

# the guest kernel's own modules (modprobe veth, sch_netem ... work), not the host's
if [ -L /host/lib ]; then moddir=$R/usr/lib/modules; else moddir=$R/lib/modules; fi
if [ -n "${VM_MODROOT:-}" ] && [ -d "/host$VM_MODROOT" ] && [ -d "$moddir" ]; then
	mount -t tmpfs -o mode=0755 tmpfs "$moddir"
	mkdir -p "$moddir/$VM_KVER"
	mount --bind "/host$VM_MODROOT" "$moddir/$VM_KVER"
fi

# host paths the run needs that the fresh tmpfs mounts just covered (a repo cloned under /tmp)
for p in ${VM_BINDS:-}; do
	case "$p" in
	/tmp/* | /run/* | /var/tmp/* | /dev/*)
		[ -d "/host$p" ] || continue
		mkdir -p "$R$p" && mount --bind "/host$p" "$R$p"
		;;
	esac
done

hostname tcpstates-vm
ip link set lo up

# ---- the command -----------------------------------------------------------------------------
# The command enters /newroot as switch_root does, in a mount namespace of its own so that this
# script keeps its view: move the new root over / and chroot into it. A bare chroot would leave
# the command "chrooted" in the kernel's eyes (its root is not its mount namespace's), and the
# kernel refuses such a process a user namespace (unshare -U: EPERM), which the tests use to play
# a container. Usage: unshare -m -- /bin/sh -c "$ENTER_ROOT" NEWROOT COMMAND [ARGS...]
ENTER_ROOT='cd "$0" && mount --move . / && exec chroot . "$@"'
SAFE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
cut -d' ' -f1 /proc/uptime >/results/.vm/started.tmp
mv /results/.vm/started.tmp /results/.vm/started
log "running command (uptime $(cat /results/.vm/started) s)"
if [ "$VM_MODE" = shell ]; then
	tty=/dev/ttyS0
	stty -F $tty sane 2>/dev/null
	# shellcheck disable=SC2094 # the terminal is both stdin and stdout, on purpose
	setsid -c unshare -m -- /bin/sh -c "$ENTER_ROOT" $R /usr/bin/env -i HOME=/root PATH=$SAFE_PATH TERM="${VM_TERM:-vt100}" \
		LANG=C.UTF-8 TCPSTATES_KO="$VM_KO" TCPSTATES_KVER="$VM_KVER" \
		TCPSTATES_KERNEL_ALIAS="$VM_ALIAS" TCPSTATES_RESULTS=/results TCPSTATES_VM=1 \
		/bin/bash /results/.vm/cmd.sh <$tty >$tty 2>&1
	rc=$?
else
	tty=/dev/ttyS1
	# raw: no \n -> \r\n, so the host gets the bytes the command wrote
	stty -F $tty raw -echo 2>/dev/null
	unshare -m -- /bin/sh -c "$ENTER_ROOT" $R /usr/bin/env -i HOME=/root PATH=$SAFE_PATH TERM=dumb PAGER=cat \
		LANG=C.UTF-8 PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
		TCPSTATES_KO="$VM_KO" TCPSTATES_KVER="$VM_KVER" TCPSTATES_KERNEL_ALIAS="$VM_ALIAS" \
		TCPSTATES_RESULTS=/results TCPSTATES_VM=1 \
		/bin/bash /results/.vm/cmd.sh </dev/null >$tty 2>&1
	rc=$?
fi
log "command exited $rc (uptime $(cut -d' ' -f1 /proc/uptime) s)"
echo $rc >/results/.vm/exit
dmesg >/results/dmesg.log 2>/dev/null
halt_guest
