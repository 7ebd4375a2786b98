/*
 * cardlink — relay session engines (docs/protocol.md §5.1, §5.2, §7-§9, §11).
 * SPDX-License-Identifier: Apache-2.0
 *
 * The handshake bytes are the hex examples of docs/protocol.md (hello,
 * hello-ack, hello-resume, hello-ack-resumed, keepalive, close-version).
 * The exactly-once tests run both engines against each other (sim.c) over
 * a stream and over lossy framing that drops, duplicates, reorders and
 * corrupts, cutting the connection after every message in turn, and check
 * that every request was executed once on the device's card, answered once
 * at the server, and recorded once in each transaction log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/relay_session.h"
#include "sim.h"
#include "test_util.h"

#ifndef CL_PROTOCOL_MD
#error "CL_PROTOCOL_MD must name docs/protocol.md"
#endif

/* ------------------------------------------------------------ doc examples */

/* The bytes of "```hex example=NAME" in docs/protocol.md. */
static size_t doc_example(const char *name, uint8_t *out, size_t size)
{
    return cl_test_doc_example(CL_PROTOCOL_MD, "hex", name, out, size);
}

#define assert_doc(name, buf, len)                                                  \
    do {                                                                            \
        uint8_t d_[1024];                                                           \
        size_t dn_ = doc_example((name), d_, sizeof(d_));                           \
        ck_assert_msg(dn_ == (len) && memcmp(d_, (buf), dn_) == 0,                  \
                      "%s: got %s", (name), cl_test_tohex((buf), (len)));           \
    } while (0)

/* ------------------------------------------------------------ engine calls */

/* feed() as a status: CL_OK with *used, CL_ERR_CLOSED when the bytes
 * closed the session normally, or the error. */
static int sfeed(struct cl_relay_session *s, uint32_t now, const uint8_t *in, size_t len,
                 size_t *used)
{
    int rc = cl_relay_session_feed(s, now, in, len);

    *used = rc >= 0 ? (size_t)rc : 0;
    if (rc < 0)
        return rc;
    if (cl_relay_session_state(s) == CL_RELAY_ST_CLOSED)
        return CL_ERR_CLOSED;
    return CL_OK;
}

/* One whole message: pull() and sent() it all. */
static bool spull(struct cl_relay_session *s, uint32_t now, const uint8_t **m, size_t *len)
{
    *len = cl_relay_session_pull(s, now, m);
    if (*len == 0)
        return false;
    ck_assert_int_eq(cl_relay_session_sent(s, *len), CL_OK);
    return true;
}

/* init() and setup(), which must succeed. */
static void sinit(struct cl_relay_session *s, uint8_t role, const struct cl_relay_session_config *cfg,
                  uint8_t *rx, size_t rx_size, uint8_t *rb, size_t rb_size)
{
    cl_relay_session_init(s);
    ck_assert_int_eq(cl_relay_session_setup(s, role, cfg, rx, rx_size, rb, rb_size), CL_OK);
}

/* ------------------------------------------------------------ a direct pair */

static const uint8_t tok[16] = { 0x5A, 0x0C, 0x37, 0xE1, 0x94, 0xB2, 0x6D, 0x08,
                                 0xC3, 0x1F, 0x7A, 0x40, 0x9E, 0x55, 0x2B, 0xD6 };
static const uint8_t devid[7] = { 'C', 'L', '-', '0', '0', '0', '1' };
/* another token, for a server that lost its session */
static const uint8_t devid_tok[16] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
                                       0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xF0, 0x01 };

struct pair {
    struct cl_relay_session dev, srv;
    struct cl_relay_session_config dcfg, scfg;
    uint8_t drx[1024], srx[2048], drb[2048], srb[2048];
    uint8_t last[1024];        /* last message pulled */
    size_t last_len;
    struct cl_relay_event ev[16];
    int nev;
    uint32_t now;
};

static struct pair P;

static void pair_init(struct pair *p)
{
    memset(p, 0, sizeof(*p));
    p->dcfg.device_id = devid;
    p->dcfg.device_id_len = sizeof(devid);
    p->dcfg.caps.interfaces = 0x03;
    p->dcfg.caps.display_cols = 16;
    p->dcfg.caps.display_rows = 2;
    p->dcfg.caps.input = 0x07;
    p->dcfg.caps.max_msg = 1024;
    p->dcfg.caps.max_cmd_apdu = 261;
    p->dcfg.caps.max_resp_apdu = 258;
    p->dcfg.caps.features = 0x00FF;
    p->dcfg.caps.script_steps = 32;
    p->dcfg.ack_delay_ms = 1000;
    p->scfg.keepalive_s = 30;
    p->scfg.ack_delay_ms = 1000;
    p->now = 5000;
}

static void pair_start(struct pair *p)
{
    sinit(&p->dev, CL_RELAY_DEVICE, &p->dcfg, p->drx, sizeof(p->drx), p->drb,
                          sizeof(p->drb));
    sinit(&p->srv, CL_RELAY_SERVER, &p->scfg, p->srx, sizeof(p->srx), p->srb,
                          sizeof(p->srb));
}

/* Move everything one side has to send into the other; events of the
 * receiver are collected into p->ev. Returns the number of messages. */
static int xfer(struct pair *p, struct cl_relay_session *from, struct cl_relay_session *to)
{
    const uint8_t *m;
    size_t len, used;
    int n = 0;

    while (spull(from, p->now, &m, &len)) {
        size_t off = 0;
        memcpy(p->last, m, len);
        p->last_len = len;
        n++;
        while (off < len) {
            int rc = sfeed(to, p->now, p->last + off, len - off, &used);
            off += used;
            while (p->nev < 16 && cl_relay_session_poll(to, &p->ev[p->nev]))
                p->nev++;
            if (rc != CL_OK)
                break;
        }
    }
    return n;
}

static void handshake(struct pair *p)
{
    ck_assert_int_eq(cl_relay_device_connect(&p->dev, p->now), CL_OK);
    ck_assert_int_eq(cl_relay_server_accept(&p->srv, p->now, tok, sizeof(tok)), CL_OK);
    p->nev = 0;
    ck_assert_int_eq(xfer(p, &p->dev, &p->srv), 1);
    ck_assert_int_eq(xfer(p, &p->srv, &p->dev), 1);
    ck_assert_uint_eq(cl_relay_session_state(&p->dev), CL_RELAY_ST_OPEN);
    ck_assert_uint_eq(cl_relay_session_state(&p->srv), CL_RELAY_ST_OPEN);
}

/* A fresh pair whose server announces keep-alive K (s) in HELLO-ACK, open. */
static void open_with_keepalive(uint16_t k)
{
    pair_init(&P);
    P.scfg.keepalive_s = k;
    pair_start(&P);
    handshake(&P);
}

/* Feed raw hex to a session, collecting events; returns feed's result. */
static int feed_hex(struct pair *p, struct cl_relay_session *s, const char *hex)
{
    uint8_t b[512];
    int n = cl_test_hex(hex, b, sizeof(b));
    size_t used, off = 0;
    int rc = CL_OK;

    ck_assert_int_gt(n, 0);
    p->nev = 0;
    while (off < (size_t)n) {
        rc = sfeed(s, p->now, b + off, (size_t)n - off, &used);
        off += used;
        while (p->nev < 16 && cl_relay_session_poll(s, &p->ev[p->nev]))
            p->nev++;
        if (rc != CL_OK || used == 0)
            break;
    }
    return rc;
}

static size_t pull_one(struct pair *p, struct cl_relay_session *s)
{
    const uint8_t *m;
    size_t len;

    if (!spull(s, p->now, &m, &len))
        return 0;
    memcpy(p->last, m, len);
    p->last_len = len;
    return len;
}

/* ------------------------------------------------------------ handshake */

START_TEST(test_handshake_doc)
{
    pair_init(&P);
    pair_start(&P);
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    assert_doc("hello", P.last, P.last_len);
    ck_assert_int_eq(cl_relay_server_accept(&P.srv, P.now, tok, sizeof(tok)), CL_OK);
    ck_assert_int_eq(sfeed(&P.srv, P.now, P.last, P.last_len, &P.last_len), CL_OK);
    ck_assert(cl_relay_session_poll(&P.srv, &P.ev[0]));
    ck_assert_uint_eq(P.ev[0].kind, CL_RELAY_EV_OPEN);
    ck_assert(!P.ev[0].resumed);
    ck_assert_uint_eq(P.ev[0].msg->u.hello.caps.max_msg, 1024);
    ck_assert_uint_gt(pull_one(&P, &P.srv), 0);
    assert_doc("hello-ack", P.last, P.last_len);
    P.nev = 0;
    ck_assert_int_eq(sfeed(&P.dev, P.now, P.last, P.last_len, &P.last_len), CL_OK);
    ck_assert(cl_relay_session_poll(&P.dev, &P.ev[0]));
    ck_assert_uint_eq(P.ev[0].kind, CL_RELAY_EV_OPEN);
    ck_assert(!P.ev[0].resumed);
    {
        size_t n;
        const uint8_t *t = cl_relay_session_token(&P.dev, &n);
        ck_assert_uint_eq(n, 16);
        ck_assert_mem_eq(t, tok, 16);
    }
    ck_assert_uint_eq(cl_relay_session_state(&P.dev), CL_RELAY_ST_OPEN);
    ck_assert(!spull(&P.dev, P.now, (const uint8_t **)&P.ev[0].msg, &P.last_len));
}
END_TEST

/* Resumption: 7 server requests, 12 device messages, a cut; the HELLO and
 * the HELLO-ACK are docs/protocol.md's examples byte for byte. */
START_TEST(test_resume_doc)
{
    struct cl_relay_msg m;
    static const char sw[] = "fw 1.2";
    int i;

    pair_init(&P);
    memset(&P.dcfg.caps, 0, sizeof(P.dcfg.caps));
    P.dcfg.caps.interfaces = 0x03;
    P.dcfg.caps.features = 0x00FF;
    P.dcfg.software = sw;
    P.scfg.max_msg = 2048;
    pair_start(&P);
    handshake(&P);
    for (i = 0; i < 7; i++) {
        cl_relay_msg_init(&m, CL_RELAY_DISPLAY);
        ck_assert_int_eq(cl_relay_session_send(&P.srv, P.now, &m), CL_OK);
        P.nev = 0;
        xfer(&P, &P.srv, &P.dev);
        ck_assert_int_eq(P.nev, 1);
        ck_assert_uint_eq(P.ev[0].kind, CL_RELAY_EV_REQUEST);
        ck_assert_uint_eq(P.ev[0].msg->seq, i + 1);
        cl_relay_msg_init(&m, CL_RELAY_DISPLAY_DONE);
        ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_OK);
        P.nev = 0;
        xfer(&P, &P.dev, &P.srv);
        ck_assert_int_eq(P.nev, 1);
        ck_assert_uint_eq(P.ev[0].kind, CL_RELAY_EV_ANSWER);
        ck_assert_uint_eq(P.ev[0].msg->ref, i + 1);
    }
    for (i = 0; i < 5; i++) {
        cl_relay_msg_init(&m, CL_RELAY_READER_STATUS);
        m.u.reader_status = 3;
        ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_OK);
    }
    P.nev = 0;
    ck_assert_int_eq(xfer(&P, &P.dev, &P.srv), 5);
    ck_assert_int_eq(P.nev, 5);
    ck_assert_uint_eq(P.ev[4].kind, CL_RELAY_EV_NOTIFY);
    ck_assert_uint_eq(P.last[3], 12);   /* the last one is seq 12 */
    cl_relay_session_disconnect(&P.dev, P.now);
    cl_relay_session_disconnect(&P.srv, P.now);
    ck_assert_uint_eq(cl_relay_session_state(&P.dev), CL_RELAY_ST_SUSPENDED);
    ck_assert_uint_eq(cl_relay_session_state(&P.srv), CL_RELAY_ST_SUSPENDED);
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    assert_doc("hello-resume", P.last, P.last_len);
    ck_assert_int_eq(cl_relay_server_accept(&P.srv, P.now, tok, sizeof(tok)), CL_OK);
    P.nev = 0;
    ck_assert_int_eq(feed_hex(&P, &P.srv, cl_test_tohex(P.last, P.last_len)), CL_OK);
    ck_assert_int_eq(P.nev, 1);
    ck_assert_uint_eq(P.ev[0].kind, CL_RELAY_EV_OPEN);
    ck_assert(P.ev[0].resumed);
    ck_assert_uint_gt(pull_one(&P, &P.srv), 0);
    assert_doc("hello-ack-resumed", P.last, P.last_len);
    ck_assert_int_eq(feed_hex(&P, &P.dev, cl_test_tohex(P.last, P.last_len)), CL_OK);
    ck_assert_int_eq(P.nev, 1);
    ck_assert(P.ev[0].resumed);
    /* numbering continues */
    cl_relay_msg_init(&m, CL_RELAY_CARD_REMOVED);
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 31 01 0D 07 00 00 00");
}
END_TEST

/* The SCRIPT-RESULT of §16 lost with the link comes back with REPLAY, and
 * its request is not executed again when the server replays it too. */
START_TEST(test_replay_flag)
{
    struct cl_relay_msg m;
    static const uint8_t apdu[] = { 0x00, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00,
                                    0x00, 0x03, 0x10, 0x10, 0x00 };
    static const uint8_t resp[] = { 0x6F, 0x07, 0x84, 0x05, 0xA0, 0x00, 0x00, 0x00,
                                    0x03, 0x90, 0x00 };

    pair_init(&P);
    pair_start(&P);
    handshake(&P);
    /* device: 2 notifications (seq 1, 2), server: APDU seq 1 acking 2 */
    cl_relay_msg_init(&m, CL_RELAY_READER_STATUS);
    m.u.reader_status = 3;
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_OK);
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_OK);
    xfer(&P, &P.dev, &P.srv);
    cl_relay_msg_init(&m, CL_RELAY_APDU);
    m.u.apdu.apdu.data = apdu;
    m.u.apdu.apdu.len = sizeof(apdu);
    ck_assert_int_eq(cl_relay_session_send(&P.srv, P.now, &m), CL_OK);
    P.nev = 0;
    ck_assert_int_eq(xfer(&P, &P.srv, &P.dev), 1);
    cl_assert_bytes(P.last, P.last_len, "C1 20 01 01 02 00 00 0F 80 0D 00 A4 04 00 07 A0 00 00 00 03 10 10 00");
    ck_assert_int_eq(P.nev, 1);
    cl_relay_msg_init(&m, CL_RELAY_APDU_RESPONSE);
    m.u.apdu.apdu.data = resp;
    m.u.apdu.apdu.len = sizeof(resp);
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    assert_doc("apdu-response", P.last, P.last_len);   /* ... and it is lost */
    cl_relay_session_disconnect(&P.dev, P.now);
    cl_relay_session_disconnect(&P.srv, P.now);
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
    ck_assert_int_eq(cl_relay_server_accept(&P.srv, P.now, tok, sizeof(tok)), CL_OK);
    xfer(&P, &P.dev, &P.srv);      /* HELLO ack 1 */
    P.nev = 0;
    xfer(&P, &P.srv, &P.dev);      /* HELLO-ACK RESUMED ack 2, then the APDU? no: acked */
    ck_assert_int_eq(P.nev, 1);
    ck_assert(P.ev[0].resumed);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    assert_doc("replayed-apdu-response", P.last, P.last_len);
    ck_assert_uint_eq(cl_relay_session_stats(&P.dev)->executed, 1);
}
END_TEST

/* ------------------------------------------------------------ exactly once */

static struct sim S;

static void assert_exactly_once(const struct sim *s, const char *what, long k)
{
    int i;

    for (i = 0; i < s->nreq; i++) {
        ck_assert_msg(s->exec[i] == 1, "%s cut %ld: request %d executed %d times", what, k, i,
                      s->exec[i]);
        ck_assert_msg(s->answers[i] == 1, "%s cut %ld: request %d answered %d times", what, k,
                      i, s->answers[i]);
    }
    ck_assert_msg(s->stab.records == 3, "%s cut %ld: server log %u", what, k,
                  (unsigned)s->stab.records);
    ck_assert_msg(s->dtab.records == 3, "%s cut %ld: device log %u", what, k,
                  (unsigned)s->dtab.records);
    ck_assert_int_eq(s->err_events, 0);
}

static long reference_messages(int mode)
{
    sim_init(&S, mode);
    S.dup = mode == SIM_STREAM ? 200 : 0;
    ck_assert_int_ge(sim_run(&S, 20000), 0);
    assert_exactly_once(&S, "no cut", -1);
    ck_assert_int_eq(S.cuts, 0);
    return S.msgs;
}

static long total_runs, total_cuts, total_replayed, total_dups, total_frames_lost;

/* _i: 0 stream/lose, 1 stream/deliver, 2 lossy/lose, 3 lossy/deliver. */
START_TEST(test_exactly_once_every_cut)
{
    int mode = _i / 2 ? SIM_LOSSY : SIM_STREAM;
    int cm = _i % 2 ? SIM_CUT_DELIVER : SIM_CUT_LOSE;
    long n = reference_messages(mode), k;

    ck_assert_int_gt(n, 15);
    for (k = 1; k <= n + 2; k++) {
        char what[64];
        sim_init(&S, mode);
        S.dup = mode == SIM_STREAM ? 200 : 0;   /* stream: duplicated messages */
        S.cut_at = k;
        S.cut_mode = cm;
        snprintf(what, sizeof(what), "%s/%s", mode ? "lossy" : "stream",
                 cm == SIM_CUT_LOSE ? "lose" : "deliver");
        ck_assert_msg(sim_run(&S, 50000) >= 0, "%s cut %ld: did not finish", what, k);
        assert_exactly_once(&S, what, k);
        total_runs++;
        total_cuts += S.cuts;
        total_replayed += (long)(cl_relay_session_stats(&S.dev)->replayed + cl_relay_session_stats(&S.srv)->replayed);
        total_dups += (long)(cl_relay_session_stats(&S.dev)->duplicates + cl_relay_session_stats(&S.srv)->duplicates);
    }
}
END_TEST

/* Lossy link with 10% drops, 5% duplicates, 10% swaps, 3% corruption, and
 * a cut after every message in turn, for several seeds. */
START_TEST(test_exactly_once_lossy_faults)
{
    long n = reference_messages(SIM_LOSSY), k;
    uint32_t seed;
    unsigned long dropped = 0;

    for (seed = 1; seed <= 20; seed++)
        for (k = 0; k <= n + 2; k++) {
            sim_init(&S, SIM_LOSSY);
            S.rng = seed * 7919u + (uint32_t)k;
            S.drop = 100;
            S.dup = 50;
            S.reorder = 100;
            S.corrupt = 30;
            S.cut_at = k == 0 ? -1 : k;
            S.cut_mode = (k & 1) ? SIM_CUT_LOSE : SIM_CUT_DELIVER;
            ck_assert_msg(sim_run(&S, 200000) >= 0, "seed %u cut %ld: did not finish",
                          (unsigned)seed, k);
            assert_exactly_once(&S, "lossy+faults", k);
            dropped += cl_relay_lossy_stats(&S.dl)->bad_crc + cl_relay_lossy_stats(&S.sl)->bad_crc + cl_relay_lossy_stats(&S.dl)->duplicates +
                       cl_relay_lossy_stats(&S.sl)->duplicates;
            total_runs++;
            total_cuts += S.cuts;
            total_replayed += (long)(cl_relay_session_stats(&S.dev)->replayed + cl_relay_session_stats(&S.srv)->replayed);
            total_dups += (long)(cl_relay_session_stats(&S.dev)->duplicates + cl_relay_session_stats(&S.srv)->duplicates);
            total_frames_lost += (long)(cl_relay_lossy_stats(&S.dl)->bad_crc + cl_relay_lossy_stats(&S.sl)->bad_crc +
                                        cl_relay_lossy_stats(&S.dl)->retransmits + cl_relay_lossy_stats(&S.sl)->retransmits);
        }
    ck_assert_uint_gt(dropped, 0);
}
END_TEST

