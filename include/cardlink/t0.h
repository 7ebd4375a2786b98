/*
 * cardlink — ISO 7816-3 §10 T=0 character protocol, sans-I/O, for both ends
 * of the line: the reader (interface device) and the card.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The engine never touches a line or a clock. It has the same shape as the
 * T=1 engine (cardlink/t1.h), so a card session drives both alike:
 *
 *     for (;;) switch (cl_t0_want(&t0)) {      (enum cl_want, engine.h)
 *     case CL_WANT_SEND:  n = cl_t0_pull(&t0, &p); write p[0..n) to the line,
 *                         then cl_t0_sent(&t0, n) (or fewer: the rest stays);
 *     case CL_WANT_RECV:  arm a timer of cl_t0_timer(&t0) etu (CL_TIMER_NONE:
 *                         none) and wait; bytes -> cl_t0_feed(), timer ->
 *                         cl_t0_timeout(), parity error -> cl_t0_parity_error();
 *     case CL_WANT_DONE:  reader: cl_t0_result() is the response length;
 *                         card: the header and its P3 data bytes are in
 *                         cmd[0..cl_t0_result()); answer with
 *                         cl_t0_card_respond() (or cl_t0_card_null());
 *     case CL_WANT_CTRL:  card: a command header CLA INS P1 P2 P3 is in
 *                         cmd[0..5) and the application decides which way
 *                         the data go: cl_t0_card_receive() (the command
 *                         carries P3 data bytes), cl_t0_card_respond() or
 *                         cl_t0_card_null();
 *     case CL_WANT_IDLE:  nothing to do until the caller starts something;
 *     case CL_WANT_FAILED: the exchange failed (cl_t0_error()); deactivate
 *                         the card. Sticky until cl_t0_setup() or
 *                         cl_t0_reset().
 *     }
 * (The names CL_T0_IDLE, _SEND, _RECV, _DONE, _APDU (card DONE), _HEADER
 * (card CTRL) and _DEACTIVATE (FAILED) are kept as aliases of these.)
 *
 * Reader role: mapping of command APDUs to TPDUs (ISO 7816-3 §12.2,
 * ISO 7816-4 §5, EMV Book 1 §9.3). The application hands a whole command
 * APDU (any case, short or extended) and a response buffer:
 *
 *   case 1    CLA INS P1 P2 00, then procedure bytes and SW1 SW2.
 *   case 2S   CLA INS P1 P2 Le; the card's data (Le 00: 256 bytes), SW.
 *   case 2E   as case 2S with P3 = Ne when Ne <= 256 (256 as 00), else
 *             P3 = 00: 256 bytes and the card's 61xx chain to the rest.
 *   case 3S   CLA INS P1 P2 Lc, the data after the ACK, SW.
 *   case 4S   as case 3S; then 61xx is answered with GET RESPONSE
 *             (CLA C0 00 00 P3 = min(xx, room)), as often as the card asks.
 *   case 3E, 4E  the whole encoded command APDU is sent in ENVELOPE
 *             commands (CLA C2 00 00 Lc, Lc <= 255 bytes each); the card
 *             answers 9000 to every piece but the last; the response to the
 *             last piece is handled as for case 4S (61xx: GET RESPONSE).
 *             No empty ENVELOPE ends the chain.
 *
 * Status words while collecting the response:
 *   61xx  GET RESPONSE with P3 = min(xx, room) where xx 00 means 256 and
 *         room is what is left in the response buffer for data. When room
 *         is 0, or a GET RESPONSE brought no data, the response ends here
 *         with the 61xx status word: the caller gets every byte that fit
 *         and the card still holds the rest (nothing is lost; the caller
 *         may fetch it with its own GET RESPONSE). CL_ERR_BUFFER is only
 *         returned at the start, when the buffer cannot hold the first
 *         TPDU's data (case 2: Ne + 2 bytes; other cases: 2 bytes).
 *   6Cxx  on a TPDU that asked the card for data (case 2, GET RESPONSE)
 *         and before any data came: the same header again with P3 = xx,
 *         once; a second 6Cxx in a row, or xx larger than room, ends the
 *         response with the 6Cxx status word.
 *   62xx, 63xx, 9xxx other than 9000 in answer to a case 4 command (4S,
 *         or the last ENVELOPE of a 4E) that brought no data: EMV Book 1
 *         §9.3.1.3 — GET RESPONSE with P3 = 00 (or room when less than
 *         256) and then the usual 61xx/6Cxx handling; the response
 *         delivered is the data collected with the first status word (the
 *         warning) in place of the final 9000. If the GET RESPONSE fails
 *         (any status other than 9000 and 61xx), the warning is delivered
 *         with whatever data came. Off when config.warning_get_response is
 *         false: then the warning is delivered at once.
 *   anything else ends the response.
 *
 * Procedure bytes (§10.3.3), with INS the instruction of the TPDU:
 *   INS        ACK: all remaining data bytes of the TPDU follow (either way);
 *   INS ^ FF   ACK: the next single data byte follows;
 *   60         NULL: the card asks for more time; the timer restarts;
 *   6X (X!=0), 9X  SW1; SW2 follows.
 * Any other byte, and an ACK when no data byte remains to be transferred,
 * is a protocol error (CL_ERR_PROTOCOL).
 *
 * Timing: every wait of the reader is bounded by the work waiting time
 * WT = 960 * D * WI etu (§10.2, cl_rate_wt_etu(), WI from TC2), measured
 * from the leading edge of the last character sent or received; the timer
 * is armed again after every cl_t0_feed() that leaves the engine in
 * CL_WANT_RECV. The guard times (12 etu between characters, 16 etu before
 * turning the line around) are the line layer's business.
 *
 * Errors: T=0 retransmits a character with a parity error at character
 * level (the receiver holds the I/O line low, §7.3); that is done by the
 * UART or the line port. The engine hears of a parity error only when that
 * repetition failed (cl_t0_parity_error()), and then, as after a WT time-out
 * (CL_ERR_TIMEOUT) or a protocol violation (CL_ERR_PROTOCOL), the state of
 * the card is unknown: the engine stops in CL_WANT_FAILED with the error
 * sticky, and the card session deactivates the card (§10.2). A byte fed
 * while the engine expects none (out of turn, e.g. after SW2 and before the
 * next command) is a protocol violation too: the response just delivered
 * must then be treated as suspect.
 *
 * Card role: cl_t0_card_listen() registers a command buffer (at least 5
 * bytes; 260 holds any short command). The engine receives each header,
 * answers an invalid INS (6X, 9X) with 6D00 itself, serves GET RESPONSE and
 * 6Cxx re-issues from the last response it keeps, and otherwise asks the
 * application (CL_WANT_CTRL). The application knows from the INS whether
 * the command carries data (cl_t0_card_receive(): ACK, then P3 bytes, or
 * one INS ^ FF per byte with config.single_byte_ack) or not, and answers
 * with cl_t0_card_respond(data || SW1 SW2). The engine then sends:
 *   - after received data (cases 3, 4): SW alone when there is no data;
 *     otherwise 61xx and keeps the data for GET RESPONSE (the application's
 *     SW comes after the last byte); with config.warning_first and a
 *     warning or proprietary SW (62xx, 63xx, 9xxx other than 9000), that SW
 *     first and then the data with 9000 (the EMV card behaviour);
 *   - without received data (cases 1, 2; Ne = P3, 00 meaning 256): SW alone
 *     when there is no data; ACK, the data and the SW when there are exactly
 *     Ne bytes; 6Cxx (and keeps the data) when there are fewer, or more but
 *     at most 256; when there are more than 256, Ne bytes and 61xx.
 * The kept response is served to the next header if that is GET RESPONSE
 * (INS C0, any CLA) or, after a 6Cxx, the same CLA INS P1 P2 again; any
 * other header drops it. cl_t0_card_null() sends a NULL byte (slow command).
 * A card engine never arms a timer; a parity error reported to it makes it
 * mute (CL_WANT_FAILED) until the next setup or cl_t0_reset() (the card's
 * reset).
 *
 * The context holds no pointer to itself and may be copied between
 * exchanges. Do not touch its fields: read them through the accessors.
 *
 * Reader firmware that never plays the card may define CL_T0_CARD to 0
 * (e.g. -DCL_T0_CARD=0, the same for every file that includes this
 * header): the card role is then left out (the cl_t0_card_* functions are
 * neither declared nor compiled, and cl_t0_setup() with CL_T0_ROLE_CARD
 * returns CL_ERR_UNSUPPORTED), which saves about 0.65 KiB of flash (M0+).
 */
