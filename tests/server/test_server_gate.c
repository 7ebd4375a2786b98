/*
 * cardlink — lib/server's gate flow (cl_server_gate, docs/server.md
 * "6. Gate"): when it refuses to start, what it signs (checked here with
 * the gate public key cardlink-pki wrote), what goes to the ledger, and
 * the outcome when the device has no gate (the rig's scripted device
 * answers ACTUATE with ERROR UNSUPPORTED; the device's own checks are
 * tests/device/test_gate.c's, the whole loop the e2e test's).
 *
 * It runs on test_server.c's rig, included with its main renamed (as
 * test_server_auth.c does). The gate key is loaded into the OpenSSL
 * backend; lib/cert's has none.
 * SPDX-License-Identifier: Apache-2.0
 */
int cl_test_server_rig_main(void);
#define main cl_test_server_rig_main
#include "test_server.c"
#undef main

static const struct cl_server_result *auth_ok(void)
{
    const struct cl_server_result *res;
    struct cl_txn t;

    auth_txn(&t);
    ck_assert_int_eq(cl_server_authenticate(&srv, now_ms, &t, NULL), CL_OK);
    res = run_flow();
    ck_assert_uint_eq(res->flow, CL_SERVER_FLOW_AUTH);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_APPROVED);
    return res;
}

/* Without a gate key (lib/cert backend): UNSUPPORTED, nothing sent. */
START_TEST(gate_no_key)
{
    unsigned req;

    start(0);
    auth_ok();
    req = dev_requests;
    ck_assert_int_eq(cl_server_gate(&srv, now_ms, 1, 60), CL_ERR_UNSUPPORTED);
    ck_assert_uint_eq(dev_requests, req);
    ck_assert_uint_eq(cl_server_flow(&srv), CL_SERVER_FLOW_NONE);
    stop();
}
END_TEST

#ifdef CL_HAVE_OPENSSL
static uint8_t gate_pub[65];

static void start_gate(void)
{
    uint8_t key[512];
    size_t n;

    start(1);
    n = slurp("gate.key.der", key, sizeof(key));
    ck_assert_int_eq(cl_server_ossl_gate_key(&cossl, &cport, key, n), CL_OK);
    ck_assert_ptr_nonnull(cport.gate_sign);
    ck_assert_uint_eq(slurp("gate.pub", gate_pub, sizeof(gate_pub) + 1), 65);
}

/* The authorisation the server holds verifies with gate.pub over the
 * §5.14 digest of this device, action and window. */
static void check_signed(uint16_t action, uint32_t validity)
{
    struct cl_relay_actuate a;
    uint8_t tbs[CL_RELAY_GATE_TBS_MAX], dig[32];
    size_t n;

    ck_assert(srv.gate.have);
    ck_assert_uint_eq(srv.gate.action, action);
    /* the window: 30 s back for the device's clock, validity ahead, from
     * the server's clock when it signed (a second may have passed since) */
    ck_assert_uint_eq(srv.gate.not_after - srv.gate.not_before, validity + 30u);
    ck_assert_uint_le(srv.gate.not_before + 30u, (uint32_t)t_clock(NULL));
    ck_assert_uint_ge(srv.gate.not_before + 30u + 5u, (uint32_t)t_clock(NULL));
    memset(&a, 0, sizeof(a));
    a.action = action;
    a.device_id.data = (const uint8_t *)"dev-1";
    a.device_id.len = 5;
    a.nonce = srv.gate.nonce;
    a.not_before = srv.gate.not_before;
    a.not_after = srv.gate.not_after;
    n = cl_relay_gate_tbs(&a, tbs);
    ck_assert_uint_eq(n, 4 + 1 + 5 + 2 + 16 + 8);
    ck_assert_int_eq(cl_sha256(tbs, n, dig), CL_OK);
    ck_assert_int_eq(cl_posix_crypto_verify(NULL, gate_pub, dig, 32, srv.gate.sig,
                                            srv.gate.sig_len), CL_OK);
    a.action = (uint16_t)(action + 1);   /* and for nothing else */
    n = cl_relay_gate_tbs(&a, tbs);
    ck_assert_int_eq(cl_sha256(tbs, n, dig), CL_OK);
    ck_assert_int_ne(cl_posix_crypto_verify(NULL, gate_pub, dig, 32, srv.gate.sig,
                                            srv.gate.sig_len), CL_OK);
}

