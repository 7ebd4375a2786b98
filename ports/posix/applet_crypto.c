/*
 * cardlink POSIX port — the card applet's crypto port over mbedtls.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Only the low-level ECP/ECDSA/bignum API (stable from 2.28 to 3.6) touches
 * key material; the PK layer is used only to parse DER, and the public
 * point is read back through mbedtls_pk_write_pubkey_der() so that no
 * private struct field is needed with 3.x.
 */
#include "applet_crypto.h"
#include "cardlink/cert.h"
#include "cardlink/error.h"
#include "cardlink/wipe.h"

#include <string.h>

#include <mbedtls/bignum.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>

#define P256_LEN 32u

static int rng(void *ctx, unsigned char *out, size_t len)
{
    return mbedtls_ctr_drbg_random(ctx, out, len);
}

/* see applet_crypto.h */
int cl_posix_crypto_sha256(void *c, const uint8_t *data, size_t len,
                           uint8_t out[CL_APPLET_HASH_LEN])
{
    (void)c;
    if (out == NULL || (data == NULL && len > 0))
        return CL_ERR_ARG;
    return cl_sha256(data, len, out);   /* the one path (cardlink/cert.h) */
}

static int random_cb(void *ctx, uint8_t *out, size_t len)
{
    struct cl_posix_crypto *c = ctx;
    if (c == NULL || !c->ready || (out == NULL && len > 0) || len > 256u)
        return CL_ERR_ARG;
    return mbedtls_ctr_drbg_random(&c->drbg, out, len) == 0 ? CL_OK
                                                            : CL_ERR_CRYPTO;
}

/* DER INTEGER of a 32-byte unsigned value at out; its length. */
static size_t der_int(const uint8_t v[P256_LEN], uint8_t *out)
{
    size_t i = 0, n;
    while (i < P256_LEN - 1u && v[i] == 0)
        i++;
    n = P256_LEN - i;
    out[0] = 0x02;
    if (v[i] & 0x80u) {
        out[1] = (uint8_t)(n + 1u);
        out[2] = 0;
        memcpy(out + 3, v + i, n);
        return n + 3u;
    }
    out[1] = (uint8_t)n;
    memcpy(out + 2, v + i, n);
    return n + 2u;
}

/* Parse a strict DER INTEGER (positive, minimal, <= 32 value bytes). */
static int der_get_int(const uint8_t **p, const uint8_t *end, mbedtls_mpi *x)
{
    const uint8_t *q = *p;
    size_t n;
    if (end - q < 2 || q[0] != 0x02)
        return -1;
    n = q[1];
    q += 2;
    if (n == 0 || n > 33u || (size_t)(end - q) < n || (q[0] & 0x80u))
        return -1;
    if (n > 1 && q[0] == 0 && !(q[1] & 0x80u))
        return -1;                      /* not minimal */
    if (n == 33u && q[0] != 0)
        return -1;
    if (mbedtls_mpi_read_binary(x, q, n) != 0)
        return -1;
    *p = q + n;
    return 0;
}

static int load_p256(mbedtls_ecp_group *grp)
{
    return mbedtls_ecp_group_load(grp, MBEDTLS_ECP_DP_SECP256R1) == 0
               ? CL_OK : CL_ERR_CRYPTO;
}

/* see applet_crypto.h */
int cl_posix_crypto_sign(void *ctx, const uint8_t priv[CL_APPLET_PRIV_LEN],
                         const uint8_t *digest, size_t digest_len,
                         uint8_t *sig, size_t sig_size, size_t *sig_len)
{
    struct cl_posix_crypto *c = ctx;
    mbedtls_ecp_group grp;
    mbedtls_mpi d, r, s;
    uint8_t rb[P256_LEN], sb[P256_LEN], body[CL_APPLET_SIG_MAX];
    size_t n;
    int rc = CL_ERR_CRYPTO;

    if (c == NULL || !c->ready || priv == NULL || digest == NULL ||
        digest_len == 0 || sig == NULL || sig_len == NULL ||
        sig_size < CL_APPLET_SIG_MAX)
        return CL_ERR_ARG;
    mbedtls_ecp_group_init(&grp);
    mbedtls_mpi_init(&d);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    if (load_p256(&grp) != CL_OK ||
        mbedtls_mpi_read_binary(&d, priv, CL_APPLET_PRIV_LEN) != 0 ||
        mbedtls_ecp_check_privkey(&grp, &d) != 0 ||
        mbedtls_ecdsa_sign(&grp, &r, &s, &d, digest, digest_len, rng,
                           &c->drbg) != 0 ||
        mbedtls_mpi_write_binary(&r, rb, sizeof(rb)) != 0 ||
        mbedtls_mpi_write_binary(&s, sb, sizeof(sb)) != 0)
        goto out;
    n = der_int(rb, body);
    n += der_int(sb, body + n);
    sig[0] = 0x30;
    sig[1] = (uint8_t)n;
    memcpy(sig + 2, body, n);
    *sig_len = n + 2u;
    rc = CL_OK;
out:
    cl_wipe(rb, sizeof(rb));
    cl_wipe(sb, sizeof(sb));
    mbedtls_mpi_free(&d);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    mbedtls_ecp_group_free(&grp);
    return rc;
}

