/*
 * cardlink — the network stream ports (cardlink/net.h) on loopback:
 * TCP (ports/posix/net_tcp.c), the device's TLS client over mbedtls
 * (tls_mbedtls.c), the server's TLS endpoint over OpenSSL (tls_openssl.c),
 * against each other and against `openssl s_server` / `openssl s_client`.
 * SPDX-License-Identifier: Apache-2.0
 *
 *   test_net CARDLINK-PKI [openssl]
 *
 * Without "openssl": TCP and our client against our server (no openssl
 * program needed). With it: the interoperability cases, exit 77 (skipped)
 * when no openssl program is installed. Each run makes three test PKIs
 * with cardlink-pki: the main one, one from another seed (same names,
 * other keys: "another CA") and one that expired in 2021.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cardlink/cert.h"
#include "cardlink/net.h"
#include "clock_posix.h"
#include "net_tcp.h"
#include "tls_mbedtls.h"
#ifdef CL_HAVE_OPENSSL
#include "tls_openssl.h"
#endif

static const char *pki_tool;
static char base[64];          /* the temporary directory */
static char dir_main[96], dir_other[96], dir_old[96];

#define FILE_MAX 4096
struct blob {
    uint8_t b[FILE_MAX];
    size_t len;
};

static void load(const char *dir, const char *name, const char *ext, struct blob *out)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s%s", dir, name, ext);
    f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    out->len = fread(out->b, 1, sizeof(out->b), f);
    fclose(f);
    ck_assert_uint_gt(out->len, 0);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A connected pair over loopback: c (connecting) and s (accepted). */
static void tcp_pair(const char *host, struct cl_tcp *c, struct cl_tcp *s, int bufs)
{
    struct cl_tcp_listener l;
    char port[16];
    int rc, i;

    cl_tcp_listener_init(&l);
    cl_tcp_init(c);
    cl_tcp_init(s);
    ck_assert_int_eq(cl_tcp_listen(&l, host, "0", 4), CL_OK);
    rc = cl_tcp_listener_port(&l);
    ck_assert_int_gt(rc, 0);
    snprintf(port, sizeof(port), "%d", rc);
    ck_assert_int_eq(cl_tcp_connect(c, host, port), CL_OK);
    for (i = 0; i < 500; i++) {
        rc = cl_tcp_accept(&l, s);
        if (rc != CL_ERR_AGAIN)
            break;
        usleep(2000);
    }
    ck_assert_int_eq(rc, CL_OK);
    cl_tcp_listener_close(&l);
    if (bufs > 0) {
        ck_assert_int_eq(cl_tcp_set_buffers(c, bufs, bufs), CL_OK);
        ck_assert_int_eq(cl_tcp_set_buffers(s, bufs, bufs), CL_OK);
    }
}

/* Wait until a or b can make progress (100 ms at most): what each one's
 * want() asks for, and writable too for a side in out_pending. */
static void wait_pending(const struct cl_net *a, const struct cl_net *b, const int out_pending[2])
{
    struct pollfd p[2];
    nfds_t n = 0;
    const struct cl_net *v[2] = { a, b };
    int i;

    for (i = 0; i < 2; i++) {
        unsigned w;
        int fd;

        if (v[i] == NULL)
            continue;
        fd = v[i]->ops->fd(v[i]->ctx);
        if (fd < 0)
            continue;
        w = v[i]->ops->want(v[i]->ctx);
        p[n].fd = fd;
        p[n].events = (short)(((w & CL_NET_WANT_READ) ? POLLIN : 0) |
                              ((w & CL_NET_WANT_WRITE) ? POLLOUT : 0) |
                              (out_pending != NULL && out_pending[i] ? POLLOUT : 0));
        if (p[n].events == 0)
            p[n].events = POLLIN;
        p[n].revents = 0;
        n++;
    }
    if (n > 0)
        (void)poll(p, n, 100);
}

static void wait_either(const struct cl_net *a, const struct cl_net *b)
{
    wait_pending(a, b, NULL);
}

/*
 * Move `len` pattern bytes from a to b and `len` others from b to a at
 * once, each side sending in chunks of `chunk` and reading whatever comes,
 * checking every byte; both streams non-blocking in one thread.
 */
