/*
 * cardlink — libFuzzer target: ATR parser, length predictor and builder.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The whole input is one ATR (direct convention). Cross-checks, abort() on
 * any disagreement:
 *  - cl_atr_expected_len() agrees with cl_atr_parse(): complete exactly at
 *    the parsed length, ahead of every prefix, and a structural verdict that
 *    matches the parser's error;
 *  - an accepted ATR is internally consistent (length, groups, historical
 *    bytes inside raw, protocols distinct and in range);
 *  - its parameters, rebuilt with cl_atr_build() and parsed again, come back
 *    the same;
 *  - the inverse-convention decoder is an involution;
 *  - cl_atr_parse_lenient() agrees with cl_atr_parse() where that accepts
 *    (no warning), and where it refuses gives an ATR whose raw bytes are a
 *    prefix of the input, internally consistent, with a warning that names
 *    why.
 */
#include <stdlib.h>
#include <string.h>

#include "cardlink/atr.h"
#include "cardlink/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void check_accepted(const struct cl_atr *a, const uint8_t *data, size_t size)
{
    unsigned i, tck = (a->p.flags & CL_ATR_F_TCK) ? 1u : 0u;
    uint16_t seen = 0;

    CHECK(size <= CL_ATR_MAX && a->len == size && memcmp(a->raw, data, size) == 0);
    CHECK(a->hist_len <= CL_ATR_HIST_MAX && a->hist_off >= 2);
    CHECK((size_t)a->hist_off + a->hist_len + tck == size);
    CHECK(a->ngroups >= 1 && a->ngroups <= CL_ATR_GROUPS_MAX);
    for (i = 0; i < a->ngroups; i++) {
        CHECK(((a->group[i].present >> CL_ATR_TD) & 1u) == (i + 1u < a->ngroups));
        CHECK(a->group[i].present <= 15);
    }
    CHECK(a->nproto >= 1 && a->nproto <= 15);
    for (i = 0; i < a->nproto; i++) {
        CHECK(a->proto[i] < 15 && !(seen & (1u << a->proto[i])));
        seen |= (uint16_t)(1u << a->proto[i]);
        CHECK(a->t_mask & (1u << a->proto[i]));
    }
    CHECK((a->t_mask & 0x7FFFu) == seen);
    CHECK(tck == ((a->t_mask & 0xFFFEu) != 0));
    CHECK(!!(a->p.flags & CL_ATR_F_INVERSE) == (data[0] == 0x3F));
    CHECK(cl_atr_ib(a, 1, CL_ATR_TA) == ((a->p.flags & CL_ATR_F_TA1) ? a->p.ta1 : CL_ERR_NOT_FOUND));
    CHECK(cl_atr_ib(a, a->ngroups, CL_ATR_TD) == CL_ERR_NOT_FOUND);
    CHECK(cl_atr_ib(a, a->ngroups + 1u, CL_ATR_TA) == CL_ERR_NOT_FOUND);
    if (!(a->p.flags & CL_ATR_F_RATE_RESERVED))
        CHECK(a->p.fi && a->p.di && a->p.fmax_khz);
}

/* Flags the rebuilt ATR may not reproduce: bytes the builder does not emit
 * (TB1, TB2, invalid values, TD1 naming T=15, class 0), and TCK, which
 * follows the protocols offered. */
#define IGNORED (CL_ATR_F_TB1 | CL_ATR_F_TB2 | CL_ATR_F_TC2 | CL_ATR_F_WI_RESERVED | \
                 CL_ATR_F_IFSC_INVALID | CL_ATR_F_TD1_T15 | CL_ATR_F_TCK | CL_ATR_F_T15_TA)

/* Rebuild what the builder can express and compare the parameters. */
static void check_rebuild(const struct cl_atr *a)
{
    struct cl_atr_build_spec s;
    struct cl_atr b;
    uint8_t out[CL_ATR_MAX];
    size_t len, hl;
    const uint8_t *h = cl_atr_hist(a, &hl);
    const struct cl_atr_params *p = &a->p;
    bool t0 = (a->t_mask & 1u) != 0, t1 = (a->t_mask & 2u) != 0;
    int rc;

    memset(&s, 0, sizeof(s));
    if (p->flags & CL_ATR_F_INVERSE)
        s.opts |= CL_ATR_B_INVERSE;
    if (p->flags & CL_ATR_F_TA1) {
        s.opts |= CL_ATR_B_TA1;
        s.ta1 = p->ta1;
    }
    if (p->flags & CL_ATR_F_TC1) {
        s.opts |= CL_ATR_B_TC1;
        s.n = p->n;
    }
    if ((p->flags & CL_ATR_F_TC2) && !(p->flags & CL_ATR_F_WI_RESERVED)) {
        s.opts |= CL_ATR_B_TC2;
        s.wi = p->wi;
    }
    if (p->flags & CL_ATR_F_SPECIFIC) {
        s.opts |= CL_ATR_B_TA2;
        s.ta2 = cl_atr_ib(a, 2, CL_ATR_TA) & 0xFF;
    }
    if (t0)
        s.opts |= CL_ATR_B_T0;
    if (t1) {
        s.opts |= CL_ATR_B_T1 | CL_ATR_B_T1_TB;
        s.cwi = p->cwi;
        s.bwi = p->bwi;
        if (!(p->flags & CL_ATR_F_IFSC_INVALID)) {
            s.opts |= CL_ATR_B_IFSC;
            s.ifsc = p->ifsc;
        }
        if (p->flags & CL_ATR_F_CRC)
            s.opts |= CL_ATR_B_CRC;
    }
    if ((p->flags & CL_ATR_F_T15_TA) && p->classes != 0) {
        s.opts |= CL_ATR_B_T15;
        s.classes = p->classes;
        s.clock_stop = p->clock_stop;
    }
    s.hist_len = (uint8_t)hl;
    memcpy(s.hist, h, hl);
    rc = cl_atr_build(&s, out, sizeof(out), &len);
    CHECK(rc == CL_OK);
    CHECK(cl_atr_expected_len(out, len) == (int)len);
    CHECK(cl_atr_parse(&b, out, len) == CL_OK);
    CHECK(b.p.fi == p->fi && b.p.di == p->di && b.p.fmax_khz == p->fmax_khz);
    CHECK(b.p.ta1 == p->ta1 && b.p.n == p->n);
    CHECK(b.p.wi == ((p->flags & CL_ATR_F_WI_RESERVED) ? 10 : p->wi));
    CHECK(b.p.specific_t == p->specific_t);
    CHECK(!(t1 && !(p->flags & CL_ATR_F_IFSC_INVALID)) || b.p.ifsc == p->ifsc);
    CHECK(b.p.cwi == p->cwi && b.p.bwi == p->bwi);
    CHECK((b.p.flags & ~IGNORED) == (p->flags & ~IGNORED));
    if (s.opts & CL_ATR_B_T15)
        CHECK(b.p.classes == p->classes && b.p.clock_stop == p->clock_stop);
    CHECK(b.hist_len == hl && memcmp(b.raw + b.hist_off, h, hl) == 0);
    CHECK(!t0 || b.proto[0] == 0);
    CHECK((b.t_mask & 3u) == ((a->t_mask & 3u) ? (a->t_mask & 3u) : 1u));
}

