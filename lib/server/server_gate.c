/*
 * cardlink — the gate flow (cl_server_gate, docs/server.md "Gate",
 * docs/protocol.md §5.14): after a successful authentication, one ACTUATE
 * signed with the server's gate key, bound to the device, single use and
 * short-lived; the device checks it itself and answers ACTUATE-RESULT,
 * which goes to the ledger.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/wipe.h"
#include "server_int.h"

#define GATE_EARLY_S 30u       /* not-before this far back: the device's clock may lag */
#define GATE_VALIDITY_MAX 3600u

static uint32_t wall(const struct cl_server *s)
{
    uint64_t t = s->cfg->clock(s->cfg->clock_ctx);
    return t > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)t;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Checks common to both starters. */
static int can_start(const struct cl_server *s)
{
    if (s == NULL || s->cfg == NULL)
        return CL_ERR_ARG;
    if (s->flow != CL_SERVER_FLOW_NONE || s->ev_pending ||
        cl_relay_session_state(&s->rs) != CL_RELAY_ST_OPEN || s->device_id_len == 0)
        return CL_ERR_STATE;
    return CL_OK;
}

/* A fresh transaction id, the ledger row (PENDING), the flow started. The
 * account and serial of the previous flow are kept in the result. */
static int begin(struct cl_server *s)
{
    struct cl_ledger_txn t, out;
    uint8_t account[CL_LEDGER_ACCOUNT_MAX], serial[CL_SERVER_SERIAL_LEN];
    uint8_t alen = s->res.account_len;
    int r;

    memcpy(account, s->res.account, sizeof(account));
    memcpy(serial, s->res.serial, sizeof(serial));
    r = s->cfg->crypto->random(s->cfg->crypto->ctx, s->txn.id, CL_TXN_ID_LEN);
    if (r != CL_OK)
        return CL_ERR_CRYPTO;
    if (s->cfg->ledger != NULL) {
        memset(&t, 0, sizeof(t));
        memcpy(t.id, s->txn.id, CL_TXN_ID_LEN);
        memcpy(t.device_id, s->device_id, s->device_id_len);
        t.device_id_len = s->device_id_len;
        if (alen > 0 && alen <= CL_LEDGER_ACCOUNT_MAX) {
            memcpy(t.account, account, alen);
            t.account_len = alen;
        } else {
            t.account[0] = '?';
            t.account_len = 1;
        }
        t.kind = CL_SERVER_LEDGER_GATE;
        t.currency = 999;   /* ISO 4217 999: no currency */
        t.amount = 0;
        t.created = wall(s);
        r = s->cfg->ledger->begin(s->cfg->ledger_ctx, &t, &out);
        cl_wipe(&out, sizeof(out));
        if (r == CL_LEDGER_ALREADY)
            return CL_ERR_DUPLICATE;   /* a fresh random id known: not ours */
        if (r != CL_LEDGER_NEW)
            return r < 0 ? r : CL_ERR_INTERNAL;
    }
    memset(&s->res, 0, sizeof(s->res));
    memcpy(s->res.account, account, sizeof(account));
    s->res.account_len = alen;
    memcpy(s->res.serial, serial, sizeof(serial));
    memcpy(s->serial, serial, sizeof(serial));
    s->res.gate = CL_RELAY_NONE;
    s->sw = 0;
    s->tries = 0;
    s->flow = CL_SERVER_FLOW_GATE;
    s->step = CL_SRV_ST_GATE;
    return CL_OK;
}

/* see server_int.h */
int cl_srv_gate_send(struct cl_server *s, uint32_t now)
{
    struct cl_relay_msg m;

    cl_relay_msg_init(&m, CL_RELAY_ACTUATE);
    m.u.actuate.txn_id = s->txn.id;
    m.u.actuate.action = s->gate.action;
    m.u.actuate.device_id.data = s->device_id;
    m.u.actuate.device_id.len = s->device_id_len;
    m.u.actuate.nonce = s->gate.nonce;
    m.u.actuate.not_before = s->gate.not_before;
    m.u.actuate.not_after = s->gate.not_after;
    m.u.actuate.signature.data = s->gate.sig;
    m.u.actuate.signature.len = s->gate.sig_len;
    s->step = CL_SRV_ST_GATE;
    return cl_relay_session_send(&s->rs, now, &m);
}

/* Start (begin, send); on an error the flow is not started. */
static int kick(struct cl_server *s, uint32_t now)
{
    int r = begin(s);

    if (r != CL_OK)
        return r;
    r = cl_srv_gate_send(s, now);
    if (r != CL_OK) {
        if (s->cfg->ledger != NULL) {
            int c = s->cfg->ledger->commit(s->cfg->ledger_ctx, s->txn.id, CL_LEDGER_FAILED, NULL,
                                           0, wall(s));
            (void)c;
        }
        s->flow = CL_SERVER_FLOW_NONE;
        s->step = 0;
    }
    return r;
}

