/*
 * cardlink — the server's TLS endpoint (OpenSSL libssl), a struct cl_net
 * (cardlink/net.h) over another one (an accepted TCP connection).
 * SPDX-License-Identifier: Apache-2.0
 *
 * Built only where libssl-dev is found (meson: cl_posix_tls_openssl_dep,
 * which defines CL_HAVE_OPENSSL=1).
 *
 * Policy (fixed; docs/porting.md, "Network stream"):
 *  - TLS 1.2 and 1.3; nothing older (a TLS 1.1 hello is CL_ERR_VERSION);
 *  - TLS 1.2 suites: ECDHE with AES-GCM or ChaCha20-Poly1305 only; TLS
 *    1.3's suites are all AEAD; groups X25519, P-256, P-384; OpenSSL
 *    security level 2; no renegotiation, no session tickets or cache;
 *  - a client certificate is REQUIRED and must chain to one of
 *    cfg.anchors (the device CA: cardlink-pki's device-ca, which is then
 *    the trust anchor although it is not self-signed) for OpenSSL's
 *    sslclient purpose; after the handshake lib/cert validates the chain
 *    again for CL_CERT_ROLE_DEVICE at the caller's `now`, so a card's
 *    certificate (id-PIV-cardAuth, another CA) never passes as a device;
 *  - the device's identity (subject, SHA-256 of its certificate) is
 *    reported by peer() for the server to check against its enrolment.
 *
 * One struct cl_ossl_server (the SSL_CTX: keys, trust) serves any number
 * of connections (struct cl_ossl_conn). OpenSSL allocates both.
 */
#ifndef CARDLINK_POSIX_TLS_OPENSSL_H
#define CARDLINK_POSIX_TLS_OPENSSL_H

#include "cardlink/cert.h"
#include "cardlink/net.h"

#include <openssl/ssl.h>

/* What a server brings. The anchors' DER must outlive the server. */
struct cl_ossl_config {
    const struct cl_cert_der *anchors;   /* the device CA(s) trusted */
    size_t n_anchors;
    const struct cl_cert_der *chain;     /* the server's certificate, then
                                            intermediates */
    size_t n_chain;
    const uint8_t *key;                  /* its private key, DER */
    size_t key_len;
};

/* A server's TLS configuration. Do not touch the fields. */
struct cl_ossl_server {
    SSL_CTX *ctx;
    BIO_METHOD *bio_method;
    const struct cl_cert_der *anchors;
    size_t n_anchors;
};

/* One connection. Do not touch the fields. */
struct cl_ossl_conn {
    SSL *ssl;
    struct cl_net lower;
    const struct cl_ossl_server *srv;
    uint64_t now;
    int state;               /* enum in tls_openssl.c */
    int err;                 /* why it failed */
    int lower_err;           /* the lower stream's last error */
    struct cl_net_peer peer;
};

/* The stream callbacks (caps: RELIABLE | SECURE | FD). */
extern const struct cl_net_ops cl_ossl_ops;

/* Make s empty. Cannot fail. */
void cl_ossl_server_init(struct cl_ossl_server *s);

/*
 * Load the server's certificate, key and trust anchors. Returns CL_OK,
 * CL_ERR_ARG (NULL or empty fields), CL_ERR_CERT_PARSE (a certificate or
 * the key does not parse, or the key is not the certificate's),
 * CL_ERR_CRYPTO (OpenSSL refused or could not allocate). Free s either way.
 */
CL_WUR int cl_ossl_server_setup(struct cl_ossl_server *s, const struct cl_ossl_config *cfg);

/* Release s. NULL does nothing. Connections must be freed first. */
void cl_ossl_server_free(struct cl_ossl_server *s);

/* Make c empty. Cannot fail. */
void cl_ossl_conn_init(struct cl_ossl_conn *c);

/*
 * Set c up as the server side of a connection over `lower` (which c then
 * owns), checking the device's chain at `now` (seconds since 1970, the
 * caller's clock). Returns CL_OK, CL_ERR_ARG, CL_ERR_CRYPTO. On failure
 * free c (lower is not closed).
 */
CL_WUR int cl_ossl_conn_setup(struct cl_ossl_conn *c, const struct cl_ossl_server *s,
                              struct cl_net lower, uint64_t now);

/* Advance the handshake: CL_OK (done, peer() valid), CL_ERR_AGAIN, or the
 * failure (sticky), as listed for recv in cardlink/net.h. */
CL_WUR int cl_ossl_conn_handshake(struct cl_ossl_conn *c);

/* The error a failed connection failed with (CL_OK while it has not). */
int cl_ossl_conn_error(const struct cl_ossl_conn *c);

/* A struct cl_net over c. Cannot fail. */
struct cl_net cl_ossl_conn_net(struct cl_ossl_conn *c);

/* Negotiated protocol ("TLSv1.3") and cipher (OpenSSL's name), or "". */
const char *cl_ossl_conn_version(const struct cl_ossl_conn *c);
const char *cl_ossl_conn_cipher(const struct cl_ossl_conn *c);

/* Close (close_notify, not waiting), release c and lower. NULL does
 * nothing; safe after a failed setup (lower then stays open). */
void cl_ossl_conn_free(struct cl_ossl_conn *c);

#endif /* CARDLINK_POSIX_TLS_OPENSSL_H */
