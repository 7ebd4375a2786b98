/*
 * cardlink-tool — decode ATRs, command APDUs and status words.
 * SPDX-License-Identifier: Apache-2.0
 *
 *   cardlink-tool atr [--json] HEX     ISO 7816-3 ATR, byte by byte
 *   cardlink-tool apdu HEX             ISO 7816-4 command APDU
 *   cardlink-tool sw HEX               status word SW1 SW2
 *
 * With a reader, the same words talk to a real (or simulated) card through
 * the card session (lib/card): activation, PPS, T=0 or T=1:
 *   cardlink-tool --reader SPEC [OPTIONS] atr          activate, decode the ATR
 *   cardlink-tool --reader SPEC [OPTIONS] apdu HEX...  send APDUs
 *   cardlink-tool --reader SPEC [OPTIONS] script FILE  run a card dialogue
 * SPEC: vline:tcp:HOST:PORT, vline:unix:PATH, vline:pty:/dev/pts/N (the
 * virtual card line of cardlink-vcard), serial:DEVICE[,dtr][,clock=KHZ][,max_baud=N]
 * (a Phoenix/Smartmouse reader), pcsc:NAME (the first PC/SC reader whose
 * name contains NAME; "pcsc:" alone: the first reader pcscd lists).
 * OPTIONS: --protocol 0|1, --no-pps,
 * --ifsd N, -v (log the activation).
 * A script line is an APDU in hex, optionally followed by the status word
 * expected (9000, 61XX with X as wildcards, or "any"); '#' starts a comment.
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
#include "cardlink/edc.h"
#include "cardlink/error.h"
#include "cardlink/sw.h"
#include "serial.h"
#include "vline.h"
#include "vline_card.h"
#ifdef CL_HAVE_PCSC
#include "pcsc.h"
#endif

#define HEX_MAX 70000

static uint8_t inbuf[HEX_MAX];

static int usage(void)
{
    fputs("usage: cardlink-tool atr [--json] HEX\n"
          "       cardlink-tool apdu HEX\n"
          "       cardlink-tool sw HEX\n"
          "       cardlink-tool --reader SPEC [--protocol 0|1] [--no-pps] [--ifsd N] [-v]\n"
          "                     atr | apdu HEX... | script FILE\n"
          "  SPEC: vline:tcp:HOST:PORT | vline:unix:PATH | vline:pty:/dev/pts/N |\n"
          "        serial:DEVICE[,dtr][,clock=KHZ][,max_baud=N]"
#ifdef CL_HAVE_PCSC
          " | pcsc:[READER-NAME-SUBSTRING]"
#endif
          "\n", stderr);
    return 2;
}

/* Join argv[first..argc) and decode it as hex; spaces, colons allowed.
 * Returns the byte count, or -1 with a message on stderr. */
static long parse_hex_args(int argc, char **argv, int first)
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

static void print_hex(FILE *f, const uint8_t *b, size_t n, const char *sep)
{
    size_t i;
    for (i = 0; i < n; i++)
        fprintf(f, "%s%02X", i ? sep : "", b[i]);
}

/* ------------------------------------------------------------------ ATR */

/* Where a malformed ATR goes wrong, for the one-line error message. */
static size_t atr_error_offset(int err, const uint8_t *b, size_t len)
{
    int want;

    switch (err) {
    case CL_ERR_BAD_TS:
        return 0;
    case CL_ERR_TOO_LONG:
        return CL_ATR_MAX;
    case CL_ERR_CHECKSUM:
        return len - 1;
    case CL_ERR_TRAILING:
        want = cl_atr_expected_len(b, len);
        return want > 0 ? (size_t)want : len;
    default:           /* truncated, TCK missing: the byte that is not there */
        return len;
    }
}

static const char *class_names(uint8_t c, char *buf, size_t size)
{
    static const char *const names[] = { "A (5 V)", "B (3 V)", "C (1.8 V)" };
    size_t i, o = 0;

    buf[0] = '\0';
    for (i = 0; i < 3; i++)
        if (c & (1u << i))
            o += (size_t)snprintf(buf + o, size - o, "%s%s", o ? ", " : "", names[i]);
    if (c & 0x38u)
        snprintf(buf + o, size - o, "%sRFU bits %02X", o ? ", " : "", c & 0x38u);
    return buf;
}

