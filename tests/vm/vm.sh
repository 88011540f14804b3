#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/vm/vm.sh - build the module for a Debian kernel and run commands in a QEMU guest booting it.
#
# The host kernel cannot load modules, so every module test boots a stock Debian kernel under QEMU
# (TCG; KVM only with TCPSTATES_KVM=1). The guest has no disk: it mounts the host's / read-only over
# virtio-9p, chroots into it and so runs the host's own bash, python3, tcpdump, iproute2 ...
#
# Usage:
#   tests/vm/vm.sh build KERNEL
#       copy Kbuild and module/ into build/<kver>/, make against /lib/modules/<kver>/build
#       here or in the chroot of the kernel's suite (W=1 with TCPSTATES_W=1); prints the .ko path
#   tests/vm/vm.sh run KERNEL [--timeout SECS] [--stall SECS] [--cpus N] [--mem MB]
#                             [--append "ARGS"] [--icount SPEC] [--out DIR] [--boots N]
#                             [--qemu-arg ARG]... [--env NAME=VALUE]... -- COMMAND [ARGS...]
#       boot KERNEL, run COMMAND in the repo root as root; its output is streamed to stdout.
#       --timeout bounds the whole run (default 600 s); --stall (default 300 s,
#       TCPSTATES_STALL_S) ends a guest that has written nothing to its console or to COMMAND's
#       output for that long: a guest stuck at boot or hung in a test is reported within minutes,
#       not at the end of a long timeout. --icount SPEC (e.g. shift=0,sleep=off) runs QEMU with
#       -icount SPEC: guest time follows the instructions executed, not the host's clock (TCG only,
#       and single-threaded: QEMU refuses icount with a thread per vCPU). --qemu-arg adds one
#       argument to QEMU's command line (a NIC: tests/vm/pair.sh), --env exports NAME=VALUE to
#       COMMAND. --boots N (default 1): a guest that dies before COMMAND starts (a boot flake
#       under TCG, docs/emulator.md) has run nothing, so it is booted again, up to N boots in all;
#       each dead boot's console is kept as console.bootK.log and said in a "# boot K died
#       before COMMAND started: ..." line on stdout. Once COMMAND has started, its result stands.
#   tests/vm/vm.sh shell KERNEL [--timeout SECS] [...]
#       interactive bash in the guest on the serial console (needs a terminal; Ctrl-a x quits)
#   tests/vm/vm.sh resolve KERNEL     print the concrete kernel release
#   tests/vm/vm.sh verdict OUT LABEL  after a run with --out OUT: "ok/not ok - LABEL kernel log
#       clean" and, if the guest did not finish, "not ok - LABEL guest finished"; exit 1 on either
#       (a boot that died before COMMAND with a kernel problem in its console fails the first)
#   tests/vm/vm.sh scan started DIR | scan dead LOG   print a run's (or a dead boot's console's)
#       kernel problems, exit 1 if any (a dead boot: but for the emulator's known int3 oops)
#   tests/vm/vm.sh initramfs KERNEL   build (or reuse) the cached initramfs, print its path
#
# KERNEL: an alias of kernels.sh (5.10, 6.1, 6.12, 6.12-rt, 7.3, 7.3-rt, and the build-only
# 6.12-deb13, 7.2-sid, 7.3-rc), resolved through apt, or a release like 6.1.0-56-amd64.
#
# Inside the guest COMMAND sees: cwd = repo root, TCPSTATES_KO (built .ko, may not exist if
# `build` was not run), TCPSTATES_KVER, TCPSTATES_KERNEL_ALIAS, TCPSTATES_RESULTS=/results (a
# writable folder = --out DIR on the host), TCPSTATES_VM=1; stdin is /dev/null; / is the host's,
# read-only, except /tmp /run /var/tmp /dev/shm (tmpfs) and /results. tracefs is mounted on
# /sys/kernel/tracing, debugfs, cgroup2 and bpffs where they usually are, lo is up, and modprobe
# loads the guest kernel's own modules (veth, sch_netem ...).
#
# Exit status: COMMAND's (0 pass, 4 skip, ...) if the kernel log is clean; 1 if the guest timed out,
# crashed, or the console/dmesg shows BUG:/WARNING:/Oops/KFENCE:/... (the lines are printed).
# Harness messages go to stderr prefixed "# vm:"; stdout carries exactly what COMMAND printed.
# --out DIR (default build/vm-runs/<alias>.XXXXXX) keeps console.log (kernel console, ttyS0),
# output.log (COMMAND's output), dmesg.log (full ring buffer at the end) and qemu.log, whose first
# line is the command line QEMU ran with and its version.
#
# Environment: TCPSTATES_CACHE (default ~/.cache/tcpstates) holds unpacked kernels and initramfs
# images; TCPSTATES_KVM=1 uses /dev/kvm if usable; TCPSTATES_TCG_THREAD=single|multi picks QEMU's
# TCG threading (default multi: a host thread per vCPU); TCPSTATES_QEMU=system|backports|PATH picks
# the emulator (tests/vm/qemu.sh: backports, the default, unpacks QEMU 10.0 from bookworm-backports
# into the cache; system is Debian 12's 7.2, whose multi-threaded TCG runs stale code after the
# kernel patches itself and crashes stock kernels, docs/emulator.md); TCPSTATES_W=1 builds with W=1;
# TCPSTATES_MODULE_SRC (default: repo root) is where Kbuild and module/ are copied from.
set -euo pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$VM_DIR/../.." && pwd -P)
# shellcheck source=tests/vm/kernels.sh
. "$VM_DIR/kernels.sh"

