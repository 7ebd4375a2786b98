/*
 * cardlink — the server's TLS endpoint over OpenSSL.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "tls_openssl.h"

#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "cardlink/wipe.h"

enum { ST_EMPTY, ST_HANDSHAKE, ST_OPEN, ST_FAILED, ST_CLOSED };

/* ------------------------------------------------ the BIO over a cl_net */

static int bio_write(BIO *b, const char *data, int len)
{
    struct cl_ossl_conn *c = BIO_get_data(b);
    int rc;

    BIO_clear_retry_flags(b);
    if (len <= 0)
        return 0;
    rc = c->lower.ops->send(c->lower.ctx, (const uint8_t *)data, (size_t)len);
    if (rc >= 0)
        return rc;
    c->lower_err = rc;
    if (rc == CL_ERR_AGAIN)
        BIO_set_retry_write(b);
    return -1;
}

static int bio_read(BIO *b, char *data, int len)
{
    struct cl_ossl_conn *c = BIO_get_data(b);
    int rc;

    BIO_clear_retry_flags(b);
    if (len <= 0)
        return 0;
    rc = c->lower.ops->recv(c->lower.ctx, (uint8_t *)data, (size_t)len);
    if (rc >= 0)
        return rc;
    c->lower_err = rc;
    if (rc == CL_ERR_AGAIN)
        BIO_set_retry_read(b);
    return -1;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

/* ------------------------------------------------ the server */

/* see tls_openssl.h */
void cl_ossl_server_init(struct cl_ossl_server *s)
{
    memset(s, 0, sizeof(*s));
}

static X509 *x509_of(const struct cl_cert_der *d)
{
    const unsigned char *p = d->der;

    if (d->der == NULL || d->len == 0 || d->len > INT32_MAX)
        return NULL;
    return d2i_X509(NULL, &p, (long)d->len);
}

/* see tls_openssl.h */
int cl_ossl_server_setup(struct cl_ossl_server *s, const struct cl_ossl_config *cfg)
{
    X509_STORE *store;
    X509_VERIFY_PARAM *param;
    const unsigned char *kp;
    EVP_PKEY *key;
    size_t i;

    if (s == NULL || cfg == NULL || cfg->anchors == NULL || cfg->n_anchors == 0 ||
        cfg->chain == NULL || cfg->n_chain == 0 || cfg->key == NULL || cfg->key_len == 0 ||
        cfg->key_len > INT32_MAX || s->ctx != NULL)
        return CL_ERR_ARG;
    s->ctx = SSL_CTX_new(TLS_server_method());
    s->bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "cardlink cl_net");
    if (s->ctx == NULL || s->bio_method == NULL ||
        BIO_meth_set_write(s->bio_method, bio_write) != 1 ||
        BIO_meth_set_read(s->bio_method, bio_read) != 1 ||
        BIO_meth_set_ctrl(s->bio_method, bio_ctrl) != 1 ||
        BIO_meth_set_create(s->bio_method, bio_create) != 1)
        return CL_ERR_CRYPTO;
    /* Versions, suites, groups: see the policy in tls_openssl.h. */
    if (SSL_CTX_set_min_proto_version(s->ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(s->ctx, "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL") != 1 ||
        SSL_CTX_set1_groups_list(s->ctx, "X25519:P-256:P-384") != 1)
        return CL_ERR_CRYPTO;
    SSL_CTX_set_security_level(s->ctx, 2);
    SSL_CTX_set_options(s->ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
                                SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    (void)SSL_CTX_set_num_tickets(s->ctx, 0);
    SSL_CTX_set_session_cache_mode(s->ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_mode(s->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE);

    /* The server's certificate, chain and key. */
    for (i = 0; i < cfg->n_chain; i++) {
        X509 *x = x509_of(&cfg->chain[i]);
        int ok;

        if (x == NULL)
            return CL_ERR_CERT_PARSE;
        if (i == 0) {
            ok = SSL_CTX_use_certificate(s->ctx, x) == 1;
            X509_free(x);
        } else {
            ok = SSL_CTX_add0_chain_cert(s->ctx, x) == 1;   /* takes x */
            if (!ok)
                X509_free(x);
        }
        if (!ok)
            return CL_ERR_CERT_PARSE;
    }
    kp = cfg->key;
    key = d2i_AutoPrivateKey(NULL, &kp, (long)cfg->key_len);
    if (key == NULL)
        return CL_ERR_CERT_PARSE;
    i = SSL_CTX_use_PrivateKey(s->ctx, key) == 1 && SSL_CTX_check_private_key(s->ctx) == 1;
    EVP_PKEY_free(key);
    if (!i)
        return CL_ERR_CERT_PARSE;

    /* Trust: the device CA(s) only, as anchors, for the sslclient purpose. */
    store = SSL_CTX_get_cert_store(s->ctx);
    for (i = 0; i < cfg->n_anchors; i++) {
        X509 *x = x509_of(&cfg->anchors[i]);
        int ok;

        if (x == NULL)
            return CL_ERR_CERT_PARSE;
        ok = X509_STORE_add_cert(store, x) == 1 && SSL_CTX_add_client_CA(s->ctx, x) == 1;
        X509_free(x);
        if (!ok)
            return CL_ERR_CRYPTO;
    }
    param = SSL_CTX_get0_param(s->ctx);
    if (X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_X509_STRICT) != 1 ||
        X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_CLIENT) != 1)
        return CL_ERR_CRYPTO;
    SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    s->anchors = cfg->anchors;
    s->n_anchors = cfg->n_anchors;
    return CL_OK;
}

/* see tls_openssl.h */
void cl_ossl_server_free(struct cl_ossl_server *s)
{
    if (s == NULL)
        return;
    SSL_CTX_free(s->ctx);
    BIO_meth_free(s->bio_method);
    memset(s, 0, sizeof(*s));
}

/* ------------------------------------------------ connections */

/* see tls_openssl.h */
void cl_ossl_conn_init(struct cl_ossl_conn *c)
{
    memset(c, 0, sizeof(*c));
    c->state = ST_EMPTY;
}

/* see tls_openssl.h */
int cl_ossl_conn_setup(struct cl_ossl_conn *c, const struct cl_ossl_server *s,
                       struct cl_net lower, uint64_t now)
{
    BIO *bio;

    if (c == NULL || s == NULL || s->ctx == NULL || lower.ops == NULL || c->state != ST_EMPTY)
        return CL_ERR_ARG;
    c->ssl = SSL_new(s->ctx);
    bio = BIO_new(s->bio_method);
    if (c->ssl == NULL || bio == NULL) {
        BIO_free(bio);
        return CL_ERR_CRYPTO;
    }
    BIO_set_data(bio, c);
    SSL_set_bio(c->ssl, bio, bio);   /* c->ssl owns bio */
    SSL_set_accept_state(c->ssl);
    c->lower = lower;
    c->srv = s;
    c->now = now;
    c->state = ST_HANDSHAKE;
    return CL_OK;
}

/* OpenSSL's verification result as a cardlink error. */
static int verify_error(long v)
{
    switch (v) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
        return CL_ERR_CERT_EXPIRED;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return CL_ERR_CERT_NOT_YET_VALID;
    case X509_V_ERR_INVALID_PURPOSE:
        return CL_ERR_CERT_PURPOSE;
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
        return CL_ERR_SIGNATURE;
    case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
    case X509_V_ERR_INVALID_CA:
        return CL_ERR_CERT_KEY_USAGE;
    case X509_V_ERR_PATH_LENGTH_EXCEEDED:
        return CL_ERR_CERT_PATH_LEN;
    case X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION:
        return CL_ERR_CERT_CRITICAL;
    case X509_V_ERR_CA_MD_TOO_WEAK:
    case X509_V_ERR_EE_KEY_TOO_SMALL:
    case X509_V_ERR_CA_KEY_TOO_SMALL:
        return CL_ERR_CERT_ALGORITHM;
    default:
        return CL_ERR_CERT_UNTRUSTED;
    }
}

