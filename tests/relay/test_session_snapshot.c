/*
 * cardlink tests — relay session snapshots (cl_relay_session_save /
 * cl_relay_session_restore, docs/protocol.md §8 "Resumption across a
 * restart"): a server saved mid-request and restored in a fresh context
 * resumes the device's session (HELLO-ACK RESUMED, the request replayed,
 * the answer matched, the numbering going on); a device likewise; and
 * every bad snapshot refused with its exact error, the context unchanged.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <check.h>
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/relay_session.h"
#include "test_util.h"

static const uint8_t tok[16] = { 0x5A, 0x0C, 0x37, 0xE1, 0x94, 0xB2, 0x6D, 0x08,
                                 0xC3, 0x1F, 0x7A, 0x40, 0x9E, 0x55, 0x2B, 0xD6 };
static const uint8_t tok2[16] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
                                  0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF, 0x01 };
static const uint8_t devid[7] = { 'C', 'L', '-', '0', '0', '0', '1' };
static const uint8_t apdu1[] = { 0x00, 0xB0, 0x00, 0x00, 0x00 };
static const uint8_t apdu2[] = { 0x80, 0x5C, 0x00, 0x00, 0x00 };
static const uint8_t resp[] = { 0x01, 0x02, 0x90, 0x00 };
static const uint8_t txid[16] = { 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8,
                                  0xA9, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE, 0xAF, 0xB0 };

struct side {
    struct cl_relay_session s;
    uint8_t rx[1024], rb[2048];
};

static struct side D, S, S2;
static struct cl_relay_session_config dcfg, scfg;
static struct cl_relay_event ev[8];
static int nev;
static uint8_t last[1024];
static size_t last_len;
static uint32_t now = 5000;
static uint8_t snap[4096];
static size_t snap_len;

static void setup_side(struct side *x, uint8_t role)
{
    cl_relay_session_init(&x->s);
    ck_assert_int_eq(cl_relay_session_setup(&x->s, role, role == CL_RELAY_DEVICE ? &dcfg : &scfg,
                                            x->rx, sizeof(x->rx), x->rb, sizeof(x->rb)),
                     CL_OK);
}

static void cfgs(void)
{
    memset(&dcfg, 0, sizeof(dcfg));
    memset(&scfg, 0, sizeof(scfg));
    dcfg.device_id = devid;
    dcfg.device_id_len = sizeof(devid);
    dcfg.caps.max_msg = 1024;
    dcfg.caps.features = CL_RELAY_FEAT_RESUME;
    dcfg.ack_delay_ms = 1000;
    scfg.keepalive_s = 30;
    scfg.ack_delay_ms = 1000;
}

/* Move every message from -> to; the receiver's events into ev[]. */
static int xfer(struct cl_relay_session *from, struct cl_relay_session *to)
{
    const uint8_t *m;
    size_t len;
    int n = 0;

    nev = 0;
    while ((len = cl_relay_session_pull(from, now, &m)) > 0) {
        size_t off = 0;
        memcpy(last, m, len);
        last_len = len;
        ck_assert_int_eq(cl_relay_session_sent(from, len), CL_OK);
        n++;
        while (off < len) {
            int rc = cl_relay_session_feed(to, now, last + off, len - off);
            ck_assert_int_ge(rc, 0);
            off += (size_t)rc;
            while (nev < 8 && cl_relay_session_poll(to, &ev[nev]))
                nev++;
        }
    }
    return n;
}

static void send_apdu(struct cl_relay_session *s, const uint8_t *a, size_t n, const uint8_t *id)
{
    struct cl_relay_msg m;

    cl_relay_msg_init(&m, CL_RELAY_APDU);
    m.u.apdu.apdu.data = a;
    m.u.apdu.apdu.len = n;
    m.u.apdu.txn_id = id;
    ck_assert_int_eq(cl_relay_session_send(s, now, &m), CL_OK);
}

static void answer(struct cl_relay_session *s)
{
    struct cl_relay_msg m;

    cl_relay_msg_init(&m, CL_RELAY_APDU_RESPONSE);
    m.u.apdu.apdu.data = resp;
    m.u.apdu.apdu.len = sizeof(resp);
    ck_assert_int_eq(cl_relay_session_send(s, now, &m), CL_OK);
}

/* A session open, a notification from the device (seq 1) and an APDU with
 * a transaction id from the server (seq 1) that the device received; the
 * server's snapshot taken while it waits for the answer. */
