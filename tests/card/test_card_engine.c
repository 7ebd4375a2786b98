/*
 * cardlink — the card session engine driven by hand, one call at a time:
 * the edges a one-at-a-time fault run of lib/card/card_engine.c showed no
 * test watching (TS variants, the defaults of each reset, the PPS request
 * sent in pieces and its waiting time, what start() clears, the calls
 * after stop() while the power-off is pending, the quiet look's parity
 * error, the exchange deadline at its saturation point, the T=1 IFS
 * exchange of activation, the counters). No line is ever called: the test
 * plays the line (docs/porting.md, `struct cl_card_line`: firmware that
 * cannot block drives the card engine from its events).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/card.h"
#include "cardlink/error.h"
#include "test_util.h"

/* A line the engine must never call (the caller moves the bytes). */
static int l_send(void *c, const uint8_t *b, size_t n)
{
    (void)c; (void)b; (void)n;
    ck_abort_msg("the engine called the line");
    return CL_ERR_INTERNAL;
}

static int l_recv(void *c, uint8_t *b, size_t n, uint32_t *t)
{
    (void)c; (void)b; (void)n; (void)t;
    ck_abort_msg("the engine called the line");
    return CL_ERR_INTERNAL;
}

static int l_reset(void *c, bool warm)
{
    (void)c; (void)warm;
    ck_abort_msg("the engine called the line");
    return CL_ERR_INTERNAL;
}

static int l_params(void *c, const struct cl_card_line_params *p)
{
    (void)c; (void)p;
    ck_abort_msg("the engine called the line");
    return CL_ERR_INTERNAL;
}

static void l_off(void *c)
{
    (void)c;
    ck_abort_msg("the engine called the line");
}

/* The command of every exchange here: case 1, 00 70 00 00. */
static const uint8_t CASE1[4] = { 0x00, 0x70, 0x00, 0x00 };

/* setup() options */
#define E_INVHW 0x01u   /* the line decodes inverse characters itself */
#define E_T1    0x02u   /* cfg.protocol 1 */

static void setup(struct cl_card *card, struct cl_card_line *line, unsigned opts)
{
    struct cl_card_config cfg;

    memset(line, 0, sizeof(*line));
    line->send = l_send;
    line->recv = l_recv;
    line->reset = l_reset;
    line->set_params = l_params;
    line->power_off = l_off;
    line->caps.clock_khz = 3571;
    line->caps.max_clock_khz = 3571;
    line->caps.max_baud = 115200;
    line->caps.any_fd = true;
    line->caps.flags = CL_CARD_LINE_PARITY | ((opts & E_INVHW) ? CL_CARD_LINE_INVERSE_HW : 0u);
    cl_card_config_default(&cfg);
    if (opts & E_T1)
        cfg.protocol = 1;
    memset(card, 0xA5, sizeof(*card));   /* init must not need zeroed memory */
    cl_card_init_line(card, line, NULL, &cfg);
}

/* The engine asks for control step `kind`; report it done. */
static void ctrl_ok(struct cl_card *card, unsigned kind)
{
    ck_assert_int_eq(cl_card_want(card), CL_WANT_CTRL);
    ck_assert_uint_eq(cl_card_ctrl(card), kind);
    ck_assert_int_eq(cl_card_ctrl_done(card, CL_OK), CL_OK);
}

/* The engine powers the card off and ends FAILED with err (sticky). */
static void failed_with(struct cl_card *card, int err)
{
    ctrl_ok(card, CL_CARD_CTRL_OFF);
    ck_assert_int_eq(cl_card_want(card), CL_WANT_FAILED);
    ck_assert_int_eq(cl_card_error(card), err);
}

/* Feed the bytes of hex in one call; the engine must take `used`. */
static void feed(struct cl_card *card, const char *hex, int used)
{
    uint8_t b[64];
    int n = cl_test_hex(hex, b, sizeof(b));

    ck_assert_int_ge(n, 1);
    ck_assert_int_eq(cl_card_feed(card, b, (size_t)n), used);
}

/* Feed the bytes of hex as the engine asks for them (an ATR's length
 * grows with its TD bytes); every byte must be taken. */
static void feed_all(struct cl_card *card, const char *hex)
{
    uint8_t b[64];
    int n = cl_test_hex(hex, b, sizeof(b)), off = 0;

    ck_assert_int_ge(n, 1);
    while (off < n) {
        int k = cl_card_feed(card, b + off, (size_t)(n - off));
        ck_assert_int_ge(k, 1);
        off += k;
    }
}

/* Hand over what the engine wants to send, checking its bytes. */
static void sends(struct cl_card *card, const char *hex)
{
    struct cl_t1_piece pc[3];
    uint8_t all[300];
    size_t k = cl_card_pullv(card, pc), n = 0, i;

    for (i = 0; i < k; i++) {
        ck_assert_uint_le(n + pc[i].len, sizeof(all));
        memcpy(all + n, pc[i].buf, pc[i].len);
        n += pc[i].len;
    }
    cl_assert_bytes(all, n, hex);
    ck_assert_int_eq(cl_card_sent(card, n), CL_OK);
}

/* A cold activation up to TS: the default parameters, then the reset. */
static void to_ts(struct cl_card *card)
{
    ck_assert_int_eq(cl_card_start(card, false), CL_OK);
    ctrl_ok(card, CL_CARD_CTRL_PARAMS);
    ctrl_ok(card, CL_CARD_CTRL_COLD);
    ck_assert_int_eq(cl_card_want(card), CL_WANT_RECV);
}

/* A cold activation up to the rest of the ATR: TS 3B and its parameters. */
static void ts_direct(struct cl_card *card)
{
    to_ts(card);
    feed(card, "3B", 1);
    ctrl_ok(card, CL_CARD_CTRL_PARAMS);
}

/* A cold activation of the T=0 card 3B 02 14 50: ACTIVE, IDLE. */
static void activate_t0(struct cl_card *card)
{
    ts_direct(card);
    feed(card, "02", 1);
    feed(card, "14 50", 2);
    ctrl_ok(card, CL_CARD_CTRL_PARAMS);
    ck_assert_int_eq(cl_card_want(card), CL_WANT_IDLE);
    ck_assert_uint_eq(cl_card_state(card), CL_CARD_ACTIVE);
}

