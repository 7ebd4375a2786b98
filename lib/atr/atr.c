/*
 * cardlink — ATR parser, length predictor and builder (ISO/IEC 7816-3 §8).
 * SPDX-License-Identifier: Apache-2.0
 *
 * One pass over the bytes: each group is read as its Y nibble announces it,
 * the parameters are derived as the group goes by, TCK is one cl_lrc() call.
 * The builder is in atr_build.c, the historical bytes in atr_hist.c.
 */
#include <string.h>

#include "cardlink/atr.h"
#include "cardlink/edc.h"
#include "cardlink/error.h"
#include "cardlink/rate.h"

#define TS_DIRECT 0x3Bu
#define TS_INVERSE 0x3Fu

/* Flags that record "the first TA/TB/TC for T=1 was seen" while parsing;
 * kept in a local, never in the result. */
#define SEEN_T1_TA 0x01u
#define SEEN_T1_TB 0x02u
#define SEEN_T1_TC 0x04u

/* see cardlink/atr.h */
uint8_t cl_atr_inverse_byte(uint8_t raw)
{
    unsigned x = (uint8_t)~raw;

    x = ((x >> 4) | (x << 4)) & 0xFFu;
    x = ((x & 0xCCu) >> 2) | ((x & 0x33u) << 2);
    x = ((x & 0xAAu) >> 1) | ((x & 0x55u) << 1);
    return (uint8_t)x;
}

/* see cardlink/atr.h */
void cl_atr_decode_inverse(uint8_t *buf, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        buf[i] = cl_atr_inverse_byte(buf[i]);
}

/* Number of TA/TB/TC bytes a Y nibble announces (TD not counted): the
 * population count of its low three bits, looked up in a 32-bit constant. */
static unsigned abc_count(unsigned y)
{
    return (0x32212110u >> ((y & 7u) << 2)) & 0xFu;
}

/* An absent group 2 reads as this. */
static const struct cl_atr_group no_group;

/* Defaults of §8.3 for every parameter an ATR may leave out. */
static const struct cl_atr_params defaults = {
    0, CL_RATE_FD, 5000, CL_RATE_DD, 0x11, 0, 10, 0, 32, 13, 4, CL_ATR_CLASS_A,
    CL_ATR_CLOCK_STOP_NONE
};

/* see cardlink/atr.h */
int cl_atr_expected_len(const uint8_t *buf, size_t len)
{
    unsigned y, k, tck = 0;
    size_t pos = 2, total;

    if (len == 0)
        return 1;
    if (buf == NULL)
        return CL_ERR_ARG;
    if ((buf[0] | 4u) != TS_INVERSE)
        return CL_ERR_BAD_TS;
    if (len == 1)
        return 2;
    y = buf[1] >> 4;
    k = buf[1] & 0x0Fu;
    for (;;) {
        pos += abc_count(y);
        if (!(y & 8u))
            break;
        if (pos >= len) {   /* the next TD has not arrived yet */
            pos++;
            break;
        }
        if (buf[pos] & 0x0Fu)
            tck = 1;
        y = buf[pos++] >> 4;
    }
    total = pos + k + tck;
    return total > CL_ATR_MAX ? CL_ERR_TOO_LONG : (int)total;
}

