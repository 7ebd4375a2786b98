/*
 * cardlink — the card applet against the project's test PKI: a card
 * personalised by cardlink-perso from cardlink-pki's keys and
 * certificates (the authentication key card.key.der / card.der, the
 * signing key card-sign.key.der / card-sign.der); both chains read back
 * with SELECT/READ BINARY validate with lib/cert for their roles; INTERNAL
 * AUTHENTICATE signatures verify with card.der over SHA-256("CLIA" ||
 * serial || challenge) and PSO signatures with card-sign.der, and neither
 * can stand for the other (issue 10, finding 1, replayed with lib/txn's
 * to-be-signed bytes); the issuer key's credits are accepted.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Environment: CL_PKI_TOOL (cardlink-pki), CL_PERSO_TOOL (cardlink-perso).
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardlink/applet.h"
#include "cardlink/cert.h"
#include "cardlink/error.h"
#include "cardlink/txn.h"
#include "applet_crypto.h"
#include "test_util.h"

static char dir[64];
static struct cl_posix_crypto pc;
static struct cl_applet_crypto port;
static struct cl_applet_state st;
static struct cl_applet ap;
static uint8_t rbuf[1100];
static size_t rlen;
static struct cl_cert auth_cert, sign_cert;

static size_t slurp(const char *name, uint8_t *buf, size_t max)
{
    char path[128];
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s", path);
    n = fread(buf, 1, max, f);
    fclose(f);
    ck_assert_uint_lt(n, max);
    return n;
}

static unsigned tx_bytes(const uint8_t *cmd, size_t n)
{
    size_t len = 0;
    ck_assert_int_eq(cl_applet_process(&ap, cmd, n, rbuf, sizeof(rbuf), &len),
                     CL_OK);
    rlen = len - 2;
    return (unsigned)rbuf[len - 2] << 8 | rbuf[len - 1];
}

static unsigned tx(const char *hex)
{
    uint8_t cmd[300];
    int n = cl_test_hex(hex, cmd, sizeof(cmd));
    ck_assert_int_ge(n, 0);
    return tx_bytes(cmd, (size_t)n);
}

static void setup(void)
{
    const char *pki = getenv("CL_PKI_TOOL"), *perso = getenv("CL_PERSO_TOOL");
    char cmd[1024];
    static uint8_t img[CL_APPLET_IMAGE_MAX];
    size_t n;

    ck_assert_msg(pki && perso, "CL_PKI_TOOL and CL_PERSO_TOOL must be set");
    strcpy(dir, "/tmp/cl-applet-pki-XXXXXX");
    ck_assert(mkdtemp(dir) != NULL);
    snprintf(cmd, sizeof(cmd), "'%s' testpki %s > /dev/null", pki, dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(cmd, sizeof(cmd),
             "'%s' --out %s/card.img --card-key %s/card.key.der "
             "--card-cert %s/card.der --sign-key %s/card-sign.key.der "
             "--sign-cert %s/card-sign.der --issuer-cert %s/issuer.der "
             "--root-cert %s/root.der --issuer-pub %s/issuer.der "
             "--balance 2500 --max 100000 --pin 2468 > /dev/null",
             perso, dir, dir, dir, dir, dir, dir, dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    n = slurp("card.img", img, sizeof(img));
    ck_assert_int_eq(cl_applet_state_load(&st, img, n), CL_OK);
    ck_assert_int_eq(cl_posix_crypto_init(&pc, &port, NULL, 0), CL_OK);
    ck_assert_int_eq(cl_applet_init(&ap, &st, &port, NULL), CL_OK);
    cl_cert_init(&auth_cert);
    cl_cert_init(&sign_cert);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    cl_cert_free(&auth_cert);
    cl_cert_free(&sign_cert);
    cl_posix_crypto_free(&pc);
}

/* Read a whole EF by SFI with short READ BINARY commands. */
static size_t read_ef(unsigned fid, uint8_t *out, size_t max)
{
    uint8_t sel[7] = {0x00, 0xA4, 0x02, 0x0C, 0x02, (uint8_t)(fid >> 8),
                      (uint8_t)fid};
    size_t off = 0;

    ck_assert_uint_eq(tx_bytes(sel, sizeof(sel)), 0x9000);
    for (;;) {
        uint8_t rb[5] = {0x00, 0xB0, (uint8_t)(off >> 8), (uint8_t)off, 0x00};
        unsigned sw = tx_bytes(rb, sizeof(rb));
        if (sw == 0x6B00)
            break;
        ck_assert_uint_eq(sw, 0x9000);
        ck_assert_uint_le(off + rlen, max);
        memcpy(out + off, rbuf, rlen);
        off += rlen;
        if (rlen < 256)
            break;
    }
    return off;
}


