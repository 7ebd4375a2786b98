/*
 * cardlink — the card session over a scripted in-process card line:
 * activation (direct and inverse convention, bad ATR and warm reset, mute
 * card), PPS (accepted, refused, unanswered, PPS1 left out), specific mode,
 * T=0 and T=1 transmission, card removal; exact bytes on the line.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <string.h>

#include "cardlink/card.h"
#include "cardlink/edc.h"
#include "cardlink/error.h"
#include "cardlink/rate.h"
#include "test_util.h"

/* ------------------------------------------------ the scripted line */

enum step_kind {
    S_END = 0,
    S_COLD,     /* expect a cold reset */
    S_WARM,     /* expect a warm reset */
    S_TX,       /* expect the reader to send these bytes */
    S_RX,       /* the card sends these bytes */
    S_TMO,      /* the next receive times out */
    S_PAR,      /* the next receive reports a parity error on this byte */
    S_REM,      /* the card is pulled: every call fails from here */
    S_OFF       /* expect deactivation */
};

struct step {
    uint8_t kind;
    const char *hex;    /* bytes in the direct (logical) convention */
};

#define COLD { S_COLD, NULL }
#define WARM { S_WARM, NULL }
/* The project's one line notation (issue 11): R bytes the Reader sends,
 * C bytes the Card sends. */
#define R(h) { S_TX, h }
#define C(h) { S_RX, h }
#define TMO { S_TMO, NULL }
#define PAR(h) { S_PAR, h }
#define REM { S_REM, NULL }
#define OFF { S_OFF, NULL }

/* scenario options */
#define O_ECHO   0x01u  /* the line echoes what it sends */
#define O_INV    0x02u  /* the card uses the inverse convention */
#define O_INVHW  0x04u  /* the line decodes inverse characters itself */
#define O_SLOW   0x08u  /* the line runs at most 9600 bit/s */
#define O_T1     0x10u  /* the session prefers T=1 */
#define O_NOPPS  0x20u  /* cfg.pps false */
#define O_ABSENT 0x40u  /* no card in the slot */
#define O_BADECHO 0x80u /* the echo comes back altered */
#define O_NOWARM 0x100u /* cfg.warm_retry false */
#define O_NOATRLIMIT 0x200u /* cfg.atr_total_etu 0 */
#define O_NOIFSD 0x400u /* cfg.ifsd 0: no S(IFS request) */
#define O_ECHO1  0x800u /* the echo comes back one character per receive */
#define O_ECHOPAR 0x1000u /* the echo of each send's first character comes
                             back as a parity error (the card signalled an
                             error on it) */
#define O_NOECHO 0x2000u /* the line says it echoes, but nothing comes back */
#define O_BADECHO1 0x4000u /* the echo of a one-character send is altered */

struct fake {
    const struct step *steps;
    size_t i, off;
    uint8_t cur[300];
    int cur_len;
    unsigned opts;
    bool present;
    bool removed;
    struct cl_card_line_params p;   /* last set_params */
    uint8_t sent_n;                 /* p.n when the last bytes were sent */
    unsigned nparams, offs;
    uint8_t echo[64];
    size_t echo_len;
    uint64_t waited_us;
    bool lenient;           /* deactivation accepted at any step */
    uint32_t delay_us;      /* each card chunk takes this long to arrive */
    unsigned calls;         /* line calls so far (send, recv, reset, set) */
    unsigned fail_at;       /* this call fails with fail_rc (0: none) */
    int fail_rc;
    bool overrun;           /* recv claims one byte more than asked */
    bool echo_par;          /* O_ECHOPAR: the next echo is a parity error */
    bool mute_end;          /* past the script the card hears nothing:
                               what the reader sends is dropped */
    uint32_t max_t;         /* the longest wait asked for */
};

/* The failure injection of test_flaky: call number fail_at fails. */
static bool inject(struct fake *f)
{
    return ++f->calls == f->fail_at;
}

static void load(struct fake *f)
{
    const struct step *s = &f->steps[f->i];

    f->off = 0;
    f->cur_len = 0;
    if (s->hex != NULL) {
        f->cur_len = cl_test_hex(s->hex, f->cur, sizeof(f->cur));
        ck_assert_msg(f->cur_len >= 0, "bad hex in script: %s", s->hex);
    }
}

static void advance(struct fake *f)
{
    f->i++;
    load(f);
}

static uint8_t kind(const struct fake *f)
{
    return f->steps[f->i].kind;
}

/* Whether bytes on the line are coded (inverse card, not decoded by the
 * line itself at this point). */
static bool coded(const struct fake *f)
{
    if (!(f->opts & O_INV))
        return false;
    return !((f->opts & O_INVHW) && f->p.inverse);
}

static int f_send(void *ctx, const uint8_t *buf, size_t len)
{
    struct fake *f = ctx;
    size_t k;

    ck_assert_uint_gt(len, 0);
    if (inject(f))
        return f->fail_rc;
    if (f->mute_end && kind(f) == S_END)
        return CL_OK;
    f->sent_n = f->p.n;
    if (f->removed)
        return CL_ERR_CARD_REMOVED;
    for (k = 0; k < len; k++) {
        uint8_t b = coded(f) ? cl_atr_inverse_byte(buf[k]) : buf[k];

        ck_assert_msg(kind(f) == S_TX,
                      "step %zu: reader sent %02X, script has kind %u",
                      f->i, b, kind(f));
        ck_assert_msg(f->cur[f->off] == b,
                      "step %zu byte %zu: reader sent %02X, expected %02X",
                      f->i, f->off, b, f->cur[f->off]);
        if ((f->opts & (O_ECHO | O_BADECHO | O_BADECHO1)) && !(f->opts & O_NOECHO)) {
            bool bad = (f->opts & O_BADECHO) || ((f->opts & O_BADECHO1) && len == 1);

            ck_assert_uint_lt(f->echo_len, sizeof(f->echo));
            f->echo[f->echo_len++] = (uint8_t)(buf[k] ^ (bad ? 0x01u : 0u));
            if (k == 0 && (f->opts & O_ECHOPAR))
                f->echo_par = true;
        }
        if (++f->off == (size_t)f->cur_len)
            advance(f);
    }
    return CL_OK;
}

static int f_recv(void *ctx, uint8_t *buf, size_t size, uint32_t *t)
{
    struct fake *f = ctx;
    size_t n = 0;

    ck_assert_uint_gt(size, 0);
    /* a reader wait is never "no limit" (issue 11: a large WTX, a slow
     * clock once were) */
    ck_assert_uint_ne(*t, UINT32_MAX);
    if (*t > f->max_t)
        f->max_t = *t;
    if (inject(f))
        return f->fail_rc;
    if (*t == 0 && f->echo_len == 0 && !f->removed && kind(f) != S_RX &&
        kind(f) != S_PAR && kind(f) != S_REM)
        return 0;   /* a look at the line (T=0): nothing pending */
    if (f->overrun)
        return (int)size + 1;
    if (f->echo_len > 0) {
        n = f->echo_len < size ? f->echo_len : size;
        if (f->opts & O_ECHO1)
            n = 1;
        memcpy(buf, f->echo, n);
        if (f->echo_par) {              /* the first character, garbled */
            f->echo_par = false;
            buf[0] ^= 0xFFu;
            memmove(f->echo, f->echo + 1, f->echo_len - 1);
            f->echo_len--;
            return CL_ERR_PARITY;
        }
        memmove(f->echo, f->echo + n, f->echo_len - n);
        f->echo_len -= n;
        return (int)n;
    }
    if (f->removed)
        return CL_ERR_CARD_REMOVED;
    switch (kind(f)) {
    case S_RX:
        if (f->delay_us > 0) {
            if (*t < f->delay_us) {     /* not in time */
                f->waited_us += *t;
                *t = 0;
                return 0;
            }
            *t -= f->delay_us;
        }
        while (n < size && f->off < (size_t)f->cur_len) {
            buf[n++] = coded(f) ? cl_atr_inverse_byte(f->cur[f->off])
                                : f->cur[f->off];
            f->off++;
        }
        if (f->off == (size_t)f->cur_len)
            advance(f);
        return (int)n;
    case S_PAR:
        buf[0] = coded(f) ? cl_atr_inverse_byte(f->cur[0]) : f->cur[0];
        advance(f);
        return CL_ERR_PARITY;
    case S_REM:
        f->removed = true;
        f->present = false;
        return CL_ERR_CARD_REMOVED;
    case S_TMO:
        advance(f);
        f->waited_us += *t;
        *t = 0;
        return 0;
    case S_END:
        f->waited_us += *t;
        *t = 0;
        return 0;
    default:
        ck_abort_msg("step %zu: reader receives, script has kind %u", f->i,
                     kind(f));
    }
    return CL_ERR_INTERNAL;
}

static int f_reset(void *ctx, bool warm)
{
    struct fake *f = ctx;

    if (inject(f))
        return f->fail_rc;
    if (f->removed)
        return CL_ERR_CARD_REMOVED;
    ck_assert_msg(kind(f) == (warm ? S_WARM : S_COLD),
                  "step %zu: %s reset, script has kind %u", f->i,
                  warm ? "warm" : "cold", kind(f));
    f->echo_len = 0;
    advance(f);
    return CL_OK;
}

static int f_set_params(void *ctx, const struct cl_card_line_params *p)
{
    struct fake *f = ctx;

    if (inject(f))
        return f->fail_rc;
    f->p = *p;
    f->nparams++;
    return CL_OK;
}

static void f_power_off(void *ctx)
{
    struct fake *f = ctx;

    f->offs++;
    if (kind(f) == S_OFF)
        advance(f);
    else
        ck_assert_msg(kind(f) == S_END || f->removed || f->lenient,
                      "step %zu: unexpected deactivation", f->i);
}

static int f_present(void *ctx)
{
    struct fake *f = ctx;

    return f->present ? 1 : 0;
}

static struct cl_card_line fake_line(unsigned opts)
{
    struct cl_card_line l;

    memset(&l, 0, sizeof(l));
    l.send = f_send;
    l.recv = f_recv;
    l.reset = f_reset;
    l.set_params = f_set_params;
    l.power_off = f_power_off;
    l.present = f_present;
    l.caps.clock_khz = 3571;
    l.caps.max_clock_khz = 3571;
    l.caps.max_baud = (opts & O_SLOW) ? 9600u : 115200u;
    l.caps.any_fd = true;
    l.caps.flags = CL_CARD_LINE_PARITY |
                   ((opts & (O_ECHO | O_BADECHO | O_BADECHO1 | O_NOECHO)) ? CL_CARD_LINE_ECHO
                                                                           : 0u) |
                   ((opts & O_INVHW) ? CL_CARD_LINE_INVERSE_HW : 0u);
    return l;
}

static void fake_init(struct fake *f, const struct step *steps, unsigned opts)
{
    memset(f, 0, sizeof(*f));
    f->steps = steps;
    f->opts = opts;
    f->present = (opts & O_ABSENT) == 0;
    load(f);
}

static void card_setup(struct cl_card *card, struct cl_card_line *line,
                       struct fake *f, unsigned opts)
{
    struct cl_card_config cfg;

    cl_card_config_default(&cfg);
    if (opts & O_T1)
        cfg.protocol = 1;
    if (opts & O_NOPPS)
        cfg.pps = false;
    if (opts & O_NOWARM)
        cfg.warm_retry = false;
    if (opts & O_NOATRLIMIT)
        cfg.atr_total_etu = 0;
    if (opts & O_NOIFSD)
        cfg.ifsd = 0;
    *line = fake_line(opts);
    cl_card_init_line(card, line, f, &cfg);
}

/* ----------------------------------------------------- the scenarios */

/* ATRs used below (direct convention):
 *  A_T0    3B 02 14 50            T=0 implied, 2 historical bytes
 *  A_TA1   3B 10 13               TA1 13: F 372, D 4 (38400 bit/s at 3.571 MHz)
 *  A_T1    3B 81 81 31 FE 45 4A C0  T=1, IFSC 254, BWI 4 CWI 5, TCK C0
 *  A_BOTH  3B 90 13 80 01 02      T=0 and T=1, TA1 13, TCK 02
 *  A_SPEC  3B 90 13 10 00         TA2 00: specific mode T=0 at TA1's rate
 *  A_IMPL  3B 90 13 10 10         TA2 10: specific, implicit factors
 */
