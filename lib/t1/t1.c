/*
 * cardlink — ISO 7816-3 §11 T=1 engine, reader and card roles.
 * SPDX-License-Identifier: Apache-2.0
 *
 * No block buffer: an I-block goes out as prologue (blk), INF straight from
 * the caller's APDU (tx) and epilogue (blk); an incoming I-block's INF goes
 * straight to the caller's buffer as it arrives (rx_target()), or nowhere
 * when it has no place there (only the prologue and the first INF byte are
 * kept, in hdr). The EDC is computed once while a block is built, and as
 * received bytes pass (acc): LRC over the whole block is 0, and the CRC of
 * the prologue and INF is XORed with the epilogue, so 0 means valid. A
 * retransmission rebuilds the last block from blk, kind and the I-block
 * descriptor (i_pcb, i_len, tx); the reader just sends blk (and tx) again.
 */
#include <stddef.h>
#include <string.h>

#include "cardlink/t1.h"
#include "cardlink/edc.h"
#include "cardlink/error.h"
#include "cardlink/rate.h"

/* Phases; 0 is "not set up". Reader phases are R_IDLE..R_RESYNCH, card
 * phases C_WTX..C_TX, and those with our S-request outstanding are
 * R_IFS..C_ABORT: one or two compares each. */
enum {
    P_NONE = 0,
    R_IDLE, R_DONE, R_TX, R_RX, R_DEAD, R_IFS, R_ABORT, R_RESYNCH,
    C_WTX, C_IFS, C_ABORT, C_IDLE, C_RECV, C_APDU, C_TX
};

/* Last block kinds. */
enum { K_NONE = 0, K_I, K_R, K_S };

