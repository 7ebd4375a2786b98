/*
 * cardlink — command/response APDU codec and status words (ISO/IEC 7816-4).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <string.h>

#include "cardlink/apdu.h"
#include "cardlink/error.h"
#include "cardlink/sw.h"
#include "test_util.h"

/* Command data of every vector: byte i is A0 + i (mod 256). */
static uint8_t pattern[CL_APDU_NC_MAX];
static uint8_t expect[CL_APDU_ENCODED_MAX];
static uint8_t outbuf[CL_APDU_ENCODED_MAX + 1];

static void fill_pattern(void)
{
    size_t i;

    for (i = 0; i < sizeof(pattern); i++)
        pattern[i] = (uint8_t)(0xA0 + i);
}

/*
 * Encoding vectors, ISO 7816-4 §5.1 (command-response pairs, Table 1 cases
 * and the Lc/Le field codings). The encoding is head, nc pattern bytes,
 * tail. ext asks for the extended form; "case" is what must be chosen.
 */
static const struct {
    uint8_t cla, ins, p1, p2;
    size_t nc, ne;
    bool ext;
    enum cl_apdu_case c;
    const char *head, *tail;
} enc_vectors[] = {
    /* case 1: header only, in either form */
    { 0x00, 0xA4, 0x04, 0x00, 0, 0, false, CL_APDU_CASE_1, "00 A4 04 00", "" },
    { 0x00, 0xA4, 0x04, 0x00, 0, 0, true, CL_APDU_CASE_1, "00 A4 04 00", "" },
    /* case 2S: Le one byte, 00 = 256 */
    { 0x00, 0xB0, 0x00, 0x00, 0, 1, false, CL_APDU_CASE_2S, "00 B0 00 00 01", "" },
    { 0x00, 0xB0, 0x00, 0x00, 0, 255, false, CL_APDU_CASE_2S, "00 B0 00 00 FF", "" },
    { 0x80, 0xCA, 0x9F, 0x7F, 0, 256, false, CL_APDU_CASE_2S, "80 CA 9F 7F 00", "" },
    /* case 2E: 00 Le1 Le2, 0000 = 65536 */
    { 0x00, 0xB0, 0x00, 0x00, 0, 257, false, CL_APDU_CASE_2E, "00 B0 00 00 00 01 01", "" },
    { 0x00, 0xB0, 0x00, 0x00, 0, 65535, false, CL_APDU_CASE_2E, "00 B0 00 00 00 FF FF", "" },
    { 0x00, 0xB0, 0x00, 0x00, 0, 65536, false, CL_APDU_CASE_2E, "00 B0 00 00 00 00 00", "" },
    { 0x00, 0xB0, 0x00, 0x00, 0, 1, true, CL_APDU_CASE_2E, "00 B0 00 00 00 00 01", "" },
    { 0x00, 0xB0, 0x00, 0x00, 0, 256, true, CL_APDU_CASE_2E, "00 B0 00 00 00 01 00", "" },
    { 0x00, 0xB0, 0x00, 0x00, 0, 65536, true, CL_APDU_CASE_2E, "00 B0 00 00 00 00 00", "" },
    /* case 3S: Lc one byte 01..FF */
    { 0x00, 0xD6, 0x00, 0x00, 1, 0, false, CL_APDU_CASE_3S, "00 D6 00 00 01", "" },
    { 0x00, 0xD6, 0x00, 0x00, 255, 0, false, CL_APDU_CASE_3S, "00 D6 00 00 FF", "" },
    /* case 3E: 00 Lc1 Lc2 data */
    { 0x00, 0xD6, 0x00, 0x00, 256, 0, false, CL_APDU_CASE_3E, "00 D6 00 00 00 01 00", "" },
    { 0x00, 0xD6, 0x00, 0x00, 65535, 0, false, CL_APDU_CASE_3E, "00 D6 00 00 00 FF FF", "" },
    { 0x00, 0xD6, 0x00, 0x00, 2, 0, true, CL_APDU_CASE_3E, "00 D6 00 00 00 00 02", "" },
    { 0x00, 0xD6, 0x00, 0x00, 255, 0, true, CL_APDU_CASE_3E, "00 D6 00 00 00 00 FF", "" },
    /* case 4S: Lc data Le */
    { 0x00, 0x88, 0x00, 0x00, 1, 1, false, CL_APDU_CASE_4S, "00 88 00 00 01", "01" },
    { 0x00, 0xA4, 0x04, 0x00, 2, 256, false, CL_APDU_CASE_4S, "00 A4 04 00 02", "00" },
    { 0x00, 0xA4, 0x04, 0x00, 255, 256, false, CL_APDU_CASE_4S, "00 A4 04 00 FF", "00" },
    { 0x00, 0xA4, 0x04, 0x00, 255, 255, false, CL_APDU_CASE_4S, "00 A4 04 00 FF", "FF" },
    /* case 4E: 00 Lc1 Lc2 data Le1 Le2, no second 00 before Le */
    { 0x00, 0x2A, 0x9E, 0x9A, 256, 1, false, CL_APDU_CASE_4E, "00 2A 9E 9A 00 01 00", "00 01" },
    { 0x00, 0x2A, 0x9E, 0x9A, 1, 257, false, CL_APDU_CASE_4E, "00 2A 9E 9A 00 00 01", "01 01" },
    { 0x00, 0x2A, 0x9E, 0x9A, 255, 65536, false, CL_APDU_CASE_4E, "00 2A 9E 9A 00 00 FF", "00 00" },
    { 0x00, 0x2A, 0x9E, 0x9A, 65535, 65536, false, CL_APDU_CASE_4E, "00 2A 9E 9A 00 FF FF", "00 00" },
    { 0x00, 0x2A, 0x9E, 0x9A, 256, 256, false, CL_APDU_CASE_4E, "00 2A 9E 9A 00 01 00", "01 00" },
    { 0x0C, 0x2A, 0x9E, 0x9A, 2, 5, true, CL_APDU_CASE_4E, "0C 2A 9E 9A 00 00 02", "00 05" },
};

