/*
 * cardlink — a relay PIN template (protocol §5.11) as the PC/SC Part 10
 * PIN_VERIFY_STRUCTURE a PIN-pad reader verifies with
 * (FEATURE_VERIFY_PIN_DIRECT; the CCID secure PIN verification data), and
 * a PIN-CHANGE template as the PIN_MODIFY_STRUCTURE it changes a PIN with
 * (FEATURE_MODIFY_PIN_DIRECT; the CCID PIN modification data).
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

/* The PIN block one PIN of a PIN_MODIFY_STRUCTURE fills: its size, the
 * digits' position inside it (bytes) and the format bits. */
static int mod_block(const struct cl_relay_pin *p, size_t *block, uint8_t *pos, uint8_t *fmt)
{
    switch (p->encoding) {
    case CL_RELAY_PIN_BCD:
        *block = (size_t)(p->max_len + 1u) / 2u;
        *pos = 0;
        *fmt = 0x01;
        break;
    case CL_RELAY_PIN_ASCII:
        *block = p->max_len;
        *pos = 0;
        *fmt = 0x02;
        break;
    case CL_RELAY_PIN_ISO9564_2:
        *block = 8;   /* control byte, then 7 bytes of digits */
        *pos = 1;
        *fmt = 0x01;
        break;
    default:
        return CL_ERR_UNSUPPORTED;
    }
    return CL_OK;
}

static void mod_fill(uint8_t *blk8)
{
    blk8[0] = 0x20;
    memset(blk8 + 1, 0xFF, 7);
}

/* see cardlink/device.h */
int cl_dev_part10_modify(const struct cl_relay_pin *p, uint8_t *out, size_t size, size_t *len)
{
    const uint8_t *a;
    size_t n, lc, block, digits;
    uint8_t pos, fmt, blk, lenfmt, nmsg;
    bool old;
    int r;

    if (p == NULL || len == NULL)
        return CL_ERR_ARG;
    *len = 0;
    a = p->apdu.data;
    n = p->apdu.len;
    if (a == NULL || n < 6 || n > CL_DEV_CMD_MAX || p->new_offset == CL_RELAY_NONE ||
        p->confirm > 1)
        return CL_ERR_ARG;
    lc = a[4];
    if (lc == 0 || 5 + lc > n)
        return CL_ERR_ARG;
    r = mod_block(p, &block, &pos, &fmt);
    if (r != CL_OK)
        return r;
    old = p->offset != CL_RELAY_NONE;
    if (block == 0 || (size_t)p->new_offset + block > lc ||
        (old && (size_t)p->offset + block > lc))
        return CL_ERR_ARG;
    if (old && p->offset < p->new_offset + block && p->new_offset < p->offset + block)
        return CL_ERR_ARG;   /* the two blocks overlap */
    digits = block - pos;
    if (digits > 15)
        return CL_ERR_UNSUPPORTED;
    /* one length field cannot describe two PINs: only format 2's own
     * length nibble (inside each block) is expressible */
    if (p->encoding != CL_RELAY_PIN_ISO9564_2 && p->len_offset != CL_RELAY_NONE)
        return CL_ERR_UNSUPPORTED;
    blk = (uint8_t)digits;
    lenfmt = 0x00;
    if (p->encoding == CL_RELAY_PIN_ISO9564_2) {
        blk |= 0x40;     /* the length nibble: 4 bits */
        lenfmt = 0x04;   /* bit units, after the control nibble of the block */
    }
    nmsg = (uint8_t)((old ? 1u : 0u) + 1u + p->confirm);
    *len = CL_DEV_PART10_MOD_HDR + n;
    if (out == NULL && size == 0)
        return CL_OK;
    if (out == NULL || size < *len)
        return CL_ERR_BUFFER;
    out[0] = p->timeout;                            /* bTimerOut */
    out[1] = 0x00;                                  /* bTimerOut2 */
    out[2] = (uint8_t)(0x80u | (pos << 3) | fmt);   /* bmFormatString: bytes */
    out[3] = blk;                                   /* bmPINBlockString */
    out[4] = lenfmt;                                /* bmPINLengthFormat */
    out[5] = old ? p->offset : 0x00;                /* bInsertionOffsetOld */
    out[6] = p->new_offset;                         /* bInsertionOffsetNew */
    out[7] = p->max_len;                            /* wPINMaxExtraDigit, LE */
    out[8] = p->min_len;
    out[9] = (uint8_t)(p->confirm | (old ? 0x02u : 0x00u));   /* bConfirmPIN */
    out[10] = 0x02;                                 /* bEntryValidationCondition */
    out[11] = nmsg;                                 /* bNumberMessage */
    out[12] = 0x09;                                 /* wLangId 0x0409, LE */
    out[13] = 0x04;
    /* bMsgIndex1..3: the prompts in the order shown (old 0, new 1,
     * confirm 2, as on the device's own screen), unused ones 00 */
    out[14] = old ? 0x00 : 0x01;
    out[15] = old ? 0x01 : (p->confirm ? 0x02 : 0x00);
    out[16] = old && p->confirm ? 0x02 : 0x00;
    out[17] = out[18] = out[19] = 0x00;             /* bTeoPrologue */
    out[20] = (uint8_t)n;                           /* ulDataLength, LE */
    out[21] = (uint8_t)(n >> 8);
    out[22] = 0x00;
    out[23] = 0x00;
    memcpy(out + CL_DEV_PART10_MOD_HDR, a, n);
    if (p->encoding == CL_RELAY_PIN_ISO9564_2) {
        if (old)
            mod_fill(out + CL_DEV_PART10_MOD_HDR + 5 + p->offset);
        mod_fill(out + CL_DEV_PART10_MOD_HDR + 5 + p->new_offset);
    }
    return CL_OK;
}
