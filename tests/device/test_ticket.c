/*
 * cardlink — the device as an offline ticket validator (cl_dev_validate):
 * the card simulator with the cardlink applet, e-goods signed in the test
 * with an issuer key (mbedtls, ports/posix/applet_crypto.c), no server.
 * Every command that reaches the card is recorded and compared whole.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "applet_crypto.h"
#include "cardlink/applet.h"
#include "cardlink/cert.h"
#include "cardlink/device.h"
#include "cardlink/error.h"
#include "cardlink/sim.h"
#include "device_rig.h"
#include "test_util.h"

static struct cl_posix_crypto pc;
static struct cl_applet_crypto port;
static struct cl_applet_state st;
static struct cl_applet ap;
static struct cl_cardapp inner;
static struct cl_sim sim;
static struct cl_dev dev;
static uint32_t now = 1000;
static uint8_t issuer_priv[CL_APPLET_PRIV_LEN], issuer_pub[CL_APPLET_PUB_LEN];
static struct cl_dev_ticket_cfg tcfg;
static struct cl_dev_ticket res;
static const uint8_t chal[8] = {0x47, 0x41, 0x54, 0x45, 0x00, 0x00, 0x01, 0x2C};
/* what reached the card application */
static unsigned napdu, pull_at;
static uint8_t cmds[16][80];
static size_t cmd_len[16];

static int spy(void *ctx, const uint8_t *cmd, size_t n, uint8_t *r, size_t rs, size_t *rl)
{
    if (napdu < 16 && n <= sizeof(cmds[0])) {
        memcpy(cmds[napdu], cmd, n);
        cmd_len[napdu] = n;
    }
    napdu++;
    return inner.process(ctx, cmd, n, r, rs, rl);
}

/* One round on the card line; with pull_at, the card leaves the slot once
 * it has processed that many commands. */
static bool card_round(void)
{
    if (pull_at != 0 && napdu >= pull_at) {
        pull_at = 0;
        cl_sim_power_off(&sim);
        cl_dev_card_removed(&dev, now);
        return true;
    }
    return rig_card_step(&dev, &sim, now);
}

/* Move card bytes until nobody has anything to do. */
static void pump(void)
{
    rig_pump(card_round, 100000);
}

/* An e-goods record as the applet stores it, signed by key priv over
 * SHA-256("CLEG" serial payload); payload id byte `id`, len bytes (each
 * byte its own from the 17th on). */
static void add_ticket_len(uint8_t id, const uint8_t *priv, bool used, size_t len)
{
    struct cl_applet_egoods *e = &st.egoods[st.egoods_count++];
    uint8_t tbs[4 + 8 + CL_APPLET_EGOODS_DATA], dig[32];
    size_t sl = 0, i;

    memset(e, 0, sizeof(*e));
    e->used = used ? 1 : 0;
    e->data_len = (uint8_t)len;
    memset(e->data, 0xA0, 16);
    e->data[0] = id;
    for (i = 16; i < len; i++)
        e->data[i] = (uint8_t)("BUS-2026"[(i - 16) % 8] + (i - 16) / 8);
    memcpy(tbs, "CLEG", 4);
    memcpy(tbs + 4, st.serial, 8);
    memcpy(tbs + 12, e->data, len);
    ck_assert_int_eq(cl_sha256(tbs, 12 + len, dig), CL_OK);
    ck_assert_int_eq(cl_posix_crypto_sign(&pc, priv, dig, 32, e->sig, sizeof(e->sig), &sl), CL_OK);
    e->sig_len = (uint8_t)sl;
}

static void add_ticket(uint8_t id, const uint8_t *priv, bool used)
{
    add_ticket_len(id, priv, used, 24);
}

