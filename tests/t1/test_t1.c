/*
 * cardlink — T=1 engine: exact line bytes of every scenario of ISO 7816-3
 * §11 (both roles), API contracts, and the reader run against the card over
 * a faulty in-process line.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Built three times (tests/t1/meson.build): against the library
 * (CL_T1_FAST 1), and with lib/t1/t1.c compiled in with CL_T1_FAST=0, both
 * roles and CL_T1_CARD=0 (reader firmware): that one runs the reader
 * scenarios (the card's bytes scripted) and the API checks, and checks that
 * the card role is refused.
 */
#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardlink/edc.h"
#include "cardlink/error.h"
#include "cardlink/rate.h"
#include "cardlink/t1.h"
#include "test_util.h"

/* ------------------------------------------------------------ scenarios */

struct scenario {
    const char *name;
    const char *clause;
    char role;          /* 'R' reader, 'C' card */
    int edc, ifsc, ifsd, ifs_at_start, nad, buf;
    const char *steps;
};

static const struct scenario scenarios[] = {
#include "t1_vectors.inc"
};

/* Issue 11 §7, measured again (one-at-a-time faults in lib/t1/t1.c and
 * t1_block.c): the behaviours the faults left unnoticed, in the same
 * notation, with counters checked by step K. Written by gen_gaps.py with
 * gen_vectors.py's model of the block format. */
static const struct scenario gaps[] = {
#include "t1_gaps.inc"
};

/* Counters of the engines set up here (the in-process card has its own). */
static struct cl_t1_stats t1_counters;
#if CL_T1_CARD
static struct cl_t1_stats card_stats;
#endif

/* Pull a whole block (an I-block with INF comes in three pieces) into out
 * and acknowledge it; returns its length. */
static size_t pull_block(struct cl_t1 *t1, uint8_t *out, size_t size)
{
    size_t len = 0;

    while (cl_t1_want(t1) == CL_WANT_SEND) {
        const uint8_t *p;
        size_t n = cl_t1_pull(t1, &p);

        ck_assert_uint_gt(n, 0);
        ck_assert_uint_le(n, size - len);
        memcpy(out + len, p, n);
        len += n;
        ck_assert_int_eq(cl_t1_sent(t1, n), CL_OK);
    }
    return len;
}

static void setup_cfg(struct cl_t1 *t1, const struct scenario *s)
{
    struct cl_t1_config cfg;

    cl_t1_config_default(&cfg, s->role == 'R' ? CL_T1_ROLE_READER : CL_T1_ROLE_CARD);
    cfg.edc = (uint8_t)s->edc;
    cfg.ifsc = (uint8_t)s->ifsc;
    cfg.ifsd = (uint8_t)s->ifsd;
    cfg.ifs_at_start = s->ifs_at_start != 0;
    cfg.nad = (uint8_t)s->nad;
    ck_assert_int_eq(cl_t1_setup(t1, &cfg, &t1_counters), CL_OK);
}

/* Run one step; buffers live in the caller so the engine's pointers stay
 * valid across steps. */
struct run {
    struct cl_t1 t1;
    uint8_t cmd[400], resp[400], card_buf[400];
    uint8_t card_resp[400];
};

/* K NAME N NAME N ...: the counters named (struct cl_t1_stats fields) are
 * N; the others are not checked. */
static void check_counters(const struct cl_t1 *t1, const struct scenario *s,
                           const char *arg)
{
    static const struct {
        const char *name;
        size_t off;
    } names[] = {
#define CL_T1_COUNTER(f) { #f, offsetof(struct cl_t1_stats, f) }
        CL_T1_COUNTER(blocks_sent), CL_T1_COUNTER(blocks_received),
        CL_T1_COUNTER(invalid_blocks), CL_T1_COUNTER(edc_errors),
        CL_T1_COUNTER(parity_errors), CL_T1_COUNTER(timeouts),
        CL_T1_COUNTER(retransmissions), CL_T1_COUNTER(resynchs),
        CL_T1_COUNTER(wtx), CL_T1_COUNTER(aborts),
#undef CL_T1_COUNTER
    };
    const struct cl_t1_stats *st = cl_t1_stats(t1);
    char buf[256], *tok, *save = NULL;

    ck_assert_ptr_nonnull(st);
    ck_assert_uint_lt(strlen(arg), sizeof(buf));
    strcpy(buf, arg);
    for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        const char *num = strtok_r(NULL, " ", &save);
        uint32_t got;
        size_t i;

        ck_assert_ptr_nonnull(num);
        for (i = 0; i < CL_ARRAY_LEN(names); i++)
            if (strcmp(names[i].name, tok) == 0)
                break;
        ck_assert_msg(i < CL_ARRAY_LEN(names), "%s: no counter %s", s->name, tok);
        memcpy(&got, (const uint8_t *)st + names[i].off, sizeof(got));
        ck_assert_msg(got == strtoul(num, NULL, 10), "%s: K %s: %s is %u, not %s",
                      s->name, arg, tok, (unsigned)got, num);
    }
}

static void run_step(struct run *r, const struct scenario *s, const char *step)
{
    static uint8_t bytes[1024];
    struct cl_t1 *t1 = &r->t1;
    const char *arg = step + 1;
    int n = 0, rc;
    long num;
    char *end;

    char op = step[0];

    /* the R/C transcript (gen_vectors.py): the engine under test sends
     * the lines of its own role and is fed the others */
    if (op == 'R' || op == 'C') {
        if (step[1] == '1')
            arg++;
        op = op == s->role ? '>' : '<';
    }
    while (*arg == ' ')
        arg++;
    switch (op) {
    case '>': {
        size_t len;

        ck_assert_msg(cl_t1_want(t1) == CL_WANT_SEND, "%s: %s: want %d, not SEND",
                      s->name, step, cl_t1_want(t1));
        len = pull_block(t1, bytes, sizeof(bytes));
        cl_assert_bytes(bytes, len, arg);
        break;
    }
    case '<':
        n = cl_test_hex(arg, bytes, sizeof(bytes));
        ck_assert_int_ge(n, 0);
        ck_assert_msg(cl_t1_want(t1) == CL_WANT_RECV, "%s: %s: want %d, not RECV",
                      s->name, step, cl_t1_want(t1));
        if (step[1] == '1') {     /* R1 / C1: byte by byte */
            int i;

            for (i = 0; i < n; i++)
                ck_assert_int_eq(cl_t1_feed(t1, bytes + i, 1), 1);
        } else {
            ck_assert_int_eq(cl_t1_feed(t1, bytes, (size_t)n), n);
        }
        break;
    case 'T':
        ck_assert_int_eq(cl_t1_timeout(t1), CL_OK);
        break;
    case 'P':
        ck_assert_int_eq(cl_t1_parity_error(t1), CL_OK);
        break;
    case 'W':
        ck_assert_msg(cl_t1_want(t1) == CL_WANT_RECV, "%s: %s: want %d", s->name, step,
                      cl_t1_want(t1));
        {   /* W 0: no timer */
            unsigned long w = strtoul(arg, NULL, 10);

            ck_assert_uint_eq(cl_t1_timer(t1), w ? w : CL_TIMER_NONE);
        }
        break;
    case 'I':
        ck_assert_int_eq(cl_t1_want(t1), CL_WANT_IDLE);
        break;
    case 'X':   /* X: the card answered wrongly; X T: it went mute */
        ck_assert_int_eq(cl_t1_want(t1), CL_WANT_FAILED);
        ck_assert_int_eq(cl_t1_error(t1), arg[strspn(arg, " ")] == 'T' ? CL_ERR_TIMEOUT
                                                                 : CL_ERR_RESYNCH);
        break;
    case 'D':
        ck_assert_msg(cl_t1_want(t1) == CL_WANT_DONE, "%s: %s: want %d", s->name, step,
                      cl_t1_want(t1));
        num = strtol(arg, &end, 10);
        rc = cl_t1_result(t1);
        ck_assert_int_eq(rc, num);
        if (rc >= 0)
            cl_assert_bytes(r->resp, (size_t)rc, end);
        break;
    case 'S':
        n = cl_test_hex(arg, r->cmd, sizeof(r->cmd));
        ck_assert_int_ge(n, 0);
        ck_assert_int_eq(cl_t1_transmit_start(t1, r->cmd, (size_t)n, r->resp,
                                              (size_t)s->buf), CL_OK);
        break;
    case 'B':
        ck_assert_int_eq(cl_t1_abort(t1), CL_OK);
        break;
    case 'N':
        ck_assert_int_eq(cl_t1_request_ifs(t1, (uint8_t)strtoul(arg, NULL, 10)), CL_OK);
        break;
    case 'Z':
        ck_assert_int_eq(cl_t1_resynch(t1), CL_OK);
        break;
    case 'J':
        ck_assert_uint_eq(cl_t1_ifsd(t1), strtoul(arg, NULL, 10));
        break;
    case 'K':
        check_counters(t1, s, arg);
        break;
    case 'U': {     /* nothing written past the buffer given (s->buf) */
        size_t i;

        for (i = (size_t)s->buf; i < sizeof(r->resp); i++)
            ck_assert_msg(r->resp[i] == 0 && r->card_buf[i] == 0,
                          "%s: byte %zu past the buffer written", s->name, i);
        break;
    }
#if CL_T1_CARD
    case 'G':
        ck_assert_msg(cl_t1_want(t1) == CL_WANT_DONE, "%s: %s: want %d", s->name, step,
                      cl_t1_want(t1));
        rc = cl_t1_result(t1);
        ck_assert_int_ge(rc, 0);
        cl_assert_bytes(r->card_buf, (size_t)rc, arg);
        break;
    case 'Y':
        n = cl_test_hex(arg, r->card_resp, sizeof(r->card_resp));
        ck_assert_int_ge(n, 0);
        ck_assert_int_eq(cl_t1_card_respond(t1, r->card_resp, (size_t)n), CL_OK);
        break;
    case 'Q':
        ck_assert_int_eq(cl_t1_card_request_wtx(t1, (uint8_t)strtoul(arg, NULL, 10)), CL_OK);
        break;
    case 'F':
        ck_assert_int_eq(cl_t1_card_request_ifs(t1, (uint8_t)strtoul(arg, NULL, 10)), CL_OK);
        break;
#endif
    default:
        ck_abort_msg("bad step %s", step);
    }
}

