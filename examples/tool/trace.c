/*
 * cardlink-tool — the line trace of -vv (see trace.h).
 * SPDX-License-Identifier: Apache-2.0
 */
#include "trace.h"

#include <string.h>

#include "cardlink/atr.h"
#include "cardlink/edc.h"
#include "cardlink/error.h"
#include "cardlink/pps.h"
#include "cardlink/rate.h"

#include "tool.h"

enum { TR_IDLE, TR_ATR, TR_NEG, TR_PROTO };        /* phases */
enum { T0_HDR, T0_PROC, T0_SW2, T0_DATA };         /* T=0 states */

#define SHOW_MAX 24u   /* data bytes shown in full; more are counted */

static void hex(FILE *f, const uint8_t *b, size_t n)
{
    size_t i;

    for (i = 0; i < n && i < SHOW_MAX; i++)
        fprintf(f, "%s%02X", i ? " " : "", b[i]);
    if (n > SHOW_MAX)
        fprintf(f, " ... (%u bytes)", (unsigned)n);
}

/* Drop the first k bytes of the pending run. */
static void consume(struct trace *t, size_t k)
{
    memmove(t->buf, t->buf + k, t->n - k);
    t->n -= k;
}

/* ------------------------------------------------------------- ATR, PPS */

static void atr_unit(struct trace *t, size_t len)
{
    struct cl_atr a;
    unsigned warn = 0;
    int err = cl_atr_parse_lenient(&a, t->buf, len, &warn);
    size_t i;

    fprintf(t->out, "C> ATR ");
    for (i = 0; i < len; i++)
        fprintf(t->out, "%s%02X", i ? " " : "", t->buf[i]);
    fputc('\n', t->out);
    if (err != CL_OK) {
        fprintf(t->out, "   not an ATR: %s\n", cl_strerror(err));
        t->cause = "a bad ATR";
        t->phase = TR_IDLE;
        return;
    }
    t->crc = (a.p.flags & CL_ATR_F_CRC) != 0;
    t->proto = (a.p.flags & CL_ATR_F_SPECIFIC) ? a.p.specific_t : a.proto[0];
    fprintf(t->out, "   %s convention, T=", t->inverse ? "inverse" : "direct");
    for (i = 0; i < a.nproto; i++)
        fprintf(t->out, "%s%u", i ? "," : "", a.proto[i]);
    if (a.p.flags & CL_ATR_F_SPECIFIC)
        fprintf(t->out, ", specific mode T=%u", a.p.specific_t);
    fprintf(t->out, ", Fi=%u Di=%u", a.p.fi, a.p.di);
    if (a.p.flags & CL_ATR_F_TA1)
        fprintf(t->out, " (TA1 %02X)", a.p.ta1);
    if (a.p.n != 0)
        fprintf(t->out, ", N=%u", a.p.n);
    if (a.t_mask & 2u)
        fprintf(t->out, ", IFSC %u, BWI %u CWI %u, %s", a.p.ifsc, a.p.bwi, a.p.cwi,
                t->crc ? "CRC" : "LRC");
    if (a.t_mask & 1u || a.nproto == 0 || a.proto[0] == 0)
        fprintf(t->out, ", WI %u", a.p.wi);
    if (warn & CL_ATR_W_TCK_WRONG) {
        fprintf(t->out, ", TCK WRONG");
        t->cause = "an ATR with a wrong TCK";
    }
    else if (warn & CL_ATR_W_TCK_MISSING)
        fprintf(t->out, ", TCK missing");
    else if (a.p.flags & CL_ATR_F_TCK)
        fprintf(t->out, ", TCK ok");
    fprintf(t->out, ", %u historical bytes\n", a.hist_len);
    t->phase = TR_NEG;
}

static void pps_unit(struct trace *t, size_t len)
{
    const uint8_t *b = t->buf;
    uint8_t pck = 0;
    size_t i, k = 2;

    for (i = 0; i < len; i++)
        pck ^= b[i];
    fprintf(t->out, "%c> PPS ", t->dir);
    for (i = 0; i < len; i++)
        fprintf(t->out, "%s%02X", i ? " " : "", b[i]);
    fprintf(t->out, ": T=%u", b[1] & 0x0Fu);
    if (b[1] & 0x10u) {
        fprintf(t->out, ", PPS1 %02X Fi=%u Di=%u", b[k], cl_rate_fi((uint8_t)(b[k] >> 4)),
                cl_rate_di(b[k] & 0x0Fu));
        k++;
    }
    if (b[1] & 0x20u)
        fprintf(t->out, ", PPS2 %02X", b[k++]);
    if (b[1] & 0x40u)
        fprintf(t->out, ", PPS3 %02X", b[k++]);
    fprintf(t->out, ", PCK %s", pck == 0 ? "ok" : "WRONG");
    if (t->dir == 'R') {
        memcpy(t->pps_req, b, len);
        t->pps_req_len = len;
        t->proto = b[1] & 0x0F;
    } else if (len == t->pps_req_len && memcmp(b, t->pps_req, len) == 0) {
        fprintf(t->out, ": accepted");
    } else if (!(b[1] & 0x10u) && pck == 0) {
        fprintf(t->out, ": default rate");
    } else {
        fprintf(t->out, ": not the request");
        t->cause = "a wrong PPS response";
    }
    fputc('\n', t->out);
}

