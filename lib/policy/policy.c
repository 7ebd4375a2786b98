/*
 * cardlink — the device's rules: relayed commands, PIN templates, the
 * approval flow and its state (docs/protocol.md §10).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/apdu.h"
#include "cardlink/error.h"
#include "cardlink/policy.h"
#include "policy_int.h"

#define ANY 0x00u, 0x00u   /* mask 0, value 0: every value */

/* ------------------------------------------------------------ tables */

static const struct cl_policy_rule iso_rules[] = {
    /* §10 rule 2: PIN handling, any CLA; VERIFY without data only reads
     * the retry counter */
    { ANY, 0x20, ANY, ANY, CL_POLICY_WHEN_DATA, CL_POLICY_R_PIN },   /* VERIFY */
    { ANY, 0x21, ANY, ANY, CL_POLICY_WHEN_DATA, CL_POLICY_R_PIN },   /* VERIFY (BER-TLV) */
    { ANY, 0x24, ANY, ANY, CL_POLICY_WHEN_ALWAYS, CL_POLICY_R_PIN }, /* CHANGE REFERENCE DATA */
    { ANY, 0x25, ANY, ANY, CL_POLICY_WHEN_ALWAYS, CL_POLICY_R_PIN },
    { ANY, 0x2C, ANY, ANY, CL_POLICY_WHEN_ALWAYS, CL_POLICY_R_PIN }, /* RESET RETRY COUNTER */
    { ANY, 0x2D, ANY, ANY, CL_POLICY_WHEN_ALWAYS, CL_POLICY_R_PIN },
    { ANY, 0x26, ANY, ANY, CL_POLICY_WHEN_ALWAYS, CL_POLICY_R_PIN }, /* DISABLE VERIFICATION REQ. */
    { ANY, 0x27, ANY, ANY, CL_POLICY_WHEN_ALWAYS, CL_POLICY_R_PIN },
    { ANY, 0x28, ANY, ANY, CL_POLICY_WHEN_ALWAYS, CL_POLICY_R_PIN }, /* ENABLE VERIFICATION REQ. */
    { ANY, 0x29, ANY, ANY, CL_POLICY_WHEN_ALWAYS, CL_POLICY_R_PIN },
    /* rule 3: tunnels */
    { ANY, 0xC2, ANY, ANY, CL_POLICY_WHEN_ALWAYS, CL_POLICY_R_TUNNEL }, /* ENVELOPE */
    { ANY, 0xC3, ANY, ANY, CL_POLICY_WHEN_ALWAYS, CL_POLICY_R_TUNNEL },
    /* rule 4: nothing that signs or authenticates, in any state */
    { ANY, 0x2A, ANY, ANY, CL_POLICY_WHEN_ALWAYS, CL_POLICY_R_SIGN }, /* PSO */
    { ANY, 0x2B, ANY, ANY, CL_POLICY_WHEN_ALWAYS, CL_POLICY_R_SIGN }, /* PSO (BER-TLV) */
    { ANY, 0x88, ANY, ANY, CL_POLICY_WHEN_ALWAYS, CL_POLICY_R_SIGN }, /* INTERNAL AUTHENTICATE */
    { ANY, 0x86, ANY, ANY, CL_POLICY_WHEN_ALWAYS, CL_POLICY_R_SIGN }, /* GENERAL AUTHENTICATE */
    { ANY, 0x87, ANY, ANY, CL_POLICY_WHEN_ALWAYS, CL_POLICY_R_SIGN },
    { ANY, 0xAE, ANY, ANY, CL_POLICY_WHEN_ALWAYS, CL_POLICY_R_SIGN }, /* GENERATE AC (EMV) */
    { ANY, 0x22, ANY, ANY, CL_POLICY_WHEN_PIN_VERIFIED, CL_POLICY_R_SIGN }, /* MSE */
};

/* see cardlink/policy.h */
const struct cl_policy_table cl_policy_iso = { iso_rules, CL_ARRAY_LEN(iso_rules) };