#ifndef CARDLINK_T0_H
#define CARDLINK_T0_H

#include "cardlink/defs.h"
#include "cardlink/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef CL_T0_CARD
#define CL_T0_CARD 1
#endif

/* INS of the inter-industry commands the transport uses (ISO 7816-4). */
#define CL_T0_INS_GET_RESPONSE 0xC0u
#define CL_T0_INS_ENVELOPE 0xC2u
/* The NULL procedure byte (§10.3.3). */
#define CL_T0_NULL 0x60u
/* Default WI (TC2 absent), §10.2. */
#define CL_T0_WI_DEFAULT 10u
/* Largest piece of an extended command per ENVELOPE. */
#define CL_T0_ENVELOPE_MAX 255u

enum cl_t0_role {
    CL_T0_ROLE_READER = 0,
    CL_T0_ROLE_CARD = 1
};

/* The old names of the engine's wants, aliases of enum cl_want
 * (cardlink/engine.h). The card role's two application steps: a header
 * waiting for the application's decision is CL_WANT_CTRL, a whole command
 * (header and data) CL_WANT_DONE. */
#define CL_T0_IDLE CL_WANT_IDLE
#define CL_T0_SEND CL_WANT_SEND
#define CL_T0_RECV CL_WANT_RECV
#define CL_T0_DONE CL_WANT_DONE
#define CL_T0_APDU CL_WANT_DONE
#define CL_T0_HEADER CL_WANT_CTRL
#define CL_T0_DEACTIVATE CL_WANT_FAILED

