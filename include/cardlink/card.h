/*
 * cardlink — the card session: activate a card, choose its protocol and
 * rate, transmit APDUs, deactivate (ISO/IEC 7816-3 §6 to §11).
 * SPDX-License-Identifier: Apache-2.0
 *
 * Two porting interfaces reach a card:
 *  - struct cl_card_line: a byte-level ISO 7816-3 line (a UART wired to the
 *    contacts, a Phoenix serial reader, the virtual card line). The session
 *    reads the ATR, negotiates PPS and runs the T=0 or T=1 engine over it.
 *  - struct cl_card_apdu: a reader that does the transport itself (PC/SC,
 *    CCID): it hands over the ATR and moves whole APDUs.
 * A struct cl_card session is bound to one of them and gives the layers
 * above the same calls either way: cl_card_activate(), cl_card_transmit(),
 * cl_card_deactivate().
 *
 * Activation over a line (cl_card_activate()):
 *  1. cold reset at the default rate (Fd = 372, Dd = 1, the line's clock);
 *  2. the ATR is read character by character, as long as
 *     cl_atr_expected_len() says: TS within cfg.ts_etu, each next
 *     character within the initial waiting time of 9600 etu (§8.1), the
 *     whole ATR within cfg.atr_total_etu (EMV: 20160 etu). TS names the
 *     convention: 3B direct; 03 as sampled by a direct UART means inverse,
 *     and from then on every character is decoded (by the line when it
 *     declares CL_CARD_LINE_INVERSE_HW, otherwise by the session);
 *  3. no character at all: CL_ERR_CARD_MUTE after deactivation (§6.2.2);
 *     an ATR that stops (time-out) where its TCK is due or inside its
 *     historical bytes, the interface bytes whole, is taken as pcsc-lite
 *     takes real cards, with CL_ATR_W_TCK_MISSING / CL_ATR_W_HIST_SHORT in
 *     cl_card_info()->atr_warnings; a bad ATR (bad TS, TCK, structure,
 *     parity, time-out inside the interface bytes): one warm reset
 *     (§6.2.3, EMV), then the error after deactivation;
 *  4. protocol and rate (cl_card_plan()): in specific mode (TA2) the
 *     protocol TA2 names, at TA1's Fi/Di unless TA2 b5 says implicit, no
 *     PPS; in negotiable mode cfg.protocol when the card offers it, else
 *     the first offered, and a PPS to the fastest rate both sides run
 *     (cl_pps_pick_rate()) when that rate is above the default or the
 *     protocol is not the first offered;
 *  5. the PPS exchange (§9): a response that echoes the request selects
 *     it; one without PPS1 keeps Fd/Dd. A refused, malformed or missing
 *     response (WT from TC2) is an unsuccessful exchange: the card is
 *     deactivated (§9.3), cold reset again and used at the default rate
 *     with its first protocol, without PPS. (pcsc-lite with libccid
 *     reports such a card as unresponsive instead; continuing at the
 *     default rate is what the standard allows and keeps the card usable.)
 *     A specific-mode card whose rate the line cannot run and that may
 *     change mode (TA2 b8 = 0) gets one warm reset to come back in
 *     negotiable mode;
 *  6. the line takes the final parameters (set_params) and the engine is
 *     set up; for T=1 the reader sends S(IFS request) with cfg.ifsd first.
 *
 * Card removal. Whenever the line (or the APDU reader) says the card is
 * gone, the session powers the line off, wipes the engines and closes:
 * the call returns CL_ERR_CARD_REMOVED and later calls CL_ERR_CLOSED until
 * cl_card_activate() succeeds again.
 *
 * The engine and the blocking calls. Over a line the session is a sans-I/O
 * engine with the shape of every cardlink engine (cardlink/engine.h,
 * docs/porting.md "Engine shape"; the card engine below): it never touches
 * the line, it says what it wants and the caller moves the bytes and does
 * the control steps. cl_card_activate(), cl_card_transmit(),
 * cl_card_reset() and cl_card_deactivate() (lib/card/card_io.c) are a thin
 * blocking loop over it and the struct cl_card_line, like BearSSL's
 * ssl_io.c. Firmware that cannot block (interrupts, a superloop, an RTOS
 * queue) does not link card_io.c and drives the engine from its own events
 * (docs/porting.md shows a superloop):
 *
 *     cl_card_init_line(&card, &line, ctx, &cfg); cl_card_start(&card, false);
 *     for (;;) switch (cl_card_want(&card)) {
 *     case CL_WANT_CTRL:  do cl_card_ctrl(&card) on the line (COLD, WARM:
 *                         reset; PARAMS: apply cl_card_params(); OFF: power
 *                         off), then cl_card_ctrl_done(&card, its result);
 *     case CL_WANT_SEND:  k = cl_card_pullv(&card, pc) (or cl_card_pull());
 *                         send the pieces, cl_card_sent(&card, total);
 *     case CL_WANT_RECV:  arm cl_card_timer(&card) microseconds (0: only
 *                         what is already there; CL_TIMER_NONE: no limit),
 *                         receive at most cl_card_recv_max(&card) bytes;
 *                         report the time spent waiting with
 *                         cl_card_elapsed(); bytes -> cl_card_feed(), timer
 *                         -> cl_card_timeout(), a parity error ->
 *                         cl_card_parity_error();
 *     case CL_WANT_IDLE:  ACTIVE, nothing pending: cl_card_transmit_start();
 *     case CL_WANT_DONE:  cl_card_result() is the response length (or the
 *                         exchange's error);
 *     case CL_WANT_CLOSED: deactivated; CL_WANT_FAILED: cl_card_error() says
 *                         why (the card is off: CTRL OFF came first);
 *     }
 *
 * Inverse convention without CL_CARD_LINE_INVERSE_HW: the engine reads TS
 * as sampled (03) and from then on the caller codes what it sends and
 * decodes what it receives (cl_atr_inverse_byte(), cl_atr_decode_inverse())
 * while cl_card_sw_inverse() is true. A line with CL_CARD_LINE_ECHO reads
 * its echo back itself (card_io.c does). A port error in the middle goes to
 * cl_card_fail().
 *
 * Contexts are caller-allocated; do not touch the fields of struct cl_card.
 */
