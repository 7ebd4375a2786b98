/*
 * cardlink-tool — the ATR decode (ISO/IEC 7816-3 §8, 7816-4 §8.1.1).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardlink/atr.h"
#include "cardlink/edc.h"
#include "cardlink/error.h"
#include "cardlink/sw.h"
#include "tool.h"

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

/* ------------------------------------------------- historical bytes */

static void print_ascii(const uint8_t *b, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (b[i] < 0x20 || b[i] >= 0x7F)
            return;
    if (n) {
        printf(" \"");
        fwrite(b, 1, n, stdout);
        putchar('"');
    }
}

/* Life cycle status byte (ISO 7816-4 §7.4.10). */
static const char *lcs_name(uint8_t v)
{
    if (v == 0x00)
        return "no information given";
    if (v == 0x01)
        return "creation state";
    if (v == 0x03)
        return "initialisation state";
    if (v == 0x05 || v == 0x07)
        return "operational state (activated)";
    if (v == 0x04 || v == 0x06)
        return "operational state (deactivated)";
    if ((v & 0xFCu) == 0x0C)
        return "termination state";
    if (v >= 0x10)
        return "proprietary";
    return "RFU";
}

static void print_status(const struct cl_atr_hist_info *hi, const char *indent)
{
    if (hi->status & CL_ATR_HIST_LCS)
        printf("%slife cycle status %02X: %s\n", indent, hi->lcs, lcs_name(hi->lcs));
    if (hi->status & CL_ATR_HIST_SW)
        printf("%sstatus word %04X: %s\n", indent, hi->sw, cl_sw_text(hi->sw));
}

/* Card service data (ISO 7816-4 §8.1.1.2.3). */
static void print_service(uint8_t v, const char *indent)
{
    static const char *const access[8] = {
        "by READ RECORD", "RFU (001)", "by GET DATA", "RFU (011)", "by READ BINARY",
        "RFU (101)", "RFU (110)", "RFU (111)"
    };

    printf("%s  application selection: %s\n", indent,
           (v & 0xC0) == 0xC0 ? "by full DF name, by partial DF name" :
           v & 0x80 ? "by full DF name" : v & 0x40 ? "by partial DF name" : "none stated");
    printf("%s  BER-TLV data objects in%s%s%s; access %s\n", indent,
           v & 0x20 ? " EF.DIR" : "", v & 0x10 ? " EF.ATR/INFO" : "",
           (v & 0x30) ? "" : " neither EF.DIR nor EF.ATR/INFO", access[(v >> 1) & 7]);
    printf("%s  %s\n", indent, v & 1 ? "card without MF" : "card with MF");
}

/* Card capabilities (ISO 7816-4 §8.1.1.2.7): one, two or three bytes. */
static void print_caps(const uint8_t *c, size_t n, const char *indent)
{
    static const char *const sel[8] = {
        "record identifier", "record number", "short EF identifier", "implicit DF",
        "file identifier", "path", "partial DF name", "full DF name"
    };
    static const char *const write[4] = {
        "one-time write", "proprietary", "write OR", "write AND"
    };
    unsigned i;

    if (n >= 1) {
        const char *sep = " ";
        printf("%s  1st %02X: DF selection by", indent, c[0]);
        if (!(c[0] & 0xF8))
            printf(" none stated");
        for (i = 8; i-- > 3;)
            if (c[0] & (1u << i)) {
                printf("%s%s", sep, sel[i]);
                sep = ", ";
            }
        printf("; %s%s%s%s\n", c[0] & 4 ? "short EF identifier" : "no short EF identifier",
               c[0] & 2 ? ", record number" : "", c[0] & 1 ? ", record identifier" : "",
               " supported");
    }
    if (n >= 2) {
        unsigned q = c[1] & 15u;
        printf("%s  2nd %02X: %s; %s; FF as first tag byte %s; data unit ", indent,
               c[1], c[1] & 0x80 ? "EFs of BER-TLV structure" : "no EFs of BER-TLV structure",
               write[(c[1] >> 5) & 3], c[1] & 0x10 ? "valid" : "invalid");
        if (q == 0)
            printf("one quartet\n");
        else if (q <= 12)
            printf("%u byte%s\n", 1u << (q - 1), q == 1 ? "" : "s");
        else
            printf("2^%u quartets\n", q);
    }
    if (n >= 3) {
        unsigned lc = (c[2] >> 3) & 3, nch = (c[2] & 7) + 1;
        printf("%s  3rd %02X: %s, %s%s; logical channels %s", indent, c[2],
               c[2] & 0x80 ? "command chaining" : "no command chaining",
               c[2] & 0x40 ? "extended Lc/Le" : "short Lc/Le only",
               c[2] & 0x20 ? ", extended length info in EF.ATR/INFO" : "",
               lc == 0 ? "none" : lc & 2 ? (lc & 1 ? "assigned by card and reader" : "assigned by the card")
                                         : "assigned by the reader");
        if (lc)
            printf(", at most %u%s", nch, nch == 8 ? " or more" : "");
        putchar('\n');
    }
}