/* A T=0 case 1 exchange up to the point where the header is to be sent
 * (the quiet look done). */
static void t0_header_due(struct cl_card *card, uint8_t *resp, size_t size)
{

    ck_assert_int_eq(cl_card_transmit_start(card, CASE1, 4, resp, size), CL_OK);
    ck_assert_int_eq(cl_card_timeout(card), CL_OK);      /* the line is quiet */
    ck_assert_int_eq(cl_card_want(card), CL_WANT_SEND);
}

/* The T=0 case 1 exchange 00 70 00 00 answered 90 00, up to DONE. */
static void t0_exchange(struct cl_card *card, uint8_t *resp, size_t size)
{
    t0_header_due(card, resp, size);
    sends(card, "00 70 00 00 00");
    feed(card, "90 00", 2);
    ck_assert_int_eq(cl_card_want(card), CL_WANT_DONE);
}

/* Nothing of the protocol engine's memory is left. */
static void assert_engine_wiped(const struct cl_card *card)
{
    static const uint8_t zero[sizeof(card->eng)];

    ck_assert(memcmp(&card->eng, zero, sizeof(zero)) == 0);
}

/* The parameters every reset starts from: Fd, Dd, the line's clock and
 * nothing else (no guard time, direct convention, no parity yet). */
static void assert_default_params(const struct cl_card *card)
{
    struct cl_card_line_params want;

    memset(&want, 0, sizeof(want));
    want.f = 372;
    want.d = 1;
    want.clock_khz = 3571;
    ck_assert_uint_eq(cl_card_params(card)->f, want.f);
    ck_assert_uint_eq(cl_card_params(card)->d, want.d);
    ck_assert_uint_eq(cl_card_params(card)->n, 0);
    ck_assert_uint_eq(cl_card_params(card)->clock_khz, want.clock_khz);
    ck_assert_uint_eq(cl_card_params(card)->protocol, 0);
    ck_assert(!cl_card_params(card)->inverse);
    ck_assert(!cl_card_params(card)->parity);
}

/* §8.1: TS 3F on a line that decodes the inverse convention itself: the
 * line is told, the session codes nothing. */
START_TEST(test_ts_inverse_by_the_line)
{
    struct cl_card card;
    struct cl_card_line line;

    setup(&card, &line, E_INVHW);
    to_ts(&card);
    feed(&card, "3F", 1);
    ck_assert_uint_eq(cl_card_ctrl(&card), CL_CARD_CTRL_PARAMS);
    ck_assert(cl_card_params(&card)->inverse);
    ck_assert(cl_card_params(&card)->parity);
    ck_assert(!cl_card_sw_inverse(&card));
}
END_TEST

/* TS 3F seen by a direct UART that cannot decode it is not an ATR: the
 * one warm reset, then CL_ERR_BAD_TS. Two bytes offered at TS: one is
 * taken. The warm reset is counted. */
START_TEST(test_ts_3f_on_direct_line)
{
    struct cl_card card;
    struct cl_card_line line;

    setup(&card, &line, 0);
    to_ts(&card);
    feed(&card, "3F 02", 1);
    assert_default_params(&card);
    ctrl_ok(&card, CL_CARD_CTRL_PARAMS);
    ctrl_ok(&card, CL_CARD_CTRL_WARM);
    ck_assert_uint_eq(cl_card_stats(&card)->warm_resets, 1);
    ck_assert_uint_eq(cl_card_stats(&card)->cold_resets, 1);
    ck_assert_uint_eq(cl_card_info(&card)->warm_resets, 1);
    feed(&card, "3F", 1);
    failed_with(&card, CL_ERR_BAD_TS);
}
END_TEST

/* TS 03 (the inverse convention sampled by a direct UART): the session
 * codes the characters. A parity error in T0 is a bad ATR: the warm reset
 * starts again from the defaults, direct convention, no software coding;
 * the card then answers in the direct convention. And a session the
 * session coded to the end leaves no coding on once stopped. */
START_TEST(test_ts_inverse_then_bad_atr)
{
    struct cl_card card;
    struct cl_card_line line;

    setup(&card, &line, 0);
    to_ts(&card);
    feed(&card, "03", 1);
    ck_assert(cl_card_params(&card)->inverse);
    ck_assert(cl_card_sw_inverse(&card));
    ctrl_ok(&card, CL_CARD_CTRL_PARAMS);
    ck_assert_int_eq(cl_card_parity_error(&card, 0x02), CL_OK);
    ck_assert_uint_eq(cl_card_stats(&card)->parity_errors, 1);
    ck_assert_uint_eq(cl_card_stats(&card)->timeouts, 0);
    assert_default_params(&card);
    ck_assert(!cl_card_sw_inverse(&card));
    ctrl_ok(&card, CL_CARD_CTRL_PARAMS);
    ctrl_ok(&card, CL_CARD_CTRL_WARM);
    feed(&card, "3B", 1);
    ck_assert(!cl_card_sw_inverse(&card));
    ck_assert(!cl_card_params(&card)->inverse);
    ctrl_ok(&card, CL_CARD_CTRL_PARAMS);
    feed(&card, "02 14 50", 1);
    feed(&card, "14 50", 2);
    ctrl_ok(&card, CL_CARD_CTRL_PARAMS);
    ck_assert_uint_eq(cl_card_state(&card), CL_CARD_ACTIVE);
    ck_assert_uint_eq(cl_card_stats(&card)->warm_resets, 1);
    ck_assert_uint_eq(cl_card_stats(&card)->activations, 1);

    /* a session in the inverse convention, coded by the session, stopped:
     * no coding is left on for the next one */
    setup(&card, &line, 0);
    to_ts(&card);
    feed(&card, "03", 1);
    ctrl_ok(&card, CL_CARD_CTRL_PARAMS);
    feed(&card, "02 14 50", 1);
    feed(&card, "14 50", 2);
    ctrl_ok(&card, CL_CARD_CTRL_PARAMS);
    ck_assert_uint_eq(cl_card_state(&card), CL_CARD_ACTIVE);
    ck_assert(cl_card_sw_inverse(&card));
    cl_card_stop(&card);
    ctrl_ok(&card, CL_CARD_CTRL_OFF);
    ck_assert(!cl_card_sw_inverse(&card));
}
END_TEST

