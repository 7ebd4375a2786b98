/*
 * cardlink — lib/policy internals shared by policy.c and policy_text.c.
 * Not installed; not API.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CARDLINK_POLICY_INT_H
#define CARDLINK_POLICY_INT_H

#include "cardlink/policy.h"

/* Set *reason (when not NULL) and return CL_ERR_DENIED. */
int cl_policy_i_deny(uint8_t *reason, uint8_t why);

/* Set *reason (when not NULL) to CL_POLICY_ALLOWED. */
void cl_policy_i_allow(uint8_t *reason);

/*
 * The display form (lib/txn's: Latin-1 letters transliterated, e-acute ->
 * e, sharp s -> ss) of the UTF-8 text in s[0..cap) up to its NUL, into
 * out[0..size): at most size - 1 characters, NUL-terminated (size >= 1).
 * Bytes that are not ASCII or a Latin-1 letter read as '?'. Returns the
 * length written.
 */
size_t cl_policy_i_display(const char *s, size_t cap, char *out, size_t size);

#endif
