/*
 * cardlink — soak test: 10,000 APDUs through T=1 and 10,000 through T=0,
 * the card session (cardlink/card.h) against the card simulator
 * (cardlink/sim.h) over an in-process line with 1 % of the line's
 * characters damaged in each direction by the fault injector.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The APDUs are the simulator's test commands, so the expected response of
 * each is known: case 1 and 2 GENERATE (80 E2, Ne pattern bytes), case 3
 * and 4 ECHO (80 EE, 1..255 random data bytes, the response cut or padded
 * to P1P2 = 1..256 bytes), all short APDUs, cases and sizes drawn from a
 * seeded xorshift32 (deterministic: a failure replays exactly).
 *
 * Fault model (per 10,000 characters, each direction, from the first APDU
 * on; activation runs on a clean line, the card suite covers a faulty ATR):
 *   T=1: 34 corrupted (XOR with a random non-zero value), 33 lost,
 *        33 inserted. EDC is CRC: LRC misses two corrupted characters of
 *        one block whose errors XOR to zero (1 in 255), and at 1 % with
 *        IFSC 32 several thousand blocks carry two faults, so an LRC run
 *        would deliver a few wrong responses by design; CRC-16 catches
 *        every one- and two-byte burst in a block and misses 1 in 65,536
 *        of the rest. IFSC = IFSD = 32 keeps a block at 37 characters,
 *        so most attempts get through (a 259-character block at 1 % is
 *        hit 93 % of the time).
 *   T=0: has no checksum, so a corrupted character is modelled as what a
 *        UART reports after the character repetitions of §7.3 failed: a
 *        parity error on that character (34); the card goes mute, the
 *        reader's engine returns CL_ERR_PARITY. Plus 33 lost and 33
 *        inserted characters, which T=0 can only notice by their effect on
 *        the character count: a lost one stalls the exchange (WT time-out,
 *        or a shifted procedure byte: CL_ERR_PROTOCOL); an inserted one
 *        shifts the stream. A loss and an insertion in the same exchange,
 *        or an insertion inside response data followed by a byte that
 *        reads as SW1, leave the count right and the data wrong: no T=0
 *        reader can detect that. Such a wrong response is counted as
 *        "undetectable" and accepted only when the injector reports a lost
 *        or inserted character in that exchange (asserted); with only
 *        parity faults every response must be exact.
 *
 * Every error must be one of CL_ERR_TIMEOUT, CL_ERR_PARITY,
 * CL_ERR_PROTOCOL, CL_ERR_RESYNCH (asserted). The session then recovers:
 * T=1 after a resynchronisation (CL_ERR_PROTOCOL, session still active)
 * goes on; a deactivated session (T=0 errors, T=1 RESYNCH failing) is
 * activated again (cold reset, ATR, PPS) and the APDU sent again, up to
 * ten times. Printed counts:
 *   delivered    APDUs whose response arrived byte-exact
 *   retried      APDUs sent again after a failed attempt
 *   retransmit   T=1 blocks sent again by the reader engine
 *   resynched    T=1 exchanges ended by a successful RESYNCH
 *   failed       attempts that ended with an error (by code)
 *   reactivated  activations after a deactivation
 *   undetectable T=0 responses with a compensated count (see above)
 *   given up     APDUs still failing after ten retries
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "cardlink/card.h"
#include "cardlink/error.h"
#include "cardlink/fault.h"
#include "cardlink/sim.h"
#include "harness.h"
#include "test_util.h"

#define SOAK_APDUS 10000u
#define SOAK_RETRIES 10u

struct soak_counts {
    unsigned long apdus, delivered, retried, retransmit, resynched, failed,
        reactivated, undetectable, given_up;
    unsigned long err_timeout, err_parity, err_protocol, err_resynch;
    unsigned long late;     /* T=0: characters left after a response */
};

static struct cl_sim sim;
static struct cl_sim_fs fs;
static struct cl_card card;
static struct hcline hc;
static struct cl_fault r2c, c2r;