/* A cut every 3 messages, over both links. */
START_TEST(test_exactly_once_repeated_cuts)
{
    int mode;
    long every;

    for (mode = 0; mode < 2; mode++)
        for (every = 3; every <= 6; every++) {
            /* losing every 3rd message would lose each replay forever */
            sim_init(&S, mode);
            S.cut_at = every;
            S.cut_every = every;
            S.cut_mode = (every & 1) ? SIM_CUT_DELIVER : SIM_CUT_LOSE;
            ck_assert_int_ge(sim_run(&S, 100000), 0);
            assert_exactly_once(&S, "repeated", every);
            ck_assert_int_ge(S.cuts, 3);
            ck_assert_int_ge(S.opens_resumed, 2);
            total_runs++;
            total_cuts += S.cuts;
        }
    printf("exactly-once: %ld runs, %ld cuts, %ld messages replayed, %ld duplicates dropped, "
           "%ld lossy retransmissions/CRC drops; every request executed once\n",
           total_runs, total_cuts, total_replayed, total_dups, total_frames_lost);
}
END_TEST

/* ------------------------------------------------------------ idempotency */

START_TEST(test_idempotency)
{
    struct cl_relay_msg m;
    struct cl_relay_event ev;
    const uint8_t *out;
    size_t len;

    sim_init(&S, SIM_STREAM);
    ck_assert_int_ge(sim_run(&S, 20000), 0);
    assert_exactly_once(&S, "idem", 0);
    /* the server lost its session: a new server object with the same
     * ledger re-sends request 2 (SCRIPT with txn id) */
    sinit(&S.srv, CL_RELAY_SERVER, &S.scfg, S.srv_rx, sizeof(S.srv_rx), S.srv_rb,
                          sizeof(S.srv_rb));
    ck_assert_int_eq(cl_relay_device_connect(&S.dev, S.now), CL_OK);
    ck_assert_int_eq(cl_relay_server_accept(&S.srv, S.now, tok, sizeof(tok)), CL_OK);
    P.now = S.now;
    xfer(&P, &S.dev, &S.srv);
    xfer(&P, &S.srv, &S.dev);
    ck_assert_uint_eq(cl_relay_session_state(&S.srv), CL_RELAY_ST_OPEN);
    /* server side: the id is in the ledger: recorded outcome, nothing sent */
    sim_request(&m, 2);
    ck_assert_int_eq(cl_relay_session_send(&S.srv, S.now, &m), CL_OK);
    ck_assert(cl_relay_session_poll(&S.srv, &ev));
    ck_assert_uint_eq(ev.kind, CL_RELAY_EV_ANSWER);
    ck_assert(ev.recorded);
    ck_assert_uint_eq(cl_relay_session_stats(&S.srv)->duplicates, 1);
    ck_assert_uint_eq(ev.msg->type, CL_RELAY_SCRIPT_RESULT);
    ck_assert_uint_eq(ev.msg->u.script_result.nresp, 2);
    ck_assert(!spull(&S.srv, S.now, &out, &len));
    ck_assert_uint_eq(S.stab.records, 3);
    /* device side: a server with an empty ledger re-sends it: the device
     * answers from its log without touching the card */
    S.scfg.txn_log = NULL;
    sim_request(&m, 3);
    ck_assert_int_eq(cl_relay_session_send(&S.srv, S.now, &m), CL_OK);
    P.nev = 0;
    xfer(&P, &S.srv, &S.dev);
    ck_assert_int_eq(P.nev, 0);                 /* no REQUEST event */
    P.nev = 0;
    xfer(&P, &S.dev, &S.srv);
    ck_assert_int_eq(P.nev, 1);
    ck_assert_uint_eq(P.ev[0].kind, CL_RELAY_EV_ANSWER);
    ck_assert(!P.ev[0].recorded);
    ck_assert_uint_eq(P.ev[0].msg->type, CL_RELAY_APDU_RESPONSE);
    ck_assert_uint_eq(P.ev[0].msg->ref, 1);     /* REF = the new request */
    ck_assert_uint_eq(P.ev[0].msg->seq, 1);
    ck_assert_uint_eq(P.ev[0].msg->u.apdu.apdu.data[0], 3);
    ck_assert_int_eq(S.exec[3], 1);
    ck_assert_uint_eq(S.dtab.records, 3);
    ck_assert_uint_eq(cl_relay_session_stats(&S.dev)->duplicates, 1);
}
END_TEST

/* The server lost the session while the device executed a money-moving
 * request: the answer cannot go, but its outcome is logged, and the
 * server's retry in the fresh session gets it without a second execution. */
START_TEST(test_idempotency_orphan)
{
    struct cl_relay_msg m;
    static const uint8_t r[] = { 0x03, 0x90, 0x00 };

    sim_init(&S, SIM_STREAM);
    P.now = S.now;
    ck_assert_int_eq(cl_relay_device_connect(&S.dev, S.now), CL_OK);
    ck_assert_int_eq(cl_relay_server_accept(&S.srv, S.now, tok, sizeof(tok)), CL_OK);
    xfer(&P, &S.dev, &S.srv);
    xfer(&P, &S.srv, &S.dev);
    sim_request(&m, 3);                              /* APDU with txn id */
    ck_assert_int_eq(cl_relay_session_send(&S.srv, S.now, &m), CL_OK);
    P.nev = 0;
    xfer(&P, &S.srv, &S.dev);
    ck_assert_int_eq(P.nev, 1);
    ck_assert_uint_eq(P.ev[0].kind, CL_RELAY_EV_REQUEST);   /* executing... */
    cl_relay_session_disconnect(&S.dev, S.now);
    sinit(&S.srv, CL_RELAY_SERVER, &S.scfg, S.srv_rx, sizeof(S.srv_rx), S.srv_rb,
                          sizeof(S.srv_rb));             /* the server lost everything */
    S.scfg.txn_log = NULL;
    ck_assert_int_eq(cl_relay_device_connect(&S.dev, S.now), CL_OK);
    ck_assert_int_eq(cl_relay_server_accept(&S.srv, S.now, (const uint8_t *)"another-token-01", 16),
                     CL_OK);
    P.nev = 0;
    xfer(&P, &S.dev, &S.srv);
    xfer(&P, &S.srv, &S.dev);
    ck_assert_int_eq(P.nev, 2);
    ck_assert(!P.ev[1].resumed);
    cl_relay_msg_init(&m, CL_RELAY_APDU_RESPONSE);    /* ... done, too late to send */
    m.u.apdu.apdu.data = r;
    m.u.apdu.apdu.len = sizeof(r);
    ck_assert_int_eq(cl_relay_session_send(&S.dev, S.now, &m), CL_ERR_STATE);
    ck_assert_uint_eq(S.dtab.records, 1);
    {
        /* recorded as the answer would have gone: seq 1, REF the request's */
        const uint8_t *ans;
        size_t alen;
        sim_request(&m, 3);
        ck_assert_int_eq(S.dlog.lookup(S.dlog.ctx, m.u.apdu.txn_id, &ans, &alen), CL_OK);
        cl_assert_bytes(ans, alen, "C1 21 04 01 00 01 00 05 80 03 03 90 00");
    }
    sim_request(&m, 3);                              /* the retry, same id */
    ck_assert_int_eq(cl_relay_session_send(&S.srv, S.now, &m), CL_OK);
    P.nev = 0;
    xfer(&P, &S.srv, &S.dev);
    ck_assert_int_eq(P.nev, 0);                      /* not executed again */
    P.nev = 0;
    xfer(&P, &S.dev, &S.srv);
    ck_assert_int_eq(P.nev, 1);
    ck_assert_uint_eq(P.ev[0].kind, CL_RELAY_EV_ANSWER);
    ck_assert_uint_eq(P.ev[0].msg->ref, 1);
    ck_assert_uint_eq(P.ev[0].msg->u.apdu.apdu.len, 3);
    ck_assert_uint_eq(P.ev[0].msg->u.apdu.apdu.data[0], 3);
    ck_assert_uint_eq(cl_relay_session_stats(&S.dev)->executed, 1);
}
END_TEST

/* An id whose answer the log no longer holds: ERROR DUPLICATE (§9). */
START_TEST(test_idempotency_no_answer)
{
    struct cl_relay_txn_table t;
    struct cl_relay_txn_slot sl[2];
    struct cl_relay_txn_log log;
    struct cl_relay_msg m;
    const uint8_t *a;
    size_t n;
    uint8_t id[16];
    static uint8_t big[CL_RELAY_TXN_ANSWER_MAX + 1];

    memset(id, 0xA0 + 3 * 16, sizeof(id));
    cl_relay_txn_table_init(&t, sl, 2, &log);
    ck_assert_int_eq(log.lookup(log.ctx, id, &a, &n), CL_ERR_NOT_FOUND);
    sim_request(&m, 3);
    ck_assert_int_eq(log.record(log.ctx, m.u.apdu.txn_id, big, sizeof(big)), CL_OK);
    ck_assert_int_eq(log.lookup(log.ctx, m.u.apdu.txn_id, &a, &n), CL_OK);
    ck_assert_uint_eq(n, 0);
    pair_init(&P);
    P.dcfg.txn_log = &log;
    pair_start(&P);
    handshake(&P);
    ck_assert_int_eq(cl_relay_session_send(&P.srv, P.now, &m), CL_OK);
    P.nev = 0;
    xfer(&P, &P.srv, &P.dev);
    ck_assert_int_eq(P.nev, 0);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 10 05 01 01 01 00 03 80 01 0D");
    /* ring replacement */
    ck_assert_int_eq(log.record(log.ctx, id, big, 3), CL_OK);
    id[0] ^= 1;
    ck_assert_int_eq(log.record(log.ctx, id, big, 3), CL_OK);
    ck_assert_int_eq(log.lookup(log.ctx, m.u.apdu.txn_id, &a, &n), CL_ERR_NOT_FOUND);
    ck_assert_uint_eq(t.records, 3);
    cl_relay_txn_table_init(&t, NULL, 0, &log);
    ck_assert_int_eq(log.record(log.ctx, id, big, 3), CL_OK);
    ck_assert_int_eq(log.lookup(log.ctx, id, &a, &n), CL_ERR_NOT_FOUND);
}
END_TEST

/* ------------------------------------------------------------ keep-alive */

START_TEST(test_keepalive_and_dead)
{
    open_with_keepalive(2);
    ck_assert_uint_eq(cl_relay_session_timer(&P.dev, P.now), 2000);
    ck_assert(pull_one(&P, &P.dev) == 0);
    P.now += 2000;
    ck_assert_uint_eq(cl_relay_session_timer(&P.dev, P.now), 0);
    ck_assert_int_eq(cl_relay_session_timeout(&P.dev, P.now), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 03 00 00 00 00 00 00");  /* no ACK: nothing received */
    ck_assert_uint_eq(cl_relay_session_timer(&P.dev, P.now), 2000);
}
END_TEST

/* A keep-alive and a delayed ack that timeout() found due are queued:
 * want() says SEND until they are pulled, and the timer does not stay at
 * 0 meanwhile (a caller whose transport is busy would spin on it). */
START_TEST(test_keepalive_queued)
{
    struct cl_relay_msg m;

    open_with_keepalive(2);
    P.now += 2000;
    ck_assert_int_eq(cl_relay_session_want(&P.dev), CL_WANT_RECV);
    ck_assert_uint_eq(cl_relay_session_timer(&P.dev, P.now), 0);
    ck_assert_int_eq(cl_relay_session_timeout(&P.dev, P.now), CL_OK);
    ck_assert_int_eq(cl_relay_session_want(&P.dev), CL_WANT_SEND);
    ck_assert_uint_eq(cl_relay_session_timer(&P.dev, P.now), 4000);   /* 3K since the HELLO-ACK */
    ck_assert_int_eq(cl_relay_session_timeout(&P.dev, P.now), CL_OK);   /* again: no change */
    ck_assert_uint_eq(cl_relay_session_timer(&P.dev, P.now), 4000);
    P.now += 500;                                  /* the transport could not take it till now */
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 03 00 00 00 00 00 00");
    ck_assert_int_eq(cl_relay_session_want(&P.dev), CL_WANT_RECV);
    ck_assert_uint_eq(cl_relay_session_timer(&P.dev, P.now), 2000);   /* K from this send */
    /* a delayed ack: the server received a notification, 1 s passes */
    cl_relay_msg_init(&m, CL_RELAY_READER_STATUS);
    m.u.reader_status = 1;
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_OK);
    xfer(&P, &P.dev, &P.srv);
    P.now += 999;
    ck_assert_uint_eq(cl_relay_session_timer(&P.srv, P.now), 0);
    ck_assert_int_eq(cl_relay_session_timeout(&P.srv, P.now), CL_OK);
    ck_assert_int_eq(cl_relay_session_want(&P.srv), CL_WANT_SEND);
    ck_assert_uint_ne(cl_relay_session_timer(&P.srv, P.now), 0);
    ck_assert_uint_gt(pull_one(&P, &P.srv), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 03 01 00 01 00 00 00");   /* KEEPALIVE, ACK 1 */
    /* a record going out first carries the ack and takes the queued one's place */
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_OK);
    xfer(&P, &P.dev, &P.srv);
    P.now += 999;
    ck_assert_int_eq(cl_relay_session_timeout(&P.srv, P.now), CL_OK);
    cl_relay_msg_init(&m, CL_RELAY_DISPLAY);
    m.u.display.text.data = (const uint8_t *)"hi";
    m.u.display.text.len = 2;
    ck_assert_int_eq(cl_relay_session_send(&P.srv, P.now, &m), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.srv), 0);
    ck_assert_uint_eq(P.last[1], CL_RELAY_DISPLAY);
    ck_assert_uint_eq(P.last[4], 2);                                    /* ack 2 */
    ck_assert(pull_one(&P, &P.srv) == 0);                               /* no KEEPALIVE after it */
    ck_assert_int_eq(cl_relay_session_want(&P.srv), CL_WANT_RECV);
    /* one queued when the transport drops is not sent on the next one */
    open_with_keepalive(2);
    P.now += 2000;
    ck_assert_int_eq(cl_relay_session_timeout(&P.dev, P.now), CL_OK);
    ck_assert_int_eq(cl_relay_session_want(&P.dev), CL_WANT_SEND);
    cl_relay_session_disconnect(&P.dev, P.now);
    cl_relay_session_disconnect(&P.srv, P.now);
    handshake(&P);
    ck_assert_int_eq(cl_relay_session_want(&P.dev), CL_WANT_RECV);
    ck_assert(pull_one(&P, &P.dev) == 0);
}
END_TEST

/* the KEEPALIVE example carries ack 5: build that situation */
START_TEST(test_keepalive_doc)
{
    struct cl_relay_msg m;
    int i;

    pair_init(&P);
    pair_start(&P);
    handshake(&P);
    for (i = 0; i < 5; i++) {
        cl_relay_msg_init(&m, CL_RELAY_READER_STATUS);
        m.u.reader_status = 1;
        ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_OK);
    }
    xfer(&P, &P.dev, &P.srv);
    ck_assert(pull_one(&P, &P.srv) == 0);        /* ack delay 1 s not over */
    ck_assert_uint_eq(cl_relay_session_timer(&P.srv, P.now), 999);
    P.now += 999;
    ck_assert_uint_gt(pull_one(&P, &P.srv), 0);
    assert_doc("keepalive", P.last, P.last_len);
    ck_assert_int_eq(feed_hex(&P, &P.dev, cl_test_tohex(P.last, P.last_len)), CL_OK);
    ck_assert_uint_eq(cl_relay_session_replay_used(&P.dev), 0);        /* all five acknowledged */
}
END_TEST

START_TEST(test_link_dead)
{
    struct cl_relay_event ev;
    struct cl_relay_msg m;

    pair_init(&P);
    P.scfg.keepalive_s = 1;
    P.dcfg.keepalive_missed = 4;
    pair_start(&P);
    handshake(&P);
    P.now += 3999;
    ck_assert_int_eq(cl_relay_session_timeout(&P.dev, P.now), CL_OK);
    ck_assert(!cl_relay_session_poll(&P.dev, &ev));
    /* the keep-alive due is queued: want() says SEND, and the timer goes on
     * to the dead-link limit (1 ms away) instead of staying at 0 */
    ck_assert_int_eq(cl_relay_session_want(&P.dev), CL_WANT_SEND);
    ck_assert_uint_eq(cl_relay_session_timer(&P.dev, P.now), 1);
    P.now += 1;
    ck_assert_int_eq(cl_relay_session_timeout(&P.dev, P.now), CL_OK);
    ck_assert(cl_relay_session_poll(&P.dev, &ev));
    ck_assert_uint_eq(ev.kind, CL_RELAY_EV_LINK_DEAD);
    ck_assert_int_eq(ev.err, CL_ERR_TIMEOUT);
    ck_assert_uint_eq(cl_relay_session_state(&P.dev), CL_RELAY_ST_SUSPENDED);
    /* the session is kept: notifications queue for the next connection */
    cl_relay_msg_init(&m, CL_RELAY_CARD_REMOVED);
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_OK);
    ck_assert(pull_one(&P, &P.dev) == 0);
    ck_assert_int_eq(sfeed(&P.dev, P.now, P.last, 1, &P.last_len), CL_ERR_STATE);
    /* server default N = 3 */
    P.now += 0;
    ck_assert_int_eq(cl_relay_session_timeout(&P.srv, P.now), CL_OK);
    ck_assert(cl_relay_session_poll(&P.srv, &ev));
    ck_assert_uint_eq(ev.kind, CL_RELAY_EV_LINK_DEAD);
    /* HELLO unanswered */
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
    ck_assert_uint_eq(cl_relay_session_timer(&P.dev, P.now), 10000);
    P.now += 10000;
    ck_assert_int_eq(cl_relay_session_timeout(&P.dev, P.now), CL_OK);
    ck_assert(cl_relay_session_poll(&P.dev, &ev));
    ck_assert_uint_eq(ev.kind, CL_RELAY_EV_LINK_DEAD);
    ck_assert_uint_eq(cl_relay_session_state(&P.dev), CL_RELAY_ST_SUSPENDED);
}
END_TEST

/* ------------------------------------------------------------ refusals */

START_TEST(test_wrong_token)
{
    struct cl_relay_msg m;

    pair_init(&P);
    pair_start(&P);
    handshake(&P);
    cl_relay_msg_init(&m, CL_RELAY_CARD_REMOVED);
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);   /* lost */
    cl_relay_session_disconnect(&P.dev, P.now);
    cl_relay_session_disconnect(&P.srv, P.now);
    P.dev.token[3] ^= 0x55;                       /* a token the server does not hold */
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
    ck_assert_int_eq(cl_relay_server_accept(&P.srv, P.now, (const uint8_t *)"NEWTOKEN-1234567", 16),
                     CL_OK);
    P.nev = 0;
    xfer(&P, &P.dev, &P.srv);
    ck_assert_int_eq(P.nev, 1);
    ck_assert_uint_eq(P.ev[0].kind, CL_RELAY_EV_OPEN);
    ck_assert(!P.ev[0].resumed);                  /* refused: a fresh session */
    ck_assert_uint_gt(pull_one(&P, &P.srv), 0);
    ck_assert_uint_eq(P.last[2], 0);              /* no ACK */
    ck_assert_mem_eq(P.last + 13, "NEWTOKEN-1234567", 16);
    ck_assert_int_eq(feed_hex(&P, &P.dev, cl_test_tohex(P.last, P.last_len)), CL_OK);
    ck_assert(!P.ev[0].resumed);
    ck_assert_uint_eq(cl_relay_session_replay_used(&P.dev), 0);          /* replay buffer discarded */
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 31 00 01 00 00 00 00");  /* numbering restarts */
}
END_TEST