#ifndef CARDLINK_CARD_H
#define CARDLINK_CARD_H

#include "cardlink/defs.h"
#include "cardlink/atr.h"
#include "cardlink/pps.h"
#include "cardlink/t0.h"
#include "cardlink/t1.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------- the card line */

/* struct cl_card_line_caps.flags */
#define CL_CARD_LINE_ECHO       0x01u /* every character sent also arrives on
                                         receive (Phoenix/Smartmouse readers:
                                         I/O is one wire): the session reads
                                         each one back and compares it */
#define CL_CARD_LINE_INVERSE_HW 0x02u /* with params.inverse the line itself
                                         decodes received and encodes sent
                                         characters (an ISO 7816 USART);
                                         otherwise the session does */
#define CL_CARD_LINE_PARITY     0x04u /* recv reports parity errors with
                                         CL_ERR_PARITY */

/*
 * What a line can do. The session turns it into the reader capabilities of
 * cl_pps_pick_rate().
 *
 * clock_khz:     the clock given to the card at activation, 1000..5000
 *                (§6.2: 1 to 5 MHz; Phoenix readers: 3571 or 3579).
 * max_clock_khz: the highest clock the line can give after a PPS, >=
 *                clock_khz; equal to it when the clock is fixed (a crystal).
 * max_baud:      highest bit rate the UART runs, bit/s; 0 means no limit.
 * pairs/n_pairs: the (F, D) pairs it runs, ignored with any_fd; (372, 1)
 *                is always supported.
 * any_fd:        every F and D of the tables of §8.3.
 * flags:         CL_CARD_LINE_*.
 */
struct cl_card_line_caps {
    uint32_t clock_khz;
    uint32_t max_clock_khz;
    uint32_t max_baud;
    const struct cl_pps_fd *pairs;
    size_t n_pairs;
    bool any_fd;
    uint8_t flags;
};

/*
 * The line parameters the session asks for (set_params).
 *
 * f, d:       transmission factors in use: the etu is f / (d * clock).
 * clock_khz:  the clock to give the card.
 * n:          extra guard time TC1, 0..254 etu added to the 12-etu character
 *             frame of the sending side; 255 means the minimum frame: 12 etu
 *             in T=0, 11 etu in T=1 (§8.3).
 * protocol:   0 or 1: the character rules to apply (T=0 error signal and
 *             character repetition; 16 etu between characters in opposite
 *             directions for T=0, the block guard time of 22 etu for T=1);
 *             0 during the ATR and the PPS exchange.
 * inverse:    the card uses the inverse convention (§8.1): a line with
 *             CL_CARD_LINE_INVERSE_HW codes characters from now on; any line
 *             that checks parity checks it as the convention implies (a
 *             direct-convention UART sees inverse characters with odd
 *             parity).
 * parity:     report parity errors (CL_ERR_PARITY from recv). False until
 *             TS is known: an inverse TS fails a direct parity check.
 */
struct cl_card_line_params {
    uint16_t f;
    uint8_t d;
    uint8_t n;
    uint32_t clock_khz;
    uint8_t protocol;
    bool inverse;
    bool parity;
};

/*
 * Send len >= 1 characters, in order, each within the character frame of
 * the current parameters; returns once they are on the line (or handed to
 * a transmitter that will send them before anything else happens).
 * Returns CL_OK, CL_ERR_CARD_REMOVED (no card), CL_ERR_IO (the port
 * failed). Blocking.
 */
