/*
 * cardlink — relay protocol over lossy serial links (docs/protocol.md §13).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <limits.h>
#include <string.h>

#include "cardlink/edc.h"
#include "cardlink/error.h"
#include "cardlink/relay_lossy.h"
#include "cardlink/relay_msg.h"
#include "cardlink/wipe.h"


/* Receive states (rx_state). */
enum { RX_HUNT = 0, RX_IN, RX_ESC, RX_BAD };

#define RTO_CAP 0x40000000u   /* ms, about 12 days: where doubling stops at most */

/* Whether time a is at or after time b (wrapping millisecond counter). */
static bool time_reached(uint32_t a, uint32_t b)
{
    return (uint32_t)(a - b) < 0x80000000u;
}

/* The wait after one of w: doubled up to the cap (rto_max <= 2^30, so the
 * doubling cannot wrap); a wait at or over the cap stays. */
static uint32_t next_rto(const struct cl_relay_lossy *l, uint32_t w)
{
    if (w < l->rto_max)
        w = w * 2u > l->rto_max ? l->rto_max : w * 2u;
    return w;
}

/* The timing and epoch of cfg (NULL: the defaults) into l. */
static void configure(struct cl_relay_lossy *l, const struct cl_relay_lossy_config *cfg)
{
    static const struct cl_relay_lossy_config none;
    uint32_t cap;

    if (cfg == NULL)
        cfg = &none;
    l->rto = l->cur_rto = cfg->rto_ms != 0 ? cfg->rto_ms : CL_LOSSY_RTO_DEFAULT;
    cap = cfg->rto_max_ms;
    l->rto_max = cap - 1u < RTO_CAP ? cap : RTO_CAP;   /* 0: RTO_CAP */
    l->max_retries = cfg->max_retries != 0 ? cfg->max_retries : CL_LOSSY_RETRIES_DEFAULT;
    l->epoch = (uint8_t)(cfg->epoch & 0x0Fu);
}

/* see cardlink/relay_lossy.h */
void cl_relay_lossy_init(struct cl_relay_lossy *l, const struct cl_relay_lossy_config *cfg,
                         uint8_t *rx_buf, size_t rx_size, uint8_t *tx_buf, size_t tx_size)
{
    if (l == NULL)
        return;
    memset(l, 0, sizeof(*l));
    configure(l, cfg);
    l->rx = rx_buf;
    l->rx_size = rx_buf != NULL ? rx_size : 0;
    l->tx = tx_buf;
    l->tx_size = tx_buf != NULL ? tx_size : 0;
}

/* see cardlink/relay_lossy.h */
uint32_t cl_relay_lossy_patience(const struct cl_relay_lossy_config *cfg)
{
    struct cl_relay_lossy l;
    uint32_t sum = 0, w;
    unsigned k;

    configure(&l, cfg);
    for (w = l.rto, k = 0; k <= l.max_retries; k++) {
        if (sum > UINT32_MAX - w)
            return UINT32_MAX;
        sum += w;
        w = next_rto(&l, w);
    }
    return sum;
}

/* see cardlink/relay_lossy.h */
void cl_relay_lossy_free(struct cl_relay_lossy *l)
{
    if (l != NULL)
        cl_wipe(l, sizeof(*l));
}

/* see cardlink/relay_lossy.h */
enum cl_want cl_relay_lossy_want(const struct cl_relay_lossy *l)
{
    if (l == NULL || l->err != CL_OK)
        return CL_WANT_FAILED;
    if (l->ready)
        return CL_WANT_DONE;
    if (l->out_left != 0 || l->tx_want || l->ack_due)   /* tx_want: tx_busy, ack_due: synced */
        return CL_WANT_SEND;
    return l->tx_busy ? CL_WANT_RECV : CL_WANT_IDLE;
}

/* A flag ended what was read since the last one: a frame content of
 * rx_n bytes (those beyond rx_size CRC'd into rx_crc, not kept). */
