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
