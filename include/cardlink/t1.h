/*
 * cardlink — ISO 7816-3 §11 T=1 block transmission protocol, sans-I/O,
 * for both ends of the line: the reader (interface device) and the card.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The engine never touches a line or a clock. It follows the engine shape
 * of cardlink/engine.h (docs/porting.md): the caller asks what it wants and
 * moves the bytes (BearSSL's current_state()/buf()/ack() shape):
 *
 *     for (;;) switch (cl_t1_want(&t1)) {
 *     case CL_WANT_SEND:  k = cl_t1_pullv(&t1, pc); write pc[0..k) to the
 *                         line (one writev, one DMA chain), then
 *                         cl_t1_sent(&t1, total) (or fewer: the rest stays);
 *                         a byte-at-a-time driver uses cl_t1_pull() instead;
 *                         break;
 *     case CL_WANT_RECV:  arm a timer of cl_t1_timer(&t1) etu
 *                         (CL_TIMER_NONE: none) and wait; bytes ->
 *                         cl_t1_feed(), timer -> cl_t1_timeout(), parity
 *                         error -> cl_t1_parity_error(); break;
 *     case CL_WANT_DONE:  reader: cl_t1_result() is the response length or
 *                         a per-exchange error; start the next exchange.
 *                         card: the command is in the buffer given to
 *                         cl_t1_card_listen(), cl_t1_result() bytes long;
 *                         answer with cl_t1_card_respond() (or ask for time
 *                         with cl_t1_card_request_wtx());
 *     case CL_WANT_IDLE:  nothing to do until the caller starts something;
 *     case CL_WANT_FAILED: the protocol failed (cl_t1_error()); deactivate
 *                         the card. Sticky until cl_t1_setup() again.
 *     }
 *
 * The engine never wants CL_WANT_CTRL or CL_WANT_CLOSED. Its protocol reset
 * is S(RESYNCH) (cl_t1_resynch(), §11.6.3.2 rule 6); there is no
 * cl_t1_reset(): cl_t1_setup() starts a new session and cl_t1_free() wipes.
 *
 * Timing. The timer value is the waiting time to arm when the engine enters
 * CL_WANT_RECV (BWT, measured from the leading edge of the last character
 * sent; BWT times the WTX multiplier for the one block that follows an
 * S(WTX response), saturated at CL_TIMER_MAX) and again after every
 * cl_t1_feed() that leaves it in CL_WANT_RECV (CWT, from the leading edge
 * of the last character received).
 * All values are in etu of the current F and D. The block guard time
 * (cl_t1_guard_etu()) is the least delay the line layer keeps between the
 * last character received and the first character it sends.
 *
 * Sequence of an exchange on the reader side: cl_t1_transmit_start() with
 * the command APDU and a response buffer, both owned by the caller and left
 * untouched until CL_WANT_DONE; the engine chains the command in IFSC-sized
 * I-blocks, collects the card's chained response, answers S(WTX), S(IFS)
 * and S(ABORT) requests, and applies the error-recovery rules of §11.6.3:
 * an invalid block (EDC or parity error, bad LEN, bad PCB, wrong sequence
 * number) or a BWT time-out is answered with an R-block carrying the
 * expected N(R) and error bits; an R-block asking for it retransmits the
 * last block; an unanswered S-request is sent again; after max_retries
 * failed attempts on one block (3: the block and two repeats) the reader
 * sends S(RESYNCH request) (up to 3 times), after which it asks for
 * deactivation (CL_ERR_TIMEOUT when the card had gone mute, else
 * CL_ERR_RESYNCH). A successful resynchronisation ends the
 * exchange with CL_ERR_PROTOCOL (the card may or may not have executed the
 * command); the engine is then ready for the next one.
 *
 * NULL: as engine.h says, every int function returns CL_ERR_ARG, want()
 * answers CL_WANT_FAILED, pull()/pullv() 0, cl_t1_timer() CL_TIMER_NONE,
 * cl_t1_stats() NULL, cl_t1_free() does nothing.
 *
 * The card side receives commands into a caller buffer, hands them over as
 * CL_WANT_DONE, sends the caller's response chained to IFSD, answers R-blocks
 * and S-requests, and can ask for more time (S(WTX request)), a new IFSC or
 * to abort its response chain.
 *
 * NAD: the reader sends config.nad; the card answers with SAD and DAD of
 * the last valid NAD it received swapped. Received NADs are not checked
 * (VPP control is not supported).
 *
 * Memory: the context is 64 bytes (32-bit pointers) and holds no block
 * buffer; the caller's APDU buffers are the block buffers (see
 * cl_t1_pullv()). The context holds no pointer to itself and may be copied
 * between exchanges. Do not touch its fields: read them through the accessors.
 *
 * Reader firmware that never plays the card may define CL_T1_CARD to 0
 * (e.g. -DCL_T1_CARD=0, the same for every file that includes this
 * header): the card role is then left out (the cl_t1_card_* functions are
 * neither declared nor compiled, and cl_t1_setup() with CL_T1_ROLE_CARD
 * returns CL_ERR_UNSUPPORTED), which saves flash.
 *
 * CL_T1_FAST selects whole-block fast paths that cost flash (about 340
 * bytes on a Cortex-M0+): with 1, a block that arrives whole in one
 * cl_t1_feed() is checked and stored in one step, the reader's common
 * answer (the last I-block of the response) is settled in a straight line,
 * and cl_t1_pullv() hands a whole I-block out at once; with 0 every block
 * takes the one general path (the same results; about a hundred
 * instructions more per block on x86-64). The default is 0 when the compiler
 * optimises for size (__OPTIMIZE_SIZE__, -Os), else 1; define it to 0 or
 * 1 to choose (it only matters when compiling lib/t1).
 */
