/*
 * cardlink — relay sessions: the snapshot a resumption needs, saved and
 * restored (docs/protocol.md §8 "Resumption across a restart").
 * SPDX-License-Identifier: Apache-2.0
 *
 * Format (version 1, big-endian, every field checked on restore):
 *
 *   0  "CLRS"                     magic
 *   4  01                         format version
 *   5  role                       1 device, 2 server
 *   6  flags                      bit 0 rx_any, bit 1 busy, bit 2 req_txn
 *   7  tx_seq tx_acked rx_next    sequence numbers (§7)
 *  10  req_seq req_type           the request outstanding (server) or
 *                                 executing (device) when busy, else 0 0
 *  12  version                    the protocol version in use (01)
 *  13  keepalive(2)               K in seconds
 *  15  peer_max(2)                largest message the peer accepts (8..)
 *  17  token_len(1) token         8..32 bytes
 *      peer_id_len(1) peer_id     server 1..32, device 0
 *      req_txn_id(16)             zeros unless busy with a transaction id
 *      executed(4) duplicates(4) replayed(4)
 *      nrec(1)                    = tx_seq - 1 - tx_acked (<= 127)
 *      nrec x [len(2) message]    the unacknowledged messages in seq order,
 *                                 seq tx_acked+1, +2, ... (header checked)
 *
 * Nothing else follows. Not saved: the transport's state (a partial
 * message, queued control messages, an event not polled), which a
 * restored session (SUSPENDED) does not have.
 */
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/relay_session.h"
#include "cardlink/wipe.h"
#include "relay_session_int.h"

#define SNAP_VERSION 1u
#define F_RX_ANY 0x01u
#define F_BUSY 0x02u
#define F_REQ_TXN 0x04u

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Records in the replay buffer and their bytes without the flag byte. */
static size_t records(const struct cl_relay_session *s, unsigned *n)
{
    size_t off = 0, bytes = 0;

    *n = 0;
    while (off + CL_RELAY_REPLAY_REC <= s->rb_used) {
        size_t len = (size_t)s->rb[off] << 8 | s->rb[off + 1];
        bytes += 2 + len;
        off += CL_RELAY_REPLAY_REC + len;
        (*n)++;
    }
    return bytes;
}

/* see cardlink/relay_session.h */
int cl_relay_session_save(const struct cl_relay_session *s, uint8_t *buf, size_t size,
                          size_t *len)
{
    unsigned nrec, i;
    size_t need, o, off;

    if (len != NULL)
        *len = 0;
    if (s == NULL || len == NULL || (buf == NULL && size > 0) || s->role == 0)
        return CL_ERR_ARG;
    if (!s->has_session || s->token_len == 0 || s->state == CL_RELAY_ST_CLOSED ||
        s->state == CL_RELAY_ST_IDLE || s->err != CL_OK)
        return CL_ERR_STATE;
    need = 17u + 1u + s->token_len + 1u + (s->role == CL_RELAY_SERVER ? s->peer_id_len : 0u) +
           CL_RELAY_TXN_ID_LEN + 12u + 1u + records(s, &nrec);
    *len = need;
    if (size < need)
        return CL_ERR_BUFFER;
    memcpy(buf, "CLRS", 4);
    buf[4] = SNAP_VERSION;
    buf[5] = s->role;
    buf[6] = (uint8_t)((s->rx_any ? F_RX_ANY : 0u) | (s->busy ? F_BUSY : 0u) |
                       (s->busy && s->req_txn ? F_REQ_TXN : 0u));
    buf[7] = s->tx_seq;
    buf[8] = s->tx_acked;
    buf[9] = s->rx_next;
    buf[10] = s->busy ? s->req_seq : 0u;
    buf[11] = s->busy ? s->req_type : 0u;
    buf[12] = s->version != 0 ? s->version : (uint8_t)CL_RELAY_VERSION;
    put16(buf + 13, s->keepalive);
    put16(buf + 15, (uint32_t)(s->peer_max > 0xFFFFu ? 0xFFFFu : s->peer_max));
    o = 17;
    buf[o++] = s->token_len;
    memcpy(buf + o, s->token, s->token_len);
    o += s->token_len;
    if (s->role == CL_RELAY_SERVER) {
        buf[o++] = s->peer_id_len;
        memcpy(buf + o, s->peer_id, s->peer_id_len);
        o += s->peer_id_len;
    } else {
        buf[o++] = 0;
    }
    if (s->busy && s->req_txn)
        memcpy(buf + o, s->req_txn_id, CL_RELAY_TXN_ID_LEN);
    else
        memset(buf + o, 0, CL_RELAY_TXN_ID_LEN);
    o += CL_RELAY_TXN_ID_LEN;
    put32(buf + o, s->stats.executed);
    put32(buf + o + 4, s->stats.duplicates);
    put32(buf + o + 8, s->stats.replayed);
    o += 12;
    buf[o++] = (uint8_t)nrec;
    for (i = 0, off = 0; i < nrec; i++) {
        size_t l = (size_t)s->rb[off] << 8 | s->rb[off + 1];
        put16(buf + o, (uint32_t)l);
        memcpy(buf + o + 2, s->rb + off + CL_RELAY_REPLAY_REC, l);
        /* the ACK field as sent is not part of the record: cleared */
        buf[o + 2 + 2] = (uint8_t)(buf[o + 2 + 2] & ~(CL_RELAY_F_ACK | CL_RELAY_F_REPLAY));
        buf[o + 2 + 4] = 0;
        o += 2 + l;
        off += CL_RELAY_REPLAY_REC + l;
    }
    return CL_OK;
}

