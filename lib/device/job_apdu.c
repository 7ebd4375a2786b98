/*
 * cardlink — the APDU job: one relayed command (protocol §5.7), allowed by
 * lib/policy before the request reached the job.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/error.h"
#include "device_int.h"

uint8_t cl_devj_apdu_step(struct cl_dev *d)
{
    const struct cl_relay_bytes *a = &d->req.u.apdu.apdu;

    if (d->ev == CL_DEVJ_EV_START) {
        if (a->len > sizeof(d->cmd))
            return cl_devj_error(d, CL_RELAY_E_TOO_LARGE);
        memcpy(d->cmd, a->data, a->len);
        d->cmd_len = a->len;
        d->job.off = 0;
        return CL_DEVJ_CARD;
    }
    if (d->ev != CL_DEVJ_EV_CARD)
        return CL_DEVJ_WAIT;
    if (d->card_rc < 2) {
        cl_policy_relayed(&d->pol, a->data, a->len, 0);
        return cl_devj_error(d, d->card_rc == CL_ERR_CARD_REMOVED || d->card_rc == CL_ERR_CLOSED
                                    ? CL_RELAY_E_NO_CARD
                                    : cl_relay_err_to_wire(d->card_rc < 0 ? d->card_rc
                                                                          : CL_ERR_PROTOCOL));
    }
    cl_policy_relayed(&d->pol, a->data, a->len, cl_devj_sw(d->resp, d->card_rc));
    cl_relay_msg_init(&d->ans, CL_RELAY_APDU_RESPONSE);
    d->ans.u.apdu.apdu.data = d->resp;
    d->ans.u.apdu.apdu.len = (size_t)d->card_rc;
    return CL_DEVJ_DONE;
}
