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

/* flags */
#define F_CARD 0x01u     /* card role */
#define F_WARNGR 0x02u   /* reader: EMV case 4 warning rule */
#define F_SBA 0x04u      /* card: single-byte ACKs */
#define F_WFIRST 0x08u   /* card: warning before data */
#define F_ONE 0x10u      /* reader: one-byte burst; card: NULL returns to APDU */
#define F_REISSUE 0x20u  /* reader: this TPDU re-issued after 6Cxx; card:
                            the kept response followed a 6Cxx */
#define F_GOT 0x40u      /* reader: data came in this TPDU */
#define F_LE 0x80u       /* reader: the APDU has Le; card: response kept */
#define F_KEPT F_LE
#define F_EXCH (F_ONE | F_REISSUE | F_GOT | F_LE)

/* phase: low nibble the step, high bits (reader) the TPDU kind and
 * direction */
enum {
    R_HDR = 1, R_PROC, R_OUT, R_IN, R_SW2, R_DONE,
    C_HDR, C_HEADER, C_ACK_IN, C_DATA, C_APDU, C_ACK_OUT, C_TX, C_SW, C_NULL
};
#define P_STEP 0x0Fu
#define K_ENV 0x10u      /* ENVELOPE piece */
#define K_GR 0x20u       /* GET RESPONSE */
#define D_IN 0x40u       /* data from the card */
#define D_OUT 0x80u      /* data to the card */

