/*
 * cardlink — the gate: a device that performs one server-authorised action
 * (open a door, release a service) through its actuator port, after
 * checking the authorisation itself (docs/device.md "Gate",
 * docs/protocol.md §5.14). This header holds the device's configuration of
 * it; cardlink/device.h embeds it in struct cl_dev_config (cfg.gate).
 * SPDX-License-Identifier: Apache-2.0
 *
 * What the device checks, for each ACTUATE, before anything happens: the
 * signature by the gate key (cfg.gate.pub, through cfg.gate.verify, over
 * the gate digest of cl_relay_gate_tbs() hashed by the device's hash
 * port), that the authorisation names this device (its relay device id),
 * the window against its wall clock (cfg.gate.wall_s), and that the nonce
 * was never used (a record in the device's store, CL_DEV_STORE_KEY_GATE,
 * written before the actuator is called).
 */
#ifndef CARDLINK_GATE_H
#define CARDLINK_GATE_H

#include "cardlink/defs.h"
#include "cardlink/actuator.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Nonces the device remembers. When the record is full the nonce with the
 * earliest not-after is dropped and the record's floor raised to it: an
 * authorisation whose not-after is at or below the floor is refused
 * REPLAYED (it may have been used). 1..200. */
#ifndef CL_DEV_GATE_SLOTS
#define CL_DEV_GATE_SLOTS 16u
#endif
#if CL_DEV_GATE_SLOTS < 1 || CL_DEV_GATE_SLOTS > 200
#error "CL_DEV_GATE_SLOTS must be 1..200"
#endif

/* The store key of the used-nonce record: version 01, floor (4), count
 * (1), then count x (nonce (16), not-after (4)), integers big-endian. */
#define CL_DEV_STORE_KEY_GATE "gate"
#define CL_DEV_GATE_RECORD_MAX (6u + 20u * CL_DEV_GATE_SLOTS)

/* Defaults. */
#define CL_DEV_GATE_WINDOW_S 600u   /* longest not-after - not-before accepted */

/*
 * The gate of a device. All zero (the default of a zeroed cl_dev_config):
 * no gate, every ACTUATE answered NO_ACTUATOR.
 *
 * pub:     the server's gate public key, P-256 uncompressed (04 X Y); a
 *          first byte other than 04: no key.
 * verify:  the ECDSA verify port (as cl_dev_verify_fn of cardlink/device.h):
 *          CL_OK when sig[0..sig_len) (DER) is pub's signature over
 *          digest[0..digest_len). NULL: no gate.
 * actuator: the port that acts (cardlink/actuator.h); act NULL: no gate.
 * wall_s:  the device's wall clock, seconds since 1970 UTC; 0 when it does
 *          not know the time yet (then every ACTUATE is UNAVAILABLE). NULL:
 *          no clock (the same). The device's millisecond `now` is not a
 *          wall clock: it starts anywhere and wraps.
 * hold_ms: passed to the actuator (0: the port's default).
 * window_max_s: longest window accepted (0: CL_DEV_GATE_WINDOW_S); a
 *          longer one is DENIED (a leaked authorisation stays short-lived).
 * skew_s:  tolerance of the device's clock against the server's, applied
 *          to both ends of the window (0: none).
 * done_text: the holder's screen after DONE, printable ASCII and LF (NULL:
 *          "Door opened\n").
 */
struct cl_dev_gate_cfg {
    uint8_t pub[65];
    int (*verify)(void *ctx, const uint8_t pub[65], const uint8_t *digest, size_t digest_len,
                  const uint8_t *sig, size_t sig_len);
    void *verify_ctx;
    struct cl_actuator actuator;
    uint32_t (*wall_s)(void *ctx);
    void *wall_ctx;
    uint32_t hold_ms;
    uint32_t window_max_s;
    uint32_t skew_s;
    const char *done_text;
};

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_GATE_H */
