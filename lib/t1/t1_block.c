/*
 * cardlink — ISO 7816-3 §11.3 T=1 block codec: blocks on the line.
 * SPDX-License-Identifier: Apache-2.0
 *
 * No block buffer: an I-block goes out as prologue (blk), INF straight from
 * the caller's APDU (tx) and epilogue (blk); an incoming I-block's INF goes
 * straight to the caller's buffer as it arrives (rx_target()), or nowhere
 * when it has no place there (only the prologue and the first INF byte are
 * kept, in hdr). The EDC is computed once while a block is built, and as
 * received bytes pass (acc): LRC over the whole block is 0, and the CRC of
 * the prologue and INF is XORed with the epilogue, so 0 means valid. A
 * complete block is checked here (EDC, LEN, PCB coding, §11.3.2) and then
 * handed to the rules of §11.6 in t1.c.
 */
#include <stddef.h>
#include <string.h>

#include "cardlink/t1.h"
#include "cardlink/edc.h"
#include "cardlink/error.h"
#include "t1_impl.h"

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

/* Build a block in blk (an I-block's INF stays at tx) with its EDC and ask
 * for it to be sent; RECV follows. */
void cl_t1i_block_put(struct cl_t1 *t1, uint8_t pcb, uint8_t len, uint8_t inf)
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
    t1->want = CL_WANT_SEND;
    /* the prologue is read back after the EDC call: fewer live values */
    if (t1->flags & F_CRC) {
        acc = cl_crc16_update(cl_crc16_update(0xFFFFu, b, 3), inf_at, len);
        *e++ = (uint8_t)(acc >> 8);
    } else {
        acc = cl_lrc(inf_at, len) ^ b[0] ^ b[1] ^ b[2];
    }
    *e = (uint8_t)acc;
}

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
        cl_t1i_count(t1, ST(parity_errors));
        return R_EDC;
    }
    end = 4u + len + (t1->flags & F_CRC);
    /* cut short by the CWT (cl_t1_timeout()), or longer than any block
     * (LEN 255 with a CRC): not checked */
    if (t1->pos != end || end > CL_T1_BLOCK_MAX)
        return R_OTHER;
    if (t1->acc != 0) {
        cl_t1i_count(t1, ST(edc_errors));
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

/* see t1_impl.h */
void cl_t1i_block_end(struct cl_t1 *t1)
{
    uint8_t bits;

    if (t1->stats)                  /* every block: counted in line */
        t1->stats->blocks_received++;
    t1->wtx = 0;
    bits = check_block(t1);
    if (bits != R_OK) {
        cl_t1i_rx_invalid(t1, bits);
        return;
    }
    t1->rx_nad = t1->hdr[0];
    cl_t1i_rx_valid(t1);
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

    if (!t1 || !piece || t1->want != CL_WANT_SEND)
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
    int rv = guard(t1, CL_WANT_SEND);

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
        t1->want = CL_WANT_DONE;
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
    cl_t1i_block_end(t1);
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
    t1->want = CL_WANT_DONE;
    /* as finish(): nothing computed from the APDUs stays */
    t1->blk[3] = t1->blk[4] = t1->blk[5] = 0;
    t1->hdr[3] = 0;
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
            cl_t1i_block_end(t1);
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
    rv = guard(t1, CL_WANT_RECV);
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
int cl_t1_parity_error(struct cl_t1 *t1)
{
    int rv = guard(t1, CL_WANT_RECV);

    if (rv != CL_OK)
        return rv;
    t1->flags |= F_PARITY;
    return CL_OK;
}
