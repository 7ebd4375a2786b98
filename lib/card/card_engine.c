/*
 * cardlink — the card session as a sans-I/O engine over a byte-level line:
 * activation (TS and the convention, the ATR's budgets, the warm reset on a
 * bad ATR, PPS and the §9.3 fallback, the specific-mode retry), then the
 * T=0 or T=1 engine for each exchange. It never touches the line: it says
 * what it wants (cl_card_want()), and the caller moves the bytes and does
 * the control steps (reset, line parameters, power off). card_io.c is the
 * blocking loop over it.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "card_int.h"
#include "cardlink/error.h"
#include "cardlink/rate.h"
#include "cardlink/wipe.h"

/* The initial waiting time between ATR characters (§8.1). */
#define ATR_WT_ETU 9600u
/* Activation rounds at most: cold (bad ATR), warm, PPS failed, cold. */
#define ROUNDS 4u

/* card->step */
enum {
    E_CLOSED = 0,   /* not activated, or deactivated */
    E_CTRL,         /* a control step: card->ctrl, then card->next */
    E_TS,           /* RECV: TS */
    E_ATR,          /* RECV: the rest of the ATR */
    E_PPS_TX,       /* SEND: the PPS request */
    E_PPS_RX,       /* RECV: the PPS response */
    E_QUIET,        /* RECV with timer 0: T=0, nothing may be pending
                       before a command's header */
    E_RUN,          /* the T=0 or T=1 engine */
    E_FAILED        /* failed, card off: cl_card_error() */
};

/* card->next: what follows a control step */
enum {
    N_RESET = 1,    /* after the default parameters: the reset */
    N_TS,           /* after the reset: TS */
    N_ATR,          /* after TS's parameters: the rest of the ATR */
    N_PPS,          /* after TC1's guard time: the PPS request */
    N_REATR,        /* after the §9.3 power off: a cold reset again */
    N_RUN,          /* after the final parameters: the engine */
    N_CLOSE         /* after the power off: closed (or failed) */
};

/* card->flags */
#define K_WARM 0x01u        /* the next reset is warm */
#define K_WARM_DONE 0x02u   /* the one warm reset is spent */
#define K_NO_PPS 0x04u      /* the PPS failed: plan without */
#define K_ACTIVATING 0x08u  /* E_RUN: the T=1 IFS exchange of activation */
#define K_DEADLINE 0x10u    /* an exchange deadline is armed */
#define K_XCHG 0x20u        /* an exchange started by the caller runs */

/* see card_int.h */
uint32_t cl_cardi_etu_us(const struct cl_card *card, uint32_t etu)
{
    uint32_t us = cl_rate_etu_to_us(etu, cl_rate_etu_ns(card->params.clock_khz,
                                                        card->params.f,
                                                        card->params.d));

    return us > CL_TIMER_MAX ? CL_TIMER_MAX : us;
}

/* What the card asked for more time so far: T=1 S(WTX), T=0 NULL bytes. */
static uint32_t more_time(const struct cl_card *card)
{
    return card->protocol == 1 ? card->stats.t1.wtx
                               : card->eng.t0.stats.nulls;
}

/* The caller's exchange ended (err < 0: with an error): count it. */
static void xchg_end(struct cl_card *card, int err)
{
    if (!(card->flags & K_XCHG))
        return;
    card->flags &= (uint8_t)~K_XCHG;
    if (err < 0)
        card->stats.apdu_errors++;
    card->stats.more_time += more_time(card) - card->more_mark;
}

static NOINLINE void ctrl(struct cl_card *card, unsigned kind, unsigned next)
{
    card->step = E_CTRL;
    card->ctrl = (uint8_t)kind;
    card->next = (uint8_t)next;
}

/* Power off, then closed (err CL_OK) or failed with err. */
static int fail(struct cl_card *card, int err)
{
    card->err = (int16_t)err;
    xchg_end(card, err);
    card->flags &= (uint8_t)~(K_ACTIVATING | K_DEADLINE);
    ctrl(card, CL_CARD_CTRL_OFF, N_CLOSE);
    return err;
}

