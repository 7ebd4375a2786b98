/*
 * cardlink benchmarks — the in-process rig shared by bench_flows.c and
 * load_server.c: one "device slot" is the card simulator with the cardlink
 * applet (personalised by cardlink-perso from cardlink-pki's test PKI), a
 * lib/device controller on its line, and a lib/server context for its
 * connection, joined by memory pipes. A scripted holder pages through the
 * transaction, confirms and types the PIN. The rig counts the relay stream
 * (what TLS would carry as plaintext) both ways: bytes, messages, requests.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Header-only (static functions): each benchmark program includes it once.
 * Paths of the tools come from the build (CL_BENCH_PKI, CL_BENCH_PERSO) or
 * the environment (CL_PKI_TOOL, CL_PERSO_TOOL).
 */
#ifndef CL_BENCH_LOAD_SERVER_H
#define CL_BENCH_LOAD_SERVER_H

#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "applet_crypto.h"
#include "cardlink/applet.h"
#include "cardlink/device.h"
#include "cardlink/error.h"
#include "cardlink/server.h"
#include "cardlink/sim.h"
#ifdef CL_HAVE_OPENSSL
#include "server_crypto_openssl.h"
#endif

#define RIG_PIN "2468"

static void rig_die(const char *what, int rc)
{
    fprintf(stderr, "rig: %s failed (%d: %s)\n", what, rc, cl_strerror(rc));
    exit(2);
}
#define RIG_OK(x) do { int rig_rc_ = (x); if (rig_rc_ < 0) rig_die(#x, rig_rc_); } while (0)

/* ------------------------------------------------------------ PKI, card image */

static char rig_dir[64];
static uint8_t rig_img[CL_APPLET_IMAGE_MAX];
static size_t rig_img_len;
static uint8_t rig_root[2048], rig_issuer_key[512];
static size_t rig_root_len, rig_issuer_key_len;

static size_t rig_slurp(const char *name, uint8_t *buf, size_t max)
{
    char path[128];
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "%s/%s", rig_dir, name);
    f = fopen(path, "rb");
    if (f == NULL)
        rig_die(path, CL_ERR_IO);
    n = fread(buf, 1, max, f);
    fclose(f);
    return n;
}

static const char *rig_tool(const char *env, const char *built)
{
    const char *p = getenv(env);
    return p != NULL ? p : built;
}

#ifndef CL_BENCH_PKI
#define CL_BENCH_PKI "cardlink-pki"
#endif
#ifndef CL_BENCH_PERSO
#define CL_BENCH_PERSO "cardlink-perso"
#endif

