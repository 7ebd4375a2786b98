/*
 * cardlink — relay protocol sessions: the engine shared by both roles.
 * SPDX-License-Identifier: Apache-2.0
 *
 * docs/protocol.md §7 (sequencing), §8 (resumption), §9 (idempotency),
 * §11 (state machines). Every change of state goes through cl_rs_enter(),
 * which does what the §11 tables say every way into a state does; the
 * role-specific rows (the handshake, incoming messages, send) are in
 * relay_session_roles.c.
 */
#include <limits.h>
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/relay_session.h"
#include "cardlink/wipe.h"
#include "relay_session_int.h"

/* Whether time a is at or after b on a wrapping millisecond counter. */
bool cl_rs_time_reached(uint32_t a, uint32_t b)
{
    return (uint32_t)(a - b) < 0x80000000u;
}

/* see cardlink/relay_session.h */
void cl_relay_session_init(struct cl_relay_session *s)
{
    if (s != NULL)
        memset(s, 0, sizeof(*s));
}

/* see cardlink/relay_session.h */
int cl_relay_session_setup(struct cl_relay_session *s, uint8_t role,
                           const struct cl_relay_session_config *cfg, uint8_t *rx,
                           size_t rx_size, uint8_t *replay, size_t replay_size)
{
    if (s == NULL)
        return CL_ERR_ARG;
    cl_relay_session_init(s);
    if ((role != CL_RELAY_DEVICE && role != CL_RELAY_SERVER) || cfg == NULL || rx == NULL ||
        rx_size < CL_RELAY_HEADER_LEN)
        return CL_ERR_ARG;
    if (!CL_RELAY_SERVER_ROLE && role == CL_RELAY_SERVER)
        return CL_ERR_UNSUPPORTED;
    if (role == CL_RELAY_DEVICE &&
        (cfg->device_id == NULL || cfg->device_id_len == 0 || cfg->device_id_len > 32 ||
         (cfg->versions != NULL && (cfg->nversions == 0 || cfg->nversions > 8))))
        return CL_ERR_ARG;
    s->role = role;
    s->cfg = cfg;
    cl_relay_stream_init(&s->in, rx, rx_size);
    s->rb = replay;
    s->rb_size = replay != NULL ? replay_size : 0;
    cl_rs_new_session(s);
    s->has_session = false;
    return CL_OK;
}

