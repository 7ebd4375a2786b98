/*
 * cardlink — T=1 engine internals shared by the block codec (t1_block.c)
 * and the rules of ISO 7816-3 §11.6 (t1.c). Not an API: the functions
 * shared between the two files are named cl_t1i_*, outside the cl_t1_*
 * of the public API (the benchmarks count instructions from each cl_t1_*
 * entry point, callgrind --toggle-collect, which a nested cl_t1_* call
 * would switch off).
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CARDLINK_T1_IMPL_H
#define CARDLINK_T1_IMPL_H

#include <stddef.h>

#include "cardlink/t1.h"

/* Phases; 0 is "not set up". Reader phases are R_IDLE..R_RESYNCH, card
 * phases C_WTX..C_TX, and those with our S-request outstanding are
 * R_IFS..C_ABORT: one or two compares each. */
enum {
    P_NONE = 0,
    R_IDLE, R_DONE, R_TX, R_RX, R_DEAD, R_IFS, R_ABORT, R_RESYNCH,
    C_WTX, C_IFS, C_ABORT, C_IDLE, C_RECV, C_APDU, C_TX
};

/* Last block kinds. */
enum { K_NONE = 0, K_I, K_R, K_S };

/* flags */
#define F_CRC 0x01u
#define F_IFS_START 0x02u
#define F_NS 0x04u          /* N(S) of our next new I-block */
#define F_CHAIN 0x08u       /* card: a command chain is being received */
#define F_PARITY 0x10u      /* parity error reported in current block */
#define F_ABORT 0x20u       /* cl_t1_abort() called */
#define F_NR 0x40u          /* N(S) expected in the peer's next I-block
                               (where an I-block's PCB has N(S)) */
#define F_SKIP_IFS 0x80u    /* reader: no IFS negotiation after resynch */

/* PCB coding, §11.3.2.2. */
#define PCB_M 0x20u
#define PCB_R 0x80u
#define PCB_S 0xC0u
#define PCB_S_RESP 0x20u
#define S_RESYNCH 0x00u
#define S_IFS 0x01u
#define S_ABORT 0x02u
#define S_WTX 0x03u
#define R_OK 0u
#define R_EDC 1u
#define R_OTHER 2u
#define R_RESEND 0x10u      /* fail(): not error bits, the peer asks again */

/* Results must fit an int (documented in the header: 32-bit int). */
#define RESULT_MAX 0x7FFFFFFFu

#define ST(field) (offsetof(struct cl_t1_stats, field) / sizeof(uint32_t))

#if defined(__GNUC__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE
#endif

/* The role of a set-up engine (without the card role, always the reader:
 * the card branches fold away). */
static inline bool is_reader(const struct cl_t1 *t1)
{
#if CL_T1_CARD
    return (unsigned)(t1->phase - R_IDLE) <= R_RESYNCH - R_IDLE;
#else
    (void)t1;
    return true;
#endif
}

static inline bool is_card(const struct cl_t1 *t1)
{
#if CL_T1_CARD
    return t1->phase >= C_WTX;
#else
    (void)t1;
    return false;
#endif
}

/* LEN of a valid S-block: 1 for IFS and WTX (type b1 set), else 0 */
static inline uint8_t s_has_inf(uint8_t pcb)
{
    return pcb & 1u;
}

/* Wait for the peer's next block. */
static inline void to_recv(struct cl_t1 *t1)
{
    t1->want = CL_WANT_RECV;
    t1->pos = 0;                    /* cl_t1_feed() sets acc at pos 0 */
    t1->flags &= (uint8_t)~F_PARITY;
}

/* ---- t1.c, the rules */

/* One counter up (index of the uint32_t in struct cl_t1_stats, ST()). */
NOINLINE void cl_t1i_count(struct cl_t1 *t1, unsigned idx);
/* A complete block was invalid; bits are the R-block error bits. */
void cl_t1i_rx_invalid(struct cl_t1 *t1, uint8_t bits);
/* A complete valid block arrived (prologue and first INF byte in hdr, an
 * I-block's INF in the caller's buffer when it fits). */
void cl_t1i_rx_valid(struct cl_t1 *t1);

/* ---- t1_block.c, the block codec */

/* Build a block in blk (an I-block's INF stays at tx) with its EDC and ask
 * for it to be sent; RECV follows. */
void cl_t1i_block_put(struct cl_t1 *t1, uint8_t pcb, uint8_t len, uint8_t inf);
/* The block being received ended (by LEN, or cut short by the CWT): count
 * it, check it, and hand it to the rules. */
void cl_t1i_block_end(struct cl_t1 *t1);

#endif /* CARDLINK_T1_IMPL_H */
