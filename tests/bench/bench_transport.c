/*
 * cardlink — instructions and line bytes per APDU of the T=0 and T=1 reader
 * engines (issue 4 targets).
 * SPDX-License-Identifier: Apache-2.0
 *
 * Each case first runs two APDUs between the reader engine and the card
 * engine in-process and records what the card sends in each of its turns
 * (two, so that both parities of the T=1 sequence numbers are covered).
 * The measured loop then drives the reader engine alone as a card session
 * (lib/card/card_io.c) does: T=1 want, pullv and one sent per block (T=0
 * want/pull/sent), timer and feed of a whole turn at once,
 * replaying the recorded card bytes: callgrind counts only the reader's
 * cl_t0_* / cl_t1_* calls; the card's work happened during set-up and
 * cancels out between the N and 2N runs.
 *
 * The protocol minimum, computed from the APDU sizes in the same run:
 *   T=1: blocks * (3 + EDC) + APDU bytes, where blocks are the I-blocks of
 *        each direction cut at IFS 254 plus the R-blocks chaining needs;
 *   T=0: per TPDU header 5 + one ACK + data + SW1 SW2, where the TPDUs are
 *        the command (or its ENVELOPE pieces of 255) and the GET RESPONSEs
 *        of 256 bytes that the response needs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "cardlink/error.h"
#include "cardlink/t0.h"
#include "cardlink/t1.h"

#define MAXTURN 32
#define BUF 1100

struct turn {
    uint16_t len;
    uint8_t b[300];
};

struct rec {
    struct turn t[MAXTURN];
    unsigned n;
};

struct bcase {
    uint8_t proto, edc;
    size_t in, out;             /* command data, response data */
    /* filled by prepare() */
    uint8_t cmd[BUF], resp_ref[BUF];
    size_t cmd_len, resp_len;
    struct rec rec[2];
    size_t line_bytes;          /* per APDU, both directions */
};

static const struct { uint8_t proto, edc; size_t in, out; } sizes[7] = {
    { 1, CL_T1_EDC_LRC, 16, 16 }, { 1, CL_T1_EDC_LRC, 255, 256 },
    { 1, CL_T1_EDC_CRC, 255, 256 }, { 1, CL_T1_EDC_LRC, 1024, 1024 },
    { 0, 0, 16, 16 }, { 0, 0, 255, 256 }, { 0, 0, 1024, 1024 },
};
static struct bcase bc[7];

/* Case 4 command APDU: short when it fits, else extended. */
static size_t make_cmd(uint8_t *c, size_t in, size_t out)
{
    size_t n = 0, i;

    c[n++] = 0x00;
    c[n++] = 0x2A;
    c[n++] = 0x80;
    c[n++] = 0x86;
    if (in <= 255 && out <= 256) {
        c[n++] = (uint8_t)in;
        for (i = 0; i < in; i++)
            c[n++] = (uint8_t)(i * 7 + 1);
        c[n++] = (uint8_t)out;
    } else {
        c[n++] = 0;
        c[n++] = (uint8_t)(in >> 8);
        c[n++] = (uint8_t)in;
        for (i = 0; i < in; i++)
            c[n++] = (uint8_t)(i * 7 + 1);
        c[n++] = (uint8_t)(out >> 8);
        c[n++] = (uint8_t)out;
    }
    return n;
}

static size_t make_resp(uint8_t *r, size_t out)
{
    size_t i;

    for (i = 0; i < out; i++)
        r[i] = (uint8_t)(i * 13 + 5);
    r[out] = 0x90;
    r[out + 1] = 0x00;
    return out + 2;
}

/* ---------------------------------------------------------------- T=1 */

static struct cl_t1_stats t1_stats_r, t1_stats_c;

static void t1_reader_setup(struct cl_t1 *t1, uint8_t edc, bool ifs)
{
    struct cl_t1_config cfg;

    cl_t1_config_default(&cfg, CL_T1_ROLE_READER);
    cfg.edc = edc;
    cfg.ifsc = 254;
    cfg.ifsd = 254;
    cfg.ifs_at_start = ifs;
    if (cl_t1_setup(t1, &cfg, &t1_stats_r) != CL_OK)
        abort();
}