/* Nothing is checked before TS (§8.1): a parity error reported on TS
 * takes the character as TS. A mute card: CL_ERR_CARD_MUTE, one time-out
 * counted. */
START_TEST(test_ts_parity_and_mute)
{
    struct cl_card card;
    struct cl_card_line line;

    setup(&card, &line, 0);
    to_ts(&card);
    ck_assert_int_eq(cl_card_parity_error(&card, 0x3B), CL_OK);
    ck_assert_uint_eq(cl_card_ctrl(&card), CL_CARD_CTRL_PARAMS);
    ck_assert(cl_card_params(&card)->parity);
    ck_assert_uint_eq(cl_card_stats(&card)->parity_errors, 1);
    ck_assert_uint_eq(cl_card_stats(&card)->timeouts, 0);
    ck_assert_int_eq(cl_card_ctrl_done(&card, CL_OK), CL_OK);
    feed(&card, "02 14 50", 1);
    feed(&card, "14 50", 2);
    ctrl_ok(&card, CL_CARD_CTRL_PARAMS);
    ck_assert_uint_eq(cl_card_state(&card), CL_CARD_ACTIVE);

    setup(&card, &line, 0);
    to_ts(&card);
    ck_assert_int_eq(cl_card_timeout(&card), CL_ERR_CARD_MUTE);   /* the event ends the session */
    ck_assert_uint_eq(cl_card_stats(&card)->timeouts, 1);
    ck_assert_uint_eq(cl_card_stats(&card)->parity_errors, 0);
    failed_with(&card, CL_ERR_CARD_MUTE);
}
END_TEST

/* An ATR whose TD chain already implies more than 33 bytes is bad as soon
 * as that TD arrives: the warm reset, not a wait for bytes that cannot
 * fit. */
START_TEST(test_atr_too_long)
{
    static const uint8_t atr[] = { 0x3B, 0xFF, 0x11, 0x12, 0x13, 0xFF, 0x21, 0x22,
                                   0x23, 0xFF, 0x31, 0x32, 0x33, 0xFF };
    struct cl_card card;
    struct cl_card_line line;
    size_t i = 0;

    setup(&card, &line, 0);
    ts_direct(&card);
    for (i = 1; cl_card_want(&card) == CL_WANT_RECV; i++) {
        ck_assert_uint_lt(i, sizeof(atr));
        ck_assert_int_eq(cl_card_feed(&card, atr + i, 1), 1);
    }
    ck_assert_uint_eq(i, sizeof(atr));      /* the last TD: 34 bytes implied */
    ck_assert_uint_eq(cl_card_ctrl(&card), CL_CARD_CTRL_PARAMS);
    assert_default_params(&card);
    ctrl_ok(&card, CL_CARD_CTRL_PARAMS);
    ctrl_ok(&card, CL_CARD_CTRL_WARM);
}
END_TEST

/* §9: the PPS request handed over in two pieces, the rest after the first
 * acknowledgement; more than the rest acknowledged is refused. The
 * response's wait is WT at the default rate (9600 etu, D 1). Then the
 * response fed one byte at a time. */
START_TEST(test_pps_in_pieces)
{
    struct cl_card card;
    struct cl_card_line line;
    struct cl_t1_piece pc[3];
    const uint8_t *p = NULL;

    setup(&card, &line, 0);
    ts_direct(&card);
    feed(&card, "10 13", 1);                /* T0, then TA1 13: F 372 D 4 */
    feed(&card, "13", 1);
    ck_assert_int_eq(cl_card_want(&card), CL_WANT_SEND);
    ck_assert_uint_eq(cl_card_recv_max(&card), 0);
    ck_assert_uint_eq(cl_card_pull(&card, &p), 4);
    cl_assert_bytes(p, 4, "FF 10 13 FC");
    ck_assert_int_eq(cl_card_sent(&card, 1), CL_OK);
    ck_assert_uint_eq(cl_card_pullv(&card, pc), 1);
    cl_assert_bytes(pc[0].buf, pc[0].len, "10 13 FC");
    ck_assert_int_eq(cl_card_sent(&card, 4), CL_ERR_ARG);
    ck_assert_int_eq(cl_card_sent(&card, 3), CL_OK);
    ck_assert_uint_eq(cl_card_stats(&card)->bytes_sent, 4);
    ck_assert_int_eq(cl_card_want(&card), CL_WANT_RECV);
    ck_assert_uint_eq(cl_card_timer(&card), 1000052u);
    ck_assert_uint_eq(cl_card_recv_max(&card), 2);
    feed(&card, "FF", 1);
    feed(&card, "10", 1);
    feed(&card, "13", 1);
    feed(&card, "FC", 1);
    ck_assert_uint_eq(cl_card_ctrl(&card), CL_CARD_CTRL_PARAMS);
    ck_assert_uint_eq(cl_card_params(&card)->d, 4);
    ck_assert_int_eq(cl_card_ctrl_done(&card, CL_OK), CL_OK);
    ck_assert_uint_eq(cl_card_info(&card)->pps, CL_CARD_PPS_ACCEPTED);
}
END_TEST

/* start() after a failure clears the sticky error and the activation
 * rounds: a session that used three rounds (bad ATR, warm reset, PPS
 * unanswered, cold reset) is followed by one that gets its warm reset
 * again. */