typedef int (*cl_card_line_send_fn)(void *ctx, const uint8_t *buf,
                                    size_t len);

/*
 * Receive up to size >= 1 characters, waiting at most *timeout_us
 * microseconds for the first one. Returns as soon as at least one character
 * is there, with what has arrived (never more than size). Characters that
 * arrive while nobody reads are kept in order (a receive buffer) until the
 * next reset, which discards them.
 * On return *timeout_us is the time left (0 after a time-out); a port that
 * cannot measure it may leave it unchanged when characters arrived.
 * UINT32_MAX as *timeout_us means no limit.
 * Returns the count received (>= 1); 0 when the time ran out with nothing
 * received; CL_ERR_PARITY when the next character had a parity error (only
 * with params.parity): buf[0] then holds that one character as received,
 * and the characters before it were returned by earlier calls;
 * CL_ERR_CARD_REMOVED; CL_ERR_IO. Blocking up to the timeout.
 */
typedef int (*cl_card_line_recv_fn)(void *ctx, uint8_t *buf, size_t size,
                                    uint32_t *timeout_us);

/*
 * Reset the card. Cold (warm false): activate the contacts if they are not
 * (VCC, then the clock at params.clock_khz, I/O in reception, §6.2.1), or
 * deactivate and activate again if they are, then hold RST low for at least
 * 400 clock cycles and raise it. Warm (true): with power and clock kept,
 * pull RST low for at least 400 clock cycles and raise it (§6.2.3). Either
 * way, characters received before RST rises are discarded and the first
 * character after it is the ATR's TS. Returns at RST's rising edge.
 * Returns CL_OK, CL_ERR_CARD_REMOVED, CL_ERR_IO.
 */
typedef int (*cl_card_line_reset_fn)(void *ctx, bool warm);

/*
 * Apply p (see struct cl_card_line_params) to what follows; the card gets
 * the new clock at once. A line that cannot run exactly p returns
 * CL_ERR_UNSUPPORTED (the session only asks for rates the caps allow).
 * Returns CL_OK, CL_ERR_UNSUPPORTED, CL_ERR_IO.
 */
typedef int (*cl_card_line_set_params_fn)(void *ctx,
                                          const struct cl_card_line_params *p);

/*
 * Deactivate the contacts (§6.4: RST low, clock stopped, I/O low, VCC
 * off). Cannot fail: a port that cannot do it ignores the call.
 */
typedef void (*cl_card_line_power_off_fn)(void *ctx);

/*
 * Whether a card is in the slot: 1 present, 0 absent, or CL_ERR_IO.
 * Non-blocking. The callback may be NULL when the line has no card detect
 * (a card is then assumed present, and its absence shows as a mute reset).
 */
typedef int (*cl_card_line_present_fn)(void *ctx);

/*
 * A byte-level card line: the callbacks above, sharing the ctx given to
 * cl_card_init_line(), and what the line can do. May live in read-only
 * memory; only present may be NULL.
 */
struct cl_card_line {
    cl_card_line_send_fn send;
    cl_card_line_recv_fn recv;
    cl_card_line_reset_fn reset;
    cl_card_line_set_params_fn set_params;
    cl_card_line_power_off_fn power_off;
    cl_card_line_present_fn present;
    struct cl_card_line_caps caps;
};

/* ------------------------------------------------ the APDU-level reader */

/* The protocol a cl_card_apdu connect() is asked for. */
#define CL_CARD_T_ANY 0xFFu

/*
 * Power the card up (warm false: cold reset, or the reader's own connect)
 * or reset it again keeping power (warm true), let the reader negotiate,
 * and return the ATR in the direct convention (atr[0..*atr_len), at most
 * CL_ATR_MAX bytes) and the protocol selected, 0 or 1, in *protocol.
 * prefer is 0, 1 or CL_CARD_T_ANY.
 * Returns CL_OK, CL_ERR_CARD_REMOVED (no card), CL_ERR_CARD_MUTE (no ATR),
 * CL_ERR_UNSUPPORTED (no protocol in common), CL_ERR_IO. Blocking.
 */
typedef int (*cl_card_apdu_connect_fn)(void *ctx, bool warm, uint8_t prefer,
                                       uint8_t atr[CL_ATR_MAX],
                                       size_t *atr_len, uint8_t *protocol);

/*
 * Send the command APDU cmd[0..cmd_len) (any case, short or extended as
 * the reader supports) and return the whole response, data and SW1 SW2,
 * in resp[0..*resp_len) (the reader does T=0 GET RESPONSE and 6Cxx
 * itself). Returns CL_OK, CL_ERR_BUFFER (the response does not fit
 * resp_size), CL_ERR_CARD_REMOVED, CL_ERR_TIMEOUT, CL_ERR_PROTOCOL (the
 * transport failed; the card stays powered), CL_ERR_IO. Blocking.
 */
