/*
 * cardlink — ISO 7816-3 §11 T=1 engine, reader and card roles.
 * SPDX-License-Identifier: Apache-2.0
 *
 * One block buffer serves both directions (the line is half duplex): it
 * holds the outgoing block in CL_T1_SEND and the incoming one in
 * CL_T1_RECV. A retransmission rebuilds the last block from a small
 * descriptor (PCB, S-block INF, I-block offset and length into the caller's
 * APDU), so no second buffer is needed.
 */
#include <string.h>

#include "cardlink/t1.h"
#include "cardlink/edc.h"
#include "cardlink/error.h"
#include "cardlink/rate.h"

/* Phases; 0 is "not set up". */
enum {
    P_NONE = 0,
    R_IDLE, R_IFS, R_TX, R_RX, R_ABORT, R_RESYNCH, R_DONE, R_DEAD,
    C_IDLE, C_RECV, C_APDU, C_TX, C_WTX, C_IFS, C_ABORT
};

/* Last block kinds. */
enum { K_NONE = 0, K_I, K_R, K_S };

/* PCB coding, §11.3.2.2. */
#define PCB_M 0x20u
#define PCB_R 0x80u
#define PCB_S 0xC0u
#define PCB_S_RESP 0x20u
#define S_RESYNCH 0x00u
#define S_IFS 0x01u
#define S_ABORT 0x02u
#define S_WTX 0x03u
#define R_OK 0u
#define R_EDC 1u
#define R_OTHER 2u

/* Results must fit an int (documented in the header: 32-bit int). */
#define RESULT_MAX 0x7FFFFFFFu

static bool is_reader(const struct cl_t1 *t1)
{
    return t1->phase >= R_IDLE && t1->phase <= R_DEAD;
}

static bool is_card(const struct cl_t1 *t1)
{
    return t1->phase >= C_IDLE;
}

static size_t edc_len(const struct cl_t1 *t1)
{
    return t1->cfg.edc == CL_T1_EDC_CRC ? 2u : 1u;
}

static uint8_t s_has_inf(uint8_t pcb)
{
    uint8_t type = pcb & 0x1Fu;

    return type == S_IFS || type == S_WTX;
}

static void to_recv(struct cl_t1 *t1)
{
    t1->want = CL_T1_RECV;
    t1->buf_len = 0;
    t1->buf_need = 0;
    t1->rx_parity = false;
}

/* Build a block in buf and ask for it to be sent; RECV follows. */
static void put_block(struct cl_t1 *t1, uint8_t pcb, const uint8_t *inf,
                      size_t len)
{
    size_t n = 3u + len;
    uint8_t nad = t1->cfg.nad;

    if (is_card(t1))
        nad = (uint8_t)(((t1->rx_nad & 0x07u) << 4) | ((t1->rx_nad >> 4) & 0x07u));
    t1->buf[0] = nad;
    t1->buf[1] = pcb;
    t1->buf[2] = (uint8_t)len;
    if (len)
        memcpy(t1->buf + 3, inf, len);
    if (t1->cfg.edc == CL_T1_EDC_CRC) {
        uint16_t crc = cl_crc16(t1->buf, n);

        t1->buf[n++] = (uint8_t)(crc >> 8);
        t1->buf[n++] = (uint8_t)crc;
    } else {
        t1->buf[n] = cl_lrc(t1->buf, n);
        n++;
    }
    t1->buf_len = n;
    t1->buf_off = 0;
    t1->want = CL_T1_SEND;
    t1->next_want = CL_T1_RECV;
}

static void send_i(struct cl_t1 *t1)
{
    t1->last_kind = K_I;
    put_block(t1, t1->i_pcb, t1->tx_src + t1->i_off, t1->i_len);
}

/* Next new I-block from tx_src at i_off, cut to the peer's IFS. */
static void next_i(struct cl_t1 *t1)
{
    size_t rem = t1->tx_len - t1->i_off;
    size_t max = is_reader(t1) ? t1->ifsc : t1->ifsd;
    bool more = rem > max;

    t1->i_len = more ? max : rem;
    t1->i_pcb = (uint8_t)((t1->ns << 6) | (more ? PCB_M : 0u));
    t1->ns ^= 1u;
    send_i(t1);
}