static const struct cl_policy_rule cardlink_rules[] = {
    { ANY, 0x54, ANY, ANY, CL_POLICY_WHEN_ALWAYS, CL_POLICY_R_VALUE },         /* DEBIT */
    { ANY, 0x56, ANY, ANY, CL_POLICY_WHEN_ALWAYS, CL_POLICY_R_VALUE },         /* USE */
    { ANY, 0xE2, ANY, 0xF8, 0x28, CL_POLICY_WHEN_ALWAYS, CL_POLICY_R_VALUE },  /* APPEND, SFI 5 */
    { ANY, 0xE2, ANY, 0xF8, 0x00, CL_POLICY_WHEN_ALWAYS, CL_POLICY_R_VALUE },  /* APPEND, SFI 0 */
    /* BLOCK (80 1E, docs/applet.md) has no rule on purpose: it is relayed in
     * every state a relay is. It takes nothing from the holder that the
     * issuer could not refuse anyway, the card checks the issuer's signature
     * over its serial and a fresh challenge (a server without the issuer key
     * cannot make one, a recorded one works nowhere else), and a device
     * that refused it would only keep a card the issuer wants stopped. */
};

/* see cardlink/policy.h */
const struct cl_policy_table cl_policy_cardlink = { cardlink_rules,
                                                    CL_ARRAY_LEN(cardlink_rules) };

/* see cardlink/policy.h */
const uint8_t cl_policy_get_balance[5] = { 0x80, 0x5C, 0x00, 0x00, 0x00 };

static const uint8_t hdr_pso[4] = { 0x00, 0x2A, 0x9E, 0x9A };
static const uint8_t hdr_ia[4] = { 0x00, 0x88, 0x00, 0x00 };
static const uint8_t hdr_debit[4] = { 0x80, 0x54, 0x00, 0x00 };

static const struct cl_policy no_cfg;

/* ------------------------------------------------------------ helpers */

/* see policy_int.h */
int cl_policy_i_deny(uint8_t *reason, uint8_t why)
{
    if (reason != NULL)
        *reason = why;
    return CL_ERR_DENIED;
}

/* see policy_int.h */
void cl_policy_i_allow(uint8_t *reason)
{
    if (reason != NULL)
        *reason = CL_POLICY_ALLOWED;
}

#define deny cl_policy_i_deny

/* Command chaining: CLA b5 (ISO 7816-4 §5.4.1), read in every class but FF. */
static bool chained(uint8_t cla)
{
    return (cla & 0x10u) != 0;
}

static bool sw_ok(uint16_t sw)
{
    return sw == 0x9000u || (sw & 0xFF00u) == 0x6100u;
}

/* The first rule of t that refuses a in a state where the card may be
 * verified or not, or NULL. */
static const struct cl_policy_rule *match(const struct cl_policy_table *t, bool verified,
                                          const struct cl_apdu *a, uint8_t *why)
{
    size_t i;

    for (i = 0; i < t->n; i++) {
        const struct cl_policy_rule *r = &t->rules[i];
        uint8_t reason = r->reason != CL_POLICY_ALLOWED ? r->reason : (uint8_t)CL_POLICY_R_USER;
        bool cond;

        if ((a->cla & r->cla_mask) != r->cla || a->ins != r->ins ||
            (a->p1 & r->p1_mask) != r->p1 || (a->p2 & r->p2_mask) != r->p2)
            continue;
        if ((reason == CL_POLICY_R_PIN || reason == CL_POLICY_R_SIGN) && chained(a->cla)) {
            *why = CL_POLICY_R_CHAIN_PIN;
            return r;
        }
        switch (r->when) {
        case CL_POLICY_WHEN_DATA:
            cond = a->nc > 0;
            break;
        case CL_POLICY_WHEN_PIN_VERIFIED:
            cond = verified;
            break;
        default:
            cond = true;
            break;
        }
        if (cond) {
            *why = reason;
            return r;
        }
    }
    return NULL;
}

/* The relay rules for one decoded command of len bytes, given the chain
 * in progress (chain: its CLA without b5 in chain_cla, INS in chain_ins). */
