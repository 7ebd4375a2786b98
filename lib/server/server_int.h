/*
 * cardlink — lib/server internals shared by the engine and the flows.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CARDLINK_SERVER_INT_H
#define CARDLINK_SERVER_INT_H

#include "cardlink/server.h"

/* Flow steps: which request is outstanding. */
enum {
    CL_SRV_ST_IDLE = 0,
    CL_SRV_ST_RELAY = 1,     /* the caller's APDU or SCRIPT */
    CL_SRV_ST_READ = 2,      /* certificates and GET BALANCE (one SCRIPT) */
    CL_SRV_ST_APPROVE = 3,   /* TXN-APPROVE */
    CL_SRV_ST_CARDCMD = 4,   /* CREDIT or e-goods APPEND RECORD (APDU + txn id) */
    CL_SRV_ST_NOTICE = 5,    /* authentication: DISPLAY of the tries left */
    CL_SRV_ST_BLOCK_CHAL = 6,/* authentication failure policy: GET CHALLENGE */
    CL_SRV_ST_BLOCK = 7,     /* ... then the issuer-signed BLOCK (APDU) */
    CL_SRV_ST_GATE = 8       /* the gate's signed ACTUATE (server_gate.c) */
};

/* End the running flow: result, FLOW_DONE event. */
void cl_srv_finish(struct cl_server *s, uint8_t outcome, int err);

/* Flows (server_flows.c). */
int cl_srv_flow_answer(struct cl_server *s, uint32_t now, const struct cl_relay_event *ev);
int cl_srv_flow_resend(struct cl_server *s, uint32_t now);

/* The gate (server_gate.c): its answer, and its request (again). */
int cl_srv_gate_answer(struct cl_server *s, uint32_t now, const struct cl_relay_event *ev);
int cl_srv_gate_send(struct cl_server *s, uint32_t now);

/* Session store (server_snapshot.c). checkpoint: save the context to
 * cfg->sessions when a ledger-changing answer is awaited, and again
 * whenever what was saved is out of date; forget: drop the saved session
 * (it ended); take_over: a fresh session's HELLO names a token this
 * context does not hold: 1 when the store had it and the context took it
 * over (its OPEN, resumed, follows), 0 when not (the fresh session goes
 * on), < 0 when the take-over failed (the session is closed). */
void cl_srv_checkpoint(struct cl_server *s, uint32_t now);
void cl_srv_forget(struct cl_server *s);
int cl_srv_take_over(struct cl_server *s, uint32_t now, const struct cl_relay_msg *hello);

#endif
