/*
 * cardlink — lib/cert: SHA-256, time, chain validation against the test PKI
 * that examples/cardlink-pki generates at test time, signatures, names and
 * fingerprints, cross-checked with openssl where it is installed.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Usage: test_cert PATH-TO-cardlink-pki (meson passes it). Without it only
 * the tests that need no PKI run.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/version.h>
#include <mbedtls/hmac_drbg.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/x509_crt.h>

#include "cardlink/cert.h"
#include "test_util.h"

/* The dates the fixture gives cardlink-pki, and "now" for the tests. */
#define PKI_FROM "20240101000000"
#define PKI_TO "20491231235959"
#define T_FROM 1704067200ull          /* 2024-01-01T00:00:00Z */
#define T_TO 2524607999ull            /* 2049-12-31T23:59:59Z */
#define T_NOW (T_FROM + 10ull * 86400) /* 2024-01-11: all good certs valid */

static const char *pki_tool;
static char pki_dir[256];
static bool have_openssl;

/* ------------------------------------------------------------ helpers */

#define FILE_MAX 8192

struct blob {
    uint8_t b[FILE_MAX];
    size_t len;
};

static void load(const char *name, const char *ext, struct blob *out)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s%s", pki_dir, name, ext);
    f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    out->len = fread(out->b, 1, sizeof(out->b), f);
    fclose(f);
    ck_assert_uint_gt(out->len, 0);
}

static int run(const char *cmd)
{
    int rc = system(cmd);

    return rc == -1 ? -1 : (rc >> 8) & 0xFF;
}

