/*
 * cardlink — lenient ATR decode: what pcsc-lite and pyscard accept from
 * real cards (ISO/IEC 7816-3 §8 bent the way cards in the field bend it).
 * SPDX-License-Identifier: Apache-2.0
 *
 * The bytes are first cut to the ATR the interface bytes announce and mended
 * where a card left something out (a TCK computed where it is missing, T0's
 * K lowered where historical bytes are cut short, a wrong TCK recomputed);
 * the strict parser then reads the mended copy, and raw[], len and hist_len
 * are set back to what the card really sent.
 */
#include <string.h>

#include "cardlink/atr.h"
#include "cardlink/edc.h"
#include "cardlink/error.h"

/* see cardlink/atr.h */
int cl_atr_parse_lenient(struct cl_atr *atr, const uint8_t *buf, size_t len,
                         unsigned *warn)
{
    static const uint8_t y_count[16] = { 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4 };
    uint8_t fixed[CL_ATR_MAX];
    unsigned w = 0, k, avail, tck = 0, y;
    size_t ib_end, alen, flen;
    int rc;

    if (atr == NULL || (buf == NULL && len > 0))
        return CL_ERR_ARG;
    if (warn)
        *warn = 0;
    if (len == 0)
        return CL_ERR_TRUNCATED;
    if ((buf[0] | 4u) != 0x3Fu)
        return CL_ERR_BAD_TS;
    if (len < 2)
        return CL_ERR_TRUNCATED;

    /* The TD chain over what arrived: the interface bytes must be whole. */
    k = buf[1] & 0x0Fu;
    y = buf[1] >> 4;
    ib_end = 2;
    for (;;) {
        ib_end += y_count[y];
        if (ib_end > len)
            return CL_ERR_TRUNCATED;
        if (!(y & 8u))
            break;
        if (buf[ib_end - 1] & 0x0Fu)
            tck = 1;
        y = buf[ib_end - 1] >> 4;
        if (ib_end > CL_ATR_MAX)
            return CL_ERR_TOO_LONG;
    }
    avail = len - ib_end < k ? (unsigned)(len - ib_end) : k;
    if (avail < k)
        w |= CL_ATR_W_HIST_SHORT;
    alen = ib_end + avail;
    if (tck) {
        if (avail < k || len == alen)
            w |= CL_ATR_W_TCK_MISSING;
        else
            alen++;
    }
    if (len > alen)
        w |= CL_ATR_W_TRAILING;
    if (alen + ((w & CL_ATR_W_TCK_MISSING) ? 1u : 0u) > CL_ATR_MAX)
        return CL_ERR_TOO_LONG;

    /* The mended copy: K as sent, a TCK that checks. */
    memcpy(fixed, buf, alen);
    fixed[1] = (uint8_t)((buf[1] & 0xF0u) | avail);
    flen = alen;
    if (tck) {
        uint8_t x;

        if (w & CL_ATR_W_TCK_MISSING)
            flen++;   /* checked above: still <= CL_ATR_MAX */
        x = cl_lrc(fixed + 1, flen - 2);
        if (!(w & CL_ATR_W_TCK_MISSING) && fixed[flen - 1] != x)
            w |= CL_ATR_W_TCK_WRONG;
        fixed[flen - 1] = x;
    }
    rc = cl_atr_parse(atr, fixed, flen);
    if (rc != CL_OK)
        return rc;   /* not expected: the copy is well formed */
    memset(atr->raw, 0, sizeof(atr->raw));
    memcpy(atr->raw, buf, alen);
    atr->len = (uint8_t)alen;
    if (w & CL_ATR_W_TCK_MISSING)
        atr->p.flags &= ~CL_ATR_F_TCK;
    if (warn)
        *warn = w;
    return CL_OK;
}
