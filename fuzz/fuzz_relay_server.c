/*
 * cardlink — libFuzzer target: the server-side relay session engine.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The server accepts a connection and receives a valid HELLO (keep-alive
 * 1 s, an in-memory transaction log); then the input drives it, each
 * operation an opcode byte:
 *   0, 1: feed the next n bytes (n = next byte) as stream bytes from the device
 *   2: time advances by next byte x 40 ms; tick
 *   3: pull everything the server wants to send
 *   4: the application sends a request (an APDU; with a transaction id
 *      from the next byte when it is odd)
 *   5: the application sends an ERROR
 *   6: the transport drops; accept again and receive a HELLO that resumes
 *      (ack from the next byte) or starts afresh
 *   7: close
 * Checks: every message the server sends decodes and is valid for a server
 * (no answers, no notifications); each ANSWER event answers the one
 * outstanding request (or comes from the log), at most one per request;
 * the log records each transaction id at most once.
 */
#include <stdlib.h>
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/relay_session.h"
#include "relay_ops.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t rx[600], rb[1500];
static const uint8_t token[12] = { 'T', 'O', 'K', 'E', 'N', '-', '0', '1', '2', '3', '4', '5' };
static const uint8_t hello[] = {
    0xC1, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1D, 0x80, 0x01, 0x01, 0x81, 0x04,
    'F', 'U', 'Z', 'Z', 0xA2, 0x04, 0x86, 0x02, 0x00, 0xFF,
    0x83, 0x0C, 'T', 'O', 'K', 'E', 'N', '-', '0', '1', '2', '3', '4', '5',
};


struct state {
    struct cl_relay_session s;
    struct cl_relay_session_config cfg;
    struct cl_relay_txn_table tab;
    struct cl_relay_txn_slot slots[4];
    struct cl_relay_txn_log log;
    bool waiting;
    uint32_t now;
    unsigned answers, requests;
};

static struct state st;

static void events(struct state *t)
{
    struct cl_relay_event ev;

    while (cl_relay_session_poll(&t->s, &ev)) {
        switch (ev.kind) {
        case CL_RELAY_EV_ANSWER:
            ro_check(t->waiting || ev.recorded);
            ro_check(ev.msg == NULL || ev.msg->type == CL_RELAY_APDU_RESPONSE ||
                  ev.msg->type == CL_RELAY_ERROR);
            ro_check(!cl_relay_session_busy(&t->s));
            t->waiting = false;
            t->answers++;
            break;
        case CL_RELAY_EV_OPEN:
            ro_check(ev.msg != NULL && ev.msg->type == CL_RELAY_HELLO);
            if (!ev.resumed)
                t->waiting = false;
            break;
        case CL_RELAY_EV_NOTIFY:
            ro_check(ev.msg != NULL &&
                  (ev.msg->type == CL_RELAY_ERROR || (ev.msg->type >= 0x30 && ev.msg->type <= 0x3F)));
            break;
        case CL_RELAY_EV_CLOSED:
            ro_check(cl_relay_session_state(&t->s) == CL_RELAY_ST_CLOSED);
            t->waiting = false;
            break;
        case CL_RELAY_EV_LINK_DEAD:
            break;
        default:
            ro_check(false);
        }
    }
    ro_check(t->answers <= t->requests);
}

/* Each message the engine sends: it decodes and suits the role. */
static bool out_cb(void *ctx, const uint8_t *m, size_t len)
{
    struct state *t = ctx;
    struct cl_relay_msg d;

    (void)t;
    ro_check(cl_relay_decode(m, len, &d) == CL_OK);
    ro_check(d.type != CL_RELAY_HELLO && !CL_RELAY_IS_ANSWER(d.type) &&
          !(d.type >= 0x30 && d.type <= 0x3F));
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
    size_t pos = 0, i;
    int guard = 0;

    memset(t, 0, sizeof(*t));
    t->cfg.keepalive_s = 1;
    t->cfg.ack_delay_ms = 1;
    cl_relay_txn_table_init(&t->tab, t->slots, 4, &t->log);
    t->cfg.txn_log = &t->log;
    t->now = 1000;
    ro_check(cl_relay_session_setup(&t->s, CL_RELAY_SERVER, &t->cfg, rx, sizeof(rx), rb,
                                 sizeof(rb)) == CL_OK);
    ro_check(cl_relay_server_accept(&t->s, t->now, token, sizeof(token)) == CL_OK);
    ro_feed(&target, hello, sizeof(hello));
    ro_check(cl_relay_session_state(&t->s) == CL_RELAY_ST_OPEN);
    ro_pull(&target);
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
        case 4: {
            static const uint8_t apdu[] = { 0x00, 0xB0, 0x00, 0x00, 0x00 };
            uint8_t id[16];
            pos++;
            cl_relay_msg_init(&m, CL_RELAY_APDU);
            m.u.apdu.apdu.data = apdu;
            m.u.apdu.apdu.len = sizeof(apdu);
            if (n & 1) {
                memset(id, (int)(n >> 1), sizeof(id));
                m.u.apdu.txn_id = id;
            }
            rc = cl_relay_session_send(&t->s, t->now, &m);
            ro_check(rc != CL_OK || !t->waiting);
            if (rc == CL_OK) {
                t->requests++;
                t->waiting = cl_relay_session_busy(&t->s);
                events(t);
            } else {
                ro_check(rc == CL_ERR_STATE || rc == CL_ERR_LIMIT || rc == CL_ERR_CLOSED ||
                      rc == CL_ERR_TOO_LONG || rc == cl_relay_session_error(&t->s));
            }
            break;
        }
        case 5:
            cl_relay_msg_init(&m, CL_RELAY_ERROR);
            m.u.status.code = CL_RELAY_E_INTERNAL;
            rc = cl_relay_session_send(&t->s, t->now, &m);
            ro_check(rc == CL_OK || rc == CL_ERR_STATE || rc == CL_ERR_LIMIT || rc == CL_ERR_CLOSED ||
                  rc == cl_relay_session_error(&t->s));
            break;
        case 6:
            pos++;
            cl_relay_session_disconnect(&t->s, t->now);
            if (cl_relay_server_accept(&t->s, t->now, token, sizeof(token)) == CL_OK) {
                uint8_t h[sizeof(hello)];
                memcpy(h, hello, sizeof(h));
                if (n & 1) {
                    h[2] = 0x01;
                    h[4] = (uint8_t)(n >> 1);
                } else {
                    h[25] ^= 0x20;   /* another token: a fresh session */
                }
                ro_feed(&target, h, sizeof(h));
            }
            break;
        default:
            break;
        }
    }
    /* the log holds each id once */
    for (i = 0; i < 4; i++) {
        size_t j;
        for (j = i + 1; j < 4; j++)
            ro_check(!(t->slots[i].used && t->slots[j].used &&
                    memcmp(t->slots[i].id, t->slots[j].id, 16) == 0));
    }
    return 0;
}
