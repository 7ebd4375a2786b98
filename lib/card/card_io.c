/*
 * cardlink — the blocking card session driver: activation, PPS and the
 * T=0/T=1 engines run over a struct cl_card_line (or an APDU-level reader).
 * A thin loop on the engines' want()/pull()/sent()/feed()/timeout(), like
 * BearSSL's ssl_io.c; firmware that cannot block does not link this file.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/card.h"
#include "cardlink/error.h"
#include "cardlink/rate.h"

/* Characters coded or received per line call. */
#define IO_CHUNK 32u
/* The initial waiting time between ATR characters (§8.1), also the bound
 * for a local echo to come back. */
#define ATR_WT_ETU 9600u

/* Microseconds of etu at the line's current rate. */
static uint32_t etu_us(const struct cl_card *card, uint32_t etu)
{
    return cl_rate_etu_to_us(etu, cl_rate_etu_ns(card->params.clock_khz,
                                                 card->params.f,
                                                 card->params.d));
}

/* Power off, wipe the engines, close. */
static void card_close(struct cl_card *card)
{
    if (card->line != NULL && card->line->power_off != NULL)
        card->line->power_off(card->ctx);
    else if (card->apdu != NULL && card->apdu->disconnect != NULL)
        card->apdu->disconnect(card->ctx);
    memset(&card->eng, 0, sizeof(card->eng));
    card->state = CL_CARD_CLOSED;
    card->sw_inverse = false;
}

static int line_set(struct cl_card *card, const struct cl_card_line_params *p)
{
    card->params = *p;
    return card->line->set_params(card->ctx, p);
}

/* Receive through the line, decoding inverse characters in software when
 * the line does not. Never returns more than size. */
static int line_recv(struct cl_card *card, uint8_t *buf, size_t size,
                     uint32_t *timeout_us)
{
    int r = card->line->recv(card->ctx, buf, size, timeout_us);

    if (r > 0 && (size_t)r > size)
        return CL_ERR_IO;   /* a port that overran our buffer */
    if (card->sw_inverse) {
        if (r > 0)
            cl_atr_decode_inverse(buf, (size_t)r);
        else if (r == CL_ERR_PARITY)
            cl_atr_decode_inverse(buf, 1);
    }
    return r;
}

/* Send, coding inverse characters in software when the line does not, and
 * reading back the local echo of lines that have one. */
static int line_send(struct cl_card *card, const uint8_t *buf, size_t len)
{
    uint8_t tmp[IO_CHUNK], echo[IO_CHUNK];

    while (len > 0) {
        size_t n = len < IO_CHUNK ? len : IO_CHUNK, i, got = 0;
        const uint8_t *p = buf;
        int rv;

        if (card->sw_inverse) {
            for (i = 0; i < n; i++)
                tmp[i] = cl_atr_inverse_byte(buf[i]);
            p = tmp;
        }
        rv = card->line->send(card->ctx, p, n);
        if (rv != CL_OK)
            return rv;
        while ((card->line->caps.flags & CL_CARD_LINE_ECHO) && got < n) {
            uint32_t t = etu_us(card, ATR_WT_ETU);
            int r = card->line->recv(card->ctx, echo + got, n - got, &t);

            if (r == CL_ERR_PARITY) {
                /* the card signalled an error on our character, or the
                 * echo was garbled: the protocol's own recovery handles
                 * it (T=1 R-block, T=0 WT) */
                echo[got] = p[got];
                r = 1;
            }
            if (r == 0)
                return CL_ERR_IO;   /* the wire does not echo: broken */
            if (r < 0)
                return r;
            if ((size_t)r > n - got)
                return CL_ERR_IO;
            got += (size_t)r;
        }
        if (got > 0 && memcmp(echo, p, n) != 0)
            return CL_ERR_IO;
        buf += n;
        len -= n;
    }
    return CL_OK;
}

/* Reset and read the ATR into card->atr. CL_OK; CL_ERR_CARD_MUTE; why the
 * ATR is bad, with *bad set; or the port's error. */
