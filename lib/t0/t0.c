/*
 * cardlink — ISO 7816-3 §10 T=0 engine, reader and card roles.
 * SPDX-License-Identifier: Apache-2.0
 *
 * One state byte (phase) per role drives a plain switch. The reader never
 * copies what it sends (pull points into the caller's command) and copies
 * what it receives once, into the caller's response buffer; the card the
 * other way round.
 */
#include <string.h>

#include "cardlink/t0.h"
#include "cardlink/apdu.h"
#include "cardlink/error.h"
#include "cardlink/rate.h"
#include "cardlink/sw.h"
#include "cardlink/wipe.h"

/* flags */
#define F_CARD 0x01u     /* card role */
#define F_WARNGR 0x02u   /* reader: EMV case 4 warning rule */
#define F_WFIRST 0x08u   /* card: warning before data */
#define F_REISSUE 0x20u  /* reader: this TPDU re-issued after 6Cxx; card:
                            the kept response followed a 6Cxx */
#define F_GOT 0x40u      /* reader: data came in this TPDU */
#define F_LE 0x80u       /* reader: the APDU has Le and the EMV warning
                            rule is on; card: response kept */
#define F_KEPT F_LE
#define F_EXCH (F_REISSUE | F_GOT | F_LE)
/* the card role (a constant 0 when it is left out) */
#define IS_CARD(t0) (CL_T0_CARD && ((t0)->flags & F_CARD))

/* phase: the step. S_BUF sends buf[off..end) then goes to step next;
 * S_DATA sends data from tx. kind (reader): the TPDU kind and direction.
 * Each role has its own idle step (S_OFF: not set up), so that a set of
 * steps, P(step) | ..., says both the state and the role a call needs. */
enum {
    S_OFF, R_IDLE, C_IDLE,
    S_BUF, S_DATA,                              /* SEND: 3..4 */
    R_PROC, R_SW2, R_IN, C_HDR, C_DATA,         /* RECV: 5..9 */
    R_DONE, C_APDU, S_FAIL, C_HEADER
};
#define P(step) (1u << (step))
#define P_SEND (P(S_BUF) | P(S_DATA))
#define P_RECV_R (P(R_PROC) | P(R_IN) | P(R_SW2))
#define P_RECV (P_RECV_R | P(C_HDR) | P(C_DATA))
#define IS_SEND(ph) ((unsigned)(ph) - S_BUF < 2u)
#define IS_RECV(ph) ((unsigned)(ph) - R_PROC < 5u)
#define K_ENV 0x10u      /* ENVELOPE piece */
#define K_GR 0x20u       /* GET RESPONSE */
#define D_IN 0x40u       /* data from the card */
#define D_OUT 0x80u      /* data to the card */
#define B_OUT 5u         /* card: procedure byte or SW in buf[5..6] */


/* What the caller is asked for in each step. */
static const uint8_t want_of[] = {
    CL_WANT_IDLE, CL_WANT_IDLE, CL_WANT_IDLE, CL_WANT_SEND, CL_WANT_SEND,
    CL_WANT_RECV, CL_WANT_RECV, CL_WANT_RECV, CL_WANT_RECV, CL_WANT_RECV,
    CL_WANT_DONE, CL_WANT_DONE, CL_WANT_FAILED, CL_WANT_CTRL
};

static void go(struct cl_t0 *t0, unsigned step)
{
    t0->phase = (uint8_t)step;
}

static int fail(struct cl_t0 *t0, int err)
{
    t0->err = (int8_t)err;
    go(t0, S_FAIL);
    return err;
}

/* CL_OK when t0 is there and in one of the steps P(step) | ... */
static int turn(const struct cl_t0 *t0, unsigned steps)
{
    if (!t0)
        return CL_ERR_ARG;
    if (!(P(t0->phase) & steps))
        return CL_ERR_STATE;
    return CL_OK;
}

/* c is a valid SW1 (60 excepted by the callers that care) */
CL_SIZE_NOINLINE static bool is_sw1(unsigned c)
{
    c >>= 4;
    return c == 6u || c == 9u;
}