/* Make the test PKI and the card image in a temporary directory. */
static void rig_pki(void)
{
    char cmd[1400];
    const char *d = rig_dir;

    strcpy(rig_dir, "/tmp/cl-bench-XXXXXX");
    if (mkdtemp(rig_dir) == NULL)
        rig_die("mkdtemp", CL_ERR_IO);
    snprintf(cmd, sizeof(cmd), "'%s' testpki %s > /dev/null",
             rig_tool("CL_PKI_TOOL", CL_BENCH_PKI), d);
    if (system(cmd) != 0)
        rig_die("cardlink-pki testpki", CL_ERR_IO);
    snprintf(cmd, sizeof(cmd),
             "'%s' --out %s/card.img --card-key %s/card.key.der "
             "--card-cert %s/card.der --sign-key %s/card-sign.key.der "
             "--sign-cert %s/card-sign.der --issuer-cert %s/issuer.der "
             "--root-cert %s/root.der --issuer-pub %s/issuer.der "
             "--balance 2500 --max 100000000 --currency 978 --pin " RIG_PIN " > /dev/null",
             rig_tool("CL_PERSO_TOOL", CL_BENCH_PERSO), d, d, d, d, d, d, d, d);
    if (system(cmd) != 0)
        rig_die("cardlink-perso", CL_ERR_IO);
    rig_img_len = rig_slurp("card.img", rig_img, sizeof(rig_img));
    rig_root_len = rig_slurp("root.der", rig_root, sizeof(rig_root));
    rig_issuer_key_len = rig_slurp("issuer.key.der", rig_issuer_key, sizeof(rig_issuer_key));
    snprintf(cmd, sizeof(cmd), "rm -rf %s", rig_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", rig_dir);
}

/* ------------------------------------------------------------ server ports */

static int rig_random(void *ctx, uint8_t *out, size_t len)
{
    static uint64_t x = 0x9E3779B97F4A7C15u;   /* a benchmark needs no secrecy */
    size_t i;
    (void)ctx;
    for (i = 0; i < len; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        out[i] = (uint8_t)(x >> 24);
    }
    return CL_OK;
}

static uint64_t rig_clock(void *ctx)
{
    (void)ctx;
    return (uint64_t)time(NULL);
}

/* The ledger: a ring of the last rows (the flows only look ids up). */
#define RIG_LEDGER_N 64
static struct cl_ledger_txn rig_rows[RIG_LEDGER_N];
static size_t rig_row_next;

static struct cl_ledger_txn *rig_find(const uint8_t id[16])
{
    size_t i;
    for (i = 0; i < RIG_LEDGER_N; i++)
        if (rig_rows[i].kind != 0 && memcmp(rig_rows[i].id, id, 16) == 0)
            return &rig_rows[i];
    return NULL;
}

static int rig_l_begin(void *ctx, const struct cl_ledger_txn *t, struct cl_ledger_txn *out)
{
    struct cl_ledger_txn *r = rig_find(t->id);
    (void)ctx;
    if (r != NULL) {
        if (out != NULL)
            *out = *r;
        return CL_LEDGER_ALREADY;
    }
    r = &rig_rows[rig_row_next++ % RIG_LEDGER_N];
    *r = *t;
    if (r->kind == 0)
        r->kind = 0xFF;
    r->outcome = CL_LEDGER_PENDING;
    r->receipt_len = 0;
    return CL_LEDGER_NEW;
}

static int rig_l_commit(void *ctx, const uint8_t id[16], uint8_t outcome, const uint8_t *receipt,
                        size_t len, uint64_t now)
{
    struct cl_ledger_txn *r = rig_find(id);
    (void)ctx;
    if (r == NULL)
        return CL_ERR_NOT_FOUND;
    r->outcome = outcome;
    r->decided = now;
    if (len > CL_LEDGER_RECEIPT_MAX)
        len = CL_LEDGER_RECEIPT_MAX;
    if (len > 0)
        memcpy(r->receipt, receipt, len);
    r->receipt_len = (uint16_t)len;
    return CL_OK;
}

static int rig_l_get(void *ctx, const uint8_t id[16], struct cl_ledger_txn *out)
{
    struct cl_ledger_txn *r = rig_find(id);
    (void)ctx;
    if (r == NULL)
        return CL_ERR_NOT_FOUND;
    *out = *r;
    return CL_OK;
}

static const struct cl_ledger rig_ledger = {rig_l_begin, rig_l_commit, rig_l_get,
                                            NULL, NULL, NULL, NULL};

/* The crypto backend: OpenSSL where built (the reference server's), else
 * lib/cert's. rig_cport is what the server contexts use; it wraps the
 * backend's verify to count calls (and, in bench_flows, to measure). */
static struct cl_server_crypto rig_backend, rig_cport;
static struct cl_cert_der rig_roots[1];
#ifdef CL_HAVE_OPENSSL
static struct cl_server_ossl rig_ossl;
#define RIG_BACKEND "OpenSSL (ports/posix/server_crypto_openssl)"
#else
static struct cl_server_crypto_cert rig_ccert;
#define RIG_BACKEND "lib/cert (mbedtls)"
#endif
static unsigned long rig_verifies, rig_verifies_sig;
static void (*rig_verify_hook)(int begin);
/* the last signature verification's arguments, to time it alone */
static struct cl_cert_der rig_last_chain[2];
static uint8_t rig_last_leaf[CL_SERVER_CERT_MAX], rig_last_issuer[CL_SERVER_CERT_MAX];
static uint8_t rig_last_digest[32], rig_last_sig[CL_SERVER_SIG_MAX];
static size_t rig_last_n, rig_last_sig_len;
static uint8_t rig_last_role;

static int rig_verify(void *ctx, const struct cl_cert_der *chain, size_t n, uint8_t role,
                      uint64_t now_s, const uint8_t digest[32], const uint8_t *sig,
                      size_t sig_len)
{
    int rc;
    (void)ctx;
    if (rig_verify_hook != NULL)
        rig_verify_hook(1);
    rc = rig_backend.verify(rig_backend.ctx, chain, n, role, now_s, digest, sig, sig_len);
    if (rig_verify_hook != NULL)
        rig_verify_hook(0);
    rig_verifies++;
    if (sig != NULL && rc == CL_OK && n <= 2 && chain[0].len <= CL_SERVER_CERT_MAX &&
        (n < 2 || chain[1].len <= CL_SERVER_CERT_MAX) && sig_len <= CL_SERVER_SIG_MAX) {
        rig_verifies_sig++;
        memcpy(rig_last_leaf, chain[0].der, chain[0].len);
        rig_last_chain[0].der = rig_last_leaf;
        rig_last_chain[0].len = chain[0].len;
        if (n == 2) {
            memcpy(rig_last_issuer, chain[1].der, chain[1].len);
            rig_last_chain[1].der = rig_last_issuer;
            rig_last_chain[1].len = chain[1].len;
        }
        rig_last_n = n;
        rig_last_role = role;
        memcpy(rig_last_digest, digest, 32);
        memcpy(rig_last_sig, sig, sig_len);
        rig_last_sig_len = sig_len;
    }
    return rc;
}

/* One signature verification with the chain cached (what a purchase with
 * a known card costs in public-key operations). */
static int rig_verify_last(void)
{
    return rig_backend.verify(rig_backend.ctx, rig_last_chain, rig_last_n, rig_last_role,
                              rig_clock(NULL), rig_last_digest, rig_last_sig,
                              rig_last_sig_len);
}

/* (Re)create the backend: an empty certificate cache. */
static void rig_crypto_init(void)
{
    rig_roots[0].der = rig_root;
    rig_roots[0].len = rig_root_len;
#ifdef CL_HAVE_OPENSSL
    RIG_OK(cl_server_ossl_init(&rig_ossl, &rig_backend, rig_roots, 1, 4096, 0, rig_issuer_key,
                               rig_issuer_key_len));
#else
    RIG_OK(cl_server_crypto_cert_init(&rig_ccert, &rig_backend, rig_roots, 1, 0, rig_random,
                                      NULL));
#endif
    rig_cport = rig_backend;
    rig_cport.verify = rig_verify;
}

static void rig_crypto_free(void)
{
#ifdef CL_HAVE_OPENSSL
    cl_server_ossl_free(&rig_ossl);
#else
    cl_server_crypto_cert_free(&rig_ccert);
#endif
}

static struct cl_server_config rig_scfg;
static struct cl_server_cert_cache rig_certs;   /* the server's certificate cache */

static void rig_server_config(void)
{
    memset(&rig_scfg, 0, sizeof(rig_scfg));
    cl_server_cert_cache_init(&rig_certs);
    rig_scfg.cert_cache = &rig_certs;
    rig_scfg.ledger = &rig_ledger;
    rig_scfg.crypto = &rig_cport;
    rig_scfg.clock = rig_clock;
    rig_scfg.merchant = "Cafe Rosa";
}

/* ------------------------------------------------------------ one device slot */

/* Stream counter: one direction of the relay stream. */
struct rig_dir {
    unsigned long bytes, msgs, requests;
    uint8_t hdr[8];
    size_t have;          /* header bytes seen of the current message */
    size_t body_left;
};

struct rig {
    struct cl_applet_state ast;
    struct cl_posix_crypto pcr;
    struct cl_applet_crypto acr;
    struct cl_applet ap;
    struct cl_cardapp app;
    struct cl_sim sim;
    struct cl_dev dev;
    struct cl_server srv;
    uint32_t now;
    bool open, done;
    unsigned card_apdus;
    struct rig_dir s2d, d2s;
};

/* Side hooks: bench_flows measures one side with callgrind. */
static void (*rig_dev_hook)(int begin);
static void (*rig_srv_hook)(int begin);
#define RIG_DEV(x) (rig_dev_hook ? rig_dev_hook(1) : (void)0, (x), \
                    rig_dev_hook ? rig_dev_hook(0) : (void)0)