/* What a snapshot holds, checked. */
struct snap {
    uint8_t role, flags, tx_seq, tx_acked, rx_next, req_seq, req_type, version;
    uint16_t keepalive, peer_max;
    uint8_t token_len, peer_id_len;
    const uint8_t *token, *peer_id, *txn_id, *stats, *rec;
    unsigned nrec;
    size_t rec_len;                   /* bytes of the records in the snapshot */
};

/* Parse and check buf[0..len): CL_OK or CL_ERR_MALFORMED. Reads only
 * inside buf. */
static int parse(const uint8_t *buf, size_t len, struct snap *p)
{
    size_t o, i;

    if (len < 18 || memcmp(buf, "CLRS", 4) != 0 || buf[4] != SNAP_VERSION)
        return CL_ERR_MALFORMED;
    p->role = buf[5];
    p->flags = buf[6];
    p->tx_seq = buf[7];
    p->tx_acked = buf[8];
    p->rx_next = buf[9];
    p->req_seq = buf[10];
    p->req_type = buf[11];
    p->version = buf[12];
    p->keepalive = (uint16_t)get16(buf + 13);
    p->peer_max = (uint16_t)get16(buf + 15);
    if ((p->role != CL_RELAY_DEVICE && p->role != CL_RELAY_SERVER) ||
        (p->flags & ~(F_RX_ANY | F_BUSY | F_REQ_TXN)) != 0 ||
        ((p->flags & F_BUSY) == 0 && (p->flags & F_REQ_TXN) != 0) ||
        ((p->flags & F_BUSY) != 0 && !CL_RELAY_IS_REQUEST(p->req_type)) ||
        ((p->flags & F_BUSY) == 0 && (p->req_seq != 0 || p->req_type != 0)) ||
        p->version != CL_RELAY_VERSION || p->peer_max < CL_RELAY_HEADER_LEN)
        return CL_ERR_MALFORMED;
    o = 17;
    p->token_len = buf[o++];
    if (p->token_len < CL_RELAY_TOKEN_MIN || p->token_len > CL_RELAY_TOKEN_MAX ||
        len - o < (size_t)p->token_len + 1u)
        return CL_ERR_MALFORMED;
    p->token = buf + o;
    o += p->token_len;
    p->peer_id_len = buf[o++];
    if ((p->role == CL_RELAY_SERVER ? p->peer_id_len == 0 || p->peer_id_len > 32
                                    : p->peer_id_len != 0) ||
        len - o < (size_t)p->peer_id_len + CL_RELAY_TXN_ID_LEN + 12u + 1u)
        return CL_ERR_MALFORMED;
    p->peer_id = buf + o;
    o += p->peer_id_len;
    p->txn_id = buf + o;
    if ((p->flags & F_REQ_TXN) == 0)
        for (i = 0; i < CL_RELAY_TXN_ID_LEN; i++)
            if (p->txn_id[i] != 0)
                return CL_ERR_MALFORMED;   /* saved as zeros: one encoding */
    o += CL_RELAY_TXN_ID_LEN;
    p->stats = buf + o;
    o += 12;
    p->nrec = buf[o++];
    if (p->nrec > CL_RELAY_WINDOW_MAX ||
        p->nrec != (uint8_t)(p->tx_seq - 1u - p->tx_acked))
        return CL_ERR_MALFORMED;
    p->rec = buf + o;
    for (i = 0; i < p->nrec; i++) {
        struct cl_relay_header h;
        size_t l;

        if (len - o < 2)
            return CL_ERR_MALFORMED;
        l = get16(buf + o);
        o += 2;
        if (l < CL_RELAY_HEADER_LEN || len - o < l ||
            cl_relay_header_decode(buf + o, l, &h) != CL_OK ||
            (size_t)h.length + CL_RELAY_HEADER_LEN != l || !CL_RELAY_IS_SEQUENCED(h.type) ||
            h.seq != (uint8_t)(p->tx_acked + 1u + i) ||
            (h.flags & (CL_RELAY_F_ACK | CL_RELAY_F_REPLAY)) != 0 || h.ack != 0)
            return CL_ERR_MALFORMED;
        o += l;
    }
    if (o != len)
        return CL_ERR_MALFORMED;   /* trailing bytes */
    p->rec_len = (size_t)(buf + o - p->rec);
    return CL_OK;
}