static void validate_chain(struct cl_cert *c, unsigned fid, const char *file,
                           enum cl_cert_role role)
{
    static uint8_t leaf[2048], issuer[2048], root[2048], disk[2048];
    struct cl_cert_der chain[2], roots[1];
    uint64_t now = 0;
    size_t n, depth = 99;

    chain[0].len = read_ef(fid, leaf, sizeof(leaf));
    chain[1].len = read_ef(CL_APPLET_FID_ISSUER_CERT, issuer, sizeof(issuer));
    roots[0].len = read_ef(CL_APPLET_FID_ROOT_CERT, root, sizeof(root));
    chain[0].der = leaf;
    chain[1].der = issuer;
    roots[0].der = root;
    n = slurp(file, disk, sizeof(disk));
    ck_assert_uint_eq(n, chain[0].len);
    ck_assert_mem_eq(disk, leaf, n);
    n = slurp("root.der", disk, sizeof(disk));
    ck_assert_uint_eq(n, roots[0].len);
    ck_assert_mem_eq(disk, root, n);
    ck_assert_int_eq(cl_cert_time_from_civil(2024, 1, 11, 0, 0, 0, &now),
                     CL_OK);
    cl_cert_free(c);
    cl_cert_init(c);
    ck_assert_int_eq(cl_cert_verify_chain(c, chain, 2, roots, 1, now, role,
                                          &depth), CL_OK);
}

static void validate_both(void)
{
    validate_chain(&auth_cert, CL_APPLET_FID_CARD_CERT, "card.der",
                   CL_CERT_ROLE_CARD_AUTH);
    validate_chain(&sign_cert, CL_APPLET_FID_SIGN_CERT, "card-sign.der",
                   CL_CERT_ROLE_CARD_SIGN);
}

/* INTERNAL AUTHENTICATE over challenge[0..n): the SW; the signature in
 * rbuf[0..rlen). */
static unsigned internal_auth(const uint8_t *chal, size_t n)
{
    uint8_t cmd[5 + 256 + 1];
    ck_assert_uint_le(n, 255);
    cmd[0] = 0x00; cmd[1] = 0x88; cmd[2] = 0; cmd[3] = 0;
    cmd[4] = (uint8_t)n;
    memcpy(cmd + 5, chal, n);
    cmd[5 + n] = 0;
    return tx_bytes(cmd, 6 + n);
}

/* Verify rbuf's signature over message m[0..n) with c. */
static int verify_msg(const struct cl_cert *c, const uint8_t *m, size_t n)
{
    return cl_cert_verify_message(c, CL_CERT_SIG_ECDSA, CL_CERT_HASH_SHA256,
                                  m, n, rbuf, rlen);
}

static int verify_dg(const struct cl_cert *c, const uint8_t digest[32])
{
    return cl_cert_verify_digest(c, CL_CERT_SIG_ECDSA, CL_CERT_HASH_SHA256,
                                 digest, 32, rbuf, rlen);
}

/* PSO over digest after the PIN 2468: the SW. */
static unsigned pso(const uint8_t digest[32])
{
    uint8_t cmd[38];
    memcpy(cmd, "\x00\x2A\x9E\x9A\x20", 5);
    memcpy(cmd + 5, digest, 32);
    cmd[37] = 0;
    return tx_bytes(cmd, sizeof(cmd));
}

