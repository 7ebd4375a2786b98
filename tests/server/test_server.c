/*
 * cardlink — lib/server against a scripted device: a device-role relay
 * session in this file answers the server's requests by running the
 * cardlink applet in-process (a card personalised by cardlink-perso from
 * cardlink-pki's keys), so every signature and receipt is real. Each flow
 * runs with both crypto backends where the backend can (lib/cert; OpenSSL
 * when built): relay (APDU, a parsed script), purchase, authentication
 * (with a wrong PIN retried), purse payment, load and e-goods load; a
 * wrong signature is rejected, a replayed transaction id is answered from
 * the ledger without a second charge, a certificate that is not for the
 * role is rejected. The device checks every request with lib/policy
 * (CL_POLICY_F_CARDLINK), so the server stays within the device's policy.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Environment: CL_PKI_TOOL (cardlink-pki), CL_PERSO_TOOL (cardlink-perso).
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cardlink/applet.h"
#include "cardlink/error.h"
#include "cardlink/policy.h"
#include "cardlink/server.h"
#include "applet_crypto.h"
#include "test_util.h"
#ifdef CL_HAVE_OPENSSL
#include "server_crypto_openssl.h"
#endif

/* ------------------------------------------------------------ PKI, card */

static char dir[64];
static uint8_t img[CL_APPLET_IMAGE_MAX];
static size_t img_len;
static uint8_t root_der[2048], issuer_key[512];
static size_t root_len, issuer_key_len;

static size_t slurp(const char *name, uint8_t *buf, size_t max)
{
    char path[128];
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s", path);
    n = fread(buf, 1, max, f);
    fclose(f);
    ck_assert_uint_lt(n, max);
    return n;
}

