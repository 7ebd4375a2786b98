/*
 * cardlink — the canonical transaction: decoder, encoder, checks, text
 * repertoire, amount formatting and the to-be-signed bytes.
 * SPDX-License-Identifier: Apache-2.0
 *
 * docs/transaction.md is the normative description of the encoding.
 */
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/tlv.h"
#include "cardlink/txn.h"
#include "txn_int.h"

/* Field tags, in canonical (ascending) order. */
#define T_TXN 0xE1u
#define T_ID 0x80u
#define T_KIND 0x81u
#define T_AMOUNT 0x82u
#define T_CURRENCY 0x83u
#define T_TIME 0x84u
#define T_MERCHANT 0x85u
#define T_ITEMS 0xA6u
#define T_TEXT 0x87u
#define T_CHALLENGE 0x88u
/* Inside the item list and an item. */
#define T_ITEM 0xA0u
#define T_DESC 0x80u
#define T_QTY 0x81u
#define T_UNIT 0x82u

static const uint8_t field_order[] = {
    T_ID, T_KIND, T_AMOUNT, T_CURRENCY, T_TIME, T_MERCHANT, T_ITEMS, T_TEXT,
    T_CHALLENGE,
};

/* ------------------------------------------------------------ currencies */

/* ISO 4217 numeric code, alphabetic code, minor unit digits. */
static const struct {
    uint16_t num;
    char alpha[4];
    uint8_t exp;
} currencies[] = {
    { 36, "AUD", 2 },  { 48, "BHD", 3 },  { 124, "CAD", 2 }, { 152, "CLP", 0 },
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

/* see cardlink/txn.h */
const char *cl_txn_currency_alpha(uint16_t numeric, uint8_t *exponent)
{
    size_t i;

    for (i = 0; i < CL_ARRAY_LEN(currencies); i++) {
        if (currencies[i].num == numeric) {
            if (exponent)
                *exponent = currencies[i].exp;
            return currencies[i].alpha;
        }
    }
    return NULL;
}

/* see cardlink/txn.h */
int cl_txn_format_amount(uint64_t amount, uint16_t currency, uint8_t exponent,
                         char *out, size_t size)
{
    char digits[20];
    uint32_t limb[3];
    size_t nd = 0, need, pos = 0, i;
    const char *alpha;

    if (!out || amount > CL_TXN_AMOUNT_MAX || currency == 0 ||
        currency > 999 || exponent > CL_TXN_EXPONENT_MAX)
        return CL_ERR_ARG;
    /* Decimal digits by long division of 16-bit limbs: 32-bit arithmetic
     * only (no 64-bit division on the Cortex-M0+). */
    limb[0] = (uint32_t)(amount >> 32) & 0xFFFFu;
    limb[1] = (uint32_t)(amount >> 16) & 0xFFFFu;
    limb[2] = (uint32_t)amount & 0xFFFFu;
    do {
        uint32_t rem = 0;
        for (i = 0; i < 3; i++) {
            uint32_t cur = (rem << 16) | limb[i];
            limb[i] = cur / 10u;
            rem = cur % 10u;
        }
        digits[nd++] = (char)('0' + rem);
    } while (limb[0] | limb[1] | limb[2]);
    while (nd < (size_t)exponent + 1u)
        digits[nd++] = '0';

    alpha = cl_txn_currency_alpha(currency, NULL);
    /* code, space, digits, point, NUL */
    need = (alpha ? 3u : 4u) + 1 + nd + (exponent ? 1u : 0u) + 1;
    if (size < need)
        return CL_ERR_BUFFER;
    if (alpha) {
        memcpy(out, alpha, 3);
        pos = 3;
    } else {
        out[pos++] = '#';
        out[pos++] = (char)('0' + currency / 100u);
        out[pos++] = (char)('0' + currency / 10u % 10u);
        out[pos++] = (char)('0' + currency % 10u);
    }
    out[pos++] = ' ';
    while (nd > 0) {
        if (nd == exponent)
            out[pos++] = '.';
        out[pos++] = digits[--nd];
    }
    out[pos] = '\0';
    return (int)pos;
}

/* ------------------------------------------------------------ text */

/* Display forms of U+00C0..U+00FF: the base letter, and a second letter
 * for the ligatures and thorn/sharp s. '*' marks the two refused signs. */
static const char latin1_base[64] =
    "AAAAAAACEEEEIIIIDNOOOOO*OUUUUYTs"
    "aaaaaaaceeeeiiiidnooooo*ouuuuyty";

static char latin1_second(unsigned cp)
{
    switch (cp) {
    case 0xC6: return 'E';  /* AE ligature */
    case 0xDE: return 'H';  /* THORN */
    case 0xDF: return 's';  /* sharp s */
    case 0xE6: return 'e';
    case 0xFE: return 'h';
    default: return '\0';
    }
}

static bool is_cont(uint8_t c)
{
    return (c & 0xC0u) == 0x80u;
}

/*
 * Check that s[0..n) is a valid text of 1..max characters in the safe
 * repertoire (docs/transaction.md §4). The first problem met decides the
 * error.
 */
static int text_check(const uint8_t *s, size_t n, unsigned max)
{
    size_t i = 0;
    unsigned chars = 0;
    bool space = true; /* a space here would be leading or doubled */

    if (n == 0)
        return CL_ERR_LENGTH;
    if (n > 2u * max)
        return CL_ERR_LIMIT;
    while (i < n) {
        uint8_t c = s[i];
        uint32_t cp;

        if (c < 0x80u) {
            if (c < 0x20u || c == 0x7Fu || c == '\\' || c == '~')
                return CL_ERR_DENIED;
            cp = c;
            i++;
        } else if (c >= 0xC2u && c <= 0xDFu) {
            if (n - i < 2 || !is_cont(s[i + 1]))
                return CL_ERR_MALFORMED;
            cp = ((uint32_t)(c & 0x1Fu) << 6) | (s[i + 1] & 0x3Fu);
            i += 2;
        } else if (c >= 0xE0u && c <= 0xEFu) {
            if (n - i < 3 || !is_cont(s[i + 1]) || !is_cont(s[i + 2]) ||
                (c == 0xE0u && s[i + 1] < 0xA0u) ||  /* overlong */
                (c == 0xEDu && s[i + 1] > 0x9Fu))    /* surrogate */
                return CL_ERR_MALFORMED;
            cp = 0x800u; /* any value >= 0x100: refused below */
            i += 3;
        } else if (c >= 0xF0u && c <= 0xF4u) {
            if (n - i < 4 || !is_cont(s[i + 1]) || !is_cont(s[i + 2]) ||
                !is_cont(s[i + 3]) ||
                (c == 0xF0u && s[i + 1] < 0x90u) ||  /* overlong */
                (c == 0xF4u && s[i + 1] > 0x8Fu))    /* above U+10FFFF */
                return CL_ERR_MALFORMED;
            cp = 0x10000u;
            i += 4;
        } else {
            return CL_ERR_MALFORMED; /* 80..C1 or F5..FF as a lead byte */
        }
        if (cp >= 0x80u &&
            (cp < 0xC0u || cp > 0xFFu || cp == 0xD7u || cp == 0xF7u))
            return CL_ERR_DENIED;
        if (cp == ' ') {
            if (space)
                return CL_ERR_DENIED;
            space = true;
        } else {
            space = false;
        }
        if (++chars > max)
            return CL_ERR_LIMIT;
    }
    return space ? CL_ERR_DENIED : CL_OK; /* trailing space */
}

/* Length of the NUL-terminated text in arr[0..cap), or -1 without NUL
 * (no memchr/strlen: the core links with mem* only). */
static int text_len(const char *arr, size_t cap)
{
    size_t i;

    for (i = 0; i < cap; i++)
        if (arr[i] == '\0')
            return (int)i;
    return -1;
}

/* see txn_int.h */
size_t cl_txn_i_len(const char *s)
{
    size_t n = 0;

    while (s[n])
        n++;
    return n;
}

/* Check a text held in a struct array: NUL-terminated, and valid when
 * not empty (an empty mandatory text is a missing field). */
static int struct_text(const char *arr, size_t cap, unsigned max,
                       bool mandatory)
{
    int n = text_len(arr, cap);

    if (n < 0)
        return CL_ERR_ARG;
    if (n == 0)
        return mandatory ? CL_ERR_MALFORMED : CL_OK;
    return text_check((const uint8_t *)arr, (size_t)n, max);
}

/* see txn_int.h */
size_t cl_txn_i_display(const char *s, char *out)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t o = 0;

    while (*p) {
        if (*p < 0x80u) {
            out[o++] = (char)*p++;
        } else {
            /* Valid text: a two-byte sequence for U+00C0..U+00FF. */
            unsigned cp = ((unsigned)(p[0] & 0x1Fu) << 6) | (p[1] & 0x3Fu);
            char second = latin1_second(cp);

            out[o++] = latin1_base[cp - 0xC0u];
            if (second)
                out[o++] = second;
            p += 2;
        }
    }
    out[o] = '\0';
    return o;
}

