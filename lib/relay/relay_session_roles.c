/*
 * cardlink — relay sessions: the role-specific rows of the §11 tables:
 * handshake, incoming messages, sending, for the device and the server
 * (docs/protocol.md §5.1, §5.2, §7-§9, §11).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/relay_session.h"
#include "relay_session_int.h"

static const uint8_t default_versions[1] = { CL_RELAY_VERSION };

/* The transaction id a request carries, or NULL. */
static const uint8_t *request_txn(const struct cl_relay_msg *m)
{
    switch (m->type) {
    case CL_RELAY_APDU:
        return m->u.apdu.txn_id;
    case CL_RELAY_SCRIPT:
        return m->u.script.txn_id;
    case CL_RELAY_TXN_APPROVE:
        return m->u.txn.txn_id;
    default:
        return NULL;
    }
}

/* Queue an ERROR of our own (REF when ref >= 0); failing that, close. */
static void auto_error(struct cl_relay_session *s, uint8_t code, int ref)
{
    struct cl_relay_msg m;
    int rc;

    cl_relay_msg_init(&m, CL_RELAY_ERROR);
    m.u.status.code = code;
    if (ref >= 0) {
        m.flags = CL_RELAY_F_REF;
        m.ref = (uint8_t)ref;
    }
    if ((rc = cl_rs_queue(s, &m, NULL, NULL)) != CL_OK)
        cl_rs_fail(s, rc);
}

/* see cardlink/relay_session.h */
int cl_relay_device_connect(struct cl_relay_session *s, uint32_t now)
{
    const struct cl_relay_session_config *c;
    struct cl_relay_msg m;
    bool resume;
    int rc;

    if (s == NULL || s->role != CL_RELAY_DEVICE)
        return CL_ERR_ARG;
    if (s->state == CL_RELAY_ST_HELLO || s->state == CL_RELAY_ST_OPEN)
        return CL_ERR_STATE;
    c = s->cfg;
    resume = s->state == CL_RELAY_ST_SUSPENDED && s->err == CL_OK && s->has_session &&
             s->token_len > 0 && (c->caps.features & CL_RELAY_FEAT_RESUME) != 0;
    cl_relay_msg_init(&m, CL_RELAY_HELLO);
    m.u.hello.versions.data = c->versions != NULL ? c->versions : default_versions;
    m.u.hello.versions.len = c->versions != NULL ? c->nversions : 1;
    m.u.hello.device_id.data = c->device_id;
    m.u.hello.device_id.len = c->device_id_len;
    m.u.hello.caps = c->caps;
    if (c->software != NULL) {
        size_t n = 0;
        while (n <= 32 && c->software[n] != '\0')
            n++;
        m.u.hello.software.data = (const uint8_t *)c->software;
        m.u.hello.software.len = n;
    }
    if (resume) {
        m.u.hello.token.data = s->token;
        m.u.hello.token.len = s->token_len;
        if (s->rx_any) {
            m.flags = CL_RELAY_F_ACK;
            m.ack = (uint8_t)(s->rx_next - 1u);
        }
    }
    if ((rc = cl_rs_ctrl(s, &m, true)) != CL_OK)
        return rc == CL_ERR_BUFFER ? CL_ERR_BUFFER : CL_ERR_ARG;
    s->resume_sent = resume;
    cl_rs_transport_up(s, now);
    return CL_OK;
}

/* see cardlink/relay_session.h */
int cl_relay_server_accept(struct cl_relay_session *s, uint32_t now, const uint8_t *token,
                           size_t token_len)
{
    if (s == NULL || token == NULL || s->role != CL_RELAY_SERVER ||
        token_len < CL_RELAY_TOKEN_MIN || token_len > CL_RELAY_TOKEN_MAX)
        return CL_ERR_ARG;
    if (s->state == CL_RELAY_ST_HELLO || s->state == CL_RELAY_ST_OPEN)
        return CL_ERR_STATE;
    cl_rs_transport_up(s, now);
    memcpy(s->new_token, token, token_len);
    s->new_token_len = (uint8_t)token_len;
    s->ctrl_len = 0;
    return CL_OK;
}

/* The peer's CLOSE: CLOSED, nothing more sent. */
static void closed_by_peer(struct cl_relay_session *s, const struct cl_relay_msg *m)
{
    int err = cl_relay_err_from_wire(m->u.status.code);

    s->ctrl_len = 0;
    s->out_kind = CL_RS_OUT_NONE;
    s->err = err;
    cl_rs_enter(s, CL_RELAY_ST_CLOSED);
    cl_rs_event(s, CL_RELAY_EV_CLOSED, NULL);
    s->ev.err = err;
}