/* Expected bytes of vector i into expect; returns the length. */
static size_t build_expected(int i)
{
    int h = cl_test_hex(enc_vectors[i].head, expect, sizeof(expect));
    int t;

    ck_assert_int_ge(h, 4);
    memcpy(expect + h, pattern, enc_vectors[i].nc);
    t = cl_test_hex(enc_vectors[i].tail, expect + h + enc_vectors[i].nc,
                    sizeof(expect) - (size_t)h - enc_vectors[i].nc);
    ck_assert_int_ge(t, 0);
    return (size_t)h + enc_vectors[i].nc + (size_t)t;
}

static struct cl_apdu vector_apdu(int i)
{
    struct cl_apdu a;

    a.cla = enc_vectors[i].cla;
    a.ins = enc_vectors[i].ins;
    a.p1 = enc_vectors[i].p1;
    a.p2 = enc_vectors[i].p2;
    a.data = enc_vectors[i].nc ? pattern : NULL;
    a.nc = enc_vectors[i].nc;
    a.ne = enc_vectors[i].ne;
    return a;
}

START_TEST(test_encode_vectors)
{
    struct cl_apdu a = vector_apdu(_i);
    size_t n = build_expected(_i), len = 0;

    ck_assert_int_eq(cl_apdu_case(&a, enc_vectors[_i].ext), (int)enc_vectors[_i].c);
    ck_assert_int_eq(cl_apdu_encode(&a, enc_vectors[_i].ext, outbuf, sizeof(outbuf), &len), CL_OK);
    ck_assert_uint_eq(len, n);
    ck_assert_msg(memcmp(outbuf, expect, n) == 0, "vector %d: got %s", _i,
                  cl_test_tohex(outbuf, len < 32 ? len : 32));

    /* Exactly the right size works; one byte less writes nothing and
     * reports the size needed; a NULL buffer of size 0 asks for it. */
    memset(outbuf, 0x5A, sizeof(outbuf));
    ck_assert_int_eq(cl_apdu_encode(&a, enc_vectors[_i].ext, outbuf, n, &len), CL_OK);
    ck_assert_int_eq(memcmp(outbuf, expect, n), 0);
    ck_assert_uint_eq(outbuf[n], 0x5A);
    memset(outbuf, 0x5A, sizeof(outbuf));
    len = 0;
    ck_assert_int_eq(cl_apdu_encode(&a, enc_vectors[_i].ext, outbuf, n - 1, &len), CL_ERR_BUFFER);
    ck_assert_uint_eq(len, n);
    ck_assert_uint_eq(outbuf[0], 0x5A);
    len = 0;
    ck_assert_int_eq(cl_apdu_encode(&a, enc_vectors[_i].ext, NULL, 0, &len), CL_ERR_BUFFER);
    ck_assert_uint_eq(len, n);
}
END_TEST

START_TEST(test_decode_vectors)
{
    size_t n = build_expected(_i), len = 0;
    struct cl_apdu d;
    enum cl_apdu_case c = (enum cl_apdu_case)0;

    ck_assert_int_eq(cl_apdu_decode(expect, n, &d, &c), CL_OK);
    ck_assert_int_eq(c, enc_vectors[_i].c);
    ck_assert_uint_eq(d.cla, enc_vectors[_i].cla);
    ck_assert_uint_eq(d.ins, enc_vectors[_i].ins);
    ck_assert_uint_eq(d.p1, enc_vectors[_i].p1);
    ck_assert_uint_eq(d.p2, enc_vectors[_i].p2);
    ck_assert_uint_eq(d.nc, enc_vectors[_i].nc);
    ck_assert_uint_eq(d.ne, enc_vectors[_i].ne);
    if (d.nc) {
        /* No copy: data points at the command data inside the input. */
        ck_assert_ptr_eq(d.data, expect + (CL_APDU_CASE_IS_EXTENDED(c) ? 7 : 5));
        ck_assert_int_eq(memcmp(d.data, pattern, d.nc), 0);
    } else {
        ck_assert_ptr_null(d.data);
    }
    /* Re-encoding in the form found gives the same bytes. */
    ck_assert_int_eq(cl_apdu_encode(&d, CL_APDU_CASE_IS_EXTENDED(c), outbuf, sizeof(outbuf), &len), CL_OK);
    ck_assert_uint_eq(len, n);
    ck_assert_int_eq(memcmp(outbuf, expect, n), 0);
    /* The case pointer is optional. */
    ck_assert_int_eq(cl_apdu_decode(expect, n, &d, NULL), CL_OK);
}
END_TEST

