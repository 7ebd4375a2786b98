/*
 * cardlink — the device's APDU-level card port (cfg.apdu_card): a reader
 * that does the transport itself (PC/SC). No card engine runs; the device
 * says what the reader must do (connect, reset, send this APDU or this
 * Part 10 PIN_VERIFY_STRUCTURE, release) and the program answers
 * (cardlink/device.h, "APDU-level card").
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/wipe.h"
#include "device_int.h"

enum { AC_CLOSED = 0, AC_CTRL, AC_IDLE, AC_SEND };

static const struct cl_relay_pin *pin_template(const struct cl_dev *d)
{
    return d->job.type == CL_RELAY_TXN_APPROVE ? &d->req.u.txn.pin : &d->req.u.pin;
}

static void wipe_out(struct cl_dev *d)
{
    cl_wipe(d->cmd, sizeof(d->cmd));
    cl_wipe(d->ac.pv, sizeof(d->ac.pv));
    d->ac.secure = CL_DEV_PART10_NONE;
    d->ac.len = 0;
}

int cl_devac_start(struct cl_dev *d, uint8_t ctrl)
{
    d->ac.st = AC_CTRL;
    d->ac.ctrl = ctrl;
    return CL_OK;
}

int cl_devac_send(struct cl_dev *d)
{
    if (d->ac.st != AC_IDLE) {
        d->ac.secure = CL_DEV_PART10_NONE;
        return d->ac.st == AC_CLOSED ? CL_ERR_CLOSED : CL_ERR_STATE;
    }
    if (d->ac.secure != CL_DEV_PART10_NONE) {
        int r = d->ac.secure == CL_DEV_PART10_MODIFY
                    ? cl_dev_part10_modify(pin_template(d), d->ac.pv, sizeof(d->ac.pv), &d->ac.len)
                    : cl_dev_part10_verify(pin_template(d), d->ac.pv, sizeof(d->ac.pv),
                                           &d->ac.len);
        if (r != CL_OK) {
            d->ac.secure = CL_DEV_PART10_NONE;
            return r;
        }
    } else {
        d->ac.len = d->cmd_len;
    }
    d->ac.st = AC_SEND;
    return CL_OK;
}

void cl_devac_removed(struct cl_dev *d)
{
    if (!d->cfg.apdu_card)
        return;
    wipe_out(d);
    if (d->ac.st != AC_CLOSED) {
        d->ac.st = AC_CTRL;
        d->ac.ctrl = CL_CARD_CTRL_OFF;
    }
}

enum cl_want cl_devac_want(const struct cl_dev *d)
{
    switch (d->ac.st) {
    case AC_CTRL: return CL_WANT_CTRL;
    case AC_IDLE: return CL_WANT_IDLE;
    case AC_SEND: return CL_WANT_SEND;
    default: return CL_WANT_CLOSED;
    }
}

unsigned cl_devac_ctrl(const struct cl_dev *d)
{
    return d->ac.st == AC_CTRL ? d->ac.ctrl : CL_CARD_CTRL_NONE;
}

size_t cl_devac_pull(const struct cl_dev *d, const uint8_t **p)
{
    if (d->ac.st != AC_SEND)
        return 0;
    *p = d->ac.secure != CL_DEV_PART10_NONE ? d->ac.pv : d->cmd;
    return d->ac.len;
}

int cl_devac_ctrl_done(struct cl_dev *d)
{
    if (d->ac.st != AC_CTRL || d->ac.ctrl != CL_CARD_CTRL_OFF)
        return CL_ERR_STATE;
    d->ac.st = AC_CLOSED;
    return CL_OK;
}

int cl_devac_fail(struct cl_dev *d, uint32_t now, int err)
{
    if (err >= 0)
        return CL_ERR_ARG;
    d->now = now;
    if (err == CL_ERR_CARD_REMOVED) {
        cl_dev_card_removed(d, now);
        return CL_OK;
    }
    if (d->ac.st == AC_SEND) {
        d->ac.st = AC_IDLE;
        wipe_out(d);
        d->stats.card_errors++;
        if (d->card_busy) {
            d->card_busy = false;
            d->card_rc = err;
            cl_devj_run(d, CL_DEVJ_EV_CARD);
        }
        return CL_OK;
    }
    if (d->ac.st == AC_CTRL && d->ac.ctrl != CL_CARD_CTRL_OFF) {
        uint8_t k = d->reset_kind;
        d->ac.ctrl = CL_CARD_CTRL_OFF;   /* release what the reader holds */
        d->reset_kind = 0;
        cl_policy_card_reset(&d->pol);
        d->stats.card_errors++;
        if (k == 1 && d->card_busy) {
            d->card_busy = false;
            d->card_rc = err;
            cl_devj_run(d, CL_DEVJ_EV_CARD);
        }
        return CL_OK;
    }
    return CL_ERR_STATE;
}

bool cl_devj_card_active(const struct cl_dev *d)
{
    if (d->cfg.apdu_card)
        return d->ac.st == AC_IDLE || d->ac.st == AC_SEND;
    return cl_card_state(&d->card) == CL_CARD_ACTIVE;
}

const struct cl_atr *cl_devj_card_atr(const struct cl_dev *d)
{
    if (d->cfg.apdu_card)
        return cl_devj_card_active(d) && d->ac.atr.len > 0 ? &d->ac.atr : NULL;
    return cl_card_atr(&d->card);
}

