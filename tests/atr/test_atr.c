/*
 * cardlink — ATR parser, length predictor, builder and historical bytes
 * (ISO/IEC 7816-3 §8, ISO/IEC 7816-4 §8.1.1).
 * SPDX-License-Identifier: Apache-2.0
 *
 * Real-world vectors come from pcsc-tools' smartcard_list.txt (inverse
 * convention ATRs there are already decoded: 3F ...); constructed vectors
 * name the clause they exercise. Expected fields were derived by hand for
 * the first ones and by an independent Python model for the table.
 */
#include <string.h>

#include "cardlink/atr.h"
#include "cardlink/error.h"
#include "test_util.h"

#define F(x) CL_ATR_F_##x

/* ------------------------------------------------------- valid ATRs */

static const struct atr_vec {
    const char *hex;
    unsigned flags;
    unsigned fi, di, fmax, ta1, n, wi, specific_t, ifsc, cwi, bwi, classes, clock_stop;
    const char *proto;      /* offered protocols, one hex digit each, in order */
    unsigned t_mask, ngroups, hist_off, hist_len;
} vectors[] = {
    /* smartcard_list: T=0 only, no interface bytes, K=2 */
    { "3B 02 14 50",
      0,
      372, 1, 5000, 0x11, 0, 10, 0, 32, 13, 4, 0x01, 0, "0", 0x0001, 1, 2, 2 },
    /* smartcard_list: T=0, TA1 94 (Fi 512, Di 8) */
    { "3B 17 94 18 02 01 25 01 41 93",
      F(TA1),
      512, 8, 5000, 0x94, 0, 10, 0, 32, 13, 4, 0x01, 0, "0", 0x0001, 1, 3, 7 },
    /* smartcard_list: T=0, TA1 TB1 TC1 */
    { "3B 78 12 00 00 54 C4 02 07 8F F1 90 00",
      F(TA1) | F(TB1) | F(TC1),
      372, 2, 5000, 0x12, 0, 10, 0, 32, 13, 4, 0x01, 0, "0", 0x0001, 1, 5, 8 },
    /* smartcard_list: T=0, TB1 TC1, historical category 80 */
    { "3B 68 00 00 80 66 A2 06 01 01 64 00",
      F(TB1) | F(TC1),
      372, 1, 5000, 0x11, 0, 10, 0, 32, 13, 4, 0x01, 0, "0", 0x0001, 1, 4, 8 },
    /* smartcard_list: T=0, K=15, category 80 with status */
    { "3B 6F 00 00 80 5A 28 11 42 10 12 2B 23 A9 E2 29 82 90 00",
      F(TB1) | F(TC1),
      372, 1, 5000, 0x11, 0, 10, 0, 32, 13, 4, 0x01, 0, "0", 0x0001, 1, 4, 15 },
    /* smartcard_list: TA1 30 (Di reserved), TC2 WI 10 */
    { "3B 98 30 40 0A A5 03 01 01 01 AD 13 11",
      F(TA1) | F(TC2) | F(RATE_RESERVED),
      744, 0, 8000, 0x30, 0, 10, 0, 32, 13, 4, 0x01, 0, "0", 0x0001, 2, 5, 8 },
    /* smartcard_list: TA1 FF (Fi and Di reserved), TB1 */
    { "3B 3B FF 18 00 FF 81 31 FE 55 00 6B 02 09 03",
      F(TA1) | F(TB1) | F(RATE_RESERVED),
      0, 0, 0, 0xFF, 0, 10, 0, 32, 13, 4, 0x01, 0, "0", 0x0001, 1, 4, 11 },
    /* smartcard_list: TA1 00 (Fi 372 at 4 MHz, Di reserved) */
    { "3B 34 00 00 30 42 30 30",
      F(TA1) | F(TB1) | F(RATE_RESERVED),
      372, 0, 4000, 0x00, 0, 10, 0, 32, 13, 4, 0x01, 0, "0", 0x0001, 1, 4, 4 },
    /* smartcard_list: T=0 then T=1, TCK */
    { "3B 85 80 01 20 63 CB A5 A0 89",
      F(TCK),
      372, 1, 5000, 0x11, 0, 10, 0, 32, 13, 4, 0x01, 0, "01", 0x0003, 3, 4, 5 },
    /* smartcard_list: T=0 and T=1, K=12 */
    { "3B 8C 80 01 50 AC 03 9D 44 E1 F3 5E 11 77 81 A1 21",
      F(TCK),
      372, 1, 5000, 0x11, 0, 10, 0, 32, 13, 4, 0x01, 0, "01", 0x0003, 3, 4, 12 },
    /* the benchmark ATR: T=0, T=1 IFSC 254, T=15 class A+B */
    { "3B DB 96 00 80 B1 FE 45 1F 83 00 31 C0 64 C7 FC 10 00 01 90 00 74",
      F(TA1) | F(TC1) | F(T15_TA) | F(TCK),
      512, 32, 5000, 0x96, 0, 10, 0, 254, 5, 4, 0x03, 2, "01", 0x8003, 4, 10, 11 },
    /* smartcard_list: T=0 and T=15 (TCK), classes A B C, clock stop any */
    { "3B 9F 96 80 1F C7 80 31 E0 73 FE 21 13 67 91 18 02 04 06 06 06 51",
      F(TA1) | F(T15_TA) | F(TCK),
      512, 32, 5000, 0x96, 0, 10, 0, 32, 13, 4, 0x07, 3, "0", 0x8001, 3, 6, 15 },
    /* smartcard_list: N=255, Di 12, T=0, T=1, T=15 */
    { "3B DC 18 FF 80 91 FE 1F C3 80 73 C8 21 13 66 02 04 03 55 00 02 35",
      F(TA1) | F(TC1) | F(T15_TA) | F(TCK),
      372, 12, 5000, 0x18, 255, 10, 0, 254, 13, 4, 0x03, 3, "01", 0x8003, 4, 9, 12 },
    /* smartcard_list: T=1 only, T=15 clock stop H */
    { "3B D6 96 00 81 B1 FE 45 1F 87 80 31 C1 52 21 19 49",
      F(TA1) | F(TC1) | F(T15_TA) | F(TCK),
      512, 32, 5000, 0x96, 0, 10, 0, 254, 5, 4, 0x07, 2, "1", 0x8002, 4, 10, 6 },
    /* smartcard_list: T=0, T=15, category 80 with status 83 */
    { "3B 9F 95 80 1F C3 80 31 E0 73 FE 21 1B B3 E2 01 74 83 0F 90 00 88",
      F(TA1) | F(T15_TA) | F(TCK),
      512, 16, 5000, 0x95, 0, 10, 0, 32, 13, 4, 0x03, 3, "0", 0x8001, 3, 6, 15 },
    /* smartcard_list: inverse, specific mode T=1, IFSC 254, BWI 5 CWI 7 */
    { "3F FF 95 00 FF 91 81 71 FE 57 00 44 4E 41 53 50 35 35 33 20 52 65 76 4E 30 41 78",
      F(INVERSE) | F(TA1) | F(TB1) | F(TC1) | F(SPECIFIC) | F(NO_CHANGE) | F(TCK),
      512, 16, 5000, 0x95, 255, 10, 1, 254, 7, 5, 0x01, 0, "1", 0x0002, 3, 11, 15 },
    /* smartcard_list: inverse, IFSC 255 (invalid, reported) */
    { "3F FF 95 00 FF 91 81 71 FF 47 00 44 4E 41 53 50 53 30 31 20 44 73 68 36 30 39 16",
      F(INVERSE) | F(TA1) | F(TB1) | F(TC1) | F(SPECIFIC) | F(NO_CHANGE) | F(IFSC_INVALID) | F(TCK),
      512, 16, 5000, 0x95, 255, 10, 1, 255, 7, 4, 0x01, 0, "1", 0x0002, 3, 11, 15 },
    /* smartcard_list: inverse, T=0, category 80 */
    { "3F 6D 00 00 80 31 80 65 B0 05 01 02 5E 83 00 90 00",
      F(INVERSE) | F(TB1) | F(TC1),
      372, 1, 5000, 0x11, 0, 10, 0, 32, 13, 4, 0x01, 0, "0", 0x0001, 1, 4, 13 },
    /* smartcard_list: inverse, TB1 only, K=15 */
    { "3F 2F 00 80 59 AF 02 01 02 30 00 0C 0A 0E 83 1E 9F 16",
      F(INVERSE) | F(TB1),
      372, 1, 5000, 0x11, 0, 10, 0, 32, 13, 4, 0x01, 0, "0", 0x0001, 1, 3, 15 },
    /* smartcard_list: inverse, TA1 13 TB1 TC1 */
    { "3F 78 13 25 03 40 B0 20 FF FF 4A 50 00",
      F(INVERSE) | F(TA1) | F(TB1) | F(TC1),
      372, 4, 5000, 0x13, 3, 10, 0, 32, 13, 4, 0x01, 0, "0", 0x0001, 1, 5, 8 },
    /* smartcard_list: inverse, specific mode TA2 80 (T=0), TB2, TC2 WI 15 */
    { "3F FD 13 25 02 50 80 0F 33 B0 08 FF FF 4A 50 90 00 00 47 4C 01",
      F(INVERSE) | F(TA1) | F(TB1) | F(TC1) | F(SPECIFIC) | F(TC2) | F(NO_CHANGE),
      372, 4, 5000, 0x13, 2, 15, 0, 32, 13, 4, 0x01, 0, "0", 0x0001, 2, 8, 13 },
    /* smartcard_list: direct, specific mode T=1, BWI 4 CWI 0 */
    { "3B FE 91 00 FF 91 81 71 FE 40 00 41 28 00 01 80 81 00 73 C8 40 00 00 90 00 4D",
      F(TA1) | F(TB1) | F(TC1) | F(SPECIFIC) | F(NO_CHANGE) | F(TCK),
      512, 1, 5000, 0x91, 255, 10, 1, 254, 0, 4, 0x01, 0, "1", 0x0002, 3, 11, 14 },
    /* smartcard_list: specific mode TA2 80 (T=0) */
    { "3B B2 11 00 10 80 00 01",
      F(TA1) | F(TB1) | F(SPECIFIC) | F(NO_CHANGE),
      372, 1, 5000, 0x11, 0, 10, 0, 32, 13, 4, 0x01, 0, "0", 0x0001, 2, 6, 2 },
    /* smartcard_list: historical category 10 */
    { "3B 02 10 50",
      0,
      372, 1, 5000, 0x11, 0, 10, 0, 32, 13, 4, 0x01, 0, "0", 0x0001, 1, 2, 2 },
    /* constructed §8.3: T=1 with CRC (first TC for T=1 = 01) */
    { "3B 80 81 71 20 45 01 14",
      F(CRC) | F(TCK),
      372, 1, 5000, 0x11, 0, 10, 0, 32, 5, 4, 0x01, 0, "1", 0x0002, 3, 7, 0 },
    /* constructed §8.2: minimal ATR, T=0, no interface or historical bytes */
    { "3B 00",
      0,
      372, 1, 5000, 0x11, 0, 10, 0, 32, 13, 4, 0x01, 0, "0", 0x0001, 1, 2, 0 },
    /* constructed §8.3: TA2 implicit (bit 5), WI 0 reserved, BWI 11 reserved; only the first TA/TB for T=1 counts */
    { "3B 80 D1 11 00 B1 20 B5 31 C0 21 B4",
      F(SPECIFIC) | F(TC2) | F(IMPLICIT) | F(WI_RESERVED) | F(BWI_RESERVED) | F(TCK),
      372, 1, 5000, 0x11, 0, 0, 1, 32, 5, 11, 0x01, 0, "1", 0x0002, 4, 11, 0 },
    /* constructed §11.4: T=1 IFSC 1 (the least valid), BWI 9 CWI 15 (the
     * largest BWI not reserved) */
    { "3B 80 81 31 01 9F AE",
      F(TCK),
      372, 1, 5000, 0x11, 0, 10, 0, 1, 15, 9, 0x01, 0, "1", 0x0002, 3, 6, 0 },
    /* constructed §11.4: BWI 10 (the first reserved), CWI 0 */
    { "3B 80 81 31 01 A0 91",
      F(TCK) | F(BWI_RESERVED),
      372, 1, 5000, 0x11, 0, 10, 0, 1, 0, 10, 0x01, 0, "1", 0x0002, 3, 6, 0 },
    /* constructed §11.4: IFSC 0 (reserved, reported) */
    { "3B 80 81 31 00 9F AF",
      F(TCK) | F(IFSC_INVALID),
      372, 1, 5000, 0x11, 0, 10, 0, 0, 15, 9, 0x01, 0, "1", 0x0002, 3, 6, 0 },
    /* constructed §8.3: a specific TA after a TD naming T=0 is neither
     * T=1's IFSC nor T=15's classes */
    { "3B 80 80 10 C3",
      0,
      372, 1, 5000, 0x11, 0, 10, 0, 32, 13, 4, 0x01, 0, "0", 0x0001, 3, 5, 0 },
    /* constructed §8.2.3: TD1 names T=15 (invalid, tolerated), then T=1 */
    { "3B 80 8F 01 0E",
      F(TCK) | F(TD1_T15),
      372, 1, 5000, 0x11, 0, 10, 0, 32, 13, 4, 0x01, 0, "1", 0x8002, 3, 4, 0 },
    /* constructed §8.2.3: T0 and 31 TD bytes (T=0 only, no TCK): 32 groups, 33 bytes */
    { "3B 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 00",
      0,
      372, 1, 5000, 0x11, 0, 10, 0, 32, 13, 4, 0x01, 0, "0", 0x0001, 32, 33, 0 },
    /* constructed §8.2.3: 30 TD bytes naming T=1 and TCK: 31 groups, 33 bytes */
    { "3B 80 81 81 81 81 81 81 81 81 81 81 81 81 81 81 81 81 81 81 81 81 81 81 81 81 81 81 81 81 81 01 00",
      F(TCK),
      372, 1, 5000, 0x11, 0, 10, 0, 32, 13, 4, 0x01, 0, "1", 0x0002, 31, 32, 0 },
};