#ifndef CARDLINK_T1_H
#define CARDLINK_T1_H

#include "cardlink/defs.h"
#include "cardlink/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef CL_T1_CARD
#define CL_T1_CARD 1
#endif

#ifndef CL_T1_FAST
#if defined(__OPTIMIZE_SIZE__)
#define CL_T1_FAST 0
#else
#define CL_T1_FAST 1
#endif
#endif

/* Largest information field (IFSC/IFSD), §11.4.2. */
#define CL_T1_IFS_MAX 254u
/* Default IFSC and IFSD before any TA3 or negotiation, §11.4.2. */
#define CL_T1_IFS_DEFAULT 32u
/* Longest valid block on the line: prologue 3, INF 254, CRC 2. */
#define CL_T1_BLOCK_MAX (3u + CL_T1_IFS_MAX + 2u)
/* Default retries per block before S(RESYNCH), and resynch attempts
 * before deactivation (§11.6.3.2). */
#define CL_T1_RETRIES_DEFAULT 3u
#define CL_T1_RESYNCH_TRIES 3u
/* Default block guard time, §11.2: 22 etu. */
#define CL_T1_BGT_DEFAULT 22u

enum cl_t1_role {
    CL_T1_ROLE_READER = 0,
    CL_T1_ROLE_CARD = 1
};

enum cl_t1_edc {
    CL_T1_EDC_LRC = 0,      /* one byte, XOR (TC3 b1 = 0) */
    CL_T1_EDC_CRC = 1       /* two bytes, high first (TC3 b1 = 1) */
};

/* What the engine wants is an enum cl_want (cardlink/engine.h):
 *   CL_WANT_IDLE    nothing pending: start an exchange (reader) or call
 *                   cl_t1_card_listen() (card);
 *   CL_WANT_SEND    cl_t1_pullv()/cl_t1_pull() bytes and send them;
 *   CL_WANT_RECV    wait for bytes, timer cl_t1_timer();
 *   CL_WANT_DONE    reader: exchange over; card: a command received; see
 *                   cl_t1_result();
 *   CL_WANT_FAILED  failed, cl_t1_error(): deactivate the card.
 * Compatibility names of the former enum cl_t1_want, for callers not moved
 * yet (lib/card/card_io.c); new code uses CL_WANT_*. */