static int read_atr(struct cl_card *card, bool warm, bool *bad)
{
    const struct cl_card_line *line = card->line;
    struct cl_card_line_params p;
    uint8_t buf[CL_ATR_MAX];
    size_t len = 1;
    uint32_t wt, budget, t, t0;
    int rv, need;

    *bad = false;
    memset(&p, 0, sizeof(p));
    p.f = CL_RATE_FD;
    p.d = CL_RATE_DD;
    p.clock_khz = line->caps.clock_khz;
    card->sw_inverse = false;
    rv = line_set(card, &p);
    if (rv != CL_OK)
        return rv;
    rv = line->reset(card->ctx, warm);
    if (rv != CL_OK)
        return rv;
    if (warm)
        card->info.warm_resets++;
    else
        card->info.cold_resets++;

    t = etu_us(card, card->cfg.ts_etu);
    rv = line_recv(card, buf, 1, &t);
    if (rv == 0)
        return CL_ERR_CARD_MUTE;
    if (rv < 0 && rv != CL_ERR_PARITY)  /* parity means nothing before TS */
        return rv;
    *bad = true;    /* from here on, except for the port's own errors */
    switch (buf[0]) {
    case 0x3B:
        break;
    case 0x03:      /* inverse convention sampled by a direct UART */
        p.inverse = true;
        card->sw_inverse = (line->caps.flags & CL_CARD_LINE_INVERSE_HW) == 0;
        buf[0] = 0x3F;
        break;
    case 0x3F:      /* a line that detects the convention itself */
        if (line->caps.flags & CL_CARD_LINE_INVERSE_HW) {
            p.inverse = true;
            break;
        }
        return CL_ERR_BAD_TS;
    default:
        return CL_ERR_BAD_TS;
    }
    p.parity = true;
    rv = line_set(card, &p);
    if (rv != CL_OK) {
        *bad = false;
        return rv;
    }

    wt = etu_us(card, ATR_WT_ETU);
    budget = card->cfg.atr_total_etu ? etu_us(card, card->cfg.atr_total_etu)
                                     : UINT32_MAX;
    for (;;) {
        need = cl_atr_expected_len(buf, len);
        if (need < 0)
            return need;
        if ((size_t)need <= len)
            break;
        t = t0 = wt < budget ? wt : budget;
        rv = line_recv(card, buf + len, (size_t)need - len, &t);
        if (rv == 0)
            return CL_ERR_TIMEOUT;
        if (rv < 0) {
            *bad = rv == CL_ERR_PARITY;
            return rv;
        }
        if (budget != UINT32_MAX && t <= t0)
            budget -= t0 - t;
        len += (size_t)rv;
    }
    return cl_atr_parse(&card->atr, buf, len);
}

/* The PPS exchange of §9. CL_OK with plan adjusted; why the exchange was
 * unsuccessful, with *bad set; or the port's error. */
static int do_pps(struct cl_card *card, struct cl_card_plan *plan, bool *bad)
{
    uint8_t resp[CL_PPS_MAX];
    size_t len = 0, need = 2;
    struct cl_pps acc;
    uint32_t wt, t;
    int rv;

    *bad = false;
    if (card->params.n != card->atr.p.n) {
        /* §8.3: TC1's extra guard time holds from the end of the ATR on,
         * for the PPS request too (N = 255: the 12-etu minimum, what n =
         * 255 means to a line under protocol 0) */
        struct cl_card_line_params p = card->params;

        p.n = card->atr.p.n;
        rv = line_set(card, &p);
        if (rv != CL_OK)
            return rv;
    }
    rv = line_send(card, plan->pps_bytes, plan->pps_len);
    if (rv != CL_OK)
        return rv;
    *bad = true;
    wt = etu_us(card, cl_rate_wt_etu(card->atr.p.wi, 1));
    while (len < need) {
        t = wt;
        rv = line_recv(card, resp + len, need - len, &t);
        if (rv == 0)
            return CL_ERR_TIMEOUT;
        if (rv < 0) {
            *bad = rv == CL_ERR_PARITY;
            return rv;
        }
        len += (size_t)rv;
        if (need == 2 && len == 2) {
            if (resp[0] != CL_PPS_PPSS)
                return CL_ERR_MALFORMED;
            need = cl_pps_expected_len(resp[1]);
        }
    }
    rv = cl_pps_check_response(&plan->pps_req, resp, len, &acc);
    if (rv != CL_OK)
        return rv;
    card->info.pps = (acc.present & CL_PPS_HAS_PPS1) ||
                             !(plan->pps_req.present & CL_PPS_HAS_PPS1)
                         ? CL_CARD_PPS_ACCEPTED : CL_CARD_PPS_DEFAULT;
    return cl_card_plan_pps_result(plan, &card->line->caps, &acc);
}