# Bumped when the initramfs layout changes, so cached images are rebuilt.
INITRAMFS_FORMAT=1
# Modules the initramfs loads (with their dependencies, in modprobe order).
INITRAMFS_MODULES=(virtio_pci 9pnet_virtio 9p virtio_rng)

msg()
{
	printf '# vm: %s\n' "$*" >&2
}

die()
{
	printf '# vm: error: %s\n' "$*" >&2
	exit 1
}

usage()
{
	sed -n '/^# Usage:/,/^# KERNEL:/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

now()
{
	date +%s.%N
}

# elapsed START [END] -> seconds with one decimal
elapsed()
{
	awk -v a="$1" -v b="${2:-$(now)}" 'BEGIN { printf "%.1f", b - a }'
}

# ---- build ----------------------------------------------------------------------------------
# build_module KVER -> prints the .ko path
build_module()
{
	local kver=$1 src=${TCPSTATES_MODULE_SRC:-$REPO} bdir ko
	bdir=$(build_dir "$kver")
	[ -f "$src/Kbuild" ] || die "no Kbuild in $src"
	kernel_ensure_headers "$kver"
	mkdir -p "$bdir"
	(
		flock 9
		# mirror Kbuild and module/ (cp -p keeps timestamps, so make rebuilds only what changed)
		cp -p "$src/Kbuild" "$bdir/Kbuild"
		mkdir -p "$bdir/module"
		if [ -d "$src/module" ]; then
			(cd "$src/module" && find . -type d) | (cd "$bdir/module" && xargs mkdir -p)
			(cd "$src/module" && find . -type f \( -name '*.[chS]' -o -name Kbuild \
				-o -name Makefile -o -name '*.lds' \) -print0) |
				(cd "$src/module" && xargs -0 -r cp -p --parents -t "$bdir/module")
			# sources deleted from the repo must not linger in the copy
			(cd "$bdir/module" && find . -type f -name '*.[chS]' -print0) |
				while IFS= read -r -d '' f; do
					[ -e "$src/module/$f" ] || rm -f "$bdir/module/$f"
				done
		fi
		local wflag=()
		[ "${TCPSTATES_W:-0}" = 1 ] && wflag=(W=1)
		msg "make -C $(kernel_build_dir "$kver") M=$bdir ${wflag[*]} modules ($(kernel_suite "$kver"))"
		kernel_make "$kver" "$bdir" -s "${wflag[@]}" modules >&2 ||
			die "module build for $kver failed"
	) 9>"$bdir/.lock" || exit 1
	ko=$(module_path "$kver")
	[ -f "$ko" ] || die "build for $kver produced no .ko in $bdir"
	printf '%s\n' "$ko"
}

# build_dir KVER -> build/<kver> for the repo's module; another TCPSTATES_MODULE_SRC gets its own
# folder, so trying a scratch module never clobbers the real build others may be using
build_dir()
{
	local src
	src=$(cd "${TCPSTATES_MODULE_SRC:-$REPO}" 2>/dev/null && pwd -P) || die "no such folder: $TCPSTATES_MODULE_SRC"
	if [ "$src" = "$REPO" ]; then
		printf '%s/build/%s\n' "$REPO" "$1"
	else
		printf '%s/build/ext/%s/%s\n' "$REPO" "$(basename "$src")" "$1"
	fi
}

# module_path KVER -> the .ko that `build` makes (obj-m of Kbuild), whether built yet or not
module_path()
{
	local bdir name kb
	bdir=$(build_dir "$1")
	kb=$bdir/Kbuild
	[ -f "$kb" ] || kb=${TCPSTATES_MODULE_SRC:-$REPO}/Kbuild
	name=$(sed -n 's/^obj-m[[:space:]]*[:+]\{0,1\}=[[:space:]]*\([A-Za-z0-9_-]*\)\.o.*/\1/p' "$kb" 2>/dev/null |
		head -n1)
	printf '%s/%s.ko\n' "$bdir" "${name:-tcpstates}"
}

# ---- initramfs ------------------------------------------------------------------------------
# module_chain KROOT KVER -> relative paths (under lib/modules/KVER) of the modules to insmod, in order
module_chain()
{
	local kroot=$1 kver=$2 m line seen=' '
	kernel_custom && return 0 # TCPSTATES_KDIR: built in
	for m in "${INITRAMFS_MODULES[@]}"; do
		modprobe --show-depends -d "$kroot" -S "$kver" "$m" 2>/dev/null || {
			[ "$m" = virtio_rng ] && continue # optional: only speeds up the entropy pool
			die "modprobe --show-depends $m failed for $kver"
		}
	done | while read -r line; do
		case "$line" in
		insmod\ *)
			line=${line#insmod }
			line=${line%% *}
			line=${line#"$kroot/lib/modules/$kver/"}
			case "$seen" in *" $line "*) continue ;; esac
			seen="$seen$line "
			printf '%s\n' "$line"
			;;
		esac
	done
}

# initramfs_build KVER KROOT -> path of the cached cpio (rebuilt when any input changes)
initramfs_build()
{
	local kver=$1 kroot=$2 kdir chain key img stage busybox m base
	kdir=$(kernel_cache_dir "$kver")
	busybox=/bin/busybox
	[ -x "$busybox" ] || die "$busybox not found (apt-get install busybox-static)"
	# the initramfs has no libc: a dynamically linked busybox cannot run there
	! ldd "$busybox" >/dev/null 2>&1 || die "$busybox is dynamically linked: apt-get install busybox-static"
	chain=$(module_chain "$kroot" "$kver")
	[ -n "$chain" ] || kernel_custom || die "empty module chain for $kver"
	# The key hashes contents and names relative to the kernel, never a path on this host: two
	# clones of the repository (two runs side by side) get the same image, where a key that
	# changed with the clone's path made each run delete the other's image below.
	key=$(
		{
			echo "format $INITRAMFS_FORMAT $kver"
			sha256sum <"$VM_DIR/init.sh"
			sha256sum <"$busybox"
			while read -r m; do
				[ -z "$m" ] || { echo "$m"; sha256sum <"$kroot/lib/modules/$kver/$m"; }
			done <<<"$chain"
		} | sha256sum | cut -c1-16
	)
	img=$kdir/initramfs-$key.cpio
	if [ -f "$img" ]; then
		touch "$img" # in use: see the clean-up below
		printf '%s\n' "$img"
		return 0
	fi
	(
		flock 9
		[ -f "$img" ] && exit 0
		msg "building initramfs for $kver ($(wc -l <<<"$chain") modules)"
		stage=$(mktemp -d "$kdir/initramfs.XXXXXX")
		# shellcheck disable=SC2064
		trap "rm -rf '$stage'" EXIT
		mkdir -p "$stage"/{bin,sbin,dev,proc,sys,host,results,newroot,modules,tmp}
		cp "$busybox" "$stage/bin/busybox"
		"$stage/bin/busybox" --list-full | while read -r m; do
			[ -e "$stage/$m" ] || ln -s /bin/busybox "$stage/$m" 2>/dev/null || true
		done
		ln -sf busybox "$stage/bin/sh"
		mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true
		install -m 755 "$VM_DIR/init.sh" "$stage/init"
		: >"$stage/modules.list"
		while read -r m; do
			[ -n "$m" ] || continue
			base=$(basename "$m")
			case "$base" in
			*.ko.xz) xz -dc "$kroot/lib/modules/$kver/$m" >"$stage/modules/${base%.xz}" ;;
			*.ko.zst) zstd -qdc "$kroot/lib/modules/$kver/$m" >"$stage/modules/${base%.zst}" ;;
			*.ko.gz) gzip -dc "$kroot/lib/modules/$kver/$m" >"$stage/modules/${base%.gz}" ;;
			*.ko) cp "$kroot/lib/modules/$kver/$m" "$stage/modules/$base" ;;
			*) die "unexpected module file $m" ;;
			esac
			base=${base%.xz}
			base=${base%.zst}
			base=${base%.gz}
			echo "$base" >>"$stage/modules.list"
		done <<<"$chain"
		(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$img.tmp"
		mv "$img.tmp" "$img"
		# Another image of this kernel is stale once nothing has used it for a day. Not at once:
		# a second tree with another init.sh (a branch beside main) may be booting it right now.
		find "$kdir" -maxdepth 1 -name 'initramfs-*.cpio' ! -name "$(basename "$img")" \
			-mmin +1440 -delete
	) 9>"$kdir/.initramfs.lock" || exit 1
	printf '%s\n' "$img"
}