#define RIG_SRV(x) (rig_srv_hook ? rig_srv_hook(1) : (void)0, (x), \
                    rig_srv_hook ? rig_srv_hook(0) : (void)0)

/* A card-dialogue log (bench_flows: the per-APDU relay comparison). */
#define RIG_LOG_MAX 32
struct rig_log {
    size_t n;
    uint8_t cmd[RIG_LOG_MAX][CL_DEV_CMD_MAX];
    size_t cmd_len[RIG_LOG_MAX];
    uint8_t rsp[RIG_LOG_MAX][300];
    size_t rsp_len[RIG_LOG_MAX];
};
static struct rig_log *rig_log;

static int rig_card(void *ctx, const uint8_t *cmd, size_t n, uint8_t *r, size_t rs, size_t *rl)
{
    struct rig *g = ctx;
    int rc = g->app.process(g->app.ctx, cmd, n, r, rs, rl);
    g->card_apdus++;
    if (rig_log != NULL && rig_log->n < RIG_LOG_MAX && n <= CL_DEV_CMD_MAX && *rl <= 300) {
        memcpy(rig_log->cmd[rig_log->n], cmd, n);
        rig_log->cmd_len[rig_log->n] = n;
        memcpy(rig_log->rsp[rig_log->n], r, *rl);
        rig_log->rsp_len[rig_log->n] = *rl;
        rig_log->n++;
    }
    return rc;
}

