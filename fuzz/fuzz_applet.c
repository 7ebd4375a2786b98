/*
 * cardlink — libFuzzer target: the card applet fed arbitrary APDU
 * sequences, over a store port that the input can make fail (a power cut).
 * SPDX-License-Identifier: Apache-2.0
 *
 * Input: records of [L][L bytes]: an APDU of L bytes (L 0..253), or
 * L = FF: a card reset, or L = FE: the power will be cut at the next write
 * of the store (the write fails; after that command the card restarts from
 * the last image the store holds, as after pulling the card). The applet
 * is personalised (PIN 1234, PUK 12345678, balance 1000 of max 100000,
 * counter 5, both keys) and runs over a test crypto port that needs no
 * keys: "SHA-256" is a cheap mix, a signature is 30 06 02 01 h0 02 01 h31
 * over the digest h (its first and last bytes), and the issuer's signature
 * verifies when it is a DER-looking SEQUENCE of 8..72 bytes whose fifth
 * byte is h0 (so the fuzzer can forge credits 1 time in 256 and reach the
 * purse's success paths; fuzz/corpus/applet holds valid ones; its seeds
 * are written by tests/applet/gen_seeds.py).
 *
 * After every command the invariants abort() when broken:
 *  - process() returns CL_OK with 2 <= len <= buffer and a valid SW1;
 *  - the balance changes only with 9000 to CREDIT (up, at most to the
 *    maximum) or DEBIT (down, never below zero, PIN verified before);
 *    each such change moves the counter by exactly one; the counter never
 *    decreases and moves for nothing else;
 *  - the PIN counter goes up only with 9000 to VERIFY, CHANGE REFERENCE
 *    DATA (not from 0) or RESET RETRY COUNTER; the PUK counter only with
 *    9000 to RESET RETRY COUNTER; PSO 9000 only when verified before;
 *  - a DEBIT's 9000 carries the receipt over the CLRD message with the
 *    command's payee, signed with the authentication key; a PSO's is made
 *    with the signing key, an INTERNAL AUTHENTICATE's over the CLIA message;
 *  - BLOCK: the blocked flag goes 0 -> 1 only with 9000 to 80 1E and
 *    never back; a card blocked before a command answers no 9000 to
 *    VERIFY P1 00, CHANGE, RESET RETRY COUNTER, INTERNAL AUTHENTICATE,
 *    PSO, CREDIT, DEBIT, USE or APPEND RECORD, and SELECT by AID not 9000;
 *  - tearing: the RAM image equals the last image the store persisted
 *    after every command (nothing changes without being made durable); a
 *    failed write answers 6581 with no data and makes no further write;
 *  - at the end, the image saves, loads and saves to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cardlink/applet.h"
#include "cardlink/error.h"

static void mix(const uint8_t *d, size_t n, uint8_t out[32])
{
    uint32_t h = 2166136261u;
    size_t i;
    for (i = 0; i < n; i++)
        h = (h ^ d[i]) * 16777619u;
    for (i = 0; i < 32; i++) {
        h = (h ^ (uint32_t)i) * 16777619u;
        out[i] = (uint8_t)(h >> 24);
    }
}

static int t_sha(void *c, const uint8_t *d, size_t n, uint8_t out[32])
{
    (void)c;
    mix(d, n, out);
    return CL_OK;
}

/* The keys: which one signed is recorded for the invariants. */
static const uint8_t *last_key;
static struct cl_applet_state st, st2;

static int t_sign(void *c, const uint8_t priv[32], const uint8_t *dg,
                  size_t dl, uint8_t *sig, size_t ss, size_t *sl)
{
    (void)c;
    if (dl == 0 || ss < 8)
        abort();
    last_key = priv;
    sig[0] = 0x30; sig[1] = 6; sig[2] = 2; sig[3] = 1; sig[4] = dg[0];
    sig[5] = 2; sig[6] = 1; sig[7] = dg[dl - 1];
    *sl = 8;
    return CL_OK;
}

static int t_verify(void *c, const uint8_t pub[65], const uint8_t *dg,
                    size_t dl, const uint8_t *sig, size_t sl)
{
    (void)c; (void)pub;
    if (dl != 32)
        abort();
    if (sl < 8 || sl > 72 || sig[0] != 0x30 || sig[4] != dg[0])
        return CL_ERR_SIGNATURE;
    return CL_OK;
}

static int t_random(void *c, uint8_t *o, size_t n)
{
    (void)c;
    if (n > 256)
        abort();
    memset(o, 0x5A, n);
    return CL_OK;
}

static const struct cl_applet_crypto port = {t_sign, t_verify, t_random,
                                             t_sha, NULL};

/* The store: keeps the last image persisted; cut: fail the next write. */
static uint8_t durable[CL_APPLET_IMAGE_MAX];
static size_t durable_len;
static bool cut_armed, cut_done;

