/*
 * cardlink — fuzz target: the device's rules (lib/policy).
 * SPDX-License-Identifier: Apache-2.0
 *
 * The first byte chooses the configuration (its low four bits are the
 * CL_POLICY_F_* flags) and the entry point (bits 4..6); the second the
 * state (PIN verified; a relayed chain of INS byte 3 open; a cleanup
 * pending). The rest is taken as a command APDU, a relay message, a prompt,
 * a script or a transaction with an approval dialogue, and put through
 * every entry point that takes it. Besides "no crash", the oracle is the
 * policy's promise: nothing with a PIN or signing INS is ever allowed from
 * a relayed origin, no prompt that admits 4..12 digits or names a PIN is
 * shown, no template other than VERIFY/CHANGE with CLA 00 P1 00 is
 * filled, and no signing command is built before Confirm after every page.
 */
#include <stdlib.h>
#include <string.h>

#include "cardlink/apdu.h"
#include "cardlink/error.h"
#include "cardlink/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

/* The promise for one relayed command that policy allowed. */
static void relayed_ok(const struct cl_policy *cfg, const struct cl_policy_state *st,
                       const uint8_t *apdu, size_t n)
{
    struct cl_apdu a;
    bool chained;

    if (cl_apdu_decode(apdu, n, &a, NULL) != CL_OK)
        abort();
    if (a.cla == 0xFF || n > (cfg->max_apdu ? cfg->max_apdu : CL_APDU_MAX))
        abort();
    chained = (a.cla & 0x10) != 0;
    switch (a.ins) {
    case 0x20: case 0x21:
        if (a.nc > 0 || chained)
            abort();
        break;
    case 0x24: case 0x25: case 0x26: case 0x27: case 0x28: case 0x29: case 0x2C: case 0x2D:
    case 0x2A: case 0x2B: case 0x88: case 0x86: case 0x87: case 0xAE: case 0xC2: case 0xC3:
        abort();
    case 0x22:
        if (chained || (st->flags & CL_POLICY_S_PIN_VERIFIED))
            abort();
        break;
    case 0x54: case 0x56:
        if (cfg->flags & CL_POLICY_F_CARDLINK)
            abort();
        break;
    case 0xE2:
        if ((cfg->flags & CL_POLICY_F_CARDLINK) && ((a.p2 & 0xF8) == 0x28 || (a.p2 & 0xF8) == 0))
            abort();
        break;
    default:
        break;
    }
    if (st->cleanup != CL_POLICY_CLEANUP_NONE || st->step != CL_POLICY_IDLE)
        abort();
}

static void template_ok(const struct cl_relay_pin *p, bool change)
{
    if (p->apdu.len < 6 || p->apdu.data[0] != 0x00 || p->apdu.data[1] != (change ? 0x24 : 0x20) ||
        p->apdu.data[2] != 0x00 || p->min_len < 4 || p->max_len > 12)
        abort();
}

static void prompt_ok(const struct cl_policy *cfg, const struct cl_relay_prompt *p)
{
    size_t i;

    for (i = 0; i < p->text.len; i++)
        if ((p->text.data[i] < 0x20 && p->text.data[i] != '\n') || p->text.data[i] > 0x7E)
            abort();
    if (p->kind == CL_RELAY_PROMPT_YESNO)
        return;
    if (p->kind == CL_RELAY_PROMPT_NUMERIC && p->max_len >= 4 && p->min_len <= 12 &&
        !(cfg->flags & CL_POLICY_F_NUMERIC_PROMPTS))
        abort();
    if (cl_policy_pin_words(p->text.data, p->text.len))
        abort();
}

static void script_ok(const struct cl_policy *cfg, const struct cl_policy_state *st,
                      const struct cl_relay_script *s)
{
    size_t i;

    if (s->nsteps == 0 || s->nsteps > CL_RELAY_SCRIPT_MAX)
        abort();
    for (i = 0; i < s->nsteps; i++)
        relayed_ok(cfg, st, s->steps[i].apdu.data, s->steps[i].apdu.len);
}