static const char *const clock_stop_names[] = {
    "not supported", "state L", "state H", "no preference"
};

/* The T that group i's bytes are for: the T named by TD(i-1), for i >= 2. */
static int group_t(const struct cl_atr *a, unsigned gi)
{
    if (gi == 0)
        return -1;
    return a->group[gi - 1].b[CL_ATR_TD] & 0x0F;
}

static void explain_ib(const struct cl_atr *a, unsigned gi, unsigned which, uint8_t v)
{
    int t = group_t(a, gi);
    const struct cl_atr_params *p = &a->p;
    char cls[64];

    if (which == CL_ATR_TD) {
        if (v & 0xF0)
            printf("Y%u=%X: next group has%s%s%s%s; T=%u", gi + 2, v >> 4,
                   v & 0x10 ? " TA" : "", v & 0x20 ? " TB" : "",
                   v & 0x40 ? " TC" : "", v & 0x80 ? " TD" : "", v & 0x0F);
        else
            printf("Y%u=0: no more interface bytes; T=%u", gi + 2, v & 0x0F);
        return;
    }
    if (gi == 0) {
        if (which == CL_ATR_TA) {
            if (p->flags & CL_ATR_F_RATE_RESERVED)
                printf("Fi index %u, Di index %u: reserved (RFU), use Fd=372 Dd=1", v >> 4, v & 15);
            else
                printf("Fi=%u f(max)=%u.%u MHz, Di=%u", p->fi, p->fmax_khz / 1000,
                       (p->fmax_khz % 1000) / 100, p->di);
        } else if (which == CL_ATR_TB) {
            printf("VPP (deprecated since ISO 7816-3:2006)%s", v == 0 ? ": not connected" : "");
        } else {
            if (v == 255)
                printf("N=255: minimum character time (12 etu T=0, 11 etu T=1)");
            else
                printf("extra guard time N=%u etu", v);
        }
        return;
    }
    if (gi == 1 && which == CL_ATR_TA) {
        printf("specific mode, T=%u%s%s", v & 15,
               v & 0x10 ? ", Fi/Di implicit" : ", Fi/Di from TA1",
               v & 0x80 ? ", cannot change mode" : ", can change mode");
        return;
    }
    if (gi == 1 && which == CL_ATR_TB) {
        printf("VPP precise value (deprecated)");
        return;
    }
    if (gi == 1 && which == CL_ATR_TC && t == 0) {
        printf("WI=%u: T=0 work waiting time 960 x %u x Fi/f%s", v, v, v == 0 ? " (0 reserved)" : "");
        return;
    }
    if (t == 1) {
        if (which == CL_ATR_TA)
            printf("IFSC=%u%s", v, (v == 0 || v == 255) ? " (invalid)" : "");
        else if (which == CL_ATR_TB)
            printf("BWI=%u CWI=%u", v >> 4, v & 15);
        else
            printf("EDC=%s", v & 1 ? "CRC" : "LRC");
        return;
    }
    if (t == 15 && which == CL_ATR_TA) {
        printf("class %s; clock stop %s", class_names(v & 0x3F, cls, sizeof(cls)),
               clock_stop_names[v >> 6]);
        return;
    }
    printf("for T=%d", t);
}