typedef int (*cl_card_apdu_transmit_fn)(void *ctx, const uint8_t *cmd,
                                        size_t cmd_len, uint8_t *resp,
                                        size_t resp_size, size_t *resp_len);

/* Power the card off and release it. Cannot fail. */
typedef void (*cl_card_apdu_disconnect_fn)(void *ctx);

/* As cl_card_line_present_fn; may be NULL. */
typedef cl_card_line_present_fn cl_card_apdu_present_fn;

/*
 * An APDU-level reader: the callbacks above, sharing the ctx given to
 * cl_card_init_apdu(). Only present may be NULL.
 */
struct cl_card_apdu {
    cl_card_apdu_connect_fn connect;
    cl_card_apdu_transmit_fn transmit;
    cl_card_apdu_disconnect_fn disconnect;
    cl_card_apdu_present_fn present;
};

/* ------------------------------------------------------- the session */

/* Session configuration. cl_card_config_default() fills the defaults. */
struct cl_card_config {
    uint8_t protocol;       /* preferred T: 0, 1, or CL_CARD_T_ANY (default):
                               the first the card offers */
    uint8_t ifsd;           /* T=1: IFSD announced with S(IFS request) after
                               activation, 1..254 (default 254); 0 sends
                               none (IFSD stays 32) */
    bool pps;               /* negotiate PPS (default true); false keeps
                               Fd/Dd and the first offered protocol */
    bool warm_retry;        /* one warm reset on a bad ATR (default true) */
    uint32_t ts_etu;        /* longest wait for TS after RST rises, etu
                               (default 9600: ISO asks 40000 clock cycles,
                               about 108 etu, which is below the latency of
                               USB serial adapters) */
    uint32_t atr_total_etu; /* longest ATR from TS on, etu (default 20160,
                               EMV 4.3 book 1 §8.3.1); 0: no limit */
    uint32_t apdu_ms;       /* line sessions: the longest one exchange may
                               take, ms, however the card keeps it alive
                               (T=0 NULL bytes, T=1 WTX or empty chained
                               blocks): then CL_ERR_TIMEOUT and the card is
                               deactivated. 0 (default): no deadline; the
                               device sets one */
};

/* cl_card_info.pps */
#define CL_CARD_PPS_NONE     0u /* no PPS sent (not needed, specific mode,
                                   or cfg.pps false) */
#define CL_CARD_PPS_ACCEPTED 1u /* the card echoed the request */
#define CL_CARD_PPS_DEFAULT  2u /* the card kept Fd/Dd (no PPS1 echoed) */
#define CL_CARD_PPS_FAILED   3u /* refused or no answer: reset, default */

/* What activation did, for logs and tests. */
struct cl_card_info {
    uint8_t pps;            /* CL_CARD_PPS_* */
    uint8_t warm_resets;    /* warm resets done */
    uint8_t cold_resets;    /* cold resets done */
    bool specific;          /* the card was in specific mode */
    uint8_t atr_warnings;   /* CL_ATR_W_* (cardlink/atr.h): what the strict
                               parser refuses but was accepted, the way
                               pcsc-lite takes real cards: an ATR that
                               stopped where its TCK was due, or inside
                               its historical bytes (line), or that the
                               APDU-level reader hands over so */
};

/*
 * Counters of a session, for logs and tests, read through cl_card_stats().
 * They start at zero with cl_card_init_line() / cl_card_init_apdu() and
 * only grow (activations, resets and deactivations keep them), except t1.
 * An APDU-level session counts apdus, apdu_errors, activations, the resets
 * and the APDUs' bytes; the rest stays 0.
 */
struct cl_card_stats {
    uint32_t bytes_sent;    /* characters acknowledged with cl_card_sent():
                               PPS requests, T=0 headers and data, T=1
                               blocks (resends too) */
    uint32_t bytes_received;/* characters taken by cl_card_feed(): ATRs,
                               PPS responses, T=0 and T=1 traffic */
    uint32_t apdus;         /* exchanges started */
    uint32_t apdu_errors;   /* exchanges that ended with an error, the
                               session still ACTIVE or not */
    uint32_t more_time;     /* the card asked for more time: T=1 S(WTX)
                               requests and T=0 NULL bytes, added when an
                               exchange ends */
    uint32_t timeouts;      /* cl_card_timeout() events acted upon */
    uint32_t parity_errors; /* cl_card_parity_error() events */
    uint16_t activations;   /* activations that made the session ACTIVE */
    uint16_t cold_resets;   /* cold resets done (line) / connects (reader) */
    uint16_t warm_resets;   /* warm resets done */
    uint16_t pps_failed;    /* PPS exchanges refused or unanswered (§9.3) */
    uint8_t pps;            /* the last activation's CL_CARD_PPS_* */
    struct cl_t1_stats t1;  /* the T=1 engine's own counters (blocks,
                               retransmissions, WTX, resynchs...) since the
                               last T=1 activation, which zeroes them */
};