static void do_msg(const struct cl_policy *cfg, const struct cl_policy_state *st,
                   const uint8_t *d, size_t n)
{
    static struct cl_relay_msg m;
    uint8_t reason;
    size_t step;
    char out[4096];
    size_t olen;

    if (cl_relay_decode(d, n, &m) != CL_OK)
        return;
    if (cl_policy_check_msg(cfg, st, &m, n, &reason, &step) != CL_OK) {
        if (reason == CL_POLICY_ALLOWED || cl_policy_wire_code(reason) == CL_RELAY_E_NONE)
            abort();
        return;
    }
    if (reason != CL_POLICY_ALLOWED || step != CL_POLICY_NO_STEP)
        abort();
    switch (m.type) {
    case CL_RELAY_APDU:
        relayed_ok(cfg, st, m.u.apdu.apdu.data, m.u.apdu.apdu.len);
        break;
    case CL_RELAY_SCRIPT:
        script_ok(cfg, st, &m.u.script);
        break;
    case CL_RELAY_PIN_VERIFY:
    case CL_RELAY_PIN_CHANGE:
        template_ok(&m.u.pin, m.type == CL_RELAY_PIN_CHANGE);
        break;
    case CL_RELAY_PROMPT:
        prompt_ok(cfg, &m.u.prompt);
        if (cl_policy_mark_text(m.u.prompt.text.data, m.u.prompt.text.len, 16, out, sizeof(out),
                                &olen) != CL_OK)
            abort();
        break;
    case CL_RELAY_DISPLAY:
        if (cl_policy_mark_text(m.u.display.text.data, m.u.display.text.len, 20, out,
                                sizeof(out), &olen) != CL_OK)
            abort();
        break;
    case CL_RELAY_TXN_APPROVE:
        if (m.u.txn.has_pin)
            template_ok(&m.u.txn.pin, false);
        break;
    default:
        break;
    }
}

/* Steps: each a length byte and that many bytes. */
static void do_script(const struct cl_policy *cfg, const struct cl_policy_state *st,
                      const uint8_t *d, size_t n)
{
    static struct cl_relay_script s;
    uint8_t reason;
    size_t step, i = 0;

    memset(&s, 0, sizeof(s));
    while (i < n && s.nsteps < CL_RELAY_SCRIPT_MAX) {
        size_t l = d[i++];
        if (l > n - i)
            l = n - i;
        s.steps[s.nsteps].apdu.data = d + i;
        s.steps[s.nsteps].apdu.len = l;
        s.nsteps++;
        i += l;
    }
    if (cl_policy_check_script(cfg, st, &s, &reason, &step) == CL_OK) {
        if (reason != CL_POLICY_ALLOWED || step != CL_POLICY_NO_STEP)
            abort();
        script_ok(cfg, st, &s);
    } else if (step != CL_POLICY_NO_STEP && step >= s.nsteps) {
        abort();
    }
}

/* A prompt: kind, min, max, then the text. */
static void do_prompt(const struct cl_policy *cfg, const uint8_t *d, size_t n)
{
    struct cl_relay_prompt p;
    uint8_t reason;
    char out[(512 + 1) * 3 + 512 + 1];
    size_t olen;

    if (n < 3)
        return;
    memset(&p, 0, sizeof(p));
    p.kind = d[0] % 4;
    p.min_len = d[1];
    p.max_len = d[2];
    p.text.data = d + 3;
    p.text.len = n - 3 > 512 ? 512 : n - 3;
    if (cl_policy_check_prompt(cfg, &p, &reason) == CL_OK)
        prompt_ok(cfg, &p);
    if ((cl_policy_check_text(p.text.data, p.text.len, &reason) == CL_OK) !=
        (cl_policy_mark_text(p.text.data, p.text.len, 3u + d[1] % 40u, out, sizeof(out),
                             &olen) == CL_OK))
        abort();   /* out holds any 512-byte text: only the bytes decide */
}

/* A transaction (canonical encoding, its length in the first byte) and an
 * approval dialogue (the rest: one event per byte). */
