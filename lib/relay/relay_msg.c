/*
 * cardlink — relay protocol message codec (docs/protocol.md).
 * SPDX-License-Identifier: Apache-2.0
 *
 * Table driven: each message body is described by a table of field
 * descriptors (number, kind, where the value lives in the union member,
 * size bounds, default). One walker decodes a body against a table, one
 * writer encodes it, and a per-type check applies the rules that tie fields
 * together, the same on both paths.
 */
#include <string.h>

#include "cardlink/relay_msg.h"
#include "cardlink/apdu.h"
#include "cardlink/error.h"
#include "cardlink/tlv.h"

/* ------------------------------------------------------------ descriptors */

enum kind {
    K_U8,        /* uint8_t */
    K_U16,       /* uint16_t */
    K_PAIR,      /* two uint8_t at off, off+1 */
    K_QUAD,      /* two uint16_t at off, off+2 (max APDU sizes) */
    K_BYTES,     /* struct cl_relay_bytes */
    K_TXNID,     /* const uint8_t * to 16 bytes */
    K_RAW4,      /* uint8_t[4] */
    K_NEST,      /* constructed: a sub-table over a sub-struct at off */
    K_STEPS,     /* SCRIPT step list */
    K_RESPS      /* SCRIPT-RESULT response list */
};

/* flags */
#define F_MAND 0x01u     /* mandatory */
#define F_SENT 0x02u     /* default is an "absent" sentinel: present == def is invalid */
#define F_TEXT 0x04u     /* printable ASCII */
#define F_LF 0x08u       /* ... and LF */
#define F_APDU 0x10u     /* a well-formed command APDU */
#define F_DER 0x20u      /* a sequence of DER TLV objects */

struct fdesc {
    uint8_t num;         /* field number (tag = 0x80 | num, 0xA0 | num) */
    uint8_t kind;
    uint8_t flags;
    uint8_t def;         /* default for K_U8 / K_PAIR (both bytes) / K_U16 (0 only) */
    uint16_t off;        /* offset in the union member */
    uint16_t min, max;   /* K_BYTES size bounds */
    const struct ftable *sub;  /* K_NEST */
    uint16_t has;        /* K_NEST: offset of a bool "present", or NO_HAS */
};

struct ftable {
    const struct fdesc *f;
    size_t n;
};

#define NO_HAS 0xFFFFu
#define OFF(type, field) ((uint16_t)offsetof(type, field))
#define TABLE(a) { a, sizeof(a) / sizeof(a[0]) }

/* Field descriptors, one initialiser style for all (C99 designated). */
#define U8(n, t, fl, d, fld) { .num = n, .kind = K_U8, .flags = fl, .def = d, .off = OFF(t, fld) }
#define U16(n, t, fl, fld) { .num = n, .kind = K_U16, .flags = fl, .off = OFF(t, fld) }
#define PAIR(n, t, fl, fld) { .num = n, .kind = K_PAIR, .flags = fl, .off = OFF(t, fld) }
#define BYTES(n, t, fl, lo, hi, fld) \
    { .num = n, .kind = K_BYTES, .flags = fl, .off = OFF(t, fld), .min = lo, .max = hi }
#define TXNID(n, t, fl, fld) { .num = n, .kind = K_TXNID, .flags = fl, .off = OFF(t, fld) }

static const struct fdesc caps_f[] = {
    U8(0, struct cl_relay_caps, 0, 0, interfaces),
    PAIR(1, struct cl_relay_caps, F_SENT, display_cols),
    U8(2, struct cl_relay_caps, 0, 0, input),
    U8(3, struct cl_relay_caps, 0, 0, printer_cols),
    U16(4, struct cl_relay_caps, 0, max_msg),
    { .num = 5, .kind = K_QUAD, .flags = F_SENT, .off = OFF(struct cl_relay_caps, max_cmd_apdu) },
    U16(6, struct cl_relay_caps, 0, features),
    U8(7, struct cl_relay_caps, 0, 0, script_steps),
};
static const struct ftable caps_t = TABLE(caps_f);

static const struct fdesc hello_f[] = {
    BYTES(0, struct cl_relay_hello, F_MAND, 1, 8, versions),
    BYTES(1, struct cl_relay_hello, F_MAND, 1, 32, device_id),
    { .num = 2, .kind = K_NEST, .flags = F_MAND, .off = OFF(struct cl_relay_hello, caps),
      .sub = &caps_t, .has = NO_HAS },
    BYTES(3, struct cl_relay_hello, 0, CL_RELAY_TOKEN_MIN, CL_RELAY_TOKEN_MAX, token),
    BYTES(16, struct cl_relay_hello, F_TEXT, 1, 32, software),
};

static const struct fdesc hello_ack_f[] = {
    U8(0, struct cl_relay_hello_ack, F_MAND, 0, version),
    BYTES(1, struct cl_relay_hello_ack, F_MAND, CL_RELAY_TOKEN_MIN, CL_RELAY_TOKEN_MAX, token),
    U8(2, struct cl_relay_hello_ack, 0, 0, flags),
    U16(3, struct cl_relay_hello_ack, 0, keepalive),
    U16(4, struct cl_relay_hello_ack, 0, max_msg),
    BYTES(16, struct cl_relay_hello_ack, F_TEXT, 1, 32, text),
};

static const struct fdesc close_f[] = {
    U8(0, struct cl_relay_status, F_MAND, 0, code),
    BYTES(16, struct cl_relay_status, F_TEXT, 1, 64, text),
};

static const struct fdesc card_f[] = {
    BYTES(0, struct cl_relay_card, F_MAND, 2, CL_ATR_MAX, atr),
    U8(1, struct cl_relay_card, F_MAND, CL_RELAY_NONE, protocol),
};

static const struct fdesc reset_result_f[] = {
    BYTES(0, struct cl_relay_card, 0, 2, CL_ATR_MAX, atr),
    U8(1, struct cl_relay_card, F_SENT, CL_RELAY_NONE, protocol),
    U8(2, struct cl_relay_card, F_SENT, 0, error),
};

static const struct fdesc u8_mand_f[] = {   /* READER-STATUS */
    { .num = 0, .kind = K_U8, .flags = F_MAND, .off = 0 },
};