struct cl_t0_config {
    uint8_t role;               /* enum cl_t0_role */
    uint8_t wi;                 /* TC2 (default 10; 0 is reserved: 10) */
    uint8_t d;                  /* current Di (default 1) */
    bool warning_get_response;  /* reader: the EMV case 4 warning rule
                                   (default true) */
    bool single_byte_ack;       /* card: send every data byte with its own
                                   INS ^ FF (default false) */
    bool warning_first;         /* card: case 4 warnings before the data,
                                   EMV style (default false) */
};

/* Counters, for logs and tests. They only grow (until setup). The card
 * role counts what it received and answered. */
struct cl_t0_stats {
    uint32_t tpdus;             /* headers sent (reader) / received (card) */
    uint32_t get_responses;     /* GET RESPONSE issued / served */
    uint32_t reissues;          /* 6Cxx re-issues sent / 6Cxx answered */
    uint32_t nulls;             /* NULL bytes seen / sent */
    uint32_t envelopes;         /* ENVELOPE commands sent / received */
};

/* The engine context: 64 bytes with 32-bit pointers. Caller-allocated; do
 * not touch the fields. */
struct cl_t0 {
    /* byte fields first: a Cortex-M0+ reaches offsets 0..31 with one
     * 16-bit load or store */
    uint8_t phase;              /* internal step (gives enum cl_want) */
    uint8_t off, end;           /* buf[off..end) still to send */
    uint8_t next;               /* step once buf[off..end) is sent */
    uint8_t kind;               /* reader: kind of the current TPDU */
    uint8_t flags;              /* configuration and exchange flags */
    uint8_t sw1;                /* SW1 waiting for its SW2 */
    int8_t err;                 /* sticky error (enum cl_err) */
    uint8_t buf[7];             /* 0..4 reader: TPDU header; card: last
                                   header answered with 6Cxx (CLA INS P1
                                   P2); 5..6 card: procedure byte or SW */
    uint8_t ack;                /* ACK ^ INS: 00 all data, FF one byte
                                   (reader: the last ACK; card: config) */
    uint16_t xrem;              /* bytes left in this TPDU's data (card:
                                   or header) */
    uint16_t sw;                /* reader: pending warning; card: final SW */
    uint32_t wt;                /* WT in etu */
    /* reader: command bytes still to send; card: response data to serve */
    const uint8_t *tx;
    uint32_t tx_left;
    /* reader: response buffer; card: command buffer */
    uint8_t *rx;
    uint32_t rx_len, rx_size;
    struct cl_t0_stats stats;
};

/* Fill cfg with the defaults for role: WI 10, D 1, warning_get_response,
 * no single_byte_ack, no warning_first. */
void cl_t0_config_default(struct cl_t0_config *cfg, enum cl_t0_role role);

/*
 * Set up t0 for a new T=0 session (after the ATR and any PPS): the context
 * is wiped, WT computed from cfg->wi and cfg->d. Both roles are then IDLE.
 * Returns CL_OK, or CL_ERR_ARG when t0 or cfg is NULL, role is not a role,
 * or d is not a Di of the table of §8.3; CL_ERR_UNSUPPORTED for the card
 * role when CL_T0_CARD is 0 (on error t0 is wiped and every call is refused
 * until a good setup).
 */
