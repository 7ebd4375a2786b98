/*
 * cardlink — lib/server: the server context's snapshot (cl_server_save /
 * cl_server_restore) and its life in the session store: saved while a
 * money-moving request is outstanding, found again by the resume token of
 * a device whose session this process does not hold (a restart, another
 * node), dropped when the session ends (docs/server.md, "Session store").
 * SPDX-License-Identifier: Apache-2.0
 *
 * Format (version 2, big-endian; every field checked on restore):
 *
 *   "CLSV" 02
 *   flow step tries role flags(bit 0 has_pin, 1 cheap, 2 have_balance,
 *                              3 gate: an authorisation is held)
 *   device_id_len(1) device_id          0..32
 *   sw(2) balance(4) counter(4) currency(2) serial(8) challenge(16)
 *   account_len(1) account              0..32 (the ledger account)
 *   egoods_len(1) egoods                0, or 16..64 for e-goods
 *   pin: 9 bytes (encoding min max offset len_offset timeout msg_index
 *        new_offset confirm) apdu_len(1) apdu   (only with has_pin)
 *   leaf_len(2) leaf issuer_len(2) issuer     0..CL_SERVER_CERT_MAX each
 *   apdu_len(2) apdu                    0..CL_SERVER_APDU_MAX
 *   gate (only with flag 3): action(2) not_before(4) not_after(4)
 *        nonce(16) sig_len(1) sig       action 1..65535, 0 < not_after -
 *                                       not_before <= 3630, sig 8..72
 *   txn: purchase, authentication, purse payment: len(2) and its canonical
 *        encoding (cl_txn_encode); load and e-goods: id(16) amount(8)
 *        currency(2); relay, gate: id(16); none: nothing
 *   relay_len(2) relay snapshot (cl_relay_session_save)
 *
 * Flow and step go together: none/idle; relay/RELAY; purchase and purse
 * payment READ, APPROVE; authentication READ, APPROVE, NOTICE (sw 63C1..
 * 63CF), BLOCK_CHAL and BLOCK (sw 63Cx or 6983; BLOCK: apdu the 80 1E
 * command, Lc 8..72, the purse read); load and e-goods READ, CARDCMD;
 * gate GATE (flag 3, a device id). tries: 0 at READ, CARDCMD, RELAY and
 * GATE, 1 at a purchase's or purse payment's APPROVE, 1..255 in the
 * authentication's later steps (NOTICE 1..254); role CARD_SIGN for a
 * purchase, CARD_AUTH for the other card flows, either for the gate, and
 * also 0 when no flow runs.
 *
 * Version 1 (flows up to e-goods, steps up to CARDCMD, no flag 3) is the
 * same layout without the gate parts: it is still read (the same checks)
 * and saved again as version 2.
 */
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/wipe.h"
#include "server_int.h"

#define SNAP_VERSION 2u
#define SNAP_VERSION_V1 1u
#define F_PIN 0x01u
#define F_CHEAP 0x02u
#define F_BALANCE 0x04u
#define F_GATE 0x08u                 /* version 2 */
#define GATE_PART (2u + 4u + 4u + CL_RELAY_GATE_NONCE_LEN + 1u)
#define GATE_WINDOW_MAX (30u + 3600u)   /* server_gate.c: now - 30 .. now + 3600 */
#define BLOCK_SIG_MIN 8u
#define BLOCK_SIG_MAX 72u            /* server_flows.c's on_block_chal */

static bool txn_encoded(uint8_t flow)
{
    return flow == CL_SERVER_FLOW_PURCHASE || flow == CL_SERVER_FLOW_AUTH ||
           flow == CL_SERVER_FLOW_PURSE;
}

static uint8_t txn_kind(uint8_t flow)
{
    switch (flow) {
    case CL_SERVER_FLOW_PURCHASE: return CL_TXN_PURCHASE;
    case CL_SERVER_FLOW_AUTH: return CL_TXN_AUTHENTICATION;
    case CL_SERVER_FLOW_PURSE: return CL_TXN_PURSE_PAYMENT;
    case CL_SERVER_FLOW_LOAD: return CL_TXN_EMONEY_LOAD;
    default: return CL_TXN_EGOODS_LOAD;
    }
}

