/*
 * cardlink — the canonical transaction: encoding vectors (docs/transaction.md
 * §7, byte-exact both ways, and equal to the document's hex blocks), every
 * decoder rejection, text safety, the amount rules (an amount field where the
 * kind needs one is syntax; a zero amount is lib/policy's business and passes
 * here), amount formatting, rendering for 12x2, 12x3, 16x2, 20x4 and 40x8
 * displays page by page, the to-be-signed bytes and the SHA-256 digests.
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

/* The structs of docs/transaction.md §7's examples 1-4. */
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

static void ex_purse(struct cl_txn *t)
{
    static const uint8_t id[16] = { 0x9C,0x4E,0x21,0xD7,0x08,0xB3,0x5A,0xF6,0x13,0x6E,0x82,0xC9,0x04,0x7D,0xE5,0x3B };
    memset(t, 0, sizeof(*t));
    memcpy(t->id, id, 16);
    t->kind = CL_TXN_PURSE_PAYMENT; t->has_amount = true; t->amount = 250; t->currency = 978; t->exponent = 2;
    ex_time(&t->time, 2025, 3, 14, 8, 15, 30);
    strcpy(t->merchant, "City Transit");
    strcpy(t->text, "Day ticket zone A-B");
}

static void (*const examples[])(struct cl_txn *) = { ex_minimal, ex_full, ex_auth, ex_purse };

/* The names of the examples' "```hex example=NAME" blocks in
 * docs/transaction.md §7. */
static const char *const example_names[] = { "txn-minimal", "txn-full", "txn-auth", "txn-purse" };

/* docs/transaction.md §7, examples 1-4: the canonical encodings. */
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
    /* 4: purse payment, EUR 2.50, free text */
    "E1 49 80 10 9C 4E 21 D7 08 B3 5A F6 13 6E 82 C9 04 7D E5 3B 81 01 06"
    "82 01 FA 83 03 09 78 02 84 07 20 25 03 14 08 15 30"
    "85 0C 43 69 74 79 20 54 72 61 6E 73 69 74"
    "87 13 44 61 79 20 74 69 63 6B 65 74 20 7A 6F 6E 65 20 41 2D 42",
};

