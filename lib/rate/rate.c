/*
 * cardlink — ISO 7816-3 §8.3 rate tables and waiting times.
 * SPDX-License-Identifier: Apache-2.0
 *
 * All arithmetic is 32-bit: intermediate products are split so that none can
 * overflow for any argument, and results saturate instead of wrapping.
 */
#include "cardlink/rate.h"

/* Table 7 of ISO 7816-3: Fi and f(max); 0 marks RFU. f(max) is stored in
 * units of 500 kHz to fit a byte (7.5 MHz is the only odd one). */
const uint16_t cl_rate_fi_table[16] = {
    372, 372, 558, 744, 1116, 1488, 1860, 0,
    0, 512, 768, 1024, 1536, 2048, 0, 0
};
const uint8_t cl_rate_fmax_500khz_table[16] = {
    8, 10, 12, 16, 24, 32, 40, 0,
    0, 10, 15, 20, 30, 40, 0, 0
};
/* Table 8: Di; 0 marks RFU. */
const uint8_t cl_rate_di_table[16] = {
    0, 1, 2, 4, 8, 16, 32, 64, 12, 20, 0, 0, 0, 0, 0, 0
};

#define SAT_MAX 0xFFFFFFFFu

static uint32_t sat_add(uint32_t a, uint32_t b)
{
    return a > SAT_MAX - b ? SAT_MAX : a + b;
}

static uint32_t sat_mul(uint32_t a, uint32_t b)
{
    if (a != 0 && b > SAT_MAX / a)
        return SAT_MAX;
    return a * b;
}

/* see cardlink/rate.h */
int cl_rate_fi_index(uint16_t f)
{
    int i;

    if (f == 0)
        return -1;
    for (i = 1; i < 16; i++)
        if (cl_rate_fi_table[i] == f)
            return i;
    return -1;
}

/* see cardlink/rate.h */
int cl_rate_di_index(uint8_t d)
{
    int i;

    if (d == 0)
        return -1;
    for (i = 1; i < 16; i++)
        if (cl_rate_di_table[i] == d)
            return i;
    return -1;
}

/* see cardlink/rate.h */
uint32_t cl_rate_baud(uint32_t f_khz, uint16_t f, uint8_t d)
{
    if (f == 0 || d == 0)
        return 0;
    /* D * f_khz * 1000 / F, split so no product overflows. */
    return sat_mul(sat_mul(f_khz, d) / f, 1000u) + (sat_mul(f_khz, d) % f) * 1000u / f;
}

/* see cardlink/rate.h */
uint32_t cl_rate_etu_ns(uint32_t f_khz, uint16_t f, uint8_t d)
{
    uint32_t den;

    if (f_khz == 0 || f == 0 || d == 0)
        return 0;
    den = sat_mul(f_khz, d);
    /* F * 10^6 <= 2048 * 10^6 fits in 32 bits. */
    return (uint32_t)f * 1000000u / den;
}

/* see cardlink/rate.h */
uint32_t cl_rate_etu_to_us(uint32_t etu, uint32_t etu_ns)
{
    /* etu * etu_ns / 1000, rounded up, as a*etu_ns + b*q + b*r/1000 with
     * etu = 1000a + b and etu_ns = 1000q + r: every product stays in range. */
    uint32_t a = etu / 1000u, b = etu % 1000u;
    uint32_t q = etu_ns / 1000u, r = etu_ns % 1000u;
    uint32_t us = sat_mul(a, etu_ns);

    us = sat_add(us, b * q);
    return sat_add(us, (b * r + 999u) / 1000u);
}

/* see cardlink/rate.h */
uint32_t cl_rate_wt_etu(uint8_t wi, uint8_t d)
{
    if (wi == 0)
        wi = 10;
    return 960u * wi * (d ? d : 1u);
}

/* see cardlink/rate.h */
uint32_t cl_rate_bwt_etu(uint8_t bwi, uint16_t f, uint8_t d)
{
    /* 2^BWI * 960 * Fd * D / F etu; 960 * 372 * 64 < 2^25, and the
     * remainder shifted by at most 9 stays below 2^20. */
    uint32_t x, q, r;

    if (bwi > 9)
        bwi = 9;
    if (f == 0)
        f = CL_RATE_FD;
    if (d == 0)
        d = CL_RATE_DD;
    x = 960u * CL_RATE_FD * d;
    q = x / f;
    r = x % f;
    return 11u + (q << bwi) + (((r << bwi) + f - 1u) / f);
}

/* see cardlink/rate.h */
uint32_t cl_rate_cwt_etu(uint8_t cwi)
{
    if (cwi > 15)
        cwi = 15;
    return 11u + (1u << cwi);
}
