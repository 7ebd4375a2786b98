/*
 * cardlink — the card applet, driven through its struct cl_cardapp
 * interface: command APDU bytes in, response bytes out, every status word
 * asserted (docs/applet.md).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/version.h>

#include "cardlink/applet.h"
#include "cardlink/edc.h"
#include "cardlink/error.h"
#include "applet_crypto.h"
#include "test_util.h"

/* ------------------------------------------------------------ fixture */

static struct cl_posix_crypto pc;
static struct cl_applet_crypto port;
static struct cl_applet_state st;
static struct cl_applet ap;
static struct cl_cardapp app;
static uint8_t issuer_priv[32], issuer_pub[65];
static uint8_t other_priv[32], other_pub[65];
static uint8_t card_cert[600], issuer_cert[300], root_cert[40];
static uint8_t sign_cert[100];

static uint8_t rbuf[1100];
static size_t rlen;

/* PIN 1234, PUK 12345678 as ISO 9564 format 2 blocks. */
#define PIN_OK "24 12 34 FF FF FF FF FF"
#define PIN_BAD "24 12 35 FF FF FF FF FF"
#define PIN_NEW "26 65 43 21 FF FF FF FF"
#define PUK_OK "28 12 34 56 78 FF FF FF"
#define PUK_BAD "28 12 34 56 79 FF FF FF"

static void setup(void)
{
    size_t i;
    uint8_t serial[8] = {1, 2, 3, 4, 5, 6, 7, 8};

    ck_assert_int_eq(cl_posix_crypto_init(&pc, &port, NULL, 0), CL_OK);
    cl_applet_state_init(&st);
    ck_assert_int_eq(cl_applet_state_set_pin(&st, false, "1234", 4, 3), CL_OK);
    ck_assert_int_eq(cl_applet_state_set_pin(&st, true, "12345678", 8, 10),
                     CL_OK);
    ck_assert_int_eq(cl_posix_crypto_keygen(&pc, st.priv, st.pub), CL_OK);
    ck_assert_int_eq(cl_posix_crypto_keygen(&pc, st.sign_priv, st.sign_pub),
                     CL_OK);
    ck_assert_int_eq(cl_posix_crypto_keygen(&pc, issuer_priv, issuer_pub),
                     CL_OK);
    ck_assert_int_eq(cl_posix_crypto_keygen(&pc, other_priv, other_pub), CL_OK);
    memcpy(st.issuer_pub, issuer_pub, 65);
    memcpy(st.serial, serial, 8);
    st.balance = 1000;
    st.balance_max = 100000;
    st.currency = 978;
    st.counter = 5;
    for (i = 0; i < sizeof(card_cert); i++)
        card_cert[i] = (uint8_t)(i * 3u + 1u);
    for (i = 0; i < sizeof(issuer_cert); i++)
        issuer_cert[i] = (uint8_t)(i ^ 0x5Au);
    for (i = 0; i < sizeof(root_cert); i++)
        root_cert[i] = (uint8_t)(0xC0u + i);
    for (i = 0; i < sizeof(sign_cert); i++)
        sign_cert[i] = (uint8_t)(0x77u ^ (i * 5u));
    ck_assert_int_eq(cl_applet_state_set_cert(&st, CL_APPLET_CERT_CARD,
                                              card_cert, sizeof(card_cert)),
                     CL_OK);
    ck_assert_int_eq(cl_applet_state_set_cert(&st, CL_APPLET_CERT_ISSUER,
                                              issuer_cert, sizeof(issuer_cert)),
                     CL_OK);
    ck_assert_int_eq(cl_applet_state_set_cert(&st, CL_APPLET_CERT_ROOT,
                                              root_cert, sizeof(root_cert)),
                     CL_OK);
    ck_assert_int_eq(cl_applet_state_set_cert(&st, CL_APPLET_CERT_SIGN,
                                              sign_cert, sizeof(sign_cert)),
                     CL_OK);
    ck_assert_int_eq(cl_applet_init(&ap, &st, &port, NULL), CL_OK);
    ck_assert_int_eq(cl_applet_app(&ap, &app), CL_OK);
}

static void teardown(void)
{
    cl_posix_crypto_free(&pc);
    cl_applet_state_wipe(&st);
}

/* Send the APDU spelled by hex; return the SW, data in rbuf[0..rlen). */
static unsigned tx_bytes(const uint8_t *cmd, size_t n)
{
    size_t len = 0;
    ck_assert_int_eq(app.process(app.ctx, cmd, n, rbuf, sizeof(rbuf), &len),
                     CL_OK);
    ck_assert_uint_ge(len, 2);
    rlen = len - 2;
    return (unsigned)rbuf[len - 2] << 8 | rbuf[len - 1];
}

static unsigned tx(const char *hex)
{
    uint8_t cmd[1100];
    int n = cl_test_hex(hex, cmd, sizeof(cmd));
    ck_assert_int_ge(n, 0);
    return tx_bytes(cmd, (size_t)n);
}

#define TX(hex, sw) ck_assert_uint_eq(tx(hex), (sw))

/* Verify a DER signature over digest with pub through mbedtls's pk layer
 * (independent of the port's own verify). */
static int pk_verify(const uint8_t pub[65], const uint8_t *digest,
                     size_t dlen, const uint8_t *sig, size_t slen)
{
    /* SubjectPublicKeyInfo for a P-256 point: fixed 26-byte prefix. */
    static const uint8_t spki_hdr[26] = {
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D,
        0x02, 0x01, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01,
        0x07, 0x03, 0x42, 0x00
    };
    uint8_t spki[91];
    mbedtls_pk_context pk;
    int rc;

    memcpy(spki, spki_hdr, 26);
    memcpy(spki + 26, pub, 65);
    mbedtls_pk_init(&pk);
    rc = mbedtls_pk_parse_public_key(&pk, spki, sizeof(spki));
    if (rc == 0)
        rc = mbedtls_pk_verify(&pk, dlen == 32 ? MBEDTLS_MD_SHA256
                                               : MBEDTLS_MD_SHA384,
                               digest, dlen, sig, slen);
    mbedtls_pk_free(&pk);
    return rc;
}

