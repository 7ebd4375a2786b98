/*
 * cardlink — the CARD-RESET job (protocol §5.13): warm or cold, the
 * policy state cleared, the new ATR answered.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "cardlink/error.h"
#include "device_int.h"

uint8_t cl_devj_reset_step(struct cl_dev *d)
{
    const struct cl_atr *inf;

    if (d->ev == CL_DEVJ_EV_START) {
        d->job.code = d->req.u.reset_mode == CL_RELAY_RESET_COLD ? 1 : 0;
        return CL_DEVJ_RESET;
    }
    if (d->ev != CL_DEVJ_EV_CARD)
        return CL_DEVJ_WAIT;
    cl_relay_msg_init(&d->ans, CL_RELAY_CARD_RESET_RESULT);
    if (d->card_rc != CL_OK) {
        d->ans.u.card.error = d->card_rc == CL_ERR_CARD_REMOVED ? CL_RELAY_E_NO_CARD
                                                               : cl_relay_err_to_wire(d->card_rc);
        return CL_DEVJ_DONE;
    }
    inf = cl_devj_card_atr(d);
    if (inf == NULL) {
        d->ans.u.card.error = CL_RELAY_E_NO_CARD;
        return CL_DEVJ_DONE;
    }
    d->ans.u.card.atr.data = inf->raw;
    d->ans.u.card.atr.len = inf->len;
    d->ans.u.card.protocol = cl_devj_card_wire(d);
    return CL_DEVJ_DONE;
}