/* Refusals before anything is sent. */
START_TEST(gate_refusals)
{
    struct cl_txn t;
    unsigned req;

    start_gate();
    req = dev_requests;
    /* nothing before: no authentication */
    ck_assert_int_eq(cl_server_gate(&srv, now_ms, 1, 60), CL_ERR_STATE);
    ck_assert_int_eq(cl_server_gate_again(&srv, now_ms), CL_ERR_STATE);
    /* a purchase is not an authentication */
    purchase_txn(&t, 250);
    ck_assert_int_eq(cl_server_purchase(&srv, now_ms, &t, NULL), CL_OK);
    (void)run_flow();
    req = dev_requests;
    ck_assert_int_eq(cl_server_gate(&srv, now_ms, 1, 60), CL_ERR_STATE);
    auth_ok();
    ck_assert_int_eq(cl_server_gate(&srv, now_ms, 0, 60), CL_ERR_ARG);
    ck_assert_int_eq(cl_server_gate(&srv, now_ms, 1, 0), CL_ERR_ARG);
    ck_assert_int_eq(cl_server_gate(&srv, now_ms, 1, 3601), CL_ERR_ARG);
    ck_assert_int_eq(cl_server_gate(NULL, now_ms, 1, 60), CL_ERR_ARG);
    ck_assert_uint_eq(dev_requests, req + 2);   /* the authentication's two */
    stop();
}
END_TEST

/* After an authentication: signed, recorded, sent; a device without a
 * gate answers UNSUPPORTED; the authentication is used up. */
START_TEST(gate_signed_recorded)
{
    const struct cl_server_result *res;
    const struct cl_ledger_txn *row;
    uint8_t acct[CL_LEDGER_ACCOUNT_MAX], id1[16], serial[CL_SERVER_SERIAL_LEN];
    size_t alen, rows;

    start_gate();
    res = auth_ok();
    memcpy(acct, res->account, sizeof(acct));
    memcpy(serial, res->serial, sizeof(serial));
    alen = res->account_len;
    ck_assert_uint_gt(alen, 0);
    rows = ledger_n;
    ck_assert_int_eq(cl_server_gate(&srv, now_ms, 7, 120), CL_OK);
    ck_assert_uint_eq(cl_server_flow(&srv), CL_SERVER_FLOW_GATE);
    check_signed(7, 120);
    res = run_flow();
    ck_assert_uint_eq(res->flow, CL_SERVER_FLOW_GATE);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_int_eq(res->err, CL_ERR_UNSUPPORTED);
    ck_assert_uint_eq(res->gate, CL_RELAY_NONE);
    ck_assert_uint_eq(res->account_len, alen);
    ck_assert_mem_eq(res->account, acct, alen);
    ck_assert_mem_eq(res->serial, serial, sizeof(serial));   /* the card authenticated */
    /* one ledger row: gate kind, no money, the card's account, the receipt */
    ck_assert_uint_eq(ledger_n, rows + 1);
    row = ledger_find(res->txn_id);
    ck_assert_ptr_nonnull(row);
    ck_assert_uint_eq(row->kind, CL_SERVER_LEDGER_GATE);
    ck_assert_uint_eq(row->currency, 999);
    ck_assert_int_eq(row->amount, 0);
    ck_assert_uint_eq(row->device_id_len, 5);
    ck_assert_mem_eq(row->device_id, "dev-1", 5);
    ck_assert_uint_eq(row->account_len, alen);
    ck_assert_mem_eq(row->account, acct, alen);
    ck_assert_uint_eq(row->outcome, CL_LEDGER_FAILED);
    ck_assert_uint_eq(row->receipt_len, 1u + 16u + 8u + srv.gate.sig_len);
    ck_assert_uint_eq(row->receipt[0], CL_RELAY_NONE);
    ck_assert_mem_eq(row->receipt + 1, srv.gate.nonce, 16);
    ck_assert_mem_eq(row->receipt + 25, srv.gate.sig, srv.gate.sig_len);
    memcpy(id1, res->txn_id, 16);
    /* one authentication, one action */
    ck_assert_int_eq(cl_server_gate(&srv, now_ms, 7, 120), CL_ERR_STATE);
    /* the same signed bytes again, under a new id */
    ck_assert_int_eq(cl_server_gate_again(&srv, now_ms), CL_OK);
    check_signed(7, 120);
    res = run_flow();
    ck_assert_uint_eq(res->flow, CL_SERVER_FLOW_GATE);
    ck_assert(memcmp(res->txn_id, id1, 16) != 0);
    ck_assert_uint_eq(ledger_n, rows + 2);
    stop();
}
END_TEST