static int check_one(const struct cl_policy *cfg, bool verified, bool chain, uint8_t chain_cla,
                     uint8_t chain_ins, const uint8_t *apdu, size_t len, uint8_t *reason)
{
    struct cl_apdu a;
    size_t max, i;
    uint8_t why;

    if (cl_apdu_decode(apdu, len, &a, NULL) != CL_OK)
        return deny(reason, CL_POLICY_R_MALFORMED);
    max = cfg->max_apdu != 0 ? cfg->max_apdu : CL_APDU_MAX;
    if (len > max)
        return deny(reason, CL_POLICY_R_TOO_LARGE);
    if (a.cla == 0xFFu)
        return deny(reason, CL_POLICY_R_READER_CLA);
    if (chain && ((a.cla & (uint8_t)~0x10u) != chain_cla || a.ins != chain_ins))
        return deny(reason, CL_POLICY_R_CHAIN_INS);
    if (match(&cl_policy_iso, verified, &a, &why) != NULL)
        return deny(reason, why);
    if ((cfg->flags & CL_POLICY_F_CARDLINK) && match(&cl_policy_cardlink, verified, &a, &why))
        return deny(reason, why);
    for (i = 0; i < cfg->nextra; i++)
        if (match(&cfg->extra[i], verified, &a, &why) != NULL)
            return deny(reason, why);
    return CL_OK;
}

static int check_tables(const struct cl_policy *cfg)
{
    size_t i;

    if (cfg->nextra > 0 && cfg->extra == NULL)
        return CL_ERR_ARG;
    for (i = 0; i < cfg->nextra; i++)
        if (cfg->extra[i].n > 0 && cfg->extra[i].rules == NULL)
            return CL_ERR_ARG;
    return CL_OK;
}

/* The state rules every relayed command and template meets first. */
static int check_state(const struct cl_policy_state *st, uint8_t *reason)
{
    if (st->cleanup != CL_POLICY_CLEANUP_NONE)
        return deny(reason, CL_POLICY_R_CLEANUP);
    if (st->step != CL_POLICY_IDLE)
        return deny(reason, CL_POLICY_R_STATE);
    return CL_OK;
}

/* ------------------------------------------------------------ state */

/* see cardlink/policy.h */
void cl_policy_init(struct cl_policy_state *st)
{
    memset(st, 0, sizeof(*st));
    st->pin_ref = 0x80u;
}

/* see cardlink/policy.h */
void cl_policy_card_reset(struct cl_policy_state *st)
{
    cl_policy_init(st);
}

/* ------------------------------------------------------------ A: relay */

/* see cardlink/policy.h */
int cl_policy_check_apdu(const struct cl_policy *cfg, const struct cl_policy_state *st,
                         const uint8_t *apdu, size_t len, uint8_t *reason)
{
    struct cl_policy_state fresh;
    int rc;

    cl_policy_i_allow(reason);
    if (cfg == NULL)
        cfg = &no_cfg;
    if ((apdu == NULL && len > 0) || check_tables(cfg) != CL_OK)
        return CL_ERR_ARG;
    if (st == NULL) {
        cl_policy_init(&fresh);
        st = &fresh;
    }
    if ((rc = check_state(st, reason)) != CL_OK)
        return rc;
    return check_one(cfg, (st->flags & CL_POLICY_S_PIN_VERIFIED) != 0,
                     (st->flags & CL_POLICY_S_CHAIN) != 0, st->chain_cla, st->chain_ins, apdu,
                     len, reason);
}

/* see cardlink/policy.h */
int cl_policy_check_script(const struct cl_policy *cfg, const struct cl_policy_state *st,
                           const struct cl_relay_script *s, uint8_t *reason, size_t *step)
{
    struct cl_policy_state fresh;
    size_t i, max;
    bool chain;
    uint8_t ccla, cins;
    int rc;

    cl_policy_i_allow(reason);
    if (step != NULL)
        *step = CL_POLICY_NO_STEP;
    if (cfg == NULL)
        cfg = &no_cfg;
    if (s == NULL || check_tables(cfg) != CL_OK)
        return CL_ERR_ARG;
    for (i = 0; i < s->nsteps && i < CL_RELAY_SCRIPT_MAX; i++)
        if (s->steps[i].apdu.data == NULL && s->steps[i].apdu.len > 0)
            return CL_ERR_ARG;
    if (st == NULL) {
        cl_policy_init(&fresh);
        st = &fresh;
    }
    if ((rc = check_state(st, reason)) != CL_OK)
        return rc;
    max = cfg->max_steps != 0 && cfg->max_steps < CL_RELAY_SCRIPT_MAX ? cfg->max_steps
                                                                     : CL_RELAY_SCRIPT_MAX;
    if (s->nsteps == 0)
        return deny(reason, CL_POLICY_R_MALFORMED);
    if (s->nsteps > max)
        return deny(reason, CL_POLICY_R_SCRIPT_STEPS);
    chain = (st->flags & CL_POLICY_S_CHAIN) != 0;
    ccla = st->chain_cla;
    cins = st->chain_ins;
    for (i = 0; i < s->nsteps; i++) {
        const struct cl_relay_bytes *b = &s->steps[i].apdu;
        if ((rc = check_one(cfg, (st->flags & CL_POLICY_S_PIN_VERIFIED) != 0, chain, ccla, cins,
                            b->data, b->len, reason)) != CL_OK) {
            if (step != NULL)
                *step = i;
            return rc;
        }
        /* allowed, so well-formed: the next step continues its chain */
        chain = chained(b->data[0]);
        ccla = (uint8_t)(b->data[0] & ~0x10u);
        cins = b->data[1];
    }
    return CL_OK;
}

