/*
 * cardlink — the card session against the card simulator (lib/sim) in
 * process: activation, PPS and APDUs of every case over T=0 and T=1, both
 * conventions, LRC and CRC, small IFSC, slow commands (NULL bytes, WTX),
 * PPS answered with defaults or not at all, a card with a bad TCK, and the
 * byte-level fault injector (cardlink/fault.h) on the card's output.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/card.h"
#include "cardlink/error.h"
#include "cardlink/fault.h"
#include "cardlink/sim.h"
#include "test_util.h"

/* An in-process line: what the reader sends is fed to the simulator, what
 * the simulator sends waits in q for the reader. */
struct bridge {
    struct cl_sim sim;
    struct cl_sim_fs fs;
    uint8_t q[4096];
    uint8_t qpar[4096];     /* 1: that byte has a parity error */
    size_t qlen, qoff;
    bool faults;
    struct cl_fault fault;
    unsigned recv_calls;
    unsigned pulled;        /* card pulled by the injector */
    uint16_t f, d;          /* rate last told to the simulator */
};

static void pump(struct bridge *b)
{
    for (;;) {
        const uint8_t *p = NULL;
        size_t n, k;

        if (cl_sim_want(&b->sim) != CL_SIM_SEND)
            return;
        n = cl_sim_pull(&b->sim, &p);
        ck_assert_uint_gt(n, 0);
        if (b->qoff > 0) {
            memmove(b->q, b->q + b->qoff, b->qlen - b->qoff);
            memmove(b->qpar, b->qpar + b->qoff, b->qlen - b->qoff);
            b->qlen -= b->qoff;
            b->qoff = 0;
        }
        if (!b->faults) {
            ck_assert_uint_le(n, sizeof(b->q) - b->qlen);
            memcpy(b->q + b->qlen, p, n);
            memset(b->qpar + b->qlen, 0, n);
            b->qlen += n;
        } else {
            struct cl_fault_item items[129];
            size_t m = 0, off, piece;

            for (off = 0; off < n; off += piece) {
                piece = n - off < 64 ? n - off : 64;
                ck_assert_int_eq(cl_fault_apply(&b->fault, p + off, piece,
                                                items, CL_ARRAY_LEN(items),
                                                &m),
                                 CL_OK);
                for (k = 0; k < m; k++) {
                    if (items[k].kind == CL_FAULT_REMOVED) {
                        b->pulled = 1;
                        continue;
                    }
                    ck_assert_uint_lt(b->qlen, sizeof(b->q));
                    b->q[b->qlen] = items[k].byte;
                    b->qpar[b->qlen++] = items[k].kind == CL_FAULT_PARITY;
                }
            }
        }
        ck_assert_int_eq(cl_sim_sent(&b->sim, n), CL_OK);
    }
}

static int b_send(void *ctx, const uint8_t *buf, size_t len)
{
    struct bridge *b = ctx;

    if (b->pulled)
        return CL_ERR_CARD_REMOVED;
    ck_assert_int_eq(cl_sim_feed(&b->sim, buf, len), (int)len);
    pump(b);
    return CL_OK;
}

static int b_recv(void *ctx, uint8_t *buf, size_t size, uint32_t *t)
{
    struct bridge *b = ctx;
    size_t n = 0;

    b->recv_calls++;
    if (b->pulled)
        return CL_ERR_CARD_REMOVED;
    pump(b);
    if (b->qoff == b->qlen) {
        /* the reader waits: a card in the middle of a T=1 block gets its
         * character timer too */
        if (cl_sim_timer(&b->sim) != CL_TIMER_NONE)
            ck_assert_int_eq(cl_sim_timeout(&b->sim), CL_OK);
        pump(b);
        if (b->qoff == b->qlen) {
            *t = 0;
            return 0;
        }
    }
    if (b->qpar[b->qoff]) {
        buf[0] = b->q[b->qoff++];
        return CL_ERR_PARITY;
    }
    while (n < size && b->qoff < b->qlen && !b->qpar[b->qoff])
        buf[n++] = b->q[b->qoff++];
    return (int)n;
}