START_TEST(test_start_clears)
{
    struct cl_card card;
    struct cl_card_line line;

    setup(&card, &line, 0);
    to_ts(&card);
    ck_assert_int_eq(cl_card_timeout(&card), CL_ERR_CARD_MUTE);
    failed_with(&card, CL_ERR_CARD_MUTE);
    to_ts(&card);
    ck_assert_int_eq(cl_card_error(&card), CL_OK);
    /* round 1: a bad ATR */
    feed(&card, "3B", 1);
    ctrl_ok(&card, CL_CARD_CTRL_PARAMS);
    ck_assert_int_eq(cl_card_parity_error(&card, 0x10), CL_OK);
    /* round 2: warm, then the PPS goes unanswered */
    ctrl_ok(&card, CL_CARD_CTRL_PARAMS);
    ctrl_ok(&card, CL_CARD_CTRL_WARM);
    feed(&card, "3B", 1);
    ctrl_ok(&card, CL_CARD_CTRL_PARAMS);
    feed_all(&card, "10 13");
    sends(&card, "FF 10 13 FC");
    ck_assert_int_eq(cl_card_timeout(&card), CL_OK);
    /* round 3: off, cold, the default rate */
    ctrl_ok(&card, CL_CARD_CTRL_OFF);
    ctrl_ok(&card, CL_CARD_CTRL_PARAMS);
    ctrl_ok(&card, CL_CARD_CTRL_COLD);
    feed(&card, "3B", 1);
    ctrl_ok(&card, CL_CARD_CTRL_PARAMS);
    feed_all(&card, "10 13");
    ctrl_ok(&card, CL_CARD_CTRL_PARAMS);
    ck_assert_uint_eq(cl_card_state(&card), CL_CARD_ACTIVE);
    cl_card_stop(&card);
    ctrl_ok(&card, CL_CARD_CTRL_OFF);
    /* the next session has its own rounds: a bad ATR gets the warm reset */
    ts_direct(&card);
    ck_assert_int_eq(cl_card_parity_error(&card, 0x10), CL_OK);
    ctrl_ok(&card, CL_CARD_CTRL_PARAMS);
    ck_assert_uint_eq(cl_card_ctrl(&card), CL_CARD_CTRL_WARM);
}
END_TEST

/* A warm start() of an ACTIVE session after an exchange: the engine's
 * memory is wiped, the session is not ACTIVE while it is reset (no ATR to
 * read), and comes back ACTIVE. */
START_TEST(test_warm_start)
{
    struct cl_card card;
    struct cl_card_line line;
    uint8_t resp[8];

    setup(&card, &line, 0);
    activate_t0(&card);
    ck_assert_ptr_nonnull(cl_card_atr(&card));
    t0_exchange(&card, resp, sizeof(resp));
    ck_assert_int_eq(cl_card_start(&card, true), CL_OK);
    assert_engine_wiped(&card);         /* the last exchange */
    ck_assert_uint_eq(cl_card_state(&card), CL_CARD_CLOSED);
    ck_assert_ptr_null(cl_card_atr(&card));
    ck_assert_ptr_null(cl_card_t0(&card));
    ctrl_ok(&card, CL_CARD_CTRL_PARAMS);
    ctrl_ok(&card, CL_CARD_CTRL_WARM);
    feed(&card, "3B", 1);
    ctrl_ok(&card, CL_CARD_CTRL_PARAMS);
    feed(&card, "02 14 50", 1);
    feed(&card, "14 50", 2);
    ctrl_ok(&card, CL_CARD_CTRL_PARAMS);
    ck_assert_uint_eq(cl_card_state(&card), CL_CARD_ACTIVE);
    ck_assert_uint_eq(cl_card_stats(&card)->warm_resets, 1);
}
END_TEST

/* stop() during a control step of the activation powers off; a second
 * stop() while the power-off is pending changes nothing. While it is
 * pending, the engine that was running takes no call: no exchange starts,
 * nothing is pulled or acknowledged, no result is read; a stop is not an
 * exchange error. cl_card_fail() takes only errors. */
START_TEST(test_stop_pending)
{
    struct cl_card card;
    struct cl_card_line line;
    struct cl_t1_piece pc[3];
    const uint8_t *p = (const uint8_t *)"x";
    uint8_t resp[8];

    setup(&card, &line, 0);
    ck_assert_int_eq(cl_card_start(&card, false), CL_OK);
    ck_assert_uint_eq(cl_card_ctrl(&card), CL_CARD_CTRL_PARAMS);
    ck_assert_uint_eq(cl_card_recv_max(&card), 0);
    cl_card_stop(&card);
    ck_assert_uint_eq(cl_card_ctrl(&card), CL_CARD_CTRL_OFF);
    cl_card_stop(&card);
    ctrl_ok(&card, CL_CARD_CTRL_OFF);
    ck_assert_int_eq(cl_card_want(&card), CL_WANT_CLOSED);
    ck_assert_int_eq(cl_card_error(&card), CL_OK);

    /* stopped with the header due */
    activate_t0(&card);
    ck_assert_uint_eq(cl_card_pull(&card, &p), 0);          /* IDLE: nothing */
    ck_assert_ptr_null(p);
    ck_assert_uint_eq(cl_card_pull(&card, NULL), 0);
    ck_assert_uint_eq(cl_card_pullv(&card, pc), 0);
    ck_assert_int_eq(cl_card_fail(&card, CL_OK), CL_ERR_ARG);
    t0_header_due(&card, resp, sizeof(resp));
    ck_assert_uint_eq(cl_card_recv_max(&card), 0);
    cl_card_stop(&card);
    ck_assert_uint_eq(cl_card_state(&card), CL_CARD_ACTIVE);   /* until the power-off */
    ck_assert_uint_eq(cl_card_pullv(&card, pc), 0);
    ck_assert_int_eq(cl_card_sent(&card, 1), CL_ERR_STATE);
    ck_assert_int_eq(cl_card_transmit_start(&card, CASE1, 4, resp, sizeof(resp)),
                     CL_ERR_STATE);
    ctrl_ok(&card, CL_CARD_CTRL_OFF);
    ck_assert_uint_eq(cl_card_state(&card), CL_CARD_CLOSED);
    ck_assert_uint_eq(cl_card_stats(&card)->apdus, 1);
    ck_assert_uint_eq(cl_card_stats(&card)->apdu_errors, 0);

    /* stopped with the result unread */
    activate_t0(&card);
    t0_exchange(&card, resp, sizeof(resp));
    ck_assert_int_eq(cl_card_result(&card), 2);
    cl_card_stop(&card);
    ck_assert_int_eq(cl_card_result(&card), CL_ERR_STATE);
    ck_assert_int_eq(cl_card_transmit_start(&card, CASE1, 4, resp, sizeof(resp)),
                     CL_ERR_STATE);
    ctrl_ok(&card, CL_CARD_CTRL_OFF);
}
END_TEST

