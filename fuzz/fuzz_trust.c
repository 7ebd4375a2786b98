/*
 * cardlink — libFuzzer target: the trust boundary as an invariant
 * (issue 10). A hostile server's messages, lib/policy, the cardlink applet
 * in-process and a simulated holder who confirms only what the device
 * displayed.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The harness plays a minimal device: every server request goes through
 * lib/policy exactly as docs/security.md "Device policy" says the device
 * must call it, and every command reaching the card passes one gate,
 * card(), which knows where the command came from. The oracle lives in
 * card() and abort()s the moment the card produces
 *  - a signature with the signing key (PSO) or the authentication key
 *    (INTERNAL AUTHENTICATE) over anything but the digest of a
 *    transaction the holder confirmed, after seeing every page, in this
 *    approval (and only once);
 *  - a debit that is not the confirmed purse payment (amount, id, payee),
 *    or any other change of the purse than a confirmed debit;
 *  - an e-goods record used, or a transaction-log record written (no flow
 *    of this harness may do either);
 *  - a PIN comparison fed by anything but the holder's keypad (a relayed
 *    VERIFY / CHANGE / RESET RETRY COUNTER with data reaching the card);
 * and in the prompt step, when policy lets through a prompt that could
 * be taken for the PIN screen.
 *
 * Input: byte 0 picks policy flags (CL_POLICY_F_CARDLINK always: the card
 * is the cardlink applet); then records [op][len][len bytes]:
 *   0 relayed APDU           body = the APDU
 *   1 SCRIPT                 body = [n-1] then n x ([l][l bytes])
 *   2 PIN-VERIFY             body = [enc][min][max][off][lenoff][who][template...]
 *   3 TXN-APPROVE            body = [kind][amt 4][payee][sign][bits][chal][hdr 4]
 *                            [2 unused][more]: bits 0 PIN template, 1 SHA-384,
 *                            2-3 pages viewed (3: all), 4 Confirm, 5 do the
 *                            cleanup, 6 another id, 7 amount for kinds 2/5;
 *                            more: 0 link drops after the PIN, 2 wrong PIN
 *   4 card reset
 *   5 PROMPT                 body = [kind][min][max][text...]
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cardlink/apdu.h"
#include "cardlink/applet.h"
#include "fuzz_card_crypto.h"
#include "cardlink/error.h"
#include "cardlink/policy.h"
#include "cardlink/relay_msg.h"
#include "cardlink/txn.h"

/* ------------------------------------------------ the card (test crypto: fuzz_card_crypto.h) */

static struct cl_applet_state cst;
static struct cl_applet ap;

static void personalise(void)
{
    static const uint8_t cert[40] = {0x30, 0x26, 0x01, 0x02, 0x03};
    cl_applet_state_init(&cst);
    if (cl_applet_state_set_pin(&cst, false, "1234", 4, 3) != CL_OK ||
        cl_applet_state_set_pin(&cst, true, "12345678", 8, 10) != CL_OK ||
        cl_applet_state_set_cert(&cst, CL_APPLET_CERT_CARD, cert, sizeof(cert)) != CL_OK ||
        cl_applet_state_set_cert(&cst, CL_APPLET_CERT_SIGN, cert, 30) != CL_OK)
        abort();
    memset(cst.serial, 0x11, sizeof(cst.serial));
    cst.pub[0] = 0x04;
    cst.sign_pub[0] = 0x04;
    cst.sign_priv[0] = 0x22;
    cst.balance = 5000;
    cst.balance_max = 100000;
    cst.currency = 978;
    cst.counter = 0;
    /* one e-goods record, so that a relayed USE could succeed */
    cst.egoods_count = 1;
    cst.egoods[0].data_len = CL_APPLET_EGOODS_ID_LEN;
    cst.egoods[0].sig_len = 8;
}

/* ------------------------------------------------ the holder's approval */

