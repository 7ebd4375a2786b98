/*
 * cardlink — relay sessions: the in-memory transaction log of §9 (a ring
 * of caller slots behind struct cl_relay_txn_log).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/relay_session.h"

/* The slot holding id, or NULL. */
static struct cl_relay_txn_slot *table_find(struct cl_relay_txn_table *t,
                                            const uint8_t id[CL_RELAY_TXN_ID_LEN])
{
    size_t i;

    for (i = 0; i < t->n; i++)
        if (t->slots[i].used && memcmp(t->slots[i].id, id, CL_RELAY_TXN_ID_LEN) == 0)
            return &t->slots[i];
    return NULL;
}

static int table_lookup(void *ctx, const uint8_t id[CL_RELAY_TXN_ID_LEN], const uint8_t **answer,
                        size_t *len)
{
    struct cl_relay_txn_slot *sl = table_find(ctx, id);

    if (sl == NULL)
        return CL_ERR_NOT_FOUND;
    *answer = sl->answer;
    *len = sl->len;
    return CL_OK;
}

static int table_record(void *ctx, const uint8_t id[CL_RELAY_TXN_ID_LEN], const uint8_t *answer,
                        size_t len)
{
    struct cl_relay_txn_table *t = ctx;
    struct cl_relay_txn_slot *sl;

    if (t->n == 0)
        return CL_OK;
    sl = table_find(t, id);
    if (sl == NULL) {
        sl = &t->slots[t->next];
        if (++t->next >= t->n)
            t->next = 0;
        memcpy(sl->id, id, CL_RELAY_TXN_ID_LEN);
        sl->used = true;
    }
    sl->len = 0;
    if (answer != NULL && len > 0) {
        if (len <= sizeof(sl->answer)) {
            memcpy(sl->answer, answer, len);
            sl->len = (uint16_t)len;
        }
        t->records++;
    }
    return CL_OK;
}

/* see cardlink/relay_session.h */
void cl_relay_txn_table_init(struct cl_relay_txn_table *t, struct cl_relay_txn_slot *slots,
                             size_t n, struct cl_relay_txn_log *log)
{
    t->slots = slots;
    t->n = slots != NULL ? n : 0;
    t->next = 0;
    t->records = 0;
    if (t->n > 0)
        memset(slots, 0, n * sizeof(*slots));
    if (log != NULL) {
        log->lookup = table_lookup;
        log->record = table_record;
        log->ctx = t;
    }
}