static void send_r(struct cl_t1 *t1, uint8_t bits)
{
    t1->last_kind = K_R;
    t1->last_pcb = (uint8_t)(PCB_R | (t1->nr << 4) | bits);
    put_block(t1, t1->last_pcb, NULL, 0);
}

static void send_s(struct cl_t1 *t1, uint8_t pcb, uint8_t inf)
{
    t1->last_kind = K_S;
    t1->last_pcb = pcb;
    t1->last_inf = inf;
    put_block(t1, pcb, &t1->last_inf, s_has_inf(pcb) ? 1u : 0u);
}

static void resend_last(struct cl_t1 *t1)
{
    t1->stats.retransmissions++;
    switch (t1->last_kind) {
    case K_I:
        send_i(t1);
        break;
    case K_S:
        send_s(t1, t1->last_pcb, t1->last_inf);
        break;
    default:
        /* An R-block, or nothing sent yet: an R-block with our N(R). */
        send_r(t1, t1->last_kind == K_R ? (uint8_t)(t1->last_pcb & 0x0Fu) : R_OK);
        break;
    }
}

/* ---------------------------------------------------------------- reader */

static void reader_done(struct cl_t1 *t1, int result)
{
    t1->phase = R_DONE;
    t1->want = CL_T1_DONE;
    t1->result = result;
    t1->abort_pending = false;
    t1->wtx_mult = 0;
}

/* After IFS negotiation or resynch: report a pending result or go idle. */
static void reader_settle(struct cl_t1 *t1)
{
    t1->retries = 0;
    if (t1->pending_result != 0) {
        reader_done(t1, t1->pending_result);
        t1->pending_result = 0;
    } else {
        t1->phase = R_IDLE;
        t1->want = CL_T1_IDLE;
    }
}

static void reader_send_ifs(struct cl_t1 *t1, uint8_t ifsd)
{
    t1->phase = R_IFS;
    t1->retries = 0;
    t1->s_req_inf = ifsd;
    send_s(t1, PCB_S | S_IFS, ifsd);
}

static void reader_start_resynch(struct cl_t1 *t1)
{
    t1->phase = R_RESYNCH;
    t1->retries = 0;
    t1->resynch_tries = 1;
    t1->abort_pending = false;
    t1->stats.resynchs++;
    send_s(t1, PCB_S | S_RESYNCH, 0);
}

static void reader_send_abort(struct cl_t1 *t1, int result)
{
    t1->phase = R_ABORT;
    t1->retries = 0;
    t1->abort_pending = false;
    t1->pending_result = result;
    t1->stats.aborts++;
    send_s(t1, PCB_S | S_ABORT, 0);
}

/* A block went wrong (invalid, time-out, unexpected): rules 7.1-7.3, 6. */
static void reader_fail(struct cl_t1 *t1, uint8_t bits)
{
    if (t1->phase == R_RESYNCH) {
        if (t1->resynch_tries >= CL_T1_RESYNCH_TRIES) {
            t1->phase = R_DEAD;
            t1->want = CL_T1_DEACTIVATE;
            t1->error = CL_ERR_RESYNCH;
            return;
        }
        t1->resynch_tries++;
        t1->stats.resynchs++;
        resend_last(t1);
        return;
    }
    if (t1->retries + 1u >= t1->cfg.max_retries) {
        /* An exchange under way ends in error once resynchronised; the
         * start-up IFS negotiation (or a requested one) just goes idle. */
        if (t1->phase == R_TX || t1->phase == R_RX)
            t1->pending_result = CL_ERR_PROTOCOL;
        /* A card that cannot answer S(IFS) keeps IFSD 32 after the
         * resynch rather than loop through negotiation again. */
        t1->skip_ifs = t1->phase == R_IFS;
        reader_start_resynch(t1);
        return;
    }
    t1->retries++;
    if (t1->phase == R_IFS || t1->phase == R_ABORT) {
        resend_last(t1);    /* rule 7.3: the S-request again */
        return;
    }
    if (t1->last_kind == K_R)
        t1->stats.retransmissions++;
    send_r(t1, bits);
}