/* sw is a warning or an application status other than 9000 */
static bool is_warning(unsigned sw)
{
    unsigned sw1 = sw >> 8;

    return sw1 - 0x62u < 2u || (sw1 >> 4 == 9u && sw != CL_SW_OK);
}

/* see cardlink/t0.h */
void cl_t0_config_default(struct cl_t0_config *cfg, enum cl_t0_role role)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof(*cfg));
    cfg->role = (uint8_t)role;
    cfg->wi = CL_T0_WI_DEFAULT;
    cfg->d = 1;
    cfg->warning_get_response = true;
}

/* see cardlink/t0.h */
void cl_t0_free(struct cl_t0 *t0)
{
    if (t0)
        cl_wipe(t0, sizeof(*t0));
}

/* see cardlink/t0.h */
void cl_t0_reset(struct cl_t0 *t0)
{
    uint32_t wt;
    uint8_t fl, ack;

    if (!t0 || t0->phase == S_OFF)
        return;
    wt = t0->wt;
    fl = (uint8_t)(t0->flags & (F_CARD | F_WARNGR | F_WFIRST));
    ack = IS_CARD(t0) ? t0->ack : 0;
    memset(t0, 0, sizeof(*t0));
    t0->wt = wt;
    t0->flags = fl;
    t0->ack = ack;
    t0->phase = (uint8_t)(R_IDLE + (fl & F_CARD));
}

/* see cardlink/t0.h */
int cl_t0_setup(struct cl_t0 *t0, const struct cl_t0_config *cfg)
{
    if (!t0)
        return CL_ERR_ARG;
    memset(t0, 0, sizeof(*t0));
    if (!cfg || cfg->role > CL_T0_ROLE_CARD || cl_rate_di_index(cfg->d) < 0)
        return CL_ERR_ARG;
    if (!CL_T0_CARD && cfg->role == CL_T0_ROLE_CARD)
        return CL_ERR_UNSUPPORTED;
    t0->wt = cl_rate_wt_etu(cfg->wi, cfg->d);
    t0->phase = (uint8_t)(R_IDLE + cfg->role);
    /* F_CARD is 1, bool is 0 or 1 */
    t0->flags = (uint8_t)(cfg->role | cfg->warning_get_response << 1 |
                          cfg->warning_first << 3);
    t0->ack = (uint8_t)-cfg->single_byte_ack;   /* card: INS ^ FF */
    return CL_OK;
}

/* see cardlink/t0.h */
enum cl_want cl_t0_want(const struct cl_t0 *t0)
{
    return t0 ? (enum cl_want)want_of[t0->phase] : CL_WANT_FAILED;
}

/* see cardlink/t0.h */
uint32_t cl_t0_timer(const struct cl_t0 *t0)
{
    if (!t0 || !(P(t0->phase) & P_RECV_R))
        return CL_TIMER_NONE;
    return t0->wt;
}

/* see cardlink/t0.h */
int cl_t0_result(const struct cl_t0 *t0)
{
    int rc = turn(t0, P(R_DONE) | P(C_HEADER) | P(C_APDU));

    return rc != CL_OK ? rc : (int)t0->rx_len;
}

/* see cardlink/t0.h */
int cl_t0_error(const struct cl_t0 *t0)
{
    return t0 ? (int)t0->err : CL_ERR_ARG;
}

/* see cardlink/t0.h */
const struct cl_t0_stats *cl_t0_stats(const struct cl_t0 *t0)
{
    return t0 ? &t0->stats : NULL;
}

/* ------------------------------------------------------------------ reader */

/* Send buf[0..4] as the next TPDU header, P3 = n; kind the phase kind. */
static void tpdu(struct cl_t0 *t0, unsigned kind, uint32_t n)
{
    t0->buf[4] = (uint8_t)n;
    t0->xrem = (uint16_t)n;
    t0->kind = (uint8_t)kind;
    t0->flags &= (uint8_t)~F_GOT;
    t0->ack = 0;
    t0->stats.tpdus++;
    t0->phase = S_BUF;
    t0->off = 0;
    t0->end = 5;
    t0->next = R_PROC;
}

