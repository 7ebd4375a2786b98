/*
 * cardlink — command and response APDU codec (ISO/IEC 7816-4 §5.1).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/apdu.h"
#include "cardlink/error.h"

/* see cardlink/apdu.h */
int cl_apdu_case(const struct cl_apdu *a, bool extended)
{
    int c;

    if (!a || a->nc > CL_APDU_NC_MAX || a->ne > CL_APDU_NE_MAX ||
        (a->nc && !a->data))
        return CL_ERR_ARG;
    if (!a->nc)
        c = a->ne ? CL_APDU_CASE_2S : CL_APDU_CASE_1;
    else
        c = a->ne ? CL_APDU_CASE_4S : CL_APDU_CASE_3S;
    if (c != CL_APDU_CASE_1 && (extended || a->nc > 255 || a->ne > 256))
        c += CL_APDU_CASE_2E - CL_APDU_CASE_2S;
    return c;
}

/* see cardlink/apdu.h */
int cl_apdu_encode(const struct cl_apdu *a, bool extended,
                   uint8_t *out, size_t out_size, size_t *out_len)
{
    int c = cl_apdu_case(a, extended);
    size_t ext, n;
    uint8_t *p = out;

    if (c < 0)
        return c;
    if (!out_len || (!out && out_size))
        return CL_ERR_ARG;
    /* An extended APDU has one 00 byte after the header, then 2-byte Lc
     * and Le fields; a short one 1-byte fields. */
    ext = CL_APDU_CASE_IS_EXTENDED(c);
    n = 4 + ext + (a->nc ? 1 + ext + a->nc : 0) + (a->ne ? 1 + ext : 0);
    *out_len = n;
    if (out_size < n)
        return CL_ERR_BUFFER;

    *p++ = a->cla;
    *p++ = a->ins;
    *p++ = a->p1;
    *p++ = a->p2;
    if (ext)
        *p++ = 0;
    if (a->nc) {
        if (ext)
            *p++ = (uint8_t)(a->nc >> 8);
        *p++ = (uint8_t)a->nc;
        memcpy(p, a->data, a->nc);
        p += a->nc;
    }
    if (a->ne) {
        /* Ne = 256 (short) and 65536 (extended) wrap to Le 00 / 0000. */
        if (ext)
            *p++ = (uint8_t)(a->ne >> 8);
        *p = (uint8_t)a->ne;
    }
    return CL_OK;
}

/* see cardlink/apdu.h */
int cl_apdu_decode(const uint8_t *buf, size_t len, struct cl_apdu *a,
                   enum cl_apdu_case *apdu_case)
{
    struct cl_apdu d;
    const uint8_t *b;
    size_t l, lc;
    enum cl_apdu_case c;

    if (!a || (!buf && len))
        return CL_ERR_ARG;
    if (len < 4)
        return CL_ERR_TRUNCATED;
    d.cla = buf[0];
    d.ins = buf[1];
    d.p1 = buf[2];
    d.p2 = buf[3];
    d.data = NULL;
    d.nc = 0;
    d.ne = 0;
    b = buf + 4;
    l = len - 4;

    if (l == 0) {
        c = CL_APDU_CASE_1;
    } else if (l == 1) {
        c = CL_APDU_CASE_2S;
        d.ne = b[0] ? b[0] : 256;
    } else if (b[0]) {
        lc = b[0];
        if (l == 1 + lc) {
            c = CL_APDU_CASE_3S;
        } else if (l == 2 + lc) {
            c = CL_APDU_CASE_4S;
            d.ne = b[l - 1] ? b[l - 1] : 256;
        } else {
            return CL_ERR_LENGTH;
        }
        d.data = b + 1;
        d.nc = lc;
    } else if (l == 2) {
        return CL_ERR_MALFORMED;
    } else if (l == 3) {
        c = CL_APDU_CASE_2E;
        d.ne = (size_t)b[1] << 8 | b[2];
        if (!d.ne)
            d.ne = 65536;
    } else {
        lc = (size_t)b[1] << 8 | b[2];
        if (!lc)
            return CL_ERR_MALFORMED;
        if (l == 3 + lc) {
            c = CL_APDU_CASE_3E;
        } else if (l == 5 + lc) {
            c = CL_APDU_CASE_4E;
            d.ne = (size_t)b[l - 2] << 8 | b[l - 1];
            if (!d.ne)
                d.ne = 65536;
        } else {
            return CL_ERR_LENGTH;
        }
        d.data = b + 3;
        d.nc = lc;
    }
    *a = d;
    if (apdu_case)
        *apdu_case = c;
    return CL_OK;
}

/* see cardlink/apdu.h */
int cl_apdu_check_header(const struct cl_apdu *a)
{
    unsigned hi;

    if (!a)
        return CL_ERR_ARG;
    hi = a->ins & 0xF0u;
    if (a->cla == 0xFF || hi == 0x60 || hi == 0x90)
        return CL_ERR_RESERVED;
    return CL_OK;
}

/* see cardlink/apdu.h */
int cl_rapdu_split(const uint8_t *buf, size_t len, const uint8_t **data,
                   size_t *data_len, uint16_t *sw)
{
    if (!buf || !data || !data_len || !sw)
        return CL_ERR_ARG;
    if (len < 2)
        return CL_ERR_TRUNCATED;
    if (len > CL_RAPDU_MAX)
        return CL_ERR_TOO_LONG;
    len -= 2;
    *data = len ? buf : NULL;
    *data_len = len;
    *sw = (uint16_t)(buf[len] << 8 | buf[len + 1]);
    return CL_OK;
}

/* see cardlink/apdu.h */
int cl_rapdu_build(const uint8_t *data, size_t data_len, uint16_t sw,
                   uint8_t *out, size_t out_size, size_t *out_len)
{
    if (!out || !out_len || (!data && data_len) || data_len > CL_APDU_NE_MAX)
        return CL_ERR_ARG;
    if (out_size < data_len + 2)
        return CL_ERR_BUFFER;
    if (data_len && data != out)
        memmove(out, data, data_len);
    out[data_len] = (uint8_t)(sw >> 8);
    out[data_len + 1] = (uint8_t)sw;
    *out_len = data_len + 2;
    return CL_OK;
}