# ---- run ------------------------------------------------------------------------------------
QEMU_PID=
TAIL_PID=

cleanup()
{
	# only what this script started, by pid
	[ -n "$QEMU_PID" ] && kill "$QEMU_PID" 2>/dev/null
	[ -n "$TAIL_PID" ] && kill "$TAIL_PID" 2>/dev/null
	return 0
}

# Kernel log lines that fail a run whatever COMMAND returned.
BAD_LOG_RE='BUG:|WARNING:|Oops|KFENCE:|KASAN:|UBSAN:|general protection fault|scheduling while atomic|sleeping function called from invalid context|possible recursive locking|possible circular locking|INFO: task .* blocked|Call Trace:|[Kk]ernel panic|watchdog: .*lockup|rcu: INFO: .* stall'

# new_out KERNEL: a new folder for a run's results, when the caller named none
new_out()
{
	mkdir -p "$REPO/build/vm-runs"
	mktemp -d "$REPO/build/vm-runs/$1.XXXXXX"
}

# kcsan_ours LOG: LOG without the KCSAN reports whose racing accesses are not the module's
# (tests/lib/kcsan-ours.awk says which), kept in LOG.theirs, when TCPSTATES_KCSAN=ours
# (tests/debug-kernel/kcsan.sh); else LOG as it is.
kcsan_ours()
{
	if [ "${TCPSTATES_KCSAN:-}" = ours ]; then
		awk -v theirs="$1.theirs" -f "$REPO/tests/lib/kcsan-ours.awk" "$1"
	else
		cat "$1"
	fi
}

