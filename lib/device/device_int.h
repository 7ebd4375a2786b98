/*
 * cardlink — lib/device internals: the job contract.
 * SPDX-License-Identifier: Apache-2.0
 *
 * A job is one relay request being executed. Its step function reads the
 * event that woke it (d->ev, with d->card_rc / d->resp for a card answer)
 * and answers what it needs next:
 *   CL_DEVJ_CARD    send d->cmd[0..d->cmd_len) to the card, answer into
 *                   d->resp + d->job.off (then CL_DEVJ_EV_CARD)
 *   CL_DEVJ_RESET   reset the card (d->job.code: 0 warm, 1 cold), then
 *                   CL_DEVJ_EV_CARD with card_rc CL_OK or the error
 *   CL_DEVJ_PERSON  show d->screen (then keys, PIN, entry, SHOWN, TIMEOUT)
 *   CL_DEVJ_WAIT    nothing new: keep the current screen
 *   CL_DEVJ_DONE    send d->ans, the job is over
 * Steps do no I/O: they call lib/policy, lib/txn and the builders below.
 */
#ifndef CL_DEVICE_INT_H
#define CL_DEVICE_INT_H

#include "cardlink/device.h"

enum { CL_DEVJ_CARD = 1, CL_DEVJ_RESET, CL_DEVJ_PERSON, CL_DEVJ_WAIT, CL_DEVJ_DONE };

enum {
    CL_DEVJ_EV_START = 1,
    CL_DEVJ_EV_CARD,      /* card_rc: response length or error */
    CL_DEVJ_EV_CONFIRM,
    CL_DEVJ_EV_CANCEL,
    CL_DEVJ_EV_UP,
    CL_DEVJ_EV_DOWN,
    CL_DEVJ_EV_PIN,       /* the PIN was written into d->cmd */
    CL_DEVJ_EV_ENTRY,     /* job.value[0..vlen) */
    CL_DEVJ_EV_SHOWN,     /* the screen was taken */
    CL_DEVJ_EV_TIMEOUT,
    CL_DEVJ_EV_NO_CARD    /* the card left while the job waited for the holder */
};

typedef uint8_t (*cl_devj_step_fn)(struct cl_dev *d);

uint8_t cl_devj_apdu_step(struct cl_dev *d);
uint8_t cl_devj_script_step(struct cl_dev *d);
uint8_t cl_devj_display_step(struct cl_dev *d);
uint8_t cl_devj_prompt_step(struct cl_dev *d);
uint8_t cl_devj_pin_step(struct cl_dev *d);
uint8_t cl_devj_txn_step(struct cl_dev *d);
uint8_t cl_devj_reset_step(struct cl_dev *d);
uint8_t cl_devj_gate_step(struct cl_dev *d);      /* ACTUATE (job_gate.c) */
/* The offline ticket validation (cl_dev_validate): a local job, no
 * relay request behind it and no answer to the server. */
#define CL_DEVJ_TICKET 0x01u
uint8_t cl_devj_ticket_step(struct cl_dev *d);

/* The transaction log (device_log.c): point d->cfg.relay.txn_log at the
 * table of answers and the id list, kept in cfg.store; then load them
 * (CL_OK, the store's read error other than NOT_FOUND, CL_ERR_MALFORMED). */
void cl_devlog_init(struct cl_dev *d);
int cl_devlog_load(struct cl_dev *d);

/* The APDU-level card port (card_apdu.c; cfg.apdu_card). */
int cl_devac_start(struct cl_dev *d, uint8_t ctrl);   /* want CTRL COLD/WARM */
int cl_devac_send(struct cl_dev *d);                  /* d->cmd (or the PIN pad) out */
void cl_devac_removed(struct cl_dev *d);
enum cl_want cl_devac_want(const struct cl_dev *d);
unsigned cl_devac_ctrl(const struct cl_dev *d);
size_t cl_devac_pull(const struct cl_dev *d, const uint8_t **p);
int cl_devac_ctrl_done(struct cl_dev *d);
int cl_devac_fail(struct cl_dev *d, uint32_t now, int err);
/* Either mode: the card is up; its ATR (NULL when none); its protocol. */
bool cl_devj_card_active(const struct cl_dev *d);
const struct cl_atr *cl_devj_card_atr(const struct cl_dev *d);
int cl_devj_card_protocol(const struct cl_dev *d);
/* The protocol as CARD-INSERTED / CARD-RESET-RESULT name it (§5.6): T=0,
 * T=1, or APDU-level (02) for a PC/SC reader. */
uint8_t cl_devj_card_wire(const struct cl_dev *d);
/* The reader's PIN pad takes template p's PIN (cl_dev_card_set_pinpad on
 * and p expressible): the screen "Enter PIN on reader" is up and the next
 * CL_DEVJ_CARD sends the PIN_VERIFY_STRUCTURE. False: use the keypad. */
bool cl_devj_pinpad(struct cl_dev *d, const struct cl_relay_pin *p);
/* device.c's own, for card_apdu.c. */
void cl_devj_run(struct cl_dev *d, uint8_t ev);
void cl_devj_notify(struct cl_dev *d, bool inserted);

/* Helpers shared by the jobs (device.c, device_pin.c). */

/* An ERROR answer with wire code `code` for the request running. */
uint8_t cl_devj_error(struct cl_dev *d, uint8_t code);
/* The SW of the answer d->resp + off of len bytes (0 when shorter than 2). */
uint16_t cl_devj_sw(const uint8_t *resp, int len);
/* Set up d->screen of kind with device text (NUL-terminated). */
void cl_devj_screen(struct cl_dev *d, uint8_t kind, const char *text);
/* The PIN screen for message index msg (0 enter, 1 new, 2 confirm),
 * entry bounds of template p, timed by p->timeout. */
void cl_devj_pin_screen(struct cl_dev *d, const struct cl_relay_pin *p, uint8_t msg);
/* Arm the holder's deadline: seconds s, 0 the device default. */
void cl_devj_arm(struct cl_dev *d, uint8_t s);

/*
 * Write PIN digits[0..n) (values 0..9) into cmd's data at offset off per
 * the template's encoding (protocol §5.11), and the length byte when
 * len_off is not CL_RELAY_NONE. cmd is a short case 3/4 command of
 * cmd_len bytes. Returns CL_OK, CL_ERR_LENGTH (n outside min..max),
 * CL_ERR_ARG (a digit above 9, a region outside the data).
 */
int cl_devj_pin_write(uint8_t *cmd, size_t cmd_len, const struct cl_relay_pin *p, uint8_t off,
                      const uint8_t *digits, size_t n);

#endif
