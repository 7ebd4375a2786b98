/*
 * cardlink — relay message codec: the rules (docs/protocol.md §2, §5, §6).
 * SPDX-License-Identifier: Apache-2.0
 *
 * Field values (texts, command APDUs, the transaction TLV, status words,
 * expectations), the header rules, and the rules that tie a message's
 * fields together; plus the wire error codes. The codec keeps to syntax:
 * what a command may do is lib/policy's.
 */
#include <string.h>

#include "relay_msg_int.h"
#include "cardlink/apdu.h"
#include "cardlink/error.h"

/* see relay_msg_int.h */
int cl_rm_apdu(const uint8_t *p, size_t len)
{
    size_t l, lc;

    if (len < 4)
        return CL_ERR_LENGTH;
    l = len - 4;
    if (l <= 1)
        return CL_OK;                           /* case 1, 2S */
    if (p[4] != 0) {                            /* case 3S, 4S */
        lc = p[4];
        return l == 1 + lc || l == 2 + lc ? CL_OK : CL_ERR_LENGTH;
    }
    if (l == 2)
        return CL_ERR_MALFORMED;                /* Lc 00 */
    if (l == 3)
        return CL_OK;                           /* case 2E */
    lc = (size_t)p[5] << 8 | p[6];
    if (lc == 0)
        return CL_ERR_MALFORMED;                /* extended Lc 0000 */
    return l == 3 + lc || l == 5 + lc ? CL_OK : CL_ERR_LENGTH;
}

/* see relay_msg_int.h */
int cl_rm_check_expect(const struct cl_relay_expect *e)
{
    switch (e->kind) {
    case CL_RELAY_EXPECT_SUCCESS:
        return CL_OK;
    case CL_RELAY_EXPECT_EXACT:
        return cl_rm_sw_ok(e->value) ? CL_OK : CL_ERR_MALFORMED;
    case CL_RELAY_EXPECT_MASKED:
        if (e->mask == 0xFFFFu || (e->value & (uint16_t)~e->mask) != 0)
            return CL_ERR_MALFORMED;
        return CL_OK;
    default:
        return CL_ERR_ARG;
    }
}

/* see relay_msg_int.h: one TLV filling the field, and inside every
 * constructed value a sequence of TLVs filling it, to a depth of 8. */
int cl_rm_der(const uint8_t *p, size_t len)
{
    size_t end[8], limit = len, pos = 0;
    struct cl_rm_tlv t;
    unsigned depth = 0;

    if (cl_rm_read(p, len, &t) != CL_OK || t.total != len)
        return CL_ERR_MALFORMED;
    for (;;) {
        if (pos == limit) {
            if (depth == 0)
                return CL_OK;
            limit = end[--depth];
            continue;
        }
        if (cl_rm_read(p + pos, limit - pos, &t) != CL_OK)
            return CL_ERR_MALFORMED;
        if (t.c) {
            if (depth == sizeof(end) / sizeof(end[0]))
                return CL_ERR_MALFORMED;
            end[depth++] = limit;
            limit = pos + t.total;
            pos = (size_t)(t.v - p);
        } else {
            pos += t.total;
        }
    }
}

/* Text (printable ASCII, and LF with CL_RM_C_TEXT_LF) or no 00 byte. */
static int chars(unsigned f, const uint8_t *p, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        uint8_t c = p[i];
        if (f == CL_RM_C_NZ) {
            if (c == 0)
                return CL_ERR_RESERVED;
        } else if ((c < 0x20u || c > 0x7Eu) && !(c == 0x0Au && f == CL_RM_C_TEXT_LF)) {
            return CL_ERR_MALFORMED;
        }
    }
    return CL_OK;
}