static void fixture_setup(void)
{
    char cmd[1024];
    char tmpl[] = "/tmp/cl-test-pki-XXXXXX";

    if (pki_tool == NULL)
        return;
    if (mkdtemp(tmpl) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(pki_dir, sizeof(pki_dir), "%s", tmpl);
    snprintf(cmd, sizeof(cmd), "'%s' testpki '%s' --seed 'cardlink check' --from %s --to %s >/dev/null",
             pki_tool, pki_dir, PKI_FROM, PKI_TO);
    if (run(cmd) != 0) {
        fprintf(stderr, "cardlink-pki failed: %s\n", cmd);
        exit(1);
    }
    have_openssl = run("openssl version >/dev/null 2>&1") == 0;
    if (!have_openssl)
        fprintf(stderr, "openssl not found: cross-checks skipped\n");
}

static void fixture_teardown(void)
{
    char cmd[512];

    if (pki_dir[0] == '\0')
        return;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pki_dir);
    if (run(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", pki_dir);
}

/* Validate a chain of named certificates against named roots. */
#define MAXC 5
struct chain_case {
    const char *what;
    const char *chain[MAXC];   /* NULL-terminated names */
    const char *roots[3];      /* NULL-terminated; { NULL } means { "root" } */
    enum cl_cert_role role;
    uint64_t now;
    int rc;
    size_t depth;
    const char *purpose;       /* openssl verify -purpose that must agree
                                * (OK iff rc == CL_OK); NULL: none */
};

static struct blob blobs[MAXC + 3];

/* Load named certificates into ch (and roots into rt); returns n. */
static size_t load_named(const char *const *chain, const char *const *roots,
                         struct cl_cert_der *ch, struct cl_cert_der *rt, size_t *nr_out)
{
    static const char *const def_roots[] = { "root", NULL };
    size_t n = 0, nr = 0, k = 0;

    if (roots[0] == NULL)
        roots = def_roots;
    for (; chain[n] != NULL; n++, k++) {
        load(chain[n], ".der", &blobs[k]);
        ch[n].der = blobs[k].b;
        ch[n].len = blobs[k].len;
    }
    for (; roots[nr] != NULL; nr++, k++) {
        load(roots[nr], ".der", &blobs[k]);
        rt[nr].der = blobs[k].b;
        rt[nr].len = blobs[k].len;
    }
    *nr_out = nr;
    return n;
}

static int verify_named(struct cl_cert *c, const char *const *chain, const char *const *roots,
                        enum cl_cert_role role, uint64_t now, size_t *depth)
{
    struct cl_cert_der ch[MAXC], rt[3];
    size_t nr, n = load_named(chain, roots, ch, rt, &nr);

    return cl_cert_verify_chain(c, ch, n, rt, nr, now, role, depth);
}

#define R(...) { __VA_ARGS__, NULL }
#define SRV CL_CERT_ROLE_SERVER
#define DEV CL_CERT_ROLE_DEVICE
#define CAUTH CL_CERT_ROLE_CARD_AUTH
#define CSIGN CL_CERT_ROLE_CARD_SIGN
#define ISS CL_CERT_ROLE_ISSUER

/* Each failure reason of cl_cert_verify_chain; openssl verify (with
 * -auth_level 2, which refuses SHA-1 and RSA-1024) must agree where a
 * purpose is named: "any" checks the chain without a purpose. */
static const struct chain_case chain_cases[] = {
    { "card P-256", R("card", "issuer"), { NULL }, CAUTH, T_NOW, CL_OK, 0, "any" },
    { "card P-384", R("card-p384", "issuer"), { NULL }, CAUTH, T_NOW, CL_OK, 0, "any" },
    { "card RSA-2048", R("card-rsa", "issuer"), { NULL }, CAUTH, T_NOW, CL_OK, 0, "any" },
    { "card signing", R("card-sign", "issuer"), { NULL }, CSIGN, T_NOW, CL_OK, 0, "smimesign" },
    { "server", R("server", "server-ca"), { NULL }, SRV, T_NOW, CL_OK, 0, "sslserver" },
    { "device", R("device", "device-ca"), { NULL }, DEV, T_NOW, CL_OK, 0, "sslclient" },
    { "card issuer", R("issuer"), { NULL }, ISS, T_NOW, CL_OK, 0, "any" },
    { "chain ending with its root", R("card", "issuer", "root"), { NULL }, CAUTH, T_NOW, CL_OK, 0, "any" },
    { "pinned issuer", R("issuer"), R("issuer"), ISS, T_NOW, CL_OK, 0, NULL },
    { "issuer as anchor", R("card"), R("issuer"), CAUTH, T_NOW, CL_OK, 0, NULL },
    { "second root matches", R("card", "issuer"), R("other-ca", "root"), CAUTH, T_NOW, CL_OK, 0, NULL },
    { "expired", R("bad-expired", "issuer"), { NULL }, CAUTH, T_NOW, CL_ERR_CERT_EXPIRED, 0, "any" },
    { "not yet valid", R("bad-notyet", "issuer"), { NULL }, CAUTH, T_NOW, CL_ERR_CERT_NOT_YET_VALID, 0, "any" },
    { "wrong issuer", R("bad-wrongissuer", "issuer"), { NULL }, CAUTH, T_NOW, CL_ERR_CERT_UNTRUSTED, 0, "any" },
    { "wrong issuer, alone", R("bad-wrongissuer"), { NULL }, CAUTH, T_NOW, CL_ERR_CERT_UNTRUSTED, 0, "any" },
    { "bad signature", R("bad-badsig", "issuer"), { NULL }, CAUTH, T_NOW, CL_ERR_SIGNATURE, 0, "any" },
    { "leaf key usage", R("bad-leafku", "issuer"), { NULL }, CAUTH, T_NOW, CL_ERR_CERT_KEY_USAGE, 0, "sslclient" },
    { "keyEncipherment serves a TLS server", R("bad-leafku", "issuer"), { NULL }, SRV, T_NOW, CL_OK, 0, "sslserver" },
    { "CA without keyCertSign", R("bad-caku", "issuer-noku"), { NULL }, CAUTH, T_NOW, CL_ERR_CERT_KEY_USAGE, 1, "any" },
    { "issuer not a CA", R("bad-notca", "issuer-notca"), { NULL }, CAUTH, T_NOW, CL_ERR_CERT_KEY_USAGE, 1, "any" },
    { "path length", R("bad-pathlen", "subca", "issuer"), { NULL }, CAUTH, T_NOW, CL_ERR_CERT_PATH_LEN, 2, "any" },
    { "path length at the anchor", R("bad-pathlen", "subca"), R("issuer"), CAUTH, T_NOW, CL_ERR_CERT_PATH_LEN, 2, NULL },
    { "anchor not a CA", R("bad-notca"), R("issuer-notca"), CAUTH, T_NOW, CL_ERR_CERT_KEY_USAGE, 1, NULL },
    { "anchor's EKU excludes the role", R("bad-caeku"), R("issuer-ekuserver"), CAUTH, T_NOW, CL_ERR_CERT_PURPOSE, 1, NULL },
    { "anchor's EKU allows the role", R("bad-caeku"), R("issuer-ekuserver"), SRV, T_NOW, CL_OK, 0, NULL },
    { "unknown critical extension", R("bad-critical", "issuer"), { NULL }, CAUTH, T_NOW, CL_ERR_CERT_CRITICAL, 0, "any" },
    { "SHA-1 signature", R("bad-sha1", "issuer"), { NULL }, CAUTH, T_NOW, CL_ERR_CERT_ALGORITHM, 0, "any" },
    { "RSA-1024 key", R("bad-rsa1024", "issuer"), { NULL }, CAUTH, T_NOW, CL_ERR_CERT_ALGORITHM, 0, "any" },
    /* OpenSSL 3.0 rates a 2047-bit RSA key at 112 bits of security (its
     * estimate rounds to 8 bits) and accepts it at -auth_level 2. */
    { "RSA-2047 key", R("bad-rsa2047", "issuer"), { NULL }, CAUTH, T_NOW, CL_ERR_CERT_ALGORITHM, 0, NULL },
    { "P-521 key (policy)", R("bad-curve", "issuer"), { NULL }, CAUTH, T_NOW, CL_ERR_CERT_ALGORITHM, 0, NULL },
    { "missing intermediate", R("card"), { NULL }, CAUTH, T_NOW, CL_ERR_CERT_UNTRUSTED, 0, "any" },
    { "wrong order", R("issuer", "card"), { NULL }, CAUTH, T_NOW, CL_ERR_CERT_UNTRUSTED, 0, NULL },
    { "unrelated root", R("card", "issuer"), R("other-ca"), CAUTH, T_NOW, CL_ERR_CERT_UNTRUSTED, 1, NULL },
    { "store without the root", R("card", "issuer"), R("issuer-noku"), CAUTH, T_NOW, CL_ERR_CERT_UNTRUSTED, 1, NULL },
    { "pinned root used to sign", R("root"), { NULL }, CAUTH, T_NOW, CL_ERR_CERT_KEY_USAGE, 0, NULL },
    /* Validity to the second (RFC 5280 §4.1.2.5: both ends inclusive).
     * OpenSSL 3.0 counts a certificate as expired at the second of its
     * notAfter: the two cases at exactly notAfter are not cross-checked. */
    { "at notBefore", R("card", "issuer"), { NULL }, CAUTH, T_FROM, CL_OK, 0, "any" },
    { "1 s before notBefore", R("card", "issuer"), { NULL }, CAUTH, T_FROM - 1, CL_ERR_CERT_NOT_YET_VALID, 0, "any" },
    { "at notAfter", R("card", "issuer"), { NULL }, CAUTH, T_TO, CL_OK, 0, NULL },
    { "1 s after notAfter", R("card", "issuer"), { NULL }, CAUTH, T_TO + 1, CL_ERR_CERT_EXPIRED, 0, "any" },
    { "expired at +1 day", R("bad-expired", "issuer"), { NULL }, CAUTH, T_FROM + 86400, CL_OK, 0, NULL },
    { "expired at +1 day +1 s", R("bad-expired", "issuer"), { NULL }, CAUTH, T_FROM + 86401, CL_ERR_CERT_EXPIRED, 0, "any" },
    { "notyet at TO - 1 day", R("bad-notyet", "issuer"), { NULL }, CAUTH, T_TO - 86400, CL_OK, 0, "any" },
    { "notyet 1 s earlier", R("bad-notyet", "issuer"), { NULL }, CAUTH, T_TO - 86401, CL_ERR_CERT_NOT_YET_VALID, 0, "any" },
    { "epoch", R("card", "issuer"), { NULL }, CAUTH, 0, CL_ERR_CERT_NOT_YET_VALID, 0, NULL },
    { "far future", R("card", "issuer"), { NULL }, CAUTH, UINT64_MAX, CL_ERR_CERT_EXPIRED, 0, NULL },
};

/* openssl verify on the same chain, at the same time, for a purpose. */
static int openssl_verify(const char *const *chain, const char *const *roots_in, uint64_t now,
                          const char *purpose)
{
    char cmd[2048], untrusted[300];
    size_t i, k;
    const char *const *roots = roots_in[0] ? roots_in : (const char *const[]){ "root", NULL };

    snprintf(untrusted, sizeof(untrusted), "%s/untrusted-%d.pem", pki_dir, (int)getpid());
    k = (size_t)snprintf(cmd, sizeof(cmd), "cat /dev/null");
    for (i = 1; chain[i] != NULL; i++)
        k += (size_t)snprintf(cmd + k, sizeof(cmd) - k, " '%s/%s.pem'", pki_dir, chain[i]);
    k += (size_t)snprintf(cmd + k, sizeof(cmd) - k, " > '%s' && cat /dev/null", untrusted);
    for (i = 0; roots[i] != NULL; i++)
        k += (size_t)snprintf(cmd + k, sizeof(cmd) - k, " '%s/%s.pem'", pki_dir, roots[i]);
    k += (size_t)snprintf(cmd + k, sizeof(cmd) - k,
                          " > '%s.roots' && openssl verify -attime %llu -auth_level 2"
                          " -purpose %s -CAfile '%s.roots' %s%s%s '%s/%s.pem' >/dev/null 2>&1",
                          untrusted, (unsigned long long)now, purpose, untrusted,
                          chain[1] ? "-untrusted '" : "", chain[1] ? untrusted : "",
                          chain[1] ? "'" : "", pki_dir, chain[0]);
    ck_assert_uint_lt(k, sizeof(cmd));
    return run(cmd);
}

START_TEST(test_chain_cases)
{
    const struct chain_case *tc = &chain_cases[_i];
    struct cl_cert c;
    size_t depth = 99;
    int rc;

    cl_cert_init(&c);
    rc = verify_named(&c, tc->chain, tc->roots, tc->role, tc->now, &depth);
    ck_assert_msg(rc == tc->rc && depth == tc->depth, "%s: got %d (%s) at depth %zu, want %d at %zu",
                  tc->what, rc, cl_strerror(rc), depth, tc->rc, tc->depth);
    ck_assert(cl_cert_is_validated(&c) == (rc == CL_OK));
    /* Same verdict the second time, on the same context (it is reset). */
    depth = 99;
    ck_assert_int_eq(verify_named(&c, tc->chain, tc->roots, tc->role, tc->now, &depth), tc->rc);
    ck_assert_uint_eq(depth, tc->depth);
    cl_cert_free(&c);
    ck_assert_uint_eq(cl_cert_count(&c), 0);
    ck_assert(!cl_cert_is_validated(&c));
}
END_TEST

/* How long a validation holds: the earliest notAfter of the chain and its
 * anchor (every good certificate of the test PKI ends at T_TO, the expired
 * leaf a day after T_FROM); 0 for anything not validated. */
START_TEST(test_valid_until)
{
    static const char *const good[] = { "card", "issuer", NULL };
    static const char *const exp[] = { "bad-expired", "issuer", NULL };
    static const char *const none[] = { NULL };
    struct cl_cert c;
    size_t depth;

    cl_cert_init(&c);
    ck_assert_uint_eq(cl_cert_valid_until(NULL), 0);
    ck_assert_uint_eq(cl_cert_valid_until(&c), 0);
    ck_assert_int_eq(verify_named(&c, good, none, CAUTH, T_NOW, &depth), CL_OK);
    ck_assert_uint_eq(cl_cert_valid_until(&c), T_TO);
    ck_assert_int_eq(verify_named(&c, exp, none, CAUTH, T_FROM, &depth), CL_OK);
    ck_assert_uint_eq(cl_cert_valid_until(&c), T_FROM + 86400);
    ck_assert_int_eq(verify_named(&c, exp, none, CAUTH, T_FROM + 86401, &depth),
                     CL_ERR_CERT_EXPIRED);
    ck_assert_uint_eq(cl_cert_valid_until(&c), 0);
    cl_cert_free(&c);
}
END_TEST

START_TEST(test_chain_openssl)
{
    const struct chain_case *tc = &chain_cases[_i];
    int rc;

    if (!have_openssl || tc->purpose == NULL)
        return;
    rc = openssl_verify(tc->chain, tc->roots, tc->now, tc->purpose);
    ck_assert_msg((rc == 0) == (tc->rc == CL_OK), "%s: openssl verify -purpose %s says %d, cardlink %d (%s)",
                  tc->what, tc->purpose, rc, tc->rc, cl_strerror(tc->rc));
}
END_TEST

/* After a failure the parsed certificates stay for logging. */
START_TEST(test_chain_failure_keeps_certs)
{
    static const char *const chain[] = { "bad-pathlen", "subca", "issuer", NULL };
    static const char *const roots[] = { NULL };
    struct cl_cert c;
    char text[128];
    size_t depth;

    cl_cert_init(&c);
    ck_assert_int_eq(verify_named(&c, chain, roots, CAUTH, T_NOW, &depth), CL_ERR_CERT_PATH_LEN);
    ck_assert_uint_eq(depth, 2);
    ck_assert_uint_eq(cl_cert_count(&c), 3);
    ck_assert_int_eq(cl_cert_subject(&c, depth, text, sizeof(text)),
                     (int)strlen("CN=cardlink test issuer, O=cardlink test"));
    ck_assert_str_eq(text, "CN=cardlink test issuer, O=cardlink test");
    ck_assert_int_eq(cl_cert_verify_digest(&c, CL_CERT_SIG_ECDSA, CL_CERT_HASH_SHA256,
                                           (const uint8_t *)"0123456789abcdef0123456789abcdef", 32,
                                           (const uint8_t *)"x", 1),
                     CL_ERR_STATE);
    cl_cert_free(&c);
}
END_TEST

/* Malformed input, argument errors, limits. */
START_TEST(test_chain_errors)
{
    struct blob leaf, iss, root;
    struct cl_cert_der ch[CL_CERT_CHAIN_MAX + 1], rt[1];
    struct cl_cert c;
    uint8_t junk[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
    size_t depth, i;

    load("card", ".der", &leaf);
    load("issuer", ".der", &iss);
    load("root", ".der", &root);
    cl_cert_init(&c);
    ch[0].der = leaf.b;
    ch[0].len = leaf.len;
    ch[1].der = iss.b;
    ch[1].len = iss.len;
    rt[0].der = root.b;
    rt[0].len = root.len;

    ck_assert_int_eq(cl_cert_verify_chain(&c, ch, 2, rt, 1, T_NOW, CAUTH, &depth), CL_OK);
    /* Roles: the first and the last are valid, one past either end is not
     * (nor a keyUsage mask passed by mistake: 0x80, digitalSignature). */
    ck_assert_int_eq(cl_cert_verify_chain(&c, ch, 2, rt, 1, T_NOW, (enum cl_cert_role)0, &depth), CL_ERR_ARG);
    ck_assert_uint_eq(depth, 0);
    /* CL_ERR_ARG leaves c as it was: the chain validated just before. */
    ck_assert(cl_cert_is_validated(&c));
    ck_assert_uint_eq(cl_cert_count(&c), 2);
    ck_assert_int_eq(cl_cert_verify_chain(&c, ch, 2, rt, 1, T_NOW, CL_CERT_ROLE_SERVER, &depth), CL_ERR_CERT_PURPOSE);
    ck_assert_int_eq(cl_cert_verify_chain(&c, ch, 2, rt, 1, T_NOW, CL_CERT_ROLE_ISSUER, &depth), CL_ERR_CERT_KEY_USAGE);
    ck_assert_int_eq(cl_cert_verify_chain(&c, ch, 2, rt, 1, T_NOW, (enum cl_cert_role)6, &depth), CL_ERR_ARG);
    ck_assert_int_eq(cl_cert_verify_chain(&c, ch, 2, rt, 1, T_NOW, (enum cl_cert_role)0x80, &depth), CL_ERR_ARG);
    ck_assert_int_eq(cl_cert_verify_chain(&c, ch, 2, rt, 1, T_NOW, CAUTH, NULL), CL_OK);
    /* Argument errors. */
    ck_assert_int_eq(cl_cert_verify_chain(NULL, ch, 2, rt, 1, T_NOW, CAUTH, &depth), CL_ERR_ARG);
    ck_assert_int_eq(cl_cert_verify_chain(&c, NULL, 2, rt, 1, T_NOW, CAUTH, &depth), CL_ERR_ARG);
    ck_assert_int_eq(cl_cert_verify_chain(&c, ch, 0, rt, 1, T_NOW, CAUTH, &depth), CL_ERR_ARG);
    ck_assert_int_eq(cl_cert_verify_chain(&c, ch, 2, NULL, 1, T_NOW, CAUTH, &depth), CL_ERR_ARG);
    ck_assert_uint_eq(depth, 0);
    ch[1].len = 0;
    ck_assert_int_eq(cl_cert_verify_chain(&c, ch, 2, rt, 1, T_NOW, CAUTH, &depth), CL_ERR_ARG);
    ch[1].len = iss.len;
    /* the first of each list is checked too */
    ch[0].len = 0;
    ck_assert_int_eq(cl_cert_verify_chain(&c, ch, 2, rt, 1, T_NOW, CAUTH, &depth), CL_ERR_ARG);
    ch[0].len = leaf.len;
    ch[0].der = NULL;
    ck_assert_int_eq(cl_cert_verify_chain(&c, ch, 2, rt, 1, T_NOW, CAUTH, &depth), CL_ERR_ARG);
    ch[0].der = leaf.b;
    rt[0].len = 0;
    ck_assert_int_eq(cl_cert_verify_chain(&c, ch, 2, rt, 1, T_NOW, CAUTH, &depth), CL_ERR_ARG);
    rt[0].len = root.len;
    rt[0].der = NULL;
    ck_assert_int_eq(cl_cert_verify_chain(&c, ch, 2, rt, 1, T_NOW, CAUTH, &depth), CL_ERR_ARG);
    rt[0].der = root.b;
    ck_assert(cl_cert_is_validated(&c));   /* still the chain validated before */
    /* No roots at all: nothing is trusted. */
    ck_assert_int_eq(cl_cert_verify_chain(&c, ch, 2, NULL, 0, T_NOW, CAUTH, &depth), CL_ERR_CERT_UNTRUSTED);
    ck_assert_uint_eq(depth, 1);
    /* Too long a chain. */
    for (i = 0; i <= CL_CERT_CHAIN_MAX; i++)
        ch[i] = ch[0];
    ck_assert_int_eq(cl_cert_verify_chain(&c, ch, CL_CERT_CHAIN_MAX + 1, rt, 1, T_NOW, CAUTH, &depth),
                     CL_ERR_LIMIT);
    /* At the limit the chain is walked (and fails on its links). */
    ck_assert_int_eq(cl_cert_verify_chain(&c, ch, CL_CERT_CHAIN_MAX, rt, 1, T_NOW, CAUTH, &depth),
                     CL_ERR_CERT_UNTRUSTED);
    ck_assert_uint_eq(depth, 0);
    ck_assert_uint_eq(cl_cert_count(&c), CL_CERT_CHAIN_MAX);
    ch[1].der = iss.b;
    ch[1].len = iss.len;
    /* The issuer truncated by one byte, then with a byte after it. */
    ch[1].len = iss.len - 1;
    ck_assert_int_eq(cl_cert_verify_chain(&c, ch, 2, rt, 1, T_NOW, CAUTH, &depth), CL_ERR_CERT_PARSE);
    ck_assert_uint_eq(depth, 1);
    ck_assert_uint_eq(cl_cert_count(&c), 1);
    iss.b[iss.len] = 0x00;
    ch[1].len = iss.len + 1;
    ck_assert_int_eq(cl_cert_verify_chain(&c, ch, 2, rt, 1, T_NOW, CAUTH, &depth), CL_ERR_CERT_PARSE);
    ck_assert_uint_eq(depth, 1);
    ch[1].len = iss.len;
    /* A root that does not parse: depth n. */
    rt[0].der = junk;
    rt[0].len = sizeof(junk);
    ck_assert_int_eq(cl_cert_verify_chain(&c, ch, 2, rt, 1, T_NOW, CAUTH, &depth), CL_ERR_CERT_PARSE);
    ck_assert_uint_eq(depth, 2);
    /* Garbage as the leaf. */
    ch[0].der = junk;
    ch[0].len = sizeof(junk);
    ck_assert_int_eq(cl_cert_verify_chain(&c, ch, 1, rt, 1, T_NOW, CAUTH, &depth), CL_ERR_CERT_PARSE);
    ck_assert_uint_eq(depth, 0);
    ck_assert_uint_eq(cl_cert_count(&c), 0);
    cl_cert_free(&c);
    cl_cert_free(NULL);

    /* cl_cert_parse. */
    ck_assert_int_eq(cl_cert_parse(NULL, leaf.b, leaf.len), CL_ERR_ARG);
    ck_assert_int_eq(cl_cert_parse(&c, NULL, 1), CL_ERR_ARG);
    ck_assert_int_eq(cl_cert_parse(&c, leaf.b, 0), CL_ERR_ARG);
    ck_assert_int_eq(cl_cert_parse(&c, leaf.b, leaf.len - 1), CL_ERR_CERT_PARSE);
    ck_assert_int_eq(cl_cert_parse(&c, junk, sizeof(junk)), CL_ERR_CERT_PARSE);
    ck_assert_int_eq(cl_cert_parse(&c, leaf.b, leaf.len), CL_OK);
    ck_assert_uint_eq(cl_cert_count(&c), 1);
    ck_assert(!cl_cert_is_validated(&c));
    ck_assert_int_eq(cl_cert_key_kind(&c, 0), CL_CERT_KEY_EC_P256);
    ck_assert_int_eq(cl_cert_key_kind(&c, 1), CL_CERT_KEY_NONE);
    cl_cert_free(&c);
}
END_TEST

static mbedtls_hmac_drbg_context sign_rng;

/* Every role against every kind of certificate (issue 10, finding 5).
 * rc[r] is the verdict for role r + 1 at depth[r]; bit r of `openssl` says
 * that openssl verify -purpose ROLE_PURPOSE[r] must agree (OK iff CL_OK).
 * Where it is not set, cardlink is stricter than OpenSSL on purpose:
 * CARD_AUTH asks for id-PIV-cardAuth where sslclient asks for clientAuth,
 * CARD_SIGN needs nonRepudiation, ISSUER needs a CA (openssl "any" accepts
 * everything). */
static const char *const role_purpose[5] = { "sslserver", "sslclient", "sslclient", "smimesign", "any" };
#define P_ CL_ERR_CERT_PURPOSE
#define KU CL_ERR_CERT_KEY_USAGE
#define AL CL_ERR_CERT_ALGORITHM
#define XS 0x01u
#define XD 0x02u
#define XA 0x04u
#define XC 0x08u
#define XI 0x10u

static const struct {
    const char *what;
    const char *chain[MAXC];
    int rc[5];               /* SERVER, DEVICE, CARD_AUTH, CARD_SIGN, ISSUER */
    size_t depth[5];
    unsigned openssl;
} role_cases[] = {
    { "card (authentication)", R("card", "issuer"), { P_, P_, CL_OK, KU, KU }, { 0 }, XS | XD | XC },
    { "card P-384", R("card-p384", "issuer"), { P_, P_, CL_OK, KU, KU }, { 0 }, XS | XD | XC },
    { "card RSA", R("card-rsa", "issuer"), { P_, P_, CL_OK, KU, KU }, { 0 }, XS | XD | XC },
    { "card signing", R("card-sign", "issuer"), { P_, P_, KU, CL_OK, KU }, { 0 }, XS | XD | XA | XC },
    { "server", R("server", "server-ca"), { CL_OK, P_, P_, KU, KU }, { 0 }, XS | XD | XA | XC },
    { "device", R("device", "device-ca"), { P_, CL_OK, P_, KU, KU }, { 0 }, XS | XD | XC },
    { "card issuer CA", R("issuer"), { CL_OK, CL_OK, CL_OK, KU, CL_OK }, { 0 }, XS | XD | XA | XI },
    { "server CA as a leaf", R("server-ca"), { KU, KU, KU, KU, KU }, { 0 }, 0 },
    /* The crafted chains of the finding. */
    { "critical EKU codeSigning", R("bad-eku-codesign", "issuer"), { P_, P_, P_, KU, KU }, { 0 }, XS | XD | XA | XC },
    { "critical nsCertType server", R("bad-ns-server", "issuer"), { CL_OK, P_, P_, KU, KU }, { 0 }, XS | XD | XA | XC },
    { "EKU anyExtendedKeyUsage only", R("bad-anyeku", "issuer"), { P_, P_, P_, KU, KU }, { 0 }, XS | XD | XA | XC },
    { "CA with critical EKU serverAuth", R("bad-caeku", "issuer-ekuserver"), { CL_OK, P_, P_, KU, KU }, { 0, 1, 1, 0, 0 }, XS | XD | XA | XC },
    { "RSA-2047", R("bad-rsa2047", "issuer"), { AL, AL, AL, AL, AL }, { 0 }, 0 },
};

START_TEST(test_roles)
{
    size_t row = (size_t)_i / 5, r = (size_t)_i % 5, depth = 99;
    enum cl_cert_role role = (enum cl_cert_role)(CL_CERT_ROLE_SERVER + (int)r);
    static const char *const roots[] = { NULL };
    struct cl_cert c;
    int rc;

    cl_cert_init(&c);
    rc = verify_named(&c, role_cases[row].chain, roots, role, T_NOW, &depth);
    ck_assert_msg(rc == role_cases[row].rc[r] && depth == role_cases[row].depth[r],
                  "%s as role %d: got %d (%s) at depth %zu, want %d at %zu", role_cases[row].what,
                  (int)role, rc, cl_strerror(rc), depth, role_cases[row].rc[r], role_cases[row].depth[r]);
    ck_assert(cl_cert_is_validated(&c) == (rc == CL_OK));
    cl_cert_free(&c);
    if (have_openssl && (role_cases[row].openssl & (1u << r)) != 0) {
        int o = openssl_verify(role_cases[row].chain, roots, T_NOW, role_purpose[r]);

        ck_assert_msg((o == 0) == (rc == CL_OK), "%s: openssl verify -purpose %s says %d, cardlink %d (%s)",
                      role_cases[row].what, role_purpose[r], o, rc, cl_strerror(rc));
    }
}
END_TEST

/* A certificate for an RSA public key whose modulus has exactly `bits`
 * bits, signed by the test root; keyUsage ku (-1: none), basicConstraints
 * CA:ca (-1: none); serial[0..serial_len) (none: 65537) and subject (NULL:
 * the RSA size tests'). */
static const uint8_t *shape_serial;
static size_t shape_serial_len;
static const char *shape_subject;
static const char *shape_signer;   /* the key that signs (NULL: the root's) */

static size_t shaped_cert(unsigned bits, int ku, int ca, uint8_t *out, size_t max)
{
    struct blob rkey;
    mbedtls_pk_context issuer, subject;
    mbedtls_x509write_cert w;
    mbedtls_mpi N, E;
    uint8_t buf[4096];
    int n;

    load(shape_signer != NULL ? shape_signer : "root", ".key.der", &rkey);
    mbedtls_hmac_drbg_init(&sign_rng);
    ck_assert_int_eq(mbedtls_hmac_drbg_seed_buf(&sign_rng, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
                                                (const unsigned char *)"rsa", 3), 0);
    mbedtls_pk_init(&issuer);
    mbedtls_pk_init(&subject);
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    ck_assert_int_eq(mbedtls_pk_parse_key(&issuer, rkey.b, rkey.len, NULL, 0, mbedtls_hmac_drbg_random, &sign_rng), 0);
#else
    ck_assert_int_eq(mbedtls_pk_parse_key(&issuer, rkey.b, rkey.len, NULL, 0), 0);
#endif
    /* N = 2^(bits-1) + 2^(bits/2) + 1: odd, exactly `bits` long. Not a
     * product of two primes, which nothing here can tell. */
    mbedtls_mpi_init(&N);
    mbedtls_mpi_init(&E);
    ck_assert_int_eq(mbedtls_mpi_set_bit(&N, bits - 1, 1), 0);
    ck_assert_int_eq(mbedtls_mpi_set_bit(&N, bits / 2, 1), 0);
    ck_assert_int_eq(mbedtls_mpi_set_bit(&N, 0, 1), 0);
    ck_assert_uint_eq(mbedtls_mpi_bitlen(&N), bits);
    ck_assert_int_eq(mbedtls_mpi_lset(&E, 65537), 0);
    ck_assert_int_eq(mbedtls_pk_setup(&subject, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA)), 0);
    ck_assert_int_eq(mbedtls_rsa_import(mbedtls_pk_rsa(subject), &N, NULL, NULL, NULL, &E), 0);
    /* mbedtls completes no key above MBEDTLS_MPI_MAX_BITS; writing the
     * public key needs only N and E. */
    if (bits <= 8192)
        ck_assert_int_eq(mbedtls_rsa_complete(mbedtls_pk_rsa(subject)), 0);
    mbedtls_x509write_crt_init(&w);
    mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
    if (shape_serial_len > 0) {
        mbedtls_mpi S;
        mbedtls_mpi_init(&S);
        ck_assert_int_eq(mbedtls_mpi_read_binary(&S, shape_serial, shape_serial_len), 0);
        ck_assert_int_eq(mbedtls_x509write_crt_set_serial(&w, &S), 0);
        mbedtls_mpi_free(&S);
    } else {
        ck_assert_int_eq(mbedtls_x509write_crt_set_serial(&w, &E), 0);
    }
    ck_assert_int_eq(mbedtls_x509write_crt_set_validity(&w, PKI_FROM, PKI_TO), 0);
    ck_assert_int_eq(mbedtls_x509write_crt_set_subject_name(&w, shape_subject != NULL ? shape_subject :
                     "CN=cardlink test RSA size,O=cardlink test"), 0);
    ck_assert_int_eq(mbedtls_x509write_crt_set_issuer_name(&w, "CN=cardlink test root,O=cardlink test"), 0);
    mbedtls_x509write_crt_set_subject_key(&w, &subject);
    mbedtls_x509write_crt_set_issuer_key(&w, &issuer);
    mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA384);
    if (ku >= 0)
        ck_assert_int_eq(mbedtls_x509write_crt_set_key_usage(&w, (unsigned)ku), 0);
    if (ca >= 0)
        ck_assert_int_eq(mbedtls_x509write_crt_set_basic_constraints(&w, ca, -1), 0);
    n = mbedtls_x509write_crt_der(&w, buf, sizeof(buf), mbedtls_hmac_drbg_random, &sign_rng);
    ck_assert_int_gt(n, 0);
    ck_assert_uint_le((size_t)n, max);
    memcpy(out, buf + sizeof(buf) - n, (size_t)n);
    mbedtls_x509write_crt_free(&w);
    mbedtls_mpi_free(&N);
    mbedtls_mpi_free(&E);
    mbedtls_pk_free(&subject);
    mbedtls_pk_free(&issuer);
    mbedtls_hmac_drbg_free(&sign_rng);
    return (size_t)n;
}

/* RSA key sizes at both limits, N-1, N, N+1 bits (finding 9): validated
 * alone under the root. */
static size_t rsa_cert(unsigned bits, uint8_t *out, size_t max)
{
    return shaped_cert(bits, MBEDTLS_X509_KU_DIGITAL_SIGNATURE, -1, out, max);
}

static const struct {
    unsigned bits;
    int rc;
} rsa_cases[] = {
    { 2047, CL_ERR_CERT_ALGORITHM }, { 2048, CL_OK }, { 2049, CL_OK },
    { 8191, CL_OK }, { 8192, CL_OK },
    /* mbedtls refuses to parse a modulus above MBEDTLS_MPI_MAX_BITS (8192):
     * the policy's upper limit and the parser's agree. */
    { 8193, CL_ERR_CERT_PARSE },
};

START_TEST(test_rsa_bits)
{
    static uint8_t der[4096];
    struct cl_cert_der ch, rt;
    struct blob root;
    struct cl_cert c;
    size_t depth = 99;
    int rc;

    load("root", ".der", &root);
    ch.der = der;
    ch.len = rsa_cert(rsa_cases[_i].bits, der, sizeof(der));
    rt.der = root.b;
    rt.len = root.len;
    cl_cert_init(&c);
    rc = cl_cert_verify_chain(&c, &ch, 1, &rt, 1, T_NOW, CAUTH, &depth);
    ck_assert_msg(rc == rsa_cases[_i].rc, "RSA-%u: got %d (%s)", rsa_cases[_i].bits, rc, cl_strerror(rc));
    ck_assert_uint_eq(depth, 0);
    if (rc == CL_OK)
        ck_assert_int_eq(cl_cert_key_kind(&c, 0), CL_CERT_KEY_RSA);
    cl_cert_free(&c);
    if (rsa_cases[_i].rc != CL_ERR_CERT_PARSE) {
        ck_assert_int_eq(cl_cert_parse(&c, der, ch.len), CL_OK);
        ck_assert_int_eq(cl_cert_key_kind(&c, 0), rc == CL_OK ? CL_CERT_KEY_RSA : CL_CERT_KEY_NONE);
        cl_cert_free(&c);
    }
}
END_TEST

/* A leaf's keyUsage and basicConstraints against each role: without
 * keyUsage a leaf serves every role but card signing (which requires
 * it); an issuer must be CA:TRUE even when its keyUsage has keyCertSign. */
static const struct {
    const char *what;
    int ku, ca;
    int rc[5];   /* SRV DEV CAUTH CSIGN ISS */
} leaf_shapes[] = {
    { "no keyUsage", -1, -1,
      { CL_OK, CL_OK, CL_OK, CL_ERR_CERT_KEY_USAGE, CL_ERR_CERT_KEY_USAGE } },
    { "keyCertSign, CA:FALSE", MBEDTLS_X509_KU_DIGITAL_SIGNATURE | MBEDTLS_X509_KU_KEY_CERT_SIGN, 0,
      { CL_OK, CL_OK, CL_OK, CL_ERR_CERT_KEY_USAGE, CL_ERR_CERT_KEY_USAGE } },
    { "keyCertSign, no basicConstraints",
      MBEDTLS_X509_KU_DIGITAL_SIGNATURE | MBEDTLS_X509_KU_KEY_CERT_SIGN, -1,
      { CL_OK, CL_OK, CL_OK, CL_ERR_CERT_KEY_USAGE, CL_ERR_CERT_KEY_USAGE } },
    { "keyCertSign, CA:TRUE", MBEDTLS_X509_KU_DIGITAL_SIGNATURE | MBEDTLS_X509_KU_KEY_CERT_SIGN, 1,
      { CL_OK, CL_OK, CL_OK, CL_ERR_CERT_KEY_USAGE, CL_OK } },
    { "CA:TRUE without keyUsage", -1, 1,
      { CL_OK, CL_OK, CL_OK, CL_ERR_CERT_KEY_USAGE, CL_OK } },
    { "nonRepudiation alone", MBEDTLS_X509_KU_NON_REPUDIATION, -1,
      { CL_ERR_CERT_KEY_USAGE, CL_ERR_CERT_KEY_USAGE, CL_ERR_CERT_KEY_USAGE,
        CL_ERR_CERT_KEY_USAGE, CL_ERR_CERT_KEY_USAGE } },
    { "signing (digitalSignature, nonRepudiation)",
      MBEDTLS_X509_KU_DIGITAL_SIGNATURE | MBEDTLS_X509_KU_NON_REPUDIATION, -1,
      { CL_OK, CL_OK, CL_ERR_CERT_KEY_USAGE, CL_OK, CL_ERR_CERT_KEY_USAGE } },
};

START_TEST(test_leaf_shapes)
{
    static const enum cl_cert_role roles[5] = { SRV, DEV, CAUTH, CSIGN, ISS };
    static uint8_t der[4096];
    struct cl_cert_der ch, rt;
    struct blob root;
    struct cl_cert c;
    size_t depth, r;
    int rc;

    load("root", ".der", &root);
    ch.der = der;
    ch.len = shaped_cert(2048, leaf_shapes[_i].ku, leaf_shapes[_i].ca, der, sizeof(der));
    rt.der = root.b;
    rt.len = root.len;
    for (r = 0; r < 5; r++) {
        depth = 99;
        cl_cert_init(&c);
        rc = cl_cert_verify_chain(&c, &ch, 1, &rt, 1, T_NOW, roles[r], &depth);
        ck_assert_msg(rc == leaf_shapes[_i].rc[r], "%s as role %d: got %d (%s)",
                      leaf_shapes[_i].what, (int)roles[r], rc, cl_strerror(rc));
        ck_assert_uint_eq(depth, 0);
        cl_cert_free(&c);
    }
}
END_TEST

/* A certificate that names the root as its issuer but was signed by
 * another key (the other CA's): refused CL_ERR_SIGNATURE at the anchor
 * step, however well-formed; the same certificate signed by the root is
 * taken. */
START_TEST(test_forged_under_root)
{
    static uint8_t der[4096];
    struct cl_cert_der ch, rt[2];
    struct blob root, other;
    struct cl_cert c;
    size_t depth = 99;
    int rc;

    load("root", ".der", &root);
    load("other-ca", ".der", &other);
    shape_signer = _i == 0 ? "other-ca" : NULL;
    ch.der = der;
    ch.len = shaped_cert(2048, MBEDTLS_X509_KU_DIGITAL_SIGNATURE, -1, der, sizeof(der));
    shape_signer = NULL;
    rt[0].der = root.b;
    rt[0].len = root.len;
    rt[1].der = other.b;   /* the signer's own CA trusted too: its name differs */
    rt[1].len = other.len;
    cl_cert_init(&c);
    rc = cl_cert_verify_chain(&c, &ch, 1, rt, 2, T_NOW, CAUTH, &depth);
    ck_assert_msg(rc == (_i == 0 ? CL_ERR_SIGNATURE : CL_OK), "signed by %s: got %d (%s)",
                  _i == 0 ? "other-ca" : "root", rc, cl_strerror(rc));
    ck_assert(cl_cert_is_validated(&c) == (rc == CL_OK));
    cl_cert_free(&c);
    if (have_openssl && _i == 0) {   /* openssl agrees */
        char cmd[1024];
        FILE *f;
        snprintf(cmd, sizeof(cmd), "%s/forged-%d.der", pki_dir, (int)getpid());
        f = fopen(cmd, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(der, 1, ch.len, f), ch.len);
        fclose(f);
        snprintf(cmd, sizeof(cmd),
                 "cd '%s' && openssl x509 -inform DER -in forged-%d.der -out forged-%d.pem && "
                 "openssl verify -attime %llu -CAfile root.pem forged-%d.pem >/dev/null 2>&1",
                 pki_dir, (int)getpid(), (int)getpid(), (unsigned long long)T_NOW, (int)getpid());
        ck_assert_int_ne(run(cmd), 0);
    }
}
END_TEST

/* The certificates openssl made in the PKI directory for one test: NAME.der
 * verified alone under CA.der for card authentication at now (the leaf's
 * depth must be 0), then NAME's files (and NAME-ca's) removed. */
static int verify_made(const char *name, const char *ca, uint64_t now)
{
    char cmd[1024];
    struct blob leaf, anchor;
    struct cl_cert_der ch, rt;
    struct cl_cert c;
    size_t depth = 99;
    int rc;

    load(ca, ".der", &anchor);
    load(name, ".der", &leaf);
    ch.der = leaf.b;
    ch.len = leaf.len;
    rt.der = anchor.b;
    rt.len = anchor.len;
    cl_cert_init(&c);
    rc = cl_cert_verify_chain(&c, &ch, 1, &rt, 1, now, CAUTH, &depth);
    ck_assert_uint_eq(depth, 0);
    ck_assert(cl_cert_is_validated(&c) == (rc == CL_OK));
    cl_cert_free(&c);
    snprintf(cmd, sizeof(cmd), "cd '%s' && rm -f %s.* %s-ca.*", pki_dir, name, name);
    (void)run(cmd);
    return rc;
}

/* A trust anchor is trusted as given: its own (self-)signature's algorithm
 * does not matter, so an old root signed with SHA-1 still anchors a leaf
 * it signed with SHA-256 (as openssl -auth_level 2 does); a leaf signed
 * with SHA-1 under it does not pass. */
START_TEST(test_sha1_anchor)
{
    char cmd[2048], name[64];
    int rc;

    if (!have_openssl)
        return;
    snprintf(name, sizeof(name), "sha1ca-%d-%d", (int)getpid(), _i);
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
             "-keyout %s-ca.key -subj '/CN=old sha1 root' -days 3650 -sha1 -addext "
             "basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign "
             "-out %s-ca.pem 2>/dev/null && openssl req -newkey ec -pkeyopt "
             "ec_paramgen_curve:P-256 -nodes -keyout %s.key -subj '/CN=leaf' -out %s.csr "
             "2>/dev/null && openssl x509 -req -in %s.csr -CA %s-ca.pem -CAkey %s-ca.key "
             "-set_serial 5 -days 365 -%s -outform DER -out %s.der 2>/dev/null && "
             "openssl x509 -in %s-ca.pem -outform DER -out %s-ca.der",
             pki_dir, name, name, name, name, name, name, name, _i == 0 ? "sha256" : "sha1",
             name, name, name);
    ck_assert_int_eq(run(cmd), 0);
    snprintf(cmd, sizeof(cmd), "%s-ca", name);
    rc = verify_made(name, cmd, (uint64_t)time(NULL));
    ck_assert_msg(rc == (_i == 0 ? CL_OK : CL_ERR_CERT_ALGORITHM), "leaf %s: got %d (%s)",
                  _i == 0 ? "SHA-256" : "SHA-1", rc, cl_strerror(rc));
}
END_TEST