#define A_T0 "3B 02 14 50"
#define A_TA1 "3B 10 13"
#define A_T1 "3B 81 81 31 FE 45 4A C0"
#define A_BOTH "3B 90 13 80 01 02"
#define A_SPEC "3B 90 13 10 00"
#define A_IMPL "3B 90 13 10 10"
/* T=1 S(IFS request) for IFSD 254 and the card's S(IFS response). */
#define IFS_REQ "00 C1 01 FE 3E"
#define IFS_RESP "00 E1 01 FE 1E"

struct scenario {
    const char *name;
    unsigned opts;
    struct step steps[20];
    int act_rc;             /* cl_card_activate() */
    uint8_t pps;            /* info.pps */
    uint8_t proto;
    uint8_t d;              /* final D */
    uint8_t warm;           /* warm resets */
    const char *cmd;        /* NULL: no transmit */
    int tx_rc;
    const char *resp;
};

static const struct scenario scenarios[] = {
    /* §8.1: direct convention, T=0 implied, no TA1: no PPS */
    { "activate_direct", 0,
      { COLD, C(A_T0) },
      CL_OK, CL_CARD_PPS_NONE, 0, 1, 0, NULL, 0, NULL },
    /* §8.1: TS = 3F inverse convention (03 on a direct UART); every later
     * character coded by the session, PPS included */
    { "activate_inverse_pps", O_INV,
      { COLD, C("3F 10 13"), R("FF 10 13 FC"), C("FF 10 13 FC") },
      CL_OK, CL_CARD_PPS_ACCEPTED, 0, 4, 0, NULL, 0, NULL },
    /* same with a line that decodes once told the convention */
    { "activate_inverse_hw", O_INV | O_INVHW,
      { COLD, C("3F 10 13"), R("FF 10 13 FC"), C("FF 10 13 FC") },
      CL_OK, CL_CARD_PPS_ACCEPTED, 0, 4, 0, NULL, 0, NULL },
    /* inverse card, T=0 case 1 coded both ways */
    { "inverse_t0_case1", O_INV,
      { COLD, C("3F 02 14 50"), R("00 70 00 00 00"), C("90 00") },
      CL_OK, CL_CARD_PPS_NONE, 0, 1, 0, "00 70 00 00", CL_OK, "90 00" },
    /* §9.3: the response echoes the request: F 372 D 4 */
    { "pps_accepted", 0,
      { COLD, C(A_TA1), R("FF 10 13 FC"), C("FF 10 13 FC") },
      CL_OK, CL_CARD_PPS_ACCEPTED, 0, 4, 0, NULL, 0, NULL },
    /* §9.3: PPS1 left out of the response: Fd/Dd, no reset */
    { "pps_pps1_absent", 0,
      { COLD, C(A_TA1), R("FF 10 13 FC"), C("FF 00 FF") },
      CL_OK, CL_CARD_PPS_DEFAULT, 0, 1, 0, NULL, 0, NULL },
    /* §9.3: another PPS1 is a refusal: deactivate, cold reset, default */
    { "pps_refused", 0,
      { COLD, C(A_TA1), R("FF 10 13 FC"), C("FF 10 11 FE"), OFF,
        COLD, C(A_TA1) },
      CL_OK, CL_CARD_PPS_FAILED, 0, 1, 0, NULL, 0, NULL },
    /* §9.3: bad PCK */
    { "pps_bad_pck", 0,
      { COLD, C(A_TA1), R("FF 10 13 FC"), C("FF 10 13 FD"), OFF,
        COLD, C(A_TA1) },
      CL_OK, CL_CARD_PPS_FAILED, 0, 1, 0, NULL, 0, NULL },
    /* PPSS missing */
    { "pps_not_ppss", 0,
      { COLD, C(A_TA1), R("FF 10 13 FC"), C("6F 00"), OFF,
        COLD, C(A_TA1) },
      CL_OK, CL_CARD_PPS_FAILED, 0, 1, 0, NULL, 0, NULL },
    /* §9.3: no answer within WT: deactivate, cold reset, default */
    { "pps_no_answer", 0,
      { COLD, C(A_TA1), R("FF 10 13 FC"), TMO, OFF, COLD, C(A_TA1) },
      CL_OK, CL_CARD_PPS_FAILED, 0, 1, 0, NULL, 0, NULL },
    /* answer cut short */
    { "pps_truncated", 0,
      { COLD, C(A_TA1), R("FF 10 13 FC"), C("FF 10"), TMO, OFF,
        COLD, C(A_TA1) },
      CL_OK, CL_CARD_PPS_FAILED, 0, 1, 0, NULL, 0, NULL },
    /* parity error inside the PPS response */
    { "pps_parity", 0,
      { COLD, C(A_TA1), R("FF 10 13 FC"), C("FF"), PAR("10"), OFF,
        COLD, C(A_TA1) },
      CL_OK, CL_CARD_PPS_FAILED, 0, 1, 0, NULL, 0, NULL },
    /* a line too slow for D 4: no PPS at all */
    { "pps_line_too_slow", O_SLOW,
      { COLD, C(A_TA1) },
      CL_OK, CL_CARD_PPS_NONE, 0, 1, 0, NULL, 0, NULL },
    /* cfg.pps false */
    { "pps_disabled", O_NOPPS,
      { COLD, C(A_TA1) },
      CL_OK, CL_CARD_PPS_NONE, 0, 1, 0, NULL, 0, NULL },
    /* T=0 and T=1 offered, T=1 preferred: PPS0 names T=1 */
    { "pps_prefer_t1", O_T1,
      { COLD, C(A_BOTH), R("FF 11 13 FD"), C("FF 11 13 FD"),
        R(IFS_REQ), C(IFS_RESP) },
      CL_OK, CL_CARD_PPS_ACCEPTED, 1, 4, 0, NULL, 0, NULL },
    /* T=0 and T=1 offered, no preference: the first, T=0 */
    { "pps_first_protocol", 0,
      { COLD, C(A_BOTH), R("FF 10 13 FC"), C("FF 10 13 FC") },
      CL_OK, CL_CARD_PPS_ACCEPTED, 0, 4, 0, NULL, 0, NULL },
    /* §6.3.1: specific mode, TA2 00: T=0 at TA1's D 4, no PPS */
    { "specific_mode", 0,
      { COLD, C(A_SPEC) },
      CL_OK, CL_CARD_PPS_NONE, 0, 4, 0, NULL, 0, NULL },
    /* TA2 b5: implicit factors: Fd/Dd here */
    { "specific_implicit", 0,
      { COLD, C(A_IMPL) },
      CL_OK, CL_CARD_PPS_NONE, 0, 1, 0, NULL, 0, NULL },
    /* specific mode the line cannot run, TA2 b8 0: warm reset, the card
     * comes back negotiable */
    { "specific_unsupported_warm", O_SLOW,
      { COLD, C(A_SPEC), WARM, C(A_TA1) },
      CL_OK, CL_CARD_PPS_NONE, 0, 1, 1, NULL, 0, NULL },
    /* TA2 80: cannot change mode */
    { "specific_unsupported_fixed", O_SLOW,
      { COLD, C("3B 90 13 10 80"), OFF },
      CL_ERR_UNSUPPORTED, 0, 0, 0, 0, NULL, 0, NULL },
    /* §6.2.2: nothing after RST */
    { "mute", 0,
      { COLD, TMO, OFF },
      CL_ERR_CARD_MUTE, 0, 0, 0, 0, NULL, 0, NULL },
    /* no card in the slot: no reset at all */
    { "absent", O_ABSENT,
      { { S_END, NULL } },
      CL_ERR_CARD_REMOVED, 0, 0, 0, 0, NULL, 0, NULL },
    /* bad TCK, then a warm reset gives a good ATR */
    { "bad_atr_warm", 0,
      { COLD, C("3B 81 81 31 FE 45 4A C1"), WARM, C(A_T1),
        R(IFS_REQ), C(IFS_RESP) },
      CL_OK, CL_CARD_PPS_NONE, 1, 1, 1, NULL, 0, NULL },
    /* inverse T=1 card, a parity error on the LEN byte of its answer: the
     * session decodes that character too (the block keeps its length), the
     * block is invalid, R(0) "EDC/parity error", the block again */
    { "inverse_t1_parity_len", O_INV,
      { COLD, C("3F 81 81 31 FE 45 4A C0"), R(IFS_REQ), C(IFS_RESP),
        R("00 00 04 00 70 00 00 74"), C("00 00"), PAR("02"), C("90 00 92"),
        R("00 81 00 81"), C("00 00 02 90 00 92") },
      CL_OK, CL_CARD_PPS_NONE, 1, 1, 0, "00 70 00 00", CL_OK, "90 00" },
    /* a parity error reported on TS: nothing was checked before TS, the
     * character is TS (§8.1) */
    { "ts_parity", 0,
      { COLD, PAR("3B"), C("02 14 50") },
      CL_OK, CL_CARD_PPS_NONE, 0, 1, 0, NULL, 0, NULL },
    /* inverse card, T=0 case 3 with 40 data bytes: coded in two chunks */
    { "inverse_t0_long", O_INV,
      { COLD, C("3F 02 14 50"), R("00 D6 00 00 28"), C("D6"),
        R("01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F 10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E 1F 20 21 22 23 24 25 26 27 28"), C("90 00") },
      CL_OK, CL_CARD_PPS_NONE, 0, 1, 0,
      "00 D6 00 00 28 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F 10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E 1F 20 21 22 23 24 25 26 27 28", CL_OK, "90 00" },
    /* bad TS twice */
    { "bad_ts_twice", 0,
      { COLD, C("3A"), WARM, C("3A"), OFF },
      CL_ERR_BAD_TS, 0, 0, 0, 1, NULL, 0, NULL },
    /* ATR cut short twice: the time-out inside the ATR */
    /* historical bytes cut short: taken as pcsc-lite takes them, with
     * CL_ATR_W_HIST_SHORT (issue 13) */
    { "atr_hist_short", 0,
      { COLD, C("3B 02 14"), TMO, R("00 70 00 00 00"), C("90 00") },
      CL_OK, 0, 0, 1, 0, "00 70 00 00", CL_OK, "90 00" },
    /* cut inside the interface bytes: bad, one warm reset */
    { "atr_truncated", 0,
      { COLD, C("3B 90 13"), TMO, WARM, C("3B 90"), TMO, OFF },
      CL_ERR_TIMEOUT, 0, 0, 0, 1, NULL, 0, NULL },
    /* parity error inside the ATR, without warm retry */
    { "atr_parity_nowarm", O_NOWARM,
      { COLD, C("3B 02"), PAR("14"), OFF },
      CL_ERR_PARITY, 0, 0, 0, 0, NULL, 0, NULL },
    /* mute after a warm reset */
    { "bad_then_mute", 0,
      { COLD, C("3B 81 81 31 FE 45 4A C1"), WARM, TMO, OFF },
      CL_ERR_CARD_MUTE, 0, 0, 0, 1, NULL, 0, NULL },
    /* card pulled during the ATR */
    { "removed_in_atr", 0,
      { COLD, C("3B 02"), REM },
      CL_ERR_CARD_REMOVED, 0, 0, 0, 0, NULL, 0, NULL },

    /* ---- T=0 transmission, ISO 7816-3 §12.2 */
    { "t0_case1", 0,
      { COLD, C(A_T0), R("00 70 00 00 00"), C("90 00") },
      CL_OK, CL_CARD_PPS_NONE, 0, 1, 0, "00 70 00 00", CL_OK, "90 00" },
    { "t0_case2", 0,
      { COLD, C(A_T0), R("00 B0 00 00 04"), C("B0 01 02 03 04 90 00") },
      CL_OK, CL_CARD_PPS_NONE, 0, 1, 0, "00 B0 00 00 04", CL_OK,
      "01 02 03 04 90 00" },
    { "t0_case3", 0,
      { COLD, C(A_T0), R("00 D6 00 00 02"), C("D6"), R("AA BB"),
        C("90 00") },
      CL_OK, CL_CARD_PPS_NONE, 0, 1, 0, "00 D6 00 00 02 AA BB", CL_OK,
      "90 00" },
    { "t0_case4_get_response", 0,
      { COLD, C(A_T0), R("00 A4 04 00 02"), C("A4"), R("3F 00"),
        C("61 03"), R("00 C0 00 00 03"), C("C0 11 22 33 90 00") },
      CL_OK, CL_CARD_PPS_NONE, 0, 1, 0, "00 A4 04 00 02 3F 00 00", CL_OK,
      "11 22 33 90 00" },
    /* NULL procedure byte then 6Cxx re-issue */
    { "t0_case2_null_6c", 0,
      { COLD, C(A_T0), R("00 B0 00 00 00"), C("60 6C 02"),
        R("00 B0 00 00 02"), C("B0 AB CD 90 00") },
      CL_OK, CL_CARD_PPS_NONE, 0, 1, 0, "00 B0 00 00 00", CL_OK,
      "AB CD 90 00" },
    /* a line with local echo (Phoenix) */
    { "t0_echo", O_ECHO,
      { COLD, C(A_TA1), R("FF 10 13 FC"), C("FF 10 13 FC"),
        R("00 70 00 00 00"), C("90 00") },
      CL_OK, CL_CARD_PPS_ACCEPTED, 0, 4, 0, "00 70 00 00", CL_OK, "90 00" },
    /* inverse card on an echoing line: the echo comes back coded */
    { "inverse_echo", O_INV | O_ECHO,
      { COLD, C("3F 10 13"), R("FF 10 13 FC"), C("FF 10 13 FC"),
        R("00 70 00 00 00"), C("90 00") },
      CL_OK, CL_CARD_PPS_ACCEPTED, 0, 4, 0, "00 70 00 00", CL_OK, "90 00" },
    /* echo differs from what was sent: the wire is broken */
    { "echo_mismatch", O_BADECHO,
      { COLD, C(A_TA1), R("FF 10 13 FC"), OFF },
      CL_ERR_IO, 0, 0, 0, 0, NULL, 0, NULL },
    /* the echo in pieces, one character per receive (USB serial adapters
     * hand bytes over in batches) */
    { "echo_split", O_ECHO | O_ECHO1,
      { COLD, C(A_TA1), R("FF 10 13 FC"), C("FF 10 13 FC"),
        R("00 70 00 00 00"), C("90 00") },
      CL_OK, CL_CARD_PPS_ACCEPTED, 0, 4, 0, "00 70 00 00", CL_OK, "90 00" },
    /* the echo of a character with a parity error (the card signalled an
     * error on it): taken as that character, the protocol recovers */
    { "echo_parity", O_ECHO | O_ECHOPAR,
      { COLD, C(A_TA1), R("FF 10 13 FC"), C("FF 10 13 FC"),
        R("00 70 00 00 00"), C("90 00") },
      CL_OK, CL_CARD_PPS_ACCEPTED, 0, 4, 0, "00 70 00 00", CL_OK, "90 00" },
    /* a line that says it echoes and does not: the wire is broken */
    { "echo_none", O_NOECHO,
      { COLD, C(A_TA1), R("FF 10 13 FC"), TMO, OFF },
      CL_ERR_IO, 0, 0, 0, 0, NULL, 0, NULL },
    /* the echo of a one-character send (T=0 data after ~INS) altered */
    { "echo_bad_one_byte", O_BADECHO1,
      { COLD, C(A_T0), R("00 D6 00 00 02"), C("29"), R("AA"), OFF },
      CL_OK, CL_CARD_PPS_NONE, 0, 1, 0, "00 D6 00 00 02 AA BB", CL_ERR_IO,
      NULL },
    /* WT expires: T=0 state unknown, deactivate (§10.2) */
    { "t0_timeout", 0,
      { COLD, C(A_T0), R("00 B0 00 00 04"), C("B0 01"), TMO, OFF },
      CL_OK, CL_CARD_PPS_NONE, 0, 1, 0, "00 B0 00 00 04", CL_ERR_TIMEOUT,
      NULL },
    /* invalid procedure byte */
    { "t0_bad_procedure", 0,
      { COLD, C(A_T0), R("00 70 00 00 00"), C("12"), OFF },
      CL_OK, CL_CARD_PPS_NONE, 0, 1, 0, "00 70 00 00", CL_ERR_PROTOCOL,
      NULL },
    /* a character after SW2: T=0 cannot trust the response (§10.2) */
    { "t0_extra_byte", 0,
      { COLD, C(A_T0), R("00 70 00 00 00"), C("90 00 12"), OFF },
      CL_OK, CL_CARD_PPS_NONE, 0, 1, 0, "00 70 00 00", CL_ERR_PROTOCOL,
      NULL },
    /* T=1 with a parity error reported in the card's block: R-block
     * asking for it again (§11.6.3.2), then the block */
    { "t1_parity_rblock", 0,
      { COLD, C(A_T1), R(IFS_REQ), C(IFS_RESP),
        R("00 00 05 00 B0 00 00 02 B7"), C("00 00 04 11"), PAR("22"),
        C("90 00 A7"), R("00 81 00 81"),
        C("00 00 04 11 22 90 00 A7") },
      CL_OK, CL_CARD_PPS_NONE, 1, 1, 0, "00 B0 00 00 02", CL_OK,
      "11 22 90 00" },
    /* T=1 BWT expires: R-block, then the response */
    { "t1_timeout_rblock", 0,
      { COLD, C(A_T1), R(IFS_REQ), C(IFS_RESP),
        R("00 00 05 00 B0 00 00 02 B7"), TMO, R("00 82 00 82"),
        C("00 00 04 11 22 90 00 A7") },
      CL_OK, CL_CARD_PPS_NONE, 1, 1, 0, "00 B0 00 00 02", CL_OK,
      "11 22 90 00" },
    /* card pulled mid-exchange */
    { "t0_removed", 0,
      { COLD, C(A_T0), R("00 B0 00 00 04"), C("B0 01"), REM },
      CL_OK, CL_CARD_PPS_NONE, 0, 1, 0, "00 B0 00 00 04",
      CL_ERR_CARD_REMOVED, NULL },

    /* ---- T=1, ISO 7816-3 §11: S(IFS request) first */
    { "t1_ifs_then_apdu", 0,
      { COLD, C(A_T1), R(IFS_REQ), C(IFS_RESP),
        R("00 00 05 00 B0 00 00 02 B7"), C("00 00 04 11 22 90 00 A7") },
      CL_OK, CL_CARD_PPS_NONE, 1, 1, 0, "00 B0 00 00 02", CL_OK,
      "11 22 90 00" },
    /* card pulled while the reader waits for the response block */
    { "t1_removed", 0,
      { COLD, C(A_T1), R(IFS_REQ), C(IFS_RESP),
        R("00 00 05 00 B0 00 00 02 B7"), C("00 00"), REM },
      CL_OK, CL_CARD_PPS_NONE, 1, 1, 0, "00 B0 00 00 02",
      CL_ERR_CARD_REMOVED, NULL },
    /* card pulled during the IFS exchange */
    { "t1_removed_in_ifs", 0,
      { COLD, C(A_T1), R(IFS_REQ), REM },
      CL_ERR_CARD_REMOVED, 0, 0, 0, 0, NULL, 0, NULL },
};

