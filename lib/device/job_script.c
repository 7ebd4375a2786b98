/*
 * cardlink — the SCRIPT job: every step allowed by lib/policy before the
 * first is sent (protocol §5.8), then sent in order, each response kept.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/error.h"
#include "device_int.h"

static uint8_t send_step(struct cl_dev *d)
{
    const struct cl_relay_step *s = &d->req.u.script.steps[d->job.idx];

    if (s->apdu.len > sizeof(d->cmd))
        return 0;
    memcpy(d->cmd, s->apdu.data, s->apdu.len);
    d->cmd_len = s->apdu.len;
    return CL_DEVJ_CARD;
}

static uint8_t result(struct cl_dev *d)
{
    struct cl_relay_script_result *r;
    size_t i;

    cl_relay_msg_init(&d->ans, CL_RELAY_SCRIPT_RESULT);
    r = &d->ans.u.script_result;
    r->mismatch = d->job.mismatch;
    r->error = d->job.code;
    r->nresp = d->job.nresp;
    for (i = 0; i < d->job.nresp; i++)
        r->resp[i] = d->job.resp[i];
    return CL_DEVJ_DONE;
}

uint8_t cl_devj_script_step(struct cl_dev *d)
{
    const struct cl_relay_script *sc = &d->req.u.script;
    const struct cl_relay_step *s;
    uint16_t sw;
    int rc = d->card_rc;

    if (d->ev == CL_DEVJ_EV_START) {
        d->job.mismatch = CL_RELAY_NONE;
        d->job.idx = 0;
        d->job.off = 0;
        return send_step(d) ? CL_DEVJ_CARD : cl_devj_error(d, CL_RELAY_E_TOO_LARGE);
    }
    if (d->ev != CL_DEVJ_EV_CARD)
        return CL_DEVJ_WAIT;
    s = &sc->steps[d->job.idx];
    if (rc < 2) {
        cl_policy_relayed(&d->pol, s->apdu.data, s->apdu.len, 0);
        d->job.code = rc == CL_ERR_CARD_REMOVED || rc == CL_ERR_CLOSED
                          ? CL_RELAY_E_NO_CARD
                          : rc == CL_ERR_BUFFER ? CL_RELAY_E_LIMIT
                                                : cl_relay_err_to_wire(rc < 0 ? rc : CL_ERR_PROTOCOL);
        return result(d);
    }
    sw = cl_devj_sw(d->resp + d->job.off, rc);
    cl_policy_relayed(&d->pol, s->apdu.data, s->apdu.len, sw);
    if (s->options & CL_RELAY_STEP_SW_ONLY) {
        memmove(d->resp + d->job.off, d->resp + d->job.off + rc - 2, 2);
        rc = 2;
    }
    d->job.resp[d->job.nresp].data = d->resp + d->job.off;
    d->job.resp[d->job.nresp].len = (size_t)rc;
    d->job.nresp++;
    d->job.off += (size_t)rc;
    if (!cl_relay_expect_match(&s->expect, sw) && d->job.mismatch == CL_RELAY_NONE) {
        d->job.mismatch = d->job.idx;
        if (!(sc->options & CL_RELAY_SCRIPT_CONTINUE))
            return result(d);
    }
    if ((size_t)d->job.idx + 1 >= sc->nsteps)
        return result(d);
    d->job.idx++;
    return send_step(d) ? CL_DEVJ_CARD : result(d);
}
