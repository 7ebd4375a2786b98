/*
 * cardlink — the blocking card session driver: the card engine
 * (card_engine.c) run over a struct cl_card_line, or an APDU-level reader.
 * A thin loop on the engine's want/ctrl/pullv/sent/feed/timer/timeout, like
 * BearSSL's ssl_io.c; firmware that cannot block does not link this file.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "card_int.h"
#include "cardlink/error.h"
#include "cardlink/rate.h"
#include "cardlink/wipe.h"

/* Characters coded or received per line call. */
#define IO_CHUNK 32u
/* The bound for a local echo to come back (the ATR's character time). */
#define ATR_WT_ETU 9600u

/* APDU-level sessions: disconnect and close. */
static void apdu_close(struct cl_card *card)
{
    if (card->apdu->disconnect != NULL)
        card->apdu->disconnect(card->ctx);
    memset(&card->eng, 0, sizeof(card->eng));
    card->state = CL_CARD_CLOSED;
}

/* Receive through the line, decoding inverse characters in software when
 * the line does not. Never returns more than size. */
static NOINLINE int line_recv(struct cl_card *card, uint8_t *buf, size_t size,
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
 * reading back the local echo of lines that have one, through tmp and
 * echo (IO_CHUNK bytes each). */
static int send_chunks(struct cl_card *card, const uint8_t *buf, size_t len,
                       uint8_t *tmp, uint8_t *echo)
{
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
            uint32_t t = cl_cardi_etu_us(card, ATR_WT_ETU);
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

/* send_chunks(), then the copies of the command (a VERIFY's PIN block)
 * wiped where there were any. */
static NOINLINE int line_send(struct cl_card *card, const uint8_t *buf, size_t len)
{
    uint8_t tmp[IO_CHUNK], echo[IO_CHUNK];
    int rv = send_chunks(card, buf, len, tmp, echo);

    if (card->sw_inverse || (card->line->caps.flags & CL_CARD_LINE_ECHO)) {
        cl_wipe(tmp, sizeof(tmp));
        cl_wipe(echo, sizeof(echo));
    }
    return rv;
}

/* The line failed (or the card went): the engine powers off and fails.
 * CL_ERR_STATE (already closed or failed) needs nothing more. */
static void line_failed(struct cl_card *card, int err)
{
    int rv = cl_card_fail(card, err);

    (void)rv;
}

/* One control step on the line. */
static int do_ctrl(struct cl_card *card)
{
    const struct cl_card_line *line = card->line;

    switch (cl_card_ctrl(card)) {
    case CL_CARD_CTRL_COLD:
        return line->reset(card->ctx, false);
    case CL_CARD_CTRL_WARM:
        return line->reset(card->ctx, true);
    case CL_CARD_CTRL_PARAMS:
        return line->set_params(card->ctx, cl_card_params(card));
    default:
        line->power_off(card->ctx);
        return CL_OK;
    }
}

/* One receive for the engine. */
static int do_recv(struct cl_card *card)
{
    uint8_t rx[IO_CHUNK];
    size_t max = cl_card_recv_max(card);
    uint32_t t = cl_card_timer(card), t0;
    size_t got;
    int r, rv;

    if (t == CL_TIMER_NONE)
        t = UINT32_MAX;     /* the line's "no limit" */
    t0 = t;
    r = line_recv(card, rx, max < sizeof(rx) ? max : sizeof(rx), &t);
    if (t0 != UINT32_MAX && t <= t0)
        cl_card_elapsed(card, t0 - t);
    if (r == 0)
        return cl_card_timeout(card);
    if (r == CL_ERR_PARITY)
        return cl_card_parity_error(card, rx[0]);
    if (r < 0)
        return cl_card_fail(card, r);
    got = (size_t)r;
    rv = CL_OK;
    while (r > 0 && cl_card_want(card) == CL_WANT_RECV) {
        rv = cl_card_feed(card, rx, (size_t)r);
        if (rv <= 0) {
            rv = rv < 0 ? rv : CL_ERR_INTERNAL;
            break;
        }
        memmove(rx, rx + rv, (size_t)r - (size_t)rv);
        r -= rv;
        rv = CL_OK;
    }
    cl_wipe(rx, got);   /* the response may be a secret */
    return rv;
}

/*
 * Run the engine until it wants nothing of the line: IDLE, DONE, CLOSED or
 * FAILED (returned).
 */
static enum cl_want run(struct cl_card *card)
{
    for (;;) {
        enum cl_want w = cl_card_want(card);
        int rv;

        if (w == CL_WANT_CTRL) {
            rv = cl_card_ctrl_done(card, do_ctrl(card));
        } else if (w == CL_WANT_SEND) {
            struct cl_t1_piece pc[3];
            size_t k = cl_card_pullv(card, pc), i, n = 0;

            rv = k == 0 ? CL_ERR_INTERNAL : CL_OK;
            for (i = 0; i < k && rv == CL_OK; i++) {
                if (pc[i].len == 0 || pc[i].buf == NULL)
                    rv = CL_ERR_INTERNAL;
                else
                    rv = line_send(card, pc[i].buf, pc[i].len);
                n += pc[i].len;
            }
            if (rv == CL_OK)
                rv = cl_card_sent(card, n);
            else
                rv = cl_card_fail(card, rv);
        } else if (w == CL_WANT_RECV) {
            rv = do_recv(card);
        } else {
            return w;
        }
        if (rv != CL_OK && cl_card_fail(card, CL_ERR_INTERNAL) != CL_OK)
            return cl_card_want(card);
    }
}

static int activate_apdu(struct cl_card *card, bool warm)
{
    uint8_t atr[CL_ATR_MAX];
    unsigned round;
    int rv = CL_ERR_INTERNAL;

    for (round = warm ? 1u : 0u; round < 2; round++) {
        size_t alen = 0;
        uint8_t proto = 0xFFu;
        unsigned warn = 0;

        rv = card->apdu->connect(card->ctx, round == 1, card->cfg.protocol,
                                 atr, &alen, &proto);
        if (rv != CL_OK)
            return rv;
        if (round == 1) {
            card->info.warm_resets++;
            card->stats.warm_resets++;
        } else {
            card->info.cold_resets++;
            card->stats.cold_resets++;
        }
        if (alen > sizeof(atr))
            return CL_ERR_IO;
        if (proto > 1)
            return CL_ERR_UNSUPPORTED;
        rv = cl_atr_parse(&card->atr, atr, alen);
        if (rv != CL_OK &&
            cl_atr_parse_lenient(&card->atr, atr, alen, &warn) == CL_OK &&
            (warn & ~(unsigned)(CL_ATR_W_TCK_MISSING | CL_ATR_W_HIST_SHORT)) ==
                0) {
            /* the reader took it as pcsc-lite takes real cards */
            card->info.atr_warnings = (uint8_t)warn;
            rv = CL_OK;
        }
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

/* Activation (or a reset, warm) over either port. */
static int activate(struct cl_card *card, bool warm)
{
    int rv;

    if (card->line == NULL) {
        if (card->apdu == NULL || card->apdu->connect == NULL ||
            card->apdu->transmit == NULL || card->apdu->disconnect == NULL)
            return CL_ERR_ARG;
        if (card->cfg.ifsd == 255u ||
            (card->cfg.protocol > 1 && card->cfg.protocol != CL_CARD_T_ANY))
            return CL_ERR_ARG;
        if (!warm && card->state == CL_CARD_ACTIVE)
            return CL_ERR_STATE;
        memset(&card->info, 0, sizeof(card->info));
        memset(&card->eng, 0, sizeof(card->eng));
        card->protocol = 0;
        rv = activate_apdu(card, warm);
        if (rv != CL_OK) {
            apdu_close(card);
            return rv;
        }
        card->state = CL_CARD_ACTIVE;
        card->stats.activations++;
        return CL_OK;
    }
    if (card->state == CL_CARD_ACTIVE && !warm)
        return CL_ERR_STATE;
    rv = cl_card_start(card, warm);
    if (rv != CL_OK)
        return rv;
    if (card->line->present != NULL) {
        rv = card->line->present(card->ctx);
        if (rv <= 0) {
            line_failed(card, rv == 0 ? CL_ERR_CARD_REMOVED : rv);
            (void)run(card);
            return rv == 0 ? CL_ERR_CARD_REMOVED : rv;
        }
    }
    if (run(card) == CL_WANT_IDLE)
        return CL_OK;
    rv = cl_card_error(card);
    return rv < 0 ? rv : CL_ERR_INTERNAL;
}

/* see cardlink/card.h */
int cl_card_activate(struct cl_card *card)
{
    if (card == NULL)
        return CL_ERR_ARG;
    return activate(card, false);
}

/* see cardlink/card.h */
int cl_card_reset(struct cl_card *card, bool warm)
{
    if (card == NULL)
        return CL_ERR_ARG;
    if (card->state != CL_CARD_ACTIVE)
        return CL_ERR_CLOSED;
    if (card->line != NULL && !warm) {
        cl_card_deactivate(card);
        return activate(card, false);
    }
    return activate(card, warm);
}

/* see cardlink/card.h */
int cl_card_transmit(struct cl_card *card, const uint8_t *cmd,
                     size_t cmd_len, uint8_t *resp, size_t resp_size,
                     size_t *resp_len)
{
    int rv;

    if (card == NULL || cmd == NULL || resp_len == NULL ||
        (resp == NULL && resp_size > 0))
        return CL_ERR_ARG;
    *resp_len = 0;
    if (card->state != CL_CARD_ACTIVE)
        return CL_ERR_CLOSED;

    if (card->apdu != NULL) {
        size_t n = 0;

        card->stats.apdus++;
        rv = card->apdu->transmit(card->ctx, cmd, cmd_len, resp, resp_size,
                                  &n);
        if (rv == CL_OK && n > resp_size)
            rv = CL_ERR_IO;
        if (rv == CL_ERR_CARD_REMOVED || rv == CL_ERR_IO)
            apdu_close(card);
        if (rv != CL_OK) {
            card->stats.apdu_errors++;
            return rv;
        }
        card->stats.bytes_sent += (uint32_t)cmd_len;
        card->stats.bytes_received += (uint32_t)n;
        *resp_len = n;
        return rv;
    }

    if (card->line->present != NULL && card->line->present(card->ctx) == 0) {
        line_failed(card, CL_ERR_CARD_REMOVED);
        (void)run(card);
        return CL_ERR_CARD_REMOVED;
    }
    rv = cl_card_transmit_start(card, cmd, cmd_len, resp, resp_size);
    if (rv != CL_OK)
        return rv;
    if (run(card) != CL_WANT_DONE) {
        rv = cl_card_error(card);
        return rv < 0 ? rv : CL_ERR_INTERNAL;
    }
    rv = cl_card_result(card);
    if (rv >= 0) {
        *resp_len = (size_t)rv;
        return CL_OK;
    }
    return rv;
}

/* see cardlink/card.h */
void cl_card_deactivate(struct cl_card *card)
{
    if (card == NULL || card->state != CL_CARD_ACTIVE)
        return;
    if (card->apdu != NULL) {
        apdu_close(card);
        return;
    }
    cl_card_stop(card);
    (void)run(card);
}
