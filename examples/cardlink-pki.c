/*
 * cardlink-pki — the project's TEST PKI, made with mbedtls's key generation
 * and certificate writer. Test material only: the keys are derived from a
 * seed string anyone can read.
 * SPDX-License-Identifier: Apache-2.0
 *
 *   cardlink-pki testpki DIR [--seed S] [--from YYYYMMDDhhmmss] [--to YYYYMMDDhhmmss]
 *   cardlink-pki --help | --version
 *
 * writes into DIR (which must exist) NAME.der, NAME.pem and NAME.key.der for:
 *
 * Servers, devices and cards come from distinct CAs under one root, each CA
 * restricted by extendedKeyUsage where a purpose exists (docs/security.md,
 * "Roles"):
 *
 *   root           root CA, P-384, self-signed ECDSA-SHA-384, CA, keyCertSign
 *   issuer         the card issuer's CA under root, P-256, pathLen 0,
 *                  keyCertSign + digitalSignature (its key also signs purse
 *                  credits and e-goods), no EKU
 *   server-ca      CA under root for servers, pathLen 0, EKU serverAuth
 *   device-ca      CA under root for devices, pathLen 0, EKU clientAuth
 *   card           the card's AUTHENTICATION certificate under issuer, P-256,
 *                  digitalSignature, EKU id-PIV-cardAuth (2.16.840.1.101.3.6.8)
 *   card-sign      the same card's SIGNING certificate under issuer, P-256,
 *                  digitalSignature + nonRepudiation (contentCommitment),
 *                  EKU emailProtection
 *   card-p384      card authentication certificate, P-384 key
 *   card-rsa       card authentication certificate, RSA-2048 key
 *   server         the server's certificate under server-ca, P-256,
 *                  digitalSignature, EKU serverAuth, subjectAltName
 *                  DNS:localhost, IP:127.0.0.1, IP:::1 (TLS on loopback)
 *   device         a device's certificate under device-ca, P-256,
 *                  digitalSignature, EKU clientAuth
 *   other-ca       an unrelated self-signed CA (not under root)
 *   subca          a CA under issuer (issuer's pathLen 0 forbids it)
 *   issuer-noku    a CA under root whose keyUsage lacks keyCertSign
 *   issuer-notca   a "CA" under root with basicConstraints CA:FALSE
 * and the leaves that must fail, each with one defect:
 *   bad-expired      notAfter = FROM + 1 day
 *   bad-notyet       notBefore = TO - 1 day
 *   bad-wrongissuer  signed by other-ca (issuer name other-ca)
 *   bad-badsig       card's twin with one signature byte flipped
 *   bad-leafku       keyUsage keyEncipherment only
 *   bad-caku         under issuer-noku
 *   bad-notca        under issuer-notca
 *   bad-pathlen      under subca
 *   bad-critical     an unknown extension marked critical
 *   bad-sha1         signed ECDSA-with-SHA1
 *   bad-rsa1024      RSA-1024 key
 *   bad-curve        P-521 key
 *   bad-rsa2047      RSA key with a 2047-bit modulus (one bit short)
 * and the chains that only a role check refuses (issue 10, finding 5):
 *   bad-eku-codesign   under issuer: critical EKU codeSigning only
 *   bad-ns-server      under issuer: critical nsCertType SSL server only
 *   bad-anyeku         under issuer: EKU anyExtendedKeyUsage only
 *   issuer-ekuserver   CA under root with a critical EKU serverAuth only
 *   bad-caeku          under issuer-ekuserver, digitalSignature, no EKU
 * and, with no certificate, the server's gate key (docs/protocol.md §5.14):
 *   gate.key.der       P-256 private key: the server signs ACTUATE with it
 *   gate.pub           its public point, 65 bytes 04 X Y: devices trust it
 *
 * Every certificate is valid from FROM to TO (default 20240101000000 to
 * 20491231235959, UTC) unless its defect says otherwise; a test placing
 * "now" at FROM + 10 days sees every good certificate valid. The output
 * depends only on the seed and the dates (HMAC_DRBG seeded with the seed
 * string). Exit status: 0 done, 1 failure, 2 usage error.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <mbedtls/version.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>
#include <mbedtls/hmac_drbg.h>
#include <mbedtls/md.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/x509_crt.h>

#define BUF_MAX 8192

static mbedtls_hmac_drbg_context drbg;
static const char *outdir;
static char from_s[40], to_s[40], expired_to_s[40], notyet_from_s[40];
static unsigned serial_next = 1;

struct key {
    mbedtls_pk_context pk;
};

struct cert {
    const char *name;
    const char *dn;
    struct key *key;       /* the subject's key (its private half signs below) */
};