static int t_persist(void *ctx, const struct cl_applet_state *s)
{
    (void)ctx;
    if (cut_done)
        abort();                        /* a write after the power cut */
    if (cut_armed) {
        cut_armed = false;
        cut_done = true;
        return CL_ERR_IO;
    }
    if (cl_applet_state_save(s, durable, sizeof(durable), &durable_len) !=
        CL_OK)
        abort();
    return CL_OK;
}

static const struct cl_applet_store store = {t_persist, NULL};

static uint8_t img[CL_APPLET_IMAGE_MAX], img2[CL_APPLET_IMAGE_MAX];
static uint8_t resp[CL_APPLET_RESP_MIN + 300];

static void personalise(void)
{
    static const uint8_t cert[40] = {0x30, 0x26, 0x01, 0x02, 0x03};
    cl_applet_state_init(&st);
    if (cl_applet_state_set_pin(&st, false, "1234", 4, 3) != CL_OK ||
        cl_applet_state_set_pin(&st, true, "12345678", 8, 10) != CL_OK ||
        cl_applet_state_set_cert(&st, CL_APPLET_CERT_CARD, cert,
                                 sizeof(cert)) != CL_OK ||
        cl_applet_state_set_cert(&st, CL_APPLET_CERT_ISSUER, cert, 20) !=
            CL_OK ||
        cl_applet_state_set_cert(&st, CL_APPLET_CERT_SIGN, cert, 30) != CL_OK)
        abort();
    memset(st.serial, 0x11, sizeof(st.serial));
    memset(st.priv, 0xA1, sizeof(st.priv));
    memset(st.sign_priv, 0x51, sizeof(st.sign_priv));
    st.pub[0] = 0x04;
    st.sign_pub[0] = 0x04;
    st.balance = 1000;
    st.balance_max = 100000;
    st.currency = 978;
    st.counter = 5;
}

/* The RAM image is the durable one. */
static void check_durable(void)
{
    size_t n = 0;
    if (cl_applet_state_save(&st, img, sizeof(img), &n) != CL_OK ||
        n != durable_len || memcmp(img, durable, n) != 0)
        abort();
}

/* Offset and length of the command data of apdu[0..l) (short or extended
 * Lc), 0 when it has none. */
static size_t data_of(const uint8_t *a, size_t l, size_t *nc)
{
    *nc = 0;
    if (l < 6)
        return 0;
    if (a[4] != 0 && (size_t)a[4] + 5u <= l) {
        *nc = a[4];
        return 5;
    }
    if (a[4] == 0 && l >= 8 && ((size_t)a[5] << 8 | a[6]) + 7u <= l) {
        *nc = (size_t)a[5] << 8 | a[6];
        return 7;
    }
    return 0;
}

/* A DEBIT's receipt: the CLRD message from the command and the new purse. */
static void check_debit_receipt(const uint8_t *cmd, size_t l,
                                const uint8_t *r, size_t rlen)
{
    uint8_t msg[56], h[32];
    size_t nc, off = data_of(cmd, l, &nc);

    if (off == 0 || nc != 40 || rlen != 8 + 8 || last_key != st.priv)
        abort();
    memcpy(msg, CL_APPLET_TAG_DEBIT_RC, 4);
    memcpy(msg + 4, st.serial, 8);
    memcpy(msg + 12, cmd + off, 4);             /* amount */
    memcpy(msg + 16, r, 8);                     /* new balance, counter */
    memcpy(msg + 24, cmd + off + 8, 32);        /* txn id, payee */
    mix(msg, sizeof(msg), h);
    if (r[8 + 4] != h[0] || r[8 + 7] != h[31])
        abort();
}

