/*
 * cardlink POSIX port — the virtual card line.
 * SPDX-License-Identifier: Apache-2.0
 *
 * A virtual card line carries what a real ISO 7816-3 line carries — the
 * characters in both directions, plus the events a real line signals with
 * its RST, VCC and card-detect contacts and its parity bit — between the
 * device side (the reader, lib/card over a cl_card_line built on this API)
 * and the card simulator (cardlink-vcard, lib/sim), over any reliable byte
 * stream: a TCP loopback socket, a Unix socket or a pseudo-terminal.
 *
 * A pty has no modem lines, so nothing is signalled out of band: every
 * event, resets included, travels in-band as a frame. The format is the
 * same on every transport (docs/porting.md, "Virtual card line"):
 *
 *     +------+--------+--------+----------------------+
 *     | type | len hi | len lo | payload (len bytes)  |
 *     +------+--------+--------+----------------------+
 *
 * type is one of enum cl_vline_type; len is big-endian, at most
 * CL_VLINE_PAYLOAD_MAX. A frame with an unknown type is delivered as is
 * (the receiver ignores what it does not understand); a frame longer than
 * CL_VLINE_PAYLOAD_MAX desynchronises the stream and closes the line.
 *
 * Who sends what:
 *   device -> card: DATA, COLD_RESET, WARM_RESET, POWER_OFF, CLOCK,
 *                   PARITY_ERROR (the next DATA byte carries a bad parity bit)
 *   card -> device: DATA, CARD_INSERTED, CARD_REMOVED, PARITY_ERROR
 *
 * The ATR is ordinary DATA that follows a reset. Characters travel in the
 * convention the card uses on the line: an inverse-convention card's bytes
 * are sent as they would be sampled by a direct-convention UART (TS = 0x03).
 *
 * Every function here is blocking or bounded by the timeout given; none
 * prints anything. Errors are enum cl_err codes (cardlink/error.h).
 */
#ifndef CARDLINK_POSIX_VLINE_H
#define CARDLINK_POSIX_VLINE_H

#include "cardlink/defs.h"
#include "cardlink/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest frame payload. */
#define CL_VLINE_PAYLOAD_MAX 1024u
/* Frame header: type + 2-byte length. */
#define CL_VLINE_HDR 3u
/* Payload of a CLOCK frame: F (2, BE), D (2, BE), clock in Hz (4, BE). */
#define CL_VLINE_CLOCK_LEN 8u
/* Longest name cl_vline_name() reports. */
#define CL_VLINE_NAME_MAX 108u

enum cl_vline_type {
    CL_VLINE_DATA = 0x01,          /* payload: characters on the line */
    CL_VLINE_COLD_RESET = 0x02,    /* power on + RST: card answers with ATR */
    CL_VLINE_WARM_RESET = 0x03,    /* RST pulse with power kept: ATR again */
    CL_VLINE_POWER_OFF = 0x04,     /* deactivation (§6.4) */
    CL_VLINE_CARD_INSERTED = 0x05, /* card detect closed */
    CL_VLINE_CARD_REMOVED = 0x06,  /* card detect open: the card is gone */
    CL_VLINE_PARITY_ERROR = 0x07,  /* the next DATA byte has a parity error */
    CL_VLINE_CLOCK = 0x08          /* the sender now uses F, D and clock f:
                                      payload CL_VLINE_CLOCK_LEN bytes */
};

/* One received frame. */
struct cl_vline_event {
    uint8_t type;                          /* enum cl_vline_type (or unknown) */
    uint16_t len;                          /* payload bytes in data */
    uint8_t data[CL_VLINE_PAYLOAD_MAX];
};

/* A virtual line endpoint. Caller-allocated; do not touch the fields. */
struct cl_vline {
    int fd;                 /* the connected stream, -1 when none */
    int listen_fd;          /* tcp/unix listener, -1 when none */
    int pty_slave_fd;       /* pty creator: slave kept open so reads never EIO */
    uint8_t kind;           /* internal: 0 none, 1 tcp, 2 unix, 3 pty, 4 fd */
    bool unlink_path;       /* unix listener: remove the socket on close */
    char name[CL_VLINE_NAME_MAX];  /* spec of the peer end, see cl_vline_name */
    size_t rx_len;          /* bytes buffered in rx */
    uint8_t rx[CL_VLINE_HDR + CL_VLINE_PAYLOAD_MAX];
};

/* Set vl to "nothing open" (fd -1). Cannot fail. */
void cl_vline_init(struct cl_vline *vl);