/* The ledger row's receipt, byte for byte: the device's code, the nonce,
 * not-before and not-after big-endian, the signature. */
static void check_receipt(const struct cl_ledger_txn *row, uint8_t code)
{
    uint8_t want[1 + 16 + 8 + CL_RELAY_GATE_SIG_MAX];
    size_t n = 0;

    want[n++] = code;
    memcpy(want + n, srv.gate.nonce, 16);
    n += 16;
    want[n++] = (uint8_t)(srv.gate.not_before >> 24);
    want[n++] = (uint8_t)(srv.gate.not_before >> 16);
    want[n++] = (uint8_t)(srv.gate.not_before >> 8);
    want[n++] = (uint8_t)srv.gate.not_before;
    want[n++] = (uint8_t)(srv.gate.not_after >> 24);
    want[n++] = (uint8_t)(srv.gate.not_after >> 16);
    want[n++] = (uint8_t)(srv.gate.not_after >> 8);
    want[n++] = (uint8_t)srv.gate.not_after;
    memcpy(want + n, srv.gate.sig, srv.gate.sig_len);
    n += srv.gate.sig_len;
    ck_assert_uint_eq(row->receipt_len, n);
    ck_assert_mem_eq(row->receipt, want, n);
}

/* What the device's answer makes of the flow: DONE approves; a refusal of
 * the authorisation declines (DENIED); an actuator that failed or a gate
 * unavailable fails (IO); an ERROR fails with its code; an answer for
 * another transaction fails (PROTOCOL). The result's gate code and the
 * ledger row say what the device did; no card status word is reported. */
static const struct {
    uint8_t result;     /* holder.gate_result (result + 1; 0: DONE) */
    uint8_t error;      /* holder.gate_error */
    bool other_id;
    uint8_t outcome;
    int err;
    uint8_t gate;
} outcomes[] = {
    { 0, 0, false, CL_LEDGER_APPROVED, CL_OK, CL_RELAY_GATE_DONE },
    { 1 + CL_RELAY_GATE_EXPIRED, 0, false, CL_LEDGER_DECLINED, CL_ERR_DENIED, CL_RELAY_GATE_EXPIRED },
    { 1 + CL_RELAY_GATE_BAD_SIGNATURE, 0, false, CL_LEDGER_DECLINED, CL_ERR_DENIED,
      CL_RELAY_GATE_BAD_SIGNATURE },
    { 1 + CL_RELAY_GATE_DENIED, 0, false, CL_LEDGER_DECLINED, CL_ERR_DENIED, CL_RELAY_GATE_DENIED },
    { 1 + CL_RELAY_GATE_ACTUATOR_FAILED, 0, false, CL_LEDGER_FAILED, CL_ERR_IO,
      CL_RELAY_GATE_ACTUATOR_FAILED },
    { 1 + CL_RELAY_GATE_UNAVAILABLE, 0, false, CL_LEDGER_FAILED, CL_ERR_IO,
      CL_RELAY_GATE_UNAVAILABLE },
    { 0, CL_RELAY_E_NO_CARD, false, CL_LEDGER_FAILED, CL_ERR_CARD_REMOVED, CL_RELAY_NONE },
    { 0, CL_RELAY_E_DENIED, false, CL_LEDGER_FAILED, CL_ERR_DENIED, CL_RELAY_NONE },
    { 0, 0, true, CL_LEDGER_FAILED, CL_ERR_PROTOCOL, CL_RELAY_NONE },
};