CL_WUR int cl_t0_setup(struct cl_t0 *t0, const struct cl_t0_config *cfg);

/* The protocol's reset, for the card's reset (a new ATR): back to IDLE
 * with the configuration of the last good setup; the exchange, the sticky
 * error, the card role's registered buffer and the counters are dropped.
 * Nothing happens on NULL or before a good setup. */
void cl_t0_reset(struct cl_t0 *t0);

/* Wipe t0 with cl_wipe() (nothing happens on NULL); setup again to use. */
void cl_t0_free(struct cl_t0 *t0);

/* What the engine wants next (CL_WANT_FAILED on NULL; CL_WANT_IDLE before
 * a good setup). */
enum cl_want cl_t0_want(const struct cl_t0 *t0);

/*
 * The bytes to send: *out points into t0 or into the caller's command or
 * response buffer (valid until the next call on t0) and the count is
 * returned; 0 (and *out NULL) unless want is CL_WANT_SEND or out is NULL.
 */
size_t cl_t0_pull(struct cl_t0 *t0, const uint8_t **out);

/*
 * Acknowledge that the first n pulled bytes were sent. When the last of
 * them is out the engine moves on (usually to CL_WANT_RECV).
 * Returns CL_OK; CL_ERR_STATE unless want is CL_WANT_SEND; CL_ERR_ARG when t0
 * is NULL or n exceeds what cl_t0_pull() returns.
 */
CL_WUR int cl_t0_sent(struct cl_t0 *t0, size_t n);

/*
 * Bytes received from the line. The engine consumes what the current step
 * expects and returns the count (<= len); the caller feeds the rest after
 * acting on the new want. bytes may be NULL only when len is 0.
 * Returns the count consumed, or
 *   CL_ERR_PROTOCOL  a byte that is no valid procedure byte, or bytes fed
 *                    while the engine expects none (out of turn: reader
 *                    SEND or DONE, card HEADER, APDU or SEND): the error is
 *                    sticky (CL_WANT_FAILED);
 *   CL_ERR_STATE     IDLE or DEACTIVATE (nothing consumed);
 *   CL_ERR_ARG       t0 NULL, or bytes NULL with len > 0.
 */
CL_WUR int cl_t0_feed(struct cl_t0 *t0, const uint8_t *bytes, size_t len);

/*
 * The timer armed for CL_WANT_RECV (WT) expired: sticky CL_ERR_TIMEOUT,
 * CL_WANT_FAILED.
 * Returns CL_OK; CL_ERR_STATE unless want is CL_WANT_RECV with a timer armed
 * (reader role); CL_ERR_ARG on NULL.
 */
CL_WUR int cl_t0_timeout(struct cl_t0 *t0);

/*
 * The line layer reports a character it could not receive after the
 * character-level repetitions of §7.3: sticky CL_ERR_PARITY,
 * CL_WANT_FAILED.
 * Returns CL_OK; CL_ERR_STATE unless want is CL_WANT_RECV; CL_ERR_ARG on NULL.
 */
CL_WUR int cl_t0_parity_error(struct cl_t0 *t0);

/* The timer query: the timer to arm in CL_WANT_RECV, in etu: WT for the
 * reader; CL_TIMER_NONE for the card, in other states and on NULL. */
uint32_t cl_t0_timer(const struct cl_t0 *t0);

/*
 * Reader CL_WANT_DONE: the response length (data and SW1 SW2, >= 2) in the
 * buffer given to cl_t0_transmit_start(). Card CL_WANT_CTRL: 5; card
 * CL_WANT_DONE: 5 + the data bytes received.
 * CL_ERR_STATE in other states (CL_ERR_ARG on NULL).
 */
CL_WUR int cl_t0_result(const struct cl_t0 *t0);

/* The sticky error behind CL_WANT_FAILED (CL_ERR_TIMEOUT, CL_ERR_PARITY,
 * CL_ERR_PROTOCOL), else CL_OK (CL_ERR_ARG on NULL). */
int cl_t0_error(const struct cl_t0 *t0);

/* Counters (NULL on NULL). */
const struct cl_t0_stats *cl_t0_stats(const struct cl_t0 *t0);