/* The card asked for the last block again (rule 7.2). */
static void reader_retransmit(struct cl_t1 *t1, bool i_block)
{
    if (t1->retries + 1u >= t1->cfg.max_retries) {
        reader_fail(t1, R_OTHER);
        return;
    }
    t1->retries++;
    if (i_block) {
        t1->stats.retransmissions++;
        send_i(t1);
    } else {
        resend_last(t1);
    }
}

static void reader_s_block(struct cl_t1 *t1, uint8_t pcb, uint8_t inf)
{
    uint8_t type = pcb & 0x1Fu;

    if ((pcb & PCB_S_RESP) || type == S_RESYNCH) {
        reader_fail(t1, R_OTHER);   /* the card never requests RESYNCH */
        return;
    }
    switch (type) {
    case S_IFS:                     /* rule 4: the card's new IFSC */
        t1->ifsc = inf;
        send_s(t1, PCB_S | PCB_S_RESP | S_IFS, inf);
        break;
    case S_WTX:                     /* rule 3: BWT x inf, next block only */
        t1->stats.wtx++;
        t1->wtx_mult = inf;
        send_s(t1, PCB_S | PCB_S_RESP | S_WTX, inf);
        break;
    default:                        /* S_ABORT: rule 9 */
        t1->stats.aborts++;
        send_s(t1, PCB_S | PCB_S_RESP | S_ABORT, 0);
        t1->phase = R_DONE;
        t1->result = CL_ERR_ABORTED;
        t1->abort_pending = false;
        t1->next_want = CL_T1_DONE;
        break;
    }
}

static void reader_block(struct cl_t1 *t1)
{
    uint8_t pcb = t1->buf[1], len = t1->buf[2];
    bool s = (pcb & 0xC0u) == PCB_S;

    switch (t1->phase) {
    case R_IFS:
        if (s && pcb == (PCB_S | PCB_S_RESP | S_IFS) && t1->buf[3] == t1->s_req_inf) {
            t1->ifsd = t1->s_req_inf;
            reader_settle(t1);
        } else {
            reader_fail(t1, R_OTHER);
        }
        return;
    case R_ABORT:
        if (pcb == (PCB_S | PCB_S_RESP | S_ABORT)) {
            t1->retries = 0;
            reader_done(t1, t1->pending_result);
            t1->pending_result = 0;
        } else {
            reader_fail(t1, R_OTHER);
        }
        return;
    case R_RESYNCH:
        if (pcb == (PCB_S | PCB_S_RESP | S_RESYNCH)) {
            /* rule 6: both sides back to the initial state */
            t1->ns = 0;
            t1->nr = 0;
            t1->ifsc = t1->cfg.ifsc;
            t1->ifsd = CL_T1_IFS_DEFAULT;
            t1->last_kind = K_NONE;
            if (t1->cfg.ifs_at_start && !t1->skip_ifs)
                reader_send_ifs(t1, t1->cfg.ifsd);
            else
                reader_settle(t1);
        } else {
            reader_fail(t1, R_OTHER);
        }
        return;
    default:
        break;
    }

    /* R_TX or R_RX */
    if (s) {
        reader_s_block(t1, pcb, t1->buf[3]);
        return;
    }
    if (pcb & 0x80u) {              /* R-block */
        uint8_t nrr = (pcb >> 4) & 1u, ins = (t1->i_pcb >> 6) & 1u;

        if (t1->phase == R_TX && (t1->i_pcb & PCB_M) && nrr != ins) {
            /* rule 5: chained block acknowledged */
            t1->retries = 0;
            t1->i_off += t1->i_len;
            if (t1->abort_pending)
                reader_send_abort(t1, CL_ERR_ABORTED);
            else
                next_i(t1);
        } else {
            reader_retransmit(t1, t1->phase == R_TX && nrr == ins);
        }
        return;
    }
    /* I-block */
    if ((t1->phase == R_TX && (t1->i_pcb & PCB_M)) || ((pcb >> 6) & 1u) != t1->nr) {
        reader_fail(t1, R_OTHER);
        return;
    }
    t1->phase = R_RX;
    t1->retries = 0;
    t1->nr ^= 1u;
    if (len > t1->rx_size - t1->rx_len) {
        if (pcb & PCB_M)
            reader_send_abort(t1, CL_ERR_BUFFER);
        else
            reader_done(t1, CL_ERR_BUFFER);
        return;
    }
    if (len)
        memcpy(t1->rx_dst + t1->rx_len, t1->buf + 3, len);
    t1->rx_len += len;
    if (pcb & PCB_M) {
        if (t1->abort_pending)
            reader_send_abort(t1, CL_ERR_ABORTED);
        else
            send_r(t1, R_OK);
    } else {
        reader_done(t1, (int)t1->rx_len);
    }
}