START_TEST(test_vectors)
{
    const struct atr_vec *v = &vectors[_i];
    struct cl_atr atr;
    uint8_t buf[64];
    int n = cl_test_hex(v->hex, buf, sizeof(buf));
    unsigned k;
    size_t hl;
    const uint8_t *h;

    ck_assert_int_gt(n, 0);
    memset(&atr, 0xA5, sizeof(atr));
    ck_assert_int_eq(cl_atr_parse(&atr, buf, (size_t)n), CL_OK);
    cl_assert_bytes(atr.raw, atr.len, v->hex);
    ck_assert_uint_eq(atr.p.flags, v->flags);
    ck_assert_uint_eq(atr.p.fi, v->fi);
    ck_assert_uint_eq(atr.p.di, v->di);
    ck_assert_uint_eq(atr.p.fmax_khz, v->fmax);
    ck_assert_uint_eq(atr.p.ta1, v->ta1);
    ck_assert_uint_eq(atr.p.n, v->n);
    ck_assert_uint_eq(atr.p.wi, v->wi);
    ck_assert_uint_eq(atr.p.specific_t, v->specific_t);
    ck_assert_uint_eq(atr.p.ifsc, v->ifsc);
    ck_assert_uint_eq(atr.p.cwi, v->cwi);
    ck_assert_uint_eq(atr.p.bwi, v->bwi);
    ck_assert_uint_eq(atr.p.classes, v->classes);
    ck_assert_uint_eq(atr.p.clock_stop, v->clock_stop);
    ck_assert_uint_eq(atr.nproto, strlen(v->proto));
    for (k = 0; k < atr.nproto; k++) {
        char c = v->proto[k];
        ck_assert_uint_eq(atr.proto[k], (unsigned)(c <= '9' ? c - '0' : c - 'A' + 10));
    }
    ck_assert_uint_eq(atr.t_mask, v->t_mask);
    ck_assert_uint_eq(atr.ngroups, v->ngroups);
    ck_assert_uint_eq(atr.hist_off, v->hist_off);
    ck_assert_uint_eq(atr.hist_len, v->hist_len);
    h = cl_atr_hist(&atr, &hl);
    ck_assert_uint_eq(hl, v->hist_len);
    ck_assert(h == atr.raw + v->hist_off);
    ck_assert_uint_le(atr.hist_off + atr.hist_len, atr.len);
    /* The groups' presence bits chain: every group but the last has TD. */
    for (k = 0; k < atr.ngroups; k++)
        ck_assert_uint_eq((atr.group[k].present >> CL_ATR_TD) & 1u, k + 1 < atr.ngroups);
    ck_assert_int_eq(cl_atr_rate(&atr, NULL, NULL, NULL),
                     (v->flags & F(RATE_RESERVED)) ? CL_ERR_RESERVED : CL_OK);

    /* Byte by byte, the predicted length runs ahead of what has arrived
     * until the ATR is complete, then equals its length (the line layer's
     * loop). */
    for (k = 0; k < (unsigned)n; k++) {
        int e = cl_atr_expected_len(buf, k);

        ck_assert_int_gt(e, (int)k);
        ck_assert_int_le(e, n);
    }
    ck_assert_int_eq(cl_atr_expected_len(buf, (size_t)n), n);
}
END_TEST

