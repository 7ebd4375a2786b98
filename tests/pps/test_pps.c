/*
 * cardlink — PPS (ISO 7816-3 §9): build, parse, response echo rules, rate
 * choice. PCK values computed with an independent model (Python XOR).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/pps.h"
#include "test_util.h"

#define P1 CL_PPS_HAS_PPS1
#define P2 CL_PPS_HAS_PPS2
#define P3 CL_PPS_HAS_PPS3

/* ------------------------------------------------------------ expected_len */

/* §9.2: PPSS, PPS0, PCK plus one byte per b5, b6, b7 of PPS0; b8 reserved. */
static const struct {
    uint8_t pps0;
    size_t len;
} len_vectors[] = {
    { 0x00, 3 }, { 0x01, 3 }, { 0x0F, 3 }, { 0x10, 4 }, { 0x20, 4 }, { 0x40, 4 },
    { 0x30, 5 }, { 0x50, 5 }, { 0x60, 5 }, { 0x70, 6 }, { 0x80, 3 }, { 0xFF, 6 },
};

START_TEST(test_expected_len)
{
    ck_assert_uint_eq(cl_pps_expected_len(len_vectors[_i].pps0), len_vectors[_i].len);
}
END_TEST

/* ------------------------------------------------------------------- build */

/* §9.2 requests: PPS0 = presence bits | T, PPS1 = Fi index << 4 | Di index,
 * PCK = XOR of all other bytes. */
static const struct {
    const char *what;
    uint8_t protocol, present, fi, di, pps2, pps3;
    int rc;
    const char *hex;
} build_vectors[] = {
    { "T=1 Fi=512 Di=8 (TA1 94)", 1, P1, 9, 4, 0, 0, CL_OK, "FF 11 94 7A" },
    { "T=0 only", 0, 0, 0, 0, 0, 0, CL_OK, "FF 00 FF" },
    { "T=1 only", 1, 0, 0, 0, 0, 0, CL_OK, "FF 01 FE" },
    { "T=0 Fi=372 Di=4 (TA1 13)", 0, P1, 1, 3, 0, 0, CL_OK, "FF 10 13 FC" },
    { "T=1 Fi=372 Di=12 (TA1 18)", 1, P1, 1, 8, 0, 0, CL_OK, "FF 11 18 F6" },
    { "T=1 PPS1 96 PPS2 00", 1, P1 | P2, 9, 6, 0x00, 0, CL_OK, "FF 31 96 00 58" },
    { "T=0 PPS1 PPS2 PPS3", 0, P1 | P2 | P3, 9, 7, 0x01, 0xAA, CL_OK, "FF 70 97 01 AA B3" },
    { "T=1 PPS2 only", 1, P2, 0, 0, 0x02, 0, CL_OK, "FF 21 02 DC" },
    { "T=0 PPS3 only", 0, P3, 0, 0, 0, 0x05, CL_OK, "FF 40 05 BA" },
    { "T=14", 14, 0, 0, 0, 0, 0, CL_OK, "FF 0E F1" },
    { "reserved Fi ignored without PPS1", 1, 0, 7, 0, 0, 0, CL_OK, "FF 01 FE" },
    { "T=15 is no protocol (8.2.3)", 15, 0, 0, 0, 0, 0, CL_ERR_ARG, NULL },
    { "T=16", 16, 0, 0, 0, 0, 0, CL_ERR_ARG, NULL },
    { "flag b8", 0, 0x80, 0, 0, 0, 0, CL_ERR_ARG, NULL },
    { "flag in low nibble", 0, 0x01, 0, 0, 0, 0, CL_ERR_ARG, NULL },
    { "Fi index 16", 0, P1, 16, 1, 0, 0, CL_ERR_ARG, NULL },
    { "Di index 16", 0, P1, 1, 16, 0, 0, CL_ERR_ARG, NULL },
    { "Fi index 7 RFU", 0, P1, 7, 1, 0, 0, CL_ERR_RESERVED, NULL },
    { "Fi index 8 RFU", 0, P1, 8, 1, 0, 0, CL_ERR_RESERVED, NULL },
    { "Fi index 14 RFU", 0, P1, 14, 1, 0, 0, CL_ERR_RESERVED, NULL },
    { "Fi index 15 RFU", 0, P1, 15, 1, 0, 0, CL_ERR_RESERVED, NULL },
    { "Di index 0 RFU", 0, P1, 1, 0, 0, 0, CL_ERR_RESERVED, NULL },
    { "Di index 10 RFU", 0, P1, 1, 10, 0, 0, CL_ERR_RESERVED, NULL },
    { "Di index 15 RFU", 0, P1, 1, 15, 0, 0, CL_ERR_RESERVED, NULL },
};

