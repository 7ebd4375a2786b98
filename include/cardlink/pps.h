/*
 * cardlink — protocol and parameters selection (PPS) of ISO 7816-3 §9.
 * SPDX-License-Identifier: Apache-2.0
 *
 * After the ATR the interface device may send a PPS request to select the
 * protocol and the transmission factors F and D; the card answers with a PPS
 * response that echoes what it accepts (§9.3). A PPS message is
 *
 *   PPSS  PPS0  [PPS1]  [PPS2]  [PPS3]  PCK
 *
 * PPSS = FF; PPS0 = b8 reserved (0), b7/b6/b5 = PPS3/PPS2/PPS1 present,
 * b4..b1 = protocol T; PPS1 = Fi index (high nibble) and Di index (low
 * nibble), coded as in TA1; PPS2 = SPU (the use of contact C6); PPS3 is
 * reserved for future use. PCK makes the exclusive-or of all bytes of the
 * message, PCK included, zero.
 *
 * Everything here is pure: no I/O, no state. The card layer sends the request
 * built by cl_pps_build(), reads two bytes, asks cl_pps_expected_len() how
 * many bytes the response has in all, reads the rest and hands the lot to
 * cl_pps_check_response().
 */
#ifndef CARDLINK_PPS_H
#define CARDLINK_PPS_H

#include "cardlink/defs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest PPS message: PPSS, PPS0, PPS1, PPS2, PPS3, PCK. */
#define CL_PPS_MAX 6u
/* Shortest: PPSS, PPS0, PCK. */
#define CL_PPS_MIN 3u

/* The PPSS byte. */
#define CL_PPS_PPSS 0xFFu

/* Presence flags of struct cl_pps: the same bits as in PPS0. */
#define CL_PPS_HAS_PPS1 0x10u
#define CL_PPS_HAS_PPS2 0x20u
#define CL_PPS_HAS_PPS3 0x40u
#define CL_PPS_HAS_ALL (CL_PPS_HAS_PPS1 | CL_PPS_HAS_PPS2 | CL_PPS_HAS_PPS3)

/*
 * One PPS message, request or response, decoded.
 *
 * protocol: T, 0..15 (the low nibble of PPS0).
 * present:  CL_PPS_HAS_* bits, which of PPS1, PPS2, PPS3 the message carries.
 * fi_index, di_index: PPS1's nibbles, the indexes of Fi and Di in the tables
 *           of ISO 7816-3 §8.3 (cl_rate_fi(), cl_rate_di()); meaningful only
 *           with CL_PPS_HAS_PPS1.
 * pps2, pps3: the bytes themselves, meaningful only when present.
 */
struct cl_pps {
    uint8_t protocol;
    uint8_t present;
    uint8_t fi_index;
    uint8_t di_index;
    uint8_t pps2;
    uint8_t pps3;
};

/*
 * Number of bytes of a whole PPS message, PPSS and PCK included, given its
 * second byte PPS0: 3 plus one for each of b5, b6, b7 set (3..6). For the
 * line layer, which knows how many bytes to wait for once PPS0 arrived.
 * Cannot fail; b8 (reserved) does not count.
 */
size_t cl_pps_expected_len(uint8_t pps0);

/*
 * Build the PPS request req into out; *out_len receives its length (3..6).
 *
 * req->protocol MUST be 0..14 (15 is not a protocol, §8.2.3), req->present
 * only CL_PPS_HAS_* bits; with CL_PPS_HAS_PPS1 the indexes MUST name
 * factors of the tables (not the reserved ones). PPS2 and PPS3 are sent as
 * given. out is written only on success.
 *
 * Returns CL_OK, or
 *   CL_ERR_ARG       a NULL pointer, protocol 15 or more, an unknown flag,
 *                    an index above 15;
 *   CL_ERR_RESERVED  PPS1 with a reserved Fi index (7, 8, 14, 15) or Di
 *                    index (0, 10..15).
 */
CL_WUR int cl_pps_build(const struct cl_pps *req, uint8_t out[CL_PPS_MAX],
                        size_t *out_len);

/*
 * Decode the PPS message buf[0..len) (request or response) into *out.
 * Only the format is checked: PPSS, the reserved bit of PPS0, the length
 * PPS0 implies, PCK. Values are not (a response is judged against its
 * request by cl_pps_check_response()). *out is written only on success.
 *
 * Returns CL_OK, or
 *   CL_ERR_ARG        out NULL, or buf NULL with len > 0;
 *   CL_ERR_MALFORMED  the first byte is not PPSS (FF);
 *   CL_ERR_TRUNCATED  fewer bytes than PPS0 announces (or no PPS0);
 *   CL_ERR_RESERVED   bit 8 of PPS0 set;
 *   CL_ERR_TRAILING   more bytes than PPS0 announces;
 *   CL_ERR_CHECKSUM   the exclusive-or over the message is not zero.
 * The checks are made in that order (the first byte before the length).
 */
