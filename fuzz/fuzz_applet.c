/*
 * cardlink — libFuzzer target: the card applet fed arbitrary APDU
 * sequences.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Input: records of [L][L bytes]: an APDU of L bytes (L 0..254), or
 * L = FF: a card reset. The applet is personalised (PIN 1234, PUK
 * 12345678, balance 1000 of max 100000, counter 5) and runs over a test
 * crypto port that needs no keys: "SHA-256" is a cheap mix, a signature is
 * 30 06 02 01 h0 02 01 h1 over the digest h, and the issuer's signature
 * verifies when it is a DER-looking SEQUENCE of 8..72 bytes whose fifth
 * byte is h0 (so the fuzzer can forge credits 1 time in 256 and reach the
 * purse's success paths; fuzz/corpus/applet holds valid ones).
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

static int t_sign(void *c, const uint8_t priv[32], const uint8_t *dg,
                  size_t dl, uint8_t *sig, size_t ss, size_t *sl)
{
    (void)c; (void)priv;
    if (dl == 0 || ss < 8)
        abort();
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

static struct cl_applet_state st, st2;
static uint8_t img[CL_APPLET_IMAGE_MAX], img2[CL_APPLET_IMAGE_MAX];
static uint8_t resp[CL_APPLET_RESP_MIN + 300];

static void personalise(void)
{
    static const uint8_t cert[40] = {0x30, 0x26, 0x01, 0x02, 0x03};
    cl_applet_state_init(&st);
    if (cl_applet_state_set_pin(&st, false, "1234", 4, 3) != CL_OK ||
        cl_applet_state_set_pin(&st, true, "12345678", 8, 10) != CL_OK ||
        cl_applet_state_set_cert(&st, 0, cert, sizeof(cert)) != CL_OK ||
        cl_applet_state_set_cert(&st, 1, cert, 20) != CL_OK)
        abort();
    memset(st.serial, 0x11, sizeof(st.serial));
    st.pub[0] = 0x04;
    st.balance = 1000;
    st.balance_max = 100000;
    st.currency = 978;
    st.counter = 5;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cl_applet ap;
    size_t pos = 0, len, n2;

    personalise();
    if (cl_applet_init(&ap, &st, &port, NULL) != CL_OK)
        abort();
    while (pos < size) {
        uint8_t l = data[pos++];
        uint32_t bal = st.balance, ctr = st.counter;
        uint8_t pin = st.pin_tries, puk = st.puk_tries, ins;
        bool verified = ap.verified;
        unsigned sw;

        if (l == 0xFF) {
            cl_applet_reset(&ap);
            if (ap.verified)
                abort();
            continue;
        }
        if (l > size - pos)
            l = (uint8_t)(size - pos);
        if (l >= 5)
            (void)cl_applet_t0_has_data(&ap, data + pos);
        if (cl_applet_process(&ap, data + pos, l, resp, sizeof(resp), &len) !=
                CL_OK ||
            len < 2 || len > sizeof(resp))
            abort();
        ins = l >= 2 ? data[pos + 1] : 0;
        pos += l;
        sw = (unsigned)resp[len - 2] << 8 | resp[len - 1];
        if (!((sw >> 12) == 6u || (sw >> 12) == 9u) || (sw >> 8) == 0x60u)
            abort();
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
        if (ins == 0x2A && sw == 0x9000 && (!verified || ap.verified))
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