/* §8: the to-be-signed bytes of the examples; 1, 3 and 4 with challenge
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
    "63 61 72 64 6C 69 6E 6B 2D 74 78 6E 2D 76 31 00"
    "E1 49 80 10 9C 4E 21 D7 08 B3 5A F6 13 6E 82 C9 04 7D E5 3B 81 01 06"
    "82 01 FA 83 03 09 78 02 84 07 20 25 03 14 08 15 30"
    "85 0C 43 69 74 79 20 54 72 61 6E 73 69 74"
    "87 13 44 61 79 20 74 69 63 6B 65 74 20 7A 6F 6E 65 20 41 2D 42"
    "C4 5D 19 7A 0B E2 68 F3",
};

/* SHA-256 of tbs_hex[i], computed with Python's hashlib. */
static const char *const digest_hex[] = {
    "B7B6540AAE96DDC29BD1A0110E371C9D5FB3E0F118AA84B5F88C60271C470AF7",
    "27AE2126A802889A1BAE918F8D9099AF668164F858EE3C766FCA4F234FEA2A1F",
    "DECDA4925F9C57C6AB39BB63106C858E3AB2E29D0E7BE1B030E3E137AD272BB3",
    "B635ABB97CE1D2D73A08AF0B0AD4DDCFABB343947D37BD7D97022635652B03E0",
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

/* The document's hex blocks are these vectors, byte for byte. */
START_TEST(test_doc_examples)
{
    uint8_t doc[512], want[512];
    size_t n = cl_test_doc_example(CL_TRANSACTION_MD, "hex", example_names[_i], doc,
                                   sizeof(doc));
    int w = cl_test_hex(example_hex[_i], want, sizeof(want));

    ck_assert_int_gt(w, 0);
    ck_assert_msg(n == (size_t)w && memcmp(doc, want, n) == 0,
                  "docs/transaction.md example=%s differs: %s", example_names[_i],
                  cl_test_tohex(doc, n));
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
    { "kind 07", false, ID "81 01 07 " AMT CUR TIME MER, CL_ERR_RESERVED },
    { "kind FF", false, ID "81 01 FF " AMT CUR TIME MER, CL_ERR_RESERVED },
    { "purchase without an amount", false, ID KIND TIME MER, CL_ERR_MALFORMED },
    { "e-money load without an amount", false, ID "81 01 03 " TIME MER, CL_ERR_MALFORMED },
    { "e-goods load without an amount", false, ID "81 01 04 " TIME MER, CL_ERR_MALFORMED },
    { "purse payment without an amount", false, ID "81 01 06 " TIME MER, CL_ERR_MALFORMED },
    { "purse payment: currency without an amount", false, ID "81 01 06 " CUR TIME MER, CL_ERR_TAG },
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
    /* issue 11 §7: the ends of the month table */
    { "32 October", false, ID KIND AMT CUR "84 07 20 24 10 32 14 03 00 " MER, CL_ERR_MALFORMED },
    { "32 December", false, ID KIND AMT CUR "84 07 20 24 12 32 14 03 00 " MER, CL_ERR_MALFORMED },
    { "30 February 2024 (a leap year)", false, ID KIND AMT CUR "84 07 20 24 02 30 14 03 00 " MER, CL_ERR_MALFORMED },
    { "30 February 2000 (a leap year)", false, ID KIND AMT CUR "84 07 20 00 02 30 14 03 00 " MER, CL_ERR_MALFORMED },
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
    /* issue 11 §7: the edges of the decoder's lengths */
    { "smallest 3-byte character U+0800: well-formed, not displayable", false,
      HEAD "85 04 41 E0 A0 80", CL_ERR_DENIED },
    { "overlong U+07FF in 3 bytes E0 9F BF", false, HEAD "85 04 41 E0 9F BF", CL_ERR_MALFORMED },
    { "four-byte sequence cut by the end", false, HEAD "85 04 41 F0 9F 98", CL_ERR_MALFORMED },
    { "four-byte sequence cut by an ASCII byte", false, HEAD "85 05 F0 9F 98 41 42", CL_ERR_MALFORMED },
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
    /* dates and BCD at their edges (one-at-a-time faults, docs/testing.md) */
    { "32 January", false, ID KIND AMT CUR "84 07 20 24 01 32 00 00 00 " MER, CL_ERR_MALFORMED },
    { "32 August", false, ID KIND AMT CUR "84 07 20 24 08 32 00 00 00 " MER, CL_ERR_MALFORMED },
    { "29 February 2100 (not a leap year)", false, ID KIND AMT CUR "84 07 21 00 02 29 00 00 00 " MER, CL_ERR_MALFORMED },
    { "month 13", false, ID KIND AMT CUR "84 07 20 24 13 01 00 00 00 " MER, CL_ERR_MALFORMED },
    { "hour 24", false, ID KIND AMT CUR "84 07 20 24 05 01 24 00 00 " MER, CL_ERR_MALFORMED },
    { "minute 60", false, ID KIND AMT CUR "84 07 20 24 05 01 14 60 00 " MER, CL_ERR_MALFORMED },
    { "second 60", false, ID KIND AMT CUR "84 07 20 24 05 01 14 03 60 " MER, CL_ERR_MALFORMED },
    { "year digit A (20A4)", false, ID KIND AMT CUR "84 07 20 A4 05 01 14 03 00 " MER, CL_ERR_MALFORMED },
    { "challenge of 65 bytes", false, HEAD MER "88 41"
      "00000000000000000000000000000000 00000000000000000000000000000000"
      "00000000000000000000000000000000 00000000000000000000000000000000 00", CL_ERR_LENGTH },
    /* UTF-8 at its edges: well-formed but not a Latin-1 letter is DENIED,
     * ill-formed is MALFORMED */
    { "U+10FFFF (F4 8F BF BF): well-formed, not Latin-1", false, HEAD "85 04 F4 8F BF BF", CL_ERR_DENIED },
    { "F4 90 80 80: above U+10FFFF", false, HEAD "85 04 F4 90 80 80", CL_ERR_MALFORMED },
    { "a 4-byte sequence cut by the field's end", false, HEAD "85 03 F0 9F 98 A6 05 A0 03 80 01 41", CL_ERR_MALFORMED },
    { "a lone continuation byte 80", false, HEAD "85 01 80", CL_ERR_MALFORMED },
    /* sequences cut by the field's end after a first character, with
     * continuation-like bytes (the next tag, A6) right behind the field */
    { "2-byte sequence cut after A", false, HEAD "85 02 41 C3 A6 05 A0 03 80 01 41", CL_ERR_MALFORMED },
    { "3-byte sequence cut after A", false, HEAD "85 03 41 E2 82 A6 05 A0 03 80 01 41", CL_ERR_MALFORMED },
    { "4-byte sequence cut after A", false, HEAD "85 04 41 F0 9F 98 A6 05 A0 03 80 01 41", CL_ERR_MALFORMED },
    /* each continuation byte checked in its own place */
    { "E2 41 82: 2nd byte not a continuation", false, HEAD "85 03 E2 41 82", CL_ERR_MALFORMED },
    { "F1 41 98 98: 2nd byte not a continuation", false, HEAD "85 04 F1 41 98 98", CL_ERR_MALFORMED },
    { "F1 98 41 98: 3rd byte not a continuation", false, HEAD "85 04 F1 98 41 98", CL_ERR_MALFORMED },
    /* well-formed at the edges of the overlong and surrogate rules, but
     * not Latin-1 letters */
    { "U+D7FF (ED 9F BF), the last before the surrogates", false, HEAD "85 03 ED 9F BF", CL_ERR_DENIED },
    { "U+10000 (F0 90 80 80), the first 4-byte one", false, HEAD "85 04 F0 90 80 80", CL_ERR_DENIED },
    { "U+07FF (DF BF), the last 2-byte one", false, HEAD "85 02 DF BF", CL_ERR_DENIED },
    { "U+0080 (C2 80), a C1 control", false, HEAD "85 02 C2 80", CL_ERR_DENIED },
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
    { "amount 0 decodes (refusing it is lib/policy's)", ID KIND "82 01 00 " CUR TIME MER },
    { "purse payment of 0 decodes", ID "81 01 06 " "82 01 00 " CUR TIME MER },
    { "purse payment", ID "81 01 06 " AMT CUR TIME MER },
    { "authentication with an amount", ID "81 01 02 " AMT CUR TIME MER },
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
    { "challenge of 64 bytes", HEAD MER "88 40"
      "00000000000000000000000000000000 00000000000000000000000000000000"
      "00000000000000000000000000000000 00000000000000000000000000000000" },
    { "31 January, 31 August", ID KIND AMT CUR "84 07 20 24 01 31 00 00 00 " MER },
    { "31 August", ID KIND AMT CUR "84 07 20 24 08 31 00 00 00 " MER },
    { "29 February 2024", ID KIND AMT CUR "84 07 20 24 02 29 00 00 00 " MER },
    { "23:59:59", ID KIND AMT CUR "84 07 20 24 05 01 23 59 59 " MER },
    { "unknown currency 100 (hundreds digit 1)", ID KIND AMT "83 03 01 00 02 " TIME MER },
    { "unknown currency 999, the last", ID KIND AMT "83 03 09 99 02 " TIME MER },
    { "a text of one character", HEAD MER "87 01 41" },
    { "U+00FF, the last Latin-1 letter, and U+00C0, the first", HEAD "85 04 C3 BF C3 80" },
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
    memset(&t, 0x5A, sizeof(t));   /* decoding sets every field, terminators too */
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
static void bad_kind7(struct cl_txn *t) { t->kind = 7; }
static void bad_noamt(struct cl_txn *t) { t->has_amount = false; t->currency = 0; t->exponent = 0; }
static void bad_noamt_purse(struct cl_txn *t) { bad_noamt(t); t->kind = CL_TXN_PURSE_PAYMENT; }
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
static void bad_item2_qty0(struct cl_txn *t)
{
    t->n_items = 2;
    strcpy(t->items[0].desc, "A");
    t->items[0].quantity = 1;
    strcpy(t->items[1].desc, "B");
}
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
    { "kind 7", bad_kind7, CL_ERR_RESERVED },
    { "purchase without amount", bad_noamt, CL_ERR_MALFORMED },
    { "purse payment without amount", bad_noamt_purse, CL_ERR_MALFORMED },
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
    { "second item quantity 0", bad_item2_qty0, CL_ERR_RESERVED },
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
    ck_assert_int_eq(cl_txn_encode(&t, NULL, 1, &len), CL_ERR_ARG);
    ck_assert_int_eq(cl_txn_tbs(&t, challenge, 8, NULL, 1, &len), CL_ERR_ARG);
    ck_assert_int_eq(cl_txn_decode(NULL, 1, &t), CL_ERR_ARG);
    ck_assert_int_eq(cl_txn_encode(&t, NULL, 0, &len), CL_ERR_BUFFER);
    ck_assert_int_eq(cl_txn_check(NULL), CL_ERR_ARG);
}
END_TEST

/* ------------------------------------------------------------ amount rules */

/* The amount field is the format's (mandatory for purchases, loads and purse
 * payments: CL_ERR_MALFORMED without it); its value is not: a zero amount
 * encodes, decodes, checks, renders and gives its to-be-signed bytes. The
 * device's refusal of a zero amount is lib/policy's and tested there. */
static const struct {
    const char *why;
    uint8_t kind;
    bool has_amount;
    uint64_t amount;
    int rc;             /* of encode, check, render, tbs and digest */
    const char *line2;  /* page 1, line 2 at 16x2 when rc is CL_OK */
} amount_rules[] = {
    { "purchase of zero", CL_TXN_PURCHASE, true, 0, CL_OK, "Pay EUR 0.00" },
    { "purchase without amount", CL_TXN_PURCHASE, false, 0, CL_ERR_MALFORMED, NULL },
    { "e-money load of zero", CL_TXN_EMONEY_LOAD, true, 0, CL_OK, "Load EUR 0.00" },
    { "e-money load without amount", CL_TXN_EMONEY_LOAD, false, 0, CL_ERR_MALFORMED, NULL },
    { "e-goods load of zero", CL_TXN_EGOODS_LOAD, true, 0, CL_OK, "Goods EUR 0.00" },
    { "e-goods load without amount", CL_TXN_EGOODS_LOAD, false, 0, CL_ERR_MALFORMED, NULL },
    { "purse payment of zero", CL_TXN_PURSE_PAYMENT, true, 0, CL_OK, "Purse EUR 0.00" },
    { "purse payment without amount", CL_TXN_PURSE_PAYMENT, false, 0, CL_ERR_MALFORMED, NULL },
    { "purchase of one cent", CL_TXN_PURCHASE, true, 1, CL_OK, "Pay EUR 0.01" },
    { "e-money load of one cent", CL_TXN_EMONEY_LOAD, true, 1, CL_OK, "Load EUR 0.01" },
    { "e-goods load of one cent", CL_TXN_EGOODS_LOAD, true, 1, CL_OK, "Goods EUR 0.01" },
    { "purse payment of one cent", CL_TXN_PURSE_PAYMENT, true, 1, CL_OK, "Purse EUR 0.01" },
    { "authentication without amount", CL_TXN_AUTHENTICATION, false, 0, CL_OK, "Sign-in" },
    { "authentication of zero", CL_TXN_AUTHENTICATION, true, 0, CL_OK, "Auth EUR 0.00" },
    { "access grant without amount", CL_TXN_ACCESS_GRANT, false, 0, CL_OK, "Access grant" },
    { "access grant of zero", CL_TXN_ACCESS_GRANT, true, 0, CL_OK, "Access EUR 0.00" },
};

START_TEST(test_amount_rules)
{
    struct cl_txn t, back;
    uint8_t enc[CL_TXN_ENCODED_MAX], tbs[CL_TXN_TBS_MAX], d[32];
    char page[512], want[64];
    size_t len = 9;
    unsigned pages = 77;
    int rc = amount_rules[_i].rc;

    ex_minimal(&t);
    t.kind = amount_rules[_i].kind;
    t.has_amount = amount_rules[_i].has_amount;
    t.amount = amount_rules[_i].amount;
    if (!t.has_amount) {
        t.currency = 0;
        t.exponent = 0;
    }
    ck_assert_msg(cl_txn_encode(&t, enc, sizeof(enc), &len) == rc, "%s", amount_rules[_i].why);
    ck_assert_int_eq(cl_txn_check(&t), rc);
    ck_assert_int_eq(cl_txn_render(&t, 16, 2, 0, page, sizeof(page), &pages), rc);
    ck_assert_int_eq(cl_txn_tbs(&t, challenge, 8, tbs, sizeof(tbs), &len), rc);
#ifdef CL_TEST_DIGEST
    ck_assert_int_eq(cl_txn_digest(&t, challenge, 8, d), rc);
#else
    (void)d;
#endif
    if (rc != CL_OK) {
        ck_assert_uint_eq(pages, 77);
        return;
    }
    /* the kind labels the amount on page 1 (16x2: payee, then that line) */
    snprintf(want, sizeof(want), "%s\n", amount_rules[_i].line2);
    ck_assert_ptr_nonnull(strchr(page, '\n'));
    ck_assert_str_eq(strchr(page, '\n') + 1, want);
    ck_assert_int_eq(cl_txn_encode(&t, enc, sizeof(enc), &len), CL_OK);
    ck_assert_int_eq(cl_txn_decode(enc, len, &back), CL_OK);
    ck_assert(memcmp(&t, &back, sizeof(t)) == 0);
}
END_TEST

/* As they arrive from the network: a zero purchase decodes and passes every
 * lib/txn function; a purchase without its amount field does not decode. */
START_TEST(test_amount_wire)
{
    static const char zero[] = "E1 31 " ID KIND "82 01 00 " CUR TIME MER;
    static const char none[] = "E1 29 " ID KIND TIME MER;
    uint8_t in[128], tbs[CL_TXN_TBS_MAX];
    int n = cl_test_hex(zero, in, sizeof(in));
    struct cl_txn t;
    char page[64];
    size_t len;

    ck_assert_int_eq(cl_txn_decode(in, (size_t)n, &t), CL_OK);
    ck_assert_int_eq(cl_txn_check(&t), CL_OK);
    ck_assert_int_eq(cl_txn_render(&t, 16, 2, 0, page, sizeof(page), NULL), CL_OK);
    ck_assert_str_eq(page, "Cafe Rosa    1/4\nPay EUR 0.00\n");
    ck_assert_int_eq(cl_txn_tbs(&t, challenge, 8, tbs, sizeof(tbs), &len), CL_OK);
    n = cl_test_hex(none, in, sizeof(in));
    ck_assert_int_eq(cl_txn_decode(in, (size_t)n, &t), CL_ERR_MALFORMED);
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
    /* issue 11 §7: multiples of 655,360 (a broken loop once printed
     * EUR 6,553.60 as "EUR 0.00") */
    { 655360, 978, 2, "EUR 6553.60" },
    { 1310720, 978, 2, "EUR 13107.20" },
    { 6553600, 978, 2, "EUR 65536.00" },
    { 655360, 392, 0, "JPY 655360" },
    { 655360, 48, 3, "BHD 655.360" },
    { 42949672960ull, 978, 2, "EUR 429496729.60" },
    { 0xFFFFFFFFFFFFull, 978, 2, "EUR 2814749767106.55" },
    { 0xFFFFFFFFFFFFull, 392, 0, "JPY 281474976710655" },
    { 0xFFFFFFFFFFFFull, 533, 4, "#533 28147497671.0655" },
    { 1000000000000ull, 208, 2, "DKK 10000000000.00" },
    { 1200, 533, 2, "#533 12.00" },
    { 1200, 1, 0, "#001 1200" },
    { 1200, 999, 2, "#999 12.00" },
    { 1200, 100, 2, "#100 12.00" },   /* 100 (BGL) withdrawn: digits, hundreds first */
    { 1200, 250, 2, "#250 12.00" },
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

/* The currency table row by row, and nothing else known: numeric and
 * alphabetic codes as Debian's iso-codes (iso_4217.json) has them, the
 * minor units of ISO 4217. Every row is read, the first and the last too. */
static const struct {
    uint16_t num;
    const char *alpha;
    uint8_t exp;
} iso4217[] = {
    { 36, "AUD", 2 }, { 48, "BHD", 3 }, { 124, "CAD", 2 }, { 152, "CLP", 0 },
    { 156, "CNY", 2 }, { 203, "CZK", 2 }, { 208, "DKK", 2 }, { 344, "HKD", 2 },
    { 348, "HUF", 2 }, { 352, "ISK", 0 }, { 356, "INR", 2 }, { 368, "IQD", 3 },
    { 392, "JPY", 0 }, { 400, "JOD", 3 }, { 410, "KRW", 0 }, { 414, "KWD", 3 },
    { 434, "LYD", 3 }, { 484, "MXN", 2 }, { 512, "OMR", 3 }, { 554, "NZD", 2 },
    { 578, "NOK", 2 }, { 702, "SGD", 2 }, { 704, "VND", 0 }, { 710, "ZAR", 2 },
    { 752, "SEK", 2 }, { 756, "CHF", 2 }, { 788, "TND", 3 }, { 826, "GBP", 2 },
    { 840, "USD", 2 }, { 946, "RON", 2 }, { 949, "TRY", 2 }, { 950, "XAF", 0 },
    { 952, "XOF", 0 }, { 953, "XPF", 0 }, { 975, "BGN", 2 }, { 978, "EUR", 2 },
    { 985, "PLN", 2 }, { 986, "BRL", 2 }, { 990, "CLF", 4 },
};

START_TEST(test_currency_table)
{
    unsigned num, i, known = 0;

    for (num = 0; num <= 1000; num++) {
        uint8_t e = 0xEE;
        const char *a = cl_txn_currency_alpha((uint16_t)num, &e);
        for (i = 0; i < sizeof(iso4217) / sizeof(iso4217[0]) && iso4217[i].num != num; i++) {
        }
        if (i == sizeof(iso4217) / sizeof(iso4217[0])) {
            ck_assert_msg(a == NULL, "%u is not in the table", num);
            ck_assert_uint_eq(e, 0xEE);
            continue;
        }
        known++;
        ck_assert_msg(a != NULL && strcmp(a, iso4217[i].alpha) == 0, "%u: %s", num,
                      a ? a : "(none)");
        ck_assert_msg(e == iso4217[i].exp, "%s: exponent %u", a, e);
    }
    ck_assert_uint_eq(known, sizeof(iso4217) / sizeof(iso4217[0]));
}
END_TEST

/* ------------------------------------------------------------ rendering */

/* Example, width, height, pages, and every page's lines with "--\n"
 * between pages (docs/transaction.md §6 shows some of them). */
static const struct {
    unsigned ex, w, h, pages;
    const char *text;
} renders[] = {
    { 0, 16, 2, 4,
      "Cafe Rosa    1/4\n"
      "Pay EUR 123.45\n"
      "--\n"
      "2024-05-01   2/4\n"
      "14:03:00 UTC\n"
      "--\n"
      "Ref          3/4\n"
      "3F2A910C5BE847D2\n"
      "--\n"
      "A6137C09E4B5 4/4\n"
      "68F1\n"
    },
    { 0, 20, 4, 2,
      "Cafe Rosa        1/2\n"
      "Pay EUR 123.45\n"
      "2024-05-01\n"
      "14:03:00 UTC\n"
      "--\n"
      "Ref              2/2\n"
      "3F2A910C5BE847D2A613\n"
      "7C09E4B568F1\n"
    },
    { 0, 40, 8, 1,
      "Cafe Rosa\n"
      "Pay EUR 123.45\n"
      "2024-05-01 14:03:00 UTC\n"
      "Ref 3F2A910C5BE847D2A6137C09E4B568F1\n"
    },
    { 0, 12, 3, 4,
      "Cafe Ro~ 1/4\n"
      "Purchase\n"
      "EUR 123.45\n"
      "--\n"
      "Payee:   2/4\n"
      "Cafe Rosa\n"
      "2024-05-01\n"
      "--\n"
      "         3/4\n"
      "14:03:00 UTC\n"
      "Ref\n"
      "--\n"
      "3F2A910C 4/4\n"
      "5BE847D2A613\n"
      "7C09E4B568F1\n"
    },
    { 1, 16, 2, 9,
      "Backerei Mu~ 1/9\n"
      "Pay EUR 7.00\n"
      "--\n"
      "Payee:       2/9\n"
      "Backerei Muller\n"
      "--\n"
      "Croissant    3/9\n"
      "  3 x EUR 1.20\n"
      "--\n"
      "Kaffee gross 4/9\n"
      "  1 x EUR 2.80\n"
      "--\n"
      "Tasche       5/9\n"
      "  qty 2\n"
      "--\n"
      "2024-02-29   6/9\n"
      "23:59:59 UTC\n"
      "--\n"
      "Danke fur    7/9\n"
      "Ihren Einkauf!\n"
      "--\n"
      "Ref          8/9\n"
      "1011121314151617\n"
      "--\n"
      "18191A1B1C1D 9/9\n"
      "1E1F\n"
    },
    { 1, 20, 4, 4,
      "Backerei Muller  1/4\n"
      "Pay EUR 7.00\n"
      "Croissant\n"
      "  3 x EUR 1.20\n"
      "--\n"
      "Kaffee gross     2/4\n"
      "  1 x EUR 2.80\n"
      "Tasche\n"
      "  qty 2\n"
      "--\n"
      "2024-02-29       3/4\n"
      "23:59:59 UTC\n"
      "Danke fur Ihren\n"
      "Einkauf!\n"
      "--\n"
      "Ref              4/4\n"
      "10111213141516171819\n"
      "1A1B1C1D1E1F\n"
    },
    { 1, 40, 8, 2,
      "Backerei Muller                      1/2\n"
      "Pay EUR 7.00\n"
      "Croissant\n"
      "  3 x EUR 1.20\n"
      "Kaffee gross\n"
      "  1 x EUR 2.80\n"
      "Tasche\n"
      "  qty 2\n"
      "--\n"
      "2024-02-29 23:59:59 UTC              2/2\n"
      "Danke fur Ihren Einkauf!\n"
      "Ref 101112131415161718191A1B1C1D1E1F\n"
    },
    { 2, 12, 2, 6,
      "Example~ 1/6\n"
      "Sign-in\n"
      "--\n"
      "Payee:   2/6\n"
      "Example Bank\n"
      "--\n"
      "Online   3/6\n"
      "2025-12-31\n"
      "--\n"
      "         4/6\n"
      "00:00:01 UTC\n"
      "--\n"
      "Ref      5/6\n"
      "A5A5A5A5A5A5\n"
      "--\n"
      "A5A5A5A5 6/6\n"
      "A5A5A5A5A5A5\n"
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
    { 3, 16, 2, 5,
      "City Transit 1/5\n"
      "Purse EUR 2.50\n"
      "--\n"
      "2025-03-14   2/5\n"
      "08:15:30 UTC\n"
      "--\n"
      "Day ticket   3/5\n"
      "zone A-B\n"
      "--\n"
      "Ref          4/5\n"
      "9C4E21D708B35AF6\n"
      "--\n"
      "136E82C9047D 5/5\n"
      "E53B\n"
    },
    { 3, 20, 4, 3,
      "City Transit     1/3\n"
      "Purse EUR 2.50\n"
      "2025-03-14\n"
      "08:15:30 UTC\n"
      "--\n"
      "Day ticket zone  2/3\n"
      "A-B\n"
      "Ref\n"
      "9C4E21D708B35AF6136E\n"
      "--\n"
      "82C9047DE53B     3/3\n"
    },
    { 3, 12, 3, 5,
      "City Tr~ 1/5\n"
      "Pay by purse\n"
      "EUR 2.50\n"
      "--\n"
      "Payee:   2/5\n"
      "City Transit\n"
      "2025-03-14\n"
      "--\n"
      "         3/5\n"
      "08:15:30 UTC\n"
      "Day ticket\n"
      "--\n"
      "zone A-B 4/5\n"
      "Ref\n"
      "9C4E21D708B3\n"
      "--\n"
      "5AF6136E 5/5\n"
      "82C9047DE53B\n"
    },
    { 3, 40, 8, 1,
      "City Transit\n"
      "Purse EUR 2.50\n"
      "2025-03-14 08:15:30 UTC\n"
      "Day ticket zone A-B\n"
      "Ref 9C4E21D708B35AF6136E82C9047DE53B\n"
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

/* The amount label and the kind's name of each kind (docs/transaction.md §6). */
static const struct {
    uint8_t kind;
    const char *label, *name;
} kind_text[] = {
    { CL_TXN_PURCHASE, "Pay", "Purchase" },
    { CL_TXN_AUTHENTICATION, "Auth", "Sign-in" },
    { CL_TXN_EMONEY_LOAD, "Load", "E-money load" },
    { CL_TXN_EGOODS_LOAD, "Goods", "E-goods load" },
    { CL_TXN_ACCESS_GRANT, "Access", "Access grant" },
    { CL_TXN_PURSE_PAYMENT, "Purse", "Pay by purse" },
};

/* Every size from 12x2 to 80x12, each example as it is and as every other
 * kind: CL_ERR_LIMIT exactly where the amount cannot be shown whole on
 * page 1 or an item's amount line is too wide; otherwise lines within the
 * width, printable ASCII, the payee on line 1 and on line 2 the labelled
 * amount or (where that is too wide and there are 3 rows) the kind's name
 * with the amount alone on line 3; the same output twice. */
START_TEST(test_render_invariants)
{
    /* widest item amount line of each example ("  3 x EUR 1.20" is 14) */
    static const unsigned item_w[] = { 0, 14, 0, 0 };
    struct cl_txn t;
    char page[2048], again[2048], amt[CL_TXN_AMOUNT_TEXT_MAX], want[64];
    unsigned w, h, p, pages, k;
    size_t al = 0;

    for (k = 0; k < sizeof(kind_text) / sizeof(kind_text[0]); k++) {
        examples[_i](&t);
        if (!t.has_amount && CL_TXN_KIND_NEEDS_AMOUNT(kind_text[k].kind))
            continue;
        t.kind = kind_text[k].kind;
        if (t.has_amount)
            al = (size_t)cl_txn_format_amount(t.amount, t.currency, t.exponent, amt,
                                              sizeof(amt));
        for (w = CL_TXN_WIDTH_MIN; w <= CL_TXN_WIDTH_MAX; w++) {
            for (h = CL_TXN_HEIGHT_MIN; h <= 12; h++) {
                size_t lw = t.has_amount ? strlen(kind_text[k].label) + 1 + al : 0;
                bool one = lw <= w, fits = w >= item_w[_i] && (one || (h >= 3 && al <= w));
                const char *l2;

                if (!fits) {
                    ck_assert_int_eq(cl_txn_render(&t, w, h, 0, page, sizeof(page), &pages),
                                     CL_ERR_LIMIT);
                    continue;
                }
                ck_assert_int_eq(cl_txn_render(&t, w, h, 0, page, sizeof(page), &pages), CL_OK);
                /* page 1: line 2 (and 3) */
                l2 = strchr(page, '\n');
                ck_assert_ptr_nonnull(l2);
                l2++;
                if (!t.has_amount)
                    snprintf(want, sizeof(want), "%s\n", kind_text[k].name);
                else if (one)
                    snprintf(want, sizeof(want), "%s %s\n", kind_text[k].label, amt);
                else
                    snprintf(want, sizeof(want), "%s\n%s\n", kind_text[k].name, amt);
                ck_assert_msg(strncmp(l2, want, strlen(want)) == 0, "%ux%u: %s", w, h, page);
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
                        /* one check a line: a ck_assert costs a pipe write */
                        for (c = l; c < nl && *c >= 0x20 && *c <= 0x7E; c++) {
                        }
                        ck_assert_msg(c == nl, "%ux%u page %u: a control byte", w, h, p);
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
}
END_TEST

/* 12x2, the smallest display: a labelled amount of 12 characters fits, one
 * more does not (two rows leave no room to put the kind above it); on 12x3
 * the kind goes above the amount. */
START_TEST(test_render_12x2)
{
    struct cl_txn t;
    char page[256];
    unsigned pages = 0;

    ex_minimal(&t);
    ck_assert_int_eq(cl_txn_render(&t, 12, 2, 0, page, sizeof(page), &pages), CL_ERR_LIMIT);
    ck_assert_uint_eq(pages, 0);
    t.amount = 120;  /* "Pay EUR 1.20": 12 */
    ck_assert_int_eq(cl_txn_render(&t, 12, 2, 0, page, sizeof(page), &pages), CL_OK);
    ck_assert_uint_eq(pages, 6);
    ck_assert_str_eq(page, "Cafe Ro~ 1/6\nPay EUR 1.20\n");
    t.amount = 1200; /* "Pay EUR 12.00": 13 */
    ck_assert_int_eq(cl_txn_render(&t, 12, 2, 0, page, sizeof(page), &pages), CL_ERR_LIMIT);
    ck_assert_int_eq(cl_txn_render(&t, 13, 2, 0, page, sizeof(page), &pages), CL_OK);
    ck_assert_str_eq(page, "Cafe Rosa 1/5\nPay EUR 12.00\n");
    ck_assert_int_eq(cl_txn_render(&t, 12, 3, 0, page, sizeof(page), &pages), CL_OK);
    ck_assert_str_eq(page, "Cafe Ro~ 1/4\nPurchase\nEUR 12.00\n");
    t.kind = CL_TXN_EGOODS_LOAD;
    ck_assert_int_eq(cl_txn_render(&t, 12, 3, 0, page, sizeof(page), &pages), CL_OK);
    ck_assert_str_eq(page, "Cafe Ro~ 1/4\nE-goods load\nEUR 12.00\n");
    ex_purse(&t);
    ck_assert_int_eq(cl_txn_render(&t, 12, 2, 0, page, sizeof(page), &pages), CL_ERR_LIMIT);
}
END_TEST

/* Issue 11 §7: what the holder sees for a multiple of 655,360 minor
 * units (a broken loop once rendered EUR 6,553.60 as "EUR 0.00"). */
START_TEST(test_render_655360)
{
    struct cl_txn t;
    char page[1024];
    unsigned pages = 0;

    ex_minimal(&t);
    t.amount = 655360;
    ck_assert_int_eq(cl_txn_render(&t, 16, 2, 0, page, sizeof(page), &pages), CL_OK);
    ck_assert_str_eq(page, "Cafe Rosa    1/4\nPay EUR 6553.60\n");
    t.amount = 655360u * 10u;
    ck_assert_int_eq(cl_txn_render(&t, 16, 2, 0, page, sizeof(page), &pages), CL_OK);
    ck_assert_str_eq(page, "Cafe Rosa    1/4\nPay EUR 65536.00\n");
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
    /* "Pay EUR 2814749767106.55" is 24: on 20x4 the kind goes above it */
    ck_assert_int_eq(cl_txn_render(&t, 20, 4, 0, page, sizeof(page), &pages), CL_OK);
    ck_assert_str_eq(page, "Cafe Rosa        1/2\nPurchase\nEUR 2814749767106.55\n2024-05-01\n");
    ck_assert_int_eq(cl_txn_render(&t, 20, 3, 0, page, sizeof(page), &pages), CL_OK);
    ck_assert_str_eq(page, "Cafe Rosa        1/3\nPurchase\nEUR 2814749767106.55\n");
    /* two rows: the labelled line or nothing */
    ck_assert_int_eq(cl_txn_render(&t, 23, 2, 0, page, sizeof(page), &pages), CL_ERR_LIMIT);
    ck_assert_int_eq(cl_txn_render(&t, 24, 2, 0, page, sizeof(page), &pages), CL_OK);
    ck_assert_str_eq(page, "Cafe Rosa            1/4\nPay EUR 2814749767106.55\n");
    /* an item's amount line is never split either */
    t.amount = 100;
    t.n_items = 1;
    strcpy(t.items[0].desc, "Gold");
    t.items[0].quantity = 9999;
    t.items[0].has_unit = true;
    t.items[0].unit = 10000000; /* "  9999 x EUR 100000.00": 22 */
    ck_assert_int_eq(cl_txn_render(&t, 21, 4, 0, page, sizeof(page), &pages), CL_ERR_LIMIT);
    ck_assert_int_eq(cl_txn_render(&t, 22, 4, 0, page, sizeof(page), &pages), CL_OK);
    ck_assert_str_eq(page, "Cafe Rosa          1/3\nPay EUR 1.00\nGold\n  9999 x EUR 100000.00\n");
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
    ck_assert_int_eq(cl_txn_render(&t, 16, 2, 4, page, 35, &pages), CL_ERR_NOT_FOUND);
    ck_assert_uint_eq(pages, 4);
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

/* Every month's last day is valid and the day after it is not (29
 * February in leap years: 2000 and 2024, not 2100 or 2023). */
START_TEST(test_month_ends)
{
    static const unsigned dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    static const unsigned years[4] = { 2023, 2024, 2000, 2100 };
    struct cl_txn t;
    unsigned m, y;

    for (y = 0; y < 4; y++)
        for (m = 1; m <= 12; m++) {
            unsigned last = dim[m - 1] + (m == 2 && (y == 1 || y == 2));
            ex_minimal(&t);
            t.time.year = (uint16_t)years[y];
            t.time.month = (uint8_t)m;
            t.time.day = (uint8_t)last;
            ck_assert_msg(cl_txn_check(&t) == CL_OK, "%u-%02u-%02u", years[y], m, last);
            t.time.day = (uint8_t)(last + 1);
            ck_assert_msg(cl_txn_check(&t) == CL_ERR_MALFORMED, "%u-%02u-%02u", years[y], m,
                          last + 1);
        }
}
END_TEST

/* Every output size from 0 to what is needed: BUFFER below it, the exact
 * bytes at it, and never a byte written past the size given. */
START_TEST(test_sizes_bounded)
{
    struct cl_txn t;
    uint8_t want[CL_TXN_TBS_MAX], out[CL_TXN_TBS_MAX + 16];
    size_t need, size, len, k;
    int which;

    examples[_i](&t);
    for (which = 0; which < 2; which++) {
        if (which == 0)
            ck_assert_int_eq(cl_txn_tbs(&t, challenge, 8, want, sizeof(want), &need), CL_OK);
        else
            ck_assert_int_eq(cl_txn_encode(&t, want, sizeof(want), &need), CL_OK);
        for (size = 0; size <= need; size++) {
            int rc;
            memset(out, 0xA5, sizeof(out));
            rc = which == 0 ? cl_txn_tbs(&t, challenge, 8, out, size, &len)
                            : cl_txn_encode(&t, out, size, &len);
            ck_assert_int_eq(rc, size < need ? CL_ERR_BUFFER : CL_OK);
            for (k = size; k < sizeof(out) && out[k] == 0xA5; k++) {
            }
            ck_assert_msg(k == sizeof(out), "%s, size %zu: byte %zu written",
                          which ? "encode" : "tbs", size, k);
        }
        ck_assert_uint_eq(len, need);
        ck_assert_mem_eq(out, want, need);
    }
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
    t.challenge_len = 8;
    memcpy(t.challenge, challenge, 8);
    t.challenge[7] ^= 1;
    ck_assert_int_eq(cl_txn_digest(&t, challenge, 8, d), CL_ERR_DENIED);
    t.challenge_len = 0;
    t.has_amount = false;
    ck_assert_int_eq(cl_txn_digest(&t, challenge, 8, d), CL_ERR_MALFORMED);
    t.has_amount = true;
    t.amount = 0;   /* no policy here: lib/policy refuses to sign it */
    ck_assert_int_eq(cl_txn_digest(&t, challenge, 8, d), CL_OK);
}
END_TEST
#endif

static Suite *txn_suite(void)
{
    Suite *s = suite_create("txn");
    TCase *tc = tcase_create("codec");
    int nex = (int)(sizeof(example_hex) / sizeof(example_hex[0]));

    tcase_add_loop_test(tc, test_doc_examples, 0, nex);
    tcase_add_loop_test(tc, test_encode_examples, 0, nex);
    tcase_add_loop_test(tc, test_decode_examples, 0, nex);
    tcase_add_loop_test(tc, test_rejects, 0, (int)(sizeof(rejects) / sizeof(rejects[0])));
    tcase_add_loop_test(tc, test_accepts, 0, (int)(sizeof(accepts) / sizeof(accepts[0])));
    tcase_add_test(tc, test_decode_args);
    tcase_add_loop_test(tc, test_struct_rejects, 0,
                        (int)(sizeof(struct_rejects) / sizeof(struct_rejects[0])));
    tcase_add_test(tc, test_encode_args);
    tcase_add_test(tc, test_month_ends);
    suite_add_tcase(s, tc);

    tc = tcase_create("amount");
    tcase_add_loop_test(tc, test_amount_rules, 0,
                        (int)(sizeof(amount_rules) / sizeof(amount_rules[0])));
    tcase_add_test(tc, test_amount_wire);
    suite_add_tcase(s, tc);

    tc = tcase_create("render");
    tcase_add_loop_test(tc, test_amounts, 0, (int)(sizeof(amounts) / sizeof(amounts[0])));
    tcase_add_test(tc, test_amount_errors);
    tcase_add_test(tc, test_currency_table);
    tcase_add_loop_test(tc, test_render, 0, (int)(sizeof(renders) / sizeof(renders[0])));
    tcase_add_loop_test(tc, test_render_invariants, 0, nex);
    tcase_add_test(tc, test_render_amount_limit);
    tcase_add_test(tc, test_render_655360);
    tcase_add_test(tc, test_render_12x2);
    tcase_add_test(tc, test_render_args);
    tcase_add_test(tc, test_render_wrap);
    suite_add_tcase(s, tc);

    tc = tcase_create("sign");
    tcase_add_loop_test(tc, test_tbs, 0, nex);
    tcase_add_loop_test(tc, test_sizes_bounded, 0, nex);
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