static void exchange(const struct cl_net *a, const struct cl_net *b, size_t len, size_t chunk)
{
    static uint8_t buf[65536];
    size_t sent[2] = { 0, 0 }, got[2] = { 0, 0 };
    const struct cl_net *v[2] = { a, b };
    double t0 = now_s();
    int i;

    while (got[0] < len || got[1] < len) {
        int progress = 0;

        ck_assert_msg(now_s() - t0 < 30, "exchange stuck");
        for (i = 0; i < 2; i++) {
            /* send: side i sends byte k as (k * 7 + i) & 0xFF */
            while (sent[i] < len) {
                static uint8_t out[65536];
                size_t n = len - sent[i], k;
                int rc;

                if (n > chunk)
                    n = chunk;
                if (n > sizeof(out))
                    n = sizeof(out);
                for (k = 0; k < n; k++)
                    out[k] = (uint8_t)(((sent[i] + k) * 7 + (size_t)i) & 0xFF);
                rc = v[i]->ops->send(v[i]->ctx, out, n);
                if (rc == CL_ERR_AGAIN)
                    break;
                ck_assert_msg(rc > 0, "send: %s", cl_strerror(rc));
                ck_assert_uint_le((size_t)rc, n);
                sent[i] += (size_t)rc;
                progress = 1;
            }
            /* receive what the other side sent */
            for (;;) {
                size_t k;
                int rc = v[i]->ops->recv(v[i]->ctx, buf, sizeof(buf));

                if (rc == CL_ERR_AGAIN)
                    break;
                ck_assert_msg(rc > 0, "recv: %d %s", rc, cl_strerror(rc));
                for (k = 0; k < (size_t)rc; k++)
                    ck_assert_uint_eq(buf[k], ((got[i] + k) * 7 + (size_t)(1 - i)) & 0xFF);
                got[i] += (size_t)rc;
                ck_assert_uint_le(got[i], len);
                progress = 1;
            }
        }
        if (!progress) {
            int pending[2] = { sent[0] < len, sent[1] < len };

            wait_pending(a, b, pending);
        }
    }
}

/* ------------------------------------------------------------ TCP */

static const char *const hosts[] = { "127.0.0.1", "::1" };

START_TEST(test_tcp_loopback)
{
    struct cl_tcp c, s;
    struct cl_net nc = cl_tcp_net(&c), ns = cl_tcp_net(&s);
    uint8_t b[16];
    int rc;

    tcp_pair(hosts[_i], &c, &s, 16384);
    ck_assert_uint_eq(cl_tcp_ops.caps, CL_NET_CAP_RELIABLE | CL_NET_CAP_FD);
    /* Nothing there yet: would block, and says it waits to read. */
    ck_assert_int_eq(ns.ops->recv(ns.ctx, b, sizeof(b)), CL_ERR_AGAIN);
    ck_assert_uint_eq(ns.ops->want(ns.ctx), CL_NET_WANT_READ);
    /* 512 KiB each way through 16 KiB kernel buffers, 64 KiB offered at a
     * time: partial writes and would-block on every side. */
    exchange(&nc, &ns, 512u * 1024u, 65536);
    ck_assert_uint_gt(c.partial_sends + s.partial_sends, 0);
    ck_assert_uint_gt(c.again, 0);
    ck_assert_uint_gt(s.again, 0);
    /* Orderly end: the peer reads 0, later calls on the closed side
     * CL_ERR_CLOSED. */
    nc.ops->close(nc.ctx);
    ck_assert_int_eq(cl_net_recv_wait(&ns, b, sizeof(b), 2000), 0);
    ck_assert_int_eq(nc.ops->send(nc.ctx, b, 1), CL_ERR_CLOSED);
    ck_assert_int_eq(nc.ops->recv(nc.ctx, b, 1), CL_ERR_CLOSED);
    ck_assert_int_eq(nc.ops->fd(nc.ctx), CL_ERR_CLOSED);
    nc.ops->close(nc.ctx);   /* twice: nothing */
    /* The peer is gone: sending ends in CL_ERR_CLOSED (reset). */
    rc = CL_OK;
    for (int i = 0; i < 100 && rc >= 0; i++) {
        rc = ns.ops->send(ns.ctx, (const uint8_t *)"x", 1);
        usleep(1000);
    }
    ck_assert_int_eq(rc, CL_ERR_CLOSED);
    cl_tcp_close(&s);
}
END_TEST

START_TEST(test_tcp_refused)
{
    struct cl_tcp_listener l;
    struct cl_tcp c;
    struct cl_net n = cl_tcp_net(&c);
    char port[16];
    uint8_t b[4];
    int rc;

    /* A port nobody listens on: bind one, note it, close it. */
    cl_tcp_listener_init(&l);
    ck_assert_int_eq(cl_tcp_listen(&l, "127.0.0.1", "0", 1), CL_OK);
    snprintf(port, sizeof(port), "%d", cl_tcp_listener_port(&l));
    cl_tcp_listener_close(&l);
    cl_tcp_init(&c);
    rc = cl_tcp_connect(&c, "127.0.0.1", port);
    if (rc == CL_OK)
        rc = cl_net_recv_wait(&n, b, sizeof(b), 2000);
    ck_assert_msg(rc == CL_ERR_CLOSED || rc == CL_ERR_IO, "refused: %d", rc);
    cl_tcp_close(&c);
}
END_TEST