static void sha(const uint8_t *m, size_t n, uint8_t h[32])
{
    ck_assert_int_eq(cl_posix_crypto_sha256(NULL, m, n, h), CL_OK);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static const uint8_t txid1[16] = {0x3F, 0x2A, 0x91, 0x0C, 0x5B, 0xE8, 0x47,
                                  0xD2, 0xA6, 0x13, 0x7C, 0x09, 0xE4, 0xB5,
                                  0x68, 0xF1};

/* Build a CREDIT APDU signed with key (the issuer's, or another). */
static size_t credit_apdu(uint8_t *cmd, uint32_t amount, uint32_t counter,
                          const uint8_t id[16], const uint8_t *key)
{
    uint8_t msg[36], h[32], sig[72];
    size_t sl = 0, n;

    memcpy(msg, "CLCR", 4);
    memcpy(msg + 4, st.serial, 8);
    put32(msg + 12, amount);
    put32(msg + 16, counter);
    memcpy(msg + 20, id, 16);
    sha(msg, sizeof(msg), h);
    ck_assert_int_eq(cl_posix_crypto_sign(&pc, key, h, 32, sig, sizeof(sig),
                                          &sl), CL_OK);
    cmd[0] = 0x80; cmd[1] = 0x52; cmd[2] = 0; cmd[3] = 0;
    cmd[4] = (uint8_t)(24 + sl);
    memcpy(cmd + 5, msg + 12, 24);
    memcpy(cmd + 29, sig, sl);
    n = 29 + sl;
    cmd[n++] = 0x00;    /* Le */
    return n;
}

/* The payee as the device derives it from what it displayed: the first
 * 16 bytes of the display form, padded with 00. */
static const uint8_t payee1[16] = "Demo Shop\0\0\0\0\0\0";

static size_t debit_apdu(uint8_t *cmd, uint32_t amount, uint32_t counter,
                         const uint8_t id[16])
{
    cmd[0] = 0x80; cmd[1] = 0x54; cmd[2] = 0; cmd[3] = 0; cmd[4] = 40;
    put32(cmd + 5, amount);
    put32(cmd + 9, counter);
    memcpy(cmd + 13, id, 16);
    memcpy(cmd + 29, payee1, 16);
    cmd[45] = 0;
    return 46;
}

/* The receipt message the card signs (CLRC: 40 bytes; CLRD: 56 with the
 * payee); its length. */
static size_t receipt_msg(uint8_t msg[56], const char *tag, uint32_t amount,
                          uint32_t balance, uint32_t counter,
                          const uint8_t id[16])
{
    memcpy(msg, tag, 4);
    memcpy(msg + 4, st.serial, 8);
    put32(msg + 12, amount);
    put32(msg + 16, balance);
    put32(msg + 20, counter);
    memcpy(msg + 24, id, 16);
    if (memcmp(tag, "CLRD", 4) != 0)
        return 40;
    memcpy(msg + 40, payee1, 16);
    return 56;
}

/* Check a purse receipt in rbuf: new balance, new counter, signature by
 * the authentication key (never the signing key). */
static void check_receipt(const char *tag, uint32_t amount, uint32_t balance,
                          uint32_t counter, const uint8_t id[16])
{
    uint8_t msg[56], h[32];
    size_t len;

    ck_assert_uint_gt(rlen, 8);
    ck_assert_uint_eq(get32(rbuf), balance);
    ck_assert_uint_eq(get32(rbuf + 4), counter);
    len = receipt_msg(msg, tag, amount, balance, counter, id);
    sha(msg, len, h);
    ck_assert_int_eq(pk_verify(st.pub, h, 32, rbuf + 8, rlen - 8), 0);
    ck_assert_int_ne(pk_verify(st.sign_pub, h, 32, rbuf + 8, rlen - 8), 0);
}

/* ------------------------------------------------------- selection */

static const struct {
    const char *apdu, *resp;    /* resp: data then SW */
    const char *clause;
} select_vectors[] = {
    {"00 A4 04 0C 07 F0 43 4C 50 41 59 01", "90 00", "7816-4 §11.1.1"},
    {"00 A4 04 00 07 F0 43 4C 50 41 59 01 00",
     "6F 09 84 07 F0 43 4C 50 41 59 01 90 00", "FCI with DF name"},
    {"00 A4 04 04 07 F0 43 4C 50 41 59 01 00",
     "62 0F 82 01 38 84 07 F0 43 4C 50 41 59 01 8A 01 05 90 00", "FCP"},
    {"00 A4 04 0C 07 F0 43 4C 50 41 59 02", "6A 82", "other AID"},
    {"00 A4 04 0C 06 F0 43 4C 50 41 59", "6A 82", "partial AID"},
    {"00 A4 04 0C 03 F0 43 4C", "67 00", "AID shorter than 5"},
    {"00 A4 04 0C", "67 00", "no AID"},
    {"00 A4 04 08 07 F0 43 4C 50 41 59 01", "6A 86", "P2 08"},
    {"00 A4 08 0C 02 01 01", "90 00", "select by path from the MF"},
    {"00 A4 08 0C 04 3F 00 01 01", "90 00", "path with the MF's 3F00"},
    {"00 A4 09 0C 02 01 01", "90 00", "path from the current DF"},
    {"00 A4 08 0C 04 3F 00 01 05", "6A 82", "path to no EF"},
    {"00 A4 08 0C 06 3F 00 10 00 01 01", "67 00", "path deeper than the card"},
    {"00 A4 00 04 00", "62 0F 82 01 38 84 07 F0 43 4C 50 41 59 01 8A 01 05 90 00",
     "MF without data (TCOS): the applet's DF"},
    {"80 AA 02 00 00", "01 01 01 02 01 03 02 01 02 02 01 04 90 00",
     "LIST FILES (TCOS): the EFs present"},
    {"80 AA 01 00 00", "6A 82", "LIST FILES: no DF"},
    {"80 AA 03 00 00", "6A 86", "LIST FILES: P1"},
    {"00 A4 07 0C 02 01 01", "6A 86", "P1 07"},
    {"00 A4 02 0C 02 01 01", "90 00", "card certificate EF"},
    {"00 A4 00 04 02 01 01 00",
     "62 11 80 02 02 58 82 01 01 83 02 01 01 88 01 08 8A 01 05 90 00",
     "FCP of EF 0101 (600 bytes)"},
    {"00 A4 02 04 02 02 02 00",
     "62 15 80 02 01 AE 82 05 06 21 00 2B 0A 83 02 02 02 88 01 28 8A 01 05 "
     "90 00", "FCP of the cyclic EF 0202"},
    {"00 A4 02 04 02 01 04 00",
     "62 11 80 02 00 64 82 01 01 83 02 01 04 88 01 30 8A 01 05 90 00",
     "FCP of the signing certificate EF 0104 (100 bytes, SFI 6)"},
    {"00 A4 02 0C 02 01 05", "6A 82", "no such EF"},
    {"00 A4 02 0C 01 01", "67 00", "FID of one byte"},
    {"00 A4 00 0C 02 3F 00", "90 00", "MF"},
    {"00 A4 02 0C 02 3F 00", "6A 82", "MF is not an EF"},
};

START_TEST(test_select)
{
    tx(select_vectors[_i].apdu);
    cl_assert_bytes(rbuf, rlen + 2, select_vectors[_i].resp);
}
END_TEST

START_TEST(test_select_absent_cert)
{
    st.cert_len[CL_APPLET_CERT_ROOT] = 0;
    TX("00 A4 02 0C 02 01 03", 0x6A82);
    TX("00 B0 83 00 00", 0x6A82);
    TX("00 A4 02 0C 02 01 02", 0x9000);
    st.cert_len[CL_APPLET_CERT_SIGN] = 0;
    TX("00 A4 02 0C 02 01 04", 0x6A82);
    TX("00 B0 86 00 00", 0x6A82);
}
END_TEST

/* The signing certificate EF 0104: by FID and by SFI 6; a record command
 * finds a transparent file. */
START_TEST(test_sign_cert_ef)
{
    TX("00 A4 02 0C 02 01 04", 0x9000);
    TX("00 B0 00 00 00", 0x9000);
    ck_assert_uint_eq(rlen, sizeof(sign_cert));
    ck_assert_mem_eq(rbuf, sign_cert, sizeof(sign_cert));
    TX("00 B0 00 10 04", 0x9000);
    ck_assert_mem_eq(rbuf, sign_cert + 16, 4);
    TX("00 A4 00 0C 02 3F 00", 0x9000);
    TX("00 B0 86 60 10", 0x6282);               /* 4 bytes left */
    ck_assert_uint_eq(rlen, 4);
    ck_assert_mem_eq(rbuf, sign_cert + 96, 4);
    TX("00 B0 00 00 01", 0x9000);               /* SFI 6 is now current */
    ck_assert_uint_eq(rbuf[0], sign_cert[0]);
    TX("00 B2 01 34 00", 0x6981);               /* SFI 6: transparent */
    TX("00 E2 00 30 01 00", 0x6981);
    TX("00 B0 87 00 01", 0x6A82);               /* no SFI 7 */
}
END_TEST

/* READ BINARY after SELECT EF 0102 (300 bytes): offset, Le -> count, SW. */
static const struct {
    const char *apdu;
    size_t off, count;
    unsigned sw;
} read_vectors[] = {
    {"00 B0 00 00 10", 0, 16, 0x9000},
    {"00 B0 00 00 00", 0, 256, 0x9000},         /* Le 00: 256 */
    {"00 B0 01 00 00", 256, 44, 0x9000},        /* Le 00: up to 256 */
    {"00 B0 01 00 40", 256, 44, 0x6282},        /* EOF before Ne */
    {"00 B0 01 2B 05", 299, 1, 0x6282},
    {"00 B0 01 2C 01", 0, 0, 0x6B00},           /* offset = size */
    {"00 B0 7F FF 01", 0, 0, 0x6B00},
    {"00 B0 00 00 00 01 2C", 0, 300, 0x9000},   /* extended Le 300 */
    {"00 B0 00 00 00 00 00", 0, 300, 0x9000},   /* extended Le 65536 */
    {"00 B0 00 00 00 01 40", 0, 300, 0x6282},   /* extended Le 320 */
    {"00 B0 00 00", 0, 0, 0x6700},              /* case 1 */
    {"00 B0 00 00 01 00 10", 0, 0, 0x6700},     /* data */
    {"00 B0 82 00 04", 0, 4, 0x9000},           /* SFI 2, offset 0 */
    {"00 B0 82 FF 04", 255, 4, 0x9000},
    {"00 B0 A2 00 04", 0, 0, 0x6A86},           /* P1 b6 set */
    {"00 B0 84 00 04", 0, 0, 0x6981},           /* SFI 4: a record EF */
    {"00 B0 89 00 04", 0, 0, 0x6A82},           /* no SFI 9 */
};

START_TEST(test_read_binary)
{
    TX("00 A4 02 0C 02 01 02", 0x9000);
    ck_assert_uint_eq(tx(read_vectors[_i].apdu), read_vectors[_i].sw);
    ck_assert_uint_eq(rlen, read_vectors[_i].count);
    if (rlen > 0)
        ck_assert_mem_eq(rbuf, issuer_cert + read_vectors[_i].off, rlen);
}
END_TEST

START_TEST(test_read_binary_chunks)
{
    uint8_t all[600];
    size_t off = 0;
    unsigned sw;

    TX("00 B0 00 00 01", 0x6986);               /* no current EF */
    TX("00 A4 02 0C 02 02 01", 0x9000);
    TX("00 B0 00 00 01", 0x6981);               /* records */
    TX("00 A4 02 0C 02 01 01", 0x9000);
    do {
        uint8_t cmd[5] = {0x00, 0xB0, (uint8_t)(off >> 8), (uint8_t)off, 0};
        sw = tx_bytes(cmd, sizeof(cmd));
        ck_assert(sw == 0x9000);
        memcpy(all + off, rbuf, rlen);
        off += rlen;
    } while (rlen == 256);
    ck_assert_uint_eq(off, 600);
    ck_assert_mem_eq(all, card_cert, 600);
    /* The whole certificate at once with an extended Le. */
    TX("00 B0 81 00 00 00 00", 0x9000);
    ck_assert_uint_eq(rlen, 600);
    ck_assert_mem_eq(rbuf, card_cert, 600);
}
END_TEST

/* ------------------------------------------------------------ PIN */

START_TEST(test_pin_counter)
{
    TX("00 20 00 80", 0x63C3);
    TX("00 20 00 80 08 " PIN_BAD, 0x63C2);
    TX("00 20 00 80 08 " PIN_BAD, 0x63C1);
    TX("00 20 00 80", 0x63C1);
    TX("00 20 00 80 08 " PIN_BAD, 0x63C0);
    TX("00 20 00 80 08 " PIN_BAD, 0x6983);
    TX("00 20 00 80 08 " PIN_OK, 0x6983);       /* blocked: even correct */
    TX("00 20 00 80", 0x6983);
    ck_assert_uint_eq(st.pin_tries, 0);
    TX("00 2A 9E 9A 20 " "00000000000000000000000000000000"
       "00000000000000000000000000000000 00", 0x6982);
    /* PUK unblocks: the counter is back at 3, the PIN unchanged. */
    TX("00 2C 01 80 08 " PUK_OK, 0x9000);
    TX("00 20 00 80", 0x63C3);
    TX("00 20 00 80 08 " PIN_OK, 0x9000);
    TX("00 20 00 80", 0x9000);                  /* verified */
    /* A correct try restores the counter. */
    TX("00 20 00 80 08 " PIN_BAD, 0x63C2);
    TX("00 20 00 80", 0x63C2);                  /* a failure clears it */
    TX("00 20 00 80 08 " PIN_OK, 0x9000);
    ck_assert_uint_eq(st.pin_tries, 3);
}
END_TEST

START_TEST(test_pin_dirty)
{
    ck_assert(!cl_applet_take_dirty(&ap));
    TX("00 20 00 80", 0x63C3);                  /* no comparison */
    TX("00 20 00 80 08 14 12 34 FF FF FF FF FF", 0x6A80);
    ck_assert(!cl_applet_take_dirty(&ap));
    /* Every comparison passes the persist points, right or wrong. */
    TX("00 20 00 80 08 " PIN_OK, 0x9000);
    ck_assert(cl_applet_take_dirty(&ap));
    ck_assert(!cl_applet_take_dirty(&ap));
    TX("00 20 00 80 08 " PIN_BAD, 0x63C2);
    ck_assert(cl_applet_take_dirty(&ap));
    ck_assert(!cl_applet_take_dirty(&ap));
    TX("00 20 00 80 08 " PIN_OK, 0x9000);       /* restored */
    ck_assert(cl_applet_take_dirty(&ap));
    ck_assert(!cl_applet_take_dirty(NULL));
}
END_TEST

START_TEST(test_puk_blocked)
{
    unsigned i;
    for (i = 0; i < 10; i++)
        ck_assert_uint_eq(tx("00 2C 01 80 08 " PUK_BAD), 0x63C9u - i);
    TX("00 2C 01 80 08 " PUK_BAD, 0x6983);
    TX("00 2C 01 80 08 " PUK_OK, 0x6983);
    TX("00 2C 00 80 10 " PUK_OK PIN_NEW, 0x6983);
    ck_assert_uint_eq(st.puk_tries, 0);
    /* The PIN itself still works. */
    TX("00 20 00 80 08 " PIN_OK, 0x9000);
}
END_TEST

START_TEST(test_puk_new_pin)
{
    TX("00 2C 00 80 10 " PUK_BAD PIN_NEW, 0x63C9);
    TX("00 2C 00 80 10 " PUK_OK PIN_NEW, 0x9000);
    ck_assert_uint_eq(st.puk_tries, 10);        /* restored */
    TX("00 20 00 80", 0x63C3);                  /* not verified by 2C */
    TX("00 20 00 80 08 " PIN_OK, 0x63C2);       /* old PIN gone */
    TX("00 20 00 80 08 " PIN_NEW, 0x9000);
    /* Errors: P1, P2, lengths, malformed blocks (no try spent). */
    TX("00 2C 02 80 08 " PUK_OK, 0x6A86);
    TX("00 2C 01 81 08 " PUK_OK, 0x6A88);
    TX("00 2C 01 80 10 " PUK_OK PIN_NEW, 0x6700);
    TX("00 2C 00 80 08 " PUK_OK, 0x6700);
    TX("00 2C 01 80 08 38 12 34 56 78 FF FF FF", 0x6A80);
    TX("00 2C 00 80 10 " PUK_OK "2D 12 34 56 78 90 12 3F", 0x6A80);
    ck_assert_uint_eq(st.puk_tries, 10);
}
END_TEST

START_TEST(test_change_pin)
{
    TX("00 24 00 80 10 " PIN_BAD PIN_NEW, 0x63C2);
    TX("00 24 00 80 10 " PIN_OK PIN_NEW, 0x9000);
    ck_assert_uint_eq(st.pin_tries, 3);
    TX("00 20 00 80", 0x9000);                  /* verified by the change */
    TX("00 20 00 80 08 " PIN_OK, 0x63C2);
    TX("00 20 00 80 08 " PIN_NEW, 0x9000);
    TX("00 24 01 80 08 " PIN_NEW, 0x6A86);
    TX("00 24 00 81 10 " PIN_NEW PIN_OK, 0x6A88);
    TX("00 24 00 80 08 " PIN_NEW, 0x6700);
    TX("00 24 00 80 10 " PIN_NEW "2D 12 34 56 78 90 12 3F", 0x6A80);
    ck_assert_uint_eq(st.pin_tries, 3);
}
END_TEST

START_TEST(test_change_pin_blocked)
{
    st.pin_tries = 0;
    TX("00 24 00 80 10 " PIN_OK PIN_NEW, 0x6983);
}
END_TEST

/* VERIFY errors that cost no try. */
static const struct {
    const char *apdu;
    unsigned sw;
} verify_err[] = {
    {"00 20 01 80 08 " PIN_OK, 0x6A86},         /* P1 */
    {"00 20 00 81 08 " PIN_OK, 0x6A88},         /* other reference */
    {"00 20 00 80 07 24 12 34 FF FF FF FF", 0x6700},
    {"00 20 00 80 09 " PIN_OK " FF", 0x6700},
    {"00 20 00 80 08 14 12 34 FF FF FF FF FF", 0x6A80},  /* control 1 */
    {"00 20 00 80 08 23 12 34 FF FF FF FF FF", 0x6A80},  /* length 3 */
    {"00 20 00 80 08 2F 12 34 FF FF FF FF FF", 0x6A80},  /* length 15 */
    {"00 20 00 80 08 24 1A 34 FF FF FF FF FF", 0x6A80},  /* digit A */
    {"00 20 00 80 08 24 12 34 FE FF FF FF FF", 0x6A80},  /* fill E */
    {"00 20 00 80 08 24 12 3F FF FF FF FF FF", 0x6A80},  /* short */
    {"00 20 FF 80 01 00", 0x6700},              /* reset with data */
};

START_TEST(test_verify_errors)
{
    TX(verify_err[_i].apdu, verify_err[_i].sw);
    ck_assert_uint_eq(st.pin_tries, 3);
    TX("00 20 00 80", 0x63C3);
}
END_TEST

START_TEST(test_reset_clears_security)
{
    TX("00 20 00 80 08 " PIN_OK, 0x9000);
    TX("00 A4 02 0C 02 01 01", 0x9000);
    app.reset(app.ctx);
    TX("00 20 00 80", 0x63C3);
    TX("00 B0 00 00 01", 0x6986);               /* selection cleared too */
    TX("00 2A 9E 9A 20 " "00000000000000000000000000000000"
       "00000000000000000000000000000000 00", 0x6982);
    /* VERIFY P1 = FF resets the verified state too. */
    TX("00 20 00 80 08 " PIN_OK, 0x9000);
    TX("00 20 FF 80", 0x9000);
    TX("00 20 00 80", 0x63C3);
    cl_applet_reset(NULL);
}
END_TEST

/* ----------------------------------------------------- signatures */

START_TEST(test_pso)
{
    uint8_t cmd[64], digest[48];
    size_t i;

    for (i = 0; i < sizeof(digest); i++)
        digest[i] = (uint8_t)(0xA0u + i);
    cmd[0] = 0x00; cmd[1] = 0x2A; cmd[2] = 0x9E; cmd[3] = 0x9A; cmd[4] = 32;
    memcpy(cmd + 5, digest, 32);
    cmd[37] = 0x00;
    ck_assert_uint_eq(tx_bytes(cmd, 38), 0x6982);
    TX("00 20 00 80 08 " PIN_OK, 0x9000);
    ck_assert_uint_eq(tx_bytes(cmd, 37), 0x9000);   /* T=0: no Le */
    ck_assert_int_eq(pk_verify(st.sign_pub, digest, 32, rbuf, rlen), 0);
    ck_assert_int_ne(pk_verify(st.pub, digest, 32, rbuf, rlen), 0);
    ck_assert_uint_eq(tx_bytes(cmd, 38), 0x6982);   /* one-shot */
    TX("00 20 00 80", 0x63C3);
    /* SHA-384-sized digest. */
    TX("00 20 00 80 08 " PIN_OK, 0x9000);
    cmd[4] = 48;
    memcpy(cmd + 5, digest, 48);
    cmd[53] = 0;
    ck_assert_uint_eq(tx_bytes(cmd, 54), 0x9000);
    ck_assert_int_eq(pk_verify(st.sign_pub, digest, 48, rbuf, rlen), 0);
    /* Errors: no verification spent. */
    TX("00 20 00 80 08 " PIN_OK, 0x9000);
    TX("00 2A 9E 9B 02 01 02", 0x6A86);
    TX("00 2A 80 86 02 01 02", 0x6A86);
    TX("00 2A 9E 9A 02 01 02", 0x6700);
    TX("00 2A 9E 9A 00", 0x6700);
    TX("00 20 00 80", 0x9000);
    /* No signing key personalised: 6985, the verification not spent. */
    st.sign_pub[0] = 0;
    cmd[4] = 32;
    ck_assert_uint_eq(tx_bytes(cmd, 37), 0x6985);
    TX("00 20 00 80", 0x9000);
}
END_TEST

/* The message INTERNAL AUTHENTICATE signs: "CLIA" || serial || chal. */
static void auth_digest(const uint8_t *chal, size_t n, uint8_t h[32])
{
    uint8_t msg[4 + 8 + 96];
    ck_assert_uint_le(n, 96);
    memcpy(msg, "CLIA", 4);
    memcpy(msg + 4, st.serial, 8);
    memcpy(msg + 12, chal, n);
    sha(msg, 12 + n, h);
}

START_TEST(test_internal_auth)
{
    uint8_t h[32], cmd[5 + 97 + 1];
    const uint8_t chal[8] = {0xC4, 0x5D, 0x19, 0x7A, 0x0B, 0xE2, 0x68, 0xF3};
    size_t i;

    TX("00 88 00 00 08 C4 5D 19 7A 0B E2 68 F3 00", 0x9000);
    auth_digest(chal, sizeof(chal), h);
    ck_assert_int_eq(pk_verify(st.pub, h, 32, rbuf, rlen), 0);
    ck_assert_int_ne(pk_verify(st.sign_pub, h, 32, rbuf, rlen), 0);
    /* Not a signature over the challenge's own digest any more. */
    sha(chal, sizeof(chal), h);
    ck_assert_int_ne(pk_verify(st.pub, h, 32, rbuf, rlen), 0);
    TX("00 88 00 00 08 C4 5D 19 7A 0B E2 68 F3", 0x9000);  /* T=0 case 3 */
    auth_digest(chal, sizeof(chal), h);
    ck_assert_int_eq(pk_verify(st.pub, h, 32, rbuf, rlen), 0);
    TX("00 20 00 80", 0x63C3);                  /* no PIN needed or spent */
    TX("00 20 00 80 08 " PIN_OK, 0x9000);
    TX("00 88 00 00 08 C4 5D 19 7A 0B E2 68 F3", 0x9000);
    TX("00 20 00 80", 0x9000);                  /* ... nor used up */
    /* Challenge 8..96 bytes. */
    cmd[0] = 0x00; cmd[1] = 0x88; cmd[2] = 0; cmd[3] = 0;
    for (i = 0; i < 97; i++)
        cmd[5 + i] = (uint8_t)(i * 7u);
    cmd[4] = 96;
    ck_assert_uint_eq(tx_bytes(cmd, 5 + 96), 0x9000);
    auth_digest(cmd + 5, 96, h);
    ck_assert_int_eq(pk_verify(st.pub, h, 32, rbuf, rlen), 0);
    cmd[4] = 97;
    ck_assert_uint_eq(tx_bytes(cmd, 5 + 97), 0x6700);
    ck_assert_uint_eq(rlen, 0);
    cmd[4] = 7;
    ck_assert_uint_eq(tx_bytes(cmd, 5 + 7), 0x6700);
    TX("00 88 00 00", 0x6700);
    TX("00 88 00 00 00", 0x6700);
    TX("00 88 00 00 01 00", 0x6700);
    TX("00 88 00 01 08 0001020304050607", 0x6A86);
    TX("00 88 01 00 08 0001020304050607", 0x6A86);
}
END_TEST

/* ----------------------------------------------------------- purse */

START_TEST(test_balance)
{
    TX("80 5C 00 00 00", 0x9000);
    cl_assert_bytes(rbuf, rlen, "00 00 03 E8 03 D2 00 00 00 05 "
                                "01 02 03 04 05 06 07 08");
    TX("80 5C 00 00", 0x9000);
    TX("80 5C 01 00 00", 0x6A86);
    TX("80 5C 00 00 01 00", 0x6700);
    TX("80 5A 00 00 00", 0x6D00);
}
END_TEST

START_TEST(test_credit)
{
    uint8_t cmd[128];
    size_t n;

    n = credit_apdu(cmd, 500, 5, txid1, issuer_priv);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x9000);
    check_receipt("CLRC", 500, 1500, 6, txid1);
    ck_assert_uint_eq(st.balance, 1500);
    ck_assert_uint_eq(st.counter, 6);
    ck_assert(cl_applet_take_dirty(&ap));
    /* Replayed: the counter moved on. */
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6985);
    /* The same credit re-signed for the new counter is a new credit. */
    n = credit_apdu(cmd, 500, 6, txid1, issuer_priv);
    ck_assert_uint_eq(tx_bytes(cmd, n - 1), 0x9000);    /* no Le */
    check_receipt("CLRC", 500, 2000, 7, txid1);
    /* A counter from the future is refused too. */
    n = credit_apdu(cmd, 500, 9, txid1, issuer_priv);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6985);
    ck_assert_uint_eq(st.counter, 7);
}
END_TEST

