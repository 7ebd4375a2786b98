/*
 * cardlink — lib/server's session snapshot, format 2 (cl_server_save /
 * cl_server_restore, docs/server.md "Session store"): every step of the
 * authentication (READ, APPROVE, the wrong-PIN NOTICE, the failure
 * policy's GET CHALLENGE and BLOCK) and the gate's signed ACTUATE saved
 * mid-flow, restored into a fresh context, the device's answer fed: the
 * flow ends as it does without the restart. The gate saves itself to the
 * session store (its answer changes the ledger) and a restarted server
 * finishes it once; a restored gate resent on a fresh session is the same
 * ACTUATE, byte for byte. Each new field out of range is refused with the
 * context untouched; a version 1 snapshot still restores and finishes.
 *
 * It runs on test_server.c's rig, included with its main renamed (as
 * test_server_auth.c does). Blocking and the gate need the issuer and gate
 * keys: the OpenSSL backend (backend 1).
 * SPDX-License-Identifier: Apache-2.0
 */
int cl_test_server_rig_main(void);
#define main cl_test_server_rig_main
#include "test_server.c"
#undef main

#include "../../lib/server/server_int.h"

static uint8_t snap[CL_SERVER_SNAPSHOT_MAX];
static size_t snap_len;

/* With CL_SNAPSHOT_SEED_DIR set (fuzz/corpus/session_restore): write b as
 * the target's input named name (byte 0x10: a lib/server snapshot). */
static void seed_snapshot(const char *name, const uint8_t *b, size_t n)
{
    char path[256];
    FILE *f;

    if (getenv("CL_SNAPSHOT_SEED_DIR") == NULL)
        return;
    snprintf(path, sizeof(path), "%s/%s", getenv("CL_SNAPSHOT_SEED_DIR"), name);
    f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputc(0x10, f);
    ck_assert_uint_eq(fwrite(b, 1, n, f), n);
    fclose(f);
}

/* The server process dies now: its context is saved (buf[0..n), or the
 * current one when buf is NULL), a fresh context on the same config
 * restores it, the device comes back with its token and resumes. */
static void restart_from(const uint8_t *buf, size_t n)
{
    uint8_t flow = cl_server_flow(&srv), step = srv.step;

    if (buf == NULL) {
        ck_assert_int_eq(cl_server_save(&srv, snap, sizeof(snap), &snap_len), CL_OK);
        buf = snap;
        n = snap_len;
    }
    cl_server_free(&srv);
    cl_server_init(&srv);
    ck_assert_int_eq(cl_server_setup(&srv, &scfg), CL_OK);
    ck_assert_int_eq(cl_server_restore(&srv, buf, n), CL_OK);
    ck_assert_uint_eq(cl_server_flow(&srv), flow);
    ck_assert_uint_eq(srv.step, step);
    cl_relay_session_disconnect(&dev, now_ms);
    ck_assert_int_eq(cl_server_accept(&srv, now_ms), CL_OK);
    ck_assert_int_eq(cl_relay_device_connect(&dev, now_ms), CL_OK);
    ck_assert(pump());
    ck_assert_uint_eq(sev.kind, CL_SERVER_EV_OPEN);
    ck_assert(sev.resumed);
}

/* What a flow ended with, without the fields that differ run to run. */
struct outcome {
    uint8_t flow, outcome, tries, gate, account_len;
    int err;
    uint16_t sw;
    bool blocked;
    unsigned requests, displays;
    uint8_t blocked_card, pin_tries;
};

static struct outcome outcome_of(const struct cl_server_result *res)
{
    struct outcome o;

    memset(&o, 0, sizeof(o));
    o.flow = res->flow;
    o.outcome = res->outcome;
    o.tries = res->tries;
    o.gate = res->gate;
    o.account_len = res->account_len;
    o.err = res->err;
    o.sw = res->sw;
    o.blocked = res->blocked;
    o.requests = dev_requests;
    o.displays = dev_displays;
    o.blocked_card = ast.blocked;
    o.pin_tries = ast.pin_tries;
    return o;
}

