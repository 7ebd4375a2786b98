/*
 * cardlink — the network stream port.
 * SPDX-License-Identifier: Apache-2.0
 *
 * What the device and the server move relay messages over: a reliable,
 * ordered, NON-BLOCKING byte stream (TCP, TLS over TCP, a modem in data
 * mode). The relay engines never call it: they are sans-I/O and lend their
 * bytes (pull/sent, feed); the program's event loop moves those bytes
 * through a struct cl_net.
 *
 * A stream is a pair: a const struct cl_net_ops (the callbacks and what
 * the stream can do; may live in read-only memory, one per kind of
 * stream) and the void *ctx every callback receives (one per connection).
 * Streams layer: the TLS ports take the struct cl_net they run over, so
 * TLS runs over TCP or over any other stream that implements this port.
 *
 * Non-blocking rules, for every callback:
 *  - no callback waits. Where the stream cannot make progress now it
 *    returns CL_ERR_AGAIN, and want() says on what to wait (readable,
 *    writable, or both: a TLS stream may need to write in order to read,
 *    and the reverse, during its handshake);
 *  - wait only after CL_ERR_AGAIN: a stream may hold bytes it has already
 *    received (a decrypted TLS record) that no descriptor shows, so read
 *    until recv returns CL_ERR_AGAIN before waiting;
 *  - a stream that is still connecting (TCP connect, a TLS handshake)
 *    finishes connecting inside send and recv, which return CL_ERR_AGAIN
 *    until it has; a handshake's failure is returned by the send or recv
 *    that met it, and every later call returns CL_ERR_CLOSED (sticky).
 *
 * Ports in this tree: ports/posix/net_tcp.h (TCP client and listener,
 * IPv4/IPv6), ports/posix/tls_mbedtls.h (the device's TLS 1.2 client with
 * mutual authentication), ports/posix/tls_openssl.h (the server's TLS
 * 1.2/1.3 endpoint, which requires a device certificate).
 * docs/porting.md, "Network stream", says how to write one.
 */
#ifndef CARDLINK_NET_H
#define CARDLINK_NET_H

#include "cardlink/defs.h"
#include "cardlink/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* struct cl_net_ops.caps: what a stream is, declared by its port. */
#define CL_NET_CAP_RELIABLE 0x01u /* ordered and lossless (TCP, TLS): the
                                     relay runs on it without its lossy-link
                                     framing (cardlink/relay_lossy.h) */
#define CL_NET_CAP_SECURE   0x02u /* confidentiality, integrity and an
                                     authenticated peer (TLS with a verified
                                     certificate): peer() reports who */
#define CL_NET_CAP_FD       0x04u /* fd() gives a POSIX descriptor that
                                     poll() can wait on after CL_ERR_AGAIN */

/* want() answers: which readiness lets the stream make progress. */
#define CL_NET_WANT_READ  0x01u
#define CL_NET_WANT_WRITE 0x02u

/* Longest subject text in struct cl_net_peer, NUL included. */
#ifndef CL_NET_SUBJECT_MAX
#define CL_NET_SUBJECT_MAX 256
#endif

/* The authenticated peer of a CL_NET_CAP_SECURE stream, after its
 * handshake: its leaf certificate's subject (as cl_cert_subject writes
 * it: "CN=cardlink test device 0001, O=cardlink test", printable ASCII)
 * and the SHA-256 of that certificate's DER (cl_cert_fingerprint; what
 * `openssl x509 -fingerprint -sha256` prints), for a server to look up
 * in its enrolment and for logs. */
struct cl_net_peer {
    char subject[CL_NET_SUBJECT_MAX];
    uint8_t fingerprint[32];
};

/*
 * Send: take up to len >= 1 bytes of buf for sending, in order. Returns
 * how many were taken, 1..len (fewer than len is a partial write: offer
 * the rest again); the bytes are the stream's from then on and buf may be
 * reused. Returns CL_ERR_AGAIN when nothing can be taken now (the
 * kernel's buffer is full, a handshake is in progress: see want()),
 * CL_ERR_CLOSED (the peer is gone: reset, or the stream was closed or
 * failed before), CL_ERR_IO (the port failed), or, during a handshake,
 * what recv lists for one. Never blocks.
 * After CL_ERR_AGAIN, the next send must offer the same bytes again (at
 * least as many): a TLS stream may already have sealed them into a record
 * that it could not write out yet (mbedtls and OpenSSL both require it).
 */
typedef int (*cl_net_send_fn)(void *ctx, const uint8_t *buf, size_t len);

/*
 * Receive up to size >= 1 bytes into buf. Returns how many arrived,
 * 1..size; 0 when the peer ended the stream in order (TCP FIN; for TLS,
 * its close_notify: an end without one is CL_ERR_CLOSED, as a truncation
 * attack would look); CL_ERR_AGAIN when nothing is there now;
 * CL_ERR_CLOSED (reset by the peer, or closed or failed before);
 * CL_ERR_IO. Where a handshake runs inside (TLS), also its failures:
 * CL_ERR_VERSION (no protocol version in common), CL_ERR_UNSUPPORTED (no
 * cipher suite or group in common), CL_ERR_PROTOCOL (the peer broke the
 * protocol or sent an alert), the certificate errors of cardlink/cert.h
 * (CL_ERR_CERT_UNTRUSTED for a peer certificate that is missing, from
 * another CA, or for another name; CL_ERR_CERT_EXPIRED,
 * CL_ERR_CERT_PURPOSE, ...), CL_ERR_CRYPTO. Never blocks.
 */
typedef int (*cl_net_recv_fn)(void *ctx, uint8_t *buf, size_t size);

/*
 * After CL_ERR_AGAIN from send or recv: CL_NET_WANT_READ and/or
 * CL_NET_WANT_WRITE, the readiness to wait for before calling again.
 * Cannot fail. Undefined (but harmless) before any CL_ERR_AGAIN.
 */
typedef unsigned (*cl_net_want_fn)(void *ctx);

/*
 * With CL_NET_CAP_FD: the descriptor to poll() for want()'s readiness,
 * or CL_ERR_CLOSED when there is none (closed). May be NULL without the
 * capability.
 */
typedef int (*cl_net_fd_fn)(void *ctx);

/*
 * With CL_NET_CAP_SECURE: write the authenticated peer to *out. Returns
 * CL_OK, CL_ERR_ARG (out NULL), CL_ERR_STATE (handshake not finished or
 * failed). May be NULL without the capability.
 */
typedef int (*cl_net_peer_fn)(void *ctx, struct cl_net_peer *out);

/*
 * End the stream and release what ctx holds (descriptors, a TLS
 * context's memory, which is wiped), including the stream below a layered
 * one. A TLS stream first tries to send its close_notify, without
 * waiting. Cannot fail; closing twice does nothing; every later send or
 * recv returns CL_ERR_CLOSED.
 */
typedef void (*cl_net_close_fn)(void *ctx);

/* One kind of stream: its callbacks (all given unless marked "may be
 * NULL" above) and its capabilities. */
struct cl_net_ops {
    cl_net_send_fn send;
    cl_net_recv_fn recv;
    cl_net_want_fn want;
    cl_net_fd_fn fd;          /* may be NULL without CL_NET_CAP_FD */
    cl_net_peer_fn peer;      /* may be NULL without CL_NET_CAP_SECURE */
    cl_net_close_fn close;
    uint32_t caps;            /* CL_NET_CAP_* */
};

/* A stream: its kind and its context. A plain value; copying it does not
 * copy the connection. */
struct cl_net {
    const struct cl_net_ops *ops;
    void *ctx;
};

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_NET_H */