static void setup(void)
{
    struct cl_dev_config cfg;
    static const uint8_t serial[8] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};

    rig_applet_state(&pc, &port, &st, serial);
    ck_assert_int_eq(cl_posix_crypto_keygen(&pc, issuer_priv, issuer_pub), CL_OK);
    memcpy(st.issuer_pub, issuer_pub, sizeof(issuer_pub));
    rig_applet_card(&ap, &st, &port, &inner, &sim, spy);

    rig_dev_config(&cfg, (const uint8_t *)"gate", 4);
    cfg.relay.caps.features = 0;   /* no server */
    cfg.relay.ack_delay_ms = 0;
    cfg.hash.digest = cl_dev_hash_sha256;
    cl_dev_init(&dev);
    ck_assert_int_eq(cl_dev_setup(&dev, &cfg), CL_OK);
    ck_assert_int_eq(cl_dev_card_inserted(&dev, now), CL_OK);
    pump();
    ck_assert_int_eq(cl_card_state(&dev.card), CL_CARD_ACTIVE);

    memset(&tcfg, 0, sizeof(tcfg));
    memcpy(tcfg.issuer_pub, issuer_pub, sizeof(issuer_pub));
    tcfg.verify = cl_posix_crypto_verify;
    tcfg.verify_ctx = &pc;
    memcpy(tcfg.challenge, chal, sizeof(chal));
    tcfg.challenge_len = sizeof(chal);
    napdu = 0;
    pull_at = 0;
    memset(&res, 0, sizeof(res));
}

static void teardown(void)
{
    cl_dev_free(&dev);
    cl_sim_free(&sim);
    cl_posix_crypto_free(&pc);
    cl_applet_state_wipe(&st);
}

/* Run one validation to its end; the outcome in res. */
static int validate(void)
{
    napdu = 0;
    ck_assert_int_eq(cl_dev_validate(&dev, now, &tcfg), CL_OK);
    pump();
    ck_assert_int_eq(cl_dev_ticket_result(&dev, &res), CL_OK);
    ck_assert_uint_eq(cl_dev_wants(&dev) & (CL_DEV_W_NET_SEND | CL_DEV_W_FAILED), 0);
    return res.err;
}

static void cmd_is(unsigned i, const char *hex)
{
    uint8_t want[80];
    int n = cl_test_hex(hex, want, sizeof(want));

    ck_assert_uint_lt(i, napdu);
    ck_assert_uint_eq(cmd_len[i], (size_t)n);
    ck_assert_mem_eq(cmds[i], want, (size_t)n);
}

#define GET_BALANCE "80 5C 00 00 00"
#define USE_1 "80 56 01 00 08 47 41 54 45 00 00 01 2C 00"

START_TEST(t_valid_used_once)
{
    uint8_t tbs[4 + 8 + 24 + 8], dig[32];

    add_ticket(0x01, issuer_priv, false);
    ck_assert_int_eq(validate(), CL_OK);
    ck_assert_uint_eq(napdu, 3);
    cmd_is(0, GET_BALANCE);
    cmd_is(1, "00 B2 01 24 00");
    cmd_is(2, USE_1);
    ck_assert_uint_eq(res.rec, 1);
    ck_assert_uint_eq(res.sw, 0x9000);
    ck_assert_mem_eq(res.serial, st.serial, 8);
    ck_assert_uint_eq(res.payload_len, 24);
    ck_assert_mem_eq(res.payload, st.egoods[0].data, 24);
    ck_assert_uint_eq(st.egoods[0].used, 1);
    /* the receipt: the card's authentication key over
     * SHA-256("CLUT" serial payload challenge) */
    memcpy(tbs, "CLUT", 4);
    memcpy(tbs + 4, st.serial, 8);
    memcpy(tbs + 12, res.payload, 24);
    memcpy(tbs + 36, chal, 8);
    ck_assert_int_eq(cl_sha256(tbs, sizeof(tbs), dig), CL_OK);
    ck_assert_uint_gt(res.receipt_len, 8);
    ck_assert_int_eq(cl_posix_crypto_verify(&pc, st.pub, dig, 32, res.receipt, res.receipt_len),
                     CL_OK);
    ck_assert_int_ne(cl_posix_crypto_verify(&pc, issuer_pub, dig, 32, res.receipt,
                                            res.receipt_len), CL_OK);
    dig[5] ^= 1;
    ck_assert_int_ne(cl_posix_crypto_verify(&pc, st.pub, dig, 32, res.receipt, res.receipt_len),
                     CL_OK);
    ck_assert_uint_eq(cl_dev_stats(&dev)->apdus, 3);
}
END_TEST