START_TEST(test_tcp_args)
{
    struct cl_tcp t;
    struct cl_tcp_listener l;
    struct cl_net n = cl_tcp_net(&t);
    uint8_t b[1];

    cl_tcp_init(&t);
    cl_tcp_listener_init(&l);
    ck_assert_int_eq(cl_tcp_connect(NULL, "127.0.0.1", "1"), CL_ERR_ARG);
    ck_assert_int_eq(cl_tcp_connect(&t, NULL, "1"), CL_ERR_ARG);
    ck_assert_int_eq(cl_tcp_connect(&t, "no-such-host.invalid", "1"), CL_ERR_NOT_FOUND);
    ck_assert_int_eq(n.ops->send(n.ctx, b, 1), CL_ERR_CLOSED);
    ck_assert_int_eq(n.ops->recv(n.ctx, b, 1), CL_ERR_CLOSED);
    ck_assert_int_eq(n.ops->recv(n.ctx, NULL, 1), CL_ERR_ARG);
    ck_assert_int_eq(n.ops->recv(n.ctx, b, 0), CL_ERR_ARG);
    ck_assert_int_eq(cl_tcp_listen(&l, "127.0.0.1", "0", 0), CL_ERR_ARG);
    ck_assert_int_eq(cl_tcp_accept(&l, &t), CL_ERR_ARG);
    ck_assert_int_eq(cl_tcp_set_buffers(&t, 1, 1), CL_ERR_ARG);
    ck_assert_int_eq(cl_net_wait(NULL, 0), CL_ERR_ARG);
    ck_assert_int_eq(cl_net_wait(&n, 0), CL_ERR_CLOSED);
    ck_assert_int_eq(cl_tcp_listener_port(&l), CL_ERR_ARG);
    cl_tcp_close(NULL);
    cl_tcp_listener_close(NULL);
}
END_TEST

/* ------------------------------------------------------------ TLS set-up */

/* Certificates and keys of one endpoint, loaded from a PKI directory. */
struct ident {
    struct blob cert[2];
    struct cl_cert_der chain[2];
    size_t n_chain;
    struct blob key;
    struct blob anchor;
    struct cl_cert_der anchors[1];
};

/* dir/name (+ dir/issuer when not NULL) with its key, trusting dir/anchor. */
static void ident_load(struct ident *id, const char *dir, const char *name, const char *issuer,
                       const char *anchor_dir, const char *anchor)
{
    memset(id, 0, sizeof(*id));
    load(dir, name, ".der", &id->cert[0]);
    load(dir, name, ".key.der", &id->key);
    id->n_chain = 1;
    if (issuer != NULL) {
        load(dir, issuer, ".der", &id->cert[1]);
        id->n_chain = 2;
    }
    id->chain[0].der = id->cert[0].b;
    id->chain[0].len = id->cert[0].len;
    id->chain[1].der = id->cert[1].b;
    id->chain[1].len = id->cert[1].len;
    load(anchor_dir, anchor, ".der", &id->anchor);
    id->anchors[0].der = id->anchor.b;
    id->anchors[0].len = id->anchor.len;
}

static void client_setup(struct cl_mtls *m, const struct ident *id, const char *name,
                         struct cl_net lower, uint64_t now)
{
    struct cl_mtls_config cfg;

    cfg.anchors = id->anchors;
    cfg.n_anchors = 1;
    cfg.chain = id->chain;
    cfg.n_chain = id->n_chain;
    cfg.key = id->key.b;
    cfg.key_len = id->key.len;
    cfg.server_name = name;
    cl_mtls_init(m);
    ck_assert_int_eq(cl_mtls_setup(m, &cfg, lower, now), CL_OK);
}

static const char device_subject[] = "CN=cardlink test device 0001, O=cardlink test";
static const char server_subject[] = "CN=cardlink test server, O=cardlink test";

static void check_fingerprint(const struct cl_net_peer *p, const char *dir, const char *name)
{
    struct blob b;
    uint8_t h[32];

    load(dir, name, ".der", &b);
    ck_assert_int_eq(cl_sha256(b.b, b.len, h), CL_OK);
    ck_assert_mem_eq(p->fingerprint, h, 32);
}

#ifdef CL_HAVE_OPENSSL
static void server_setup(struct cl_ossl_server *s, const struct ident *id)
{
    struct cl_ossl_config cfg;

    cfg.anchors = id->anchors;
    cfg.n_anchors = 1;
    cfg.chain = id->chain;
    cfg.n_chain = id->n_chain;
    cfg.key = id->key.b;
    cfg.key_len = id->key.len;
    cl_ossl_server_init(s);
    ck_assert_int_eq(cl_ossl_server_setup(s, &cfg), CL_OK);
}

/* The alert the device's side had received when it failed (read before
 * its free), or -1. */
static int client_alert = -1;

/* Run both handshakes to their ends; a side that fails is freed (its
 * socket closed, as a program would), so the other sees it. */
static void handshake_both(struct cl_mtls *m, struct cl_ossl_conn *o, int *rc_c, int *rc_s)
{
    struct cl_net nm = cl_mtls_net(m), no = cl_ossl_conn_net(o);
    double t0 = now_s();

    *rc_c = CL_ERR_AGAIN;
    *rc_s = CL_ERR_AGAIN;
    while (*rc_c == CL_ERR_AGAIN || *rc_s == CL_ERR_AGAIN) {
        ck_assert_msg(now_s() - t0 < 20, "handshake stuck");
        if (*rc_c == CL_ERR_AGAIN) {
            *rc_c = cl_mtls_handshake(m);
            client_alert = cl_mtls_peer_alert(m);
            if (*rc_c < 0 && *rc_c != CL_ERR_AGAIN)
                cl_mtls_free(m);
        }
        if (*rc_s == CL_ERR_AGAIN) {
            *rc_s = cl_ossl_conn_handshake(o);
            if (*rc_s < 0 && *rc_s != CL_ERR_AGAIN)
                cl_ossl_conn_free(o);
        }
        /* A side that finished waits for the other's failure to show. */
        if (*rc_c == CL_OK && *rc_s != CL_ERR_AGAIN && *rc_s != CL_OK)
            break;
        if (*rc_s == CL_OK && *rc_c != CL_ERR_AGAIN && *rc_c != CL_OK)
            break;
        wait_either(*rc_c == CL_ERR_AGAIN ? &nm : NULL, *rc_s == CL_ERR_AGAIN ? &no : NULL);
    }
}