/* see txn_int.h */
const char *cl_txn_i_kind_label(unsigned kind)
{
    switch (kind) {
    case CL_TXN_PURCHASE: return "Purchase";
    case CL_TXN_AUTHENTICATION: return "Sign-in";
    case CL_TXN_EMONEY_LOAD: return "E-money load";
    case CL_TXN_EGOODS_LOAD: return "E-goods load";
    case CL_TXN_ACCESS_GRANT: return "Access grant";
    case CL_TXN_PURSE_PAYMENT: return "Pay by purse";
    default: return "?";
    }
}

/* see txn_int.h */
const char *cl_txn_i_amount_label(unsigned kind)
{
    switch (kind) {
    case CL_TXN_PURCHASE: return "Pay";
    case CL_TXN_AUTHENTICATION: return "Auth";
    case CL_TXN_EMONEY_LOAD: return "Load";
    case CL_TXN_EGOODS_LOAD: return "Goods";
    case CL_TXN_ACCESS_GRANT: return "Access";
    case CL_TXN_PURSE_PAYMENT: return "Purse";
    default: return "?";
    }
}

/* ------------------------------------------------------------ fields */

static int check_kind(unsigned kind)
{
    return kind >= CL_TXN_PURCHASE && kind <= CL_TXN_PURSE_PAYMENT
               ? CL_OK
               : CL_ERR_RESERVED;
}