static const struct fdesc reset_f[] = {     /* CARD-RESET */
    { .num = 0, .kind = K_U8, .flags = 0, .off = 0 },
};

static const struct fdesc apdu_f[] = {
    BYTES(0, struct cl_relay_apdu, F_MAND | F_APDU, 4, 0xFFFF, apdu),
    TXNID(1, struct cl_relay_apdu, 0, txn_id),
};

static const struct fdesc rapdu_f[] = {
    BYTES(0, struct cl_relay_apdu, F_MAND, 2, 0xFFFF, apdu),
};

static const struct fdesc script_f[] = {
    U8(0, struct cl_relay_script, 0, 0, options),
    TXNID(1, struct cl_relay_script, 0, txn_id),
    { .num = 2, .kind = K_STEPS, .flags = F_MAND },
};

static const struct fdesc script_result_f[] = {
    U8(0, struct cl_relay_script_result, F_SENT, CL_RELAY_NONE, mismatch),
    U8(1, struct cl_relay_script_result, F_SENT, 0, error),
    { .num = 2, .kind = K_RESPS, .flags = F_MAND },
};

static const struct fdesc display_f[] = {
    BYTES(0, struct cl_relay_display, F_MAND | F_TEXT | F_LF, 0, 512, text),
    U8(1, struct cl_relay_display, 0, 0, duration),
};

static const struct fdesc prompt_f[] = {
    U8(0, struct cl_relay_prompt, F_MAND, 0, kind),
    BYTES(1, struct cl_relay_prompt, F_MAND | F_TEXT | F_LF, 1, 128, text),
    PAIR(2, struct cl_relay_prompt, F_SENT, min_len),
    U8(3, struct cl_relay_prompt, 0, 0, timeout),
};

static const struct fdesc prompt_answer_f[] = {
    U8(0, struct cl_relay_prompt_answer, F_MAND, 0, result),
    BYTES(1, struct cl_relay_prompt_answer, F_TEXT, 1, 64, value),
};

#define PIN_COMMON(off_flags)                                                   \
    BYTES(0, struct cl_relay_pin, F_MAND | F_APDU, 6, 261, apdu),               \
    U8(1, struct cl_relay_pin, F_MAND, 0, encoding),                           \
    PAIR(2, struct cl_relay_pin, F_MAND, min_len),                              \
    U8(3, struct cl_relay_pin, off_flags, CL_RELAY_NONE, offset),               \
    U8(4, struct cl_relay_pin, F_SENT, CL_RELAY_NONE, len_offset),              \
    U8(5, struct cl_relay_pin, 0, 0, timeout),                                  \
    U8(6, struct cl_relay_pin, 0, 0, msg_index)

static const struct fdesc pin_verify_f[] = {
    PIN_COMMON(F_MAND),
};
static const struct ftable pin_verify_t = TABLE(pin_verify_f);

static const struct fdesc pin_change_f[] = {
    PIN_COMMON(F_SENT),
    U8(7, struct cl_relay_pin, F_MAND, CL_RELAY_NONE, new_offset),
    U8(8, struct cl_relay_pin, 0, 0, confirm),
};

static const struct fdesc pin_result_f[] = {
    U16(0, struct cl_relay_pin_result, F_SENT, sw),
    U8(1, struct cl_relay_pin_result, F_SENT, 0, error),
};

static const struct fdesc txn_f[] = {
    TXNID(0, struct cl_relay_txn_approve, F_MAND, txn_id),
    BYTES(1, struct cl_relay_txn_approve, F_MAND | F_DER, 1, 4096, txn),
    BYTES(2, struct cl_relay_txn_approve, F_MAND, 8, 64, challenge),
    { .num = 3, .kind = K_NEST, .off = OFF(struct cl_relay_txn_approve, pin),
      .sub = &pin_verify_t, .has = OFF(struct cl_relay_txn_approve, has_pin) },
    { .num = 4, .kind = K_RAW4, .off = OFF(struct cl_relay_txn_approve, sign_cmd) },
    U8(5, struct cl_relay_txn_approve, 0, CL_RELAY_DIGEST_SHA256, digest),
};

static const struct fdesc txn_result_f[] = {
    TXNID(0, struct cl_relay_txn_result, F_MAND, txn_id),
    U8(1, struct cl_relay_txn_result, F_MAND, 0, result),
    BYTES(2, struct cl_relay_txn_result, 0, 1, 512, signature),
    U16(3, struct cl_relay_txn_result, F_SENT, sw),
    U8(4, struct cl_relay_txn_result, F_SENT, 0, error),
};

static const uint8_t sign_default[4] = { 0x00, 0x2A, 0x9E, 0x9A };

/* The body table of a type; n == 0 with f NULL for an empty body. Returns
 * false for an unknown type. */
static bool body_table(uint8_t type, struct ftable *t)
{
#define SET(a) do { t->f = a; t->n = sizeof(a) / sizeof(a[0]); } while (0)
    t->f = NULL;
    t->n = 0;
    switch (type) {
    case CL_RELAY_HELLO: SET(hello_f); break;
    case CL_RELAY_HELLO_ACK: SET(hello_ack_f); break;
    case CL_RELAY_CLOSE:
    case CL_RELAY_ERROR: SET(close_f); break;
    case CL_RELAY_KEEPALIVE:
    case CL_RELAY_DISPLAY_DONE:
    case CL_RELAY_CARD_REMOVED: break;
    case CL_RELAY_APDU: SET(apdu_f); break;
    case CL_RELAY_APDU_RESPONSE: SET(rapdu_f); break;
    case CL_RELAY_SCRIPT: SET(script_f); break;
    case CL_RELAY_SCRIPT_RESULT: SET(script_result_f); break;
    case CL_RELAY_DISPLAY: SET(display_f); break;
    case CL_RELAY_PROMPT: SET(prompt_f); break;
    case CL_RELAY_PROMPT_ANSWER: SET(prompt_answer_f); break;
    case CL_RELAY_PIN_VERIFY: SET(pin_verify_f); break;
    case CL_RELAY_PIN_CHANGE: SET(pin_change_f); break;
    case CL_RELAY_PIN_VERIFY_RESULT:
    case CL_RELAY_PIN_CHANGE_RESULT: SET(pin_result_f); break;
    case CL_RELAY_TXN_APPROVE: SET(txn_f); break;
    case CL_RELAY_TXN_RESULT: SET(txn_result_f); break;
    case CL_RELAY_CARD_RESET: SET(reset_f); break;
    case CL_RELAY_CARD_RESET_RESULT: SET(reset_result_f); break;
    case CL_RELAY_CARD_INSERTED: SET(card_f); break;
    case CL_RELAY_READER_STATUS: SET(u8_mand_f); break;
    default: return false;
    }
    return true;
#undef SET
}

