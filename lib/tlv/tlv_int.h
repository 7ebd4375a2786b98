/*
 * cardlink — lib/tlv internals shared by tlv.c and tlv_build.c.
 * Not installed; not API.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CARDLINK_TLV_INT_H
#define CARDLINK_TLV_INT_H

#include <stddef.h>
#include <stdint.h>

/* Decode a BER-TLV tag from p[0..n) into *tag: returns the number of tag
 * bytes (1..4), or CL_ERR_TRUNCATED (n 0, or it ends inside the tag),
 * CL_ERR_MALFORMED (a first subsequent byte 0x80: padding in the tag
 * number), CL_ERR_UNSUPPORTED (more than 4 tag bytes). */
int cl_tlv_i_get_tag(const uint8_t *p, size_t n, uint32_t *tag);

#endif /* CARDLINK_TLV_INT_H */