/* The arguments the engine refuses: a line whose rate table is NULL with
 * entries (a table with entries is fine), a NULL buffer with a length;
 * feeding nothing takes nothing. */
START_TEST(test_args)
{
    static const struct cl_pps_fd pairs[1] = { { 372, 4 } };
    struct cl_card card;
    struct cl_card_line line;

    setup(&card, &line, 0);
    line.caps.pairs = NULL;
    line.caps.n_pairs = 1;
    ck_assert_int_eq(cl_card_start(&card, false), CL_ERR_ARG);
    line.caps.pairs = pairs;
    ck_assert_int_eq(cl_card_start(&card, false), CL_OK);
    ctrl_ok(&card, CL_CARD_CTRL_PARAMS);
    ctrl_ok(&card, CL_CARD_CTRL_COLD);
    ck_assert_int_eq(cl_card_feed(&card, NULL, 1), CL_ERR_ARG);
    ck_assert_int_eq(cl_card_feed(&card, (const uint8_t *)"\x3B", 0), 0);
    ck_assert_int_eq(cl_card_want(&card), CL_WANT_RECV);
    ck_assert_uint_eq(cl_card_stats(&card)->bytes_received, 0);
}
END_TEST

/* The API wall (issue 11 §3): every call of the card engine in every state
 * of a T=0 session, as a table of {state, call, expected}. Each row puts a
 * fresh engine (the line port of setup()) into its state and makes the one
 * call. */
enum cw_state {
    CW_NULL,            /* a NULL engine */
    CW_CLOSED,          /* set up, not started */
    CW_CTRL,            /* started: the default line parameters asked */
    CW_ATR,             /* cold reset done: TS awaited */
    CW_IDLE,            /* 3B 02 14 50 active, nothing started */
    CW_LOOK,            /* an exchange started: the look at a quiet line */
    CW_SEND,            /* the header due */
    CW_RECV,            /* the header sent: a procedure byte awaited */
    CW_DONE,            /* 90 00 arrived */
    CW_FAILED,          /* WT expired: off, then FAILED */
    CW_STATES
};

enum cw_call {
    CC_WANT, CC_TIMER, CC_PULL, CC_SENT1, CC_FEED1, CC_TIMEOUT, CC_PARITY, CC_CTRL_DONE,
    CC_START, CC_TRANSMIT, CC_RESULT, CC_ERROR, CC_RECV_MAX, CC_CALLS
};

