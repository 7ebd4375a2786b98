/*
 * cardlink — relay protocol over lossy serial links (docs/protocol.md §13).
 * SPDX-License-Identifier: Apache-2.0
 *
 * Serial links without error correction (IR, RF, audio tones, a modem in
 * raw mode) lose, corrupt, repeat and, through relays, reorder bytes. This
 * engine turns such a link into what the relay session needs: an ordered,
 * exactly-once channel of whole messages, or a clear "link failed".
 *
 * Frame: 7E, the escaped content, 7E. Content: a 4-byte link header (ctl,
 * epochs, seq, ack), the payload (one relay message), and CRC-16/MCRF4XX
 * (cl_crc16) over header and payload, low byte first. Escaping: 7D and 7E
 * become 7D, byte XOR 20. DATA frames are numbered (8-bit seq) and
 * acknowledged; window 1 (stop-and-wait): a new message is accepted only
 * when the previous one has been acknowledged. The sender retransmits after
 * the retransmission timeout (RTO, doubled on each retry) and declares the
 * link failed after max_retries retransmissions. The receiver delivers each
 * seq once, in order, and acknowledges duplicates again. Each incarnation
 * of an engine has an epoch (4 bits) so that a peer that restarted is told
 * apart from an old duplicate: see §13 for the exact rules.
 *
 * Sans-I/O, with the engine shape of cardlink/engine.h: time is a
 * caller-supplied millisecond counter (uint32_t, it may wrap); the engine
 * never reads a clock. Loop:
 *
 *   on bytes from the link:  feed(now, p, n, &used) until all used;
 *                            after each feed, take(&msg, &len) -> deliver
 *                            (CL_ERR_TOO_LONG: a message larger than the
 *                            buffer arrived, only its start is lent)
 *   to send a message:       if (can_send) send(now, msg, len)
 *   whenever:                n = lend(now, &p): transmit p[0..k), k <= n,
 *                            then sent(k) (a partial write is fine; or
 *                            pull(now, out, size) copies into out)
 *   timer:                   arm timer(now) ms; when it fires, timeout(now)
 *   failure:                 any call returning CL_ERR_TIMEOUT / _PROTOCOL
 *                            (want() CL_WANT_FAILED): the link is dead;
 *                            init again with a new epoch.
 *
 * On a NULL engine: int functions return CL_ERR_ARG, want() CL_WANT_FAILED,
 * lend() / pull() 0, timer() CL_TIMER_NONE, can_send() false, stats() NULL.
 */
#ifndef CARDLINK_RELAY_LOSSY_H
#define CARDLINK_RELAY_LOSSY_H

#include "cardlink/defs.h"
#include "cardlink/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CL_LOSSY_FLAG 0x7Eu          /* frame delimiter */
#define CL_LOSSY_ESC 0x7Du           /* escape: next byte XOR 0x20 */
#define CL_LOSSY_HDR_LEN 4u          /* ctl, epochs, seq, ack */
#define CL_LOSSY_CRC_LEN 2u
#define CL_LOSSY_OVERHEAD (CL_LOSSY_HDR_LEN + CL_LOSSY_CRC_LEN)  /* before escaping and flags */
#define CL_LOSSY_CTL_DATA 0x01u      /* ctl bit 0: a payload follows, seq valid */
#define CL_LOSSY_CTL_ACK 0x02u       /* ctl bit 1: ack valid */
#define CL_LOSSY_CTL_RESERVED 0xFCu

#define CL_LOSSY_RTO_DEFAULT 2000u   /* ms */
#define CL_LOSSY_RETRIES_DEFAULT 5u
/* Receive buffer for messages up to max_msg bytes (the session's max
 * message size): frame content is the message plus 6 bytes. */
#define CL_LOSSY_RX_SIZE(max_msg) ((max_msg) + CL_LOSSY_OVERHEAD)

/* Configuration. All zero means the defaults (RTO 2 s doubling without
 * a cap, 5 retries, epoch 0). A slow, noisy radio wants more retries and
 * a cap: each try of a frame is lost about as often as the last, so a
 * link lives longer on more tries, not on longer waits (docs/porting.md,
 * "A bare-metal device"). */
struct cl_relay_lossy_config {
    uint32_t rto_ms;         /* first retransmission timeout; 0 = 2000 */
    uint8_t max_retries;     /* retransmissions before failure; 0 = 5 */
    uint8_t epoch;           /* 0..15: MUST differ from the previous incarnation's
                              * (a boot counter or a random nibble) */
    uint32_t rto_max_ms;     /* the doubling stops here; 0 = no cap (2^30 ms);
                              * at or below rto_ms: no doubling */
};

/* Counters, for tests and link statistics. */
struct cl_relay_lossy_stats {
    uint32_t frames_sent, data_sent, retransmits, acks_sent;
    uint32_t frames_ok, bad_crc, bad_frame, duplicates, delivered;
    uint32_t oversize;       /* messages too large for the rx buffer, acknowledged */
};