/* The lenient decode against the strict verdict rc. */
static void check_lenient(const uint8_t *data, size_t size, int rc, const struct cl_atr *strict)
{
    struct cl_atr l;
    unsigned w = 0xFFu;
    int lr = cl_atr_parse_lenient(&l, data, size, &w);

    if (rc == CL_OK) {
        CHECK(lr == CL_OK && w == 0);
        CHECK(memcmp(&l.p, &strict->p, sizeof(l.p)) == 0 && l.len == strict->len);
        return;
    }
    if (lr != CL_OK) {
        CHECK(w == 0);
        CHECK(lr == CL_ERR_BAD_TS || lr == CL_ERR_TRUNCATED || lr == CL_ERR_TOO_LONG);
        CHECK(lr != CL_ERR_BAD_TS || rc == CL_ERR_BAD_TS);
        return;
    }
    CHECK(w != 0 && (w & ~0x0Fu) == 0);
    CHECK(l.len >= 2 && l.len <= size && l.len <= CL_ATR_MAX && memcmp(l.raw, data, l.len) == 0);
    CHECK((size_t)l.hist_off + l.hist_len <= l.len);
    CHECK(l.hist_len <= (data[1] & 0x0Fu));
    CHECK(!(w & CL_ATR_W_TRAILING) == (l.len == size));
    CHECK(!(w & CL_ATR_W_HIST_SHORT) == (l.hist_len == (data[1] & 0x0Fu)));
    CHECK(!(w & CL_ATR_W_TCK_MISSING) || !(l.p.flags & CL_ATR_F_TCK));
    CHECK(!(w & CL_ATR_W_TCK_WRONG) || (l.p.flags & CL_ATR_F_TCK));
    CHECK(rc != CL_ERR_CHECKSUM || w == CL_ATR_W_TCK_WRONG);
    CHECK(rc != CL_ERR_MISSING_TCK || w == CL_ATR_W_TCK_MISSING);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cl_atr a;
    int rc = cl_atr_parse(&a, data, size);
    int e = cl_atr_expected_len(data, size);
    uint8_t copy[CL_ATR_MAX];
    size_t k;

    check_lenient(data, size, rc, &a);
    if (rc == CL_OK) {
        check_accepted(&a, data, size);
        CHECK(e == (int)size);
        for (k = 0; k < size; k++) {
            int ek = cl_atr_expected_len(data, k);

            CHECK(ek > (int)k && ek <= (int)size);
        }
        check_rebuild(&a);
        memcpy(copy, data, size);
        cl_atr_decode_inverse(copy, size);
        cl_atr_decode_inverse(copy, size);
        CHECK(memcmp(copy, data, size) == 0);
        {
            struct cl_atr_hist_info h;
            size_t hl;
            const uint8_t *hb = cl_atr_hist(&a, &hl);

            int hr = cl_atr_hist_parse(&h, hb, hl);

            CHECK(hr != CL_ERR_ARG && hr != CL_ERR_TOO_LONG);
            CHECK(hr != CL_ERR_NOT_FOUND || hl == 0);
        }
        return 0;
    }
    /* The predictor's verdict must match the parser's. */
    switch (rc) {
    case CL_ERR_BAD_TS:
        CHECK(e == CL_ERR_BAD_TS);
        break;
    case CL_ERR_TRUNCATED:
    case CL_ERR_MISSING_TCK:
        CHECK(e == CL_ERR_TOO_LONG || e > (int)size);
        break;
    case CL_ERR_TRAILING:
        CHECK(e > 0 && e < (int)size);
        break;
    case CL_ERR_CHECKSUM:
        CHECK(e == (int)size);
        break;
    case CL_ERR_TOO_LONG:
        CHECK(size > CL_ATR_MAX);
        break;
    default:
        abort();
    }
    return 0;
}
