/*
 * cardlink — relay lossy-link framing (docs/protocol.md §13).
 * SPDX-License-Identifier: Apache-2.0
 *
 * The frames of §13.4 ("```frame example=NAME" blocks) are test vectors:
 * each re-encodes byte for byte with cl_relay_lossy_frame() and its DATA
 * payload is delivered by a fresh receiver. Then every rule of §13: what
 * is dropped, acknowledgement, retransmission with doubling timeout and
 * retry limit, duplicates, epochs, and a long run through a faulty channel.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardlink/edc.h"
#include "cardlink/error.h"
#include "cardlink/relay_lossy.h"
#include "test_util.h"

#ifndef CL_PROTOCOL_MD
#error "CL_PROTOCOL_MD must name docs/protocol.md"
#endif

/* The bytes of "```frame example=NAME". */

/* cl_relay_lossy_feed() as these tests read it: CL_OK or the error, the
 * bytes used into *used (0 on an error). */
static int lfeed(struct cl_relay_lossy *l, uint32_t now, const uint8_t *in, size_t n,
                 size_t *used)
{
    int rc = cl_relay_lossy_feed(l, now, in, n);

    *used = rc > 0 ? (size_t)rc : 0;
    return rc >= 0 ? CL_OK : rc;
}

static size_t doc_frame(const char *name, uint8_t *out, size_t size)
{
    return cl_test_doc_example(CL_PROTOCOL_MD, "frame", name, out, size);
}

static const char *const frames[] = { "lossy-data-keepalive", "lossy-ack", "lossy-data-escaped" };

/* Unescape a frame between its flags. */
static size_t unstuff(const uint8_t *f, size_t n, uint8_t *out)
{
    size_t i, o = 0;

    ck_assert_uint_eq(f[0], 0x7E);
    ck_assert_uint_eq(f[n - 1], 0x7E);
    for (i = 1; i + 1 < n; i++) {
        if (f[i] == 0x7D)
            out[o++] = f[++i] ^ 0x20;
        else
            out[o++] = f[i];
    }
    return o;
}

START_TEST(test_doc_frames)
{
    uint8_t f[256], c[256], out[256];
    size_t n = doc_frame(frames[_i], f, sizeof(f)), cn = unstuff(f, n, c), len;
    uint16_t crc = cl_crc16(c, cn - 2);
    struct cl_relay_lossy l;
    uint8_t rx[64], tx[64];
    const uint8_t *msg;
    size_t used;

    ck_assert_uint_eq(c[cn - 2], crc & 0xFF);
    ck_assert_uint_eq(c[cn - 1], crc >> 8);
    ck_assert_int_eq(cl_relay_lossy_frame(c, c + 4, cn - 6, out, sizeof(out), &len), CL_OK);
    ck_assert_msg(len == n && memcmp(out, f, n) == 0, "%s: %s", frames[_i], cl_test_tohex(out, len));
    ck_assert_int_eq(cl_relay_lossy_frame(c, c + 4, cn - 6, out, n - 1, &len), CL_ERR_BUFFER);
    ck_assert_uint_eq(len, n);
    /* a fresh receiver delivers a DATA frame with seq 0 */
    cl_relay_lossy_init(&l, NULL, rx, sizeof(rx), tx, sizeof(tx));
    ck_assert_int_eq(lfeed(&l, 0, f, n, &used), CL_OK);
    ck_assert_uint_eq(used, n);
    if ((c[0] & 1) && c[2] == 0) {
        ck_assert_int_eq(cl_relay_lossy_take(&l, &msg, &len), CL_OK);
        ck_assert_uint_eq(len, cn - 6);
        ck_assert_mem_eq(msg, c + 4, len);
        ck_assert_uint_eq(cl_relay_lossy_stats(&l)->delivered, 1);
    } else {
        ck_assert_int_eq(cl_relay_lossy_take(&l, &msg, &len), CL_ERR_STATE);
        ck_assert_uint_eq(cl_relay_lossy_stats(&l)->frames_ok, 1);
    }
}
END_TEST

/* The engine itself sends the first two examples: epoch 3 sends a
 * KEEPALIVE, epoch 5 acknowledges it. */
START_TEST(test_engine_bytes)
{
    struct cl_relay_lossy a, b;
    struct cl_relay_lossy_config ca = { 0, 0, 3, 0 }, cb = { 0, 0, 5, 0 };
    uint8_t arx[64], atx[64], brx[64], btx[64], out[64], f[64];
    static const uint8_t ka[] = { 0xC1, 0x03, 0, 0, 0, 0, 0, 0 };
    size_t n, used, fn;

    cl_relay_lossy_init(&a, &ca, arx, sizeof(arx), atx, sizeof(atx));
    cl_relay_lossy_init(&b, &cb, brx, sizeof(brx), btx, sizeof(btx));
    ck_assert(cl_relay_lossy_can_send(&a));
    ck_assert_int_eq(cl_relay_lossy_send(&a, 0, ka, sizeof(ka)), CL_OK);
    ck_assert(!cl_relay_lossy_can_send(&a));
    ck_assert_uint_eq(cl_relay_lossy_timer(&a, 0), CL_TIMER_NONE);
    n = cl_relay_lossy_pull(&a, 100, out, sizeof(out));
    fn = doc_frame("lossy-data-keepalive", f, sizeof(f));
    ck_assert_msg(n == fn && memcmp(out, f, n) == 0, "%s", cl_test_tohex(out, n));
    ck_assert_uint_eq(cl_relay_lossy_timer(&a, 100), 2000);
    ck_assert_int_eq(lfeed(&b, 100, out, n, &used), CL_OK);
    n = cl_relay_lossy_pull(&b, 100, out, sizeof(out));
    fn = doc_frame("lossy-ack", f, sizeof(f));
    ck_assert_msg(n == fn && memcmp(out, f, n) == 0, "%s", cl_test_tohex(out, n));
    ck_assert_int_eq(lfeed(&a, 200, out, n, &used), CL_OK);
    ck_assert(cl_relay_lossy_can_send(&a));
    ck_assert_uint_eq(cl_relay_lossy_timer(&a, 200), CL_TIMER_NONE);
    ck_assert_uint_eq(cl_relay_lossy_pull(&a, 200, out, sizeof(out)), 0);
}
END_TEST

/* A pair and helpers */
struct lpair {
    struct cl_relay_lossy a, b;
    uint8_t arx[300], atx[300], brx[300], btx[300];
};
static struct lpair L;

static void lp_init(struct lpair *p, uint8_t ea, uint8_t eb)
{
    struct cl_relay_lossy_config c = { 100, 3, 0, 0 };

    c.epoch = ea;
    cl_relay_lossy_init(&p->a, &c, p->arx, sizeof(p->arx), p->atx, sizeof(p->atx));
    c.epoch = eb;
    cl_relay_lossy_init(&p->b, &c, p->brx, sizeof(p->brx), p->btx, sizeof(p->btx));
}

/* Move all of from's output into to, one byte at a time when bytewise;
 * returns messages delivered to `to`. */
static int move(struct cl_relay_lossy *from, struct cl_relay_lossy *to, uint32_t now, bool bytewise,
                uint8_t *last, size_t *last_len)
{
    uint8_t buf[700];
    size_t n = 0, k, off = 0, used, mlen;
    const uint8_t *m;
    int got = 0;

    if (bytewise)
        while ((k = cl_relay_lossy_pull(from, now, buf + n, 1)) > 0)
            n += k;
    else
        n = cl_relay_lossy_pull(from, now, buf, sizeof(buf));
    while (off < n) {
        ck_assert_int_eq(lfeed(to, now, buf + off, bytewise ? 1 : n - off, &used),
                         CL_OK);
        off += used;
        if (cl_relay_lossy_take(to, &m, &mlen) == CL_OK) {
            if (last != NULL) {
                memcpy(last, m, mlen);
                *last_len = mlen;
            }
            got++;
        }
    }
    return got;
}

/* The API wall (issue 11 §3): every call in every state of the link, as a
 * table of {state, call, expected}. Each row puts a fresh pair into its
 * state (a is the engine under test, b its peer) and makes the one call. */
enum lw_state {
    LW_NULL,            /* a NULL link */
    LW_IDLE,            /* set up, nothing sent or received */
    LW_SEND,            /* a message queued: its DATA frame to lend */
    LW_LENT,            /* part of the frame lent, not yet sent() */
    LW_RECV,            /* the frame out, waiting for its ACK (RTO armed) */
    LW_DONE,            /* a message from b delivered, not taken */
    LW_FAILED,          /* b restarted (a new epoch's seq 0): dead */
    LW_FREED,           /* set up, then cl_relay_lossy_free() */
    LW_STATES
};

