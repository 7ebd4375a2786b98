/*
 * cardlink — the device controller: the mediator between the card engine,
 * the relay session and the holder. Jobs live in job_*.c.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/wipe.h"
#include "device_int.h"

static const cl_devj_step_fn steps[16] = {
    [(CL_RELAY_APDU - 0x20) / 2] = cl_devj_apdu_step,
    [(CL_RELAY_SCRIPT - 0x20) / 2] = cl_devj_script_step,
    [(CL_RELAY_DISPLAY - 0x20) / 2] = cl_devj_display_step,
    [(CL_RELAY_PROMPT - 0x20) / 2] = cl_devj_prompt_step,
    [(CL_RELAY_PIN_VERIFY - 0x20) / 2] = cl_devj_pin_step,
    [(CL_RELAY_PIN_CHANGE - 0x20) / 2] = cl_devj_pin_step,
    [(CL_RELAY_TXN_APPROVE - 0x20) / 2] = cl_devj_txn_step,
    [(CL_RELAY_CARD_RESET - 0x20) / 2] = cl_devj_reset_step,
};

/* The transaction log (answers and the id list, in the store) is in
 * device_log.c. */

/* ------------------------------------------------------------ lifecycle */

/* see cardlink/device.h */
void cl_dev_init(struct cl_dev *d)
{
    if (d != NULL)
        memset(d, 0, sizeof(*d));
}

/* see cardlink/device.h */
int cl_dev_setup(struct cl_dev *d, const struct cl_dev_config *cfg)
{
    int r;

    if (d == NULL || cfg == NULL || (cfg->line == NULL && !cfg->apdu_card))
        return CL_ERR_ARG;
    cl_dev_init(d);
    d->cfg = *cfg;
    if (d->cfg.cols == 0 || d->cfg.rows == 0) {
        d->cfg.cols = 20;
        d->cfg.rows = 4;
    }
    if (d->cfg.cols > CL_UI_COLS_MAX)
        d->cfg.cols = CL_UI_COLS_MAX;
    if (d->cfg.rows > CL_UI_ROWS_MAX)
        d->cfg.rows = CL_UI_ROWS_MAX;
    if (d->cfg.entry_ms == 0)
        d->cfg.entry_ms = 60000;
    cl_devlog_init(d);
    cl_policy_init(&d->pol);
    cl_card_init_line(&d->card, d->cfg.line, d->cfg.line_ctx, &d->cfg.card);
    cl_relay_session_init(&d->rs);
    r = cl_relay_session_setup(&d->rs, CL_RELAY_DEVICE, &d->cfg.relay, d->rx, sizeof(d->rx),
                               d->replay, sizeof(d->replay));
    if (r == CL_OK)
        r = cl_devlog_load(d);
    if (r != CL_OK)
        cl_dev_init(d);
    return r;
}

/* see cardlink/device.h */
void cl_dev_free(struct cl_dev *d)
{
    if (d == NULL)
        return;
    cl_card_free(&d->card);
    cl_relay_session_free(&d->rs);
    cl_wipe(d, sizeof(*d));
}

/* see cardlink/device.h */
unsigned cl_dev_wants(const struct cl_dev *d)
{
    unsigned w = 0;
    enum cl_want cw, nw;

    if (d == NULL)
        return 0;
    cw = cl_dev_card_want(d);
    if (cw == CL_WANT_CTRL || cw == CL_WANT_SEND || cw == CL_WANT_RECV)
        w |= CL_DEV_W_CARD;
    nw = cl_relay_session_want(&d->rs);
    if (nw == CL_WANT_SEND)
        w |= CL_DEV_W_NET_SEND;
    if (nw == CL_WANT_RECV || nw == CL_WANT_SEND)
        w |= CL_DEV_W_NET_RECV;
    if (d->link_dead)
        w |= CL_DEV_W_NET_DROP;
    if (d->screen_ready)
        w |= CL_DEV_W_UI;
    if (d->err != CL_OK)
        w |= CL_DEV_W_FAILED;
    return w;
}

/* see cardlink/device.h */
int cl_dev_error(const struct cl_dev *d)
{
    return d == NULL ? CL_ERR_ARG : d->err;
}