/*
 * Reader: start an exchange for the command APDU cmd[0..cmd_len) (checked
 * with cl_apdu_decode(); mapped to TPDUs as described above); the response
 * (data and SW1 SW2) goes to resp[0..resp_size). Both buffers stay owned by
 * the caller and must stay valid, and cmd unchanged, until CL_WANT_DONE or
 * CL_WANT_FAILED.
 * Returns CL_OK, or
 *   CL_ERR_STATE   not a reader, or not IDLE or DONE;
 *   CL_ERR_ARG     t0 NULL, cmd NULL, resp NULL;
 *   CL_ERR_TRUNCATED, CL_ERR_MALFORMED, CL_ERR_LENGTH  cmd is not a command
 *                  APDU (as cl_apdu_decode());
 *   CL_ERR_RESERVED  INS is 6X or 9X (T=0 would read it as SW1);
 *   CL_ERR_BUFFER  resp_size < 2, or a case 2 with resp_size < Ne + 2
 *                  (Ne <= 256; 258 for a 2E with Ne > 256).
 * On error nothing is sent and the engine keeps its state.
 */
CL_WUR int cl_t0_transmit_start(struct cl_t0 *t0, const uint8_t *cmd,
                                size_t cmd_len, uint8_t *resp,
                                size_t resp_size);

#if CL_T0_CARD
/*
 * Card: receive command headers (and data) into cmd[0..size); the buffer
 * stays registered until setup or reset. Then RECV for the first header.
 * Returns CL_OK; CL_ERR_STATE when not a card or not IDLE; CL_ERR_ARG on
 * NULL t0 or cmd, or size < 5.
 */
CL_WUR int cl_t0_card_listen(struct cl_t0 *t0, uint8_t *cmd, size_t size);

/*
 * Card, in CL_WANT_CTRL: the command carries P3 data bytes (P3 00: none,
 * then CL_WANT_DONE at once). The engine sends the ACK (INS, or INS ^ FF
 * before each byte with single_byte_ack), receives them into cmd[5..) and
 * wants CL_WANT_DONE.
 * Returns CL_OK; CL_ERR_STATE unless CL_WANT_CTRL; CL_ERR_BUFFER when
 * 5 + P3 exceeds the command buffer (nothing is sent: answer 6700 with
 * cl_t0_card_respond()); CL_ERR_ARG on NULL.
 */
CL_WUR int cl_t0_card_receive(struct cl_t0 *t0);

/*
 * Card, in CL_WANT_CTRL or CL_WANT_DONE: answer with resp[0..len): response
 * data then SW1 SW2 (len >= 2, SW1 in 61..6F or 90..9F). resp must stay
 * valid and unchanged until the next CL_WANT_CTRL (GET RESPONSE and 6Cxx
 * re-issues are served from it); it may be the command buffer only when it
 * carries no data beyond the SW.
 * Returns CL_OK; CL_ERR_STATE unless CL_WANT_CTRL or CL_WANT_DONE;
 * CL_ERR_ARG on NULL t0 or resp, len < 2, len > 65538, or an SW1 outside
 * 61..6F, 90..9F.
 */
CL_WUR int cl_t0_card_respond(struct cl_t0 *t0, const uint8_t *resp,
                              size_t len);

/*
 * Card, in CL_WANT_CTRL or CL_WANT_DONE: the application needs more time;
 * the engine sends one NULL byte (60) and comes back to the same want.
 * Returns CL_OK; CL_ERR_STATE unless CL_WANT_CTRL or CL_WANT_DONE;
 * CL_ERR_ARG on NULL.
 */
CL_WUR int cl_t0_card_null(struct cl_t0 *t0);
#endif /* CL_T0_CARD */


/* ------------------------------------------- T=0 at the APDU level
 * The rules above where something else moves whole TPDUs and their
 * answers (data and SW): a PC/SC reader with a T=0 card (reader role:
 * ports/posix/pcsc.c), a virtual card behind vsmartcard's vpcd (card role:
 * ports/posix/vpcd.c). One copy of 61xx GET RESPONSE and the 6Cxx
 * re-issue for both. No I/O: the caller moves the bytes. */

/* Reader role. Caller-allocated; do not touch the fields. */
struct cl_t0_apdu {
    const uint8_t *cmd, *cur;
    size_t cur_len, off, resp_size;
    uint32_t steps;
    uint8_t hdr[5];
    uint8_t flags;
};