static void die(const char *what, int ret)
{
    fprintf(stderr, "cardlink-pki: %s failed (-0x%04X)\n", what, (unsigned)-ret);
    exit(1);
}

static void write_file(const char *name, const char *ext, const unsigned char *p, size_t len)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s%s", outdir, name, ext);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static void gen_ec(struct key *k, mbedtls_ecp_group_id grp)
{
    int ret;

    mbedtls_pk_init(&k->pk);
    ret = mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (ret == 0)
        ret = mbedtls_ecp_gen_key(grp, mbedtls_pk_ec(k->pk), mbedtls_hmac_drbg_random, &drbg);
    if (ret != 0)
        die("EC key generation", ret);
}

static void gen_rsa(struct key *k, unsigned bits)
{
    int ret;

    mbedtls_pk_init(&k->pk);
    ret = mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA));
    if (ret == 0)
        ret = mbedtls_rsa_gen_key(mbedtls_pk_rsa(k->pk), mbedtls_hmac_drbg_random, &drbg,
                                  bits, 65537);
    if (ret != 0)
        die("RSA key generation", ret);
}

/* An RSA key whose modulus is exactly `bits` long, odd counts included
 * (mbedtls_rsa_gen_key makes even sizes only): primes of (bits + 1) / 2
 * and bits / 2 bits, drawn again until their product has the length. */
static void gen_rsa_odd(struct key *k, unsigned bits)
{
    mbedtls_rsa_context *rsa;
    mbedtls_mpi P, Q, N, E, G, T;
    int ret;

    mbedtls_pk_init(&k->pk);
    mbedtls_mpi_init(&P);
    mbedtls_mpi_init(&Q);
    mbedtls_mpi_init(&N);
    mbedtls_mpi_init(&E);
    mbedtls_mpi_init(&G);
    mbedtls_mpi_init(&T);
    ret = mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA));
    if (ret == 0)
        ret = mbedtls_mpi_lset(&E, 65537);
    while (ret == 0) {
        ret = mbedtls_mpi_gen_prime(&P, (bits + 1) / 2, 0, mbedtls_hmac_drbg_random, &drbg);
        if (ret == 0)
            ret = mbedtls_mpi_gen_prime(&Q, bits / 2, 0, mbedtls_hmac_drbg_random, &drbg);
        if (ret == 0)
            ret = mbedtls_mpi_mul_mpi(&N, &P, &Q);
        if (ret != 0 || mbedtls_mpi_bitlen(&N) != bits)
            continue;
        /* e must be prime to (p - 1)(q - 1). */
        ret = mbedtls_mpi_sub_int(&G, &P, 1);
        if (ret == 0)
            ret = mbedtls_mpi_sub_int(&T, &Q, 1);
        if (ret == 0)
            ret = mbedtls_mpi_mul_mpi(&T, &T, &G);
        if (ret == 0)
            ret = mbedtls_mpi_gcd(&G, &E, &T);
        if (ret == 0 && mbedtls_mpi_cmp_int(&G, 1) == 0)
            break;
    }
    rsa = mbedtls_pk_rsa(k->pk);
    if (ret == 0)
        ret = mbedtls_rsa_import(rsa, &N, &P, &Q, NULL, &E);
    if (ret == 0)
        ret = mbedtls_rsa_complete(rsa);
    if (ret == 0)
        ret = mbedtls_rsa_check_privkey(rsa);
    mbedtls_mpi_free(&P);
    mbedtls_mpi_free(&Q);
    mbedtls_mpi_free(&N);
    mbedtls_mpi_free(&E);
    mbedtls_mpi_free(&G);
    mbedtls_mpi_free(&T);
    if (ret != 0)
        die("RSA key generation (odd size)", ret);
}