/* Resumption is bound to the token and to the device that opened the
 * session (docs/protocol.md §8): the server's answer to a HELLO after a cut,
 * with the token as held (or spoiled at byte `spoil`) and the device id
 * as configured (or another one). */
static void resume_with(const uint8_t *id, size_t id_len, int spoil, bool want_resumed)
{
    static const uint8_t other_tok[16] = "FRESH-TOKEN-0001";
    struct cl_relay_msg m;
    const uint8_t *t;
    size_t n;

    pair_init(&P);
    pair_start(&P);
    handshake(&P);
    cl_relay_msg_init(&m, CL_RELAY_CARD_REMOVED);
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);   /* lost with the link */
    cl_relay_session_disconnect(&P.dev, P.now);
    cl_relay_session_disconnect(&P.srv, P.now);
    if (spoil >= 0)
        P.dev.token[spoil] ^= 0x01;
    P.dcfg.device_id = id;
    P.dcfg.device_id_len = id_len;
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
    ck_assert_int_eq(cl_relay_server_accept(&P.srv, P.now, other_tok, sizeof(other_tok)), CL_OK);
    P.nev = 0;
    ck_assert_int_eq(xfer(&P, &P.dev, &P.srv), 1);
    ck_assert_int_eq(P.nev, 1);
    ck_assert_uint_eq(P.ev[0].kind, CL_RELAY_EV_OPEN);
    ck_assert(P.ev[0].resumed == want_resumed);
    ck_assert_uint_gt(pull_one(&P, &P.srv), 0);   /* the HELLO-ACK */
    ck_assert_uint_eq(P.last[1], CL_RELAY_HELLO_ACK);
    t = cl_relay_session_token(&P.srv, &n);
    ck_assert_uint_eq(n, 16);
    if (want_resumed) {
        ck_assert_mem_eq(t, tok, 16);
        ck_assert_mem_eq(P.last + 13, tok, 16);
        ck_assert_uint_eq(P.last[31], CL_RELAY_HELLO_RESUMED);   /* 82 01 01 */
    } else {
        /* a fresh session under the new token: no ACK, no RESUMED field */
        ck_assert_mem_eq(t, other_tok, 16);
        ck_assert_uint_eq(P.last[2], 0);
        ck_assert_mem_eq(P.last + 13, other_tok, 16);
        ck_assert(P.last_len < 32 || P.last[29] != 0x82);
    }
    ck_assert_int_eq(feed_hex(&P, &P.dev, cl_test_tohex(P.last, P.last_len)), CL_OK);
    ck_assert_int_eq(P.nev, 1);
    ck_assert(P.ev[0].resumed == want_resumed);
    if (want_resumed) {
        /* the lost CARD-REMOVED comes back with REPLAY */
        ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
        cl_assert_bytes(P.last, P.last_len, "C1 31 02 01 00 00 00 00");
    } else {
        ck_assert_uint_eq(cl_relay_session_replay_used(&P.dev), 0);     /* replay buffer discarded */
    }
}

START_TEST(test_resume_same_device)
{
    resume_with(devid, sizeof(devid), -1, true);
}
END_TEST

START_TEST(test_resume_other_device)
{
    static const uint8_t other[7] = { 'C', 'L', '-', '0', '0', '0', '2' };
    static const uint8_t longer[8] = { 'C', 'L', '-', '0', '0', '0', '1', '0' };

    resume_with(other, sizeof(other), -1, false);   /* valid token, another id */
    resume_with(longer, sizeof(longer), -1, false); /* the id with a byte more */
    resume_with(devid, 6, -1, false);               /* a prefix of the id */
}
END_TEST

START_TEST(test_resume_token_last_byte)
{
    resume_with(devid, sizeof(devid), 15, false);   /* last byte differs */
    resume_with(devid, sizeof(devid), 0, false);    /* first byte differs */
}
END_TEST

/* The matching function a multi-session server dispatches HELLOs with. */
START_TEST(test_server_resumes)
{
    struct cl_relay_hello h;
    uint8_t t2[16];

    pair_init(&P);
    pair_start(&P);
    memset(&h, 0, sizeof(h));
    h.device_id.data = devid;
    h.device_id.len = sizeof(devid);
    h.token.data = tok;
    h.token.len = sizeof(tok);
    ck_assert(!cl_relay_server_resumes(&P.srv, &h));   /* no session yet */
    handshake(&P);
    ck_assert(cl_relay_server_resumes(&P.srv, &h));
    ck_assert(!cl_relay_server_resumes(NULL, &h));
    ck_assert(!cl_relay_server_resumes(&P.srv, NULL));
    ck_assert(!cl_relay_server_resumes(&P.dev, &h));   /* not a server */
    memcpy(t2, tok, 16);
    t2[15] ^= 0x80;
    h.token.data = t2;
    ck_assert(!cl_relay_server_resumes(&P.srv, &h));
    h.token.data = tok;
    h.token.len = 15;
    ck_assert(!cl_relay_server_resumes(&P.srv, &h));
    h.token.len = 0;
    h.token.data = NULL;
    ck_assert(!cl_relay_server_resumes(&P.srv, &h));
    h.token.data = tok;
    h.token.len = 16;
    h.device_id.len = 6;
    ck_assert(!cl_relay_server_resumes(&P.srv, &h));
}
END_TEST

/* A HELLO-ACK claiming RESUMED for a token the device did not send. */
START_TEST(test_resumed_bad_token)
{
    pair_init(&P);
    pair_start(&P);
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    ck_assert_int_eq(feed_hex(&P, &P.dev, "C1 02 00 00 00 00 00 18 80 01 01 "
                                          "81 10 5A 0C 37 E1 94 B2 6D 08 C3 1F 7A 40 9E 55 2B D6 "
                                          "82 01 01"),
                     CL_ERR_PROTOCOL);
    ck_assert_int_eq(P.nev, 1);
    ck_assert_uint_eq(P.ev[0].kind, CL_RELAY_EV_CLOSED);
    ck_assert_int_eq(P.ev[0].err, CL_ERR_PROTOCOL);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 04 00 00 00 00 00 03 80 01 11");
}
END_TEST

START_TEST(test_version_mismatch)
{
    static const uint8_t v2[] = { 2, 3 };

    pair_init(&P);
    P.dcfg.versions = v2;
    P.dcfg.nversions = 2;
    pair_start(&P);
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
    ck_assert_int_eq(cl_relay_server_accept(&P.srv, P.now, tok, sizeof(tok)), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    ck_assert_int_eq(feed_hex(&P, &P.srv, cl_test_tohex(P.last, P.last_len)), CL_ERR_VERSION);
    ck_assert_int_eq(P.nev, 1);
    ck_assert_uint_eq(P.ev[0].kind, CL_RELAY_EV_CLOSED);
    ck_assert_int_eq(P.ev[0].err, CL_ERR_VERSION);
    ck_assert_uint_gt(pull_one(&P, &P.srv), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 04 00 00 00 00 00 03 80 01 03");
    ck_assert_uint_eq(cl_relay_session_state(&P.srv), CL_RELAY_ST_CLOSED);
    ck_assert_int_eq(cl_relay_session_error(&P.srv), CL_ERR_VERSION);
    /* the device reads the CLOSE VERSION (with text, as in the doc) */
    ck_assert_int_eq(feed_hex(&P, &P.dev, "C1 04 00 00 00 00 00 0C 80 01 03 90 07 6E 65 65 64 20 76 32"),
                     CL_ERR_VERSION);
    ck_assert_int_eq(P.nev, 1);
    ck_assert_uint_eq(P.ev[0].kind, CL_RELAY_EV_CLOSED);
    ck_assert_int_eq(P.ev[0].err, CL_ERR_VERSION);
    ck_assert_uint_eq(cl_relay_session_state(&P.dev), CL_RELAY_ST_CLOSED);
    ck_assert(pull_one(&P, &P.dev) == 0);
    /* a device offering 1 given version 2 by a server */
    pair_init(&P);
    pair_start(&P);
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    ck_assert_int_eq(feed_hex(&P, &P.dev, "C1 02 00 00 00 00 00 0D 80 01 02 81 08 01 02 03 04 05 06 07 08"),
                     CL_ERR_VERSION);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 04 00 00 00 00 00 03 80 01 03");
    /* a device with the session closed starts afresh */
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
    ck_assert_uint_eq(cl_relay_session_state(&P.dev), CL_RELAY_ST_HELLO);
}
END_TEST

/* Messages the device must refuse or answer with ERROR, after a handshake.
 * Each: input, feed result, then the exact bytes the device sends. */
static const struct {
    const char *in;
    int rc;
    const char *out;      /* NULL: nothing */
    const char *why;
} dev_vectors[] = {
    { "C1 24 00 02 00 00 00 02 80 00", CL_ERR_SEQUENCE, "C1 04 00 00 00 00 00 03 80 01 04",
      "seq gap (2 before 1): CLOSE SEQUENCE" },
    { "C1 03 01 00 05 00 00 00", CL_ERR_SEQUENCE, "C1 04 00 00 00 00 00 03 80 01 04",
      "ack of a message never sent: CLOSE SEQUENCE" },
    { "C1 20 00 01 00 00 00 09 80 07 00 A4 04 00 07 A0 00", CL_OK,
      "C1 10 05 01 01 01 00 03 80 01 01", "undecodable APDU: ERROR MALFORMED with REF" },
    { "C1 80 00 01 00 00 00 00", CL_OK, "C1 10 01 01 01 00 00 03 80 01 02",
      "vendor type: ERROR UNSUPPORTED without REF" },
    { "C1 32 00 01 00 00 00 03 80 01 03", CL_OK, "C1 10 01 01 01 00 00 03 80 01 06",
      "a notification to the device: ERROR STATE" },
    { "C1 21 04 01 00 01 00 04 80 02 90 00", CL_OK, "C1 10 01 01 01 00 00 03 80 01 06",
      "an answer to the device: ERROR STATE" },
    { "C1 01 00 00 00 00 00 0A 80 01 01 81 01 41 A2 00 83 00", CL_OK,
      "C1 10 00 01 00 00 00 03 80 01 01", "an undecodable HELLO when open: ERROR MALFORMED" },
    { "C1 01 00 00 00 00 00 08 80 01 01 81 01 41 A2 00", CL_ERR_PROTOCOL,
      "C1 04 00 00 00 00 00 03 80 01 11", "HELLO when open: CLOSE PROTOCOL" },
    { "C1 05 00 00 00 00 00 00", CL_OK, "C1 10 00 01 00 00 00 03 80 01 02",
      "unknown session-control type: ERROR UNSUPPORTED" },
    { "C1 04 00 00 00 00 00 03 80 01 00", CL_ERR_CLOSED, NULL, "CLOSE NONE" },
    { "C1 04 00 00 00 00 00 03 80 01 0F", CL_ERR_CLOSED, NULL, "CLOSE SHUTDOWN" },
    { "C2 03 00 00 00 00 00 00", CL_ERR_VERSION, "C1 04 00 00 00 00 00 03 80 01 03",
      "framing: header format 2" },
    { "C1 03 00 00 00 00 04 01", CL_ERR_TOO_LONG, "C1 04 00 00 00 00 00 03 80 01 05",
      "framing: longer than the receive buffer" },
    { "C1 10 00 01 00 00 00 03 80 01 0A", CL_OK, NULL, "ERROR without REF: NOTIFY" },
};

START_TEST(test_device_refusals)
{
    int rc;

    pair_init(&P);
    pair_start(&P);
    handshake(&P);
    rc = feed_hex(&P, &P.dev, dev_vectors[_i].in);
    ck_assert_msg(rc == dev_vectors[_i].rc, "%s: rc %d", dev_vectors[_i].why, rc);
    if (dev_vectors[_i].out != NULL) {
        ck_assert_msg(pull_one(&P, &P.dev) > 0, "%s: nothing sent", dev_vectors[_i].why);
        cl_assert_bytes(P.last, P.last_len, dev_vectors[_i].out);
    } else if (rc == CL_OK) {
        P.now += 1000;
        ck_assert(pull_one(&P, &P.dev) == 0 || P.last[1] == CL_RELAY_KEEPALIVE);
    }
    if (rc == CL_ERR_CLOSED) {
        ck_assert_uint_eq(P.ev[0].kind, CL_RELAY_EV_CLOSED);
        ck_assert_uint_eq(cl_relay_session_state(&P.dev), CL_RELAY_ST_CLOSED);
        ck_assert_int_eq(sfeed(&P.dev, P.now, NULL, 0, &P.last_len), CL_ERR_CLOSED);
    }
}
END_TEST

/* A second request while one executes: ERROR STATE REF; a duplicate is
 * dropped and acknowledged. */
START_TEST(test_device_busy_and_duplicate)
{
    pair_init(&P);
    pair_start(&P);
    handshake(&P);
    ck_assert_int_eq(feed_hex(&P, &P.dev, "C1 24 00 01 00 00 00 02 80 00"), CL_OK);
    ck_assert_int_eq(P.nev, 1);
    ck_assert_uint_eq(P.ev[0].kind, CL_RELAY_EV_REQUEST);
    ck_assert(cl_relay_session_busy(&P.dev));
    ck_assert_int_eq(feed_hex(&P, &P.dev, "C1 24 00 02 00 00 00 02 80 00"), CL_OK);
    ck_assert_int_eq(P.nev, 0);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 10 05 01 02 02 00 03 80 01 06");
    ck_assert_int_eq(feed_hex(&P, &P.dev, "C1 24 02 01 00 00 00 02 80 00"), CL_OK);
    ck_assert_int_eq(P.nev, 0);
    ck_assert_uint_eq(cl_relay_session_stats(&P.dev)->duplicates, 1);
    ck_assert(pull_one(&P, &P.dev) == 0);
    P.now += 1000;
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 03 01 00 02 00 00 00");
}
END_TEST

/* Server-side refusals. */
START_TEST(test_server_refusals)
{
    struct cl_relay_msg m;

    pair_init(&P);
    pair_start(&P);
    handshake(&P);
    /* a request sent to the server */
    ck_assert_int_eq(feed_hex(&P, &P.srv, "C1 24 00 01 00 00 00 02 80 00"), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.srv), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 10 05 01 01 01 00 03 80 01 06");
    /* an answer nobody asked for */
    ck_assert_int_eq(feed_hex(&P, &P.srv, "C1 25 05 02 01 07 00 00"), CL_ERR_PROTOCOL);
    ck_assert_uint_gt(pull_one(&P, &P.srv), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 04 00 00 00 00 00 03 80 01 11");
    /* the undecodable answer to the outstanding request */
    pair_start(&P);
    handshake(&P);
    cl_relay_msg_init(&m, CL_RELAY_DISPLAY);
    ck_assert_int_eq(cl_relay_session_send(&P.srv, P.now, &m), CL_OK);
    ck_assert_int_eq(cl_relay_session_send(&P.srv, P.now, &m), CL_ERR_STATE);
    ck_assert_uint_gt(pull_one(&P, &P.srv), 0);
    ck_assert_int_eq(feed_hex(&P, &P.srv, "C1 25 05 01 01 01 00 03 80 01 00"), CL_OK);
    ck_assert_int_eq(P.nev, 1);
    ck_assert_uint_eq(P.ev[0].kind, CL_RELAY_EV_ANSWER);
    ck_assert(P.ev[0].msg == NULL);
    ck_assert_int_eq(P.ev[0].err, CL_ERR_TAG);
    ck_assert(!cl_relay_session_busy(&P.srv));
    /* ERROR with REF answers it */
    ck_assert_int_eq(cl_relay_session_send(&P.srv, P.now, &m), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.srv), 0);
    ck_assert_int_eq(feed_hex(&P, &P.srv, "C1 10 05 02 02 02 00 03 80 01 0A"), CL_OK);
    ck_assert_uint_eq(P.ev[0].kind, CL_RELAY_EV_ANSWER);
    ck_assert_uint_eq(P.ev[0].msg->u.status.code, CL_RELAY_E_DENIED);
}
END_TEST

/* ------------------------------------------------------------ API errors */

START_TEST(test_api_errors)
{
    struct cl_relay_msg m;
    struct cl_relay_session bad;
    size_t used;
    uint8_t big[CL_RELAY_TOKEN_MAX + 1] = { 0 };
    int i, rc;

    pair_init(&P);
    pair_start(&P);
    cl_relay_msg_init(&m, CL_RELAY_CARD_REMOVED);
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_ERR_STATE);
    ck_assert_int_eq(cl_relay_session_send(NULL, P.now, &m), CL_ERR_ARG);
    ck_assert_int_eq(sfeed(&P.dev, P.now, big, 1, &used), CL_ERR_STATE);
    ck_assert_int_eq(sfeed(&P.dev, P.now, NULL, 1, &used), CL_ERR_ARG);
    ck_assert_int_eq(sfeed(NULL, P.now, big, 1, &used), CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_session_close(&P.dev, P.now, 0), CL_ERR_STATE);
    ck_assert_int_eq(cl_relay_session_close(NULL, P.now, 0), CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_session_timeout(NULL, P.now), CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_device_connect(&P.srv, P.now), CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_device_connect(NULL, P.now), CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_server_accept(&P.dev, P.now, tok, 16), CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_server_accept(&P.srv, P.now, tok, 7), CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_server_accept(&P.srv, P.now, big, 33), CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_server_accept(&P.srv, P.now, NULL, 16), CL_ERR_ARG);
    /* setup refuses what init() cannot: the engine stays unusable */
    memset(&bad, 0xA5, sizeof(bad));
    ck_assert_int_eq(cl_relay_session_setup(&bad, 7, &P.dcfg, P.drx, 10, NULL, 0), CL_ERR_ARG);
    ck_assert_int_eq(sfeed(&bad, P.now, big, 1, &used), CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_device_connect(&bad, P.now), CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_session_want(&bad), CL_WANT_IDLE);
    ck_assert_int_eq(cl_relay_session_setup(NULL, CL_RELAY_DEVICE, &P.dcfg, P.drx, 10, NULL, 0),
                     CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_session_setup(&bad, CL_RELAY_DEVICE, NULL, P.drx, 10, NULL, 0),
                     CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_session_setup(&bad, CL_RELAY_DEVICE, &P.dcfg, NULL, 10, NULL, 0),
                     CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_session_setup(&bad, CL_RELAY_DEVICE, &P.dcfg, P.drx, 7, NULL, 0),
                     CL_ERR_ARG);
    /* the edges that are accepted: an 8-byte receive buffer (a header), a
     * 32-byte device id */
    P.dcfg.device_id = big;
    P.dcfg.device_id_len = 32;
    ck_assert_int_eq(cl_relay_session_setup(&bad, CL_RELAY_DEVICE, &P.dcfg, P.drx, 8, NULL, 0),
                     CL_OK);
    P.dcfg.device_id = devid;
    P.dcfg.device_id_len = 0;
    ck_assert_int_eq(cl_relay_session_setup(&bad, CL_RELAY_DEVICE, &P.dcfg, P.drx, 10, NULL, 0),
                     CL_ERR_ARG);
    P.dcfg.device_id_len = 33;
    ck_assert_int_eq(cl_relay_session_setup(&bad, CL_RELAY_DEVICE, &P.dcfg, P.drx, 10, NULL, 0),
                     CL_ERR_ARG);
    P.dcfg.device_id_len = sizeof(devid);
    P.dcfg.nversions = 8;   /* the most a HELLO carries */
    P.dcfg.versions = big;
    ck_assert_int_eq(cl_relay_session_setup(&bad, CL_RELAY_DEVICE, &P.dcfg, P.drx, 10, NULL, 0),
                     CL_OK);
    P.dcfg.nversions = 9;
    P.dcfg.versions = big;
    ck_assert_int_eq(cl_relay_session_setup(&bad, CL_RELAY_DEVICE, &P.dcfg, P.drx, 10, NULL, 0),
                     CL_ERR_ARG);
    P.dcfg.nversions = 0;
    ck_assert_int_eq(cl_relay_session_setup(&bad, CL_RELAY_DEVICE, &P.dcfg, P.drx, 10, NULL, 0),
                     CL_ERR_ARG);
    P.dcfg.versions = NULL;
    /* a server needs no device id */
    ck_assert_int_eq(cl_relay_session_setup(&bad, CL_RELAY_SERVER, &P.scfg, P.drx, 10, NULL, 0),
                     CL_OK);
    cl_relay_session_free(&bad);
    handshake(&P);
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_ERR_STATE);
    ck_assert_int_eq(cl_relay_server_accept(&P.srv, P.now, tok, 16), CL_ERR_STATE);
    /* device: answer with no request, a request type, a HELLO */
    cl_relay_msg_init(&m, CL_RELAY_APDU_RESPONSE);
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_ERR_STATE);
    cl_relay_msg_init(&m, CL_RELAY_APDU);
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_ERR_ARG);
    cl_relay_msg_init(&m, CL_RELAY_KEEPALIVE);
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_ERR_ARG);
    /* answer type that does not match the request */
    ck_assert_int_eq(feed_hex(&P, &P.dev, "C1 24 00 01 00 00 00 02 80 00"), CL_OK);
    cl_relay_msg_init(&m, CL_RELAY_PROMPT_ANSWER);
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_ERR_ARG);
    /* an invalid message: encoder's error */
    cl_relay_msg_init(&m, CL_RELAY_READER_STATUS);
    m.u.reader_status = 1;
    cl_relay_msg_init(&m, CL_RELAY_CARD_INSERTED);
    {
        uint8_t enc[64];
        size_t elen;
        rc = cl_relay_encode(&m, enc, sizeof(enc), &elen);
        ck_assert_int_lt(rc, 0);
        ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), rc);
    }
    /* server: answer types, notifications */
    cl_relay_msg_init(&m, CL_RELAY_DISPLAY_DONE);
    ck_assert_int_eq(cl_relay_session_send(&P.srv, P.now, &m), CL_ERR_ARG);
    cl_relay_msg_init(&m, CL_RELAY_ERROR);
    m.u.status.code = CL_RELAY_E_INTERNAL;
    ck_assert_int_eq(cl_relay_session_send(&P.srv, P.now, &m), CL_OK);
    /* replay buffer full (2048 bytes of 33-byte-ATR notifications, long
     * before 127 of them): LIMIT */
    {
        static const uint8_t atr33[33] = {0x3B, 0xFF};
        cl_relay_msg_init(&m, CL_RELAY_CARD_INSERTED);
        m.u.card.atr.data = atr33;
        m.u.card.atr.len = sizeof(atr33);
        m.u.card.protocol = CL_RELAY_PROTO_T1;
        for (i = 0; i < 200; i++)
            if ((rc = cl_relay_session_send(&P.dev, P.now, &m)) != CL_OK)
                break;
        ck_assert_int_eq(rc, CL_ERR_LIMIT);
        ck_assert_int_lt(i, 60);
        ck_assert_uint_le(cl_relay_session_replay_used(&P.dev), sizeof(P.drb));
        ck_assert_uint_gt(cl_relay_session_replay_used(&P.dev) + 60, sizeof(P.drb));
    }
    cl_relay_msg_init(&m, CL_RELAY_READER_STATUS);
    m.u.reader_status = 1;
    {   /* a replay buffer with room to spare: the window stops at 127 */
        static struct pair W;
        static uint8_t wide[8192];
        pair_init(&W);
        sinit(&W.dev, CL_RELAY_DEVICE, &W.dcfg, W.drx, sizeof(W.drx), wide, sizeof(wide));
        sinit(&W.srv, CL_RELAY_SERVER, &W.scfg, W.srx, sizeof(W.srx), W.srb, sizeof(W.srb));
        handshake(&W);
        for (i = 0; i < 200; i++)
            if ((rc = cl_relay_session_send(&W.dev, W.now, &m)) != CL_OK)
                break;
        ck_assert_int_eq(rc, CL_ERR_LIMIT);
        ck_assert_int_eq(i, 127);
        ck_assert_uint_lt(cl_relay_session_replay_used(&W.dev) * 2, sizeof(wide));
        cl_relay_session_free(&W.dev);
        cl_relay_session_free(&W.srv);
    }
    /* too long for the peer: the server accepts 512 by default from a device
     * announcing nothing; here the device announced 1024 */
    {
        static uint8_t text[600];
        memset(text, 'x', sizeof(text));
        cl_relay_msg_init(&m, CL_RELAY_DISPLAY);
        m.u.display.text.data = text;
        m.u.display.text.len = 512;
        ck_assert_int_eq(cl_relay_session_send(&P.srv, P.now, &m), CL_OK);
    }
    /* close, then everything is CLOSED */
    ck_assert_int_eq(cl_relay_session_close(&P.srv, P.now, CL_RELAY_E_SHUTDOWN), CL_OK);
    ck_assert_int_eq(cl_relay_session_send(&P.srv, P.now, &m), CL_ERR_CLOSED);
    while (pull_one(&P, &P.srv) > 0 && P.last[1] != CL_RELAY_CLOSE)
        ;
    cl_assert_bytes(P.last, P.last_len, "C1 04 00 00 00 00 00 03 80 01 0F");
    ck_assert_uint_eq(cl_relay_session_state(&P.srv), CL_RELAY_ST_CLOSED);
    ck_assert_int_eq(cl_relay_session_close(&P.srv, P.now, 0), CL_ERR_CLOSED);
    ck_assert_uint_eq(cl_relay_session_timer(&P.srv, P.now), CL_TIMER_NONE);
    cl_relay_session_disconnect(&P.srv, P.now);
    ck_assert_uint_eq(cl_relay_session_state(&P.srv), CL_RELAY_ST_CLOSED);
    cl_relay_session_disconnect(NULL, P.now);
    cl_relay_session_free(&P.srv);
    cl_relay_session_free(NULL);
    ck_assert_uint_eq(P.srv.token_len, 0);
}
END_TEST