static int check_currency(uint16_t currency, uint8_t exponent)
{
    uint8_t known;

    if (currency > 999)
        return CL_ERR_MALFORMED;
    if (currency == 0 || exponent > CL_TXN_EXPONENT_MAX)
        return CL_ERR_RESERVED;
    if (cl_txn_currency_alpha(currency, &known) && known != exponent)
        return CL_ERR_DENIED;
    return CL_OK;
}

static bool leap(unsigned y)
{
    return (y % 4u == 0 && y % 100u != 0) || y % 400u == 0;
}

static int check_time(const struct cl_txn_time *t)
{
    static const uint8_t mdays[12] = { 31, 28, 31, 30, 31, 30,
                                       31, 31, 30, 31, 30, 31 };
    unsigned dim;

    if (t->year < 1970 || t->year > 9999 || t->month < 1 || t->month > 12)
        return CL_ERR_MALFORMED;
    dim = mdays[t->month - 1];
    if (t->month == 2 && leap(t->year))
        dim = 29;
    if (t->day < 1 || t->day > dim || t->hour > 23 || t->minute > 59 ||
        t->second > 59)
        return CL_ERR_MALFORMED;
    return CL_OK;
}

static int check_qty(unsigned q)
{
    return q >= 1 && q <= CL_TXN_QTY_MAX ? CL_OK : CL_ERR_RESERVED;
}