#define PIN_2468 "00 20 00 80 08 24 24 68 FF FF FF FF FF"

START_TEST(test_chain_and_internal_auth)
{
    static const uint8_t chal[16] = "cardlink-chal-01";
    uint8_t msg[4 + 8 + 16];

    validate_both();
    ck_assert_uint_eq(tx("00 88 00 00 10 63 61 72 64 6C 69 6E 6B 2D 63 68 "
                         "61 6C 2D 30 31 00"), 0x9000);
    memcpy(msg, "CLIA", 4);
    memcpy(msg + 4, st.serial, 8);
    memcpy(msg + 12, chal, 16);
    ck_assert_int_eq(verify_msg(&auth_cert, msg, sizeof(msg)), CL_OK);
    /* Not the challenge's own digest, not another challenge, not the
     * signing key. */
    ck_assert_int_eq(verify_msg(&auth_cert, chal, sizeof(chal)),
                     CL_ERR_SIGNATURE);
    msg[sizeof(msg) - 1] ^= 1;
    ck_assert_int_eq(verify_msg(&auth_cert, msg, sizeof(msg)),
                     CL_ERR_SIGNATURE);
    msg[sizeof(msg) - 1] ^= 1;
    ck_assert_int_eq(verify_msg(&sign_cert, msg, sizeof(msg)),
                     CL_ERR_SIGNATURE);
    /* The two certificates certify two different keys. */
    ck_assert(memcmp(st.pub, st.sign_pub, 65) != 0);
}
END_TEST

START_TEST(test_pso_with_cert)
{
    uint8_t digest[32];
    size_t i;

    validate_both();
    for (i = 0; i < 32; i++)
        digest[i] = (uint8_t)(i * 11u);
    ck_assert_uint_eq(tx(PIN_2468), 0x9000);
    ck_assert_uint_eq(pso(digest), 0x9000);
    ck_assert_int_eq(verify_dg(&sign_cert, digest), CL_OK);
    ck_assert_int_eq(verify_dg(&auth_cert, digest), CL_ERR_SIGNATURE);
    ck_assert_uint_eq(pso(digest), 0x6982);
}
END_TEST

/* The transaction of issue 10: EUR 9999.99 to "Evil Corp", which the
 * holder never saw, with the server's challenge. */
static void evil_txn(struct cl_txn *t)
{
    static const uint8_t chal[8] = {0x11, 0x22, 0x33, 0x44,
                                    0x55, 0x66, 0x77, 0x88};
    memset(t, 0, sizeof(*t));
    memset(t->id, 0xE7, sizeof(t->id));
    t->kind = CL_TXN_PURCHASE;
    t->has_amount = true;
    t->amount = 999999;
    t->currency = 978;
    t->exponent = 2;
    t->time.year = 2024;
    t->time.month = 1;
    t->time.day = 11;
    t->time.hour = 12;
    strcpy(t->merchant, "Evil Corp");
    t->challenge_len = sizeof(chal);
    memcpy(t->challenge, chal, sizeof(chal));
}

/*
 * Finding 1 replayed: INTERNAL AUTHENTICATE (no PIN) over the bytes of a
 * transaction's cl_txn_tbs, and over its digest itself: refused when too
 * long (6700, nothing signed); when signed, the signature verifies as a
 * transaction approval under neither certificate over cl_txn_digest.
 */
