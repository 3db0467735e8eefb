# tests/fuzz/: libFuzzer targets (clang, ASan + UBSan) for the parsers and
# ring consumers a guest feeds. The host library is rebuilt with clang and
# -fsanitize=fuzzer-no-link into build/fuzz/, each target links it with its
# harness and the double-fetch detector (dfetch.c).
#
#   make fuzz [FUZZ_SECONDS=600] [FUZZ_TARGETS="fuzz_ring ..."]
#        each target for FUZZ_SECONDS, one after another, corpus grown in
#        build/fuzz/corpus/<target> from the seeds in tests/fuzz/corpus/
#   make check   runs each for FUZZ_SMOKE_SECONDS (3) on the seeds
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 600
FUZZ_SMOKE_SECONDS ?= 3
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=gnu11 -g -O1 $(WARN) -Wno-gnu-variable-sized-type-not-at-end -I. -D_GNU_SOURCE -pthread -MMD -MP $(FUZZ_SAN)
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES := $(patsubst tests/fuzz/%.c,%,$(FUZZ_SRCS))
FUZZ_BINS := $(addprefix $(FUZZ_DIR)/,$(FUZZ_NAMES))
FUZZ_LIB_OBJS := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(LIB_SRCS) tests/fuzz/dfetch.c)
FUZZ_LIB := $(FUZZ_DIR)/libpvkvm-fuzz.a
FUZZ_TARGETS ?= $(FUZZ_NAMES)

$(FUZZ_DIR)/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC[fuzz] $<"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

# The generated header the bench code includes (host/host.mk).
FUZZ_CFLAGS += -I$(BUILD)/gen
$(FUZZ_DIR)/obj/host/bench/bench_meta.o: $(GIT_COMMIT_H)

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB) | $(DEPS_STAMP)
	@echo "  FUZZ $<"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< -o $@ \
		$(call whole_lib,$(FUZZ_LIB)) $(HOST_LDLIBS)

# The detector's own test: it must catch a double fetch and let the rest be.
FUZZ_SELFTEST := $(FUZZ_DIR)/dfetch_selftest
$(FUZZ_SELFTEST): tests/fuzz/dfetch_selftest.c tests/fuzz/dfetch.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  FUZZ $<"
	$(Q)$(FUZZ_CC) $(filter-out -MMD -MP,$(FUZZ_CFLAGS)) $^ -o $@

-include $(FUZZ_LIB_OBJS:.o=.d) $(FUZZ_BINS:=.d)

fuzz-build: $(FUZZ_BINS) $(FUZZ_SELFTEST)
fuzz: $(FUZZ_BINS) $(FUZZ_SELFTEST)
	$(Q)$(FUZZ_SELFTEST)
	$(Q)tests/fuzz/run-fuzz.sh --seconds $(FUZZ_SECONDS) --out $(FUZZ_DIR) $(FUZZ_TARGETS)

# The smoke run is one check script; the binaries are built by check.
check check-e2e: $(FUZZ_BINS) $(FUZZ_SELFTEST)
CHECK_SCRIPTS += tests/fuzz/fuzz-smoke.sh
.PHONY: fuzz-build