enum lw_call {
    LC_WANT, LC_TIMER, LC_LEND, LC_SENT1, LC_FEED_FLAG, LC_TAKE, LC_CAN_SEND, LC_SEND,
    LC_TIMEOUT, LC_ERROR, LC_CALLS
};

static const struct {
    uint8_t state, call;
    long expected;
} lossy_wall[] = {
    { LW_NULL, LC_WANT, CL_WANT_FAILED }, { LW_NULL, LC_TIMER, CL_TIMER_NONE },
    { LW_NULL, LC_LEND, 0 }, { LW_NULL, LC_SENT1, CL_ERR_ARG },
    { LW_NULL, LC_FEED_FLAG, CL_ERR_ARG }, { LW_NULL, LC_TAKE, CL_ERR_ARG },
    { LW_NULL, LC_CAN_SEND, 0 }, { LW_NULL, LC_SEND, CL_ERR_ARG },
    { LW_NULL, LC_TIMEOUT, CL_ERR_ARG }, { LW_NULL, LC_ERROR, CL_ERR_ARG },
    /* idle: a lone flag is used and delivers nothing */
    { LW_IDLE, LC_WANT, CL_WANT_IDLE }, { LW_IDLE, LC_TIMER, CL_TIMER_NONE },
    { LW_IDLE, LC_LEND, 0 }, { LW_IDLE, LC_SENT1, CL_ERR_ARG },
    { LW_IDLE, LC_FEED_FLAG, 1 }, { LW_IDLE, LC_TAKE, CL_ERR_STATE },
    { LW_IDLE, LC_CAN_SEND, 1 }, { LW_IDLE, LC_SEND, CL_OK },
    { LW_IDLE, LC_TIMEOUT, CL_OK }, { LW_IDLE, LC_ERROR, CL_OK },
    /* a frame to lend: its first piece is the opening flag */
    { LW_SEND, LC_WANT, CL_WANT_SEND }, { LW_SEND, LC_TIMER, CL_TIMER_NONE },
    { LW_SEND, LC_LEND, 1 }, { LW_SEND, LC_SENT1, CL_ERR_ARG },
    { LW_SEND, LC_FEED_FLAG, 1 }, { LW_SEND, LC_TAKE, CL_ERR_STATE },
    { LW_SEND, LC_CAN_SEND, 0 }, { LW_SEND, LC_SEND, CL_ERR_STATE },
    { LW_SEND, LC_TIMEOUT, CL_OK }, { LW_SEND, LC_ERROR, CL_OK },
    /* lent: the same bytes are lent again until sent() takes them */
    { LW_LENT, LC_WANT, CL_WANT_SEND }, { LW_LENT, LC_TIMER, 100 },
    { LW_LENT, LC_LEND, 1 }, { LW_LENT, LC_SENT1, CL_OK },
    { LW_LENT, LC_FEED_FLAG, 1 }, { LW_LENT, LC_TAKE, CL_ERR_STATE },
    { LW_LENT, LC_CAN_SEND, 0 }, { LW_LENT, LC_SEND, CL_ERR_STATE },
    { LW_LENT, LC_TIMEOUT, CL_OK }, { LW_LENT, LC_ERROR, CL_OK },
    /* waiting for the ACK: the RTO (100 ms) runs */
    { LW_RECV, LC_WANT, CL_WANT_RECV }, { LW_RECV, LC_TIMER, 100 },
    { LW_RECV, LC_LEND, 0 }, { LW_RECV, LC_SENT1, CL_ERR_ARG },
    { LW_RECV, LC_FEED_FLAG, 1 }, { LW_RECV, LC_TAKE, CL_ERR_STATE },
    { LW_RECV, LC_CAN_SEND, 0 }, { LW_RECV, LC_SEND, CL_ERR_STATE },
    { LW_RECV, LC_TIMEOUT, CL_OK }, { LW_RECV, LC_ERROR, CL_OK },
    /* a message waits: nothing more is fed until it is taken; its ACK is due */
    { LW_DONE, LC_WANT, CL_WANT_DONE }, { LW_DONE, LC_TIMER, CL_TIMER_NONE },
    { LW_DONE, LC_LEND, 1 }, { LW_DONE, LC_SENT1, CL_ERR_ARG },
    { LW_DONE, LC_FEED_FLAG, 0 }, { LW_DONE, LC_TAKE, CL_OK },
    { LW_DONE, LC_CAN_SEND, 1 }, { LW_DONE, LC_SEND, CL_OK },
    { LW_DONE, LC_TIMEOUT, CL_OK }, { LW_DONE, LC_ERROR, CL_OK },
    /* dead: the sticky error */
    { LW_FAILED, LC_WANT, CL_WANT_FAILED }, { LW_FAILED, LC_TIMER, CL_TIMER_NONE },
    { LW_FAILED, LC_LEND, 0 }, { LW_FAILED, LC_SENT1, CL_ERR_ARG },
    { LW_FAILED, LC_FEED_FLAG, CL_ERR_PROTOCOL }, { LW_FAILED, LC_TAKE, CL_ERR_STATE },
    { LW_FAILED, LC_CAN_SEND, 0 }, { LW_FAILED, LC_SEND, CL_ERR_PROTOCOL },
    { LW_FAILED, LC_TIMEOUT, CL_ERR_PROTOCOL }, { LW_FAILED, LC_ERROR, CL_ERR_PROTOCOL },
    /* freed: every byte zero */
    { LW_FREED, LC_WANT, CL_WANT_IDLE }, { LW_FREED, LC_TIMER, CL_TIMER_NONE },
    { LW_FREED, LC_LEND, 0 }, { LW_FREED, LC_SENT1, CL_ERR_ARG },
    { LW_FREED, LC_FEED_FLAG, 1 }, { LW_FREED, LC_TAKE, CL_ERR_STATE },
    { LW_FREED, LC_CAN_SEND, 1 }, { LW_FREED, LC_SEND, CL_ERR_TOO_LONG },
    { LW_FREED, LC_TIMEOUT, CL_OK }, { LW_FREED, LC_ERROR, CL_OK },
};

static struct cl_relay_lossy *lw_put(unsigned state)
{
    const uint8_t *p;
    uint8_t buf[64];
    size_t n;

    if (state == LW_NULL)
        return NULL;
    lp_init(&L, 1, 2);
    switch (state) {
    case LW_SEND:
        ck_assert_int_eq(cl_relay_lossy_send(&L.a, 0, (const uint8_t *)"x", 1), CL_OK);
        break;
    case LW_LENT:
        ck_assert_int_eq(cl_relay_lossy_send(&L.a, 0, (const uint8_t *)"x", 1), CL_OK);
        ck_assert_uint_eq(cl_relay_lossy_lend(&L.a, 0, &p), 1);   /* the opening flag */
        break;
    case LW_RECV:
        ck_assert_int_eq(cl_relay_lossy_send(&L.a, 0, (const uint8_t *)"x", 1), CL_OK);
        while (cl_relay_lossy_pull(&L.a, 0, buf, sizeof(buf)) > 0)
            continue;
        break;
    case LW_DONE:
        ck_assert_int_eq(cl_relay_lossy_send(&L.b, 0, (const uint8_t *)"y", 1), CL_OK);
        n = cl_relay_lossy_pull(&L.b, 0, buf, sizeof(buf));
        ck_assert_int_eq(cl_relay_lossy_feed(&L.a, 0, buf, n), (int)n);   /* not taken */
        ck_assert_int_eq(cl_relay_lossy_want(&L.a), CL_WANT_DONE);
        break;
    case LW_FAILED: {
        /* b's seq 0 delivered, then a restarted b (epoch 9) sends seq 0 */
        struct cl_relay_lossy_config c = { 100, 3, 9, 0 };
        ck_assert_int_eq(cl_relay_lossy_send(&L.b, 0, (const uint8_t *)"y", 1), CL_OK);
        ck_assert_int_eq(move(&L.b, &L.a, 0, false, NULL, NULL), 1);
        cl_relay_lossy_init(&L.b, &c, L.brx, sizeof(L.brx), L.btx, sizeof(L.btx));
        ck_assert_int_eq(cl_relay_lossy_send(&L.b, 0, (const uint8_t *)"z", 1), CL_OK);
        n = cl_relay_lossy_pull(&L.b, 0, buf, sizeof(buf));
        ck_assert_int_eq(cl_relay_lossy_feed(&L.a, 0, buf, n), CL_ERR_PROTOCOL);
        break;
    }
    case LW_FREED:
        cl_relay_lossy_free(&L.a);
        break;
    default:
        break;
    }
    return &L.a;
}

