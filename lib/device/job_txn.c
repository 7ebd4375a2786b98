/*
 * cardlink — the TXN-APPROVE job (protocol §5.12, §10.3): show every page,
 * the holder's Confirm (cl_dev_ui_key only), the PIN by template, then the
 * card command lib/policy builds from what was shown (PSO / INTERNAL
 * AUTHENTICATE over the digest, or GET BALANCE + DEBIT for a purse
 * payment), the transaction record appended on a cardlink card, and the
 * cleanup after a failed or abandoned approval.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/tlv.h"
#include "cardlink/wipe.h"
#include "device_int.h"

enum { S_SHOW = 0, S_PIN, S_VERIFY, S_BALANCE, S_SIGN, S_RECORD, S_CLEANUP, S_CLEANRESET };

#define REC_LEN 48u   /* 00 E2 00 28 2B + 43 */

static uint8_t card_code(int rc)
{
    return rc == CL_ERR_CARD_REMOVED || rc == CL_ERR_CLOSED ? CL_RELAY_E_NO_CARD
                                                            : CL_RELAY_E_CARD_IO;
}

/* The answer is in d->ans; a cleanup the policy asks for runs first. */
static uint8_t finish(struct cl_dev *d)
{
    size_t len = 0;
    uint8_t c = cl_policy_cleanup(&d->pol);

    if (c == CL_POLICY_CLEANUP_PIN_RESET &&
        cl_policy_build_cleanup(&d->pol, d->cmd, sizeof(d->cmd), &len) == CL_OK) {
        d->cmd_len = len;
        d->job.step = S_CLEANUP;
        return CL_DEVJ_CARD;
    }
    if (c == CL_POLICY_CLEANUP_CARD_RESET && d->card_present) {
        d->job.step = S_CLEANRESET;
        d->job.code = 0;
        return CL_DEVJ_RESET;
    }
    return CL_DEVJ_DONE;
}

static uint8_t result(struct cl_dev *d, uint8_t res, uint16_t sw, uint8_t code)
{
    struct cl_relay_txn_result *r;

    cl_relay_msg_init(&d->ans, CL_RELAY_TXN_RESULT);
    r = &d->ans.u.txn_result;
    r->txn_id = d->req.u.txn.txn_id;
    r->result = res;
    if (res == CL_RELAY_TXN_APPROVED) {
        r->signature = d->job.resp[0];
    } else if (res == CL_RELAY_TXN_FAILED) {
        r->sw = sw;
        r->error = code;
        if (sw == 0 && code == 0)
            r->error = CL_RELAY_E_INTERNAL;
    }
    if (res != CL_RELAY_TXN_APPROVED)
        (void)cl_policy_approve_abort(&d->cfg.policy, &d->pol);
    cl_devj_screen(d, CL_UI_MESSAGE, res == CL_RELAY_TXN_APPROVED   ? "Approved\n"
                                     : res == CL_RELAY_TXN_DECLINED ? "Declined\n"
                                                                    : "Failed\n");
    d->screen_ready = true;
    return finish(d);
}

static uint8_t show(struct cl_dev *d)
{
    unsigned pages = 0;

    cl_devj_screen(d, CL_UI_TXN, "");
    if (cl_txn_render(&d->job.txn, d->cfg.cols, d->cfg.rows, d->job.page, d->screen.text,
                      sizeof(d->screen.text), &pages) != CL_OK)
        return result(d, CL_RELAY_TXN_FAILED, 0, CL_RELAY_E_INTERNAL);
    d->screen.page = d->job.page;
    d->screen.pages = d->job.pages;
    d->screen.flags = CL_UI_F_CANCEL;
    if (d->pol.seen >= d->job.pages || d->job.page + 1u == d->job.pages)
        d->screen.flags |= CL_UI_F_CONFIRM;
    return CL_DEVJ_PERSON;
}

