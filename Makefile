# SPDX-License-Identifier: GPL-2.0
# Human entry point. The module itself is described by ./Kbuild.
KDIR ?= /lib/modules/$(shell uname -r)/build
KERNEL ?= 6.1

all: module tools

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

tools:
	$(MAKE) -C tools

# Unit tests, fuzz smoke, and the VM scenario suite on all three kernels.
test:
	tests/run-all.sh

test-unit:
	$(MAKE) -C tools test

# The VM scenario suite on one kernel: make test-vm KERNEL=6.12-rt
test-vm:
	tests/vm/suite.sh $(KERNEL)

demo:
	tests/vm/demo.sh $(KERNEL)

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || true
	$(MAKE) -C tools clean

.PHONY: all module tools test test-unit test-vm demo clean
