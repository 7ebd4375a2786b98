/*
 * cardlink — driving a relay session engine from a harness: the feed and
 * pull loops that fuzz_relay_device.c, fuzz_relay_server.c and
 * tests/relay/sim.c share (one copy, included by each; static functions).
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CL_RELAY_DRIVE_H
#define CL_RELAY_DRIVE_H

#include "cardlink/error.h"
#include "cardlink/relay_session.h"

/* Returned by rd_feed() when the engine used nothing although no event was
 * waiting and the transport is up: a stall, a bug in the engine. */
#define RD_STALLED 1

/*
 * Feed p[0..n) to s, calling events(ctx) after each feed() (it polls the
 * events and runs the application). Stops when everything is used, when
 * the transport is gone (the rest is lost, as on a real link) or when
 * feed() fails. Returns 0, RD_STALLED, or the failing feed()'s error.
 */
static int rd_feed(struct cl_relay_session *s, uint32_t now, const uint8_t *p, size_t n,
                   void (*events)(void *ctx), void *ctx)
{
    int guard = 0;

    while (n > 0 && guard++ < 4096) {
        uint8_t st = cl_relay_session_state(s);
        int rc;
        if (st != CL_RELAY_ST_OPEN && st != CL_RELAY_ST_HELLO)
            return 0;
        rc = cl_relay_session_feed(s, now, p, n);
        if (rc < 0) {
            events(ctx);
            return rc;
        }
        if ((size_t)rc > n)
            return RD_STALLED;
        p += rc;
        n -= (size_t)rc;
        if (rc == 0 && cl_relay_session_want(s) != CL_WANT_DONE)
            return RD_STALLED;
        events(ctx);
    }
    return 0;
}

/*
 * Pull every message s has to send, each in full (pull + sent), handing
 * it to out(ctx, msg, len) (the bytes stay valid during the call); stops
 * early when out returns false, or when sent() refuses. Returns the number
 * of messages.
 */
static int rd_pull(struct cl_relay_session *s, uint32_t now,
                   bool (*out)(void *ctx, const uint8_t *msg, size_t len), void *ctx)
{
    const uint8_t *m;
    size_t len;
    int count = 0;

    while (count < 1000 && (len = cl_relay_session_pull(s, now, &m)) > 0) {
        if (cl_relay_session_sent(s, len) != CL_OK)
            break;
        count++;
        if (!out(ctx, m, len))
            break;
    }
    return count;
}

#endif