START_TEST(test_scenario)
{
    const struct scenario *sc = &scenarios[_i];
    struct fake f;
    struct cl_card card;
    struct cl_card_line line;
    uint8_t cmd[300], resp[300];
    size_t resp_len = 99;
    int rv, n;

    fake_init(&f, sc->steps, sc->opts);
    card_setup(&card, &line, &f, sc->opts);
    rv = cl_card_activate(&card);
    ck_assert_msg(rv == sc->act_rc, "%s: activate %d (%s), want %d", sc->name,
                  rv, cl_strerror(rv), sc->act_rc);
    if (rv == CL_OK) {
        ck_assert_uint_eq(cl_card_state(&card), CL_CARD_ACTIVE);
        ck_assert_int_eq(cl_card_protocol(&card), sc->proto);
        ck_assert_uint_eq(cl_card_info(&card)->pps, sc->pps);
        ck_assert_uint_eq(f.p.d, sc->d);
        ck_assert_uint_eq(f.p.f, 372);
        ck_assert_uint_eq(f.p.protocol, sc->proto);
        ck_assert(f.p.parity);
        ck_assert(f.p.inverse == ((sc->opts & O_INV) != 0));
        ck_assert_uint_eq(cl_card_params(&card)->d, sc->d);
        ck_assert_ptr_nonnull(cl_card_atr(&card));
    } else {
        ck_assert_uint_eq(cl_card_state(&card), CL_CARD_CLOSED);
        ck_assert_ptr_null(cl_card_atr(&card));
        ck_assert_int_eq(cl_card_protocol(&card), CL_ERR_CLOSED);
    }
    ck_assert_uint_eq(cl_card_info(&card)->warm_resets, sc->warm);
    if (sc->cmd != NULL) {
        n = cl_test_hex(sc->cmd, cmd, sizeof(cmd));
        ck_assert_int_gt(n, 0);
        rv = cl_card_transmit(&card, cmd, (size_t)n, resp, sizeof(resp),
                              &resp_len);
        ck_assert_msg(rv == sc->tx_rc, "%s: transmit %d (%s), want %d",
                      sc->name, rv, cl_strerror(rv), sc->tx_rc);
        if (rv == CL_OK) {
            cl_assert_bytes(resp, resp_len, sc->resp);
        } else {
            ck_assert_uint_eq(resp_len, 0);
            /* every failure here closes the session */
            ck_assert_uint_eq(cl_card_state(&card), CL_CARD_CLOSED);
            rv = cl_card_transmit(&card, cmd, (size_t)n, resp, sizeof(resp),
                                  &resp_len);
            ck_assert_int_eq(rv, CL_ERR_CLOSED);
        }
    }
    ck_assert_msg(f.steps[f.i].kind == S_END || f.removed,
                  "%s: script stopped at step %zu", sc->name, f.i);
    cl_card_deactivate(&card);
    ck_assert_uint_eq(cl_card_state(&card), CL_CARD_CLOSED);
}
END_TEST

/* §8.3: the extra guard time N of TC1 applies from the end of the ATR on,
 * to the PPS request too (N = 255 there means the 12-etu minimum, which is
 * what n = 255 means to a line under protocol 0). */
START_TEST(test_pps_guard_time)
{
    static const struct step steps[] = {
        COLD, C("3B 50 13 05"), R("FF 10 13 FC"), C("FF 10 13 FC"), { S_END, NULL }
    };
    struct fake f;
    struct cl_card card;
    struct cl_card_line line;

    fake_init(&f, steps, 0);
    card_setup(&card, &line, &f, 0);
    ck_assert_int_eq(cl_card_activate(&card), CL_OK);
    ck_assert_uint_eq(cl_card_info(&card)->pps, CL_CARD_PPS_ACCEPTED);
    ck_assert_uint_eq(f.sent_n, 5);         /* during the PPS request */
    ck_assert_uint_eq(f.p.n, 5);            /* and after it */
    ck_assert_uint_eq(f.p.d, 4);
    cl_card_deactivate(&card);
}
END_TEST

/* After a full activation and an exchange, deactivation powers off once and
 * a second activation starts from a cold reset again. */
START_TEST(test_deactivate_reactivate)
{
    static const struct step steps[] = {
        COLD, C(A_T0), OFF, COLD, C(A_T0), { S_END, NULL }
    };
    struct fake f;
    struct cl_card card;
    struct cl_card_line line;

    fake_init(&f, steps, 0);
    card_setup(&card, &line, &f, 0);
    ck_assert_int_eq(cl_card_activate(&card), CL_OK);
    ck_assert_int_eq(cl_card_activate(&card), CL_ERR_STATE);
    cl_card_deactivate(&card);
    ck_assert_uint_eq(f.offs, 1);
    cl_card_deactivate(&card);      /* closed: nothing */
    ck_assert_uint_eq(f.offs, 1);
    ck_assert_int_eq(cl_card_activate(&card), CL_OK);
    ck_assert_uint_eq(f.steps[f.i].kind, S_END);
    ck_assert_uint_eq(cl_card_info(&card)->cold_resets, 1);
}
END_TEST

/* The T=1 engine gets the ATR's parameters: IFSC 254 so a 254-byte command
 * goes in one block. */
