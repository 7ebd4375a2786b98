/*
 * cardlink — the gate (ACTUATE, docs/protocol.md §5.14, lib/device/
 * job_gate.c): a server-role relay session sends authorisations signed
 * with a gate key made in the test (mbedtls, ports/posix/applet_crypto.c);
 * the device checks them itself and calls a spy actuator. The store is in
 * RAM and survives a "reboot" (cl_dev_free, cl_dev_setup again).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "applet_crypto.h"
#include "cardlink/cert.h"
#include "cardlink/device.h"
#include "cardlink/error.h"
#include "device_rig.h"
#include "test_util.h"

static struct cl_posix_crypto pc;
static struct cl_applet_crypto port;
static struct cl_dev dev;
static struct cl_dev_config cfg;
static struct cl_relay_session srv;
static struct cl_relay_session_config scfg;
static uint8_t srx[2048], srb[2048];
static uint32_t now = 1000;
static uint32_t wall = 1800000000u;   /* the device's wall clock */
static uint8_t gate_priv[CL_APPLET_PRIV_LEN], gate_pub[CL_APPLET_PUB_LEN];
static uint8_t other_priv[CL_APPLET_PRIV_LEN], other_pub[CL_APPLET_PUB_LEN];
static const uint8_t dev_id[7] = {'C', 'L', '-', '0', '0', '0', '1'};
static const uint8_t token[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

/* the server's view of the answer */
static struct cl_relay_event sev;
static bool sev_ok;
static struct cl_relay_msg ans;
static uint8_t ans_buf[256];
static uint8_t raw[256];          /* the ACTUATE-RESULT as the device sent it */
static size_t raw_len;

/* ------------------------------------------------------------ ports */

/* The actuator: counts, and checks the nonce was durable before it ran. */
static unsigned acts, act_rc_fail;
static uint16_t last_action;
static uint32_t last_hold;
static bool stored_before_act;

/* A RAM store: one record per key (the device uses "txnlog", "gate"). */
static struct {
    char key[3][CL_STORE_KEY_MAX + 1];
    uint8_t rec[3][CL_STORE_RECORD_MAX];
    size_t len[3];
    bool used[3];
    unsigned writes;
    bool fail;
} ram;

static int slot(const char *key, bool make)
{
    int i;
    for (i = 0; i < 3; i++)
        if (ram.used[i] && strcmp(ram.key[i], key) == 0)
            return i;
    if (!make)
        return -1;
    for (i = 0; i < 3; i++)
        if (!ram.used[i]) {
            ram.used[i] = true;
            strcpy(ram.key[i], key);
            return i;
        }
    return -1;
}

static int s_read(void *ctx, const char *key, uint8_t *buf, size_t size)
{
    int i = slot(key, false);
    (void)ctx;
    if (i < 0)
        return CL_ERR_NOT_FOUND;
    if (ram.len[i] > size)
        return CL_ERR_BUFFER;
    memcpy(buf, ram.rec[i], ram.len[i]);
    return (int)ram.len[i];
}

static int s_write(void *ctx, const char *key, const uint8_t *data, size_t len)
{
    int i;
    (void)ctx;
    if (ram.fail && strcmp(key, CL_DEV_STORE_KEY_GATE) == 0)
        return CL_ERR_IO;
    i = slot(key, true);
    ck_assert_int_ge(i, 0);
    ck_assert_uint_le(len, CL_STORE_RECORD_MAX);
    memcpy(ram.rec[i], data, len);
    ram.len[i] = len;
    if (strcmp(key, CL_DEV_STORE_KEY_GATE) == 0)
        ram.writes++;
    return CL_OK;
}

static int s_erase(void *ctx, const char *key)
{
    int i = slot(key, false);
    (void)ctx;
    if (i >= 0)
        ram.used[i] = false;
    return CL_OK;
}

static const struct cl_store store = {s_read, s_write, s_erase};

static const uint8_t *cur_nonce;

static int act(void *ctx, uint16_t action, uint32_t hold_ms)
{
    int i = slot(CL_DEV_STORE_KEY_GATE, false);
    size_t k;

    (void)ctx;
    stored_before_act = false;
    if (i >= 0 && cur_nonce != NULL)
        for (k = 6; k + 20 <= ram.len[i]; k += 20)
            if (memcmp(ram.rec[i] + k, cur_nonce, 16) == 0)
                stored_before_act = true;
    if (act_rc_fail != 0)
        return (int)act_rc_fail;
    if (action > 9)
        return CL_ERR_UNSUPPORTED;
    acts++;
    last_action = action;
    last_hold = hold_ms;
    return CL_OK;
}

static uint32_t wall_s(void *ctx)
{
    (void)ctx;
    return wall;
}

/* ------------------------------------------------------------ plumbing */

/* Keeps an ACTUATE-RESULT the server took whole in raw. */
static void keep_result(const uint8_t *p, size_t n, size_t used)
{
    if (n >= 8 && p[1] == CL_RELAY_ACTUATE_RESULT && used == n && n <= sizeof(raw)) {
        memcpy(raw, p, n);
        raw_len = n;
    }
}

/* One round: the device's bytes to the server, the first answer kept in
 * ans, the server's bytes to the device. */
static bool net_round(void)
{
    bool moved = rig_dev_to_server(&dev, &srv, now, false, keep_result);

    rig_poll_answer(&srv, &sev, &sev_ok, ans_buf, sizeof(ans_buf), &ans);
    moved |= rig_server_to_dev(&srv, &dev, now);
    return moved;
}

static void pump(void)
{
    rig_pump(net_round, 10000);
}

/* (Re)start the device on the same store, and a fresh session to it. */
static void boot(void)
{
    cl_dev_init(&dev);
    ck_assert_int_eq(cl_dev_setup(&dev, &cfg), CL_OK);
    cl_relay_session_free(&srv);
    rig_server_open(&srv, &scfg, srx, sizeof(srx), srb, sizeof(srb), now, token, sizeof(token));
    ck_assert_int_eq(cl_dev_net_up(&dev, now), CL_OK);
    sev_ok = false;
    pump();
    while (cl_relay_session_poll(&srv, &sev)) {
    }
    ck_assert_uint_eq(cl_relay_session_state(&srv), CL_RELAY_ST_OPEN);
}

static void setup(void)
{
    ck_assert_int_eq(cl_posix_crypto_init(&pc, &port, NULL, 0), CL_OK);
    ck_assert_int_eq(cl_posix_crypto_keygen(&pc, gate_priv, gate_pub), CL_OK);
    ck_assert_int_eq(cl_posix_crypto_keygen(&pc, other_priv, other_pub), CL_OK);
    memset(&ram, 0, sizeof(ram));
    acts = 0;
    act_rc_fail = 0;
    last_action = 0;
    wall = 1800000000u;
    cur_nonce = NULL;

    rig_dev_config(&cfg, dev_id, sizeof(dev_id));
    cfg.relay.caps.features = CL_RELAY_FEAT_RESUME;
    cfg.hash.digest = cl_dev_hash_sha256;
    cfg.store = &store;
    memcpy(cfg.gate.pub, gate_pub, sizeof(gate_pub));
    cfg.gate.verify = cl_posix_crypto_verify;
    cfg.gate.verify_ctx = &pc;
    cfg.gate.actuator.act = act;
    cfg.gate.wall_s = wall_s;
    cfg.gate.hold_ms = 3000;
    cfg.gate.skew_s = 5;

    cl_relay_session_init(&srv);
    boot();
}

static void teardown(void)
{
    cl_dev_free(&dev);
    cl_relay_session_free(&srv);
    cl_posix_crypto_free(&pc);
}

/* ------------------------------------------------------------ authorisations */

struct auth {
    uint8_t txn_id[16];
    uint8_t nonce[16];
    uint8_t device[32];
    size_t device_len;
    uint16_t action;
    uint32_t nb, na;
    uint8_t sig[80];
    size_t sig_len;
};

/* An authorisation for action, valid [nb, na], signed with priv. */
static void make(struct auth *a, uint8_t seed, uint16_t action, uint32_t nb, uint32_t na,
                 const uint8_t *priv)
{
    struct cl_relay_actuate m;
    uint8_t tbs[CL_RELAY_GATE_TBS_MAX], dig[32];
    size_t n;

    memset(a, 0, sizeof(*a));
    memset(a->txn_id, 0x30 + seed, 16);
    memset(a->nonce, 0xA0 + seed, 16);
    a->nonce[15] = seed;
    memcpy(a->device, dev_id, sizeof(dev_id));
    a->device_len = sizeof(dev_id);
    a->action = action;
    a->nb = nb;
    a->na = na;
    memset(&m, 0, sizeof(m));
    m.action = action;
    m.device_id.data = a->device;
    m.device_id.len = a->device_len;
    m.nonce = a->nonce;
    m.not_before = nb;
    m.not_after = na;
    n = cl_relay_gate_tbs(&m, tbs);
    ck_assert_uint_eq(n, 4 + 1 + 7 + 2 + 16 + 8);
    ck_assert_int_eq(cl_sha256(tbs, n, dig), CL_OK);
    ck_assert_int_eq(cl_posix_crypto_sign(&pc, priv, dig, 32, a->sig, sizeof(a->sig), &a->sig_len),
                     CL_OK);
}

/* Send a as ACTUATE; the result code (the answer in ans, its bytes in raw). */
static int send_auth(const struct auth *a)
{
    struct cl_relay_msg m;

    cl_relay_msg_init(&m, CL_RELAY_ACTUATE);
    m.u.actuate.txn_id = a->txn_id;
    m.u.actuate.action = a->action;
    m.u.actuate.device_id.data = a->device;
    m.u.actuate.device_id.len = a->device_len;
    m.u.actuate.nonce = a->nonce;
    m.u.actuate.not_before = a->nb;
    m.u.actuate.not_after = a->na;
    m.u.actuate.signature.data = a->sig;
    m.u.actuate.signature.len = a->sig_len;
    cur_nonce = a->nonce;
    sev_ok = false;
    raw_len = 0;
    ck_assert_int_eq(cl_relay_session_send(&srv, now, &m), CL_OK);
    pump();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.type, CL_RELAY_ACTUATE_RESULT);
    ck_assert_mem_eq(ans.u.actuate_result.txn_id, a->txn_id, 16);
    return ans.u.actuate_result.result;
}

