/*
 * cardlink — POSIX port: a PC/SC reader as lib/device's APDU-level card
 * port, the slot watcher and Part 10 secure PIN entry (pcsc_dev.h).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include <winscard.h>

#include "cardlink/error.h"
#include "cardlink/wipe.h"
#include "pcsc_dev.h"

/* see pcsc_dev.h */
void cl_pcsc_watch_init(struct cl_pcsc_watch *w)
{
    if (w != NULL)
        memset(w, 0, sizeof(*w));
}

/* see pcsc_dev.h */
int cl_pcsc_watch_update(struct cl_pcsc_watch *w, unsigned long state)
{
    bool present, was;
    int ev = CL_PCSC_EV_NONE;

    if (w == NULL)
        return CL_PCSC_EV_NONE;
    present = (state & SCARD_STATE_PRESENT) != 0 &&
              (state & (SCARD_STATE_UNKNOWN | SCARD_STATE_UNAVAILABLE)) == 0;
    was = w->started && w->present;
    if (present && !was)
        ev = CL_PCSC_EV_INSERTED;
    else if (!present && was)
        ev = CL_PCSC_EV_REMOVED;
    else if (present && was && ((state ^ w->state) & 0xFFFF0000ul) != 0) {
        ev = CL_PCSC_EV_REMOVED;   /* out and in again between two looks */
        w->pending_insert = true;
    }
    w->state = state & ~(unsigned long)SCARD_STATE_CHANGED;
    w->started = true;
    w->present = present && !w->pending_insert;
    return ev;
}

/* see pcsc_dev.h */
int cl_pcsc_watch_poll(struct cl_pcsc *p, struct cl_pcsc_watch *w, uint32_t ms)
{
    SCARD_READERSTATE rs;
    LONG rv;

    if (p == NULL || w == NULL || !p->have_ctx)
        return CL_ERR_ARG;
    if (w->pending_insert) {
        w->pending_insert = false;
        w->present = true;
        return CL_PCSC_EV_INSERTED;
    }
    memset(&rs, 0, sizeof(rs));
    rs.szReader = p->reader;
    rs.dwCurrentState = w->started ? (DWORD)w->state : SCARD_STATE_UNAWARE;
    rv = SCardGetStatusChange(p->sctx, (DWORD)ms, &rs, 1);
    if (rv == SCARD_E_TIMEOUT)
        return CL_PCSC_EV_NONE;
    if (rv != SCARD_S_SUCCESS) {
        p->last = rv;
        return CL_ERR_IO;
    }
    return cl_pcsc_watch_update(w, (unsigned long)rs.dwEventState);
}

/* see pcsc_dev.h */
int cl_pcsc_feature_find(const uint8_t *tlv, size_t len, uint8_t tag, uint32_t *code)
{
    size_t i;

    if (code == NULL || (tlv == NULL && len > 0))
        return CL_ERR_ARG;
    for (i = 0; i < len; i += 6) {
        if (len - i < 2 || tlv[i + 1] != 4 || len - i < 6)
            return CL_ERR_MALFORMED;
        if (tlv[i] == tag) {
            *code = ((uint32_t)tlv[i + 2] << 24) | ((uint32_t)tlv[i + 3] << 16) |
                    ((uint32_t)tlv[i + 4] << 8) | tlv[i + 5];
            return CL_OK;
        }
    }
    return CL_ERR_NOT_FOUND;
}

/* see pcsc_dev.h */
int cl_pcsc_control(struct cl_pcsc *p, uint32_t code, const uint8_t *in, size_t n, uint8_t *out,
                    size_t size, size_t *got)
{
    DWORD len = 0;
    LONG rv;

    if (p == NULL || got == NULL || (in == NULL && n > 0) || out == NULL ||
        n > 0xFFFFu || size > 0xFFFFu)
        return CL_ERR_ARG;
    *got = 0;
    if (!p->connected)
        return CL_ERR_STATE;
    rv = SCardControl(p->handle, (DWORD)code, in, (DWORD)n, out, (DWORD)size, &len);
    if (rv != SCARD_S_SUCCESS) {
        p->last = rv;
        return cl_pcsc_error(rv);
    }
    if (len > size)
        return CL_ERR_PROTOCOL;
    *got = len;
    return CL_OK;
}

/* The control code of Part 10 feature tag, 0 when the reader has none. */
static int feature(struct cl_pcsc *p, uint8_t tag, uint32_t *code)
{
    uint8_t buf[256];
    size_t n = 0;
    LONG saved;
    int r;

    if (p == NULL || code == NULL)
        return CL_ERR_ARG;
    *code = 0;
    if (!p->connected)
        return CL_ERR_STATE;
    saved = p->last;
    r = cl_pcsc_control(p, CL_PCSC_FEATURE_REQUEST, NULL, 0, buf, sizeof(buf), &n);
    p->last = saved;   /* a reader that has no features is not a failure */
    if (r != CL_OK || cl_pcsc_feature_find(buf, n, tag, code) != CL_OK)
        *code = 0;
    return CL_OK;
}

/* see pcsc_dev.h */
int cl_pcsc_pinpad(struct cl_pcsc *p, uint32_t *code)
{
    return feature(p, CL_PCSC_FEATURE_VERIFY_PIN_DIRECT, code);
}

/* see pcsc_dev.h */
int cl_pcsc_pinpad_modify(struct cl_pcsc *p, uint32_t *code)
{
    return feature(p, CL_PCSC_FEATURE_MODIFY_PIN_DIRECT, code);
}