/* flags */
#define F_CRC 0x01u
#define F_IFS_START 0x02u
#define F_NS 0x04u          /* N(S) of our next new I-block */
#define F_CHAIN 0x08u       /* card: a command chain is being received */
#define F_PARITY 0x10u      /* parity error reported in current block */
#define F_ABORT 0x20u       /* cl_t1_abort() called */
#define F_NR 0x40u          /* N(S) expected in the peer's next I-block
                               (where an I-block's PCB has N(S)) */
#define F_SKIP_IFS 0x80u    /* reader: no IFS negotiation after resynch */

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
#define R_RESEND 0x10u      /* fail(): not error bits, the peer asks again */

/* Results must fit an int (documented in the header: 32-bit int). */
#define RESULT_MAX 0x7FFFFFFFu

#define ST(field) (offsetof(struct cl_t1_stats, field) / sizeof(uint32_t))

#if defined(__GNUC__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE
#endif

/* One counter up (index of the uint32_t in struct cl_t1_stats). Kept out of
 * line: a call is shorter than the test and increment at every site. */
static NOINLINE void count(struct cl_t1 *t1, unsigned idx)
{
    if (t1->stats)
        ((uint32_t *)(void *)t1->stats)[idx]++;
}

/* The role of a set-up engine (without the card role, always the reader:
 * the card branches below fold away). */
static bool is_reader(const struct cl_t1 *t1)
{
#if CL_T1_CARD
    return (unsigned)(t1->phase - R_IDLE) <= R_RESYNCH - R_IDLE;
#else
    (void)t1;
    return true;
#endif
}

static bool is_card(const struct cl_t1 *t1)
{
#if CL_T1_CARD
    return t1->phase >= C_WTX;
#else
    (void)t1;
    return false;
#endif
}

/* LEN of a valid S-block: 1 for IFS and WTX (type b1 set), else 0 */
static uint8_t s_has_inf(uint8_t pcb)
{
    return pcb & 1u;
}

/* Continue the block's EDC over n bytes: the CRC of ISO/IEC 13239 or the
 * LRC (cardlink/edc.h; CL_EDC_CRC_TABLE picks the CRC's speed). */
static uint16_t edc_run(const struct cl_t1 *t1, unsigned acc, const uint8_t *p,
                        size_t n)
{
    if (t1->flags & F_CRC)
        return cl_crc16_update((uint16_t)acc, p, n);
    return (uint16_t)(acc ^ cl_lrc(p, n));
}

static uint16_t edc_init(const struct cl_t1 *t1)
{
    return (t1->flags & F_CRC) ? 0xFFFFu : 0u;
}

static void to_recv(struct cl_t1 *t1)
{
    t1->want = CL_T1_RECV;
    t1->pos = 0;                    /* cl_t1_feed() sets acc at pos 0 */
    t1->flags &= (uint8_t)~F_PARITY;
}

/* Build a block in blk (an I-block's INF stays at tx) with its EDC and ask
 * for it to be sent; RECV follows. */
static void put_block(struct cl_t1 *t1, uint8_t pcb, uint8_t len, uint8_t inf)
{
    uint8_t *b = t1->blk, *e = b + 3;
    const uint8_t *inf_at = t1->tx;     /* an I-block's INF */
    unsigned acc, nad = t1->nad;

    if (is_card(t1))
        nad = ((t1->rx_nad & 0x07u) << 4) | ((t1->rx_nad >> 4) & 0x07u);
    b[0] = (uint8_t)nad;
    b[1] = pcb;
    b[2] = len;
    b[3] = inf;                     /* an S-block's INF (else overwritten) */
    if (pcb & PCB_R) {              /* R- or S-block: INF (if any) in blk */
        inf_at = e;
        e += len;
    }
    t1->pos = 0;
    t1->want = CL_T1_SEND;
    /* the prologue is read back after the EDC call: fewer live values */
    if (t1->flags & F_CRC) {
        acc = cl_crc16_update(cl_crc16_update(0xFFFFu, b, 3), inf_at, len);
        *e++ = (uint8_t)(acc >> 8);
    } else {
        acc = cl_lrc(inf_at, len) ^ b[0] ^ b[1] ^ b[2];
    }
    *e = (uint8_t)acc;
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
    put_block(t1, t1->i_pcb, t1->i_len, 0);
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
    put_block(t1, (uint8_t)(PCB_R | ((t1->flags & F_NR) >> 2) | bits), 0, 0);
}

static NOINLINE void send_s(struct cl_t1 *t1, uint8_t pcb, uint8_t inf)
{
    t1->kind = K_S;
    put_block(t1, pcb, s_has_inf(pcb), inf);
}

static void resend_last(struct cl_t1 *t1)
{
    count(t1, ST(retransmissions));
    if (t1->kind == K_NONE) {       /* nothing sent yet: an R-block */
        send_r(t1, R_OK);
    } else if (is_reader(t1)) {     /* blk (and tx) still hold the block */
        t1->pos = 0;
        t1->want = CL_T1_SEND;
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

/* The exchange is over: reader CL_T1_DONE with err, card CL_T1_APDU. */
static NOINLINE void finish(struct cl_t1 *t1, int err)
{
    if (is_reader(t1)) {
        t1->phase = R_DONE;
        t1->want = CL_T1_DONE;
    } else {
        t1->phase = C_APDU;
        t1->want = CL_T1_APDU;
    }
    t1->res = (int8_t)err;
    t1->flags &= (uint8_t)~(F_ABORT | F_CHAIN);
    t1->wtx = 0;
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
        t1->want = CL_T1_IDLE;
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
    count(t1, ST(resynchs));
    send_s(t1, PCB_S | S_RESYNCH, 0);
}

/* S(ABORT request): the reader ends with result once answered. */
static void send_abort(struct cl_t1 *t1, int result)
{
    t1->phase = is_reader(t1) ? R_ABORT : C_ABORT;
    t1->retries = 0;
    t1->flags &= (uint8_t)~(F_ABORT | F_CHAIN);
    t1->pending = (int8_t)result;
    count(t1, ST(aborts));
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
                t1->want = CL_T1_DEACTIVATE;
                return;
            }
            t1->resynchs++;
            count(t1, ST(resynchs));
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
            count(t1, ST(retransmissions));
            send_i(t1);             /* our I-block, N(R) = its N(S) */
        } else if (rd || t1->kind == K_R) {
            resend_last(t1);
        } else {
            send_r(t1, R_OK);       /* tell the reader which N(S) we expect */
        }
    } else {
        if (rd && t1->kind == K_R)
            count(t1, ST(retransmissions));
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
        count(t1, ST(wtx));
        t1->wtx = inf;
    } else {                        /* RESYNCH (card) or ABORT */
        if (type == S_RESYNCH) {
            resynch_reset(t1);
            count(t1, ST(resynchs));
        } else {
            count(t1, ST(aborts));
        }
        t1->flags &= (uint8_t)~(F_CHAIN | F_ABORT);
        if (rd) {
            t1->phase = R_DONE;     /* CL_T1_DONE once the answer is out */
            t1->res = CL_ERR_ABORTED;
        } else {
            t1->rx_len = 0;
            t1->phase = C_RECV;
        }
    }
    send_s(t1, (uint8_t)(pcb | PCB_S_RESP), inf);
}

/* A valid block arrived (prologue and first INF byte in hdr). */
static void got_block(struct cl_t1 *t1)
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

