#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/systemd/guest.sh - the systemd guest's side of tests/systemd/run.sh. Runs as
# tcpstates-test.service (tests/systemd/image.sh) at each boot of the Debian 12 image, with
# systemd as PID 1, and does what an operator does:
#
#   boot 1: apt install ./tcpstates-dkms_*.deb ./tcptimeline_*.deb (no network: the running
#           kernel's headers and the packages' dependencies are in the image); DKMS builds
#           and installs the module; systemctl enable --now the recorder, with --journal added
#           by a drop-in as an operator would (systemctl edit); real traffic; its journal
#           entries against the sockets' truth; systemd-analyze security; a kernel upgrade
#           (apt install of the image and headers apt downloaded before, offline): DKMS builds the
#           module for it too; reboot (run.sh boots the new kernel)
#   boot 2: the new kernel runs, the module DKMS built for it loaded at boot, the recorder
#           started a new capture, the same traffic and journal checks on it; the old capture
#           reads back whole with the traffic in it; the journal kept boot 1's entries;
#           apt purge removes every file the packages installed, the unit, the module (DKMS's
#           copies and the loaded one); poweroff
#
# Each check is one line, "ok - NAME" or "not ok - NAME" (then "# why" lines), appended to
# /mnt/results/tap; run.sh numbers them and says which were not reached. Everything else
# goes to the console (console.log) and the journal.
set -u
R=/mnt/results
STATE=/var/lib/tcpstates-test
PORT=7301
KVER=$(uname -r)
# the kernel boot 1 upgrades to (tests/systemd/image.sh)
KVER2=$(cat /root/upgrade/kver 2>/dev/null)
mkdir -p "$STATE"

ok()
{
	echo "ok - $*" >>"$R/tap"
}

not_ok()
{
	echo "not ok - $*" >>"$R/tap"
}

diag()
{
	sed 's/^/# /' >>"$R/tap"
}

# check NAME CMD...: ok if CMD succeeds; its output goes to the tap file as # lines if not
check()
{
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$name"
	else
		not_ok "$name"
		printf '%s\n' "$out" | tail -n 15 | diag
	fi
}

# wait_for SECS CMD...: until CMD succeeds, at most SECS seconds
wait_for()
{
	local end=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $end ] || return 1
		sleep 1
	done
}

note()
{
	printf '%s\n' "$*" >>"$R/notes"
}

# ---- boot 1 ---------------------------------------------------------------------------------
pid1_systemd()
{
	[ "$(cat /proc/1/comm)" = systemd ] && systemctl is-active multi-user.target
}

