/*
 * cardlink fuzz target — the card session over a line whose card side is
 * the fuzz input: activation (ATR, PPS, T=1 IFS) and one or two transmits.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Input:
 *   byte 0   options: b0 prefer T=1, b1 no PPS, b2 echoing line, b3 line
 *            decodes inverse convention, b4 line limited to 9600 bit/s,
 *            b5 no warm retry, b6 IFSD 0 (no S(IFS)), b7 a second transmit
 *   byte 1   which command APDU to send (table below)
 *   then     what each receive call gets: a control byte c, then
 *              c == 0x00          a time-out
 *              c == 0xFF          a parity error on the next input byte
 *              c == 0xFE          the card is pulled (every later call)
 *              otherwise          (c & 0x3F) + 1 bytes from the input (fewer
 *                                 if the caller asks for fewer)
 *            and a time-out once the input is used up.
 * Checks (abort() on failure): an active session has protocol 0 or 1, an
 * ATR that parses again to the same bytes and a line rate from the tables;
 * a transmit never reports more bytes than the buffer, and when it closes
 * the session transmit answers CL_ERR_CLOSED afterwards; the line is never
 * asked to send 0 bytes or receive into 0 bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "cardlink/card.h"
#include "cardlink/error.h"
#include "cardlink/rate.h"

struct fline {
    const uint8_t *in;
    size_t len, pos;
    bool removed;
    unsigned calls;
    uint8_t echo[64];
    size_t echo_len;
    bool echo_on;
};

#define MAX_CALLS 5000u

static int fl_send(void *ctx, const uint8_t *buf, size_t len)
{
    struct fline *f = ctx;

    if (len == 0 || buf == NULL)
        abort();
    if (f->removed)
        return CL_ERR_CARD_REMOVED;
    if (f->echo_on) {
        if (len > sizeof(f->echo) - f->echo_len)
            abort();    /* the session reads the echo of each chunk */
        memcpy(f->echo + f->echo_len, buf, len);
        f->echo_len += len;
    }
    return CL_OK;
}

static int fl_recv(void *ctx, uint8_t *buf, size_t size, uint32_t *t)
{
    struct fline *f = ctx;
    uint8_t c;
    size_t n;

    if (size == 0 || buf == NULL || t == NULL)
        abort();
    if (f->echo_len > 0) {
        n = f->echo_len < size ? f->echo_len : size;
        memcpy(buf, f->echo, n);
        memmove(f->echo, f->echo + n, f->echo_len - n);
        f->echo_len -= n;
        return (int)n;
    }
    if (f->removed || ++f->calls > MAX_CALLS)
        return CL_ERR_CARD_REMOVED;
    if (f->pos >= f->len) {
        *t = 0;
        return 0;
    }
    c = f->in[f->pos++];
    if (c == 0x00) {
        *t = 0;
        return 0;
    }
    if (c == 0xFE) {
        f->removed = true;
        return CL_ERR_CARD_REMOVED;
    }
    if (c == 0xFF) {
        buf[0] = f->pos < f->len ? f->in[f->pos++] : 0;
        return CL_ERR_PARITY;
    }
    n = (size_t)(c & 0x3F) + 1;
    if (n > size)
        n = size;
    if (n > f->len - f->pos)
        n = f->len - f->pos;
    if (n == 0) {
        *t = 0;
        return 0;
    }
    memcpy(buf, f->in + f->pos, n);
    f->pos += n;
    *t /= 2;
    return (int)n;
}

static int fl_reset(void *ctx, bool warm)
{
    struct fline *f = ctx;

    (void)warm;
    f->echo_len = 0;
    return f->removed ? CL_ERR_CARD_REMOVED : CL_OK;
}

static int fl_set_params(void *ctx, const struct cl_card_line_params *p)
{
    (void)ctx;
    if (p == NULL || cl_rate_di_index(p->d) < 0 ||
        cl_rate_fi_index(p->f) < 0 || p->clock_khz == 0 || p->protocol > 1)
        abort();
    return CL_OK;
}

static void fl_power_off(void *ctx)
{
    struct fline *f = ctx;

    f->echo_len = 0;
}

static int fl_present(void *ctx)
{
    struct fline *f = ctx;

    return f->removed ? 0 : 1;
}

/* Command APDUs: every case, short and extended, and a long case 3. */
static const struct {
    size_t len;
    uint8_t b[8];
} cmds[] = {
    { 4, { 0x00, 0x70, 0x00, 0x00 } },                      /* case 1 */
    { 5, { 0x00, 0xB0, 0x00, 0x00, 0x04 } },                /* case 2S */
    { 5, { 0x00, 0xB0, 0x00, 0x00, 0x00 } },                /* case 2S 256 */
    { 7, { 0x00, 0xD6, 0x00, 0x00, 0x02, 0xAA, 0xBB } },    /* case 3S */
    { 8, { 0x00, 0xA4, 0x04, 0x00, 0x02, 0x3F, 0x00, 0x00 } }, /* case 4S */
    { 7, { 0x00, 0xB0, 0x00, 0x00, 0x00, 0x01, 0x2C } },    /* case 2E */
    { 0, { 0 } },                                           /* long 3S */
    { 1, { 0 } },                                           /* long 3E */
};