/* EC keys of 256 and 384 bits on curves outside the policy (secp256k1,
 * brainpoolP256r1, brainpoolP384r1), in leaves openssl makes under the
 * root: CL_ERR_CERT_ALGORITHM, the bit length alone does not pass. */
START_TEST(test_other_curves)
{
    static const char *const curves[3] = { "secp256k1", "brainpoolP256r1", "brainpoolP384r1" };
    char cmd[2048], name[64];
    struct blob leaf;
    struct cl_cert c;
    int rc;

    if (!have_openssl)
        return;
    snprintf(name, sizeof(name), "curve-%d-%d", (int)getpid(), _i);
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && openssl req -newkey ec -pkeyopt ec_paramgen_curve:%s -nodes -keyout "
             "%s.key -subj '/CN=curve leaf' -out %s.csr 2>/dev/null && openssl x509 -req -in "
             "%s.csr -CA root.pem -CAkey root.key.der -CAkeyform DER -set_serial 9 -days 365 "
             "-sha256 -outform DER -out %s.der 2>/dev/null",
             pki_dir, curves[_i], name, name, name, name);
    ck_assert_int_eq(run(cmd), 0);
    load(name, ".der", &leaf);
    cl_cert_init(&c);
    if (cl_cert_parse(&c, leaf.b, leaf.len) == CL_OK)
        ck_assert_int_eq(cl_cert_key_kind(&c, 0), CL_CERT_KEY_NONE);
    cl_cert_free(&c);
    rc = verify_made(name, "root", (uint64_t)time(NULL));
    ck_assert_msg(rc == CL_ERR_CERT_ALGORITHM || rc == CL_ERR_CERT_PARSE, "%s: got %d (%s)",
                  curves[_i], rc, cl_strerror(rc));
}
END_TEST

