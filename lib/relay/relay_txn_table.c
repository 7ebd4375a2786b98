/*
 * cardlink — relay sessions: the in-memory transaction log of §9 (a ring
 * of caller slots behind struct cl_relay_txn_log, and an optional longer
 * list of bare ids that remembers what the slots no longer hold).
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

/* id's entry in the id list, or NULL. */
static const uint8_t *ids_find(const struct cl_relay_txn_table *t,
                               const uint8_t id[CL_RELAY_TXN_ID_LEN])
{
    size_t i;

    for (i = 0; i < t->ids_used; i++)
        if (memcmp(t->ids[i], id, CL_RELAY_TXN_ID_LEN) == 0)
            return t->ids[i];
    return NULL;
}

/* A slot's answer; else an id the list knows, with no answer (the
 * session answers it ERROR DUPLICATE and does not execute it). */
static int table_lookup(void *ctx, const uint8_t id[CL_RELAY_TXN_ID_LEN], const uint8_t **answer,
                        size_t *len)
{
    struct cl_relay_txn_table *t = ctx;
    struct cl_relay_txn_slot *sl = table_find(t, id);

    if (sl != NULL) {
        *answer = sl->answer;
        *len = sl->len;
        return CL_OK;
    }
    if ((*answer = ids_find(t, id)) != NULL) {
        *len = 0;
        return CL_OK;
    }
    return CL_ERR_NOT_FOUND;
}

/* see cardlink/relay_session.h */
bool cl_relay_txn_table_id_add(struct cl_relay_txn_table *t,
                               const uint8_t id[CL_RELAY_TXN_ID_LEN])
{
    if (t == NULL || id == NULL || t->nids == 0 || ids_find(t, id) != NULL)
        return false;
    if (t->ids_used == t->nids) {   /* the oldest leaves */
        memmove(t->ids[0], t->ids[1], (t->nids - 1) * sizeof(t->ids[0]));
        t->ids_used--;
    }
    memcpy(t->ids[t->ids_used++], id, CL_RELAY_TXN_ID_LEN);
    return true;
}

static int table_record(void *ctx, const uint8_t id[CL_RELAY_TXN_ID_LEN], const uint8_t *answer,
                        size_t len)
{
    struct cl_relay_txn_table *t = ctx;
    struct cl_relay_txn_slot *sl;

    if (t->nids > 0 && (answer == NULL || len == 0)) {
        /* with an id list, in progress is a list entry: no slot taken */
        sl = table_find(t, id);
        if (sl != NULL)
            sl->len = 0;
        (void)cl_relay_txn_table_id_add(t, id);
        return CL_OK;
    }
    (void)cl_relay_txn_table_id_add(t, id);
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
    t->ids = NULL;
    t->nids = t->ids_used = 0;
    if (t->n > 0)
        memset(slots, 0, n * sizeof(*slots));
    if (log != NULL) {
        log->lookup = table_lookup;
        log->record = table_record;
        log->ctx = t;
    }
}

/* see cardlink/relay_session.h */
void cl_relay_txn_table_ids(struct cl_relay_txn_table *t, uint8_t (*ids)[CL_RELAY_TXN_ID_LEN],
                            size_t n)
{
    if (t == NULL)
        return;
    t->ids = ids;
    t->nids = ids != NULL ? n : 0;
    t->ids_used = 0;
    if (t->nids > 0)
        memset(ids, 0, n * sizeof(*ids));
}
