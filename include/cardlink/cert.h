/*
 * cardlink — X.509 certificate chains, signatures and SHA-256 (mbedtls).
 * SPDX-License-Identifier: Apache-2.0
 *
 * Both ends use this module: the server validates a card's certificate
 * chain and then the card's signature over a transaction digest; the device
 * validates the server's certificate where no TLS protects the link (a modem)
 * and then the server's signed messages.
 *
 * Backend. The work is done by mbedtls (2.28 and 3.6 LTS), which stays
 * behind this API: no mbedtls type appears here. A parsed chain and a hash
 * state live in opaque storage inside structs the caller declares
 * (struct cl_cert, struct cl_sha256), sized by CL_CERT_CTX_SIZE and
 * CL_SHA256_CTX_SIZE; lib/cert checks at compile time that the mbedtls
 * objects fit. cardlink's own code never allocates, but mbedtls's X.509
 * parser does (through its platform calloc/free): see docs/security.md,
 * "Certificates", for the memory budget and a static arena for firmware.
 * Every struct cl_cert that was given to cl_cert_init() must be given to
 * cl_cert_free() when done, on success and on failure alike.
 *
 * Policy (fixed; docs/security.md gives the reasons):
 *  - keys: ECDSA on P-256 or P-384 (named curves only), RSA whose modulus
 *    is 2048 to 8192 bits long (counted in bits: a 2047-bit modulus is
 *    refused); anything else is CL_ERR_CERT_ALGORITHM;
 *  - certificate signatures: ECDSA, RSA PKCS#1 v1.5 or RSASSA-PSS with
 *    SHA-256, SHA-384 or SHA-512 (PSS's MGF1 hash likewise); SHA-1, MD5 and
 *    the rest are CL_ERR_CERT_ALGORITHM;
 *  - time: the caller's clock (cl_cert_verify_chain's `now`), never the
 *    system clock; valid when notBefore <= now <= notAfter, to the second;
 *  - an extension marked critical that mbedtls does not understand is
 *    CL_ERR_CERT_CRITICAL; extendedKeyUsage and nsCertType are understood,
 *    critical or not, and enforced (see enum cl_cert_role);
 *  - issuers (every certificate above the leaf, and the trust anchor) must
 *    say CA:TRUE in basicConstraints and, when they carry keyUsage, allow
 *    keyCertSign;
 *  - a chain is validated FOR A ROLE (enum cl_cert_role): the leaf's
 *    keyUsage, extendedKeyUsage and nsCertType, and the extendedKeyUsage
 *    and nsCertType of every CA above it (the anchor included), must allow
 *    that role, as `openssl verify -purpose` checks them;
 *  - pathLenConstraint is honoured on every issuer, the anchor included;
 *  - names are matched byte for byte (issuer DER == subject DER), which is
 *    what a PKI issuing its own certificates produces.
 */
#ifndef CARDLINK_CERT_H
#define CARDLINK_CERT_H

#include "cardlink/defs.h"
#include "cardlink/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes reserved for a parsed chain (the context is 624 bytes on 64-bit
 * hosts with mbedtls 2.28, 752 with 3.6.6's default configuration). The
 * certificates after the first, and every certificate's DER copy, are
 * allocated by mbedtls. */
#ifndef CL_CERT_CTX_SIZE
#define CL_CERT_CTX_SIZE 1280
#endif

/* Bytes reserved for a SHA-256 state (108 with mbedtls's software SHA-256). */
#ifndef CL_SHA256_CTX_SIZE
#define CL_SHA256_CTX_SIZE 128
#endif

/* Longest chain cl_cert_verify_chain accepts (leaf and intermediates). */
#ifndef CL_CERT_CHAIN_MAX
#define CL_CERT_CHAIN_MAX 8
#endif

#define CL_SHA256_LEN 32
#define CL_CERT_FINGERPRINT_LEN CL_SHA256_LEN