/* The engine. Caller-allocated; do not touch the fields. (Small fields
 * first: Thumb-1 reaches 31 bytes into a struct for a byte load, 124 for
 * a word.) */
struct cl_relay_lossy {
    /* bytes */
    uint8_t max_retries, epoch;
    uint8_t rx_state;              /* out of a frame, in one, after 7D, corrupt */
    bool rx_synced;                /* a first DATA frame (seq 0) was received */
    bool tx_busy;                  /* a message is outstanding */
    bool tx_want;                  /* it must be (re)transmitted */
    bool timer_on;                 /* the retransmission timer runs (tx_busy) */
    uint8_t retries;
    uint8_t peer_epoch, rx_next;   /* the peer's epoch, the next seq expected */
    bool ready;                    /* a delivered message waits in rx[4..]
                                      (take() clears it; the bytes stay
                                      until the next feed) */
    bool ack_due;
    uint8_t tx_seq;                /* the outstanding message's seq */
    uint8_t tx_next;               /* seq of the next message sent */
    uint8_t out_half;              /* bytes of an escape pair sent */
    bool out_lent_pair;            /* what lend() gave is the escape pair */
    uint8_t out_hdr[CL_LOSSY_HDR_LEN], out_crc[CL_LOSSY_CRC_LEN];
    uint16_t rx_crc;               /* CRC of the content once it overflowed */
    /* words */
    int err;                       /* sticky: CL_OK, CL_ERR_TIMEOUT, CL_ERR_PROTOCOL */
    uint32_t rto, rto_max;
    uint32_t deadline, cur_rto;
    uint8_t *rx, *tx;              /* caller buffers: frame content, message */
    size_t rx_size, tx_size;
    size_t rx_n;                   /* content bytes of the frame being read (those
                                      beyond rx_size CRC'd into rx_crc, not kept) */
    size_t ready_len;
    size_t tx_len;                 /* length of the last message sent */
    size_t out_left;               /* frame bytes (flags, content) still to emit; 0 idle */
    size_t out_plen;               /* payload length of that frame */
    size_t out_lent;               /* bytes lend() gave that sent() has not taken */
    struct cl_relay_lossy_stats stats;
};

/*
 * Start an engine. rx_buf receives frame content: its size bounds the
 * largest message received to rx_size - 6 bytes; size it with
 * CL_LOSSY_RX_SIZE(the max message size the session announces). A longer
 * message is still checked (CRC) and acknowledged, so that the link lives
 * on: take() answers CL_ERR_TOO_LONG for it, and the session above answers
 * it with ERROR TOO_LARGE (cl_relay_session_too_large()). tx_buf holds the outstanding message until it is
 * acknowledged: tx_size is the largest message sent. cfg may be NULL
 * (defaults). Buffers must stay valid while l is used. Cannot fail. It
 * is also the reset: a new link (with a new epoch).
 */
void cl_relay_lossy_init(struct cl_relay_lossy *l, const struct cl_relay_lossy_config *cfg,
                         uint8_t *rx_buf, size_t rx_size, uint8_t *tx_buf, size_t tx_size);

/* Wipe the engine with cl_wipe(). Does nothing when l is NULL. */
void cl_relay_lossy_free(struct cl_relay_lossy *l);

/*
 * How long a link with this configuration (NULL: the defaults) tries one
 * unacknowledged message before it is dead: the sum of its waits, in ms
 * (126,000 for the defaults), saturating at UINT32_MAX. A session above
 * the link should not give up sooner (cl_relay_session_config's
 * hello_timeout_ms, keep-alive silence): a session that drops a link
 * still trying starts a new epoch, which kills the peer's link as well.
 */
uint32_t cl_relay_lossy_patience(const struct cl_relay_lossy_config *cfg);

/*
 * What the link needs next (cardlink/engine.h): CL_WANT_FAILED (dead:
 * error() says why), CL_WANT_DONE (a delivered message waits for take()),
 * CL_WANT_SEND (lend() has bytes), CL_WANT_RECV (a message waits for its
 * acknowledgement: feed, arm timer()), else CL_WANT_IDLE. Link bytes may
 * be fed in any state.
 */
enum cl_want cl_relay_lossy_want(const struct cl_relay_lossy *l);

/*
 * Accept link bytes from in[0..len). Consumes up to and including the flag
 * that completes a frame delivering a new message, and stops there until
 * the message is taken. Corrupt frames (bad CRC, too short, too long, reserved ctl bits, a
 * lone escape, a frame of another epoch than the peer's) are dropped
 * silently and counted. An acknowledgement
 * releases the outstanding message (can_send() becomes true). A previously
 * taken message is released by this call. in may be NULL when len is 0.
 * Returns the bytes used (0..len; at most INT_MAX), or
 *  CL_ERR_ARG       l NULL, in NULL with len > 0 (not sticky);
 *  CL_ERR_PROTOCOL  the peer restarted (a DATA frame seq 0 of a new epoch
 *                   after the link was in sync): sticky, the link is dead;
 *  the sticky error of an earlier call.
 */
