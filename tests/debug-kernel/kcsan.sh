#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/debug-kernel/kcsan.sh - the module under the Kernel Concurrency Sanitizer (make test-kcsan;
# make test-all runs it as suite kcsan-6.1, CI does not: docs/testing.md, "kcsan-6.1"). The second
# debug configuration: build.sh with TCPSTATES_DEBUG_VARIANT=kcsan builds debug.config's guest and
# lockdep without KASAN, kmemleak and fault injection, plus kcsan.config; the module is built
# against it, so KCSAN watches the module's own accesses too. One boot runs kcsan-guest.sh: the
# scenario and device suites, then stress.
#
# A KCSAN report fails the run when a frame of it is the module's ([tcpstates]). The kernel's own
# races are not this project's to fail on: they are kept, out of the verdict, in
# console.log.theirs beside the run's console log, and counted (TCPSTATES_KCSAN=ours,
# tests/vm/vm.sh). Every other kernel report fails the run as in every suite.
TCPSTATES_DEBUG_VARIANT=kcsan exec "$(dirname "${BASH_SOURCE[0]}")/run.sh"
