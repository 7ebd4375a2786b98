/*
 * cardlink — the card applet's internal helpers (not public).
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CARDLINK_APPLET_IMPL_H
#define CARDLINK_APPLET_IMPL_H

#include "cardlink/applet.h"

#include "cardlink/wipe.h"   /* cl_wipe(): PIN blocks, keys, images */

/* Whether b is a well-formed ISO 9564 format 2 block: control nibble 2,
 * length nibble in min..max, that many BCD digits, then F fill. */
bool cl_applet_pin_block_ok(const uint8_t b[CL_APPLET_PIN_BLOCK],
                            unsigned min, unsigned max);

static inline void cl_applet_put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void cl_applet_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline unsigned cl_applet_get16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static inline uint32_t cl_applet_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | p[3];
}

#endif