/* Too long for the peer's max message. */
START_TEST(test_peer_max)
{
    struct cl_relay_msg m;
    static uint8_t text[600];

    pair_init(&P);
    P.dcfg.caps.max_msg = 0;     /* default 512 */
    pair_start(&P);
    handshake(&P);
    memset(text, 'x', sizeof(text));
    cl_relay_msg_init(&m, CL_RELAY_DISPLAY);
    m.u.display.text.data = text;
    m.u.display.text.len = 500;  /* 8 + 4 + 500 = 512 */
    ck_assert_int_eq(cl_relay_session_send(&P.srv, P.now, &m), CL_OK);
    xfer(&P, &P.srv, &P.dev);
    cl_relay_msg_init(&m, CL_RELAY_DISPLAY_DONE);
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_OK);
    xfer(&P, &P.dev, &P.srv);
    cl_relay_msg_init(&m, CL_RELAY_DISPLAY);
    m.u.display.text.data = text;
    m.u.display.text.len = 501;
    ck_assert_int_eq(cl_relay_session_send(&P.srv, P.now, &m), CL_ERR_TOO_LONG);
}
END_TEST

/* ------------------------------------------------------------ issue 11: §5 rules, §7 gaps */

/* close() during the opening handshake: a CLOSE that replaces the unsent
 * HELLO, or follows the sent one; a server awaiting HELLO closes too. */
START_TEST(test_close_handshake)
{
    size_t n;

    pair_init(&P);
    pair_start(&P);
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
    ck_assert_int_eq(cl_relay_session_want(&P.dev), CL_WANT_SEND);
    ck_assert_int_eq(cl_relay_session_close(&P.dev, P.now, CL_RELAY_E_SHUTDOWN), CL_OK);
    ck_assert_uint_eq(cl_relay_session_state(&P.dev), CL_RELAY_ST_CLOSED);
    ck_assert_int_eq(cl_relay_session_close(&P.dev, P.now, 0), CL_ERR_CLOSED);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 04 00 00 00 00 00 03 80 01 0F");
    ck_assert_uint_eq(pull_one(&P, &P.dev), 0);
    ck_assert_int_eq(cl_relay_session_want(&P.dev), CL_WANT_CLOSED);
    ck_assert_int_eq(cl_relay_session_error(&P.dev), CL_OK);
    /* HELLO already out: CLOSE next */
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    assert_doc("hello", P.last, P.last_len);
    ck_assert_int_eq(cl_relay_session_close(&P.dev, P.now, CL_RELAY_E_NONE), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 04 00 00 00 00 00 03 80 01 00");
    /* a server awaiting HELLO */
    ck_assert_int_eq(cl_relay_server_accept(&P.srv, P.now, tok, sizeof(tok)), CL_OK);
    ck_assert_int_eq(cl_relay_session_want(&P.srv), CL_WANT_RECV);
    ck_assert_int_eq(cl_relay_session_close(&P.srv, P.now, CL_RELAY_E_SHUTDOWN), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.srv), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 04 00 00 00 00 00 03 80 01 0F");
    ck_assert_ptr_nonnull(cl_relay_session_token(&P.srv, &n));
    ck_assert_uint_eq(n, 0);
}
END_TEST

/* close() after sends: the queue goes first, CLOSE last, CLOSED once the
 * CLOSE is out in full (partial writes); then a new connection is a fresh
 * session: no token, the unacknowledged messages are not sent again. */
START_TEST(test_close_after_queue)
{
    struct cl_relay_msg m;
    const uint8_t *p, *q;
    size_t n;

    pair_init(&P);
    pair_start(&P);
    handshake(&P);
    cl_relay_msg_init(&m, CL_RELAY_CARD_REMOVED);
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_OK);
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_OK);
    ck_assert_int_eq(cl_relay_session_close(&P.dev, P.now, CL_RELAY_E_NONE), CL_OK);
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_ERR_CLOSED);
    ck_assert_int_eq(cl_relay_session_close(&P.dev, P.now, 0), CL_ERR_CLOSED);
    ck_assert_int_eq(cl_relay_session_want(&P.dev), CL_WANT_SEND);
    /* the first notification, three bytes at a time */
    n = cl_relay_session_pull(&P.dev, P.now, &p);
    ck_assert_uint_eq(n, 8);
    cl_assert_bytes(p, n, "C1 31 00 01 00 00 00 00");
    ck_assert_int_eq(cl_relay_session_sent(&P.dev, 3), CL_OK);
    ck_assert_uint_eq(cl_relay_session_pull(&P.dev, P.now, &q), 5);
    ck_assert_ptr_eq(q, p + 3);
    ck_assert_int_eq(cl_relay_session_sent(&P.dev, 6), CL_ERR_ARG);   /* more than lent */
    ck_assert_int_eq(cl_relay_session_sent(&P.dev, 0), CL_OK);
    ck_assert_int_eq(cl_relay_session_sent(&P.dev, 5), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 31 00 02 00 00 00 00");
    /* CLOSE: still OPEN while a byte of it is unsent */
    n = cl_relay_session_pull(&P.dev, P.now, &p);
    cl_assert_bytes(p, n, "C1 04 00 00 00 00 00 03 80 01 00");
    ck_assert_int_eq(cl_relay_session_sent(&P.dev, n - 1), CL_OK);
    ck_assert_uint_eq(cl_relay_session_state(&P.dev), CL_RELAY_ST_OPEN);
    ck_assert_int_eq(cl_relay_session_sent(&P.dev, 1), CL_OK);
    ck_assert_uint_eq(cl_relay_session_state(&P.dev), CL_RELAY_ST_CLOSED);
    ck_assert_int_eq(cl_relay_session_want(&P.dev), CL_WANT_CLOSED);
    ck_assert_uint_eq(pull_one(&P, &P.dev), 0);
    ck_assert_int_eq(cl_relay_session_sent(&P.dev, 1), CL_ERR_ARG);    /* nothing lent */
    /* reconnect: a fresh HELLO, nothing replayed, numbering from 1 */
    cl_relay_session_disconnect(&P.srv, P.now);
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    assert_doc("hello", P.last, P.last_len);
    ck_assert_int_eq(cl_relay_server_accept(&P.srv, P.now, tok, sizeof(tok)), CL_OK);
    ck_assert_int_eq(sfeed(&P.srv, P.now, P.last, P.last_len, &n), CL_OK);
    ck_assert(cl_relay_session_poll(&P.srv, &P.ev[0]));
    ck_assert(!P.ev[0].resumed);
    P.nev = 0;
    xfer(&P, &P.srv, &P.dev);
    ck_assert_int_eq(P.nev, 1);
    ck_assert(!P.ev[0].resumed);
    ck_assert_uint_eq(pull_one(&P, &P.dev), 0);
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 31 00 01 00 00 00 00");
}
END_TEST

/* Two messages in one feed(): it goes on after one that raises nothing,
 * stops after one that raises an event, and the rest is fed after poll. */
START_TEST(test_two_messages_one_feed)
{
    uint8_t b[64];
    int n = cl_test_hex("C1 03 00 00 00 00 00 00"            /* KEEPALIVE */
                        "C1 24 00 01 00 00 00 02 80 00"      /* DISPLAY seq 1 */
                        "C1 24 00 02 00 00 00 02 80 00",     /* DISPLAY seq 2 */
                        b, sizeof(b));

    pair_init(&P);
    pair_start(&P);
    handshake(&P);
    ck_assert_int_eq(n, 28);
    ck_assert_int_eq(cl_relay_session_feed(&P.dev, P.now, b, (size_t)n), 18);
    ck_assert_int_eq(cl_relay_session_want(&P.dev), CL_WANT_DONE);
    ck_assert_int_eq(cl_relay_session_feed(&P.dev, P.now, b + 18, 10), 0);  /* event waits */
    ck_assert(cl_relay_session_poll(&P.dev, &P.ev[0]));
    ck_assert_uint_eq(P.ev[0].kind, CL_RELAY_EV_REQUEST);
    ck_assert_uint_eq(P.ev[0].msg->seq, 1);
    ck_assert(!cl_relay_session_poll(&P.dev, &P.ev[0]));
    ck_assert_int_eq(cl_relay_session_feed(&P.dev, P.now, b + 18, 10), 10);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);   /* the second while busy */
    cl_assert_bytes(P.last, P.last_len, "C1 10 05 01 02 02 00 03 80 01 06");
}
END_TEST

/* setup() over memory that was never zeroed or initialised. */
START_TEST(test_setup_dirty)
{
    pair_init(&P);
    memset(&P.dev, 0x5A, sizeof(P.dev));
    memset(&P.srv, 0xA5, sizeof(P.srv));
    ck_assert_int_eq(cl_relay_session_setup(&P.dev, CL_RELAY_DEVICE, &P.dcfg, P.drx,
                                            sizeof(P.drx), P.drb, sizeof(P.drb)), CL_OK);
    ck_assert_int_eq(cl_relay_session_setup(&P.srv, CL_RELAY_SERVER, &P.scfg, P.srx,
                                            sizeof(P.srx), P.srb, sizeof(P.srb)), CL_OK);
    ck_assert_int_eq(cl_relay_session_want(&P.dev), CL_WANT_IDLE);
    ck_assert_int_eq(cl_relay_session_error(&P.dev), CL_OK);
    ck_assert_uint_eq(cl_relay_session_timer(&P.dev, P.now), CL_TIMER_NONE);
    ck_assert(!cl_relay_session_busy(&P.srv));
    ck_assert_uint_eq(cl_relay_session_stats(&P.srv)->executed, 0);
    ck_assert_uint_eq(pull_one(&P, &P.dev), 0);
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    assert_doc("hello", P.last, P.last_len);
    ck_assert_int_eq(cl_relay_server_accept(&P.srv, P.now, tok, sizeof(tok)), CL_OK);
    ck_assert_int_eq(sfeed(&P.srv, P.now, P.last, P.last_len, &P.last_len), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.srv), 0);
    assert_doc("hello-ack", P.last, P.last_len);
    /* the NULL contract */
    ck_assert_int_eq(cl_relay_session_want(NULL), CL_WANT_FAILED);
    ck_assert_uint_eq(cl_relay_session_pull(NULL, 0, NULL), 0);
    ck_assert_int_eq(cl_relay_session_sent(NULL, 1), CL_ERR_ARG);
    ck_assert_uint_eq(cl_relay_session_timer(NULL, 0), CL_TIMER_NONE);
    ck_assert_int_eq(cl_relay_session_error(NULL), CL_ERR_ARG);
    ck_assert_ptr_null(cl_relay_session_stats(NULL));
    ck_assert_ptr_null(cl_relay_session_token(NULL, NULL));
    ck_assert(!cl_relay_session_poll(NULL, NULL));
    ck_assert(!cl_relay_session_poll(&P.dev, NULL));
    ck_assert_ptr_null(cl_relay_session_token(&P.dev, NULL));
    ck_assert(!cl_relay_session_busy(NULL));
    ck_assert_uint_eq(cl_relay_session_state(NULL), CL_RELAY_ST_IDLE);
    ck_assert_int_eq(cl_relay_session_too_large(NULL, 0, P.last, 8), CL_ERR_ARG);
    cl_relay_session_init(NULL);
}
END_TEST

/* close() while SUSPENDED: no transport to carry a CLOSE, so the token is
 * void at once; the next HELLO starts a fresh session (it once resumed the
 * closed one, to be closed again at once). */
START_TEST(test_close_suspended)
{
    struct cl_relay_msg m;
    size_t n;

    pair_init(&P);
    pair_start(&P);
    handshake(&P);
    cl_relay_msg_init(&m, CL_RELAY_CARD_REMOVED);
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_OK);
    cl_relay_session_disconnect(&P.dev, P.now);
    cl_relay_session_disconnect(&P.srv, P.now);
    ck_assert_uint_eq(cl_relay_session_state(&P.dev), CL_RELAY_ST_SUSPENDED);
    ck_assert_int_eq(cl_relay_session_close(&P.dev, P.now, CL_RELAY_E_NONE), CL_OK);
    ck_assert_uint_eq(cl_relay_session_state(&P.dev), CL_RELAY_ST_CLOSED);
    ck_assert_int_eq(cl_relay_session_want(&P.dev), CL_WANT_CLOSED);
    ck_assert_uint_eq(pull_one(&P, &P.dev), 0);
    (void)cl_relay_session_token(&P.dev, &n);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(cl_relay_session_close(&P.dev, P.now, 0), CL_ERR_CLOSED);
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_ERR_CLOSED);
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    assert_doc("hello", P.last, P.last_len);       /* no token, no ack */
    /* the server side, suspended and closed: a HELLO naming it is fresh */
    ck_assert_int_eq(cl_relay_session_close(&P.srv, P.now, CL_RELAY_E_NONE), CL_OK);
    ck_assert_uint_eq(pull_one(&P, &P.srv), 0);
    ck_assert_int_eq(cl_relay_server_accept(&P.srv, P.now, tok, sizeof(tok)), CL_OK);
    ck_assert_int_eq(sfeed(&P.srv, P.now, P.last, P.last_len, &n), CL_OK);
    ck_assert(cl_relay_session_poll(&P.srv, &P.ev[0]));
    ck_assert(!P.ev[0].resumed);
    /* init() alone is not set up: CL_ERR_ARG, as for every call (set up
     * and IDLE, nothing to close: CL_ERR_STATE, test_session_wall) */
    cl_relay_session_init(&P.dev);
    ck_assert_int_eq(cl_relay_session_close(&P.dev, P.now, 0), CL_ERR_ARG);
}
END_TEST

/* §9: a request with a transaction id is IN PROGRESS in the log before the
 * application sees it. The link drops while it executes, the server starts
 * afresh and retries the id: ERROR DUPLICATE, not a second execution; the
 * first execution's answer, recorded when it ends, answers the next retry.
 * After a reboot (a new engine over the same store) an id left in progress
 * is still refused. */