/* see cardlink/device.h */
const struct cl_dev_stats *cl_dev_stats(const struct cl_dev *d)
{
    return d == NULL ? NULL : &d->stats;
}

/* see cardlink/device.h */
const struct cl_policy_state *cl_dev_policy(const struct cl_dev *d)
{
    return d == NULL ? NULL : &d->pol;
}

/* see cardlink/device.h */
const struct cl_relay_session *cl_dev_session(const struct cl_dev *d)
{
    return d == NULL ? NULL : &d->rs;
}

/* see cardlink/device.h */
const struct cl_card *cl_dev_card(const struct cl_dev *d)
{
    return d == NULL ? NULL : &d->card;
}

/* see cardlink/device.h */
bool cl_dev_card_inverse(const struct cl_dev *d)
{
    return d != NULL && !d->cfg.apdu_card && cl_card_sw_inverse(&d->card);
}

/* see cardlink/device.h */
bool cl_dev_card_active(const struct cl_dev *d)
{
    return d != NULL && d->reset_kind == 0 && cl_devj_card_active(d);
}

/* see cardlink/device.h */
const struct cl_atr *cl_dev_card_atr(const struct cl_dev *d)
{
    return cl_dev_card_active(d) ? cl_devj_card_atr(d) : NULL;
}

/* see cardlink/device.h */
int cl_dev_card_protocol(const struct cl_dev *d)
{
    if (d == NULL)
        return CL_ERR_ARG;
    return cl_dev_card_active(d) ? cl_devj_card_protocol(d) : CL_ERR_CLOSED;
}

/* ------------------------------------------------------------ job helpers */

uint8_t cl_devj_error(struct cl_dev *d, uint8_t code)
{
    cl_relay_msg_init(&d->ans, CL_RELAY_ERROR);
    d->ans.u.status.code = code;
    return CL_DEVJ_DONE;
}

uint16_t cl_devj_sw(const uint8_t *resp, int len)
{
    if (len < 2)
        return 0;
    return (uint16_t)((resp[len - 2] << 8) | resp[len - 1]);
}

void cl_devj_screen(struct cl_dev *d, uint8_t kind, const char *text)
{
    size_t n = cl_strnlen(text, sizeof(d->screen.text) - 1);

    cl_ui_screen_init(&d->screen, kind, ++d->screen_id);
    memcpy(d->screen.text, text, n);
    d->job.used_ui = true;
}

void cl_devj_arm(struct cl_dev *d, uint8_t s)
{
    d->job.deadline = d->now + (s != 0 ? (uint32_t)s * 1000u : d->cfg.entry_ms);
    d->job.timed = true;
}

void cl_devj_pin_screen(struct cl_dev *d, const struct cl_relay_pin *p, uint8_t msg)
{
    static const char *const texts[3] = {"\x01" "Enter PIN\n", "\x01" "Enter new PIN\n",
                                         "\x01" "Confirm new PIN\n"};

    cl_devj_screen(d, CL_UI_PIN, texts[msg < 3 ? msg : 0]);
    d->screen.entry = CL_UI_ENTRY_PIN;
    d->screen.entry_min = p->min_len;
    d->screen.entry_max = p->max_len;
    d->screen.entry_row = 1;
    d->screen.flags = CL_UI_F_CONFIRM | CL_UI_F_CANCEL;
    d->job.pin_up = true;
    cl_devj_arm(d, p->timeout);
}

/* ------------------------------------------------------------ running jobs */

static uint8_t job_step(struct cl_dev *d)
{
    if (d->job.type == CL_DEVJ_TICKET)
        return cl_devj_ticket_step(d);
    if (d->job.type == CL_RELAY_ACTUATE)
        return cl_devj_gate_step(d);
    return steps[(d->job.type - 0x20) / 2](d);
}