/* PC/SC Part 3 §3.1.3.2.3: ATRs a reader makes up for contactless storage
 * cards: 80 4F 0C RID(A0 00 00 03 06) standard(1) name(2) RFU(4). */
static const uint8_t pcsc_rid[5] = { 0xA0, 0x00, 0x00, 0x03, 0x06 };

static const char *pcsc_standard(uint8_t s)
{
    static const char *const names[] = {
        "no standard given", "ISO 14443 A, part 1", "ISO 14443 A, part 2",
        "ISO 14443 A, part 3", "RFU", "ISO 14443 B, part 1", "ISO 14443 B, part 2",
        "ISO 14443 B, part 3", "RFU", "ISO 15693, part 1", "ISO 15693, part 2",
        "ISO 15693, part 3", "ISO 15693, part 4", "contact (7816-10) I2C",
        "contact (7816-10) extended I2C", "contact (7816-10) 2WBP"
    };

    if (s < sizeof(names) / sizeof(names[0]))
        return names[s];
    if (s == 0x40)
        return "low frequency contactless (below 135 kHz)";
    return "not known to cardlink-tool";
}

static const char *pcsc_card_name(unsigned n)
{
    static const struct { uint16_t id; const char *name; } names[] = {
        { 0x0000, "no name given" }, { 0x0001, "MIFARE Classic 1K" },
        { 0x0002, "MIFARE Classic 4K" }, { 0x0003, "MIFARE Ultralight" },
        { 0x0004, "SLE55R_XXXX" }, { 0x0006, "SR176" }, { 0x0007, "SRI X4K" },
        { 0x0008, "AT88RF020" }, { 0x0009, "AT88SC0204CRF" }, { 0x000A, "AT88SC0808CRF" },
        { 0x000B, "AT88SC1616CRF" }, { 0x000C, "AT88SC3216CRF" }, { 0x000D, "AT88SC6416CRF" },
        { 0x000E, "SRF55V10P" }, { 0x000F, "SRF55V02P" }, { 0x0010, "SRF55V10S" },
        { 0x0011, "SRF55V02S" }, { 0x0012, "TAG_IT" }, { 0x0013, "LRI512" },
        { 0x0014, "ICODE SLI" }, { 0x0015, "TEMPSENS" }, { 0x0016, "I.CODE1" },
        { 0x0017, "PicoPass 2K" }, { 0x0018, "PicoPass 2KS" }, { 0x0019, "PicoPass 16K" },
        { 0x001A, "PicoPass 16KS" }, { 0x0026, "MIFARE Mini" },
        { 0x002F, "Jewel" }, { 0x0030, "Topaz NFC tag" },
        { 0x0035, "ICODE SL2" }, { 0x0036, "MIFARE Plus SL1 2K" },
        { 0x0037, "MIFARE Plus SL1 4K" }, { 0x0038, "MIFARE Plus SL2 2K" },
        { 0x0039, "MIFARE Plus SL2 4K" }, { 0x003A, "MIFARE Ultralight C" },
        { 0x003B, "FeliCa" }, { 0x003C, "Melexis sensor tag (MLX90129)" },
        { 0x003D, "MIFARE Ultralight EV1" },
    };
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].id == n)
            return names[i].name;
    return "not known to cardlink-tool";
}

