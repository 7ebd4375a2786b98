/*
 * cardlink — the DISPLAY job: the server's text, marked as the server's
 * (cl_policy_mark_text), answered DISPLAY-DONE once it is on the display.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "cardlink/error.h"
#include "device_int.h"

uint8_t cl_devj_display_step(struct cl_dev *d)
{
    const struct cl_relay_display *m = &d->req.u.display;
    size_t len = 0;

    if (d->ev == CL_DEVJ_EV_START) {
        cl_devj_screen(d, CL_UI_SERVER_TEXT, "");
        if (cl_policy_mark_text(m->text.data, m->text.len, d->cfg.cols, d->screen.text,
                                sizeof(d->screen.text), &len) != CL_OK)
            return cl_devj_error(d, CL_RELAY_E_TOO_LARGE);
        return CL_DEVJ_PERSON;
    }
    if (d->ev != CL_DEVJ_EV_SHOWN)
        return CL_DEVJ_WAIT;
    d->job.used_ui = false;   /* the text stays up */
    cl_relay_msg_init(&d->ans, CL_RELAY_DISPLAY_DONE);
    return CL_DEVJ_DONE;
}