/* see txn_int.h */
int cl_txn_i_validate(const struct cl_txn *txn)
{
    int r;
    unsigned i;

    if ((r = check_kind(txn->kind)) != CL_OK)
        return r;
    if (!txn->has_amount && CL_TXN_KIND_NEEDS_AMOUNT(txn->kind))
        return CL_ERR_MALFORMED; /* a mandatory field missing */
    if (txn->has_amount) {
        if (txn->amount > CL_TXN_AMOUNT_MAX)
            return CL_ERR_LENGTH;
        if ((r = check_currency(txn->currency, txn->exponent)) != CL_OK)
            return r;
    }
    if ((r = check_time(&txn->time)) != CL_OK)
        return r;
    if ((r = struct_text(txn->merchant, sizeof(txn->merchant),
                         CL_TXN_MERCHANT_MAX, true)) != CL_OK)
        return r;
    if (txn->n_items > CL_TXN_ITEMS_MAX)
        return CL_ERR_LIMIT;
    for (i = 0; i < txn->n_items; i++) {
        const struct cl_txn_item *it = &txn->items[i];

        if ((r = struct_text(it->desc, sizeof(it->desc), CL_TXN_ITEM_MAX,
                             true)) != CL_OK)
            return r;
        if ((r = check_qty(it->quantity)) != CL_OK)
            return r;
        if (it->has_unit) {
            if (!txn->has_amount)
                return CL_ERR_MALFORMED;
            if (it->unit > CL_TXN_AMOUNT_MAX)
                return CL_ERR_LENGTH;
        }
    }
    if ((r = struct_text(txn->text, sizeof(txn->text), CL_TXN_TEXT_MAX,
                         false)) != CL_OK)
        return r;
    if (txn->challenge_len != 0 &&
        (txn->challenge_len < CL_TXN_CHALLENGE_MIN ||
         txn->challenge_len > CL_TXN_CHALLENGE_MAX))
        return CL_ERR_LENGTH;
    return CL_OK;
}

/* see cardlink/txn.h */
int cl_txn_check(const struct cl_txn *txn)
{
    if (!txn)
        return CL_ERR_ARG;
    /* Syntax only: whether a zero amount may be signed is lib/policy's. */
    return cl_txn_i_validate(txn);
}

/* ------------------------------------------------------------ decoder */

/* A big-endian unsigned of 1..maxlen bytes without a leading zero byte. */
static int get_uint(const struct cl_tlv *t, size_t maxlen, uint64_t *v)
{
    size_t i;

    if (t->len == 0 || t->len > maxlen)
        return CL_ERR_LENGTH;
    if (t->len > 1 && t->value[0] == 0)
        return CL_ERR_MALFORMED;
    *v = 0;
    for (i = 0; i < t->len; i++)
        *v = (*v << 8) | t->value[i];
    return CL_OK;
}

/* Two BCD digits, or -1. */
static int bcd(uint8_t b)
{
    if ((b >> 4) > 9 || (b & 0x0Fu) > 9)
        return -1;
    return (b >> 4) * 10 + (b & 0x0F);
}

static int get_time(const struct cl_tlv *t, struct cl_txn_time *tm)
{
    int d[7];
    size_t i;

    if (t->len != 7)
        return CL_ERR_LENGTH;
    for (i = 0; i < 7; i++) {
        d[i] = bcd(t->value[i]);
        if (d[i] < 0)
            return CL_ERR_MALFORMED;
    }
    tm->year = (uint16_t)(d[0] * 100 + d[1]);
    tm->month = (uint8_t)d[2];
    tm->day = (uint8_t)d[3];
    tm->hour = (uint8_t)d[4];
    tm->minute = (uint8_t)d[5];
    tm->second = (uint8_t)d[6];
    return check_time(tm);
}

