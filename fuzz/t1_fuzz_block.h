/*
 * cardlink — what fuzz_t1_reader and fuzz_t1_card share: taking a whole
 * block out of the engine by both ways of sending, and the checks every
 * block passes whatever the role (length, LEN, EDC). Static functions,
 * included by each of the two targets.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CARDLINK_T1_FUZZ_BLOCK_H
#define CARDLINK_T1_FUZZ_BLOCK_H

#include <stdlib.h>
#include <string.h>

#include "cardlink/edc.h"
#include "cardlink/error.h"
#include "cardlink/t1.h"

/* The frame of a block sent: its size agrees with LEN and the EDC (edc is
 * enum cl_t1_edc) is right. */
static void t1_fuzz_check_frame(const uint8_t *p, size_t n, uint8_t edc)
{
    size_t e = edc == CL_T1_EDC_CRC ? 2 : 1;

    if (n < 3 + e || n > CL_T1_BLOCK_MAX || p[2] > CL_T1_IFS_MAX || n != 3u + p[2] + e)
        abort();
    if (e == 2) {
        uint16_t c = cl_crc16(p, n - 2);

        if (p[n - 2] != (uint8_t)(c >> 8) || p[n - 1] != (uint8_t)c)
            abort();
    } else if (cl_lrc(p, n) != 0) {
        abort();
    }
}

/* The rest of the block as cl_t1_pullv() gives it, concatenated into out
 * (cross-checked against cl_t1_pull(): its first piece); the count. */
static size_t t1_fuzz_gather(struct cl_t1 *t1, uint8_t *out, size_t size)
{
    struct cl_t1_piece pc[3];
    const uint8_t *p;
    size_t k = cl_t1_pullv(t1, pc), i, n = 0;

    if (k == 0 || k > 3 || cl_t1_pull(t1, &p) != pc[0].len || p != pc[0].buf)
        abort();
    for (i = 0; i < k; i++) {
        if (pc[i].len == 0 || pc[i].buf == NULL || pc[i].len > size - n)
            abort();
        memcpy(out + n, pc[i].buf, pc[i].len);
        n += pc[i].len;
    }
    return n;
}

/* Take the whole block being sent into blk and return its length. Blocks
 * alternate between the two ways of sending: piece by piece with
 * cl_t1_pull(), each acknowledged in two parts; or the gather list of
 * cl_t1_pullv(), acknowledged in two parts across pieces (the rest
 * gathered again must be the same bytes). */
static unsigned t1_fuzz_block_no;  /* zeroed by each run, for replays */

static size_t t1_fuzz_take_block(struct cl_t1 *t1, uint8_t blk[CL_T1_BLOCK_MAX])
{
    uint8_t rest[CL_T1_BLOCK_MAX];
    size_t len = 0;

    if (t1_fuzz_block_no++ & 1) {
        size_t n = t1_fuzz_gather(t1, blk, CL_T1_BLOCK_MAX), half = (n + 1) / 2;

        if (cl_t1_sent(t1, n + 1) != CL_ERR_ARG || cl_t1_sent(t1, half) != CL_OK)
            abort();
        if (half < n && (t1_fuzz_gather(t1, rest, sizeof(rest)) != n - half ||
                         memcmp(rest, blk + half, n - half) != 0 ||
                         cl_t1_sent(t1, n - half) != CL_OK))
            abort();
        if (cl_t1_want(t1) == CL_WANT_SEND && cl_t1_pullv(t1, NULL) != 0)
            abort();
        len = n;
    }
    while (cl_t1_want(t1) == CL_WANT_SEND) {
        const uint8_t *p;
        size_t n = cl_t1_pull(t1, &p), half = (n + 1) / 2;

        if (n == 0 || p == NULL || n > CL_T1_BLOCK_MAX - len)
            abort();
        memcpy(blk + len, p, n);
        len += n;
        if (cl_t1_sent(t1, half) != CL_OK)
            abort();
        if (half < n && (cl_t1_pull(t1, &p) != n - half || cl_t1_sent(t1, n - half) != CL_OK))
            abort();
    }
    return len;
}

#endif /* CARDLINK_T1_FUZZ_BLOCK_H */