START_TEST(test_attack_auth_txn)
{
    static uint8_t tbs[CL_TXN_TBS_MAX];
    struct cl_txn t;
    uint8_t digest[32];
    size_t len = 0, cut;

    validate_both();
    evil_txn(&t);
    ck_assert_int_eq(cl_txn_tbs(&t, NULL, 0, tbs, sizeof(tbs), &len), CL_OK);
    ck_assert_int_eq(cl_txn_digest(&t, NULL, 0, digest), CL_OK);
    /* The whole to-be-signed bytes. */
    if (len > CL_APPLET_AUTH_CHALLENGE_MAX) {
        ck_assert_uint_eq(internal_auth(tbs, len), 0x6700);
        ck_assert_uint_eq(rlen, 0);
    } else {
        ck_assert_uint_eq(internal_auth(tbs, len), 0x9000);
        ck_assert_int_eq(verify_dg(&auth_cert, digest), CL_ERR_SIGNATURE);
        ck_assert_int_eq(verify_dg(&sign_cert, digest), CL_ERR_SIGNATURE);
    }
    /* Prefixes the card accepts, and the digest itself. */
    for (cut = CL_APPLET_AUTH_CHALLENGE_MIN;
         cut <= CL_APPLET_AUTH_CHALLENGE_MAX && cut <= len; cut += 11) {
        ck_assert_uint_eq(internal_auth(tbs, cut), 0x9000);
        ck_assert_int_eq(verify_dg(&auth_cert, digest), CL_ERR_SIGNATURE);
        ck_assert_int_eq(verify_dg(&sign_cert, digest), CL_ERR_SIGNATURE);
    }
    ck_assert_uint_eq(internal_auth(digest, sizeof(digest)), 0x9000);
    ck_assert_int_eq(verify_dg(&auth_cert, digest), CL_ERR_SIGNATURE);
    ck_assert_int_eq(verify_dg(&sign_cert, digest), CL_ERR_SIGNATURE);
    /* Nothing was verified or spent on the way. */
    ck_assert_uint_eq(tx("00 20 00 80"), 0x63C3);
    /* The real approval: the signing key after the PIN, and only that. */
    ck_assert_uint_eq(tx(PIN_2468), 0x9000);
    ck_assert_uint_eq(pso(digest), 0x9000);
    ck_assert_int_eq(verify_dg(&sign_cert, digest), CL_OK);
    ck_assert_int_eq(verify_dg(&auth_cert, digest), CL_ERR_SIGNATURE);
}
END_TEST

/* Finding 1, the receipt forgery: PSO over SHA-256 of a CLRD message does
 * not verify under the authentication certificate, which is the one that
 * signs receipts; a real debit's receipt does, and names the payee. */
START_TEST(test_attack_pso_receipt)
{
    uint8_t msg[56], cmd[64], h[32];
    static const uint8_t id[16] = "txn-0000-0000-01";
    static const uint8_t payee[16] = "Demo Shop\0\0\0\0\0\0";

    validate_both();
    memcpy(msg, "CLRD", 4);
    memcpy(msg + 4, st.serial, 8);
    /* amount 1000, balance 1500, counter 1 */
    memcpy(msg + 12, "\x00\x00\x03\xE8\x00\x00\x05\xDC\x00\x00\x00\x01", 12);
    memcpy(msg + 24, id, 16);
    memcpy(msg + 40, payee, 16);
    ck_assert_int_eq(cl_posix_crypto_sha256(NULL, msg, sizeof(msg), h), CL_OK);
    ck_assert_uint_eq(tx(PIN_2468), 0x9000);
    ck_assert_uint_eq(pso(h), 0x9000);
    ck_assert_int_eq(verify_msg(&auth_cert, msg, sizeof(msg)),
                     CL_ERR_SIGNATURE);
    ck_assert_uint_eq(st.balance, 2500);
    /* A real debit of 1000 at counter 0 to that payee. */
    ck_assert_uint_eq(tx(PIN_2468), 0x9000);
    memcpy(cmd, "\x80\x54\x00\x00\x28\x00\x00\x03\xE8\x00\x00\x00\x00", 13);
    memcpy(cmd + 13, id, 16);
    memcpy(cmd + 29, payee, 16);
    cmd[45] = 0;
    ck_assert_uint_eq(tx_bytes(cmd, 46), 0x9000);
    ck_assert_uint_gt(rlen, 8);
    memmove(rbuf, rbuf + 8, rlen - 8);
    rlen -= 8;
    ck_assert_int_eq(verify_msg(&auth_cert, msg, sizeof(msg)), CL_OK);
    ck_assert_int_eq(verify_msg(&sign_cert, msg, sizeof(msg)),
                     CL_ERR_SIGNATURE);
    ck_assert_uint_eq(st.balance, 1500);
    ck_assert_uint_eq(tx_bytes(cmd, 46), 0x6982);   /* PIN used up */
}
END_TEST

