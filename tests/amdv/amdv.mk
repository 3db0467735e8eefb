# tests/amdv/: the VMM and its guest self-test on a strict AMD-V /dev/kvm
# (kvm_amd in Debian's kernel, inside a QEMU TCG VM whose CPU has SVM).
# See docs/testing-amdv.md. The script skips (77) when QEMU, the Debian kernel,
# build/pvkvm or the guest ELF is missing; in `make check` both are built first.
AMDV_TEST := tests/amdv/amdv-selftest.sh
CHECK_SCRIPTS += $(AMDV_TEST)

# The guest ELF comes from whichever fragment adds it to ALL_TARGETS
# (fragments are included in sorted order, guest-drivers/ before tests/).
AMDV_DEPS := $(BUILD)/pvkvm $(filter %/pvkern.elf,$(ALL_TARGETS))

.PHONY: check-amdv
check check-e2e: $(AMDV_DEPS)
check-amdv: $(AMDV_DEPS)
	$(Q)$(RUN_TESTS) --group amdv $(AMDV_TEST)