static int rig_l_send(void *c, const uint8_t *b, size_t n) { (void)c; (void)b; (void)n; return CL_OK; }
static int rig_l_recv(void *c, uint8_t *b, size_t n, uint32_t *t) { (void)c; (void)b; (void)n; (void)t; return 0; }
static int rig_l_reset(void *c, bool w) { (void)c; (void)w; return CL_OK; }
static int rig_l_params(void *c, const struct cl_card_line_params *p) { (void)c; (void)p; return CL_OK; }
static void rig_l_off(void *c) { (void)c; }
static const struct cl_card_line rig_line = {
    rig_l_send, rig_l_recv, rig_l_reset, rig_l_params, rig_l_off, NULL,
    {4000u, 4000u, 0u, NULL, 0, false, 0}};

static void rig_count(struct rig_dir *d, const uint8_t *p, size_t n)
{
    d->bytes += n;
    while (n > 0) {
        if (d->have < 8) {
            d->hdr[d->have++] = *p++;
            n--;
            if (d->have == 8) {
                struct cl_relay_header h;
                if (cl_relay_header_decode(d->hdr, 8, &h) != CL_OK)
                    rig_die("stream header", CL_ERR_MALFORMED);
                d->msgs++;
                if (CL_RELAY_IS_REQUEST(h.type))
                    d->requests++;
                d->body_left = h.length;
            }
        } else {
            size_t k = n < d->body_left ? n : d->body_left;
            p += k, n -= k, d->body_left -= k;
        }
        if (d->have == 8 && d->body_left == 0)
            d->have = 0;
    }
}

static void rig_holder(struct rig *g)
{
    struct cl_ui_screen scr;
    int r;

    RIG_DEV(r = cl_dev_ui_take(&g->dev, &scr));
    if (r != 1)
        return;
    if (scr.kind == CL_UI_TXN) {
        unsigned key = scr.page + 1u < scr.pages ? CL_UI_KEY_DOWN : CL_UI_KEY_CONFIRM;
        RIG_DEV(r = cl_dev_ui_key(&g->dev, g->now, key));
        RIG_OK(r);
    } else if (scr.kind == CL_UI_PIN) {
        uint8_t digits[4] = {2, 4, 6, 8};
        RIG_DEV(r = cl_dev_ui_pin(&g->dev, g->now, digits, 4));
        RIG_OK(r);
    }
}

