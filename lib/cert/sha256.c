/*
 * cardlink — SHA-256 over mbedtls.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>


#include "cardlink/wipe.h"
#include "cert_impl.h"

static mbedtls_sha256_context *sha_ctx(struct cl_sha256 *ctx)
{
    return (mbedtls_sha256_context *)(void *)ctx->opaque.bytes;
}

/* see cardlink/cert.h */
int cl_sha256(const uint8_t *data, size_t len, uint8_t out[CL_SHA256_LEN])
{
    if (out == NULL || (data == NULL && len > 0))
        return CL_ERR_ARG;
    if (cl_mb_sha256_oneshot(data, len, out) != 0)
        return CL_ERR_CRYPTO;
    return CL_OK;
}

/* see cardlink/cert.h */
int cl_sha256_start(struct cl_sha256 *ctx)
{
    if (ctx == NULL)
        return CL_ERR_ARG;
    mbedtls_sha256_init(sha_ctx(ctx));
    if (cl_mb_sha256_starts(sha_ctx(ctx)) != 0) {
        cl_sha256_free(ctx);
        return CL_ERR_CRYPTO;
    }
    return CL_OK;
}

/* see cardlink/cert.h */
int cl_sha256_update(struct cl_sha256 *ctx, const uint8_t *data, size_t len)
{
    if (ctx == NULL || (data == NULL && len > 0))
        return CL_ERR_ARG;
    if (len == 0)
        return CL_OK;
    if (cl_mb_sha256_update(sha_ctx(ctx), data, len) != 0)
        return CL_ERR_CRYPTO;
    return CL_OK;
}

/* see cardlink/cert.h */
int cl_sha256_finish(struct cl_sha256 *ctx, uint8_t out[CL_SHA256_LEN])
{
    int rc = CL_OK;

    if (ctx == NULL)
        return CL_ERR_ARG;
    if (out == NULL)
        rc = CL_ERR_ARG;
    else if (cl_mb_sha256_finish(sha_ctx(ctx), out) != 0)
        rc = CL_ERR_CRYPTO;
    cl_sha256_free(ctx);
    return rc;
}

/* see cardlink/cert.h */
void cl_sha256_free(struct cl_sha256 *ctx)
{
    if (ctx == NULL)
        return;
    mbedtls_sha256_free(sha_ctx(ctx));
    cl_wipe(ctx, sizeof(*ctx));
}
