/*
 * cardlink — the canonical transaction: encoding vectors (docs/transaction.md
 * §7, byte-exact both ways), every decoder rejection, text safety, the amount
 * policy, amount formatting, rendering for 16x2, 20x4 and 40x8 displays page
 * by page, the to-be-signed bytes and the SHA-256 digests.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The hex of the examples and the digests come from tests/txn/gen_vectors.py,
 * an independent Python model of the encoding hashed with hashlib.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/txn.h"
#include "test_util.h"

/* ------------------------------------------------------------ examples */

/* The structs of docs/transaction.md §7's examples 1-3. */
static void ex_time(struct cl_txn_time *t, unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s)
{ t->year = (uint16_t)y; t->month = (uint8_t)mo; t->day = (uint8_t)d; t->hour = (uint8_t)h; t->minute = (uint8_t)mi; t->second = (uint8_t)s; }
static void ex_minimal(struct cl_txn *t)
{
    static const uint8_t id[16] = { 0x3F,0x2A,0x91,0x0C,0x5B,0xE8,0x47,0xD2,0xA6,0x13,0x7C,0x09,0xE4,0xB5,0x68,0xF1 };
    memset(t, 0, sizeof(*t));
    memcpy(t->id, id, 16);
    t->kind = CL_TXN_PURCHASE; t->has_amount = true; t->amount = 12345; t->currency = 978; t->exponent = 2;
    ex_time(&t->time, 2024, 5, 1, 14, 3, 0);
    strcpy(t->merchant, "Cafe Rosa");
}
static void ex_full(struct cl_txn *t)
{
    static const uint8_t ch[8] = { 0xC4,0x5D,0x19,0x7A,0x0B,0xE2,0x68,0xF3 };
    unsigned i;
    memset(t, 0, sizeof(*t));
    for (i = 0; i < 16; i++) t->id[i] = (uint8_t)(0x10 + i);
    t->kind = CL_TXN_PURCHASE; t->has_amount = true; t->amount = 700; t->currency = 978; t->exponent = 2;
    ex_time(&t->time, 2024, 2, 29, 23, 59, 59);
    strcpy(t->merchant, "B\xC3\xA4" "ckerei M\xC3\xBCller");
    t->n_items = 3;
    strcpy(t->items[0].desc, "Croissant"); t->items[0].quantity = 3; t->items[0].has_unit = true; t->items[0].unit = 120;
    strcpy(t->items[1].desc, "Kaffee gro\xC3\x9F"); t->items[1].quantity = 1; t->items[1].has_unit = true; t->items[1].unit = 280;
    strcpy(t->items[2].desc, "Tasche"); t->items[2].quantity = 2;
    strcpy(t->text, "Danke f\xC3\xBCr Ihren Einkauf!");
    memcpy(t->challenge, ch, 8); t->challenge_len = 8;
}
static void ex_auth(struct cl_txn *t)
{
    memset(t, 0, sizeof(*t));
    memset(t->id, 0xA5, 16);
    t->kind = CL_TXN_AUTHENTICATION;
    ex_time(&t->time, 2025, 12, 31, 0, 0, 1);
    strcpy(t->merchant, "Example Bank Online");
}

static void (*const examples[])(struct cl_txn *) = { ex_minimal, ex_full, ex_auth };

/* docs/transaction.md §7, examples 1-3: the canonical encodings. */
static const char *const example_hex[] = {
    /* 1: minimal purchase, EUR 123.45 */
    "E1 32 80 10 3F 2A 91 0C 5B E8 47 D2 A6 13 7C 09 E4 B5 68 F1 81 01 01"
    "82 02 30 39 83 03 09 78 02 84 07 20 24 05 01 14 03 00"
    "85 09 43 61 66 65 20 52 6F 73 61",
    /* 2: purchase with Latin-1 text, items, free text and challenge */
    "E1 81 95 80 10 10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E 1F 81 01 01"
    "82 02 02 BC 83 03 09 78 02 84 07 20 24 02 29 23 59 59"
    "85 11 42 C3 A4 63 6B 65 72 65 69 20 4D C3 BC 6C 6C 65 72"
    "A6 34 A0 11 80 09 43 72 6F 69 73 73 61 6E 74 81 01 03 82 01 78"
    "A0 12 80 0C 4B 61 66 66 65 65 20 67 72 6F C3 9F 82 02 01 18"
    "A0 0B 80 06 54 61 73 63 68 65 81 01 02"
    "87 19 44 61 6E 6B 65 20 66 C3 BC 72 20 49 68 72 65 6E 20 45 69 6E 6B 61 75 66 21"
    "88 08 C4 5D 19 7A 0B E2 68 F3",
    /* 3: authentication, no amount */
    "E1 33 80 10 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 81 01 02"
    "84 07 20 25 12 31 00 00 01"
    "85 13 45 78 61 6D 70 6C 65 20 42 61 6E 6B 20 4F 6E 6C 69 6E 65",
};

/* §8: the to-be-signed bytes of the examples; 1 and 3 with challenge
 * C45D197A0BE268F3 given, 2 with the challenge it carries. */
static const char *const tbs_hex[] = {
    "63 61 72 64 6C 69 6E 6B 2D 74 78 6E 2D 76 31 00"
    "E1 32 80 10 3F 2A 91 0C 5B E8 47 D2 A6 13 7C 09 E4 B5 68 F1 81 01 01"
    "82 02 30 39 83 03 09 78 02 84 07 20 24 05 01 14 03 00"
    "85 09 43 61 66 65 20 52 6F 73 61"
    "C4 5D 19 7A 0B E2 68 F3",
    "63 61 72 64 6C 69 6E 6B 2D 74 78 6E 2D 76 31 00"
    "E1 81 88 80 10 10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E 1F 81 01 01"
    "82 02 02 BC 83 03 09 78 02 84 07 20 24 02 29 23 59 59"
    "85 0F 42 61 63 6B 65 72 65 69 20 4D 75 6C 6C 65 72"
    "A6 34 A0 11 80 09 43 72 6F 69 73 73 61 6E 74 81 01 03 82 01 78"
    "A0 12 80 0C 4B 61 66 66 65 65 20 67 72 6F 73 73 82 02 01 18"
    "A0 0B 80 06 54 61 73 63 68 65 81 01 02"
    "87 18 44 61 6E 6B 65 20 66 75 72 20 49 68 72 65 6E 20 45 69 6E 6B 61 75 66 21"
    "C4 5D 19 7A 0B E2 68 F3",
    "63 61 72 64 6C 69 6E 6B 2D 74 78 6E 2D 76 31 00"
    "E1 33 80 10 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 81 01 02"
    "84 07 20 25 12 31 00 00 01"
    "85 13 45 78 61 6D 70 6C 65 20 42 61 6E 6B 20 4F 6E 6C 69 6E 65"
    "C4 5D 19 7A 0B E2 68 F3",
};

/* SHA-256 of tbs_hex[i], computed with Python's hashlib. */
static const char *const digest_hex[] = {
    "B7B6540AAE96DDC29BD1A0110E371C9D5FB3E0F118AA84B5F88C60271C470AF7",
    "27AE2126A802889A1BAE918F8D9099AF668164F858EE3C766FCA4F234FEA2A1F",
    "DECDA4925F9C57C6AB39BB63106C858E3AB2E29D0E7BE1B030E3E137AD272BB3",
};

static const uint8_t challenge[8] = { 0xC4, 0x5D, 0x19, 0x7A, 0x0B, 0xE2, 0x68, 0xF3 };

