// SPDX-License-Identifier: MIT
/*
 * The PVKVM ELF notes: how the VMM learns, before the guest runs, where to
 * put the hypercall stubs (a CPL3 kernel cannot WRMSR) and which ABI the
 * kernel was built for.
 *
 * In assembly, not as C objects: the compiler may align a C object to 16 or
 * 32 bytes, and the padding it leaves between notes would be parsed as a
 * corrupt note. Notes are packed on 4-byte boundaries.
 */
#include "hypercall/pvkvm_abi.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* namesz counts the NUL of "PVKVM". */
#define NOTE_NAMESZ "6"
_Static_assert(sizeof(PVKVM_ELFNOTE_NAME) == 6, "note name size");

#define NOTE_HEADER(type, descsz)                                             \
	".balign 4\n\t"                                                       \
	".long " NOTE_NAMESZ ", " descsz ", " STR(type) "\n\t"               \
	".asciz " STR(PVKVM_ELFNOTE_NAME) "\n\t"                              \
	".balign 4\n\t"

asm(".pushsection .note.pvkvm, \"a\", @note\n\t"
    NOTE_HEADER(PVKVM_ELFNOTE_HYPERCALL_PAGE, "8")
    ".quad hypercall_page\n\t"
    NOTE_HEADER(PVKVM_ELFNOTE_ABI_VERSION, "4")
    ".long " STR(PVKVM_ABI_VERSION) "\n\t"
    ".popsection");
