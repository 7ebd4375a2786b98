/*
 * cardlink — the card-application interface: what a card application (the
 * simulator's file system, the payment applet, an application in card
 * firmware) offers to the card side that runs the line protocol.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The card side (libcardlink-card: lib/sim, lib/applet, the fault injector)
 * is a library of its own; a device or reader never links it. The line
 * session (struct cl_sim, cardlink/sim.h) receives each command APDU with
 * the T=0 or T=1 card-role engine and calls the application's process();
 * the application knows nothing of the line.
 */
#ifndef CARDLINK_CARDAPP_H
#define CARDLINK_CARDAPP_H

#include "cardlink/defs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* cl_cardapp.process() return value: not done yet, call again (the line
 * session sends a NULL byte in T=0 or an S(WTX request) in T=1 first). */
#define CL_CARDAPP_BUSY 1

/*
 * A card application. process() gets one command APDU cmd[0..cmd_len)
 * (in T=0: the header CLA INS P1 P2 P3 followed by the P3 data bytes when
 * t0_has_data() said so, so a case 1/2 command arrives as CLA INS P1 P2 Le)
 * and writes the response, data then SW1 SW2, to resp[0..resp_size),
 * setting *resp_len (>= 2). It returns CL_OK, CL_CARDAPP_BUSY (ask for
 * more time, then the same command is passed again) or a negative error
 * (the session answers 6F00). reset() (may be NULL) is called at every cold
 * and warm reset: clear the security state. t0_has_data() (may be NULL:
 * the session's default rule) tells from a T=0 header whether P3 counts
 * command data bytes (cases 3, 4) or is Le (cases 1, 2).
 */
struct cl_cardapp {
    int (*process)(void *ctx, const uint8_t *cmd, size_t cmd_len,
                   uint8_t *resp, size_t resp_size, size_t *resp_len);
    void (*reset)(void *ctx);
    bool (*t0_has_data)(void *ctx, const uint8_t hdr[5]);
    void *ctx;
};

/* The interindustry T=0 rule: true for the INS of the ISO 7816-4 commands
 * that carry data (SELECT, UPDATE/WRITE BINARY, UPDATE/WRITE/APPEND RECORD,
 * VERIFY, CHANGE/RESET RETRY, INTERNAL/EXTERNAL/GENERAL AUTHENTICATE, MSE,
 * PSO, PUT DATA, ENVELOPE, SEARCH, ERASE BINARY, GENERATE KEY PAIR), whatever
 * the CLA; false on NULL. An application with proprietary commands checks
 * its own first. */
bool cl_cardapp_t0_has_data(const uint8_t hdr[5]);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_CARDAPP_H */
