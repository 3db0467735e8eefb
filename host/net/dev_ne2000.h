/* SPDX-License-Identifier: MIT */
/*
 * The full-virt baseline NIC: an NE2000 (National DP8390 core, 16 KiB of
 * device memory) on the ISA ports 0x300..0x31f, as Linux's 8390.c and
 * ne.c drive it: register pages 0-2, remote DMA through the data port,
 * the receive ring in device memory (PSTART/PSTOP/BNRY/CURR), transmit
 * from device memory (TPSR/TBCR), ISR/IMR, the reset port and the station
 * address PROM. No interrupt line is wired: a driver polls ISR.
 *
 * Register accesses run on the trapping vCPU thread (ne2000_pio, a pio_fn);
 * received frames are written into the ring by the device's I/O thread
 * (ne2000_start_rx) or by a test calling ne2000_receive; one lock covers
 * both. docs/net.md lists the registers.
 */
#ifndef PVKVM_DEV_NE2000_H
#define PVKVM_DEV_NE2000_H

#include <stdbool.h>
#include <stdint.h>

struct net_port;
struct stats_group;

/* Offsets from the I/O base */
enum ne_reg {
	NE_CR = 0x00,
	/* page 0 */
	NE_P0_CLDA0_PSTART = 0x01,
	NE_P0_CLDA1_PSTOP = 0x02,
	NE_P0_BNRY = 0x03,
	NE_P0_TSR_TPSR = 0x04,
	NE_P0_NCR_TBCR0 = 0x05,
	NE_P0_FIFO_TBCR1 = 0x06,
	NE_P0_ISR = 0x07,
	NE_P0_CRDA0_RSAR0 = 0x08,
	NE_P0_CRDA1_RSAR1 = 0x09,
	NE_P0_RBCR0 = 0x0a,
	NE_P0_RBCR1 = 0x0b,
	NE_P0_RSR_RCR = 0x0c,
	NE_P0_CNTR0_TCR = 0x0d,
	NE_P0_CNTR1_DCR = 0x0e,
	NE_P0_CNTR2_IMR = 0x0f,
	/* page 1 */
	NE_P1_PAR0 = 0x01,
	NE_P1_CURR = 0x07,
	NE_P1_MAR0 = 0x08,
	NE_DATA = 0x10,
	NE_RESET = 0x1f,
};

/* CR */
#define NE_CR_STP 0x01u
#define NE_CR_STA 0x02u
#define NE_CR_TXP 0x04u
#define NE_CR_RD_READ 0x08u
#define NE_CR_RD_WRITE 0x10u
#define NE_CR_RD_ABORT 0x20u
#define NE_CR_RD_MASK 0x38u
#define NE_CR_PS_SHIFT 6
/* ISR / IMR */
#define NE_ISR_PRX 0x01u
#define NE_ISR_PTX 0x02u
#define NE_ISR_RXE 0x04u
#define NE_ISR_TXE 0x08u
#define NE_ISR_OVW 0x10u
#define NE_ISR_CNT 0x20u
#define NE_ISR_RDC 0x40u
#define NE_ISR_RST 0x80u
/* TSR */
#define NE_TSR_PTX 0x01u
/* RSR */
#define NE_RSR_PRX 0x01u
#define NE_RSR_PHY 0x20u /* multicast or broadcast */
/* RCR */
#define NE_RCR_AB 0x04u
#define NE_RCR_AM 0x08u
#define NE_RCR_PRO 0x10u
#define NE_RCR_MON 0x20u
/* DCR */
#define NE_DCR_WTS 0x01u

#define NE_MEM_SIZE 0x8000u   /* addresses 0 .. 0x7fff */
#define NE_PROM_SIZE 32u

struct ne2000;

/* port may be NULL (frames sent go nowhere; tests). */
struct ne2000 *ne2000_new(const uint8_t mac[6], struct net_port *port);
void ne2000_free(struct ne2000 *ne);

/* The pio_fn for [base, base + 32); ctx is the device. */
void ne2000_pio(void *ctx, uint16_t port, bool is_write, void *data,
		uint32_t len, uint32_t count);
/* The I/O base ne2000_pio decodes against (default 0x300). */
void ne2000_set_base(struct ne2000 *ne, uint16_t base);

/* A frame arriving from the wire: written into the receive ring if the
 * NIC is started, RCR accepts it and the ring has room. true if stored. */
bool ne2000_receive(struct ne2000 *ne, const uint8_t *frame, uint32_t len);

/* Starts / stops the thread that moves frames from the port into the
 * ring. 0 or -errno. */
int ne2000_start_rx(struct ne2000 *ne);
void ne2000_stop_rx(struct ne2000 *ne);

struct stats_group *ne2000_stats(struct ne2000 *ne);

#endif
