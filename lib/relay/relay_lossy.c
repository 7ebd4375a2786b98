/*
 * cardlink — relay protocol over lossy serial links (docs/protocol.md §13).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/edc.h"
#include "cardlink/error.h"
#include "cardlink/relay_lossy.h"
#include "cardlink/relay_msg.h"
#include "cardlink/wipe.h"

enum { OUT_IDLE = 0, OUT_OPEN, OUT_CONTENT, OUT_CLOSE };

static const uint8_t flag_byte = CL_LOSSY_FLAG;

/* Whether time a is at or after time b (wrapping millisecond counter). */
static bool time_reached(uint32_t a, uint32_t b)
{
    return (uint32_t)(a - b) < 0x80000000u;
}

/* see cardlink/relay_lossy.h */
void cl_relay_lossy_init(struct cl_relay_lossy *l, const struct cl_relay_lossy_config *cfg,
                         uint8_t *rx_buf, size_t rx_size, uint8_t *tx_buf, size_t tx_size)
{
    if (l == NULL)
        return;
    memset(l, 0, sizeof(*l));
    l->rto = CL_LOSSY_RTO_DEFAULT;
    l->max_retries = CL_LOSSY_RETRIES_DEFAULT;
    if (cfg != NULL) {
        if (cfg->rto_ms != 0)
            l->rto = cfg->rto_ms;
        if (cfg->max_retries != 0)
            l->max_retries = cfg->max_retries;
        l->epoch = (uint8_t)(cfg->epoch & 0x0Fu);
    }
    l->rx = rx_buf;
    l->rx_size = rx_buf != NULL ? rx_size : 0;
    l->tx = tx_buf;
    l->tx_size = tx_buf != NULL ? tx_size : 0;
    l->cur_rto = l->rto;
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
    if (l->out_state != OUT_IDLE || l->tx_want || l->ack_due)   /* tx_want: tx_busy, ack_due: synced */
        return CL_WANT_SEND;
    return l->tx_busy ? CL_WANT_RECV : CL_WANT_IDLE;
}

/* The acknowledgement fields this side sends now. */
static void ack_fields(const struct cl_relay_lossy *l, uint8_t *ctl, uint8_t *epochs, uint8_t *ack)
{
    *epochs = (uint8_t)(l->epoch << 4);
    *ack = 0;
    if (l->rx_synced) {
        *ctl |= CL_LOSSY_CTL_ACK;
        *epochs |= l->peer_epoch;
        *ack = (uint8_t)(l->rx_next - 1u);
    }
}

/* A complete frame content arrived: rx[0..rx_len), and rx_over more bytes
 * (CRC'd into rx_crc, not kept) when it was larger than the buffer. */
static void frame_in(struct cl_relay_lossy *l)
{
    const uint8_t *f = l->rx;
    size_t n = l->rx_len + l->rx_over, plen;
    uint8_t ctl, e, s;

    if (n < CL_LOSSY_OVERHEAD || l->rx_len < CL_LOSSY_HDR_LEN || l->rx_abort || l->rx_esc) {
        l->stats.bad_frame++;
        return;
    }
    if (l->rx_over > 0 ? l->rx_crc != 0 : cl_crc16(f, n) != 0) {   /* residue 0 */
        l->stats.bad_crc++;
        return;
    }
    ctl = f[0];
    plen = n - CL_LOSSY_OVERHEAD;
    if ((ctl & CL_LOSSY_CTL_RESERVED) != 0 || (ctl & (CL_LOSSY_CTL_DATA | CL_LOSSY_CTL_ACK)) == 0 ||
        ((ctl & CL_LOSSY_CTL_DATA) != 0) != (plen > 0) ||
        ((ctl & CL_LOSSY_CTL_DATA) == 0 && f[2] != 0) ||
        ((ctl & CL_LOSSY_CTL_ACK) == 0 && (f[3] != 0 || (f[1] & 0x0Fu) != 0))) {
        l->stats.bad_frame++;
        return;
    }
    l->stats.frames_ok++;
    e = (uint8_t)(f[1] >> 4);
    s = f[2];
    if (l->rx_synced && e != l->peer_epoch) {
        /* §13.3: another start's frame is dropped, its acknowledgement too;
         * its first DATA frame means the peer restarted */
        if ((ctl & CL_LOSSY_CTL_DATA) != 0 && s == 0)
            l->err = CL_ERR_PROTOCOL;
        return;
    }
    /* acknowledgement of our outstanding message */
    if ((ctl & CL_LOSSY_CTL_ACK) != 0 && (f[1] & 0x0Fu) == l->epoch && l->tx_busy &&
        f[3] == l->tx_seq) {
        l->tx_busy = false;
        l->tx_want = false;
        l->timer_on = false;
        l->retries = 0;
        l->cur_rto = l->rto;
    }
    if ((ctl & CL_LOSSY_CTL_DATA) == 0)
        return;
    if (!l->rx_synced) {
        if (s != 0)
            return;                 /* not a first frame: wait for seq 0 */
        l->rx_synced = true;
        l->peer_epoch = e;
        l->rx_next = 0;
    }
    if (s == l->rx_next) {
        l->rx_next++;
        l->ack_due = true;
        l->ready = true;
        /* too large: all the buffer holds, 2 bytes more than fits */
        l->ready_len = l->rx_len - (l->rx_over > 0 ? CL_LOSSY_HDR_LEN : CL_LOSSY_OVERHEAD);
        if (l->rx_over > 0)
            l->stats.oversize++;
        else
            l->stats.delivered++;
    } else if ((uint8_t)(l->rx_next - s) <= 127u) {
        l->ack_due = true;          /* duplicate: acknowledge again */
        l->stats.duplicates++;
    }
}

