# host/: the VMM, one folder per subsystem (docs/architecture.md has the
# map). Every host/*/*.c except the command line's main.c goes into
# libpvkvm, which the unit tests link against.
LIB_SRCS += $(filter-out host/cli/main.c,$(sort $(wildcard host/*/*.c)))

PVKVM := $(BUILD)/pvkvm
ALL_TARGETS += $(PVKVM)

# The library path is spelled out: $(plain_LIB) is only defined after every
# fragment is included, and a prerequisite list is expanded on the spot.
# It is linked whole: services and devices register themselves from
# constructors (host/core/vm_module.h), so no other object names them.
PVKVM_LIB := $(BUILD)/libpvkvm.a
$(PVKVM): host/cli/main.c $(PVKVM_LIB) | $(DEPS_STAMP)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_CFLAGS) $< -o $@ $(call whole_lib,$(PVKVM_LIB)) $(HOST_LDLIBS)
-include $(PVKVM).d

# The commit pvkvm is built from, for the benchmarks' provenance
# (host/bench/bench_meta.c). Rewritten only when it changes, so a commit
# rebuilds one object.
GIT_COMMIT_H := $(BUILD)/gen/git_commit.h
HOST_CFLAGS += -I$(BUILD)/gen
.PHONY: FORCE
$(GIT_COMMIT_H): FORCE
	@mkdir -p $(dir $@)
	@c=$$(git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown); \
	 printf '#define PVKVM_GIT_COMMIT "%s"\n' "$$c" >$@.tmp; \
	 cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
$(foreach v,$(VARIANTS),$(VARIANT_DIR_$(v))/obj/host/bench/bench_meta.o): $(GIT_COMMIT_H)