static void job_end(struct cl_dev *d)
{
    int r = CL_OK;

    if (d->job.type != CL_DEVJ_TICKET)   /* a local job answers nobody */
        r = cl_relay_session_send(&d->rs, d->now, &d->ans);
    if (r == CL_ERR_LIMIT || r == CL_ERR_TOO_LONG) {
        uint8_t code = cl_relay_err_to_wire(r);
        (void)cl_devj_error(d, code);
        r = cl_relay_session_send(&d->rs, d->now, &d->ans);
        (void)r;
    }
    if (d->job.used_ui && !d->screen_ready) {
        cl_devj_screen(d, CL_UI_IDLE, "Ready\n");
        d->screen_ready = true;
    }
    cl_wipe(&d->job, sizeof(d->job));
    cl_wipe(d->cmd, sizeof(d->cmd));
    d->card_busy = false;
}

static void run(struct cl_dev *d, uint8_t ev)
{
    unsigned guard;

    for (guard = 0; guard < 64 && d->job.type != 0; guard++) {
        uint8_t need;
        int r;

        d->ev = ev;
        need = job_step(d);
        switch (need) {
        case CL_DEVJ_CARD:
            if (!d->card_present) {
                r = CL_ERR_CARD_REMOVED;
            } else if (d->cfg.apdu_card) {
                r = cl_devac_send(d);
            } else {
                r = cl_card_transmit_start(&d->card, d->cmd, d->cmd_len,
                                           d->resp + d->job.off, sizeof(d->resp) - d->job.off);
            }
            if (r != CL_OK) {
                cl_wipe(d->cmd, sizeof(d->cmd));
                d->card_rc = r;
                ev = CL_DEVJ_EV_CARD;
                continue;
            }
            d->stats.apdus++;
            d->card_busy = true;
            return;
        case CL_DEVJ_RESET:
            if (!d->card_present) {
                d->card_rc = CL_ERR_CARD_REMOVED;
                ev = CL_DEVJ_EV_CARD;
                continue;
            }
            cl_policy_card_reset(&d->pol);
            d->reset_kind = 1;
            d->card_busy = true;
            if (d->cfg.apdu_card) {
                r = cl_devac_start(d, d->job.code == 0 && cl_devj_card_active(d)
                                          ? CL_CARD_CTRL_WARM : CL_CARD_CTRL_COLD);
            } else if (d->job.code == 0 && cl_card_state(&d->card) == CL_CARD_ACTIVE) {
                r = cl_card_start(&d->card, true);
            } else if (cl_card_state(&d->card) == CL_CARD_ACTIVE) {
                cl_card_stop(&d->card);
                d->cold_pending = true;
                r = CL_OK;
            } else {
                r = cl_card_start(&d->card, false);
            }
            if (r != CL_OK) {
                d->card_busy = false;
                d->reset_kind = 0;
                d->card_rc = r;
                ev = CL_DEVJ_EV_CARD;
                continue;
            }
            return;
        case CL_DEVJ_PERSON:
            d->screen_ready = true;
            return;
        case CL_DEVJ_DONE:
            job_end(d);
            return;
        default:
            return;
        }
    }
    if (d->job.type != 0) {
        d->err = CL_ERR_INTERNAL;
        (void)cl_devj_error(d, CL_RELAY_E_INTERNAL);
        job_end(d);
    }
}

/* see cardlink/device.h */
int cl_dev_validate(struct cl_dev *d, uint32_t now, const struct cl_dev_ticket_cfg *cfg)
{
    if (d == NULL || cfg == NULL || cfg->verify == NULL ||
        cfg->challenge_len > CL_DEV_TICKET_CHAL_MAX || d->cfg.hash.digest == NULL)
        return CL_ERR_ARG;
    if (d->job.type != 0 || d->card_busy || d->reset_kind != 0 || !d->card_present ||
        !cl_devj_card_active(d))
        return CL_ERR_STATE;
    d->now = now;
    cl_wipe(&d->tk, sizeof(d->tk));
    d->tk.cfg = *cfg;
    d->tk.running = true;
    d->job.type = CL_DEVJ_TICKET;
    run(d, CL_DEVJ_EV_START);
    return CL_OK;
}