#define CL_T1_IDLE CL_WANT_IDLE
#define CL_T1_SEND CL_WANT_SEND
#define CL_T1_RECV CL_WANT_RECV
#define CL_T1_DONE CL_WANT_DONE
#define CL_T1_APDU CL_WANT_DONE
#define CL_T1_DEACTIVATE CL_WANT_FAILED

struct cl_t1_config {
    uint8_t role;           /* enum cl_t1_role */
    uint8_t edc;            /* enum cl_t1_edc, from TC3 */
    uint8_t ifsc;           /* card's IFSC from TA3, 1..254 (default 32) */
    uint8_t ifsd;           /* reader: IFSD it announces, 1..254 (254) */
    uint8_t nad;            /* reader: NAD it sends (default 0); the card
                               answers with SAD and DAD swapped */
    uint8_t bwi;            /* TB3 high nibble, 0..9 (default 4) */
    uint8_t cwi;            /* TB3 low nibble, 0..15 (default 13) */
    uint8_t d;              /* current Di (default 1) */
    uint16_t f;             /* current Fi (default 372) */
    uint16_t bgt_etu;       /* block guard time, >= 22 (default 22) */
    uint8_t max_retries;    /* failed attempts on one block before the
                               reader resynchronises, 1..15 (default 3) */
    bool ifs_at_start;      /* reader: send S(IFS request) with ifsd at
                               setup and after each resynch (default true) */
};

/* Counters, for logs and tests, read through cl_t1_stats(). They only grow
 * (until setup). */
struct cl_t1_stats {
    uint32_t blocks_sent;       /* each block pulled in full, resends too */
    uint32_t blocks_received;   /* each complete block, valid or not */
    uint32_t invalid_blocks;    /* EDC, parity, LEN, PCB or sequence error */
    uint32_t edc_errors;        /* LRC/CRC mismatches */
    uint32_t parity_errors;     /* blocks with a parity error reported */
    uint32_t timeouts;          /* cl_t1_timeout() calls acted upon */
    uint32_t retransmissions;   /* blocks sent again (I, R or S) */
    uint32_t resynchs;          /* S(RESYNCH request)s sent or received */
    uint32_t wtx;               /* S(WTX request)s sent or received */
    uint32_t aborts;            /* S(ABORT request)s sent or received */
};

/*
 * The engine context: 64 bytes with 32-bit pointers, and no block buffer:
 * an I-block's INF is sent straight from the caller's APDU buffer and
 * received straight into the caller's buffer; only the prologue, an
 * S-block's INF byte and the epilogue live here. The checksum is computed
 * once while a block is built and as received bytes pass. Caller-allocated;
 * do not touch the fields.
 */
struct cl_t1 {
    /* byte fields first: a Cortex-M0+ reaches offsets 0..31 with one
     * 16-bit load or store */
    uint8_t want, phase, flags, kind;
    uint8_t ifsc, ifsd, retries, resynchs;
    uint8_t rx_nad, i_pcb, i_len, wtx;
    int8_t res, pending;        /* error of the exchange, of a recovery */
    uint8_t nad, ifsc0;
    uint8_t blk[6];             /* block sent: NAD PCB LEN [INF] EDC (an
                                   I-block's INF is not here) */
    uint8_t hdr[4];             /* block received: NAD PCB LEN, INF[0] */
    uint8_t ifsd0, max_retries;
    uint16_t pos;               /* SEND: bytes acknowledged; RECV: received */
    uint16_t acc;               /* RECV: running LRC or CRC */
    uint16_t cwt, bgt;          /* etu */
    uint32_t bwt;               /* etu */
    struct cl_t1_stats *stats;  /* the caller's counters, or NULL */
    const uint8_t *tx;          /* our current I-block's INF */
    size_t tx_len;              /* bytes from tx to the end of our APDU */
    uint8_t *rx;                /* reader: response; card: command buffer */
    size_t rx_size, rx_len;
};