/* The one ATR all fields of which were checked by hand (the benchmark's). */
START_TEST(test_benchmark_atr_groups)
{
    struct cl_atr atr;
    uint8_t buf[40];
    int n = cl_test_hex("3B DB 96 00 80 B1 FE 45 1F 83 00 31 C0 64 C7 FC 10 00 01 90 00 74",
                        buf, sizeof(buf));

    ck_assert_int_eq(cl_atr_parse(&atr, buf, (size_t)n), CL_OK);
    ck_assert_uint_eq(atr.ngroups, 4);
    ck_assert_int_eq(cl_atr_ib(&atr, 1, CL_ATR_TA), 0x96);
    ck_assert_int_eq(cl_atr_ib(&atr, 1, CL_ATR_TB), CL_ERR_NOT_FOUND);
    ck_assert_int_eq(cl_atr_ib(&atr, 1, CL_ATR_TC), 0x00);
    ck_assert_int_eq(cl_atr_ib(&atr, 1, CL_ATR_TD), 0x80);
    ck_assert_int_eq(cl_atr_ib(&atr, 2, CL_ATR_TD), 0xB1);
    ck_assert_int_eq(cl_atr_ib(&atr, 2, CL_ATR_TA), CL_ERR_NOT_FOUND);
    ck_assert_int_eq(cl_atr_ib(&atr, 3, CL_ATR_TA), 0xFE);
    ck_assert_int_eq(cl_atr_ib(&atr, 3, CL_ATR_TB), 0x45);
    ck_assert_int_eq(cl_atr_ib(&atr, 3, CL_ATR_TD), 0x1F);
    ck_assert_int_eq(cl_atr_ib(&atr, 4, CL_ATR_TA), 0x83);
    ck_assert_int_eq(cl_atr_ib(&atr, 4, CL_ATR_TD), CL_ERR_NOT_FOUND);
    ck_assert_int_eq(cl_atr_ib(&atr, 5, CL_ATR_TA), CL_ERR_NOT_FOUND);
    ck_assert_int_eq(cl_atr_ib(&atr, 0, CL_ATR_TA), CL_ERR_NOT_FOUND);
    ck_assert_int_eq(cl_atr_ib(&atr, 1, 4), CL_ERR_ARG);
    ck_assert_int_eq(cl_atr_ib(NULL, 1, CL_ATR_TA), CL_ERR_ARG);
    ck_assert_uint_eq(atr.group[2].present, 0x0B);
    ck_assert_uint_eq(atr.group[3].present, 0x01);
    ck_assert_uint_eq(atr.group[3].b[CL_ATR_TB], 0);
}
END_TEST

START_TEST(test_rate_accessor)
{
    struct cl_atr atr;
    uint8_t buf[40];
    uint16_t fi = 1, fmax = 1;
    uint8_t di = 1;
    int n;

    n = cl_test_hex("3B 00", buf, sizeof(buf));
    ck_assert_int_eq(cl_atr_parse(&atr, buf, (size_t)n), CL_OK);
    ck_assert_int_eq(cl_atr_rate(&atr, &fi, &di, &fmax), CL_OK);
    ck_assert_uint_eq(fi, 372);
    ck_assert_uint_eq(di, 1);
    ck_assert_uint_eq(fmax, 5000);
    /* TA1 = 97: Fi 512, Di 64 (reserved index 7 for Fi is the high
     * nibble's business: here 9 is fine). */
    n = cl_test_hex("3B 10 97", buf, sizeof(buf));
    ck_assert_int_eq(cl_atr_parse(&atr, buf, (size_t)n), CL_OK);
    ck_assert_int_eq(cl_atr_rate(&atr, &fi, &di, &fmax), CL_OK);
    ck_assert_uint_eq(fi, 512);
    ck_assert_uint_eq(di, 64);
    ck_assert_uint_eq(fmax, 5000);
    /* TA1 = 71: Fi index 7 is RFU: the parse succeeds, the accessor says so. */
    n = cl_test_hex("3B 10 71", buf, sizeof(buf));
    ck_assert_int_eq(cl_atr_parse(&atr, buf, (size_t)n), CL_OK);
    ck_assert_uint_eq(atr.p.flags, F(TA1) | F(RATE_RESERVED));
    ck_assert_int_eq(cl_atr_rate(&atr, &fi, &di, &fmax), CL_ERR_RESERVED);
    ck_assert_uint_eq(fi, 0);
    ck_assert_uint_eq(di, 1);
    ck_assert_uint_eq(fmax, 0);
    ck_assert_int_eq(cl_atr_rate(NULL, &fi, &di, &fmax), CL_ERR_ARG);
}
END_TEST

/* ------------------------------------------------------------ errors */