/* ------------------------------------------------------------ defaults */

static void table_defaults(const struct ftable *t, uint8_t *base)
{
    size_t i;

    for (i = 0; i < t->n; i++) {
        const struct fdesc *d = &t->f[i];
        switch (d->kind) {
        case K_U8: base[d->off] = d->def; break;
        case K_RAW4: memcpy(base + d->off, sign_default, 4); break;
        case K_NEST: table_defaults(d->sub, base + d->off); break;
        default: break;
        }
    }
}

/* see cardlink/relay_msg.h */
void cl_relay_msg_init(struct cl_relay_msg *m, uint8_t type)
{
    struct ftable t;

    memset(m, 0, sizeof(*m));
    m->type = type;
    if (body_table(type, &t))
        table_defaults(&t, (uint8_t *)&m->u);
    if (type == CL_RELAY_PIN_VERIFY)   /* fields the verify table lacks */
        m->u.pin.new_offset = CL_RELAY_NONE;
}

/* ------------------------------------------------------------ value checks */

static bool text_ok(const struct cl_relay_bytes *b, bool lf)
{
    size_t i;

    for (i = 0; i < b->len; i++) {
        uint8_t c = b->data[i];
        if (!((c >= 0x20 && c <= 0x7E) || (lf && c == 0x0A)))
            return false;
    }
    return true;
}

static int apdu_ok(const struct cl_relay_bytes *b, struct cl_apdu *a, enum cl_apdu_case *c)
{
    int rc = cl_apdu_decode(b->data, b->len, a, c);

    if (rc == CL_ERR_TRUNCATED)
        rc = CL_ERR_LENGTH;
    return rc;
}

static int der_ok(const struct cl_relay_bytes *b)
{
    struct cl_tlv_iter it;
    struct cl_tlv t;
    int rc;

    cl_tlv_iter_init_flags(&it, b->data, b->len, CL_TLV_DER);
    while ((rc = cl_tlv_iter_next(&it, &t)) == 1) {
    }
    return rc == 0 ? CL_OK : CL_ERR_MALFORMED;
}

/* The size and content rules of one byte-string field. */
static int check_bytes(const struct fdesc *d, const struct cl_relay_bytes *b)
{
    struct cl_apdu a;
    enum cl_apdu_case c;
    int rc;

    if (b->len > 0 && b->data == NULL)
        return CL_ERR_ARG;
    if (b->len < d->min || b->len > d->max)
        return CL_ERR_LENGTH;
    if ((d->flags & F_TEXT) && !text_ok(b, (d->flags & F_LF) != 0))
        return CL_ERR_MALFORMED;
    if ((d->flags & F_APDU) && (rc = apdu_ok(b, &a, &c)) != CL_OK)
        return rc;
    if ((d->flags & F_DER) && (rc = der_ok(b)) != CL_OK)
        return rc;
    return CL_OK;
}

static bool sw_ok(uint16_t sw)
{
    unsigned sw1 = sw >> 8;
    return (sw1 & 0xF0u) == 0x60u || (sw1 & 0xF0u) == 0x90u;
}

static int check_expect(const struct cl_relay_expect *e)
{
    switch (e->kind) {
    case CL_RELAY_EXPECT_SUCCESS:
    case CL_RELAY_EXPECT_EXACT:
        return CL_OK;
    case CL_RELAY_EXPECT_MASKED:
        if (e->mask == 0xFFFFu || (e->value & (uint16_t)~e->mask) != 0)
            return CL_ERR_MALFORMED;
        return CL_OK;
    default:
        return CL_ERR_ARG;
    }
}

/* Whether [a, a+alen) and [b, b+blen) overlap. */
static bool overlap(unsigned a, unsigned alen, unsigned b, unsigned blen)
{
    return a < b + blen && b < a + alen;
}

static int check_pin(const struct cl_relay_pin *p, bool change)
{
    struct cl_apdu a;
    enum cl_apdu_case c;
    unsigned region, nc;
    int rc;

    if ((rc = apdu_ok(&p->apdu, &a, &c)) != CL_OK)
        return rc;
    if (c != CL_APDU_CASE_3S && c != CL_APDU_CASE_4S)
        return CL_ERR_MALFORMED;
    /* Which CLA and INS a template may have is device policy (lib/policy),
     * not syntax: the codec checks only the template's shape. */
    if (p->encoding < CL_RELAY_PIN_BCD || p->encoding > CL_RELAY_PIN_ISO9564_2 ||
        p->msg_index > 2 || (change && p->confirm > 1))
        return CL_ERR_RESERVED;
    if (p->min_len < 1 || p->min_len > p->max_len || p->max_len > 16 ||
        (p->encoding == CL_RELAY_PIN_ISO9564_2 && p->max_len > 14))
        return CL_ERR_MALFORMED;
    region = p->encoding == CL_RELAY_PIN_BCD ? (p->max_len + 1u) / 2u
           : p->encoding == CL_RELAY_PIN_ASCII ? p->max_len : 8u;
    nc = (unsigned)a.nc;
    if (!change && p->offset == CL_RELAY_NONE)
        return CL_ERR_MALFORMED;
    if (change && p->new_offset == CL_RELAY_NONE)
        return CL_ERR_MALFORMED;
    if (p->offset != CL_RELAY_NONE && p->offset + region > nc)
        return CL_ERR_MALFORMED;
    if (change) {
        if (p->new_offset + region > nc)
            return CL_ERR_MALFORMED;
        if (p->offset != CL_RELAY_NONE && overlap(p->offset, region, p->new_offset, region))
            return CL_ERR_MALFORMED;
    }
    if (p->len_offset != CL_RELAY_NONE) {
        if (p->len_offset >= nc)
            return CL_ERR_MALFORMED;
        if (p->offset != CL_RELAY_NONE && overlap(p->offset, region, p->len_offset, 1))
            return CL_ERR_MALFORMED;
        if (change && overlap(p->new_offset, region, p->len_offset, 1))
            return CL_ERR_MALFORMED;
    }
    return CL_OK;
}