CL_WUR int cl_pps_parse(const uint8_t *buf, size_t len, struct cl_pps *out);

/*
 * Judge the card's PPS response resp[0..len) to the request req by the
 * rules of ISO 7816-3 §9.3, and say in *accepted what the card accepted.
 *
 * A response is acceptable when it is a well-formed PPS message that
 *  - echoes the protocol (PPS0 b4..b1);
 *  - for each of PPS1, PPS2, PPS3: either echoes the request's byte, or
 *    leaves it out (PPS0 bit 0). A PPS1 left out means the card stays at
 *    Fd = 372, Dd = 1; a PPS2 left out means no SPU use; PPS3 likewise.
 * The response identical to the request is the full success.
 *
 * On CL_OK, *accepted holds the protocol and, in accepted->present, only
 * the parameters the card echoed (a subset of req->present: compare the two
 * to tell a full acceptance from a partial one). When PPS1 was not accepted,
 * accepted->fi_index and di_index are 1 and 1 (Fd and Dd) so the caller can
 * use them unconditionally; pps2/pps3 not accepted are 0. *accepted is
 * written only on CL_OK.
 *
 * Returns CL_OK, or, checked in this order:
 *   CL_ERR_ARG          req or accepted NULL, resp NULL with len > 0, or
 *                       req not a valid request (see cl_pps_build());
 *   CL_ERR_MALFORMED, CL_ERR_TRUNCATED, CL_ERR_RESERVED, CL_ERR_TRAILING,
 *   CL_ERR_CHECKSUM     the response is not a well-formed PPS message (as
 *                       cl_pps_parse());
 *   CL_ERR_PROTOCOL     the response carries PPS1, PPS2 or PPS3 that the
 *                       request did not (forbidden by §9.3);
 *   CL_ERR_PPS_REFUSED  the response is well formed but not an acceptable
 *                       echo: another protocol, or a PPS1/PPS2/PPS3 value
 *                       other than the one requested.
 * After any error the interface device deactivates the card (§9.3).
 */
CL_WUR int cl_pps_check_response(const struct cl_pps *req, const uint8_t *resp,
                                 size_t len, struct cl_pps *accepted);

/* One transmission factor pair a reader can run: F and D as numbers
 * (372, 1), not as table indexes. */
struct cl_pps_fd {
    uint16_t f;
    uint8_t d;
};

/*
 * What the reader (the interface device's UART and clock) can do.
 *
 * max_baud:      highest bit rate it can run, in bit/s; 0 means no limit.
 * max_clock_khz: highest clock it can give the card, in kHz; MUST be > 0.
 * pairs, n_pairs: the (F, D) pairs it supports, caller-owned; ignored when
 *                any is true. pairs MAY be NULL only when n_pairs is 0.
 * any:           every F and D of the tables is supported.
 * The default pair (372, 1) is always supported, listed or not.
 */
struct cl_pps_reader_caps {
    uint32_t max_baud;
    uint32_t max_clock_khz;
    const struct cl_pps_fd *pairs;
    size_t n_pairs;
    bool any;
};

/*
 * The outcome of cl_pps_pick_rate().
 *
 * pps_needed: true when a PPS request with PPS1 = fi_index, di_index should
 *             be sent; false when nothing faster than the default is
 *             possible (fi_index = di_index = 1, i.e. Fd and Dd).
 * clock_khz:  the clock to give the card: min(f(max) of the card's Fi,
 *             reader max_clock_khz).
 * baud:       the resulting bit rate in bit/s (cl_rate_baud()).
 */
struct cl_pps_rate {
    bool pps_needed;
    uint8_t fi_index;
    uint8_t di_index;
    uint32_t clock_khz;
    uint32_t baud;
};

/*
 * Pick the fastest rate both the card and the reader support. ta1 is the
 * card's TA1 byte (pass 0x11, the default, when the ATR has no TA1).
 *
 * The rule: keep the card's F = Fi and propose the D that gives the highest
 * bit rate among D <= Di (the card's Di or a smaller factor of the table,
 * as readers such as libccid do when the card's rate is too fast for them)
 * such that (Fi, D) is supported by the reader and the rate at clock_khz
 * does not exceed max_baud. A PPS is proposed only when that rate is
 * strictly above the default rate (Fd, Dd) at the same clock; otherwise
 * the default is kept. With a single F and a single clock, distinct D give
 * distinct rates, so there are no ties to break.
 *
 * A TA1 with a reserved Fi or Di index is treated as absent (default rate,
 * f(max) 5 MHz): whether to reject such a card is the ATR layer's policy.
 *
 * Returns CL_OK with *out filled, or CL_ERR_ARG (a NULL pointer, max_clock_khz
 * zero, pairs NULL with n_pairs > 0).
 */
CL_WUR int cl_pps_pick_rate(uint8_t ta1, const struct cl_pps_reader_caps *caps,
                            struct cl_pps_rate *out);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_PPS_H */
