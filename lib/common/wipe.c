/*
 * cardlink — wiping secrets.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "cardlink/wipe.h"

/* see cardlink/wipe.h */
void cl_wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;

    while (n--)
        *v++ = 0;
}
