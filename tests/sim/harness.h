/*
 * cardlink tests — an in-process card line: a reader engine (T=0 or T=1)
 * against the simulator's card session, with a fault injector each way.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CL_SIM_HARNESS_H
#define CL_SIM_HARNESS_H

#include "cardlink/card.h"
#include "cardlink/fault.h"
#include "cardlink/sim.h"
#include "cardlink/t0.h"
#include "cardlink/t1.h"

struct hline {
    struct cl_sim *sim;
    struct cl_fault *r2c, *c2r;   /* may be NULL: a clean line */
    uint8_t proto;
    struct cl_t0 t0;
    struct cl_t1 t1;
    struct cl_t1_stats t1_stats;
    /* bytes seen on the line in each direction (after the faults), for
     * exact-bytes tests; capped at sizeof */
    /* the transcript, in the notation of every suite: to_card holds the
     * R lines (reader -> card), to_reader the C lines (card -> reader) */
    uint8_t to_card[4096], to_reader[4096];
    size_t n_to_card, n_to_reader;
    unsigned late_bytes;          /* card bytes after the reader's DONE */
};

/* Reset the card and read its ATR over the clean line into atr (returns the
 * ATR length, or a negative error). */
int hl_reset(struct hline *hl, uint8_t *atr, size_t atr_size);

/* Send raw bytes to the card (PPS) and collect what it answers until it
 * waits again; returns the answer length. */
int hl_raw(struct hline *hl, const uint8_t *out, size_t len, uint8_t *in,
           size_t in_size);

/* Set up the reader engine for proto with the card's parameters (T=1:
 * ifsc, edc; IFS request at start). */
int hl_reader_setup(struct hline *hl, uint8_t proto, uint8_t ifsc, uint8_t edc);

/* Run one APDU through the reader engine: the response length, or the
 * exchange's error (CL_ERR_TIMEOUT, CL_ERR_PROTOCOL, CL_ERR_RESYNCH,
 * CL_ERR_CARD_REMOVED, ...). */
int hl_transmit(struct hline *hl, const uint8_t *cmd, size_t cmd_len,
                uint8_t *resp, size_t resp_size);

/*
 * An in-process struct cl_card_line for the card session (cardlink/card.h):
 * what the session sends crosses r2c into the simulator byte by byte, what
 * the simulator answers crosses c2r into a receive queue. Each send is one
 * burst: the card sees all of it before it answers (characters arriving
 * while it answers are out of turn: the simulator drops them, or in T=0
 * goes mute), and what the card sent that the session has not read by then
 * is dropped, as a half-duplex line turning round does. Time is
 * simulated: a receive that finds nothing to read first lets the card's
 * own character timer (T=1 CWT) expire, then returns a time-out at once.
 * A character marked with a parity error by an injector reaches the card
 * through cl_sim_parity_error() and the session as CL_ERR_PARITY (when it
 * asked for parity reports). A pull by either injector removes the card
 * until hcl_reinsert().
 */
struct hcline {
    struct cl_sim *sim;
    struct cl_fault *r2c, *c2r;   /* may be NULL: a clean line */
    bool parity_report;           /* params.parity of the session */
    bool pulled;
    uint16_t f, d;                /* rate last told to the card */
    size_t qlen, qoff;
    uint8_t q[8192];
    uint8_t qpar[8192];           /* 1: that character has a parity error */
    /* counters */
    unsigned long card_timeouts;  /* card CWT expiries simulated */
    unsigned long reader_timeouts;/* receives that timed out */
    unsigned long overflow;       /* card bytes lost to a full queue */
    unsigned long stale;          /* card bytes dropped unread at a send */
};

/* The line callbacks (ctx: struct hcline *). */
extern const struct cl_card_line hcl_line;

/* Bytes left unread in the reader's queue (after a response: characters
 * that arrived out of turn). */
size_t hcl_pending(const struct hcline *h);

/* The card is back in the slot (after a pull): injectors re-armed. */
void hcl_reinsert(struct hcline *h);

#endif