START_TEST(test_lossy_wall)
{
    static const uint8_t flag = 0x7E;
    bool seen[LW_STATES][LC_CALLS];
    const uint8_t *p;
    size_t i, len;
    long got = 0;

    memset(seen, 0, sizeof(seen));
    for (i = 0; i < CL_ARRAY_LEN(lossy_wall); i++) {
        struct cl_relay_lossy *l = lw_put(lossy_wall[i].state);

        seen[lossy_wall[i].state][lossy_wall[i].call] = true;
        switch (lossy_wall[i].call) {
        case LC_WANT: got = (long)cl_relay_lossy_want(l); break;
        case LC_TIMER: got = (long)cl_relay_lossy_timer(l, 0); break;
        case LC_LEND: got = (long)cl_relay_lossy_lend(l, 0, &p); break;
        case LC_SENT1: got = cl_relay_lossy_sent(l, 1); break;
        case LC_FEED_FLAG: got = cl_relay_lossy_feed(l, 0, &flag, 1); break;
        case LC_TAKE: got = cl_relay_lossy_take(l, &p, &len); break;
        case LC_CAN_SEND: got = cl_relay_lossy_can_send(l); break;
        case LC_SEND: got = cl_relay_lossy_send(l, 0, (const uint8_t *)"w", 1); break;
        case LC_TIMEOUT: got = cl_relay_lossy_timeout(l, 0); break;
        case LC_ERROR: got = cl_relay_lossy_error(l); break;
        default: ck_abort_msg("row %zu: no such call", i);
        }
        ck_assert_msg(got == lossy_wall[i].expected, "row %zu (state %u, call %u): got %ld, want %ld",
                      i, lossy_wall[i].state, lossy_wall[i].call, got, lossy_wall[i].expected);
    }
    cl_assert_wall_complete(&seen[0][0], LW_STATES, LC_CALLS);
}
END_TEST

START_TEST(test_exchange_bytewise)
{
    uint8_t msg[200], got[300];
    size_t glen, i;
    int r;

    lp_init(&L, 1, 2);
    for (r = 0; r < 300; r++) {
        size_t len = 1 + (size_t)(r * 37) % sizeof(msg);
        for (i = 0; i < len; i++)
            msg[i] = (uint8_t)(r + i * 11);   /* includes 7D and 7E */
        ck_assert_int_eq(cl_relay_lossy_send(&L.a, 0, msg, len), CL_OK);
        ck_assert_int_eq(cl_relay_lossy_send(&L.a, 0, msg, len), CL_ERR_STATE);
        ck_assert_int_eq(move(&L.a, &L.b, 0, r & 1, got, &glen), 1);
        ck_assert_uint_eq(glen, len);
        ck_assert_mem_eq(got, msg, len);
        ck_assert_int_eq(move(&L.b, &L.a, 0, r & 1, NULL, NULL), 0);
        ck_assert(cl_relay_lossy_can_send(&L.a));
    }
    ck_assert_uint_eq(cl_relay_lossy_stats(&L.b)->delivered, 300);
    ck_assert_uint_eq(cl_relay_lossy_stats(&L.a)->retransmits, 0);
    /* 300 delivered in order over an 8-bit seq: it wrapped */
}
END_TEST

/* Corrupt frames are dropped and counted; the engine keeps working. */
static const struct {
    const char *content;  /* unescaped content without CRC ("" = none) */
    bool crc_ok;
    const char *why;
    int counter;          /* 0 bad_frame, 1 bad_crc */
} bad_frames[] = {
    { "01 00 00", true, "shorter than 6 bytes", 0 },
    { "01 00 00 00 C1 03 00 00 00 00 00 00", false, "bad CRC", 1 },
    { "05 00 00 00 C1 03 00 00 00 00 00 00", true, "reserved ctl bit 2", 0 },
    { "80 00 00 00 C1 03 00 00 00 00 00 00", true, "reserved ctl bit 7", 0 },
    { "00 00 00 00", true, "neither DATA nor ACK", 0 },
    { "01 00 00 00", true, "DATA without payload", 0 },
    { "02 00 00 00 C1", true, "payload without DATA", 0 },
    { "02 00 01 00", true, "ACK-only with seq", 0 },
    { "01 00 00 05 C1", true, "ack without ACK", 0 },
    { "01 03 00 00 C1", true, "ack epoch without ACK", 0 },
};

START_TEST(test_bad_frames)
{
    uint8_t c[64], f[128];
    int n = cl_test_hex(bad_frames[_i].content, c, sizeof(c));
    size_t fl, used, mlen;
    uint16_t crc;
    const uint8_t *m;
    const struct cl_relay_lossy_stats *st;
    uint32_t ctr;

    ck_assert_int_ge(n, 0);
    crc = cl_crc16(c, (size_t)n);
    if (!bad_frames[_i].crc_ok)
        crc ^= 1;
    c[n] = (uint8_t)crc;
    c[n + 1] = (uint8_t)(crc >> 8);
    f[0] = 0x7E;
    memcpy(f + 1, c, (size_t)n + 2);   /* none of the vectors needs escaping */
    f[n + 3] = 0x7E;
    fl = (size_t)n + 4;
    lp_init(&L, 0, 0);
    ck_assert_int_eq(lfeed(&L.a, 0, f, fl, &used), CL_OK);
    ck_assert_uint_eq(used, fl);
    ck_assert_int_eq(cl_relay_lossy_take(&L.a, &m, &mlen), CL_ERR_STATE);
    st = cl_relay_lossy_stats(&L.a);
    ctr = bad_frames[_i].counter ? st->bad_crc : st->bad_frame;
    ck_assert_msg(ctr == 1, "%s: not counted", bad_frames[_i].why);
    ck_assert_uint_eq(cl_relay_lossy_stats(&L.a)->frames_ok, 0);
    ck_assert_uint_eq(cl_relay_lossy_pull(&L.a, 0, f, sizeof(f)), 0);   /* never answered */
}
END_TEST

/* Escape abort, oversize, bytes before the first flag, empty frames. */
START_TEST(test_delimiting)
{
    uint8_t f[400], c[16];
    size_t n, used, mlen;
    const uint8_t *m;
    static const uint8_t ka[] = { 0xC1, 0x03, 0, 0, 0, 0, 0, 0 };

    lp_init(&L, 0, 0);
    c[0] = 1, c[1] = 0x70, c[2] = 0, c[3] = 0;
    memcpy(c + 4, ka, 8);
    ck_assert_int_eq(cl_relay_lossy_frame(c, c + 4, 8, f + 3, sizeof(f) - 3, &n), CL_OK);
    f[0] = 0x11, f[1] = 0x7E, f[2] = 0x7E;      /* garbage, an empty frame */
    ck_assert_int_eq(lfeed(&L.a, 0, f, n + 3, &used), CL_OK);
    ck_assert_int_eq(cl_relay_lossy_take(&L.a, &m, &mlen), CL_OK);
    ck_assert_uint_eq(mlen, 8);
    ck_assert_int_eq(cl_relay_lossy_take(&L.a, &m, &mlen), CL_ERR_STATE);
    ck_assert_uint_eq(cl_relay_lossy_stats(&L.a)->bad_frame, 0);
    /* 7D 7E: abort */
    {
        static const uint8_t ab[] = { 0x7E, 0x01, 0x00, 0x7D, 0x7E };
        ck_assert_int_eq(lfeed(&L.a, 0, ab, sizeof(ab), &used), CL_OK);
        ck_assert_uint_eq(cl_relay_lossy_stats(&L.a)->bad_frame, 1);
    }
    /* 7D 7D */
    {
        static const uint8_t ab[] = { 0x01, 0x00, 0x7D, 0x7D, 0x5D, 0x00, 0x00, 0x00, 0x7E };
        ck_assert_int_eq(lfeed(&L.a, 0, ab, sizeof(ab), &used), CL_OK);
        ck_assert_uint_eq(cl_relay_lossy_stats(&L.a)->bad_frame, 2);
    }
    /* longer than the receive buffer: still CRC-checked (a good one would
     * be acknowledged, see test_oversize), this one is garbage */
    memset(f, 0x55, sizeof(f));
    f[0] = 0x7E;
    f[sizeof(f) - 1] = 0x7E;
    n = cl_relay_lossy_stats(&L.a)->bad_crc;
    ck_assert_int_eq(lfeed(&L.a, 0, f, sizeof(f), &used), CL_OK);
    ck_assert_uint_eq(cl_relay_lossy_stats(&L.a)->bad_frame, 2);
    ck_assert_uint_eq(cl_relay_lossy_stats(&L.a)->bad_crc, n + 1);
    /* a message longer than the tx buffer */
    ck_assert_int_eq(cl_relay_lossy_send(&L.a, 0, f, sizeof(L.atx) + 1), CL_ERR_TOO_LONG);
    ck_assert_int_eq(cl_relay_lossy_send(&L.a, 0, f, 0), CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_lossy_send(NULL, 0, f, 1), CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_lossy_send(&L.a, 0, NULL, 1), CL_ERR_ARG);
    ck_assert_int_eq(lfeed(&L.a, 0, NULL, 1, &used), CL_ERR_ARG);
    ck_assert_int_eq(lfeed(NULL, 0, f, 1, &used), CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_lossy_take(NULL, &m, &mlen), CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_lossy_timeout(NULL, 0), CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_lossy_frame(NULL, NULL, 0, f, sizeof(f), &n), CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_lossy_frame(c, NULL, 1, f, sizeof(f), &n), CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_lossy_frame(c, NULL, 0, NULL, 4, &n), CL_ERR_ARG);
    ck_assert_uint_eq(cl_relay_lossy_pull(&L.a, 0, NULL, 0), 0);
}
END_TEST