START_TEST(test_txn_in_progress)
{
    struct cl_relay_txn_table t;
    struct cl_relay_txn_slot sl[4];
    struct cl_relay_txn_log log;
    struct cl_relay_msg m;
    const uint8_t *a;
    size_t n;
    uint8_t id2[16];
    static const uint8_t r[] = { 0x03, 0x90, 0x00 };

    cl_relay_txn_table_init(&t, sl, 4, &log);
    pair_init(&P);
    P.dcfg.txn_log = &log;
    pair_start(&P);
    handshake(&P);
    sim_request(&m, 3);                              /* APDU with a txn id */
    ck_assert_int_eq(cl_relay_session_send(&P.srv, P.now, &m), CL_OK);
    P.nev = 0;
    xfer(&P, &P.srv, &P.dev);
    ck_assert_int_eq(P.nev, 1);
    ck_assert_uint_eq(P.ev[0].kind, CL_RELAY_EV_REQUEST);
    ck_assert_int_eq(log.lookup(log.ctx, m.u.apdu.txn_id, &a, &n), CL_OK);
    ck_assert_uint_eq(n, 0);                         /* in progress */
    ck_assert_uint_eq(t.records, 0);
    /* the link drops; the server lost the session and retries the id */
    cl_relay_session_disconnect(&P.dev, P.now);
    sinit(&P.srv, CL_RELAY_SERVER, &P.scfg, P.srx, sizeof(P.srx), P.srb, sizeof(P.srb));
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
    ck_assert_int_eq(cl_relay_server_accept(&P.srv, P.now, (const uint8_t *)"another-token-01", 16),
                     CL_OK);
    xfer(&P, &P.dev, &P.srv);
    P.nev = 0;
    xfer(&P, &P.srv, &P.dev);
    ck_assert(!P.ev[0].resumed);
    ck_assert(!cl_relay_session_busy(&P.dev));
    ck_assert_int_eq(cl_relay_session_send(&P.srv, P.now, &m), CL_OK);
    P.nev = 0;
    xfer(&P, &P.srv, &P.dev);
    ck_assert_int_eq(P.nev, 0);                      /* not executed */
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 10 05 01 01 01 00 03 80 01 0D");
    ck_assert_int_eq(sfeed(&P.srv, P.now, P.last, P.last_len, &n), CL_OK);
    ck_assert(cl_relay_session_poll(&P.srv, &P.ev[0]));
    ck_assert_uint_eq(P.ev[0].kind, CL_RELAY_EV_ANSWER);
    ck_assert_uint_eq(P.ev[0].msg->u.status.code, CL_RELAY_E_DUPLICATE);
    /* the first execution ends: too late to send, recorded */
    cl_relay_msg_init(&m, CL_RELAY_APDU_RESPONSE);
    m.u.apdu.apdu.data = r;
    m.u.apdu.apdu.len = sizeof(r);
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_ERR_STATE);
    ck_assert_uint_eq(t.records, 1);
    sim_request(&m, 3);
    ck_assert_int_eq(cl_relay_session_send(&P.srv, P.now, &m), CL_OK);
    P.nev = 0;
    xfer(&P, &P.srv, &P.dev);
    ck_assert_int_eq(P.nev, 0);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 21 05 02 02 02 00 05 80 03 03 90 00");
    ck_assert_uint_eq(cl_relay_session_stats(&P.dev)->executed, 1);
    /* a reboot: new engines, the same store; an id left in progress */
    memset(id2, 0x77, sizeof(id2));
    ck_assert_int_eq(log.record(log.ctx, id2, NULL, 0), CL_OK);
    pair_start(&P);
    handshake(&P);
    m.u.apdu.txn_id = id2;
    ck_assert_int_eq(cl_relay_session_send(&P.srv, P.now, &m), CL_OK);
    P.nev = 0;
    xfer(&P, &P.srv, &P.dev);
    ck_assert_int_eq(P.nev, 0);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 10 05 01 01 01 00 03 80 01 0D");
    ck_assert_uint_eq(cl_relay_session_stats(&P.dev)->executed, 0);
}
END_TEST

/* A store that fails: the request is refused, not executed. */
static int failing_lookup(void *ctx, const uint8_t id[CL_RELAY_TXN_ID_LEN],
                          const uint8_t **answer, size_t *len)
{
    (void)ctx, (void)id, (void)answer, (void)len;
    return CL_ERR_IO;
}

START_TEST(test_txn_store_fails)
{
    struct cl_relay_txn_log log = { failing_lookup, NULL, NULL };
    struct cl_relay_msg m;

    pair_init(&P);
    P.dcfg.txn_log = &log;
    pair_start(&P);
    handshake(&P);
    sim_request(&m, 3);
    ck_assert_int_eq(cl_relay_session_send(&P.srv, P.now, &m), CL_OK);
    P.nev = 0;
    xfer(&P, &P.srv, &P.dev);
    ck_assert_int_eq(P.nev, 0);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 10 05 01 01 01 00 03 80 01 10");
}
END_TEST

/* One id, one request type (§9): an answer recorded for another type is
 * not handed out, on either side: the device answers ERROR DUPLICATE, the
 * server raises a recorded ANSWER with CL_ERR_DUPLICATE and no message. A
 * recorded ERROR is the outcome of any retry. */
START_TEST(test_txn_other_type)
{
    struct cl_relay_txn_table t, ts;
    struct cl_relay_txn_slot sl[4], ssl[4];
    struct cl_relay_txn_log log, slog;
    struct cl_relay_msg m, d;
    uint8_t b[32];
    int n;

    cl_relay_txn_table_init(&t, sl, 4, &log);
    cl_relay_txn_table_init(&ts, ssl, 4, &slog);
    pair_init(&P);
    P.dcfg.txn_log = &log;
    P.scfg.txn_log = &slog;
    pair_start(&P);
    handshake(&P);
    /* device: a DISPLAY-DONE recorded under the APDU's id */
    n = cl_test_hex("C1 25 04 01 00 01 00 00", b, sizeof(b));
    ck_assert_int_eq(cl_relay_decode(b, (size_t)n, &d), CL_OK);
    sim_request(&m, 3);
    ck_assert_int_eq(log.record(log.ctx, m.u.apdu.txn_id, b, (size_t)n), CL_OK);
    P.scfg.txn_log = NULL;
    ck_assert_int_eq(cl_relay_session_send(&P.srv, P.now, &m), CL_OK);
    P.nev = 0;
    xfer(&P, &P.srv, &P.dev);
    ck_assert_int_eq(P.nev, 0);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 10 05 01 01 01 00 03 80 01 0D");
    ck_assert_int_eq(feed_hex(&P, &P.srv, cl_test_tohex(P.last, P.last_len)), CL_OK);
    ck_assert_uint_eq(P.ev[0].kind, CL_RELAY_EV_ANSWER);
    /* a recorded ERROR answers any request with the id */
    n = cl_test_hex("C1 10 04 01 00 01 00 03 80 01 0B", b, sizeof(b));
    ck_assert_int_eq(log.record(log.ctx, m.u.apdu.txn_id, b, (size_t)n), CL_OK);
    ck_assert_int_eq(cl_relay_session_send(&P.srv, P.now, &m), CL_OK);
    xfer(&P, &P.srv, &P.dev);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 10 05 02 02 02 00 03 80 01 0B");
    ck_assert_int_eq(feed_hex(&P, &P.srv, cl_test_tohex(P.last, P.last_len)), CL_OK);
    ck_assert_uint_eq(P.ev[0].kind, CL_RELAY_EV_ANSWER);
    /* server: a DISPLAY-DONE recorded under an APDU's id */
    P.scfg.txn_log = &slog;
    n = cl_test_hex("C1 25 04 01 00 01 00 00", b, sizeof(b));
    ck_assert_int_eq(slog.record(slog.ctx, m.u.apdu.txn_id, b, (size_t)n), CL_OK);
    ck_assert_int_eq(cl_relay_session_send(&P.srv, P.now, &m), CL_OK);
    ck_assert(cl_relay_session_poll(&P.srv, &P.ev[0]));
    ck_assert_uint_eq(P.ev[0].kind, CL_RELAY_EV_ANSWER);
    ck_assert(P.ev[0].recorded);
    ck_assert_ptr_null(P.ev[0].msg);
    ck_assert_int_eq(P.ev[0].err, CL_ERR_DUPLICATE);
    ck_assert_uint_eq(pull_one(&P, &P.srv), 0);       /* nothing sent */
}
END_TEST

/* §7.1: an undecodable sequenced message uses up its seq (it is answered
 * with ERROR); the next one is in sequence, not a gap. */
START_TEST(test_undecodable_uses_seq)
{
    pair_init(&P);
    pair_start(&P);
    handshake(&P);
    ck_assert_int_eq(feed_hex(&P, &P.dev, "C1 20 00 01 00 00 00 09 80 07 00 A4 04 00 07 A0 00"),
                     CL_OK);
    ck_assert_int_eq(P.nev, 0);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 10 05 01 01 01 00 03 80 01 01");
    ck_assert_int_eq(feed_hex(&P, &P.dev, "C1 24 00 02 00 00 00 02 80 00"), CL_OK);
    ck_assert_int_eq(P.nev, 1);
    ck_assert_uint_eq(P.ev[0].kind, CL_RELAY_EV_REQUEST);
    ck_assert_uint_eq(P.ev[0].msg->seq, 2);
    /* HELLO-ACK in an open session: CLOSE PROTOCOL */
    {
        uint8_t h[64];
        size_t hn = doc_example("hello-ack", h, sizeof(h));
        ck_assert_uint_gt(hn, 0);
        ck_assert_int_eq(feed_hex(&P, &P.dev, cl_test_tohex(h, hn)), CL_ERR_PROTOCOL);
    }
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 04 00 00 00 00 00 03 80 01 11");
    ck_assert_int_eq(cl_relay_session_want(&P.dev), CL_WANT_FAILED);
    ck_assert_int_eq(cl_relay_session_error(&P.dev), CL_ERR_PROTOCOL);
}
END_TEST

/* §8: REPLAY marks a message sent before; an answer produced while the link
 * was down goes out for the first time after the resumption, without it. */
START_TEST(test_answer_while_down)
{
    struct cl_relay_msg m;

    pair_init(&P);
    pair_start(&P);
    handshake(&P);
    cl_relay_msg_init(&m, CL_RELAY_CARD_REMOVED);
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);       /* sent, then lost */
    sim_request(&m, 1);                               /* DISPLAY, executing */
    ck_assert_int_eq(cl_relay_session_send(&P.srv, P.now, &m), CL_OK);
    xfer(&P, &P.srv, &P.dev);
    cl_relay_session_disconnect(&P.dev, P.now);
    cl_relay_session_disconnect(&P.srv, P.now);
    cl_relay_msg_init(&m, CL_RELAY_DISPLAY_DONE);
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_OK);
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
    ck_assert_int_eq(cl_relay_server_accept(&P.srv, P.now, tok, sizeof(tok)), CL_OK);
    xfer(&P, &P.dev, &P.srv);
    P.nev = 0;
    ck_assert_uint_gt(pull_one(&P, &P.srv), 0);
    ck_assert_int_eq(sfeed(&P.dev, P.now, P.last, P.last_len, &P.last_len), CL_OK);
    ck_assert(cl_relay_session_poll(&P.dev, &P.ev[0]));
    ck_assert(P.ev[0].resumed);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 31 03 01 01 00 00 00");     /* REPLAY */
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 25 05 02 01 01 00 00");     /* no REPLAY */
    ck_assert_uint_eq(cl_relay_session_stats(&P.dev)->replayed, 1);
}
END_TEST

/* LINK_DEAD carries CL_ERR_TIMEOUT after a HELLO time-out and after 3K
 * silence alike; the session has not failed (error() CL_OK, want() IDLE),
 * it has no transport (feed: CL_ERR_STATE). */
START_TEST(test_link_dead_errors)
{
    struct cl_relay_event ev;

    pair_init(&P);
    P.scfg.keepalive_s = 1;
    pair_start(&P);
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
    P.now += 10000;
    ck_assert_int_eq(cl_relay_session_timeout(&P.dev, P.now), CL_OK);
    ck_assert_int_eq(cl_relay_session_want(&P.dev), CL_WANT_DONE);
    ck_assert(cl_relay_session_poll(&P.dev, &ev));
    ck_assert_uint_eq(ev.kind, CL_RELAY_EV_LINK_DEAD);
    ck_assert_int_eq(ev.err, CL_ERR_TIMEOUT);
    ck_assert_uint_eq(cl_relay_session_state(&P.dev), CL_RELAY_ST_IDLE);   /* no session yet */
    ck_assert_int_eq(cl_relay_session_error(&P.dev), CL_OK);
    ck_assert_int_eq(cl_relay_session_want(&P.dev), CL_WANT_IDLE);
    ck_assert_int_eq(cl_relay_session_feed(&P.dev, P.now, P.last, 1), CL_ERR_STATE);
    handshake(&P);
    P.now += 3000;
    ck_assert_int_eq(cl_relay_session_timeout(&P.dev, P.now), CL_OK);
    ck_assert(cl_relay_session_poll(&P.dev, &ev));
    ck_assert_uint_eq(ev.kind, CL_RELAY_EV_LINK_DEAD);
    ck_assert_int_eq(ev.err, CL_ERR_TIMEOUT);
    ck_assert_uint_eq(cl_relay_session_state(&P.dev), CL_RELAY_ST_SUSPENDED);
    ck_assert_int_eq(cl_relay_session_error(&P.dev), CL_OK);
    ck_assert_int_eq(cl_relay_session_want(&P.dev), CL_WANT_IDLE);
    ck_assert_int_eq(cl_relay_session_feed(&P.dev, P.now, P.last, 1), CL_ERR_STATE);
}
END_TEST

/* Replaying a logged answer (§9) at the edges: the answer exactly fills a
 * log slot (kept, replayed byte for byte) or is one byte longer (only the
 * id: ERROR DUPLICATE); the replay buffer has exactly room for it, or one
 * byte less (ERROR DUPLICATE); the peer's max message is shorter (ERROR
 * DUPLICATE); the send window or the buffer is full even for the ERROR
 * (CLOSE LIMIT). The replay buffers here are separate arrays, so the
 * sanitizer sees a write past them. */
static uint8_t rb_exact[CL_RELAY_REPLAY_REC + CL_RELAY_TXN_ANSWER_MAX];
static uint8_t rb_short[CL_RELAY_REPLAY_REC + CL_RELAY_TXN_ANSWER_MAX - 1];
static uint8_t rb_big[127 * (CL_RELAY_REPLAY_REC + 8)];

/* A device over rb with a log holding, under the id of sim_request(3), the
 * APDU-RESPONSE the device gave for an answer of alen bytes in all. */
static void logged_pair(struct cl_relay_txn_table *t, struct cl_relay_txn_slot *sl,
                        struct cl_relay_txn_log *log, size_t alen, uint8_t *rb, size_t rb_size,
                        uint16_t peer_max)
{
    struct cl_relay_msg m;
    static uint8_t resp[300];

    cl_relay_txn_table_init(t, sl, 2, log);
    pair_init(&P);
    P.dcfg.txn_log = log;
    pair_start(&P);
    handshake(&P);
    sim_request(&m, 3);
    ck_assert_int_eq(cl_relay_session_send(&P.srv, P.now, &m), CL_OK);
    xfer(&P, &P.srv, &P.dev);
    memset(resp, 0x42, sizeof(resp));
    cl_relay_msg_init(&m, CL_RELAY_APDU_RESPONSE);
    m.u.apdu.apdu.data = resp;
    m.u.apdu.apdu.len = alen - 10 - (alen > 8 + 2 + 127);   /* header, tag, length */
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    ck_assert_uint_eq(P.last_len, alen);
    /* a new device engine over rb, the same log; a fresh session */
    P.scfg.max_msg = peer_max;
    cl_relay_session_disconnect(&P.srv, P.now);
    sinit(&P.dev, CL_RELAY_DEVICE, &P.dcfg, P.drx, sizeof(P.drx), rb, rb_size);
    sinit(&P.srv, CL_RELAY_SERVER, &P.scfg, P.srx, sizeof(P.srx), P.srb, sizeof(P.srb));
    handshake(&P);
}

/* The server retries the id: what the device sends. */
static void retry_logged(void)
{
    struct cl_relay_msg m;

    sim_request(&m, 3);
    ck_assert_int_eq(cl_relay_session_send(&P.srv, P.now, &m), CL_OK);
    P.nev = 0;
    xfer(&P, &P.srv, &P.dev);
    ck_assert_int_eq(P.nev, 0);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
}

START_TEST(test_replay_logged_edges)
{
    struct cl_relay_txn_table t;
    struct cl_relay_txn_slot sl[2];
    struct cl_relay_txn_log log;
    struct cl_relay_msg m;
    uint8_t first[CL_RELAY_TXN_ANSWER_MAX];
    int i, rc;

    /* exactly a slot, exactly the replay buffer */
    logged_pair(&t, sl, &log, CL_RELAY_TXN_ANSWER_MAX, rb_exact, sizeof(rb_exact), 0);
    ck_assert_uint_eq(sl[0].len, CL_RELAY_TXN_ANSWER_MAX);
    memcpy(first, sl[0].answer, sizeof(first));
    retry_logged();
    ck_assert_uint_eq(P.last_len, CL_RELAY_TXN_ANSWER_MAX);
    ck_assert_mem_eq(P.last + 8, first + 8, CL_RELAY_TXN_ANSWER_MAX - 8);
    ck_assert_uint_eq(P.last[1], CL_RELAY_APDU_RESPONSE);
    ck_assert_uint_eq(P.last[5], 1);                          /* REF = the retry */
    /* one byte short in the replay buffer */
    logged_pair(&t, sl, &log, CL_RELAY_TXN_ANSWER_MAX, rb_short, sizeof(rb_short), 0);
    retry_logged();
    cl_assert_bytes(P.last, P.last_len, "C1 10 05 01 01 01 00 03 80 01 0D");
    /* one byte more than a slot: only the id */
    logged_pair(&t, sl, &log, CL_RELAY_TXN_ANSWER_MAX + 1, P.drb, sizeof(P.drb), 0);
    ck_assert_uint_eq(sl[0].len, 0);
    retry_logged();
    cl_assert_bytes(P.last, P.last_len, "C1 10 05 01 01 01 00 03 80 01 0D");
    /* longer than the peer accepts */
    logged_pair(&t, sl, &log, 100, P.drb, sizeof(P.drb), 64);
    retry_logged();
    cl_assert_bytes(P.last, P.last_len, "C1 10 05 01 01 01 00 03 80 01 0D");
    /* the window full (127 unacknowledged): not even the ERROR fits */
    logged_pair(&t, sl, &log, 100, rb_big, sizeof(rb_big), 0);
    cl_relay_msg_init(&m, CL_RELAY_CARD_REMOVED);
    for (i = 0; i < 200; i++)
        if ((rc = cl_relay_session_send(&P.dev, P.now, &m)) != CL_OK)
            break;
    ck_assert_int_eq(rc, CL_ERR_LIMIT);
    ck_assert_int_eq(i, 127);
    sim_request(&m, 3);
    ck_assert_int_eq(cl_relay_session_send(&P.srv, P.now, &m), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.srv), 0);
    ck_assert_int_eq(sfeed(&P.dev, P.now, P.last, P.last_len, &P.last_len), CL_ERR_LIMIT);
    ck_assert_int_eq(cl_relay_session_error(&P.dev), CL_ERR_LIMIT);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 04 00 00 00 00 00 03 80 01 0E");
    /* the replay buffer full: likewise */
    logged_pair(&t, sl, &log, 100, rb_exact, sizeof(rb_exact), 0);
    cl_relay_msg_init(&m, CL_RELAY_CARD_REMOVED);
    for (i = 0; i < 200; i++)
        if ((rc = cl_relay_session_send(&P.dev, P.now, &m)) != CL_OK)
            break;
    ck_assert_int_eq(rc, CL_ERR_LIMIT);
    ck_assert_int_eq(i, (int)(sizeof(rb_exact) / (CL_RELAY_REPLAY_REC + 8)));
    sim_request(&m, 3);
    ck_assert_int_eq(cl_relay_session_send(&P.srv, P.now, &m), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.srv), 0);
    ck_assert_int_eq(sfeed(&P.dev, P.now, P.last, P.last_len, &P.last_len), CL_ERR_LIMIT);
}
END_TEST

