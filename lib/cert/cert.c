/*
 * cardlink — X.509 chain validation and signature verification over mbedtls.
 * SPDX-License-Identifier: Apache-2.0
 *
 * mbedtls parses; cardlink decides. mbedtls_x509_crt_verify() is not used:
 * it reads the system clock and folds several failure reasons into one flag
 * word without saying which certificate failed. The walk below applies the
 * policy of cardlink/cert.h itself, leaf first, with mbedtls's parser,
 * message digests and public-key verification as building blocks.
 */
#include <string.h>

#include <mbedtls/rsa.h>

#include "cardlink/tlv.h"
#include "cardlink/wipe.h"
#include "cert_impl.h"

static struct cl_cert_impl *impl_of(struct cl_cert *c)
{
    return (struct cl_cert_impl *)(void *)c->opaque.bytes;
}

static const struct cl_cert_impl *cimpl_of(const struct cl_cert *c)
{
    return (const struct cl_cert_impl *)(const void *)c->opaque.bytes;
}

/* ------------------------------------------------------------ time */

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar, for
 * years 0..9999 (negative before 1970). 32-bit arithmetic only. */
static int32_t days_from_civil(int32_t y, int32_t m, int32_t d)
{
    int32_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;                                     /* 0..399 */
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;    /* 0..365 */
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;             /* 0..146096 */
    return era * 146097 + doe - 719468;
}

static bool is_leap(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const uint8_t dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

    return m == 2 && is_leap(y) ? 29u : dim[m - 1];
}

static int64_t seconds_from_civil(int32_t y, int32_t mo, int32_t d,
                                  int32_t h, int32_t mi, int32_t s)
{
    return (int64_t)days_from_civil(y, mo, d) * 86400 +
           (int64_t)(h * 3600 + mi * 60 + s);
}

/* see cardlink/cert.h */
int cl_cert_time_from_civil(unsigned year, unsigned month, unsigned day,
                            unsigned hour, unsigned minute, unsigned second,
                            uint64_t *out)
{
    if (out == NULL || year < 1970 || year > 9999 || month < 1 || month > 12 ||
        day < 1 || day > days_in_month(year, month) || hour > 23 ||
        minute > 59 || second > 59)
        return CL_ERR_ARG;
    *out = (uint64_t)seconds_from_civil((int32_t)year, (int32_t)month, (int32_t)day,
                                        (int32_t)hour, (int32_t)minute,
                                        (int32_t)second);
    return CL_OK;
}

/* An X.509 time (mbedtls checked its ranges when parsing) in seconds since
 * the epoch; fields clamped so that a surprise cannot overflow. */
static int64_t x509_seconds(const mbedtls_x509_time *t)
{
    int32_t y = t->year, mo = t->mon, d = t->day, h = t->hour, mi = t->min, s = t->sec;

    if (y < 0) y = 0;
    if (y > 9999) y = 9999;
    if (mo < 1) mo = 1;
    if (mo > 12) mo = 12;
    if (d < 1) d = 1;
    if (d > 31) d = 31;
    if (h < 0) h = 0;
    if (h > 23) h = 23;
    if (mi < 0) mi = 0;
    if (mi > 59) mi = 59;
    if (s < 0) s = 0;
    if (s > 60) s = 60;
    return seconds_from_civil(y, mo, d, h, mi, s);
}

/* -1, 0, 1 as now is before, at, after t. */
static int cmp_time(uint64_t now, int64_t t)
{
    if (t < 0 || now > (uint64_t)t)
        return 1;
    return now < (uint64_t)t ? -1 : 0;
}

/* ------------------------------------------------------------ parsing */

struct ext_state {
    bool critical;
};

/* mbedtls calls this for each extension it has no parser for. A critical
 * one fails the parse (and is remembered, for the error code); a
 * non-critical one is skipped, as RFC 5280 §4.2 allows. */
static int ext_cb(void *p_ctx, mbedtls_x509_crt const *crt, mbedtls_x509_buf const *oid,
                  int critical, const unsigned char *p, const unsigned char *end)
{
    struct ext_state *st = p_ctx;

    (void)crt;
    (void)oid;
    (void)p;
    (void)end;
    if (!critical)
        return 0;
    st->critical = true;
    return MBEDTLS_ERR_X509_INVALID_EXTENSIONS;
}

