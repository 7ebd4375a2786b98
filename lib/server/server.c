/*
 * cardlink — lib/server: the per-connection engine (relay session, events,
 * the flow's lifecycle). The flows' steps are in server_flows.c.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/wipe.h"
#include "server_int.h"

/* see cardlink/server.h */
void cl_server_init(struct cl_server *s)
{
    if (s != NULL)
        memset(s, 0, sizeof(*s));
}

/* see cardlink/server.h */
int cl_server_setup(struct cl_server *s, const struct cl_server_config *cfg)
{
    int r;

    if (s == NULL || cfg == NULL || cfg->crypto == NULL || cfg->crypto->random == NULL ||
        cfg->crypto->sha256 == NULL || cfg->crypto->verify == NULL || cfg->clock == NULL)
        return CL_ERR_ARG;
    cl_server_init(s);
    s->cfg = cfg;
    s->rcfg.keepalive_s = cfg->keepalive_s;
    s->rcfg.max_msg = (uint16_t)CL_SERVER_RX_MAX;
    s->rcfg.ack_delay_ms = 1;
    r = cl_relay_session_setup(&s->rs, CL_RELAY_SERVER, &s->rcfg, s->rx, sizeof(s->rx), s->rb,
                               sizeof(s->rb));
    if (r != CL_OK) {
        cl_server_init(s);
        return r;
    }
    return CL_OK;
}

/* see cardlink/server.h */
void cl_server_free(struct cl_server *s)
{
    if (s == NULL)
        return;
    cl_relay_session_free(&s->rs);
    cl_wipe(s, sizeof(*s));
}

/* see cardlink/server.h */
int cl_server_accept(struct cl_server *s, uint32_t now)
{
    uint8_t token[16];
    int r;

    if (s == NULL || s->cfg == NULL)
        return CL_ERR_ARG;
    if (s->cfg->crypto->random(s->cfg->crypto->ctx, token, sizeof(token)) != CL_OK)
        return CL_ERR_CRYPTO;
    r = cl_relay_server_accept(&s->rs, now, token, sizeof(token));
    cl_wipe(token, sizeof(token));
    return r;
}

/* see cardlink/server.h */
bool cl_server_resumes(const struct cl_server *s, const struct cl_relay_hello *h)
{
    return s != NULL && cl_relay_server_resumes(&s->rs, h);
}

/* see cardlink/server.h */
void cl_server_disconnect(struct cl_server *s, uint32_t now)
{
    if (s != NULL)
        cl_relay_session_disconnect(&s->rs, now);
}

/* see cardlink/server.h */
enum cl_want cl_server_want(const struct cl_server *s)
{
    if (s == NULL || s->cfg == NULL)
        return CL_WANT_FAILED;
    if (s->ev_pending)
        return CL_WANT_DONE;
    return cl_relay_session_want(&s->rs);
}

static void raise(struct cl_server *s, uint8_t kind, int err, const struct cl_relay_msg *msg)
{
    memset(&s->ev, 0, sizeof(s->ev));
    s->ev.kind = kind;
    s->ev.err = err;
    s->ev.msg = msg;
    s->ev_pending = true;
}

/* see server_int.h */
void cl_srv_finish(struct cl_server *s, uint8_t outcome, int err)
{
    s->res.flow = s->flow;
    s->res.outcome = outcome;
    s->res.err = err;
    s->res.sw = s->sw;
    s->res.tries = s->tries;
    memcpy(s->res.txn_id, s->txn.id, CL_TXN_ID_LEN);
    memcpy(s->res.serial, s->serial, sizeof(s->serial));
    s->flow = CL_SERVER_FLOW_NONE;
    s->step = CL_SRV_ST_IDLE;
    raise(s, CL_SERVER_EV_FLOW_DONE, err, s->res.answer);
}

typedef char cl_srv_id_fits[CL_LEDGER_DEVICE_ID_MAX >=
                                    sizeof(((struct cl_relay_session *)0)->peer_id)
                                ? 1
                                : -1];