/* ------------------------------------------------------------------ T=1 */

static void t1_unit(struct trace *t, size_t len)
{
    const uint8_t *b = t->buf;
    uint8_t pcb = b[1];
    size_t inf = b[2];
    bool ok;

    fprintf(t->out, "%c> ", t->dir);
    if (!(pcb & 0x80u)) {
        fprintf(t->out, "I(%u%s)", (pcb >> 6) & 1u, (pcb & 0x20u) ? ",M" : "");
    } else if ((pcb & 0xC0u) == 0x80u) {
        static const char *const err[4] = {
            "error-free", "EDC/parity error", "other error", "error 3"
        };
        fprintf(t->out, "R(%u) %s", (pcb >> 4) & 1u, err[pcb & 3u]);
        if (pcb & 0x2Cu)
            fprintf(t->out, " (bad PCB %02X)", pcb);
    } else {
        static const char *const s[4] = { "RESYNCH", "IFS", "ABORT", "WTX" };
        unsigned kind = pcb & 0x1Fu;
        fprintf(t->out, "S(%s %s", kind < 4 ? s[kind] : "?",
                (pcb & 0x20u) ? "response" : "request");
        if (kind == 1 && inf == 1)
            fprintf(t->out, " %u", b[3]);
        else if (kind == 3 && inf == 1)
            fprintf(t->out, " 0x%02X", b[3]);
        fputc(')', t->out);
        if (kind > 3)
            fprintf(t->out, " (bad PCB %02X)", pcb);
    }
    fprintf(t->out, " NAD %02X", b[0]);
    if (!(pcb & 0x80u) || (inf != 0 && !((pcb & 0xC0u) == 0xC0u && inf == 1))) {
        fprintf(t->out, " LEN %u", (unsigned)inf);
        if (inf) {
            fputs(": ", t->out);
            hex(t->out, b + 3, inf);
        }
    }
    if (t->crc) {
        uint16_t c = cl_crc16_update(0xFFFFu, b, 3 + inf);
        ok = b[3 + inf] == (uint8_t)(c >> 8) && b[4 + inf] == (uint8_t)c;
        fprintf(t->out, ", CRC %s\n", ok ? "ok" : "WRONG");
    } else {
        ok = cl_lrc(b, 3 + inf) == b[3 + inf];
        fprintf(t->out, ", LRC %s\n", ok ? "ok" : "WRONG");
    }
    if (!ok)
        t->cause = "a block with a bad EDC";
    if ((pcb & 0xC0u) == 0x80u && (pcb & 3u))
        t->cause = "an R-block reporting an error";
    if ((pcb & 0xFFu) == 0xC0u)
        t->cause = "S(RESYNCH)";
    (void)len;
}

/* ------------------------------------------------------------------ T=0 */