static int map_parse_error(int ret)
{
    int pos = -ret;
    int high = pos & 0xFF80;  /* module error; the low 7 bits: the cause */
    int low = pos & 0x007F;

    if (ret == MBEDTLS_ERR_X509_FEATURE_UNAVAILABLE)
        return CL_ERR_CERT_CRITICAL;   /* known extension, critical, unsupported */
    if (ret == MBEDTLS_ERR_X509_ALLOC_FAILED || ret == MBEDTLS_ERR_PK_ALLOC_FAILED ||
        high == -MBEDTLS_ERR_X509_ALLOC_FAILED || low == 0x6A /* ASN1 alloc */ ||
        low == 0x10 /* MPI alloc */)
        return CL_ERR_CRYPTO;
    if (high == -MBEDTLS_ERR_X509_UNKNOWN_SIG_ALG ||
        high == -MBEDTLS_ERR_X509_FEATURE_UNAVAILABLE ||
        ret == MBEDTLS_ERR_PK_UNKNOWN_PK_ALG || ret == MBEDTLS_ERR_PK_UNKNOWN_NAMED_CURVE ||
        ret == MBEDTLS_ERR_ECP_FEATURE_UNAVAILABLE)
        return CL_ERR_CERT_ALGORITHM;
    return CL_ERR_CERT_PARSE;
}

/* Append one DER certificate (exactly len bytes, nothing after it) to the
 * mbedtls list at head. On failure the list is as before. */
static int parse_append(mbedtls_x509_crt *head, const uint8_t *der, size_t len)
{
    struct cl_tlv t;
    struct ext_state st;
    int ret;

    if (cl_tlv_decode_flags(der, len, CL_TLV_DER, &t) != CL_OK || t.tag != 0x30 ||
        t.total != len)
        return CL_ERR_CERT_PARSE;
    st.critical = false;
    ret = mbedtls_x509_crt_parse_der_with_ext_cb(head, der, len, 1, ext_cb, &st);
    if (ret == 0)
        return CL_OK;
    return st.critical ? CL_ERR_CERT_CRITICAL : map_parse_error(ret);
}

static const mbedtls_x509_crt *node_at(const struct cl_cert *c, size_t depth)
{
    const mbedtls_x509_crt *crt;

    if (c == NULL)
        return NULL;
    crt = &cimpl_of(c)->crt;
    if (crt->version == 0)
        return NULL;            /* empty */
    while (depth > 0 && crt != NULL) {
        crt = crt->next;
        depth--;
    }
    return crt;
}

/* ------------------------------------------------------------ policy */

/* AlgorithmIdentifier of an EC key on a named curve (RFC 5480 §2.1.1):
 * id-ecPublicKey with secp256r1 / secp384r1. */
static const uint8_t alg_p256[] = {
    0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01,
    0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07
};
static const uint8_t alg_p384[] = {
    0x30, 0x10, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01,
    0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22
};

static bool spki_alg_is(const mbedtls_x509_buf *spki, const uint8_t *alg, size_t alg_len)
{
    struct cl_tlv t;

    if (cl_tlv_decode_flags(spki->p, spki->len, CL_TLV_DER, &t) != CL_OK || t.tag != 0x30)
        return false;
    return t.len > alg_len && memcmp(t.value, alg, alg_len) == 0;
}

/* The key kind of a certificate, or CL_CERT_KEY_NONE outside the policy.
 * The curve is read from the SubjectPublicKeyInfo bytes, which works the
 * same way with every mbedtls version (explicit curve parameters, accepted
 * by some mbedtls builds, are refused here). */
static enum cl_cert_key key_kind(const mbedtls_x509_crt *crt)
{
    mbedtls_pk_type_t type = mbedtls_pk_get_type(&crt->pk);
    size_t bits = mbedtls_pk_get_bitlen(&crt->pk);

