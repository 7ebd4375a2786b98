/*
 * cardlink-perso — personalise a card image for the card applet
 * (cardlink/applet.h), and build issuer-signed commands for it.
 * SPDX-License-Identifier: Apache-2.0
 *
 *   cardlink-perso --out IMAGE [--pin 1234] [--puk 12345678]
 *       [--pin-tries 3] [--puk-tries 10] [--balance N] [--max N]
 *       [--currency 978] [--counter N] [--serial HEX8]
 *       (--card-key DER [--sign-key DER] | --gen-key) [--card-cert DER]
 *       [--sign-cert DER] [--issuer-cert DER] [--root-cert DER]
 *       [--issuer-pub DER]
 *   cardlink-perso --show IMAGE
 *   cardlink-perso --credit AMOUNT --image IMAGE --issuer-key DER [--txid HEX16]
 *   cardlink-perso --egoods HEXPAYLOAD --image IMAGE --issuer-key DER
 *   cardlink-perso --help | --version
 *
 * With cardlink-pki's test PKI in DIR:
 *   cardlink-perso --out card.img --card-key DIR/card.key.der
 *       --card-cert DIR/card.der --sign-key DIR/card-sign.key.der
 *       --sign-cert DIR/card-sign.der --issuer-cert DIR/issuer.der
 *       --root-cert DIR/root.der --issuer-pub DIR/issuer.der
 * The card has two keys (docs/applet.md, "Two keys"): --card-key is the
 * authentication key (INTERNAL AUTHENTICATE, receipts; its certificate
 * --card-cert goes to EF 0101), --sign-key the signing key (PSO only; its
 * certificate --sign-cert goes to EF 0104). Without --sign-key a fresh
 * signing key is generated (no certificate: a warning); --gen-key generates
 * both. The two keys must differ, and each certificate must certify its
 * key. --issuer-pub takes a certificate or a SubjectPublicKeyInfo (P-256):
 * the key that signs credits and e-goods. The serial defaults to the first
 * 8 bytes of SHA-256(authentication public key). --credit/--egoods print the command APDU (hex) for the image's
 * current serial and purse counter (docs/applet.md). Exit status: 0 done,
 * 1 failure, 2 usage error.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardlink/applet.h"
#include "cardlink/error.h"
#include "cardlink/wipe.h"
#include "applet_crypto.h"

#define FILE_MAX 8192

static struct cl_applet_state st;
static uint8_t img[CL_APPLET_IMAGE_MAX];

static int read_file(const char *path, uint8_t *buf, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t n;

    if (f == NULL) {
        fprintf(stderr, "cardlink-perso: %s: %s\n", path, strerror(errno));
        return -1;
    }
    n = fread(buf, 1, max, f);
    if (n == max && fgetc(f) != EOF) {
        fprintf(stderr, "cardlink-perso: %s: too large\n", path);
        fclose(f);
        return -1;
    }
    fclose(f);
    *len = n;
    return 0;
}

static int write_file(const char *path, const uint8_t *buf, size_t len)
{
    char tmp[4096];
    FILE *f;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return -1;
    f = fopen(tmp, "wb");
    if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0 ||
        rename(tmp, path) != 0) {
        fprintf(stderr, "cardlink-perso: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int load_image(const char *path)
{
    size_t len = 0;
    int rc;

    if (read_file(path, img, sizeof(img), &len) != 0)
        return -1;
    rc = cl_applet_state_load(&st, img, len);
    if (rc != CL_OK) {
        fprintf(stderr, "cardlink-perso: %s: not a card image (%s)\n", path,
                cl_strerror(rc));
        return -1;
    }
    return 0;
}

static int parse_hex(const char *s, uint8_t *out, size_t max, size_t *len)
{
    size_t n = 0;
    while (*s) {
        unsigned v;
        if (n == max || sscanf(s, "%2x", &v) != 1 || !s[1])
            return -1;
        out[n++] = (uint8_t)v;
        s += 2;
    }
    *len = n;
    return 0;
}

static int parse_u32(const char *s, uint32_t *out)
{
    char *end;
    unsigned long v;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *s == '\0' || *end != '\0' || *s == '-' || v > 0xFFFFFFFFul)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static void print_hex(const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        printf("%02X", p[i]);
    printf("\n");
}

#ifndef CL_TOOL_VERSION
#define CL_TOOL_VERSION "unknown"
#endif

/* The usage text: on stdout for --help, on stderr after a usage error. */
static void print_usage(FILE *f)
{
    fputs("usage: cardlink-perso --out IMAGE [--pin 1234] [--puk 12345678]\n"
          "         [--pin-tries 3] [--puk-tries 10] [--balance N] [--max N]\n"
          "         [--currency 978] [--counter N] [--serial HEX8]\n"
          "         (--card-key DER [--sign-key DER] | --gen-key)\n"
          "         [--card-cert DER] [--sign-cert DER]\n"
          "         [--issuer-cert DER] [--root-cert DER] [--issuer-pub DER]\n"
          "       cardlink-perso --show IMAGE\n"
          "       cardlink-perso --credit AMOUNT --image IMAGE --issuer-key DER"
          " [--txid HEX16]\n"
          "       cardlink-perso --egoods HEXPAYLOAD --image IMAGE"
          " --issuer-key DER\n"
          "       cardlink-perso --help | --version\n", f);
}