static int b_reset(void *ctx, bool warm)
{
    struct bridge *b = ctx;

    if (b->pulled)
        return CL_ERR_CARD_REMOVED;
    b->qlen = b->qoff = 0;
    b->f = 372;     /* every reset starts at Fd, Dd */
    b->d = 1;
    ck_assert_int_eq(cl_sim_reset(&b->sim, warm), CL_OK);
    pump(b);
    return CL_OK;
}

static int b_set_params(void *ctx, const struct cl_card_line_params *p)
{
    struct bridge *b = ctx;
    int rv;

    /* like the virtual line: a CLOCK event only when the rate changes */
    if (p->f == b->f && p->d == b->d)
        return CL_OK;
    b->f = p->f;
    b->d = p->d;
    rv = cl_sim_clock(&b->sim, p->f, p->d);
    (void)rv;   /* a mismatch is counted in the stats */
    return CL_OK;
}

static void b_power_off(void *ctx)
{
    struct bridge *b = ctx;

    cl_sim_power_off(&b->sim);
    b->qlen = b->qoff = 0;
}

static const struct cl_card_line bridge_line = {
    b_send, b_recv, b_reset, b_set_params, b_power_off, NULL,
    { 4000u, 5000u, 0u, NULL, 0, true, CL_CARD_LINE_PARITY }
};

/* The simulator cards. */
#define K_T1      0x01u
#define K_INV     0x02u
#define K_CRC     0x04u
#define K_IFSC16  0x08u
#define K_PPS_DEF 0x10u
#define K_PPS_MUTE 0x20u
#define K_NOTA1   0x40u
#define K_SPEC    0x80u

static const struct {
    const char *name;
    unsigned k;
    uint8_t pps;        /* info.pps expected */
    uint16_t f;
    uint8_t d;
} cards[] = {
    { "t0", 0, CL_CARD_PPS_ACCEPTED, 512, 32 },
    { "t1", K_T1, CL_CARD_PPS_ACCEPTED, 512, 32 },
    { "t0_inverse", K_INV, CL_CARD_PPS_ACCEPTED, 512, 32 },
    { "t1_inverse_crc", K_T1 | K_INV | K_CRC, CL_CARD_PPS_ACCEPTED, 512, 32 },
    { "t1_ifsc16", K_T1 | K_IFSC16, CL_CARD_PPS_ACCEPTED, 512, 32 },
    { "t0_pps_defaults", K_PPS_DEF, CL_CARD_PPS_DEFAULT, 372, 1 },
    { "t1_pps_mute", K_T1 | K_PPS_MUTE, CL_CARD_PPS_FAILED, 372, 1 },
    { "t0_no_ta1", K_NOTA1, CL_CARD_PPS_NONE, 372, 1 },
    { "t1_specific", K_T1 | K_SPEC, CL_CARD_PPS_NONE, 512, 32 },
};

static void sim_setup(struct bridge *b, unsigned k, uint16_t slow)
{
    struct cl_sim_config cfg;
    struct cl_sim_app app;

    memset(b, 0, sizeof(*b));
    cl_fault_init(&b->fault);
    cl_sim_config_default(&cfg, (k & K_T1) != 0);
    if (k & K_INV)
        cfg.atr.opts |= CL_ATR_B_INVERSE;
    if (k & K_CRC)
        cfg.atr.opts |= CL_ATR_B_CRC;
    if (k & K_IFSC16)
        cfg.atr.ifsc = 16;
    if (k & K_PPS_DEF)
        cfg.pps = CL_SIM_PPS_DEFAULTS;
    if (k & K_PPS_MUTE)
        cfg.pps = CL_SIM_PPS_MUTE;
    if (k & K_NOTA1)
        cfg.atr.opts &= (uint16_t)~CL_ATR_B_TA1;
    if (k & K_SPEC) {
        cfg.atr.opts |= CL_ATR_B_TA2;
        cfg.atr.ta2 = (k & K_T1) ? 0x01 : 0x00;
    }
    cl_sim_fs_init(&b->fs, 1, slow);
    app = cl_sim_fs_app(&b->fs);
    ck_assert_int_eq(cl_sim_setup(&b->sim, &cfg, &app), CL_OK);
}