/* The default parameters, then a reset (warm with K_WARM). */
static void begin_atr(struct cl_card *card)
{
    if (card->round++ >= ROUNDS) {
        fail(card, CL_ERR_PROTOCOL);
        return;
    }
    memset(&card->params, 0, sizeof(card->params));
    card->params.f = CL_RATE_FD;
    card->params.d = CL_RATE_DD;
    card->params.clock_khz = card->line->caps.clock_khz;
    card->sw_inverse = false;
    card->rx_len = 0;
    card->info.atr_warnings = 0;    /* of this ATR only */
    ctrl(card, CL_CARD_CTRL_PARAMS, N_RESET);
}

/* A bad ATR: one warm reset (§6.2.3), then the error. */
static void atr_bad(struct cl_card *card, int err)
{
    if ((card->flags & K_WARM_DONE) || !card->cfg.warm_retry) {
        fail(card, err);
        return;
    }
    card->flags |= K_WARM | K_WARM_DONE;
    begin_atr(card);
}

/* The final parameters, then the engine. */
static NOINLINE void go_run(struct cl_card *card)
{
    card->params = card->plan.params;
    ctrl(card, CL_CARD_CTRL_PARAMS, N_RUN);
}

/* The ATR is in card->atr: protocol, rate, PPS. */
static void atr_ok(struct cl_card *card)
{
    struct cl_card_plan *plan = &card->plan;
    int rv;

    card->info.specific = (card->atr.p.flags & CL_ATR_F_SPECIFIC) != 0;
    rv = cl_card_plan(&card->atr, &card->line->caps, &card->cfg,
                      (card->flags & K_NO_PPS) == 0, plan);
    if (rv == CL_ERR_UNSUPPORTED && card->info.specific &&
        !(card->flags & K_WARM_DONE) &&
        (card->atr.p.flags & CL_ATR_F_NO_CHANGE) == 0) {
        /* §6.3.1: a card that can change mode comes back from a warm
         * reset in negotiable mode */
        card->flags |= K_WARM | K_WARM_DONE;
        begin_atr(card);
        return;
    }
    if (rv != CL_OK) {
        fail(card, rv);
        return;
    }
    if (!plan->pps) {
        go_run(card);
        return;
    }
    card->rx_len = 0;
    card->need = 2;
    if (card->params.n != card->atr.p.n) {
        /* §8.3: TC1's extra guard time holds from the end of the ATR on,
         * for the PPS request too */
        card->params.n = card->atr.p.n;
        ctrl(card, CL_CARD_CTRL_PARAMS, N_PPS);
        return;
    }
    card->step = E_PPS_TX;
}

/* §9.3: an unsuccessful PPS exchange: power off, then a cold reset and
 * the default rate without PPS. */
static void pps_bad(struct cl_card *card)
{
    card->info.pps = CL_CARD_PPS_FAILED;
    card->stats.pps_failed++;
    card->flags = (uint8_t)((card->flags | K_NO_PPS) & ~K_WARM);
    ctrl(card, CL_CARD_CTRL_OFF, N_REATR);
}

/* The ATR bytes so far: more to come, or parse. */
static void atr_check(struct cl_card *card)
{
    int need = cl_atr_expected_len(card->rx, card->rx_len);

    if (need < 0) {
        atr_bad(card, need);
    } else if ((size_t)need > card->rx_len) {
        card->need = (uint8_t)need;
        card->step = E_ATR;
    } else {
        int rv = cl_atr_parse(&card->atr, card->rx, card->rx_len);

        if (rv != CL_OK)
            atr_bad(card, rv);
        else
            atr_ok(card);
    }
}

/* The ATR stopped early (time-out): what pcsc-lite takes from real cards,
 * the interface bytes whole but the TCK missing or the historical bytes cut
 * short, is accepted with a warning (cl_card_info()); else a bad ATR. */
static void atr_short(struct cl_card *card, int err)
{
    unsigned warn = 0;

    if (cl_atr_parse_lenient(&card->atr, card->rx, card->rx_len, &warn) ==
            CL_OK &&
        (warn & ~(unsigned)(CL_ATR_W_TCK_MISSING | CL_ATR_W_HIST_SHORT)) == 0) {
        card->info.atr_warnings = (uint8_t)warn;
        atr_ok(card);
        return;
    }
    atr_bad(card, err);
}

