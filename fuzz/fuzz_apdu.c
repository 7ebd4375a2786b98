/*
 * cardlink — fuzz target: command APDU decoding, response split, status words.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The input is taken as a command APDU: when it decodes, encoding the result
 * in the form found (short or extended) must give back exactly the input,
 * and the case cl_apdu_case() derives must be the case decoded. The input is
 * also taken as a response APDU: its split and rebuilt form must match, and
 * its status word must have a class and a text.
 */
#include <stdlib.h>
#include <string.h>

#include "cardlink/apdu.h"
#include "cardlink/error.h"
#include "cardlink/sw.h"

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

static uint8_t out[CL_RAPDU_MAX + 8];

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
    struct cl_apdu a;
    enum cl_apdu_case c;
    const uint8_t *data;
    size_t n, dlen;
    uint16_t sw;
    int rc;

    rc = cl_apdu_decode(buf, len, &a, &c);
    if (rc == CL_OK) {
        bool ext = CL_APDU_CASE_IS_EXTENDED(c);

        if (cl_apdu_case(&a, ext) != (int)c)
            abort();
        if (a.nc && (a.data < buf || a.data + a.nc > buf + len))
            abort();
        if (cl_apdu_encode(&a, ext, out, sizeof(out), &n) != CL_OK)
            abort();
        if (n != len || memcmp(out, buf, len) != 0)
            abort();
        rc = cl_apdu_check_header(&a);
        if (rc != CL_OK && rc != CL_ERR_RESERVED)
            abort();
    } else if (rc != CL_ERR_TRUNCATED && rc != CL_ERR_MALFORMED && rc != CL_ERR_LENGTH) {
        abort();
    }

    rc = cl_rapdu_split(buf, len, &data, &dlen, &sw);
    if (rc == CL_OK) {
        const char *t = cl_sw_text(sw);
        enum cl_sw_class k = cl_sw_class(sw);

        if (!t || !*t || (int)k < 0 || k > CL_SW_CLASS_PROPRIETARY)
            abort();
        if (cl_sw_is_success(sw) != (k == CL_SW_CLASS_SUCCESS || k == CL_SW_CLASS_MORE_DATA))
            abort();
        if (cl_rapdu_build(data, dlen, sw, out, sizeof(out), &n) != CL_OK ||
            n != len || memcmp(out, buf, len) != 0)
            abort();
    } else if (rc != (len < 2 ? CL_ERR_TRUNCATED : CL_ERR_TOO_LONG)) {
        abort();
    }
    return 0;
}
