# host/: the VMM. Every host/*.c except main.c goes into libpvkvm, which the
# unit tests link against; main.c is only the command line.
LIB_SRCS += $(filter-out host/main.c,$(sort $(wildcard host/*.c)))

PVKVM := $(BUILD)/pvkvm
ALL_TARGETS += $(PVKVM)

$(PVKVM): host/main.c $(plain_LIB) | $(DEPS_STAMP)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_CFLAGS) $< -o $@ $(plain_LIB) $(HOST_LDLIBS)
-include $(PVKVM).d