/* Our mbedtls client against our OpenSSL server: mutual authentication,
 * both identities reported, 256 KiB each way through 2 KiB socket buffers
 * (partial writes and would-block inside TLS records), close_notify. */
START_TEST(test_tls_ours)
{
    struct ident dev, srv;
    struct cl_tcp tc, ts;
    struct cl_mtls m;
    struct cl_ossl_server os;
    struct cl_ossl_conn oc;
    struct cl_net nm, no;
    struct cl_net_peer p;
    uint8_t b[8];
    int rc_c, rc_s, i;
    double t0, best = 1e9;

    ident_load(&dev, dir_main, "device", NULL, dir_main, "server-ca");
    ident_load(&srv, dir_main, "server", NULL, dir_main, "device-ca");
    server_setup(&os, &srv);
    /* A few handshakes for the figure; the last one carries the data. */
    for (i = 0; i < 5; i++) {
        tcp_pair("127.0.0.1", &tc, &ts, 2048);
        client_setup(&m, &dev, "localhost", cl_tcp_net(&tc), cl_posix_time_now());
        cl_ossl_conn_init(&oc);
        ck_assert_int_eq(cl_ossl_conn_setup(&oc, &os, cl_tcp_net(&ts), cl_posix_time_now()), CL_OK);
        nm = cl_mtls_net(&m);
        no = cl_ossl_conn_net(&oc);
        ck_assert_int_eq(nm.ops->peer(nm.ctx, &p), CL_ERR_STATE);
        t0 = now_s();
        handshake_both(&m, &oc, &rc_c, &rc_s);
        if (now_s() - t0 < best)
            best = now_s() - t0;
        ck_assert_int_eq(rc_c, CL_OK);
        ck_assert_int_eq(rc_s, CL_OK);
        if (i < 4) {
            cl_mtls_free(&m);
            cl_ossl_conn_free(&oc);
        }
    }
    fprintf(stderr, "handshake mbedtls client <-> OpenSSL server (P-256, mutual): best of 5 %.1f ms\n",
            best * 1e3);
    ck_assert_str_eq(cl_mtls_version(&m), "TLSv1.2");
    ck_assert_str_eq(cl_ossl_conn_version(&oc), "TLSv1.2");
    ck_assert_str_eq(cl_mtls_suite(&m), "TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384");
    ck_assert_str_eq(cl_ossl_conn_cipher(&oc), "ECDHE-ECDSA-AES256-GCM-SHA384");
    /* Who is on the other end. */
    ck_assert_int_eq(no.ops->peer(no.ctx, &p), CL_OK);
    ck_assert_str_eq(p.subject, device_subject);
    check_fingerprint(&p, dir_main, "device");
    ck_assert_int_eq(nm.ops->peer(nm.ctx, &p), CL_OK);
    ck_assert_str_eq(p.subject, server_subject);
    check_fingerprint(&p, dir_main, "server");
    ck_assert_uint_eq(nm.ops->caps & CL_NET_CAP_SECURE, CL_NET_CAP_SECURE);

    tc.again = ts.again = tc.partial_sends = ts.partial_sends = 0;
    exchange(&nm, &no, 256u * 1024u, 40000);
    ck_assert_uint_gt(tc.again + ts.again, 0);
    ck_assert_uint_gt(tc.partial_sends + ts.partial_sends, 0);
    /* The device ends with close_notify: the server reads the end. */
    nm.ops->close(nm.ctx);
    ck_assert_int_eq(cl_net_recv_wait(&no, b, sizeof(b), 2000), 0);
    ck_assert_int_eq(no.ops->recv(no.ctx, b, sizeof(b)), CL_ERR_CLOSED);
    no.ops->close(no.ctx);
    cl_ossl_server_free(&os);
}
END_TEST

/*
 * Refusals, ours against ours. Each row: who the device is and trusts,
 * who the server is and trusts, the name the device asks for, the time
 * lib/cert checks at, and what each side must fail with (0: the side
 * may succeed or fail however it likes, only the other side's refusal is
 * the point).
 */
struct refusal {
    const char *what;
    const char *dev_dir, *dev_name, *dev_issuer, *dev_anchor_dir, *dev_anchor;
    const char *srv_dir, *srv_name, *srv_issuer, *srv_anchor_dir, *srv_anchor;
    const char *server_name;
    uint64_t now;            /* 0: the system clock */
    int rc_client, rc_server;
};

#define M dir_main
#define O dir_other
#define X dir_old
#define Y2050 2556144000u   /* 2051-01-01: after every test certificate */