static uint8_t pattern(size_t i)
{
    return (uint8_t)(i * 7u + 1u);
}

/* Send cmd and check the response: want_len data bytes of pattern() (or of
 * echo when not NULL) then SW. */
static void xfer(struct cl_card *card, const uint8_t *cmd, size_t cmd_len,
                 size_t want_len, const uint8_t *echo, uint16_t sw)
{
    static uint8_t resp[1100];
    size_t rl = 0, i;
    int rv = cl_card_transmit(card, cmd, cmd_len, resp, sizeof(resp), &rl);

    ck_assert_msg(rv == CL_OK, "transmit %02X %02X: %s", cmd[0], cmd[1],
                  cl_strerror(rv));
    ck_assert_msg(rl == want_len + 2, "%02X %02X: %zu bytes, SW %02X%02X",
                  cmd[0], cmd[1], rl, rl >= 2 ? resp[rl - 2] : 0,
                  rl >= 2 ? resp[rl - 1] : 0);
    for (i = 0; i < want_len; i++)
        ck_assert_uint_eq(resp[i], echo != NULL ? echo[i] : pattern(i));
    ck_assert_uint_eq(resp[want_len], sw >> 8);
    ck_assert_uint_eq(resp[want_len + 1], sw & 0xFF);
}

static void run_apdus(struct cl_card *card, bool t1)
{
    static uint8_t cmd[1100], data[1000];
    size_t i;

    for (i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i ^ 0x5A);
    /* case 1: SELECT MF without FCP (P2 0C) */
    memcpy(cmd, "\x00\xA4\x00\x0C\x02\x3F\x00", 7);
    xfer(card, cmd, 7, 0, NULL, 0x9000);
    /* case 2S: GENERATE 16 bytes, then 256 (Le 00) */
    memcpy(cmd, "\x80\xE2\x00\x10\x10", 5);
    xfer(card, cmd, 5, 16, NULL, 0x9000);
    memcpy(cmd, "\x80\xE2\x01\x00\x00", 5);
    xfer(card, cmd, 5, 256, NULL, 0x9000);
    /* case 3S: UPDATE BINARY of EF 0011 (current after SELECT below) */
    memcpy(cmd, "\x00\xA4\x00\x0C\x02\x00\x11", 7);
    xfer(card, cmd, 7, 0, NULL, 0x9000);
    memcpy(cmd, "\x00\xD6\x00\x00\x04\x01\x02\x03\x04", 9);
    xfer(card, cmd, 9, 0, NULL, 0x9000);
    /* case 4S: ECHO 200 bytes */
    memcpy(cmd, "\x80\xEE\x00\xC8\xC8", 5);
    memcpy(cmd + 5, data, 200);
    cmd[205] = 0x00;
    xfer(card, cmd, 206, 200, data, 0x9000);
    /* case 2E: GENERATE 1000 bytes */
    memcpy(cmd, "\x80\xE2\x03\xE8\x00\x03\xE8", 7);
    xfer(card, cmd, 7, 1000, NULL, 0x9000);
    /* an error status word comes through as is */
    memcpy(cmd, "\x00\xA4\x00\x0C\x02\x7F\x7F", 7);
    xfer(card, cmd, 7, 0, NULL, 0x6A82);
    /* case 4E: ECHO 600 bytes, chained both ways (T=1 only: the
     * simulator's application does not take T=0 ENVELOPE pieces) */
    if (!t1)
        return;
    memcpy(cmd, "\x80\xEE\x02\x58\x00\x02\x58", 7);
    memcpy(cmd + 7, data, 600);
    cmd[607] = 0x00;
    cmd[608] = 0x00;
    xfer(card, cmd, 609, 600, data, 0x9000);
}