/*
 * Fill cfg with the defaults of §11.4 for role: LRC, IFSC 32, IFSD 254,
 * NAD 0, BWI 4, CWI 13, F 372, D 1, BGT 22, 3 retries, ifs_at_start.
 */
void cl_t1_config_default(struct cl_t1_config *cfg, enum cl_t1_role role);

/*
 * Set up t1 for a new T=1 session (after the ATR and any PPS). The context
 * is wiped first; cfg is copied. stats, when not NULL, is the caller's
 * struct of counters, zeroed here and counted into until the next setup or
 * cl_t1_free() (it must stay valid that long); NULL counts nothing. A reader with ifs_at_start wants to SEND
 * its S(IFS request) at once and becomes IDLE when the card answers; other
 * readers are IDLE; a card is IDLE until cl_t1_card_listen(). On failure
 * t1 is safe to free.
 * Returns CL_OK, or CL_ERR_ARG when t1 or cfg is NULL or a field is out of
 * range (role, edc, ifsc/ifsd 0 or 255, bwi > 9, f or d not in the tables
 * of §8.3, bgt_etu < 22, max_retries 0 or > 15), or CL_ERR_UNSUPPORTED for
 * the card role when CL_T1_CARD is 0; then t1 is wiped and stays IDLE
 * with every call refused.
 */
CL_WUR int cl_t1_setup(struct cl_t1 *t1, const struct cl_t1_config *cfg,
                       struct cl_t1_stats *stats);

/* Wipe t1 with cl_wipe() (nothing happens on NULL). The caller's buffers
 * and stats are not touched. Set it up again before any other use. */
void cl_t1_free(struct cl_t1 *t1);

/* What the engine wants next (CL_WANT_FAILED on NULL). After setup and
 * after free: CL_WANT_IDLE until something starts. */
enum cl_want cl_t1_want(const struct cl_t1 *t1);

/* One contiguous piece of the block being sent (see cl_t1_pullv()). */
struct cl_t1_piece {
    const uint8_t *buf;
    size_t len;                 /* >= 1 */
};

/*
 * The rest of the block being sent, as up to three pieces in line order
 * (a gather list for one writev() or one DMA chain): piece[0..k) is
 * filled and k returned; 0 unless want is CL_WANT_SEND (or on NULL). The
 * pointers go into t1 or into the caller's APDU buffer and are valid until
 * the next call on t1. An R- or S-block, and an I-block without INF, is one
 * piece; an I-block with INF is three: the prologue, the INF (straight
 * from the caller's buffer, not copied) and the epilogue, less what
 * cl_t1_sent() has acknowledged already. Acknowledge what went out with
 * cl_t1_sent(): the total of the pieces finishes the block.
 */
size_t cl_t1_pullv(struct cl_t1 *t1, struct cl_t1_piece piece[3]);

/*
 * The next bytes to send, for a driver that sends from one pointer (a
 * transmit-empty interrupt): the first piece cl_t1_pullv() would give.
 * *out points into t1 or into the caller's APDU buffer (valid until the
 * next call on t1) and the count is returned; 0 (and *out NULL) unless
 * want is CL_WANT_SEND. Call it again after each cl_t1_sent() while the
 * engine wants CL_WANT_SEND.
 */
size_t cl_t1_pull(struct cl_t1 *t1, const uint8_t **out);

/*
 * Acknowledge that the next n bytes of the block were sent (n up to the
 * rest of the block: the total of the pieces of cl_t1_pullv(), or any
 * count within them). When the block is complete the engine moves on
 * (usually to CL_WANT_RECV).
 * Returns CL_OK; CL_ERR_STATE unless want is CL_WANT_SEND; CL_ERR_ARG when t1
 * is NULL or n exceeds the rest of the block.
 */
CL_WUR int cl_t1_sent(struct cl_t1 *t1, size_t n);

