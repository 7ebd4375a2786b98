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

/* What a type is in the exchanges of §7.3: 0 neither, XREQ a request,
 * XANS an answer (one call instead of the macros' code at each use). */
enum { XREQ = 1, XANS = 2 };
static CL_RS_NOINLINE unsigned exchange(uint8_t t)
{
    return CL_RELAY_IS_EXCHANGE(t) ? 1u + (t & 1u) : 0u;
}

/* The versions a device offers: cfg's, or {1}. */
static const uint8_t *offered(const struct cl_relay_session_config *c, size_t *n)
{
    *n = c->versions != NULL ? c->nversions : 1;
    return c->versions != NULL ? c->versions : default_versions;
}

/* The transaction id a request carries, or NULL. */
/* Whether versions[0..n) holds ours (a loop: the core links no memchr). */
static bool has_version(const uint8_t *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (v[i] == CL_RELAY_VERSION)
            return true;
    return false;
}

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

/* The txn log's outcome for id: CL_OK with *ans and *alen, CL_ERR_NOT_FOUND,
 * a failure of the store; 1 when there is no id or no log. */
static int txn_lookup(const struct cl_relay_session *s, const uint8_t *id, const uint8_t **ans,
                      size_t *alen)
{
    const struct cl_relay_txn_log *log = s->cfg->txn_log;

    if (id == NULL || log == NULL)
        return 1;
    return log->lookup(log->ctx, id, ans, alen);
}

/* Record data[0..len) (NULL / 0: in progress) for id in the txn log, if
 * there is one: the log's answer. */