/* ------------------------------------------------------------ the device's port */

/* see pcsc_dev.h */
void cl_pcsc_dev_init(struct cl_pcsc_dev *pd)
{
    if (pd == NULL)
        return;
    memset(pd, 0, sizeof(*pd));
    cl_pcsc_init(&pd->pc);
    cl_pcsc_watch_init(&pd->watch);
}

/* see pcsc_dev.h */
int cl_pcsc_dev_open(struct cl_pcsc_dev *pd, const char *match)
{
    if (pd == NULL)
        return CL_ERR_ARG;
    return cl_pcsc_open(&pd->pc, match);
}

/* see pcsc_dev.h */
void cl_pcsc_dev_arm(struct cl_pcsc_dev *pd)
{
    if (pd != NULL && !pd->armed) {
        pd->armed = true;
        cl_pcsc_watch_init(&pd->watch);
    }
}

/* see pcsc_dev.h */
void cl_pcsc_dev_close(struct cl_pcsc_dev *pd)
{
    if (pd == NULL)
        return;
    cl_pcsc_close(&pd->pc);
    cl_wipe(pd->resp, sizeof(pd->resp));
    pd->armed = false;
}

static int ctrl_step(struct cl_pcsc_dev *pd, struct cl_dev *d, uint32_t now)
{
    const struct cl_card_apdu *ops = cl_pcsc_apdu();
    unsigned c = cl_dev_card_ctrl(d);
    uint8_t proto = 0;
    int r;

    if (c == CL_CARD_CTRL_OFF) {
        ops->disconnect(&pd->pc);
        r = cl_dev_card_ctrl_done(d, now, CL_OK);
        return r == CL_OK ? CL_PCSC_DEV_OFF : r;
    }
    if (c == CL_CARD_CTRL_COLD)
        ops->disconnect(&pd->pc);   /* unpowered, then connected again */
    pd->atr_len = 0;
    r = ops->connect(&pd->pc, c == CL_CARD_CTRL_WARM, CL_CARD_T_ANY, pd->atr, &pd->atr_len,
                     &proto);
    if (r == CL_OK && cl_pcsc_pinpad(&pd->pc, &pd->verify_code) != CL_OK)
        pd->verify_code = 0;
    if (r == CL_OK && cl_pcsc_pinpad_modify(&pd->pc, &pd->modify_code) != CL_OK)
        pd->modify_code = 0;
    if (r != CL_OK) {
        pd->last_err = r;
        r = cl_dev_card_fail(d, now, r);
        return r == CL_OK ? CL_PCSC_DEV_FAILED : r;
    }
    pd->protocol = proto;
    cl_dev_card_set_pinpad(d, pd->verify_code != 0);
    cl_dev_card_set_pinpad_modify(d, pd->modify_code != 0);
    r = cl_dev_card_apdu_reset(d, now, pd->atr, pd->atr_len, proto);
    return r == CL_OK ? CL_PCSC_DEV_ACTIVE : r;
}

static int send_step(struct cl_pcsc_dev *pd, struct cl_dev *d, uint32_t now)
{
    const uint8_t *p = NULL;
    size_t n = cl_dev_card_pull(d, &p), got = 0;
    unsigned kind = cl_dev_card_apdu_structure(d);
    bool secure = kind != CL_DEV_PART10_NONE;
    uint32_t code = kind == CL_DEV_PART10_MODIFY ? pd->modify_code : pd->verify_code;
    int r;

    if (n == 0)
        return CL_ERR_STATE;
    if (secure)
        r = code != 0 ? cl_pcsc_control(&pd->pc, code, p, n, pd->resp, sizeof(pd->resp), &got)
                      : CL_ERR_UNSUPPORTED;
    else
        r = cl_pcsc_apdu()->transmit(&pd->pc, p, n, pd->resp, sizeof(pd->resp), &got);
    if (r == CL_OK)
        r = cl_dev_card_apdu_done(d, now, pd->resp, got);
    else {
        pd->last_err = r;
        r = cl_dev_card_fail(d, now, r);
        if (r == CL_OK)
            r = CL_PCSC_DEV_FAILED;
    }
    cl_wipe(pd->resp, got < sizeof(pd->resp) ? got : sizeof(pd->resp));
    if (r == CL_OK)
        r = secure ? CL_PCSC_DEV_PINPAD : CL_PCSC_DEV_APDU;
    return r;
}

/* see pcsc_dev.h */
int cl_pcsc_dev_step(struct cl_pcsc_dev *pd, struct cl_dev *d, uint32_t now)
{
    enum cl_want w;
    int ev;

    if (pd == NULL || d == NULL)
        return CL_ERR_ARG;
    w = cl_dev_card_want(d);
    if (w == CL_WANT_CTRL)
        return ctrl_step(pd, d, now);
    if (w == CL_WANT_SEND)
        return send_step(pd, d, now);
    if (!pd->armed)
        return CL_PCSC_DEV_IDLE;
    ev = cl_pcsc_watch_poll(&pd->pc, &pd->watch, 0);
    if (ev == CL_PCSC_EV_INSERTED) {
        int r = cl_dev_card_inserted(d, now);
        return r == CL_OK || r == CL_ERR_STATE ? CL_PCSC_DEV_INSERTED : r;
    }
    if (ev == CL_PCSC_EV_REMOVED) {
        cl_dev_card_removed(d, now);
        return CL_PCSC_DEV_REMOVED;
    }
    return ev < 0 ? ev : CL_PCSC_DEV_IDLE;
}