CL_WUR int cl_relay_lossy_feed(struct cl_relay_lossy *l, uint32_t now, const uint8_t *in,
                               size_t len);

/*
 * Hand out the message delivered by the last feed: *msg points into the rx
 * buffer and stays valid until the next feed or init.
 * Returns CL_OK, or CL_ERR_ARG (a NULL argument), CL_ERR_STATE (no new
 * message waits; nothing is written), or CL_ERR_TOO_LONG: the message was
 * larger than the rx buffer; it was acknowledged (its seq is used) and
 * *msg / *len give its first rx_size - 4 bytes (the relay header at least
 * when rx_size >= 12).
 */
CL_WUR int cl_relay_lossy_take(struct cl_relay_lossy *l, const uint8_t **msg, size_t *len);

/* Whether send() would accept a message now: no message is outstanding and
 * the link has not failed. False when l is NULL. */
bool cl_relay_lossy_can_send(const struct cl_relay_lossy *l);

/*
 * Queue one message (copied into the tx buffer) for reliable delivery; it
 * goes out with the next pull().
 * Returns CL_OK, or
 *  CL_ERR_ARG      l NULL, msg NULL with len > 0, or len 0;
 *  CL_ERR_TOO_LONG len > the tx buffer size, or larger than 65535 + 8;
 *  CL_ERR_STATE    a message is still outstanding (window 1);
 *  the sticky error of the link.
 */
CL_WUR int cl_relay_lossy_send(struct cl_relay_lossy *l, uint32_t now, const uint8_t *msg,
                               size_t len);

/*
 * Lend the next bytes to transmit: *p points to the returned count, valid
 * until the next call on l other than sent(); 0 (*p NULL) when nothing is
 * due. The order: the rest of a frame already started, the outstanding
 * DATA frame when it is due (carrying the acknowledgement), an ACK-only
 * frame when one is due. A frame comes in pieces (flags, runs of bytes
 * that need no escaping straight from the tx buffer, escape pairs).
 * Starting a DATA frame arms the retransmission timer. 0 after a failure.
 */
size_t cl_relay_lossy_lend(struct cl_relay_lossy *l, uint32_t now, const uint8_t **p);

/* n of the bytes lend() gave went out (a partial write is fine: the rest
 * is lent again). Returns CL_OK, or CL_ERR_ARG (l NULL, n more than lent);
 * n 0 is a no-op. */
CL_WUR int cl_relay_lossy_sent(struct cl_relay_lossy *l, size_t n);

/*
 * The copying form of lend() + sent(): writes up to size bytes into out
 * and returns how many (0: nothing to send). A frame may be split over
 * several calls. 0 after a failure or when l or out is NULL. (Inline: a
 * firmware that transmits from lend() does not carry it.)
 */
static inline size_t cl_relay_lossy_pull(struct cl_relay_lossy *l, uint32_t now, uint8_t *out,
                                         size_t size)
{
    const uint8_t *p;
    size_t n = 0, k, i;

    while (out != NULL && n < size && (k = cl_relay_lossy_lend(l, now, &p)) > 0) {
        if (k > size - n)
            k = size - n;
        for (i = 0; i < k; i++)
            out[n + i] = p[i];
        n += k;
        if (cl_relay_lossy_sent(l, k) != 0)
            break;
    }
    return n;
}

/*
 * Timer event: retransmit when the RTO has passed (the next lend emits the
 * frame again, the RTO doubles). Call it when the time from timer() has
 * passed (calling it early or often is harmless).
 * Returns CL_OK, or
 *  CL_ERR_ARG      l is NULL;
 *  CL_ERR_TIMEOUT  max_retries retransmissions went unacknowledged: the
 *                  link failed (sticky);
 *  the sticky error of the link.
 */
CL_WUR int cl_relay_lossy_timeout(struct cl_relay_lossy *l, uint32_t now);

/* Milliseconds from now until timeout() is due; CL_TIMER_NONE when no
 * timer runs (or l is NULL), 0 when it is already due. */
uint32_t cl_relay_lossy_timer(const struct cl_relay_lossy *l, uint32_t now);

/* The sticky error (CL_OK while the link works); CL_ERR_ARG when l is
 * NULL. */
int cl_relay_lossy_error(const struct cl_relay_lossy *l);

/* The counters; NULL when l is NULL. */
const struct cl_relay_lossy_stats *cl_relay_lossy_stats(const struct cl_relay_lossy *l);

/*
 * Encode one frame in one go (for tests, benchmarks and tools): content =
 * the 4 header bytes given and payload; writes the flags, escaping and CRC.
 * out may be NULL when size is 0.
 * Returns CL_OK with *len the frame size, or CL_ERR_ARG (hdr or len NULL,
 * payload NULL with plen > 0), CL_ERR_BUFFER (*len = the size needed).
 */
CL_WUR int cl_relay_lossy_frame(const uint8_t hdr[CL_LOSSY_HDR_LEN], const uint8_t *payload,
                                size_t plen, uint8_t *out, size_t size, size_t *len);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_RELAY_LOSSY_H */