static void scene_with(bool deliver)
{
    struct cl_relay_msg m;

    cfgs();
    setup_side(&D, CL_RELAY_DEVICE);
    setup_side(&S, CL_RELAY_SERVER);
    ck_assert_int_eq(cl_relay_device_connect(&D.s, now), CL_OK);
    ck_assert_int_eq(cl_relay_server_accept(&S.s, now, tok, sizeof(tok)), CL_OK);
    ck_assert_int_eq(xfer(&D.s, &S.s), 1);
    ck_assert_int_eq(xfer(&S.s, &D.s), 1);
    cl_relay_msg_init(&m, CL_RELAY_READER_STATUS);
    m.u.reader_status = 3;
    ck_assert_int_eq(cl_relay_session_send(&D.s, now, &m), CL_OK);
    xfer(&D.s, &S.s);
    send_apdu(&S.s, apdu1, sizeof(apdu1), txid);
    ck_assert_int_eq(cl_relay_session_save(&S.s, snap, sizeof(snap), &snap_len), CL_OK);
    if (!deliver) {
        const uint8_t *p;
        size_t n = cl_relay_session_pull(&S.s, now, &p);   /* goes out, never arrives */
        ck_assert_uint_gt(n, 0);
        ck_assert_int_eq(cl_relay_session_sent(&S.s, n), CL_OK);
        return;
    }
    ck_assert_int_eq(xfer(&S.s, &D.s), 1);
    ck_assert_int_eq(nev, 1);
    ck_assert_uint_eq(ev[0].kind, CL_RELAY_EV_REQUEST);
}

static void scene(void)
{
    scene_with(true);
}

/* The snapshot's exact bytes for the scene. */
static const char scene_hex[] =
    "43 4C 52 53 01 02 07 02 00 02 01 20 01 00 1E 04 00 "   /* CLRS v1 server, rx_any|busy|txn,
                                                              * tx 2 acked 0 rx 2, req 1 APDU,
                                                              * v1, K 30, peer max 1024 */
    "10 5A 0C 37 E1 94 B2 6D 08 C3 1F 7A 40 9E 55 2B D6 "  /* token */
    "07 43 4C 2D 30 30 30 31 "                              /* device id */
    "A1 A2 A3 A4 A5 A6 A7 A8 A9 AA AB AC AD AE AF B0 "      /* txn id */
    "00 00 00 00 00 00 00 00 00 00 00 00 "                  /* counters */
    "01 00 21 "                                             /* 1 record of 33 bytes */
    "C1 20 00 01 00 00 00 19 80 05 00 B0 00 00 00 81 10 A1 A2 A3 A4 A5 A6 A7 A8 A9 AA AB AC AD "
    "AE AF B0";

START_TEST(test_save_bytes)
{
    scene();
    cl_assert_bytes(snap, snap_len, scene_hex);
}
END_TEST