START_TEST(test_sim_card)
{
    struct bridge b;
    struct cl_card card;

    sim_setup(&b, cards[_i].k, 0);
    cl_card_init_line(&card, &bridge_line, &b, NULL);
    ck_assert_msg(cl_card_activate(&card) == CL_OK, "%s", cards[_i].name);
    ck_assert_int_eq(cl_card_protocol(&card), (cards[_i].k & K_T1) ? 1 : 0);
    ck_assert_uint_eq(cl_card_info(&card)->pps, cards[_i].pps);
    ck_assert_uint_eq(cl_card_params(&card)->f, cards[_i].f);
    ck_assert_uint_eq(cl_card_params(&card)->d, cards[_i].d);
    ck_assert(cl_card_params(&card)->inverse == ((cards[_i].k & K_INV) != 0));
    ck_assert_uint_eq(cl_sim_d(&b.sim), cards[_i].d);
    ck_assert_uint_eq(cl_sim_stats(&b.sim)->clock_mismatch, 0);
    if (cards[_i].k & K_T1)
        ck_assert_uint_eq(cl_t1_ifsd(cl_card_t1(&card)), 254);
    run_apdus(&card, (cards[_i].k & K_T1) != 0);
    cl_card_deactivate(&card);
}
END_TEST

/* A busy application: T=0 NULL bytes, T=1 S(WTX). */
START_TEST(test_sim_slow)
{
    struct bridge b;
    struct cl_card card;
    uint8_t cmd[8];

    sim_setup(&b, _i ? K_T1 : 0, 3);
    cl_card_init_line(&card, &bridge_line, &b, NULL);
    ck_assert_int_eq(cl_card_activate(&card), CL_OK);
    memcpy(cmd, "\x80\xE2\x00\x08\x08", 5);
    xfer(&card, cmd, 5, 8, NULL, 0x9000);
    ck_assert_uint_ge(cl_sim_stats(&b.sim)->busy, 3);
    if (_i)
        ck_assert_uint_ge(cl_t1_stats(cl_card_t1(&card))->wtx, 3);
    else
        ck_assert_uint_ge(cl_t0_stats(cl_card_t0(&card))->nulls, 3);
    /* the session's counters say the same, and keep it after the card
     * is off */
    cl_card_deactivate(&card);
    ck_assert_uint_ge(cl_card_stats(&card)->more_time, 3);
    ck_assert_uint_eq(cl_card_stats(&card)->more_time,
                      _i ? cl_card_stats(&card)->t1.wtx
                         : cl_sim_stats(&b.sim)->busy);
    ck_assert_uint_eq(cl_card_stats(&card)->apdus, 1);
    ck_assert_uint_eq(cl_card_stats(&card)->apdu_errors, 0);
}
END_TEST

/* A card whose ATR has a wrong TCK after cold and warm reset. */
START_TEST(test_sim_bad_tck)
{
    struct bridge b;
    struct cl_card card;
    struct cl_sim_config cfg;
    struct cl_sim_app app;

    memset(&b, 0, sizeof(b));
    cl_sim_config_default(&cfg, true);
    cfg.bad_tck = true;
    cl_sim_fs_init(&b.fs, 1, 0);
    app = cl_sim_fs_app(&b.fs);
    ck_assert_int_eq(cl_sim_setup(&b.sim, &cfg, &app), CL_OK);
    cl_card_init_line(&card, &bridge_line, &b, NULL);
    ck_assert_int_eq(cl_card_activate(&card), CL_ERR_CHECKSUM);
    ck_assert_uint_eq(cl_card_info(&card)->warm_resets, 1);
    ck_assert_uint_eq(cl_sim_stats(&b.sim)->resets, 2);
}
END_TEST