/* A whole message too large (over a lossy link, which delivers whole
 * messages): ERROR TOO_LARGE, its seq used, the session goes on. */
START_TEST(test_too_large)
{
    uint8_t b[16];
    int n = cl_test_hex("C1 24 00 01 00 00 08 00 80 82 07 FC", b, sizeof(b));

    pair_init(&P);
    pair_start(&P);
    ck_assert_int_eq(cl_relay_session_too_large(&P.dev, P.now, b, (size_t)n), CL_ERR_STATE);
    handshake(&P);
    ck_assert_int_eq(cl_relay_session_too_large(&P.dev, P.now, b, (size_t)n), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 10 05 01 01 01 00 03 80 01 05");
    ck_assert_int_eq(feed_hex(&P, &P.dev, "C1 24 00 02 00 00 00 02 80 00"), CL_OK);
    ck_assert_int_eq(P.nev, 1);
    ck_assert_uint_eq(P.ev[0].msg->seq, 2);
    /* a duplicate of it: dropped, acknowledged */
    ck_assert_int_eq(cl_relay_session_too_large(&P.dev, P.now, b, (size_t)n), CL_OK);
    ck_assert_uint_eq(pull_one(&P, &P.dev), 0);
    /* the server: the answer to its request, too large: a failed ANSWER */
    ck_assert_int_eq(feed_hex(&P, &P.srv, "C1 10 00 01 00 00 00 03 80 01 0A"), CL_OK);
    {
        struct cl_relay_msg m;
        sim_request(&m, 0);
        ck_assert_int_eq(cl_relay_session_send(&P.srv, P.now, &m), CL_OK);
    }
    n = cl_test_hex("C1 21 04 02 00 01 08 00", b, sizeof(b));
    ck_assert_int_eq(cl_relay_session_too_large(&P.srv, P.now, b, (size_t)n), CL_OK);
    ck_assert(cl_relay_session_poll(&P.srv, &P.ev[0]));
    ck_assert_uint_eq(P.ev[0].kind, CL_RELAY_EV_ANSWER);
    ck_assert_ptr_null(P.ev[0].msg);
    ck_assert_int_eq(P.ev[0].err, CL_ERR_TOO_LONG);
    /* during the handshake: fatal */
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_ERR_STATE);
    cl_relay_session_disconnect(&P.dev, P.now);
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
    ck_assert_int_eq(cl_relay_session_too_large(&P.dev, P.now, b, (size_t)n), CL_ERR_TOO_LONG);
    ck_assert_int_eq(cl_relay_session_too_large(&P.dev, P.now, b, 7), CL_ERR_TOO_LONG);
}
END_TEST

/* ------------------------------------------------------------ mutation survivors */
/*
 * Faults put into relay_session.c one at a time that no test caught before
 * (issue 11 §7, measured again): each test below fails with one of them.
 */

/* A pair with its session open. */
static void pair_open(struct pair *p)
{
    pair_init(p);
    pair_start(p);
    handshake(p);
}

/* Both transports up again (after disconnect()): HELLO, HELLO-ACK. */
static void reconnect(struct pair *p)
{
    ck_assert_int_eq(cl_relay_device_connect(&p->dev, p->now), CL_OK);
    ck_assert_int_eq(cl_relay_server_accept(&p->srv, p->now, tok, sizeof(tok)), CL_OK);
    ck_assert_int_eq(xfer(p, &p->dev, &p->srv), 1);
    ck_assert_int_eq(xfer(p, &p->srv, &p->dev), 1);
}

/* The server's DISPLAY request, delivered: the device executes it. */
static void display_request(struct pair *p)
{
    struct cl_relay_msg m;

    cl_relay_msg_init(&m, CL_RELAY_DISPLAY);
    ck_assert_int_eq(cl_relay_session_send(&p->srv, p->now, &m), CL_OK);
    ck_assert_int_eq(xfer(p, &p->srv, &p->dev), 1);
}

/* The device queues a READER-STATUS with value v. */
static void dev_status(uint8_t v)
{
    struct cl_relay_msg m;

    cl_relay_msg_init(&m, CL_RELAY_READER_STATUS);
    m.u.reader_status = v;
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_OK);
}

/* A failure while a message is half lent: the CLOSE that follows comes out
 * whole, from its first byte (a record or a KEEPALIVE half sent is
 * dropped, not continued into the CLOSE). */
START_TEST(test_fail_while_lent)
{
    const uint8_t *p;
    int what = _i;   /* 0 a record half sent, 1 a KEEPALIVE half sent */

    pair_open(&P);
    if (what == 0) {
        dev_status(3);
        ck_assert_uint_eq(cl_relay_session_pull(&P.dev, P.now, &p), 11);
    } else {
        P.now += 30000;
        ck_assert_uint_eq(cl_relay_session_pull(&P.dev, P.now, &p), 8);
        ck_assert_uint_eq(p[1], CL_RELAY_KEEPALIVE);
    }
    ck_assert_int_eq(cl_relay_session_sent(&P.dev, 3), CL_OK);
    /* a second HELLO-ACK in the session: CLOSE PROTOCOL */
    ck_assert_int_eq(feed_hex(&P, &P.dev, "C1 02 00 00 00 00 00 13 80 01 01 81 0E 01 02 03 04 05 "
                                         "06 07 08 09 0A 0B 0C 0D 0E"), CL_ERR_PROTOCOL);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 04 00 00 00 00 00 03 80 01 11");
    ck_assert_uint_eq(pull_one(&P, &P.dev), 0);
    ck_assert_int_eq(cl_relay_session_want(&P.dev), CL_WANT_FAILED);
}
END_TEST

/* A message half sent when the link drops goes out again in full, from
 * its first byte, on the resumed session (never sent in full: no REPLAY). */
START_TEST(test_half_sent_then_resume)
{
    const uint8_t *p;

    pair_open(&P);
    dev_status(3);
    ck_assert_uint_eq(cl_relay_session_pull(&P.dev, P.now, &p), 11);
    ck_assert_int_eq(cl_relay_session_sent(&P.dev, 5), CL_OK);
    cl_relay_session_disconnect(&P.dev, P.now);
    cl_relay_session_disconnect(&P.srv, P.now);
    reconnect(&P);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 32 00 01 00 00 00 03 80 01 03");
}
END_TEST

/* A LINK_DEAD nobody polled is gone once the transport is up again. */
START_TEST(test_dead_cleared_on_connect)
{
    struct cl_relay_event ev;

    open_with_keepalive(1);
    P.now += 3000;
    ck_assert_int_eq(cl_relay_session_timeout(&P.dev, P.now), CL_OK);
    ck_assert_int_eq(cl_relay_session_want(&P.dev), CL_WANT_DONE);
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
    ck_assert(!cl_relay_session_poll(&P.dev, &ev));
    ck_assert_int_eq(cl_relay_session_want(&P.dev), CL_WANT_SEND);
}
END_TEST

/* A fresh session forgets what the old one received: no ACK on its first
 * message, no acknowledgement due (the timer is K, not the ack delay), not
 * busy with the old session's request. */
START_TEST(test_fresh_session_forgets)
{
    struct cl_relay_msg m;

    pair_open(&P);
    display_request(&P);
    ck_assert(cl_relay_session_busy(&P.dev));
    ck_assert_uint_eq(cl_relay_session_timer(&P.dev, P.now), 999);   /* ack due */
    cl_relay_session_disconnect(&P.dev, P.now);
    /* the server lost its session: a fresh one under another token */
    sinit(&P.srv, CL_RELAY_SERVER, &P.scfg, P.srx, sizeof(P.srx), P.srb, sizeof(P.srb));
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
    ck_assert_int_eq(cl_relay_server_accept(&P.srv, P.now, devid_tok, sizeof(devid_tok)), CL_OK);
    ck_assert_int_eq(xfer(&P, &P.dev, &P.srv), 1);
    P.nev = 0;
    ck_assert_int_eq(xfer(&P, &P.srv, &P.dev), 1);
    ck_assert_uint_eq(P.ev[0].kind, CL_RELAY_EV_OPEN);
    ck_assert(!P.ev[0].resumed);
    ck_assert(!cl_relay_session_busy(&P.dev));
    ck_assert_uint_eq(cl_relay_session_timer(&P.dev, P.now), 30000);
    cl_relay_msg_init(&m, CL_RELAY_CARD_REMOVED);
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 31 00 01 00 00 00 00");
}
END_TEST

/* An acknowledgement of more than was sent is a SEQUENCE failure, also when
 * the replay buffer still holds the bytes of older, acknowledged records
 * beyond its end. */
START_TEST(test_ack_beyond_sent)
{
    pair_open(&P);
    dev_status(1);
    dev_status(2);
    ck_assert_int_eq(xfer(&P, &P.dev, &P.srv), 2);
    ck_assert_int_eq(feed_hex(&P, &P.dev, "C1 03 01 00 02 00 00 00"), CL_OK);   /* ack 2 */
    dev_status(3);
    ck_assert_int_eq(xfer(&P, &P.dev, &P.srv), 1);
    ck_assert_int_eq(feed_hex(&P, &P.dev, "C1 03 01 00 04 00 00 00"), CL_ERR_SEQUENCE);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 04 00 00 00 00 00 03 80 01 04");
}
END_TEST

/* Acknowledgements of the front of the replay buffer: what is left is
 * lent next (with the send position moved back by what went), and a
 * resumption replays exactly the unacknowledged messages. */
START_TEST(test_ack_front)
{
    pair_open(&P);
    dev_status(1);
    dev_status(2);
    dev_status(3);
    ck_assert_uint_eq(pull_one(&P, &P.dev), 11);
    ck_assert_uint_eq(pull_one(&P, &P.dev), 11);
    ck_assert_int_eq(feed_hex(&P, &P.dev, "C1 03 01 00 01 00 00 00"), CL_OK);   /* ack 1 */
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 32 00 03 00 00 00 03 80 01 03");
    ck_assert_uint_eq(pull_one(&P, &P.dev), 0);
    /* 2 and 3 unacknowledged: both replayed after a resumption */
    cl_relay_session_disconnect(&P.dev, P.now);
    ck_assert_int_eq(feed_hex(&P, &P.srv, "C1 32 00 01 00 00 00 03 80 01 01"), CL_OK);
    cl_relay_session_disconnect(&P.srv, P.now);
    reconnect(&P);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 32 02 02 00 00 00 03 80 01 02");
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 32 02 03 00 00 00 03 80 01 03");
    ck_assert_uint_eq(pull_one(&P, &P.dev), 0);
}
END_TEST

/* The peer acknowledges the message being replayed while it is lent (it
 * had it from the previous connection): the rest of it is not sent. */
START_TEST(test_ack_while_lent)
{
    const uint8_t *p;

    pair_open(&P);
    dev_status(1);
    ck_assert_uint_eq(pull_one(&P, &P.dev), 11);        /* sent, lost */
    cl_relay_session_disconnect(&P.dev, P.now);
    cl_relay_session_disconnect(&P.srv, P.now);
    reconnect(&P);
    ck_assert_uint_eq(cl_relay_session_pull(&P.dev, P.now, &p), 11);   /* the replay */
    ck_assert_uint_eq(p[2], CL_RELAY_F_REPLAY);
    ck_assert_int_eq(cl_relay_session_sent(&P.dev, 4), CL_OK);
    ck_assert_int_eq(feed_hex(&P, &P.dev, "C1 03 01 00 01 00 00 00"), CL_OK);   /* ack 1 */
    ck_assert_uint_eq(cl_relay_session_pull(&P.dev, P.now, &p), 0);
    ck_assert_int_eq(cl_relay_session_want(&P.dev), CL_WANT_RECV);
    ck_assert_uint_eq(cl_relay_session_stats(&P.dev)->replayed, 0);
}
END_TEST

/* A message that does not fit the replay buffer is refused without a
 * byte written past it. */
START_TEST(test_replay_buffer_edge)
{
    static uint8_t rb[20 + 16];
    struct cl_relay_msg m;
    int i;

    int size = _i == 0 ? 20 : 16;   /* room for 3 bytes after the first record; none */

    pair_init(&P);
    memset(rb, 0xEE, sizeof(rb));
    sinit(&P.dev, CL_RELAY_DEVICE, &P.dcfg, P.drx, sizeof(P.drx), rb, (size_t)size);
    sinit(&P.srv, CL_RELAY_SERVER, &P.scfg, P.srx, sizeof(P.srx), P.srb, sizeof(P.srb));
    handshake(&P);
    dev_status(1);                                   /* 3 + 11 of 20 or 16 */
    cl_relay_msg_init(&m, CL_RELAY_CARD_REMOVED);    /* 3 + 8: no room */
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_ERR_LIMIT);
    for (i = size; i < (int)sizeof(rb); i++)
        ck_assert_uint_eq(rb[i], 0xEE);
}
END_TEST

/* cl_relay_session_too_large(): a NULL start is an argument error; with an
 * event unpolled it waits (STATE); the start it is given counts as
 * something received for the silence limit. */
START_TEST(test_too_large_edges)
{
    struct cl_relay_event ev;
    static const uint8_t start[] = { 0xC1, 0x32, 0x00, 0x02, 0x00, 0x00, 0x08, 0x00 };

    open_with_keepalive(1);
    ck_assert_int_eq(cl_relay_session_too_large(&P.srv, P.now, NULL, 0), CL_ERR_ARG);
    {
        static const uint8_t note[] = { 0xC1, 0x32, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03,
                                        0x80, 0x01, 0x01 };
        ck_assert_int_eq(cl_relay_session_feed(&P.srv, P.now, note, sizeof(note)), 11);
        ck_assert_int_eq(cl_relay_session_too_large(&P.srv, P.now, start, sizeof(start)),
                         CL_ERR_STATE);   /* the NOTIFY is not polled yet */
        ck_assert(!cl_relay_session_poll(&P.srv, NULL));   /* and stays */
        ck_assert(cl_relay_session_poll(&P.srv, &ev));
        ck_assert_uint_eq(ev.kind, CL_RELAY_EV_NOTIFY);
    }
    P.now += 2000;
    ck_assert_int_eq(cl_relay_session_too_large(&P.srv, P.now, start, sizeof(start)), CL_OK);
    P.now += 2500;   /* 4.5 s after the handshake, 2.5 s after that start */
    ck_assert_int_eq(cl_relay_session_timeout(&P.srv, P.now), CL_OK);
    ck_assert(!cl_relay_session_poll(&P.srv, &ev));
    ck_assert_uint_eq(cl_relay_session_state(&P.srv), CL_RELAY_ST_OPEN);
}
END_TEST

/* Every message received restarts the silence limit (3 x K). */
START_TEST(test_silence_restarts)
{
    struct cl_relay_event ev;
    int i;

    open_with_keepalive(1);
    for (i = 0; i < 6; i++) {
        P.now += 900;
        ck_assert_int_eq(feed_hex(&P, &P.dev, "C1 03 00 00 00 00 00 00"), CL_OK);
        ck_assert_int_eq(cl_relay_session_timeout(&P.dev, P.now), CL_OK);
        ck_assert(!cl_relay_session_poll(&P.dev, &ev));
    }
    ck_assert_uint_eq(cl_relay_session_state(&P.dev), CL_RELAY_ST_OPEN);
}
END_TEST

/* A new connection while an event waits unpolled is refused: the event's
 * message lives in the receive buffer the connection resets, and a
 * request dropped there would leave the device busy with a request its
 * application never saw (the server waiting for ever). Polled, the
 * request is executed and its answer goes over the resumed session. */
START_TEST(test_connect_with_event_waiting)
{
    struct cl_relay_event ev;
    struct cl_relay_msg m;
    size_t len;

    pair_open(&P);
    cl_relay_msg_init(&m, CL_RELAY_DISPLAY);
    ck_assert_int_eq(cl_relay_session_send(&P.srv, P.now, &m), CL_OK);
    len = pull_one(&P, &P.srv);
    ck_assert_int_eq(cl_relay_session_feed(&P.dev, P.now, P.last, len), (int)len);
    ck_assert_int_eq(cl_relay_session_want(&P.dev), CL_WANT_DONE);
    cl_relay_session_disconnect(&P.dev, P.now);
    cl_relay_session_disconnect(&P.srv, P.now);
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_ERR_STATE);
    ck_assert_uint_eq(cl_relay_session_state(&P.dev), CL_RELAY_ST_SUSPENDED);
    ck_assert(cl_relay_session_poll(&P.dev, &ev));
    ck_assert_uint_eq(ev.kind, CL_RELAY_EV_REQUEST);
    ck_assert_uint_eq(ev.msg->type, CL_RELAY_DISPLAY);
    P.nev = 0;
    reconnect(&P);
    ck_assert_uint_eq(cl_relay_session_state(&P.dev), CL_RELAY_ST_OPEN);
    cl_relay_msg_init(&m, CL_RELAY_DISPLAY_DONE);
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_OK);
    P.nev = 0;
    ck_assert_int_eq(xfer(&P, &P.dev, &P.srv), 1);
    ck_assert_int_eq(P.nev, 1);
    ck_assert_uint_eq(P.ev[0].kind, CL_RELAY_EV_ANSWER);
    ck_assert_uint_eq(P.ev[0].msg->type, CL_RELAY_DISPLAY_DONE);

    /* the server side: a notification not polled keeps accept() out */
    dev_status(1);
    len = pull_one(&P, &P.dev);
    ck_assert_int_eq(cl_relay_session_feed(&P.srv, P.now, P.last, len), (int)len);
    cl_relay_session_disconnect(&P.srv, P.now);
    ck_assert_int_eq(cl_relay_server_accept(&P.srv, P.now, tok, sizeof(tok)), CL_ERR_STATE);
    ck_assert(cl_relay_session_poll(&P.srv, &ev));
    ck_assert_uint_eq(ev.kind, CL_RELAY_EV_NOTIFY);
    ck_assert_int_eq(cl_relay_server_accept(&P.srv, P.now, tok, sizeof(tok)), CL_OK);
}
END_TEST

/* Sequence numbers wrap through 0 (§7): a request numbered 0 that comes
 * while the device is busy still gets its ERROR STATE with REF 0. */
START_TEST(test_busy_error_ref_seq0)
{
    static const uint8_t seq0[] = { 0xC1, 0x24, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x80, 0x00 };
    struct cl_relay_msg m;
    int i;

    pair_open(&P);
    for (i = 1; i < 255; i++) {
        P.nev = 0;
        display_request(&P);
        cl_relay_msg_init(&m, CL_RELAY_DISPLAY_DONE);
        ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_OK);
        ck_assert_int_eq(xfer(&P, &P.dev, &P.srv), 1);
    }
    display_request(&P);   /* seq 255: the device is busy with it */
    ck_assert_uint_eq(P.last[3], 255);
    ck_assert_int_eq(cl_relay_session_feed(&P.dev, P.now, seq0, sizeof(seq0)),
                     (int)sizeof(seq0));
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    ck_assert_uint_eq(P.last[1], CL_RELAY_ERROR);
    ck_assert_uint_eq(P.last[2] & CL_RELAY_F_REF, CL_RELAY_F_REF);
    ck_assert_uint_eq(P.last[5], 0);
    ck_assert_uint_eq(P.last[P.last_len - 1], CL_RELAY_E_STATE);
}
END_TEST

