/*
 * cardlink — lib/server: the reference server's script file format
 * (docs/server.md, "Script files"), parsed from memory.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/error.h"
#include "server_int.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Exactly four hex digits at t[0..n). */
static int hex16(const char *t, size_t n, uint16_t *out)
{
    size_t i;
    uint16_t v = 0;

    if (n != 4)
        return CL_ERR_MALFORMED;
    for (i = 0; i < 4; i++) {
        int h = hexval(t[i]);
        if (h < 0)
            return CL_ERR_MALFORMED;
        v = (uint16_t)(v << 4 | (unsigned)h);
    }
    *out = v;
    return CL_OK;
}

static bool word_is(const char *t, size_t n, const char *w)
{
    return n == cl_strnlen(w, 16) && memcmp(t, w, n) == 0;
}

/* "sw=XXXX", "sw=XXXX/MMMM", "sw=any" */
static int parse_sw(const char *t, size_t n, struct cl_relay_expect *e)
{
    uint16_t v, mk;

    t += 3;
    n -= 3;
    if (word_is(t, n, "any")) {
        e->kind = CL_RELAY_EXPECT_MASKED;
        e->value = 0;
        e->mask = 0;
        return CL_OK;
    }
    if (n == 4) {
        if (hex16(t, 4, &v) != CL_OK || (v >> 12 != 6 && v >> 12 != 9))
            return CL_ERR_MALFORMED;
        e->kind = CL_RELAY_EXPECT_EXACT;
        e->value = v;
        return CL_OK;
    }
    if (n == 9 && t[4] == '/' && hex16(t, 4, &v) == CL_OK && hex16(t + 5, 4, &mk) == CL_OK &&
        mk != 0xFFFF && (v & (uint16_t)~mk) == 0) {
        e->kind = CL_RELAY_EXPECT_MASKED;
        e->value = v;
        e->mask = mk;
        return CL_OK;
    }
    return CL_ERR_MALFORMED;
}

/* see cardlink/server.h */
int cl_server_script_parse(const char *text, size_t len, struct cl_relay_script *out,
                           uint8_t *buf, size_t size, size_t *used, unsigned *line)
{
    size_t pos = 0, bused = 0;
    unsigned ln = 0;

    if (text == NULL || out == NULL || used == NULL || (buf == NULL && size > 0))
        return CL_ERR_ARG;
    memset(out, 0, sizeof(*out));
    *used = 0;
    if (line != NULL)
        *line = 0;
    while (pos < len) {
        size_t eol = pos, end, p;
        struct cl_relay_step st;
        bool have_apdu = false, words = false;
        int hi = -1;

        while (eol < len && text[eol] != '\n')
            eol++;
        ln++;
        end = eol;
        for (p = pos; p < eol; p++)
            if (text[p] == '#') {
                end = p;
                break;
            }
        memset(&st, 0, sizeof(st));
        st.apdu.data = buf != NULL ? buf + bused : NULL;
        p = pos;
        pos = eol < len ? eol + 1 : eol;
        while (p < end) {
            size_t w = p, n;
            if (text[p] == ' ' || text[p] == '\t' || text[p] == '\r') {
                p++;
                continue;
            }
            while (w < end && text[w] != ' ' && text[w] != '\t' && text[w] != '\r')
                w++;
            n = w - p;
            if (word_is(text + p, n, ".") && !have_apdu && !words) {
                if (out->nsteps == 0)
                    break;   /* an empty script: keep looking */
                *used = pos;
                return CL_OK;
            } else if (word_is(text + p, n, "continue") && !have_apdu && !words) {
                out->options |= CL_RELAY_SCRIPT_CONTINUE;
                words = true;
            } else if (n > 3 && memcmp(text + p, "sw=", 3) == 0 && have_apdu) {
                if (parse_sw(text + p, n, &st.expect) != CL_OK)
                    goto bad;
                words = true;
            } else if (word_is(text + p, n, "swonly") && have_apdu) {
                st.options |= CL_RELAY_STEP_SW_ONLY;
                words = true;
            } else if (!words) {
                size_t i;
                for (i = 0; i < n; i++) {
                    int h = hexval(text[p + i]);
                    if (h < 0)
                        goto bad;
                    if (hi < 0) {
                        hi = h;
                    } else {
                        if (bused >= size) {
                            if (line != NULL)
                                *line = ln;
                            return CL_ERR_BUFFER;
                        }
                        buf[bused++] = (uint8_t)(hi << 4 | h);
                        st.apdu.len++;
                        hi = -1;
                    }
                }
                have_apdu = true;
            } else {
                goto bad;
            }
            p = w;
        }
        if (hi >= 0)
            goto bad;
        if (have_apdu) {
            if (st.apdu.len < 4)
                goto bad;
            if (out->nsteps >= CL_RELAY_SCRIPT_MAX) {
                if (line != NULL)
                    *line = ln;
                return CL_ERR_TOO_LONG;
            }
            out->steps[out->nsteps++] = st;
        }
    }
    *used = pos;
    return out->nsteps > 0 ? CL_OK : CL_ERR_NOT_FOUND;
bad:
    if (line != NULL)
        *line = ln;
    return CL_ERR_MALFORMED;
}