/*
 * A line-level plan: what cl_card_plan() derives from an ATR and the line.
 * protocol:  the protocol to run, 0 or 1.
 * pps:       whether to send pps_bytes[0..pps_len) (request pps_req).
 * params:    the line parameters to use once the PPS succeeded (or at once
 *            without PPS).
 */
struct cl_card_plan {
    uint8_t protocol;
    bool pps;
    uint8_t pps_len;
    uint8_t pps_bytes[CL_PPS_MAX];
    struct cl_pps pps_req;
    struct cl_card_line_params params;
};

/* Session states. */
#define CL_CARD_CLOSED 0u   /* not activated, deactivated, or card gone */
#define CL_CARD_ACTIVE 1u   /* ATR read, protocol running */

/* cl_card_ctrl(): the control step the engine wants (CL_WANT_CTRL). */
#define CL_CARD_CTRL_NONE 0u    /* not in CL_WANT_CTRL */
#define CL_CARD_CTRL_COLD 1u    /* cold reset (cl_card_line_reset_fn, false) */
#define CL_CARD_CTRL_WARM 2u    /* warm reset (true) */
#define CL_CARD_CTRL_PARAMS 3u  /* apply cl_card_params() (set_params) */
#define CL_CARD_CTRL_OFF 4u     /* deactivate the contacts (power_off) */

/* The session. Caller-allocated; do not touch the fields. */
struct cl_card {
    /* byte fields first: a Cortex-M0+ reaches offsets 0..31 with one
     * 16-bit load or store (the engine reads them on every call) */
    uint8_t step, ctrl, next, flags;    /* the engine (line sessions) */
    uint8_t round;
    uint8_t need, rx_len;               /* ATR / PPS bytes */
    uint8_t state;                      /* CL_CARD_* */
    uint8_t protocol;
    bool sw_inverse;                    /* the session codes characters */
    int16_t err;                        /* sticky */
    struct cl_card_info info;
    struct cl_card_line_params params;  /* what the line runs now */
    const struct cl_card_line *line;    /* one of line and apdu is set */
    const struct cl_card_apdu *apdu;
    void *ctx;
    uint32_t budget;                    /* ATR time left, us */
    uint32_t deadline;                  /* exchange time left, us */
    uint32_t more_mark;                 /* WTX / NULL count at the start
                                           of the exchange */
    struct cl_card_stats stats;
    struct cl_card_config cfg;
    uint8_t rx[CL_ATR_MAX];
    struct cl_card_plan plan;
    union {
        struct cl_t0 t0;
        struct cl_t1 t1;
    } eng;
    struct cl_atr atr;
};

/* Fill cfg with the defaults (see struct cl_card_config). */
void cl_card_config_default(struct cl_card_config *cfg);

/*
 * Bind card to a byte-level line whose callbacks get ctx. cfg NULL means
 * the defaults; it is copied. The session is CLOSED. Cannot fail: a NULL
 * line or card only makes the later calls return CL_ERR_ARG (nothing
 * happens when card is NULL).
 */
void cl_card_init_line(struct cl_card *card, const struct cl_card_line *line,
                       void *ctx, const struct cl_card_config *cfg);

/* Bind card to an APDU-level reader, as cl_card_init_line(). */
void cl_card_init_apdu(struct cl_card *card, const struct cl_card_apdu *apdu,
                       void *ctx, const struct cl_card_config *cfg);

/*
 * Activate the card (see the top of this file) and leave the session
 * ACTIVE. An APDU-level reader is asked to connect (cold), and once more
 * with a warm reset when its ATR does not parse.
 * Returns CL_OK, or
 *   CL_ERR_ARG           card NULL or not bound to a line or reader, or an
 *                        invalid config (ifsd 255, protocol not 0, 1 or
 *                        CL_CARD_T_ANY);
 *   CL_ERR_STATE         the session is already ACTIVE;
 *   CL_ERR_CARD_REMOVED  no card;
 *   CL_ERR_CARD_MUTE     no character after the reset;
 *   the ATR's error      (cl_atr_parse(): CL_ERR_BAD_TS, CL_ERR_CHECKSUM,
 *                        ..., or CL_ERR_TIMEOUT, CL_ERR_PARITY inside the
 *                        ATR) when it was bad after the warm reset too;
 *   CL_ERR_UNSUPPORTED   no protocol both sides run (the card offers
 *                        neither T=0 nor T=1 with a valid IFSC), or a
 *                        specific mode the line cannot run;
 *   CL_ERR_RESERVED      specific mode with a reserved Fi or Di;
 *   the engine's error   when the T=1 IFS exchange fails
 *                        (CL_ERR_RESYNCH);
 *   CL_ERR_IO            the port failed (or whatever other error a line
 *                        callback returned, e.g. CL_ERR_UNSUPPORTED from
 *                        set_params).
 * On any error the card is deactivated and the session CLOSED.
 */