START_TEST(test_restore_resumes)
{
    const struct cl_relay_session *r = &S2.s;
    const uint8_t *t;
    size_t tl;

    scene_with(false);
    /* the server process dies: a fresh context takes the snapshot */
    cl_relay_session_free(&S.s);
    setup_side(&S2, CL_RELAY_SERVER);
    ck_assert_int_eq(cl_relay_session_restore(&S2.s, &scfg, snap, snap_len), CL_OK);
    ck_assert_uint_eq(cl_relay_session_state(r), CL_RELAY_ST_SUSPENDED);
    ck_assert(cl_relay_session_busy(r));
    t = cl_relay_session_token(r, &tl);
    cl_assert_bytes(t, tl,
                    "5A 0C 37 E1 94 B2 6D 08 C3 1F 7A 40 9E 55 2B D6");
    /* the device loses the link and comes back with its token */
    cl_relay_session_disconnect(&D.s, now);
    ck_assert_int_eq(cl_relay_device_connect(&D.s, now), CL_OK);
    ck_assert_int_eq(cl_relay_server_accept(&S2.s, now, tok2, sizeof(tok2)), CL_OK);
    ck_assert_int_eq(xfer(&D.s, &S2.s), 1);        /* HELLO with the token, no ack */
    ck_assert_int_eq(nev, 1);
    ck_assert_uint_eq(ev[0].kind, CL_RELAY_EV_OPEN);
    ck_assert(ev[0].resumed);
    /* HELLO-ACK RESUMED (ack 1), then the APDU again with REPLAY, executed */
    ck_assert_int_eq(xfer(&S2.s, &D.s), 2);
    cl_assert_bytes(last, last_len,
                    "C1 20 03 01 01 00 00 19 80 05 00 B0 00 00 00 81 10 A1 A2 A3 A4 A5 A6 "
                    "A7 A8 A9 AA AB AC AD AE AF B0");
    ck_assert_int_eq(nev, 2);
    ck_assert(ev[0].resumed);
    ck_assert_uint_eq(ev[1].kind, CL_RELAY_EV_REQUEST);
    /* the device answers the request it is executing: the restored server
     * matches it (REF 1) and numbering goes on both ways */
    answer(&D.s);
    ck_assert_int_eq(xfer(&D.s, &S2.s), 1);
    cl_assert_bytes(last, 8, "C1 21 05 02 01 01 00 06");
    ck_assert_int_eq(nev, 1);
    ck_assert_uint_eq(ev[0].kind, CL_RELAY_EV_ANSWER);
    ck_assert_int_eq(ev[0].err, CL_OK);
    ck_assert(!cl_relay_session_busy(r));
    send_apdu(&S2.s, apdu2, sizeof(apdu2), NULL);
    ck_assert_int_eq(xfer(&S2.s, &D.s), 1);
    cl_assert_bytes(last, 8, "C1 20 01 02 02 00 00 07");
    ck_assert_int_eq(nev, 1);
    ck_assert_uint_eq(ev[0].kind, CL_RELAY_EV_REQUEST);
    cl_relay_session_free(&S2.s);
}
END_TEST

/* The server saved, the device's answer sent and lost with the server:
 * after the restore it is replayed by the device and matched. */
START_TEST(test_restore_answer_replayed)
{
    scene();
    answer(&D.s);
    {
        const uint8_t *p;
        size_t n = cl_relay_session_pull(&D.s, now, &p);   /* goes out, never arrives */
        ck_assert_uint_gt(n, 0);
        ck_assert_int_eq(cl_relay_session_sent(&D.s, n), CL_OK);
    }
    setup_side(&S2, CL_RELAY_SERVER);
    ck_assert_int_eq(cl_relay_session_restore(&S2.s, &scfg, snap, snap_len), CL_OK);
    cl_relay_session_disconnect(&D.s, now);
    ck_assert_int_eq(cl_relay_device_connect(&D.s, now), CL_OK);
    ck_assert_int_eq(cl_relay_server_accept(&S2.s, now, tok2, sizeof(tok2)), CL_OK);
    ck_assert_int_eq(xfer(&D.s, &S2.s), 1);
    ck_assert(nev == 1 && ev[0].resumed);
    ck_assert_int_eq(xfer(&S2.s, &D.s), 1);        /* HELLO-ACK: the APDU was acked */
    ck_assert_int_eq(xfer(&D.s, &S2.s), 1);        /* the answer replayed */
    cl_assert_bytes(last, 8, "C1 21 07 02 01 01 00 06");
    ck_assert_int_eq(nev, 1);
    ck_assert_uint_eq(ev[0].kind, CL_RELAY_EV_ANSWER);
    ck_assert_uint_eq(ev[0].msg->type, CL_RELAY_APDU_RESPONSE);
}
END_TEST

/* Another device naming the saved token gets a fresh session. */
START_TEST(test_restore_other_device)
{
    static const uint8_t other[7] = { 'C', 'L', '-', '0', '0', '0', '2' };

    scene();
    setup_side(&S2, CL_RELAY_SERVER);
    ck_assert_int_eq(cl_relay_session_restore(&S2.s, &scfg, snap, snap_len), CL_OK);
    dcfg.device_id = other;
    cl_relay_session_disconnect(&D.s, now);
    ck_assert_int_eq(cl_relay_device_connect(&D.s, now), CL_OK);
    ck_assert_int_eq(cl_relay_server_accept(&S2.s, now, tok2, sizeof(tok2)), CL_OK);
    xfer(&D.s, &S2.s);
    ck_assert(nev == 1 && !ev[0].resumed);
    ck_assert(!cl_relay_session_busy(&S2.s));
}
END_TEST

/* The server's link drops and the restored device comes back: its HELLO
 * with the token, taken as a resumption. */
