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

/* The bit-by-bit definition of cardlink/edc.h, as the model every build
 * of cl_crc16_update() (CL_EDC_CRC_TABLE 0, 16, 256, 2048) must match. */
static uint16_t crc_model(uint16_t crc, const uint8_t *buf, size_t len)
{
    size_t i;
    int bit;

    for (i = 0; i < len; i++) {
        crc ^= buf[i];
        for (bit = 0; bit < 8; bit++)
            crc = (uint16_t)((crc & 1u) ? (crc >> 1) ^ 0x8408u : crc >> 1);
    }
    return crc;
}

/* Every length up to a longest T=1 block and more, odd and even, from
 * every start alignment, in one call and split in two at every point. */
START_TEST(test_crc_model)
{
    uint8_t buf[300];
    size_t len, cut, off;
    uint32_t x = 12345;

    for (len = 0; len < sizeof(buf); len++) {
        x = x * 1103515245u + 12345u;
        buf[len] = (uint8_t)(x >> 16);
    }
    for (off = 0; off < 4; off++)
        for (len = 0; len + off <= 270; len++)
            ck_assert_uint_eq(cl_crc16(buf + off, len),
                              crc_model(CL_CRC16_INIT, buf + off, len));
    for (cut = 0; cut <= 261; cut++) {
        uint16_t c = cl_crc16_update(CL_CRC16_INIT, buf, cut);

        ck_assert_uint_eq(cl_crc16_update(c, buf + cut, 261 - cut),
                          crc_model(CL_CRC16_INIT, buf, 261));
    }
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

/* The word-at-a-time LRC (overlapping loads for the tail) against a byte
 * loop, for every length 0..300 (past a longest T=1 block, so the 32-byte
 * loop runs up to nine times) at every alignment 0..7: each byte of the
 * input is a distinct bit pattern, so a byte counted twice or missed shows. */
START_TEST(test_lrc_lengths)
{
    uint8_t buf[300 + 8];
    size_t len, i;
    unsigned off = (unsigned)_i;

    for (i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(0x5Au ^ (i * 0x3Bu) ^ (i >> 3));
    for (len = 0; len <= 300; len++) {
        uint8_t want = 0;

        for (i = 0; i < len; i++)
            want ^= buf[off + i];
        ck_assert_msg(cl_lrc(buf + off, len) == want, "len %zu offset %u", len, off);
        /* one byte changed changes the LRC */
        if (len) {
            buf[off + len - 1] ^= 0x81u;
            ck_assert_uint_eq(cl_lrc(buf + off, len), (uint8_t)(want ^ 0x81u));
            buf[off + len - 1] ^= 0x81u;
        }
    }
}
END_TEST

static Suite *edc_suite(void)
{
    Suite *s = suite_create("edc");
    TCase *tc = tcase_create("vectors");

    tcase_add_loop_test(tc, test_crc_vectors, 0, (int)(sizeof(crc_vectors) / sizeof(crc_vectors[0])));
    tcase_add_test(tc, test_crc_incremental);
    tcase_add_test(tc, test_crc_model);
    tcase_add_test(tc, test_lrc);
    tcase_add_loop_test(tc, test_lrc_lengths, 0, 8);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(edc_suite());
}
