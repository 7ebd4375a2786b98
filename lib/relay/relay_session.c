/*
 * cardlink — relay protocol sessions: the engine shared by both roles.
 * SPDX-License-Identifier: Apache-2.0
 *
 * docs/protocol.md §7 (sequencing), §8 (resumption), §9 (idempotency),
 * §11 (state machines). Role-specific message handling is in
 * relay_session_roles.c.
 */
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/relay_session.h"
#include "relay_session_int.h"

/* Whether time a is at or after b on a wrapping millisecond counter. */
bool cl_rs_time_reached(uint32_t a, uint32_t b)
{
    return (uint32_t)(a - b) < 0x80000000u;
}

/* see cardlink/relay_session.h */
void cl_relay_session_init(struct cl_relay_session *s, uint8_t role,
                           const struct cl_relay_session_config *cfg, uint8_t *rx,
                           size_t rx_size, uint8_t *replay, size_t replay_size)
{
    memset(s, 0, sizeof(*s));
    s->role = role;
    s->cfg = cfg;
    cl_relay_stream_init(&s->in, rx, rx_size);
    s->rb = replay;
    s->rb_size = replay != NULL ? replay_size : 0;
    s->state = CL_RELAY_ST_IDLE;
    cl_rs_new_session(s);
    s->has_session = false;
    if ((role != CL_RELAY_DEVICE && role != CL_RELAY_SERVER) || cfg == NULL || rx == NULL)
        s->err = CL_ERR_ARG;
}

/* see cardlink/relay_session.h */
void cl_relay_session_free(struct cl_relay_session *s)
{
    volatile uint8_t *p = (volatile uint8_t *)s;
    size_t i;

    if (s == NULL)
        return;
    for (i = 0; i < sizeof(*s); i++)
        p[i] = 0;
}

/*
 * Whether a[0..alen) equals b[0..blen): the lengths compared first, then
 * every byte, in time that depends on the length only (for the resume
 * token, a secret; no memcmp, which stops at the first difference).
 */
bool cl_rs_same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    volatile uint8_t diff = 0;
    size_t i;

    if (alen != blen)
        return false;
    for (i = 0; i < alen; i++)
        diff = (uint8_t)(diff | (a[i] ^ b[i]));
    return diff == 0;
}

/* Forget the numbering and the replay buffer: a fresh session. */
void cl_rs_new_session(struct cl_relay_session *s)
{
    s->tx_seq = 1;
    s->tx_acked = 0;
    s->rx_next = 1;
    s->rx_any = false;
    s->ack_due = false;
    s->rb_used = 0;
    s->rb_tx = 0;
    s->busy = false;
    s->closing = false;
    s->keepalive = 0;
    s->peer_max = s->role == CL_RELAY_SERVER ? 512u : CL_RELAY_MSG_MAX;
    s->has_session = true;
}

/* Record at offset off: message length. */
static size_t rec_len(const struct cl_relay_session *s, size_t off)
{
    return (size_t)s->rb[off] << 8 | s->rb[off + 1];
}

/* Unacknowledged messages in the window. */
static unsigned outstanding(const struct cl_relay_session *s)
{
    return (uint8_t)(s->tx_seq - 1u - s->tx_acked);
}

/* Apply the peer's acknowledgement a: CL_OK, or CL_ERR_SEQUENCE when it
 * covers a message never sent. */
int cl_rs_ack(struct cl_relay_session *s, uint8_t a)
{
    unsigned d = (uint8_t)(a - s->tx_acked), i;

    if (d > outstanding(s))
        return CL_ERR_SEQUENCE;
    for (i = 0; i < d; i++) {
        size_t n = CL_RELAY_REPLAY_REC + rec_len(s, 0);
        memmove(s->rb, s->rb + n, s->rb_used - n);
        s->rb_used -= n;
        s->rb_tx = s->rb_tx > n ? s->rb_tx - n : 0;
    }
    s->tx_acked = a;
    return CL_OK;
}