/* One T=0 unit if complete; returns its length or 0 (need more). */
static size_t t0_unit(struct trace *t)
{
    const uint8_t *b = t->buf;
    uint8_t p;

    if (t->dir == 'R' && t->t0 != T0_DATA) {
        if (t->n < 5)
            return 0;
        fprintf(t->out, "R> header %02X %02X %02X %02X %02X", b[0], b[1], b[2], b[3], b[4]);
        if (apdu_name(b, 5)[0] != '\0')
            fprintf(t->out, " (%s)", apdu_name(b, 5));
        fputc('\n', t->out);
        t->ins = b[1];
        t->left = b[4];
        t->t0 = T0_PROC;
        return 5;
    }
    if (t->t0 == T0_DATA) {
        unsigned want = t->chunk;
        if (t->dir == 'C' && t->left == 0)      /* P3 = 0: 256 bytes to the reader */
            t->left = want = 256;
        if (want == 0 || want > t->left)
            want = t->left;
        if (t->n < want)
            return 0;
        fprintf(t->out, "%c> data, %u byte%s: ", t->dir, want, want == 1 ? "" : "s");
        hex(t->out, b, want);
        fputc('\n', t->out);
        t->left -= want;
        t->t0 = T0_PROC;
        return want;
    }
    if (t->t0 == T0_SW2) {
        char text[8];
        if (t->n < 2)
            return 0;
        snprintf(text, sizeof(text), "%02X%02X", b[0], b[1]);
        fprintf(t->out, "C> %02X %02X SW", b[0], b[1]);
        if (b[0] == 0x61)
            fprintf(t->out, ": %u bytes to GET RESPONSE", b[1] ? b[1] : 256u);
        else if (b[0] == 0x6C)
            fprintf(t->out, ": send again with Le %02X", b[1]);
        fputc('\n', t->out);
        t->t0 = T0_HDR;
        (void)text;
        return 2;
    }
    /* a procedure byte from the card */
    p = b[0];
    if (p == 0x60) {
        fprintf(t->out, "C> 60 NULL: more time\n");
    } else if (p == t->ins) {
        fprintf(t->out, "C> %02X ACK: all %u data bytes\n", p, t->left ? t->left : 256u);
        t->chunk = 0;
        t->t0 = T0_DATA;
    } else if ((p ^ t->ins) == 0xFFu) {
        fprintf(t->out, "C> %02X ACK: one data byte\n", p);
        t->chunk = 1;
        t->t0 = T0_DATA;
    } else if ((p & 0xF0u) == 0x60u || (p & 0xF0u) == 0x90u) {
        t->t0 = T0_SW2;
        return t0_unit(t);      /* SW1: wait for SW2 */
    } else {
        fprintf(t->out, "C> %02X not a procedure byte\n", p);
        t->cause = "a bad procedure byte";
    }
    return 1;
}

/* ---------------------------------------------------------------- units */

/* Print every complete unit at the head of the run. */
static void units(struct trace *t)
{
    while (t->n > 0) {
        size_t need;

        if (t->phase == TR_IDLE) {
            fprintf(t->out, "%c> ", t->dir);
            hex(t->out, t->buf, t->n);
            fputc('\n', t->out);
            t->n = 0;
            return;
        }
        if (t->phase == TR_ATR) {
            int r;
            if (t->dir != 'C') {
                t->phase = TR_IDLE;
                continue;
            }
            r = cl_atr_expected_len(t->buf, t->n);
            if (r < 0) {
                fprintf(t->out, "C> ");
                hex(t->out, t->buf, t->n);
                fprintf(t->out, " (not an ATR: %s)\n", cl_strerror(r));
                t->cause = "a bad ATR";
                t->n = 0;
                t->phase = TR_IDLE;
                return;
            }
            if ((size_t)r > t->n)
                return;
            atr_unit(t, (size_t)r);
            consume(t, (size_t)r);
            continue;
        }
        if (t->phase == TR_NEG && t->buf[0] == 0xFF) {
            if (t->n < 2 || t->n < (need = cl_pps_expected_len(t->buf[1])))
                return;
            pps_unit(t, need);
            consume(t, need);
            continue;
        }
        t->phase = TR_PROTO;
        if (t->proto == 1) {
            if (t->n < 3 || t->n < (need = 4u + t->buf[2] + (t->crc ? 1u : 0u)))
                return;
            t1_unit(t, need);
            consume(t, need);
        } else {
            need = t0_unit(t);
            if (need == 0)
                return;
            consume(t, need);
        }
    }
}

/* The run so far is over: print what is left of it, incomplete. */
void trace_flush(struct trace *t)
{
    if (t->n > 0) {
        fprintf(t->out, "%c> ", t->dir);
        hex(t->out, t->buf, t->n);
        fprintf(t->out, " (incomplete)\n");
        t->n = 0;
        if (t->phase == TR_PROTO && t->proto == 0 && t->t0 == T0_HDR)
            t->t0 = T0_HDR;
    }
    fflush(t->out);
}

static bool decode_inverse(const struct trace *t)
{
    return t->inverse && !((t->inner->caps.flags & CL_CARD_LINE_INVERSE_HW)
                           && t->have_params && t->params.inverse);
}

static void bytes(struct trace *t, char dir, const uint8_t *b, size_t n)
{
    size_t i;

    if (dir != t->dir)
        trace_flush(t);
    t->dir = dir;
    if (dir == 'C' && t->phase == TR_ATR && t->n == 0 && n > 0 && b[0] == 0x03)
        t->inverse = true;      /* TS of the inverse convention, undecoded */
    for (i = 0; i < n; i++) {
        if (t->n == sizeof(t->buf))
            trace_flush(t);
        t->buf[t->n++] = decode_inverse(t) ? cl_atr_inverse_byte(b[i]) : b[i];
    }
    units(t);
    fflush(t->out);
}