/*
 * What a validated chain's leaf is trusted to do (cl_cert_verify_chain).
 * docs/security.md, "Certificates", gives the reasons and OpenSSL's
 * equivalents. In the rules below, "EKU allows P" means: the certificate
 * has no extendedKeyUsage, or its extendedKeyUsage lists P
 * (anyExtendedKeyUsage alone does NOT allow a named purpose, as in
 * OpenSSL's -purpose checks); "nsCertType allows B" means: no Netscape
 * certificate type extension, or it has bit B. "keyUsage allows X" means:
 * no keyUsage extension (RFC 5280: no restriction), or it has X. Whether an
 * extension is critical does not change how it is read.
 *
 * For every role, each CA in the path (the intermediates and the trust
 * anchor) must also have an EKU that allows the role's purpose and an
 * nsCertType that allows the role's CA bit; failing that is
 * CL_ERR_CERT_PURPOSE at that CA's depth.
 */
enum cl_cert_role {
    /* The server's certificate, as a TLS server or signing server messages
     * (OpenSSL -purpose sslserver). Leaf: keyUsage allows digitalSignature,
     * keyEncipherment or keyAgreement; EKU allows serverAuth; nsCertType
     * allows SSL server. CAs: EKU allows serverAuth; nsCertType allows
     * SSL CA. */
    CL_CERT_ROLE_SERVER = 1,
    /* A device's certificate, as a TLS client (-purpose sslclient). Leaf:
     * keyUsage allows digitalSignature or keyAgreement; EKU allows
     * clientAuth; nsCertType allows SSL client. CAs: EKU allows clientAuth;
     * nsCertType allows SSL CA. */
    CL_CERT_ROLE_DEVICE = 2,
    /* A card's AUTHENTICATION certificate (challenge-response: the card,
     * not the holder's approval; PIV's card authentication key). Leaf:
     * keyUsage allows digitalSignature and does NOT have nonRepudiation (a
     * signing certificate is not an authentication certificate); EKU allows
     * id-PIV-cardAuth (2.16.840.1.101.3.6.8), so that a device's clientAuth
     * certificate is no card and a card's is no device; nsCertType allows
     * SSL client. CAs: EKU allows id-PIV-cardAuth; nsCertType allows SSL
     * CA. */
    CL_CERT_ROLE_CARD_AUTH = 3,
    /* A card's SIGNING certificate: the holder's approval of a transaction
     * (PIV's digital signature key; -purpose smimesign, stricter). Leaf:
     * keyUsage PRESENT with both digitalSignature and nonRepudiation
     * (contentCommitment); EKU allows emailProtection; nsCertType allows
     * S/MIME. CAs: EKU allows emailProtection; nsCertType allows S/MIME
     * CA. */
    CL_CERT_ROLE_CARD_SIGN = 4,
    /* A card issuer's CA certificate whose key also signs value for its
     * cards (purse credits, e-goods: docs/applet.md), validated as the leaf
     * of its own chain. Leaf: basicConstraints CA:TRUE (else
     * CL_ERR_CERT_KEY_USAGE); keyUsage allows both keyCertSign and
     * digitalSignature. No EKU purpose names "issue value", so the leaf and
     * every CA above it must have no extendedKeyUsage or one listing
     * anyExtendedKeyUsage; an nsCertType, where present, must have one of
     * the CA bits (SSL CA, S/MIME CA, object-signing CA). */
    CL_CERT_ROLE_ISSUER = 5
};

/* The kind of public key a certificate holds (cl_cert_key_kind). */
enum cl_cert_key {
    CL_CERT_KEY_NONE = 0,      /* no certificate, or a key outside the policy */
    CL_CERT_KEY_EC_P256 = 1,
    CL_CERT_KEY_EC_P384 = 2,
    CL_CERT_KEY_RSA = 3
};

/* Signature schemes for cl_cert_verify_digest / cl_cert_verify_message. */
enum cl_cert_sig {
    /* ECDSA, signature as a DER ECDSA-Sig-Value (SEQUENCE { r, s }), the
     * form most cards return (PSO: COMPUTE DIGITAL SIGNATURE, INTERNAL
     * AUTHENTICATE), or as raw r||s (each integer left-padded to the curve
     * size: 64 bytes for P-256, 96 for P-384) as some cards and PKCS#11
     * return it. A signature exactly 2 x curve-size long is tried as r||s
     * first, then (if that fails) as DER; any other length as DER. */
    CL_CERT_SIG_ECDSA = 1,
    CL_CERT_SIG_RSA_PKCS1 = 2, /* RSASSA-PKCS1-v1_5 (RFC 8017 §8.2) */
    CL_CERT_SIG_RSA_PSS = 3    /* RSASSA-PSS, MGF1 with the same hash, any
                                * salt length (RFC 8017 §8.1) */
};

