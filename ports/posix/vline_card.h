/*
 * cardlink POSIX port — a struct cl_card_line over the virtual card line
 * (vline.h): the card session talks to the card simulator (cardlink-vcard,
 * lib/sim) as it would to a UART wired to a card.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Mapping (docs/porting.md, "Card line and card APDU interfaces"):
 *   send        one DATA frame per call;
 *   recv        DATA frames, buffered and handed out as asked; a
 *               PARITY_ERROR frame marks the next DATA byte (CL_ERR_PARITY
 *               when the session asked for parity reports);
 *               CARD_REMOVED, and the simulator closing the stream, are
 *               CL_ERR_CARD_REMOVED; CARD_INSERTED marks the card present
 *               again; frames of unknown types are skipped;
 *   reset       COLD_RESET or WARM_RESET, after discarding what arrived
 *               before it;
 *   set_params  recorded; a CLOCK frame (F, D, clock in Hz) goes out
 *               before the next characters sent when F or D differ from
 *               what the card runs (Fd, Dd after every reset);
 *   power_off   POWER_OFF;
 *   present     whether the last card-detect frame said inserted (true
 *               until the simulator says otherwise).
 * The line carries characters as a direct-convention UART samples them,
 * so the session codes inverse-convention characters itself (no
 * CL_CARD_LINE_INVERSE_HW); there is no echo. Timing is the host's: the
 * time-outs the session asks for are honoured with poll(), in whole
 * milliseconds rounded up, and never shorter than min_wait_us (default
 * CL_VLINE_CARD_MIN_WAIT_US, 100 ms; the simulator's --min-wait is the
 * same rule on its side). The simulator sends a block in several frames
 * (prologue, INF, epilogue) and is a process the host schedules: a wait
 * of one character waiting time (193 us at F=512 D=32) would cut a block
 * a real UART delivers at once. Bytes that come within the floor are
 * delivered as in time (at least 1 us of the wait reported left);
 * nothing within it is a time-out as asked (0 left).
 */
#ifndef CARDLINK_POSIX_VLINE_CARD_H
#define CARDLINK_POSIX_VLINE_CARD_H

#include "cardlink/card.h"
#include "vline.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The virtual line's capabilities: clock 3571 kHz at activation, up to
 * 20 MHz, every F and D, no bit-rate limit, parity reports. */
#define CL_VLINE_CARD_CLOCK_KHZ 3571u

/* The port context. Caller-allocated; do not touch the fields. */
struct cl_vline_card {
    struct cl_vline *vl;        /* connected device end, not owned */
    bool present;
    bool parity_report;         /* params.parity */
    uint16_t f, d;              /* rate of the last set_params */
    uint32_t clock_khz;
    uint16_t card_f, card_d;    /* rate the card was last told (CLOCK) or
                                   assumes (Fd, Dd after a reset) */
    size_t len, off;            /* buffered DATA: buf[off..len) */
    size_t parity_at;           /* index in buf of a byte with a parity
                                   error, (size_t)-1 when none */
    uint8_t buf[2 * CL_VLINE_PAYLOAD_MAX];
    struct cl_vline_event ev;   /* scratch for one received frame */
    uint32_t min_wait_us;       /* least wait (above); set after init */
};

#define CL_VLINE_CARD_MIN_WAIT_US 100000u

/*
 * Bind vc to a connected device end vl (cl_vline_connect() or
 * cl_vline_open_fd()); vl stays the caller's. Cannot fail.
 * Then: cl_card_init_line(&card, cl_vline_card_line(), &vc, cfg).
 */
void cl_vline_card_init(struct cl_vline_card *vc, struct cl_vline *vl);

/* The line callbacks and capabilities (static, read-only). */
const struct cl_card_line *cl_vline_card_line(void);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_POSIX_VLINE_CARD_H */