static void frame_in(struct cl_relay_lossy *l)
{
    const uint8_t *f = l->rx;
    size_t n = l->rx_n, size = l->rx_size;
    uint8_t ctl, e, s;

    if (l->rx_state == RX_HUNT || (l->rx_state == RX_IN && (n == 0 || size == 0)))
        return;                     /* nothing read (or nothing kept) */
    if (l->rx_state != RX_IN || n < CL_LOSSY_OVERHEAD || size < CL_LOSSY_HDR_LEN) {
        l->stats.bad_frame++;
        return;
    }
    if (n > size ? l->rx_crc != 0 : cl_crc16(f, n) != 0) {   /* residue 0 */
        l->stats.bad_crc++;
        return;
    }
    ctl = f[0];
    e = f[1];
    s = f[2];
    if ((uint8_t)(ctl - 1u) > 2u ||   /* reserved bits, or neither DATA nor ACK */
        (ctl & CL_LOSSY_CTL_DATA) != (n > CL_LOSSY_OVERHEAD) ||
        ((ctl & CL_LOSSY_CTL_DATA) == 0 && s != 0) ||
        ((ctl & CL_LOSSY_CTL_ACK) == 0 && (f[3] != 0 || (e & 0x0Fu) != 0))) {
        l->stats.bad_frame++;
        return;
    }
    l->stats.frames_ok++;
    if (l->rx_synced && (e >> 4) != l->peer_epoch) {
        /* §13.3: another start's frame is dropped, its acknowledgement too;
         * its first DATA frame means the peer restarted */
        if ((ctl & CL_LOSSY_CTL_DATA) != 0 && s == 0)
            l->err = CL_ERR_PROTOCOL;
        return;
    }
    /* acknowledgement of our outstanding message */
    if ((ctl & CL_LOSSY_CTL_ACK) != 0 && (e & 0x0Fu) == l->epoch && l->tx_busy &&
        f[3] == l->tx_seq) {
        l->tx_busy = false;
        l->tx_want = false;
        l->timer_on = false;
        l->retries = 0;             /* (send() finds them reset) */
        l->cur_rto = l->rto;
    }
    if ((ctl & CL_LOSSY_CTL_DATA) == 0)
        return;
    if (!l->rx_synced) {
        if (s != 0)
            return;                 /* not a first frame: wait for seq 0 (rx_next is 0) */
        l->rx_synced = true;
        l->peer_epoch = (uint8_t)(e >> 4);
    }
    if (s == l->rx_next) {
        l->rx_next++;
        l->ack_due = true;
        l->ready = true;
        /* too large: all the buffer holds, 2 bytes more than fits */
        if (n > size) {
            l->ready_len = size - CL_LOSSY_HDR_LEN;
            l->stats.oversize++;
        } else {
            l->ready_len = n - CL_LOSSY_OVERHEAD;
            l->stats.delivered++;
        }
    } else if ((uint8_t)(l->rx_next - s) <= 127u) {
        l->ack_due = true;          /* duplicate: acknowledge again */
        l->stats.duplicates++;
    }
}

/* see cardlink/relay_lossy.h */
int cl_relay_lossy_feed(struct cl_relay_lossy *l, uint32_t now, const uint8_t *in, size_t len)
{
    size_t i = 0, n;

    (void)now;
    if (l == NULL || (in == NULL && len > 0))
        return CL_ERR_ARG;
    if (len > INT_MAX)
        len = INT_MAX;      /* the count must fit the return value */
    if (l->err == CL_OK && !l->ready) {
        while (i < len) {
            unsigned b = in[i++], st = l->rx_state;

            if (b == CL_LOSSY_FLAG) {
                frame_in(l);
                l->rx_state = RX_IN;
                l->rx_n = 0;
                if (l->err != CL_OK || l->ready)
                    break;
            } else if (st - RX_IN < 2u) {           /* in a frame, not corrupt */
                if (b == CL_LOSSY_ESC) {
                    l->rx_state = (uint8_t)(st + 1u);   /* escaped; 7D 7D corrupt */
                } else {
                    if (st == RX_ESC) {
                        b ^= 0x20u;
                        l->rx_state = RX_IN;
                    }
                    n = l->rx_n++;
                    if (n < l->rx_size) {
                        l->rx[n] = (uint8_t)b;
                    } else {
                        uint8_t c = (uint8_t)b;

                        if (n == l->rx_size)
                            l->rx_crc = cl_crc16(l->rx, n);
                        l->rx_crc = cl_crc16_update(l->rx_crc, &c, 1);
                    }
                }
            }
        }
    }
    return l->err != CL_OK ? l->err : (int)i;
}

/* see cardlink/relay_lossy.h */
int cl_relay_lossy_take(struct cl_relay_lossy *l, const uint8_t **msg, size_t *len)
{
    if (l == NULL || msg == NULL || len == NULL)
        return CL_ERR_ARG;
    if (!l->ready)
        return CL_ERR_STATE;
    l->ready = false;
    *msg = l->rx + CL_LOSSY_HDR_LEN;
    *len = l->ready_len;
    return l->ready_len + CL_LOSSY_OVERHEAD > l->rx_size ? CL_ERR_TOO_LONG : CL_OK;
}

