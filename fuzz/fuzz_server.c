/*
 * cardlink — libFuzzer target: lib/server (the per-connection engine, its
 * flows, and the script file parser).
 * SPDX-License-Identifier: Apache-2.0
 *
 * Input: byte 0 picks the flow (mod 7: APDU, SCRIPT, purchase,
 * authentication, purse payment, load, e-goods); byte 1 the ports'
 * behaviour (bit 0: chain validation fails, bit 1: signatures fail,
 * bit 2: the ledger's begin() says ALREADY, bit 3: the issuer key fails,
 * bit 4: commit() fails, bit 5: a certificate cache (cfg.cert_cache,
 * empty), bit 6 with bit 5: the cache starts with the chains of the
 * seeds' card (serial C3 55 C3 36 DD 40 CB 43, both roles) last
 * seen on device "dev-1"); then operations, each an opcode byte:
 *   0: feed the next n bytes (n = next byte) as the device's stream bytes
 *   1: pull everything the server sends (each message must decode as a
 *      server's message: a request, ERROR, or a control message)
 *   2: time advances by next byte x 10 ms; timeout
 *   3: the transport drops; accept again
 *   4: start the flow (when the session is open and no flow runs)
 *   5: the rest of the input is a script file: parse every script in it
 *   6: close
 * Random is a counter from 0 (tests/server writes its seeds with the same
 * counter: CL_SERVER_SEED_DIR), so recorded device answers match the
 * transaction ids.
 * Checks: no ledger id is committed twice; a FLOW_DONE only ends a flow
 * that ran; a flow's result is APPROVED only when signatures verified (or
 * none was needed: relay, e-goods); nothing is left running after CLOSE;
 * the cache gains no entry while chains or signatures fail, and its
 * entries stay within their bounds.
 * Seeds with the cache (fuzz/corpus/server, names with "cache"): the
 * tests' seeds with bit 5 (and 6), the device's SCRIPT-RESULTs decoded,
 * rewritten to the dialogue a cache asks for and encoded again (a one-off
 * program over cl_relay_decode / cl_relay_encode): the purchase's read
 * gains GET BALANCE (a miss, then the chain stored); the second flow
 * (opcode 4 inserted) answers GET BALANCE alone (a hit); with bit 6 the
 * first flow hits (purchase_cache_hit, auth_cache_hit) or, its GET
 * BALANCE naming another card, reads the certificates after all
 * (*_other_card, the later messages renumbered); purchase_cache_badsig
 * caches nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
    if (!ok)
        abort();
}

static uint8_t ctr, flags;
static struct cl_server srv;
static struct cl_server_config cfg;
static struct cl_server_crypto crypto;
static struct cl_server_cert_cache cache;
static size_t cache_start;   /* entries the cache started with */

/* The serial of the test card (tests/server) whose answers the seeds
 * carry, and a stand-in chain for it. */
static const uint8_t seed_serial[8] = {0xC3, 0x55, 0xC3, 0x36, 0xDD, 0x40, 0xCB, 0x43};

static void cache_fill(void)
{
    static const uint8_t der[4] = {0x30, 0x02, 0x05, 0x00};
    size_t k;

    for (k = 0; k < 2; k++) {
        struct cl_server_cert_entry *e = &cache.e[k];
        e->used = true;
        e->role = k == 0 ? CL_CERT_ROLE_CARD_AUTH : CL_CERT_ROLE_CARD_SIGN;
        memcpy(e->serial, seed_serial, sizeof(seed_serial));
        memcpy(e->device_id, "dev-1", 5);
        e->device_id_len = 5;
        memcpy(e->leaf, der, sizeof(der));
        e->leaf_len = sizeof(der);
        memcpy(e->issuer, der, sizeof(der));
        e->issuer_len = sizeof(der);
        e->stamp = ++cache.clock;
    }
}

static size_t cache_used(void)
{
    size_t k, n = 0;

    for (k = 0; k < CL_SERVER_CERT_CACHE_SLOTS; k++) {
        const struct cl_server_cert_entry *e = &cache.e[k];
        if (!e->used)
            continue;
        n++;
        check(e->leaf_len > 0 && e->leaf_len <= CL_SERVER_CERT_MAX);
        check(e->issuer_len > 0 && e->issuer_len <= CL_SERVER_CERT_MAX);
        check(e->device_id_len <= CL_LEDGER_DEVICE_ID_MAX);
        check(e->stamp <= cache.clock);
    }
    return n;
}

