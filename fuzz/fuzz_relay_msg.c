/*
 * cardlink — libFuzzer target: relay message decoder (docs/protocol.md).
 * SPDX-License-Identifier: Apache-2.0
 *
 * Decodes arbitrary input. A message that decodes must re-encode; the
 * canonical encoding is never longer than the input, decodes to the same
 * header, and is a fixed point (encode(decode(x)) == x). It must also come
 * out of the stream deframer unchanged when fed byte by byte. Any
 * inconsistency aborts.
 */
#include <stdlib.h>
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/relay_frame.h"
#include "cardlink/relay_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[CL_RELAY_MSG_MAX], out2[CL_RELAY_MSG_MAX], sbuf[CL_RELAY_MSG_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cl_relay_msg m, m2;
    struct cl_relay_stream s;
    const uint8_t *msg;
    size_t len, len2, i;
    int rc = cl_relay_decode(data, size, &m);

    if (rc > 0 || (rc < 0 && strcmp(cl_strerror(rc), "unknown error") == 0))
        abort();
    if (rc != CL_OK)
        return 0;
    if (cl_relay_encode(&m, out, sizeof(out), &len) != CL_OK)
        abort();
    if (len > size || len < CL_RELAY_HEADER_LEN || memcmp(out, data, 6) != 0)
        abort();
    if (cl_relay_decode(out, len, &m2) != CL_OK)
        abort();
    if (m2.type != m.type || m2.flags != m.flags || m2.seq != m.seq || m2.ack != m.ack ||
        m2.ref != m.ref)
        abort();
    if (cl_relay_encode(&m2, out2, sizeof(out2), &len2) != CL_OK || len2 != len ||
        memcmp(out, out2, len) != 0)
        abort();
    /* the encoder reports a short buffer, never writes past it */
    if (len > CL_RELAY_HEADER_LEN &&
        cl_relay_encode(&m, out2, len - 1, &len2) != CL_ERR_BUFFER)
        abort();
    /* the deframer delivers the canonical message whole */
    cl_relay_stream_init(&s, sbuf, len);
    for (i = 0; i < len; i++) {
        if (cl_relay_stream_feed(&s, out + i, 1) != 1)
            abort();
        if (cl_relay_stream_ready(&s) != (i + 1 == len))
            abort();
    }
    if (cl_relay_stream_take(&s, &msg, &len2) != CL_OK || len2 != len ||
        memcmp(msg, out, len) != 0)
        abort();
    return 0;
}