START_TEST(test_credit_forged)
{
    uint8_t cmd[128];
    size_t n;

    n = credit_apdu(cmd, 500, 5, txid1, other_priv);    /* wrong key */
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6300);
    n = credit_apdu(cmd, 500, 5, txid1, issuer_priv);
    cmd[7] = 0x02;                              /* amount 500 -> 756 */
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6300);
    cmd[7] = 0x01;
    cmd[20] ^= 1;                               /* txn id */
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6300);
    cmd[20] ^= 1;
    cmd[n - 3] ^= 1;                            /* signature */
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6300);
    cmd[n - 3] ^= 1;
    cmd[29] = 0x31;                             /* not a DER SEQUENCE */
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6300);
    /* A signature for another card (other serial). */
    st.serial[0] ^= 0xFF;
    n = credit_apdu(cmd, 500, 5, txid1, issuer_priv);
    st.serial[0] ^= 0xFF;
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6300);
    ck_assert_uint_eq(st.balance, 1000);
    ck_assert_uint_eq(st.counter, 5);
    ck_assert(!cl_applet_take_dirty(&ap));
}
END_TEST

START_TEST(test_credit_bounds)
{
    uint8_t cmd[128];
    size_t n;

    n = credit_apdu(cmd, 99001, 5, txid1, issuer_priv);  /* max 100000 */
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6A84);
    n = credit_apdu(cmd, 0xFFFFFFFFu, 5, txid1, issuer_priv);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6A84);
    n = credit_apdu(cmd, 0, 5, txid1, issuer_priv);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6A80);
    ck_assert_uint_eq(st.counter, 5);
    n = credit_apdu(cmd, 99000, 5, txid1, issuer_priv);  /* exactly max */
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x9000);
    check_receipt("CLRC", 99000, 100000, 6, txid1);
    /* Lengths and parameters. */
    TX("80 52 00 00 10 00000001 00000006 0102030405060708", 0x6700);
    n = credit_apdu(cmd, 1, 6, txid1, issuer_priv);
    cmd[2] = 1;
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6A86);
    /* An exhausted counter locks the purse. */
    st.counter = 0xFFFFFFFFu;
    n = credit_apdu(cmd, 1, 0xFFFFFFFFu, txid1, issuer_priv);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6985);
}
END_TEST

START_TEST(test_debit)
{
    uint8_t cmd[64];
    size_t n = debit_apdu(cmd, 300, 5, txid1);

    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6982);    /* no PIN */
    TX("00 20 00 80 08 " PIN_OK, 0x9000);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x9000);
    check_receipt("CLRD", 300, 700, 6, txid1);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6982);    /* PIN consumed */
    TX("00 20 00 80 08 " PIN_OK, 0x9000);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6985);    /* replayed */
    TX("00 20 00 80", 0x63C3);                      /* ... and consumed */
    TX("00 20 00 80 08 " PIN_OK, 0x9000);
    n = debit_apdu(cmd, 701, 6, txid1);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6A84);    /* insufficient */
    TX("00 20 00 80 08 " PIN_OK, 0x9000);
    n = debit_apdu(cmd, 0, 6, txid1);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6A80);
    TX("00 20 00 80 08 " PIN_OK, 0x9000);
    n = debit_apdu(cmd, 700, 6, txid1);
    ck_assert_uint_eq(tx_bytes(cmd, n - 1), 0x9000);
    check_receipt("CLRD", 700, 0, 7, txid1);
    /* Format errors spend no verification. */
    TX("00 20 00 80 08 " PIN_OK, 0x9000);
    TX("80 54 00 00 08 00000001 00000007", 0x6700);
    /* The old 24-byte DEBIT (no payee) is refused. */
    TX("80 54 00 00 18 00000001 00000007 00000000000000000000000000000000",
       0x6700);
    TX("80 54 00 00 29 00000001 00000007 00000000000000000000000000000000"
       "00000000000000000000000000000000 00", 0x6700);
    TX("80 54 00 01 28 00000001 00000007 00000000000000000000000000000000"
       "00000000000000000000000000000000", 0x6A86);
    TX("00 20 00 80", 0x9000);
    st.counter = 0xFFFFFFFFu;
    st.balance = 10;
    n = debit_apdu(cmd, 1, 0xFFFFFFFFu, txid1);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6985);
}
END_TEST

/* -------------------------------------------------------- e-goods */

static size_t egoods_apdu(uint8_t *cmd, uint8_t idbyte, size_t plen,
                          const uint8_t *key)
{
    uint8_t msg[4 + 8 + 64], h[32], sig[72];
    size_t sl = 0, i;

    memcpy(msg, "CLEG", 4);
    memcpy(msg + 4, st.serial, 8);
    for (i = 0; i < plen; i++)
        msg[12 + i] = (uint8_t)(i < 16 ? idbyte : 0x40u + i);
    sha(msg, 12 + plen, h);
    ck_assert_int_eq(cl_posix_crypto_sign(&pc, key, h, 32, sig, sizeof(sig),
                                          &sl), CL_OK);
    cmd[0] = 0x00; cmd[1] = 0xE2; cmd[2] = 0x00; cmd[3] = 0x20;
    cmd[4] = (uint8_t)(1 + plen + sl);
    cmd[5] = (uint8_t)plen;
    memcpy(cmd + 6, msg + 12, plen);
    memcpy(cmd + 6 + plen, sig, sl);
    return 6 + plen + sl;
}

START_TEST(test_egoods)
{
    uint8_t cmd[200], h[32], msg[4 + 8 + 64 + 8];
    size_t n, i;

    TX("00 B2 01 24 00", 0x6A83);
    n = egoods_apdu(cmd, 0x11, 40, issuer_priv);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x9000);
    ck_assert_uint_eq(st.egoods_count, 1);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6A89);    /* same id again */
    TX("00 B2 01 24 00", 0x9000);
    ck_assert_uint_eq(rlen, 3 + 40 + (n - 6 - 40));
    ck_assert_uint_eq(rbuf[0], 0);                  /* valid */
    ck_assert_uint_eq(rbuf[1], 40);
    ck_assert_mem_eq(rbuf + 2, cmd + 6, 40);
    ck_assert_uint_eq(rbuf[42], n - 46);
    ck_assert_mem_eq(rbuf + 43, cmd + 46, n - 46);
    /* Wrong Le: 6Cxx with the record length; a larger Le: 6282. */
    ck_assert_uint_eq(tx("00 B2 01 24 10"), 0x6C00u | (unsigned)(n - 3));
    ck_assert_uint_eq(tx("00 B2 01 24 F0"), 0x6282);
    /* Forged and malformed. */
    n = egoods_apdu(cmd, 0x22, 40, other_priv);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6300);
    n = egoods_apdu(cmd, 0x22, 15, issuer_priv);    /* payload < id */
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6A80);
    TX("00 E2 00 20 05 40 01 02 03 04", 0x6A80);    /* payload past end */
    TX("00 E2 00 20 12 10 00000000000000000000000000000000 30", 0x6A80);
    /* Use once, with a challenge: the receipt signs payload||challenge. */
    TX("80 56 01 00 04 DE AD BE EF 00", 0x9000);
    memcpy(msg, "CLUT", 4);
    memcpy(msg + 4, st.serial, 8);
    for (i = 0; i < 40; i++)
        msg[12 + i] = (uint8_t)(i < 16 ? 0x11 : 0x40u + i);
    memcpy(msg + 52, "\xDE\xAD\xBE\xEF", 4);
    sha(msg, 56, h);
    ck_assert_int_eq(pk_verify(st.pub, h, 32, rbuf, rlen), 0);
    TX("80 56 01 00 00", 0x6985);
    TX("80 56 01 00", 0x6985);
    TX("00 B2 01 24 00", 0x9000);
    ck_assert_uint_eq(rbuf[0], 1);                  /* used */
    TX("80 56 02 00", 0x6A83);
    TX("80 56 00 00", 0x6A83);
    TX("80 56 01 01", 0x6A86);
    TX("80 56 01 00 41 "
       "00000000000000000000000000000000 00000000000000000000000000000000"
       "00000000000000000000000000000000 00000000000000000000000000000000 00",
       0x6700);
    /* Replay of a used ticket's load: refused by its id. */
    n = egoods_apdu(cmd, 0x11, 40, issuer_priv);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6A89);
}
END_TEST