static const struct {
    uint8_t state, call;
    long expected;
} card_wall[] = {
    /* NULL: CL_ERR_ARG, want FAILED, timer none, nothing to pull or receive */
    { CW_NULL, CC_WANT, CL_WANT_FAILED }, { CW_NULL, CC_TIMER, CL_TIMER_NONE },
    { CW_NULL, CC_PULL, 0 }, { CW_NULL, CC_SENT1, CL_ERR_ARG },
    { CW_NULL, CC_FEED1, CL_ERR_ARG }, { CW_NULL, CC_TIMEOUT, CL_ERR_ARG },
    { CW_NULL, CC_PARITY, CL_ERR_ARG }, { CW_NULL, CC_CTRL_DONE, CL_ERR_ARG },
    { CW_NULL, CC_START, CL_ERR_ARG }, { CW_NULL, CC_TRANSMIT, CL_ERR_ARG },
    { CW_NULL, CC_RESULT, CL_ERR_ARG }, { CW_NULL, CC_ERROR, CL_ERR_ARG },
    { CW_NULL, CC_RECV_MAX, 0 },
    /* set up: start() only; an exchange needs an active card (CLOSED) */
    { CW_CLOSED, CC_WANT, CL_WANT_CLOSED }, { CW_CLOSED, CC_TIMER, CL_TIMER_NONE },
    { CW_CLOSED, CC_PULL, 0 }, { CW_CLOSED, CC_SENT1, CL_ERR_STATE },
    { CW_CLOSED, CC_FEED1, CL_ERR_STATE }, { CW_CLOSED, CC_TIMEOUT, CL_ERR_STATE },
    { CW_CLOSED, CC_PARITY, CL_ERR_STATE }, { CW_CLOSED, CC_CTRL_DONE, CL_ERR_STATE },
    { CW_CLOSED, CC_START, CL_OK }, { CW_CLOSED, CC_TRANSMIT, CL_ERR_CLOSED },
    { CW_CLOSED, CC_RESULT, CL_ERR_STATE }, { CW_CLOSED, CC_ERROR, CL_OK },
    { CW_CLOSED, CC_RECV_MAX, 0 },
    /* the line parameters asked: ctrl_done() only */
    { CW_CTRL, CC_WANT, CL_WANT_CTRL }, { CW_CTRL, CC_TIMER, CL_TIMER_NONE },
    { CW_CTRL, CC_PULL, 0 }, { CW_CTRL, CC_SENT1, CL_ERR_STATE },
    { CW_CTRL, CC_FEED1, CL_ERR_STATE }, { CW_CTRL, CC_TIMEOUT, CL_ERR_STATE },
    { CW_CTRL, CC_PARITY, CL_ERR_STATE }, { CW_CTRL, CC_CTRL_DONE, CL_OK },
    { CW_CTRL, CC_START, CL_ERR_STATE }, { CW_CTRL, CC_TRANSMIT, CL_ERR_CLOSED },
    { CW_CTRL, CC_RESULT, CL_ERR_STATE }, { CW_CTRL, CC_ERROR, CL_OK },
    { CW_CTRL, CC_RECV_MAX, 0 },
    /* TS awaited (the initial waiting time): silence is a mute card; a parity
     * error here is TS itself (the convention is not known yet) */
    { CW_ATR, CC_WANT, CL_WANT_RECV }, { CW_ATR, CC_TIMER, 1000052 },
    { CW_ATR, CC_PULL, 0 }, { CW_ATR, CC_SENT1, CL_ERR_STATE },
    { CW_ATR, CC_FEED1, 1 }, { CW_ATR, CC_TIMEOUT, CL_ERR_CARD_MUTE },
    { CW_ATR, CC_PARITY, CL_OK }, { CW_ATR, CC_CTRL_DONE, CL_ERR_STATE },
    { CW_ATR, CC_START, CL_ERR_STATE }, { CW_ATR, CC_TRANSMIT, CL_ERR_CLOSED },
    { CW_ATR, CC_RESULT, CL_ERR_STATE }, { CW_ATR, CC_ERROR, CL_OK },
    { CW_ATR, CC_RECV_MAX, 1 },
    /* active, nothing started: transmit_start() only */
    { CW_IDLE, CC_WANT, CL_WANT_IDLE }, { CW_IDLE, CC_TIMER, CL_TIMER_NONE },
    { CW_IDLE, CC_PULL, 0 }, { CW_IDLE, CC_SENT1, CL_ERR_STATE },
    { CW_IDLE, CC_FEED1, CL_ERR_STATE }, { CW_IDLE, CC_TIMEOUT, CL_ERR_STATE },
    { CW_IDLE, CC_PARITY, CL_ERR_STATE }, { CW_IDLE, CC_CTRL_DONE, CL_ERR_STATE },
    { CW_IDLE, CC_START, CL_ERR_STATE }, { CW_IDLE, CC_TRANSMIT, CL_OK },
    { CW_IDLE, CC_RESULT, CL_ERR_STATE }, { CW_IDLE, CC_ERROR, CL_OK },
    { CW_IDLE, CC_RECV_MAX, 0 },
    /* the look at a quiet line before the header (a zero wait): silence goes
     * on, a parity error is a character out of turn */
    { CW_LOOK, CC_WANT, CL_WANT_RECV }, { CW_LOOK, CC_TIMER, 0 },
    { CW_LOOK, CC_PULL, 0 }, { CW_LOOK, CC_SENT1, CL_ERR_STATE },
    { CW_LOOK, CC_FEED1, 1 }, { CW_LOOK, CC_TIMEOUT, CL_OK },
    { CW_LOOK, CC_PARITY, CL_ERR_PROTOCOL }, { CW_LOOK, CC_CTRL_DONE, CL_ERR_STATE },
    { CW_LOOK, CC_START, CL_ERR_STATE }, { CW_LOOK, CC_TRANSMIT, CL_ERR_STATE },
    { CW_LOOK, CC_RESULT, CL_ERR_STATE }, { CW_LOOK, CC_ERROR, CL_OK },
    { CW_LOOK, CC_RECV_MAX, 33 },
    /* the header to send */
    { CW_SEND, CC_WANT, CL_WANT_SEND }, { CW_SEND, CC_TIMER, CL_TIMER_NONE },
    { CW_SEND, CC_PULL, 5 }, { CW_SEND, CC_SENT1, CL_OK },
    { CW_SEND, CC_FEED1, CL_ERR_STATE }, { CW_SEND, CC_TIMEOUT, CL_ERR_STATE },
    { CW_SEND, CC_PARITY, CL_ERR_STATE }, { CW_SEND, CC_CTRL_DONE, CL_ERR_STATE },
    { CW_SEND, CC_START, CL_ERR_STATE }, { CW_SEND, CC_TRANSMIT, CL_ERR_STATE },
    { CW_SEND, CC_RESULT, CL_ERR_STATE }, { CW_SEND, CC_ERROR, CL_OK },
    { CW_SEND, CC_RECV_MAX, 0 },
    /* a procedure byte awaited: WT expiring or a T=0 parity error ends the
     * exchange; any count may be fed (SIZE_MAX) */
    { CW_RECV, CC_WANT, CL_WANT_RECV }, { CW_RECV, CC_TIMER, 1000052 },
    { CW_RECV, CC_PULL, 0 }, { CW_RECV, CC_SENT1, CL_ERR_STATE },
    { CW_RECV, CC_FEED1, 1 }, { CW_RECV, CC_TIMEOUT, CL_ERR_TIMEOUT },
    { CW_RECV, CC_PARITY, CL_ERR_PARITY }, { CW_RECV, CC_CTRL_DONE, CL_ERR_STATE },
    { CW_RECV, CC_START, CL_ERR_STATE }, { CW_RECV, CC_TRANSMIT, CL_ERR_STATE },
    { CW_RECV, CC_RESULT, CL_ERR_STATE }, { CW_RECV, CC_ERROR, CL_OK },
    { CW_RECV, CC_RECV_MAX, -1 },
    /* the response: its length; the next exchange may start */
    { CW_DONE, CC_WANT, CL_WANT_DONE }, { CW_DONE, CC_TIMER, CL_TIMER_NONE },
    { CW_DONE, CC_PULL, 0 }, { CW_DONE, CC_SENT1, CL_ERR_STATE },
    { CW_DONE, CC_FEED1, CL_ERR_STATE }, { CW_DONE, CC_TIMEOUT, CL_ERR_STATE },
    { CW_DONE, CC_PARITY, CL_ERR_STATE }, { CW_DONE, CC_CTRL_DONE, CL_ERR_STATE },
    { CW_DONE, CC_START, CL_ERR_STATE }, { CW_DONE, CC_TRANSMIT, CL_OK },
    { CW_DONE, CC_RESULT, 2 }, { CW_DONE, CC_ERROR, CL_OK },
    { CW_DONE, CC_RECV_MAX, 0 },
    /* off and failed: the sticky error; start() activates again */
    { CW_FAILED, CC_WANT, CL_WANT_FAILED }, { CW_FAILED, CC_TIMER, CL_TIMER_NONE },
    { CW_FAILED, CC_PULL, 0 }, { CW_FAILED, CC_SENT1, CL_ERR_STATE },
    { CW_FAILED, CC_FEED1, CL_ERR_STATE }, { CW_FAILED, CC_TIMEOUT, CL_ERR_STATE },
    { CW_FAILED, CC_PARITY, CL_ERR_STATE }, { CW_FAILED, CC_CTRL_DONE, CL_ERR_STATE },
    { CW_FAILED, CC_START, CL_OK }, { CW_FAILED, CC_TRANSMIT, CL_ERR_CLOSED },
    { CW_FAILED, CC_RESULT, CL_ERR_STATE }, { CW_FAILED, CC_ERROR, CL_ERR_TIMEOUT },
    { CW_FAILED, CC_RECV_MAX, 0 },
};