START_TEST(test_t1_config_from_atr)
{
    struct cl_atr atr;
    struct cl_t1_config c;
    struct cl_card_line_params p;
    uint8_t buf[CL_ATR_MAX];
    int n = cl_test_hex("3B 81 81 31 FE 45 4A C0", buf, sizeof(buf));

    ck_assert_int_eq(cl_atr_parse(&atr, buf, (size_t)n), CL_OK);
    memset(&p, 0, sizeof(p));
    p.f = 372;
    p.d = 1;
    ck_assert_int_eq(cl_card_t1_config(&atr, &p, 254, &c), CL_OK);
    ck_assert_uint_eq(c.ifsc, 254);
    ck_assert_uint_eq(c.bwi, 4);
    ck_assert_uint_eq(c.cwi, 5);
    ck_assert_uint_eq(c.edc, CL_T1_EDC_LRC);
    ck_assert(c.ifs_at_start);
    ck_assert_int_eq(cl_card_t1_config(&atr, &p, 0, &c), CL_OK);
    ck_assert(!c.ifs_at_start);
    ck_assert_uint_eq(c.ifsd, 32);
    ck_assert_int_eq(cl_card_t1_config(&atr, &p, 255, &c), CL_ERR_ARG);
    ck_assert_int_eq(cl_card_t1_config(NULL, &p, 254, &c), CL_ERR_ARG);
    /* IFSC 0 is invalid: T=1 not usable */
    n = cl_test_hex("3B 80 81 11 00 10", buf, sizeof(buf));
    ck_assert_int_eq(cl_atr_parse(&atr, buf, (size_t)n), CL_OK);
    ck_assert_int_eq(cl_card_t1_config(&atr, &p, 254, &c),
                     CL_ERR_UNSUPPORTED);
}
END_TEST

/* cl_card_plan() as data: ATR, line limit, preference -> protocol, PPS
 * request bytes (or none) and the factors to run. */
static const struct {
    const char *atr;
    uint32_t max_baud;
    uint8_t prefer;
    bool allow_pps;
    int rc;
    uint8_t proto;
    const char *pps;    /* "" none */
    uint16_t f;
    uint8_t d;
} plans[] = {
    { A_T0, 0, CL_CARD_T_ANY, true, CL_OK, 0, "", 372, 1 },
    { A_TA1, 0, CL_CARD_T_ANY, true, CL_OK, 0, "FF 10 13 FC", 372, 4 },
    { A_TA1, 9600, CL_CARD_T_ANY, true, CL_OK, 0, "", 372, 1 },
    { A_TA1, 0, CL_CARD_T_ANY, false, CL_OK, 0, "", 372, 1 },
    /* TA1 96 (F 512, D 32) on a line limited to 115200: D 16 at 3.571 MHz
     * is 111600 bit/s */
    { "3B 10 96", 115200, CL_CARD_T_ANY, true, CL_OK, 0, "FF 10 95 7A",
      512, 16 },
    /* T=1 preferred but not offered: T=0 */
    { A_TA1, 0, 1, true, CL_OK, 0, "FF 10 13 FC", 372, 4 },
    { A_BOTH, 0, 1, true, CL_OK, 1, "FF 11 13 FD", 372, 4 },
    /* only T=1 offered, preference T=0 ignored, no PPS needed */
    { A_T1, 0, 0, true, CL_OK, 1, "", 372, 1 },
    /* only T=1 offered, with IFSC 0: nothing the session can run */
    { "3B 80 81 11 00 10", 0, CL_CARD_T_ANY, true, CL_ERR_UNSUPPORTED, 0,
      "", 0, 0 },
    /* specific T=0 at D 4 */
    { A_SPEC, 0, CL_CARD_T_ANY, true, CL_OK, 0, "", 372, 4 },
    /* specific with a reserved Di (TA1 10) */
    { "3B 90 10 10 00", 0, CL_CARD_T_ANY, true, CL_ERR_RESERVED, 0, "", 0,
      0 },
    /* specific T=2 */
    { "3B 90 13 12 02 93", 0, CL_CARD_T_ANY, true, CL_ERR_UNSUPPORTED, 0,
      "", 0, 0 },
};

START_TEST(test_plan)
{
    struct cl_card_line l = fake_line(0);
    struct cl_card_config cfg;
    struct cl_card_plan plan;
    struct cl_atr atr;
    uint8_t buf[CL_ATR_MAX];
    int n = cl_test_hex(plans[_i].atr, buf, sizeof(buf)), rv;

    ck_assert_int_eq(cl_atr_parse(&atr, buf, (size_t)n), CL_OK);
    cl_card_config_default(&cfg);
    cfg.protocol = plans[_i].prefer;
    l.caps.max_baud = plans[_i].max_baud;
    rv = cl_card_plan(&atr, &l.caps, &cfg, plans[_i].allow_pps, &plan);
    ck_assert_int_eq(rv, plans[_i].rc);
    if (rv != CL_OK)
        return;
    ck_assert_uint_eq(plan.protocol, plans[_i].proto);
    ck_assert_uint_eq(plan.params.protocol, plans[_i].proto);
    ck_assert(plan.pps == (plans[_i].pps[0] != '\0'));
    cl_assert_bytes(plan.pps_bytes, plan.pps_len, plans[_i].pps);
    ck_assert_uint_eq(plan.params.f, plans[_i].f);
    ck_assert_uint_eq(plan.params.d, plans[_i].d);
}
END_TEST

/* The plan's and the configurations' edges (a one-at-a-time fault run of
 * lib/card/card.c): the default configuration over memory that held
 * anything; the protocol the plan names in its parameters on every path;
 * a specific-mode rate checked against a line's (F, D) list and baud limit
 * to the exact value, at the clock the line can give; the PPS clock and
 * its fallback; the T=1 and T=0 configurations' every field. */
static void parse_atr(struct cl_atr *atr, const char *hex)
{
    uint8_t buf[CL_ATR_MAX];
    int n = cl_test_hex(hex, buf, sizeof(buf));

    ck_assert_int_eq(cl_atr_parse(atr, buf, (size_t)n), CL_OK);
}

START_TEST(test_plan_edges)
{
    static const struct cl_pps_fd p372_4[] = { { 372, 4 } }, p512_4[] = { { 512, 4 } },
                                  both[] = { { 512, 4 }, { 372, 4 } };
    struct cl_card_line l = fake_line(0);
    struct cl_card_config cfg;
    struct cl_card_plan plan;
    struct cl_atr atr;
    struct cl_pps acc;
    struct cl_t1_config c1;
    struct cl_t0_config c0;
    struct cl_card_line_params p;

    memset(&cfg, 0xFF, sizeof(cfg));
    cl_card_config_default(&cfg);
    ck_assert_uint_eq(cfg.protocol, CL_CARD_T_ANY);
    ck_assert_uint_eq(cfg.ifsd, 254);
    ck_assert(cfg.pps && cfg.warm_retry);
    ck_assert_uint_eq(cfg.ts_etu, 9600);
    ck_assert_uint_eq(cfg.atr_total_etu, 20160);
    ck_assert_uint_eq(cfg.apdu_ms, 0);

    /* T=1 named in the parameters: without PPS, and in specific mode
     * (3B 90 13 11 01 93: TA2 01, T=1 at TA1's F 372 D 4) */
    parse_atr(&atr, A_T1);
    ck_assert_int_eq(cl_card_plan(&atr, &l.caps, &cfg, false, &plan), CL_OK);
    ck_assert_uint_eq(plan.protocol, 1);
    ck_assert_uint_eq(plan.params.protocol, 1);
    parse_atr(&atr, "3B 90 13 11 01 93");
    ck_assert_int_eq(cl_card_plan(&atr, &l.caps, &cfg, true, &plan), CL_OK);
    ck_assert_uint_eq(plan.params.protocol, 1);
    ck_assert_uint_eq(plan.params.d, 4);
    ck_assert(!plan.pps);

    /* specific mode, the line's (F, D) list: (372, 4) first runs it,
     * (512, 4) does not; Fd/Dd (TA1 11) runs on any line; pairs NULL
     * with an entry is an argument error */
    parse_atr(&atr, A_SPEC);
    l.caps.any_fd = false;
    l.caps.pairs = p372_4;
    l.caps.n_pairs = 1;
    ck_assert_int_eq(cl_card_plan(&atr, &l.caps, &cfg, true, &plan), CL_OK);
    ck_assert_uint_eq(plan.params.d, 4);
    l.caps.pairs = p512_4;
    ck_assert_int_eq(cl_card_plan(&atr, &l.caps, &cfg, true, &plan), CL_ERR_UNSUPPORTED);
    l.caps.pairs = both;                    /* (372, 4) second in the list */
    l.caps.n_pairs = 2;
    ck_assert_int_eq(cl_card_plan(&atr, &l.caps, &cfg, true, &plan), CL_OK);
    l.caps.n_pairs = 1;
    parse_atr(&atr, "3B 90 11 10 00");
    ck_assert_int_eq(cl_card_plan(&atr, &l.caps, &cfg, true, &plan), CL_OK);
    ck_assert_uint_eq(plan.params.f, 372);
    ck_assert_uint_eq(plan.params.d, 1);
    l.caps.pairs = NULL;
    ck_assert_int_eq(cl_card_plan(&atr, &l.caps, &cfg, true, &plan), CL_ERR_ARG);
    l.caps.n_pairs = 0;
    l.caps.any_fd = true;

    /* specific mode at a baud limit of exactly F 372 D 4's rate, then one
     * bit/s below it; the clock raised to what the line can give (fmax
     * of TA1 13 is 5 MHz, the line 4 MHz at most) */
    parse_atr(&atr, A_SPEC);
    l.caps.max_baud = cl_rate_baud(3571, 372, 4);
    ck_assert_int_eq(cl_card_plan(&atr, &l.caps, &cfg, true, &plan), CL_OK);
    l.caps.max_baud--;
    ck_assert_int_eq(cl_card_plan(&atr, &l.caps, &cfg, true, &plan), CL_ERR_UNSUPPORTED);
    l.caps.max_baud = 0;
    l.caps.max_clock_khz = 4000;
    ck_assert_int_eq(cl_card_plan(&atr, &l.caps, &cfg, true, &plan), CL_OK);
    ck_assert_uint_eq(plan.params.clock_khz, 4000);

    /* negotiable: the PPS plan's clock, and the default rate's clock again
     * when the card answers without PPS1 */
    parse_atr(&atr, A_TA1);
    ck_assert_int_eq(cl_card_plan(&atr, &l.caps, &cfg, true, &plan), CL_OK);
    ck_assert(plan.pps);
    ck_assert_uint_eq(plan.params.clock_khz, 4000);
    memset(&acc, 0, sizeof(acc));
    ck_assert_int_eq(cl_card_plan_pps_result(&plan, &l.caps, &acc), CL_OK);
    ck_assert_uint_eq(plan.params.clock_khz, 3571);
    ck_assert_uint_eq(plan.params.f, 372);
    ck_assert_uint_eq(plan.params.d, 1);

    /* T=1: BWI above 9 is taken as 9; F and D from the parameters; IFSD
     * as asked. T=0: WI 0 is 10, D from the parameters. */
    parse_atr(&atr, "3B 80 81 31 FE A5 6B");
    memset(&p, 0, sizeof(p));
    p.f = 512;
    p.d = 8;
    memset(&c1, 0xEE, sizeof(c1));
    ck_assert_int_eq(cl_card_t1_config(&atr, &p, 100, &c1), CL_OK);
    ck_assert_uint_eq(c1.bwi, 9);
    ck_assert_uint_eq(c1.cwi, 5);
    ck_assert_uint_eq(c1.f, 512);
    ck_assert_uint_eq(c1.d, 8);
    ck_assert_uint_eq(c1.ifsd, 100);
    ck_assert(c1.ifs_at_start);
    parse_atr(&atr, "3B 81 81 31 FE 95 4A 10");
    ck_assert_int_eq(cl_card_t1_config(&atr, &p, 254, &c1), CL_OK);
    ck_assert_uint_eq(c1.bwi, 9);
    parse_atr(&atr, "3B 81 81 31 FE 85 4A 00");
    ck_assert_int_eq(cl_card_t1_config(&atr, &p, 254, &c1), CL_OK);
    ck_assert_uint_eq(c1.bwi, 8);
    parse_atr(&atr, A_T0);
    memset(&c0, 0xEE, sizeof(c0));
    ck_assert_int_eq(cl_card_t0_config(&atr, &p, &c0), CL_OK);
    ck_assert_uint_eq(c0.role, CL_T0_ROLE_READER);
    ck_assert_uint_eq(c0.wi, 10);
    ck_assert_uint_eq(c0.d, 8);
    ck_assert(c0.warning_get_response);
    parse_atr(&atr, "3B 80 40 01");
    ck_assert_int_eq(cl_card_t0_config(&atr, &p, &c0), CL_OK);
    ck_assert_uint_eq(c0.wi, 1);
}
END_TEST