/* ---------------------------------------------------------------- blocks */

/* Where the INF of the block being received goes: the caller's buffer at
 * the place an I-block's data would take, when it is an I-block that fits
 * and the buffer is ours to write now; else nowhere (NULL). */
static uint8_t *rx_target(const struct cl_t1 *t1)
{
    size_t off = t1->rx_len;

    if (t1->hdr[1] & 0x80u)
        return NULL;
    if (is_card(t1)) {
        if (t1->phase != C_RECV && t1->phase != C_TX)
            return NULL;
        if (!(t1->flags & F_CHAIN))
            off = 0;
    } else if (t1->phase != R_TX && t1->phase != R_RX) {
        return NULL;
    }
    return t1->hdr[2] > t1->rx_size - off ? NULL : t1->rx + off;
}

/* Check a complete received block: 0 valid, else R-block error bits. */
static uint8_t check_block(struct cl_t1 *t1)
{
    uint8_t pcb = t1->hdr[1], len = t1->hdr[2];
    uint8_t my_ifs = is_reader(t1) ? t1->ifsd : t1->ifsc;
    unsigned end;

    if (t1->flags & F_PARITY) {
        count(t1, ST(parity_errors));
        return R_EDC;
    }
    end = 4u + len + (t1->flags & F_CRC);
    /* cut short by the CWT (cl_t1_timeout()), or longer than any block
     * (LEN 255 with a CRC): not checked */
    if (t1->pos != end || end > CL_T1_BLOCK_MAX)
        return R_OTHER;
    if (t1->acc != 0) {
        count(t1, ST(edc_errors));
        return R_EDC;
    }
    /* §11.3.2.3: LEN 255 is RFU; each test below refuses it */
    if (!(pcb & 0x80u))             /* I-block: b5..b1 RFU, LEN <= IFS */
        return (pcb & 0x1Fu) || len > my_ifs ? R_OTHER : R_OK;
    if (!(pcb & 0x40u))             /* R-block: b6 0, bits 0..2, no INF */
        return (pcb & 0x2Fu) > 2u || len ? R_OTHER : R_OK;
    /* S-block: b5..b3 0, INF only for IFS and WTX (type b1 set) */
    if ((pcb & 0x1Cu) || len != s_has_inf(pcb))
        return R_OTHER;
    /* INF 1..254 for IFS, 1..255 for WTX (type b2 set) */
    if (len && (!t1->hdr[3] || (t1->hdr[3] == 0xFFu && !(pcb & 2u))))
        return R_OTHER;
    return R_OK;
}

static void invalid(struct cl_t1 *t1, uint8_t bits)
{
    count(t1, ST(invalid_blocks));
    fail(t1, bits);
}

