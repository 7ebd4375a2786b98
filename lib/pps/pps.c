/*
 * cardlink — PPS request, response and rate choice (ISO 7816-3 §9).
 * SPDX-License-Identifier: Apache-2.0
 */
#include "cardlink/pps.h"

#include <string.h>

#include "cardlink/edc.h"
#include "cardlink/error.h"
#include "cardlink/rate.h"

/* see cardlink/pps.h */
size_t cl_pps_expected_len(uint8_t pps0)
{
    return CL_PPS_MIN + ((pps0 >> 4) & 1u) + ((pps0 >> 5) & 1u) + ((pps0 >> 6) & 1u);
}

/* A request we are willing to send: see cl_pps_build() for the rules. */
static int check_request(const struct cl_pps *req)
{
    if (req == NULL || req->protocol >= 15 || (req->present & ~CL_PPS_HAS_ALL) != 0)
        return CL_ERR_ARG;
    if (req->present & CL_PPS_HAS_PPS1) {
        if ((req->fi_index | req->di_index) > 15)
            return CL_ERR_ARG;
        if (cl_rate_fi(req->fi_index) == 0 || cl_rate_di(req->di_index) == 0)
            return CL_ERR_RESERVED;
    }
    return CL_OK;
}

/* Encode any struct cl_pps (already checked) and return its length. */
static size_t encode(const struct cl_pps *p, uint8_t out[CL_PPS_MAX])
{
    size_t n = 2;

    out[0] = CL_PPS_PPSS;
    out[1] = (uint8_t)(p->present | p->protocol);
    if (p->present & CL_PPS_HAS_PPS1)
        out[n++] = (uint8_t)(p->fi_index << 4 | p->di_index);
    if (p->present & CL_PPS_HAS_PPS2)
        out[n++] = p->pps2;
    if (p->present & CL_PPS_HAS_PPS3)
        out[n++] = p->pps3;
    out[n] = cl_lrc(out, n);
    return n + 1;
}

/* see cardlink/pps.h */
int cl_pps_build(const struct cl_pps *req, uint8_t out[CL_PPS_MAX], size_t *out_len)
{
    int rc = check_request(req);

    if (rc != CL_OK)
        return rc;
    if (out == NULL || out_len == NULL)
        return CL_ERR_ARG;
    *out_len = encode(req, out);
    return CL_OK;
}

/* see cardlink/pps.h */
int cl_pps_parse(const uint8_t *buf, size_t len, struct cl_pps *out)
{
    size_t want, i = 2;

    if (out == NULL || (buf == NULL && len > 0))
        return CL_ERR_ARG;
    if (len == 0)
        return CL_ERR_TRUNCATED;
    if (buf[0] != CL_PPS_PPSS)
        return CL_ERR_MALFORMED;
    if (len < 2)
        return CL_ERR_TRUNCATED;
    if (buf[1] & 0x80u)
        return CL_ERR_RESERVED;
    want = cl_pps_expected_len(buf[1]);
    if (len < want)
        return CL_ERR_TRUNCATED;
    if (len > want)
        return CL_ERR_TRAILING;
    if (cl_lrc(buf, len) != 0)
        return CL_ERR_CHECKSUM;

    /* Valid: decode straight into *out. */
    memset(out, 0, sizeof(*out));
    out->protocol = buf[1] & 0x0Fu;
    out->present = buf[1] & CL_PPS_HAS_ALL;
    if (out->present & CL_PPS_HAS_PPS1) {
        out->fi_index = buf[i] >> 4;
        out->di_index = buf[i++] & 0x0Fu;
    }
    if (out->present & CL_PPS_HAS_PPS2)
        out->pps2 = buf[i++];
    if (out->present & CL_PPS_HAS_PPS3)
        out->pps3 = buf[i];
    return CL_OK;
}

/* see cardlink/pps.h */
int cl_pps_check_response(const struct cl_pps *req, const uint8_t *resp,
                          size_t len, struct cl_pps *accepted)
{
    struct cl_pps r, e;
    uint8_t echo[CL_PPS_MAX];
    int rc = check_request(req);

    if (rc != CL_OK || accepted == NULL)
        return CL_ERR_ARG;
    rc = cl_pps_parse(resp, len, &r);
    if (rc != CL_OK)
        return rc;
    /* §9.3: b5..b7 of PPS0 either echo the request or are 0. */
    if (r.present & ~req->present)
        return CL_ERR_PROTOCOL;
    /* What remains must be the request's bytes for the parameters the card
     * kept: the request cut down to them, encoded, is the only acceptable
     * response (protocol and every kept byte echoed, hence PCK too). */
    e = *req;
    e.present = r.present;
    if (encode(&e, echo) != len || memcmp(echo, resp, len) != 0)
        return CL_ERR_PPS_REFUSED;
    if (!(r.present & CL_PPS_HAS_PPS1)) {
        r.fi_index = 1;   /* Fd = 372 */
        r.di_index = 1;   /* Dd = 1 */
    }
    *accepted = r;
    return CL_OK;
}

static bool reader_has(const struct cl_pps_reader_caps *caps, uint16_t f, uint8_t d)
{
    size_t i;

    if (caps->any)
        return true;
    for (i = 0; i < caps->n_pairs; i++)
        if (caps->pairs[i].f == f && caps->pairs[i].d == d)
            return true;
    return false;
}

/* see cardlink/pps.h */
int cl_pps_pick_rate(uint8_t ta1, const struct cl_pps_reader_caps *caps,
                     struct cl_pps_rate *out)
{
    uint8_t fi_idx = ta1 >> 4, di_card = cl_rate_di(ta1 & 0x0Fu), i;
    uint16_t f = cl_rate_fi(fi_idx);
    uint32_t clock, baud;

    if (caps == NULL || out == NULL || caps->max_clock_khz == 0 ||
        (caps->pairs == NULL && caps->n_pairs > 0))
        return CL_ERR_ARG;
    if (f == 0 || di_card == 0) {   /* reserved: as if TA1 were absent */
        fi_idx = 1;
        f = CL_RATE_FD;
        di_card = CL_RATE_DD;
    }
    clock = cl_rate_fmax_khz(fi_idx);
    if (clock > caps->max_clock_khz)
        clock = caps->max_clock_khz;

    out->pps_needed = false;
    out->fi_index = 1;
    out->di_index = 1;
    out->clock_khz = clock;
    out->baud = cl_rate_baud(clock, CL_RATE_FD, CL_RATE_DD);

    for (i = 1; i < 16; i++) {
        uint8_t d = cl_rate_di(i);

        if (d == 0 || d > di_card || !reader_has(caps, f, d))
            continue;
        baud = cl_rate_baud(clock, f, d);
        if (baud <= out->baud || (caps->max_baud != 0 && baud > caps->max_baud))
            continue;
        out->pps_needed = true;
        out->fi_index = fi_idx;
        out->di_index = i;
        out->baud = baud;
    }
    return CL_OK;
}
