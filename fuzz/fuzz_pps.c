/*
 * cardlink — libFuzzer target for the PPS module (ISO 7816-3 §9).
 * SPDX-License-Identifier: Apache-2.0
 *
 * The first byte selects what is exercised (its value modulo 3):
 *   0  cl_pps_parse() of the rest; a message that parses and builds must
 *      re-build to exactly the input bytes.
 *   1  cl_pps_check_response(): bytes 1..4 make the request (PPS0-like byte
 *      giving presence bits and T, then PPS1, PPS2, PPS3), the rest is the
 *      card's response; the verdict is cross-checked against cl_pps_parse()
 *      and the §9.3 rules, and the echo of the request must be accepted.
 *   2  cl_pps_pick_rate(): byte 1 is TA1, 2..4 max baud, 5..6 max clock in
 *      kHz, 7 bit 0 'any', then (F high, F low, D) triplets for the reader's
 *      list; the choice is checked against an exhaustive search.
 * Any inconsistency aborts.
 */
#include <stdlib.h>
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/pps.h"
#include "cardlink/rate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void fuzz_parse(const uint8_t *buf, size_t len)
{
    struct cl_pps p;
    uint8_t out[CL_PPS_MAX];
    size_t n;
    int rc = cl_pps_parse(buf, len, &p);

    if (rc != CL_OK) {
        CHECK(rc == CL_ERR_TRUNCATED || rc == CL_ERR_MALFORMED || rc == CL_ERR_RESERVED ||
              rc == CL_ERR_TRAILING || rc == CL_ERR_CHECKSUM);
        return;
    }
    CHECK(len >= CL_PPS_MIN && len <= CL_PPS_MAX && len == cl_pps_expected_len(buf[1]));
    CHECK(p.protocol <= 15 && (p.present & ~CL_PPS_HAS_ALL) == 0);
    rc = cl_pps_build(&p, out, &n);
    if (rc == CL_OK) {
        CHECK(n == len && memcmp(out, buf, len) == 0);
    } else if (rc == CL_ERR_RESERVED) {
        CHECK((p.present & CL_PPS_HAS_PPS1) &&
              (cl_rate_fi(p.fi_index) == 0 || cl_rate_di(p.di_index) == 0));
    } else {
        CHECK(rc == CL_ERR_ARG && p.protocol == 15);
    }
}

static void fuzz_check(const uint8_t *data, size_t size)
{
    struct cl_pps req, acc, parsed;
    uint8_t out[CL_PPS_MAX];
    size_t n;
    int rc, prc, brc;

    if (size < 5)
        return;
    req.present = data[1] & CL_PPS_HAS_ALL;
    req.protocol = data[1] & 0x0Fu;
    req.fi_index = data[2] >> 4;
    req.di_index = data[2] & 0x0Fu;
    req.pps2 = data[3];
    req.pps3 = data[4];
    data += 5;
    size -= 5;

    brc = cl_pps_build(&req, out, &n);
    rc = cl_pps_check_response(&req, data, size, &acc);
    if (brc != CL_OK) {
        CHECK(rc == CL_ERR_ARG);
        return;
    }
    /* The card echoing the whole request is the full success. */
    CHECK(cl_pps_check_response(&req, out, n, &parsed) == CL_OK);
    CHECK(memcmp(&parsed, &req, sizeof(req)) == 0 || (req.present != CL_PPS_HAS_ALL));
    CHECK(parsed.present == req.present && parsed.protocol == req.protocol);

    prc = cl_pps_parse(data, size, &parsed);
    if (prc != CL_OK) {
        CHECK(rc == prc);
        return;
    }
    if (rc == CL_ERR_PROTOCOL) {
        CHECK((parsed.present & ~req.present) != 0);
        return;
    }
    CHECK((parsed.present & ~req.present) == 0);
    if (rc == CL_ERR_PPS_REFUSED) {
        CHECK(parsed.protocol != req.protocol ||
              ((parsed.present & CL_PPS_HAS_PPS1) &&
               (parsed.fi_index != req.fi_index || parsed.di_index != req.di_index)) ||
              ((parsed.present & CL_PPS_HAS_PPS2) && parsed.pps2 != req.pps2) ||
              ((parsed.present & CL_PPS_HAS_PPS3) && parsed.pps3 != req.pps3));
        return;
    }
    CHECK(rc == CL_OK);
    CHECK(acc.protocol == req.protocol && acc.present == parsed.present);
    if (acc.present & CL_PPS_HAS_PPS1)
        CHECK(acc.fi_index == req.fi_index && acc.di_index == req.di_index);
    else
        CHECK(acc.fi_index == 1 && acc.di_index == 1);
    CHECK(!(acc.present & CL_PPS_HAS_PPS2) || acc.pps2 == req.pps2);
    CHECK(!(acc.present & CL_PPS_HAS_PPS3) || acc.pps3 == req.pps3);
    /* What was accepted, re-built, is the response itself. */
    CHECK(cl_pps_build(&acc, out, &n) == CL_OK);
    CHECK(n == size && memcmp(out, data, size) == 0);
}