/* Send what the engine wants into out (if not NULL); returns the count. */
static size_t t1_drain(struct cl_t1 *t1, uint8_t *out)
{
    size_t total = 0;

    while (cl_t1_want(t1) == CL_WANT_SEND) {
        struct cl_t1_piece pc[3];
        size_t k = cl_t1_pullv(t1, pc), i, n = 0;

        for (i = 0; i < k; i++) {
            if (out)
                memcpy(out + total + n, pc[i].buf, pc[i].len);
            n += pc[i].len;
        }
        total += n;
        if (cl_t1_sent(t1, n) != CL_OK)
            abort();
    }
    return total;
}

static void t1_feed_all(struct cl_t1 *t1, const uint8_t *b, size_t n)
{
    size_t off = 0;

    while (off < n && cl_t1_want(t1) == CL_WANT_RECV) {
        int c = cl_t1_feed(t1, b + off, n - off);

        if (c <= 0)
            abort();
        off += (size_t)c;
        (void)cl_t1_timer(t1);
    }
}

static void t1_record(struct bcase *c)
{
    static struct cl_t1 r, k;
    static uint8_t kbuf[BUF], resp[BUF];
    static uint8_t tmp[BUF];
    struct cl_t1_config cfg;
    unsigned a;
    size_t n;

    t1_reader_setup(&r, c->edc, true);
    cl_t1_config_default(&cfg, CL_T1_ROLE_CARD);
    cfg.edc = c->edc;
    cfg.ifsc = 254;
    if (cl_t1_setup(&k, &cfg, &t1_stats_c) != CL_OK ||
        cl_t1_card_listen(&k, kbuf, sizeof(kbuf)) != CL_OK)
        abort();
    /* S(IFS) at start */
    n = t1_drain(&r, tmp);
    t1_feed_all(&k, tmp, n);
    n = t1_drain(&k, tmp);
    t1_feed_all(&r, tmp, n);
    c->line_bytes = 0;
    for (a = 0; a < 2; a++) {
        struct rec *rc = &c->rec[a];

        rc->n = 0;
        if (cl_t1_transmit_start(&r, c->cmd, c->cmd_len, resp, sizeof(resp)) != CL_OK)
            abort();
        while (cl_t1_want(&r) != CL_WANT_DONE) {
            n = t1_drain(&r, tmp);
            if (a == 0)
                c->line_bytes += n;
            t1_feed_all(&k, tmp, n);
            if (cl_t1_want(&k) == CL_WANT_DONE) {
                if ((size_t)cl_t1_result(&k) != c->cmd_len ||
                    memcmp(kbuf, c->cmd, c->cmd_len) != 0 ||
                    cl_t1_card_respond(&k, c->resp_ref, c->resp_len) != CL_OK)
                    abort();
            }
            if (rc->n == MAXTURN)
                abort();
            n = t1_drain(&k, rc->t[rc->n].b);
            rc->t[rc->n++].len = (uint16_t)n;
            if (a == 0)
                c->line_bytes += n;
            t1_feed_all(&r, rc->t[rc->n - 1].b, n);
        }
        if ((size_t)cl_t1_result(&r) != c->resp_len ||
            memcmp(resp, c->resp_ref, c->resp_len) != 0)
            abort();
    }
}