/* One relay event: answer the flow, or tell the caller. */
static void handle(struct cl_server *s, uint32_t now, const struct cl_relay_event *ev)
{
    const struct cl_relay_msg *m = ev->msg;

    switch (ev->kind) {
    case CL_RELAY_EV_OPEN:
        /* A fresh session whose HELLO names a token: a session saved in
         * the store (another process, before a restart) takes over. */
        if (!ev->resumed && m != NULL && m->type == CL_RELAY_HELLO) {
            int t = cl_srv_take_over(s, now, m);
            if (t > 0)
                return;   /* the resumed OPEN follows */
            if (t < 0) {
                raise(s, CL_SERVER_EV_CLOSED, t, NULL);
                return;
            }
        }
        /* the device's id: its HELLO's field 81 (1..32 bytes, mandatory),
         * which the session keeps, whether it opened or resumed */
        memcpy(s->device_id, s->rs.peer_id, s->rs.peer_id_len);
        s->device_id_len = s->rs.peer_id_len;
        /* A fresh session lost the outstanding request: send it again,
         * same transaction id (docs/protocol.md §9). */
        if (!ev->resumed && s->flow != CL_SERVER_FLOW_NONE) {
            int r = cl_srv_flow_resend(s, now);
            if (r != CL_OK)
                cl_srv_finish(s, CL_LEDGER_FAILED, r);
            if (s->ev_pending)
                return;
        }
        raise(s, CL_SERVER_EV_OPEN, CL_OK, m);
        s->ev.resumed = ev->resumed;
        return;
    case CL_RELAY_EV_ANSWER:
        if (s->flow == CL_SERVER_FLOW_NONE)
            return;
        {
            int r = cl_srv_flow_answer(s, now, ev);
            if (r != CL_OK && s->flow != CL_SERVER_FLOW_NONE)
                cl_srv_finish(s, CL_LEDGER_FAILED, r);
        }
        return;
    case CL_RELAY_EV_NOTIFY:
        if (m != NULL && m->type == CL_RELAY_CARD_INSERTED)
            raise(s, CL_SERVER_EV_CARD_INSERTED, CL_OK, m);
        else if (m != NULL && m->type == CL_RELAY_CARD_REMOVED)
            raise(s, CL_SERVER_EV_CARD_REMOVED, CL_OK, m);
        else
            raise(s, CL_SERVER_EV_NOTIFY, CL_OK, m);
        return;
    case CL_RELAY_EV_LINK_DEAD:
        raise(s, CL_SERVER_EV_LINK_DEAD, ev->err, NULL);
        return;
    case CL_RELAY_EV_CLOSED:
        cl_srv_forget(s);   /* ended: nothing to resume */
        if (s->flow != CL_SERVER_FLOW_NONE)
            cl_srv_finish(s, CL_LEDGER_FAILED, ev->err != CL_OK ? ev->err : CL_ERR_CLOSED);
        else
            raise(s, CL_SERVER_EV_CLOSED, ev->err, NULL);
        return;
    default:
        return;
    }
}

/* Handle the relay events that wait, until one is for the caller. */
static void pump(struct cl_server *s, uint32_t now)
{
    struct cl_relay_event ev;

    while (!s->ev_pending && cl_relay_session_poll(&s->rs, &ev))
        handle(s, now, &ev);
}

/* see cardlink/server.h */
int cl_server_feed(struct cl_server *s, uint32_t now, const uint8_t *in, size_t len)
{
    size_t used = 0;

    if (s == NULL || s->cfg == NULL || (in == NULL && len > 0))
        return CL_ERR_ARG;
    pump(s, now);
    while (!s->ev_pending && used < len) {
        int r = cl_relay_session_feed(&s->rs, now, in + used, len - used);
        if (r < 0) {
            pump(s, now);
            if (!s->ev_pending && s->flow != CL_SERVER_FLOW_NONE)
                cl_srv_finish(s, CL_LEDGER_FAILED, r);
            return r;
        }
        used += (size_t)r;
        if (cl_relay_session_want(&s->rs) != CL_WANT_DONE && r == 0)
            break;
        pump(s, now);
    }
    cl_srv_checkpoint(s, now);
    return (int)used;
}

/* see cardlink/server.h */
bool cl_server_poll(struct cl_server *s, struct cl_server_event *ev)
{
    if (ev != NULL)
        memset(ev, 0, sizeof(*ev));
    if (s == NULL || ev == NULL || !s->ev_pending)
        return false;
    *ev = s->ev;
    s->ev_pending = false;
    return true;
}

/* see cardlink/server.h */
size_t cl_server_pull(struct cl_server *s, uint32_t now, const uint8_t **p)
{
    if (s == NULL || p == NULL || s->cfg == NULL) {
        if (p != NULL)
            *p = NULL;
        return 0;
    }
    cl_srv_checkpoint(s, now);   /* the store first, then the wire */
    return cl_relay_session_pull(&s->rs, now, p);
}

/* see cardlink/server.h */
int cl_server_sent(struct cl_server *s, size_t n)
{
    if (s == NULL || s->cfg == NULL)
        return CL_ERR_ARG;
    return cl_relay_session_sent(&s->rs, n);
}

/* see cardlink/server.h */
uint32_t cl_server_timer(const struct cl_server *s, uint32_t now)
{
    if (s == NULL || s->cfg == NULL)
        return CL_TIMER_NONE;
    return cl_relay_session_timer(&s->rs, now);
}

/* see cardlink/server.h */
int cl_server_timeout(struct cl_server *s, uint32_t now)
{
    int r;

    if (s == NULL || s->cfg == NULL)
        return CL_ERR_ARG;
    r = cl_relay_session_timeout(&s->rs, now);
    pump(s, now);
    return r;
}

/* see cardlink/server.h */
int cl_server_close(struct cl_server *s, uint32_t now, uint8_t reason)
{
    if (s == NULL || s->cfg == NULL)
        return CL_ERR_ARG;
    if (s->flow != CL_SERVER_FLOW_NONE)
        cl_srv_finish(s, CL_LEDGER_FAILED, CL_ERR_CLOSED);
    cl_srv_forget(s);
    return cl_relay_session_close(&s->rs, now, reason);
}

/* see cardlink/server.h */
const struct cl_server_result *cl_server_result(const struct cl_server *s)
{
    return s == NULL ? NULL : &s->res;
}

/* see cardlink/server.h */
uint8_t cl_server_flow(const struct cl_server *s)
{
    return s == NULL ? CL_SERVER_FLOW_NONE : s->flow;
}

/* see cardlink/server.h */
const struct cl_relay_session *cl_server_session(const struct cl_server *s)
{
    return s == NULL ? NULL : &s->rs;
}
