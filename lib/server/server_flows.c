/*
 * cardlink — lib/server: the flows, each a step machine over one
 * outstanding request (docs/server.md): send it, verify the answer, send
 * the next or finish.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/wipe.h"
#include "server_int.h"

#define SFI_AUTH_CERT 1u
#define SFI_ISSUER_CERT 2u
#define SFI_SIGN_CERT 6u
#define CERT_PIECES 4u            /* 4 x 256 bytes = CL_SERVER_CERT_MAX */
#define BALANCE_LEN 18u           /* balance(4) currency(2) counter(4) serial(8) */

static const uint8_t get_balance[5] = {0x80, 0x5C, 0x00, 0x00, 0x00};
static const uint8_t pin_default[13] = {0x00, 0x20, 0x00, 0x80, 0x08, 0x24, 0xFF,
                                        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t unix_s(const struct cl_server *s)
{
    return s->cfg->clock(s->cfg->clock_ctx);
}

static int rnd(const struct cl_server *s, uint8_t *out, size_t n)
{
    return s->cfg->crypto->random(s->cfg->crypto->ctx, out, n) == CL_OK ? CL_OK
                                                                         : CL_ERR_CRYPTO;
}

static int sha(const struct cl_server *s, const uint8_t *d, size_t n, uint8_t out[32])
{
    return s->cfg->crypto->sha256(s->cfg->crypto->ctx, d, n, out) == CL_OK ? CL_OK
                                                                           : CL_ERR_CRYPTO;
}

static bool money(uint8_t flow)
{
    return flow == CL_SERVER_FLOW_PURCHASE || flow == CL_SERVER_FLOW_PURSE ||
           flow == CL_SERVER_FLOW_LOAD || flow == CL_SERVER_FLOW_EGOODS;
}

/* ------------------------------------------------------------ certificate cache */

/* see cardlink/server.h */
void cl_server_cert_cache_init(struct cl_server_cert_cache *c)
{
    if (c != NULL)
        memset(c, 0, sizeof(*c));
}

/* Whether the flow validates a card certificate (every flow but e-goods). */
static bool has_cert(uint8_t flow)
{
    return flow != CL_SERVER_FLOW_EGOODS;
}

/* The entry for (serial, role), or -1. */
static int cache_find(const struct cl_server_cert_cache *c, const uint8_t *serial, uint8_t role)
{
    size_t i;

    for (i = 0; i < CL_SERVER_CERT_CACHE_SLOTS; i++)
        if (c->e[i].used && c->e[i].role == role &&
            memcmp(c->e[i].serial, serial, CL_SERVER_SERIAL_LEN) == 0)
            return (int)i;
    return -1;
}

/* Whether this device's last card (for the role) is cached: then the READ
 * script asks for the serial alone. */
static bool cache_guess(const struct cl_server *s)
{
    const struct cl_server_cert_cache *c = s->cfg->cert_cache;
    size_t i;

    if (c == NULL || s->device_id_len == 0 || !has_cert(s->flow))
        return false;
    for (i = 0; i < CL_SERVER_CERT_CACHE_SLOTS; i++) {
        const struct cl_server_cert_entry *e = &c->e[i];
        if (e->used && e->role == s->role && e->device_id_len == s->device_id_len &&
            memcmp(e->device_id, s->device_id, s->device_id_len) == 0)
            return true;
    }
    return false;
}

/* The flow verified a signature with [leaf, issuer] of the card that said
 * s->serial: keep the chain (replacing the entry of that key, else the
 * least recently used one) and name this device on it. */
static void cache_store(struct cl_server *s)
{
    struct cl_server_cert_cache *c = s->cfg->cert_cache;
    struct cl_server_cert_entry *e;
    int k;
    size_t i;

    if (c == NULL || !has_cert(s->flow) || !s->have_balance || s->leaf_len == 0)
        return;
    k = cache_find(c, s->serial, s->role);
    if (k < 0) {
        k = 0;   /* the first free entry, else the least recently used */
        for (i = 0; i < CL_SERVER_CERT_CACHE_SLOTS && c->e[k].used; i++)
            if (!c->e[i].used || c->e[i].stamp < c->e[k].stamp)
                k = (int)i;
    }
    e = &c->e[k];
    /* on a cheap flow the same chain (unless another context replaced the
     * entry meanwhile: then this verified one goes back) */
    e->used = true;
    e->role = s->role;
    memcpy(e->serial, s->serial, CL_SERVER_SERIAL_LEN);
    memcpy(e->leaf, s->leaf, s->leaf_len);
    e->leaf_len = s->leaf_len;
    memcpy(e->issuer, s->issuer, s->issuer_len);
    e->issuer_len = s->issuer_len;
    memcpy(e->device_id, s->device_id, s->device_id_len);
    e->device_id_len = s->device_id_len;
    e->stamp = ++c->clock;
}

/* A cheap flow whose signature did not verify with the cached chain: the
 * entry stays (a card lying about its serial must not evict the card it
 * names), but this device reads the certificates next time (a card whose
 * certificate was renewed gets its new chain verified and stored). */
static void cache_unguess(struct cl_server *s)
{
    struct cl_server_cert_cache *c = s->cfg->cert_cache;
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < CL_SERVER_CERT_CACHE_SLOTS; i++) {
        struct cl_server_cert_entry *e = &c->e[i];
        if (e->used && e->device_id_len == s->device_id_len &&
            memcmp(e->device_id, s->device_id, s->device_id_len) == 0)
            e->device_id_len = 0;
    }
}

/* ------------------------------------------------------------ requests */

static void step_any(struct cl_relay_step *st, const uint8_t *apdu, size_t len)
{
    st->apdu.data = apdu;
    st->apdu.len = len;
    st->expect.kind = CL_RELAY_EXPECT_MASKED;   /* 0000/0000: any status word */
    st->expect.value = 0;
    st->expect.mask = 0;
    st->options = 0;
}

/* The reading SCRIPT: the flow's certificate in 256-byte pieces (when it
 * needs one), the issuer certificate, GET BALANCE (when it needs the purse
 * or the serial). */
