/*
 * cardlink — ISO 7816-3 §11 T=1 engine, reader and card roles: the rules of
 * §11.4-§11.6 (chaining, S-blocks, error recovery) and the API.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The bytes of blocks, their EDC and their checks are t1_block.c's: this
 * file builds blocks through cl_t1i_block_put() and is told of each complete
 * one by cl_t1i_rx_valid() / cl_t1i_rx_invalid(). A retransmission rebuilds
 * the last block from blk, kind and the I-block descriptor (i_pcb, i_len,
 * tx); the reader just sends blk (and tx) again.
 */
#include <stddef.h>
#include <string.h>

#include "cardlink/t1.h"
#include "cardlink/error.h"
#include "cardlink/rate.h"
#include "cardlink/wipe.h"
#include "t1_impl.h"

/* see t1_impl.h; kept out of line: a call is shorter than the test and
 * increment at every site. */
NOINLINE void cl_t1i_count(struct cl_t1 *t1, unsigned idx)
{
    if (t1->stats)
        ((uint32_t *)(void *)t1->stats)[idx]++;
}

/* Our I-block (i_pcb, i_len at tx), cut to the peer's IFS here: the peer
 * may have lowered it by S(IFS) since the block was first sent, and an
 * unacknowledged block asked for again (rule 7.2) is then cut again, with
 * M set, rather than sent longer than the peer takes (§11.4.2). */
static NOINLINE void send_i(struct cl_t1 *t1)
{
    uint8_t max = is_reader(t1) ? t1->ifsc : t1->ifsd;

    if (t1->i_len > max) {
        t1->i_len = max;
        t1->i_pcb |= PCB_M;
    }
    t1->kind = K_I;
    cl_t1i_block_put(t1, t1->i_pcb, t1->i_len, 0);
}

/* Next new I-block from tx (send_i() cuts it to the peer's IFS). */
static void next_i(struct cl_t1 *t1)
{
    t1->i_len = (uint8_t)(t1->tx_len > 255u ? 255u : t1->tx_len);
    t1->i_pcb = (uint8_t)((t1->flags & F_NS) << 4);
    t1->flags ^= F_NS;
    send_i(t1);
}

/* Our chained I-block was acknowledged: the next one (or S(ABORT)). */
static bool chain_next(struct cl_t1 *t1)
{
    t1->tx += t1->i_len;
    t1->tx_len -= t1->i_len;
    if (t1->flags & F_ABORT)
        return false;
    next_i(t1);
    return true;
}

static void send_r(struct cl_t1 *t1, uint8_t bits)
{
    t1->kind = K_R;
    cl_t1i_block_put(t1, (uint8_t)(PCB_R | ((t1->flags & F_NR) >> 2) | bits), 0, 0);
}

static NOINLINE void send_s(struct cl_t1 *t1, uint8_t pcb, uint8_t inf)
{
    t1->kind = K_S;
    cl_t1i_block_put(t1, pcb, s_has_inf(pcb), inf);
}

static void resend_last(struct cl_t1 *t1)
{
    cl_t1i_count(t1, ST(retransmissions));
    if (t1->kind == K_NONE) {       /* nothing sent yet: an R-block */
        send_r(t1, R_OK);
    } else if (is_reader(t1)) {     /* blk (and tx) still hold the block */
        t1->pos = 0;
        t1->want = CL_WANT_SEND;
    }
#if CL_T1_CARD
    /* the card rebuilds it: its NAD answers the reader's last one */
    else if (t1->kind == K_I)
        send_i(t1);
    else if (t1->kind == K_S)
        send_s(t1, t1->blk[1], t1->blk[3]);
    else
        send_r(t1, (uint8_t)(t1->blk[1] & 0x0Fu));
#endif
}

/* Sequence number of an I-block differs from the one we expect. */
static bool bad_ns(const struct cl_t1 *t1, uint8_t pcb)
{
    return ((pcb ^ t1->flags) & F_NR) != 0;
}

/* ------------------------------------------------- both roles */

/* Our S-request (in blk) is outstanding. */
static bool awaiting_s(const struct cl_t1 *t1)
{
#if CL_T1_CARD
    return (unsigned)(t1->phase - R_IFS) <= C_ABORT - R_IFS;
#else
    return (unsigned)(t1->phase - R_IFS) <= R_RESYNCH - R_IFS;
#endif
}