    if (type == MBEDTLS_PK_RSA) {
        /* The modulus' own bit length: mbedtls 2.28's pk_get_bitlen says
         * 8 x its byte length, which makes a 2047-bit modulus "2048". */
        bits = cl_mb_rsa_bitlen(mbedtls_pk_rsa(crt->pk));
        return bits >= 2048 && bits <= 8192 ? CL_CERT_KEY_RSA : CL_CERT_KEY_NONE;
    }
    if (type == MBEDTLS_PK_ECKEY) {
        if (bits == 256 && spki_alg_is(&crt->pk_raw, alg_p256, sizeof(alg_p256)))
            return CL_CERT_KEY_EC_P256;
        if (bits == 384 && spki_alg_is(&crt->pk_raw, alg_p384, sizeof(alg_p384)))
            return CL_CERT_KEY_EC_P384;
    }
    return CL_CERT_KEY_NONE;
}

static bool md_allowed(mbedtls_md_type_t md)
{
    return md == MBEDTLS_MD_SHA256 || md == MBEDTLS_MD_SHA384 || md == MBEDTLS_MD_SHA512;
}

static bool sig_alg_allowed(const mbedtls_x509_crt *crt)
{
    mbedtls_pk_type_t pk = crt->CL_MBP(sig_pk);

    if (!md_allowed(crt->CL_MBP(sig_md)))
        return false;
    if (pk == MBEDTLS_PK_ECDSA || pk == MBEDTLS_PK_RSA)
        return true;
    if (pk == MBEDTLS_PK_RSASSA_PSS) {
        const mbedtls_pk_rsassa_pss_options *o = crt->CL_MBP(sig_opts);

        return o != NULL && md_allowed(o->mgf1_hash_id);
    }
    return false;
}

static bool has_ku(const mbedtls_x509_crt *crt)
{
    return (crt->CL_MBP(ext_types) & MBEDTLS_X509_EXT_KEY_USAGE) != 0;
}

/* ------------------------------------------------------------ roles */

#define NS_SSL_CLIENT MBEDTLS_X509_NS_CERT_TYPE_SSL_CLIENT
#define NS_SSL_SERVER MBEDTLS_X509_NS_CERT_TYPE_SSL_SERVER
#define NS_EMAIL MBEDTLS_X509_NS_CERT_TYPE_EMAIL
#define NS_SSL_CA MBEDTLS_X509_NS_CERT_TYPE_SSL_CA
#define NS_EMAIL_CA MBEDTLS_X509_NS_CERT_TYPE_EMAIL_CA
#define NS_OBJECT_CA MBEDTLS_X509_NS_CERT_TYPE_OBJECT_SIGNING_CA
#define KU_DS MBEDTLS_X509_KU_DIGITAL_SIGNATURE
#define KU_NR MBEDTLS_X509_KU_NON_REPUDIATION
#define KU_KE MBEDTLS_X509_KU_KEY_ENCIPHERMENT
#define KU_KA MBEDTLS_X509_KU_KEY_AGREEMENT
#define KU_KCS MBEDTLS_X509_KU_KEY_CERT_SIGN

/* What a role asks of the certificates of a path (cardlink/cert.h, enum
 * cl_cert_role). keyUsage bits are those of the BIT STRING's first octet
 * (RFC 5280 §4.2.1.3), as mbedtls stores them. */
struct role_rule {
    uint8_t ku_all;      /* leaf keyUsage, when present, has all of these */
    uint8_t ku_any;      /* ... and at least one of these (0: no such rule) */
    uint8_t ku_none;     /* ... and none of these */
    bool ku_required;    /* the leaf must carry keyUsage */
    bool leaf_ca;        /* the leaf must be CA:TRUE */
    const uint8_t *eku;  /* the OID (DER contents) an EKU must list */
    uint8_t eku_len;
    uint8_t ns_leaf;     /* nsCertType bits, one of which the leaf needs */
    uint8_t ns_ca;       /* nsCertType bits, one of which each CA needs */
};

/* DER contents of the purposes' OBJECT IDENTIFIERs. */
#define KP(n) { 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, (n) }   /* 1.3.6.1.5.5.7.3.n */
static const uint8_t oid_server_auth[] = KP(1);
static const uint8_t oid_client_auth[] = KP(2);
static const uint8_t oid_email[] = KP(4);
/* id-PIV-cardAuth 2.16.840.1.101.3.6.8 (FIPS 201, SP 800-73: the EKU of a
 * PIV card authentication certificate). */
