/*
 * cardlink — the device's TLS client over mbedtls.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "tls_mbedtls.h"
#include "rand_posix.h"

#include <string.h>

#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/version.h>

#include "cardlink/wipe.h"

enum { ST_EMPTY, ST_HANDSHAKE, ST_OPEN, ST_FAILED, ST_CLOSED };

/* ECDHE + AEAD only, ECDSA first (the test PKI's keys are P-256). */
static const int suites[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    0
};

#if MBEDTLS_VERSION_MAJOR < 3
static const mbedtls_ecp_group_id curves[] = {
    MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_SECP384R1,
    MBEDTLS_ECP_DP_NONE
};
static const int sig_hashes[] = {
    MBEDTLS_MD_SHA256, MBEDTLS_MD_SHA384, MBEDTLS_MD_SHA512, MBEDTLS_MD_NONE
};
#else
static const uint16_t groups[] = {
    MBEDTLS_SSL_IANA_TLS_GROUP_X25519, MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
    MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1, MBEDTLS_SSL_IANA_TLS_GROUP_NONE
};
#endif

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    struct cl_mtls *c = ctx;
    int rc = c->lower.ops->send(c->lower.ctx, buf, len);

    if (rc >= 0)
        return rc;
    c->lower_err = rc;
    if (rc == CL_ERR_AGAIN)
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    return rc == CL_ERR_CLOSED ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_SEND_FAILED;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    struct cl_mtls *c = ctx;
    int rc = c->lower.ops->recv(c->lower.ctx, buf, len);

    if (rc >= 0)
        return rc;
    c->lower_err = rc;
    if (rc == CL_ERR_AGAIN)
        return MBEDTLS_ERR_SSL_WANT_READ;
    return rc == CL_ERR_CLOSED ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_RECV_FAILED;
}

/* see tls_mbedtls.h */
void cl_mtls_init(struct cl_mtls *c)
{
    memset(c, 0, sizeof(*c));
    mbedtls_ssl_init(&c->ssl);
    mbedtls_ssl_config_init(&c->conf);
    mbedtls_x509_crt_init(&c->anchors);
    mbedtls_x509_crt_init(&c->own);
    mbedtls_pk_init(&c->key);
    mbedtls_ctr_drbg_init(&c->drbg);
    c->state = ST_EMPTY;
    c->peer_alert = -1;
}

/* see tls_mbedtls.h */
int cl_mtls_peer_alert(const struct cl_mtls *c)
{
    return c != NULL ? c->peer_alert : -1;
}

/* see tls_mbedtls.h */
int cl_mtls_setup(struct cl_mtls *c, const struct cl_mtls_config *cfg, struct cl_net lower,
                  uint64_t now)
{
    static const char pers[] = "cardlink device TLS";
    size_t i;
    int ret;

    if (c == NULL || cfg == NULL || lower.ops == NULL || cfg->anchors == NULL ||
        cfg->n_anchors == 0 || cfg->chain == NULL || cfg->n_chain == 0 ||
        cfg->key == NULL || cfg->key_len == 0 || cfg->server_name == NULL ||
        c->state != ST_EMPTY)
        return CL_ERR_ARG;
    for (i = 0; i < cfg->n_anchors; i++)
        if (mbedtls_x509_crt_parse_der(&c->anchors, cfg->anchors[i].der, cfg->anchors[i].len) != 0)
            return CL_ERR_CERT_PARSE;
    for (i = 0; i < cfg->n_chain; i++)
        if (mbedtls_x509_crt_parse_der(&c->own, cfg->chain[i].der, cfg->chain[i].len) != 0)
            return CL_ERR_CERT_PARSE;
#if MBEDTLS_VERSION_MAJOR < 3
    ret = mbedtls_pk_parse_key(&c->key, cfg->key, cfg->key_len, NULL, 0);
#else
    ret = mbedtls_pk_parse_key(&c->key, cfg->key, cfg->key_len, NULL, 0,
                               mbedtls_ctr_drbg_random, &c->drbg);
#endif
    if (ret != 0)
        return CL_ERR_CERT_PARSE;
    if (mbedtls_ctr_drbg_seed(&c->drbg, cl_posix_entropy, NULL,
                              (const unsigned char *)pers, sizeof(pers) - 1) != 0)
        return CL_ERR_IO;
    if (mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT) != 0)
        return CL_ERR_CRYPTO;