static size_t make_cmd(unsigned which, uint8_t *out, size_t size)
{
    const size_t k = which % (sizeof(cmds) / sizeof(cmds[0]));

    if (cmds[k].len > 1) {
        memcpy(out, cmds[k].b, cmds[k].len);
        return cmds[k].len;
    }
    if (cmds[k].len == 0) {     /* case 3S with 255 bytes */
        memset(out, 0x5A, 260);
        out[0] = 0x00; out[1] = 0xD6; out[2] = 0x00; out[3] = 0x00;
        out[4] = 0xFF;
        return 260;
    }
    if (size < 7 + 300)
        abort();
    memset(out, 0xA5, 7 + 300);   /* case 3E with 300 bytes */
    out[0] = 0x00; out[1] = 0xD6; out[2] = 0x00; out[3] = 0x00;
    out[4] = 0x00; out[5] = 0x01; out[6] = 0x2C;
    return 7 + 300;
}

static void check_active(const struct cl_card *card)
{
    const struct cl_atr *atr = cl_card_atr(card);
    const struct cl_card_line_params *p = cl_card_params(card);
    struct cl_atr again;
    int proto = cl_card_protocol(card);

    if (atr == NULL || (proto != 0 && proto != 1) || p == NULL)
        abort();
    unsigned warn = 0;

    /* a sloppy ATR is taken the lenient way, with its warnings recorded,
     * and only with the warnings a line session accepts */
    if (cl_card_info(card)->atr_warnings != 0) {
        if (cl_atr_parse_lenient(&again, atr->raw, atr->len, &warn) != CL_OK ||
            warn != cl_card_info(card)->atr_warnings ||
            (warn & ~(unsigned)(CL_ATR_W_TCK_MISSING | CL_ATR_W_HIST_SHORT)))
            abort();
    } else if (cl_atr_parse(&again, atr->raw, atr->len) != CL_OK) {
        abort();
    }
    if (again.len != atr->len || memcmp(again.raw, atr->raw, atr->len) != 0)
        abort();
    if (cl_rate_di_index(p->d) < 0 || cl_rate_fi_index(p->f) < 0 ||
        p->protocol != proto || !p->parity)
        abort();
}

static void one_transmit(struct cl_card *card, unsigned which)
{
    static uint8_t cmd[7 + 300], resp[300];
    size_t n = make_cmd(which, cmd, sizeof(cmd)), rl = 12345;
    int rv = cl_card_transmit(card, cmd, n, resp, sizeof(resp), &rl);

    if (rv == CL_OK) {
        if (rl > sizeof(resp))
            abort();
        if (cl_card_state(card) != CL_CARD_ACTIVE)
            abort();
        return;
    }
    if (rv > 0 || rl != 0)
        abort();
    if (cl_card_state(card) == CL_CARD_CLOSED &&
        cl_card_transmit(card, cmd, n, resp, sizeof(resp), &rl) !=
            CL_ERR_CLOSED)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cl_card_line line;
    struct cl_card_config cfg;
    struct cl_card card;
    struct fline f;
    uint8_t opt, which;
    int rv;

    if (size < 2)
        return 0;
    opt = data[0];
    which = data[1];
    memset(&f, 0, sizeof(f));
    f.in = data + 2;
    f.len = size - 2;
    f.echo_on = (opt & 0x04) != 0;

    memset(&line, 0, sizeof(line));
    line.send = fl_send;
    line.recv = fl_recv;
    line.reset = fl_reset;
    line.set_params = fl_set_params;
    line.power_off = fl_power_off;
    line.present = fl_present;
    line.caps.clock_khz = 3571;
    line.caps.max_clock_khz = 5000;
    line.caps.max_baud = (opt & 0x10) ? 9600u : 0u;
    line.caps.any_fd = true;
    line.caps.flags = CL_CARD_LINE_PARITY |
                      ((opt & 0x04) ? CL_CARD_LINE_ECHO : 0u) |
                      ((opt & 0x08) ? CL_CARD_LINE_INVERSE_HW : 0u);

    cl_card_config_default(&cfg);
    if (opt & 0x01)
        cfg.protocol = 1;
    if (opt & 0x02)
        cfg.pps = false;
    if (opt & 0x20)
        cfg.warm_retry = false;
    if (opt & 0x40)
        cfg.ifsd = 0;
    cl_card_init_line(&card, &line, &f, &cfg);

    rv = cl_card_activate(&card);
    if (rv != CL_OK) {
        if (rv > 0 || cl_card_state(&card) != CL_CARD_CLOSED ||
            cl_card_atr(&card) != NULL)
            abort();
        return 0;
    }
    check_active(&card);
    one_transmit(&card, which);
    if ((opt & 0x80) && cl_card_state(&card) == CL_CARD_ACTIVE)
        one_transmit(&card, which >> 3);
    cl_card_deactivate(&card);
    if (cl_card_state(&card) != CL_CARD_CLOSED)
        abort();
    return 0;
}