START_TEST(test_scenario)
{
    const struct scenario *s = &scenarios[_i];
    static struct run r;
    char steps[8192], *tok, *save = NULL;

    memset(&r, 0, sizeof(r));
    setup_cfg(&r.t1, s);
#if CL_T1_CARD
    if (s->role == 'C')
        ck_assert_int_eq(cl_t1_card_listen(&r.t1, r.card_buf, (size_t)s->buf), CL_OK);
#endif
    ck_assert_uint_lt(strlen(s->steps), sizeof(steps));
    strcpy(steps, s->steps);
    for (tok = strtok_r(steps, ";", &save); tok; tok = strtok_r(NULL, ";", &save))
        run_step(&r, s, tok);
}
END_TEST

/* ------------------------------------------------------------ counters */

static void run_one(struct run *r, const struct scenario *s)
{
    char steps[8192], *tok, *save = NULL;

    memset(r, 0, sizeof(*r));
    setup_cfg(&r->t1, s);
#if CL_T1_CARD
    if (s->role == 'C')
        ck_assert_int_eq(cl_t1_card_listen(&r->t1, r->card_buf, (size_t)s->buf), CL_OK);
#endif
    ck_assert_uint_lt(strlen(s->steps), sizeof(steps));
    strcpy(steps, s->steps);
    for (tok = strtok_r(steps, ";", &save); tok; tok = strtok_r(NULL, ";", &save))
        run_step(r, s, tok);
}

static void run_script(struct run *r, int idx)
{
    run_one(r, &scenarios[idx]);
}

/* The gaps' scenarios, one per loop index. */
START_TEST(test_gap)
{
    static struct run r;

    run_one(&r, &gaps[_i]);
}
END_TEST

static int find(const char *name)
{
    size_t i;

    for (i = 0; i < CL_ARRAY_LEN(scenarios); i++)
        if (strcmp(scenarios[i].name, name) == 0)
            return (int)i;
    ck_abort_msg("no scenario %s", name);
    return -1;
}

START_TEST(test_stats)
{
    static struct run r;
    const struct cl_t1_stats *st;

    run_script(&r, find("reader_resynch"));
    st = cl_t1_stats(&r.t1);
    ck_assert_uint_eq(st->timeouts, 3);
    ck_assert_uint_eq(st->resynchs, 1);
    ck_assert_uint_eq(st->retransmissions, 1);   /* the second R(0) */
    ck_assert_uint_eq(st->blocks_sent, 5);   /* I, R, R, S, I */
    ck_assert_uint_eq(st->blocks_received, 2);
    ck_assert_uint_eq(st->invalid_blocks, 0);

    run_script(&r, find("reader_bad_crc"));
    st = cl_t1_stats(&r.t1);
    ck_assert_uint_eq(st->edc_errors, 1);
    ck_assert_uint_eq(st->invalid_blocks, 1);
    ck_assert_uint_eq(st->blocks_received, 2);

    run_script(&r, find("reader_parity"));
    ck_assert_uint_eq(cl_t1_stats(&r.t1)->parity_errors, 1);

    run_script(&r, find("reader_wtx"));
    ck_assert_uint_eq(cl_t1_stats(&r.t1)->wtx, 2);

    run_script(&r, find("reader_abort_api"));
    ck_assert_uint_eq(cl_t1_stats(&r.t1)->aborts, 1);

    /* an I-block sent again because the peer asked (rule 7.2) is counted */
    run_script(&r, find("reader_card_asks_repeat"));
    ck_assert_uint_eq(cl_t1_stats(&r.t1)->retransmissions, 1);

    /* each S(RESYNCH request) sent is counted, not only the first */
    run_script(&r, find("reader_resynch_fails"));
    ck_assert_uint_eq(cl_t1_stats(&r.t1)->resynchs, 3);

    run_script(&r, find("reader_card_ifs_request"));
    ck_assert_uint_eq(cl_t1_ifsc(&r.t1), 64);
    ck_assert_uint_eq(cl_t1_ifsd(&r.t1), 32);

    run_script(&r, find("reader_ifs_start_lrc"));
    ck_assert_uint_eq(cl_t1_ifsd(&r.t1), 254);

#if CL_T1_CARD
    run_script(&r, find("card_resynch"));
    ck_assert_uint_eq(cl_t1_stats(&r.t1)->resynchs, 1);
    ck_assert_uint_eq(cl_t1_ifsd(&r.t1), 32);

    run_script(&r, find("card_wtx"));
    ck_assert_uint_eq(cl_t1_stats(&r.t1)->wtx, 1);
    ck_assert_uint_eq(cl_t1_stats(&r.t1)->retransmissions, 1);
#endif
}
END_TEST

/* ------------------------------------------------------------ API */

