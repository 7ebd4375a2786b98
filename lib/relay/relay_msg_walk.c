/*
 * cardlink — relay message codec: the walker (docs/protocol.md §2, §3, §15).
 * SPDX-License-Identifier: Apache-2.0
 *
 * One loop decodes a body against its table (relay_msg_table.c), one
 * encodes it. Each field is checked when it is read or written (its tag,
 * length and extent, then class, order and criticality, then its own size
 * and value); the rules that tie fields together run after the walk
 * (relay_msg_rules.c). §15 writes this order down.
 */
#include <string.h>

#include "relay_msg_int.h"
#include "cardlink/error.h"

/* ------------------------------------------------------------ reading */

/* see relay_msg_int.h: one TLV at p[0..len), len > 0 (§3): the tag (at
 * most 3 subsequent bytes), the length (definite, minimal, at most 4
 * bytes), the extent. */
int cl_rm_read(const uint8_t *p, size_t len, struct cl_rm_tlv *t)
{
    uint32_t num, v;
    size_t i = 1, k;
    uint8_t b0 = p[0];

    num = b0 & 0x1Fu;
    if (num == 0x1Fu) {                 /* subsequent tag bytes, at most 3 */
        num = 0;
        do {
            if (i == 4)
                return CL_ERR_UNSUPPORTED;
            if (i >= len)
                return CL_ERR_LENGTH;
            if (i == 1 && p[1] == 0x80u)
                return CL_ERR_MALFORMED;
            num = num << 7 | (p[i] & 0x7Fu);
        } while (p[i++] & 0x80u);
        t->ctx = num >= 31;
    } else {
        t->ctx = true;
    }
    if ((b0 & 0xC0u) != 0x80u)
        t->ctx = false;
    if (i >= len)
        return CL_ERR_LENGTH;
    v = p[i++];
    if (v & 0x80u) {
        k = v & 0x7Fu;
        if (k == 0)
            return CL_ERR_INDEFINITE;
        if (k == 0x7Fu)
            return CL_ERR_MALFORMED;
        if (k > 4)
            return CL_ERR_UNSUPPORTED;
        if (k > len - i)
            return CL_ERR_LENGTH;
        if (p[i] == 0)
            return CL_ERR_MALFORMED;    /* leading zero: not minimal */
        for (v = 0; k; k--)
            v = v << 8 | p[i++];
        if (v < 0x80u)
            return CL_ERR_MALFORMED;
    }
    if (v > len - i)
        return CL_ERR_LENGTH;
    t->num = num;
    t->c = (b0 & 0x20u) != 0;
    t->v = p + i;
    t->len = v;
    t->total = i + v;
    return CL_OK;
}

/* cl_rm_read() for the list and slow paths: a tag of another class, or a number
 * below 31 in the long form, is CL_ERR_TAG. */
static int next_tlv(const uint8_t *p, size_t len, struct cl_rm_tlv *t)
{
    int rc = cl_rm_read(p, len, t);

    if (rc == CL_OK && !t->ctx)
        rc = CL_ERR_TAG;
    return rc;
}


static CL_SIZE_NOINLINE uint16_t be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static int walk(const struct cl_rm_type *tb, const uint8_t *q, const uint8_t *qend,
                uint8_t *base);

/* The items of a list (SCRIPT steps, SCRIPT-RESULT responses): numbers
 * repeat, so no order rule but the one of a step (80, then 81, then 82). */