/* see relay_msg_int.h */
int cl_rm_check_bytes(const struct cl_rm_field *d, const uint8_t *p, size_t len)
{
    const uint16_t *r = cl_rm_range[d->p & 15u];
    unsigned f = d->p >> 4;

    if (len < r[0] || len > r[1])
        return CL_ERR_LENGTH;
    if (f == CL_RM_C_APDU)
        return cl_rm_apdu(p, len);
    if (f == CL_RM_C_DER)
        return cl_rm_der(p, len);
    return f == CL_RM_C_ANY ? CL_OK : chars(f, p, len);
}

/* ------------------------------------------------------------ rules */

/* Whether [a, a+alen) and [b, b+blen) overlap. */
static bool overlap(unsigned a, unsigned alen, unsigned b, unsigned blen)
{
    return a < b + blen && b < a + alen;
}

/* A PIN template's shape (§5.11): short case 3 or 4, lengths, regions
 * inside the command data and apart. The CLA/INS are lib/policy's. */
static int check_pin(const struct cl_relay_pin *p, bool change)
{
    struct cl_apdu a;
    enum cl_apdu_case c;
    unsigned region, nc;
    int rc;

    if ((rc = cl_apdu_decode(p->apdu.data, p->apdu.len, &a, &c)) != CL_OK)
        return rc == CL_ERR_TRUNCATED ? CL_ERR_LENGTH : rc;
    if (c != CL_APDU_CASE_3S && c != CL_APDU_CASE_4S)
        return CL_ERR_MALFORMED;
    if (p->min_len < 1 || p->min_len > p->max_len || p->max_len > 16 ||
        (p->encoding == CL_RELAY_PIN_ISO9564_2 && p->max_len > 14))
        return CL_ERR_MALFORMED;
    region = p->encoding == CL_RELAY_PIN_BCD ? (p->max_len + 1u) / 2u
           : p->encoding == CL_RELAY_PIN_ASCII ? p->max_len : 8u;
    nc = (unsigned)a.nc;
    if ((change ? p->new_offset : p->offset) == CL_RELAY_NONE)
        return CL_ERR_MALFORMED;
    if (p->offset != CL_RELAY_NONE && p->offset + region > nc)
        return CL_ERR_MALFORMED;
    if (change && (p->new_offset + region > nc ||
                   (p->offset != CL_RELAY_NONE && overlap(p->offset, region, p->new_offset, region))))
        return CL_ERR_MALFORMED;
    if (p->len_offset != CL_RELAY_NONE &&
        (p->len_offset >= nc ||
         (p->offset != CL_RELAY_NONE && overlap(p->offset, region, p->len_offset, 1)) ||
         (change && overlap(p->new_offset, region, p->len_offset, 1))))
        return CL_ERR_MALFORMED;
    return CL_OK;
}

