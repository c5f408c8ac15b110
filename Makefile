# SPDX-License-Identifier: MIT
# vkernel: the one build entry. `make` builds the disk image, `make run` boots it,
# `make test` builds everything and runs every test suite. Everything generated goes
# under build/. See README.md.

.DEFAULT_GOAL := all
SHELL := /bin/bash
BUILD ?= build
DEBUG ?= 0
CMDLINE ?= console=both log=info
EXTRA ?=

# Fresh machines: install the toolchain, QEMU and friends before anything else. The
# script is fast when everything is present. Skipped for `make clean`.
ifeq ($(filter clean,$(MAKECMDGOALS)),)
SETUP_STATUS := $(shell scripts/setup-host.sh >&2 && echo ok)
ifneq ($(SETUP_STATUS),ok)
$(error scripts/setup-host.sh failed: see the messages above)
endif
endif

# Short progress lines by default; `make V=1` prints the full commands.
V ?= 0
ifeq ($(V),0)
Q := @
say = @printf '  %-6s %s\n' $(1) $(2)
else
Q :=
say = @true
endif

CC := clang
PYTHON := python3
FONT := /usr/share/consolefonts/Lat15-Terminus16.psf.gz
WARNINGS := -Wall -Wextra -Werror -Wno-unused-parameter
DEPFLAGS = -MMD -MP

BUILD_ID := $(shell git describe --always --dirty 2>/dev/null || echo dev)

# ---- UEFI loader (PE32+) -------------------------------------------------------------
LOADER_CFLAGS := -target x86_64-unknown-windows -ffreestanding -fshort-wchar -mno-red-zone \
	-fno-stack-protector -mno-stack-arg-probe -std=c11 -O2 $(WARNINGS) -Iinclude -Isrc
