/*
 * cardlink — the device's TLS client (mbedtls 2.28 / 3.6), a struct
 * cl_net (cardlink/net.h) over another one (TCP, or any reliable stream).
 * SPDX-License-Identifier: Apache-2.0
 *
 * Policy (fixed; docs/porting.md, "Network stream", and docs/security.md):
 *  - TLS 1.2 exactly (mbedtls 2.28 has no production TLS 1.3);
 *  - cipher suites: ECDHE with AES-GCM or ChaCha20-Poly1305 only (forward
 *    secrecy, AEAD); groups X25519, P-256, P-384; signatures with SHA-256
 *    or better; no renegotiation, no session tickets, no compression;
 *  - the server's certificate must chain to one of cfg.anchors (the
 *    server CA: cardlink-pki's server-ca) and name cfg.server_name in its
 *    subjectAltName (mbedtls checks both during the handshake, against the
 *    system clock); then, once the handshake is done, lib/cert validates
 *    the chain again for CL_CERT_ROLE_SERVER at the caller's `now`
 *    (cardlink/cert.h: distinct CAs and EKUs per role), so that no card's
 *    or device's certificate can pass as the server's;
 *  - the device presents cfg.chain (its certificate from device-ca) with
 *    cfg.key: mutual authentication;
 *  - random: mbedtls CTR-DRBG seeded from getrandom() (rand_posix.h).
 *
 * Memory: mbedtls allocates its record buffers (about 2 x 16.7 KiB) and
 * the parsed certificates; cl_mtls_free() releases and wipes them.
 */
#ifndef CARDLINK_POSIX_TLS_MBEDTLS_H
#define CARDLINK_POSIX_TLS_MBEDTLS_H

#include "cardlink/cert.h"
#include "cardlink/net.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

/* What a device brings to its TLS client. The anchors' DER must outlive
 * the connection (lib/cert reads them after the handshake). */
struct cl_mtls_config {
    const struct cl_cert_der *anchors;   /* the server CA(s) trusted */
    size_t n_anchors;
    const struct cl_cert_der *chain;     /* the device's certificate, then
                                            any intermediates (not the CA
                                            the server trusts) */
    size_t n_chain;
    const uint8_t *key;                  /* its private key, DER (SEC1 or
                                            PKCS#8) */
    size_t key_len;
    const char *server_name;             /* the server's DNS name, checked
                                            against its certificate */
};

/* A TLS client connection. Do not touch the fields. */
struct cl_mtls {
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt anchors, own;
    mbedtls_pk_context key;
    mbedtls_ctr_drbg_context drbg;
    struct cl_net lower;
    const struct cl_cert_der *roots;
    size_t n_roots;
    uint64_t now;
    int state;               /* enum in tls_mbedtls.c */
    int err;                 /* sticky error of a failed handshake */
    int lower_err;           /* the lower stream's last error */
    int peer_alert;          /* a fatal alert the peer sent (its code), or -1 */
    struct cl_net_peer peer;
};

/* The stream callbacks (caps: RELIABLE | SECURE | FD when the lower stream
 * has FD; the posix lower streams all do). */
extern const struct cl_net_ops cl_mtls_ops;

/* Make c empty (safe to free). Cannot fail. */
void cl_mtls_init(struct cl_mtls *c);

/* The description code of the fatal alert the peer sent (for instance 42
 * bad_certificate or 48 unknown_ca when the server refused this device's
 * certificate), or -1 when none came: it tells a CL_ERR_CERT_UNTRUSTED
 * that the peer decided from one this side's verification decided. -1 on
 * NULL, and with mbedtls 3 (which keeps the alert private). */
int cl_mtls_peer_alert(const struct cl_mtls *c);

/*
 * Set up c (after cl_mtls_init) as a client over `lower`, which c then
 * owns (closing c closes it). `now` is the time (seconds since 1970, the
 * caller's clock) lib/cert checks the server's chain at. Returns CL_OK,
 * CL_ERR_ARG (NULL, no anchors, no chain, no key, no server_name),
 * CL_ERR_CERT_PARSE (a certificate or the key does not parse),
 * CL_ERR_IO (no random), CL_ERR_CRYPTO (mbedtls refused the
 * configuration or could not allocate). On failure free c (lower is
 * not closed).
 */
CL_WUR int cl_mtls_setup(struct cl_mtls *c, const struct cl_mtls_config *cfg,
                         struct cl_net lower, uint64_t now);

/*
 * Advance the handshake: CL_OK when it is done (peer() valid),
 * CL_ERR_AGAIN (wait for want()), or the failure (sticky), as listed for
 * recv in cardlink/net.h. send and recv run it too.
 */
CL_WUR int cl_mtls_handshake(struct cl_mtls *c);

/* The error a failed connection failed with (CL_OK while it has not). */
int cl_mtls_error(const struct cl_mtls *c);

/* A struct cl_net over c. Cannot fail. */
struct cl_net cl_mtls_net(struct cl_mtls *c);

/* The negotiated protocol ("TLSv1.2") and suite (IANA-like name as mbedtls
 * spells it), or "" before the handshake. */
const char *cl_mtls_version(const struct cl_mtls *c);
const char *cl_mtls_suite(const struct cl_mtls *c);

/* Close (close_notify, not waiting), release and wipe c, lower included.
 * NULL does nothing; safe after a failed setup (lower then stays open). */
void cl_mtls_free(struct cl_mtls *c);

#endif /* CARDLINK_POSIX_TLS_MBEDTLS_H */
