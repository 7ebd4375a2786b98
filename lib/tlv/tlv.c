/*
 * cardlink — BER-TLV decoding and look-up (ISO/IEC 7816-4 §5.2).
 * SPDX-License-Identifier: Apache-2.0
 *
 * Small by design (it runs on a Cortex-M0+). The builder is in
 * tlv_build.c, so that firmware that only reads TLV does not link it; it
 * validates a tag by decoding it with cl_tlv_i_get_tag(), so each rule is
 * written once.
 */
#include "cardlink/error.h"
#include "cardlink/tlv.h"
#include "tlv_int.h"

/* see tlv_int.h */
int cl_tlv_i_get_tag(const uint8_t *p, size_t n, uint32_t *tag)
{
    uint32_t t;
    size_t i = 1;

    if (n == 0)
        return CL_ERR_TRUNCATED;
    t = p[0];
    if ((t & 0x1Fu) == 0x1Fu) {
        do {
            if (i == 4)
                return CL_ERR_UNSUPPORTED;
            if (i >= n)
                return CL_ERR_TRUNCATED;
            if (i == 1 && p[1] == 0x80u)
                return CL_ERR_MALFORMED;
            t = t << 8 | p[i];
        } while (p[i++] & 0x80u);
    }
    *tag = t;
    return (int)i;
}

/* see cardlink/tlv.h */
int cl_tlv_decode_flags(const uint8_t *buf, size_t len, unsigned flags,
                        struct cl_tlv *out)
{
    uint32_t tag, v;
    size_t i, k;
    int r = cl_tlv_i_get_tag(buf, len, &tag);

    if (r < 0)
        return r;
    i = (size_t)r;
    if (i >= len)
        return CL_ERR_TRUNCATED;
    v = buf[i++];
    if (v & 0x80u) {
        k = v & 0x7Fu;
        if (k == 0)
            return CL_ERR_INDEFINITE;
        if (k == 0x7Fu)
            return CL_ERR_MALFORMED;
        if (k > 4)
            return CL_ERR_UNSUPPORTED;
        if (k > len - i)
            return CL_ERR_TRUNCATED;
        for (v = 0; k; k--)
            v = v << 8 | buf[i++];
        /* minimal: a long form only from 0x80 on, no leading zero byte */
        if ((flags & CL_TLV_DER) && (v < 0x80u || buf[r + 1] == 0))
            return CL_ERR_MALFORMED;
    }
    if (v > len - i)
        return CL_ERR_TRUNCATED;
    out->tag = tag;
    out->constructed = (buf[0] & 0x20u) != 0;
    out->value = buf + i;
    out->len = v;
    out->total = i + v;
    return CL_OK;
}

/* see cardlink/tlv.h */
int cl_tlv_decode(const uint8_t *buf, size_t len, struct cl_tlv *out)
{
    return cl_tlv_decode_flags(buf, len, 0, out);
}

/* see cardlink/tlv.h */
int cl_tlv_get_uint(const struct cl_tlv *tlv, uint32_t *out)
{
    uint32_t v = 0;
    size_t i;

    if (tlv->len - 1 > 3)
        return CL_ERR_LENGTH;
    for (i = 0; i < tlv->len; i++)
        v = v << 8 | tlv->value[i];
    *out = v;
    return CL_OK;
}

/* see cardlink/tlv.h */
void cl_tlv_iter_init_flags(struct cl_tlv_iter *it, const uint8_t *buf,
                            size_t len, unsigned flags)
{
    it->p = buf;
    it->left = len;
    it->flags = flags;
    it->err = CL_OK;
}

/* see cardlink/tlv.h */
void cl_tlv_iter_init(struct cl_tlv_iter *it, const uint8_t *buf, size_t len)
{
    cl_tlv_iter_init_flags(it, buf, len, 0);
}

/* see cardlink/tlv.h */
int cl_tlv_iter_next(struct cl_tlv_iter *it, struct cl_tlv *out)
{
    int r = it->err;

    if (r)
        return r;
    if (!(it->flags & CL_TLV_DER))
        while (it->left && (uint8_t)(*it->p + 1) <= 1) {  /* 00 or FF */
            it->p++;
            it->left--;
        }
    if (!it->left)
        return 0;
    r = cl_tlv_decode_flags(it->p, it->left, it->flags, out);
    if (r) {
        it->err = r;
        return r;
    }
    it->p += out->total;
    it->left -= out->total;
    return 1;
}

/* see cardlink/tlv.h */
int cl_tlv_find(const uint8_t *buf, size_t len, uint32_t tag,
                struct cl_tlv *out)
{
    struct cl_tlv_iter it;
    struct cl_tlv t;
    int r;

    cl_tlv_iter_init(&it, buf, len);
    while ((r = cl_tlv_iter_next(&it, &t)) > 0) {
        if (t.tag == tag) {
            *out = t;
            return CL_OK;
        }
    }
    return r ? r : CL_ERR_NOT_FOUND;
}

/* see cardlink/tlv.h */
int cl_tlv_find_path(const uint8_t *buf, size_t len, const uint32_t *path,
                     size_t depth, struct cl_tlv *out)
{
    struct cl_tlv t;
    int r;

    if (!path || !depth)
        return CL_ERR_ARG;
    for (;;) {
        r = cl_tlv_find(buf, len, *path++, &t);
        if (r)
            return r;
        if (!--depth)
            break;
        if (!t.constructed)
            return CL_ERR_NOT_FOUND;
        buf = t.value;
        len = t.len;
    }
    *out = t;
    return CL_OK;
}