/* see cardlink/atr.h */
int cl_atr_parse(struct cl_atr *atr, const uint8_t *buf, size_t len)
{
    struct cl_atr_params *p;
    const struct cl_atr_group *g2;
    unsigned y, i, pos, t = 0, seen = 0, end;
    uint32_t fl;   /* p->flags, kept in a register until the end */
    uint16_t mask = 0;

    if (atr == NULL || (buf == NULL && len > 0))
        return CL_ERR_ARG;
    if (len == 0)
        return CL_ERR_TRUNCATED;
    if ((buf[0] | 4u) != TS_INVERSE)
        return CL_ERR_BAD_TS;
    if (len > CL_ATR_MAX)
        return CL_ERR_TOO_LONG;
    if (len < 2)
        return CL_ERR_TRUNCATED;

    p = &atr->p;
    memcpy(p, &defaults, sizeof(*p));
    fl = (buf[0] >> 2) & 1u;   /* 3F: CL_ATR_F_INVERSE */
    atr->nproto = 0;
    y = buf[1] >> 4;
    pos = 2;
    /* Group index i is 0-based (group[i] is the standard's group i + 1); t
     * is the protocol named by the TD that announced it (none for i = 0).
     * len <= 33 bounds the TD chain: at most 31 TDs, so i < 32. pos <= len
     * holds throughout: each group is checked whole before it is read. */
    for (i = 0;; i++) {
        struct cl_atr_group *g = &atr->group[i];

        if (len - pos < abc_count(y) + (y >> 3))
            return CL_ERR_TRUNCATED;
        g->present = (uint8_t)y;
        memset(g->b, 0, sizeof(g->b));
        if (y & 1u)
            g->b[0] = buf[pos++];
        if (y & 2u)
            g->b[1] = buf[pos++];
        if (y & 4u)
            g->b[2] = buf[pos++];
        if (y & 8u)
            g->b[3] = buf[pos++];
        if (i >= 2) {
            /* Specific bytes: the first TA/TB/TC for T=1 and for T=15. */
            if (t == 1) {
                unsigned fresh = y & ~seen & 7u;

                seen |= fresh;
                if (fresh & SEEN_T1_TA)
                    p->ifsc = g->b[0];
                if (fresh & SEEN_T1_TB) {
                    p->cwi = g->b[1] & 0x0Fu;
                    p->bwi = g->b[1] >> 4;
                }
                if ((fresh & SEEN_T1_TC) && (g->b[2] & 1u))
                    fl |= CL_ATR_F_CRC;
            } else if (t == 15 && (y & 1u) && !(fl & CL_ATR_F_T15_TA)) {
                fl |= CL_ATR_F_T15_TA;
                p->classes = g->b[0] & 0x3Fu;
                p->clock_stop = g->b[0] >> 6;
            }
        }
        if (!(y & 8u))
            break;
        t = g->b[3] & 0x0Fu;
        y = g->b[3] >> 4;
        if (!(mask & (1u << t))) {
            mask |= (uint16_t)(1u << t);
            if (t != 15)
                atr->proto[atr->nproto++] = (uint8_t)t;
            else if (i == 0)
                fl |= CL_ATR_F_TD1_T15;
        }
    }
    atr->ngroups = (uint8_t)(i + 1);

    /* Historical bytes, then TCK unless only T=0 is named. */
    end = pos + (buf[1] & 0x0Fu);
    if (end > len)
        return CL_ERR_TRUNCATED;
    atr->hist_off = (uint8_t)pos;
    atr->hist_len = (uint8_t)(end - pos);
    if (mask & 0xFFFEu) {
        if (len == end)
            return CL_ERR_MISSING_TCK;
        end++;
        fl |= CL_ATR_F_TCK;
        if (len == end && cl_lrc(buf + 1, len - 1) != 0)
            return CL_ERR_CHECKSUM;
    }
    if (len > end)
        return CL_ERR_TRAILING;
    if (atr->nproto == 0) {   /* no TD, or only T=15 named: T=0 */
        atr->nproto = 1;
        atr->proto[0] = 0;
        mask |= 1u;
    }
    atr->t_mask = mask;
    memcpy(atr->raw, buf, len);
    atr->len = (uint8_t)len;

    /* Global bytes of groups 1 and 2 (§8.3). TA1 defaults to 0x11, which
     * gives Fd, Dd and 5 MHz. */
    g2 = atr->ngroups > 1 ? &atr->group[1] : &no_group;
    fl |= (uint32_t)(atr->group[0].present & 7u) << 1 | (uint32_t)(g2->present & 7u) << 4 |
          (uint32_t)(g2->b[0] & 0x10u) << 3 | (uint32_t)(g2->b[0] & 0x80u) << 1;
    if (atr->group[0].present & 1u)
        p->ta1 = atr->group[0].b[0];
    p->fi = cl_rate_fi((uint8_t)(p->ta1 >> 4));
    p->fmax_khz = cl_rate_fmax_khz((uint8_t)(p->ta1 >> 4));
    p->di = cl_rate_di(p->ta1 & 0x0Fu);
    if (p->fi == 0 || p->di == 0)
        fl |= CL_ATR_F_RATE_RESERVED;
    if ((uint8_t)(p->ifsc + 1u) < 2u)   /* 0 or 255 */
        fl |= CL_ATR_F_IFSC_INVALID;
    if (p->bwi > 9)
        fl |= CL_ATR_F_BWI_RESERVED;
    p->n = atr->group[0].b[2];
    p->specific_t = g2->b[0] & 0x0Fu;
    if (g2->present & 4u) {
        p->wi = g2->b[2];
        if (p->wi == 0)
            fl |= CL_ATR_F_WI_RESERVED;
    }
    p->flags = fl;
    return CL_OK;
}

/* see cardlink/atr.h */
int cl_atr_ib(const struct cl_atr *atr, unsigned i, unsigned which)
{
    if (atr == NULL || which > 3)
        return CL_ERR_ARG;
    if (i == 0 || i > atr->ngroups || !(atr->group[i - 1].present & (1u << which)))
        return CL_ERR_NOT_FOUND;
    return atr->group[i - 1].b[which];
}

/* see cardlink/atr.h */
int cl_atr_rate(const struct cl_atr *atr, uint16_t *fi, uint8_t *di,
                uint16_t *fmax_khz)
{
    if (atr == NULL)
        return CL_ERR_ARG;
    if (fi)
        *fi = atr->p.fi;
    if (di)
        *di = atr->p.di;
    if (fmax_khz)
        *fmax_khz = atr->p.fmax_khz;
    return (atr->p.flags & CL_ATR_F_RATE_RESERVED) ? CL_ERR_RESERVED : CL_OK;
}

/* see cardlink/atr.h */
const uint8_t *cl_atr_hist(const struct cl_atr *atr, size_t *len)
{
    *len = atr->hist_len;
    return atr->raw + atr->hist_off;
}