static void pki_setup(void)
{
    const char *pki = getenv("CL_PKI_TOOL"), *perso = getenv("CL_PERSO_TOOL");
    char cmd[1024];

    ck_assert_msg(pki && perso, "CL_PKI_TOOL and CL_PERSO_TOOL must be set");
    strcpy(dir, "/tmp/cl-server-XXXXXX");
    ck_assert(mkdtemp(dir) != NULL);
    snprintf(cmd, sizeof(cmd), "'%s' testpki %s > /dev/null", pki, dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(cmd, sizeof(cmd),
             "'%s' --out %s/card.img --card-key %s/card.key.der "
             "--card-cert %s/card.der --sign-key %s/card-sign.key.der "
             "--sign-cert %s/card-sign.der --issuer-cert %s/issuer.der "
             "--root-cert %s/root.der --issuer-pub %s/issuer.der "
             "--balance 2500 --max 100000 --currency 978 --pin 2468 > /dev/null",
             perso, dir, dir, dir, dir, dir, dir, dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    img_len = slurp("card.img", img, sizeof(img));
    root_len = slurp("root.der", root_der, sizeof(root_der));
    issuer_key_len = slurp("issuer.key.der", issuer_key, sizeof(issuer_key));
}

static void pki_teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* ------------------------------------------------------------ ledger */

#define LEDGER_N 32
static struct cl_ledger_txn ledger_rows[LEDGER_N];
static size_t ledger_n;
static unsigned ledger_begins, ledger_commits;

static struct cl_ledger_txn *ledger_find(const uint8_t id[16])
{
    size_t i;
    for (i = 0; i < ledger_n; i++)
        if (memcmp(ledger_rows[i].id, id, 16) == 0)
            return &ledger_rows[i];
    return NULL;
}

static int ledger_fail;   /* l_begin() answers this error when set */
static int commit_fail;   /* l_commit() answers this error when set */

static int l_begin(void *ctx, const struct cl_ledger_txn *t, struct cl_ledger_txn *out)
{
    struct cl_ledger_txn *r = ledger_find(t->id);
    (void)ctx;
    ledger_begins++;
    if (ledger_fail != 0)
        return ledger_fail;
    if (r != NULL) {
        if (out != NULL)
            *out = *r;
        return CL_LEDGER_ALREADY;
    }
    ck_assert_uint_lt(ledger_n, LEDGER_N);
    r = &ledger_rows[ledger_n++];
    *r = *t;
    r->outcome = CL_LEDGER_PENDING;
    r->receipt_len = 0;
    return CL_LEDGER_NEW;
}

static int l_commit(void *ctx, const uint8_t id[16], uint8_t outcome, const uint8_t *receipt,
                    size_t len, uint64_t now)
{
    struct cl_ledger_txn *r = ledger_find(id);
    (void)ctx;
    ledger_commits++;
    if (commit_fail != 0)
        return commit_fail;
    if (r == NULL)
        return CL_ERR_NOT_FOUND;
    if (r->outcome != CL_LEDGER_PENDING)
        return CL_ERR_STATE;
    r->outcome = outcome;
    r->decided = now;
    ck_assert_uint_le(len, CL_LEDGER_RECEIPT_MAX);
    if (len > 0)
        memcpy(r->receipt, receipt, len);
    r->receipt_len = (uint16_t)len;
    return CL_OK;
}

static int get_fail;   /* l_get() answers this error when set */
static bool get_blind; /* l_get() finds nothing (another context begins meanwhile) */

static int l_get(void *ctx, const uint8_t id[16], struct cl_ledger_txn *out)
{
    struct cl_ledger_txn *r = ledger_find(id);
    (void)ctx;
    if (get_fail != 0)
        return get_fail;
    if (r == NULL || get_blind)
        return CL_ERR_NOT_FOUND;
    *out = *r;
    return CL_OK;
}

static int list_fail;   /* l_list() answers this error when set */

/* Newest first, as the SQLite port lists; the filter's account only. */
static int l_list(void *ctx, const struct cl_ledger_filter *f, cl_ledger_txn_cb cb, void *arg)
{
    size_t i;
    int r;
    (void)ctx;
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_null(f->device_id);
    if (list_fail != 0)
        return list_fail;
    for (i = ledger_n; i-- > 0;) {
        const struct cl_ledger_txn *t = &ledger_rows[i];
        if (t->account_len != f->account_len || memcmp(t->account, f->account, f->account_len))
            continue;
        r = cb(arg, t);
        if (r != 0)
            return r;
    }
    return CL_OK;
}

static const struct cl_ledger ledger = {l_begin, l_commit, l_get, NULL, l_list, NULL, NULL};

/* ------------------------------------------------------------ ports */

/* Seeds for fuzz/fuzz_server.c: with CL_SERVER_SEED_DIR set, the tests
 * that name a seed write the device's bytes as the target's operations,
 * and random is the target's counter (so the device's answers carry the
 * transaction ids the target will draw). */
static FILE *seed_f;
static const char *seed_name;
static uint8_t seed_ctr;

static void seed_op(uint8_t op)
{
    if (seed_f != NULL)
        fputc(op, seed_f);
}

static void seed_bytes(const uint8_t *p, size_t n)
{
    while (seed_f != NULL && n > 0) {
        size_t k = n > 255 ? 255 : n;
        fputc(0, seed_f);
        fputc((int)k, seed_f);
        fwrite(p, 1, k, seed_f);
        p += k;
        n -= k;
    }
}

static bool random_fails;   /* t_random() fails (CL_ERR_IO) while set */

static int t_random(void *ctx, uint8_t *out, size_t len)
{
    FILE *f;
    size_t n;
    (void)ctx;
    if (random_fails)
        return CL_ERR_IO;
    if (getenv("CL_SERVER_SEED_DIR") != NULL) {
        for (n = 0; n < len; n++)
            out[n] = seed_ctr++;
        return CL_OK;
    }
    f = fopen("/dev/urandom", "rb");
    if (f == NULL)
        return CL_ERR_IO;
    n = fread(out, 1, len, f);
    fclose(f);
    return n == len ? CL_OK : CL_ERR_IO;
}

/* the server's wall clock: the real one, or clock_fixed when set */
static uint64_t clock_fixed;

static uint64_t t_clock(void *ctx)
{
    (void)ctx;
    return clock_fixed != 0 ? clock_fixed : (uint64_t)time(NULL);
}

/* Item 7: a coffee; 9 and 10: the largest amount a transaction holds, and
 * one more; 11: a description that fills its array with no NUL. */
static int cat_item(void *ctx, uint32_t code, struct cl_server_item *out)
{
    (void)ctx;
    if (code == 11) {
        memset(out->desc, 'A', sizeof(out->desc));
        out->price = 100;
        out->currency = 978;
        out->exponent = 2;
        return CL_OK;
    }
    if (code != 7 && code != 9 && code != 10)
        return CL_ERR_NOT_FOUND;
    strcpy(out->desc, code == 7 ? "Coffee" : "Everything");
    out->price = code == 7 ? 250 : code == 9 ? CL_TXN_AMOUNT_MAX : CL_TXN_AMOUNT_MAX + 1;
    out->currency = 978;
    out->exponent = 2;
    return CL_OK;
}

static const struct cl_server_catalogue catalogue = {cat_item, NULL};

/* ------------------------------------------------------------ device */

/* What the scripted holder and card do. */
static struct {
    bool decline;                 /* the holder cancels */
    const char *pins[4];          /* PIN typed at each approval, in turn */
    unsigned pin_i;
    bool corrupt_sig;             /* flip a bit of the card's signature */
    bool swap_sign_cert;          /* READ BINARY SFI 6 answered from SFI 1 */
    bool swap_auth_cert;          /* and SFI 1 from SFI 6 */
    bool remove_card;             /* every request: ERROR NO_CARD */
    bool gate;                    /* the device has a gate: ACTUATE answered DONE,
                                   * REPLAYED for a nonce it acted on */
    uint8_t gate_result;          /* with gate: answer this result + 1 instead (0: as above) */
    uint8_t gate_error;           /* with gate: answer ERROR with this code (0: none) */
    bool gate_other_id;           /* with gate: answer for another transaction id */
    uint8_t approve_error;        /* TXN-APPROVE answered ERROR with this code (0: none) */
    uint8_t approve_fail;         /* ... or TXN-RESULT FAILED with this error code, no SW */
    uint8_t apdu_error;           /* APDU requests answered ERROR with this code (0: none) */
    bool no_display;              /* DISPLAY answered ERROR UNSUPPORTED */
    bool close_on_request;        /* the device CLOSEs (close_code) instead of answering */
    uint8_t close_code;
    size_t read_pad[4];           /* the first four READ BINARY of a SCRIPT (the leaf's
                                   * pieces) answered with this many bytes */
    uint16_t read_sw[4];          /* ... or with this status word alone */
    uint8_t debit_form;           /* a DEBIT's TXN-RESULT signature: 0 as the card
                                   * answered (balance' counter' receipt), 1 the
                                   * receipt alone, 2 with balance' one off */
} holder;

static struct cl_posix_crypto pcr;
static struct cl_applet_crypto acr;
static struct cl_applet_state ast;
static struct cl_applet ap;

static struct cl_relay_session dev;
static struct cl_relay_session_config dcfg;
static uint8_t drx[4096], drb[8192];
static struct cl_relay_txn_slot dslots[8];
static struct cl_relay_txn_table dtable;
static struct cl_relay_txn_log dlog;
static struct cl_policy pol;
static struct cl_policy_state pst;
static unsigned dev_requests, dev_executed, policy_refusals;
static uint8_t apdu_txn[16];   /* the transaction id of the last APDU request */
static bool apdu_has_txn;
static unsigned card_reads;   /* READ BINARY commands run on the card */
static char dev_display[600]; /* the last DISPLAY text shown (NUL-terminated) */
static unsigned dev_displays; /* DISPLAY requests shown */
static uint8_t dev_act[2][256];  /* the ACTUATE messages received (seq, ack, ref zeroed) */
static size_t dev_act_len[2];
static unsigned dev_actuates, dev_acted;   /* ACTUATE requests; actions performed */
static uint8_t dev_act_nonce[CL_RELAY_GATE_NONCE_LEN];

static struct cl_server srv;
static struct cl_server_config scfg;
static struct cl_server_crypto cport;
static struct cl_server_crypto_cert ccert;
static struct cl_cert_der roots[1];
#ifdef CL_HAVE_OPENSSL
static struct cl_server_ossl cossl;
#endif
static uint32_t now_ms;

/* Run one command on the applet: rbuf gets data || SW; the SW is returned. */
static uint8_t rbuf[1100];
static size_t rlen;

/* what the scripted device alters in the card's answer to INS ins */
static struct {
    bool on;
    uint8_t ins, x;
    size_t at;
} tamper;

/* the last issuer-signed command that reached the card (CREDIT, or the
 * e-goods APPEND RECORD), whole */
static uint8_t issuer_cmd[300];
static size_t issuer_cmd_len;

static unsigned card(const uint8_t *cmd, size_t n)
{
    uint8_t c[300];
    ck_assert_uint_le(n, sizeof(c));
    memcpy(c, cmd, n);
    if (n >= 4 && ((c[0] == 0x80 && c[1] == 0x52) || (c[1] == 0xE2 && c[3] == 0x20))) {
        memcpy(issuer_cmd, c, n);
        issuer_cmd_len = n;
    }
    if (n >= 4 && c[1] == 0xB0 && (c[2] & 0x80)) {
        if (holder.swap_sign_cert && (c[2] & 0x1F) == 6)
            c[2] = 0x81;
        else if (holder.swap_auth_cert && (c[2] & 0x1F) == 1)
            c[2] = 0x86;
    }
    if (n >= 4 && c[1] == 0xB0)
        card_reads++;
    rlen = 0;
    ck_assert_int_eq(cl_applet_process(&ap, c, n, rbuf, sizeof(rbuf), &rlen), CL_OK);
    ck_assert_uint_ge(rlen, 2);
    if (tamper.on && n >= 2 && c[1] == tamper.ins && tamper.at < rlen)
        rbuf[tamper.at] ^= tamper.x;   /* a device that alters the card's answer */
    return (unsigned)rbuf[rlen - 2] << 8 | rbuf[rlen - 1];
}

static void dev_send(struct cl_relay_msg *m)
{
    ck_assert_int_eq(cl_relay_session_send(&dev, now_ms, m), CL_OK);
}

static void dev_error(uint8_t code)
{
    struct cl_relay_msg m;
    cl_relay_msg_init(&m, CL_RELAY_ERROR);
    m.u.status.code = code;
    dev_send(&m);
}

static void do_script(const struct cl_relay_msg *req)
{
    static uint8_t store[CL_RELAY_SCRIPT_MAX][1024];
    struct cl_relay_msg m;
    size_t i;

    cl_relay_msg_init(&m, CL_RELAY_SCRIPT_RESULT);
    for (i = 0; i < req->u.script.nsteps; i++) {
        const struct cl_relay_step *st = &req->u.script.steps[i];
        unsigned sw = card(st->apdu.data, st->apdu.len);
        if (i < 4 && holder.read_sw[i] != 0 && st->apdu.data[1] == 0xB0) {
            rbuf[0] = (uint8_t)(holder.read_sw[i] >> 8);
            rbuf[1] = (uint8_t)holder.read_sw[i];
            rlen = 2;
            sw = holder.read_sw[i];
        } else if (i < 4 && holder.read_pad[i] > 0 && st->apdu.data[1] == 0xB0) {
            size_t k = holder.read_pad[i];
            ck_assert_uint_le(k + 2, sizeof(rbuf));
            memset(rbuf, 0x30, k);
            rbuf[k] = 0x90;
            rbuf[k + 1] = 0x00;
            rlen = k + 2;
            sw = 0x9000;
        }
        size_t n = (st->options & CL_RELAY_STEP_SW_ONLY) ? 2 : rlen;
        ck_assert_uint_le(n, sizeof(store[i]));
        memcpy(store[i], rbuf + rlen - n, n);
        m.u.script_result.resp[i].data = store[i];
        m.u.script_result.resp[i].len = n;
        m.u.script_result.nresp = i + 1;
        if (!cl_relay_expect_match(&st->expect, (uint16_t)sw)) {
            m.u.script_result.mismatch = (uint8_t)i;
            if (!(req->u.script.options & CL_RELAY_SCRIPT_CONTINUE))
                break;
        }
    }
    dev_send(&m);
}

static void pin_block(const char *pin, uint8_t out[8])
{
    size_t n = strlen(pin), i;
    memset(out, 0xFF, 8);
    out[0] = (uint8_t)(0x20 | n);
    for (i = 0; i < n; i++) {
        unsigned d = (unsigned)(pin[i] - '0');
        if (i % 2 == 0)
            out[1 + i / 2] = (uint8_t)(d << 4 | 0x0F);
        else
            out[1 + i / 2] = (uint8_t)((out[1 + i / 2] & 0xF0) | d);
    }
}

static void txn_result(const uint8_t *id, uint8_t result, const uint8_t *sig, size_t slen,
                       uint16_t sw)
{
    struct cl_relay_msg m;
    cl_relay_msg_init(&m, CL_RELAY_TXN_RESULT);
    m.u.txn_result.txn_id = id;
    m.u.txn_result.result = result;
    m.u.txn_result.signature.data = sig;
    m.u.txn_result.signature.len = slen;
    m.u.txn_result.sw = sw;
    dev_send(&m);
}

/* the challenge of the last TXN-APPROVE the device got, and the
 * challenges and ids of the first four in a test */
static uint8_t last_chal[64];
static size_t last_chal_len;
static uint8_t chals[4][CL_SERVER_CHALLENGE_LEN], chal_ids[4][16];
static unsigned n_chals;

/* the PIN template of the last TXN-APPROVE the device received (before
 * its policy looked at it) */
static struct cl_relay_pin last_pin;
static uint8_t last_pin_apdu[64];
static bool last_has_pin;

static void keep_pin(const struct cl_relay_txn_approve *a)
{
    last_has_pin = a->has_pin;
    last_pin = a->pin;
    ck_assert_uint_le(a->pin.apdu.len, sizeof(last_pin_apdu));
    if (a->pin.apdu.len > 0)   /* (no template: no PIN asked) */
        memcpy(last_pin_apdu, a->pin.apdu.data, a->pin.apdu.len);
    last_pin.apdu.data = last_pin_apdu;
}

static void do_approve(const struct cl_relay_msg *req)
{
    const struct cl_relay_txn_approve *a = &req->u.txn;
    static struct cl_txn txn;
    static uint8_t sig[200];
    uint8_t cmd[100], digest[32], reason = 0;
    unsigned sw;
    size_t n;

    last_chal_len = a->challenge.len <= sizeof(last_chal) ? a->challenge.len : 0;
    memcpy(last_chal, a->challenge.data, last_chal_len);
    if (n_chals < 4 && a->challenge.len == CL_SERVER_CHALLENGE_LEN) {
        memcpy(chals[n_chals], a->challenge.data, CL_SERVER_CHALLENGE_LEN);
        memcpy(chal_ids[n_chals], a->txn_id, 16);
        n_chals++;
    }

    ck_assert_int_eq(cl_txn_decode(a->txn.data, a->txn.len, &txn), CL_OK);
    ck_assert_mem_eq(txn.id, a->txn_id, 16);
    ck_assert_int_eq(cl_policy_check_txn(&pol, &txn, a->sign_cmd, &reason), CL_OK);
    if (holder.approve_error != 0) {
        dev_error(holder.approve_error);
        return;
    }
    if (holder.approve_fail != 0) {
        struct cl_relay_msg m;
        cl_relay_msg_init(&m, CL_RELAY_TXN_RESULT);
        m.u.txn_result.txn_id = a->txn_id;
        m.u.txn_result.result = CL_RELAY_TXN_FAILED;
        m.u.txn_result.error = holder.approve_fail;
        dev_send(&m);
        return;
    }
    if (holder.decline) {
        txn_result(a->txn_id, CL_RELAY_TXN_DECLINED, NULL, 0, 0);
        return;
    }
    if (a->has_pin) {
        const char *pin = holder.pins[holder.pin_i < 4 ? holder.pin_i : 3];
        holder.pin_i++;
        ck_assert_ptr_nonnull(pin);
        ck_assert_uint_eq(a->pin.encoding, CL_RELAY_PIN_ISO9564_2);
        memcpy(cmd, a->pin.apdu.data, a->pin.apdu.len);
        pin_block(pin, cmd + 5 + a->pin.offset);
        sw = card(cmd, a->pin.apdu.len);
        if (sw != 0x9000) {
            txn_result(a->txn_id, CL_RELAY_TXN_FAILED, NULL, 0, (uint16_t)sw);
            return;
        }
    }
    ck_assert_int_eq(cl_txn_digest(&txn, a->challenge.data, a->challenge.len, digest), CL_OK);
    if (a->sign_cmd[1] == 0x54) {
        /* DEBIT from the card's own GET BALANCE, as cl_policy_build_debit */
        uint8_t bal[18];
        size_t pl = strlen(txn.merchant);
        ck_assert_uint_eq(card(cl_policy_get_balance, 5), 0x9000);
        memcpy(bal, rbuf, 18);
        memcpy(cmd, a->sign_cmd, 4);
        cmd[4] = 40;
        cmd[5] = (uint8_t)(txn.amount >> 24);
        cmd[6] = (uint8_t)(txn.amount >> 16);
        cmd[7] = (uint8_t)(txn.amount >> 8);
        cmd[8] = (uint8_t)txn.amount;
        memcpy(cmd + 9, bal + 6, 4);
        memcpy(cmd + 13, txn.id, 16);
        memset(cmd + 29, 0, 16);
        memcpy(cmd + 29, txn.merchant, pl > 16 ? 16 : pl);
        cmd[45] = 0;
        n = 46;
    } else {
        memcpy(cmd, a->sign_cmd, 4);
        cmd[4] = 32;
        memcpy(cmd + 5, digest, 32);
        cmd[37] = 0;
        n = 38;
    }
    sw = card(cmd, n);
    if (sw != 0x9000) {
        txn_result(a->txn_id, CL_RELAY_TXN_FAILED, NULL, 0, (uint16_t)sw);
        return;
    }
    n = rlen - 2;
    memcpy(sig, rbuf, n);
    if (holder.corrupt_sig)
        sig[n - 3] ^= 0x01;
    if (a->sign_cmd[1] == 0x54 && holder.debit_form == 1) {
        memmove(sig, sig + 8, n - 8);
        n -= 8;
    } else if (a->sign_cmd[1] == 0x54 && holder.debit_form == 2) {
        sig[3] ^= 0x01;
    }
    txn_result(a->txn_id, CL_RELAY_TXN_APPROVED, sig, n, 0);
}

static void dev_request(const struct cl_relay_msg *req, size_t wire_len)
{
    uint8_t reason = 0;
    size_t step = 0;

    dev_requests++;
    if (holder.close_on_request) {
        ck_assert_int_eq(cl_relay_session_close(&dev, now_ms, holder.close_code), CL_OK);
        return;
    }
    if (holder.remove_card) {
        if (req->type == CL_RELAY_TXN_APPROVE) {
            struct cl_relay_msg m;
            cl_relay_msg_init(&m, CL_RELAY_TXN_RESULT);
            m.u.txn_result.txn_id = req->u.txn.txn_id;
            m.u.txn_result.result = CL_RELAY_TXN_FAILED;
            m.u.txn_result.error = CL_RELAY_E_NO_CARD;
            dev_send(&m);
        } else {
            dev_error(CL_RELAY_E_NO_CARD);
        }
        return;
    }
    if (req->type == CL_RELAY_TXN_APPROVE)
        keep_pin(&req->u.txn);
    if (cl_policy_check_msg(&pol, &pst, req, wire_len, &reason, &step) != CL_OK) {
        policy_refusals++;
        dev_error(CL_RELAY_E_DENIED);
        return;
    }
    dev_executed++;
    switch (req->type) {
    case CL_RELAY_APDU: {
        struct cl_relay_msg m;
        apdu_has_txn = req->u.apdu.txn_id != NULL;
        if (apdu_has_txn)
            memcpy(apdu_txn, req->u.apdu.txn_id, 16);
        if (holder.apdu_error != 0) {
            dev_error(holder.apdu_error);
            break;
        }
        card(req->u.apdu.apdu.data, req->u.apdu.apdu.len);
        cl_relay_msg_init(&m, CL_RELAY_APDU_RESPONSE);
        m.u.apdu.apdu.data = rbuf;
        m.u.apdu.apdu.len = rlen;
        dev_send(&m);
        break;
    }
    case CL_RELAY_SCRIPT:
        do_script(req);
        break;
    case CL_RELAY_TXN_APPROVE:
        do_approve(req);
        break;
    case CL_RELAY_DISPLAY: {
        struct cl_relay_msg m;
        if (holder.no_display) {
            dev_error(CL_RELAY_E_UNSUPPORTED);
            break;
        }
        ck_assert_uint_lt(req->u.display.text.len, sizeof(dev_display));
        memcpy(dev_display, req->u.display.text.data, req->u.display.text.len);
        dev_display[req->u.display.text.len] = '\0';
        dev_displays++;
        cl_relay_msg_init(&m, CL_RELAY_DISPLAY_DONE);
        dev_send(&m);
        break;
    }
    case CL_RELAY_ACTUATE: {
        struct cl_relay_msg m = *req;
        size_t k = dev_actuates < 2 ? dev_actuates : 1;
        if (!holder.gate) {
            dev_error(CL_RELAY_E_UNSUPPORTED);
            break;
        }
        m.flags = 0;
        m.seq = m.ack = m.ref = 0;
        ck_assert_int_eq(cl_relay_encode(&m, dev_act[k], sizeof(dev_act[k]), &dev_act_len[k]),
                         CL_OK);
        dev_actuates++;
        if (holder.gate_error != 0) {
            dev_error(holder.gate_error);
            break;
        }
        cl_relay_msg_init(&m, CL_RELAY_ACTUATE_RESULT);
        m.u.actuate_result.txn_id = req->u.actuate.txn_id;
        if (holder.gate_other_id) {
            static uint8_t other[16];
            memcpy(other, req->u.actuate.txn_id, 16);
            other[15] ^= 0x01;
            m.u.actuate_result.txn_id = other;
        }
        if (holder.gate_result != 0) {
            m.u.actuate_result.result = (uint8_t)(holder.gate_result - 1u);
        } else if (dev_acted > 0 && memcmp(dev_act_nonce, req->u.actuate.nonce, 16) == 0) {
            m.u.actuate_result.result = CL_RELAY_GATE_REPLAYED;
        } else {
            memcpy(dev_act_nonce, req->u.actuate.nonce, 16);
            dev_acted++;
            m.u.actuate_result.result = CL_RELAY_GATE_DONE;
        }
        dev_send(&m);
        break;
    }
    default:
        dev_error(CL_RELAY_E_UNSUPPORTED);
        break;
    }
}

/* Move bytes both ways and run the device until the server raises an
 * event (returned) or nothing moves. */
static struct cl_server_event sev;
static unsigned cut_at;   /* drop the link when the device answers request n */
static bool cut_on_save;  /* drop it once the session store saved (before the wire) */
static unsigned mem_saves;

/* Everything the server has to send, to the device, which runs what it
 * asks. Whether anything moved. */
static bool to_device(void)
{
    const uint8_t *p;
    size_t n;
    bool moved = false;
    struct cl_relay_event dev_ev;

    while ((n = cl_server_pull(&srv, now_ms, &p)) > 0) {
        size_t off = 0;
        seed_op(1);
        ck_assert_int_eq(cl_server_sent(&srv, n), CL_OK);
        while (off < n) {
            int r = cl_relay_session_feed(&dev, now_ms, p + off, n - off);
            ck_assert_int_ge(r, 0);
            off += (size_t)r;
            while (cl_relay_session_poll(&dev, &dev_ev))
                if (dev_ev.kind == CL_RELAY_EV_REQUEST)
                    dev_request(dev_ev.msg, 0);
        }
        moved = true;
    }
    return moved;
}

/* Everything the device has to send, into buf (not to the server yet);
 * its length. */
static size_t dev_output(uint8_t *buf, size_t size)
{
    const uint8_t *p;
    size_t n, len = 0;

    while ((n = cl_relay_session_pull(&dev, now_ms, &p)) > 0) {
        ck_assert_uint_le(len + n, size);
        memcpy(buf + len, p, n);
        len += n;
        ck_assert_int_eq(cl_relay_session_sent(&dev, n), CL_OK);
    }
    return len;
}

static bool pump(void)
{
    unsigned guard;

    for (guard = 0; guard < 1000; guard++) {
        const uint8_t *p;
        size_t n;
        bool moved;

        if (cl_server_want(&srv) == CL_WANT_DONE)
            return cl_server_poll(&srv, &sev);
        moved = to_device();
        while ((n = cl_relay_session_pull(&dev, now_ms, &p)) > 0) {
            size_t off = 0;
            if (cut_at != 0 && dev_requests >= cut_at) {
                /* the link drops with the device's answer on the wire */
                ck_assert_int_eq(cl_relay_session_sent(&dev, n), CL_OK);
                cut_at = 0;
                cl_relay_session_disconnect(&dev, now_ms);
                cl_server_disconnect(&srv, now_ms);
                return false;
            }
            seed_bytes(p, n);
            ck_assert_int_eq(cl_relay_session_sent(&dev, n), CL_OK);
            while (off < n) {
                int r = cl_server_feed(&srv, now_ms, p + off, n - off);
                ck_assert_int_ge(r, 0);
                off += (size_t)r;
                if (cut_on_save && mem_saves > 0) {
                    cut_on_save = false;
                    cl_relay_session_disconnect(&dev, now_ms);
                    cl_server_disconnect(&srv, now_ms);
                    return false;
                }
                if (cl_server_want(&srv) == CL_WANT_DONE) {
                    ck_assert_uint_eq(off, n);   /* the event came with the message's end */
                    return cl_server_poll(&srv, &sev);
                }
            }
            moved = true;
        }
        if (!moved) {
            now_ms += 1;
            if (cl_server_timeout(&srv, now_ms) != CL_OK)
                return false;
            if (cl_relay_session_timeout(&dev, now_ms) != CL_OK)
                return false;
            if (cl_server_want(&srv) != CL_WANT_DONE && cl_server_pull(&srv, now_ms, &p) == 0 &&
                cl_relay_session_pull(&dev, now_ms, &p) == 0 && guard > 10)
                return false;
        }
    }
    return false;
}

static const struct cl_server_result *run_flow(void)
{
    ck_assert(pump());
    ck_assert_uint_eq(sev.kind, CL_SERVER_EV_FLOW_DONE);
    return cl_server_result(&srv);
}

/* ------------------------------------------------------------ fixtures */

static int backend;   /* 0: lib/cert; 1: OpenSSL */
static uint16_t start_keepalive;   /* the server's K for the next start() (s) */
static uint8_t seed_flow;

static void seed(const char *name, uint8_t flow)
{
    seed_name = name;
    seed_flow = flow;
}

static void start(int which)
{
    backend = which;
    memset(&holder, 0, sizeof(holder));
    holder.pins[0] = holder.pins[1] = holder.pins[2] = holder.pins[3] = "2468";
    ledger_n = 0;
    ledger_begins = ledger_commits = 0;
    ledger_fail = 0;
    list_fail = 0;
    commit_fail = 0;
    get_fail = 0;
    get_blind = false;
    memset(&tamper, 0, sizeof(tamper));
    dev_requests = dev_executed = policy_refusals = 0;
    n_chals = 0;
    card_reads = 0;
    dev_displays = 0;
    dev_display[0] = '\0';
    dev_actuates = dev_acted = 0;
    cut_at = 0;
    now_ms = 1000;
    seed_ctr = which == 1 ? 16 : 0;   /* OpenSSL draws the token itself */
    if (seed_name != NULL && getenv("CL_SERVER_SEED_DIR") != NULL) {
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", getenv("CL_SERVER_SEED_DIR"), seed_name);
        seed_f = fopen(path, "wb");
        ck_assert_ptr_nonnull(seed_f);
        fputc(seed_flow, seed_f);
        fputc(0, seed_f);
    }

    ck_assert_int_eq(cl_applet_state_load(&ast, img, img_len), CL_OK);
    ck_assert_int_eq(cl_posix_crypto_init(&pcr, &acr, NULL, 0), CL_OK);
    ck_assert_int_eq(cl_applet_init(&ap, &ast, &acr, NULL), CL_OK);

    roots[0].der = root_der;
    roots[0].len = root_len;
    if (which == 0) {
        ck_assert_int_eq(cl_server_crypto_cert_init(&ccert, &cport, roots, 1, 0, t_random, NULL),
                         CL_OK);
    } else {
#ifdef CL_HAVE_OPENSSL
        ck_assert_int_eq(cl_server_ossl_init(&cossl, &cport, roots, 1, 64, 0, issuer_key,
                                             issuer_key_len),
                         CL_OK);
#else
        ck_abort_msg("no OpenSSL");
#endif
    }
    memset(&scfg, 0, sizeof(scfg));
    scfg.ledger = &ledger;
    scfg.crypto = &cport;
    scfg.catalogue = &catalogue;
    scfg.clock = t_clock;
    scfg.merchant = "Cafe Rosa";
    scfg.keepalive_s = start_keepalive;
    start_keepalive = 0;
    cl_server_init(&srv);
    ck_assert_int_eq(cl_server_setup(&srv, &scfg), CL_OK);

    memset(&dcfg, 0, sizeof(dcfg));
    dcfg.device_id = (const uint8_t *)"dev-1";
    dcfg.device_id_len = 5;
    dcfg.caps.features = CL_RELAY_FEAT_SCRIPT | CL_RELAY_FEAT_TXN | CL_RELAY_FEAT_RESUME |
                         CL_RELAY_FEAT_PIN_VERIFY | CL_RELAY_FEAT_DISPLAY;
    dcfg.caps.max_msg = sizeof(drx);
    dcfg.caps.script_steps = CL_RELAY_SCRIPT_MAX;
    dcfg.ack_delay_ms = 1;
    cl_relay_txn_table_init(&dtable, dslots, 8, &dlog);
    dcfg.txn_log = &dlog;
    cl_relay_session_init(&dev);
    ck_assert_int_eq(cl_relay_session_setup(&dev, CL_RELAY_DEVICE, &dcfg, drx, sizeof(drx), drb,
                                            sizeof(drb)),
                     CL_OK);
    memset(&pol, 0, sizeof(pol));
    pol.flags = CL_POLICY_F_CARDLINK;
    cl_policy_init(&pst);

    ck_assert_int_eq(cl_server_accept(&srv, now_ms), CL_OK);
    ck_assert_int_eq(cl_relay_device_connect(&dev, now_ms), CL_OK);
    ck_assert(pump());
    ck_assert_uint_eq(sev.kind, CL_SERVER_EV_OPEN);
    ck_assert(!sev.resumed);
}

static void stop(void)
{
    if (seed_f != NULL)
        fclose(seed_f);
    seed_f = NULL;
    seed_name = NULL;
    cl_server_free(&srv);
    cl_relay_session_free(&dev);
    if (backend == 0)
        cl_server_crypto_cert_free(&ccert);
#ifdef CL_HAVE_OPENSSL
    else
        cl_server_ossl_free(&cossl);
#endif
    cl_posix_crypto_free(&pcr);
}

static void purchase_txn(struct cl_txn *t, uint64_t amount)
{
    memset(t, 0, sizeof(*t));
    ck_assert_int_eq(t_random(NULL, t->id, 16), CL_OK);
    t->kind = CL_TXN_PURCHASE;
    t->has_amount = true;
    t->amount = amount;
    t->currency = 978;
    t->exponent = 2;
    t->time.year = 2026;
    t->time.month = 12;
    t->time.day = 6;
    t->time.hour = 15;
    strcpy(t->merchant, "Cafe Rosa");
}

/* A purchase of amount (a fresh id in *t, the library's PIN template) run
 * to its end. */
static const struct cl_server_result *purchase_run(struct cl_txn *t, uint64_t amount)
{
    purchase_txn(t, amount);
    ck_assert_int_eq(cl_server_purchase(&srv, now_ms, t, NULL), CL_OK);
    return run_flow();
}

static int n_backends(void)
{
#ifdef CL_HAVE_OPENSSL
    return 2;
#else
    return 1;
#endif
}

/* ------------------------------------------------------------ relay */

START_TEST(relay_apdu)
{
    const struct cl_server_result *res;
    uint8_t gb[5] = {0x80, 0x5C, 0x00, 0x00, 0x00};

    seed("relay_apdu", 0);
    start(0);
    seed_op(4);
    ck_assert_int_eq(cl_server_apdu(&srv, now_ms, gb, sizeof(gb), NULL), CL_OK);
    ck_assert_uint_eq(cl_server_flow(&srv), CL_SERVER_FLOW_RELAY);
    /* one flow at a time */
    ck_assert_int_eq(cl_server_apdu(&srv, now_ms, gb, sizeof(gb), NULL), CL_ERR_STATE);
    res = run_flow();
    ck_assert_uint_eq(res->flow, CL_SERVER_FLOW_RELAY);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_APPROVED);
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_ptr_nonnull(res->answer);
    ck_assert_uint_eq(res->answer->type, CL_RELAY_APDU_RESPONSE);
    ck_assert_uint_eq(res->answer->u.apdu.apdu.len, 20);
    /* balance 2500, currency 978, counter 0, then serial, 9000 */
    ck_assert_mem_eq(res->answer->u.apdu.apdu.data, "\x00\x00\x09\xC4\x03\xD2\x00\x00\x00\x00",
                     10);
    ck_assert_mem_eq(res->answer->u.apdu.apdu.data + 18, "\x90\x00", 2);
    ck_assert(!apdu_has_txn);
    /* with a transaction id: relayed with it, the result names it */
    {
        static const uint8_t tid[16] = {0x52, 0x45, 0x4C, 0x41, 0x59, 1, 2, 3,
                                        4, 5, 6, 7, 8, 9, 10, 11};
        ck_assert_int_eq(cl_server_apdu(&srv, now_ms, gb, sizeof(gb), tid), CL_OK);
        res = run_flow();
        ck_assert_int_eq(res->err, CL_OK);
        ck_assert(apdu_has_txn);
        ck_assert_mem_eq(apdu_txn, tid, 16);
        ck_assert_mem_eq(res->txn_id, tid, 16);
    }
    /* a VERIFY with a PIN is the device's to refuse: ERROR DENIED */
    {
        uint8_t vf[13] = {0x00, 0x20, 0x00, 0x80, 0x08, 0x24, 0x24, 0x68,
                          0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
        ck_assert_int_eq(cl_server_apdu(&srv, now_ms, vf, sizeof(vf), NULL), CL_OK);
        res = run_flow();
        ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
        ck_assert_int_eq(res->err, CL_ERR_DENIED);
        ck_assert_uint_eq(res->answer->type, CL_RELAY_ERROR);
        ck_assert_uint_eq(policy_refusals, 1);
    }
    /* the longest command the server relays (CL_SERVER_APDU_MAX bytes) goes
     * out whole; one byte more, or fewer than 4, is refused here */
    {
        static uint8_t big[CL_SERVER_APDU_MAX + 1];
        unsigned reqs = dev_requests;
        memset(big, 0x11, sizeof(big));
        big[0] = 0x00;
        big[1] = 0xD6;
        big[4] = (uint8_t)(CL_SERVER_APDU_MAX - 5);
        ck_assert_int_eq(cl_server_apdu(&srv, now_ms, big, CL_SERVER_APDU_MAX + 1, NULL),
                         CL_ERR_ARG);
        ck_assert_int_eq(cl_server_apdu(&srv, now_ms, big, 3, NULL), CL_ERR_ARG);
        ck_assert_uint_eq(dev_requests, reqs);
        /* four bytes, a case 1 command, is the shortest relayed */
        ck_assert_int_eq(cl_server_apdu(&srv, now_ms, gb, 4, NULL), CL_OK);
        res = run_flow();
        ck_assert_uint_eq(dev_requests, ++reqs);
        ck_assert_uint_eq(res->answer->type, CL_RELAY_APDU_RESPONSE);
        ck_assert_int_eq(cl_server_apdu(&srv, now_ms, big, CL_SERVER_APDU_MAX, NULL), CL_OK);
        res = run_flow();
        ck_assert_uint_eq(dev_requests, reqs + 1);
        ck_assert_uint_eq(res->flow, CL_SERVER_FLOW_RELAY);
        ck_assert_ptr_nonnull(res->answer);
    }
    stop();
}
END_TEST

static const char script_text[] =
    "# the cardlink applet: select, read the public key, the balance\n"
    "00 A4 04 00 07 F0434C50415901   sw=9000\n"
    "continue\n"
    "00CA7F4900 sw=9000\n"
    "00 B0 85 00 00 sw=6A82 swonly  # no such EF: SFI 5 is a record file\n"
    "805C000000 sw=any\n"
    ".\n"
    "\n"
    "# second script\n"
    "00 84 00 00 08 sw=9000/F000\n";

START_TEST(relay_script_file)
{
    const struct cl_server_result *res;
    struct cl_relay_script sc;
    uint8_t buf[256];
    size_t used = 0, used2 = 0;
    unsigned line = 0;

    seed("script", 1);
    start(0);
    seed_op(4);
    ck_assert_int_eq(cl_server_script_parse(script_text, strlen(script_text), &sc, buf,
                                            sizeof(buf), &used, &line),
                     CL_OK);
    ck_assert_uint_eq(sc.nsteps, 4);
    ck_assert_uint_eq(sc.options, CL_RELAY_SCRIPT_CONTINUE);
    ck_assert_uint_eq(sc.steps[2].options, CL_RELAY_STEP_SW_ONLY);
    ck_assert_uint_eq(sc.steps[2].expect.kind, CL_RELAY_EXPECT_EXACT);
    ck_assert_uint_eq(sc.steps[2].expect.value, 0x6A82);
    ck_assert_int_eq(cl_server_script(&srv, now_ms, &sc), CL_OK);
    res = run_flow();
    ck_assert_uint_eq(res->outcome, CL_LEDGER_APPROVED);
    ck_assert_uint_eq(res->answer->type, CL_RELAY_SCRIPT_RESULT);
    ck_assert_uint_eq(res->answer->u.script_result.nresp, 4);
    ck_assert_uint_eq(res->answer->u.script_result.resp[1].len, 72);   /* 7F49 43 86 41 04 X Y, 9000 */
    ck_assert_uint_eq(res->answer->u.script_result.resp[2].len, 2);    /* SW only */
    ck_assert_uint_eq(res->answer->u.script_result.mismatch, 2);       /* 6981, not 6A82 */
    ck_assert_uint_eq(res->answer->u.script_result.resp[3].len, 20);
    /* the next script in the file, then the end */
    ck_assert_int_eq(cl_server_script_parse(script_text + used, strlen(script_text) - used, &sc,
                                            buf, sizeof(buf), &used2, &line),
                     CL_OK);
    ck_assert_uint_eq(sc.nsteps, 1);
    ck_assert_uint_eq(sc.steps[0].expect.kind, CL_RELAY_EXPECT_MASKED);
    ck_assert_uint_eq(sc.steps[0].expect.mask, 0xF000);
    used += used2;
    ck_assert_int_eq(cl_server_script_parse(script_text + used, strlen(script_text) - used, &sc,
                                            buf, sizeof(buf), &used2, &line),
                     CL_ERR_NOT_FOUND);
    stop();
}
END_TEST

/* Script file lines: text, the result, the error line. */
static const struct {
    const char *text;
    int err;
    unsigned line;
    size_t nsteps;
} parse_cases[] = {
    {"00A4040000\n", CL_OK, 0, 1},
    {"# only a comment\n\n", CL_ERR_NOT_FOUND, 0, 0},
    {"00A40\n", CL_ERR_MALFORMED, 1, 0},            /* odd hex */
    {"00A40000\n", CL_OK, 0, 1},                    /* a case 1 APDU, 4 bytes */
    {"00A4 0400\n00 G0\n", CL_ERR_MALFORMED, 2, 0}, /* not hex */
    {"00\n", CL_ERR_MALFORMED, 1, 0},               /* shorter than a header */
    {"00B0000000 sw=1234\n", CL_ERR_MALFORMED, 1, 0},   /* SW1 not 6x/9x */
    {"00B0000000 sw=9000/FFFF\n", CL_ERR_MALFORMED, 1, 0},
    {"00B0000000 sw=6100/0F00\n", CL_ERR_MALFORMED, 1, 0},   /* value outside mask */
    {"00B0000000 sw=6100/FF00 swonly\n", CL_OK, 0, 1},
    {"sw=9000\n", CL_ERR_MALFORMED, 1, 0},          /* an option before any APDU */
    {"00B0000000 swonly 00\n", CL_ERR_MALFORMED, 1, 0},   /* hex after an option */
    {"00B0000000 bogus\n", CL_ERR_MALFORMED, 1, 0},
    {".\n.\n00B0000000\n", CL_OK, 0, 1},            /* empty scripts are skipped */
};

START_TEST(script_parse_table)
{
    struct cl_relay_script sc;
    uint8_t buf[64];
    size_t used;
    unsigned line = 99;
    const char *t = parse_cases[_i].text;

    ck_assert_int_eq(cl_server_script_parse(t, strlen(t), &sc, buf, sizeof(buf), &used, &line),
                     parse_cases[_i].err);
    ck_assert_uint_eq(line, parse_cases[_i].line);
    if (parse_cases[_i].err == CL_OK)
        ck_assert_uint_eq(sc.nsteps, parse_cases[_i].nsteps);
}
END_TEST

/* What a step line parses to, byte for byte: hex digits in both cases at
 * the ends of their ranges, the three sw= forms (an expectation that is
 * reset for each step), and the line of an error after comments. */
static const struct {
    const char *text;
    const char *apdu;     /* the first step's bytes */
    uint8_t kind;
    uint16_t value, mask;
} parse_bytes[] = {
    {"00a4040c023f00 sw=6a82\n", "00 A4 04 0C 02 3F 00", CL_RELAY_EXPECT_EXACT, 0x6A82, 0},
    {"00 AF fa 09\n", "00 AF FA 09", CL_RELAY_EXPECT_SUCCESS, 0, 0},
    {"0A0b0C0d sw=9f00/Ff00\n", "0A 0B 0C 0D", CL_RELAY_EXPECT_MASKED, 0x9F00, 0xFF00},
    {"00B0000000 sw=any\n", "00 B0 00 00 00", CL_RELAY_EXPECT_MASKED, 0, 0},
    {"00B0000000 sw=9000\n00B0000001\n", "00 B0 00 00 00", CL_RELAY_EXPECT_EXACT, 0x9000, 0},
    {"00A4040000", "00 A4 04 00 00", CL_RELAY_EXPECT_SUCCESS, 0, 0},   /* no final newline */
};

START_TEST(script_parse_bytes)
{
    struct cl_relay_script sc;
    uint8_t buf[64], want[16];
    size_t used, n;
    unsigned line = 99;
    const char *t = parse_bytes[_i].text;

    memset(&sc, 0xA5, sizeof(sc));
    ck_assert_int_eq(cl_server_script_parse(t, strlen(t), &sc, buf, sizeof(buf), &used, &line),
                     CL_OK);
    ck_assert_uint_eq(used, strlen(t));
    n = (size_t)cl_test_hex(parse_bytes[_i].apdu, want, sizeof(want));
    ck_assert_uint_eq(sc.steps[0].apdu.len, n);
    ck_assert_mem_eq(sc.steps[0].apdu.data, want, n);
    ck_assert_uint_eq(sc.steps[0].expect.kind, parse_bytes[_i].kind);
    if (parse_bytes[_i].kind != CL_RELAY_EXPECT_SUCCESS)
        ck_assert_uint_eq(sc.steps[0].expect.value, parse_bytes[_i].value);
    if (parse_bytes[_i].kind == CL_RELAY_EXPECT_MASKED)
        ck_assert_uint_eq(sc.steps[0].expect.mask, parse_bytes[_i].mask);
    if (sc.nsteps == 2)   /* the second step's expectation is its own */
        ck_assert_uint_eq(sc.steps[1].expect.kind, CL_RELAY_EXPECT_SUCCESS);
    /* the same text with bad digits just outside the ranges */
    {
        static const char *const bad[] = { "00B0000g\n", "00B0000G\n", "00B000:0\n",
                                           "00B000/0\n", "00B000@0\n", "00B000`0\n",
                                           "00B0000000 sw=\n", "00B0000000 sw=90001\n",
                                           "# c\n\n00B0000000\n00B0000000 sw=900G\n",
                                           "00B0000000 sw=9000 00\n", "continue 00B0000000\n",
                                           "00A40400000\n" };
        static const unsigned bad_line[] = { 1, 1, 1, 1, 1, 1, 1, 1, 4, 1, 1, 1 };
        size_t k;
        for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
            line = 99;
            ck_assert_msg(cl_server_script_parse(bad[k], strlen(bad[k]), &sc, buf, sizeof(buf),
                                                 &used, &line) == CL_ERR_MALFORMED, "%s", bad[k]);
            ck_assert_uint_eq(line, bad_line[k]);
        }
    }
}
END_TEST

START_TEST(script_parse_limits)
{
    static char big[64 * 40];
    struct cl_relay_script sc;
    uint8_t buf[16];
    size_t used, i, off = 0;
    unsigned line;

    line = 0;
    ck_assert_int_eq(cl_server_script_parse("# c\n00A4040000", 14, &sc, buf, 4, &used, &line),
                     CL_ERR_BUFFER);
    ck_assert_uint_eq(line, 2);
    ck_assert_int_eq(cl_server_script_parse(NULL, 0, &sc, buf, 4, &used, &line), CL_ERR_ARG);
    for (i = 0; i < CL_RELAY_SCRIPT_MAX + 1u; i++)
        off += (size_t)snprintf(big + off, sizeof(big) - off, "00B00000\n");
    {
        static uint8_t b2[CL_RELAY_SCRIPT_MAX * 8];
        ck_assert_int_eq(cl_server_script_parse(big, off, &sc, b2, sizeof(b2), &used, &line),
                         CL_ERR_TOO_LONG);
        ck_assert_uint_eq(line, CL_RELAY_SCRIPT_MAX + 1u);
    }
}
END_TEST

/* ------------------------------------------------------------ purchase */

START_TEST(purchase_approved)
{
    const struct cl_server_result *res;
    struct cl_ledger_txn *row;
    struct cl_txn t;
    unsigned reqs;

    if (_i == 0)
        seed("purchase", 2);
    start(_i);
    seed_op(4);
    res = purchase_run(&t, 1250);
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_APPROVED);
    ck_assert_uint_eq(res->sw, 0);   /* no card status word to report */
    ck_assert(!res->recorded);
    ck_assert_mem_eq(res->txn_id, t.id, 16);
    ck_assert_uint_eq(res->account_len, 32);
    {
        /* the account: SHA-256 of the card's signing certificate */
        static uint8_t der[2048];
        uint8_t fp[32];
        size_t n = slurp("card-sign.der", der, sizeof(der));
        ck_assert_int_eq(cport.sha256(cport.ctx, der, n, fp), CL_OK);
        ck_assert_mem_eq(res->account, fp, 32);
    }
    ck_assert_uint_eq(dev_requests, 2);   /* one SCRIPT, one TXN-APPROVE */
    row = ledger_find(t.id);
    ck_assert_ptr_nonnull(row);
    ck_assert_uint_eq(row->outcome, CL_LEDGER_APPROVED);
    ck_assert_uint_le(row->created, row->decided);   /* the server's wall clock, both */
    ck_assert_uint_ge(row->created + 60u, (uint64_t)time(NULL));
    ck_assert_int_eq(row->amount, -1250);
    ck_assert_uint_eq(row->currency, 978);
    ck_assert_mem_eq(row->device_id, "dev-1", 5);
    ck_assert_uint_gt(row->receipt_len, 60);   /* the card's DER signature */

    /* the same id again: the ledger answers, nothing reaches the device */
    reqs = dev_requests;
    ck_assert_int_eq(cl_server_purchase(&srv, now_ms, &t, NULL), CL_OK);
    ck_assert_uint_eq(cl_server_want(&srv), CL_WANT_DONE);
    res = run_flow();
    ck_assert(res->recorded);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_APPROVED);
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_uint_eq(res->account_len, 32);   /* the row's account, whole */
    ck_assert_mem_eq(res->account, row->account, 32);
    ck_assert_uint_eq(dev_requests, reqs);
    ck_assert_uint_eq(ledger_n, 1);
    ck_assert_uint_eq(ledger_commits, 1);

    /* a second purchase (new id) of the same card: the chain is cached */
    res = purchase_run(&t, 300);
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_uint_eq(ledger_n, 2);
    if (_i == 0) {
        ck_assert_uint_eq(ccert.misses, 1);
        ck_assert_uint_ge(ccert.hits, 2);
    }