static void resume_restored(struct side *d)
{
    cl_relay_session_disconnect(&S.s, now);
    ck_assert_int_eq(cl_relay_device_connect(&d->s, now), CL_OK);
    ck_assert_int_eq(cl_relay_server_accept(&S.s, now, tok2, sizeof(tok2)), CL_OK);
    xfer(&d->s, &S.s);
    ck_assert(nev == 1 && ev[0].resumed);
}

/* A device's snapshot: restored, it offers the token and resumes. */
START_TEST(test_device_snapshot)
{
    static struct side D2;
    uint8_t b[512];
    size_t n;

    scene();
    ck_assert_int_eq(cl_relay_session_save(&D.s, b, sizeof(b), &n), CL_OK);
    setup_side(&D2, CL_RELAY_DEVICE);
    ck_assert_int_eq(cl_relay_session_restore(&D2.s, &dcfg, b, n), CL_OK);
    ck_assert(cl_relay_session_busy(&D2.s));
    resume_restored(&D2);
    xfer(&S.s, &D2.s);
    ck_assert(nev == 1 && ev[0].resumed);
    answer(&D2.s);
    xfer(&D2.s, &S.s);
    ck_assert(nev == 1 && ev[0].kind == CL_RELAY_EV_ANSWER);
    /* a device snapshot does not go into a server, nor the reverse */
    setup_side(&S2, CL_RELAY_SERVER);
    ck_assert_int_eq(cl_relay_session_restore(&S2.s, &scfg, b, n), CL_ERR_MALFORMED);
    ck_assert_int_eq(cl_relay_session_restore(&D2.s, &dcfg, snap, snap_len), CL_ERR_MALFORMED);
}
END_TEST

/* A device's snapshot with three unacknowledged messages, the last one
 * longer than 255 bytes: two notifications and the answer to the request
 * it was executing, all sent after the server's APDU (so each went out
 * with its ACK field set, which the records do not keep). Saved, restored
 * into a fresh context and saved again: the same bytes. On resumption the
 * server receives all three in order with REPLAY, the answer matched. */
START_TEST(test_device_records)
{
    static struct side D2;
    static uint8_t b[2048], again[2048], big[300];
    struct cl_relay_msg m;
    size_t n, n2, o, i;
    const uint8_t *p;
    size_t lens[3];

    scene();
    for (i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)i;
    big[sizeof(big) - 2] = 0x90;
    big[sizeof(big) - 1] = 0x00;
    cl_relay_msg_init(&m, CL_RELAY_READER_STATUS);
    m.u.reader_status = 1;
    ck_assert_int_eq(cl_relay_session_send(&D.s, now, &m), CL_OK);
    cl_relay_msg_init(&m, CL_RELAY_CARD_REMOVED);
    ck_assert_int_eq(cl_relay_session_send(&D.s, now, &m), CL_OK);
    cl_relay_msg_init(&m, CL_RELAY_APDU_RESPONSE);
    m.u.apdu.apdu.data = big;
    m.u.apdu.apdu.len = sizeof(big);
    ck_assert_int_eq(cl_relay_session_send(&D.s, now, &m), CL_OK);
    while ((n = cl_relay_session_pull(&D.s, now, &p)) > 0)   /* sent, never arrive */
        ck_assert_int_eq(cl_relay_session_sent(&D.s, n), CL_OK);
    ck_assert_int_eq(cl_relay_session_save(&D.s, b, sizeof(b), &n), CL_OK);

    /* the records: seq 2, 3, 4 (the READER-STATUS of the scene, seq 1,
     * was acknowledged), no ACK flag, no ack, no REPLAY */
    o = 17 + 1 + b[17] + 1 + b[17 + 1 + b[17]] + 16 + 12;
    ck_assert_uint_eq(b[o], 3);
    o++;
    for (i = 0; i < 3; i++) {
        lens[i] = (size_t)b[o] << 8 | b[o + 1];
        ck_assert_uint_eq(b[o + 2], 0xC1);
        ck_assert_uint_eq(b[o + 2 + 2] & (CL_RELAY_F_ACK | CL_RELAY_F_REPLAY), 0);
        ck_assert_uint_eq(b[o + 2 + 3], 2 + i);   /* seq */
        ck_assert_uint_eq(b[o + 2 + 4], 0);       /* ack */
        o += 2 + lens[i];
    }
    ck_assert_uint_eq(o, n);
    ck_assert_uint_gt(lens[2], 255);

    setup_side(&D2, CL_RELAY_DEVICE);
    ck_assert_int_eq(cl_relay_session_restore(&D2.s, &dcfg, b, n), CL_OK);
    ck_assert_int_eq(cl_relay_session_save(&D2.s, again, sizeof(again), &n2), CL_OK);
    ck_assert_uint_eq(n2, n);
    ck_assert_mem_eq(again, b, n);

    resume_restored(&D2);
    xfer(&S.s, &D2.s);
    xfer(&D2.s, &S.s);
    ck_assert_int_eq(nev, 3);
    ck_assert_uint_eq(ev[0].kind, CL_RELAY_EV_NOTIFY);   /* (msg: valid until the next feed) */
    ck_assert_uint_eq(ev[1].kind, CL_RELAY_EV_NOTIFY);
    ck_assert_uint_eq(ev[2].kind, CL_RELAY_EV_ANSWER);
    ck_assert_uint_eq(ev[2].msg->type, CL_RELAY_APDU_RESPONSE);
    ck_assert_uint_eq(ev[2].msg->u.apdu.apdu.len, sizeof(big));
    ck_assert_mem_eq(ev[2].msg->u.apdu.apdu.data, big, sizeof(big));
    ck_assert(!cl_relay_session_busy(&S.s));
}
END_TEST

