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
    CL_SRV_ST_CARDCMD = 4    /* CREDIT or e-goods APPEND RECORD (APDU + txn id) */
};

/* End the running flow: result, FLOW_DONE event. */
void cl_srv_finish(struct cl_server *s, uint8_t outcome, int err);

/* Flows (server_flows.c). */
int cl_srv_flow_answer(struct cl_server *s, uint32_t now, const struct cl_relay_event *ev);
int cl_srv_flow_resend(struct cl_server *s, uint32_t now);

#endif