/* TS, as received (§8.1). */
static void ts(struct cl_card *card, uint8_t c)
{
    bool hw = (card->line->caps.flags & CL_CARD_LINE_INVERSE_HW) != 0;

    switch (c) {
    case 0x3B:
        break;
    case 0x03:      /* inverse convention sampled by a direct UART */
        card->params.inverse = true;
        card->sw_inverse = !hw;
        c = 0x3F;
        break;
    case 0x3F:      /* a line that detects the convention itself */
        if (hw) {
            card->params.inverse = true;
            break;
        }
        atr_bad(card, CL_ERR_BAD_TS);
        return;
    default:
        atr_bad(card, CL_ERR_BAD_TS);
        return;
    }
    card->rx[0] = c;
    card->rx_len = 1;
    card->params.parity = true;
    ctrl(card, CL_CARD_CTRL_PARAMS, N_ATR);
}

/* The PPS response so far: more to come, or check it. */
static void pps_check(struct cl_card *card)
{
    struct cl_card_plan *plan = &card->plan;
    struct cl_pps acc;

    if (card->need == 2 && card->rx_len == 2) {
        if (card->rx[0] != CL_PPS_PPSS) {
            pps_bad(card);
            return;
        }
        card->need = (uint8_t)cl_pps_expected_len(card->rx[1]);
    }
    if (card->rx_len < card->need)
        return;
    if (cl_pps_check_response(&plan->pps_req, card->rx, card->rx_len, &acc) !=
        CL_OK) {
        pps_bad(card);
        return;
    }
    card->info.pps = (acc.present & CL_PPS_HAS_PPS1) ||
                             !(plan->pps_req.present & CL_PPS_HAS_PPS1)
                         ? CL_CARD_PPS_ACCEPTED : CL_CARD_PPS_DEFAULT;
    if (cl_card_plan_pps_result(plan, &card->line->caps, &acc) != CL_OK) {
        fail(card, CL_ERR_INTERNAL);
        return;
    }
    go_run(card);
}

/* The protocol engine's want, as enum cl_want. */
static unsigned sub_want(const struct cl_card *card)
{
    return card->protocol == 1 ? (unsigned)cl_t1_want(&card->eng.t1)
                               : (unsigned)cl_t0_want(&card->eng.t0);
}

/* After every call into the protocol engine: a failed engine deactivates
 * the card (§10.2, §11.6); the end of the activation's IFS exchange makes
 * the session ACTIVE. rc: the call's own result. */
static NOINLINE int settle(struct cl_card *card, int rc)
{
    unsigned w;

    if (rc != CL_OK)
        return fail(card, CL_ERR_INTERNAL);
    w = sub_want(card);
    if (w == CL_WANT_FAILED) {
        int err = card->protocol == 1 ? cl_t1_error(&card->eng.t1)
                                      : cl_t0_error(&card->eng.t0);

        return fail(card, err < 0 ? err : CL_ERR_PROTOCOL);
    }
    if ((card->flags & K_ACTIVATING) &&
        (w == CL_WANT_IDLE || w == CL_WANT_DONE)) {
        int r = w == CL_WANT_DONE ? cl_t1_result(&card->eng.t1) : CL_OK;

        card->flags &= (uint8_t)~K_ACTIVATING;
        if (r < 0)
            return fail(card, r);
        card->state = CL_CARD_ACTIVE;
        card->stats.activations++;
        card->stats.pps = card->info.pps;
    }
    if (w == CL_WANT_DONE && (card->flags & K_XCHG))
        xchg_end(card, cl_card_result(card));
    return CL_OK;
}

/* Set up the engine for the plan's protocol (the T=1 reader may start
 * with S(IFS request)). */
