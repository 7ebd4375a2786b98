/*
 * cardlink — ISO 7816-3 §8.3 tables and waiting-time arithmetic.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/rate.h"
#include "test_util.h"

/* ISO 7816-3 Table 7 (Fi, f(max)) and Table 8 (Di), every index. */
static const struct { uint16_t fi, fmax; uint8_t di; } tables[16] = {
    { 372, 4000, 0 },   { 372, 5000, 1 },   { 558, 6000, 2 },   { 744, 8000, 4 },
    { 1116, 12000, 8 }, { 1488, 16000, 16 }, { 1860, 20000, 32 }, { 0, 0, 64 },
    { 0, 0, 12 },       { 512, 5000, 20 },  { 768, 7500, 0 },   { 1024, 10000, 0 },
    { 1536, 15000, 0 }, { 2048, 20000, 0 }, { 0, 0, 0 },        { 0, 0, 0 },
};

START_TEST(test_tables)
{
    uint8_t i = (uint8_t)_i;

    ck_assert_uint_eq(cl_rate_fi(i), tables[i].fi);
    ck_assert_uint_eq(cl_rate_fmax_khz(i), tables[i].fmax);
    ck_assert_uint_eq(cl_rate_di(i), tables[i].di);
    if (tables[i].fi != 0 && i != 0)
        ck_assert_int_eq(cl_rate_fi_index(tables[i].fi), i);
    if (tables[i].di != 0)
        ck_assert_int_eq(cl_rate_di_index(tables[i].di), i);
}
END_TEST

START_TEST(test_index_edges)
{
    ck_assert_int_eq(cl_rate_fi_index(372), 1);
    ck_assert_int_eq(cl_rate_fi_index(0), -1);
    ck_assert_int_eq(cl_rate_fi_index(373), -1);
    ck_assert_int_eq(cl_rate_di_index(0), -1);
    ck_assert_int_eq(cl_rate_di_index(3), -1);
    ck_assert_uint_eq(cl_rate_fi(16), 0);
    ck_assert_uint_eq(cl_rate_di(200), 0);
}
END_TEST

static const struct {
    uint32_t f_khz; uint16_t f; uint8_t d; uint32_t baud, etu_ns;
} baud_vectors[] = {
    { 3571, 372, 1, 9599, 104172 },      /* the classic 3.5712 MHz / 9600 bd */
    { 4000, 372, 1, 10752, 93000 },
    { 5000, 512, 8, 78125, 12800 },      /* TA1 = 94 at 5 MHz */
    { 4000, 372, 12, 129032, 7750 },     /* TA1 = 18 */
    { 20000, 512, 64, 2500000, 400 },
    { 1, 2048, 1, 0, 2048000000u },      /* slowest clock: no overflow */
    { 0, 372, 1, 0, 0 },
};

START_TEST(test_baud)
{
    ck_assert_uint_eq(cl_rate_baud(baud_vectors[_i].f_khz, baud_vectors[_i].f, baud_vectors[_i].d),
                      baud_vectors[_i].baud);
    ck_assert_uint_eq(cl_rate_etu_ns(baud_vectors[_i].f_khz, baud_vectors[_i].f, baud_vectors[_i].d),
                      baud_vectors[_i].etu_ns);
}
END_TEST

START_TEST(test_etu_to_us)
{
    ck_assert_uint_eq(cl_rate_etu_to_us(0, 104172), 0);
    ck_assert_uint_eq(cl_rate_etu_to_us(1, 104172), 105);       /* rounded up */
    ck_assert_uint_eq(cl_rate_etu_to_us(9600, 104172), 1000052);
    ck_assert_uint_eq(cl_rate_etu_to_us(15667200, 93000), 1457049600u);  /* WI 255, D 64 */
    ck_assert_uint_eq(cl_rate_etu_to_us(0xFFFFFFFFu, 2048000000u), 0xFFFFFFFFu);
    ck_assert_uint_eq(cl_rate_etu_to_us(999, 0xFFFFFFFFu), 4290672328u);
    ck_assert_uint_eq(cl_rate_etu_to_us(1001, 0xFFFFFFFFu), 0xFFFFFFFFu);
    ck_assert_uint_eq(cl_rate_etu_to_us(1, 1), 1);          /* 1 ns rounds up to 1 us */
    ck_assert_uint_eq(cl_rate_etu_to_us(1000, 1), 1);
    ck_assert_uint_eq(cl_rate_etu_to_us(1001, 1), 2);
    /* no F or D: no rate */
    ck_assert_uint_eq(cl_rate_baud(5000, 0, 1), 0);
    ck_assert_uint_eq(cl_rate_baud(5000, 372, 0), 0);
    ck_assert_uint_eq(cl_rate_etu_ns(5000, 0, 1), 0);
    ck_assert_uint_eq(cl_rate_etu_ns(5000, 372, 0), 0);
    ck_assert_uint_eq(cl_rate_etu_ns(0, 372, 1), 0);
}
END_TEST