/* Inputs that ISO 7816-4 §5.1's decoding rules reject. */
static const struct {
    const char *hex;
    int err;
} bad_vectors[] = {
    { "", CL_ERR_TRUNCATED },
    { "00", CL_ERR_TRUNCATED },
    { "00 A4 04", CL_ERR_TRUNCATED },                        /* 3 bytes */
    { "00 A4 04 00 00 05", CL_ERR_MALFORMED },              /* short Lc = 0, Le */
    { "00 A4 04 00 00 00", CL_ERR_MALFORMED },              /* half an extended Le */
    { "00 A4 04 00 00 00 00 AA", CL_ERR_MALFORMED },        /* extended Lc = 0 */
    { "00 A4 04 00 00 00 00 00 00", CL_ERR_MALFORMED },     /* extended Lc = 0, Le */
    { "00 A4 04 00 00 00 00 00 00 00", CL_ERR_MALFORMED },
    { "00 A4 04 00 02 AA", CL_ERR_LENGTH },                 /* Lc 2, 1 byte */
    { "00 A4 04 00 01 AA BB CC", CL_ERR_LENGTH },           /* Lc 1, 3 bytes */
    { "00 A4 04 00 02 AA BB 00 05", CL_ERR_LENGTH },        /* short Lc, 2 Le bytes */
    { "00 A4 04 00 FF AA", CL_ERR_LENGTH },
    { "00 A4 04 00 00 00 02 AA", CL_ERR_LENGTH },           /* 3E, data short */
    { "00 A4 04 00 00 00 02 AA BB 05", CL_ERR_LENGTH },     /* extended Lc, short Le */
    { "00 A4 04 00 00 00 02 AA BB 00 00 05", CL_ERR_LENGTH }, /* 00 before Le in 4E */
    { "00 A4 04 00 00 00 01 AA BB", CL_ERR_LENGTH },        /* Lc 1, 2 bytes */
    { "00 A4 04 00 00 01 00 AA", CL_ERR_LENGTH },           /* Lc 256, 1 byte */
    { "00 A4 04 00 00 00 05 05", CL_ERR_LENGTH },           /* 2E with a byte extra */
};

START_TEST(test_decode_malformed)
{
    uint8_t buf[64];
    int n = cl_test_hex(bad_vectors[_i].hex, buf, sizeof(buf));
    struct cl_apdu d, before;
    enum cl_apdu_case c = CL_APDU_CASE_4E;

    ck_assert_int_ge(n, 0);
    memset(&d, 0x33, sizeof(d));
    before = d;
    ck_assert_int_eq(cl_apdu_decode(buf, (size_t)n, &d, &c), bad_vectors[_i].err);
    /* Nothing is written on error. */
    ck_assert_int_eq(memcmp(&d, &before, sizeof(d)), 0);
    ck_assert_int_eq(c, CL_APDU_CASE_4E);
}
END_TEST

/* Long inputs whose Lc contradicts the length: the extended maxima. */
START_TEST(test_decode_long_malformed)
{
    static uint8_t buf[CL_APDU_ENCODED_MAX + 2];
    struct cl_apdu d;
    enum cl_apdu_case c;

    memset(buf, 0, sizeof(buf));
    buf[5] = 0xFF;
    buf[6] = 0xFF;
    /* 00 FF FF then 65535 bytes: 3E; +2: 4E; +1 or +3: wrong. */
    ck_assert_int_eq(cl_apdu_decode(buf, 7 + 65535, &d, &c), CL_OK);
    ck_assert_int_eq(c, CL_APDU_CASE_3E);
    ck_assert_int_eq(cl_apdu_decode(buf, 7 + 65535 + 2, &d, &c), CL_OK);
    ck_assert_int_eq(c, CL_APDU_CASE_4E);
    ck_assert_uint_eq(d.ne, 65536);
    ck_assert_int_eq(cl_apdu_decode(buf, 7 + 65535 + 1, &d, &c), CL_ERR_LENGTH);
    ck_assert_int_eq(cl_apdu_decode(buf, 7 + 65535 + 3, &d, &c), CL_ERR_LENGTH);
    ck_assert_int_eq(cl_apdu_decode(buf, 7 + 65534, &d, &c), CL_ERR_LENGTH);
}
END_TEST