static int steps(const uint8_t *p, size_t len, struct cl_relay_script *s)
{
    struct cl_rm_tlv t;
    struct cl_relay_step *st = NULL;
    size_t pos;
    int rc, state = 0;   /* the last field of the step: 0 none, 1 80, 2 81, 3 82 */

    for (pos = 0; pos < len; pos += t.total) {
        if ((rc = next_tlv(p + pos, len - pos, &t)) != CL_OK)
            return rc;
        if (t.num > 2 || t.c) {
            if (t.num & 0x10u)
                continue;
            return CL_ERR_TAG;
        }
        if (t.num == 0) {
            if (s->nsteps >= CL_RELAY_SCRIPT_MAX)
                return CL_ERR_TOO_LONG;
            st = &s->steps[s->nsteps++];
            st->apdu.data = t.v;
            st->apdu.len = t.len;
            st->expect.kind = CL_RELAY_EXPECT_SUCCESS;
            st->expect.value = st->expect.mask = 0;
            st->options = 0;
            if ((rc = cl_rm_apdu(t.v, t.len)) != CL_OK)
                return rc;
            state = 1;
        } else if (t.num == 1) {
            if (state != 1)
                return CL_ERR_TAG;
            if (t.len != 2 && t.len != 4)
                return CL_ERR_LENGTH;
            st->expect.kind = t.len == 2 ? CL_RELAY_EXPECT_EXACT : CL_RELAY_EXPECT_MASKED;
            st->expect.value = be16(t.v);
            if (t.len == 4)
                st->expect.mask = be16(t.v + 2);
            if ((rc = cl_rm_check_expect(&st->expect)) != CL_OK)
                return rc;
            state = 2;
        } else {
            if (state != 1 && state != 2)
                return CL_ERR_TAG;
            if (t.len != 1)
                return CL_ERR_LENGTH;
            if (t.v[0] > CL_RELAY_STEP_SW_ONLY)
                return CL_ERR_RESERVED;
            st->options = t.v[0];
            state = 3;
        }
    }
    return CL_OK;
}

static int resps(const uint8_t *p, size_t len, struct cl_relay_script_result *r)
{
    struct cl_rm_tlv t;
    size_t pos;
    int rc;

    for (pos = 0; pos < len; pos += t.total) {
        if ((rc = next_tlv(p + pos, len - pos, &t)) != CL_OK)
            return rc;
        if (t.num != 0 || t.c) {
            if (t.num & 0x10u)
                continue;
            return CL_ERR_TAG;
        }
        if (r->nresp >= CL_RELAY_SCRIPT_MAX)
            return CL_ERR_TOO_LONG;
        if (t.len < 2)
            return CL_ERR_LENGTH;
        r->resp[r->nresp].data = t.v;
        r->resp[r->nresp].len = t.len;
        r->nresp++;
    }
    return CL_OK;
}

/* Decode one known primitive field: its size, its value. */
static inline int field(const struct cl_rm_field *d, const uint8_t *tv, size_t tlen,
                        uint8_t *base)
{
    uint8_t *v = base + d->off;
    int rc;

    switch (d->kf & CL_RM_KIND) {
    case CL_RM_U8: {
        const uint8_t *r = cl_rm_u8[d->p];
        if (tlen != 1)
            return CL_ERR_LENGTH;
        if ((d->kf & CL_RM_SENT) && tv[0] == r[0])
            return CL_ERR_MALFORMED;
        if (tv[0] < r[1] || tv[0] > r[2])
            return CL_ERR_RESERVED;
        *v = tv[0];
        return CL_OK;
    }
    case CL_RM_U16: {
        uint16_t x;
        if (tlen != 2)
            return CL_ERR_LENGTH;
        x = be16(tv);
        if ((rc = cl_rm_check_u16(d, x)) != CL_OK)
            return rc;
        memcpy(v, &x, sizeof(x));
        return CL_OK;
    }
    case CL_RM_PAIR:
        if (tlen != 2)
            return CL_ERR_LENGTH;
        if ((d->kf & CL_RM_SENT) && tv[0] == 0 && tv[1] == 0)
            return CL_ERR_MALFORMED;
        v[0] = tv[0];
        v[1] = tv[1];
        return CL_OK;
    case CL_RM_QUAD: {
        uint16_t x[2];
        if (tlen != 4)
            return CL_ERR_LENGTH;
        x[0] = be16(tv);
        x[1] = be16(tv + 2);
        if (x[0] < 4 || x[1] < 2)
            return CL_ERR_MALFORMED;
        memcpy(v, x, sizeof(x));
        return CL_OK;
    }
    case CL_RM_BYTES: {
        struct cl_relay_bytes b;
        if ((rc = cl_rm_check_bytes(d, tv, tlen)) != CL_OK)
            return rc;
        b.data = tv;
        b.len = tlen;
        memcpy(v, &b, sizeof(b));
        return CL_OK;
    }
    case CL_RM_TXNID:
        if (tlen != CL_RELAY_TXN_ID_LEN)
            return CL_ERR_LENGTH;
        memcpy(v, &tv, sizeof(tv));
        return CL_OK;
    case CL_RM_RAW4:
        if (tlen != 4)
            return CL_ERR_LENGTH;
        memcpy(v, tv, 4);
        return CL_OK;
    case CL_RM_U32: {
        uint32_t x;
        if (tlen != 4)
            return CL_ERR_LENGTH;
        x = (uint32_t)be16(tv) << 16 | be16(tv + 2);
        memcpy(v, &x, sizeof(x));
        return CL_OK;
    }
    default:
        return CL_ERR_INTERNAL;
    }
}