START_TEST(test_encode_examples)
{
    struct cl_txn t;
    uint8_t out[CL_TXN_ENCODED_MAX];
    size_t len = 99;

    examples[_i](&t);
    ck_assert_int_eq(cl_txn_encode(&t, out, sizeof(out), &len), CL_OK);
    cl_assert_bytes(out, len, example_hex[_i]);
    /* one byte short: the builder runs out of room */
    ck_assert_int_eq(cl_txn_encode(&t, out, len - 1, &len), CL_ERR_BUFFER);
    ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(test_decode_examples)
{
    struct cl_txn want, got;
    uint8_t in[512], out[CL_TXN_ENCODED_MAX];
    int n = cl_test_hex(example_hex[_i], in, sizeof(in));
    size_t len;

    ck_assert_int_gt(n, 0);
    examples[_i](&want);
    ck_assert_int_eq(cl_txn_decode(in, (size_t)n, &got), CL_OK);
    ck_assert(memcmp(&want, &got, sizeof(got)) == 0);
    ck_assert_int_eq(cl_txn_check(&got), CL_OK);
    ck_assert_int_eq(cl_txn_encode(&got, out, sizeof(out), &len), CL_OK);
    ck_assert_mem_eq(out, in, (size_t)n);
    ck_assert_uint_eq(len, (size_t)n);
}
END_TEST

/* ------------------------------------------------------------ rejections */

/* Field hex of example 1 (docs/transaction.md §7), to build variants. */
#define ID "80 10 3F 2A 91 0C 5B E8 47 D2 A6 13 7C 09 E4 B5 68 F1 "
#define KIND "81 01 01 "
#define AMT "82 02 30 39 "
#define CUR "83 03 09 78 02 "
#define TIME "84 07 20 24 05 01 14 03 00 "
#define MER "85 09 43 61 66 65 20 52 6F 73 61 "
#define HEAD ID KIND AMT CUR TIME

/* Inputs are the fields inside E1 (the test adds E1 and the length) unless
 * raw; 'rc' is the error of cl_txn_decode (docs/transaction.md §3). */
static const struct {
    const char *why;
    bool raw;
    const char *hex;
    int rc;
} rejects[] = {
    /* framing */
    { "empty input", true, "", CL_ERR_TRUNCATED },
    { "truncated value", true, "E1 05 80 10 3F 2A", CL_ERR_TRUNCATED },
    { "outer tag not E1", true, "E2 03 81 01 01", CL_ERR_TAG },
    { "outer tag 30", true, "30 00", CL_ERR_TAG },
    { "byte after the template", true, "E1 00 00", CL_ERR_TRAILING },
    { "non-minimal outer length", true, "E1 81 03 81 01 01", CL_ERR_MALFORMED },
    { "indefinite length", true, "E1 80 81 01 01 00 00", CL_ERR_INDEFINITE },
    { "length of 5 bytes", true, "E1 85 00 00 00 00 03 81 01 01", CL_ERR_UNSUPPORTED },
    { "non-minimal field length", false, "80 81 10 3F 2A 91 0C 5B E8 47 D2 A6 13 7C 09 E4 B5 68 F1", CL_ERR_MALFORMED },
    { "field runs past the template", true, "E1 03 81 02 01", CL_ERR_TRUNCATED },
    /* tags, order, duplicates, missing fields */
    { "empty template: mandatory fields missing", false, "", CL_ERR_MALFORMED },
    { "unknown tag 89", false, HEAD MER "89 01 00", CL_ERR_TAG },
    { "unknown tag 86 between known ones", false, HEAD MER "86 01 00", CL_ERR_TAG },
    { "padding bytes 00 00", false, "00 00 " HEAD MER, CL_ERR_TAG },
    { "duplicate kind", false, ID KIND KIND AMT CUR TIME MER, CL_ERR_TAG },
    { "duplicate merchant", false, HEAD MER MER, CL_ERR_TAG },
    { "kind before id", false, KIND ID AMT CUR TIME MER, CL_ERR_TAG },
    { "merchant before time", false, ID KIND AMT CUR MER TIME, CL_ERR_TAG },
    { "item list as primitive 86", false, HEAD MER "86 02 80 00", CL_ERR_TAG },
    { "two-byte tag 9F01", false, HEAD MER "9F 01 01 00", CL_ERR_TAG },
    { "id missing", false, KIND AMT CUR TIME MER, CL_ERR_MALFORMED },
    { "kind missing", false, ID AMT CUR TIME MER, CL_ERR_MALFORMED },
    { "time missing", false, ID KIND AMT CUR MER, CL_ERR_MALFORMED },
    { "merchant missing", false, HEAD, CL_ERR_MALFORMED },
    { "amount without currency", false, ID KIND AMT TIME MER, CL_ERR_MALFORMED },
    { "currency without amount", false, ID KIND CUR TIME MER, CL_ERR_TAG },
    /* fixed-size fields */
    { "id of 15 bytes", false, "80 0F 3F 2A 91 0C 5B E8 47 D2 A6 13 7C 09 E4 B5 68 " KIND AMT CUR TIME MER, CL_ERR_LENGTH },
    { "id of 17 bytes", false, "80 11 3F 2A 91 0C 5B E8 47 D2 A6 13 7C 09 E4 B5 68 F1 00 " KIND AMT CUR TIME MER, CL_ERR_LENGTH },
    { "kind of 2 bytes", false, ID "81 02 00 01 " AMT CUR TIME MER, CL_ERR_LENGTH },
    { "kind 00", false, ID "81 01 00 " AMT CUR TIME MER, CL_ERR_RESERVED },
    { "kind 06", false, ID "81 01 06 " AMT CUR TIME MER, CL_ERR_RESERVED },
    { "amount empty", false, ID KIND "82 00 " CUR TIME MER, CL_ERR_LENGTH },
    { "amount of 7 bytes", false, ID KIND "82 07 01 00 00 00 00 00 00 " CUR TIME MER, CL_ERR_LENGTH },
    { "amount with a leading zero byte", false, ID KIND "82 03 00 30 39 " CUR TIME MER, CL_ERR_MALFORMED },
    { "currency of 2 bytes", false, ID KIND AMT "83 02 09 78 " TIME MER, CL_ERR_LENGTH },
    { "currency not BCD", false, ID KIND AMT "83 03 09 7A 02 " TIME MER, CL_ERR_MALFORMED },
    { "currency of four digits", false, ID KIND AMT "83 03 19 78 02 " TIME MER, CL_ERR_MALFORMED },
    { "currency 000", false, ID KIND AMT "83 03 00 00 02 " TIME MER, CL_ERR_RESERVED },
    { "exponent 5", false, ID KIND AMT "83 03 05 33 05 " TIME MER, CL_ERR_RESERVED },
    { "EUR with exponent 3 (ISO 4217 says 2)", false, ID KIND AMT "83 03 09 78 03 " TIME MER, CL_ERR_DENIED },
    { "JPY with exponent 2 (ISO 4217 says 0)", false, ID KIND AMT "83 03 03 92 02 " TIME MER, CL_ERR_DENIED },
    { "time of 6 bytes", false, ID KIND AMT CUR "84 06 20 24 05 01 14 03 " MER, CL_ERR_LENGTH },
    { "time not BCD", false, ID KIND AMT CUR "84 07 20 24 05 01 14 03 0A " MER, CL_ERR_MALFORMED },
    { "month 13", false, ID KIND AMT CUR "84 07 20 24 13 01 14 03 00 " MER, CL_ERR_MALFORMED },
    { "month 00", false, ID KIND AMT CUR "84 07 20 24 00 01 14 03 00 " MER, CL_ERR_MALFORMED },
    { "day 00", false, ID KIND AMT CUR "84 07 20 24 05 00 14 03 00 " MER, CL_ERR_MALFORMED },
    { "29 February 2023", false, ID KIND AMT CUR "84 07 20 23 02 29 14 03 00 " MER, CL_ERR_MALFORMED },
    { "29 February 1900", false, ID KIND AMT CUR "84 07 19 00 02 29 14 03 00 " MER, CL_ERR_MALFORMED },
    { "31 April", false, ID KIND AMT CUR "84 07 20 24 04 31 14 03 00 " MER, CL_ERR_MALFORMED },
    { "hour 24", false, ID KIND AMT CUR "84 07 20 24 05 01 24 00 00 " MER, CL_ERR_MALFORMED },
    { "second 60", false, ID KIND AMT CUR "84 07 20 24 05 01 23 59 60 " MER, CL_ERR_MALFORMED },
    { "year 1969", false, ID KIND AMT CUR "84 07 19 69 12 31 23 59 59 " MER, CL_ERR_MALFORMED },
    { "challenge of 7 bytes", false, HEAD MER "88 07 01 02 03 04 05 06 07", CL_ERR_LENGTH },
    { "challenge of 65 bytes", false, HEAD MER "88 41 "
      "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000 00", CL_ERR_LENGTH },
    /* text fields: sizes */
    { "merchant empty", false, HEAD "85 00", CL_ERR_LENGTH },
    { "merchant of 41 characters", false, HEAD "85 29 "
      "41414141414141414141 41414141414141414141 41414141414141414141 41414141414141414141 41", CL_ERR_LIMIT },
    { "merchant of 41 two-byte characters", false, HEAD "85 52 "
      "C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9 C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9"
      "C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9 C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9 C3A9", CL_ERR_LIMIT },
    { "merchant of 41 characters in 60 bytes", false, HEAD "85 3C "
      "C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9 C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9"
      "4141414141414141414141414141414141414141 41414141", CL_ERR_LIMIT },
    { "free text empty", false, HEAD MER "87 00", CL_ERR_LENGTH },
    { "free text of 121 characters", false, HEAD MER "87 79 "
      "41414141414141414141 41414141414141414141 41414141414141414141 41414141414141414141"
      "41414141414141414141 41414141414141414141 41414141414141414141 41414141414141414141"
      "41414141414141414141 41414141414141414141 41414141414141414141 41414141414141414141 41", CL_ERR_LIMIT },
    /* text safety (docs/transaction.md §4) */
    { "control character BEL", false, HEAD "85 03 41 07 42", CL_ERR_DENIED },
    { "control character TAB", false, HEAD "85 03 41 09 42", CL_ERR_DENIED },
    { "line feed", false, HEAD "85 03 41 0A 42", CL_ERR_DENIED },
    { "NUL byte", false, HEAD "85 03 41 00 42", CL_ERR_DENIED },
    { "DEL", false, HEAD "85 03 41 7F 42", CL_ERR_DENIED },
    { "C1 control U+0085", false, HEAD "85 04 41 C2 85 42", CL_ERR_DENIED },
    { "bidi override U+202E", false, HEAD "85 05 41 E2 80 AE 42", CL_ERR_DENIED },
    { "bidi isolate U+2066", false, HEAD "85 05 41 E2 81 A6 42", CL_ERR_DENIED },
    { "right-to-left mark U+200F", false, HEAD "85 05 41 E2 80 8F 42", CL_ERR_DENIED },
    { "zero-width space U+200B", false, HEAD "85 05 41 E2 80 8B 42", CL_ERR_DENIED },
    { "zero-width joiner U+200D", false, HEAD "85 05 41 E2 80 8D 42", CL_ERR_DENIED },
    { "byte order mark U+FEFF", false, HEAD "85 05 41 E2 BB BF 42", CL_ERR_DENIED },
    { "soft hyphen U+00AD", false, HEAD "85 04 41 C2 AD 42", CL_ERR_DENIED },
    { "no-break space U+00A0", false, HEAD "85 04 41 C2 A0 42", CL_ERR_DENIED },
    { "mixed script: Cyrillic a in PayPal", false, HEAD "85 07 50 D0 B0 79 50 61 6C", CL_ERR_DENIED },
    { "mixed script: Greek omicron in Google", false, HEAD "85 07 47 CE BF 6F 67 6C 65", CL_ERR_DENIED },
    { "fullwidth digit one U+FF11", false, HEAD "85 05 41 EF BC 91 42", CL_ERR_DENIED },
    { "combining acute U+0301", false, HEAD "85 03 65 CC 81", CL_ERR_DENIED },
    { "multiplication sign U+00D7", false, HEAD "85 03 32 C3 97", CL_ERR_DENIED },
    { "division sign U+00F7", false, HEAD "85 03 32 C3 B7", CL_ERR_DENIED },
    { "emoji U+1F600", false, HEAD "85 05 41 F0 9F 98 80", CL_ERR_DENIED },
    { "euro sign U+20AC (amounts come from field 82 only)", false, HEAD "85 04 E2 82 AC 31", CL_ERR_DENIED },
    { "backslash (yen sign on HD44780 displays)", false, HEAD "85 03 41 5C 42", CL_ERR_DENIED },
    { "tilde (the truncation mark)", false, HEAD "85 03 41 7E 42", CL_ERR_DENIED },
    { "leading space", false, HEAD "85 02 20 41", CL_ERR_DENIED },
    { "trailing space", false, HEAD "85 02 41 20", CL_ERR_DENIED },
    { "double space", false, HEAD "85 04 41 20 20 42", CL_ERR_DENIED },
    { "single space only", false, HEAD "85 01 20", CL_ERR_DENIED },
    { "text safety applies to free text", false, HEAD MER "87 05 41 E2 80 AE 42", CL_ERR_DENIED },
    { "text safety applies to item descriptions", false, HEAD MER "A6 07 A0 05 80 03 41 09 42", CL_ERR_DENIED },
    /* UTF-8 well-formedness */
    { "lone continuation byte", false, HEAD "85 02 41 80", CL_ERR_MALFORMED },
    { "overlong C0 AF", false, HEAD "85 02 C0 AF", CL_ERR_MALFORMED },
    { "overlong C1 81", false, HEAD "85 02 C1 81", CL_ERR_MALFORMED },
    { "overlong E0 80 AF", false, HEAD "85 03 E0 80 AF", CL_ERR_MALFORMED },
    { "overlong F0 80 80 AF", false, HEAD "85 04 F0 80 80 AF", CL_ERR_MALFORMED },
    { "surrogate ED A0 80", false, HEAD "85 03 ED A0 80", CL_ERR_MALFORMED },
    { "above U+10FFFF", false, HEAD "85 04 F4 90 80 80", CL_ERR_MALFORMED },
    { "lead byte F5", false, HEAD "85 04 F5 80 80 80", CL_ERR_MALFORMED },
    { "lead byte FF", false, HEAD "85 01 FF", CL_ERR_MALFORMED },
    { "sequence cut by the end", false, HEAD "85 02 41 C3", CL_ERR_MALFORMED },
    { "three-byte sequence cut", false, HEAD "85 03 41 E2 80", CL_ERR_MALFORMED },
    { "bad continuation byte", false, HEAD "85 03 C3 41 42", CL_ERR_MALFORMED },
    /* items */
    { "empty item list", false, HEAD MER "A6 00", CL_ERR_LENGTH },
    { "item list entry A1", false, HEAD MER "A6 05 A1 03 80 01 41", CL_ERR_TAG },
    { "item list entry primitive 80", false, HEAD MER "A6 03 80 01 41", CL_ERR_TAG },
    { "nine items", false, HEAD MER "A6 2D"
      "A0 03 80 01 41 A0 03 80 01 41 A0 03 80 01 41 A0 03 80 01 41 A0 03 80 01 41"
      "A0 03 80 01 41 A0 03 80 01 41 A0 03 80 01 41 A0 03 80 01 41", CL_ERR_LIMIT },
    { "item without description", false, HEAD MER "A6 05 A0 03 81 01 02", CL_ERR_MALFORMED },
    { "empty item", false, HEAD MER "A6 02 A0 00", CL_ERR_MALFORMED },
    { "item description empty", false, HEAD MER "A6 04 A0 02 80 00", CL_ERR_LENGTH },
    { "item description of 25 characters", false, HEAD MER "A6 1D A0 1B 80 19 "
      "41414141414141414141 41414141414141414141 4141414141", CL_ERR_LIMIT },
    { "quantity 1 encoded (the default)", false, HEAD MER "A6 08 A0 06 80 01 41 81 01 01", CL_ERR_MALFORMED },
    { "quantity 0", false, HEAD MER "A6 08 A0 06 80 01 41 81 01 00", CL_ERR_RESERVED },
    { "quantity 10000", false, HEAD MER "A6 09 A0 07 80 01 41 81 02 27 10", CL_ERR_RESERVED },
    { "quantity with a leading zero", false, HEAD MER "A6 09 A0 07 80 01 41 81 02 00 05", CL_ERR_MALFORMED },
    { "quantity of 3 bytes", false, HEAD MER "A6 0A A0 08 80 01 41 81 03 00 00 05", CL_ERR_LENGTH },
    { "quantity empty", false, HEAD MER "A6 07 A0 05 80 01 41 81 00", CL_ERR_LENGTH },
    { "unit amount of 7 bytes", false, HEAD MER "A6 0E A0 0C 80 01 41 82 07 01 00 00 00 00 00 00", CL_ERR_LENGTH },
    { "unit amount with a leading zero", false, HEAD MER "A6 09 A0 07 80 01 41 82 02 00 05", CL_ERR_MALFORMED },
    { "unit amount without an amount", false, ID "81 01 02 " TIME MER "A6 08 A0 06 80 01 41 82 01 05", CL_ERR_MALFORMED },
    { "item: unknown tag 83", false, HEAD MER "A6 08 A0 06 80 01 41 83 01 05", CL_ERR_TAG },
    { "item: quantity before description", false, HEAD MER "A6 08 A0 06 81 01 02 80 01 41", CL_ERR_TAG },
    { "item: two descriptions", false, HEAD MER "A6 08 A0 06 80 01 41 80 01 42", CL_ERR_TAG },
    { "item: non-minimal length", false, HEAD MER "A6 06 A0 81 03 80 01 41", CL_ERR_MALFORMED },
    { "item: truncated inside", false, HEAD MER "A6 05 A0 03 80 02 41", CL_ERR_TRUNCATED },
    { "two item lists", false, HEAD MER "A6 05 A0 03 80 01 41 A6 05 A0 03 80 01 42", CL_ERR_TAG },
};

START_TEST(test_rejects)
{
    uint8_t in[512];
    size_t off = 0;
    int n;
    struct cl_txn t;

    if (!rejects[_i].raw) {
        n = cl_test_hex(rejects[_i].hex, in + 3, sizeof(in) - 3);
        ck_assert_msg(n >= 0, "bad hex: %s", rejects[_i].why);
        if (n < 0x80) {
            off = 1;
            in[1] = 0xE1;
            in[2] = (uint8_t)n;
        } else {
            in[0] = 0xE1;
            in[1] = 0x81;
            in[2] = (uint8_t)n;
        }
        n += 3 - (int)off;
    } else {
        n = cl_test_hex(rejects[_i].hex, in, sizeof(in));
        ck_assert_msg(n >= 0, "bad hex: %s", rejects[_i].why);
    }
    memset(&t, 0x5A, sizeof(t));
    ck_assert_msg(cl_txn_decode(in + off, (size_t)n, &t) == rejects[_i].rc,
                  "%s: got %d want %d", rejects[_i].why,
                  cl_txn_decode(in + off, (size_t)n, &t), rejects[_i].rc);
    /* the output is wiped on failure */
    ck_assert_uint_eq(t.kind, 0);
    ck_assert_uint_eq(t.merchant[0], 0);
}
END_TEST

/* What the decoder accepts at its limits, re-encoded byte for byte. */
static const struct {
    const char *why;
    const char *hex; /* fields inside E1 */
} accepts[] = {
    { "amount 0 decodes (the policy is cl_txn_check's)", ID KIND "82 01 00 " CUR TIME MER },
    { "amount 2^48-1", ID KIND "82 06 FF FF FF FF FF FF " CUR TIME MER },
    { "unknown currency 533, any exponent", ID KIND AMT "83 03 05 33 04 " TIME MER },
    { "29 February 2000", ID KIND AMT CUR "84 07 20 00 02 29 00 00 00 " MER },
    { "31 December 9999 23:59:59", ID KIND AMT CUR "84 07 99 99 12 31 23 59 59 " MER },
    { "1 January 1970", ID KIND AMT CUR "84 07 19 70 01 01 00 00 00 " MER },
    { "merchant of 40 characters", HEAD "85 28 "
      "41414141414141414141 41414141414141414141 41414141414141414141 41414141414141414141" },
    { "merchant of 40 two-byte characters", HEAD "85 50 "
      "C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9 C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9"
      "C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9 C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9C3A9" },
    { "every ASCII character allowed", HEAD "85 1F 21 22 23 24 25 26 27 28 29 2A 2B 2C 2D 2E 2F 30 3A 3B 3C 3D 3E 3F 40 5B 5D 5E 5F 60 7B 7C 7D" },
    { "Latin-1 letters at the edges", HEAD "85 08 C3 80 C3 96 C3 98 C3 BF" },
    { "one character", HEAD "85 01 41" },
    { "quantity 255 in one byte, 256 and 9999 in two", HEAD MER
      "A6 1A A0 06 80 01 41 81 01 FF A0 07 80 01 42 81 02 01 00 A0 07 80 01 43 81 02 27 0F" },
    { "eight items, a unit amount of 0", HEAD MER "A6 2B"
      "A0 06 80 01 41 82 01 00 A0 03 80 01 41 A0 03 80 01 41 A0 03 80 01 41 A0 03 80 01 41"
      "A0 03 80 01 41 A0 03 80 01 41 A0 03 80 01 41" },
    { "challenge of 8 bytes", HEAD MER "88 08 01 02 03 04 05 06 07 08" },
    { "access grant without amount", ID "81 01 05 " TIME MER },
};

START_TEST(test_accepts)
{
    uint8_t in[512], out[CL_TXN_ENCODED_MAX];
    size_t len, off = 0;
    struct cl_txn t;
    int n = cl_test_hex(accepts[_i].hex, in + 3, sizeof(in) - 3);

    ck_assert_int_ge(n, 0);
    if (n < 0x80) {
        off = 1;
        in[1] = 0xE1;
        in[2] = (uint8_t)n;
    } else {
        in[0] = 0xE1;
        in[1] = 0x81;
        in[2] = (uint8_t)n;
    }
    n += 3 - (int)off;
    ck_assert_msg(cl_txn_decode(in + off, (size_t)n, &t) == CL_OK, "%s: %d",
                  accepts[_i].why, cl_txn_decode(in + off, (size_t)n, &t));
    ck_assert_int_eq(cl_txn_encode(&t, out, sizeof(out), &len), CL_OK);
    ck_assert_uint_eq(len, (size_t)n);
    ck_assert_mem_eq(out, in + off, len);
}
END_TEST

START_TEST(test_decode_args)
{
    struct cl_txn t;
    uint8_t b[2] = { 0xE1, 0x00 };

    ck_assert_int_eq(cl_txn_decode(b, 2, NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_txn_decode(NULL, 2, &t), CL_ERR_ARG);
    ck_assert_int_eq(cl_txn_decode(NULL, 0, &t), CL_ERR_TRUNCATED);
}
END_TEST

/* ------------------------------------------------------------ struct checks */

static void bad_kind0(struct cl_txn *t) { t->kind = 0; }
static void bad_kind6(struct cl_txn *t) { t->kind = 6; }
static void bad_amount(struct cl_txn *t) { t->amount = CL_TXN_AMOUNT_MAX + 1; }
static void bad_cur0(struct cl_txn *t) { t->currency = 0; }
static void bad_cur1000(struct cl_txn *t) { t->currency = 1000; }
static void bad_exp(struct cl_txn *t) { t->currency = 533; t->exponent = 5; }
static void bad_exp_eur(struct cl_txn *t) { t->exponent = 0; }
static void bad_month(struct cl_txn *t) { t->time.month = 0; }
static void bad_day(struct cl_txn *t) { t->time.day = 32; }
static void bad_year(struct cl_txn *t) { t->time.year = 10000; }
static void bad_merchant_nul(struct cl_txn *t) { memset(t->merchant, 'A', sizeof(t->merchant)); }
static void bad_merchant_empty(struct cl_txn *t) { t->merchant[0] = '\0'; }
static void bad_merchant_ctl(struct cl_txn *t) { strcpy(t->merchant, "A\x1B[2JB"); }
static void bad_merchant_long(struct cl_txn *t) { memset(t->merchant, 'A', 41); t->merchant[41] = '\0'; }
static void bad_items(struct cl_txn *t) { t->n_items = CL_TXN_ITEMS_MAX + 1; }
static void bad_item_desc(struct cl_txn *t) { t->n_items = 1; t->items[0].quantity = 1; }
static void bad_item_qty0(struct cl_txn *t) { t->n_items = 1; strcpy(t->items[0].desc, "A"); }
static void bad_item_qty(struct cl_txn *t) { bad_item_qty0(t); t->items[0].quantity = 10000; }
static void bad_item_unit(struct cl_txn *t) { bad_item_qty0(t); t->items[0].quantity = 1; t->items[0].has_unit = true; t->items[0].unit = CL_TXN_AMOUNT_MAX + 1; }
static void bad_item_noamt(struct cl_txn *t) { bad_item_qty0(t); t->items[0].quantity = 1; t->items[0].has_unit = true; t->kind = CL_TXN_ACCESS_GRANT; t->has_amount = false; }
static void bad_text_nul(struct cl_txn *t) { memset(t->text, 'A', sizeof(t->text)); }
static void bad_text_bidi(struct cl_txn *t) { strcpy(t->text, "A\xE2\x80\xAE" "B"); }
static void bad_challenge(struct cl_txn *t) { t->challenge_len = 7; }
static void bad_challenge_long(struct cl_txn *t) { t->challenge_len = 65; }

static const struct {
    const char *why;
    void (*spoil)(struct cl_txn *);
    int rc;
} struct_rejects[] = {
    { "kind 0", bad_kind0, CL_ERR_RESERVED },
    { "kind 6", bad_kind6, CL_ERR_RESERVED },
    { "amount above 2^48-1", bad_amount, CL_ERR_LENGTH },
    { "currency 0", bad_cur0, CL_ERR_RESERVED },
    { "currency 1000", bad_cur1000, CL_ERR_MALFORMED },
    { "exponent 5", bad_exp, CL_ERR_RESERVED },
    { "EUR with exponent 0", bad_exp_eur, CL_ERR_DENIED },
    { "month 0", bad_month, CL_ERR_MALFORMED },
    { "day 32", bad_day, CL_ERR_MALFORMED },
    { "year 10000", bad_year, CL_ERR_MALFORMED },
    { "merchant not NUL-terminated", bad_merchant_nul, CL_ERR_ARG },
    { "merchant empty", bad_merchant_empty, CL_ERR_MALFORMED },
    { "merchant with an escape sequence", bad_merchant_ctl, CL_ERR_DENIED },
    { "merchant of 41 characters", bad_merchant_long, CL_ERR_LIMIT },
    { "too many items", bad_items, CL_ERR_LIMIT },
    { "item description empty", bad_item_desc, CL_ERR_MALFORMED },
    { "item quantity 0", bad_item_qty0, CL_ERR_RESERVED },
    { "item quantity 10000", bad_item_qty, CL_ERR_RESERVED },
    { "item unit amount above 2^48-1", bad_item_unit, CL_ERR_LENGTH },
    { "item unit amount without amount", bad_item_noamt, CL_ERR_MALFORMED },
    { "text not NUL-terminated", bad_text_nul, CL_ERR_ARG },
    { "text with U+202E", bad_text_bidi, CL_ERR_DENIED },
    { "challenge of 7 bytes", bad_challenge, CL_ERR_LENGTH },
    { "challenge of 65 bytes", bad_challenge_long, CL_ERR_LENGTH },
};

START_TEST(test_struct_rejects)
{
    struct cl_txn t;
    uint8_t out[CL_TXN_ENCODED_MAX], tbs[CL_TXN_TBS_MAX];
    char page[512];
    size_t len = 7;
    unsigned pages = 77;
    int rc = struct_rejects[_i].rc;

    ex_minimal(&t);
    struct_rejects[_i].spoil(&t);
    ck_assert_msg(cl_txn_encode(&t, out, sizeof(out), &len) == rc, "%s",
                  struct_rejects[_i].why);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(cl_txn_check(&t), rc);
    ck_assert_int_eq(cl_txn_render(&t, 20, 4, 0, page, sizeof(page), &pages), rc);
    ck_assert_uint_eq(pages, 77);
    ck_assert_int_eq(cl_txn_tbs(&t, challenge, 8, tbs, sizeof(tbs), &len), rc);
}
END_TEST

START_TEST(test_encode_args)
{
    struct cl_txn t;
    uint8_t out[CL_TXN_ENCODED_MAX];
    size_t len;

    ex_minimal(&t);
    ck_assert_int_eq(cl_txn_encode(NULL, out, sizeof(out), &len), CL_ERR_ARG);
    ck_assert_int_eq(cl_txn_encode(&t, out, sizeof(out), NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_txn_encode(&t, NULL, 10, &len), CL_ERR_ARG);
    ck_assert_int_eq(cl_txn_encode(&t, NULL, 0, &len), CL_ERR_BUFFER);
    ck_assert_int_eq(cl_txn_check(NULL), CL_ERR_ARG);
}
END_TEST

/* ------------------------------------------------------------ amount policy */

static const struct {
    const char *why;
    uint8_t kind;
    bool has_amount;
    uint64_t amount;
    int rc;
} policy[] = {
    { "purchase of zero", CL_TXN_PURCHASE, true, 0, CL_ERR_DENIED },
    { "purchase without amount", CL_TXN_PURCHASE, false, 0, CL_ERR_DENIED },
    { "e-money load of zero", CL_TXN_EMONEY_LOAD, true, 0, CL_ERR_DENIED },
    { "e-money load without amount", CL_TXN_EMONEY_LOAD, false, 0, CL_ERR_DENIED },
    { "e-goods load of zero", CL_TXN_EGOODS_LOAD, true, 0, CL_ERR_DENIED },
    { "e-goods load without amount", CL_TXN_EGOODS_LOAD, false, 0, CL_ERR_DENIED },
    { "purchase of one cent", CL_TXN_PURCHASE, true, 1, CL_OK },
    { "e-money load of one cent", CL_TXN_EMONEY_LOAD, true, 1, CL_OK },
    { "e-goods load of one cent", CL_TXN_EGOODS_LOAD, true, 1, CL_OK },
    { "authentication without amount", CL_TXN_AUTHENTICATION, false, 0, CL_OK },
    { "authentication of zero", CL_TXN_AUTHENTICATION, true, 0, CL_OK },
    { "access grant without amount", CL_TXN_ACCESS_GRANT, false, 0, CL_OK },
    { "access grant of zero", CL_TXN_ACCESS_GRANT, true, 0, CL_OK },
};

START_TEST(test_policy)
{
    struct cl_txn t, back;
    uint8_t enc[CL_TXN_ENCODED_MAX], tbs[CL_TXN_TBS_MAX], d[32];
    char page[512];
    size_t len;
    unsigned pages = 77;
    int rc = policy[_i].rc;

    ex_minimal(&t);
    t.kind = policy[_i].kind;
    t.has_amount = policy[_i].has_amount;
    t.amount = policy[_i].amount;
    if (!t.has_amount) {
        t.currency = 0;
        t.exponent = 0;
    }
    /* the format carries it: encode and decode work whatever the policy */
    ck_assert_int_eq(cl_txn_encode(&t, enc, sizeof(enc), &len), CL_OK);
    ck_assert_int_eq(cl_txn_decode(enc, len, &back), CL_OK);
    ck_assert(memcmp(&t, &back, sizeof(t)) == 0);
    /* nothing is shown or signed when the policy refuses */
    ck_assert_msg(cl_txn_check(&t) == rc, "%s", policy[_i].why);
    ck_assert_int_eq(cl_txn_render(&t, 16, 2, 0, page, sizeof(page), &pages), rc);
    if (rc != CL_OK)
        ck_assert_uint_eq(pages, 77);
    ck_assert_int_eq(cl_txn_tbs(&t, challenge, 8, tbs, sizeof(tbs), &len), rc);
#ifdef CL_TEST_DIGEST
    ck_assert_int_eq(cl_txn_digest(&t, challenge, 8, d), rc);
#else
    (void)d;
#endif
}
END_TEST

/* A zero purchase as it arrives from the network: decodes, then refused. */
START_TEST(test_policy_wire)
{
    static const char hex[] = "E1 31 " ID KIND "82 01 00 " CUR TIME MER;
    uint8_t in[128];
    int n = cl_test_hex(hex, in, sizeof(in));
    struct cl_txn t;
    char page[64];

    ck_assert_int_eq(cl_txn_decode(in, (size_t)n, &t), CL_OK);
    ck_assert_int_eq(cl_txn_check(&t), CL_ERR_DENIED);
    ck_assert_int_eq(cl_txn_render(&t, 16, 2, 0, page, sizeof(page), NULL), CL_ERR_DENIED);
}
END_TEST

/* ------------------------------------------------------------ amounts */

static const struct {
    uint64_t amount;
    uint16_t currency;
    uint8_t exponent;
    const char *text;
} amounts[] = {
    { 12345, 978, 2, "EUR 123.45" },
    { 12345, 392, 0, "JPY 12345" },
    { 1234, 48, 3, "BHD 1.234" },
    { 1234, 414, 3, "KWD 1.234" },
    { 5, 978, 2, "EUR 0.05" },
    { 0, 978, 2, "EUR 0.00" },
    { 0, 392, 0, "JPY 0" },
    { 7, 48, 3, "BHD 0.007" },
    { 100, 840, 2, "USD 1.00" },
    { 99999, 826, 2, "GBP 999.99" },
    { 1, 990, 4, "CLF 0.0001" },
    { 4294967295u, 756, 2, "CHF 42949672.95" },
    { 4294967296u, 752, 2, "SEK 42949672.96" },
    { 65536, 578, 2, "NOK 655.36" },
    { 0xFFFFFFFFFFFFull, 978, 2, "EUR 2814749767106.55" },
    { 0xFFFFFFFFFFFFull, 392, 0, "JPY 281474976710655" },
    { 0xFFFFFFFFFFFFull, 533, 4, "#533 28147497671.0655" },
    { 1000000000000ull, 208, 2, "DKK 10000000000.00" },
    { 1200, 533, 2, "#533 12.00" },
    { 1200, 1, 0, "#001 1200" },
    { 1200, 999, 2, "#999 12.00" },
    { 250, 985, 2, "PLN 2.50" },
    { 250, 203, 2, "CZK 2.50" },
    { 250, 348, 2, "HUF 2.50" },
};

START_TEST(test_amounts)
{
    char out[CL_TXN_AMOUNT_TEXT_MAX];
    int n = cl_txn_format_amount(amounts[_i].amount, amounts[_i].currency,
                                 amounts[_i].exponent, out, sizeof(out));

    ck_assert_int_eq(n, (int)strlen(amounts[_i].text));
    ck_assert_str_eq(out, amounts[_i].text);
    /* exactly the room needed, and one byte less */
    ck_assert_int_eq(cl_txn_format_amount(amounts[_i].amount, amounts[_i].currency,
                                          amounts[_i].exponent, out, (size_t)n + 1), n);
    ck_assert_int_eq(cl_txn_format_amount(amounts[_i].amount, amounts[_i].currency,
                                          amounts[_i].exponent, out, (size_t)n),
                     CL_ERR_BUFFER);
}
END_TEST

START_TEST(test_amount_errors)
{
    char out[CL_TXN_AMOUNT_TEXT_MAX];
    uint8_t e = 9;

    ck_assert_int_eq(cl_txn_format_amount(1, 978, 2, NULL, 10), CL_ERR_ARG);
    ck_assert_int_eq(cl_txn_format_amount(CL_TXN_AMOUNT_MAX + 1, 978, 2, out, sizeof(out)), CL_ERR_ARG);
    ck_assert_int_eq(cl_txn_format_amount(1, 0, 2, out, sizeof(out)), CL_ERR_ARG);
    ck_assert_int_eq(cl_txn_format_amount(1, 1000, 2, out, sizeof(out)), CL_ERR_ARG);
    ck_assert_int_eq(cl_txn_format_amount(1, 978, 5, out, sizeof(out)), CL_ERR_ARG);
    ck_assert_str_eq(cl_txn_currency_alpha(978, &e), "EUR");
    ck_assert_uint_eq(e, 2);
    ck_assert_str_eq(cl_txn_currency_alpha(48, NULL), "BHD");
    ck_assert_ptr_null(cl_txn_currency_alpha(533, &e));
    ck_assert_uint_eq(e, 2);
}
END_TEST

/* ------------------------------------------------------------ rendering */

/* Example, width, height, pages, and every page's lines with "--\n"
 * between pages (docs/transaction.md §6 shows some of them). */
static const struct {
    unsigned ex, w, h, pages;
    const char *text;
} renders[] = {
    { 0, 16, 2, 5,
      "Cafe Rosa    1/5\n"
      "EUR 123.45\n"
      "--\n"
      "Purchase     2/5\n"
      "2024-05-01\n"
      "--\n"
      "14:03:00 UTC 3/5\n"
      "Ref\n"
      "--\n"
      "3F2A910C5BE8 4/5\n"
      "47D2A6137C09E4B5\n"
      "--\n"
      "68F1         5/5\n"
    },
    { 0, 20, 4, 2,
      "Cafe Rosa        1/2\n"
      "EUR 123.45\n"
      "Purchase\n"
      "2024-05-01\n"
      "--\n"
      "14:03:00 UTC     2/2\n"
      "Ref\n"
      "3F2A910C5BE847D2A613\n"
      "7C09E4B568F1\n"
    },
    { 0, 40, 8, 1,
      "Cafe Rosa\n"
      "EUR 123.45\n"
      "Purchase\n"
      "2024-05-01 14:03:00 UTC\n"
      "Ref 3F2A910C5BE847D2A6137C09E4B568F1\n"
    },
    { 1, 16, 2, 11,
      "Backerei ~  1/11\n"
      "EUR 7.00\n"
      "--\n"
      "Purchase    2/11\n"
      "Payee:\n"
      "--\n"
      "Backerei    3/11\n"
      "Muller\n"
      "--\n"
      "Croissant   4/11\n"
      "  3 x EUR 1.20\n"
      "--\n"
      "Kaffee      5/11\n"
      "gross\n"
      "--\n"
      "            6/11\n"
      "  1 x EUR 2.80\n"
      "--\n"
      "Tasche      7/11\n"
      "  qty 2\n"
      "--\n"
      "2024-02-29  8/11\n"
      "23:59:59 UTC\n"
      "--\n"
      "Danke fur   9/11\n"
      "Ihren Einkauf!\n"
      "--\n"
      "Ref        10/11\n"
      "1011121314151617\n"
      "--\n"
      "18191A1B1C 11/11\n"
      "1D1E1F\n"
    },
    { 1, 20, 4, 4,
      "Backerei Muller  1/4\n"
      "EUR 7.00\n"
      "Purchase\n"
      "Croissant\n"
      "--\n"
      "  3 x EUR 1.20   2/4\n"
      "Kaffee gross\n"
      "  1 x EUR 2.80\n"
      "Tasche\n"
      "--\n"
      "  qty 2          3/4\n"
      "2024-02-29\n"
      "23:59:59 UTC\n"
      "Danke fur Ihren\n"
      "--\n"
      "Einkauf!         4/4\n"
      "Ref\n"
      "10111213141516171819\n"
      "1A1B1C1D1E1F\n"
    },
    { 1, 40, 8, 2,
      "Backerei Muller                      1/2\n"
      "EUR 7.00\n"
      "Purchase\n"
      "Croissant\n"
      "  3 x EUR 1.20\n"
      "Kaffee gross\n"
      "  1 x EUR 2.80\n"
      "Tasche\n"
      "--\n"
      "  qty 2                              2/2\n"
      "2024-02-29 23:59:59 UTC\n"
      "Danke fur Ihren Einkauf!\n"
      "Ref 101112131415161718191A1B1C1D1E1F\n"
    },
    { 2, 16, 2, 6,
      "Example Ban~ 1/6\n"
      "Sign-in\n"
      "--\n"
      "Payee:       2/6\n"
      "Example Bank\n"
      "--\n"
      "Online       3/6\n"
      "2025-12-31\n"
      "--\n"
      "00:00:01 UTC 4/6\n"
      "Ref\n"
      "--\n"
      "A5A5A5A5A5A5 5/6\n"
      "A5A5A5A5A5A5A5A5\n"
      "--\n"
      "A5A5         6/6\n"
    },
    { 2, 20, 4, 3,
      "Example Bank On~ 1/3\n"
      "Sign-in\n"
      "Payee:\n"
      "Example Bank Online\n"
      "--\n"
      "2025-12-31       2/3\n"
      "00:00:01 UTC\n"
      "Ref\n"
      "A5A5A5A5A5A5A5A5A5A5\n"
      "--\n"
      "A5A5A5A5A5A5     3/3\n"
    },
    { 2, 40, 8, 1,
      "Example Bank Online\n"
      "Sign-in\n"
      "2025-12-31 00:00:01 UTC\n"
      "Ref A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5\n"
    },
};

START_TEST(test_render)
{
    struct cl_txn t;
    char page[1024], all[4096];
    unsigned pages = 0, p;

    examples[renders[_i].ex](&t);
    all[0] = '\0';
    for (p = 0; p < renders[_i].pages; p++) {
        ck_assert_int_eq(cl_txn_render(&t, renders[_i].w, renders[_i].h, p,
                                       page, sizeof(page), &pages), CL_OK);
        ck_assert_uint_eq(pages, renders[_i].pages);
        if (p)
            strcat(all, "--\n");
        strcat(all, page);
    }
    ck_assert_str_eq(all, renders[_i].text);
    ck_assert_int_eq(cl_txn_render(&t, renders[_i].w, renders[_i].h, p, page,
                                   sizeof(page), &pages), CL_ERR_NOT_FOUND);
    ck_assert_uint_eq(pages, renders[_i].pages);
}
END_TEST

/* Every size from 12x2 to 80x12: lines within the width, printable ASCII,
 * the payee and the whole amount line on page 1, the same output twice. */
START_TEST(test_render_invariants)
{
    /* narrowest display each example fits ("  3 x EUR 1.20" is 14) */
    static const unsigned min_w[] = { 12, 14, 12 };
    struct cl_txn t;
    char page[2048], again[2048], amt[CL_TXN_AMOUNT_TEXT_MAX];
    unsigned w, h, p, pages;

    examples[_i](&t);
    for (h = CL_TXN_HEIGHT_MIN; h <= 12; h++)
        for (w = CL_TXN_WIDTH_MIN; w < min_w[_i]; w++)
            ck_assert_int_eq(cl_txn_render(&t, w, h, 0, page, sizeof(page), &pages),
                             CL_ERR_LIMIT);
    if (t.has_amount)
        ck_assert_int_ge(cl_txn_format_amount(t.amount, t.currency, t.exponent,
                                              amt, sizeof(amt)), 0);
    for (w = min_w[_i]; w <= CL_TXN_WIDTH_MAX; w++) {
        for (h = CL_TXN_HEIGHT_MIN; h <= 12; h++) {
            ck_assert_int_eq(cl_txn_render(&t, w, h, 0, page, sizeof(page), &pages), CL_OK);
            for (p = 0; p < pages; p++) {
                const char *l;
                unsigned lines = 0;

                ck_assert_int_eq(cl_txn_render(&t, w, h, p, page, sizeof(page), NULL), CL_OK);
                ck_assert_int_eq(cl_txn_render(&t, w, h, p, again, sizeof(again), NULL), CL_OK);
                ck_assert_str_eq(page, again);
                for (l = page; *l; lines++) {
                    const char *nl = strchr(l, '\n');
                    const char *c;

                    ck_assert_ptr_nonnull(nl);
                    ck_assert_uint_le((size_t)(nl - l), w);
                    for (c = l; c < nl; c++)
                        ck_assert(*c >= 0x20 && *c <= 0x7E);
                    if (p == 0 && lines == 1 && t.has_amount) {
                        ck_assert_uint_eq((size_t)(nl - l), strlen(amt));
                        ck_assert(memcmp(l, amt, strlen(amt)) == 0);
                    }
                    l = nl + 1;
                }
                ck_assert_uint_le(lines, h);
                ck_assert_uint_ge(lines, 1);
                if (p + 1 < pages)
                    ck_assert_uint_eq(lines, h);
            }
        }
    }
}
END_TEST

START_TEST(test_render_amount_limit)
{
    struct cl_txn t;
    char page[1024];
    unsigned pages = 0;

    ex_minimal(&t);
    t.amount = CL_TXN_AMOUNT_MAX; /* "EUR 2814749767106.55": 20 characters */
    ck_assert_int_eq(cl_txn_render(&t, 16, 2, 0, page, sizeof(page), &pages), CL_ERR_LIMIT);
    ck_assert_int_eq(cl_txn_render(&t, 19, 4, 0, page, sizeof(page), &pages), CL_ERR_LIMIT);
    ck_assert_int_eq(cl_txn_render(&t, 20, 4, 0, page, sizeof(page), &pages), CL_OK);
    ck_assert_str_eq(page, "Cafe Rosa        1/2\nEUR 2814749767106.55\nPurchase\n2024-05-01\n");
    /* an item's amount line is never split either */
    t.amount = 100;
    t.n_items = 1;
    strcpy(t.items[0].desc, "Gold");
    t.items[0].quantity = 9999;
    t.items[0].has_unit = true;
    t.items[0].unit = 10000000; /* "  9999 x EUR 100000.00": 22 */
    ck_assert_int_eq(cl_txn_render(&t, 21, 4, 0, page, sizeof(page), &pages), CL_ERR_LIMIT);
    ck_assert_int_eq(cl_txn_render(&t, 22, 4, 1, page, sizeof(page), &pages), CL_OK);
    ck_assert_str_eq(page, "                   2/3\n  9999 x EUR 100000.00\n2024-05-01\n14:03:00 UTC\n");
}
END_TEST

START_TEST(test_render_args)
{
    struct cl_txn t;
    char page[1024];
    unsigned pages = 5;

    ex_minimal(&t);
    ck_assert_int_eq(cl_txn_render(NULL, 16, 2, 0, page, sizeof(page), &pages), CL_ERR_ARG);
    ck_assert_int_eq(cl_txn_render(&t, 16, 2, 0, NULL, sizeof(page), &pages), CL_ERR_ARG);
    ck_assert_int_eq(cl_txn_render(&t, 11, 2, 0, page, sizeof(page), &pages), CL_ERR_ARG);
    ck_assert_int_eq(cl_txn_render(&t, 81, 2, 0, page, sizeof(page), &pages), CL_ERR_ARG);
    ck_assert_int_eq(cl_txn_render(&t, 16, 1, 0, page, sizeof(page), &pages), CL_ERR_ARG);
    ck_assert_int_eq(cl_txn_render(&t, 16, 65, 0, page, sizeof(page), &pages), CL_ERR_ARG);
    ck_assert_uint_eq(pages, 5);
    /* room for height * (width + 1) + 1 is required, whatever the page holds */
    ck_assert_int_eq(cl_txn_render(&t, 16, 2, 0, page, 34, &pages), CL_ERR_BUFFER);
    ck_assert_int_eq(cl_txn_render(&t, 16, 2, 0, page, 35, NULL), CL_OK);
    ck_assert_int_eq(cl_txn_render(&t, 16, 2, 5, page, 35, &pages), CL_ERR_NOT_FOUND);
    ck_assert_uint_eq(pages, 5);
}
END_TEST

/* Long and hostile-looking text: wrapping, hard splits, transliteration. */
START_TEST(test_render_wrap)
{
    struct cl_txn t;
    char page[1024];
    unsigned pages;

    ex_minimal(&t);
    t.kind = CL_TXN_ACCESS_GRANT;
    t.has_amount = false;
    strcpy(t.merchant, "\xC3\x86gir \xC3\x9E" "orsson \xC3\x9F");  /* AEgir THorsson ss */
    strcpy(t.text, "ABCDEFGHIJKLMNOPQRSTUVWXYZ and more");
    /* 12x3: the payee truncated on page 1 then shown whole; a fixed line
     * that does not fit beside the marker leaves that line empty; a word
     * longer than the line is split. */
    ck_assert_int_eq(cl_txn_render(&t, 12, 3, 0, page, sizeof(page), &pages), CL_OK);
    ck_assert_uint_eq(pages, 6);
    ck_assert_str_eq(page, "AEgir T~ 1/6\nAccess grant\nPayee:\n");
    ck_assert_int_eq(cl_txn_render(&t, 12, 3, 1, page, sizeof(page), NULL), CL_OK);
    ck_assert_str_eq(page, "AEgir    2/6\nTHorsson ss\n2024-05-01\n");
    ck_assert_int_eq(cl_txn_render(&t, 12, 3, 2, page, sizeof(page), NULL), CL_OK);
    ck_assert_str_eq(page, "         3/6\n14:03:00 UTC\nABCDEFGHIJKL\n");
    ck_assert_int_eq(cl_txn_render(&t, 12, 3, 3, page, sizeof(page), NULL), CL_OK);
    ck_assert_str_eq(page, "MNOPQRST 4/6\nUVWXYZ and\nmore\n");
    ck_assert_int_eq(cl_txn_render(&t, 12, 3, 4, page, sizeof(page), NULL), CL_OK);
    ck_assert_str_eq(page, "Ref      5/6\n3F2A910C5BE8\n47D2A6137C09\n");
    ck_assert_int_eq(cl_txn_render(&t, 12, 3, 5, page, sizeof(page), NULL), CL_OK);
    ck_assert_str_eq(page, "E4B568F1 6/6\n");
}
END_TEST

/* ------------------------------------------------------------ signing */

START_TEST(test_tbs)
{
    struct cl_txn t;
    uint8_t out[CL_TXN_TBS_MAX];
    size_t len = 0;

    examples[_i](&t);
    ck_assert_int_eq(cl_txn_tbs(&t, t.challenge_len ? NULL : challenge, 8, out,
                                sizeof(out), &len), CL_OK);
    cl_assert_bytes(out, len, tbs_hex[_i]);
    /* the challenge may always be given explicitly */
    ck_assert_int_eq(cl_txn_tbs(&t, challenge, 8, out, sizeof(out), &len), CL_OK);
    cl_assert_bytes(out, len, tbs_hex[_i]);
    ck_assert_int_eq(cl_txn_tbs(&t, challenge, 8, out, len - 1, &len), CL_ERR_BUFFER);
    ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(test_tbs_errors)
{
    struct cl_txn t;
    uint8_t out[CL_TXN_TBS_MAX], other[8] = { 0xC4, 0x5D, 0x19, 0x7A, 0x0B, 0xE2, 0x68, 0xF4 };
    size_t len;

    ex_minimal(&t);
    ck_assert_int_eq(cl_txn_tbs(&t, NULL, 0, out, sizeof(out), &len), CL_ERR_ARG);
    ck_assert_int_eq(cl_txn_tbs(&t, challenge, 7, out, sizeof(out), &len), CL_ERR_ARG);
    ck_assert_int_eq(cl_txn_tbs(&t, out, 65, out, sizeof(out), &len), CL_ERR_ARG);
    ck_assert_int_eq(cl_txn_tbs(NULL, challenge, 8, out, sizeof(out), &len), CL_ERR_ARG);
    ck_assert_int_eq(cl_txn_tbs(&t, challenge, 8, out, sizeof(out), NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_txn_tbs(&t, challenge, 8, NULL, 5, &len), CL_ERR_ARG);
    ck_assert_int_eq(cl_txn_tbs(&t, challenge, 8, out, 15, &len), CL_ERR_BUFFER);
    ck_assert_int_eq(cl_txn_tbs(&t, challenge, 8, out, 20, &len), CL_ERR_BUFFER);
    /* a txn that carries a challenge is signed with that one only */
    memcpy(t.challenge, challenge, 8);
    t.challenge_len = 8;
    ck_assert_int_eq(cl_txn_tbs(&t, other, 8, out, sizeof(out), &len), CL_ERR_DENIED);
    ck_assert_int_eq(cl_txn_tbs(&t, challenge, 7, out, sizeof(out), &len), CL_ERR_ARG);
    ck_assert_int_eq(cl_txn_tbs(&t, out, 9, out, sizeof(out), &len), CL_ERR_DENIED);
    ck_assert_int_eq(cl_txn_tbs(&t, NULL, 0, out, sizeof(out), &len), CL_OK);
}
END_TEST

/* The display form is what is signed: a Latin-1 payee signs like the ASCII
 * one the holder saw, and any shown character changes the digest input. */
START_TEST(test_tbs_display_form)
{
    struct cl_txn a, b;
    uint8_t ta[CL_TXN_TBS_MAX], tb[CL_TXN_TBS_MAX];
    size_t la, lb;

    ex_minimal(&a);
    ex_minimal(&b);
    strcpy(b.merchant, "Caf\xC3\xA9 Rosa");
    ck_assert_int_eq(cl_txn_tbs(&a, challenge, 8, ta, sizeof(ta), &la), CL_OK);
    ck_assert_int_eq(cl_txn_tbs(&b, challenge, 8, tb, sizeof(tb), &lb), CL_OK);
    ck_assert_uint_eq(la, lb);
    ck_assert_mem_eq(ta, tb, la);
    strcpy(b.merchant, "Cafe Rose");
    ck_assert_int_eq(cl_txn_tbs(&b, challenge, 8, tb, sizeof(tb), &lb), CL_OK);
    ck_assert(la != lb || memcmp(ta, tb, la) != 0);
}
END_TEST

#ifdef CL_TEST_DIGEST
START_TEST(test_digest)
{
    struct cl_txn t;
    uint8_t d[32];

    examples[_i](&t);
    memset(d, 0, sizeof(d));
    ck_assert_int_eq(cl_txn_digest(&t, t.challenge_len ? NULL : challenge, 8, d), CL_OK);
    cl_assert_bytes(d, 32, digest_hex[_i]);
}
END_TEST

START_TEST(test_digest_errors)
{
    struct cl_txn t;
    uint8_t d[32];

    ex_minimal(&t);
    ck_assert_int_eq(cl_txn_digest(&t, challenge, 8, NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_txn_digest(NULL, challenge, 8, d), CL_ERR_ARG);
    ck_assert_int_eq(cl_txn_digest(&t, NULL, 0, d), CL_ERR_ARG);
    t.amount = 0;
    ck_assert_int_eq(cl_txn_digest(&t, challenge, 8, d), CL_ERR_DENIED);
}
END_TEST
#endif

static Suite *txn_suite(void)
{
    Suite *s = suite_create("txn");
    TCase *tc = tcase_create("codec");
    int nex = (int)(sizeof(example_hex) / sizeof(example_hex[0]));

    tcase_add_loop_test(tc, test_encode_examples, 0, nex);
    tcase_add_loop_test(tc, test_decode_examples, 0, nex);
    tcase_add_loop_test(tc, test_rejects, 0, (int)(sizeof(rejects) / sizeof(rejects[0])));
    tcase_add_loop_test(tc, test_accepts, 0, (int)(sizeof(accepts) / sizeof(accepts[0])));
    tcase_add_test(tc, test_decode_args);
    tcase_add_loop_test(tc, test_struct_rejects, 0,
                        (int)(sizeof(struct_rejects) / sizeof(struct_rejects[0])));
    tcase_add_test(tc, test_encode_args);
    suite_add_tcase(s, tc);

    tc = tcase_create("policy");
    tcase_add_loop_test(tc, test_policy, 0, (int)(sizeof(policy) / sizeof(policy[0])));
    tcase_add_test(tc, test_policy_wire);
    suite_add_tcase(s, tc);

    tc = tcase_create("render");
    tcase_add_loop_test(tc, test_amounts, 0, (int)(sizeof(amounts) / sizeof(amounts[0])));
    tcase_add_test(tc, test_amount_errors);
    tcase_add_loop_test(tc, test_render, 0, (int)(sizeof(renders) / sizeof(renders[0])));
    tcase_add_loop_test(tc, test_render_invariants, 0, nex);
    tcase_add_test(tc, test_render_amount_limit);
    tcase_add_test(tc, test_render_args);
    tcase_add_test(tc, test_render_wrap);
    suite_add_tcase(s, tc);

    tc = tcase_create("sign");
    tcase_add_loop_test(tc, test_tbs, 0, nex);
    tcase_add_test(tc, test_tbs_errors);
    tcase_add_test(tc, test_tbs_display_form);
#ifdef CL_TEST_DIGEST
    tcase_add_loop_test(tc, test_digest, 0, nex);
    tcase_add_test(tc, test_digest_errors);
#endif
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(txn_suite());
}