static int usage(void)
{
    print_usage(stderr);
    return 2;
}

static int show(const char *path)
{
    unsigned i;

    if (load_image(path) != 0)
        return 1;
    printf("serial      ");
    print_hex(st.serial, sizeof(st.serial));
    printf("PIN tries   %u/%u\nPUK tries   %u/%u\n", st.pin_tries, st.pin_max,
           st.puk_tries, st.puk_max);
    printf("state       %s\n", st.blocked ? "BLOCKED (issuer)" : "active");
    printf("balance     %lu (max %lu), currency %u, counter %lu\n",
           (unsigned long)st.balance, (unsigned long)st.balance_max,
           st.currency, (unsigned long)st.counter);
    printf("auth key    ");
    print_hex(st.pub, sizeof(st.pub));
    printf("sign key    ");
    if (st.sign_pub[0] == 0x04)
        print_hex(st.sign_pub, sizeof(st.sign_pub));
    else
        printf("none\n");
    printf("certs       card %u, issuer %u, root %u, sign %u bytes\n",
           st.cert_len[CL_APPLET_CERT_CARD], st.cert_len[CL_APPLET_CERT_ISSUER],
           st.cert_len[CL_APPLET_CERT_ROOT], st.cert_len[CL_APPLET_CERT_SIGN]);
    printf("e-goods     %u\n", st.egoods_count);
    for (i = 0; i < st.egoods_count; i++) {
        printf("  %u %s ", i + 1, st.egoods[i].used ? "used " : "valid");
        print_hex(st.egoods[i].data, st.egoods[i].data_len);
    }
    printf("records     %u\n", st.txlog_count);
    for (i = 0; i < st.txlog_count; i++) {
        printf("  %u ", i + 1);
        print_hex(st.txlog[(st.txlog_head + i) % CL_APPLET_TXLOG_MAX],
                  CL_APPLET_TXREC_LEN);
    }
    return 0;
}