/* Why SSL_do_handshake / SSL_read / SSL_write failed (ret <= 0). */
static int map_error(struct cl_ossl_conn *c, int ret)
{
    int e = SSL_get_error(c->ssl, ret);
    unsigned long err;
    int rc;

    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return CL_ERR_AGAIN;
    if (e == SSL_ERROR_ZERO_RETURN)
        return 0;
    if (e == SSL_ERROR_SYSCALL) {
        ERR_clear_error();
        return c->lower_err < 0 && c->lower_err != CL_ERR_AGAIN ? c->lower_err : CL_ERR_CLOSED;
    }
    if (e != SSL_ERROR_SSL) {
        ERR_clear_error();
        return CL_ERR_PROTOCOL;
    }
    err = ERR_peek_last_error();
    switch (ERR_GET_REASON(err)) {
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
        rc = CL_ERR_VERSION;
        break;
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_SHARED_GROUPS:
    case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM:
    case SSL_R_NO_SHARED_SIGNATURE_ALGORITHMS:
    case SSL_R_NO_CIPHERS_AVAILABLE:
        rc = CL_ERR_UNSUPPORTED;
        break;
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
        rc = CL_ERR_CERT_UNTRUSTED;
        break;
    case SSL_R_CERTIFICATE_VERIFY_FAILED:
        rc = verify_error(SSL_get_verify_result(c->ssl));
        break;
    case SSL_R_UNEXPECTED_EOF_WHILE_READING:
        rc = CL_ERR_CLOSED;
        break;
    default:
        rc = CL_ERR_PROTOCOL;
        break;
    }
    ERR_clear_error();
    return rc;
}