#ifdef CL_HAVE_OPENSSL
    else {
        ck_assert_uint_eq(cossl.misses, 1);
        ck_assert_uint_ge(cossl.hits, 2);
    }
#endif
    stop();
}
END_TEST

static void auth_txn(struct cl_txn *t);

/* Put the card of image im[0..n) in the reader. */
static void insert_card(const uint8_t *im, size_t n)
{
    ck_assert_int_eq(cl_applet_state_load(&ast, im, n), CL_OK);
    ck_assert_int_eq(cl_applet_init(&ap, &ast, &acr, NULL), CL_OK);
}

/* Personalise a card image: A's keys and certificates under another
 * serial (genuine = true), or fresh keys and no certificates under
 * `serial` (a card that lies about being the card with that serial). */
static size_t perso_card(const char *serial, bool genuine, uint8_t *out, size_t max)
{
    char cmd[1200], name[64];

    snprintf(name, sizeof(name), "card-%s-%d.img", serial, genuine ? 1 : 0);
    if (genuine)
        snprintf(cmd, sizeof(cmd),
                 "'%s' --out %s/%s --serial %s --card-key %s/card.key.der "
                 "--card-cert %s/card.der --sign-key %s/card-sign.key.der "
                 "--sign-cert %s/card-sign.der --issuer-cert %s/issuer.der "
                 "--root-cert %s/root.der --issuer-pub %s/issuer.der "
                 "--balance 2500 --max 100000 --currency 978 --pin 2468 > /dev/null",
                 getenv("CL_PERSO_TOOL"), dir, name, serial, dir, dir, dir, dir, dir, dir, dir);
    else
        snprintf(cmd, sizeof(cmd),
                 "'%s' --out %s/%s --serial %s --gen-key --issuer-pub %s/issuer.der "
                 "--balance 2500 --max 100000 --currency 978 --pin 2468 > /dev/null",
                 getenv("CL_PERSO_TOOL"), dir, name, serial, dir);
    ck_assert_int_eq(system(cmd), 0);
    return slurp(name, out, max);
}

static const struct cl_server_result *cached_purchase(uint64_t amount)
{
    struct cl_txn t;

    return purchase_run(&t, amount);
}

/* lib/server's certificate cache: the second purchase of a card on a
 * device reads its serial only; another card is read in full (a third
 * round trip); a card claiming the cached card's serial is verified with
 * the cached card's key and FAILS, and does not change the entry. */
/* Each approval the server starts carries a challenge of its own: two
 * purchases on one connection, and a retry after a wrong PIN. */
START_TEST(purchase_fresh_challenge)
{
    uint8_t first[64];
    size_t first_len;
    struct cl_txn t;
    static const uint8_t zero[64];

    start(_i);
    purchase_txn(&t, 100);
    ck_assert_int_eq(cl_server_purchase(&srv, now_ms, &t, NULL), CL_OK);
    ck_assert_uint_eq(run_flow()->outcome, CL_LEDGER_APPROVED);
    ck_assert_uint_ge(last_chal_len, 8);
    ck_assert(memcmp(last_chal, zero, last_chal_len) != 0);
    memcpy(first, last_chal, last_chal_len);
    first_len = last_chal_len;
    purchase_txn(&t, 200);
    t.id[0] ^= 0x55;
    ck_assert_int_eq(cl_server_purchase(&srv, now_ms, &t, NULL), CL_OK);
    ck_assert_uint_eq(run_flow()->outcome, CL_LEDGER_APPROVED);
    ck_assert_uint_eq(last_chal_len, first_len);
    ck_assert(memcmp(last_chal, first, first_len) != 0);
    stop();
}
END_TEST