/* The exchange is over: CL_WANT_DONE, the reader's with err, the card's
 * with the command. Nothing computed from the APDUs stays (a VERIFY's PIN
 * block): the EDC of the last block sent and the first INF byte of the
 * last one received are cleared; nothing reads them before the next block
 * is built or received. */
static NOINLINE void finish(struct cl_t1 *t1, int err)
{
    t1->phase = is_reader(t1) ? R_DONE : C_APDU;
    t1->want = CL_WANT_DONE;
    t1->res = (int8_t)err;
    t1->flags &= (uint8_t)~(F_ABORT | F_CHAIN);
    t1->wtx = 0;
    t1->blk[3] = t1->blk[4] = t1->blk[5] = 0;
    t1->hdr[3] = 0;
}

/* After IFS negotiation or resynch: report a pending result or go idle. */
static void reader_settle(struct cl_t1 *t1)
{
    t1->retries = 0;
    if (t1->pending != 0) {
        finish(t1, t1->pending);
        t1->pending = 0;
    } else {
        t1->phase = R_IDLE;
        t1->want = CL_WANT_IDLE;
    }
}

static NOINLINE void reader_send_ifs(struct cl_t1 *t1, uint8_t ifsd)
{
    t1->phase = R_IFS;
    t1->retries = 0;
    send_s(t1, PCB_S | S_IFS, ifsd);
}

static void reader_start_resynch(struct cl_t1 *t1)
{
    t1->phase = R_RESYNCH;
    t1->retries = 0;
    t1->resynchs = 1;
    t1->flags &= (uint8_t)~F_ABORT;
    cl_t1i_count(t1, ST(resynchs));
    send_s(t1, PCB_S | S_RESYNCH, 0);
}

/* S(ABORT request): the reader ends with result once answered. */
static void send_abort(struct cl_t1 *t1, int result)
{
    t1->phase = is_reader(t1) ? R_ABORT : C_ABORT;
    t1->retries = 0;
    t1->flags &= (uint8_t)~(F_ABORT | F_CHAIN);
    t1->pending = (int8_t)result;
    cl_t1i_count(t1, ST(aborts));
    send_s(t1, PCB_S | S_ABORT, 0);
}

/* Rule 6: both sides back to the initial state. */
static NOINLINE void resynch_reset(struct cl_t1 *t1)
{
    t1->flags &= (uint8_t)~(F_NS | F_NR);
    t1->ifsc = t1->ifsc0;
    t1->ifsd = CL_T1_IFS_DEFAULT;
    t1->kind = K_NONE;
}

/* A block went wrong (invalid, time-out, unexpected: bits are the error
 * bits of the R-block to send), or the peer's R-block asked for our last
 * block again (R_RESEND): rules 7.1-7.3, 6. The reader counts the attempt
 * first. */
static void fail(struct cl_t1 *t1, uint8_t bits)
{
    bool rd = is_reader(t1);

    if (rd) {
        if (t1->phase == R_RESYNCH) {
            if (t1->resynchs >= CL_T1_RESYNCH_TRIES) {
                t1->phase = R_DEAD;
                t1->want = CL_WANT_FAILED;
                t1->res = (int8_t)CL_ERR_RESYNCH;   /* cl_t1_timeout() may say TIMEOUT */
                return;
            }
            t1->resynchs++;
            cl_t1i_count(t1, ST(resynchs));
            resend_last(t1);
            return;
        }
        if (t1->retries + 1u >= t1->max_retries) {
            /* An exchange under way ends in error once resynchronised;
             * the start-up IFS negotiation (or a requested one) just goes
             * idle. */
            if ((unsigned)(t1->phase - R_TX) <= R_RX - R_TX)
                t1->pending = CL_ERR_PROTOCOL;
            /* A card that cannot answer S(IFS) keeps IFSD 32 after the
             * resynch rather than loop through negotiation again. */
            t1->flags &= (uint8_t)~F_SKIP_IFS;
            if (t1->phase == R_IFS)
                t1->flags |= F_SKIP_IFS;
            reader_start_resynch(t1);
            return;
        }
        t1->retries++;
    }
    if (awaiting_s(t1)) {
        resend_last(t1);            /* rule 7.3: the S-request again */
    } else if (bits == R_RESEND) {  /* rule 7.2 */
        if (t1->phase == (rd ? R_TX : C_TX) &&
            !(((t1->hdr[1] << 2) ^ t1->i_pcb) & 0x40u)) {
            cl_t1i_count(t1, ST(retransmissions));
            send_i(t1);             /* our I-block, N(R) = its N(S) */
        } else if (rd || t1->kind == K_R) {
            resend_last(t1);
        } else {
            send_r(t1, R_OK);       /* tell the reader which N(S) we expect */
        }
    } else {
        if (rd && t1->kind == K_R)
            cl_t1i_count(t1, ST(retransmissions));
        send_r(t1, bits);
    }
}