# scan_logs OUT -> prints offending lines, returns 1 if any
scan_logs()
{
	local out=$1 f bad=0 hits
	for f in "$out/console.log" "$out/dmesg.log"; do
		[ -f "$f" ] || continue
		hits=$(kcsan_ours "$f" | grep -aE "$BAD_LOG_RE" | head -n 40 || true)
		if [ -n "$hits" ]; then
			bad=1
			msg "kernel log $(basename "$f") has problems:"
			printf '# vm:   %s\n' "${hits//$'\n'/$'\n'# vm:   }" >&2
		fi
	done
	return $bad
}

cmd_run()
{
	local mode=$1 kernel=$2
	shift 2
	local timeout=600 cpus=2 mem=1024 append='' icount='' out='' stall=${TCPSTATES_STALL_S:-300}
	local extra=() envs=() e
	while [ $# -gt 0 ]; do
		case "$1" in
		--qemu-arg) extra+=("${2?--qemu-arg needs a value}"); shift 2 ;;
		--env)
			[[ "${2:-}" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die "--env takes NAME=VALUE"
			envs+=("$2")
			shift 2
			;;
		--timeout) timeout=${2:?--timeout needs a value}; shift 2 ;;
		--stall) stall=${2:?--stall needs a value}; shift 2 ;;
		--cpus) cpus=${2:?--cpus needs a value}; shift 2 ;;
		--mem) mem=${2:?--mem needs a value}; shift 2 ;;
		--append) append=${2?--append needs a value}; shift 2 ;;
		--icount) icount=${2:?--icount needs a value}; shift 2 ;;
		--out) out=${2:?--out needs a value}; shift 2 ;;
		--) shift; break ;;
		-h | --help) usage ;;
		*) die "unknown option '$1' (COMMAND goes after --)" ;;
		esac
	done
	[[ "$timeout" =~ ^[0-9]+$ && "$stall" =~ ^[0-9]+$ && "$cpus" =~ ^[0-9]+$ &&
		"$mem" =~ ^[0-9]+$ ]] || die "--timeout, --stall, --cpus and --mem take whole numbers"
	if [ "$mode" = shell ]; then
		[ $# -gt 0 ] || set -- /bin/bash -l
		[ -t 0 ] || die "shell needs a terminal on stdin"
	fi
	[ $# -gt 0 ] || die "run: no COMMAND (usage: vm.sh run KERNEL [options] -- COMMAND [ARGS...])"

	local kver kroot kimage initrd ko accel qemu_rc qemu_bin tcg_thread
	kernel_ensure_deps
	qemu_bin=$("$VM_DIR/qemu.sh" path "${TCPSTATES_QEMU:-backports}") ||
		die "no QEMU for TCPSTATES_QEMU=${TCPSTATES_QEMU:-backports}"
	kver=$(kernel_resolve "$kernel")
	kroot=$(kernel_fetch "$kver")
	kimage=$(kernel_boot_image "$kver")
	initrd=$(initramfs_build "$kver" "$kroot")
	ko=$(module_path "$kver")

	[ -n "$out" ] || out=$(new_out "$kernel")
	mkdir -p "$out"
	out=$(cd "$out" && pwd -P)
	rm -rf "$out/.vm" "$out/console.log" "$out/output.log" "$out/dmesg.log" "$out/qemu.log"
	mkdir -p "$out/.vm"
	: >"$out/output.log"

	# Per-run guest input: env for init.sh (busybox sh), the command for bash.
	{
		printf 'VM_MODE=%q\n' "$mode"
		printf 'VM_KVER=%q\n' "$kver"
		printf 'VM_ALIAS=%q\n' "$kernel"
		printf 'VM_KO=%q\n' "$ko"
		printf 'VM_MODROOT=%q\n' "$kroot/lib/modules/$kver"
		printf 'VM_BINDS=%q\n' "$REPO $TCPSTATES_CACHE"
		printf 'VM_TERM=%q\n' "${TERM:-vt100}"
	} >"$out/.vm/env"
	{
		printf 'cd %q || exit 125\n' "$REPO"
		for e in "${envs[@]}"; do
			printf 'export %s=%q\n' "${e%%=*}" "${e#*=}"
		done
		printf 'exec'
		printf ' %q' "$@"
		printf '\n'
	} >"$out/.vm/cmd.sh"

	# TCPSTATES_TCG_THREAD=single runs every vCPU on one host thread (QEMU's default for TCG
	# is one thread per vCPU): a way to tell emulator cross-CPU code-patching artefacts from
	# kernel bugs (docs/promises.md).
	tcg_thread=${TCPSTATES_TCG_THREAD:-}
	if [ -n "$icount" ]; then
		[ "${tcg_thread:-single}" = single ] || msg "--icount needs thread=single: not $tcg_thread"
		tcg_thread=single
	fi
	accel=(-accel "tcg${tcg_thread:+,thread=$tcg_thread}")
	if [ "${TCPSTATES_KVM:-0}" = 1 ]; then
		if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
			accel=(-accel kvm -cpu host)
		else
			msg "TCPSTATES_KVM=1 but /dev/kvm is not usable: using TCG"
		fi
	fi

	# no_timer_check: under TCG on a busy host the kernel's IO-APIC timer check can miss the
	# timer and panic at boot ("IO-APIC + timer doesn't work!"); the emulated timer works.
	local kargs="console=ttyS0,115200 loglevel=5 panic=-1 rdinit=/init no_timer_check"
	kargs+=" sysctl.kernel.hung_task_timeout_secs=60 $append"
	local qemu=("$qemu_bin" -nodefaults -no-user-config -display none -no-reboot
		"${accel[@]}" -smp "$cpus" -m "$mem"
		-kernel "$kimage" -initrd "$initrd" -append "$kargs"
		-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
		-virtfs "local,path=$out,mount_tag=results,security_model=none,multidevs=remap"
		-device virtio-rng-pci "${extra[@]}")
	[ -z "$icount" ] || [ "${accel[1]}" = kvm ] || qemu+=(-icount "$icount")
	if [ "$mode" = shell ]; then
		qemu+=(-chardev "stdio,id=con,mux=on,signal=off,logfile=$out/console.log"
			-serial chardev:con -mon chardev=con)
	else
		qemu+=(-serial "file:$out/console.log"
			-chardev "file,id=cmdout,path=$out/output.log" -serial chardev:cmdout
			-monitor none)
	fi

	local qemu_ver
	qemu_ver=$("$qemu_bin" --version | head -n 1)
	msg "booting $kernel ($kver), ${qemu_ver#QEMU emulator }, ${accel[1]}${icount:+ icount $icount}, $cpus cpus, ${mem} MB, timeout ${timeout}s, out $out"
	{
		printf '# %s\n# ' "$qemu_ver"
		printf ' %q' "${qemu[@]}"
		printf '\n'
	} >"$out/qemu.log"
	local t0 t_cmd='' t_end
	t0=$(now)
	trap cleanup EXIT
	if [ "$mode" = shell ]; then
		set +e
		timeout --foreground --kill-after=10 "$timeout" "${qemu[@]}" 2>>"$out/qemu.log"
		qemu_rc=$?
		set -e
	else
		timeout --kill-after=10 "$timeout" "${qemu[@]}" </dev/null >>"$out/qemu.log" 2>&1 &
		QEMU_PID=$!
		# stream COMMAND's output (ttyS1) live; tail exits once QEMU has
		tail -n +1 -s 0.2 --pid="$QEMU_PID" -f "$out/output.log" &
		TAIL_PID=$!
		local ticks=0 sizes='' last_sizes='' quiet_since=$SECONDS
		while kill -0 "$QEMU_PID" 2>/dev/null; do
			if [ -z "$t_cmd" ] && [ -e "$out/.vm/started" ]; then
				t_cmd=$(now)
				msg "$kernel: command started $(elapsed "$t0" "$t_cmd") s after QEMU start (guest uptime $(cat "$out/.vm/started") s)"
			fi
			# Progress: the console or COMMAND's output grew this second.
			if [ $((ticks++ % 10)) = 0 ]; then
				# (console.log appears only once QEMU has opened it)
				sizes=$(stat -c %s "$out/console.log" "$out/output.log" 2>/dev/null | tr '\n' ' ' || true)
				if [ "$sizes" != "$last_sizes" ]; then
					last_sizes=$sizes
					quiet_since=$SECONDS
				elif [ $((SECONDS - quiet_since)) -ge "$stall" ]; then
					printf 'no progress for %d s: nothing on the console or from COMMAND (%s); last console line: %s\n' \
						"$stall" "${t_cmd:+the command had started}${t_cmd:-stuck before the command started}" \
						"$(tail -n 1 "$out/console.log" 2>/dev/null | tr -d '\r')" >"$out/.vm/stalled"
					msg "$kernel: $(cat "$out/.vm/stalled")"
					kill "$QEMU_PID" 2>/dev/null
				fi
			fi
			sleep 0.1
		done
		set +e
		wait "$QEMU_PID"
		qemu_rc=$?
		QEMU_PID=
		wait "$TAIL_PID"
		TAIL_PID=
		set -e
	fi
	t_end=$(now)
	if [ -z "$t_cmd" ] && [ -e "$out/.vm/started" ]; then
		msg "$kernel: command started (guest uptime $(cat "$out/.vm/started") s)"
	fi

	local rc reason=''
	if [ -f "$out/.vm/stalled" ]; then
		reason="guest stalled: $(cat "$out/.vm/stalled")"
	elif [ "$qemu_rc" -eq 124 ] || [ "$qemu_rc" -eq 137 ]; then
		reason="guest timed out after $timeout s"
	elif [ "$qemu_rc" -ne 0 ]; then
		reason="QEMU failed (exit $qemu_rc): $(tail -n 3 "$out/qemu.log" | tr '\n' ' ')"
	elif [ -f "$out/.vm/fatal" ]; then
		reason="guest init failed: $(cat "$out/.vm/fatal")"
	elif [ ! -f "$out/.vm/exit" ]; then
		reason="guest stopped without reporting COMMAND's exit status (crash or panic? see $out/console.log)"
	fi
	rc=$(cat "$out/.vm/exit" 2>/dev/null || echo none)

	local log_clean=1
	scan_logs "$out" || log_clean=0
	printf '%s\n' "$log_clean" >"$out/.vm/log-clean"

	msg "$kernel: finished in $(elapsed "$t0" "$t_end") s; COMMAND exit ${rc}; console log $out/console.log"
	if [ -n "$reason" ]; then
		msg "$kernel: FAIL: $reason"
		printf '%s\n' "$reason" >"$out/.vm/failure"
		if [ "$log_clean" = 1 ]; then
			msg "last console lines:"
			tail -n 15 "$out/console.log" 2>/dev/null | sed 's/^/# vm:   /' >&2 || true
		fi
		exit 1
	fi
	if [ "$log_clean" = 0 ]; then
		msg "$kernel: FAIL: kernel log not clean (COMMAND exited $rc)"
		exit 1
	fi
	msg "$kernel: kernel log clean"
	[[ "$rc" =~ ^[0-9]+$ ]] || exit 1
	exit "$rc"
}

# A boot that died before COMMAND started is booted again, but its console is a kernel log like
# any other: scan_dead_boot LOG prints the BAD_LOG_RE lines it holds and returns 1 if any is not
# the one death the emulator is known for, an int3 oops at a code-patching site with no module
# loaded (docs/emulator.md), which prints only these three kinds of line.
DEAD_BOOT_EXCUSED_RE='Oops: int3: |Call Trace:|Kernel panic - not syncing: Fatal exception'
scan_dead_boot()
{
	local hits
	hits=$(grep -aE "$BAD_LOG_RE" "$1" | head -n 40 || true)
	[ -n "$hits" ] || return 0
	msg "$(basename "$1"), a boot that died before COMMAND started, has:"
	printf '# vm:   %s\n' "${hits//$'\n'/$'\n'# vm:   }" >&2
	! grep -avE "$DEAD_BOOT_EXCUSED_RE" <<<"$hits" | grep -q .
}

# cmd_run_boots KERNEL [OPTIONS] -- COMMAND: `run` with --boots N, which is this script's `run`
# again while the guest dies before COMMAND starts (.vm/started), at most N times, in one --out
# folder. Exits with the last boot's status. A dead boot whose console shows a kernel problem
# (scan_dead_boot) is named in OUT/dead-boots-unclean, which fails `verdict`'s kernel log check.
cmd_run_boots()
{
	local kernel=$1 boots=1 out='' args=() rc attempt
	shift
	while [ $# -gt 0 ]; do
		case "$1" in
		--boots) boots=${2:?--boots needs a value}; shift 2 ;;
		--out) out=${2:?--out needs a value}; shift 2 ;;
		--) break ;;
		*) args+=("$1"); shift ;;
		esac
	done
	[[ "$boots" =~ ^[1-9][0-9]*$ ]] || die "--boots takes a whole number from 1"
	[ -n "$out" ] || out=$(new_out "$kernel")
	rm -f "$out/dead-boots-unclean"
	for ((attempt = 1; ; attempt++)); do
		rc=0
		"${BASH_SOURCE[0]}" run "$kernel" "${args[@]}" --out "$out" "$@" || rc=$?
		[ -e "$out/.vm/started" ] || [ "$attempt" -ge "$boots" ] && exit "$rc"
		cp "$out/console.log" "$out/console.boot$attempt.log" 2>/dev/null || true
		scan_dead_boot "$out/console.boot$attempt.log" ||
			echo "console.boot$attempt.log" >>"$out/dead-boots-unclean"
		echo "# boot $attempt died before COMMAND started: $(cat "$out/console.log" \
			"$out/.vm/failure" 2>/dev/null | grep -m1 -E 'Oops|BUG:|panic|FAIL|guest')"
	done
}

