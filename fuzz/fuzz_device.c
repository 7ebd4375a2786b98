/*
 * cardlink — libFuzzer target: the device controller (lib/device) as an
 * invariant. The card simulator runs the cardlink applet in-process (test
 * crypto: cheap, deterministic); a server-role relay session sends what
 * the input says; a simulated holder, also driven by the input, reads the
 * screens, pages, confirms or cancels, types right or wrong PINs and pulls
 * the card; the link drops and resumes.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The oracle (abort()) sits between the device and the card, and on the
 * device's memory:
 *  - a signing command (PSO, INTERNAL AUTHENTICATE, any CLA-00 INS 2A 88
 *    86 87 AE) reaches the card, or a DEBIT moves the purse, without the
 *    holder's Confirm of that exact transaction (header, digest of what
 *    was rendered plus the challenge; the DEBIT's amount, id, payee) after
 *    every page of it was shown, in this approval, once;
 *  - a transaction-log record is appended other than once after such a
 *    signature, or with another id, amount or payee (the display form);
 *  - an e-goods record is used (no device flow does);
 *  - a VERIFY with data, CHANGE REFERENCE DATA or RESET RETRY COUNTER
 *    reaches the card without the holder having typed a PIN for it;
 *  - one transaction id executes (signs or debits) twice;
 *  - digits the holder typed remain anywhere in struct cl_dev (raw, ASCII
 *    or packed BCD) once the command carrying them was answered or its
 *    job ended (the PINs are long and unusual; a pattern that occurs in
 *    the fuzz input itself is not looked for).
 *
 * With a store (byte 0 b6) the device keeps its §9 log in fuzz_store.h's
 * records, and two more things must hold across power cuts: the device
 * boots again from whatever a cut left in its store (store.h: each record
 * old or new, whole), and no transaction id executes twice, whether the
 * cut came between two ops or in the middle of a store write.
 *
 * Input: byte 0 configures (b0 T=1, b1 CLEANUP_ALWAYS, b2 NUMERIC_PROMPTS,
 * b3 max_apdu 64, b4 a 16 x 2 display, b6 a store); then records
 * [op][len][body]:
 *   0 APDU        body = the command
 *   1 SCRIPT      [opts][id][n-1] then n x ([l][exp kind][sw 2][l bytes])
 *   2 DISPLAY     text
 *   3 PROMPT      [kind][min][max][timeout][text]
 *   4 PIN-VERIFY  [enc][min][max][off][lenoff][msg][template...] (< 7: std)
 *   5 PIN-CHANGE  [enc][min][max][off][newoff][confirm][template...]
 *   6 TXN-APPROVE [id][kind][amt 4][payee][sign][bits][chal][hdr 4][more]
 *                 [template...]; bits: 0 PIN, 1 SHA-384, 2 inner id other,
 *                 3 amount for kinds 2/5, 4-5 items, 6 free text, 7 hdr raw
 *   7 CARD-RESET  [mode]
 *   8 key         [k]: 0 Confirm 1 Cancel 2 Up 3 Down 4 digit
 *   9 PIN         [w]: 0 the right PIN, 1..3 a wrong one, then length cut
 *  10 entry       text
 *  11 card        pull it out / put it back
 *  12 link        drop it (both ends) / bring it back (resume); with a
 *                store and body[0] b7: b0 the power is cut now (the device
 *                reboots from its store; the link is down, the card
 *                powered off); b1 a store write fails: the one after
 *                body[1] more, CL_ERR_IO, leaving the new record (b2) or
 *                the old, and cutting the power there (b3)
 *  13 time        [t]: t x 250 ms pass (timers)
 *  14 approve     page down through every page, Confirm, the right PIN
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cardlink/apdu.h"
#include "cardlink/applet.h"
#include "fuzz_card_crypto.h"
#include "fuzz_store.h"
#include "cardlink/device.h"
#include "cardlink/error.h"
#include "cardlink/sim.h"

static void ign(int r)
{
    (void)r;
}

/* The device's hash port: the same mix, any length. */
static int d_hash(void *ctx, uint8_t alg, const uint8_t *data, size_t len, uint8_t *out,
                  size_t size)
{
    size_t n = alg == CL_RELAY_DIGEST_SHA384 ? 48u : 32u;
    (void)ctx;
    if (size < n)
        return CL_ERR_ARG;
    fcc_mix(data, len, out, n);
    return (int)n;
}

/* ------------------------------------------------ the world */

static const char right_pin[] = "739158264017";
static const char *const wrong_pins[] = {"846203571960", "5920481736", "6173902854", "40958213"};