/* Move bytes until nobody has anything to do; true when something moved. */
static bool rig_step(struct rig *g)
{
    bool moved = false;
    const uint8_t *p;
    size_t n;
    enum cl_want w;
    unsigned wants;
    int used;
    struct cl_server_event ev;
    bool got;

    RIG_DEV(w = cl_dev_card_want(&g->dev));
    if (w == CL_WANT_CTRL) {
        unsigned c;
        RIG_DEV(c = cl_dev_card_ctrl(&g->dev));
        if (c == CL_CARD_CTRL_COLD || c == CL_CARD_CTRL_WARM)
            RIG_OK(cl_sim_reset(&g->sim, c == CL_CARD_CTRL_WARM));
        else if (c == CL_CARD_CTRL_PARAMS) {
            const struct cl_card_line_params *lp;
            RIG_DEV(lp = cl_dev_card_params(&g->dev));
            used = cl_sim_clock(&g->sim, lp->f, lp->d);   /* a rate it lacks: unchanged */
            (void)used;
        } else if (c == CL_CARD_CTRL_OFF)
            cl_sim_power_off(&g->sim);
        RIG_DEV(used = cl_dev_card_ctrl_done(&g->dev, g->now, CL_OK));
        RIG_OK(used);
        moved = true;
    } else if (w == CL_WANT_SEND) {
        RIG_DEV(n = cl_dev_card_pull(&g->dev, &p));
        used = cl_sim_feed(&g->sim, p, n);
        RIG_OK(used);
        RIG_DEV(used = cl_dev_card_sent(&g->dev, g->now, (size_t)used));
        RIG_OK(used);
        moved = true;
    } else if (w == CL_WANT_RECV) {
        if (cl_sim_want(&g->sim) == CL_SIM_SEND) {
            size_t max;
            RIG_DEV(max = cl_dev_card_recv_max(&g->dev));
            n = cl_sim_pull(&g->sim, &p);
            if (n > max)
                n = max;
            RIG_DEV(used = cl_dev_card_feed(&g->dev, g->now, p, n));
            RIG_OK(used);
            RIG_OK(cl_sim_sent(&g->sim, (size_t)used));
        } else if (cl_sim_timer(&g->sim) != CL_TIMER_NONE) {
            RIG_OK(cl_sim_timeout(&g->sim));
        } else {
            RIG_DEV(used = cl_dev_card_timeout(&g->dev, g->now));
            RIG_OK(used);
        }
        moved = true;
    }
    RIG_DEV(wants = cl_dev_wants(&g->dev));
    if (wants & CL_DEV_W_UI) {
        rig_holder(g);
        moved = true;
    }
    RIG_DEV(n = cl_dev_net_pull(&g->dev, g->now, &p));
    if (n > 0) {
        RIG_SRV(used = cl_server_feed(&g->srv, g->now, p, n));
        RIG_OK(used);
        rig_count(&g->d2s, p, (size_t)used);
        RIG_DEV(used = cl_dev_net_sent(&g->dev, (size_t)used));
        RIG_OK(used);
        moved = true;
    }
    for (;;) {
        RIG_SRV(got = cl_server_poll(&g->srv, &ev));
        if (!got)
            break;
        if (ev.kind == CL_SERVER_EV_OPEN)
            g->open = true;
        else if (ev.kind == CL_SERVER_EV_FLOW_DONE)
            g->done = true;
        else if (ev.kind == CL_SERVER_EV_CLOSED || ev.kind == CL_SERVER_EV_LINK_DEAD)
            rig_die("server session", ev.err ? ev.err : CL_ERR_CLOSED);
        moved = true;
    }
    RIG_SRV(n = cl_server_pull(&g->srv, g->now, &p));
    if (n > 0) {
        RIG_DEV(used = cl_dev_net_feed(&g->dev, g->now, p, n));
        RIG_OK(used);
        rig_count(&g->s2d, p, (size_t)used);
        RIG_SRV(used = cl_server_sent(&g->srv, (size_t)used));
        RIG_OK(used);
        moved = true;
    }
    return moved;
}

static void rig_pump(struct rig *g)
{
    unsigned guard;
    for (guard = 0; guard < 1000000; guard++)
        if (!rig_step(g))
            return;
    rig_die("pump", CL_ERR_STATE);
}