/* Queue a control message (unsequenced) built from m. */
int cl_rs_ctrl(struct cl_relay_session *s, struct cl_relay_msg *m, bool first)
{
    size_t len;
    int rc;

    m->seq = 0;
    m->ref = 0;
    if (m->type == CL_RELAY_KEEPALIVE) {
        m->flags = s->rx_any ? CL_RELAY_F_ACK : 0;
        m->ack = s->rx_any ? (uint8_t)(s->rx_next - 1u) : 0;
    } else if (m->type == CL_RELAY_CLOSE) {
        m->flags = 0;
        m->ack = 0;
    }
    rc = cl_relay_encode(m, s->ctrl, sizeof(s->ctrl), &len);
    if (rc != CL_OK)
        return rc;
    s->ctrl_len = len;
    s->ctrl_first = first;
    s->ctrl_close = m->type == CL_RELAY_CLOSE;
    return CL_OK;
}

/* Fail: queue CLOSE with the code, raise CLOSED, keep the error. */
void cl_rs_fail(struct cl_relay_session *s, int err)
{
    struct cl_relay_msg m;

    cl_relay_msg_init(&m, CL_RELAY_CLOSE);
    m.u.status.code = cl_relay_err_to_wire(err);
    s->ctrl_len = 0;
    if (cl_rs_ctrl(s, &m, true) != CL_OK)
        s->ctrl_len = 0;
    s->state = CL_RELAY_ST_CLOSED;
    s->has_session = false;
    s->token_len = 0;
    s->err = err;
    s->rb_used = 0;
    s->rb_tx = 0;
    s->busy = false;
    cl_rs_event(s, CL_RELAY_EV_CLOSED, NULL);
    s->ev.err = err;
}

/* Raise an event (the slot is free: feed stops after each one). */
void cl_rs_event(struct cl_relay_session *s, uint8_t kind, const struct cl_relay_msg *m)
{
    memset(&s->ev, 0, sizeof(s->ev));
    s->ev.kind = kind;
    s->ev.msg = m;
    s->ev_pending = true;
}

/*
 * Append a sequenced message to the replay buffer: seq assigned, REF as
 * set by the caller in m. The encoding is canonical and decodes again.
 * *out and *out_len (optional) give the stored bytes.
 */
int cl_rs_queue(struct cl_relay_session *s, struct cl_relay_msg *m, const uint8_t **out,
                size_t *out_len)
{
    size_t len, room;
    uint8_t *p;
    int rc;

    if (outstanding(s) >= CL_RELAY_WINDOW_MAX)
        return CL_ERR_LIMIT;
    if (s->rb_used + CL_RELAY_REPLAY_REC > s->rb_size)
        return CL_ERR_LIMIT;
    room = s->rb_size - s->rb_used - CL_RELAY_REPLAY_REC;
    p = s->rb + s->rb_used + CL_RELAY_REPLAY_REC;
    m->seq = s->tx_seq;
    m->flags = (uint8_t)(m->flags & CL_RELAY_F_REF);
    if ((m->flags & CL_RELAY_F_REF) == 0)
        m->ref = 0;
    m->ack = 0;
    rc = cl_relay_encode(m, p, room, &len);
    if (rc == CL_ERR_BUFFER)
        return CL_ERR_LIMIT;
    if (rc != CL_OK)
        return rc;
    if (len > s->peer_max)
        return CL_ERR_TOO_LONG;
    return cl_rs_queue_raw(s, NULL, len, out, out_len);
}

/* Append len encoded bytes (at the record's place already when src is
 * NULL) as the next sequenced message: seq patched in. */
int cl_rs_queue_raw(struct cl_relay_session *s, const uint8_t *src, size_t len,
                    const uint8_t **out, size_t *out_len)
{
    uint8_t *r;

    if (outstanding(s) >= CL_RELAY_WINDOW_MAX ||
        s->rb_used + CL_RELAY_REPLAY_REC + len > s->rb_size || len > 0xFFFFu + 8u)
        return CL_ERR_LIMIT;
    if (len > s->peer_max)
        return CL_ERR_TOO_LONG;
    if (len > 0xFFFFu || len < CL_RELAY_HEADER_LEN)
        return CL_ERR_LIMIT;
    r = s->rb + s->rb_used;
    if (src != NULL)
        memmove(r + CL_RELAY_REPLAY_REC, src, len);
    r[0] = (uint8_t)(len >> 8);
    r[1] = (uint8_t)len;
    r[2] = 0;
    r[CL_RELAY_REPLAY_REC + 3] = s->tx_seq;
    s->rb_used += CL_RELAY_REPLAY_REC + len;
    s->tx_seq++;
    if (out != NULL)
        *out = r + CL_RELAY_REPLAY_REC;
    if (out_len != NULL)
        *out_len = len;
    return CL_OK;
}