/* The answer to our outstanding S-request (pcb, inf) arrived. */
static void s_answered(struct cl_t1 *t1)
{
    switch (t1->phase) {
    case R_IFS:
    case R_ABORT:                   /* pending holds its result (not 0) */
        if (t1->phase == R_IFS)
            t1->ifsd = t1->blk[3];
        reader_settle(t1);
        break;
    case R_RESYNCH:
        resynch_reset(t1);
        if ((t1->flags & (F_IFS_START | F_SKIP_IFS)) == F_IFS_START)
            reader_send_ifs(t1, t1->ifsd0);
        else
            reader_settle(t1);
        break;
#if CL_T1_CARD
    case C_ABORT:
        t1->phase = C_RECV;
        t1->rx_len = 0;
        to_recv(t1);
        break;
    default:                        /* C_WTX, C_IFS */
        if (t1->phase == C_IFS)
            t1->ifsc = t1->blk[3];
        finish(t1, 0);
        break;
#endif
    }
}

/* An S-request from the peer (rules 3, 4, 6, 9). */
static void s_request(struct cl_t1 *t1, uint8_t pcb, uint8_t inf)
{
    uint8_t type = pcb & 0x1Fu;
    bool rd = is_reader(t1);

    /* the card never requests RESYNCH; WTX is the card's to request */
    if ((pcb & PCB_S_RESP) || type == (rd ? S_RESYNCH : S_WTX)) {
        fail(t1, R_OTHER);
        return;
    }
    if (type == S_IFS) {            /* the peer's new IFS */
        if (rd)
            t1->ifsc = inf;
        else
            t1->ifsd = inf;
    } else if (type == S_WTX) {     /* reader: BWT x inf, next block only */
        cl_t1i_count(t1, ST(wtx));
        t1->wtx = inf;
    } else {                        /* RESYNCH (card) or ABORT */
        if (type == S_RESYNCH) {
            resynch_reset(t1);
            cl_t1i_count(t1, ST(resynchs));
        } else {
            cl_t1i_count(t1, ST(aborts));
        }
        t1->flags &= (uint8_t)~(F_CHAIN | F_ABORT);
        if (rd) {
            t1->phase = R_DONE;     /* CL_WANT_DONE once the answer is out */
            t1->res = CL_ERR_ABORTED;
        } else {
            t1->rx_len = 0;
            t1->phase = C_RECV;
        }
    }
    send_s(t1, (uint8_t)(pcb | PCB_S_RESP), inf);
}

/* see t1_impl.h: a valid block arrived (prologue and first INF byte in
 * hdr). */