#if MBEDTLS_VERSION_MAJOR < 3
    mbedtls_ssl_conf_min_version(&c->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(&c->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_curves(&c->conf, curves);
    mbedtls_ssl_conf_sig_hashes(&c->conf, sig_hashes);
#else
    mbedtls_ssl_conf_min_tls_version(&c->conf, MBEDTLS_SSL_VERSION_TLS1_2);
    mbedtls_ssl_conf_max_tls_version(&c->conf, MBEDTLS_SSL_VERSION_TLS1_2);
    mbedtls_ssl_conf_groups(&c->conf, groups);
#endif
    mbedtls_ssl_conf_ciphersuites(&c->conf, suites);
    mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&c->conf, &c->anchors, NULL);
    mbedtls_ssl_conf_rng(&c->conf, mbedtls_ctr_drbg_random, &c->drbg);
    mbedtls_ssl_conf_renegotiation(&c->conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
    mbedtls_ssl_conf_session_tickets(&c->conf, MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
    if (mbedtls_ssl_conf_own_cert(&c->conf, &c->own, &c->key) != 0)
        return CL_ERR_CRYPTO;
    if (mbedtls_ssl_setup(&c->ssl, &c->conf) != 0 ||
        mbedtls_ssl_set_hostname(&c->ssl, cfg->server_name) != 0)
        return CL_ERR_CRYPTO;
    mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);
    c->lower = lower;
    c->roots = cfg->anchors;
    c->n_roots = cfg->n_anchors;
    c->now = now;
    c->state = ST_HANDSHAKE;
    return CL_OK;
}

/* The certificate error mbedtls's verification flags stand for. */
static int verify_error(uint32_t flags)
{
    /* The most specific reason first: time, chain, role, then name. */
    if (flags & MBEDTLS_X509_BADCERT_EXPIRED)
        return CL_ERR_CERT_EXPIRED;
    if (flags & MBEDTLS_X509_BADCERT_FUTURE)
        return CL_ERR_CERT_NOT_YET_VALID;
    if (flags & (MBEDTLS_X509_BADCERT_NOT_TRUSTED | MBEDTLS_X509_BADCERT_SKIP_VERIFY |
                 MBEDTLS_X509_BADCERT_MISSING))
        return CL_ERR_CERT_UNTRUSTED;
    if (flags & (MBEDTLS_X509_BADCERT_EXT_KEY_USAGE | MBEDTLS_X509_BADCERT_NS_CERT_TYPE))
        return CL_ERR_CERT_PURPOSE;
    if (flags & MBEDTLS_X509_BADCERT_KEY_USAGE)
        return CL_ERR_CERT_KEY_USAGE;
    if (flags & (MBEDTLS_X509_BADCERT_BAD_MD | MBEDTLS_X509_BADCERT_BAD_PK |
                 MBEDTLS_X509_BADCERT_BAD_KEY))
        return CL_ERR_CERT_ALGORITHM;
    return CL_ERR_CERT_UNTRUSTED;   /* CN_MISMATCH: another name */
}

/* An mbedtls error, in the handshake or after it, as a cardlink one. */
static int map_error(struct cl_mtls *c, int ret)
{
    switch (ret) {
    case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
        return verify_error(mbedtls_ssl_get_verify_result(&c->ssl));
    case MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION:
        return CL_ERR_VERSION;
    case MBEDTLS_ERR_SSL_NO_USABLE_CIPHERSUITE:
        return CL_ERR_UNSUPPORTED;
    case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE:
#if MBEDTLS_VERSION_MAJOR < 3
        /* The alert's description (2.28 keeps it in in_msg[1]). */
        if (c->ssl.in_msg != NULL) {
            c->peer_alert = c->ssl.in_msg[1];
            if (c->ssl.in_msg[1] == MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION)
                return CL_ERR_VERSION;
            if (c->ssl.in_msg[1] == MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE ||
                c->ssl.in_msg[1] == MBEDTLS_SSL_ALERT_MSG_INSUFFICIENT_SECURITY)
                return CL_ERR_UNSUPPORTED;
            if (c->ssl.in_msg[1] == MBEDTLS_SSL_ALERT_MSG_BAD_CERT ||
                c->ssl.in_msg[1] == MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_CERT ||
                c->ssl.in_msg[1] == MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA)
                return CL_ERR_CERT_UNTRUSTED;
        }
#endif
        return CL_ERR_PROTOCOL;
    case MBEDTLS_ERR_NET_CONN_RESET:
    case MBEDTLS_ERR_SSL_CONN_EOF:
        return CL_ERR_CLOSED;
    case MBEDTLS_ERR_NET_SEND_FAILED:
    case MBEDTLS_ERR_NET_RECV_FAILED:
        return c->lower_err < 0 ? c->lower_err : CL_ERR_IO;
    case MBEDTLS_ERR_SSL_ALLOC_FAILED:
        return CL_ERR_CRYPTO;
    default:
        return CL_ERR_PROTOCOL;
    }
}

static int fail(struct cl_mtls *c, int err)
{
    c->state = ST_FAILED;
    c->err = err;
    return err;
}

/* After mbedtls's handshake: lib/cert validates the server's chain for its
 * role, at the caller's time, and names the peer. */
static int check_peer(struct cl_mtls *c)
{
    const mbedtls_x509_crt *crt = mbedtls_ssl_get_peer_cert(&c->ssl);
    struct cl_cert_der chain[CL_CERT_CHAIN_MAX];
    struct cl_cert cc;
    size_t n = 0;
    int rc;

    for (; crt != NULL && crt->raw.p != NULL; crt = crt->next) {
        if (n == CL_CERT_CHAIN_MAX)
            return CL_ERR_LIMIT;
        chain[n].der = crt->raw.p;
        chain[n].len = crt->raw.len;
        n++;
    }
    if (n == 0)
        return CL_ERR_CERT_UNTRUSTED;
    cl_cert_init(&cc);
    rc = cl_cert_verify_chain(&cc, chain, n, c->roots, c->n_roots, c->now,
                              CL_CERT_ROLE_SERVER, NULL);
    if (rc == CL_OK)
        rc = cl_cert_fingerprint(&cc, 0, c->peer.fingerprint);
    if (rc == CL_OK) {
        rc = cl_cert_subject(&cc, 0, c->peer.subject, sizeof(c->peer.subject));
        if (rc >= 0)
            rc = CL_OK;
    }
    cl_cert_free(&cc);
    return rc;
}

/* see tls_mbedtls.h */
int cl_mtls_handshake(struct cl_mtls *c)
{
    int ret, rc;

    if (c == NULL)
        return CL_ERR_ARG;
    if (c->state == ST_OPEN)
        return CL_OK;
    if (c->state == ST_FAILED || c->state == ST_CLOSED)
        return CL_ERR_CLOSED;
    if (c->state != ST_HANDSHAKE)
        return CL_ERR_STATE;
    ret = mbedtls_ssl_handshake(&c->ssl);
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
        return CL_ERR_AGAIN;
    if (ret != 0)
        return fail(c, map_error(c, ret));
    rc = check_peer(c);
    if (rc != CL_OK) {
        (void)mbedtls_ssl_send_alert_message(&c->ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                             MBEDTLS_SSL_ALERT_MSG_BAD_CERT);
        return fail(c, rc);
    }
    c->state = ST_OPEN;
    return CL_OK;
}

/* Before data: the handshake done, else its result. */
static int ready(struct cl_mtls *c)
{
    if (c->state == ST_OPEN)
        return CL_OK;
    if (c->state != ST_HANDSHAKE)   /* failed (c->err says why) or closed */
        return CL_ERR_CLOSED;
    return cl_mtls_handshake(c);
}

static int mtls_send(void *ctx, const uint8_t *buf, size_t len)
{
    struct cl_mtls *c = ctx;
    int ret;

    if (c == NULL || buf == NULL || len == 0)
        return CL_ERR_ARG;
    ret = ready(c);
    if (ret != CL_OK)
        return ret;
    if (len > INT32_MAX)
        len = INT32_MAX;
    ret = mbedtls_ssl_write(&c->ssl, buf, len);
    if (ret >= 0)
        return ret;
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
        return CL_ERR_AGAIN;
    return fail(c, map_error(c, ret));
}

static int mtls_recv(void *ctx, uint8_t *buf, size_t size)
{
    struct cl_mtls *c = ctx;
    int ret;

    if (c == NULL || buf == NULL || size == 0)
        return CL_ERR_ARG;
    ret = ready(c);
    if (ret != CL_OK)
        return ret;
    if (size > INT32_MAX)
        size = INT32_MAX;
    ret = mbedtls_ssl_read(&c->ssl, buf, size);
    if (ret > 0)
        return ret;
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
        return CL_ERR_AGAIN;
    if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
        c->state = ST_FAILED;   /* ended: later calls see CL_ERR_CLOSED */
        c->err = CL_ERR_CLOSED;
        return 0;
    }
    if (ret == 0)   /* the transport ended without close_notify */
        return fail(c, CL_ERR_CLOSED);
    return fail(c, map_error(c, ret));
}