/* see applet_crypto.h */
int cl_posix_crypto_verify(void *ctx, const uint8_t pub[CL_APPLET_PUB_LEN],
                           const uint8_t *digest, size_t digest_len,
                           const uint8_t *sig, size_t sig_len)
{
    mbedtls_ecp_group grp;
    mbedtls_ecp_point q;
    mbedtls_mpi r, s;
    const uint8_t *p, *end;
    int rc = CL_ERR_SIGNATURE;

    (void)ctx;
    if (pub == NULL || digest == NULL || digest_len == 0 ||
        (sig == NULL && sig_len > 0))
        return CL_ERR_ARG;
    if (sig_len < 8u || sig_len > CL_APPLET_SIG_MAX || sig[0] != 0x30 ||
        sig[1] != sig_len - 2u)
        return CL_ERR_SIGNATURE;
    mbedtls_ecp_group_init(&grp);
    mbedtls_ecp_point_init(&q);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    if (load_p256(&grp) != CL_OK) {
        rc = CL_ERR_CRYPTO;
        goto out;
    }
    p = sig + 2;
    end = sig + sig_len;
    if (der_get_int(&p, end, &r) != 0 || der_get_int(&p, end, &s) != 0 ||
        p != end)
        goto out;
    if (mbedtls_ecp_point_read_binary(&grp, &q, pub, CL_APPLET_PUB_LEN) != 0 ||
        mbedtls_ecp_check_pubkey(&grp, &q) != 0)
        goto out;
    if (mbedtls_ecdsa_verify(&grp, digest, digest_len, &q, &r, &s) == 0)
        rc = CL_OK;
out:
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    mbedtls_ecp_point_free(&q);
    mbedtls_ecp_group_free(&grp);
    return rc;
}

/* see applet_crypto.h */
int cl_posix_crypto_init(struct cl_posix_crypto *c,
                         struct cl_applet_crypto *port, const uint8_t *pers,
                         size_t pers_len)
{
    static const char label[] = "cardlink applet";

    if (c == NULL || port == NULL)
        return CL_ERR_ARG;
    memset(c, 0, sizeof(*c));
    mbedtls_entropy_init(&c->entropy);
    mbedtls_ctr_drbg_init(&c->drbg);
    if (pers == NULL) {
        pers = (const uint8_t *)label;
        pers_len = sizeof(label) - 1;
    }
    if (mbedtls_ctr_drbg_seed(&c->drbg, mbedtls_entropy_func, &c->entropy,
                              pers, pers_len) != 0) {
        cl_posix_crypto_free(c);
        return CL_ERR_CRYPTO;
    }
    c->ready = true;
    port->sign = cl_posix_crypto_sign;
    port->verify = cl_posix_crypto_verify;
    port->random = random_cb;
    port->sha256 = cl_posix_crypto_sha256;
    port->ctx = c;
    return CL_OK;
}

/* see applet_crypto.h */
void cl_posix_crypto_free(struct cl_posix_crypto *c)
{
    if (c == NULL)
        return;
    mbedtls_ctr_drbg_free(&c->drbg);
    mbedtls_entropy_free(&c->entropy);
    cl_wipe(c, sizeof(*c));
}

/* The public point of the scalar d. */
static int point_of(struct cl_posix_crypto *c, mbedtls_ecp_group *grp,
                    const mbedtls_mpi *d, uint8_t pub[CL_APPLET_PUB_LEN])
{
    mbedtls_ecp_point q;
    size_t olen = 0;
    int ok;

    mbedtls_ecp_point_init(&q);
    ok = mbedtls_ecp_mul(grp, &q, d, &grp->G, rng, &c->drbg) == 0 &&
         mbedtls_ecp_point_write_binary(grp, &q, MBEDTLS_ECP_PF_UNCOMPRESSED,
                                        &olen, pub, CL_APPLET_PUB_LEN) == 0 &&
         olen == CL_APPLET_PUB_LEN;
    mbedtls_ecp_point_free(&q);
    return ok ? CL_OK : CL_ERR_CRYPTO;
}

