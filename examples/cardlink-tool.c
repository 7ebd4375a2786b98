/*
 * cardlink-tool — decode ATRs, command APDUs and status words.
 * SPDX-License-Identifier: Apache-2.0
 *
 *   cardlink-tool atr [--json] HEX     ISO 7816-3 ATR, byte by byte
 *   cardlink-tool apdu HEX             ISO 7816-4 command APDU
 *   cardlink-tool sw HEX               status word SW1 SW2
 *   cardlink-tool tlv HEX              BER-TLV data objects, ISO 7816 / EMV names
 *   cardlink-tool readers              PC/SC readers, their cards and ATRs
 *   cardlink-tool --help | --version
 *
 * With a reader, the same words talk to a real (or simulated) card through
 * the card session (lib/card): activation, PPS, T=0 or T=1:
 *   cardlink-tool --reader SPEC [OPTIONS] atr          activate, decode the ATR
 *   cardlink-tool --reader SPEC [OPTIONS] apdu HEX...  send APDUs
 *   cardlink-tool --reader SPEC [OPTIONS] script FILE  run a card dialogue
 * SPEC: vline:tcp:HOST:PORT, vline:unix:PATH, vline:pty:/dev/pts/N (the
 * virtual card line of cardlink-vcard), serial:DEVICE[,dtr][,clock=KHZ][,max_baud=N]
 * (a Phoenix/Smartmouse reader), pcsc:NAME (among the PC/SC readers whose
 * name contains NAME, "pcsc:" alone: all, the first holding a card, else
 * the first).
 * OPTIONS: --protocol 0|1, --no-pps,
 * --ifsd N, -v (log the activation), -vv (and trace the card line: tool/trace.h).
 * A script line is an APDU in hex, optionally followed by "=>" and the
 * status words expected (9000, 61XX with X as wildcards, or "any"), or
 * "reset" / "reset cold"; '#' starts a comment (see run_script()).
 *
 * HEX may contain spaces and colons, and may be split over several
 * arguments. Exit status: 0 decoded / every expectation met, 1 malformed
 * input, a card error or an unexpected status word, 2 usage error.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardlink/apdu.h"
#include "cardlink/atr.h"
#include "cardlink/card.h"
#include "cardlink/error.h"
#include "cardlink/sw.h"
#include "serial.h"
#include "vline.h"
#include "vline_card.h"
#include "tool/trace.h"
#include "tool/tool.h"
#ifdef CL_HAVE_PCSC
#include "pcsc.h"
#endif

uint8_t inbuf[HEX_MAX];

static const char usage_text[] =
    "usage: cardlink-tool atr [--json] HEX       decode an ATR (ISO 7816-3)\n"
    "       cardlink-tool apdu HEX               explain a command APDU (ISO 7816-4)\n"
    "       cardlink-tool sw HEX                 explain a status word SW1 SW2\n"
    "       cardlink-tool tlv HEX                decode BER-TLV data objects\n"
    "       cardlink-tool policy [--iso] [--after-pin] HEX\n"
    "                                            would a device relay it? (lib/policy)\n"
    "       cardlink-tool readers                list PC/SC readers, cards and ATRs\n"
    "       cardlink-tool --reader SPEC [--protocol 0|1] [--no-pps] [--ifsd N] [-v|-vv]\n"
    "                     atr | apdu HEX... | script FILE\n"
    "       cardlink-tool --help | --version\n"
    "  SPEC: vline:tcp:HOST:PORT | vline:unix:PATH | vline:pty:/dev/pts/N |\n"
    "        serial:DEVICE[,dtr][,clock=KHZ][,max_baud=N]"
#ifdef CL_HAVE_PCSC
    " | pcsc:[READER-NAME-SUBSTRING]\n"
    "        (pcsc: the first matching reader that holds a card)"
#endif
    "\n";

static const char help_text[] =
    "\n"
    "HEX may contain spaces and colons and may be split over several arguments.\n"
    "A script is one command per line; '#' starts a comment:\n"
    "  00 A4 00 0C 02 3F 00             send; any status word goes on\n"
    "  00 A4 00 0C 02 3F 00 => 9000     stop unless the status word is 9000\n"
    "  00 B0 00 00 00 => 9000 62XX      several allowed; X: any hex digit; any\n"
    "  reset                            warm reset, re-activate (reset cold: power off/on)\n"
    "With -v, the activation and decoded responses are shown; with -vv, also\n"
    "what crosses the card line (ATR, PPS, T=0 procedure bytes, T=1 blocks).\n"
    "Exit status: 0 decoded / every expectation met, 1 malformed input, a card\n"
    "error or an unexpected status word, 2 usage error.\n";

/* see tool/tool.h */
int usage(void)
{
    fputs(usage_text, stderr);
    return 2;
}

