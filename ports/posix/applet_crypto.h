/*
 * cardlink POSIX port — the card applet's crypto port over mbedtls
 * (ECDSA P-256, SHA-256, CTR_DRBG), and the key helpers personalisation
 * needs. Builds against mbedtls 2.28 and 3.6.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CARDLINK_POSIX_APPLET_CRYPTO_H
#define CARDLINK_POSIX_APPLET_CRYPTO_H

#include "cardlink/applet.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The port's context: the random generator. Caller-allocated. */
struct cl_posix_crypto {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    bool ready;
};

/*
 * Seed the generator (system entropy, personalised with pers[0..pers_len),
 * which may be NULL) and fill *port with the callbacks (ctx = c).
 * Returns CL_OK, or CL_ERR_ARG (NULL c or port), CL_ERR_CRYPTO (seeding
 * failed; c is then freed).
 */
CL_WUR int cl_posix_crypto_init(struct cl_posix_crypto *c,
                                struct cl_applet_crypto *port,
                                const uint8_t *pers, size_t pers_len);

/* Free and wipe c. NULL does nothing. */
void cl_posix_crypto_free(struct cl_posix_crypto *c);

/*
 * A fresh P-256 key pair: the private scalar and the uncompressed point.
 * Returns CL_OK, or CL_ERR_ARG (NULL, c not initialised), CL_ERR_CRYPTO.
 */
CL_WUR int cl_posix_crypto_keygen(struct cl_posix_crypto *c,
                                  uint8_t priv[CL_APPLET_PRIV_LEN],
                                  uint8_t pub[CL_APPLET_PUB_LEN]);

/*
 * A P-256 private key from DER (SEC1 ECPrivateKey or PKCS#8, unencrypted,
 * as cardlink-pki writes NAME.key.der): its scalar and its public point
 * (recomputed from the scalar).
 * Returns CL_OK, or CL_ERR_ARG (NULL, c not initialised), CL_ERR_MALFORMED
 * (not a parseable key), CL_ERR_CERT_ALGORITHM (not a P-256 key),
 * CL_ERR_CRYPTO.
 */
CL_WUR int cl_posix_crypto_key_from_der(struct cl_posix_crypto *c,
                                        const uint8_t *der, size_t len,
                                        uint8_t priv[CL_APPLET_PRIV_LEN],
                                        uint8_t pub[CL_APPLET_PUB_LEN]);

/*
 * The P-256 public point of an X.509 certificate or a SubjectPublicKeyInfo,
 * both DER.
 * Returns CL_OK, or CL_ERR_ARG (NULL), CL_ERR_MALFORMED (neither),
 * CL_ERR_CERT_ALGORITHM (not a P-256 key), CL_ERR_CRYPTO.
 */
CL_WUR int cl_posix_crypto_pub_from_der(const uint8_t *der, size_t len,
                                        uint8_t pub[CL_APPLET_PUB_LEN]);

/*
 * ECDSA P-256 signature (DER) over digest with priv, as the port's sign
 * callback: for issuers and tests that need to sign what the applet
 * verifies (credits, e-goods). Returns as the callback (cardlink/applet.h).
 */
CL_WUR int cl_posix_crypto_sign(void *c, const uint8_t priv[CL_APPLET_PRIV_LEN],
                                const uint8_t *digest, size_t digest_len,
                                uint8_t *sig, size_t sig_size,
                                size_t *sig_len);

/* Verify, as the port's verify callback (c unused; may be NULL). */
CL_WUR int cl_posix_crypto_verify(void *c, const uint8_t pub[CL_APPLET_PUB_LEN],
                                  const uint8_t *digest, size_t digest_len,
                                  const uint8_t *sig, size_t sig_len);

/* SHA-256, as the port's sha256 callback (c unused; may be NULL). */
CL_WUR int cl_posix_crypto_sha256(void *c, const uint8_t *data, size_t len,
                                  uint8_t out[CL_APPLET_HASH_LEN]);

#ifdef __cplusplus
}
#endif

#endif