#define ROWS 8
static struct {
    uint8_t id[16];
    uint8_t outcome;
} rows[ROWS];
static size_t nrows;

static int f_random(void *ctx, uint8_t *out, size_t len)
{
    size_t i;
    (void)ctx;
    for (i = 0; i < len; i++)
        out[i] = ctr++;
    return CL_OK;
}

static int f_sha(void *ctx, const uint8_t *d, size_t n, uint8_t out[32])
{
    size_t i;
    (void)ctx;
    memset(out, 0, 32);
    for (i = 0; i < n; i++)
        out[i % 32] = (uint8_t)(out[i % 32] * 31u + d[i]);
    return CL_OK;
}

static int f_verify(void *ctx, const struct cl_cert_der *chain, size_t n, uint8_t role,
                    uint64_t now_s, const uint8_t digest[32], const uint8_t *sig, size_t sig_len)
{
    (void)ctx;
    (void)now_s;
    (void)digest;
    check(chain != NULL && n == 2 && chain[0].len > 0 && chain[1].len > 0);
    check(role == CL_CERT_ROLE_CARD_AUTH || role == CL_CERT_ROLE_CARD_SIGN);
    if (flags & 1)
        return CL_ERR_CERT_PURPOSE;
    if (sig != NULL) {
        if ((flags & 2) || sig_len == 0)
            return CL_ERR_SIGNATURE;
    }
    return CL_OK;
}

static int f_sign(void *ctx, const uint8_t digest[32], uint8_t *sig, size_t size, size_t *len)
{
    (void)ctx;
    (void)digest;
    if (flags & 8)
        return CL_ERR_CRYPTO;
    check(size >= 70);
    memset(sig, 0x30, 70);
    *len = 70;
    return CL_OK;
}

static uint64_t f_clock(void *ctx)
{
    (void)ctx;
    return 1765000000u;
}

static int l_begin(void *ctx, const struct cl_ledger_txn *t, struct cl_ledger_txn *out)
{
    size_t i;
    (void)ctx;
    check(t->account_len > 0 && t->device_id_len > 0 && t->kind > 0);
    for (i = 0; i < nrows; i++)
        if (memcmp(rows[i].id, t->id, 16) == 0) {
            memset(out, 0, sizeof(*out));
            memcpy(out->id, t->id, 16);
            out->account_len = 1;
            out->outcome = rows[i].outcome;
            return CL_LEDGER_ALREADY;
        }
    if ((flags & 4) || nrows == ROWS) {
        memset(out, 0, sizeof(*out));
        out->account_len = 1;
        out->outcome = CL_LEDGER_APPROVED;
        return CL_LEDGER_ALREADY;
    }
    memcpy(rows[nrows].id, t->id, 16);
    rows[nrows++].outcome = CL_LEDGER_PENDING;
    return CL_LEDGER_NEW;
}

static int l_commit(void *ctx, const uint8_t id[16], uint8_t outcome, const uint8_t *receipt,
                    size_t len, uint64_t now)
{
    size_t i;
    (void)ctx;
    (void)now;
    check((receipt == NULL) == (len == 0) && len <= CL_LEDGER_RECEIPT_MAX);
    check(outcome != CL_LEDGER_PENDING);
    for (i = 0; i < nrows; i++)
        if (memcmp(rows[i].id, id, 16) == 0) {
            check(rows[i].outcome == CL_LEDGER_PENDING);   /* once */
            if (flags & 16)
                return CL_ERR_IO;
            rows[i].outcome = outcome;
            return CL_OK;
        }
    check(false);   /* commit of an id never begun */
    return CL_ERR_NOT_FOUND;
}

static int l_get(void *ctx, const uint8_t id[16], struct cl_ledger_txn *out)
{
    size_t i;
    (void)ctx;
    for (i = 0; i < nrows; i++)
        if (memcmp(rows[i].id, id, 16) == 0) {
            memset(out, 0, sizeof(*out));
            memcpy(out->id, id, 16);
            out->account_len = 1;
            out->outcome = rows[i].outcome;
            return CL_OK;
        }
    return CL_ERR_NOT_FOUND;
}