/*
 * T=1 with 1 % of the card's bytes corrupted, dropped, inserted or
 * flagged with a parity error: every response delivered is byte-exact,
 * every failure is a clean error, and the session is activated again
 * after one that closes it.
 */
START_TEST(test_sim_t1_faults)
{
    static struct bridge b;
    struct cl_card card;
    struct cl_fault_config fc;
    uint8_t cmd[300], data[250];
    static uint8_t resp[600];
    unsigned i, ok = 0, failed = 0, reactivated = 0;
    size_t rl, k;

    sim_setup(&b, K_T1, 0);
    memset(&fc, 0, sizeof(fc));
    fc.seed = 7;
    fc.corrupt = 25;
    fc.drop = 25;
    fc.insert = 25;
    fc.parity = 25;
    ck_assert_int_eq(cl_fault_setup(&b.fault, &fc), CL_OK);
    cl_card_init_line(&card, &bridge_line, &b, NULL);
    ck_assert_int_eq(cl_card_activate(&card), CL_OK);
    b.faults = true;
    for (k = 0; k < sizeof(data); k++)
        data[k] = (uint8_t)(k * 13u);
    for (i = 0; i < 300; i++) {
        size_t n = 1 + (i * 37u) % 64u;
        int rv;

        if (cl_card_state(&card) != CL_CARD_ACTIVE) {
            b.faults = false;
            ck_assert_int_eq(cl_card_activate(&card), CL_OK);
            b.faults = true;
            reactivated++;
        }
        cmd[0] = 0x80;
        cmd[1] = 0xEE;
        cmd[2] = 0x00;
        cmd[3] = (uint8_t)n;
        cmd[4] = (uint8_t)n;
        memcpy(cmd + 5, data, n);
        cmd[5 + n] = 0x00;
        rv = cl_card_transmit(&card, cmd, n + 6, resp, sizeof(resp), &rl);
        if (rv == CL_OK) {
            ck_assert_uint_eq(rl, n + 2);
            ck_assert_mem_eq(resp, data, n);
            ck_assert_uint_eq(resp[n], 0x90);
            ck_assert_uint_eq(resp[n + 1], 0x00);
            ok++;
        } else {
            ck_assert_msg(rv == CL_ERR_PROTOCOL || rv == CL_ERR_RESYNCH ||
                              rv == CL_ERR_ABORTED,
                          "unexpected %s", cl_strerror(rv));
            failed++;
        }
    }
    ck_assert_uint_gt(ok, 200);
    ck_assert_uint_eq(ok + failed, 300);
    ck_assert_uint_gt(cl_t1_stats(cl_card_t1(&card))->blocks_sent, 0);
    ck_assert_uint_eq(cl_card_stats(&card)->apdus, 300);
    ck_assert_uint_eq(cl_card_stats(&card)->apdu_errors, failed);
    ck_assert_uint_eq(cl_card_stats(&card)->activations, 1 + reactivated);
    ck_assert_uint_gt(cl_card_stats(&card)->t1.retransmissions +
                          cl_card_stats(&card)->t1.resynchs, 0);
    cl_card_deactivate(&card);
    cl_card_free(&card);
    cl_fault_free(&b.fault);
}
END_TEST

static Suite *card_sim_suite(void)
{
    Suite *s = suite_create("card_sim");
    TCase *tc = tcase_create("sim");

    tcase_add_loop_test(tc, test_sim_card, 0, (int)CL_ARRAY_LEN(cards));
    tcase_add_loop_test(tc, test_sim_slow, 0, 2);
    tcase_add_test(tc, test_sim_bad_tck);
    tcase_add_test(tc, test_sim_t1_faults);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(card_sim_suite());
}
