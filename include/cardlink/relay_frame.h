/*
 * cardlink — relay protocol stream framing (docs/protocol.md §12).
 * SPDX-License-Identifier: Apache-2.0
 *
 * On a reliable byte stream (TCP, TLS, a modem in data mode) relay messages
 * follow each other with nothing in between; the 8-byte header's length
 * delimits them. The deframer is sans-I/O: feed it whatever chunks the
 * transport delivers, and take each complete message out of the caller's
 * buffer. It checks the header's first byte (magic/version) and flags as
 * soon as they arrive, and the total size against the buffer before
 * accepting body bytes. It does not decode the body: hand each message to
 * cl_relay_decode().
 *
 * Every error is fatal for the stream (the receiver is out of step with the
 * sender): the error is sticky until cl_relay_stream_reset() (the
 * protocol's reset: a new stream), and the caller should send CLOSE and
 * drop the transport. The engine shape of cardlink/engine.h: want(),
 * error(), free(), and feed() returning the bytes it used or an error. On a
 * NULL deframer int functions return CL_ERR_ARG, want() CL_WANT_FAILED,
 * ready() false.
 *
 *   while (transport has bytes p[0..n)) {
 *       while (n > 0) {
 *           used = cl_relay_stream_feed(&s, p, n);   (< 0: close)
 *           p += used; n -= used;
 *           if (cl_relay_stream_take(&s, &msg, &len) == CL_OK)
 *               handle(msg, len);          (valid until the next feed)
 *       }
 *   }
 */
#ifndef CARDLINK_RELAY_FRAME_H
#define CARDLINK_RELAY_FRAME_H

#include "cardlink/defs.h"
#include "cardlink/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Stream deframer. Caller-allocated; do not touch the fields. */
struct cl_relay_stream {
    uint8_t *buf;      /* caller's buffer: one whole message */
    size_t size;       /* its size: the largest message accepted */
    size_t have;       /* bytes of the current message received */
    size_t need;       /* its total size once the header is in, else 8;
                          have == need: the message is complete (taken
                          once want is back to RECV: the next feed starts
                          anew) */
    uint8_t want;      /* enum cl_want: RECV, DONE (a message waits in
                          buf), FAILED */
    int err;           /* sticky error, CL_OK while none */
};

/*
 * Start a deframer over buf[0..size): size is the largest message (header
 * included) it accepts; anything larger is CL_ERR_TOO_LONG. A size below 8
 * accepts nothing. buf must stay valid while s is used. Cannot fail.
 */
void cl_relay_stream_init(struct cl_relay_stream *s, uint8_t *buf, size_t size);

/*
 * Forget any partial or pending message and a sticky error; keep the buffer.
 * Does nothing when s is NULL.
 */
void cl_relay_stream_reset(struct cl_relay_stream *s);

/* Wipe the deframer (not the caller's buffer) with cl_wipe(). Does nothing
 * when s is NULL. */
void cl_relay_stream_free(struct cl_relay_stream *s);

/* CL_WANT_FAILED (a framing error: cl_relay_stream_error()), CL_WANT_DONE
 * (a complete message waits: take it), else CL_WANT_RECV. */
enum cl_want cl_relay_stream_want(const struct cl_relay_stream *s);

/* The sticky error: CL_OK, or the framing error; CL_ERR_ARG when s is NULL. */
int cl_relay_stream_error(const struct cl_relay_stream *s);

/*
 * Accept bytes from in[0..len). It consumes up to the end of the current
 * message and stops there; the caller feeds the rest after taking the
 * message. While a complete message waits untaken, nothing is consumed.
 * A previously taken message is released by this call: its pointer is no
 * longer valid. in may be NULL when len is 0.
 * Returns the bytes used (0..len, at most one message), or (sticky, fatal):
 *  CL_ERR_ARG        s is NULL, or in is NULL with len > 0 (not sticky);
 *  CL_ERR_MALFORMED  header byte 0 does not have the magic nibble C;
 *  CL_ERR_VERSION    header byte 0 is not C1;
 *  CL_ERR_RESERVED   a reserved flag bit is set;
 *  CL_ERR_TOO_LONG   8 + length exceeds the buffer size;
 *  or the sticky error of an earlier call.
 */
CL_WUR int cl_relay_stream_feed(struct cl_relay_stream *s, const uint8_t *in, size_t len);

/* Whether a complete message waits to be taken; false when s is NULL. */
bool cl_relay_stream_ready(const struct cl_relay_stream *s);

/*
 * Hand out the complete message: *msg points into the deframer's buffer,
 * *len is its size (header included). The bytes stay valid until the next
 * cl_relay_stream_feed() or cl_relay_stream_reset().
 * Returns CL_OK, or
 *  CL_ERR_ARG    s, msg or len is NULL;
 *  CL_ERR_STATE  no complete message waits (nothing is written);
 *  the sticky error of the deframer.
 */
CL_WUR int cl_relay_stream_take(struct cl_relay_stream *s, const uint8_t **msg,
                                size_t *len);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_RELAY_FRAME_H */