static struct cl_ui_screen scr;

static const char *screen(void)
{
    ck_assert_int_eq(cl_dev_ui_take(&dev, &scr), 1);
    ck_assert_uint_eq(scr.kind, CL_UI_MESSAGE);
    return scr.text;
}

/* ------------------------------------------------------------ tests */

START_TEST(t_good_acts_once)
{
    struct auth a;

    make(&a, 1, 1, wall - 10, wall + 290, gate_priv);
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_DONE);
    ck_assert_uint_eq(acts, 1);
    ck_assert_uint_eq(last_action, 1);
    ck_assert_uint_eq(last_hold, 3000);
    ck_assert(stored_before_act);          /* durable before the door moved */
    ck_assert_uint_eq(ram.writes, 1);
    ck_assert_str_eq(screen(), "Door opened\n");
}
END_TEST

/* The exact answer: ACK+REF, seq 1 (the device's first sequenced
 * message), ack 1 and ref 1 (the server's first request). */
START_TEST(t_result_bytes)
{
    struct auth a;
    uint8_t want[64];
    int n;

    make(&a, 2, 1, wall, wall + 60, gate_priv);
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_DONE);
    n = cl_test_hex("C1 41 05 01 01 01 00 15 "
                    "80 10 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32 81 01 00",
                    want, sizeof(want));
    ck_assert_msg(raw_len == (size_t)n && memcmp(raw, want, raw_len) == 0, "sent %s",
                  cl_test_tohex(raw, raw_len));
    make(&a, 2, 1, wall, wall + 60, gate_priv);   /* the same nonce again */
    memset(a.txn_id, 0x33, 16);
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_REPLAYED);
    n = cl_test_hex("C1 41 05 02 02 02 00 15 "
                    "80 10 33 33 33 33 33 33 33 33 33 33 33 33 33 33 33 33 81 01 03",
                    want, sizeof(want));
    ck_assert_msg(raw_len == (size_t)n && memcmp(raw, want, raw_len) == 0, "sent %s",
                  cl_test_tohex(raw, raw_len));
}
END_TEST