static void outcome_eq(const struct outcome *a, const struct outcome *b)
{
    ck_assert_uint_eq(a->flow, b->flow);
    ck_assert_uint_eq(a->outcome, b->outcome);
    ck_assert_int_eq(a->err, b->err);
    ck_assert_uint_eq(a->sw, b->sw);
    ck_assert_uint_eq(a->tries, b->tries);
    ck_assert_uint_eq(a->blocked, b->blocked);
    ck_assert_uint_eq(a->gate, b->gate);
    ck_assert_uint_eq(a->account_len, b->account_len);
    ck_assert_uint_eq(a->requests, b->requests);   /* each request executed once */
    ck_assert_uint_eq(a->displays, b->displays);
    ck_assert_uint_eq(a->blocked_card, b->blocked_card);
    ck_assert_uint_eq(a->pin_tries, b->pin_tries);
}

/* ------------------------------------------------------------ authentication */

/* Two authentications: every PIN wrong with blocking after 3 (READ,
 * APPROVE, NOTICE, APPROVE, NOTICE, APPROVE, GET CHALLENGE, BLOCK), and
 * wrong then right (READ, APPROVE, NOTICE, APPROVE). */
static const struct {
    bool block;
    uint8_t step[9], tries[9];     /* at request k (1-based) */
    unsigned n;
} auth_cases[2] = {
    {true,
     {0, CL_SRV_ST_READ, CL_SRV_ST_APPROVE, CL_SRV_ST_NOTICE, CL_SRV_ST_APPROVE, CL_SRV_ST_NOTICE,
      CL_SRV_ST_APPROVE, CL_SRV_ST_BLOCK_CHAL, CL_SRV_ST_BLOCK},
     {0, 0, 1, 1, 2, 2, 3, 3, 3},
     8},
    {false,
     {0, CL_SRV_ST_READ, CL_SRV_ST_APPROVE, CL_SRV_ST_NOTICE, CL_SRV_ST_APPROVE},
     {0, 0, 1, 1, 2},
     4},
};

static void auth_start(unsigned which, int be)
{
    struct cl_relay_pin pin = cl_server_pin_cardlink();
    struct cl_txn t;

    start(be);
    if (auth_cases[which].block) {
        scfg.auth_block_after = 3;
        holder.pins[0] = holder.pins[1] = holder.pins[2] = holder.pins[3] = "1111";
    } else {
        holder.pins[0] = "1357";
        holder.pins[1] = holder.pins[2] = holder.pins[3] = "2468";
    }
    auth_txn(&t);
    ck_assert_int_eq(cl_server_authenticate(&srv, now_ms, &t, &pin), CL_OK);
}

/* Loop i: case i / 8, cut at request i % 8 + 1: the server dies waiting
 * in that step with the device's answer lost; the restored context gets
 * it replayed and ends as the run without the restart did. */
START_TEST(snap_auth_each_step)
{
    unsigned which = (unsigned)_i / 8u, k = (unsigned)_i % 8u + 1u;
    int be = auth_cases[which].block ? 1 : 0;
    struct outcome ref, got;

    if (k > auth_cases[which].n || (be == 1 && n_backends() < 2))
        return;
    auth_start(which, be);
    ref = outcome_of(run_flow());
    ck_assert_uint_eq(ref.requests, auth_cases[which].n);
    ck_assert_uint_eq(ref.blocked, auth_cases[which].block);
    ck_assert_uint_eq(ref.outcome,
                      auth_cases[which].block ? CL_LEDGER_FAILED : CL_LEDGER_APPROVED);
    stop();

    auth_start(which, be);
    cut_at = k;
    ck_assert(!pump());
    ck_assert_uint_eq(cl_server_flow(&srv), CL_SERVER_FLOW_AUTH);
    ck_assert_uint_eq(srv.step, auth_cases[which].step[k]);
    ck_assert_uint_eq(srv.tries, auth_cases[which].tries[k]);
    restart_from(NULL, 0);
    ck_assert_uint_eq(snap[4], 2);
    {
        static const char *const names[2][9] = {
            {NULL, NULL, "lib-server-v2-auth-approve", "lib-server-v2-auth-notice", NULL, NULL,
             NULL, "lib-server-v2-auth-block-chal", "lib-server-v2-auth-block"},
            {NULL, "lib-server-v2-auth-read", NULL, NULL, "lib-server-v2-auth-retry"}};
        if (names[which][k] != NULL)
            seed_snapshot(names[which][k], snap, snap_len);
    }
    got = outcome_of(run_flow());
    outcome_eq(&got, &ref);
    stop();
}
END_TEST