void cl_t1i_rx_valid(struct cl_t1 *t1)
{
    uint8_t pcb = t1->hdr[1], len = t1->hdr[2];
    bool rd = is_reader(t1);
    uint8_t tx = rd ? R_TX : C_TX;
    bool chained = t1->phase == tx && (t1->i_pcb & PCB_M);

    if (awaiting_s(t1)) {
        /* same type (so same LEN, checked): the same INF, if any */
        if (pcb == (t1->blk[1] | PCB_S_RESP) &&
            (!t1->hdr[2] || t1->hdr[3] == t1->blk[3]))
            s_answered(t1);
        else if (!rd && pcb == (PCB_S | S_RESYNCH))
            s_request(t1, pcb, 0);
        else
            fail(t1, R_OTHER);
        return;
    }
    if ((pcb & 0xC0u) == PCB_S) {
        s_request(t1, pcb, t1->hdr[3]);
        return;
    }
    if (pcb & 0x80u) {              /* R-block */
        bool same = !(((pcb << 2) ^ t1->i_pcb) & 0x40u);

        if (chained && !same) {     /* rule 5: chained block acknowledged */
            t1->retries = 0;
            if (!chain_next(t1))
                send_abort(t1, CL_ERR_ABORTED);
            return;
        }
        fail(t1, R_RESEND);         /* the last block again */
        return;
    }
    /* I-block: its INF is already in the caller's buffer when it fits */
    if (chained || bad_ns(t1, pcb)) {
        fail(t1, R_OTHER);
        return;
    }
    t1->flags ^= F_NR;
    t1->retries = 0;
    if (!rd && !(t1->flags & F_CHAIN))
        t1->rx_len = 0;
    t1->phase = rd ? R_RX : C_RECV;
    if (len > t1->rx_size - t1->rx_len) {
        if (rd && !(pcb & PCB_M)) {
            finish(t1, CL_ERR_BUFFER);
            return;
        }
        if (!rd)
            t1->rx_len = 0;         /* command too long for our buffer */
        send_abort(t1, CL_ERR_BUFFER);
        return;
    }
    t1->rx_len += len;
    if (!(pcb & PCB_M)) {
        finish(t1, 0);
        return;
    }
    if (!rd)
        t1->flags |= F_CHAIN;
    if (t1->flags & F_ABORT)
        send_abort(t1, CL_ERR_ABORTED);
    else
        send_r(t1, R_OK);
}

/* see t1_impl.h */
void cl_t1i_rx_invalid(struct cl_t1 *t1, uint8_t bits)
{
    cl_t1i_count(t1, ST(invalid_blocks));
    fail(t1, bits);
}

/* ---------------------------------------------------------------- API */

/* see cardlink/t1.h */
void cl_t1_config_default(struct cl_t1_config *cfg, enum cl_t1_role role)
{
    static const struct cl_t1_config def = {
        CL_T1_ROLE_READER, CL_T1_EDC_LRC, CL_T1_IFS_DEFAULT, CL_T1_IFS_MAX,
        0, 4, 13, CL_RATE_DD, CL_RATE_FD, CL_T1_BGT_DEFAULT,
        CL_T1_RETRIES_DEFAULT, true
    };

    if (!cfg)
        return;
    *cfg = def;
    cfg->role = (uint8_t)role;
}

/* see cardlink/t1.h */
int cl_t1_setup(struct cl_t1 *t1, const struct cl_t1_config *cfg,
                struct cl_t1_stats *stats)
{
    if (!t1)
        return CL_ERR_ARG;
    memset(t1, 0, sizeof(*t1));
    /* (uint8_t)(x - 1) >= m: x is 0 or above m */
    if (!cfg || (cfg->role | cfg->edc) > 1u ||
        (uint8_t)(cfg->ifsc - 1u) >= CL_T1_IFS_MAX ||
        (uint8_t)(cfg->ifsd - 1u) >= CL_T1_IFS_MAX || cfg->bwi > 9 ||
        cfg->cwi > 15 || (cl_rate_fi_index(cfg->f) | cl_rate_di_index(cfg->d)) < 0 ||
        cfg->bgt_etu < CL_T1_BGT_DEFAULT ||
        (uint8_t)(cfg->max_retries - 1u) >= 15u)
        return CL_ERR_ARG;
#if !CL_T1_CARD
    if (cfg->role == CL_T1_ROLE_CARD)
        return CL_ERR_UNSUPPORTED;
#endif
    if (stats)
        memset(stats, 0, sizeof(*stats));
    t1->stats = stats;
    /* edc is 0 or 1 (CL_T1_EDC_CRC is F_CRC) */
    t1->flags = (uint8_t)(cfg->edc | (cfg->ifs_at_start ? F_IFS_START : 0u));
    t1->nad = cfg->nad;
    t1->ifsc0 = cfg->ifsc;
    t1->ifsd0 = cfg->ifsd;
    t1->max_retries = cfg->max_retries;
    t1->bgt = cfg->bgt_etu;
    t1->ifsc = cfg->ifsc;
    t1->ifsd = CL_T1_IFS_DEFAULT;
    t1->bwt = cl_rate_bwt_etu(cfg->bwi, cfg->f, cfg->d);
    t1->cwt = (uint16_t)cl_rate_cwt_etu(cfg->cwi);
    t1->want = CL_WANT_IDLE;
#if CL_T1_CARD
    if (cfg->role == CL_T1_ROLE_CARD) {
        t1->phase = C_IDLE;
        return CL_OK;
    }
#endif
    t1->phase = R_IDLE;
    if (cfg->ifs_at_start)
        reader_send_ifs(t1, cfg->ifsd);
    return CL_OK;
}

