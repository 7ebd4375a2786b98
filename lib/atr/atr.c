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

/* Number of interface bytes a Y nibble announces: the population count of
 * its four bits (TA TB TC TD); y & 7 leaves TD out. */
static const uint8_t y_count[16] = { 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4 };

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
        pos += y_count[y & 7u];
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
    struct cl_atr_group *g;
    struct cl_atr_params *p;
    unsigned y, t, np = 0, mask = 0, n, i;
    unsigned ta1, y2 = 0, ta2 = 0, ifsc = 32, tb = 0x4D, crc = 0;
    size_t pos, end;
    uint32_t fl;

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

    /* The interface bytes, group by group as the Y nibbles announce them.
     * len <= 33 bounds the TD chain: at most 31 TDs, so at most 32 groups.
     * pos <= len holds throughout: each group is checked whole before it is
     * read. Only locals change inside the loop besides the group and
     * proto[] stores. */
    y = buf[1] >> 4;
    pos = 2;
    g = atr->group;
    for (;;) {
        uint8_t ta = 0, tb_ = 0, tc = 0, td = 0;

        if (len - pos < y_count[y])
            return CL_ERR_TRUNCATED;
        if (y & 1u)
            ta = buf[pos++];
        if (y & 2u)
            tb_ = buf[pos++];
        if (y & 4u)
            tc = buf[pos++];
        if (y & 8u)
            td = buf[pos++];
        g->present = (uint8_t)y;
        g->b[0] = ta;
        g->b[1] = tb_;
        g->b[2] = tc;
        g->b[3] = td;
        g++;
        if (!(y & 8u))
            break;
        t = td & 0x0Fu;
        y = td >> 4;
        if (!(mask & (1u << t))) {
            mask |= 1u << t;
            if (t != 15)
                atr->proto[np++] = (uint8_t)t;
        }
    }
    n = (unsigned)(g - atr->group);

    /* Historical bytes, then TCK unless only T=0 is named. The copy in
     * raw[] is zero-padded, so TCK is checked by a fixed-length XOR over
     * raw[] that compilers unroll or vectorise, TS taken out again. */
    end = pos + (buf[1] & 0x0Fu);
    if (end > len)
        return CL_ERR_TRUNCATED;
    fl = (buf[0] >> 2) & 1u;   /* 3F: CL_ATR_F_INVERSE */
    memset(atr->raw, 0, sizeof(atr->raw));
    memcpy(atr->raw, buf, len);
    if (mask & 0xFFFEu) {
        if (len == end)
            return CL_ERR_MISSING_TCK;
        end++;
        fl |= CL_ATR_F_TCK;
        if (len == end) {
            uint32_t w = 0, v;

            for (i = 0; i < CL_ATR_MAX - 1; i += 4) {
                memcpy(&v, atr->raw + i, 4);
                w ^= v;
            }
            w ^= w >> 16;
            w ^= w >> 8;
            if ((uint8_t)(w ^ atr->raw[0] ^ atr->raw[CL_ATR_MAX - 1]) != 0)
                return CL_ERR_CHECKSUM;
        }
    }
    if (len > end)
        return CL_ERR_TRAILING;
    if (np == 0) {   /* no TD, or only T=15 named: T=0 */
        np = 1;
        atr->proto[0] = 0;
        mask |= 1u;
    }
    atr->len = (uint8_t)len;
    atr->hist_off = (uint8_t)pos;
    atr->hist_len = buf[1] & 0x0Fu;
    atr->ngroups = (uint8_t)n;
    atr->nproto = (uint8_t)np;
    atr->t_mask = (uint16_t)mask;

    /* Specific bytes (groups 3 on): the first TA/TB/TC for T=1 and the
     * first TA for T=15, group[i]'s T being in group[i - 1]'s TD. Walked
     * backwards, the last value written is the first one in the ATR. */
    p = &atr->p;
    memcpy(p, &defaults, sizeof(*p));
    for (i = n; i-- > 2;) {
        const struct cl_atr_group *h = &atr->group[i];

        t = h[-1].b[3] & 0x0Fu;
        y = h->present;
        if (t == 1) {
            if (y & 1u)
                ifsc = h->b[0];
            if (y & 2u)
                tb = h->b[1];
            if (y & 4u)
                crc = h->b[2] & 1u;
        } else if (t == 15 && (y & 1u)) {
            fl |= CL_ATR_F_T15_TA;
            p->classes = h->b[0] & 0x3Fu;
            p->clock_stop = h->b[0] >> 6;
        }
    }
    if ((uint8_t)(ifsc + 1u) < 2u)   /* 0 or 255 */
        fl |= CL_ATR_F_IFSC_INVALID;
    if (tb >= 0xA0u)   /* BWI 10..15 */
        fl |= CL_ATR_F_BWI_RESERVED;
    fl |= crc * CL_ATR_F_CRC;
    p->ifsc = (uint8_t)ifsc;
    p->cwi = tb & 0x0Fu;
    p->bwi = (uint8_t)(tb >> 4);

    /* Global bytes of groups 1 and 2 (§8.3). TA1 defaults to 0x11, which
     * gives Fd, Dd and 5 MHz. TD1 naming T=15 is tolerated but flagged. */
    y = atr->group[0].present;
    if ((y & 8u) && (atr->group[0].b[3] & 0x0Fu) == 15)
        fl |= CL_ATR_F_TD1_T15;
    ta1 = (y & 1u) ? atr->group[0].b[0] : 0x11u;
    if (n > 1) {
        y2 = atr->group[1].present;
        ta2 = atr->group[1].b[0];
        if (y2 & 4u) {
            p->wi = atr->group[1].b[2];
            if (p->wi == 0)
                fl |= CL_ATR_F_WI_RESERVED;
        }
    }
    fl |= (uint32_t)(y & 7u) << 1 | (uint32_t)(y2 & 7u) << 4 |
          (uint32_t)(ta2 & 0x10u) << 3 | (uint32_t)(ta2 & 0x80u) << 1;
    p->ta1 = (uint8_t)ta1;
    p->n = atr->group[0].b[2];
    p->specific_t = ta2 & 0x0Fu;
    p->fi = cl_rate_fi_table[ta1 >> 4];
    p->fmax_khz = (uint16_t)(cl_rate_fmax_500khz_table[ta1 >> 4] * 500u);
    p->di = cl_rate_di_table[ta1 & 0x0Fu];
    if (p->fi == 0 || p->di == 0)
        fl |= CL_ATR_F_RATE_RESERVED;
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