/* The T=0 want in the T=1 engine's numbering (T=0 speaks enum cl_want). */
static unsigned t0_want(const struct cl_t0 *e0)
{
    unsigned w = (unsigned)cl_t0_want(e0);

    return w == CL_WANT_FAILED ? (unsigned)CL_T1_DEACTIVATE : w;
}

/*
 * Run the engine until it is idle or done. Returns the T=1/T=0 result
 * (>= 0 or a per-exchange error), or an error with *fatal set: the engine
 * asked for deactivation, or the line failed in the middle of an exchange
 * (the engine cannot go on from there).
 */
static int run(struct cl_card *card, bool *fatal)
{
    const bool t1 = card->protocol == 1;
    struct cl_t1 *e1 = &card->eng.t1;
    struct cl_t0 *e0 = &card->eng.t0;
    uint8_t rx[IO_CHUNK];
    int rv;

    *fatal = true;
    for (;;) {
        unsigned want = t1 ? (unsigned)cl_t1_want(e1) : t0_want(e0);

        if (want == CL_T1_SEND) {
            /* T=1: the rest of the block as up to three pieces (prologue,
             * INF from the command buffer, epilogue), acknowledged at once */
            struct cl_t1_piece pc[3];
            size_t k, i, n = 0;

            if (t1) {
                k = cl_t1_pullv(e1, pc);
            } else {
                pc[0].len = cl_t0_pull(e0, &pc[0].buf);
                k = 1;
            }
            for (i = 0; i < k; i++) {
                if (pc[i].len == 0 || pc[i].buf == NULL)
                    return CL_ERR_INTERNAL;
                rv = line_send(card, pc[i].buf, pc[i].len);
                if (rv != CL_OK)
                    return rv;
                n += pc[i].len;
            }
            if (n == 0)
                return CL_ERR_INTERNAL;
            rv = t1 ? cl_t1_sent(e1, n) : cl_t0_sent(e0, n);
        } else if (want == CL_T1_RECV) {
            uint32_t etu = t1 ? cl_t1_timeout_etu(e1) : cl_t0_timeout_etu(e0);
            uint32_t t = etu ? etu_us(card, etu) : UINT32_MAX;
            size_t off = 0;
            int r = line_recv(card, rx, sizeof(rx), &t);

            rv = CL_OK;
            if (r == 0) {
                rv = t1 ? cl_t1_timeout(e1) : cl_t0_timeout(e0);
            } else if (r == CL_ERR_PARITY) {
                rv = t1 ? cl_t1_parity_error(e1) : cl_t0_parity_error(e0);
                r = 1;  /* T=1 still counts the character */
            } else if (r < 0) {
                return r;
            }
            while (rv == CL_OK && off < (size_t)r &&
                   (t1 ? (unsigned)cl_t1_want(e1) : t0_want(e0)) ==
                       CL_T1_RECV) {
                int c = t1 ? cl_t1_feed(e1, rx + off, (size_t)r - off)
                           : cl_t0_feed(e0, rx + off, (size_t)r - off);

                if (c <= 0)
                    break;      /* T=0 protocol error: now DEACTIVATE */
                off += (size_t)c;
            }
            /* What is left arrived out of turn. T=1 drops it (the block
             * is complete and checked); T=0 has no checksum, so the engine
             * hears of it and fails the exchange (cardlink/t0.h). */
            if (rv == CL_OK && !t1 && off < (size_t)r &&
                cl_t0_want(e0) != CL_WANT_FAILED) {
                int c = cl_t0_feed(e0, rx + off, (size_t)r - off);

                (void)c;    /* CL_ERR_PROTOCOL: now CL_T0_DEACTIVATE */
            }
        } else if (want == CL_T1_DONE) {
            *fatal = false;
            return t1 ? cl_t1_result(e1) : cl_t0_result(e0);
        } else if (want == CL_T1_IDLE) {
            *fatal = false;
            return CL_OK;
        } else if (want == CL_T1_DEACTIVATE) {
            rv = t1 ? cl_t1_error(e1) : cl_t0_error(e0);
            return rv < 0 ? rv : CL_ERR_PROTOCOL;
        } else {
            return CL_ERR_INTERNAL;     /* a card-role want */
        }
        if (rv != CL_OK)
            return CL_ERR_INTERNAL;
    }
}

