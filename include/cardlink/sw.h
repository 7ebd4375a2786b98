/*
 * cardlink — status words SW1-SW2 of a response APDU (ISO/IEC 7816-4 §5.6).
 * SPDX-License-Identifier: Apache-2.0
 *
 * A status word is held as one uint16_t, SW1 << 8 | SW2. ISO 7816-4 allows
 * SW1 only in 61..6F and 90..9F (60 is the T=0 NULL procedure byte, not a
 * status). Within those ranges:
 *
 *   9000          normal processing, no further qualification
 *   61XX          normal processing, SW2 more response bytes are available
 *                 (GET RESPONSE fetches them; 00 means 256 or more)
 *   62XX, 63XX    warning processing (63CX: a counter X, 0..15, usually the
 *                 tries left after a failed VERIFY)
 *   64XX..66XX    execution error
 *   67XX..6FXX    checking error, except:
 *   6CXX          wrong Le field: SW2 is the exact number of bytes available
 *                 (resend the command with Le = SW2)
 *   90XX..9FXX    proprietary (application specific), except 9000
 *
 * Define CL_SW_TEXTS to 0 (e.g. -DCL_SW_TEXTS=0) to build cl_sw_text() with
 * the class-level texts only, which saves flash on small firmware.
 */
#ifndef CARDLINK_SW_H
#define CARDLINK_SW_H

#include "cardlink/defs.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef CL_SW_TEXTS
#define CL_SW_TEXTS 1
#endif

/* Build a status word from SW1 and SW2, and take it apart. */
#define CL_SW(sw1, sw2) ((uint16_t)(((unsigned)(sw1) & 0xFFu) << 8 | ((unsigned)(sw2) & 0xFFu)))
#define CL_SW1(sw) ((uint8_t)((unsigned)(sw) >> 8))
#define CL_SW2(sw) ((uint8_t)((unsigned)(sw) & 0xFFu))

/* The one status word of plain success. */
#define CL_SW_OK 0x9000u

/* The class of a status word (ISO 7816-4 §5.6, table of SW1-SW2 values). */
enum cl_sw_class {
    CL_SW_CLASS_INVALID = 0,     /* SW1 not in 61..6F or 90..9F */
    CL_SW_CLASS_SUCCESS = 1,     /* 9000 */
    CL_SW_CLASS_MORE_DATA = 2,   /* 61XX: success, SW2 more bytes to fetch */
    CL_SW_CLASS_WARNING = 3,     /* 62XX, 63XX */
    CL_SW_CLASS_EXEC_ERROR = 4,  /* 64XX, 65XX, 66XX */
    CL_SW_CLASS_CHECK_ERROR = 5, /* 67XX..6FXX other than 6CXX */
    CL_SW_CLASS_WRONG_LE = 6,    /* 6CXX: resend with Le = SW2 */
    CL_SW_CLASS_PROPRIETARY = 7  /* 90XX..9FXX other than 9000 */
};

/* The class of sw. Every value has one. */
enum cl_sw_class cl_sw_class(uint16_t sw);

/*
 * Whether the command succeeded: true for 9000 and for 61XX, which ISO
 * 7816-4 counts as normal processing with more response data still to
 * fetch (the caller, or T=0 transport, issues GET RESPONSE for it).
 * Warnings (62XX, 63XX) are not success: the command may have done nothing
 * (6282, 63CX); a caller that accepts them tests the class.
 */
bool cl_sw_is_success(uint16_t sw);

/*
 * The counter X of a 63CX status word (0..15): with VERIFY, the tries left.
 * Returns -1 for any other status word.
 */
int cl_sw_retries(uint16_t sw);

/*
 * A short, constant English text for sw, for logs and displays. Every status
 * word that ISO 7816-4 §5.6 defines has its own text (ranges such as 6202..
 * 6280 "triggering by the card" and 63CX share one text: use cl_sw_retries()
 * for X, and SW2 itself for 61XX and 6CXX); any other status word gets the
 * text of its class. Never NULL. With CL_SW_TEXTS == 0, class texts only.
 */
const char *cl_sw_text(uint16_t sw);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_SW_H */