START_TEST(t_presented_again)
{
    add_ticket(0x01, issuer_priv, false);
    ck_assert_int_eq(validate(), CL_OK);
    ck_assert_int_eq(validate(), CL_ERR_DUPLICATE);
    /* reads only: GET BALANCE, record 1 (used), record 2 (none) */
    ck_assert_uint_eq(napdu, 3);
    cmd_is(0, GET_BALANCE);
    cmd_is(1, "00 B2 01 24 00");
    cmd_is(2, "00 B2 02 24 00");
    ck_assert_uint_eq(res.rec, 0);
    ck_assert_uint_eq(res.receipt_len, 0);
    ck_assert_uint_eq(res.used_seen, 1);
    ck_assert_uint_eq(res.sw, 0);
}
END_TEST

START_TEST(t_forged)
{
    uint8_t other_priv[CL_APPLET_PRIV_LEN], other_pub[CL_APPLET_PUB_LEN];

    ck_assert_int_eq(cl_posix_crypto_keygen(&pc, other_priv, other_pub), CL_OK);
    if (_i == 0) {
        add_ticket(0x01, other_priv, false);   /* another key signed it */
    } else {
        add_ticket(0x01, issuer_priv, false);
        st.egoods[0].data[20] ^= 0x01;         /* altered after signing */
    }
    ck_assert_int_eq(validate(), CL_ERR_SIGNATURE);
    ck_assert_uint_eq(napdu, 3);
    cmd_is(0, GET_BALANCE);
    cmd_is(1, "00 B2 01 24 00");
    cmd_is(2, "00 B2 02 24 00");
    ck_assert_uint_eq(st.egoods[0].used, 0);
    ck_assert_uint_eq(res.forged_seen, 1);
    ck_assert_uint_eq(res.payload_len, 0);
    ck_assert_uint_eq(res.sw, 0);
    cl_wipe(other_priv, sizeof(other_priv));
}
END_TEST

/* A forged record before a good one: the good one is used. */
START_TEST(t_forged_then_valid)
{
    uint8_t other_priv[CL_APPLET_PRIV_LEN], other_pub[CL_APPLET_PUB_LEN];

    ck_assert_int_eq(cl_posix_crypto_keygen(&pc, other_priv, other_pub), CL_OK);
    add_ticket(0x01, other_priv, false);
    add_ticket(0x02, issuer_priv, true);
    add_ticket(0x03, issuer_priv, false);
    ck_assert_int_eq(validate(), CL_OK);
    ck_assert_uint_eq(napdu, 5);
    cmd_is(0, GET_BALANCE);
    cmd_is(1, "00 B2 01 24 00");
    cmd_is(2, "00 B2 02 24 00");
    cmd_is(3, "00 B2 03 24 00");
    cmd_is(4, "80 56 03 00 08 47 41 54 45 00 00 01 2C 00");
    ck_assert_uint_eq(res.rec, 3);
    ck_assert_uint_eq(res.payload[0], 0x03);
    ck_assert_uint_eq(st.egoods[0].used, 0);
    ck_assert_uint_eq(st.egoods[2].used, 1);
    cl_wipe(other_priv, sizeof(other_priv));
}
END_TEST

START_TEST(t_no_ticket)
{
    ck_assert_int_eq(validate(), CL_ERR_NOT_FOUND);
    ck_assert_uint_eq(napdu, 2);
    cmd_is(0, GET_BALANCE);
    cmd_is(1, "00 B2 01 24 00");
    ck_assert_uint_eq(res.rec, 0);
    ck_assert_uint_eq(res.sw, 0);
}
END_TEST

static bool reject_all(void *ctx, const uint8_t *payload, size_t len)
{
    (void)ctx;
    return len == 24 && payload[0] == 0x7F;
}

