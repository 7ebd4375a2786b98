/*
 * cardlink — POSIX TCP streams (struct cl_net, cardlink/net.h): a client
 * connection and a listener, non-blocking, IPv4 and IPv6.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Every socket is non-blocking and close-on-exec, with TCP_NODELAY (relay
 * messages are small and each waits for an answer) and no SIGPIPE (send
 * uses MSG_NOSIGNAL). Names are resolved with getaddrinfo(), which may
 * block on DNS: give numeric addresses ("127.0.0.1", "::1") where that
 * matters.
 */
#ifndef CARDLINK_POSIX_NET_TCP_H
#define CARDLINK_POSIX_NET_TCP_H

#include "cardlink/net.h"

/* A TCP connection. Do not touch the fields. */
struct cl_tcp {
    int fd;               /* -1: closed */
    int connecting;       /* connect() in progress */
    unsigned want;        /* CL_NET_WANT_* after the last CL_ERR_AGAIN */
    unsigned long sent_calls, partial_sends, again;   /* statistics */
};

/* A listening socket. Do not touch the fields. */
struct cl_tcp_listener {
    int fd;
};

/* The stream callbacks of a struct cl_tcp (caps: RELIABLE | FD). */
extern const struct cl_net_ops cl_tcp_ops;

/* Make t closed (fd -1). Cannot fail. */
void cl_tcp_init(struct cl_tcp *t);

/*
 * Start connecting t (closed) to host:port (a name or numeric address; a
 * decimal port). Returns CL_OK once the connection is under way (or
 * made): send and recv return CL_ERR_AGAIN, want() CL_NET_WANT_WRITE,
 * until it is. A refused connection shows there as CL_ERR_CLOSED.
 * Returns CL_ERR_ARG (NULL, t open), CL_ERR_NOT_FOUND (host does not
 * resolve), CL_ERR_IO (no socket, or connect() failed at once:
 * refused on loopback may show here).
 */
CL_WUR int cl_tcp_connect(struct cl_tcp *t, const char *host, const char *port);

/* A struct cl_net over t. Cannot fail. */
struct cl_net cl_tcp_net(struct cl_tcp *t);

/*
 * Set the kernel's send and receive buffer sizes in bytes (SO_SNDBUF,
 * SO_RCVBUF; 0 leaves one as it is). Small buffers make partial writes
 * and CL_ERR_AGAIN frequent, which the tests want. Returns CL_OK,
 * CL_ERR_ARG, CL_ERR_IO.
 */
CL_WUR int cl_tcp_set_buffers(struct cl_tcp *t, int sndbuf, int rcvbuf);

/* Close t (as cl_tcp_ops.close). NULL or closed does nothing. */
void cl_tcp_close(struct cl_tcp *t);

/* Make l closed. Cannot fail. */
void cl_tcp_listener_init(struct cl_tcp_listener *l);

/*
 * Listen on host:port (numeric; port "0" picks a free port, see
 * cl_tcp_listener_port). IPv6 listeners take IPv6 only. Returns CL_OK,
 * CL_ERR_ARG, CL_ERR_NOT_FOUND (host does not resolve), CL_ERR_IO
 * (bind or listen failed: address in use).
 */
CL_WUR int cl_tcp_listen(struct cl_tcp_listener *l, const char *host, const char *port,
                         int backlog);

/* The local port l listens on, or CL_ERR_IO / CL_ERR_ARG. */
CL_WUR int cl_tcp_listener_port(const struct cl_tcp_listener *l);

/* The listener's descriptor, to poll() for reading (an incoming
 * connection), or -1 when closed. */
int cl_tcp_listener_fd(const struct cl_tcp_listener *l);

/*
 * Accept one connection into t (closed), non-blocking. Returns CL_OK,
 * CL_ERR_AGAIN (none waiting: poll the listener for reading),
 * CL_ERR_ARG, CL_ERR_IO (the system refused: out of descriptors).
 */
CL_WUR int cl_tcp_accept(struct cl_tcp_listener *l, struct cl_tcp *t);

/* Stop listening. NULL or closed does nothing. */
void cl_tcp_listener_close(struct cl_tcp_listener *l);

/*
 * Blocking helpers over any stream with CL_NET_CAP_FD, for programs and
 * tests: wait (poll) at most timeout_ms milliseconds (-1: no limit) for
 * the stream's want().
 *
 * cl_net_wait: returns CL_OK (ready), CL_ERR_TIMEOUT, CL_ERR_UNSUPPORTED
 * (no CL_NET_CAP_FD), CL_ERR_CLOSED, CL_ERR_IO.
 *
 * cl_net_send_all: send all of buf[0..len), retrying partial writes and
 * waiting on CL_ERR_AGAIN; CL_OK, or the first error (CL_ERR_TIMEOUT when
 * one wait ran out).
 *
 * cl_net_recv_wait: receive what comes, waiting for it: returns the count
 * (>= 1), 0 on the peer's orderly end, or an error as recv and
 * cl_net_wait.
 */
CL_WUR int cl_net_wait(const struct cl_net *n, int timeout_ms);
CL_WUR int cl_net_send_all(const struct cl_net *n, const uint8_t *buf, size_t len,
                           int timeout_ms);
CL_WUR int cl_net_recv_wait(const struct cl_net *n, uint8_t *buf, size_t size,
                            int timeout_ms);

#endif /* CARDLINK_POSIX_NET_TCP_H */