/* A bounded writer: o past size means "too small", the bytes not written. */
struct out {
    uint8_t *b;
    size_t size, o;
};

static void w_bytes(struct out *w, const uint8_t *p, size_t n)
{
    if (w->o <= w->size && n <= w->size - w->o && n > 0)
        memcpy(w->b + w->o, p, n);
    w->o += n;
}

static void w_u(struct out *w, uint64_t v, unsigned n)
{
    uint8_t t[8];
    unsigned i;

    for (i = 0; i < n; i++)
        t[i] = (uint8_t)(v >> (8u * (n - 1u - i)));
    w_bytes(w, t, n);
}

/* see cardlink/server.h */
int cl_server_save(const struct cl_server *s, uint8_t *buf, size_t size, size_t *len)
{
    uint8_t enc[CL_TXN_ENCODED_MAX];
    struct out w;
    size_t rlen = 0, elen = 0;
    uint8_t flags;
    int r;

    if (len != NULL)
        *len = 0;
    if (s == NULL || len == NULL || s->cfg == NULL || (buf == NULL && size > 0))
        return CL_ERR_ARG;
    r = cl_relay_session_save(&s->rs, NULL, 0, &rlen);
    if (r != CL_ERR_BUFFER)
        return r == CL_OK ? CL_ERR_INTERNAL : r;
    if (txn_encoded(s->flow) && (r = cl_txn_encode(&s->txn, enc, sizeof(enc), &elen)) != CL_OK)
        return r;
    w.b = buf;
    w.size = size;
    w.o = 0;
    w_bytes(&w, (const uint8_t *)"CLSV", 4);
    w_u(&w, SNAP_VERSION, 1);
    w_u(&w, s->flow, 1);
    w_u(&w, s->flow == CL_SERVER_FLOW_NONE ? 0u : s->step, 1);
    w_u(&w, s->tries, 1);
    w_u(&w, s->role, 1);
    flags = (uint8_t)((s->has_pin ? F_PIN : 0u) | (s->cheap ? F_CHEAP : 0u) |
                      (s->have_balance ? F_BALANCE : 0u) | (s->gate.have ? F_GATE : 0u));
    w_u(&w, flags, 1);
    w_u(&w, s->device_id_len, 1);
    w_bytes(&w, s->device_id, s->device_id_len);
    w_u(&w, s->sw, 2);
    w_u(&w, s->balance, 4);
    w_u(&w, s->counter, 4);
    w_u(&w, s->currency, 2);
    w_bytes(&w, s->serial, sizeof(s->serial));
    w_bytes(&w, s->challenge, sizeof(s->challenge));
    w_u(&w, s->res.account_len, 1);
    w_bytes(&w, s->res.account, s->res.account_len);
    w_u(&w, s->egoods_len, 1);
    w_bytes(&w, s->egoods, s->egoods_len);
    if (s->has_pin) {
        const struct cl_relay_pin *p = &s->pin;
        uint8_t t[9] = {p->encoding, p->min_len,   p->max_len,    p->offset, p->len_offset,
                        p->timeout,  p->msg_index, p->new_offset, p->confirm};
        w_bytes(&w, t, sizeof(t));
        w_u(&w, p->apdu.len, 1);
        w_bytes(&w, s->pin_apdu, p->apdu.len);
    }
    w_u(&w, s->leaf_len, 2);
    w_bytes(&w, s->leaf, s->leaf_len);
    w_u(&w, s->issuer_len, 2);
    w_bytes(&w, s->issuer, s->issuer_len);
    w_u(&w, s->apdu_len, 2);
    w_bytes(&w, s->apdu, s->apdu_len);
    if (s->gate.have) {
        w_u(&w, s->gate.action, 2);
        w_u(&w, s->gate.not_before, 4);
        w_u(&w, s->gate.not_after, 4);
        w_bytes(&w, s->gate.nonce, sizeof(s->gate.nonce));
        w_u(&w, s->gate.sig_len, 1);
        w_bytes(&w, s->gate.sig, s->gate.sig_len);
    }
    if (txn_encoded(s->flow)) {
        w_u(&w, elen, 2);
        w_bytes(&w, enc, elen);
    } else if (s->flow == CL_SERVER_FLOW_LOAD || s->flow == CL_SERVER_FLOW_EGOODS) {
        w_bytes(&w, s->txn.id, CL_TXN_ID_LEN);
        w_u(&w, s->txn.amount, 8);
        w_u(&w, s->txn.currency, 2);
    } else if (s->flow == CL_SERVER_FLOW_RELAY || s->flow == CL_SERVER_FLOW_GATE) {
        w_bytes(&w, s->txn.id, CL_TXN_ID_LEN);
    }
    w_u(&w, rlen, 2);
    *len = w.o + rlen;
    if (w.o > size || rlen > size - w.o)
        return CL_ERR_BUFFER;
    r = cl_relay_session_save(&s->rs, buf + w.o, size - w.o, &rlen);
    cl_wipe(enc, sizeof(enc));
    return r;
}