/* A TPDU of our own: ENVELOPE or GET RESPONSE, P1 P2 = 00 00. */
static void tpdu_own(struct cl_t0 *t0, unsigned kind, unsigned ins,
                     uint32_t n)
{
    t0->buf[1] = (uint8_t)ins;
    t0->buf[2] = 0;
    t0->buf[3] = 0;
    tpdu(t0, kind, n);
}

CL_SIZE_NOINLINE static void envelope(struct cl_t0 *t0)
{
    t0->stats.envelopes++;
    tpdu_own(t0, K_ENV | D_OUT, CL_T0_INS_ENVELOPE,
             t0->tx_left < CL_T0_ENVELOPE_MAX ? t0->tx_left
                                              : CL_T0_ENVELOPE_MAX);
}

/* SW1 SW2 of the current TPDU arrived: what next. */
static void reader_sw(struct cl_t0 *t0, unsigned sw2)
{
    unsigned sw1 = t0->sw1, sw = sw1 << 8 | sw2, ph = t0->kind;
    unsigned fl = t0->flags, again = 0;
    uint32_t room = t0->rx_size - 2u - t0->rx_len;
    uint32_t xx = ((sw2 - 1u) & 0xFFu) + 1u;    /* 00: 256 */
    uint8_t *r;

    if ((ph & K_ENV) && t0->tx_left) {
        if (sw == CL_SW_OK) {
            envelope(t0);
            return;
        }
    } else if (sw1 == 0x6Cu) {
        if ((ph & D_IN) && !(fl & (F_GOT | F_REISSUE)) && xx <= room) {
            t0->flags = (uint8_t)(fl | F_REISSUE);
            t0->stats.reissues++;
            tpdu(t0, ph, xx);
            return;
        }
    } else if (room) {
        /* 61xx: GET RESPONSE; one that brought nothing gets one more
         * try. EMV case 4 warning: kept, GET RESPONSE for the data. */
        if (sw1 == 0x61u) {
            if ((ph & K_GR) && !(fl & F_GOT)) {
                if (fl & F_REISSUE)
                    goto done;
                again = F_REISSUE;
            }
        } else if ((fl & F_LE) && (ph & D_OUT) && is_warning(sw)) {
            t0->sw = (uint16_t)sw;
            xx = 256u;
        } else {
            goto done;
        }
        t0->flags = (uint8_t)((fl & ~F_REISSUE) | again);
        t0->stats.get_responses++;
        tpdu_own(t0, K_GR | D_IN, CL_T0_INS_GET_RESPONSE,
                 xx < room ? xx : room);
        return;
    }
done:
    if (t0->sw && sw1 != 0x61u)     /* EMV: the warning replaces 9000 */
        sw = t0->sw;
    r = t0->rx + t0->rx_len;
    t0->rx_len += 2;
    go(t0, R_DONE);
    r[0] = (uint8_t)(sw >> 8);
    r[1] = (uint8_t)sw;
}