START_TEST(test_egoods_full)
{
    uint8_t cmd[200];
    size_t n;
    unsigned i;

    for (i = 0; i < CL_APPLET_EGOODS_MAX; i++) {
        n = egoods_apdu(cmd, (uint8_t)(0x30 + i), 16 + i, issuer_priv);
        ck_assert_uint_eq(tx_bytes(cmd, n), 0x9000);
    }
    n = egoods_apdu(cmd, 0x70, 64, issuer_priv);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6A84);
    TX("00 B2 08 24 00", 0x9000);
    ck_assert_uint_eq(rbuf[1], 16 + 7);
    TX("00 B2 09 24 00", 0x6A83);
}
END_TEST

/* ------------------------------------------------ transaction records */

START_TEST(test_txlog_cyclic)
{
    uint8_t cmd[5 + 43], rec[43];
    unsigned i;

    TX("00 B2 01 2C 00", 0x6A83);
    cmd[0] = 0x00; cmd[1] = 0xE2; cmd[2] = 0x00; cmd[3] = 0x28; cmd[4] = 43;
    for (i = 1; i <= 11; i++) {
        memset(cmd + 5, (int)i, 43);
        ck_assert_uint_eq(tx_bytes(cmd, sizeof(cmd)), 0x9000);
    }
    ck_assert_uint_eq(st.txlog_count, 10);
    /* Record 1 is the newest (the 11th), record 10 the 2nd: the 1st is
     * overwritten. */
    for (i = 1; i <= 10; i++) {
        uint8_t rc[5] = {0x00, 0xB2, (uint8_t)i, 0x2C, 43};
        ck_assert_uint_eq(tx_bytes(rc, sizeof(rc)), 0x9000);
        memset(rec, (int)(12 - i), sizeof(rec));
        ck_assert_uint_eq(rlen, 43);
        ck_assert_mem_eq(rbuf, rec, 43);
    }
    TX("00 B2 0B 2C 00", 0x6A83);
    TX("00 B2 01 2C 10", 0x6C2B);
    TX("00 B2 01 2C 30", 0x6282);
    /* Current EF, then SFI 0. */
    TX("00 A4 02 0C 02 02 02", 0x9000);
    TX("00 B2 02 04 00", 0x9000);
    ck_assert_uint_eq(rbuf[0], 10);
    cmd[3] = 0x00;
    ck_assert_uint_eq(tx_bytes(cmd, sizeof(cmd)), 0x9000);
    /* Errors. */
    TX("00 E2 00 28 02 01 02", 0x6700);
    TX("00 E2 00 28", 0x6700);
    TX("00 E2 01 28 01 00", 0x6A86);
    TX("00 E2 00 2C 01 00", 0x6A86);
    TX("00 E2 00 08 01 00", 0x6981);            /* SFI 1: transparent */
    TX("00 E2 00 48 01 00", 0x6A82);            /* SFI 9 */
    TX("00 B2 01 2C", 0x6700);
    TX("00 B2 01 2C 01 00 00", 0x6700);
    TX("00 B2 00 2C 00", 0x6A86);               /* record 0 */
    TX("00 B2 01 28 00", 0x6A86);               /* P2 b3-b1 not 100 */
    TX("00 B2 01 0C 00", 0x6981);
    TX("00 B2 01 4C 00", 0x6A82);
}
END_TEST

START_TEST(test_txlog_no_current)
{
    TX("00 B2 01 04 00", 0x6986);
    TX("00 E2 00 00 01 00", 0x6986);
    TX("00 A4 02 0C 02 01 01", 0x9000);
    TX("00 B2 01 04 00", 0x6981);
}
END_TEST

/* -------------------------------------------------- other commands */

static const struct {
    const char *apdu;
    unsigned sw;
} class_vectors[] = {
    {"90 A4 04 0C 07 F0 43 4C 50 41 59 01", 0x6E00},
    {"A0 B0 00 00 01", 0x6E00},
    {"20 B0 00 00 01", 0x6E00},
    {"40 B0 00 00 01", 0x6E00},
    {"10 20 00 80", 0x6884},
    {"0C 20 00 80", 0x6882},
    {"01 20 00 80", 0x6881},
    {"00 D6 00 00 01 00", 0x6D00},
    {"00 A4 04", 0x6700},                       /* no complete header */
    {"00 A4 04 0C 05 01 02", 0x6700},           /* Lc longer than data */
    {"00 A4 04 0C 00 00", 0x6700},              /* Lc 00 */
};

START_TEST(test_classes)
{
    TX(class_vectors[_i].apdu, class_vectors[_i].sw);
    ck_assert_uint_eq(rlen, 0);
}
END_TEST

START_TEST(test_get_data_challenge)
{
    TX("00 CA 7F 49 00", 0x9000);
    ck_assert_uint_eq(rlen, 70);
    cl_assert_bytes(rbuf, 5, "7F 49 43 86 41");
    ck_assert_mem_eq(rbuf + 5, st.pub, 65);
    TX("00 CA 00 5A 00", 0x6A88);
    TX("00 CA 7F 49 01 00 00", 0x6700);
    TX("00 84 00 00 08", 0x9000);
    ck_assert_uint_eq(rlen, 8);
    TX("00 84 00 00 00", 0x9000);
    ck_assert_uint_eq(rlen, 256);
    TX("00 84 00 00 00 04 00", 0x9000);         /* capped at 256 */
    ck_assert_uint_eq(rlen, 256);
    TX("00 84 00 00", 0x6700);
    TX("00 84 00 01 08", 0x6A86);
}
END_TEST

static const struct {
    uint8_t hdr[5];
    bool data;
} t0_vectors[] = {
    {{0x80, 0x52, 0, 0, 0x30}, true},
    {{0x80, 0x54, 0, 0, 0x28}, true},
    {{0x80, 0x56, 1, 0, 0x04}, true},
    {{0x80, 0x5C, 0, 0, 0x12}, false},
    {{0x80, 0x1E, 0, 0, 0x47}, true},           /* BLOCK */
    {{0x80, 0xEE, 0, 0, 0x12}, false},          /* not the sim's ECHO */
    {{0x00, 0x20, 0, 0x80, 0x08}, true},
    {{0x00, 0x88, 0, 0, 0x08}, true},
    {{0x00, 0xB0, 0, 0, 0x10}, false},
    {{0x00, 0xB2, 1, 0x2C, 0x2B}, false},
    {{0x00, 0xE2, 0, 0x28, 0x2B}, true},
    {{0x00, 0xCA, 0x7F, 0x49, 0}, false},
};

/* ---------------------------------------------------- failing port */

static int fail_sign(void *c, const uint8_t priv[32], const uint8_t *d,
                     size_t dl, uint8_t *s, size_t ss, size_t *sl)
{
    (void)c; (void)priv; (void)d; (void)dl; (void)s; (void)ss; (void)sl;
    return CL_ERR_CRYPTO;
}

static int fail_verify(void *c, const uint8_t pub[65], const uint8_t *d,
                       size_t dl, const uint8_t *s, size_t sl)
{
    (void)c; (void)pub; (void)d; (void)dl; (void)s; (void)sl;
    return CL_ERR_CRYPTO;
}

static int fail_random(void *c, uint8_t *o, size_t n)
{
    (void)c; (void)o; (void)n;
    return CL_ERR_CRYPTO;
}

static int fail_sha(void *c, const uint8_t *d, size_t n, uint8_t o[32])
{
    (void)c; (void)d; (void)n; (void)o;
    return CL_ERR_CRYPTO;
}

START_TEST(test_crypto_failures)
{
    struct cl_applet_crypto bad = port;
    uint8_t cmd[200];
    size_t n;

    /* The signer fails: nothing changes, 6F00. */
    bad.sign = fail_sign;
    ck_assert_int_eq(cl_applet_init(&ap, &st, &bad, NULL), CL_OK);
    TX("00 88 00 00 08 0001020304050607", 0x6F00);
    TX("00 20 00 80 08 " PIN_OK, 0x9000);
    TX("00 2A 9E 9A 20 " "00000000000000000000000000000000"
       "00000000000000000000000000000000", 0x6F00);
    n = credit_apdu(cmd, 10, 5, txid1, issuer_priv);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6F00);
    TX("00 20 00 80 08 " PIN_OK, 0x9000);
    n = debit_apdu(cmd, 10, 5, txid1);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6F00);
    ck_assert_uint_eq(st.balance, 1000);
    ck_assert_uint_eq(st.counter, 5);
    n = egoods_apdu(cmd, 0x11, 20, issuer_priv);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x9000);    /* verify works */
    TX("80 56 01 00", 0x6F00);
    ck_assert_uint_eq(st.egoods[0].used, 0);
    /* The verifier and the hash fail. */
    bad = port;
    bad.verify = fail_verify;
    bad.random = fail_random;
    ck_assert_int_eq(cl_applet_init(&ap, &st, &bad, NULL), CL_OK);
    n = credit_apdu(cmd, 10, 5, txid1, issuer_priv);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6F00);
    TX("00 84 00 00 08", 0x6F00);
    bad = port;
    bad.sha256 = fail_sha;
    ck_assert_int_eq(cl_applet_init(&ap, &st, &bad, NULL), CL_OK);
    TX("00 88 00 00 08 0001020304050607", 0x6F00);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6F00);
}
END_TEST