/* A bounded reader: fails (ok false) instead of reading past the end. */
struct in {
    const uint8_t *b;
    size_t len, o;
    bool ok;
};

static const uint8_t *r_bytes(struct in *r, size_t n)
{
    const uint8_t *p;

    if (!r->ok || n > r->len - r->o) {
        r->ok = false;
        return NULL;
    }
    p = r->b + r->o;
    r->o += n;
    return p;
}

static uint64_t r_u(struct in *r, unsigned n)
{
    const uint8_t *p = r_bytes(r, n);
    uint64_t v = 0;
    unsigned i;

    for (i = 0; p != NULL && i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Whether step is one the flow waits in (the pairs above). */
static bool step_ok(uint8_t flow, uint8_t step)
{
    switch (flow) {
    case CL_SERVER_FLOW_NONE: return step == CL_SRV_ST_IDLE;
    case CL_SERVER_FLOW_RELAY: return step == CL_SRV_ST_RELAY;
    case CL_SERVER_FLOW_PURCHASE:
    case CL_SERVER_FLOW_PURSE: return step == CL_SRV_ST_READ || step == CL_SRV_ST_APPROVE;
    case CL_SERVER_FLOW_AUTH:
        return step == CL_SRV_ST_READ || step == CL_SRV_ST_APPROVE || step == CL_SRV_ST_NOTICE ||
               step == CL_SRV_ST_BLOCK_CHAL || step == CL_SRV_ST_BLOCK;
    case CL_SERVER_FLOW_LOAD:
    case CL_SERVER_FLOW_EGOODS: return step == CL_SRV_ST_READ || step == CL_SRV_ST_CARDCMD;
    case CL_SERVER_FLOW_GATE: return step == CL_SRV_ST_GATE;
    default: return false;
    }
}

/* The attempts count the flow can be in at step. */
static bool tries_ok(uint8_t flow, uint8_t step, uint8_t tries)
{
    switch (step) {
    case CL_SRV_ST_IDLE: return true;   /* the last flow's, kept */
    case CL_SRV_ST_APPROVE: return flow == CL_SERVER_FLOW_AUTH ? tries >= 1 : tries == 1;
    case CL_SRV_ST_NOTICE: return tries >= 1 && tries < 255;   /* the retry adds one */
    case CL_SRV_ST_BLOCK_CHAL:
    case CL_SRV_ST_BLOCK: return tries >= 1;
    default: return tries == 0;
    }
}

static bool role_ok(uint8_t flow, uint8_t role)
{
    switch (flow) {
    case CL_SERVER_FLOW_NONE:
        return role == 0 || role == CL_CERT_ROLE_CARD_SIGN || role == CL_CERT_ROLE_CARD_AUTH;
    case CL_SERVER_FLOW_PURCHASE: return role == CL_CERT_ROLE_CARD_SIGN;
    case CL_SERVER_FLOW_RELAY:
    case CL_SERVER_FLOW_GATE:
        return role == CL_CERT_ROLE_CARD_SIGN || role == CL_CERT_ROLE_CARD_AUTH;
    default: return role == CL_CERT_ROLE_CARD_AUTH;
    }
}

/* A PIN failure the authentication's failure policy blocks on. */
static bool sw_blocks(uint16_t sw)
{
    return (sw & 0xFFF0u) == 0x63C0u || sw == 0x6983u;
}

/* Read (and check) the server part into d (NULL: check only); t receives
 * the decoded transaction. Returns CL_OK or CL_ERR_MALFORMED; *relay,
 * *relay_len the relay snapshot. */
static int parse(const uint8_t *buf, size_t len, struct cl_server *d, struct cl_txn *t,
                 const uint8_t **relay, size_t *relay_len)
{
    struct in r = {buf, len, 0, true};
    const uint8_t *p;
    uint8_t flow, step, tries, role, flags, n, version;
    uint16_t sw;
    size_t i;

    p = r_bytes(&r, 5);
    if (p == NULL || memcmp(p, "CLSV", 4) != 0 ||
        (p[4] != SNAP_VERSION && p[4] != SNAP_VERSION_V1))
        return CL_ERR_MALFORMED;
    version = p[4];
    flow = (uint8_t)r_u(&r, 1);
    step = (uint8_t)r_u(&r, 1);
    tries = (uint8_t)r_u(&r, 1);
    role = (uint8_t)r_u(&r, 1);
    flags = (uint8_t)r_u(&r, 1);
    if (!r.ok || flow > (version == SNAP_VERSION_V1 ? CL_SERVER_FLOW_EGOODS : CL_SERVER_FLOW_GATE) ||
        !step_ok(flow, step) || !tries_ok(flow, step, tries) || !role_ok(flow, role) ||
        (flags & ~(F_PIN | F_CHEAP | F_BALANCE | (version == SNAP_VERSION_V1 ? 0u : F_GATE))) !=
            0 ||
        (flow == CL_SERVER_FLOW_GATE && (flags & F_GATE) == 0) ||
        (step == CL_SRV_ST_BLOCK && (flags & F_BALANCE) == 0))
        return CL_ERR_MALFORMED;
    memset(t, 0, sizeof(*t));
    if (d != NULL) {
        d->flow = flow;
        d->step = step;
        d->tries = tries;
        d->role = role;
        d->has_pin = (flags & F_PIN) != 0;
        d->cheap = (flags & F_CHEAP) != 0;
        d->have_balance = (flags & F_BALANCE) != 0;
    }
    n = (uint8_t)r_u(&r, 1);
    if (n > CL_LEDGER_DEVICE_ID_MAX || (flow == CL_SERVER_FLOW_GATE && n == 0) ||
        (p = r_bytes(&r, n)) == NULL)
        return CL_ERR_MALFORMED;
    sw = (uint16_t)r_u(&r, 2);
    if ((step == CL_SRV_ST_NOTICE && (sw < 0x63C1u || sw > 0x63CFu)) ||
        ((step == CL_SRV_ST_BLOCK_CHAL || step == CL_SRV_ST_BLOCK) && !sw_blocks(sw)))
        return CL_ERR_MALFORMED;
    if (d != NULL) {
        memcpy(d->device_id, p, n);
        d->device_id_len = n;
        d->sw = sw;
        d->balance = (uint32_t)r_u(&r, 4);
        d->counter = (uint32_t)r_u(&r, 4);
        d->currency = (uint16_t)r_u(&r, 2);
    } else {
        (void)r_bytes(&r, 10);
    }
    if ((p = r_bytes(&r, CL_SERVER_SERIAL_LEN + CL_SERVER_CHALLENGE_LEN)) == NULL)
        return CL_ERR_MALFORMED;
    if (d != NULL) {
        memcpy(d->serial, p, CL_SERVER_SERIAL_LEN);
        memcpy(d->challenge, p + CL_SERVER_SERIAL_LEN, CL_SERVER_CHALLENGE_LEN);
    }
    n = (uint8_t)r_u(&r, 1);
    if (n > CL_LEDGER_ACCOUNT_MAX || (p = r_bytes(&r, n)) == NULL)
        return CL_ERR_MALFORMED;
    if (d != NULL) {
        memcpy(d->res.account, p, n);
        d->res.account_len = n;
    }
    n = (uint8_t)r_u(&r, 1);
    if ((flow == CL_SERVER_FLOW_EGOODS ? n < CL_SERVER_EGOODS_MIN || n > CL_SERVER_EGOODS_MAX
                                       : n != 0) ||
        (p = r_bytes(&r, n)) == NULL)
        return CL_ERR_MALFORMED;
    if (d != NULL) {
        memcpy(d->egoods, p, n);
        d->egoods_len = n;
    }
    if ((flags & F_PIN) != 0) {
        const uint8_t *q = r_bytes(&r, 9);
        n = (uint8_t)r_u(&r, 1);
        if (q == NULL || n == 0 || n > sizeof(d->pin_apdu) || (p = r_bytes(&r, n)) == NULL)
            return CL_ERR_MALFORMED;
        if (d != NULL) {
            memset(&d->pin, 0, sizeof(d->pin));
            d->pin.encoding = q[0];
            d->pin.min_len = q[1];
            d->pin.max_len = q[2];
            d->pin.offset = q[3];
            d->pin.len_offset = q[4];
            d->pin.timeout = q[5];
            d->pin.msg_index = q[6];
            d->pin.new_offset = q[7];
            d->pin.confirm = q[8];
            memcpy(d->pin_apdu, p, n);
            d->pin.apdu.data = d->pin_apdu;
            d->pin.apdu.len = n;
        }
    }
    for (i = 0; i < 3; i++) {
        static const size_t max[3] = {CL_SERVER_CERT_MAX, CL_SERVER_CERT_MAX,
                                      CL_SERVER_APDU_MAX};
        size_t k = (size_t)r_u(&r, 2);
        if (k > max[i] || (p = r_bytes(&r, k)) == NULL)
            return CL_ERR_MALFORMED;
        /* the BLOCK waiting for its answer: 80 1E 00 00 Lc signature */
        if (i == 2 && step == CL_SRV_ST_BLOCK &&
            (k < 5u + BLOCK_SIG_MIN || k > 5u + BLOCK_SIG_MAX || p[0] != 0x80 || p[1] != 0x1E ||
             p[2] != 0 || p[3] != 0 || p[4] != k - 5u))
            return CL_ERR_MALFORMED;
        if (d != NULL) {
            uint8_t *dst = i == 0 ? d->leaf : i == 1 ? d->issuer : d->apdu;
            memcpy(dst, p, k);
            if (i == 0)
                d->leaf_len = (uint16_t)k;
            else if (i == 1)
                d->issuer_len = (uint16_t)k;
            else
                d->apdu_len = (uint16_t)k;
        }
    }
    if (d != NULL)
        memset(&d->gate, 0, sizeof(d->gate));
    if ((flags & F_GATE) != 0) {
        uint16_t action;
        uint32_t nb, na;
        const uint8_t *nonce;

        action = (uint16_t)r_u(&r, 2);
        nb = (uint32_t)r_u(&r, 4);
        na = (uint32_t)r_u(&r, 4);
        nonce = r_bytes(&r, CL_RELAY_GATE_NONCE_LEN);
        n = (uint8_t)r_u(&r, 1);
        if (!r.ok || action == 0 || na <= nb || na - nb > GATE_WINDOW_MAX || n < 8u ||
            n > CL_RELAY_GATE_SIG_MAX || (p = r_bytes(&r, n)) == NULL)
            return CL_ERR_MALFORMED;
        if (d != NULL) {
            d->gate.have = true;
            d->gate.action = action;
            d->gate.not_before = nb;
            d->gate.not_after = na;
            memcpy(d->gate.nonce, nonce, CL_RELAY_GATE_NONCE_LEN);
            d->gate.sig_len = n;
            memcpy(d->gate.sig, p, n);
        }
    }
    if (txn_encoded(flow)) {
        size_t k = (size_t)r_u(&r, 2);
        if ((p = r_bytes(&r, k)) == NULL || cl_txn_decode(p, k, t) != CL_OK ||
            t->kind != txn_kind(flow))
            return CL_ERR_MALFORMED;
    } else if (flow == CL_SERVER_FLOW_LOAD || flow == CL_SERVER_FLOW_EGOODS) {
        if ((p = r_bytes(&r, CL_TXN_ID_LEN)) == NULL)
            return CL_ERR_MALFORMED;
        memcpy(t->id, p, CL_TXN_ID_LEN);
        t->kind = txn_kind(flow);
        t->has_amount = true;
        t->amount = r_u(&r, 8);
        t->currency = (uint16_t)r_u(&r, 2);
        if (t->amount > (uint64_t)CL_LEDGER_AMOUNT_MAX || t->currency > 999 ||
            (flow == CL_SERVER_FLOW_LOAD && (t->amount == 0 || t->amount > 0xFFFFFFFFu)) ||
            (flow == CL_SERVER_FLOW_EGOODS && t->currency == 0))
            return CL_ERR_MALFORMED;
    } else if (flow == CL_SERVER_FLOW_RELAY || flow == CL_SERVER_FLOW_GATE) {
        if ((p = r_bytes(&r, CL_TXN_ID_LEN)) == NULL)
            return CL_ERR_MALFORMED;
        memcpy(t->id, p, CL_TXN_ID_LEN);
    }
    *relay_len = (size_t)r_u(&r, 2);
    *relay = r_bytes(&r, *relay_len);
    if (!r.ok || r.o != len)
        return CL_ERR_MALFORMED;
    return CL_OK;
}

/* see cardlink/server.h */
int cl_server_restore(struct cl_server *s, const uint8_t *buf, size_t len)
{
    struct cl_txn t;
    const uint8_t *relay;
    size_t rlen;
    int r;

    if (s == NULL || s->cfg == NULL || (buf == NULL && len > 0))
        return CL_ERR_ARG;
    if (buf == NULL || parse(buf, len, NULL, &t, &relay, &rlen) != CL_OK) {
        cl_wipe(&t, sizeof(t));
        return CL_ERR_MALFORMED;
    }
    r = cl_relay_session_restore(&s->rs, &s->rcfg, relay, rlen);
    if (r != CL_OK) {
        cl_wipe(&t, sizeof(t));
        return r;
    }
    /* the relay part is in: the flow's part cannot fail now */
    memset(&s->res, 0, sizeof(s->res));
    s->ev_pending = false;
    s->recorded_done = false;
    s->outcome = 0;
    s->sig_len = 0;
    (void)parse(buf, len, s, &t, &relay, &rlen);
    s->txn = t;
    if (s->flow == CL_SERVER_FLOW_RELAY)
        s->res.answer = NULL;
    if (s->flow == CL_SERVER_FLOW_GATE)
        s->res.gate = CL_RELAY_NONE;   /* as cl_server_gate started it */
    cl_wipe(&t, sizeof(t));
    return CL_OK;
}

/* ------------------------------------------------------------ the store */

/* What a snapshot depends on, to tell whether it is out of date: the
 * numbering both ways, the acknowledgement, the flow and its step. */
static uint32_t snap_key(const struct cl_server *s)
{
    return (uint32_t)s->rs.tx_seq << 24 | (uint32_t)s->rs.rx_next << 16 |
           (uint32_t)s->rs.tx_acked << 8 | (uint32_t)(s->flow << 4 | s->step) |
           (s->rs.busy ? 0x80u : 0u);
}

/* Whether the flow waits for an answer that changes the ledger (the
 * gate's ACTUATE-RESULT commits its row, as a TXN-RESULT does; the
 * authentication changes no ledger row: its steps are saved only in a
 * session already persistent). */
static bool ledger_wait(const struct cl_server *s)
{
    return ((s->flow == CL_SERVER_FLOW_PURCHASE || s->flow == CL_SERVER_FLOW_PURSE) &&
            s->step == CL_SRV_ST_APPROVE) ||
           (s->flow == CL_SERVER_FLOW_GATE && s->step == CL_SRV_ST_GATE) ||
           ((s->flow == CL_SERVER_FLOW_LOAD || s->flow == CL_SERVER_FLOW_EGOODS) &&
            s->step == CL_SRV_ST_CARDCMD);
}

/* see server_int.h */
void cl_srv_checkpoint(struct cl_server *s, uint32_t now)
{
    const struct cl_session_store *st = s->cfg->sessions;
    struct cl_ledger_session ses;
    const uint8_t *tok;
    size_t tl, n;

    (void)now;
    if (st == NULL || st->save == NULL || (!s->persist && !ledger_wait(s)) ||
        (s->persist && s->snap_key == snap_key(s)) || !s->rs.has_session ||
        s->rs.state == CL_RELAY_ST_CLOSED || s->device_id_len == 0)
        return;
    tok = cl_relay_session_token(&s->rs, &tl);
    if (tok == NULL || tl == 0 || tl > sizeof(ses.token))
        return;
    if (cl_server_save(s, ses.state, sizeof(ses.state), &n) != CL_OK) {
        s->save_failures++;
        return;
    }
    memcpy(ses.token, tok, tl);
    ses.token_len = (uint8_t)tl;
    memcpy(ses.device_id, s->device_id, s->device_id_len);
    ses.device_id_len = s->device_id_len;
    ses.saved = s->cfg->clock(s->cfg->clock_ctx);
    ses.state_len = (uint32_t)n;
    if (st->save(s->cfg->sessions_ctx, &ses) == CL_OK) {
        s->persist = true;
        s->snap_key = snap_key(s);
        memcpy(s->snap_token, tok, tl);
        s->snap_token_len = (uint8_t)tl;
    } else {
        s->save_failures++;
    }
    cl_wipe(&ses, sizeof(ses));
}

/* see server_int.h */
void cl_srv_forget(struct cl_server *s)
{
    const struct cl_session_store *st = s->cfg->sessions;

    if (s->persist && st != NULL && st->drop != NULL)
        (void)st->drop(s->cfg->sessions_ctx, s->snap_token, s->snap_token_len);
    s->persist = false;
    cl_wipe(s->snap_token, sizeof(s->snap_token));
    s->snap_token_len = 0;
}

/* A snapshot restored but not taken over (no token, or the relay session
 * refused the HELLO): the connection ends and the context keeps nothing of
 * it (the store still has it, for the device's next connection); only the
 * counters stay. */
static void unrestore(struct cl_server *s)
{
    const struct cl_server_config *cfg = s->cfg;
    uint32_t restores = s->restores, refused = s->restore_failures, unsaved = s->save_failures;

    cl_server_free(s);
    if (cl_server_setup(s, cfg) != CL_OK)   /* as it was set up: cannot fail */
        return;
    s->restores = restores;
    s->restore_failures = refused + 1u;
    s->save_failures = unsaved;
}

/* see server_int.h */
int cl_srv_take_over(struct cl_server *s, uint32_t now, const struct cl_relay_msg *hello)
{
    const struct cl_session_store *st = s->cfg->sessions;
    const struct cl_relay_hello *h = &hello->u.hello;
    struct cl_ledger_session ses;
    uint8_t enc[CL_RELAY_CTRL_MAX + 64], token[16];
    size_t elen;
    bool restored;
    int r;

    if (st == NULL || st->find == NULL || s->persist || s->flow != CL_SERVER_FLOW_NONE ||
        h->token.len == 0 || h->device_id.len == 0)
        return 0;
    if (st->find(s->cfg->sessions_ctx, h->token.data, h->token.len, h->device_id.data,
                 h->device_id.len, &ses) != CL_OK) {
        cl_wipe(&ses, sizeof(ses));
        return 0;
    }
    /* the HELLO lives in the relay session, which the restore replaces */
    r = cl_relay_encode(hello, enc, sizeof(enc), &elen);
    if (r == CL_OK && cl_server_restore(s, ses.state, ses.state_len) != CL_OK) {
        s->restore_failures++;   /* not ours to read: the fresh session goes on */
        cl_wipe(&ses, sizeof(ses));
        return 0;
    }
    restored = r == CL_OK;
    if (r == CL_OK)
        r = s->cfg->crypto->random(s->cfg->crypto->ctx, token, sizeof(token)) == CL_OK
                ? CL_OK
                : CL_ERR_CRYPTO;
    if (r == CL_OK)
        r = cl_relay_server_accept(&s->rs, now, token, sizeof(token));
    if (r == CL_OK) {
        s->persist = true;
        s->snap_key = 0;   /* saved again once the resumption moved it */
        memcpy(s->snap_token, ses.token, ses.token_len);
        s->snap_token_len = ses.token_len;
        s->restores++;
        r = cl_relay_session_feed(&s->rs, now, enc, elen);
    }
    cl_wipe(token, sizeof(token));
    cl_wipe(&ses, sizeof(ses));
    cl_wipe(enc, sizeof(enc));
    if (r < 0 && restored)
        unrestore(s);
    return r >= 0 ? 1 : r;
}

typedef char snapshot_fits_store[CL_SERVER_SNAPSHOT_MAX <= CL_LEDGER_SESSION_MAX ? 1 : -1];