/* see cardlink/policy.h */
void cl_policy_relayed(struct cl_policy_state *st, const uint8_t *apdu, size_t len, uint16_t sw)
{
    struct cl_apdu a;

    if (cl_apdu_decode(apdu, len, &a, NULL) != CL_OK)
        return;
    if (chained(a.cla) && a.cla != 0xFFu && sw_ok(sw)) {
        st->flags |= CL_POLICY_S_CHAIN;
        st->chain_cla = (uint8_t)(a.cla & ~0x10u);
        st->chain_ins = a.ins;
    } else {
        st->flags &= (uint8_t)~CL_POLICY_S_CHAIN;
        st->chain_cla = 0;
        st->chain_ins = 0;
    }
}

/* ------------------------------------------------------------ D: templates */

/* Mark [off, off+n) in the coverage map; false when it leaves the data or
 * overlaps a region marked before. */
static bool cover(uint8_t *map, size_t nc, unsigned off, unsigned n)
{
    unsigned i;

    if ((size_t)off + n > nc)
        return false;
    for (i = off; i < off + n; i++) {
        if (map[i])
            return false;
        map[i] = 1;
    }
    return true;
}

/* Whether the region at data[off..) holds filler only. */
static bool filler(const uint8_t *d, unsigned off, unsigned n, uint8_t enc)
{
    unsigned i;

    for (i = 0; i < n; i++) {
        uint8_t b = d[off + i];
        if (i == 0 && enc == CL_RELAY_PIN_ISO9564_2) {
            if ((b & 0xF0u) != 0x20u)
                return false;
        } else if (b != 0xFFu) {
            return false;
        }
    }
    return true;
}

/* The template rules without the state. */
static int template_rules(const struct cl_relay_pin *p, bool change, uint8_t *reason)
{
    uint8_t map[255];
    struct cl_apdu a;
    enum cl_apdu_case c;
    unsigned region;
    size_t i;

    if (cl_apdu_decode(p->apdu.data, p->apdu.len, &a, &c) != CL_OK ||
        (c != CL_APDU_CASE_3S && c != CL_APDU_CASE_4S) || a.cla != 0x00u ||
        a.ins != (change ? 0x24u : 0x20u) || a.p1 != 0x00u)
        return deny(reason, CL_POLICY_R_TEMPLATE_HEADER);
    if (p->min_len < 4 || p->min_len > p->max_len || p->max_len > 12)
        return deny(reason, CL_POLICY_R_TEMPLATE_LEN);
    switch (p->encoding) {
    case CL_RELAY_PIN_BCD:
        region = (p->max_len + 1u) / 2u;
        break;
    case CL_RELAY_PIN_ASCII:
        region = p->max_len;
        break;
    case CL_RELAY_PIN_ISO9564_2:
        region = 8;
        break;
    default:
        return deny(reason, CL_POLICY_R_TEMPLATE_DATA);
    }
    memset(map, 0, sizeof(map));
    if (change ? p->new_offset == CL_RELAY_NONE : p->offset == CL_RELAY_NONE)
        return deny(reason, CL_POLICY_R_TEMPLATE_DATA);
    if (p->offset != CL_RELAY_NONE &&
        (!cover(map, a.nc, p->offset, region) || !filler(a.data, p->offset, region, p->encoding)))
        return deny(reason, CL_POLICY_R_TEMPLATE_DATA);
    if (change && (!cover(map, a.nc, p->new_offset, region) ||
                   !filler(a.data, p->new_offset, region, p->encoding)))
        return deny(reason, CL_POLICY_R_TEMPLATE_DATA);
    if (p->len_offset != CL_RELAY_NONE && !cover(map, a.nc, p->len_offset, 1))
        return deny(reason, CL_POLICY_R_TEMPLATE_DATA);
    for (i = 0; i < a.nc; i++)
        if (!map[i])
            return deny(reason, CL_POLICY_R_TEMPLATE_DATA);
    return CL_OK;
}