/* Set up the engine for card->protocol (and run the T=1 IFS exchange). */
static int start_engine(struct cl_card *card)
{
    bool fatal;
    int rv;

    if (card->protocol == 1) {
        struct cl_t1_config c;

        rv = cl_card_t1_config(&card->atr, &card->params, card->cfg.ifsd, &c);
        if (rv == CL_OK)
            rv = cl_t1_setup(&card->eng.t1, &c, &card->t1_stats);
    } else {
        struct cl_t0_config c;

        rv = cl_card_t0_config(&card->atr, &card->params, &c);
        if (rv == CL_OK)
            rv = cl_t0_setup(&card->eng.t0, &c);
    }
    if (rv != CL_OK)
        return rv;
    rv = run(card, &fatal);
    return rv < 0 ? rv : CL_OK;
}

static int activate_line(struct cl_card *card)
{
    const struct cl_card_line *line = card->line;
    struct cl_card_plan plan;
    bool warm = false, warm_done = false, allow_pps = true, bad;
    unsigned round;
    int rv;

    if (line->present != NULL) {
        rv = line->present(card->ctx);
        if (rv == 0)
            return CL_ERR_CARD_REMOVED;
        if (rv < 0)
            return rv;
    }
    /* at most: cold (bad ATR), warm, PPS failed, cold again */
    for (round = 0; round < 4; round++) {
        rv = read_atr(card, warm, &bad);
        if (rv != CL_OK && !bad)    /* mute, or the port failed */
            return rv;
        if (rv != CL_OK) {      /* a bad ATR: one warm reset */
            if (warm_done || !card->cfg.warm_retry)
                return rv;
            warm = warm_done = true;
            continue;
        }
        card->info.specific = (card->atr.p.flags & CL_ATR_F_SPECIFIC) != 0;
        rv = cl_card_plan(&card->atr, &line->caps, &card->cfg, allow_pps,
                          &plan);
        if (rv == CL_ERR_UNSUPPORTED && card->info.specific && !warm_done &&
            (card->atr.p.flags & CL_ATR_F_NO_CHANGE) == 0) {
            /* §6.3.1: a card that can change mode comes back from a warm
             * reset in negotiable mode */
            warm = warm_done = true;
            continue;
        }
        if (rv != CL_OK)
            return rv;
        if (plan.pps) {
            rv = do_pps(card, &plan, &bad);
            if (rv != CL_OK && !bad)
                return rv;
            if (rv != CL_OK) {
                /* §9.3: unsuccessful exchange, deactivate; then start
                 * again at the default rate without PPS */
                card->info.pps = CL_CARD_PPS_FAILED;
                line->power_off(card->ctx);
                allow_pps = false;
                warm = false;
                continue;
            }
        }
        rv = line_set(card, &plan.params);
        if (rv != CL_OK)
            return rv;
        card->protocol = plan.protocol;
        return start_engine(card);
    }
    return CL_ERR_PROTOCOL;
}