/* ---------------------------------------------------------------- card */

static void card_send_abort(struct cl_t1 *t1)
{
    t1->phase = C_ABORT;
    t1->abort_pending = false;
    t1->chain_rx = false;
    t1->stats.aborts++;
    send_s(t1, PCB_S | S_ABORT, 0);
}

static void card_fail(struct cl_t1 *t1, uint8_t bits)
{
    if (t1->phase == C_WTX || t1->phase == C_IFS || t1->phase == C_ABORT)
        resend_last(t1);            /* rule 7.3: the S-request again */
    else
        send_r(t1, bits);
}

static void card_s_block(struct cl_t1 *t1, uint8_t pcb, uint8_t inf)
{
    uint8_t type = pcb & 0x1Fu;

    if (pcb & PCB_S_RESP) {
        card_fail(t1, R_OTHER);     /* no request of ours outstanding */
        return;
    }
    switch (type) {
    case S_RESYNCH:
        t1->ns = 0;
        t1->nr = 0;
        t1->ifsc = t1->cfg.ifsc;
        t1->ifsd = CL_T1_IFS_DEFAULT;
        t1->chain_rx = false;
        t1->abort_pending = false;
        t1->rx_len = 0;
        t1->phase = C_RECV;
        t1->stats.resynchs++;
        send_s(t1, PCB_S | PCB_S_RESP | S_RESYNCH, 0);
        break;
    case S_IFS:
        t1->ifsd = inf;
        send_s(t1, PCB_S | PCB_S_RESP | S_IFS, inf);
        break;
    case S_ABORT:
        t1->stats.aborts++;
        t1->chain_rx = false;
        t1->abort_pending = false;
        t1->rx_len = 0;
        t1->phase = C_RECV;
        send_s(t1, PCB_S | PCB_S_RESP | S_ABORT, 0);
        break;
    default:                        /* WTX is the card's to request */
        card_fail(t1, R_OTHER);
        break;
    }
}