/* see cardlink/relay_session.h */
void cl_relay_session_disconnect(struct cl_relay_session *s, uint32_t now)
{
    (void)now;
    if (s == NULL || s->state == CL_RELAY_ST_CLOSED)
        return;
    cl_relay_stream_reset(&s->in);
    s->ctrl_len = 0;
    s->rb_tx = 0;
    s->state = s->has_session && (s->token_len > 0) ? CL_RELAY_ST_SUSPENDED : CL_RELAY_ST_IDLE;
    if (s->state == CL_RELAY_ST_IDLE)
        s->has_session = false;
}

/* see cardlink/relay_session.h */
int cl_relay_session_feed(struct cl_relay_session *s, uint32_t now, const uint8_t *in, size_t len,
                          size_t *consumed)
{
    size_t used = 0, n;
    int rc;

    if (consumed != NULL)
        *consumed = 0;
    if (s == NULL || consumed == NULL || (in == NULL && len > 0))
        return CL_ERR_ARG;
    if (s->err != CL_OK)
        return s->err;
    if (s->state == CL_RELAY_ST_CLOSED)
        return CL_ERR_CLOSED;
    if (s->state != CL_RELAY_ST_HELLO && s->state != CL_RELAY_ST_OPEN)
        return CL_ERR_STATE;
    while (!s->ev_pending && !s->dead_pending && s->state != CL_RELAY_ST_CLOSED) {
        const uint8_t *msg;
        size_t mlen;

        rc = cl_relay_stream_feed(&s->in, in + used, len - used, &n);
        used += n;
        if (rc != CL_OK) {
            s->last_rx = now;
            cl_rs_fail(s, rc);
            break;
        }
        if (cl_relay_stream_take(&s->in, &msg, &mlen) != CL_OK)
            break;
        s->last_rx = now;
        cl_rs_message(s, now, msg, mlen);
    }
    *consumed = used;
    if (s->state == CL_RELAY_ST_CLOSED && s->err == CL_OK)
        return CL_ERR_CLOSED;
    return s->err;
}

/* see cardlink/relay_session.h */
bool cl_relay_session_poll(struct cl_relay_session *s, struct cl_relay_event *ev)
{
    if (s->ev_pending) {
        *ev = s->ev;
        s->ev_pending = false;
        return true;
    }
    if (s->dead_pending) {
        memset(ev, 0, sizeof(*ev));
        ev->kind = CL_RELAY_EV_LINK_DEAD;
        ev->err = CL_ERR_TIMEOUT;
        s->dead_pending = false;
        return true;
    }
    memset(ev, 0, sizeof(*ev));
    return false;
}

/* A KEEPALIVE is due: an ack waited long enough, or K passed silently. */
static bool keepalive_due(const struct cl_relay_session *s, uint32_t now)
{
    uint32_t delay = s->cfg->ack_delay_ms != 0 ? s->cfg->ack_delay_ms : 1000u;

    if (s->state != CL_RELAY_ST_OPEN)
        return false;
    if (s->ack_due && cl_rs_time_reached(now, s->ack_since + delay - 1u))
        return true;
    return s->keepalive != 0 &&
           cl_rs_time_reached(now, s->last_tx + (uint32_t)s->keepalive * 1000u);
}