/* The answer of a request refused by policy, in the type's own form. */
static void deny(struct cl_dev *d, uint8_t code)
{
    uint8_t type = d->req.type;

    d->stats.denied++;
    if (type == CL_RELAY_TXN_APPROVE) {
        const uint8_t *id = d->req.u.txn.txn_id;
        cl_relay_msg_init(&d->ans, CL_RELAY_TXN_RESULT);
        d->ans.u.txn_result.txn_id = id;
        d->ans.u.txn_result.result = CL_RELAY_TXN_FAILED;
        d->ans.u.txn_result.error = code;
    } else if (type == CL_RELAY_ACTUATE && d->req.u.actuate.txn_id != NULL) {
        const uint8_t *id = d->req.u.actuate.txn_id;
        cl_relay_msg_init(&d->ans, CL_RELAY_ACTUATE_RESULT);
        d->ans.u.actuate_result.txn_id = id;
        d->ans.u.actuate_result.result = CL_RELAY_GATE_DENIED;
    } else if (type == CL_RELAY_PIN_VERIFY || type == CL_RELAY_PIN_CHANGE) {
        cl_relay_msg_init(&d->ans, (uint8_t)(type + 1));
        d->ans.u.pin_result.error = code;
    } else {
        (void)cl_devj_error(d, code);
    }
    job_end(d);
}

static void start_request(struct cl_dev *d, const struct cl_relay_msg *m)
{
    size_t len = 0;
    uint8_t reason = 0;
    int r;

    if (d->job.type != 0) {
        /* a fresh session asked while the old request still runs */
        struct cl_relay_msg e;
        cl_relay_msg_init(&e, CL_RELAY_ERROR);
        e.u.status.code = CL_RELAY_E_STATE;
        if (cl_relay_session_send(&d->rs, d->now, &e) != CL_OK)
            d->stats.denied++;
        return;
    }
    r = cl_relay_encode(m, d->req_buf, sizeof(d->req_buf), &len);
    if (r == CL_OK)
        r = cl_relay_decode(d->req_buf, len, &d->req);
    d->job.type = m->type;
    d->stats.requests++;
    if (r != CL_OK || (m->type != CL_RELAY_ACTUATE &&
                       (m->type < CL_RELAY_APDU || m->type > CL_RELAY_CARD_RESET ||
                        (m->type & 1u) != 0))) {
        d->req.type = m->type;
        deny(d, r == CL_ERR_BUFFER ? CL_RELAY_E_TOO_LARGE : CL_RELAY_E_UNSUPPORTED);
        return;
    }
    r = cl_policy_check_msg(&d->cfg.policy, &d->pol, &d->req, len, &reason, NULL);
    if (r != CL_OK) {
        deny(d, r == CL_ERR_DENIED ? cl_policy_wire_code(reason) : CL_RELAY_E_MALFORMED);
        return;
    }
    run(d, CL_DEVJ_EV_START);
}

static void notify_card(struct cl_dev *d, bool inserted);

static void poll_session(struct cl_dev *d)
{
    struct cl_relay_event ev;

    while (cl_relay_session_poll(&d->rs, &ev)) {
        switch (ev.kind) {
        case CL_RELAY_EV_REQUEST:
            if (ev.msg != NULL)
                start_request(d, ev.msg);
            break;
        case CL_RELAY_EV_LINK_DEAD:
            d->link_dead = true;
            break;
        case CL_RELAY_EV_OPEN:
            d->link_dead = false;
            /* a card already active is told once per session: a fresh
             * session has not heard of it, a resumed one only when the
             * card became active while no session was open (§5.6) */
            if (!ev.resumed)
                d->card_told = false;
            if (!d->card_told && d->card_present && d->reset_kind == 0 &&
                cl_devj_card_active(d))
                notify_card(d, true);
            break;
        default:
            break;
        }
    }
}

static void notify_card(struct cl_dev *d, bool inserted)
{
    struct cl_relay_msg m;

    if (inserted) {
        const struct cl_atr *inf = cl_devj_card_atr(d);
        if (inf == NULL)
            return;
        cl_relay_msg_init(&m, CL_RELAY_CARD_INSERTED);
        m.u.card.atr.data = inf->raw;
        m.u.card.atr.len = inf->len;
        m.u.card.protocol = cl_devj_card_wire(d);
    } else {
        cl_relay_msg_init(&m, CL_RELAY_CARD_REMOVED);
    }
    d->card_told = false;
    if (cl_relay_session_send(&d->rs, d->now, &m) != CL_OK)
        return;   /* no session: told when one opens (poll_session) */
    d->card_told = inserted;
}