static void write_key(const char *name, struct key *k)
{
    unsigned char buf[BUF_MAX];
    int n = mbedtls_pk_write_key_der(&k->pk, buf, sizeof(buf));

    if (n < 0)
        die("key export", n);
    write_file(name, ".key.der", buf + sizeof(buf) - n, (size_t)n);
}

/* id-kp-N (RFC 5280 §4.2.1.12) as profile.eku strings. */
#define EKU_SERVER "\x01"
#define EKU_CLIENT "\x02"
#define EKU_CODE "\x03"
#define EKU_EMAIL "\x04"
#define EKU_ANY "A"
#define EKU_PIV_CARD_AUTH "P"   /* id-PIV-cardAuth */

/* What a certificate says beyond names and keys. */
struct profile {
    int ca;                 /* basicConstraints CA flag (-1: no extension) */
    int pathlen;            /* -1: none */
    unsigned ku;            /* keyUsage bits (0: no extension) */
    mbedtls_md_type_t md;
    const char *from, *to;
    int critical_unknown;   /* add an unknown critical extension */
    int flip_sig;           /* corrupt the signature after signing */
    const char *eku;        /* extendedKeyUsage: id-kp-N for each byte N
                             * (EKU_* below), 'A' for anyExtendedKeyUsage,
                             * 'P' for id-PIV-cardAuth;
                             * NULL: no extension */
    int eku_critical;
    unsigned ns;            /* nsCertType bits (0: no extension) */
    int ns_critical;
    int san_localhost;      /* subjectAltName DNS:localhost, IP:127.0.0.1,
                             * IP:::1 (a TLS server on loopback) */
};

/* Add extendedKeyUsage (RFC 5280 §4.2.1.12) listing pr->eku and the
 * Netscape certificate type, with the criticality asked for (mbedtls's own
 * setters cannot mark them critical). */
static int add_purpose(mbedtls_x509write_cert *w, const struct profile *pr)
{
    static const char eku_oid[] = "\x55\x1D\x25";                           /* 2.5.29.37 */
    static const char ns_oid[] = "\x60\x86\x48\x01\x86\xF8\x42\x01\x01";  /* 2.16.840.1.113730.1.1 */
    unsigned char v[64];
    size_t n = 2, i;
    int ret = 0;

    if (pr->eku != NULL) {
        for (i = 0; pr->eku[i] != '\0'; i++) {
            if (pr->eku[i] == 'A') {         /* anyExtendedKeyUsage 2.5.29.37.0 */
                memcpy(v + n, "\x06\x04\x55\x1D\x25\x00", 6);
                n += 6;
            } else if (pr->eku[i] == 'P') {  /* id-PIV-cardAuth 2.16.840.1.101.3.6.8 */
                memcpy(v + n, "\x06\x08\x60\x86\x48\x01\x65\x03\x06\x08", 10);
                n += 10;
            } else {                         /* id-kp-N 1.3.6.1.5.5.7.3.N */
                memcpy(v + n, "\x06\x08\x2B\x06\x01\x05\x05\x07\x03", 9);
                v[n + 9] = (unsigned char)pr->eku[i];
                n += 10;
            }
        }
        v[0] = 0x30;
        v[1] = (unsigned char)(n - 2);
        ret = mbedtls_x509write_crt_set_extension(w, eku_oid, sizeof(eku_oid) - 1,
                                                  pr->eku_critical, v, n);
    }
    if (ret == 0 && pr->ns != 0) {
        unsigned unused = 0;

        while (unused < 7 && (pr->ns & (1u << unused)) == 0)
            unused++;
        v[0] = 0x03;
        v[1] = 0x02;
        v[2] = (unsigned char)unused;
        v[3] = (unsigned char)pr->ns;
        ret = mbedtls_x509write_crt_set_extension(w, ns_oid, sizeof(ns_oid) - 1,
                                                  pr->ns_critical, v, 4);
    }
    return ret;
}