static int fail(struct cl_ossl_conn *c, int err)
{
    c->state = ST_FAILED;
    c->err = err;
    return err;
}

/* After OpenSSL's handshake: lib/cert validates the device's chain for the
 * device role and names it. */
static int check_peer(struct cl_ossl_conn *c)
{
    X509 *leaf = SSL_get0_peer_certificate(c->ssl);
    STACK_OF(X509) *rest = SSL_get_peer_cert_chain(c->ssl);   /* without the leaf */
    unsigned char *der[CL_CERT_CHAIN_MAX];
    struct cl_cert_der chain[CL_CERT_CHAIN_MAX];
    struct cl_cert cc;
    size_t n = 0, i;
    int rc = CL_OK, k;

    if (leaf == NULL)
        return CL_ERR_CERT_UNTRUSTED;
    for (k = -1; rc == CL_OK && k < (rest != NULL ? sk_X509_num(rest) : 0); k++) {
        X509 *x = k < 0 ? leaf : sk_X509_value(rest, k);
        int len;

        if (n == CL_CERT_CHAIN_MAX) {
            rc = CL_ERR_LIMIT;
            break;
        }
        der[n] = NULL;
        len = i2d_X509(x, &der[n]);
        if (len <= 0) {
            rc = CL_ERR_CRYPTO;
            break;
        }
        chain[n].der = der[n];
        chain[n].len = (size_t)len;
        n++;
    }
    if (rc == CL_OK) {
        cl_cert_init(&cc);
        rc = cl_cert_verify_chain(&cc, chain, n, c->srv->anchors, c->srv->n_anchors, c->now,
                                  CL_CERT_ROLE_DEVICE, NULL);
        if (rc == CL_OK)
            rc = cl_cert_fingerprint(&cc, 0, c->peer.fingerprint);
        if (rc == CL_OK) {
            rc = cl_cert_subject(&cc, 0, c->peer.subject, sizeof(c->peer.subject));
            if (rc >= 0)
                rc = CL_OK;
        }
        cl_cert_free(&cc);
    }
    for (i = 0; i < n; i++)
        OPENSSL_free(der[i]);
    return rc;
}

/* see tls_openssl.h */
int cl_ossl_conn_handshake(struct cl_ossl_conn *c)
{
    int ret, rc;

    if (c == NULL)
        return CL_ERR_ARG;
    if (c->state == ST_OPEN)
        return CL_OK;
    if (c->state != ST_HANDSHAKE)
        return c->state == ST_EMPTY ? CL_ERR_STATE : CL_ERR_CLOSED;
    ret = SSL_do_handshake(c->ssl);
    if (ret != 1) {
        rc = map_error(c, ret);
        if (rc == CL_ERR_AGAIN)
            return rc;
        return fail(c, rc == 0 ? CL_ERR_CLOSED : rc);
    }
    rc = check_peer(c);
    if (rc != CL_OK)
        return fail(c, rc);
    c->state = ST_OPEN;
    return CL_OK;
}

/* see tls_openssl.h */
int cl_ossl_conn_error(const struct cl_ossl_conn *c)
{
    return c != NULL && c->state == ST_FAILED ? c->err : CL_OK;
}