START_TEST(t_replay_refused)
{
    struct auth a;

    make(&a, 3, 1, wall - 10, wall + 290, gate_priv);
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_DONE);
    memset(a.txn_id, 0x77, 16);   /* a new request, the same signed bytes */
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_REPLAYED);
    ck_assert_uint_eq(acts, 1);
    ck_assert_str_eq(screen(), "Access refused\nalready used\n");
}
END_TEST

/* A reboot between the two: the record is read back from the store. */
START_TEST(t_replay_after_reboot)
{
    struct auth a;

    make(&a, 4, 2, wall - 10, wall + 290, gate_priv);
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_DONE);
    cl_dev_free(&dev);
    boot();
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_REPLAYED);
    ck_assert_uint_eq(acts, 1);
}
END_TEST

START_TEST(t_expired)
{
    struct auth a;

    make(&a, 5, 1, wall - 300, wall - 6, gate_priv);   /* beyond the 5 s skew */
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_EXPIRED);
    make(&a, 6, 1, wall - 300, wall - 5, gate_priv);   /* within it */
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_DONE);
    ck_assert_uint_eq(acts, 1);
    ck_assert_uint_eq(ram.writes, 1);                  /* nothing recorded for the refusal */
}
END_TEST

START_TEST(t_not_yet_valid)
{
    struct auth a;

    make(&a, 7, 1, wall + 6, wall + 300, gate_priv);
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_NOT_YET);
    ck_assert_uint_eq(acts, 0);
    ck_assert_str_eq(screen(), "Access refused\nnot yet valid\n");
    wall += 6;   /* later, the same authorisation is good (not used yet) */
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_DONE);
    ck_assert_uint_eq(acts, 1);
}
END_TEST