static const uint8_t oid_piv_card_auth[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x06, 0x08 };
/* anyExtendedKeyUsage 2.5.29.37.0 */
static const uint8_t oid_any_eku[] = { 0x55, 0x1D, 0x25, 0x00 };

#define NS_CA_ANY (NS_SSL_CA | NS_EMAIL_CA | NS_OBJECT_CA)

static const struct role_rule role_rules[] = {
    /* CL_CERT_ROLE_SERVER */
    { 0, KU_DS | KU_KE | KU_KA, 0, false, false,
      oid_server_auth, sizeof(oid_server_auth), NS_SSL_SERVER, NS_SSL_CA },
    /* CL_CERT_ROLE_DEVICE */
    { 0, KU_DS | KU_KA, 0, false, false,
      oid_client_auth, sizeof(oid_client_auth), NS_SSL_CLIENT, NS_SSL_CA },
    /* CL_CERT_ROLE_CARD_AUTH: never nonRepudiation */
    { KU_DS, 0, KU_NR, false, false,
      oid_piv_card_auth, sizeof(oid_piv_card_auth), NS_SSL_CLIENT, NS_SSL_CA },
    /* CL_CERT_ROLE_CARD_SIGN */
    { KU_DS | KU_NR, 0, 0, true, false,
      oid_email, sizeof(oid_email), NS_EMAIL, NS_EMAIL_CA },
    /* CL_CERT_ROLE_ISSUER */
    { KU_DS | KU_KCS, 0, 0, false, true,
      oid_any_eku, sizeof(oid_any_eku), NS_CA_ANY, NS_CA_ANY },
};

/* Whether crt's extendedKeyUsage (absent: yes) lists the rule's OID.
 * mbedtls_x509_crt_check_extended_key_usage is not used: it takes
 * anyExtendedKeyUsage for every purpose; OpenSSL does not, nor do we. */
static bool eku_allows(const mbedtls_x509_crt *crt, const struct role_rule *rr)
{
    const mbedtls_x509_sequence *cur;

    if ((crt->CL_MBP(ext_types) & MBEDTLS_X509_EXT_EXTENDED_KEY_USAGE) == 0)
        return true;
    for (cur = &crt->ext_key_usage; cur != NULL; cur = cur->next)
        if (cur->buf.p != NULL && cur->buf.len == rr->eku_len &&
            memcmp(cur->buf.p, rr->eku, rr->eku_len) == 0)
            return true;
    return false;
}

/* Whether crt's nsCertType (absent: yes) has one of the bits. */
static bool ns_allows(const mbedtls_x509_crt *crt, uint8_t bits)
{
    if ((crt->CL_MBP(ext_types) & MBEDTLS_X509_EXT_NS_CERT_TYPE) == 0)
        return true;
    return (crt->CL_MBP(ns_cert_type) & bits) != 0;
}

/* The leaf's keyUsage and basicConstraints against the rule. */
static int check_leaf_usage(const mbedtls_x509_crt *crt, const struct role_rule *rr)
{
    unsigned ku = crt->CL_MBP(key_usage) & 0xFFu;

    if (rr->leaf_ca && !crt->CL_MBP(ca_istrue))
        return CL_ERR_CERT_KEY_USAGE;
    if (!has_ku(crt))
        return rr->ku_required ? CL_ERR_CERT_KEY_USAGE : CL_OK;
    if ((ku & rr->ku_all) != rr->ku_all || (ku & rr->ku_none) != 0 ||
        (rr->ku_any != 0 && (ku & rr->ku_any) == 0))
        return CL_ERR_CERT_KEY_USAGE;
    return CL_OK;
}

/*
 * A certificate's own properties. pos is its place in the path (0: the
 * leaf; for an issuer, pos - 1 intermediate CAs are below it); anchor says
 * its own signature does not matter (a trust anchor is trusted as given).
 */
