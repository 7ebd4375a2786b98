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
 * Sans-I/O: time is a caller-supplied millisecond counter (uint32_t, it may
 * wrap); the engine never reads a clock. Loop:
 *
 *   on bytes from the link:  feed(now, p, n, &used) until all used;
 *                            after each feed, take(&msg, &len) -> deliver
 *   to send a message:       if (can_send) send(now, msg, len)
 *   whenever:                n = pull(now, out, size): transmit out[0..n)
 *   timer:                   arm timeout(now) ms; when it fires, tick(now)
 *   failure:                 any call returning CL_ERR_TIMEOUT / _PROTOCOL:
 *                            the link is dead; re-init with a new epoch.
 */
#ifndef CARDLINK_RELAY_LOSSY_H
#define CARDLINK_RELAY_LOSSY_H

#include "cardlink/defs.h"

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
#define CL_LOSSY_NO_TIMER 0xFFFFFFFFu

/* Configuration. All zero means the defaults (RTO 2 s, 5 retries, epoch 0). */
struct cl_relay_lossy_config {
    uint32_t rto_ms;         /* first retransmission timeout; 0 = 2000 */
    uint8_t max_retries;     /* retransmissions before failure; 0 = 5 */
    uint8_t epoch;           /* 0..15: MUST differ from the previous incarnation's
                              * (a boot counter or a random nibble) */
};

/* Counters, for tests and link statistics. */
struct cl_relay_lossy_stats {
    uint32_t frames_sent, data_sent, retransmits, acks_sent;
    uint32_t frames_ok, bad_crc, bad_frame, duplicates, delivered;
};

/* The engine. Caller-allocated; do not touch the fields. */
struct cl_relay_lossy {
    /* configuration */
    uint32_t rto;
    uint8_t max_retries, epoch;
    uint8_t *rx, *tx;              /* caller buffers: frame content, message */
    size_t rx_size, tx_size;
    /* receiver */
    size_t rx_len;                 /* content bytes of the frame being read */
    bool rx_esc, rx_in_frame, rx_overflow;
    bool rx_synced;                /* a first DATA frame (seq 0) was received */
    uint8_t peer_epoch, rx_next;   /* the peer's epoch, the next seq expected */
    bool ready, taken;             /* a delivered message waits in rx[4..] */
    size_t ready_len;
    bool ack_due;
    /* sender */
    size_t tx_len;                 /* message waiting for its ack (0: none) */
    bool tx_busy;                  /* a message is outstanding */
    bool tx_want;                  /* it must be (re)transmitted */
    uint8_t tx_seq;                /* its seq */
    uint8_t tx_next;               /* seq of the next message sent */
    uint8_t retries;
    uint32_t deadline, cur_rto;
    bool timer_on;
    /* frame being emitted by pull() */
    uint8_t out_hdr[CL_LOSSY_HDR_LEN], out_crc[CL_LOSSY_CRC_LEN];
    size_t out_pos, out_plen;      /* position in content, payload length */
    uint8_t out_state;             /* 0 idle, 1 opening flag, 2 content, 3 closing flag */
    bool out_esc;                  /* the escaped half of a byte is next */
    bool out_data;                 /* the frame carries tx[] */
    int err;                       /* sticky: CL_OK, CL_ERR_TIMEOUT, CL_ERR_PROTOCOL */
    struct cl_relay_lossy_stats stats;
};

/*
 * Start an engine. rx_buf receives frame content: its size bounds the
 * largest message received to rx_size - 6 bytes (longer frames are dropped
 * as corrupt). tx_buf holds the outstanding message until it is
 * acknowledged: tx_size is the largest message sent. cfg may be NULL
 * (defaults). Buffers must stay valid while l is used. Cannot fail.
 */
void cl_relay_lossy_init(struct cl_relay_lossy *l, const struct cl_relay_lossy_config *cfg,
                         uint8_t *rx_buf, size_t rx_size, uint8_t *tx_buf, size_t tx_size);

/*
 * Accept link bytes from in[0..len). Consumes up to and including the flag
 * that completes a frame delivering a new message, and stops there until
 * the message is taken; *consumed (always written) says how many bytes were
 * used. Corrupt frames (bad CRC, too short, too long, reserved ctl bits, a
 * lone escape) are dropped silently and counted. An acknowledgement
 * releases the outstanding message (can_send() becomes true). A previously
 * taken message is released by this call. in may be NULL when len is 0.
 * Returns CL_OK, or
 *  CL_ERR_ARG       l or consumed NULL, in NULL with len > 0 (not sticky);
 *  CL_ERR_PROTOCOL  the peer restarted (a DATA frame seq 0 of a new epoch
 *                   after the link was in sync): sticky, the link is dead;
 *  the sticky error of an earlier call.
 */
CL_WUR int cl_relay_lossy_feed(struct cl_relay_lossy *l, uint32_t now, const uint8_t *in,
                               size_t len, size_t *consumed);

/*
 * Hand out the message delivered by the last feed: *msg points into the rx
 * buffer and stays valid until the next feed or init.
 * Returns CL_OK, or CL_ERR_ARG (a NULL argument), or CL_ERR_STATE (no new
 * message waits; nothing is written).
 */
CL_WUR int cl_relay_lossy_take(struct cl_relay_lossy *l, const uint8_t **msg, size_t *len);

/* Whether send() would accept a message now: no message is outstanding and
 * the link has not failed. l must not be NULL. */
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
 * Bytes to transmit: writes up to size bytes of frames into out and returns
 * how many (0: nothing to send). A frame may be split over several calls;
 * the order is: the rest of a frame already started, the outstanding DATA
 * frame when it is due (carrying the acknowledgement), an ACK-only frame
 * when one is due. Starting a DATA frame arms the retransmission timer.
 * Returns 0 after a failure. l must not be NULL; out may be NULL if size 0.
 */
size_t cl_relay_lossy_pull(struct cl_relay_lossy *l, uint32_t now, uint8_t *out, size_t size);

/*
 * Timer event: retransmit when the RTO has passed (the next pull emits the
 * frame again, the RTO doubles). Call it when the time from timeout() has
 * passed (calling it early or often is harmless).
 * Returns CL_OK, or
 *  CL_ERR_ARG      l is NULL;
 *  CL_ERR_TIMEOUT  max_retries retransmissions went unacknowledged: the
 *                  link failed (sticky);
 *  the sticky error of the link.
 */
CL_WUR int cl_relay_lossy_tick(struct cl_relay_lossy *l, uint32_t now);

/* Milliseconds from now until tick() is due; CL_LOSSY_NO_TIMER when no
 * timer runs, 0 when it is already due. l must not be NULL. */
uint32_t cl_relay_lossy_timeout(const struct cl_relay_lossy *l, uint32_t now);

/* The sticky error (CL_OK while the link works). l must not be NULL. */
int cl_relay_lossy_error(const struct cl_relay_lossy *l);

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