/* The validator's own check refuses the payload: not used. */
START_TEST(t_not_accepted)
{
    add_ticket(0x01, issuer_priv, false);
    tcfg.accept = reject_all;
    ck_assert_int_eq(validate(), CL_ERR_NOT_FOUND);
    ck_assert_uint_eq(napdu, 3);
    ck_assert_uint_eq(st.egoods[0].used, 0);
}
END_TEST

/* The validator's own check sees the ticket's payload, exactly. */
static bool accept_first(void *ctx, const uint8_t *payload, size_t len)
{
    (void)ctx;
    return len == st.egoods[0].data_len && memcmp(payload, st.egoods[0].data, len) == 0;
}

START_TEST(t_accept_sees_payload)
{
    add_ticket(0x01, issuer_priv, false);
    tcfg.accept = accept_first;
    ck_assert_int_eq(validate(), CL_OK);
    ck_assert_uint_eq(res.rec, 1);
    ck_assert_uint_eq(st.egoods[0].used, 1);
    ck_assert_uint_eq(cl_dev_stats(&dev)->signs, 1);   /* the USE's receipt */
}
END_TEST

/* Payloads of the shortest and longest size a validator reads are
 * tickets; a record with less than a ticket id counts as forged. */
START_TEST(t_payload_sizes)
{
    if (_i == 2) {
        add_ticket_len(0x01, issuer_priv, false, 15);   /* less than the id */
        st.egoods[0].data_len = 15;
        ck_assert_int_eq(validate(), CL_ERR_SIGNATURE);
        ck_assert_uint_eq(res.forged_seen, 1);
        ck_assert_uint_eq(res.sw, 0);
        return;
    }
    add_ticket_len(0x01, issuer_priv, false, _i == 0 ? 16 : CL_DEV_TICKET_DATA_MAX);
    ck_assert_int_eq(validate(), CL_OK);
    ck_assert_uint_eq(res.payload_len, st.egoods[0].data_len);
    ck_assert_mem_eq(res.payload, st.egoods[0].data, res.payload_len);
    ck_assert_uint_eq(res.forged_seen, 0);
}
END_TEST

/* The card pulled after GET BALANCE (_i 1), after READ RECORD (_i 2):
 * NO_CARD, the ticket still valid. */
START_TEST(t_pulled)
{
    add_ticket(0x01, issuer_priv, false);
    pull_at = (unsigned)_i;
    ck_assert_int_eq(validate(), CL_ERR_CARD_REMOVED);
    ck_assert_uint_eq(napdu, (unsigned)_i);
    ck_assert_uint_eq(st.egoods[0].used, 0);
    ck_assert_uint_eq(res.receipt_len, 0);
    /* no card: no validation starts */
    ck_assert_int_eq(cl_dev_validate(&dev, now, &tcfg), CL_ERR_STATE);
}
END_TEST

/* No challenge: USE is case 2 (no Lc); the receipt covers an empty one. */
START_TEST(t_no_challenge)
{
    uint8_t tbs[4 + 8 + 24], dig[32];

    add_ticket(0x01, issuer_priv, false);
    tcfg.challenge_len = 0;
    ck_assert_int_eq(validate(), CL_OK);
    ck_assert_uint_eq(napdu, 3);
    cmd_is(2, "80 56 01 00 00");
    memcpy(tbs, "CLUT", 4);
    memcpy(tbs + 4, st.serial, 8);
    memcpy(tbs + 12, st.egoods[0].data, 24);
    ck_assert_int_eq(cl_sha256(tbs, sizeof(tbs), dig), CL_OK);
    ck_assert_int_eq(cl_posix_crypto_verify(&pc, st.pub, dig, 32, res.receipt, res.receipt_len),
                     CL_OK);
}
END_TEST

/* The longest challenge (CL_DEV_TICKET_CHAL_MAX bytes) goes to the card
 * whole, and the receipt covers all of it. */
