# tests/e2e/block.mk: end-to-end block I/O (every disk mode against real
# files under /tmp, and a structural run of `pvkvm bench blk --quick`).
E2E_BLOCK := $(BUILD)/tests/e2e/test_block
ALL_TARGETS += $(E2E_BLOCK)
E2E_TESTS += $(E2E_BLOCK)

$(E2E_BLOCK): tests/e2e/test_block.c guest-drivers/pvkern/blk_pattern.h | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  TEST[e2e] $<"
	$(Q)$(CC) $(HOST_CFLAGS) -DPVKVM_BUILD_DIR='"$(abspath $(BUILD))"' \
		$< -o $@ $(TEST_LDLIBS)
-include $(E2E_BLOCK).d