static const struct {
    const char *hex;
    int err;
    const char *why;
} errors[] = {
    { "", CL_ERR_TRUNCATED, "§8.1: empty, no TS" },
    { "3C 00", CL_ERR_BAD_TS, "§8.1: TS neither 3B nor 3F" },
    { "03 00", CL_ERR_BAD_TS, "§8.1: inverse TS not decoded by the line layer" },
    { "3B", CL_ERR_TRUNCATED, "§8.2.2: T0 missing" },
    { "3B 10", CL_ERR_TRUNCATED, "§8.2.3: TA1 announced, absent" },
    { "3B 70 11 22", CL_ERR_TRUNCATED, "§8.2.3: TC1 announced, absent" },
    { "3B 80", CL_ERR_TRUNCATED, "§8.2.3: TD1 announced, absent" },
    { "3B 80 F1 11 22 33", CL_ERR_TRUNCATED, "§8.2.3: TD2 announced, absent" },
    { "3B 02 14", CL_ERR_TRUNCATED, "§8.2.4: one historical byte short" },
    { "3B 04 60 89", CL_ERR_TRUNCATED, "smartcard_list: K=4 with 2 bytes" },
    { "3B 8F 80 01 11", CL_ERR_TRUNCATED, "§8.2.4: T=1, historical bytes cut" },
    { "3B 80 01", CL_ERR_MISSING_TCK, "§8.2.5: T=1 offered, no TCK" },
    { "3B 80 0F", CL_ERR_MISSING_TCK, "§8.2.5: T=15 named, no TCK" },
    { "3B 8C 80 01 50 27 52 31 81 00 00 00 00 00 71 81", CL_ERR_MISSING_TCK,
      "smartcard_list: T=0 and T=1, TCK absent" },
    { "3B 80 01 82", CL_ERR_CHECKSUM, "§8.2.5: TCK wrong (81 expected)" },
    { "3B 86 80 01 06 75 77 81 02 8F 00", CL_ERR_CHECKSUM, "smartcard_list: TCK wrong" },
    { "3B 00 00", CL_ERR_TRAILING, "§8.2.5: T=0 only, a TCK-like byte after the ATR" },
    { "3B 02 14 50 11", CL_ERR_TRAILING, "smartcard_list: one byte too many, T=0" },
    { "3B 80 01 81 00", CL_ERR_TRAILING, "§8.2: a byte after TCK" },
    { "3B 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
      CL_ERR_TOO_LONG, "§8.2.1: 34 bytes" },
    { "3B FF 11 22 33 FF 11 22 33 FF 11 22 33 FF 11 22 33 FF 11 22 33 FF 11 22 33 FF 11 22 33 FF 11 22 33",
      CL_ERR_TRUNCATED, "§8.2.1: 33 bytes, all interface bytes, more announced" },
};

START_TEST(test_errors)
{
    struct cl_atr atr;
    uint8_t buf[64];
    int n = cl_test_hex(errors[_i].hex, buf, sizeof(buf));

    ck_assert_int_ge(n, 0);
    ck_assert_msg(cl_atr_parse(&atr, buf, (size_t)n) == errors[_i].err, "%s: got %d",
                  errors[_i].why, cl_atr_parse(&atr, buf, (size_t)n));
}
END_TEST

START_TEST(test_args)
{
    struct cl_atr atr;
    const uint8_t b[2] = { 0x3B, 0x00 };

    ck_assert_int_eq(cl_atr_parse(NULL, b, 2), CL_ERR_ARG);
    ck_assert_int_eq(cl_atr_parse(&atr, NULL, 2), CL_ERR_ARG);
    ck_assert_int_eq(cl_atr_parse(&atr, NULL, 0), CL_ERR_TRUNCATED);
    ck_assert_int_eq(cl_atr_expected_len(NULL, 2), CL_ERR_ARG);
    ck_assert_int_eq(cl_atr_expected_len(NULL, 0), 1);
}
END_TEST

/* -------------------------------------------------- expected length */

static const struct {
    const char *hex;
    int want;
    const char *why;
} expect[] = {
    { "", 1, "nothing yet: TS" },
    { "3B", 2, "TS: then T0" },
    { "3F", 2, "inverse TS: then T0" },
    { "3B 00", 2, "T0, no interface or historical bytes: complete" },
    { "3B 05", 7, "K=5" },
    { "3B 75", 10, "TA1 TB1 TC1, K=5" },
    { "3B 80", 3, "TD1 awaited" },
    { "3B 80 00", 3, "TD1 names T=0 only: complete" },
    { "3B 80 01", 4, "TD1 names T=1: TCK" },
    { "3B 80 81", 5, "TD2 awaited, TCK already due" },
    { "3B 80 81 1F", 6, "TD2 names T=15, TA3 follows" },
    { "3B 00 00", 2, "complete at 2: the extra byte is not part of it" },
    { "3B DB 96", 16, "benchmark ATR after 3 bytes: up to TD1, K=11" },
    { "3B DB 96 00 80", 17, "TD1 read, TD2 awaited" },
    { "3B DB 96 00 80 B1", 21, "TD2 names T=1: TA3 TB3 TD3, K, TCK" },
    { "3B DB 96 00 80 B1 FE 45 1F", 22, "TD3 names T=15: TA4, K=11, TCK" },
    { "3B FF 11 22 33 FF", 26, "two groups of four" },
    { "3B FF 11 22 33 FF 11 22 33 FF", 30, "three groups of four" },
    { "3B FF 11 22 33 FF 11 22 33 FF 11 22 33 FF", CL_ERR_TOO_LONG, "already more than 33" },
    { "03", CL_ERR_BAD_TS, "undecoded inverse TS" },
    { "00 00", CL_ERR_BAD_TS, "not an ATR" },
};

START_TEST(test_expected_len)
{
    uint8_t buf[64];
    int n = cl_test_hex(expect[_i].hex, buf, sizeof(buf));

    ck_assert_int_ge(n, 0);
    ck_assert_msg(cl_atr_expected_len(buf, (size_t)n) == expect[_i].want, "%s: %s: got %d",
                  expect[_i].hex, expect[_i].why, cl_atr_expected_len(buf, (size_t)n));
}
END_TEST

/* --------------------------------------------------- inverse convention */

START_TEST(test_inverse)
{
    static const uint8_t pairs[][2] = {
        { 0x03, 0x3F },   /* §8.1: TS of an inverse-convention card */
        { 0x3F, 0x03 },
        { 0x00, 0xFF }, { 0xFF, 0x00 }, { 0x01, 0x7F }, { 0x80, 0xFE },
        { 0xC4, 0xDC },
    };
    uint8_t buf[40], line[40];
    unsigned i;
    int n;

    for (i = 0; i < CL_ARRAY_LEN(pairs); i++)
        ck_assert_uint_eq(cl_atr_inverse_byte(pairs[i][0]), pairs[i][1]);
    for (i = 0; i < 256; i++)
        ck_assert_uint_eq(cl_atr_inverse_byte(cl_atr_inverse_byte((uint8_t)i)), i);
    /* An inverse-convention card as the line delivers it, decoded in place. */
    n = cl_test_hex("3F 2F 00 80 59 AF 02 01 02 30 00 0C 0A 0E 83 1E 9F 16", buf, sizeof(buf));
    for (i = 0; i < (unsigned)n; i++)
        line[i] = cl_atr_inverse_byte(buf[i]);
    ck_assert_uint_eq(line[0], 0x03);
    cl_atr_decode_inverse(line, (size_t)n);
    cl_assert_bytes(line, (size_t)n, "3F 2F 00 80 59 AF 02 01 02 30 00 0C 0A 0E 83 1E 9F 16");
    cl_atr_decode_inverse(NULL, 0);
}
END_TEST

