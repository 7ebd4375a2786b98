/*
 * cardlink — lib/cert private definitions: what lives in the opaque storage
 * of struct cl_cert and struct cl_sha256, and the mbedtls 2.28 / 3.x
 * differences in one place.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CL_CERT_IMPL_H
#define CL_CERT_IMPL_H

#include "cardlink/cert.h"

#include <mbedtls/version.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>

/* Fields mbedtls 3.x made private (x509_crt: ext_types, ca_istrue,
 * max_pathlen, key_usage, sig, sig_md, sig_pk, sig_opts). */
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define CL_MBP(field) MBEDTLS_PRIVATE(field)
#define cl_mb_sha256_starts(ctx) mbedtls_sha256_starts((ctx), 0)
#define cl_mb_sha256_update mbedtls_sha256_update
#define cl_mb_sha256_finish mbedtls_sha256_finish
#define cl_mb_sha256_oneshot(in, len, out) mbedtls_sha256((in), (len), (out), 0)
#define cl_mb_rsa_bitlen(rsa) mbedtls_mpi_bitlen(&(rsa)->MBEDTLS_PRIVATE(N))
#else
#define CL_MBP(field) field
#define cl_mb_sha256_starts(ctx) mbedtls_sha256_starts_ret((ctx), 0)
#define cl_mb_sha256_update mbedtls_sha256_update_ret
#define cl_mb_sha256_finish mbedtls_sha256_finish_ret
#define cl_mb_sha256_oneshot(in, len, out) mbedtls_sha256_ret((in), (len), (out), 0)
#define cl_mb_rsa_bitlen(rsa) mbedtls_mpi_bitlen(&(rsa)->N)
#endif

/* What struct cl_cert holds: the head of mbedtls's certificate list (the
 * leaf; the others are allocated by mbedtls and linked by ->next). */
struct cl_cert_impl {
    mbedtls_x509_crt crt;
    uint8_t validated;     /* cl_cert_verify_chain succeeded */
    uint8_t leaf_key;      /* enum cl_cert_key of the validated leaf */
    uint64_t valid_until;  /* validated: the earliest notAfter, anchor included */
};

/* C99 compile-time checks that the opaque storage is large enough: raise
 * CL_CERT_CTX_SIZE / CL_SHA256_CTX_SIZE (-D) if one of these fails. */
typedef char cl_cert_ctx_size_check[(sizeof(struct cl_cert_impl) <= CL_CERT_CTX_SIZE) ? 1 : -1];
typedef char cl_sha256_ctx_size_check[(sizeof(mbedtls_sha256_context) <= CL_SHA256_CTX_SIZE) ? 1 : -1];

#endif /* CL_CERT_IMPL_H */
