/* SPDX-License-Identifier: MIT */
/*
 * mode=fv-dma for the network: an e1000-style NIC (Intel 8254x, legacy
 * descriptors), the DMA device full-virt guests use for networking. The
 * driver keeps transmit and receive rings of 16-byte descriptors in its own
 * memory and writes a tail register (TDT, RDT) to hand descriptors over;
 * the NIC moves the frames by DMA, writes status (DD) back into the
 * descriptors and raises causes in ICR. So a batch of frames costs one
 * doorbell, not the NE2000's port I/O per byte.
 *
 * Registers are reached through the 8254x's I/O-mapped window (IOADDR at
 * +0 selects a register offset, IODATA at +4 reads or writes it, 32-bit
 * accesses): this VMM has port I/O and no MMIO dispatch yet, and a driver
 * that leaves IOADDR on TDT pays one exit per transmit doorbell, as an
 * MMIO write would cost. e1000_reg_read/e1000_reg_write are the same
 * register file by offset, for tests and a future MMIO BAR.
 *
 * Transmit runs on the vCPU thread that writes TDT (the frames go to the
 * frame port before the write returns); receive runs on the device's I/O
 * thread, which writes frames into the buffers of the descriptors the
 * driver gave (RDH up to RDT) and sets DD last, so a driver may poll the
 * descriptors in memory without any exit. No interrupt line: ICR is read
 * (and cleared) by polling.
 *
 * Every descriptor ring and buffer goes through the checked guest-memory
 * accessor; rings and buffers below PVKVM_GUEST_LOAD_MIN (the VMM's page
 * and descriptor tables) or outside RAM are refused: a ring is then not
 * processed at all, a buffer's frame is dropped (TX: DD still written back;
 * RX: the descriptor completes with the RXE error bit and no data).
 */
#ifndef PVKVM_DEV_E1000_H
#define PVKVM_DEV_E1000_H

#include <stdbool.h>
#include <stdint.h>

struct guest_mem;
struct net_port;
struct stats_group;

#define E1000_IO_BASE 0xc080u /* the I/O window: IOADDR, IODATA */
#define E1000_IO_PORTS 8u
#define E1000_IOADDR 0u
#define E1000_IODATA 4u

/* Register offsets (8254x SDM, legacy) */
#define E1000_CTRL 0x0000u
#define E1000_STATUS 0x0008u
#define E1000_EERD 0x0014u
#define E1000_ICR 0x00c0u
#define E1000_ICS 0x00c8u
#define E1000_IMS 0x00d0u
#define E1000_IMC 0x00d8u
#define E1000_RCTL 0x0100u
#define E1000_TCTL 0x0400u
#define E1000_RDBAL 0x2800u
#define E1000_RDBAH 0x2804u
#define E1000_RDLEN 0x2808u
#define E1000_RDH 0x2810u
#define E1000_RDT 0x2818u
#define E1000_TDBAL 0x3800u
#define E1000_TDBAH 0x3804u
#define E1000_TDLEN 0x3808u
#define E1000_TDH 0x3810u
#define E1000_TDT 0x3818u
#define E1000_GPRC 0x4074u /* statistics: read to clear */
#define E1000_GPTC 0x4080u
#define E1000_TPR 0x40d0u
#define E1000_TPT 0x40d4u
#define E1000_MTA 0x5200u  /* 128 dwords */
#define E1000_RAL0 0x5400u
#define E1000_RAH0 0x5404u
#define E1000_REG_SPACE 0x20000u /* BAR0's 128 KiB */

#define E1000_CTRL_SLU (1u << 6)
#define E1000_CTRL_RST (1u << 26)
#define E1000_STATUS_FD (1u << 0)
#define E1000_STATUS_LU (1u << 1)
#define E1000_STATUS_SPEED_1000 (2u << 6)
#define E1000_EERD_START (1u << 0)
#define E1000_EERD_DONE (1u << 4)
#define E1000_EERD_ADDR_SHIFT 8
#define E1000_EERD_DATA_SHIFT 16