static int check_cert(const mbedtls_x509_crt *crt, size_t pos, uint64_t now,
                      const struct role_rule *rr, bool anchor)
{
    unsigned ku = crt->CL_MBP(key_usage) & 0xFFu;
    int rc;

    if (key_kind(crt) == CL_CERT_KEY_NONE)
        return CL_ERR_CERT_ALGORITHM;
    if (!anchor && !sig_alg_allowed(crt))
        return CL_ERR_CERT_ALGORITHM;
    if (cmp_time(now, x509_seconds(&crt->valid_from)) < 0)
        return CL_ERR_CERT_NOT_YET_VALID;
    if (cmp_time(now, x509_seconds(&crt->valid_to)) > 0)
        return CL_ERR_CERT_EXPIRED;
    if (pos == 0) {
        rc = check_leaf_usage(crt, rr);
        if (rc == CL_OK && (!eku_allows(crt, rr) || !ns_allows(crt, rr->ns_leaf)))
            rc = CL_ERR_CERT_PURPOSE;
        return rc;
    }
    if (!crt->CL_MBP(ca_istrue))
        return CL_ERR_CERT_KEY_USAGE;
    if (has_ku(crt) && (ku & KU_KCS) == 0)
        return CL_ERR_CERT_KEY_USAGE;
    if (!eku_allows(crt, rr) || !ns_allows(crt, rr->ns_ca))
        return CL_ERR_CERT_PURPOSE;
    /* mbedtls stores pathLenConstraint + 1, and 0 when there is none. */
    if (crt->CL_MBP(max_pathlen) > 0 && pos > (size_t)crt->CL_MBP(max_pathlen))
        return CL_ERR_CERT_PATH_LEN;
    return CL_OK;
}

static bool same_buf(const mbedtls_x509_buf *a, const mbedtls_x509_buf *b)
{
    return a->len == b->len && a->len > 0 && memcmp(a->p, b->p, a->len) == 0;
}

/* Whether child's signature verifies with parent's key. */
static int check_signed_by(const mbedtls_x509_crt *child, const mbedtls_x509_crt *parent)
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(child->CL_MBP(sig_md));
    unsigned char h[MBEDTLS_MD_MAX_SIZE];
    int ret;

    if (md == NULL)
        return CL_ERR_CERT_ALGORITHM;
    if (mbedtls_md(md, child->tbs.p, child->tbs.len, h) != 0)
        return CL_ERR_CRYPTO;
    /* mbedtls_pk_verify_ext takes a non-const context; it only reads it. */
    ret = mbedtls_pk_verify_ext(child->CL_MBP(sig_pk), child->CL_MBP(sig_opts),
                                (mbedtls_pk_context *)&parent->pk, child->CL_MBP(sig_md),
                                h, mbedtls_md_get_size(md), child->CL_MBP(sig).p,
                                child->CL_MBP(sig).len);
    cl_wipe(h, sizeof(h));
    return ret == 0 ? CL_OK : CL_ERR_SIGNATURE;
}

static bool is_anchor(const mbedtls_x509_crt *crt, const mbedtls_x509_crt *roots)
{
    const mbedtls_x509_crt *r;

    for (r = roots; r != NULL && r->version != 0; r = r->next)
        if (same_buf(&crt->raw, &r->raw))
            return true;
    return false;
}

/* The earliest notAfter of crt and *until into *until (crt's dates were
 * checked against a clock >= 0, so its notAfter is not negative). */
static void until_min(const mbedtls_x509_crt *crt, uint64_t *until)
{
    uint64_t t = (uint64_t)x509_seconds(&crt->valid_to);

    if (t < *until)
        *until = t;
}

/* The walk of cl_cert_verify_chain over the parsed chain (n certificates
 * at head) and parsed roots; *depth receives the failing position, *until
 * the earliest notAfter of what was checked. */
