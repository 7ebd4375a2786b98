/*
 * cardlink — error detection codes of ISO 7816-3 (T=1 epilogue, ATR TCK, PPS PCK).
 * SPDX-License-Identifier: Apache-2.0
 *
 * LRC: the exclusive-or of all bytes (ISO 7816-3 §11.4.4). The ATR's TCK and
 * the PPS's PCK are chosen so that the LRC over the checked bytes including
 * the check byte is zero.
 *
 * CRC: the 16-bit CRC of ISO/IEC 13239 as the T=1 epilogue uses it:
 * polynomial x^16 + x^12 + x^5 + 1, bits processed least significant first
 * (reflected, 0x8408), initial value 0xFFFF, no final inversion, sent most
 * significant byte first. This is the catalogue's CRC-16/MCRF4XX; its check
 * value over ASCII "123456789" is 0x6F91. It is the variant that deployed
 * readers (libccid's T=1) and cards use.
 */
#ifndef CARDLINK_EDC_H
#define CARDLINK_EDC_H

#include "cardlink/defs.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CL_CRC16_INIT 0xFFFFu

/*
 * How cl_crc16_update() computes, chosen at compile time (same values in
 * every build): 0 a byte at a time without a table (about 16 instructions
 * a byte on x86-64); 16 a nibble table of 32 bytes; 256 a byte table of 512
 * bytes; 2048 eight tables (4 KiB), eight bytes a step. Default: 0 on
 * Cortex-M (flash counts more than the time of T=1 blocks of at most 259
 * bytes), 2048 elsewhere.
 */
#ifndef CL_EDC_CRC_TABLE
#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
#define CL_EDC_CRC_TABLE 0
#else
#define CL_EDC_CRC_TABLE 2048
#endif
#endif

/* LRC of len bytes (0 for len == 0). buf may be NULL only when len == 0. */
uint8_t cl_lrc(const uint8_t *buf, size_t len);

/* Continue a CRC over len more bytes: start with crc = CL_CRC16_INIT. */
uint16_t cl_crc16_update(uint16_t crc, const uint8_t *buf, size_t len);

/* CRC of len bytes, as the T=1 epilogue carries it (high byte first). */
uint16_t cl_crc16(const uint8_t *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_EDC_H */
