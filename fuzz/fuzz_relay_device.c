/*
 * cardlink — libFuzzer target: the device-side relay session engine.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The device connects and receives a valid HELLO-ACK (fresh session,
 * keep-alive 1 s); then the input drives it, each operation an opcode
 * byte:
 *   0, 1: feed the next n bytes (n = next byte) as stream bytes from the server
 *   2: time advances by next byte x 40 ms; tick
 *   3: pull everything the device wants to send
 *   4: the application answers the executing request (or sends ERROR)
 *   5: a notification (CARD-REMOVED)
 *   6: the transport drops; reconnect and receive HELLO-ACK RESUMED (ack
 *      from the next byte) or a fresh one
 *   7: close
 * Checks: every message the device sends decodes and is valid for a device
 * (answers carry REF of an executed request, sequence numbers of new
 * messages increase by one); a request is delivered to the application at
 * most once per sequence number, and a request with a transaction id at
 * most once per id across every session of the run (the log, 16 slots,
 * holds each id in progress before the request is delivered: issue 11, a
 * double charge after a fresh session); events and errors are consistent.
 */
#include <stdlib.h>
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/relay_session.h"
#include "relay_ops.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t rx[600], rb[1500];
static const uint8_t devid[] = { 'F', 'U', 'Z', 'Z' };
static const uint8_t hello_ack[] = {
    0xC1, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x15, 0x80, 0x01, 0x01, 0x81, 0x0C,
    'T', 'O', 'K', 'E', 'N', '-', '0', '1', '2', '3', '4', '5', 0x83, 0x02, 0x00, 0x01,
};
static const uint8_t hello_ack_resumed[] = {
    0xC1, 0x02, 0x01, 0x00, 0x00, 0x00, 0x00, 0x18, 0x80, 0x01, 0x01, 0x81, 0x0C,
    'T', 'O', 'K', 'E', 'N', '-', '0', '1', '2', '3', '4', '5', 0x82, 0x01, 0x01,
    0x83, 0x02, 0x00, 0x01,
};


struct state {
    struct cl_relay_session s;
    struct cl_relay_session_config cfg;
    bool busy;
    uint8_t req_type, req_seq;
    bool delivered[256];       /* request seqs delivered in this session */
    uint32_t now;
    struct cl_relay_txn_table tab;
    struct cl_relay_txn_slot slots[16];
    struct cl_relay_txn_log log;
    uint8_t ids[16][CL_RELAY_TXN_ID_LEN];   /* transaction ids executed in the run */
    unsigned nids;
};

static struct state st;

/* A transaction id executes once in the run (while the log has not had to
 * replace an id: at most 16 distinct ones). */
static void txn_once(struct state *t, const struct cl_relay_msg *m)
{
    const uint8_t *id = m->type == CL_RELAY_APDU     ? m->u.apdu.txn_id
                        : m->type == CL_RELAY_SCRIPT ? m->u.script.txn_id
                        : m->type == CL_RELAY_TXN_APPROVE ? m->u.txn.txn_id
                                                          : NULL;
    unsigned i;

    if (id == NULL || t->nids > 16)
        return;
    for (i = 0; i < t->nids; i++)
        ro_check(memcmp(t->ids[i], id, CL_RELAY_TXN_ID_LEN) != 0);
    if (t->nids == 16)
        t->nids = 17;       /* the log may replace one now: stop checking */
    else
        memcpy(t->ids[t->nids++], id, CL_RELAY_TXN_ID_LEN);
}

static void events(struct state *t)
{
    struct cl_relay_event ev;

    while (cl_relay_session_poll(&t->s, &ev)) {
        switch (ev.kind) {
        case CL_RELAY_EV_REQUEST:
            ro_check(ev.msg != NULL && CL_RELAY_IS_REQUEST(ev.msg->type));
            ro_check(!t->busy);
            txn_once(t, ev.msg);
            ro_check(!t->delivered[ev.msg->seq]);
            t->delivered[ev.msg->seq] = true;
            t->busy = true;
            t->req_type = ev.msg->type;
            t->req_seq = ev.msg->seq;
            break;
        case CL_RELAY_EV_OPEN:
            ro_check(ev.msg != NULL && ev.msg->type == CL_RELAY_HELLO_ACK);
            if (!ev.resumed) {
                memset(t->delivered, 0, sizeof(t->delivered));
                t->busy = false;
            }
            break;
        case CL_RELAY_EV_NOTIFY:
            ro_check(ev.msg != NULL && ev.msg->type == CL_RELAY_ERROR);
            break;
        case CL_RELAY_EV_CLOSED:
            ro_check(cl_relay_session_state(&t->s) == CL_RELAY_ST_CLOSED);
            break;
        case CL_RELAY_EV_LINK_DEAD:
            break;
        default:
            ro_check(false);
        }
    }
}