static unsigned mtls_want(void *ctx)
{
    struct cl_mtls *c = ctx;

    return c != NULL && c->lower.ops != NULL ? c->lower.ops->want(c->lower.ctx) : 0;
}

static int mtls_fd(void *ctx)
{
    struct cl_mtls *c = ctx;

    if (c == NULL || c->lower.ops == NULL || c->lower.ops->fd == NULL)
        return CL_ERR_CLOSED;
    return c->lower.ops->fd(c->lower.ctx);
}

static int mtls_peer(void *ctx, struct cl_net_peer *out)
{
    struct cl_mtls *c = ctx;

    if (c == NULL || out == NULL)
        return CL_ERR_ARG;
    if (c->state != ST_OPEN)
        return CL_ERR_STATE;
    *out = c->peer;
    return CL_OK;
}

static void mtls_close(void *ctx)
{
    cl_mtls_free(ctx);
}

const struct cl_net_ops cl_mtls_ops = {
    mtls_send, mtls_recv, mtls_want, mtls_fd, mtls_peer, mtls_close,
    CL_NET_CAP_RELIABLE | CL_NET_CAP_SECURE | CL_NET_CAP_FD
};

/* see tls_mbedtls.h */
struct cl_net cl_mtls_net(struct cl_mtls *c)
{
    struct cl_net n;