/* Decode-only forms: every value of a short Le, and short-looking extended
 * Le values that the encoder gives back only when asked for extended. */
START_TEST(test_decode_le_forms)
{
    uint8_t buf[16];
    struct cl_apdu d;
    enum cl_apdu_case c;
    size_t len;
    unsigned v;

    memcpy(buf, "\x00\xB0\x00\x00", 4);
    for (v = 0; v < 256; v++) {
        buf[4] = (uint8_t)v;
        ck_assert_int_eq(cl_apdu_decode(buf, 5, &d, &c), CL_OK);
        ck_assert_int_eq(c, CL_APDU_CASE_2S);
        ck_assert_uint_eq(d.ne, v ? v : 256);
        ck_assert_int_eq(cl_apdu_encode(&d, false, outbuf, sizeof(outbuf), &len), CL_OK);
        ck_assert_int_eq(memcmp(outbuf, buf, 5), 0);
    }
    ck_assert_int_eq(cl_test_hex("00 B0 00 00 00 00 05", buf, sizeof(buf)), 7);
    ck_assert_int_eq(cl_apdu_decode(buf, 7, &d, &c), CL_OK);
    ck_assert_int_eq(c, CL_APDU_CASE_2E);
    ck_assert_uint_eq(d.ne, 5);
    ck_assert_int_eq(cl_apdu_encode(&d, false, outbuf, sizeof(outbuf), &len), CL_OK);
    cl_assert_bytes(outbuf, len, "00 B0 00 00 05");
}
END_TEST

