/* SPDX-License-Identifier: MIT */
/* Port I/O exits that belong to devices, and the ports a CPL3 guest may use. */
#ifndef PVKVM_PIO_H
#define PVKVM_PIO_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct cpl3_io_allow;

/* Runs the handler of the device that claimed port; false if none did. */
bool pio_dispatch(struct vm *vm, uint16_t port, bool is_write, void *data,
		  uint32_t len, uint32_t count);

/* The pvkvm ports plus every claimed device port. */
void pio_fill_io_allow(const struct vm *vm, struct cpl3_io_allow *allow);

#endif