/* The serial as openssl prints it (the DER sign byte dropped, at least
 * one byte kept) and the subject with every byte outside printable ASCII
 * shown as '?', each into a buffer of exactly its size (one less is
 * refused and leaves ""). */
static const struct {
    uint8_t serial[4];
    size_t serial_len;
    const char *subject, *serial_text, *subject_text;
} text_shapes[] = {
    { {0x80, 0x01}, 2, "CN=Caf\xC3\xA9,O=x", "8001", "CN=Caf??, O=x" },
    { {0x7F}, 1, "CN=tab\there,O=x", "7F", "CN=tab?here, O=x" },
    { {0x01, 0x00, 0x00, 0xFF}, 4, "CN=plain,O=x", "010000FF", "CN=plain, O=x" },
};

START_TEST(test_text_shapes)
{
    static uint8_t der[4096];
    struct cl_cert c;
    char text[64];
    size_t n, k;

    shape_serial = text_shapes[_i].serial;
    shape_serial_len = text_shapes[_i].serial_len;
    shape_subject = text_shapes[_i].subject;
    n = shaped_cert(2048, MBEDTLS_X509_KU_DIGITAL_SIGNATURE, -1, der, sizeof(der));
    shape_serial = NULL;
    shape_serial_len = 0;
    shape_subject = NULL;
    cl_cert_init(&c);
    ck_assert_int_eq(cl_cert_parse(&c, der, n), CL_OK);
    k = strlen(text_shapes[_i].serial_text);
    ck_assert_int_eq(cl_cert_serial(&c, 0, text, k + 1), (int)k);
    ck_assert_str_eq(text, text_shapes[_i].serial_text);
    ck_assert_int_eq(cl_cert_serial(&c, 0, text, k), CL_ERR_BUFFER);
    k = strlen(text_shapes[_i].subject_text);
    memset(text, 'Z', sizeof(text));
    ck_assert_int_eq(cl_cert_subject(&c, 0, text, k + 1), (int)k);
    ck_assert_str_eq(text, text_shapes[_i].subject_text);
    ck_assert_int_eq(cl_cert_subject(&c, 0, text, k), CL_ERR_BUFFER);
    ck_assert_str_eq(text, "");
    memset(text, 'Z', sizeof(text));
    ck_assert_int_eq(cl_cert_subject(&c, 1, text, sizeof(text)), CL_ERR_NOT_FOUND);
    ck_assert_str_eq(text, "");
    ck_assert_int_eq(cl_cert_subject(&c, 0, text, 1), CL_ERR_BUFFER);
    ck_assert_str_eq(text, "");
    cl_cert_free(&c);
}
END_TEST