static int activate_apdu(struct cl_card *card)
{
    uint8_t atr[CL_ATR_MAX];
    unsigned round;
    int rv = CL_ERR_INTERNAL;

    for (round = 0; round < 2; round++) {
        size_t alen = 0;
        uint8_t proto = 0xFFu;

        rv = card->apdu->connect(card->ctx, round == 1, card->cfg.protocol,
                                 atr, &alen, &proto);
        if (rv != CL_OK)
            return rv;
        if (round == 1)
            card->info.warm_resets++;
        else
            card->info.cold_resets++;
        if (alen > sizeof(atr))
            return CL_ERR_IO;
        if (proto > 1)
            return CL_ERR_UNSUPPORTED;
        rv = cl_atr_parse(&card->atr, atr, alen);
        if (rv == CL_OK) {
            card->protocol = proto;
            card->info.specific =
                (card->atr.p.flags & CL_ATR_F_SPECIFIC) != 0;
            return CL_OK;
        }
        if (!card->cfg.warm_retry)
            break;
    }
    return rv;
}

/* see cardlink/card.h */
int cl_card_activate(struct cl_card *card)
{
    const struct cl_card_line *line;
    int rv;

    if (card == NULL)
        return CL_ERR_ARG;
    line = card->line;
    if (line != NULL) {
        if (line->send == NULL || line->recv == NULL || line->reset == NULL ||
            line->set_params == NULL || line->power_off == NULL ||
            line->caps.clock_khz == 0 ||
            (line->caps.pairs == NULL && line->caps.n_pairs > 0))
            return CL_ERR_ARG;
    } else if (card->apdu == NULL || card->apdu->connect == NULL ||
               card->apdu->transmit == NULL ||
               card->apdu->disconnect == NULL) {
        return CL_ERR_ARG;
    }
    if (card->cfg.ifsd == 255u ||
        (card->cfg.protocol > 1 && card->cfg.protocol != CL_CARD_T_ANY))
        return CL_ERR_ARG;
    if (card->state == CL_CARD_ACTIVE)
        return CL_ERR_STATE;
    memset(&card->info, 0, sizeof(card->info));
    memset(&card->eng, 0, sizeof(card->eng));
    card->protocol = 0;
    rv = line != NULL ? activate_line(card) : activate_apdu(card);
    if (rv != CL_OK) {
        card_close(card);
        return rv;
    }
    card->state = CL_CARD_ACTIVE;
    return CL_OK;
}

/* see cardlink/card.h */
int cl_card_transmit(struct cl_card *card, const uint8_t *cmd,
                     size_t cmd_len, uint8_t *resp, size_t resp_size,
                     size_t *resp_len)
{
    bool fatal = false;
    int rv;

    if (card == NULL || cmd == NULL || resp_len == NULL ||
        (resp == NULL && resp_size > 0))
        return CL_ERR_ARG;
    *resp_len = 0;
    if (card->state != CL_CARD_ACTIVE)
        return CL_ERR_CLOSED;

    if (card->apdu != NULL) {
        size_t n = 0;

        rv = card->apdu->transmit(card->ctx, cmd, cmd_len, resp, resp_size,
                                  &n);
        if (rv == CL_OK && n > resp_size)
            rv = CL_ERR_IO;
        if (rv == CL_ERR_CARD_REMOVED || rv == CL_ERR_IO)
            card_close(card);
        else if (rv == CL_OK)
            *resp_len = n;
        return rv;
    }

    if (card->line->present != NULL && card->line->present(card->ctx) == 0) {
        card_close(card);
        return CL_ERR_CARD_REMOVED;
    }
    if (card->protocol == 1)
        rv = cl_t1_transmit_start(&card->eng.t1, cmd, cmd_len, resp,
                                  resp_size);
    else
        rv = cl_t0_transmit_start(&card->eng.t0, cmd, cmd_len, resp,
                                  resp_size);
    if (rv != CL_OK)
        return rv;
    rv = run(card, &fatal);
    if (rv >= 0) {
        *resp_len = (size_t)rv;
        return CL_OK;
    }
    if (fatal)
        card_close(card);
    return rv;
}

/* see cardlink/card.h */
void cl_card_deactivate(struct cl_card *card)
{
    if (card == NULL || card->state != CL_CARD_ACTIVE)
        return;
    card_close(card);
}
