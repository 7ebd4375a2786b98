/*
 * cardlink POSIX port — Phoenix / Smartmouse serial card reader over
 * libserialport (see serial.h).
 * SPDX-License-Identifier: Apache-2.0
 */
#if defined(CL_HAVE_LIBSERIALPORT) && CL_HAVE_LIBSERIALPORT

#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include <time.h>

#include <libserialport.h>

#include "cardlink/error.h"
#include "cardlink/rate.h"
#include "serial.h"

static void sleep_us(uint32_t us)
{
    struct timespec ts;

    ts.tv_sec = (time_t)(us / 1000000u);
    ts.tv_nsec = (long)(us % 1000000u) * 1000L;
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* see serial.h */
void cl_serial_config_default(struct cl_serial_config *cfg)
{
    if (cfg == NULL)
        return;
    memset(cfg, 0, sizeof(*cfg));
    cfg->clock_khz = 3571;
    cfg->max_baud = 115200;
    cfg->reset_line = CL_SERIAL_RESET_RTS;
    cfg->reset_active_high = true;
    cfg->echo = true;
    cfg->detect = CL_SERIAL_DETECT_NONE;
    cfg->warm_ms = 10;
    cfg->cold_ms = 100;
    cfg->min_wait_ms = 20;
}

/* Drive the card's RST: low (in reset) or high (running). */
static int set_rst(struct cl_serial *s, bool high)
{
    /* reset_active_high: asserting the control line pulls RST low */
    bool assert_line = s->cfg.reset_active_high ? !high : high;
    enum sp_return r;

    if (s->cfg.reset_line == CL_SERIAL_RESET_DTR)
        r = sp_set_dtr(s->port, assert_line ? SP_DTR_ON : SP_DTR_OFF);
    else
        r = sp_set_rts(s->port, assert_line ? SP_RTS_ON : SP_RTS_OFF);
    return r == SP_OK ? CL_OK : CL_ERR_IO;
}

static int ser_present(void *ctx)
{
    struct cl_serial *s = ctx;
    enum sp_signal sig;
    int bit;

    if (sp_get_signals(s->port, &sig) != SP_OK)
        return CL_ERR_IO;
    switch (s->cfg.detect) {
    case CL_SERIAL_DETECT_CTS: bit = (sig & SP_SIG_CTS) != 0; break;
    case CL_SERIAL_DETECT_DSR: bit = (sig & SP_SIG_DSR) != 0; break;
    case CL_SERIAL_DETECT_DCD: bit = (sig & SP_SIG_DCD) != 0; break;
    default: return 1;
    }
    return (bit != 0) != s->cfg.detect_inverted ? 1 : 0;
}

static int ser_send(void *ctx, const uint8_t *buf, size_t len)
{
    struct cl_serial *s = ctx;
    size_t step = (s->guard_n > 0 && s->guard_n < 255) ? 1 : len, off;

    for (off = 0; off < len; off += step) {
        size_t n = len - off < step ? len - off : step;

        if (sp_blocking_write(s->port, buf + off, n, 1000) != (int)n ||
            sp_drain(s->port) != SP_OK)
            return CL_ERR_IO;
        if (step == 1)
            sleep_us(cl_rate_etu_to_us(s->guard_n, s->etu_ns));
    }
    return CL_OK;
}

static int ser_recv(void *ctx, uint8_t *buf, size_t size, uint32_t *timeout_us)
{
    struct cl_serial *s = ctx;
    const bool forever = *timeout_us == UINT32_MAX;
    uint64_t start = now_us(), elapsed;
    unsigned ms;
    int r;

    if (s->cfg.detect != CL_SERIAL_DETECT_NONE && ser_present(s) == 0)
        return CL_ERR_CARD_REMOVED;
    /* libserialport: 0 ms means forever, so round a short wait up to 1 */
    ms = forever ? 0u : (unsigned)((*timeout_us + 999u) / 1000u);
    if (!forever && ms > 0 && ms < s->cfg.min_wait_ms)
        ms = s->cfg.min_wait_ms;   /* the adapter's batches (serial.h) */
    if (!forever && ms == 0)
        ms = 1;
    r = sp_blocking_read_next(s->port, buf, size, ms);
    if (r < 0)
        return CL_ERR_IO;
    elapsed = now_us() - start;
    if (!forever)
        *timeout_us = elapsed >= *timeout_us ? 0
                                             : *timeout_us - (uint32_t)elapsed;
    if (r == 0) {
        *timeout_us = 0;
        if (s->cfg.detect != CL_SERIAL_DETECT_NONE && ser_present(s) == 0)
            return CL_ERR_CARD_REMOVED;
    }
    return r;
}

static int ser_reset(void *ctx, bool warm)
{
    struct cl_serial *s = ctx;

    if (s->cfg.detect != CL_SERIAL_DETECT_NONE && ser_present(s) == 0)
        return CL_ERR_CARD_REMOVED;
    if (set_rst(s, false) != CL_OK)
        return CL_ERR_IO;
    sleep_us(1000u * (warm ? s->cfg.warm_ms : s->cfg.cold_ms));
    /* what arrived before RST rises is not the ATR */
    if (sp_flush(s->port, SP_BUF_BOTH) != SP_OK)
        return CL_ERR_IO;
    return set_rst(s, true);
}

static int ser_set_params(void *ctx, const struct cl_card_line_params *p)
{
    struct cl_serial *s = ctx;
    uint32_t baud = cl_rate_baud(p->clock_khz, p->f, p->d);

    /* max_baud 0: no limit (what it means in the line's caps too) */
    if (p->clock_khz != s->cfg.clock_khz || baud == 0 || baud > INT32_MAX ||
        (s->cfg.max_baud != 0 && baud > s->cfg.max_baud))
        return CL_ERR_UNSUPPORTED;
    if (sp_set_baudrate(s->port, (int)baud) != SP_OK)
        return CL_ERR_IO;
    if (!p->parity) {
        /* Before TS names the convention: a direct UART sees the parity
         * bit of TS as 1 in both conventions (3B has five ones; an inverse
         * 3F, sampled as 03, has its complemented even-parity bit), so
         * mark parity takes either TS without an error. */
        if (sp_set_parity(s->port, SP_PARITY_MARK) != SP_OK &&
            sp_set_parity(s->port, SP_PARITY_EVEN) != SP_OK)
            return CL_ERR_IO;
    } else if (sp_set_parity(s->port, p->inverse ? SP_PARITY_ODD
                                                 : SP_PARITY_EVEN) != SP_OK) {
        return CL_ERR_IO;
    }
    s->inverse = p->inverse;
    s->guard_n = p->n;
    s->etu_ns = cl_rate_etu_ns(p->clock_khz, p->f, p->d);
    return CL_OK;
}

static void ser_power_off(void *ctx)
{
    struct cl_serial *s = ctx;

    (void)set_rst(s, false);    /* no VCC switch on these readers */
}

/* see serial.h */
int cl_serial_open(struct cl_serial *s, const struct cl_serial_config *cfg)
{
    struct cl_card_line *l;

    if (s == NULL || cfg == NULL || cfg->port == NULL || cfg->clock_khz == 0)
        return CL_ERR_ARG;
    memset(s, 0, sizeof(*s));
    s->cfg = *cfg;
    s->cfg.port = NULL;
    if (sp_get_port_by_name(cfg->port, &s->port) != SP_OK)
        return CL_ERR_NOT_FOUND;
    if (sp_open(s->port, SP_MODE_READ_WRITE) != SP_OK) {
        sp_free_port(s->port);
        s->port = NULL;
        return CL_ERR_IO;
    }
    if (sp_set_bits(s->port, 8) != SP_OK ||
        sp_set_stopbits(s->port, 2) != SP_OK ||
        sp_set_flowcontrol(s->port, SP_FLOWCONTROL_NONE) != SP_OK ||
        sp_set_baudrate(s->port,
                        (int)cl_rate_baud(cfg->clock_khz, 372, 1)) != SP_OK ||
        sp_set_parity(s->port, SP_PARITY_EVEN) != SP_OK ||
        set_rst(s, false) != CL_OK) {
        cl_serial_close(s);
        return CL_ERR_IO;
    }
    s->etu_ns = cl_rate_etu_ns(cfg->clock_khz, 372, 1);
    l = &s->line;
    l->send = ser_send;
    l->recv = ser_recv;
    l->reset = ser_reset;
    l->set_params = ser_set_params;
    l->power_off = ser_power_off;
    l->present = cfg->detect != CL_SERIAL_DETECT_NONE ? ser_present : NULL;
    l->caps.clock_khz = cfg->clock_khz;
    l->caps.max_clock_khz = cfg->clock_khz;
    l->caps.max_baud = cfg->max_baud;
    l->caps.any_fd = true;
    l->caps.flags = cfg->echo ? CL_CARD_LINE_ECHO : 0u;
    return CL_OK;
}

/* see serial.h */
void cl_serial_close(struct cl_serial *s)
{
    if (s == NULL || s->port == NULL)
        return;
    (void)set_rst(s, false);
    sp_close(s->port);
    sp_free_port(s->port);
    memset(s, 0, sizeof(*s));
}

/* see serial.h */
const struct cl_card_line *cl_serial_line(const struct cl_serial *s)
{
    return s == NULL || s->port == NULL ? NULL : &s->line;
}

#else
/* Built without libserialport: nothing here (an ISO C translation unit
 * needs one declaration). */
typedef int cl_serial_not_built;
#endif