/* For card_apdu.c (device_int.h). */
void cl_devj_run(struct cl_dev *d, uint8_t ev)
{
    run(d, ev);
}

void cl_devj_notify(struct cl_dev *d, bool inserted)
{
    notify_card(d, inserted);
}

/* After every card input: hand a finished exchange or reset to its job. */
static void settle(struct cl_dev *d)
{
    enum cl_want w = cl_card_want(&d->card);

    if (d->cold_pending) {
        if (w == CL_WANT_CLOSED || w == CL_WANT_FAILED) {
            d->cold_pending = false;
            if (cl_card_start(&d->card, false) != CL_OK) {
                d->card_busy = false;
                d->reset_kind = 0;
                d->card_rc = CL_ERR_CARD_MUTE;
                run(d, CL_DEVJ_EV_CARD);
            }
        }
        return;
    }
    if (w == CL_WANT_FAILED || w == CL_WANT_CLOSED) {
        int e = cl_card_error(&d->card);
        cl_policy_card_reset(&d->pol);
        d->reset_kind = 0;
        if (d->card_busy) {
            d->card_busy = false;
            d->stats.card_errors++;
            d->card_rc = e < 0 ? e : CL_ERR_CARD_REMOVED;
            run(d, CL_DEVJ_EV_CARD);
        }
        return;
    }
    if (w == CL_WANT_DONE && d->card_busy && d->reset_kind == 0) {
        d->card_busy = false;
        d->card_rc = cl_card_result(&d->card);
        cl_wipe(d->cmd, sizeof(d->cmd));
        run(d, CL_DEVJ_EV_CARD);
        return;
    }
    if (w == CL_WANT_IDLE && d->reset_kind != 0) {
        uint8_t k = d->reset_kind;
        d->reset_kind = 0;
        cl_policy_card_reset(&d->pol);
        if (k == 1 && d->card_busy) {
            d->card_busy = false;
            d->card_rc = CL_OK;
            run(d, CL_DEVJ_EV_CARD);
        } else if (k == 2) {
            notify_card(d, true);
        }
    }
}

/* ------------------------------------------------------------ card slot */

/* see cardlink/device.h */
int cl_dev_card_inserted(struct cl_dev *d, uint32_t now)
{
    int r;

    if (d == NULL)
        return CL_ERR_ARG;
    if (d->card_present)
        return CL_ERR_STATE;
    d->now = now;
    if (d->cfg.apdu_card) {
        r = cl_devac_start(d, CL_CARD_CTRL_COLD);
    } else if (cl_card_want(&d->card) == CL_WANT_CTRL &&
               cl_card_ctrl(&d->card) == CL_CARD_CTRL_OFF) {
        /* the last card's power-off is still to be done (a slot watcher
         * reporting out and in before the loop ran the line): start once
         * it is, as a cold CARD-RESET does (settle) */
        d->cold_pending = true;
        r = CL_OK;
    } else {
        r = cl_card_start(&d->card, false);
    }
    if (r != CL_OK)
        return r;
    d->card_present = true;
    d->reset_kind = 2;
    cl_policy_card_reset(&d->pol);
    return CL_OK;
}

/* see cardlink/device.h */
void cl_dev_card_removed(struct cl_dev *d, uint32_t now)
{
    if (d == NULL || !d->card_present)
        return;
    d->now = now;
    d->card_present = false;
    d->cold_pending = false;
    cl_devac_removed(d);
    /* CARD-REMOVED first, then every request on the card ends NO_CARD
     * (protocol §5.6): the server learns why before the answers */
    notify_card(d, false);
    if (cl_card_fail(&d->card, CL_ERR_CARD_REMOVED) != CL_OK && d->card_busy) {
        d->card_busy = false;
        d->card_rc = CL_ERR_CARD_REMOVED;
        run(d, CL_DEVJ_EV_CARD);
    }
    cl_policy_card_reset(&d->pol);
    /* a job waiting for the holder (an approval, a PIN entry) ends now:
     * the card it was for is gone, and so is its policy state */
    if (d->job.type != 0 && !d->card_busy)
        run(d, CL_DEVJ_EV_NO_CARD);
    settle(d);
}

