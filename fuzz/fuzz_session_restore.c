/*
 * cardlink — libFuzzer target: relay session snapshots
 * (cl_relay_session_restore, docs/protocol.md §8 "Resumption across a
 * restart"), and the server's (cl_server_restore) when lib/server has it.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Input: byte 0: bit 4 set: a lib/server snapshot (cl_server_restore, its
 * relay part inside); else bit 0 the role (0 server, 1 device), bits 1..3
 * the replay buffer size (32 << n bytes); the rest is the snapshot, copied
 * to a heap block of exactly its size so that a read past it is caught.
 * Restore answers CL_OK, CL_ERR_MALFORMED or CL_ERR_LIMIT; a refused
 * snapshot leaves the context as it was (IDLE). A restored one saves again
 * to exactly the same bytes (a lib/server snapshot of format 1: the same
 * but its version byte, now 2), and the session is driven: the transport
 * comes up, a HELLO naming the token (server) or a HELLO-ACK RESUMED
 * (device) arrives, and everything it has to send is pulled.
 */
#include <stdlib.h>
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/relay_session.h"
#include "cardlink/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t devid[7] = {'C', 'L', '-', '0', '0', '0', '1'};
static const uint8_t fresh[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static void drive(struct cl_relay_session *s, uint8_t role, const uint8_t *id, size_t id_len)
{
    struct cl_relay_msg m;
    struct cl_relay_event ev;
    uint8_t wire[256];
    const uint8_t *p;
    size_t len, tl, n, k;
    const uint8_t *tok = cl_relay_session_token(s, &tl);
    uint8_t tcopy[CL_RELAY_TOKEN_MAX];
    int rc;

    if (tl < CL_RELAY_TOKEN_MIN || tl > CL_RELAY_TOKEN_MAX)
        abort();
    memcpy(tcopy, tok, tl);
    if (role == CL_RELAY_SERVER) {
        if (cl_relay_server_accept(s, 1000, fresh, sizeof(fresh)) != CL_OK)
            abort();
        cl_relay_msg_init(&m, CL_RELAY_HELLO);
        m.u.hello.versions.data = (const uint8_t *)"\x01";
        m.u.hello.versions.len = 1;
        m.u.hello.device_id.data = id;
        m.u.hello.device_id.len = id_len;
        m.u.hello.caps.features = CL_RELAY_FEAT_RESUME;
    } else {
        if (cl_relay_device_connect(s, 1000) != CL_OK)
            abort();
        while ((n = cl_relay_session_pull(s, 1000, &p)) > 0)   /* the HELLO */
            if (cl_relay_session_sent(s, n) != CL_OK)
                abort();
        cl_relay_msg_init(&m, CL_RELAY_HELLO_ACK);
        m.u.hello_ack.version = 1;
        m.u.hello_ack.flags = CL_RELAY_HELLO_RESUMED;
    }
    if (role == CL_RELAY_SERVER) {
        m.u.hello.token.data = tcopy;
        m.u.hello.token.len = tl;
    } else {
        m.u.hello_ack.token.data = tcopy;
        m.u.hello_ack.token.len = tl;
    }
    if (cl_relay_encode(&m, wire, sizeof(wire), &len) != CL_OK)
        abort();
    rc = cl_relay_session_feed(s, 1000, wire, len);
    while (cl_relay_session_poll(s, &ev))
        ;
    (void)rc;
    for (k = 0; k < 300 && (n = cl_relay_session_pull(s, 1000, &p)) > 0; k++)
        if (cl_relay_session_sent(s, n) != CL_OK)
            abort();
}

/* ------------------------------------------------------------ lib/server */

static int f_random(void *ctx, uint8_t *out, size_t len)
{
    (void)ctx;
    memset(out, 0x5A, len);
    return CL_OK;
}

static int f_sha256(void *ctx, const uint8_t *d, size_t n, uint8_t out[32])
{
    (void)ctx;
    memset(out, n > 0 ? d[0] : 0, 32);
    return CL_OK;
}

static int f_verify(void *ctx, const struct cl_cert_der *chain, size_t n, uint8_t role,
                    uint64_t now_s, const uint8_t digest[32], const uint8_t *sig, size_t sig_len)
{
    (void)ctx;
    (void)chain;
    (void)n;
    (void)role;
    (void)now_s;
    (void)digest;
    (void)sig;
    return sig_len > 0 && sig_len % 2 == 0 ? CL_OK : CL_ERR_SIGNATURE;
}

static uint64_t f_clock(void *ctx)
{
    (void)ctx;
    return 1765000000u;
}

static int server_case(const uint8_t *snap, size_t n)
{
    static struct cl_server srv;
    static struct cl_server_config cfg;
    static struct cl_server_crypto cr;
    static uint8_t again[CL_SERVER_SNAPSHOT_MAX];
    const struct cl_relay_session *rs;
    uint8_t id[32];
    size_t m;
    int rc;

    memset(&cr, 0, sizeof(cr));
    cr.random = f_random;
    cr.sha256 = f_sha256;
    cr.verify = f_verify;
    memset(&cfg, 0, sizeof(cfg));
    cfg.crypto = &cr;
    cfg.clock = f_clock;
    cl_server_init(&srv);
    if (cl_server_setup(&srv, &cfg) != CL_OK)
        abort();
    rc = cl_server_restore(&srv, snap, n);
    if (rc != CL_OK) {
        if ((rc != CL_ERR_MALFORMED && rc != CL_ERR_LIMIT) ||
            cl_server_flow(&srv) != CL_SERVER_FLOW_NONE ||
            cl_relay_session_state(cl_server_session(&srv)) != CL_RELAY_ST_IDLE)
            abort();
        cl_server_free(&srv);
        return 0;
    }
    /* saved again as format 2: the same bytes (a format 1 snapshot has the
     * same layout: only its version byte differs) */
    if (cl_server_save(&srv, again, sizeof(again), &m) != CL_OK || m != n || n < 5 ||
        again[4] != 2 || memcmp(again, snap, 4) != 0 || memcmp(again + 5, snap + 5, n - 5) != 0)
        abort();
    /* the device comes back: its HELLO names the token and its id */
    rs = cl_server_session(&srv);
    memcpy(id, rs->peer_id, rs->peer_id_len);
    if (cl_server_accept(&srv, 1000) != CL_OK)
        abort();
    {
        struct cl_relay_msg h;
        struct cl_server_event ev;
        uint8_t wire[256], tok[CL_RELAY_TOKEN_MAX];
        const uint8_t *p;
        size_t tl, len, k;
        const uint8_t *t = cl_relay_session_token(rs, &tl);

        memcpy(tok, t, tl);
        cl_relay_msg_init(&h, CL_RELAY_HELLO);
        h.u.hello.versions.data = (const uint8_t *)"\x01";
        h.u.hello.versions.len = 1;
        h.u.hello.device_id.data = id;
        h.u.hello.device_id.len = rs->peer_id_len;
        h.u.hello.token.data = tok;
        h.u.hello.token.len = tl;
        if (cl_relay_encode(&h, wire, sizeof(wire), &len) != CL_OK)
            abort();
        rc = cl_server_feed(&srv, 1000, wire, len);
        while (cl_server_poll(&srv, &ev))
            ;
        (void)rc;
        for (k = 0; k < 300 && (m = cl_server_pull(&srv, 1000, &p)) > 0; k++)
            if (cl_server_sent(&srv, m) != CL_OK)
                abort();
    }
    cl_server_free(&srv);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct cl_relay_session s;
    static struct cl_relay_session_config cfg;
    static uint8_t rx[2048], rb[4096], again[8192];
    uint8_t role, *snap;
    size_t rb_size, n;
    int rc;

    if (size < 1)
        return 0;
    if (data[0] & 0x10u) {
        snap = malloc(size - 1 > 0 ? size - 1 : 1);
        if (snap == NULL)
            return 0;
        memcpy(snap, data + 1, size - 1);
        rc = server_case(snap, size - 1);
        free(snap);
        return rc;
    }
    role = (data[0] & 1u) ? CL_RELAY_DEVICE : CL_RELAY_SERVER;
    rb_size = (size_t)32u << ((data[0] >> 1) & 7u);
    memset(&cfg, 0, sizeof(cfg));
    cfg.device_id = devid;
    cfg.device_id_len = sizeof(devid);
    cfg.caps.features = CL_RELAY_FEAT_RESUME;
    cl_relay_session_init(&s);
    if (cl_relay_session_setup(&s, role, &cfg, rx, sizeof(rx), rb, rb_size) != CL_OK)
        abort();
    snap = malloc(size - 1 > 0 ? size - 1 : 1);
    if (snap == NULL)
        return 0;
    memcpy(snap, data + 1, size - 1);
    rc = cl_relay_session_restore(&s, &cfg, snap, size - 1);
    if (rc != CL_OK) {
        if ((rc != CL_ERR_MALFORMED && rc != CL_ERR_LIMIT) ||
            cl_relay_session_state(&s) != CL_RELAY_ST_IDLE)
            abort();
        free(snap);
        cl_relay_session_free(&s);
        return 0;
    }
    if (cl_relay_session_state(&s) != CL_RELAY_ST_SUSPENDED ||
        cl_relay_session_save(&s, again, sizeof(again), &n) != CL_OK || n != size - 1 ||
        memcmp(again, snap, n) != 0)
        abort();
    free(snap);
    drive(&s, role, devid, sizeof(devid));
    cl_relay_session_free(&s);
    return 0;
}
