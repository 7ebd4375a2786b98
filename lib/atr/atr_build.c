/*
 * cardlink — ATR builder for the card simulator (ISO/IEC 7816-3 §8).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/atr.h"
#include "cardlink/edc.h"
#include "cardlink/error.h"

/* The eight byte options CL_ATR_B_TA1 << k, k = 0..7, and where each goes:
 * nibble k of PLACE is (group code << 2 | byte index). Group codes: 0 and 1
 * are groups 1 and 2; 2 is T=1's group, 3 is T=15's. */
#define B_FIRST CL_ATR_B_TA1
#define PLACE 0xCA986420u  /* TA1 TC1 TA2 TC2 | T=1 TA TB TC | T=15 TA */

/* see cardlink/atr.h */
int cl_atr_build(const struct cl_atr_build_spec *s, uint8_t *out,
                 size_t out_size, size_t *out_len)
{
    /* Up to four groups: 1, 2 (after TD1 naming the first protocol), then
     * T=1's and T=15's, each after a TD naming it. ys[g] is group g's Y
     * nibble, bytes[g] its TA TB TC, tg[g] the T of the TD announcing it.
     * Group g is emitted if it or a later one is needed: last is the
     * highest needed. */
    uint8_t ys[4] = { 0, 0, 0, 0 }, tg[4] = { 0, 0, 1, 15 }, bytes[4][3], vals[8];
    uint8_t tmp[CL_ATR_MAX];
    unsigned o, k, g, x, n = 2, last, tck = 0;
    bool t0, t1;

    if (s == NULL || out == NULL || out_len == NULL)
        return CL_ERR_ARG;
    o = s->opts;
    t1 = (o & CL_ATR_B_T1) != 0;
    t0 = (o & CL_ATR_B_T0) || !t1;
    if (s->hist_len > CL_ATR_HIST_MAX ||
        ((o & CL_ATR_B_TC2) && s->wi == 0) ||
        ((o & CL_ATR_B_IFSC) && (uint8_t)(s->ifsc + 1u) < 2u) ||
        ((o & CL_ATR_B_T1_TB) && (s->cwi | s->bwi) > 15) ||
        ((o & CL_ATR_B_T15) && (s->classes == 0 || s->classes > 63 || s->clock_stop > 3)) ||
        ((o & (CL_ATR_B_IFSC | CL_ATR_B_T1_TB | CL_ATR_B_CRC)) && !t1))
        return CL_ERR_ARG;

    vals[0] = s->ta1;
    vals[1] = s->n;
    vals[2] = s->ta2;
    vals[3] = s->wi;
    vals[4] = s->ifsc;
    vals[5] = (uint8_t)(s->bwi << 4 | s->cwi);
    vals[6] = 1;
    vals[7] = (uint8_t)(s->clock_stop << 6 | s->classes);
    tg[1] = t0 ? 0 : 1;
    if (!t1)
        tg[2] = 15;   /* no T=1 group: T=15's moves up */
    last = t0 ? (t1 ? 2 : 0) : 1;
    memset(bytes, 0, sizeof(bytes));
    for (k = 0; k < 8; k++) {
        if (!(o & (B_FIRST << k)))
            continue;
        x = (PLACE >> (4 * k)) & 3u;
        g = (PLACE >> (4 * k + 2)) & 3u;
        if (g == 3 && !t1)
            g = 2;
        ys[g] |= (uint8_t)(1u << x);
        bytes[g][x] = vals[k];
        if (g > last)
            last = g;
    }

    tmp[0] = (o & CL_ATR_B_INVERSE) ? 0x3F : 0x3B;
    for (g = 0; g <= last; g++) {
        unsigned y = ys[g] | (g < last ? 8u : 0u);

        if (g == 0) {
            tmp[1] = (uint8_t)(y << 4 | s->hist_len);
        } else {
            tmp[n - 1] = (uint8_t)(y << 4 | tg[g]);   /* the slot left before */
            tck |= tg[g];
        }
        for (x = 0; x < 3; x++)
            if (y & (1u << x))
                tmp[n++] = bytes[g][x];
        if (g < last)
            n++;   /* room for the TD announcing group g + 1 */
    }
    memcpy(tmp + n, s->hist, s->hist_len);
    n += s->hist_len;
    if (tck) {
        tmp[n] = cl_lrc(tmp + 1, n - 1);
        n++;
    }
    if (n > out_size)
        return CL_ERR_BUFFER;
    memcpy(out, tmp, n);
    *out_len = n;
    return CL_OK;
}