CL_WUR int cl_card_activate(struct cl_card *card);

/*
 * Send the command APDU cmd[0..cmd_len) (case 1 to 4, short or extended)
 * and return the whole response APDU, data and SW1 SW2, in
 * resp[0..*resp_len). T=0: the engine maps the cases to TPDUs, collects
 * 61xx chains with GET RESPONSE and re-issues 6Cxx; T=1: the command is
 * chained to IFSC and the response collected.
 * Returns CL_OK (*resp_len set; 0 and resp untouched on error), or
 *   CL_ERR_ARG           NULL card, cmd or resp_len, or NULL resp with
 *                        resp_size > 0;
 *   CL_ERR_CLOSED        the session is not ACTIVE;
 * and, with the session still ACTIVE:
 *   CL_ERR_TRUNCATED, CL_ERR_MALFORMED, CL_ERR_LENGTH, CL_ERR_RESERVED,
 *   CL_ERR_BUFFER        (T=0) cmd is not an APDU T=0 can carry, or resp
 *                        cannot hold the first TPDU's answer (nothing was
 *                        sent: see cl_t0_transmit_start());
 *   CL_ERR_BUFFER, CL_ERR_ABORTED, CL_ERR_PROTOCOL
 *                        (T=1) the response did not fit, the chain was
 *                        aborted, or the link was resynchronised (see
 *                        cl_t1_result());
 *   any error the APDU-level reader's transmit returns but those below;
 * or, with the card deactivated and the session CLOSED:
 *   CL_ERR_CARD_REMOVED  the card went away;
 *   CL_ERR_TIMEOUT, CL_ERR_PARITY, CL_ERR_PROTOCOL
 *                        (T=0) the engine asked for deactivation (§10.2);
 *   CL_ERR_RESYNCH       (T=1) resynchronisation failed;
 *   CL_ERR_IO            the port failed (a missing or altered echo too),
 *                        or whatever other error a line callback returned
 *                        in the middle of the exchange.
 */
CL_WUR int cl_card_transmit(struct cl_card *card, const uint8_t *cmd,
                            size_t cmd_len, uint8_t *resp, size_t resp_size,
                            size_t *resp_len);

/*
 * Deactivate the card (§6.4) or disconnect the reader, wipe the engines
 * and close the session; the binding and configuration stay, so
 * cl_card_activate() may follow. Nothing happens on NULL or a CLOSED
 * session.
 */
void cl_card_deactivate(struct cl_card *card);

/* CL_CARD_ACTIVE or CL_CARD_CLOSED (CLOSED on NULL). */
unsigned cl_card_state(const struct cl_card *card);

/* The ATR of the active session, NULL when CLOSED or on NULL. */
const struct cl_atr *cl_card_atr(const struct cl_card *card);

/* The protocol running, 0 or 1; CL_ERR_CLOSED when not ACTIVE, CL_ERR_ARG
 * on NULL. */
CL_WUR int cl_card_protocol(const struct cl_card *card);

/* What the last activation did (NULL on NULL). */
const struct cl_card_info *cl_card_info(const struct cl_card *card);

/* The line parameters in use (NULL on NULL). */
const struct cl_card_line_params *cl_card_params(const struct cl_card *card);

/* The session's counters (struct cl_card_stats; NULL on NULL). */
const struct cl_card_stats *cl_card_stats(const struct cl_card *card);

/*
 * Reset an ACTIVE card and activate it again: warm true keeps power and
 * clock (§6.2.3; an APDU-level reader is asked to reconnect with a warm
 * reset), false deactivates and cold-resets it. The whole activation runs
 * again (ATR, PPS, protocol); on success the session is ACTIVE with the
 * new ATR. Returns what cl_card_activate() returns, but CL_ERR_CLOSED when
 * the session is not ACTIVE; on an error the card is off and the session
 * CLOSED.
 */
CL_WUR int cl_card_reset(struct cl_card *card, bool warm);

/* ------------------------------------------------ the card engine (line) */

/*
 * Start the activation over the bound line (see the top of this file):
 * cold (warm false) from CLOSED (or FAILED), or a warm reset of an ACTIVE
 * session that is IDLE or DONE. The engine then wants CL_WANT_CTRL
 * (PARAMS: the default rate, then the reset). The caller checks the card
 * detect first where the line has one.
 * Returns CL_OK; CL_ERR_ARG (NULL card, no line, a line without a
 * callback, bad caps or config, as cl_card_activate()); CL_ERR_STATE (an
 * activation running, or ACTIVE for a cold start; not ACTIVE and idle for
 * a warm one).
 */
