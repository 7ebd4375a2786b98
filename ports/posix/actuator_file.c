/*
 * cardlink — a reference actuator: one line per action in a file.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "actuator_file.h"
#include "cardlink/error.h"

/* see actuator_file.h */
void cl_actuator_file_init(struct cl_actuator_file *af, const char *path, uint16_t max_action)
{
    if (af == NULL)
        return;
    af->path = path;
    af->max_action = max_action;
    af->acts = 0;
    af->last_action = 0;
}

/* see actuator_file.h */
void cl_actuator_file_port(struct cl_actuator_file *af, struct cl_actuator *port)
{
    if (af == NULL || port == NULL)
        return;
    port->act = cl_actuator_file_act;
    port->ctx = af;
}

/* see actuator_file.h */
int cl_actuator_file_act(void *ctx, uint16_t action, uint32_t hold_ms)
{
    struct cl_actuator_file *af = ctx;
    char line[32];
    int fd, n, rc = CL_OK;

    (void)hold_ms;
    if (af == NULL)
        return CL_ERR_ARG;
    if (action == 0 || (af->max_action != 0 && action > af->max_action))
        return CL_ERR_UNSUPPORTED;
    if (af->path != NULL) {
        n = snprintf(line, sizeof(line), "ACTION %u\n", (unsigned)action);
        do {
            fd = open(af->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        } while (fd < 0 && errno == EINTR);
        if (fd < 0)
            return CL_ERR_IO;
        if (n <= 0 || write(fd, line, (size_t)n) != n || fsync(fd) != 0)
            rc = CL_ERR_IO;
        if (close(fd) != 0)
            rc = CL_ERR_IO;
        if (rc != CL_OK)
            return rc;
    }
    af->acts++;
    af->last_action = action;
    return CL_OK;
}
