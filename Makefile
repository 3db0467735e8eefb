# pvkvm: one entry point.
#
#   make                 build everything into build/
#   make check           every test: unit (plain, TSan, ASan+UBSan), end-to-end
#   make bench           the PV vs full-virt benchmark (the main job)
#   make fuzz            fuzz the guest-facing parsers
#   make linux-modules   the Linux guest drivers against Debian's headers
#   make install         pvkvm, the default guest and pvkvm(1) under
#                        $(DESTDIR)$(PREFIX) (default /usr/local)
#   make clean           remove build/
#
# Each area adds its targets in its own fragment (ring/ring.mk, host/host.mk,
# guest-drivers/guest.mk, tests/tests.mk ...); this file holds what they share.

BUILD ?= build
CC ?= cc
V ?= 0
Q := $(if $(filter 1,$(V)),,@)

WARN := -Wall -Wextra -Werror
HOST_CFLAGS := -std=gnu11 -g -O2 $(WARN) -I. -D_GNU_SOURCE -pthread -MMD -MP
HOST_LDLIBS := -lurcu -laio -lpthread
TEST_LDLIBS := -lcriterion
# libpvkvm is linked whole: its modules register from constructors.
whole_lib = -Wl,--whole-archive $(1) -Wl,--no-whole-archive

# Sanitizer variants of the host library and unit tests. Each builds into its
# own tree so objects never mix.
VARIANTS := plain tsan asan
VARIANT_DIR_plain := $(BUILD)
VARIANT_DIR_tsan := $(BUILD)/tsan
VARIANT_DIR_asan := $(BUILD)/asan
VARIANT_CFLAGS_plain :=
VARIANT_CFLAGS_tsan := -fsanitize=thread -O1
VARIANT_CFLAGS_asan := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1

# Criterion's sandbox cannot start under TSan (see tests/tsan/criterion/
# criterion.h), so the TSan tests build against a compatible runner.
TSAN_SHIM := $(BUILD)/tsan/obj/tests/tsan/criterion_shim.o
VARIANT_TEST_CFLAGS_tsan := -Itests/tsan -Wno-format-zero-length
VARIANT_TEST_LIBS_plain := $(TEST_LDLIBS)
VARIANT_TEST_LIBS_tsan := $(TSAN_SHIM)
VARIANT_TEST_LIBS_asan := $(TEST_LDLIBS)

.DEFAULT_GOAL := all
.PHONY: all check check-unit check-tsan check-asan check-e2e bench fuzz \
	linux-modules clean deps install

# Installs missing Debian packages; a stamp keeps it to once per build tree.
DEPS_STAMP := $(BUILD)/.deps
$(DEPS_STAMP): scripts/deps.sh
	$(Q)mkdir -p $(BUILD)
	$(Q)scripts/deps.sh
	$(Q)touch $@
deps: $(DEPS_STAMP)

# Fragments append to these.
ALL_TARGETS :=
UNIT_TESTS :=       # test sources built per variant and linked with the host library
E2E_TESTS :=        # binaries or scripts run by check-e2e, after `all`
CHECK_SCRIPTS :=    # extra shell tests run by check-e2e
LIB_SRCS :=         # sources of libpvkvm (host userspace)