#define MAX_PAIRS 16

static void fuzz_pick(const uint8_t *data, size_t size)
{
    struct cl_pps_fd pairs[MAX_PAIRS];
    struct cl_pps_reader_caps caps;
    struct cl_pps_rate r;
    struct cl_pps req;
    uint8_t ta1, fi_idx, dmax, out[CL_PPS_MAX];
    uint16_t f;
    uint32_t clock, best, dflt;
    size_t i, n, np = 0;
    int rc, j;

    if (size < 8)
        return;
    ta1 = data[1];
    memset(&caps, 0, sizeof(caps));
    caps.max_baud = (uint32_t)data[2] << 16 | (uint32_t)data[3] << 8 | data[4];
    caps.max_clock_khz = (uint32_t)data[5] << 8 | data[6];
    caps.any = data[7] & 1u;
    for (i = 8; i + 3 <= size && np < MAX_PAIRS; i += 3, np++) {
        pairs[np].f = (uint16_t)(data[i] << 8 | data[i + 1]);
        pairs[np].d = data[i + 2];
    }
    caps.pairs = np ? pairs : NULL;
    caps.n_pairs = np;

    rc = cl_pps_pick_rate(ta1, &caps, &r);
    if (caps.max_clock_khz == 0) {
        CHECK(rc == CL_ERR_ARG);
        return;
    }
    CHECK(rc == CL_OK);

    /* Independent model: TA1 with an RFU index counts as absent. */
    fi_idx = ta1 >> 4;
    f = cl_rate_fi(fi_idx);
    dmax = cl_rate_di(ta1 & 0x0Fu);
    if (f == 0 || dmax == 0) {
        fi_idx = 1;
        f = 372;
        dmax = 1;
    }
    clock = cl_rate_fmax_khz(fi_idx);
    if (caps.max_clock_khz < clock)
        clock = caps.max_clock_khz;
    CHECK(r.clock_khz == clock);
    dflt = cl_rate_baud(clock, 372, 1);
    best = dflt;
    for (j = 1; j < 16; j++) {
        uint8_t d = cl_rate_di((uint8_t)j);
        uint32_t b = cl_rate_baud(clock, f, d);
        bool ok = caps.any;

        for (i = 0; i < np && !ok; i++)
            ok = pairs[i].f == f && pairs[i].d == d;
        if (d != 0 && d <= dmax && ok && (caps.max_baud == 0 || b <= caps.max_baud) && b > best)
            best = b;
    }
    CHECK(r.baud == best);
    CHECK(r.pps_needed == (best > dflt));
    if (!r.pps_needed) {
        CHECK(r.fi_index == 1 && r.di_index == 1);
        return;
    }
    CHECK(r.fi_index == fi_idx && cl_rate_di(r.di_index) <= dmax);
    CHECK(cl_rate_baud(clock, f, cl_rate_di(r.di_index)) == r.baud);
    /* The choice makes a valid request. */
    memset(&req, 0, sizeof(req));
    req.protocol = 1;
    req.present = CL_PPS_HAS_PPS1;
    req.fi_index = r.fi_index;
    req.di_index = r.di_index;
    CHECK(cl_pps_build(&req, out, &n) == CL_OK && n == 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] % 3) {
    case 0: fuzz_parse(data + 1, size - 1); break;
    case 1: fuzz_check(data, size); break;
    default: fuzz_pick(data, size); break;
    }
    return 0;
}