/* The rules that tie a message's fields together (per type). */
static int check_body(const struct cl_relay_msg *m)
{
    size_t i;
    int rc;

    switch (m->type) {
    case CL_RELAY_HELLO:
        for (i = 0; i < m->u.hello.versions.len; i++)
            if (m->u.hello.versions.data[i] == 0)
                return CL_ERR_RESERVED;
        return CL_OK;
    case CL_RELAY_HELLO_ACK:
        if (m->u.hello_ack.version == 0 || (m->u.hello_ack.flags & ~CL_RELAY_HELLO_RESUMED) != 0)
            return CL_ERR_RESERVED;
        return CL_OK;
    case CL_RELAY_ERROR:
        return m->u.status.code == 0 ? CL_ERR_RESERVED : CL_OK;
    case CL_RELAY_CARD_INSERTED:
        return m->u.card.protocol > CL_RELAY_PROTO_APDU ? CL_ERR_RESERVED : CL_OK;
    case CL_RELAY_CARD_RESET_RESULT: {
        const struct cl_relay_card *c = &m->u.card;
        if (c->protocol != CL_RELAY_NONE && c->protocol > CL_RELAY_PROTO_APDU)
            return CL_ERR_RESERVED;
        if (c->error != 0)
            return c->atr.len == 0 && c->protocol == CL_RELAY_NONE ? CL_OK : CL_ERR_MALFORMED;
        return c->atr.len > 0 && c->protocol != CL_RELAY_NONE ? CL_OK : CL_ERR_MALFORMED;
    }
    case CL_RELAY_CARD_RESET:
        return m->u.reset_mode > CL_RELAY_RESET_COLD ? CL_ERR_RESERVED : CL_OK;
    case CL_RELAY_SCRIPT: {
        const struct cl_relay_script *s = &m->u.script;
        if ((s->options & ~CL_RELAY_SCRIPT_CONTINUE) != 0)
            return CL_ERR_RESERVED;
        if (s->nsteps == 0)
            return CL_ERR_MALFORMED;
        if (s->nsteps > CL_RELAY_SCRIPT_MAX)
            return CL_ERR_LIMIT;
        for (i = 0; i < s->nsteps; i++) {
            struct cl_apdu a;
            enum cl_apdu_case c;
            const struct cl_relay_step *st = &s->steps[i];
            if (st->apdu.len > 0 && st->apdu.data == NULL)
                return CL_ERR_ARG;
            if (st->apdu.len < 4)
                return CL_ERR_LENGTH;
            if ((rc = apdu_ok(&st->apdu, &a, &c)) != CL_OK)
                return rc;
            if ((rc = check_expect(&st->expect)) != CL_OK)
                return rc;
            if ((st->options & ~CL_RELAY_STEP_SW_ONLY) != 0)
                return CL_ERR_RESERVED;
        }
        return CL_OK;
    }
    case CL_RELAY_SCRIPT_RESULT: {
        const struct cl_relay_script_result *r = &m->u.script_result;
        if (r->nresp > CL_RELAY_SCRIPT_MAX)
            return CL_ERR_LIMIT;
        for (i = 0; i < r->nresp; i++) {
            if (r->resp[i].len > 0 && r->resp[i].data == NULL)
                return CL_ERR_ARG;
            if (r->resp[i].len < 2)
                return CL_ERR_LENGTH;
        }
        if (r->mismatch != CL_RELAY_NONE && r->mismatch >= r->nresp)
            return CL_ERR_MALFORMED;
        return CL_OK;
    }
    case CL_RELAY_PROMPT: {
        const struct cl_relay_prompt *p = &m->u.prompt;
        if (p->kind < CL_RELAY_PROMPT_TEXT || p->kind > CL_RELAY_PROMPT_YESNO)
            return CL_ERR_RESERVED;
        if (p->kind == CL_RELAY_PROMPT_YESNO)
            return p->min_len == 0 && p->max_len == 0 ? CL_OK : CL_ERR_MALFORMED;
        return p->max_len >= 1 && p->min_len <= p->max_len && p->max_len <= 64
               ? CL_OK : CL_ERR_MALFORMED;
    }
    case CL_RELAY_PROMPT_ANSWER: {
        const struct cl_relay_prompt_answer *p = &m->u.prompt_answer;
        if (p->result > CL_RELAY_ANSWER_TIMEOUT)
            return CL_ERR_RESERVED;
        return p->value.len > 0 && p->result != CL_RELAY_ANSWER_OK ? CL_ERR_MALFORMED : CL_OK;
    }
    case CL_RELAY_PIN_VERIFY:
        return check_pin(&m->u.pin, false);
    case CL_RELAY_PIN_CHANGE:
        return check_pin(&m->u.pin, true);
    case CL_RELAY_PIN_VERIFY_RESULT:
    case CL_RELAY_PIN_CHANGE_RESULT: {
        const struct cl_relay_pin_result *p = &m->u.pin_result;
        if ((p->sw != 0) == (p->error != 0))
            return CL_ERR_MALFORMED;
        return p->sw != 0 && !sw_ok(p->sw) ? CL_ERR_MALFORMED : CL_OK;
    }
    case CL_RELAY_TXN_APPROVE: {
        const struct cl_relay_txn_approve *t = &m->u.txn;
        if (t->has_pin && (rc = check_pin(&t->pin, false)) != CL_OK)
            return rc;
        /* sign_cmd: any 4 bytes; which header may sign is lib/policy's */
        if (t->digest < CL_RELAY_DIGEST_SHA256 || t->digest > CL_RELAY_DIGEST_SHA384)
            return CL_ERR_RESERVED;
        return CL_OK;
    }
    case CL_RELAY_TXN_RESULT: {
        const struct cl_relay_txn_result *t = &m->u.txn_result;
        bool sig = t->signature.len > 0;
        if (t->result > CL_RELAY_TXN_FAILED)
            return CL_ERR_RESERVED;
        if (t->sw != 0 && !sw_ok(t->sw))
            return CL_ERR_MALFORMED;
        if (t->result == CL_RELAY_TXN_APPROVED)
            return sig && t->sw == 0 && t->error == 0 ? CL_OK : CL_ERR_MALFORMED;
        if (t->result == CL_RELAY_TXN_DECLINED)
            return !sig && t->sw == 0 && t->error == 0 ? CL_OK : CL_ERR_MALFORMED;
        return !sig && (t->sw != 0 || t->error != 0) ? CL_OK : CL_ERR_MALFORMED;
    }
    default:
        return CL_OK;
    }
}