include $(sort $(wildcard */*.mk */*/*.mk))

# pvkvm(1) is generated from the binary's own --help texts, so the manual
# says exactly what --help says.
PREFIX ?= /usr/local
DESTDIR ?=
MANPAGE := $(BUILD)/pvkvm.1
ALL_TARGETS += $(MANPAGE)
$(MANPAGE): $(BUILD)/pvkvm scripts/mkman.sh
	$(Q)scripts/mkman.sh $(BUILD)/pvkvm $@

# --- host library + unit tests, per variant ---------------------------------
define variant_rules
$(1)_DIR := $$(VARIANT_DIR_$(1))
$(1)_CFLAGS := $$(HOST_CFLAGS) $$(VARIANT_CFLAGS_$(1))
$(1)_LIB_OBJS := $$(patsubst %.c,$$($(1)_DIR)/obj/%.o,$$(LIB_SRCS))
$(1)_LIB := $$($(1)_DIR)/libpvkvm.a
$(1)_TEST_BINS := $$(patsubst tests/unit/%.c,$$($(1)_DIR)/tests/unit/%,$$(UNIT_TESTS))

$$($(1)_DIR)/obj/%.o: %.c | $$(DEPS_STAMP)
	@mkdir -p $$(dir $$@)
	@echo "  CC[$(1)] $$<"
	$$(Q)$$(CC) $$(VARIANT_TEST_CFLAGS_$(1)) $$($(1)_CFLAGS) -c $$< -o $$@

$$($(1)_LIB): $$($(1)_LIB_OBJS)
	@mkdir -p $$(dir $$@)
	$$(Q)rm -f $$@ && ar rcs $$@ $$^

$$($(1)_DIR)/tests/unit/%: tests/unit/%.c $$($(1)_LIB) $$(filter %.o,$$(VARIANT_TEST_LIBS_$(1))) | $$(DEPS_STAMP)
	@mkdir -p $$(dir $$@)
	@echo "  TEST[$(1)] $$<"
	$$(Q)$$(CC) $$(VARIANT_TEST_CFLAGS_$(1)) $$($(1)_CFLAGS) $$< -o $$@ $$(call whole_lib,$$($(1)_LIB)) $$(VARIANT_TEST_LIBS_$(1)) $$(HOST_LDLIBS)

-include $$($(1)_LIB_OBJS:.o=.d) $$($(1)_TEST_BINS:=.d)
endef
$(foreach v,$(VARIANTS),$(eval $(call variant_rules,$(v))))

all: $(plain_LIB) $(plain_TEST_BINS) $(ALL_TARGETS)

# --- tests -------------------------------------------------------------------
# scripts/run-tests.sh runs each binary, reads Criterion's synthesis line and
# ends with one "N passed, N failed" line for the whole group.
RUN_TESTS := scripts/run-tests.sh

# The log starts with the platform it ran on (pvkvm platform, one line).
check: all $(tsan_TEST_BINS) $(asan_TEST_BINS)
	$(Q)$(BUILD)/pvkvm platform --summary || echo "platform: pvkvm platform failed"
	$(Q)$(RUN_TESTS) --summary-file $(BUILD)/check-summary \
		--group unit $(plain_TEST_BINS) \
		--group tsan $(tsan_TEST_BINS) \
		--group asan $(asan_TEST_BINS) \
		--group e2e $(E2E_TESTS) $(CHECK_SCRIPTS) \
		--group e2e-hidden-cpuid --env PVKVM_HIDE_CPUID=1 $(E2E_HIDDEN_CPUID_TESTS)

check-unit: all
	$(Q)$(RUN_TESTS) --group unit $(plain_TEST_BINS)
check-tsan: $(tsan_TEST_BINS)
	$(Q)$(RUN_TESTS) --group tsan $(tsan_TEST_BINS)
check-asan: $(asan_TEST_BINS)
	$(Q)$(RUN_TESTS) --group asan $(asan_TEST_BINS)
check-e2e: all
	$(Q)$(RUN_TESTS) --group e2e $(E2E_TESTS) $(CHECK_SCRIPTS)

clean:
	rm -rf $(BUILD)

# bin/pvkvm finds its default guest in ../share/pvkvm (host/bench/bench_common.c).
install: all
	install -D -m 0755 $(BUILD)/pvkvm $(DESTDIR)$(PREFIX)/bin/pvkvm
	install -D -m 0644 $(BUILD)/guest/pvkern.elf $(DESTDIR)$(PREFIX)/share/pvkvm/pvkern.elf
	install -D -m 0644 $(MANPAGE) $(DESTDIR)$(PREFIX)/share/man/man1/pvkvm.1

# The main job. scripts/bench.sh installs what the plots need and says
# plainly which parts are not built yet.
bench: all
	$(Q)scripts/bench.sh

# Linux guest modules, built against Debian's linux-headers-amd64 (the kernel
# the Linux-guest tests boot under QEMU). For now: the ring headers' module
# build check; the PV bus, pvblk and pvnet modules join it.
linux-modules:
	$(Q)scripts/deps.sh --kmod
	$(Q)$(MAKE) --no-print-directory -C ring/kmod-check
