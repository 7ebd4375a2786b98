/*
 * cardlink POSIX port — the virtual card line (see vline.h).
 * SPDX-License-Identifier: Apache-2.0
 */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE 1

#include "vline.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>

enum { K_NONE = 0, K_TCP, K_UNIX, K_PTY, K_FD };

/* see vline.h */
void cl_vline_init(struct cl_vline *vl)
{
    if (vl == NULL)
        return;
    memset(vl, 0, sizeof(*vl));
    vl->fd = -1;
    vl->listen_fd = -1;
    vl->pty_slave_fd = -1;
}

static bool is_open(const struct cl_vline *vl)
{
    return vl->fd >= 0 || vl->listen_fd >= 0;
}

/* Put a terminal into raw 8-bit mode: no echo, no line editing, no
 * translation of CR/LF, no signals, reads return what is there. */
static int set_raw(int fd)
{
    struct termios t;
    if (tcgetattr(fd, &t) != 0)
        return CL_ERR_IO;
    t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR |
                             IGNCR | ICRNL | IXON | IXOFF);
    t.c_oflag &= ~(tcflag_t)OPOST;
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
    t.c_cflag |= CS8 | CREAD | CLOCAL;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(fd, TCSANOW, &t) != 0)
        return CL_ERR_IO;
    return CL_OK;
}

/* Parse "HOST:PORT" (numeric IPv4) into sa. */
static int parse_tcp(const char *s, struct sockaddr_in *sa)
{
    char host[64];
    const char *colon = strrchr(s, ':');
    char *end = NULL;
    long port;
    size_t hl;

    if (colon == NULL)
        return CL_ERR_ARG;
    hl = (size_t)(colon - s);
    if (hl == 0 || hl >= sizeof(host))
        return CL_ERR_ARG;
    memcpy(host, s, hl);
    host[hl] = '\0';
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    if (errno != 0 || end == colon + 1 || *end != '\0' || port < 0 ||
        port > 65535)
        return CL_ERR_ARG;
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (strcmp(host, "localhost") == 0)
        sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return CL_ERR_ARG;
    return CL_OK;
}

static int parse_unix(const char *path, struct sockaddr_un *sa)
{
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(sa->sun_path) || n + 6 > CL_VLINE_NAME_MAX)
        return CL_ERR_ARG;
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    memcpy(sa->sun_path, path, n + 1);
    return CL_OK;
}

/* name = prefix + rest, cut to fit (callers check the lengths first). */
static void set_name(struct cl_vline *vl, const char *prefix, const char *rest)
{
    size_t a = strlen(prefix), b = strlen(rest);
    if (a >= sizeof(vl->name))
        a = sizeof(vl->name) - 1;
    if (b >= sizeof(vl->name) - a)
        b = sizeof(vl->name) - 1 - a;
    memcpy(vl->name, prefix, a);
    memcpy(vl->name + a, rest, b);
    vl->name[a + b] = '\0';
}

static void set_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    if (fl >= 0)
        (void)fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