/* Decode one known constructed field. STEPS and RESPS are top-level
 * fields of SCRIPT and SCRIPT-RESULT: base is the union member. */
static int nested(const struct cl_rm_field *d, const uint8_t *tv, size_t tlen, uint8_t *base)
{
    unsigned kind = d->kf & CL_RM_KIND;

    if (kind == CL_RM_NEST) {
        if (d->kf & CL_RM_HAS)
            base[offsetof(struct cl_relay_txn_approve, has_pin)] = 1;   /* bool true */
        return walk(&cl_rm_types[d->p], tv, tv + tlen, base + d->off);
    }
    if (kind == CL_RM_STEPS)
        return steps(tv, tlen, (struct cl_relay_script *)(void *)base);
    return resps(tv, tlen, (struct cl_relay_script_result *)(void *)base);
}

/* An absent field: its default; 1 if it is mandatory. */
static int absent(const struct cl_rm_field *d, uint8_t *base)
{
    unsigned kind = d->kf & CL_RM_KIND;

    if (d->kf & CL_RM_MAND)
        return 1;
    if (kind == CL_RM_U8)
        base[d->off] = cl_rm_u8[d->p][0];
    else if (kind == CL_RM_RAW4 || kind == CL_RM_NEST)
        cl_rm_default(d, base);
    return 0;
}

/* Decode the fields of one level against a table: context class, numbers
 * ascending, unknown optional ones skipped; a missing mandatory field is
 * reported after the level's last field. */
static int walk(const struct cl_rm_type *tb, const uint8_t *q, const uint8_t *qend,
                uint8_t *base)
{
    const struct cl_rm_field *d = cl_rm_fields + tb->first, *end = d + tb->n;
    struct cl_rm_tlv t;
    uint32_t next = 0;   /* lowest number allowed next; d's number >= next */
    int rc, missing = 0;

    while (q < qend) {
        const uint8_t *v;
        size_t n;
        /* The next field of the table with a short length: its tag says
         * class, number, order and constructed bit at once. */
        if (d < end && q[0] == d->tag && qend - q >= 2 && q[1] < 0x80u) {
            n = q[1];
            if (n > (size_t)(qend - q) - 2)
                return CL_ERR_LENGTH;
            v = q + 2;
            next = (d->tag & 0x1Fu) + 1u;
        } else {
            if ((rc = next_tlv(q, (size_t)(qend - q), &t)) != CL_OK)
                return rc;
            if (t.num < next)
                return CL_ERR_TAG;
            next = t.num + 1;
            while (d < end && (d->tag & 0x1Fu) < t.num)
                missing |= absent(d++, base);
            if (d == end || (d->tag & 0x1Fu) != t.num) {
                if (!(t.num & 0x10u))
                    return CL_ERR_TAG;   /* unknown critical */
                q += t.total;            /* unknown optional: skipped */
                continue;
            }
            if (t.c != ((d->tag & 0x20u) != 0))
                return CL_ERR_TAG;
            v = t.v;
            n = t.len;
        }
        q = v + n;
        rc = (d->kf & CL_RM_KIND) < CL_RM_NEST ? field(d, v, n, base) : nested(d, v, n, base);
        if (rc != CL_OK)
            return rc;
        d++;
    }
    while (d < end)
        missing |= absent(d++, base);
    return missing ? CL_ERR_MALFORMED : CL_OK;
}

