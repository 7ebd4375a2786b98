/*
 * cardlink — historical bytes of the ATR (ISO/IEC 7816-4 §8.1.1).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/atr.h"
#include "cardlink/error.h"

/* Store the 1..3-byte status indicator v[0..n): LCS first when n is odd. */
static void set_status(struct cl_atr_hist_info *h, const uint8_t *v, unsigned n)
{
    if (n & 1u) {
        h->lcs = v[0];
        h->status |= CL_ATR_HIST_LCS;
        v++;
    }
    if (n >= 2) {
        h->sw = (uint16_t)(v[0] << 8 | v[1]);
        h->status |= CL_ATR_HIST_SW;
    }
}

/* see cardlink/atr.h */
int cl_atr_hist_parse(struct cl_atr_hist_info *h, const uint8_t *buf, size_t len)
{
    unsigned pos = 1, end;

    if (h == NULL || (buf == NULL && len > 0))
        return CL_ERR_ARG;
    memset(h, 0, sizeof(*h));
    if (len == 0)
        return CL_ERR_NOT_FOUND;
    if (len > CL_ATR_HIST_MAX)
        return CL_ERR_TOO_LONG;
    memcpy(h->bytes, buf, len);
    h->len = (uint8_t)len;
    h->category = buf[0];
    end = (unsigned)len;

    switch (buf[0]) {
    case 0x10:
        if (len < 2)
            return CL_ERR_TRUNCATED;
        h->dir_ref = buf[1];
        return len > 2 ? CL_ERR_TRAILING : CL_OK;
    case 0x00:
        if (len < 4)
            return CL_ERR_TRUNCATED;
        end -= 3;
        set_status(h, buf + end, 3);
        break;
    case 0x80:
        break;
    default:
        return CL_ERR_UNSUPPORTED;
    }

    while (pos < end) {
        unsigned tag = buf[pos] >> 4, n = buf[pos] & 0x0Fu;
        const uint8_t *v = buf + pos + 1;

        pos += 1 + n;
        if (pos > end)
            return CL_ERR_TRUNCATED;
        if (tag == 0)
            continue;   /* padding byte 00 (or an undefined tag 0): skip */
        /* A tag twice, or a status indicator object in category 00,
         * whose status is already in its last three bytes. */
        if ((h->tags & (1u << tag)) || (tag == 8 && h->status))
            return CL_ERR_TAG;
        h->tags |= (uint16_t)(1u << tag);
        h->off[tag] = (uint8_t)(v - buf);
        h->vlen[tag] = (uint8_t)n;
        if (tag == 3) {
            if (n != 1)
                return CL_ERR_LENGTH;
            h->service = v[0];
        } else if (tag == 7 || tag == 8) {
            if (n == 0 || n > 3)
                return CL_ERR_LENGTH;
            if (tag == 7)
                memcpy(h->caps, v, n);
            else
                set_status(h, v, n);
        }
    }
    return CL_OK;
}

/* see cardlink/atr.h */
int cl_atr_hist_get(const struct cl_atr_hist_info *h, unsigned tag,
                    const uint8_t **val, size_t *len)
{
    if (h == NULL || val == NULL || len == NULL || tag == 0 || tag > 15)
        return CL_ERR_ARG;
    if (!(h->tags & (1u << tag)))
        return CL_ERR_NOT_FOUND;
    *val = h->bytes + h->off[tag];
    *len = h->vlen[tag];
    return CL_OK;
}