START_TEST(purchase_cert_cache)
{
    static struct cl_server_cert_cache cc;
    static uint8_t liar[CL_APPLET_IMAGE_MAX], other[CL_APPLET_IMAGE_MAX];
    static uint8_t leaf[CL_SERVER_CERT_MAX], acct[32];
    static const uint8_t gb[5] = {0x80, 0x5C, 0x00, 0x00, 0x00};
    const struct cl_server_result *res;
    const struct cl_server_cert_entry *e;
    uint8_t serial[8];
    char hex[17];
    size_t liar_len, other_len, i;
    unsigned reqs;

    start(_i);
    cl_server_cert_cache_init(&cc);
    scfg.cert_cache = &cc;
    ck_assert_uint_eq(card(gb, sizeof(gb)), 0x9000);
    memcpy(serial, rbuf + 10, 8);
    for (i = 0; i < 8; i++)
        snprintf(hex + 2 * i, 3, "%02X", serial[i]);
    liar_len = perso_card(hex, false, liar, sizeof(liar));
    other_len = perso_card("0102030405060708", true, other, sizeof(other));
    ck_assert_mem_ne(serial, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);

    /* cold: certificates and serial in one SCRIPT, the chain kept */
    res = cached_purchase(100);
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_uint_eq(dev_requests, 2);
    ck_assert_uint_eq(card_reads, 8);
    ck_assert_mem_eq(res->serial, serial, 8);
    memcpy(acct, res->account, 32);
    ck_assert_uint_eq(cc.misses, 1);
    ck_assert_uint_eq(cc.hits, 0);
    e = &cc.e[0];
    ck_assert(e->used);
    ck_assert_uint_eq(e->role, CL_CERT_ROLE_CARD_SIGN);
    ck_assert_mem_eq(e->serial, serial, 8);
    ck_assert_uint_eq(e->device_id_len, 5);
    ck_assert_mem_eq(e->device_id, "dev-1", 5);
    ck_assert_uint_gt(e->leaf_len, 300);
    ck_assert_uint_gt(e->issuer_len, 300);
    memcpy(leaf, e->leaf, e->leaf_len);

    /* warm: GET BALANCE alone, the same account, 2 round trips */
    reqs = dev_requests;
    res = cached_purchase(200);
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_APPROVED);
    ck_assert_uint_eq(dev_requests - reqs, 2);
    ck_assert_uint_eq(card_reads, 8);
    ck_assert_mem_eq(res->account, acct, 32);
    ck_assert_uint_eq(cc.hits, 1);

    /* a card that says A's serial but holds other keys: A's chain is
     * taken, its key does not verify the signature: FAILED */
    insert_card(liar, liar_len);
    reqs = dev_requests;
    res = cached_purchase(300);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_int_eq(res->err, CL_ERR_SIGNATURE);
    ck_assert_uint_eq(dev_requests - reqs, 2);
    ck_assert_uint_eq(card_reads, 8);
    ck_assert_uint_eq(ledger_find(res->txn_id)->outcome, CL_LEDGER_FAILED);
    ck_assert_mem_eq(ledger_find(res->txn_id)->account, acct, 32);
    ck_assert_uint_eq(cc.hits, 2);
    /* the entry is A's still; only the device's guess is dropped */
    ck_assert(e->used);
    ck_assert_mem_eq(e->serial, serial, 8);
    ck_assert_mem_eq(e->leaf, leaf, e->leaf_len);
    ck_assert_uint_eq(e->device_id_len, 0);
    ck_assert(!cc.e[1].used);

    /* the liar again: no guess, its (missing) certificates are read (8
     * READ BINARY run, the first of each fails) */
    reqs = dev_requests;
    res = cached_purchase(300);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_uint_eq(dev_requests - reqs, 1);
    ck_assert_uint_eq(card_reads, 16);
    ck_assert_mem_eq(e->leaf, leaf, e->leaf_len);
    ck_assert(!cc.e[1].used);

    /* A back: read in full (no guess), verified, the guess back */
    insert_card(img, img_len);
    reqs = dev_requests;
    res = cached_purchase(400);
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_uint_eq(dev_requests - reqs, 2);
    ck_assert_uint_eq(card_reads, 24);
    ck_assert_mem_eq(e->leaf, leaf, e->leaf_len);
    ck_assert_uint_eq(e->device_id_len, 5);
    reqs = dev_requests;
    res = cached_purchase(500);
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_uint_eq(dev_requests - reqs, 2);
    ck_assert_uint_eq(card_reads, 24);

    /* another genuine card on the device: the guess misses, the
     * certificates are read in a second SCRIPT (3 round trips), and it is
     * cached beside A */
    insert_card(other, other_len);
    reqs = dev_requests;
    res = cached_purchase(600);
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_uint_eq(dev_requests - reqs, 3);
    ck_assert_uint_eq(card_reads, 32);
    ck_assert_mem_eq(res->serial, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    ck_assert(cc.e[1].used);
    ck_assert_mem_eq(cc.e[1].serial, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    ck_assert_mem_eq(e->leaf, leaf, e->leaf_len);
    /* seven flows: three without reading (warm, the liar's, A's second),
     * four that read, the wrong guess counted once */
    ck_assert_uint_eq(cc.hits, 3);
    ck_assert_uint_eq(cc.misses, 4);
    reqs = dev_requests;
    res = cached_purchase(700);
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_uint_eq(dev_requests - reqs, 2);
    ck_assert_uint_eq(card_reads, 32);

    /* authentication keys its own entry (role CARD_AUTH) */
    {
        struct cl_txn at;
        memset(&at, 0, sizeof(at));
        auth_txn(&at);
        ck_assert_int_eq(cl_server_authenticate(&srv, now_ms, &at, NULL), CL_OK);
        res = run_flow();
        ck_assert_int_eq(res->err, CL_OK);
        ck_assert_uint_eq(card_reads, 40);
        ck_assert(cc.e[2].used);
        ck_assert_uint_eq(cc.e[2].role, CL_CERT_ROLE_CARD_AUTH);
        auth_txn(&at);
        ck_assert_int_eq(cl_server_authenticate(&srv, now_ms, &at, NULL), CL_OK);
        res = run_flow();
        ck_assert_int_eq(res->err, CL_OK);
        ck_assert_uint_eq(card_reads, 40);
    }
    stop();
}
END_TEST

START_TEST(purchase_catalogue)
{
    const struct cl_server_result *res;
    struct cl_txn t;

    start(0);
    ck_assert_int_eq(cl_server_txn_from_catalogue(&scfg, 8, 1, &t), CL_ERR_NOT_FOUND);
    /* the largest amount: one of item 9 fits, two do not, item 10 never */
    ck_assert_int_eq(cl_server_txn_from_catalogue(&scfg, 9, 1, &t), CL_OK);
    ck_assert_uint_eq(t.amount, CL_TXN_AMOUNT_MAX);
    ck_assert(!t.items[0].has_unit);
    ck_assert_int_eq(cl_server_txn_from_catalogue(&scfg, 9, 2, &t), CL_ERR_OVERFLOW);
    ck_assert_int_eq(cl_server_txn_from_catalogue(&scfg, 10, 1, &t), CL_ERR_OVERFLOW);
    /* a description with no NUL is cut at its array's end: 48 characters,
     * more than an item line holds */
    ck_assert_int_eq(cl_server_txn_from_catalogue(&scfg, 11, 1, &t), CL_ERR_LIMIT);
    ck_assert_uint_eq(strlen(t.items[0].desc), sizeof(t.items[0].desc) - 1);
    /* no catalogue, or no payee: nothing to build from */
    scfg.catalogue = NULL;
    ck_assert_int_eq(cl_server_txn_from_catalogue(&scfg, 7, 1, &t), CL_ERR_UNSUPPORTED);
    scfg.catalogue = &catalogue;
    scfg.merchant = NULL;
    ck_assert_int_eq(cl_server_txn_from_catalogue(&scfg, 7, 1, &t), CL_ERR_UNSUPPORTED);
    scfg.merchant = "Cafe Rosa";
    /* the payee: the longest a transaction shows, longer than that (the
     * transaction's rule), longer than its field holds (refused first) */
    {
        static char payee[sizeof(t.merchant) + 1];
        memset(payee, 'M', CL_TXN_MERCHANT_MAX);
        scfg.merchant = payee;
        ck_assert_int_eq(cl_server_txn_from_catalogue(&scfg, 7, 1, &t), CL_OK);
        ck_assert_str_eq(t.merchant, payee);
        memset(payee, 'M', sizeof(t.merchant) - 1);
        ck_assert_int_eq(cl_server_txn_from_catalogue(&scfg, 7, 1, &t), CL_ERR_LIMIT);
        payee[sizeof(t.merchant) - 1] = 'M';
        ck_assert_int_eq(cl_server_txn_from_catalogue(&scfg, 7, 1, &t), CL_ERR_ARG);
        scfg.merchant = "Cafe Rosa";
    }
    ck_assert_int_eq(cl_server_txn_from_catalogue(&scfg, 7, 2, &t), CL_OK);
    ck_assert(t.items[0].has_unit);   /* 2 x 2.50 */
    ck_assert_int_eq(cl_server_txn_from_catalogue(&scfg, 7, CL_TXN_QTY_MAX, &t), CL_OK);
    ck_assert_uint_eq(t.amount, 250u * CL_TXN_QTY_MAX);
    ck_assert_int_eq(cl_server_txn_from_catalogue(&scfg, 7, CL_TXN_QTY_MAX + 1, &t), CL_ERR_ARG);
    ck_assert_int_eq(cl_server_txn_from_catalogue(&scfg, 7, 0, &t), CL_ERR_ARG);
    ck_assert_int_eq(cl_server_txn_from_catalogue(&scfg, 7, 3, &t), CL_OK);
    ck_assert_uint_eq(t.amount, 750);
    ck_assert_uint_eq(t.n_items, 1);
    ck_assert_str_eq(t.items[0].desc, "Coffee");
    ck_assert_uint_eq(t.items[0].quantity, 3);   /* 3 x 2.50 on the display */
    ck_assert(t.items[0].has_unit);
    ck_assert_uint_eq(t.items[0].unit, 250);
    ck_assert_int_eq(cl_server_purchase(&srv, now_ms, &t, NULL), CL_OK);
    res = run_flow();
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_int_eq(ledger_find(t.id)->amount, -750);
    stop();
}
END_TEST

/* The catalogue transaction's date and time from the server's clock
 * (Unix seconds, UTC): leap days, the ends of months, centuries, the last
 * second a 32-bit time holds; past it, refused. */
static const struct {
    uint64_t secs;
    uint16_t year;
    uint8_t month, day, hour, minute, second;
} clocks[] = {
    { 1709251199u, 2024, 2, 29, 23, 59, 59 },
    { 1709251200u, 2024, 3, 1, 0, 0, 0 },
    { 951782400u, 2000, 2, 29, 0, 0, 0 },
    { 946684799u, 1999, 12, 31, 23, 59, 59 },
    { 4107542400u, 2100, 3, 1, 0, 0, 0 },
    { 4294967295u, 2106, 2, 7, 6, 28, 15 },
    { 4294967296u, 0, 0, 0, 0, 0, 0 },
};

START_TEST(purchase_catalogue_time)
{
    struct cl_txn t;
    unsigned i;

    start(0);
    for (i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
        clock_fixed = clocks[i].secs;
        if (clocks[i].year == 0) {
            ck_assert_int_eq(cl_server_txn_from_catalogue(&scfg, 7, 1, &t), CL_ERR_ARG);
            continue;
        }
        ck_assert_int_eq(cl_server_txn_from_catalogue(&scfg, 7, 1, &t), CL_OK);
        ck_assert_uint_eq(t.time.year, clocks[i].year);
        ck_assert_uint_eq(t.time.month, clocks[i].month);
        ck_assert_uint_eq(t.time.day, clocks[i].day);
        ck_assert_uint_eq(t.time.hour, clocks[i].hour);
        ck_assert_uint_eq(t.time.minute, clocks[i].minute);
        ck_assert_uint_eq(t.time.second, clocks[i].second);
    }
    /* every day a 32-bit time holds, at a time of day that moves, against
     * the C library's calendar */
    for (i = 0; i <= 49710u; i++) {
        time_t secs = (time_t)i * 86400 + (time_t)((i * 7919u + 1u) % 86400u);
        struct tm tm;
        if ((uint64_t)secs > 0xFFFFFFFFu)
            break;
        clock_fixed = (uint64_t)secs;   /* never 0, "the real clock" */
        ck_assert_ptr_nonnull(gmtime_r(&secs, &tm));
        ck_assert_int_eq(cl_server_txn_from_catalogue(&scfg, 7, 1, &t), CL_OK);
        ck_assert_msg(t.time.year == tm.tm_year + 1900 && t.time.month == tm.tm_mon + 1 &&
                          t.time.day == tm.tm_mday && t.time.hour == tm.tm_hour &&
                          t.time.minute == tm.tm_min && t.time.second == tm.tm_sec,
                      "day %u: %u-%u-%u", i, t.time.year, t.time.month, t.time.day);
    }
    clock_fixed = 0;
    stop();
}
END_TEST

START_TEST(purchase_bad_signature)
{
    const struct cl_server_result *res;
    struct cl_txn t;

    start(_i);
    holder.corrupt_sig = true;
    res = purchase_run(&t, 999);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_int_eq(res->err, CL_ERR_SIGNATURE);
    ck_assert_uint_eq(ledger_find(t.id)->outcome, CL_LEDGER_FAILED);
    ck_assert_uint_eq(ledger_find(t.id)->receipt_len, 0);
    stop();
}
END_TEST

START_TEST(purchase_declined_and_wrong_pin)
{
    const struct cl_server_result *res;
    struct cl_txn t;

    start(0);
    holder.decline = true;
    res = purchase_run(&t, 500);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_DECLINED);
    ck_assert_int_eq(res->err, CL_ERR_CANCELLED);
    ck_assert_uint_eq(ledger_find(t.id)->outcome, CL_LEDGER_DECLINED);

    holder.decline = false;
    holder.pins[0] = "1111";
    res = purchase_run(&t, 500);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_int_eq(res->err, CL_ERR_SW);
    ck_assert_uint_eq(res->sw, 0x63C2);
    /* the next flow's result carries no status word of this one */
    holder.pins[1] = "2468";
    res = purchase_run(&t, 500);
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_uint_eq(res->sw, 0);
    stop();
}
END_TEST

START_TEST(purchase_wrong_role)
{
    const struct cl_server_result *res;
    struct cl_txn t;
    int err;

    start(_i);
    holder.swap_sign_cert = true;   /* EF 0104 answers with the auth certificate */
    res = purchase_run(&t, 500);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    err = res->err;
    ck_assert_msg(err == CL_ERR_CERT_PURPOSE || err == CL_ERR_CERT_KEY_USAGE, "%d", err);
    ck_assert_uint_eq(dev_requests, 1);   /* nothing was sent to sign */
    ck_assert_ptr_null(ledger_find(t.id));
    stop();
}
END_TEST

START_TEST(purchase_card_removed)
{
    const struct cl_server_result *res;
    struct cl_txn t;

    start(0);
    holder.remove_card = true;
    res = purchase_run(&t, 500);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_int_eq(res->err, CL_ERR_CARD_REMOVED);
    ck_assert_ptr_null(ledger_find(t.id));
    ck_assert_uint_eq(ledger_commits, 0);   /* nothing begun, nothing to commit */
    stop();
}
END_TEST

/* The device answers the approval with ERROR: DUPLICATE (it holds the id
 * in progress, protocol §9) leaves the ledger row PENDING for a retry to
 * ask again; any other error ends it FAILED, as does TXN-RESULT FAILED
 * with an error code and no status word (the code's error). */
static const struct {
    uint8_t code;
    bool result;   /* a TXN-RESULT FAILED with the code, not an ERROR */
    uint8_t outcome;
    int err;
} approve_errors[] = {
    { CL_RELAY_E_DUPLICATE, false, CL_LEDGER_PENDING, CL_ERR_DUPLICATE },
    { CL_RELAY_E_CARD_MUTE, false, CL_LEDGER_FAILED, CL_ERR_CARD_MUTE },
    { CL_RELAY_E_DENIED, false, CL_LEDGER_FAILED, CL_ERR_DENIED },
    { CL_RELAY_E_CARD_MUTE, true, CL_LEDGER_FAILED, CL_ERR_CARD_MUTE },
};

START_TEST(purchase_device_errors)
{
    const struct cl_server_result *res;
    struct cl_txn t;

    start(0);
    if (approve_errors[_i].result)
        holder.approve_fail = approve_errors[_i].code;
    else
        holder.approve_error = approve_errors[_i].code;
    res = purchase_run(&t, 321);
    ck_assert_uint_eq(res->outcome, approve_errors[_i].outcome);
    ck_assert_int_eq(res->err, approve_errors[_i].err);
    ck_assert_uint_eq(ledger_find(t.id)->outcome, approve_errors[_i].outcome);
    ck_assert_uint_eq(ledger_commits, approve_errors[_i].outcome == CL_LEDGER_PENDING ? 0 : 1);
    ck_assert_uint_eq(cl_server_flow(&srv), CL_SERVER_FLOW_NONE);
    stop();
}
END_TEST

/* A device that sends a certificate longer than the server keeps (pieces
 * of 600 bytes where 256 are asked): 600 + 425 bytes are refused, nothing
 * is written past the server's 1,024, no ledger row; 600 + 424 fill them
 * exactly and are then no certificate. */
static const struct {
    size_t second;
    int err;
} too_long[] = {{425, CL_ERR_LIMIT}, {424, CL_ERR_CERT_PARSE}};

START_TEST(purchase_cert_too_long)
{
    const struct cl_server_result *res;
    struct cl_txn t;

    start(0);
    holder.read_pad[0] = 600;
    holder.read_pad[1] = too_long[_i].second;
    res = purchase_run(&t, 100);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_int_eq(res->err, too_long[_i].err);
    ck_assert_ptr_null(ledger_find(t.id));
    stop();
}
END_TEST

/* How a certificate's pieces end: a card with no certificate (6B00 at
 * once: CL_ERR_SW 6B00); one of exactly 256 bytes (the second piece 6B00:
 * the certificate is the first piece, here no certificate); four full
 * pieces (1,024 bytes, all the server keeps: no fifth piece is taken from
 * the next certificate's); a piece with an odd status word (9001, which
 * no READ BINARY expectation may take for a match: CL_ERR_SW 9001, not a
 * short script). */
static const struct {
    size_t pad[4];
    uint16_t sw0, sw1;
    size_t tamper_at;   /* 0: none */
    int err;
    uint16_t sw;
} cert_ends[] = {
    {{0, 0, 0, 0}, 0x6B00, 0, 0, CL_ERR_SW, 0x6B00},
    {{256, 0, 0, 0}, 0, 0x6B00, 0, CL_ERR_CERT_PARSE, 0},
    {{256, 256, 256, 256}, 0, 0, 0, CL_ERR_CERT_PARSE, 0},
    {{0, 0, 0, 0}, 0, 0, 257, CL_ERR_SW, 0x9001},
};

START_TEST(purchase_cert_ends)
{
    const struct cl_server_result *res;
    struct cl_txn t;

    start(0);
    memcpy(holder.read_pad, cert_ends[_i].pad, sizeof(holder.read_pad));
    holder.read_sw[0] = cert_ends[_i].sw0;
    holder.read_sw[1] = cert_ends[_i].sw1;
    if (cert_ends[_i].tamper_at != 0) {
        tamper.on = true;
        tamper.ins = 0xB0;
        tamper.at = cert_ends[_i].tamper_at;   /* SW2 of a 256-byte piece */
        tamper.x = 0x01;
    }
    res = purchase_run(&t, 100);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_int_eq(res->err, cert_ends[_i].err);
    ck_assert_uint_eq(res->sw, cert_ends[_i].sw);
    ck_assert_ptr_null(ledger_find(t.id));
    stop();
}
END_TEST

/* A card without a purse (GET BALANCE refused) still buys with a cache
 * configured: approved, its status word not reported, nothing cached. */
START_TEST(purchase_no_purse_cached)
{
    static struct cl_server_cert_cache cc;
    const struct cl_server_result *res;
    struct cl_txn t;

    start(0);
    cl_server_cert_cache_init(&cc);
    scfg.cert_cache = &cc;
    tamper.on = true;
    tamper.ins = 0x5C;
    tamper.at = 18;                /* SW1 after balance .. serial */
    tamper.x = 0x90 ^ 0x6A;        /* 9000 -> 6A00 */
    res = purchase_run(&t, 100);
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_APPROVED);
    ck_assert_uint_eq(res->sw, 0);
    ck_assert(!cc.e[0].used);
    /* after a card with a purse was cached on this device: the guess
     * misses on the purse, the full read too, and still nothing of this
     * card is cached */
    tamper.on = false;
    res = purchase_run(&t, 100);
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert(cc.e[0].used);
    tamper.on = true;
    res = purchase_run(&t, 100);
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_APPROVED);
    ck_assert_mem_eq(res->serial, "\0\0\0\0\0\0\0\0", 8);
    ck_assert(!cc.e[1].used);
    stop();
}
END_TEST

/* A result holds only what its own flow found: a relayed APDU after an
 * authentication (two tries, a serial, a wrong PIN's SW) reports none. */
START_TEST(result_fields_reset)
{
    static const uint8_t gb[5] = {0x80, 0x5C, 0x00, 0x00, 0x00};
    const struct cl_server_result *res;
    struct cl_relay_pin pin = cl_server_pin_cardlink();
    struct cl_txn t;

    start(0);
    holder.pins[0] = "1111";
    auth_txn(&t);
    ck_assert_int_eq(cl_server_authenticate(&srv, now_ms, &t, &pin), CL_OK);
    res = run_flow();
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_uint_eq(res->tries, 2);
    ck_assert_mem_ne(res->serial, "\0\0\0\0\0\0\0\0", 8);
    ck_assert_int_eq(cl_server_apdu(&srv, now_ms, gb, sizeof(gb), NULL), CL_OK);
    res = run_flow();
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_uint_eq(res->tries, 0);
    ck_assert_uint_eq(res->sw, 0);
    ck_assert_mem_eq(res->serial, "\0\0\0\0\0\0\0\0", 8);
    /* a purchase (the library's PIN template), then an authentication
     * without one: it asks no PIN */
    holder.pin_i = 0;
    holder.pins[0] = "2468";
    res = purchase_run(&t, 100);
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert(last_has_pin);
    auth_txn(&t);
    ck_assert_int_eq(cl_server_authenticate(&srv, now_ms, &t, NULL), CL_OK);
    res = run_flow();
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert(!last_has_pin);
    stop();
}
END_TEST

/* The card signed but the ledger cannot record the outcome: the flow
 * ends FAILED with the ledger's error, not APPROVED. */
START_TEST(purchase_commit_fails)
{
    const struct cl_server_result *res;
    struct cl_txn t;

    start(0);
    commit_fail = CL_ERR_IO;
    res = purchase_run(&t, 100);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_int_eq(res->err, CL_ERR_IO);
    ck_assert_uint_eq(ledger_commits, 1);
    /* a failed signature whose FAILED the ledger cannot record either:
     * the signature's error is the one reported */
    holder.corrupt_sig = true;
    res = purchase_run(&t, 100);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_int_eq(res->err, CL_ERR_SIGNATURE);
    ck_assert_uint_eq(ledger_commits, 2);
    stop();
}
END_TEST

/* The id was not in the ledger when the flow started but another context
 * began it before this one's begin(): ALREADY, answered from that record
 * (recorded, its outcome), no approval sent. */
START_TEST(purchase_begin_race)
{
    const struct cl_server_result *res;
    struct cl_txn t;
    unsigned reqs;

    start(0);
    res = purchase_run(&t, 100);
    ck_assert_int_eq(res->err, CL_OK);
    get_blind = true;
    reqs = dev_requests;
    ck_assert_int_eq(cl_server_purchase(&srv, now_ms, &t, NULL), CL_OK);
    res = run_flow();
    ck_assert(res->recorded);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_APPROVED);
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_uint_eq(dev_requests - reqs, 1);   /* the READ only */
    ck_assert_uint_eq(ledger_commits, 1);
    stop();
}
END_TEST

/* The ledger cannot say whether it knows the id: nothing starts, nothing
 * reaches the device, and the server takes the next flow. */
START_TEST(ledger_get_fails)
{
    const struct cl_server_result *res;
    struct cl_txn t;

    start(0);
    get_fail = CL_ERR_IO;
    purchase_txn(&t, 100);
    ck_assert_int_eq(cl_server_purchase(&srv, now_ms, &t, NULL), CL_ERR_IO);
    ck_assert_uint_eq(cl_server_flow(&srv), CL_SERVER_FLOW_NONE);
    ck_assert_uint_eq(dev_requests, 0);
    get_fail = 0;
    ck_assert_int_eq(cl_server_purchase(&srv, now_ms, &t, NULL), CL_OK);
    res = run_flow();
    ck_assert_int_eq(res->err, CL_OK);
    stop();
}
END_TEST