static void tcp_nodelay(int fd)
{
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* see vline.h */
int cl_vline_listen(struct cl_vline *vl, const char *spec)
{
    int fd;

    if (vl == NULL || spec == NULL)
        return CL_ERR_ARG;
    if (is_open(vl))
        return CL_ERR_STATE;
    vl->rx_len = 0;

    if (strncmp(spec, "tcp:", 4) == 0) {
        struct sockaddr_in sa;
        socklen_t sl = sizeof(sa);
        int one = 1;
        int rc = parse_tcp(spec + 4, &sa);
        if (rc != CL_OK)
            return rc;
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
            return CL_ERR_IO;
        set_cloexec(fd);
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
            listen(fd, 1) != 0 ||
            getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
            close(fd);
            return CL_ERR_IO;
        }
        {
            char ip[INET_ADDRSTRLEN];
            if (inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof(ip)) == NULL) {
                close(fd);
                return CL_ERR_IO;
            }
            (void)snprintf(vl->name, sizeof(vl->name), "tcp:%s:%u", ip,
                           (unsigned)ntohs(sa.sin_port));
        }
        vl->listen_fd = fd;
        vl->kind = K_TCP;
        return CL_OK;
    }
    if (strncmp(spec, "unix:", 5) == 0) {
        struct sockaddr_un sa;
        int rc = parse_unix(spec + 5, &sa);
        if (rc != CL_OK)
            return rc;
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0)
            return CL_ERR_IO;
        set_cloexec(fd);
        (void)unlink(sa.sun_path);
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
            listen(fd, 1) != 0) {
            close(fd);
            return CL_ERR_IO;
        }
        set_name(vl, "unix:", sa.sun_path);
        vl->listen_fd = fd;
        vl->kind = K_UNIX;
        vl->unlink_path = true;
        return CL_OK;
    }
    if (strcmp(spec, "pty") == 0) {
        const char *sname;
        int sfd;
        fd = posix_openpt(O_RDWR | O_NOCTTY);
        if (fd < 0)
            return CL_ERR_IO;
        set_cloexec(fd);
        if (grantpt(fd) != 0 || unlockpt(fd) != 0 ||
            (sname = ptsname(fd)) == NULL ||
            strlen(sname) + 5 >= sizeof(vl->name)) {
            close(fd);
            return CL_ERR_IO;
        }
        set_name(vl, "pty:", sname);
        /* Keep one slave descriptor open: with no slave open, reads on the
         * master fail with EIO; and raw mode is a property of the slave. */
        sfd = open(sname, O_RDWR | O_NOCTTY);
        if (sfd < 0 || set_raw(sfd) != CL_OK) {
            if (sfd >= 0)
                close(sfd);
            close(fd);
            return CL_ERR_IO;
        }
        set_cloexec(sfd);
        vl->pty_slave_fd = sfd;
        vl->fd = fd;
        vl->kind = K_PTY;
        return CL_OK;
    }
    return CL_ERR_ARG;
}

/* see vline.h */
int cl_vline_accept(struct cl_vline *vl, int timeout_ms)
{
    struct pollfd p;
    int fd, rc;

    if (vl == NULL)
        return CL_ERR_ARG;
    if (vl->kind == K_PTY && vl->fd >= 0)
        return CL_OK;
    if (vl->listen_fd < 0)
        return CL_ERR_STATE;
    p.fd = vl->listen_fd;
    p.events = POLLIN;
    p.revents = 0;
    do {
        rc = poll(&p, 1, timeout_ms < 0 ? -1 : timeout_ms);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0)
        return CL_ERR_IO;
    if (rc == 0)
        return CL_ERR_TIMEOUT;
    fd = accept(vl->listen_fd, NULL, NULL);
    if (fd < 0)
        return errno == EAGAIN || errno == EINTR ? CL_ERR_TIMEOUT : CL_ERR_IO;
    set_cloexec(fd);
    if (vl->kind == K_TCP)
        tcp_nodelay(fd);
    if (vl->fd >= 0)
        close(vl->fd);
    vl->fd = fd;
    vl->rx_len = 0;
    return CL_OK;
}

/* see vline.h */
int cl_vline_connect(struct cl_vline *vl, const char *spec)
{
    int fd;

    if (vl == NULL || spec == NULL)
        return CL_ERR_ARG;
    if (is_open(vl))
        return CL_ERR_STATE;
    vl->rx_len = 0;
    if (strncmp(spec, "tcp:", 4) == 0) {
        struct sockaddr_in sa;
        int rc = parse_tcp(spec + 4, &sa);
        if (rc != CL_OK)
            return rc;
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
            return CL_ERR_IO;
        set_cloexec(fd);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
            close(fd);
            return CL_ERR_IO;
        }
        tcp_nodelay(fd);
        vl->kind = K_TCP;
    } else if (strncmp(spec, "unix:", 5) == 0) {
        struct sockaddr_un sa;
        int rc = parse_unix(spec + 5, &sa);
        if (rc != CL_OK)
            return rc;
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0)
            return CL_ERR_IO;
        set_cloexec(fd);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
            close(fd);
            return CL_ERR_IO;
        }
        vl->kind = K_UNIX;
    } else if (strncmp(spec, "pty:", 4) == 0 && spec[4] != '\0') {
        fd = open(spec + 4, O_RDWR | O_NOCTTY);
        if (fd < 0)
            return CL_ERR_IO;
        set_cloexec(fd);
        if (set_raw(fd) != CL_OK) {
            close(fd);
            return CL_ERR_IO;
        }
        vl->kind = K_PTY;
    } else {
        return CL_ERR_ARG;
    }
    set_name(vl, "", spec);
    vl->fd = fd;
    return CL_OK;
}