/*
 * Bytes received from the line. The engine consumes up to the end of the
 * block being received and returns the count consumed (<= len); when a block
 * completes it is processed and the engine moves on (the rest is not for it:
 * a half-duplex line layer discards what arrives out of turn). bytes may be
 * NULL only when len is 0.
 * Returns the count consumed; CL_ERR_STATE unless want is CL_WANT_RECV;
 * CL_ERR_ARG on a NULL t1 or bytes.
 */
CL_WUR int cl_t1_feed(struct cl_t1 *t1, const uint8_t *bytes, size_t len);

/*
 * The event: the timer armed for CL_WANT_RECV expired (BWT before the
 * first character, CWT after one). The block is treated as invalid
 * (§11.6.3.2).
 * Returns CL_OK; CL_ERR_STATE unless want is CL_WANT_RECV with a timer
 * armed (cl_t1_timer() != CL_TIMER_NONE); CL_ERR_ARG on NULL.
 */
CL_WUR int cl_t1_timeout(struct cl_t1 *t1);

/*
 * The line layer detected a parity error in the block being received (it
 * keeps feeding the bytes). The block is invalid with error bits "EDC or
 * parity error" once it ends (by LEN, or by the CWT timer).
 * Returns CL_OK; CL_ERR_STATE unless want is CL_WANT_RECV; CL_ERR_ARG on NULL.
 */
CL_WUR int cl_t1_parity_error(struct cl_t1 *t1);

/* The timer query: the timer to arm in CL_WANT_RECV, in etu (1 ..
 * CL_TIMER_MAX: a BWT x WTX beyond it saturates there, never at "none");
 * CL_TIMER_NONE when none (the card waiting for the reader's next block),
 * in other states and on NULL. */
uint32_t cl_t1_timer(const struct cl_t1 *t1);

/* Block guard time in etu (config bgt_etu). 0 on NULL. */
uint32_t cl_t1_guard_etu(const struct cl_t1 *t1);

/*
 * In CL_WANT_DONE. Reader: the response length (>= 0) or the exchange's
 * error: CL_ERR_ABORTED (S(ABORT) by either side), CL_ERR_BUFFER (the
 * response did not fit; a chain was aborted), CL_ERR_PROTOCOL (the link was
 * resynchronised). Card: the command length.
 * CL_ERR_STATE in other states (CL_ERR_ARG on NULL).
 */
CL_WUR int cl_t1_result(const struct cl_t1 *t1);

/* The sticky error behind CL_WANT_FAILED: the reader's recovery (§11.6.3)
 * gave up, CL_ERR_TIMEOUT when its last attempt met silence (a card gone
 * mute), else CL_ERR_RESYNCH (the card answered, but wrongly); CL_OK while
 * the engine has not failed (CL_ERR_ARG on NULL, as every engine's). It
 * stays until cl_t1_setup(). */
int cl_t1_error(const struct cl_t1 *t1);

/* The counters given to cl_t1_setup() (NULL on NULL or when none). */
const struct cl_t1_stats *cl_t1_stats(const struct cl_t1 *t1);

/* Current IFSC and IFSD (0 on NULL). */
uint8_t cl_t1_ifsc(const struct cl_t1 *t1);
uint8_t cl_t1_ifsd(const struct cl_t1 *t1);

/*
 * Reader: start an exchange. cmd[0..cmd_len) is sent, chained when longer
 * than IFSC; the response goes to resp[0..resp_size). Both buffers stay
 * owned by the caller and must stay valid, and cmd unchanged, until
 * CL_WANT_DONE; they must not overlap (the INF of each I-block the card
 * sends is written to resp as it arrives, before its EDC is checked: the
 * bytes of resp beyond the result are unspecified). cmd_len may be 0 (an empty I-block). Results are ints:
 * a resp_size above 0x7FFFFFFF is used as 0x7FFFFFFF (32-bit int assumed).
 * Returns CL_OK; CL_ERR_STATE unless the reader is IDLE or DONE;
 * CL_ERR_ARG on NULL t1, NULL cmd with cmd_len > 0, NULL resp with
 * resp_size > 0.
 */
