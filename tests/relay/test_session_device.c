/*
 * cardlink — the relay session as device firmware builds it:
 * CL_RELAY_SERVER_ROLE 0 (cardlink/relay_session.h). The session files are
 * compiled into this test with the option (tests/relay/meson.build), the
 * codec comes from the library. The server is played with raw bytes: the
 * examples of docs/protocol.md and messages the codec encodes.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <check.h>
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/relay_msg.h"
#include "cardlink/relay_session.h"
#include "test_util.h"

#if CL_RELAY_SERVER_ROLE
#error "build this test with -DCL_RELAY_SERVER_ROLE=0"
#endif
#ifndef CL_PROTOCOL_MD
#error "CL_PROTOCOL_MD must name docs/protocol.md"
#endif

static const uint8_t devid[7] = { 'C', 'L', '-', '0', '0', '0', '1' };
static const uint8_t tok[16] = { 0x5A, 0x0C, 0x37, 0xE1, 0x94, 0xB2, 0x6D, 0x08,
                                 0xC3, 0x1F, 0x7A, 0x40, 0x9E, 0x55, 0x2B, 0xD6 };

static struct cl_relay_session S;
static struct cl_relay_session_config C;
static uint8_t rx[1024], rb[2048], out[1024];
static size_t out_len;
static struct cl_relay_txn_table T;
static struct cl_relay_txn_slot slots[4];
static struct cl_relay_txn_log L;
static struct cl_relay_event ev;
static uint32_t now = 5000;

static size_t doc(const char *name, uint8_t *b, size_t size)
{
    size_t n = cl_test_doc_example(CL_PROTOCOL_MD, "hex", name, b, size);

    ck_assert_msg(n > 0, "no example %s", name);
    return n;
}

/* Everything the device has to send, the last message kept in out. */
static int drain(void)
{
    const uint8_t *p;
    size_t n;
    int k = 0;

    while ((n = cl_relay_session_pull(&S, now, &p)) > 0) {
        memcpy(out, p, n);
        out_len = n;
        ck_assert_int_eq(cl_relay_session_sent(&S, n), CL_OK);
        k++;
    }
    return k;
}

/* Feed b[0..n) whole; returns feed's result, the event (if any) in ev. */
static int feed(const uint8_t *b, size_t n)
{
    int rc = cl_relay_session_feed(&S, now, b, n);

    memset(&ev, 0, sizeof(ev));
    (void)cl_relay_session_poll(&S, &ev);
    return rc;
}

/* Feed m (a server message) with seq and ack as given. */
static int feed_msg(struct cl_relay_msg *m, uint8_t seq, bool ack)
{
    uint8_t b[512];
    size_t n;

    m->seq = seq;
    if (ack) {
        m->flags |= CL_RELAY_F_ACK;
        m->ack = 0;
    }
    ck_assert_int_eq(cl_relay_encode(m, b, sizeof(b), &n), CL_OK);
    return feed(b, n);
}

static void setup_device(void)
{
    memset(&C, 0, sizeof(C));
    C.device_id = devid;
    C.device_id_len = sizeof(devid);
    C.caps.interfaces = 0x03;
    C.caps.display_cols = 16;
    C.caps.display_rows = 2;
    C.caps.input = 0x07;
    C.caps.max_msg = 1024;
    C.caps.max_cmd_apdu = 261;
    C.caps.max_resp_apdu = 258;
    C.caps.features = 0x00FF;
    C.caps.script_steps = 32;
    C.ack_delay_ms = 1000;
    cl_relay_txn_table_init(&T, slots, 4, &L);
    C.txn_log = &L;
    cl_relay_session_init(&S);
    ck_assert_int_eq(cl_relay_session_setup(&S, CL_RELAY_DEVICE, &C, rx, sizeof(rx), rb,
                                            sizeof(rb)), CL_OK);
}

/* HELLO and HELLO-ACK: docs/protocol.md's examples byte for byte. */
static void open_session(void)
{
    uint8_t b[256];
    size_t n;

    setup_device();
    ck_assert_int_eq(cl_relay_device_connect(&S, now), CL_OK);
    ck_assert_int_eq(drain(), 1);
    n = doc("hello", b, sizeof(b));
    ck_assert_uint_eq(out_len, n);
    ck_assert_mem_eq(out, b, n);
    n = doc("hello-ack", b, sizeof(b));
    ck_assert_int_eq(feed(b, n), (int)n);
    ck_assert_uint_eq(ev.kind, CL_RELAY_EV_OPEN);
    ck_assert(!ev.resumed);
    ck_assert_uint_eq(cl_relay_session_state(&S), CL_RELAY_ST_OPEN);
}