# cmd_verdict OUT LABEL: a finished run's two TAP lines (kernel log clean, guest finished), from
# the files cmd_run left in OUT/.vm; exit 1 if either failed.
cmd_verdict()
{
	local out=$1 label=$2 rc=0
	if [ -s "$out/dead-boots-unclean" ]; then
		echo "not ok - $label kernel log clean # a boot that died early: see" \
			"$(sed "s|^|$out/|" "$out/dead-boots-unclean" | tr '\n' ' ')"
		rc=1
	elif [ "$(cat "$out/.vm/log-clean" 2>/dev/null)" = 1 ]; then
		echo "ok - $label kernel log clean"
	else
		echo "not ok - $label kernel log clean # see $out/console.log and dmesg.log"
		rc=1
	fi
	if [ -f "$out/.vm/failure" ]; then
		echo "not ok - $label guest finished # $(cat "$out/.vm/failure")"
		rc=1
	fi
	return "$rc"
}

main()
{
	[ $# -ge 2 ] || usage
	local sub=$1 kernel=$2 kver
	shift 2
	case "$sub" in
	build)
		kernel_ensure_deps
		kver=$(kernel_resolve "$kernel")
		build_module "$kver"
		;;
	run)
		local a
		for a in "$@"; do
			[ "$a" = -- ] && break
			[ "$a" = --boots ] && cmd_run_boots "$kernel" "$@"
		done
		cmd_run run "$kernel" "$@"
		;;
	shell)
		cmd_run shell "$kernel" "$@"
		;;
	resolve)
		kernel_resolve "$kernel"
		;;
	scan) # scan started DIR | scan dead LOG: the kernel problems a run's logs hold (exit 1 if any)
		case "$kernel" in
		started) scan_logs "${1:?}" ;;
		dead) scan_dead_boot "${1:?}" ;;
		*) usage ;;
		esac
		;;
	verdict)
		cmd_verdict "$kernel" "$@"
		;;
	initramfs)
		kernel_ensure_deps
		kver=$(kernel_resolve "$kernel")
		initramfs_build "$kver" "$(kernel_fetch "$kver")"
		;;
	*) usage ;;
	esac
}

main "$@"
