/*
 * cardlink tests — in-process relay link (see sim.h).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardlink/error.h"
#include "sim.h"
#include "../../fuzz/relay_drive.h"

static const uint8_t dev_id[] = { 'C', 'L', '-', '0', '0', '0', '1' };
static const uint8_t token[16] = { 0x5A, 0x0C, 0x37, 0xE1, 0x94, 0xB2, 0x6D, 0x08,
                                   0xC3, 0x1F, 0x7A, 0x40, 0x9E, 0x55, 0x2B, 0xD6 };
static const uint8_t canon_txn[] = { 0xE1, 0x0E, 0x80, 0x01, 0x01, 0x81, 0x03, 0x00,
                                     0x27, 0x10, 0x82, 0x04, 0x09, 0x78, 0x02, 0x00 };

/* Standard dialogue: request kinds. */
static const uint8_t std_kinds[SIM_NREQ] = {
    CL_RELAY_APDU, CL_RELAY_DISPLAY, CL_RELAY_SCRIPT, CL_RELAY_APDU,
    CL_RELAY_TXN_APPROVE, CL_RELAY_APDU, CL_RELAY_SCRIPT,
};
/* ... and which carry a transaction id. */
static const bool std_txn[SIM_NREQ] = { false, false, true, true, true, false, false };

static uint8_t store[SIM_NREQ][64];
static uint8_t ids[SIM_NREQ][16];
static const char *const texts[SIM_NREQ] = { "Request 0", "Request 1", "Request 2", "Request 3",
                                             "Request 4", "Request 5", "Request 6" };

static uint32_t rnd(struct sim *s)
{
    s->rng = s->rng * 1103515245u + 12345u;
    return (s->rng >> 16) & 0x7FFFu;
}

/* see sim.h */
void sim_request(struct cl_relay_msg *m, int idx)
{
    uint8_t *b = store[idx];
    uint8_t kind = std_kinds[idx];
    int i;

    for (i = 0; i < 16; i++)
        ids[idx][i] = (uint8_t)(0xA0 + idx * 16 + i);
    cl_relay_msg_init(m, kind);
    switch (kind) {
    case CL_RELAY_APDU:
        if (std_txn[idx]) {
            static const uint8_t credit[] = { 0x80, 0x52, 0x00, 0x00, 0x02, 0x00, 0x10 };
            memcpy(b, credit, sizeof(credit));
            b[3] = (uint8_t)idx;
            m->u.apdu.apdu.data = b;
            m->u.apdu.apdu.len = sizeof(credit);
            m->u.apdu.txn_id = ids[idx];
        } else {
            b[0] = 0x00, b[1] = 0xB2, b[2] = (uint8_t)idx, b[3] = 0x0C, b[4] = 0x00;
            m->u.apdu.apdu.data = b;
            m->u.apdu.apdu.len = 5;
        }
        break;
    case CL_RELAY_DISPLAY:
        m->u.display.text.data = (const uint8_t *)texts[idx];
        m->u.display.text.len = strlen(texts[idx]);
        break;
    case CL_RELAY_SCRIPT:
        b[0] = 0x00, b[1] = 0xB2, b[2] = (uint8_t)idx, b[3] = 0x0C, b[4] = 0x00;
        b[5] = 0x80, b[6] = 0x52, b[7] = 0x00, b[8] = (uint8_t)idx, b[9] = 0x02, b[10] = 0x00;
        b[11] = 0x10;
        m->u.script.nsteps = 2;
        m->u.script.steps[0].apdu.data = b;
        m->u.script.steps[0].apdu.len = 5;
        m->u.script.steps[1].apdu.data = b + 5;
        m->u.script.steps[1].apdu.len = 7;
        if (std_txn[idx])
            m->u.script.txn_id = ids[idx];
        break;
    case CL_RELAY_TXN_APPROVE:
        m->u.txn.txn_id = ids[idx];
        m->u.txn.txn.data = canon_txn;
        m->u.txn.txn.len = sizeof(canon_txn);
        memset(b, 0x11, 8);
        b[0] = (uint8_t)idx;
        m->u.txn.challenge.data = b;
        m->u.txn.challenge.len = 8;
        break;
    default:
        break;
    }
}