static void start_engine(struct cl_card *card)
{
    int rv;

    card->protocol = card->plan.protocol;
    if (card->protocol == 1) {
        struct cl_t1_config c;

        rv = cl_card_t1_config(&card->atr, &card->params, card->cfg.ifsd, &c);
        if (rv == CL_OK)
            rv = cl_t1_setup(&card->eng.t1, &c, &card->stats.t1);
    } else {
        struct cl_t0_config c;

        rv = cl_card_t0_config(&card->atr, &card->params, &c);
        if (rv == CL_OK)
            rv = cl_t0_setup(&card->eng.t0, &c);
    }
    if (rv != CL_OK) {
        fail(card, rv);
        return;
    }
    card->step = E_RUN;
    card->flags |= K_ACTIVATING;
    (void)settle(card, CL_OK);
}

/* see cardlink/card.h */
int cl_card_start(struct cl_card *card, bool warm)
{
    const struct cl_card_line *line;

    if (card == NULL || card->line == NULL)
        return CL_ERR_ARG;
    line = card->line;
    if (line->send == NULL || line->recv == NULL || line->reset == NULL ||
        line->set_params == NULL || line->power_off == NULL ||
        line->caps.clock_khz == 0 ||
        (line->caps.pairs == NULL && line->caps.n_pairs > 0) ||
        card->cfg.ifsd == 255u ||
        (card->cfg.protocol > 1 && card->cfg.protocol != CL_CARD_T_ANY))
        return CL_ERR_ARG;
    if (warm) {
        unsigned w = card->state == CL_CARD_ACTIVE && card->step == E_RUN
                         ? sub_want(card) : CL_WANT_FAILED;

        if (w != CL_WANT_IDLE && w != CL_WANT_DONE)
            return CL_ERR_STATE;
    } else if (card->step != E_CLOSED && card->step != E_FAILED) {
        return CL_ERR_STATE;
    }
    memset(&card->info, 0, sizeof(card->info));
    cl_wipe(&card->eng, sizeof(card->eng));
    card->state = CL_CARD_CLOSED;
    card->protocol = 0;
    card->err = CL_OK;
    card->round = 0;
    card->flags = warm ? K_WARM | K_WARM_DONE : 0u;
    begin_atr(card);
    return CL_OK;
}

/* see cardlink/card.h */
void cl_card_stop(struct cl_card *card)
{
    if (card == NULL || card->line == NULL || card->step == E_CLOSED ||
        card->step == E_FAILED ||
        (card->step == E_CTRL && card->next == N_CLOSE))
        return;
    (void)fail(card, CL_OK);
}

/* see cardlink/card.h */
enum cl_want cl_card_want(const struct cl_card *card)
{
    static const uint8_t want_of[] = {
        CL_WANT_CLOSED, CL_WANT_CTRL, CL_WANT_RECV, CL_WANT_RECV,
        CL_WANT_SEND, CL_WANT_RECV, CL_WANT_RECV, CL_WANT_IDLE,
        CL_WANT_FAILED
    };

    if (card == NULL)
        return CL_WANT_FAILED;
    if (card->step == E_RUN)
        return (enum cl_want)sub_want(card);
    return (enum cl_want)want_of[card->step];
}

/* see cardlink/card.h */
unsigned cl_card_ctrl(const struct cl_card *card)
{
    if (card == NULL || card->step != E_CTRL)
        return CL_CARD_CTRL_NONE;
    return card->ctrl;
}

/* see cardlink/card.h */
int cl_card_ctrl_done(struct cl_card *card, int rc)
{
    unsigned next;

    if (card == NULL)
        return CL_ERR_ARG;
    if (card->step != E_CTRL)
        return CL_ERR_STATE;
    next = card->next;
    if (card->ctrl == CL_CARD_CTRL_OFF) {
        if (next == N_REATR) {
            begin_atr(card);
            return CL_OK;
        }
        /* N_CLOSE */
        cl_wipe(&card->eng, sizeof(card->eng));
        card->state = CL_CARD_CLOSED;
        card->sw_inverse = false;
        card->flags = 0;
        card->step = card->err != CL_OK ? E_FAILED : E_CLOSED;
        return CL_OK;
    }
    if (rc != CL_OK) {
        fail(card, rc);
        return CL_OK;
    }
    switch (next) {
    case N_RESET:
        ctrl(card, (card->flags & K_WARM) ? CL_CARD_CTRL_WARM
                                          : CL_CARD_CTRL_COLD, N_TS);
        break;
    case N_TS:
        if (card->ctrl == CL_CARD_CTRL_WARM) {
            card->info.warm_resets++;
            card->stats.warm_resets++;
        } else {
            card->info.cold_resets++;
            card->stats.cold_resets++;
        }
        card->step = E_TS;
        break;
    case N_ATR:
        card->budget = card->cfg.atr_total_etu
                           ? cl_cardi_etu_us(card, card->cfg.atr_total_etu)
                           : UINT32_MAX;
        atr_check(card);
        break;
    case N_PPS:
        card->step = E_PPS_TX;
        break;
    default:    /* N_RUN */
        start_engine(card);
        break;
    }
    return CL_OK;
}