static int get_text(const struct cl_tlv *t, char *dst, unsigned max)
{
    int r = text_check(t->value, t->len, max);

    if (r != CL_OK)
        return r;
    memcpy(dst, t->value, t->len); /* len <= 2 * max: fits with its NUL */
    dst[t->len] = '\0';
    return CL_OK;
}

static int get_item(const struct cl_tlv *tmpl, struct cl_txn_item *it,
                    bool has_amount)
{
    static const uint8_t order[] = { T_DESC, T_QTY, T_UNIT };
    struct cl_tlv_iter iter;
    struct cl_tlv f;
    size_t next = 0, k;
    uint64_t v;
    int r;

    it->quantity = 1;
    cl_tlv_iter_init_flags(&iter, tmpl->value, tmpl->len, CL_TLV_DER);
    while ((r = cl_tlv_iter_next(&iter, &f)) == 1) {
        for (k = next; k < sizeof(order) && order[k] != f.tag; k++)
            ;
        if (k == sizeof(order))
            return CL_ERR_TAG;
        next = k + 1;
        switch (f.tag) {
        case T_DESC:
            r = get_text(&f, it->desc, CL_TXN_ITEM_MAX);
            break;
        case T_QTY:
            r = get_uint(&f, 2, &v);
            if (r == CL_OK && v == 1)
                r = CL_ERR_MALFORMED; /* the default is never encoded */
            if (r == CL_OK && (r = check_qty((unsigned)v)) == CL_OK)
                it->quantity = (uint16_t)v;
            break;
        default: /* T_UNIT */
            if (!has_amount)
                return CL_ERR_MALFORMED;
            r = get_uint(&f, 6, &it->unit);
            it->has_unit = true;
            break;
        }
        if (r != CL_OK)
            return r;
    }
    if (r < 0)
        return r;
    return it->desc[0] ? CL_OK : CL_ERR_MALFORMED;
}

static int get_items(const struct cl_tlv *list, struct cl_txn *txn)
{
    struct cl_tlv_iter iter;
    struct cl_tlv f;
    int r;

    if (list->len == 0)
        return CL_ERR_LENGTH;
    cl_tlv_iter_init_flags(&iter, list->value, list->len, CL_TLV_DER);
    while ((r = cl_tlv_iter_next(&iter, &f)) == 1) {
        if (f.tag != T_ITEM)
            return CL_ERR_TAG;
        if (txn->n_items == CL_TXN_ITEMS_MAX)
            return CL_ERR_LIMIT;
        r = get_item(&f, &txn->items[txn->n_items++], txn->has_amount);
        if (r != CL_OK)
            return r;
    }
    return r;
}

static int get_field(const struct cl_tlv *f, struct cl_txn *txn)
{
    switch (f->tag) {
    case T_ID:
        if (f->len != CL_TXN_ID_LEN)
            return CL_ERR_LENGTH;
        memcpy(txn->id, f->value, CL_TXN_ID_LEN);
        return CL_OK;
    case T_KIND:
        if (f->len != 1)
            return CL_ERR_LENGTH;
        txn->kind = f->value[0];
        return check_kind(txn->kind);
    case T_AMOUNT:
        txn->has_amount = true;
        return get_uint(f, 6, &txn->amount);
    case T_CURRENCY: {
        int hi, lo;

        if (!txn->has_amount)
            return CL_ERR_TAG;
        if (f->len != 3)
            return CL_ERR_LENGTH;
        hi = bcd(f->value[0]);
        lo = bcd(f->value[1]);
        if (hi < 0 || hi > 9 || lo < 0)
            return CL_ERR_MALFORMED;
        txn->currency = (uint16_t)(hi * 100 + lo);
        txn->exponent = f->value[2];
        return check_currency(txn->currency, txn->exponent);
    }
    case T_TIME:
        return get_time(f, &txn->time);
    case T_MERCHANT:
        return get_text(f, txn->merchant, CL_TXN_MERCHANT_MAX);
    case T_ITEMS:
        return get_items(f, txn);
    case T_TEXT:
        return get_text(f, txn->text, CL_TXN_TEXT_MAX);
    default: /* T_CHALLENGE */
        if (f->len < CL_TXN_CHALLENGE_MIN || f->len > CL_TXN_CHALLENGE_MAX)
            return CL_ERR_LENGTH;
        memcpy(txn->challenge, f->value, f->len);
        txn->challenge_len = f->len;
        return CL_OK;
    }
}