LOADER_SRCS := $(wildcard src/boot/*.c) src/lib/fmt.c src/lib/elf64.c
LOADER_OBJS := $(patsubst %.c,$(BUILD)/boot/%.o,$(LOADER_SRCS))
LOADER := $(BUILD)/boot/BOOTX64.EFI

$(BUILD)/boot/%.o: %.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(LOADER_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(LOADER): $(LOADER_OBJS)
	$(call say,LINK,$@)
	$(Q)lld-link /nologo /subsystem:efi_application /entry:efi_main /nodefaultlib /out:$@ $^

# ---- kernel (higher-half ELF) --------------------------------------------------------
KERNEL_CFLAGS := -target x86_64-unknown-none-elf -ffreestanding -mno-red-zone -mcmodel=kernel \
	-mno-sse -mno-mmx -mno-80387 -fno-pic -fno-pie -fno-omit-frame-pointer \
	-fstack-protector-strong -mstack-protector-guard=global \
	-fno-builtin -std=c11 -g $(WARNINGS) -Iinclude -Ikernel -Isrc
ifeq ($(DEBUG),1)
# KASAN-lite heap (kernel/mm/slab.h) and UBSan checks that trap (ud1, named by the
# #UD handler in kernel/arch/x86_64/interrupts.c).
KERNEL_CFLAGS += -O1 -DSLAB_DEBUG -DKERNEL_DEBUG -DKERNEL_UBSAN \
	-fsanitize=undefined -fsanitize-trap=undefined
else
KERNEL_CFLAGS += -O2
endif
KERNEL_SRCS := $(shell find kernel -name '*.c' | sort) src/lib/fmt.c src/lib/cmdline.c \
	src/lib/symmap.c src/lib/linemap.c src/lib/elf64.c src/lib/crc32.c src/lib/gpt.c \
	$(sort $(wildcard src/lib/fat32/*.c)) $(sort $(wildcard src/lib/json/*.c))
KERNEL_ASMS := $(shell find kernel -name '*.S' | sort)
KERNEL_OBJS := $(patsubst %.c,$(BUILD)/kernel/%.o,$(KERNEL_SRCS)) \
	$(patsubst %.S,$(BUILD)/kernel/%.o,$(KERNEL_ASMS)) $(BUILD)/kernel/gen/font.o
KERNEL := $(BUILD)/kernel/vkernel.elf
KERNEL_MAP := $(BUILD)/kernel/vkernel.map

$(BUILD)/kernel/%.o: %.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(KERNEL_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/kernel/%.o: %.S
	@mkdir -p $(@D)
	$(call say,AS,$<)
	$(Q)$(CC) $(KERNEL_CFLAGS) $(DEPFLAGS) -c $< -o $@

# The build id only reaches main.c, and only changes when git's description does.
$(BUILD)/gen/build_id.h: FORCE
	@mkdir -p $(@D)
	@echo '#define VK_BUILD_ID "$(BUILD_ID)"' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
$(BUILD)/kernel/kernel/core/main.o: $(BUILD)/gen/build_id.h
$(BUILD)/kernel/kernel/core/main.o: KERNEL_CFLAGS += -include $(BUILD)/gen/build_id.h

$(BUILD)/gen/font.c: $(FONT) scripts/psf2c.py
	@mkdir -p $(@D)
	$(call say,FONT,$@)
	$(Q)$(PYTHON) scripts/psf2c.py $(FONT) $@

$(BUILD)/kernel/gen/font.o: $(BUILD)/gen/font.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(KERNEL_CFLAGS) -c $< -o $@

$(KERNEL): $(KERNEL_OBJS) kernel/arch/x86_64/kernel.ld
	$(call say,LINK,$@)
	$(Q)ld.lld -T kernel/arch/x86_64/kernel.ld -nostdlib -static -z max-page-size=4096 \
		-o $@ $(KERNEL_OBJS)

# Function symbols for panic backtraces, sorted by address (src/lib/symmap.c reads it).
$(KERNEL_MAP): $(KERNEL)
	$(call say,SYMS,$@)
	$(Q)llvm-nm -n --defined-only $< | grep -i ' [tw] ' > $@

# ---- userspace (.vbin programs, userspace/userspace.mk) ------------------------------
ifeq ($(filter clean,$(MAKECMDGOALS)),)
include userspace/userspace.mk
endif

# Line tables (address -> file:line) of the kernel and every program, one bundle in the
# boot modules next to the .vbin.map files (one module slot, not one per program).
# src/lib/linemap.c reads it; scripts/gen-lines.py writes it from the DWARF line programs.
DEBUG_LINES := $(USERSPACE_OUT)/bin/debug.lines
$(DEBUG_LINES): $(KERNEL) $(USERSPACE_VBINS) scripts/gen-lines.py
	$(call say,LINES,$@)
	$(Q)$(PYTHON) scripts/gen-lines.py $@ vkernel.elf=$(KERNEL)@panic_set_line_table \
		$(foreach v,$(USERSPACE_VBINS),$(notdir $(v))=$(v))

# ---- disk image ----------------------------------------------------------------------
IMAGE := $(BUILD)/vkernel.img
# Debian's busybox-static (glibc, non-PIE): the unmodified Linux binary the ABI tests run.
BUSYBOX := $(USERSPACE_OUT)/bin/busybox
$(BUSYBOX): scripts/fetch-deb.sh
	$(call say,DEB,$@)
	$(Q)BUILD=$(BUILD) scripts/fetch-deb.sh busybox-static bin/busybox $@

# A static program built by Debian's musl-gcc, not vk-cc: an unmodified Linux binary
# from another toolchain (tests/abi).
MUSL_GCC_HELLO := $(USERSPACE_OUT)/bin/musl-gcc-hello
$(MUSL_GCC_HELLO): tests/abi/musl-gcc-hello.c
	@mkdir -p $(@D)
	$(call say,MUSLGCC,$@)
	$(Q)musl-gcc -static -O2 -Wall -Werror -o $@ $<

# Guest-side test scripts travel as boot modules (/boot/modules/NAME in the guest).
GUEST_SCRIPTS := $(patsubst tests/guest/%,$(USERSPACE_OUT)/bin/%,$(wildcard tests/guest/*.sh))
$(USERSPACE_OUT)/bin/%.sh: tests/guest/%.sh
	@mkdir -p $(@D)
	$(Q)cp $< $@

DISK_INPUTS := $(LOADER) $(KERNEL) $(KERNEL_MAP) scripts/make-disk.sh $(USERSPACE_VBINS) \
	$(USERSPACE_MAPS) $(DEBUG_LINES) $(BUSYBOX) $(MUSL_GCC_HELLO) $(GUEST_SCRIPTS)
# EXTRA and CMDLINE changes must rebuild the image: record them.
$(BUILD)/disk.config: FORCE
	@mkdir -p $(@D)
	@echo '$(CMDLINE)|$(EXTRA)' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(IMAGE): $(DISK_INPUTS) $(BUILD)/disk.config $(if $(EXTRA),$(shell find $(EXTRA) 2>/dev/null))
	$(call say,DISK,$@)
	$(Q)scripts/make-disk.sh $@ $(LOADER) $(KERNEL) $(KERNEL_MAP) '$(CMDLINE)' '$(EXTRA)' \
		$(USERSPACE_OUT)/bin


# ---- host unit tests (ASan + UBSan) --------------------------------------------------
HOST_CFLAGS := -std=c11 -g -O1 $(WARNINGS) -fsanitize=address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer -DHOST_TEST -Iinclude -Ikernel -Isrc \
	-Itests/host
HOST_TESTS := $(patsubst tests/host/%.c,$(BUILD)/host/%,$(wildcard tests/host/test_*.c))

$(BUILD)/host/%: tests/host/%.c
	@mkdir -p $(@D)
	$(call say,HOSTCC,$<)
	$(Q)$(CC) $(HOST_CFLAGS) $(DEPFLAGS) $< -o $@

FUZZ_CFLAGS := -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -DHOST_TEST -Iinclude \
	-Ikernel -Isrc -Itests/host
FUZZERS := $(patsubst tests/host/%.c,$(BUILD)/fuzz/%,$(wildcard tests/host/fuzz_*.c))
$(BUILD)/fuzz/%: tests/host/%.c
	@mkdir -p $(@D)
	$(call say,FUZZCC,$<)
	$(Q)$(CC) $(FUZZ_CFLAGS) $(DEPFLAGS) $< -o $@

# ---- top-level targets ---------------------------------------------------------------
.PHONY: all kernel loader disk run test host-tests fuzz fuzz-guest stress bench debug debug-kernel clean FORCE
all: disk
kernel: $(KERNEL) $(KERNEL_MAP)
loader: $(LOADER)
disk: $(IMAGE)
host-tests: $(HOST_TESTS)

run: disk
	./run_qemu.sh --keep-disk

debug: disk
	gdb -x scripts/gdb/vkernel.gdb $(KERNEL)

# The DEBUG=1 kernel (slab redzones and poisoning), built in its own tree so `make test`
# can boot the in-kernel suite with it too.
debug-kernel:
	@$(MAKE) --no-print-directory BUILD=build/debug DEBUG=1 kernel

test: disk host-tests $(FUZZERS) debug-kernel
	@scripts/run-tests.sh

FUZZ_SECONDS ?= 60
fuzz: $(FUZZERS)
	@scripts/fuzz.sh $(FUZZ_SECONDS)

# The in-guest syscall fuzzer and malformed-ELF test (userspace/tests/fuzz); SEED empty
# lets the guest pick one (it prints it). SEEDS=N fuzzes CALLS calls of each of the
# seeds SEED..SEED+N-1 in one boot.
SEED ?=
SEEDS ?= 1
CALLS ?= 200000
ELFS ?= 1000
fuzz-guest: disk
	@$(PYTHON) scripts/fuzz_guest.py '$(SEED)' $(CALLS) $(ELFS) '$(SMP)' $(SEEDS)

# The SMP stress run (userspace/tests/stress, scripts/stress.py): not part of `make test`.
# STRESS_KERNEL=build/debug/kernel boots the DEBUG=1 kernel (make debug-kernel first).
STRESS_SECONDS ?= 180
STRESS_SMP ?= 4
STRESS_KERNEL ?=
stress: disk
	@$(PYTHON) scripts/stress.py $(STRESS_SECONDS) '$(SEED)' $(STRESS_SMP) '$(STRESS_KERNEL)'

bench: disk
	@scripts/setup-host.sh --bench
	@scripts/bench.sh

clean:
	rm -rf $(BUILD)

FORCE:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
