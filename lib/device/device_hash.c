/*
 * cardlink — the device's hash port over cl_sha256() (lib/cert), for host
 * builds with mbedtls; firmware plugs its own hash engine instead.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "cardlink/cert.h"
#include "cardlink/device.h"
#include "cardlink/error.h"
#include "cardlink/relay_msg.h"

/* see cardlink/device.h */
int cl_dev_hash_sha256(void *ctx, uint8_t alg, const uint8_t *data, size_t len, uint8_t *out,
                       size_t size)
{
    (void)ctx;
    if (alg != CL_RELAY_DIGEST_SHA256)
        return CL_ERR_UNSUPPORTED;
    if (out == NULL || size < CL_SHA256_LEN)
        return CL_ERR_BUFFER;
    return cl_sha256(data, len, out) == CL_OK ? (int)CL_SHA256_LEN : CL_ERR_CRYPTO;
}
