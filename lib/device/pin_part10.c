/*
 * cardlink — a relay PIN template (protocol §5.11) as the PC/SC Part 10
 * PIN_VERIFY_STRUCTURE a PIN-pad reader verifies with
 * (FEATURE_VERIFY_PIN_DIRECT; the CCID secure PIN verification data).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/error.h"
#include "device_int.h"

/* see cardlink/device.h */
int cl_dev_part10_verify(const struct cl_relay_pin *p, uint8_t *out, size_t size, size_t *len)
{
    const uint8_t *a;
    size_t n, lc, block, pos;
    uint8_t fmt, blk, lenfmt;

    if (p == NULL || len == NULL)
        return CL_ERR_ARG;
    *len = 0;
    a = p->apdu.data;
    n = p->apdu.len;
    if (a == NULL || n < 6 || n > CL_DEV_CMD_MAX || p->offset == CL_RELAY_NONE)
        return CL_ERR_ARG;
    lc = a[4];
    if (lc == 0 || 5 + lc > n)
        return CL_ERR_ARG;
    switch (p->encoding) {
    case CL_RELAY_PIN_BCD:
        block = (size_t)(p->max_len + 1u) / 2u;
        pos = p->offset;
        fmt = 0x01;
        break;
    case CL_RELAY_PIN_ASCII:
        block = p->max_len;
        pos = p->offset;
        fmt = 0x02;
        break;
    case CL_RELAY_PIN_ISO9564_2:
        block = 7;   /* after the control byte */
        pos = (size_t)p->offset + 1u;
        fmt = 0x01;
        break;
    default:
        return CL_ERR_UNSUPPORTED;
    }
    if (pos + block > lc)
        return CL_ERR_ARG;
    if (pos > 15 || block > 15 || block == 0)
        return CL_ERR_UNSUPPORTED;
    blk = (uint8_t)block;
    lenfmt = 0x00;
    if (p->encoding == CL_RELAY_PIN_ISO9564_2) {
        if ((size_t)p->offset * 8u + 4u > 15u)
            return CL_ERR_UNSUPPORTED;
        blk |= 0x40;   /* the length nibble: 4 bits, bit units */
        lenfmt = (uint8_t)(p->offset * 8u + 4u);
    } else if (p->len_offset != CL_RELAY_NONE) {
        if (p->len_offset >= lc)
            return CL_ERR_ARG;
        if (p->len_offset > 15)
            return CL_ERR_UNSUPPORTED;
        blk |= 0x80;   /* a length byte, byte units */
        lenfmt = (uint8_t)(0x10u | p->len_offset);
    }
    *len = CL_DEV_PART10_HDR + n;
    if (out == NULL && size == 0)
        return CL_OK;
    if (out == NULL || size < *len)
        return CL_ERR_BUFFER;
    out[0] = p->timeout;                       /* bTimerOut */
    out[1] = 0x00;                             /* bTimerOut2 */
    out[2] = (uint8_t)(0x80u | (pos << 3) | fmt);   /* bmFormatString: bytes */
    out[3] = blk;                              /* bmPINBlockString */
    out[4] = lenfmt;                           /* bmPINLengthFormat */
    out[5] = p->max_len;                       /* wPINMaxExtraDigit, LE: max */
    out[6] = p->min_len;                       /*   then min */
    out[7] = 0x02;                             /* bEntryValidationCondition: OK key */
    out[8] = 0x01;                             /* bNumberMessage */
    out[9] = 0x09;                             /* wLangId 0x0409, LE */
    out[10] = 0x04;
    out[11] = p->msg_index;                    /* bMsgIndex */
    out[12] = out[13] = out[14] = 0x00;        /* bTeoPrologue */
    out[15] = (uint8_t)n;                      /* ulDataLength, LE */
    out[16] = (uint8_t)(n >> 8);
    out[17] = 0x00;
    out[18] = 0x00;
    memcpy(out + CL_DEV_PART10_HDR, a, n);
    if (p->encoding == CL_RELAY_PIN_ISO9564_2) {
        uint8_t *blk8 = out + CL_DEV_PART10_HDR + 5 + p->offset;
        blk8[0] = 0x20;
        memset(blk8 + 1, 0xFF, 7);
    }
    return CL_OK;
}