static struct cl_applet_state cst;
static struct cl_applet ap;
static struct cl_cardapp inner;
static struct cl_sim sim;
static struct cl_dev dev;
static struct cl_relay_session srv;
static uint8_t srx[CL_DEV_MSG_MAX], srb[4096];
static uint32_t now;
static bool present, link_up;
static const uint8_t *input;
static size_t input_len;
static unsigned cols, rows;
static struct cl_dev_config dcfg;  /* kept for the reboots */

/* the pool of transaction ids (no more than the device's log holds) */
static uint8_t ids[4][16];
static unsigned executed[4];

/* TXN-APPROVE messages the server sent (the last few) */
#define SENT_MAX 64   /* no more than the ops of one input: none forgotten */
struct sent {
    bool used;
    uint8_t pool;                    /* index of the message's txn id */
    struct cl_txn txn;
    uint8_t chal[64];
    size_t clen;
    uint8_t hdr[4];
    uint8_t dlen;
    uint8_t digest[48];
    char payee[17];                  /* display form, NUL-padded */
};
static struct sent sent[SENT_MAX];
static unsigned sent_next;

/* the approval the holder is looking at */
#define VIEW_PAGES 24
static bool in_view;
static unsigned view_pages;
static uint32_t seen_mask;
static char seen_text[VIEW_PAGES][CL_UI_TEXT_MAX];
static struct cl_ui_screen cur;
static bool have_cur;

/* what the holder's Confirm allows: one command, for one of these */
static bool grant;
static bool grant_ok[SENT_MAX];
static int record_for = -1;         /* sent[] whose record may be appended */

/* typed PINs */
#define TYPED_MAX 12
static struct {
    char pin[16];
    size_t n;
    bool live;
} typed[TYPED_MAX];
static unsigned ntyped;
static bool pin_pending;

/* ------------------------------------------------ the gate to the card */

static bool sign_ins(uint8_t ins)
{
    return ins == 0x2A || ins == 0x88 || ins == 0x86 || ins == 0x87 || ins == 0xAE;
}

/* A command that sets or tries a PIN: CHANGE REFERENCE DATA, RESET RETRY
 * COUNTER, or a VERIFY with a data field as ISO 7816-4 reads the command
 * (one that does not parse counts as carrying data). A VERIFY without
 * data asks the tries left: "00 21 21 10 00 00 82" is case 2 extended,
 * 7 bytes and no data (the policy lets it through; an oracle that took
 * every VERIFY over 5 bytes for a PIN once stopped the fuzzer there). */
static bool pin_ins(const uint8_t *cmd, size_t n)
{
    uint8_t ins = cmd[1];
    struct cl_apdu a;

    if (ins == 0x24 || ins == 0x25 || ins == 0x2C || ins == 0x2D)
        return true;
    return (ins == 0x20 || ins == 0x21) &&
           (cl_apdu_decode(cmd, n, &a, NULL) != CL_OK || a.nc > 0);
}

static void use_grant(int c)
{
    if (++executed[sent[c].pool] > 1)
        abort();                       /* one id executed twice */
    grant = false;
    record_for = c;
}

static int gate(void *ctx, const uint8_t *cmd, size_t n, uint8_t *r, size_t rs, size_t *rl)
{
    uint32_t bal = cst.balance, ctr = cst.counter;
    uint8_t used = cst.egoods[0].used, cnt = cst.txlog_count, head = cst.txlog_head;
    int signer = -1, rc, i;

    if (fs_cut)
        return CL_ERR_IO;              /* the power is gone: the card is not run */
    if (n >= 4 && (cmd[0] & 0x80u) == 0 && sign_ins(cmd[1])) {
        for (i = 0; grant && i < SENT_MAX; i++) {
            const struct sent *s = &sent[i];
            if (grant_ok[i] && memcmp(cmd, s->hdr, 4) == 0 && n >= 5u + s->dlen &&
                cmd[4] == s->dlen && memcmp(cmd + 5, s->digest, s->dlen) == 0)
                signer = i;
        }
        if (signer < 0)
            abort();                   /* a signature nobody confirmed */
    }
    if (n >= 4 && (cmd[0] & 0x80u) == 0 && pin_ins(cmd, n)) {
        if (!pin_pending)
            abort();                   /* a PIN command the holder did not type */
        pin_pending = false;
        for (i = 0; i < (int)ntyped; i++)
            typed[i].live = false;
    }
    rc = inner.process(ctx, cmd, n, r, rs, rl);
    if (cst.egoods[0].used != used)
        abort();
    if (signer >= 0)
        use_grant(signer);
    if (cst.balance != bal || cst.counter != ctr) {
        int who = -1;
        for (i = 0; grant && i < SENT_MAX; i++) {
            const struct sent *s = &sent[i];
            if (grant_ok[i] && s->hdr[0] == 0x80 && cst.balance < bal &&
                bal - cst.balance == s->txn.amount && cst.counter == ctr + 1u && n >= 45 &&
                memcmp(cmd + 13, s->txn.id, 16) == 0 && memcmp(cmd + 29, s->payee, 16) == 0)
                who = i;
        }
        if (who < 0)
            abort();                   /* the purse moved without a confirmed debit */
        use_grant(who);
    }
    if (cst.txlog_count != cnt || cst.txlog_head != head) {
        const struct sent *s;
        uint32_t amt;
        if (record_for < 0 || n < 48)
            abort();                   /* a record without a signature */
        s = &sent[record_for];
        amt = s->txn.amount > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)s->txn.amount;
        if (memcmp(cmd + 5, s->txn.id, 16) != 0 || cmd[21] != (uint8_t)(amt >> 24) ||
            cmd[24] != (uint8_t)amt || memcmp(cmd + 32, s->payee, 16) != 0)
            abort();                   /* not the transaction approved */
        record_for = -1;
    }
    return rc;
}

