/*
 * cardlink — the in-memory transaction log of docs/protocol.md §9
 * (lib/relay/relay_txn_table.c) through its struct cl_relay_txn_log, the
 * way a session uses it: the ring of answer slots, the list of bare ids
 * behind it, the in-progress mark, and what each keeps when the other
 * forgets. This is the store that stops a retried money-moving request
 * from executing twice.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/relay_session.h"
#include "test_util.h"

static uint8_t ID[8][CL_RELAY_TXN_ID_LEN];

static void ids_init(void)
{
    size_t i;

    for (i = 0; i < 8; i++)
        memset(ID[i], (int)(0x10 + i), CL_RELAY_TXN_ID_LEN);
}

/* lookup(id): CL_ERR_NOT_FOUND, or CL_OK with the answer's bytes (hex;
 * "" for known with no answer held). */
static void expect(const struct cl_relay_txn_log *log, int i, const char *hex)
{
    const uint8_t *a = NULL;
    size_t len = 99;
    int rc = log->lookup(log->ctx, ID[i], &a, &len);

    if (hex == NULL) {
        ck_assert_msg(rc == CL_ERR_NOT_FOUND, "id %d: got %d, want NOT_FOUND", i, rc);
        return;
    }
    ck_assert_msg(rc == CL_OK, "id %d: got %d, want OK", i, rc);
    ck_assert_ptr_nonnull(a);
    cl_assert_bytes(a, len, hex);
}

static void record(const struct cl_relay_txn_log *log, int i, const char *hex)
{
    uint8_t b[256];
    int n = hex != NULL ? cl_test_hex(hex, b, sizeof(b)) : 0;

    ck_assert_int_ge(n, 0);
    ck_assert_int_eq(log->record(log->ctx, ID[i], hex != NULL ? b : NULL, (size_t)n), CL_OK);
}

/* Slots only: a ring, the oldest replaced; a known id keeps its slot; an
 * answer of one byte is an answer; an answer too long keeps only the id;
 * in progress hides the answer it had. Set up over memory that held
 * anything. */
START_TEST(test_slots)
{
    struct cl_relay_txn_slot slots[2];
    struct cl_relay_txn_table t;
    struct cl_relay_txn_log log;
    char longer[3 * (CL_RELAY_TXN_ANSWER_MAX + 1) + 1];
    size_t i;

    ids_init();
    memset(slots, 0xFF, sizeof(slots));
    memcpy(slots[0].id, ID[0], CL_RELAY_TXN_ID_LEN);
    memset(&t, 0xFF, sizeof(t));
    cl_relay_txn_table_init(&t, slots, 1, &log);
    expect(&log, 0, NULL);                      /* no stale slot */
    cl_relay_txn_table_init(&t, slots, 2, &log);
    ck_assert_ptr_null(t.ids);
    ck_assert_uint_eq(t.nids, 0);
    ck_assert_uint_eq(t.ids_used, 0);
    expect(&log, 0, NULL);

    record(&log, 0, "AA");
    expect(&log, 0, "AA");
    record(&log, 1, "B1 B2");
    record(&log, 0, "A2");                      /* its own slot again */
    expect(&log, 1, "B1 B2");
    record(&log, 2, "C1");                      /* the oldest slot (0) goes */
    expect(&log, 0, NULL);
    expect(&log, 1, "B1 B2");
    expect(&log, 2, "C1");
    ck_assert_uint_eq(t.records, 4);
    record(&log, 1, NULL);                      /* in progress: no answer held */
    expect(&log, 1, "");
    ck_assert_uint_eq(t.records, 4);
    for (i = 0; i <= CL_RELAY_TXN_ANSWER_MAX; i++)
        memcpy(longer + 3 * i, "EE ", 3);
    longer[3 * (CL_RELAY_TXN_ANSWER_MAX + 1)] = '\0';
    record(&log, 2, longer);                    /* too long: the id only */
    expect(&log, 2, "");
    ck_assert_uint_eq(t.records, 5);
}
END_TEST

/* With an id list: in progress only enters the list (no slot taken, the
 * answers in the slots stay); an id whose slot was reused is still known;
 * the oldest id leaves a full list and the others keep their order; an id
 * already listed stays where it is. */