static int send_read(struct cl_server *s, uint32_t now)
{
    static const uint8_t more[3][5] = {{0x00, 0xB0, 0x01, 0x00, 0x00},
                                       {0x00, 0xB0, 0x02, 0x00, 0x00},
                                       {0x00, 0xB0, 0x03, 0x00, 0x00}};
    uint8_t first[2][5] = {{0x00, 0xB0, 0x80, 0x00, 0x00}, {0x00, 0xB0, 0x82, 0x00, 0x00}};
    struct cl_relay_msg m;
    size_t n = 0, i, k;

    cl_relay_msg_init(&m, CL_RELAY_SCRIPT);
    if (s->cheap) {
        /* the device's last card is cached: its serial says whether this is it */
        step_any(&m.u.script.steps[n++], get_balance, sizeof(get_balance));
        m.u.script.nsteps = n;
        s->step = CL_SRV_ST_READ;
        return cl_relay_session_send(&s->rs, now, &m);
    }
    if (s->flow != CL_SERVER_FLOW_EGOODS) {
        first[0][2] = (uint8_t)(0x80u | (s->flow == CL_SERVER_FLOW_PURCHASE ? SFI_SIGN_CERT
                                                                             : SFI_AUTH_CERT));
        first[1][2] = (uint8_t)(0x80u | SFI_ISSUER_CERT);
        for (k = 0; k < 2; k++) {
            step_any(&m.u.script.steps[n++], first[k], 5);
            for (i = 0; i + 1 < CERT_PIECES; i++)
                step_any(&m.u.script.steps[n++], more[i], 5);
        }
    }
    if (s->flow != CL_SERVER_FLOW_PURCHASE || s->cfg->cert_cache != NULL)
        step_any(&m.u.script.steps[n++], get_balance, sizeof(get_balance));
    m.u.script.nsteps = n;
    s->step = CL_SRV_ST_READ;
    return cl_relay_session_send(&s->rs, now, &m);
}

static int send_approve(struct cl_server *s, uint32_t now)
{
    static const uint8_t pso[4] = {0x00, 0x2A, 0x9E, 0x9A};
    static const uint8_t ia[4] = {0x00, 0x88, 0x00, 0x00};
    static const uint8_t debit[4] = {0x80, 0x54, 0x00, 0x00};
    uint8_t enc[CL_TXN_ENCODED_MAX];
    struct cl_relay_msg m;
    size_t len;
    int r = cl_txn_encode(&s->txn, enc, sizeof(enc), &len);

    if (r != CL_OK)
        return r;
    cl_relay_msg_init(&m, CL_RELAY_TXN_APPROVE);
    m.u.txn.txn_id = s->txn.id;
    m.u.txn.txn.data = enc;
    m.u.txn.txn.len = len;
    m.u.txn.challenge.data = s->challenge;
    m.u.txn.challenge.len = sizeof(s->challenge);
    if (s->has_pin) {
        m.u.txn.has_pin = true;
        m.u.txn.pin = s->pin;
        m.u.txn.pin.apdu.data = s->pin_apdu;
    }
    memcpy(m.u.txn.sign_cmd,
           s->flow == CL_SERVER_FLOW_AUTH ? ia : s->flow == CL_SERVER_FLOW_PURSE ? debit : pso,
           4);
    m.u.txn.digest = CL_RELAY_DIGEST_SHA256;
    s->step = CL_SRV_ST_APPROVE;
    return cl_relay_session_send(&s->rs, now, &m);
}

static int send_cardcmd(struct cl_server *s, uint32_t now)
{
    struct cl_relay_msg m;

    cl_relay_msg_init(&m, CL_RELAY_APDU);
    m.u.apdu.apdu.data = s->apdu;
    m.u.apdu.apdu.len = s->apdu_len;
    m.u.apdu.txn_id = s->txn.id;
    s->step = CL_SRV_ST_CARDCMD;
    return cl_relay_session_send(&s->rs, now, &m);
}

/* Authentication: the tries left after a wrong PIN (s->sw 63Cx), shown
 * before the next attempt. */
static int send_notice(struct cl_server *s, uint32_t now)
{
    char t[32] = "Wrong PIN\n";
    unsigned n = s->sw & 0x0Fu;   /* 0..15 */
    size_t k = 10;
    struct cl_relay_msg m;

    if (n >= 10)
        t[k++] = '1';
    t[k++] = (char)('0' + n % 10u);
    memcpy(t + k, n == 1 ? " try left\n" : " tries left\n", n == 1 ? 11 : 13);
    cl_relay_msg_init(&m, CL_RELAY_DISPLAY);
    m.u.display.text.data = (const uint8_t *)t;
    m.u.display.text.len = cl_strnlen(t, sizeof(t));
    m.u.display.duration = 0;
    s->step = CL_SRV_ST_NOTICE;
    return cl_relay_session_send(&s->rs, now, &m);
}

/* The failure policy's GET CHALLENGE (8 bytes), then the BLOCK in s->apdu;
 * plain APDU messages: nothing on the device's transaction log. */
static int send_block_chal(struct cl_server *s, uint32_t now)
{
    static const uint8_t get_challenge[5] = {0x00, 0x84, 0x00, 0x00, 0x08};
    struct cl_relay_msg m;

    cl_relay_msg_init(&m, CL_RELAY_APDU);
    m.u.apdu.apdu.data = get_challenge;
    m.u.apdu.apdu.len = sizeof(get_challenge);
    s->step = CL_SRV_ST_BLOCK_CHAL;
    return cl_relay_session_send(&s->rs, now, &m);
}

static int send_block(struct cl_server *s, uint32_t now)
{
    struct cl_relay_msg m;

    cl_relay_msg_init(&m, CL_RELAY_APDU);
    m.u.apdu.apdu.data = s->apdu;
    m.u.apdu.apdu.len = s->apdu_len;
    s->step = CL_SRV_ST_BLOCK;
    return cl_relay_session_send(&s->rs, now, &m);
}

/* see server_int.h */
int cl_srv_flow_resend(struct cl_server *s, uint32_t now)
{
    if (s->flow == CL_SERVER_FLOW_GATE)
        return cl_srv_gate_send(s, now);
    switch (s->step) {
    case CL_SRV_ST_NOTICE:
        return send_notice(s, now);
    case CL_SRV_ST_BLOCK_CHAL:
        return send_block_chal(s, now);
    case CL_SRV_ST_BLOCK:
        return send_block(s, now);
    case CL_SRV_ST_READ:
        return send_read(s, now);
    case CL_SRV_ST_APPROVE:
        return send_approve(s, now);
    case CL_SRV_ST_CARDCMD:
        return send_cardcmd(s, now);
    default:
        /* a relayed command carries no promise of idempotency */
        return CL_ERR_CLOSED;
    }
}

/* ------------------------------------------------------------ ledger */

static void finish_recorded(struct cl_server *s, const struct cl_ledger_txn *t)
{
    int err;

    memcpy(s->res.account, t->account, t->account_len);
    s->res.account_len = t->account_len;
    s->res.recorded = true;
    switch (t->outcome) {
    case CL_LEDGER_APPROVED:
        err = CL_OK;
        break;
    case CL_LEDGER_DECLINED:
        err = CL_ERR_CANCELLED;
        break;
    case CL_LEDGER_FAILED:
        err = CL_ERR_ABORTED;
        break;
    default:
        err = CL_ERR_DUPLICATE;   /* still PENDING: ask again later (§9) */
        break;
    }
    cl_srv_finish(s, t->outcome, err);
}

