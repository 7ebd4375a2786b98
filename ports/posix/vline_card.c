/*
 * cardlink POSIX port — struct cl_card_line over the virtual card line.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include <time.h>

#include "vline_card.h"

#define NO_PARITY ((size_t)-1)

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* see vline_card.h */
void cl_vline_card_init(struct cl_vline_card *vc, struct cl_vline *vl)
{
    if (vc == NULL)
        return;
    memset(vc, 0, sizeof(*vc));
    vc->vl = vl;
    vc->present = true;
    vc->f = vc->card_f = 372;
    vc->d = vc->card_d = 1;
    vc->parity_at = NO_PARITY;
    vc->min_wait_us = CL_VLINE_CARD_MIN_WAIT_US;
}

static int map_err(int rv)
{
    if (rv == CL_ERR_CLOSED || rv == CL_ERR_STATE)
        return CL_ERR_CARD_REMOVED;     /* the simulator is gone */
    return rv == CL_OK ? CL_OK : CL_ERR_IO;
}

/*
 * Read one frame within timeout_ms (< 0 forever, 0 only what is there)
 * and act on it. CL_OK when a frame was handled, CL_ERR_TIMEOUT, or the
 * line's error mapped.
 */
static int pump(struct cl_vline_card *vc, int timeout_ms)
{
    struct cl_vline_event *ev = &vc->ev;
    int rv;

    if (vc->off > 0) {          /* keep the buffer compact */
        memmove(vc->buf, vc->buf + vc->off, vc->len - vc->off);
        vc->len -= vc->off;
        if (vc->parity_at != NO_PARITY)
            vc->parity_at -= vc->off;
        vc->off = 0;
    }
    if (sizeof(vc->buf) - vc->len < CL_VLINE_PAYLOAD_MAX)
        return CL_ERR_TIMEOUT;  /* full: let the caller drain it first */
    rv = cl_vline_recv(vc->vl, ev, timeout_ms);
    if (rv == CL_ERR_TIMEOUT)
        return rv;
    if (rv != CL_OK)
        return map_err(rv);
    switch (ev->type) {
    case CL_VLINE_DATA:
        memcpy(vc->buf + vc->len, ev->data, ev->len);
        vc->len += ev->len;
        break;
    case CL_VLINE_CARD_REMOVED:
        vc->present = false;
        break;
    case CL_VLINE_CARD_INSERTED:
        vc->present = true;
        break;
    case CL_VLINE_PARITY_ERROR:
        vc->parity_at = vc->len;    /* the next byte to arrive */
        break;
    default:
        break;                  /* CLOCK from the card, unknown types */
    }
    return CL_OK;
}

static int vc_send(void *ctx, const uint8_t *buf, size_t len)
{
    struct cl_vline_card *vc = ctx;

    int rv;

    if (!vc->present)
        return CL_ERR_CARD_REMOVED;
    if (vc->f != vc->card_f || vc->d != vc->card_d) {
        /* the rate changed (after a PPS): say so before using it */
        rv = cl_vline_send_clock(vc->vl, vc->f, vc->d,
                                 vc->clock_khz * 1000u);
        if (rv != CL_OK)
            return map_err(rv);
        vc->card_f = vc->f;
        vc->card_d = vc->d;
    }
    return map_err(cl_vline_send_data(vc->vl, buf, len));
}

static int vc_recv(void *ctx, uint8_t *buf, size_t size, uint32_t *timeout_us)
{
    struct cl_vline_card *vc = ctx;
    const bool forever = *timeout_us == UINT32_MAX;
    const uint64_t start = now_us();
    /* the wait the host gives: at least min_wait_us (vline_card.h) */
    const uint64_t wait = *timeout_us < vc->min_wait_us ? vc->min_wait_us : *timeout_us;
    uint64_t elapsed;
    int rv;

    for (;;) {
        if (!vc->present)
            return CL_ERR_CARD_REMOVED;
        if (vc->len > vc->off) {
            size_t n = vc->len - vc->off;

            if (vc->parity_at == vc->off) {
                vc->parity_at = NO_PARITY;
                buf[0] = vc->buf[vc->off++];
                if (vc->parity_report)
                    return CL_ERR_PARITY;
                n = 1;
            } else {
                if (vc->parity_at != NO_PARITY && vc->parity_at > vc->off &&
                    n > vc->parity_at - vc->off)
                    n = vc->parity_at - vc->off;  /* up to the bad byte */
                if (n > size)
                    n = size;
                memcpy(buf, vc->buf + vc->off, n);
                vc->off += n;
            }
            elapsed = now_us() - start;
            if (!forever)   /* in time, if only by the host's allowance */
                *timeout_us = elapsed >= *timeout_us
                                  ? (*timeout_us > 0 ? 1u : 0u) : *timeout_us - (uint32_t)elapsed;
            return (int)n;
        }
        elapsed = now_us() - start;
        if (!forever && elapsed >= wait) {
            *timeout_us = 0;
            return 0;
        }
        rv = pump(vc, forever ? -1 : (int)((wait - elapsed + 999u) / 1000u));
        if (rv != CL_OK && rv != CL_ERR_TIMEOUT)
            return rv;
    }
}

static int vc_reset(void *ctx, bool warm)
{
    struct cl_vline_card *vc = ctx;
    int rv;

    /* what arrived before RST rises is not the ATR */
    while (pump(vc, 0) == CL_OK) {
        vc->len = vc->off = 0;
    }
    vc->len = vc->off = 0;
    vc->parity_at = NO_PARITY;
    if (!vc->present)
        return CL_ERR_CARD_REMOVED;
    rv = cl_vline_send(vc->vl, warm ? CL_VLINE_WARM_RESET
                                    : CL_VLINE_COLD_RESET, NULL, 0);
    vc->card_f = 372;   /* the card starts every ATR at Fd, Dd */
    vc->card_d = 1;
    return map_err(rv);
}

static int vc_set_params(void *ctx, const struct cl_card_line_params *p)
{
    struct cl_vline_card *vc = ctx;

    /* the CLOCK frame goes out with the next characters sent */
    vc->parity_report = p->parity;
    vc->f = p->f;
    vc->d = p->d;
    vc->clock_khz = p->clock_khz;
    return CL_OK;
}

static void vc_power_off(void *ctx)
{
    struct cl_vline_card *vc = ctx;

    if (cl_vline_send(vc->vl, CL_VLINE_POWER_OFF, NULL, 0) != CL_OK)
        vc->present = false;
    vc->len = vc->off = 0;
    vc->parity_at = NO_PARITY;
}

static int vc_present(void *ctx)
{
    struct cl_vline_card *vc = ctx;
    int rv;

    while ((rv = pump(vc, 0)) == CL_OK)
        ;
    if (rv == CL_ERR_CARD_REMOVED)
        vc->present = false;
    else if (rv != CL_ERR_TIMEOUT)
        return rv;
    return vc->present ? 1 : 0;
}

static const struct cl_card_line vline_card_line = {
    vc_send, vc_recv, vc_reset, vc_set_params, vc_power_off, vc_present,
    { CL_VLINE_CARD_CLOCK_KHZ, 20000u, 0u, NULL, 0, true,
      CL_CARD_LINE_PARITY }
};

/* see vline_card.h */
const struct cl_card_line *cl_vline_card_line(void)
{
    return &vline_card_line;
}
