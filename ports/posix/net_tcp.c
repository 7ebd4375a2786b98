/*
 * cardlink — POSIX TCP streams and the blocking helpers.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _GNU_SOURCE   /* accept4, SOCK_NONBLOCK, SOCK_CLOEXEC */
#include "net_tcp.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int no_delay(int fd)
{
    int one = 1;

    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* see net_tcp.h */
void cl_tcp_init(struct cl_tcp *t)
{
    memset(t, 0, sizeof(*t));
    t->fd = -1;
}

/* see net_tcp.h */
int cl_tcp_connect(struct cl_tcp *t, const char *host, const char *port)
{
    struct addrinfo hints, *res = NULL, *ai;
    int rc = CL_ERR_IO;

    if (t == NULL || host == NULL || port == NULL || t->fd >= 0)
        return CL_ERR_ARG;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL)
        return CL_ERR_NOT_FOUND;
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        ai->ai_protocol);

        if (fd < 0)
            continue;
        (void)no_delay(fd);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            t->fd = fd;
            t->connecting = 0;
            rc = CL_OK;
            break;
        }
        if (errno == EINPROGRESS) {
            t->fd = fd;
            t->connecting = 1;
            t->want = CL_NET_WANT_WRITE;
            rc = CL_OK;
            break;
        }
        close(fd);
    }
    freeaddrinfo(res);
    return rc;
}

/* Finish a connect in progress: CL_OK, CL_ERR_AGAIN or CL_ERR_CLOSED. */
static int finish_connect(struct cl_tcp *t)
{
    struct pollfd p = { t->fd, POLLOUT, 0 };
    int err = 0;
    socklen_t len = sizeof(err);

    if (poll(&p, 1, 0) < 0)
        return CL_ERR_IO;
    if (p.revents == 0) {
        t->want = CL_NET_WANT_WRITE;
        t->again++;
        return CL_ERR_AGAIN;
    }
    if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
        cl_tcp_close(t);
        return CL_ERR_CLOSED;
    }
    t->connecting = 0;
    return CL_OK;
}

static int tcp_send(void *ctx, const uint8_t *buf, size_t len)
{
    struct cl_tcp *t = ctx;
    ssize_t n;

    if (t == NULL || (buf == NULL && len > 0))
        return CL_ERR_ARG;
    if (t->fd < 0)
        return CL_ERR_CLOSED;
    if (t->connecting) {
        int rc = finish_connect(t);

        if (rc != CL_OK)
            return rc;
    }
    if (len == 0)
        return CL_ERR_ARG;
    if (len > INT32_MAX)
        len = INT32_MAX;   /* the count must fit the int result */
    do
        n = send(t->fd, buf, len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            t->want = CL_NET_WANT_WRITE;
            t->again++;
            return CL_ERR_AGAIN;
        }
        if (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN)
            return CL_ERR_CLOSED;
        return CL_ERR_IO;
    }
    t->sent_calls++;
    if ((size_t)n < len)
        t->partial_sends++;
    return (int)n;
}

static int tcp_recv(void *ctx, uint8_t *buf, size_t size)
{
    struct cl_tcp *t = ctx;
    ssize_t n;

    if (t == NULL || buf == NULL || size == 0)
        return CL_ERR_ARG;
    if (t->fd < 0)
        return CL_ERR_CLOSED;
    if (t->connecting) {
        int rc = finish_connect(t);

        if (rc != CL_OK)
            return rc;
    }
    if (size > INT32_MAX)
        size = INT32_MAX;
    do
        n = recv(t->fd, buf, size, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            t->want = CL_NET_WANT_READ;
            t->again++;
            return CL_ERR_AGAIN;
        }
        if (errno == ECONNRESET || errno == ENOTCONN || errno == ETIMEDOUT)
            return CL_ERR_CLOSED;
        return CL_ERR_IO;
    }
    return (int)n;
}

static unsigned tcp_want(void *ctx)
{
    const struct cl_tcp *t = ctx;

    return t != NULL ? t->want : 0;
}

static int tcp_fd(void *ctx)
{
    const struct cl_tcp *t = ctx;

    return t != NULL && t->fd >= 0 ? t->fd : CL_ERR_CLOSED;
}

static void tcp_close(void *ctx)
{
    cl_tcp_close(ctx);
}

const struct cl_net_ops cl_tcp_ops = {
    tcp_send, tcp_recv, tcp_want, tcp_fd, NULL, tcp_close,
    CL_NET_CAP_RELIABLE | CL_NET_CAP_FD
};

/* see net_tcp.h */
struct cl_net cl_tcp_net(struct cl_tcp *t)
{
    struct cl_net n;

    n.ops = &cl_tcp_ops;
    n.ctx = t;
    return n;
}