#define E1000_ICR_TXDW (1u << 0)
#define E1000_ICR_TXQE (1u << 1)
#define E1000_ICR_LSC (1u << 2)
#define E1000_ICR_RXDMT0 (1u << 4)
#define E1000_ICR_RXO (1u << 6)
#define E1000_ICR_RXT0 (1u << 7)

#define E1000_RCTL_EN (1u << 1)
#define E1000_RCTL_UPE (1u << 3)
#define E1000_RCTL_MPE (1u << 4)
#define E1000_RCTL_LPE (1u << 5)
#define E1000_RCTL_BAM (1u << 15)
#define E1000_RCTL_BSIZE_SHIFT 16 /* 00 2048, 01 1024, 10 512, 11 256 */
#define E1000_RCTL_BSEX (1u << 25) /* sizes x16 (01 16384, 10 8192, 11 4096) */
#define E1000_RCTL_SECRC (1u << 26) /* strip the Ethernet CRC */
#define E1000_TCTL_EN (1u << 1)
#define E1000_RAH_AV (1u << 31)

/* Legacy descriptors, little-endian in guest memory. */
struct e1000_tx_desc {
	uint64_t addr;
	uint16_t length;
	uint8_t cso;
	uint8_t cmd;    /* E1000_TXD_CMD_* */
	uint8_t status; /* E1000_TXD_STAT_DD */
	uint8_t css;
	uint16_t special;
};
_Static_assert(sizeof(struct e1000_tx_desc) == 16, "legacy TX descriptor");
#define E1000_TXD_CMD_EOP (1u << 0)
#define E1000_TXD_CMD_IFCS (1u << 1)
#define E1000_TXD_CMD_RS (1u << 3)
#define E1000_TXD_CMD_DEXT (1u << 5)
#define E1000_TXD_STAT_DD (1u << 0)

struct e1000_rx_desc {
	uint64_t addr;
	uint16_t length;
	uint16_t csum;
	uint8_t status; /* E1000_RXD_STAT_* */
	uint8_t errors; /* E1000_RXD_ERR_* */
	uint16_t special;
};
_Static_assert(sizeof(struct e1000_rx_desc) == 16, "legacy RX descriptor");
#define E1000_RXD_STAT_DD (1u << 0)
#define E1000_RXD_STAT_EOP (1u << 1)
#define E1000_RXD_STAT_IXSM (1u << 2) /* ignore checksum indication: set */
#define E1000_RXD_ERR_RXE (1u << 7)

#define E1000_EEPROM_WORDS 64u

struct e1000;

/* mem is guest RAM (the DMA target); port may be NULL (frames sent go
 * nowhere; tests). Both stay the caller's. NULL on ENOMEM. */
struct e1000 *e1000_new(const uint8_t mac[6], struct net_port *port,
			const struct guest_mem *mem);
void e1000_free(struct e1000 *e);

/* The pio_fn of the I/O window (ctx: the device). */
void e1000_pio(void *ctx, uint16_t port, bool is_write, void *data,
	       uint32_t len, uint32_t count);
/* The register file by offset (as an MMIO BAR would reach it). */
uint32_t e1000_reg_read(struct e1000 *e, uint32_t off);
void e1000_reg_write(struct e1000 *e, uint32_t off, uint32_t v);

/* A frame from the wire (without FCS) into the receive ring: true if
 * stored. The receive thread calls it; tests may too. */
bool e1000_receive(struct e1000 *e, const uint8_t *frame, uint32_t len);

int e1000_start_rx(struct e1000 *e);
void e1000_stop_rx(struct e1000 *e);

/* Counters: register accesses, frames and bytes both ways, drops, refused
 * descriptors. */
struct stats_group *e1000_stats(struct e1000 *e);

#endif