static void t1_run(struct bcase *c, unsigned long iters)
{
    static struct cl_t1 r;
    static uint8_t resp[BUF];
    unsigned long i;

    t1_record(c);
    t1_reader_setup(&r, c->edc, true);
    {
        /* the start-up S(IFS) with a card engine, outside the loop */
        static struct cl_t1 k;
        static uint8_t kbuf[8], tmp[16];
        struct cl_t1_config cfg;
        size_t n;

        cl_t1_config_default(&cfg, CL_T1_ROLE_CARD);
        cfg.edc = c->edc;
        cfg.ifsc = 254;
        if (cl_t1_setup(&k, &cfg, NULL) != CL_OK || cl_t1_card_listen(&k, kbuf, sizeof(kbuf)) != CL_OK)
            abort();
        n = t1_drain(&r, tmp);
        t1_feed_all(&k, tmp, n);
        n = t1_drain(&k, tmp);
        t1_feed_all(&r, tmp, n);
        if (cl_t1_want(&r) != CL_WANT_IDLE || cl_t1_ifsd(&r) != 254)
            abort();
    }
    for (i = 0; i < iters; i++) {
        const struct rec *rc = &c->rec[i & 1];
        unsigned t = 0;

        if (cl_t1_transmit_start(&r, c->cmd, c->cmd_len, resp, sizeof(resp)) != CL_OK)
            abort();
        for (;;) {
            enum cl_want w = cl_t1_want(&r);

            if (w == CL_WANT_SEND) {
                /* as lib/card/card_io.c: the rest of the block as one
                 * gather list, written, then acknowledged at once */
                struct cl_t1_piece pc[3];
                size_t k = cl_t1_pullv(&r, pc), j, n = 0;

                for (j = 0; j < k; j++)
                    n += pc[j].len;
                if (cl_t1_sent(&r, n) != CL_OK)
                    abort();
            } else if (w == CL_WANT_RECV) {
                /* as card_io.c: arm the timer, take what arrived, feed
                 * it while the engine still receives */
                const struct turn *tn = &rc->t[t];
                size_t off = 0;

                (void)cl_t1_timer(&r);
                if (t == rc->n)
                    abort();
                while (off < tn->len && cl_t1_want(&r) == CL_WANT_RECV) {
                    int got = cl_t1_feed(&r, tn->b + off, tn->len - off);

                    if (got <= 0)
                        abort();
                    off += (size_t)got;
                }
                t++;
            } else {
                break;
            }
        }
        if ((size_t)cl_t1_result(&r) != c->resp_len)
            abort();
    }
    cl_bench_sink(resp, c->resp_len);
}

/* ---------------------------------------------------------------- T=0 */

static size_t t0_drain(struct cl_t0 *t0, uint8_t *out)
{
    size_t total = 0;

    while (cl_t0_want(t0) == CL_T0_SEND) {
        const uint8_t *p;
        size_t n = cl_t0_pull(t0, &p);

        if (out)
            memcpy(out + total, p, n);
        total += n;
        if (cl_t0_sent(t0, n) != CL_OK)
            abort();
    }
    return total;
}

static void t0_feed_all(struct cl_t0 *t0, const uint8_t *b, size_t n)
{
    size_t off = 0;

    while (off < n && cl_t0_want(t0) == CL_T0_RECV) {
        int c = cl_t0_feed(t0, b + off, n - off);

        if (c <= 0)
            abort();
        off += (size_t)c;
        (void)cl_t0_timer(t0);
    }
    if (off != n)
        abort();
}

/* The card application: take ENVELOPE pieces (or the short command) and
 * answer the whole response once the command is complete. */
static void t0_card_app(struct cl_t0 *k, const struct bcase *c, uint8_t *kbuf,
                        size_t *got)
{
    for (;;) {
        int w = (int)cl_t0_want(k);

        if (w == CL_T0_HEADER) {
            if (cl_t0_card_receive(k) != CL_OK)
                abort();
        } else if (w == CL_T0_APDU) {
            int n = cl_t0_result(k);
            bool env = kbuf[1] == CL_T0_INS_ENVELOPE;

            if (n < 5)
                abort();
            *got += env ? (size_t)n - 5 : c->cmd_len;
            if (*got < c->cmd_len) {
                static const uint8_t ok[2] = { 0x90, 0x00 };

                if (cl_t0_card_respond(k, ok, 2) != CL_OK)
                    abort();
            } else if (cl_t0_card_respond(k, c->resp_ref, c->resp_len) != CL_OK) {
                abort();
            }
        } else {
            return;
        }
    }
}