START_TEST(purchase_args)
{
    struct cl_txn t;

    start(0);
    purchase_txn(&t, 0);
    ck_assert_int_eq(cl_server_purchase(&srv, now_ms, &t, NULL), CL_ERR_ARG);   /* zero */
    purchase_txn(&t, 10);
    t.kind = CL_TXN_EMONEY_LOAD;
    ck_assert_int_eq(cl_server_purchase(&srv, now_ms, &t, NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_server_purchase(NULL, now_ms, &t, NULL), CL_ERR_ARG);
    ck_assert_uint_eq(cl_server_flow(&srv), CL_SERVER_FLOW_NONE);
    ck_assert_uint_eq(dev_requests, 0);
    /* a PIN template: empty, or longer than the 32 bytes the server keeps,
     * is refused before anything is sent; 32 bytes are taken whole */
    {
        struct cl_relay_pin pin = cl_server_pin_cardlink();
        uint8_t tpl[33];
        memset(tpl, 0xFF, sizeof(tpl));
        memcpy(tpl, "\x00\x20\x00\x80\x1B\x24", 6);
        pin.apdu.data = tpl;
        pin.apdu.len = 0;
        purchase_txn(&t, 10);
        ck_assert_int_eq(cl_server_purchase(&srv, now_ms, &t, &pin), CL_ERR_ARG);
        pin.apdu.len = 33;
        ck_assert_int_eq(cl_server_purchase(&srv, now_ms, &t, &pin), CL_ERR_ARG);
        ck_assert_uint_eq(cl_server_flow(&srv), CL_SERVER_FLOW_NONE);
        ck_assert_uint_eq(dev_requests, 0);
        pin.apdu.len = 32;
        ck_assert_int_eq(cl_server_purchase(&srv, now_ms, &t, &pin), CL_OK);
        ck_assert(pump());
        ck_assert_uint_eq(last_pin.apdu.len, 32);
        ck_assert_mem_eq(last_pin_apdu, tpl, 32);
        /* (which the device's policy refuses: 27 bytes are no PIN block) */
        ck_assert_int_eq(cl_server_result(&srv)->err, CL_ERR_DENIED);
        ck_assert_uint_eq(policy_refusals, 1);
    }
    stop();
}
END_TEST

START_TEST(purchase_link_cut_resumed)
{
    const struct cl_server_result *res;
    struct cl_txn t;

    start(0);
    purchase_txn(&t, 700);
    cut_at = 2;   /* the TXN-RESULT is lost with the link */
    ck_assert_int_eq(cl_server_purchase(&srv, now_ms, &t, NULL), CL_OK);
    ck_assert(!pump());
    ck_assert_uint_eq(cl_server_flow(&srv), CL_SERVER_FLOW_PURCHASE);
    ck_assert_uint_eq(cl_relay_session_state(cl_server_session(&srv)), CL_RELAY_ST_SUSPENDED);
    /* the device comes back with its token: the session resumes and the
     * TXN-RESULT is replayed */
    ck_assert_int_eq(cl_server_accept(&srv, now_ms), CL_OK);
    ck_assert_int_eq(cl_relay_device_connect(&dev, now_ms), CL_OK);
    ck_assert(pump());
    ck_assert_uint_eq(sev.kind, CL_SERVER_EV_OPEN);
    ck_assert(sev.resumed);
    res = run_flow();
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_APPROVED);
    ck_assert_uint_eq(dev_requests, 2);
    ck_assert_uint_eq(ledger_n, 1);
    ck_assert_uint_eq(ledger_commits, 1);
    stop();
}
END_TEST

START_TEST(purchase_fresh_session_resent)
{
    const struct cl_server_result *res;
    struct cl_txn t;

    start(0);
    purchase_txn(&t, 800);
    cut_at = 2;
    ck_assert_int_eq(cl_server_purchase(&srv, now_ms, &t, NULL), CL_OK);
    ck_assert(!pump());
    /* the device lost its session (a reboot that kept its transaction
     * log): a fresh HELLO; the server sends the TXN-APPROVE again under the
     * same id and the device answers from its log, the card untouched */
    cl_relay_session_free(&dev);
    ck_assert_int_eq(cl_relay_session_setup(&dev, CL_RELAY_DEVICE, &dcfg, drx, sizeof(drx), drb,
                                            sizeof(drb)),
                     CL_OK);
    ck_assert_int_eq(cl_server_accept(&srv, now_ms), CL_OK);
    ck_assert_int_eq(cl_relay_device_connect(&dev, now_ms), CL_OK);
    ck_assert(pump());
    ck_assert_uint_eq(sev.kind, CL_SERVER_EV_OPEN);
    ck_assert(!sev.resumed);
    res = run_flow();
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_APPROVED);
    ck_assert_uint_eq(dev_requests, 2);   /* the resent request never reached the card */
    ck_assert_uint_eq(ledger_commits, 1);
    ck_assert_int_eq(ledger_find(t.id)->amount, -800);
    stop();
}
END_TEST

/* ------------------------------------------------------------ session store */

/* An in-memory session store of one slot (what a database would keep). */
static struct cl_ledger_session mem_ses;
static bool mem_used;
static unsigned mem_finds, mem_drops;

static int m_find(void *ctx, const uint8_t *token, size_t tl, const uint8_t *dev_id, size_t dl,
                  struct cl_ledger_session *out)
{
    (void)ctx;
    mem_finds++;
    if (!mem_used || tl != mem_ses.token_len || memcmp(token, mem_ses.token, tl) != 0 ||
        dl != mem_ses.device_id_len || memcmp(dev_id, mem_ses.device_id, dl) != 0)
        return CL_ERR_NOT_FOUND;
    *out = mem_ses;
    return CL_OK;
}

static int m_save(void *ctx, const struct cl_ledger_session *ses)
{
    (void)ctx;
    ck_assert_uint_le(ses->state_len, CL_SERVER_SNAPSHOT_MAX);
    mem_ses = *ses;
    mem_used = true;
    mem_saves++;
    return CL_OK;
}

static int m_drop(void *ctx, const uint8_t *token, size_t tl)
{
    (void)ctx;
    if (mem_used && tl == mem_ses.token_len && memcmp(token, mem_ses.token, tl) == 0)
        mem_used = false;
    mem_drops++;
    return CL_OK;
}

static int m_expire(void *ctx, uint64_t before)
{
    (void)ctx;
    (void)before;
    return 0;
}

static const struct cl_session_store mem_store = {m_find, m_save, m_drop, m_expire};

static void with_store(void)
{
    mem_used = false;
    mem_saves = mem_finds = mem_drops = 0;
    scfg.sessions = &mem_store;
}

/* The server process dies: its context is gone; a new one on the same
 * config (ledger, store) takes the device's next connection. */
static void server_restart(void)
{
    cl_server_free(&srv);
    cl_server_init(&srv);
    ck_assert_int_eq(cl_server_setup(&srv, &scfg), CL_OK);
    cl_relay_session_disconnect(&dev, now_ms);
    ck_assert_int_eq(cl_server_accept(&srv, now_ms), CL_OK);
    ck_assert_int_eq(cl_relay_device_connect(&dev, now_ms), CL_OK);
}

/* Each money flow: the server dies while the ledger-changing request is
 * out (the answer lost with it: loop 0..2) or before it went out (3): the
 * new context finds the saved session by the device's token, resumes it,
 * and the flow ends once in the ledger. */
START_TEST(restart_restores_flow)
{
    static const uint8_t load_id[16] = {0x4C, 0x4F, 0x41, 0x44, 1, 2, 3, 4,
                                        5, 6, 7, 8, 9, 10, 11, 12};
    const struct cl_server_result *res;
    struct cl_txn t;
    int which = _i % 3;

    if (which == 2 && n_backends() < 2)
        return;   /* a load needs the issuer key: the OpenSSL backend */
    start(which == 2 ? 1 : 0);
    with_store();
    if (which == 0) {
        purchase_txn(&t, 1250);
    } else if (which == 1) {
        purchase_txn(&t, 150);
        t.kind = CL_TXN_PURSE_PAYMENT;
    }
    if (_i < 3) {
        cut_at = 2;   /* the answer is lost with the link and the server */
        if (which == 0)
            ck_assert_int_eq(cl_server_purchase(&srv, now_ms, &t, NULL), CL_OK);
        else if (which == 1)
            ck_assert_int_eq(cl_server_purse_pay(&srv, now_ms, &t, NULL), CL_OK);
        else
            ck_assert_int_eq(cl_server_load(&srv, now_ms, load_id, 500), CL_OK);
        ck_assert(!pump());
    } else {
        /* the server dies after the save, before the TXN-APPROVE went out */
        cut_on_save = true;
        ck_assert_int_eq(cl_server_purchase(&srv, now_ms, &t, NULL), CL_OK);
        ck_assert(!pump());
        ck_assert_uint_eq(dev_requests, 1);
    }
    ck_assert(mem_used);
    ck_assert_uint_eq(ledger_n, 1);
    ck_assert_uint_eq(ledger_rows[0].outcome, CL_LEDGER_PENDING);
    server_restart();
    ck_assert(pump());
    ck_assert_uint_eq(sev.kind, CL_SERVER_EV_OPEN);
    ck_assert(sev.resumed);
    ck_assert_uint_eq(srv.restores, 1);
    ck_assert_uint_ne(cl_server_flow(&srv), CL_SERVER_FLOW_NONE);
    res = run_flow();
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_APPROVED);
    ck_assert_uint_eq(dev_requests, 2);   /* the device executed each request once */
    ck_assert_uint_eq(ledger_n, 1);
    ck_assert_uint_eq(ledger_commits, 1);
    ck_assert_uint_eq(ledger_rows[0].outcome, CL_LEDGER_APPROVED);
    /* the session ends (the server's CLOSE, or the device's): the saved
     * one is dropped */
    if (_i % 2 == 0) {
        ck_assert_int_eq(cl_server_close(&srv, now_ms, CL_RELAY_E_NONE), CL_OK);
    } else {
        ck_assert_int_eq(cl_relay_session_close(&dev, now_ms, CL_RELAY_E_NONE), CL_OK);
        ck_assert(pump());
        ck_assert_uint_eq(sev.kind, CL_SERVER_EV_CLOSED);
    }
    ck_assert(!mem_used);
    stop();
}
END_TEST

/* Two messages from the device in one cl_server_feed(): the purchase's
 * SCRIPT-RESULT (the flow goes on: no event, the TXN-APPROVE queued) and
 * a READER-STATUS behind it. Both are taken in the one call and the
 * notification is raised. */
START_TEST(feed_two_messages)
{
    static uint8_t buf[2048];
    struct cl_relay_header h;
    struct cl_relay_msg m;
    struct cl_txn t;
    const struct cl_server_result *res;
    size_t blen;

    start(0);
    ck_assert(!pump());   /* the HELLO-ACK to the device */
    purchase_txn(&t, 250);
    ck_assert_int_eq(cl_server_purchase(&srv, now_ms, &t, NULL), CL_OK);
    ck_assert(to_device());   /* the SCRIPT, answered */
    ck_assert_uint_eq(dev_requests, 1);
    cl_relay_msg_init(&m, CL_RELAY_READER_STATUS);
    m.u.reader_status = 2;
    ck_assert_int_eq(cl_relay_session_send(&dev, now_ms, &m), CL_OK);
    blen = dev_output(buf, sizeof(buf));
    ck_assert_int_eq(cl_relay_header_decode(buf, blen, &h), CL_OK);
    ck_assert_uint_eq(h.type, CL_RELAY_SCRIPT_RESULT);
    ck_assert_uint_gt(blen, 8u + h.length);   /* the notification follows */
    ck_assert_int_eq(cl_server_feed(&srv, now_ms, buf, blen), (int)blen);
    ck_assert(cl_server_poll(&srv, &sev));
    ck_assert_uint_eq(sev.kind, CL_SERVER_EV_NOTIFY);
    ck_assert_ptr_nonnull(sev.msg);
    ck_assert_uint_eq(sev.msg->type, CL_RELAY_READER_STATUS);
    ck_assert_uint_eq(sev.msg->u.reader_status, 2);
    ck_assert_uint_eq(cl_server_flow(&srv), CL_SERVER_FLOW_PURCHASE);
    res = run_flow();
    ck_assert_uint_eq(res->outcome, CL_LEDGER_APPROVED);
    ck_assert_uint_eq(dev_requests, 2);
    stop();
}
END_TEST

/* cl_server_close() while a flow runs: the flow ends FAILED with
 * CL_ERR_CLOSED (its FLOW_DONE is the event), and the CLOSE goes out. */
START_TEST(close_during_flow)
{
    static const uint8_t gb[5] = {0x80, 0x5C, 0x00, 0x00, 0x00};
    const struct cl_server_result *res;
    struct cl_relay_event ev;
    uint8_t kinds[4];
    unsigned nk = 0;
    int r = 0;
    const uint8_t *p;
    size_t n;

    start(0);
    ck_assert(!pump());
    ck_assert_int_eq(cl_server_apdu(&srv, now_ms, gb, sizeof(gb), NULL), CL_OK);
    ck_assert_int_eq(cl_server_close(&srv, now_ms, CL_RELAY_E_SHUTDOWN), CL_OK);
    ck_assert_uint_eq(cl_server_flow(&srv), CL_SERVER_FLOW_NONE);
    ck_assert(cl_server_poll(&srv, &sev));
    ck_assert_uint_eq(sev.kind, CL_SERVER_EV_FLOW_DONE);
    ck_assert_int_eq(sev.err, CL_ERR_CLOSED);
    res = cl_server_result(&srv);
    ck_assert_uint_eq(res->flow, CL_SERVER_FLOW_RELAY);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_int_eq(res->err, CL_ERR_CLOSED);
    ck_assert(!cl_server_poll(&srv, &sev));
    /* the device reads the request that was queued, then the CLOSE */
    while (r >= 0 && (n = cl_server_pull(&srv, now_ms, &p)) > 0) {
        ck_assert_int_eq(cl_server_sent(&srv, n), CL_OK);
        while (n > 0 && r >= 0) {
            r = cl_relay_session_feed(&dev, now_ms, p, n);
            while (cl_relay_session_poll(&dev, &ev))
                kinds[nk < 4 ? nk++ : 3] = ev.kind;
            if (r > 0) {
                p += r;
                n -= (size_t)r;
            }
        }
    }
    ck_assert_int_eq(r, CL_ERR_CLOSED);
    ck_assert_uint_eq(nk, 2);
    ck_assert_uint_eq(kinds[0], CL_RELAY_EV_REQUEST);
    ck_assert_uint_eq(kinds[1], CL_RELAY_EV_CLOSED);
    ck_assert_uint_eq(cl_relay_session_state(&dev), CL_RELAY_ST_CLOSED);
    stop();
}
END_TEST

/* Bytes that are no relay message, in the middle of a flow: the feed
 * fails with the decoder's error and the flow ends FAILED with it. */
START_TEST(garbage_during_flow)
{
    static const uint8_t gb[5] = {0x80, 0x5C, 0x00, 0x00, 0x00};
    static const uint8_t junk[8] = {0x47, 0x45, 0x54, 0x20, 0x2F, 0x20, 0x48, 0x54};
    const struct cl_server_result *res;

    start(0);
    ck_assert(!pump());
    ck_assert_int_eq(cl_server_apdu(&srv, now_ms, gb, sizeof(gb), NULL), CL_OK);
    ck_assert_int_eq(cl_server_feed(&srv, now_ms, junk, sizeof(junk)), CL_ERR_MALFORMED);
    ck_assert_uint_eq(cl_server_flow(&srv), CL_SERVER_FLOW_NONE);
    ck_assert(cl_server_poll(&srv, &sev));
    ck_assert_uint_eq(sev.kind, CL_SERVER_EV_FLOW_DONE);
    res = cl_server_result(&srv);
    ck_assert_uint_eq(res->flow, CL_SERVER_FLOW_RELAY);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_int_eq(res->err, CL_ERR_MALFORMED);
    stop();
}
END_TEST

/* A purchase with the session store on, the link cut when the device
 * answers its second request (the TXN-APPROVE's answer lost): the session
 * is saved, the ledger row PENDING. */
static void purchase_cut_saved(struct cl_txn *t)
{
    start(0);
    with_store();
    purchase_txn(t, 300);
    cut_at = 2;
    ck_assert_int_eq(cl_server_purchase(&srv, now_ms, t, NULL), CL_OK);
    ck_assert(!pump());
    ck_assert(mem_used);
}

/* A token the store does not hold, or another device's: a fresh session;
 * no store: nothing saved. */
START_TEST(restart_not_found)
{
    struct cl_txn t;

    purchase_cut_saved(&t);
    mem_ses.device_id[0] ^= 1;   /* saved for another device */
    server_restart();
    ck_assert(pump());
    ck_assert_uint_eq(sev.kind, CL_SERVER_EV_OPEN);
    ck_assert(!sev.resumed);
    ck_assert_uint_eq(srv.restores, 0);
    ck_assert_uint_eq(cl_server_flow(&srv), CL_SERVER_FLOW_NONE);
    ck_assert_uint_eq(ledger_rows[0].outcome, CL_LEDGER_PENDING);
    stop();
    start(0);   /* no store */
    purchase_txn(&t, 300);
    ck_assert_int_eq(cl_server_purchase(&srv, now_ms, &t, NULL), CL_OK);
    ck_assert_uint_eq(run_flow()->outcome, CL_LEDGER_APPROVED);
    ck_assert(!srv.persist);
    stop();
}
END_TEST

/* The store holds the device's session but the new context cannot draw
 * the token it resumes under (the random source fails): the connection
 * ends, CLOSED with CL_ERR_CRYPTO; the flow is not resumed, and the ledger
 * row stays pending for a later connection. */
START_TEST(restart_random_fails)
{
    struct cl_txn t;

    purchase_cut_saved(&t);
    server_restart();
    random_fails = true;
    ck_assert(pump());
    random_fails = false;
    ck_assert_uint_eq(sev.kind, CL_SERVER_EV_CLOSED);
    ck_assert_int_eq(sev.err, CL_ERR_CRYPTO);
    /* nothing of the snapshot is left in the context; the store keeps it */
    ck_assert_uint_eq(cl_server_flow(&srv), CL_SERVER_FLOW_NONE);
    ck_assert_uint_eq(cl_relay_session_state(cl_server_session(&srv)), CL_RELAY_ST_IDLE);
    ck_assert_uint_eq(srv.restores, 0);
    ck_assert_uint_eq(srv.restore_failures, 1);
    ck_assert(mem_used);
    ck_assert_uint_eq(ledger_rows[0].outcome, CL_LEDGER_PENDING);
    /* the device's next connection takes the session over and ends the
     * purchase once */
    server_restart();
    ck_assert(pump());
    ck_assert_uint_eq(sev.kind, CL_SERVER_EV_OPEN);
    ck_assert(sev.resumed);
    ck_assert_uint_eq(cl_server_flow(&srv), CL_SERVER_FLOW_PURCHASE);
    ck_assert_uint_eq(run_flow()->outcome, CL_LEDGER_APPROVED);
    ck_assert_uint_eq(ledger_rows[0].outcome, CL_LEDGER_APPROVED);
    ck_assert_uint_eq(ledger_commits, 1);
    stop();
}
END_TEST

/* cl_server_save / cl_server_restore: the same bytes again after a
 * restore; every truncation and a trailing byte refused MALFORMED with the
 * context unchanged; argument errors. */
