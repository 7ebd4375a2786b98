/*
 * cardlink — BER-TLV building (ISO/IEC 7816-4 §5.2): minimal lengths,
 * nested templates closed in place.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Apart from tlv.c so that firmware that only reads TLV does not link it.
 * A tag is checked by decoding its own encoding (cl_tlv_i_get_tag()), so
 * the tag rules are written once, in tlv.c.
 */
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/tlv.h"
#include "tlv_int.h"

/* Write the minimal length encoding of v to out; return its size (1..9). */
static size_t put_len(uint8_t *out, size_t v)
{
    size_t k = 0, t = v, i;

    if (v < 0x80u) {
        out[0] = (uint8_t)v;
        return 1;
    }
    while (t) {
        k++;
        t >>= 8;
    }
    out[0] = (uint8_t)(0x80u | k);
    for (i = k; i; i--) {
        out[i] = (uint8_t)v;
        v >>= 8;
    }
    return k + 1;
}

/* see cardlink/tlv.h */
void cl_tlv_builder_init(struct cl_tlv_builder *b, uint8_t *buf, size_t size)
{
    b->buf = buf;
    b->size = size;
    b->pos = 0;
    b->open = 0;
    b->err = CL_OK;
}

/* see cardlink/tlv.h */
void cl_tlv_put_raw(struct cl_tlv_builder *b, const void *bytes, size_t len)
{
    if (b->err)
        return;
    if (len > b->size - b->pos) {
        b->err = CL_ERR_BUFFER;
        return;
    }
    if (len)
        memcpy(b->buf + b->pos, bytes, len);
    b->pos += len;
}

/* Write tag and the length len; check the tag by decoding it again. */
static void put_head(struct cl_tlv_builder *b, uint32_t tag, size_t len)
{
    uint8_t h[CL_TLV_HEADER_MAX];
    uint32_t t;
    size_t n = 0;
    int s;

    for (s = 24; s > 0; s -= 8)
        if (tag >> s)
            h[n++] = (uint8_t)(tag >> s);
    h[n++] = (uint8_t)tag;
    if (cl_tlv_i_get_tag(h, n, &t) != (int)n) {
        if (!b->err)
            b->err = CL_ERR_ARG;
        return;
    }
    n += put_len(h + n, len);
    cl_tlv_put_raw(b, h, n);
}

/* see cardlink/tlv.h */
void cl_tlv_put(struct cl_tlv_builder *b, uint32_t tag, const void *value,
                size_t len)
{
    put_head(b, tag, len);
    cl_tlv_put_raw(b, value, len);
}

/* see cardlink/tlv.h */
void cl_tlv_put_uint(struct cl_tlv_builder *b, uint32_t tag, uint32_t v,
                     size_t width)
{
    uint8_t tmp[4];
    size_t i;

    if (width - 1 > 3 || (width < 4 && v >> (8 * width))) {
        if (!b->err)
            b->err = CL_ERR_ARG;
        return;
    }
    for (i = width; i; i--) {
        tmp[i - 1] = (uint8_t)v;
        v >>= 8;
    }
    cl_tlv_put(b, tag, tmp, width);
}

/* see cardlink/tlv.h */
void cl_tlv_open(struct cl_tlv_builder *b, uint32_t tag, size_t *mark)
{
    put_head(b, tag, 0);
    *mark = b->pos - 1;
    if (b->err)
        return;
    b->buf[*mark] = 0x80;   /* placeholder: never a minimal length byte */
    b->open++;
}

/* see cardlink/tlv.h */
void cl_tlv_close(struct cl_tlv_builder *b, size_t mark)
{
    uint8_t h[CL_TLV_HEADER_MAX];
    size_t n, len;

    if (b->err)
        return;
    if (!b->open || mark >= b->pos || b->buf[mark] != 0x80u) {
        b->err = CL_ERR_STATE;
        return;
    }
    len = b->pos - mark - 1;
    n = put_len(h, len);
    cl_tlv_put_raw(b, h, n - 1);   /* room for the extra length bytes */
    if (b->err)
        return;
    memmove(b->buf + mark + n, b->buf + mark + 1, len);
    memcpy(b->buf + mark, h, n);
    b->open--;
}

/* see cardlink/tlv.h */
int cl_tlv_builder_finish(const struct cl_tlv_builder *b, size_t *len)
{
    int r = b->err;

    if (!r && b->open)
        r = CL_ERR_STATE;
    if (len)
        *len = r ? 0 : b->pos;
    return r;
}