/* ------------------------------------------------------------ card line */

/* see cardlink/device.h */
enum cl_want cl_dev_card_want(const struct cl_dev *d)
{
    if (d != NULL && d->cfg.apdu_card)
        return cl_devac_want(d);
    return d == NULL ? CL_WANT_FAILED : cl_card_want(&d->card);
}

/* see cardlink/device.h */
unsigned cl_dev_card_ctrl(const struct cl_dev *d)
{
    if (d != NULL && d->cfg.apdu_card)
        return cl_devac_ctrl(d);
    return d == NULL ? CL_CARD_CTRL_NONE : cl_card_ctrl(&d->card);
}

/* see cardlink/device.h */
const struct cl_card_line_params *cl_dev_card_params(const struct cl_dev *d)
{
    return d == NULL ? NULL : cl_card_params(&d->card);
}

/* see cardlink/device.h */
int cl_dev_card_ctrl_done(struct cl_dev *d, uint32_t now, int rc)
{
    int r;

    if (d == NULL)
        return CL_ERR_ARG;
    if (d->cfg.apdu_card)
        return cl_devac_ctrl_done(d);
    d->now = now;
    r = cl_card_ctrl_done(&d->card, rc);
    settle(d);
    return r;
}

/* see cardlink/device.h */
size_t cl_dev_card_pull(struct cl_dev *d, const uint8_t **p)
{
    if (d == NULL || p == NULL)
        return 0;
    if (d->cfg.apdu_card)
        return cl_devac_pull(d, p);
    return cl_card_pull(&d->card, p);
}

/* see cardlink/device.h */
int cl_dev_card_sent(struct cl_dev *d, uint32_t now, size_t n)
{
    int r;

    if (d == NULL)
        return CL_ERR_ARG;
    d->now = now;
    r = cl_card_sent(&d->card, n);
    settle(d);
    return r;
}

/* see cardlink/device.h */
size_t cl_dev_card_recv_max(const struct cl_dev *d)
{
    return d == NULL ? 0 : cl_card_recv_max(&d->card);
}

/* see cardlink/device.h */
uint32_t cl_dev_card_timer(const struct cl_dev *d)
{
    return d == NULL ? CL_TIMER_NONE : cl_card_timer(&d->card);
}

/* see cardlink/device.h */
void cl_dev_card_elapsed(struct cl_dev *d, uint32_t us)
{
    if (d != NULL)
        cl_card_elapsed(&d->card, us);
}

/* see cardlink/device.h */
int cl_dev_card_feed(struct cl_dev *d, uint32_t now, const uint8_t *b, size_t n)
{
    int r;

    if (d == NULL)
        return CL_ERR_ARG;
    d->now = now;
    r = cl_card_feed(&d->card, b, n);
    settle(d);
    return r;
}

/* see cardlink/device.h */
int cl_dev_card_timeout(struct cl_dev *d, uint32_t now)
{
    int r;

    if (d == NULL)
        return CL_ERR_ARG;
    d->now = now;
    r = cl_card_timeout(&d->card);
    settle(d);
    return r;
}

/* see cardlink/device.h */
int cl_dev_card_parity(struct cl_dev *d, uint32_t now, uint8_t c)
{
    int r;

    if (d == NULL)
        return CL_ERR_ARG;
    d->now = now;
    r = cl_card_parity_error(&d->card, c);
    settle(d);
    return r;
}

/* see cardlink/device.h */
int cl_dev_card_fail(struct cl_dev *d, uint32_t now, int err)
{
    int r;

    if (d == NULL)
        return CL_ERR_ARG;
    if (d->cfg.apdu_card)
        return cl_devac_fail(d, now, err);
    d->now = now;
    r = cl_card_fail(&d->card, err);
    settle(d);
    return r;
}

/* ------------------------------------------------------------ network */

