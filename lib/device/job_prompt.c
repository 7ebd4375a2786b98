/*
 * cardlink — the PROMPT job (protocol §5.10): a marked server text with a
 * YES/NO answer or an entry; lib/policy refused PIN-like prompts already.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "cardlink/error.h"
#include "device_int.h"

static uint8_t answer(struct cl_dev *d, uint8_t result)
{
    cl_relay_msg_init(&d->ans, CL_RELAY_PROMPT_ANSWER);
    d->ans.u.prompt_answer.result = result;
    if (result == CL_RELAY_ANSWER_OK && d->job.vlen > 0) {
        d->ans.u.prompt_answer.value.data = d->job.value;
        d->ans.u.prompt_answer.value.len = d->job.vlen;
    }
    return CL_DEVJ_DONE;
}

uint8_t cl_devj_prompt_step(struct cl_dev *d)
{
    const struct cl_relay_prompt *m = &d->req.u.prompt;
    bool yesno = m->kind == CL_RELAY_PROMPT_YESNO;
    size_t len = 0;

    switch (d->ev) {
    case CL_DEVJ_EV_START:
        cl_devj_screen(d, CL_UI_PROMPT, "");
        if (cl_policy_mark_text(m->text.data, m->text.len, d->cfg.cols, d->screen.text,
                                sizeof(d->screen.text), &len) != CL_OK ||
            cl_ui_screen_rows(&d->screen) >= d->cfg.rows)
            return cl_devj_error(d, CL_RELAY_E_TOO_LARGE);
        d->screen.flags = CL_UI_F_CONFIRM | CL_UI_F_CANCEL;
        if (!yesno) {
            d->screen.entry = m->kind == CL_RELAY_PROMPT_NUMERIC ? CL_UI_ENTRY_DIGITS
                                                                 : CL_UI_ENTRY_TEXT;
            d->screen.entry_min = m->min_len > 0 ? m->min_len : 1;
            d->screen.entry_max = m->max_len;
            d->screen.entry_row = (uint8_t)cl_ui_screen_rows(&d->screen);
        }
        cl_devj_arm(d, m->timeout);
        return CL_DEVJ_PERSON;
    case CL_DEVJ_EV_CONFIRM:
        return yesno ? answer(d, CL_RELAY_ANSWER_OK) : CL_DEVJ_WAIT;
    case CL_DEVJ_EV_CANCEL:
        return answer(d, yesno ? CL_RELAY_ANSWER_NO : CL_RELAY_ANSWER_CANCELLED);
    case CL_DEVJ_EV_ENTRY:
        return yesno ? CL_DEVJ_WAIT : answer(d, CL_RELAY_ANSWER_OK);
    case CL_DEVJ_EV_TIMEOUT:
        return answer(d, CL_RELAY_ANSWER_TIMEOUT);
    default:
        return CL_DEVJ_WAIT;
    }
}