/* Join argv[first..argc) and decode it as hex; spaces, colons allowed.
 * Returns the byte count, or -1 with a message on stderr. */
long parse_hex_args(int argc, char **argv, int first)
{
    long n = 0;
    int hi = -1, i;

    for (i = first; i < argc; i++) {
        const char *p;
        for (p = argv[i]; *p; p++) {
            int v;
            if (*p == ' ' || *p == ':' || *p == '\t' || *p == '\n')
                continue;
            if (!isxdigit((unsigned char)*p)) {
                fprintf(stderr, "cardlink-tool: not a hex digit: '%c'\n", *p);
                return -1;
            }
            v = isdigit((unsigned char)*p) ? *p - '0' : (tolower((unsigned char)*p) - 'a' + 10);
            if (hi < 0) {
                hi = v;
                continue;
            }
            if (n >= HEX_MAX) {
                fputs("cardlink-tool: input too long\n", stderr);
                return -1;
            }
            inbuf[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    if (hi >= 0) {
        fputs("cardlink-tool: odd number of hex digits\n", stderr);
        return -1;
    }
    return n;
}

void print_hex(FILE *f, const uint8_t *b, size_t n, const char *sep)
{
    size_t i;
    for (i = 0; i < n; i++)
        fprintf(f, "%s%02X", i ? sep : "", b[i]);
}

/* ------------------------------------------------------------------- SW */

/* What ISO 7816-4 leaves proprietary but a card engineer meets daily: the
 * 9XXX families of the SIM/UICC specifications (GSM 11.11, ETSI TS 102 221)
 * and of MIFARE DESFire. NULL where nothing is known: "proprietary". */
static const char *sw_9xxx(uint16_t sw, char *buf, size_t size)
{
    unsigned sw1 = sw >> 8, sw2 = sw & 0xFFu;

    switch (sw1) {
    case 0x91:
        snprintf(buf, size, "UICC (TS 102 221): normal ending, a proactive command of %u bytes "
                 "pending (FETCH); MIFARE DESFire: native status %02X", sw2, sw2);
        return buf;
    case 0x92:
        if (sw2 == 0x40)
            return "SIM (GSM 11.11): memory problem";
        if ((sw2 & 0xF0) == 0)
            snprintf(buf, size, "SIM (GSM 11.11): command successful after %u internal retr%s", sw2 & 15u,
                     (sw2 & 15u) == 1 ? "y" : "ies");
        else
            snprintf(buf, size, "SIM (GSM 11.11) family 92: SW2 %02X not defined", sw2);
        return buf;
    case 0x93:
        return sw2 == 0 ? "SIM toolkit (GSM 11.14, TS 102 221): toolkit busy, retry later"
                        : "SIM toolkit family 93: proprietary";
    case 0x94:
        return sw2 == 0x00 ? "SIM (GSM 11.11): no EF selected" :
               sw2 == 0x02 ? "SIM (GSM 11.11): out of range (invalid address)" :
               sw2 == 0x04 ? "SIM (GSM 11.11): file ID or pattern not found" :
               sw2 == 0x08 ? "SIM (GSM 11.11): file inconsistent with the command"
                           : "SIM (GSM 11.11) family 94 (referencing): proprietary";
    case 0x98:
        return sw2 == 0x02 ? "SIM (GSM 11.11): no CHV initialised" :
               sw2 == 0x04 ? "SIM (GSM 11.11): access condition not fulfilled, or CHV verification failed" :
               sw2 == 0x08 ? "SIM (GSM 11.11): in contradiction with the CHV status" :
               sw2 == 0x10 ? "SIM (GSM 11.11): in contradiction with the invalidation status" :
               sw2 == 0x40 ? "SIM (GSM 11.11): CHV verification failed, no attempt left: CHV blocked" :
               sw2 == 0x50 ? "SIM (GSM 11.11): increase impossible, maximum value reached" :
               sw2 == 0x62 ? "UICC (TS 102 221): authentication error, application specific"
                           : "SIM (GSM 11.11) family 98 (security): proprietary";
    case 0x9E:
        snprintf(buf, size, "SIM (GSM 11.11): SIM data download error, %u bytes of response (GET RESPONSE)", sw2 ? sw2 : 256u);
        return buf;
    case 0x9F:
        snprintf(buf, size, "SIM (GSM 11.11): %u bytes of response available (GET RESPONSE)", sw2 ? sw2 : 256u);
        return buf;
    default:
        return NULL;
    }
}

/* The one-line description of a status word: cl_sw_text() with the
 * counter, the byte counts and the SIM families filled in. */
static const char *sw_describe(uint16_t sw, char *buf, size_t size)
{
    const char *t = cl_sw_text(sw), *x = strstr(t, "X tries left");
    unsigned sw2 = sw & 0xFFu;
    char fam[160];
    const char *f;

    if (x && cl_sw_retries(sw) >= 0) {
        int r = cl_sw_retries(sw);
        snprintf(buf, size, "%.*s%d tr%s left", (int)(x - t), t, r, r == 1 ? "y" : "ies");
    } else if ((sw >> 8) == 0x61) {
        snprintf(buf, size, "%s (%u bytes available%s)", t, sw2 ? sw2 : 256u, sw2 ? "" : " or more");
    } else if ((sw >> 8) == 0x6C) {
        if (sw2)
            snprintf(buf, size, "%s (resend with Le=%02X: Ne = %u)", t, sw2, sw2);
        else
            snprintf(buf, size, "%s (resend with Le=00: Ne = 256)", t);
    } else if (sw != CL_SW_OK && (sw >> 12) == 9 && (f = sw_9xxx(sw, fam, sizeof(fam))) != NULL) {
        snprintf(buf, size, "%s", f);
    } else {
        snprintf(buf, size, "%s", t);
    }
    return buf;
}

static int cmd_sw(int argc, char **argv)
{
    static const char *const classes[] = {
        "invalid", "success", "success, more data", "warning", "execution error",
        "checking error", "wrong Le", "proprietary"
    };
    char text[256];
    long n;
    uint16_t sw;

    if (argc < 3)
        return usage();
    n = parse_hex_args(argc, argv, 2);
    if (n < 0)
        return 1;
    if (n != 2) {
        fprintf(stderr, "cardlink-tool: a status word is 2 bytes, got %ld\n", n);
        return 1;
    }
    sw = CL_SW(inbuf[0], inbuf[1]);
    printf("%04X  %s: %s\n", sw, classes[cl_sw_class(sw)], sw_describe(sw, text, sizeof(text)));
    return 0;
}

/* --------------------------------------------------------------- reader */

struct reader {
    struct cl_card card;
    struct cl_card_config cfg;
    struct cl_vline vl;
    struct cl_vline_card vc;
    struct cl_serial serial;
#ifdef CL_HAVE_PCSC
    struct cl_pcsc pcsc;
    bool is_pcsc;
#endif
    bool is_vline;
    unsigned verbose;   /* -v 1, -vv 2: the line traced (tool/trace.c) */
    struct trace trace;
};

static struct reader rd;   /* large (engines, ATR): not on the stack */

#ifdef CL_HAVE_PCSC
/* One line on stderr for a PC/SC failure: pcscd missing, no reader (or
 * none matching), or what pcsc-lite says. */
static void pcsc_complain(int err, long last, const char *match)
{
    if (last == SCARD_E_NO_SERVICE)
        fputs("cardlink-tool: no PC/SC service: is pcscd running?\n", stderr);
    else if (err == CL_ERR_NOT_FOUND && match != NULL && *match != '\0')
        fprintf(stderr, "cardlink-tool: no PC/SC reader matching '%s' "
                "(cardlink-tool readers lists them)\n", match);
    else if (err == CL_ERR_NOT_FOUND)
        fputs("cardlink-tool: no PC/SC reader\n", stderr);
    else if (last != SCARD_S_SUCCESS)
        fprintf(stderr, "cardlink-tool: PC/SC: %s (%s)\n",
                pcsc_stringify_error(last), cl_strerror(err));
    else
        fprintf(stderr, "cardlink-tool: PC/SC: %s\n", cl_strerror(err));
}

/* cardlink-tool readers: every PC/SC reader, its card and ATR. */
static int cmd_readers(int argc, char **argv)
{
    static struct cl_pcsc_reader_state st[32];
    size_t n = 0, i, k;
    long last = 0;
    int err;

    (void)argv;
    if (argc != 2)
        return usage();
    err = cl_pcsc_list(st, CL_ARRAY_LEN(st), &n, &last);
    if (err != CL_OK) {
        pcsc_complain(err, last, NULL);
        return 1;
    }
    if (n == 0) {
        fputs("cardlink-tool: no PC/SC reader\n", stderr);
        return 1;
    }
    for (i = 0; i < n && i < CL_ARRAY_LEN(st); i++) {
        printf("%u: %s\n", (unsigned)i, st[i].name);
        if (!st[i].present) {
            printf("   no card\n");
            continue;
        }
        printf("   card%s%s", st[i].mute ? ", mute (no answer to reset)" : "",
               st[i].exclusive ? ", in exclusive use by another program" : "");
        if (st[i].atr_len > 0) {
            printf(", ATR");
            for (k = 0; k < st[i].atr_len; k++)
                printf(" %02X", st[i].atr[k]);
        }
        printf("\n");
    }
    if (n > CL_ARRAY_LEN(st))
        printf("(%u more)\n", (unsigned)(n - CL_ARRAY_LEN(st)));
    return 0;
}
#endif

/* The card session over line (ctx): through the trace with -vv. */
static void reader_line(struct reader *r, const struct cl_card_line *line, void *ctx)
{
    if (r->verbose >= 2) {
        trace_init(&r->trace, line, ctx, stdout);
        line = trace_line(&r->trace);
        ctx = &r->trace;
    }
    cl_card_init_line(&r->card, line, ctx, &r->cfg);
}

static int reader_open(struct reader *r, const char *spec)
{
    int err;

    if (strncmp(spec, "vline:", 6) == 0) {
        cl_vline_init(&r->vl);
        err = cl_vline_connect(&r->vl, spec + 6);
        if (err != CL_OK) {
            fprintf(stderr, "cardlink-tool: cannot reach %s: %s\n", spec + 6, cl_strerror(err));
            return err;
        }
        cl_vline_card_init(&r->vc, &r->vl);
        reader_line(r, cl_vline_card_line(), &r->vc);
        r->is_vline = true;
        return CL_OK;
    }
    if (strncmp(spec, "serial:", 7) == 0) {
        static char dev[256];
        struct cl_serial_config sc;
        char *opt;

        cl_serial_config_default(&sc);
        snprintf(dev, sizeof(dev), "%s", spec + 7);
        /* DEVICE[,dtr][,clock=KHZ] */
        for (opt = strchr(dev, ','); opt; opt = strchr(opt, ',')) {
            *opt++ = '\0';
            if (strncmp(opt, "dtr", 3) == 0 && (opt[3] == ',' || opt[3] == '\0'))
                sc.reset_line = CL_SERIAL_RESET_DTR;
            else if (strncmp(opt, "clock=", 6) == 0)
                sc.clock_khz = (uint32_t)strtoul(opt + 6, NULL, 10);
            else if (strncmp(opt, "max_baud=", 9) == 0)     /* 0: no limit */
                sc.max_baud = (uint32_t)strtoul(opt + 9, NULL, 10);
            else {
                fprintf(stderr, "cardlink-tool: unknown serial option '%s'\n", opt);
                return CL_ERR_ARG;
            }
        }
        sc.port = dev;
        err = cl_serial_open(&r->serial, &sc);
        if (err != CL_OK) {
            fprintf(stderr, "cardlink-tool: cannot open %s: %s\n", dev, cl_strerror(err));
            return err;
        }
        reader_line(r, cl_serial_line(&r->serial), &r->serial);
        return CL_OK;
    }
#ifdef CL_HAVE_PCSC
    if (strncmp(spec, "pcsc:", 5) == 0) {
        cl_pcsc_init(&r->pcsc);
        err = cl_pcsc_open(&r->pcsc, spec + 5);
        if (err != CL_OK) {
            pcsc_complain(err, cl_pcsc_last(&r->pcsc), spec + 5);
            return err;
        }
        if (r->verbose)
            fprintf(stderr, "PC/SC reader: %s\n", cl_pcsc_reader(&r->pcsc));
        cl_card_init_apdu(&r->card, cl_pcsc_apdu(), &r->pcsc, &r->cfg);
        r->is_pcsc = true;
        return CL_OK;
    }
#endif
    fprintf(stderr, "cardlink-tool: unknown reader '%s'\n", spec);
    return CL_ERR_ARG;
}

static void reader_close(struct reader *r)
{
    cl_card_deactivate(&r->card);
#ifdef CL_HAVE_PCSC
    if (r->is_pcsc) {
        cl_pcsc_close(&r->pcsc);
        return;
    }
#endif
    if (r->is_vline)
        cl_vline_close(&r->vl);
    else
        cl_serial_close(&r->serial);
}

static int reader_activate(struct reader *r)
{
    static const char *const pps_names[] = {
        "no PPS", "PPS accepted", "PPS answered without PPS1: default rate",
        "PPS failed: reset, default rate"
    };
    const struct cl_card_info *info;
    const struct cl_card_line_params *lp;
    int err = cl_card_activate(&r->card);

    if (err != CL_OK) {
        fprintf(stderr, "cardlink-tool: activation failed: %s\n", cl_strerror(err));
        return err;
    }
    info = cl_card_info(&r->card);
    lp = cl_card_params(&r->card);
    if (r->verbose && lp->f == 0)   /* an APDU-level reader chose the rate */
        fprintf(stderr, "activated: T=%d, rate and PPS handled by the reader\n",
                cl_card_protocol(&r->card));
    else if (r->verbose)
        fprintf(stderr, "activated: T=%d, F=%u D=%u, clock %lu kHz, %s%s, %u cold / %u warm resets\n",
                cl_card_protocol(&r->card), lp->f, lp->d, (unsigned long)lp->clock_khz,
                pps_names[info->pps & 3], info->specific ? ", specific mode" : "",
                info->cold_resets, info->warm_resets);
    if (info->atr_warnings != 0)    /* taken as pcsc-lite takes it */
        fprintf(stderr, "ATR accepted with warnings:%s%s\n",
                (info->atr_warnings & CL_ATR_W_TCK_MISSING) ? " TCK missing" : "",
                (info->atr_warnings & CL_ATR_W_HIST_SHORT) ? " historical bytes cut short" : "");
    return CL_OK;
}

/* Send one APDU and print it with the response. *sw gets the status word. */
static int reader_exchange(struct reader *r, const uint8_t *cmd, size_t len, uint16_t *sw)
{
    static uint8_t resp[CL_RAPDU_MAX];
    size_t rlen = 0;
    int err;

    printf("> ");
    print_hex(stdout, cmd, len, " ");
    putchar('\n');
    if (r->verbose)
        printf("  %s\n", apdu_name(cmd, len));
    err = cl_card_transmit(&r->card, cmd, len, resp, sizeof(resp), &rlen);
    if (err != CL_OK) {
        printf("! %s\n", cl_strerror(err));
        return err;
    }
    if (rlen < 2) {
        printf("! response without status word\n");
        return CL_ERR_PROTOCOL;
    }
    *sw = CL_SW(resp[rlen - 2], resp[rlen - 1]);
    printf("< ");
    print_hex(stdout, resp, rlen, " ");
    {
        char text[256];
        printf("\n  %04X %s\n", *sw, sw_describe(*sw, text, sizeof(text)));
    }
    /* -v: file control information and templates decoded */
    if (r->verbose && rlen > 2 && (resp[0] == 0x6F || resp[0] == 0x62 || resp[0] == 0x64))
        (void)tlv_tree(resp, rlen - 2, "    ");
    fflush(stdout);
    return CL_OK;
}

/* "9000", "61XX", "any": does sw match? -1 when the pattern is malformed. */
static int sw_matches(const char *pat, uint16_t sw)
{
    int i;

    if (strcmp(pat, "any") == 0 || strcmp(pat, "*") == 0)
        return 1;
    if (strlen(pat) != 4)
        return -1;
    for (i = 0; i < 4; i++) {
        unsigned nib = (sw >> (12 - 4 * i)) & 15u;
        char c = pat[i];
        if (c == 'X' || c == 'x')
            continue;
        if (!isxdigit((unsigned char)c))
            return -1;
        if ((unsigned)(isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10) != nib)
            return 0;
    }
    return 1;
}

/* A token that reads as a status word pattern: 4 hex digits or X. */
static bool is_sw_token(const char *t)
{
    size_t i;

    if (strlen(t) != 4)
        return false;
    for (i = 0; i < 4; i++)
        if (!isxdigit((unsigned char)t[i]) && t[i] != 'X' && t[i] != 'x')
            return false;
    return true;
}

/* The old script form "APDU   9000": the last of the line's tokens is a
 * lone 4-digit group after 2-digit ones. It is taken as data only where the
 * whole line is a case 3 command whose data runs to its end (00 A4 00 00
 * 02 3F00); anywhere else it is refused, since it most likely was meant as
 * the expected status word. Returns true when the line must be refused. */
static bool old_expectation(char *hex)
{
    char copy[4096], *tok, *last = NULL;
    bool pairs = true;
    struct cl_apdu a;
    enum cl_apdu_case c;
    char *one[1];
    long n;

    snprintf(copy, sizeof(copy), "%s", hex);
    for (tok = strtok(copy, " \t\r\n"); tok; tok = strtok(NULL, " \t\r\n")) {
        if (last && strlen(last) != 2)
            pairs = false;
        last = tok;
    }
    if (!last || !pairs || !is_sw_token(last) || last == copy)
        return false;
    if (strcmp(last, "any") == 0 || strchr(last, 'X') || strchr(last, 'x'))
        return true;
    one[0] = hex;
    n = parse_hex_args(1, one, 0);
    if (n < 0 || cl_apdu_decode(inbuf, (size_t)n, &a, &c) != CL_OK)
        return true;
    return c != CL_APDU_CASE_3S && c != CL_APDU_CASE_3E;
}

/* A script's reset line: "reset" is a warm reset (power and clock kept,
 * RST pulsed; a PC/SC reader reconnects with SCARD_RESET_CARD), "reset
 * cold" powers the card off and on; either way the session activates the
 * card again (ATR, PPS, protocol) with cl_card_reset(). */
static int reader_reset(struct reader *r, bool cold)
{
    const struct cl_atr *atr;
    int err = cl_card_reset(&r->card, !cold);

    if (err != CL_OK) {
        fprintf(stderr, "cardlink-tool: reset failed: %s\n", cl_strerror(err));
        return 1;
    }
    atr = cl_card_atr(&r->card);
    printf("* reset%s: card re-activated, ATR ", cold ? " cold" : "");
    print_hex(stdout, atr->raw, atr->len, " ");
    putchar('\n');
    return 0;
}

/*
 * A script, one command per line:
 *   APDU-HEX                 send; any status word goes on
 *   APDU-HEX => SW [SW...]   send; stop unless the status word matches one
 *                            (4 hex digits, X for any digit, or "any")
 *   reset [cold]             reset the card (the session re-activates it)
 * '#' starts a comment; blank lines are skipped.
 */
static int run_script(struct reader *r, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    unsigned lineno = 0, sent = 0, resets = 0;
    int rc = 0;

    if (!f) {
        perror(path);
        return 1;
    }
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        char *hash = strchr(line, '#'), *arrow, *tok, *pats[16];
        char *args[1];
        unsigned npat = 0, k;
        long n;
        uint16_t sw;
        bool ok;

        lineno++;
        if (hash)
            *hash = '\0';
        tok = line + strspn(line, " \t\r\n");
        if (*tok == '\0')
            continue;
        if (strncmp(tok, "reset", 5) == 0 && (tok[5] == '\0' || isspace((unsigned char)tok[5]))) {
            char *how = strtok(tok + 5, " \t\r\n"), *more = strtok(NULL, " \t\r\n");
            if (more || (how && strcmp(how, "cold") != 0 && strcmp(how, "warm") != 0)) {
                fprintf(stderr, "%s:%u: write \"reset\", \"reset warm\" or \"reset cold\"\n",
                        path, lineno);
                rc = 1;
                break;
            }
            resets++;
            rc = reader_reset(r, how && strcmp(how, "cold") == 0);
            continue;
        }
        arrow = strstr(tok, "=>");
        if (arrow) {
            *arrow = '\0';
            for (tok = strtok(arrow + 2, " \t\r\n"); tok; tok = strtok(NULL, " \t\r\n")) {
                if (npat == 16 || sw_matches(tok, 0x9000) < 0) {
                    fprintf(stderr, "%s:%u: bad status word pattern '%s' (9000, 61XX, any)\n",
                            path, lineno, tok);
                    rc = 1;
                    break;
                }
                pats[npat++] = tok;
            }
            if (rc)
                break;
            if (npat == 0) {
                fprintf(stderr, "%s:%u: no status word after '=>'\n", path, lineno);
                rc = 1;
                break;
            }
        } else if (old_expectation(line)) {
            fprintf(stderr, "%s:%u: the last group looks like an expected status word: "
                    "write 'APDU => SW' (e.g. '00 A4 00 0C 02 3F 00 => 9000')\n", path, lineno);
            rc = 1;
            break;
        }
        args[0] = line;
        n = parse_hex_args(1, args, 0);
        if (n < 0) {
            fprintf(stderr, "%s:%u: not hex\n", path, lineno);
            rc = 1;
            break;
        }
        if (n < 4) {
            fprintf(stderr, "%s:%u: not a command APDU\n", path, lineno);
            rc = 1;
            break;
        }
        sent++;
        if (reader_exchange(r, inbuf, (size_t)n, &sw) != CL_OK) {
            rc = 1;
            break;
        }
        ok = npat == 0;
        for (k = 0; k < npat && !ok; k++)
            ok = sw_matches(pats[k], sw) == 1;
        if (!ok) {
            printf("! expected ");
            for (k = 0; k < npat; k++)
                printf("%s%s", k ? " or " : "", pats[k]);
            printf(": stop\n");
            rc = 1;
        }
    }
    fclose(f);
    printf("%u APDUs sent", sent);
    if (resets)
        printf(", %u reset%s", resets, resets > 1 ? "s" : "");
    printf(", %s\n", rc ? "stopped" : "all as expected");
    return rc;
}

static int cmd_reader(int argc, char **argv)
{
    const char *spec = NULL;
    int i, rc = 0;

    cl_card_config_default(&rd.cfg);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--reader") == 0 && i + 1 < argc)
            spec = argv[++i];
        else if (strcmp(argv[i], "--protocol") == 0 && i + 1 < argc)
            rd.cfg.protocol = (uint8_t)atoi(argv[++i]);
        else if (strcmp(argv[i], "--ifsd") == 0 && i + 1 < argc)
            rd.cfg.ifsd = (uint8_t)atoi(argv[++i]);
        else if (strcmp(argv[i], "--no-pps") == 0)
            rd.cfg.pps = false;
        else if (strcmp(argv[i], "-v") == 0)
            rd.verbose++;
        else if (strcmp(argv[i], "-vv") == 0)
            rd.verbose = 2;
        else
            break;
    }
    if (!spec || i >= argc)
        return usage();
    if (reader_open(&rd, spec) != CL_OK)
        return 1;
    if (reader_activate(&rd) != CL_OK) {
        reader_close(&rd);
        return 1;
    }
    if (strcmp(argv[i], "atr") == 0) {
        const struct cl_atr *atr = cl_card_atr(&rd.card);
        atr_human(atr, true, 0, NULL, 0);
        printf("running: T=%d\n", cl_card_protocol(&rd.card));
    } else if (strcmp(argv[i], "apdu") == 0 && i + 1 < argc) {
        int k;
        for (k = i + 1; k < argc && rc == 0; k++) {
            char *one[1] = { argv[k] };
            long n = parse_hex_args(1, one, 0);
            uint16_t sw;
            if (n < 4) {
                fprintf(stderr, "cardlink-tool: not a command APDU: %s\n", argv[k]);
                rc = 1;
            } else if (reader_exchange(&rd, inbuf, (size_t)n, &sw) != CL_OK) {
                rc = 1;
            }
        }
    } else if (strcmp(argv[i], "script") == 0 && i + 1 < argc) {
        rc = run_script(&rd, argv[i + 1]);
    } else {
        rc = usage();
    }
    reader_close(&rd);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage_text, stdout);
        fputs(help_text, stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("cardlink-tool %s\n", CL_TOOL_VERSION);
        return 0;
    }
    if (argv[1][0] == '-')
        return cmd_reader(argc, argv);
    if (strcmp(argv[1], "atr") == 0)
        return cmd_atr(argc, argv);
    if (strcmp(argv[1], "apdu") == 0)
        return cmd_apdu(argc, argv);
    if (strcmp(argv[1], "sw") == 0)
        return cmd_sw(argc, argv);
    if (strcmp(argv[1], "tlv") == 0)
        return cmd_tlv(argc, argv);
    if (strcmp(argv[1], "policy") == 0)
        return cmd_policy(argc, argv);
    if (strcmp(argv[1], "readers") == 0) {
#ifdef CL_HAVE_PCSC
        return cmd_readers(argc, argv);
#else
        fputs("cardlink-tool: built without PC/SC (pcsc-lite): no readers to list\n",
              stderr);
        return 1;
#endif
    }
    return usage();
}