static int txn_record(const struct cl_relay_session *s, const uint8_t *id, const uint8_t *data,
                      size_t len)
{
    const struct cl_relay_txn_log *log = s->cfg->txn_log;

    return log != NULL ? log->record(log->ctx, id, data, len) : CL_OK;
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

/* The max message to announce: cfg (0: the field left out, which the peer
 * reads as `absent` bytes), but never more than rx holds: a smaller rx is
 * announced as its size, so the peer never sends what this side cannot
 * take (such a message ends the session with CLOSE TOO_LARGE). */
static uint16_t rx_limit(const struct cl_relay_session *s, uint16_t cfg, size_t absent)
{
    size_t rx = s->in.size;

    if (rx >= (cfg != 0 ? cfg : absent))
        return cfg;
    return rx > 0xFFFFu ? 0xFFFFu : (uint16_t)rx;
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
    if (s->state == CL_RELAY_ST_HELLO || s->state == CL_RELAY_ST_OPEN || s->ev_pending)
        return CL_ERR_STATE;   /* up already, or an event to poll first */
    c = s->cfg;
    resume = s->state == CL_RELAY_ST_SUSPENDED && s->err == CL_OK && s->has_session &&
             s->token_len > 0 && (c->caps.features & CL_RELAY_FEAT_RESUME) != 0;
    cl_relay_msg_init(&m, CL_RELAY_HELLO);
    m.u.hello.versions.data = offered(c, &m.u.hello.versions.len);
    m.u.hello.device_id.data = c->device_id;
    m.u.hello.device_id.len = c->device_id_len;
    m.u.hello.caps = c->caps;
    m.u.hello.caps.max_msg = rx_limit(s, c->caps.max_msg, 512u);   /* §5.1's default */
    if ((c->caps.script_steps != 0 ? c->caps.script_steps : 8u) > CL_RELAY_SCRIPT_MAX)
        m.u.hello.caps.script_steps = CL_RELAY_SCRIPT_MAX;   /* what the decoder holds */
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
        cl_rs_ack_fields(s, &m);
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
    if (!CL_RELAY_SERVER_ROLE)
        return CL_ERR_UNSUPPORTED;
    if (s == NULL || token == NULL || s->role != CL_RELAY_SERVER ||
        token_len < CL_RELAY_TOKEN_MIN || token_len > CL_RELAY_TOKEN_MAX)
        return CL_ERR_ARG;
    if (s->state == CL_RELAY_ST_HELLO || s->state == CL_RELAY_ST_OPEN || s->ev_pending)
        return CL_ERR_STATE;   /* up already, or an event to poll first */
    cl_rs_transport_up(s, now);
    memcpy(s->new_token, token, token_len);
    s->new_token_len = (uint8_t)token_len;
    s->ctrl_len = 0;
    return CL_OK;
}

/* The peer's CLOSE: CLOSED, nothing more sent. */
static void closed_by_peer(struct cl_relay_session *s, const struct cl_relay_msg *m)
{
    s->ctrl_len = 0;
    s->out_kind = CL_RS_OUT_NONE;
    cl_rs_closed(s, cl_relay_err_from_wire(m->u.status.code));
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

/* The handshake's outcome for the session: resumed (false when that
 * failed it), or a fresh one under token[0..len). */
static bool take_session(struct cl_relay_session *s, bool resumed, const uint8_t *token,
                         size_t len)
{
    if (resumed)
        return resume(s);
    cl_rs_new_session(s);
    memcpy(s->token, token, len);
    s->token_len = (uint8_t)len;
    return true;
}

/* The handshake is done: OPEN with the peer's K and message size. */
static void opened(struct cl_relay_session *s, uint32_t now, bool resumed, uint16_t keepalive,
                   size_t peer_max)
{
    s->version = CL_RELAY_VERSION;
    s->keepalive = keepalive;
    s->peer_max = peer_max;
    cl_rs_enter(s, CL_RELAY_ST_OPEN);
    s->last_tx = now;
    cl_rs_event(s, CL_RELAY_EV_OPEN, &s->msg, CL_OK);
    s->ev.resumed = resumed;
}

/* Device, HELLO-SENT: HELLO-ACK. */
static void device_hello_ack(struct cl_relay_session *s, uint32_t now)
{
    const struct cl_relay_hello_ack *a = &s->msg.u.hello_ack;
    size_t nv;
    const uint8_t *v = offered(s->cfg, &nv);
    bool resumed = (a->flags & CL_RELAY_HELLO_RESUMED) != 0;

    if (a->version != CL_RELAY_VERSION || !has_version(v, nv)) {
        cl_rs_fail(s, CL_ERR_VERSION);
        return;
    }
    if (resumed &&
        (!s->resume_sent || !cl_rs_same(a->token.data, a->token.len, s->token, s->token_len))) {
        cl_rs_fail(s, CL_ERR_PROTOCOL);
        return;
    }
    if (take_session(s, resumed, a->token.data, a->token.len))
        opened(s, now, resumed, a->keepalive, a->max_msg != 0 ? a->max_msg : CL_RELAY_MSG_MAX);
}

/* see cardlink/relay_session.h */
bool cl_relay_server_resumes(const struct cl_relay_session *s, const struct cl_relay_hello *h)
{
    bool tok, id;

    if (!CL_RELAY_SERVER_ROLE || s == NULL || h == NULL || s->role != CL_RELAY_SERVER ||
        !s->has_session || s->token_len == 0)
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
    const struct cl_relay_session_config *c = s->cfg;
    struct cl_relay_msg m;
    bool resumed;

    if (h->versions.len == 0 || !has_version(h->versions.data, h->versions.len)) {
        cl_rs_fail(s, CL_ERR_VERSION);
        return;
    }
    /* the token and the device that opened the session (§8): a valid token
     * named by another device gets a fresh session, never this one */
    resumed = cl_relay_server_resumes(s, h);
    if (!take_session(s, resumed, s->new_token, s->new_token_len))
        return;
    cl_relay_msg_init(&m, CL_RELAY_HELLO_ACK);
    if (resumed) {
        m.u.hello_ack.flags = CL_RELAY_HELLO_RESUMED;
        cl_rs_ack_fields(s, &m);
    } else {
        memcpy(s->peer_id, h->device_id.data, h->device_id.len);  /* 1..32: decoded */
        s->peer_id_len = (uint8_t)h->device_id.len;
    }
    m.u.hello_ack.version = CL_RELAY_VERSION;
    m.u.hello_ack.token.data = s->token;
    m.u.hello_ack.token.len = s->token_len;
    m.u.hello_ack.keepalive = c->keepalive_s;
    m.u.hello_ack.max_msg = rx_limit(s, c->max_msg, CL_RELAY_MSG_MAX);   /* absent: none */
    if (cl_rs_ctrl(s, &m, true) != CL_OK)
        cl_rs_fail(s, CL_ERR_INTERNAL);
    else
        opened(s, now, resumed, c->keepalive_s, h->caps.max_msg != 0 ? h->caps.max_msg : 512u);
}

/* A request is executing (device) or outstanding (server): m, whose
 * transaction id is id (NULL: none). */
static void set_request(struct cl_relay_session *s, const struct cl_relay_msg *m,
                        const uint8_t *id)
{
    s->busy = true;
    s->req_seq = m->seq;
    s->req_type = m->type;
    s->req_txn = id != NULL;
    if (id != NULL)
        memcpy(s->req_txn_id, id, CL_RELAY_TXN_ID_LEN);
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
    const uint8_t *id = request_txn(m), *ans;
    size_t alen;
    int rc;

    if (s->busy) {
        auto_error(s, CL_RELAY_E_STATE, m->seq);
        return;
    }
    rc = txn_lookup(s, id, &ans, &alen);
    if (rc != 1) {
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
        if (rc != CL_ERR_NOT_FOUND || txn_record(s, id, NULL, 0) != CL_OK) {
            auto_error(s, CL_RELAY_E_INTERNAL, m->seq);   /* the store failed: not executed */
            return;
        }
    }
    set_request(s, m, id);
    s->stats.executed++;
    cl_rs_event(s, CL_RELAY_EV_REQUEST, m, CL_OK);
}

/* Server: the answer to the outstanding request (msg NULL: undecodable). */
static void server_answer(struct cl_relay_session *s, const uint8_t *raw, size_t len,
                          const struct cl_relay_msg *m, int err)
{
    s->busy = false;
    if (m != NULL && s->req_txn && exchange(m->type) == XANS)
        (void)txn_record(s, s->req_txn_id, raw, len);
    cl_rs_event(s, CL_RELAY_EV_ANSWER, m, err);
}

/* Server: whether a message with flags and ref answers the outstanding
 * request (by REF; the type is checked apart). */
static CL_RS_NOINLINE bool answers(const struct cl_relay_session *s, uint8_t flags, uint8_t ref)
{
    return !CL_RS_DEVICE(s) && s->busy && (flags & CL_RELAY_F_REF) != 0 &&
           ref == s->req_seq;
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
    bool dev = CL_RS_DEVICE(s), ans;
    uint8_t t;
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
        if (exchange(h.type) == XANS && answers(s, h.flags, h.ref))
            server_answer(s, raw, len, NULL, rc);
        else
            auto_error(s, cl_relay_err_to_wire(rc),
                       dev && exchange(h.type) == XREQ ? (int)h.seq : -1);
        return;
    }
    t = m->type;
    if (t == CL_RELAY_KEEPALIVE)
        return;
    if (t == CL_RELAY_CLOSE) {
        closed_by_peer(s, m);
        return;
    }
    if (t == CL_RELAY_HELLO || t == CL_RELAY_HELLO_ACK) {
        cl_rs_fail(s, CL_ERR_PROTOCOL);   /* a second handshake in a session (§11) */
        return;
    }
    if (exchange(t) == XREQ) {
        if (dev)
            device_request(s);
        else
            auto_error(s, CL_RELAY_E_STATE, m->seq);
        return;
    }
    /* an answer always has REF (§2): the same test as for ERROR */
    ans = exchange(t) == XANS;
    if ((t == CL_RELAY_ERROR || (ans && t == (uint8_t)(s->req_type + 1u))) &&
        answers(s, m->flags, m->ref))
        server_answer(s, raw, len, m, CL_OK);
    else if (t == CL_RELAY_ERROR || (!dev && !ans))
        cl_rs_event(s, CL_RELAY_EV_NOTIFY, m, CL_OK);
    else if (dev)
        auto_error(s, CL_RELAY_E_STATE, -1);  /* an answer or notification to the device */
    else
        cl_rs_fail(s, CL_ERR_PROTOCOL);       /* an answer to no request */
}

/* Server: a request whose transaction id is recorded. Its outcome counts
 * only when it is this request type's answer (§9: one id, one request). */
static int server_recorded(struct cl_relay_session *s, uint8_t type, const uint8_t *ans,
                           size_t alen)
{
    bool ok = alen != 0 && cl_relay_decode(ans, alen, &s->msg) == CL_OK &&
              s->msg.type == (uint8_t)(type + 1u);

    cl_rs_event(s, CL_RELAY_EV_ANSWER, ok ? &s->msg : NULL, ok ? CL_OK : CL_ERR_DUPLICATE);
    s->ev.recorded = true;
    s->stats.duplicates++;
    return CL_OK;
}

/* Device: the outcome of a money-moving request that was executing when
 * the session was closed or replaced by a fresh one cannot be sent, but it
 * is recorded, so that the server's retry with the same id gets it (§9).
 * The free end of the replay buffer serves as scratch space. */
static void record_orphan(struct cl_relay_session *s, struct cl_relay_msg *m)
{
    size_t room, len;

    if (!s->req_txn || s->cfg->txn_log == NULL || m->type != (uint8_t)(s->req_type + 1u) ||
        s->rb_used + CL_RELAY_REPLAY_REC > s->rb_size)
        return;
    room = s->rb_size - s->rb_used - CL_RELAY_REPLAY_REC;
    m->flags = CL_RELAY_F_REF;
    m->seq = 1;
    m->ref = s->req_seq;
    m->ack = 0;
    if (cl_relay_encode(m, s->rb + s->rb_used + CL_RELAY_REPLAY_REC, room, &len) == CL_OK)
        (void)txn_record(s, s->req_txn_id, s->rb + s->rb_used + CL_RELAY_REPLAY_REC, len);
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
    const uint8_t *out;
    size_t olen;
    bool answer = exchange(m->type) == XANS;
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
    if (s->req_txn)
        (void)txn_record(s, s->req_txn_id, out, olen);
    s->req_txn = false;
    return CL_OK;
}

/* Server: requests and ERROR. */
static int server_send(struct cl_relay_session *s, struct cl_relay_msg *m)
{
    const uint8_t *id, *ans;
    size_t alen;
    int rc = sendable(s);

    if (rc != CL_OK)
        return rc;
    if (exchange(m->type) != XREQ)
        return m->type == CL_RELAY_ERROR ? cl_rs_queue(s, m, NULL, NULL) : CL_ERR_ARG;
    if (s->busy || s->ev_pending)
        return CL_ERR_STATE;
    id = request_txn(m);
    if (txn_lookup(s, id, &ans, &alen) == CL_OK)
        return server_recorded(s, m->type, ans, alen);
    if ((rc = cl_rs_queue(s, m, NULL, NULL)) != CL_OK)
        return rc;
    set_request(s, m, id);
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
    return CL_RS_DEVICE(s) ? device_send(s, m) : server_send(s, m);
}

