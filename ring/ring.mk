# ring/: the shared-memory ring headers (header-only), their freestanding
# proof and the ring benchmark. Unit tests are tests/unit/test_ring*.c and are
# picked up by tests/tests.mk.

# Built with the compiler's own headers only and linked with nothing at all:
# any libc header or symbol the ring headers pull in breaks `make`. It runs
# as an e2e test too (exit 0 = one round trip + a byte-ring wrap worked).
RING_FREESTANDING := $(BUILD)/ring/freestanding-check
RING_FREESTANDING_CFLAGS := -std=gnu11 -O2 $(WARN) -I. -ffreestanding \
	-nostdlib -nostdinc -isystem $(shell $(CC) -print-file-name=include) \
	-fno-builtin -fno-pie -no-pie -static -mgeneral-regs-only -mno-red-zone \
	-fno-stack-protector -fno-asynchronous-unwind-tables
RING_HEADERS := $(wildcard ring/*.h)

$(RING_FREESTANDING): ring/check/freestanding.c $(RING_HEADERS)
	@mkdir -p $(dir $@)
	@echo "  CC[freestanding] $<"
	$(Q)$(CC) $(RING_FREESTANDING_CFLAGS) $< -o $@

RING_BENCH := $(BUILD)/ring-bench
$(RING_BENCH): ring/bench/ring-bench.c ring/bench/ring_duo.h $(RING_HEADERS) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(HOST_CFLAGS) $< -o $@ -lpthread

ALL_TARGETS += $(RING_FREESTANDING) $(RING_BENCH)
E2E_TESTS += $(RING_FREESTANDING)