/* HELLO-ACK RESUMED or a HELLO that resumes: the peer's ack, then replay
 * the rest (§8). */
static bool resume(struct cl_relay_session *s)
{
    if ((s->msg.flags & CL_RELAY_F_ACK) != 0 && cl_rs_ack(s, s->msg.ack) != CL_OK) {
        cl_rs_fail(s, CL_ERR_SEQUENCE);
        return false;
    }
    s->rb_tx = 0;
    return true;
}

/* Device, HELLO-SENT: HELLO-ACK. */
static void device_hello_ack(struct cl_relay_session *s, uint32_t now)
{
    const struct cl_relay_hello_ack *a = &s->msg.u.hello_ack;
    const struct cl_relay_session_config *c = s->cfg;
    const uint8_t *v = c->versions != NULL ? c->versions : default_versions;
    size_t nv = c->versions != NULL ? c->nversions : 1, i;
    bool ok = false, resumed = (a->flags & CL_RELAY_HELLO_RESUMED) != 0;

    for (i = 0; i < nv; i++)
        ok = ok || (v[i] == a->version && a->version == CL_RELAY_VERSION);
    if (!ok) {
        cl_rs_fail(s, CL_ERR_VERSION);
        return;
    }
    if (resumed) {
        if (!s->resume_sent || !cl_rs_same(a->token.data, a->token.len, s->token, s->token_len)) {
            cl_rs_fail(s, CL_ERR_PROTOCOL);
            return;
        }
        if (!resume(s))
            return;
    } else {
        cl_rs_new_session(s);
        memcpy(s->token, a->token.data, a->token.len);
        s->token_len = (uint8_t)a->token.len;
    }
    s->version = a->version;
    s->keepalive = a->keepalive;
    s->peer_max = a->max_msg != 0 ? a->max_msg : CL_RELAY_MSG_MAX;
    cl_rs_enter(s, CL_RELAY_ST_OPEN);
    s->last_tx = now;
    cl_rs_event(s, CL_RELAY_EV_OPEN, &s->msg);
    s->ev.resumed = resumed;
}

/* see cardlink/relay_session.h */
bool cl_relay_server_resumes(const struct cl_relay_session *s, const struct cl_relay_hello *h)
{
    bool tok, id;

    if (s == NULL || h == NULL || s->role != CL_RELAY_SERVER || !s->has_session ||
        s->token_len == 0)
        return false;
    /* both compared in full, whatever the first one gave */
    tok = cl_rs_same(h->token.data, h->token.len, s->token, s->token_len);
    id = cl_rs_same(h->device_id.data, h->device_id.len, s->peer_id, s->peer_id_len);
    return tok & id;
}

/* Server, awaiting HELLO: HELLO. */
static void server_hello(struct cl_relay_session *s, uint32_t now)
{
    const struct cl_relay_hello *h = &s->msg.u.hello;
    struct cl_relay_msg m;
    bool resumed, ok = false;
    size_t i;

    for (i = 0; i < h->versions.len; i++)
        ok = ok || h->versions.data[i] == CL_RELAY_VERSION;
    if (!ok) {
        cl_rs_fail(s, CL_ERR_VERSION);
        return;
    }
    /* the token and the device that opened the session (§8): a valid token
     * named by another device gets a fresh session, never this one */
    resumed = cl_relay_server_resumes(s, h);
    cl_relay_msg_init(&m, CL_RELAY_HELLO_ACK);
    if (resumed) {
        if (!resume(s))
            return;
        m.u.hello_ack.flags = CL_RELAY_HELLO_RESUMED;
        if (s->rx_any) {
            m.flags = CL_RELAY_F_ACK;
            m.ack = (uint8_t)(s->rx_next - 1u);
        }
    } else {
        cl_rs_new_session(s);
        memcpy(s->token, s->new_token, s->new_token_len);
        s->token_len = s->new_token_len;
        memcpy(s->peer_id, h->device_id.data, h->device_id.len);  /* 1..32: decoded */
        s->peer_id_len = (uint8_t)h->device_id.len;
    }
    s->version = CL_RELAY_VERSION;
    s->keepalive = s->cfg->keepalive_s;
    s->peer_max = h->caps.max_msg != 0 ? h->caps.max_msg : 512u;
    m.u.hello_ack.version = CL_RELAY_VERSION;
    m.u.hello_ack.token.data = s->token;
    m.u.hello_ack.token.len = s->token_len;
    m.u.hello_ack.keepalive = s->cfg->keepalive_s;
    m.u.hello_ack.max_msg = s->cfg->max_msg;
    if (cl_rs_ctrl(s, &m, true) != CL_OK) {
        cl_rs_fail(s, CL_ERR_INTERNAL);
        return;
    }
    cl_rs_enter(s, CL_RELAY_ST_OPEN);
    s->last_tx = now;
    cl_rs_event(s, CL_RELAY_EV_OPEN, &s->msg);
    s->ev.resumed = resumed;
}