/*
 * The simulator end: create the line named by spec and wait for no one yet.
 *   "tcp:HOST:PORT"  listen on HOST (numeric IPv4, e.g. 127.0.0.1) and PORT;
 *                    PORT 0 picks a free port (see cl_vline_name()).
 *   "unix:/PATH"     listen on a Unix stream socket (an old socket file at
 *                    PATH is replaced; removed again by cl_vline_close()).
 *   "pty"            create a pseudo-terminal in raw mode; this end holds the
 *                    master and cl_vline_name() gives "pty:/dev/pts/N" for
 *                    the device end. Connected at once: no accept needed.
 * vl must have been through cl_vline_init() or cl_vline_close().
 * Errors: CL_ERR_ARG (NULL, unknown scheme, bad host or port, path too
 * long), CL_ERR_STATE (vl already open), CL_ERR_IO (a system call failed;
 * errno tells which).
 */
CL_WUR int cl_vline_listen(struct cl_vline *vl, const char *spec);

/*
 * The simulator end: wait up to timeout_ms (< 0: forever) for the device
 * to connect. A connection already accepted is closed first (one device at a
 * time). On a pty this returns CL_OK at once.
 * Errors: CL_ERR_ARG (NULL), CL_ERR_STATE (not listening),
 * CL_ERR_TIMEOUT, CL_ERR_IO.
 */
CL_WUR int cl_vline_accept(struct cl_vline *vl, int timeout_ms);

/*
 * The device end: connect to the line named by spec: "tcp:HOST:PORT",
 * "unix:/PATH" or "pty:/dev/pts/N" (the name the simulator printed; the
 * terminal is set to raw mode).
 * Errors: CL_ERR_ARG, CL_ERR_STATE (vl already open), CL_ERR_IO (connection
 * refused, no such pty, ...).
 */
CL_WUR int cl_vline_connect(struct cl_vline *vl, const char *spec);

/*
 * Use an already-connected stream descriptor (one end of a socketpair(),
 * a pipe-like pty end). vl takes ownership: cl_vline_close() closes fd.
 * Errors: CL_ERR_ARG (NULL or fd < 0), CL_ERR_STATE (vl already open).
 */
CL_WUR int cl_vline_open_fd(struct cl_vline *vl, int fd);

/* Close everything vl holds (nothing happens on NULL or a closed vl). */
void cl_vline_close(struct cl_vline *vl);

/* The connected descriptor (for poll() in an event loop), or -1. */
int cl_vline_fd(const struct cl_vline *vl);

/*
 * What the other end should pass to cl_vline_connect(): after a listen,
 * "tcp:127.0.0.1:PORT" with the port actually bound, "unix:/PATH" or
 * "pty:/dev/pts/N"; "" when nothing is open. Never NULL.
 */
const char *cl_vline_name(const struct cl_vline *vl);

/*
 * Send one frame: type and payload[0..len). Blocks until it is written.
 * payload may be NULL when len is 0.
 * Errors: CL_ERR_ARG (NULL vl, NULL payload with len > 0, len >
 * CL_VLINE_PAYLOAD_MAX), CL_ERR_STATE (not connected), CL_ERR_CLOSED (the
 * peer went away), CL_ERR_IO.
 */
CL_WUR int cl_vline_send(struct cl_vline *vl, uint8_t type,
                         const uint8_t *payload, size_t len);

/*
 * Send len characters as DATA frames (split at CL_VLINE_PAYLOAD_MAX; len 0
 * sends nothing). Errors as cl_vline_send().
 */
CL_WUR int cl_vline_send_data(struct cl_vline *vl, const uint8_t *bytes,
                              size_t len);

/* Send a CLOCK frame with F, D and the clock frequency in Hz.
 * Errors as cl_vline_send(). */
CL_WUR int cl_vline_send_clock(struct cl_vline *vl, uint16_t f, uint16_t d,
                               uint32_t clock_hz);

/*
 * Decode a CLOCK payload. Errors: CL_ERR_ARG (NULL ev or output),
 * CL_ERR_MALFORMED (ev is not a CLOCK frame of CL_VLINE_CLOCK_LEN bytes).
 */
CL_WUR int cl_vline_clock_parse(const struct cl_vline_event *ev,
                                uint16_t *f, uint16_t *d, uint32_t *clock_hz);

/*
 * Receive the next frame into ev, waiting up to timeout_ms (0: only what is
 * already there; < 0: forever).
 * Errors: CL_ERR_ARG (NULL), CL_ERR_STATE (not connected), CL_ERR_TIMEOUT
 * (no complete frame in time; bytes of a partial frame stay buffered),
 * CL_ERR_CLOSED (the peer closed the stream), CL_ERR_TOO_LONG (a length
 * beyond CL_VLINE_PAYLOAD_MAX: the stream is out of step; close it),
 * CL_ERR_IO.
 */
CL_WUR int cl_vline_recv(struct cl_vline *vl, struct cl_vline_event *ev,
                         int timeout_ms);

/* A short name for a frame type ("DATA", "COLD_RESET", ...; "?" if
 * unknown), for logs. */
const char *cl_vline_type_name(uint8_t type);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_POSIX_VLINE_H */