START_TEST(test_api_errors)
{
    struct cl_applet_crypto bad = port;
    struct cl_cardapp a2;
    uint8_t cmd[4] = {0x00, 0xA4, 0x00, 0x00}, small[CL_APPLET_RESP_MIN - 1];
    size_t len = 0;

    bad.verify = NULL;
    ck_assert_int_eq(cl_applet_init(&ap, &st, &bad, NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_applet_init(NULL, &st, &port, NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_applet_init(&ap, NULL, &port, NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_applet_init(&ap, &st, NULL, NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_applet_init(&ap, &st, &port, NULL), CL_OK);
    ck_assert_int_eq(cl_applet_app(NULL, &a2), CL_ERR_ARG);
    ck_assert_int_eq(cl_applet_app(&ap, NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_applet_process(&ap, cmd, 4, small, sizeof(small),
                                       &len), CL_ERR_BUFFER);
    ck_assert_int_eq(cl_applet_process(NULL, cmd, 4, rbuf, sizeof(rbuf),
                                       &len), CL_ERR_ARG);
    ck_assert_int_eq(cl_applet_process(&ap, NULL, 4, rbuf, sizeof(rbuf),
                                       &len), CL_ERR_ARG);
    ck_assert_int_eq(cl_applet_process(&ap, cmd, 4, NULL, sizeof(rbuf),
                                       &len), CL_ERR_ARG);
    ck_assert_int_eq(cl_applet_process(&ap, cmd, 4, rbuf, sizeof(rbuf),
                                       NULL), CL_ERR_ARG);
    /* Personalisation setters. */
    ck_assert_int_eq(cl_applet_state_set_pin(&st, false, "123", 3, 3),
                     CL_ERR_ARG);
    ck_assert_int_eq(cl_applet_state_set_pin(&st, false, "1234567890123", 13,
                                             3), CL_ERR_ARG);
    ck_assert_int_eq(cl_applet_state_set_pin(&st, true, "1234567", 7, 3),
                     CL_ERR_ARG);
    ck_assert_int_eq(cl_applet_state_set_pin(&st, false, "12a4", 4, 3),
                     CL_ERR_ARG);
    ck_assert_int_eq(cl_applet_state_set_pin(&st, false, "1234", 4, 0),
                     CL_ERR_ARG);
    ck_assert_int_eq(cl_applet_state_set_pin(&st, false, "1234", 4, 16),
                     CL_ERR_ARG);
    ck_assert_int_eq(cl_applet_state_set_pin(NULL, false, "1234", 4, 3),
                     CL_ERR_ARG);
    cl_assert_bytes(st.pin, 8, PIN_OK);         /* unchanged */
    ck_assert_int_eq(cl_applet_state_set_pin(&st, false, "12345", 5, 5),
                     CL_OK);
    cl_assert_bytes(st.pin, 8, "25 12 34 5F FF FF FF FF");
    ck_assert_uint_eq(st.pin_tries, 5);
    ck_assert_int_eq(cl_applet_state_set_cert(&st, 4, card_cert, 10),
                     CL_ERR_ARG);
    ck_assert_int_eq(cl_applet_state_set_cert(&st, CL_APPLET_CERT_SIGN,
                                              card_cert, 10), CL_OK);
    ck_assert_uint_eq(st.cert_len[CL_APPLET_CERT_SIGN], 10);
    ck_assert_int_eq(cl_applet_state_set_cert(&st, -1, card_cert, 10),
                     CL_ERR_ARG);
    ck_assert_int_eq(cl_applet_state_set_cert(&st, 0, card_cert, 0),
                     CL_ERR_ARG);
    ck_assert_int_eq(cl_applet_state_set_cert(&st, 0, NULL, 10), CL_ERR_ARG);
    ck_assert_int_eq(cl_applet_state_set_cert(NULL, 0, card_cert, 10),
                     CL_ERR_ARG);
    ck_assert_int_eq(cl_applet_state_set_cert(&st, 0, rbuf,
                                              CL_APPLET_CERT_MAX + 1),
                     CL_ERR_TOO_LONG);
    cl_applet_state_init(NULL);
    cl_applet_state_wipe(NULL);
}
END_TEST

/* --------------------------------------------------------- the image */

static uint8_t img[CL_APPLET_IMAGE_MAX], img2[CL_APPLET_IMAGE_MAX];

/* Fill records so the image carries every part. */
static void fill_records(void)
{
    uint8_t cmd[200];
    size_t n;
    unsigned i;

    for (i = 0; i < 12; i++) {
        cmd[0] = 0; cmd[1] = 0xE2; cmd[2] = 0; cmd[3] = 0x28; cmd[4] = 43;
        memset(cmd + 5, (int)(0x60 + i), 43);
        ck_assert_uint_eq(tx_bytes(cmd, 48), 0x9000);
    }
    n = egoods_apdu(cmd, 0x11, 40, issuer_priv);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x9000);
    n = egoods_apdu(cmd, 0x12, 64, issuer_priv);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x9000);
    TX("80 56 02 00", 0x9000);
}

/* Put a CRC over an image edited by a test. */
static void recrc(uint8_t *p, size_t len)
{
    uint16_t c = cl_crc16(p, len - 2);
    p[len - 2] = (uint8_t)(c >> 8);
    p[len - 1] = (uint8_t)c;
}

START_TEST(test_image_roundtrip)
{
    static struct cl_applet_state st2;
    size_t len = 0, len2 = 0, need = 0;
    unsigned sw;

    fill_records();
    TX("00 20 00 80 08 " PIN_BAD, 0x63C2);
    ck_assert_int_eq(cl_applet_state_save(&st, img, sizeof(img), &len), CL_OK);
    ck_assert_uint_le(len, CL_APPLET_IMAGE_MAX);
    cl_assert_bytes(img, 5, "43 4C 41 50 03");
    ck_assert_uint_eq(((size_t)img[5] << 24 | (size_t)img[6] << 16 |
                       (size_t)img[7] << 8 | img[8]), len);
    ck_assert_int_eq(cl_applet_state_save(&st, img2, len - 1, &need),
                     CL_ERR_BUFFER);
    ck_assert_uint_eq(need, len);
    ck_assert_int_eq(cl_applet_state_save(&st, NULL, 0, &need), CL_ERR_BUFFER);
    ck_assert_uint_eq(need, len);
    ck_assert_int_eq(cl_applet_state_load(&st2, img, len), CL_OK);
    ck_assert_int_eq(cl_applet_state_save(&st2, img2, sizeof(img2), &len2),
                     CL_OK);
    ck_assert_uint_eq(len2, len);
    ck_assert_mem_eq(img, img2, len);
    ck_assert_mem_eq(st2.pin, st.pin, 8);
    ck_assert_mem_eq(st2.priv, st.priv, 32);
    ck_assert_mem_eq(st2.pub, st.pub, 65);
    ck_assert_mem_eq(st2.sign_priv, st.sign_priv, 32);
    ck_assert_mem_eq(st2.sign_pub, st.sign_pub, 65);
    ck_assert_uint_eq(st2.cert_len[CL_APPLET_CERT_SIGN], sizeof(sign_cert));
    ck_assert_mem_eq(st2.cert[CL_APPLET_CERT_SIGN], sign_cert,
                     sizeof(sign_cert));
    ck_assert_uint_eq(st2.pin_tries, 2);
    ck_assert_uint_eq(st2.balance, 1000);
    ck_assert_uint_eq(st2.counter, 5);
    ck_assert_uint_eq(st2.currency, 978);
    ck_assert_uint_eq(st2.cert_len[0], 600);
    ck_assert_uint_eq(st2.egoods_count, 2);
    ck_assert_uint_eq(st2.egoods[1].used, 1);
    ck_assert_uint_eq(st2.txlog_count, 10);
    /* The loaded card answers the same: newest record first. */
    ck_assert_int_eq(cl_applet_init(&ap, &st2, &port, NULL), CL_OK);
    sw = tx("00 B2 01 2C 00");
    ck_assert_uint_eq(sw, 0x9000);
    ck_assert_uint_eq(rbuf[0], 0x6B);
    TX("00 B2 0A 2C 00", 0x9000);
    ck_assert_uint_eq(rbuf[0], 0x62);
    TX("00 20 00 80", 0x63C2);
    TX("00 20 00 80 08 " PIN_OK, 0x9000);
}
END_TEST

/* Corruptions of a saved image and the error each gives. */
static const struct {
    const char *what;
    size_t at;          /* byte offset; SIZE_MAX: special */
    uint8_t xor_;
    bool fix_crc;
    int err;
} corrupt_vectors[] = {
    {"magic", 0, 0x01, true, CL_ERR_MALFORMED},
    {"version", 4, 0x03, true, CL_ERR_VERSION},
    {"length up", 8, 0x20, true, CL_ERR_TRUNCATED},
    {"a PIN digit", 10, 0x01, false, CL_ERR_CHECKSUM},
    {"the private key", 40, 0x80, false, CL_ERR_CHECKSUM},
    {"the CRC", SIZE_MAX, 0x01, false, CL_ERR_CHECKSUM},
    {"PIN block control", 9, 0x10, true, CL_ERR_RESERVED},
    {"PUK block fill", 24, 0x01, true, CL_ERR_RESERVED},
    {"PIN tries > max", 25, 0x0C, true, CL_ERR_RESERVED},   /* 3 -> 15 */
    {"PIN max 0", 26, 0x03, true, CL_ERR_RESERVED},
    {"PUK tries > max", 27, 0x05, true, CL_ERR_RESERVED},   /* 10 -> 15 */
    {"PIN max 16", 26, 0x13, true, CL_ERR_RESERVED},         /* 3 -> 16, tries 3 */
    {"PUK max 16", 28, 0x1A, true, CL_ERR_RESERVED},         /* 10 -> 16, tries 10 */
    {"the signing key", 150, 0x80, false, CL_ERR_CHECKSUM},
    {"cert length", 310, 0xF0, true, CL_ERR_RESERVED},      /* > 1024 */
    {"a version 1 image", 4, 0x02, true, CL_ERR_VERSION},   /* 03 -> 01 */
    {"version 4", 4, 0x07, true, CL_ERR_VERSION},           /* 03 -> 04 */
    {"blocked flag 2", SIZE_MAX - 1, 0x02, true, CL_ERR_RESERVED},
};

START_TEST(test_image_corrupt)
{
    static struct cl_applet_state st2;
    size_t len = 0, at;

    ck_assert_int_eq(cl_applet_state_save(&st, img, sizeof(img), &len), CL_OK);
    at = corrupt_vectors[_i].at == SIZE_MAX       ? len - 1
         : corrupt_vectors[_i].at == SIZE_MAX - 1 ? len - 3   /* blocked */
                                                  : corrupt_vectors[_i].at;
    img[at] ^= corrupt_vectors[_i].xor_;
    if (corrupt_vectors[_i].fix_crc)
        recrc(img, len);
    memset(&st2, 0xA5, sizeof(st2));
    ck_assert_msg(cl_applet_state_load(&st2, img, len) ==
                      corrupt_vectors[_i].err,
                  "%s", corrupt_vectors[_i].what);
    ck_assert_uint_eq(st2.balance, 0xA5A5A5A5u);    /* untouched */
}
END_TEST

/* The state's edges: what init sets; PINs and PUKs with 1 and 15 tries
 * and the digits 0 and 9 (not '/' or ':'); a certificate of exactly
 * CL_APPLET_CERT_MAX bytes; each saved and loaded back the same. */
START_TEST(test_state_edges)
{
    static struct cl_applet_state s1, s2;
    static uint8_t cert[CL_APPLET_CERT_MAX];
    size_t len = 0, len2 = 0, i;

    cl_applet_state_init(&s1);
    ck_assert_uint_eq(s1.pin_tries, 3);
    ck_assert_uint_eq(s1.pin_max, 3);
    ck_assert_uint_eq(s1.puk_tries, 10);
    ck_assert_uint_eq(s1.puk_max, 10);
    ck_assert_uint_eq(s1.balance_max, 0x7FFFFFFFu);
    ck_assert_uint_eq(s1.balance, 0);
    ck_assert_int_eq(cl_applet_state_set_pin(&s1, false, "0/00", 4, 3), CL_ERR_ARG);
    ck_assert_int_eq(cl_applet_state_set_pin(&s1, false, "0:00", 4, 3), CL_ERR_ARG);
    ck_assert_int_eq(cl_applet_state_set_pin(&s1, false, "0909", 4, 1), CL_OK);
    cl_assert_bytes(s1.pin, 8, "24 09 09 FF FF FF FF FF");
    ck_assert_uint_eq(s1.pin_tries, 1);
    ck_assert_uint_eq(s1.pin_max, 1);
    ck_assert_int_eq(cl_applet_state_set_pin(&s1, true, "90909090", 8, 15), CL_OK);
    cl_assert_bytes(s1.puk, 8, "28 90 90 90 90 FF FF FF");
    ck_assert_uint_eq(s1.puk_tries, 15);
    ck_assert_uint_eq(s1.puk_max, 15);
    for (i = 0; i < sizeof(cert); i++)
        cert[i] = (uint8_t)i;
    ck_assert_int_eq(cl_applet_state_set_cert(&s1, CL_APPLET_CERT_SIGN, cert, sizeof(cert)), CL_OK);
    ck_assert_uint_eq(s1.cert_len[CL_APPLET_CERT_SIGN], CL_APPLET_CERT_MAX);
    ck_assert_int_eq(cl_applet_state_save(&s1, img, sizeof(img), &len), CL_OK);
    memset(&s2, 0xA5, sizeof(s2));
    ck_assert_int_eq(cl_applet_state_load(&s2, img, len), CL_OK);
    ck_assert_uint_eq(s2.pin_max, 1);
    ck_assert_uint_eq(s2.puk_max, 15);
    ck_assert_uint_eq(s2.cert_len[CL_APPLET_CERT_SIGN], CL_APPLET_CERT_MAX);
    ck_assert_mem_eq(s2.cert[CL_APPLET_CERT_SIGN], cert, sizeof(cert));
    ck_assert_int_eq(cl_applet_state_save(&s2, img2, sizeof(img2), &len2), CL_OK);
    ck_assert_uint_eq(len2, len);
    ck_assert_mem_eq(img2, img, len);
    /* the other way round: 15 PIN tries, 1 PUK try */
    ck_assert_int_eq(cl_applet_state_set_pin(&s1, false, "123456789012", 12, 15), CL_OK);
    ck_assert_int_eq(cl_applet_state_set_pin(&s1, true, "12345678", 8, 1), CL_OK);
    ck_assert_int_eq(cl_applet_state_save(&s1, img, sizeof(img), &len), CL_OK);
    ck_assert_int_eq(cl_applet_state_load(&s2, img, len), CL_OK);
    ck_assert_uint_eq(s2.pin_max, 15);
    ck_assert_uint_eq(s2.puk_max, 1);
    cl_applet_state_wipe(&s1);
    cl_applet_state_wipe(&s2);
}
END_TEST

START_TEST(test_image_lengths)
{
    static struct cl_applet_state st2;
    size_t len = 0, cut;

    fill_records();
    ck_assert_int_eq(cl_applet_state_save(&st, img, sizeof(img), &len), CL_OK);
    ck_assert_int_eq(cl_applet_state_load(&st2, img, len - 1),
                     CL_ERR_TRUNCATED);
    ck_assert_int_eq(cl_applet_state_load(&st2, img, len + 1),
                     CL_ERR_TRAILING);
    for (cut = 0; cut < 11; cut++)
        ck_assert_int_ne(cl_applet_state_load(&st2, img, cut), CL_OK);
    ck_assert_int_eq(cl_applet_state_load(&st2, img, 0), CL_ERR_MALFORMED);
    ck_assert_int_eq(cl_applet_state_load(&st2, img, 4), CL_ERR_TRUNCATED);
    ck_assert_int_eq(cl_applet_state_load(&st2, img, 5), CL_ERR_TRUNCATED);
    ck_assert_int_eq(cl_applet_state_load(NULL, img, len), CL_ERR_ARG);
    ck_assert_int_eq(cl_applet_state_load(&st2, NULL, 5), CL_ERR_ARG);
    /* Every shorter image with its header and CRC made consistent fails
     * cleanly (truncated inside a field, or a count past the end). */
    for (cut = 11; cut < len; cut += 7) {
        memcpy(img2, img, cut);
        img2[5] = (uint8_t)(cut >> 24);
        img2[6] = (uint8_t)(cut >> 16);
        img2[7] = (uint8_t)(cut >> 8);
        img2[8] = (uint8_t)cut;
        recrc(img2, cut);
        ck_assert_int_ne(cl_applet_state_load(&st2, img2, cut), CL_OK);
    }
    /* A longer one: trailing bytes before the CRC. */
    memcpy(img2, img, len - 2);
    img2[len - 2] = 0;
    img2[5] = (uint8_t)((len + 1) >> 24);
    img2[6] = (uint8_t)((len + 1) >> 16);
    img2[7] = (uint8_t)((len + 1) >> 8);
    img2[8] = (uint8_t)(len + 1);
    recrc(img2, len + 1);
    ck_assert_int_eq(cl_applet_state_load(&st2, img2, len + 1),
                     CL_ERR_TRAILING);
}
END_TEST

START_TEST(test_image_fields)
{
    static struct cl_applet_state st2;
    size_t len = 0;

    /* Saving refuses an insane state. */
    st.egoods_count = CL_APPLET_EGOODS_MAX + 1;
    ck_assert_int_eq(cl_applet_state_save(&st, img, sizeof(img), &len),
                     CL_ERR_ARG);
    st.egoods_count = 0;
    st.pin_tries = 4;
    ck_assert_int_eq(cl_applet_state_save(&st, img, sizeof(img), &len),
                     CL_ERR_ARG);
    st.pin_tries = 3;
    st.txlog_head = CL_APPLET_TXLOG_MAX;
    ck_assert_int_eq(cl_applet_state_save(&st, img, sizeof(img), &len),
                     CL_ERR_ARG);
    st.txlog_head = 0;
    ck_assert_int_eq(cl_applet_state_save(NULL, img, sizeof(img), &len),
                     CL_ERR_ARG);
    ck_assert_int_eq(cl_applet_state_save(&st, img, sizeof(img), NULL),
                     CL_ERR_ARG);
    /* e-goods and record counts out of range in an image. */
    fill_records();
    ck_assert_int_eq(cl_applet_state_save(&st, img, sizeof(img), &len), CL_OK);
    {
        /* Offsets: header 9, fixed part 301, certs 4 x 2 + 1040. */
        size_t eg = 9 + 301 + 8 + 600 + 300 + 40 + sizeof(sign_cert);
        memcpy(img2, img, len);
        img2[eg] = CL_APPLET_EGOODS_MAX + 1;
        recrc(img2, len);
        ck_assert_int_eq(cl_applet_state_load(&st2, img2, len),
                         CL_ERR_RESERVED);
        memcpy(img2, img, len);
        img2[eg + 1] = 2;                       /* used flag */
        recrc(img2, len);
        ck_assert_int_eq(cl_applet_state_load(&st2, img2, len),
                         CL_ERR_RESERVED);
        memcpy(img2, img, len);
        img2[eg + 2] = 15;                      /* payload < id */
        recrc(img2, len);
        ck_assert_int_eq(cl_applet_state_load(&st2, img2, len),
                         CL_ERR_RESERVED);
        memcpy(img2, img, len);
        img2[eg + 3 + 40] = 7;                  /* signature too short */
        recrc(img2, len);
        ck_assert_int_eq(cl_applet_state_load(&st2, img2, len),
                         CL_ERR_RESERVED);
        memcpy(img2, img, len);
        img2[len - 4 - 10 * 43] = 11;           /* record count */
        recrc(img2, len);
        ck_assert_int_eq(cl_applet_state_load(&st2, img2, len),
                         CL_ERR_RESERVED);
    }
}
END_TEST

/* ------------------------------------------------------- BLOCK */

/* The BLOCK APDU for challenge chal[0..n) signed with key over
 * SHA-256("CLBK" || serial || chal): 80 1E 00 00 Lc signature (case 3). */
static size_t block_apdu(uint8_t *cmd, const uint8_t serial[8],
                         const uint8_t *chal, size_t n, const uint8_t *key)
{
    uint8_t msg[4 + 8 + 32], h[32], sig[72];
    size_t sl = 0;

    memcpy(msg, "CLBK", 4);
    memcpy(msg + 4, serial, 8);
    memcpy(msg + 12, chal, n);
    sha(msg, 12 + n, h);
    ck_assert_int_eq(cl_posix_crypto_sign(&pc, key, h, 32, sig, sizeof(sig),
                                          &sl), CL_OK);
    cmd[0] = 0x80; cmd[1] = 0x1E; cmd[2] = 0; cmd[3] = 0;
    cmd[4] = (uint8_t)sl;
    memcpy(cmd + 5, sig, sl);
    return 5 + sl;
}

/* GET CHALLENGE (8 bytes) and the BLOCK over it signed with key. */
static size_t challenge_and_block(uint8_t *cmd, const uint8_t *key)
{
    uint8_t chal[8];

    TX("00 84 00 00 08", 0x9000);
    ck_assert_uint_eq(rlen, 8);
    memcpy(chal, rbuf, 8);
    return block_apdu(cmd, st.serial, chal, 8, key);
}

/* What a blocked card answers: SELECT 6283, 6985 to everything that
 * signs, moves value, writes or checks a PIN; reading still works. */
static void assert_blocked(void)
{
    uint8_t cmd[128];
    size_t n;

    TX("00 A4 04 00 07 F0434C50415901", 0x6283);
    ck_assert_uint_eq(rlen, 0);
    TX("00 A4 04 0C 07 F0434C50415901", 0x6283);
    TX("00 20 00 80 08 " PIN_OK, 0x6985);
    TX("00 20 00 80", 0x6985);
    TX("00 20 FF 80", 0x9000);                      /* ending one: fine */
    TX("00 24 00 80 10 " PIN_OK PIN_NEW, 0x6985);
    TX("00 2C 00 80 10 " PUK_OK PIN_NEW, 0x6985);   /* no unblocking */
    TX("00 2C 01 80 08 " PUK_OK, 0x6985);
    TX("00 88 00 00 08 0001020304050607 00", 0x6985);
    TX("00 2A 9E 9A 20 00000000000000000000000000000000"
       "00000000000000000000000000000000 00", 0x6985);
    n = debit_apdu(cmd, 100, st.counter, txid1);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6985);
    n = credit_apdu(cmd, 100, st.counter, txid1, issuer_priv);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6985);
    TX("80 56 01 00", 0x6985);
    TX("00 E2 00 28 2B " "00000000000000000000000000000000"
       "00000000000000000000000000000000" "0000000000000000000000", 0x6985);
    ck_assert_uint_eq(rlen, 0);
    /* reading stays possible: the server sees why */
    TX("80 5C 00 00 00", 0x9000);
    ck_assert_uint_eq(rlen, 18);
    TX("00 B0 81 00 10", 0x9000);
    TX("00 CA 7F 49 00", 0x9000);
    TX("00 A4 00 04 02 0101", 0x9000);
    TX("00 A4 00 04 00", 0x9000);                   /* the MF: its FCP */
    ck_assert_uint_eq(rbuf[rlen - 1], 0x04);        /* LCS deactivated */
    ck_assert(!ap.verified);
}

START_TEST(test_block)
{
    uint8_t cmd[128];
    size_t n;

    TX("00 A4 04 0C 07 F0434C50415901", 0x9000);
    TX("00 A4 00 04 00", 0x9000);
    ck_assert_uint_eq(rbuf[rlen - 1], 0x05);        /* LCS activated */
    TX("00 20 00 80 08 " PIN_OK, 0x9000);           /* verified, then ... */
    n = challenge_and_block(cmd, issuer_priv);
    cl_assert_bytes(cmd, 4, "80 1E 00 00");
    ck_assert_uint_eq(cmd[4], n - 5);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x9000);
    ck_assert_uint_eq(rlen, 0);
    ck_assert_uint_eq(st.blocked, 1);
    ck_assert(cl_applet_take_dirty(&ap));
    assert_blocked();
    /* the purse and the PIN counter are untouched */
    ck_assert_uint_eq(st.balance, 1000);
    ck_assert_uint_eq(st.counter, 5);
    ck_assert_uint_eq(st.pin_tries, 3);
    /* a second BLOCK of a blocked card: 9000, nothing written */
    n = challenge_and_block(cmd, issuer_priv);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x9000);
    ck_assert(!cl_applet_take_dirty(&ap));
    /* a reset does not unblock it */
    app.reset(app.ctx);
    assert_blocked();
}
END_TEST

