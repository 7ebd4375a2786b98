/*
 * cardlink — seeded, reproducible fault injection on a card line byte stream.
 * SPDX-License-Identifier: Apache-2.0
 *
 * A struct cl_fault sits on one direction of a (real, virtual or in-process)
 * card line. cl_fault_apply() takes the bytes about to cross it and writes
 * what arrives on the other side as a list of items: bytes (possibly
 * corrupted, with extra ones inserted, some missing), bytes that carry a
 * parity error, and the one event a byte stream cannot express, the card
 * being pulled. The same seed and the same input give the same output, so a
 * failing run can be replayed exactly.
 *
 * Rates are per 10,000 bytes (100 = 1 %). For each input byte, in this
 * order: drop it; else corrupt it (XOR with a random non-zero value); else
 * deliver it with a parity error; then possibly insert a random byte after
 * it. One-shot scenarios count the input bytes: after mute_after bytes
 * everything is dropped (the card stopped answering), after pull_after bytes
 * a CL_FAULT_REMOVED item is written once and everything after it dropped.
 * cl_fault_rearm() ends both (a new card, a new session).
 *
 * The PRNG is xorshift32 (Marsaglia 2003): no division, no 64-bit math.
 * Protocol-aware faults (a wrong TCK in the ATR, an unexpected T=1 S-block)
 * are options of the card session (cardlink/sim.h), not of this byte filter.
 */
#ifndef CARDLINK_FAULT_H
#define CARDLINK_FAULT_H

#include "cardlink/defs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What one output item is. */
enum cl_fault_kind {
    CL_FAULT_BYTE = 0,      /* .byte arrives */
    CL_FAULT_PARITY = 1,    /* .byte arrives with a parity error */
    CL_FAULT_REMOVED = 2    /* the card was pulled here (.byte is 0) */
};

struct cl_fault_item {
    uint8_t kind;           /* enum cl_fault_kind */
    uint8_t byte;
};

/* What to inject. Zero it, then set what you want. */
struct cl_fault_config {
    uint32_t seed;          /* PRNG seed; 0 is replaced by a fixed constant */
    uint16_t corrupt;       /* per 10,000 bytes */
    uint16_t drop;          /* per 10,000 bytes */
    uint16_t insert;        /* per 10,000 bytes */
    uint16_t parity;        /* per 10,000 bytes */
    uint32_t mute_after;    /* 0: never; else drop everything after N bytes */
    uint32_t pull_after;    /* 0: never; else CL_FAULT_REMOVED after N bytes */
};

/* Counters of what was done. */
struct cl_fault_stats {
    uint32_t bytes;         /* input bytes seen */
    uint32_t corrupted, dropped, inserted, parity;
    uint32_t muted;         /* bytes swallowed by the mute/pull scenarios */
    uint32_t pulls;         /* CL_FAULT_REMOVED items written */
};

/* The injector. Caller-allocated; do not touch the fields. */
struct cl_fault {
    struct cl_fault_config cfg;
    struct cl_fault_stats stats;
    uint32_t state;         /* xorshift32 state */
    uint32_t count;         /* input bytes since setup or rearm */
    bool pulled;
};

/* Zero f: a transparent filter (no rates, no scenario, the fixed seed).
 * Cannot fail; nothing happens on NULL. */
void cl_fault_init(struct cl_fault *f);

/* Wipe f with cl_wipe() (its seed and PRNG state too). Nothing happens on
 * NULL. */
void cl_fault_free(struct cl_fault *f);

/*
 * Set up f with cfg (copied); the stats are cleared.
 * Returns CL_OK, or CL_ERR_ARG when f or cfg is NULL or a rate exceeds
 * 10,000 (then f is left with all rates zero: a transparent filter).
 */
CL_WUR int cl_fault_setup(struct cl_fault *f, const struct cl_fault_config *cfg);

/* Restart the one-shot scenarios (byte count, mute, pull); the PRNG and the
 * stats go on. Nothing happens on NULL. */
void cl_fault_rearm(struct cl_fault *f);

/* Whether the card was pulled (a CL_FAULT_REMOVED item was written and
 * nothing has passed since). false on NULL. */
bool cl_fault_pulled(const struct cl_fault *f);

/*
 * Pass in[0..len) through the injector into out[0..out_size) and set
 * *out_len to the number of items written. A NULL f passes every byte
 * unchanged.
 * Returns CL_OK, or CL_ERR_ARG (out or out_len NULL, in NULL with len > 0),
 * CL_ERR_BUFFER (out_size < 2 * len + 1, or < len for a NULL f: nothing
 * is consumed, the PRNG is unchanged).
 */
CL_WUR int cl_fault_apply(struct cl_fault *f, const uint8_t *in, size_t len,
                          struct cl_fault_item *out, size_t out_size,
                          size_t *out_len);

/* The counters (NULL on NULL). */
const struct cl_fault_stats *cl_fault_stats(const struct cl_fault *f);

/* One step of xorshift32 on *state (a zero state is replaced by a constant
 * first); for tests and simulators that need the same generator. */
uint32_t cl_fault_rand(uint32_t *state);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_FAULT_H */