/* see cardlink/device.h */
int cl_dev_net_up(struct cl_dev *d, uint32_t now)
{
    if (d == NULL)
        return CL_ERR_ARG;
    d->now = now;
    d->link_dead = false;
    return cl_relay_device_connect(&d->rs, now);
}

/* see cardlink/device.h */
void cl_dev_net_down(struct cl_dev *d, uint32_t now)
{
    if (d == NULL)
        return;
    d->now = now;
    d->link_dead = false;
    cl_relay_session_disconnect(&d->rs, now);
    poll_session(d);
}

/* see cardlink/device.h */
int cl_dev_net_feed(struct cl_dev *d, uint32_t now, const uint8_t *b, size_t n)
{
    size_t used = 0;

    if (d == NULL || (b == NULL && n > 0))
        return CL_ERR_ARG;
    d->now = now;
    while (used < n) {
        int r = cl_relay_session_feed(&d->rs, now, b + used, n - used);
        if (r < 0) {
            poll_session(d);
            return r;
        }
        used += (size_t)r;
        if (cl_relay_session_want(&d->rs) != CL_WANT_DONE && r == 0)
            break;
        poll_session(d);
    }
    poll_session(d);
    return (int)used;
}

/* see cardlink/device.h */
int cl_dev_net_too_large(struct cl_dev *d, uint32_t now, const uint8_t *start, size_t len)
{
    int r;

    if (d == NULL)
        return CL_ERR_ARG;
    d->now = now;
    r = cl_relay_session_too_large(&d->rs, now, start, len);
    poll_session(d);
    return r;
}

/* see cardlink/device.h */
size_t cl_dev_net_pull(struct cl_dev *d, uint32_t now, const uint8_t **p)
{
    if (d == NULL || p == NULL)
        return 0;
    d->now = now;
    return cl_relay_session_pull(&d->rs, now, p);
}

/* see cardlink/device.h */
int cl_dev_net_sent(struct cl_dev *d, size_t n)
{
    return d == NULL ? CL_ERR_ARG : cl_relay_session_sent(&d->rs, n);
}

/* ------------------------------------------------------------ holder */

/* see cardlink/device.h */
int cl_dev_ui_take(struct cl_dev *d, struct cl_ui_screen *s)
{
    if (d == NULL || s == NULL)
        return CL_ERR_ARG;
    if (!d->screen_ready)
        return 0;
    *s = d->screen;
    d->screen_ready = false;
    if (d->screen.kind == CL_UI_TXN)
        cl_policy_page_shown(&d->pol, d->screen.page);
    if (d->job.type != 0)
        run(d, CL_DEVJ_EV_SHOWN);
    return 1;
}

/* see cardlink/device.h */
int cl_dev_ui_key(struct cl_dev *d, uint32_t now, unsigned key)
{
    uint8_t ev;

    if (d == NULL)
        return CL_ERR_ARG;
    d->now = now;
    switch (key) {
    case CL_UI_KEY_CONFIRM: ev = CL_DEVJ_EV_CONFIRM; break;
    case CL_UI_KEY_CANCEL: ev = CL_DEVJ_EV_CANCEL; break;
    case CL_UI_KEY_UP: ev = CL_DEVJ_EV_UP; break;
    case CL_UI_KEY_DOWN: ev = CL_DEVJ_EV_DOWN; break;
    default: return CL_OK;
    }
    if (d->job.type != 0 && !d->card_busy)
        run(d, ev);
    return CL_OK;
}

static const struct cl_relay_pin *pin_template(const struct cl_dev *d)
{
    return d->job.type == CL_RELAY_TXN_APPROVE ? &d->req.u.txn.pin : &d->req.u.pin;
}