START_TEST(test_block_forged)
{
    uint8_t cmd[128], zero[8] = {0};
    size_t n;

    /* another key (a server without the issuer's) */
    n = challenge_and_block(cmd, other_priv);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6982);
    ck_assert_uint_eq(st.blocked, 0);
    ck_assert(!cl_applet_take_dirty(&ap));
    /* the challenge was used up by the refused BLOCK: the issuer's own
     * signature over it no longer works */
    TX("00 84 00 00 08", 0x9000);
    memcpy(zero, rbuf, 8);
    n = block_apdu(cmd, st.serial, zero, 8, other_priv);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6982);
    n = block_apdu(cmd, st.serial, zero, 8, issuer_priv);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6985);    /* no challenge left */
    /* no GET CHALLENGE at all, and one of fewer than 8 bytes */
    app.reset(app.ctx);
    n = block_apdu(cmd, st.serial, zero, 8, issuer_priv);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6985);
    TX("00 84 00 00 04", 0x9000);
    n = block_apdu(cmd, st.serial, rbuf, 4, issuer_priv);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6985);
    /* a challenge longer than the card keeps (33 bytes): not kept */
    TX("00 84 00 00 21", 0x9000);
    n = block_apdu(cmd, st.serial, rbuf, 32, issuer_priv);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6985);
    /* a reset forgets the challenge */
    TX("00 84 00 00 08", 0x9000);
    memcpy(zero, rbuf, 8);
    app.reset(app.ctx);
    n = block_apdu(cmd, st.serial, zero, 8, issuer_priv);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6985);
    /* the signature over the right challenge but a flipped byte */
    n = challenge_and_block(cmd, issuer_priv);
    cmd[n - 1] ^= 0x01;
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6982);
    /* format errors: nothing used up */
    n = challenge_and_block(cmd, issuer_priv);
    cmd[2] = 1;
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6A86);
    cmd[2] = 0;
    TX("80 1E 00 00", 0x6700);
    TX("80 1E 00 00 07 00000000000000", 0x6700);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x9000);    /* still valid */
    ck_assert_uint_eq(st.blocked, 1);
}
END_TEST

/* A BLOCK recorded on one card is refused by another (other serial) and
 * by the same card later (other challenge). */
START_TEST(test_block_replay)
{
    static struct cl_applet_state st2;
    static struct cl_applet ap2;
    uint8_t cmd[128], chal[8];
    size_t n, len = 0, rl = 0;
    uint8_t r2[CL_APPLET_RESP_MIN + 300];

    /* card 2: the same issuer, another serial */
    ck_assert_int_eq(cl_applet_state_save(&st, img, sizeof(img), &len), CL_OK);
    ck_assert_int_eq(cl_applet_state_load(&st2, img, len), CL_OK);
    st2.serial[7] ^= 0x40;
    ck_assert_int_eq(cl_applet_init(&ap2, &st2, &port, NULL), CL_OK);
    /* a server recorded card 1's BLOCK; card 2 is asked for a challenge
     * and the server hopes for the same bytes: the serial still differs */
    n = challenge_and_block(cmd, issuer_priv);
    memcpy(chal, rbuf, 8);
    {
        uint8_t gc[5] = {0x00, 0x84, 0x00, 0x00, 0x08};
        ck_assert_int_eq(cl_applet_process(&ap2, gc, 5, r2, sizeof(r2), &rl),
                         CL_OK);
        ck_assert_uint_eq(rl, 10);
        /* the card's challenge replaced by card 1's, as if RNG repeated */
        memcpy(ap2.chal, chal, 8);
    }
    ck_assert_int_eq(cl_applet_process(&ap2, cmd, n, r2, sizeof(r2), &rl),
                     CL_OK);
    ck_assert_uint_eq(rl, 2);
    ck_assert_uint_eq((unsigned)r2[0] << 8 | r2[1], 0x6982);
    ck_assert_uint_eq(st2.blocked, 0);
    /* card 1 itself, later: a new challenge, the recorded BLOCK fails */
    TX("00 84 00 00 08", 0x9000);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6982);
    ck_assert_uint_eq(st.blocked, 0);
    /* and it still takes a fresh one */
    n = challenge_and_block(cmd, issuer_priv);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x9000);
    ck_assert_uint_eq(st.blocked, 1);
    cl_applet_state_wipe(&st2);
}
END_TEST

