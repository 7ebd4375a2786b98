/*
 * cardlink — libFuzzer target for lib/cert: the certificate parser, the
 * chain validator and the signature checks fed arbitrary DER.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Input: byte 0 selects the mode (mod 3).
 *  0  parse one certificate: the rest of the input.
 *  1  validate a chain: byte 1 -> k = 1..4 chain certificates (bits 0-1)
 *     and the role (bits 2-7, mod 6, below), byte 2 -> r = 0..2 roots,
 *     bytes 3..10 "now" (big-endian seconds), then k + r - 1 two-byte
 *     big-endian lengths splitting the remainder into k + r pieces (chain
 *     first, then roots; the last piece takes what is left).
 *  2  verify a signature: byte 1 scheme (bits 0-1) and role (bits 2-7),
 *     byte 2 hash, bytes 3..10 now, bytes 11..12 certificate length L, the
 *     certificate (validated as its own trust anchor), the digest (the
 *     hash's length), the signature.
 * The role given to cl_cert_verify_chain: 1..5 that role (enum
 * cl_cert_role), 0 an invalid role (0 in mode 1, the keyUsage byte 0x80
 * passed by mistake in mode 2), which must be CL_ERR_ARG with depth 0.
 * Cross-checks (abort() on failure): a parsed certificate's fingerprint is
 * the SHA-256 of its bytes, its subject and serial are printable and
 * NUL-terminated, an unvalidated context refuses to verify, the same chain
 * gives the same verdict and depth twice, every result is a documented
 * error code. Every context is freed, so LeakSanitizer sees any leak.
 */
#include <stdlib.h>
#include <string.h>

#include "cardlink/cert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond)
        abort();
}

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static void check_text(const struct cl_cert *c, size_t depth)
{
    char text[512];
    int n, i;

    n = cl_cert_subject(c, depth, text, sizeof(text));
    check(n >= 0 || n == CL_ERR_BUFFER);
    if (n >= 0) {
        check((size_t)n == strlen(text));
        for (i = 0; i < n; i++)
            check(text[i] >= 0x20 && text[i] <= 0x7E);
    } else {
        check(text[0] == '\0');
    }
    n = cl_cert_serial(c, depth, text, sizeof(text));
    check(n > 0 || n == CL_ERR_BUFFER || n == CL_ERR_NOT_FOUND);
    if (n > 0)
        check((size_t)n == strlen(text) && n % 2 == 0);
}

static bool chain_rc_ok(int rc)
{
    switch (rc) {
    case CL_OK: case CL_ERR_CERT_PARSE: case CL_ERR_CERT_CRITICAL: case CL_ERR_CERT_ALGORITHM:
    case CL_ERR_CERT_EXPIRED: case CL_ERR_CERT_NOT_YET_VALID: case CL_ERR_CERT_KEY_USAGE:
    case CL_ERR_CERT_PATH_LEN: case CL_ERR_CERT_UNTRUSTED: case CL_ERR_SIGNATURE:
    case CL_ERR_CERT_PURPOSE: case CL_ERR_ARG:
        return true;
    default:
        return false;
    }
}

/* Validate for the role selected by sel (see the top of the file);
 * invalid is the role passed when sel selects none. */
static int verify(struct cl_cert *c, unsigned sel, const struct cl_cert_der *chain, size_t n,
                  const struct cl_cert_der *roots, size_t n_roots, uint64_t now,
                  unsigned invalid, size_t *depth)
{
    int rc;

    sel %= 6;
    rc = cl_cert_verify_chain(c, chain, n, roots, n_roots, now,
                              (enum cl_cert_role)(sel == 0 ? invalid : sel), depth);
    if (sel == 0)
        check(rc == CL_ERR_ARG && (depth == NULL || *depth == 0));
    return rc;
}

static void fuzz_parse(const uint8_t *p, size_t n)
{
    struct cl_cert c;
    uint8_t fp[CL_CERT_FINGERPRINT_LEN], h[CL_SHA256_LEN];
    int rc;

    cl_cert_init(&c);
    rc = cl_cert_parse(&c, p, n);
    check(rc == CL_OK || rc == CL_ERR_ARG || rc == CL_ERR_CERT_PARSE ||
          rc == CL_ERR_CERT_CRITICAL || rc == CL_ERR_CERT_ALGORITHM);
    if (rc == CL_OK) {
        check(cl_cert_count(&c) == 1 && !cl_cert_is_validated(&c));
        check(cl_cert_fingerprint(&c, 0, fp) == CL_OK);
        check(cl_sha256(p, n, h) == CL_OK && memcmp(fp, h, sizeof(h)) == 0);
        check_text(&c, 0);
        check(cl_cert_verify_digest(&c, CL_CERT_SIG_ECDSA, CL_CERT_HASH_SHA256, h, sizeof(h),
                                    p, n) == CL_ERR_STATE);
    } else {
        check(cl_cert_count(&c) == 0);
    }
    cl_cert_free(&c);
}