/* The PIN template survives a restart whole: an authentication with its
 * own entry time and message (45 s, message 2) cut after the first wrong
 * PIN; the APPROVE the restored server sends next carries the template it
 * was given, field for field. */
START_TEST(snap_auth_pin_template)
{
    struct cl_relay_pin pin = cl_server_pin_cardlink(), want;
    static uint8_t want_apdu[64];
    struct cl_txn t;
    const struct cl_server_result *res;

    start(0);
    holder.pins[0] = "1357";
    holder.pins[1] = holder.pins[2] = holder.pins[3] = "2468";
    pin.timeout = 45;
    pin.msg_index = 2;
    pin.min_len = 5;
    pin.max_len = 11;
    auth_txn(&t);
    ck_assert_int_eq(cl_server_authenticate(&srv, now_ms, &t, &pin), CL_OK);
    cut_at = 3;   /* the NOTICE after the wrong PIN */
    ck_assert(!pump());
    ck_assert_uint_eq(srv.step, CL_SRV_ST_NOTICE);
    want = last_pin;
    memcpy(want_apdu, last_pin_apdu, sizeof(want_apdu));
    ck_assert_uint_eq(want.timeout, 45);
    ck_assert_uint_eq(want.msg_index, 2);
    memset(&last_pin, 0, sizeof(last_pin));
    restart_from(NULL, 0);
    res = run_flow();
    ck_assert_uint_eq(res->outcome, CL_LEDGER_APPROVED);
    ck_assert_uint_eq(last_pin.encoding, want.encoding);
    ck_assert_uint_eq(last_pin.min_len, 5);
    ck_assert_uint_eq(last_pin.max_len, 11);
    ck_assert_uint_eq(last_pin.offset, want.offset);
    ck_assert_uint_eq(last_pin.len_offset, want.len_offset);
    ck_assert_uint_eq(last_pin.timeout, 45);
    ck_assert_uint_eq(last_pin.msg_index, 2);
    ck_assert_uint_eq(last_pin.new_offset, want.new_offset);
    ck_assert_uint_eq(last_pin.confirm, want.confirm);
    ck_assert_uint_eq(last_pin.apdu.len, want.apdu.len);
    ck_assert_mem_eq(last_pin_apdu, want_apdu, want.apdu.len);
    stop();
}
END_TEST

/* An authentication saves nothing to the store by itself (no ledger row
 * waits on it); in a session already persistent, each of its steps is
 * saved and restorable. */