/* e-goods' 6A89 check: the rows as e-goods rows of the card (PENDING ones
 * make it wait), and with flags 0x80 first a paid row for the fuzzer's
 * one payload; flags 16 fails it. */
static int l_list(void *ctx, const struct cl_ledger_filter *f, cl_ledger_txn_cb cb, void *arg)
{
    static struct cl_ledger_txn t;
    size_t i;
    int r;
    (void)ctx;
    check(f != NULL && f->account != NULL && f->account_len > 0 && cb != NULL);
    if (flags & 16)
        return CL_ERR_IO;
    memset(&t, 0, sizeof(t));
    t.kind = CL_TXN_EGOODS_LOAD;
    if (flags & 0x80) {
        t.outcome = CL_LEDGER_APPROVED;
        t.receipt_len = 24;
        memset(t.receipt, 0x5A, 24);
        if ((r = cb(arg, &t)) != 0)
            return r;
        t.receipt_len = 0;
    }
    for (i = nrows; i-- > 0;) {
        memcpy(t.id, rows[i].id, 16);
        t.outcome = rows[i].outcome;
        if ((r = cb(arg, &t)) != 0)
            return r;
    }
    return CL_OK;
}

static const struct cl_ledger ledger = {l_begin, l_commit, l_get, NULL, l_list, NULL, NULL};

static void fill_txn(struct cl_txn *t, uint8_t kind, uint64_t amount, const char *payee)
{
    memset(t, 0, sizeof(*t));
    (void)f_random(NULL, t->id, 16);
    t->kind = kind;
    t->has_amount = amount > 0;
    t->amount = amount;
    t->currency = amount > 0 ? 978 : 0;
    t->exponent = amount > 0 ? 2 : 0;
    t->time.year = 2026;
    t->time.month = 12;
    t->time.day = 6;
    t->time.hour = 15;
    strcpy(t->merchant, payee);
}

static const char script_text[] = "00 A4 04 00 07 F0434C50415901 sw=9000\n805C000000 sw=any\n";

static void start_flow(uint8_t which)
{
    static struct cl_txn t;
    static const uint8_t gb[5] = {0x80, 0x5C, 0x00, 0x00, 0x00};
    uint8_t id[16], payload[24];
    int r = CL_OK;

    if (cl_server_flow(&srv) != CL_SERVER_FLOW_NONE || cl_server_want(&srv) == CL_WANT_DONE)
        return;
    switch (which % 7) {
    case 0:
        r = cl_server_apdu(&srv, 0, gb, sizeof(gb), NULL);
        break;
    case 1: {
        struct cl_relay_script sc;
        uint8_t buf[64];
        size_t used;
        check(cl_server_script_parse(script_text, sizeof(script_text) - 1, &sc, buf, sizeof(buf),
                                     &used, NULL) == CL_OK);
        r = cl_server_script(&srv, 0, &sc);
        break;
    }
    case 2:
        fill_txn(&t, CL_TXN_PURCHASE, 1250, "Cafe Rosa");
        r = cl_server_purchase(&srv, 0, &t, NULL);
        break;
    case 3:
        fill_txn(&t, CL_TXN_AUTHENTICATION, 0, "Door 4");
        r = cl_server_authenticate(&srv, 0, &t, NULL);
        break;
    case 4:
        fill_txn(&t, CL_TXN_PURSE_PAYMENT, 300, "Cafe Rosa");
        r = cl_server_purse_pay(&srv, 0, &t, NULL);
        break;
    case 5:
        (void)f_random(NULL, id, 16);
        r = cl_server_load(&srv, 0, id, 1000);
        break;
    default:
        (void)f_random(NULL, id, 16);
        memset(payload, 0x5A, sizeof(payload));
        r = cl_server_egoods_load(&srv, 0, id, payload, sizeof(payload), 450, 978);
        break;
    }
    (void)r;
}

static void drain(uint32_t now)
{
    const uint8_t *p;
    size_t n;
    struct cl_relay_msg m;

    while ((n = cl_server_pull(&srv, now, &p)) > 0) {
        check(cl_relay_decode(p, n, &m) == CL_OK);
        check(CL_RELAY_IS_REQUEST(m.type) || m.type == CL_RELAY_ERROR ||
              m.type == CL_RELAY_HELLO_ACK || m.type == CL_RELAY_KEEPALIVE ||
              m.type == CL_RELAY_CLOSE);
        check(cl_server_sent(&srv, n) == CL_OK);
    }
}