static int decode(const uint8_t *buf, size_t len, struct cl_txn *out)
{
    struct cl_tlv t, f;
    struct cl_tlv_iter iter;
    size_t next = 0, k;
    unsigned seen = 0;
    int r;

    if ((r = cl_tlv_decode_flags(buf, len, CL_TLV_DER, &t)) != CL_OK)
        return r;
    if (t.tag != T_TXN)
        return CL_ERR_TAG;
    if (t.total != len)
        return CL_ERR_TRAILING;
    cl_tlv_iter_init_flags(&iter, t.value, t.len, CL_TLV_DER);
    while ((r = cl_tlv_iter_next(&iter, &f)) == 1) {
        for (k = next; k < sizeof(field_order) && field_order[k] != f.tag; k++)
            ;
        if (k == sizeof(field_order))
            return CL_ERR_TAG; /* unknown, repeated or out of order */
        next = k + 1;
        seen |= 1u << k;
        if ((r = get_field(&f, out)) != CL_OK)
            return r;
    }
    if (r < 0)
        return r;
    /* id, kind, time, merchant are mandatory; an amount needs a currency;
     * a purchase, load or purse payment needs an amount */
    if ((seen & 0x33u) != 0x33u || (out->has_amount && !(seen & 0x08u)) ||
        (!out->has_amount && CL_TXN_KIND_NEEDS_AMOUNT(out->kind)))
        return CL_ERR_MALFORMED;
    return CL_OK;
}

/* see cardlink/txn.h */
int cl_txn_decode(const uint8_t *buf, size_t len, struct cl_txn *out)
{
    int r;

    if (!out || (!buf && len > 0))
        return CL_ERR_ARG;
    memset(out, 0, sizeof(*out));
    r = decode(buf, len, out);
    if (r != CL_OK)
        memset(out, 0, sizeof(*out));
    return r;
}

/* ------------------------------------------------------------ encoder */

static void put_amount(struct cl_tlv_builder *b, uint32_t tag, uint64_t v)
{
    uint8_t be[6];
    size_t n = 6, i;

    for (i = 6; i-- > 0;) {
        be[i] = (uint8_t)v;
        v >>= 8;
    }
    for (i = 0; i < 5 && be[i] == 0; i++)
        n--;
    cl_tlv_put(b, tag, be + (6 - n), n);
}

static void put_text(struct cl_tlv_builder *b, uint32_t tag, const char *s,
                     bool display)
{
    char buf[CL_TXN_I_DISPLAY_MAX];

    if (display)
        cl_tlv_put(b, tag, buf, cl_txn_i_display(s, buf));
    else
        cl_tlv_put(b, tag, s, cl_txn_i_len(s));
}

static uint8_t to_bcd(unsigned v)
{
    return (uint8_t)(((v / 10u) << 4) | (v % 10u));
}