/* see cardlink/relay_session.h */
void cl_relay_session_free(struct cl_relay_session *s)
{
    if (s != NULL)
        cl_wipe(s, sizeof(*s));
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

/*
 * Enter a state of §11. CLOSED ("drop session and token"): no session, the
 * token wiped, the replay buffer and any request dropped; a CLOSE already
 * queued still goes out. IDLE / SUSPENDED (no transport): nothing half
 * received or half sent survives; the session (SUSPENDED) and its replay
 * buffer are kept. HELLO / OPEN need nothing more.
 */
void cl_rs_enter(struct cl_relay_session *s, uint8_t state)
{
    s->state = state;
    s->ka_due = false;
    if (state == CL_RELAY_ST_CLOSED) {
        s->has_session = false;
        s->busy = false;
        s->closing = false;
        s->rb_used = 0;
        s->rb_tx = 0;
        s->token_len = 0;
        cl_wipe(s->token, sizeof(s->token));
        if (s->out_kind == CL_RS_OUT_REC)
            s->out_kind = CL_RS_OUT_NONE;
    } else if (state == CL_RELAY_ST_IDLE || state == CL_RELAY_ST_SUSPENDED) {
        cl_relay_stream_reset(&s->in);
        s->ctrl_len = 0;
        s->rb_tx = 0;
        s->out_kind = CL_RS_OUT_NONE;
        if (state == CL_RELAY_ST_IDLE)
            s->has_session = false;
    }
    if (s->out_kind == CL_RS_OUT_NONE)
        s->out_off = 0;
}

/* A transport came up (connect, accept): HELLO / HELLO-SENT. */
void cl_rs_transport_up(struct cl_relay_session *s, uint32_t now)
{
    if (s->state == CL_RELAY_ST_CLOSED || s->err != CL_OK) {
        s->err = CL_OK;
        cl_rs_enter(s, CL_RELAY_ST_CLOSED);
    }
    cl_relay_stream_reset(&s->in);
    s->ev_pending = false;
    s->dead_pending = false;
    s->hello_at = now;
    s->last_rx = now;
    s->rb_tx = 0;
    s->state = CL_RELAY_ST_HELLO;
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
    if (s->out_kind == CL_RS_OUT_REC) {
        s->out_kind = CL_RS_OUT_NONE;
        s->out_off = 0;
    }
    s->busy = false;
    s->closing = false;
    s->keepalive = 0;
    s->peer_max = CL_RS_DEVICE(s) ? CL_RELAY_MSG_MAX : 512u;
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
 * covers a message never sent (§7.2: queued is not sent). */
int cl_rs_ack(struct cl_relay_session *s, uint8_t a)
{
    unsigned d = (uint8_t)(a - s->tx_acked), i;
    size_t off = 0;

    for (i = 0; i < d; i++) {
        if (off >= s->rb_used || s->rb[off + 2] == 0)
            return CL_ERR_SEQUENCE;
        off += CL_RELAY_REPLAY_REC + rec_len(s, off);
    }
    if (off > 0) {
        if (s->out_kind == CL_RS_OUT_REC && s->rb_tx < off) {
            s->out_kind = CL_RS_OUT_NONE;   /* the peer has the one being replayed */
            s->out_off = 0;
        }
        memmove(s->rb, s->rb + off, s->rb_used - off);
        s->rb_used -= off;
        s->rb_tx = s->rb_tx > off ? s->rb_tx - off : 0;
    }
    s->tx_acked = a;
    return CL_OK;
}

/* The acknowledgement this side sends (§7.2): ACK and the last seq
 * received, once a sequenced message was received. */
void cl_rs_ack_fields(const struct cl_relay_session *s, struct cl_relay_msg *m)
{
    if (s->rx_any) {
        m->flags |= CL_RELAY_F_ACK;
        m->ack = (uint8_t)(s->rx_next - 1u);
    }
}

/* Queue a control message (unsequenced) built from m, as
 * cl_relay_msg_init() left it but for its fields (seq and ref 0). */
int cl_rs_ctrl(struct cl_relay_session *s, struct cl_relay_msg *m, bool first)
{
    size_t len;
    int rc;

    if (s->out_kind == CL_RS_OUT_CTRL) {
        s->out_kind = CL_RS_OUT_NONE;
        s->out_off = 0;
    }
    rc = cl_relay_encode(m, s->ctrl, sizeof(s->ctrl), &len);
    if (rc != CL_OK)
        return rc;
    s->ctrl_len = len;
    s->ctrl_first = first;
    s->ctrl_close = m->type == CL_RELAY_CLOSE;
    return CL_OK;
}

/* Queue a CLOSE (code: the reason) or a KEEPALIVE (with the ack). */
int cl_rs_ctrl_code(struct cl_relay_session *s, uint8_t type, uint8_t code, bool first)
{
    struct cl_relay_msg m;

    cl_relay_msg_init(&m, type);
    m.u.status.code = code;
    if (type == CL_RELAY_KEEPALIVE)
        cl_rs_ack_fields(s, &m);
    return cl_rs_ctrl(s, &m, first);
}

/* Closed with err (CL_OK: normally): CLOSED entered, the event raised,
 * the error kept. */
void cl_rs_closed(struct cl_relay_session *s, int err)
{
    s->err = err;
    cl_rs_enter(s, CL_RELAY_ST_CLOSED);
    cl_rs_event(s, CL_RELAY_EV_CLOSED, NULL, err);
}

/* Fail: queue CLOSE with the code, enter CLOSED, raise CLOSED, keep the
 * error. */
void cl_rs_fail(struct cl_relay_session *s, int err)
{
    if (cl_rs_ctrl_code(s, CL_RELAY_CLOSE, cl_relay_err_to_wire(err), true) != CL_OK)
        s->ctrl_len = 0;
    cl_rs_closed(s, err);
}

/* Raise an event (the slot is free: feed stops after each one). */
void cl_rs_event(struct cl_relay_session *s, uint8_t kind, const struct cl_relay_msg *m, int err)
{
    memset(&s->ev, 0, sizeof(s->ev));
    s->ev.kind = kind;
    s->ev.msg = m;
    s->ev.err = err;
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
    size_t len;
    int rc;

    if (outstanding(s) >= CL_RELAY_WINDOW_MAX ||
        s->rb_used + CL_RELAY_REPLAY_REC > s->rb_size)
        return CL_ERR_LIMIT;
    m->seq = s->tx_seq;
    m->flags = (uint8_t)(m->flags & CL_RELAY_F_REF);
    if ((m->flags & CL_RELAY_F_REF) == 0)
        m->ref = 0;
    m->ack = 0;
    rc = cl_relay_encode(m, s->rb + s->rb_used + CL_RELAY_REPLAY_REC,
                         s->rb_size - s->rb_used - CL_RELAY_REPLAY_REC, &len);
    if (rc == CL_ERR_BUFFER)
        return CL_ERR_LIMIT;
    if (rc != CL_OK)
        return rc;
    return cl_rs_queue_raw(s, NULL, len, out, out_len);
}

/* Append len encoded bytes (at the record's place already when src is
 * NULL) as the next sequenced message: seq patched in. */
int cl_rs_queue_raw(struct cl_relay_session *s, const uint8_t *src, size_t len,
                    const uint8_t **out, size_t *out_len)
{
    uint8_t *r;

    if (outstanding(s) >= CL_RELAY_WINDOW_MAX || len > 0xFFFFu ||
        s->rb_used + CL_RELAY_REPLAY_REC + len > s->rb_size)
        return CL_ERR_LIMIT;
    if (len > s->peer_max)
        return CL_ERR_TOO_LONG;
    if (len < CL_RELAY_HEADER_LEN)
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
    cl_rs_enter(s, s->has_session && s->token_len > 0 ? CL_RELAY_ST_SUSPENDED
                                                      : CL_RELAY_ST_IDLE);
}

/* Whether bytes from the transport may be fed now: CL_OK or why not. */
static int feedable(const struct cl_relay_session *s, const uint8_t *in, size_t len)
{
    if (s == NULL || (in == NULL && len > 0) || s->role == 0)
        return CL_ERR_ARG;
    if (s->err != CL_OK)
        return s->err;
    if (s->state == CL_RELAY_ST_CLOSED)
        return CL_ERR_CLOSED;
    if (s->state != CL_RELAY_ST_HELLO && s->state != CL_RELAY_ST_OPEN)
        return CL_ERR_STATE;
    return CL_OK;
}

/* see cardlink/relay_session.h */
int cl_relay_session_too_large(struct cl_relay_session *s, uint32_t now, const uint8_t *start,
                               size_t len)
{
    int rc = feedable(s, start, len | (start == NULL));

    if (rc != CL_OK)
        return rc;
    if (s->ev_pending || s->dead_pending)
        return CL_ERR_STATE;
    s->last_rx = now;
    cl_rs_message(s, now, start, len, CL_ERR_TOO_LONG);
    return s->err;
}

/* see cardlink/relay_session.h */
int cl_relay_session_feed(struct cl_relay_session *s, uint32_t now, const uint8_t *in, size_t len)
{
    size_t used = 0;
    int rc = feedable(s, in, len);

    if (rc != CL_OK)
        return rc;
    if (len > INT_MAX)
        len = INT_MAX;
    while (!s->ev_pending && !s->dead_pending && s->state != CL_RELAY_ST_CLOSED) {
        const uint8_t *msg;
        size_t mlen;

        rc = cl_relay_stream_feed(&s->in, in + used, len - used);
        if (rc < 0) {
            s->last_rx = now;
            cl_rs_fail(s, rc);
            break;
        }
        used += (size_t)rc;
        if (cl_relay_stream_take(&s->in, &msg, &mlen) != CL_OK)
            break;
        s->last_rx = now;
        cl_rs_message(s, now, msg, mlen, CL_OK);
    }
    return s->err != CL_OK ? s->err : (int)used;
}

/* see cardlink/relay_session.h */
bool cl_relay_session_poll(struct cl_relay_session *s, struct cl_relay_event *ev)
{
    if (ev != NULL)
        memset(ev, 0, sizeof(*ev));
    if (s == NULL || ev == NULL)
        return false;
    if (s->ev_pending) {
        *ev = s->ev;
        s->ev_pending = false;
        return true;
    }
    if (s->dead_pending) {
        ev->kind = CL_RELAY_EV_LINK_DEAD;
        ev->err = CL_ERR_TIMEOUT;
        s->dead_pending = false;
        return true;
    }
    return false;
}

/* Smaller of the time left to deadline and best. */
static uint32_t until(uint32_t now, uint32_t deadline, uint32_t best)
{
    uint32_t d = cl_rs_time_reached(now, deadline) ? 0 : deadline - now;
    return d < best ? d : best;
}

/* Smaller of best and the time until a KEEPALIVE is due (OPEN): an ack
 * waiting too long, or K passed silently; 0 when due. */
static uint32_t keepalive_in(const struct cl_relay_session *s, uint32_t now, uint32_t best)
{
    uint32_t delay = s->cfg->ack_delay_ms != 0 ? s->cfg->ack_delay_ms : 1000u;

    if (s->ack_due)
        best = until(now, s->ack_since + delay - 1u, best);
    if (s->keepalive != 0)
        best = until(now, s->last_tx + (uint32_t)s->keepalive * 1000u, best);
    return best;
}

/* The control message waits to go before anything else. */
static bool ctrl_ready(const struct cl_relay_session *s)
{
    return s->ctrl_len > 0 && (s->ctrl_first || s->state == CL_RELAY_ST_CLOSED);
}

/* Output that waits regardless of time. */
static bool output_ready(const struct cl_relay_session *s)
{
    return s->out_kind != CL_RS_OUT_NONE || ctrl_ready(s) ||
           (s->state == CL_RELAY_ST_OPEN && (s->rb_tx < s->rb_used || s->closing || s->ka_due));
}

/* see cardlink/relay_session.h */
enum cl_want cl_relay_session_want(const struct cl_relay_session *s)
{
    if (s == NULL)
        return CL_WANT_FAILED;
    if (s->ev_pending || s->dead_pending)
        return CL_WANT_DONE;
    if (output_ready(s))
        return CL_WANT_SEND;
    switch (s->state) {
    case CL_RELAY_ST_CLOSED:
        return s->err != CL_OK ? CL_WANT_FAILED : CL_WANT_CLOSED;
    case CL_RELAY_ST_HELLO:
    case CL_RELAY_ST_OPEN:
        return CL_WANT_RECV;
    default:
        return CL_WANT_IDLE;
    }
}

/* Choose the next message to lend; false when none is due. */
static bool next_out(struct cl_relay_session *s, uint32_t now)
{
    if (ctrl_ready(s)) {
        s->out_kind = CL_RS_OUT_CTRL;
        return true;
    }
    if (s->state != CL_RELAY_ST_OPEN)
        return false;
    if (s->rb_tx < s->rb_used) {
        uint8_t *r = s->rb + s->rb_tx;
        uint8_t *p = r + CL_RELAY_REPLAY_REC;
        p[2] = (uint8_t)(p[2] & ~(CL_RELAY_F_ACK | CL_RELAY_F_REPLAY));
        p[4] = 0;
        if (r[2] != 0)
            p[2] |= CL_RELAY_F_REPLAY;     /* §8: a retransmission, not a late first copy */
        if (s->rx_any) {
            p[2] |= CL_RELAY_F_ACK;
            p[4] = (uint8_t)(s->rx_next - 1u);
            s->ack_due = false;
        }
        s->out_kind = CL_RS_OUT_REC;
        s->ka_due = false;                 /* it carries the ack, and resets K */
        return true;
    }
    /* CLOSE after the queue, else a KEEPALIVE when due */
    if (!s->closing && !s->ka_due && keepalive_in(s, now, CL_TIMER_NONE) != 0)
        return false;
    if (cl_rs_ctrl_code(s, s->closing ? CL_RELAY_CLOSE : CL_RELAY_KEEPALIVE, s->close_reason,
                        false) != CL_OK)
        return false;
    s->ack_due = s->ka_due = false;
    s->out_kind = CL_RS_OUT_CTRL;
    return true;
}

/* Size of what is lent. */
static size_t out_len(const struct cl_relay_session *s)
{
    if (s->out_kind == CL_RS_OUT_CTRL)
        return s->ctrl_len;
    return s->out_kind == CL_RS_OUT_REC ? rec_len(s, s->rb_tx) : 0;
}

/* see cardlink/relay_session.h */
size_t cl_relay_session_pull(struct cl_relay_session *s, uint32_t now, const uint8_t **p)
{
    const uint8_t *base;

    if (p != NULL)
        *p = NULL;
    if (s == NULL || p == NULL || s->role == 0)
        return 0;
    if (s->out_kind == CL_RS_OUT_NONE) {
        if (!next_out(s, now))
            return 0;
        s->last_tx = now;
    }
    base = s->out_kind == CL_RS_OUT_CTRL ? s->ctrl : s->rb + s->rb_tx + CL_RELAY_REPLAY_REC;
    *p = base + s->out_off;
    return out_len(s) - s->out_off;
}

/* see cardlink/relay_session.h */
int cl_relay_session_sent(struct cl_relay_session *s, size_t n)
{
    size_t len;

    if (s == NULL)
        return CL_ERR_ARG;
    if (n == 0)
        return CL_OK;
    len = out_len(s);
    if (n > len - s->out_off)
        return CL_ERR_ARG;
    s->out_off += n;
    if (s->out_off < len)
        return CL_OK;
    if (s->out_kind == CL_RS_OUT_CTRL) {
        s->ctrl_len = 0;
        if (s->ctrl_close)
            cl_rs_enter(s, CL_RELAY_ST_CLOSED);
    } else {
        uint8_t *r = s->rb + s->rb_tx;
        if (r[2] != 0)
            s->stats.replayed++;
        r[2] = 1;
        s->rb_tx += CL_RELAY_REPLAY_REC + len;
    }
    s->out_kind = CL_RS_OUT_NONE;
    s->out_off = 0;
    return CL_OK;
}

/* see cardlink/relay_session.h */
int cl_relay_session_close(struct cl_relay_session *s, uint32_t now, uint8_t reason)
{
    int rc;

    (void)now;
    if (s == NULL || s->role == 0)      /* not set up (or freed) */
        return CL_ERR_ARG;
    if (s->state == CL_RELAY_ST_CLOSED || s->closing)
        return CL_ERR_CLOSED;
    if (s->state == CL_RELAY_ST_OPEN) {
        s->closing = true;
        s->close_reason = reason;
        return CL_OK;
    }
    if (s->state == CL_RELAY_ST_HELLO) {
        /* nothing is queued before the handshake: CLOSE next */
        if ((rc = cl_rs_ctrl_code(s, CL_RELAY_CLOSE, reason, true)) != CL_OK)
            return rc;
    } else if (s->state != CL_RELAY_ST_SUSPENDED) {
        return CL_ERR_STATE;
    }
    /* SUSPENDED: no transport to carry a CLOSE: the token is void at once */
    cl_rs_enter(s, CL_RELAY_ST_CLOSED);
    return CL_OK;
}

/* Whether a dead-link limit runs: the HELLO time-out, or 3K silence. */
static bool dead_timer(const struct cl_relay_session *s)
{
    return s->state == CL_RELAY_ST_HELLO || (s->state == CL_RELAY_ST_OPEN && s->keepalive != 0);
}

/* When it runs out (absolute). */
static uint32_t dead_at(const struct cl_relay_session *s)
{
    const struct cl_relay_session_config *c = s->cfg;

    if (s->state == CL_RELAY_ST_HELLO)
        return s->hello_at + (c->hello_timeout_ms != 0 ? c->hello_timeout_ms : 10000u);
    return s->last_rx + (c->keepalive_missed != 0 ? c->keepalive_missed : 3u) *
                            (uint32_t)s->keepalive * 1000u;
}

/* see cardlink/relay_session.h */
int cl_relay_session_timeout(struct cl_relay_session *s, uint32_t now)
{
    if (s == NULL || s->role == 0)
        return CL_ERR_ARG;
    if (s->err != CL_OK)
        return s->err;
    if (dead_timer(s) && cl_rs_time_reached(now, dead_at(s))) {
        cl_relay_session_disconnect(s, now);
        s->dead_pending = true;
    } else if (s->state == CL_RELAY_ST_OPEN && keepalive_in(s, now, CL_TIMER_NONE) == 0) {
        s->ka_due = true;                  /* pull() sends it; the timer waits no more */
    }
    return CL_OK;
}

/* see cardlink/relay_session.h */
uint32_t cl_relay_session_timer(const struct cl_relay_session *s, uint32_t now)
{
    uint32_t best = CL_TIMER_NONE;

    if (s == NULL || s->role == 0 || s->err != CL_OK)
        return best;
    if (dead_timer(s))
        best = until(now, dead_at(s), best);
    if (s->state == CL_RELAY_ST_OPEN && !s->ka_due)
        best = keepalive_in(s, now, best);
    return best;
}

/* see cardlink/relay_session.h */
uint8_t cl_relay_session_state(const struct cl_relay_session *s)
{
    return s != NULL ? s->state : (uint8_t)CL_RELAY_ST_IDLE;
}

/* see cardlink/relay_session.h */
bool cl_relay_session_busy(const struct cl_relay_session *s)
{
    return s != NULL && s->busy;
}

/* see cardlink/relay_session.h */
const uint8_t *cl_relay_session_token(const struct cl_relay_session *s, size_t *len)
{
    if (len != NULL)
        *len = 0;
    if (s == NULL || len == NULL)
        return NULL;
    *len = s->token_len;
    return s->token;
}

/* see cardlink/relay_session.h */
int cl_relay_session_error(const struct cl_relay_session *s)
{
    return s != NULL ? s->err : CL_ERR_ARG;
}

/* see cardlink/relay_session.h */
const struct cl_relay_session_stats *cl_relay_session_stats(const struct cl_relay_session *s)
{
    return s != NULL ? &s->stats : NULL;
}

/* see cardlink/relay_session.h */
size_t cl_relay_session_replay_used(const struct cl_relay_session *s)
{
    return s != NULL ? s->rb_used : 0;
}