/* see cardlink/device.h */
int cl_dev_ui_pin(struct cl_dev *d, uint32_t now, uint8_t *digits, size_t n)
{
    const struct cl_relay_pin *p;
    int r;

    if (d == NULL || (digits == NULL && n > 0))
        return CL_ERR_ARG;
    d->now = now;
    if (d->job.type == 0 || !d->job.pin_up || d->card_busy) {
        r = CL_ERR_STATE;
    } else {
        p = pin_template(d);
        if (!d->job.pin_cmp) {
            r = cl_devj_pin_write(d->cmd, d->cmd_len, p, d->job.pin_off, digits, n);
        } else {
            /* the confirmation: built into a copy, compared, wiped */
            uint8_t *copy = d->scratch;
            memcpy(copy, d->cmd, d->cmd_len);
            r = cl_devj_pin_write(copy, d->cmd_len, p, d->job.pin_off, digits, n);
            if (r == CL_OK) {
                size_t i;
                uint8_t diff = 0;
                for (i = 0; i < d->cmd_len; i++)
                    diff |= (uint8_t)(copy[i] ^ d->cmd[i]);
                d->job.code = diff == 0 ? 0 : 1;
            }
            cl_wipe(copy, d->cmd_len);
        }
    }
    if (digits != NULL)
        cl_wipe(digits, n);
    if (r != CL_OK)
        return r;
    d->job.pin_up = false;
    d->job.timed = false;
    run(d, CL_DEVJ_EV_PIN);
    return CL_OK;
}

/* see cardlink/device.h */
int cl_dev_ui_entry(struct cl_dev *d, uint32_t now, const uint8_t *text, size_t n)
{
    size_t i;

    if (d == NULL || (text == NULL && n > 0))
        return CL_ERR_ARG;
    d->now = now;
    if (d->job.type != CL_RELAY_PROMPT || d->screen.kind != CL_UI_PROMPT ||
        d->screen.entry == CL_UI_ENTRY_NONE || d->card_busy)
        return CL_ERR_STATE;
    if (n < d->screen.entry_min || n > d->screen.entry_max || n > sizeof(d->job.value))
        return CL_ERR_LENGTH;
    for (i = 0; i < n; i++) {
        if (text[i] < 0x20 || text[i] > 0x7E ||
            (d->screen.entry == CL_UI_ENTRY_DIGITS && (text[i] < '0' || text[i] > '9')))
            return CL_ERR_ARG;
    }
    memcpy(d->job.value, text, n);
    d->job.vlen = (uint8_t)n;
    run(d, CL_DEVJ_EV_ENTRY);
    return CL_OK;
}

/* see cardlink/device.h */
int cl_dev_ui_event(struct cl_dev *d, uint32_t now, struct cl_ui_event *ev)
{
    int r;

    if (d == NULL || ev == NULL)
        return CL_ERR_ARG;
    if (ev->len > sizeof(ev->data))
        r = CL_ERR_ARG;
    else if (ev->type == CL_UI_EV_KEY)
        r = cl_dev_ui_key(d, now, ev->key);
    else if (ev->type == CL_UI_EV_PIN)
        r = cl_dev_ui_pin(d, now, ev->data, ev->len);
    else if (ev->type == CL_UI_EV_ENTRY)
        r = cl_dev_ui_entry(d, now, ev->data, ev->len);
    else
        r = CL_ERR_ARG;
    cl_ui_event_wipe(ev);
    return r;
}

/* ------------------------------------------------------------ clock */

/* see cardlink/device.h */
uint32_t cl_dev_timer(const struct cl_dev *d, uint32_t now)
{
    uint32_t t;

    if (d == NULL)
        return CL_TIMER_NONE;
    t = cl_relay_session_timer(&d->rs, now);
    if (d->job.type != 0 && d->job.timed) {
        int32_t left = (int32_t)(d->job.deadline - now);
        uint32_t u = left <= 0 ? 0u : (uint32_t)left;
        if (u < t)
            t = u;
    }
    return t;
}

/* see cardlink/device.h */
int cl_dev_timeout(struct cl_dev *d, uint32_t now)
{
    int r;

    if (d == NULL)
        return CL_ERR_ARG;
    d->now = now;
    r = cl_relay_session_timeout(&d->rs, now);
    poll_session(d);
    if (d->job.type != 0 && d->job.timed && !d->card_busy &&
        (int32_t)(now - d->job.deadline) >= 0) {
        d->job.timed = false;
        d->job.pin_up = false;
        run(d, CL_DEVJ_EV_TIMEOUT);
    }
    return r < 0 && r != CL_ERR_ARG ? CL_OK : r;
}