/* see cardlink/relay_lossy.h */
int cl_relay_lossy_feed(struct cl_relay_lossy *l, uint32_t now, const uint8_t *in, size_t len,
                        size_t *consumed)
{
    size_t i = 0;

    (void)now;
    if (consumed != NULL)
        *consumed = 0;
    if (l == NULL || consumed == NULL || (in == NULL && len > 0))
        return CL_ERR_ARG;
    if (l->err != CL_OK)
        return l->err;
    if (l->ready)
        return CL_OK;
    while (i < len) {
        uint8_t b = in[i++];
        if (b == CL_LOSSY_FLAG) {
            if (l->rx_in_frame && (l->rx_len > 0 || l->rx_esc || l->rx_abort))
                frame_in(l);
            l->rx_in_frame = true;
            l->rx_len = 0;
            l->rx_over = 0;
            l->rx_esc = false;
            l->rx_abort = false;
            if (l->err != CL_OK || l->ready)
                break;
            continue;
        }
        if (!l->rx_in_frame)
            continue;
        if (b == CL_LOSSY_ESC) {
            if (l->rx_esc)
                l->rx_abort = true;   /* 7D 7D: corrupt */
            l->rx_esc = true;
            continue;
        }
        if (l->rx_esc) {
            b ^= 0x20u;
            l->rx_esc = false;
        }
        if (l->rx_len < l->rx_size) {
            l->rx[l->rx_len++] = b;
        } else {
            if (l->rx_over++ == 0)
                l->rx_crc = cl_crc16(l->rx, l->rx_len);
            l->rx_crc = cl_crc16_update(l->rx_crc, &b, 1);
        }
    }
    *consumed = i;
    return l->err;
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
    if (l == NULL || (msg == NULL && len > 0) || len == 0)
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
    l->retries = 0;
    l->cur_rto = l->rto;
    l->timer_on = false;
    return CL_OK;
}

/* Begin emitting the frame out_hdr + tx[0..out_plen): its CRC, the
 * opening flag next. */
static void arm_frame(struct cl_relay_lossy *l)
{
    uint16_t crc = cl_crc16_update(cl_crc16(l->out_hdr, CL_LOSSY_HDR_LEN), l->tx, l->out_plen);

    l->out_crc[0] = (uint8_t)(crc & 0xFFu);
    l->out_crc[1] = (uint8_t)(crc >> 8);
    l->out_pos = 0;
    l->out_half = 0;
    l->out_state = OUT_OPEN;
    l->stats.frames_sent++;
}

/* Choose the next frame to emit; false when nothing is due. */
static bool start_frame(struct cl_relay_lossy *l, uint32_t now)
{
    uint8_t ctl = 0, epochs, ack;

    if (l->tx_busy && l->tx_want) {
        ctl = CL_LOSSY_CTL_DATA;
        l->out_hdr[2] = l->tx_seq;
        l->out_plen = l->tx_len;
        l->tx_want = false;
        l->deadline = now + l->cur_rto;
        l->timer_on = true;
        l->stats.data_sent++;
    } else if (l->ack_due && l->rx_synced) {
        l->out_hdr[2] = 0;
        l->out_plen = 0;
        l->stats.acks_sent++;
    } else {
        return false;
    }
    ack_fields(l, &ctl, &epochs, &ack);
    l->out_hdr[0] = ctl;
    l->out_hdr[1] = epochs;
    l->out_hdr[3] = ack;
    l->ack_due = false;
    arm_frame(l);
    return true;
}

