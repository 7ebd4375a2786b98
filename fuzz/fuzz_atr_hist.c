/*
 * cardlink — libFuzzer target: historical bytes decoder.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The input is the historical bytes. Cross-checks, abort() on disagreement:
 * every tag found lies inside the bytes and cl_atr_hist_get() returns it;
 * decoded fields agree with the bytes; the same bytes carried in an ATR made
 * by cl_atr_build() come back through cl_atr_parse() unchanged and decode
 * the same way.
 */
#include <stdlib.h>
#include <string.h>

#include "cardlink/atr.h"
#include "cardlink/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cl_atr_hist_info h, h2;
    struct cl_atr_build_spec s;
    struct cl_atr a;
    uint8_t atr[CL_ATR_MAX];
    size_t len, hl;
    const uint8_t *hb;
    unsigned t;
    int rc = cl_atr_hist_parse(&h, data, size);

    if (size == 0) {
        CHECK(rc == CL_ERR_NOT_FOUND);
        return 0;
    }
    if (size > CL_ATR_HIST_MAX) {
        CHECK(rc == CL_ERR_TOO_LONG);
        return 0;
    }
    CHECK(h.len == size && memcmp(h.bytes, data, size) == 0 && h.category == data[0]);
    CHECK(!(h.tags & 1u));
    for (t = 1; t < 16; t++) {
        const uint8_t *v;
        size_t vl;
        int g = cl_atr_hist_get(&h, t, &v, &vl);

        if (h.tags & (1u << t)) {
            CHECK(g == CL_OK && h.off[t] >= 1 && (size_t)h.off[t] + vl <= size);
            CHECK(v == h.bytes + h.off[t]);
            /* the byte before the value is its tag-length byte */
            CHECK(h.bytes[h.off[t] - 1] == (uint8_t)(t << 4 | vl));
        } else {
            CHECK(g == CL_ERR_NOT_FOUND);
        }
    }
    if (rc == CL_OK) {
        CHECK(h.category == 0x00 || h.category == 0x10 || h.category == 0x80);
        if (h.category == 0x10)
            CHECK(size == 2 && h.dir_ref == data[1] && h.tags == 0);
        if (h.category == 0x00)
            CHECK(h.status == (CL_ATR_HIST_LCS | CL_ATR_HIST_SW) && h.lcs == data[size - 3] &&
                  h.sw == (data[size - 2] << 8 | data[size - 1]));
        if (h.tags & (1u << 3))
            CHECK(h.service == h.bytes[h.off[3]]);
        if (!(h.status & CL_ATR_HIST_SW))
            CHECK(h.sw == 0);
        if (!(h.status & CL_ATR_HIST_LCS))
            CHECK(h.lcs == 0);
    } else {
        CHECK(rc == CL_ERR_UNSUPPORTED || rc == CL_ERR_TRUNCATED || rc == CL_ERR_TRAILING ||
              rc == CL_ERR_TAG || rc == CL_ERR_LENGTH);
    }

    /* Carried in an ATR: the same bytes, the same verdict. */
    memset(&s, 0, sizeof(s));
    s.opts = (uint16_t)(CL_ATR_B_T1 | ((data[0] & 1u) ? CL_ATR_B_T0 : 0));
    s.hist_len = (uint8_t)size;
    memcpy(s.hist, data, size);
    CHECK(cl_atr_build(&s, atr, sizeof(atr), &len) == CL_OK);
    CHECK(cl_atr_parse(&a, atr, len) == CL_OK);
    hb = cl_atr_hist(&a, &hl);
    CHECK(hl == size && memcmp(hb, data, size) == 0);
    CHECK(cl_atr_hist_parse(&h2, hb, hl) == rc);
    CHECK(memcmp(&h, &h2, sizeof(h)) == 0);
    return 0;
}