/* cardlink-perso --credit builds what the card accepts from the issuer;
 * the same with another key is refused. */
static unsigned credit_via_tool(const char *key)
{
    char cmd[1024], line[512];
    uint8_t apdu[256];
    FILE *p;
    int n;

    snprintf(cmd, sizeof(cmd),
             "'%s' --credit 750 --image %s/card.img --issuer-key %s/%s "
             "--txid 3F2A910C5BE847D2A6137C09E4B568F1 2>/dev/null",
             getenv("CL_PERSO_TOOL"), dir, dir, key);
    p = popen(cmd, "r");
    ck_assert(p != NULL);
    ck_assert(fgets(line, sizeof(line), p) != NULL);
    pclose(p);
    line[strcspn(line, "\n")] = '\0';
    n = cl_test_hex(line, apdu, sizeof(apdu));
    ck_assert_int_gt(n, 29);
    return tx_bytes(apdu, (size_t)n);
}

START_TEST(test_issuer_credit)
{
    ck_assert_uint_eq(credit_via_tool("card.key.der"), 0x6300);
    ck_assert_uint_eq(credit_via_tool("issuer.key.der"), 0x9000);
    ck_assert_uint_eq(st.balance, 3250);
    ck_assert_uint_eq(st.counter, 1);
    /* The same command again: replayed (the image on disk is older). */
    ck_assert_uint_eq(credit_via_tool("issuer.key.der"), 0x6985);
}
END_TEST

START_TEST(test_perso_show)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "'%s' --show %s/card.img > /dev/null",
             getenv("CL_PERSO_TOOL"), dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(cmd, sizeof(cmd),
             "'%s' --out %s/x.img --card-key %s/card.key.der "
             "--card-cert %s/server.der 2>/dev/null", getenv("CL_PERSO_TOOL"),
             dir, dir, dir);
    ck_assert_int_ne(system(cmd), 0);   /* not the card key's certificate */
    snprintf(cmd, sizeof(cmd),
             "'%s' --out %s/x.img --card-key %s/card.key.der "
             "--sign-key %s/card-sign.key.der --sign-cert %s/card.der "
             "2>/dev/null", getenv("CL_PERSO_TOOL"), dir, dir, dir, dir);
    ck_assert_int_ne(system(cmd), 0);   /* not the signing key's */
    snprintf(cmd, sizeof(cmd),
             "'%s' --out %s/x.img --card-key %s/card.key.der "
             "--sign-key %s/card.key.der 2>/dev/null", getenv("CL_PERSO_TOOL"),
             dir, dir, dir);
    ck_assert_int_ne(system(cmd), 0);   /* one key for both roles */
    snprintf(cmd, sizeof(cmd), "'%s' --out %s/x.img --gen-key > /dev/null "
             "2>&1 && '%s' --show %s/x.img | grep -q '^sign key    04'",
             getenv("CL_PERSO_TOOL"), dir, getenv("CL_PERSO_TOOL"), dir);
    ck_assert_int_eq(system(cmd), 0);   /* --gen-key: both keys */
    ck_assert_uint_eq(st.cert_len[CL_APPLET_CERT_SIGN] > 0, 1);
    ck_assert_uint_eq(st.pin_tries, 3);
    ck_assert_uint_eq(st.balance, 2500);
    ck_assert_uint_eq(st.currency, 978);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("applet_pki");
    TCase *tc = tcase_create("pki");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_chain_and_internal_auth);
    tcase_add_test(tc, test_pso_with_cert);
    tcase_add_test(tc, test_attack_auth_txn);
    tcase_add_test(tc, test_attack_pso_receipt);
    tcase_add_test(tc, test_issuer_credit);
    tcase_add_test(tc, test_perso_show);
    suite_add_tcase(s, tc);
    return cl_test_run(s);
}