/* ------------------------------------------------------------ header */

/* see cardlink/relay_msg.h */
int cl_relay_header_decode(const uint8_t *in, size_t len, struct cl_relay_header *h)
{
    if (in == NULL && len > 0)
        return CL_ERR_ARG;
    if (len < CL_RELAY_HEADER_LEN)
        return CL_ERR_TRUNCATED;
    if ((in[0] & 0xF0u) != (CL_RELAY_MAGIC & 0xF0u))
        return CL_ERR_MALFORMED;
    if (in[0] != CL_RELAY_MAGIC)
        return CL_ERR_VERSION;
    if (in[2] & CL_RELAY_F_RESERVED)
        return CL_ERR_RESERVED;
    h->type = in[1];
    h->flags = in[2];
    h->seq = in[3];
    h->ack = in[4];
    h->ref = in[5];
    h->length = (uint16_t)((unsigned)in[6] << 8 | in[7]);
    return CL_OK;
}

/* The header rules of §2 that depend on the type. */
static int check_header(uint8_t type, uint8_t flags, uint8_t seq, uint8_t ack, uint8_t ref)
{
    struct ftable t;

    if (flags & CL_RELAY_F_RESERVED)
        return CL_ERR_RESERVED;
    if (!(flags & CL_RELAY_F_ACK) && ack != 0)
        return CL_ERR_MALFORMED;
    if (!(flags & CL_RELAY_F_REF) && ref != 0)
        return CL_ERR_MALFORMED;
    if (!CL_RELAY_IS_SEQUENCED(type) && (seq != 0 || (flags & CL_RELAY_F_REPLAY)))
        return CL_ERR_MALFORMED;
    if (CL_RELAY_IS_ANSWER(type) && !(flags & CL_RELAY_F_REF))
        return CL_ERR_MALFORMED;
    if (!CL_RELAY_IS_ANSWER(type) && type != CL_RELAY_ERROR && (flags & CL_RELAY_F_REF))
        return CL_ERR_MALFORMED;
    if (!body_table(type, &t))
        return CL_ERR_UNSUPPORTED;
    return CL_OK;
}

/* ------------------------------------------------------------ decoding */

/* Walks the fields of one level: context class, ascending numbers. */
struct walker {
    struct cl_tlv_iter it;
    long last;          /* last field number seen, -1 at the start */
};

static void walker_init(struct walker *w, const uint8_t *p, size_t len)
{
    cl_tlv_iter_init_flags(&w->it, p, len, CL_TLV_DER);
    w->last = -1;
}

/* The field number of a context-specific tag, or -1 when the tag is of
 * another class or uses the long form for a number below 31. */
static long tag_number(uint32_t tag)
{
    uint8_t first = cl_tlv_tag_first(tag);
    unsigned long n = 0;
    int shift;

    if ((first & 0xC0u) != CL_TLV_CONTEXT)
        return -1;
    if ((first & 0x1Fu) != 0x1Fu)
        return first & 0x1Fu;
    /* subsequent bytes: below the first one in the uint32_t */
    for (shift = 16; shift >= 0; shift -= 8) {
        if ((tag >> (shift + 8)) == 0)
            continue;
        n = (n << 7) | ((tag >> shift) & 0x7Fu);
    }
    return n < 31 ? -1 : (long)n;
}

static int tlv_err(int rc)
{
    return rc == CL_ERR_TRUNCATED ? CL_ERR_LENGTH : rc;
}

/* Next field in order: 1 with t and *num, 0 at the end, or an error.
 * ordered == false for lists (numbers may repeat). */
static int walker_next(struct walker *w, struct cl_tlv *t, long *num, bool ordered)
{
    int rc = cl_tlv_iter_next(&w->it, t);

    if (rc <= 0)
        return tlv_err(rc);
    *num = tag_number(t->tag);
    if (*num < 0)
        return CL_ERR_TAG;
    if (ordered) {
        if (*num <= w->last)
            return CL_ERR_TAG;
        w->last = *num;
    }
    return 1;
}

static bool is_optional(long num)
{
    return (num & 0x10) != 0;
}

static const struct fdesc *find_field(const struct ftable *tb, long num)
{
    size_t i;

    for (i = 0; i < tb->n; i++)
        if (tb->f[i].num == num)
            return &tb->f[i];
    return NULL;
}

static int decode_table(const struct ftable *tb, const uint8_t *p, size_t len,
                        uint8_t *base, struct cl_relay_msg *m);

static int decode_steps(const struct cl_tlv *c, struct cl_relay_script *s)
{
    struct walker w;
    struct cl_tlv t;
    long num;
    int rc, state = 0;   /* 0 none, 1 after 80, 2 after 81, 3 after 82 */
    struct cl_relay_step *st = NULL;

    walker_init(&w, c->value, c->len);
    while ((rc = walker_next(&w, &t, &num, false)) == 1) {
        if (num > 2 || t.constructed) {
            if (is_optional(num))
                continue;
            return CL_ERR_TAG;
        }
        if (num == 0) {
            if (s->nsteps >= CL_RELAY_SCRIPT_MAX)
                return CL_ERR_LIMIT;
            st = &s->steps[s->nsteps++];
            st->apdu.data = t.value;
            st->apdu.len = t.len;
            state = 1;
        } else if (num == 1) {
            if (state != 1)
                return CL_ERR_TAG;
            if (t.len == 2) {
                st->expect.kind = CL_RELAY_EXPECT_EXACT;
                st->expect.value = (uint16_t)((unsigned)t.value[0] << 8 | t.value[1]);
            } else if (t.len == 4) {
                st->expect.kind = CL_RELAY_EXPECT_MASKED;
                st->expect.value = (uint16_t)((unsigned)t.value[0] << 8 | t.value[1]);
                st->expect.mask = (uint16_t)((unsigned)t.value[2] << 8 | t.value[3]);
            } else {
                return CL_ERR_LENGTH;
            }
            state = 2;
        } else {
            if (state != 1 && state != 2)
                return CL_ERR_TAG;
            if (t.len != 1)
                return CL_ERR_LENGTH;
            st->options = t.value[0];
            state = 3;
        }
    }
    return rc;
}