/* ------------------------------------------------ moving bytes */

static void take_screen(void);

static void pump(void)
{
    unsigned guard;

    for (guard = 0; guard < 20000 && !fs_cut; guard++) {
        bool moved = false;
        const uint8_t *p;
        size_t n;
        enum cl_want w = cl_dev_card_want(&dev);
        struct cl_relay_event ev;

        if (w == CL_WANT_CTRL) {
            unsigned c = cl_dev_card_ctrl(&dev);
            int rc = CL_OK;
            if (c == CL_CARD_CTRL_COLD || c == CL_CARD_CTRL_WARM) {
                rc = present ? cl_sim_reset(&sim, c == CL_CARD_CTRL_WARM) : CL_ERR_CARD_MUTE;
            } else if (c == CL_CARD_CTRL_PARAMS) {
                const struct cl_card_line_params *lp = cl_dev_card_params(&dev);
                if (present && lp != NULL && cl_sim_clock(&sim, lp->f, lp->d) != CL_OK)
                    rc = CL_ERR_PROTOCOL;
            } else if (c == CL_CARD_CTRL_OFF) {
                cl_sim_power_off(&sim);
            }
            ign(cl_dev_card_ctrl_done(&dev, now, rc));
            moved = true;
        } else if (w == CL_WANT_SEND) {
            n = cl_dev_card_pull(&dev, &p);
            if (n == 0)
                abort();
            if (present && cl_sim_feed(&sim, p, n) != (int)n)
                abort();
            ign(cl_dev_card_sent(&dev, now, n));
            moved = true;
        } else if (w == CL_WANT_RECV) {
            if (present && cl_sim_want(&sim) == CL_WANT_SEND) {
                size_t max = cl_dev_card_recv_max(&dev);
                int used;
                n = cl_sim_pull(&sim, &p);
                if (n > max)
                    n = max;
                used = cl_dev_card_feed(&dev, now, p, n);
                if (used < 0 || cl_sim_sent(&sim, (size_t)used) != CL_OK)
                    ign(cl_dev_card_fail(&dev, now, CL_ERR_PROTOCOL));
            } else if (present && cl_sim_timer(&sim) != CL_TIMER_NONE) {
                if (cl_sim_timeout(&sim) != CL_OK)
                    ign(cl_dev_card_timeout(&dev, now));
            } else {
                ign(cl_dev_card_timeout(&dev, now));
            }
            moved = true;
        }
        if (fs_cut)
            return;                    /* the device stopped where the power went */
        if (link_up) {
            n = cl_dev_net_pull(&dev, now, &p);
            if (n > 0) {
                int used = cl_relay_session_feed(&srv, now, p, n);
                if (used < 0) {
                    ign(cl_dev_net_sent(&dev, n));
                } else {
                    if (cl_dev_net_sent(&dev, (size_t)used) != CL_OK)
                        abort();
                }
                moved = true;
            }
            while (cl_relay_session_poll(&srv, &ev)) {
                if (ev.kind == CL_RELAY_EV_ANSWER && ev.msg != NULL &&
                    ev.msg->type == CL_RELAY_TXN_RESULT)
                    grant = false;     /* that approval is over */
            }
            n = cl_relay_session_pull(&srv, now, &p);
            if (n > 0 && !fs_cut) {
                int used = cl_dev_net_feed(&dev, now, p, n);
                if (used < 0)
                    used = (int)n;
                ign(cl_relay_session_sent(&srv, (size_t)used));
                moved = true;
            }
        }
        if (cl_dev_wants(&dev) & CL_DEV_W_UI) {
            take_screen();
            moved = true;
        }
        if (!moved)
            return;
    }
}