static const struct refusal refusals[] = {
    { "server certificate from another CA (same names, other keys)",
      M, "device", NULL, M, "server-ca", O, "server", NULL, M, "device-ca",
      "localhost", 0, CL_ERR_CERT_UNTRUSTED, 0 },
    { "a card's certificate as the server's",
      M, "device", NULL, M, "server-ca", M, "card", NULL, M, "device-ca",
      "localhost", 0, CL_ERR_CERT_UNTRUSTED, 0 },
    { "a card's certificate and its CA as the server's, device trusting the root",
      M, "device", NULL, M, "root", M, "card", "issuer", M, "device-ca",
      "localhost", 0, CL_ERR_CERT_PURPOSE, 0 },
    { "expired server certificate",
      M, "device", NULL, X, "server-ca", X, "server", NULL, M, "device-ca",
      "localhost", 0, CL_ERR_CERT_EXPIRED, 0 },
    { "server certificate for another name",
      M, "device", NULL, M, "server-ca", M, "server", NULL, M, "device-ca",
      "elsewhere.example", 0, CL_ERR_CERT_UNTRUSTED, 0 },
    { "lib/cert at the device's clock (2051): expired although mbedtls accepted it",
      M, "device", NULL, M, "server-ca", M, "server", NULL, M, "device-ca",
      "localhost", Y2050, CL_ERR_CERT_EXPIRED, 0 },
    { "a card's certificate as the device's",
      M, "card", NULL, M, "server-ca", M, "server", NULL, M, "device-ca",
      "localhost", 0, 0, CL_ERR_CERT_UNTRUSTED },
    { "a card's certificate and its CA as the device's, server trusting the root",
      M, "card", "issuer", M, "server-ca", M, "server", NULL, M, "root",
      "localhost", 0, 0, CL_ERR_CERT_PURPOSE },
    { "the server's own certificate as a device's, server trusting the root",
      M, "server", "server-ca", M, "server-ca", M, "server", NULL, M, "root",
      "localhost", 0, 0, CL_ERR_CERT_PURPOSE },
    { "device certificate from another CA",
      O, "device", NULL, M, "server-ca", M, "server", NULL, M, "device-ca",
      "localhost", 0, 0, CL_ERR_CERT_UNTRUSTED },
    { "expired device certificate",
      X, "device", NULL, M, "server-ca", M, "server", NULL, X, "device-ca",
      "localhost", 0, 0, CL_ERR_CERT_EXPIRED },
    { "lib/cert at the server's clock (2051): expired although OpenSSL accepted it",
      M, "device", NULL, M, "server-ca", M, "server", NULL, M, "device-ca",
      "localhost", Y2050, 0, CL_ERR_CERT_EXPIRED },
};

START_TEST(test_tls_refusals)
{
    const struct refusal *r = &refusals[_i];
    struct ident dev, srv;
    struct cl_tcp tc, ts;
    struct cl_mtls m;
    struct cl_ossl_server os;
    struct cl_ossl_conn oc;
    uint64_t now = cl_posix_time_now();
    int rc_c, rc_s;

    ident_load(&dev, r->dev_dir, r->dev_name, r->dev_issuer, r->dev_anchor_dir, r->dev_anchor);
    ident_load(&srv, r->srv_dir, r->srv_name, r->srv_issuer, r->srv_anchor_dir, r->srv_anchor);
    server_setup(&os, &srv);
    tcp_pair("127.0.0.1", &tc, &ts, 0);
    client_setup(&m, &dev, r->server_name, cl_tcp_net(&tc),
                 r->rc_client != 0 && r->now != 0 ? r->now : now);
    cl_ossl_conn_init(&oc);
    ck_assert_int_eq(cl_ossl_conn_setup(&oc, &os, cl_tcp_net(&ts),
                                        r->rc_server != 0 && r->now != 0 ? r->now : now), CL_OK);
    handshake_both(&m, &oc, &rc_c, &rc_s);
    if (r->rc_client != 0)
        ck_assert_msg(rc_c == r->rc_client, "%s: device %d (%s), expected %s", r->what, rc_c,
                      cl_strerror(rc_c), cl_strerror(r->rc_client));
    if (r->rc_server != 0)
        ck_assert_msg(rc_s == r->rc_server, "%s: server %d (%s), expected %s", r->what, rc_s,
                      cl_strerror(rc_s), cl_strerror(r->rc_server));
    /* Never both through. */
    ck_assert_msg(!(rc_c == CL_OK && rc_s == CL_OK), "%s: accepted", r->what);
    /* The device tells the server's refusal (an alert it received, if it
     * came before the close) from its own (none received). */
    if (r->rc_client != 0)
        ck_assert_msg(client_alert == -1, "%s: alert %d", r->what, client_alert);
    else if (rc_c != CL_ERR_CLOSED && rc_c != CL_OK)
        ck_assert_msg(client_alert >= 0, "%s: device %s with no alert", r->what,
                      cl_strerror(rc_c));
    /* Sticky: the failed side stays closed. */
    cl_mtls_free(&m);
    cl_ossl_conn_free(&oc);
    cl_ossl_server_free(&os);
}
END_TEST
#endif /* CL_HAVE_OPENSSL */

/* ------------------------------------------------------------ openssl programs */