/* see net_tcp.h */
int cl_tcp_set_buffers(struct cl_tcp *t, int sndbuf, int rcvbuf)
{
    if (t == NULL || t->fd < 0 || sndbuf < 0 || rcvbuf < 0)
        return CL_ERR_ARG;
    if (sndbuf > 0 && setsockopt(t->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) != 0)
        return CL_ERR_IO;
    if (rcvbuf > 0 && setsockopt(t->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) != 0)
        return CL_ERR_IO;
    return CL_OK;
}

/* see net_tcp.h */
void cl_tcp_close(struct cl_tcp *t)
{
    if (t == NULL || t->fd < 0)
        return;
    (void)close(t->fd);
    t->fd = -1;
    t->connecting = 0;
}

/* see net_tcp.h */
void cl_tcp_listener_init(struct cl_tcp_listener *l)
{
    l->fd = -1;
}

/* see net_tcp.h */
int cl_tcp_listen(struct cl_tcp_listener *l, const char *host, const char *port, int backlog)
{
    struct addrinfo hints, *res = NULL, *ai;
    int rc = CL_ERR_IO;

    if (l == NULL || host == NULL || port == NULL || l->fd >= 0 || backlog < 1)
        return CL_ERR_ARG;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL)
        return CL_ERR_NOT_FOUND;
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        int one = 1;
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        ai->ai_protocol);

        if (fd < 0)
            continue;
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (ai->ai_family == AF_INET6)
            (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, backlog) == 0) {
            l->fd = fd;
            rc = CL_OK;
            break;
        }
        close(fd);
    }
    freeaddrinfo(res);
    return rc;
}

/* see net_tcp.h */
int cl_tcp_listener_port(const struct cl_tcp_listener *l)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (l == NULL || l->fd < 0)
        return CL_ERR_ARG;
    if (getsockname(l->fd, (struct sockaddr *)&ss, &len) != 0)
        return CL_ERR_IO;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return CL_ERR_IO;
}

/* see net_tcp.h */
int cl_tcp_listener_fd(const struct cl_tcp_listener *l)
{
    return l != NULL ? l->fd : -1;
}

/* see net_tcp.h */
int cl_tcp_accept(struct cl_tcp_listener *l, struct cl_tcp *t)
{
    int fd;

    if (l == NULL || t == NULL || l->fd < 0 || t->fd >= 0)
        return CL_ERR_ARG;
    do
        fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        /* A connection reset before it was accepted is no error here. */
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED)
            return CL_ERR_AGAIN;
        return CL_ERR_IO;
    }
    cl_tcp_init(t);
    t->fd = fd;
    (void)no_delay(fd);
    return CL_OK;
}

/* see net_tcp.h */
void cl_tcp_listener_close(struct cl_tcp_listener *l)
{
    if (l == NULL || l->fd < 0)
        return;
    (void)close(l->fd);
    l->fd = -1;
}

/* ------------------------------------------------ blocking helpers */

/* see net_tcp.h */
int cl_net_wait(const struct cl_net *n, int timeout_ms)
{
    struct pollfd p;
    unsigned w;
    int fd, rc;

    if (n == NULL || n->ops == NULL)
        return CL_ERR_ARG;
    if ((n->ops->caps & CL_NET_CAP_FD) == 0 || n->ops->fd == NULL)
        return CL_ERR_UNSUPPORTED;
    fd = n->ops->fd(n->ctx);
    if (fd < 0)
        return CL_ERR_CLOSED;
    w = n->ops->want(n->ctx);
    p.fd = fd;
    p.events = (short)(((w & CL_NET_WANT_READ) ? POLLIN : 0) |
                       ((w & CL_NET_WANT_WRITE) ? POLLOUT : 0));
    if (p.events == 0)
        p.events = POLLIN;
    p.revents = 0;
    do
        rc = poll(&p, 1, timeout_ms);
    while (rc < 0 && errno == EINTR);
    if (rc < 0)
        return CL_ERR_IO;
    return rc == 0 ? CL_ERR_TIMEOUT : CL_OK;
}

/* see net_tcp.h */
int cl_net_send_all(const struct cl_net *n, const uint8_t *buf, size_t len, int timeout_ms)
{
    size_t off = 0;

    if (n == NULL || n->ops == NULL || (buf == NULL && len > 0))
        return CL_ERR_ARG;
    while (off < len) {
        int rc = n->ops->send(n->ctx, buf + off, len - off);

        if (rc == CL_ERR_AGAIN) {
            rc = cl_net_wait(n, timeout_ms);
            if (rc != CL_OK)
                return rc;
            continue;
        }
        if (rc < 0)
            return rc;
        off += (size_t)rc;
    }
    return CL_OK;
}

/* see net_tcp.h */
int cl_net_recv_wait(const struct cl_net *n, uint8_t *buf, size_t size, int timeout_ms)
{
    if (n == NULL || n->ops == NULL)
        return CL_ERR_ARG;
    for (;;) {
        int rc = n->ops->recv(n->ctx, buf, size);

        if (rc != CL_ERR_AGAIN)
            return rc;
        rc = cl_net_wait(n, timeout_ms);
        if (rc != CL_OK)
            return rc;
    }
}