/* The content segment holding byte pos: its bytes from pos, how many. */
static const uint8_t *segment(const struct cl_relay_lossy *l, size_t pos, size_t *n)
{
    if (pos < CL_LOSSY_HDR_LEN) {
        *n = CL_LOSSY_HDR_LEN - pos;
        return l->out_hdr + pos;
    }
    pos -= CL_LOSSY_HDR_LEN;
    if (pos < l->out_plen) {
        *n = l->out_plen - pos;
        return l->tx + pos;
    }
    pos -= l->out_plen;
    *n = CL_LOSSY_CRC_LEN - pos;
    return l->out_crc + pos;
}

static bool needs_escape(uint8_t b)
{
    return b == CL_LOSSY_FLAG || b == CL_LOSSY_ESC;
}

/* see cardlink/relay_lossy.h */
size_t cl_relay_lossy_lend(struct cl_relay_lossy *l, uint32_t now, const uint8_t **p)
{
    const uint8_t *q;
    size_t n, k;

    if (p != NULL)
        *p = NULL;
    if (l == NULL || p == NULL || l->err != CL_OK)
        return 0;
    l->out_lent = 0;
    l->out_lent_pair = false;
    if (l->out_state == OUT_IDLE && !start_frame(l, now))
        return 0;
    if (l->out_state != OUT_CONTENT) {
        *p = &flag_byte;
        return l->out_lent = 1;
    }
    q = segment(l, l->out_pos, &n);
    if (needs_escape(q[0])) {
        l->out_pair[0] = CL_LOSSY_ESC;
        l->out_pair[1] = (uint8_t)(q[0] ^ 0x20u);
        l->out_lent_pair = true;
        *p = l->out_pair + l->out_half;
        return l->out_lent = 2u - l->out_half;
    }
    for (k = 1; k < n && !needs_escape(q[k]); k++)
        ;
    *p = q;
    return l->out_lent = k;
}

/* see cardlink/relay_lossy.h */
int cl_relay_lossy_sent(struct cl_relay_lossy *l, size_t n)
{
    if (l == NULL || n > l->out_lent)
        return CL_ERR_ARG;
    if (n == 0)
        return CL_OK;
    l->out_lent -= n;
    switch (l->out_state) {
    case OUT_OPEN:
        l->out_state = OUT_CONTENT;
        break;
    case OUT_CONTENT:
        if (l->out_lent_pair) {
            l->out_half = (uint8_t)(l->out_half + n);
            if (l->out_half < 2)
                break;
            l->out_half = 0;
            n = 1;
        }
        l->out_pos += n;
        if (l->out_pos == CL_LOSSY_OVERHEAD + l->out_plen)
            l->out_state = OUT_CLOSE;
        break;
    default: /* OUT_CLOSE */
        l->out_state = OUT_IDLE;
        break;
    }
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
        if (l->cur_rto < 0x40000000u)
            l->cur_rto *= 2u;
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

/* Run a scratch engine t through one frame of hdr + payload[0..plen),
 * the way lend() / sent() emit it; copy it to out unless NULL. Its size. */
static size_t frame_run(struct cl_relay_lossy *t, const uint8_t *hdr, const uint8_t *payload,
                        size_t plen, uint8_t *out)
{
    const uint8_t *p;
    size_t k, o = 0;

    memset(t, 0, sizeof(*t));
    memcpy(t->out_hdr, hdr, CL_LOSSY_HDR_LEN);
    t->tx = (uint8_t *)(uintptr_t)payload;   /* only read */
    t->out_plen = plen;
    arm_frame(t);
    while ((k = cl_relay_lossy_lend(t, 0, &p)) > 0) {
        if (out != NULL)
            memcpy(out + o, p, k);
        o += k;
        if (cl_relay_lossy_sent(t, k) != CL_OK)
            break;
    }
    return o;
}

/* see cardlink/relay_lossy.h */
int cl_relay_lossy_frame(const uint8_t hdr[CL_LOSSY_HDR_LEN], const uint8_t *payload, size_t plen,
                         uint8_t *out, size_t size, size_t *len)
{
    struct cl_relay_lossy t;
    size_t need;

    if (len != NULL)
        *len = 0;
    if (hdr == NULL || len == NULL || (payload == NULL && plen > 0) || (out == NULL && size > 0))
        return CL_ERR_ARG;
    /* escaped, a frame takes at most 2 x (content + 1): counted first only
     * when out might be too small (nothing is written then) */
    if (size / 2 < plen + CL_LOSSY_OVERHEAD + 1u &&
        (need = frame_run(&t, hdr, payload, plen, NULL)) > size) {
        *len = need;
        return CL_ERR_BUFFER;
    }
    *len = frame_run(&t, hdr, payload, plen, out);
    return CL_OK;
}