static void card_block(struct cl_t1 *t1)
{
    uint8_t pcb = t1->buf[1], len = t1->buf[2];
    bool s = (pcb & 0xC0u) == PCB_S;

    if (t1->phase == C_WTX || t1->phase == C_IFS || t1->phase == C_ABORT) {
        uint8_t want_type = t1->phase == C_WTX ? S_WTX : t1->phase == C_IFS ? S_IFS : S_ABORT;

        if (pcb == (PCB_S | PCB_S_RESP | want_type) &&
            (!s_has_inf(pcb) || t1->buf[3] == t1->s_req_inf)) {
            if (t1->phase == C_ABORT) {
                t1->phase = C_RECV;
                t1->rx_len = 0;
                to_recv(t1);
            } else {
                if (t1->phase == C_IFS)
                    t1->ifsc = t1->s_req_inf;
                t1->phase = C_APDU;
                t1->want = CL_T1_APDU;
            }
        } else if (pcb == (PCB_S | S_RESYNCH)) {
            card_s_block(t1, pcb, 0);
        } else {
            card_fail(t1, R_OTHER);
        }
        return;
    }
    if (s) {
        card_s_block(t1, pcb, t1->buf[3]);
        return;
    }
    if (pcb & 0x80u) {              /* R-block */
        uint8_t nrr = (pcb >> 4) & 1u, ins = (t1->i_pcb >> 6) & 1u;

        if (t1->phase == C_TX) {
            if ((t1->i_pcb & PCB_M) && nrr != ins) {
                t1->i_off += t1->i_len;
                if (t1->abort_pending)
                    card_send_abort(t1);
                else
                    next_i(t1);
                return;
            }
            if (nrr == ins) {
                t1->stats.retransmissions++;
                send_i(t1);
                return;
            }
        }
        if (t1->last_kind == K_R)
            resend_last(t1);
        else
            send_r(t1, R_OK);       /* tell the reader which N(S) we expect */
        return;
    }
    /* I-block */
    if ((t1->phase == C_TX && (t1->i_pcb & PCB_M)) || ((pcb >> 6) & 1u) != t1->nr) {
        card_fail(t1, R_OTHER);
        return;
    }
    t1->nr ^= 1u;
    if (!t1->chain_rx)
        t1->rx_len = 0;
    t1->phase = C_RECV;
    if (len > t1->rx_size - t1->rx_len) {
        t1->rx_len = 0;
        card_send_abort(t1);        /* command too long for our buffer */
        return;
    }
    if (len)
        memcpy(t1->rx_dst + t1->rx_len, t1->buf + 3, len);
    t1->rx_len += len;
    if (pcb & PCB_M) {
        t1->chain_rx = true;
        if (t1->abort_pending)
            card_send_abort(t1);
        else
            send_r(t1, R_OK);
    } else {
        t1->chain_rx = false;
        t1->abort_pending = false;
        t1->phase = C_APDU;
        t1->want = CL_T1_APDU;
        t1->result = t1->rx_len > RESULT_MAX ? CL_ERR_INTERNAL : (int)t1->rx_len;
    }
}

/* ---------------------------------------------------------------- blocks */

/* Check a complete received block: 0 valid, else R-block error bits. */
static uint8_t check_block(struct cl_t1 *t1)
{
    size_t n = t1->buf_len;
    uint8_t pcb = t1->buf[1], len = t1->buf[2];
    uint8_t my_ifs = is_reader(t1) ? t1->ifsd : t1->ifsc;

    if (t1->rx_parity) {
        t1->stats.parity_errors++;
        return R_EDC;
    }
    if (n > CL_T1_BLOCK_MAX)
        return R_OTHER;             /* LEN 255 with CRC: not even stored */
    if (t1->cfg.edc == CL_T1_EDC_CRC) {
        uint16_t crc = cl_crc16(t1->buf, n - 2u);

        if (t1->buf[n - 2u] != (uint8_t)(crc >> 8) || t1->buf[n - 1u] != (uint8_t)crc) {
            t1->stats.edc_errors++;
            return R_EDC;
        }
    } else if (cl_lrc(t1->buf, n) != 0) {
        t1->stats.edc_errors++;
        return R_EDC;
    }
    if (len == 0xFFu)
        return R_OTHER;             /* §11.3.2.3: LEN 255 is RFU */
    if (!(pcb & 0x80u))             /* I-block: b5..b1 RFU, LEN <= IFS */
        return (pcb & 0x1Fu) || len > my_ifs ? R_OTHER : R_OK;
    if ((pcb & 0xC0u) == PCB_R)     /* R-block: b6 0, bits 0..2, no INF */
        return (pcb & 0x20u) || (pcb & 0x0Fu) > 2u || len ? R_OTHER : R_OK;
    /* S-block */
    if ((pcb & 0x1Fu) > S_WTX)
        return R_OTHER;
    if (len != s_has_inf(pcb))
        return R_OTHER;
    if (len && (t1->buf[3] == 0 || ((pcb & 0x1Fu) == S_IFS && t1->buf[3] == 0xFFu)))
        return R_OTHER;
    return R_OK;
}

static void invalid(struct cl_t1 *t1, uint8_t bits)
{
    t1->stats.invalid_blocks++;
    if (is_reader(t1))
        reader_fail(t1, bits);
    else
        card_fail(t1, bits);
}