/* The request index a decoded request carries. */
static int request_index(const struct cl_relay_msg *m)
{
    switch (m->type) {
    case CL_RELAY_APDU:
        return m->u.apdu.apdu.data[m->u.apdu.txn_id != NULL ? 3 : 2];
    case CL_RELAY_DISPLAY:
        return m->u.display.text.data[8] - '0';
    case CL_RELAY_SCRIPT:
        return m->u.script.steps[0].apdu.data[2];
    case CL_RELAY_TXN_APPROVE:
        return m->u.txn.challenge.data[0];
    default:
        return -1;
    }
}

static void reset_link(struct sim *s)
{
    struct cl_relay_lossy_config lc;

    s->d2s_len = s->s2d_len = 0;
    s->cd2s.n = s->cs2d.n = 0;
    memset(&lc, 0, sizeof(lc));
    lc.rto_ms = 200;
    lc.max_retries = 10;
    lc.epoch = s->epoch++;
    cl_relay_lossy_init(&s->dl, &lc, s->dl_rx, sizeof(s->dl_rx), s->dl_tx, sizeof(s->dl_tx));
    lc.epoch = s->epoch++;
    cl_relay_lossy_init(&s->sl, &lc, s->sl_rx, sizeof(s->sl_rx), s->sl_tx, sizeof(s->sl_tx));
}

static void connect(struct sim *s)
{
    reset_link(s);
    if (cl_relay_session_state(&s->dev) != CL_RELAY_ST_CLOSED || s->dev_closed == 0) {
        if (cl_relay_session_state(&s->dev) != CL_RELAY_ST_CLOSED)
            ck_assert_int_eq(cl_relay_device_connect(&s->dev, s->now), CL_OK);
    }
    if (cl_relay_session_state(&s->dev) == CL_RELAY_ST_HELLO)
        ck_assert_int_eq(cl_relay_server_accept(&s->srv, s->now, token, sizeof(token)), CL_OK);
}

static void cut(struct sim *s)
{
    s->cuts++;
    s->cut_pending = false;
    cl_relay_session_disconnect(&s->dev, s->now);
    cl_relay_session_disconnect(&s->srv, s->now);
    connect(s);
}

/* see sim.h */
void sim_init(struct sim *s, int mode)
{
    memset(s, 0, sizeof(*s));
    s->mode = mode;
    s->rng = 1;
    s->cut_at = -1;
    s->nreq = SIM_NREQ;
    s->dcfg.device_id = dev_id;
    s->dcfg.device_id_len = sizeof(dev_id);
    s->dcfg.caps.interfaces = CL_RELAY_IF_T0 | CL_RELAY_IF_T1;
    s->dcfg.caps.max_msg = sizeof(s->dev_rx);
    s->dcfg.caps.features = 0x00FF;
    s->dcfg.ack_delay_ms = 1;
    s->scfg.ack_delay_ms = 1;
    s->scfg.max_msg = sizeof(s->srv_rx);
    cl_relay_txn_table_init(&s->dtab, s->dslots, CL_ARRAY_LEN(s->dslots), &s->dlog);
    cl_relay_txn_table_init(&s->stab, s->sslots, CL_ARRAY_LEN(s->sslots), &s->slog);
    s->dcfg.txn_log = &s->dlog;
    s->scfg.txn_log = &s->slog;
    ck_assert_int_eq(cl_relay_session_setup(&s->dev, CL_RELAY_DEVICE, &s->dcfg, s->dev_rx,
                                            sizeof(s->dev_rx), s->dev_rb, sizeof(s->dev_rb)),
                     CL_OK);
    ck_assert_int_eq(cl_relay_session_setup(&s->srv, CL_RELAY_SERVER, &s->scfg, s->srv_rx,
                                            sizeof(s->srv_rx), s->srv_rb, sizeof(s->srv_rb)),
                     CL_OK);
    s->now = 1000;
}

/* The device executes a request on its "card" and answers it. */
static void device_answer(struct sim *s)
{
    struct cl_relay_msg m;
    uint8_t r[2][3];
    static const uint8_t sig[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };
    uint8_t sigb[5];
    size_t i;

    cl_relay_msg_init(&m, (uint8_t)(s->pend_type + 1u));
    for (i = 0; i < 2; i++) {
        r[i][0] = s->pend_idx;
        r[i][1] = 0x90;
        r[i][2] = 0x00;
    }
    switch (s->pend_type) {
    case CL_RELAY_APDU:
        m.u.apdu.apdu.data = r[0];
        m.u.apdu.apdu.len = 3;
        break;
    case CL_RELAY_SCRIPT:
        m.u.script_result.nresp = s->pend_steps;
        for (i = 0; i < s->pend_steps && i < 2; i++) {
            m.u.script_result.resp[i].data = r[i];
            m.u.script_result.resp[i].len = 3;
        }
        break;
    case CL_RELAY_TXN_APPROVE:
        memcpy(sigb, sig, sizeof(sig));
        sigb[4] = s->pend_idx;
        m.u.txn_result.txn_id = ids[s->pend_idx];
        m.u.txn_result.result = CL_RELAY_TXN_APPROVED;
        m.u.txn_result.signature.data = sigb;
        m.u.txn_result.signature.len = sizeof(sigb);
        break;
    default:
        break;
    }
    ck_assert_int_eq(cl_relay_session_send(&s->dev, s->now, &m), CL_OK);
    s->dev_pending = false;
}