static uint8_t pattern(size_t i)
{
    return (uint8_t)(i * 7u + 1u);
}

/* One random APDU and its expected response. Returns the command length. */
static size_t make_apdu(uint32_t *rng, uint8_t *cmd, uint8_t *exp,
                        size_t *exp_len)
{
    unsigned kind = cl_fault_rand(rng) % 4u;
    size_t n = 0, lc, ne, i;

    cmd[n++] = CL_SIM_CLA_TEST;
    if (kind <= 1) {            /* case 1 (no data) or 2 (Ne bytes) */
        ne = kind == 0 ? 0 : 1u + cl_fault_rand(rng) % 256u;
        cmd[n++] = CL_SIM_INS_GENERATE;
        cmd[n++] = (uint8_t)(ne >> 8);
        cmd[n++] = (uint8_t)ne;
        if (kind == 1)
            cmd[n++] = (uint8_t)ne;     /* 256 as 00 */
        for (i = 0; i < ne; i++)
            exp[i] = pattern(i);
    } else {                    /* case 3 (nothing back) or 4 */
        lc = 1u + cl_fault_rand(rng) % 255u;
        ne = kind == 2 ? 0 : 1u + cl_fault_rand(rng) % 256u;
        cmd[n++] = CL_SIM_INS_ECHO;
        cmd[n++] = (uint8_t)(ne >> 8);
        cmd[n++] = (uint8_t)ne;
        cmd[n++] = (uint8_t)lc;
        for (i = 0; i < lc; i++)
            cmd[n++] = (uint8_t)cl_fault_rand(rng);
        if (kind == 3)
            cmd[n++] = (uint8_t)ne;
        for (i = 0; i < ne; i++)
            exp[i] = i < lc ? cmd[5 + i] : pattern(i);
    }
    exp[ne] = 0x90;
    exp[ne + 1] = 0x00;
    *exp_len = ne + 2;
    return n;
}

static void faults_on(bool on)
{
    hc.r2c = on ? &r2c : NULL;
    hc.c2r = on ? &c2r : NULL;
}

/* Activate on a clean line. */
static void activate(void)
{
    int rc;
    faults_on(false);
    rc = cl_card_activate(&card);
    ck_assert_msg(rc == CL_OK, "activation: %s", cl_strerror(rc));
    faults_on(true);
}

static unsigned long line_count_changes(void)
{
    const struct cl_fault_stats *a = cl_fault_stats(&r2c), *b = cl_fault_stats(&c2r);
    return (unsigned long)a->dropped + a->inserted + b->dropped + b->inserted;
}

/* Retransmissions of the session's T=1 engine since its last activation
 * (cl_card_stats() keeps them after a deactivation; the next T=1
 * activation zeroes them, so they are added up before it). */
static uint32_t t1_retransmissions(const struct cl_card *c)
{
    return cl_card_stats(c)->t1.retransmissions;
}