static void block_complete(struct cl_t1 *t1)
{
    uint8_t bits;

    if (t1->stats)                  /* every block: counted in line */
        t1->stats->blocks_received++;
    t1->wtx = 0;
    bits = check_block(t1);
    if (bits != R_OK) {
        invalid(t1, bits);
        return;
    }
    t1->rx_nad = t1->hdr[0];
    got_block(t1);
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
    t1->want = CL_T1_IDLE;
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

/* The entry points' shared check: NULL t1, CL_ERR_ARG; want is not w,
 * CL_ERR_STATE; else CL_OK. */
static int guard(const struct cl_t1 *t1, unsigned w)
{
    if (!t1)
        return CL_ERR_ARG;
    return t1->want == w ? CL_OK : CL_ERR_STATE;
}

/* see cardlink/t1.h */
size_t cl_t1_pullv(struct cl_t1 *t1, struct cl_t1_piece piece[3])
{
    unsigned pos, len, end, k = 0;

    if (!t1 || !piece || t1->want != CL_T1_SEND)
        return 0;
    pos = t1->pos;
    len = t1->blk[2];
    end = 4u + len + (t1->flags & F_CRC);   /* the block's length */
#if CL_T1_FAST
    if (pos == 0 && !(t1->blk[1] & PCB_R) && len) {    /* a whole I-block */
        piece[0].buf = t1->blk;
        piece[0].len = 3u;
        piece[1].buf = t1->tx;
        piece[1].len = len;
        piece[2].buf = t1->blk + 3;
        piece[2].len = end - 3u - len;
        return 3;
    }
#endif
    if (!(t1->blk[1] & PCB_R) && len) {     /* I-block: INF at tx */
        if (pos < 3u) {
            piece[0].buf = t1->blk + pos;
            piece[0].len = 3u - pos;
            pos = 3u;
            k = 1;
        }
        if (pos < 3u + len) {
            piece[k].buf = t1->tx + (pos - 3u);
            piece[k].len = 3u + len - pos;
            pos = 3u + len;
            k++;
        }
        pos -= len;                 /* the epilogue follows the prologue */
        end -= len;
    }
    piece[k].buf = t1->blk + pos;
    piece[k].len = end - pos;
    return k + 1;
}

/* see cardlink/t1.h */
size_t cl_t1_pull(struct cl_t1 *t1, const uint8_t **out)
{
    struct cl_t1_piece piece[3];
    const uint8_t *p = NULL;
    size_t n = 0;

    if (cl_t1_pullv(t1, piece)) {
        p = piece[0].buf;
        n = piece[0].len;
    }
    if (out)
        *out = p;
    return n;
}

/* see cardlink/t1.h */
int cl_t1_sent(struct cl_t1 *t1, size_t n)
{
    unsigned rest;
    int rv = guard(t1, CL_T1_SEND);

    if (rv != CL_OK)
        return rv;
    rest = 4u + t1->blk[2] + (t1->flags & F_CRC) - t1->pos;    /* to the end */
    if (n > rest)
        return CL_ERR_ARG;
    if (n < rest) {
        t1->pos = (uint16_t)(t1->pos + n);
        return CL_OK;
    }
    if (t1->stats)                  /* every block: counted in line */
        t1->stats->blocks_sent++;
    if (t1->phase == R_DONE)        /* our S(ABORT response) is out */
        t1->want = CL_T1_DONE;
    else
        to_recv(t1);
    return CL_OK;
}

#if CL_T1_FAST
/* feed_block() for any other block: INF to its place, then processed. */
static NOINLINE int block_in(struct cl_t1 *t1, const uint8_t *bytes)
{
    uint8_t *dst = rx_target(t1);
    int tot = t1->pos;

    if (dst)
        memcpy(dst, bytes + 3, t1->hdr[2]);
    block_complete(t1);
    return tot;
}

/* A whole block bytes[0..4 + LEN + EDC) in one step (feed_part() does it
 * too, in more instructions; CL_T1_FAST 0 keeps that one only). Only t1
 * and bytes stay live across the EDC call: the rest is read back. */
static NOINLINE int feed_block(struct cl_t1 *t1, const uint8_t *bytes)
{
    unsigned flags, acc;
    size_t n, tot, got;

    memcpy(t1->hdr, bytes, 4);
    if (t1->flags & F_CRC) {
        n = bytes[2];
        acc = cl_crc16_update(0xFFFFu, bytes, 3u + n) ^
              ((unsigned)bytes[3u + n] << 8) ^ bytes[4u + n];
    } else {
        acc = cl_lrc(bytes, 4u + bytes[2]);
    }
    flags = t1->flags;
    n = t1->hdr[2];
    tot = 4u + n + (flags & F_CRC);
    got = t1->rx_len;
    t1->acc = (uint16_t)acc;
    t1->pos = (uint16_t)tot;
    /* The common answer settled here: a reader sending an unchained
     * I-block (or acknowledging the card's chain) gets a valid I-block
     * with the N(S) it expects and no M bit (PCB is F_NR's bit alone),
     * within IFSD and the buffer: what block_complete() would do, in a
     * straight line. */
    if (acc != 0 || t1->hdr[1] != (flags & F_NR) || (flags & F_PARITY) ||
        (t1->i_pcb & PCB_M) || (unsigned)(t1->phase - R_TX) > R_RX - R_TX ||
        n > t1->ifsd || n > t1->rx_size - got)
        return block_in(t1, bytes);
    if (t1->stats)
        t1->stats->blocks_received++;
    t1->rx_nad = t1->hdr[0];
    t1->rx_len = got + n;
    t1->flags = (uint8_t)((flags ^ F_NR) & ~(F_ABORT | F_CHAIN));
    t1->retries = 0;
    t1->wtx = 0;
    t1->res = 0;
    t1->phase = R_DONE;
    t1->want = CL_T1_DONE;
    memcpy(t1->rx + got, bytes + 3, n);
    return (int)tot;
}
#endif

/* Bytes of a block in any pieces: prologue, INF, epilogue, each as far as
 * bytes[0..len) goes. (Out of line in speed builds, so that cl_t1_feed()
 * saves no registers on its way to feed_block().) */
#if CL_T1_FAST
static NOINLINE int feed_part(struct cl_t1 *t1, const uint8_t *bytes, size_t len);
#endif
static int feed_part(struct cl_t1 *t1, const uint8_t *bytes, size_t len)
{
    size_t i = 0, pos = t1->pos, end;

    if (pos == 0)
        t1->acc = edc_init(t1);
    while (pos < 3u && i < len)     /* prologue of a block fed in parts */
        t1->hdr[pos++] = bytes[i++];
    end = 3u + t1->hdr[2];          /* end of INF (once pos >= 3) */
    if (pos >= 3u && pos < end && i < len) {    /* INF: as much as there is */
        size_t n = end - pos;
        uint8_t *dst = rx_target(t1);

        if (n > len - i)
            n = len - i;
        if (pos == 3u)
            t1->hdr[3] = bytes[i];
        if (dst)
            memcpy(dst + (pos - 3u), bytes + i, n);
        i += n;
        pos += n;
    }
    if (i)                          /* the EDC over prologue and INF */
        t1->acc = edc_run(t1, t1->acc, bytes, i);
    while (pos >= end && i < len) { /* epilogue, a CRC high byte first */
        unsigned r = end + (t1->flags & F_CRC) - pos;   /* bytes after it */

        t1->acc ^= (uint16_t)(bytes[i++] << (8u * r));
        pos++;
        if (r == 0) {
            t1->pos = (uint16_t)pos;
            block_complete(t1);
            return (int)i;
        }
    }
    t1->pos = (uint16_t)pos;
    return (int)i;
}

/* see cardlink/t1.h */
int cl_t1_feed(struct cl_t1 *t1, const uint8_t *bytes, size_t len)
{
    int rv;

    if (!bytes && len)
        return CL_ERR_ARG;
    rv = guard(t1, CL_T1_RECV);
    if (rv != CL_OK)
        return rv;
#if CL_T1_FAST
    if (t1->pos == 0 && len >= 4u &&
        len >= 4u + bytes[2] + (size_t)(t1->flags & F_CRC))
        return feed_block(t1, bytes);
#endif
    return feed_part(t1, bytes, len);
}

/* see cardlink/t1.h */
int cl_t1_timeout(struct cl_t1 *t1)
{
    if (!t1)
        return CL_ERR_ARG;
    if (cl_t1_timeout_etu(t1) == 0) /* not RECV, or no timer armed */
        return CL_ERR_STATE;
    count(t1, ST(timeouts));
    if (t1->pos > 0) {              /* CWT: the block is cut short */
        block_complete(t1);         /* invalid: pos is not its end */
    } else {                        /* BWT: nothing came (reader only) */
        t1->wtx = 0;
        fail(t1, R_OTHER);
    }
    return CL_OK;
}

/* see cardlink/t1.h */
int cl_t1_parity_error(struct cl_t1 *t1)
{
    int rv = guard(t1, CL_T1_RECV);

    if (rv != CL_OK)
        return rv;
    t1->flags |= F_PARITY;
    return CL_OK;
}

/* see cardlink/t1.h */
uint32_t cl_t1_timeout_etu(const struct cl_t1 *t1)
{
    uint32_t m, hi, lo;

    if (!t1 || t1->want != CL_T1_RECV)
        return 0;
    if (t1->pos > 0)
        return t1->cwt;
    if (!is_reader(t1))
        return 0;
    m = t1->wtx;
    if (m == 0)
        return t1->bwt;
    /* BWT x WTX saturated, by 16-bit halves (no division) */
    hi = (t1->bwt >> 16) * m;
    lo = (t1->bwt & 0xFFFFu) * m;
    if (hi >> 16)
        return 0xFFFFFFFFu;
    hi = (hi << 16) + lo;
    return hi < lo ? 0xFFFFFFFFu : hi;
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
    if ((unsigned)(t1->want - CL_T1_DONE) > CL_T1_APDU - CL_T1_DONE)
        return CL_ERR_STATE;        /* neither DONE nor APDU */
    return t1->res ? t1->res : (int)t1->rx_len;
}

/* see cardlink/t1.h */
int cl_t1_error(const struct cl_t1 *t1)
{
    return t1 && t1->phase == R_DEAD ? CL_ERR_RESYNCH : CL_OK;
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

/* Card S-request (WTX or IFS) with inf, in CL_T1_APDU. */
static NOINLINE int card_request(struct cl_t1 *t1, uint8_t phase, uint8_t type, uint8_t inf)
{
    int rv = card_in(t1, C_APDU);

    if (inf == 0 || (type == S_IFS && inf > CL_T1_IFS_MAX))
        return CL_ERR_ARG;
    if (rv != CL_OK)
        return rv;
    t1->phase = phase;
    if (type == S_WTX)
        count(t1, ST(wtx));
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