int cl_devj_card_protocol(const struct cl_dev *d)
{
    if (d->cfg.apdu_card)
        return cl_devj_card_active(d) ? d->ac.protocol : CL_ERR_CLOSED;
    return cl_card_protocol(&d->card);
}

bool cl_devj_pinpad(struct cl_dev *d, const struct cl_relay_pin *p)
{
    bool mod = d->job.type == CL_RELAY_PIN_CHANGE;
    size_t len = 0;

    /* only when the structure goes out at once (the card up, nothing
     * pending): the flag never outlives this command */
    if (!d->cfg.apdu_card || !(mod ? d->ac.pinpad_mod : d->ac.pinpad) || !d->card_present ||
        d->ac.st != AC_IDLE ||
        (mod ? cl_dev_part10_modify(p, NULL, 0, &len) : cl_dev_part10_verify(p, NULL, 0, &len)) !=
            CL_OK)
        return false;
    d->ac.secure = mod ? CL_DEV_PART10_MODIFY : CL_DEV_PART10_VERIFY;
    cl_devj_screen(d, CL_UI_MESSAGE, mod ? "Change PIN on reader\n" : "Enter PIN on reader\n");
    d->screen_ready = true;
    return true;
}

/* see cardlink/device.h */
int cl_dev_card_apdu_reset(struct cl_dev *d, uint32_t now, const uint8_t *atr, size_t atr_len,
                           uint8_t protocol)
{
    unsigned warn = 0;
    uint8_t k;

    if (d == NULL || atr == NULL || atr_len == 0 || atr_len > CL_ATR_MAX || protocol > 1)
        return CL_ERR_ARG;
    if (!d->cfg.apdu_card || d->ac.st != AC_CTRL || d->ac.ctrl == CL_CARD_CTRL_OFF)
        return CL_ERR_STATE;
    d->now = now;
    if (atr_len < 2)   /* TS alone: no message carries it (§5.6: 2..33 bytes) */
        return cl_devac_fail(d, now, CL_ERR_TRUNCATED);
    if (cl_atr_parse_lenient(&d->ac.atr, atr, atr_len, &warn) != CL_OK)
        memset(&d->ac.atr, 0, sizeof(d->ac.atr));   /* no decoding */
    memcpy(d->ac.atr.raw, atr, atr_len);   /* as handed over, bytes past its end too */
    d->ac.atr.len = (uint8_t)atr_len;
    d->ac.protocol = protocol;
    d->ac.st = AC_IDLE;
    d->ac.ctrl = CL_CARD_CTRL_NONE;
    k = d->reset_kind;
    d->reset_kind = 0;
    cl_policy_card_reset(&d->pol);
    if (k == 1 && d->card_busy) {
        d->card_busy = false;
        d->card_rc = CL_OK;
        cl_devj_run(d, CL_DEVJ_EV_CARD);
    } else if (k == 2) {
        cl_devj_notify(d, true);
    }
    return CL_OK;
}

/* see cardlink/device.h */
int cl_dev_card_apdu_done(struct cl_dev *d, uint32_t now, const uint8_t *resp, size_t len)
{
    size_t room;

    if (d == NULL || (resp == NULL && len > 0))
        return CL_ERR_ARG;
    if (!d->cfg.apdu_card || d->ac.st != AC_SEND)
        return CL_ERR_STATE;
    d->now = now;
    d->ac.st = AC_IDLE;
    wipe_out(d);
    if (!d->card_busy)
        return CL_OK;
    room = d->job.off < sizeof(d->resp) ? sizeof(d->resp) - d->job.off : 0;
    if (len < 2) {
        d->card_rc = CL_ERR_PROTOCOL;
    } else if (len > room) {
        d->card_rc = CL_ERR_BUFFER;
    } else {
        memcpy(d->resp + d->job.off, resp, len);
        d->card_rc = (int)len;
    }
    d->card_busy = false;
    cl_devj_run(d, CL_DEVJ_EV_CARD);
    return CL_OK;
}

/* see cardlink/device.h */
bool cl_dev_card_apdu_secure(const struct cl_dev *d)
{
    return cl_dev_card_apdu_structure(d) != CL_DEV_PART10_NONE;
}

/* see cardlink/device.h */
unsigned cl_dev_card_apdu_structure(const struct cl_dev *d)
{
    if (d == NULL || !d->cfg.apdu_card || d->ac.st != AC_SEND)
        return CL_DEV_PART10_NONE;
    return d->ac.secure;
}

/* see cardlink/device.h */
void cl_dev_card_set_pinpad(struct cl_dev *d, bool on)
{
    if (d != NULL && d->cfg.apdu_card)
        d->ac.pinpad = on;
}

/* see cardlink/device.h */
void cl_dev_card_set_pinpad_modify(struct cl_dev *d, bool on)
{
    if (d != NULL && d->cfg.apdu_card)
        d->ac.pinpad_mod = on;
}

uint8_t cl_devj_card_wire(const struct cl_dev *d)
{
    if (d->cfg.apdu_card)
        return CL_RELAY_PROTO_APDU;
    return cl_card_protocol(&d->card) == 1 ? CL_RELAY_PROTO_T1 : CL_RELAY_PROTO_T0;
}
