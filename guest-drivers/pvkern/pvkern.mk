# guest-drivers/pvkern/: the project's own deprivileged (CPL3) PV guest
# kernel. A freestanding ELF the VMM loads: build/guest/pvkern.elf.
#
# It must run on any VT-x/AMD-V host, so no AVX (the VMM enables SSE only) and
# no red zone: a hypercall is a `call` from inline asm, which pushes a return
# address right where a red zone would live.

PVKERN_DIR := guest-drivers/pvkern
PVKERN_ELF := $(BUILD)/guest/pvkern.elf
PVKERN_OBJ_DIR := $(BUILD)/guest/obj
# The OS-independent frontend cores (guest-drivers/core/) link in too.
PVKERN_SRCS := $(sort $(wildcard $(PVKERN_DIR)/*.c $(PVKERN_DIR)/*.S \
	guest-drivers/core/*.c))
PVKERN_OBJS := $(patsubst %,$(PVKERN_OBJ_DIR)/%.o,$(basename $(PVKERN_SRCS)))

GUEST_CFLAGS := -std=gnu11 -g -O2 $(WARN) -I. -I$(PVKERN_DIR) \
	-ffreestanding -fno-builtin -fno-stack-protector -fno-pie -fno-pic \
	-mno-red-zone -mno-avx -mno-avx2 -mcmodel=small \
	-fno-tree-loop-distribute-patterns \
	-fcf-protection=none -fno-asynchronous-unwind-tables -MMD -MP
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none \
	-Wl,-T,$(PVKERN_DIR)/pvkern.ld -Wl,-z,noexecstack

ALL_TARGETS += $(PVKERN_ELF)

$(PVKERN_OBJ_DIR)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC[guest] $<"
	$(Q)$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(PVKERN_OBJ_DIR)/%.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS[guest] $<"
	$(Q)$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(PVKERN_ELF): $(PVKERN_OBJS) $(PVKERN_DIR)/pvkern.ld
	@mkdir -p $(dir $@)
	@echo "  LD[guest] $@"
	$(Q)$(CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) $(PVKERN_OBJS) -o $@ -lgcc

-include $(PVKERN_OBJS:.o=.d)