/* Each message the engine sends: it decodes and suits the role. */
static bool out_cb(void *ctx, const uint8_t *m, size_t len)
{
    struct state *t = ctx;
    struct cl_relay_msg d;

    (void)t;
    ro_check(cl_relay_decode(m, len, &d) == CL_OK);
    ro_check(d.type != CL_RELAY_HELLO_ACK && !CL_RELAY_IS_REQUEST(d.type));
    if (CL_RELAY_IS_ANSWER(d.type))     /* to a delivered request, or from the log */
        ro_check((d.flags & CL_RELAY_F_REF) != 0 && (t->delivered[d.ref] || t->tab.records > 0));
    return true;
}

static void events_cb(void *ctx)
{
    events(ctx);
}

static struct ro_target target = {&st.s, &st.now, &st, events_cb, out_cb};


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct state *t = &st;
    size_t pos = 0;
    int guard = 0;

    memset(t, 0, sizeof(*t));
    t->cfg.device_id = devid;
    t->cfg.device_id_len = sizeof(devid);
    t->cfg.caps.features = 0x00FF;
    t->cfg.caps.max_msg = sizeof(rx);
    cl_relay_txn_table_init(&t->tab, t->slots, 16, &t->log);
    t->cfg.txn_log = &t->log;
    t->now = 1000;
    ro_check(cl_relay_session_setup(&t->s, CL_RELAY_DEVICE, &t->cfg, rx, sizeof(rx), rb,
                                 sizeof(rb)) == CL_OK);
    ro_check(cl_relay_device_connect(&t->s, t->now) == CL_OK);
    ro_pull(&target);
    ro_feed(&target, hello_ack, sizeof(hello_ack));
    ro_check(cl_relay_session_state(&t->s) == CL_RELAY_ST_OPEN);
    while (pos < size && guard++ < 4096) {
        uint8_t op = data[pos++] % 8;
        size_t n = pos < size ? data[pos] : 0;
        struct cl_relay_msg m;
        int rc;
        if (ro_shared_op(&target, op, data, size, &pos))
            op = 0xFF;              /* done: none of the role's own below */
        switch (op) {
        case 0xFF:
            break;
        case 4:
            if (t->busy) {
                uint8_t sw[2] = { 0x90, 0x00 };
                cl_relay_msg_init(&m, (uint8_t)(t->req_type + 1u));
                if (t->req_type == CL_RELAY_APDU) {
                    m.u.apdu.apdu.data = sw;
                    m.u.apdu.apdu.len = 2;
                } else if (t->req_type != CL_RELAY_DISPLAY) {
                    cl_relay_msg_init(&m, CL_RELAY_ERROR);
                    m.u.status.code = CL_RELAY_E_UNSUPPORTED;
                }
                rc = cl_relay_session_send(&t->s, t->now, &m);
                ro_check(rc == CL_OK || rc == CL_ERR_LIMIT || rc == CL_ERR_CLOSED ||
                      rc == CL_ERR_STATE || rc == cl_relay_session_error(&t->s));
                if (rc == CL_OK || rc == CL_ERR_STATE || rc == CL_ERR_CLOSED ||
                    rc == cl_relay_session_error(&t->s))
                    t->busy = false;
            }
            break;
        case 5:
            cl_relay_msg_init(&m, CL_RELAY_CARD_REMOVED);
            rc = cl_relay_session_send(&t->s, t->now, &m);
            ro_check(rc == CL_OK || rc == CL_ERR_LIMIT || rc == CL_ERR_CLOSED || rc == CL_ERR_STATE ||
                  rc == cl_relay_session_error(&t->s));
            break;
        case 6:
            pos++;
            cl_relay_session_disconnect(&t->s, t->now);
            if (cl_relay_device_connect(&t->s, t->now) == CL_OK) {
                ro_pull(&target);
                if (n & 1) {
                    uint8_t h[sizeof(hello_ack_resumed)];
                    memcpy(h, hello_ack_resumed, sizeof(h));
                    h[4] = (uint8_t)(n >> 1);
                    h[2] = h[4] ? 0x01 : 0x00;
                    ro_feed(&target, h, sizeof(h));
                } else {
                    ro_feed(&target, hello_ack, sizeof(hello_ack));
                }
                if (cl_relay_session_state(&t->s) != CL_RELAY_ST_OPEN)
                    t->busy = false;
            }
            break;
        default:
            break;
        }
        if (cl_relay_session_state(&t->s) == CL_RELAY_ST_CLOSED)
            t->busy = false;
    }
    return 0;
}