CL_WUR int cl_card_start(struct cl_card *card, bool warm);

/* Deactivate: the engine wants CTRL OFF, then CLOSED. Nothing happens on
 * NULL, a CLOSED or FAILED engine or an APDU-level session. */
void cl_card_stop(struct cl_card *card);

/* What the engine wants next (CL_WANT_FAILED on NULL). CLOSED before
 * cl_card_start() and after cl_card_stop(); IDLE while ACTIVE with nothing
 * pending. */
enum cl_want cl_card_want(const struct cl_card *card);

/* In CL_WANT_CTRL: which control step (CL_CARD_CTRL_*); else NONE. */
unsigned cl_card_ctrl(const struct cl_card *card);

/*
 * The control step cl_card_ctrl() asked for was done, with rc the port's
 * result (CL_OK, or its error: the engine then powers the card off and
 * fails with it; a power off cannot fail).
 * Returns CL_OK; CL_ERR_STATE unless CL_WANT_CTRL; CL_ERR_ARG on NULL.
 */
CL_WUR int cl_card_ctrl_done(struct cl_card *card, int rc);

/*
 * The next bytes to send as up to three pieces (as cl_t1_pullv(); T=0 and
 * the PPS request give one): pc[0..k) filled, k returned; 0 unless
 * CL_WANT_SEND (or on NULL). The pointers are valid until the next call on
 * card. cl_card_pull() gives the first piece only.
 */
size_t cl_card_pullv(struct cl_card *card, struct cl_t1_piece pc[3]);
size_t cl_card_pull(struct cl_card *card, const uint8_t **p);

/*
 * n of the pulled bytes went out (partial is fine: the rest is lent again).
 * Returns CL_OK; CL_ERR_STATE unless CL_WANT_SEND; CL_ERR_ARG (NULL, n
 * larger than what was lent).
 */
CL_WUR int cl_card_sent(struct cl_card *card, size_t n);

/*
 * In CL_WANT_RECV: the most bytes the engine takes now (the rest of the
 * ATR or PPS response; SIZE_MAX while a protocol engine receives); 0 in
 * other states.
 */
size_t cl_card_recv_max(const struct cl_card *card);

/*
 * Bytes from the card, in the direct convention. Returns the count used
 * (0..n: the rest is fed again after the new want; while a protocol engine
 * runs all n are used, bytes out of turn failing a T=0 exchange), or
 * CL_ERR_STATE (not CL_WANT_RECV), CL_ERR_ARG (NULL card, or b NULL with
 * n > 0).
 */
CL_WUR int cl_card_feed(struct cl_card *card, const uint8_t *b, size_t n);

/*
 * The timer query: microseconds to wait in CL_WANT_RECV before
 * cl_card_timeout(): TS, the ATR's character time and what is left of its
 * total budget, the PPS response's WT, the protocol engine's WT, BWT x WTX
 * or CWT, capped by what is left of the exchange's deadline (cfg.apdu_ms).
 * 0 means: take only what has already arrived (a T=0 session checks the
 * line is quiet before each command). A long wait saturates at
 * CL_TIMER_MAX, never at CL_TIMER_NONE, which means no timer (other
 * states, NULL).
 */
uint32_t cl_card_timer(const struct cl_card *card);

/* us microseconds passed waiting in CL_WANT_RECV (they count against the
 * ATR's total budget and the exchange's deadline). Nothing on NULL. */
void cl_card_elapsed(struct cl_card *card, uint32_t us);

/*
 * The event: the timer ran out. Mute at TS, a short ATR (accepted as
 * pcsc-lite would, or one warm reset), a PPS without answer (§9.3), the
 * deadline or the protocol's own time-out (CL_ERR_TIMEOUT, the card off).
 * Returns CL_OK, or the error this event ended the session with (the card
 * is being switched off; error() says the same); CL_ERR_STATE unless
 * CL_WANT_RECV; CL_ERR_ARG on NULL.
 */
CL_WUR int cl_card_timeout(struct cl_card *card);

/*
 * The line reports a parity error on character c (after the character
 * repetitions of §7.3). Returns as cl_card_timeout() does: CL_OK, or the
 * error this event ended the session with; CL_ERR_STATE unless
 * CL_WANT_RECV; CL_ERR_ARG on NULL.
 */
CL_WUR int cl_card_parity_error(struct cl_card *card, uint8_t c);

/*
 * The line failed in the middle (the port's error err < 0, a lost echo, a
 * card gone), or the caller's own deadline passed: the engine wants CTRL
 * OFF and then FAILED with err.
 * Returns CL_OK; CL_ERR_STATE when CLOSED or FAILED; CL_ERR_ARG (NULL, err
 * >= 0).
 */