/* Before touching the card: a known id is answered from the ledger. */
static bool ledger_known(struct cl_server *s, int *err)
{
    struct cl_ledger_txn t;
    int r;

    *err = CL_OK;
    if (!money(s->flow))
        return false;
    r = s->cfg->ledger->get(s->cfg->ledger_ctx, s->txn.id, &t);
    if (r == CL_ERR_NOT_FOUND)
        return false;
    if (r != CL_OK) {
        *err = r;
        return true;
    }
    finish_recorded(s, &t);
    cl_wipe(&t, sizeof(t));
    return true;
}

static int ledger_begin(struct cl_server *s, int64_t amount, uint16_t currency)
{
    struct cl_ledger_txn t, out;
    int r;

    memset(&t, 0, sizeof(t));
    memcpy(t.id, s->txn.id, CL_TXN_ID_LEN);
    if (s->device_id_len > 0) {
        memcpy(t.device_id, s->device_id, s->device_id_len);
        t.device_id_len = s->device_id_len;
    } else {
        t.device_id[0] = '?';
        t.device_id_len = 1;
    }
    memcpy(t.account, s->res.account, s->res.account_len);
    t.account_len = s->res.account_len;
    t.kind = s->txn.kind;
    t.currency = currency;
    t.amount = amount;
    t.created = unix_s(s);
    r = s->cfg->ledger->begin(s->cfg->ledger_ctx, &t, &out);
    if (r == CL_LEDGER_NEW)
        return CL_OK;
    if (r == CL_LEDGER_ALREADY) {
        finish_recorded(s, &out);
        return CL_OK;
    }
    return r;
}

static void commit(struct cl_server *s, uint8_t outcome, int err, const uint8_t *receipt,
                   size_t len)
{
    if (outcome == CL_LEDGER_APPROVED && err == CL_OK)
        cache_store(s);
    else if (s->cheap && err == CL_ERR_SIGNATURE)
        cache_unguess(s);
    if (money(s->flow)) {
        int r = s->cfg->ledger->commit(s->cfg->ledger_ctx, s->txn.id, outcome, receipt, len,
                                       unix_s(s));
        if (r != CL_OK && err == CL_OK) {
            outcome = CL_LEDGER_FAILED;
            err = r;
        }
    }
    cl_srv_finish(s, outcome, err);
}

/* ------------------------------------------------------------ starting */

static int start_common(struct cl_server *s, uint8_t flow)
{
    if (s == NULL || s->cfg == NULL)
        return CL_ERR_ARG;
    if (s->flow != CL_SERVER_FLOW_NONE || s->ev_pending ||
        cl_relay_session_state(&s->rs) != CL_RELAY_ST_OPEN)
        return CL_ERR_STATE;
    if (money(flow) && s->cfg->ledger == NULL)
        return CL_ERR_UNSUPPORTED;
    if ((flow == CL_SERVER_FLOW_LOAD || flow == CL_SERVER_FLOW_EGOODS) &&
        s->cfg->crypto->issuer_sign == NULL)
        return CL_ERR_UNSUPPORTED;
    if (flow == CL_SERVER_FLOW_EGOODS && s->cfg->ledger->list_txns == NULL)
        return CL_ERR_UNSUPPORTED;   /* a 6A89 could not be checked against the ledger */
    return CL_OK;
}

static void reset_flow(struct cl_server *s, uint8_t flow)
{
    memset(&s->res, 0, sizeof(s->res));
    s->flow = flow;
    s->step = CL_SRV_ST_IDLE;
    s->sw = 0;
    s->tries = 0;
    s->have_balance = false;
    s->has_pin = false;
    s->leaf_len = s->issuer_len = 0;
    s->cheap = false;
    s->role = flow == CL_SERVER_FLOW_PURCHASE ? CL_CERT_ROLE_CARD_SIGN : CL_CERT_ROLE_CARD_AUTH;
    memset(s->serial, 0, sizeof(s->serial));
}

/* Run the flow's first request unless the ledger answers it. On an error
 * the flow is not started. */
static int kick(struct cl_server *s, uint32_t now)
{
    int err, r;

    if (ledger_known(s, &err)) {
        if (err != CL_OK) {
            s->flow = CL_SERVER_FLOW_NONE;
            return err;
        }
        return CL_OK;
    }
    s->cheap = cache_guess(s);
    r = send_read(s, now);
    if (r != CL_OK)
        s->flow = CL_SERVER_FLOW_NONE;
    return r;
}

/* see cardlink/server.h */
struct cl_relay_pin cl_server_pin_cardlink(void)
{
    struct cl_relay_msg m;
    struct cl_relay_pin pin;

    cl_relay_msg_init(&m, CL_RELAY_PIN_VERIFY);
    pin = m.u.pin;
    pin.apdu.data = pin_default;
    pin.apdu.len = sizeof(pin_default);
    pin.encoding = CL_RELAY_PIN_ISO9564_2;
    pin.min_len = 4;
    pin.max_len = 12;
    pin.offset = 0;
    return pin;
}

static int set_pin(struct cl_server *s, const struct cl_relay_pin *pin, bool deflt)
{
    if (pin == NULL && !deflt)
        return CL_OK;
    if (pin != NULL) {
        if (pin->apdu.data == NULL || pin->apdu.len == 0 || pin->apdu.len > sizeof(s->pin_apdu))
            return CL_ERR_ARG;
        s->pin = *pin;
        memcpy(s->pin_apdu, pin->apdu.data, pin->apdu.len);
    } else {
        s->pin = cl_server_pin_cardlink();
        memcpy(s->pin_apdu, pin_default, sizeof(pin_default));
    }
    s->pin.apdu.data = s->pin_apdu;
    s->has_pin = true;
    return CL_OK;
}

static int start_txn(struct cl_server *s, uint32_t now, uint8_t flow, uint8_t kind,
                     const struct cl_txn *txn, const struct cl_relay_pin *pin, bool pin_default_on)
{
    int r = start_common(s, flow);

    if (r != CL_OK)
        return r;
    if (txn == NULL || txn->kind != kind || cl_txn_check(txn) != CL_OK || txn->challenge_len != 0)
        return CL_ERR_ARG;
    if (kind != CL_TXN_AUTHENTICATION && (!txn->has_amount || txn->amount == 0))
        return CL_ERR_ARG;
    if (kind == CL_TXN_PURSE_PAYMENT) {
        size_t i;
        if (txn->amount > 0xFFFFFFFFu)
            return CL_ERR_ARG;
        for (i = 0; txn->merchant[i] != '\0'; i++)
            if ((uint8_t)txn->merchant[i] >= 0x80u)
                return CL_ERR_ARG;   /* the payee field is its display form */
    }
    reset_flow(s, flow);
    s->txn = *txn;
    r = set_pin(s, pin, pin_default_on);
    if (r != CL_OK) {
        s->flow = CL_SERVER_FLOW_NONE;
        return r;
    }
    return kick(s, now);
}

