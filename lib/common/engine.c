/*
 * cardlink — the engine shape's shared names.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "cardlink/engine.h"

/* see cardlink/engine.h */
const char *cl_want_name(int want)
{
    static const char *const names[] = {"idle", "send", "recv", "done", "ctrl", "closed",
                                        "failed"};
    return want >= 0 && (size_t)want < CL_ARRAY_LEN(names) ? names[want] : "?";
}