/* see vline.h */
int cl_vline_open_fd(struct cl_vline *vl, int fd)
{
    if (vl == NULL || fd < 0)
        return CL_ERR_ARG;
    if (is_open(vl))
        return CL_ERR_STATE;
    vl->fd = fd;
    vl->kind = K_FD;
    vl->rx_len = 0;
    (void)snprintf(vl->name, sizeof(vl->name), "fd:%d", fd);
    return CL_OK;
}

/* see vline.h */
void cl_vline_close(struct cl_vline *vl)
{
    if (vl == NULL)
        return;
    if (vl->fd >= 0)
        close(vl->fd);
    if (vl->listen_fd >= 0)
        close(vl->listen_fd);
    if (vl->pty_slave_fd >= 0)
        close(vl->pty_slave_fd);
    if (vl->unlink_path && strncmp(vl->name, "unix:", 5) == 0)
        (void)unlink(vl->name + 5);
    cl_vline_init(vl);
}

/* see vline.h */
int cl_vline_fd(const struct cl_vline *vl)
{
    return vl == NULL ? -1 : vl->fd;
}

/* see vline.h */
const char *cl_vline_name(const struct cl_vline *vl)
{
    return vl == NULL ? "" : vl->name;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w;
#ifdef MSG_NOSIGNAL
        w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == ENOTSOCK)
            w = write(fd, p, n);
#else
        w = write(fd, p, n);
#endif
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct pollfd pf = {fd, POLLOUT, 0};
                (void)poll(&pf, 1, 100);
                continue;
            }
            return errno == EPIPE || errno == ECONNRESET || errno == EIO
                       ? CL_ERR_CLOSED
                       : CL_ERR_IO;
        }
        p += (size_t)w;
        n -= (size_t)w;
    }
    return CL_OK;
}

/* see vline.h */
int cl_vline_send(struct cl_vline *vl, uint8_t type, const uint8_t *payload,
                  size_t len)
{
    uint8_t frame[CL_VLINE_HDR + CL_VLINE_PAYLOAD_MAX];

    if (vl == NULL || (payload == NULL && len > 0) ||
        len > CL_VLINE_PAYLOAD_MAX)
        return CL_ERR_ARG;
    if (vl->fd < 0)
        return CL_ERR_STATE;
    frame[0] = type;
    frame[1] = (uint8_t)(len >> 8);
    frame[2] = (uint8_t)len;
    if (len > 0)
        memcpy(frame + CL_VLINE_HDR, payload, len);
    return write_all(vl->fd, frame, CL_VLINE_HDR + len);
}

/* see vline.h */
int cl_vline_send_data(struct cl_vline *vl, const uint8_t *bytes, size_t len)
{
    if (vl == NULL || (bytes == NULL && len > 0))
        return CL_ERR_ARG;
    while (len > 0) {
        size_t n = len < CL_VLINE_PAYLOAD_MAX ? len : CL_VLINE_PAYLOAD_MAX;
        int rc = cl_vline_send(vl, CL_VLINE_DATA, bytes, n);
        if (rc != CL_OK)
            return rc;
        bytes += n;
        len -= n;
    }
    return vl->fd < 0 ? CL_ERR_STATE : CL_OK;
}

/* see vline.h */
int cl_vline_send_clock(struct cl_vline *vl, uint16_t f, uint16_t d,
                        uint32_t clock_hz)
{
    uint8_t p[CL_VLINE_CLOCK_LEN];
    p[0] = (uint8_t)(f >> 8);
    p[1] = (uint8_t)f;
    p[2] = (uint8_t)(d >> 8);
    p[3] = (uint8_t)d;
    p[4] = (uint8_t)(clock_hz >> 24);
    p[5] = (uint8_t)(clock_hz >> 16);
    p[6] = (uint8_t)(clock_hz >> 8);
    p[7] = (uint8_t)clock_hz;
    return cl_vline_send(vl, CL_VLINE_CLOCK, p, sizeof(p));
}