/* see cardlink/card.h */
size_t cl_card_recv_max(const struct cl_card *card)
{
    if (card == NULL)
        return 0;
    switch (card->step) {
    case E_TS:
        return 1;
    case E_ATR:
    case E_PPS_RX:
        return (size_t)(card->need - card->rx_len);
    case E_QUIET:
        return CL_ATR_MAX;
    case E_RUN:
        return sub_want(card) == CL_WANT_RECV ? SIZE_MAX : 0;
    default:
        return 0;
    }
}

/* see cardlink/card.h */
uint32_t cl_card_timer(const struct cl_card *card)
{
    uint32_t t;

    if (card == NULL)
        return CL_TIMER_NONE;
    switch (card->step) {
    case E_TS:
        return cl_cardi_etu_us(card, card->cfg.ts_etu);
    case E_ATR:
        t = cl_cardi_etu_us(card, ATR_WT_ETU);
        return t < card->budget ? t : card->budget;
    case E_PPS_RX:
        return cl_cardi_etu_us(card, cl_rate_wt_etu(card->atr.p.wi, 1));
    case E_QUIET:
        return 0;
    case E_RUN:
        if (sub_want(card) != CL_WANT_RECV)
            return CL_TIMER_NONE;
        t = card->protocol == 1 ? cl_t1_timer(&card->eng.t1)
                                : cl_t0_timer(&card->eng.t0);
        if (t != CL_TIMER_NONE)
            t = cl_cardi_etu_us(card, t);
        if ((card->flags & K_DEADLINE) && card->deadline < t)
            t = card->deadline;
        return t;
    default:
        return CL_TIMER_NONE;
    }
}

/* see cardlink/card.h */
void cl_card_elapsed(struct cl_card *card, uint32_t us)
{
    uint32_t *left;

    if (card == NULL)
        return;
    if (card->step == E_ATR && card->budget != UINT32_MAX)
        left = &card->budget;
    else if (card->step == E_RUN && (card->flags & K_DEADLINE))
        left = &card->deadline;
    else
        return;
    *left = us < *left ? *left - us : 0;
}

/* In CL_WANT_RECV, the timer ran out (parity false) or the line reported
 * a parity error on c (after the character repetitions of §7.3). */
static NOINLINE int recv_event(struct cl_card *card, bool parity, uint8_t c)
{
    int rc;

    if (card == NULL)
        return CL_ERR_ARG;
    if (cl_card_want(card) != CL_WANT_RECV)
        return CL_ERR_STATE;
    if (parity)
        card->stats.parity_errors++;
    else if (card->step != E_QUIET)     /* not the zero-wait look */
        card->stats.timeouts++;
    switch (card->step) {
    case E_TS:
        if (parity)
            ts(card, c);                /* nothing was checked before TS */
        else
            fail(card, CL_ERR_CARD_MUTE);   /* §6.2.2 */
        break;
    case E_ATR:
        if (parity)
            atr_bad(card, CL_ERR_PARITY);
        else
            atr_short(card, CL_ERR_TIMEOUT);
        break;
    case E_PPS_RX:
        pps_bad(card);
        break;
    case E_QUIET:
        if (parity)
            fail(card, CL_ERR_PROTOCOL);
        else
            card->step = E_RUN;
        break;
    default:    /* E_RUN, the engine receiving */
        if (!parity) {
            if ((card->flags & K_DEADLINE) && card->deadline == 0) {
                fail(card, CL_ERR_TIMEOUT);     /* the caller's deadline */
                break;
            }
            rc = card->protocol == 1 ? cl_t1_timeout(&card->eng.t1)
                                     : cl_t0_timeout(&card->eng.t0);
        } else if (card->protocol == 0) {
            rc = cl_t0_parity_error(&card->eng.t0);
        } else {
            /* T=1 still counts the character */
            rc = cl_t1_parity_error(&card->eng.t1);
            if (rc == CL_OK && sub_want(card) == CL_WANT_RECV) {
                rc = cl_t1_feed(&card->eng.t1, &c, 1);
                rc = rc < 0 ? rc : CL_OK;
            }
        }
        return settle(card, rc);
    }
    return card->err;   /* CL_OK, or what this event ended the session with */
}

