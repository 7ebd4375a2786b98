/*
 * cardlink — libFuzzer target for BER-TLV decoding and building.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Walks the input with the iterator, descending (to a bounded depth) into
 * every constructed object whose value is a clean level of objects, and
 * rebuilds everything it read with the builder (open/close for templates,
 * put for the rest). Cross-checks, each an abort() when it fails:
 *  - every object lies inside the input; decoding it again alone (and in
 *    DER mode, which may only add CL_ERR_MALFORMED) gives the same object;
 *  - the builder accepts every decoded tag and never fails with room enough;
 *  - each rebuilt object decodes in DER mode to the same tag, the same
 *    length and, when primitive, the same value; where the input object was
 *    already minimal and unpadded it is byte-for-byte the input;
 *  - a canonical input rebuilt into a smaller buffer fails with
 *    CL_ERR_BUFFER; the DER iterator agrees with the lenient one there;
 *  - cl_tlv_find finds each top-level tag at or before where it was met.
 */
#include <stdlib.h>
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/tlv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_DEPTH 8
#define MAX_INPUT 65536

static uint8_t out[MAX_INPUT];

#define CHECK(c)        \
    do {                \
        if (!(c))       \
            abort();    \
    } while (0)

/* Whether buf[0..len) is one level of objects with no error. */
static bool level_ok(const uint8_t *buf, size_t len)
{
    struct cl_tlv_iter it;
    struct cl_tlv t;
    int r;

    cl_tlv_iter_init(&it, buf, len);
    while ((r = cl_tlv_iter_next(&it, &t)) == 1)
        ;
    return r == 0;
}

static bool same(const struct cl_tlv *a, const struct cl_tlv *b)
{
    return a->tag == b->tag && a->constructed == b->constructed &&
           a->value == b->value && a->len == b->len && a->total == b->total;
}

/*
 * Rebuild the level buf[0..len) into b. Returns whether the level is
 * canonical: read to its end with no error, no padding, every length
 * minimal, all the way down.
 */
static bool walk(const uint8_t *buf, size_t len, int depth, struct cl_tlv_builder *b,
                 bool top)
{
    struct cl_tlv_iter it;
    struct cl_tlv t, u;
    size_t used = 0;
    bool canon = true;
    int r;

    cl_tlv_iter_init(&it, buf, len);
    while ((r = cl_tlv_iter_next(&it, &t)) == 1) {
        const uint8_t *raw = t.value - (t.total - t.len);
        size_t start = b->pos, hdr = t.total - t.len, i;
        bool ecanon;
        uint32_t v;

        CHECK(t.total > t.len && hdr >= 2 && hdr <= CL_TLV_HEADER_MAX);
        CHECK(raw >= buf && t.total <= len && raw - buf <= (ptrdiff_t)(len - t.total));
        CHECK(cl_tlv_tag_constructed(t.tag) == t.constructed);
        if (raw != buf + used)
            canon = false;   /* padding skipped */
        used = (size_t)(raw - buf) + t.total;

        /* decoding it alone gives the same object */
        CHECK(cl_tlv_decode(raw, t.total, &u) == CL_OK && same(&t, &u));
        CHECK(cl_tlv_decode(raw, len - (size_t)(raw - buf), &u) == CL_OK && same(&t, &u));
        r = cl_tlv_decode_flags(raw, t.total, CL_TLV_DER, &u);
        CHECK(r == CL_OK || r == CL_ERR_MALFORMED);
        CHECK(r != CL_OK || same(&t, &u));
        ecanon = r == CL_OK;

        if (top) {
            CHECK(cl_tlv_find(buf, len, t.tag, &u) == CL_OK);
            CHECK(u.tag == t.tag && u.value <= t.value);
        }
        r = cl_tlv_get_uint(&t, &v);
        if (t.len >= 1 && t.len <= 4) {
            uint32_t w = 0;
            for (i = 0; i < t.len; i++)
                w = w << 8 | t.value[i];
            CHECK(r == CL_OK && v == w);
        } else {
            CHECK(r == CL_ERR_LENGTH);
        }

        if (t.constructed && depth < MAX_DEPTH && level_ok(t.value, t.len)) {
            size_t mark;
            cl_tlv_open(b, t.tag, &mark);
            if (!walk(t.value, t.len, depth + 1, b, false))
                ecanon = false;
            cl_tlv_close(b, mark);
        } else {
            cl_tlv_put(b, t.tag, t.value, t.len);
        }
        if (b->err)
            continue;   /* a deliberately small buffer: checked by the caller */

        /* the rebuilt object is minimal and says the same */
        CHECK(b->pos > start);
        CHECK(cl_tlv_decode_flags(b->buf + start, b->pos - start, CL_TLV_DER, &u) == CL_OK);
        CHECK(u.tag == t.tag && u.total == b->pos - start && u.total <= t.total);
        if (!(t.constructed && depth < MAX_DEPTH && level_ok(t.value, t.len)))
            CHECK(u.len == t.len && memcmp(u.value, t.value, t.len) == 0);
        if (ecanon)
            CHECK(u.total == t.total && memcmp(b->buf + start, raw, t.total) == 0);
        else
            canon = false;
    }
    if (r != 0 || used != len)
        canon = false;
    return canon;
}

static bool rebuild(const uint8_t *data, size_t size, size_t room, size_t *n, int *rc)
{
    struct cl_tlv_builder b;
    bool canon;

    cl_tlv_builder_init(&b, room ? out : NULL, room);
    canon = walk(data, size, 0, &b, true);
    *rc = cl_tlv_builder_finish(&b, n);
    return canon;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cl_tlv_iter a, d;
    struct cl_tlv ta, td;
    size_t n;
    int rc, ra, rd;
    bool canon;

    if (size > MAX_INPUT)
        return 0;
    canon = rebuild(data, size, sizeof(out), &n, &rc);
    CHECK(rc == CL_OK);   /* rebuilt output is never longer than the input */
    CHECK(n <= size);
    if (!canon)
        return 0;
    CHECK(n == size && memcmp(out, data, size) == 0);

    /* canonical: too small a buffer fails, and only with CL_ERR_BUFFER */
    if (size) {
        rebuild(data, size, size - 1, &n, &rc);
        CHECK(rc == CL_ERR_BUFFER && n == 0);
        rebuild(data, size, size / 2, &n, &rc);
        CHECK(rc == CL_ERR_BUFFER && n == 0);
    }

    /* canonical: the DER iterator reads the same objects */
    cl_tlv_iter_init(&a, data, size);
    cl_tlv_iter_init_flags(&d, data, size, CL_TLV_DER);
    do {
        ra = cl_tlv_iter_next(&a, &ta);
        rd = cl_tlv_iter_next(&d, &td);
        CHECK(ra == rd && (ra != 1 || same(&ta, &td)));
    } while (ra == 1);
    CHECK(ra == 0);
    return 0;
}