/* The header rules of §2 that depend on the type (unknown type last):
 * the type's slot, or a negative error. */
static inline int header(uint8_t type, uint8_t flags, uint8_t seq, uint8_t ack, uint8_t ref)
{
    int slot;

    if (flags & CL_RELAY_F_RESERVED)
        return CL_ERR_RESERVED;
    if (!(flags & CL_RELAY_F_ACK) && ack != 0)
        return CL_ERR_MALFORMED;
    if (!(flags & CL_RELAY_F_REF) && ref != 0)
        return CL_ERR_MALFORMED;
    if (!CL_RELAY_IS_SEQUENCED(type) && (seq != 0 || (flags & CL_RELAY_F_REPLAY)))
        return CL_ERR_MALFORMED;
    if (CL_RELAY_IS_ANSWER(type) ? !(flags & CL_RELAY_F_REF)
                                 : type != CL_RELAY_ERROR && (flags & CL_RELAY_F_REF))
        return CL_ERR_MALFORMED;
    slot = cl_rm_slot(type);
    return slot < 0 ? CL_ERR_UNSUPPORTED : slot;
}

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
    h->length = be16(in + 6);
    return CL_OK;
}

/* see cardlink/relay_msg.h */
int cl_relay_decode(const uint8_t *in, size_t len, struct cl_relay_msg *out)
{
    struct cl_relay_header h;
    const struct cl_rm_type *tb;
    int rc;

    if (in == NULL || out == NULL)
        return CL_ERR_ARG;
    if ((rc = cl_relay_header_decode(in, len, &h)) != CL_OK)
        return rc;
    if (len - CL_RELAY_HEADER_LEN < h.length)
        return CL_ERR_TRUNCATED;
    if (len - CL_RELAY_HEADER_LEN > h.length)
        return CL_ERR_TRAILING;
    if ((rc = header(h.type, h.flags, h.seq, h.ack, h.ref)) < 0)
        return rc;
    tb = &cl_rm_types[rc];
    memcpy(out, &h, 5);   /* type, flags, seq, ack, ref: the same layout */
    memset(&out->u, 0, tb->zero);
    if (h.type == CL_RELAY_PIN_VERIFY)
        out->u.pin.new_offset = CL_RELAY_NONE;
    if ((rc = walk(tb, in + CL_RELAY_HEADER_LEN, in + len, (uint8_t *)&out->u)) != CL_OK)
        return rc;
    return cl_rm_rules(out);
}

typedef char cl_rm_header_ok[offsetof(struct cl_relay_msg, ref) == 4 &&
                             offsetof(struct cl_relay_header, ref) == 4 ? 1 : -1];

/* ------------------------------------------------------------ writing */

/* The body being written: pos counts on past size (then over is set and
 * nothing more is written), so every content check still runs. */
struct wr {
    uint8_t *p;
    size_t size, pos;
    bool over;
};

static void put_raw(struct wr *w, const void *src, size_t n)
{
    if (!w->over && n <= w->size - w->pos) {
        if (n > 0)
            memcpy(w->p + w->pos, src, n);
    } else {
        w->over = true;
    }
    w->pos += n;
}

/* The minimal length encoding of n into h; its size. */
static size_t len_enc(uint8_t *h, size_t n)
{
    size_t k = 0, i;

    if (n < 0x80u) {
        h[0] = (uint8_t)n;
        return 1;
    }
    for (i = n; i != 0; i >>= 8)
        k++;
    h[0] = (uint8_t)(0x80u | k);
    for (i = k; i > 0; i--, n >>= 8)
        h[i] = (uint8_t)n;
    return k + 1;
}

static void put(struct wr *w, unsigned tag, const void *v, size_t n)
{
    uint8_t h[1 + 1 + sizeof(size_t)];

    h[0] = (uint8_t)tag;
    put_raw(w, h, 1 + len_enc(h + 1, n));
    put_raw(w, v, n);
}

/* A constructed field: open leaves one length byte, close widens it. */
static size_t open_c(struct wr *w, unsigned tag)
{
    uint8_t h[2] = { (uint8_t)tag, 0 };

    put_raw(w, h, 2);
    return w->pos;
}