static void dev_events(struct sim *s)
{
    struct cl_relay_event ev;

    while (cl_relay_session_poll(&s->dev, &ev)) {
        switch (ev.kind) {
        case CL_RELAY_EV_REQUEST: {
            int idx = request_index(ev.msg);
            ck_assert_int_ge(idx, 0);
            ck_assert_int_lt(idx, SIM_NREQ);
            ck_assert(!s->dev_pending);
            s->exec[idx]++;
            s->dev_pending = true;
            s->pend_type = ev.msg->type;
            s->pend_idx = (uint8_t)idx;
            s->pend_steps = ev.msg->type == CL_RELAY_SCRIPT ? (uint8_t)ev.msg->u.script.nsteps : 0;
            break;
        }
        case CL_RELAY_EV_OPEN:
            if (ev.resumed)
                s->opens_resumed++;
            else
                s->opens_fresh++;
            break;
        case CL_RELAY_EV_CLOSED:
            ck_assert_int_eq(ev.err, CL_OK);
            s->dev_closed++;
            break;
        case CL_RELAY_EV_LINK_DEAD:
            s->dead++;
            break;
        default:
            s->err_events++;
            break;
        }
    }
}

static void srv_events(struct sim *s)
{
    struct cl_relay_event ev;

    while (cl_relay_session_poll(&s->srv, &ev)) {
        switch (ev.kind) {
        case CL_RELAY_EV_ANSWER:
            ck_assert(s->srv_sent);
            ck_assert(ev.msg != NULL);
            ck_assert_uint_eq(ev.msg->type, std_kinds[s->next_req] + 1u);
            if (ev.msg->type == CL_RELAY_APDU_RESPONSE)
                ck_assert_uint_eq(ev.msg->u.apdu.apdu.data[0], (unsigned)s->next_req);
            s->answers[s->next_req]++;
            s->next_req++;
            s->srv_sent = false;
            break;
        case CL_RELAY_EV_CLOSED:
            ck_assert_int_eq(ev.err, CL_OK);
            s->srv_closed++;
            break;
        case CL_RELAY_EV_OPEN:
            if (!ev.resumed)
                s->srv_sent = false;  /* a fresh session: nothing outstanding */
            break;
        case CL_RELAY_EV_LINK_DEAD:
            s->dead++;
            break;
        default:
            s->err_events++;
            break;
        }
    }
}

static void apps(struct sim *s)
{
    uint8_t st = cl_relay_session_state(&s->srv);

    if (s->dev_pending && cl_relay_session_state(&s->dev) != CL_RELAY_ST_CLOSED &&
        cl_relay_session_busy(&s->dev))
        device_answer(s);
    if ((st == CL_RELAY_ST_OPEN) && !s->srv_sent) {
        if (s->next_req < s->nreq) {
            struct cl_relay_msg m;
            sim_request(&m, s->next_req);
            ck_assert_int_eq(cl_relay_session_send(&s->srv, s->now, &m), CL_OK);
            s->srv_sent = true;
        } else {
            int rc = cl_relay_session_close(&s->srv, s->now, CL_RELAY_E_NONE);
            ck_assert(rc == CL_OK || rc == CL_ERR_CLOSED);   /* CLOSED: closing already */
        }
    }
}

/* A message was pulled: count it and maybe cut. true: stop pumping. */
static bool counted(struct sim *s)
{
    s->msgs++;
    if (s->cut_at >= 0 && s->msgs == s->cut_at) {
        if (s->cut_every > 0)
            s->cut_at += s->cut_every;
        if (s->cut_mode == SIM_CUT_LOSE) {
            cut(s);
            return true;
        }
        s->cut_pending = true;
    }
    return false;
}