/* RSASSA-PSS certificates, made by openssl under an RSA CA it makes: MGF1
 * with SHA-256 is inside the policy, MGF1 with SHA-1 is not (the same
 * SHA-1 rule as for the signature's own hash). */
START_TEST(test_pss_mgf1)
{
    static const char *const mgf[2] = { "sha256", "sha1" };
    char cmd[2048], name[64];
    int rc;

    if (!have_openssl)
        return;
    snprintf(name, sizeof(name), "pss-%d-%d", (int)getpid(), _i);
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && openssl req -x509 -newkey rsa:2048 -nodes -keyout %s-ca.key -subj "
             "'/CN=pss ca' -days 3650 -sha256 -addext basicConstraints=critical,CA:TRUE "
             "-addext keyUsage=critical,keyCertSign -outform DER -out %s-ca.der 2>/dev/null && "
             "openssl req -newkey rsa:2048 -nodes -keyout %s.key -subj '/CN=pss leaf' -out %s.csr "
             "2>/dev/null && openssl x509 -req -in %s.csr -CA %s-ca.der -CAform DER -CAkey "
             "%s-ca.key -set_serial 7 -days 365 -sha256 -sigopt rsa_padding_mode:pss "
             "-sigopt rsa_pss_saltlen:32 -sigopt rsa_mgf1_md:%s -outform DER -out %s.der "
             "2>/dev/null",
             pki_dir, name, name, name, name, name, name, name, mgf[_i], name);
    ck_assert_int_eq(run(cmd), 0);
    snprintf(cmd, sizeof(cmd), "%s-ca", name);
    rc = verify_made(name, cmd, (uint64_t)time(NULL));
    ck_assert_msg(rc == (_i == 0 ? CL_OK : CL_ERR_CERT_ALGORITHM), "MGF1 %s: got %d (%s)",
                  mgf[_i], rc, cl_strerror(rc));
}
END_TEST