/* The token and the device id at their shortest and longest (8 and 32
 * bytes, 1 and 32): saved and restored, the session is the same. A
 * replay buffer exactly as large as the records need takes them; one
 * byte less is refused. */
static const struct {
    uint8_t tok_len, id_len;
} id_edges[] = { {8, 1}, {32, 32}, {8, 32}, {32, 1} };

START_TEST(test_restore_id_edges)
{
    static uint8_t t[32], id[32], again[4096];
    static struct { struct cl_relay_session s; uint8_t rx[1024], rb[64]; } fit;
    size_t i, n, tl, need;
    const uint8_t *tp;

    for (i = 0; i < 32; i++) {
        t[i] = (uint8_t)(0xE0 + i);
        id[i] = (uint8_t)('A' + i);
    }
    cfgs();
    dcfg.device_id = id;
    dcfg.device_id_len = id_edges[_i].id_len;
    setup_side(&D, CL_RELAY_DEVICE);
    setup_side(&S, CL_RELAY_SERVER);
    ck_assert_int_eq(cl_relay_device_connect(&D.s, now), CL_OK);
    ck_assert_int_eq(cl_relay_server_accept(&S.s, now, t, id_edges[_i].tok_len), CL_OK);
    ck_assert_int_eq(xfer(&D.s, &S.s), 1);
    ck_assert_int_eq(xfer(&S.s, &D.s), 1);
    send_apdu(&S.s, apdu1, sizeof(apdu1), txid);
    ck_assert_int_eq(cl_relay_session_save(&S.s, snap, sizeof(snap), &snap_len), CL_OK);
    ck_assert_uint_eq(snap[17], id_edges[_i].tok_len);
    ck_assert_uint_eq(snap[18 + id_edges[_i].tok_len], id_edges[_i].id_len);
    setup_side(&S2, CL_RELAY_SERVER);
    ck_assert_int_eq(cl_relay_session_restore(&S2.s, &scfg, snap, snap_len), CL_OK);
    tp = cl_relay_session_token(&S2.s, &tl);
    ck_assert_uint_eq(tl, id_edges[_i].tok_len);
    ck_assert_mem_eq(tp, t, tl);
    ck_assert_int_eq(cl_relay_session_save(&S2.s, again, sizeof(again), &n), CL_OK);
    ck_assert_uint_eq(n, snap_len);
    ck_assert_mem_eq(again, snap, n);
    /* one record of 33 bytes: 3 + 33 in the replay buffer */
    need = 3 + 33;
    for (i = 0; i < 2; i++) {
        cl_relay_session_init(&fit.s);
        ck_assert_int_eq(cl_relay_session_setup(&fit.s, CL_RELAY_SERVER, &scfg, fit.rx,
                                                sizeof(fit.rx), fit.rb, need - i), CL_OK);
        ck_assert_int_eq(cl_relay_session_restore(&fit.s, &scfg, snap, snap_len),
                         i == 0 ? CL_OK : CL_ERR_LIMIT);
    }
    /* the device it resumes with is the one saved */
    cl_relay_session_disconnect(&D.s, now);
    ck_assert_int_eq(cl_relay_device_connect(&D.s, now), CL_OK);
    ck_assert_int_eq(cl_relay_server_accept(&S2.s, now, tok2, sizeof(tok2)), CL_OK);
    xfer(&D.s, &S2.s);
    ck_assert(nev == 1 && ev[0].resumed);
}
END_TEST

