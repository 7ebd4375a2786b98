/*
 * cardlink — the server's crypto backend over OpenSSL (libcrypto): a
 * struct cl_server_crypto (cardlink/server.h) for the reference server.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Built only where libssl-dev is found (meson: cl_server_ossl_dep, which
 * defines CL_HAVE_OPENSSL=1).
 *
 *  - chain validation: lib/cert's cl_cert_verify_chain, so that a card's
 *    certificate passes for a role under exactly the rules the device and
 *    every other part of cardlink apply (docs/security.md,
 *    "Certificates"); it runs once per card certificate and role: the
 *    leaf's public key is then held as an OpenSSL EVP_PKEY in a cache
 *    keyed by the leaf's SHA-256 fingerprint and the role (direct-mapped,
 *    `slots` entries; an entry is validated again after ttl_s seconds, or
 *    once a certificate of its chain has expired: cl_cert_valid_until());
 *  - signatures: OpenSSL's ECDSA verification over the digest (DER
 *    ECDSA-Sig-Value), about 20x faster than mbedtls 2.28 on this kind of
 *    machine (docs/performance.md);
 *  - random: RAND_bytes; SHA-256: EVP_Digest;
 *  - the issuer key (cardlink-pki's issuer.key.der, DER PKCS#8 or SEC1),
 *    when given, signs purse credits and e-goods (issuer_sign);
 *  - the gate key (gate.key.der), when loaded with cl_server_ossl_gate_key,
 *    signs the gate's authorisations (gate_sign, docs/protocol.md §5.14).
 * OpenSSL allocates; cl_server_ossl_free releases it all.
 */
#ifndef CARDLINK_POSIX_SERVER_CRYPTO_OPENSSL_H
#define CARDLINK_POSIX_SERVER_CRYPTO_OPENSSL_H

#include "cardlink/server.h"

#ifdef __cplusplus
extern "C" {
#endif

struct cl_server_ossl {
    const struct cl_cert_der *roots;
    size_t n_roots;
    uint64_t ttl_s;
    void *slots;                   /* OpenSSL-side cache entries */
    size_t nslots;
    void *issuer_key;              /* EVP_PKEY or NULL */
    void *gate_key;                /* EVP_PKEY or NULL */
    uint32_t hits, misses;         /* cache statistics */
};

/*
 * Set o up and point port at it. roots[0..n_roots) (the card CA's trust
 * anchors, DER) must outlive o; slots: cache entries (0 = 1024); ttl_s 0 =
 * 3600; issuer_key_der NULL: no issuer key (issuer_sign NULL).
 * Returns CL_OK, CL_ERR_ARG (o or port NULL, roots NULL with n_roots > 0),
 * CL_ERR_CRYPTO (the key does not parse, or is not an EC key; OpenSSL
 * could not allocate). On an error o holds nothing.
 */
CL_WUR int cl_server_ossl_init(struct cl_server_ossl *o, struct cl_server_crypto *port,
                               const struct cl_cert_der *roots, size_t n_roots, size_t slots,
                               uint64_t ttl_s, const uint8_t *issuer_key_der, size_t key_len);

/*
 * Load the gate key der[0..len) (DER PKCS#8 or SEC1, EC P-256) into o,
 * which port must already point at (cl_server_ossl_init), and set
 * port->gate_sign. A key loaded before is replaced.
 * Returns CL_OK, CL_ERR_ARG (NULL o, port or der; port not o's),
 * CL_ERR_CRYPTO (the key does not parse or is not an EC key; nothing
 * changed).
 */
CL_WUR int cl_server_ossl_gate_key(struct cl_server_ossl *o, struct cl_server_crypto *port,
                                   const uint8_t *der, size_t len);

/* Release everything o holds. NULL does nothing. */
void cl_server_ossl_free(struct cl_server_ossl *o);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_POSIX_SERVER_CRYPTO_OPENSSL_H */