/* see applet_crypto.h */
int cl_posix_crypto_keygen(struct cl_posix_crypto *c,
                           uint8_t priv[CL_APPLET_PRIV_LEN],
                           uint8_t pub[CL_APPLET_PUB_LEN])
{
    mbedtls_ecp_group grp;
    mbedtls_ecp_point q;
    mbedtls_mpi d;
    size_t olen = 0;
    int rc = CL_ERR_CRYPTO;

    if (c == NULL || !c->ready || priv == NULL || pub == NULL)
        return CL_ERR_ARG;
    mbedtls_ecp_group_init(&grp);
    mbedtls_ecp_point_init(&q);
    mbedtls_mpi_init(&d);
    if (load_p256(&grp) == CL_OK &&
        mbedtls_ecp_gen_keypair(&grp, &d, &q, rng, &c->drbg) == 0 &&
        mbedtls_mpi_write_binary(&d, priv, CL_APPLET_PRIV_LEN) == 0 &&
        mbedtls_ecp_point_write_binary(&grp, &q, MBEDTLS_ECP_PF_UNCOMPRESSED,
                                       &olen, pub, CL_APPLET_PUB_LEN) == 0 &&
        olen == CL_APPLET_PUB_LEN)
        rc = CL_OK;
    mbedtls_mpi_free(&d);
    mbedtls_ecp_point_free(&q);
    mbedtls_ecp_group_free(&grp);
    return rc;
}

static bool is_p256(const mbedtls_pk_context *pk)
{
    return mbedtls_pk_get_type(pk) == MBEDTLS_PK_ECKEY &&
           mbedtls_pk_get_bitlen(pk) == 256u;
}

/* see applet_crypto.h */
int cl_posix_crypto_key_from_der(struct cl_posix_crypto *c, const uint8_t *der,
                                 size_t len, uint8_t priv[CL_APPLET_PRIV_LEN],
                                 uint8_t pub[CL_APPLET_PUB_LEN])
{
    mbedtls_pk_context pk;
    mbedtls_ecp_group grp;
    mbedtls_mpi d;
    int rc;

    if (c == NULL || !c->ready || der == NULL || priv == NULL || pub == NULL)
        return CL_ERR_ARG;
    mbedtls_pk_init(&pk);
    mbedtls_ecp_group_init(&grp);
    mbedtls_mpi_init(&d);
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    rc = mbedtls_pk_parse_key(&pk, der, len, NULL, 0, rng, &c->drbg);
#else
    rc = mbedtls_pk_parse_key(&pk, der, len, NULL, 0);
#endif
    if (rc != 0) {
        rc = CL_ERR_MALFORMED;
    } else if (!is_p256(&pk)) {
        rc = CL_ERR_CERT_ALGORITHM;
    } else if (mbedtls_ecp_write_key(mbedtls_pk_ec(pk), priv,
                                     CL_APPLET_PRIV_LEN) != 0 ||
               load_p256(&grp) != CL_OK ||
               mbedtls_mpi_read_binary(&d, priv, CL_APPLET_PRIV_LEN) != 0) {
        rc = CL_ERR_CRYPTO;
    } else {
        rc = point_of(c, &grp, &d, pub);
    }
    mbedtls_mpi_free(&d);
    mbedtls_ecp_group_free(&grp);
    mbedtls_pk_free(&pk);
    return rc;
}

/* The point of a parsed P-256 key, via its SubjectPublicKeyInfo encoding
 * (the BIT STRING's 65 bytes end the DER). */
static int pk_point(mbedtls_pk_context *pk, uint8_t pub[CL_APPLET_PUB_LEN])
{
    uint8_t buf[160];
    int n;

    if (!is_p256(pk))
        return CL_ERR_CERT_ALGORITHM;
    n = mbedtls_pk_write_pubkey_der(pk, buf, sizeof(buf));
    if (n < (int)CL_APPLET_PUB_LEN ||
        buf[sizeof(buf) - CL_APPLET_PUB_LEN] != 0x04)
        return CL_ERR_CRYPTO;
    memcpy(pub, buf + sizeof(buf) - CL_APPLET_PUB_LEN, CL_APPLET_PUB_LEN);
    return CL_OK;
}

/* see applet_crypto.h */
int cl_posix_crypto_pub_from_der(const uint8_t *der, size_t len,
                                 uint8_t pub[CL_APPLET_PUB_LEN])
{
    mbedtls_x509_crt crt;
    mbedtls_pk_context pk;
    int rc;

    if (der == NULL || pub == NULL)
        return CL_ERR_ARG;
    mbedtls_x509_crt_init(&crt);
    if (mbedtls_x509_crt_parse_der(&crt, der, len) == 0) {
        rc = pk_point(&crt.pk, pub);
        mbedtls_x509_crt_free(&crt);
        return rc;
    }
    mbedtls_x509_crt_free(&crt);
    mbedtls_pk_init(&pk);
    if (mbedtls_pk_parse_public_key(&pk, der, len) == 0)
        rc = pk_point(&pk, pub);
    else
        rc = CL_ERR_MALFORMED;
    mbedtls_pk_free(&pk);
    return rc;
}