static void issue(const struct cert *subj, const struct cert *iss, const struct profile *pr)
{
    mbedtls_x509write_cert w;
    unsigned char der[BUF_MAX], pem[BUF_MAX];
    unsigned char *p;
    size_t pem_len;
    int n, ret = 0;
    /* 1.3.6.1.4.1.99999.1: an arc no one has given a meaning to. */
    static const char unk_oid[] = "\x2B\x06\x01\x04\x01\x86\x8D\x1F\x01";
    static const unsigned char unk_val[] = { 0x05, 0x00 };

    mbedtls_x509write_crt_init(&w);
    mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
#if MBEDTLS_VERSION_NUMBER >= 0x03040000
    {
        unsigned char s[2] = { (unsigned char)(serial_next >> 8), (unsigned char)serial_next };

        ret = mbedtls_x509write_crt_set_serial_raw(&w, s, 2);
    }
#else
    {
        mbedtls_mpi s;

        mbedtls_mpi_init(&s);
        ret = mbedtls_mpi_lset(&s, (mbedtls_mpi_sint)(0x1000 + serial_next));
        if (ret == 0)
            ret = mbedtls_x509write_crt_set_serial(&w, &s);
        mbedtls_mpi_free(&s);
    }
#endif
    serial_next++;
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_validity(&w, pr->from ? pr->from : from_s,
                                                 pr->to ? pr->to : to_s);
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_subject_name(&w, subj->dn);
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_issuer_name(&w, iss->dn);
    mbedtls_x509write_crt_set_subject_key(&w, &subj->key->pk);
    mbedtls_x509write_crt_set_issuer_key(&w, &iss->key->pk);
    mbedtls_x509write_crt_set_md_alg(&w, pr->md);
    if (ret == 0 && pr->ca >= 0)
        ret = mbedtls_x509write_crt_set_basic_constraints(&w, pr->ca, pr->pathlen);
    if (ret == 0 && pr->ku != 0)
        ret = mbedtls_x509write_crt_set_key_usage(&w, pr->ku);
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_subject_key_identifier(&w);
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_authority_key_identifier(&w);
    if (ret == 0)
        ret = add_purpose(&w, pr);
    if (ret == 0 && pr->san_localhost) {
        /* SEQUENCE { [2] "localhost", [7] 127.0.0.1, [7] ::1 } (RFC 5280
         * §4.2.1.6): what a device checks as the server's name. */
        static const char san_oid[] = "\x55\x1D\x11";   /* 2.5.29.17 */
        static const unsigned char san[] = {
            0x30, 0x23, 0x82, 0x09, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't',
            0x87, 0x04, 127, 0, 0, 1,
            0x87, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
        };

        ret = mbedtls_x509write_crt_set_extension(&w, san_oid, sizeof(san_oid) - 1, 0,
                                                  san, sizeof(san));
    }
    if (ret == 0 && pr->critical_unknown)
        ret = mbedtls_x509write_crt_set_extension(&w, unk_oid, sizeof(unk_oid) - 1, 1,
                                                  unk_val, sizeof(unk_val));
    if (ret != 0)
        die(subj->name, ret);
    n = mbedtls_x509write_crt_der(&w, der, sizeof(der), mbedtls_hmac_drbg_random, &drbg);
    if (n < 0)
        die(subj->name, n);
    mbedtls_x509write_crt_free(&w);
    p = der + sizeof(der) - n;
    if (pr->flip_sig)
        p[n - 1] ^= 0x01;   /* the last byte of the signature value */
    write_file(subj->name, ".der", p, (size_t)n);
    ret = mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE-----\n",
                                   "-----END CERTIFICATE-----\n", p, (size_t)n, pem,
                                   sizeof(pem), &pem_len);
    if (ret != 0)
        die("PEM", ret);
    write_file(subj->name, ".pem", pem, pem_len - 1);   /* pem_len counts the NUL */
    write_key(subj->name, subj->key);
}