/* see cardlink/t0.h */
int cl_t0_transmit_start(struct cl_t0 *t0, const uint8_t *cmd,
                         size_t cmd_len, uint8_t *resp, size_t resp_size)
{
    struct cl_apdu a;
    enum cl_apdu_case c;
    int rc;

    if (!cmd || !resp)
        return CL_ERR_ARG;
    rc = turn(t0, P(R_IDLE) | P(R_DONE));
    if (rc != CL_OK)
        return rc;
    rc = cl_apdu_decode(cmd, cmd_len, &a, &c);
    if (rc != CL_OK)
        return rc;
    if (is_sw1(a.ins))
        return CL_ERR_RESERVED;
    /* Ne over 256 (case 2E) is asked for as 256, then GET RESPONSE; a
     * case 2 response must fit */
    if (a.ne > 256u)
        a.ne = 256u;
    if (resp_size < 2u || (!a.nc && resp_size - 2u < a.ne))
        return CL_ERR_BUFFER;

    memcpy(t0->buf, cmd, 4);
    t0->rx = resp;
    t0->rx_len = 0;
    t0->rx_size = resp_size > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)resp_size;
    t0->sw = 0;
    t0->flags &= (uint8_t)~F_EXCH;
    if (a.ne && (t0->flags & F_WARNGR))
        t0->flags |= F_LE;
    if (c >= CL_APDU_CASE_3E) {     /* the whole APDU in ENVELOPEs */
        t0->tx = cmd;
        t0->tx_left = (uint32_t)cmd_len;
        envelope(t0);
        return CL_OK;
    }
    t0->tx = cmd + 5;
    t0->tx_left = (uint32_t)a.nc;
    if (a.nc)
        tpdu(t0, D_OUT, (uint32_t)a.nc);
    else
        tpdu(t0, a.ne ? D_IN : 0, (uint32_t)a.ne);
    return CL_OK;
}

/* ------------------------------------------------------------------ card */
#if CL_T0_CARD

/* Send the procedure byte b0 (next: the step after it) or, next C_HDR,
 * the status b0 b1; a status ends the exchange: the next header comes
 * into the command buffer. */
CL_SIZE_NOINLINE static void card_send(struct cl_t0 *t0, unsigned next, unsigned b0,
                      unsigned b1)
{
    unsigned end = B_OUT + 1u;

    t0->buf[B_OUT] = (uint8_t)b0;
    t0->buf[B_OUT + 1] = (uint8_t)b1;
    if (next == C_HDR) {    /* the next header into the command buffer */
        t0->rx_len = 0;
        t0->xrem = 5;
        end++;
    }
    t0->phase = S_BUF;
    t0->off = B_OUT;
    t0->end = (uint8_t)end;
    t0->next = (uint8_t)next;
}

static void card_sw(struct cl_t0 *t0, unsigned sw)
{
    card_send(t0, C_HDR, sw >> 8, sw & 0xFFu);
}

/* INS, or INS ^ FF with single-byte ACKs; next: the step after it */
static void card_ack(struct cl_t0 *t0, unsigned next)
{
    card_send(t0, next, t0->rx[1] ^ t0->ack, 0);
}

/* The final SW when the response data are all out, else 61xx. */
static void card_rest(struct cl_t0 *t0)
{
    unsigned sw = t0->sw;

    if (t0->tx_left) {
        t0->flags = (uint8_t)((t0->flags | F_KEPT) & ~F_REISSUE);
        sw = 0x6100u | (t0->tx_left & 0xFFu);
    }
    card_sw(t0, sw);
}

/* The data left in tx/tx_left go out in answer to a header asking for
 * Ne = P3 bytes; gr: the header is a GET RESPONSE. */
static void card_out(struct cl_t0 *t0, bool gr)
{
    uint32_t ne = ((t0->rx[4] - 1u) & 0xFFu) + 1u, n = t0->tx_left;

    if (n == ne || (n > ne && (gr || n > 256u))) {
        t0->xrem = (uint16_t)ne;
        card_ack(t0, S_DATA);
    } else {
        memcpy(t0->buf, t0->rx, 4);
        t0->flags |= F_KEPT | F_REISSUE;
        t0->stats.reissues++;
        card_sw(t0, 0x6C00u | (n & 0xFFu));
    }
}

static void card_header(struct cl_t0 *t0)
{
    const uint8_t *h = t0->rx;
    unsigned ins = h[1], fl = t0->flags;
    bool gr = ins == CL_T0_INS_GET_RESPONSE;

    t0->stats.tpdus++;
    if (ins == CL_T0_INS_ENVELOPE)
        t0->stats.envelopes++;
    t0->flags = (uint8_t)(fl & ~(F_KEPT | F_REISSUE));
    if (is_sw1(ins)) {
        card_sw(t0, 0x6D00u);
    } else if ((fl & F_KEPT) &&
               (gr || ((fl & F_REISSUE) && !memcmp(h, t0->buf, 4)))) {
        t0->stats.get_responses += gr;
        t0->flags = (uint8_t)(fl & ~F_REISSUE);     /* still kept */
        card_out(t0, gr);
    } else {
        go(t0, C_HEADER);
    }
}