START_TEST(t_challenge_max)
{
    uint8_t tbs[4 + 8 + 24 + CL_DEV_TICKET_CHAL_MAX], dig[32];
    uint8_t want[5 + CL_DEV_TICKET_CHAL_MAX + 1];
    unsigned i;

    add_ticket(0x01, issuer_priv, false);
    for (i = 0; i < CL_DEV_TICKET_CHAL_MAX; i++)
        tcfg.challenge[i] = (uint8_t)(0xC0 ^ i);
    tcfg.challenge_len = CL_DEV_TICKET_CHAL_MAX;
    ck_assert_int_eq(validate(), CL_OK);
    ck_assert_uint_eq(napdu, 3);
    memcpy(want, "\x80\x56\x01\x00", 4);
    want[4] = CL_DEV_TICKET_CHAL_MAX;
    memcpy(want + 5, tcfg.challenge, CL_DEV_TICKET_CHAL_MAX);
    want[5 + CL_DEV_TICKET_CHAL_MAX] = 0x00;
    ck_assert_uint_eq(cmd_len[2], sizeof(want));
    ck_assert_mem_eq(cmds[2], want, sizeof(want));
    memcpy(tbs, "CLUT", 4);
    memcpy(tbs + 4, st.serial, 8);
    memcpy(tbs + 12, st.egoods[0].data, 24);
    memcpy(tbs + 36, tcfg.challenge, CL_DEV_TICKET_CHAL_MAX);
    ck_assert_int_eq(cl_sha256(tbs, sizeof(tbs), dig), CL_OK);
    ck_assert_int_eq(cl_posix_crypto_verify(&pc, st.pub, dig, 32, res.receipt, res.receipt_len),
                     CL_OK);
}
END_TEST

START_TEST(t_args)
{
    struct cl_dev_ticket_cfg bad = tcfg;

    ck_assert_int_eq(cl_dev_ticket_result(&dev, &res), CL_ERR_STATE);
    ck_assert_int_eq(cl_dev_ticket_result(NULL, &res), CL_ERR_ARG);
    ck_assert_int_eq(cl_dev_validate(NULL, now, &tcfg), CL_ERR_ARG);
    ck_assert_int_eq(cl_dev_validate(&dev, now, NULL), CL_ERR_ARG);
    bad.verify = NULL;
    ck_assert_int_eq(cl_dev_validate(&dev, now, &bad), CL_ERR_ARG);
    bad = tcfg;
    bad.challenge_len = 65;
    ck_assert_int_eq(cl_dev_validate(&dev, now, &bad), CL_ERR_ARG);
    /* while one runs, a second is refused and the result not ready */
    ck_assert_int_eq(cl_dev_validate(&dev, now, &tcfg), CL_OK);
    ck_assert_int_eq(cl_dev_validate(&dev, now, &tcfg), CL_ERR_STATE);
    ck_assert_int_eq(cl_dev_ticket_result(&dev, &res), CL_ERR_STATE);
    pump();
    ck_assert_int_eq(cl_dev_ticket_result(&dev, &res), CL_OK);
    ck_assert_int_eq(res.err, CL_ERR_NOT_FOUND);
    ck_assert_uint_eq(napdu, 2);
}
END_TEST

static Suite *ticket_suite(void)
{
    Suite *s = suite_create("ticket");
    TCase *tc = tcase_create("validate");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, t_valid_used_once);
    tcase_add_test(tc, t_presented_again);
    tcase_add_loop_test(tc, t_forged, 0, 2);
    tcase_add_test(tc, t_forged_then_valid);
    tcase_add_test(tc, t_no_ticket);
    tcase_add_test(tc, t_not_accepted);
    tcase_add_test(tc, t_accept_sees_payload);
    tcase_add_loop_test(tc, t_payload_sizes, 0, 3);
    tcase_add_loop_test(tc, t_pulled, 1, 3);
    tcase_add_test(tc, t_no_challenge);
    tcase_add_test(tc, t_challenge_max);
    tcase_add_test(tc, t_args);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(ticket_suite());
}