static bool pcsc_part3(const uint8_t *h, size_t hl)
{
    return hl >= 11 && h[0] == 0x80 && h[1] == 0x4F && h[2] >= 8 &&
           memcmp(h + 3, pcsc_rid, 5) == 0;
}

static void print_pcsc_part3(const uint8_t *h, size_t hl)
{
    size_t i;

    printf("    category 80 with a PC/SC Part 3 application identifier: a contactless\n"
           "    storage card, its ATR made up by the reader\n");
    printf("    4F %02X  AID, %u bytes%s\n", h[2], h[2], (size_t)h[2] + 3 > hl ? " (cut short)" : "");
    printf("      RID A0 00 00 03 06: PC/SC Workgroup\n");
    printf("      standard %02X: %s\n", h[8], pcsc_standard(h[8]));
    printf("      card name %02X %02X: %s\n", h[9], h[10], pcsc_card_name((unsigned)h[9] << 8 | h[10]));
    if (hl > 11) {
        printf("      RFU:");
        for (i = 11; i < hl; i++)
            printf(" %02X", h[i]);
        putchar('\n');
    }
}

static void print_hist(const uint8_t *h, size_t hl)
{
    static const char *const tag_names[16] = {
        "padding", "country code", "issuer identification number", "card service data",
        "initial access data", "card issuer's data", "pre-issuing data", "card capabilities",
        "status indicator", "tag 9 (RFU)", "tag A (RFU)", "tag B (RFU)", "tag C (RFU)",
        "tag D (RFU)", "tag E (RFU)", "application identifier"
    };
    struct cl_atr_hist_info hi;
    size_t pos = 1, end = hl, i;
    int err;

    printf("  historical bytes (%zu):", hl);
    for (i = 0; i < hl; i++)
        printf(" %02X", h[i]);
    print_ascii(h, hl);
    putchar('\n');
    if (hl == 0)
        return;
    if (pcsc_part3(h, hl)) {
        print_pcsc_part3(h, hl);
        return;
    }
    err = cl_atr_hist_parse(&hi, h, hl);
    switch (h[0]) {
    case 0x10:
        printf("    category 10: DIR data reference");
        if (hl >= 2)
            printf(" %02X", h[1]);
        putchar('\n');
        if (err != CL_OK)
            printf("    warning: %s\n", cl_strerror(err));
        return;
    case 0x00:
        printf("    category 00: compact-TLV objects, then a 3-byte status indicator\n");
        if (hl < 4) {
            printf("    warning: %s (the status indicator needs 3 bytes)\n", cl_strerror(err));
            return;
        }
        end = hl - 3;
        break;
    case 0x80:
        printf("    category 80: compact-TLV objects\n");
        break;
    default:
        printf("    category %02X: %s\n", h[0],
               (h[0] & 0xF0) == 0x80 ? "RFU" : "proprietary (not ISO 7816-4 coded)");
        return;
    }
    /* The objects, one per line, as cl_atr_hist_parse() reads them. */
    while (pos < end) {
        unsigned tag = h[pos] >> 4, n = h[pos] & 0x0Fu;
        const uint8_t *v = h + pos + 1;
        size_t have = end - pos - 1 < n ? end - pos - 1 : n;

        printf("    %02X", h[pos]);
        for (i = 0; i < have && i < 6; i++)
            printf(" %02X", v[i]);
        printf("%s%*s %s", have > 6 ? ".." : "  ", (int)(3 * (6 - (have < 6 ? have : 6))), "",
               tag_names[tag]);
        if (have < n) {
            printf(": %u bytes announced, %zu there\n", n, have);
            break;
        }
        pos += 1 + n;
        if (tag == 0) {
            putchar('\n');
            continue;
        }
        switch (tag) {
        case 3:
            printf(" %02X\n", n ? v[0] : 0);
            if (n == 1)
                print_service(v[0], "    ");
            break;
        case 7:
            printf(" (%u byte%s)\n", n, n == 1 ? "" : "s");
            print_caps(v, n > 3 ? 3 : n, "    ");
            break;
        case 8: {
            struct cl_atr_hist_info st;
            memset(&st, 0, sizeof(st));
            if (n & 1u) {
                st.lcs = v[0];
                st.status |= CL_ATR_HIST_LCS;
            }
            if (n >= 2) {
                st.sw = (uint16_t)(v[(n & 1u)] << 8 | v[(n & 1u) + 1]);
                st.status |= CL_ATR_HIST_SW;
            }
            putchar('\n');
            print_status(&st, "      ");
            break;
        }
        default:
            printf(":");
            for (i = 0; i < n; i++)
                printf(" %02X", v[i]);
            print_ascii(v, n);
            putchar('\n');
        }
    }
    if (h[0] == 0x00 && hl >= 4) {
        printf("    %02X %02X %02X   status indicator\n", h[hl - 3], h[hl - 2], h[hl - 1]);
        hi.status = CL_ATR_HIST_LCS | CL_ATR_HIST_SW;
        hi.lcs = h[hl - 3];
        hi.sw = (uint16_t)(h[hl - 2] << 8 | h[hl - 1]);
        print_status(&hi, "      ");
    }
    if (err != CL_OK)
        printf("    warning: %s\n", cl_strerror(err));
}

