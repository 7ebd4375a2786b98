/*
 * cardlink — a reference actuator over a POSIX file (struct cl_actuator of
 * cardlink/actuator.h): each action appends one line "ACTION n" to a file,
 * which tests and the demo read; with no file it does nothing and succeeds
 * (a device without hardware to switch).
 * SPDX-License-Identifier: Apache-2.0
 *
 *   struct cl_actuator_file af;
 *   struct cl_actuator port;
 *   cl_actuator_file_init(&af, "/tmp/door.log", 0);
 *   cl_actuator_file_port(&af, &port);     then cfg.gate.actuator = port
 */
#ifndef CARDLINK_POSIX_ACTUATOR_FILE_H
#define CARDLINK_POSIX_ACTUATOR_FILE_H

#include "cardlink/actuator.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Caller-allocated; path must outlive it. */
struct cl_actuator_file {
    const char *path;       /* NULL: act does nothing */
    uint16_t max_action;    /* actions 1..max_action are known; 0: any */
    uint32_t acts;          /* successful calls */
    uint16_t last_action;   /* the last action done (0: none) */
};

/* Set af up: lines go to path (appended, the file created 0644 if
 * absent), actions above max_action (when not 0) are unknown. Cannot
 * fail; af NULL does nothing. */
void cl_actuator_file_init(struct cl_actuator_file *af, const char *path, uint16_t max_action);

/* Point port at af (port->act, port->ctx). Nothing when either is NULL. */
void cl_actuator_file_port(struct cl_actuator_file *af, struct cl_actuator *port);

/*
 * The port's act: append "ACTION n\n" in one write() and fsync() it.
 * Returns CL_OK; CL_ERR_UNSUPPORTED (action 0, or above max_action);
 * CL_ERR_IO (open, write or fsync failed); CL_ERR_ARG (ctx NULL).
 */
CL_WUR int cl_actuator_file_act(void *ctx, uint16_t action, uint32_t hold_ms);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_POSIX_ACTUATOR_FILE_H */