START_TEST(snap_auth_store_rule)
{
    struct cl_txn t;
    struct cl_relay_pin pin = cl_server_pin_cardlink();

    start(0);
    with_store();
    holder.pins[0] = "1357";
    auth_txn(&t);
    ck_assert_int_eq(cl_server_authenticate(&srv, now_ms, &t, &pin), CL_OK);
    ck_assert_uint_eq(run_flow()->outcome, CL_LEDGER_APPROVED);
    ck_assert_uint_eq(mem_saves, 0);
    ck_assert(!srv.persist);
    /* a purchase makes the session persistent; the next authentication's
     * steps are then saved as they change, and the last one restores */
    purchase_txn(&t, 120);
    holder.pin_i = 0;
    holder.pins[0] = holder.pins[1] = "2468";
    ck_assert_int_eq(cl_server_purchase(&srv, now_ms, &t, NULL), CL_OK);
    ck_assert_uint_eq(run_flow()->outcome, CL_LEDGER_APPROVED);
    ck_assert(srv.persist);
    holder.pin_i = 0;
    holder.pins[0] = "1357";
    auth_txn(&t);
    ck_assert_int_eq(cl_server_authenticate(&srv, now_ms, &t, &pin), CL_OK);
    cut_at = dev_requests + 3;   /* the NOTICE's DISPLAY-DONE lost */
    ck_assert(!pump());
    ck_assert_uint_eq(srv.step, CL_SRV_ST_NOTICE);
    ck_assert(mem_used);
    server_restart();
    ck_assert(pump());
    ck_assert_uint_eq(sev.kind, CL_SERVER_EV_OPEN);
    ck_assert(sev.resumed);
    ck_assert_uint_eq(srv.restores, 1);
    ck_assert_uint_eq(srv.restore_failures, 0);
    ck_assert_uint_eq(cl_server_flow(&srv), CL_SERVER_FLOW_AUTH);
    ck_assert_uint_eq(run_flow()->outcome, CL_LEDGER_APPROVED);
    ck_assert_uint_eq(cl_server_result(&srv)->tries, 2);
    stop();
}
END_TEST

/* ------------------------------------------------------------ gate */

#ifdef CL_HAVE_OPENSSL
static void start_gate(void)
{
    uint8_t key[512];
    size_t n;
    struct cl_txn t;

    start(1);
    n = slurp("gate.key.der", key, sizeof(key));
    ck_assert_int_eq(cl_server_ossl_gate_key(&cossl, &cport, key, n), CL_OK);
    holder.gate = true;
    auth_txn(&t);
    ck_assert_int_eq(cl_server_authenticate(&srv, now_ms, &t, NULL), CL_OK);
    ck_assert_uint_eq(run_flow()->outcome, CL_LEDGER_APPROVED);
}

/* The gate's ACTUATE saves the session (the answer commits the gate row):
 * the server dies with the ACTUATE-RESULT lost (loop 0), or after the
 * save before the ACTUATE went out (1); the restarted server finishes the
 * flow once: the device acted once, the row APPROVED once. */
START_TEST(snap_gate_store)
{
    const struct cl_server_result *res;
    struct outcome ref, got;
    const uint8_t *p;

    start_gate();
    ck_assert_int_eq(cl_server_gate(&srv, now_ms, 3, 60), CL_OK);
    ref = outcome_of(run_flow());
    ck_assert_uint_eq(ref.outcome, CL_LEDGER_APPROVED);
    ck_assert_uint_eq(ref.gate, CL_RELAY_GATE_DONE);
    stop();

    start_gate();
    with_store();
    ck_assert_uint_eq(mem_saves, 0);   /* the authentication saved nothing */
    ck_assert_int_eq(cl_server_gate(&srv, now_ms, 3, 60), CL_OK);
    if (_i == 0) {
        cut_at = dev_requests + 1;
        ck_assert(!pump());
        ck_assert_uint_eq(dev_acted, 1);
    } else {
        ck_assert_uint_gt(cl_server_pull(&srv, now_ms, &p), 0);   /* never reaches the wire */
        ck_assert_uint_eq(dev_actuates, 0);
    }
    ck_assert(mem_used);
    ck_assert_uint_eq(mem_saves, 1);
    ck_assert_uint_eq(ledger_n, 1);
    ck_assert_uint_eq(ledger_rows[0].outcome, CL_LEDGER_PENDING);
    server_restart();
    ck_assert(pump());
    ck_assert_uint_eq(sev.kind, CL_SERVER_EV_OPEN);
    ck_assert(sev.resumed);
    ck_assert_uint_eq(srv.restores, 1);
    ck_assert_uint_eq(cl_server_flow(&srv), CL_SERVER_FLOW_GATE);
    res = run_flow();
    got = outcome_of(res);
    outcome_eq(&got, &ref);
    ck_assert_uint_eq(dev_actuates, 1);
    ck_assert_uint_eq(dev_acted, 1);
    ck_assert_uint_eq(ledger_n, 1);
    ck_assert_uint_eq(ledger_commits, 1);
    ck_assert_uint_eq(ledger_rows[0].outcome, CL_LEDGER_APPROVED);
    ck_assert_uint_eq(ledger_rows[0].kind, CL_SERVER_LEDGER_GATE);
    ck_assert_mem_eq(ledger_rows[0].id, res->txn_id, 16);
    ck_assert_int_eq(cl_server_close(&srv, now_ms, CL_RELAY_E_NONE), CL_OK);
    ck_assert(!mem_used);
    stop();
}
END_TEST