static struct cl_pps mk(uint8_t protocol, uint8_t present, uint8_t fi, uint8_t di,
                        uint8_t pps2, uint8_t pps3)
{
    struct cl_pps p;

    p.protocol = protocol;
    p.present = present;
    p.fi_index = fi;
    p.di_index = di;
    p.pps2 = pps2;
    p.pps3 = pps3;
    return p;
}

START_TEST(test_build)
{
    struct cl_pps req = mk(build_vectors[_i].protocol, build_vectors[_i].present,
                           build_vectors[_i].fi, build_vectors[_i].di,
                           build_vectors[_i].pps2, build_vectors[_i].pps3);
    uint8_t out[CL_PPS_MAX];
    size_t n = 99;
    int rc = cl_pps_build(&req, out, &n);

    ck_assert_msg(rc == build_vectors[_i].rc, "%s: rc %d want %d", build_vectors[_i].what,
                  rc, build_vectors[_i].rc);
    if (rc != CL_OK) {
        ck_assert_uint_eq(n, 99);   /* untouched on error */
        return;
    }
    cl_assert_bytes(out, n, build_vectors[_i].hex);
}
END_TEST

/* Every request that builds parses back to itself (the fields it carries)
 * and, echoed whole by the card, is fully accepted (§9.3). */
START_TEST(test_build_roundtrip)
{
    struct cl_pps req = mk(build_vectors[_i].protocol, build_vectors[_i].present,
                           build_vectors[_i].fi, build_vectors[_i].di,
                           build_vectors[_i].pps2, build_vectors[_i].pps3);
    struct cl_pps back, acc;
    uint8_t out[CL_PPS_MAX];
    size_t n;

    if (build_vectors[_i].rc != CL_OK)
        return;
    ck_assert_int_eq(cl_pps_build(&req, out, &n), CL_OK);
    ck_assert_uint_eq(n, cl_pps_expected_len(out[1]));
    ck_assert_int_eq(cl_pps_parse(out, n, &back), CL_OK);
    ck_assert_uint_eq(back.protocol, req.protocol);
    ck_assert_uint_eq(back.present, req.present);
    if (req.present & P1) {
        ck_assert_uint_eq(back.fi_index, req.fi_index);
        ck_assert_uint_eq(back.di_index, req.di_index);
    }
    if (req.present & P2)
        ck_assert_uint_eq(back.pps2, req.pps2);
    if (req.present & P3)
        ck_assert_uint_eq(back.pps3, req.pps3);
    ck_assert_int_eq(cl_pps_check_response(&req, out, n, &acc), CL_OK);
    ck_assert_uint_eq(acc.present, req.present);
    ck_assert_uint_eq(acc.protocol, req.protocol);
}
END_TEST