/* Where a command comes from. */
enum origin { O_RELAY, O_PIN, O_SIGN, O_DEVICE };

/* What the holder confirmed and the card may now do, once. */
static struct {
    bool active;
    bool debit;                 /* a purse payment (DEBIT), else a signature */
    uint8_t ins;                /* 2A or 88 for a signature */
    uint8_t digest[48];
    size_t dlen;
    uint32_t amount;
    uint8_t id[CL_TXN_ID_LEN];
    uint8_t payee[16];
} confirmed;

static uint8_t resp[CL_APPLET_RESP_MIN + 300];
static size_t resp_len;

static uint16_t sw_of(void)
{
    return (uint16_t)(resp[resp_len - 2] << 8 | resp[resp_len - 1]);
}

static bool pin_or_sign_ins(uint8_t ins)
{
    switch (ins) {
    case 0x24: case 0x25: case 0x2C: case 0x2D: case 0x26: case 0x27: case 0x28: case 0x29:
    case 0x2A: case 0x88: case 0x86: case 0x87: case 0xAE:
        return true;
    default:
        return false;
    }
}

/* The one gate to the card, and the oracle. */
static uint16_t card(enum origin o, const uint8_t *cmd, size_t len)
{
    uint32_t bal = cst.balance, ctr = cst.counter;
    uint8_t txlog = cst.txlog_count, used = cst.egoods[0].used;
    uint8_t cla = len > 0 ? cmd[0] : 0, ins = len > 1 ? cmd[1] : 0;
    uint8_t p2 = len > 3 ? cmd[3] : 0;
    uint16_t sw;

    if (o == O_RELAY && len >= 4) {
        /* nothing that handles the PIN, signs or moves value is relayed */
        if ((cla & 0x80u) == 0 && pin_or_sign_ins(ins))
            abort();
        struct cl_apdu a;
        if ((cla & 0x80u) == 0 && (ins == 0x20 || ins == 0x21) &&
            (cl_apdu_decode(cmd, len, &a, NULL) != CL_OK || a.nc > 0 || (cla & 0x10u)))
            abort();
        if (cla == 0x80u && (ins == 0x54u || ins == 0x56u))
            abort();
        if ((cla & 0x80u) == 0 && ins == 0xE2u && ((p2 >> 3) == 5 || (p2 >> 3) == 0))
            abort();
    }
    if (cl_applet_process(&ap, cmd, len, resp, sizeof(resp), &resp_len) != CL_OK ||
        resp_len < 2 || resp_len > sizeof(resp))
        abort();
    sw = sw_of();

    /* a signature: only the confirmed digest, once */
    if (sw == 0x9000u && len >= 5 && cla == 0x00u && (ins == 0x2Au || ins == 0x88u)) {
        if (o != O_SIGN || !confirmed.active || confirmed.debit || confirmed.ins != ins ||
            len < 5 + confirmed.dlen || cmd[4] != confirmed.dlen ||
            memcmp(cmd + 5, confirmed.digest, confirmed.dlen) != 0)
            abort();
        confirmed.active = false;
    }
    /* the purse: moves only by the confirmed debit */
    if (cst.balance != bal || cst.counter != ctr) {
        if (o != O_SIGN || !confirmed.active || !confirmed.debit || cst.balance > bal ||
            bal - cst.balance != confirmed.amount || cst.counter != ctr + 1u || len < 45 ||
            memcmp(cmd + 13, confirmed.id, CL_TXN_ID_LEN) != 0 ||
            memcmp(cmd + 29, confirmed.payee, 16) != 0)
            abort();
        confirmed.active = false;
    }
    if (cst.txlog_count != txlog || cst.egoods[0].used != used)
        abort();
    return sw;
}

static void card_reset(struct cl_policy_state *pst)
{
    cl_applet_reset(&ap);
    cl_policy_card_reset(pst);
    confirmed.active = false;
}

/* Carry out whatever cleanup policy asks for (or not: then every relayed
 * command must be refused until it is done). */