static int decode_resps(const struct cl_tlv *c, struct cl_relay_script_result *r)
{
    struct walker w;
    struct cl_tlv t;
    long num;
    int rc;

    walker_init(&w, c->value, c->len);
    while ((rc = walker_next(&w, &t, &num, false)) == 1) {
        if (num != 0 || t.constructed) {
            if (is_optional(num))
                continue;
            return CL_ERR_TAG;
        }
        if (r->nresp >= CL_RELAY_SCRIPT_MAX)
            return CL_ERR_LIMIT;
        r->resp[r->nresp].data = t.value;
        r->resp[r->nresp].len = t.len;
        r->nresp++;
    }
    return rc;
}

static int decode_field(const struct fdesc *d, const struct cl_tlv *t, uint8_t *base,
                        struct cl_relay_msg *m)
{
    uint8_t *v = base + d->off;
    bool want_c = d->kind == K_NEST || d->kind == K_STEPS || d->kind == K_RESPS;
    int rc;

    if (t->constructed != want_c)
        return CL_ERR_TAG;
    switch (d->kind) {
    case K_U8:
        if (t->len != 1)
            return CL_ERR_LENGTH;
        if ((d->flags & F_SENT) && t->value[0] == d->def)
            return CL_ERR_MALFORMED;
        *v = t->value[0];
        return CL_OK;
    case K_U16: {
        uint16_t x;
        if (t->len != 2)
            return CL_ERR_LENGTH;
        x = (uint16_t)((unsigned)t->value[0] << 8 | t->value[1]);
        if ((d->flags & F_SENT) && x == 0)
            return CL_ERR_MALFORMED;
        memcpy(v, &x, sizeof(x));
        return CL_OK;
    }
    case K_PAIR:
        if (t->len != 2)
            return CL_ERR_LENGTH;
        if ((d->flags & F_SENT) && t->value[0] == 0 && t->value[1] == 0)
            return CL_ERR_MALFORMED;
        v[0] = t->value[0];
        v[1] = t->value[1];
        return CL_OK;
    case K_QUAD: {
        uint16_t x[2];
        if (t->len != 4)
            return CL_ERR_LENGTH;
        x[0] = (uint16_t)((unsigned)t->value[0] << 8 | t->value[1]);
        x[1] = (uint16_t)((unsigned)t->value[2] << 8 | t->value[3]);
        if (x[0] == 0 && x[1] == 0)
            return CL_ERR_MALFORMED;
        memcpy(v, x, sizeof(x));
        return CL_OK;
    }
    case K_BYTES: {
        struct cl_relay_bytes b;
        b.data = t->value;
        b.len = t->len;
        if ((rc = check_bytes(d, &b)) != CL_OK)
            return rc;
        memcpy(v, &b, sizeof(b));
        return CL_OK;
    }
    case K_TXNID: {
        const uint8_t *p = t->value;
        if (t->len != CL_RELAY_TXN_ID_LEN)
            return CL_ERR_LENGTH;
        memcpy(v, &p, sizeof(p));
        return CL_OK;
    }
    case K_RAW4:
        if (t->len != 4)
            return CL_ERR_LENGTH;
        memcpy(v, t->value, 4);
        return CL_OK;
    case K_NEST:
        if (d->has != NO_HAS) {
            bool yes = true;
            memcpy(base + d->has, &yes, sizeof(yes));
        }
        return decode_table(d->sub, t->value, t->len, v, m);
    case K_STEPS:
        return decode_steps(t, &m->u.script);
    case K_RESPS:
        return decode_resps(t, &m->u.script_result);
    default:
        return CL_ERR_INTERNAL;
    }
}

static int decode_table(const struct ftable *tb, const uint8_t *p, size_t len,
                        uint8_t *base, struct cl_relay_msg *m)
{
    struct walker w;
    struct cl_tlv t;
    long num;
    uint32_t seen = 0, mand = 0;
    size_t i;
    int rc;

    for (i = 0; i < tb->n; i++)
        if (tb->f[i].flags & F_MAND)
            mand |= 1ul << i;
    walker_init(&w, p, len);
    while ((rc = walker_next(&w, &t, &num, true)) == 1) {
        const struct fdesc *d = find_field(tb, num);
        if (d == NULL) {
            if (is_optional(num))
                continue;
            return CL_ERR_TAG;
        }
        if ((rc = decode_field(d, &t, base, m)) != CL_OK)
            return rc;
        seen |= 1ul << (size_t)(d - tb->f);
    }
    if (rc < 0)
        return rc;
    return (seen & mand) == mand ? CL_OK : CL_ERR_MALFORMED;
}

/* see cardlink/relay_msg.h */
int cl_relay_decode(const uint8_t *in, size_t len, struct cl_relay_msg *out)
{
    struct cl_relay_header h;
    struct ftable t;
    int rc;

    if (in == NULL || out == NULL)
        return CL_ERR_ARG;
    if ((rc = cl_relay_header_decode(in, len, &h)) != CL_OK)
        return rc;
    if (len - CL_RELAY_HEADER_LEN < h.length)
        return CL_ERR_TRUNCATED;
    if (len - CL_RELAY_HEADER_LEN > h.length)
        return CL_ERR_TRAILING;
    if ((rc = check_header(h.type, h.flags, h.seq, h.ack, h.ref)) != CL_OK)
        return rc;
    cl_relay_msg_init(out, h.type);
    out->flags = h.flags;
    out->seq = h.seq;
    out->ack = h.ack;
    out->ref = h.ref;
    (void)body_table(h.type, &t);
    rc = decode_table(&t, in + CL_RELAY_HEADER_LEN, h.length, (uint8_t *)&out->u, out);
    if (rc != CL_OK)
        return rc;
    return check_body(out);
}