/*
 * Device: a new request (in sequence). A transaction id the log knows is
 * answered from the log and not executed (§9): with the recorded answer
 * when it is this request type's answer or an ERROR, else (in progress, no
 * answer held, another request type) with ERROR DUPLICATE. A new id is
 * recorded IN PROGRESS before the application sees the request, so that a
 * retry while it executes, or after a reboot, never executes it again.
 */
static void device_request(struct cl_relay_session *s)
{
    const struct cl_relay_msg *m = &s->msg;
    const struct cl_relay_txn_log *log = s->cfg->txn_log;
    const uint8_t *id = request_txn(m), *ans;
    size_t alen;
    int rc;

    if (s->busy) {
        auto_error(s, CL_RELAY_E_STATE, m->seq);
        return;
    }
    if (id != NULL && log != NULL) {
        rc = log->lookup(log->ctx, id, &ans, &alen);
        if (rc == CL_OK) {
            const uint8_t *q;
            uint8_t *p;
            s->stats.duplicates++;
            if (alen < CL_RELAY_HEADER_LEN ||
                (ans[1] != (uint8_t)(m->type + 1u) && ans[1] != CL_RELAY_ERROR) ||
                cl_rs_queue_raw(s, ans, alen, &q, NULL) != CL_OK) {
                auto_error(s, CL_RELAY_E_DUPLICATE, m->seq);
                return;
            }
            p = (uint8_t *)(uintptr_t)q;
            p[2] = CL_RELAY_F_REF;
            p[4] = 0;
            p[5] = m->seq;
            return;
        }
        if (rc != CL_ERR_NOT_FOUND || log->record(log->ctx, id, NULL, 0) != CL_OK) {
            auto_error(s, CL_RELAY_E_INTERNAL, m->seq);   /* the store failed: not executed */
            return;
        }
    }
    s->busy = true;
    s->req_seq = m->seq;
    s->req_type = m->type;
    s->req_txn = id != NULL;
    if (id != NULL)
        memcpy(s->req_txn_id, id, CL_RELAY_TXN_ID_LEN);
    s->stats.executed++;
    cl_rs_event(s, CL_RELAY_EV_REQUEST, m);
}

/* Server: the answer to the outstanding request (msg NULL: undecodable). */
static void server_answer(struct cl_relay_session *s, const uint8_t *raw, size_t len,
                          const struct cl_relay_msg *m, int err)
{
    const struct cl_relay_txn_log *log = s->cfg->txn_log;

    s->busy = false;
    if (m != NULL && s->req_txn && log != NULL && CL_RELAY_IS_ANSWER(m->type))
        (void)log->record(log->ctx, s->req_txn_id, raw, len);
    cl_rs_event(s, CL_RELAY_EV_ANSWER, m);
    s->ev.err = err;
}

/* Sequencing of an incoming message in OPEN (§7.1): false when it is not
 * to be processed (a duplicate, or a gap that failed the session). An
 * undecodable message with a valid header uses up its seq like any other. */
static bool in_sequence(struct cl_relay_session *s, uint32_t now, const struct cl_relay_header *h)
{
    uint8_t d;

    if (!CL_RELAY_IS_SEQUENCED(h->type))
        return true;
    d = (uint8_t)(s->rx_next - h->seq);
    if (d > 127u) {
        cl_rs_fail(s, CL_ERR_SEQUENCE);
        return false;
    }
    if (!s->ack_due) {
        s->ack_due = true;
        s->ack_since = now;
    }
    if (d != 0) {
        s->stats.duplicates++;
        return false;
    }
    s->rx_next++;
    s->rx_any = true;
    return true;
}