static void events(void)
{
    struct cl_server_event ev;

    while (cl_server_poll(&srv, &ev)) {
        if (ev.kind == CL_SERVER_EV_FLOW_DONE) {
            const struct cl_server_result *r = cl_server_result(&srv);
            check(r->flow != CL_SERVER_FLOW_NONE);
            check(cl_server_flow(&srv) == CL_SERVER_FLOW_NONE);
            if (r->outcome == CL_LEDGER_APPROVED && !r->recorded &&
                r->flow != CL_SERVER_FLOW_RELAY && r->flow != CL_SERVER_FLOW_EGOODS)
                check((flags & 3) == 0);
        }
    }
    /* nothing verified: nothing cached */
    check(cache_used() == cache_start || (flags & 3) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t i = 2;
    uint32_t now = 0;
    uint8_t which;

    if (size < 2)
        return 0;
    which = data[0];
    flags = data[1];
    ctr = 0;
    nrows = 0;
    memset(&crypto, 0, sizeof(crypto));
    crypto.random = f_random;
    crypto.sha256 = f_sha;
    crypto.verify = f_verify;
    crypto.issuer_sign = f_sign;
    memset(&cfg, 0, sizeof(cfg));
    cfg.ledger = &ledger;
    cfg.crypto = &crypto;
    cfg.clock = f_clock;
    cfg.keepalive_s = 1;
    cl_server_cert_cache_init(&cache);
    if (flags & 0x20) {
        cfg.cert_cache = &cache;
        if (flags & 0x40)
            cache_fill();
    }
    cache_start = cache_used();
    cl_server_init(&srv);
    check(cl_server_setup(&srv, &cfg) == CL_OK);
    check(cl_server_accept(&srv, now) == CL_OK);
    while (i < size) {
        uint8_t op = data[i++];
        switch (op % 7) {
        case 0: {
            size_t n = i < size ? data[i++] : 0, off = 0;
            if (n > size - i)
                n = size - i;
            while (off < n) {
                int r = cl_server_feed(&srv, now, data + i + off, n - off);
                events();
                if (r < 0)
                    break;
                if (r == 0 && cl_server_want(&srv) != CL_WANT_DONE)
                    break;
                off += (size_t)r;
            }
            i += n;
            break;
        }
        case 1:
            drain(now);
            break;
        case 2:
            now += (i < size ? data[i++] : 0) * 10u;
            {
                /* an error from timeout() is the session's sticky one */
                int r = cl_server_timeout(&srv, now);
                check(r == CL_OK || r == cl_relay_session_error(cl_server_session(&srv)));
            }
            events();
            break;
        case 3:
            cl_server_disconnect(&srv, now);
            if (cl_server_accept(&srv, now) != CL_OK)
                check(cl_server_want(&srv) != CL_WANT_RECV);
            break;
        case 4:
            start_flow(which);
            events();
            break;
        case 5: {
            struct cl_relay_script sc;
            static uint8_t buf[4096];
            size_t used = 0, off = i;
            int r;
            while (off < size &&
                   (r = cl_server_script_parse((const char *)data + off, size - off, &sc, buf,
                                               sizeof(buf), &used, NULL)) != CL_ERR_NOT_FOUND) {
                if (r == CL_OK) {
                    size_t k;
                    check(sc.nsteps >= 1 && sc.nsteps <= CL_RELAY_SCRIPT_MAX);
                    for (k = 0; k < sc.nsteps; k++)
                        check(sc.steps[k].apdu.len >= 4 &&
                              sc.steps[k].apdu.data >= buf &&
                              sc.steps[k].apdu.data + sc.steps[k].apdu.len <= buf + sizeof(buf));
                } else if (used == 0) {
                    break;
                }
                if (used == 0)
                    break;
                off += used;
            }
            i = size;
            break;
        }
        default:
            {
                int rc = cl_server_close(&srv, now, CL_RELAY_E_NONE);
                (void)rc;   /* CL_ERR_STATE / CL_ERR_CLOSED when not open */
            }
            events();
            check(cl_server_flow(&srv) == CL_SERVER_FLOW_NONE);
            break;
        }
    }
    drain(now);
    events();
    cl_server_free(&srv);
    return 0;
}