static void atr_human(const struct cl_atr *a, bool tck_ok)
{
    static const char *const names = "ABCD";
    const struct cl_atr_params *p = &a->p;
    const uint8_t *h;
    size_t hl, i;
    unsigned gi, which, pos = 2;
    uint16_t fi;
    uint8_t di;
    uint16_t fmax;

    printf("ATR: ");
    print_hex(stdout, a->raw, a->len, " ");
    printf("\n  TS  %02X  %s convention\n", a->raw[0],
           p->flags & CL_ATR_F_INVERSE ? "inverse" : "direct");
    printf("  T0  %02X  Y1=%X:%s%s%s%s%s; K=%u historical bytes\n", a->raw[1], a->raw[1] >> 4,
           a->raw[1] & 0x10 ? " TA1" : "", a->raw[1] & 0x20 ? " TB1" : "",
           a->raw[1] & 0x40 ? " TC1" : "", a->raw[1] & 0x80 ? " TD1" : "",
           a->raw[1] & 0xF0 ? "" : " no interface bytes", a->raw[1] & 15);
    for (gi = 0; gi < a->ngroups; gi++) {
        for (which = 0; which < 4; which++) {
            if (!(a->group[gi].present & (1u << which)))
                continue;
            printf("  T%c%-2u%02X  ", names[which], gi + 1, a->raw[pos++]);
            explain_ib(a, gi, which, a->group[gi].b[which]);
            putchar('\n');
        }
    }
    h = cl_atr_hist(a, &hl);
    printf("  historical bytes (%zu):", hl);
    for (i = 0; i < hl; i++)
        printf(" %02X", h[i]);
    if (hl) {
        struct cl_atr_hist_info hi;
        int err = cl_atr_hist_parse(&hi, h, hl);
        printf("\n    ");
        for (i = 0; i < hl; i++)
            putchar(h[i] >= 0x20 && h[i] < 0x7F ? h[i] : '.');
        if (err == CL_OK) {
            printf("  category %02X", hi.category);
            if (hi.tags & (1u << 7))
                printf("; capabilities %02X %02X %02X%s%s", hi.caps[0], hi.caps[1], hi.caps[2],
                       hi.caps[2] & CL_ATR_CAP3_CHAINING ? ", command chaining" : "",
                       hi.caps[2] & CL_ATR_CAP3_EXTENDED ? ", extended Lc/Le" : "");
            if (hi.tags & (1u << 3))
                printf("; service data %02X", hi.service);
            if (hi.status & CL_ATR_HIST_LCS)
                printf("; life cycle %02X", hi.lcs);
            if (hi.status & CL_ATR_HIST_SW)
                printf("; status %04X", hi.sw);
        } else if (err == CL_ERR_UNSUPPORTED) {
            printf("  category %02X: proprietary", h[0]);
        } else {
            printf("  compact-TLV: %s", cl_strerror(err));
        }
    }
    putchar('\n');
    if (p->flags & CL_ATR_F_TCK)
        printf("  TCK %02X  %s\n", a->raw[a->len - 1], tck_ok ? "correct" : "WRONG");
    else
        printf("  no TCK (T=0 only)\n");

    printf("protocols:");
    for (i = 0; i < a->nproto; i++)
        printf(" T=%u", a->proto[i]);
    printf("%s\n", p->flags & CL_ATR_F_SPECIFIC ? " (specific mode)" : " (negotiable mode)");
    if (cl_atr_rate(a, &fi, &di, &fmax) == CL_OK)
        printf("rate: Fi=%u Di=%u f(max)=%u kHz: %u clock cycles per bit at best\n",
               fi, di, fmax, fi / di);
    if (a->t_mask & 1u)
        printf("T=0: WI=%u, extra guard time N=%u\n", p->wi, p->n);
    else
        printf("extra guard time N=%u\n", p->n);
    if (a->t_mask & 2u)
        printf("T=1: IFSC=%u CWI=%u BWI=%u EDC=%s\n", p->ifsc, p->cwi, p->bwi,
               p->flags & CL_ATR_F_CRC ? "CRC" : "LRC");
}

static void json_hex(const uint8_t *b, size_t n)
{
    putchar('"');
    print_hex(stdout, b, n, "");
    putchar('"');
}

static void json_int_or_null(bool present, unsigned v)
{
    if (present)
        printf("%u", v);
    else
        printf("null");
}