static void close_c(struct wr *w, size_t mark)
{
    uint8_t h[1 + sizeof(size_t)];
    size_t n = w->pos - mark, k = len_enc(h, n);

    put_raw(w, h, k - 1);   /* room for the longer length */
    if (!w->over) {
        memmove(w->p + mark + k - 1, w->p + mark, n);
        memcpy(w->p + mark - 1, h, k);
    }
}

static void put16(struct wr *w, unsigned tag, const uint16_t *x, size_t n)
{
    uint8_t b[4];
    size_t i;

    for (i = 0; i < n; i++) {
        b[2 * i] = (uint8_t)(x[i] >> 8);
        b[2 * i + 1] = (uint8_t)x[i];
    }
    put(w, tag, b, 2 * n);
}

static int wtable(const struct cl_rm_type *tb, const uint8_t *base,
                  const struct cl_relay_msg *m, struct wr *w);

static int wsteps(const struct cl_relay_script *s, struct wr *w)
{
    size_t i, mark;
    int rc;

    if (s->nsteps > CL_RELAY_SCRIPT_MAX)
        return CL_ERR_TOO_LONG;
    mark = open_c(w, 0xA2u);
    for (i = 0; i < s->nsteps; i++) {
        const struct cl_relay_step *st = &s->steps[i];
        uint16_t x[2];
        if (st->apdu.len > 0 && st->apdu.data == NULL)
            return CL_ERR_ARG;
        if ((rc = cl_rm_apdu(st->apdu.data, st->apdu.len)) != CL_OK ||
            (rc = cl_rm_check_expect(&st->expect)) != CL_OK)
            return rc;
        if (st->options > CL_RELAY_STEP_SW_ONLY)
            return CL_ERR_RESERVED;
        put(w, 0x80u, st->apdu.data, st->apdu.len);
        x[0] = st->expect.value;
        x[1] = st->expect.mask;
        if (st->expect.kind != CL_RELAY_EXPECT_SUCCESS)
            put16(w, 0x81u, x, st->expect.kind == CL_RELAY_EXPECT_EXACT ? 1 : 2);
        if (st->options != 0)
            put(w, 0x82u, &st->options, 1);
    }
    close_c(w, mark);
    return CL_OK;
}

static int wresps(const struct cl_relay_script_result *r, struct wr *w)
{
    size_t i, mark;

    if (r->nresp > CL_RELAY_SCRIPT_MAX)
        return CL_ERR_TOO_LONG;
    mark = open_c(w, 0xA2u);
    for (i = 0; i < r->nresp; i++) {
        if (r->resp[i].len > 0 && r->resp[i].data == NULL)
            return CL_ERR_ARG;
        if (r->resp[i].len < 2)
            return CL_ERR_LENGTH;
        put(w, 0x80u, r->resp[i].data, r->resp[i].len);
    }
    close_c(w, mark);
    return CL_OK;
}

/* Encode one field, or nothing when it holds its default or "absent"
 * value; the same checks as decoding. */
