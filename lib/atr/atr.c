/*
 * cardlink — ATR parser, length predictor and builder (ISO/IEC 7816-3 §8).
 * SPDX-License-Identifier: Apache-2.0
 *
 * One pass over the bytes: each group is read as its Y nibble announces it,
 * the parameters are derived as the group goes by, TCK is one cl_lrc() call.
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

/* Number of TA/TB/TC bytes a Y nibble announces (TD not counted). */
static unsigned abc_count(unsigned y)
{
    return (y & 1u) + ((y >> 1) & 1u) + ((y >> 2) & 1u);
}

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
    unsigned y, i, pos, t = 0, seen = 0, end;
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
    memset(p, 0, sizeof(*p));
    p->flags = buf[0] == TS_INVERSE ? CL_ATR_F_INVERSE : 0;
    p->fi = CL_RATE_FD;
    p->di = CL_RATE_DD;
    p->fmax_khz = 5000;
    p->ta1 = 0x11;
    p->wi = 10;
    p->ifsc = 32;
    p->cwi = 13;
    p->bwi = 4;
    p->classes = CL_ATR_CLASS_A;

    atr->nproto = 0;
    y = buf[1] >> 4;
    pos = 2;
    /* Group index i is 0-based (group[i] is the standard's group i + 1); t
     * is the protocol named by the TD that announced it (none for i = 0).
     * len <= 33 bounds the TD chain: at most 31 TDs, so i < 32. */
    for (i = 0;; i++) {
        struct cl_atr_group *g = &atr->group[i];
        unsigned x;

        g->present = (uint8_t)y;
        for (x = 0; x < 4; x++) {
            uint8_t v = 0;

            if (y & (1u << x)) {
                if (pos >= len)
                    return CL_ERR_TRUNCATED;
                v = buf[pos++];
            }
            g->b[x] = v;
        }
        if (i >= 2) {
            /* Specific bytes: the first TA/TB/TC for T=1 and for T=15. */
            if (t == 1) {
                unsigned fresh = y & ~seen & 7u;

                seen |= fresh;
                if (fresh & SEEN_T1_TA) {
                    p->ifsc = g->b[0];
                    if (p->ifsc == 0 || p->ifsc == 0xFF)
                        p->flags |= CL_ATR_F_IFSC_INVALID;
                }
                if (fresh & SEEN_T1_TB) {
                    p->cwi = g->b[1] & 0x0Fu;
                    p->bwi = g->b[1] >> 4;
                    if (p->bwi > 9)
                        p->flags |= CL_ATR_F_BWI_RESERVED;
                }
                if ((fresh & SEEN_T1_TC) && (g->b[2] & 1u))
                    p->flags |= CL_ATR_F_CRC;
            } else if (t == 15 && (y & 1u) && !(p->flags & CL_ATR_F_T15_TA)) {
                p->flags |= CL_ATR_F_T15_TA;
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
        }
        if (i == 0 && t == 15)
            p->flags |= CL_ATR_F_TD1_T15;
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
        p->flags |= CL_ATR_F_TCK;
    }
    if (len > end)
        return CL_ERR_TRAILING;
    if ((p->flags & CL_ATR_F_TCK) && cl_lrc(buf + 1, len - 1) != 0)
        return CL_ERR_CHECKSUM;
    if (atr->nproto == 0) {   /* no TD, or only T=15 named: T=0 */
        atr->nproto = 1;
        atr->proto[0] = 0;
        mask |= 1u;
    }
    atr->t_mask = mask;
    memcpy(atr->raw, buf, len);
    atr->len = (uint8_t)len;

    /* Global bytes of groups 1 and 2. */
    {
        const struct cl_atr_group *g1 = &atr->group[0];
        const struct cl_atr_group *g2 = &atr->group[1];

        if (g1->present & 1u) {
            unsigned f = g1->b[0] >> 4;

            p->ta1 = g1->b[0];
            p->fi = cl_rate_fi((uint8_t)f);
            p->fmax_khz = cl_rate_fmax_khz((uint8_t)f);
            p->di = cl_rate_di(g1->b[0] & 0x0Fu);
            p->flags |= CL_ATR_F_TA1;
            if (p->fi == 0 || p->di == 0)
                p->flags |= CL_ATR_F_RATE_RESERVED;
        }
        if (g1->present & 2u)
            p->flags |= CL_ATR_F_TB1;
        if (g1->present & 4u) {
            p->flags |= CL_ATR_F_TC1;
            p->n = g1->b[2];
        }
        if (atr->ngroups > 1) {
            if (g2->present & 1u) {
                p->flags |= CL_ATR_F_SPECIFIC;
                p->specific_t = g2->b[0] & 0x0Fu;
                if (g2->b[0] & 0x10u)
                    p->flags |= CL_ATR_F_IMPLICIT;
                if (g2->b[0] & 0x80u)
                    p->flags |= CL_ATR_F_NO_CHANGE;
            }
            if (g2->present & 2u)
                p->flags |= CL_ATR_F_TB2;
            if (g2->present & 4u) {
                p->wi = g2->b[2];
                if (p->wi == 0)
                    p->flags |= CL_ATR_F_WI_RESERVED;
            }
        }
    }
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

/* see cardlink/atr.h */
int cl_atr_build(const struct cl_atr_build_spec *s, uint8_t *out,
                 size_t out_size, size_t *out_len)
{
    /* Up to four groups: 1 (TA1 TC1), 2 (TA2 TC2, after TD1 naming the
     * first protocol), then T=1's group and T=15's, each after a TD naming
     * it. ys[g] is group g's Y nibble, bytes[g] its TA TB TC, tg[g] the T of
     * the TD announcing it. Group g is emitted if it or a later one is
     * needed: last is the highest needed. */
    uint8_t ys[4] = { 0, 0, 0, 0 }, bytes[4][3], tg[4];
    uint8_t tmp[CL_ATR_MAX];
    unsigned o = s ? s->opts : 0, last = 0, g = 1, x, n = 2, tck = 0;
    bool t1 = (o & CL_ATR_B_T1) != 0, t0 = (o & CL_ATR_B_T0) || !t1;

    if (s == NULL || out == NULL || out_len == NULL || s->hist_len > CL_ATR_HIST_MAX ||
        ((o & CL_ATR_B_TC2) && s->wi == 0) ||
        ((o & CL_ATR_B_IFSC) && (s->ifsc == 0 || s->ifsc == 0xFF)) ||
        ((o & CL_ATR_B_T1_TB) && (s->cwi > 15 || s->bwi > 15)) ||
        ((o & CL_ATR_B_T15) && (s->classes == 0 || s->classes > 63 || s->clock_stop > 3)) ||
        ((o & (CL_ATR_B_IFSC | CL_ATR_B_T1_TB | CL_ATR_B_CRC)) && !t1))
        return CL_ERR_ARG;

    memset(bytes, 0, sizeof(bytes));
    if (o & CL_ATR_B_TA1) {
        ys[0] |= 1;
        bytes[0][0] = s->ta1;
    }
    if (o & CL_ATR_B_TC1) {
        ys[0] |= 4;
        bytes[0][2] = s->n;
    }
    tg[1] = t0 ? 0 : 1;
    if (o & CL_ATR_B_TA2) {
        ys[1] |= 1;
        bytes[1][0] = s->ta2;
    }
    if (o & CL_ATR_B_TC2) {
        ys[1] |= 4;
        bytes[1][2] = s->wi;
    }
    if (ys[1] || !t0)
        last = 1;
    if (t1) {
        g = 2;
        tg[2] = 1;
        if (o & CL_ATR_B_IFSC) {
            ys[2] |= 1;
            bytes[2][0] = s->ifsc;
        }
        if (o & CL_ATR_B_T1_TB) {
            ys[2] |= 2;
            bytes[2][1] = (uint8_t)(s->bwi << 4 | s->cwi);
        }
        if (o & CL_ATR_B_CRC) {
            ys[2] |= 4;
            bytes[2][2] = 1;
        }
        if (ys[2] || t0)
            last = 2;
    }
    if (o & CL_ATR_B_T15) {
        g++;
        tg[g] = 15;
        ys[g] = 1;
        bytes[g][0] = (uint8_t)(s->clock_stop << 6 | s->classes);
        last = g;
    }

    tmp[0] = (o & CL_ATR_B_INVERSE) ? TS_INVERSE : TS_DIRECT;
    for (g = 0; g <= last; g++) {
        unsigned y = ys[g] | (g < last ? 8u : 0u);

        if (g == 0) {
            tmp[1] = (uint8_t)(y << 4 | s->hist_len);
        } else {
            tmp[n - 1] = (uint8_t)(y << 4 | tg[g]);   /* the slot left before */
            if (tg[g])
                tck = 1;
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
