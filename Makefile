# SPDX-License-Identifier: GPL-2.0
#
# The human entry point. The module itself is described by ./Kbuild.
#
#   make                 module (against the running kernel, or KDIR=...) and tcptimeline
#   make demo            boot a test VM, load the module, make traffic, show the results
#   make test            what CI runs: unit, docs, every kernel compiled and booted, the VM suite
#                        on 5.10 to 7.3-rt, stress, the debug kernel, metrics, cross-host and
#                        the packages in a Debian 12 systemd guest (tests/run-all.sh)
#   make test-all        all of it: also every stress variant, KCSAN and the Debian 13 guest
#   make test-vm KERNEL=6.12-rt   the VM suite on one kernel (5.10, 6.1, 6.12, 6.12-rt, 7.3, 7.3-rt)
#   make test-kernels    the VM suite on each of those, one after the other
#   make check           W=1 + sparse on every Debian kernel from 5.10 to 7.x (the older gcc or
#                        newer in a chroot of its suite), a boot of each to check the probed
#                        symbols and load the module, checkpatch --strict
#   make stress KERNEL=6.12-rt    the stress test in a VM (TCPSTATES_KFENCE=1: KFENCE every 1 ms)
#   make test-debug      scenarios, device tests and stress on a KASAN/lockdep/kmemleak 6.1 kernel
#   make test-kcsan      the same on a KCSAN 6.1 kernel: a data race of the module's fails it
#   make test-systemd    the Debian packages in a Debian 12 guest with systemd as PID 1: install,
#                        DKMS, the recorder, --journal, a kernel upgrade and a reboot into it,
#                        apt purge (tests/systemd/run.sh; KERNEL=6.12-deb13: Debian 13, to 7.3)
#   make deb             ../tcpstates-dkms_*.deb and ../tcptimeline_*.deb (dpkg-buildpackage)
#   make bench           cost, loss and throughput against no tracing, bpftrace and bcc (BENCHMARKS.md)
#   make bench-icount    the same figures in instruction-counted guest time (-icount shift=0,sleep=off)
#   make bench-scaling   churn at 1, 2 and 4 vCPUs, wall-clock, the reader on a vCPU of its own
#   make fuzz            the decoder fuzzer, for longer than make test runs it
#   make mutants         plant each defect of tests/mutants/ in a scratch copy, run the suite that
#                        must catch it, print the table (MUTANTS="a b": those alone; not in CI)
#   make install         install the module, tcpstates(4), tcptimeline, tcptimeline(8), the unit
#                        (for developers; a host installs the packages of make deb)
KDIR ?= /lib/modules/$(shell uname -r)/build
KERNEL ?= 6.1
PREFIX ?= /usr/local

all: module tools

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

tools:
	$(MAKE) -C tools

test:
	tests/run-all.sh

test-all:
	tests/run-all.sh --all

test-unit:
	$(MAKE) -C tools test

# The guests' suites check their records with the host's tcptimeline: build it first.
test-vm: tools
	tests/vm/suite.sh $(KERNEL)

test-kernels: tools
	set -e; for k in $$(bash -c '. tests/vm/kernels.sh && kernels_vm_aliases'); do \
		tests/vm/suite.sh $$k; done

check:
	tests/build-check.sh

stress: tools
	tests/stress/stress.sh $(KERNEL)

test-debug: tools
	tests/debug-kernel/run.sh

test-kcsan: tools
	tests/debug-kernel/kcsan.sh

test-systemd:
	tests/systemd/run.sh $(KERNEL)

deb:
	dpkg-buildpackage -us -uc -b

bench:
	tests/bench/bench.sh

bench-icount:
	BENCH_ICOUNT=shift=0,sleep=off tests/bench/bench.sh

bench-scaling:
	BENCH_MAIN=0 BENCH_CPUS="1 2 4" tests/bench/bench.sh

fuzz:
	$(MAKE) -C tools fuzz

mutants:
	tests/mutants/run.sh $(MUTANTS)

demo:
	tests/vm/demo.sh $(KERNEL)

# The module (modules_install, which runs depmod), its man page tcpstates(4)
# and ABI header <tcpstates.h> (what tcpstates(4) tells a reader to include),
# and the tool with tcptimeline(8) and its systemd unit (tools/Makefile).
# DESTDIR stages all of it (a package build): kbuild calls it INSTALL_MOD_PATH.
install: all
	$(MAKE) -C $(KDIR) M=$(CURDIR) $(if $(DESTDIR),INSTALL_MOD_PATH=$(DESTDIR)) modules_install
	install -D -m 0644 module/tcpstates.4 $(DESTDIR)$(PREFIX)/share/man/man4/tcpstates.4
	install -D -m 0644 module/uapi/tcpstates.h $(DESTDIR)$(PREFIX)/include/tcpstates.h
	$(MAKE) -C tools install PREFIX=$(PREFIX)

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || true
	$(MAKE) -C tools clean
	rm -rf build

.PHONY: all module tools test test-all test-unit test-vm test-kernels test-debug test-kcsan test-systemd deb check stress \
	bench bench-icount bench-scaling fuzz mutants demo install clean