/* ----------------------------------------------------- smartcard_list */

/* Does the ATR text (upper case, "3B 8F ...") match a line of
 * smartcard_list.txt: a regular expression of hex digits, spaces, '.' for
 * any character and [...] classes, matched against the whole text? */
static bool list_match(const char *pat, const char *s)
{
    while (*pat) {
        if (*s == '\0')
            return false;
        if (*pat == '[') {
            const char *close = strchr(pat + 1, ']');
            bool hit = false;
            const char *q;
            if (!close)
                return false;
            for (q = pat + 1; q < close; q++)
                if (toupper((unsigned char)*q) == *s)
                    hit = true;
            if (!hit)
                return false;
            pat = close + 1;
        } else {
            if (*pat != '.' && toupper((unsigned char)*pat) != *s)
                return false;
            pat++;
        }
        s++;
    }
    return *s == '\0';
}

/* The names smartcard_list.txt gives the ATR b[0..n): as pcsc_scan does,
 * every entry whose pattern matches, with its description lines. The file:
 * $CL_SMARTCARD_LIST (empty: none), else ~/.cache/smartcard_list.txt, else
 * /usr/share/pcsc/smartcard_list.txt. */
static void list_lookup(const uint8_t *b, size_t n)
{
    const char *path = getenv("CL_SMARTCARD_LIST");
    char text[3 * 64 + 1], home[512], line[1024];
    bool in = false, any = false;
    FILE *f = NULL;
    size_t i;

    if (n == 0 || n > 64)
        return;
    for (i = 0; i < n; i++)
        snprintf(text + 3 * i, 4, "%02X ", b[i]);
    text[3 * n - 1] = '\0';
    if (path) {
        if (*path == '\0')
            return;
        f = fopen(path, "r");
    } else {
        const char *h = getenv("HOME");
        if (h) {
            snprintf(home, sizeof(home), "%s/.cache/smartcard_list.txt", h);
            f = fopen(home, "r");
        }
        if (!f)
            f = fopen(path = "/usr/share/pcsc/smartcard_list.txt", "r");
    }
    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        size_t l = strlen(line);
        while (l && (line[l - 1] == '\n' || line[l - 1] == '\r' || line[l - 1] == ' '))
            line[--l] = '\0';
        if (line[0] == '\t') {
            if (in)
                printf("  %s\n", line + 1);
            continue;
        }
        in = line[0] != '#' && line[0] != '\0' && list_match(line, text);
        if (in) {
            if (!any)
                printf("smartcard_list.txt:\n");
            any = true;
            if (strcmp(line, text) != 0)
                printf("  (%s)\n", line);
        }
    }
    fclose(f);
}