START_TEST(snapshot_bytes)
{
    static uint8_t a[CL_SERVER_SNAPSHOT_MAX], b[CL_SERVER_SNAPSHOT_MAX + 1];
    static struct cl_server s2;
    struct cl_txn t;
    size_t n, m, i;

    start(0);
    with_store();
    purchase_txn(&t, 990);
    cut_at = 2;
    ck_assert_int_eq(cl_server_purchase(&srv, now_ms, &t, NULL), CL_OK);
    ck_assert(!pump());
    ck_assert_int_eq(cl_server_save(&srv, a, sizeof(a), &n), CL_OK);
    ck_assert_uint_eq(n, mem_ses.state_len);
    if (getenv("CL_SNAPSHOT_SEED") != NULL) {   /* fuzz/corpus/session_restore */
        FILE *f = fopen(getenv("CL_SNAPSHOT_SEED"), "wb");
        ck_assert_ptr_nonnull(f);
        fputc(0x10, f);
        ck_assert_uint_eq(fwrite(a, 1, n, f), n);
        fclose(f);
    }
    ck_assert_mem_eq(a, mem_ses.state, n);
    ck_assert_int_eq(cl_server_save(&srv, a, 10, &m), CL_ERR_BUFFER);
    ck_assert_uint_eq(m, n);
    ck_assert_int_eq(cl_server_save(NULL, a, sizeof(a), &m), CL_ERR_ARG);
    ck_assert_int_eq(cl_server_save(&srv, NULL, 5, &m), CL_ERR_ARG);
    cl_server_init(&s2);
    ck_assert_int_eq(cl_server_restore(&s2, a, n), CL_ERR_ARG);      /* not set up */
    ck_assert_int_eq(cl_server_setup(&s2, &scfg), CL_OK);
    ck_assert_int_eq(cl_server_restore(&s2, NULL, 3), CL_ERR_ARG);
    for (i = 0; i < n; i++) {
        ck_assert_int_eq(cl_server_restore(&s2, a, i), CL_ERR_MALFORMED);
        ck_assert_uint_eq(cl_server_flow(&s2), CL_SERVER_FLOW_NONE);
        ck_assert_uint_eq(cl_relay_session_state(cl_server_session(&s2)), CL_RELAY_ST_IDLE);
    }
    memcpy(b, a, n);
    b[n] = 0;
    ck_assert_int_eq(cl_server_restore(&s2, b, n + 1), CL_ERR_MALFORMED);
    b[4] = 3;   /* format version */
    ck_assert_int_eq(cl_server_restore(&s2, b, n), CL_ERR_MALFORMED);
    b[4] = 2;
    b[5] = 8;   /* no such flow */
    ck_assert_int_eq(cl_server_restore(&s2, b, n), CL_ERR_MALFORMED);
    ck_assert_int_eq(cl_server_restore(&s2, a, n), CL_OK);
    ck_assert_uint_eq(cl_server_flow(&s2), CL_SERVER_FLOW_PURCHASE);
    ck_assert_uint_eq(cl_relay_session_state(cl_server_session(&s2)), CL_RELAY_ST_SUSPENDED);
    ck_assert_int_eq(cl_server_save(&s2, b, sizeof(b), &m), CL_OK);
    ck_assert_uint_eq(m, n);
    ck_assert_mem_eq(a, b, n);
    cl_server_free(&s2);
    stop();
}
END_TEST

/* ------------------------------------------------------------ authentication */

static void auth_txn(struct cl_txn *t)
{
    memset(t, 0, sizeof(*t));
    ck_assert_int_eq(t_random(NULL, t->id, 16), CL_OK);
    t->kind = CL_TXN_AUTHENTICATION;
    t->time.year = 2026;
    t->time.month = 12;
    t->time.day = 6;
    strcpy(t->merchant, "Door 4");
}

START_TEST(auth_approved)
{
    const struct cl_server_result *res;
    struct cl_txn t;

    if (_i == 0)
        seed("auth", 3);
    start(_i);
    seed_op(4);
    auth_txn(&t);
    ck_assert_int_eq(cl_server_authenticate(&srv, now_ms, &t, NULL), CL_OK);
    res = run_flow();
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_APPROVED);
    ck_assert_uint_eq(res->flow, CL_SERVER_FLOW_AUTH);
    ck_assert_uint_eq(res->tries, 1);
    ck_assert_uint_eq(res->account_len, 8);
    ck_assert_mem_eq(res->account, res->serial, 8);
    ck_assert_uint_eq(ledger_n, 0);   /* no money moved */
    ck_assert(!last_has_pin);         /* no template given: no PIN asked */
    stop();
}
END_TEST

START_TEST(auth_wrong_pin_retried)
{
    const struct cl_server_result *res;
    struct cl_relay_pin pin;
    struct cl_relay_msg m;
    static const uint8_t tpl[13] = {0x00, 0x20, 0x00, 0x80, 0x08, 0x24, 0xFF,
                                    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    struct cl_txn t;

    start(0);
    cl_relay_msg_init(&m, CL_RELAY_PIN_VERIFY);
    pin = m.u.pin;
    pin.apdu.data = tpl;
    pin.apdu.len = sizeof(tpl);
    pin.encoding = CL_RELAY_PIN_ISO9564_2;
    pin.min_len = 4;
    pin.max_len = 12;
    pin.offset = 0;
    holder.pins[0] = "1357";
    holder.pins[1] = "2468";
    auth_txn(&t);
    ck_assert_int_eq(cl_server_authenticate(&srv, now_ms, &t, &pin), CL_OK);
    res = run_flow();
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_uint_eq(res->tries, 2);
    ck_assert_mem_ne(res->txn_id, t.id, 16);   /* the retry ran under a fresh id */

    /* every try wrong: FAILED after cfg.auth_tries (3) */
    holder.pin_i = 0;
    holder.pins[0] = holder.pins[1] = holder.pins[2] = holder.pins[3] = "1111";
    auth_txn(&t);
    ck_assert_int_eq(cl_server_authenticate(&srv, now_ms, &t, &pin), CL_OK);
    res = run_flow();
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_int_eq(res->err, CL_ERR_SW);
    ck_assert_uint_eq(res->tries, 3);
    ck_assert_uint_eq(res->sw, 0x63C0);
    stop();
}
END_TEST

START_TEST(auth_bad_signature_and_role)
{
    const struct cl_server_result *res;
    struct cl_txn t;

    start(_i);
    holder.corrupt_sig = true;
    auth_txn(&t);
    ck_assert_int_eq(cl_server_authenticate(&srv, now_ms, &t, NULL), CL_OK);
    res = run_flow();
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_int_eq(res->err, CL_ERR_SIGNATURE);

    holder.corrupt_sig = false;
    holder.swap_auth_cert = true;   /* EF 0101 answers with the signing certificate */
    auth_txn(&t);
    ck_assert_int_eq(cl_server_authenticate(&srv, now_ms, &t, NULL), CL_OK);
    res = run_flow();
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_msg(res->err == CL_ERR_CERT_PURPOSE || res->err == CL_ERR_CERT_KEY_USAGE, "%d",
                  res->err);
    stop();
}
END_TEST

/* ------------------------------------------------------------ purse */

START_TEST(purse_payment)
{
    const struct cl_server_result *res;
    struct cl_ledger_txn *row;
    struct cl_txn t;
    unsigned reqs;

    if (_i == 0)
        seed("purse", 4);
    start(_i);
    seed_op(4);
    purchase_txn(&t, 300);
    t.kind = CL_TXN_PURSE_PAYMENT;
    ck_assert_int_eq(cl_server_purse_pay(&srv, now_ms, &t, NULL), CL_OK);
    res = run_flow();
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_APPROVED);
    ck_assert_uint_eq(res->balance, 2200);
    ck_assert_uint_eq(res->counter, 1);
    ck_assert_uint_eq(ast.balance, 2200);
    row = ledger_find(t.id);
    ck_assert_int_eq(row->amount, -300);
    ck_assert_uint_eq(row->account_len, 8);

    /* replayed id: from the ledger, the purse untouched */
    reqs = dev_requests;
    ck_assert_int_eq(cl_server_purse_pay(&srv, now_ms, &t, NULL), CL_OK);
    res = run_flow();
    ck_assert(res->recorded);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_APPROVED);
    ck_assert_uint_eq(dev_requests, reqs);
    ck_assert_uint_eq(ast.balance, 2200);

    /* a forged receipt */
    holder.corrupt_sig = true;
    purchase_txn(&t, 100);
    t.kind = CL_TXN_PURSE_PAYMENT;
    ck_assert_int_eq(cl_server_purse_pay(&srv, now_ms, &t, NULL), CL_OK);
    res = run_flow();
    ck_assert_int_eq(res->err, CL_ERR_SIGNATURE);
    ck_assert_uint_eq(ledger_find(t.id)->outcome, CL_LEDGER_FAILED);

    /* the whole balance (2100: the forged receipt's DEBIT was made): paid,
     * the purse at 0 */
    holder.corrupt_sig = false;
    ck_assert_uint_eq(ast.balance, 2100);
    purchase_txn(&t, ast.balance);
    t.kind = CL_TXN_PURSE_PAYMENT;
    ck_assert_int_eq(cl_server_purse_pay(&srv, now_ms, &t, NULL), CL_OK);
    res = run_flow();
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_uint_eq(res->balance, 0);
    ck_assert_uint_eq(ast.balance, 0);

    /* a purse holds 32 bits: 2^32 - 1 is asked for (and refused by the
     * card: 6A84), 2^32 is refused before anything is sent */
    reqs = dev_requests;
    purchase_txn(&t, 0x100000000ull);
    t.kind = CL_TXN_PURSE_PAYMENT;
    ck_assert_int_eq(cl_server_purse_pay(&srv, now_ms, &t, NULL), CL_ERR_ARG);
    ck_assert_uint_eq(dev_requests, reqs);
    t.amount = 0xFFFFFFFFu;
    ck_assert_int_eq(cl_server_purse_pay(&srv, now_ms, &t, NULL), CL_OK);
    res = run_flow();
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_uint_eq(res->sw, 0x6A84);

    /* the payee is the receipt's display form: ASCII only, 0x80 anywhere
     * refused before anything is sent */
    reqs = dev_requests;
    purchase_txn(&t, 100);
    t.kind = CL_TXN_PURSE_PAYMENT;
    strcpy(t.merchant, "Caf\xC3\xA9");   /* UTF-8, valid for a purchase */
    ck_assert_int_eq(cl_server_purse_pay(&srv, now_ms, &t, NULL), CL_ERR_ARG);
    strcpy(t.merchant, "C\x80");
    ck_assert_int_eq(cl_server_purse_pay(&srv, now_ms, &t, NULL), CL_ERR_ARG);
    ck_assert_uint_eq(dev_requests, reqs);
    stop();
}
END_TEST

/* ------------------------------------------------------------ session events */

/* What the device says between flows reaches the application as events:
 * CARD-INSERTED with its message, CARD-REMOVED, another notification as
 * NOTIFY; the device's CLOSE as CLOSED with no error. */
START_TEST(session_events)
{
    static const uint8_t atr[4] = {0x3B, 0x02, 0x14, 0x50};
    struct cl_relay_msg m;

    start(0);
    ck_assert(!pump());   /* the HELLO-ACK to the device */
    ck_assert_uint_eq(cl_relay_session_state(&dev), CL_RELAY_ST_OPEN);
    cl_relay_msg_init(&m, CL_RELAY_CARD_INSERTED);
    m.u.card.atr.data = atr;
    m.u.card.atr.len = sizeof(atr);
    m.u.card.protocol = CL_RELAY_PROTO_T0;
    ck_assert_int_eq(cl_relay_session_send(&dev, now_ms, &m), CL_OK);
    ck_assert(pump());
    ck_assert_uint_eq(sev.kind, CL_SERVER_EV_CARD_INSERTED);
    ck_assert(!sev.resumed);   /* an OPEN's word only */
    ck_assert_int_eq(sev.err, CL_OK);
    ck_assert_ptr_nonnull(sev.msg);
    ck_assert_uint_eq(sev.msg->type, CL_RELAY_CARD_INSERTED);
    ck_assert_uint_eq(sev.msg->u.card.atr.len, sizeof(atr));
    ck_assert_mem_eq(sev.msg->u.card.atr.data, atr, sizeof(atr));
    cl_relay_msg_init(&m, CL_RELAY_CARD_REMOVED);
    ck_assert_int_eq(cl_relay_session_send(&dev, now_ms, &m), CL_OK);
    ck_assert(pump());
    ck_assert_uint_eq(sev.kind, CL_SERVER_EV_CARD_REMOVED);
    cl_relay_msg_init(&m, CL_RELAY_READER_STATUS);
    m.u.reader_status = 2;
    ck_assert_int_eq(cl_relay_session_send(&dev, now_ms, &m), CL_OK);
    ck_assert(pump());
    ck_assert_uint_eq(sev.kind, CL_SERVER_EV_NOTIFY);
    ck_assert_uint_eq(sev.msg->type, CL_RELAY_READER_STATUS);
    ck_assert_int_eq(cl_relay_session_close(&dev, now_ms, CL_RELAY_E_NONE), CL_OK);
    ck_assert(pump());
    ck_assert_uint_eq(sev.kind, CL_SERVER_EV_CLOSED);
    ck_assert_int_eq(sev.err, CL_OK);
    stop();
}
END_TEST

/* The device goes silent: after 3K (K = 1 s) the server raises LINK_DEAD
 * (CL_ERR_TIMEOUT), its session kept for a resumption. */
START_TEST(session_link_dead)
{
    uint32_t t0, t;
    const uint8_t *p;
    size_t n;
    unsigned guard = 0;

    start_keepalive = 1;
    start(0);
    t0 = now_ms;
    ck_assert(!pump());   /* the HELLO-ACK to the device (pump() ends idle a few ms on) */
    while (cl_server_want(&srv) != CL_WANT_DONE) {
        ck_assert_uint_lt(guard++, 20);
        while ((n = cl_server_pull(&srv, now_ms, &p)) > 0)   /* keep-alives, lost */
            ck_assert_int_eq(cl_server_sent(&srv, n), CL_OK);
        t = cl_server_timer(&srv, now_ms);
        ck_assert_uint_ne(t, CL_TIMER_NONE);
        now_ms += t;
        ck_assert_int_eq(cl_server_timeout(&srv, now_ms), CL_OK);
    }
    ck_assert(cl_server_poll(&srv, &sev));
    ck_assert_uint_eq(sev.kind, CL_SERVER_EV_LINK_DEAD);
    ck_assert_int_eq(sev.err, CL_ERR_TIMEOUT);
    ck_assert_uint_ge(now_ms - t0, 3000);
    ck_assert_uint_le(now_ms - t0, 3020);
    ck_assert_uint_eq(cl_relay_session_state(cl_server_session(&srv)), CL_RELAY_ST_SUSPENDED);
    stop();
}
END_TEST

/* The device closes the session (a normal CLOSE) instead of answering:
 * the flow ends FAILED with CL_ERR_CLOSED; nothing is left to resume. */
START_TEST(session_closed_mid_flow)
{
    const struct cl_server_result *res;
    struct cl_txn t;

    start(0);
    holder.close_on_request = true;
    holder.close_code = CL_RELAY_E_NONE;
    res = purchase_run(&t, 100);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_int_eq(res->err, CL_ERR_CLOSED);
    ck_assert_uint_eq(cl_server_flow(&srv), CL_SERVER_FLOW_NONE);
    ck_assert_uint_eq(cl_relay_session_state(cl_server_session(&srv)), CL_RELAY_ST_CLOSED);
    ck_assert_ptr_null(ledger_find(t.id));   /* the card was still being read */
    stop();
}
END_TEST

/* Two messages in one feed: a keep-alive (no event) and CARD-INSERTED;
 * the server takes both bytes at once and raises the second's event. */
START_TEST(session_two_in_one_feed)
{
    static const uint8_t atr[4] = {0x3B, 0x02, 0x14, 0x50};
    struct cl_relay_msg m;
    const uint8_t *p;
    size_t n, k;
    uint8_t buf[512];

    start_keepalive = 1;
    start(0);
    ck_assert(!pump());   /* the HELLO-ACK: K = 1 s reaches the device */
    for (n = 0; n < 5; n++) {   /* until the device's keep-alive is due */
        now_ms += cl_relay_session_timer(&dev, now_ms);
        ck_assert_int_eq(cl_relay_session_timeout(&dev, now_ms), CL_OK);
        k = cl_relay_session_pull(&dev, now_ms, &p);
        if (k > 0 && p[1] == CL_RELAY_KEEPALIVE)
            break;
        if (k > 0)
            ck_assert_int_eq(cl_relay_session_sent(&dev, k), CL_OK);   /* an ACK */
    }
    ck_assert_uint_lt(n, 5);
    cl_relay_msg_init(&m, CL_RELAY_CARD_INSERTED);
    m.u.card.atr.data = atr;
    m.u.card.atr.len = sizeof(atr);
    m.u.card.protocol = CL_RELAY_PROTO_T0;
    ck_assert_int_eq(cl_relay_session_send(&dev, now_ms, &m), CL_OK);
    n = dev_output(buf, sizeof(buf));
    ck_assert_uint_eq(buf[1], CL_RELAY_KEEPALIVE);   /* C1 type flags seq ack ref len(2) */
    ck_assert_uint_gt(n, (size_t)(buf[6] << 8 | buf[7]) + CL_RELAY_HEADER_LEN);
    ck_assert_int_eq(cl_server_feed(&srv, now_ms, buf, n), (int)n);
    ck_assert(cl_server_poll(&srv, &sev));
    ck_assert_uint_eq(sev.kind, CL_SERVER_EV_CARD_INSERTED);
    ck_assert_mem_eq(sev.msg->u.card.atr.data, atr, sizeof(atr));
    stop();
}
END_TEST

/* Which server context a device's HELLO resumes (an application with many
 * contexts asks each): the one whose token it carries, not another. The
 * HELLO-ACK then says RESUMED with the server's K and largest message. */
START_TEST(session_resumes_hello)
{
    struct cl_relay_msg m;
    const uint8_t *p;
    size_t n;
    uint8_t tok[64], hello[512];

    start_keepalive = 7;
    start(0);
    ck_assert(!pump());
    cl_relay_session_disconnect(&dev, now_ms);
    cl_server_disconnect(&srv, now_ms);
    ck_assert_int_eq(cl_server_accept(&srv, now_ms), CL_OK);
    ck_assert_int_eq(cl_relay_device_connect(&dev, now_ms), CL_OK);
    n = cl_relay_session_pull(&dev, now_ms, &p);
    ck_assert_uint_gt(n, 0);
    ck_assert_int_eq(cl_relay_decode(p, n, &m), CL_OK);
    ck_assert_uint_eq(m.type, CL_RELAY_HELLO);
    ck_assert_uint_gt(m.u.hello.token.len, 0);
    ck_assert(cl_server_resumes(&srv, &m.u.hello));
    ck_assert(!cl_server_resumes(NULL, &m.u.hello));
    ck_assert_uint_le(m.u.hello.token.len, sizeof(tok));
    memcpy(tok, m.u.hello.token.data, m.u.hello.token.len);
    tok[0] ^= 0x01;
    m.u.hello.token.data = tok;
    ck_assert(!cl_server_resumes(&srv, &m.u.hello));
    ck_assert_uint_le(n, sizeof(hello));
    memcpy(hello, p, n);
    ck_assert_int_eq(cl_relay_session_sent(&dev, n), CL_OK);
    ck_assert_int_eq(cl_server_feed(&srv, now_ms, hello, n), (int)n);
    ck_assert(cl_server_poll(&srv, &sev));
    ck_assert_uint_eq(sev.kind, CL_SERVER_EV_OPEN);
    ck_assert(sev.resumed);
    n = cl_server_pull(&srv, now_ms, &p);
    ck_assert_int_eq(cl_relay_decode(p, n, &m), CL_OK);
    ck_assert_uint_eq(m.type, CL_RELAY_HELLO_ACK);
    ck_assert_uint_eq(m.u.hello_ack.flags, CL_RELAY_HELLO_RESUMED);
    ck_assert_uint_eq(m.u.hello_ack.keepalive, 7);
    ck_assert_uint_eq(m.u.hello_ack.max_msg, CL_SERVER_RX_MAX);
    stop();
}
END_TEST

/* The cache full: a ninth card replaces the entry used least recently, not
 * the oldest one (card 0, used again just before, stays; card 1 goes). The
 * cards differ by serial only (the applet's state edited in place). */
