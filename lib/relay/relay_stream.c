/*
 * cardlink — relay protocol stream deframer (docs/protocol.md §12).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/relay_frame.h"
#include "cardlink/relay_msg.h"
#include "cardlink/error.h"
#include "cardlink/wipe.h"

/* see cardlink/relay_frame.h */
void cl_relay_stream_init(struct cl_relay_stream *s, uint8_t *buf, size_t size)
{
    if (s == NULL)
        return;
    s->buf = buf;
    s->size = buf != NULL ? size : 0;
    cl_relay_stream_reset(s);
}

/* see cardlink/relay_frame.h */
void cl_relay_stream_reset(struct cl_relay_stream *s)
{
    if (s == NULL)
        return;
    s->have = 0;
    s->need = CL_RELAY_HEADER_LEN;
    s->want = CL_WANT_RECV;
    s->err = CL_OK;
}

/* see cardlink/relay_frame.h */
void cl_relay_stream_free(struct cl_relay_stream *s)
{
    if (s != NULL)
        cl_wipe(s, sizeof(*s));
}

/* see cardlink/relay_frame.h */
enum cl_want cl_relay_stream_want(const struct cl_relay_stream *s)
{
    return s == NULL ? CL_WANT_FAILED : (enum cl_want)s->want;
}

/* see cardlink/relay_frame.h */
int cl_relay_stream_error(const struct cl_relay_stream *s)
{
    return s != NULL ? s->err : CL_ERR_ARG;
}

/* Check a header byte as soon as it is in: a stream that is not cardlink
 * fails at its first byte; nothing is taken past the buffer. */
static int check_byte(const struct cl_relay_stream *s, uint8_t b)
{
    size_t pos = s->have;

    if (pos == 0) {
        if ((b & 0xF0u) != (CL_RELAY_MAGIC & 0xF0u))
            return CL_ERR_MALFORMED;
        if (b != CL_RELAY_MAGIC)
            return CL_ERR_VERSION;
    } else if (pos == 2 && (b & CL_RELAY_F_RESERVED) != 0) {
        return CL_ERR_RESERVED;
    }
    return pos >= s->size ? CL_ERR_TOO_LONG : CL_OK;
}

/* see cardlink/relay_frame.h */
int cl_relay_stream_feed(struct cl_relay_stream *s, const uint8_t *in, size_t len)
{
    size_t used = 0, n;
    int rc = CL_OK;

    if (s == NULL || (in == NULL && len > 0))
        return CL_ERR_ARG;
    if (s->want != CL_WANT_RECV)    /* failed (sticky), or a message waits */
        return s->err;
    if (s->have == s->need)
        cl_relay_stream_reset(s);   /* the last one was taken */
    /* header: byte by byte, checked as it comes */
    while (s->have < CL_RELAY_HEADER_LEN && used < len) {
        if ((rc = check_byte(s, in[used])) != CL_OK)
            goto out;
        s->buf[s->have++] = in[used++];
    }
    if (s->have < CL_RELAY_HEADER_LEN)
        goto out;
    s->need = CL_RELAY_HEADER_LEN + ((size_t)s->buf[6] << 8 | s->buf[7]);
    if (s->need > s->size) {
        rc = CL_ERR_TOO_LONG;
        goto out;
    }
    /* body: in bulk */
    n = s->need - s->have;
    if (n > len - used)
        n = len - used;
    memcpy(s->buf + s->have, in + used, n);
    s->have += n;
    used += n;
    if (s->have == s->need)
        s->want = CL_WANT_DONE;
out:
    if (rc != CL_OK) {
        s->want = CL_WANT_FAILED;
        s->err = rc;
        return rc;
    }
    return (int)used;   /* at most one message: <= 8 + 65535 */
}

/* see cardlink/relay_frame.h */
bool cl_relay_stream_ready(const struct cl_relay_stream *s)
{
    return cl_relay_stream_want(s) == CL_WANT_DONE;
}

/* see cardlink/relay_frame.h */
int cl_relay_stream_take(struct cl_relay_stream *s, const uint8_t **msg, size_t *len)
{
    if (s == NULL || msg == NULL || len == NULL)
        return CL_ERR_ARG;
    if (s->want != CL_WANT_DONE)
        return s->err != CL_OK ? s->err : CL_ERR_STATE;
    *msg = s->buf;
    *len = s->need;
    s->want = CL_WANT_RECV;
    return CL_OK;
}