/* ------------------------------------------------------------ encoding */

static int encode_table(const struct ftable *tb, const uint8_t *base,
                        const struct cl_relay_msg *m, struct cl_tlv_builder *b);

static int encode_field(const struct fdesc *d, const uint8_t *base,
                        const struct cl_relay_msg *m, struct cl_tlv_builder *b)
{
    const uint8_t *v = base + d->off;
    uint32_t tag = 0x80u | d->num;
    uint8_t tmp[4];
    size_t mark, i;
    int rc;

    switch (d->kind) {
    case K_U8:
        if (*v == d->def && !(d->flags & F_MAND))
            return CL_OK;
        cl_tlv_put(b, tag, v, 1);
        return CL_OK;
    case K_U16: {
        uint16_t x;
        memcpy(&x, v, sizeof(x));
        if (x == 0 && !(d->flags & F_MAND))
            return CL_OK;
        cl_tlv_put_uint(b, tag, x, 2);
        return CL_OK;
    }
    case K_PAIR:
        if (v[0] == 0 && v[1] == 0 && !(d->flags & F_MAND))
            return CL_OK;
        cl_tlv_put(b, tag, v, 2);
        return CL_OK;
    case K_QUAD: {
        uint16_t x[2];
        memcpy(x, v, sizeof(x));
        if (x[0] == 0 && x[1] == 0)
            return CL_OK;
        tmp[0] = (uint8_t)(x[0] >> 8);
        tmp[1] = (uint8_t)x[0];
        tmp[2] = (uint8_t)(x[1] >> 8);
        tmp[3] = (uint8_t)x[1];
        cl_tlv_put(b, tag, tmp, 4);
        return CL_OK;
    }
    case K_BYTES: {
        struct cl_relay_bytes bs;
        memcpy(&bs, v, sizeof(bs));
        if (bs.len == 0 && !(d->flags & F_MAND))
            return CL_OK;
        if ((rc = check_bytes(d, &bs)) != CL_OK)
            return rc;
        cl_tlv_put(b, tag, bs.data, bs.len);
        return CL_OK;
    }
    case K_TXNID: {
        const uint8_t *p;
        memcpy(&p, v, sizeof(p));
        if (p == NULL)
            return (d->flags & F_MAND) ? CL_ERR_MALFORMED : CL_OK;
        cl_tlv_put(b, tag, p, CL_RELAY_TXN_ID_LEN);
        return CL_OK;
    }
    case K_RAW4:
        if (memcmp(v, sign_default, 4) != 0)
            cl_tlv_put(b, tag, v, 4);
        return CL_OK;
    case K_NEST:
        if (d->has != NO_HAS) {
            bool present;
            memcpy(&present, base + d->has, sizeof(present));
            if (!present)
                return CL_OK;
        }
        cl_tlv_open(b, 0xA0u | d->num, &mark);
        if ((rc = encode_table(d->sub, v, m, b)) != CL_OK)
            return rc;
        cl_tlv_close(b, mark);
        return CL_OK;
    case K_STEPS: {
        const struct cl_relay_script *s = &m->u.script;
        cl_tlv_open(b, 0xA0u | d->num, &mark);
        for (i = 0; i < s->nsteps; i++) {
            const struct cl_relay_step *st = &s->steps[i];
            cl_tlv_put(b, 0x80, st->apdu.data, st->apdu.len);
            tmp[0] = (uint8_t)(st->expect.value >> 8);
            tmp[1] = (uint8_t)st->expect.value;
            tmp[2] = (uint8_t)(st->expect.mask >> 8);
            tmp[3] = (uint8_t)st->expect.mask;
            if (st->expect.kind == CL_RELAY_EXPECT_EXACT)
                cl_tlv_put(b, 0x81, tmp, 2);
            else if (st->expect.kind == CL_RELAY_EXPECT_MASKED)
                cl_tlv_put(b, 0x81, tmp, 4);
            if (st->options != 0)
                cl_tlv_put(b, 0x82, &st->options, 1);
        }
        cl_tlv_close(b, mark);
        return CL_OK;
    }
    case K_RESPS: {
        const struct cl_relay_script_result *r = &m->u.script_result;
        cl_tlv_open(b, 0xA0u | d->num, &mark);
        for (i = 0; i < r->nresp; i++)
            cl_tlv_put(b, 0x80, r->resp[i].data, r->resp[i].len);
        cl_tlv_close(b, mark);
        return CL_OK;
    }
    default:
        return CL_ERR_INTERNAL;
    }
}

static int encode_table(const struct ftable *tb, const uint8_t *base,
                        const struct cl_relay_msg *m, struct cl_tlv_builder *b)
{
    size_t i;
    int rc;

    for (i = 0; i < tb->n; i++)
        if ((rc = encode_field(&tb->f[i], base, m, b)) != CL_OK)
            return rc;
    return CL_OK;
}

/* Value rules of sentinel fields that the struct can express but the
 * wire cannot (a present field holding its "absent" value is impossible
 * on encode; nothing to check). Mandatory sentinel U8 (CARD-INSERTED
 * protocol) must not hold the sentinel. */
static int check_mandatory_values(const struct cl_relay_msg *m)
{
    if (m->type == CL_RELAY_CARD_INSERTED && m->u.card.protocol == CL_RELAY_NONE)
        return CL_ERR_RESERVED;
    return CL_OK;
}