/* The ack delay's default is 1 s: an acknowledgement goes at 999 ms. */
START_TEST(test_ack_delay_default)
{
    pair_init(&P);
    P.dcfg.ack_delay_ms = 0;
    pair_start(&P);
    handshake(&P);
    display_request(&P);
    ck_assert_uint_eq(cl_relay_session_timer(&P.dev, P.now), 999);
}
END_TEST

/* want(): SEND as soon as a message is queued in OPEN; with messages
 * queued in a suspended session, RECV once HELLO is out (nothing more goes
 * before HELLO-ACK). */
START_TEST(test_want_with_queue)
{
    pair_open(&P);
    ck_assert_int_eq(cl_relay_session_want(&P.dev), CL_WANT_RECV);
    dev_status(1);
    ck_assert_int_eq(cl_relay_session_want(&P.dev), CL_WANT_SEND);
    cl_relay_session_disconnect(&P.dev, P.now);
    ck_assert_int_eq(cl_relay_session_want(&P.dev), CL_WANT_IDLE);
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
    ck_assert_int_eq(cl_relay_session_want(&P.dev), CL_WANT_SEND);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    ck_assert_uint_eq(P.last[1], CL_RELAY_HELLO);
    ck_assert_int_eq(cl_relay_session_want(&P.dev), CL_WANT_RECV);
    ck_assert_uint_eq(pull_one(&P, &P.dev), 0);
}
END_TEST

/* The answer to a request that ends after its session did (an orphan) is
 * recorded for the retry through the free end of the replay buffer: one
 * that does not fit there is not recorded, and nothing is written past
 * the buffer. */
START_TEST(test_orphan_room)
{
    static uint8_t rb[40 + 16];
    static uint8_t resp[30];
    struct cl_relay_txn_table t;
    struct cl_relay_txn_slot sl[2];
    struct cl_relay_txn_log log;
    struct cl_relay_msg m;
    const uint8_t *ans;
    size_t alen;
    int i;

    pair_init(&P);
    cl_relay_txn_table_init(&t, sl, 2, &log);
    P.dcfg.txn_log = &log;
    memset(rb, 0xEE, sizeof(rb));
    sinit(&P.dev, CL_RELAY_DEVICE, &P.dcfg, P.drx, sizeof(P.drx), rb, 40);
    sinit(&P.srv, CL_RELAY_SERVER, &P.scfg, P.srx, sizeof(P.srx), P.srb, sizeof(P.srb));
    handshake(&P);
    sim_request(&m, 3);                               /* APDU with a txn id */
    ck_assert_int_eq(cl_relay_session_send(&P.srv, P.now, &m), CL_OK);
    P.nev = 0;
    ck_assert_int_eq(xfer(&P, &P.srv, &P.dev), 1);
    ck_assert_uint_eq(P.ev[0].kind, CL_RELAY_EV_REQUEST);
    ck_assert_int_eq(feed_hex(&P, &P.dev, "C1 04 00 00 00 00 00 03 80 01 00"), CL_ERR_CLOSED);
    memset(resp, 0x11, sizeof(resp));
    resp[28] = 0x90;
    resp[29] = 0x00;
    cl_relay_msg_init(&m, CL_RELAY_APDU_RESPONSE);    /* 8 + 2 + 30: over 40 - 3 */
    m.u.apdu.apdu.data = resp;
    m.u.apdu.apdu.len = sizeof(resp);
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_ERR_CLOSED);
    for (i = 40; i < (int)sizeof(rb); i++)
        ck_assert_uint_eq(rb[i], 0xEE);
    sim_request(&m, 3);
    ck_assert_int_eq(log.lookup(log.ctx, m.u.apdu.txn_id, &ans, &alen), CL_OK);
    ck_assert_uint_eq(alen, 0);                       /* still only in progress */
}
END_TEST

/* The peer's CLOSE while a KEEPALIVE of ours is half lent: nothing more
 * of it, nothing else, goes out. */
START_TEST(test_peer_close_while_lent)
{
    const uint8_t *p;

    pair_open(&P);
    P.now += 30000;
    ck_assert_uint_eq(cl_relay_session_pull(&P.dev, P.now, &p), 8);
    ck_assert_int_eq(cl_relay_session_sent(&P.dev, 3), CL_OK);
    ck_assert_int_eq(feed_hex(&P, &P.dev, "C1 04 00 00 00 00 00 03 80 01 00"), CL_ERR_CLOSED);
    ck_assert_uint_eq(cl_relay_session_pull(&P.dev, P.now, &p), 0);
    ck_assert_int_eq(cl_relay_session_want(&P.dev), CL_WANT_CLOSED);
}
END_TEST

/* A request being executed ends with the session: busy() is false once
 * the server's CLOSE arrived. */
START_TEST(test_close_ends_request)
{
    pair_open(&P);
    display_request(&P);
    ck_assert(cl_relay_session_busy(&P.dev));
    ck_assert_int_eq(feed_hex(&P, &P.dev, "C1 04 00 00 00 00 00 03 80 01 00"), CL_ERR_CLOSED);
    ck_assert(!cl_relay_session_busy(&P.dev));
}
END_TEST

/* Whether needle[0..m) is anywhere in hay[0..n) (memmem is not C99). */
static bool holds(const void *hay, size_t n, const uint8_t *needle, size_t m)
{
    const uint8_t *h = hay;
    size_t i;

    for (i = 0; i + m <= n; i++)
        if (memcmp(h + i, needle, m) == 0)
            return true;
    return false;
}

/* The token goes from the engine's memory once the session is closed. */
START_TEST(test_token_wiped_on_close)
{
    size_t n;

    pair_open(&P);
    ck_assert(holds(&P.dev, sizeof(P.dev), tok, sizeof(tok)));
    ck_assert_int_eq(feed_hex(&P, &P.dev, "C1 04 00 00 00 00 00 03 80 01 00"), CL_ERR_CLOSED);
    (void)cl_relay_session_token(&P.dev, &n);
    ck_assert_uint_eq(n, 0);
    ck_assert(!holds(&P.dev, sizeof(P.dev), tok, sizeof(tok)));
}
END_TEST

/* After a failure, connect() starts afresh: the sticky error is cleared. */
START_TEST(test_connect_clears_error)
{
    pair_open(&P);
    ck_assert_int_eq(feed_hex(&P, &P.dev, "C1 31 00 05 00 00 00 00"), CL_ERR_SEQUENCE);
    ck_assert_int_eq(cl_relay_session_error(&P.dev), CL_ERR_SEQUENCE);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);     /* CLOSE SEQUENCE */
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
    ck_assert_int_eq(cl_relay_session_error(&P.dev), CL_OK);
    ck_assert_int_eq(cl_relay_session_want(&P.dev), CL_WANT_SEND);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    assert_doc("hello", P.last, P.last_len);
}
END_TEST

/* A pull() with nothing to send does not count as sending: the KEEPALIVE
 * is due K after the last message that went. */
START_TEST(test_idle_pull_keeps_keepalive)
{
    open_with_keepalive(1);
    P.now += 500;
    ck_assert_uint_eq(pull_one(&P, &P.dev), 0);
    P.now += 500;
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 03 00 00 00 00 00 00");
}
END_TEST

/* ---- relay_session_roles.c's surviving faults */

/* The HELLO-ACK RESUMED of docs/protocol.md (ack 12, token tok), with the
 * token's last byte replaced by last. */
static const char *resumed_ack(uint8_t last)
{
    static char hex[200];

    snprintf(hex, sizeof(hex), "C1 02 01 00 0C 00 00 20 80 01 01 81 10 5A 0C 37 E1 94 B2 6D 08 "
             "C3 1F 7A 40 9E 55 2B %02X 82 01 01 83 02 00 1E 84 02 08 00", last);
    return hex;
}

/* A device resuming a session of which it sent nothing: doc's RESUMED ack
 * of 12 is beyond what was sent (SEQUENCE); a RESUMED with another token
 * is PROTOCOL. */
START_TEST(test_resumed_ack_checked)
{
    pair_open(&P);
    cl_relay_session_disconnect(&P.dev, P.now);
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    if (_i == 0) {
        ck_assert_int_eq(feed_hex(&P, &P.dev, resumed_ack(0xD6)), CL_ERR_SEQUENCE);
        ck_assert_int_eq(P.nev, 1);
        ck_assert_uint_eq(P.ev[0].kind, CL_RELAY_EV_CLOSED);
        ck_assert_uint_eq(cl_relay_session_state(&P.dev), CL_RELAY_ST_CLOSED);
        ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
        cl_assert_bytes(P.last, P.last_len, "C1 04 00 00 00 00 00 03 80 01 04");
    } else {
        ck_assert_int_eq(feed_hex(&P, &P.dev, resumed_ack(0xD7)), CL_ERR_PROTOCOL);
    }
}
END_TEST

/* The offered versions are searched in full, and not one past their end:
 * ours last in the list is found; a list without it is refused even with
 * our version in the byte after it. */
START_TEST(test_version_list_edges)
{
    static const uint8_t v[3] = { 2, 3, CL_RELAY_VERSION };

    pair_init(&P);
    P.dcfg.versions = _i == 0 ? v : v;
    P.dcfg.nversions = _i == 0 ? 3 : 2;
    pair_start(&P);
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
    ck_assert_int_eq(cl_relay_server_accept(&P.srv, P.now, tok, sizeof(tok)), CL_OK);
    if (_i == 0) {
        ck_assert_int_eq(xfer(&P, &P.dev, &P.srv), 1);
        ck_assert_int_eq(xfer(&P, &P.srv, &P.dev), 1);
        ck_assert_uint_eq(cl_relay_session_state(&P.dev), CL_RELAY_ST_OPEN);
    } else {
        ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
        ck_assert_int_eq(sfeed(&P.srv, P.now, P.last, P.last_len, &P.last_len), CL_ERR_VERSION);
        /* and the device, offered a HELLO-ACK of version 1 it did not offer */
        ck_assert_int_eq(feed_hex(&P, &P.dev, "C1 02 00 00 00 00 00 13 80 01 01 81 0E 01 02 03 "
                                              "04 05 06 07 08 09 0A 0B 0C 0D 0E"), CL_ERR_VERSION);
    }
}
END_TEST

/* The software text: empty is left out; 32 characters go; a longer one is
 * the caller's error (never cut short). */
START_TEST(test_software_text)
{
    static const char s32[] = "0123456789abcdef0123456789abcdef";
    static const char s40[] = "0123456789abcdef0123456789abcdef01234567";

    pair_init(&P);
    P.dcfg.software = "";
    pair_start(&P);
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    assert_doc("hello", P.last, P.last_len);
    cl_relay_session_disconnect(&P.dev, P.now);
    P.dcfg.software = s32;
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    ck_assert(holds(P.last, P.last_len, (const uint8_t *)s32, 32));
    cl_relay_session_disconnect(&P.dev, P.now);
    P.dcfg.software = s40;
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_ERR_ARG);
}
END_TEST

/* accept(): tokens of 8 and 32 bytes; a CLOSE left from the previous
 * connection's failure is not sent on the new one. */
START_TEST(test_accept_edges)
{
    static const uint8_t t32[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                     17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31 };

    pair_init(&P);
    pair_start(&P);
    ck_assert_int_eq(cl_relay_server_accept(&P.srv, P.now, t32, 8), CL_OK);
    cl_relay_session_disconnect(&P.srv, P.now);
    ck_assert_int_eq(cl_relay_server_accept(&P.srv, P.now, t32, 32), CL_OK);
    /* a HELLO-ACK to a server: PROTOCOL, its CLOSE not pulled */
    ck_assert_int_eq(feed_hex(&P, &P.srv, resumed_ack(0xD6)), CL_ERR_PROTOCOL);
    ck_assert_int_eq(cl_relay_server_accept(&P.srv, P.now, tok, sizeof(tok)), CL_OK);
    ck_assert_int_eq(cl_relay_session_want(&P.srv), CL_WANT_RECV);
    ck_assert_uint_eq(pull_one(&P, &P.srv), 0);
}
END_TEST

/* The handshake's wrong messages: a device awaiting HELLO-ACK gets a HELLO,
 * a server awaiting HELLO gets a HELLO-ACK: PROTOCOL; an undecodable one
 * is MALFORMED whatever the decoder's own error; a header that is not one
 * (too_large's start) is MALFORMED. */
START_TEST(test_handshake_wrong)
{
    uint8_t hello[256];
    size_t n = doc_example("hello", hello, sizeof(hello));
    static const uint8_t junk[8] = { 0 };

    pair_init(&P);
    pair_start(&P);
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    switch (_i) {
    case 0:
        ck_assert_int_eq(feed_hex(&P, &P.dev, cl_test_tohex(hello, n)), CL_ERR_PROTOCOL);
        break;
    case 1:
        ck_assert_int_eq(cl_relay_server_accept(&P.srv, P.now, tok, sizeof(tok)), CL_OK);
        ck_assert_int_eq(feed_hex(&P, &P.srv, resumed_ack(0xD6)), CL_ERR_PROTOCOL);
        break;
    case 2:   /* HELLO-ACK whose first field has a universal-class tag */
        ck_assert_int_eq(feed_hex(&P, &P.dev, "C1 02 00 00 00 00 00 03 02 01 01"),
                         CL_ERR_MALFORMED);
        ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
        cl_assert_bytes(P.last, P.last_len, "C1 04 00 00 00 00 00 03 80 01 01");
        break;
    default:
        ck_assert_int_eq(cl_relay_session_too_large(&P.dev, P.now, junk, sizeof(junk)),
                         CL_ERR_MALFORMED);
        break;
    }
}
END_TEST

/* Sequence numbers 127 behind are duplicates (dropped); 128 behind is a
 * gap (SEQUENCE). */
START_TEST(test_seq_window_edge)
{
    pair_open(&P);
    /* next expected 1: seq 130 is 127 behind, 129 is 128 behind */
    ck_assert_int_eq(feed_hex(&P, &P.dev, "C1 10 00 82 00 00 00 03 80 01 0A"), CL_OK);
    ck_assert_int_eq(P.nev, 0);
    ck_assert_uint_eq(cl_relay_session_stats(&P.dev)->duplicates, 1);
    ck_assert_int_eq(feed_hex(&P, &P.dev, "C1 10 00 81 00 00 00 03 80 01 0A"), CL_ERR_SEQUENCE);
}
END_TEST

/* Server: a message that is not the answer to its request: a notification
 * whose REF names the request (decodable or not), or an answer of another
 * type, is never taken as the answer. */
START_TEST(test_server_not_the_answer)
{
    struct cl_relay_msg m;

    pair_open(&P);
    cl_relay_msg_init(&m, CL_RELAY_DISPLAY);
    ck_assert_int_eq(cl_relay_session_send(&P.srv, P.now, &m), CL_OK);   /* seq 1 */
    ck_assert_uint_gt(pull_one(&P, &P.srv), 0);
    switch (_i) {
    case 0:   /* READER-STATUS with REF 1 and a bad body: ERROR MALFORMED, no REF */
        ck_assert_int_eq(feed_hex(&P, &P.srv, "C1 32 04 01 00 01 00 03 80 02 01"), CL_OK);
        ck_assert_int_eq(P.nev, 0);
        ck_assert(cl_relay_session_busy(&P.srv));
        ck_assert_uint_gt(pull_one(&P, &P.srv), 0);
        ck_assert_uint_eq(P.last[1], CL_RELAY_ERROR);
        ck_assert_uint_eq(P.last[2] & CL_RELAY_F_REF, 0);
        break;
    default:  /* PROMPT-ANSWER (an answer, not DISPLAY's) with REF 1 */
        ck_assert_int_eq(feed_hex(&P, &P.srv, "C1 27 04 01 00 01 00 03 80 01 01"),
                         CL_ERR_PROTOCOL);
        ck_assert_int_ne(P.ev[0].kind, CL_RELAY_EV_ANSWER);
        break;
    }
}
END_TEST

/* send(): whatever flags and REF the caller left in the message, a
 * notification goes without them; before the session is open nothing
 * sequenced can be sent. */
START_TEST(test_send_clears_header)
{
    struct cl_relay_msg m;

    pair_init(&P);
    pair_start(&P);
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
    cl_relay_msg_init(&m, CL_RELAY_CARD_REMOVED);
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_ERR_STATE);
    ck_assert_int_eq(cl_relay_server_accept(&P.srv, P.now, tok, sizeof(tok)), CL_OK);
    ck_assert_int_eq(xfer(&P, &P.dev, &P.srv), 1);
    ck_assert_int_eq(xfer(&P, &P.srv, &P.dev), 1);
    cl_relay_msg_init(&m, CL_RELAY_CARD_REMOVED);
    m.flags = CL_RELAY_F_REF | CL_RELAY_F_REPLAY;
    m.ref = 9;
    ck_assert_int_eq(cl_relay_session_send(&P.dev, P.now, &m), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    cl_assert_bytes(P.last, P.last_len, "C1 31 00 01 00 00 00 00");
}
END_TEST

/* The max message each side announces is never more than its receive
 * buffer takes: a smaller buffer goes out as its size (HELLO's default
 * being 512, HELLO-ACK's none). */
static const struct {
    size_t drx, srx;         /* receive buffer sizes */
    uint16_t dcfg, scfg;     /* configured: caps.max_msg, max_msg */
    uint16_t hello, ack;     /* announced (0: the field left out) */
} announced[] = {
    {1024, 2048, 0, 0, 0, 2048},
    {512, 2048, 0, 100, 0, 100},
    {511, 2048, 0, 2048, 511, 2048},
    {300, 2048, 0, 4096, 300, 2048},
    {1024, 65543, 1024, 0, 1024, 0},       /* any message: none announced */
    {1000, 65542, 1024, 0, 1000, 65535},
    {1024, 2047, 100, 0, 100, 2047},
    {8, 2048, 0, 0, 8, 2048},               /* the smallest buffer setup takes */
};

START_TEST(test_announced_max)
{
    static uint8_t big_rx[65543];
    struct cl_relay_msg m;

    pair_init(&P);
    P.dcfg.caps.max_msg = announced[_i].dcfg;
    P.scfg.max_msg = announced[_i].scfg;
    sinit(&P.dev, CL_RELAY_DEVICE, &P.dcfg, P.drx, announced[_i].drx, P.drb, sizeof(P.drb));
    sinit(&P.srv, CL_RELAY_SERVER, &P.scfg, big_rx, announced[_i].srx, P.srb, sizeof(P.srb));
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    ck_assert_int_eq(cl_relay_decode(P.last, P.last_len, &m), CL_OK);
    ck_assert_uint_eq(m.u.hello.caps.max_msg, announced[_i].hello);
    ck_assert_int_eq(cl_relay_server_accept(&P.srv, P.now, tok, sizeof(tok)), CL_OK);
    ck_assert_int_eq(sfeed(&P.srv, P.now, P.last, P.last_len, &P.last_len), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.srv), 0);
    ck_assert_int_eq(cl_relay_decode(P.last, P.last_len, &m), CL_OK);
    ck_assert_uint_eq(m.type, CL_RELAY_HELLO_ACK);
    ck_assert_uint_eq(m.u.hello_ack.max_msg, announced[_i].ack);
    cl_relay_session_free(&P.dev);
    cl_relay_session_free(&P.srv);
}
END_TEST

/* The API wall (issue 11 §3): every call of a device-role session in
 * every state, as a table of {state, call, expected}. Each row builds a
 * fresh pair (pair_init, pair_start) into its state and makes the one call
 * on the device's session. */
enum sw_state {
    SW_NULL,            /* a NULL session */
    SW_IDLE,            /* set up, no transport */
    SW_HELLO,           /* connect(): its HELLO queued, not pulled */
    SW_WAIT,            /* the HELLO sent, the HELLO-ACK awaited */
    SW_OPEN,            /* the handshake done */
    SW_BUSY,            /* a request (APDU) delivered, its answer not sent */
    SW_SUSPENDED,       /* open, then the transport lost */
    SW_CLOSED,          /* the server's CLOSE received */
    SW_FREED,           /* set up, then cl_relay_session_free() */
    SW_STATES
};

