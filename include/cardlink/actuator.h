/*
 * cardlink — the actuator port: what the device switches when the server
 * authorised an action (a door strike, a turnstile, a vending relay).
 * SPDX-License-Identifier: Apache-2.0
 *
 * The device calls it only for an ACTUATE whose authorisation it verified
 * itself (docs/protocol.md §5.14, docs/device.md "Gate") and only after
 * the authorisation's nonce is durably recorded as used: a port is called
 * at most once per authorisation, even across power cuts.
 *
 * Implementations: ports/posix/actuator_file.h (appends "ACTION n" to a
 * file, for tests and the demo); firmware drives a GPIO or a relay.
 */
#ifndef CARDLINK_ACTUATOR_H
#define CARDLINK_ACTUATOR_H

#include "cardlink/defs.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * act: perform `action` (1..65535, the installation's table: 1 the door,
 *   ...) for hold_ms milliseconds (how long a strike stays released; 0:
 *   the port's own default). It blocks no longer than it takes to start
 *   the action (a port that must hold a line for seconds arms a timer of
 *   its own and returns). Returns
 *     CL_OK               done (started);
 *     CL_ERR_UNSUPPORTED  the port knows no such action (nothing done);
 *     CL_ERR_IO           the hardware failed (the action may not have
 *                         happened);
 *     any other negative error: as CL_ERR_IO.
 * ctx: the port's.
 */
struct cl_actuator {
    int (*act)(void *ctx, uint16_t action, uint32_t hold_ms);
    void *ctx;
};

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_ACTUATOR_H */