/* see cardlink/relay_lossy.h */
bool cl_relay_lossy_can_send(const struct cl_relay_lossy *l)
{
    return l != NULL && l->err == CL_OK && !l->tx_busy;
}

/* see cardlink/relay_lossy.h */
int cl_relay_lossy_send(struct cl_relay_lossy *l, uint32_t now, const uint8_t *msg, size_t len)
{
    (void)now;
    if (l == NULL || msg == NULL || len == 0)   /* (msg NULL with len 0: len 0) */
        return CL_ERR_ARG;
    if (l->err != CL_OK)
        return l->err;
    if (len > l->tx_size || len > CL_RELAY_MSG_MAX)
        return CL_ERR_TOO_LONG;
    if (l->tx_busy)
        return CL_ERR_STATE;
    memcpy(l->tx, msg, len);
    l->tx_len = len;
    l->tx_busy = true;
    l->tx_want = true;
    l->tx_seq = l->tx_next++;
    return CL_OK;
}

/* Begin emitting the frame out_hdr + tx[0..plen): its CRC, the opening
 * flag next. */
static void arm_frame(struct cl_relay_lossy *l, size_t plen)
{
    uint16_t crc = cl_crc16_update(cl_crc16(l->out_hdr, CL_LOSSY_HDR_LEN), l->tx, plen);

    l->out_crc[0] = (uint8_t)(crc & 0xFFu);
    l->out_crc[1] = (uint8_t)(crc >> 8);
    l->out_plen = plen;
    l->out_left = plen + CL_LOSSY_OVERHEAD + 2u;
    l->out_half = 0;                /* (tx may change under a frame: send() after its ack) */
    l->stats.frames_sent++;
}

static bool needs_escape(uint8_t b)
{
    return b == CL_LOSSY_FLAG || b == CL_LOSSY_ESC;
}

/* see cardlink/relay_lossy.h */
size_t cl_relay_lossy_lend(struct cl_relay_lossy *l, uint32_t now, const uint8_t **p)
{
    /* the escape pairs of 7D and 7E, and the flag */
    static const uint8_t lit[5] = { CL_LOSSY_ESC, CL_LOSSY_ESC ^ 0x20u, CL_LOSSY_ESC,
                                    CL_LOSSY_FLAG ^ 0x20u, CL_LOSSY_FLAG };
    const uint8_t *q;
    size_t n, k, c, plen;

    if (p != NULL)
        *p = NULL;
    if (l == NULL || p == NULL || l->err != CL_OK)
        return 0;
    l->out_lent = 0;
    l->out_lent_pair = false;
    if (l->out_left == 0) {
        /* the next frame: the outstanding DATA frame when due, else an ACK */
        uint8_t ctl = CL_LOSSY_CTL_ACK, seq = 0, epochs = (uint8_t)(l->epoch << 4), ack = 0;

        plen = 0;
        if (l->tx_want) {           /* tx_want: tx_busy */
            ctl = CL_LOSSY_CTL_DATA;
            seq = l->tx_seq;
            plen = l->tx_len;
            l->tx_want = false;
            l->deadline = now + l->cur_rto;
            l->timer_on = true;
            l->stats.data_sent++;
        } else if (l->ack_due) {    /* ack_due: rx_synced */
            l->stats.acks_sent++;
        } else {
            return 0;
        }
        if (l->rx_synced) {
            ctl |= CL_LOSSY_CTL_ACK;
            epochs |= l->peer_epoch;
            ack = (uint8_t)(l->rx_next - 1u);
        }
        l->out_hdr[0] = ctl;
        l->out_hdr[1] = epochs;
        l->out_hdr[2] = seq;
        l->out_hdr[3] = ack;
        l->ack_due = false;
        arm_frame(l, plen);
    }
    plen = l->out_plen;
    n = l->out_left;
    if (n == 1 || n == plen + CL_LOSSY_OVERHEAD + 2u) {
        *p = lit + 4;
        return l->out_lent = 1;
    }
    /* content byte c: its segment (header, payload, CRC) from c, n left in it */
    c = plen + CL_LOSSY_OVERHEAD + 1u - n;
    if (c < CL_LOSSY_HDR_LEN) {
        q = l->out_hdr + c;
        n = CL_LOSSY_HDR_LEN - c;
    } else if (c - CL_LOSSY_HDR_LEN < plen) {
        q = l->tx + (c - CL_LOSSY_HDR_LEN);
        n -= 1u + CL_LOSSY_CRC_LEN;
    } else {
        q = l->out_crc + (c - CL_LOSSY_HDR_LEN - plen);
        n -= 1u;
    }
    if (needs_escape(q[0])) {
        l->out_lent_pair = true;
        *p = lit + 2u * (q[0] - CL_LOSSY_ESC) + l->out_half;
        return l->out_lent = 2u - l->out_half;
    }
    for (k = 1; k < n && !needs_escape(q[k]); k++)
        ;
    *p = q;
    return l->out_lent = k;
}