static void atr_json(const struct cl_atr *a, bool tck_ok)
{
    const struct cl_atr_params *p = &a->p;
    const uint8_t *h;
    size_t hl, i;
    unsigned gi, w;
    static const char *const keys[] = { "ta", "tb", "tc", "td" };

    printf("{\"atr\":");
    json_hex(a->raw, a->len);
    printf(",\"convention\":\"%s\"", p->flags & CL_ATR_F_INVERSE ? "inverse" : "direct");
    printf(",\"protocols\":[");
    for (i = 0; i < a->nproto; i++)
        printf("%s%u", i ? "," : "", a->proto[i]);
    printf("],\"interface\":[");
    for (gi = 0; gi < a->ngroups; gi++) {
        printf("%s{", gi ? "," : "");
        for (w = 0; w < 4; w++) {
            printf("%s\"%s\":", w ? "," : "", keys[w]);
            json_int_or_null(a->group[gi].present & (1u << w), a->group[gi].b[w]);
        }
        putchar('}');
    }
    h = cl_atr_hist(a, &hl);
    printf("],\"historical\":");
    json_hex(h, hl);
    printf(",\"tck\":");
    json_int_or_null(p->flags & CL_ATR_F_TCK, a->raw[a->len - 1]);
    printf(",\"tck_ok\":%s", !(p->flags & CL_ATR_F_TCK) ? "null" : tck_ok ? "true" : "false");
    printf(",\"fi\":");
    json_int_or_null(p->fi != 0, p->fi);
    printf(",\"di\":");
    json_int_or_null(p->di != 0, p->di);
    printf(",\"f_max_khz\":");
    json_int_or_null(p->fmax_khz != 0, p->fmax_khz);
    printf(",\"rate_reserved\":%s", p->flags & CL_ATR_F_RATE_RESERVED ? "true" : "false");
    printf(",\"n\":%u,\"wi\":%u,\"ifsc\":%u,\"cwi\":%u,\"bwi\":%u,\"edc\":\"%s\"",
           p->n, p->wi, p->ifsc, p->cwi, p->bwi, p->flags & CL_ATR_F_CRC ? "crc" : "lrc");
    printf(",\"specific_mode\":%s", p->flags & CL_ATR_F_SPECIFIC ? "true" : "false");
    if (p->flags & CL_ATR_F_SPECIFIC)
        printf(",\"specific_protocol\":%u", p->specific_t);
    printf(",\"classes\":\"%s%s%s\",\"clock_stop\":\"%s\"}\n",
           p->classes & CL_ATR_CLASS_A ? "A" : "", p->classes & CL_ATR_CLASS_B ? "B" : "",
           p->classes & CL_ATR_CLASS_C ? "C" : "", clock_stop_names[p->clock_stop & 3]);
}

static int cmd_atr(int argc, char **argv)
{
    bool json = false;
    int first = 2, err;
    long n;
    struct cl_atr atr;
    bool tck_ok = true;

    if (argc > 2 && strcmp(argv[2], "--json") == 0) {
        json = true;
        first = 3;
    }
    if (first >= argc)
        return usage();
    n = parse_hex_args(argc, argv, first);
    if (n < 0)
        return 1;
    err = cl_atr_parse(&atr, inbuf, (size_t)n);
    if (err == CL_ERR_CHECKSUM) {
        /* Show what the card sent all the same, with the TCK flagged, the way
         * a card engineer wants to see a corrupted ATR. */
        uint8_t fixed[CL_ATR_MAX];
        memcpy(fixed, inbuf, (size_t)n);
        fixed[n - 1] ^= cl_lrc(inbuf + 1, (size_t)n - 1);
        if (cl_atr_parse(&atr, fixed, (size_t)n) == CL_OK) {
            atr.raw[n - 1] = inbuf[n - 1];
            tck_ok = false;
            if (json)
                atr_json(&atr, false);
            else
                atr_human(&atr, false);
        }
    } else if (err == CL_OK) {
        if (json)
            atr_json(&atr, tck_ok);
        else
            atr_human(&atr, tck_ok);
    }
    if (err != CL_OK) {
        fprintf(stderr, "cardlink-tool: malformed ATR at offset %zu: %s\n",
                atr_error_offset(err, inbuf, (size_t)n), cl_strerror(err));
        return 1;
    }
    return 0;
}

/* ----------------------------------------------------------------- APDU */

/* Names of the interindustry commands of ISO 7816-4 (and the few others a
 * card engineer meets every day), for the decode. */
