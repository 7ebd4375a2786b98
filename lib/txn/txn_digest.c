/*
 * cardlink — the transaction digest: SHA-256 of the to-be-signed bytes,
 * through cl_sha256() (lib/cert: the one path to SHA-256 on a host build).
 * Built only where mbedtls is (not in firmware builds, which hash
 * cl_txn_tbs()'s output with their own engine).
 * SPDX-License-Identifier: Apache-2.0
 */
#include "cardlink/cert.h"
#include "cardlink/error.h"
#include "cardlink/txn.h"

/* see cardlink/txn.h */
int cl_txn_digest(const struct cl_txn *txn, const uint8_t *challenge,
                  size_t challenge_len, uint8_t out[32])
{
    uint8_t tbs[CL_TXN_TBS_MAX + CL_TXN_CHALLENGE_MAX];
    size_t len;
    int r;

    if (!out)
        return CL_ERR_ARG;
    r = cl_txn_tbs(txn, challenge, challenge_len, tbs, sizeof(tbs), &len);
    if (r != CL_OK)
        return r;
    return cl_sha256(tbs, len, out);
}