START_TEST(t_wrong_device)
{
    struct auth a;
    struct cl_relay_actuate m;
    uint8_t tbs[CL_RELAY_GATE_TBS_MAX], dig[32];
    size_t n;

    make(&a, 8, 1, wall, wall + 60, gate_priv);
    memcpy(a.device, "CL-0002", 7);      /* signed for another device */
    memset(&m, 0, sizeof(m));
    m.action = a.action;
    m.device_id.data = a.device;
    m.device_id.len = a.device_len;
    m.nonce = a.nonce;
    m.not_before = a.nb;
    m.not_after = a.na;
    n = cl_relay_gate_tbs(&m, tbs);
    ck_assert_int_eq(cl_sha256(tbs, n, dig), CL_OK);
    ck_assert_int_eq(cl_posix_crypto_sign(&pc, gate_priv, dig, 32, a.sig, sizeof(a.sig),
                                          &a.sig_len), CL_OK);
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_WRONG_DEVICE);
    ck_assert_uint_eq(acts, 0);
}
END_TEST

/* One bit flipped in the signature, in the signed fields, or another key. */
START_TEST(t_bad_signature)
{
    struct auth a;

    make(&a, 9, 1, wall, wall + 60, gate_priv);
    a.sig[a.sig_len - 1] ^= 0x01;
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_BAD_SIGNATURE);
    make(&a, 9, 1, wall, wall + 60, gate_priv);
    a.action = 3;                         /* another door than signed */
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_BAD_SIGNATURE);
    make(&a, 9, 1, wall, wall + 60, gate_priv);
    a.nonce[0] ^= 0x80;
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_BAD_SIGNATURE);
    make(&a, 9, 1, wall, wall + 61, gate_priv);
    a.na = wall + 60;
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_BAD_SIGNATURE);
    make(&a, 9, 1, wall, wall + 60, other_priv);   /* a key the device does not trust */
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_BAD_SIGNATURE);
    ck_assert_uint_eq(acts, 0);
    ck_assert_uint_eq(ram.writes, 0);
    ck_assert_str_eq(screen(), "Access refused\nbad signature\n");
    make(&a, 9, 1, wall, wall + 60, gate_priv);    /* the genuine one still works */
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_DONE);
}
END_TEST