static int ready(struct cl_ossl_conn *c)
{
    if (c->state == ST_OPEN)
        return CL_OK;
    if (c->state != ST_HANDSHAKE)
        return CL_ERR_CLOSED;
    return cl_ossl_conn_handshake(c);
}

static int ossl_send(void *ctx, const uint8_t *buf, size_t len)
{
    struct cl_ossl_conn *c = ctx;
    int ret;

    if (c == NULL || buf == NULL || len == 0)
        return CL_ERR_ARG;
    ret = ready(c);
    if (ret != CL_OK)
        return ret;
    if (len > INT32_MAX)
        len = INT32_MAX;
    ret = SSL_write(c->ssl, buf, (int)len);
    if (ret > 0)
        return ret;
    ret = map_error(c, ret);
    if (ret == CL_ERR_AGAIN)
        return ret;
    return fail(c, ret == 0 ? CL_ERR_CLOSED : ret);
}

static int ossl_recv(void *ctx, uint8_t *buf, size_t size)
{
    struct cl_ossl_conn *c = ctx;
    int ret;

    if (c == NULL || buf == NULL || size == 0)
        return CL_ERR_ARG;
    ret = ready(c);
    if (ret != CL_OK)
        return ret;
    if (size > INT32_MAX)
        size = INT32_MAX;
    ret = SSL_read(c->ssl, buf, (int)size);
    if (ret > 0)
        return ret;
    ret = map_error(c, ret);
    if (ret == CL_ERR_AGAIN)
        return ret;
    if (ret == 0) {   /* close_notify: the orderly end */
        c->state = ST_FAILED;
        c->err = CL_ERR_CLOSED;
        return 0;
    }
    return fail(c, ret);
}

static unsigned ossl_want(void *ctx)
{
    struct cl_ossl_conn *c = ctx;

    return c != NULL && c->lower.ops != NULL ? c->lower.ops->want(c->lower.ctx) : 0;
}

static int ossl_fd(void *ctx)
{
    struct cl_ossl_conn *c = ctx;

    if (c == NULL || c->lower.ops == NULL || c->lower.ops->fd == NULL)
        return CL_ERR_CLOSED;
    return c->lower.ops->fd(c->lower.ctx);
}

static int ossl_peer(void *ctx, struct cl_net_peer *out)
{
    struct cl_ossl_conn *c = ctx;

    if (c == NULL || out == NULL)
        return CL_ERR_ARG;
    if (c->state != ST_OPEN)
        return CL_ERR_STATE;
    *out = c->peer;
    return CL_OK;
}

static void ossl_close(void *ctx)
{
    cl_ossl_conn_free(ctx);
}

const struct cl_net_ops cl_ossl_ops = {
    ossl_send, ossl_recv, ossl_want, ossl_fd, ossl_peer, ossl_close,
    CL_NET_CAP_RELIABLE | CL_NET_CAP_SECURE | CL_NET_CAP_FD
};

/* see tls_openssl.h */
struct cl_net cl_ossl_conn_net(struct cl_ossl_conn *c)
{
    struct cl_net n;

    n.ops = &cl_ossl_ops;
    n.ctx = c;
    return n;
}

/* see tls_openssl.h */
const char *cl_ossl_conn_version(const struct cl_ossl_conn *c)
{
    return c != NULL && c->state == ST_OPEN ? SSL_get_version(c->ssl) : "";
}

/* see tls_openssl.h */
const char *cl_ossl_conn_cipher(const struct cl_ossl_conn *c)
{
    return c != NULL && c->state == ST_OPEN ? SSL_get_cipher_name(c->ssl) : "";
}

/* see tls_openssl.h */
void cl_ossl_conn_free(struct cl_ossl_conn *c)
{
    if (c == NULL)
        return;
    if (c->state == ST_OPEN)
        (void)SSL_shutdown(c->ssl);   /* close_notify, best effort */
    ERR_clear_error();
    SSL_free(c->ssl);                 /* and its BIO */
    if (c->state != ST_EMPTY && c->state != ST_CLOSED && c->lower.ops != NULL)
        c->lower.ops->close(c->lower.ctx);
    cl_wipe(c, sizeof(*c));
    cl_ossl_conn_init(c);
    c->state = ST_CLOSED;
}