/* ------------------------------------------------------------ the line */

static int tr_send(void *ctx, const uint8_t *buf, size_t len)
{
    struct trace *t = ctx;
    int r;

    bytes(t, 'R', buf, len);
    if (t->inner->caps.flags & CL_CARD_LINE_ECHO)
        t->echo += len;
    r = t->inner->send(t->ictx, buf, len);
    if (r != CL_OK) {
        fprintf(t->out, "-- send: %s\n", cl_strerror(r));
        t->cause = cl_strerror(r);
    }
    return r;
}

static int tr_recv(void *ctx, uint8_t *buf, size_t size, uint32_t *timeout_us)
{
    struct trace *t = ctx;
    uint32_t asked = *timeout_us;
    int r = t->inner->recv(t->ictx, buf, size, timeout_us);
    size_t skip = 0;

    if (r > 0) {
        skip = t->echo < (size_t)r ? t->echo : (size_t)r;
        t->echo -= skip;
        bytes(t, 'C', buf + skip, (size_t)r - skip);
    } else if (r == 0 && asked == 0) {
        /* a poll: nothing waiting */
    } else if (r == 0) {
        trace_flush(t);
        if (asked == UINT32_MAX)
            fprintf(t->out, "-- no character\n");
        else
            fprintf(t->out, "-- timeout after %lu ms\n", (unsigned long)((asked + 999u) / 1000u));
        t->cause = "a time-out";
    } else if (r == CL_ERR_PARITY) {
        trace_flush(t);
        fprintf(t->out, "C> %02X parity error\n", buf[0]);
        t->cause = "a parity error";
    } else {
        trace_flush(t);
        fprintf(t->out, "-- receive: %s\n", cl_strerror(r));
        t->cause = cl_strerror(r);
    }
    fflush(t->out);
    return r;
}

static int tr_reset(void *ctx, bool warm)
{
    struct trace *t = ctx;

    if (t->phase == TR_ATR && t->n > 0 && t->cause == NULL)
        t->cause = "an incomplete ATR";
    trace_flush(t);
    fprintf(t->out, "-- %s reset (%s)\n", warm ? "warm" : "cold",
            t->resets == 0 ? "activation" : t->cause ? t->cause : "asked for");
    fflush(t->out);
    t->resets++;
    t->cause = NULL;
    t->phase = TR_ATR;
    t->inverse = false;
    t->dir = 0;
    t->echo = 0;
    t->pps_req_len = 0;
    t->proto = 0;
    t->t0 = T0_HDR;
    return t->inner->reset(t->ictx, warm);
}

static int tr_set_params(void *ctx, const struct cl_card_line_params *p)
{
    struct trace *t = ctx;

    if (!t->have_params || p->f != t->params.f || p->d != t->params.d
        || p->clock_khz != t->params.clock_khz || p->n != t->params.n
        || p->protocol != t->params.protocol) {
        fprintf(t->out, "-- line: F=%u D=%u, %lu kHz, N=%u, T=%u\n", p->f, p->d,
                (unsigned long)p->clock_khz, p->n, p->protocol);
        fflush(t->out);
    }
    if (p->protocol == 1 && t->phase != TR_ATR)
        t->proto = 1;
    t->params = *p;
    t->have_params = true;
    return t->inner->set_params(t->ictx, p);
}

static void tr_power_off(void *ctx)
{
    struct trace *t = ctx;

    trace_flush(t);
    fprintf(t->out, "-- power off\n");
    fflush(t->out);
    t->phase = TR_IDLE;
    t->inner->power_off(t->ictx);
}

static int tr_present(void *ctx)
{
    struct trace *t = ctx;

    return t->inner->present(t->ictx);
}

/* see trace.h */
void trace_init(struct trace *t, const struct cl_card_line *inner, void *ictx, FILE *out)
{
    memset(t, 0, sizeof(*t));
    t->inner = inner;
    t->ictx = ictx;
    t->out = out;
    t->line.send = tr_send;
    t->line.recv = tr_recv;
    t->line.reset = tr_reset;
    t->line.set_params = tr_set_params;
    t->line.power_off = tr_power_off;
    t->line.present = inner->present ? tr_present : NULL;
    t->line.caps = inner->caps;
}

/* see trace.h */
const struct cl_card_line *trace_line(struct trace *t)
{
    return &t->line;
}
