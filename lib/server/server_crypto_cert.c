/*
 * cardlink — lib/server: the crypto backend over lib/cert (mbedtls), with
 * a cache of validated chains keyed by the leaf's fingerprint and role.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/wipe.h"
#include "server_int.h"

static int cc_random(void *ctx, uint8_t *out, size_t len)
{
    struct cl_server_crypto_cert *c = ctx;
    return c->rnd(c->rnd_ctx, out, len);
}

static int cc_sha256(void *ctx, const uint8_t *data, size_t len, uint8_t out[32])
{
    (void)ctx;
    return cl_sha256(data, len, out);
}

static int cc_verify(void *ctx, const struct cl_cert_der *chain, size_t n, uint8_t role,
                     uint64_t now_s, const uint8_t digest[32], const uint8_t *sig,
                     size_t sig_len)
{
    struct cl_server_crypto_cert *c = ctx;
    struct cl_server_cache_slot *slot = NULL;
    uint8_t fp[CL_CERT_FINGERPRINT_LEN];
    size_t i;
    int r;

    if (chain == NULL || n == 0 || chain[0].der == NULL || (sig != NULL && digest == NULL))
        return CL_ERR_ARG;
    r = cl_sha256(chain[0].der, chain[0].len, fp);
    if (r != CL_OK)
        return r;
    for (i = 0; i < CL_SERVER_CACHE_SLOTS; i++) {
        struct cl_server_cache_slot *e = &c->slots[i];
        if (e->used && e->role == role && memcmp(e->fp, fp, sizeof(fp)) == 0 &&
            now_s >= e->at && now_s - e->at < c->ttl_s &&
            now_s <= cl_cert_valid_until(&e->cert)) {   /* no certificate expired since */
            slot = e;
            break;
        }
    }
    if (slot != NULL) {
        c->hits++;
    } else {
        c->misses++;
        slot = &c->slots[c->next];
        c->next = (c->next + 1u) % CL_SERVER_CACHE_SLOTS;
        slot->used = false;
        r = cl_cert_verify_chain(&slot->cert, chain, n, c->roots, c->n_roots, now_s,
                                 (enum cl_cert_role)role, NULL);
        if (r != CL_OK) {
            cl_cert_free(&slot->cert);
            return r;
        }
        memcpy(slot->fp, fp, sizeof(fp));
        slot->role = role;
        slot->at = now_s;
        slot->used = true;
    }
    if (sig == NULL)
        return CL_OK;
    return cl_cert_verify_digest(&slot->cert, CL_CERT_SIG_ECDSA, CL_CERT_HASH_SHA256, digest, 32,
                                 sig, sig_len);
}

/* see cardlink/server.h */
int cl_server_crypto_cert_init(struct cl_server_crypto_cert *c, struct cl_server_crypto *port,
                               const struct cl_cert_der *roots, size_t n_roots, uint64_t ttl_s,
                               int (*rnd)(void *ctx, uint8_t *out, size_t len), void *rnd_ctx)
{
    size_t i;

    if (c == NULL || port == NULL || rnd == NULL || (roots == NULL && n_roots > 0))
        return CL_ERR_ARG;
    memset(c, 0, sizeof(*c));
    for (i = 0; i < CL_SERVER_CACHE_SLOTS; i++)
        cl_cert_init(&c->slots[i].cert);
    c->roots = roots;
    c->n_roots = n_roots;
    c->ttl_s = ttl_s != 0 ? ttl_s : 3600u;
    c->rnd = rnd;
    c->rnd_ctx = rnd_ctx;
    memset(port, 0, sizeof(*port));
    port->random = cc_random;
    port->sha256 = cc_sha256;
    port->verify = cc_verify;
    port->issuer_sign = NULL;
    port->ctx = c;
    return CL_OK;
}

/* see cardlink/server.h */
void cl_server_crypto_cert_free(struct cl_server_crypto_cert *c)
{
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < CL_SERVER_CACHE_SLOTS; i++)
        cl_cert_free(&c->slots[i].cert);
    cl_wipe(c, sizeof(*c));
}
