/*
 * cardlink — the PIN-VERIFY and PIN-CHANGE jobs (protocol §5.11): the
 * device's own PIN screen, the digits written into the template as they
 * arrive (cl_dev_ui_pin), the command sent, only the status word answered.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/sw.h"
#include "device_int.h"

enum { E_OLD = 0, E_NEW = 1, E_CONFIRM = 2, E_DONE = 3 };

static uint8_t answer(struct cl_dev *d, uint16_t sw, uint8_t code)
{
    cl_relay_msg_init(&d->ans, (uint8_t)(d->job.type + 1));
    d->ans.u.pin_result.sw = sw;
    d->ans.u.pin_result.error = sw != 0 ? 0 : code;
    return CL_DEVJ_DONE;
}

/* The tries left after a refused PIN (63Cx: 0..15), on the device's own
 * screen, worded as the server's reference flows word it. */
static void tries_screen(struct cl_dev *d, uint16_t sw)
{
    char t[32] = "Wrong PIN\n";
    int n = cl_sw_retries(sw);
    size_t k = 10;

    if (sw == 0x6983) {
        cl_devj_screen(d, CL_UI_MESSAGE, "PIN blocked\n");
    } else if (n >= 0) {
        if (n >= 10)
            t[k++] = '1';
        t[k++] = (char)('0' + (unsigned)n % 10u);
        memcpy(t + k, n == 1 ? " try left\n" : " tries left\n", n == 1 ? 11 : 13);
        cl_devj_screen(d, CL_UI_MESSAGE, t);
    } else {
        return;
    }
    d->screen_ready = true;
}

/* Next entry of the sequence (verify: E_OLD only). */
static uint8_t next_entry(struct cl_dev *d, uint8_t from)
{
    const struct cl_relay_pin *p = &d->req.u.pin;
    bool change = d->job.type == CL_RELAY_PIN_CHANGE;
    uint8_t e;

    for (e = from; e < E_DONE; e++) {
        if (e == E_OLD && p->offset != CL_RELAY_NONE)
            break;
        if (change && e == E_NEW)
            break;
        if (change && e == E_CONFIRM && p->confirm)
            break;
    }
    d->job.entry = e;
    if (e == E_DONE)
        return CL_DEVJ_CARD;
    /* the first entry: the reader's PIN pad may take all the digits
     * (verify: the PIN; change: old, new and confirmation together) */
    if (from == E_OLD && cl_devj_pinpad(d, p)) {
        d->job.entry = E_DONE;
        return CL_DEVJ_CARD;
    }
    d->job.pin_cmp = e == E_CONFIRM;
    d->job.pin_off = e == E_OLD ? p->offset : p->new_offset;
    cl_devj_pin_screen(d, p, e == E_OLD ? (change ? 0 : p->msg_index) : e);
    return CL_DEVJ_PERSON;
}

uint8_t cl_devj_pin_step(struct cl_dev *d)
{
    const struct cl_relay_pin *p = &d->req.u.pin;
    uint16_t sw;

    switch (d->ev) {
    case CL_DEVJ_EV_START:
        if (p->apdu.len > sizeof(d->cmd) || p->apdu.len < 6)
            return answer(d, 0, CL_RELAY_E_DENIED);
        memcpy(d->cmd, p->apdu.data, p->apdu.len);
        d->cmd_len = p->apdu.len;
        d->job.off = 0;
        return next_entry(d, E_OLD);
    case CL_DEVJ_EV_PIN:
        if (d->job.pin_cmp && d->job.code != 0) {
            cl_devj_screen(d, CL_UI_MESSAGE, "PINs differ\n");
            d->screen_ready = true;
            return answer(d, 0, CL_RELAY_E_CANCELLED);
        }
        return next_entry(d, (uint8_t)(d->job.entry + 1));
    case CL_DEVJ_EV_CANCEL:
        return answer(d, 0, CL_RELAY_E_CANCELLED);
    case CL_DEVJ_EV_TIMEOUT:
        return answer(d, 0, CL_RELAY_E_TIMEOUT);
    case CL_DEVJ_EV_NO_CARD:
        return answer(d, 0, CL_RELAY_E_NO_CARD);
    case CL_DEVJ_EV_CARD:
        if (d->card_rc < 2)
            return answer(d, 0, d->card_rc == CL_ERR_CARD_REMOVED ? CL_RELAY_E_NO_CARD
                                                                  : CL_RELAY_E_CARD_IO);
        sw = cl_devj_sw(d->resp, d->card_rc);
        cl_policy_pin_result(&d->pol, p->apdu.data[3], sw);
        tries_screen(d, sw);
        if ((sw >> 12) != 0x6 && (sw >> 12) != 0x9)
            return answer(d, 0, CL_RELAY_E_CARD_IO);
        return answer(d, sw, 0);
    default:
        return CL_DEVJ_WAIT;
    }
}