START_TEST(test_plan_args)
{
    struct cl_card_line l = fake_line(0);
    struct cl_card_config cfg;
    struct cl_card_plan plan;
    struct cl_atr atr;
    struct cl_pps acc;
    uint8_t buf[CL_ATR_MAX];
    int n = cl_test_hex(A_TA1, buf, sizeof(buf));

    ck_assert_int_eq(cl_atr_parse(&atr, buf, (size_t)n), CL_OK);
    cl_card_config_default(&cfg);
    ck_assert_int_eq(cl_card_plan(NULL, &l.caps, &cfg, true, &plan),
                     CL_ERR_ARG);
    ck_assert_int_eq(cl_card_plan(&atr, NULL, &cfg, true, &plan), CL_ERR_ARG);
    ck_assert_int_eq(cl_card_plan(&atr, &l.caps, NULL, true, &plan),
                     CL_ERR_ARG);
    ck_assert_int_eq(cl_card_plan(&atr, &l.caps, &cfg, true, NULL),
                     CL_ERR_ARG);
    l.caps.clock_khz = 0;
    ck_assert_int_eq(cl_card_plan(&atr, &l.caps, &cfg, true, &plan),
                     CL_ERR_ARG);
    l.caps.clock_khz = 3571;
    l.caps.n_pairs = 1;
    ck_assert_int_eq(cl_card_plan(&atr, &l.caps, &cfg, true, &plan),
                     CL_ERR_ARG);
    l.caps.n_pairs = 0;
    ck_assert_int_eq(cl_card_plan(&atr, &l.caps, &cfg, true, &plan), CL_OK);
    memset(&acc, 0, sizeof(acc));
    ck_assert_int_eq(cl_card_plan_pps_result(NULL, &l.caps, &acc),
                     CL_ERR_ARG);
    ck_assert_int_eq(cl_card_plan_pps_result(&plan, &l.caps, &acc), CL_OK);
    ck_assert_uint_eq(plan.params.d, 1);
    ck_assert_int_eq(cl_card_t0_config(NULL, &plan.params, NULL), CL_ERR_ARG);
}
END_TEST

/* A line listing its (F, D) pairs: (372, 4) absent, so no PPS. */
START_TEST(test_plan_pairs)
{
    static const struct cl_pps_fd pairs[] = { { 372, 2 }, { 512, 8 } };
    struct cl_card_line l = fake_line(0);
    struct cl_card_config cfg;
    struct cl_card_plan plan;
    struct cl_atr atr;
    uint8_t buf[CL_ATR_MAX];
    int n = cl_test_hex(A_TA1, buf, sizeof(buf));

    ck_assert_int_eq(cl_atr_parse(&atr, buf, (size_t)n), CL_OK);
    cl_card_config_default(&cfg);
    l.caps.any_fd = false;
    l.caps.pairs = pairs;
    l.caps.n_pairs = 2;
    ck_assert_int_eq(cl_card_plan(&atr, &l.caps, &cfg, true, &plan), CL_OK);
    cl_assert_bytes(plan.pps_bytes, plan.pps_len, "FF 10 12 FD");
    ck_assert_uint_eq(plan.params.d, 2);
    /* specific mode at (372, 4) is then not runnable */
    n = cl_test_hex(A_SPEC, buf, sizeof(buf));
    ck_assert_int_eq(cl_atr_parse(&atr, buf, (size_t)n), CL_OK);
    ck_assert_int_eq(cl_card_plan(&atr, &l.caps, &cfg, true, &plan),
                     CL_ERR_UNSUPPORTED);
}
END_TEST