/* see cardlink/server.h */
int cl_server_purchase(struct cl_server *s, uint32_t now, const struct cl_txn *txn,
                       const struct cl_relay_pin *pin)
{
    return start_txn(s, now, CL_SERVER_FLOW_PURCHASE, CL_TXN_PURCHASE, txn, pin, true);
}

/* see cardlink/server.h */
int cl_server_authenticate(struct cl_server *s, uint32_t now, const struct cl_txn *txn,
                           const struct cl_relay_pin *pin)
{
    return start_txn(s, now, CL_SERVER_FLOW_AUTH, CL_TXN_AUTHENTICATION, txn, pin, false);
}

/* see cardlink/server.h */
int cl_server_purse_pay(struct cl_server *s, uint32_t now, const struct cl_txn *txn,
                        const struct cl_relay_pin *pin)
{
    return start_txn(s, now, CL_SERVER_FLOW_PURSE, CL_TXN_PURSE_PAYMENT, txn, pin, true);
}

/* see cardlink/server.h */
int cl_server_load(struct cl_server *s, uint32_t now, const uint8_t txn_id[16], uint32_t amount)
{
    int r = start_common(s, CL_SERVER_FLOW_LOAD);

    if (r != CL_OK)
        return r;
    if (txn_id == NULL || amount == 0)
        return CL_ERR_ARG;
    reset_flow(s, CL_SERVER_FLOW_LOAD);
    memset(&s->txn, 0, sizeof(s->txn));
    memcpy(s->txn.id, txn_id, CL_TXN_ID_LEN);
    s->txn.kind = CL_TXN_EMONEY_LOAD;
    s->txn.has_amount = true;
    s->txn.amount = amount;
    return kick(s, now);
}

/* see cardlink/server.h */
int cl_server_egoods_load(struct cl_server *s, uint32_t now, const uint8_t txn_id[16],
                          const uint8_t *payload, size_t len, uint64_t amount,
                          uint16_t currency)
{
    int r = start_common(s, CL_SERVER_FLOW_EGOODS);

    if (r != CL_OK)
        return r;
    if (txn_id == NULL || payload == NULL || len < CL_SERVER_EGOODS_MIN ||
        len > CL_SERVER_EGOODS_MAX || currency == 0 || currency > 999 ||
        amount > (uint64_t)CL_LEDGER_AMOUNT_MAX)
        return CL_ERR_ARG;
    reset_flow(s, CL_SERVER_FLOW_EGOODS);
    memset(&s->txn, 0, sizeof(s->txn));
    memcpy(s->txn.id, txn_id, CL_TXN_ID_LEN);
    s->txn.kind = CL_TXN_EGOODS_LOAD;
    s->txn.has_amount = true;
    s->txn.amount = amount;
    s->txn.currency = currency;
    memcpy(s->egoods, payload, len);
    s->egoods_len = (uint8_t)len;
    return kick(s, now);
}

/* see cardlink/server.h */
int cl_server_apdu(struct cl_server *s, uint32_t now, const uint8_t *apdu, size_t len,
                   const uint8_t *txn_id)
{
    struct cl_relay_msg m;
    int r = start_common(s, CL_SERVER_FLOW_RELAY);

    if (r != CL_OK)
        return r;
    if (apdu == NULL || len < 4 || len > CL_SERVER_APDU_MAX)
        return CL_ERR_ARG;
    cl_relay_msg_init(&m, CL_RELAY_APDU);
    m.u.apdu.apdu.data = apdu;
    m.u.apdu.apdu.len = len;
    m.u.apdu.txn_id = txn_id;
    r = cl_relay_session_send(&s->rs, now, &m);
    if (r != CL_OK)
        return r;
    reset_flow(s, CL_SERVER_FLOW_RELAY);
    if (txn_id != NULL)
        memcpy(s->txn.id, txn_id, CL_TXN_ID_LEN);
    s->step = CL_SRV_ST_RELAY;
    return CL_OK;
}

/* see cardlink/server.h */
int cl_server_script(struct cl_server *s, uint32_t now, const struct cl_relay_script *script)
{
    struct cl_relay_msg m;
    int r = start_common(s, CL_SERVER_FLOW_RELAY);

    if (r != CL_OK)
        return r;
    if (script == NULL)
        return CL_ERR_ARG;
    cl_relay_msg_init(&m, CL_RELAY_SCRIPT);
    m.u.script = *script;
    r = cl_relay_session_send(&s->rs, now, &m);
    if (r != CL_OK)
        return r;
    reset_flow(s, CL_SERVER_FLOW_RELAY);
    if (script->txn_id != NULL)
        memcpy(s->txn.id, script->txn_id, CL_TXN_ID_LEN);
    s->step = CL_SRV_ST_RELAY;
    return CL_OK;
}

/* ------------------------------------------------------------ answers */

/* A response's status word (the last two bytes); 0 when too short. */
static uint16_t resp_sw(const struct cl_relay_bytes *b)
{
    if (b->len < 2)
        return 0;
    return (uint16_t)(b->data[b->len - 2] << 8 | b->data[b->len - 1]);
}

/* Assemble one certificate from its pieces resp[0..CERT_PIECES). */
static int take_cert(struct cl_server *s, const struct cl_relay_bytes *resp, uint8_t *out,
                     uint16_t *out_len)
{
    size_t off = 0, i;

    for (i = 0; i < CERT_PIECES; i++) {
        uint16_t sw = resp_sw(&resp[i]);
        size_t n = resp[i].len >= 2 ? resp[i].len - 2 : 0;
        if (sw == 0x6B00 && i > 0)
            break;
        if (sw != 0x9000 && sw != 0x6282) {
            s->sw = sw;
            return CL_ERR_SW;
        }
        if (n > CL_SERVER_CERT_MAX - off)
            return CL_ERR_LIMIT;
        memcpy(out + off, resp[i].data, n);
        off += n;
        if (n < 256)
            break;
    }
    if (off == 0)
        return CL_ERR_CERT_PARSE;
    *out_len = (uint16_t)off;
    return CL_OK;
}

static int verify(struct cl_server *s, const uint8_t digest[32], const uint8_t *sig,
                  size_t sig_len)
{
    struct cl_cert_der chain[2];

    chain[0].der = s->leaf;
    chain[0].len = s->leaf_len;
    chain[1].der = s->issuer;
    chain[1].len = s->issuer_len;
    return s->cfg->crypto->verify(s->cfg->crypto->ctx, chain, 2, s->role,
                                  unix_s(s), digest, sig, sig_len);
}

