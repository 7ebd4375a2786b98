/*
 * cardlink — the fuzz targets' cheap card crypto: a deterministic stand-in
 * for the applet's crypto port (struct cl_applet_crypto), shared by the
 * targets that run the cardlink applet in-process behind a device
 * (fuzz_trust.c, fuzz_device.c).
 * SPDX-License-Identifier: Apache-2.0
 *
 * "SHA-256" is an FNV mix stretched to any length; a signature is the DER
 * shape 30 06 02 01 h0 02 01 hN over the digest h; the issuer's signature
 * verifies when it is a DER-looking SEQUENCE of 8..72 bytes whose fifth
 * byte is h0 (so a fuzzer can forge credits one time in 256 and reach the
 * purse's success paths); random bytes are all 5A.
 */
#ifndef CARDLINK_FUZZ_CARD_CRYPTO_H
#define CARDLINK_FUZZ_CARD_CRYPTO_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cardlink/applet.h"
#include "cardlink/error.h"

static void fcc_mix(const uint8_t *d, size_t n, uint8_t *out, size_t olen)
{
    uint32_t h = 2166136261u;
    size_t i;
    for (i = 0; i < n; i++)
        h = (h ^ d[i]) * 16777619u;
    for (i = 0; i < olen; i++) {
        h = (h ^ (uint32_t)i) * 16777619u;
        out[i] = (uint8_t)(h >> 24);
    }
}

static int fcc_sha(void *c, const uint8_t *d, size_t n, uint8_t out[32])
{
    (void)c;
    fcc_mix(d, n, out, 32);
    return CL_OK;
}

static int fcc_sign(void *c, const uint8_t priv[32], const uint8_t *dg, size_t dl, uint8_t *sig,
                    size_t ss, size_t *sl)
{
    (void)c; (void)priv;
    if (dl == 0 || ss < 8)
        abort();
    sig[0] = 0x30; sig[1] = 6; sig[2] = 2; sig[3] = 1; sig[4] = dg[0];
    sig[5] = 2; sig[6] = 1; sig[7] = dg[dl - 1];
    *sl = 8;
    return CL_OK;
}

static int fcc_verify(void *c, const uint8_t pub[65], const uint8_t *dg, size_t dl,
                      const uint8_t *sig, size_t sl)
{
    (void)c; (void)pub; (void)dl;
    if (sl < 8 || sl > 72 || sig[0] != 0x30 || sig[4] != dg[0])
        return CL_ERR_SIGNATURE;
    return CL_OK;
}

static int fcc_random(void *c, uint8_t *o, size_t n)
{
    (void)c;
    memset(o, 0x5A, n);
    return CL_OK;
}

static const struct cl_applet_crypto fcc_port = {fcc_sign, fcc_verify, fcc_random, fcc_sha, NULL};

#endif /* CARDLINK_FUZZ_CARD_CRYPTO_H */