static uint8_t start(struct cl_dev *d)
{
    const struct cl_relay_txn_approve *m = &d->req.u.txn;
    unsigned pages = 0;
    uint8_t reason = 0;
    int r;

    r = cl_txn_decode(m->txn.data, m->txn.len, &d->job.txn);
    if (r != CL_OK)
        return result(d, CL_RELAY_TXN_FAILED, 0, CL_RELAY_E_MALFORMED);
    r = cl_txn_render(&d->job.txn, d->cfg.cols, d->cfg.rows, 0, d->screen.text,
                      sizeof(d->screen.text), &pages);
    if (r != CL_OK || pages == 0 || pages > 0xFFFFu)
        return result(d, CL_RELAY_TXN_FAILED, 0, CL_RELAY_E_DENIED);
    r = cl_policy_approve_start(&d->cfg.policy, &d->pol, m, &d->job.txn, pages, &reason);
    if (r != CL_OK) {
        d->stats.denied++;
        return result(d, CL_RELAY_TXN_FAILED, 0,
                      r == CL_ERR_DENIED ? cl_policy_wire_code(reason) : CL_RELAY_E_INTERNAL);
    }
    d->job.pages = (uint16_t)pages;
    d->job.page = 0;
    cl_devj_arm(d, 0);
    return show(d);
}

static uint8_t sign(struct cl_dev *d)
{
    const struct cl_relay_txn_approve *m = &d->req.u.txn;
    uint8_t dig[48];
    size_t len = 0;
    int n;

    d->job.step = S_SIGN;
    if (d->job.txn.kind == CL_POLICY_KIND_PURSE) {
        memcpy(d->cmd, cl_policy_get_balance, sizeof(cl_policy_get_balance));
        d->cmd_len = sizeof(cl_policy_get_balance);
        d->job.step = S_BALANCE;
        return CL_DEVJ_CARD;
    }
    if (d->cfg.hash.digest == NULL ||
        cl_txn_tbs(&d->job.txn, m->challenge.data, m->challenge.len, d->scratch,
                   sizeof(d->scratch), &len) != CL_OK)
        return result(d, CL_RELAY_TXN_FAILED, 0, CL_RELAY_E_INTERNAL);
    n = d->cfg.hash.digest(d->cfg.hash.ctx, m->digest, d->scratch, len, dig, sizeof(dig));
    if (n <= 0 || (size_t)n > sizeof(dig) ||
        cl_policy_build_sign(&d->pol, dig, (size_t)n, d->cmd, sizeof(d->cmd), &len) != CL_OK) {
        cl_wipe(dig, sizeof(dig));
        return result(d, CL_RELAY_TXN_FAILED, 0,
                      n == CL_ERR_UNSUPPORTED ? CL_RELAY_E_UNSUPPORTED : CL_RELAY_E_INTERNAL);
    }
    cl_wipe(dig, sizeof(dig));
    d->cmd_len = len;
    d->stats.signs++;
    return CL_DEVJ_CARD;
}

/* Seconds since 1970-01-01 UTC of a civil date (proleptic Gregorian),
 * saturated at FFFFFFFF: a transaction dated after 2106-02-07 06:28:15
 * (the year may run to 9999) is recorded as that last second rather than
 * wrapped into the 1970s. */
static uint32_t epoch_s(const struct cl_txn_time *t)
{
    uint32_t y = t->year, m = t->month, era, yoe, doy, doe, days, sod;

    y -= m <= 2;
    era = y / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + t->day - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    days = era * 146097 + doe - 719468;
    sod = t->hour * 3600u + t->minute * 60u + t->second;
    if (days > 0xFFFFFFFFu / 86400u || days * 86400u > 0xFFFFFFFFu - sod)
        return 0xFFFFFFFFu;
    return days * 86400u + sod;
}