/* see cardlink/t0.h */
int cl_t0_card_listen(struct cl_t0 *t0, uint8_t *cmd, size_t size)
{
    int rc;

    if (!cmd || size < 5u)
        return CL_ERR_ARG;
    rc = turn(t0, P(C_IDLE));
    if (rc != CL_OK)
        return rc;
    t0->rx = cmd;
    t0->rx_size = size > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)size;
    t0->rx_len = 0;
    t0->xrem = 5;
    go(t0, C_HDR);
    return CL_OK;
}

/* see cardlink/t0.h */
int cl_t0_card_receive(struct cl_t0 *t0)
{
    unsigned p3;
    int rc = turn(t0, P(C_HEADER));

    if (rc != CL_OK)
        return rc;
    p3 = t0->rx[4];
    if (5u + p3 > t0->rx_size)
        return CL_ERR_BUFFER;
    if (!p3) {
        go(t0, C_APDU);
        return CL_OK;
    }
    t0->xrem = (uint16_t)p3;
    card_ack(t0, C_DATA);
    return CL_OK;
}

/* see cardlink/t0.h */
int cl_t0_card_respond(struct cl_t0 *t0, const uint8_t *resp, size_t len)
{
    unsigned sw, sw1;
    int rc;

    if (!resp || len < 2u || len > CL_RAPDU_MAX)
        return CL_ERR_ARG;
    sw1 = resp[len - 2];
    if (!is_sw1(sw1) || sw1 == 0x60u)
        return CL_ERR_ARG;
    rc = turn(t0, P(C_HEADER) | P(C_APDU));
    if (rc != CL_OK)
        return rc;
    sw = sw1 << 8 | resp[len - 1];
    t0->tx = resp;
    t0->tx_left = (uint32_t)(len - 2u);
    t0->sw = (uint16_t)sw;
    if (t0->tx_left && t0->rx_len <= 5u) {
        card_out(t0, false);
    } else if (t0->tx_left && (t0->flags & F_WFIRST) && is_warning(sw)) {
        t0->sw = CL_SW_OK;
        t0->flags |= F_KEPT;
        card_sw(t0, sw);
    } else {
        card_rest(t0);
    }
    return CL_OK;
}

/* see cardlink/t0.h */
int cl_t0_card_null(struct cl_t0 *t0)
{
    int rc = turn(t0, P(C_HEADER) | P(C_APDU));

    if (rc != CL_OK)
        return rc;
    t0->stats.nulls++;
    card_send(t0, t0->phase, CL_T0_NULL, 0);     /* back to C_HEADER/C_APDU */
    return CL_OK;
}

#endif /* CL_T0_CARD */

/* ------------------------------------------------------------------ both */

/* see cardlink/t0.h */
size_t cl_t0_pull(struct cl_t0 *t0, const uint8_t **out)
{
    const uint8_t *p = NULL;
    size_t n = 0;

    if (!t0 || !out)
        return 0;
    if (IS_SEND(t0->phase)) {
        if (t0->phase == S_DATA) {
            p = t0->tx;
            n = t0->ack ? 1u : t0->xrem;
        } else {
            p = t0->buf + t0->off;
            n = (size_t)(t0->end - t0->off);
        }
    }
    *out = p;
    return n;
}