static const char *ins_name(uint8_t cla, uint8_t ins)
{
    static const struct { uint8_t ins; const char *name; } names[] = {
        { 0x0E, "ERASE BINARY" }, { 0x20, "VERIFY" }, { 0x21, "VERIFY" },
        { 0x22, "MANAGE SECURITY ENVIRONMENT" }, { 0x24, "CHANGE REFERENCE DATA" },
        { 0x26, "DISABLE VERIFICATION REQUIREMENT" },
        { 0x28, "ENABLE VERIFICATION REQUIREMENT" },
        { 0x2A, "PERFORM SECURITY OPERATION" }, { 0x2C, "RESET RETRY COUNTER" },
        { 0x44, "ACTIVATE FILE" }, { 0x46, "GENERATE ASYMMETRIC KEY PAIR" },
        { 0x70, "MANAGE CHANNEL" }, { 0x82, "EXTERNAL AUTHENTICATE" },
        { 0x84, "GET CHALLENGE" }, { 0x86, "GENERAL AUTHENTICATE" },
        { 0x88, "INTERNAL AUTHENTICATE" }, { 0xA0, "SEARCH BINARY" },
        { 0xA2, "SEARCH RECORD" }, { 0xA4, "SELECT" }, { 0xAE, "GENERATE AC" },
        { 0xB0, "READ BINARY" }, { 0xB1, "READ BINARY" }, { 0xB2, "READ RECORD" },
        { 0xC0, "GET RESPONSE" }, { 0xC2, "ENVELOPE" }, { 0xCA, "GET DATA" },
        { 0xCB, "GET DATA" }, { 0xD0, "WRITE BINARY" }, { 0xD2, "WRITE RECORD" },
        { 0xD6, "UPDATE BINARY" }, { 0xDA, "PUT DATA" }, { 0xDC, "UPDATE RECORD" },
        { 0xE0, "CREATE FILE" }, { 0xE2, "APPEND RECORD" }, { 0xE4, "DELETE FILE" },
        { 0xE6, "TERMINATE DF" }, { 0xE8, "TERMINATE EF" },
        { 0xFE, "TERMINATE CARD USAGE" },
    };
    size_t i;

    if (cla & 0x80)
        return "proprietary class";
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].ins == ins)
            return names[i].name;
    return "unknown instruction";
}

static int cmd_apdu(int argc, char **argv)
{
    static const char *const case_names[] = { "", "1", "2S", "3S", "4S", "2E", "3E", "4E" };
    struct cl_apdu a;
    enum cl_apdu_case c;
    long n;
    int err;

    if (argc < 3)
        return usage();
    n = parse_hex_args(argc, argv, 2);
    if (n < 0)
        return 1;
    err = cl_apdu_decode(inbuf, (size_t)n, &a, &c);
    if (err != CL_OK) {
        fprintf(stderr, "cardlink-tool: malformed command APDU (%ld bytes): %s\n", n,
                cl_strerror(err));
        return 1;
    }
    printf("case %s (%s)\n", case_names[c], CL_APDU_CASE_IS_EXTENDED(c) ? "extended" : "short");
    printf("CLA %02X  %s, logical channel %u%s\n", a.cla,
           a.cla & 0x80 ? "proprietary" : "interindustry",
           (a.cla & 0x40) ? 4u + (a.cla & 0x0Fu) : a.cla & 3u,
           (a.cla & 0x10) && !(a.cla & 0x80) ? ", command chaining" : "");
    printf("INS %02X  %s\n", a.ins, ins_name(a.cla, a.ins));
    printf("P1  %02X\nP2  %02X\n", a.p1, a.p2);
    if (a.nc) {
        printf("Lc  %zu\ndata ", a.nc);
        print_hex(stdout, a.data, a.nc, " ");
        putchar('\n');
    }
    if (a.ne)
        printf("Le  %zu%s\n", a.ne,
               (a.ne == 256 && !CL_APDU_CASE_IS_EXTENDED(c)) ||
                       (a.ne == 65536 && CL_APDU_CASE_IS_EXTENDED(c))
                   ? " (Le field 0: maximum)" : "");
    err = cl_apdu_check_header(&a);
    if (err != CL_OK)
        printf("warning: %s (CLA FF or INS 6X/9X cannot be sent)\n", cl_strerror(err));
    return 0;
}

