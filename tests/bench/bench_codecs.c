/*
 * cardlink — instructions per call of the ISO 7816 codecs (issue 3 targets).
 * SPDX-License-Identifier: Apache-2.0
 *
 * The baseline in the same run is cl_lrc over the same 21 bytes: the least
 * any ATR parser must do is look at every byte once.
 */
#include <string.h>

#include "bench_util.h"
#include "cardlink/apdu.h"
#include "cardlink/atr.h"
#include "cardlink/edc.h"
#include "cardlink/pps.h"
#include "cardlink/tlv.h"

static const uint8_t atr_t01[] = {   /* the reference ATR */
    0x3B, 0xDB, 0x96, 0x00, 0x80, 0xB1, 0xFE, 0x45, 0x1F, 0x83, 0x00,
    0x31, 0xC0, 0x64, 0xC7, 0xFC, 0x10, 0x00, 0x01, 0x90, 0x00, 0x74
};

static void run_atr(unsigned long n)
{
    struct cl_atr atr;
    while (n--) {
        if (cl_atr_parse(&atr, atr_t01, sizeof(atr_t01)) != 0)
            return;
        cl_bench_sink(&atr.p, sizeof(atr.p));
    }
}

static void run_lrc(unsigned long n)
{
    while (n--) {
        uint8_t x = cl_lrc(atr_t01 + 1, sizeof(atr_t01) - 1);
        cl_bench_sink(&x, 1);
    }
}

static void run_pps(unsigned long n)
{
    static const uint8_t resp[] = { 0xFF, 0x11, 0x96, 0x78 };
    struct cl_pps req = { 0 }, acc;
    req.protocol = 1;
    req.present = CL_PPS_HAS_PPS1;
    req.fi_index = 9;
    req.di_index = 6;
    while (n--) {
        int e = cl_pps_check_response(&req, resp, sizeof(resp), &acc);
        cl_bench_sink(&e, sizeof(e));
    }
}

static void run_apdu(unsigned long n)
{
    static const uint8_t cmd[] = { 0x00, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00,
                                   0x00, 0x04, 0x10, 0x10, 0x00 };
    struct cl_apdu a;
    enum cl_apdu_case c;
    while (n--) {
        if (cl_apdu_decode(cmd, sizeof(cmd), &a, &c) != 0)
            return;
        cl_bench_sink(&a, sizeof(a));
    }
}

static void run_tlv(unsigned long n)
{
    /* EMV-style FCI: 6F { 84 AID, A5 { 50 label, 87 prio } } */
    static const uint8_t fci[] = {
        0x6F, 0x1A, 0x84, 0x07, 0xA0, 0x00, 0x00, 0x00, 0x04, 0x10, 0x10, 0xA5, 0x0F,
        0x50, 0x0A, 'M', 'a', 's', 't', 'e', 'r', 'C', 'a', 'r', 'd', 0x87, 0x01, 0x01
    };
    static const uint32_t path[] = { 0x6F, 0xA5, 0x87 };
    struct cl_tlv t;
    while (n--) {
        if (cl_tlv_find_path(fci, sizeof(fci), path, 3, &t) != 0)
            return;
        cl_bench_sink(&t, sizeof(t));
    }
}

static const struct cl_bench_case cases[] = {
    { "lrc", "baseline: cl_lrc over the ATR", "cl_lrc", run_lrc, 0, 0, 0 },
    { "atr", "cl_atr_parse (3B DB 96 ... 74)", "cl_atr_parse", run_atr, 400, 0, 0 },
    { "pps", "cl_pps_check_response (T=1, 96)", "cl_pps_check_response", run_pps, 0, 0, 0 },
    { "apdu", "cl_apdu_decode (SELECT, case 4S)", "cl_apdu_decode", run_apdu, 0, 0, 0 },
    { "tlv", "cl_tlv_find_path (6F/A5/87)", "cl_tlv_find_path", run_tlv, 0, 0, 0 },
};

int main(int argc, char **argv)
{
    return cl_bench_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
