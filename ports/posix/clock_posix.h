/*
 * cardlink — POSIX clock: the wall-clock time certificates are checked
 * against (cl_cert_verify_chain's `now`), and a monotonic millisecond
 * time base for engine timers.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CARDLINK_POSIX_CLOCK_H
#define CARDLINK_POSIX_CLOCK_H

#include "cardlink/defs.h"

/* Seconds since 1970-01-01T00:00:00Z (CLOCK_REALTIME); 0 if the clock
 * cannot be read (which every certificate check then refuses as not yet
 * valid). */
uint64_t cl_posix_time_now(void);

/* Milliseconds of CLOCK_MONOTONIC, wrapping at 2^32 (the engines' time
 * base: compare with unsigned subtraction). */
uint32_t cl_posix_ms_now(void);

#endif /* CARDLINK_POSIX_CLOCK_H */
