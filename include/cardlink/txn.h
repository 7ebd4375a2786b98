/*
 * cardlink — the canonical transaction: encoding, display text, digest.
 * SPDX-License-Identifier: Apache-2.0
 *
 * A transaction is what the holder approves and the card signs: an id (the
 * idempotency key), a kind, an optional amount with its currency, the date
 * and time, the payee, an optional item list and free text, and optionally
 * the server's challenge. docs/transaction.md is the normative description
 * of its one canonical BER-TLV encoding (tag table, rules, hex examples);
 * this header is the API.
 *
 * Nothing here allocates: struct cl_txn holds every field in fixed-size
 * arrays sized by the CL_TXN_* constants below (override them with -D to
 * shrink firmware; a smaller limit makes the decoder refuse longer fields
 * with CL_ERR_LIMIT).
 *
 * Text fields (payee, item descriptions, free text) are UTF-8 restricted
 * to a safe repertoire (docs/transaction.md §4): printable ASCII without
 * '\' and '~', plus the Latin-1 letters U+00C0..U+00FF except U+00D7 and
 * U+00F7; no leading, trailing or doubled spaces. Everything else (control
 * characters, bidi overrides, zero-width characters, other scripts) is
 * refused. Displays get the ASCII "display form" (letters transliterated:
 * e-acute -> e, sharp s -> ss), and the digest covers the display form, so
 * the card signs exactly the characters that were shown.
 */
#ifndef CARDLINK_TXN_H
#define CARDLINK_TXN_H

#include "cardlink/defs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sizes (characters for text, not bytes; each character is 1 or 2 UTF-8
 * bytes). The defaults are the format's own maxima: larger values are
 * refused by the format and have no effect. */
#ifndef CL_TXN_MERCHANT_MAX
#define CL_TXN_MERCHANT_MAX 40   /* payee name, 1..40 characters */
#endif
#ifndef CL_TXN_ITEMS_MAX
#define CL_TXN_ITEMS_MAX 8       /* items in the list, 1..8 */
#endif
#ifndef CL_TXN_ITEM_MAX
#define CL_TXN_ITEM_MAX 24       /* item description, 1..24 characters */
#endif
#ifndef CL_TXN_TEXT_MAX
#define CL_TXN_TEXT_MAX 120      /* free text, 1..120 characters */
#endif

#define CL_TXN_ID_LEN 16           /* transaction id: 16 random bytes */
#define CL_TXN_CHALLENGE_MIN 8     /* server challenge: 8..64 bytes */
#define CL_TXN_CHALLENGE_MAX 64
#define CL_TXN_AMOUNT_MAX 0xFFFFFFFFFFFFull  /* 2^48 - 1 minor units */
#define CL_TXN_QTY_MAX 9999        /* item quantity 1..9999 */
#define CL_TXN_EXPONENT_MAX 4      /* currency exponent 0..4 */

/* Display sizes cl_txn_render accepts (characters). */
#define CL_TXN_WIDTH_MIN 12
#define CL_TXN_WIDTH_MAX 80
#define CL_TXN_HEIGHT_MIN 2
#define CL_TXN_HEIGHT_MAX 64

/* Longest amount text cl_txn_format_amount writes, NUL included:
 * "#999 " + 15 digits + '.' + NUL. */
#define CL_TXN_AMOUNT_TEXT_MAX 24

/* Upper bound of an encoding (cl_txn_encode never writes more). */
#define CL_TXN_ENCODED_MAX                                                    \
    (4 + 18 + 3 + 8 + 5 + 9 + (4 + 2 * CL_TXN_MERCHANT_MAX) +               \
     (4 + CL_TXN_ITEMS_MAX * (4 + (4 + 2 * CL_TXN_ITEM_MAX) + 4 + 8)) +      \
     (4 + 2 * CL_TXN_TEXT_MAX) + (2 + CL_TXN_CHALLENGE_MAX))

/* Upper bound of cl_txn_tbs's output for any challenge (display forms
 * may double the text's length: sharp s -> ss). */
#define CL_TXN_TBS_MAX                                                        \
    (16 + CL_TXN_ENCODED_MAX + 2 * CL_TXN_MERCHANT_MAX +                     \
     CL_TXN_ITEMS_MAX * 2 * CL_TXN_ITEM_MAX + 2 * CL_TXN_TEXT_MAX)