static struct cl_card *cw_put(struct cl_card *card, struct cl_card_line *line, unsigned state,
                              uint8_t *resp, size_t size)
{
    if (state == CW_NULL)
        return NULL;
    setup(card, line, 0);
    if (state == CW_CLOSED)
        return card;
    ck_assert_int_eq(cl_card_start(card, false), CL_OK);
    if (state == CW_CTRL)
        return card;
    ctrl_ok(card, CL_CARD_CTRL_PARAMS);
    ctrl_ok(card, CL_CARD_CTRL_COLD);
    if (state == CW_ATR)
        return card;
    feed(card, "3B", 1);
    ctrl_ok(card, CL_CARD_CTRL_PARAMS);
    feed(card, "02", 1);
    feed(card, "14 50", 2);
    ctrl_ok(card, CL_CARD_CTRL_PARAMS);
    if (state == CW_IDLE)
        return card;
    ck_assert_int_eq(cl_card_transmit_start(card, CASE1, 4, resp, size), CL_OK);
    if (state == CW_LOOK)
        return card;
    ck_assert_int_eq(cl_card_timeout(card), CL_OK);      /* the line is quiet */
    if (state == CW_SEND)
        return card;
    sends(card, "00 70 00 00 00");
    if (state == CW_RECV)
        return card;
    if (state == CW_DONE) {
        feed(card, "90 00", 2);
        return card;
    }
    ck_assert_int_eq(cl_card_timeout(card), CL_ERR_TIMEOUT);   /* WT */
    ctrl_ok(card, CL_CARD_CTRL_OFF);
    return card;
}

START_TEST(test_card_wall)
{
    static const uint8_t b90 = 0x90;
    bool seen[CW_STATES][CC_CALLS];
    struct cl_card e;
    struct cl_card_line line;
    uint8_t resp[8], resp2[8];
    const uint8_t *p;
    size_t i;
    long got = 0;

    memset(seen, 0, sizeof(seen));
    for (i = 0; i < CL_ARRAY_LEN(card_wall); i++) {
        struct cl_card *c = cw_put(&e, &line, card_wall[i].state, resp, sizeof(resp));

        seen[card_wall[i].state][card_wall[i].call] = true;
        switch (card_wall[i].call) {
        case CC_WANT: got = (long)cl_card_want(c); break;
        case CC_TIMER: got = (long)cl_card_timer(c); break;
        case CC_PULL: got = (long)cl_card_pull(c, &p); break;
        case CC_SENT1: got = cl_card_sent(c, 1); break;
        case CC_FEED1: got = cl_card_feed(c, &b90, 1); break;
        case CC_TIMEOUT: got = cl_card_timeout(c); break;
        case CC_PARITY: got = cl_card_parity_error(c, 0x90); break;
        case CC_CTRL_DONE: got = cl_card_ctrl_done(c, CL_OK); break;
        case CC_START: got = cl_card_start(c, false); break;
        case CC_TRANSMIT: got = cl_card_transmit_start(c, CASE1, 4, resp2, sizeof(resp2)); break;
        case CC_RESULT: got = cl_card_result(c); break;
        case CC_ERROR: got = cl_card_error(c); break;
        case CC_RECV_MAX:   /* SIZE_MAX (any count) as -1 */
            got = cl_card_recv_max(c) == SIZE_MAX ? -1 : (long)cl_card_recv_max(c);
            break;
        default: ck_abort_msg("row %zu: no such call", i);
        }
        ck_assert_msg(got == card_wall[i].expected, "row %zu (state %u, call %u): got %ld, want %ld",
                      i, card_wall[i].state, card_wall[i].call, got, card_wall[i].expected);
    }
    cl_assert_wall_complete(&seen[0][0], CW_STATES, CC_CALLS);
}
END_TEST

/* T=0: a parity error during the look at the line before a header is a
 * character out of turn: the session fails with CL_ERR_PROTOCOL. */
START_TEST(test_quiet_look_parity)
{
    struct cl_card card;
    struct cl_card_line line;
    uint8_t resp[8];

    setup(&card, &line, 0);
    activate_t0(&card);
    ck_assert_int_eq(cl_card_transmit_start(&card, CASE1, 4, resp, sizeof(resp)), CL_OK);
    ck_assert_int_eq(cl_card_parity_error(&card, 0x90), CL_ERR_PROTOCOL);
    failed_with(&card, CL_ERR_PROTOCOL);
    ck_assert_uint_eq(cl_card_stats(&card)->parity_errors, 1);
    ck_assert_uint_eq(cl_card_stats(&card)->apdu_errors, 1);
}
END_TEST

/* The exchange deadline at the edge of its saturation: 4,294,967 ms is
 * 4,294,967,000 us, still below CL_TIMER_MAX, so it is kept exactly; the
 * timer shows it once nearly all of it has elapsed. */
START_TEST(test_deadline_edge)
{
    struct cl_card card;
    struct cl_card_line line;
    uint8_t resp[8];

    setup(&card, &line, 0);
    activate_t0(&card);
    cl_card_set_deadline(&card, CL_TIMER_MAX / 1000u);
    t0_header_due(&card, resp, sizeof(resp));
    sends(&card, "00 70 00 00 00");
    ck_assert_uint_eq(cl_card_timer(&card), 1000052u);     /* WT first */
    cl_card_elapsed(&card, 4294966990u);
    ck_assert_uint_eq(cl_card_timer(&card), 10u);
    cl_card_elapsed(&card, 10u);
    ck_assert_int_eq(cl_card_timeout(&card), CL_ERR_TIMEOUT);
    failed_with(&card, CL_ERR_TIMEOUT);
}
END_TEST

/* T=1 (3B 81 81 31 FE 45 4A C0, IFSC 254): the IFS exchange is part of the
 * activation, so the session is not ACTIVE, and no activation is counted,
 * until the card's S(IFS response). */
