/*
 * cardlink — the server's crypto backend over OpenSSL.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "cardlink/error.h"
#include "cardlink/wipe.h"
#include "server_crypto_openssl.h"

struct ossl_slot {
    uint8_t fp[32];
    uint8_t role;
    uint64_t at;
    uint64_t until;   /* the chain's earliest notAfter (cl_cert_valid_until) */
    EVP_PKEY *key;
};

static int o_random(void *ctx, uint8_t *out, size_t len)
{
    (void)ctx;
    if (len > 0x7FFFFFFF)
        return CL_ERR_ARG;
    return RAND_bytes(out, (int)len) == 1 ? CL_OK : CL_ERR_CRYPTO;
}

static int o_sha256(void *ctx, const uint8_t *data, size_t len, uint8_t out[32])
{
    unsigned n = 0;
    (void)ctx;
    if (data == NULL && len > 0)
        return CL_ERR_ARG;
    return EVP_Digest(data != NULL ? data : (const uint8_t *)"", len, out, &n, EVP_sha256(),
                      NULL) == 1 && n == 32
               ? CL_OK
               : CL_ERR_CRYPTO;
}

/* Validate the chain with lib/cert and take the leaf's key into OpenSSL. */
static int fill(struct cl_server_ossl *o, struct ossl_slot *e, const struct cl_cert_der *chain,
                size_t n, uint8_t role, uint64_t now_s)
{
    struct cl_cert c;
    const unsigned char *p = chain[0].der;
    X509 *x;
    int r;

    cl_cert_init(&c);
    r = cl_cert_verify_chain(&c, chain, n, o->roots, o->n_roots, now_s, (enum cl_cert_role)role,
                             NULL);
    e->until = cl_cert_valid_until(&c);
    cl_cert_free(&c);
    if (r != CL_OK)
        return r;
    if (chain[0].len > 0x7FFFFFFF)
        return CL_ERR_ARG;
    x = d2i_X509(NULL, &p, (long)chain[0].len);
    if (x == NULL)
        return CL_ERR_CERT_PARSE;
    EVP_PKEY_free(e->key);
    e->key = X509_get_pubkey(x);
    X509_free(x);
    return e->key != NULL ? CL_OK : CL_ERR_CRYPTO;
}

static int o_verify(void *ctx, const struct cl_cert_der *chain, size_t n, uint8_t role,
                    uint64_t now_s, const uint8_t digest[32], const uint8_t *sig, size_t sig_len)
{
    struct cl_server_ossl *o = ctx;
    struct ossl_slot *e;
    uint8_t fp[32];
    size_t idx;
    EVP_PKEY_CTX *pc;
    int r;

    if (chain == NULL || n == 0 || chain[0].der == NULL || (sig != NULL && digest == NULL))
        return CL_ERR_ARG;
    r = o_sha256(ctx, chain[0].der, chain[0].len, fp);
    if (r != CL_OK)
        return r;
    idx = ((size_t)fp[0] << 16 | (size_t)fp[1] << 8 | (size_t)(fp[2] ^ role)) % o->nslots;
    e = (struct ossl_slot *)o->slots + idx;
    if (e->key != NULL && e->role == role && memcmp(e->fp, fp, 32) == 0 && now_s >= e->at &&
        now_s - e->at < o->ttl_s && now_s <= e->until) {   /* no certificate expired since */
        o->hits++;
    } else {
        o->misses++;
        memset(e->fp, 0, sizeof(e->fp));
        r = fill(o, e, chain, n, role, now_s);
        if (r != CL_OK) {
            EVP_PKEY_free(e->key);
            e->key = NULL;
            return r;
        }
        memcpy(e->fp, fp, 32);
        e->role = role;
        e->at = now_s;
    }
    if (sig == NULL)
        return CL_OK;
    if (sig_len == 0)
        return CL_ERR_SIGNATURE;
    pc = EVP_PKEY_CTX_new(e->key, NULL);
    if (pc == NULL)
        return CL_ERR_CRYPTO;
    if (EVP_PKEY_verify_init(pc) != 1) {
        EVP_PKEY_CTX_free(pc);
        return CL_ERR_CRYPTO;
    }
    r = EVP_PKEY_verify(pc, sig, sig_len, digest, 32) == 1 ? CL_OK : CL_ERR_SIGNATURE;
    EVP_PKEY_CTX_free(pc);
    return r;
}