/* The domain-separation prefix of the to-be-signed bytes: the 15 ASCII
 * characters "cardlink-txn-v1" and a zero byte. */
#define CL_TXN_TBS_PREFIX "cardlink-txn-v1"
#define CL_TXN_TBS_PREFIX_LEN 16

/*
 * Transaction kinds (the value of field 81). "Amount mandatory" is the
 * format's rule (the field must be there: cl_txn_decode, cl_txn_encode and
 * cl_txn_check refuse its absence with CL_ERR_MALFORMED). Whether an amount
 * of zero may be shown and signed is device policy, not format: lib/policy
 * (cardlink/policy.h) decides it; lib/txn accepts a zero amount.
 */
enum cl_txn_kind {
    CL_TXN_PURCHASE = 1,       /* pay the payee: amount mandatory */
    CL_TXN_AUTHENTICATION = 2, /* sign in at the payee: amount optional */
    CL_TXN_EMONEY_LOAD = 3,    /* load stored value: amount mandatory */
    CL_TXN_EGOODS_LOAD = 4,    /* load tickets/coupons: amount mandatory */
    CL_TXN_ACCESS_GRANT = 5,   /* open a door, grant a right: amount optional */
    CL_TXN_PURSE_PAYMENT = 6   /* pay the payee from the card's purse (stored
                                * value): amount mandatory */
};

/* Whether the format requires an amount for kind k (1, 3, 4, 6). */
#define CL_TXN_KIND_NEEDS_AMOUNT(k)                                           \
    ((k) == CL_TXN_PURCHASE || (k) == CL_TXN_EMONEY_LOAD ||                   \
     (k) == CL_TXN_EGOODS_LOAD || (k) == CL_TXN_PURSE_PAYMENT)

/* Date and time, UTC, as the seven BCD bytes YYYY MM DD hh mm ss carry. */
struct cl_txn_time {
    uint16_t year;    /* 1970..9999 */
    uint8_t month;    /* 1..12 */
    uint8_t day;      /* 1..days in the month (leap years counted) */
    uint8_t hour;     /* 0..23 */
    uint8_t minute;   /* 0..59 */
    uint8_t second;   /* 0..59 */
};

struct cl_txn_item {
    char desc[2 * CL_TXN_ITEM_MAX + 1]; /* UTF-8, NUL-terminated, not empty */
    uint16_t quantity;                  /* 1..CL_TXN_QTY_MAX (1 = absent) */
    bool has_unit;                      /* unit amount present */
    uint64_t unit;                      /* minor units of the txn currency */
};

/*
 * A decoded transaction, or one a server fills in to encode. Text fields
 * are NUL-terminated UTF-8 within their arrays; "" means absent for text.
 */
struct cl_txn {
    uint8_t id[CL_TXN_ID_LEN];
    uint8_t kind;                 /* enum cl_txn_kind */
    bool has_amount;              /* amount and currency present */
    uint64_t amount;              /* 0..CL_TXN_AMOUNT_MAX minor units */
    uint16_t currency;            /* ISO 4217 numeric code 1..999 */
    uint8_t exponent;             /* minor unit digits 0..4 */
    struct cl_txn_time time;
    char merchant[2 * CL_TXN_MERCHANT_MAX + 1];  /* mandatory */
    unsigned n_items;             /* 0..CL_TXN_ITEMS_MAX */
    struct cl_txn_item items[CL_TXN_ITEMS_MAX];
    char text[2 * CL_TXN_TEXT_MAX + 1];          /* optional */
    size_t challenge_len;         /* 0 (absent) or 8..64 */
    uint8_t challenge[CL_TXN_CHALLENGE_MAX];
};