static int walk(const mbedtls_x509_crt *head, size_t n, const mbedtls_x509_crt *roots,
                uint64_t now, const struct role_rule *rr, size_t *depth, uint64_t *until)
{
    const mbedtls_x509_crt *cur = head, *r, *anchor = NULL;
    bool name_found = false;
    size_t d;
    int rc;

    for (d = 0; cur != NULL; d++) {
        bool at_anchor = is_anchor(cur, roots);

        *depth = d;
        rc = check_cert(cur, d, now, rr, at_anchor);
        if (rc != CL_OK)
            return rc;
        until_min(cur, until);
        if (at_anchor)
            return rc;
        if (cur->next == NULL)
            break;
        if (!same_buf(&cur->issuer_raw, &cur->next->subject_raw))
            return CL_ERR_CERT_UNTRUSTED;
        rc = check_signed_by(cur, cur->next);
        if (rc != CL_OK)
            return rc;
        cur = cur->next;
    }
    if (cur == NULL)
        return CL_ERR_INTERNAL;
    /* cur is chain[n - 1] (d == n - 1): its issuer must be a root. */
    for (r = roots; r != NULL && r->version != 0; r = r->next) {
        if (!same_buf(&cur->issuer_raw, &r->subject_raw))
            continue;
        name_found = true;
        rc = check_signed_by(cur, r);
        if (rc == CL_ERR_CRYPTO || rc == CL_ERR_CERT_ALGORITHM)
            return rc;
        if (rc == CL_OK) {
            anchor = r;
            break;
        }
    }
    if (!name_found)
        return CL_ERR_CERT_UNTRUSTED;
    if (anchor == NULL)
        return CL_ERR_SIGNATURE;
    *depth = n;
    rc = check_cert(anchor, n, now, rr, true);
    if (rc == CL_OK)
        until_min(anchor, until);
    return rc;
}

/* ------------------------------------------------------------ chains */

/* see cardlink/cert.h */
void cl_cert_init(struct cl_cert *c)
{
    memset(c, 0, sizeof(*c));
    mbedtls_x509_crt_init(&impl_of(c)->crt);
}

/* see cardlink/cert.h */
void cl_cert_free(struct cl_cert *c)
{
    if (c == NULL)
        return;
    mbedtls_x509_crt_free(&impl_of(c)->crt);
    cl_wipe(c, sizeof(*c));
    mbedtls_x509_crt_init(&impl_of(c)->crt);
}

/* see cardlink/cert.h */
int cl_cert_parse(struct cl_cert *c, const uint8_t *der, size_t len)
{
    if (c == NULL || der == NULL || len == 0)
        return CL_ERR_ARG;
    cl_cert_free(c);
    return parse_append(&impl_of(c)->crt, der, len);
}

/* see cardlink/cert.h */
int cl_cert_verify_chain(struct cl_cert *c, const struct cl_cert_der *chain, size_t n,
                         const struct cl_cert_der *roots, size_t n_roots,
                         uint64_t now, enum cl_cert_role role, size_t *depth)
{
    const struct role_rule *rr;
    struct cl_cert_impl *im;
    mbedtls_x509_crt rl;
    uint64_t until = UINT64_MAX;
    size_t i, d = 0;
    int rc = CL_OK;

    if (depth != NULL)
        *depth = 0;
    if (c == NULL || chain == NULL || n == 0 || (roots == NULL && n_roots > 0))
        return CL_ERR_ARG;
    if ((unsigned)role < (unsigned)CL_CERT_ROLE_SERVER ||
        (unsigned)role > (unsigned)CL_CERT_ROLE_ISSUER)
        return CL_ERR_ARG;
    rr = &role_rules[(unsigned)role - (unsigned)CL_CERT_ROLE_SERVER];
    for (i = 0; i < n; i++)
        if (chain[i].der == NULL || chain[i].len == 0)
            return CL_ERR_ARG;
    for (i = 0; i < n_roots; i++)
        if (roots[i].der == NULL || roots[i].len == 0)
            return CL_ERR_ARG;
    cl_cert_free(c);
    if (n > CL_CERT_CHAIN_MAX)
        return CL_ERR_LIMIT;
    im = impl_of(c);
    for (i = 0; i < n && rc == CL_OK; i++) {
        d = i;
        rc = parse_append(&im->crt, chain[i].der, chain[i].len);
    }
    mbedtls_x509_crt_init(&rl);
    for (i = 0; i < n_roots && rc == CL_OK; i++) {
        d = n;
        rc = parse_append(&rl, roots[i].der, roots[i].len);
    }
    if (rc == CL_OK)
        rc = walk(&im->crt, n, &rl, now, rr, &d, &until);
    mbedtls_x509_crt_free(&rl);
    if (rc == CL_OK) {
        im->validated = 1;
        im->valid_until = until;
        im->leaf_key = (uint8_t)key_kind(&im->crt);
        d = 0;
    }
    if (depth != NULL)
        *depth = d;
    return rc;
}

/* see cardlink/cert.h */
size_t cl_cert_count(const struct cl_cert *c)
{
    const mbedtls_x509_crt *crt = node_at(c, 0);
    size_t n = 0;

    for (; crt != NULL; crt = crt->next)
        n++;
    return n;
}

