/*
 * cardlink — libFuzzer target: relay stream deframer (docs/protocol.md §12).
 * SPDX-License-Identifier: Apache-2.0
 *
 * Input: byte 0 picks the buffer size (8 + 4 * b0), byte 1 the chunking
 * (0: all at once, else pseudo-random chunks seeded by it), the rest is the
 * stream. A plain reference loop splits the same stream by the headers'
 * lengths; the deframer must deliver exactly those messages, in order, and
 * fail exactly where the reference says (bad first byte, reserved flags,
 * oversize). Each delivered message is also decoded (any outcome).
 */
#include <stdlib.h>
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/relay_frame.h"
#include "cardlink/relay_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t buf[8 + 4 * 255], buf1[8 + 4 * 255];

/* The reference: the error the stream must stop with at a message starting
 * at p with n bytes left (CL_OK when the message is acceptable so far), the
 * offset of the byte that brings it in *bad_at (a length too large comes
 * with the header's last byte), and the total size in *total when the
 * header is complete. */
static int reference(const uint8_t *p, size_t n, size_t cap, size_t *total, size_t *bad_at)
{
    size_t i;

    *total = 0;
    for (i = 0; i < n && i < CL_RELAY_HEADER_LEN; i++) {
        if (i == 0 && (p[0] & 0xF0) != 0xC0) { *bad_at = 0; return CL_ERR_MALFORMED; }
        if (i == 0 && p[0] != 0xC1) { *bad_at = 0; return CL_ERR_VERSION; }
        if (i == 2 && (p[2] & 0xF8)) { *bad_at = 2; return CL_ERR_RESERVED; }
        if (i >= cap) { *bad_at = i; return CL_ERR_TOO_LONG; }
    }
    if (n >= CL_RELAY_HEADER_LEN) {
        *total = CL_RELAY_HEADER_LEN + ((size_t)p[6] << 8 | p[7]);
        if (*total > cap) { *bad_at = CL_RELAY_HEADER_LEN - 1; return CL_ERR_TOO_LONG; }
    }
    return CL_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cl_relay_stream s;
    struct cl_relay_msg m;
    size_t cap, pos = 0, ref_pos = 0;
    uint32_t seed;
    int rc;

    if (size < 2)
        return 0;
    cap = 8 + 4 * (size_t)data[0];
    seed = data[1];
    data += 2;
    size -= 2;
    cl_relay_stream_init(&s, buf, cap);
    for (;;) {
        size_t total, bad_at = 0, n, used;
        const uint8_t *msg;
        size_t len;
        int want = reference(data + ref_pos, size - ref_pos, cap, &total, &bad_at);

        /* feed until the message completes, the stream fails or ends */
        for (;;) {
            n = size - pos;
            if (seed != 0) {
                seed = seed * 1103515245u + 12345u;
                if (n > 1 + (seed >> 16) % 61)
                    n = 1 + (seed >> 16) % 61;
            }
            rc = cl_relay_stream_feed(&s, data + pos, n);
            if (rc < 0)
                break;
            used = (size_t)rc;
            if (used > n)
                abort();
            pos += used;
            if (cl_relay_stream_ready(&s) || pos == size)
                break;
            if (used != n)   /* short consumption only at a message end */
                abort();
        }
        if (rc < 0) {
            /* the error, and where: a fresh deframer fed this message one
             * byte at a time stops at the byte the reference names */
            struct cl_relay_stream one;
            size_t at = ref_pos;

            cl_relay_stream_init(&one, buf1, cap);
            while (at < size && cl_relay_stream_feed(&one, data + at, 1) == 1)
                at++;
            if (rc != want || cl_relay_stream_error(&one) != want || at != ref_pos + bad_at ||
                at < pos || at >= pos + n)
                abort();
            return 0;
        }
        if (!cl_relay_stream_ready(&s)) {
            /* input ended inside a message: the reference must agree */
            if (want != CL_OK && ref_pos + bad_at < size)
                abort();
            if (total != 0 && ref_pos + total <= size)
                abort();
            return 0;
        }
        if (want != CL_OK || total == 0 || pos != ref_pos + total)
            abort();
        if (cl_relay_stream_take(&s, &msg, &len) != CL_OK || len != total ||
            memcmp(msg, data + ref_pos, len) != 0)
            abort();
        if (cl_relay_decode(msg, len, &m) > 0)
            abort();
        ref_pos += total;
        if (pos == size)
            return 0;
    }
}
