# tests/e2e/: end-to-end tests that run build/pvkvm with real guests on the
# real /dev/kvm. Each test_*.c is one Criterion binary, linked with the
# shared child-process harness (pvkvm_run.c).
E2E_SRCS := $(sort $(wildcard tests/e2e/test_*.c))
E2E_BINS := $(patsubst tests/e2e/%.c,$(BUILD)/tests/e2e/%,$(E2E_SRCS))
E2E_CFLAGS := $(HOST_CFLAGS) -DPVKVM_BUILD_DIR='"$(abspath $(BUILD))"'
ALL_TARGETS += $(E2E_BINS)
E2E_TESTS += $(E2E_BINS)

$(BUILD)/tests/e2e/%: tests/e2e/%.c tests/e2e/pvkvm_run.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  TEST[e2e] $<"
	$(Q)$(CC) $(E2E_CFLAGS) $^ -o $@ $(TEST_LDLIBS)
-include $(E2E_BINS:=.d)

# The same suite once more with pvkvm's CPUID leaves withheld (the guest
# sees what a host shows where CPUID at CPL3 never reaches this KVM): the
# top Makefile's check runs these in a group of their own with
# PVKVM_HIDE_CPUID=1 (host/core/launch.c).
E2E_HIDDEN_CPUID_TESTS := $(E2E_BINS)

# The runner must fail a program whose output has a sanitizer report.
CHECK_SCRIPTS += tests/e2e/sanitizer-report-fails.sh