enum sw_call {
    SX_WANT, SX_TIMER, SX_PULL, SX_SENT1, SX_FEED1, SX_TIMEOUT, SX_NOTIFY, SX_ANSWER,
    SX_CLOSE, SX_CONNECT, SX_ERROR, SX_STATE, SX_BUSY, SX_REPLAY, SX_CALLS
};

static const struct {
    uint8_t state, call;
    long expected;
} session_wall[] = {
    /* NULL: CL_ERR_ARG; want FAILED, no timer, state IDLE, nothing held */
    { SW_NULL, SX_WANT, CL_WANT_FAILED }, { SW_NULL, SX_TIMER, CL_TIMER_NONE },
    { SW_NULL, SX_PULL, 0 }, { SW_NULL, SX_SENT1, CL_ERR_ARG },
    { SW_NULL, SX_FEED1, CL_ERR_ARG }, { SW_NULL, SX_TIMEOUT, CL_ERR_ARG },
    { SW_NULL, SX_NOTIFY, CL_ERR_ARG }, { SW_NULL, SX_ANSWER, CL_ERR_ARG },
    { SW_NULL, SX_CLOSE, CL_ERR_ARG }, { SW_NULL, SX_CONNECT, CL_ERR_ARG },
    { SW_NULL, SX_ERROR, CL_ERR_ARG }, { SW_NULL, SX_STATE, CL_RELAY_ST_IDLE },
    { SW_NULL, SX_BUSY, 0 }, { SW_NULL, SX_REPLAY, 0 },
    /* set up, no transport: connect() only; nothing to close */
    { SW_IDLE, SX_WANT, CL_WANT_IDLE }, { SW_IDLE, SX_TIMER, CL_TIMER_NONE },
    { SW_IDLE, SX_PULL, 0 }, { SW_IDLE, SX_SENT1, CL_ERR_ARG },
    { SW_IDLE, SX_FEED1, CL_ERR_STATE }, { SW_IDLE, SX_TIMEOUT, CL_OK },
    { SW_IDLE, SX_NOTIFY, CL_ERR_STATE }, { SW_IDLE, SX_ANSWER, CL_ERR_STATE },
    { SW_IDLE, SX_CLOSE, CL_ERR_STATE }, { SW_IDLE, SX_CONNECT, CL_OK },
    { SW_IDLE, SX_ERROR, CL_OK }, { SW_IDLE, SX_STATE, CL_RELAY_ST_IDLE },
    { SW_IDLE, SX_BUSY, 0 }, { SW_IDLE, SX_REPLAY, 0 },
    /* the HELLO (49 bytes) to send; the HELLO time-out runs (10 s) */
    { SW_HELLO, SX_WANT, CL_WANT_SEND }, { SW_HELLO, SX_TIMER, 10000 },
    { SW_HELLO, SX_PULL, 49 }, { SW_HELLO, SX_SENT1, CL_ERR_ARG },
    { SW_HELLO, SX_FEED1, 1 }, { SW_HELLO, SX_TIMEOUT, CL_OK },
    { SW_HELLO, SX_NOTIFY, CL_ERR_STATE }, { SW_HELLO, SX_ANSWER, CL_ERR_STATE },
    { SW_HELLO, SX_CLOSE, CL_OK }, { SW_HELLO, SX_CONNECT, CL_ERR_STATE },
    { SW_HELLO, SX_ERROR, CL_OK }, { SW_HELLO, SX_STATE, CL_RELAY_ST_HELLO },
    { SW_HELLO, SX_BUSY, 0 }, { SW_HELLO, SX_REPLAY, 0 },
    /* the HELLO sent; the peer's bytes are taken */
    { SW_WAIT, SX_WANT, CL_WANT_RECV }, { SW_WAIT, SX_TIMER, 10000 },
    { SW_WAIT, SX_PULL, 0 }, { SW_WAIT, SX_SENT1, CL_ERR_ARG },
    { SW_WAIT, SX_FEED1, 1 }, { SW_WAIT, SX_TIMEOUT, CL_OK },
    { SW_WAIT, SX_NOTIFY, CL_ERR_STATE }, { SW_WAIT, SX_ANSWER, CL_ERR_STATE },
    { SW_WAIT, SX_CLOSE, CL_OK }, { SW_WAIT, SX_CONNECT, CL_ERR_STATE },
    { SW_WAIT, SX_ERROR, CL_OK }, { SW_WAIT, SX_STATE, CL_RELAY_ST_HELLO },
    { SW_WAIT, SX_BUSY, 0 }, { SW_WAIT, SX_REPLAY, 0 },
    /* open: notifications go, answers need a request; keep-alive 30 s */
    { SW_OPEN, SX_WANT, CL_WANT_RECV }, { SW_OPEN, SX_TIMER, 30000 },
    { SW_OPEN, SX_PULL, 0 }, { SW_OPEN, SX_SENT1, CL_ERR_ARG },
    { SW_OPEN, SX_FEED1, 1 }, { SW_OPEN, SX_TIMEOUT, CL_OK },
    { SW_OPEN, SX_NOTIFY, CL_OK }, { SW_OPEN, SX_ANSWER, CL_ERR_STATE },
    { SW_OPEN, SX_CLOSE, CL_OK }, { SW_OPEN, SX_CONNECT, CL_ERR_STATE },
    { SW_OPEN, SX_ERROR, CL_OK }, { SW_OPEN, SX_STATE, CL_RELAY_ST_OPEN },
    { SW_OPEN, SX_BUSY, 0 }, { SW_OPEN, SX_REPLAY, 0 },
    /* a request delivered: its answer goes; the delayed ACK falls due first */
    { SW_BUSY, SX_WANT, CL_WANT_RECV }, { SW_BUSY, SX_TIMER, 999 },
    { SW_BUSY, SX_PULL, 0 }, { SW_BUSY, SX_SENT1, CL_ERR_ARG },
    { SW_BUSY, SX_FEED1, 1 }, { SW_BUSY, SX_TIMEOUT, CL_OK },
    { SW_BUSY, SX_NOTIFY, CL_OK }, { SW_BUSY, SX_ANSWER, CL_OK },
    { SW_BUSY, SX_CLOSE, CL_OK }, { SW_BUSY, SX_CONNECT, CL_ERR_STATE },
    { SW_BUSY, SX_ERROR, CL_OK }, { SW_BUSY, SX_STATE, CL_RELAY_ST_OPEN },
    { SW_BUSY, SX_BUSY, 1 }, { SW_BUSY, SX_REPLAY, 0 },
    /* transport lost: notifications queue, connect() resumes */
    { SW_SUSPENDED, SX_WANT, CL_WANT_IDLE }, { SW_SUSPENDED, SX_TIMER, CL_TIMER_NONE },
    { SW_SUSPENDED, SX_PULL, 0 }, { SW_SUSPENDED, SX_SENT1, CL_ERR_ARG },
    { SW_SUSPENDED, SX_FEED1, CL_ERR_STATE }, { SW_SUSPENDED, SX_TIMEOUT, CL_OK },
    { SW_SUSPENDED, SX_NOTIFY, CL_OK }, { SW_SUSPENDED, SX_ANSWER, CL_ERR_STATE },
    { SW_SUSPENDED, SX_CLOSE, CL_OK }, { SW_SUSPENDED, SX_CONNECT, CL_OK },
    { SW_SUSPENDED, SX_ERROR, CL_OK }, { SW_SUSPENDED, SX_STATE, CL_RELAY_ST_SUSPENDED },
    { SW_SUSPENDED, SX_BUSY, 0 }, { SW_SUSPENDED, SX_REPLAY, 0 },
    /* closed by the peer: connect() starts a fresh session */
    { SW_CLOSED, SX_WANT, CL_WANT_CLOSED }, { SW_CLOSED, SX_TIMER, CL_TIMER_NONE },
    { SW_CLOSED, SX_PULL, 0 }, { SW_CLOSED, SX_SENT1, CL_ERR_ARG },
    { SW_CLOSED, SX_FEED1, CL_ERR_CLOSED }, { SW_CLOSED, SX_TIMEOUT, CL_OK },
    { SW_CLOSED, SX_NOTIFY, CL_ERR_CLOSED }, { SW_CLOSED, SX_ANSWER, CL_ERR_CLOSED },
    { SW_CLOSED, SX_CLOSE, CL_ERR_CLOSED }, { SW_CLOSED, SX_CONNECT, CL_OK },
    { SW_CLOSED, SX_ERROR, CL_OK }, { SW_CLOSED, SX_STATE, CL_RELAY_ST_CLOSED },
    { SW_CLOSED, SX_BUSY, 0 }, { SW_CLOSED, SX_REPLAY, 0 },
    /* freed: every byte zero, not set up: CL_ERR_ARG */
    { SW_FREED, SX_WANT, CL_WANT_IDLE }, { SW_FREED, SX_TIMER, CL_TIMER_NONE },
    { SW_FREED, SX_PULL, 0 }, { SW_FREED, SX_SENT1, CL_ERR_ARG },
    { SW_FREED, SX_FEED1, CL_ERR_ARG }, { SW_FREED, SX_TIMEOUT, CL_ERR_ARG },
    { SW_FREED, SX_NOTIFY, CL_ERR_ARG }, { SW_FREED, SX_ANSWER, CL_ERR_ARG },
    { SW_FREED, SX_CLOSE, CL_ERR_ARG }, { SW_FREED, SX_CONNECT, CL_ERR_ARG },
    { SW_FREED, SX_ERROR, CL_OK }, { SW_FREED, SX_STATE, CL_RELAY_ST_IDLE },
    { SW_FREED, SX_BUSY, 0 }, { SW_FREED, SX_REPLAY, 0 },
};

static struct cl_relay_session *sw_put(unsigned state)
{
    struct cl_relay_msg m;
    static const uint8_t apdu[5] = { 0x80, 0x5C, 0x00, 0x00, 0x00 };

    if (state == SW_NULL)
        return NULL;
    pair_init(&P);
    pair_start(&P);
    switch (state) {
    case SW_HELLO:
        ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
        break;
    case SW_WAIT:
        ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
        ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
        break;
    case SW_OPEN:
    case SW_BUSY:
    case SW_SUSPENDED:
    case SW_CLOSED:
        handshake(&P);
        if (state == SW_BUSY) {
            cl_relay_msg_init(&m, CL_RELAY_APDU);
            m.u.apdu.apdu.data = apdu;
            m.u.apdu.apdu.len = sizeof(apdu);
            ck_assert_int_eq(cl_relay_session_send(&P.srv, P.now, &m), CL_OK);
            P.nev = 0;
            ck_assert_int_eq(xfer(&P, &P.srv, &P.dev), 1);
            ck_assert(cl_relay_session_busy(&P.dev));
        } else if (state == SW_SUSPENDED) {
            cl_relay_session_disconnect(&P.dev, P.now);
        } else if (state == SW_CLOSED) {
            ck_assert_int_eq(cl_relay_session_close(&P.srv, P.now, CL_RELAY_E_NONE), CL_OK);
            P.nev = 0;
            (void)xfer(&P, &P.srv, &P.dev);
        }
        break;
    case SW_FREED:
        cl_relay_session_free(&P.dev);
        break;
    default:
        break;
    }
    return &P.dev;
}

START_TEST(test_session_wall)
{
    static const uint8_t c1 = 0xC1;
    static const uint8_t sw[2] = { 0x90, 0x00 };
    bool seen[SW_STATES][SX_CALLS];
    struct cl_relay_msg m;
    const uint8_t *p;
    size_t i;
    long got = 0;

    memset(seen, 0, sizeof(seen));
    for (i = 0; i < CL_ARRAY_LEN(session_wall); i++) {
        struct cl_relay_session *d = sw_put(session_wall[i].state);

        seen[session_wall[i].state][session_wall[i].call] = true;
        switch (session_wall[i].call) {
        case SX_WANT: got = (long)cl_relay_session_want(d); break;
        case SX_TIMER: got = (long)cl_relay_session_timer(d, P.now); break;
        case SX_PULL: got = (long)cl_relay_session_pull(d, P.now, &p); break;
        case SX_SENT1: got = cl_relay_session_sent(d, 1); break;
        case SX_FEED1: got = cl_relay_session_feed(d, P.now, &c1, 1); break;
        case SX_TIMEOUT: got = cl_relay_session_timeout(d, P.now); break;
        case SX_NOTIFY:
            cl_relay_msg_init(&m, CL_RELAY_CARD_REMOVED);
            got = cl_relay_session_send(d, P.now, &m);
            break;
        case SX_ANSWER:
            cl_relay_msg_init(&m, CL_RELAY_APDU_RESPONSE);
            m.u.apdu.apdu.data = sw;
            m.u.apdu.apdu.len = sizeof(sw);
            got = cl_relay_session_send(d, P.now, &m);
            break;
        case SX_CLOSE: got = cl_relay_session_close(d, P.now, CL_RELAY_E_NONE); break;
        case SX_CONNECT: got = cl_relay_device_connect(d, P.now); break;
        case SX_ERROR: got = cl_relay_session_error(d); break;
        case SX_STATE: got = cl_relay_session_state(d); break;
        case SX_BUSY: got = cl_relay_session_busy(d); break;
        case SX_REPLAY: got = (long)cl_relay_session_replay_used(d); break;
        default: ck_abort_msg("row %zu: no such call", i);
        }
        ck_assert_msg(got == session_wall[i].expected, "row %zu (state %u, call %u): got %ld, want %ld",
                      i, session_wall[i].state, session_wall[i].call, got, session_wall[i].expected);
    }
    cl_assert_wall_complete(&seen[0][0], SW_STATES, SX_CALLS);
}
END_TEST

/* HELLO announces at most the steps its decoder holds (capability 87,
 * §5.1): absent stays absent (8), a larger configured value becomes
 * CL_RELAY_SCRIPT_MAX. */
static const struct {
    uint8_t cfg, hello;
} announced_steps[] = {
    {0, 0}, {1, 1}, {8, 8}, {CL_RELAY_SCRIPT_MAX, CL_RELAY_SCRIPT_MAX},
    {CL_RELAY_SCRIPT_MAX + 1, CL_RELAY_SCRIPT_MAX}, {255, CL_RELAY_SCRIPT_MAX},
};

START_TEST(test_announced_steps)
{
    struct cl_relay_msg m;

    pair_init(&P);
    P.dcfg.caps.script_steps = announced_steps[_i].cfg;
    sinit(&P.dev, CL_RELAY_DEVICE, &P.dcfg, P.drx, sizeof(P.drx), P.drb, sizeof(P.drb));
    ck_assert_int_eq(cl_relay_device_connect(&P.dev, P.now), CL_OK);
    ck_assert_uint_gt(pull_one(&P, &P.dev), 0);
    ck_assert_int_eq(cl_relay_decode(P.last, P.last_len, &m), CL_OK);
    ck_assert_uint_eq(m.u.hello.caps.script_steps, announced_steps[_i].hello);
    cl_relay_session_free(&P.dev);
}
END_TEST

static Suite *session_suite(void)
{
    Suite *s = suite_create("relay_session");
    TCase *tc = tcase_create("handshake");

    tcase_add_test(tc, test_handshake_doc);
    tcase_add_test(tc, test_resume_doc);
    tcase_add_test(tc, test_replay_flag);
    tcase_add_test(tc, test_wrong_token);
    tcase_add_test(tc, test_resumed_bad_token);
    tcase_add_test(tc, test_resume_same_device);
    tcase_add_test(tc, test_resume_other_device);
    tcase_add_test(tc, test_resume_token_last_byte);
    tcase_add_test(tc, test_server_resumes);
    tcase_add_test(tc, test_version_mismatch);
    suite_add_tcase(s, tc);
    tc = tcase_create("timers");
    tcase_add_test(tc, test_keepalive_and_dead);
    tcase_add_test(tc, test_keepalive_queued);
    tcase_add_test(tc, test_keepalive_doc);
    tcase_add_test(tc, test_link_dead);
    suite_add_tcase(s, tc);
    tc = tcase_create("refusals");
    tcase_add_loop_test(tc, test_device_refusals, 0, (int)CL_ARRAY_LEN(dev_vectors));
    tcase_add_test(tc, test_device_busy_and_duplicate);
    tcase_add_test(tc, test_server_refusals);
    tcase_add_test(tc, test_api_errors);
    tcase_add_test(tc, test_session_wall);
    tcase_add_test(tc, test_peer_max);
    suite_add_tcase(s, tc);
    tc = tcase_create("exactly_once");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_exactly_once_every_cut, 0, 4);
    tcase_add_test(tc, test_exactly_once_lossy_faults);
    tcase_add_test(tc, test_exactly_once_repeated_cuts);
    tcase_add_test(tc, test_idempotency);
    tcase_add_test(tc, test_idempotency_no_answer);
    tcase_add_test(tc, test_idempotency_orphan);
    suite_add_tcase(s, tc);
    tc = tcase_create("issue11");
    tcase_add_loop_test(tc, test_announced_max, 0, (int)(sizeof(announced) / sizeof(announced[0])));
    tcase_add_loop_test(tc, test_announced_steps, 0, (int)CL_ARRAY_LEN(announced_steps));
    tcase_add_test(tc, test_close_handshake);
    tcase_add_test(tc, test_close_after_queue);
    tcase_add_test(tc, test_two_messages_one_feed);
    tcase_add_test(tc, test_setup_dirty);
    tcase_add_test(tc, test_close_suspended);
    tcase_add_test(tc, test_txn_in_progress);
    tcase_add_test(tc, test_txn_store_fails);
    tcase_add_test(tc, test_txn_other_type);
    tcase_add_test(tc, test_undecodable_uses_seq);
    tcase_add_test(tc, test_answer_while_down);
    tcase_add_test(tc, test_link_dead_errors);
    tcase_add_test(tc, test_replay_logged_edges);
    tcase_add_test(tc, test_too_large);
    suite_add_tcase(s, tc);
    tc = tcase_create("mutants");
    tcase_add_loop_test(tc, test_fail_while_lent, 0, 2);
    tcase_add_test(tc, test_half_sent_then_resume);
    tcase_add_test(tc, test_dead_cleared_on_connect);
    tcase_add_test(tc, test_fresh_session_forgets);
    tcase_add_test(tc, test_ack_beyond_sent);
    tcase_add_test(tc, test_ack_front);
    tcase_add_test(tc, test_ack_while_lent);
    tcase_add_loop_test(tc, test_replay_buffer_edge, 0, 2);
    tcase_add_test(tc, test_too_large_edges);
    tcase_add_test(tc, test_silence_restarts);
    tcase_add_test(tc, test_ack_delay_default);
    tcase_add_test(tc, test_want_with_queue);
    tcase_add_test(tc, test_connect_with_event_waiting);
    tcase_add_test(tc, test_busy_error_ref_seq0);
    tcase_add_test(tc, test_close_ends_request);
    tcase_add_test(tc, test_peer_close_while_lent);
    tcase_add_test(tc, test_orphan_room);
    tcase_add_test(tc, test_token_wiped_on_close);
    tcase_add_test(tc, test_connect_clears_error);
    tcase_add_test(tc, test_idle_pull_keeps_keepalive);
    tcase_add_loop_test(tc, test_resumed_ack_checked, 0, 2);
    tcase_add_loop_test(tc, test_version_list_edges, 0, 2);
    tcase_add_test(tc, test_software_text);
    tcase_add_test(tc, test_accept_edges);
    tcase_add_loop_test(tc, test_handshake_wrong, 0, 4);
    tcase_add_test(tc, test_seq_window_edge);
    tcase_add_loop_test(tc, test_server_not_the_answer, 0, 2);
    tcase_add_test(tc, test_send_clears_header);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(session_suite());
}