static void cleanup(struct cl_policy_state *pst, bool do_it)
{
    uint8_t cmd[8];
    size_t n;

    if (!do_it)
        return;
    switch (cl_policy_cleanup(pst)) {
    case CL_POLICY_CLEANUP_PIN_RESET:
        if (cl_policy_build_cleanup(pst, cmd, sizeof(cmd), &n) != CL_OK)
            abort();
        cl_policy_cleanup_done(pst, card(O_DEVICE, cmd, n));
        if (cl_policy_cleanup(pst) == CL_POLICY_CLEANUP_CARD_RESET)
            card_reset(pst);
        break;
    case CL_POLICY_CLEANUP_CARD_RESET:
        card_reset(pst);
        break;
    default:
        break;
    }
}

/* ------------------------------------------------ the holder's PIN entry */

/* Build the command of a template the policy allowed, with the holder's
 * digits, in format 2, BCD or ASCII; wipe the digits. */
static size_t fill_template(const struct cl_relay_pin *p, const char *digits, uint8_t *out)
{
    size_t n = strlen(digits), i, data = 5;
    size_t len = p->apdu.len;

    memcpy(out, p->apdu.data, len);
    if (p->offset == CL_RELAY_NONE || data + p->offset >= len)
        return len;
    if (p->encoding == CL_RELAY_PIN_ISO9564_2) {
        uint8_t *b = out + data + p->offset;
        if (data + p->offset + 8u > len)
            return len;
        memset(b, 0xFF, 8);
        b[0] = (uint8_t)(0x20u | n);
        for (i = 0; i < n; i++) {
            uint8_t d = (uint8_t)(digits[i] - '0');
            if (i & 1u)
                b[1 + i / 2] = (uint8_t)((b[1 + i / 2] & 0xF0u) | d);
            else
                b[1 + i / 2] = (uint8_t)((d << 4) | 0x0Fu);
        }
    } else {
        for (i = 0; i < n && data + p->offset + i < len; i++)
            out[data + p->offset + i] = (uint8_t)(p->encoding == CL_RELAY_PIN_ASCII
                                                      ? digits[i]
                                                      : digits[i] - '0');
    }
    if (p->len_offset != CL_RELAY_NONE && data + p->len_offset < len)
        out[data + p->len_offset] = (uint8_t)n;
    return len;
}

/* The holder types the PIN (right or wrong) into an allowed template. */
static uint16_t holder_pin(const struct cl_relay_pin *p, bool right)
{
    uint8_t cmd[300];
    size_t n;
    uint16_t sw;

    if (p->apdu.len > sizeof(cmd))
        return 0;
    n = fill_template(p, right ? "1234" : "9999", cmd);
    sw = card(O_PIN, cmd, n);
    memset(cmd, 0, sizeof(cmd));
    return sw;
}

/* ------------------------------------------------ the server's requests */