static int new_challenge(struct cl_server *s)
{
    return rnd(s, s->challenge, sizeof(s->challenge));
}

/* Build the issuer-signed CREDIT or e-goods APPEND RECORD into s->apdu. */
static int build_cardcmd(struct cl_server *s)
{
    uint8_t msg[4 + 8 + CL_SERVER_EGOODS_MAX], d[32], sig[80];
    size_t n, slen;
    int r;

    if (s->flow == CL_SERVER_FLOW_LOAD) {
        memcpy(msg, "CLCR", 4);
        memcpy(msg + 4, s->serial, 8);
        put32(msg + 12, (uint32_t)s->txn.amount);
        put32(msg + 16, s->counter);
        memcpy(msg + 20, s->txn.id, 16);
        n = 36;
    } else {
        memcpy(msg, "CLEG", 4);
        memcpy(msg + 4, s->serial, 8);
        memcpy(msg + 12, s->egoods, s->egoods_len);
        n = 12u + s->egoods_len;
    }
    r = sha(s, msg, n, d);
    if (r != CL_OK)
        return r;
    r = s->cfg->crypto->issuer_sign(s->cfg->crypto->ctx, d, sig, sizeof(sig), &slen);
    if (r != CL_OK)
        return r;
    if (slen < 8 || slen > 72)
        return CL_ERR_CRYPTO;
    if (s->flow == CL_SERVER_FLOW_LOAD) {
        static const uint8_t hdr[4] = {0x80, 0x52, 0x00, 0x00};
        memcpy(s->apdu, hdr, 4);
        s->apdu[4] = (uint8_t)(24u + slen);
        memcpy(s->apdu + 5, msg + 12, 24);   /* amount counter txn-id */
        memcpy(s->apdu + 29, sig, slen);
        s->apdu[29 + slen] = 0x00;
        s->apdu_len = (uint16_t)(30u + slen);
    } else {
        static const uint8_t hdr[4] = {0x00, 0xE2, 0x00, 0x20};
        memcpy(s->apdu, hdr, 4);
        s->apdu[4] = (uint8_t)(1u + s->egoods_len + slen);
        s->apdu[5] = s->egoods_len;
        memcpy(s->apdu + 6, s->egoods, s->egoods_len);
        memcpy(s->apdu + 6 + s->egoods_len, sig, slen);
        s->apdu_len = (uint16_t)(6u + s->egoods_len + slen);
    }
    return CL_OK;
}

/* The certificates and the purse are read: validate, ledger, next request. */
/* GET BALANCE's answer b into the flow: CL_OK, CL_ERR_SW (s->sw),
 * CL_ERR_MALFORMED. */
static int take_balance(struct cl_server *s, const struct cl_relay_bytes *b)
{
    s->sw = resp_sw(b);
    if (s->sw != 0x9000)
        return CL_ERR_SW;
    if (b->len != BALANCE_LEN + 2)
        return CL_ERR_MALFORMED;
    s->sw = 0;
    s->balance = get32(b->data);
    s->currency = (uint16_t)(b->data[4] << 8 | b->data[5]);
    s->counter = get32(b->data + 6);
    memcpy(s->serial, b->data + 10, 8);
    s->have_balance = true;
    return CL_OK;
}

/* The cheap READ's answer: the serial of a cached card gives the chain;
 * else (another card, no purse) the certificates are read after all. */
static int on_read_cheap(struct cl_server *s, uint32_t now,
                         const struct cl_relay_script_result *sr, bool *done)
{
    struct cl_server_cert_cache *c = s->cfg->cert_cache;
    const struct cl_server_cert_entry *e;
    int k = -1;

    *done = false;
    if (sr->nresp != 1)
        return CL_ERR_PROTOCOL;
    if (take_balance(s, &sr->resp[0]) == CL_OK)
        k = cache_find(c, s->serial, s->role);
    if (k < 0) {
        /* counted once, by the full read that follows */
        s->cheap = false;
        s->sw = 0;
        s->have_balance = false;
        memset(s->serial, 0, sizeof(s->serial));
        *done = true;
        return send_read(s, now);
    }
    c->hits++;
    e = &c->e[k];
    memcpy(s->leaf, e->leaf, e->leaf_len);
    s->leaf_len = e->leaf_len;
    memcpy(s->issuer, e->issuer, e->issuer_len);
    s->issuer_len = e->issuer_len;
    return CL_OK;
}

static int on_read(struct cl_server *s, uint32_t now, const struct cl_relay_msg *m)
{
    const struct cl_relay_script_result *sr = &m->u.script_result;
    bool bal = s->flow != CL_SERVER_FLOW_PURCHASE || s->cfg->cert_cache != NULL;
    size_t want = (s->flow == CL_SERVER_FLOW_EGOODS ? 0u : 2u * CERT_PIECES) + (bal ? 1u : 0u);
    int r;

    if (m->type != CL_RELAY_SCRIPT_RESULT)
        return CL_ERR_PROTOCOL;
    if (sr->error != 0)
        return cl_relay_err_from_wire(sr->error);
    if (s->cheap) {
        bool done;
        r = on_read_cheap(s, now, sr, &done);
        if (r != CL_OK || done)
            return r;
    } else {
        if (sr->nresp != want)
            return CL_ERR_PROTOCOL;
        if (s->cfg->cert_cache != NULL && has_cert(s->flow))
            s->cfg->cert_cache->misses++;
        if (s->flow != CL_SERVER_FLOW_EGOODS) {
            r = take_cert(s, &sr->resp[0], s->leaf, &s->leaf_len);
            if (r == CL_OK)
                r = take_cert(s, &sr->resp[CERT_PIECES], s->issuer, &s->issuer_len);
            if (r != CL_OK)
                return r;
        }
        if (s->flow != CL_SERVER_FLOW_PURCHASE) {
            r = take_balance(s, &sr->resp[want - 1]);
            if (r != CL_OK)
                return r;
        } else if (bal && take_balance(s, &sr->resp[want - 1]) != CL_OK) {
            s->sw = 0;   /* a card without a purse: purchased, not cached */
        }
    }
    /* The chain, for the role the flow's signature needs (cached). */
    if (s->flow != CL_SERVER_FLOW_EGOODS) {
        r = verify(s, NULL, NULL, 0);
        if (r != CL_OK)
            return r;
    }
    /* The ledger account: the signing certificate's fingerprint for a
     * purchase, the card serial for the purse and e-goods. */
    if (s->flow == CL_SERVER_FLOW_PURCHASE) {
        r = sha(s, s->leaf, s->leaf_len, s->res.account);
        if (r != CL_OK)
            return r;
        s->res.account_len = 32;
    } else {
        memcpy(s->res.account, s->serial, 8);
        s->res.account_len = 8;
    }
    switch (s->flow) {
    case CL_SERVER_FLOW_PURCHASE:
        r = ledger_begin(s, -(int64_t)s->txn.amount, s->txn.currency);
        break;
    case CL_SERVER_FLOW_PURSE:
        if (s->currency != s->txn.currency)
            return CL_ERR_DENIED;   /* the device would refuse it (PURSE) */
        r = ledger_begin(s, -(int64_t)s->txn.amount, s->txn.currency);
        break;
    case CL_SERVER_FLOW_LOAD:
        s->txn.currency = s->currency;
        r = ledger_begin(s, (int64_t)s->txn.amount, s->currency);
        break;
    case CL_SERVER_FLOW_EGOODS:
        r = ledger_begin(s, (int64_t)s->txn.amount, s->txn.currency);
        break;
    default:
        r = CL_OK;
        break;
    }
    if (r != CL_OK || s->flow == CL_SERVER_FLOW_NONE)
        return r;   /* an error, or answered from the ledger */
    if (s->flow == CL_SERVER_FLOW_LOAD || s->flow == CL_SERVER_FLOW_EGOODS) {
        r = build_cardcmd(s);
        if (r != CL_OK) {
            commit(s, CL_LEDGER_FAILED, r, NULL, 0);
            return CL_OK;
        }
        return send_cardcmd(s, now);
    }
    s->tries = 1;
    r = new_challenge(s);
    if (r != CL_OK)
        return r;
    return send_approve(s, now);
}

