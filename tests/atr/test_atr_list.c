/*
 * cardlink — integration check: parse every literal ATR of pcsc-tools'
 * smartcard_list.txt (thousands of cards seen in the field).
 * SPDX-License-Identifier: Apache-2.0
 *
 * Usage: test_atr_list [path]; the path defaults to $CL_SMARTCARD_LIST, then
 * /usr/share/pcsc/smartcard_list.txt. Exit 77 (skipped) when it is absent.
 *
 * ATR lines are the unindented, non-comment lines. Lines with a regular
 * expression ('.' wildcards, '[' classes) are patterns, not ATRs: skipped.
 * Inverse-convention ATRs are listed decoded (3F ...), as cl_atr_parse()
 * takes them. Each literal ATR is parsed and its historical bytes decoded;
 * the figures per result are printed; at least 90% must parse, and every
 * one the strict parser refuses must decode with cl_atr_parse_lenient().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardlink/atr.h"
#include "cardlink/error.h"

#define MIN_OK_PERCENT 90

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Literal hex of an ATR line into out; -1 for a pattern or junk. */
static int line_atr(const char *line, uint8_t *out, size_t max)
{
    size_t n = 0;
    int hi = -1;

    for (; *line && *line != '\n' && *line != '\r'; line++) {
        int v;

        if (*line == ' ' || *line == '\t')
            continue;
        v = hexval((unsigned char)*line);
        if (v < 0)
            return -1;
        if (hi < 0) {
            hi = v;
        } else {
            if (n >= max)
                return -2;   /* longer than any buffer: counted as too long */
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    return hi < 0 ? (int)n : -1;
}

/* Count per error code, codes 0..-99. */
static unsigned count_atr[100], count_hist[100];

/* Lenient decodes of the ATRs the strict parser refuses, per warning bit. */
static unsigned lenient_ok, lenient_fail, count_warn[4];

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : getenv("CL_SMARTCARD_LIST");
    char line[4096];
    FILE *f;
    unsigned total = 0, patterns = 0, inverse = 0, i, pct;

    if (path == NULL || *path == '\0')
        path = "/usr/share/pcsc/smartcard_list.txt";
    f = fopen(path, "r");
    if (f == NULL) {
        printf("SKIP: %s not found\n", path);
        return 77;
    }
    while (fgets(line, sizeof(line), f)) {
        uint8_t buf[256];
        struct cl_atr atr;
        struct cl_atr_hist_info h;
        int n, rc;

        if (line[0] == '#' || line[0] == '\t' || line[0] == ' ' || line[0] == '\n' ||
            line[0] == '\r')
            continue;
        if (strchr(line, '.') || strchr(line, '[')) {
            patterns++;
            continue;
        }
        n = line_atr(line, buf, sizeof(buf));
        if (n == -1) {
            patterns++;
            continue;
        }
        total++;
        rc = n < 0 ? CL_ERR_TOO_LONG : cl_atr_parse(&atr, buf, (size_t)n);
        if (rc > 0 || rc <= -100) {
            printf("FAIL: impossible result %d\n", rc);
            return 1;
        }
        count_atr[-rc]++;
        if (rc != CL_OK) {
            unsigned w = 0, b;
            int lr = n < 0 ? CL_ERR_TOO_LONG : cl_atr_parse_lenient(&atr, buf, (size_t)n, &w);

            if (lr != CL_OK) {
                lenient_fail++;
                printf("lenient decode refuses (%s): %s", cl_strerror(lr), line);
                continue;
            }
            if (w == 0 || atr.len > n || memcmp(atr.raw, buf, atr.len) != 0) {
                printf("FAIL: lenient decode without a warning, or raw altered: %s", line);
                return 1;
            }
            for (b = 0; b < 4; b++)
                if (w & (1u << b))
                    count_warn[b]++;
            lenient_ok++;
            continue;
        }
        if (atr.p.flags & CL_ATR_F_INVERSE)
            inverse++;
        /* Cross-checks on every accepted ATR. */
        if (cl_atr_expected_len(buf, (size_t)n) != n || atr.len != n ||
            atr.hist_off + atr.hist_len > atr.len || atr.nproto == 0) {
            printf("FAIL: inconsistent result for %s", line);
            return 1;
        }
        {
            size_t hl;
            const uint8_t *hb = cl_atr_hist(&atr, &hl);

            rc = cl_atr_hist_parse(&h, hb, hl);
            count_hist[-rc]++;
        }
    }
    fclose(f);
    if (total == 0) {
        printf("FAIL: no ATR in %s\n", path);
        return 1;
    }
    printf("%s: %u literal ATRs (%u patterns skipped)\n", path, total, patterns);
    for (i = 0; i < 100; i++)
        if (count_atr[i])
            printf("  atr  %-28s %5u\n", i ? cl_strerror(-(int)i) : "OK", count_atr[i]);
    printf("  inverse convention (3F) accepted: %u\n", inverse);
    printf("historical bytes of the accepted ATRs:\n");
    for (i = 0; i < 100; i++)
        if (count_hist[i])
            printf("  hist %-28s %5u\n", i ? cl_strerror(-(int)i) : "OK", count_hist[i]);
    printf("refused by the strict parser, decoded with warnings: %u (lenient refuses %u)\n",
           lenient_ok, lenient_fail);
    printf("  TCK missing %u, TCK wrong %u, historical bytes cut short %u, trailing bytes %u\n",
           count_warn[0], count_warn[1], count_warn[2], count_warn[3]);
    if (lenient_fail) {
        printf("FAIL: every ATR of the list must decode leniently\n");
        return 1;
    }
    pct = count_atr[0] * 1000u / total;
    printf("accepted: %u of %u (%u.%u%%)\n", count_atr[0], total, pct / 10, pct % 10);
    if (count_atr[0] * 100u < total * MIN_OK_PERCENT) {
        printf("FAIL: fewer than %d%% accepted\n", MIN_OK_PERCENT);
        return 1;
    }
    return 0;
}