START_TEST(test_args)
{
    static const struct step steps[] = { { S_END, NULL } };
    struct fake f;
    struct cl_card card;
    struct cl_card_line line;
    struct cl_card_config cfg;
    uint8_t b[4] = { 0 };
    size_t rl;

    fake_init(&f, steps, 0);
    ck_assert_int_eq(cl_card_activate(NULL), CL_ERR_ARG);
    cl_card_init_line(NULL, NULL, NULL, NULL);
    cl_card_init_line(&card, NULL, NULL, NULL);
    ck_assert_int_eq(cl_card_activate(&card), CL_ERR_ARG);
    cl_card_init_apdu(&card, NULL, NULL, NULL);
    ck_assert_int_eq(cl_card_activate(&card), CL_ERR_ARG);

    line = fake_line(0);
    line.reset = NULL;
    cl_card_init_line(&card, &line, &f, NULL);
    ck_assert_int_eq(cl_card_activate(&card), CL_ERR_ARG);
    line = fake_line(0);
    line.caps.clock_khz = 0;
    ck_assert_int_eq(cl_card_activate(&card), CL_ERR_ARG);
    line = fake_line(0);
    cl_card_config_default(&cfg);
    cfg.ifsd = 255;
    cl_card_init_line(&card, &line, &f, &cfg);
    ck_assert_int_eq(cl_card_activate(&card), CL_ERR_ARG);
    cfg.ifsd = 254;
    cfg.protocol = 2;
    cl_card_init_line(&card, &line, &f, &cfg);
    ck_assert_int_eq(cl_card_activate(&card), CL_ERR_ARG);

    cl_card_init_line(&card, &line, &f, NULL);
    ck_assert_int_eq(cl_card_transmit(NULL, b, 4, b, 4, &rl), CL_ERR_ARG);
    ck_assert_int_eq(cl_card_transmit(&card, NULL, 4, b, 4, &rl), CL_ERR_ARG);
    ck_assert_int_eq(cl_card_transmit(&card, b, 4, NULL, 4, &rl), CL_ERR_ARG);
    ck_assert_int_eq(cl_card_transmit(&card, b, 4, b, 4, NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_card_transmit(&card, b, 4, b, 4, &rl), CL_ERR_CLOSED);
    ck_assert_uint_eq(cl_card_state(NULL), CL_CARD_CLOSED);
    ck_assert_ptr_null(cl_card_atr(NULL));
    ck_assert_int_eq(cl_card_protocol(NULL), CL_ERR_ARG);
    ck_assert_ptr_null(cl_card_info(NULL));
    ck_assert_ptr_null(cl_card_params(NULL));
    cl_card_deactivate(NULL);
    cl_card_config_default(NULL);
}
END_TEST

/* EMV: the whole ATR within 20160 etu from TS (2.1 s at 3.571 MHz). A card
 * taking 0.6 s per character gets three in: a 4-byte ATR passes, an 8-byte
 * one times out (and the warm reset does no better). */
START_TEST(test_atr_total_time)
{
    static const struct step ok_steps[] = {
        COLD, C("3B"), C("02"), C("14"), C("50"), { S_END, NULL }
    };
    static const struct step slow_steps[] = {
        COLD, C("3B"), C("81"), C("81"), C("31"), C("FE"), C("45"),
        C("4A"), C("C0"), R(IFS_REQ), C(IFS_RESP), { S_END, NULL }
    };
    struct fake f;
    struct cl_card card;
    struct cl_card_line line;

    fake_init(&f, ok_steps, 0);
    f.delay_us = 600000;
    card_setup(&card, &line, &f, 0);
    ck_assert_int_eq(cl_card_activate(&card), CL_OK);

    fake_init(&f, slow_steps, O_NOWARM);
    f.delay_us = 600000;
    f.lenient = true;
    card_setup(&card, &line, &f, O_NOWARM);
    ck_assert_int_eq(cl_card_activate(&card), CL_ERR_TIMEOUT);
    ck_assert_uint_eq(f.i, 5);  /* stopped before the fifth character */

    /* without the EMV limit the slow card is read in full */
    fake_init(&f, slow_steps, O_NOWARM);
    f.delay_us = 600000;
    f.lenient = true;
    card_setup(&card, &line, &f, O_NOWARM | O_NOATRLIMIT);
    ck_assert_int_eq(cl_card_activate(&card), CL_OK);
    ck_assert_uint_eq(f.steps[f.i].kind, S_END);
}
END_TEST


/* ------------------------------------- transport defects (issue 11 §4) */

/* A card asks for a large WTX (BWI 9, WTX 255 at 3.57 MHz: BWT x WTX is
 * over 2^32 us) and goes mute: the wait saturates at CL_TIMER_MAX, never at
 * the line's "no limit", and the exchange ends (here by the deadline). */
START_TEST(test_wtx_saturates)
{
    static const struct step steps[] = {
        COLD, C("3B 80 81 21 9D BD"), R(IFS_REQ), C(IFS_RESP),
        R("00 00 04 00 70 00 00 74"), C("00 C3 01 FF 3D"),
        R("00 E3 01 FF 1D"), { S_END, NULL }
    };
    struct fake f;
    struct cl_card card;
    struct cl_card_line line;
    uint8_t cmd[4] = { 0x00, 0x70, 0x00, 0x00 }, resp[16];
    size_t rl = 0;

    fake_init(&f, steps, O_T1);
    f.mute_end = true;
    card_setup(&card, &line, &f, O_T1);
    ck_assert_int_eq(cl_card_activate(&card), CL_OK);
    /* no deadline: T=1's own recovery gives up on the mute card */
    ck_assert_int_eq(cl_card_transmit(&card, cmd, 4, resp, sizeof(resp), &rl),
                     CL_ERR_TIMEOUT);
    ck_assert_uint_eq(f.max_t, CL_TIMER_MAX);
    ck_assert_uint_eq(cl_card_state(&card), CL_CARD_CLOSED);
    ck_assert_uint_eq(f.offs, 1);

    /* with one: CL_ERR_TIMEOUT when it runs out */
    fake_init(&f, steps, O_T1);
    f.mute_end = true;
    card_setup(&card, &line, &f, O_T1);
    cl_card_set_deadline(&card, 600000);
    ck_assert_int_eq(cl_card_activate(&card), CL_OK);
    ck_assert_int_eq(cl_card_transmit(&card, cmd, 4, resp, sizeof(resp), &rl),
                     CL_ERR_TIMEOUT);
    ck_assert_uint_lt(f.waited_us, 600000001ull);
    ck_assert_uint_eq(cl_card_state(&card), CL_CARD_CLOSED);
}
END_TEST

/* A T=0 card keeps the exchange alive with a NULL byte every 0.99 s (WT is
 * 1.0 s): the caller's deadline (cfg.apdu_ms) ends it with CL_ERR_TIMEOUT
 * and the card off. */
START_TEST(test_null_deadline)
{
    static const struct step steps[] = {
        COLD, C("3B 00"), R("00 B0 00 00 02"),
        C("60"), C("60"), C("60"), C("60"), C("60"), C("60"),
        C("60"), C("60"), C("60"), C("60"), { S_END, NULL }
    };
    struct fake f;
    struct cl_card card;
    struct cl_card_line line;
    uint8_t cmd[5] = { 0x00, 0xB0, 0x00, 0x00, 0x02 }, resp[16];
    size_t rl = 0;

    fake_init(&f, steps, 0);
    card_setup(&card, &line, &f, 0);
    cl_card_set_deadline(&card, 5000);
    ck_assert_int_eq(cl_card_activate(&card), CL_OK);
    f.delay_us = 990000;
    f.lenient = true;       /* deactivated in the middle of the script */
    ck_assert_int_eq(cl_card_transmit(&card, cmd, 5, resp, sizeof(resp), &rl),
                     CL_ERR_TIMEOUT);
    ck_assert_uint_eq(rl, 0);
    ck_assert_uint_eq(cl_card_state(&card), CL_CARD_CLOSED);
    /* five NULLs in 4.95 s, then 50 ms more of waiting */
    ck_assert_uint_eq(f.i, 8);
    ck_assert_uint_eq(f.waited_us, 50000);
    ck_assert_uint_eq(f.offs, 1);
    ck_assert_uint_eq(cl_card_error(&card), CL_ERR_TIMEOUT);
}
END_TEST

/* A T=1 card that keeps the exchange alive for ever, once a second, is
 * stopped by the caller's deadline (issue 11 §4): loop 0 asks for WTX
 * again and again, loop 1 answers with empty chained I-blocks (M set,
 * LEN 0), each acknowledged with an R-block. */
static const struct step wtx_loop[] = {
    COLD, C(A_T1), R(IFS_REQ), C(IFS_RESP), R("00 00 04 00 70 00 00 74"),
    C("00 C3 01 01 C3"), R("00 E3 01 01 E3"),
    C("00 C3 01 01 C3"), R("00 E3 01 01 E3"),
    C("00 C3 01 01 C3"), R("00 E3 01 01 E3"),
    C("00 C3 01 01 C3"), R("00 E3 01 01 E3"),
    C("00 C3 01 01 C3"), R("00 E3 01 01 E3"),
    { S_END, NULL }
};
static const struct step empty_chain_loop[] = {
    COLD, C(A_T1), R(IFS_REQ), C(IFS_RESP), R("00 00 04 00 70 00 00 74"),
    C("00 20 00 20"), R("00 90 00 90"),
    C("00 60 00 60"), R("00 80 00 80"),
    C("00 20 00 20"), R("00 90 00 90"),
    C("00 60 00 60"), R("00 80 00 80"),
    { S_END, NULL }
};

START_TEST(test_loop_deadline)
{
    const struct step *steps = _i == 0 ? wtx_loop : empty_chain_loop;
    struct fake f;
    struct cl_card card;
    struct cl_card_line line;
    uint8_t cmd[4] = { 0x00, 0x70, 0x00, 0x00 }, resp[16];
    size_t rl = 0;

    fake_init(&f, steps, O_T1);
    card_setup(&card, &line, &f, O_T1);
    cl_card_set_deadline(&card, 2500);
    ck_assert_int_eq(cl_card_activate(&card), CL_OK);
    f.delay_us = 1000000;
    f.lenient = true;
    ck_assert_int_eq(cl_card_transmit(&card, cmd, 4, resp, sizeof(resp), &rl),
                     CL_ERR_TIMEOUT);
    /* two rounds in 2 s, then 0.5 s of waiting for the third */
    ck_assert_uint_eq(f.i, 9);
    ck_assert_uint_eq(f.waited_us, 500000);
    ck_assert_uint_eq(rl, 0);
    ck_assert_uint_eq(cl_card_state(&card), CL_CARD_CLOSED);
    ck_assert_uint_eq(f.offs, 1);
}
END_TEST

/* T=0: a card that sends more than it said (a trailing 90 00 after the
 * response) does not get those bytes read as the next command's answer:
 * the line is looked at before the next header, the exchange fails and
 * the card is deactivated. */
START_TEST(test_t0_stale_bytes)
{
    static const struct step steps[] = {
        COLD, C("3B 00"), R("00 B0 00 00 02"), C("B0 D0 D1 90 00"),
        C("90 00"), OFF, { S_END, NULL }
    };
    struct fake f;
    struct cl_card card;
    struct cl_card_line line;
    uint8_t c1[5] = { 0x00, 0xB0, 0x00, 0x00, 0x02 };
    uint8_t c2[4] = { 0x00, 0xA4, 0x00, 0x00 }, resp[16];
    size_t rl = 0;

    fake_init(&f, steps, 0);
    card_setup(&card, &line, &f, 0);
    ck_assert_int_eq(cl_card_activate(&card), CL_OK);
    ck_assert_int_eq(cl_card_transmit(&card, c1, 5, resp, sizeof(resp), &rl),
                     CL_OK);
    cl_assert_bytes(resp, rl, "D0 D1 90 00");
    ck_assert_int_eq(cl_card_transmit(&card, c2, 4, resp, sizeof(resp), &rl),
                     CL_ERR_PROTOCOL);
    ck_assert_uint_eq(rl, 0);
    ck_assert_uint_eq(cl_card_state(&card), CL_CARD_CLOSED);
    ck_assert_uint_eq(f.steps[f.i].kind, S_END);
}
END_TEST

/* cl_card_stats(): what a firmware log shows after a PPS refused (bad
 * PCK), the §9.3 cold reset, an exchange with two NULL bytes and one that
 * fails on stale bytes; the counters outlive the deactivation. */
START_TEST(test_stats)
{
    static const struct step steps[] = {
        COLD, C(A_TA1), R("FF 10 13 FC"), C("FF 10 13 FD"), OFF,
        COLD, C(A_TA1), R("00 B0 00 00 02"), C("60"), C("60 B0 D0 D1 90 00"),
        C("90 00"), OFF, { S_END, NULL }
    };
    struct fake f;
    struct cl_card card;
    struct cl_card_line line;
    const struct cl_card_stats *st;
    uint8_t c1[5] = { 0x00, 0xB0, 0x00, 0x00, 0x02 };
    uint8_t c2[4] = { 0x00, 0xA4, 0x00, 0x00 }, resp[16];
    size_t rl = 0;

    fake_init(&f, steps, 0);
    card_setup(&card, &line, &f, 0);
    st = cl_card_stats(&card);
    ck_assert_ptr_nonnull(st);
    ck_assert_uint_eq(st->bytes_received, 0);
    ck_assert_int_eq(cl_card_activate(&card), CL_OK);
    ck_assert_int_eq(cl_card_transmit(&card, c1, 5, resp, sizeof(resp), &rl),
                     CL_OK);
    cl_assert_bytes(resp, rl, "D0 D1 90 00");
    ck_assert_int_eq(cl_card_transmit(&card, c2, 4, resp, sizeof(resp), &rl),
                     CL_ERR_PROTOCOL);
    ck_assert_uint_eq(f.steps[f.i].kind, S_END);
    ck_assert_uint_eq(cl_card_state(&card), CL_CARD_CLOSED);
    ck_assert_uint_eq(st->bytes_sent, 4 + 5);
    ck_assert_uint_eq(st->bytes_received, 3 + 4 + 3 + 7 + 2);
    ck_assert_uint_eq(st->apdus, 2);
    ck_assert_uint_eq(st->apdu_errors, 1);
    ck_assert_uint_eq(st->more_time, 2);
    ck_assert_uint_eq(st->timeouts, 0);
    ck_assert_uint_eq(st->parity_errors, 0);
    ck_assert_uint_eq(st->activations, 1);
    ck_assert_uint_eq(st->cold_resets, 2);
    ck_assert_uint_eq(st->warm_resets, 0);
    ck_assert_uint_eq(st->pps_failed, 1);
    ck_assert_uint_eq(st->pps, CL_CARD_PPS_FAILED);
    ck_assert_uint_eq(st->t1.blocks_sent, 0);
    ck_assert_ptr_null(cl_card_stats(NULL));
}
END_TEST

/* Issue 11: after a VERIFY exchange no byte of the PIN block, nor of
 * anything computed from it (the sent I-block's LRC or CRC, the first INF
 * byte of a block), stays in the session. Run the same dialogue with two
 * PIN blocks, the session at the same address with the same buffers: the
 * two contexts must be byte for byte equal afterwards, and neither holds a
 * run of the PIN block. _i: T=0, T=1 LRC, T=1 CRC with IFSC 8 (the PIN
 * block chained: the card's answer to each piece is an R-block). */
static void hexcat(char *out, size_t size, const uint8_t *b, size_t n)
{
    size_t i, k;

    for (i = 0; i < n && (k = strlen(out)) + 4 < size; i++)
        snprintf(out + k, size - k, "%s%02X", k ? " " : "", b[i]);
}

START_TEST(test_pin_wiped)
{
    static const uint8_t pins[2][8] = {
        { 0x2C, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0xFF },
        { 0x2C, 0x98, 0x76, 0x54, 0x32, 0x10, 0x98, 0xFF },
    };
    static char tx[2][2][64];
    static struct step steps[12];
    static struct cl_card saved;
    static uint8_t cmd[13], resp[16];
    struct fake f;
    struct cl_card card;
    struct cl_card_line line;
    size_t rl, i, n, k;
    int run;

    for (run = 0; run < 2; run++) {
        uint8_t blk[20];
        const uint8_t *raw;

        memcpy(cmd, "\x00\x20\x00\x80\x08", 5);
        memcpy(cmd + 5, pins[run], 8);
        n = 0;
        steps[n++] = (struct step)COLD;
        memset(tx[run], 0, sizeof(tx[run]));
        if (_i == 0) {
            steps[n++] = (struct step)C(A_T0);
            steps[n++] = (struct step)R("00 20 00 80 08");
            steps[n++] = (struct step)C("20");
            hexcat(tx[run][0], sizeof(tx[run][0]), pins[run], 8);
            steps[n++] = (struct step)R(tx[run][0]);
        } else if (_i == 1) {
            steps[n++] = (struct step)C(A_T1);
            steps[n++] = (struct step)R(IFS_REQ);
            steps[n++] = (struct step)C(IFS_RESP);
            blk[0] = 0x00;
            blk[1] = 0x00;
            blk[2] = 13;
            memcpy(blk + 3, cmd, 13);
            blk[16] = 0;
            for (k = 0; k < 16; k++)
                blk[16] ^= blk[k];
            hexcat(tx[run][0], sizeof(tx[run][0]), blk, 17);
            steps[n++] = (struct step)R(tx[run][0]);
        } else {
            /* TA3 08 (IFSC 8), TB3 45, TC3 01 (CRC) */
            steps[n++] = (struct step)C("3B 80 81 71 08 45 01 3C");
            steps[n++] = (struct step)R("00 C1 01 FE 54 4E");
            steps[n++] = (struct step)C("00 E1 01 FE 57 75");
            for (k = 0; k < 2; k++) {
                uint16_t c;

                raw = cmd + 8 * k;
                blk[0] = 0x00;
                blk[1] = k == 0 ? 0x20 : 0x40;   /* I(0, M), I(1) */
                blk[2] = k == 0 ? 8 : 5;
                memcpy(blk + 3, raw, blk[2]);
                c = cl_crc16(blk, 3u + blk[2]);
                blk[3 + blk[2]] = (uint8_t)(c >> 8);
                blk[4 + blk[2]] = (uint8_t)c;
                hexcat(tx[run][k], sizeof(tx[run][k]), blk, 5u + blk[2]);
                steps[n++] = (struct step)R(tx[run][k]);
                if (k == 0)
                    steps[n++] = (struct step)C("00 90 00 20 6E");  /* R(1) */
            }
        }
        steps[n++] = _i == 0 ? (struct step)C("90 00")
                   : _i == 1 ? (struct step)C("00 00 02 90 00 92")
                             : (struct step)C("00 00 02 90 00 9C 6D");
        steps[n++] = (struct step){ S_END, NULL };
        fake_init(&f, steps, _i ? O_T1 : 0);
        card_setup(&card, &line, &f, _i ? O_T1 : 0);
        ck_assert_int_eq(cl_card_activate(&card), CL_OK);
        ck_assert_int_eq(cl_card_transmit(&card, cmd, sizeof(cmd), resp,
                                          sizeof(resp), &rl), CL_OK);
        cl_assert_bytes(resp, rl, "90 00");
        ck_assert_uint_eq(f.steps[f.i].kind, S_END);
        raw = (const uint8_t *)&card;
        for (i = 0; i + 3 <= sizeof(card); i++)
            ck_assert_msg(memcmp(raw + i, pins[run], 3) != 0,
                          "PIN block at offset %zu", i);
        if (run == 0)
            memcpy(&saved, &card, sizeof(card));
    }
    for (i = 0; i < sizeof(card); i++)
        ck_assert_msg(((const uint8_t *)&saved)[i] == ((const uint8_t *)&card)[i],
                      "byte %zu of struct cl_card depends on the PIN", i);
    cl_card_deactivate(&card);
}
END_TEST

/* A 100 kHz clock with WI 255 and F 2048 (specific mode): WT is about
 * 5000 s; the wait saturates at CL_TIMER_MAX instead of "no limit". */
START_TEST(test_slow_clock)
{
    static const struct step steps[] = {
        COLD, C("3B 90 D1 50 00 FF"), R("00 70 00 00 00"), TMO, OFF,
        { S_END, NULL }
    };
    struct fake f;
    struct cl_card card;
    struct cl_card_line line;
    uint8_t cmd[4] = { 0x00, 0x70, 0x00, 0x00 }, resp[16];
    size_t rl = 0;

    fake_init(&f, steps, 0);
    card_setup(&card, &line, &f, 0);
    line.caps.clock_khz = 100;
    line.caps.max_clock_khz = 100;
    ck_assert_int_eq(cl_card_activate(&card), CL_OK);
    ck_assert_uint_eq(cl_card_params(&card)->f, 2048);
    ck_assert_int_eq(cl_card_transmit(&card, cmd, 4, resp, sizeof(resp), &rl),
                     CL_ERR_TIMEOUT);
    ck_assert_uint_eq(f.max_t, CL_TIMER_MAX);
    ck_assert_uint_eq(f.steps[f.i].kind, S_END);
}
END_TEST

/* Issue 13: a missing TCK where the rest of the ATR is whole is taken with
 * a warning; the public warm reset runs the activation again. */
START_TEST(test_lenient_atr_and_warm_reset)
{
    static const struct step steps[] = {
        COLD, C("3B 80 01"), TMO, WARM, C("3B 00"), OFF, { S_END, NULL }
    };
    struct fake f;
    struct cl_card card;
    struct cl_card_line line;

    fake_init(&f, steps, 0);
    card_setup(&card, &line, &f, O_NOIFSD);
    ck_assert_int_eq(cl_card_reset(&card, true), CL_ERR_CLOSED);
    ck_assert_int_eq(cl_card_activate(&card), CL_OK);
    ck_assert_uint_eq(cl_card_info(&card)->atr_warnings,
                      CL_ATR_W_TCK_MISSING);
    ck_assert_int_eq(cl_card_protocol(&card), 1);
    ck_assert_int_eq(cl_card_reset(&card, true), CL_OK);
    ck_assert_uint_eq(cl_card_info(&card)->warm_resets, 1);
    ck_assert_uint_eq(cl_card_info(&card)->atr_warnings, 0);
    ck_assert_int_eq(cl_card_protocol(&card), 0);
    ck_assert_uint_eq(cl_card_atr(&card)->len, 2);
    cl_card_deactivate(&card);
    ck_assert_uint_eq(f.steps[f.i].kind, S_END);
}
END_TEST

/* The engine driven by hand, as firmware does (no card_io.c loop): every
 * want in turn, the control steps typed, the timer in microseconds. */
START_TEST(test_engine_by_hand)
{
    struct fake f;
    struct cl_card card;
    struct cl_card_line line;
    struct cl_t1_piece pc[3];
    const uint8_t *p = NULL;
    uint8_t cmd[4] = { 0x00, 0x70, 0x00, 0x00 }, resp[8];
    const uint8_t ts = 0x3B, rest[3] = { 0x02, 0x14, 0x50 };
    const uint8_t sw[2] = { 0x90, 0x00 };
    static const struct step none[] = { { S_END, NULL } };

    fake_init(&f, none, 0);     /* the engine never calls the line */
    card_setup(&card, &line, &f, 0);
    /* NULL contract */
    ck_assert_int_eq(cl_card_want(NULL), CL_WANT_FAILED);
    ck_assert_uint_eq(cl_card_timer(NULL), CL_TIMER_NONE);
    ck_assert_uint_eq(cl_card_pull(NULL, &p), 0);
    ck_assert_uint_eq(cl_card_pullv(NULL, pc), 0);
    ck_assert_uint_eq(cl_card_recv_max(NULL), 0);
    ck_assert_uint_eq(cl_card_ctrl(NULL), CL_CARD_CTRL_NONE);
    ck_assert_int_eq(cl_card_start(NULL, false), CL_ERR_ARG);
    ck_assert_int_eq(cl_card_ctrl_done(NULL, CL_OK), CL_ERR_ARG);
    ck_assert_int_eq(cl_card_feed(NULL, sw, 2), CL_ERR_ARG);
    ck_assert_int_eq(cl_card_sent(NULL, 1), CL_ERR_ARG);
    ck_assert_int_eq(cl_card_timeout(NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_card_parity_error(NULL, 0), CL_ERR_ARG);
    ck_assert_int_eq(cl_card_fail(NULL, CL_ERR_IO), CL_ERR_ARG);
    ck_assert_int_eq(cl_card_result(NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_card_error(NULL), CL_ERR_ARG);
    ck_assert_ptr_null(cl_card_t0(NULL));
    cl_card_elapsed(NULL, 1);
    cl_card_stop(NULL);
    cl_card_free(NULL);

    ck_assert_int_eq(cl_card_want(&card), CL_WANT_CLOSED);
    ck_assert_int_eq(cl_card_timeout(&card), CL_ERR_STATE);
    ck_assert_int_eq(cl_card_start(&card, true), CL_ERR_STATE);
    ck_assert_int_eq(cl_card_start(&card, false), CL_OK);
    ck_assert_int_eq(cl_card_start(&card, false), CL_ERR_STATE);
    /* the default rate, then the cold reset */
    ck_assert_int_eq(cl_card_want(&card), CL_WANT_CTRL);
    ck_assert_uint_eq(cl_card_ctrl(&card), CL_CARD_CTRL_PARAMS);
    ck_assert_uint_eq(cl_card_params(&card)->f, 372);
    ck_assert_int_eq(cl_card_ctrl_done(&card, CL_OK), CL_OK);
    ck_assert_uint_eq(cl_card_ctrl(&card), CL_CARD_CTRL_COLD);
    ck_assert_int_eq(cl_card_ctrl_done(&card, CL_OK), CL_OK);
    /* TS: 9600 etu at 3571 kHz, one byte */
    ck_assert_int_eq(cl_card_want(&card), CL_WANT_RECV);
    ck_assert_uint_eq(cl_card_timer(&card), 1000052u);
    ck_assert_uint_eq(cl_card_recv_max(&card), 1);
    ck_assert_int_eq(cl_card_feed(&card, &ts, 1), 1);
    ck_assert_uint_eq(cl_card_ctrl(&card), CL_CARD_CTRL_PARAMS);
    ck_assert(cl_card_params(&card)->parity);
    ck_assert_int_eq(cl_card_ctrl_done(&card, CL_OK), CL_OK);
    /* the rest of the ATR: T0 first (fed 3, 1 used), then what T0 says */
    ck_assert_uint_eq(cl_card_recv_max(&card), 1);
    cl_card_elapsed(&card, 1000);
    ck_assert_int_eq(cl_card_feed(&card, rest, 3), 1);
    ck_assert_uint_eq(cl_card_recv_max(&card), 2);
    ck_assert_int_eq(cl_card_feed(&card, rest + 1, 2), 2);
    ck_assert_uint_eq(cl_card_ctrl(&card), CL_CARD_CTRL_PARAMS);
    ck_assert_int_eq(cl_card_ctrl_done(&card, CL_OK), CL_OK);
    ck_assert_int_eq(cl_card_want(&card), CL_WANT_IDLE);
    ck_assert_uint_eq(cl_card_state(&card), CL_CARD_ACTIVE);
    ck_assert_ptr_nonnull(cl_card_t0(&card));
    ck_assert_ptr_null(cl_card_t1(&card));
    /* an exchange: first a look at the line (timer 0), then the header */
    ck_assert_int_eq(cl_card_transmit_start(&card, cmd, 4, resp, sizeof(resp)),
                     CL_OK);
    ck_assert_int_eq(cl_card_want(&card), CL_WANT_RECV);
    ck_assert_uint_eq(cl_card_timer(&card), 0);
    ck_assert_int_eq(cl_card_timeout(&card), CL_OK);
    ck_assert_int_eq(cl_card_want(&card), CL_WANT_SEND);
    ck_assert_uint_eq(cl_card_pull(&card, &p), 5);
    cl_assert_bytes(p, 5, "00 70 00 00 00");
    ck_assert_int_eq(cl_card_sent(&card, 2), CL_OK);    /* partial */
    ck_assert_uint_eq(cl_card_pullv(&card, pc), 1);
    ck_assert_uint_eq(pc[0].len, 3);
    ck_assert_int_eq(cl_card_sent(&card, 3), CL_OK);
    ck_assert_int_eq(cl_card_want(&card), CL_WANT_RECV);
    ck_assert_uint_eq(cl_card_timer(&card), 1000052u);  /* WT 9600 etu */
    ck_assert_int_eq(cl_card_feed(&card, sw, 2), 2);
    ck_assert_int_eq(cl_card_want(&card), CL_WANT_DONE);
    ck_assert_int_eq(cl_card_result(&card), 2);
    cl_assert_bytes(resp, 2, "90 00");
    /* stop: CTRL OFF, then CLOSED */
    cl_card_stop(&card);
    ck_assert_uint_eq(cl_card_ctrl(&card), CL_CARD_CTRL_OFF);
    ck_assert_int_eq(cl_card_ctrl_done(&card, CL_OK), CL_OK);
    ck_assert_int_eq(cl_card_want(&card), CL_WANT_CLOSED);
    ck_assert_int_eq(cl_card_error(&card), CL_OK);
    ck_assert_uint_eq(cl_card_state(&card), CL_CARD_CLOSED);
    /* a port error fails it: OFF, then FAILED with the error, sticky */
    ck_assert_int_eq(cl_card_start(&card, false), CL_OK);
    ck_assert_int_eq(cl_card_ctrl_done(&card, CL_ERR_IO), CL_OK);
    ck_assert_uint_eq(cl_card_ctrl(&card), CL_CARD_CTRL_OFF);
    ck_assert_int_eq(cl_card_ctrl_done(&card, CL_OK), CL_OK);
    ck_assert_int_eq(cl_card_want(&card), CL_WANT_FAILED);
    ck_assert_int_eq(cl_card_error(&card), CL_ERR_IO);
    ck_assert_int_eq(cl_card_fail(&card, CL_ERR_IO), CL_ERR_STATE);
    cl_card_free(&card);
    ck_assert_int_eq(cl_card_want(&card), CL_WANT_CLOSED);
    ck_assert_int_eq(cl_card_start(&card, false), CL_ERR_ARG);   /* no line */
}
END_TEST

/* Every line call of an activation with PPS and T=1 IFS exchange plus one
 * APDU fails in turn (CL_ERR_IO, then CL_ERR_UNSUPPORTED from the port):
 * each failure comes back as that error with the session closed, or, for
 * an error inside the ATR or the PPS, as the recovery the standard asks for
 * (warm reset, default rate). Then a port that overruns the buffer. */
START_TEST(test_flaky)
{
    static const struct step steps[] = {
        COLD, C(A_BOTH), R("FF 11 13 FD"), C("FF 11 13 FD"),
        R(IFS_REQ), C(IFS_RESP), R("00 00 05 00 B0 00 00 02 B7"),
        C("00 00 04 11 22 90 00 A7"), { S_END, NULL }
    };
    static const int rcs[] = { CL_ERR_IO, CL_ERR_UNSUPPORTED };
    struct fake f;
    struct cl_card card;
    struct cl_card_line line;
    uint8_t cmd[5] = { 0x00, 0xB0, 0x00, 0x00, 0x02 }, resp[16];
    unsigned at, r, clean = 0;
    size_t rl;
    int rv;

    for (r = 0; r < CL_ARRAY_LEN(rcs); r++) {
        for (at = 1; at < 40; at++) {
            fake_init(&f, steps, O_T1);
            f.lenient = true;
            f.fail_at = at;
            f.fail_rc = rcs[r];
            card_setup(&card, &line, &f, O_T1);
            rv = cl_card_activate(&card);
            if (rv == CL_OK)
                rv = cl_card_transmit(&card, cmd, 5, resp, sizeof(resp), &rl);
            if (f.calls < at) {     /* ran to the end without a failure */
                ck_assert_int_eq(rv, CL_OK);
                clean++;
                break;
            }
            /* the failure either surfaced or was recovered from by a
             * (warm or cold) reset that then ran out of script */
            ck_assert_msg(rv != CL_OK || cl_card_state(&card) == CL_CARD_ACTIVE,
                          "call %u", at);
            if (rv != CL_OK)
                ck_assert_uint_eq(cl_card_state(&card), CL_CARD_CLOSED);
            cl_card_deactivate(&card);
        }
    }
    ck_assert_uint_eq(clean, 2);

    fake_init(&f, steps, O_T1);
    f.lenient = true;
    f.overrun = true;
    card_setup(&card, &line, &f, O_T1);
    ck_assert_int_eq(cl_card_activate(&card), CL_ERR_IO);
    ck_assert_uint_eq(cl_card_state(&card), CL_CARD_CLOSED);
}
END_TEST

/* A T=0 APDU the engine refuses leaves the session active. */
START_TEST(test_t0_bad_apdu)
{
    static const struct step steps[] = { COLD, C(A_T0), { S_END, NULL } };
    struct fake f;
    struct cl_card card;
    struct cl_card_line line;
    uint8_t cmd[8] = { 0x00, 0x60, 0x00, 0x00 }, resp[8];
    size_t rl;

    fake_init(&f, steps, 0);
    card_setup(&card, &line, &f, 0);
    ck_assert_int_eq(cl_card_activate(&card), CL_OK);
    ck_assert_int_eq(cl_card_transmit(&card, cmd, 3, resp, sizeof(resp), &rl),
                     CL_ERR_TRUNCATED);
    ck_assert_int_eq(cl_card_transmit(&card, cmd, 4, resp, sizeof(resp), &rl),
                     CL_ERR_RESERVED);
    ck_assert_uint_eq(cl_card_state(&card), CL_CARD_ACTIVE);
    /* card detect opens between exchanges */
    f.present = false;
    cmd[1] = 0x70;
    ck_assert_int_eq(cl_card_transmit(&card, cmd, 4, resp, sizeof(resp), &rl),
                     CL_ERR_CARD_REMOVED);
    ck_assert_uint_eq(cl_card_state(&card), CL_CARD_CLOSED);
}
END_TEST

/* ------------------------------------------------ APDU-level reader */

struct fake_apdu {
    const char *atr[2];     /* ATR per connect (cold, warm) */
    int connect_rc;
    uint8_t proto;
    int tx_rc;
    size_t tx_len;          /* response length it claims */
    unsigned connects, disconnects;
    bool warm_seen;
    bool warm_of[4];        /* the warm flag of each connect */
};

static int fa_connect(void *ctx, bool warm, uint8_t prefer,
                      uint8_t atr[CL_ATR_MAX], size_t *atr_len,
                      uint8_t *protocol)
{
    struct fake_apdu *a = ctx;
    int n;

    (void)prefer;
    if (a->connect_rc != CL_OK)
        return a->connect_rc;
    n = cl_test_hex(a->atr[a->connects < 2 ? a->connects : 1], atr,
                    CL_ATR_MAX);
    ck_assert_int_ge(n, 0);
    a->warm_seen |= warm;
    if (a->connects < 4)
        a->warm_of[a->connects] = warm;
    a->connects++;
    *atr_len = (size_t)n;
    *protocol = a->proto;
    return CL_OK;
}

static int fa_transmit(void *ctx, const uint8_t *cmd, size_t cmd_len,
                       uint8_t *resp, size_t resp_size, size_t *resp_len)
{
    struct fake_apdu *a = ctx;

    (void)cmd;
    (void)cmd_len;
    if (a->tx_rc != CL_OK)
        return a->tx_rc;
    ck_assert_uint_ge(resp_size, 2);
    resp[0] = 0x90;
    resp[1] = 0x00;
    *resp_len = a->tx_len;
    return CL_OK;
}

static void fa_disconnect(void *ctx)
{
    struct fake_apdu *a = ctx;

    a->disconnects++;
}

static const struct cl_card_apdu fake_apdu_ops = {
    fa_connect, fa_transmit, fa_disconnect, NULL
};

START_TEST(test_apdu_reader)
{
    struct fake_apdu a;
    struct cl_card card;
    uint8_t cmd[4] = { 0x00, 0x70, 0x00, 0x00 }, resp[16];
    size_t rl = 0;

    memset(&a, 0, sizeof(a));
    a.atr[0] = "3B 81 81 31 FE 45 4A C1";   /* bad TCK */
    a.atr[1] = A_T1;
    a.proto = 1;
    a.tx_len = 2;
    cl_card_init_apdu(&card, &fake_apdu_ops, &a, NULL);
    ck_assert_int_eq(cl_card_activate(&card), CL_OK);
    ck_assert(a.warm_seen);
    ck_assert_uint_eq(cl_card_info(&card)->warm_resets, 1);
    ck_assert_int_eq(cl_card_protocol(&card), 1);
    ck_assert_int_eq(cl_card_transmit(&card, cmd, 4, resp, sizeof(resp), &rl),
                     CL_OK);
    cl_assert_bytes(resp, rl, "90 00");
    /* a reader that claims more than the buffer: I/O failure, closed */
    a.tx_len = 17;
    ck_assert_int_eq(cl_card_transmit(&card, cmd, 4, resp, sizeof(resp), &rl),
                     CL_ERR_IO);
    ck_assert_uint_eq(cl_card_state(&card), CL_CARD_CLOSED);
    ck_assert_uint_eq(a.disconnects, 1);

    /* removal during transmit */
    a.connects = 0;
    a.atr[0] = A_T0;
    a.proto = 0;
    a.tx_len = 2;
    ck_assert_int_eq(cl_card_activate(&card), CL_OK);
    a.tx_rc = CL_ERR_TIMEOUT;
    ck_assert_int_eq(cl_card_transmit(&card, cmd, 4, resp, sizeof(resp), &rl),
                     CL_ERR_TIMEOUT);
    ck_assert_uint_eq(cl_card_state(&card), CL_CARD_ACTIVE);
    a.tx_rc = CL_ERR_CARD_REMOVED;
    ck_assert_int_eq(cl_card_transmit(&card, cmd, 4, resp, sizeof(resp), &rl),
                     CL_ERR_CARD_REMOVED);
    ck_assert_uint_eq(cl_card_state(&card), CL_CARD_CLOSED);

    /* no card; a protocol the session cannot drive; a bad ATR twice */
    a.connect_rc = CL_ERR_CARD_REMOVED;
    ck_assert_int_eq(cl_card_activate(&card), CL_ERR_CARD_REMOVED);
    a.connect_rc = CL_OK;
    a.connects = 0;
    a.proto = 2;
    ck_assert_int_eq(cl_card_activate(&card), CL_ERR_UNSUPPORTED);
    a.proto = 0;
    a.connects = 0;
    a.atr[0] = a.atr[1] = "3A";
    ck_assert_int_eq(cl_card_activate(&card), CL_ERR_BAD_TS);
    ck_assert_uint_eq(a.connects, 2);
    /* an APDU-level session counts APDUs, their bytes and the resets */
    ck_assert_uint_eq(cl_card_stats(&card)->apdus, 4);
    ck_assert_uint_eq(cl_card_stats(&card)->apdu_errors, 3);
    ck_assert_uint_eq(cl_card_stats(&card)->bytes_sent, 4);
    ck_assert_uint_eq(cl_card_stats(&card)->bytes_received, 2);
    ck_assert_uint_eq(cl_card_stats(&card)->activations, 2);
    ck_assert_uint_eq(cl_card_stats(&card)->cold_resets, 4);
    ck_assert_uint_eq(cl_card_stats(&card)->warm_resets, 2);
}
END_TEST

/* The APDU-level reader's edges (a one-at-a-time fault run of card_io.c):
 * the first connect is cold; a warm reset is one warm connect; counters and
 * info start again with each activation; the configuration checks; an ATR
 * of exactly 33 bytes; an ATR without its TCK taken with a warning;
 * specific mode reported; a failed activation and a deactivation
 * disconnect. */
START_TEST(test_apdu_reader_edges)
{
    struct fake_apdu a;
    struct cl_card card;
    struct cl_card_config cfg;

    memset(&a, 0, sizeof(a));
    a.atr[0] = a.atr[1] = A_SPEC;
    cl_card_init_apdu(&card, &fake_apdu_ops, &a, NULL);
    ck_assert_int_eq(cl_card_activate(&card), CL_OK);
    ck_assert_uint_eq(a.connects, 1);
    ck_assert(!a.warm_of[0]);
    ck_assert_uint_eq(cl_card_info(&card)->cold_resets, 1);
    ck_assert(cl_card_info(&card)->specific);
    ck_assert_int_eq(cl_card_activate(&card), CL_ERR_STATE);
    ck_assert_int_eq(cl_card_reset(&card, true), CL_OK);
    ck_assert_uint_eq(a.connects, 2);
    ck_assert(a.warm_of[1]);
    ck_assert_uint_eq(cl_card_info(&card)->warm_resets, 1);
    ck_assert_uint_eq(cl_card_info(&card)->cold_resets, 0);
    cl_card_deactivate(&card);
    ck_assert_uint_eq(a.disconnects, 1);
    ck_assert_uint_eq(cl_card_state(&card), CL_CARD_CLOSED);

    /* the longest ATR, 33 bytes; an ATR that stopped where its TCK was due */
    memset(&a, 0, sizeof(a));
    a.atr[0] = "3B FF 11 00 00 E1 00 0A F1 FE 45 00 F1 FE 45 00 01"
               " 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F 04";
    a.proto = 1;
    ck_assert_int_eq(cl_card_activate(&card), CL_OK);
    ck_assert_uint_eq(cl_card_atr(&card)->len, 33);
    ck_assert_uint_eq(cl_card_info(&card)->atr_warnings, 0);
    cl_card_deactivate(&card);
    memset(&a, 0, sizeof(a));
    a.atr[0] = "3B 81 81 31 FE 45 4A";
    a.proto = 1;
    ck_assert_int_eq(cl_card_activate(&card), CL_OK);
    ck_assert_uint_eq(a.connects, 1);
    ck_assert_uint_eq(cl_card_info(&card)->atr_warnings, CL_ATR_W_TCK_MISSING);
    cl_card_deactivate(&card);

    /* a failed activation disconnects */
    memset(&a, 0, sizeof(a));
    a.atr[0] = A_T0;
    a.proto = 2;
    ck_assert_int_eq(cl_card_activate(&card), CL_ERR_UNSUPPORTED);
    ck_assert_uint_eq(a.disconnects, 1);

    /* the configuration: T=1 preferred is fine, T=2 and IFSD 255 are not */
    memset(&a, 0, sizeof(a));
    a.atr[0] = A_T0;
    cl_card_config_default(&cfg);
    cfg.protocol = 1;
    cl_card_init_apdu(&card, &fake_apdu_ops, &a, &cfg);
    ck_assert_int_eq(cl_card_activate(&card), CL_OK);
    cl_card_deactivate(&card);
    cfg.protocol = 2;
    cl_card_init_apdu(&card, &fake_apdu_ops, &a, &cfg);
    ck_assert_int_eq(cl_card_activate(&card), CL_ERR_ARG);
    cfg.protocol = CL_CARD_T_ANY;
    cfg.ifsd = 255;
    cl_card_init_apdu(&card, &fake_apdu_ops, &a, &cfg);
    ck_assert_int_eq(cl_card_activate(&card), CL_ERR_ARG);
}
END_TEST

/* The line session's blocking calls: a cold reset is a power-off and a
 * cold activation; transmit() refuses a NULL buffer with a size; a card
 * found absent at activation is powered off all the same. */
START_TEST(test_line_calls)
{
    static const struct step steps[] = {
        COLD, C(A_T0), OFF, COLD, C(A_T0), { S_END, NULL }
    };
    static const struct step none[] = { { S_END, NULL } };
    struct fake f;
    struct cl_card card;
    struct cl_card_line line;
    uint8_t cmd[4] = { 0x00, 0x70, 0x00, 0x00 };
    size_t rl = 0;

    fake_init(&f, steps, 0);
    card_setup(&card, &line, &f, 0);
    ck_assert_int_eq(cl_card_activate(&card), CL_OK);
    ck_assert_int_eq(cl_card_transmit(&card, cmd, 4, NULL, 1, &rl), CL_ERR_ARG);
    ck_assert_int_eq(cl_card_reset(&card, false), CL_OK);
    ck_assert_uint_eq(f.offs, 1);
    ck_assert_uint_eq(f.steps[f.i].kind, S_END);
    ck_assert_uint_eq(cl_card_info(&card)->cold_resets, 1);
    ck_assert_uint_eq(cl_card_info(&card)->warm_resets, 0);

    fake_init(&f, none, O_ABSENT);
    card_setup(&card, &line, &f, O_ABSENT);
    ck_assert_int_eq(cl_card_activate(&card), CL_ERR_CARD_REMOVED);
    ck_assert_uint_eq(f.offs, 1);
    ck_assert_int_eq(cl_card_want(&card), CL_WANT_FAILED);
}
END_TEST

static Suite *card_suite(void)
{
    Suite *s = suite_create("card");
    TCase *tc = tcase_create("session");

    tcase_add_test(tc, test_pps_guard_time);
    tcase_add_loop_test(tc, test_scenario, 0, (int)CL_ARRAY_LEN(scenarios));
    tcase_add_test(tc, test_deactivate_reactivate);
    tcase_add_test(tc, test_t1_config_from_atr);
    tcase_add_loop_test(tc, test_plan, 0, (int)CL_ARRAY_LEN(plans));
    tcase_add_test(tc, test_plan_args);
    tcase_add_test(tc, test_plan_edges);
    tcase_add_test(tc, test_plan_pairs);
    tcase_add_test(tc, test_args);
    tcase_add_test(tc, test_t0_bad_apdu);
    tcase_add_test(tc, test_atr_total_time);
    tcase_add_test(tc, test_flaky);
    tcase_add_test(tc, test_engine_by_hand);
    tcase_add_test(tc, test_wtx_saturates);
    tcase_add_test(tc, test_null_deadline);
    tcase_add_loop_test(tc, test_loop_deadline, 0, 2);
    tcase_add_test(tc, test_t0_stale_bytes);
    tcase_add_test(tc, test_slow_clock);
    tcase_add_test(tc, test_stats);
    tcase_add_loop_test(tc, test_pin_wiped, 0, 3);
    tcase_add_test(tc, test_lenient_atr_and_warm_reset);
    tcase_add_test(tc, test_apdu_reader);
    tcase_add_test(tc, test_apdu_reader_edges);
    tcase_add_test(tc, test_line_calls);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(card_suite());
}