    n.ops = &cl_mtls_ops;
    n.ctx = c;
    return n;
}

/* see tls_mbedtls.h */
int cl_mtls_error(const struct cl_mtls *c)
{
    return c != NULL && c->state == ST_FAILED ? c->err : CL_OK;
}

/* see tls_mbedtls.h */
const char *cl_mtls_version(const struct cl_mtls *c)
{
    return c != NULL && c->state == ST_OPEN ? mbedtls_ssl_get_version(&c->ssl) : "";
}

/* see tls_mbedtls.h */
const char *cl_mtls_suite(const struct cl_mtls *c)
{
    return c != NULL && c->state == ST_OPEN ? mbedtls_ssl_get_ciphersuite(&c->ssl) : "";
}

/* see tls_mbedtls.h */
void cl_mtls_free(struct cl_mtls *c)
{
    if (c == NULL)
        return;
    if (c->state == ST_OPEN)
        (void)mbedtls_ssl_close_notify(&c->ssl);   /* best effort, not waiting */
    if (c->state != ST_EMPTY && c->state != ST_CLOSED && c->lower.ops != NULL)
        c->lower.ops->close(c->lower.ctx);
    mbedtls_ssl_free(&c->ssl);
    mbedtls_ssl_config_free(&c->conf);
    mbedtls_x509_crt_free(&c->anchors);
    mbedtls_x509_crt_free(&c->own);
    mbedtls_pk_free(&c->key);
    mbedtls_ctr_drbg_free(&c->drbg);
    cl_wipe(c, sizeof(*c));
    cl_mtls_init(c);
    c->state = ST_CLOSED;
}