/* n of what lend() gave went out (n <= out_lent). */
CL_SIZE_NOINLINE static void advance(struct cl_relay_lossy *l, size_t n)
{
    l->out_lent -= n;
    if (l->out_lent_pair) {         /* an escape pair: one content byte */
        n += l->out_half;
        l->out_half = (uint8_t)(n & 1u);
        n >>= 1;
    }
    l->out_left -= n;
}

/* see cardlink/relay_lossy.h */
int cl_relay_lossy_sent(struct cl_relay_lossy *l, size_t n)
{
    if (l == NULL || n > l->out_lent)
        return CL_ERR_ARG;
    advance(l, n);
    return CL_OK;
}

/* see cardlink/relay_lossy.h */
int cl_relay_lossy_timeout(struct cl_relay_lossy *l, uint32_t now)
{
    if (l == NULL)
        return CL_ERR_ARG;
    if (l->err != CL_OK)
        return l->err;
    if (l->timer_on && time_reached(now, l->deadline)) {   /* timer_on: tx_busy */
        l->timer_on = false;
        if (l->retries >= l->max_retries)
            return l->err = CL_ERR_TIMEOUT;
        l->retries++;
        l->cur_rto = next_rto(l, l->cur_rto);
        l->tx_want = true;
        l->stats.retransmits++;
    }
    return CL_OK;
}

/* see cardlink/relay_lossy.h */
uint32_t cl_relay_lossy_timer(const struct cl_relay_lossy *l, uint32_t now)
{
    if (l == NULL || l->err != CL_OK || !l->timer_on)   /* timer_on: tx_busy */
        return CL_TIMER_NONE;
    if (time_reached(now, l->deadline))
        return 0;
    return l->deadline - now;
}

/* see cardlink/relay_lossy.h */
int cl_relay_lossy_error(const struct cl_relay_lossy *l)
{
    return l != NULL ? l->err : CL_ERR_ARG;
}

/* see cardlink/relay_lossy.h */
const struct cl_relay_lossy_stats *cl_relay_lossy_stats(const struct cl_relay_lossy *l)
{
    return l != NULL ? &l->stats : NULL;
}

/* Run a scratch engine through one frame of hdr + payload[0..plen), the
 * way lend() / sent() emit it; copy it to out unless NULL. Its size. */
static size_t frame_run(const uint8_t *hdr, const uint8_t *payload, size_t plen, uint8_t *out)
{
    struct cl_relay_lossy t;
    const uint8_t *p;
    size_t k, o = 0;

    memset(&t, 0, sizeof(t));
    memcpy(t.out_hdr, hdr, CL_LOSSY_HDR_LEN);
    t.tx = (uint8_t *)(uintptr_t)payload;   /* only read */
    arm_frame(&t, plen);
    while ((k = cl_relay_lossy_lend(&t, 0, &p)) > 0) {
        if (out != NULL)
            memcpy(out + o, p, k);
        o += k;
        advance(&t, k);
    }
    return o;
}

/* see cardlink/relay_lossy.h */
int cl_relay_lossy_frame(const uint8_t hdr[CL_LOSSY_HDR_LEN], const uint8_t *payload, size_t plen,
                         uint8_t *out, size_t size, size_t *len)
{
    size_t need;

    if (len != NULL)
        *len = 0;
    if (hdr == NULL || len == NULL || (payload == NULL && plen > 0) || (out == NULL && size > 0))
        return CL_ERR_ARG;
    /* escaped, a frame takes at most 2 x (content + 1): counted first only
     * when out might be too small (nothing is written then) */
    if (size / 2 < plen + CL_LOSSY_OVERHEAD + 1u &&
        (need = frame_run(hdr, payload, plen, NULL)) > size) {
        *len = need;
        return CL_ERR_BUFFER;
    }
    *len = frame_run(hdr, payload, plen, out);
    return CL_OK;
}