static const uint8_t std_template[13] = {0x00, 0x20, 0x00, 0x80, 0x08, 0x24, 0xFF, 0xFF,
                                         0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

static void op_relay(const struct cl_policy *cfg, struct cl_policy_state *pst,
                     const uint8_t *b, size_t n)
{
    uint8_t why;
    if (cl_policy_check_apdu(cfg, pst, b, n, &why) != CL_OK)
        return;
    cl_policy_relayed(pst, b, n, card(O_RELAY, b, n));
}

static void op_script(const struct cl_policy *cfg, struct cl_policy_state *pst,
                      const uint8_t *b, size_t n)
{
    struct cl_relay_script s;
    size_t pos = 1, i;
    uint8_t why;

    if (n == 0)
        return;
    memset(&s, 0, sizeof(s));
    s.nsteps = (size_t)(b[0] % 4u) + 1u;
    for (i = 0; i < s.nsteps; i++) {
        size_t l = pos < n ? b[pos++] : 0;
        if (l > n - pos)
            l = n - pos;
        s.steps[i].apdu.data = b + pos;
        s.steps[i].apdu.len = l;
        pos += l;
    }
    if (cl_policy_check_script(cfg, pst, &s, &why, NULL) != CL_OK)
        return;
    for (i = 0; i < s.nsteps; i++) {
        const struct cl_relay_bytes *a = &s.steps[i].apdu;
        cl_policy_relayed(pst, a->data, a->len, card(O_RELAY, a->data, a->len));
    }
}

static void template_of(struct cl_relay_pin *p, const uint8_t *b, size_t n)
{
    memset(p, 0, sizeof(*p));
    p->offset = p->len_offset = p->new_offset = CL_RELAY_NONE;
    if (n < 6) {
        p->apdu.data = std_template;
        p->apdu.len = sizeof(std_template);
        p->encoding = CL_RELAY_PIN_ISO9564_2;
        p->min_len = 4;
        p->max_len = 12;
        p->offset = 0;
        return;
    }
    p->encoding = (uint8_t)(b[0] % 3u + 1u);
    p->min_len = b[1];
    p->max_len = b[2];
    p->offset = b[3];
    p->len_offset = b[4];
    p->apdu.data = b + 6;
    p->apdu.len = n - 6;
}

static void op_pin(const struct cl_policy *cfg, struct cl_policy_state *pst,
                   const uint8_t *b, size_t n)
{
    struct cl_relay_pin p;
    uint8_t why;
    uint16_t sw;

    template_of(&p, b, n);
    if (cl_policy_check_template(cfg, pst, &p, false, &why) != CL_OK)
        return;
    sw = holder_pin(&p, n < 6 || (b[5] & 1u) == 0);
    if (p.apdu.len >= 4)
        cl_policy_pin_result(pst, p.apdu.data[3], sw);
}

static const char *const payees[] = {"Cafe Rosa", "Evil Corp", "EUR 1.00", "Shop 24",
                                     "1.00 EUR", "Kiosk"};

static const uint8_t headers[][4] = {
    {0x00, 0x2A, 0x9E, 0x9A}, {0x00, 0x88, 0x00, 0x00}, {0x80, 0x54, 0x00, 0x00},
    {0x00, 0x2A, 0x9E, 0x9B}, {0x10, 0x2A, 0x9E, 0x9A}, {0x80, 0x54, 0x00, 0x01},
};

static void op_txn(const struct cl_policy *cfg, struct cl_policy_state *pst,
                   const uint8_t *b, size_t n)
{
    static uint8_t enc[CL_TXN_ENCODED_MAX], tbs[CL_TXN_TBS_MAX];
    struct cl_txn t, dec;
    struct cl_relay_txn_approve m;
    uint8_t body[16], chal[64], cmd[64], bits, why;
    char page[CL_TXN_HEIGHT_MAX * (CL_TXN_WIDTH_MAX + 1) + 1];
    unsigned pages = 0, view, i;
    size_t elen, tlen, clen, cl;
    uint16_t sw;

    memset(body, 0, sizeof(body));
    memcpy(body, b, n < sizeof(body) ? n : sizeof(body));
    bits = body[7];

    memset(&t, 0, sizeof(t));
    for (i = 0; i < CL_TXN_ID_LEN; i++)
        t.id[i] = (uint8_t)(body[0] + i * 13u);
    t.kind = (uint8_t)((body[0] + 5u) % 6u + 1u);   /* 1..6 as given */
    t.has_amount = true;
    t.amount = (uint64_t)body[1] << 24 | (uint64_t)body[2] << 16 | (uint64_t)body[3] << 8 |
               body[4];
    if (t.kind == CL_TXN_AUTHENTICATION || t.kind == CL_TXN_ACCESS_GRANT)
        t.has_amount = (bits & 0x80u) != 0;
    if (!t.has_amount)
        t.amount = 0;
    t.currency = 978;
    t.exponent = 2;
    t.time.year = 2026; t.time.month = 12; t.time.day = 6;
    t.time.hour = 12; t.time.minute = 0; t.time.second = 0;
    strcpy(t.merchant, payees[body[5] % (sizeof(payees) / sizeof(payees[0]))]);
    if (cl_txn_encode(&t, enc, sizeof(enc), &elen) != CL_OK)
        return;

    memset(&m, 0, sizeof(m));
    m.txn_id = t.id;
    if (bits & 0x40u)           /* the server names another id */
        m.txn_id = (const uint8_t *)"0123456789abcdef";
    m.txn.data = enc;
    m.txn.len = elen;
    clen = 8u + body[8] % 57u;
    for (i = 0; i < clen; i++)
        chal[i] = (uint8_t)(body[8] + i);
    m.challenge.data = chal;
    m.challenge.len = clen;
    m.has_pin = (bits & 0x01u) != 0;
    if (m.has_pin)
        template_of(&m.pin, n > 16 ? b + 16 : NULL, n > 16 ? n - 16 : 0);
    if (body[6] < sizeof(headers) / sizeof(headers[0]) * 32u)
        memcpy(m.sign_cmd, headers[body[6] % (sizeof(headers) / sizeof(headers[0]))], 4);
    else
        memcpy(m.sign_cmd, body + 9, 4);
    m.digest = (bits & 0x02u) ? CL_RELAY_DIGEST_SHA384 : CL_RELAY_DIGEST_SHA256;

    /* the device: decode strictly, render, ask policy */
    if (cl_txn_decode(m.txn.data, m.txn.len, &dec) != CL_OK)
        return;
    if (cl_txn_render(&dec, 16, 2, 0, page, sizeof(page), &pages) != CL_OK || pages == 0)
        return;
    if (cl_policy_approve_start(cfg, pst, &m, &dec, pages, &why) != CL_OK)
        return;

    /* the holder reads some pages and presses Confirm or Cancel */
    view = (bits >> 2) & 3u;
    if (view == 3u)
        view = pages;
    for (i = 0; i < view && i < pages; i++) {
        if (cl_txn_render(&dec, 16, 2, i, page, sizeof(page), NULL) != CL_OK)
            abort();
        cl_policy_page_shown(pst, i);
    }
    if ((bits & 0x10u) == 0 || cl_policy_confirm(pst, &why) != CL_OK) {
        cl_policy_approve_abort(cfg, pst);
        cleanup(pst, (bits & 0x20u) != 0);
        return;
    }
    if (view < pages)
        abort();            /* Confirm accepted before every page was seen */

    /* what the holder confirmed, derived by the holder's side */
    memset(&confirmed, 0, sizeof(confirmed));
    confirmed.active = true;
    confirmed.debit = m.sign_cmd[0] == 0x80u;
    confirmed.ins = m.sign_cmd[1];
    confirmed.dlen = m.digest == CL_RELAY_DIGEST_SHA384 ? 48u : 32u;
    if (cl_txn_tbs(&dec, m.challenge.data, m.challenge.len, tbs, sizeof(tbs), &tlen) != CL_OK)
        abort();
    fcc_mix(tbs, tlen, confirmed.digest, confirmed.dlen);
    confirmed.amount = (uint32_t)dec.amount;
    memcpy(confirmed.id, dec.id, CL_TXN_ID_LEN);
    {   /* the payee padded with 00 (the harness' payees are ASCII: their
         * display form is the text itself) */
        size_t pl = strlen(dec.merchant);
        memcpy(confirmed.payee, dec.merchant, pl < 16u ? pl : 16u);
    }

    if (m.has_pin) {
        sw = holder_pin(&m.pin, (body[15] & 0x04u) == 0);
        cl_policy_pin_result(pst, m.pin.apdu.data[3], sw);
        if (sw != 0x9000u) {
            cl_policy_approve_abort(cfg, pst);
            confirmed.active = false;
            cleanup(pst, (bits & 0x20u) != 0);
            return;
        }
    }
    if (body[15] & 0x01u) {         /* the link drops: abandoned */
        cl_policy_approve_abort(cfg, pst);
        confirmed.active = false;
        cleanup(pst, (bits & 0x20u) != 0);
        return;
    }
    if (confirmed.debit) {
        uint8_t bal[32];
        sw = card(O_DEVICE, cl_policy_get_balance, sizeof(cl_policy_get_balance));
        if (resp_len > sizeof(bal))
            abort();
        memcpy(bal, resp, resp_len);
        if (cl_policy_build_debit(pst, &dec, bal, resp_len, cmd, sizeof(cmd), &cl, &why) !=
            CL_OK) {
            cl_policy_approve_abort(cfg, pst);
            confirmed.active = false;
            cleanup(pst, (bits & 0x20u) != 0);
            return;
        }
        (void)sw;
    } else if (cl_policy_build_sign(pst, confirmed.digest, confirmed.dlen, cmd, sizeof(cmd),
                                    &cl) != CL_OK) {
        abort();            /* a confirmed approval must build its command */
    }
#ifdef CL_TRUST_SELFTEST
    if (body[15] & 0x02u)           /* the oracle's own test: another digest */
        cmd[cl - 2] ^= 0x01u;       /* (last data byte) must abort() */
#endif
    sw = card(O_SIGN, cmd, cl);
    cl_policy_sign_result(cfg, pst, sw);
    confirmed.active = false;
    cleanup(pst, (bits & 0x20u) != 0);
}

static void op_prompt(const struct cl_policy *cfg, const uint8_t *b, size_t n)
{
    struct cl_relay_prompt p;
    uint8_t why;

    if (n < 3)
        return;
    memset(&p, 0, sizeof(p));
    p.kind = (uint8_t)(b[0] % 3u + 1u);
    p.min_len = b[1];
    p.max_len = b[2];
    p.text.data = b + 3;
    p.text.len = n - 3;
    if (cl_policy_check_prompt(cfg, &p, &why) != CL_OK)
        return;
    if (p.kind != CL_RELAY_PROMPT_YESNO && cl_policy_pin_words(p.text.data, p.text.len))
        abort();            /* an entry field under a PIN word */
    if (p.kind == CL_RELAY_PROMPT_NUMERIC && !(cfg->flags & CL_POLICY_F_NUMERIC_PROMPTS) &&
        p.max_len >= 4 && p.min_len <= 12)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cl_policy cfg;
    struct cl_policy_state pst;
    size_t pos = 1;

    if (size < 1)
        return 0;
    memset(&cfg, 0, sizeof(cfg));
    cfg.flags = CL_POLICY_F_CARDLINK | (data[0] & (CL_POLICY_F_CLEANUP_ALWAYS |
                                                   CL_POLICY_F_NUMERIC_PROMPTS));
    cfg.max_apdu = (data[0] & 0x80u) ? 64u : 0u;
    personalise();
    if (cl_applet_init(&ap, &cst, &fcc_port, NULL) != CL_OK)
        abort();
    cl_policy_init(&pst);
    memset(&confirmed, 0, sizeof(confirmed));

    while (pos + 2 <= size) {
        uint8_t op = data[pos] % 6u;
        size_t len = data[pos + 1];
        const uint8_t *b = data + pos + 2;
        pos += 2;
        if (len > size - pos)
            len = size - pos;
        pos += len;
        switch (op) {
        case 0: op_relay(&cfg, &pst, b, len); break;
        case 1: op_script(&cfg, &pst, b, len); break;
        case 2: op_pin(&cfg, &pst, b, len); break;
        case 3: op_txn(&cfg, &pst, b, len); break;
        case 4: card_reset(&pst); break;
        default: op_prompt(&cfg, b, len); break;
        }
    }
    cl_applet_state_wipe(&cst);
    return 0;
}
