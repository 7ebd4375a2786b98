/*
 * cardlink — writing the holder's PIN into a template (protocol §5.11).
 * SPDX-License-Identifier: Apache-2.0
 */
#include "cardlink/error.h"
#include "device_int.h"

int cl_devj_pin_write(uint8_t *cmd, size_t cmd_len, const struct cl_relay_pin *p, uint8_t off,
                      const uint8_t *digits, size_t n)
{
    size_t i, region, lc;
    uint8_t *data;

    if (cmd_len < 6 || off == CL_RELAY_NONE)
        return CL_ERR_ARG;
    if (n < p->min_len || n > p->max_len)
        return CL_ERR_LENGTH;
    for (i = 0; i < n; i++)
        if (digits[i] > 9)
            return CL_ERR_ARG;
    lc = cmd[4];
    if (lc == 0 || 5 + lc > cmd_len)
        return CL_ERR_ARG;
    data = cmd + 5;
    region = p->encoding == CL_RELAY_PIN_BCD     ? (size_t)(p->max_len + 1u) / 2u
             : p->encoding == CL_RELAY_PIN_ASCII ? p->max_len
                                                 : 8u;
    if ((size_t)off + region > lc)
        return CL_ERR_ARG;
    if (p->len_offset != CL_RELAY_NONE) {
        if (p->len_offset >= lc)
            return CL_ERR_ARG;
        data[p->len_offset] = (uint8_t)n;
    }
    switch (p->encoding) {
    case CL_RELAY_PIN_BCD:
        for (i = 0; i < n; i++) {
            uint8_t *b = &data[off + i / 2];
            *b = (i & 1u) ? (uint8_t)((*b & 0xF0u) | digits[i])
                          : (uint8_t)((*b & 0x0Fu) | (digits[i] << 4));
        }
        break;
    case CL_RELAY_PIN_ASCII:
        for (i = 0; i < n; i++)
            data[off + i] = (uint8_t)('0' + digits[i]);
        break;
    case CL_RELAY_PIN_ISO9564_2:
        data[off] = (uint8_t)(0x20u | n);
        for (i = 1; i < 8; i++)
            data[off + i] = 0xFF;
        for (i = 0; i < n; i++) {
            uint8_t *b = &data[off + 1 + i / 2];
            *b = (i & 1u) ? (uint8_t)((*b & 0xF0u) | digits[i])
                          : (uint8_t)((*b & 0x0Fu) | (digits[i] << 4));
        }
        break;
    default:
        return CL_ERR_ARG;
    }
    return CL_OK;
}