START_TEST(test_id_list)
{
    struct cl_relay_txn_slot slots[1];
    struct cl_relay_txn_table t;
    struct cl_relay_txn_log log;
    uint8_t ids[3][CL_RELAY_TXN_ID_LEN];
    static const uint8_t empty[1] = { 0 };

    ids_init();
    cl_relay_txn_table_init(&t, slots, 1, &log);
    memset(ids, 0xFF, sizeof(ids));
    cl_relay_txn_table_ids(&t, ids, 3);
    ck_assert_uint_eq(t.nids, 3);
    ck_assert_uint_eq(t.ids_used, 0);

    record(&log, 0, "A0");
    expect(&log, 0, "A0");
    record(&log, 1, NULL);                      /* in progress: list only */
    ck_assert_int_eq(log.record(log.ctx, ID[2], empty, 0), CL_OK);   /* the same, len 0 */
    expect(&log, 0, "A0");                      /* its slot kept */
    expect(&log, 1, "");
    expect(&log, 2, "");
    ck_assert_uint_eq(t.ids_used, 3);
    cl_assert_bytes(ids[0], CL_RELAY_TXN_ID_LEN, "10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10");
    cl_assert_bytes(ids[2], CL_RELAY_TXN_ID_LEN, "12 12 12 12 12 12 12 12 12 12 12 12 12 12 12 12");

    record(&log, 1, "B1");                      /* the slot passes to id 1 */
    expect(&log, 1, "B1");
    expect(&log, 0, "");                        /* still known, answer gone */
    ck_assert_uint_eq(t.ids_used, 3);           /* id 1 was listed already */
    record(&log, 1, NULL);                      /* in progress again: hidden */
    expect(&log, 1, "");

    record(&log, 3, NULL);                      /* full list: id 0 leaves */
    expect(&log, 0, NULL);
    expect(&log, 1, "");
    expect(&log, 2, "");
    expect(&log, 3, "");
    ck_assert_uint_eq(t.ids_used, 3);
    cl_assert_bytes(ids[0], CL_RELAY_TXN_ID_LEN, "11 11 11 11 11 11 11 11 11 11 11 11 11 11 11 11");
    cl_assert_bytes(ids[1], CL_RELAY_TXN_ID_LEN, "12 12 12 12 12 12 12 12 12 12 12 12 12 12 12 12");
    cl_assert_bytes(ids[2], CL_RELAY_TXN_ID_LEN, "13 13 13 13 13 13 13 13 13 13 13 13 13 13 13 13");
    record(&log, 4, "E4");                      /* an answer enters the list too */
    expect(&log, 1, NULL);
    expect(&log, 4, "E4");
    cl_assert_bytes(ids[2], CL_RELAY_TXN_ID_LEN, "14 14 14 14 14 14 14 14 14 14 14 14 14 14 14 14");

    /* id_add: false for a listed id, NULLs, no list */
    ck_assert(!cl_relay_txn_table_id_add(&t, ID[4]));
    ck_assert(cl_relay_txn_table_id_add(&t, ID[5]));
    ck_assert(!cl_relay_txn_table_id_add(NULL, ID[6]));
    ck_assert(!cl_relay_txn_table_id_add(&t, NULL));
    /* a list given again is empty; NULL or 0 is none */
    cl_relay_txn_table_ids(&t, ids, 3);
    ck_assert_uint_eq(t.ids_used, 0);
    expect(&log, 5, NULL);
    cl_relay_txn_table_ids(&t, NULL, 3);
    ck_assert_uint_eq(t.nids, 0);
    ck_assert(!cl_relay_txn_table_id_add(&t, ID[6]));
    cl_relay_txn_table_ids(NULL, ids, 3);
}
END_TEST

/* A table with no slots and no list records nothing and finds nothing;
 * with a list of one, the list alone remembers the last id; beside one
 * slot, in progress still takes no slot. */
START_TEST(test_empty)
{
    struct cl_relay_txn_slot slot[1];
    struct cl_relay_txn_table t;
    struct cl_relay_txn_log log;
    uint8_t ids[1][CL_RELAY_TXN_ID_LEN];

    ids_init();
    cl_relay_txn_table_init(&t, NULL, 4, &log);
    ck_assert_uint_eq(t.n, 0);
    record(&log, 0, "AA");
    expect(&log, 0, NULL);
    ck_assert_uint_eq(t.records, 0);
    cl_relay_txn_table_ids(&t, ids, 1);
    record(&log, 0, "AA");
    record(&log, 1, NULL);
    expect(&log, 0, NULL);
    expect(&log, 1, "");
    /* a list of one beside one slot: in progress still takes no slot */
    cl_relay_txn_table_init(&t, slot, 1, &log);
    cl_relay_txn_table_ids(&t, ids, 1);
    record(&log, 0, "AA");
    record(&log, 1, NULL);
    expect(&log, 0, "AA");
    expect(&log, 1, "");
    cl_relay_txn_table_init(&t, NULL, 0, NULL);     /* no log to point */
}
END_TEST

static Suite *txn_table_suite(void)
{
    Suite *s = suite_create("relay_txn_table");
    TCase *tc = tcase_create("log");

    tcase_add_test(tc, test_slots);
    tcase_add_test(tc, test_id_list);
    tcase_add_test(tc, test_empty);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(txn_table_suite());
}
