/*
 * cardlink POSIX port — a virtual card for vsmartcard's vpcd (see vpcd.h).
 * SPDX-License-Identifier: Apache-2.0
 */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE 1

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cardlink/error.h"
#include "vpcd.h"

/* vpcd control messages (one byte). */
#define VPCD_OFF 0x00u
#define VPCD_ON 0x01u
#define VPCD_RESET 0x02u
#define VPCD_ATR 0x04u

static void vlog(const struct cl_vpcd *v, const char *event, const uint8_t *b,
                 size_t n)
{
    if (v->log != NULL)
        v->log(v->ctx, event, b, n);
}

static bool stopped(volatile sig_atomic_t *stop)
{
    return stop != NULL && *stop != 0;
}

/* see vpcd.h */
int cl_vpcd_connect(const char *spec)
{
    char host[256];
    const char *colon = spec != NULL ? strrchr(spec, ':') : NULL;
    struct addrinfo hints, *res = NULL, *ai;
    size_t hl;
    int fd = -1;

    if (colon == NULL)
        return -1;
    hl = (size_t)(colon - spec);
    if (hl >= sizeof(host))
        return -1;
    memcpy(host, spec, hl);
    host[hl] = '\0';
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
        return -1;
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* Read exactly n bytes, waiting at most first_ms for the first one
 * (-1: for ever) and CL_VPCD_MSG_MS for each later one. Returns CL_OK,
 * CL_ERR_TIMEOUT (nothing came within first_ms), CL_ERR_CLOSED, CL_ERR_IO. */
static int vp_read(int fd, uint8_t *buf, size_t n, int first_ms,
                   volatile sig_atomic_t *stop)
{
    size_t got = 0;

    while (got < n) {
        struct pollfd pfd;
        ssize_t r;
        int pr;

        pfd.fd = fd;
        pfd.events = POLLIN;
        pfd.revents = 0;
        pr = poll(&pfd, 1, got == 0 ? first_ms : CL_VPCD_MSG_MS);
        if (pr < 0) {
            if (errno == EINTR) {
                if (stopped(stop))
                    return CL_ERR_CLOSED;
                continue;
            }
            return CL_ERR_IO;
        }
        if (pr == 0)
            return got == 0 ? CL_ERR_TIMEOUT : CL_ERR_IO;
        r = read(fd, buf + got, n - got);
        if (r == 0)
            return CL_ERR_CLOSED;
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return CL_ERR_IO;
        }
        got += (size_t)r;
    }
    return CL_OK;
}

/* Send a message: 2-byte length, then p[0..n); log it as event (NULL: not
 * at all). */
static int vp_send_as(struct cl_vpcd *v, const uint8_t *p, size_t n,
                      const char *event)
{
    size_t off = 0, total = n + 2;

    if (n > CL_VPCD_BUF_MAX)
        return CL_ERR_INTERNAL;
    v->msg[0] = (uint8_t)(n >> 8);
    v->msg[1] = (uint8_t)n;
    memmove(v->msg + 2, p, n);
    while (off < total) {
        ssize_t w = send(v->fd, v->msg + off, total - off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return CL_ERR_IO;
        }
        off += (size_t)w;
    }
    if (event != NULL)
        vlog(v, event, p, n);
    return CL_OK;
}

/* Send a response APDU. */
static int vp_send(struct cl_vpcd *v, const uint8_t *p, size_t n)
{
    return vp_send_as(v, p, n, "-> R-APDU");
}

/* The application's answer to cmd[0..len) in v->resp; 6F00 on its error. */
static size_t vp_process(struct cl_vpcd *v, const uint8_t *cmd, size_t len)
{
    size_t n = 0;
    int rc = v->process(v->ctx, cmd, len, v->resp, sizeof(v->resp), &n);

    if (rc != CL_OK || n < 2 || n > sizeof(v->resp)) {
        if (rc != CL_OK) {
            char t[96];

            snprintf(t, sizeof(t), "application error: %s",
                     cl_strerror(rc));
            vlog(v, t, NULL, 0);
        }
        v->resp[0] = 0x6Fu;
        v->resp[1] = 0x00u;
        n = 2;
    }
    return n;
}