/* see cardlink/policy.h */
int cl_policy_check_template(const struct cl_policy *cfg, const struct cl_policy_state *st,
                             const struct cl_relay_pin *p, bool change, uint8_t *reason)
{
    int rc;

    (void)cfg;
    cl_policy_i_allow(reason);
    if (p == NULL || (p->apdu.data == NULL && p->apdu.len > 0))
        return CL_ERR_ARG;
    if (st != NULL) {
        if ((rc = check_state(st, reason)) != CL_OK)
            return rc;
        if (st->flags & CL_POLICY_S_CHAIN)
            return deny(reason, CL_POLICY_R_CHAIN_INS);
    }
    return template_rules(p, change, reason);
}

/* see cardlink/policy.h */
void cl_policy_pin_result(struct cl_policy_state *st, uint8_t p2, uint16_t sw)
{
    if (sw == 0x9000u) {
        st->flags |= CL_POLICY_S_PIN_VERIFIED;
        st->pin_ref = p2;
    }
}

/* ------------------------------------------------------------ B: approvals */

static bool needs_amount(uint8_t kind)
{
    return kind == CL_TXN_PURCHASE || kind == CL_TXN_EMONEY_LOAD ||
           kind == CL_TXN_EGOODS_LOAD || kind == CL_POLICY_KIND_PURSE;
}

/* Whether h is one of the exact signing headers this configuration knows. */
static bool known_header(const struct cl_policy *cfg, const uint8_t h[4])
{
    return memcmp(h, hdr_pso, 4) == 0 || memcmp(h, hdr_ia, 4) == 0 ||
           ((cfg->flags & CL_POLICY_F_CARDLINK) && memcmp(h, hdr_debit, 4) == 0);
}

/* see cardlink/policy.h */
int cl_policy_check_txn(const struct cl_policy *cfg, const struct cl_txn *txn,
                        const uint8_t sign_cmd[4], uint8_t *reason)
{
    bool debit;

    cl_policy_i_allow(reason);
    if (txn == NULL || sign_cmd == NULL)
        return CL_ERR_ARG;
    if (cfg == NULL)
        cfg = &no_cfg;
    debit = memcmp(sign_cmd, hdr_debit, 4) == 0;
    if (!known_header(cfg, sign_cmd) || debit != (txn->kind == CL_POLICY_KIND_PURSE))
        return deny(reason, CL_POLICY_R_SIGN_CMD);
    if (needs_amount(txn->kind) && (!txn->has_amount || txn->amount == 0))
        return deny(reason, CL_POLICY_R_AMOUNT);
    if (txn->kind == CL_POLICY_KIND_PURSE && txn->amount > 0xFFFFFFFFu)
        return deny(reason, CL_POLICY_R_AMOUNT);
    return cl_policy_check_txn_text(txn, reason);
}

/* The TXN-APPROVE rules that need no decoded transaction. */
static int approve_msg(const struct cl_policy *cfg, const struct cl_policy_state *st,
                       const struct cl_relay_txn_approve *m, uint8_t *reason)
{
    int rc;

    if ((rc = check_state(st, reason)) != CL_OK)
        return rc;
    if (st->flags & CL_POLICY_S_CHAIN)
        return deny(reason, CL_POLICY_R_CHAIN_INS);
    if (!known_header(cfg, m->sign_cmd))
        return deny(reason, CL_POLICY_R_SIGN_CMD);
    if (m->has_pin)
        return template_rules(&m->pin, false, reason);
    return CL_OK;
}