/* see relay_session_int.h */
void cl_rs_message(struct cl_relay_session *s, uint32_t now, const uint8_t *raw, size_t len,
                   int err)
{
    struct cl_relay_header h;
    struct cl_relay_msg *m = &s->msg;
    bool dev = s->role == CL_RELAY_DEVICE;
    int rc;

    if (cl_relay_header_decode(raw, len, &h) != CL_OK) {
        cl_rs_fail(s, CL_ERR_MALFORMED);
        return;
    }
    rc = err != CL_OK ? err : cl_relay_decode(raw, len, m);
    if (s->state == CL_RELAY_ST_HELLO) {
        if (rc != CL_OK)
            cl_rs_fail(s, rc == CL_ERR_VERSION || rc == CL_ERR_TOO_LONG ? rc : CL_ERR_MALFORMED);
        else if (m->type == CL_RELAY_CLOSE)
            closed_by_peer(s, m);
        else if (dev && m->type == CL_RELAY_HELLO_ACK)
            device_hello_ack(s, now);
        else if (!dev && m->type == CL_RELAY_HELLO)
            server_hello(s, now);
        else
            cl_rs_fail(s, CL_ERR_PROTOCOL);
        return;
    }
    /* OPEN: acknowledgement, then sequencing (§7) */
    if (rc == CL_OK && (m->flags & CL_RELAY_F_ACK) != 0 && cl_rs_ack(s, m->ack) != CL_OK) {
        cl_rs_fail(s, CL_ERR_SEQUENCE);
        return;
    }
    if (!in_sequence(s, now, &h))
        return;
    if (rc != CL_OK) {
        /* §2, §11: answered with ERROR (REF when a request), the session goes on */
        if (!dev && s->busy && CL_RELAY_IS_ANSWER(h.type) && (h.flags & CL_RELAY_F_REF) != 0 &&
            h.ref == s->req_seq) {
            server_answer(s, raw, len, NULL, rc);
            return;
        }
        auto_error(s, cl_relay_err_to_wire(rc),
                   dev && CL_RELAY_IS_REQUEST(h.type) ? (int)h.seq : -1);
        return;
    }
    switch (m->type) {
    case CL_RELAY_KEEPALIVE:
        return;
    case CL_RELAY_CLOSE:
        closed_by_peer(s, m);
        return;
    case CL_RELAY_HELLO:
    case CL_RELAY_HELLO_ACK:
        cl_rs_fail(s, CL_ERR_PROTOCOL);   /* a second handshake in a session (§11) */
        return;
    case CL_RELAY_ERROR:
        if (!dev && s->busy && (m->flags & CL_RELAY_F_REF) != 0 && m->ref == s->req_seq)
            server_answer(s, raw, len, m, CL_OK);
        else
            cl_rs_event(s, CL_RELAY_EV_NOTIFY, m);
        return;
    default:
        break;
    }
    if (CL_RELAY_IS_REQUEST(m->type)) {
        if (dev)
            device_request(s);
        else
            auto_error(s, CL_RELAY_E_STATE, m->seq);
    } else if (CL_RELAY_IS_ANSWER(m->type)) {
        if (dev)
            auto_error(s, CL_RELAY_E_STATE, -1);
        else if (s->busy && m->ref == s->req_seq && m->type == (uint8_t)(s->req_type + 1u))
            server_answer(s, raw, len, m, CL_OK);
        else
            cl_rs_fail(s, CL_ERR_PROTOCOL);
    } else if (dev) {
        auto_error(s, CL_RELAY_E_STATE, -1);  /* a notification sent to the device */
    } else {
        cl_rs_event(s, CL_RELAY_EV_NOTIFY, m);
    }
}

/* Server: a request whose transaction id is recorded. Its outcome counts
 * only when it is this request type's answer (§9: one id, one request). */
static int server_recorded(struct cl_relay_session *s, uint8_t type, const uint8_t *ans,
                           size_t alen)
{
    cl_rs_event(s, CL_RELAY_EV_ANSWER, NULL);
    s->ev.recorded = true;
    s->stats.duplicates++;
    if (alen == 0 || cl_relay_decode(ans, alen, &s->msg) != CL_OK ||
        s->msg.type != (uint8_t)(type + 1u)) {
        s->ev.err = CL_ERR_DUPLICATE;
        return CL_OK;
    }
    s->ev.msg = &s->msg;
    return CL_OK;
}