/* see cardlink/t1.h */
void cl_t1_free(struct cl_t1 *t1)
{
    if (t1)
        cl_wipe(t1, sizeof(*t1));
}

/* see cardlink/t1.h */
enum cl_want cl_t1_want(const struct cl_t1 *t1)
{
    return t1 ? (enum cl_want)t1->want : CL_WANT_FAILED;
}

/* see cardlink/t1.h */
int cl_t1_timeout(struct cl_t1 *t1)
{
    if (!t1)
        return CL_ERR_ARG;
    if (cl_t1_timer(t1) == CL_TIMER_NONE)  /* not RECV, or no timer */
        return CL_ERR_STATE;
    cl_t1i_count(t1, ST(timeouts));
    if (t1->pos > 0) {              /* CWT: the block is cut short */
        cl_t1i_block_end(t1);         /* invalid: pos is not its end */
    } else {                        /* BWT: nothing came (reader only) */
        t1->wtx = 0;
        fail(t1, R_OTHER);
        if (t1->phase == R_DEAD)    /* the card went mute, not astray */
            t1->res = (int8_t)CL_ERR_TIMEOUT;
    }
    return CL_OK;
}

/* see cardlink/t1.h */
uint32_t cl_t1_timer(const struct cl_t1 *t1)
{
    uint32_t m, hi, lo;

    if (!t1 || t1->want != CL_WANT_RECV)
        return CL_TIMER_NONE;
    if (t1->pos > 0)
        return t1->cwt;
    if (!is_reader(t1))
        return CL_TIMER_NONE;
    m = t1->wtx;
    if (m == 0)
        return t1->bwt;
    /* BWT x WTX saturated at CL_TIMER_MAX (never "none"), by 16-bit halves
     * (no division) */
    hi = (t1->bwt >> 16) * m;
    lo = (t1->bwt & 0xFFFFu) * m;
    if (hi >> 16)
        return CL_TIMER_MAX;
    hi = (hi << 16) + lo;
    return hi < lo || hi > CL_TIMER_MAX ? CL_TIMER_MAX : hi;
}

/* see cardlink/t1.h */
uint32_t cl_t1_guard_etu(const struct cl_t1 *t1)
{
    return t1 ? t1->bgt : 0;
}

/* see cardlink/t1.h */
int cl_t1_result(const struct cl_t1 *t1)
{
    if (!t1)
        return CL_ERR_ARG;
    if (t1->want != CL_WANT_DONE)
        return CL_ERR_STATE;
    return t1->res ? t1->res : (int)t1->rx_len;
}

/* see cardlink/t1.h */
int cl_t1_error(const struct cl_t1 *t1)
{
    if (t1 == NULL)
        return CL_ERR_ARG;
    return t1->phase == R_DEAD ? t1->res : CL_OK;
}