/* ------------------------------------------------------------ builder */

static const struct build_vec {
    struct cl_atr_build_spec spec;
    const char *hex;   /* exact bytes expected */
    const char *why;
} builds[] = {
    { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, { 0 } }, "3B 00", "minimal, T=0" },
    { { CL_ATR_B_T0 | CL_ATR_B_TA1 | CL_ATR_B_TC1, 0x96, 0x00, 0, 0, 0, 0, 0, 0, 0, 3, { 0x80, 0x31, 0x80 } },
      "3B 53 96 00 80 31 80", "T=0, TA1 TC1, no TCK" },
    { { CL_ATR_B_T0 | CL_ATR_B_T1 | CL_ATR_B_TA1 | CL_ATR_B_TC1 | CL_ATR_B_IFSC | CL_ATR_B_T1_TB |
        CL_ATR_B_T15, 0x96, 0x00, 0, 0, 0xFE, 5, 4, 0x03, 2, 11,
        { 0x00, 0x31, 0xC0, 0x64, 0xC7, 0xFC, 0x10, 0x00, 0x01, 0x90, 0x00 } },
      "3B DB 96 00 80 B1 FE 45 1F 83 00 31 C0 64 C7 FC 10 00 01 90 00 74", "the benchmark ATR" },
    { { CL_ATR_B_INVERSE | CL_ATR_B_T1 | CL_ATR_B_TA1 | CL_ATR_B_TC1 | CL_ATR_B_TA2 | CL_ATR_B_IFSC |
        CL_ATR_B_T1_TB | CL_ATR_B_CRC, 0x18, 0xFF, 0, 0x81, 0x80, 3, 6, 0, 0, 0, { 0 } },
      "3F D0 18 FF 91 81 71 80 63 01 B4", "inverse, specific T=1, CRC" },
    { { CL_ATR_B_T1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, { 0 } }, "3B 80 01 81", "T=1 only, defaults" },
    { { CL_ATR_B_T0 | CL_ATR_B_TC2, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, { 0 } }, "3B 80 40 14",
      "T=0, WI 20" },
    { { CL_ATR_B_T0 | CL_ATR_B_T15, 0, 0, 0, 0, 0, 0, 0, 0x07, 1, 0, { 0 } }, "3B 80 80 1F 47 58",
      "T=0 and class A B C with clock stop L: TCK" },
    { { CL_ATR_B_T0 | CL_ATR_B_T1 | CL_ATR_B_TC2 | CL_ATR_B_T15, 0, 0, 10, 0, 0, 0, 0, 0x04, 3, 0, { 0 } },
      "3B 80 C0 0A 81 1F C4 10", "T=0, T=1 without T=1 bytes, WI, T=15" },
    { { CL_ATR_B_T1 | CL_ATR_B_IFSC, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, { 0 } }, "3B 80 81 11 01 11",
      "T=1, IFSC 1 (the least)" },
    { { CL_ATR_B_T1 | CL_ATR_B_IFSC, 0, 0, 0, 0, 254, 0, 0, 0, 0, 0, { 0 } }, "3B 80 81 11 FE EE",
      "T=1, IFSC 254 (the most)" },
    { { CL_ATR_B_T0 | CL_ATR_B_T15, 0, 0, 0, 0, 0, 0, 0, 63, 3, 0, { 0 } }, "3B 80 80 1F FF E0",
      "T=0 and T=15 with every class bit and clock stop 3" },
};

START_TEST(test_build)
{
    const struct build_vec *b = &builds[_i];
    const struct cl_atr_build_spec *s = &b->spec;
    uint8_t out[CL_ATR_MAX];
    size_t len = 0;
    struct cl_atr atr;

    ck_assert_int_eq(cl_atr_build(s, out, sizeof(out), &len), CL_OK);
    cl_assert_bytes(out, len, b->hex);
    /* Round trip: parse gives the spec's parameters back. */
    ck_assert_int_eq(cl_atr_parse(&atr, out, len), CL_OK);
    ck_assert_uint_eq(!!(atr.p.flags & F(INVERSE)), !!(s->opts & CL_ATR_B_INVERSE));
    ck_assert_uint_eq(atr.p.ta1, (s->opts & CL_ATR_B_TA1) ? s->ta1 : 0x11);
    ck_assert_uint_eq(atr.p.n, (s->opts & CL_ATR_B_TC1) ? s->n : 0);
    ck_assert_uint_eq(atr.p.wi, (s->opts & CL_ATR_B_TC2) ? s->wi : 10);
    ck_assert_uint_eq(!!(atr.p.flags & F(SPECIFIC)), !!(s->opts & CL_ATR_B_TA2));
    ck_assert_uint_eq(atr.p.ifsc, (s->opts & CL_ATR_B_IFSC) ? s->ifsc : 32);
    ck_assert_uint_eq(atr.p.cwi, (s->opts & CL_ATR_B_T1_TB) ? s->cwi : 13);
    ck_assert_uint_eq(atr.p.bwi, (s->opts & CL_ATR_B_T1_TB) ? s->bwi : 4);
    ck_assert_uint_eq(!!(atr.p.flags & F(CRC)), !!(s->opts & CL_ATR_B_CRC));
    ck_assert_uint_eq(atr.p.classes, (s->opts & CL_ATR_B_T15) ? s->classes : 1);
    ck_assert_uint_eq(atr.p.clock_stop, (s->opts & CL_ATR_B_T15) ? s->clock_stop : 0);
    ck_assert_uint_eq(atr.t_mask & 3u, ((s->opts & CL_ATR_B_T0) || !(s->opts & CL_ATR_B_T1)) |
                                           ((s->opts & CL_ATR_B_T1) ? 2u : 0u));
    ck_assert_uint_eq(atr.hist_len, s->hist_len);
    ck_assert(memcmp(atr.raw + atr.hist_off, s->hist, s->hist_len) == 0);
    /* Too small by one: CL_ERR_BUFFER, *out_len untouched. */
    {
        size_t exact = len;

        len = 99;
        ck_assert_int_eq(cl_atr_build(s, out, exact - 1, &len), CL_ERR_BUFFER);
        ck_assert_uint_eq(len, 99);
        ck_assert_int_eq(cl_atr_build(s, out, exact, &len), CL_OK);
        ck_assert_uint_eq(len, exact);
    }
}
END_TEST

static const struct {
    struct cl_atr_build_spec spec;
    int err;
    const char *why;
} build_errors[] = {
    { { CL_ATR_B_TC2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, { 0 } }, CL_ERR_ARG, "WI 0" },
    { { CL_ATR_B_T1 | CL_ATR_B_IFSC, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, { 0 } }, CL_ERR_ARG, "IFSC 0" },
    { { CL_ATR_B_T1 | CL_ATR_B_IFSC, 0, 0, 0, 0, 255, 0, 0, 0, 0, 0, { 0 } }, CL_ERR_ARG, "IFSC 255" },
    { { CL_ATR_B_T1 | CL_ATR_B_T1_TB, 0, 0, 0, 0, 0, 16, 0, 0, 0, 0, { 0 } }, CL_ERR_ARG, "CWI 16" },
    { { CL_ATR_B_T1 | CL_ATR_B_T1_TB, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, { 0 } }, CL_ERR_ARG, "BWI 16" },
    { { CL_ATR_B_T0 | CL_ATR_B_CRC, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, { 0 } }, CL_ERR_ARG, "CRC without T=1" },
    { { CL_ATR_B_T15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, { 0 } }, CL_ERR_ARG, "class 0" },
    { { CL_ATR_B_T15, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0, { 0 } }, CL_ERR_ARG, "class 64" },
    { { CL_ATR_B_T15, 0, 0, 0, 0, 0, 0, 0, 1, 4, 0, { 0 } }, CL_ERR_ARG, "clock stop 4" },
    { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16, { 0 } }, CL_ERR_ARG, "16 historical bytes" },
};