/* see cardlink/relay_session.h */
bool cl_relay_session_pull(struct cl_relay_session *s, uint32_t now, const uint8_t **msg,
                           size_t *len)
{
    struct cl_relay_msg m;

    if (s->ctrl_len > 0 && (s->ctrl_first || s->state == CL_RELAY_ST_CLOSED)) {
        *msg = s->ctrl;
        *len = s->ctrl_len;
        s->ctrl_len = 0;
        s->last_tx = now;
        if (s->ctrl_close) {
            s->state = CL_RELAY_ST_CLOSED;
            s->has_session = false;
            s->token_len = 0;
        }
        return true;
    }
    if (s->state != CL_RELAY_ST_OPEN)
        return false;
    if (s->rb_tx < s->rb_used) {
        uint8_t *r = s->rb + s->rb_tx;
        uint8_t *p = r + CL_RELAY_REPLAY_REC;
        p[2] = (uint8_t)(p[2] & ~(CL_RELAY_F_ACK | CL_RELAY_F_REPLAY));
        p[4] = 0;
        if (r[2] != 0) {
            p[2] |= CL_RELAY_F_REPLAY;
            s->replayed++;
        }
        if (s->rx_any) {
            p[2] |= CL_RELAY_F_ACK;
            p[4] = (uint8_t)(s->rx_next - 1u);
            s->ack_due = false;
        }
        r[2] = 1;
        *msg = p;
        *len = rec_len(s, s->rb_tx);
        s->rb_tx += CL_RELAY_REPLAY_REC + *len;
        s->last_tx = now;
        return true;
    }
    if (s->closing) {           /* CLOSE after the queue */
        cl_relay_msg_init(&m, CL_RELAY_CLOSE);
        m.u.status.code = s->close_reason;
        if (cl_rs_ctrl(s, &m, false) != CL_OK)
            return false;
        s->closing = false;
        *msg = s->ctrl;
        *len = s->ctrl_len;
        s->ctrl_len = 0;
        s->last_tx = now;
        s->state = CL_RELAY_ST_CLOSED;
        s->has_session = false;
        s->token_len = 0;
        return true;
    }
    if (keepalive_due(s, now)) {
        cl_relay_msg_init(&m, CL_RELAY_KEEPALIVE);
        if (cl_rs_ctrl(s, &m, false) != CL_OK)
            return false;
        s->ack_due = false;
        *msg = s->ctrl;
        *len = s->ctrl_len;
        s->ctrl_len = 0;
        s->last_tx = now;
        return true;
    }
    return false;
}

/* see cardlink/relay_session.h */
int cl_relay_session_close(struct cl_relay_session *s, uint32_t now, uint8_t reason)
{
    struct cl_relay_msg m;
    int rc;

    (void)now;
    if (s == NULL)
        return CL_ERR_ARG;
    if (s->state == CL_RELAY_ST_CLOSED || s->closing)
        return CL_ERR_CLOSED;
    if (s->state != CL_RELAY_ST_OPEN && s->state != CL_RELAY_ST_HELLO &&
        s->state != CL_RELAY_ST_SUSPENDED)
        return CL_ERR_STATE;
    if (s->state == CL_RELAY_ST_HELLO) {
        /* nothing is queued before the handshake: CLOSE at once */
        cl_relay_msg_init(&m, CL_RELAY_CLOSE);
        m.u.status.code = reason;
        if ((rc = cl_rs_ctrl(s, &m, true)) != CL_OK)
            return rc;
        s->state = CL_RELAY_ST_CLOSED;
        s->has_session = false;
        s->token_len = 0;
        return CL_OK;
    }
    s->closing = true;
    s->close_reason = reason;
    return CL_OK;
}

/* see cardlink/relay_session.h */
int cl_relay_session_tick(struct cl_relay_session *s, uint32_t now)
{
    uint32_t k, n, hello;

    if (s == NULL)
        return CL_ERR_ARG;
    if (s->err != CL_OK)
        return s->err;
    hello = s->cfg->hello_timeout_ms != 0 ? s->cfg->hello_timeout_ms : 10000u;
    if (s->state == CL_RELAY_ST_HELLO && cl_rs_time_reached(now, s->hello_at + hello)) {
        cl_relay_session_disconnect(s, now);
        s->dead_pending = true;
    } else if (s->state == CL_RELAY_ST_OPEN && s->keepalive != 0) {
        n = s->cfg->keepalive_missed != 0 ? s->cfg->keepalive_missed : 3u;
        k = (uint32_t)s->keepalive * 1000u;
        if (cl_rs_time_reached(now, s->last_rx + n * k)) {
            cl_relay_session_disconnect(s, now);
            s->dead_pending = true;
        }
    }
    return CL_OK;
}

