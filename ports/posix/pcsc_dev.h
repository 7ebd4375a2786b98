/*
 * cardlink — POSIX port: a PC/SC reader as lib/device's APDU-level card
 * port (cardlink/device.h, cfg.apdu_card), with a slot watcher and PC/SC
 * Part 10 secure PIN entry.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The device program keeps one struct cl_pcsc_dev and calls
 * cl_pcsc_dev_step() from its loop until it answers 0:
 *
 *   - the device wants CTRL COLD / WARM: connect or reset (pcsc.c's
 *     connect: SCardConnect, SCardReconnect), ask the reader for its Part
 *     10 features (CM_IOCTL_GET_FEATURE_REQUEST through SCardControl) and
 *     tell the device whether it has a PIN pad
 *     (FEATURE_VERIFY_PIN_DIRECT: cl_dev_card_set_pinpad;
 *     FEATURE_MODIFY_PIN_DIRECT: cl_dev_card_set_pinpad_modify), then hand it
 *     the ATR and protocol (cl_dev_card_apdu_reset); CTRL OFF: disconnect;
 *   - the device wants SEND: SCardTransmit (pcsc.c's transmit, which
 *     collects T=0 61xx / 6Cxx responses), or, for a Part 10
 *     PIN_VERIFY_STRUCTURE / PIN_MODIFY_STRUCTURE (cl_dev_card_apdu_secure,
 *     cl_dev_card_apdu_structure), SCardControl with the reader's
 *     FEATURE_VERIFY_PIN_DIRECT / FEATURE_MODIFY_PIN_DIRECT code; the answer to
 *     cl_dev_card_apdu_done, an error to cl_dev_card_fail;
 *   - otherwise, once armed (the program arms the watcher when the relay
 *     session is open, so CARD-INSERTED reaches the server), the slot
 *     watcher: SCardGetStatusChange with a zero time-out on the reader;
 *     a card that came is cl_dev_card_inserted, one that left
 *     cl_dev_card_removed.
 * Every call blocks at most as long as one PC/SC call (a PIN pad entry
 * lasts until the holder is done or the reader's time-out).
 */
#ifndef CARDLINK_POSIX_PCSC_DEV_H
#define CARDLINK_POSIX_PCSC_DEV_H

#include "cardlink/device.h"
#include "pcsc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Part 10 (pcsc-lite's reader.h): the feature request and the tags of a
 * PIN pad's verification and modification. */
#define CL_PCSC_FEATURE_REQUEST (0x42000000u + 3400u)   /* SCARD_CTL_CODE(3400) */
#define CL_PCSC_FEATURE_VERIFY_PIN_DIRECT 0x06u
#define CL_PCSC_FEATURE_MODIFY_PIN_DIRECT 0x07u

/* Slot watcher events. */
#define CL_PCSC_EV_NONE 0
#define CL_PCSC_EV_INSERTED 1
#define CL_PCSC_EV_REMOVED 2

/* The watcher's memory of the reader's state. */
struct cl_pcsc_watch {
    unsigned long state;     /* the last dwEventState, without CHANGED */
    bool started;            /* a state was seen */
    bool present;           /* a card was in at the last state */
    bool pending_insert;     /* a swap: INSERTED follows the REMOVED */
};

/* Forget everything: the next state seen with a card is INSERTED. */
void cl_pcsc_watch_init(struct cl_pcsc_watch *w);

/*
 * A new dwEventState of the reader (SCARD_STATE_* bits, pcsc-lite's event
 * counter in bits 16..31): CL_PCSC_EV_INSERTED (a card is there now and
 * was not, or this is the first state and one is there), _REMOVED (it was
 * and is not; or it was and is, but the event counter moved, so it was
 * swapped: INSERTED comes on the next call), _NONE. A reader gone
 * (UNKNOWN, UNAVAILABLE) counts as no card. w NULL: _NONE.
 */
int cl_pcsc_watch_update(struct cl_pcsc_watch *w, unsigned long state);

/*
 * Wait at most ms milliseconds (0: do not wait) for p's reader to change:
 * SCardGetStatusChange on p's context, then cl_pcsc_watch_update().
 * Returns a CL_PCSC_EV_*, or CL_ERR_ARG (NULL, p not open), CL_ERR_IO
 * (pcscd gone, the reader unknown: cl_pcsc_last() says which).
 */
CL_WUR int cl_pcsc_watch_poll(struct cl_pcsc *p, struct cl_pcsc_watch *w, uint32_t ms);