/* A restored gate whose device comes back with a fresh session and no
 * transaction log: the server sends the ACTUATE again, the same bytes
 * (id, action, device, nonce, window, signature); the device, which acted
 * on that nonce, answers REPLAYED: acted once. */
START_TEST(snap_gate_resend_identical)
{
    const struct cl_server_result *res;

    start_gate();
    ck_assert_int_eq(cl_server_gate(&srv, now_ms, 9, 120), CL_OK);
    cut_at = dev_requests + 1;
    ck_assert(!pump());
    ck_assert_uint_eq(dev_actuates, 1);
    ck_assert_int_eq(cl_server_save(&srv, snap, sizeof(snap), &snap_len), CL_OK);
    seed_snapshot("lib-server-v2-gate", snap, snap_len);
    cl_server_free(&srv);
    cl_server_init(&srv);
    ck_assert_int_eq(cl_server_setup(&srv, &scfg), CL_OK);
    ck_assert_int_eq(cl_server_restore(&srv, snap, snap_len), CL_OK);
    cl_relay_session_free(&dev);
    cl_relay_txn_table_init(&dtable, dslots, 8, &dlog);
    ck_assert_int_eq(cl_relay_session_setup(&dev, CL_RELAY_DEVICE, &dcfg, drx, sizeof(drx), drb,
                                            sizeof(drb)),
                     CL_OK);
    ck_assert_int_eq(cl_server_accept(&srv, now_ms), CL_OK);
    ck_assert_int_eq(cl_relay_device_connect(&dev, now_ms), CL_OK);
    ck_assert(pump());
    ck_assert_uint_eq(sev.kind, CL_SERVER_EV_OPEN);
    ck_assert(!sev.resumed);
    res = run_flow();
    ck_assert_uint_eq(dev_actuates, 2);
    ck_assert_uint_eq(dev_act_len[1], dev_act_len[0]);
    ck_assert_mem_eq(dev_act[1], dev_act[0], dev_act_len[0]);
    ck_assert_uint_eq(dev_acted, 1);
    ck_assert_uint_eq(res->flow, CL_SERVER_FLOW_GATE);
    ck_assert_uint_eq(res->gate, CL_RELAY_GATE_REPLAYED);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_DECLINED);
    ck_assert_uint_eq(ledger_commits, 1);
    stop();
}
END_TEST
#endif

/* ------------------------------------------------------------ bounds */

/* Offsets in a snapshot: the status word, the card command's length, the
 * gate part (0 when absent). */
struct offs {
    size_t sw, apdu_len, gate;
};