START_TEST(test_config_errors)
{
    struct cl_t1 t1;
    struct cl_t1_config cfg, bad;
    int i;

    cl_t1_config_default(NULL, CL_T1_ROLE_READER);
    cl_t1_free(NULL);      /* nothing */
#if !CL_T1_CARD
    /* the card role is refused, but a bad field is still CL_ERR_ARG */
    cl_t1_config_default(&bad, CL_T1_ROLE_CARD);
    bad.edc = 2;
    ck_assert_int_eq(cl_t1_setup(&t1, &bad, NULL), CL_ERR_ARG);
#endif
    cl_t1_config_default(&cfg, CL_T1_ROLE_READER);
    ck_assert_int_eq(cl_t1_setup(NULL, &cfg, NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_t1_setup(&t1, NULL, NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_t1_setup(&t1, &cfg, NULL), CL_OK);
    ck_assert_ptr_null(cl_t1_stats(&t1));      /* no counters given */
    /* counters given are zeroed at setup */
    t1_counters.wtx = 7;
    ck_assert_int_eq(cl_t1_setup(&t1, &cfg, &t1_counters), CL_OK);
    ck_assert_ptr_eq(cl_t1_stats(&t1), &t1_counters);
    ck_assert_uint_eq(t1_counters.wtx, 0);
    for (i = 0; i < 14; i++) {
        bad = cfg;
        switch (i) {
        case 0: bad.role = 2; break;
        case 1: bad.edc = 2; break;
        case 2: bad.ifsc = 0; break;
        case 3: bad.ifsc = 255; break;
        case 4: bad.ifsd = 0; break;
        case 5: bad.ifsd = 255; break;
        case 6: bad.bwi = 10; break;
        case 7: bad.cwi = 16; break;
        case 8: bad.f = 373; break;
        case 9: bad.d = 3; break;
        case 10: bad.bgt_etu = 21; break;
        case 11: bad.max_retries = 0; break;
        case 12: bad.max_retries = 16; break;
        default: bad.f = 0; break;
        }
        ck_assert_msg(cl_t1_setup(&t1, &bad, &t1_counters) == CL_ERR_ARG, "case %d", i);
        /* a failed setup leaves a context that refuses everything */
        ck_assert_int_eq(cl_t1_want(&t1), CL_WANT_IDLE);
        ck_assert_int_eq(cl_t1_transmit_start(&t1, NULL, 0, NULL, 0), CL_ERR_STATE);
#if CL_T1_CARD
        ck_assert_int_eq(cl_t1_card_listen(&t1, (uint8_t *)&bad, 1), CL_ERR_STATE);
#endif
        ck_assert_int_eq(cl_t1_resynch(&t1), CL_ERR_STATE);
    }
    /* BWT/CWT from rate.h: BWI 4, CWI 13 at F 372, D 1; D 2 doubles BWT's
     * 960-etu part; guard time as configured */
    cfg.ifs_at_start = false;
    cfg.d = 2;
    cfg.bgt_etu = 30;
    ck_assert_int_eq(cl_t1_setup(&t1, &cfg, &t1_counters), CL_OK);
    ck_assert_uint_eq(cl_t1_guard_etu(&t1), 30);
    ck_assert_uint_eq(cl_t1_guard_etu(NULL), 0);
    ck_assert_int_eq(cl_t1_transmit_start(&t1, NULL, 0, NULL, 0), CL_OK);
    ck_assert_int_eq(cl_t1_sent(&t1, 4), CL_OK);
    ck_assert_uint_eq(cl_t1_timer(&t1), 11 + 16 * 960 * 2);
    ck_assert_uint_eq(cl_t1_timer(&t1), 11 + 16 * 960 * 2);
}
END_TEST

/* The first and last value each setup field takes is accepted (a fault
 * refusing any of them went unnoticed), and BWI 9 and CWI 15 give the
 * longest BWT and CWT. */
START_TEST(test_config_edges)
{
    struct cl_t1 t1;
    struct cl_t1_config cfg, ok;
    uint8_t resp[4], out[8];
    int i;

    cl_t1_config_default(&cfg, CL_T1_ROLE_READER);
    for (i = 0; i < 11; i++) {
        ok = cfg;
        switch (i) {
        case 0: ok.ifsc = 1; break;
        case 1: ok.ifsc = 254; break;
        case 2: ok.ifsd = 1; break;
        case 3: ok.ifsd = 254; break;
        case 4: ok.bwi = 0; break;
        case 5: ok.bwi = 9; break;
        case 6: ok.cwi = 0; break;
        case 7: ok.cwi = 15; break;
        case 8: ok.bgt_etu = 22; break;
        case 9: ok.max_retries = 1; break;
        default: ok.max_retries = 15; break;
        }
        ck_assert_msg(cl_t1_setup(&t1, &ok, NULL) == CL_OK, "case %d", i);
        ck_assert_int_eq(cl_t1_want(&t1), ok.ifs_at_start ? CL_WANT_SEND : CL_WANT_IDLE);
    }
    cfg.ifs_at_start = false;
    cfg.bwi = 9;
    cfg.cwi = 15;
    ck_assert_int_eq(cl_t1_setup(&t1, &cfg, NULL), CL_OK);
    ck_assert_int_eq(cl_t1_transmit_start(&t1, NULL, 0, resp, sizeof(resp)), CL_OK);
    ck_assert_uint_eq(pull_block(&t1, out, sizeof(out)), 4);
    ck_assert_uint_eq(cl_t1_timer(&t1), 11 + 512 * 960);
    ck_assert_int_eq(cl_t1_feed(&t1, out, 1), 1);
    ck_assert_uint_eq(cl_t1_timer(&t1), 11 + 32768);
}
END_TEST

/* ------------------------------------------------ the API-error wall */

/* Every entry point in every state: {state, call, expected}. The states
 * are reached through the API; the calls are made once each on a fresh
 * engine (Check runs each row in its own process). */
enum wall_state {
    WS_NULL,            /* a NULL engine */
    WS_R_IFS,           /* reader sending its start-up S(IFS request) */
    WS_R_IDLE,          /* reader without IFS negotiation, nothing started */
    WS_R_SEND,          /* reader: I-block of an exchange being sent */
    WS_R_RECV,          /* reader: I-block sent, waiting (BWT armed) */
    WS_R_DONE,          /* reader: the answer 90 00 arrived */
    WS_R_FAILED,        /* reader: recovery gave up on a mute card */
    WS_C_IDLE,          /* card set up, no buffer yet */
    WS_C_RECV,          /* card listening */
    WS_C_DONE,          /* card: an empty command arrived */
    WS_C_SEND,          /* card: sending its response */
    WS_R_IFS2,          /* reader: 2 of its S(IFS request)'s 5 bytes sent */
    WS_R_IFS_RECV,      /* reader: S(IFS request) sent, waiting */
    WS_FREED,           /* reader set up, then cl_t1_free() */
    WS_C_UNSUP          /* card role set up with CL_T1_CARD 0: refused */
};

enum wall_call {
    WC_WANT, WC_TIMER, WC_SENT1, WC_FEED1, WC_TIMEOUT, WC_PARITY, WC_RESULT,
    WC_START, WC_IFS, WC_RESYNCH, WC_ABORT, WC_ERROR,
    WC_LISTEN, WC_RESPOND, WC_WTX, WC_CIFS,
    WC_PULL,            /* count; the pointer NULL exactly when 0 */
    WC_SENT0, WC_SENT3, WC_SENT6, WC_FEED_NULL, WC_FEED_EMPTY,
    WC_FEED7,           /* S(IFS response) FE and two bytes more */
    WC_START_NOCMD, WC_START_NORESP, WC_IFS0, WC_IFS255,
    WC_STATS, WC_IFSC, WC_IFSD,
    WC_LISTEN_NULL, WC_LISTEN0, WC_RESPOND_NULL, WC_RESPOND_EMPTY,
    WC_WTX0, WC_CIFS0, WC_CIFS255,
    WC_PULL_BYTE1,      /* the second byte lent (-1: fewer lent) */
    WC_EMPTY_BLOCK      /* card: respond with nothing; the block's length
                           when it is 00 00 00 00, else -1 */
};

static const struct wall_row {
    uint8_t state, call;
    long expected;
} wall[] = {
    /* NULL: CL_ERR_ARG, want FAILED, timer none */
    { WS_NULL, WC_WANT, CL_WANT_FAILED }, { WS_NULL, WC_TIMER, CL_TIMER_NONE },
    { WS_NULL, WC_SENT1, CL_ERR_ARG }, { WS_NULL, WC_FEED1, CL_ERR_ARG },
    { WS_NULL, WC_TIMEOUT, CL_ERR_ARG }, { WS_NULL, WC_PARITY, CL_ERR_ARG },
    { WS_NULL, WC_RESULT, CL_ERR_ARG }, { WS_NULL, WC_START, CL_ERR_ARG },
    { WS_NULL, WC_IFS, CL_ERR_ARG }, { WS_NULL, WC_RESYNCH, CL_ERR_ARG },
    { WS_NULL, WC_ABORT, CL_ERR_ARG }, { WS_NULL, WC_ERROR, CL_ERR_ARG },
    /* reader, start-up S(IFS request) going out */
    { WS_R_IFS, WC_WANT, CL_WANT_SEND }, { WS_R_IFS, WC_TIMER, CL_TIMER_NONE },
    { WS_R_IFS, WC_SENT1, CL_OK }, { WS_R_IFS, WC_FEED1, CL_ERR_STATE },
    { WS_R_IFS, WC_TIMEOUT, CL_ERR_STATE }, { WS_R_IFS, WC_PARITY, CL_ERR_STATE },
    { WS_R_IFS, WC_RESULT, CL_ERR_STATE }, { WS_R_IFS, WC_START, CL_ERR_STATE },
    { WS_R_IFS, WC_IFS, CL_ERR_STATE }, { WS_R_IFS, WC_RESYNCH, CL_ERR_STATE },
    { WS_R_IFS, WC_ABORT, CL_ERR_STATE }, { WS_R_IFS, WC_ERROR, CL_OK },
    /* reader idle */
    { WS_R_IDLE, WC_WANT, CL_WANT_IDLE }, { WS_R_IDLE, WC_TIMER, CL_TIMER_NONE },
    { WS_R_IDLE, WC_SENT1, CL_ERR_STATE }, { WS_R_IDLE, WC_FEED1, CL_ERR_STATE },
    { WS_R_IDLE, WC_TIMEOUT, CL_ERR_STATE }, { WS_R_IDLE, WC_PARITY, CL_ERR_STATE },
    { WS_R_IDLE, WC_RESULT, CL_ERR_STATE }, { WS_R_IDLE, WC_START, CL_OK },
    { WS_R_IDLE, WC_IFS, CL_OK }, { WS_R_IDLE, WC_RESYNCH, CL_OK },
    { WS_R_IDLE, WC_ABORT, CL_ERR_STATE }, { WS_R_IDLE, WC_ERROR, CL_OK },
    /* reader sending an I-block */
    { WS_R_SEND, WC_WANT, CL_WANT_SEND }, { WS_R_SEND, WC_TIMER, CL_TIMER_NONE },
    { WS_R_SEND, WC_SENT1, CL_OK }, { WS_R_SEND, WC_FEED1, CL_ERR_STATE },
    { WS_R_SEND, WC_TIMEOUT, CL_ERR_STATE }, { WS_R_SEND, WC_PARITY, CL_ERR_STATE },
    { WS_R_SEND, WC_RESULT, CL_ERR_STATE }, { WS_R_SEND, WC_START, CL_ERR_STATE },
    { WS_R_SEND, WC_IFS, CL_ERR_STATE }, { WS_R_SEND, WC_RESYNCH, CL_ERR_STATE },
    { WS_R_SEND, WC_ABORT, CL_OK }, { WS_R_SEND, WC_ERROR, CL_OK },
    /* reader waiting for the answer: BWT (BWI 4, F 372, D 1) armed */
    { WS_R_RECV, WC_WANT, CL_WANT_RECV }, { WS_R_RECV, WC_TIMER, 15371 },
    { WS_R_RECV, WC_SENT1, CL_ERR_STATE }, { WS_R_RECV, WC_FEED1, 1 },
    { WS_R_RECV, WC_TIMEOUT, CL_OK }, { WS_R_RECV, WC_PARITY, CL_OK },
    { WS_R_RECV, WC_RESULT, CL_ERR_STATE }, { WS_R_RECV, WC_START, CL_ERR_STATE },
    { WS_R_RECV, WC_IFS, CL_ERR_STATE }, { WS_R_RECV, WC_RESYNCH, CL_ERR_STATE },
    { WS_R_RECV, WC_ABORT, CL_OK }, { WS_R_RECV, WC_ERROR, CL_OK },
    /* reader done: result 2 (90 00) */
    { WS_R_DONE, WC_WANT, CL_WANT_DONE }, { WS_R_DONE, WC_TIMER, CL_TIMER_NONE },
    { WS_R_DONE, WC_SENT1, CL_ERR_STATE }, { WS_R_DONE, WC_FEED1, CL_ERR_STATE },
    { WS_R_DONE, WC_TIMEOUT, CL_ERR_STATE }, { WS_R_DONE, WC_PARITY, CL_ERR_STATE },
    { WS_R_DONE, WC_RESULT, 2 }, { WS_R_DONE, WC_START, CL_OK },
    { WS_R_DONE, WC_IFS, CL_OK }, { WS_R_DONE, WC_RESYNCH, CL_OK },
    { WS_R_DONE, WC_ABORT, CL_ERR_STATE }, { WS_R_DONE, WC_ERROR, CL_OK },
    /* reader failed: everything refused, the error sticky */
    { WS_R_FAILED, WC_WANT, CL_WANT_FAILED }, { WS_R_FAILED, WC_TIMER, CL_TIMER_NONE },
    { WS_R_FAILED, WC_SENT1, CL_ERR_STATE }, { WS_R_FAILED, WC_FEED1, CL_ERR_STATE },
    { WS_R_FAILED, WC_TIMEOUT, CL_ERR_STATE }, { WS_R_FAILED, WC_PARITY, CL_ERR_STATE },
    { WS_R_FAILED, WC_RESULT, CL_ERR_STATE }, { WS_R_FAILED, WC_START, CL_ERR_STATE },
    { WS_R_FAILED, WC_IFS, CL_ERR_STATE }, { WS_R_FAILED, WC_RESYNCH, CL_ERR_STATE },
    { WS_R_FAILED, WC_ABORT, CL_ERR_STATE }, { WS_R_FAILED, WC_ERROR, CL_ERR_TIMEOUT },
    /* what the hand-written API test checked besides (folded in here) */
    { WS_NULL, WC_PULL, 0 }, { WS_NULL, WC_STATS, 0 },
    { WS_NULL, WC_IFSC, 0 }, { WS_NULL, WC_IFSD, 0 },
    { WS_R_IFS, WC_PULL, 5 }, { WS_R_IFS, WC_SENT0, CL_OK },
    { WS_R_IFS, WC_SENT6, CL_ERR_ARG },
    /* a partial write: the rest is lent again */
    { WS_R_IFS2, WC_WANT, CL_WANT_SEND }, { WS_R_IFS2, WC_PULL, 3 },
    { WS_R_IFS2, WC_SENT0, CL_OK }, { WS_R_IFS2, WC_SENT3, CL_OK },
    { WS_R_IFS2, WC_SENT6, CL_ERR_ARG }, { WS_R_IFS2, WC_PULL_BYTE1, 0xFE },
    /* the bytes after a complete block are not consumed */
    { WS_R_IFS_RECV, WC_WANT, CL_WANT_RECV }, { WS_R_IFS_RECV, WC_FEED7, 5 },
    { WS_R_IFS_RECV, WC_PULL, 0 }, { WS_R_IFS_RECV, WC_SENT0, CL_ERR_STATE },
    { WS_R_IFS_RECV, WC_FEED_NULL, CL_ERR_ARG }, { WS_R_IFS_RECV, WC_FEED_EMPTY, 0 },
    { WS_R_IDLE, WC_FEED7, CL_ERR_STATE }, { WS_R_IDLE, WC_PULL, 0 },
    { WS_R_IDLE, WC_START_NOCMD, CL_ERR_ARG }, { WS_R_IDLE, WC_START_NORESP, CL_ERR_ARG },
    { WS_R_IDLE, WC_IFS0, CL_ERR_ARG }, { WS_R_IDLE, WC_IFS255, CL_ERR_ARG },
    { WS_R_IDLE, WC_STATS, 0 }, { WS_R_IDLE, WC_IFSC, 32 },
    /* freed: set up again before any use */
    { WS_FREED, WC_WANT, CL_WANT_IDLE }, { WS_FREED, WC_START, CL_ERR_STATE },
    { WS_FREED, WC_PULL, 0 },
#if !CL_T1_CARD
    { WS_C_UNSUP, WC_WANT, CL_WANT_IDLE }, { WS_C_UNSUP, WC_START, CL_ERR_STATE },
    { WS_C_UNSUP, WC_RESYNCH, CL_ERR_STATE }, { WS_C_UNSUP, WC_ABORT, CL_ERR_STATE },
    { WS_C_UNSUP, WC_PULL, 0 },
#endif
#if CL_T1_CARD
    { WS_R_IFS, WC_LISTEN, CL_ERR_STATE }, { WS_R_IFS, WC_RESPOND, CL_ERR_STATE },
    { WS_R_IFS, WC_WTX, CL_ERR_STATE }, { WS_R_IFS, WC_CIFS, CL_ERR_STATE },
    { WS_C_IDLE, WC_LISTEN_NULL, CL_ERR_ARG }, { WS_C_IDLE, WC_LISTEN0, CL_ERR_ARG },
    { WS_C_DONE, WC_RESPOND_NULL, CL_ERR_ARG }, { WS_C_DONE, WC_RESPOND_EMPTY, CL_OK },
    { WS_C_DONE, WC_WTX0, CL_ERR_ARG }, { WS_C_DONE, WC_CIFS0, CL_ERR_ARG },
    { WS_C_DONE, WC_CIFS255, CL_ERR_ARG }, { WS_C_SEND, WC_PULL, 3 },
    { WS_C_DONE, WC_EMPTY_BLOCK, 4 },
#endif
#if CL_T1_CARD
    { WS_NULL, WC_LISTEN, CL_ERR_ARG }, { WS_NULL, WC_RESPOND, CL_ERR_ARG },
    { WS_NULL, WC_WTX, CL_ERR_ARG }, { WS_NULL, WC_CIFS, CL_ERR_ARG },
    { WS_R_IDLE, WC_LISTEN, CL_ERR_STATE }, { WS_R_IDLE, WC_RESPOND, CL_ERR_STATE },
    { WS_R_IDLE, WC_WTX, CL_ERR_STATE }, { WS_R_IDLE, WC_CIFS, CL_ERR_STATE },
    { WS_R_DONE, WC_LISTEN, CL_ERR_STATE }, { WS_R_DONE, WC_RESPOND, CL_ERR_STATE },
    { WS_R_DONE, WC_WTX, CL_ERR_STATE }, { WS_R_DONE, WC_CIFS, CL_ERR_STATE },
    /* card set up: listen only */
    { WS_C_IDLE, WC_WANT, CL_WANT_IDLE }, { WS_C_IDLE, WC_TIMER, CL_TIMER_NONE },
    { WS_C_IDLE, WC_SENT1, CL_ERR_STATE }, { WS_C_IDLE, WC_FEED1, CL_ERR_STATE },
    { WS_C_IDLE, WC_TIMEOUT, CL_ERR_STATE }, { WS_C_IDLE, WC_PARITY, CL_ERR_STATE },
    { WS_C_IDLE, WC_RESULT, CL_ERR_STATE }, { WS_C_IDLE, WC_START, CL_ERR_STATE },
    { WS_C_IDLE, WC_IFS, CL_ERR_STATE }, { WS_C_IDLE, WC_RESYNCH, CL_ERR_STATE },
    { WS_C_IDLE, WC_ABORT, CL_ERR_STATE }, { WS_C_IDLE, WC_ERROR, CL_OK },
    { WS_C_IDLE, WC_LISTEN, CL_OK }, { WS_C_IDLE, WC_RESPOND, CL_ERR_STATE },
    { WS_C_IDLE, WC_WTX, CL_ERR_STATE }, { WS_C_IDLE, WC_CIFS, CL_ERR_STATE },
    /* card listening: no timer before a block starts (the reader's turn) */
    { WS_C_RECV, WC_WANT, CL_WANT_RECV }, { WS_C_RECV, WC_TIMER, CL_TIMER_NONE },
    { WS_C_RECV, WC_SENT1, CL_ERR_STATE }, { WS_C_RECV, WC_FEED1, 1 },
    { WS_C_RECV, WC_TIMEOUT, CL_ERR_STATE }, { WS_C_RECV, WC_PARITY, CL_OK },
    { WS_C_RECV, WC_RESULT, CL_ERR_STATE }, { WS_C_RECV, WC_START, CL_ERR_STATE },
    { WS_C_RECV, WC_IFS, CL_ERR_STATE }, { WS_C_RECV, WC_RESYNCH, CL_ERR_STATE },
    { WS_C_RECV, WC_ABORT, CL_ERR_STATE }, { WS_C_RECV, WC_ERROR, CL_OK },
    { WS_C_RECV, WC_LISTEN, CL_ERR_STATE }, { WS_C_RECV, WC_RESPOND, CL_ERR_STATE },
    { WS_C_RECV, WC_WTX, CL_ERR_STATE }, { WS_C_RECV, WC_CIFS, CL_ERR_STATE },
    /* card with a command (empty): respond, WTX or IFS */
    { WS_C_DONE, WC_WANT, CL_WANT_DONE }, { WS_C_DONE, WC_TIMER, CL_TIMER_NONE },
    { WS_C_DONE, WC_SENT1, CL_ERR_STATE }, { WS_C_DONE, WC_FEED1, CL_ERR_STATE },
    { WS_C_DONE, WC_TIMEOUT, CL_ERR_STATE }, { WS_C_DONE, WC_PARITY, CL_ERR_STATE },
    { WS_C_DONE, WC_RESULT, 0 }, { WS_C_DONE, WC_START, CL_ERR_STATE },
    { WS_C_DONE, WC_IFS, CL_ERR_STATE }, { WS_C_DONE, WC_RESYNCH, CL_ERR_STATE },
    { WS_C_DONE, WC_ABORT, CL_ERR_STATE }, { WS_C_DONE, WC_ERROR, CL_OK },
    { WS_C_DONE, WC_LISTEN, CL_ERR_STATE }, { WS_C_DONE, WC_RESPOND, CL_OK },
    { WS_C_DONE, WC_WTX, CL_OK }, { WS_C_DONE, WC_CIFS, CL_OK },
    /* card sending an unchained response: nothing to abort */
    { WS_C_SEND, WC_WANT, CL_WANT_SEND }, { WS_C_SEND, WC_TIMER, CL_TIMER_NONE },
    { WS_C_SEND, WC_SENT1, CL_OK }, { WS_C_SEND, WC_FEED1, CL_ERR_STATE },
    { WS_C_SEND, WC_TIMEOUT, CL_ERR_STATE }, { WS_C_SEND, WC_PARITY, CL_ERR_STATE },
    { WS_C_SEND, WC_RESULT, CL_ERR_STATE }, { WS_C_SEND, WC_START, CL_ERR_STATE },
    { WS_C_SEND, WC_IFS, CL_ERR_STATE }, { WS_C_SEND, WC_RESYNCH, CL_ERR_STATE },
    { WS_C_SEND, WC_ABORT, CL_ERR_STATE }, { WS_C_SEND, WC_ERROR, CL_OK },
    { WS_C_SEND, WC_LISTEN, CL_ERR_STATE }, { WS_C_SEND, WC_RESPOND, CL_ERR_STATE },
    { WS_C_SEND, WC_WTX, CL_ERR_STATE }, { WS_C_SEND, WC_CIFS, CL_ERR_STATE },
#endif
};

/* Bring *t1 to state st through the API; returns the engine to call (NULL
 * for WS_NULL). Buffers are static: the engine keeps pointers to them. */
static struct cl_t1 *wall_reach(struct cl_t1 *t1, enum wall_state st)
{
    static const uint8_t cmd[1] = { 0xA5 };
    static uint8_t resp[16], out[300];
    struct cl_t1_config cfg;
    int guard;

    if (st == WS_NULL)
        return NULL;
    cl_t1_config_default(&cfg, (st >= WS_C_IDLE && st <= WS_C_SEND) || st == WS_C_UNSUP
                                   ? CL_T1_ROLE_CARD : CL_T1_ROLE_READER);
    cfg.ifs_at_start = st == WS_R_IFS || st == WS_R_IFS2 || st == WS_R_IFS_RECV;
    if (st == WS_R_FAILED)
        cfg.max_retries = 1;
    if (st == WS_C_UNSUP) {
        ck_assert_int_eq(cl_t1_setup(t1, &cfg, NULL), CL_ERR_UNSUPPORTED);
        return t1;
    }
    ck_assert_int_eq(cl_t1_setup(t1, &cfg, NULL), CL_OK);
    switch (st) {
    case WS_R_IFS2:
        ck_assert_int_eq(cl_t1_sent(t1, 2), CL_OK);
        break;
    case WS_R_IFS_RECV:
        ck_assert_uint_eq(pull_block(t1, out, sizeof(out)), 5);
        break;
    case WS_FREED:
        cl_t1_free(t1);
        break;
    case WS_R_SEND:
    case WS_R_RECV:
    case WS_R_DONE:
        ck_assert_int_eq(cl_t1_transmit_start(t1, cmd, 1, resp, sizeof(resp)), CL_OK);
        if (st == WS_R_SEND)
            break;
        ck_assert_uint_eq(pull_block(t1, out, sizeof(out)), 5);
        if (st == WS_R_DONE)
            ck_assert_int_eq(cl_t1_feed(t1, (const uint8_t *)"\x00\x00\x02\x90\x00\x92", 6), 6);
        break;
    case WS_R_FAILED:
        /* a mute card: the block, then S(RESYNCH) three times, all lost */
        ck_assert_int_eq(cl_t1_transmit_start(t1, cmd, 1, resp, sizeof(resp)), CL_OK);
        for (guard = 0; guard < 16 && cl_t1_want(t1) != CL_WANT_FAILED; guard++) {
            (void)pull_block(t1, out, sizeof(out));
            if (cl_t1_want(t1) == CL_WANT_RECV)
                ck_assert_int_eq(cl_t1_timeout(t1), CL_OK);
        }
        ck_assert_int_eq(cl_t1_want(t1), CL_WANT_FAILED);
        break;
#if CL_T1_CARD
    case WS_C_RECV:
    case WS_C_DONE:
    case WS_C_SEND:
        ck_assert_int_eq(cl_t1_card_listen(t1, out, sizeof(out)), CL_OK);
        if (st == WS_C_RECV)
            break;
        ck_assert_int_eq(cl_t1_feed(t1, (const uint8_t *)"\x00\x00\x00\x00", 4), 4);
        if (st == WS_C_SEND)
            ck_assert_int_eq(cl_t1_card_respond(t1, (const uint8_t *)"\x90\x00", 2), CL_OK);
        break;
#endif
    default:
        break;
    }
    return t1;
}

START_TEST(test_api_wall)
{
    static uint8_t buf[8];
    static const uint8_t ifs_resp7[7] = { 0x00, 0xE1, 0x01, 0xFE, 0x1E, 0x55, 0x66 };
    const struct wall_row *w = &wall[_i];
    struct cl_t1 engine, *t1 = wall_reach(&engine, (enum wall_state)w->state);
    const uint8_t *p = buf;
    long got = 0;

    switch (w->call) {
    case WC_WANT: got = cl_t1_want(t1); break;
    case WC_TIMER: got = (long)cl_t1_timer(t1); break;
    case WC_SENT1: got = cl_t1_sent(t1, 1); break;
    case WC_FEED1: got = cl_t1_feed(t1, (const uint8_t *)"\x00", 1); break;
    case WC_TIMEOUT: got = cl_t1_timeout(t1); break;
    case WC_PARITY: got = cl_t1_parity_error(t1); break;
    case WC_RESULT: got = cl_t1_result(t1); break;
    case WC_START: got = cl_t1_transmit_start(t1, buf, 1, buf, sizeof(buf)); break;
    case WC_IFS: got = cl_t1_request_ifs(t1, 32); break;
    case WC_RESYNCH: got = cl_t1_resynch(t1); break;
    case WC_ABORT: got = cl_t1_abort(t1); break;
    case WC_ERROR: got = cl_t1_error(t1); break;
    case WC_PULL:
        got = (long)cl_t1_pull(t1, &p);
        ck_assert((got == 0) == (p == NULL));
        break;
    case WC_PULL_BYTE1:
        got = cl_t1_pull(t1, &p) >= 2 ? p[1] : -1;
        break;
    case WC_SENT0: got = cl_t1_sent(t1, 0); break;
    case WC_SENT3: got = cl_t1_sent(t1, 3); break;
    case WC_SENT6: got = cl_t1_sent(t1, 6); break;
    case WC_FEED_NULL: got = cl_t1_feed(t1, NULL, 1); break;
    case WC_FEED_EMPTY: got = cl_t1_feed(t1, NULL, 0); break;
    case WC_FEED7: got = cl_t1_feed(t1, ifs_resp7, sizeof(ifs_resp7)); break;
    case WC_START_NOCMD: got = cl_t1_transmit_start(t1, NULL, 1, buf, 8); break;
    case WC_START_NORESP: got = cl_t1_transmit_start(t1, buf, 1, NULL, 8); break;
    case WC_IFS0: got = cl_t1_request_ifs(t1, 0); break;
    case WC_IFS255: got = cl_t1_request_ifs(t1, 255); break;
    case WC_STATS: got = cl_t1_stats(t1) != NULL; break;
    case WC_IFSC: got = cl_t1_ifsc(t1); break;
    case WC_IFSD: got = cl_t1_ifsd(t1); break;
#if CL_T1_CARD
    case WC_LISTEN_NULL: got = cl_t1_card_listen(t1, NULL, 8); break;
    case WC_LISTEN0: got = cl_t1_card_listen(t1, buf, 0); break;
    case WC_RESPOND_NULL: got = cl_t1_card_respond(t1, NULL, 1); break;
    case WC_RESPOND_EMPTY: got = cl_t1_card_respond(t1, NULL, 0); break;
    case WC_WTX0: got = cl_t1_card_request_wtx(t1, 0); break;
    case WC_CIFS0: got = cl_t1_card_request_ifs(t1, 0); break;
    case WC_CIFS255: got = cl_t1_card_request_ifs(t1, 255); break;
    case WC_EMPTY_BLOCK: {
        uint8_t blk[8];
        size_t n;

        ck_assert_int_eq(cl_t1_card_respond(t1, NULL, 0), CL_OK);
        n = pull_block(t1, blk, sizeof(blk));
        got = n == 4 && memcmp(blk, "\0\0\0\0", 4) == 0 ? 4 : -1;
        break;
    }
#endif
#if CL_T1_CARD
    case WC_LISTEN: got = cl_t1_card_listen(t1, buf, sizeof(buf)); break;
    case WC_RESPOND: got = cl_t1_card_respond(t1, buf, 1); break;
    case WC_WTX: got = cl_t1_card_request_wtx(t1, 1); break;
    case WC_CIFS: got = cl_t1_card_request_ifs(t1, 32); break;
#endif
    default: ck_abort_msg("bad call");
    }
    ck_assert_msg(got == w->expected, "row %d: state %d call %d: %ld, expected %ld",
                  _i, w->state, w->call, got, w->expected);
}
END_TEST

/* max_retries (1..15): a mute card gets max_retries - 1 R-blocks "other
 * error" and then S(RESYNCH request) (§11.6.3.2 rule 7.1 then 6); the
 * exchange ends with CL_ERR_PROTOCOL once the card answers it. 15 is the
 * largest value setup takes (issue 11 §7: nothing tested it). */
static const uint8_t retry_cases[] = { 1, 2, 3, 15 };

START_TEST(test_max_retries)
{
    struct cl_t1 t1;
    struct cl_t1_config cfg;
    struct cl_t1_stats st;
    static const uint8_t cmd[5] = { 0x00, 0x84, 0x00, 0x00, 0x08 };
    uint8_t resp[16], out[300];
    unsigned i, n = retry_cases[_i];

    cl_t1_config_default(&cfg, CL_T1_ROLE_READER);
    cfg.ifs_at_start = false;
    cfg.max_retries = (uint8_t)n;
    ck_assert_int_eq(cl_t1_setup(&t1, &cfg, &st), CL_OK);
    ck_assert_int_eq(cl_t1_transmit_start(&t1, cmd, sizeof(cmd), resp, sizeof(resp)), CL_OK);
    ck_assert_uint_eq(pull_block(&t1, out, sizeof(out)), 9);
    for (i = 1; i < n; i++) {
        ck_assert_int_eq(cl_t1_timeout(&t1), CL_OK);
        ck_assert_uint_eq(pull_block(&t1, out, sizeof(out)), 4);
        cl_assert_bytes(out, 4, "00 82 00 82");
    }
    ck_assert_int_eq(cl_t1_timeout(&t1), CL_OK);
    ck_assert_uint_eq(pull_block(&t1, out, sizeof(out)), 4);
    cl_assert_bytes(out, 4, "00 C0 00 C0");
    ck_assert_int_eq(cl_t1_feed(&t1, (const uint8_t *)"\x00\xE0\x00\xE0", 4), 4);
    ck_assert_int_eq(cl_t1_want(&t1), CL_WANT_DONE);
    ck_assert_int_eq(cl_t1_result(&t1), CL_ERR_PROTOCOL);
    ck_assert_uint_eq(cl_t1_stats(&t1)->timeouts, n);
    ck_assert_uint_eq(cl_t1_stats(&t1)->resynchs, 1);
    /* the first R-block answers the I-block; the others repeat it */
    ck_assert_uint_eq(cl_t1_stats(&t1)->retransmissions, n >= 2 ? n - 2 : 0);
    ck_assert_uint_eq(cl_t1_stats(&t1)->blocks_sent, n + 1);
    /* one more than 15 is refused */
    cfg.max_retries = 16;
    ck_assert_int_eq(cl_t1_setup(&t1, &cfg, NULL), CL_ERR_ARG);
}
END_TEST

/* An I-block with INF is pulled in three pieces, the INF straight from the
 * command buffer; every position of a partial send gives the right piece
 * (regression: fuzz/regressions/t1_* formed a pointer past blk). */
START_TEST(test_pull_pieces)
{
    struct cl_t1 t1;
    struct cl_t1_config cfg;
    static const uint8_t cmd[3] = { 0xA1, 0xB2, 0xC3 };
    uint8_t resp[8];
    const uint8_t *p;

    cl_t1_config_default(&cfg, CL_T1_ROLE_READER);
    cfg.ifs_at_start = false;
    ck_assert_int_eq(cl_t1_setup(&t1, &cfg, NULL), CL_OK);
    ck_assert_int_eq(cl_t1_transmit_start(&t1, cmd, 3, resp, sizeof(resp)), CL_OK);
    ck_assert_uint_eq(cl_t1_pull(&t1, &p), 3);
    cl_assert_bytes(p, 3, "00 00 03");
    ck_assert_int_eq(cl_t1_sent(&t1, 8), CL_ERR_ARG);   /* block is 7 */
    ck_assert_int_eq(cl_t1_sent(&t1, 3), CL_OK);
    ck_assert_uint_eq(cl_t1_pull(&t1, &p), 3);
    ck_assert_ptr_eq(p, cmd);
    ck_assert_int_eq(cl_t1_sent(&t1, 2), CL_OK);
    ck_assert_uint_eq(cl_t1_pull(&t1, &p), 1);
    ck_assert_ptr_eq(p, cmd + 2);
    ck_assert_int_eq(cl_t1_sent(&t1, 1), CL_OK);
    ck_assert_uint_eq(cl_t1_pull(&t1, &p), 1);
    cl_assert_bytes(p, 1, "D3");     /* LRC of 00 00 03 A1 B2 C3 */
    ck_assert_int_eq(cl_t1_sent(&t1, 1), CL_OK);
    ck_assert_int_eq(cl_t1_want(&t1), CL_WANT_RECV);
    ck_assert_uint_eq(cl_t1_pull(&t1, &p), 0);
}
END_TEST

/* cl_t1_pullv() gives the rest of the block from every position as the
 * pieces of cl_t1_pull() in a row, and cl_t1_sent() takes any count up to
 * the block's end, across pieces. */
START_TEST(test_pullv)
{
    struct cl_t1 t1;
    struct cl_t1_config cfg;
    static const uint8_t cmd[3] = { 0xA1, 0xB2, 0xC3 };
    uint8_t block[2][8] = {
        { 0x00, 0x00, 0x03, 0xA1, 0xB2, 0xC3, 0xD3 },           /* LRC */
        { 0x00, 0x00, 0x03, 0xA1, 0xB2, 0xC3 },                 /* CRC */
    };
    struct cl_t1_piece pc[3];
    uint8_t resp[8], got[8];
    size_t pos, k, i, n, blen;
    int crc;
    uint16_t c16 = cl_crc16(block[1], 6);

    block[1][6] = (uint8_t)(c16 >> 8);
    block[1][7] = (uint8_t)c16;
    for (crc = 0; crc < 2; crc++) {
        blen = 7u + (size_t)crc;
        for (pos = 0; pos < blen; pos++) {
            cl_t1_config_default(&cfg, CL_T1_ROLE_READER);
            cfg.ifs_at_start = false;
            cfg.edc = (uint8_t)crc;
            ck_assert_int_eq(cl_t1_setup(&t1, &cfg, NULL), CL_OK);
            ck_assert_int_eq(cl_t1_transmit_start(&t1, cmd, 3, resp, sizeof(resp)), CL_OK);
            ck_assert_int_eq(cl_t1_sent(&t1, pos), CL_OK);
            k = cl_t1_pullv(&t1, pc);
            /* prologue, INF, epilogue: those not (wholly) sent yet */
            ck_assert_uint_eq(k, pos < 3 ? 3 : pos < 6 ? 2 : 1);
            for (i = n = 0; i < k; i++) {
                ck_assert_uint_ge(pc[i].len, 1);
                ck_assert_uint_le(pc[i].len, sizeof(got) - n);
                memcpy(got + n, pc[i].buf, pc[i].len);
                n += pc[i].len;
            }
            ck_assert_uint_eq(n, blen - pos);
            ck_assert_mem_eq(got, block[crc] + pos, n);
            ck_assert_ptr_eq(pc[k == 1 ? 0 : k - 2].buf,
                             k == 1 ? pc[0].buf : cmd + (pos > 3 ? pos - 3 : 0));
            ck_assert_int_eq(cl_t1_sent(&t1, n + 1), CL_ERR_ARG);
            ck_assert_int_eq(cl_t1_sent(&t1, n), CL_OK);
            ck_assert_int_eq(cl_t1_want(&t1), CL_WANT_RECV);
            ck_assert_uint_eq(cl_t1_pullv(&t1, pc), 0);
        }
    }
    /* an R- or S-block is one piece; NULL gives none */
    cl_t1_config_default(&cfg, CL_T1_ROLE_READER);
    ck_assert_int_eq(cl_t1_setup(&t1, &cfg, NULL), CL_OK);
    ck_assert_uint_eq(cl_t1_pullv(&t1, NULL), 0);
    ck_assert_uint_eq(cl_t1_pullv(NULL, pc), 0);
    ck_assert_uint_eq(cl_t1_pullv(&t1, pc), 1);
    cl_assert_bytes(pc[0].buf, pc[0].len, "00 C1 01 FE 3E");
}
END_TEST

/* Issue 11: once an exchange is over, nothing computed from its APDUs
 * stays in the engine (a VERIFY's PIN block: the EDC of the block sent,
 * the first INF byte of the block received). The same exchange with two
 * PIN blocks, same buffers, same engine address: the contexts are equal
 * afterwards. _i: reader LRC in one block; reader with IFSC 8 (chained);
 * card receiving the chained command (CL_T1_CARD builds). */
static void lrc_block(uint8_t *b, uint8_t pcb, const uint8_t *inf, uint8_t len)
{
    uint8_t i, x = 0;

    b[0] = 0;
    b[1] = pcb;
    b[2] = len;
    memcpy(b + 3, inf, len);
    for (i = 0; i < 3 + len; i++)
        x ^= b[i];
    b[3 + len] = x;
}

START_TEST(test_pin_wiped)
{
    static const uint8_t pins[2][8] = {
        { 0x2C, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0xFF },
        { 0x2C, 0x98, 0x76, 0x54, 0x32, 0x10, 0x98, 0xFF },
    };
    static uint8_t cmd[13], buf[32], out[300];
    static struct cl_t1 saved, t1;
    struct cl_t1_config cfg;
    uint8_t blk[20];
    size_t n;
    int run;

#if !CL_T1_CARD
    if (_i == 2)
        return;
#endif
    for (run = 0; run < 2; run++) {
        memcpy(cmd, "\x00\x20\x00\x80\x08", 5);
        memcpy(cmd + 5, pins[run], 8);
        cl_t1_config_default(&cfg, _i == 2 ? CL_T1_ROLE_CARD : CL_T1_ROLE_READER);
        cfg.ifs_at_start = false;
        if (_i >= 1)
            cfg.ifsc = cfg.ifsd = 8;
        ck_assert_int_eq(cl_t1_setup(&t1, &cfg, NULL), CL_OK);
        if (_i == 0) {
            ck_assert_int_eq(cl_t1_transmit_start(&t1, cmd, 13, buf, sizeof(buf)), CL_OK);
            lrc_block(blk, 0x00, cmd, 13);
            ck_assert_uint_eq(pull_block(&t1, out, sizeof(out)), 17);
            ck_assert_mem_eq(out, blk, 17);
            ck_assert_int_eq(cl_t1_feed(&t1, (const uint8_t *)"\x00\x00\x02\x90\x00\x92", 6), 6);
            ck_assert_int_eq(cl_t1_result(&t1), 2);
        } else if (_i == 1) {
            ck_assert_int_eq(cl_t1_transmit_start(&t1, cmd, 13, buf, sizeof(buf)), CL_OK);
            lrc_block(blk, 0x20, cmd, 8);
            ck_assert_uint_eq(pull_block(&t1, out, sizeof(out)), 12);
            ck_assert_mem_eq(out, blk, 12);
            ck_assert_int_eq(cl_t1_feed(&t1, (const uint8_t *)"\x00\x90\x00\x90", 4), 4);
            lrc_block(blk, 0x40, cmd + 8, 5);
            ck_assert_uint_eq(pull_block(&t1, out, sizeof(out)), 9);
            ck_assert_mem_eq(out, blk, 9);
            ck_assert_int_eq(cl_t1_feed(&t1, (const uint8_t *)"\x00\x00\x02\x90\x00\x92", 6), 6);
            ck_assert_int_eq(cl_t1_result(&t1), 2);
#if CL_T1_CARD
        } else {
            ck_assert_int_eq(cl_t1_card_listen(&t1, buf, sizeof(buf)), CL_OK);
            lrc_block(blk, 0x20, cmd, 8);
            ck_assert_int_eq(cl_t1_feed(&t1, blk, 12), 12);
            ck_assert_uint_eq(pull_block(&t1, out, sizeof(out)), 4);
            cl_assert_bytes(out, 4, "00 90 00 90");
            lrc_block(blk, 0x40, cmd + 8, 5);
            ck_assert_int_eq(cl_t1_feed(&t1, blk, 9), 9);
            ck_assert_int_eq(cl_t1_result(&t1), 13);
            ck_assert_mem_eq(buf, cmd, 13);
            memset(buf, 0, sizeof(buf));    /* the caller wipes its own */
#endif
        }
        ck_assert_int_eq(cl_t1_want(&t1), CL_WANT_DONE);
        for (n = 0; n + 3 <= sizeof(t1); n++)
            ck_assert(memcmp((const uint8_t *)&t1 + n, pins[run] + 1, 3) != 0);
        if (run == 0)
            memcpy(&saved, &t1, sizeof(t1));
    }
    for (n = 0; n < sizeof(t1); n++)
        ck_assert_msg(((const uint8_t *)&saved)[n] == ((const uint8_t *)&t1)[n],
                      "byte %zu of struct cl_t1 depends on the PIN", n);
}
END_TEST

/* The same for a response (it may carry a secret): the reader's context
 * after two exchanges whose responses differ only in their first byte is
 * the same, whichever path took the block (one call or byte by byte). */
START_TEST(test_response_wiped)
{
    static const uint8_t cmd[5] = { 0x80, 0xCA, 0x00, 0x42, 0x00 };
    static uint8_t buf[8], out[16], blk[8];
    static struct cl_t1 saved, t1;
    struct cl_t1_config cfg;
    int run, i;

    for (run = 0; run < 2; run++) {
        cl_t1_config_default(&cfg, CL_T1_ROLE_READER);
        cfg.ifs_at_start = false;
        ck_assert_int_eq(cl_t1_setup(&t1, &cfg, NULL), CL_OK);
        ck_assert_int_eq(cl_t1_transmit_start(&t1, cmd, 5, buf, sizeof(buf)), CL_OK);
        ck_assert_uint_eq(pull_block(&t1, out, sizeof(out)), 9);
        lrc_block(blk, 0x00, (const uint8_t *)(run ? "\x5A\x90\x00" : "\xA5\x90\x00"), 3);
        if (_i == 0) {
            ck_assert_int_eq(cl_t1_feed(&t1, blk, 7), 7);
        } else {
            for (i = 0; i < 7; i++)
                ck_assert_int_eq(cl_t1_feed(&t1, blk + i, 1), 1);
        }
        ck_assert_int_eq(cl_t1_result(&t1), 3);
        ck_assert_int_eq(buf[0], run ? 0x5A : 0xA5);
        if (run == 0)
            memcpy(&saved, &t1, sizeof(t1));
    }
    for (i = 0; i < (int)sizeof(t1); i++)
        ck_assert_msg(((const uint8_t *)&saved)[i] == ((const uint8_t *)&t1)[i],
                      "byte %d of struct cl_t1 depends on the response", i);
}
END_TEST

/* After deactivation everything is refused until setup. */
START_TEST(test_deactivated_is_sticky)
{
    static struct run r;
    const uint8_t *p;

    run_script(&r, find("reader_resynch_fails"));
    ck_assert_int_eq(cl_t1_transmit_start(&r.t1, r.cmd, 1, r.resp, 1), CL_ERR_STATE);
    ck_assert_int_eq(cl_t1_resynch(&r.t1), CL_ERR_STATE);
    ck_assert_int_eq(cl_t1_feed(&r.t1, r.cmd, 1), CL_ERR_STATE);
    ck_assert_int_eq(cl_t1_timeout(&r.t1), CL_ERR_STATE);
    ck_assert_uint_eq(cl_t1_pull(&r.t1, &p), 0);
    ck_assert_int_eq(cl_t1_result(&r.t1), CL_ERR_STATE);
    ck_assert_int_eq(cl_t1_want(&r.t1), CL_WANT_FAILED);
}
END_TEST

/* §11.6.2.2 rule 3: the timer after S(WTX response) is BWT x WTX, which
 * overflows 32 bits only at the slowest rates (BWI 9, D 64) with a large
 * multiplier: then it saturates at CL_TIMER_MAX. Computed by 16-bit halves:
 * the cases reach each way out (the high product above 16 bits; the carry
 * of the sum). */
static const struct {
    uint16_t f;
    uint8_t d, bwi, wtx;
} wtx_cases[] = {
    { 372, 1, 4, 255 },         /* usual rates: no overflow */
    { 372, 64, 9, 136 },        /* BWT 31457291: 4278191576, exact */
    { 372, 64, 9, 137 },        /* high product 480 x 137 > 0xFFFF */
    { 512, 64, 9, 187 },        /* BWT 22855691: 4274014217, exact */
    { 512, 64, 9, 188 },        /* 4296869908: the sum carries */
    { 2048, 1, 0, 1 },          /* smallest BWT, WTX 1 */
};

START_TEST(test_wtx_product)
{
    struct cl_t1 t1;
    struct cl_t1_config cfg;
    uint8_t cmd[5] = { 0, 0xA4, 0, 0, 0 }, resp[8], out[16];
    uint8_t req[5] = { 0, 0xC3, 1, 0, 0 };
    uint64_t want;

    cl_t1_config_default(&cfg, CL_T1_ROLE_READER);
    cfg.ifs_at_start = false;
    cfg.f = wtx_cases[_i].f;
    cfg.d = wtx_cases[_i].d;
    cfg.bwi = wtx_cases[_i].bwi;
    ck_assert_int_eq(cl_t1_setup(&t1, &cfg, NULL), CL_OK);
    ck_assert_int_eq(cl_t1_transmit_start(&t1, cmd, sizeof(cmd), resp, sizeof(resp)), CL_OK);
    ck_assert_uint_eq(pull_block(&t1, out, sizeof(out)), 4 + sizeof(cmd));
    want = cl_rate_bwt_etu(cfg.bwi, cfg.f, cfg.d);
    ck_assert_uint_eq(cl_t1_timer(&t1), want);
    req[3] = wtx_cases[_i].wtx;
    req[4] = cl_lrc(req, 4);
    ck_assert_int_eq(cl_t1_feed(&t1, req, sizeof(req)), (int)sizeof(req));
    ck_assert_uint_eq(pull_block(&t1, out, sizeof(out)), 5);
    ck_assert_int_eq(out[1], 0xE3);
    ck_assert_int_eq(cl_t1_want(&t1), CL_WANT_RECV);
    want *= wtx_cases[_i].wtx;
    if (want > CL_TIMER_MAX)        /* saturated, never "none" */
        want = CL_TIMER_MAX;
    ck_assert_uint_eq(cl_t1_timer(&t1), want);
}
END_TEST

#if CL_T1_CARD
/* ------------------------------------------------------------ line sim */

static uint32_t rng_state;

static uint32_t xorshift32(void)
{
    uint32_t x = rng_state;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

/* One direction of the line: the bytes in flight and, optionally, where
 * the receiver sees a parity error. */
struct wire {
    uint8_t q[2 * CL_T1_BLOCK_MAX];
    size_t len, pos;
    size_t parity_at;       /* index + 1, 0 for none */
};

struct sim_stats {
    unsigned ok, failed_resynch, aborted, deactivated, faults, wtx;
};

static unsigned fault_pct;

static void transmit(struct cl_t1 *from, struct wire *to, struct wire *own,
                     struct sim_stats *ss)
{
    size_t n = pull_block(from, to->q, CL_T1_BLOCK_MAX);
    uint32_t f;

    ck_assert_uint_gt(n, 3);
    /* half duplex: whatever arrived while we were not listening is gone */
    own->len = own->pos = own->parity_at = 0;
    to->len = n;
    to->pos = 0;
    to->parity_at = 0;
    if (xorshift32() % 100 >= fault_pct)
        return;
    ss->faults++;
    f = xorshift32() % 5;
    switch (f) {
    case 0:     /* corrupt a byte */
        to->q[xorshift32() % n] ^= (uint8_t)(1u << (xorshift32() % 8));
        break;
    case 1:     /* lose the block */
        to->len = 0;
        break;
    case 2:     /* duplicate it */
        memcpy(to->q + n, to->q, n);
        to->len = 2 * n;
        break;
    case 3:     /* cut it short */
        to->len = xorshift32() % n;
        break;
    default:    /* parity error on one character */
        to->parity_at = xorshift32() % n + 1;
        break;
    }
}

/* Feed what is in flight; true when something happened. */
static bool deliver(struct cl_t1 *t1, struct wire *w)
{
    int rc;

    if (w->pos >= w->len || cl_t1_want(t1) != CL_WANT_RECV)
        return false;
    if (w->parity_at && w->pos < w->parity_at && w->parity_at <= w->len) {
        size_t upto = w->parity_at;

        if (w->pos < upto - 1) {
            rc = cl_t1_feed(t1, w->q + w->pos, upto - 1 - w->pos);
            ck_assert_int_ge(rc, 0);
            w->pos += (size_t)rc;
            return true;
        }
        ck_assert_int_eq(cl_t1_parity_error(t1), CL_OK);
        w->parity_at = 0;
    }
    rc = cl_t1_feed(t1, w->q + w->pos, w->len - w->pos);
    ck_assert_int_ge(rc, 1);
    w->pos += (size_t)rc;
    return true;
}

static void sim_setup(struct cl_t1 *reader, struct cl_t1 *card, uint8_t *card_buf,
                      size_t card_size, int edc, int ifsc, int ifsd)
{
    struct cl_t1_config cfg;

    cl_t1_config_default(&cfg, CL_T1_ROLE_READER);
    cfg.edc = (uint8_t)edc;
    cfg.ifsc = (uint8_t)ifsc;
    cfg.ifsd = (uint8_t)ifsd;
    ck_assert_int_eq(cl_t1_setup(reader, &cfg, &t1_counters), CL_OK);
    cfg.role = CL_T1_ROLE_CARD;
    ck_assert_int_eq(cl_t1_setup(card, &cfg, &card_stats), CL_OK);
    ck_assert_int_eq(cl_t1_card_listen(card, card_buf, card_size), CL_OK);
}

/* Run until the reader is IDLE, DONE or DEACTIVATE. */
static void sim_run(struct cl_t1 *reader, struct cl_t1 *card, struct wire *to_card,
                    struct wire *to_reader, uint8_t *card_buf, struct sim_stats *ss)
{
    int steps = 0;

    for (;;) {
        enum cl_want rw = cl_t1_want(reader), cw = cl_t1_want(card);

        ck_assert_int_lt(++steps, 20000);
        if (rw == CL_WANT_DONE || rw == CL_WANT_IDLE || rw == CL_WANT_FAILED)
            return;
        if (rw == CL_WANT_SEND) {
            transmit(reader, to_card, to_reader, ss);
            continue;
        }
        if (cw == CL_WANT_SEND) {
            transmit(card, to_reader, to_card, ss);
            continue;
        }
        if (cw == CL_WANT_DONE) {
            int n = cl_t1_result(card);

            ck_assert_int_ge(n, 0);
            if (xorshift32() % 16 == 0) {
                ss->wtx++;
                ck_assert_int_eq(cl_t1_card_request_wtx(card, (uint8_t)(1 + xorshift32() % 4)),
                                 CL_OK);
            } else {
                /* echo: the response is a copy of the command (it must
                 * not overlap the command buffer) */
                static uint8_t echo[600];

                memcpy(echo, card_buf, (size_t)n);
                ck_assert_int_eq(cl_t1_card_respond(card, echo, (size_t)n), CL_OK);
            }
            continue;
        }
        ck_assert_int_eq(rw, CL_WANT_RECV);
        ck_assert_int_eq(cw, CL_WANT_RECV);
        if (deliver(card, to_card) || deliver(reader, to_reader))
            continue;
        /* Silence on the line: the card's CWT if it is inside a block,
         * else the reader's BWT or CWT. */
        if (cl_t1_timer(card) != CL_TIMER_NONE)
            ck_assert_int_eq(cl_t1_timeout(card), CL_OK);
        else
            ck_assert_int_eq(cl_t1_timeout(reader), CL_OK);
    }
}

static void echo_run(uint32_t seed, unsigned pct, unsigned count, int edc, struct sim_stats *ss)
{
    static struct cl_t1 reader, card;
    static struct wire to_card, to_reader;
    static uint8_t cmd[600], resp[600], card_buf[600];
    unsigned i;

    rng_state = seed;
    fault_pct = pct;
    memset(ss, 0, sizeof(*ss));
    memset(&to_card, 0, sizeof(to_card));
    memset(&to_reader, 0, sizeof(to_reader));
    sim_setup(&reader, &card, card_buf, sizeof(card_buf), edc, 32, 254);
    sim_run(&reader, &card, &to_card, &to_reader, card_buf, ss);
    for (i = 0; i < count; i++) {
        size_t len = xorshift32() % 400, k;
        int rc;

        for (k = 0; k < len; k++)
            cmd[k] = (uint8_t)xorshift32();
        if (cl_t1_want(&reader) == CL_WANT_FAILED) {
            /* cold reset of both ends */
            ss->deactivated++;
            memset(&to_card, 0, sizeof(to_card));
            memset(&to_reader, 0, sizeof(to_reader));
            sim_setup(&reader, &card, card_buf, sizeof(card_buf), edc, 32, 254);
            sim_run(&reader, &card, &to_card, &to_reader, card_buf, ss);
            i--;
            continue;
        }
        ck_assert_int_eq(cl_t1_transmit_start(&reader, cmd, len, resp, sizeof(resp)), CL_OK);
        sim_run(&reader, &card, &to_card, &to_reader, card_buf, ss);
        if (cl_t1_want(&reader) == CL_WANT_FAILED)
            continue;
        ck_assert_int_eq(cl_t1_want(&reader), CL_WANT_DONE);
        rc = cl_t1_result(&reader);
        if (rc >= 0) {
            ck_assert_msg((size_t)rc == len && memcmp(resp, cmd, len) == 0,
                          "APDU %u: echo differs (%d bytes for %u)", i, rc, (unsigned)len);
            ss->ok++;
        } else if (rc == CL_ERR_PROTOCOL) {
            ss->failed_resynch++;
        } else {
            ck_assert_int_eq(rc, CL_ERR_ABORTED);
            ss->aborted++;
        }
    }
}

START_TEST(test_echo_clean)
{
    struct sim_stats ss;

    echo_run(0x12345678u, 0, 300, _i, &ss);
    ck_assert_uint_eq(ss.ok, 300);
}
END_TEST

START_TEST(test_echo_faults)
{
    struct sim_stats ss;
    static const uint32_t seeds[] = { 0xC0FFEEu, 0xBADC0DEu, 0x7816u, 0x13239u };

    echo_run(seeds[_i], 3, 1000, _i & 1, &ss);
    printf("t1 echo seed %08X (%s): %u ok, %u resynchronised, %u aborted, "
           "%u deactivations, %u faults injected, %u WTX\n",
           (unsigned)seeds[_i], (_i & 1) ? "CRC" : "LRC", ss.ok, ss.failed_resynch,
           ss.aborted, ss.deactivated, ss.faults, ss.wtx);
    ck_assert_uint_eq(ss.ok + ss.failed_resynch + ss.aborted, 1000);
    ck_assert_uint_ge(ss.ok, 950);
    ck_assert_uint_gt(ss.faults, 50);
}
END_TEST
#endif /* CL_T1_CARD */

static Suite *t1_suite(void)
{
    Suite *s = suite_create("t1");
    TCase *tc = tcase_create("scenarios");
    TCase *api = tcase_create("api");
#if CL_T1_CARD
    TCase *sim = tcase_create("line");
#endif

#if CL_T1_CARD
    tcase_add_loop_test(tc, test_scenario, 0, (int)CL_ARRAY_LEN(scenarios));
#else
    {   /* no card engine in this build: register the reader's scenarios only */
        int i;

        for (i = 0; i < (int)CL_ARRAY_LEN(scenarios); i++)
            if (scenarios[i].role == 'R')
                tcase_add_loop_test(tc, test_scenario, i, i + 1);
    }
#endif
#if CL_T1_CARD
    tcase_add_loop_test(tc, test_gap, 0, (int)CL_ARRAY_LEN(gaps));
#else
    {
        int i;

        for (i = 0; i < (int)CL_ARRAY_LEN(gaps); i++)
            if (gaps[i].role == 'R')
                tcase_add_loop_test(tc, test_gap, i, i + 1);
    }
#endif
    tcase_add_test(tc, test_stats);
    tcase_add_test(tc, test_pull_pieces);
    tcase_add_test(tc, test_pullv);
    tcase_add_loop_test(tc, test_pin_wiped, 0, 3);
    tcase_add_loop_test(tc, test_response_wiped, 0, 2);
    suite_add_tcase(s, tc);
    tcase_add_test(api, test_config_errors);
    tcase_add_test(api, test_config_edges);
    tcase_add_loop_test(api, test_api_wall, 0, (int)CL_ARRAY_LEN(wall));
    tcase_add_loop_test(api, test_max_retries, 0, (int)CL_ARRAY_LEN(retry_cases));
    tcase_add_test(api, test_deactivated_is_sticky);
    tcase_add_loop_test(api, test_wtx_product, 0, (int)CL_ARRAY_LEN(wtx_cases));
    suite_add_tcase(s, api);
#if CL_T1_CARD
    tcase_set_timeout(sim, 120);
    tcase_add_loop_test(sim, test_echo_clean, 0, 2);
    tcase_add_loop_test(sim, test_echo_faults, 0, 4);
    suite_add_tcase(s, sim);
#endif
    return s;
}

int main(void)
{
    return cl_test_run(t1_suite());
}