/* see cardlink/server.h */
int cl_server_gate(struct cl_server *s, uint32_t now, uint16_t action, uint32_t validity_s)
{
    struct cl_relay_actuate a;
    uint8_t tbs[CL_RELAY_GATE_TBS_MAX], dig[32];
    size_t n, sl = 0;
    uint32_t t;
    int r = can_start(s);

    if (r != CL_OK)
        return r;
    if (action == 0 || validity_s == 0 || validity_s > GATE_VALIDITY_MAX)
        return CL_ERR_ARG;
    if (s->cfg->crypto->gate_sign == NULL)
        return CL_ERR_UNSUPPORTED;
    if (s->res.flow != CL_SERVER_FLOW_AUTH || s->res.outcome != CL_LEDGER_APPROVED ||
        s->res.err != CL_OK)
        return CL_ERR_STATE;   /* one authentication, one action */
    t = wall(s);
    s->gate.have = false;
    s->gate.action = action;
    s->gate.not_before = t > GATE_EARLY_S ? t - GATE_EARLY_S : 0;
    s->gate.not_after = t > 0xFFFFFFFFu - validity_s ? 0xFFFFFFFFu : t + validity_s;
    r = s->cfg->crypto->random(s->cfg->crypto->ctx, s->gate.nonce, sizeof(s->gate.nonce));
    if (r != CL_OK)
        return CL_ERR_CRYPTO;
    memset(&a, 0, sizeof(a));
    a.action = action;
    a.device_id.data = s->device_id;
    a.device_id.len = s->device_id_len;
    a.nonce = s->gate.nonce;
    a.not_before = s->gate.not_before;
    a.not_after = s->gate.not_after;
    n = cl_relay_gate_tbs(&a, tbs);
    if (n == 0)
        return CL_ERR_STATE;
    r = s->cfg->crypto->sha256(s->cfg->crypto->ctx, tbs, n, dig);
    if (r != CL_OK)
        return r;
    r = s->cfg->crypto->gate_sign(s->cfg->crypto->ctx, dig, s->gate.sig, sizeof(s->gate.sig), &sl);
    if (r != CL_OK)
        return r;
    if (sl < 8 || sl > sizeof(s->gate.sig))
        return CL_ERR_CRYPTO;
    s->gate.sig_len = (uint8_t)sl;
    s->gate.have = true;
    return kick(s, now);
}

/* see cardlink/server.h */
int cl_server_gate_again(struct cl_server *s, uint32_t now)
{
    int r = can_start(s);

    if (r != CL_OK)
        return r;
    if (!s->gate.have)
        return CL_ERR_STATE;
    return kick(s, now);
}

/* End the flow: result code, ledger row, FLOW_DONE. */
static void gate_end(struct cl_server *s, uint8_t outcome, int err, uint8_t code)
{
    uint8_t rec[1 + CL_RELAY_GATE_NONCE_LEN + 8 + CL_RELAY_GATE_SIG_MAX];
    size_t n = 0;

    s->res.gate = code;
    if (s->cfg->ledger != NULL) {
        int r;
        rec[n++] = code;
        memcpy(rec + n, s->gate.nonce, CL_RELAY_GATE_NONCE_LEN);
        n += CL_RELAY_GATE_NONCE_LEN;
        put32(rec + n, s->gate.not_before);
        put32(rec + n + 4, s->gate.not_after);
        n += 8;
        memcpy(rec + n, s->gate.sig, s->gate.sig_len);
        n += s->gate.sig_len;
        r = s->cfg->ledger->commit(s->cfg->ledger_ctx, s->txn.id, outcome, rec, n, wall(s));
        if (r != CL_OK && err == CL_OK) {
            outcome = CL_LEDGER_FAILED;   /* result.gate still says what the device did */
            err = r;
        }
    }
    cl_srv_finish(s, outcome, err);
}

/* see server_int.h */
int cl_srv_gate_answer(struct cl_server *s, uint32_t now, const struct cl_relay_event *ev)
{
    const struct cl_relay_msg *m = ev->msg;
    uint8_t code;

    (void)now;
    if (m == NULL) {
        gate_end(s, CL_LEDGER_FAILED, ev->err != CL_OK ? ev->err : CL_ERR_DUPLICATE, CL_RELAY_NONE);
        return CL_OK;
    }
    if (m->type == CL_RELAY_ERROR) {
        gate_end(s, CL_LEDGER_FAILED, cl_relay_err_from_wire(m->u.status.code), CL_RELAY_NONE);
        return CL_OK;
    }
    if (m->type != CL_RELAY_ACTUATE_RESULT ||
        memcmp(m->u.actuate_result.txn_id, s->txn.id, CL_TXN_ID_LEN) != 0) {
        gate_end(s, CL_LEDGER_FAILED, CL_ERR_PROTOCOL, CL_RELAY_NONE);
        return CL_OK;
    }
    code = m->u.actuate_result.result;
    switch (code) {
    case CL_RELAY_GATE_DONE:
        gate_end(s, CL_LEDGER_APPROVED, CL_OK, code);
        break;
    case CL_RELAY_GATE_ACTUATOR_FAILED:
    case CL_RELAY_GATE_UNAVAILABLE:
        gate_end(s, CL_LEDGER_FAILED, CL_ERR_IO, code);
        break;
    default:
        gate_end(s, CL_LEDGER_DECLINED, CL_ERR_DENIED, code);
        break;
    }
    return CL_OK;
}