/*
 * Decode the canonical encoding buf[0..len): exactly one E1 template and
 * nothing after it. out must not be NULL; on failure it is zeroed.
 * The decoder is strict: anything but the one canonical encoding of a
 * valid transaction is refused. It applies no device policy: a purchase of
 * zero decodes (lib/policy refuses to sign it).
 *
 * Returns CL_OK, or
 *  CL_ERR_ARG         out is NULL, or buf is NULL with len > 0;
 *  CL_ERR_TRUNCATED   the input ends inside a tag, length or value;
 *  CL_ERR_MALFORMED   a non-minimal length; an amount or quantity with a
 *                     leading zero byte; a quantity of 1 (the default)
 *                     encoded; BCD digits out of range; an impossible date;
 *                     a mandatory field missing (id, kind, time, payee,
 *                     item description, the currency of an amount, the
 *                     amount of a unit amount, the amount of a kind that
 *                     needs one: CL_TXN_KIND_NEEDS_AMOUNT); invalid UTF-8 (bad lead or
 *                     continuation byte, truncated, overlong, surrogate,
 *                     above U+10FFFF);
 *  CL_ERR_INDEFINITE  an indefinite length;
 *  CL_ERR_UNSUPPORTED a tag or length longer than the TLV module reads;
 *  CL_ERR_TAG         the outer tag is not E1; a field tag that is unknown,
 *                     repeated or out of canonical (ascending) order; a
 *                     currency without an amount; an item list entry other
 *                     than A0;
 *  CL_ERR_LENGTH      a fixed-size field of the wrong size (id 16, kind 1,
 *                     currency 3, time 7, amount and unit 1..6, quantity
 *                     1..2, challenge 8..64); an empty text or item list;
 *  CL_ERR_LIMIT       more items than CL_TXN_ITEMS_MAX, or a text longer
 *                     than its CL_TXN_*_MAX;
 *  CL_ERR_RESERVED    kind 00 or above 06; exponent above 4; currency 000;
 *                     quantity 0 or above 9999;
 *  CL_ERR_DENIED      a text character outside the safe repertoire, a
 *                     leading, trailing or doubled space; an exponent that
 *                     differs from the ISO 4217 one of a known currency;
 *  CL_ERR_TRAILING    bytes after the template.
 */
CL_WUR int cl_txn_decode(const uint8_t *buf, size_t len, struct cl_txn *out);

/*
 * Write the canonical encoding of txn into out[0..size) and its length to
 * *len. txn must be valid as cl_txn_decode would return it (a zero
 * purchase encodes). txn, out (unless size is 0) and len must not be NULL;
 * *len is 0 on failure.
 *
 * Returns CL_OK; CL_ERR_ARG for NULL pointers or a text not NUL-terminated
 * within its array; CL_ERR_BUFFER when out is too small
 * (CL_TXN_ENCODED_MAX always suffices); or the error cl_txn_decode would
 * give for the same field (CL_ERR_RESERVED, CL_ERR_DENIED, CL_ERR_LIMIT,
 * CL_ERR_LENGTH, CL_ERR_MALFORMED).
 */
CL_WUR int cl_txn_encode(const struct cl_txn *txn, uint8_t *out, size_t size,
                         size_t *len);

/*
 * Whether txn is a valid transaction of the format: every rule of
 * cl_txn_decode, for a struct filled by hand (a decoded struct always
 * passes). Render, tbs and digest call it first. It is syntax only: no
 * device policy (a purchase of zero passes; whether it may be shown and
 * signed is lib/policy's decision, cardlink/policy.h).
 *
 * Returns CL_OK; CL_ERR_ARG (txn NULL, text not NUL-terminated); the
 * errors of cl_txn_encode for an invalid field (CL_ERR_MALFORMED for a
 * kind of CL_TXN_KIND_NEEDS_AMOUNT without an amount).
 */
CL_WUR int cl_txn_check(const struct cl_txn *txn);

/*
 * The ISO 4217 alphabetic code of a numeric currency code ("EUR" for 978),
 * from cardlink's table (docs/transaction.md §5), or NULL when the code is
 * not in the table. When exponent is not NULL it receives the currency's
 * minor unit digits.
 */
const char *cl_txn_currency_alpha(uint16_t numeric, uint8_t *exponent);

/*
 * Format an amount as shown: "EUR 123.45", "JPY 12345", "BHD 1.234",
 * "EUR 0.05"; an unknown currency as '#' and its three digits ("#533
 * 12.00"). No thousands separators (docs/transaction.md §6). Writes a
 * NUL-terminated string into out[0..size).
 *
 * Returns the string length (>= 0); CL_ERR_ARG when out is NULL, amount
 * above CL_TXN_AMOUNT_MAX, currency 0 or above 999, or exponent above 4;
 * CL_ERR_BUFFER when out is too small (CL_TXN_AMOUNT_TEXT_MAX suffices).
 */
