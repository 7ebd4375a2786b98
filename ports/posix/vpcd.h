/*
 * cardlink POSIX port — a virtual card for vsmartcard's vpcd, the PC/SC
 * reader driver of pcscd (vsmartcard-vpcd: pcscd listens for virtual cards
 * on TCP port 35963). The client connects to vpcd and answers its
 * messages, each a 2-byte big-endian length and that many bytes:
 * 00 power off, 01 power on, 02 reset (no answer), 04 get ATR (answered
 * with the ATR; also vpcd's presence poll), anything longer a command APDU
 * (answered with the response).
 * SPDX-License-Identifier: Apache-2.0
 *
 * A card whose ATR offers T=0 only answers as a T=0 card behind an
 * APDU-level reader does (ISO 7816-3 §12.2), with the card-role rules of
 * lib/t0 (cl_t0_apdu_card_*, cardlink/t0.h): response data of a case 3/4
 * command announced with 61xx and fetched with GET RESPONSE, a case 2
 * command whose Le is not the data length answered 6Cxx; extended APDUs
 * go to the application as they are.
 */
#ifndef CARDLINK_POSIX_VPCD_H
#define CARDLINK_POSIX_VPCD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cardlink/t0.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest command or response the client carries (the application's
 * buffers; vpcd's length field allows 65535). */
#define CL_VPCD_BUF_MAX 1040u
/* Longest wait for the rest of a message once its first byte came (ms). */
#define CL_VPCD_MSG_MS 5000

/*
 * The card application: answer the command cmd[0..len) with resp[0..*n)
 * (data, SW1 SW2; n >= 2, at most size). Any error makes the client answer
 * 6F00 (and log it).
 */
typedef int (*cl_vpcd_process_fn)(void *ctx, const uint8_t *cmd, size_t len,
                                  uint8_t *resp, size_t size, size_t *n);

/* What happened, for a log: an event name ("<- POWER ON", "<- RESET",
 * "<- POWER OFF", "<- C-APDU", "-> R-APDU", "<- GET ATR, -> ATR" (vpcd's
 * ATR request, which pcscd also sends as its presence poll several times
 * a second: only with log_polls), an error text) and the bytes that go with it
 * (NULL, 0 for none). May be NULL. */
typedef void (*cl_vpcd_log_fn)(void *ctx, const char *event,
                               const uint8_t *b, size_t n);

/* The virtual card. Caller-allocated (large: keep it static); set the
 * first fields, cl_vpcd_serve() uses the rest. */
struct cl_vpcd {
    const uint8_t *atr;
    size_t atr_len;
    bool t0;                        /* answer as a T=0 card */
    cl_vpcd_process_fn process;
    void (*reset)(void *ctx);       /* power on / reset: may be NULL */
    cl_vpcd_log_fn log;
    bool log_polls;                 /* log vpcd's ATR requests too */
    void *ctx;                      /* for process, reset and log */
    /* the client's own */
    int fd;
    struct cl_t0_apdu_card kept;
    uint8_t cmd[CL_VPCD_BUF_MAX];
    uint8_t tpdu[CL_T0_TPDU_MAX];
    uint8_t resp[CL_VPCD_BUF_MAX];
    uint8_t kept_buf[CL_VPCD_BUF_MAX];
    uint8_t out[CL_T0_OUT_MAX];
    uint8_t msg[2 + CL_VPCD_BUF_MAX];
};

/* Connect to "HOST:PORT" (the last colon separates them): a socket, or -1
 * (errno set). */
int cl_vpcd_connect(const char *spec);

/*
 * Serve the connection fd until vpcd drops it or *stop becomes non-zero
 * (checked at least every tick_ms milliseconds; stop may be NULL).
 * Returns 0 (stopped), CL_ERR_CLOSED (vpcd went away) or CL_ERR_IO. Does
 * not close fd.
 */
int cl_vpcd_serve(struct cl_vpcd *v, int fd, volatile sig_atomic_t *stop,
                  int tick_ms);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_POSIX_VPCD_H */
