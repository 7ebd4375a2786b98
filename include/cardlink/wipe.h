/*
 * cardlink — wiping secrets.
 * SPDX-License-Identifier: Apache-2.0
 *
 * PIN digits, PIN blocks, keys and the contexts that held them are wiped
 * with cl_wipe() as soon as they are no longer needed. A plain memset() of a
 * buffer that is never read again may be removed by the compiler; the
 * volatile stores here may not.
 */
#ifndef CARDLINK_WIPE_H
#define CARDLINK_WIPE_H

#include "cardlink/defs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Set n bytes at p to zero in a way the compiler cannot drop. p may be NULL
 * when n is 0. */
void cl_wipe(void *p, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_WIPE_H */