/* APPEND RECORD of the approved transaction to the log (SFI 5). */
static void build_record(struct cl_dev *d)
{
    const struct cl_txn *t = &d->job.txn;
    uint8_t *c = d->cmd;
    uint32_t amount = t->amount > 0xFFFFFFFFull ? 0xFFFFFFFFu : (uint32_t)t->amount;
    uint32_t secs = epoch_s(&t->time);
    const struct cl_relay_txn_approve *m = &d->req.u.txn;
    static const uint32_t path[2] = {0xE1u, 0x85u};
    struct cl_tlv payee;
    size_t len = 0;

    memset(c, 0, REC_LEN);
    c[1] = 0xE2;
    c[3] = 0x28;
    c[4] = 43;
    memcpy(c + 5, t->id, 16);
    c[21] = (uint8_t)(amount >> 24);
    c[22] = (uint8_t)(amount >> 16);
    c[23] = (uint8_t)(amount >> 8);
    c[24] = (uint8_t)amount;
    c[25] = (uint8_t)(t->currency >> 8);
    c[26] = (uint8_t)t->currency;
    c[27] = (uint8_t)(secs >> 24);
    c[28] = (uint8_t)(secs >> 16);
    c[29] = (uint8_t)(secs >> 8);
    c[30] = (uint8_t)secs;
    c[31] = CL_RELAY_TXN_APPROVED;
    /* the payee as displayed (and signed, and in the DEBIT): its display
     * form, read back from the display encoding cl_txn_tbs writes */
    if (cl_txn_tbs(t, m->challenge.data, m->challenge.len, d->scratch, sizeof(d->scratch),
                   &len) == CL_OK &&
        len > CL_TXN_TBS_PREFIX_LEN &&
        cl_tlv_find_path(d->scratch + CL_TXN_TBS_PREFIX_LEN, len - CL_TXN_TBS_PREFIX_LEN, path,
                         2, &payee) == CL_OK)
        memcpy(c + 32, payee.value, payee.len < 16 ? payee.len : 16);
    d->cmd_len = REC_LEN;
}

static uint8_t on_card(struct cl_dev *d)
{
    int rc = d->card_rc;
    uint16_t sw = rc >= 2 ? cl_devj_sw(d->resp + d->job.off, rc) : 0;
    uint8_t reason = 0;
    size_t len = 0;

    switch (d->job.step) {
    case S_VERIFY:
        if (rc < 2)
            return result(d, CL_RELAY_TXN_FAILED, 0, card_code(rc));
        cl_policy_pin_result(&d->pol, d->req.u.txn.pin.apdu.data[3], sw);
        if (sw != 0x9000)
            return result(d, CL_RELAY_TXN_FAILED, sw, 0);
        return sign(d);
    case S_BALANCE:
        if (rc < 2)
            return result(d, CL_RELAY_TXN_FAILED, 0, card_code(rc));
        if (cl_policy_build_debit(&d->pol, &d->job.txn, d->resp, (size_t)rc, d->cmd,
                                  sizeof(d->cmd), &len, &reason) != CL_OK)
            return result(d, CL_RELAY_TXN_FAILED, sw != 0x9000 ? sw : 0,
                          sw != 0x9000 ? 0 : cl_policy_wire_code(reason));
        d->cmd_len = len;
        d->job.step = S_SIGN;
        d->stats.signs++;
        return CL_DEVJ_CARD;
    case S_SIGN:
        (void)cl_policy_sign_result(&d->cfg.policy, &d->pol, sw);
        if (rc < 2)
            return result(d, CL_RELAY_TXN_FAILED, 0, card_code(rc));
        if (sw != 0x9000 || rc == 2)
            return result(d, CL_RELAY_TXN_FAILED, sw == 0x9000 ? 0x6F00 : sw, 0);
        if ((size_t)rc - 2 > CL_RELAY_SIGNATURE_MAX)   /* no TXN-RESULT carries it */
            return result(d, CL_RELAY_TXN_FAILED, 0, CL_RELAY_E_TOO_LARGE);
        d->job.resp[0].data = d->resp;
        d->job.resp[0].len = (size_t)rc - 2;
        if (!(d->cfg.policy.flags & CL_POLICY_F_CARDLINK))
            return result(d, CL_RELAY_TXN_APPROVED, 0, 0);
        d->job.off = (size_t)rc;
        build_record(d);
        d->job.step = S_RECORD;
        return CL_DEVJ_CARD;
    case S_RECORD:
        if (sw == 0x9000)
            d->stats.records++;
        return result(d, CL_RELAY_TXN_APPROVED, 0, 0);
    case S_CLEANUP:
        cl_policy_cleanup_done(&d->pol, sw);
        return finish(d);
    case S_CLEANRESET:
        cl_policy_card_reset(&d->pol);
        return CL_DEVJ_DONE;
    default:
        return CL_DEVJ_WAIT;
    }
}

