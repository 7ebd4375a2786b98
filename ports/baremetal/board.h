/*
 * cardlink — the board a bare-metal device runs on: what firmware.c needs
 * from the hardware (docs/porting.md, "A bare-metal device").
 * SPDX-License-Identifier: Apache-2.0
 *
 * A vendor implements these for its board (interrupt-driven UARTs with
 * receive rings, a timer, a keypad, a display, a hash engine, a flash
 * area); board_weak.c has do-nothing versions, marked weak, so that the
 * image links before the board exists and its size can be measured.
 *
 * Nothing here blocks: firmware.c polls every source in one loop and
 * sleeps (board_idle) when nothing moved.
 */
#ifndef CARDLINK_BOARD_H
#define CARDLINK_BOARD_H

#include "cardlink/card.h"
#include "cardlink/relay_lossy.h"
#include "cardlink/ui.h"

/* A free-running millisecond and microsecond counter (both wrap). */
uint32_t board_ms(void);
uint32_t board_us(void);
/* Nothing to do until the next interrupt (WFI). */
void board_idle(void);

/* The card interface: an ISO 7816 UART (or a USART in smart card mode),
 * its clock, RST and VCC. */
bool board_card_present(void);
int board_card_reset(bool warm);   /* cold: VCC, CLK, RST high; warm: RST pulse */
int board_card_params(const struct cl_card_line_params *p);
void board_card_off(void);         /* ISO 7816-3 §6.4 deactivation */
int board_card_send(const uint8_t *p, size_t n);   /* CL_OK once on the line */
/* Bytes received since the last call, up to n: their count, 0 when none,
 * CL_ERR_PARITY (p[0] holds the character the UART flagged). */
int board_card_recv(uint8_t *p, size_t n);

/* The network side: a radio or modem with no error correction, carrying
 * the lossy link's frames (docs/protocol.md §13). */
bool board_modem_up(void);
size_t board_modem_read(uint8_t *p, size_t n);          /* what arrived */
size_t board_modem_write(const uint8_t *p, size_t n);   /* what it took */
/* The link's timing for this radio: rto_ms, rto_max_ms, max_retries
 * (the epoch is firmware.c's). Left zero: the defaults (2 s doubling,
 * 5 retries), which give a noisy 1200 bit/s radio up too soon. */
void board_link_config(struct cl_relay_lossy_config *lc);

/* The holder. A key: 0..9 or CL_UI_KEY_*, -1 when none. A PIN entered on
 * the secure keypad: its digit count (the digits in d), 0 when none. */
void board_show(const struct cl_ui_screen *s);
int board_key(void);
size_t board_pin(uint8_t *d, size_t max);

/* SHA-256 engine: 32, or a negative CL_ERR_*. */
int board_sha256(const uint8_t *data, size_t len, uint8_t out[32]);

/* Flash records (cardlink/store.h semantics). */
int board_flash_read(const char *key, uint8_t *buf, size_t size);
int board_flash_write(const char *key, const uint8_t *data, size_t len);
int board_flash_erase(const char *key);

/* Identity: the device id (1..32 bytes) and a counter of boots (the lossy
 * link's epoch must change each boot). */
const uint8_t *board_device_id(size_t *len);
uint32_t board_boot_count(void);

#endif /* CARDLINK_BOARD_H */