START_TEST(t_window_too_long)
{
    struct auth a;

    make(&a, 10, 1, wall, wall + CL_DEV_GATE_WINDOW_S + 1, gate_priv);
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_DENIED);
    make(&a, 11, 1, wall, wall + CL_DEV_GATE_WINDOW_S, gate_priv);
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_DONE);
}
END_TEST

/* The store write failed: nothing acts (single use cannot be promised). */
START_TEST(t_store_fails)
{
    struct auth a;

    ram.fail = true;
    make(&a, 12, 1, wall, wall + 60, gate_priv);
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_UNAVAILABLE);
    ck_assert_uint_eq(acts, 0);
    ram.fail = false;
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_DONE);
}
END_TEST

/* The actuator failed or knows no such action: the nonce stays used. */
START_TEST(t_actuator_fails)
{
    struct auth a;

    act_rc_fail = (unsigned)CL_ERR_IO;
    make(&a, 13, 1, wall, wall + 60, gate_priv);
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_ACTUATOR_FAILED);
    act_rc_fail = 0;
    memset(a.txn_id, 0x55, 16);
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_REPLAYED);
    make(&a, 14, 12, wall, wall + 60, gate_priv);
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_NO_ACTUATOR);
    ck_assert_uint_eq(acts, 0);
}
END_TEST

/* No clock, no key, no actuator, no store. */
START_TEST(t_unconfigured)
{
    struct auth a;

    make(&a, 15, 1, wall, wall + 60, gate_priv);
    wall = 0;
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_UNAVAILABLE);
    wall = 1800000000u;
    cl_dev_free(&dev);
    cfg.gate.actuator.act = NULL;
    boot();
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_NO_ACTUATOR);
    cl_dev_free(&dev);
    cfg.gate.actuator.act = act;
    cfg.gate.pub[0] = 0;
    boot();
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_NO_ACTUATOR);
    cl_dev_free(&dev);
    cfg.gate.pub[0] = 0x04;
    cfg.store = NULL;
    boot();
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_UNAVAILABLE);
    ck_assert_uint_eq(acts, 0);
}
END_TEST

/* More authorisations than slots: the earliest is dropped and the floor
 * rises to its not-after, so it is still refused; later ones still act. */
START_TEST(t_record_full)
{
    struct auth a;
    unsigned i;

    for (i = 0; i < CL_DEV_GATE_SLOTS + 1; i++) {
        make(&a, (uint8_t)(20 + i), 1, wall - 100, wall + 100 + i, gate_priv);
        ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_DONE);
    }
    ck_assert_uint_eq(acts, CL_DEV_GATE_SLOTS + 1);
    make(&a, 20, 1, wall - 100, wall + 100, gate_priv);     /* dropped: below the floor */
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_REPLAYED);
    make(&a, 21, 1, wall - 100, wall + 101, gate_priv);     /* still in the record */
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_REPLAYED);
    make(&a, 99, 1, wall - 100, wall + 100, gate_priv);     /* fresh, but at the floor */
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_REPLAYED);
    make(&a, 98, 1, wall - 100, wall + 200, gate_priv);
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_DONE);
    ck_assert_uint_eq(acts, CL_DEV_GATE_SLOTS + 2);
}
END_TEST

/* A malformed record fails closed. */
/* The record overflowing with not-afters in no order: whichever slot is
 * dropped (the earliest not-after, the last slot moved into its place),
 * every authorisation used so far is still refused, and the record holds
 * exactly the floor and the nonces it must. */