/* --credit / --egoods: sign with the issuer key, print the APDU. */
static int issuer_command(struct cl_posix_crypto *pc,
                          const struct cl_applet_crypto *port,
                          const char *image,
                          const char *keyfile, const char *credit,
                          const char *egoods, const char *txid_hex)
{
    static uint8_t buf[FILE_MAX];
    uint8_t priv[32], pub[65], msg[128], h[32], sig[72], apdu[256];
    uint8_t txid[16], payload[CL_APPLET_EGOODS_DATA];
    size_t len = 0, sl = 0, n = 0, i;
    uint32_t amount = 0;

    if (load_image(image) != 0 || read_file(keyfile, buf, sizeof(buf), &len) ||
        cl_posix_crypto_key_from_der(pc, buf, len, priv, pub) != CL_OK) {
        fprintf(stderr, "cardlink-perso: cannot use the issuer key\n");
        return 1;
    }
    if (memcmp(pub, st.issuer_pub, sizeof(pub)) != 0)
        fprintf(stderr, "cardlink-perso: warning: this key is not the "
                        "image's issuer key\n");
    if (credit) {
        if (parse_u32(credit, &amount) != 0 || amount == 0)
            return usage();
        if (txid_hex) {
            if (parse_hex(txid_hex, txid, sizeof(txid), &n) != 0 || n != 16)
                return usage();
        } else if (port->random(port->ctx, txid, sizeof(txid)) != CL_OK) {
            return 1;
        }
        memcpy(msg, CL_APPLET_TAG_CREDIT, 4);
        memcpy(msg + 4, st.serial, 8);
        for (i = 0; i < 4; i++) {
            msg[12 + i] = (uint8_t)(amount >> (24 - 8 * i));
            msg[16 + i] = (uint8_t)(st.counter >> (24 - 8 * i));
        }
        memcpy(msg + 20, txid, 16);
        n = 36;
    } else {
        if (parse_hex(egoods, payload, sizeof(payload), &len) != 0 ||
            len < CL_APPLET_EGOODS_ID_LEN)
            return usage();
        memcpy(msg, CL_APPLET_TAG_EGOODS, 4);
        memcpy(msg + 4, st.serial, 8);
        memcpy(msg + 12, payload, len);
        n = 12 + len;
    }
    if (cl_posix_crypto_sha256(NULL, msg, n, h) != CL_OK ||
        cl_posix_crypto_sign(pc, priv, h, 32, sig, sizeof(sig), &sl) != CL_OK)
        return 1;
    if (credit) {
        memcpy(apdu, "\x80\x52\x00\x00", 4);
        apdu[4] = (uint8_t)(24 + sl);
        memcpy(apdu + 5, msg + 12, 24);
        memcpy(apdu + 29, sig, sl);
        n = 29 + sl;
        apdu[n++] = 0x00;
    } else {
        memcpy(apdu, "\x00\xE2\x00\x20", 4);
        apdu[4] = (uint8_t)(1 + len + sl);
        apdu[5] = (uint8_t)len;
        memcpy(apdu + 6, payload, len);
        memcpy(apdu + 6 + len, sig, sl);
        n = 6 + len + sl;
    }
    print_hex(apdu, n);
    return 0;
}

struct opts {
    const char *out, *pin, *puk, *card_key, *card_cert, *issuer_cert;
    const char *sign_key, *sign_cert;
    const char *root_cert, *issuer_pub, *serial, *show, *credit, *egoods;
    const char *image, *issuer_key, *txid;
    const char *balance, *max, *currency, *counter, *pin_tries, *puk_tries;
    int gen_key;
};