static void chan_put(struct sim *s, struct sim_chan *c, const uint8_t *b, size_t n)
{
    struct sim_chunk *k;

    if (n == 0)
        return;
    if (rnd(s) % 1000 < s->drop)
        return;
    ck_assert_uint_lt(c->n, SIM_CHUNKS);
    ck_assert_uint_le(n, sizeof(c->q[0].b));
    k = &c->q[c->n++];
    memcpy(k->b, b, n);
    k->n = n;
    if (rnd(s) % 1000 < s->corrupt)
        k->b[rnd(s) % n] ^= (uint8_t)(1u << (rnd(s) % 8));
    if (c->n >= 2 && rnd(s) % 1000 < s->reorder) {
        struct sim_chunk t = c->q[c->n - 1];
        c->q[c->n - 1] = c->q[c->n - 2];
        c->q[c->n - 2] = t;
    }
    if (c->n < SIM_CHUNKS && rnd(s) % 1000 < s->dup) {
        c->q[c->n] = c->q[c->n - 1];
        c->n++;
    }
}

/* Where pump() puts a side's messages. */
struct sink {
    struct sim *s;
    struct cl_relay_lossy *l;
    uint8_t *wire;
    size_t *wlen;
    bool d2s;
};

static bool sink_out(void *ctx, const uint8_t *msg, size_t len)
{
    struct sink *k = ctx;
    struct sim *s = k->s;

    if (s->mode == SIM_STREAM) {
        ck_assert_uint_le(*k->wlen + len, SIM_WIRE);
        memcpy(k->wire + *k->wlen, msg, len);
        *k->wlen += len;
        if (CL_RELAY_IS_SEQUENCED(msg[1]) && rnd(s) % 1000 < s->dup) {
            /* a duplicate of a sequenced message: dropped by seq */
            ck_assert_uint_le(*k->wlen + len, SIM_WIRE);
            memcpy(k->wire + *k->wlen, msg, len);
            *k->wlen += len;
        }
        if (k->d2s)
            s->bytes_d2s += len;
        else
            s->bytes_s2d += len;
    } else {
        ck_assert_int_eq(cl_relay_lossy_send(k->l, s->now, msg, len), CL_OK);
    }
    if (k->d2s)
        s->msgs_d2s++;
    else
        s->msgs_s2d++;
    return !counted(s) && (s->mode == SIM_STREAM || cl_relay_lossy_can_send(k->l));
}

/* Output of one side. */
static void pump(struct sim *s, struct cl_relay_session *ss, struct cl_relay_lossy *l,
                 uint8_t *wire, size_t *wlen, struct sim_chan *c, bool d2s)
{
    struct sink k = { s, l, wire, wlen, d2s };
    const uint8_t *p;
    size_t len;

    if (s->mode == SIM_STREAM || cl_relay_lossy_can_send(l))
        (void)rd_pull(ss, s->now, sink_out, &k);
    if (s->mode == SIM_STREAM)
        return;
    /* the link's bytes straight from the engine (lend/sent), in wire-sized
     * chunks */
    for (;;) {
        uint8_t buf[1200];
        size_t n = 0;
        while (n < sizeof(buf) && (len = cl_relay_lossy_lend(l, s->now, &p)) > 0) {
            if (len > sizeof(buf) - n)
                len = sizeof(buf) - n;
            memcpy(buf + n, p, len);
            ck_assert_int_eq(cl_relay_lossy_sent(l, len), CL_OK);
            n += len;
        }
        if (n == 0)
            break;
        if (d2s)
            s->bytes_d2s += n;
        else
            s->bytes_s2d += n;
        chan_put(s, c, buf, n);
    }
}

static void events(struct sim *s)
{
    dev_events(s);
    srv_events(s);
}

static void events_apps(void *ctx)
{
    events(ctx);
    apps(ctx);
}

/* Feed msg bytes to a session, handling events as they come. */
static void feed_session(struct sim *s, struct cl_relay_session *ss, const uint8_t *p, size_t n)
{
    ck_assert_int_ne(rd_feed(ss, s->now, p, n, events_apps, s), RD_STALLED);
}

static void deliver_stream(struct sim *s)
{
    uint8_t tmp[SIM_WIRE];
    size_t n;

    if (s->d2s_len > 0) {
        n = s->d2s_len;
        memcpy(tmp, s->d2s, n);
        s->d2s_len = 0;
        feed_session(s, &s->srv, tmp, n);
    }
    if (s->s2d_len > 0) {
        n = s->s2d_len;
        memcpy(tmp, s->s2d, n);
        s->s2d_len = 0;
        feed_session(s, &s->dev, tmp, n);
    }
}