/* The digest the card signed (purchase) or framed (authentication). */
static int txn_digest(struct cl_server *s, uint8_t out[32])
{
    uint8_t tbs[CL_TXN_TBS_MAX];
    size_t n;
    int r = cl_txn_tbs(&s->txn, s->challenge, sizeof(s->challenge), tbs, sizeof(tbs), &n);

    if (r == CL_OK)
        r = sha(s, tbs, n, out);
    return r;
}

static int check_approval(struct cl_server *s, const struct cl_relay_txn_result *tr,
                          const uint8_t **receipt, size_t *receipt_len)
{
    uint8_t d[32], msg[4 + 8 + 32 + 16 + 16 + 8];
    const uint8_t *sig = tr->signature.data;
    size_t slen = tr->signature.len;
    int r = txn_digest(s, d);

    if (r != CL_OK)
        return r;
    *receipt = sig;
    *receipt_len = slen;
    if (s->flow == CL_SERVER_FLOW_PURCHASE)
        return verify(s, d, sig, slen);
    if (s->flow == CL_SERVER_FLOW_AUTH) {
        memcpy(msg, "CLIA", 4);
        memcpy(msg + 4, s->serial, 8);
        memcpy(msg + 12, d, 32);
        r = sha(s, msg, 44, d);
        return r != CL_OK ? r : verify(s, d, sig, slen);
    }
    /* purse payment: the DEBIT's answer balance'(4) counter'(4) receipt, or
     * the receipt alone; the receipt signs CLRD serial amount balance'
     * counter' txn-id payee(16). */
    {
        uint32_t amount = (uint32_t)s->txn.amount;
        uint8_t nb[8];
        size_t pl = cl_strnlen(s->txn.merchant, sizeof(s->txn.merchant));

        if (amount > s->balance)
            return CL_ERR_SIGNATURE;   /* no receipt can be right */
        put32(nb, s->balance - amount);
        put32(nb + 4, s->counter + 1u);
        if (slen > 8 && memcmp(sig, nb, 8) == 0) {
            sig += 8;
            slen -= 8;
        }
        memcpy(msg, "CLRD", 4);
        memcpy(msg + 4, s->serial, 8);
        put32(msg + 12, amount);
        memcpy(msg + 16, nb, 8);
        memcpy(msg + 24, s->txn.id, 16);
        memset(msg + 40, 0, 16);
        memcpy(msg + 40, s->txn.merchant, pl > 16 ? 16 : pl);
        r = sha(s, msg, 56, d);
        if (r == CL_OK)
            r = verify(s, d, sig, slen);
        if (r == CL_OK) {
            s->res.balance = s->balance - amount;
            s->res.counter = s->counter + 1u;
        }
        return r;
    }
}

/* The operator enabled blocking and the server holds the issuer key. */
static bool may_block(const struct cl_server *s)
{
    return s->cfg->auth_block_after != 0 && s->cfg->crypto->issuer_sign != NULL;
}

/* Authentication attempts before the flow gives up on wrong PINs:
 * cfg->auth_tries (0: 3), or fewer with a failure policy that blocks
 * after N. */
static uint8_t auth_limit(const struct cl_server *s)
{
    uint8_t max = s->cfg->auth_tries != 0 ? s->cfg->auth_tries : 3u;
    uint8_t n = s->cfg->auth_block_after;

    return may_block(s) && n < max ? n : max;
}

/* The failure policy ended (blocked or not): the flow ends FAILED with
 * the PIN's status word. */
static void end_block(struct cl_server *s, bool blocked)
{
    s->res.blocked = blocked;
    commit(s, CL_LEDGER_FAILED, CL_ERR_SW, NULL, 0);
}

/* GET CHALLENGE answered: the BLOCK signed by the issuer over "CLBK" ||
 * serial || challenge (docs/applet.md). */
static int on_block_chal(struct cl_server *s, uint32_t now, const struct cl_relay_msg *m)
{
    const struct cl_relay_bytes *b = &m->u.apdu.apdu;
    uint8_t msg[4 + CL_SERVER_SERIAL_LEN + 8], d[32], sig[80];
    size_t slen = 0;
    int r;

    if (m->type != CL_RELAY_APDU_RESPONSE)
        return CL_ERR_PROTOCOL;
    if (resp_sw(b) != 0x9000 || b->len != 8u + 2u || !s->have_balance) {
        end_block(s, false);
        return CL_OK;
    }
    memcpy(msg, "CLBK", 4);
    memcpy(msg + 4, s->serial, CL_SERVER_SERIAL_LEN);
    memcpy(msg + 4 + CL_SERVER_SERIAL_LEN, b->data, 8);
    r = sha(s, msg, sizeof(msg), d);
    if (r == CL_OK)
        r = s->cfg->crypto->issuer_sign(s->cfg->crypto->ctx, d, sig, sizeof(sig), &slen);
    cl_wipe(d, sizeof(d));
    if (r != CL_OK || slen < 8 || slen > 72) {
        end_block(s, false);
        return CL_OK;
    }
    s->apdu[0] = 0x80;
    s->apdu[1] = 0x1E;
    s->apdu[2] = 0x00;
    s->apdu[3] = 0x00;
    s->apdu[4] = (uint8_t)slen;
    memcpy(s->apdu + 5, sig, slen);
    s->apdu_len = (uint16_t)(5u + slen);
    return send_block(s, now);
}