/* see cardlink/relay_msg.h */
int cl_relay_encode(const struct cl_relay_msg *m, uint8_t *out, size_t size, size_t *len)
{
    struct cl_tlv_builder b;
    struct ftable t;
    size_t body = 0;
    int rc;

    if (len != NULL)
        *len = 0;
    if (m == NULL || len == NULL || (out == NULL && size > 0))
        return CL_ERR_ARG;
    if ((rc = check_header(m->type, m->flags, m->seq, m->ack, m->ref)) != CL_OK)
        return rc;
    if ((rc = check_mandatory_values(m)) != CL_OK)
        return rc;
    if ((rc = check_body(m)) != CL_OK)
        return rc;
    if (size < CL_RELAY_HEADER_LEN)
        return CL_ERR_BUFFER;
    (void)body_table(m->type, &t);
    cl_tlv_builder_init(&b, out + CL_RELAY_HEADER_LEN, size - CL_RELAY_HEADER_LEN);
    if ((rc = encode_table(&t, (const uint8_t *)&m->u, m, &b)) != CL_OK)
        return rc;
    if ((rc = cl_tlv_builder_finish(&b, &body)) != CL_OK)
        return rc == CL_ERR_BUFFER ? CL_ERR_BUFFER : CL_ERR_INTERNAL;
    if (body > CL_RELAY_BODY_MAX)
        return CL_ERR_TOO_LONG;
    out[0] = CL_RELAY_MAGIC;
    out[1] = m->type;
    out[2] = m->flags;
    out[3] = m->seq;
    out[4] = m->ack;
    out[5] = m->ref;
    out[6] = (uint8_t)(body >> 8);
    out[7] = (uint8_t)body;
    *len = CL_RELAY_HEADER_LEN + body;
    return CL_OK;
}

/* ------------------------------------------------------------ helpers */

/* see cardlink/relay_msg.h */
bool cl_relay_expect_match(const struct cl_relay_expect *e, uint16_t sw)
{
    switch (e->kind) {
    case CL_RELAY_EXPECT_SUCCESS: return sw == 0x9000u || (sw >> 8) == 0x61u;
    case CL_RELAY_EXPECT_EXACT: return sw == e->value;
    case CL_RELAY_EXPECT_MASKED: return (sw & e->mask) == e->value;
    default: return false;
    }
}

static const struct {
    uint8_t code;
    int8_t err;
} wire_map[] = {
    { CL_RELAY_E_NONE, CL_OK },
    { CL_RELAY_E_MALFORMED, CL_ERR_MALFORMED },
    { CL_RELAY_E_UNSUPPORTED, CL_ERR_UNSUPPORTED },
    { CL_RELAY_E_VERSION, CL_ERR_VERSION },
    { CL_RELAY_E_SEQUENCE, CL_ERR_SEQUENCE },
    { CL_RELAY_E_TOO_LARGE, CL_ERR_TOO_LONG },
    { CL_RELAY_E_STATE, CL_ERR_STATE },
    { CL_RELAY_E_NO_CARD, CL_ERR_CARD_REMOVED },
    { CL_RELAY_E_CARD_MUTE, CL_ERR_CARD_MUTE },
    { CL_RELAY_E_CARD_IO, CL_ERR_IO },
    { CL_RELAY_E_DENIED, CL_ERR_DENIED },
    { CL_RELAY_E_CANCELLED, CL_ERR_CANCELLED },
    { CL_RELAY_E_TIMEOUT, CL_ERR_TIMEOUT },
    { CL_RELAY_E_DUPLICATE, CL_ERR_DUPLICATE },
    { CL_RELAY_E_LIMIT, CL_ERR_LIMIT },
    { CL_RELAY_E_SHUTDOWN, CL_ERR_CLOSED },
    { CL_RELAY_E_INTERNAL, CL_ERR_INTERNAL },
    { CL_RELAY_E_PROTOCOL, CL_ERR_PROTOCOL },
};

/* see cardlink/relay_msg.h */
uint8_t cl_relay_err_to_wire(int err)
{
    size_t i;

    for (i = 0; i < sizeof(wire_map) / sizeof(wire_map[0]); i++)
        if (wire_map[i].err == err)
            return wire_map[i].code;
    switch (err) {
    case CL_ERR_TRUNCATED: case CL_ERR_TRAILING: case CL_ERR_TAG: case CL_ERR_LENGTH:
    case CL_ERR_INDEFINITE: case CL_ERR_RESERVED: case CL_ERR_CHECKSUM:
        return CL_RELAY_E_MALFORMED;
    case CL_ERR_PIN_BLOCKED:
        return CL_RELAY_E_DENIED;
    default:
        return CL_RELAY_E_PROTOCOL;
    }
}

/* see cardlink/relay_msg.h */
int cl_relay_err_from_wire(uint8_t code)
{
    size_t i;

    for (i = 0; i < sizeof(wire_map) / sizeof(wire_map[0]); i++)
        if (wire_map[i].code == code)
            return wire_map[i].err;
    return CL_ERR_PROTOCOL;
}

/* see cardlink/relay_msg.h */
const char *cl_relay_type_name(uint8_t type)
{
    switch (type) {
    case CL_RELAY_HELLO: return "HELLO";
    case CL_RELAY_HELLO_ACK: return "HELLO-ACK";
    case CL_RELAY_KEEPALIVE: return "KEEPALIVE";
    case CL_RELAY_CLOSE: return "CLOSE";
    case CL_RELAY_ERROR: return "ERROR";
    case CL_RELAY_APDU: return "APDU";
    case CL_RELAY_APDU_RESPONSE: return "APDU-RESPONSE";
    case CL_RELAY_SCRIPT: return "SCRIPT";
    case CL_RELAY_SCRIPT_RESULT: return "SCRIPT-RESULT";
    case CL_RELAY_DISPLAY: return "DISPLAY";
    case CL_RELAY_DISPLAY_DONE: return "DISPLAY-DONE";
    case CL_RELAY_PROMPT: return "PROMPT";
    case CL_RELAY_PROMPT_ANSWER: return "PROMPT-ANSWER";
    case CL_RELAY_PIN_VERIFY: return "PIN-VERIFY";
    case CL_RELAY_PIN_VERIFY_RESULT: return "PIN-VERIFY-RESULT";
    case CL_RELAY_PIN_CHANGE: return "PIN-CHANGE";
    case CL_RELAY_PIN_CHANGE_RESULT: return "PIN-CHANGE-RESULT";
    case CL_RELAY_TXN_APPROVE: return "TXN-APPROVE";
    case CL_RELAY_TXN_RESULT: return "TXN-RESULT";
    case CL_RELAY_CARD_RESET: return "CARD-RESET";
    case CL_RELAY_CARD_RESET_RESULT: return "CARD-RESET-RESULT";
    case CL_RELAY_CARD_INSERTED: return "CARD-INSERTED";
    case CL_RELAY_CARD_REMOVED: return "CARD-REMOVED";
    case CL_RELAY_READER_STATUS: return "READER-STATUS";
    default: return "?";
    }
}