/* see cardlink/t1.h */
const struct cl_t1_stats *cl_t1_stats(const struct cl_t1 *t1)
{
    return t1 ? t1->stats : NULL;
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

/* NULL t1: CL_ERR_ARG; a reader neither IDLE nor DONE: CL_ERR_STATE. */
static int reader_ready(const struct cl_t1 *t1)
{
    if (!t1)
        return CL_ERR_ARG;
    return (unsigned)(t1->phase - R_IDLE) <= R_DONE - R_IDLE ? CL_OK : CL_ERR_STATE;
}

/* see cardlink/t1.h */
int cl_t1_transmit_start(struct cl_t1 *t1, const uint8_t *cmd, size_t cmd_len,
                         uint8_t *resp, size_t resp_size)
{
    int rv;

    if ((!cmd && cmd_len) || (!resp && resp_size))
        return CL_ERR_ARG;
    rv = reader_ready(t1);
    if (rv != CL_OK)
        return rv;
    t1->tx = cmd;
    t1->tx_len = cmd_len;
    t1->rx = resp;
    t1->rx_size = resp_size > RESULT_MAX ? RESULT_MAX : resp_size;
    t1->rx_len = 0;
    t1->retries = 0;
    t1->flags &= (uint8_t)~F_ABORT;
    t1->pending = 0;
    t1->res = 0;
    t1->wtx = 0;
    t1->phase = R_TX;
    next_i(t1);
    return CL_OK;
}

/* see cardlink/t1.h */
int cl_t1_request_ifs(struct cl_t1 *t1, uint8_t ifsd)
{
    int rv = reader_ready(t1);

    if (ifsd == 0 || ifsd > CL_T1_IFS_MAX)
        return CL_ERR_ARG;
    if (rv != CL_OK)
        return rv;
    t1->pending = 0;
    reader_send_ifs(t1, ifsd);
    return CL_OK;
}

/* see cardlink/t1.h */
int cl_t1_resynch(struct cl_t1 *t1)
{
    int rv = reader_ready(t1);

    if (rv != CL_OK)
        return rv;
    t1->pending = 0;
    t1->flags &= (uint8_t)~F_SKIP_IFS;
    reader_start_resynch(t1);
    return CL_OK;
}

/* see cardlink/t1.h */
int cl_t1_abort(struct cl_t1 *t1)
{
    if (!t1)
        return CL_ERR_ARG;
    if (t1->phase == R_TX || t1->phase == R_RX
#if CL_T1_CARD
        || (t1->flags & F_CHAIN) || (t1->phase == C_TX && (t1->i_pcb & PCB_M))
#endif
        ) {
        t1->flags |= F_ABORT;
        return CL_OK;
    }
    return CL_ERR_STATE;
}

#if CL_T1_CARD
/* Card calls: t1 NULL, CL_ERR_ARG; not in phase, CL_ERR_STATE. */
static int card_in(const struct cl_t1 *t1, uint8_t phase)
{
    if (!t1)
        return CL_ERR_ARG;
    return t1->phase == phase ? CL_OK : CL_ERR_STATE;
}

/* see cardlink/t1.h */
int cl_t1_card_listen(struct cl_t1 *t1, uint8_t *cmd, size_t size)
{
    int rv = card_in(t1, C_IDLE);

    if (!cmd || size == 0)
        return CL_ERR_ARG;
    if (rv != CL_OK)
        return rv;
    t1->rx = cmd;
    t1->rx_size = size > RESULT_MAX ? RESULT_MAX : size;
    t1->rx_len = 0;
    t1->phase = C_RECV;
    to_recv(t1);
    return CL_OK;
}

/* see cardlink/t1.h */
int cl_t1_card_respond(struct cl_t1 *t1, const uint8_t *resp, size_t len)
{
    int rv = card_in(t1, C_APDU);

    if (!resp && len)
        return CL_ERR_ARG;
    if (rv != CL_OK)
        return rv;
    t1->tx = resp;
    t1->tx_len = len;
    t1->phase = C_TX;
    next_i(t1);
    return CL_OK;
}

/* Card S-request (WTX or IFS) with inf, with a command waiting. */
static NOINLINE int card_request(struct cl_t1 *t1, uint8_t phase, uint8_t type, uint8_t inf)
{
    int rv = card_in(t1, C_APDU);

    if (inf == 0 || (type == S_IFS && inf > CL_T1_IFS_MAX))
        return CL_ERR_ARG;
    if (rv != CL_OK)
        return rv;
    t1->phase = phase;
    if (type == S_WTX)
        cl_t1i_count(t1, ST(wtx));
    send_s(t1, PCB_S | type, inf);
    return CL_OK;
}

/* see cardlink/t1.h */
int cl_t1_card_request_wtx(struct cl_t1 *t1, uint8_t multiplier)
{
    return card_request(t1, C_WTX, S_WTX, multiplier);
}

/* see cardlink/t1.h */
int cl_t1_card_request_ifs(struct cl_t1 *t1, uint8_t ifsc)
{
    return card_request(t1, C_IFS, S_IFS, ifsc);
}
#endif /* CL_T1_CARD */