START_TEST(test_waiting_times)
{
    /* §10.2: WT = 960 * WI * D etu; default WI 10 -> 9600 etu at D = 1. */
    ck_assert_uint_eq(cl_rate_wt_etu(10, 1), 9600);
    ck_assert_uint_eq(cl_rate_wt_etu(0, 1), 9600);
    ck_assert_uint_eq(cl_rate_wt_etu(255, 64), 15667200);
    /* §11.4.3: BWT = 11 etu + 2^BWI * 960 * 372 / f; at F = 372, D = 1 that
     * is 11 + 960 * 2^BWI etu. Default BWI 4: 15371 etu. */
    ck_assert_uint_eq(cl_rate_bwt_etu(4, 372, 1), 15371);
    ck_assert_uint_eq(cl_rate_bwt_etu(0, 372, 1), 971);
    ck_assert_uint_eq(cl_rate_bwt_etu(9, 372, 1), 491531);
    ck_assert_uint_eq(cl_rate_bwt_etu(15, 372, 1), 491531);   /* RFU clamps to 9 */
    /* F 512, D 8: 960*372*8/512 = 5580 etu per 2^BWI. */
    ck_assert_uint_eq(cl_rate_bwt_etu(4, 512, 8), 11 + 5580 * 16);
    /* F 1024, D 12: 960*372*12/1024 = 4185 exactly; F 744 D 20: 9600. */
    ck_assert_uint_eq(cl_rate_bwt_etu(1, 1024, 12), 11 + 8370);
    ck_assert_uint_eq(cl_rate_bwt_etu(9, 558, 64), 11 + 20971520);
    /* not a whole number of etu: rounded up (F 512 D 1: 697.5 per 2^BWI;
     * F 2048 D 1: 174.375) */
    ck_assert_uint_eq(cl_rate_bwt_etu(0, 512, 1), 11 + 698);
    ck_assert_uint_eq(cl_rate_bwt_etu(4, 512, 1), 11 + 11160);
    ck_assert_uint_eq(cl_rate_bwt_etu(0, 2048, 1), 11 + 175);
    ck_assert_uint_eq(cl_rate_bwt_etu(1, 2048, 1), 11 + 349);
    ck_assert_uint_eq(cl_rate_bwt_etu(3, 2048, 1), 11 + 1395);
    /* F and D of 0: the defaults; BWI 10 (the first RFU) clamps like 15 */
    ck_assert_uint_eq(cl_rate_bwt_etu(4, 0, 0), 15371);
    ck_assert_uint_eq(cl_rate_bwt_etu(10, 372, 1), 491531);
    ck_assert_uint_eq(cl_rate_wt_etu(10, 0), 9600);
    /* CWT = 11 + 2^CWI etu; default CWI 13 -> 8203. */
    ck_assert_uint_eq(cl_rate_cwt_etu(13), 8203);
    ck_assert_uint_eq(cl_rate_cwt_etu(0), 12);
    ck_assert_uint_eq(cl_rate_cwt_etu(15), 32779);
    ck_assert_uint_eq(cl_rate_cwt_etu(16), 32779);   /* clamped */
    ck_assert_uint_eq(cl_rate_cwt_etu(255), 32779);
}
END_TEST

static Suite *rate_suite(void)
{
    Suite *s = suite_create("rate");
    TCase *tc = tcase_create("iso7816-3 8.3");

    tcase_add_loop_test(tc, test_tables, 0, 16);
    tcase_add_test(tc, test_index_edges);
    tcase_add_loop_test(tc, test_baud, 0, (int)(sizeof(baud_vectors) / sizeof(baud_vectors[0])));
    tcase_add_test(tc, test_etu_to_us);
    tcase_add_test(tc, test_waiting_times);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(rate_suite());
}