/* YYYYMMDDhhmmss (UTC) plus delta seconds, into out. */
static int shift_time(const char *in, long delta, char out[40])
{
    struct tm tm;
    time_t t;
    int y, mo, d, h, mi, s;

    if (strlen(in) != 14 ||
        sscanf(in, "%4d%2d%2d%2d%2d%2d", &y, &mo, &d, &h, &mi, &s) != 6)
        return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    t = timegm(&tm) + delta;
    if (gmtime_r(&t, &tm) == NULL)
        return -1;
    snprintf(out, 40, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return 0;
}

#ifndef CL_TOOL_VERSION
#define CL_TOOL_VERSION "unknown"
#endif

/* The usage text: on stdout for --help, on stderr after a usage error. */
static void print_usage(FILE *f)
{
    fputs("usage: cardlink-pki testpki DIR [--seed S] [--from YYYYMMDDhhmmss]"
          " [--to YYYYMMDDhhmmss]\n"
          "       cardlink-pki --help | --version\n", f);
}

static int usage(void)
{
    print_usage(stderr);
    return 2;
}

static int testpki(const char *seed)
{
    enum { K_ROOT, K_ISSUER, K_CARD, K_CARD384, K_CARDRSA, K_SERVER, K_OTHER, K_SUBCA,
           K_NOKU, K_NOTCA, K_LEAF, K_RSA1024, K_P521,
           /* new keys go after the existing ones: those keep their values */
           K_CARDSIGN, K_SERVERCA, K_DEVICECA, K_DEVICE, K_EKUCA, K_RSA2047, K_GATE, K_COUNT };
    static struct key k[K_COUNT];
    const unsigned ku_ca = MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN;
    const unsigned ku_sig = MBEDTLS_X509_KU_DIGITAL_SIGNATURE;
    const struct cert root = { "root", "CN=cardlink test root,O=cardlink test", &k[K_ROOT] };
    const struct cert issuer = { "issuer", "CN=cardlink test issuer,O=cardlink test", &k[K_ISSUER] };
    const struct cert other = { "other-ca", "CN=cardlink unrelated CA,O=elsewhere", &k[K_OTHER] };
    const struct cert subca = { "subca", "CN=cardlink test sub-CA,O=cardlink test", &k[K_SUBCA] };
    const struct cert noku = { "issuer-noku", "CN=cardlink test issuer without keyCertSign,O=cardlink test", &k[K_NOKU] };
    const struct cert notca = { "issuer-notca", "CN=cardlink test issuer not a CA,O=cardlink test", &k[K_NOTCA] };
    const struct profile p_root = { 1, -1, ku_ca, MBEDTLS_MD_SHA384, NULL, NULL, 0, 0, NULL, 0, 0, 0, 0 };
    /* The card issuer's key signs certificates and, for its cards, purse
     * credits and e-goods: keyCertSign and digitalSignature. */
    const struct profile p_issuer = { 1, 0, ku_ca | MBEDTLS_X509_KU_DIGITAL_SIGNATURE,
                                      MBEDTLS_MD_SHA384, NULL, NULL, 0, 0, NULL, 0, 0, 0, 0 };
    /* A card's authentication certificate: PIV's card authentication
     * purpose, which no TLS client or server role accepts. */
    const struct profile p_card = { 0, -1, ku_sig, MBEDTLS_MD_SHA256, NULL, NULL, 0, 0,
                                    EKU_PIV_CARD_AUTH, 0, 0, 0, 0 };
    const struct profile p_ca = { 1, -1, ku_ca, MBEDTLS_MD_SHA256, NULL, NULL, 0, 0, NULL, 0, 0, 0, 0 };
    const struct profile p_noku = { 1, -1, MBEDTLS_X509_KU_CRL_SIGN, MBEDTLS_MD_SHA384, NULL, NULL, 0, 0, NULL, 0, 0, 0, 0 };
    const struct profile p_notca = { 0, -1, 0, MBEDTLS_MD_SHA384, NULL, NULL, 0, 0, NULL, 0, 0, 0, 0 };
    const struct profile p_leaf = { 0, -1, ku_sig, MBEDTLS_MD_SHA256, NULL, NULL, 0, 0, NULL, 0, 0, 0, 0 };
    struct profile p;
    int i;

    if (mbedtls_hmac_drbg_seed_buf(&drbg, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
                                   (const unsigned char *)seed, strlen(seed)) != 0)
        die("DRBG", -1);
    gen_ec(&k[K_ROOT], MBEDTLS_ECP_DP_SECP384R1);
    gen_ec(&k[K_ISSUER], MBEDTLS_ECP_DP_SECP256R1);
    gen_ec(&k[K_CARD], MBEDTLS_ECP_DP_SECP256R1);
    gen_ec(&k[K_CARD384], MBEDTLS_ECP_DP_SECP384R1);
    gen_ec(&k[K_SERVER], MBEDTLS_ECP_DP_SECP256R1);
    gen_ec(&k[K_OTHER], MBEDTLS_ECP_DP_SECP256R1);
    gen_ec(&k[K_SUBCA], MBEDTLS_ECP_DP_SECP256R1);
    gen_ec(&k[K_NOKU], MBEDTLS_ECP_DP_SECP256R1);
    gen_ec(&k[K_NOTCA], MBEDTLS_ECP_DP_SECP256R1);
    gen_ec(&k[K_LEAF], MBEDTLS_ECP_DP_SECP256R1);
    gen_ec(&k[K_P521], MBEDTLS_ECP_DP_SECP521R1);
    gen_rsa(&k[K_CARDRSA], 2048);
    gen_rsa(&k[K_RSA1024], 1024);
    gen_ec(&k[K_CARDSIGN], MBEDTLS_ECP_DP_SECP256R1);
    gen_ec(&k[K_SERVERCA], MBEDTLS_ECP_DP_SECP256R1);
    gen_ec(&k[K_DEVICECA], MBEDTLS_ECP_DP_SECP256R1);
    gen_ec(&k[K_DEVICE], MBEDTLS_ECP_DP_SECP256R1);
    gen_ec(&k[K_EKUCA], MBEDTLS_ECP_DP_SECP256R1);
    gen_rsa_odd(&k[K_RSA2047], 2047);

    issue(&root, &root, &p_root);
    issue(&issuer, &root, &p_issuer);
    issue(&other, &other, &p_root);
    issue(&subca, &issuer, &p_ca);
    issue(&noku, &root, &p_noku);
    issue(&notca, &root, &p_notca);
    {
        const struct cert card = { "card", "CN=cardlink test card 0001,O=cardlink test", &k[K_CARD] };
        const struct cert c384 = { "card-p384", "CN=cardlink test card P-384,O=cardlink test", &k[K_CARD384] };
        const struct cert crsa = { "card-rsa", "CN=cardlink test card RSA,O=cardlink test", &k[K_CARDRSA] };
        const struct cert server = { "server", "CN=cardlink test server,O=cardlink test", &k[K_SERVER] };

        const struct cert serverca = { "server-ca", "CN=cardlink test server CA,O=cardlink test", &k[K_SERVERCA] };

        issue(&card, &issuer, &p_card);
        issue(&c384, &issuer, &p_card);
        issue(&crsa, &issuer, &p_card);
        p = p_leaf;
        p.eku = EKU_SERVER;
        p.san_localhost = 1;
        issue(&server, &serverca, &p);
    }

    /* The bad leaves. */
    {
        static const struct {
            const char *name;
            int signer;      /* 0 issuer, 1 other-ca, 2 noku, 3 notca, 4 subca */
            int key;         /* index in k */
        } bad[] = {
            { "bad-expired", 0, K_LEAF },    { "bad-notyet", 0, K_LEAF },
            { "bad-wrongissuer", 1, K_LEAF }, { "bad-badsig", 0, K_CARD },
            { "bad-leafku", 0, K_LEAF },     { "bad-caku", 2, K_LEAF },
            { "bad-notca", 3, K_LEAF },      { "bad-pathlen", 4, K_LEAF },
            { "bad-critical", 0, K_LEAF },   { "bad-sha1", 0, K_LEAF },
            { "bad-rsa1024", 0, K_RSA1024 }, { "bad-curve", 0, K_P521 },
        };
        const struct cert *signers[5] = { &issuer, &other, &noku, &notca, &subca };

        for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
            char dn[128];
            struct cert leaf;

            snprintf(dn, sizeof(dn), "CN=cardlink test %s,O=cardlink test", bad[i].name);
            leaf.name = bad[i].name;
            leaf.dn = dn;
            leaf.key = &k[bad[i].key];
            p = p_leaf;
            if (strcmp(bad[i].name, "bad-expired") == 0)
                p.to = expired_to_s;
            else if (strcmp(bad[i].name, "bad-notyet") == 0)
                p.from = notyet_from_s;
            else if (strcmp(bad[i].name, "bad-badsig") == 0) {
                leaf.dn = "CN=cardlink test card 0001,O=cardlink test";
                p.flip_sig = 1;
            } else if (strcmp(bad[i].name, "bad-leafku") == 0)
                p.ku = MBEDTLS_X509_KU_KEY_ENCIPHERMENT;
            else if (strcmp(bad[i].name, "bad-critical") == 0)
                p.critical_unknown = 1;
            else if (strcmp(bad[i].name, "bad-sha1") == 0)
                p.md = MBEDTLS_MD_SHA1;
            issue(&leaf, signers[bad[i].signer], &p);
        }
    }
    /* Certificates added later are issued after the ones above, which keep
     * their serial numbers. */
    {
        const struct cert csign = { "card-sign", "CN=cardlink test card 0001 signing,O=cardlink test", &k[K_CARDSIGN] };
        const struct cert serverca = { "server-ca", "CN=cardlink test server CA,O=cardlink test", &k[K_SERVERCA] };
        const struct cert deviceca = { "device-ca", "CN=cardlink test device CA,O=cardlink test", &k[K_DEVICECA] };
        const struct cert device = { "device", "CN=cardlink test device 0001,O=cardlink test", &k[K_DEVICE] };
        const struct cert ekuca = { "issuer-ekuserver", "CN=cardlink test CA for servers only,O=cardlink test", &k[K_EKUCA] };
        static const struct {
            const char *name;
            const char *eku;
            unsigned ns;
        } crafted[] = {
            /* Each refused for the roles its purpose excludes, by cardlink and
             * by openssl verify -purpose alike (tests/cert). */
            { "bad-eku-codesign", EKU_CODE, 0 },
            { "bad-ns-server", NULL, MBEDTLS_X509_NS_CERT_TYPE_SSL_SERVER },
            { "bad-anyeku", EKU_ANY, 0 },
        };

        p = p_leaf;
        p.ku = MBEDTLS_X509_KU_DIGITAL_SIGNATURE | MBEDTLS_X509_KU_NON_REPUDIATION;
        p.eku = EKU_EMAIL;
        issue(&csign, &issuer, &p);
        p = p_issuer;
        p.ku = ku_ca;
        p.md = MBEDTLS_MD_SHA384;
        p.eku = EKU_SERVER;
        issue(&serverca, &root, &p);
        p.eku = EKU_CLIENT;
        issue(&deviceca, &root, &p);
        p = p_leaf;
        p.eku = EKU_CLIENT;
        issue(&device, &deviceca, &p);

        for (i = 0; i < (int)(sizeof(crafted) / sizeof(crafted[0])); i++) {
            char dn[128];
            struct cert leaf;

            snprintf(dn, sizeof(dn), "CN=cardlink test %s,O=cardlink test", crafted[i].name);
            leaf.name = crafted[i].name;
            leaf.dn = dn;
            leaf.key = &k[K_LEAF];
            p = p_leaf;
            p.eku = crafted[i].eku;
            p.eku_critical = 1;
            p.ns = crafted[i].ns;
            p.ns_critical = 1;
            issue(&leaf, &issuer, &p);
        }
        p = p_root;
        p.eku = EKU_SERVER;
        p.eku_critical = 1;
        issue(&ekuca, &root, &p);
        {
            const struct cert caeku = { "bad-caeku", "CN=cardlink test bad-caeku,O=cardlink test", &k[K_LEAF] };
            const struct cert r2047 = { "bad-rsa2047", "CN=cardlink test bad-rsa2047,O=cardlink test", &k[K_RSA2047] };

            issue(&caeku, &ekuca, &p_leaf);
            issue(&r2047, &issuer, &p_card);
        }
    }
    /* last: the DRBG output every other key and certificate took is unchanged */
    gen_ec(&k[K_GATE], MBEDTLS_ECP_DP_SECP256R1);
    write_key("gate", &k[K_GATE]);
    {
        /* a P-256 SubjectPublicKeyInfo ends with the 65-byte point */
        unsigned char spki[200];
        int n = mbedtls_pk_write_pubkey_der(&k[K_GATE].pk, spki, sizeof(spki));
        if (n < 65 || spki[sizeof(spki) - 65] != 0x04)
            die("gate public key", n);
        write_file("gate", ".pub", spki + sizeof(spki) - 65, 65);
    }
    for (i = 0; i < K_COUNT; i++)
        mbedtls_pk_free(&k[i].pk);
    mbedtls_hmac_drbg_free(&drbg);
    printf("test PKI written to %s (valid %s to %s)\n", outdir, from_s, to_s);
    return 0;
}