CL_WUR int cl_card_fail(struct cl_card *card, int err);

/*
 * ACTIVE, IDLE or DONE: start an exchange for the command APDU
 * cmd[0..cmd_len) into resp[0..resp_size) (both the caller's until DONE,
 * FAILED or CLOSED). The deadline cfg.apdu_ms starts now.
 * Returns CL_OK, or CL_ERR_ARG (NULL pointers, an APDU-level session),
 * CL_ERR_CLOSED (not ACTIVE), CL_ERR_STATE (an exchange running), and the
 * errors of cl_t0_transmit_start() / cl_t1_transmit_start() (nothing sent).
 */
CL_WUR int cl_card_transmit_start(struct cl_card *card, const uint8_t *cmd,
                                  size_t cmd_len, uint8_t *resp,
                                  size_t resp_size);

/* Set the deadline of the exchanges started from now on (cfg.apdu_ms:
 * ms, 0 none), e.g. per APDU from the relay request that carries it; the
 * running exchange keeps its own. Nothing on NULL. */
void cl_card_set_deadline(struct cl_card *card, uint32_t ms);

/* In CL_WANT_DONE: the response length, or the exchange's error with the
 * session still ACTIVE (as cl_card_transmit()); else CL_ERR_STATE
 * (CL_ERR_ARG on NULL). */
CL_WUR int cl_card_result(const struct cl_card *card);

/* Sticky: the error that failed the engine (card off), else CL_OK
 * (CL_ERR_ARG on NULL). Cleared by cl_card_start(). */
int cl_card_error(const struct cl_card *card);

/* The protocol engine of an ACTIVE line session, for its accessors
 * (cl_t0_stats(), cl_t1_stats(), cl_t1_ifsd()): NULL when the session runs
 * the other protocol, is not ACTIVE, is APDU-level, or on NULL. */
const struct cl_t0 *cl_card_t0(const struct cl_card *card);
const struct cl_t1 *cl_card_t1(const struct cl_card *card);

/* Whether the caller codes and decodes inverse characters itself (an
 * inverse card on a line without CL_CARD_LINE_INVERSE_HW); false on NULL. */
bool cl_card_sw_inverse(const struct cl_card *card);

/* Wipe the whole context with cl_wipe() (NULL: nothing). The line is not
 * touched: stop the card first. */
void cl_card_free(struct cl_card *card);

/* ----------------------------------------- pieces for firmware drivers */

/*
 * Decide protocol, PPS and line parameters for a card with ATR atr on a
 * line with caps, by the rules of steps 4 and 5 at the top of this file.
 * allow_pps false (or cfg->pps false) plans no PPS: the first protocol
 * offered at Fd/Dd (specific mode is unaffected). params.inverse is set
 * from the ATR, params.parity true, params.n from TC1.
 * Returns CL_OK with *plan filled, or CL_ERR_ARG (a NULL pointer, caps
 * with clock_khz 0 or pairs NULL with n_pairs > 0), CL_ERR_UNSUPPORTED,
 * CL_ERR_RESERVED (as cl_card_activate()).
 */
CL_WUR int cl_card_plan(const struct cl_atr *atr,
                        const struct cl_card_line_caps *caps,
                        const struct cl_card_config *cfg, bool allow_pps,
                        struct cl_card_plan *plan);

/*
 * Adjust plan after a PPS response cl_pps_check_response() accepted as
 * *accepted: without PPS1 the rate falls back to Fd/Dd at the activation
 * clock caps->clock_khz.
 * Returns CL_OK, or CL_ERR_ARG (NULL pointer).
 */
CL_WUR int cl_card_plan_pps_result(struct cl_card_plan *plan,
                                   const struct cl_card_line_caps *caps,
                                   const struct cl_pps *accepted);

/*
 * The T=1 reader configuration for a card with ATR atr on a line running
 * p: EDC, IFSC (TA3), BWI/CWI (TB3; a reserved BWI counts as 9), F and D,
 * BGT 22, ifsd (0: none sent, IFSD stays 32).
 * Returns CL_OK, or CL_ERR_ARG (NULL pointer, ifsd 255),
 * CL_ERR_UNSUPPORTED (the ATR's IFSC is invalid).
 */
CL_WUR int cl_card_t1_config(const struct cl_atr *atr,
                             const struct cl_card_line_params *p,
                             uint8_t ifsd, struct cl_t1_config *cfg);

/*
 * The T=0 reader configuration for a card with ATR atr on a line running
 * p: WI (TC2) and D, for the work waiting time.
 * Returns CL_OK, or CL_ERR_ARG (NULL pointer).
 */
CL_WUR int cl_card_t0_config(const struct cl_atr *atr,
                             const struct cl_card_line_params *p,
                             struct cl_t0_config *cfg);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_CARD_H */