static int fail(struct cl_t0 *t0, int err)
{
    t0->err = err;
    t0->want = CL_T0_DEACTIVATE;
    t0->phase = 0;
    return err;
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
void cl_t0_reset(struct cl_t0 *t0)
{
    if (t0)
        memset(t0, 0, sizeof(*t0));
}

/* see cardlink/t0.h */
int cl_t0_setup(struct cl_t0 *t0, const struct cl_t0_config *cfg)
{
    if (!t0)
        return CL_ERR_ARG;
    cl_t0_reset(t0);
    if (!cfg || cfg->role > CL_T0_ROLE_CARD || cl_rate_di_index(cfg->d) < 0)
        return CL_ERR_ARG;
    t0->wt = cl_rate_wt_etu(cfg->wi, cfg->d);
    t0->flags = (uint8_t)((cfg->role ? F_CARD : 0) |
                          (cfg->warning_get_response ? F_WARNGR : 0) |
                          (cfg->single_byte_ack ? F_SBA : 0) |
                          (cfg->warning_first ? F_WFIRST : 0));
    return CL_OK;
}

/* see cardlink/t0.h */
enum cl_t0_want cl_t0_want(const struct cl_t0 *t0)
{
    return t0 ? (enum cl_t0_want)t0->want : CL_T0_IDLE;
}

/* see cardlink/t0.h */
uint32_t cl_t0_timeout_etu(const struct cl_t0 *t0)
{
    if (!t0 || t0->want != CL_T0_RECV || (t0->flags & F_CARD))
        return 0;
    return t0->wt;
}

/* see cardlink/t0.h */
int cl_t0_result(const struct cl_t0 *t0)
{
    if (!t0)
        return CL_ERR_ARG;
    if (t0->want == CL_T0_DONE || t0->want == CL_T0_HEADER ||
        t0->want == CL_T0_APDU)
        return (int)t0->rx_len;
    return CL_ERR_STATE;
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

/* Send hdr as the next TPDU; xrem and the phase kind are set. */
static void tpdu(struct cl_t0 *t0, unsigned kind)
{
    t0->phase = (uint8_t)(kind | R_HDR);
    t0->off = 0;
    t0->flags &= (uint8_t)~(F_GOT | F_ONE);
    t0->want = CL_T0_SEND;
    t0->stats.tpdus++;
}

static void envelope(struct cl_t0 *t0)
{
    uint32_t n = t0->tx_left < CL_T0_ENVELOPE_MAX ? t0->tx_left
                                                   : CL_T0_ENVELOPE_MAX;
    t0->hdr[1] = CL_T0_INS_ENVELOPE;
    t0->hdr[2] = 0;
    t0->hdr[3] = 0;
    t0->hdr[4] = (uint8_t)n;
    t0->xrem = (uint16_t)n;
    t0->stats.envelopes++;
    tpdu(t0, K_ENV | D_OUT);
}

static void get_response(struct cl_t0 *t0, uint32_t n)
{
    t0->hdr[1] = CL_T0_INS_GET_RESPONSE;
    t0->hdr[2] = 0;
    t0->hdr[3] = 0;
    t0->hdr[4] = (uint8_t)n;
    t0->xrem = (uint16_t)n;
    t0->flags &= (uint8_t)~F_REISSUE;
    t0->stats.get_responses++;
    tpdu(t0, K_GR | D_IN);
}

static void finish(struct cl_t0 *t0, unsigned sw)
{
    unsigned sw1 = sw >> 8;

    if (t0->sw && sw1 != 0x61u)     /* EMV: the warning replaces 9000 */
        sw = t0->sw;
    t0->rx[t0->rx_len] = (uint8_t)(sw >> 8);
    t0->rx[t0->rx_len + 1] = (uint8_t)sw;
    t0->rx_len += 2;
    t0->phase = R_DONE;
    t0->want = CL_T0_DONE;
}

/* SW1 SW2 of the current TPDU arrived: what next. */
static void reader_sw(struct cl_t0 *t0, uint8_t sw2)
{
    unsigned sw1 = t0->sw1, sw = sw1 << 8 | sw2, ph = t0->phase;
    uint32_t room = t0->rx_size - 2u - t0->rx_len;
    uint32_t xx = sw2 ? sw2 : 256u;

    if ((ph & K_ENV) && t0->tx_left) {
        if (sw == CL_SW_OK) {
            envelope(t0);
            return;
        }
    } else if (sw1 == 0x61u) {
        /* a GET RESPONSE that brought nothing gets one more try */
        unsigned again = (ph & K_GR) && !(t0->flags & F_GOT);
        if (room && !(again && (t0->flags & F_REISSUE))) {
            get_response(t0, xx < room ? xx : room);
            if (again)
                t0->flags |= F_REISSUE;
            return;
        }
    } else if (sw1 == 0x6Cu) {
        if ((ph & D_IN) && !(t0->flags & (F_GOT | F_REISSUE)) && xx <= room) {
            t0->hdr[4] = sw2;
            t0->xrem = (uint16_t)xx;
            t0->flags |= F_REISSUE;
            t0->stats.reissues++;
            tpdu(t0, ph & (K_ENV | K_GR | D_IN | D_OUT));
            return;
        }
    } else if ((t0->flags & (F_WARNGR | F_LE)) == (F_WARNGR | F_LE) &&
               (ph & D_OUT) && !t0->sw && room &&
               (sw1 == 0x62u || sw1 == 0x63u ||
                ((sw1 & 0xF0u) == 0x90u && sw != CL_SW_OK))) {
        t0->sw = (uint16_t)sw;
        get_response(t0, room < 256u ? room : 256u);
        return;
    }
    finish(t0, sw);
}

static int reader_feed(struct cl_t0 *t0, const uint8_t *b, size_t len)
{
    size_t i = 0;

    while (i < len && t0->want == CL_T0_RECV) {
        unsigned step = t0->phase & P_STEP, c = b[i];
        if (step == R_IN) {
            size_t n = (t0->flags & F_ONE) ? 1u : t0->xrem;
            if (n > len - i)
                n = len - i;
            memcpy(t0->rx + t0->rx_len, b + i, n);
            t0->rx_len += (uint32_t)n;
            t0->xrem = (uint16_t)(t0->xrem - n);
            t0->flags |= F_GOT;
            i += n;
            if ((t0->flags & F_ONE) || !t0->xrem)
                t0->phase = (uint8_t)((t0->phase & ~P_STEP) | R_PROC);
            continue;
        }
        i++;
        if (step == R_SW2) {
            reader_sw(t0, (uint8_t)c);
        } else if (c == CL_T0_NULL) {
            t0->stats.nulls++;
        } else if (c == t0->hdr[1] || c == (t0->hdr[1] ^ 0xFFu)) {
            if (!t0->xrem)
                return fail(t0, CL_ERR_PROTOCOL);
            t0->flags = (uint8_t)((t0->flags & ~F_ONE) |
                                  (c == t0->hdr[1] ? 0 : F_ONE));
            if (t0->phase & D_OUT) {
                t0->phase = (uint8_t)((t0->phase & ~P_STEP) | R_OUT);
                t0->want = CL_T0_SEND;
            } else {
                t0->phase = (uint8_t)((t0->phase & ~P_STEP) | R_IN);
            }
        } else if ((c & 0xF0u) == 0x60u || (c & 0xF0u) == 0x90u) {
            t0->sw1 = (uint8_t)c;
            t0->phase = (uint8_t)((t0->phase & ~P_STEP) | R_SW2);
        } else {
            return fail(t0, CL_ERR_PROTOCOL);
        }
    }
    return (int)i;
}

/* see cardlink/t0.h */
int cl_t0_transmit_start(struct cl_t0 *t0, const uint8_t *cmd,
                         size_t cmd_len, uint8_t *resp, size_t resp_size)
{
    struct cl_apdu a;
    enum cl_apdu_case c;
    int rc;
    uint32_t ne;

    if (!t0 || !cmd || !resp)
        return CL_ERR_ARG;
    if ((t0->flags & F_CARD) || !t0->wt ||
        (t0->want != CL_T0_IDLE && t0->want != CL_T0_DONE))
        return CL_ERR_STATE;
    rc = cl_apdu_decode(cmd, cmd_len, &a, &c);
    if (rc != CL_OK)
        return rc;
    if ((a.ins & 0xF0u) == 0x60u || (a.ins & 0xF0u) == 0x90u)
        return CL_ERR_RESERVED;
    ne = (uint32_t)a.ne;
    if (c == CL_APDU_CASE_2E && ne > 256u)
        ne = 256u;
    if (resp_size < 2u ||
        ((c == CL_APDU_CASE_2S || c == CL_APDU_CASE_2E) && resp_size - 2u < ne))
        return CL_ERR_BUFFER;

    memcpy(t0->hdr, cmd, 4);
    t0->rx = resp;
    t0->rx_len = 0;
    t0->rx_size = resp_size > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)resp_size;
    t0->sw = 0;
    t0->flags &= (uint8_t)~F_EXCH;
    if (a.ne)
        t0->flags |= F_LE;
    if (CL_APDU_CASE_IS_EXTENDED(c) && c != CL_APDU_CASE_2E) {
        t0->tx = cmd;
        t0->tx_left = (uint32_t)cmd_len;
        envelope(t0);
        return CL_OK;
    }
    t0->tx = cmd + 5;
    t0->tx_left = (uint32_t)a.nc;
    t0->hdr[4] = (uint8_t)(a.nc ? a.nc : ne);
    if (a.nc) {
        t0->xrem = (uint16_t)a.nc;
        tpdu(t0, D_OUT);
    } else {
        t0->xrem = (uint16_t)ne;
        tpdu(t0, ne ? D_IN : 0);
    }
    return CL_OK;
}

/* ------------------------------------------------------------------ card */

static void card_send(struct cl_t0 *t0, unsigned step, unsigned b0,
                      unsigned b1)
{
    t0->out[0] = (uint8_t)b0;
    t0->out[1] = (uint8_t)b1;
    t0->off = 0;
    t0->phase = (uint8_t)step;
    t0->want = CL_T0_SEND;
}

static void card_sw(struct cl_t0 *t0, unsigned sw)
{
    card_send(t0, C_SW, sw >> 8, sw & 0xFFu);
}

static void card_more(struct cl_t0 *t0)
{
    t0->flags = (uint8_t)((t0->flags | F_KEPT) & ~F_REISSUE);
    card_sw(t0, 0x6100u | (t0->tx_left & 0xFFu));
}

/* The data left in tx/tx_left go out in answer to a header asking for
 * Ne = P3 bytes; gr: the header is a GET RESPONSE. */
static void card_out(struct cl_t0 *t0, bool gr)
{
    uint32_t ne = t0->rx[4] ? t0->rx[4] : 256u, n = t0->tx_left;

    if (n == ne || (n > ne && (gr || n > 256u))) {
        t0->xrem = (uint16_t)ne;
        card_send(t0, C_ACK_OUT,
                  t0->rx[1] ^ ((t0->flags & F_SBA) ? 0xFFu : 0), 0);
    } else {
        memcpy(t0->hdr, t0->rx, 4);
        t0->flags |= F_KEPT | F_REISSUE;
        t0->stats.reissues++;
        card_sw(t0, 0x6C00u | (n & 0xFFu));
    }
}

static void card_header(struct cl_t0 *t0)
{
    const uint8_t *h = t0->rx;
    unsigned ins = h[1];
    bool gr = ins == CL_T0_INS_GET_RESPONSE;

    t0->stats.tpdus++;
    if (ins == CL_T0_INS_ENVELOPE)
        t0->stats.envelopes++;
    if ((ins & 0xF0u) == 0x60u || (ins & 0xF0u) == 0x90u) {
        t0->flags &= (uint8_t)~(F_KEPT | F_REISSUE);
        card_sw(t0, 0x6D00u);
        return;
    }
    if ((t0->flags & F_KEPT) &&
        (gr || ((t0->flags & F_REISSUE) && !memcmp(h, t0->hdr, 4)))) {
        if (gr)
            t0->stats.get_responses++;
        t0->flags &= (uint8_t)~F_REISSUE;
        card_out(t0, gr);
        return;
    }
    t0->flags &= (uint8_t)~(F_KEPT | F_REISSUE);
    t0->phase = C_HEADER;
    t0->want = CL_T0_HEADER;
}

static int card_feed(struct cl_t0 *t0, const uint8_t *b, size_t len)
{
    size_t n;

    if (t0->phase == C_HDR) {
        n = 5u - t0->rx_len;
    } else {
        n = (t0->flags & F_SBA) ? 1u : t0->xrem;
    }
    if (n > len)
        n = len;
    memcpy(t0->rx + t0->rx_len, b, n);
    t0->rx_len += (uint32_t)n;
    if (t0->phase == C_HDR) {
        if (t0->rx_len == 5u)
            card_header(t0);
    } else {
        t0->xrem = (uint16_t)(t0->xrem - n);
        if (!t0->xrem) {
            t0->phase = C_APDU;
            t0->want = CL_T0_APDU;
        } else if (t0->flags & F_SBA) {
            card_send(t0, C_ACK_IN, t0->rx[1] ^ 0xFFu, 0);
        }
    }
    return (int)n;
}

static void card_listen_next(struct cl_t0 *t0)
{
    t0->rx_len = 0;
    t0->phase = C_HDR;
    t0->want = CL_T0_RECV;
}

/* see cardlink/t0.h */
int cl_t0_card_listen(struct cl_t0 *t0, uint8_t *cmd, size_t size)
{
    if (!t0 || !cmd || size < 5u)
        return CL_ERR_ARG;
    if (!(t0->flags & F_CARD) || t0->want != CL_T0_IDLE)
        return CL_ERR_STATE;
    t0->rx = cmd;
    t0->rx_size = size > 0xFFFFu ? 0xFFFFu : (uint32_t)size;
    card_listen_next(t0);
    return CL_OK;
}

/* see cardlink/t0.h */
int cl_t0_card_receive(struct cl_t0 *t0)
{
    unsigned p3;

    if (!t0)
        return CL_ERR_ARG;
    if (t0->want != CL_T0_HEADER)
        return CL_ERR_STATE;
    p3 = t0->rx[4];
    if (5u + p3 > t0->rx_size)
        return CL_ERR_BUFFER;
    if (!p3) {
        t0->phase = C_APDU;
        t0->want = CL_T0_APDU;
        return CL_OK;
    }
    t0->xrem = (uint16_t)p3;
    card_send(t0, C_ACK_IN, t0->rx[1] ^ ((t0->flags & F_SBA) ? 0xFFu : 0), 0);
    return CL_OK;
}

/* see cardlink/t0.h */
int cl_t0_card_respond(struct cl_t0 *t0, const uint8_t *resp, size_t len)
{
    unsigned sw, sw1;

    if (!t0 || !resp || len < 2u || len > CL_RAPDU_MAX)
        return CL_ERR_ARG;
    sw1 = resp[len - 2];
    if ((sw1 & 0xF0u) != 0x90u && ((sw1 & 0xF0u) != 0x60u || sw1 == 0x60u))
        return CL_ERR_ARG;
    if (t0->want != CL_T0_HEADER && t0->want != CL_T0_APDU)
        return CL_ERR_STATE;
    sw = sw1 << 8 | resp[len - 1];
    t0->tx = resp;
    t0->tx_left = (uint32_t)(len - 2u);
    t0->sw = (uint16_t)sw;
    if (!t0->tx_left) {
        card_sw(t0, sw);
    } else if (t0->rx_len <= 5u) {
        card_out(t0, false);
    } else if ((t0->flags & F_WFIRST) &&
               (sw1 == 0x62u || sw1 == 0x63u ||
                ((sw1 & 0xF0u) == 0x90u && sw != CL_SW_OK))) {
        t0->sw = CL_SW_OK;
        t0->flags |= F_KEPT;
        card_sw(t0, sw);
    } else {
        card_more(t0);
    }
    return CL_OK;
}

/* see cardlink/t0.h */
int cl_t0_card_null(struct cl_t0 *t0)
{
    if (!t0)
        return CL_ERR_ARG;
    if (t0->want != CL_T0_HEADER && t0->want != CL_T0_APDU)
        return CL_ERR_STATE;
    t0->flags = (uint8_t)((t0->flags & ~F_ONE) |
                          (t0->want == CL_T0_APDU ? F_ONE : 0));
    t0->stats.nulls++;
    card_send(t0, C_NULL, CL_T0_NULL, 0);
    return CL_OK;
}

/* ------------------------------------------------------------------ both */

/* see cardlink/t0.h */
size_t cl_t0_pull(struct cl_t0 *t0, const uint8_t **out)
{
    const uint8_t *p = NULL;
    size_t n = 0;

    if (!t0 || !out)
        return 0;
    if (t0->want == CL_T0_SEND) {
        switch (t0->phase & P_STEP) {
        case R_HDR:
            p = t0->hdr + t0->off;
            n = 5u - t0->off;
            break;
        case R_OUT:
            p = t0->tx;
            n = (t0->flags & F_ONE) ? 1u : t0->xrem;
            break;
        case C_TX:
            p = t0->tx;
            n = (t0->flags & F_SBA) ? 1u : t0->xrem;
            break;
        case C_SW:
            p = t0->out + t0->off;
            n = 2u - t0->off;
            break;
        default:            /* C_ACK_IN, C_ACK_OUT, C_NULL */
            p = t0->out;
            n = 1;
            break;
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
    unsigned step;

    if (!t0)
        return CL_ERR_ARG;
    if (t0->want != CL_T0_SEND)
        return CL_ERR_STATE;
    avail = cl_t0_pull(t0, &p);
    if (n > avail)
        return CL_ERR_ARG;
    step = t0->phase & P_STEP;
    if (step == R_HDR || step == C_SW) {
        t0->off = (uint8_t)(t0->off + n);
        if (n < avail)
            return CL_OK;
        if (step == C_SW) {
            card_listen_next(t0);
            return CL_OK;
        }
    } else if (step == R_OUT || step == C_TX) {
        t0->tx += n;
        t0->tx_left -= (uint32_t)n;
        t0->xrem = (uint16_t)(t0->xrem - n);
        if (n < avail)
            return CL_OK;
        if (step == C_TX) {
            if (t0->xrem && (t0->flags & F_SBA))
                card_send(t0, C_ACK_OUT, t0->rx[1] ^ 0xFFu, 0);
            else if (!t0->tx_left)
                card_sw(t0, t0->sw);
            else
                card_more(t0);
            return CL_OK;
        }
    } else if (n) {
        if (step == C_ACK_OUT) {
            t0->phase = C_TX;
            return CL_OK;
        }
        if (step == C_NULL) {
            t0->phase = (t0->flags & F_ONE) ? C_APDU : C_HEADER;
            t0->want = (t0->flags & F_ONE) ? CL_T0_APDU : CL_T0_HEADER;
            return CL_OK;
        }
        t0->phase = C_DATA;     /* C_ACK_IN */
        t0->want = CL_T0_RECV;
        return CL_OK;
    } else {
        return CL_OK;
    }
    /* reader: header or data burst out, wait for the procedure byte */
    t0->phase = (uint8_t)((t0->phase & ~P_STEP) | R_PROC);
    t0->want = CL_T0_RECV;
    return CL_OK;
}

/* see cardlink/t0.h */
int cl_t0_feed(struct cl_t0 *t0, const uint8_t *bytes, size_t len)
{
    if (!t0 || (!bytes && len))
        return CL_ERR_ARG;
    if (t0->want == CL_T0_IDLE || t0->want == CL_T0_DEACTIVATE)
        return CL_ERR_STATE;
    if (!len)
        return 0;
    if (t0->want != CL_T0_RECV)
        return fail(t0, CL_ERR_PROTOCOL);    /* out of turn */
    if (t0->flags & F_CARD)
        return card_feed(t0, bytes, len);
    return reader_feed(t0, bytes, len);
}

/* see cardlink/t0.h */
int cl_t0_timeout(struct cl_t0 *t0)
{
    if (!t0)
        return CL_ERR_ARG;
    if (!cl_t0_timeout_etu(t0))
        return CL_ERR_STATE;
    fail(t0, CL_ERR_TIMEOUT);
    return CL_OK;
}

/* see cardlink/t0.h */
int cl_t0_parity_error(struct cl_t0 *t0)
{
    if (!t0)
        return CL_ERR_ARG;
    if (t0->want != CL_T0_RECV)
        return CL_ERR_STATE;
    fail(t0, CL_ERR_PARITY);
    return CL_OK;
}