install_packages()
{
	local t0=$SECONDS
	# absolute paths: apt takes a path with a slash for a file to install
	rm -rf /root/debs && mkdir /root/debs && cp "$R"/debs/*.deb /root/debs/ &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			/root/debs/tcpstates-dkms_*.deb /root/debs/tcptimeline_*.deb >"$R/apt-install.log" 2>&1 ||
		{ tail -n 20 "$R/apt-install.log"; return 1; }
	note "apt install: $((SECONDS - t0)) s"
}

# dkms_built KVER: DKMS's build for KVER installed where modprobe finds it (compressed as the
# kernel's own modules are: Debian's 6.12 and later ship .ko.xz)
dkms_built()
{
	local path
	dkms status >>"$R/dkms-status" 2>&1
	# fixed strings: a release such as 6.12.118+deb13-amd64 is no regular expression
	grep "^tcpstates/" "$R/dkms-status" | grep -F ", $1, " | grep ": installed" &&
		path=$(modinfo -k "$1" -n tcpstates) && echo "$path" &&
		case "$path" in
		"/lib/modules/$1/updates/dkms/tcpstates.ko" | "/lib/modules/$1/updates/dkms/tcpstates.ko".[gx]z | \
			"/lib/modules/$1/updates/dkms/tcpstates.ko.zst") ;;
		*) false ;;
		esac
}

# what an operator does to move to a newer kernel; the packages' hooks (linux-image's postinst,
# dkms's kernel hooks) make its initramfs and build the module for it
upgrade_kernel()
{
	local t0=$SECONDS
	[ -n "$KVER2" ] || { echo "no /root/upgrade/kver"; return 1; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-download --no-install-recommends \
		-t "$(cat /root/upgrade/release)" "linux-image-$KVER2" "linux-headers-$KVER2" \
		>"$R/apt-upgrade.log" 2>&1 || { tail -n 20 "$R/apt-upgrade.log"; return 1; }
	note "kernel upgrade to $KVER2: $((SECONDS - t0)) s"
	[ -f "/boot/vmlinuz-$KVER2" ] && [ -f "/boot/initrd.img-$KVER2" ]
}

packaged_files()
{
	local f missing=0
	dpkg -L tcptimeline tcpstates-dkms >"$STATE/files"
	for f in /usr/sbin/tcptimeline /usr/share/man/man8/tcptimeline.8.gz \
		/usr/share/man/man4/tcpstates.4.gz /usr/include/tcpstates.h \
		/usr/lib/systemd/system/tcpstates-recorder.service /usr/lib/modules-load.d/tcpstates.conf \
		/usr/lib/modprobe.d/tcpstates.conf "/usr/src/tcpstates-$(dpkg-query -W -f '${Version}' tcpstates-dkms)/dkms.conf"; do
		grep -qx "$f" "$STATE/files" && [ -e "$f" ] || { echo "missing: $f"; missing=1; }
	done
	return $missing
}

not_enabled()
{
	[ "$(systemctl is-enabled tcpstates-recorder)" = disabled ] &&
		! systemctl is-active tcpstates-recorder && [ ! -d /sys/module/tcpstates ]
}

enable_recorder()
{
	# what `systemctl edit tcpstates-recorder` leaves: --journal added, and each connection
	# shown when it enters TIME_WAIT rather than a minute later
	mkdir -p /etc/systemd/system/tcpstates-recorder.service.d
	cat >/etc/systemd/system/tcpstates-recorder.service.d/journal.conf <<-'CONF'
		[Service]
		ExecStart=
		ExecStart=/usr/sbin/tcptimeline -w /var/lib/tcpstates/trace.tcpcap -C 100 -G 3600 -W 168 --metrics 127.0.0.1:9185 --journal --on-time-wait
	CONF
	systemctl daemon-reload &&
		systemctl enable --now tcpstates-recorder &&
		wait_for 30 test -e /dev/tcpstates &&
		sleep 2 && systemctl is-active tcpstates-recorder && [ -d /sys/module/tcpstates ] &&
		ls /var/lib/tcpstates/trace-*.tcpcap
}

exposure()
{
	local score
	systemd-analyze security --no-pager tcpstates-recorder >"$R/security.txt" 2>&1
	score=$(sed -n 's/.*Overall exposure level for tcpstates-recorder.service: \([0-9.]*\).*/\1/p' "$R/security.txt")
	note "systemd-analyze security: $score"
	echo "exposure $score"
	[ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.5) }'
}

# traffic N: the exchange of traffic.py in boot N; its truth in truth.bootN.json
traffic()
{
	python3 /mnt/repo/tests/systemd/traffic.py "$PORT" >"$STATE/truth.boot$1.json" &&
		cp "$STATE/truth.boot$1.json" "$R/"
}

# journal_entries N: this boot's entries (cookies count from the boot: -b 0 alone) against the
# truth of boot N's traffic
journal_entries()
{
	journalctl -b 0 -t tcptimeline -o json --no-pager >"$R/journal.boot$1.json" &&
		[ "$(grep -c '"TCPSTATES_COOKIE"' "$R/journal.boot$1.json")" -ge 3 ] &&
		python3 /mnt/repo/tests/systemd/journal_check.py "$STATE/truth.boot$1.json" \
			"$R/journal.boot$1.json"
}

journal_cat()
{
	journalctl -b 0 -t tcptimeline -o verbose --no-pager "TCPSTATES_RPORT=$PORT" \
		>"$R/journal-verbose.boot$1.txt"
	journalctl -b 0 -t tcptimeline --no-pager >"$R/journal-short.boot$1.txt"
}

boot1()
{
	check "systemd is PID 1 and reached multi-user.target" pid1_systemd
	check "apt install of tcpstates-dkms_*.deb and tcptimeline_*.deb, offline" install_packages
	check "DKMS built and installed tcpstates for $KVER (dkms status, modinfo -n)" dkms_built "$KVER"
	local signer
	signer=$(modinfo -k "$KVER" -F signer tcpstates 2>/dev/null)
	note "modinfo -F signer: ${signer:-none}"
	check "the module DKMS built is signed (modinfo -F signer: ${signer:-none})" test -n "$signer"
	check "tool, man pages, header, unit, modules-load.d, modprobe.d and dkms.conf installed" packaged_files
	check "the recorder is neither enabled nor started by the installation" not_enabled
	check "systemctl enable --now tcpstates-recorder: it runs, modprobe loaded the module" enable_recorder
	check "systemd-analyze security: exposure 2.5 or less" exposure
	check "real traffic: a 5/6-byte exchange on port $PORT and a refused connect" traffic 1
	check "journal: an entry per socket, fields = the sockets' truth, ISNs cross" \
		wait_for 60 journal_entries 1
	journal_entries 1 >"$R/journal_check.boot1.out" 2>&1 || true
	journal_cat 1
	check "kernel upgrade: apt install of linux-image-$KVER2 and its headers, offline" upgrade_kernel
	check "DKMS built and installed tcpstates for $KVER2 (dkms status, modinfo -k -n)" \
		dkms_built "$KVER2"
	ls /var/lib/tcpstates/trace-*.tcpcap >"$STATE/captures.boot1"
	echo 1 >"$STATE/phase"
	sync
	systemctl reboot
}