/* Device: the outcome of a money-moving request that was executing when
 * the session was closed or replaced by a fresh one cannot be sent, but it
 * is recorded, so that the server's retry with the same id gets it (§9).
 * The free end of the replay buffer serves as scratch space. */
static void record_orphan(struct cl_relay_session *s, struct cl_relay_msg *m)
{
    const struct cl_relay_txn_log *log = s->cfg->txn_log;
    size_t room, len;

    if (!s->req_txn || log == NULL || m->type != (uint8_t)(s->req_type + 1u) ||
        s->rb_used + CL_RELAY_REPLAY_REC > s->rb_size)
        return;
    room = s->rb_size - s->rb_used - CL_RELAY_REPLAY_REC;
    m->flags = CL_RELAY_F_REF;
    m->seq = 1;
    m->ref = s->req_seq;
    m->ack = 0;
    if (cl_relay_encode(m, s->rb + s->rb_used + CL_RELAY_REPLAY_REC, room, &len) == CL_OK)
        (void)log->record(log->ctx, s->req_txn_id, s->rb + s->rb_used + CL_RELAY_REPLAY_REC, len);
    s->req_txn = false;
}

/* Whether a sequenced message may be queued now. */
static int sendable(const struct cl_relay_session *s)
{
    if (s->err != CL_OK)
        return s->err;
    if (s->state == CL_RELAY_ST_CLOSED || s->closing)
        return CL_ERR_CLOSED;
    if (!s->has_session || s->state == CL_RELAY_ST_IDLE)
        return CL_ERR_STATE;
    return CL_OK;
}

/* Device: answers, ERROR, notifications. */
static int device_send(struct cl_relay_session *s, struct cl_relay_msg *m)
{
    const struct cl_relay_txn_log *log = s->cfg->txn_log;
    const uint8_t *out;
    size_t olen;
    bool answer = CL_RELAY_IS_ANSWER(m->type);
    int rc = sendable(s);

    if (answer && (rc != CL_OK || !s->busy)) {
        record_orphan(s, m);
        return rc != CL_OK ? rc : CL_ERR_STATE;
    }
    if (rc != CL_OK)
        return rc;
    if (answer ? m->type != (uint8_t)(s->req_type + 1u)
               : m->type != CL_RELAY_ERROR && (m->type < 0x30u || m->type > 0x3Fu))
        return CL_ERR_ARG;
    if (!s->busy || !(answer || m->type == CL_RELAY_ERROR))
        return cl_rs_queue(s, m, NULL, NULL);
    m->flags = CL_RELAY_F_REF;
    m->ref = s->req_seq;
    if ((rc = cl_rs_queue(s, m, &out, &olen)) != CL_OK)
        return rc;
    s->busy = false;
    if (s->req_txn && log != NULL)
        (void)log->record(log->ctx, s->req_txn_id, out, olen);
    s->req_txn = false;
    return CL_OK;
}

/* Server: requests and ERROR. */
static int server_send(struct cl_relay_session *s, struct cl_relay_msg *m)
{
    const struct cl_relay_txn_log *log = s->cfg->txn_log;
    const uint8_t *id, *ans;
    size_t alen;
    int rc = sendable(s);

    if (rc != CL_OK)
        return rc;
    if (!CL_RELAY_IS_REQUEST(m->type))
        return m->type == CL_RELAY_ERROR ? cl_rs_queue(s, m, NULL, NULL) : CL_ERR_ARG;
    if (s->busy || s->ev_pending)
        return CL_ERR_STATE;
    id = request_txn(m);
    if (id != NULL && log != NULL && log->lookup(log->ctx, id, &ans, &alen) == CL_OK)
        return server_recorded(s, m->type, ans, alen);
    if ((rc = cl_rs_queue(s, m, NULL, NULL)) != CL_OK)
        return rc;
    s->busy = true;
    s->req_seq = m->seq;
    s->req_type = m->type;
    s->req_txn = id != NULL;
    if (id != NULL)
        memcpy(s->req_txn_id, id, CL_RELAY_TXN_ID_LEN);
    return CL_OK;
}

/* see cardlink/relay_session.h */
int cl_relay_session_send(struct cl_relay_session *s, uint32_t now, struct cl_relay_msg *m)
{
    (void)now;
    if (s == NULL || m == NULL || s->role == 0)
        return CL_ERR_ARG;
    m->flags = 0;
    m->ref = 0;
    return s->role == CL_RELAY_DEVICE ? device_send(s, m) : server_send(s, m);
}