/* ------------------------------------------------ the holder */

static void take_screen(void)
{
    struct cl_ui_screen s;

    if (cl_dev_ui_take(&dev, &s) != 1)
        return;
    cur = s;
    have_cur = true;
    if (s.kind != CL_UI_TXN) {
        in_view = false;
        return;
    }
    if (!in_view || s.pages != view_pages) {
        in_view = true;
        view_pages = s.pages;
        seen_mask = 0;
        grant = false;                 /* a new approval on the display */
    }
    if (s.page < VIEW_PAGES) {
        seen_mask |= 1u << s.page;
        memcpy(seen_text[s.page], s.text, sizeof(s.text));
    }
}

/* Confirm on a transaction page: which sent approvals are exactly what
 * the holder saw, every page of it. */
static void holder_confirms(void)
{
    char page[CL_UI_TEXT_MAX];
    unsigned i, pg, pages;

    if (!have_cur || cur.kind != CL_UI_TXN)
        return;                        /* not a transaction page: no new grant */
    memset(grant_ok, 0, sizeof(grant_ok));
    grant = false;
    if (!in_view || view_pages == 0 ||
        view_pages > VIEW_PAGES || seen_mask != (uint32_t)((1ull << view_pages) - 1u))
        return;
    for (i = 0; i < SENT_MAX; i++) {
        bool same = sent[i].used;
        for (pg = 0; same && pg < view_pages; pg++) {
            pages = 0;
            memset(page, 0, sizeof(page));
            if (cl_txn_render(&sent[i].txn, cols, rows, pg, page, sizeof(page), &pages) !=
                    CL_OK ||
                pages != view_pages || memcmp(page, seen_text[pg], sizeof(page)) != 0)
                same = false;
        }
        if (same) {
            grant_ok[i] = true;
            grant = true;
        }
    }
}

static void key(unsigned k)
{
    static const unsigned keys[5] = {CL_UI_KEY_CONFIRM, CL_UI_KEY_CANCEL, CL_UI_KEY_UP,
                                     CL_UI_KEY_DOWN, 5};
    unsigned kk = keys[k % 5u];

    if (kk == CL_UI_KEY_CONFIRM)
        holder_confirms();
    ign(cl_dev_ui_key(&dev, now, kk));
    pump();
}

static void type_pin(unsigned w)
{
    const char *src = (w & 3u) == 0 ? right_pin : wrong_pins[(w & 3u) - 1u];
    size_t n = strlen(src), cut = (w >> 2) & 15u, i;
    uint8_t digits[16];

    if (have_cur && cur.kind == CL_UI_PIN && n > cur.entry_max && cur.entry_max > 0)
        n = cur.entry_max;
    if (cut != 0 && cut < n)
        n = cut;
    for (i = 0; i < n; i++)
        digits[i] = (uint8_t)(src[i] - '0');
    if (cl_dev_ui_pin(&dev, now, digits, n) == CL_OK) {
        pin_pending = true;
        if (ntyped < TYPED_MAX) {
            memcpy(typed[ntyped].pin, src, n);
            typed[ntyped].n = n;
            typed[ntyped].live = true;
            ntyped++;
        }
    }
    for (i = 0; i < n; i++)
        if (digits[i] != 0)
            abort();                   /* the caller's array not wiped */
    pump();
}

static bool in_input(const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i + n <= input_len; i++)
        if (memcmp(input + i, p, n) == 0)
            return true;
    return false;
}

static bool in_dev(const uint8_t *p, size_t n)
{
    const uint8_t *m = (const uint8_t *)&dev;
    size_t i;
    for (i = 0; i + n <= sizeof(dev); i++)
        if (m[i] == p[0] && memcmp(m + i, p, n) == 0)
            return true;
    return false;
}

/* Whether a PIN still in use holds digits pin[0..n) (the holder typed the
 * same digits again for the job now running: not a leftover). */
static bool live_holds(const char *pin, size_t n)
{
    unsigned t;
    size_t i;

    for (t = 0; t < ntyped; t++) {
        if (!typed[t].live || typed[t].n < n)
            continue;
        for (i = 0; i + n <= typed[t].n; i++)
            if (memcmp(typed[t].pin + i, pin, n) == 0)
                return true;
    }
    return false;
}