static void soak(bool t1, uint32_t seed, struct soak_counts *c)
{
    struct cl_sim_config scfg;
    struct cl_cardapp app;
    struct cl_card_config ccfg;
    struct cl_fault_config fc;
    uint32_t rng = seed;
    static uint8_t cmd[300], exp[300], resp[600];
    unsigned long retrans_base = 0;
    unsigned i;

    memset(c, 0, sizeof(*c));
    cl_sim_config_default(&scfg, t1);
    if (t1) {
        scfg.atr.opts |= CL_ATR_B_CRC;
        scfg.atr.ifsc = 32;
    }
    cl_sim_fs_init(&fs, seed, 0);
    app = cl_sim_fs_app(&fs);
    ck_assert_int_eq(cl_sim_setup(&sim, &scfg, &app), CL_OK);

    memset(&fc, 0, sizeof(fc));
    fc.seed = seed * 2u + 1u;
    fc.drop = 33;
    fc.insert = 33;
    if (t1)
        fc.corrupt = 34;
    else
        fc.parity = 34;

    ck_assert_int_eq(cl_fault_setup(&r2c, &fc), CL_OK);
    fc.seed = seed * 2u + 2u;
    ck_assert_int_eq(cl_fault_setup(&c2r, &fc), CL_OK);

    memset(&hc, 0, sizeof(hc));
    hc.sim = &sim;
    cl_card_config_default(&ccfg);
    ccfg.protocol = t1 ? 1u : 0u;
    ccfg.ifsd = 32;
    cl_card_init_line(&card, &hcl_line, &hc, &ccfg);
    activate();
    ck_assert_int_eq(cl_card_protocol(&card), t1 ? 1 : 0);

    for (i = 0; i < SOAK_APDUS; i++) {
        size_t exp_len, cmd_len = make_apdu(&rng, cmd, exp, &exp_len);
        unsigned attempt;
        c->apdus++;
        for (attempt = 0; attempt <= SOAK_RETRIES; attempt++) {
            size_t rlen = 0;
            unsigned long changes = line_count_changes();
            int rc;
            if (attempt > 0)
                c->retried++;
            rc = cl_card_transmit(&card, cmd, cmd_len, resp, sizeof(resp), &rlen);
            if (!t1 && hcl_pending(&hc) > 0)
                c->late++;
            if (rc == CL_OK) {
                if (rlen == exp_len && memcmp(resp, exp, rlen) == 0) {
                    c->delivered++;
                } else {
                    ck_assert_msg(!t1 && line_count_changes() != changes,
                                  "APDU %u (%s): wrong response delivered: "
                                  "sent %s", i, t1 ? "T=1" : "T=0",
                                  cl_test_tohex(cmd, cmd_len));
                    c->undetectable++;
                }
                break;
            }
            c->failed++;
            switch (rc) {
            case CL_ERR_TIMEOUT: c->err_timeout++; break;
            case CL_ERR_PARITY: c->err_parity++; break;
            case CL_ERR_PROTOCOL: c->err_protocol++; break;
            case CL_ERR_RESYNCH: c->err_resynch++; break;
            default:
                ck_abort_msg("APDU %u (%s): unexpected error %d %s", i,
                             t1 ? "T=1" : "T=0", rc, cl_strerror(rc));
            }
            if (cl_card_state(&card) == CL_CARD_ACTIVE) {
                /* T=1 resynchronised: the link is usable again */
                ck_assert(t1 && rc == CL_ERR_PROTOCOL);
                c->resynched++;
            } else {
                if (t1)
                    retrans_base += t1_retransmissions(&card);
                activate();
                c->reactivated++;
            }
        }
        if (attempt > SOAK_RETRIES)
            c->given_up++;
    }
    if (t1)
        retrans_base += t1_retransmissions(&card);
    c->retransmit = retrans_base;
    cl_card_deactivate(&card);
}

static void print_counts(const char *name, const struct soak_counts *c)
{
    const struct cl_fault_stats *a = cl_fault_stats(&r2c), *b = cl_fault_stats(&c2r);
    printf("soak %s: %lu APDUs: delivered %lu, retried %lu, retransmit %lu, "
           "resynched %lu, failed %lu (timeout %lu, parity %lu, protocol %lu, "
           "resynch %lu), reactivated %lu, undetectable %lu, given up %lu, "
           "late %lu\n",
           name, c->apdus, c->delivered, c->retried, c->retransmit,
           c->resynched, c->failed, c->err_timeout, c->err_parity,
           c->err_protocol, c->err_resynch, c->reactivated, c->undetectable,
           c->given_up, c->late);
    printf("soak %s: line faults: to card %lu bytes, %lu corrupted, %lu lost, "
           "%lu inserted, %lu parity; to reader %lu bytes, %lu corrupted, "
           "%lu lost, %lu inserted, %lu parity\n",
           name, (unsigned long)a->bytes, (unsigned long)a->corrupted,
           (unsigned long)a->dropped, (unsigned long)a->inserted,
           (unsigned long)a->parity, (unsigned long)b->bytes,
           (unsigned long)b->corrupted, (unsigned long)b->dropped,
           (unsigned long)b->inserted, (unsigned long)b->parity);
    fflush(stdout);
}