/* see cardlink/card.h */
int cl_card_timeout(struct cl_card *card)
{
    return recv_event(card, false, 0);
}

/* see cardlink/card.h */
int cl_card_parity_error(struct cl_card *card, uint8_t c)
{
    return recv_event(card, true, c);
}

/* E_RUN: bytes to the engine. What is left once it stops receiving
 * arrived out of turn: T=1 drops it (the block is complete and checked);
 * T=0 has no checksum, so the engine hears of it and fails the exchange
 * (cardlink/t0.h). */
static int run_feed(struct cl_card *card, const uint8_t *b, size_t n)
{
    size_t off = 0;

    while (off < n && sub_want(card) == CL_WANT_RECV) {
        int c = card->protocol == 1 ? cl_t1_feed(&card->eng.t1, b + off,
                                                 n - off)
                                    : cl_t0_feed(&card->eng.t0, b + off,
                                                 n - off);

        if (c <= 0)
            break;      /* T=0 protocol error: now FAILED */
        off += (size_t)c;
    }
    if (card->protocol == 0 && off < n &&
        cl_t0_want(&card->eng.t0) != CL_WANT_FAILED) {
        int c = cl_t0_feed(&card->eng.t0, b + off, n - off);

        (void)c;    /* CL_ERR_PROTOCOL: now FAILED */
    }
    return settle(card, CL_OK);
}

/* see cardlink/card.h */
int cl_card_feed(struct cl_card *card, const uint8_t *b, size_t n)
{
    size_t k = n;

    if (card == NULL || (b == NULL && n > 0))
        return CL_ERR_ARG;
    if (n == 0)
        return 0;
    switch (card->step) {
    case E_TS:
        k = 1;
        ts(card, b[0]);
        break;
    case E_ATR:
    case E_PPS_RX:
        k = (size_t)(card->need - card->rx_len);
        if (k > n)
            k = n;
        memcpy(card->rx + card->rx_len, b, k);
        card->rx_len = (uint8_t)(card->rx_len + k);
        if (card->step == E_ATR)
            atr_check(card);
        else
            pps_check(card);
        break;
    case E_QUIET:   /* stale bytes: the last response is suspect */
        fail(card, CL_ERR_PROTOCOL);
        break;
    case E_RUN:
        if (sub_want(card) != CL_WANT_RECV)
            return CL_ERR_STATE;
        (void)run_feed(card, b, n);
        break;
    default:
        return CL_ERR_STATE;
    }
    card->stats.bytes_received += (uint32_t)k;
    return (int)k;
}

/* see cardlink/card.h */
size_t cl_card_pullv(struct cl_card *card, struct cl_t1_piece pc[3])
{
    if (card == NULL || pc == NULL)
        return 0;
    if (card->step == E_PPS_TX) {
        pc[0].buf = card->plan.pps_bytes + card->rx_len;
        pc[0].len = (size_t)(card->plan.pps_len - card->rx_len);
        return 1;
    }
    if (card->step != E_RUN || sub_want(card) != CL_WANT_SEND)
        return 0;
    if (card->protocol == 1)
        return cl_t1_pullv(&card->eng.t1, pc);
    pc[0].len = cl_t0_pull(&card->eng.t0, &pc[0].buf);
    return pc[0].len > 0 ? 1u : 0u;
}

