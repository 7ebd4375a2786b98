/*
 * cardlink — lib/server's authentication flow and its failure policy
 * (docs/server.md, "3. Authentication"): the tries left shown to the
 * holder before each retry, the holder's cancel ending the flow DECLINED
 * without a retry, and the card blocked with the issuer-signed BLOCK
 * (docs/applet.md) when its PIN is exhausted or after cfg.auth_block_after
 * wrong PINs, only with the issuer key and blocking enabled.
 *
 * It runs on test_server.c's rig (the scripted device with lib/policy and
 * the cardlink applet in-process, both crypto backends), included here
 * with its own main renamed, so the rig is not copied and test_server.c's
 * own suite stays where it is. Blocking needs the issuer key: the OpenSSL
 * backend (backend 1) holds it, lib/cert's (backend 0) does not.
 * SPDX-License-Identifier: Apache-2.0
 */
int cl_test_server_rig_main(void);
#define main cl_test_server_rig_main
#include "test_server.c"
#undef main

static void holder_types(const char *a, const char *b, const char *c, const char *d)
{
    holder.pin_i = 0;
    holder.pins[0] = a;
    holder.pins[1] = b;
    holder.pins[2] = c;
    holder.pins[3] = d;
}

static const struct cl_server_result *authenticate(void)
{
    static const uint8_t tpl[13] = {0x00, 0x20, 0x00, 0x80, 0x08, 0x24, 0xFF,
                                    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    struct cl_relay_pin pin = cl_server_pin_cardlink();
    struct cl_txn t;

    /* the library's template, byte for byte */
    ck_assert_uint_eq(pin.apdu.len, sizeof(tpl));
    ck_assert_mem_eq(pin.apdu.data, tpl, sizeof(tpl));
    ck_assert_uint_eq(pin.encoding, CL_RELAY_PIN_ISO9564_2);
    ck_assert_uint_eq(pin.min_len, 4);
    ck_assert_uint_eq(pin.max_len, 12);
    ck_assert_uint_eq(pin.offset, 0);
    auth_txn(&t);
    ck_assert_int_eq(cl_server_authenticate(&srv, now_ms, &t, &pin), CL_OK);
    return run_flow();
}

/* Wrong, wrong, right: two retries, each after the tries left were shown
 * (the device's DISPLAY), under fresh ids; approved on the third. */
START_TEST(auth_tries_shown)
{
    const struct cl_server_result *res;

    start(_i);
    holder_types("1357", "2468", NULL, NULL);
    res = authenticate();
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_uint_eq(res->tries, 2);
    ck_assert_uint_eq(dev_displays, 1);
    ck_assert_str_eq(dev_display, "Wrong PIN\n2 tries left\n");

    holder_types("1111", "1112", "2468", NULL);
    res = authenticate();
    ck_assert_uint_eq(res->outcome, CL_LEDGER_APPROVED);
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_uint_eq(res->tries, 3);
    ck_assert(!res->blocked);
    ck_assert_uint_eq(dev_displays, 3);
    ck_assert_str_eq(dev_display, "Wrong PIN\n1 try left\n");
    ck_assert_uint_eq(ast.pin_tries, 3);   /* the right PIN restored it */
    ck_assert_uint_eq(policy_refusals, 0);
    stop();
}
END_TEST

/* Each attempt under a fresh transaction id and challenge; a device that
 * cannot display the tries left (ERROR UNSUPPORTED) is asked again all
 * the same. */
START_TEST(auth_retry_fresh)
{
    const struct cl_server_result *res;

    start(_i);
    holder.no_display = true;
    holder_types("1357", "1357", "2468", NULL);
    res = authenticate();
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_uint_eq(res->tries, 3);
    ck_assert_uint_eq(dev_displays, 0);
    ck_assert_uint_eq(n_chals, 3);
    ck_assert_mem_ne(chals[0], chals[1], CL_SERVER_CHALLENGE_LEN);
    ck_assert_mem_ne(chals[1], chals[2], CL_SERVER_CHALLENGE_LEN);
    ck_assert_mem_ne(chals[0], chals[2], CL_SERVER_CHALLENGE_LEN);
    ck_assert_mem_ne(chal_ids[0], chal_ids[1], 16);
    ck_assert_mem_ne(chal_ids[1], chal_ids[2], 16);
    ck_assert_mem_eq(res->txn_id, chal_ids[2], 16);
    stop();
}
END_TEST

/* A card that allows more than 9 tries: the count shown in full. */
START_TEST(auth_tries_two_digits)
{
    const struct cl_server_result *res;

    start(_i);
    ast.pin_max = 12;
    ast.pin_tries = 12;
    holder_types("1357", "2468", NULL, NULL);
    res = authenticate();
    ck_assert_uint_eq(res->outcome, CL_LEDGER_APPROVED);
    ck_assert_uint_eq(dev_displays, 1);
    ck_assert_str_eq(dev_display, "Wrong PIN\n11 tries left\n");
    stop();
    start(_i);   /* 10, the first count of two digits */
    ast.pin_max = 11;
    ast.pin_tries = 11;
    holder_types("1357", "2468", NULL, NULL);
    res = authenticate();
    ck_assert_uint_eq(res->outcome, CL_LEDGER_APPROVED);
    ck_assert_str_eq(dev_display, "Wrong PIN\n10 tries left\n");
    stop();
}
END_TEST

/* A card with 5 tries and a holder who never gets it right: the server
 * stops after its own limit (cfg.auth_tries 0: 3 attempts), the card
 * still has 2. */
START_TEST(auth_default_limit)
{
    const struct cl_server_result *res;

    start(_i);
    ast.pin_max = 5;
    ast.pin_tries = 5;
    holder_types("1111", "1111", "1111", "1111");
    res = authenticate();
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_int_eq(res->err, CL_ERR_SW);
    ck_assert_uint_eq(res->tries, 3);
    ck_assert_uint_eq(res->sw, 0x63C2);
    ck_assert_uint_eq(ast.pin_tries, 2);
    stop();
}
END_TEST

/* The holder cancels: DECLINED at once, no retry, nothing shown, no block
 * even with the failure policy on. */
START_TEST(auth_declined_not_retried)
{
    const struct cl_server_result *res;
    unsigned reqs;

    start(_i);
    scfg.auth_block_after = 1;
    holder.decline = true;
    reqs = dev_requests;
    res = authenticate();
    ck_assert_uint_eq(res->outcome, CL_LEDGER_DECLINED);
    ck_assert_int_eq(res->err, CL_ERR_CANCELLED);
    ck_assert_uint_eq(res->tries, 1);
    ck_assert(!res->blocked);
    ck_assert_uint_eq(dev_requests - reqs, 2);   /* the READ script, TXN-APPROVE */
    ck_assert_uint_eq(dev_displays, 0);
    ck_assert_uint_eq(ast.blocked, 0);
    stop();
}
END_TEST

#ifdef CL_HAVE_OPENSSL
/* Every PIN wrong with blocking on (block after 3, the default 3 tries):
 * the third wrong PIN exhausts the card (63C0), the server sends GET
 * CHALLENGE and the issuer-signed BLOCK, the flow ends FAILED with the
 * PIN's status word and result.blocked; the card is blocked for good: a
 * purchase then fails with 6985 at the PIN, a later authentication too
 * (and does not try to block again: 6985 is no PIN failure). */
/* The issuer's signer fails (an HSM down): no BLOCK is sent, the flow
 * still ends FAILED with the PIN's status word, the card not blocked. */
static int sign_fails(void *ctx, const uint8_t *digest, uint8_t *sig, size_t size, size_t *len)
{
    (void)ctx;
    (void)digest;
    (void)sig;
    (void)size;
    *len = 0;
    return CL_ERR_CRYPTO;
}

START_TEST(auth_block_signer_fails)
{
    static struct cl_server_crypto failing;
    const struct cl_server_result *res;
    unsigned reqs;

    start(1);
    failing = *scfg.crypto;
    failing.issuer_sign = sign_fails;
    scfg.crypto = &failing;
    scfg.auth_block_after = 3;
    holder_types("1111", "1111", "1111", "1111");
    reqs = dev_requests;
    res = authenticate();
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_int_eq(res->err, CL_ERR_SW);
    ck_assert_uint_eq(res->sw, 0x63C0);
    ck_assert(!res->blocked);
    /* READ, 3 x TXN-APPROVE, 2 x DISPLAY, GET CHALLENGE: no BLOCK */
    ck_assert_uint_eq(dev_requests - reqs, 7);
    ck_assert_uint_eq(ast.blocked, 0);
    stop();
}
END_TEST

START_TEST(auth_blocks_exhausted_card)
{
    const struct cl_server_result *res;
    struct cl_txn t;
    unsigned reqs;

    start(1);
    scfg.auth_block_after = 3;
    holder_types("1111", "1111", "1111", "1111");
    reqs = dev_requests;
    res = authenticate();
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_int_eq(res->err, CL_ERR_SW);
    ck_assert_uint_eq(res->sw, 0x63C0);
    ck_assert_uint_eq(res->tries, 3);
    ck_assert(res->blocked);
    /* READ, 3 x TXN-APPROVE, 2 x DISPLAY, GET CHALLENGE, BLOCK */
    ck_assert_uint_eq(dev_requests - reqs, 8);
    ck_assert_uint_eq(policy_refusals, 0);   /* the device relays both */
    ck_assert_uint_eq(ast.blocked, 1);
    ck_assert_uint_eq(ast.pin_tries, 0);

    /* a purchase on the blocked card: the PIN check answers 6985 */
    purchase_txn(&t, 250);
    holder_types("2468", "2468", "2468", "2468");
    ck_assert_int_eq(cl_server_purchase(&srv, now_ms, &t, NULL), CL_OK);
    res = run_flow();
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_int_eq(res->err, CL_ERR_SW);
    ck_assert_uint_eq(res->sw, 0x6985);
    ck_assert_uint_eq(ledger_find(t.id)->outcome, CL_LEDGER_FAILED);

    /* authentication again: 6985, no retry, no second BLOCK */
    reqs = dev_requests;
    res = authenticate();
    ck_assert_uint_eq(res->sw, 0x6985);
    ck_assert_uint_eq(res->tries, 1);
    ck_assert(!res->blocked);
    ck_assert_uint_eq(dev_requests - reqs, 2);
    stop();
}
END_TEST

/* Block after 1: the first wrong PIN ends the flow and blocks the card,
 * with tries left on the card (63C2); the holder sees no retry. */
START_TEST(auth_blocks_after_n)
{
    const struct cl_server_result *res;

    start(1);
    scfg.auth_block_after = 1;
    holder_types("1111", "2468", NULL, NULL);
    res = authenticate();
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_uint_eq(res->sw, 0x63C2);
    ck_assert_uint_eq(res->tries, 1);
    ck_assert(res->blocked);
    ck_assert_uint_eq(dev_displays, 0);
    ck_assert_uint_eq(ast.blocked, 1);
    ck_assert_uint_eq(ast.pin_tries, 2);
    stop();
}
END_TEST

/* A card whose PIN is already blocked (6983 at the first try): blocked. */
START_TEST(auth_blocks_pin_blocked_card)
{
    const struct cl_server_result *res;

    start(1);
    scfg.auth_block_after = 3;
    ast.pin_tries = 0;
    holder_types("2468", NULL, NULL, NULL);
    res = authenticate();
    ck_assert_uint_eq(res->sw, 0x6983);
    ck_assert_uint_eq(res->tries, 1);
    ck_assert(res->blocked);
    ck_assert_uint_eq(ast.blocked, 1);
    stop();
}
END_TEST

/* The card refuses the BLOCK (personalised for another issuer: 6982): the
 * flow ends FAILED with the PIN's word, not blocked. And blocking off
 * (auth_block_after 0) with the issuer key: never blocked. */
START_TEST(auth_block_refused_or_off)
{
    const struct cl_server_result *res;

    start(1);
    scfg.auth_block_after = 3;
    ast.issuer_pub[40] ^= 0x01;   /* not the key the server signs with */
    holder_types("1111", "1111", "1111", "1111");
    res = authenticate();
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_uint_eq(res->sw, 0x63C0);
    ck_assert(!res->blocked);
    ck_assert_uint_eq(ast.blocked, 0);
    stop();

    start(1);
    scfg.auth_block_after = 0;
    holder_types("1111", "1111", "1111", "1111");
    res = authenticate();
    ck_assert_uint_eq(res->sw, 0x63C0);
    ck_assert_uint_eq(res->tries, 3);
    ck_assert(!res->blocked);
    ck_assert_uint_eq(ast.blocked, 0);
    stop();

    /* the card refuses the GET CHALLENGE (6D00): the same */
    start(1);
    scfg.auth_block_after = 1;
    tamper.on = true;
    tamper.ins = 0x84;
    tamper.at = 8;                 /* SW1 after the 8 challenge bytes */
    tamper.x = 0x90 ^ 0x6D;
    holder_types("1111", NULL, NULL, NULL);
    res = authenticate();
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_uint_eq(res->sw & 0xFFF0u, 0x63C0);
    ck_assert(!res->blocked);
    ck_assert_uint_eq(ast.blocked, 0);
    stop();

    /* the device refuses the GET CHALLENGE (ERROR DENIED): the PIN's
     * failure ends the flow, nothing blocked */
    start(1);
    scfg.auth_block_after = 1;
    holder.apdu_error = CL_RELAY_E_DENIED;
    holder_types("1111", NULL, NULL, NULL);
    res = authenticate();
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_int_eq(res->err, CL_ERR_SW);
    ck_assert_uint_eq(res->sw & 0xFFF0u, 0x63C0);
    ck_assert(!res->blocked);
    ck_assert_uint_eq(ast.blocked, 0);
    stop();
}
END_TEST
#endif

/* Blocking on, but the server holds no issuer key (lib/cert's backend):
 * the flow ends as without the policy, nothing sent after the last try. */
START_TEST(auth_no_block_without_issuer_key)
{
    const struct cl_server_result *res;
    unsigned reqs;

    start(0);
    ck_assert_ptr_null(cport.issuer_sign);
    scfg.auth_block_after = 1;
    holder_types("1111", "1111", "1111", "1111");
    reqs = dev_requests;
    res = authenticate();
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_uint_eq(res->sw, 0x63C0);
    ck_assert_uint_eq(res->tries, 3);
    ck_assert(!res->blocked);
    ck_assert_uint_eq(dev_requests - reqs, 6);   /* READ, 3 x APPROVE, 2 x DISPLAY */
    ck_assert_uint_eq(ast.blocked, 0);
    stop();
}
END_TEST

static Suite *auth_suite(void)
{
    Suite *s = suite_create("server-auth");
    TCase *tc = tcase_create("auth");

    tcase_add_unchecked_fixture(tc, pki_setup, pki_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, auth_tries_shown, 0, n_backends());
    tcase_add_loop_test(tc, auth_tries_two_digits, 0, n_backends());
    tcase_add_loop_test(tc, auth_declined_not_retried, 0, n_backends());
    tcase_add_loop_test(tc, auth_default_limit, 0, n_backends());
    tcase_add_loop_test(tc, auth_retry_fresh, 0, n_backends());
#ifdef CL_HAVE_OPENSSL
    tcase_add_test(tc, auth_blocks_exhausted_card);
    tcase_add_test(tc, auth_block_signer_fails);
    tcase_add_test(tc, auth_blocks_after_n);
    tcase_add_test(tc, auth_blocks_pin_blocked_card);
    tcase_add_test(tc, auth_block_refused_or_off);
#endif
    tcase_add_test(tc, auth_no_block_without_issuer_key);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(auth_suite());
}