static void deliver_chunk(struct sim *s, struct sim_chan *c, struct cl_relay_lossy *l,
                          struct cl_relay_session *ss)
{
    struct sim_chunk k;
    size_t off = 0;
    const uint8_t *msg;
    size_t mlen;

    if (c->n == 0)
        return;
    k = c->q[0];
    memmove(&c->q[0], &c->q[1], (c->n - 1) * sizeof(c->q[0]));
    c->n--;
    while (off < k.n) {
        int rc = cl_relay_lossy_feed(l, s->now, k.b + off, k.n - off);
        if (rc < 0) {
            s->link_failures++;
            cut(s);
            return;
        }
        off += (size_t)rc;
        rc = cl_relay_lossy_take(l, &msg, &mlen);
        if (rc == CL_OK) {
            uint8_t copy[1200];
            memcpy(copy, msg, mlen);
            feed_session(s, ss, copy, mlen);
        } else if (rc == CL_ERR_TOO_LONG) {
            if (cl_relay_session_too_large(ss, s->now, msg, mlen) != CL_OK)
                s->err_events++;
            events_apps(s);
        }
    }
}

static void step(struct sim *s)
{
    events(s);
    apps(s);
    pump(s, &s->dev, &s->dl, s->d2s, &s->d2s_len, &s->cd2s, true);
    pump(s, &s->srv, &s->sl, s->s2d, &s->s2d_len, &s->cs2d, false);
    if (s->mode == SIM_STREAM) {
        deliver_stream(s);
    } else {
        deliver_chunk(s, &s->cd2s, &s->sl, &s->srv);
        deliver_chunk(s, &s->cs2d, &s->dl, &s->dev);
    }
    if (s->cut_pending && (s->mode == SIM_STREAM ||
                           (s->cd2s.n == 0 && s->cs2d.n == 0)))
        cut(s);
    events(s);
    s->now += 10;
    if (cl_relay_session_timeout(&s->dev, s->now) != CL_OK)
        s->err_events += cl_relay_session_state(&s->dev) != CL_RELAY_ST_CLOSED;
    if (cl_relay_session_timeout(&s->srv, s->now) != CL_OK)
        s->err_events += cl_relay_session_state(&s->srv) != CL_RELAY_ST_CLOSED;
    if (s->mode == SIM_LOSSY &&
        (cl_relay_lossy_timeout(&s->dl, s->now) != CL_OK ||
         cl_relay_lossy_timeout(&s->sl, s->now) != CL_OK)) {
        s->link_failures++;
        cut(s);
    }
}

/* see sim.h */
long sim_run(struct sim *s, long max_steps)
{
    long i;

    connect(s);
    for (i = 0; i < max_steps; i++) {
        if (cl_relay_session_state(&s->dev) == CL_RELAY_ST_CLOSED &&
            cl_relay_session_state(&s->srv) == CL_RELAY_ST_CLOSED && s->cd2s.n == 0 &&
            s->cs2d.n == 0)
            return i;
        step(s);
        /* a side whose transport went away without the other noticing */
        if (cl_relay_session_state(&s->dev) == CL_RELAY_ST_SUSPENDED ||
            cl_relay_session_state(&s->dev) == CL_RELAY_ST_IDLE)
            cut(s);
    }
    if (getenv("SIM_DEBUG"))
        fprintf(stderr, "sim stuck: dev st %u busy %d replay %zu err %d; srv st %u busy %d replay %zu err %d;"
                " next_req %d sent %d pend %d cuts %d fails %d lossy dl can send %d err %d sl can send %d err %d chan %zu %zu\n",
                cl_relay_session_state(&s->dev), cl_relay_session_busy(&s->dev),
                cl_relay_session_replay_used(&s->dev), cl_relay_session_error(&s->dev),
                cl_relay_session_state(&s->srv), cl_relay_session_busy(&s->srv),
                cl_relay_session_replay_used(&s->srv), cl_relay_session_error(&s->srv), s->next_req,
                s->srv_sent, s->dev_pending, s->cuts, s->link_failures,
                cl_relay_lossy_can_send(&s->dl), cl_relay_lossy_error(&s->dl),
                cl_relay_lossy_can_send(&s->sl), cl_relay_lossy_error(&s->sl), s->cd2s.n, s->cs2d.n);
    return -1;
}