/* The server's calls are not there: refused, not half-run. */
START_TEST(test_server_role_refused)
{
    struct cl_relay_hello h;

    setup_device();
    cl_relay_session_init(&S);
    ck_assert_int_eq(cl_relay_session_setup(&S, CL_RELAY_SERVER, &C, rx, sizeof(rx), rb,
                                            sizeof(rb)), CL_ERR_UNSUPPORTED);
    ck_assert_uint_eq(cl_relay_session_want(&S), CL_WANT_IDLE);
    ck_assert_int_eq(cl_relay_session_setup(&S, 3, &C, rx, sizeof(rx), rb, sizeof(rb)),
                     CL_ERR_ARG);
    open_session();
    ck_assert_int_eq(cl_relay_server_accept(&S, now, tok, sizeof(tok)), CL_ERR_UNSUPPORTED);
    memset(&h, 0, sizeof(h));
    h.token.data = tok;
    h.token.len = sizeof(tok);
    h.device_id.data = devid;
    h.device_id.len = sizeof(devid);
    ck_assert(!cl_relay_server_resumes(&S, &h));
}
END_TEST

/* A request with a transaction id is executed once: its retry in a
 * later request gets the recorded answer, with the new request's REF. */
START_TEST(test_request_and_retry)
{
    static const uint8_t apdu[] = { 0x00, 0xB0, 0x00, 0x00, 0x02 };
    static const uint8_t id[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
    static const uint8_t resp[] = { 0xD0, 0xD1, 0x90, 0x00 };
    struct cl_relay_msg m;
    int rc;

    open_session();
    cl_relay_msg_init(&m, CL_RELAY_APDU);
    m.u.apdu.apdu.data = apdu;
    m.u.apdu.apdu.len = sizeof(apdu);
    m.u.apdu.txn_id = id;
    rc = feed_msg(&m, 1, false);
    ck_assert_int_gt(rc, 0);
    ck_assert_uint_eq(ev.kind, CL_RELAY_EV_REQUEST);
    ck_assert(cl_relay_session_busy(&S));
    cl_relay_msg_init(&m, CL_RELAY_APDU_RESPONSE);
    m.u.apdu.apdu.data = resp;
    m.u.apdu.apdu.len = sizeof(resp);
    ck_assert_int_eq(cl_relay_session_send(&S, now, &m), CL_OK);
    ck_assert_int_eq(drain(), 1);
    /* APDU-RESPONSE, REF|ACK, seq 1, ack 1, ref 1 */
    cl_assert_bytes(out, out_len, "C1 21 05 01 01 01 00 06 80 04 D0 D1 90 00");

    /* the same id again (the server lost the answer): not executed */
    cl_relay_msg_init(&m, CL_RELAY_APDU);
    m.u.apdu.apdu.data = apdu;
    m.u.apdu.apdu.len = sizeof(apdu);
    m.u.apdu.txn_id = id;
    rc = feed_msg(&m, 2, true);
    ck_assert_int_gt(rc, 0);
    ck_assert_uint_eq(ev.kind, CL_RELAY_EV_NONE);
    ck_assert(!cl_relay_session_busy(&S));
    ck_assert_int_eq(drain(), 1);
    cl_assert_bytes(out, out_len, "C1 21 05 02 02 02 00 06 80 04 D0 D1 90 00");
    ck_assert_uint_eq(cl_relay_session_stats(&S)->executed, 1);
    ck_assert_uint_eq(cl_relay_session_stats(&S)->duplicates, 1);
}
END_TEST

/* What only a server may send: an answer to the device, a second
 * HELLO-ACK. */
START_TEST(test_device_refusals)
{
    static const uint8_t resp[] = { 0x90, 0x00 };
    struct cl_relay_msg m;
    uint8_t b[256];
    size_t n;

    open_session();
    cl_relay_msg_init(&m, CL_RELAY_APDU_RESPONSE);
    m.u.apdu.apdu.data = resp;
    m.u.apdu.apdu.len = sizeof(resp);
    m.flags = CL_RELAY_F_REF;   /* to no request of ours */
    m.ref = 9;
    ck_assert_int_gt(feed_msg(&m, 1, false), 0);
    ck_assert_uint_eq(ev.kind, CL_RELAY_EV_NONE);
    ck_assert_int_eq(drain(), 1);
    /* ERROR STATE, no REF (an answer is not a request) */
    cl_assert_bytes(out, out_len, "C1 10 01 01 01 00 00 03 80 01 06");
    n = doc("hello-ack", b, sizeof(b));
    ck_assert_int_eq(feed(b, n), CL_ERR_PROTOCOL);
    ck_assert_uint_eq(ev.kind, CL_RELAY_EV_CLOSED);
    ck_assert_int_eq(drain(), 1);
    cl_assert_bytes(out, out_len, "C1 04 00 00 00 00 00 03 80 01 11");
    ck_assert_uint_eq(cl_relay_session_want(&S), CL_WANT_FAILED);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("relay_session_device_only");
    TCase *tc = tcase_create("device");

    tcase_add_test(tc, test_server_role_refused);
    tcase_add_test(tc, test_request_and_retry);
    tcase_add_test(tc, test_device_refusals);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(suite());
}