/* see txn_int.h */
void cl_txn_i_encode(struct cl_tlv_builder *b, const struct cl_txn *txn,
                     bool display)
{
    size_t m_txn, m_list, m_item;
    uint8_t v[7];
    unsigned i;

    cl_tlv_open(b, T_TXN, &m_txn);
    cl_tlv_put(b, T_ID, txn->id, CL_TXN_ID_LEN);
    cl_tlv_put_uint(b, T_KIND, txn->kind, 1);
    if (txn->has_amount) {
        put_amount(b, T_AMOUNT, txn->amount);
        v[0] = to_bcd(txn->currency / 100u);
        v[1] = to_bcd(txn->currency % 100u);
        v[2] = txn->exponent;
        cl_tlv_put(b, T_CURRENCY, v, 3);
    }
    v[0] = to_bcd(txn->time.year / 100u);
    v[1] = to_bcd(txn->time.year % 100u);
    v[2] = to_bcd(txn->time.month);
    v[3] = to_bcd(txn->time.day);
    v[4] = to_bcd(txn->time.hour);
    v[5] = to_bcd(txn->time.minute);
    v[6] = to_bcd(txn->time.second);
    cl_tlv_put(b, T_TIME, v, 7);
    put_text(b, T_MERCHANT, txn->merchant, display);
    if (txn->n_items > 0) {
        cl_tlv_open(b, T_ITEMS, &m_list);
        for (i = 0; i < txn->n_items; i++) {
            const struct cl_txn_item *it = &txn->items[i];

            cl_tlv_open(b, T_ITEM, &m_item);
            put_text(b, T_DESC, it->desc, display);
            if (it->quantity != 1)
                cl_tlv_put_uint(b, T_QTY, it->quantity,
                                it->quantity > 0xFFu ? 2 : 1);
            if (it->has_unit)
                put_amount(b, T_UNIT, it->unit);
            cl_tlv_close(b, m_item);
        }
        cl_tlv_close(b, m_list);
    }
    if (txn->text[0])
        put_text(b, T_TEXT, txn->text, display);
    if (!display && txn->challenge_len)
        cl_tlv_put(b, T_CHALLENGE, txn->challenge, txn->challenge_len);
    cl_tlv_close(b, m_txn);
}

/* see cardlink/txn.h */
int cl_txn_encode(const struct cl_txn *txn, uint8_t *out, size_t size,
                  size_t *len)
{
    struct cl_tlv_builder b;
    int r;

    if (len)
        *len = 0;
    if (!txn || !len || (!out && size > 0))
        return CL_ERR_ARG;
    if ((r = cl_txn_i_validate(txn)) != CL_OK)
        return r;
    cl_tlv_builder_init(&b, out, size);
    cl_txn_i_encode(&b, txn, false);
    return cl_tlv_builder_finish(&b, len);
}

/* see cardlink/txn.h */
int cl_txn_tbs(const struct cl_txn *txn, const uint8_t *challenge,
               size_t challenge_len, uint8_t *out, size_t size, size_t *len)
{
    struct cl_tlv_builder b;
    size_t n;
    int r;

    if (len)
        *len = 0;
    if (!txn || !len || (!out && size > 0))
        return CL_ERR_ARG;
    if ((r = cl_txn_check(txn)) != CL_OK)
        return r;
    if (!challenge) {
        challenge = txn->challenge;
        challenge_len = txn->challenge_len;
    }
    if (challenge_len < CL_TXN_CHALLENGE_MIN ||
        challenge_len > CL_TXN_CHALLENGE_MAX)
        return CL_ERR_ARG;
    if (txn->challenge_len &&
        (txn->challenge_len != challenge_len ||
         memcmp(txn->challenge, challenge, challenge_len) != 0))
        return CL_ERR_DENIED;
    if (size < CL_TXN_TBS_PREFIX_LEN)
        return CL_ERR_BUFFER;
    memcpy(out, CL_TXN_TBS_PREFIX, CL_TXN_TBS_PREFIX_LEN); /* NUL included */
    cl_tlv_builder_init(&b, out + CL_TXN_TBS_PREFIX_LEN,
                        size - CL_TXN_TBS_PREFIX_LEN);
    cl_txn_i_encode(&b, txn, true);
    if ((r = cl_tlv_builder_finish(&b, &n)) != CL_OK)
        return r;
    n += CL_TXN_TBS_PREFIX_LEN;
    if (size - n < challenge_len)
        return CL_ERR_BUFFER;
    memcpy(out + n, challenge, challenge_len);
    *len = n + challenge_len;
    return CL_OK;
}