START_TEST(t_record_full_any_order)
{
    enum { N = CL_DEV_GATE_SLOTS + 5 };
    struct auth a;
    unsigned i, j, k, n = 0, done = 0;
    uint32_t na[N], floor = 0, model_na[CL_DEV_GATE_SLOTS];
    uint8_t model_seed[CL_DEV_GATE_SLOTS];
    const uint8_t *rec;
    int g;

    for (i = 0; i < N; i++) {
        /* 100..100+N-1 in no order: the first drops slots 0, 0, 15, 13,
         * the second 1, 3, 5 (with 16 slots) */
        na[i] = wall + 100 + (_i == 0 ? (i * 10u) % N : ((i + 3u) * 11u) % N);
        make(&a, (uint8_t)(40 + i), 1, wall - 100, na[i], gate_priv);
        if (na[i] <= floor) {   /* fresh, but at or below the floor: refused */
            ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_REPLAYED);
            continue;
        }
        ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_DONE);
        done++;
        /* the model: drop the earliest not-after, the last slot into its place */
        if (n == CL_DEV_GATE_SLOTS) {
            for (k = 0, j = 1; j < n; j++)
                if (model_na[j] < model_na[k])
                    k = j;
            if (model_na[k] > floor)
                floor = model_na[k];
            model_na[k] = model_na[n - 1];
            model_seed[k] = model_seed[n - 1];
            n--;
        }
        model_na[n] = na[i];
        model_seed[n] = (uint8_t)(40 + i);
        n++;
    }
    ck_assert_uint_eq(acts, done);
    ck_assert_uint_gt(floor, wall + 100);   /* the floor rose past some not-afters */
    ck_assert_uint_ge(done, CL_DEV_GATE_SLOTS + 2);
    g = slot(CL_DEV_STORE_KEY_GATE, false);
    ck_assert_int_ge(g, 0);
    rec = ram.rec[g];
    ck_assert_uint_eq(ram.len[g], 6u + 20u * CL_DEV_GATE_SLOTS);
    ck_assert_uint_eq(rec[0], 0x01);
    ck_assert_uint_eq((uint32_t)rec[1] << 24 | (uint32_t)rec[2] << 16 | (uint32_t)rec[3] << 8 |
                          rec[4],
                      floor);
    ck_assert_uint_eq(rec[5], CL_DEV_GATE_SLOTS);
    for (j = 0; j < CL_DEV_GATE_SLOTS; j++) {
        const uint8_t *e = rec + 6 + 20 * j;
        ck_assert_uint_eq(e[15], model_seed[j]);   /* make() puts the seed last */
        ck_assert_uint_eq((uint32_t)e[16] << 24 | (uint32_t)e[17] << 16 |
                              (uint32_t)e[18] << 8 | e[19],
                          model_na[j]);
    }
    /* no authorisation acts twice, dropped or kept */
    for (i = 0; i < N; i++) {
        make(&a, (uint8_t)(40 + i), 1, wall - 100, na[i], gate_priv);
        ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_REPLAYED);
    }
    ck_assert_uint_eq(acts, done);
}
END_TEST

/* The window's edges against the 5 s skew, and no wall clock at all. */
START_TEST(t_window_edges)
{
    struct auth a;

    make(&a, 70, 1, wall + 5, wall + 60, gate_priv);   /* starts within the skew */
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_DONE);
    make(&a, 71, 1, wall + 1, wall + 60, gate_priv);
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_DONE);
    make(&a, 72, 1, wall - 60, wall, gate_priv);       /* ends now */
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_DONE);
    ck_assert_uint_eq(acts, 3);
    cl_dev_free(&dev);
    cfg.gate.wall_s = NULL;
    boot();
    make(&a, 73, 1, wall, wall + 60, gate_priv);
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_UNAVAILABLE);
    ck_assert_uint_eq(acts, 3);
}
END_TEST

/* A record with no nonce yet (a floor only) is a record. */
START_TEST(t_record_empty)
{
    struct auth a;
    static const uint8_t empty[6] = {1, 0x6B, 0x49, 0xD2, 0x00, 0};   /* floor 1800000000 */

    ck_assert_int_eq(s_write(NULL, CL_DEV_STORE_KEY_GATE, empty, sizeof(empty)), CL_OK);
    make(&a, 74, 1, wall - 100, wall, gate_priv);      /* at the floor: refused */
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_REPLAYED);
    make(&a, 75, 1, wall - 100, wall + 1, gate_priv);
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_DONE);
    ck_assert_uint_eq(acts, 1);
}
END_TEST