START_TEST(test_build_null)
{
    struct cl_pps req = mk(1, 0, 0, 0, 0, 0);
    uint8_t out[CL_PPS_MAX];
    size_t n;

    ck_assert_int_eq(cl_pps_build(NULL, out, &n), CL_ERR_ARG);
    ck_assert_int_eq(cl_pps_build(&req, NULL, &n), CL_ERR_ARG);
    ck_assert_int_eq(cl_pps_build(&req, out, NULL), CL_ERR_ARG);
    /* indices are 4 bits: 16 is no index (not a reserved one) */
    req = mk(1, CL_PPS_HAS_PPS1, 16, 0, 0, 0);
    ck_assert_int_eq(cl_pps_build(&req, out, &n), CL_ERR_ARG);
    req = mk(1, CL_PPS_HAS_PPS1, 0, 16, 0, 0);
    ck_assert_int_eq(cl_pps_build(&req, out, &n), CL_ERR_ARG);
    req = mk(1, CL_PPS_HAS_PPS1, 15, 1, 0, 0);
    ck_assert_int_eq(cl_pps_build(&req, out, &n), CL_ERR_RESERVED);
}
END_TEST

/* ------------------------------------------------------------------- parse */

static const struct {
    const char *what;
    const char *hex;
    int rc;
    uint8_t protocol, present, fi, di, pps2, pps3;
} parse_vectors[] = {
    { "T=1 PPS1 94", "FF 11 94 7A", CL_OK, 1, P1, 9, 4, 0, 0 },
    { "T=0 bare", "FF 00 FF", CL_OK, 0, 0, 0, 0, 0, 0 },
    { "all three", "FF 70 97 01 AA B3", CL_OK, 0, P1 | P2 | P3, 9, 7, 0x01, 0xAA },
    { "PPS2 and PPS3", "FF 60 01 AA 34", CL_OK, 0, P2 | P3, 0, 0, 0x01, 0xAA },
    { "PPS3 only", "FF 40 05 BA", CL_OK, 0, P3, 0, 0, 0, 0x05 },
    { "T=15 is format-valid", "FF 0F F0", CL_OK, 15, 0, 0, 0, 0, 0 },
    { "reserved Fi is format-valid", "FF 10 78 97", CL_OK, 0, P1, 7, 8, 0, 0 },
    { "empty", "", CL_ERR_TRUNCATED, 0, 0, 0, 0, 0, 0 },
    { "PPSS only", "FF", CL_ERR_TRUNCATED, 0, 0, 0, 0, 0, 0 },
    { "PPSS 00", "00", CL_ERR_MALFORMED, 0, 0, 0, 0, 0, 0 },
    { "PPSS FE", "FE 01 FF", CL_ERR_MALFORMED, 0, 0, 0, 0, 0, 0 },
    { "PPSS wrong, rest valid", "00 11 94 7A", CL_ERR_MALFORMED, 0, 0, 0, 0, 0, 0 },
    { "no PCK", "FF 11 94", CL_ERR_TRUNCATED, 0, 0, 0, 0, 0, 0 },
    { "no PPS1", "FF 11", CL_ERR_TRUNCATED, 0, 0, 0, 0, 0, 0 },
    { "PPS0 says 6, got 3", "FF 7F 80", CL_ERR_TRUNCATED, 0, 0, 0, 0, 0, 0 },
    { "extra byte", "FF 11 94 7A 00", CL_ERR_TRAILING, 0, 0, 0, 0, 0, 0 },
    { "extra byte bare", "FF 00 FF FF", CL_ERR_TRAILING, 0, 0, 0, 0, 0, 0 },
    { "bad PCK", "FF 11 94 7B", CL_ERR_CHECKSUM, 0, 0, 0, 0, 0, 0 },
    { "bad PCK bare", "FF 00 00", CL_ERR_CHECKSUM, 0, 0, 0, 0, 0, 0 },
    { "PPS0 b8 set", "FF 91 94 FA", CL_ERR_RESERVED, 0, 0, 0, 0, 0, 0 },
    { "PPS0 b8 set, short", "FF 80", CL_ERR_RESERVED, 0, 0, 0, 0, 0, 0 },
};