static void check_counts(const struct soak_counts *c)
{
    ck_assert_uint_eq(c->delivered + c->undetectable + c->given_up, c->apdus);
    ck_assert_uint_eq(c->failed, c->err_timeout + c->err_parity +
                                     c->err_protocol + c->err_resynch);
    /* the line was really damaged and the session really recovered */
    ck_assert_uint_gt(c->failed, 0);
}

START_TEST(soak_t1)
{
    struct soak_counts c;
    soak(true, 0x5EED0001u, &c);
    print_counts("T=1", &c);
    check_counts(&c);
    ck_assert_uint_gt(c.retransmit, 0);
    ck_assert_uint_eq(c.undetectable, 0);
    ck_assert_uint_eq(c.err_parity, 0);    /* T=1 faults carry no parity */
    ck_assert_uint_gt(c.resynched, 0);
    ck_assert_uint_gt(c.delivered, c.apdus * 99u / 100u);
}
END_TEST

START_TEST(soak_t0)
{
    struct soak_counts c;
    soak(false, 0x5EED0002u, &c);
    print_counts("T=0", &c);
    check_counts(&c);
    ck_assert_uint_eq(c.resynched, 0);
    ck_assert_uint_eq(c.err_resynch, 0);
    ck_assert_uint_gt(c.err_parity, 0);
    ck_assert_uint_gt(c.delivered, c.apdus * 75u / 100u);
}
END_TEST

/* The T=0 model's claim: with only parity faults (no lost or inserted
 * characters) every response delivered is exact. */
START_TEST(soak_t0_parity_only)
{
    struct cl_sim_config scfg;
    struct cl_cardapp app;
    struct cl_fault_config fc;
    uint32_t rng = 77;
    static uint8_t cmd[300], exp[300], resp[600];
    unsigned i, delivered = 0, failed = 0;

    cl_sim_config_default(&scfg, false);
    cl_sim_fs_init(&fs, 3, 0);
    app = cl_sim_fs_app(&fs);
    ck_assert_int_eq(cl_sim_setup(&sim, &scfg, &app), CL_OK);
    memset(&fc, 0, sizeof(fc));
    fc.seed = 99;
    fc.parity = 100;
    ck_assert_int_eq(cl_fault_setup(&r2c, &fc), CL_OK);
    fc.seed = 100;
    ck_assert_int_eq(cl_fault_setup(&c2r, &fc), CL_OK);
    memset(&hc, 0, sizeof(hc));
    hc.sim = &sim;
    cl_card_init_line(&card, &hcl_line, &hc, NULL);
    activate();
    for (i = 0; i < 2000; i++) {
        size_t exp_len, rlen, cmd_len = make_apdu(&rng, cmd, exp, &exp_len);
        int rc = cl_card_transmit(&card, cmd, cmd_len, resp, sizeof(resp), &rlen);
        if (rc == CL_OK) {
            ck_assert_uint_eq(rlen, exp_len);
            ck_assert_mem_eq(resp, exp, rlen);
            delivered++;
        } else {
            /* the reader heard the parity error, or the card did and
             * went mute */
            ck_assert(rc == CL_ERR_PARITY || rc == CL_ERR_TIMEOUT);
            ck_assert_uint_eq(cl_card_state(&card), CL_CARD_CLOSED);
            failed++;
            activate();
        }
    }
    printf("soak T=0 parity only: 2000 APDUs: delivered %u, failed %u\n",
           delivered, failed);
    fflush(stdout);
    ck_assert_uint_gt(failed, 0);
    cl_card_deactivate(&card);
    cl_card_free(&card);
    cl_fault_free(&r2c);
    cl_fault_free(&c2r);
}
END_TEST

static Suite *soak_suite(void)
{
    Suite *s = suite_create("soak");
    TCase *tc = tcase_create("soak");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, soak_t1);
    tcase_add_test(tc, soak_t0);
    tcase_add_test(tc, soak_t0_parity_only);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(soak_suite());
}