static void block_complete(struct cl_t1 *t1)
{
    uint8_t bits;

    t1->stats.blocks_received++;
    t1->wtx_mult = 0;
    bits = check_block(t1);
    if (bits != R_OK) {
        invalid(t1, bits);
        return;
    }
    t1->rx_nad = t1->buf[0];
    if (is_reader(t1))
        reader_block(t1);
    else
        card_block(t1);
}

/* ---------------------------------------------------------------- API */

/* see cardlink/t1.h */
void cl_t1_config_default(struct cl_t1_config *cfg, enum cl_t1_role role)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof(*cfg));
    cfg->role = (uint8_t)role;
    cfg->edc = CL_T1_EDC_LRC;
    cfg->ifsc = CL_T1_IFS_DEFAULT;
    cfg->ifsd = CL_T1_IFS_MAX;
    cfg->bwi = 4;
    cfg->cwi = 13;
    cfg->f = CL_RATE_FD;
    cfg->d = CL_RATE_DD;
    cfg->bgt_etu = CL_T1_BGT_DEFAULT;
    cfg->max_retries = CL_T1_RETRIES_DEFAULT;
    cfg->ifs_at_start = true;
}

/* see cardlink/t1.h */
int cl_t1_setup(struct cl_t1 *t1, const struct cl_t1_config *cfg)
{
    if (!t1)
        return CL_ERR_ARG;
    memset(t1, 0, sizeof(*t1));
    if (!cfg || cfg->role > CL_T1_ROLE_CARD || cfg->edc > CL_T1_EDC_CRC ||
        cfg->ifsc == 0 || cfg->ifsc > CL_T1_IFS_MAX ||
        cfg->ifsd == 0 || cfg->ifsd > CL_T1_IFS_MAX || cfg->bwi > 9 ||
        cfg->cwi > 15 || cl_rate_fi_index(cfg->f) < 0 ||
        cl_rate_di_index(cfg->d) < 0 || cfg->bgt_etu < CL_T1_BGT_DEFAULT ||
        cfg->max_retries == 0 || cfg->max_retries > 15)
        return CL_ERR_ARG;
    t1->cfg = *cfg;
    t1->ifsc = cfg->ifsc;
    t1->ifsd = CL_T1_IFS_DEFAULT;
    t1->bwt = cl_rate_bwt_etu(cfg->bwi, cfg->f, cfg->d);
    t1->cwt = cl_rate_cwt_etu(cfg->cwi);
    t1->want = CL_T1_IDLE;
    if (cfg->role == CL_T1_ROLE_CARD) {
        t1->phase = C_IDLE;
    } else if (cfg->ifs_at_start) {
        t1->phase = R_IDLE;
        reader_send_ifs(t1, cfg->ifsd);
    } else {
        t1->phase = R_IDLE;
    }
    return CL_OK;
}

/* see cardlink/t1.h */
void cl_t1_reset(struct cl_t1 *t1)
{
    if (t1)
        memset(t1, 0, sizeof(*t1));
}

/* see cardlink/t1.h */
enum cl_t1_want cl_t1_want(const struct cl_t1 *t1)
{
    return t1 ? (enum cl_t1_want)t1->want : CL_T1_IDLE;
}

/* see cardlink/t1.h */
size_t cl_t1_pull(struct cl_t1 *t1, const uint8_t **out)
{
    if (!t1 || t1->want != CL_T1_SEND) {
        if (out)
            *out = NULL;
        return 0;
    }
    if (out)
        *out = t1->buf + t1->buf_off;
    return t1->buf_len - t1->buf_off;
}

/* see cardlink/t1.h */
int cl_t1_sent(struct cl_t1 *t1, size_t n)
{
    if (!t1)
        return CL_ERR_ARG;
    if (t1->want != CL_T1_SEND)
        return CL_ERR_STATE;
    if (n > t1->buf_len - t1->buf_off)
        return CL_ERR_ARG;
    t1->buf_off += n;
    if (t1->buf_off == t1->buf_len) {
        t1->stats.blocks_sent++;
        if (t1->next_want == CL_T1_RECV)
            to_recv(t1);
        else
            t1->want = t1->next_want;
    }
    return CL_OK;
}