/* Hash functions accepted for signatures over digests and messages. */
enum cl_cert_hash {
    CL_CERT_HASH_SHA256 = 1,
    CL_CERT_HASH_SHA384 = 2,
    CL_CERT_HASH_SHA512 = 3
};

/* One DER-encoded certificate in caller memory. */
struct cl_cert_der {
    const uint8_t *der;
    size_t len;
};

/* A parsed (and, after cl_cert_verify_chain succeeds, validated) chain.
 * Do not touch the fields. */
struct cl_cert {
    union {
        uint8_t bytes[CL_CERT_CTX_SIZE];
        void *align_ptr;
        uint64_t align_u64;
    } opaque;
};

/* An incremental SHA-256. Do not touch the fields. */
struct cl_sha256 {
    union {
        uint8_t bytes[CL_SHA256_CTX_SIZE];
        void *align_ptr;
        uint64_t align_u64;
    } opaque;
};

/* ------------------------------------------------------------ hashing */

/*
 * SHA-256 (FIPS 180-4) of data[0..len) into out. data may be NULL when len
 * is 0. Returns CL_OK, CL_ERR_ARG (out NULL, or data NULL with len > 0) or
 * CL_ERR_CRYPTO (the backend failed: only possible with a hardware one).
 */
CL_WUR int cl_sha256(const uint8_t *data, size_t len, uint8_t out[CL_SHA256_LEN]);

/*
 * Start an incremental SHA-256 in ctx (which needs no other set-up).
 * Returns CL_OK, CL_ERR_ARG (ctx NULL) or CL_ERR_CRYPTO.
 */
CL_WUR int cl_sha256_start(struct cl_sha256 *ctx);

/*
 * Feed data[0..len) (data may be NULL when len is 0) to a started ctx.
 * Returns CL_OK, CL_ERR_ARG (ctx NULL, data NULL with len > 0) or
 * CL_ERR_CRYPTO.
 */
CL_WUR int cl_sha256_update(struct cl_sha256 *ctx, const uint8_t *data, size_t len);

/*
 * Write the digest of everything fed to out and wipe ctx (start again to
 * reuse it). Returns CL_OK, CL_ERR_ARG (NULL argument) or CL_ERR_CRYPTO;
 * ctx is wiped in every case.
 */
CL_WUR int cl_sha256_finish(struct cl_sha256 *ctx, uint8_t out[CL_SHA256_LEN]);

/* Wipe a started ctx without producing a digest. NULL does nothing. */
void cl_sha256_free(struct cl_sha256 *ctx);

/* ------------------------------------------------------------ time */

/*
 * Seconds since 1970-01-01T00:00:00Z of a UTC civil date and time, for
 * callers whose clock port is a calendar RTC. Leap seconds are not counted
 * (POSIX time, as X.509 and every RTC do). Returns CL_OK, or CL_ERR_ARG
 * when out is NULL or a field is out of range (year 1970..9999, month 1..12,
 * day 1..days in that month, hour 0..23, minute 0..59, second 0..59).
 */
CL_WUR int cl_cert_time_from_civil(unsigned year, unsigned month, unsigned day,
                                   unsigned hour, unsigned minute, unsigned second,
                                   uint64_t *out);

/* ------------------------------------------------------------ chains */

/* Make c empty. Cannot fail; c must not be NULL. */
void cl_cert_init(struct cl_cert *c);

/* Release everything c holds (mbedtls's allocations included) and make it
 * empty again, ready for reuse. NULL does nothing. */
void cl_cert_free(struct cl_cert *c);

/*
 * Parse one DER certificate into c (whatever c held is released first), for
 * fingerprints, names and logs. The result is NOT validated: the signature
 * functions refuse it. The DER is copied; der need not outlive c.
 * c must have been given to cl_cert_init().
 *
 * Returns CL_OK, or
 *  CL_ERR_ARG            c NULL, der NULL or len 0;
 *  CL_ERR_CERT_PARSE     not one well-formed certificate, or bytes after it;
 *  CL_ERR_CERT_CRITICAL  an extension marked critical that is not understood;
 *  CL_ERR_CERT_ALGORITHM a signature algorithm or public key type that
 *                        mbedtls cannot represent (e.g. Ed25519);
 *  CL_ERR_CRYPTO         mbedtls could not allocate.
 * On failure c is empty.
 */