/* ------------------------------------------------------------- output */

/* see tool/tool.h */
void atr_human(const struct cl_atr *a, bool tck_ok, unsigned warn,
               const uint8_t *trailing, size_t ntrailing)
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
    if (ntrailing) {
        printf(" +");
        for (i = 0; i < ntrailing; i++)
            printf(" %02X", trailing[i]);
    }
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
    print_hist(h, hl);
    if (warn & CL_ATR_W_HIST_SHORT)
        printf("  warning: T0 announces %u historical bytes, the ATR holds %zu\n",
               a->raw[1] & 15u, hl);
    if (p->flags & CL_ATR_F_TCK) {
        if (tck_ok)
            printf("  TCK %02X  correct\n", a->raw[a->len - 1]);
        else
            printf("  TCK %02X  WRONG: should be %02X\n", a->raw[a->len - 1],
                   (uint8_t)(a->raw[a->len - 1] ^ cl_lrc(a->raw + 1, a->len - 1u)));
    } else if (warn & CL_ATR_W_TCK_MISSING) {
        unsigned t;
        for (t = 1; t < 16 && !(a->t_mask & (1u << t)); t++)
            ;
        printf("  TCK     missing: due since a TD byte names T=%u (accepted, as pcsc-lite does)\n", t);
    } else {
        printf("  no TCK (T=0 only)\n");
    }
    if (warn & CL_ATR_W_TRAILING)
        printf("  warning: %zu byte%s after the ATR's end, not part of it\n", ntrailing,
               ntrailing == 1 ? "" : "s");

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
    {
        uint8_t all[64];
        if (a->len + ntrailing <= sizeof(all)) {
            memcpy(all, a->raw, a->len);
            if (ntrailing)
                memcpy(all + a->len, trailing, ntrailing);
            list_lookup(all, a->len + ntrailing);
        }
    }
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

static void atr_json(const struct cl_atr *a, bool tck_ok, unsigned warn,
                     const uint8_t *trailing, size_t ntrailing)
{
    static const char *const wnames[] = { "tck_missing", "tck_wrong", "hist_short", "trailing" };
    const struct cl_atr_params *p = &a->p;
    const uint8_t *h;
    size_t hl, i;
    unsigned gi, w, nw = 0;
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
    printf(",\"classes\":\"%s%s%s\",\"clock_stop\":\"%s\"",
           p->classes & CL_ATR_CLASS_A ? "A" : "", p->classes & CL_ATR_CLASS_B ? "B" : "",
           p->classes & CL_ATR_CLASS_C ? "C" : "", clock_stop_names[p->clock_stop & 3]);
    printf(",\"warnings\":[");
    for (w = 0; w < 4; w++)
        if (warn & (1u << w))
            printf("%s\"%s\"", nw++ ? "," : "", wnames[w]);
    printf("],\"trailing\":");
    json_hex(trailing, ntrailing);
    printf("}\n");
}

/* see tool/tool.h */
int cmd_atr(int argc, char **argv)
{
    bool json = false;
    int first = 2, err, lerr;
    long n;
    struct cl_atr atr;
    unsigned warn = 0;

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
    lerr = err == CL_OK ? CL_OK : cl_atr_parse_lenient(&atr, inbuf, (size_t)n, &warn);
    if (lerr == CL_OK) {
        /* What the card sent all the same, with what is wrong flagged, the
         * way a card engineer wants to see a sloppy or corrupted ATR. */
        size_t nt = (size_t)n - atr.len;
        bool tck_ok = !(warn & CL_ATR_W_TCK_WRONG);

        if (json)
            atr_json(&atr, tck_ok, warn, inbuf + atr.len, nt);
        else
            atr_human(&atr, tck_ok, warn, inbuf + atr.len, nt);
    }
    if (err != CL_OK) {
        fprintf(stderr, "cardlink-tool: malformed ATR at offset %zu: %s%s\n",
                atr_error_offset(err, inbuf, (size_t)n), cl_strerror(err),
                lerr == CL_OK ? " (decoded leniently)" : "");
        return 1;
    }
    return 0;
}