START_TEST(test_save_errors)
{
    uint8_t b[8];
    size_t n = 99;

    cfgs();
    setup_side(&S2, CL_RELAY_SERVER);
    ck_assert_int_eq(cl_relay_session_save(NULL, b, sizeof(b), &n), CL_ERR_ARG);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(cl_relay_session_save(&S2.s, b, sizeof(b), NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_session_save(&S2.s, NULL, 4, &n), CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_session_save(&S2.s, b, sizeof(b), &n), CL_ERR_STATE);   /* none */
    cl_relay_session_init(&S2.s);
    ck_assert_int_eq(cl_relay_session_save(&S2.s, b, sizeof(b), &n), CL_ERR_ARG);     /* no role */
    scene();
    ck_assert_int_eq(cl_relay_session_save(&S.s, b, sizeof(b), &n), CL_ERR_BUFFER);
    ck_assert_uint_eq(n, snap_len);
    ck_assert_int_eq(cl_relay_session_save(&S.s, NULL, 0, &n), CL_ERR_BUFFER);
    ck_assert_uint_eq(n, snap_len);
    ck_assert_int_eq(cl_relay_session_close(&S.s, now, CL_RELAY_E_NONE), CL_OK);
    xfer(&S.s, &D.s);
    ck_assert_int_eq(cl_relay_session_save(&S.s, b, sizeof(b), &n), CL_ERR_STATE);    /* closed */
}
END_TEST

/* A refused snapshot leaves the context as it was: still IDLE, and a
 * good snapshot restores after it. */
static void refused(const uint8_t *b, size_t n, int err)
{
    ck_assert_int_eq(cl_relay_session_restore(&S2.s, &scfg, b, n), err);
    ck_assert_uint_eq(cl_relay_session_state(&S2.s), CL_RELAY_ST_IDLE);
    ck_assert(!cl_relay_session_busy(&S2.s));
}

START_TEST(test_restore_errors)
{
    static uint8_t b[4096];
    static struct { struct cl_relay_session s; uint8_t rx[64], rb[32]; } small;
    size_t i;

    scene();
    setup_side(&S2, CL_RELAY_SERVER);
    ck_assert_int_eq(cl_relay_session_restore(NULL, &scfg, snap, snap_len), CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_session_restore(&S2.s, NULL, snap, snap_len), CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_session_restore(&S2.s, &scfg, NULL, 3), CL_ERR_ARG);
    refused(NULL, 0, CL_ERR_MALFORMED);
    /* every truncation */
    for (i = 0; i < snap_len; i++)
        refused(snap, i, CL_ERR_MALFORMED);
    /* a trailing byte */
    memcpy(b, snap, snap_len);
    b[snap_len] = 0;
    refused(b, snap_len + 1, CL_ERR_MALFORMED);
    /* each field out of range: {offset, value} */
    {
        static const struct { size_t off; uint8_t v; } bad[] = {
            {0, 'X'},      /* magic */
            {4, 0x02},     /* format version 2 */
            {4, 0x00},
            {5, 0x01},     /* a device's: not this role */
            {5, 0x03},     /* no such role */
            {6, 0x0F},     /* unknown flag */
            {6, 0x05},     /* txn id without a request */
            {7, 0x03},     /* tx_seq: two unacknowledged, one record */
            {8, 0x01},     /* tx_acked: none unacknowledged, one record */
            {11, 0x21},    /* busy with an answer type */
            {12, 0x02},    /* protocol version */
            {15, 0x00},    /* peer max 0 */
            {17, 0x07},    /* token of 7 */
            {17, 0x21},    /* token of 33 */
            {34, 0x00},    /* no device id */
            {34, 0x21},    /* device id of 33 */
            {70, 0x02},    /* two records, one there */
            {70, 0x00},    /* none, one there */
            {72, 0x07},    /* record length 7 */
            {72, 0x22},    /* 34 with 33 there */
            {72, 0x20},    /* 32 */
            {73, 0xD1},    /* the record's header: not C */
            {73, 0xC2},    /* frame version */
            {74, 0x01},    /* HELLO: not sequenced */
            {76, 0x02},    /* record seq 2, 1 expected */
            {76, 0x00},    /* seq 0 */
            {75, 0x01},    /* ACK flag: not part of a record */
            {75, 0x08},    /* REPLAY flag */
            {77, 0x01},    /* an ack */
            {80, 0x18}};   /* body length not the record's */
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            memcpy(b, snap, snap_len);
            b[bad[i].off] = bad[i].v;
            refused(b, snap_len, CL_ERR_MALFORMED);
        }
    }
    /* a replay buffer too small for the records */
    cl_relay_session_init(&small.s);
    ck_assert_int_eq(cl_relay_session_setup(&small.s, CL_RELAY_SERVER, &scfg, small.rx,
                                            sizeof(small.rx), small.rb, sizeof(small.rb)),
                     CL_OK);
    ck_assert_int_eq(cl_relay_session_restore(&small.s, &scfg, snap, snap_len), CL_ERR_LIMIT);
    /* and a good one after all that */
    ck_assert_int_eq(cl_relay_session_restore(&S2.s, &scfg, snap, snap_len), CL_OK);
    ck_assert_uint_eq(cl_relay_session_state(&S2.s), CL_RELAY_ST_SUSPENDED);
    /* restoring into a context never set up */
    cl_relay_session_init(&small.s);
    ck_assert_int_eq(cl_relay_session_restore(&small.s, &scfg, snap, snap_len), CL_ERR_ARG);
}
END_TEST

