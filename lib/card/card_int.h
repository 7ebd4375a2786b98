/*
 * cardlink — what card_engine.c and card_io.c share (internal).
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CARDLINK_CARD_INT_H
#define CARDLINK_CARD_INT_H

#include "cardlink/card.h"

#if defined(__GNUC__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE
#endif

/* Microseconds of etu at the line's current rate, at most CL_TIMER_MAX:
 * a long wait never reads as "no limit" (issue 11 §4). The one conversion
 * of the session (the engine's timers, the driver's echo wait). */
uint32_t cl_cardi_etu_us(const struct cl_card *card, uint32_t etu);

#endif /* CARDLINK_CARD_INT_H */