static int wfield(const struct cl_rm_field *d, const uint8_t *base,
                  const struct cl_relay_msg *m, struct wr *w)
{
    const uint8_t *v = base + d->off;
    unsigned tag = d->tag;
    bool mand = (d->kf & CL_RM_MAND) != 0;
    int rc;

    switch (d->kf & CL_RM_KIND) {
    case CL_RM_U8: {
        const uint8_t *r = cl_rm_u8[d->p];
        if (*v == r[0] && !mand)
            return CL_OK;
        if (*v < r[1] || *v > r[2])
            return CL_ERR_RESERVED;
        put(w, tag, v, 1);
        return CL_OK;
    }
    case CL_RM_U16: {
        uint16_t x;
        memcpy(&x, v, sizeof(x));
        if (x == 0)
            return CL_OK;
        if ((rc = cl_rm_check_u16(d, x)) != CL_OK)
            return rc;
        put16(w, tag, &x, 1);
        return CL_OK;
    }
    case CL_RM_PAIR:
        if (v[0] == 0 && v[1] == 0 && !mand)
            return CL_OK;
        put(w, tag, v, 2);
        return CL_OK;
    case CL_RM_QUAD: {
        uint16_t x[2];
        memcpy(x, v, sizeof(x));
        if (x[0] == 0 && x[1] == 0)
            return CL_OK;
        if (x[0] < 4 || x[1] < 2)
            return CL_ERR_MALFORMED;
        put16(w, tag, x, 2);
        return CL_OK;
    }
    case CL_RM_BYTES: {
        struct cl_relay_bytes b;
        memcpy(&b, v, sizeof(b));
        if (b.len == 0 && !mand)
            return CL_OK;
        if (b.data == NULL && b.len > 0)
            return CL_ERR_ARG;
        if ((rc = cl_rm_check_bytes(d, b.data, b.len)) != CL_OK)
            return rc;
        put(w, tag, b.data, b.len);
        return CL_OK;
    }
    case CL_RM_TXNID: {
        const uint8_t *p;
        memcpy(&p, v, sizeof(p));
        if (p == NULL)
            return mand ? CL_ERR_MALFORMED : CL_OK;
        put(w, tag, p, CL_RELAY_TXN_ID_LEN);
        return CL_OK;
    }
    case CL_RM_RAW4:
        if (memcmp(v, cl_rm_sign_default, 4) != 0)
            put(w, tag, v, 4);
        return CL_OK;
    case CL_RM_U32: {
        uint32_t x;
        uint16_t h[2];
        memcpy(&x, v, sizeof(x));
        if (x == 0 && !mand)
            return CL_OK;
        h[0] = (uint16_t)(x >> 16);
        h[1] = (uint16_t)x;
        put16(w, tag, h, 2);
        return CL_OK;
    }
    case CL_RM_NEST: {
        size_t mark;
        if ((d->kf & CL_RM_HAS) && !base[offsetof(struct cl_relay_txn_approve, has_pin)])
            return CL_OK;
        mark = open_c(w, d->tag);
        if ((rc = wtable(&cl_rm_types[d->p], v, m, w)) != CL_OK)
            return rc;
        close_c(w, mark);
        return CL_OK;
    }
    case CL_RM_STEPS:
        return wsteps(&m->u.script, w);
    default:
        return wresps(&m->u.script_result, w);
    }
}

static int wtable(const struct cl_rm_type *tb, const uint8_t *base,
                  const struct cl_relay_msg *m, struct wr *w)
{
    const struct cl_rm_field *d = cl_rm_fields + tb->first, *end = d + tb->n;
    int rc;

    for (; d < end; d++)
        if ((rc = wfield(d, base, m, w)) != CL_OK)
            return rc;
    return CL_OK;
}

/* see cardlink/relay_msg.h */
int cl_relay_encode(const struct cl_relay_msg *m, uint8_t *out, size_t size, size_t *len)
{
    const struct cl_rm_type *tb;
    struct wr w;
    int rc;

    if (len != NULL)
        *len = 0;
    if (m == NULL || len == NULL || (out == NULL && size > 0))
        return CL_ERR_ARG;
    if ((rc = header(m->type, m->flags, m->seq, m->ack, m->ref)) < 0)
        return rc;
    tb = &cl_rm_types[rc];
    w.over = size < CL_RELAY_HEADER_LEN;
    w.p = w.over ? NULL : out + CL_RELAY_HEADER_LEN;
    w.size = w.over ? 0 : size - CL_RELAY_HEADER_LEN;
    w.pos = 0;
    if ((rc = wtable(tb, (const uint8_t *)&m->u, m, &w)) != CL_OK ||
        (rc = cl_rm_rules(m)) != CL_OK)
        return rc;
    if (w.over)
        return CL_ERR_BUFFER;
    if (w.pos > CL_RELAY_BODY_MAX)
        return CL_ERR_TOO_LONG;
    out[0] = CL_RELAY_MAGIC;
    out[1] = m->type;
    out[2] = m->flags;
    out[3] = m->seq;
    out[4] = m->ack;
    out[5] = m->ref;
    out[6] = (uint8_t)(w.pos >> 8);
    out[7] = (uint8_t)w.pos;
    *len = CL_RELAY_HEADER_LEN + w.pos;
    return CL_OK;
}