/* see vline.h */
int cl_vline_clock_parse(const struct cl_vline_event *ev, uint16_t *f,
                         uint16_t *d, uint32_t *clock_hz)
{
    if (ev == NULL || f == NULL || d == NULL || clock_hz == NULL)
        return CL_ERR_ARG;
    if (ev->type != CL_VLINE_CLOCK || ev->len != CL_VLINE_CLOCK_LEN)
        return CL_ERR_MALFORMED;
    *f = (uint16_t)((unsigned)ev->data[0] << 8 | ev->data[1]);
    *d = (uint16_t)((unsigned)ev->data[2] << 8 | ev->data[3]);
    *clock_hz = (uint32_t)ev->data[4] << 24 | (uint32_t)ev->data[5] << 16 |
                (uint32_t)ev->data[6] << 8 | (uint32_t)ev->data[7];
    return CL_OK;
}

/* A complete frame at the start of rx: move it to ev. 1 when one was
 * taken, 0 when more bytes are needed, or an error. */
static int take_frame(struct cl_vline *vl, struct cl_vline_event *ev)
{
    size_t len;
    if (vl->rx_len < CL_VLINE_HDR)
        return 0;
    len = (size_t)vl->rx[1] << 8 | vl->rx[2];
    if (len > CL_VLINE_PAYLOAD_MAX) {
        vl->rx_len = 0;     /* out of step: what is buffered is lost */
        return CL_ERR_TOO_LONG;
    }
    if (vl->rx_len < CL_VLINE_HDR + len)
        return 0;
    ev->type = vl->rx[0];
    ev->len = (uint16_t)len;
    memcpy(ev->data, vl->rx + CL_VLINE_HDR, len);
    vl->rx_len -= CL_VLINE_HDR + len;
    memmove(vl->rx, vl->rx + CL_VLINE_HDR + len, vl->rx_len);
    return 1;
}

static long now_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* see vline.h */
int cl_vline_recv(struct cl_vline *vl, struct cl_vline_event *ev,
                  int timeout_ms)
{
    long deadline = 0;

    if (vl == NULL || ev == NULL)
        return CL_ERR_ARG;
    if (vl->fd < 0)
        return CL_ERR_STATE;
    if (timeout_ms > 0)
        deadline = now_ms() + timeout_ms;
    for (;;) {
        struct pollfd p;
        ssize_t r;
        int rc = take_frame(vl, ev);
        int wait;
        if (rc != 0)
            return rc < 0 ? rc : CL_OK;
        if (timeout_ms < 0) {
            wait = -1;
        } else if (timeout_ms == 0) {
            wait = 0;
        } else {
            long left = deadline - now_ms();
            wait = left > 0 ? (int)left : 0;
        }
        p.fd = vl->fd;
        p.events = POLLIN;
        p.revents = 0;
        rc = poll(&p, 1, wait);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            return CL_ERR_IO;
        }
        if (rc == 0)
            return CL_ERR_TIMEOUT;
        r = read(vl->fd, vl->rx + vl->rx_len, sizeof(vl->rx) - vl->rx_len);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return errno == EIO || errno == ECONNRESET ? CL_ERR_CLOSED
                                                       : CL_ERR_IO;
        }
        if (r == 0)
            return CL_ERR_CLOSED;
        vl->rx_len += (size_t)r;
    }
}

/* see vline.h */
const char *cl_vline_type_name(uint8_t type)
{
    switch (type) {
    case CL_VLINE_DATA: return "DATA";
    case CL_VLINE_COLD_RESET: return "COLD_RESET";
    case CL_VLINE_WARM_RESET: return "WARM_RESET";
    case CL_VLINE_POWER_OFF: return "POWER_OFF";
    case CL_VLINE_CARD_INSERTED: return "CARD_INSERTED";
    case CL_VLINE_CARD_REMOVED: return "CARD_REMOVED";
    case CL_VLINE_PARITY_ERROR: return "PARITY_ERROR";
    case CL_VLINE_CLOCK: return "CLOCK";
    default: return "?";
    }
}