struct child {
    pid_t pid;
    int in, out;     /* its stdin (ours to write), its stdout+stderr */
};

static void spawn(struct child *ch, char *const argv[])
{
    int pin[2], pout[2];

    ck_assert_int_eq(pipe(pin), 0);
    ck_assert_int_eq(pipe(pout), 0);
    ch->pid = fork();
    ck_assert_int_ge(ch->pid, 0);
    if (ch->pid == 0) {
        dup2(pin[0], 0);
        dup2(pout[1], 1);
        dup2(pout[1], 2);
        close(pin[0]);
        close(pin[1]);
        close(pout[0]);
        close(pout[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(pin[0]);
    close(pout[1]);
    ch->in = pin[1];
    ch->out = pout[0];
}

/* Read the child's output into buf (NUL-terminated) until `until` appears
 * (NULL: until it ends) or timeout_ms passes. Returns whether found. */
static int read_until(struct child *ch, char *buf, size_t size, size_t *len, const char *until,
                      int timeout_ms)
{
    double t0 = now_s();

    for (;;) {
        struct pollfd p = { ch->out, POLLIN, 0 };
        ssize_t n;

        buf[*len] = '\0';
        if (until != NULL && strstr(buf, until) != NULL)
            return 1;
        if ((now_s() - t0) * 1000 > timeout_ms)
            return 0;
        if (poll(&p, 1, 100) <= 0)
            continue;
        n = read(ch->out, buf + *len, size - 1 - *len);
        if (n <= 0)
            return until == NULL;
        *len += (size_t)n;
    }
}

static void reap(struct child *ch)
{
    int st;

    if (ch->in >= 0)
        close(ch->in);
    kill(ch->pid, SIGTERM);
    waitpid(ch->pid, &st, 0);
    close(ch->out);
}

/* ---- our mbedtls client against openssl s_server */

struct s_server_case {
    const char *what;
    const char *dir, *cert, *anchor_dir, *anchor;   /* the device trusts anchor */
    const char *extra[4];                            /* more s_server options */
    int rc;
};

static const struct s_server_case s_server_cases[] = {
    { "the real server", M, "server", M, "server-ca", { NULL }, CL_OK },
    { "server certificate from another CA", O, "server", M, "server-ca", { NULL },
      CL_ERR_CERT_UNTRUSTED },
    { "a card's certificate as the server's", M, "card", M, "server-ca", { NULL },
      CL_ERR_CERT_UNTRUSTED },
    { "expired server certificate", X, "server", X, "server-ca", { NULL },
      CL_ERR_CERT_EXPIRED },
    /* The device offers TLS 1.2; a TLS 1.1 server settles on 1.1, finds
     * none of the device's suites (all TLS 1.2 AEAD) usable there and
     * answers handshake_failure. */
    { "server offering TLS 1.1 only", M, "server", M, "server-ca",
      { "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", NULL }, CL_ERR_UNSUPPORTED },
    { "server offering AES128-SHA only (no ECDHE, no AEAD)", M, "server", M, "server-ca",
      { "-tls1_2", "-cipher", "AES128-SHA", NULL }, CL_ERR_UNSUPPORTED },
};

START_TEST(test_client_vs_s_server)
{
    const struct s_server_case *k = &s_server_cases[_i];
    char cert[160], key[160], ca[160], out[16384];
    char *argv[32];
    size_t argc = 0, len = 0, j;
    struct child ch;
    struct ident dev;
    struct cl_tcp t;
    struct cl_mtls m;
    struct cl_net n;
    char *acc, port[16];
    uint8_t buf[64];
    int rc;

    snprintf(cert, sizeof(cert), "%s/%s.pem", k->dir, k->cert);
    snprintf(key, sizeof(key), "%s/%s.key.der", k->dir, k->cert);
    snprintf(ca, sizeof(ca), "%s/device-ca.pem", dir_main);
    argv[argc++] = "openssl";
    argv[argc++] = "s_server";
    argv[argc++] = "-accept";
    argv[argc++] = "127.0.0.1:0";
    argv[argc++] = "-naccept";
    argv[argc++] = "1";
    argv[argc++] = "-cert";
    argv[argc++] = cert;
    argv[argc++] = "-key";
    argv[argc++] = key;
    argv[argc++] = "-keyform";
    argv[argc++] = "DER";
    argv[argc++] = "-CAfile";
    argv[argc++] = ca;
    argv[argc++] = "-Verify";
    argv[argc++] = "2";
    argv[argc++] = "-verify_return_error";
    argv[argc++] = "-partial_chain";
    argv[argc++] = "-rev";
    for (j = 0; k->extra[j] != NULL; j++)
        argv[argc++] = (char *)k->extra[j];
    argv[argc] = NULL;
    spawn(&ch, argv);
    ck_assert_msg(read_until(&ch, out, sizeof(out), &len, "ACCEPT 127.0.0.1:", 10000),
                  "s_server did not start: %s", out);
    acc = strstr(out, "ACCEPT 127.0.0.1:") + strlen("ACCEPT 127.0.0.1:");
    snprintf(port, sizeof(port), "%d", atoi(acc));

    ident_load(&dev, dir_main, "device", NULL, k->anchor_dir, k->anchor);
    cl_tcp_init(&t);
    ck_assert_int_eq(cl_tcp_connect(&t, "127.0.0.1", port), CL_OK);
    client_setup(&m, &dev, "localhost", cl_tcp_net(&t), cl_posix_time_now());
    n = cl_mtls_net(&m);
    do {
        rc = cl_mtls_handshake(&m);
        if (rc == CL_ERR_AGAIN)
            ck_assert_int_eq(cl_net_wait(&n, 10000), CL_OK);
    } while (rc == CL_ERR_AGAIN);
    ck_assert_msg(rc == k->rc, "%s: %d (%s), expected %s; s_server said: %s", k->what, rc,
                  cl_strerror(rc), cl_strerror(k->rc), out);
    if (rc == CL_OK) {
        struct cl_net_peer p;
        static const char msg[] = "hello from the device\n";
        static const char rev[] = "ecived eht morf olleh\n";
        size_t got = 0;

        ck_assert_int_eq(n.ops->peer(n.ctx, &p), CL_OK);
        ck_assert_str_eq(p.subject, server_subject);
        check_fingerprint(&p, dir_main, "server");
        ck_assert_int_eq(cl_net_send_all(&n, (const uint8_t *)msg, strlen(msg), 5000), CL_OK);
        while (got < strlen(rev)) {
            rc = cl_net_recv_wait(&n, buf + got, sizeof(buf) - got, 5000);
            ck_assert_int_gt(rc, 0);
            got += (size_t)rc;
        }
        ck_assert_mem_eq(buf, rev, strlen(rev));
    }
    cl_mtls_free(&m);
    reap(&ch);
}
END_TEST

#ifdef CL_HAVE_OPENSSL
/* ---- openssl s_client against our OpenSSL server */

struct s_client_case {
    const char *what;
    const char *dir, *cert;     /* NULL cert: none */
    const char *extra[4];
    int rc;
    const char *version;        /* negotiated, on success */
};

static const struct s_client_case s_client_cases[] = {
    { "the real device (TLS 1.3)", M, "device", { NULL }, CL_OK, "TLSv1.3" },
    { "the real device (TLS 1.2)", M, "device", { "-tls1_2", NULL }, CL_OK, "TLSv1.2" },
    { "a card's certificate as the device's", M, "card", { NULL }, CL_ERR_CERT_UNTRUSTED, NULL },
    { "no client certificate", M, NULL, { NULL }, CL_ERR_CERT_UNTRUSTED, NULL },
    { "device certificate from another CA", O, "device", { NULL }, CL_ERR_CERT_UNTRUSTED, NULL },
    { "client offering TLS 1.1 only", M, "device",
      { "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", NULL }, CL_ERR_VERSION, NULL },
    { "client offering AES128-SHA only", M, "device", { "-tls1_2", "-cipher", "AES128-SHA", NULL },
      CL_ERR_UNSUPPORTED, NULL },
};

START_TEST(test_s_client_vs_server)
{
    const struct s_client_case *k = &s_client_cases[_i];
    char cert[160], key[160], ca[160], connect[64], out[16384];
    char *argv[32];
    size_t argc = 0, len = 0, j;
    struct ident srv;
    struct cl_tcp_listener l;
    struct cl_tcp t;
    struct cl_ossl_server os;
    struct cl_ossl_conn oc;
    struct cl_net n;
    struct child ch;
    uint8_t buf[64];
    double t0;
    int rc, port;

    ident_load(&srv, dir_main, "server", NULL, dir_main, "device-ca");
    server_setup(&os, &srv);
    cl_tcp_listener_init(&l);
    ck_assert_int_eq(cl_tcp_listen(&l, "127.0.0.1", "0", 4), CL_OK);
    port = cl_tcp_listener_port(&l);
    snprintf(connect, sizeof(connect), "127.0.0.1:%d", port);
    snprintf(ca, sizeof(ca), "%s/server-ca.pem", dir_main);
    argv[argc++] = "openssl";
    argv[argc++] = "s_client";
    argv[argc++] = "-connect";
    argv[argc++] = connect;
    argv[argc++] = "-servername";
    argv[argc++] = "localhost";
    argv[argc++] = "-verify_hostname";
    argv[argc++] = "localhost";
    argv[argc++] = "-CAfile";
    argv[argc++] = ca;
    argv[argc++] = "-verify_return_error";
    argv[argc++] = "-partial_chain";
    argv[argc++] = "-ign_eof";
    if (k->cert != NULL) {
        snprintf(cert, sizeof(cert), "%s/%s.pem", k->dir, k->cert);
        snprintf(key, sizeof(key), "%s/%s.key.der", k->dir, k->cert);
        argv[argc++] = "-cert";
        argv[argc++] = cert;
        argv[argc++] = "-key";
        argv[argc++] = key;
        argv[argc++] = "-keyform";
        argv[argc++] = "DER";
    }
    for (j = 0; k->extra[j] != NULL; j++)
        argv[argc++] = (char *)k->extra[j];
    argv[argc] = NULL;
    spawn(&ch, argv);

    cl_tcp_init(&t);
    t0 = now_s();
    while ((rc = cl_tcp_accept(&l, &t)) == CL_ERR_AGAIN) {
        ck_assert_msg(now_s() - t0 < 10, "s_client did not connect");
        usleep(5000);
    }
    ck_assert_int_eq(rc, CL_OK);
    cl_ossl_conn_init(&oc);
    ck_assert_int_eq(cl_ossl_conn_setup(&oc, &os, cl_tcp_net(&t), cl_posix_time_now()), CL_OK);
    n = cl_ossl_conn_net(&oc);
    do {
        rc = cl_ossl_conn_handshake(&oc);
        if (rc == CL_ERR_AGAIN)
            ck_assert_int_eq(cl_net_wait(&n, 10000), CL_OK);
    } while (rc == CL_ERR_AGAIN);
    if (rc != k->rc)
        (void)read_until(&ch, out, sizeof(out), &len, NULL, 2000);
    ck_assert_msg(rc == k->rc, "%s: %d (%s), expected %s; s_client said: %s", k->what, rc,
                  cl_strerror(rc), cl_strerror(k->rc), len ? out : "");
    if (rc == CL_OK) {
        struct cl_net_peer p;
        size_t got = 0;

        ck_assert_str_eq(cl_ossl_conn_version(&oc), k->version);
        ck_assert_int_eq(n.ops->peer(n.ctx, &p), CL_OK);
        ck_assert_str_eq(p.subject, device_subject);
        check_fingerprint(&p, dir_main, "device");
        ck_assert_int_eq(write(ch.in, "ping\n", 5), 5);
        while (got < 5) {
            rc = cl_net_recv_wait(&n, buf + got, sizeof(buf) - got, 5000);
            ck_assert_int_gt(rc, 0);
            got += (size_t)rc;
        }
        ck_assert_mem_eq(buf, "ping\n", 5);
        ck_assert_int_eq(cl_net_send_all(&n, (const uint8_t *)"pong\n", 5, 5000), CL_OK);
        ck_assert(read_until(&ch, out, sizeof(out), &len, "pong\n", 5000));
        ck_assert_ptr_nonnull(strstr(out, "Verify return code: 0 (ok)"));
        ck_assert_ptr_nonnull(strstr(out, k->version));
    }
    cl_ossl_conn_free(&oc);
    cl_tcp_listener_close(&l);
    cl_ossl_server_free(&os);
    reap(&ch);
}
END_TEST
#endif /* CL_HAVE_OPENSSL */

/* ------------------------------------------------------------ main */

static int run(const char *cmd)
{
    int rc = system(cmd);

    return rc == -1 ? -1 : (rc >> 8) & 0xFF;
}

static void make_pki(const char *dir, const char *opts)
{
    char cmd[512];

    snprintf(cmd, sizeof(cmd), "'%s' testpki '%s' %s >/dev/null", pki_tool, dir, opts);
    if (run(cmd) != 0) {
        fprintf(stderr, "cardlink-pki failed: %s\n", cmd);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    int interop = argc > 2 && strcmp(argv[2], "openssl") == 0;
    Suite *s;
    SRunner *sr;
    TCase *tc;
    int failed;
    char cmd[128];

    if (argc < 2) {
        fputs("usage: test_net CARDLINK-PKI [openssl]\n", stderr);
        return 2;
    }
    if (interop && run("openssl version >/dev/null 2>&1") != 0) {
        fputs("openssl not installed: skipped\n", stderr);
        return 77;
    }
    pki_tool = argv[1];
    s = suite_create(interop ? "net-openssl" : "net");
    snprintf(base, sizeof(base), "/tmp/cl-test-net-XXXXXX");
    if (mkdtemp(base) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(dir_main, sizeof(dir_main), "%s/main", base);
    snprintf(dir_other, sizeof(dir_other), "%s/other", base);
    snprintf(dir_old, sizeof(dir_old), "%s/old", base);
    make_pki(dir_main, "");
    make_pki(dir_other, "--seed 'another CA'");
    make_pki(dir_old, "--from 20200101000000 --to 20210101000000");

    if (!interop) {
        tc = tcase_create("tcp");
        tcase_add_loop_test(tc, test_tcp_loopback, 0, (int)CL_ARRAY_LEN(hosts));
        tcase_add_test(tc, test_tcp_refused);
        tcase_add_test(tc, test_tcp_args);
        suite_add_tcase(s, tc);
#ifdef CL_HAVE_OPENSSL
        tc = tcase_create("tls");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_tls_ours);
        tcase_add_loop_test(tc, test_tls_refusals, 0, (int)CL_ARRAY_LEN(refusals));
        suite_add_tcase(s, tc);
#endif
    } else {
        tc = tcase_create("openssl");
        tcase_set_timeout(tc, 60);
        tcase_add_loop_test(tc, test_client_vs_s_server, 0, (int)CL_ARRAY_LEN(s_server_cases));
#ifdef CL_HAVE_OPENSSL
        tcase_add_loop_test(tc, test_s_client_vs_server, 0, (int)CL_ARRAY_LEN(s_client_cases));
#endif
        suite_add_tcase(s, tc);
    }
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    if (run(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", base);
    return failed == 0 ? 0 : 1;
}
