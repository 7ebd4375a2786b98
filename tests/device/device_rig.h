/*
 * cardlink — the rig the device suites share: the device (lib/device) in
 * the middle, the card simulator on its card line, a server-role relay
 * session on its network side, and the test moving the bytes between
 * them. Each suite keeps its own world (statics, spies, stores) and hands
 * it to these helpers; what differs between suites stays in the suite.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CARDLINK_TESTS_DEVICE_RIG_H
#define CARDLINK_TESTS_DEVICE_RIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cardlink/applet.h"
#include "cardlink/device.h"
#include "cardlink/sim.h"

struct cl_posix_crypto;
struct cl_applet_crypto;

/* ------------------------------------------------------------ device */

/* A card line port that does nothing: the suites move the line bytes
 * themselves through cl_dev_card_pull() / cl_dev_card_feed(). */
extern const struct cl_card_line rig_idle_line;

/* cfg zeroed, then the common device: id[0..id_len) as device id, RESUME,
 * TXN and SCRIPT features, ack delay 1 ms, the cardlink policy, default
 * card settings, rig_idle_line. Suites add (or undo) their own. */
void rig_dev_config(struct cl_dev_config *cfg, const uint8_t *id, size_t id_len);

/* ------------------------------------------------------------ server */

/* srv as a fresh server-role session on rx / buf (scfg zeroed, ack delay
 * 1 ms) that accepted the device's token; srv must be free (initialised
 * or freed). */
void rig_server_open(struct cl_relay_session *srv, struct cl_relay_session_config *scfg,
                     uint8_t *rx, size_t rx_size, uint8_t *buf, size_t buf_size, uint32_t now,
                     const uint8_t *token, size_t token_len);

/* Keep the message m of a server event beyond the event: encoded into
 * buf[0..size), decoded again into *out (which points into buf). */
void rig_keep_msg(const struct cl_relay_msg *m, uint8_t *buf, size_t size,
                  struct cl_relay_msg *out);

/* Polls srv's events into *ev until the first answer: that one kept in
 * *ans (its bytes in buf[0..size)) and *answered set; the events after it
 * stay queued. Does nothing while *answered is already set. */
void rig_poll_answer(struct cl_relay_session *srv, struct cl_relay_event *ev, bool *answered,
                     uint8_t *buf, size_t size, struct cl_relay_msg *ans);

/* m as the server's PIN-VERIFY for the applet: the format-2 VERIFY
 * template "00 20 00 80 08 24 FF.." written into tmpl (which m points to),
 * 4..12 digits at offset 0, nothing else set. */
void rig_pin_verify_msg(struct cl_relay_msg *m, uint8_t tmpl[13]);

/* ------------------------------------------------------------ moving bytes */

/* One step on the card line between dev and the simulator sim: a control
 * step (reset, clock, power off) done, the device's bytes fed to the card,
 * the card's bytes (or a timeout) fed to the device. With the inverse
 * convention (cl_dev_card_inverse()) the bytes are coded and decoded here,
 * as a program does. Returns false when the device wants nothing of the
 * line. */
bool rig_card_step(struct cl_dev *dev, struct cl_sim *sim, uint32_t now);

/* Network bytes from dev to srv: what cl_dev_net_pull() offers is fed to
 * srv and the device told how much it took. With hold_while_idle the bytes
 * stay with the device while srv has no transport (CL_WANT_IDLE). tap
 * (may be NULL) sees the bytes offered and how many srv took, before the
 * device is told. Returns true when bytes moved. */
bool rig_dev_to_server(struct cl_dev *dev, struct cl_relay_session *srv, uint32_t now,
                       bool hold_while_idle,
                       void (*tap)(const uint8_t *p, size_t offered, size_t used));

/* Network bytes from srv to dev; true when some moved. */
bool rig_server_to_dev(struct cl_relay_session *srv, struct cl_dev *dev, uint32_t now);

/* Run round() until one round moves nothing; fails the test after
 * max_rounds rounds ("no progress"). */
void rig_pump(bool (*round)(void), unsigned max_rounds);

/* ------------------------------------------------------------ applet card
 * (device_rig_applet.c, for suites built with mbedtls) */

/* The holder's card state: the posix crypto port up in *pc / *port, st
 * with PIN "1234" (3 tries), PUK "12345678" (10 tries), fresh key pairs
 * for authentication and signing, serial, currency 978. Suites add their
 * own fields before rig_applet_card(). */
void rig_applet_state(struct cl_posix_crypto *pc, struct cl_applet_crypto *port,
                      struct cl_applet_state *st, const uint8_t serial[8]);

/* The cardlink applet on st into the simulator: *inner is the applet's own
 * card application; the simulator calls process (a suite's spy that ends
 * in inner->process) with inner's context. */
void rig_applet_card(struct cl_applet *ap, struct cl_applet_state *st,
                     struct cl_applet_crypto *port, struct cl_cardapp *inner, struct cl_sim *sim,
                     int (*process)(void *ctx, const uint8_t *cmd, size_t n, uint8_t *r,
                                    size_t rs, size_t *rl));

#endif