/* T=0: a command APDU as a T=0 card behind an APDU-level reader answers
 * (the rules of lib/t0, cl_t0_apdu_card_*). */
static int vp_t0_apdu(struct cl_vpcd *v, const uint8_t *cmd, size_t len)
{
    size_t tl = 0, ol = 0, n;
    int rc = cl_t0_apdu_card_command(&v->kept, cmd, len, v->tpdu, &tl,
                                     v->out, &ol);

    if (rc < 0)
        return CL_ERR_INTERNAL;
    if (rc == 1)
        return vp_send(v, v->out, ol);
    n = tl > 0 ? vp_process(v, v->tpdu, tl) : vp_process(v, cmd, len);
    memcpy(v->kept_buf, v->resp, n);
    rc = cl_t0_apdu_card_response(&v->kept, v->kept_buf, n, v->out, &ol);
    if (rc < 0)
        return CL_ERR_INTERNAL;
    return rc == 1 ? vp_send(v, v->kept_buf, n) : vp_send(v, v->out, ol);
}

/* see vpcd.h */
int cl_vpcd_serve(struct cl_vpcd *v, int fd, volatile sig_atomic_t *stop,
                  int tick_ms)
{
    uint8_t lenb[2];

    if (v == NULL || v->process == NULL || fd < 0)
        return CL_ERR_ARG;
    v->fd = fd;
    cl_t0_apdu_card_reset(&v->kept);
    while (!stopped(stop)) {
        size_t n;
        int rc = vp_read(fd, lenb, 2, tick_ms, stop);

        if (rc == CL_ERR_TIMEOUT)
            continue;
        if (rc != CL_OK)
            return stopped(stop) ? CL_OK : rc;
        n = (size_t)lenb[0] << 8 | lenb[1];
        if (n > sizeof(v->cmd)) {
            char t[64];

            snprintf(t, sizeof(t), "vpcd message of %zu bytes: too long", n);
            vlog(v, t, NULL, 0);
            return CL_ERR_IO;
        }
        if (n == 0)
            continue;
        rc = vp_read(fd, v->cmd, n, CL_VPCD_MSG_MS, stop);
        if (rc != CL_OK)
            return rc == CL_ERR_TIMEOUT ? CL_ERR_IO : rc;
        if (n == 1) {
            switch (v->cmd[0]) {
            case VPCD_ATR:              /* also vpcd's presence poll */
                /* pcscd asks every few hundred milliseconds: an ATR, not
                 * a response APDU, and logged only when asked to. */
                rc = vp_send_as(v, v->atr, v->atr_len,
                                v->log_polls ? "<- GET ATR, -> ATR" : NULL);
                break;
            case VPCD_ON:
            case VPCD_RESET:
                vlog(v, v->cmd[0] == VPCD_ON ? "<- POWER ON" : "<- RESET",
                     NULL, 0);
                cl_t0_apdu_card_reset(&v->kept);
                if (v->reset != NULL)
                    v->reset(v->ctx);
                break;
            case VPCD_OFF:
                vlog(v, "<- POWER OFF", NULL, 0);
                cl_t0_apdu_card_reset(&v->kept);
                break;
            default: {
                char t[48];

                snprintf(t, sizeof(t), "<- control %02X: unknown, ignored",
                         v->cmd[0]);
                vlog(v, t, NULL, 0);
                break;
            }
            }
        } else {
            vlog(v, "<- C-APDU", v->cmd, n);
            if (v->t0)
                rc = vp_t0_apdu(v, v->cmd, n);
            else
                rc = vp_send(v, v->resp, vp_process(v, v->cmd, n));
        }
        if (rc != CL_OK)
            return rc;
    }
    return CL_OK;
}