/* ------------------------------------------------------------------- SW */

static int cmd_sw(int argc, char **argv)
{
    static const char *const classes[] = {
        "invalid", "success", "success, more data", "warning", "execution error",
        "checking error", "wrong Le", "proprietary"
    };
    long n;
    uint16_t sw;
    int x;

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
    printf("%04X  %s: %s", sw, classes[cl_sw_class(sw)], cl_sw_text(sw));
    x = cl_sw_retries(sw);
    if (x >= 0)
        printf(" (%d tries left)", x);
    else if (inbuf[0] == 0x61)
        printf(" (%u bytes available%s)", inbuf[1] ? inbuf[1] : 256u, inbuf[1] ? "" : " or more");
    else if (inbuf[0] == 0x6C)
        printf(" (resend with Le=%02X)", inbuf[1]);
    putchar('\n');
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
    bool verbose;
};

static struct reader rd;   /* large (engines, ATR): not on the stack */

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
        cl_card_init_line(&r->card, cl_vline_card_line(), &r->vc, &r->cfg);
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
        cl_card_init_line(&r->card, cl_serial_line(&r->serial), &r->serial, &r->cfg);
        return CL_OK;
    }
#ifdef CL_HAVE_PCSC
    if (strncmp(spec, "pcsc:", 5) == 0) {
        cl_pcsc_init(&r->pcsc);
        err = cl_pcsc_open(&r->pcsc, spec + 5);
        if (err != CL_OK) {
            fprintf(stderr, "cardlink-tool: no PC/SC reader%s%s: %s (%s)\n",
                    spec[5] ? " matching " : "", spec + 5, cl_strerror(err),
                    pcsc_stringify_error(cl_pcsc_last(&r->pcsc)));
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
    printf("\n  %04X %s\n", *sw, cl_sw_text(*sw));
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

static int run_script(struct reader *r, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    unsigned lineno = 0, sent = 0;
    int rc = 0;

    if (!f) {
        perror(path);
        return 1;
    }
    while (fgets(line, sizeof(line), f)) {
        char *hash = strchr(line, '#'), *tok, *expect = NULL, hexbuf[4096] = "";
        char *args[1];
        long n;
        uint16_t sw;
        int m;

        lineno++;
        if (hash)
            *hash = '\0';
        /* every token but a trailing SW pattern is APDU hex */
        for (tok = strtok(line, " \t\r\n"); tok; tok = strtok(NULL, " \t\r\n")) {
            if (expect) {
                strncat(hexbuf, expect, sizeof(hexbuf) - strlen(hexbuf) - 1);
                expect = NULL;
            }
            if (strcmp(tok, "any") == 0 || strchr(tok, 'X') || strchr(tok, 'x') ||
                (strlen(tok) == 4 && hexbuf[0] != '\0'))
                expect = tok;
            else
                strncat(hexbuf, tok, sizeof(hexbuf) - strlen(hexbuf) - 1);
        }
        if (hexbuf[0] == '\0')
            continue;
        args[0] = hexbuf;
        n = parse_hex_args(1, args, 0);
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
        if (expect) {
            m = sw_matches(expect, sw);
            if (m < 0) {
                fprintf(stderr, "%s:%u: bad status word pattern '%s'\n", path, lineno, expect);
                rc = 1;
                break;
            }
            if (m == 0) {
                printf("! expected %s: stop\n", expect);
                rc = 1;
                break;
            }
        }
    }
    fclose(f);
    printf("%u APDUs sent, %s\n", sent, rc ? "stopped" : "all as expected");
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
            rd.verbose = true;
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
        atr_human(atr, true);
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
    if (argv[1][0] == '-')
        return cmd_reader(argc, argv);
    if (strcmp(argv[1], "atr") == 0)
        return cmd_atr(argc, argv);
    if (strcmp(argv[1], "apdu") == 0)
        return cmd_apdu(argc, argv);
    if (strcmp(argv[1], "sw") == 0)
        return cmd_sw(argc, argv);
    return usage();
}