/* see relay_msg_int.h */
int cl_rm_rules(const struct cl_relay_msg *m)
{
    bool ok;

    switch (m->type) {
    case CL_RELAY_CARD_RESET_RESULT: {
        const struct cl_relay_card *c = &m->u.card;
        ok = c->error != 0 ? c->atr.len == 0 && c->protocol == CL_RELAY_NONE
                           : c->atr.len > 0 && c->protocol != CL_RELAY_NONE;
        break;
    }
    case CL_RELAY_SCRIPT:
        ok = m->u.script.nsteps != 0;
        break;
    case CL_RELAY_SCRIPT_RESULT:
        ok = m->u.script_result.mismatch == CL_RELAY_NONE ||
             m->u.script_result.mismatch < m->u.script_result.nresp;
        break;
    case CL_RELAY_PROMPT: {
        const struct cl_relay_prompt *p = &m->u.prompt;
        ok = p->kind == CL_RELAY_PROMPT_YESNO
             ? p->min_len == 0 && p->max_len == 0
             : p->max_len >= 1 && p->min_len <= p->max_len && p->max_len <= 64;
        break;
    }
    case CL_RELAY_PROMPT_ANSWER:
        ok = m->u.prompt_answer.value.len == 0 || m->u.prompt_answer.result == CL_RELAY_ANSWER_OK;
        break;
    case CL_RELAY_PIN_VERIFY:
    case CL_RELAY_PIN_CHANGE:
        return check_pin(&m->u.pin, m->type == CL_RELAY_PIN_CHANGE);
    case CL_RELAY_PIN_VERIFY_RESULT:
    case CL_RELAY_PIN_CHANGE_RESULT:
        ok = (m->u.pin_result.sw != 0) != (m->u.pin_result.error != 0);
        break;
    case CL_RELAY_TXN_APPROVE:
        return m->u.txn.has_pin ? check_pin(&m->u.txn.pin, false) : CL_OK;
    case CL_RELAY_ACTUATE:
        ok = m->u.actuate.action != 0 && m->u.actuate.not_before <= m->u.actuate.not_after;
        break;
    case CL_RELAY_TXN_RESULT: {
        const struct cl_relay_txn_result *t = &m->u.txn_result;
        bool sig = t->signature.len > 0, why = t->sw != 0 || t->error != 0;
        ok = t->result == CL_RELAY_TXN_APPROVED ? sig && !why
           : t->result == CL_RELAY_TXN_DECLINED ? !sig && !why
           : !sig && why;
        break;
    }
    default:
        return CL_OK;
    }
    return ok ? CL_OK : CL_ERR_MALFORMED;
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

/* cl_err of each wire code 00..11 (§6), negated to fit a byte. */
static const uint8_t wire_err[] = {
    (uint8_t)-CL_OK, (uint8_t)-CL_ERR_MALFORMED, (uint8_t)-CL_ERR_UNSUPPORTED,
    (uint8_t)-CL_ERR_VERSION, (uint8_t)-CL_ERR_SEQUENCE, (uint8_t)-CL_ERR_TOO_LONG,
    (uint8_t)-CL_ERR_STATE, (uint8_t)-CL_ERR_CARD_REMOVED, (uint8_t)-CL_ERR_CARD_MUTE,
    (uint8_t)-CL_ERR_IO, (uint8_t)-CL_ERR_DENIED, (uint8_t)-CL_ERR_CANCELLED,
    (uint8_t)-CL_ERR_TIMEOUT, (uint8_t)-CL_ERR_DUPLICATE, (uint8_t)-CL_ERR_LIMIT,
    (uint8_t)-CL_ERR_CLOSED, (uint8_t)-CL_ERR_INTERNAL, (uint8_t)-CL_ERR_PROTOCOL,
};

/* see cardlink/relay_msg.h */
uint8_t cl_relay_err_to_wire(int err)
{
    uint8_t i;

    for (i = 0; i < sizeof(wire_err); i++)
        if (-(int)wire_err[i] == err)
            return i;
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
    return code < sizeof(wire_err) ? -(int)wire_err[code] : CL_ERR_PROTOCOL;
}

/* x big-endian into out[0..n). */
static void be(uint8_t *out, uint32_t x, unsigned n)
{
    while (n-- > 0) {
        out[n] = (uint8_t)x;
        x >>= 8;
    }
}

/* see cardlink/relay_msg.h */
size_t cl_relay_gate_tbs(const struct cl_relay_actuate *a, uint8_t out[CL_RELAY_GATE_TBS_MAX])
{
    size_t id;

    if (a == NULL || out == NULL || a->nonce == NULL || a->device_id.data == NULL)
        return 0;
    id = a->device_id.len;
    if (id < 1 || id > 32)
        return 0;
    memcpy(out, "CLGA", 4);
    out[4] = (uint8_t)id;
    memcpy(out + 5, a->device_id.data, id);
    out += 5 + id;
    be(out, a->action, 2);
    memcpy(out + 2, a->nonce, CL_RELAY_GATE_NONCE_LEN);
    be(out + 2 + CL_RELAY_GATE_NONCE_LEN, a->not_before, 4);
    be(out + 6 + CL_RELAY_GATE_NONCE_LEN, a->not_after, 4);
    return 5 + id + 10 + CL_RELAY_GATE_NONCE_LEN;
}