/* see cardlink/cert.h */
bool cl_cert_is_validated(const struct cl_cert *c)
{
    return c != NULL && cimpl_of(c)->validated != 0;
}

/* see cardlink/cert.h */
uint64_t cl_cert_valid_until(const struct cl_cert *c)
{
    return cl_cert_is_validated(c) ? cimpl_of(c)->valid_until : 0;
}

/* see cardlink/cert.h */
enum cl_cert_key cl_cert_key_kind(const struct cl_cert *c, size_t depth)
{
    const mbedtls_x509_crt *crt = node_at(c, depth);

    return crt == NULL ? CL_CERT_KEY_NONE : key_kind(crt);
}

/* see cardlink/cert.h */
int cl_cert_fingerprint(const struct cl_cert *c, size_t depth,
                        uint8_t out[CL_CERT_FINGERPRINT_LEN])
{
    const mbedtls_x509_crt *crt;

    if (c == NULL || out == NULL)
        return CL_ERR_ARG;
    crt = node_at(c, depth);
    if (crt == NULL)
        return CL_ERR_NOT_FOUND;
    return cl_sha256(crt->raw.p, crt->raw.len, out);
}

/* see cardlink/cert.h */
int cl_cert_subject(const struct cl_cert *c, size_t depth, char *out, size_t max)
{
    const mbedtls_x509_crt *crt;
    int n, i;

    if (c == NULL || out == NULL || max == 0)
        return CL_ERR_ARG;
    out[0] = '\0';
    crt = node_at(c, depth);
    if (crt == NULL)
        return CL_ERR_NOT_FOUND;
    n = mbedtls_x509_dn_gets(out, max, &crt->subject);
    if (n < 0 || (size_t)n >= max) {
        out[0] = '\0';
        return CL_ERR_BUFFER;
    }
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)out[i];

        if (ch < 0x20 || ch > 0x7E)
            out[i] = '?';
    }
    out[n] = '\0';
    return n;
}

/* see cardlink/cert.h */
int cl_cert_serial(const struct cl_cert *c, size_t depth, char *out, size_t max)
{
    static const char hex[] = "0123456789ABCDEF";
    const mbedtls_x509_crt *crt;
    const uint8_t *p;
    size_t len, i;

    if (c == NULL || out == NULL || max == 0)
        return CL_ERR_ARG;
    out[0] = '\0';
    crt = node_at(c, depth);
    if (crt == NULL)
        return CL_ERR_NOT_FOUND;
    p = crt->serial.p;
    len = crt->serial.len;
    while (len > 1 && p[0] == 0) {   /* the DER sign byte, as openssl drops it */
        p++;
        len--;
    }
    if (len == 0 || len > 64 || 2 * len >= max)
        return len == 0 ? CL_ERR_NOT_FOUND : CL_ERR_BUFFER;
    for (i = 0; i < len; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 0x0F];
    }
    out[2 * len] = '\0';
    return (int)(2 * len);
}

/* ------------------------------------------------------------ signatures */

static mbedtls_md_type_t md_of(enum cl_cert_hash hash)
{
    switch (hash) {
    case CL_CERT_HASH_SHA256: return MBEDTLS_MD_SHA256;
    case CL_CERT_HASH_SHA384: return MBEDTLS_MD_SHA384;
    case CL_CERT_HASH_SHA512: return MBEDTLS_MD_SHA512;
    default: return MBEDTLS_MD_NONE;
    }
}

/* Write the DER INTEGER of an unsigned big-endian number at out. */
static size_t put_der_uint(uint8_t *out, const uint8_t *num, size_t len)
{
    size_t k = 0;

    while (len > 1 && num[0] == 0) {
        num++;
        len--;
    }
    out[k++] = 0x02;
    out[k++] = (uint8_t)(len + ((num[0] & 0x80) ? 1u : 0u));
    if (num[0] & 0x80)
        out[k++] = 0x00;
    memcpy(out + k, num, len);
    return k + len;
}

