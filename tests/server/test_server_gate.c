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
    uint8_t acct[CL_LEDGER_ACCOUNT_MAX], id1[16];
    size_t alen, rows;

    start_gate();
    res = auth_ok();
    memcpy(acct, res->account, sizeof(acct));
    alen = res->account_len;
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
#endif
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(gate_suite());
}