START_TEST(t_record_corrupt)
{
    struct auth a;
    static const uint8_t junk[5] = {1, 0, 0, 0, 0};

    ck_assert_int_eq(s_write(NULL, CL_DEV_STORE_KEY_GATE, junk, sizeof(junk)), CL_OK);
    make(&a, 16, 1, wall, wall + 60, gate_priv);
    ck_assert_int_eq(send_auth(&a), CL_RELAY_GATE_UNAVAILABLE);
    ck_assert_uint_eq(acts, 0);
}
END_TEST

START_TEST(t_tbs_args)
{
    struct cl_relay_actuate m;
    uint8_t out[CL_RELAY_GATE_TBS_MAX];
    static const uint8_t nonce[16] = {0}, id[33] = {0};

    memset(&m, 0, sizeof(m));
    ck_assert_uint_eq(cl_relay_gate_tbs(NULL, out), 0);
    ck_assert_uint_eq(cl_relay_gate_tbs(&m, out), 0);
    m.nonce = nonce;
    m.device_id.data = id;
    m.device_id.len = 33;
    ck_assert_uint_eq(cl_relay_gate_tbs(&m, out), 0);
    m.device_id.len = 32;
    ck_assert_uint_eq(cl_relay_gate_tbs(&m, out), CL_RELAY_GATE_TBS_MAX);
}
END_TEST

/* The §5.14 example's gate digest input, byte for byte. */
START_TEST(t_tbs_vector)
{
    struct cl_relay_actuate m;
    uint8_t out[CL_RELAY_GATE_TBS_MAX], want[64];
    static const uint8_t nonce[16] = {0x9C, 0x4E, 0x1B, 0x7A, 0xD2, 0x05, 0x63, 0xF8,
                                      0xA1, 0x3D, 0x5E, 0x90, 0x2B, 0xC7, 0x44, 0x18};
    size_t n;
    int w;

    memset(&m, 0, sizeof(m));
    m.action = 1;
    m.device_id.data = dev_id;
    m.device_id.len = sizeof(dev_id);
    m.nonce = nonce;
    m.not_before = 0x6A0E3C00u;
    m.not_after = 0x6A0E3D2Cu;
    n = cl_relay_gate_tbs(&m, out);
    w = cl_test_hex("43 4C 47 41 07 43 4C 2D 30 30 30 31 00 01 "
                    "9C 4E 1B 7A D2 05 63 F8 A1 3D 5E 90 2B C7 44 18 6A 0E 3C 00 6A 0E 3D 2C",
                    want, sizeof(want));
    ck_assert_uint_eq(n, (size_t)w);
    ck_assert_mem_eq(out, want, n);
}
END_TEST

static Suite *gate_suite(void)
{
    Suite *s = suite_create("gate");
    TCase *tc = tcase_create("actuate");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, t_good_acts_once);
    tcase_add_test(tc, t_result_bytes);
    tcase_add_test(tc, t_replay_refused);
    tcase_add_test(tc, t_replay_after_reboot);
    tcase_add_test(tc, t_expired);
    tcase_add_test(tc, t_not_yet_valid);
    tcase_add_test(tc, t_wrong_device);
    tcase_add_test(tc, t_bad_signature);
    tcase_add_test(tc, t_window_too_long);
    tcase_add_test(tc, t_store_fails);
    tcase_add_test(tc, t_actuator_fails);
    tcase_add_test(tc, t_unconfigured);
    tcase_add_test(tc, t_record_full);
    tcase_add_test(tc, t_record_corrupt);
    tcase_add_loop_test(tc, t_record_full_any_order, 0, 2);
    tcase_add_test(tc, t_window_edges);
    tcase_add_test(tc, t_record_empty);
    tcase_add_test(tc, t_tbs_args);
    tcase_add_test(tc, t_tbs_vector);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(gate_suite());
}
