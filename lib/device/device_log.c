/*
 * cardlink — lib/device: the transaction log of §9 kept in the store.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Two parts behind one struct cl_relay_txn_log (a struct
 * cl_relay_txn_table): the last CL_DEV_TXN_SLOTS answers, and the longer
 * list of the last CL_DEV_TXN_IDS ids executed or in progress. A retry
 * of an id whose answer was evicted looks up as known with no answer: the
 * session answers ERROR DUPLICATE and the card is not touched.
 *
 * Each part is one store record, replaced whole (a power cut leaves the
 * old record or the new one):
 *
 *   CL_STORE_KEY_TXN_IDS  count(2, BE) count x id(16), oldest first; the
 *                         bytes are d->txn_ids as they are in RAM. Written
 *                         when an id enters the list: as it is marked in
 *                         progress, before the request reaches a job.
 *   CL_STORE_KEY_TXN_LOG  count(1) count x { id(16) len(2, BE) answer },
 *                         oldest first. Written when an answer is recorded.
 *
 * A device whose store has a log but no id list (written before the list
 * existed) starts the list with the log's ids.
 */
#include <string.h>

#include "cardlink/error.h"
#include "device_int.h"

typedef char cl_devlog_fits[(2u + CL_DEV_TXN_IDS * CL_RELAY_TXN_ID_LEN <= CL_STORE_RECORD_MAX &&
                             1u + CL_DEV_TXN_SLOTS * (18u + CL_RELAY_TXN_ANSWER_MAX) <=
                                 sizeof(((struct cl_dev *)0)->scratch) &&
                             CL_DEV_TXN_SLOTS <= 0xFFu && CL_DEV_TXN_IDS > 0)
                                ? 1
                                : -1];

/* The list's storage: after the count. */
#define IDS(d) ((uint8_t(*)[CL_RELAY_TXN_ID_LEN])(void *)((d)->txn_ids + 2))

static int save_ids(struct cl_dev *d)
{
    size_t n = d->table.ids_used;

    if (d->cfg.store == NULL)
        return CL_OK;
    d->txn_ids[0] = (uint8_t)(n >> 8);
    d->txn_ids[1] = (uint8_t)n;
    return d->cfg.store->write(d->cfg.store_ctx, CL_STORE_KEY_TXN_IDS, d->txn_ids,
                               2 + n * CL_RELAY_TXN_ID_LEN);
}

static int save_answers(struct cl_dev *d)
{
    size_t k, n = 1;
    uint8_t *b = d->scratch;

    if (d->cfg.store == NULL)
        return CL_OK;
    b[0] = 0;
    for (k = 0; k < CL_DEV_TXN_SLOTS; k++) {   /* oldest first: from next */
        const struct cl_relay_txn_slot *s = &d->slots[(d->table.next + k) % CL_DEV_TXN_SLOTS];
        if (!s->used)
            continue;
        memcpy(b + n, s->id, CL_RELAY_TXN_ID_LEN);
        b[n + 16] = (uint8_t)(s->len >> 8);
        b[n + 17] = (uint8_t)s->len;
        memcpy(b + n + 18, s->answer, s->len);
        n += 18u + s->len;
        b[0]++;
    }
    return d->cfg.store->write(d->cfg.store_ctx, CL_STORE_KEY_TXN_LOG, b, n);
}

static int load_answers(struct cl_dev *d)
{
    int r;
    size_t i, n = 1, len;
    uint8_t *b = d->scratch;

    r = d->cfg.store->read(d->cfg.store_ctx, CL_STORE_KEY_TXN_LOG, b, sizeof(d->scratch));
    if (r == CL_ERR_NOT_FOUND)
        return CL_OK;
    if (r < 0)
        return r;
    len = (size_t)r;
    if (len < 1 || b[0] > CL_DEV_TXN_SLOTS)
        return CL_ERR_MALFORMED;
    for (i = 0; i < b[0]; i++) {
        struct cl_relay_txn_slot *s = &d->slots[i];
        size_t alen;
        if (len - n < 18)
            return CL_ERR_MALFORMED;
        alen = ((size_t)b[n + 16] << 8) | b[n + 17];
        if (alen > CL_RELAY_TXN_ANSWER_MAX || len - n - 18 < alen)
            return CL_ERR_MALFORMED;
        memcpy(s->id, b + n, CL_RELAY_TXN_ID_LEN);
        s->len = (uint16_t)alen;
        memcpy(s->answer, b + n + 18, alen);
        s->used = true;
        n += 18 + alen;
    }
    if (n != len)
        return CL_ERR_MALFORMED;
    d->table.next = b[0] % CL_DEV_TXN_SLOTS;
    return CL_OK;
}

static int load_ids(struct cl_dev *d)
{
    int r = d->cfg.store->read(d->cfg.store_ctx, CL_STORE_KEY_TXN_IDS, d->txn_ids,
                               sizeof(d->txn_ids));
    size_t n;

    if (r == CL_ERR_NOT_FOUND)
        return CL_OK;
    if (r < 0)
        return r;
    if (r < 2)
        return CL_ERR_MALFORMED;
    n = ((size_t)d->txn_ids[0] << 8) | d->txn_ids[1];
    if (n > CL_DEV_TXN_IDS || (size_t)r != 2 + n * CL_RELAY_TXN_ID_LEN)
        return CL_ERR_MALFORMED;
    d->table.ids_used = n;
    return CL_OK;
}

/* see device_int.h */
int cl_devlog_load(struct cl_dev *d)
{
    int r;
    size_t i;

    if (d->cfg.store == NULL)
        return CL_OK;
    r = load_answers(d);
    if (r == CL_OK)
        r = load_ids(d);
    if (r != CL_OK)
        return r;
    for (i = 0; i < CL_DEV_TXN_SLOTS; i++)   /* no list yet: the log's ids */
        if (d->slots[i].used)
            (void)cl_relay_txn_table_id_add(&d->table, d->slots[i].id);
    return CL_OK;
}

static int log_lookup(void *ctx, const uint8_t id[CL_RELAY_TXN_ID_LEN], const uint8_t **answer,
                      size_t *len)
{
    struct cl_dev *d = ctx;
    return d->tlog.lookup(d->tlog.ctx, id, answer, len);
}

/* The id list first, durably, then the answer: an id is in progress in
 * the store before the request reaches a job. A list that could not be
 * written fails the record (the request is not executed); the id stays
 * in the list in RAM, so a retry is refused rather than executed. */
static int log_record(void *ctx, const uint8_t id[CL_RELAY_TXN_ID_LEN], const uint8_t *answer,
                      size_t len)
{
    struct cl_dev *d = ctx;
    int r = CL_OK;

    if (cl_relay_txn_table_id_add(&d->table, id))
        r = save_ids(d);
    if (r == CL_OK)
        r = d->tlog.record(d->tlog.ctx, id, answer, len);
    if (r == CL_OK && answer != NULL && len > 0)
        r = save_answers(d);
    return r;
}

/* see device_int.h */
void cl_devlog_init(struct cl_dev *d)
{
    cl_relay_txn_table_init(&d->table, d->slots, CL_DEV_TXN_SLOTS, &d->tlog);
    cl_relay_txn_table_ids(&d->table, IDS(d), CL_DEV_TXN_IDS);
    d->log.lookup = log_lookup;
    d->log.record = log_record;
    d->log.ctx = d;
    d->cfg.relay.txn_log = &d->log;
}