/* The next authentication attempt, after the tries were shown. */
static int auth_retry(struct cl_server *s, uint32_t now)
{
    int r;

    s->tries++;
    r = rnd(s, s->txn.id, CL_TXN_ID_LEN);
    if (r == CL_OK)
        r = new_challenge(s);
    return r != CL_OK ? r : send_approve(s, now);
}

static int on_approve(struct cl_server *s, uint32_t now, const struct cl_relay_msg *m)
{
    const struct cl_relay_txn_result *tr = &m->u.txn_result;
    const uint8_t *receipt;
    size_t rlen;
    int r;

    if (m->type != CL_RELAY_TXN_RESULT || tr->txn_id == NULL ||
        memcmp(tr->txn_id, s->txn.id, CL_TXN_ID_LEN) != 0)
        return CL_ERR_PROTOCOL;
    if (tr->result == CL_RELAY_TXN_DECLINED) {
        commit(s, CL_LEDGER_DECLINED, CL_ERR_CANCELLED, NULL, 0);
        return CL_OK;
    }
    if (tr->result != CL_RELAY_TXN_APPROVED) {
        s->sw = tr->sw;
        r = tr->sw != 0 ? CL_ERR_SW : cl_relay_err_from_wire(tr->error);
        if (r == CL_OK)
            r = CL_ERR_PROTOCOL;
        /* Authentication: a wrong PIN with tries left (63Cx, x > 0) is
         * shown, then tried again with a fresh id and challenge, up to the
         * limit; a PIN failure that ends the flow may block the card (the
         * failure policy); anything else just ends it. */
        if (s->flow == CL_SERVER_FLOW_AUTH && r == CL_ERR_SW) {
            bool wrong = (tr->sw & 0xFFF0u) == 0x63C0u && tr->sw != 0x63C0u;
            if (wrong && s->tries < auth_limit(s))
                return send_notice(s, now);
            if ((wrong || tr->sw == 0x63C0u || tr->sw == 0x6983u) && may_block(s))
                return send_block_chal(s, now);
        }
        commit(s, CL_LEDGER_FAILED, r, NULL, 0);
        return CL_OK;
    }
    r = check_approval(s, tr, &receipt, &rlen);
    if (r != CL_OK) {
        commit(s, CL_LEDGER_FAILED, r, NULL, 0);
        return CL_OK;
    }
    commit(s, CL_LEDGER_APPROVED, CL_OK, receipt, rlen);
    return CL_OK;
}

struct paid_scan {
    const uint8_t *item;   /* the e-goods item id: the payload's first 16 bytes */
    const uint8_t *id;     /* this flow's transaction id */
    bool pending;          /* another e-goods row of the card is PENDING */
};

static int paid_row(void *arg, const struct cl_ledger_txn *t)
{
    struct paid_scan *p = arg;

    if (t->kind != CL_TXN_EGOODS_LOAD || memcmp(t->id, p->id, CL_TXN_ID_LEN) == 0)
        return 0;
    if (t->outcome == CL_LEDGER_PENDING)
        p->pending = true;
    return t->outcome == CL_LEDGER_APPROVED && t->receipt_len >= CL_SERVER_EGOODS_MIN &&
           memcmp(t->receipt, p->item, CL_SERVER_EGOODS_MIN) == 0;
}

/* The card already holds the item (6A89): may this transaction charge
 * for it? An APPROVED e-goods row keeps the payload it delivered as its
 * receipt. Returns CL_OK (no transaction paid for it: this one does),
 * CL_ERR_DUPLICATE (one did), CL_ERR_AGAIN (another e-goods transaction of
 * the card is PENDING: it may be the one that delivered the item, and its
 * answer may still come), or the ledger's error. */
static int egoods_chargeable(const struct cl_server *s)
{
    struct cl_ledger_filter f;
    struct paid_scan p;
    int r;

    memset(&f, 0, sizeof(f));
    f.account = s->res.account;
    f.account_len = s->res.account_len;
    p.item = s->egoods;
    p.id = s->txn.id;
    p.pending = false;
    r = s->cfg->ledger->list_txns(s->cfg->ledger_ctx, &f, paid_row, &p);
    if (r > 0)
        return CL_ERR_DUPLICATE;
    return r == CL_OK && p.pending ? CL_ERR_AGAIN : r;
}

/* e-goods: APPEND RECORD's answer. 9000 delivered the item; 6A89 says the
 * card held it already: an earlier transaction delivered it, which may
 * have been paid (the operator sent the same item under a new id) or not
 * (its answer never reached the ledger, and the row expired FAILED). The
 * item is charged once: by the transaction that delivered it, or else by
 * the first one the card answers 6A89 while no other is undecided. */
static void on_egoods(struct cl_server *s, uint16_t sw)
{
    int r = sw == 0x6A89 ? egoods_chargeable(s) : CL_OK;

    if (r == CL_OK && (sw == 0x9000 || sw == 0x6A89)) {
        commit(s, CL_LEDGER_APPROVED, CL_OK, s->egoods, s->egoods_len);
        return;
    }
    s->sw = sw;
    commit(s, CL_LEDGER_FAILED, r == CL_OK ? CL_ERR_SW : r, NULL, 0);
}

static int on_cardcmd(struct cl_server *s, const struct cl_relay_msg *m)
{
    const struct cl_relay_bytes *b = &m->u.apdu.apdu;
    uint8_t msg[40], d[32];
    uint16_t sw;
    int r;

    if (m->type != CL_RELAY_APDU_RESPONSE)
        return CL_ERR_PROTOCOL;
    sw = resp_sw(b);
    if (s->flow == CL_SERVER_FLOW_EGOODS) {
        on_egoods(s, sw);
        return CL_OK;
    }
    if (sw != 0x9000) {
        s->sw = sw;
        commit(s, CL_LEDGER_FAILED, CL_ERR_SW, NULL, 0);
        return CL_OK;
    }
    if (b->len < 2 + 8 + 8 || (uint64_t)s->balance + s->txn.amount > 0xFFFFFFFFu ||
        get32(b->data) != s->balance + (uint32_t)s->txn.amount ||
        get32(b->data + 4) != s->counter + 1u) {
        commit(s, CL_LEDGER_FAILED, CL_ERR_SIGNATURE, NULL, 0);
        return CL_OK;
    }
    memcpy(msg, "CLRC", 4);
    memcpy(msg + 4, s->serial, 8);
    put32(msg + 12, (uint32_t)s->txn.amount);
    memcpy(msg + 16, b->data, 8);
    memcpy(msg + 24, s->txn.id, 16);
    r = sha(s, msg, 40, d);
    if (r == CL_OK)
        r = verify(s, d, b->data + 8, b->len - 10);
    if (r != CL_OK) {
        commit(s, CL_LEDGER_FAILED, r, NULL, 0);
        return CL_OK;
    }
    s->res.balance = get32(b->data);
    s->res.counter = get32(b->data + 4);
    commit(s, CL_LEDGER_APPROVED, CL_OK, b->data + 8, b->len - 10);
    return CL_OK;
}