/* No typed digits left in the device once their command was answered. */
static void scan_pins(void)
{
    unsigned t;

    if (dev.job.type == 0)
        for (t = 0; t < ntyped; t++)
            typed[t].live = false;
    for (t = 0; t < ntyped; t++) {
        uint8_t pat[16];
        size_t n = typed[t].n, i;
        if (typed[t].live || live_holds(typed[t].pin, n))
            continue;
        if (n >= 6) {
            memcpy(pat, typed[t].pin, n);                     /* ASCII */
            if (!in_input(pat, n) && in_dev(pat, n))
                abort();
            for (i = 0; i < n; i++)                           /* raw digits */
                pat[i] = (uint8_t)(typed[t].pin[i] - '0');
            if (!in_input(pat, n) && in_dev(pat, n))
                abort();
        }
        if (n >= 8) {                                         /* packed BCD */
            for (i = 0; i + 1 < n; i += 2)
                pat[i / 2] = (uint8_t)((typed[t].pin[i] - '0') << 4 | (typed[t].pin[i + 1] - '0'));
            if (!in_input(pat, n / 2) && in_dev(pat, n / 2))
                abort();
        }
    }
}

/* ------------------------------------------------ the server */

static void send_msg(struct cl_relay_msg *m)
{
    if (link_up)
        ign(cl_relay_session_send(&srv, now, m));
    pump();
}