static void do_txn(const struct cl_policy *cfg, struct cl_policy_state *st, const uint8_t *d,
                   size_t n)
{
    static const uint8_t hdrs[3][4] = { { 0x00, 0x2A, 0x9E, 0x9A }, { 0x00, 0x88, 0x00, 0x00 },
                                        { 0x80, 0x54, 0x00, 0x00 } };
    static struct cl_txn txn;
    static struct cl_relay_msg m;
    uint8_t reason, out[128], digest[48], bal[20];
    size_t tl, i, olen;
    unsigned pages;
    bool confirmed = false;

    if (n < 2)
        return;
    tl = d[0];
    if (tl > n - 2)
        tl = n - 2;
    if (cl_txn_decode(d + 2, tl, &txn) != CL_OK)
        return;
    if (cl_policy_check_txn_text(&txn, &reason) != CL_OK && reason != CL_POLICY_R_AMOUNT_TEXT)
        abort();
    cl_relay_msg_init(&m, CL_RELAY_TXN_APPROVE);
    m.u.txn.txn_id = txn.id;
    memcpy(m.u.txn.sign_cmd, hdrs[d[1] % 3], 4);
    m.u.txn.digest = (d[1] & 0x80) ? CL_RELAY_DIGEST_SHA384 : CL_RELAY_DIGEST_SHA256;
    txn.kind = (uint8_t)((d[1] >> 2) % 7);
    if (d[1] & 0x40)
        txn.kind = CL_POLICY_KIND_PURSE;
    pages = 1u + (d[1] >> 4) % 4u;
    if (cl_policy_approve_start(cfg, st, &m.u.txn, &txn, pages, &reason) != CL_OK)
        return;
    if (st->step != CL_POLICY_SHOWING)
        abort();
    memset(digest, 0x5A, sizeof(digest));
    memset(bal, 0, sizeof(bal));
    bal[4] = (uint8_t)(txn.currency >> 8);
    bal[5] = (uint8_t)txn.currency;
    bal[18] = 0x90;
    for (i = 2 + tl; i < n; i++) {
        uint8_t e = d[i];
        switch (e % 8) {
        case 0:
            cl_policy_page_shown(st, e >> 3);
            break;
        case 1:
            if (cl_policy_confirm(st, &reason) == CL_OK) {
                if (st->seen != st->pages)
                    abort();
                confirmed = true;
            }
            break;
        case 2:
            cl_policy_pin_result(st, 0x80, (e & 0x10) ? 0x9000 : 0x63C1);
            break;
        case 3:
            if (cl_policy_build_sign(st, digest, (e & 0x10) ? 48 : 32, out, sizeof(out), &olen) ==
                CL_OK) {
                if (!confirmed || olen < 38 || (out[1] != 0x2A && out[1] != 0x88))
                    abort();
            }
            break;
        case 4:
            if (cl_policy_build_debit(st, &txn, bal, sizeof(bal), out, sizeof(out), &olen,
                                      &reason) == CL_OK) {
                if (!confirmed || olen != CL_POLICY_DEBIT_LEN || out[1] != 0x54)
                    abort();
            }
            break;
        case 5:
            (void)cl_policy_sign_result(cfg, st, (e & 0x10) ? 0x9000 : 0x6A86);
            break;
        case 6:
            (void)cl_policy_approve_abort(cfg, st);
            break;
        default:
            if (cl_policy_build_cleanup(st, out, sizeof(out), &olen) == CL_OK)
                cl_policy_cleanup_done(st, (e & 0x10) ? 0x9000 : 0x6A86);
            else if (cl_policy_cleanup(st) == CL_POLICY_CLEANUP_CARD_RESET)
                cl_policy_card_reset(st);
            break;
        }
        if (st->step == CL_POLICY_IDLE || st->step == CL_POLICY_SHOWING)
            confirmed = false;   /* only Confirm after every page moves past SHOWING */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
    static const struct cl_policy_rule extra_rules[] = {
        { 0xF0, 0x80, 0x5A, 0, 0, 0, 0, CL_POLICY_WHEN_PIN_VERIFIED, 0 },
        { 0x00, 0x00, 0x99, 0, 0, 0xF8, 0x10, CL_POLICY_WHEN_DATA, CL_POLICY_R_PIN },
    };
    static const struct cl_policy_table extra = { extra_rules, 2 };
    struct cl_policy cfg;
    struct cl_policy_state st;
    uint8_t reason;

    if (len < 3)
        return 0;
    memset(&cfg, 0, sizeof(cfg));
    cfg.flags = buf[0] & 0x0Fu;
    if (buf[1] & 0x80) {
        cfg.max_apdu = 16u + buf[2];
        cfg.max_steps = 1u + buf[2] % 40u;
        cfg.max_msg = 64u + buf[2];
        cfg.extra = &extra;
        cfg.nextra = 1;
    }
    cl_policy_init(&st);
    if (buf[1] & 0x01)
        cl_policy_pin_result(&st, 0x80, 0x9000);
    if (buf[1] & 0x02) {
        uint8_t c[6] = { 0x10, buf[2], 0x00, 0x00, 0x01, 0x00 };
        cl_policy_relayed(&st, c, sizeof(c), 0x9000);
    }
    if (buf[1] & 0x04) {
        cl_policy_init(&st);
        st.cleanup = (buf[1] & 0x08) ? CL_POLICY_CLEANUP_CARD_RESET : CL_POLICY_CLEANUP_PIN_RESET;
    }
    buf += 3;
    len -= 3;
    switch ((buf[-3] >> 4) & 0x07u) {
    case 0:
        if (cl_policy_check_apdu(&cfg, &st, buf, len, &reason) == CL_OK) {
            relayed_ok(&cfg, &st, buf, len);
            if ((st.flags & CL_POLICY_S_CHAIN) && buf[1] != st.chain_ins)
                abort();
            cl_policy_relayed(&st, buf, len, 0x9000);
        }
        break;
    case 1:
        do_msg(&cfg, &st, buf, len);
        break;
    case 2:
        do_script(&cfg, &st, buf, len);
        break;
    case 3:
        do_prompt(&cfg, buf, len);
        break;
    default:
        do_txn(&cfg, &st, buf, len);
        break;
    }
    return 0;
}