/* ECDSA with key over digest[0..32), DER into sig[0..size). */
static int sign_with(void *key, const uint8_t digest[32], uint8_t *sig, size_t size, size_t *len)
{
    EVP_PKEY_CTX *pc;
    size_t n = 0;
    int r = CL_ERR_CRYPTO;

    if (key == NULL || digest == NULL || sig == NULL || len == NULL)
        return CL_ERR_ARG;
    *len = 0;
    pc = EVP_PKEY_CTX_new(key, NULL);
    if (pc == NULL)
        return CL_ERR_CRYPTO;
    if (EVP_PKEY_sign_init(pc) == 1 && EVP_PKEY_sign(pc, NULL, &n, digest, 32) == 1) {
        if (n > size) {
            r = CL_ERR_BUFFER;
        } else if (EVP_PKEY_sign(pc, sig, &n, digest, 32) == 1) {
            *len = n;
            r = CL_OK;
        }
    }
    EVP_PKEY_CTX_free(pc);
    return r;
}

static int o_sign(void *ctx, const uint8_t digest[32], uint8_t *sig, size_t size, size_t *len)
{
    return sign_with(((struct cl_server_ossl *)ctx)->issuer_key, digest, sig, size, len);
}

static int o_gate_sign(void *ctx, const uint8_t digest[32], uint8_t *sig, size_t size,
                       size_t *len)
{
    return sign_with(((struct cl_server_ossl *)ctx)->gate_key, digest, sig, size, len);
}

/* see server_crypto_openssl.h */
int cl_server_ossl_gate_key(struct cl_server_ossl *o, struct cl_server_crypto *port,
                            const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    EVP_PKEY *k;

    if (o == NULL || port == NULL || der == NULL || port->ctx != o)
        return CL_ERR_ARG;
    k = len <= 0x7FFFFFFF ? d2i_AutoPrivateKey(NULL, &p, (long)len) : NULL;
    if (k == NULL || EVP_PKEY_base_id(k) != EVP_PKEY_EC) {
        EVP_PKEY_free(k);
        return CL_ERR_CRYPTO;
    }
    EVP_PKEY_free(o->gate_key);
    o->gate_key = k;
    port->gate_sign = o_gate_sign;
    return CL_OK;
}

/* see server_crypto_openssl.h */
int cl_server_ossl_init(struct cl_server_ossl *o, struct cl_server_crypto *port,
                        const struct cl_cert_der *roots, size_t n_roots, size_t slots,
                        uint64_t ttl_s, const uint8_t *issuer_key_der, size_t key_len)
{
    if (o == NULL || port == NULL || (roots == NULL && n_roots > 0))
        return CL_ERR_ARG;
    memset(o, 0, sizeof(*o));
    o->roots = roots;
    o->n_roots = n_roots;
    o->ttl_s = ttl_s != 0 ? ttl_s : 3600u;
    o->nslots = slots != 0 ? slots : 1024u;
    o->slots = calloc(o->nslots, sizeof(struct ossl_slot));
    if (o->slots == NULL)
        return CL_ERR_CRYPTO;
    if (issuer_key_der != NULL) {
        const unsigned char *p = issuer_key_der;
        EVP_PKEY *k = key_len <= 0x7FFFFFFF ? d2i_AutoPrivateKey(NULL, &p, (long)key_len) : NULL;
        if (k == NULL || EVP_PKEY_base_id(k) != EVP_PKEY_EC) {
            EVP_PKEY_free(k);
            cl_server_ossl_free(o);
            return CL_ERR_CRYPTO;
        }
        o->issuer_key = k;
    }
    memset(port, 0, sizeof(*port));
    port->random = o_random;
    port->sha256 = o_sha256;
    port->verify = o_verify;
    port->issuer_sign = o->issuer_key != NULL ? o_sign : NULL;
    port->ctx = o;
    return CL_OK;
}

/* see server_crypto_openssl.h */
void cl_server_ossl_free(struct cl_server_ossl *o)
{
    size_t i;

    if (o == NULL)
        return;
    if (o->slots != NULL) {
        struct ossl_slot *e = o->slots;
        for (i = 0; i < o->nslots; i++)
            EVP_PKEY_free(e[i].key);
        free(o->slots);
    }
    EVP_PKEY_free(o->issuer_key);
    EVP_PKEY_free(o->gate_key);
    cl_wipe(o, sizeof(*o));
}