/* The checks that only a snapshot of another shape reaches: a server not
 * busy (its request answered) with a transaction flag, a request number
 * or type, or a transaction id left; a peer maximum of 8 (the header)
 * and 7; a device's snapshot naming a peer; every truncation of a
 * snapshot with three records; the device's own id in the config. */
START_TEST(test_restore_shapes)
{
    static struct side D2;
    static uint8_t idle[1024], b[1024], dev[2048];
    size_t idle_len, dev_len, i, tx;
    struct cl_relay_session_config bad;

    scene();
    answer(&D.s);
    ck_assert_int_eq(xfer(&D.s, &S.s), 1);
    ck_assert_int_eq(cl_relay_session_save(&S.s, idle, sizeof(idle), &idle_len), CL_OK);
    ck_assert_uint_eq(idle[6] & 0x06, 0);           /* not busy, no transaction */
    ck_assert_uint_eq(idle[10] | idle[11], 0);
    setup_side(&S2, CL_RELAY_SERVER);
    ck_assert_int_eq(cl_relay_session_restore(&S2.s, &scfg, idle, idle_len), CL_OK);
    cl_relay_session_free(&S2.s);
    setup_side(&S2, CL_RELAY_SERVER);
    tx = 17 + 1 + idle[17] + 1 + idle[18 + idle[17]];   /* the transaction id */
    {
        static const struct { size_t off; uint8_t x; } flips[] = {
            {6, 0x04},     /* a transaction with no request */
            {10, 0x01},    /* a request number alone */
            {11, 0x20},    /* a request type alone */
        };
        for (i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
            memcpy(b, idle, idle_len);
            b[flips[i].off] ^= flips[i].x;
            refused(b, idle_len, CL_ERR_MALFORMED);
        }
    }
    for (i = 0; i < 16; i += 15) {   /* an id saved though none is in use */
        memcpy(b, idle, idle_len);
        b[tx + i] = 0x01;
        refused(b, idle_len, CL_ERR_MALFORMED);
    }
    memcpy(b, idle, idle_len);
    b[15] = 0x00;
    b[16] = 0x08;   /* a peer that takes a header and nothing else: the least allowed */
    ck_assert_int_eq(cl_relay_session_restore(&S2.s, &scfg, b, idle_len), CL_OK);
    b[16] = 0x07;
    cl_relay_session_free(&S2.s);
    setup_side(&S2, CL_RELAY_SERVER);
    refused(b, idle_len, CL_ERR_MALFORMED);
    ck_assert_int_eq(cl_relay_session_restore(&S2.s, &scfg, NULL, 1), CL_ERR_ARG);
    /* a save into exactly the size it needs */
    ck_assert_int_eq(cl_relay_session_save(&S.s, b, idle_len, &i), CL_OK);
    ck_assert_uint_eq(i, idle_len);
    ck_assert_mem_eq(b, idle, idle_len);

    /* the device's side: three unacknowledged records */
    {
        struct cl_relay_msg m;
        const uint8_t *p;
        size_t n;
        for (i = 0; i < 3; i++) {
            cl_relay_msg_init(&m, CL_RELAY_READER_STATUS);
            m.u.reader_status = (uint8_t)i;
            ck_assert_int_eq(cl_relay_session_send(&D.s, now, &m), CL_OK);
        }
        while ((n = cl_relay_session_pull(&D.s, now, &p)) > 0)
            ck_assert_int_eq(cl_relay_session_sent(&D.s, n), CL_OK);
    }
    ck_assert_int_eq(cl_relay_session_save(&D.s, dev, sizeof(dev), &dev_len), CL_OK);
    setup_side(&D2, CL_RELAY_DEVICE);
    for (i = 0; i < dev_len; i++)
        ck_assert_int_eq(cl_relay_session_restore(&D2.s, &dcfg, dev, i), CL_ERR_MALFORMED);
    memcpy(b, dev, dev_len);
    ck_assert_uint_eq(b[18 + b[17]], 0);   /* a device names no peer */
    b[18 + b[17]] = 1;
    ck_assert_int_eq(cl_relay_session_restore(&D2.s, &dcfg, b, dev_len), CL_ERR_MALFORMED);
    bad = dcfg;
    bad.device_id = NULL;
    ck_assert_int_eq(cl_relay_session_restore(&D2.s, &bad, dev, dev_len), CL_ERR_ARG);
    bad = dcfg;
    bad.device_id_len = 0;
    ck_assert_int_eq(cl_relay_session_restore(&D2.s, &bad, dev, dev_len), CL_ERR_ARG);
    {
        static const uint8_t id33[33] = {'x'};
        bad = dcfg;
        bad.device_id = id33;
        bad.device_id_len = 33;
        ck_assert_int_eq(cl_relay_session_restore(&D2.s, &bad, dev, dev_len), CL_ERR_ARG);
        bad.device_id_len = 32;
        ck_assert_int_eq(cl_relay_session_restore(&D2.s, &bad, dev, dev_len), CL_OK);
    }
    ck_assert_int_eq(cl_relay_session_restore(&D2.s, &dcfg, dev, dev_len), CL_OK);
    ck_assert_int_eq(cl_relay_session_save(&D2.s, b, sizeof(b), &i), CL_OK);
    ck_assert_uint_eq(i, dev_len);
    ck_assert_mem_eq(b, dev, dev_len);
}
END_TEST