uint8_t cl_devj_txn_step(struct cl_dev *d)
{
    uint8_t reason = 0;

    if (d->ev == CL_DEVJ_EV_START)
        return start(d);
    if (d->ev == CL_DEVJ_EV_CARD)
        return on_card(d);
    if (d->ev == CL_DEVJ_EV_NO_CARD && (d->job.step == S_SHOW || d->job.step == S_PIN))
        return result(d, CL_RELAY_TXN_FAILED, 0, CL_RELAY_E_NO_CARD);
    if (d->job.step == S_PIN) {
        if (d->ev == CL_DEVJ_EV_PIN) {
            d->job.step = S_VERIFY;
            d->job.off = 0;
            return CL_DEVJ_CARD;
        }
        if (d->ev == CL_DEVJ_EV_CANCEL)
            return result(d, CL_RELAY_TXN_DECLINED, 0, 0);
        if (d->ev == CL_DEVJ_EV_TIMEOUT)
            return result(d, CL_RELAY_TXN_FAILED, 0, CL_RELAY_E_TIMEOUT);
        return CL_DEVJ_WAIT;
    }
    if (d->job.step != S_SHOW)
        return CL_DEVJ_WAIT;
    switch (d->ev) {
    case CL_DEVJ_EV_CANCEL:
        return result(d, CL_RELAY_TXN_DECLINED, 0, 0);
    case CL_DEVJ_EV_TIMEOUT:
        return result(d, CL_RELAY_TXN_FAILED, 0, CL_RELAY_E_TIMEOUT);
    case CL_DEVJ_EV_UP:
        if (d->job.page == 0)
            return CL_DEVJ_WAIT;
        d->job.page--;
        return show(d);
    case CL_DEVJ_EV_CONFIRM:
        if (cl_policy_confirm(&d->pol, &reason) == CL_OK) {
            const struct cl_relay_pin *p = &d->req.u.txn.pin;
            d->stats.confirms++;
            if (!d->req.u.txn.has_pin)
                return sign(d);
            if (p->apdu.len > sizeof(d->cmd))
                return result(d, CL_RELAY_TXN_FAILED, 0, CL_RELAY_E_DENIED);
            memcpy(d->cmd, p->apdu.data, p->apdu.len);
            d->cmd_len = p->apdu.len;
            if (cl_devj_pinpad(d, p)) {   /* the reader's PIN pad takes it */
                d->job.step = S_VERIFY;
                d->job.off = 0;
                return CL_DEVJ_CARD;
            }
            d->job.pin_cmp = false;
            d->job.pin_off = p->offset;
            d->job.step = S_PIN;
            cl_devj_pin_screen(d, p, 0);
            return CL_DEVJ_PERSON;
        }
        /* Confirm before every page was seen: the next page (a comment
         * does not mark a fall-through for clang: no fall-through) */
        if (d->job.page + 1u >= d->job.pages)
            return CL_DEVJ_WAIT;
        d->job.page++;
        return show(d);
    case CL_DEVJ_EV_DOWN:
        if (d->job.page + 1u >= d->job.pages)
            return CL_DEVJ_WAIT;
        d->job.page++;
        return show(d);
    default:
        return CL_DEVJ_WAIT;
    }
}