START_TEST(purchase_cert_cache_lru)
{
    static struct cl_server_cert_cache cc;
    const struct cl_server_result *res;
    unsigned k, i, seen[10] = {0};

    start(0);
    cl_server_cert_cache_init(&cc);
    scfg.cert_cache = &cc;
    for (k = 0; k <= CL_SERVER_CERT_CACHE_SLOTS + 1; k++) {
        /* cards 0..7, card 0 again, then card 8 */
        ast.serial[7] = (uint8_t)(k == CL_SERVER_CERT_CACHE_SLOTS ? 0
                                  : k > CL_SERVER_CERT_CACHE_SLOTS ? k - 1 : k);
        res = cached_purchase(100 + k);
        ck_assert_int_eq(res->err, CL_OK);
        ck_assert_uint_eq(res->serial[7], ast.serial[7]);
    }
    ck_assert_uint_eq(cc.hits, 1);   /* card 0's second purchase */
    ck_assert_uint_eq(cc.misses, CL_SERVER_CERT_CACHE_SLOTS + 1u);   /* one per new card */
    /* the cache outlives a context: a new one (a restarted server, the same
     * config) takes the chain, leaf and issuer, from it */
    server_restart();
    ck_assert(pump());
    ck_assert_uint_eq(sev.kind, CL_SERVER_EV_OPEN);
    res = cached_purchase(60);
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_uint_eq(cc.hits, 2);
    for (i = 0; i < CL_SERVER_CERT_CACHE_SLOTS; i++) {
        ck_assert(cc.e[i].used);
        ck_assert_uint_lt(cc.e[i].serial[7], 10);
        seen[cc.e[i].serial[7]]++;
    }
    ck_assert_uint_eq(seen[0], 1);
    ck_assert_uint_eq(seen[1], 0);
    for (i = 2; i <= CL_SERVER_CERT_CACHE_SLOTS; i++)
        ck_assert_uint_eq(seen[i], 1);
    /* every entry names this device; a cheap flow the holder declines
     * keeps the guess, one whose signature fails drops it from all of
     * them, and keeps the entries */
    holder.decline = true;
    res = cached_purchase(40);
    ck_assert_int_eq(res->err, CL_ERR_CANCELLED);
    for (i = 0; i < CL_SERVER_CERT_CACHE_SLOTS; i++)
        ck_assert_uint_eq(cc.e[i].device_id_len, 5);
    holder.decline = false;
    holder.corrupt_sig = true;
    res = cached_purchase(50);
    ck_assert_int_eq(res->err, CL_ERR_SIGNATURE);
    for (i = 0; i < CL_SERVER_CERT_CACHE_SLOTS; i++) {
        ck_assert(cc.e[i].used);
        ck_assert_uint_eq(cc.e[i].device_id_len, 0);
    }
    stop();
}
END_TEST

/* ------------------------------------------------------------ lib/cert backend's cache */

/* The lib/cert backend's cache over the test PKI with a time to live of
 * 100 s: a good card chain (card, issuer) and one whose leaf expired under
 * the same issuer. */
static struct cl_server_crypto_cert cc;
static struct cl_server_crypto ccport;
static struct cl_cert_der cc_anchor[1], good[2], expired[2];

static void cache_rig(void)
{
    static uint8_t card_der[2048], exp_der[2048], iss_der[2048];

    cc_anchor[0].der = root_der;
    cc_anchor[0].len = root_len;
    good[0].der = card_der;
    good[0].len = slurp("card.der", card_der, sizeof(card_der));
    good[1].der = iss_der;
    good[1].len = slurp("issuer.der", iss_der, sizeof(iss_der));
    expired[0].der = exp_der;
    expired[0].len = slurp("bad-expired.der", exp_der, sizeof(exp_der));
    expired[1] = good[1];
    ck_assert_int_eq(cl_server_crypto_cert_init(&cc, &ccport, cc_anchor, 1, 100, t_random, NULL),
                     CL_OK);
}

/* The lib/cert backend keeps a validated chain per leaf and role for
 * ttl_s: a hit within it (not at it), a miss for another leaf under the same
 * issuer -- which is validated on its own, so an expired one is refused
 * even right after a good one -- for another role, and for a clock that
 * went back; a refused chain takes no slot. */
START_TEST(cert_backend_cache)
{
    struct cl_server_crypto port;
    uint64_t t = (uint64_t)time(NULL);

    cache_rig();
    port = ccport;
    ck_assert_ptr_eq(port.ctx, &cc);
    ck_assert_ptr_null(port.issuer_sign);
    ck_assert_int_eq(port.verify(port.ctx, good, 2, CL_CERT_ROLE_CARD_AUTH, t, NULL, NULL, 0),
                     CL_OK);
    ck_assert_uint_eq(cc.misses, 1);
    ck_assert_uint_eq(cc.hits, 0);
    ck_assert_int_eq(port.verify(port.ctx, good, 2, CL_CERT_ROLE_CARD_AUTH, t + 99, NULL, NULL, 0),
                     CL_OK);
    ck_assert_uint_eq(cc.hits, 1);
    /* another leaf, the same issuer: validated, and refused */
    ck_assert_int_eq(port.verify(port.ctx, expired, 2, CL_CERT_ROLE_CARD_AUTH, t, NULL, NULL, 0),
                     CL_ERR_CERT_EXPIRED);
    ck_assert_uint_eq(cc.misses, 2);
    ck_assert_int_eq(port.verify(port.ctx, good, 2, CL_CERT_ROLE_CARD_AUTH, t + 1, NULL, NULL, 0),
                     CL_OK);
    ck_assert_uint_eq(cc.hits, 2);   /* the refused chain took no slot from it */
    /* another role: its own validation (a card's key is no server's) */
    ck_assert_int_eq(port.verify(port.ctx, good, 2, CL_CERT_ROLE_SERVER, t, NULL, NULL, 0),
                     CL_ERR_CERT_PURPOSE);
    ck_assert_uint_eq(cc.misses, 3);
    /* at the end of the time to live, and with the clock gone back: again */
    ck_assert_int_eq(port.verify(port.ctx, good, 2, CL_CERT_ROLE_CARD_AUTH, t + 100, NULL, NULL, 0),
                     CL_OK);
    ck_assert_uint_eq(cc.misses, 4);
    ck_assert_int_eq(port.verify(port.ctx, good, 2, CL_CERT_ROLE_CARD_AUTH, t - 1, NULL, NULL, 0),
                     CL_OK);   /* before every entry's validation */
    ck_assert_uint_eq(cc.misses, 5);
    ck_assert_uint_eq(cc.hits, 2);
    /* arguments */
    ck_assert_int_eq(port.verify(port.ctx, good, 0, CL_CERT_ROLE_CARD_AUTH, t, NULL, NULL, 0),
                     CL_ERR_ARG);
    ck_assert_int_eq(port.verify(port.ctx, good, 2, CL_CERT_ROLE_CARD_AUTH, t, NULL,
                                 (const uint8_t *)"x", 1), CL_ERR_ARG);
    cl_server_crypto_cert_free(&cc);
    cl_server_crypto_cert_free(NULL);
    ck_assert_int_eq(cl_server_crypto_cert_init(NULL, &port, cc_anchor, 1, 0, t_random, NULL),
                     CL_ERR_ARG);
    ck_assert_int_eq(cl_server_crypto_cert_init(&cc, &port, NULL, 1, 0, t_random, NULL),
                     CL_ERR_ARG);
    ck_assert_int_eq(cl_server_crypto_cert_init(&cc, &port, cc_anchor, 1, 0, NULL, NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_server_crypto_cert_init(&cc, &port, cc_anchor, 1, 0, t_random, NULL), CL_OK);
    ck_assert_uint_eq(cc.ttl_s, 3600);   /* 0: an hour */
    cl_server_crypto_cert_free(&cc);
}
END_TEST

/* Its CL_SERVER_CACHE_SLOTS slots are taken in turn, each entry good for
 * its own time to live; a chain refused in a slot leaves that slot empty
 * (the entry it held is gone, not kept over a freed certificate). */
START_TEST(cert_backend_cache_slots)
{
    struct cl_server_crypto port;
    uint64_t t = (uint64_t)time(NULL);
    unsigned k;

    cache_rig();
    port = ccport;
    for (k = 0; k < CL_SERVER_CACHE_SLOTS; k++)   /* t, t + 100, ...: each a new entry */
        ck_assert_int_eq(port.verify(port.ctx, good, 2, CL_CERT_ROLE_CARD_AUTH, t + 100u * k,
                                     NULL, NULL, 0), CL_OK);
    ck_assert_uint_eq(cc.misses, CL_SERVER_CACHE_SLOTS);
    ck_assert_int_eq(port.verify(port.ctx, good, 2, CL_CERT_ROLE_CARD_AUTH, t + 150, NULL, NULL, 0),
                     CL_OK);
    ck_assert_uint_eq(cc.hits, 1);   /* the entry of t + 100 is still there */
    /* the next slot is the first again: the refused chain empties it */
    ck_assert_int_eq(port.verify(port.ctx, expired, 2, CL_CERT_ROLE_CARD_AUTH, t, NULL, NULL, 0),
                     CL_ERR_CERT_EXPIRED);
    ck_assert_int_eq(port.verify(port.ctx, good, 2, CL_CERT_ROLE_CARD_AUTH, t + 50, NULL, NULL, 0),
                     CL_OK);
    ck_assert_uint_eq(cc.misses, CL_SERVER_CACHE_SLOTS + 2);
    ck_assert_uint_eq(cc.hits, 1);
    cl_server_crypto_cert_free(&cc);
}
END_TEST

/* The cache rig's crypto port on backend which (0 lib/cert, 1 OpenSSL);
 * *misses (when not NULL) points at that backend's miss counter. */
static struct cl_server_crypto backend_port(int which, uint32_t **misses)
{
    struct cl_server_crypto port;

    cache_rig();
    port = ccport;
    if (misses != NULL)
        *misses = &cc.misses;
#ifdef CL_HAVE_OPENSSL
    if (which == 1) {
        cl_server_crypto_cert_free(&cc);
        ck_assert_int_eq(cl_server_ossl_init(&cossl, &port, cc_anchor, 1, 64, 0, issuer_key,
                                             issuer_key_len), CL_OK);
        if (misses != NULL)
            *misses = &cossl.misses;
    }
#else
    ck_assert_int_eq(which, 0);
#endif
    return port;
}

static void backend_free(int which)
{
    if (which == 0)
        cl_server_crypto_cert_free(&cc);
#ifdef CL_HAVE_OPENSSL
    else
        cl_server_ossl_free(&cossl);
#endif
}

/* A cached validation never outlives the chain: on both backends, the
 * card's chain validated 50 s before its notAfter is a hit at that last
 * second, and refused (validated again) one second later, well inside the
 * time to live. */
START_TEST(cert_backend_expiry)
{
    struct cl_server_crypto port;
    struct cl_cert c;
    uint64_t until;
    uint32_t *misses = NULL;

    port = backend_port(_i, &misses);
    cl_cert_init(&c);
    ck_assert_int_eq(cl_cert_verify_chain(&c, good, 2, cc_anchor, 1, (uint64_t)time(NULL),
                                          CL_CERT_ROLE_CARD_AUTH, NULL), CL_OK);
    until = cl_cert_valid_until(&c);
    cl_cert_free(&c);
    ck_assert_uint_gt(until, (uint64_t)time(NULL));
    ck_assert_int_eq(port.verify(port.ctx, good, 2, CL_CERT_ROLE_CARD_AUTH, until - 50, NULL,
                                 NULL, 0), CL_OK);
    ck_assert_uint_eq(*misses, 1);
    ck_assert_int_eq(port.verify(port.ctx, good, 2, CL_CERT_ROLE_CARD_AUTH, until, NULL, NULL, 0),
                     CL_OK);
    ck_assert_uint_eq(*misses, 1);   /* a hit */
    ck_assert_int_eq(port.verify(port.ctx, good, 2, CL_CERT_ROLE_CARD_AUTH, until + 1, NULL,
                                 NULL, 0), CL_ERR_CERT_EXPIRED);
    ck_assert_uint_eq(*misses, 2);
    backend_free(_i);
}
END_TEST

/* The cache is keyed by the whole leaf: the card certificate's twin with
 * one signature byte flipped (the same bytes up to its signature, the same
 * length) is validated on its own right after the genuine one was cached,
 * and refused, on both backends. */
START_TEST(cert_backend_twin)
{
    static uint8_t twin_der[2048];
    struct cl_server_crypto port;
    struct cl_cert_der twin[2];
    uint64_t t = (uint64_t)time(NULL);

    port = backend_port(_i, NULL);
    memcpy(twin_der, good[0].der, good[0].len);
    twin_der[good[0].len - 1] ^= 0x01;   /* the last byte of the issuer's signature */
    twin[0].der = twin_der;
    twin[0].len = good[0].len;
    twin[1] = good[1];
    ck_assert_int_eq(port.verify(port.ctx, good, 2, CL_CERT_ROLE_CARD_AUTH, t, NULL, NULL, 0),
                     CL_OK);
    ck_assert_int_eq(port.verify(port.ctx, twin, 2, CL_CERT_ROLE_CARD_AUTH, t + 1, NULL, NULL, 0),
                     CL_ERR_SIGNATURE);
    ck_assert_int_eq(port.verify(port.ctx, good, 2, CL_CERT_ROLE_CARD_AUTH, t + 2, NULL, NULL, 0),
                     CL_OK);
    backend_free(_i);
}
END_TEST

/* ------------------------------------------------------------ load */

#ifdef CL_HAVE_OPENSSL
START_TEST(load_value)
{
    const struct cl_server_result *res;
    struct cl_ledger_txn *row;
    uint8_t id[16];
    unsigned reqs;

    seed("load", 5);
    start(1);
    seed_op(4);
    ck_assert_int_eq(t_random(NULL, id, 16), CL_OK);
    ck_assert_int_eq(cl_server_load(&srv, now_ms, id, 1000), CL_OK);
    res = run_flow();
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_APPROVED);
    ck_assert_uint_eq(res->sw, 0);
    ck_assert_uint_eq(res->balance, 3500);
    ck_assert_uint_eq(res->counter, 1);
    ck_assert_uint_eq(ast.balance, 3500);
    row = ledger_find(id);
    ck_assert_int_eq(row->amount, 1000);
    ck_assert_uint_eq(row->currency, 978);
    ck_assert_uint_eq(row->kind, CL_TXN_EMONEY_LOAD);
    ck_assert_uint_gt(row->receipt_len, 60);
    /* the CREDIT, whole: 80 52 00 00 Lc amount counter txn-id signature Le */
    ck_assert_uint_ge(issuer_cmd_len, 5 + 24 + 8 + 1);
    ck_assert_mem_eq(issuer_cmd, "\x80\x52\x00\x00", 4);
    ck_assert_uint_eq(issuer_cmd[4], issuer_cmd_len - 6);
    ck_assert_mem_eq(issuer_cmd + 5, "\x00\x00\x03\xE8\x00\x00\x00\x00", 8);
    ck_assert_mem_eq(issuer_cmd + 13, id, 16);
    ck_assert_uint_eq(issuer_cmd[29], 0x30);   /* a DER ECDSA signature */
    ck_assert_uint_eq(issuer_cmd[30], issuer_cmd_len - 29 - 3);
    ck_assert_uint_eq(issuer_cmd[issuer_cmd_len - 1], 0x00);

    /* the CREDIT went with the load's transaction id (the device logs its
     * answer under it, and answers a retry from the log) */
    ck_assert(apdu_has_txn);
    ck_assert_mem_eq(apdu_txn, id, 16);

    /* the same load again: nothing reaches the card */
    reqs = dev_requests;
    ck_assert_int_eq(cl_server_load(&srv, now_ms, id, 1000), CL_OK);
    res = run_flow();
    ck_assert(res->recorded);
    ck_assert_uint_eq(dev_requests, reqs);
    ck_assert_uint_eq(ast.balance, 3500);

    /* over the purse's maximum: the card refuses, FAILED with its SW */
    ck_assert_int_eq(t_random(NULL, id, 16), CL_OK);
    ck_assert_int_eq(cl_server_load(&srv, now_ms, id, 100000), CL_OK);
    res = run_flow();
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_uint_eq(res->sw, 0x6A84);
    /* an amount that needs all four bytes (2^24 + 100): signed and sent
     * whole, refused for the maximum; a CREDIT that lost its top byte
     * would have credited 100 */
    ck_assert_int_eq(t_random(NULL, id, 16), CL_OK);
    ck_assert_int_eq(cl_server_load(&srv, now_ms, id, 0x01000064u), CL_OK);
    res = run_flow();
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_uint_eq(res->sw, 0x6A84);

    /* the smallest load, one minor unit; none at all is no load */
    ck_assert_int_eq(t_random(NULL, id, 16), CL_OK);
    reqs = dev_requests;
    ck_assert_int_eq(cl_server_load(&srv, now_ms, id, 0), CL_ERR_ARG);
    ck_assert_int_eq(cl_server_load(&srv, now_ms, NULL, 1), CL_ERR_ARG);
    ck_assert_uint_eq(dev_requests, reqs);
    ck_assert_int_eq(cl_server_load(&srv, now_ms, id, 1), CL_OK);
    res = run_flow();
    ck_assert_uint_eq(res->outcome, CL_LEDGER_APPROVED);
    ck_assert_uint_eq(res->balance, 3501);
    ck_assert_uint_eq(ast.balance, 3501);
    stop();
}
END_TEST

/* The card's answer to CREDIT altered on its way (by the device, or the
 * line): the new balance or counter not what the card would have, or its
 * signature not the card's: FAILED, never APPROVED. A balance that would
 * pass 2^32 - 1 is refused before the card is asked. */
static const struct {
    size_t at;      /* byte of the answer flipped */
    int err;
} credit_tampers[] = {
    { 3, CL_ERR_SIGNATURE },    /* the balance's last byte */
    { 7, CL_ERR_SIGNATURE },    /* the counter's last byte */
    { 20, CL_ERR_SIGNATURE },   /* inside the card's signature */
};

/* An issuer signer that answers a signature of the wrong size: the load
 * fails CL_ERR_CRYPTO and no CREDIT reaches the card; 8 and 72 bytes are
 * sent (and this card refuses a signature that is not its issuer's, unless
 * the real one was exactly 72 bytes long, as a DER P-256 signature is about
 * one time in four). */
static int (*real_issuer_sign)(void *ctx, const uint8_t d[32], uint8_t *sig, size_t size,
                               size_t *len);
static size_t issuer_sign_len, issuer_real_len;

static int sized_issuer_sign(void *ctx, const uint8_t d[32], uint8_t *sig, size_t size,
                             size_t *len)
{
    int r = real_issuer_sign(ctx, d, sig, size, len);
    if (r == CL_OK) {
        issuer_real_len = *len;
        *len = issuer_sign_len;
    }
    return r;
}

static const struct {
    size_t len;
    bool sent;
} issuer_sig_lens[] = { {7, false}, {8, true}, {72, true}, {73, false} };

START_TEST(load_issuer_sig_sizes)
{
    const struct cl_server_result *res;
    uint8_t id[16];

    start(1);
    real_issuer_sign = cport.issuer_sign;
    ck_assert_ptr_nonnull(real_issuer_sign);
    cport.issuer_sign = sized_issuer_sign;
    issuer_sign_len = issuer_sig_lens[_i].len;
    issuer_cmd_len = 0;
    ck_assert_int_eq(t_random(NULL, id, 16), CL_OK);
    ck_assert_int_eq(cl_server_load(&srv, now_ms, id, 1000), CL_OK);
    res = run_flow();
    cport.issuer_sign = real_issuer_sign;
    if (issuer_sig_lens[_i].sent && issuer_real_len == issuer_sig_lens[_i].len) {
        /* the real signature had just that length (DER P-256: 70..72) */
        ck_assert_uint_eq(res->outcome, CL_LEDGER_APPROVED);
        ck_assert_uint_eq(issuer_cmd_len, 30 + issuer_sig_lens[_i].len);
        stop();
        return;
    }
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_uint_eq(ast.balance, 2500);
    if (issuer_sig_lens[_i].sent) {
        ck_assert_uint_eq(issuer_cmd_len, 30 + issuer_sig_lens[_i].len);
        ck_assert_int_eq(res->err, CL_ERR_SW);
    } else {
        ck_assert_uint_eq(issuer_cmd_len, 0);
        ck_assert_int_eq(res->err, CL_ERR_CRYPTO);
    }
    stop();
}
END_TEST

START_TEST(load_receipt_checked)
{
    const struct cl_server_result *res;
    uint8_t id[16];

    start(1);
    tamper.on = true;
    tamper.ins = 0x52;   /* CREDIT */
    tamper.at = credit_tampers[_i].at;
    tamper.x = 0x01;
    ck_assert_int_eq(t_random(NULL, id, 16), CL_OK);
    ck_assert_int_eq(cl_server_load(&srv, now_ms, id, 1000), CL_OK);
    res = run_flow();
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_int_eq(res->err, credit_tampers[_i].err);
    ck_assert_uint_eq(ledger_find(id)->outcome, CL_LEDGER_FAILED);
    stop();
}
END_TEST

/* The ledger cannot record the transaction: the flow ends with the
 * ledger's error and no approval reaches the device (only the reads
 * before it). */
