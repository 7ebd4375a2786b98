/*
 * cardlink — fault injection on a card line byte stream.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "cardlink/fault.h"
#include "cardlink/error.h"
#include "cardlink/wipe.h"

#include <string.h>

#define RATE_MAX 10000u
#define SEED_ZERO 0x2545F491u

/* see cardlink/fault.h */
uint32_t cl_fault_rand(uint32_t *state)
{
    uint32_t x = *state;
    if (x == 0)
        x = SEED_ZERO;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

/* A uniform-enough value in 0..9999 without division: the high 16 bits
 * scaled by 10,000 (16 x 14 bits fit in 32). */
static uint32_t roll(uint32_t *state)
{
    return ((cl_fault_rand(state) >> 16) * RATE_MAX) >> 16;
}

/* see cardlink/fault.h */
void cl_fault_init(struct cl_fault *f)
{
    if (f == NULL)
        return;
    memset(f, 0, sizeof(*f));
    f->state = SEED_ZERO;
}

/* see cardlink/fault.h */
void cl_fault_free(struct cl_fault *f)
{
    if (f != NULL)
        cl_wipe(f, sizeof(*f));
}

/* see cardlink/fault.h */
int cl_fault_setup(struct cl_fault *f, const struct cl_fault_config *cfg)
{
    if (f == NULL)
        return CL_ERR_ARG;
    memset(f, 0, sizeof(*f));
    if (cfg == NULL || cfg->corrupt > RATE_MAX || cfg->drop > RATE_MAX ||
        cfg->insert > RATE_MAX || cfg->parity > RATE_MAX)
        return CL_ERR_ARG;
    f->cfg = *cfg;
    f->state = cfg->seed != 0 ? cfg->seed : SEED_ZERO;
    return CL_OK;
}

/* see cardlink/fault.h */
void cl_fault_rearm(struct cl_fault *f)
{
    if (f == NULL)
        return;
    f->count = 0;
    f->pulled = false;
}

/* see cardlink/fault.h */
bool cl_fault_pulled(const struct cl_fault *f)
{
    return f != NULL && f->pulled;
}

/* see cardlink/fault.h */
const struct cl_fault_stats *cl_fault_stats(const struct cl_fault *f)
{
    return f == NULL ? NULL : &f->stats;
}

/* see cardlink/fault.h */
int cl_fault_apply(struct cl_fault *f, const uint8_t *in, size_t len,
                   struct cl_fault_item *out, size_t out_size,
                   size_t *out_len)
{
    size_t i, n = 0;

    if (out == NULL || out_len == NULL || (in == NULL && len > 0))
        return CL_ERR_ARG;
    if (out_size < len || (f != NULL && (out_size - len <= len)))
        return CL_ERR_BUFFER;
    for (i = 0; i < len; i++) {
        uint8_t b = in[i];
        if (f == NULL) {
            out[n].kind = CL_FAULT_BYTE;
            out[n++].byte = b;
            continue;
        }
        f->stats.bytes++;
        f->count++;
        if (f->pulled ||
            (f->cfg.mute_after != 0 && f->count > f->cfg.mute_after)) {
            f->stats.muted++;
            continue;
        }
        if (f->cfg.pull_after != 0 && f->count > f->cfg.pull_after) {
            f->pulled = true;
            f->stats.pulls++;
            f->stats.muted++;
            out[n].kind = CL_FAULT_REMOVED;
            out[n++].byte = 0;
            continue;
        }
        if (f->cfg.drop != 0 && roll(&f->state) < f->cfg.drop) {
            f->stats.dropped++;
        } else {
            uint8_t kind = CL_FAULT_BYTE;
            if (f->cfg.corrupt != 0 && roll(&f->state) < f->cfg.corrupt) {
                uint8_t x = (uint8_t)(cl_fault_rand(&f->state) >> 24);
                b ^= (uint8_t)(x != 0 ? x : 0x01);
                f->stats.corrupted++;
            } else if (f->cfg.parity != 0 &&
                       roll(&f->state) < f->cfg.parity) {
                kind = CL_FAULT_PARITY;
                f->stats.parity++;
            }
            out[n].kind = kind;
            out[n++].byte = b;
        }
        if (f->cfg.insert != 0 && roll(&f->state) < f->cfg.insert) {
            out[n].kind = CL_FAULT_BYTE;
            out[n++].byte = (uint8_t)(cl_fault_rand(&f->state) >> 24);
            f->stats.inserted++;
        }
    }
    *out_len = n;
    return CL_OK;
}