CL_WUR int cl_txn_format_amount(uint64_t amount, uint16_t currency,
                                uint8_t exponent, char *out, size_t size);

/*
 * Render page `page` (0-based) of txn for a display of width x height
 * characters, deterministically (docs/transaction.md §6 gives the layout):
 * the payee on line 1 of the first page; on line 2 the amount labelled
 * with the kind ("Pay EUR 1000.00", "Load ", "Goods ", "Purse ", "Auth ",
 * "Access "), or, where that line is wider than the display and height is
 * at least 3, the kind's name ("Purchase") on line 2 and the amount alone
 * on line 3; without an amount the kind's name on line 2. So the kind and
 * the whole amount are always on page 1. A page marker "n/m" right-aligned
 * on the first line of every page when there is more than one page; the
 * payee truncated (marked with '~') on page 1 only and then shown whole on
 * a later page; every other field wrapped, never truncated, so every
 * character covered by the digest is on some page.
 *
 * out receives the page's lines (at most height), each of at most width
 * printable ASCII characters and each followed by '\n', then a NUL.
 * out_size must be at least height * (width + 1) + 1. *pages (when pages is
 * not NULL) receives the number of pages, also when page is out of range.
 *
 * No device policy is applied: a purchase of zero renders ("Pay EUR 0.00");
 * lib/policy decides whether it may be shown.
 *
 * Returns CL_OK; the errors of cl_txn_check (before anything is rendered);
 * CL_ERR_ARG when txn or out is NULL or width/height are outside
 * CL_TXN_WIDTH_MIN..MAX, CL_TXN_HEIGHT_MIN..MAX; CL_ERR_BUFFER when
 * out_size is too small; CL_ERR_LIMIT when the amount cannot be shown
 * whole on page 1 (the labelled amount is wider than the display and
 * either height is 2 or the amount alone is wider too) or an item's amount
 * line is wider than the display; CL_ERR_NOT_FOUND when page >= the number
 * of pages.
 */
CL_WUR int cl_txn_render(const struct cl_txn *txn, unsigned width,
                         unsigned height, unsigned page, char *out,
                         size_t out_size, unsigned *pages);

/*
 * Write the to-be-signed bytes into out[0..size) and their length to *len:
 *   CL_TXN_TBS_PREFIX (16 bytes) || display encoding of txn || challenge
 * where the display encoding is the canonical encoding with the challenge
 * field left out and every text replaced by its display form (identical to
 * the canonical encoding without field 88 when all text is ASCII).
 *
 * The challenge is challenge[0..challenge_len) when challenge is not NULL,
 * otherwise the one carried in txn. txn, out (unless size is 0) and len
 * must not be NULL; *len is 0 on failure.
 *
 * No device policy is applied (a purchase of zero gives its bytes): the
 * caller asks lib/policy before it signs.
 *
 * Returns CL_OK; the errors of cl_txn_check; CL_ERR_ARG for NULL pointers,
 * no challenge at all (none given, none in txn) or a challenge length
 * outside 8..64; CL_ERR_DENIED when a challenge is given and txn carries a
 * different one; CL_ERR_BUFFER when out is too small (CL_TXN_TBS_MAX
 * always suffices).
 */
CL_WUR int cl_txn_tbs(const struct cl_txn *txn, const uint8_t *challenge,
                      size_t challenge_len, uint8_t *out, size_t size,
                      size_t *len);

/*
 * SHA-256 of the to-be-signed bytes (cl_txn_tbs): the digest the card
 * signs. Only in builds with mbedtls (firmware hashes cl_txn_tbs's output
 * with its own engine). out is written only on success.
 *
 * Returns CL_OK; the errors of cl_txn_tbs (except CL_ERR_BUFFER);
 * CL_ERR_ARG when out is NULL; CL_ERR_CRYPTO when mbedtls fails.
 */
CL_WUR int cl_txn_digest(const struct cl_txn *txn, const uint8_t *challenge,
                         size_t challenge_len, uint8_t out[32]);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_TXN_H */