int main(int argc, char **argv)
{
    const char *seed = "cardlink test PKI";
    const char *from = "20240101000000", *to = "20491231235959";
    int i;

    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        print_usage(stdout);
        fputs("\nWrites the project's TEST PKI into DIR (created when missing): a root,\n"
              "the issuer, server and device CAs, card, server and device certificates\n"
              "and the broken ones the tests need, as NAME.der, NAME.pem and\n"
              "NAME.key.der. The keys derive from the seed S: test material only.\n"
              "Exit status: 0 done, 1 failure, 2 usage error.\n", stdout);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("cardlink-pki %s\n", CL_TOOL_VERSION);
        return 0;
    }
    if (argc < 3 || strcmp(argv[1], "testpki") != 0)
        return usage();
    outdir = argv[2];
    for (i = 3; i < argc; i++) {
        if (i + 1 >= argc)
            return usage();
        if (strcmp(argv[i], "--seed") == 0)
            seed = argv[++i];
        else if (strcmp(argv[i], "--from") == 0)
            from = argv[++i];
        else if (strcmp(argv[i], "--to") == 0)
            to = argv[++i];
        else
            return usage();
    }
    if (shift_time(from, 0, from_s) != 0 || shift_time(to, 0, to_s) != 0 ||
        strcmp(from_s, from) != 0 || strcmp(to_s, to) != 0 ||
        shift_time(from, 86400, expired_to_s) != 0 ||
        shift_time(to, -86400, notyet_from_s) != 0 || strcmp(from_s, to_s) >= 0) {
        fputs("cardlink-pki: --from/--to must be valid YYYYMMDDhhmmss, from < to\n", stderr);
        return 2;
    }
    if (mkdir(outdir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "cardlink-pki: %s: %s\n", outdir, strerror(errno));
        return 1;
    }
    mbedtls_hmac_drbg_init(&drbg);
    return testpki(seed);
}
