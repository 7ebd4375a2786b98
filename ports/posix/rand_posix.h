/*
 * cardlink — POSIX random: the kernel's getrandom(), the seed of the
 * device's mbedtls CTR-DRBG (tls_mbedtls.h).
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CARDLINK_POSIX_RAND_H
#define CARDLINK_POSIX_RAND_H

#include "cardlink/defs.h"
#include "cardlink/error.h"

/*
 * Fill buf[0..len) from getrandom() (blocking only until the kernel's pool
 * is first initialised, at boot). Returns CL_OK, CL_ERR_ARG (buf NULL with
 * len > 0), CL_ERR_IO (the kernel refused).
 */
CL_WUR int cl_posix_random(uint8_t *buf, size_t len);

/*
 * The same with mbedtls's entropy callback signature (f_entropy of
 * mbedtls_ctr_drbg_seed; ctx unused): 0, or
 * MBEDTLS_ERR_ENTROPY_SOURCE_FAILED (-0x003C) when getrandom() fails.
 */
int cl_posix_entropy(void *ctx, unsigned char *buf, size_t len);

#endif /* CARDLINK_POSIX_RAND_H */