/* Parse-time verdicts for single certificates. */
static const struct {
    const char *name;
    int rc;
    enum cl_cert_key kind;
} parse_cases[] = {
    { "root", CL_OK, CL_CERT_KEY_EC_P384 },
    { "issuer", CL_OK, CL_CERT_KEY_EC_P256 },
    { "card-rsa", CL_OK, CL_CERT_KEY_RSA },
    { "bad-rsa1024", CL_OK, CL_CERT_KEY_NONE },
    { "bad-curve", CL_OK, CL_CERT_KEY_NONE },
    { "bad-critical", CL_ERR_CERT_CRITICAL, CL_CERT_KEY_NONE },
    { "bad-sha1", CL_OK, CL_CERT_KEY_EC_P256 },
    { "bad-rsa2047", CL_OK, CL_CERT_KEY_NONE },
    /* Critical extendedKeyUsage and nsCertType are understood. */
    { "bad-eku-codesign", CL_OK, CL_CERT_KEY_EC_P256 },
    { "bad-ns-server", CL_OK, CL_CERT_KEY_EC_P256 },
    { "issuer-ekuserver", CL_OK, CL_CERT_KEY_EC_P256 },
};

START_TEST(test_parse_cases)
{
    struct blob b;
    struct cl_cert c;

    load(parse_cases[_i].name, ".der", &b);
    cl_cert_init(&c);
    ck_assert_int_eq(cl_cert_parse(&c, b.b, b.len), parse_cases[_i].rc);
    ck_assert_int_eq(cl_cert_key_kind(&c, 0), parse_cases[_i].kind);
    cl_cert_free(&c);
}
END_TEST

/* Fingerprints, subjects and serials against openssl's output; the
 * fingerprint always against cl_sha256 of the file. */
static const char *const name_cases[] = {
    "root", "issuer", "card", "card-p384", "card-rsa", "server", "subca", "bad-sha1",
    "card-sign", "server-ca", "device-ca", "device",
};

static void openssl_field(const char *name, const char *opt, char *out, size_t max)
{
    char cmd[600];
    FILE *p;

    snprintf(cmd, sizeof(cmd), "openssl x509 -inform DER -in '%s/%s.der' -noout %s",
             pki_dir, name, opt);
    p = popen(cmd, "r");
    ck_assert(p != NULL);
    ck_assert(fgets(out, (int)max, p) != NULL);
    ck_assert_int_eq(pclose(p), 0);
    out[strcspn(out, "\r\n")] = '\0';
}

START_TEST(test_names)
{
    const char *name = name_cases[_i];
    struct blob b;
    struct cl_cert c;
    uint8_t fp[CL_CERT_FINGERPRINT_LEN], h[CL_SHA256_LEN];
    char text[256], want[512], hex[3 * CL_CERT_FINGERPRINT_LEN + 1];
    int n;
    size_t i;

    load(name, ".der", &b);
    cl_cert_init(&c);
    ck_assert_int_eq(cl_cert_parse(&c, b.b, b.len), CL_OK);
    ck_assert_int_eq(cl_cert_fingerprint(&c, 0, fp), CL_OK);
    ck_assert_int_eq(cl_sha256(b.b, b.len, h), CL_OK);
    ck_assert_mem_eq(fp, h, sizeof(fp));
    ck_assert_int_eq(cl_cert_fingerprint(&c, 1, fp), CL_ERR_NOT_FOUND);
    ck_assert_int_eq(cl_cert_fingerprint(NULL, 0, fp), CL_ERR_ARG);
    n = cl_cert_subject(&c, 0, text, sizeof(text));
    ck_assert_int_gt(n, 0);
    ck_assert_uint_eq(strlen(text), (size_t)n);
    ck_assert(strncmp(text, "CN=cardlink ", 12) == 0);
    ck_assert_int_eq(cl_cert_subject(&c, 0, text, (size_t)n), CL_ERR_BUFFER);
    ck_assert_str_eq(text, "");
    ck_assert_int_eq(cl_cert_subject(&c, 1, text, sizeof(text)), CL_ERR_NOT_FOUND);
    ck_assert_int_eq(cl_cert_subject(&c, 0, text, 0), CL_ERR_ARG);
    n = cl_cert_serial(&c, 0, text, sizeof(text));
    ck_assert_int_eq(n, 4);   /* 0x1001.. from cardlink-pki */
    ck_assert_int_eq(cl_cert_serial(&c, 0, text, 4), CL_ERR_BUFFER);
    ck_assert_int_eq(cl_cert_serial(&c, 2, text, sizeof(text)), CL_ERR_NOT_FOUND);
    if (have_openssl) {
        for (i = 0; i < sizeof(fp); i++)
            snprintf(hex + 3 * i, 4, "%02X%s", fp[i], i + 1 < sizeof(fp) ? ":" : "");
        openssl_field(name, "-fingerprint -sha256", want, sizeof(want));
        ck_assert_msg(strstr(want, hex) != NULL, "openssl: %s, cardlink: %s", want, hex);
        ck_assert_int_eq(cl_cert_serial(&c, 0, text, sizeof(text)), 4);
        openssl_field(name, "-serial", want, sizeof(want));
        ck_assert_str_eq(want + strlen("serial="), text);
    }
    cl_cert_free(&c);
}
END_TEST

START_TEST(test_subject_exact)
{
    struct blob b;
    struct cl_cert c;
    char text[128];

    load("card", ".der", &b);
    cl_cert_init(&c);
    ck_assert_int_eq(cl_cert_parse(&c, b.b, b.len), CL_OK);
    ck_assert_int_eq(cl_cert_subject(&c, 0, text, sizeof(text)),
                     (int)strlen("CN=cardlink test card 0001, O=cardlink test"));
    ck_assert_str_eq(text, "CN=cardlink test card 0001, O=cardlink test");
    cl_cert_free(&c);
}
END_TEST

/* ------------------------------------------------------------ signatures */

/* Sign digest with NAME.key.der as a card would (mbedtls, both versions). */
static size_t sign_with(const char *name, mbedtls_md_type_t md, bool pss,
                        const uint8_t *digest, size_t dlen, uint8_t *sig, size_t max)
{
    struct blob key;
    mbedtls_pk_context pk;
    size_t slen = 0;
    int ret;

    load(name, ".key.der", &key);
    mbedtls_hmac_drbg_init(&sign_rng);
    ck_assert_int_eq(mbedtls_hmac_drbg_seed_buf(&sign_rng, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
                                                (const unsigned char *)"sign", 4), 0);
    mbedtls_pk_init(&pk);
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    ret = mbedtls_pk_parse_key(&pk, key.b, key.len, NULL, 0, mbedtls_hmac_drbg_random, &sign_rng);
#else
    ret = mbedtls_pk_parse_key(&pk, key.b, key.len, NULL, 0);
#endif
    ck_assert_int_eq(ret, 0);
    if (pss)
        (void)mbedtls_rsa_set_padding(mbedtls_pk_rsa(pk), MBEDTLS_RSA_PKCS_V21, md);
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    ret = mbedtls_pk_sign(&pk, md, digest, dlen, sig, max, &slen, mbedtls_hmac_drbg_random, &sign_rng);
#else
    ck_assert_uint_ge(max, MBEDTLS_PK_SIGNATURE_MAX_SIZE);
    ret = mbedtls_pk_sign(&pk, md, digest, dlen, sig, &slen, mbedtls_hmac_drbg_random, &sign_rng);
#endif
    ck_assert_int_eq(ret, 0);
    mbedtls_pk_free(&pk);
    mbedtls_hmac_drbg_free(&sign_rng);
    return slen;
}

/* DER ECDSA-Sig-Value to r||s, each padded to half bytes. */
static size_t der_to_raw(const uint8_t *der, size_t len, size_t half, uint8_t *raw)
{
    size_t i = 2, k;

    ck_assert_uint_eq(der[0], 0x30);
    ck_assert_uint_eq((size_t)der[1] + 2, len);   /* short form for P-256/P-384 */
    memset(raw, 0, 2 * half);
    for (k = 0; k < 2; k++) {
        size_t l;

        ck_assert_uint_eq(der[i], 0x02);
        l = der[i + 1];
        i += 2;
        while (l > half) {   /* sign byte */
            i++;
            l--;
        }
        memcpy(raw + k * half + (half - l), der + i, l);
        i += l;
    }
    return 2 * half;
}

static void validate(struct cl_cert *c, const char *leaf)
{
    bool server = strcmp(leaf, "server") == 0;
    const char *chain[] = { leaf, server ? "server-ca" : "issuer", NULL };
    static const char *const roots[] = { NULL };
    size_t depth;

    cl_cert_init(c);
    ck_assert_int_eq(verify_named(c, chain, roots, server ? SRV : CAUTH, T_NOW, &depth), CL_OK);
}

static const struct {
    const char *leaf;
    enum cl_cert_hash hash;
    mbedtls_md_type_t md;
    size_t half;            /* curve size in bytes; 0 for RSA */
} ec_cases[] = {
    { "card", CL_CERT_HASH_SHA256, MBEDTLS_MD_SHA256, 32 },
    { "card", CL_CERT_HASH_SHA384, MBEDTLS_MD_SHA384, 32 },
    { "card-p384", CL_CERT_HASH_SHA384, MBEDTLS_MD_SHA384, 48 },
    { "card-p384", CL_CERT_HASH_SHA256, MBEDTLS_MD_SHA256, 48 },
    { "server", CL_CERT_HASH_SHA512, MBEDTLS_MD_SHA512, 32 },
};