START_TEST(test_t1_ifs_is_activation)
{
    struct cl_card card;
    struct cl_card_line line;

    setup(&card, &line, E_T1);
    ts_direct(&card);
    feed(&card, "81 81 31 FE 45 4A C0", 1);
    feed_all(&card, "81 31 FE 45 4A C0");
    ctrl_ok(&card, CL_CARD_CTRL_PARAMS);
    ck_assert_int_eq(cl_card_want(&card), CL_WANT_SEND);
    ck_assert_uint_eq(cl_card_state(&card), CL_CARD_CLOSED);
    ck_assert_uint_eq(cl_card_stats(&card)->activations, 0);
    sends(&card, "00 C1 01 FE 3E");
    ck_assert_uint_eq(cl_card_state(&card), CL_CARD_CLOSED);
    feed(&card, "00 E1 01 FE 1E", 5);
    ck_assert_int_eq(cl_card_want(&card), CL_WANT_IDLE);
    ck_assert_uint_eq(cl_card_state(&card), CL_CARD_ACTIVE);
    ck_assert_uint_eq(cl_card_stats(&card)->activations, 1);
}
END_TEST

/* T=1 with IFSC FF (reserved) in TA3: the plan refuses it as soon as the
 * ATR is complete, CL_ERR_UNSUPPORTED, before any parameter changes. */
START_TEST(test_t1_setup_fails)
{
    struct cl_card card;
    struct cl_card_line line;

    setup(&card, &line, E_T1);
    ts_direct(&card);
    feed_all(&card, "81 81 31 FF 45 4A C1");
    failed_with(&card, CL_ERR_UNSUPPORTED);
}
END_TEST

/* stop() wipes the engine: nothing of the last exchange (command,
 * response bookkeeping) stays in the protocol engine's memory. */
START_TEST(test_stop_wipes_engine)
{
    struct cl_card card;
    struct cl_card_line line;
    uint8_t resp[8];

    setup(&card, &line, 0);
    activate_t0(&card);
    t0_exchange(&card, resp, sizeof(resp));
    cl_card_stop(&card);
    ctrl_ok(&card, CL_CARD_CTRL_OFF);
    assert_engine_wiped(&card);
}
END_TEST

/* A T=1 session: the activation of test_t1_ifs_is_activation. */
static void activate_t1(struct cl_card *card)
{
    ts_direct(card);
    feed_all(card, "81 81 31 FE 45 4A C0");
    ctrl_ok(card, CL_CARD_CTRL_PARAMS);
    sends(card, "00 C1 01 FE 3E");
    feed(card, "00 E1 01 FE 1E", 5);
    ck_assert_uint_eq(cl_card_state(card), CL_CARD_ACTIVE);
}

/* T=1: a parity error inside the card's block counts the character (the
 * block keeps its length) and makes the block invalid: R(0) with the
 * EDC/parity error bit, then the card's block again is the answer. */
START_TEST(test_t1_parity_in_block)
{
    struct cl_card card;
    struct cl_card_line line;
    uint8_t resp[8];

    setup(&card, &line, E_T1);
    activate_t1(&card);
    ck_assert_int_eq(cl_card_transmit_start(&card, CASE1, 4, resp, sizeof(resp)), CL_OK);
    sends(&card, "00 00 04 00 70 00 00 74");
    feed(&card, "00 00 02", 3);
    ck_assert_int_eq(cl_card_parity_error(&card, 0x90), CL_OK);
    ck_assert_int_eq(cl_card_want(&card), CL_WANT_RECV);
    feed(&card, "00 92", 2);
    sends(&card, "00 81 00 81");
    feed(&card, "00 00 02 90 00 92", 6);
    ck_assert_int_eq(cl_card_want(&card), CL_WANT_DONE);
    ck_assert_int_eq(cl_card_result(&card), 2);
    cl_assert_bytes(resp, 2, "90 00");
    ck_assert_uint_eq(cl_card_stats(&card)->parity_errors, 1);
}
END_TEST

/* T=1: a card that stays mute through every retry (§11.6.3: R(0) "other
 * error" twice after BWT) and every S(RESYNCH request) (three) fails the
 * session with the T=1 engine's own error: CL_ERR_TIMEOUT, the card went
 * mute (issue 11 §4). */
START_TEST(test_t1_mute_fails)
{
    static const char *const blocks[] = {
        "00 00 04 00 70 00 00 74", "00 82 00 82", "00 82 00 82",
        "00 C0 00 C0", "00 C0 00 C0", "00 C0 00 C0"
    };
    struct cl_card card;
    struct cl_card_line line;
    uint8_t resp[8];
    size_t i;

    setup(&card, &line, E_T1);
    activate_t1(&card);
    ck_assert_int_eq(cl_card_transmit_start(&card, CASE1, 4, resp, sizeof(resp)), CL_OK);
    for (i = 0; i < CL_ARRAY_LEN(blocks); i++) {
        sends(&card, blocks[i]);
        ck_assert_int_eq(cl_card_want(&card), CL_WANT_RECV);
        ck_assert_int_eq(cl_card_timeout(&card),
                         i + 1 < CL_ARRAY_LEN(blocks) ? CL_OK : CL_ERR_TIMEOUT);
    }
    failed_with(&card, CL_ERR_TIMEOUT);
    ck_assert_uint_eq(cl_card_stats(&card)->apdu_errors, 1);
}
END_TEST

static Suite *engine_suite(void)
{
    Suite *s = suite_create("card_engine");
    TCase *tc = tcase_create("by hand");

    tcase_add_test(tc, test_ts_inverse_by_the_line);
    tcase_add_test(tc, test_ts_3f_on_direct_line);
    tcase_add_test(tc, test_ts_inverse_then_bad_atr);
    tcase_add_test(tc, test_ts_parity_and_mute);
    tcase_add_test(tc, test_atr_too_long);
    tcase_add_test(tc, test_pps_in_pieces);
    tcase_add_test(tc, test_start_clears);
    tcase_add_test(tc, test_warm_start);
    tcase_add_test(tc, test_stop_pending);
    tcase_add_test(tc, test_args);
    tcase_add_test(tc, test_card_wall);
    tcase_add_test(tc, test_quiet_look_parity);
    tcase_add_test(tc, test_deadline_edge);
    tcase_add_test(tc, test_t1_ifs_is_activation);
    tcase_add_test(tc, test_t1_setup_fails);
    tcase_add_test(tc, test_stop_wipes_engine);
    tcase_add_test(tc, test_t1_parity_in_block);
    tcase_add_test(tc, test_t1_mute_fails);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(engine_suite());
}