static void fuzz_chain(const uint8_t *data, size_t size)
{
    struct cl_cert_der pieces[6];
    struct cl_cert c;
    size_t k, r, i, off, depth, depth2;
    uint64_t now;
    int rc, rc2;

    if (size < 11)
        return;
    k = (size_t)(data[1] % 4) + 1;
    r = (size_t)(data[2] % 3);
    now = be64(data + 3);
    off = 11 + 2 * (k + r - 1);
    if (off > size)
        return;
    for (i = 0; i < k + r; i++) {
        size_t len = size - off;

        if (i + 1 < k + r) {
            size_t want = ((size_t)data[11 + 2 * i] << 8) | data[12 + 2 * i];

            if (want < len)
                len = want;
        }
        pieces[i].der = data + off;
        pieces[i].len = len;
        off += len;
    }
    cl_cert_init(&c);
    rc = verify(&c, data[1] >> 2, pieces, k, pieces + k, r, now, 0, &depth);
    check(chain_rc_ok(rc));
    check(depth <= k);
    check(cl_cert_is_validated(&c) == (rc == CL_OK));
    if (rc == CL_OK) {
        uint8_t fp[CL_CERT_FINGERPRINT_LEN], h[CL_SHA256_LEN];

        check(depth == 0 && cl_cert_count(&c) == k);
        check(cl_cert_fingerprint(&c, 0, fp) == CL_OK);
        check(cl_sha256(pieces[0].der, pieces[0].len, h) == CL_OK);
        check(memcmp(fp, h, sizeof(h)) == 0);
        check(cl_cert_key_kind(&c, 0) != CL_CERT_KEY_NONE);
    }
    for (i = 0; i < cl_cert_count(&c); i++)
        check_text(&c, i);
    /* Deterministic, and the context is reusable. */
    rc2 = verify(&c, data[1] >> 2, pieces, k, pieces + k, r, now, 0, &depth2);
    check(rc2 == rc && depth2 == depth);
    cl_cert_free(&c);
}

static void fuzz_sig(const uint8_t *data, size_t size)
{
    static const size_t hlen[4] = { 0, 32, 48, 64 };
    struct cl_cert_der der;
    struct cl_cert c;
    enum cl_cert_sig sig;
    enum cl_cert_hash hash;
    size_t L, dlen;
    int rc;

    if (size < 13)
        return;
    sig = (enum cl_cert_sig)(data[1] % 4);        /* 0 is invalid on purpose */
    hash = (enum cl_cert_hash)(data[2] % 4);
    L = ((size_t)data[11] << 8) | data[12];
    if (L == 0 || L > size - 13)
        return;
    der.der = data + 13;
    der.len = L;
    dlen = hlen[hash];
    cl_cert_init(&c);
    rc = verify(&c, data[1] >> 2, &der, 1, &der, 1, be64(data + 3), 0x80, NULL);
    check(chain_rc_ok(rc));
    if (rc == CL_OK && size - 13 - L >= dlen) {
        const uint8_t *dg = data + 13 + L;
        const uint8_t *s = dg + dlen;
        size_t slen = size - 13 - L - dlen;

        rc = cl_cert_verify_digest(&c, sig, hash, dg, dlen, s, slen);
        check(rc == CL_OK || rc == CL_ERR_SIGNATURE || rc == CL_ERR_CERT_ALGORITHM ||
              rc == CL_ERR_ARG);
        if (sig == 0 || hash == 0 || slen == 0)
            check(rc == CL_ERR_ARG);
        rc = cl_cert_verify_message(&c, sig, hash, dg, dlen, s, slen);
        check(rc == CL_OK || rc == CL_ERR_SIGNATURE || rc == CL_ERR_CERT_ALGORITHM ||
              rc == CL_ERR_ARG);
    }
    cl_cert_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] % 3) {
    case 0:
        fuzz_parse(data + 1, size - 1);
        break;
    case 1:
        fuzz_chain(data, size);
        break;
    default:
        fuzz_sig(data, size);
        break;
    }
    return 0;
}
