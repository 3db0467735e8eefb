# tests/linux/: pvkvm's Linux guest drivers in a real Linux VM: Debian's
# kernel under QEMU TCG, modules built against its headers, served by
# `pvkvm serve` through ivshmem-doorbell. The script skips (77) when QEMU,
# the kernel or its headers cannot be installed. See docs/linux-guests.md.
LINUX_GUEST_TEST := tests/linux/linux-guest.sh
IVSHMEM_GARBAGE := $(BUILD)/tests/linux/ivshmem-garbage
CHECK_SCRIPTS += $(LINUX_GUEST_TEST)
ALL_TARGETS += $(IVSHMEM_GARBAGE)

$(IVSHMEM_GARBAGE): tests/linux/ivshmem_garbage.c $(BUILD)/libpvkvm.a | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(HOST_CFLAGS) $< -o $@ $(BUILD)/libpvkvm.a $(HOST_LDLIBS)

.PHONY: check-linux
check-linux: all
	$(Q)$(RUN_TESTS) --group linux $(LINUX_GUEST_TEST)