/* see cardlink/policy.h */
int cl_policy_approve_start(const struct cl_policy *cfg, struct cl_policy_state *st,
                            const struct cl_relay_txn_approve *m, const struct cl_txn *txn,
                            unsigned pages, uint8_t *reason)
{
    int rc;

    cl_policy_i_allow(reason);
    if (st == NULL || m == NULL || txn == NULL || m->txn_id == NULL || pages == 0 ||
        pages > 0xFFFFu || (m->has_pin && m->pin.apdu.data == NULL && m->pin.apdu.len > 0))
        return CL_ERR_ARG;
    if (cfg == NULL)
        cfg = &no_cfg;
    if ((rc = approve_msg(cfg, st, m, reason)) != CL_OK)
        return rc;
    if (memcmp(txn->id, m->txn_id, CL_TXN_ID_LEN) != 0)
        return deny(reason, CL_POLICY_R_TXN_ID);
    if ((rc = cl_policy_check_txn(cfg, txn, m->sign_cmd, reason)) != CL_OK)
        return rc;
    st->step = CL_POLICY_SHOWING;
    st->kind = txn->kind;
    st->digest_len = m->digest == CL_RELAY_DIGEST_SHA384 ? 48u : 32u;
    memcpy(st->sign_cmd, m->sign_cmd, 4);
    memcpy(st->txn_id, txn->id, CL_TXN_ID_LEN);
    st->pages = (uint16_t)pages;
    st->seen = 0;
    return CL_OK;
}

/* see cardlink/policy.h */
void cl_policy_page_shown(struct cl_policy_state *st, unsigned page)
{
    if (st->step == CL_POLICY_SHOWING && page == st->seen && st->seen < st->pages)
        st->seen++;
}

/* see cardlink/policy.h */
int cl_policy_confirm(struct cl_policy_state *st, uint8_t *reason)
{
    cl_policy_i_allow(reason);
    if (st == NULL)
        return CL_ERR_ARG;
    if (st->step != CL_POLICY_SHOWING)
        return deny(reason, CL_POLICY_R_STATE);
    if (st->seen < st->pages)
        return deny(reason, CL_POLICY_R_NOT_SEEN);
    st->step = CL_POLICY_CONFIRMED;
    return CL_OK;
}

