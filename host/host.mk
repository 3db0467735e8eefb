# host/: the VMM. Every host/*.c except main.c goes into libpvkvm, which the
# unit tests link against; main.c is only the command line.
LIB_SRCS += $(filter-out host/main.c,$(sort $(wildcard host/*.c)))

PVKVM := $(BUILD)/pvkvm
ALL_TARGETS += $(PVKVM)

# The library path is spelled out: $(plain_LIB) is only defined after every
# fragment is included, and a prerequisite list is expanded on the spot.
PVKVM_LIB := $(BUILD)/libpvkvm.a
$(PVKVM): host/main.c $(PVKVM_LIB) | $(DEPS_STAMP)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_CFLAGS) $< -o $@ $(PVKVM_LIB) $(HOST_LDLIBS)
-include $(PVKVM).d
