/*
 * cardlink — common definitions shared by every public header.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Compile-time sizes live here, each overridable with -D on the command line
 * (or a meson c_args entry) so that firmware can shrink them.
 */
#ifndef CARDLINK_DEFS_H
#define CARDLINK_DEFS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* Every function that can fail is marked so that ignoring its result is a
 * compile-time warning (nanopb's checkreturn, Monocypher). */
#if defined(__GNUC__) || defined(__clang__)
#define CL_WUR __attribute__((warn_unused_result))
#else
#define CL_WUR
#endif

/* For the core's own helpers: kept out of line in size-optimised builds,
 * where a call is shorter than the body gcc -Os would copy into each caller;
 * elsewhere the compiler chooses. */
#if (defined(__GNUC__) || defined(__clang__)) && defined(__OPTIMIZE_SIZE__)
#define CL_SIZE_NOINLINE __attribute__((noinline))
#else
#define CL_SIZE_NOINLINE
#endif

/* Longest ATR the standard allows: TS plus 32 bytes (ISO 7816-3 §8.2.1). */
#ifndef CL_ATR_MAX
#define CL_ATR_MAX 33
#endif

/* Largest command/response APDU a context is sized for. 261 covers every
 * short APDU (4 + 1 + 255 + 1); extended APDUs need up to 65544. */
#ifndef CL_APDU_MAX
#define CL_APDU_MAX 261
#endif

#define CL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The length of the NUL-terminated text s, at most max: strnlen without
 * the C library (the core is freestanding on Cortex-M: no strlen). */
static inline size_t cl_strnlen(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n] != '\0')
        n++;
    return n;
}

#endif /* CARDLINK_DEFS_H */
