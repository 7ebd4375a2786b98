/*
 * cardlink POSIX port — a Phoenix / Smartmouse style serial card reader
 * as a struct cl_card_line, over libserialport.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Such a reader wires the card's I/O contact to both RxD and TxD of a
 * UART (so every character sent comes back: CL_CARD_LINE_ECHO, cancelled
 * by the session, which compares each one), RST to RTS or DTR, and
 * clocks the card from a crystal (3.5712 MHz on most: 9600 bit/s at
 * F = 372, D = 1). The port runs 8 data bits, even parity, 2 stop bits
 * (the 12-etu character frame of ISO 7816-3 §7.1); the bit rate is
 * clock / F * D, changed after a PPS by changing the baud rate. For an
 * inverse-convention card the session codes characters in software and
 * the port switches to odd parity (what a direct UART sees of an inverse
 * character's parity bit). Until TS is in, the port uses mark parity: TS
 * has its parity bit at 1 as a direct UART samples it in both
 * conventions.
 *
 * What the hardware cannot do (see docs/porting.md):
 *  - no VCC switch: a cold reset is a long RST pulse (cfg.cold_ms), and
 *    power_off only holds RST low;
 *  - no parity reports: libserialport does not deliver per-character
 *    parity errors (a bad character arrives as received, and T=1's EDC or
 *    the T=0 engine's checks catch it); no T=0 character repetition;
 *  - the clock is fixed: PPS only changes D (and F) within max_baud;
 *  - the extra guard time N (TC1) is kept by writing one character at a
 *    time with a pause of N etu.
 * Only this file knows libserialport; it builds when the meson option
 * `serial` finds it (CL_HAVE_LIBSERIALPORT).
 */
#ifndef CARDLINK_POSIX_SERIAL_H
#define CARDLINK_POSIX_SERIAL_H

#include "cardlink/card.h"

#ifdef __cplusplus
extern "C" {
#endif

/* cl_serial_config.reset_line */
#define CL_SERIAL_RESET_RTS 0u
#define CL_SERIAL_RESET_DTR 1u

/* cl_serial_config.detect: the modem-status input that tells a card is in */
#define CL_SERIAL_DETECT_NONE 0u
#define CL_SERIAL_DETECT_CTS 1u
#define CL_SERIAL_DETECT_DSR 2u
#define CL_SERIAL_DETECT_DCD 3u

struct cl_serial_config {
    const char *port;       /* "/dev/ttyUSB0", "COM3", ... */
    uint32_t clock_khz;     /* the reader's crystal (default 3571) */
    uint32_t max_baud;      /* fastest bit rate used (default 115200;
                               0: any the port accepts) */
    uint8_t reset_line;     /* CL_SERIAL_RESET_* (default RTS) */
    bool reset_active_high; /* the card's RST is low while the control line
                               is asserted (default true: Phoenix) */
    bool echo;              /* the reader echoes (default true) */
    uint8_t detect;         /* CL_SERIAL_DETECT_* (default NONE) */
    bool detect_inverted;   /* the detect input is asserted with no card */
    uint16_t warm_ms;       /* RST low for a warm reset (default 10) */
    uint16_t cold_ms;       /* RST low for a "cold" reset (default 100) */
    uint16_t min_wait_ms;   /* shortest wait for a character once one is
                               expected (default 20; 0: the session's own).
                               A USB-serial adapter hands bytes over in
                               batches (an FTDI's latency timer is 16 ms), so
                               a block that spans two batches shows a gap far
                               longer than T=1's CWT (0.4 ms at 111 kbit/s);
                               a pty under load does the same. A zero-length
                               look at the line stays one. */
};

/* The port. Caller-allocated; do not touch the fields. */
struct cl_serial {
    struct sp_port *port;
    struct cl_serial_config cfg;
    struct cl_card_line line;   /* callbacks and caps, ctx is the struct */
    uint8_t guard_n;            /* extra guard time, etu */
    uint32_t etu_ns;
    bool inverse;
};

/* Fill cfg with the defaults above (port NULL). */
void cl_serial_config_default(struct cl_serial_config *cfg);

/*
 * Open and configure the port: 8E2 at clock / 372, no flow control, RST
 * held low (card in reset). cfg is copied (cfg->port must stay valid only
 * during the call).
 * Errors: CL_ERR_ARG (NULL, no port name, clock 0), CL_ERR_NOT_FOUND (no
 * such port), CL_ERR_IO (open or configuration failed).
 */
CL_WUR int cl_serial_open(struct cl_serial *s,
                          const struct cl_serial_config *cfg);

/* Close the port (RST low first). Nothing happens on NULL or closed. */
void cl_serial_close(struct cl_serial *s);

/* The card line: pass it with s as ctx to cl_card_init_line(). NULL when
 * s is NULL or not open. */
const struct cl_card_line *cl_serial_line(const struct cl_serial *s);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_POSIX_SERIAL_H */