/* see cardlink/policy.h */
int cl_policy_build_sign(struct cl_policy_state *st, const uint8_t *digest, size_t dlen,
                         uint8_t *out, size_t size, size_t *len)
{
    if (len != NULL)
        *len = 0;
    if (st == NULL || digest == NULL || out == NULL || len == NULL)
        return CL_ERR_ARG;
    if (st->step != CL_POLICY_CONFIRMED || memcmp(st->sign_cmd, hdr_debit, 4) == 0)
        return CL_ERR_STATE;
    if (dlen != st->digest_len)
        return CL_ERR_ARG;
    if (size < 6 + dlen)
        return CL_ERR_BUFFER;
    memcpy(out, st->sign_cmd, 4);
    out[4] = (uint8_t)dlen;
    memcpy(out + 5, digest, dlen);
    out[5 + dlen] = 0x00;
    *len = 6 + dlen;
    st->step = CL_POLICY_SIGNING;
    return CL_OK;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* see cardlink/policy.h */
int cl_policy_build_debit(struct cl_policy_state *st, const struct cl_txn *txn,
                          const uint8_t *balance, size_t blen, uint8_t *out, size_t size,
                          size_t *len, uint8_t *reason)
{
    char payee[17];
    size_t n;

    cl_policy_i_allow(reason);
    if (len != NULL)
        *len = 0;
    if (st == NULL || txn == NULL || balance == NULL || out == NULL || len == NULL)
        return CL_ERR_ARG;
    if (st->step != CL_POLICY_CONFIRMED || memcmp(st->sign_cmd, hdr_debit, 4) != 0 ||
        txn->kind != st->kind || memcmp(txn->id, st->txn_id, CL_TXN_ID_LEN) != 0)
        return CL_ERR_STATE;
    if (blen != 20 || balance[18] != 0x90u || balance[19] != 0x00u || !txn->has_amount ||
        txn->amount == 0 || txn->amount > 0xFFFFFFFFu ||
        (((unsigned)balance[4] << 8) | balance[5]) != txn->currency)
        return deny(reason, CL_POLICY_R_PURSE);
    if (size < CL_POLICY_DEBIT_LEN)
        return CL_ERR_BUFFER;
    memcpy(out, hdr_debit, 4);
    out[4] = 0x28;
    put32(out + 5, (uint32_t)txn->amount);
    memcpy(out + 9, balance + 6, 4);              /* the card's counter */
    memcpy(out + 13, txn->id, CL_TXN_ID_LEN);
    memset(out + 29, 0, 16);
    n = cl_policy_i_display(txn->merchant, sizeof(txn->merchant), payee, sizeof(payee));
    memcpy(out + 29, payee, n);
    out[45] = 0x00;
    *len = CL_POLICY_DEBIT_LEN;
    st->step = CL_POLICY_SIGNING;
    return CL_OK;
}

static uint8_t cleanup_kind(const struct cl_policy *cfg)
{
    return (cfg->flags & (CL_POLICY_F_CARDLINK | CL_POLICY_F_PIN_RESET))
               ? (uint8_t)CL_POLICY_CLEANUP_PIN_RESET
               : (uint8_t)CL_POLICY_CLEANUP_CARD_RESET;
}

static void end_approval(struct cl_policy_state *st)
{
    st->step = CL_POLICY_IDLE;
    st->kind = 0;
    st->digest_len = 0;
    memset(st->sign_cmd, 0, sizeof(st->sign_cmd));
    memset(st->txn_id, 0, sizeof(st->txn_id));
    st->pages = 0;
    st->seen = 0;
}

/* see cardlink/policy.h */
uint8_t cl_policy_approve_abort(const struct cl_policy *cfg, struct cl_policy_state *st)
{
    if (cfg == NULL)
        cfg = &no_cfg;
    if (st->step != CL_POLICY_IDLE &&
        ((st->flags & CL_POLICY_S_PIN_VERIFIED) || st->step == CL_POLICY_SIGNING))
        st->cleanup = cleanup_kind(cfg);
    end_approval(st);
    return st->cleanup;
}

/* see cardlink/policy.h */
uint8_t cl_policy_sign_result(const struct cl_policy *cfg, struct cl_policy_state *st,
                              uint16_t sw)
{
    if (cfg == NULL)
        cfg = &no_cfg;
    if (st->step != CL_POLICY_SIGNING)
        return st->cleanup;
    if (sw != 0x9000u)
        return cl_policy_approve_abort(cfg, st);
    if (cfg->flags & CL_POLICY_F_CARDLINK)
        st->flags &= (uint8_t)~CL_POLICY_S_PIN_VERIFIED;   /* used up by PSO / DEBIT */
    if ((cfg->flags & CL_POLICY_F_CLEANUP_ALWAYS) && (st->flags & CL_POLICY_S_PIN_VERIFIED))
        st->cleanup = cleanup_kind(cfg);
    end_approval(st);
    return st->cleanup;
}

/* see cardlink/policy.h */
uint8_t cl_policy_cleanup(const struct cl_policy_state *st)
{
    return st->cleanup;
}

/* see cardlink/policy.h */
int cl_policy_build_cleanup(const struct cl_policy_state *st, uint8_t *out, size_t size,
                            size_t *len)
{
    if (len != NULL)
        *len = 0;
    if (st == NULL || out == NULL || len == NULL)
        return CL_ERR_ARG;
    if (st->cleanup != CL_POLICY_CLEANUP_PIN_RESET)
        return CL_ERR_STATE;
    if (size < 4)
        return CL_ERR_BUFFER;
    out[0] = 0x00;
    out[1] = 0x20;
    out[2] = 0xFF;
    out[3] = st->pin_ref;
    *len = 4;
    return CL_OK;
}

/* see cardlink/policy.h */
void cl_policy_cleanup_done(struct cl_policy_state *st, uint16_t sw)
{
    if (st->cleanup != CL_POLICY_CLEANUP_PIN_RESET)
        return;
    if (sw == 0x9000u) {
        st->cleanup = CL_POLICY_CLEANUP_NONE;
        st->flags = 0;
        st->chain_cla = 0;
        st->chain_ins = 0;
    } else {
        st->cleanup = CL_POLICY_CLEANUP_CARD_RESET;
    }
}

/* ------------------------------------------------------------ G: messages */

/* see cardlink/policy.h */
int cl_policy_check_msg(const struct cl_policy *cfg, const struct cl_policy_state *st,
                        const struct cl_relay_msg *m, size_t wire_len, uint8_t *reason,
                        size_t *step)
{
    struct cl_policy_state fresh;

    cl_policy_i_allow(reason);
    if (step != NULL)
        *step = CL_POLICY_NO_STEP;
    if (m == NULL)
        return CL_ERR_ARG;
    if (cfg == NULL)
        cfg = &no_cfg;
    if (st == NULL) {
        cl_policy_init(&fresh);
        st = &fresh;
    }
    if (cfg->max_msg != 0 && wire_len > cfg->max_msg)
        return deny(reason, CL_POLICY_R_MSG_SIZE);
    switch (m->type) {
    case CL_RELAY_APDU:
        return cl_policy_check_apdu(cfg, st, m->u.apdu.apdu.data, m->u.apdu.apdu.len, reason);
    case CL_RELAY_SCRIPT:
        return cl_policy_check_script(cfg, st, &m->u.script, reason, step);
    case CL_RELAY_PIN_VERIFY:
    case CL_RELAY_PIN_CHANGE:
        return cl_policy_check_template(cfg, st, &m->u.pin, m->type == CL_RELAY_PIN_CHANGE,
                                        reason);
    case CL_RELAY_DISPLAY:
        return cl_policy_check_text(m->u.display.text.data, m->u.display.text.len, reason);
    case CL_RELAY_PROMPT:
        return cl_policy_check_prompt(cfg, &m->u.prompt, reason);
    case CL_RELAY_TXN_APPROVE:
        if (m->u.txn.has_pin && m->u.txn.pin.apdu.data == NULL && m->u.txn.pin.apdu.len > 0)
            return CL_ERR_ARG;
        return approve_msg(cfg, st, &m->u.txn, reason);
    default:
        return CL_OK;
    }
}

/* ------------------------------------------------------------ G: reasons */

/* see cardlink/policy.h */
uint8_t cl_policy_wire_code(uint8_t reason)
{
    switch (reason) {
    case CL_POLICY_ALLOWED:
        return CL_RELAY_E_NONE;
    case CL_POLICY_R_TOO_LARGE:
    case CL_POLICY_R_SCRIPT_STEPS:
    case CL_POLICY_R_MSG_SIZE:
        return CL_RELAY_E_TOO_LARGE;
    case CL_POLICY_R_TXN_ID:
        return CL_RELAY_E_MALFORMED;
    default:
        return CL_RELAY_E_DENIED;
    }
}

/* see cardlink/policy.h */
const char *cl_policy_reason_name(uint8_t reason)
{
    switch (reason) {
    case CL_POLICY_ALLOWED: return "allowed";
    case CL_POLICY_R_MALFORMED: return "malformed APDU";
    case CL_POLICY_R_TOO_LARGE: return "APDU too large";
    case CL_POLICY_R_SCRIPT_STEPS: return "too many script steps";
    case CL_POLICY_R_MSG_SIZE: return "message too large";
    case CL_POLICY_R_READER_CLA: return "reader CLA FF";
    case CL_POLICY_R_PIN: return "PIN handling";
    case CL_POLICY_R_CHAIN_PIN: return "chained PIN or signing command";
    case CL_POLICY_R_CHAIN_INS: return "chain in progress";
    case CL_POLICY_R_TUNNEL: return "ENVELOPE tunnel";
    case CL_POLICY_R_SIGN: return "signing or authentication";
    case CL_POLICY_R_VALUE: return "value or e-goods outside an approval";
    case CL_POLICY_R_CLEANUP: return "PIN state cleanup pending";
    case CL_POLICY_R_STATE: return "not in this state";
    case CL_POLICY_R_USER: return "integrator rule";
    case CL_POLICY_R_SIGN_CMD: return "signing command not the kind's";
    case CL_POLICY_R_AMOUNT: return "zero or missing amount";
    case CL_POLICY_R_TXN_ID: return "transaction id mismatch";
    case CL_POLICY_R_NOT_SEEN: return "not every page shown";
    case CL_POLICY_R_PURSE: return "purse does not match";
    case CL_POLICY_R_TEMPLATE_HEADER: return "PIN template header";
    case CL_POLICY_R_TEMPLATE_LEN: return "PIN template length";
    case CL_POLICY_R_TEMPLATE_DATA: return "PIN template data";
    case CL_POLICY_R_TEXT: return "server text byte";
    case CL_POLICY_R_PIN_PROMPT: return "prompt like PIN entry";
    case CL_POLICY_R_AMOUNT_TEXT: return "text reads like an amount";
    default: return "?";
    }
}
