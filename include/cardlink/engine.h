/*
 * cardlink — the engine shape: what every sans-I/O engine answers.
 * SPDX-License-Identifier: Apache-2.0
 *
 * T=0, T=1, the card simulator, the card session, the relay session, the
 * lossy link and the stream deframer all follow one contract (written out
 * in docs/porting.md, "Engine shape"):
 *
 *   cl_X_init(e)            cannot fail: zero and defaults
 *   cl_X_setup(e, ...)      may fail (CL_ERR_ARG, ...); CL_WUR
 *   cl_X_free(e)            wipes e with cl_wipe(); NULL does nothing
 *   cl_X_reset(e)           the protocol's own reset only, never a re-setup
 *   cl_X_want(e)            what the engine needs next: enum cl_want
 *   cl_X_feed(e, in, n)     bytes from the peer: bytes used (0..n) or < 0
 *   cl_X_pull(e, &p)        lends the next bytes to send (0: none)
 *   cl_X_sent(e, n)         n of the lent bytes went out (partial is fine)
 *   cl_X_timer(e)           the timer query: time until cl_X_timeout() is
 *                           due, in the engine's unit; CL_TIMER_NONE
 *   cl_X_timeout(e)         the expiry event
 *   cl_X_error(e)           sticky: CL_OK or the error that failed e
 *   cl_X_stats(e)           counters, read through this accessor only
 *
 * On a NULL engine every function that returns an int returns CL_ERR_ARG,
 * every void function does nothing, want() answers CL_WANT_FAILED, pull()
 * and timer queries answer 0 / CL_TIMER_NONE, accessors answer NULL.
 */
#ifndef CARDLINK_ENGINE_H
#define CARDLINK_ENGINE_H

#include "cardlink/defs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What an engine needs next. One value at a time: the engine's state says
 * which single thing unblocks it. */
enum cl_want {
    CL_WANT_IDLE = 0,   /* nothing until the caller starts something */
    CL_WANT_SEND = 1,   /* cl_X_pull() bytes, send them, cl_X_sent() */
    CL_WANT_RECV = 2,   /* feed the peer's bytes; arm cl_X_timer() */
    CL_WANT_DONE = 3,   /* an exchange is over: read its result */
    CL_WANT_CTRL = 4,   /* a control step on the line (the card engine:
                           reset, line parameters, power off) */
    CL_WANT_CLOSED = 5, /* ended cleanly (a session closed, a card off) */
    CL_WANT_FAILED = 6  /* failed: cl_X_error() says why; reset or free */
};

/* A timer query's "no timer armed". A real timer never reads as it: a
 * long one saturates at CL_TIMER_MAX, so that "very long" can never become
 * "no limit" (issue 11: a large WTX once did). */
#define CL_TIMER_NONE 0xFFFFFFFFu
#define CL_TIMER_MAX 0xFFFFFFFEu

/* A short constant name of a want value ("send"); "?" for others. */
const char *cl_want_name(int want);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_ENGINE_H */