/*
 * Start collecting the response to the command APDU cmd[0..cmd_len) in a
 * buffer of resp_size bytes (both the caller's until the end).
 * Returns CL_OK, or CL_ERR_ARG (a NULL pointer, cmd_len < 4, resp_size < 2).
 */
CL_WUR int cl_t0_apdu_start(struct cl_t0_apdu *x, const uint8_t *cmd,
                            size_t cmd_len, size_t resp_size);

/* The command to send next (*cmd, the count returned: the command itself,
 * a GET RESPONSE or a re-issued header) and where its answer goes in the
 * response buffer (*resp_off: the answer may take resp_size - *resp_off
 * bytes). 0 on NULL. */
size_t cl_t0_apdu_next(const struct cl_t0_apdu *x, const uint8_t **cmd,
                       size_t *resp_off);

/*
 * The answer to the command of cl_t0_apdu_next() is resp[resp_off ..
 * resp_off + n) (resp: the whole response buffer). 61xx: GET RESPONSE (CLA
 * of the command, P3 = min(xx, room), 00 meaning 256); the response ends
 * with the 61xx when room is 0 or a second GET RESPONSE in a row brought
 * nothing. 6Cxx on a 5-byte command before any data came: the same header
 * again with P3 = xx, once, when xx fits; else the 6Cxx ends it.
 * Returns 1: send cl_t0_apdu_next() again; 0: done, resp[0..*resp_len)
 * holds every step's data and the last SW; CL_ERR_PROTOCOL (fewer than 2
 * bytes, more than fit, or more than 65536 steps); CL_ERR_ARG (NULL).
 */
CL_WUR int cl_t0_apdu_answer(struct cl_t0_apdu *x, const uint8_t *resp,
                             size_t n, size_t *resp_len);

#if CL_T0_CARD
/* Largest TPDU the card role builds (header and 255 data bytes), largest
 * answer it builds itself (256 data bytes and SW). */
#define CL_T0_TPDU_MAX 260u
#define CL_T0_OUT_MAX 258u

/* Card role: the response kept for GET RESPONSE and the 6Cxx re-issue.
 * Zero it (or cl_t0_apdu_card_reset()) at power on and reset. */
struct cl_t0_apdu_card {
    const uint8_t *buf;         /* the kept response (the caller's) */
    size_t len, off;
    uint8_t hdr[4];             /* header answered 6Cxx */
    uint8_t cur[5];             /* header of the TPDU being answered */
    bool kept, reissue, had_data, extended;
};

/* Drop the kept response (power off, reset). Nothing on NULL. */
void cl_t0_apdu_card_reset(struct cl_t0_apdu_card *k);

/*
 * A command APDU cmd[0..len) arrived as a T=0 card behind an APDU-level
 * reader sees it. Either the engine answers it (returns 1: out[0..*out_len)
 * is the answer: 6700 for a malformed APDU, 6D00 for an INS 6X/9X, or the
 * next part of the kept response for a GET RESPONSE or the re-issued
 * header), or the application must (returns 0): tpdu[0..*tpdu_len) is the
 * command as a TPDU (P3 = Lc, Le or 00) to process, or, when *tpdu_len is
 * 0, the extended cmd as it is; then cl_t0_apdu_card_response().
 * Returns 1, 0, or CL_ERR_ARG (NULL).
 */
CL_WUR int cl_t0_apdu_card_command(struct cl_t0_apdu_card *k,
                                   const uint8_t *cmd, size_t len,
                                   uint8_t tpdu[CL_T0_TPDU_MAX],
                                   size_t *tpdu_len,
                                   uint8_t out[CL_T0_OUT_MAX],
                                   size_t *out_len);

/*
 * The application answered buf[0..n) (data, SW) to the command; buf stays
 * the caller's and unchanged while the response is kept (until the next
 * command that is not served from it) and must not overlap out. Returns 1:
 * send buf[0..n) as it is (no data, or an extended command); 0:
 * out[0..*out_len) is what the card sends (61xx after received data; the
 * data and SW when they are exactly Ne; 6Cxx; or Ne bytes and 61xx);
 * CL_ERR_ARG (NULL, n < 2 or n > CL_RAPDU_MAX).
 */
CL_WUR int cl_t0_apdu_card_response(struct cl_t0_apdu_card *k,
                                    const uint8_t *buf,
                                    size_t n, uint8_t out[CL_T0_OUT_MAX],
                                    size_t *out_len);
#endif /* CL_T0_CARD */

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_T0_H */
