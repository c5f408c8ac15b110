# SPDX-License-Identifier: MIT
# Userspace build: libvk and the .vbin programs, compiled with vk-cc against the staged
# sysroot. Included by the top Makefile, which defines BUILD, Q and say.
#
# Programs are found, not listed:
#   userspace/NAME/*.c        -> $(BUILD)/userspace/bin/NAME.vbin
#   userspace/tests/NAME/*.c  -> $(BUILD)/userspace/bin/test-NAME.vbin
# (userspace/libvk and userspace/toolchain are not programs). Every program links -lvk
# from the sysroot, exactly as a port would, and is checked by check-vbin.sh.
#
# Defines USERSPACE_VBINS (the programs), USERSPACE_LIBVK, USERSPACE_SYSROOT and the
# phony target `userspace`.

USERSPACE_OUT := $(BUILD)/userspace
USERSPACE_SYSROOT := $(BUILD)/sysroot
USERSPACE_STAMP := $(USERSPACE_SYSROOT)/.stamp
USERSPACE_LIBVK := $(USERSPACE_OUT)/libvk.a
USERSPACE_LIBVK_INSTALLED := $(USERSPACE_SYSROOT)/usr/lib/libvk.a
USERSPACE_VKCC := VK_SYSROOT=$(abspath $(USERSPACE_SYSROOT)) userspace/toolchain/vk-cc
# -MD, not -MMD: sysroot headers are system headers, and -MMD would leave them (and so
# vkernel's own headers) out of the dependency files.
USERSPACE_CFLAGS := -std=c11 -O2 -Wall -Wextra -Werror -MD -MP
# A change to the wrapper or to this file rebuilds everything it compiled.
USERSPACE_TOOLS := userspace/toolchain/vk-cc userspace/userspace.mk

# userspace/hello/ -> hello, userspace/tests/basic/ -> test-basic
userspace_name = $(if $(filter userspace/tests/%,$(1)),test-)$(notdir $(patsubst %/,%,$(1)))
userspace_objs = $(patsubst userspace/%.c,$(USERSPACE_OUT)/obj/%.o,$(wildcard $(1)*.c))

USERSPACE_PROGRAM_DIRS := \
	$(filter-out userspace/libvk/ userspace/toolchain/ userspace/tests/, \
		$(sort $(dir $(wildcard userspace/*/*.c)))) \
	$(sort $(dir $(wildcard userspace/tests/*/*.c)))
USERSPACE_VBINS := $(foreach d,$(USERSPACE_PROGRAM_DIRS), \
	$(USERSPACE_OUT)/bin/$(call userspace_name,$(d)).vbin)
USERSPACE_LIBVK_OBJS := $(call userspace_objs,userspace/libvk/)
USERSPACE_OBJS := $(USERSPACE_LIBVK_OBJS) \
	$(foreach d,$(USERSPACE_PROGRAM_DIRS),$(call userspace_objs,$(d)))

.PHONY: userspace
userspace: $(USERSPACE_VBINS) $(USERSPACE_MAPS)

# Stage the sysroot while the makefiles are read, before make looks at any timestamp: a
# header synced into the sysroot then rebuilds its users in this same run. Fast when
# nothing changed; it only rewrites the stamp when musl was restaged.
ifeq ($(filter clean,$(MAKECMDGOALS)),)
USERSPACE_STAGED := $(shell VK_SYSROOT=$(abspath $(USERSPACE_SYSROOT)) \
	userspace/toolchain/stage-sysroot.sh >&2 && echo ok)
ifneq ($(USERSPACE_STAGED),ok)
$(error userspace/toolchain/stage-sysroot.sh failed: see the messages above)
endif
endif
# Only runs when the stamp is missing (`make clean all` skips the staging above).
$(USERSPACE_STAMP):
	$(Q)VK_SYSROOT=$(abspath $(USERSPACE_SYSROOT)) userspace/toolchain/stage-sysroot.sh

$(USERSPACE_OUT)/obj/%.o: userspace/%.c $(USERSPACE_TOOLS)
	@mkdir -p $(@D)
	$(call say,VKCC,$<)
	$(Q)$(USERSPACE_VKCC) $(USERSPACE_CFLAGS) -c $< -o $@

$(USERSPACE_LIBVK): $(USERSPACE_LIBVK_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && llvm-ar rcsD $@ $^

$(USERSPACE_LIBVK_INSTALLED): $(USERSPACE_LIBVK) $(USERSPACE_STAMP)
	$(call say,INSTALL,$@)
	$(Q)cp $< $@.tmp && mv -f $@.tmp $@

# Each program's objects; the recipe is the pattern rule below.
$(foreach d,$(USERSPACE_PROGRAM_DIRS),$(eval \
	$(USERSPACE_OUT)/bin/$(call userspace_name,$(d)).vbin: $(call userspace_objs,$(d))))

$(USERSPACE_OUT)/bin/%.vbin: $(USERSPACE_LIBVK_INSTALLED) $(USERSPACE_STAMP) $(USERSPACE_TOOLS) \
		userspace/toolchain/check-vbin.sh
	@mkdir -p $(@D)
	$(call say,VKLD,$@)
	$(Q)$(USERSPACE_VKCC) -o $@.tmp $(filter %.o,$^) -lvk
	$(Q)userspace/toolchain/check-vbin.sh -q $@.tmp && mv -f $@.tmp $@

# Function symbols of each program (link-time addresses, from 0 for static-PIE), for
# symbolized crash reports: the kernel reads NAME.vbin.map next to the program.
USERSPACE_MAPS := $(USERSPACE_VBINS:.vbin=.vbin.map)
$(USERSPACE_OUT)/bin/%.vbin.map: $(USERSPACE_OUT)/bin/%.vbin
	$(call say,SYMS,$@)
	$(Q)llvm-nm -n --defined-only $< | grep -i ' [tw] ' > $@.tmp && mv -f $@.tmp $@

-include $(USERSPACE_OBJS:.o=.d)