/*
 * The control code of feature tag in the TLV list a reader answers to
 * CM_IOCTL_GET_FEATURE_REQUEST (Part 10 §2.2: tag(1) length(1)=4 value(4,
 * big-endian) repeated). Returns CL_OK (*code set), CL_ERR_NOT_FOUND (not
 * in the list), CL_ERR_MALFORMED (a length other than 4, a truncated
 * entry), CL_ERR_ARG (NULL code, tlv NULL with len > 0).
 */
CL_WUR int cl_pcsc_feature_find(const uint8_t *tlv, size_t len, uint8_t tag, uint32_t *code);

/*
 * SCardControl on p's connected card: in[0..n) to control code, the answer
 * in out[0..*got). Returns CL_OK or cl_pcsc_error() of the PC/SC code
 * (CL_ERR_STATE: not connected; CL_ERR_ARG: NULL).
 */
CL_WUR int cl_pcsc_control(struct cl_pcsc *p, uint32_t code, const uint8_t *in, size_t n,
                           uint8_t *out, size_t size, size_t *got);

/*
 * The reader's FEATURE_VERIFY_PIN_DIRECT control code into *code (0 when
 * it has none: a reader without a PIN pad, vsmartcard's vpcd, a driver
 * that does not answer the feature request). Returns CL_OK, CL_ERR_STATE
 * (not connected), CL_ERR_ARG; a failed request is "none", not an error.
 */
CL_WUR int cl_pcsc_pinpad(struct cl_pcsc *p, uint32_t *code);

/* The same for FEATURE_MODIFY_PIN_DIRECT (a PIN pad that changes PINs). */
CL_WUR int cl_pcsc_pinpad_modify(struct cl_pcsc *p, uint32_t *code);

/* The device's PC/SC card port. Caller-allocated; do not touch the
 * fields. */
struct cl_pcsc_dev {
    struct cl_pcsc pc;
    struct cl_pcsc_watch watch;
    bool armed;              /* the slot watcher runs */
    uint32_t verify_code;    /* FEATURE_VERIFY_PIN_DIRECT, 0: no PIN pad */
    uint32_t modify_code;    /* FEATURE_MODIFY_PIN_DIRECT, 0: none */
    uint8_t atr[CL_ATR_MAX]; /* the last ATR handed to the device */
    size_t atr_len;
    uint8_t protocol;
    int last_err;            /* the last PC/SC failure (connect, transmit) */
    uint8_t resp[4096];
};

/* cl_pcsc_dev_step() results (one per call). */
#define CL_PCSC_DEV_IDLE 0       /* nothing to do */
#define CL_PCSC_DEV_INSERTED 1   /* the watcher saw a card: cl_dev_card_inserted */
#define CL_PCSC_DEV_REMOVED 2    /* the watcher saw it leave: cl_dev_card_removed */
#define CL_PCSC_DEV_ACTIVE 3     /* connected / reset: atr, protocol, verify_code */
#define CL_PCSC_DEV_APDU 4       /* a command went and its answer came */
#define CL_PCSC_DEV_PINPAD 5     /* a PIN was verified or changed on the reader's PIN pad */
#define CL_PCSC_DEV_OFF 6        /* the card was released */
#define CL_PCSC_DEV_FAILED 7     /* connect, reset or transmit failed (last_err),
                                  * the device was told */

/* Empty port. NULL does nothing. */
void cl_pcsc_dev_init(struct cl_pcsc_dev *pd);

/*
 * Open the reader whose name contains match (cl_pcsc_open(): the first
 * holding a card, else the first); no card is touched and the watcher is
 * not armed. Returns cl_pcsc_open()'s result.
 */
CL_WUR int cl_pcsc_dev_open(struct cl_pcsc_dev *pd, const char *match);

/* Arm the slot watcher: from now on a card in the reader (already there
 * too) is reported. NULL does nothing. */
void cl_pcsc_dev_arm(struct cl_pcsc_dev *pd);

/*
 * One step for device d at now (above). Returns a CL_PCSC_DEV_* (0: the
 * loop may sleep), or CL_ERR_ARG (NULL), CL_ERR_IO (the watcher lost
 * pcscd or the reader: cl_pcsc_last(&pd->pc)), or the device's own error
 * for a call it refused (CL_ERR_STATE: a program bug).
 */
CL_WUR int cl_pcsc_dev_step(struct cl_pcsc_dev *pd, struct cl_dev *d, uint32_t now);

/* Release the card and the context; wipe the response buffer. NULL: nothing. */
void cl_pcsc_dev_close(struct cl_pcsc_dev *pd);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_POSIX_PCSC_DEV_H */