CL_WUR int cl_cert_parse(struct cl_cert *c, const uint8_t *der, size_t len);

/*
 * THE chain validation. Parse chain[0..n) (leaf first, each certificate
 * issued by the next) and validate it at time `now` (seconds since
 * 1970-01-01T00:00:00Z, from the caller's clock port; mbedtls's idea of the
 * time is never consulted) against the trust anchors roots[0..n_roots) (DER
 * root certificates in caller memory), for `role` (enum cl_cert_role: what
 * the leaf is trusted to do; there is no form that checks no role). The
 * chain may end with a copy of its anchor; the anchor may be the leaf
 * itself (a pinned certificate, which is then checked as the leaf: for the
 * role, not as an issuer). A card's authentication certificate is checked
 * with CL_CERT_ROLE_CARD_AUTH, its signing certificate with
 * CL_CERT_ROLE_CARD_SIGN, a server's with CL_CERT_ROLE_SERVER.
 *
 * Whatever c held is released first (CL_ERR_ARG leaves c as it was); c
 * must have been given to cl_cert_init(). On success c holds the validated chain and the
 * signature functions accept it. On failure c holds the certificates that
 * parsed (for logging the failing one with cl_cert_subject), not
 * validated; cl_cert_free() it either way.
 *
 * depth (may be NULL) receives which certificate failed: i for chain[i]
 * (0 is the leaf); n for the trust anchor (a root that failed to parse, or
 * the root the chain leads to when that root is expired, weak, not allowed
 * to issue, or not allowed the role). It is 0 on success and on
 * CL_ERR_ARG.
 *
 * Checks run leaf first; for each certificate, in this order: its key, its
 * signature algorithm, its validity period, its keyUsage and
 * basicConstraints (the leaf: the role's keyUsage rule; an issuer: CA:TRUE
 * and keyCertSign), its extendedKeyUsage and nsCertType (the role's rules,
 * for the leaf and for every CA, the anchor included), its path length
 * (issuers), then its link to the next (issuer name, signature). The first
 * failure is returned:
 *  CL_ERR_ARG            c, chain or a der pointer NULL, a len 0, n 0,
 *                        roots NULL with n_roots > 0, or a role outside
 *                        enum cl_cert_role (0, or a keyUsage mask passed
 *                        by mistake);
 *  CL_ERR_LIMIT          n > CL_CERT_CHAIN_MAX;
 *  CL_ERR_CERT_PARSE     a certificate is malformed or has trailing bytes;
 *  CL_ERR_CERT_CRITICAL  unknown critical extension;
 *  CL_ERR_CERT_ALGORITHM key or signature algorithm outside the policy;
 *  CL_ERR_CERT_EXPIRED   now > notAfter;
 *  CL_ERR_CERT_NOT_YET_VALID now < notBefore;
 *  CL_ERR_CERT_KEY_USAGE the leaf's keyUsage does not allow the role (or
 *                        a CL_CERT_ROLE_ISSUER leaf is not CA:TRUE), or an
 *                        issuer is not CA:TRUE or its keyUsage lacks
 *                        keyCertSign;
 *  CL_ERR_CERT_PURPOSE   an extendedKeyUsage or nsCertType (critical or
 *                        not) that does not allow the role, on the leaf or
 *                        on a CA (depth: that certificate; n for the trust
 *                        anchor);
 *  CL_ERR_CERT_PATH_LEN  more intermediate CAs below an issuer than its
 *                        pathLenConstraint allows (depth: that issuer);
 *  CL_ERR_CERT_UNTRUSTED a certificate's issuer name is not the next
 *                        certificate's subject, or the last certificate's
 *                        issuer is no trust anchor (wrong issuer, no path);
 *  CL_ERR_SIGNATURE      the issuer was found by name but the signature
 *                        on the certificate does not verify with its key
 *                        (forged or corrupted certificate);
 *  CL_ERR_CRYPTO         mbedtls could not allocate or failed internally.
 */