static void t0_record(struct bcase *c)
{
    static struct cl_t0 r, k;
    static uint8_t kbuf[300], resp[BUF], tmp[BUF];
    struct cl_t0_config cfg;
    unsigned a;

    cl_t0_config_default(&cfg, CL_T0_ROLE_READER);
    if (cl_t0_setup(&r, &cfg) != CL_OK)
        abort();
    cl_t0_config_default(&cfg, CL_T0_ROLE_CARD);
    if (cl_t0_setup(&k, &cfg) != CL_OK || cl_t0_card_listen(&k, kbuf, sizeof(kbuf)) != CL_OK)
        abort();
    c->line_bytes = 0;
    for (a = 0; a < 2; a++) {
        struct rec *rc = &c->rec[a];
        size_t got = 0;

        rc->n = 0;
        if (cl_t0_transmit_start(&r, c->cmd, c->cmd_len, resp, sizeof(resp)) != CL_OK)
            abort();
        while (cl_t0_want(&r) != CL_T0_DONE) {
            size_t n;

            if (rc->n == MAXTURN)
                abort();
            /* reader sends until it waits; the card answers until it waits */
            n = t0_drain(&r, tmp);
            if (a == 0)
                c->line_bytes += n;
            {
                size_t off = 0;
                struct turn *t = &rc->t[rc->n++];

                t->len = 0;
                /* feed the card, collecting its answers (ACK, SW ...) */
                while (off < n || cl_t0_want(&k) == CL_T0_SEND ||
                       cl_t0_want(&k) == CL_T0_HEADER || cl_t0_want(&k) == CL_T0_APDU) {
                    t0_card_app(&k, c, kbuf, &got);
                    if (cl_t0_want(&k) == CL_T0_SEND) {
                        t->len = (uint16_t)(t->len + t0_drain(&k, t->b + t->len));
                        continue;
                    }
                    if (off >= n)
                        break;
                    {
                        int m = cl_t0_feed(&k, tmp + off, n - off);

                        if (m <= 0)
                            abort();
                        off += (size_t)m;
                    }
                }
                if (a == 0)
                    c->line_bytes += t->len;
                t0_feed_all(&r, t->b, t->len);
            }
        }
        if ((size_t)cl_t0_result(&r) != c->resp_len ||
            memcmp(resp, c->resp_ref, c->resp_len) != 0) {
            fprintf(stderr, "T=0 record: result %d, want %zu\n", cl_t0_result(&r), c->resp_len);
            abort();
        }
    }
}

static void t0_run(struct bcase *c, unsigned long iters)
{
    static struct cl_t0 r;
    static uint8_t resp[BUF];
    struct cl_t0_config cfg;
    unsigned long i;

    t0_record(c);
    cl_t0_config_default(&cfg, CL_T0_ROLE_READER);
    if (cl_t0_setup(&r, &cfg) != CL_OK)
        abort();
    for (i = 0; i < iters; i++) {
        const struct rec *rc = &c->rec[i & 1];
        unsigned t = 0;

        if (cl_t0_transmit_start(&r, c->cmd, c->cmd_len, resp, sizeof(resp)) != CL_OK)
            abort();
        for (;;) {
            enum cl_want w = cl_t0_want(&r);

            if (w == CL_T0_SEND) {
                const uint8_t *p;
                size_t n = cl_t0_pull(&r, &p);

                if (cl_t0_sent(&r, n) != CL_OK)
                    abort();
            } else if (w == CL_T0_RECV) {
                (void)cl_t0_timer(&r);
                if (t == rc->n)
                    abort();
                t0_feed_all(&r, rc->t[t].b, rc->t[t].len);
                t++;
            } else {
                break;
            }
        }
        if ((size_t)cl_t0_result(&r) != c->resp_len)
            abort();
    }
    cl_bench_sink(resp, c->resp_len);
}

/* ---------------------------------------------------------------- cases */

static size_t ceil_div(size_t a, size_t b)
{
    return (a + b - 1) / b;
}