# ---- boot 2 ---------------------------------------------------------------------------------
loaded_at_boot()
{
	# -t, not -u: systemd-modules-load runs before journald and has exited when journald reads
	# its message, so the unit (from the sender's cgroup) is often missing from the entry
	[ -d /sys/module/tcpstates ] &&
		journalctl -b -t systemd-modules-load --no-pager | grep "Inserted module 'tcpstates'"
}

new_capture()
{
	local f
	wait_for 30 systemctl is-active tcpstates-recorder || return 1
	for f in /var/lib/tcpstates/trace-*.tcpcap; do
		grep -qx "$f" "$STATE/captures.boot1" || { echo "new: $f"; return 0; }
	done
	return 1
}

old_capture_whole()
{
	local f
	f=$(tail -n 1 "$STATE/captures.boot1")
	tcptimeline -r "$f" --json >"$STATE/old.json" 2>"$STATE/old.err" &&
		! grep -v 'this text carries' "$STATE/old.err" | grep . &&
		python3 - "$STATE/truth.boot1.json" "$STATE/old.json" <<-'PY'
			import json, sys
			truth = json.load(open(sys.argv[1]))
			sides = {j["cookie"]: j for j in map(json.loads, open(sys.argv[2]))}
			missing = [t["cookie"] for t in truth if t["cookie"] not in sides]
			bad = [c for c, j in sides.items() if j["incomplete"] and c in [t["cookie"] for t in truth]]
			if missing or bad:
			    sys.exit("missing %s, incomplete %s" % (missing, bad))
		PY
}

journal_kept()
{
	[ "$(journalctl -b -1 -t tcptimeline -o json --no-pager | grep -c '"TCPSTATES_COOKIE"')" -ge 3 ]
}

purged()
{
	local f left=0
	DEBIAN_FRONTEND=noninteractive apt-get purge -y -q tcptimeline tcpstates-dkms >"$R/apt-purge.log" 2>&1 ||
		{ tail -n 20 "$R/apt-purge.log"; return 1; }
	while read -r f; do
		# directories stay when other packages use them (/lib is a symlink to one, usrmerge)
		[ -d "$f" ] && continue
		[ -e "$f" ] || [ -L "$f" ] || continue
		echo "left: $f"
		left=1
	done <"$STATE/files"
	for f in /lib/modules/*/updates/dkms/tcpstates.ko* /var/lib/dkms/tcpstates \
		/var/lib/tcpstates /sys/module/tcpstates /etc/systemd/system/multi-user.target.wants/tcpstates-recorder.service; do
		[ -e "$f" ] && { echo "left: $f"; left=1; }
	done
	dpkg -l tcptimeline tcpstates-dkms 2>/dev/null | grep -E '^(ii|rc)' && left=1
	systemctl cat tcpstates-recorder.service 2>/dev/null | grep -q '^ExecStart=/usr/sbin' && left=1
	return $left
}

boot2()
{
	check "after the reboot: the upgraded kernel $KVER2 runs" test "$KVER" = "$KVER2"
	journalctl -b -o json -t systemd-modules-load --no-pager >"$R/modules-load.json"
	check "after the reboot: systemd-modules-load loaded tcpstates at boot" loaded_at_boot
	check "after the reboot: the recorder runs and started a new capture" new_capture
	check "the capture of boot 1 reads back whole, the traffic's sockets complete in it" old_capture_whole
	check "the journal kept boot 1's entries (journalctl -b -1)" journal_kept
	check "on $KVER2: real traffic, the same exchange" traffic 2
	check "on $KVER2: journal, an entry per socket, fields = the sockets' truth" \
		wait_for 60 journal_entries 2
	journal_entries 2 >"$R/journal_check.boot2.out" 2>&1 || true
	journal_cat 2
	check "apt purge: no file of either package left, the module unloaded, DKMS's copies gone" purged
	echo 2 >"$STATE/phase"
	sync
	systemctl poweroff
}

case "$(cat "$STATE/phase" 2>/dev/null)" in
'') boot1 ;;
1) boot2 ;;
*) systemctl poweroff ;;
esac
