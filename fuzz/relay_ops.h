/*
 * cardlink — what fuzz_relay_device.c and fuzz_relay_server.c read from
 * their input in the same way (one copy, included by both; static
 * functions): feeding bytes, time passing, pulling, closing, and the
 * checks on each. The ops that differ by role (4, 5, 6) stay in each file.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CL_RELAY_OPS_H
#define CL_RELAY_OPS_H

#include <stdlib.h>

#include "relay_drive.h"

/* The target's session, clock and callbacks: events(ctx) polls the events
 * and plays the application; out(ctx, msg, len) checks each message the
 * session sends. */
struct ro_target {
    struct cl_relay_session *s;
    uint32_t *now;
    void *ctx;
    void (*events)(void *ctx);
    bool (*out)(void *ctx, const uint8_t *msg, size_t len);
};

static void ro_check(bool ok)
{
    if (!ok)
        abort();
}

/* Feed p[0..n): the engine never stalls, and a failure is the session's
 * own sticky error, or a session closed or not open. */
static void ro_feed(const struct ro_target *t, const uint8_t *p, size_t n)
{
    int rc = rd_feed(t->s, *t->now, p, n, t->events, t->ctx);

    ro_check(rc != RD_STALLED);
    ro_check(rc == 0 || rc == cl_relay_session_error(t->s) || rc == CL_ERR_CLOSED ||
             rc == CL_ERR_STATE);
}

static void ro_pull(const struct ro_target *t)
{
    (void)rd_pull(t->s, *t->now, t->out, t->ctx);
}

/*
 * One of the shared ops (op is the input byte mod 8; data[*pos] the byte
 * after it): 0, 1 feed the next n bytes (n = that byte); 2 n x 40 ms pass,
 * then timeout(); 3 pull; 7 close(). Returns false, *pos unchanged, for
 * the role's own ops.
 */
static bool ro_shared_op(const struct ro_target *t, uint8_t op, const uint8_t *data, size_t size,
                         size_t *pos)
{
    size_t n = *pos < size ? data[*pos] : 0;
    int rc;

    switch (op) {
    case 0:
    case 1:
        if (++*pos > size)
            return true;            /* no length byte: nothing to feed */
        if (n > size - *pos)
            n = size - *pos;
        ro_feed(t, data + *pos, n);
        *pos += n;
        return true;
    case 2:
        (*pos)++;
        *t->now += (uint32_t)n * 40u;
        rc = cl_relay_session_timeout(t->s, *t->now);
        ro_check(rc == CL_OK || rc == cl_relay_session_error(t->s));
        t->events(t->ctx);
        return true;
    case 3:
        ro_pull(t);
        return true;
    case 7:
        rc = cl_relay_session_close(t->s, *t->now, CL_RELAY_E_NONE);
        ro_check(rc == CL_OK || rc == CL_ERR_CLOSED || rc == CL_ERR_STATE);
        ro_pull(t);
        return true;
    default:
        return false;
    }
}

#endif