static int personalise(struct cl_posix_crypto *pc, const struct opts *o)
{
    static uint8_t buf[FILE_MAX];
    const char *certs[CL_APPLET_CERT_SLOTS];
    uint32_t v, tries[2] = {3, 10};
    size_t len = 0, n, i;
    uint8_t h[32];
    int rc;

    certs[CL_APPLET_CERT_CARD] = o->card_cert;
    certs[CL_APPLET_CERT_ISSUER] = o->issuer_cert;
    certs[CL_APPLET_CERT_ROOT] = o->root_cert;
    certs[CL_APPLET_CERT_SIGN] = o->sign_cert;
    cl_applet_state_init(&st);
    if ((o->pin_tries && (parse_u32(o->pin_tries, &tries[0]) || tries[0] > 15)) ||
        (o->puk_tries && (parse_u32(o->puk_tries, &tries[1]) || tries[1] > 15)))
        return usage();
    if (cl_applet_state_set_pin(&st, false, o->pin, strlen(o->pin),
                                (uint8_t)tries[0]) != CL_OK ||
        cl_applet_state_set_pin(&st, true, o->puk, strlen(o->puk),
                                (uint8_t)tries[1]) != CL_OK) {
        fputs("cardlink-perso: PIN 4..12 digits, PUK 8..12 digits, tries "
              "1..15\n", stderr);
        return 2;
    }
    if (o->gen_key) {
        rc = cl_posix_crypto_keygen(pc, st.priv, st.pub);
    } else {
        if (read_file(o->card_key, buf, sizeof(buf), &len) != 0)
            return 1;
        rc = cl_posix_crypto_key_from_der(pc, buf, len, st.priv, st.pub);
    }
    if (rc != CL_OK) {
        fprintf(stderr, "cardlink-perso: card key: %s\n", cl_strerror(rc));
        return 1;
    }
    if (o->sign_key) {
        if (read_file(o->sign_key, buf, sizeof(buf), &len) != 0)
            return 1;
        rc = cl_posix_crypto_key_from_der(pc, buf, len, st.sign_priv,
                                          st.sign_pub);
    } else {
        if (!o->gen_key)
            fputs("cardlink-perso: warning: no --sign-key: a fresh signing "
                  "key (PSO), without a certificate\n", stderr);
        rc = cl_posix_crypto_keygen(pc, st.sign_priv, st.sign_pub);
    }
    cl_wipe(buf, sizeof(buf));
    if (rc != CL_OK) {
        fprintf(stderr, "cardlink-perso: signing key: %s\n", cl_strerror(rc));
        return 1;
    }
    if (memcmp(st.sign_pub, st.pub, sizeof(st.pub)) == 0) {
        fputs("cardlink-perso: the signing key must not be the "
              "authentication key\n", stderr);
        return 1;
    }
    for (i = 0; i < CL_APPLET_CERT_SLOTS; i++) {
        if (certs[i] == NULL)
            continue;
        if (read_file(certs[i], buf, sizeof(buf), &len) != 0)
            return 1;
        rc = cl_applet_state_set_cert(&st, (int)i, buf, len);
        if (rc != CL_OK) {
            fprintf(stderr, "cardlink-perso: %s: %s\n", certs[i],
                    cl_strerror(rc));
            return 1;
        }
    }
    if (o->card_cert) {
        uint8_t pub[65];
        rc = cl_posix_crypto_pub_from_der(st.cert[CL_APPLET_CERT_CARD],
                                          st.cert_len[CL_APPLET_CERT_CARD],
                                          pub);
        if (rc != CL_OK || memcmp(pub, st.pub, sizeof(pub)) != 0) {
            fprintf(stderr, "cardlink-perso: %s does not certify the card "
                            "(authentication) key\n", o->card_cert);
            return 1;
        }
    }
    if (o->sign_cert) {
        uint8_t pub[65];
        rc = cl_posix_crypto_pub_from_der(st.cert[CL_APPLET_CERT_SIGN],
                                          st.cert_len[CL_APPLET_CERT_SIGN],
                                          pub);
        if (rc != CL_OK || memcmp(pub, st.sign_pub, sizeof(pub)) != 0) {
            fprintf(stderr, "cardlink-perso: %s does not certify the signing "
                            "key\n", o->sign_cert);
            return 1;
        }
    }
    if (o->issuer_pub) {
        if (read_file(o->issuer_pub, buf, sizeof(buf), &len) != 0)
            return 1;
        rc = cl_posix_crypto_pub_from_der(buf, len, st.issuer_pub);
        if (rc != CL_OK) {
            fprintf(stderr, "cardlink-perso: %s: no P-256 public key (%s)\n",
                    o->issuer_pub, cl_strerror(rc));
            return 1;
        }
    } else {
        fputs("cardlink-perso: warning: no --issuer-pub: the card will "
              "refuse every credit and e-goods record\n", stderr);
    }
    if (o->serial) {
        if (parse_hex(o->serial, st.serial, sizeof(st.serial), &n) != 0 ||
            n != sizeof(st.serial))
            return usage();
    } else {
        if (cl_posix_crypto_sha256(NULL, st.pub, sizeof(st.pub), h) != CL_OK)
            return 1;
        memcpy(st.serial, h, sizeof(st.serial));
    }
    if (o->balance && parse_u32(o->balance, &st.balance) != 0)
        return usage();
    if (o->max && parse_u32(o->max, &st.balance_max) != 0)
        return usage();
    if (o->counter && parse_u32(o->counter, &st.counter) != 0)
        return usage();
    if (o->currency) {
        if (parse_u32(o->currency, &v) != 0 || v > 999)
            return usage();
        st.currency = (uint16_t)v;
    } else {
        st.currency = 978;
    }
    if (st.balance > st.balance_max) {
        fputs("cardlink-perso: --balance above --max\n", stderr);
        return 2;
    }
    rc = cl_applet_state_save(&st, img, sizeof(img), &len);
    if (rc != CL_OK || write_file(o->out, img, len) != 0) {
        fprintf(stderr, "cardlink-perso: cannot write %s\n", o->out);
        return 1;
    }
    printf("%s: %zu bytes, serial ", o->out, len);
    print_hex(st.serial, sizeof(st.serial));
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o;
    struct cl_posix_crypto pc;
    struct cl_applet_crypto port;
    int i, rc;

    memset(&o, 0, sizeof(o));
    o.pin = "1234";
    o.puk = "12345678";
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;
        if (strcmp(a, "--gen-key") == 0) {
            o.gen_key = 1;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            print_usage(stdout);
            fputs("\nPersonalises a card image for the cardlink card applet (--out), shows\n"
                  "one (--show), or prints an issuer-signed CREDIT or e-goods command for\n"
                  "it (--credit, --egoods). Exit status: 0 done, 1 failure, 2 usage error.\n",
                  stdout);
            return 0;
        }
        if (strcmp(a, "--version") == 0) {
            printf("cardlink-perso %s\n", CL_TOOL_VERSION);
            return 0;
        }
#define OPT(name, field) else if (strcmp(a, name) == 0) dst = &o.field;
        if (0) {
        }
        OPT("--out", out) OPT("--pin", pin) OPT("--puk", puk)
        OPT("--card-key", card_key) OPT("--card-cert", card_cert)
        OPT("--sign-key", sign_key) OPT("--sign-cert", sign_cert)
        OPT("--issuer-cert", issuer_cert) OPT("--root-cert", root_cert)
        OPT("--issuer-pub", issuer_pub) OPT("--serial", serial)
        OPT("--show", show) OPT("--credit", credit) OPT("--egoods", egoods)
        OPT("--image", image) OPT("--issuer-key", issuer_key)
        OPT("--txid", txid) OPT("--balance", balance) OPT("--max", max)
        OPT("--currency", currency) OPT("--counter", counter)
        OPT("--pin-tries", pin_tries) OPT("--puk-tries", puk_tries)
#undef OPT
        if (dst == NULL || i + 1 >= argc)
            return usage();
        *dst = argv[++i];
    }
    if (o.show)
        return show(o.show);
    if (cl_posix_crypto_init(&pc, &port, NULL, 0) != CL_OK) {
        fputs("cardlink-perso: no random generator\n", stderr);
        return 1;
    }
    if (o.credit || o.egoods) {
        if (!o.image || !o.issuer_key || (o.credit && o.egoods))
            rc = usage();
        else
            rc = issuer_command(&pc, &port, o.image, o.issuer_key, o.credit, o.egoods,
                                o.txid);
    } else if (!o.out || (!o.card_key == !o.gen_key) ||
               (o.gen_key && o.sign_key)) {
        rc = usage();
    } else {
        rc = personalise(&pc, &o);
    }
    cl_applet_state_wipe(&st);
    cl_posix_crypto_free(&pc);
    return rc;
}