START_TEST(test_apdu_args)
{
    struct cl_apdu a;
    uint8_t buf[8];
    size_t len;

    memset(&a, 0, sizeof(a));
    ck_assert_int_eq(cl_apdu_case(NULL, false), CL_ERR_ARG);
    ck_assert_int_eq(cl_apdu_encode(NULL, false, buf, sizeof(buf), &len), CL_ERR_ARG);
    ck_assert_int_eq(cl_apdu_encode(&a, false, buf, sizeof(buf), NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_apdu_encode(&a, false, NULL, 4, &len), CL_ERR_ARG);
    a.nc = 65536;
    a.data = pattern;
    ck_assert_int_eq(cl_apdu_case(&a, false), CL_ERR_ARG);
    ck_assert_int_eq(cl_apdu_encode(&a, false, outbuf, sizeof(outbuf), &len), CL_ERR_ARG);
    a.nc = 65535;
    ck_assert_int_eq(cl_apdu_case(&a, false), CL_APDU_CASE_3E);
    a.ne = 65537;
    ck_assert_int_eq(cl_apdu_case(&a, false), CL_ERR_ARG);
    ck_assert_int_eq(cl_apdu_encode(&a, false, outbuf, sizeof(outbuf), &len), CL_ERR_ARG);
    a.ne = 65536;
    ck_assert_int_eq(cl_apdu_case(&a, false), CL_APDU_CASE_4E);
    a.data = NULL;
    ck_assert_int_eq(cl_apdu_case(&a, false), CL_ERR_ARG);
    ck_assert_int_eq(cl_apdu_encode(&a, false, outbuf, sizeof(outbuf), &len), CL_ERR_ARG);
    a.nc = 0;
    ck_assert_int_eq(cl_apdu_case(&a, false), CL_APDU_CASE_2E);

    ck_assert_int_eq(cl_apdu_decode(buf, 4, NULL, NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_apdu_decode(NULL, 4, &a, NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_apdu_decode(NULL, 0, &a, NULL), CL_ERR_TRUNCATED);
}
END_TEST

/* ISO 7816-4 class and instruction bytes: CLA FF, INS 6X and 9X invalid. */
static const struct {
    uint8_t cla, ins;
    int err;
} hdr_vectors[] = {
    { 0x00, 0xA4, CL_OK },
    { 0x80, 0xCA, CL_OK },
    { 0xFE, 0x00, CL_OK },
    { 0x00, 0x5F, CL_OK },
    { 0x00, 0x70, CL_OK },
    { 0x00, 0x8F, CL_OK },
    { 0x00, 0xA0, CL_OK },
    { 0x00, 0xB1, CL_OK },               /* odd INS is valid since 2005 */
    { 0xFF, 0xA4, CL_ERR_RESERVED },
    { 0xFF, 0x00, CL_ERR_RESERVED },
    { 0x00, 0x60, CL_ERR_RESERVED },
    { 0x00, 0x6F, CL_ERR_RESERVED },
    { 0x00, 0x61, CL_ERR_RESERVED },
    { 0x00, 0x90, CL_ERR_RESERVED },
    { 0x00, 0x9F, CL_ERR_RESERVED },
};

START_TEST(test_check_header)
{
    struct cl_apdu a;

    memset(&a, 0, sizeof(a));
    a.cla = hdr_vectors[_i].cla;
    a.ins = hdr_vectors[_i].ins;
    ck_assert_int_eq(cl_apdu_check_header(&a), hdr_vectors[_i].err);
}
END_TEST

START_TEST(test_check_header_null)
{
    ck_assert_int_eq(cl_apdu_check_header(NULL), CL_ERR_ARG);
}
END_TEST

START_TEST(test_rapdu_split)
{
    static uint8_t big[CL_RAPDU_MAX + 1];
    uint8_t buf[8];
    const uint8_t *data = buf;
    size_t dlen = 99;
    uint16_t sw = 0;

    ck_assert_int_eq(cl_test_hex("90 00", buf, sizeof(buf)), 2);
    ck_assert_int_eq(cl_rapdu_split(buf, 2, &data, &dlen, &sw), CL_OK);
    ck_assert_ptr_null(data);
    ck_assert_uint_eq(dlen, 0);
    ck_assert_uint_eq(sw, 0x9000);

    ck_assert_int_eq(cl_test_hex("01 02 03 61 10", buf, sizeof(buf)), 5);
    ck_assert_int_eq(cl_rapdu_split(buf, 5, &data, &dlen, &sw), CL_OK);
    ck_assert_ptr_eq(data, buf);
    ck_assert_uint_eq(dlen, 3);
    ck_assert_uint_eq(sw, 0x6110);

    /* Errors write nothing. */
    sw = 0x1234;
    ck_assert_int_eq(cl_rapdu_split(buf, 1, &data, &dlen, &sw), CL_ERR_TRUNCATED);
    ck_assert_int_eq(cl_rapdu_split(buf, 0, &data, &dlen, &sw), CL_ERR_TRUNCATED);
    ck_assert_int_eq(cl_rapdu_split(NULL, 2, &data, &dlen, &sw), CL_ERR_ARG);
    ck_assert_int_eq(cl_rapdu_split(buf, 2, NULL, &dlen, &sw), CL_ERR_ARG);
    ck_assert_int_eq(cl_rapdu_split(buf, 2, &data, NULL, &sw), CL_ERR_ARG);
    ck_assert_int_eq(cl_rapdu_split(buf, 2, &data, &dlen, NULL), CL_ERR_ARG);
    ck_assert_uint_eq(sw, 0x1234);

    /* 65536 data bytes is the most Ne allows. */
    big[CL_RAPDU_MAX - 2] = 0x90;
    ck_assert_int_eq(cl_rapdu_split(big, CL_RAPDU_MAX, &data, &dlen, &sw), CL_OK);
    ck_assert_uint_eq(dlen, 65536);
    ck_assert_uint_eq(sw, 0x9000);
    ck_assert_int_eq(cl_rapdu_split(big, CL_RAPDU_MAX + 1, &data, &dlen, &sw), CL_ERR_TOO_LONG);
}
END_TEST

START_TEST(test_rapdu_build)
{
    uint8_t buf[8];
    size_t len = 0;
    const uint8_t data[3] = { 0x6F, 0x01, 0x84 };

    ck_assert_int_eq(cl_rapdu_build(data, 3, 0x9000, buf, sizeof(buf), &len), CL_OK);
    cl_assert_bytes(buf, len, "6F 01 84 90 00");
    ck_assert_int_eq(cl_rapdu_build(NULL, 0, 0x6A82, buf, 2, &len), CL_OK);
    cl_assert_bytes(buf, len, "6A 82");
    /* In place: the data is already in out. */
    memcpy(buf, "\x01\x02", 2);
    ck_assert_int_eq(cl_rapdu_build(buf, 2, 0x6283, buf, 4, &len), CL_OK);
    cl_assert_bytes(buf, len, "01 02 62 83");
    /* Overlapping: data moves down by one. */
    ck_assert_int_eq(cl_rapdu_build(buf + 1, 2, 0x6110, buf, sizeof(buf), &len), CL_OK);
    cl_assert_bytes(buf, len, "02 62 61 10");

    memset(buf, 0x5A, sizeof(buf));
    ck_assert_int_eq(cl_rapdu_build(data, 3, 0x9000, buf, 4, &len), CL_ERR_BUFFER);
    ck_assert_int_eq(cl_rapdu_build(NULL, 0, 0x9000, buf, 1, &len), CL_ERR_BUFFER);
    ck_assert_uint_eq(buf[0], 0x5A);
    ck_assert_int_eq(cl_rapdu_build(data, 3, 0x9000, NULL, 8, &len), CL_ERR_ARG);
    ck_assert_int_eq(cl_rapdu_build(data, 3, 0x9000, buf, 8, NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_rapdu_build(NULL, 3, 0x9000, buf, 8, &len), CL_ERR_ARG);
    ck_assert_int_eq(cl_rapdu_build(pattern, 65537, 0x9000, outbuf, sizeof(outbuf), &len), CL_ERR_ARG);
}
END_TEST

/* Status words, ISO 7816-4 §5.6 (Table 5/6: SW1-SW2 values). */
static const struct {
    uint16_t sw;
    enum cl_sw_class cls;
    bool success;
    int retries;
    const char *text;
} sw_vectors[] = {
    { 0x9000, CL_SW_CLASS_SUCCESS, true, -1, "No error" },
    { 0x6100, CL_SW_CLASS_MORE_DATA, true, -1, "More data available" },
    { 0x6110, CL_SW_CLASS_MORE_DATA, true, -1, "More data available" },
    { 0x61FF, CL_SW_CLASS_MORE_DATA, true, -1, "More data available" },
    { 0x6200, CL_SW_CLASS_WARNING, false, -1, "Warning, memory unchanged" },
    { 0x6201, CL_SW_CLASS_WARNING, false, -1, "Warning" },
    { 0x6202, CL_SW_CLASS_WARNING, false, -1, "Triggering by the card" },
    { 0x6240, CL_SW_CLASS_WARNING, false, -1, "Triggering by the card" },
    { 0x6280, CL_SW_CLASS_WARNING, false, -1, "Triggering by the card" },
    { 0x6281, CL_SW_CLASS_WARNING, false, -1, "Data may be corrupted" },
    { 0x6282, CL_SW_CLASS_WARNING, false, -1, "End reached before Ne bytes" },
    { 0x6283, CL_SW_CLASS_WARNING, false, -1, "Selected file deactivated" },
    { 0x6284, CL_SW_CLASS_WARNING, false, -1, "File control info bad format" },
    { 0x6285, CL_SW_CLASS_WARNING, false, -1, "Selected file terminated" },
    { 0x6286, CL_SW_CLASS_WARNING, false, -1, "No input data from sensor" },
    { 0x6287, CL_SW_CLASS_WARNING, false, -1, "Referenced record deactivated" },
    { 0x6288, CL_SW_CLASS_WARNING, false, -1, "Warning" },
    { 0x62FF, CL_SW_CLASS_WARNING, false, -1, "Warning" },
    { 0x6300, CL_SW_CLASS_WARNING, false, -1, "Warning, memory changed" },
    { 0x6381, CL_SW_CLASS_WARNING, false, -1, "File filled up by last write" },
    { 0x6382, CL_SW_CLASS_WARNING, false, -1, "Warning" },
    { 0x63C0, CL_SW_CLASS_WARNING, false, 0, "Verify failed, X tries left" },
    { 0x63C3, CL_SW_CLASS_WARNING, false, 3, "Verify failed, X tries left" },
    { 0x63CF, CL_SW_CLASS_WARNING, false, 15, "Verify failed, X tries left" },
    { 0x63D0, CL_SW_CLASS_WARNING, false, -1, "Warning" },
    { 0x6400, CL_SW_CLASS_EXEC_ERROR, false, -1, "Error, memory unchanged" },
    { 0x6401, CL_SW_CLASS_EXEC_ERROR, false, -1, "Immediate response required" },
    { 0x6402, CL_SW_CLASS_EXEC_ERROR, false, -1, "Triggering by the card" },
    { 0x6480, CL_SW_CLASS_EXEC_ERROR, false, -1, "Triggering by the card" },
    { 0x6481, CL_SW_CLASS_EXEC_ERROR, false, -1, "Execution error" },
    { 0x6500, CL_SW_CLASS_EXEC_ERROR, false, -1, "Error, memory changed" },
    { 0x6581, CL_SW_CLASS_EXEC_ERROR, false, -1, "Memory failure" },
    { 0x6502, CL_SW_CLASS_EXEC_ERROR, false, -1, "Execution error" },
    { 0x6600, CL_SW_CLASS_EXEC_ERROR, false, -1, "Security-related issue" },
    { 0x6700, CL_SW_CLASS_CHECK_ERROR, false, -1, "Wrong length" },
    { 0x6701, CL_SW_CLASS_CHECK_ERROR, false, -1, "Checking error" },
    { 0x6800, CL_SW_CLASS_CHECK_ERROR, false, -1, "CLA function not supported" },
    { 0x6881, CL_SW_CLASS_CHECK_ERROR, false, -1, "Logical channel not supported" },
    { 0x6882, CL_SW_CLASS_CHECK_ERROR, false, -1, "Secure messaging not supported" },
    { 0x6883, CL_SW_CLASS_CHECK_ERROR, false, -1, "Last command of chain expected" },
    { 0x6884, CL_SW_CLASS_CHECK_ERROR, false, -1, "Command chaining not supported" },
    { 0x6900, CL_SW_CLASS_CHECK_ERROR, false, -1, "Command not allowed" },
    { 0x6981, CL_SW_CLASS_CHECK_ERROR, false, -1, "Incompatible with file structure" },
    { 0x6982, CL_SW_CLASS_CHECK_ERROR, false, -1, "Security status not satisfied" },
    { 0x6983, CL_SW_CLASS_CHECK_ERROR, false, -1, "Authentication method blocked" },
    { 0x6984, CL_SW_CLASS_CHECK_ERROR, false, -1, "Reference data not usable" },
    { 0x6985, CL_SW_CLASS_CHECK_ERROR, false, -1, "Conditions of use not satisfied" },
    { 0x6986, CL_SW_CLASS_CHECK_ERROR, false, -1, "No current EF" },
    { 0x6987, CL_SW_CLASS_CHECK_ERROR, false, -1, "SM data objects missing" },
    { 0x6988, CL_SW_CLASS_CHECK_ERROR, false, -1, "SM data objects incorrect" },
    { 0x6989, CL_SW_CLASS_CHECK_ERROR, false, -1, "Checking error" },
    { 0x6A00, CL_SW_CLASS_CHECK_ERROR, false, -1, "Wrong parameters" },
    { 0x6A80, CL_SW_CLASS_CHECK_ERROR, false, -1, "Incorrect data field" },
    { 0x6A81, CL_SW_CLASS_CHECK_ERROR, false, -1, "Function not supported" },
    { 0x6A82, CL_SW_CLASS_CHECK_ERROR, false, -1, "File or application not found" },
    { 0x6A83, CL_SW_CLASS_CHECK_ERROR, false, -1, "Record not found" },
    { 0x6A84, CL_SW_CLASS_CHECK_ERROR, false, -1, "Not enough memory in file" },
    { 0x6A85, CL_SW_CLASS_CHECK_ERROR, false, -1, "Nc inconsistent with TLV" },
    { 0x6A86, CL_SW_CLASS_CHECK_ERROR, false, -1, "Incorrect P1-P2" },
    { 0x6A87, CL_SW_CLASS_CHECK_ERROR, false, -1, "Nc inconsistent with P1-P2" },
    { 0x6A88, CL_SW_CLASS_CHECK_ERROR, false, -1, "Referenced data not found" },
    { 0x6A89, CL_SW_CLASS_CHECK_ERROR, false, -1, "File already exists" },
    { 0x6A8A, CL_SW_CLASS_CHECK_ERROR, false, -1, "DF name already exists" },
    { 0x6A8B, CL_SW_CLASS_CHECK_ERROR, false, -1, "Checking error" },
    { 0x6B00, CL_SW_CLASS_CHECK_ERROR, false, -1, "Wrong P1-P2" },
    { 0x6C00, CL_SW_CLASS_WRONG_LE, false, -1, "Wrong Le, SW2 = bytes available" },
    { 0x6C10, CL_SW_CLASS_WRONG_LE, false, -1, "Wrong Le, SW2 = bytes available" },
    { 0x6D00, CL_SW_CLASS_CHECK_ERROR, false, -1, "INS not supported or invalid" },
    { 0x6E00, CL_SW_CLASS_CHECK_ERROR, false, -1, "CLA not supported" },
    { 0x6F00, CL_SW_CLASS_CHECK_ERROR, false, -1, "No precise diagnosis" },
    { 0x6FFF, CL_SW_CLASS_CHECK_ERROR, false, -1, "Checking error" },
    { 0x9001, CL_SW_CLASS_PROPRIETARY, false, -1, "Proprietary status" },
    { 0x9100, CL_SW_CLASS_PROPRIETARY, false, -1, "Proprietary status" },
    { 0x9FFF, CL_SW_CLASS_PROPRIETARY, false, -1, "Proprietary status" },
    { 0x6000, CL_SW_CLASS_INVALID, false, -1, "Invalid status word" },
    { 0x60FF, CL_SW_CLASS_INVALID, false, -1, "Invalid status word" },
    { 0x0000, CL_SW_CLASS_INVALID, false, -1, "Invalid status word" },
    { 0x0003, CL_SW_CLASS_INVALID, false, -1, "Invalid status word" },
    { 0x5F00, CL_SW_CLASS_INVALID, false, -1, "Invalid status word" },
    { 0x7000, CL_SW_CLASS_INVALID, false, -1, "Invalid status word" },
    { 0x8F00, CL_SW_CLASS_INVALID, false, -1, "Invalid status word" },
    { 0xA000, CL_SW_CLASS_INVALID, false, -1, "Invalid status word" },
    { 0xFFFF, CL_SW_CLASS_INVALID, false, -1, "Invalid status word" },
};

START_TEST(test_sw_vectors)
{
    uint16_t sw = sw_vectors[_i].sw;

    ck_assert_int_eq(cl_sw_class(sw), sw_vectors[_i].cls);
    ck_assert_int_eq(cl_sw_is_success(sw), sw_vectors[_i].success);
    ck_assert_int_eq(cl_sw_retries(sw), sw_vectors[_i].retries);
    ck_assert_str_eq(cl_sw_text(sw), sw_vectors[_i].text);
}
END_TEST

/* Every one of the 65536 values: a class consistent with SW1, a non-empty
 * text, and the class text whenever the status word has no entry. */
START_TEST(test_sw_all)
{
    static const char *class_text[8];
    unsigned v;

    class_text[CL_SW_CLASS_INVALID] = cl_sw_text(0x0000);
    class_text[CL_SW_CLASS_SUCCESS] = cl_sw_text(0x9000);
    class_text[CL_SW_CLASS_MORE_DATA] = cl_sw_text(0x6100);
    class_text[CL_SW_CLASS_WARNING] = cl_sw_text(0x62FF);
    class_text[CL_SW_CLASS_EXEC_ERROR] = cl_sw_text(0x64FF);
    class_text[CL_SW_CLASS_CHECK_ERROR] = cl_sw_text(0x67FF);
    class_text[CL_SW_CLASS_WRONG_LE] = cl_sw_text(0x6C00);
    class_text[CL_SW_CLASS_PROPRIETARY] = cl_sw_text(0x9100);

    for (v = 0; v < 0x10000u; v++) {
        uint16_t sw = (uint16_t)v;
        unsigned sw1 = v >> 8;
        enum cl_sw_class c = cl_sw_class(sw);
        const char *t = cl_sw_text(sw);
        bool valid = (sw1 >= 0x61 && sw1 <= 0x6F) || (sw1 >= 0x90 && sw1 <= 0x9F);

        ck_assert_ptr_nonnull(t);
        ck_assert_uint_gt(strlen(t), 0);
        ck_assert_int_eq(c != CL_SW_CLASS_INVALID, valid);
        ck_assert_int_le((int)c, (int)CL_SW_CLASS_PROPRIETARY);
        if (!valid)
            ck_assert_ptr_eq(t, class_text[CL_SW_CLASS_INVALID]);
        if (sw1 == 0x61 || sw1 == 0x6C || (sw1 >= 0x90 && sw1 <= 0x9F))
            ck_assert_ptr_eq(t, class_text[c]);
        ck_assert_int_eq(cl_sw_is_success(sw),
                         c == CL_SW_CLASS_SUCCESS || c == CL_SW_CLASS_MORE_DATA);
        ck_assert_int_eq(cl_sw_retries(sw) >= 0, (v & 0xFFF0u) == 0x63C0u);
    }
}
END_TEST

/* The distinct texts are distinct: no two ISO entries share a text unless
 * they are one range, so a log line says which status word it was. */
START_TEST(test_sw_texts_distinct)
{
    size_t i, j;

    for (i = 0; i < CL_ARRAY_LEN(sw_vectors); i++)
        for (j = i + 1; j < CL_ARRAY_LEN(sw_vectors); j++)
            if (cl_sw_text(sw_vectors[i].sw) == cl_sw_text(sw_vectors[j].sw))
                ck_assert_str_eq(sw_vectors[i].text, sw_vectors[j].text);
            else
                ck_assert_str_ne(sw_vectors[i].text, sw_vectors[j].text);
}
END_TEST

START_TEST(test_sw_macros)
{
    ck_assert_uint_eq(CL_SW(0x6A, 0x82), 0x6A82);
    ck_assert_uint_eq(CL_SW1(0x6A82), 0x6A);
    ck_assert_uint_eq(CL_SW2(0x6A82), 0x82);
    ck_assert_uint_eq(CL_SW_OK, 0x9000);
}
END_TEST

static Suite *apdu_suite(void)
{
    Suite *s = suite_create("apdu");
    TCase *tc = tcase_create("command");
    TCase *tr = tcase_create("response");
    TCase *ts = tcase_create("sw");

    fill_pattern();
    tcase_add_loop_test(tc, test_encode_vectors, 0, (int)CL_ARRAY_LEN(enc_vectors));
    tcase_add_loop_test(tc, test_decode_vectors, 0, (int)CL_ARRAY_LEN(enc_vectors));
    tcase_add_loop_test(tc, test_decode_malformed, 0, (int)CL_ARRAY_LEN(bad_vectors));
    tcase_add_test(tc, test_decode_long_malformed);
    tcase_add_test(tc, test_decode_le_forms);
    tcase_add_test(tc, test_apdu_args);
    tcase_add_loop_test(tc, test_check_header, 0, (int)CL_ARRAY_LEN(hdr_vectors));
    tcase_add_test(tc, test_check_header_null);
    suite_add_tcase(s, tc);

    tcase_add_test(tr, test_rapdu_split);
    tcase_add_test(tr, test_rapdu_build);
    suite_add_tcase(s, tr);

    tcase_add_loop_test(ts, test_sw_vectors, 0, (int)CL_ARRAY_LEN(sw_vectors));
    tcase_add_test(ts, test_sw_all);
    tcase_add_test(ts, test_sw_texts_distinct);
    tcase_add_test(ts, test_sw_macros);
    suite_add_tcase(s, ts);
    return s;
}

int main(void)
{
    return cl_test_run(apdu_suite());
}
