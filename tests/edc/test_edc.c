/*
 * cardlink — LRC and CRC-16 against published vectors.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/edc.h"
#include "test_util.h"

/* CRC-16/MCRF4XX catalogue entry (poly 0x1021 reflected, init FFFF, no
 * xorout) plus short inputs computed with an independent model (Python). */
static const struct {
    const char *data;   /* hex */
    unsigned crc;
} crc_vectors[] = {
    { "313233343536373839", 0x6F91 },   /* "123456789": catalogue check value */
    { "", 0xFFFF },                       /* empty input: the initial value */
    { "00", 0x0F87 },
    { "FF", 0x00FF },
    { "000000", 0x3933 },                 /* T=1 I(0,0) with no data */
};

START_TEST(test_crc_vectors)
{
    uint8_t buf[64];
    int n = cl_test_hex(crc_vectors[_i].data, buf, sizeof(buf));

    ck_assert_int_ge(n, 0);
    ck_assert_uint_eq(cl_crc16(buf, (size_t)n), crc_vectors[_i].crc);
}
END_TEST

START_TEST(test_crc_incremental)
{
    const uint8_t msg[] = "123456789";
    uint16_t c = CL_CRC16_INIT;
    size_t i;

    for (i = 0; i < 9; i++)
        c = cl_crc16_update(c, &msg[i], 1);
    ck_assert_uint_eq(c, 0x6F91);
}
END_TEST

/* LRC vectors: ISO 7816-3 example S(IFS request) with IFS 0xFE, and the TCK
 * of a real T=1 ATR (LRC over T0..TCK is zero). */
START_TEST(test_lrc)
{
    uint8_t buf[64];
    int n;

    ck_assert_uint_eq(cl_lrc(NULL, 0), 0);
    n = cl_test_hex("00 C1 01 FE", buf, sizeof(buf));
    ck_assert_uint_eq(cl_lrc(buf, (size_t)n), 0x3E);
    /* ATR 3B DB 96 00 80 B1 FE 45 1F 83 00 31 C0 64 C7 FC 10 00 01 90 00 74:
     * XOR of every byte after TS, TCK included, is zero. */
    n = cl_test_hex("DB 96 00 80 B1 FE 45 1F 83 00 31 C0 64 C7 FC 10 00 01 90 00 74",
                    buf, sizeof(buf));
    ck_assert_uint_eq(cl_lrc(buf, (size_t)n), 0);
}
END_TEST

static Suite *edc_suite(void)
{
    Suite *s = suite_create("edc");
    TCase *tc = tcase_create("vectors");

    tcase_add_loop_test(tc, test_crc_vectors, 0, (int)(sizeof(crc_vectors) / sizeof(crc_vectors[0])));
    tcase_add_test(tc, test_crc_incremental);
    tcase_add_test(tc, test_lrc);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(edc_suite());
}