/* The image keeps the flag; a version 2 image (no flag) loads unblocked. */
START_TEST(test_block_image)
{
    static struct cl_applet_state st2;
    uint8_t cmd[128];
    size_t n, len = 0;

    n = challenge_and_block(cmd, issuer_priv);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x9000);
    ck_assert_int_eq(cl_applet_state_save(&st, img, sizeof(img), &len), CL_OK);
    ck_assert_uint_eq(img[len - 3], 0x01);
    ck_assert_int_eq(cl_applet_state_load(&st2, img, len), CL_OK);
    ck_assert_uint_eq(st2.blocked, 1);
    /* version 2: the same without the flag byte */
    st.blocked = 0;
    ck_assert_int_eq(cl_applet_state_save(&st, img, sizeof(img), &len), CL_OK);
    memcpy(img2, img, len - 3);
    img2[4] = 0x02;
    img2[5] = (uint8_t)((len - 1) >> 24);
    img2[6] = (uint8_t)((len - 1) >> 16);
    img2[7] = (uint8_t)((len - 1) >> 8);
    img2[8] = (uint8_t)(len - 1);
    recrc(img2, len - 1);
    memset(&st2, 0xA5, sizeof(st2));
    ck_assert_int_eq(cl_applet_state_load(&st2, img2, len - 1), CL_OK);
    ck_assert_uint_eq(st2.blocked, 0);
    ck_assert_uint_eq(st2.balance, 1000);
    /* a version 3 image cut to the version 2 length: truncated */
    img2[4] = 0x03;
    recrc(img2, len - 1);
    ck_assert_int_eq(cl_applet_state_load(&st2, img2, len - 1),
                     CL_ERR_TRUNCATED);
    /* saving refuses a flag other than 0/1 */
    st.blocked = 2;
    ck_assert_int_eq(cl_applet_state_save(&st, img, sizeof(img), &len),
                     CL_ERR_ARG);
    st.blocked = 0;
}
END_TEST

START_TEST(test_t0_rule)
{
    ck_assert(app.t0_has_data(app.ctx, t0_vectors[_i].hdr) ==
              t0_vectors[_i].data);
    ck_assert(!cl_applet_t0_has_data(NULL, NULL));
}
END_TEST

/* ------------------------------------------------------ tearing */

/*
 * A store that keeps the last image persisted (what a restart finds) and
 * "cuts the power" at write number cut (1-based; 0: never): that write
 * fails, and any later write in the same command would be a bug (the card
 * has no power left). After a cut the test reloads the last good image
 * into a fresh applet, as a restart.
 */
static struct {
    uint8_t img[CL_APPLET_IMAGE_MAX];   /* the durable image */
    size_t len;
    uint8_t first[CL_APPLET_IMAGE_MAX]; /* what write 1 of a command wrote */
    size_t first_len;
    unsigned writes, cut;
    bool cut_done;
} tear;

static int tear_persist(void *ctx, const struct cl_applet_state *s)
{
    static uint8_t w[CL_APPLET_IMAGE_MAX];
    size_t len = 0;

    ck_assert_ptr_eq(ctx, &tear);
    ck_assert_msg(!tear.cut_done, "a write after the power cut");
    tear.writes++;
    ck_assert_int_eq(cl_applet_state_save(s, w, sizeof(w), &len), CL_OK);
    if (tear.writes == 1) {
        memcpy(tear.first, w, len);
        tear.first_len = len;
        /* Nothing is decided before the first write is durable. */
        ck_assert(!ap.verified);
    }
    if (tear.cut != 0 && tear.writes == tear.cut) {
        tear.cut_done = true;
        return CL_ERR_IO;
    }
    memcpy(tear.img, w, len);
    tear.len = len;
    return CL_OK;
}

static const struct cl_applet_store tear_store = {tear_persist, &tear};

/* The state st as persisted now (the personalised card), and the applet
 * over it with the tearing store. */
static void tear_begin(void)
{
    memset(&tear, 0, sizeof(tear));
    ck_assert_int_eq(cl_applet_state_save(&st, tear.img, sizeof(tear.img),
                                          &tear.len), CL_OK);
    ck_assert_int_eq(cl_applet_init(&ap, &st, &port, &tear_store), CL_OK);
    ck_assert_int_eq(cl_applet_app(&ap, &app), CL_OK);
}

/* Arm a cut at write n (0: none) for the next command. */
static void tear_arm(unsigned n)
{
    tear.writes = 0;
    tear.cut = n;
    tear.cut_done = false;
}

/* The RAM image equals the durable one (a failed write rolled back). */
static void tear_ram_is_durable(void)
{
    static uint8_t now[CL_APPLET_IMAGE_MAX];
    size_t len = 0;
    ck_assert_int_eq(cl_applet_state_save(&st, now, sizeof(now), &len), CL_OK);
    ck_assert_uint_eq(len, tear.len);
    ck_assert_mem_eq(now, tear.img, len);
}

/* Restart: a fresh applet over the last durable image. */
static void tear_restart(void)
{
    cl_applet_state_wipe(&st);
    ck_assert_int_eq(cl_applet_state_load(&st, tear.img, tear.len), CL_OK);
    ck_assert_int_eq(cl_applet_init(&ap, &st, &port, &tear_store), CL_OK);
    ck_assert_int_eq(cl_applet_app(&ap, &app), CL_OK);
    tear.cut_done = false;
}

enum tear_cmd {
    T_VERIFY_OK, T_VERIFY_BAD, T_CHANGE_OK, T_CHANGE_BAD, T_RESET_OK,
    T_RESET_BAD, T_CREDIT, T_DEBIT
};

/* Each command with a cut at each of its writes (and none): the SW, the
 * writes made, and what a restart finds. */
static const struct {
    enum tear_cmd cmd;
    unsigned cut, writes, sw;
    uint8_t pin_tries, puk_tries;
    const char *pin;                    /* the PIN block after restart */
    uint32_t balance, counter;
} tear_vectors[] = {
    /* VERIFY: the try is spent by write 1, before the comparison; a right
     * PIN gets it back only through write 2. */
    {T_VERIFY_OK, 1, 1, 0x6581, 3, 10, PIN_OK, 1000, 5},
    {T_VERIFY_OK, 2, 2, 0x6581, 2, 10, PIN_OK, 1000, 5},
    {T_VERIFY_OK, 0, 2, 0x9000, 3, 10, PIN_OK, 1000, 5},
    {T_VERIFY_BAD, 1, 1, 0x6581, 3, 10, PIN_OK, 1000, 5},
    {T_VERIFY_BAD, 2, 2, 0x6581, 2, 10, PIN_OK, 1000, 5},
    {T_VERIFY_BAD, 0, 2, 0x63C2, 2, 10, PIN_OK, 1000, 5},
    /* CHANGE REFERENCE DATA: the new PIN lands with write 2 only. */
    {T_CHANGE_OK, 1, 1, 0x6581, 3, 10, PIN_OK, 1000, 5},
    {T_CHANGE_OK, 2, 2, 0x6581, 2, 10, PIN_OK, 1000, 5},
    {T_CHANGE_OK, 0, 2, 0x9000, 3, 10, PIN_NEW, 1000, 5},
    {T_CHANGE_BAD, 1, 1, 0x6581, 3, 10, PIN_OK, 1000, 5},
    {T_CHANGE_BAD, 2, 2, 0x6581, 2, 10, PIN_OK, 1000, 5},
    {T_CHANGE_BAD, 0, 2, 0x63C2, 2, 10, PIN_OK, 1000, 5},
    /* RESET RETRY COUNTER on a blocked PIN: the PUK counter as VERIFY's;
     * the PIN unblocked (and replaced) with write 2 only. */
    {T_RESET_OK, 1, 1, 0x6581, 0, 10, PIN_OK, 1000, 5},
    {T_RESET_OK, 2, 2, 0x6581, 0, 9, PIN_OK, 1000, 5},
    {T_RESET_OK, 0, 2, 0x9000, 3, 10, PIN_NEW, 1000, 5},
    {T_RESET_BAD, 1, 1, 0x6581, 0, 10, PIN_OK, 1000, 5},
    {T_RESET_BAD, 2, 2, 0x6581, 0, 9, PIN_OK, 1000, 5},
    {T_RESET_BAD, 0, 2, 0x63C9, 0, 9, PIN_OK, 1000, 5},
    /* CREDIT, DEBIT: balance and counter in one write, before the
     * receipt; a cut: neither moved, no receipt. */
    {T_CREDIT, 1, 1, 0x6581, 3, 10, PIN_OK, 1000, 5},
    {T_CREDIT, 0, 1, 0x9000, 3, 10, PIN_OK, 1500, 6},
    {T_DEBIT, 1, 1, 0x6581, 3, 10, PIN_OK, 1000, 5},
    {T_DEBIT, 0, 1, 0x9000, 3, 10, PIN_OK, 700, 6},
};

START_TEST(test_tear)
{
    uint8_t cmd[128], pin[8];
    size_t n = 0;
    unsigned sw;

    if (tear_vectors[_i].cmd == T_RESET_OK ||
        tear_vectors[_i].cmd == T_RESET_BAD)
        st.pin_tries = 0;               /* blocked: what RESET is for */
    tear_begin();
    if (tear_vectors[_i].cmd == T_DEBIT)
        TX("00 20 00 80 08 " PIN_OK, 0x9000);
    tear_arm(tear_vectors[_i].cut);
    switch (tear_vectors[_i].cmd) {
    case T_VERIFY_OK: n = (size_t)cl_test_hex("00 20 00 80 08 " PIN_OK, cmd,
                                              sizeof(cmd)); break;
    case T_VERIFY_BAD: n = (size_t)cl_test_hex("00 20 00 80 08 " PIN_BAD, cmd,
                                               sizeof(cmd)); break;
    case T_CHANGE_OK: n = (size_t)cl_test_hex("00 24 00 80 10 " PIN_OK PIN_NEW,
                                              cmd, sizeof(cmd)); break;
    case T_CHANGE_BAD: n = (size_t)cl_test_hex("00 24 00 80 10 " PIN_BAD
                                               PIN_NEW, cmd, sizeof(cmd));
        break;
    case T_RESET_OK: n = (size_t)cl_test_hex("00 2C 00 80 10 " PUK_OK PIN_NEW,
                                             cmd, sizeof(cmd)); break;
    case T_RESET_BAD: n = (size_t)cl_test_hex("00 2C 00 80 10 " PUK_BAD
                                              PIN_NEW, cmd, sizeof(cmd));
        break;
    case T_CREDIT: n = credit_apdu(cmd, 500, 5, txid1, issuer_priv); break;
    case T_DEBIT: n = debit_apdu(cmd, 300, 5, txid1); break;
    }
    sw = tx_bytes(cmd, n);
    ck_assert_uint_eq(sw, tear_vectors[_i].sw);
    ck_assert_uint_eq(tear.writes, tear_vectors[_i].writes);
    if (sw == 0x6581) {
        ck_assert_uint_eq(rlen, 0);     /* no receipt, no data */
        tear_ram_is_durable();          /* rolled back */
        if (tear_vectors[_i].cmd == T_DEBIT)
            TX("00 20 00 80", 0x63C3);  /* the verification is used up */
    }
    tear_restart();
    ck_assert_uint_eq(st.pin_tries, tear_vectors[_i].pin_tries);
    ck_assert_uint_eq(st.puk_tries, tear_vectors[_i].puk_tries);
    ck_assert_int_eq(cl_test_hex(tear_vectors[_i].pin, pin, sizeof(pin)), 8);
    ck_assert_mem_eq(st.pin, pin, 8);
    ck_assert_uint_eq(st.balance, tear_vectors[_i].balance);
    ck_assert_uint_eq(st.counter, tear_vectors[_i].counter);
    /* After a restart nothing is verified. */
    ck_assert_uint_eq(tx("00 20 00 80"),
                      st.pin_tries == 0 ? 0x6983u : 0x63C0u | st.pin_tries);
}
END_TEST

/*
 * The attack of issue 10, finding 4: PIN 2468, guesses 0000, 0001, ... in
 * order; the attacker cuts the power at a write of every guess and
 * restarts. Strategy _i: 0 cut at write 1 always, 1 at write 2 always,
 * 2 never, 3 at write 1, 2, none in turn. Before the fix a cut at the
 * write of a wrong guess found 2468 with the counter still 3/3. Now:
 *  - a guess cut at write 1 compared nothing: its answer (6581), its
 *    writes (one) and what it wrote are the same for the right PIN as for
 *    a wrong one, and the durable image does not change;
 *  - a guess that got past write 1 spent a try durably;
 * so at most 3 comparisons ever happen, and 2468 (the 2469th guess) is
 * never found.
 */
/* BLOCK with the power cut at its one write, and without: a restart finds
 * the card blocked or not, never anything between; a cut BLOCK leaves
 * the card as it was (its challenge is gone: a new one is needed). */
START_TEST(test_tear_block)
{
    uint8_t cmd[128];
    size_t n;
    unsigned cut = (unsigned)_i;        /* 0: none, 1: write 1 */

    tear_begin();
    n = challenge_and_block(cmd, issuer_priv);
    tear_arm(cut);
    ck_assert_uint_eq(tx_bytes(cmd, n), cut ? 0x6581u : 0x9000u);
    ck_assert_uint_eq(tear.writes, 1);
    ck_assert_uint_eq(tear.first[tear.first_len - 3], 0x01);
    if (cut)
        tear_ram_is_durable();          /* rolled back: not blocked */
    tear_restart();
    ck_assert_uint_eq(st.blocked, cut ? 0 : 1);
    ck_assert_uint_eq(st.balance, 1000);
    ck_assert_uint_eq(st.pin_tries, 3);
    if (!cut) {
        assert_blocked();
        return;
    }
    TX("00 A4 04 0C 07 F0434C50415901", 0x9000);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6985);    /* challenge gone */
    n = challenge_and_block(cmd, issuer_priv);
    tear_arm(0);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x9000);
    tear_restart();
    ck_assert_uint_eq(st.blocked, 1);
}
END_TEST