START_TEST(gate_outcomes)
{
    const struct cl_server_result *res;
    const struct cl_ledger_txn *row;

    start_gate();
    holder.gate = true;
    holder.gate_result = outcomes[_i].result;
    holder.gate_error = outcomes[_i].error;
    holder.gate_other_id = outcomes[_i].other_id;
    (void)auth_ok();
    clock_fixed = 1700000000u;
    ck_assert_int_eq(cl_server_gate(&srv, now_ms, 3, 90), CL_OK);
    ck_assert_uint_eq(srv.gate.not_before, 1700000000u - 30u);
    ck_assert_uint_eq(srv.gate.not_after, 1700000000u + 90u);
    clock_fixed = 1700000002u;
    res = run_flow();
    clock_fixed = 0;
    ck_assert_uint_eq(dev_actuates, 1);
    ck_assert_uint_eq(res->flow, CL_SERVER_FLOW_GATE);
    ck_assert_uint_eq(res->outcome, outcomes[_i].outcome);
    ck_assert_int_eq(res->err, outcomes[_i].err);
    ck_assert_uint_eq(res->gate, outcomes[_i].gate);
    ck_assert_uint_eq(res->sw, 0);
    row = ledger_find(res->txn_id);
    ck_assert_ptr_nonnull(row);
    ck_assert_uint_eq(row->outcome, outcomes[_i].outcome);
    ck_assert_uint_eq(row->created, 1700000000u);
    ck_assert_uint_eq(row->decided, 1700000002u);
    check_receipt(row, outcomes[_i].gate);
    stop();
}
END_TEST

/* The ACTUATE the device receives carries the window and nonce the server
 * signed; the window at the clock's edges: not-before never below 0,
 * not-after saturated at FFFFFFFF, a clock past 2106 read as FFFFFFFF. */
static const struct {
    uint64_t clock;
    uint32_t validity;
    uint32_t not_before, not_after;
} windows[] = {
    { 29u, 60u, 0u, 89u },
    { 30u, 60u, 0u, 90u },
    { 31u, 60u, 1u, 91u },
    { 0xFFFFFFFFu - 60u, 60u, 0xFFFFFFFFu - 90u, 0xFFFFFFFFu },
    { 0xFFFFFFFFu - 59u, 60u, 0xFFFFFFFFu - 89u, 0xFFFFFFFFu },
    { 0x100000000ull, 3600u, 0xFFFFFFFFu - 30u, 0xFFFFFFFFu },
};

START_TEST(gate_window_edges)
{
    struct cl_relay_msg m;

    start_gate();
    holder.gate = true;
    auth_ok();
    clock_fixed = windows[_i].clock;
    ck_assert_int_eq(cl_server_gate(&srv, now_ms, 1, windows[_i].validity), CL_OK);
    ck_assert_uint_eq(srv.gate.not_before, windows[_i].not_before);
    ck_assert_uint_eq(srv.gate.not_after, windows[_i].not_after);
    (void)run_flow();
    clock_fixed = 0;
    ck_assert_uint_eq(dev_actuates, 1);
    ck_assert_int_eq(cl_relay_decode(dev_act[0], dev_act_len[0], &m), CL_OK);
    ck_assert_uint_eq(m.type, CL_RELAY_ACTUATE);
    ck_assert_uint_eq(m.u.actuate.action, 1);
    ck_assert_uint_eq(m.u.actuate.not_before, windows[_i].not_before);
    ck_assert_uint_eq(m.u.actuate.not_after, windows[_i].not_after);
    ck_assert_mem_eq(m.u.actuate.nonce, srv.gate.nonce, 16);
    ck_assert_uint_eq(m.u.actuate.signature.len, srv.gate.sig_len);
    ck_assert_mem_eq(m.u.actuate.signature.data, srv.gate.sig, srv.gate.sig_len);
    ck_assert_uint_eq(m.u.actuate.device_id.len, 5);
    ck_assert_mem_eq(m.u.actuate.device_id.data, "dev-1", 5);
    stop();
}
END_TEST

/* Every authorisation draws its own nonce (one that repeated would be
 * refused as REPLAYED by a device that acted on the first). */
