/*
 * cardlink-tool — the line trace of -vv: a protocol analyser on the card
 * line.
 * SPDX-License-Identifier: Apache-2.0
 *
 * struct trace is a struct cl_card_line that forwards every call to the
 * real line and decodes what crosses it, one line of text per unit, as it
 * completes:
 *
 *   -- cold reset (activation)
 *   C> ATR 3B F5 ...                     the bytes, then the one-line summary
 *   R> PPS FF 11 96 78: ...              PPS request and response decoded
 *   -- line: F=512 D=32, 5000 kHz, N=0, T=1
 *   R> I(0) NAD 00 LEN 13: 00 A4 ..., LRC ok       T=1 blocks, EDC checked
 *   C> S(WTX request 3) NAD 00, LRC ok
 *   R> header 00 A4 04 00 08             T=0 header, procedure bytes, data
 *   C> A4 ACK: all 8 data bytes
 *   -- timeout after 1000 ms             a receive that ran out
 *
 * R> is reader to card, C> card to reader. Bytes shown are in the direct
 * convention (an inverse card's characters decoded). Units a time-out, a
 * reset or the other side interrupts are printed as they stand, marked
 * "incomplete". A reset names its likely cause (the last anomaly seen).
 */
#ifndef CARDLINK_TOOL_TRACE_H
#define CARDLINK_TOOL_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cardlink/card.h"

#define TRACE_BUF 600   /* longest unit kept: a T=1 block is at most 259 */

struct trace {
    struct cl_card_line line;          /* the decorator; ctx is the trace */
    const struct cl_card_line *inner;  /* the real line and its ctx */
    void *ictx;
    FILE *out;
    int phase;            /* TR_* of trace.c */
    int proto;            /* 0 or 1 once known */
    bool inverse;         /* TS said inverse */
    bool crc;             /* T=1 EDC is CRC */
    bool have_params;
    struct cl_card_line_params params;
    char dir;             /* 'R', 'C' or 0: the direction of buf */
    uint8_t buf[TRACE_BUF];
    size_t n;
    size_t echo;          /* echoed characters still to skip */
    uint8_t pps_req[6];
    size_t pps_req_len;
    /* T=0 */
    int t0;               /* T0_* of trace.c */
    uint8_t ins;
    unsigned left;        /* data bytes still to move: P3 */
    unsigned chunk;       /* the size of the data unit procedure allowed */
    unsigned resets;
    const char *cause;    /* the last anomaly, for the next reset */
};

/* Wrap the line (inner, ictx); lines go to out. Then give trace_line(t)
 * with t as ctx to cl_card_init_line(). */
void trace_init(struct trace *t, const struct cl_card_line *inner, void *ictx,
                FILE *out);
const struct cl_card_line *trace_line(struct trace *t);

/* Print what is pending (an incomplete unit) now. */
void trace_flush(struct trace *t);

#endif