CL_WUR int cl_cert_verify_chain(struct cl_cert *c,
                                const struct cl_cert_der *chain, size_t n,
                                const struct cl_cert_der *roots, size_t n_roots,
                                uint64_t now, enum cl_cert_role role, size_t *depth);

/* Number of certificates c holds (0 when empty). */
size_t cl_cert_count(const struct cl_cert *c);

/* Whether c holds a chain that cl_cert_verify_chain validated. */
bool cl_cert_is_validated(const struct cl_cert *c);

/* The last second (seconds since 1970, inclusive) at which the validated
 * chain still holds: the earliest notAfter of its certificates and of the
 * trust anchor. A cache of the validation must not outlive it. 0 when c
 * holds no validated chain. */
uint64_t cl_cert_valid_until(const struct cl_cert *c);

/* The kind of key of the certificate at depth (0: leaf) of c;
 * CL_CERT_KEY_NONE when there is none or it is outside the policy. */
enum cl_cert_key cl_cert_key_kind(const struct cl_cert *c, size_t depth);

/*
 * SHA-256 of the DER of the certificate at depth (0: leaf) of c: the hash by
 * which the relay protocol names a certificate sent once (and what
 * `openssl x509 -fingerprint -sha256` prints). Returns CL_OK, CL_ERR_ARG
 * (NULL argument), CL_ERR_NOT_FOUND (no certificate at depth) or
 * CL_ERR_CRYPTO.
 */
CL_WUR int cl_cert_fingerprint(const struct cl_cert *c, size_t depth,
                               uint8_t out[CL_CERT_FINGERPRINT_LEN]);

/*
 * The subject distinguished name of the certificate at depth of c as text
 * for logs ("CN=cardlink test card, O=cardlink test"), NUL-terminated in
 * out[0..max). Bytes outside printable ASCII are written as '?', so the
 * text is safe to log and display. Returns the text's length (without the
 * NUL), or CL_ERR_ARG (NULL argument, max 0), CL_ERR_NOT_FOUND (no
 * certificate at depth) or CL_ERR_BUFFER (out too small: out holds "").
 */
CL_WUR int cl_cert_subject(const struct cl_cert *c, size_t depth, char *out, size_t max);

/*
 * The serial number of the certificate at depth of c as upper-case hex
 * without separators ("1A03"), as `openssl x509 -serial` prints it,
 * NUL-terminated. Returns the length, or CL_ERR_ARG, CL_ERR_NOT_FOUND or
 * CL_ERR_BUFFER as cl_cert_subject does.
 */
CL_WUR int cl_cert_serial(const struct cl_cert *c, size_t depth, char *out, size_t max);

/* ------------------------------------------------------------ signatures */

/*
 * Verify sig[0..sig_len) over the digest[0..digest_len) (the output of
 * `hash`: 32, 48 or 64 bytes) with the public key of the leaf of c, which
 * cl_cert_verify_chain must have validated.
 *
 * Returns CL_OK, or
 *  CL_ERR_ARG            NULL pointer, digest_len not the hash's length,
 *                        sig_len 0, unknown sig or hash;
 *  CL_ERR_STATE          c holds no validated chain;
 *  CL_ERR_CERT_ALGORITHM the leaf's key cannot make this kind of signature
 *                        (ECDSA asked of an RSA key or the reverse);
 *  CL_ERR_SIGNATURE      the signature does not verify (also a malformed
 *                        or wrongly sized signature).
 */
CL_WUR int cl_cert_verify_digest(const struct cl_cert *c, enum cl_cert_sig sig,
                                 enum cl_cert_hash hash,
                                 const uint8_t *digest, size_t digest_len,
                                 const uint8_t *signature, size_t sig_len);

/*
 * Hash msg[0..msg_len) (msg may be NULL when msg_len is 0) with `hash` and
 * verify the signature over it as cl_cert_verify_digest does: for signed
 * server messages and signed card data. Returns what cl_cert_verify_digest
 * returns, and CL_ERR_CRYPTO if hashing fails.
 */
CL_WUR int cl_cert_verify_message(const struct cl_cert *c, enum cl_cert_sig sig,
                                  enum cl_cert_hash hash,
                                  const uint8_t *msg, size_t msg_len,
                                  const uint8_t *signature, size_t sig_len);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_CERT_H */
