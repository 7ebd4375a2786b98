/*
 * cardlink — the card applet against the project's test PKI: a card
 * personalised by cardlink-perso from cardlink-pki's keys and
 * certificates; its chain read back with SELECT/READ BINARY validates with
 * lib/cert, and its INTERNAL AUTHENTICATE and PSO signatures verify with
 * the card certificate (lib/cert); the issuer key's credits are accepted.
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
#include "applet_crypto.h"
#include "test_util.h"

static char dir[64];
static struct cl_posix_crypto pc;
static struct cl_applet_crypto port;
static struct cl_applet_state st;
static struct cl_applet ap;
static uint8_t rbuf[1100];
static size_t rlen;

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
             "--card-cert %s/card.der --issuer-cert %s/issuer.der "
             "--root-cert %s/root.der --issuer-pub %s/issuer.der "
             "--balance 2500 --max 100000 --pin 2468 > /dev/null",
             perso, dir, dir, dir, dir, dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    n = slurp("card.img", img, sizeof(img));
    ck_assert_int_eq(cl_applet_state_load(&st, img, n), CL_OK);
    ck_assert_int_eq(cl_posix_crypto_init(&pc, &port, NULL, 0), CL_OK);
    ck_assert_int_eq(cl_applet_init(&ap, &st, &port, NULL), CL_OK);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
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

static struct cl_cert chain_cert;

static void validate_chain(void)
{
    static uint8_t card[2048], issuer[2048], root[2048], file[2048];
    struct cl_cert_der chain[2], roots[1];
    uint64_t now = 0;
    size_t n, depth = 99;

    chain[0].len = read_ef(CL_APPLET_FID_CARD_CERT, card, sizeof(card));
    chain[1].len = read_ef(CL_APPLET_FID_ISSUER_CERT, issuer, sizeof(issuer));
    roots[0].len = read_ef(CL_APPLET_FID_ROOT_CERT, root, sizeof(root));
    chain[0].der = card;
    chain[1].der = issuer;
    roots[0].der = root;
    n = slurp("card.der", file, sizeof(file));
    ck_assert_uint_eq(n, chain[0].len);
    ck_assert_mem_eq(file, card, n);
    n = slurp("root.der", file, sizeof(file));
    ck_assert_uint_eq(n, roots[0].len);
    ck_assert_mem_eq(file, root, n);
    ck_assert_int_eq(cl_cert_time_from_civil(2024, 1, 11, 0, 0, 0, &now),
                     CL_OK);
    cl_cert_init(&chain_cert);
    ck_assert_int_eq(cl_cert_verify_chain(&chain_cert, chain, 2, roots, 1, now,
                                          CL_CERT_KU_DIGITAL_SIGNATURE,
                                          &depth), CL_OK);
}

START_TEST(test_chain_and_internal_auth)
{
    static const uint8_t chal[16] = "cardlink-chal-01";

    validate_chain();
    ck_assert_uint_eq(tx("00 88 00 00 10 63 61 72 64 6C 69 6E 6B 2D 63 68 "
                         "61 6C 2D 30 31 00"), 0x9000);
    ck_assert_int_eq(cl_cert_verify_message(&chain_cert, CL_CERT_SIG_ECDSA,
                                            CL_CERT_HASH_SHA256, chal,
                                            sizeof(chal), rbuf, rlen), CL_OK);
    ck_assert_int_eq(cl_cert_verify_message(&chain_cert, CL_CERT_SIG_ECDSA,
                                            CL_CERT_HASH_SHA256, chal, 15,
                                            rbuf, rlen), CL_ERR_SIGNATURE);
    cl_cert_free(&chain_cert);
}
END_TEST

START_TEST(test_pso_with_cert)
{
    uint8_t cmd[38], digest[32];
    size_t i;

    validate_chain();
    for (i = 0; i < 32; i++)
        digest[i] = (uint8_t)(i * 11u);
    ck_assert_uint_eq(tx("00 20 00 80 08 24 24 68 FF FF FF FF FF"), 0x9000);
    memcpy(cmd, "\x00\x2A\x9E\x9A\x20", 5);
    memcpy(cmd + 5, digest, 32);
    cmd[37] = 0;
    ck_assert_uint_eq(tx_bytes(cmd, sizeof(cmd)), 0x9000);
    ck_assert_int_eq(cl_cert_verify_digest(&chain_cert, CL_CERT_SIG_ECDSA,
                                           CL_CERT_HASH_SHA256, digest, 32,
                                           rbuf, rlen), CL_OK);
    ck_assert_uint_eq(tx_bytes(cmd, sizeof(cmd)), 0x6982);
    cl_cert_free(&chain_cert);
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
    tcase_add_test(tc, test_issuer_credit);
    tcase_add_test(tc, test_perso_show);
    suite_add_tcase(s, tc);
    return cl_test_run(s);
}
