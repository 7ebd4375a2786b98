/*
 * cardlink tests — an in-process card line: a reader engine (T=0 or T=1)
 * against the simulator's card session, with a fault injector each way.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CL_SIM_HARNESS_H
#define CL_SIM_HARNESS_H

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
    /* bytes seen on the line in each direction (after the faults), for
     * exact-bytes tests; capped at sizeof */
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

#endif