START_TEST(test_sig_ecdsa)
{
    struct cl_cert c;
    uint8_t digest[64], sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE], raw[96];
    size_t dlen = mbedtls_md_get_size(mbedtls_md_info_from_type(ec_cases[_i].md));
    size_t slen, rlen;

    memset(digest, 0xA5, sizeof(digest));
    slen = sign_with(ec_cases[_i].leaf, ec_cases[_i].md, false, digest, dlen, sig, sizeof(sig));
    rlen = der_to_raw(sig, slen, ec_cases[_i].half, raw);
    validate(&c, ec_cases[_i].leaf);

    /* DER as the card returns it, and raw r||s. */
    ck_assert_int_eq(cl_cert_verify_digest(&c, CL_CERT_SIG_ECDSA, ec_cases[_i].hash, digest, dlen, sig, slen), CL_OK);
    ck_assert_int_eq(cl_cert_verify_digest(&c, CL_CERT_SIG_ECDSA, ec_cases[_i].hash, digest, dlen, raw, rlen), CL_OK);
    /* Another digest. */
    digest[0] ^= 1;
    ck_assert_int_eq(cl_cert_verify_digest(&c, CL_CERT_SIG_ECDSA, ec_cases[_i].hash, digest, dlen, sig, slen), CL_ERR_SIGNATURE);
    ck_assert_int_eq(cl_cert_verify_digest(&c, CL_CERT_SIG_ECDSA, ec_cases[_i].hash, digest, dlen, raw, rlen), CL_ERR_SIGNATURE);
    digest[0] ^= 1;
    /* A flipped signature byte, a cut one, one byte too many. */
    sig[slen - 1] ^= 0x40;
    ck_assert_int_eq(cl_cert_verify_digest(&c, CL_CERT_SIG_ECDSA, ec_cases[_i].hash, digest, dlen, sig, slen), CL_ERR_SIGNATURE);
    sig[slen - 1] ^= 0x40;
    raw[3] ^= 0x01;
    ck_assert_int_eq(cl_cert_verify_digest(&c, CL_CERT_SIG_ECDSA, ec_cases[_i].hash, digest, dlen, raw, rlen), CL_ERR_SIGNATURE);
    raw[3] ^= 0x01;
    ck_assert_int_eq(cl_cert_verify_digest(&c, CL_CERT_SIG_ECDSA, ec_cases[_i].hash, digest, dlen, sig, slen - 1), CL_ERR_SIGNATURE);
    sig[slen] = 0;
    ck_assert_int_eq(cl_cert_verify_digest(&c, CL_CERT_SIG_ECDSA, ec_cases[_i].hash, digest, dlen, sig, slen + 1), CL_ERR_SIGNATURE);
    ck_assert_int_eq(cl_cert_verify_digest(&c, CL_CERT_SIG_ECDSA, ec_cases[_i].hash, digest, dlen, raw, rlen - 1), CL_ERR_SIGNATURE);
    /* Wrong scheme for the key, wrong digest length. */
    ck_assert_int_eq(cl_cert_verify_digest(&c, CL_CERT_SIG_RSA_PKCS1, ec_cases[_i].hash, digest, dlen, sig, slen), CL_ERR_CERT_ALGORITHM);
    ck_assert_int_eq(cl_cert_verify_digest(&c, CL_CERT_SIG_RSA_PSS, ec_cases[_i].hash, digest, dlen, sig, slen), CL_ERR_CERT_ALGORITHM);
    ck_assert_int_eq(cl_cert_verify_digest(&c, CL_CERT_SIG_ECDSA, ec_cases[_i].hash, digest, dlen - 1, sig, slen), CL_ERR_ARG);
    cl_cert_free(&c);
}
END_TEST

START_TEST(test_sig_rsa)
{
    struct cl_cert c;
    uint8_t digest[32], sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE], pss[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
    size_t slen, plen;

    memset(digest, 0x3C, sizeof(digest));
    slen = sign_with("card-rsa", MBEDTLS_MD_SHA256, false, digest, 32, sig, sizeof(sig));
    plen = sign_with("card-rsa", MBEDTLS_MD_SHA256, true, digest, 32, pss, sizeof(pss));
    ck_assert_uint_eq(slen, 256);
    ck_assert_uint_eq(plen, 256);
    validate(&c, "card-rsa");
    ck_assert_int_eq(cl_cert_key_kind(&c, 0), CL_CERT_KEY_RSA);
    ck_assert_int_eq(cl_cert_verify_digest(&c, CL_CERT_SIG_RSA_PKCS1, CL_CERT_HASH_SHA256, digest, 32, sig, slen), CL_OK);
    ck_assert_int_eq(cl_cert_verify_digest(&c, CL_CERT_SIG_RSA_PSS, CL_CERT_HASH_SHA256, digest, 32, pss, plen), CL_OK);
    /* Each scheme refuses the other's signature. */
    ck_assert_int_eq(cl_cert_verify_digest(&c, CL_CERT_SIG_RSA_PSS, CL_CERT_HASH_SHA256, digest, 32, sig, slen), CL_ERR_SIGNATURE);
    ck_assert_int_eq(cl_cert_verify_digest(&c, CL_CERT_SIG_RSA_PKCS1, CL_CERT_HASH_SHA256, digest, 32, pss, plen), CL_ERR_SIGNATURE);
    sig[100] ^= 0x08;
    pss[7] ^= 0x80;
    ck_assert_int_eq(cl_cert_verify_digest(&c, CL_CERT_SIG_RSA_PKCS1, CL_CERT_HASH_SHA256, digest, 32, sig, slen), CL_ERR_SIGNATURE);
    ck_assert_int_eq(cl_cert_verify_digest(&c, CL_CERT_SIG_RSA_PSS, CL_CERT_HASH_SHA256, digest, 32, pss, plen), CL_ERR_SIGNATURE);
    ck_assert_int_eq(cl_cert_verify_digest(&c, CL_CERT_SIG_RSA_PKCS1, CL_CERT_HASH_SHA256, digest, 32, sig, slen - 1), CL_ERR_SIGNATURE);
    /* A digest of another hash's length, another hash with the same bytes. */
    ck_assert_int_eq(cl_cert_verify_digest(&c, CL_CERT_SIG_RSA_PKCS1, CL_CERT_HASH_SHA384, digest, 32, sig, slen), CL_ERR_ARG);
    ck_assert_int_eq(cl_cert_verify_digest(&c, CL_CERT_SIG_ECDSA, CL_CERT_HASH_SHA256, digest, 32, sig, slen), CL_ERR_CERT_ALGORITHM);
    cl_cert_free(&c);
}
END_TEST

/* The device's side: the server signs a message, the device validates the
 * server's certificate and checks the signature over the message. */
START_TEST(test_sig_message)
{
    static const uint8_t msg[] = "relay: load 10.00 EUR, txn 00112233445566778899AABBCCDDEEFF";
    struct cl_cert c;
    uint8_t h[CL_SHA256_LEN], sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
    size_t slen;

    ck_assert_int_eq(cl_sha256(msg, sizeof(msg) - 1, h), CL_OK);
    slen = sign_with("server", MBEDTLS_MD_SHA256, false, h, sizeof(h), sig, sizeof(sig));
    validate(&c, "server");
    ck_assert_int_eq(cl_cert_verify_message(&c, CL_CERT_SIG_ECDSA, CL_CERT_HASH_SHA256, msg, sizeof(msg) - 1, sig, slen), CL_OK);
    ck_assert_int_eq(cl_cert_verify_message(&c, CL_CERT_SIG_ECDSA, CL_CERT_HASH_SHA256, msg, sizeof(msg) - 2, sig, slen), CL_ERR_SIGNATURE);
    ck_assert_int_eq(cl_cert_verify_message(&c, CL_CERT_SIG_ECDSA, CL_CERT_HASH_SHA384, msg, sizeof(msg) - 1, sig, slen), CL_ERR_SIGNATURE);
    ck_assert_int_eq(cl_cert_verify_message(&c, CL_CERT_SIG_ECDSA, (enum cl_cert_hash)0, msg, sizeof(msg) - 1, sig, slen), CL_ERR_ARG);
    ck_assert_int_eq(cl_cert_verify_message(&c, CL_CERT_SIG_ECDSA, CL_CERT_HASH_SHA256, NULL, 1, sig, slen), CL_ERR_ARG);
    ck_assert_int_eq(cl_cert_verify_message(&c, (enum cl_cert_sig)9, CL_CERT_HASH_SHA256, msg, 1, sig, slen), CL_ERR_ARG);
    ck_assert_int_eq(cl_cert_verify_digest(&c, CL_CERT_SIG_ECDSA, CL_CERT_HASH_SHA256, h, sizeof(h), sig, 0), CL_ERR_ARG);
    ck_assert_int_eq(cl_cert_verify_digest(&c, CL_CERT_SIG_ECDSA, CL_CERT_HASH_SHA256, NULL, sizeof(h), sig, slen), CL_ERR_ARG);
    ck_assert_int_eq(cl_cert_verify_digest(NULL, CL_CERT_SIG_ECDSA, CL_CERT_HASH_SHA256, h, sizeof(h), sig, slen), CL_ERR_ARG);
    /* Only a validated chain verifies: the same leaf parsed alone does not. */
    cl_cert_free(&c);
    ck_assert_int_eq(cl_cert_verify_message(&c, CL_CERT_SIG_ECDSA, CL_CERT_HASH_SHA256, msg, sizeof(msg) - 1, sig, slen), CL_ERR_STATE);
    {
        struct blob b;

        load("server", ".der", &b);
        ck_assert_int_eq(cl_cert_parse(&c, b.b, b.len), CL_OK);
        ck_assert_int_eq(cl_cert_verify_message(&c, CL_CERT_SIG_ECDSA, CL_CERT_HASH_SHA256, msg, sizeof(msg) - 1, sig, slen), CL_ERR_STATE);
    }
    cl_cert_free(&c);
}
END_TEST

/* ------------------------------------------------------------ no PKI needed */