/* INTERNAL AUTHENTICATE's signature is over CLIA || serial || challenge. */
static void check_auth(const uint8_t *cmd, size_t l, const uint8_t *r,
                       size_t rlen)
{
    uint8_t msg[12 + 96], h[32];
    size_t nc, off = data_of(cmd, l, &nc);

    if (off == 0 || nc < 8 || nc > 96 || rlen != 8 || last_key != st.priv)
        abort();
    memcpy(msg, CL_APPLET_TAG_AUTH, 4);
    memcpy(msg + 4, st.serial, 8);
    memcpy(msg + 12, cmd + off, nc);
    mix(msg, 12 + nc, h);
    if (r[4] != h[0] || r[7] != h[31])
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cl_applet ap;
    size_t pos = 0, len, n2;

    personalise();
    cut_armed = cut_done = false;
    if (cl_applet_state_save(&st, durable, sizeof(durable), &durable_len) !=
            CL_OK ||
        cl_applet_init(&ap, &st, &port, &store) != CL_OK)
        abort();
    while (pos < size) {
        uint8_t l = data[pos++];
        uint32_t bal = st.balance, ctr = st.counter;
        uint8_t pin = st.pin_tries, puk = st.puk_tries, ins, cla;
        uint8_t blocked = st.blocked;
        bool verified = ap.verified;
        const uint8_t *cmd;
        unsigned sw;

        if (l == 0xFF) {
            cl_applet_reset(&ap);
            if (ap.verified)
                abort();
            continue;
        }
        if (l == 0xFE) {
            cut_armed = true;
            continue;
        }
        if (l > size - pos)
            l = (uint8_t)(size - pos);
        cmd = data + pos;
        if (l >= 5)
            (void)cl_applet_t0_has_data(&ap, cmd);
        last_key = NULL;
        if (cl_applet_process(&ap, cmd, l, resp, sizeof(resp), &len) !=
                CL_OK ||
            len < 2 || len > sizeof(resp))
            abort();
        cla = l >= 1 ? cmd[0] : 0;
        ins = l >= 2 ? cmd[1] : 0;
        pos += l;
        sw = (unsigned)resp[len - 2] << 8 | resp[len - 1];
        if (!((sw >> 12) == 6u || (sw >> 12) == 9u) || (sw >> 8) == 0x60u)
            abort();
        /* Tearing: nothing in RAM that is not durable. */
        check_durable();
        if (cut_done) {
            if (sw != 0x6581 || len != 2)
                abort();
            /* The restart: the last durable image, a fresh applet. */
            if (cl_applet_state_load(&st, durable, durable_len) != CL_OK ||
                cl_applet_init(&ap, &st, &port, &store) != CL_OK)
                abort();
            cut_done = false;
        } else if (sw == 0x6581) {
            abort();
        }
        /* Purse. */
        if (st.counter < ctr || st.counter > ctr + 1u)
            abort();
        if (st.counter != ctr) {
            if (sw != 0x9000)
                abort();
            if (ins == CL_APPLET_INS_CREDIT) {
                if (st.balance <= bal || st.balance > st.balance_max)
                    abort();
            } else if (ins == CL_APPLET_INS_DEBIT) {
                if (st.balance >= bal || !verified)
                    abort();
                check_debit_receipt(cmd, l, resp, len - 2);
            } else {
                abort();
            }
        } else if (st.balance != bal) {
            abort();
        }
        /* PIN and PUK counters. */
        if (st.pin_tries > pin &&
            (sw != 0x9000 || (ins != 0x20 && ins != 0x24 && ins != 0x2C) ||
             (pin == 0 && ins != 0x2C)))
            abort();
        if (st.puk_tries > puk && (sw != 0x9000 || ins != 0x2C))
            abort();
        if (st.pin_tries > st.pin_max || st.puk_tries > st.puk_max)
            abort();
        /* Signatures: which key, over what. */
        if (cla == 0x00 && ins == 0x2A && sw == 0x9000 &&
            (!verified || ap.verified || last_key != st.sign_priv))
            abort();
        if (cla == 0x00 && ins == 0x88 && sw == 0x9000)
            check_auth(cmd, l, resp, len - 2);
        if (last_key == st.sign_priv && !(cla == 0x00 && ins == 0x2A))
            abort();
        if (cla == 0x10 && sw != 0x6884 && sw != 0x6700)
            abort();                    /* chaining is never executed */
        /* BLOCK: set once, by an issuer-signed 80 1E; a blocked card does
         * nothing that signs, moves value, writes or checks a PIN. */
        if (st.blocked < blocked ||
            (st.blocked != blocked &&
             (sw != 0x9000 || cla != 0x80 || ins != CL_APPLET_INS_BLOCK)))
            abort();
        if (blocked && sw == 0x9000 && (cla == 0x00 || cla == 0x80) &&
            ((cla == 0x00 && ((ins == 0x20 && l > 2 && cmd[2] != 0xFF) || ins == 0x24 ||
                              ins == 0x2C || ins == 0x88 || ins == 0x2A || ins == 0xE2 ||
                              (ins == 0xA4 && l > 2 && cmd[2] == 0x04))) ||
             (cla == 0x80 && (ins == CL_APPLET_INS_CREDIT || ins == CL_APPLET_INS_DEBIT ||
                              ins == CL_APPLET_INS_USE))))
            abort();
    }
    /* The image round trip. */
    if (cl_applet_state_save(&st, img, sizeof(img), &len) != CL_OK ||
        cl_applet_state_load(&st2, img, len) != CL_OK ||
        cl_applet_state_save(&st2, img2, sizeof(img2), &n2) != CL_OK ||
        n2 != len || memcmp(img, img2, len) != 0)
        abort();
    /* A corrupted copy is refused. */
    img[len / 2] ^= 0x01;
    if (cl_applet_state_load(&st2, img, len) == CL_OK)
        abort();
    return 0;
}