START_TEST(test_build_errors)
{
    uint8_t out[CL_ATR_MAX];
    size_t len = 7;

    ck_assert_msg(cl_atr_build(&build_errors[_i].spec, out, sizeof(out), &len) == build_errors[_i].err,
                  "%s", build_errors[_i].why);
    ck_assert_uint_eq(len, 7);
}
END_TEST

START_TEST(test_build_args)
{
    struct cl_atr_build_spec s;
    uint8_t out[CL_ATR_MAX];
    size_t len;

    memset(&s, 0, sizeof(s));
    ck_assert_int_eq(cl_atr_build(NULL, out, sizeof(out), &len), CL_ERR_ARG);
    ck_assert_int_eq(cl_atr_build(&s, NULL, sizeof(out), &len), CL_ERR_ARG);
    ck_assert_int_eq(cl_atr_build(&s, out, sizeof(out), NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_atr_build(&s, out, 1, &len), CL_ERR_BUFFER);
}
END_TEST

/* Every combination of options (with fixed values), round-tripped. */
START_TEST(test_build_roundtrip_all)
{
    unsigned o;

    for (o = 0; o < 0x800u; o++) {
        struct cl_atr_build_spec s;
        struct cl_atr atr;
        uint8_t out[CL_ATR_MAX];
        size_t len;
        int rc;
        bool t1 = (o & CL_ATR_B_T1) != 0;

        memset(&s, 0, sizeof(s));
        s.opts = (uint16_t)o;
        s.ta1 = 0x95;
        s.n = 2;
        s.wi = 0x20;
        s.ta2 = 0x01;
        s.ifsc = 0xFE;
        s.cwi = 5;
        s.bwi = 7;
        s.classes = 0x03;
        s.clock_stop = 3;
        s.hist_len = 15;
        memset(s.hist, 0x5A, sizeof(s.hist));
        rc = cl_atr_build(&s, out, sizeof(out), &len);
        if (!t1 && (o & (CL_ATR_B_IFSC | CL_ATR_B_T1_TB | CL_ATR_B_CRC))) {
            ck_assert_int_eq(rc, CL_ERR_ARG);
            continue;
        }
        ck_assert_int_eq(rc, CL_OK);
        ck_assert_uint_le(len, 29);
        ck_assert_int_eq(cl_atr_expected_len(out, len), (int)len);
        ck_assert_msg(cl_atr_parse(&atr, out, len) == CL_OK, "opts %x: %s", o, cl_test_tohex(out, len));
        ck_assert_uint_eq(atr.p.ta1, (o & CL_ATR_B_TA1) ? 0x95 : 0x11);
        ck_assert_uint_eq(atr.p.n, (o & CL_ATR_B_TC1) ? 2 : 0);
        ck_assert_uint_eq(atr.p.wi, (o & CL_ATR_B_TC2) ? 0x20 : 10);
        ck_assert_uint_eq(atr.p.specific_t, (o & CL_ATR_B_TA2) ? 1 : 0);
        ck_assert_uint_eq(atr.p.ifsc, (o & CL_ATR_B_IFSC) ? 0xFE : 32);
        ck_assert_uint_eq(atr.p.cwi, (o & CL_ATR_B_T1_TB) ? 5 : 13);
        ck_assert_uint_eq(atr.p.bwi, (o & CL_ATR_B_T1_TB) ? 7 : 4);
        ck_assert_uint_eq(!!(atr.p.flags & F(CRC)), !!(o & CL_ATR_B_CRC));
        ck_assert_uint_eq(atr.p.classes, (o & CL_ATR_B_T15) ? 3 : 1);
        ck_assert_uint_eq(atr.p.clock_stop, (o & CL_ATR_B_T15) ? 3 : 0);
        ck_assert_uint_eq(atr.proto[0], ((o & CL_ATR_B_T0) || !t1) ? 0 : 1);
        ck_assert_uint_eq(atr.nproto, ((o & CL_ATR_B_T0) && t1) ? 2 : 1);
        ck_assert_uint_eq(atr.hist_len, 15);
    }
}
END_TEST

/* ------------------------------------------------- historical bytes */

static const struct hist_vec {
    const char *hex;
    int rc;
    unsigned category, tags, service;
    unsigned caps[3];
    unsigned status, lcs, sw;
    const char *why;
} hists[] = {
    /* ISO 7816-4 §8.1.1: category 00, objects then a 3-byte status */
    { "00 31 C0 64 C7 FC 10 00 01 90 00", CL_OK, 0x00, 0x0048, 0xC0, { 0 }, 3, 0x01, 0x9000,
      "benchmark ATR: service data, pre-issuing data, status" },
    { "00 01 90 00", CL_OK, 0x00, 0, 0, { 0 }, 3, 0x01, 0x9000, "category 00, status only" },
    /* category 80, compact-TLV */
    { "80 31 80 65 B0 05 01 02 5E 83 00 90 00", CL_OK, 0x80, 0x0148, 0x80, { 0 }, 3, 0x00, 0x9000,
      "smartcard_list 3F 6D...: service, pre-issuing, status LCS+SW" },
    { "80 73 C8 21 13 66 02 04 03 55 00 02", CL_OK, 0x80, 0x00C0, 0, { 0xC8, 0x21, 0x13 }, 0, 0, 0,
      "smartcard_list 3B DC...: capabilities, pre-issuing data" },
    { "80 31 E0 73 FE 21 1B B3 E2 01 74 83 0F 90 00", CL_OK, 0x80, 0x0988, 0xE0, { 0xFE, 0x21, 0x1B },
      3, 0x0F, 0x9000, "smartcard_list 3B 9F 95...: service, caps, issuer data (B = tag 11), status" },
    { "80 5A 28 11 42 10 12 2B 23 A9 E2 29 82 90 00", CL_OK, 0x80, 0x0120, 0, { 0 }, 2, 0, 0x9000,
      "smartcard_list 3B 6F...: card issuer's data, status SW" },
    { "80 81 01 52 03 01", CL_OK, 0x80, 0x0120, 0, { 0 }, 1, 0x01, 0,
      "smartcard_list 3B 86 40...: LCS only, status not last (tolerated)" },
    { "80 4F 0C A0 00 00 03 06 03 00 01 00 00 00", CL_ERR_TRUNCATED, 0x80, 0, 0, { 0 }, 0, 0, 0,
      "tag 4 claims 15 bytes: runs past the end" },
    { "80 F5 A0 00 00 03 97 52 54 46", CL_OK, 0x80, 0x8020, 0, { 0 }, 0, 0, 0,
      "AID (tag F, 5 bytes), then card issuer's data" },
    { "80 82 90 00 00 00 00", CL_OK, 0x80, 0x0100, 0, { 0 }, 2, 0, 0x9000,
      "padding bytes 00 after the status (smartcard_list 3B 7E 95...)" },
    { "80", CL_OK, 0x80, 0, 0, { 0 }, 0, 0, 0, "category 80 with no objects" },
    { "10 50", CL_OK, 0x10, 0, 0, { 0 }, 0, 0, 0, "category 10, DIR data reference 50" },
    /* errors */
    { "", CL_ERR_NOT_FOUND, 0, 0, 0, { 0 }, 0, 0, 0, "no historical bytes" },
    { "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", CL_ERR_TOO_LONG, 0, 0, 0, { 0 }, 0, 0, 0, "16 bytes" },
    { "50 AC 03 9D", CL_ERR_UNSUPPORTED, 0x50, 0, 0, { 0 }, 0, 0, 0, "proprietary category" },
    { "00 90 00", CL_ERR_TRUNCATED, 0x00, 0, 0, { 0 }, 0, 0, 0, "category 00 without a full status" },
    { "10", CL_ERR_TRUNCATED, 0x10, 0, 0, { 0 }, 0, 0, 0, "category 10 without its byte" },
    { "10 50 00", CL_ERR_TRAILING, 0x10, 0, 0, { 0 }, 0, 0, 0, "category 10 with a byte too many" },
    { "80 31", CL_ERR_TRUNCATED, 0x80, 0, 0, { 0 }, 0, 0, 0, "service data announced, absent" },
    { "80 31 80 31 80", CL_ERR_TAG, 0x80, 0x0008, 0x80, { 0 }, 0, 0, 0, "service data twice" },
    { "80 30", CL_ERR_LENGTH, 0x80, 0x0008, 0, { 0 }, 0, 0, 0, "service data of length 0" },
    { "80 32 00 00", CL_ERR_LENGTH, 0x80, 0x0008, 0, { 0 }, 0, 0, 0, "service data of length 2" },
    { "80 70", CL_ERR_LENGTH, 0x80, 0x0080, 0, { 0 }, 0, 0, 0, "capabilities of length 0" },
    { "80 74 00 00 00 00", CL_ERR_LENGTH, 0x80, 0x0080, 0, { 0 }, 0, 0, 0, "capabilities of length 4" },
    { "80 80", CL_ERR_LENGTH, 0x80, 0x0100, 0, { 0 }, 0, 0, 0, "status of length 0" },
    { "80 84 00 00 00 00", CL_ERR_LENGTH, 0x80, 0x0100, 0, { 0 }, 0, 0, 0, "status of length 4" },
    /* fuzz/regressions/atr_hist/status-twice: the decoder let the object's
     * status replace the category's */
    { "00 31 80 71 00 82 90 00 00 00 00 00 00", CL_ERR_TAG, 0x00, 0x0088, 0x80, { 0 }, 3, 0, 0,
      "category 00 with a status indicator object as well" },
    { "00 35 01 90 00", CL_ERR_TRUNCATED, 0x00, 0, 0, { 0 }, 3, 0x01, 0x9000,
      "category 00: object runs into the status" },
};

START_TEST(test_hist)
{
    const struct hist_vec *v = &hists[_i];
    struct cl_atr_hist_info h;
    uint8_t buf[32];
    int n = cl_test_hex(v->hex, buf, sizeof(buf));

    ck_assert_int_ge(n, 0);
    ck_assert_msg(cl_atr_hist_parse(&h, buf, (size_t)n) == v->rc, "%s", v->why);
    if (v->rc == CL_ERR_NOT_FOUND || v->rc == CL_ERR_TOO_LONG)
        return;
    ck_assert_uint_eq(h.category, v->category);
    ck_assert_uint_eq(h.len, (unsigned)n);
    ck_assert(memcmp(h.bytes, buf, (size_t)n) == 0);
    ck_assert_uint_eq(h.tags, v->tags);
    ck_assert_uint_eq(h.service, v->service);
    ck_assert_uint_eq(h.caps[0], v->caps[0]);
    ck_assert_uint_eq(h.caps[1], v->caps[1]);
    ck_assert_uint_eq(h.caps[2], v->caps[2]);
    ck_assert_uint_eq(h.status, v->status);
    ck_assert_uint_eq(h.lcs, v->lcs);
    ck_assert_uint_eq(h.sw, v->sw);
}
END_TEST

START_TEST(test_hist_get)
{
    struct cl_atr_hist_info h;
    struct cl_atr atr;
    uint8_t buf[40];
    const uint8_t *v, *hb;
    size_t vl, hl;
    int n = cl_test_hex("3F FD 13 25 02 50 80 0F 33 B0 08 FF FF 4A 50 90 00 00 47 4C 01", buf, sizeof(buf));

    /* The ATR's historical bytes are not category 00/10/80: unsupported. */
    ck_assert_int_eq(cl_atr_parse(&atr, buf, (size_t)n), CL_OK);
    hb = cl_atr_hist(&atr, &hl);
    ck_assert_int_eq(cl_atr_hist_parse(&h, hb, hl), CL_ERR_UNSUPPORTED);
    ck_assert_uint_eq(h.category, 0x33);

    n = cl_test_hex("3B DB 96 00 80 B1 FE 45 1F 83 00 31 C0 64 C7 FC 10 00 01 90 00 74", buf, sizeof(buf));
    ck_assert_int_eq(cl_atr_parse(&atr, buf, (size_t)n), CL_OK);
    hb = cl_atr_hist(&atr, &hl);
    ck_assert_int_eq(cl_atr_hist_parse(&h, hb, hl), CL_OK);
    ck_assert_int_eq(cl_atr_hist_get(&h, 6, &v, &vl), CL_OK);
    cl_assert_bytes(v, vl, "C7 FC 10 00");
    ck_assert_int_eq(cl_atr_hist_get(&h, 3, &v, &vl), CL_OK);
    cl_assert_bytes(v, vl, "C0");
    ck_assert_int_eq(cl_atr_hist_get(&h, 7, &v, &vl), CL_ERR_NOT_FOUND);
    ck_assert_int_eq(cl_atr_hist_get(&h, 8, &v, &vl), CL_ERR_NOT_FOUND);
    ck_assert_int_eq(cl_atr_hist_get(&h, 0, &v, &vl), CL_ERR_ARG);
    ck_assert_int_eq(cl_atr_hist_get(&h, 16, &v, &vl), CL_ERR_ARG);
    ck_assert_int_eq(cl_atr_hist_get(NULL, 3, &v, &vl), CL_ERR_ARG);
    ck_assert_int_eq(cl_atr_hist_get(&h, 3, NULL, &vl), CL_ERR_ARG);
    ck_assert_int_eq(cl_atr_hist_get(&h, 3, &v, NULL), CL_ERR_ARG);

    /* AID and capabilities (command chaining, extended Lc/Le). */
    n = cl_test_hex("80 73 00 00 C0 F5 A0 00 00 03 97", buf, sizeof(buf));
    ck_assert_int_eq(cl_atr_hist_parse(&h, buf, (size_t)n), CL_OK);
    ck_assert(h.caps[2] & CL_ATR_CAP3_CHAINING);
    ck_assert(h.caps[2] & CL_ATR_CAP3_EXTENDED);
    ck_assert_int_eq(cl_atr_hist_get(&h, 15, &v, &vl), CL_OK);
    cl_assert_bytes(v, vl, "A0 00 00 03 97");

    ck_assert_int_eq(cl_atr_hist_parse(NULL, buf, 1), CL_ERR_ARG);
    ck_assert_int_eq(cl_atr_hist_parse(&h, NULL, 1), CL_ERR_ARG);
    ck_assert_int_eq(cl_atr_hist_parse(&h, NULL, 0), CL_ERR_NOT_FOUND);
}
END_TEST

/* ------------------------------------------------------------ lenient */

/* Real ATRs of smartcard_list.txt that the strict parser refuses, and what
 * the lenient decode makes of them: warnings, the ATR's length (the rest is
 * trailing), K as decoded, TCK flag, protocols. */
static const struct lenient_vec {
    const char *hex;
    int strict;              /* cl_atr_parse() result */
    unsigned warn, len, hist_len, tck;
    const char *proto;
} lenient[] = {
    /* T=0 only, one byte after the last historical byte */
    { "3B 10 14 50", CL_ERR_TRAILING, CL_ATR_W_TRAILING, 3, 0, 0, "0" },
    /* T=1 and T=15 named, no TCK */
    { "3B 95 96 C0 F0 1F C2 0F 10 0A 0A 16", CL_ERR_MISSING_TCK, CL_ATR_W_TCK_MISSING,
      12, 5, 0, "0" },
    { "3B 8C 80 01 50 27 52 31 81 00 00 00 00 00 71 81", CL_ERR_MISSING_TCK,
      CL_ATR_W_TCK_MISSING, 16, 12, 0, "01" },
    /* K = 15 announced, 11 sent: no TCK either */
    { "3B 8F 80 01 80 4F 0C A0 00 1A 00 00 00 00 78", CL_ERR_TRUNCATED,
      CL_ATR_W_HIST_SHORT | CL_ATR_W_TCK_MISSING, 15, 11, 0, "01" },
    /* T=0 only, K = 8 announced, 6 sent */
    { "3B 78 14 00 00 00 73 C8 40 00 00", CL_ERR_TRUNCATED, CL_ATR_W_HIST_SHORT, 11, 6, 0, "0" },
    /* the same ATR twice (a reader that repeated it) */
    { "3B 96 18 80 01 80 51 00 61 10 30 9F 00 61 10 30 9E", CL_ERR_TRAILING,
      CL_ATR_W_TRAILING, 12, 6, 1, "01" },
    /* TCK wrong */
    { "3B DB 96 00 80 B1 FE 45 1F 83 00 31 C0 64 C7 FC 10 00 01 90 00 75", CL_ERR_CHECKSUM,
      CL_ATR_W_TCK_WRONG, 22, 11, 1, "01" },
    /* a valid ATR: no warning */
    { "3B 02 14 50", CL_OK, 0, 4, 2, 0, "0" },
    /* 31 bytes after a complete T=0 ATR (more than CL_ATR_MAX in all) */
    { "3B 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
      CL_ERR_TOO_LONG, CL_ATR_W_TRAILING, 2, 0, 0, "0" },
};

START_TEST(test_lenient)
{
    const struct lenient_vec *v = &lenient[_i];
    struct cl_atr atr;
    uint8_t buf[64];
    unsigned w = 99, i;
    int n = cl_test_hex(v->hex, buf, sizeof(buf));

    ck_assert_int_ge(n, 0);
    ck_assert_int_eq(cl_atr_parse(&atr, buf, (size_t)n), v->strict);
    ck_assert_int_eq(cl_atr_parse_lenient(&atr, buf, (size_t)n, &w), CL_OK);
    ck_assert_uint_eq(w, v->warn);
    ck_assert_uint_eq(atr.len, v->len);
    ck_assert_uint_eq(atr.hist_len, v->hist_len);
    ck_assert_uint_eq(!!(atr.p.flags & CL_ATR_F_TCK), v->tck);
    ck_assert_mem_eq(atr.raw, buf, atr.len);
    ck_assert_uint_eq(atr.nproto, strlen(v->proto));
    for (i = 0; i < atr.nproto; i++)
        ck_assert_uint_eq(atr.proto[i], (unsigned)(v->proto[i] - '0'));
    ck_assert_int_eq(cl_atr_parse_lenient(&atr, buf, (size_t)n, NULL), CL_OK);
}
END_TEST

START_TEST(test_lenient_errors)
{
    struct cl_atr atr;
    uint8_t buf[64] = { 0x3B, 0x00 };
    unsigned w = 99;
    int n;

    ck_assert_int_eq(cl_atr_parse_lenient(NULL, buf, 2, &w), CL_ERR_ARG);
    ck_assert_int_eq(cl_atr_parse_lenient(&atr, NULL, 2, &w), CL_ERR_ARG);
    ck_assert_int_eq(cl_atr_parse_lenient(&atr, NULL, 0, &w), CL_ERR_TRUNCATED);
    ck_assert_uint_eq(w, 0);
    n = cl_test_hex("3C 00", buf, sizeof(buf));
    ck_assert_int_eq(cl_atr_parse_lenient(&atr, buf, (size_t)n, &w), CL_ERR_BAD_TS);
    n = cl_test_hex("3B", buf, sizeof(buf));
    ck_assert_int_eq(cl_atr_parse_lenient(&atr, buf, (size_t)n, &w), CL_ERR_TRUNCATED);
    /* interface bytes cut: not mended */
    n = cl_test_hex("3B DB 96 00 80", buf, sizeof(buf));
    ck_assert_int_eq(cl_atr_parse_lenient(&atr, buf, (size_t)n, &w), CL_ERR_TRUNCATED);
    ck_assert_uint_eq(w, 0);
    /* 31 TDs and K = 15: more than 33 bytes before any trailing */
    n = cl_test_hex("3B 8F 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 01 00",
                    buf, sizeof(buf));
    ck_assert_int_eq(cl_atr_parse_lenient(&atr, buf, (size_t)n, &w), CL_ERR_TOO_LONG);
}
END_TEST

static Suite *atr_suite(void)
{
    Suite *s = suite_create("atr");
    TCase *tc = tcase_create("parse");

    tcase_add_loop_test(tc, test_vectors, 0, (int)CL_ARRAY_LEN(vectors));
    tcase_add_test(tc, test_benchmark_atr_groups);
    tcase_add_test(tc, test_rate_accessor);
    tcase_add_loop_test(tc, test_errors, 0, (int)CL_ARRAY_LEN(errors));
    tcase_add_test(tc, test_args);
    tcase_add_loop_test(tc, test_expected_len, 0, (int)CL_ARRAY_LEN(expect));
    tcase_add_test(tc, test_inverse);
    suite_add_tcase(s, tc);

    tc = tcase_create("build");
    tcase_add_loop_test(tc, test_build, 0, (int)CL_ARRAY_LEN(builds));
    tcase_add_loop_test(tc, test_build_errors, 0, (int)CL_ARRAY_LEN(build_errors));
    tcase_add_test(tc, test_build_args);
    tcase_add_test(tc, test_build_roundtrip_all);
    suite_add_tcase(s, tc);

    tc = tcase_create("hist");
    tcase_add_loop_test(tc, test_hist, 0, (int)CL_ARRAY_LEN(hists));
    tcase_add_test(tc, test_hist_get);
    suite_add_tcase(s, tc);

    tc = tcase_create("lenient");
    tcase_add_loop_test(tc, test_lenient, 0, (int)CL_ARRAY_LEN(lenient));
    tcase_add_test(tc, test_lenient_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(atr_suite());
}