START_TEST(test_tear_brute_force)
{
    uint8_t cmd[13] = {0x00, 0x20, 0x00, 0x80, 0x08, 0x24, 0, 0,
                       0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    static uint8_t initial[CL_APPLET_IMAGE_MAX], wrong_first[CL_APPLET_IMAGE_MAX];
    size_t initial_len, wrong_len = 0;
    unsigned g, comparisons = 0, guesses = 0;
    bool found = false, blocked = false;

    ck_assert_int_eq(cl_applet_state_set_pin(&st, false, "2468", 4, 3), CL_OK);
    tear_begin();
    memcpy(initial, tear.img, tear.len);
    initial_len = tear.len;
    for (g = 0; g < 10000 && !found && !blocked; g++) {
        unsigned sw, cut = _i == 0 ? 1u : _i == 1 ? 2u : _i == 2 ? 0u
                                                       : (g % 3u == 2u ? 0u
                                                                       : g % 3u + 1u);
        cmd[6] = (uint8_t)((g / 1000u) << 4 | (g / 100u) % 10u);
        cmd[7] = (uint8_t)(((g / 10u) % 10u) << 4 | g % 10u);
        tear_arm(cut);
        sw = tx_bytes(cmd, sizeof(cmd));
        guesses++;
        if (tear.writes >= 2)
            comparisons++;      /* write 2 comes after the comparison */
        if (sw == 0x9000)
            found = true;
        else if (sw == 0x6983)
            blocked = true;
        if (_i == 0) {
            /* Nothing to learn: same answer, same single write, same
             * bytes written for every guess, the right one included. */
            ck_assert_uint_eq(sw, 0x6581);
            ck_assert_uint_eq(tear.writes, 1);
            if (g == 0) {
                memcpy(wrong_first, tear.first, tear.first_len);
                wrong_len = tear.first_len;
            }
            ck_assert_uint_eq(tear.first_len, wrong_len);
            ck_assert_mem_eq(tear.first, wrong_first, wrong_len);
            ck_assert_uint_eq(tear.len, initial_len);
            ck_assert_mem_eq(tear.img, initial, initial_len);
        }
        if (tear.cut_done)
            tear_restart();
    }
    ck_assert(!found);
    ck_assert_uint_le(comparisons, 3);
    ck_assert_uint_eq(st.pin_tries, 3u - comparisons);
    if (_i == 0)
        ck_assert_uint_eq(guesses, 10000);      /* 2468 included: 6581 */
    else
        ck_assert(blocked);
    /* The durable counter agrees after one more restart. */
    tear_restart();
    ck_assert_uint_eq(st.pin_tries, 3u - comparisons);
}
END_TEST

/* APPEND RECORD and USE persist too: a cut leaves no half record and no
 * receipt for a ticket still valid. */
START_TEST(test_tear_records)
{
    uint8_t cmd[200];
    size_t n;

    tear_begin();
    tear_arm(1);
    memset(cmd, 0x61, sizeof(cmd));
    cmd[0] = 0; cmd[1] = 0xE2; cmd[2] = 0; cmd[3] = 0x28; cmd[4] = 43;
    ck_assert_uint_eq(tx_bytes(cmd, 48), 0x6581);
    tear_ram_is_durable();
    ck_assert_uint_eq(st.txlog_count, 0);
    n = egoods_apdu(cmd, 0x11, 20, issuer_priv);
    tear_arm(1);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6581);
    tear_ram_is_durable();
    tear_arm(0);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x9000);
    tear_arm(1);
    TX("80 56 01 00 04 DE AD BE EF 00", 0x6581);
    ck_assert_uint_eq(rlen, 0);
    tear_ram_is_durable();
    tear_restart();
    ck_assert_uint_eq(st.egoods_count, 1);
    ck_assert_uint_eq(st.egoods[0].used, 0);
    tear_arm(0);
    TX("80 56 01 00 04 DE AD BE EF 00", 0x9000);
    tear_restart();
    ck_assert_uint_eq(st.egoods[0].used, 1);
    /* A full cyclic file: a failed write brings the overwritten record back. */
    cmd[0] = 0; cmd[1] = 0xE2; cmd[2] = 0; cmd[3] = 0x28; cmd[4] = 43;
    for (n = 0; n < CL_APPLET_TXLOG_MAX; n++) {
        memset(cmd + 5, (int)(0x30 + n), 43);
        ck_assert_uint_eq(tx_bytes(cmd, 48), 0x9000);
    }
    memset(cmd + 5, 0x7E, 43);
    tear_arm(1);
    ck_assert_uint_eq(tx_bytes(cmd, 48), 0x6581);
    tear_ram_is_durable();
    TX("00 B2 0A 2C 00", 0x9000);
    ck_assert_uint_eq(rbuf[0], 0x30);           /* the oldest, still there */
}
END_TEST

/* --------------------------------------- issue 10: the attacks replayed */

/* PSO over SHA-256 of a CLRD receipt message the card never made: the
 * signature is the signing key's, so it does not verify as a receipt
 * (receipts are the authentication key's). */
START_TEST(test_attack_pso_receipt)
{
    uint8_t msg[56], h[32], cmd[38];
    size_t len = receipt_msg(msg, "CLRD", 99999, 1000, 6, txid1);

    sha(msg, len, h);
    memcpy(cmd, "\x00\x2A\x9E\x9A\x20", 5);
    memcpy(cmd + 5, h, 32);
    cmd[37] = 0;
    ck_assert_uint_eq(tx_bytes(cmd, sizeof(cmd)), 0x6982);  /* no PIN */
    TX("00 20 00 80 08 " PIN_OK, 0x9000);
    ck_assert_uint_eq(tx_bytes(cmd, sizeof(cmd)), 0x9000);
    ck_assert_int_ne(pk_verify(st.pub, h, 32, rbuf, rlen), 0);
    ck_assert_int_eq(pk_verify(st.sign_pub, h, 32, rbuf, rlen), 0);
    ck_assert_uint_eq(st.balance, 1000);
    ck_assert_uint_eq(st.counter, 5);
}
END_TEST

/* INTERNAL AUTHENTICATE over a receipt message: the card signs its own
 * CLIA message, not the receipt. */
START_TEST(test_attack_auth_receipt)
{
    uint8_t msg[56], h[32], cmd[5 + 56 + 1];
    size_t len = receipt_msg(msg, "CLRD", 99999, 1000, 6, txid1);

    cmd[0] = 0x00; cmd[1] = 0x88; cmd[2] = 0; cmd[3] = 0;
    cmd[4] = (uint8_t)len;
    memcpy(cmd + 5, msg, len);
    cmd[5 + len] = 0;
    ck_assert_uint_eq(tx_bytes(cmd, 6 + len), 0x9000);
    sha(msg, len, h);
    ck_assert_int_ne(pk_verify(st.pub, h, 32, rbuf, rlen), 0);
    ck_assert_int_ne(pk_verify(st.sign_pub, h, 32, rbuf, rlen), 0);
    auth_digest(msg, len, h);
    ck_assert_int_eq(pk_verify(st.pub, h, 32, rbuf, rlen), 0);
    ck_assert_uint_eq(st.balance, 1000);
}
END_TEST

/* The relayed DEBIT of finding 2, now with its payee: it needs the PIN,
 * uses it up, and its receipt names the payee. */
START_TEST(test_attack_debit)
{
    uint8_t cmd[64], msg[56], h[32];
    size_t n = debit_apdu(cmd, 1000, 5, txid1);

    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6982);
    ck_assert_uint_eq(rlen, 0);
    ck_assert_uint_eq(st.balance, 1000);
    TX("00 20 00 80 08 " PIN_OK, 0x9000);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x9000);
    ck_assert_uint_eq(st.balance, 0);
    check_receipt("CLRD", 1000, 0, 6, txid1);
    /* The receipt covers the payee: another payee does not verify. */
    receipt_msg(msg, "CLRD", 1000, 0, 6, txid1);
    msg[40] ^= 0x20;
    sha(msg, sizeof(msg), h);
    ck_assert_int_ne(pk_verify(st.pub, h, 32, rbuf + 8, rlen - 8), 0);
    /* The old 24-byte form, replayed after a PIN entry: refused, and it
     * does not use up the verification. */
    TX("00 20 00 80 08 " PIN_OK, 0x9000);
    TX("80 54 00 00 18 00000001 00000006 3F2A910C5BE847D2A6137C09E4B568F1",
       0x6700);
    TX("00 20 00 80", 0x9000);
    ck_assert_uint_eq(tx_bytes(cmd, n), 0x6985);    /* replayed: counter */
    TX("00 20 00 80", 0x63C3);                      /* used up */
}
END_TEST

/* Finding 8: VERIFY under the chaining bit: 6884, nothing verified, no
 * try spent; a chained PSO and DEBIT likewise. */
START_TEST(test_attack_chaining)
{
    TX("10 20 00 80", 0x6884);
    TX("10 20 00 80 08 " PIN_OK, 0x6884);
    TX("10 20 00 80 08 " PIN_BAD, 0x6884);
    ck_assert_uint_eq(rlen, 0);
    TX("00 20 00 80", 0x63C3);
    ck_assert(!ap.verified);
    ck_assert_uint_eq(st.pin_tries, 3);
    TX("00 20 00 80 08 " PIN_OK, 0x9000);
    TX("10 2A 9E 9A 20 00000000000000000000000000000000"
       "00000000000000000000000000000000", 0x6884);
    TX("10 88 00 00 08 0001020304050607", 0x6884);
    TX("00 20 00 80", 0x9000);
}
END_TEST

static Suite *applet_suite(void)
{
    Suite *s = suite_create("applet");
    TCase *tc;

#define LOOP(t, v) tcase_add_loop_test(tc, t, 0, (int)CL_ARRAY_LEN(v))
    tc = tcase_create("files");
    tcase_add_checked_fixture(tc, setup, teardown);
    LOOP(test_select, select_vectors);
    tcase_add_test(tc, test_select_absent_cert);
    tcase_add_test(tc, test_sign_cert_ef);
    LOOP(test_read_binary, read_vectors);
    tcase_add_test(tc, test_read_binary_chunks);
    suite_add_tcase(s, tc);

    tc = tcase_create("pin");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_pin_counter);
    tcase_add_test(tc, test_pin_dirty);
    tcase_add_test(tc, test_puk_blocked);
    tcase_add_test(tc, test_puk_new_pin);
    tcase_add_test(tc, test_change_pin);
    tcase_add_test(tc, test_change_pin_blocked);
    LOOP(test_verify_errors, verify_err);
    tcase_add_test(tc, test_reset_clears_security);
    suite_add_tcase(s, tc);

    tc = tcase_create("signatures");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_pso);
    tcase_add_test(tc, test_internal_auth);
    suite_add_tcase(s, tc);

    tc = tcase_create("purse");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_balance);
    tcase_add_test(tc, test_credit);
    tcase_add_test(tc, test_credit_forged);
    tcase_add_test(tc, test_credit_bounds);
    tcase_add_test(tc, test_debit);
    suite_add_tcase(s, tc);

    tc = tcase_create("records");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_egoods);
    tcase_add_test(tc, test_egoods_full);
    tcase_add_test(tc, test_txlog_cyclic);
    tcase_add_test(tc, test_txlog_no_current);
    suite_add_tcase(s, tc);

    tc = tcase_create("misc");
    tcase_add_checked_fixture(tc, setup, teardown);
    LOOP(test_classes, class_vectors);
    tcase_add_test(tc, test_get_data_challenge);
    LOOP(test_t0_rule, t0_vectors);
    tcase_add_test(tc, test_crypto_failures);
    tcase_add_test(tc, test_api_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("tearing");
    tcase_add_checked_fixture(tc, setup, teardown);
    LOOP(test_tear, tear_vectors);
    tcase_add_loop_test(tc, test_tear_brute_force, 0, 4);
    tcase_add_test(tc, test_tear_records);
    tcase_add_loop_test(tc, test_tear_block, 0, 2);
    suite_add_tcase(s, tc);

    tc = tcase_create("block");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_block);
    tcase_add_test(tc, test_block_forged);
    tcase_add_test(tc, test_block_replay);
    tcase_add_test(tc, test_block_image);
    suite_add_tcase(s, tc);

    tc = tcase_create("issue10");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_attack_pso_receipt);
    tcase_add_test(tc, test_attack_auth_receipt);
    tcase_add_test(tc, test_attack_debit);
    tcase_add_test(tc, test_attack_chaining);
    suite_add_tcase(s, tc);

    tc = tcase_create("image");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_image_roundtrip);
    LOOP(test_image_corrupt, corrupt_vectors);
    tcase_add_test(tc, test_image_lengths);
    tcase_add_test(tc, test_state_edges);
    tcase_add_test(tc, test_image_fields);
    suite_add_tcase(s, tc);
#undef LOOP
    return s;
}

int main(void)
{
    return cl_test_run(applet_suite());
}