/* see cardlink/relay_session.h */
int cl_relay_session_restore(struct cl_relay_session *s,
                             const struct cl_relay_session_config *cfg, const uint8_t *buf,
                             size_t len)
{
    struct snap p;
    uint8_t *rx, *rb;
    size_t rx_size, rb_size, o, i;
    int rc;

    if (s == NULL || cfg == NULL || (buf == NULL && len > 0) || s->role == 0)
        return CL_ERR_ARG;
    if (buf == NULL || (rc = parse(buf, len, &p)) != CL_OK)
        return CL_ERR_MALFORMED;
    if (p.role != s->role)
        return CL_ERR_MALFORMED;
    if (s->role == CL_RELAY_DEVICE &&
        (cfg->device_id == NULL || cfg->device_id_len == 0 || cfg->device_id_len > 32))
        return CL_ERR_ARG;
    /* each record takes one byte more in the replay buffer (its flag) */
    if (p.rec_len + p.nrec > s->rb_size)
        return CL_ERR_LIMIT;
    rx = s->in.buf;
    rx_size = s->in.size;
    rb = s->rb;
    rb_size = s->rb_size;
    rc = cl_relay_session_setup(s, p.role, cfg, rx, rx_size, rb, rb_size);
    if (rc != CL_OK)
        return rc;
    s->tx_seq = p.tx_seq;
    s->tx_acked = p.tx_acked;
    s->rx_next = p.rx_next;
    s->rx_any = (p.flags & F_RX_ANY) != 0;
    s->busy = (p.flags & F_BUSY) != 0;
    s->req_txn = (p.flags & F_REQ_TXN) != 0;
    s->req_seq = p.req_seq;
    s->req_type = p.req_type;
    if (s->req_txn)
        memcpy(s->req_txn_id, p.txn_id, CL_RELAY_TXN_ID_LEN);
    s->version = p.version;
    s->keepalive = p.keepalive;
    s->peer_max = p.peer_max;
    memcpy(s->token, p.token, p.token_len);
    s->token_len = p.token_len;
    memcpy(s->peer_id, p.peer_id, p.peer_id_len);
    s->peer_id_len = p.peer_id_len;
    s->stats.executed = get32(p.stats);
    s->stats.duplicates = get32(p.stats + 4);
    s->stats.replayed = get32(p.stats + 8);
    /* the records, each marked sent: whether a message went out before
     * the snapshot's owner stopped is not known, so the peer may
     * acknowledge any of them, and all are replayed with REPLAY (§8) */
    for (i = 0, o = 0; i < p.nrec; i++) {
        size_t l = get16(p.rec + o);
        s->rb[s->rb_used] = (uint8_t)(l >> 8);
        s->rb[s->rb_used + 1] = (uint8_t)l;
        s->rb[s->rb_used + 2] = 1;
        memcpy(s->rb + s->rb_used + CL_RELAY_REPLAY_REC, p.rec + o + 2, l);
        s->rb_used += CL_RELAY_REPLAY_REC + l;
        o += 2 + l;
    }
    s->has_session = true;
    s->state = CL_RELAY_ST_SUSPENDED;
    return CL_OK;
}