CL_WUR int cl_t1_transmit_start(struct cl_t1 *t1, const uint8_t *cmd,
                                size_t cmd_len, uint8_t *resp,
                                size_t resp_size);

/*
 * Reader: send S(IFS request) with a new IFSD (1..254) now. On the card's
 * S(IFS response) the reader is IDLE again with IFSD = ifsd.
 * Returns CL_OK; CL_ERR_STATE unless IDLE or DONE; CL_ERR_ARG on NULL or
 * ifsd 0 or 255.
 */
CL_WUR int cl_t1_request_ifs(struct cl_t1 *t1, uint8_t ifsd);

/*
 * Reader: resynchronise now (S(RESYNCH request)): both sides reset N(S),
 * N(R), IFSC and IFSD to their initial values; with ifs_at_start the IFSD
 * is negotiated again. Then IDLE.
 * Returns CL_OK; CL_ERR_STATE unless IDLE or DONE; CL_ERR_ARG on NULL.
 */
CL_WUR int cl_t1_resynch(struct cl_t1 *t1);

/*
 * Either role: abort the current chain. At its next turn inside a chain
 * (instead of the next chained I-block or the R-block acknowledging one)
 * the engine sends S(ABORT request); when the peer answers the reader ends
 * with CL_ERR_ABORTED and the card waits for the next command. An exchange
 * that ends without a further chain step completes normally.
 * Returns CL_OK; CL_ERR_STATE when no exchange is under way (reader IDLE or
 * DONE; card not receiving a command chain nor sending a response);
 * CL_ERR_ARG on NULL.
 */
CL_WUR int cl_t1_abort(struct cl_t1 *t1);

#if CL_T1_CARD
/*
 * Card: receive commands into cmd[0..size) (the buffer stays registered
 * until setup). Received INF is written there as it arrives; it
 * must not overlap the response given to cl_t1_card_respond(). A command longer
 * than size is refused with S(ABORT request).
 * Returns CL_OK; CL_ERR_STATE when not a card or not IDLE; CL_ERR_ARG on
 * NULL t1 or cmd, or size 0.
 */
CL_WUR int cl_t1_card_listen(struct cl_t1 *t1, uint8_t *cmd, size_t size);

/*
 * Card, in CL_WANT_DONE: send resp[0..len) as the response, chained to IFSD.
 * resp must stay valid and unchanged until the next command (the reader
 * may ask for a retransmission until it sends its next command); it must
 * not overlap the command buffer (the reader's next command is received
 * there while the response may still have to be sent again).
 * Returns CL_OK; CL_ERR_STATE unless a command is waiting (CL_WANT_DONE); CL_ERR_ARG on NULL t1,
 * NULL resp with len > 0.
 */
CL_WUR int cl_t1_card_respond(struct cl_t1 *t1, const uint8_t *resp,
                              size_t len);

/*
 * Card, with a command waiting (CL_WANT_DONE): the application needs more time; send S(WTX request)
 * with multiplier (1..255). When the reader answers, CL_WANT_DONE again.
 * Returns CL_OK; CL_ERR_STATE unless a command is waiting (CL_WANT_DONE); CL_ERR_ARG on NULL or 0.
 */
CL_WUR int cl_t1_card_request_wtx(struct cl_t1 *t1, uint8_t multiplier);

/*
 * Card, with a command waiting (CL_WANT_DONE): send S(IFS request) with a new IFSC (1..254). When
 * the reader answers, CL_WANT_DONE again with IFSC = ifsc.
 * Returns CL_OK; CL_ERR_STATE unless a command is waiting (CL_WANT_DONE); CL_ERR_ARG on NULL, 0 or
 * 255.
 */
CL_WUR int cl_t1_card_request_ifs(struct cl_t1 *t1, uint8_t ifsc);
#endif /* CL_T1_CARD */

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_T1_H */