static const uint8_t std_template[13] = {0x00, 0x20, 0x00, 0x80, 0x08, 0x24, 0xFF, 0xFF,
                                         0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

static void template_of(struct cl_relay_pin *p, const uint8_t *b, size_t n, bool change)
{
    memset(p, 0, sizeof(*p));
    p->offset = p->len_offset = p->new_offset = CL_RELAY_NONE;
    if (n < 7) {
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
    if (change) {
        p->new_offset = b[4];
        p->confirm = b[5] & 1u;
        p->len_offset = (b[5] & 2u) ? 0 : CL_RELAY_NONE;
    } else {
        p->len_offset = b[4];
        p->msg_index = b[5] % 3u;
    }
    p->apdu.data = b + 6;
    p->apdu.len = n - 6;
}

struct payee {
    const char *utf8, *display;
};
static const struct payee payees[] = {
    {"Cafe Rosa", "Cafe Rosa"},
    {"Caf\xC3\xA9 Rosa", "Cafe Rosa"},
    {"Stra\xC3\x9F" "e 5 Kiosk", "Strasse 5 Kiosk"},
    {"\xC3\x89picerie du Coin Sud", "Epicerie du Coin"},
    {"Evil Corp", "Evil Corp"},
};

static void op_txn(const uint8_t *b, size_t n)
{
    static uint8_t enc[CL_TXN_ENCODED_MAX], tbs[CL_TXN_TBS_MAX + 64];
    static const uint8_t headers[][4] = {
        {0x00, 0x2A, 0x9E, 0x9A}, {0x00, 0x88, 0x00, 0x00}, {0x80, 0x54, 0x00, 0x00},
        {0x00, 0x2A, 0x9E, 0x9B}, {0x10, 0x2A, 0x9E, 0x9A}, {0x00, 0x2A, 0x80, 0x86},
    };
    uint8_t body[16];
    struct sent *s = &sent[sent_next % SENT_MAX];
    struct cl_relay_msg m;
    struct cl_txn *t = &s->txn;
    uint8_t bits;
    size_t elen = 0, tlen = 0, i;
    const struct payee *py;

    memset(body, 0, sizeof(body));
    memcpy(body, b, n < sizeof(body) ? n : sizeof(body));
    bits = body[7];
    memset(s, 0, sizeof(*s));
    s->pool = body[0] % 4u;
    memcpy(t->id, ids[s->pool], 16);
    if (bits & 0x04u)
        t->id[15] ^= 0x55;
    t->kind = (uint8_t)(body[1] % 6u + 1u);
    t->has_amount = true;
    t->amount = (uint64_t)body[2] << 24 | (uint64_t)body[3] << 16 | (uint64_t)body[4] << 8 |
                body[5];
    if ((t->kind == CL_TXN_AUTHENTICATION || t->kind == CL_TXN_ACCESS_GRANT) &&
        !(bits & 0x08u)) {
        t->has_amount = false;
        t->amount = 0;
    }
    if (t->has_amount) {
        t->currency = 978;
        t->exponent = 2;
    }
    t->time.year = 2026; t->time.month = 12; t->time.day = 6;
    t->time.hour = 12; t->time.minute = 1; t->time.second = 2;
    py = &payees[body[6] % (sizeof(payees) / sizeof(payees[0]))];
    strcpy(t->merchant, py->utf8);
    memcpy(s->payee, py->display, strlen(py->display) < 16 ? strlen(py->display) : 16);
    t->n_items = (bits >> 4) & 3u;
    for (i = 0; i < t->n_items; i++) {
        strcpy(t->items[i].desc, i == 0 ? "Espresso doppio" : "Croissant");
        t->items[i].quantity = (uint16_t)(i + 1);
    }
    if (bits & 0x40u)
        strcpy(t->text, "Thank you for your visit");
    if (cl_txn_encode(t, enc, sizeof(enc), &elen) != CL_OK)
        return;
    s->clen = 8u + body[8] % 57u;
    for (i = 0; i < s->clen; i++)
        s->chal[i] = (uint8_t)(body[8] * 7u + i);
    if (bits & 0x80u)
        memcpy(s->hdr, body + 9, 4);
    else
        memcpy(s->hdr, headers[body[9] % (sizeof(headers) / sizeof(headers[0]))], 4);
    s->dlen = (bits & 0x02u) ? 48u : 32u;
    if (cl_txn_tbs(t, s->chal, s->clen, tbs, sizeof(tbs), &tlen) != CL_OK)
        return;
    fcc_mix(tbs, tlen, s->digest, s->dlen);
    s->used = true;
    sent_next++;

    cl_relay_msg_init(&m, CL_RELAY_TXN_APPROVE);
    m.u.txn.txn_id = ids[s->pool];
    m.u.txn.txn.data = enc;
    m.u.txn.txn.len = elen;
    m.u.txn.challenge.data = s->chal;
    m.u.txn.challenge.len = s->clen;
    m.u.txn.has_pin = (bits & 0x01u) != 0;
    if (m.u.txn.has_pin)
        template_of(&m.u.txn.pin, n > 14 ? b + 14 : NULL, n > 14 ? n - 14 : 0, false);
    memcpy(m.u.txn.sign_cmd, s->hdr, 4);
    m.u.txn.digest = (bits & 0x02u) ? CL_RELAY_DIGEST_SHA384 : CL_RELAY_DIGEST_SHA256;
    (void)body[13];
    send_msg(&m);
}

static void op_script(const uint8_t *b, size_t n)
{
    struct cl_relay_msg m;
    struct cl_relay_script *sc = &m.u.script;
    size_t pos = 3, i;

    if (n < 3)
        return;
    cl_relay_msg_init(&m, CL_RELAY_SCRIPT);
    sc->options = b[0] & 1u;
    sc->txn_id = (b[1] & 4u) ? ids[b[1] % 4u] : NULL;
    sc->nsteps = (size_t)(b[2] % CL_RELAY_SCRIPT_MAX) + 1u;
    for (i = 0; i < sc->nsteps; i++) {
        struct cl_relay_step *st = &sc->steps[i];
        size_t l = pos < n ? b[pos] : 0;
        uint8_t k = pos + 1 < n ? b[pos + 1] : 0;
        st->expect.kind = k % 3u;
        st->expect.value = pos + 3 < n ? (uint16_t)(b[pos + 2] << 8 | b[pos + 3]) : 0x9000;
        st->expect.mask = 0xFF00;
        if (st->expect.kind == CL_RELAY_EXPECT_MASKED)
            st->expect.value &= 0xFF00;
        if (st->expect.kind == CL_RELAY_EXPECT_SUCCESS)
            st->expect.value = 0;
        st->options = (k >> 2) & 1u;
        pos += 4;
        if (pos > n)
            pos = n;
        if (l > n - pos)
            l = n - pos;
        st->apdu.data = b + pos;
        st->apdu.len = l;
        pos += l;
    }
    send_msg(&m);
}

static void link_toggle(void)
{
    static const uint8_t token[16] = {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7};

    if (link_up) {
        cl_dev_net_down(&dev, now);
        cl_relay_session_disconnect(&srv, now);
        link_up = false;
    } else {
        if (cl_relay_server_accept(&srv, now, token, sizeof(token)) != CL_OK)
            return;
        link_up = true;
        ign(cl_dev_net_up(&dev, now));
    }
    pump();
}

static void card_toggle(void)
{
    if (present) {
        present = false;
        cl_sim_power_off(&sim);
        cl_dev_card_removed(&dev, now);
        record_for = -1;
    } else {
        present = true;
        ign(cl_dev_card_inserted(&dev, now));
    }
    pump();
}

static void holder_approves(void)
{
    unsigned guard;

    for (guard = 0; guard < VIEW_PAGES && have_cur && cur.kind == CL_UI_TXN &&
                    cur.page + 1u < cur.pages;
         guard++)
        key(3);
    key(0);
    if (have_cur && cur.kind == CL_UI_PIN)
        type_pin(0);
}

/* ------------------------------------------------ the run */

static void personalise(void)
{
    static const uint8_t cert[40] = {0x30, 0x26, 0x01, 0x02, 0x03};
    cl_applet_state_init(&cst);
    if (cl_applet_state_set_pin(&cst, false, right_pin, strlen(right_pin), 15) != CL_OK ||
        cl_applet_state_set_pin(&cst, true, "12345678", 8, 10) != CL_OK ||
        cl_applet_state_set_cert(&cst, CL_APPLET_CERT_CARD, cert, sizeof(cert)) != CL_OK ||
        cl_applet_state_set_cert(&cst, CL_APPLET_CERT_SIGN, cert, 30) != CL_OK)
        abort();
    memset(cst.serial, 0x11, sizeof(cst.serial));
    cst.pub[0] = 0x04;
    cst.sign_pub[0] = 0x04;
    cst.sign_priv[0] = 0x22;
    cst.balance = 500000;
    cst.balance_max = 0x7FFFFFFF;
    cst.currency = 978;
    cst.egoods_count = 1;
    cst.egoods[0].data_len = CL_APPLET_EGOODS_ID_LEN;
    cst.egoods[0].sig_len = 8;
}

static int l_send(void *c, const uint8_t *b, size_t n) { (void)c; (void)b; (void)n; return CL_OK; }
static int l_recv(void *c, uint8_t *b, size_t n, uint32_t *t) { (void)c; (void)b; (void)n; (void)t; return 0; }
static int l_reset(void *c, bool w) { (void)c; (void)w; return CL_OK; }
static int l_params(void *c, const struct cl_card_line_params *p) { (void)c; (void)p; return CL_OK; }
static void l_off(void *c) { (void)c; }
static const struct cl_card_line line = {
    l_send, l_recv, l_reset, l_params, l_off, NULL,
    {4000u, 4000u, 0u, NULL, 0, false, 0}};

/* The device powers up: set up from dcfg (and its store's records), which
 * must always work: the store holds only what the device wrote. */
static void boot(void)
{
    cl_dev_init(&dev);
    if (cl_dev_setup(&dev, &dcfg) != CL_OK)
        abort();
}

/* The holder's view of a device that lost power: no screen, no approval
 * open, nothing typed for a command. */
static void holder_forgets(void)
{
    unsigned t;

    in_view = have_cur = grant = pin_pending = false;
    view_pages = 0;
    seen_mask = 0;
    record_for = -1;
    for (t = 0; t < ntyped; t++)
        typed[t].live = false;
}

/* The power is cut and comes back: whatever the device held in RAM is
 * gone, its store is as the cut left it; the server sees the link drop. */
static void power_cut(void)
{
    if (link_up) {
        cl_relay_session_disconnect(&srv, now);
        link_up = false;
    }
    cl_dev_free(&dev);
    cl_sim_power_off(&sim);
    holder_forgets();
    fs_cut = false;
    fs_fail_in = -1;
    now += 1000;
    boot();
    if (present)
        ign(cl_dev_card_inserted(&dev, now));
    pump();
}

static void store_op(const uint8_t *b, size_t n)
{
    if (b[0] & 2u) {
        fs_fail_in = n > 1 ? b[1] : 0;
        fs_keep_new = (b[0] & 4u) != 0;
        fs_cut_on_fail = (b[0] & 8u) != 0;
    }
    if (b[0] & 1u)
        power_cut();
}

static void reset_world(uint8_t conf)
{
    struct cl_dev_config *cfg = &dcfg;
    struct cl_sim_config sc;
    static struct cl_relay_session_config scfg;
    struct cl_cardapp app;
    static const uint8_t id[4] = {'d', 'e', 'v', '2'};
    unsigned i;

    now = 1000;
    memset(sent, 0, sizeof(sent));
    sent_next = 0;
    memset(executed, 0, sizeof(executed));
    for (i = 0; i < 4; i++) {
        memset(ids[i], 0xA0 + i, 16);
        ids[i][0] = (uint8_t)i;
    }
    holder_forgets();
    ntyped = 0;
    memset(typed, 0, sizeof(typed));

    personalise();
    if (cl_applet_init(&ap, &cst, &fcc_port, NULL) != CL_OK || cl_applet_app(&ap, &inner) != CL_OK)
        abort();
    app = inner;
    app.process = gate;
    cl_sim_config_default(&sc, (conf & 1u) != 0);
    if (cl_sim_setup(&sim, &sc, &app) != CL_OK)
        abort();

    memset(cfg, 0, sizeof(*cfg));
    cfg->relay.device_id = id;
    cfg->relay.device_id_len = sizeof(id);
    cfg->relay.caps.features = CL_RELAY_FEAT_RESUME | CL_RELAY_FEAT_TXN | CL_RELAY_FEAT_SCRIPT;
    cfg->relay.ack_delay_ms = 1;
    cfg->policy.flags = CL_POLICY_F_CARDLINK | (conf & (CL_POLICY_F_CLEANUP_ALWAYS |
                                                       CL_POLICY_F_NUMERIC_PROMPTS));
    cfg->policy.max_apdu = (conf & 0x10u) ? 64u : 0u;
    cl_card_config_default(&cfg->card);
    cfg->line = &line;
    cfg->hash.digest = d_hash;
    cols = (conf & 0x20u) ? 16 : 20;
    rows = (conf & 0x20u) ? 2 : 4;
    cfg->cols = (uint8_t)cols;
    cfg->rows = (uint8_t)rows;
    fs_reset();
    if (conf & 0x40u)
        cfg->store = &fs_port;
    boot();

    memset(&scfg, 0, sizeof(scfg));
    scfg.ack_delay_ms = 1;
    cl_relay_session_init(&srv);
    if (cl_relay_session_setup(&srv, CL_RELAY_SERVER, &scfg, srx, sizeof(srx), srb,
                               sizeof(srb)) != CL_OK)
        abort();
    link_up = false;
    present = false;
    link_toggle();
    card_toggle();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pos = 1;
    unsigned ops = 0;

    if (size < 1)
        return 0;
    input = data;
    input_len = size;
    reset_world(data[0]);

    while (pos + 2 <= size && ops++ < 64) {
        uint8_t op = data[pos] % 15u;
        size_t len = data[pos + 1];
        const uint8_t *b = data + pos + 2;
        struct cl_relay_msg m;
        pos += 2;
        if (len > size - pos)
            len = size - pos;
        pos += len;
        switch (op) {
        case 0:
            cl_relay_msg_init(&m, CL_RELAY_APDU);
            m.u.apdu.apdu.data = b;
            m.u.apdu.apdu.len = len;
            send_msg(&m);
            break;
        case 1:
            op_script(b, len);
            break;
        case 2:
            cl_relay_msg_init(&m, CL_RELAY_DISPLAY);
            m.u.display.text.data = b;
            m.u.display.text.len = len;
            send_msg(&m);
            break;
        case 3:
            if (len < 4)
                break;
            cl_relay_msg_init(&m, CL_RELAY_PROMPT);
            m.u.prompt.kind = (uint8_t)(b[0] % 3u + 1u);
            m.u.prompt.min_len = b[1];
            m.u.prompt.max_len = b[2];
            m.u.prompt.timeout = b[3];
            m.u.prompt.text.data = b + 4;
            m.u.prompt.text.len = len - 4;
            send_msg(&m);
            break;
        case 4:
        case 5:
            cl_relay_msg_init(&m, op == 4 ? CL_RELAY_PIN_VERIFY : CL_RELAY_PIN_CHANGE);
            template_of(&m.u.pin, b, len, op == 5);
            send_msg(&m);
            break;
        case 6:
            op_txn(b, len);
            break;
        case 7:
            cl_relay_msg_init(&m, CL_RELAY_CARD_RESET);
            m.u.reset_mode = len > 0 ? (b[0] & 1u) : 0;
            send_msg(&m);
            break;
        case 8:
            key(len > 0 ? b[0] : 0);
            break;
        case 9:
            type_pin(len > 0 ? b[0] : 0);
            break;
        case 10:
            ign(cl_dev_ui_entry(&dev, now, b, len));
            pump();
            break;
        case 11:
            card_toggle();
            break;
        case 12:
            if (dcfg.store != NULL && len > 0 && (b[0] & 0x80u))
                store_op(b, len);
            else
                link_toggle();
            break;
        case 13:
            now += 250u * (len > 0 ? b[0] : 1u) + 1u;
            ign(cl_dev_timeout(&dev, now));
            if (link_up)
                ign(cl_relay_session_timeout(&srv, now));
            pump();
            break;
        default:
            holder_approves();
            break;
        }
        if (fs_cut)
            power_cut();               /* in the middle of a store write */
        scan_pins();
    }
    cl_dev_free(&dev);
    cl_relay_session_free(&srv);
    cl_sim_free(&sim);
    cl_applet_state_wipe(&cst);
    return 0;
}