/* see server_int.h */
int cl_srv_flow_answer(struct cl_server *s, uint32_t now, const struct cl_relay_event *ev)
{
    const struct cl_relay_msg *m = ev->msg;

    if (s->flow == CL_SERVER_FLOW_GATE)
        return cl_srv_gate_answer(s, now, ev);
    if (m == NULL) {
        /* a duplicate with no answer held: the outcome is not known yet */
        if (s->step == CL_SRV_ST_RELAY)
            s->res.answer = NULL;
        return ev->err != CL_OK ? ev->err : CL_ERR_DUPLICATE;
    }
    if (s->step == CL_SRV_ST_RELAY) {
        s->res.answer = m;
        cl_srv_finish(s, m->type == CL_RELAY_ERROR ? CL_LEDGER_FAILED : CL_LEDGER_APPROVED,
                      m->type == CL_RELAY_ERROR ? cl_relay_err_from_wire(m->u.status.code)
                                                : CL_OK);
        return CL_OK;
    }
    if (m->type == CL_RELAY_ERROR) {
        int err = cl_relay_err_from_wire(m->u.status.code);
        if (s->step == CL_SRV_ST_NOTICE)     /* no display: retry anyway */
            return auth_retry(s, now);
        if (s->step == CL_SRV_ST_BLOCK_CHAL || s->step == CL_SRV_ST_BLOCK) {
            end_block(s, false);             /* refused: the PIN's failure */
            return CL_OK;
        }
        if (s->step == CL_SRV_ST_READ) {
            cl_srv_finish(s, CL_LEDGER_FAILED, err);   /* nothing begun */
            return CL_OK;
        }
        /* DUPLICATE: the device holds the id in progress; the ledger stays
         * PENDING and a retry of the flow asks again (§9). */
        if (err == CL_ERR_DUPLICATE) {
            cl_srv_finish(s, CL_LEDGER_PENDING, err);
            return CL_OK;
        }
        commit(s, CL_LEDGER_FAILED, err, NULL, 0);
        return CL_OK;
    }
    switch (s->step) {
    case CL_SRV_ST_NOTICE:
        if (m->type != CL_RELAY_DISPLAY_DONE)
            return CL_ERR_PROTOCOL;
        return auth_retry(s, now);
    case CL_SRV_ST_BLOCK_CHAL:
        return on_block_chal(s, now, m);
    case CL_SRV_ST_BLOCK:
        if (m->type != CL_RELAY_APDU_RESPONSE)
            return CL_ERR_PROTOCOL;
        end_block(s, resp_sw(&m->u.apdu.apdu) == 0x9000);
        return CL_OK;
    case CL_SRV_ST_READ:
        return on_read(s, now, m);
    case CL_SRV_ST_APPROVE:
        return on_approve(s, now, m);
    case CL_SRV_ST_CARDCMD:
        return on_cardcmd(s, m);
    default:
        return CL_ERR_PROTOCOL;
    }
}

/* see cardlink/server.h */
int cl_server_txn_from_catalogue(const struct cl_server_config *cfg, uint32_t code,
                                 unsigned qty, struct cl_txn *txn)
{
    struct cl_server_item it;
    uint32_t secs, days;
    int r;
    size_t n;

    if (cfg == NULL || txn == NULL || qty == 0 || qty > CL_TXN_QTY_MAX || cfg->clock == NULL ||
        cfg->crypto == NULL)
        return CL_ERR_ARG;
    if (cfg->catalogue == NULL || cfg->merchant == NULL)
        return CL_ERR_UNSUPPORTED;
    memset(&it, 0, sizeof(it));
    r = cfg->catalogue->item(cfg->catalogue->ctx, code, &it);
    if (r != CL_OK)
        return r;
    /* price < 2^48 and qty < 2^14: the product fits 64 bits (no division:
     * the Cortex-M0+ core has no 64-bit divide) */
    if (it.price > CL_TXN_AMOUNT_MAX || it.price * qty > CL_TXN_AMOUNT_MAX)
        return CL_ERR_OVERFLOW;
    memset(txn, 0, sizeof(*txn));
    if (cfg->crypto->random(cfg->crypto->ctx, txn->id, CL_TXN_ID_LEN) != CL_OK)
        return CL_ERR_CRYPTO;
    txn->kind = CL_TXN_PURCHASE;
    txn->has_amount = true;
    txn->amount = it.price * qty;
    txn->currency = it.currency;
    txn->exponent = it.exponent;
    n = cl_strnlen(cfg->merchant, sizeof(txn->merchant));
    if (n >= sizeof(txn->merchant))
        return CL_ERR_ARG;
    memcpy(txn->merchant, cfg->merchant, n + 1);
    txn->n_items = 1;
    memcpy(txn->items[0].desc, it.desc, sizeof(it.desc));
    txn->items[0].desc[sizeof(txn->items[0].desc) - 1] = '\0';
    txn->items[0].quantity = (uint16_t)qty;
    txn->items[0].has_unit = qty > 1;
    txn->items[0].unit = it.price;
    /* civil time from Unix seconds (32 bits: until 2106), days from
     * 1970-01-01 in the proleptic Gregorian calendar */
    {
        uint64_t now = cfg->clock(cfg->clock_ctx);
        if (now > 0xFFFFFFFFu)
            return CL_ERR_ARG;
        secs = (uint32_t)now;
    }
    days = secs / 86400u;
    {
        uint32_t z = days + 719468u, era = z / 146097u, doe = z - era * 146097u;
        uint32_t yoe = (doe - doe / 1460u + doe / 36524u - doe / 146096u) / 365u;
        uint32_t doy = doe - (365u * yoe + yoe / 4u - yoe / 100u), mp = (5u * doy + 2u) / 153u;
        uint32_t d = doy - (153u * mp + 2u) / 5u + 1u, mo = mp < 10u ? mp + 3u : mp - 9u;
        uint32_t y = yoe + era * 400u + (mo <= 2u ? 1u : 0u);
        txn->time.year = (uint16_t)y;
        txn->time.month = (uint8_t)mo;
        txn->time.day = (uint8_t)d;
    }
    txn->time.hour = (uint8_t)(secs % 86400u / 3600u);
    txn->time.minute = (uint8_t)(secs % 3600u / 60u);
    txn->time.second = (uint8_t)(secs % 60u);
    return cl_txn_check(txn);
}