/* Every single-byte change either restores or is refused MALFORMED; a
 * restored one saves again to the same bytes. */
START_TEST(test_restore_every_byte)
{
    static uint8_t b[4096], again[4096];
    size_t i, n;
    unsigned v;

    scene();
    setup_side(&S2, CL_RELAY_SERVER);
    for (i = 0; i < snap_len; i++) {
        for (v = 0; v < 256; v += 51) {
            int rc;
            memcpy(b, snap, snap_len);
            b[i] = (uint8_t)(b[i] ^ (v | 1u));
            rc = cl_relay_session_restore(&S2.s, &scfg, b, snap_len);
            ck_assert(rc == CL_OK || rc == CL_ERR_MALFORMED);
            if (rc == CL_OK) {
                ck_assert_int_eq(cl_relay_session_save(&S2.s, again, sizeof(again), &n), CL_OK);
                ck_assert_uint_eq(n, snap_len);
                ck_assert_mem_eq(again, b, n);
            }
        }
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("relay_session_snapshot");
    TCase *tc = tcase_create("snapshot");

    tcase_add_test(tc, test_save_bytes);
    tcase_add_test(tc, test_restore_resumes);
    tcase_add_test(tc, test_restore_answer_replayed);
    tcase_add_test(tc, test_restore_other_device);
    tcase_add_test(tc, test_device_snapshot);
    tcase_add_test(tc, test_device_records);
    tcase_add_loop_test(tc, test_restore_id_edges, 0, 4);
    tcase_add_test(tc, test_restore_shapes);
    tcase_add_test(tc, test_save_errors);
    tcase_add_test(tc, test_restore_errors);
    tcase_add_test(tc, test_restore_every_byte);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(suite());
}