START_TEST(test_parse)
{
    uint8_t buf[16];
    int n = cl_test_hex(parse_vectors[_i].hex, buf, sizeof(buf));
    struct cl_pps p = mk(0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE);
    int rc;

    ck_assert_int_ge(n, 0);
    rc = cl_pps_parse(n ? buf : NULL, (size_t)n, &p);
    ck_assert_msg(rc == parse_vectors[_i].rc, "%s: rc %d want %d", parse_vectors[_i].what,
                  rc, parse_vectors[_i].rc);
    if (rc != CL_OK) {
        ck_assert_uint_eq(p.protocol, 0xEE);   /* untouched on error */
        return;
    }
    ck_assert_uint_eq(p.protocol, parse_vectors[_i].protocol);
    ck_assert_uint_eq(p.present, parse_vectors[_i].present);
    ck_assert_uint_eq(p.fi_index, parse_vectors[_i].fi);
    ck_assert_uint_eq(p.di_index, parse_vectors[_i].di);
    ck_assert_uint_eq(p.pps2, parse_vectors[_i].pps2);
    ck_assert_uint_eq(p.pps3, parse_vectors[_i].pps3);
}
END_TEST

START_TEST(test_parse_null)
{
    uint8_t buf[3] = { 0xFF, 0x00, 0xFF };
    struct cl_pps p;

    ck_assert_int_eq(cl_pps_parse(buf, 3, NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_pps_parse(NULL, 3, &p), CL_ERR_ARG);
    ck_assert_int_eq(cl_pps_parse(NULL, 0, &p), CL_ERR_TRUNCATED);
}
END_TEST

/* -------------------------------------------------------- check_response */

/* Requests the echo cases refer to. */
static const struct cl_pps echo_reqs[] = {
    /* A: T=1, PPS1 = 94 (FF 11 94 7A) */
    { 1, P1, 9, 4, 0, 0 },
    /* B: T=0, PPS1 = 97, PPS2 = 01, PPS3 = AA (FF 70 97 01 AA B3) */
    { 0, P1 | P2 | P3, 9, 7, 0x01, 0xAA },
    /* C: T=0 only (FF 00 FF) */
    { 0, 0, 0, 0, 0, 0 },
};

/* ISO 7816-3 §9.3: PPSS and the protocol echoed; each of PPS1..PPS3 either
 * echoed or absent (PPS1 absent: Fd, Dd); never present unrequested. */
static const struct {
    const char *what;
    int req;
    const char *resp;
    int rc;
    uint8_t present, fi, di, pps2, pps3;   /* accepted, on CL_OK */
} echo_vectors[] = {
    { "A full echo", 0, "FF 11 94 7A", CL_OK, P1, 9, 4, 0, 0 },
    { "A PPS1 absent: Fd Dd", 0, "FF 01 FE", CL_OK, 0, 1, 1, 0, 0 },
    { "A other protocol", 0, "FF 10 94 7B", CL_ERR_PPS_REFUSED, 0, 0, 0, 0, 0 },
    { "A other protocol, no PPS1", 0, "FF 00 FF", CL_ERR_PPS_REFUSED, 0, 0, 0, 0, 0 },
    { "A other Di", 0, "FF 11 95 7B", CL_ERR_PPS_REFUSED, 0, 0, 0, 0, 0 },
    { "A PPS1 = default, not echo", 0, "FF 11 11 FF", CL_ERR_PPS_REFUSED, 0, 0, 0, 0, 0 },
    { "A PPS2 unrequested", 0, "FF 31 94 00 5A", CL_ERR_PROTOCOL, 0, 0, 0, 0, 0 },
    { "A PPS3 unrequested", 0, "FF 51 94 00 3A", CL_ERR_PROTOCOL, 0, 0, 0, 0, 0 },
    { "A unrequested beats protocol", 0, "FF 20 00 DF", CL_ERR_PROTOCOL, 0, 0, 0, 0, 0 },
    { "A bad PCK", 0, "FF 11 94 7B", CL_ERR_CHECKSUM, 0, 0, 0, 0, 0 },
    { "A truncated", 0, "FF 11 94", CL_ERR_TRUNCATED, 0, 0, 0, 0, 0 },
    { "A empty", 0, "", CL_ERR_TRUNCATED, 0, 0, 0, 0, 0 },
    { "A trailing", 0, "FF 11 94 7A 00", CL_ERR_TRAILING, 0, 0, 0, 0, 0 },
    { "A PPSS not echoed", 0, "00 11 94 7A", CL_ERR_MALFORMED, 0, 0, 0, 0, 0 },
    { "A PPS0 b8", 0, "FF 91 94 FA", CL_ERR_RESERVED, 0, 0, 0, 0, 0 },
    { "B full echo", 1, "FF 70 97 01 AA B3", CL_OK, P1 | P2 | P3, 9, 7, 0x01, 0xAA },
    { "B PPS1 only", 1, "FF 10 97 78", CL_OK, P1, 9, 7, 0, 0 },
    { "B PPS2 PPS3 only", 1, "FF 60 01 AA 34", CL_OK, P2 | P3, 1, 1, 0x01, 0xAA },
    { "B PPS2 only", 1, "FF 20 01 DE", CL_OK, P2, 1, 1, 0x01, 0 },
    { "B nothing", 1, "FF 00 FF", CL_OK, 0, 1, 1, 0, 0 },
    { "B other PPS2", 1, "FF 30 97 00 58", CL_ERR_PPS_REFUSED, 0, 0, 0, 0, 0 },
    { "B other PPS3", 1, "FF 70 97 01 AB B2", CL_ERR_PPS_REFUSED, 0, 0, 0, 0, 0 },
    { "B other protocol", 1, "FF 01 FE", CL_ERR_PPS_REFUSED, 0, 0, 0, 0, 0 },
    { "C echo", 2, "FF 00 FF", CL_OK, 0, 1, 1, 0, 0 },
    { "C PPS1 unrequested", 2, "FF 10 11 FE", CL_ERR_PROTOCOL, 0, 0, 0, 0, 0 },
    { "C other protocol", 2, "FF 01 FE", CL_ERR_PPS_REFUSED, 0, 0, 0, 0, 0 },
    { "C T=15 answer", 2, "FF 0F F0", CL_ERR_PPS_REFUSED, 0, 0, 0, 0, 0 },
};

START_TEST(test_echo)
{
    uint8_t buf[16];
    int n = cl_test_hex(echo_vectors[_i].resp, buf, sizeof(buf));
    struct cl_pps acc = mk(0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE);
    int rc;

    ck_assert_int_ge(n, 0);
    rc = cl_pps_check_response(&echo_reqs[echo_vectors[_i].req], n ? buf : NULL,
                               (size_t)n, &acc);
    ck_assert_msg(rc == echo_vectors[_i].rc, "%s: rc %d want %d", echo_vectors[_i].what,
                  rc, echo_vectors[_i].rc);
    if (rc != CL_OK) {
        ck_assert_uint_eq(acc.present, 0xEE);   /* untouched on error */
        return;
    }
    ck_assert_uint_eq(acc.protocol, echo_reqs[echo_vectors[_i].req].protocol);
    ck_assert_uint_eq(acc.present, echo_vectors[_i].present);
    ck_assert_uint_eq(acc.fi_index, echo_vectors[_i].fi);
    ck_assert_uint_eq(acc.di_index, echo_vectors[_i].di);
    ck_assert_uint_eq(acc.pps2, echo_vectors[_i].pps2);
    ck_assert_uint_eq(acc.pps3, echo_vectors[_i].pps3);
}
END_TEST

START_TEST(test_echo_args)
{
    const uint8_t ok[] = { 0xFF, 0x00, 0xFF };
    struct cl_pps acc;
    struct cl_pps t15 = mk(15, 0, 0, 0, 0, 0);
    struct cl_pps rfu = mk(0, P1, 7, 1, 0, 0);
    struct cl_pps flag = mk(0, 0x80, 0, 0, 0, 0);

    ck_assert_int_eq(cl_pps_check_response(NULL, ok, 3, &acc), CL_ERR_ARG);
    ck_assert_int_eq(cl_pps_check_response(&echo_reqs[2], ok, 3, NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_pps_check_response(&echo_reqs[2], NULL, 3, &acc), CL_ERR_ARG);
    ck_assert_int_eq(cl_pps_check_response(&echo_reqs[2], NULL, 0, &acc), CL_ERR_TRUNCATED);
    ck_assert_int_eq(cl_pps_check_response(&t15, ok, 3, &acc), CL_ERR_ARG);
    ck_assert_int_eq(cl_pps_check_response(&rfu, ok, 3, &acc), CL_ERR_ARG);
    ck_assert_int_eq(cl_pps_check_response(&flag, ok, 3, &acc), CL_ERR_ARG);
}
END_TEST

/* --------------------------------------------------------------- pick_rate */

/* Reader F/D lists the pick cases refer to. */
static const struct cl_pps_fd fd_list_512[] = { { 512, 8 }, { 512, 16 }, { 372, 12 } };
static const struct cl_pps_fd fd_list_372[] = { { 372, 64 } };

/* Fi/Di/f(max) from ISO 7816-3 §8.3 tables 7 and 8; baud = D * f / F,
 * rounded down. */
static const struct {
    const char *what;
    uint8_t ta1;
    uint32_t max_baud, max_clock;
    int list;          /* 0: any, 1: fd_list_512, 2: fd_list_372, 3: empty */
    bool pps;
    uint8_t fi, di;
    uint32_t clock, baud;
} pick_vectors[] = {
    { "11 default", 0x11, 0, 5000, 0, false, 1, 1, 5000, 13440 },
    { "13 372/4", 0x13, 0, 5000, 0, true, 1, 3, 5000, 53763 },
    { "18 372/12", 0x18, 0, 5000, 0, true, 1, 8, 5000, 161290 },
    { "94 512/8", 0x94, 0, 5000, 0, true, 9, 4, 5000, 78125 },
    { "95 512/16", 0x95, 0, 5000, 0, true, 9, 5, 5000, 156250 },
    { "96 512/32", 0x96, 0, 5000, 0, true, 9, 6, 5000, 312500 },
    { "97 512/64", 0x97, 0, 5000, 0, true, 9, 7, 5000, 625000 },
    { "96 card fmax 5 MHz < reader 20 MHz", 0x96, 0, 20000, 0, true, 9, 6, 5000, 312500 },
    { "96 reader clock 4 MHz", 0x96, 0, 4000, 0, true, 9, 6, 4000, 250000 },
    { "97 reader max 115200: D=8", 0x97, 115200, 5000, 0, true, 9, 4, 5000, 78125 },
    { "97 reader max exactly 625000: D=64", 0x97, 625000, 5000, 0, true, 9, 7, 5000, 625000 },
    { "97 reader max 624999: D=32", 0x97, 624999, 5000, 0, true, 9, 6, 5000, 312500 },
    { "18 reader max 115200: D=8 not 12", 0x18, 115200, 5000, 0, true, 1, 4, 5000, 107526 },
    { "95 reader max 9600: default", 0x95, 9600, 5000, 0, false, 1, 1, 5000, 13440 },
    { "97 reader list: 512/16", 0x97, 0, 5000, 1, true, 9, 5, 5000, 156250 },
    { "18 reader list: 372/12", 0x18, 0, 5000, 1, true, 1, 8, 5000, 161290 },
    { "97 reader list without F=512", 0x97, 0, 5000, 2, false, 1, 1, 5000, 13440 },
    { "94 reader list empty", 0x94, 0, 20000, 3, false, 1, 1, 5000, 13440 },
    { "91 512/1 slower than default", 0x91, 0, 5000, 0, false, 1, 1, 5000, 13440 },
    { "01 Fi 372 f(max) 4 MHz", 0x01, 0, 5000, 0, false, 1, 1, 4000, 10752 },
    { "03 Fi index 0 kept", 0x03, 0, 5000, 0, true, 0, 3, 4000, 43010 },
    { "D6 2048/32 at 20 MHz", 0xD6, 0, 20000, 0, true, 13, 6, 20000, 312500 },
    { "18 at 3.571 MHz", 0x18, 0, 3571, 0, true, 1, 8, 3571, 115193 },
    { "78 Fi 7 RFU: default", 0x78, 0, 20000, 0, false, 1, 1, 5000, 13440 },
    { "E4 Fi 14 RFU: default", 0xE4, 0, 5000, 0, false, 1, 1, 5000, 13440 },
    { "10 Di 0 RFU: default", 0x10, 0, 5000, 0, false, 1, 1, 5000, 13440 },
    { "9A Di 10 RFU: default", 0x9A, 0, 5000, 0, false, 1, 1, 5000, 13440 },
};

START_TEST(test_pick)
{
    struct cl_pps_reader_caps caps;
    struct cl_pps_rate r;
    int rc;

    memset(&caps, 0, sizeof(caps));
    caps.max_baud = pick_vectors[_i].max_baud;
    caps.max_clock_khz = pick_vectors[_i].max_clock;
    switch (pick_vectors[_i].list) {
    case 0: caps.any = true; break;
    case 1: caps.pairs = fd_list_512; caps.n_pairs = CL_ARRAY_LEN(fd_list_512); break;
    case 2: caps.pairs = fd_list_372; caps.n_pairs = CL_ARRAY_LEN(fd_list_372); break;
    default: break;
    }
    rc = cl_pps_pick_rate(pick_vectors[_i].ta1, &caps, &r);
    ck_assert_int_eq(rc, CL_OK);
    ck_assert_msg(r.pps_needed == pick_vectors[_i].pps && r.fi_index == pick_vectors[_i].fi &&
                      r.di_index == pick_vectors[_i].di &&
                      r.clock_khz == pick_vectors[_i].clock && r.baud == pick_vectors[_i].baud,
                  "%s: got pps %d fi %u di %u clock %u baud %u", pick_vectors[_i].what,
                  (int)r.pps_needed, r.fi_index, r.di_index, (unsigned)r.clock_khz,
                  (unsigned)r.baud);
}
END_TEST

START_TEST(test_pick_args)
{
    struct cl_pps_reader_caps caps;
    struct cl_pps_rate r;

    memset(&caps, 0, sizeof(caps));
    caps.max_clock_khz = 5000;
    caps.any = true;
    ck_assert_int_eq(cl_pps_pick_rate(0x11, NULL, &r), CL_ERR_ARG);
    ck_assert_int_eq(cl_pps_pick_rate(0x11, &caps, NULL), CL_ERR_ARG);
    caps.n_pairs = 1;   /* pairs NULL */
    ck_assert_int_eq(cl_pps_pick_rate(0x11, &caps, &r), CL_ERR_ARG);
    caps.n_pairs = 0;
    caps.max_clock_khz = 0;
    ck_assert_int_eq(cl_pps_pick_rate(0x11, &caps, &r), CL_ERR_ARG);
}
END_TEST

/* ------------------------------------------------------------- the suite */

static Suite *pps_suite(void)
{
    Suite *s = suite_create("pps");
    TCase *tc = tcase_create("vectors");

    tcase_add_loop_test(tc, test_expected_len, 0, (int)CL_ARRAY_LEN(len_vectors));
    tcase_add_loop_test(tc, test_build, 0, (int)CL_ARRAY_LEN(build_vectors));
    tcase_add_loop_test(tc, test_build_roundtrip, 0, (int)CL_ARRAY_LEN(build_vectors));
    tcase_add_test(tc, test_build_null);
    tcase_add_loop_test(tc, test_parse, 0, (int)CL_ARRAY_LEN(parse_vectors));
    tcase_add_test(tc, test_parse_null);
    tcase_add_loop_test(tc, test_echo, 0, (int)CL_ARRAY_LEN(echo_vectors));
    tcase_add_test(tc, test_echo_args);
    tcase_add_loop_test(tc, test_pick, 0, (int)CL_ARRAY_LEN(pick_vectors));
    tcase_add_test(tc, test_pick_args);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(pps_suite());
}
