/*
 * cardlink — LRC and CRC-16 for ISO 7816-3.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The CRC is computed bit by bit: on a Cortex-M0+ a 512-byte table costs more
 * flash than T=1 blocks of at most 259 bytes cost time.
 */
#include "cardlink/edc.h"

/* see cardlink/edc.h */
uint8_t cl_lrc(const uint8_t *buf, size_t len)
{
    uint8_t x = 0;
    size_t i;

    for (i = 0; i < len; i++)
        x ^= buf[i];
    return x;
}

/* see cardlink/edc.h */
uint16_t cl_crc16_update(uint16_t crc, const uint8_t *buf, size_t len)
{
    size_t i;
    int bit;

    for (i = 0; i < len; i++) {
        crc ^= buf[i];
        for (bit = 0; bit < 8; bit++) {
            if (crc & 1u)
                crc = (uint16_t)((crc >> 1) ^ 0x8408u);
            else
                crc = (uint16_t)(crc >> 1);
        }
    }
    return crc;
}

/* see cardlink/edc.h */
uint16_t cl_crc16(const uint8_t *buf, size_t len)
{
    return cl_crc16_update(CL_CRC16_INIT, buf, len);
}