/* see cardlink/t0.h */
int cl_t0_sent(struct cl_t0 *t0, size_t n)
{
    const uint8_t *p;
    size_t avail;
    int rc = turn(t0, P_SEND);

    if (rc != CL_OK)
        return rc;
    avail = cl_t0_pull(t0, &p);
    if (n > avail)
        return CL_ERR_ARG;
    if (t0->phase == S_BUF) {
        t0->off = (uint8_t)(t0->off + n);
        if (n == avail)
            go(t0, t0->next);
        return CL_OK;
    }
    t0->tx += n;
    t0->tx_left -= (uint32_t)n;
    t0->xrem = (uint16_t)(t0->xrem - n);
    if (n < avail)
        return CL_OK;
    if (!IS_CARD(t0))
        go(t0, R_PROC);     /* wait for the procedure byte */
#if CL_T0_CARD
    else if (t0->xrem && t0->ack)
        card_ack(t0, S_DATA);
    else
        card_rest(t0);
#endif
    return CL_OK;
}

/* Reader, R_PROC or R_SW2: one byte from the card. */
static int reader_byte(struct cl_t0 *t0, unsigned c)
{
    unsigned x = c ^ t0->buf[1];

    if (t0->phase == R_SW2) {
        reader_sw(t0, c);
    } else if (c == CL_T0_NULL) {
        t0->stats.nulls++;
    } else if (x == 0 || x == 0xFFu) {
        if (!t0->xrem)
            return fail(t0, CL_ERR_PROTOCOL);
        t0->ack = (uint8_t)x;
        go(t0, (t0->kind & D_OUT) ? S_DATA : R_IN);
    } else if (is_sw1(c)) {
        t0->sw1 = (uint8_t)c;
        go(t0, R_SW2);
    } else {
        return fail(t0, CL_ERR_PROTOCOL);
    }
    return CL_OK;
}

/* Data (or the card's header) into rx: how many bytes of b were taken. */
static size_t take(struct cl_t0 *t0, const uint8_t *b, size_t len,
                   unsigned step)
{
    unsigned one = t0->ack && step != C_HDR;
    size_t n = one ? 1u : t0->xrem;

    if (n > len)
        n = len;
    memcpy(t0->rx + t0->rx_len, b, n);
    t0->rx_len += (uint32_t)n;
    t0->xrem = (uint16_t)(t0->xrem - n);
    if (step == R_IN) {
        t0->flags |= F_GOT;
        if (one || !t0->xrem)
            go(t0, R_PROC);
#if CL_T0_CARD
    } else if (!t0->xrem) {
        if (step == C_HDR)
            card_header(t0);
        else
            go(t0, C_APDU);
    } else if (one) {
        card_ack(t0, C_DATA);
#endif
    }
    return n;
}

/* see cardlink/t0.h */
int cl_t0_feed(struct cl_t0 *t0, const uint8_t *b, size_t len)
{
    const uint8_t *p = b, *end;
    int rc;

    rc = turn(t0, ~(P(S_OFF) | P(R_IDLE) | P(C_IDLE) | P(S_FAIL)));
    if (!b && len)
        rc = CL_ERR_ARG;
    if (rc != CL_OK || !len)
        return rc;
    if (!IS_RECV(t0->phase))
        return fail(t0, CL_ERR_PROTOCOL);    /* out of turn */
    end = b + len;
    while (p < end && IS_RECV(t0->phase)) {
        unsigned step = t0->phase;
        if (step - R_PROC < 2u) {         /* R_PROC, R_SW2 */
            rc = reader_byte(t0, *p++);
            if (rc != CL_OK)
                return rc;
        } else {
            p += take(t0, p, (size_t)(end - p), step);
        }
    }
    return (int)(p - b);
}

/* A line event in one of the steps: the exchange ends with err. */
CL_SIZE_NOINLINE static int event(struct cl_t0 *t0, unsigned steps, int err)
{
    int rc = turn(t0, steps);

    if (rc == CL_OK)
        fail(t0, err);
    return rc;
}

/* see cardlink/t0.h */
int cl_t0_timeout(struct cl_t0 *t0)
{
    return event(t0, P_RECV_R, CL_ERR_TIMEOUT);    /* the reader's timer */
}

/* see cardlink/t0.h */
int cl_t0_parity_error(struct cl_t0 *t0)
{
    return event(t0, P_RECV, CL_ERR_PARITY);
}