/* see cardlink/t1.h */
int cl_t1_feed(struct cl_t1 *t1, const uint8_t *bytes, size_t len)
{
    size_t i = 0;

    if (!t1 || (!bytes && len))
        return CL_ERR_ARG;
    if (t1->want != CL_T1_RECV)
        return CL_ERR_STATE;
    if (len > RESULT_MAX)
        len = RESULT_MAX;
    while (i < len) {
        if (t1->buf_len < CL_T1_BLOCK_MAX)
            t1->buf[t1->buf_len] = bytes[i];
        t1->buf_len++;
        i++;
        if (t1->buf_len == 3)
            t1->buf_need = 3u + t1->buf[2] + edc_len(t1);
        if (t1->buf_need && t1->buf_len == t1->buf_need) {
            block_complete(t1);
            break;
        }
    }
    return (int)i;
}

/* see cardlink/t1.h */
int cl_t1_timeout(struct cl_t1 *t1)
{
    if (!t1)
        return CL_ERR_ARG;
    if (t1->want != CL_T1_RECV || cl_t1_timeout_etu(t1) == 0)
        return CL_ERR_STATE;
    t1->stats.timeouts++;
    t1->wtx_mult = 0;
    if (t1->buf_len > 0) {          /* CWT: the block is cut short */
        t1->stats.blocks_received++;
        if (t1->rx_parity)
            t1->stats.parity_errors++;
        invalid(t1, t1->rx_parity ? R_EDC : R_OTHER);
    } else {                        /* BWT: nothing came (reader only) */
        reader_fail(t1, R_OTHER);
    }
    return CL_OK;
}

/* see cardlink/t1.h */
int cl_t1_parity_error(struct cl_t1 *t1)
{
    if (!t1)
        return CL_ERR_ARG;
    if (t1->want != CL_T1_RECV)
        return CL_ERR_STATE;
    t1->rx_parity = true;
    return CL_OK;
}

/* see cardlink/t1.h */
uint32_t cl_t1_timeout_etu(const struct cl_t1 *t1)
{
    uint32_t m;

    if (!t1 || t1->want != CL_T1_RECV)
        return 0;
    if (t1->buf_len > 0)
        return t1->cwt;
    if (!is_reader(t1))
        return 0;
    m = t1->wtx_mult ? t1->wtx_mult : 1u;
    return t1->bwt > 0xFFFFFFFFu / m ? 0xFFFFFFFFu : t1->bwt * m;
}

/* see cardlink/t1.h */
uint32_t cl_t1_guard_etu(const struct cl_t1 *t1)
{
    return t1 ? t1->cfg.bgt_etu : 0;
}

/* see cardlink/t1.h */
int cl_t1_result(const struct cl_t1 *t1)
{
    if (!t1)
        return CL_ERR_ARG;
    if (t1->want != CL_T1_DONE && t1->want != CL_T1_APDU)
        return CL_ERR_STATE;
    return t1->result;
}

/* see cardlink/t1.h */
int cl_t1_error(const struct cl_t1 *t1)
{
    return t1 ? t1->error : CL_OK;
}

/* see cardlink/t1.h */
const struct cl_t1_stats *cl_t1_stats(const struct cl_t1 *t1)
{
    return t1 ? &t1->stats : NULL;
}

/* see cardlink/t1.h */
uint8_t cl_t1_ifsc(const struct cl_t1 *t1)
{
    return t1 ? t1->ifsc : 0;
}

/* see cardlink/t1.h */
uint8_t cl_t1_ifsd(const struct cl_t1 *t1)
{
    return t1 ? t1->ifsd : 0;
}

static bool reader_ready(const struct cl_t1 *t1)
{
    return t1->phase == R_IDLE || t1->phase == R_DONE;
}