/* A delivered message waits: feed consumes nothing until it is taken. */
START_TEST(test_feed_stops)
{
    uint8_t f[64], c[16];
    size_t n, used, mlen;
    const uint8_t *m;

    lp_init(&L, 0, 0);
    c[0] = 1, c[1] = 0x10, c[2] = 0, c[3] = 0, c[4] = 0xAA;
    ck_assert_int_eq(cl_relay_lossy_frame(c, c + 4, 1, f, sizeof(f), &n), CL_OK);
    c[2] = 1, c[4] = 0xBB;
    ck_assert_int_eq(cl_relay_lossy_frame(c, c + 4, 1, f + n, sizeof(f) - n, &used), CL_OK);
    n += used;
    ck_assert_int_eq(lfeed(&L.a, 0, f, n, &used), CL_OK);
    ck_assert_uint_lt(used, n);
    {
        size_t u2;
        ck_assert_int_eq(lfeed(&L.a, 0, f + used, n - used, &u2), CL_OK);
        ck_assert_uint_eq(u2, 0);
    }
    ck_assert_int_eq(cl_relay_lossy_take(&L.a, &m, &mlen), CL_OK);
    ck_assert_uint_eq(m[0], 0xAA);
    {
        size_t u2;
        ck_assert_int_eq(lfeed(&L.a, 0, f + used, n - used, &u2), CL_OK);
        ck_assert_uint_eq(used + u2, n);
    }
    ck_assert_int_eq(cl_relay_lossy_take(&L.a, &m, &mlen), CL_OK);
    ck_assert_uint_eq(m[0], 0xBB);
    /* one acknowledgement frame covers both: ack 1 */
    n = cl_relay_lossy_pull(&L.a, 0, f, sizeof(f));
    ck_assert_uint_eq(n, 8);
    ck_assert_uint_eq(f[4], 1);
}
END_TEST

/* Lost DATA: retransmitted after RTO 100, 200, 400 ms; after 3 retries the
 * link is dead. Acknowledged retransmission stops the timer. */
START_TEST(test_retransmission)
{
    uint8_t out[64], first[64];
    size_t n, n0;
    uint32_t t = 1000;
    int i;

    lp_init(&L, 1, 2);
    ck_assert_int_eq(cl_relay_lossy_send(&L.a, t, (const uint8_t *)"hello", 5), CL_OK);
    n0 = cl_relay_lossy_pull(&L.a, t, first, sizeof(first));
    ck_assert_uint_gt(n0, 0);
    for (i = 0; i < 3; i++) {
        uint32_t rto = 100u << i;
        ck_assert_uint_eq(cl_relay_lossy_timer(&L.a, t), rto);
        ck_assert_int_eq(cl_relay_lossy_timeout(&L.a, t + rto - 1), CL_OK);
        ck_assert_uint_eq(cl_relay_lossy_pull(&L.a, t + rto - 1, out, sizeof(out)), 0);
        t += rto;
        ck_assert_uint_eq(cl_relay_lossy_timer(&L.a, t), 0);
        ck_assert_int_eq(cl_relay_lossy_timeout(&L.a, t), CL_OK);
        n = cl_relay_lossy_pull(&L.a, t, out, sizeof(out));
        ck_assert_uint_eq(n, n0);
        ck_assert_mem_eq(out, first, n);     /* unchanged */
    }
    ck_assert_uint_eq(cl_relay_lossy_stats(&L.a)->retransmits, 3);
    t += 800;
    ck_assert_int_eq(cl_relay_lossy_timeout(&L.a, t), CL_ERR_TIMEOUT);
    ck_assert_int_eq(cl_relay_lossy_error(&L.a), CL_ERR_TIMEOUT);
    ck_assert(!cl_relay_lossy_can_send(&L.a));
    ck_assert_int_eq(cl_relay_lossy_send(&L.a, t, out, 1), CL_ERR_TIMEOUT);
    ck_assert_uint_eq(cl_relay_lossy_pull(&L.a, t, out, sizeof(out)), 0);
    ck_assert_uint_eq(cl_relay_lossy_timer(&L.a, t), CL_TIMER_NONE);
    {
        size_t used;
        ck_assert_int_eq(lfeed(&L.a, t, out, 1, &used), CL_ERR_TIMEOUT);
    }
    /* now with the second copy arriving: delivered once, acked twice */
    lp_init(&L, 1, 2);
    ck_assert_int_eq(cl_relay_lossy_send(&L.a, t, (const uint8_t *)"hello", 5), CL_OK);
    n0 = cl_relay_lossy_pull(&L.a, t, first, sizeof(first));
    ck_assert_int_eq(cl_relay_lossy_timeout(&L.a, t + 100), CL_OK);
    n = cl_relay_lossy_pull(&L.a, t + 100, out, sizeof(out));
    {
        size_t used, ml;
        const uint8_t *m;
        ck_assert_int_eq(lfeed(&L.b, t, first, n0, &used), CL_OK);
        ck_assert_int_eq(cl_relay_lossy_take(&L.b, &m, &ml), CL_OK);
        ck_assert_int_eq(lfeed(&L.b, t, out, n, &used), CL_OK);
        ck_assert_int_eq(cl_relay_lossy_take(&L.b, &m, &ml), CL_ERR_STATE);
        ck_assert_uint_eq(cl_relay_lossy_stats(&L.b)->duplicates, 1);
    }
    ck_assert_int_eq(move(&L.b, &L.a, t + 150, false, NULL, NULL), 0);
    ck_assert(cl_relay_lossy_can_send(&L.a));
    ck_assert_uint_eq(cl_relay_lossy_timer(&L.a, t + 150), CL_TIMER_NONE);
}
END_TEST

/* Epochs: a peer restart is reported; other-epoch frames are dropped; an
 * acknowledgement for another epoch does not release the message. */
START_TEST(test_epochs)
{
    struct cl_relay_lossy c;
    uint8_t crx[64], ctx[64], out[64], hdr[4];
    struct cl_relay_lossy_config cc = { 100, 3, 9, 0 };
    size_t n, used;

    lp_init(&L, 1, 2);
    ck_assert_int_eq(cl_relay_lossy_send(&L.a, 0, (const uint8_t *)"x", 1), CL_OK);
    ck_assert_int_eq(move(&L.a, &L.b, 0, false, NULL, NULL), 1);
    /* an ack naming epoch 4 (not a's 1): ignored */
    hdr[0] = 2, hdr[1] = 0x24, hdr[2] = 0, hdr[3] = 0;
    ck_assert_int_eq(cl_relay_lossy_frame(hdr, NULL, 0, out, sizeof(out), &n), CL_OK);
    ck_assert_int_eq(lfeed(&L.a, 0, out, n, &used), CL_OK);
    ck_assert(!cl_relay_lossy_can_send(&L.a));
    ck_assert_int_eq(move(&L.b, &L.a, 0, false, NULL, NULL), 0);
    ck_assert(cl_relay_lossy_can_send(&L.a));
    /* a DATA seq 1 from another epoch: dropped */
    hdr[0] = 1, hdr[1] = 0x90, hdr[2] = 1, hdr[3] = 0;
    ck_assert_int_eq(cl_relay_lossy_frame(hdr, (const uint8_t *)"y", 1, out, sizeof(out), &n), CL_OK);
    ck_assert_int_eq(lfeed(&L.b, 0, out, n, &used), CL_OK);
    ck_assert_uint_eq(cl_relay_lossy_stats(&L.b)->delivered, 1);
    /* a fresh receiver ignores DATA that is not seq 0 */
    cl_relay_lossy_init(&c, &cc, crx, sizeof(crx), ctx, sizeof(ctx));
    ck_assert_int_eq(lfeed(&c, 0, out, n, &used), CL_OK);
    ck_assert_uint_eq(cl_relay_lossy_stats(&c)->delivered, 0);
    ck_assert_uint_eq(cl_relay_lossy_pull(&c, 0, out, sizeof(out)), 0);
    /* a restarted a (epoch 9) sends seq 0: b reports the restart */
    ck_assert_int_eq(cl_relay_lossy_send(&c, 0, (const uint8_t *)"z", 1), CL_OK);
    n = cl_relay_lossy_pull(&c, 0, out, sizeof(out));
    ck_assert_int_eq(lfeed(&L.b, 0, out, n, &used), CL_ERR_PROTOCOL);
    ck_assert_int_eq(cl_relay_lossy_error(&L.b), CL_ERR_PROTOCOL);
    ck_assert_int_eq(cl_relay_lossy_timeout(&L.b, 0), CL_ERR_PROTOCOL);
}
END_TEST