/* r||s (2 x half bytes, half <= 48) to a DER ECDSA-Sig-Value. */
static size_t raw_to_der(const uint8_t *sig, size_t half, uint8_t out[2 + 2 * (3 + 48)])
{
    size_t k = 2;

    k += put_der_uint(out + k, sig, half);
    k += put_der_uint(out + k, sig + half, half);
    out[0] = 0x30;
    out[1] = (uint8_t)(k - 2);
    return k;
}

/* see cardlink/cert.h */
int cl_cert_verify_digest(const struct cl_cert *c, enum cl_cert_sig sig,
                          enum cl_cert_hash hash,
                          const uint8_t *digest, size_t digest_len,
                          const uint8_t *signature, size_t sig_len)
{
    const struct cl_cert_impl *im;
    mbedtls_pk_context *pk;
    mbedtls_md_type_t md = md_of(hash);
    const mbedtls_md_info_t *info = mbedtls_md_info_from_type(md);
    enum cl_cert_key kind;

    if (c == NULL || digest == NULL || signature == NULL || sig_len == 0 || info == NULL ||
        digest_len != mbedtls_md_get_size(info))
        return CL_ERR_ARG;
    if (sig != CL_CERT_SIG_ECDSA && sig != CL_CERT_SIG_RSA_PKCS1 && sig != CL_CERT_SIG_RSA_PSS)
        return CL_ERR_ARG;
    im = cimpl_of(c);
    if (!im->validated || im->crt.version == 0)
        return CL_ERR_STATE;
    kind = (enum cl_cert_key)im->leaf_key;
    /* mbedtls's verify functions take a non-const context; they only read. */
    pk = (mbedtls_pk_context *)&im->crt.pk;

    if (sig == CL_CERT_SIG_ECDSA) {
        size_t half;

        if (kind != CL_CERT_KEY_EC_P256 && kind != CL_CERT_KEY_EC_P384)
            return CL_ERR_CERT_ALGORITHM;
        half = kind == CL_CERT_KEY_EC_P256 ? 32 : 48;
        if (sig_len == 2 * half) {
            uint8_t der[2 + 2 * (3 + 48)];
            size_t der_len = raw_to_der(signature, half, der);

            if (mbedtls_pk_verify_ext(MBEDTLS_PK_ECDSA, NULL, pk, md, digest, digest_len,
                                      der, der_len) == 0)
                return CL_OK;
        }
        return mbedtls_pk_verify_ext(MBEDTLS_PK_ECDSA, NULL, pk, md, digest, digest_len,
                                     signature, sig_len) == 0 ? CL_OK : CL_ERR_SIGNATURE;
    }
    if (kind != CL_CERT_KEY_RSA)
        return CL_ERR_CERT_ALGORITHM;
    if (sig == CL_CERT_SIG_RSA_PKCS1)
        return mbedtls_pk_verify_ext(MBEDTLS_PK_RSA, NULL, pk, md, digest, digest_len,
                                     signature, sig_len) == 0 ? CL_OK : CL_ERR_SIGNATURE;
    {
        mbedtls_pk_rsassa_pss_options opts;

        memset(&opts, 0, sizeof(opts));
        opts.mgf1_hash_id = md;
        opts.expected_salt_len = MBEDTLS_RSA_SALT_LEN_ANY;
        return mbedtls_pk_verify_ext(MBEDTLS_PK_RSASSA_PSS, &opts, pk, md, digest,
                                     digest_len, signature, sig_len) == 0
                   ? CL_OK : CL_ERR_SIGNATURE;
    }
}

/* see cardlink/cert.h */
int cl_cert_verify_message(const struct cl_cert *c, enum cl_cert_sig sig,
                           enum cl_cert_hash hash,
                           const uint8_t *msg, size_t msg_len,
                           const uint8_t *signature, size_t sig_len)
{
    const mbedtls_md_info_t *info = mbedtls_md_info_from_type(md_of(hash));
    unsigned char h[MBEDTLS_MD_MAX_SIZE];
    int rc;

    if (info == NULL || (msg == NULL && msg_len > 0))
        return CL_ERR_ARG;
    if (mbedtls_md(info, msg != NULL ? msg : (const unsigned char *)"", msg_len, h) != 0)
        return CL_ERR_CRYPTO;
    rc = cl_cert_verify_digest(c, sig, hash, h, mbedtls_md_get_size(info), signature, sig_len);
    cl_wipe(h, sizeof(h));
    return rc;
}