/* see cardlink/card.h */
size_t cl_card_pull(struct cl_card *card, const uint8_t **p)
{
    struct cl_t1_piece pc[3];

    if (p == NULL)
        return 0;
    *p = NULL;
    if (cl_card_pullv(card, pc) == 0)
        return 0;
    *p = pc[0].buf;
    return pc[0].len;
}

/* see cardlink/card.h */
int cl_card_sent(struct cl_card *card, size_t n)
{
    int rc = CL_OK;

    if (card == NULL)
        return CL_ERR_ARG;
    if (card->step == E_PPS_TX) {
        if (n > (size_t)(card->plan.pps_len - card->rx_len))
            return CL_ERR_ARG;
        card->rx_len = (uint8_t)(card->rx_len + n);
        if (card->rx_len == card->plan.pps_len) {
            card->rx_len = 0;
            card->step = E_PPS_RX;
        }
    } else {
        if (card->step != E_RUN || sub_want(card) != CL_WANT_SEND)
            return CL_ERR_STATE;
        rc = settle(card, card->protocol == 1 ? cl_t1_sent(&card->eng.t1, n)
                                              : cl_t0_sent(&card->eng.t0, n));
    }
    card->stats.bytes_sent += (uint32_t)n;
    return rc;
}

/* see cardlink/card.h */
int cl_card_transmit_start(struct cl_card *card, const uint8_t *cmd,
                           size_t cmd_len, uint8_t *resp, size_t resp_size)
{
    unsigned w;
    int rv;

    if (card == NULL || card->line == NULL || cmd == NULL || resp == NULL)
        return CL_ERR_ARG;
    if (card->state != CL_CARD_ACTIVE)
        return CL_ERR_CLOSED;
    w = sub_want(card);
    if (card->step != E_RUN || (w != CL_WANT_IDLE && w != CL_WANT_DONE))
        return CL_ERR_STATE;
    rv = card->protocol == 1
             ? cl_t1_transmit_start(&card->eng.t1, cmd, cmd_len, resp,
                                    resp_size)
             : cl_t0_transmit_start(&card->eng.t0, cmd, cmd_len, resp,
                                    resp_size);
    if (rv != CL_OK)
        return rv;
    card->stats.apdus++;
    card->more_mark = more_time(card);
    card->flags = (uint8_t)((card->flags & ~K_DEADLINE) | K_XCHG);
    if (card->cfg.apdu_ms != 0) {
        card->flags |= K_DEADLINE;
        card->deadline = card->cfg.apdu_ms > CL_TIMER_MAX / 1000u
                             ? CL_TIMER_MAX : card->cfg.apdu_ms * 1000u;
    }
    if (card->protocol == 0)
        card->step = E_QUIET;   /* T=0: the line must be quiet first */
    return CL_OK;
}

/* see cardlink/card.h */
void cl_card_set_deadline(struct cl_card *card, uint32_t ms)
{
    if (card != NULL)
        card->cfg.apdu_ms = ms;
}

/* see cardlink/card.h */
int cl_card_result(const struct cl_card *card)
{
    if (card == NULL)
        return CL_ERR_ARG;
    if (card->step != E_RUN || sub_want(card) != CL_WANT_DONE)
        return CL_ERR_STATE;
    return card->protocol == 1 ? cl_t1_result(&card->eng.t1)
                               : cl_t0_result(&card->eng.t0);
}

/* see cardlink/card.h */
int cl_card_error(const struct cl_card *card)
{
    return card == NULL ? CL_ERR_ARG : (int)card->err;
}

/* see cardlink/card.h */
int cl_card_fail(struct cl_card *card, int err)
{
    if (card == NULL || err >= 0)
        return CL_ERR_ARG;
    if (card->step == E_CLOSED || card->step == E_FAILED)
        return CL_ERR_STATE;
    if (card->step == E_CTRL && card->ctrl == CL_CARD_CTRL_OFF)
        return CL_OK;   /* going off already */
    fail(card, err);
    return CL_OK;
}

/* see cardlink/card.h */
void cl_card_free(struct cl_card *card)
{
    if (card != NULL)
        cl_wipe(card, sizeof(*card));
}