static size_t be16(const uint8_t *p)
{
    return (size_t)p[0] << 8 | p[1];
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static struct offs offsets(const uint8_t *b)
{
    struct offs o;
    size_t i = 11u + b[10];

    o.sw = i;
    i += 2 + 4 + 4 + 2 + 8 + 16;
    i += 1u + b[i];               /* account */
    i += 1u + b[i];               /* e-goods */
    if (b[9] & 0x01u)
        i += 9u + 1u + b[i + 9];  /* PIN template */
    i += 2u + be16(b + i);        /* leaf */
    i += 2u + be16(b + i);        /* issuer */
    o.apdu_len = i;
    i += 2u + be16(b + i);
    o.gate = (b[9] & 0x08u) ? i : 0;
    return o;
}

/* b refused MALFORMED; a fresh context stays as it was. */
static void refused(const uint8_t *b, size_t n, const char *what)
{
    static struct cl_server s2;

    cl_server_init(&s2);
    ck_assert_int_eq(cl_server_setup(&s2, &scfg), CL_OK);
    ck_assert_msg(cl_server_restore(&s2, b, n) == CL_ERR_MALFORMED, "%s", what);
    ck_assert_uint_eq(cl_server_flow(&s2), CL_SERVER_FLOW_NONE);
    ck_assert_uint_eq(cl_relay_session_state(cl_server_session(&s2)), CL_RELAY_ST_IDLE);
    ck_assert(!s2.gate.have);
    cl_server_free(&s2);
}

/* b restores, and saves again to the same bytes. */
static void accepted(const uint8_t *b, size_t n)
{
    static struct cl_server s2;
    static uint8_t again[CL_SERVER_SNAPSHOT_MAX];
    size_t m;

    cl_server_init(&s2);
    ck_assert_int_eq(cl_server_setup(&s2, &scfg), CL_OK);
    ck_assert_int_eq(cl_server_restore(&s2, b, n), CL_OK);
    ck_assert_int_eq(cl_server_save(&s2, again, sizeof(again), &m), CL_OK);
    ck_assert_uint_eq(m, n);
    ck_assert_mem_eq(again, b, n);
    cl_server_free(&s2);
}

#define MUT(expr, what)                                                        \
    do {                                                                       \
        memcpy(b, snap, snap_len);                                             \
        expr;                                                                  \
        refused(b, snap_len, what);                                            \
    } while (0)

/* The authentication's later steps and the gate: each new field out of
 * range refused, the context untouched. */
START_TEST(snap_fields_refused)
{
    static uint8_t b[CL_SERVER_SNAPSHOT_MAX];
    struct offs o;

    if (n_backends() < 2)
        return;
    /* NOTICE: sw 63C1..63CF, tries 1..254, the step the flow's */
    auth_start(0, 1);
    cut_at = 3;
    ck_assert(!pump());
    ck_assert_int_eq(cl_server_save(&srv, snap, sizeof(snap), &snap_len), CL_OK);
    ck_assert_uint_eq(snap[6], CL_SRV_ST_NOTICE);
    accepted(snap, snap_len);
    o = offsets(snap);
    ck_assert_uint_eq(be16(snap + o.sw), 0x63C2);
    MUT(b[o.sw + 1] = 0xC0, "NOTICE with 63C0");
    MUT(b[o.sw] = 0x69; b[o.sw + 1] = 0x83, "NOTICE with 6983");
    MUT(b[o.sw] = 0x90; b[o.sw + 1] = 0x00, "NOTICE with 9000");
    MUT(b[7] = 0, "NOTICE with no try");
    MUT(b[7] = 255, "NOTICE with 255 tries");
    MUT(b[6] = CL_SRV_ST_CARDCMD, "authentication at CARDCMD");
    MUT(b[6] = CL_SRV_ST_GATE, "authentication at GATE");
    MUT(b[6] = 9, "no such step");
    MUT(b[8] = CL_CERT_ROLE_CARD_SIGN, "authentication with the signing role");
    MUT(b[9] |= 0x10, "unknown flag");
    memcpy(b, snap, snap_len);
    b[7] = 254;
    accepted(b, snap_len);
    stop();

    /* BLOCK: the 80 1E command with Lc 8..72, a blocking sw, the purse read */
    auth_start(0, 1);
    cut_at = 8;
    ck_assert(!pump());
    ck_assert_int_eq(cl_server_save(&srv, snap, sizeof(snap), &snap_len), CL_OK);
    ck_assert_uint_eq(snap[6], CL_SRV_ST_BLOCK);
    accepted(snap, snap_len);
    o = offsets(snap);
    ck_assert_uint_eq(be16(snap + o.sw), 0x63C0);
    ck_assert_uint_eq(snap[o.apdu_len + 2], 0x80);
    ck_assert_uint_eq(snap[o.apdu_len + 3], 0x1E);
    MUT(b[o.apdu_len + 3] = 0x52, "BLOCK that is a CREDIT");
    MUT(b[o.apdu_len + 4] = 1, "BLOCK with P1");
    MUT(b[o.apdu_len + 6]++, "BLOCK with a wrong Lc");
    MUT(b[o.sw] = 0x90; b[o.sw + 1] = 0x00, "BLOCK after 9000");
    MUT(b[9] &= (uint8_t)~0x04u, "BLOCK without the purse read");
    MUT(b[7] = 0, "BLOCK with no try");
    /* BLOCK_CHAL: a blocking sw */
    MUT(b[6] = CL_SRV_ST_BLOCK_CHAL; b[o.sw] = 0x63; b[o.sw + 1] = 0x00, "GET CHALLENGE after 6300");
    memcpy(b, snap, snap_len);
    b[6] = CL_SRV_ST_BLOCK_CHAL;
    b[o.sw] = 0x69;
    b[o.sw + 1] = 0x83;
    accepted(b, snap_len);
    stop();

#ifdef CL_HAVE_OPENSSL
    /* GATE: the flag, action 1..65535, the window, the signature's length */
    start_gate();
    ck_assert_int_eq(cl_server_gate(&srv, now_ms, 5, 3600), CL_OK);
    cut_at = dev_requests + 1;
    ck_assert(!pump());
    ck_assert_int_eq(cl_server_save(&srv, snap, sizeof(snap), &snap_len), CL_OK);
    ck_assert_uint_eq(snap[5], CL_SERVER_FLOW_GATE);
    ck_assert_uint_eq(snap[6], CL_SRV_ST_GATE);
    accepted(snap, snap_len);
    o = offsets(snap);
    ck_assert_uint_ne(o.gate, 0);
    ck_assert_uint_eq(be16(snap + o.gate), 5);
    ck_assert_uint_eq(snap[o.gate + 26], srv.gate.sig_len);
    ck_assert_mem_eq(snap + o.gate + 10, srv.gate.nonce, 16);
    MUT(b[9] &= (uint8_t)~0x08u, "gate flow without its authorisation");
    MUT(b[o.gate] = 0; b[o.gate + 1] = 0, "action 0");
    MUT(memcpy(b + o.gate + 6, b + o.gate + 2, 4), "empty window");
    ck_assert_uint_eq(rd32(snap + o.gate + 6) - rd32(snap + o.gate + 2), 3630);
    MUT(wr32(b + o.gate + 6, rd32(b + o.gate + 2) + 3631u), "window 3631 s");
    MUT(wr32(b + o.gate + 2, rd32(b + o.gate + 6) + 1u), "window ending before it starts");
    MUT(b[o.gate + 26] = 7, "signature of 7 bytes");
    MUT(b[o.gate + 26] = 73, "signature of 73 bytes");
    MUT(b[o.gate + 26]--, "signature one byte short");
    MUT(b[4] = 1, "gate in format 1");
    MUT(b[7] = 1, "gate with a try");
    MUT(b[6] = CL_SRV_ST_NOTICE, "gate at step 5");
    memcpy(b, snap, snap_len);
    b[10] = 0;
    memmove(b + 11, snap + 11 + snap[10], snap_len - 11 - snap[10]);
    refused(b, snap_len - snap[10], "gate without a device id");
    memcpy(b, snap, snap_len);
    wr32(b + o.gate + 6, rd32(b + o.gate + 2) + 1u);   /* window 1 s */
    accepted(b, snap_len);
    stop();

    /* an authorisation held after the flow (cl_server_gate_again): saved
     * with flow none; not in format 1 */
    start_gate();
    ck_assert_int_eq(cl_server_gate(&srv, now_ms, 5, 60), CL_OK);
    (void)run_flow();
    ck_assert_int_eq(cl_server_save(&srv, snap, sizeof(snap), &snap_len), CL_OK);
    ck_assert_uint_eq(snap[5], CL_SERVER_FLOW_NONE);
    ck_assert_uint_eq(snap[9] & 0x08u, 0x08u);
    accepted(snap, snap_len);
    seed_snapshot("lib-server-v2-gate-held", snap, snap_len);
    MUT(b[4] = 1, "an authorisation in format 1");
    stop();
#endif
}
END_TEST

/* Format 1: a purchase waiting for its TXN-RESULT, saved as format 1 (the
 * same layout: no gate part), restores, saves again as format 2, and a
 * server restarted from it finishes the purchase once. */
START_TEST(snap_v1_restores)
{
    static uint8_t b[CL_SERVER_SNAPSHOT_MAX], again[CL_SERVER_SNAPSHOT_MAX];
    static struct cl_server s2;
    const struct cl_server_result *res;
    struct cl_txn t;
    size_t m;

    start(0);
    purchase_txn(&t, 640);
    cut_at = 2;
    ck_assert_int_eq(cl_server_purchase(&srv, now_ms, &t, NULL), CL_OK);
    ck_assert(!pump());
    ck_assert_int_eq(cl_server_save(&srv, snap, sizeof(snap), &snap_len), CL_OK);
    ck_assert_uint_eq(snap[4], 2);
    ck_assert_uint_eq(snap[9] & 0x08u, 0);
    memcpy(b, snap, snap_len);
    b[4] = 1;
    cl_server_init(&s2);
    ck_assert_int_eq(cl_server_setup(&s2, &scfg), CL_OK);
    ck_assert_int_eq(cl_server_restore(&s2, b, snap_len), CL_OK);
    ck_assert_int_eq(cl_server_save(&s2, again, sizeof(again), &m), CL_OK);
    ck_assert_uint_eq(m, snap_len);
    ck_assert_mem_eq(again, snap, snap_len);   /* format 2, otherwise the same */
    cl_server_free(&s2);
    MUT(b[4] = 1; b[9] |= 0x08u, "flag 3 in format 1");
    MUT(b[4] = 0, "format 0");
    memcpy(b, snap, snap_len);
    b[4] = 1;
    restart_from(b, snap_len);
    res = run_flow();
    ck_assert_uint_eq(res->outcome, CL_LEDGER_APPROVED);
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_uint_eq(dev_requests, 2);
    ck_assert_uint_eq(ledger_commits, 1);
    ck_assert_int_eq(ledger_find(t.id)->amount, -640);
    stop();
}
END_TEST

static Suite *snapshot_suite(void)
{
    Suite *s = suite_create("server-snapshot");
    TCase *tc = tcase_create("snapshot");

    tcase_add_unchecked_fixture(tc, pki_setup, pki_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, snap_auth_each_step, 0, 16);
    tcase_add_test(tc, snap_auth_store_rule);
    tcase_add_test(tc, snap_auth_pin_template);
#ifdef CL_HAVE_OPENSSL
    tcase_add_loop_test(tc, snap_gate_store, 0, 2);
    tcase_add_test(tc, snap_gate_resend_identical);
#endif
    tcase_add_test(tc, snap_fields_refused);
    tcase_add_test(tc, snap_v1_restores);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(snapshot_suite());
}