/* FIPS 180-2 appendix B (B.1, B.2) and the empty message (NIST CAVS). */
static const struct {
    const char *msg;
    const char *digest;
} sha_cases[] = {
    { "abc", "BA7816BF 8F01CFEA 414140DE 5DAE2223 B00361A3 96177A9C B410FF61 F20015AD" },
    { "", "E3B0C442 98FC1C14 9AFBF4C8 996FB924 27AE41E4 649B934C A495991B 7852B855" },
    { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248D6A61 D20638B8 E5C02693 0C3E6039 A33CE459 64FF2167 F6ECEDD4 19DB06C1" },
};

START_TEST(test_sha256_vectors)
{
    const char *m = sha_cases[_i].msg;
    size_t len = strlen(m), i;
    uint8_t out[CL_SHA256_LEN];
    struct cl_sha256 ctx;

    ck_assert_int_eq(cl_sha256((const uint8_t *)m, len, out), CL_OK);
    cl_assert_bytes(out, sizeof(out), sha_cases[_i].digest);
    /* Byte by byte, with empty updates in between. */
    ck_assert_int_eq(cl_sha256_start(&ctx), CL_OK);
    for (i = 0; i < len; i++) {
        ck_assert_int_eq(cl_sha256_update(&ctx, (const uint8_t *)m + i, 1), CL_OK);
        ck_assert_int_eq(cl_sha256_update(&ctx, NULL, 0), CL_OK);
    }
    ck_assert_int_eq(cl_sha256_finish(&ctx, out), CL_OK);
    cl_assert_bytes(out, sizeof(out), sha_cases[_i].digest);
}
END_TEST

/* FIPS 180-2 B.3: one million 'a', fed in uneven pieces. */
START_TEST(test_sha256_million)
{
    static uint8_t a[1000];
    struct cl_sha256 ctx;
    uint8_t out[CL_SHA256_LEN];
    size_t done = 0, step = 1;

    memset(a, 'a', sizeof(a));
    ck_assert_int_eq(cl_sha256_start(&ctx), CL_OK);
    while (done < 1000000) {
        size_t n = 1000000 - done < step ? 1000000 - done : step;

        ck_assert_int_eq(cl_sha256_update(&ctx, a, n), CL_OK);
        done += n;
        step = step % 993 + 7;   /* 7..999: within a[] */
    }
    ck_assert_int_eq(cl_sha256_finish(&ctx, out), CL_OK);
    cl_assert_bytes(out, sizeof(out),
                    "CDC76E5C 9914FB92 81A1C7E2 84D73E67 F1809A48 A497200E 046D39CC C7112CD0");
}
END_TEST

START_TEST(test_sha256_errors)
{
    struct cl_sha256 ctx;
    uint8_t out[CL_SHA256_LEN];

    ck_assert_int_eq(cl_sha256(NULL, 1, out), CL_ERR_ARG);
    ck_assert_int_eq(cl_sha256((const uint8_t *)"", 0, NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_sha256(NULL, 0, out), CL_OK);
    cl_assert_bytes(out, sizeof(out), "E3B0C442 98FC1C14 9AFBF4C8 996FB924 27AE41E4 649B934C A495991B 7852B855");
    ck_assert_int_eq(cl_sha256_start(NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_sha256_start(&ctx), CL_OK);
    ck_assert_int_eq(cl_sha256_update(NULL, out, 1), CL_ERR_ARG);
    ck_assert_int_eq(cl_sha256_update(&ctx, NULL, 1), CL_ERR_ARG);
    ck_assert_int_eq(cl_sha256_finish(NULL, out), CL_ERR_ARG);
    ck_assert_int_eq(cl_sha256_finish(&ctx, NULL), CL_ERR_ARG);   /* and wiped */
    ck_assert_int_eq(cl_sha256_start(&ctx), CL_OK);
    cl_sha256_free(&ctx);
    cl_sha256_free(NULL);
}
END_TEST

/* POSIX times computed with GNU date -u -d ... +%s. */
static const struct {
    unsigned y, mo, d, h, mi, s;
    int rc;
    uint64_t t;
} time_cases[] = {
    { 1970, 1, 1, 0, 0, 0, CL_OK, 0 },
    { 2000, 2, 29, 12, 0, 0, CL_OK, 951825600 },
    { 2000, 3, 1, 0, 0, 0, CL_OK, 951868800 },
    { 2024, 1, 1, 0, 0, 0, CL_OK, 1704067200 },
    { 2038, 1, 19, 3, 14, 8, CL_OK, 2147483648ull },
    { 2049, 12, 31, 23, 59, 59, CL_OK, 2524607999ull },
    { 2100, 3, 1, 0, 0, 0, CL_OK, 4107542400ull },
    { 2106, 2, 7, 6, 28, 16, CL_OK, 4294967296ull },
    { 9999, 12, 31, 23, 59, 59, CL_OK, 253402300799ull },
    { 1969, 12, 31, 23, 59, 59, CL_ERR_ARG, 0 },
    { 10000, 1, 1, 0, 0, 0, CL_ERR_ARG, 0 },
    { 2023, 2, 29, 0, 0, 0, CL_ERR_ARG, 0 },
    { 2100, 2, 29, 0, 0, 0, CL_ERR_ARG, 0 },
    { 2024, 4, 31, 0, 0, 0, CL_ERR_ARG, 0 },
    { 2024, 0, 1, 0, 0, 0, CL_ERR_ARG, 0 },
    { 2024, 13, 1, 0, 0, 0, CL_ERR_ARG, 0 },
    { 2024, 1, 0, 0, 0, 0, CL_ERR_ARG, 0 },
    { 2024, 1, 1, 24, 0, 0, CL_ERR_ARG, 0 },
    { 2024, 1, 1, 0, 60, 0, CL_ERR_ARG, 0 },
    { 2024, 1, 1, 0, 0, 60, CL_ERR_ARG, 0 },
    /* an ordinary leap year's 29 February; every month's last day, and the day after */
    { 2024, 2, 29, 0, 0, 0, CL_OK, 1709164800ull },
    { 2022, 2, 29, 0, 0, 0, CL_ERR_ARG, 0 },
    { 2023, 1, 31, 23, 59, 59, CL_OK, 1675209599ull },
    { 2023, 1, 32, 0, 0, 0, CL_ERR_ARG, 0 },
    { 2023, 2, 28, 23, 59, 59, CL_OK, 1677628799ull },
    { 2023, 2, 29, 0, 0, 0, CL_ERR_ARG, 0 },
    { 2023, 3, 31, 23, 59, 59, CL_OK, 1680307199ull },
    { 2023, 3, 32, 0, 0, 0, CL_ERR_ARG, 0 },
    { 2023, 4, 30, 23, 59, 59, CL_OK, 1682899199ull },
    { 2023, 4, 31, 0, 0, 0, CL_ERR_ARG, 0 },
    { 2023, 5, 31, 23, 59, 59, CL_OK, 1685577599ull },
    { 2023, 5, 32, 0, 0, 0, CL_ERR_ARG, 0 },
    { 2023, 6, 30, 23, 59, 59, CL_OK, 1688169599ull },
    { 2023, 6, 31, 0, 0, 0, CL_ERR_ARG, 0 },
    { 2023, 7, 31, 23, 59, 59, CL_OK, 1690847999ull },
    { 2023, 7, 32, 0, 0, 0, CL_ERR_ARG, 0 },
    { 2023, 8, 31, 23, 59, 59, CL_OK, 1693526399ull },
    { 2023, 8, 32, 0, 0, 0, CL_ERR_ARG, 0 },
    { 2023, 9, 30, 23, 59, 59, CL_OK, 1696118399ull },
    { 2023, 9, 31, 0, 0, 0, CL_ERR_ARG, 0 },
    { 2023, 10, 31, 23, 59, 59, CL_OK, 1698796799ull },
    { 2023, 10, 32, 0, 0, 0, CL_ERR_ARG, 0 },
    { 2023, 11, 30, 23, 59, 59, CL_OK, 1701388799ull },
    { 2023, 11, 31, 0, 0, 0, CL_ERR_ARG, 0 },
    { 2023, 12, 31, 23, 59, 59, CL_OK, 1704067199ull },
    { 2023, 12, 32, 0, 0, 0, CL_ERR_ARG, 0 },
};

START_TEST(test_time)
{
    uint64_t t = 12345;
    int rc = cl_cert_time_from_civil(time_cases[_i].y, time_cases[_i].mo, time_cases[_i].d,
                                     time_cases[_i].h, time_cases[_i].mi, time_cases[_i].s, &t);

    ck_assert_int_eq(rc, time_cases[_i].rc);
    if (rc == CL_OK)
        ck_assert_uint_eq(t, time_cases[_i].t);
    ck_assert_int_eq(cl_cert_time_from_civil(2024, 1, 1, 0, 0, 0, NULL), CL_ERR_ARG);
}
END_TEST

START_TEST(test_empty_context)
{
    struct cl_cert c;
    char text[8];
    uint8_t fp[CL_CERT_FINGERPRINT_LEN];

    cl_cert_init(&c);
    ck_assert_uint_eq(cl_cert_count(&c), 0);
    ck_assert_uint_eq(cl_cert_count(NULL), 0);
    ck_assert(!cl_cert_is_validated(&c));
    ck_assert(!cl_cert_is_validated(NULL));
    ck_assert_int_eq(cl_cert_key_kind(&c, 0), CL_CERT_KEY_NONE);
    ck_assert_int_eq(cl_cert_fingerprint(&c, 0, fp), CL_ERR_NOT_FOUND);
    ck_assert_int_eq(cl_cert_subject(&c, 0, text, sizeof(text)), CL_ERR_NOT_FOUND);
    ck_assert_int_eq(cl_cert_serial(&c, 0, text, sizeof(text)), CL_ERR_NOT_FOUND);
    ck_assert_int_eq(cl_cert_serial(NULL, 0, text, sizeof(text)), CL_ERR_ARG);
    ck_assert_int_eq(cl_cert_subject(NULL, 0, text, sizeof(text)), CL_ERR_ARG);
    cl_cert_free(&c);
    cl_cert_free(&c);   /* twice is fine */
}
END_TEST

static Suite *cert_suite(void)
{
    Suite *s = suite_create("cert");
    TCase *tc = tcase_create("hash-time");

    tcase_add_loop_test(tc, test_sha256_vectors, 0, (int)CL_ARRAY_LEN(sha_cases));
    tcase_add_test(tc, test_sha256_million);
    tcase_add_test(tc, test_sha256_errors);
    tcase_add_loop_test(tc, test_time, 0, (int)CL_ARRAY_LEN(time_cases));
    tcase_add_test(tc, test_empty_context);
    suite_add_tcase(s, tc);

    if (pki_tool != NULL) {
        tc = tcase_create("pki");
        tcase_add_unchecked_fixture(tc, fixture_setup, fixture_teardown);
        tcase_add_loop_test(tc, test_chain_cases, 0, (int)CL_ARRAY_LEN(chain_cases));
        tcase_add_loop_test(tc, test_chain_openssl, 0, (int)CL_ARRAY_LEN(chain_cases));
        tcase_add_test(tc, test_valid_until);
        tcase_add_loop_test(tc, test_roles, 0, (int)CL_ARRAY_LEN(role_cases) * 5);
        tcase_add_loop_test(tc, test_leaf_shapes, 0, (int)CL_ARRAY_LEN(leaf_shapes));
        tcase_add_loop_test(tc, test_text_shapes, 0, (int)CL_ARRAY_LEN(text_shapes));
        tcase_add_loop_test(tc, test_pss_mgf1, 0, 2);
        tcase_add_loop_test(tc, test_forged_under_root, 0, 2);
        tcase_add_loop_test(tc, test_other_curves, 0, 3);
        tcase_add_loop_test(tc, test_sha1_anchor, 0, 2);
        tcase_add_loop_test(tc, test_rsa_bits, 0, (int)CL_ARRAY_LEN(rsa_cases));
        tcase_add_test(tc, test_chain_failure_keeps_certs);
        tcase_add_test(tc, test_chain_errors);
        tcase_add_loop_test(tc, test_parse_cases, 0, (int)CL_ARRAY_LEN(parse_cases));
        tcase_add_loop_test(tc, test_names, 0, (int)CL_ARRAY_LEN(name_cases));
        tcase_add_test(tc, test_subject_exact);
        tcase_add_loop_test(tc, test_sig_ecdsa, 0, (int)CL_ARRAY_LEN(ec_cases));
        tcase_add_test(tc, test_sig_rsa);
        tcase_add_test(tc, test_sig_message);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        pki_tool = argv[1];
    else
        fprintf(stderr, "no cardlink-pki given: the PKI tests are skipped\n");
    return cl_test_run(cert_suite());
}