START_TEST(gate_fresh_nonce)
{
    uint8_t first[16];
    const struct cl_server_result *res;

    start_gate();
    holder.gate = true;
    auth_ok();
    ck_assert_int_eq(cl_server_gate(&srv, now_ms, 1, 60), CL_OK);
    memcpy(first, srv.gate.nonce, 16);
    res = run_flow();
    ck_assert_uint_eq(res->gate, CL_RELAY_GATE_DONE);
    auth_ok();
    ck_assert_int_eq(cl_server_gate(&srv, now_ms, 1, 60), CL_OK);
    ck_assert(memcmp(first, srv.gate.nonce, 16) != 0);
    res = run_flow();
    ck_assert_uint_eq(res->gate, CL_RELAY_GATE_DONE);
    ck_assert_uint_eq(dev_acted, 2);
    stop();
}
END_TEST

/* A signer that answers a signature of the wrong size: CL_ERR_CRYPTO,
 * nothing sent, and no earlier authorisation left to send again. 8 and
 * 72 bytes are the bounds a signature may have. */
static int (*real_sign)(void *ctx, const uint8_t dig[32], uint8_t *sig, size_t size, size_t *len);
static size_t sign_len;   /* the length the wrapped signer claims (0: its own) */

static int sized_sign(void *ctx, const uint8_t dig[32], uint8_t *sig, size_t size, size_t *len)
{
    int r = real_sign(ctx, dig, sig, size, len);
    if (r == CL_OK && sign_len != 0)
        *len = sign_len;
    return r;
}

static const struct {
    size_t len;
    int rc;
} sig_lens[] = {
    { 7, CL_ERR_CRYPTO },
    { 8, CL_OK },
    { CL_RELAY_GATE_SIG_MAX, CL_OK },
    { CL_RELAY_GATE_SIG_MAX + 1, CL_ERR_CRYPTO },
};

START_TEST(gate_signature_sizes)
{
    unsigned req;

    start_gate();
    holder.gate = true;
    auth_ok();
    ck_assert_int_eq(cl_server_gate(&srv, now_ms, 1, 60), CL_OK);
    (void)run_flow();
    auth_ok();
    real_sign = cport.gate_sign;
    cport.gate_sign = sized_sign;
    sign_len = sig_lens[_i].len;
    req = dev_requests;
    ck_assert_int_eq(cl_server_gate(&srv, now_ms, 2, 60), sig_lens[_i].rc);
    cport.gate_sign = real_sign;
    if (sig_lens[_i].rc != CL_OK) {
        ck_assert_uint_eq(dev_requests, req);
        ck_assert_uint_eq(cl_server_flow(&srv), CL_SERVER_FLOW_NONE);
        ck_assert_int_eq(cl_server_gate_again(&srv, now_ms), CL_ERR_STATE);
    } else {
        ck_assert_uint_eq(srv.gate.sig_len, sig_lens[_i].len);
        (void)run_flow();
        ck_assert_uint_eq(dev_requests, req + 1);
    }
    stop();
}
END_TEST

/* The ledger cannot record the outcome: the flow fails with the ledger's
 * error, and the result still says what the device did. */
START_TEST(gate_commit_fails)
{
    const struct cl_server_result *res;

    start_gate();
    holder.gate = true;
    auth_ok();
    ck_assert_int_eq(cl_server_gate(&srv, now_ms, 1, 60), CL_OK);
    commit_fail = CL_ERR_IO;
    res = run_flow();
    commit_fail = 0;
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_int_eq(res->err, CL_ERR_IO);
    ck_assert_uint_eq(res->gate, CL_RELAY_GATE_DONE);
    ck_assert_uint_eq(dev_acted, 1);
    stop();
}
END_TEST
#endif

static Suite *gate_suite(void)
{
    Suite *s = suite_create("server-gate");
    TCase *tc = tcase_create("gate");

    tcase_add_unchecked_fixture(tc, pki_setup, pki_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, gate_no_key);
#ifdef CL_HAVE_OPENSSL
    tcase_add_test(tc, gate_refusals);
    tcase_add_test(tc, gate_signed_recorded);
    tcase_add_loop_test(tc, gate_outcomes, 0, (int)(sizeof(outcomes) / sizeof(outcomes[0])));
    tcase_add_loop_test(tc, gate_window_edges, 0, (int)(sizeof(windows) / sizeof(windows[0])));
    tcase_add_test(tc, gate_fresh_nonce);
    tcase_add_loop_test(tc, gate_signature_sizes, 0, (int)(sizeof(sig_lens) / sizeof(sig_lens[0])));
    tcase_add_test(tc, gate_commit_fails);
#endif
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(gate_suite());
}