/* §13.3: once in step, a frame of another sender epoch is dropped whole,
 * its acknowledgement too (it once released the outstanding message). */
START_TEST(test_epoch_ack_dropped)
{
    uint8_t out[64], hdr[4];
    size_t n, used;

    lp_init(&L, 1, 2);
    ck_assert_int_eq(cl_relay_lossy_send(&L.a, 0, (const uint8_t *)"x", 1), CL_OK);
    ck_assert_int_eq(move(&L.a, &L.b, 0, false, NULL, NULL), 1);
    ck_assert_int_eq(cl_relay_lossy_send(&L.b, 0, (const uint8_t *)"q", 1), CL_OK);
    ck_assert_int_eq(move(&L.b, &L.a, 0, false, NULL, NULL), 1);   /* a in step with 2 */
    ck_assert(cl_relay_lossy_can_send(&L.a));
    ck_assert_int_eq(cl_relay_lossy_send(&L.a, 0, (const uint8_t *)"y", 1), CL_OK);
    n = cl_relay_lossy_pull(&L.a, 0, out, sizeof(out));             /* DATA seq 1, lost */
    ck_assert_uint_gt(n, 0);
    ck_assert_int_eq(cl_relay_lossy_want(&L.a), CL_WANT_RECV);
    /* ACK of a's seq 1 naming a's epoch, sent by epoch 7: dropped */
    hdr[0] = CL_LOSSY_CTL_ACK, hdr[1] = 0x71, hdr[2] = 0, hdr[3] = 1;
    ck_assert_int_eq(cl_relay_lossy_frame(hdr, NULL, 0, out, sizeof(out), &n), CL_OK);
    ck_assert_int_eq(lfeed(&L.a, 0, out, n, &used), CL_OK);
    ck_assert(!cl_relay_lossy_can_send(&L.a));
    /* the same from epoch 2: taken */
    hdr[1] = 0x21;
    ck_assert_int_eq(cl_relay_lossy_frame(hdr, NULL, 0, out, sizeof(out), &n), CL_OK);
    ck_assert_int_eq(lfeed(&L.a, 0, out, n, &used), CL_OK);
    ck_assert(cl_relay_lossy_can_send(&L.a));
    ck_assert_int_eq(cl_relay_lossy_want(&L.a), CL_WANT_IDLE);
}
END_TEST

/* A message larger than the receive buffer: CRC-checked on the fly and
 * acknowledged (its seq used), handed out as CL_ERR_TOO_LONG with its
 * start, so the link lives on; with a bad CRC it is dropped. */
