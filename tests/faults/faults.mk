# tests/faults/: host faults (I/O errors injected through blk_aio's hook)
# and rate limits, against the real PV block backend in-process; and the
# crash-consistency test, which SIGKILLs a real pvkvm. Run with the e2e group.
FAULT_SRCS := $(sort $(wildcard tests/faults/test_*.c))
FAULT_BINS := $(patsubst tests/faults/%.c,$(BUILD)/tests/faults/%,$(FAULT_SRCS))
ALL_TARGETS += $(FAULT_BINS)
E2E_TESTS += $(FAULT_BINS)

$(BUILD)/tests/faults/%: tests/faults/%.c $(BUILD)/libpvkvm.a tests/e2e/pvkvm_run.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  TEST[faults] $<"
	$(Q)$(CC) $(HOST_CFLAGS) -DPVKVM_BUILD_DIR='"$(abspath $(BUILD))"' $< tests/e2e/pvkvm_run.c \
		-o $@ $(call whole_lib,$(BUILD)/libpvkvm.a) $(TEST_LDLIBS) $(HOST_LDLIBS)
-include $(FAULT_BINS:=.d)

# The in-process fault test again under ASan + UBSan: the error paths are
# where a double completion or a use after free would hide.
FAULT_ASAN := $(BUILD)/asan/tests/faults/test_blk_faults
E2E_TESTS += $(FAULT_ASAN)
check check-e2e: $(FAULT_ASAN)
$(FAULT_ASAN): tests/faults/test_blk_faults.c $(BUILD)/asan/libpvkvm.a | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  TEST[faults,asan] $<"
	$(Q)$(CC) $(asan_CFLAGS) $< -o $@ $(call whole_lib,$(BUILD)/asan/libpvkvm.a) \
		$(TEST_LDLIBS) $(HOST_LDLIBS)
