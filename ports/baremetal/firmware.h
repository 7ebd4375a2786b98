/*
 * cardlink — the bare-metal device's loop (firmware.c): setup once, then
 * poll; start.c's main() sleeps (board_idle) whenever a poll moved
 * nothing. The accessors are for a debugger and the host tests.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CARDLINK_FIRMWARE_H
#define CARDLINK_FIRMWARE_H

#include "cardlink/device.h"
#include "cardlink/relay_lossy.h"

/* Set the device up from the board (id, flash records). Returns
 * cl_dev_setup()'s result. */
int cl_fw_setup(void);

/* One pass over every source: the card slot and line, the radio, the
 * holder, the clock. Returns whether anything moved. */
bool cl_fw_poll(void);

const struct cl_dev *cl_fw_device(void);
const struct cl_relay_lossy *cl_fw_link(void);
/* Links started since boot (each radio connection, and each restart
 * after a dead link or the session's LINK_DEAD). A restart abandons the
 * frame being written: the peer drops its cut end (CRC) and resyncs on
 * the next flag. */
unsigned cl_fw_link_starts(void);
/* The last error an engine call returned (0 when none). */
int cl_fw_last_error(void);

#endif /* CARDLINK_FIRMWARE_H */
