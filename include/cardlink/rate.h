/*
 * cardlink — transmission rate and waiting-time arithmetic of ISO 7816-3.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The tables of §8.3 (Fi, f(max), Di) and the conversions every layer needs:
 * baud rate, etu duration, WT, BWT, CWT. Everything is 32-bit integer
 * arithmetic: a Cortex-M0+ has no divider, and 64-bit division would pull
 * __aeabi_uldivmod from libgcc.
 */
#ifndef CARDLINK_RATE_H
#define CARDLINK_RATE_H

#include "cardlink/defs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Default values before any PPS: Fd = 372, Dd = 1 (ISO 7816-3 §7.1). */
#define CL_RATE_FD 372u
#define CL_RATE_DD 1u

/* The tables behind the three lookups below (ISO 7816-3 Tables 7 and 8);
 * 0 marks RFU. f(max) is in units of 500 kHz (7.5 MHz is the odd one). The
 * lookups are inline: the ATR parser and the PPS rate choice call them on
 * every card, and a call costs more than the load. */
extern const uint16_t cl_rate_fi_table[16];
extern const uint8_t cl_rate_fmax_500khz_table[16];
extern const uint8_t cl_rate_di_table[16];

/* Clock rate conversion factor Fi for TA1's high nibble (0..15);
 * 0 for the reserved indexes 7, 8, 14 and 15 (and for an index > 15). */
static inline uint16_t cl_rate_fi(uint8_t fi_index)
{
    return fi_index < 16 ? cl_rate_fi_table[fi_index] : 0;
}

/* Maximum clock frequency f(max) in kHz for the same index (4000 for
 * index 0, ... 20000); 0 for reserved indexes. */
static inline uint16_t cl_rate_fmax_khz(uint8_t fi_index)
{
    return fi_index < 16 ? (uint16_t)(cl_rate_fmax_500khz_table[fi_index] * 500u) : 0;
}

/* Baud rate adjustment factor Di for TA1's low nibble (0..15);
 * 0 for the reserved indexes 0 and 10..15. */
static inline uint8_t cl_rate_di(uint8_t di_index)
{
    return di_index < 16 ? cl_rate_di_table[di_index] : 0;
}

/* Index of factor F in the Fi table, or -1 if F is not in the table.
 * 372 appears twice (indexes 0 and 1): the answer is 1, whose f(max) of
 * 5 MHz is the default's (ISO 7816-3 §8.3). */
int cl_rate_fi_index(uint16_t f);

/* Index of factor D in the Di table, or -1. */
int cl_rate_di_index(uint8_t d);

/* Bit rate in bit/s at clock f_khz for factors F and D: D * f / F.
 * 0 when F or D is 0. */
uint32_t cl_rate_baud(uint32_t f_khz, uint16_t f, uint8_t d);

/* Duration of one etu in nanoseconds at clock f_khz: F / (D * f).
 * 0 on a zero argument. */
uint32_t cl_rate_etu_ns(uint32_t f_khz, uint16_t f, uint8_t d);

/* Convert a count of etu to microseconds, rounded up, saturating at
 * UINT32_MAX. etu_ns from cl_rate_etu_ns(). */
uint32_t cl_rate_etu_to_us(uint32_t etu, uint32_t etu_ns);

/* T=0 work waiting time in etu: WT = WI * 960 * Fi / f = 960 * WI * D etu
 * (§10.2), WI from TC2 (default 10; 0 is reserved and treated as 10). */
uint32_t cl_rate_wt_etu(uint8_t wi, uint8_t d);

/* T=1 block waiting time in etu: BWT = 11 etu + 2^BWI * 960 * Fd / f seconds
 * (§11.4.3), expressed in etu of the current F and D (rounded up).
 * BWI 10..15 is reserved: the result is for BWI 9. */
uint32_t cl_rate_bwt_etu(uint8_t bwi, uint16_t f, uint8_t d);

/* T=1 character waiting time in etu: CWT = 11 + 2^CWI etu (§11.4.3). */
uint32_t cl_rate_cwt_etu(uint8_t cwi);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_RATE_H */