/* Smaller of the time left to deadline and best. */
static uint32_t until(uint32_t now, uint32_t deadline, uint32_t best)
{
    uint32_t d = cl_rs_time_reached(now, deadline) ? 0 : deadline - now;
    return d < best ? d : best;
}

/* see cardlink/relay_session.h */
uint32_t cl_relay_session_timeout(const struct cl_relay_session *s, uint32_t now)
{
    uint32_t best = CL_RELAY_NO_TIMER, k, n;

    if (s->err != CL_OK)
        return best;
    if (s->state == CL_RELAY_ST_HELLO)
        best = until(now, s->hello_at +
                              (s->cfg->hello_timeout_ms != 0 ? s->cfg->hello_timeout_ms : 10000u),
                     best);
    if (s->state == CL_RELAY_ST_OPEN) {
        if (s->ack_due)
            best = until(now, s->ack_since + (s->cfg->ack_delay_ms != 0 ? s->cfg->ack_delay_ms
                                                                         : 1000u) - 1u, best);
        if (s->keepalive != 0) {
            n = s->cfg->keepalive_missed != 0 ? s->cfg->keepalive_missed : 3u;
            k = (uint32_t)s->keepalive * 1000u;
            best = until(now, s->last_tx + k, best);
            best = until(now, s->last_rx + n * k, best);
        }
    }
    return best;
}

/* see cardlink/relay_session.h */
uint8_t cl_relay_session_state(const struct cl_relay_session *s)
{
    return s->state;
}

/* see cardlink/relay_session.h */
bool cl_relay_session_busy(const struct cl_relay_session *s)
{
    return s->busy;
}

/* see cardlink/relay_session.h */
const uint8_t *cl_relay_session_token(const struct cl_relay_session *s, size_t *len)
{
    *len = s->token_len;
    return s->token;
}

/* see cardlink/relay_session.h */
int cl_relay_session_error(const struct cl_relay_session *s)
{
    return s->err;
}

/* ------------------------------------------------------------ txn table */

static int table_lookup(void *ctx, const uint8_t id[CL_RELAY_TXN_ID_LEN], const uint8_t **answer,
                        size_t *len)
{
    struct cl_relay_txn_table *t = ctx;
    size_t i;

    for (i = 0; i < t->n; i++)
        if (t->slots[i].used && memcmp(t->slots[i].id, id, CL_RELAY_TXN_ID_LEN) == 0) {
            *answer = t->slots[i].answer;
            *len = t->slots[i].len;
            return CL_OK;
        }
    return CL_ERR_NOT_FOUND;
}

static int table_record(void *ctx, const uint8_t id[CL_RELAY_TXN_ID_LEN], const uint8_t *answer,
                        size_t len)
{
    struct cl_relay_txn_table *t = ctx;
    struct cl_relay_txn_slot *sl;

    if (t->n == 0)
        return CL_OK;
    sl = &t->slots[t->next];
    if (++t->next >= t->n)
        t->next = 0;
    memcpy(sl->id, id, CL_RELAY_TXN_ID_LEN);
    sl->used = true;
    sl->len = 0;
    if (len <= sizeof(sl->answer)) {
        memcpy(sl->answer, answer, len);
        sl->len = (uint16_t)len;
    }
    t->records++;
    return CL_OK;
}

/* see cardlink/relay_session.h */
void cl_relay_txn_table_init(struct cl_relay_txn_table *t, struct cl_relay_txn_slot *slots,
                             size_t n, struct cl_relay_txn_log *log)
{
    t->slots = slots;
    t->n = slots != NULL ? n : 0;
    t->next = 0;
    t->records = 0;
    if (t->n > 0)
        memset(slots, 0, n * sizeof(*slots));
    if (log != NULL) {
        log->lookup = table_lookup;
        log->record = table_record;
        log->ctx = t;
    }
}