static size_t minimum(const struct bcase *c)
{
    if (c->proto == 1) {
        size_t ic = ceil_div(c->cmd_len, 254), ir = ceil_div(c->resp_len, 254);
        size_t blocks = ic + ir + (ic - 1) + (ir - 1);

        return blocks * (3u + (c->edc == CL_T1_EDC_CRC ? 2u : 1u)) + c->cmd_len + c->resp_len;
    } else {
        bool ext = c->cmd_len > 261;
        size_t cmd_tpdus = ext ? ceil_div(c->cmd_len, 255) : 1;
        size_t cmd_data = ext ? c->cmd_len : c->in;
        size_t gr = ceil_div(c->out, 256);

        return (cmd_tpdus + gr) * 8u + cmd_data + c->out;
    }
}

static void prepare(struct bcase *c, size_t i)
{
    c->proto = sizes[i].proto;
    c->edc = sizes[i].edc;
    c->in = sizes[i].in;
    c->out = sizes[i].out;
    c->cmd_len = make_cmd(c->cmd, c->in, c->out);
    c->resp_len = make_resp(c->resp_ref, c->out);
    if (c->proto == 1)
        t1_record(c);
    else
        t0_record(c);
}

#define RUN(i) static void run##i(unsigned long n) { \
    if (bc[i].proto) t1_run(&bc[i], n); else t0_run(&bc[i], n); }
RUN(0) RUN(1) RUN(2) RUN(3) RUN(4) RUN(5) RUN(6)

#define T1C "cl_t1_*"
#define T0C "cl_t0_*"
static struct cl_bench_case cases[] = {
    { "t1_16", "T=1 LRC 16/16 (case 4)", T1C, run0, 400, "APDU", 0 },
    { "t1_16b", "T=1 LRC 16/16 per byte", T1C, run0, 0, "byte", 1 },
    { "t1_255", "T=1 LRC 255/256 chained", T1C, run1, 0, "APDU", 0 },
    { "t1_255b", "T=1 LRC 255/256 per byte", T1C, run1, 4, "byte", 2 },
    { "t1_255c", "T=1 CRC 255/256 chained", T1C, run2, 0, "APDU", 0 },
    { "t1_255cb", "T=1 CRC 255/256 per byte", T1C, run2, 6, "byte", 3 },
    { "t1_1k", "T=1 LRC 1024/1024 (ext.)", T1C, run3, 0, "APDU", 0 },
    { "t1_1kb", "T=1 LRC 1024/1024 per byte", T1C, run3, 4, "byte", 4 },
    { "t0_16", "T=0 16/16 (case 4, GET RESP.)", T0C, run4, 0, "APDU", 0 },
    { "t0_16b", "T=0 16/16 per byte", T0C, run4, 0, "byte", 5 },
    { "t0_255", "T=0 255/256", T0C, run5, 0, "APDU", 0 },
    { "t0_255b", "T=0 255/256 per byte", T0C, run5, 4, "byte", 6 },
    { "t0_1k", "T=0 1024/1024 (ENVELOPE)", T0C, run6, 0, "APDU", 0 },
    { "t0_1kb", "T=0 1024/1024 per byte", T0C, run6, 4, "byte", 7 },
};

int main(int argc, char **argv)
{
    size_t i;
    bool child = argc == 4;

    for (i = 0; i < sizeof(bc) / sizeof(bc[0]); i++)
        prepare(&bc[i], i);
    /* per-byte cases: `per` holds 1 + the bcase index until now */
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (cases[i].per)
            cases[i].per = bc[cases[i].per - 1].line_bytes;
    if (!child) {
        printf("%-36s %10s %10s\n", "bytes on the line per APDU", "engine", "minimum");
        for (i = 0; i < sizeof(bc) / sizeof(bc[0]); i++) {
            char name[64];

            snprintf(name, sizeof(name), "T=%u%s %zu/%zu", bc[i].proto,
                     bc[i].proto ? (bc[i].edc ? " CRC" : " LRC") : "", bc[i].in, bc[i].out);
            printf("%-36s %10zu %10zu%s\n", name, bc[i].line_bytes, minimum(&bc[i]),
                   bc[i].line_bytes == minimum(&bc[i]) ? "" : "  (above the minimum)");
        }
        printf("context: struct cl_t1 %zu bytes, struct cl_t0 %zu bytes (this host)\n",
               sizeof(struct cl_t1), sizeof(struct cl_t0));
    }
    return cl_bench_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