/* Card in, link up, HELLO done. */
static void rig_open(struct rig *g, const uint8_t *dev_id, size_t id_len)
{
    struct cl_dev_config cfg;
    struct cl_sim_config sc;

    memset(g, 0, sizeof(*g));
    g->now = 1000;
    RIG_OK(cl_applet_state_load(&g->ast, rig_img, rig_img_len));
    {
        /* one image for every card (same keys and certificates), but each
         * its own purse serial, as cards in the field: the server's
         * certificate cache is keyed by it (distinct ids, distinct serials) */
        size_t i;
        for (i = 0; i < id_len; i++)
            g->ast.serial[i % sizeof(g->ast.serial)] ^= dev_id[i];
    }
    RIG_OK(cl_posix_crypto_init(&g->pcr, &g->acr, NULL, 0));
    RIG_OK(cl_applet_init(&g->ap, &g->ast, &g->acr, NULL));
    RIG_OK(cl_applet_app(&g->ap, &g->app));
    {
        struct cl_cardapp a = g->app;
        a.process = rig_card;
        a.ctx = g;
        cl_sim_config_default(&sc, true);
        RIG_OK(cl_sim_setup(&g->sim, &sc, &a));
    }

    memset(&cfg, 0, sizeof(cfg));
    cfg.relay.device_id = dev_id;
    cfg.relay.device_id_len = (uint8_t)id_len;
    cfg.relay.caps.features = CL_RELAY_FEAT_RESUME | CL_RELAY_FEAT_TXN | CL_RELAY_FEAT_SCRIPT |
                              CL_RELAY_FEAT_PIN_VERIFY | CL_RELAY_FEAT_DISPLAY;
    cfg.relay.caps.max_msg = CL_DEV_MSG_MAX;
    cfg.relay.caps.script_steps = CL_RELAY_SCRIPT_MAX;
    cfg.relay.ack_delay_ms = 1;
    cfg.policy.flags = CL_POLICY_F_CARDLINK;
    cl_card_config_default(&cfg.card);
    cfg.line = &rig_line;
    cfg.hash.digest = cl_dev_hash_sha256;
    cl_dev_init(&g->dev);
    RIG_OK(cl_dev_setup(&g->dev, &cfg));

    cl_server_init(&g->srv);
    RIG_OK(cl_server_setup(&g->srv, &rig_scfg));
    RIG_OK(cl_server_accept(&g->srv, g->now));
    RIG_OK(cl_dev_net_up(&g->dev, g->now));
    RIG_OK(cl_dev_card_inserted(&g->dev, g->now));
    rig_pump(g);
    if (!g->open)
        rig_die("HELLO", CL_ERR_STATE);
}

static void rig_close(struct rig *g)
{
    cl_server_free(&g->srv);
    cl_dev_free(&g->dev);
    cl_sim_free(&g->sim);
    cl_posix_crypto_free(&g->pcr);
    cl_applet_state_wipe(&g->ast);
}

/* Run the flow just started to its FLOW_DONE; the result must be APPROVED. */
static void rig_finish(struct rig *g)
{
    const struct cl_server_result *res;

    rig_pump(g);
    if (!g->done)
        rig_die("flow did not end", CL_ERR_STATE);
    g->done = false;
    res = cl_server_result(&g->srv);
    if (res->outcome != CL_LEDGER_APPROVED)
        rig_die("flow outcome", res->err ? res->err : CL_ERR_STATE);
}

static void rig_txn(struct cl_txn *t, uint8_t kind, uint64_t amount)
{
    memset(t, 0, sizeof(*t));
    (void)rig_random(NULL, t->id, 16);
    t->kind = kind;
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

/* The flows. */
enum { RIG_PURCHASE, RIG_AUTH, RIG_PURSE, RIG_LOAD };

static int rig_start(struct rig *g, int flow)
{
    struct cl_txn t;
    uint8_t id[16];
    int rc = CL_ERR_ARG;

    switch (flow) {
    case RIG_PURCHASE:
        rig_txn(&t, CL_TXN_PURCHASE, 250);
        RIG_SRV(rc = cl_server_purchase(&g->srv, g->now, &t, NULL));
        break;
    case RIG_AUTH:
        rig_txn(&t, CL_TXN_AUTHENTICATION, 0);
        t.has_amount = false;
        RIG_SRV(rc = cl_server_authenticate(&g->srv, g->now, &t, NULL));
        break;
    case RIG_PURSE:
        rig_txn(&t, CL_TXN_PURSE_PAYMENT, 150);
        RIG_SRV(rc = cl_server_purse_pay(&g->srv, g->now, &t, NULL));
        break;
    case RIG_LOAD:
        (void)rig_random(NULL, id, 16);
        RIG_SRV(rc = cl_server_load(&g->srv, g->now, id, 200));
        break;
    }
    return rc;
}

static void rig_flow(struct rig *g, int flow)
{
    RIG_OK(rig_start(g, flow));
    rig_finish(g);
}

#endif
