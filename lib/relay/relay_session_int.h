/*
 * cardlink — relay sessions: what the engine's two files share (internal).
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CARDLINK_RELAY_SESSION_INT_H
#define CARDLINK_RELAY_SESSION_INT_H

#include "cardlink/relay_session.h"

/* For helpers gcc -Os would copy into each caller (M0+ size). */
#if defined(__GNUC__)
#define CL_RS_NOINLINE __attribute__((noinline))
#else
#define CL_RS_NOINLINE
#endif

/* Whether s plays the device: a constant when the server role is left out
 * (CL_RELAY_SERVER_ROLE 0), so that the server's rows compile away. */
#if CL_RELAY_SERVER_ROLE
#define CL_RS_DEVICE(s) ((s)->role == CL_RELAY_DEVICE)
#else
#define CL_RS_DEVICE(s) ((void)(s), true)
#endif

enum { CL_RS_OUT_NONE = 0, CL_RS_OUT_CTRL, CL_RS_OUT_REC };

bool cl_rs_time_reached(uint32_t a, uint32_t b);
bool cl_rs_same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);
void cl_rs_enter(struct cl_relay_session *s, uint8_t state);
void cl_rs_transport_up(struct cl_relay_session *s, uint32_t now);
void cl_rs_new_session(struct cl_relay_session *s);
int cl_rs_ack(struct cl_relay_session *s, uint8_t a);
void cl_rs_ack_fields(const struct cl_relay_session *s, struct cl_relay_msg *m);
int cl_rs_ctrl(struct cl_relay_session *s, struct cl_relay_msg *m, bool first);
int cl_rs_ctrl_code(struct cl_relay_session *s, uint8_t type, uint8_t code, bool first);
void cl_rs_fail(struct cl_relay_session *s, int err);
void cl_rs_closed(struct cl_relay_session *s, int err);
void cl_rs_event(struct cl_relay_session *s, uint8_t kind, const struct cl_relay_msg *m, int err);
int cl_rs_queue(struct cl_relay_session *s, struct cl_relay_msg *m, const uint8_t **out,
                size_t *out_len);
int cl_rs_queue_raw(struct cl_relay_session *s, const uint8_t *src, size_t len,
                    const uint8_t **out, size_t *out_len);
/* An incoming message; err: CL_OK to decode it, or the error it is known to
 * have (CL_ERR_TOO_LONG: only its start is at hand). */
void cl_rs_message(struct cl_relay_session *s, uint32_t now, const uint8_t *msg, size_t len,
                   int err);

#endif