/* see cardlink/t1.h */
int cl_t1_transmit_start(struct cl_t1 *t1, const uint8_t *cmd, size_t cmd_len,
                         uint8_t *resp, size_t resp_size)
{
    if (!t1 || (!cmd && cmd_len) || (!resp && resp_size))
        return CL_ERR_ARG;
    if (!reader_ready(t1))
        return CL_ERR_STATE;
    t1->tx_src = cmd;
    t1->tx_len = cmd_len;
    t1->rx_dst = resp;
    t1->rx_size = resp_size > RESULT_MAX ? RESULT_MAX : resp_size;
    t1->rx_len = 0;
    t1->retries = 0;
    t1->abort_pending = false;
    t1->pending_result = 0;
    t1->result = 0;
    t1->wtx_mult = 0;
    t1->i_off = 0;
    t1->phase = R_TX;
    next_i(t1);
    return CL_OK;
}

/* see cardlink/t1.h */
int cl_t1_request_ifs(struct cl_t1 *t1, uint8_t ifsd)
{
    if (!t1 || ifsd == 0 || ifsd > CL_T1_IFS_MAX)
        return CL_ERR_ARG;
    if (!reader_ready(t1))
        return CL_ERR_STATE;
    t1->pending_result = 0;
    reader_send_ifs(t1, ifsd);
    return CL_OK;
}

/* see cardlink/t1.h */
int cl_t1_resynch(struct cl_t1 *t1)
{
    if (!t1)
        return CL_ERR_ARG;
    if (!reader_ready(t1))
        return CL_ERR_STATE;
    t1->pending_result = 0;
    t1->skip_ifs = false;
    reader_start_resynch(t1);
    return CL_OK;
}

/* see cardlink/t1.h */
int cl_t1_abort(struct cl_t1 *t1)
{
    if (!t1)
        return CL_ERR_ARG;
    if (t1->phase == R_TX || t1->phase == R_RX || t1->chain_rx ||
        (t1->phase == C_TX && (t1->i_pcb & PCB_M))) {
        t1->abort_pending = true;
        return CL_OK;
    }
    return CL_ERR_STATE;
}

/* see cardlink/t1.h */
int cl_t1_card_listen(struct cl_t1 *t1, uint8_t *cmd, size_t size)
{
    if (!t1 || !cmd || size == 0)
        return CL_ERR_ARG;
    if (t1->phase != C_IDLE)
        return CL_ERR_STATE;
    t1->rx_dst = cmd;
    t1->rx_size = size > RESULT_MAX ? RESULT_MAX : size;
    t1->rx_len = 0;
    t1->phase = C_RECV;
    to_recv(t1);
    return CL_OK;
}

/* see cardlink/t1.h */
int cl_t1_card_respond(struct cl_t1 *t1, const uint8_t *resp, size_t len)
{
    if (!t1 || (!resp && len))
        return CL_ERR_ARG;
    if (t1->phase != C_APDU)
        return CL_ERR_STATE;
    t1->tx_src = resp;
    t1->tx_len = len;
    t1->i_off = 0;
    t1->phase = C_TX;
    next_i(t1);
    return CL_OK;
}

/* see cardlink/t1.h */
int cl_t1_card_request_wtx(struct cl_t1 *t1, uint8_t multiplier)
{
    if (!t1 || multiplier == 0)
        return CL_ERR_ARG;
    if (t1->phase != C_APDU)
        return CL_ERR_STATE;
    t1->phase = C_WTX;
    t1->s_req_inf = multiplier;
    t1->stats.wtx++;
    send_s(t1, PCB_S | S_WTX, multiplier);
    return CL_OK;
}

/* see cardlink/t1.h */
int cl_t1_card_request_ifs(struct cl_t1 *t1, uint8_t ifsc)
{
    if (!t1 || ifsc == 0 || ifsc > CL_T1_IFS_MAX)
        return CL_ERR_ARG;
    if (t1->phase != C_APDU)
        return CL_ERR_STATE;
    t1->phase = C_IFS;
    t1->s_req_inf = ifsc;
    send_s(t1, PCB_S | S_IFS, ifsc);
    return CL_OK;
}