START_TEST(test_oversize)
{
    struct cl_relay_lossy a, b;
    struct cl_relay_lossy_config ca = { 100, 2, 1, 0 }, cb = { 100, 2, 2, 0 };
    uint8_t arx[64], atx[64], brx[CL_LOSSY_RX_SIZE(14)], btx[64], out[128], msg[40];
    const uint8_t *m;
    size_t n, used, mlen, i;

    for (i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(0x70 + i);                /* 7D and 7E inside */
    cl_relay_lossy_init(&a, &ca, arx, sizeof(arx), atx, sizeof(atx));
    cl_relay_lossy_init(&b, &cb, brx, sizeof(brx), btx, sizeof(btx));
    ck_assert_int_eq(cl_relay_lossy_send(&a, 0, msg, sizeof(msg)), CL_OK);
    n = cl_relay_lossy_pull(&a, 0, out, sizeof(out));
    /* corrupted in the part that is not kept: dropped */
    out[n - 6] ^= 0x01;
    ck_assert_int_eq(lfeed(&b, 0, out, n, &used), CL_OK);
    ck_assert_uint_eq(cl_relay_lossy_stats(&b)->bad_crc, 1);
    ck_assert_int_eq(cl_relay_lossy_take(&b, &m, &mlen), CL_ERR_STATE);
    out[n - 6] ^= 0x01;
    ck_assert_int_eq(lfeed(&b, 0, out, n, &used), CL_OK);
    ck_assert_int_eq(cl_relay_lossy_want(&b), CL_WANT_DONE);
    ck_assert_int_eq(cl_relay_lossy_take(&b, &m, &mlen), CL_ERR_TOO_LONG);
    ck_assert_uint_eq(mlen, 16);                      /* all the buffer holds */
    ck_assert_mem_eq(m, msg, 16);
    ck_assert_uint_eq(cl_relay_lossy_stats(&b)->oversize, 1);
    ck_assert_uint_eq(cl_relay_lossy_stats(&b)->delivered, 0);
    n = cl_relay_lossy_pull(&b, 0, out, sizeof(out));            /* its ACK */
    ck_assert_int_eq(lfeed(&a, 0, out, n, &used), CL_OK);
    ck_assert(cl_relay_lossy_can_send(&a));
    /* the next message fits */
    ck_assert_int_eq(cl_relay_lossy_send(&a, 0, msg, 14), CL_OK);
    n = cl_relay_lossy_pull(&a, 0, out, sizeof(out));
    ck_assert_int_eq(lfeed(&b, 0, out, n, &used), CL_OK);
    ck_assert_int_eq(cl_relay_lossy_take(&b, &m, &mlen), CL_OK);
    ck_assert_uint_eq(mlen, 14);
    ck_assert_uint_eq(cl_relay_lossy_stats(&b)->delivered, 1);
}
END_TEST

/* lend/sent: the frame in pieces straight from the engine (flags, runs,
 * escape pairs), partial acknowledgements even inside an escape pair, and
 * the bytes are those of cl_relay_lossy_frame(). */
START_TEST(test_lend_pieces)
{
    struct cl_relay_lossy a;
    uint8_t arx[64], atx[64], out[128], ref[128], hdr[4] = { 1, 0x30, 0, 0 };
    static const uint8_t msg[] = { 0xC1, 0x7E, 0x03, 0x7D, 0x7D, 0x00 };
    const uint8_t *p;
    size_t n = 0, k, rn;
    int pieces = 0;

    cl_relay_lossy_init(&a, NULL, arx, sizeof(arx), atx, sizeof(atx));
    a.epoch = 3;
    ck_assert_int_eq(cl_relay_lossy_want(&a), CL_WANT_IDLE);
    ck_assert_uint_eq(cl_relay_lossy_lend(&a, 0, &p), 0);
    ck_assert_ptr_null(p);
    ck_assert_int_eq(cl_relay_lossy_sent(&a, 1), CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_lossy_send(&a, 0, msg, sizeof(msg)), CL_OK);
    ck_assert_int_eq(cl_relay_lossy_want(&a), CL_WANT_SEND);
    while ((k = cl_relay_lossy_lend(&a, 0, &p)) > 0) {
        pieces++;
        ck_assert_int_eq(cl_relay_lossy_sent(&a, k + 1), CL_ERR_ARG);
        out[n++] = p[0];                       /* one byte at a time */
        ck_assert_int_eq(cl_relay_lossy_sent(&a, 1), CL_OK);
    }
    ck_assert_int_eq(cl_relay_lossy_frame(hdr, msg, sizeof(msg), ref, sizeof(ref), &rn), CL_OK);
    ck_assert_uint_eq(n, rn);
    ck_assert_mem_eq(out, ref, n);
    ck_assert_int_eq(pieces, (int)n);
    /* whole pieces: fewer than bytes, the same frame again (a retransmission) */
    ck_assert_int_eq(cl_relay_lossy_timeout(&a, 2000), CL_OK);
    n = 0;
    pieces = 0;
    while ((k = cl_relay_lossy_lend(&a, 2000, &p)) > 0) {
        memcpy(out + n, p, k);
        n += k;
        pieces++;
        ck_assert_int_eq(cl_relay_lossy_sent(&a, k), CL_OK);
    }
    ck_assert_uint_eq(n, rn);
    ck_assert_mem_eq(out, ref, n);
    ck_assert_int_lt(pieces, (int)n);
    /* a third time, each piece acknowledged in two parts: what is left of
     * a piece is what was lent less what went out (an escape pair's second
     * half alone, 1 byte) */
    ck_assert_int_eq(cl_relay_lossy_timeout(&a, 6000), CL_OK);
    n = 0;
    while ((k = cl_relay_lossy_lend(&a, 6000, &p)) > 0) {
        bool pair = k == 2 && p[0] == 0x7D;
        out[n++] = p[0];
        ck_assert_int_eq(cl_relay_lossy_sent(&a, 1), CL_OK);
        if (k == 1)
            continue;
        if (!pair) {
            ck_assert_int_eq(cl_relay_lossy_sent(&a, k), CL_ERR_ARG);   /* k - 1 left */
            memcpy(out + n, p + 1, k - 1);
            n += k - 1;
            ck_assert_int_eq(cl_relay_lossy_sent(&a, k - 1), CL_OK);
            continue;
        }
        k = cl_relay_lossy_lend(&a, 6000, &p);
        ck_assert_uint_eq(k, 1);
        out[n++] = p[0];
        ck_assert_int_eq(cl_relay_lossy_sent(&a, 1), CL_OK);
    }
    ck_assert_uint_eq(n, rn);
    ck_assert_mem_eq(out, ref, n);
    ck_assert_uint_eq(cl_relay_lossy_frame(hdr, msg, sizeof(msg), ref, rn - 1, &rn), CL_ERR_BUFFER);
    ck_assert_uint_eq(rn, n);
    ck_assert_uint_eq(cl_relay_lossy_frame(hdr, msg, sizeof(msg), ref, rn, &rn), CL_OK);
    ck_assert_uint_eq(rn, n);   /* exactly the size needed */
    ck_assert_int_eq(cl_relay_lossy_frame(hdr, msg, sizeof(msg), NULL, 1, &rn), CL_ERR_ARG);
    /* the NULL contract */
    ck_assert_int_eq(cl_relay_lossy_want(NULL), CL_WANT_FAILED);
    ck_assert_uint_eq(cl_relay_lossy_lend(NULL, 0, &p), 0);
    ck_assert_int_eq(cl_relay_lossy_sent(NULL, 1), CL_ERR_ARG);
    ck_assert_uint_eq(cl_relay_lossy_pull(NULL, 0, out, 1), 0);
    ck_assert_uint_eq(cl_relay_lossy_timer(NULL, 0), CL_TIMER_NONE);
    ck_assert_int_eq(cl_relay_lossy_timeout(NULL, 0), CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_lossy_error(NULL), CL_ERR_ARG);
    ck_assert_ptr_null(cl_relay_lossy_stats(NULL));
    ck_assert(!cl_relay_lossy_can_send(NULL));
    cl_relay_lossy_init(NULL, NULL, NULL, 0, NULL, 0);
    cl_relay_lossy_free(NULL);
    cl_relay_lossy_free(&a);
    ck_assert_uint_eq(a.tx_len, 0);
    ck_assert_ptr_null(a.tx);
}
END_TEST

/* A channel that drops, duplicates, reorders and corrupts: 500 messages
 * each way arrive once and in order. */
static uint32_t rng;
static unsigned rnd(void)
{
    rng = rng * 1103515245u + 12345u;
    return (rng >> 16) & 0x7FFF;
}

struct chunk {
    uint8_t b[700];
    size_t n;
};

START_TEST(test_faulty_channel)
{
    static struct chunk q[2][64];
    size_t nq[2] = { 0, 0 };
    struct cl_relay_lossy *ends[2] = { &L.a, &L.b };
    unsigned sent[2] = { 0, 0 }, recv[2] = { 0, 0 };
    uint32_t now = 0;
    int steps, d;

    rng = 12345u + (uint32_t)_i;
    lp_init(&L, 3, 4);
    L.a.max_retries = L.b.max_retries = 20;
    for (steps = 0; steps < 200000 && (recv[0] < 500 || recv[1] < 500); steps++) {
        for (d = 0; d < 2; d++) {
            struct cl_relay_lossy *from = ends[d], *to = ends[1 - d];
            uint8_t msg[200], buf[700];
            size_t n, off = 0, used, ml;
            const uint8_t *m;
            if (sent[d] < 500 && cl_relay_lossy_can_send(from)) {
                size_t len = 1 + (sent[d] * 13u) % 150u, i;
                for (i = 0; i < len; i++)
                    msg[i] = (uint8_t)(sent[d] + i);
                msg[0] = (uint8_t)sent[d];
                if (len > 1)
                    msg[1] = (uint8_t)(sent[d] >> 8);
                ck_assert_int_eq(cl_relay_lossy_send(from, now, msg, len), CL_OK);
                sent[d]++;
            }
            n = cl_relay_lossy_pull(from, now, buf, sizeof(buf));
            if (n > 0 && rnd() % 100 >= 15 && nq[d] < 60) {
                memcpy(q[d][nq[d]].b, buf, n);
                q[d][nq[d]].n = n;
                if (rnd() % 100 < 5)
                    q[d][nq[d]].b[rnd() % n] ^= (uint8_t)(1u << (rnd() % 8));
                nq[d]++;
                if (nq[d] >= 2 && rnd() % 100 < 10) {
                    struct chunk t = q[d][nq[d] - 1];
                    q[d][nq[d] - 1] = q[d][nq[d] - 2];
                    q[d][nq[d] - 2] = t;
                }
                if (rnd() % 100 < 5 && nq[d] < 60) {
                    q[d][nq[d]] = q[d][nq[d] - 1];
                    nq[d]++;
                }
            }
            if (nq[d] > 0 && rnd() % 2 == 0) {
                struct chunk k = q[d][0];
                memmove(&q[d][0], &q[d][1], (nq[d] - 1) * sizeof(q[d][0]));
                nq[d]--;
                while (off < k.n) {
                    ck_assert_int_eq(lfeed(to, now, k.b + off, k.n - off, &used), CL_OK);
                    off += used;
                    if (cl_relay_lossy_take(to, &m, &ml) == CL_OK) {
                        unsigned idx = ml > 1 ? (unsigned)m[0] | (unsigned)m[1] << 8 : m[0];
                        if (ml == 1)
                            idx = m[0] | (recv[1 - d] & ~0xFFu);
                        ck_assert_uint_eq(idx, recv[1 - d]);
                        ck_assert_uint_eq(ml, 1 + (recv[1 - d] * 13u) % 150u);
                        recv[1 - d]++;
                    }
                }
            }
            ck_assert_int_eq(cl_relay_lossy_timeout(from, now), CL_OK);
        }
        now += 10;
    }
    ck_assert_uint_eq(recv[0], 500);
    ck_assert_uint_eq(recv[1], 500);
    ck_assert_uint_gt(cl_relay_lossy_stats(&L.a)->retransmits + cl_relay_lossy_stats(&L.b)->retransmits, 10);
    ck_assert_uint_gt(cl_relay_lossy_stats(&L.a)->bad_crc + cl_relay_lossy_stats(&L.b)->bad_crc + cl_relay_lossy_stats(&L.a)->bad_frame +
                          cl_relay_lossy_stats(&L.b)->bad_frame, 0);
    ck_assert_uint_gt(cl_relay_lossy_stats(&L.a)->duplicates + cl_relay_lossy_stats(&L.b)->duplicates, 0);
}
END_TEST

/* ------------------------------------------------------------ ARQ edges
 * (the faults one-at-a-time mutation of lib/relay/relay_lossy.c left
 * unseen; docs/testing.md) */

/* Count the retransmissions a's outstanding message gets before the link
 * fails (nothing comes back); t is advanced. */
static unsigned retransmissions_until_dead(struct cl_relay_lossy *a, uint32_t *t)
{
    uint8_t out[128];
    unsigned k = 0;

    while (cl_relay_lossy_pull(a, *t, out, sizeof(out)) > 0) {
    }
    for (;;) {
        uint32_t w = cl_relay_lossy_timer(a, *t);
        ck_assert_uint_ne(w, CL_TIMER_NONE);
        *t += w;
        if (cl_relay_lossy_timeout(a, *t) != CL_OK)
            return k;
        ck_assert_uint_gt(cl_relay_lossy_pull(a, *t, out, sizeof(out)), 0);
        k++;
        ck_assert_uint_lt(k, 100);
    }
}

/* The defaults (cfg NULL): 5 retransmissions, the first after 2 s. */
START_TEST(test_defaults)
{
    uint32_t t = 0;
    uint8_t out[64];

    cl_relay_lossy_init(&L.a, NULL, L.arx, sizeof(L.arx), L.atx, sizeof(L.atx));
    ck_assert_int_eq(cl_relay_lossy_send(&L.a, t, (const uint8_t *)"x", 1), CL_OK);
    ck_assert_uint_gt(cl_relay_lossy_pull(&L.a, t, out, sizeof(out)), 0);
    ck_assert_uint_eq(cl_relay_lossy_timer(&L.a, t), CL_LOSSY_RTO_DEFAULT);
    ck_assert_uint_eq(retransmissions_until_dead(&L.a, &t), CL_LOSSY_RETRIES_DEFAULT);
    ck_assert_int_eq(cl_relay_lossy_error(&L.a), CL_ERR_TIMEOUT);
}
END_TEST

/* A capped RTO (a slow radio's profile): the waits double up to
 * rto_max_ms and stay there for the remaining tries; a cap at or below
 * rto_ms means no doubling; the next message starts from rto_ms again. */
START_TEST(test_rto_cap)
{
    static const struct {
        uint32_t rto, cap;
        uint32_t waits[7];
    } rows[] = {
        { 100, 300, { 100, 200, 300, 300, 300, 300, 300 } },
        { 100, 400, { 100, 200, 400, 400, 400, 400, 400 } },
        { 100, 100, { 100, 100, 100, 100, 100, 100, 100 } },
        { 100, 50, { 100, 100, 100, 100, 100, 100, 100 } },
        { 100, 0, { 100, 200, 400, 800, 1600, 3200, 6400 } },
        { 0x30000000u, 0, { 0x30000000u, 0x40000000u, 0x40000000u, 0x40000000u,
                            0x40000000u, 0x40000000u, 0x40000000u } },
        { 100, 0xFFFFFFFFu, { 100, 200, 400, 800, 1600, 3200, 6400 } },
        { 100, 1, { 100, 100, 100, 100, 100, 100, 100 } },          /* the smallest cap */
        { 100, 250, { 100, 200, 250, 250, 250, 250, 250 } },        /* not a power of 2 */
        { 0x30000000u, 0x40000001u, { 0x30000000u, 0x40000000u, 0x40000000u, 0x40000000u,
                                      0x40000000u, 0x40000000u, 0x40000000u } },  /* over 2^30 */
    };
    unsigned r, i;

    for (r = 0; r < CL_ARRAY_LEN(rows); r++) {
        struct cl_relay_lossy_config c = { rows[r].rto, 6, 1, rows[r].cap };
        uint8_t out[64];
        uint32_t t = 5000;
        char where[32];

        snprintf(where, sizeof(where), "row %u", r);
        cl_relay_lossy_init(&L.a, &c, L.arx, sizeof(L.arx), L.atx, sizeof(L.atx));
        ck_assert_int_eq(cl_relay_lossy_send(&L.a, t, (const uint8_t *)"x", 1), CL_OK);
        ck_assert_uint_gt(cl_relay_lossy_pull(&L.a, t, out, sizeof(out)), 0);
        for (i = 0; i < 7; i++) {
            uint32_t w = cl_relay_lossy_timer(&L.a, t);
            ck_assert_msg(w == rows[r].waits[i], "%s wait %u: %u", where, i, (unsigned)w);
            t += w;
            if (i == 6)
                break;
            ck_assert_int_eq(cl_relay_lossy_timeout(&L.a, t), CL_OK);
            ck_assert_uint_gt(cl_relay_lossy_pull(&L.a, t, out, sizeof(out)), 0);
        }
        ck_assert_int_eq(cl_relay_lossy_timeout(&L.a, t), CL_ERR_TIMEOUT);
    }
    /* acknowledged at the cap: the next message waits rto_ms first */
    {
        struct cl_relay_lossy_config c = { 100, 6, 1, 300 };
        uint8_t out[64];
        uint32_t t = 1000;
        unsigned k;

        lp_init(&L, 1, 2);
        cl_relay_lossy_init(&L.a, &c, L.arx, sizeof(L.arx), L.atx, sizeof(L.atx));
        ck_assert_int_eq(cl_relay_lossy_send(&L.a, t, (const uint8_t *)"one", 3), CL_OK);
        ck_assert_uint_gt(cl_relay_lossy_pull(&L.a, t, out, sizeof(out)), 0);
        for (k = 0; k < 3; k++) {
            t += cl_relay_lossy_timer(&L.a, t);
            ck_assert_int_eq(cl_relay_lossy_timeout(&L.a, t), CL_OK);
            ck_assert_uint_gt(cl_relay_lossy_pull(&L.a, t, out, sizeof(out)), 0);
        }
        ck_assert_uint_eq(cl_relay_lossy_timer(&L.a, t), 300);   /* at the cap */
        t += 300;
        ck_assert_int_eq(cl_relay_lossy_timeout(&L.a, t), CL_OK);
        ck_assert_int_eq(move(&L.a, &L.b, t, false, NULL, NULL), 1);
        ck_assert_int_eq(move(&L.b, &L.a, t, false, NULL, NULL), 0);
        ck_assert(cl_relay_lossy_can_send(&L.a));
        ck_assert_int_eq(cl_relay_lossy_send(&L.a, t, (const uint8_t *)"two", 3), CL_OK);
        ck_assert_uint_gt(cl_relay_lossy_pull(&L.a, t, out, sizeof(out)), 0);
        ck_assert_uint_eq(cl_relay_lossy_timer(&L.a, t), 100);
    }
}
END_TEST

/* The time a link tries one message: the sum of its waits. */
START_TEST(test_patience)
{
    struct cl_relay_lossy_config c = { 100, 3, 0, 0 };
    uint32_t t = 0;
    uint8_t out[64];

    ck_assert_uint_eq(cl_relay_lossy_patience(NULL), 126000);       /* 2+4+8+16+32+64 s */
    ck_assert_uint_eq(cl_relay_lossy_patience(&c), 1500);           /* 100+200+400+800 */
    c.rto_max_ms = 300;
    ck_assert_uint_eq(cl_relay_lossy_patience(&c), 900);            /* 100+200+300+300 */
    c.rto_ms = 2000;
    c.rto_max_ms = 8000;
    c.max_retries = 12;
    ck_assert_uint_eq(cl_relay_lossy_patience(&c), 94000);          /* 2+4+8 x 11 */
    c.rto_ms = 0x40000000u;
    c.rto_max_ms = 0;
    c.max_retries = 255;
    ck_assert_uint_eq(cl_relay_lossy_patience(&c), UINT32_MAX);     /* saturated */
    /* and it is what the engine does: dead exactly that long after the send */
    c.rto_ms = 100;
    c.rto_max_ms = 300;
    c.max_retries = 4;
    cl_relay_lossy_init(&L.a, &c, L.arx, sizeof(L.arx), L.atx, sizeof(L.atx));
    ck_assert_int_eq(cl_relay_lossy_send(&L.a, t, (const uint8_t *)"x", 1), CL_OK);
    ck_assert_uint_gt(cl_relay_lossy_pull(&L.a, t, out, sizeof(out)), 0);
    ck_assert_uint_eq(retransmissions_until_dead(&L.a, &t), 4);
    ck_assert_uint_eq(t, cl_relay_lossy_patience(&c));
}
END_TEST

/* An acknowledged message leaves the retry count at zero: the next one
 * gets all of its retransmissions again (3 here), after ones that used
 * some and ones that used none. */
START_TEST(test_retries_per_message)
{
    uint32_t t = 1000;
    uint8_t out[64];

    lp_init(&L, 1, 2);
    /* message 1: one retransmission, then acknowledged */
    ck_assert_int_eq(cl_relay_lossy_send(&L.a, t, (const uint8_t *)"one", 3), CL_OK);
    ck_assert_uint_gt(cl_relay_lossy_pull(&L.a, t, out, sizeof(out)), 0);
    t += 100;
    ck_assert_int_eq(cl_relay_lossy_timeout(&L.a, t), CL_OK);
    ck_assert_int_eq(move(&L.a, &L.b, t, false, NULL, NULL), 1);
    ck_assert_int_eq(move(&L.b, &L.a, t, false, NULL, NULL), 0);
    ck_assert(cl_relay_lossy_can_send(&L.a));
    /* message 2: acknowledged at once */
    ck_assert_int_eq(cl_relay_lossy_send(&L.a, t, (const uint8_t *)"two", 3), CL_OK);
    ck_assert_int_eq(move(&L.a, &L.b, t, false, NULL, NULL), 1);
    ck_assert_int_eq(move(&L.b, &L.a, t, false, NULL, NULL), 0);
    /* message 3: never acknowledged */
    ck_assert_int_eq(cl_relay_lossy_send(&L.a, t, (const uint8_t *)"three", 5), CL_OK);
    ck_assert_uint_eq(retransmissions_until_dead(&L.a, &t), 3);
}
END_TEST

/* A fresh pair (epochs 1 and 2, RTO 100 ms, 3 retries); A sends "x" and
 * its first frame is pulled into first[0..size): its length. */
static size_t a_sends_x(uint32_t t, uint8_t *first, size_t size)
{
    size_t n;

    lp_init(&L, 1, 2);
    ck_assert_int_eq(cl_relay_lossy_send(&L.a, t, (const uint8_t *)"x", 1), CL_OK);
    n = cl_relay_lossy_pull(&L.a, t, first, size);
    ck_assert_uint_gt(n, 0);
    return n;
}

/* A second timeout() before the repeated frame went out is not another
 * retry; the timer is off meanwhile. */
START_TEST(test_timeout_twice)
{
    uint32_t t = 1000;
    uint8_t out[64];

    (void)a_sends_x(t, out, sizeof(out));
    t += 100;
    ck_assert_int_eq(cl_relay_lossy_timeout(&L.a, t), CL_OK);
    ck_assert_uint_eq(cl_relay_lossy_timer(&L.a, t), CL_TIMER_NONE);
    ck_assert_int_eq(cl_relay_lossy_timeout(&L.a, t + 1000), CL_OK);
    ck_assert_uint_eq(cl_relay_lossy_stats(&L.a)->retransmits, 1);
    ck_assert_uint_gt(cl_relay_lossy_pull(&L.a, t, out, sizeof(out)), 0);
    ck_assert_uint_eq(cl_relay_lossy_timer(&L.a, t), 200);   /* doubled, armed by the frame */
}
END_TEST

/* The acknowledgement arrives while the repeat is due but not yet sent:
 * nothing goes out (no stale DATA frame). */
START_TEST(test_ack_cancels_repeat)
{
    uint32_t t = 1000;
    uint8_t first[64], out[64];
    size_t n, used;

    n = a_sends_x(t, first, sizeof(first));
    ck_assert_int_eq(lfeed(&L.b, t, first, n, &used), CL_OK);
    t += 100;
    ck_assert_int_eq(cl_relay_lossy_timeout(&L.a, t), CL_OK);   /* repeat due */
    ck_assert_int_eq(move(&L.b, &L.a, t, false, NULL, NULL), 0);  /* the ACK */
    ck_assert(cl_relay_lossy_can_send(&L.a));
    ck_assert_uint_eq(cl_relay_lossy_pull(&L.a, t, out, sizeof(out)), 0);
    ck_assert_uint_eq(cl_relay_lossy_stats(&L.a)->data_sent, 1);
}
END_TEST

/* A duplicate after our acknowledgement went out (and was lost) is
 * acknowledged again; otherwise the sender would give up. */
START_TEST(test_duplicate_acked_again)
{
    uint32_t t = 1000;
    uint8_t first[64], out[64];
    size_t n, used;

    n = a_sends_x(t, first, sizeof(first));
    ck_assert_int_eq(lfeed(&L.b, t, first, n, &used), CL_OK);
    {
        const uint8_t *m;
        size_t ml;
        ck_assert_int_eq(cl_relay_lossy_take(&L.b, &m, &ml), CL_OK);
    }
    ck_assert_uint_gt(cl_relay_lossy_pull(&L.b, t, out, sizeof(out)), 0);   /* ACK lost */
    ck_assert_uint_eq(cl_relay_lossy_pull(&L.b, t, out, sizeof(out)), 0);
    ck_assert_int_eq(lfeed(&L.b, t, first, n, &used), CL_OK);   /* again */
    ck_assert_uint_eq(cl_relay_lossy_stats(&L.b)->duplicates, 1);
    ck_assert_int_eq(move(&L.b, &L.a, t, false, NULL, NULL), 0);
    ck_assert(cl_relay_lossy_can_send(&L.a));
    ck_assert_uint_eq(cl_relay_lossy_stats(&L.b)->acks_sent, 2);
    ck_assert_uint_eq(cl_relay_lossy_stats(&L.b)->frames_sent, 2);
    ck_assert_uint_eq(cl_relay_lossy_stats(&L.a)->frames_sent, 1);
    ck_assert_uint_eq(cl_relay_lossy_stats(&L.a)->data_sent, 1);
    ck_assert_uint_eq(cl_relay_lossy_stats(&L.a)->acks_sent, 0);
}
END_TEST

/* A message exactly as long as the tx buffer is taken; one byte more is
 * not. sent() beyond what the last lend() gave is refused, also after a
 * lend() that gave nothing. frame() without len is an argument error. */
START_TEST(test_lossy_edges)
{
    static uint8_t msg[300];
    const uint8_t *p;
    uint8_t hdr[4] = { 1, 0, 0, 0 }, out[16];
    size_t n, len = 7;

    lp_init(&L, 1, 2);
    ck_assert_int_eq(cl_relay_lossy_send(&L.a, 0, msg, sizeof(L.atx) + 1), CL_ERR_TOO_LONG);
    ck_assert_int_eq(cl_relay_lossy_send(&L.a, 0, msg, sizeof(L.atx)), CL_OK);
    while ((n = cl_relay_lossy_lend(&L.a, 0, &p)) > 0)
        ck_assert_int_eq(cl_relay_lossy_sent(&L.a, n), CL_OK);
    ck_assert_int_eq(cl_relay_lossy_sent(&L.a, 1), CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_lossy_frame(hdr, msg, 1, out, sizeof(out), NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_lossy_frame(hdr, msg, 1, out, 4, &len), CL_ERR_BUFFER);
    ck_assert_uint_eq(len, 9);   /* 7E, 4 header, 1 payload, 2 CRC, 7E: the size needed */
}
END_TEST

/* The receive window: a frame up to 127 behind the next expected one is a
 * duplicate (acknowledged again), 128 behind is not (dropped unanswered);
 * an engine without buffers takes no message. */
START_TEST(test_duplicate_window)
{
    uint8_t hdr[4] = { CL_LOSSY_CTL_DATA, 0x10, 0, 0 }, f[16], out[64];
    size_t fl, used;
    uint32_t t = 0;
    struct cl_relay_lossy z;
    int i;

    lp_init(&L, 1, 2);
    for (i = 0; i < 130; i++) {                 /* B expects seq 130 next */
        ck_assert_int_eq(cl_relay_lossy_send(&L.a, t, (const uint8_t *)"m", 1), CL_OK);
        ck_assert_int_eq(move(&L.a, &L.b, t, false, NULL, NULL), 1);
        ck_assert_int_eq(move(&L.b, &L.a, t, false, NULL, NULL), 0);
    }
    hdr[2] = 130 - 128;
    ck_assert_int_eq(cl_relay_lossy_frame(hdr, (const uint8_t *)"z", 1, f, sizeof(f), &fl), CL_OK);
    ck_assert_int_eq(lfeed(&L.b, t, f, fl, &used), CL_OK);
    ck_assert_uint_eq(cl_relay_lossy_stats(&L.b)->duplicates, 0);
    ck_assert_uint_eq(cl_relay_lossy_pull(&L.b, t, out, sizeof(out)), 0);
    hdr[2] = 130 - 127;
    ck_assert_int_eq(cl_relay_lossy_frame(hdr, (const uint8_t *)"z", 1, f, sizeof(f), &fl), CL_OK);
    ck_assert_int_eq(lfeed(&L.b, t, f, fl, &used), CL_OK);
    ck_assert_uint_eq(cl_relay_lossy_stats(&L.b)->duplicates, 1);
    ck_assert_uint_gt(cl_relay_lossy_pull(&L.b, t, out, sizeof(out)), 0);
    /* no buffers */
    cl_relay_lossy_init(&z, NULL, NULL, 10, NULL, 10);
    ck_assert_int_eq(cl_relay_lossy_send(&z, t, (const uint8_t *)"m", 1), CL_ERR_TOO_LONG);
}
END_TEST

static Suite *lossy_suite(void)
{
    Suite *s = suite_create("relay_lossy");
    TCase *tc = tcase_create("frames");

    tcase_add_loop_test(tc, test_doc_frames, 0, (int)CL_ARRAY_LEN(frames));
    tcase_add_test(tc, test_engine_bytes);
    tcase_add_loop_test(tc, test_bad_frames, 0, (int)CL_ARRAY_LEN(bad_frames));
    tcase_add_test(tc, test_delimiting);
    tcase_add_test(tc, test_feed_stops);
    suite_add_tcase(s, tc);
    tc = tcase_create("arq");
    tcase_add_test(tc, test_exchange_bytewise);
    tcase_add_test(tc, test_retransmission);
    tcase_add_test(tc, test_epochs);
    tcase_add_test(tc, test_epoch_ack_dropped);
    tcase_add_test(tc, test_oversize);
    tcase_add_test(tc, test_lend_pieces);
    tcase_add_loop_test(tc, test_faulty_channel, 0, 4);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_rto_cap);
    tcase_add_test(tc, test_patience);
    tcase_add_test(tc, test_retries_per_message);
    tcase_add_test(tc, test_timeout_twice);
    tcase_add_test(tc, test_ack_cancels_repeat);
    tcase_add_test(tc, test_duplicate_acked_again);
    tcase_add_test(tc, test_lossy_edges);
    tcase_add_test(tc, test_lossy_wall);
    tcase_add_test(tc, test_duplicate_window);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(lossy_suite());
}