START_TEST(ledger_begin_fails)
{
    const struct cl_server_result *res;
    struct cl_txn t;
    unsigned reqs;

    start(0);
    ledger_fail = CL_ERR_IO;
    reqs = dev_requests;
    res = purchase_run(&t, 250);
    ck_assert_int_eq(res->err, CL_ERR_IO);
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_uint_eq(dev_requests - reqs, 1);   /* the SCRIPT that reads the card */
    ck_assert_ptr_null(ledger_find(t.id));
    stop();
}
END_TEST

START_TEST(egoods_load)
{
    const struct cl_server_result *res;
    uint8_t id[16], first[16], payload[24];

    seed("egoods", 6);
    start(1);
    seed_op(4);
    memset(payload, 0x5A, sizeof(payload));
    /* a ledger that cannot list could not tell a paid item from an unpaid
     * one (below): refused before anything is sent or begun */
    {
        static const struct cl_ledger unlisted = {l_begin, l_commit, l_get, NULL,
                                                  NULL,    NULL,     NULL};
        unsigned reqs = dev_requests;
        scfg.ledger = &unlisted;
        ck_assert_int_eq(cl_server_egoods_load(&srv, now_ms, payload, payload, sizeof(payload),
                                               450, 978),
                         CL_ERR_UNSUPPORTED);
        scfg.ledger = &ledger;
        ck_assert_uint_eq(dev_requests, reqs);
        ck_assert_uint_eq(ledger_n, 0);
    }
    ck_assert_int_eq(t_random(NULL, id, 16), CL_OK);
    ck_assert_int_eq(cl_server_egoods_load(&srv, now_ms, id, payload, sizeof(payload), 450, 978),
                     CL_OK);
    res = run_flow();
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_uint_eq(ast.egoods_count, 1);
    ck_assert_int_eq(ledger_find(id)->amount, 450);
    /* the APPEND RECORD, whole: 00 E2 00 20 Lc len payload signature, no Le */
    ck_assert_mem_eq(issuer_cmd, "\x00\xE2\x00\x20", 4);
    ck_assert_uint_eq(issuer_cmd[4], issuer_cmd_len - 5);
    ck_assert_uint_eq(issuer_cmd[5], sizeof(payload));
    ck_assert_mem_eq(issuer_cmd + 6, payload, sizeof(payload));
    ck_assert_uint_eq(issuer_cmd[6 + sizeof(payload)], 0x30);
    ck_assert_uint_eq(issuer_cmd[7 + sizeof(payload)], issuer_cmd_len - 8 - sizeof(payload));
    /* the APPROVED row keeps the payload it delivered */
    ck_assert_uint_eq(ledger_find(id)->outcome, CL_LEDGER_APPROVED);
    ck_assert_uint_eq(ledger_find(id)->receipt_len, sizeof(payload));
    ck_assert_mem_eq(ledger_find(id)->receipt, payload, sizeof(payload));
    ck_assert_uint_eq(ledger_find(id)->account_len, 8);
    memcpy(first, id, 16);
    /* another id with the same ticket: the card already holds it (6A89)
     * and the ledger has it paid: nothing is charged a second time */
    ck_assert_int_eq(t_random(NULL, id, 16), CL_OK);
    ck_assert_int_eq(cl_server_egoods_load(&srv, now_ms, id, payload, sizeof(payload), 450, 978),
                     CL_OK);
    res = run_flow();
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_int_eq(res->err, CL_ERR_DUPLICATE);
    ck_assert_uint_eq(res->sw, 0x6A89);
    ck_assert_uint_eq(ledger_find(id)->outcome, CL_LEDGER_FAILED);
    ck_assert_uint_eq(ledger_find(id)->receipt_len, 0);
    ck_assert_uint_eq(ast.egoods_count, 1);
    /* rows that do not pay for this item: the same item on another card,
     * another kind whose receipt starts with the item id, a receipt too
     * short to hold the id, and the first delivery's row FAILED (say it
     * expired: the answer was lost). An e-goods row of the card still
     * PENDING may be the one that delivered it: the 6A89 charges nothing
     * (CL_ERR_AGAIN) until that row is decided. */
    {
        struct cl_ledger_txn *row, *pend, *one = ledger_find(first);
        ck_assert_ptr_nonnull(one);
        ck_assert_uint_lt(ledger_n + 4, LEDGER_N);
        row = &ledger_rows[ledger_n++];
        *row = *one;
        row->id[0] ^= 0x01;
        row->account[7] ^= 0x01;
        row = &ledger_rows[ledger_n++];
        *row = *one;
        row->id[0] ^= 0x02;
        row->kind = CL_TXN_EMONEY_LOAD;
        row = &ledger_rows[ledger_n++];
        *row = *one;
        row->id[0] ^= 0x03;
        row->receipt_len = CL_SERVER_EGOODS_MIN - 1;
        one->outcome = CL_LEDGER_FAILED;
        pend = &ledger_rows[ledger_n++];
        *pend = *one;
        pend->id[0] ^= 0x04;
        pend->outcome = CL_LEDGER_PENDING;
        pend->receipt_len = 0;
        ck_assert_int_eq(t_random(NULL, id, 16), CL_OK);
        ck_assert_int_eq(
            cl_server_egoods_load(&srv, now_ms, id, payload, sizeof(payload), 450, 978), CL_OK);
        res = run_flow();
        ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
        ck_assert_int_eq(res->err, CL_ERR_AGAIN);
        ck_assert_uint_eq(res->sw, 0x6A89);
        pend->outcome = CL_LEDGER_FAILED;
    }
    ck_assert_int_eq(t_random(NULL, id, 16), CL_OK);
    ck_assert_int_eq(cl_server_egoods_load(&srv, now_ms, id, payload, sizeof(payload), 450, 978),
                     CL_OK);
    res = run_flow();
    ck_assert_uint_eq(res->outcome, CL_LEDGER_APPROVED);
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_uint_eq(ledger_find(id)->outcome, CL_LEDGER_APPROVED);
    ck_assert_mem_eq(ledger_find(id)->receipt, payload, sizeof(payload));
    ck_assert_int_eq(ledger_find(id)->amount, 450);
    /* paid outranks undecided: a newer PENDING row does not hide the
     * APPROVED one (here as if delivered with the shortest payload, the
     * bare 16-byte item id) */
    {
        struct cl_ledger_txn *paid = ledger_find(id);
        ck_assert_ptr_nonnull(paid);
        paid->receipt_len = CL_SERVER_EGOODS_MIN;
        ck_assert_uint_lt(ledger_n, LEDGER_N);
        ledger_rows[ledger_n] = *paid;
        ledger_rows[ledger_n].id[0] ^= 0x05;
        ledger_rows[ledger_n++].outcome = CL_LEDGER_PENDING;
    }
    ck_assert_int_eq(t_random(NULL, id, 16), CL_OK);
    ck_assert_int_eq(cl_server_egoods_load(&srv, now_ms, id, payload, sizeof(payload), 450, 978),
                     CL_OK);
    res = run_flow();
    ck_assert_int_eq(res->err, CL_ERR_DUPLICATE);
    /* a ledger that cannot list: the flow ends FAILED with its error,
     * nothing charged */
    list_fail = CL_ERR_IO;
    ck_assert_int_eq(t_random(NULL, id, 16), CL_OK);
    ck_assert_int_eq(cl_server_egoods_load(&srv, now_ms, id, payload, sizeof(payload), 450, 978),
                     CL_OK);
    res = run_flow();
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_int_eq(res->err, CL_ERR_IO);
    ck_assert_uint_eq(res->sw, 0x6A89);
    ck_assert_uint_eq(ledger_find(id)->outcome, CL_LEDGER_FAILED);
    list_fail = 0;
    ck_assert_uint_eq(ast.egoods_count, 1);
    /* payloads of 16..64 bytes: the longest is loaded whole, one more or
     * one less is refused before anything is sent */
    {
        uint8_t big[CL_SERVER_EGOODS_MAX + 1];
        unsigned reqs = dev_requests;
        memset(big, 0x6B, sizeof(big));
        ck_assert_int_eq(t_random(NULL, id, 16), CL_OK);
        ck_assert_int_eq(cl_server_egoods_load(&srv, now_ms, id, big, sizeof(big), 1, 978),
                         CL_ERR_ARG);
        ck_assert_int_eq(cl_server_egoods_load(&srv, now_ms, id, big, CL_SERVER_EGOODS_MIN - 1,
                                               1, 978),
                         CL_ERR_ARG);
        ck_assert_int_eq(cl_server_egoods_load(&srv, now_ms, id, big, CL_SERVER_EGOODS_MIN,
                                               (uint64_t)CL_LEDGER_AMOUNT_MAX + 1u, 978),
                         CL_ERR_ARG);
        ck_assert_uint_eq(dev_requests, reqs);
        ck_assert_int_eq(cl_server_egoods_load(&srv, now_ms, id, big, CL_SERVER_EGOODS_MAX,
                                               (uint64_t)CL_LEDGER_AMOUNT_MAX, 978),
                         CL_OK);
        res = run_flow();
        ck_assert_int_eq(res->err, CL_OK);
        ck_assert_uint_eq(ast.egoods_count, 2);
        ck_assert_uint_eq(issuer_cmd[5], CL_SERVER_EGOODS_MAX);
        ck_assert_mem_eq(issuer_cmd + 6, big, CL_SERVER_EGOODS_MAX);
        /* and the shortest, another ticket */
        ck_assert_int_eq(t_random(NULL, id, 16), CL_OK);
        big[0] ^= 0x01;
        ck_assert_int_eq(cl_server_egoods_load(&srv, now_ms, id, big, CL_SERVER_EGOODS_MIN, 1,
                                               978),
                         CL_OK);
        res = run_flow();
        ck_assert_int_eq(res->err, CL_OK);
        ck_assert_uint_eq(issuer_cmd[5], CL_SERVER_EGOODS_MIN);
        ck_assert_uint_eq(ast.egoods_count, 3);
    }
    /* a load after the longest e-goods command: its CREDIT ends with Le 00,
     * and the ledger keeps the card's receipt, a DER signature, whole */
    ck_assert_int_eq(t_random(NULL, id, 16), CL_OK);
    ck_assert_int_eq(cl_server_load(&srv, now_ms, id, 10), CL_OK);
    res = run_flow();
    ck_assert_int_eq(res->err, CL_OK);
    ck_assert_uint_eq(issuer_cmd[4], issuer_cmd_len - 6);
    ck_assert_uint_eq(issuer_cmd[issuer_cmd_len - 1], 0x00);
    ck_assert_uint_eq(ledger_find(id)->receipt[0], 0x30);
    ck_assert_uint_eq(ledger_find(id)->receipt_len, ledger_find(id)->receipt[1] + 2u);
    /* a refusal (the device turns 9000 into 6A00) ends it FAILED with the SW */
    tamper.on = true;
    tamper.ins = 0xE2;
    tamper.at = 0;
    tamper.x = 0x90 ^ 0x6A;
    ck_assert_int_eq(t_random(NULL, id, 16), CL_OK);
    payload[0] ^= 0x01;   /* another ticket */
    ck_assert_int_eq(cl_server_egoods_load(&srv, now_ms, id, payload, sizeof(payload), 450, 978),
                     CL_OK);
    res = run_flow();
    ck_assert_uint_eq(res->outcome, CL_LEDGER_FAILED);
    ck_assert_int_eq(res->err, CL_ERR_SW);
    ck_assert_uint_eq(res->sw, 0x6A00);
    ck_assert_uint_eq(ledger_find(id)->outcome, CL_LEDGER_FAILED);
    stop();
}
END_TEST
#endif

START_TEST(load_without_issuer_key)
{
    uint8_t id[16] = {1};

    start(0);
    ck_assert_int_eq(cl_server_load(&srv, now_ms, id, 10), CL_ERR_UNSUPPORTED);
    stop();
}
END_TEST

/* ------------------------------------------------------------ engine contract */

START_TEST(null_contract)
{
    struct cl_server_event ev;
    const uint8_t *p = (const uint8_t *)"x";

    ck_assert_int_eq(cl_server_setup(NULL, &scfg), CL_ERR_ARG);
    ck_assert_uint_eq(cl_server_want(NULL), CL_WANT_FAILED);
    ck_assert_int_eq(cl_server_feed(NULL, 0, NULL, 0), CL_ERR_ARG);
    ck_assert(!cl_server_poll(NULL, &ev));
    ck_assert_uint_eq(cl_server_pull(NULL, 0, &p), 0);
    ck_assert_ptr_null(p);
    ck_assert_uint_eq(cl_server_timer(NULL, 0), CL_TIMER_NONE);
    ck_assert_int_eq(cl_server_timeout(NULL, 0), CL_ERR_ARG);
    ck_assert_ptr_null(cl_server_result(NULL));
    ck_assert_int_eq(cl_server_accept(NULL, 0), CL_ERR_ARG);
    cl_server_free(NULL);
    cl_server_cert_cache_init(NULL);
    cl_server_init(NULL);
    {
        struct cl_server_config bad;
        memset(&bad, 0, sizeof(bad));
        cl_server_init(&srv);
        ck_assert_int_eq(cl_server_setup(&srv, &bad), CL_ERR_ARG);
        ck_assert_uint_eq(cl_server_want(&srv), CL_WANT_FAILED);
    }
    /* initialised, never set up: every call refuses (srv from above) */
    {
        struct cl_relay_msg m;
        cl_relay_msg_init(&m, CL_RELAY_HELLO);
        ck_assert_int_eq(cl_server_sent(&srv, 1), CL_ERR_ARG);
        ck_assert_uint_eq(cl_server_timer(&srv, 0), CL_TIMER_NONE);
        ck_assert_int_eq(cl_server_timeout(&srv, 0), CL_ERR_ARG);
        ck_assert_int_eq(cl_server_close(&srv, 0, CL_RELAY_E_NONE), CL_ERR_ARG);
        ck_assert_int_eq(cl_server_accept(&srv, 0), CL_ERR_ARG);
        ck_assert_int_eq(cl_server_feed(&srv, 0, p, 1), CL_ERR_ARG);
        p = (const uint8_t *)"x";
        ck_assert_uint_eq(cl_server_pull(&srv, 0, &p), 0);
        ck_assert_ptr_null(p);
        ck_assert(!cl_server_resumes(&srv, &m.u.hello));
        ck_assert_int_eq(cl_server_sent(NULL, 1), CL_ERR_ARG);
        ck_assert_int_eq(cl_server_close(NULL, 0, CL_RELAY_E_NONE), CL_ERR_ARG);
    }

    /* not open yet: no flow starts */
    start(0);
    cl_server_free(&srv);
    ck_assert_int_eq(cl_server_setup(&srv, &scfg), CL_OK);
    ck_assert_int_eq(cl_server_apdu(&srv, 0, (const uint8_t *)"\x00\xA4\x00\x00", 4, NULL),
                     CL_ERR_STATE);
    /* no bytes from NULL; no event leaves *ev cleared */
    ck_assert_int_eq(cl_server_feed(&srv, 0, NULL, 1), CL_ERR_ARG);
    ck_assert_int_eq(cl_server_feed(&srv, 0, NULL, 0), 0);
    memset(&ev, 0xA5, sizeof(ev));
    ck_assert(!cl_server_poll(&srv, &ev));
    ck_assert_uint_eq(ev.kind, 0);
    ck_assert_ptr_null(ev.msg);
    stop();
}
END_TEST

/* A purse payment's TXN-RESULT signature in the two forms the protocol
 * allows -- the DEBIT's answer (balance' counter' receipt) or the receipt
 * alone -- approves the same; a prefix that is not the expected balance'
 * and counter' is taken as part of the signature, which then fails. */
START_TEST(purse_receipt_forms)
{
    const struct cl_server_result *res;
    struct cl_txn t;
    unsigned k;

    start(_i);
    for (k = 0; k < 3; k++) {
        holder.debit_form = (uint8_t)k;
        purchase_txn(&t, 100);
        t.kind = CL_TXN_PURSE_PAYMENT;
        ck_assert_int_eq(cl_server_purse_pay(&srv, now_ms, &t, NULL), CL_OK);
        res = run_flow();
        if (k < 2) {
            ck_assert_int_eq(res->err, CL_OK);
            ck_assert_uint_eq(res->outcome, CL_LEDGER_APPROVED);
            ck_assert_uint_eq(res->balance, 2500 - 100 * (k + 1));
            ck_assert_uint_eq(res->counter, k + 1);
        } else {
            ck_assert_int_eq(res->err, CL_ERR_SIGNATURE);
            ck_assert_uint_eq(ledger_find(t.id)->outcome, CL_LEDGER_FAILED);
        }
    }
    stop();
}
END_TEST

static Suite *server_suite(void)
{
    Suite *s = suite_create("server");
    TCase *tc = tcase_create("flows");

    tcase_add_unchecked_fixture(tc, pki_setup, pki_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, relay_apdu);
    tcase_add_test(tc, relay_script_file);
    tcase_add_loop_test(tc, script_parse_table, 0, sizeof(parse_cases) / sizeof(parse_cases[0]));
    tcase_add_loop_test(tc, script_parse_bytes, 0, (int)(sizeof(parse_bytes) / sizeof(parse_bytes[0])));
    tcase_add_test(tc, script_parse_limits);
    tcase_add_loop_test(tc, purchase_approved, 0, n_backends());
    tcase_add_loop_test(tc, purchase_fresh_challenge, 0, n_backends());
    tcase_add_test(tc, purchase_catalogue);
    tcase_add_test(tc, purchase_catalogue_time);
    tcase_add_loop_test(tc, purchase_cert_cache, 0, n_backends());
    tcase_add_loop_test(tc, purchase_bad_signature, 0, n_backends());
    tcase_add_test(tc, purchase_declined_and_wrong_pin);
    tcase_add_loop_test(tc, purchase_wrong_role, 0, n_backends());
    tcase_add_test(tc, purchase_card_removed);
    tcase_add_test(tc, purchase_args);
    tcase_add_test(tc, purchase_link_cut_resumed);
    tcase_add_test(tc, purchase_fresh_session_resent);
    tcase_add_loop_test(tc, restart_restores_flow, 0, 4);
    tcase_add_test(tc, restart_not_found);
    tcase_add_test(tc, restart_random_fails);
    tcase_add_test(tc, snapshot_bytes);
    tcase_add_loop_test(tc, auth_approved, 0, n_backends());
    tcase_add_test(tc, auth_wrong_pin_retried);
    tcase_add_loop_test(tc, auth_bad_signature_and_role, 0, n_backends());
    tcase_add_loop_test(tc, purse_payment, 0, n_backends());
    tcase_add_loop_test(tc, purchase_device_errors, 0,
                        (int)(sizeof(approve_errors) / sizeof(approve_errors[0])));
    tcase_add_test(tc, ledger_get_fails);
    tcase_add_test(tc, purchase_commit_fails);
    tcase_add_test(tc, session_link_dead);
    tcase_add_test(tc, purchase_cert_cache_lru);
    tcase_add_loop_test(tc, purchase_cert_ends, 0, (int)(sizeof(cert_ends) / sizeof(cert_ends[0])));
    tcase_add_test(tc, purchase_no_purse_cached);
    tcase_add_test(tc, purchase_begin_race);
    tcase_add_test(tc, result_fields_reset);
    tcase_add_test(tc, session_closed_mid_flow);
    tcase_add_test(tc, session_two_in_one_feed);
    tcase_add_test(tc, session_resumes_hello);
    tcase_add_loop_test(tc, purchase_cert_too_long, 0, 2);
    tcase_add_loop_test(tc, purse_receipt_forms, 0, n_backends());
    tcase_add_test(tc, cert_backend_cache);
    tcase_add_loop_test(tc, cert_backend_expiry, 0, n_backends());
    tcase_add_loop_test(tc, cert_backend_twin, 0, n_backends());
    tcase_add_test(tc, session_events);
    tcase_add_test(tc, feed_two_messages);
    tcase_add_test(tc, close_during_flow);
    tcase_add_test(tc, garbage_during_flow);
    tcase_add_test(tc, cert_backend_cache_slots);
#ifdef CL_HAVE_OPENSSL
    tcase_add_loop_test(tc, load_issuer_sig_sizes, 0, 4);
    tcase_add_test(tc, load_value);
    tcase_add_loop_test(tc, load_receipt_checked, 0, (int)(sizeof(credit_tampers) / sizeof(credit_tampers[0])));
    tcase_add_test(tc, ledger_begin_fails);
    tcase_add_test(tc, egoods_load);
#endif
    tcase_add_test(tc, load_without_issuer_key);
    tcase_add_test(tc, null_contract);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(server_suite());
}
