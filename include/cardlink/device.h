/*
 * cardlink — the device controller: card engine + relay session + the
 * holder, every decision asked of lib/policy (docs/device.md).
 * SPDX-License-Identifier: Apache-2.0
 *
 * One sans-I/O engine, no malloc, that owns its children by value (the
 * card engine of cardlink/card.h, the device-role relay session of
 * cardlink/relay_session.h, the policy state of cardlink/policy.h). The
 * children never see each other: the device moves what one produces to
 * the other. Each relay request runs as a small job (lib/device/job_*.c)
 * whose step function answers "need the card (this APDU)", "need the
 * person (this screen)" or "done (this answer)".
 *
 * Inputs, one call per event source; `now` is the caller's millisecond
 * clock (uint32_t, wrapping), the device's one time base:
 *   card line:  cl_dev_card_ctrl_done, _feed, _timeout, _parity, _sent
 *   card slot:  cl_dev_card_inserted, cl_dev_card_removed
 *   network:    cl_dev_net_up, cl_dev_net_down, cl_dev_net_feed, _sent
 *   holder:     cl_dev_ui_key, cl_dev_ui_pin, cl_dev_ui_entry (or
 *               cl_dev_ui_event for a struct cl_ui_event)
 *   clock:      cl_dev_timeout when cl_dev_timer ran out
 * Outputs, per sink: cl_dev_wants() says which sinks have work:
 *   card line:  cl_dev_card_want/_ctrl/_pull/_recv_max/_timer (the card
 *               engine's own wants, passed through: the line's receive
 *               timeout is in microseconds, as a line receives)
 *   network:    cl_dev_net_pull / cl_dev_net_sent
 *   display:    cl_dev_ui_take (a struct cl_ui_screen of cardlink/ui.h)
 *   timer:      cl_dev_timer (ms: the session's timers and the holder's
 *               entry deadline)
 *
 * Trust: only cl_dev_ui_key (CONFIRM) can approve a transaction; nothing
 * on the network path reaches it. PIN digits handed to cl_dev_ui_pin are
 * written into the VERIFY / CHANGE command being built and wiped (the
 * caller's array too); the command is wiped once the card answered.
 * A transaction id is marked in progress in the store (through the relay
 * session's log, which the device keeps in cfg.store) before the request
 * reaches a job, so before the card is touched.
 *
 * The device never calls the card line's callbacks itself: cfg.line is
 * bound to the card engine for its capabilities; the program does the
 * control steps and moves the bytes (as lib/card/card_io.c does).
 *
 * Contexts are caller-allocated; do not touch the fields. On NULL: int
 * functions return CL_ERR_ARG, void ones do nothing, pulls 0, timers
 * CL_TIMER_NONE, wants 0 (cl_dev_card_want CL_WANT_FAILED).
 */
#ifndef CARDLINK_DEVICE_H
#define CARDLINK_DEVICE_H

#include "cardlink/defs.h"
#include "cardlink/card.h"
#include "cardlink/engine.h"
#include "cardlink/gate.h"
#include "cardlink/policy.h"
#include "cardlink/relay_msg.h"
#include "cardlink/relay_session.h"
#include "cardlink/store.h"
#include "cardlink/txn.h"
#include "cardlink/ui.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest relay message in or out (header included); the request copy,
 * the session's receive buffer and the answer are this size. */
#ifndef CL_DEV_MSG_MAX
#define CL_DEV_MSG_MAX 1024u
#endif
/* The session's replay buffer. */
#ifndef CL_DEV_REPLAY_MAX
#define CL_DEV_REPLAY_MAX 2048u
#endif
/* Card responses of one request (a SCRIPT's together). */
#ifndef CL_DEV_RESP_MAX
#define CL_DEV_RESP_MAX 1024u
#endif
/* Transaction log entries (protocol §9: at least 4): the answers kept
 * whole (each slot 16 + 2 + CL_RELAY_TXN_ANSWER_MAX bytes of RAM). */
#ifndef CL_DEV_TXN_SLOTS
#define CL_DEV_TXN_SLOTS 4u
#endif
/* Transaction ids remembered beyond the answers (§9): the last N ids
 * executed or in progress, oldest first, 16 bytes each, so that a retry
 * of an id whose answer slot was reused is answered ERROR DUPLICATE,
 * never executed again (an id older than the last N is not known). Kept
 * in the store under CL_STORE_KEY_TXN_IDS, written (2 + 16 x ids held
 * bytes) when an id is marked in progress, before the card is touched;
 * the answers stay under CL_STORE_KEY_TXN_LOG (1 + slots x (18 + answer)
 * bytes), written when the answer is recorded. 1..255 (2 + 16 N must fit
 * CL_STORE_RECORD_MAX). Cost with the default 128: 2050 bytes of RAM in
 * struct cl_dev, a store record of at most 2050 bytes; the answers'
 * record is at most 585 bytes (4 slots of 128-byte answers). Lowering N
 * below a stored list's length makes cl_dev_setup fail (CL_ERR_BUFFER):
 * erase the record then. */
#ifndef CL_DEV_TXN_IDS
#define CL_DEV_TXN_IDS 128u
#endif
/* Largest command the device builds or copies for the card. */
#define CL_DEV_CMD_MAX 261u

/*
 * The hash port: digest data[0..len) with alg (CL_RELAY_DIGEST_SHA256 or
 * _SHA384) into out[0..size) and return the digest length (32, 48), or
 * CL_ERR_UNSUPPORTED (that algorithm is not there), CL_ERR_CRYPTO. Host
 * builds pass cl_dev_hash_sha256() below; firmware its hash engine.
 */
struct cl_dev_hash {
    int (*digest)(void *ctx, uint8_t alg, const uint8_t *data, size_t len, uint8_t *out,
                  size_t size);
    void *ctx;
};

/*
 * The hash port of a host build with mbedtls: SHA-256 through cl_sha256()
 * (cardlink/cert.h); ctx is unused. Returns 32, CL_ERR_UNSUPPORTED (alg
 * not SHA-256), CL_ERR_BUFFER (out NULL or size < 32), CL_ERR_CRYPTO.
 * Not in builds without mbedtls (firmware passes its own engine).
 */
CL_WUR int cl_dev_hash_sha256(void *ctx, uint8_t alg, const uint8_t *data, size_t len,
                              uint8_t *out, size_t size);

/* Configuration; copied by cl_dev_setup(). */
struct cl_dev_config {
    struct cl_relay_session_config relay;  /* device id, caps, versions...; its
                                            * txn_log is ignored: the device's own */
    struct cl_policy policy;
    struct cl_card_config card;
    const struct cl_card_line *line;       /* required: bound to the card engine */
    void *line_ctx;
    struct cl_dev_hash hash;               /* required for TXN-APPROVE signatures */
    const struct cl_store *store;          /* NULL: the log is kept in RAM only */
    void *store_ctx;
    uint8_t cols, rows;                    /* display size: 0 = 20 x 4 */
    uint32_t entry_ms;                     /* PIN / prompt / approval time when the
                                            * request names none; 0 = 60000 */
    bool apdu_card;                        /* the card port is APDU-level (a PC/SC
                                            * reader): no card engine runs, line may
                                            * be NULL; see "APDU-level card" below */
    struct cl_dev_gate_cfg gate;           /* ACTUATE (cardlink/gate.h); zero: no gate */
};

/* cl_dev_wants() bits. */
#define CL_DEV_W_CARD 0x01u      /* the card engine wants CTRL, SEND or RECV */
#define CL_DEV_W_NET_SEND 0x02u  /* cl_dev_net_pull() has bytes */
#define CL_DEV_W_NET_RECV 0x04u  /* the transport is up: feed its bytes */
#define CL_DEV_W_NET_DROP 0x08u  /* the link is dead: drop the transport */
#define CL_DEV_W_UI 0x10u        /* cl_dev_ui_take() has a screen */
#define CL_DEV_W_FAILED 0x80u    /* cl_dev_error() says why */

/* Counters (cl_dev_stats). */
struct cl_dev_stats {
    uint32_t requests;     /* requests handed to a job */
    uint32_t denied;       /* refused by lib/policy */
    uint32_t apdus;        /* commands sent to the card (device-built included) */
    uint32_t confirms;     /* approvals confirmed by the holder */
    uint32_t signs;        /* signing commands / DEBITs sent */
    uint32_t records;      /* transaction records appended on the card */
    uint32_t card_errors;  /* exchanges that failed (card off, removed) */
};

/* ------------------------------------------------------------ tickets
 * Offline validation of an e-goods ticket (docs/device.md, "Tickets"). */

/* The issuer's public key: a P-256 point, uncompressed (04 X Y). */
#define CL_DEV_PUB_LEN 65u
/* The largest e-goods payload, issuer signature, USE challenge, receipt. */
#define CL_DEV_TICKET_DATA_MAX 64u
#define CL_DEV_TICKET_SIG_MAX 72u
#define CL_DEV_TICKET_CHAL_MAX 64u

/*
 * The ECDSA verify port (as struct cl_applet_crypto's verify): CL_OK when
 * sig[0..sig_len) (DER) is pub's signature over digest[0..digest_len);
 * CL_ERR_SIGNATURE (or any error) otherwise. Host builds pass
 * cl_posix_crypto_verify (ports/posix/applet_crypto.h); firmware its own.
 */
typedef int (*cl_dev_verify_fn)(void *ctx, const uint8_t pub[CL_DEV_PUB_LEN],
                                const uint8_t *digest, size_t digest_len, const uint8_t *sig,
                                size_t sig_len);

/* What a validation needs; copied by cl_dev_validate(). */
struct cl_dev_ticket_cfg {
    uint8_t issuer_pub[CL_DEV_PUB_LEN];   /* the issuer key the records must carry */
    cl_dev_verify_fn verify;              /* required */
    void *verify_ctx;
    /* the validator's own check of a payload (kind, validity, route);
     * NULL: every correctly signed, unused ticket is accepted. Returns
     * true to use it. Called only for records whose signature verified. */
    bool (*accept)(void *ctx, const uint8_t *payload, size_t len);
    void *accept_ctx;
    uint8_t challenge[CL_DEV_TICKET_CHAL_MAX];   /* the USE challenge (gate id, nonce) */
    uint8_t challenge_len;                       /* 0..64 */
};

/* A validation's outcome (cl_dev_ticket_result). */
struct cl_dev_ticket {
    int err;          /* CL_OK: a ticket was used now; else why none was
                       * (cl_dev_ticket_result) */
    uint16_t sw;      /* the status word that ended it (0: none) */
    uint8_t rec;      /* the record used (1..8), 0 when none */
    uint8_t serial[8];                            /* the card's (GET BALANCE) */
    uint8_t payload[CL_DEV_TICKET_DATA_MAX];      /* the used ticket's payload */
    uint8_t payload_len;
    uint8_t receipt[CL_DEV_TICKET_SIG_MAX];       /* USE's answer: the card's
                                                   * auth key over SHA-256("CLUT"
                                                   * serial payload challenge) */
    uint8_t receipt_len;
    uint8_t used_seen, forged_seen;               /* records skipped, by reason */
};

/* A validation in the device (internal). */
struct cl_dev_tk {
    struct cl_dev_ticket_cfg cfg;
    struct cl_dev_ticket out;
    bool running, done;
};

/* The Part 10 PIN_VERIFY_STRUCTURE's and PIN_MODIFY_STRUCTURE's fixed parts
 * (bTimerOut .. ulDataLength) and the largest whole structure the device
 * builds. */
#define CL_DEV_PART10_HDR 19u
#define CL_DEV_PART10_MOD_HDR 24u
#define CL_DEV_PART10_MAX (CL_DEV_PART10_MOD_HDR + CL_DEV_CMD_MAX)

/* Which structure the command out is (cl_dev_card_apdu_structure). */
#define CL_DEV_PART10_NONE 0u     /* an APDU */
#define CL_DEV_PART10_VERIFY 1u   /* PIN_VERIFY_STRUCTURE: FEATURE_VERIFY_PIN_DIRECT */
#define CL_DEV_PART10_MODIFY 2u   /* PIN_MODIFY_STRUCTURE: FEATURE_MODIFY_PIN_DIRECT */

/* The APDU-level card port's state (internal; lib/device/card_apdu.c). */
struct cl_dev_ac {
    uint8_t st;            /* closed, control step, idle, command out */
    uint8_t ctrl;          /* CL_CARD_CTRL_* wanted */
    uint8_t protocol;      /* 0 or 1, as the reader said */
    bool pinpad;           /* the reader verifies PINs itself (Part 10) */
    bool pinpad_mod;       /* the reader changes PINs itself (Part 10) */
    uint8_t secure;        /* CL_DEV_PART10_*: what the command out is */
    size_t len;            /* its length */
    struct cl_atr atr;
    uint8_t pv[CL_DEV_PART10_MAX];
};

/* Job state (internal; lib/device/device_int.h). */
struct cl_dev_job {
    uint8_t type;          /* request type, 0: no job */
    uint8_t step;
    uint8_t code;          /* wire error to answer with */
    uint8_t mismatch;
    uint16_t sw;
    uint16_t page, pages;
    uint8_t idx, nresp;
    uint8_t entry;         /* PIN-CHANGE: which entry runs */
    uint8_t vlen;
    bool pin_up;           /* a PIN screen waits for cl_dev_ui_pin */
    bool pin_cmp;          /* that entry is compared, not written */
    uint8_t pin_off;       /* data offset the entry is written at */
    bool used_ui;          /* the job showed something */
    uint32_t deadline;     /* holder's entry deadline (valid with timed) */
    bool timed;
    size_t off;            /* bytes of resp used */
    uint8_t value[CL_UI_ENTRY_MAX];    /* PROMPT answer */
    uint8_t check[8];                  /* PIN-CHANGE confirm compare */
    struct cl_relay_bytes resp[CL_RELAY_SCRIPT_MAX];
    struct cl_txn txn;                 /* TXN-APPROVE: what is shown */
};

/* The device. Caller-allocated; do not touch the fields. */
struct cl_dev {
    uint8_t ev;                /* the event a job step sees (internal) */
    bool card_busy;            /* an exchange or activation of a job runs */
    bool card_present;
    bool card_told;            /* CARD-INSERTED went out in this session */
    bool link_dead;
    bool screen_ready;         /* screen waits for cl_dev_ui_take */
    bool screen_shown;
    uint8_t reset_kind;        /* 0 none, 1 job reset, 2 insertion */
    bool cold_pending;         /* a cold reset waits for the card to be off */
    uint16_t screen_id;
    int err;                   /* sticky */
    int card_rc;               /* last exchange: response length or error */
    uint32_t now;
    size_t cmd_len;
    struct cl_dev_config cfg;
    struct cl_dev_stats stats;
    struct cl_policy_state pol;
    struct cl_card card;
    struct cl_relay_session rs;
    struct cl_relay_txn_log log;      /* the session's: table + store */
    struct cl_relay_txn_log tlog;     /* the table's own */
    struct cl_relay_txn_table table;
    struct cl_relay_txn_slot slots[CL_DEV_TXN_SLOTS];
    /* the table's id list as its store record: count(2) ids(16 each) */
    uint8_t txn_ids[2 + CL_DEV_TXN_IDS * CL_RELAY_TXN_ID_LEN];
    struct cl_relay_msg req;   /* the request being executed (points into req_buf) */
    struct cl_relay_msg ans;
    struct cl_dev_job job;
    struct cl_dev_tk tk;       /* the offline ticket validation (job_ticket.c) */
    struct cl_ui_screen screen;
    uint8_t cmd[CL_DEV_CMD_MAX];
    uint8_t resp[CL_DEV_RESP_MAX];
    uint8_t req_buf[CL_DEV_MSG_MAX];
    uint8_t rx[CL_DEV_MSG_MAX];
    uint8_t replay[CL_DEV_REPLAY_MAX];
    uint8_t scratch[CL_TXN_TBS_MAX + CL_TXN_CHALLENGE_MAX];
    struct cl_dev_ac ac;       /* cfg.apdu_card: the reader's state (card_apdu.c) */
};

/* Zero d. Cannot fail; NULL does nothing. */
void cl_dev_init(struct cl_dev *d);

/*
 * Set d up from cfg (copied): the card engine bound to cfg->line, the
 * relay session as a device, the policy state fresh, the transaction log
 * loaded from cfg->store (CL_STORE_KEY_TXN_LOG and CL_STORE_KEY_TXN_IDS;
 * absent: empty).
 * Returns CL_OK, or CL_ERR_ARG (NULL d or cfg, no line unless
 * cfg->apdu_card, the relay
 * setup's CL_ERR_ARG: no device id ...), the store's read error (other
 * than CL_ERR_NOT_FOUND; CL_ERR_BUFFER: a stored id list longer than
 * CL_DEV_TXN_IDS), CL_ERR_MALFORMED (the stored log does not parse).
 * On error d is as after cl_dev_init().
 */
CL_WUR int cl_dev_setup(struct cl_dev *d, const struct cl_dev_config *cfg);

/* Wipe d (cl_wipe: keys, PIN buffers, the session token). NULL: nothing. */
void cl_dev_free(struct cl_dev *d);

/* Which sinks have work: CL_DEV_W_* bits (0 on NULL). */
unsigned cl_dev_wants(const struct cl_dev *d);

/* Sticky: CL_OK, or what failed the device (the store, an internal
 * inconsistency). CL_ERR_ARG on NULL. */
int cl_dev_error(const struct cl_dev *d);

/* Counters; NULL on NULL. */
const struct cl_dev_stats *cl_dev_stats(const struct cl_dev *d);

/* The policy state and the session, read-only, for logs and tests. */
const struct cl_policy_state *cl_dev_policy(const struct cl_dev *d);
const struct cl_relay_session *cl_dev_session(const struct cl_dev *d);

/* What a program reads of the card, in either card mode (a line or
 * cfg.apdu_card), instead of the device's fields:
 *   cl_dev_card_active    the card is up (activated, no reset running);
 *                         false on NULL
 *   cl_dev_card_atr       its ATR (raw bytes and decoding), NULL when none
 *                         is up (or NULL d)
 *   cl_dev_card_protocol  0 (T=0) or 1 (T=1); CL_ERR_CLOSED when no card
 *                         is up, CL_ERR_ARG on NULL
 *   cl_dev_card_inverse   the line runs the inverse convention
 *                         (cl_card_sw_inverse): the program codes the bytes
 *                         it sends (cl_atr_inverse_byte) and decodes those
 *                         it receives (cl_atr_decode_inverse) while it is
 *                         true; false on NULL and with cfg.apdu_card
 *   cl_dev_card           the line's card engine, read-only, for the rest
 *                         of cardlink/card.h (cl_card_stats ...); NULL on
 *                         NULL; with cfg.apdu_card an engine that never ran
 * (cl_dev_card_params above gives the line parameters.) */
bool cl_dev_card_active(const struct cl_dev *d);
const struct cl_atr *cl_dev_card_atr(const struct cl_dev *d);
int cl_dev_card_protocol(const struct cl_dev *d);
bool cl_dev_card_inverse(const struct cl_dev *d);
const struct cl_card *cl_dev_card(const struct cl_dev *d);

/* ------------------------------------------------------------ card slot */

/*
 * A card is in the slot: the card engine starts a cold activation (the
 * line then wants CTRL). Once active, CARD-INSERTED (ATR, protocol) goes
 * to the server; when no session is open then, it goes when one opens
 * (once per session: again after a fresh session, not after a resumed
 * one that already had it, protocol §5.6).
 * A card put in while the last one's power-off (CTRL OFF) is still to be
 * done is started once the line has done it.
 * Returns CL_OK, CL_ERR_ARG (NULL), CL_ERR_STATE (a card is already in),
 * the card engine's cl_card_start() errors.
 */
CL_WUR int cl_dev_card_inserted(struct cl_dev *d, uint32_t now);

/* The card left the slot: CARD-REMOVED goes to the server first (protocol
 * §5.6), then the engine fails with CL_ERR_CARD_REMOVED (then wants CTRL
 * OFF), a job using the card ends with NO_CARD (also an approval or a PIN
 * entry waiting for the holder: TXN-RESULT FAILED / PIN-*-RESULT with
 * NO_CARD at once) and the policy state is reset. */
void cl_dev_card_removed(struct cl_dev *d, uint32_t now);

/* ------------------------------------------------------------ card line
 * The card engine's calls (cardlink/card.h), passed through; each input
 * may advance a job. The errors are the card engine's. */
enum cl_want cl_dev_card_want(const struct cl_dev *d);
unsigned cl_dev_card_ctrl(const struct cl_dev *d);
const struct cl_card_line_params *cl_dev_card_params(const struct cl_dev *d);
CL_WUR int cl_dev_card_ctrl_done(struct cl_dev *d, uint32_t now, int rc);
size_t cl_dev_card_pull(struct cl_dev *d, const uint8_t **p);
CL_WUR int cl_dev_card_sent(struct cl_dev *d, uint32_t now, size_t n);
size_t cl_dev_card_recv_max(const struct cl_dev *d);
uint32_t cl_dev_card_timer(const struct cl_dev *d);          /* microseconds */
void cl_dev_card_elapsed(struct cl_dev *d, uint32_t us);
CL_WUR int cl_dev_card_feed(struct cl_dev *d, uint32_t now, const uint8_t *b, size_t n);
CL_WUR int cl_dev_card_timeout(struct cl_dev *d, uint32_t now);
CL_WUR int cl_dev_card_parity(struct cl_dev *d, uint32_t now, uint8_t c);
/* The line failed (err < 0): as cl_card_fail(). With cfg.apdu_card: see
 * below. */
CL_WUR int cl_dev_card_fail(struct cl_dev *d, uint32_t now, int err);

/* ------------------------------------------------------------ APDU-level card
 * With cfg.apdu_card the card port is a reader that does the transport
 * itself (PC/SC: pcscd reads the ATR, runs PPS and T=0/T=1). The device
 * runs no card engine; the same calls say what the reader must do:
 *
 *   cl_dev_card_want()  CL_WANT_CTRL: cl_dev_card_ctrl() is
 *                         CL_CARD_CTRL_COLD  power the card up (insertion,
 *                                            a cold CARD-RESET): connect,
 *                                            or disconnect + connect
 *                         CL_CARD_CTRL_WARM  reset it keeping power
 *                                            (SCardReconnect RESET_CARD)
 *                       then cl_dev_card_apdu_reset() with the ATR and the
 *                       protocol, or cl_dev_card_fail(d, now, err);
 *                         CL_CARD_CTRL_OFF   release it (SCardDisconnect),
 *                                            then cl_dev_card_ctrl_done();
 *                       CL_WANT_SEND: cl_dev_card_pull() lends the whole
 *                       command APDU; send it (T=0 61xx/6Cxx collected by
 *                       the reader port) and answer cl_dev_card_apdu_done()
 *                       with the whole response (data and SW1 SW2), or
 *                       cl_dev_card_fail() with the transmit error. When
 *                       cl_dev_card_apdu_secure() is true the bytes are a
 *                       PC/SC Part 10 structure instead
 *                       (cl_dev_card_apdu_structure() says which): give a
 *                       PIN_VERIFY_STRUCTURE to the reader's
 *                       FEATURE_VERIFY_PIN_DIRECT control code, a
 *                       PIN_MODIFY_STRUCTURE to its
 *                       FEATURE_MODIFY_PIN_DIRECT one (SCardControl), and
 *                       answer its SW1 SW2 the same way;
 *                       CL_WANT_IDLE: a card is up, nothing to do;
 *                       CL_WANT_CLOSED: no card (or it is off).
 *   cl_dev_card_inserted / cl_dev_card_removed as for a line (a slot
 *   watcher's events); CL_DEV_W_CARD is set for CTRL and SEND.
 * The line calls (_feed, _sent, _timeout, _parity, _timer, _recv_max,
 * _elapsed, _params) have nothing to do in this mode.
 * cl_dev_card_fail() in this mode: CL_ERR_CARD_REMOVED is
 * cl_dev_card_removed(); another error ends the command out (the job sees
 * it; the card stays up) or the reset asked for (the card is released:
 * CTRL OFF follows). Returns CL_OK, CL_ERR_ARG (NULL, err >= 0),
 * CL_ERR_STATE (nothing was asked of the reader).
 * cl_dev_card_ctrl_done() in this mode: only after CTRL OFF (rc ignored);
 * CL_ERR_STATE otherwise (a reset ends with cl_dev_card_apdu_reset() or
 * cl_dev_card_fail()).
 */

/*
 * The reader powered or reset the card as CTRL COLD / WARM asked:
 * atr[0..atr_len) (direct convention, 1..CL_ATR_MAX bytes, taken as the
 * reader hands it over, parsed leniently when it parses) and the protocol
 * running, 0 or 1. The PIN state is cleared; after an insertion
 * CARD-INSERTED goes to the server, after a CARD-RESET the job answers.
 * An ATR of one byte (TS alone: no relay message can carry it) ends the
 * reset as cl_dev_card_fail(d, now, CL_ERR_TRUNCATED) would, CTRL OFF
 * next. Returns CL_OK, CL_ERR_ARG (NULL d, atr NULL, atr_len 0 or above
 * CL_ATR_MAX, protocol above 1), CL_ERR_STATE (no reset was asked, or not
 * cfg.apdu_card).
 */
CL_WUR int cl_dev_card_apdu_reset(struct cl_dev *d, uint32_t now, const uint8_t *atr,
                                  size_t atr_len, uint8_t protocol);

/*
 * The reader's answer to the command pulled: resp[0..len), data and SW1 SW2
 * (for a Part 10 structure the reader's two status bytes). Copied; the
 * command is wiped. A response of fewer than 2 bytes is CL_ERR_PROTOCOL to
 * the job, one above what the request can hold CL_ERR_BUFFER (both still
 * return CL_OK here). Returns CL_OK, CL_ERR_ARG (NULL d, resp NULL with
 * len > 0), CL_ERR_STATE (no command out, or not cfg.apdu_card).
 */
CL_WUR int cl_dev_card_apdu_done(struct cl_dev *d, uint32_t now, const uint8_t *resp,
                                 size_t len);

/* True when the command out (CL_WANT_SEND) is a Part 10 structure
 * (PIN_VERIFY_STRUCTURE or PIN_MODIFY_STRUCTURE) for the reader's PIN pad,
 * not an APDU; false on NULL or otherwise. */
bool cl_dev_card_apdu_secure(const struct cl_dev *d);

/* What the command out (CL_WANT_SEND) is: CL_DEV_PART10_VERIFY (a
 * PIN_VERIFY_STRUCTURE), CL_DEV_PART10_MODIFY (a PIN_MODIFY_STRUCTURE), or
 * CL_DEV_PART10_NONE (an APDU, no command out, NULL d). */
unsigned cl_dev_card_apdu_structure(const struct cl_dev *d);

/*
 * The reader has a PIN pad the device may use (the port found
 * FEATURE_VERIFY_PIN_DIRECT, PC/SC Part 10). With it on, a PIN-VERIFY, or
 * a TXN-APPROVE's PIN after the holder's Confirm, shows "Enter PIN on
 * reader" and sends the template as a PIN_VERIFY_STRUCTURE
 * (cl_dev_part10_verify) instead of asking for digits on the device: the
 * PIN never reaches the device. A template the structure cannot express,
 * PIN-CHANGE (see cl_dev_card_set_pinpad_modify), and every template while
 * it is off use the device's own PIN screen. Only with cfg.apdu_card; NULL
 * does nothing.
 */
void cl_dev_card_set_pinpad(struct cl_dev *d, bool on);

/*
 * The reader's PIN pad can also change PINs (the port found
 * FEATURE_MODIFY_PIN_DIRECT, PC/SC Part 10); independent of
 * cl_dev_card_set_pinpad. With it on, a PIN-CHANGE shows "Change PIN on
 * reader" and sends the template as a PIN_MODIFY_STRUCTURE
 * (cl_dev_part10_modify): old PIN (when the template has one), new PIN and
 * its confirmation (when asked) are all entered on the reader. A template
 * the structure cannot express, and every PIN-CHANGE while it is off, use
 * the device's own PIN screens. Only with cfg.apdu_card; NULL does nothing.
 */
void cl_dev_card_set_pinpad_modify(struct cl_dev *d, bool on);

/*
 * The PC/SC Part 10 PIN_VERIFY_STRUCTURE (the CCID PIN verification data
 * structure, pcsc-lite's reader.h) for relay PIN template p (protocol
 * §5.11), little-endian:
 *   bTimerOut          p->timeout (0: the reader's default)
 *   bTimerOut2         0
 *   bmFormatString     80 (byte units) | position << 3 | format:
 *                      BCD 01 at p->offset, ASCII 02 at p->offset,
 *                      ISO 9564 format 2: BCD 01 at p->offset + 1
 *   bmPINBlockString   length field bits << 4 | PIN block bytes:
 *                      BCD (max + 1) / 2, ASCII max, format 2: 4 bits, 7
 *                      bytes; 8 bits when p->len_offset names a length byte
 *   bmPINLengthFormat  10 | p->len_offset (a length byte, byte units), or
 *                      for format 2 the nibble after the control nibble in
 *                      bit units (p->offset * 8 + 4), else 00
 *   wPINMaxExtraDigit  min << 8 | max (bytes max, min)
 *   bEntryValidationCondition 02 (the reader's OK key)
 *   bNumberMessage     01
 *   wLangId            0409 (bytes 09 04)
 *   bMsgIndex          p->msg_index
 *   bTeoPrologue       00 00 00
 *   ulDataLength       the APDU's length, then abData: the template APDU,
 *                      for format 2 with the control byte 20 and filler FF
 *                      written over the 8-byte block (the reader puts the
 *                      length nibble and the digits in).
 * out NULL (size 0) only checks: *len gets the size. Returns CL_OK, or
 * CL_ERR_ARG (NULL p or len, no PIN offset, an APDU shorter than 6 or
 * above CL_DEV_CMD_MAX, Lc not covering the PIN block), CL_ERR_UNSUPPORTED
 * (a position above 15 units, a PIN block above 15 bytes, an encoding the
 * structure has no format for), CL_ERR_BUFFER (size below *len).
 */
CL_WUR int cl_dev_part10_verify(const struct cl_relay_pin *p, uint8_t *out, size_t size,
                                size_t *len);

/*
 * The PC/SC Part 10 PIN_MODIFY_STRUCTURE (the CCID PIN modification data
 * structure, pcsc-lite's reader.h) for relay PIN-CHANGE template p
 * (protocol §5.11), little-endian. Positions in bmFormatString and
 * bmPINLengthFormat are inside each PIN block; the blocks sit at the
 * insertion offsets (bytes from the start of the APDU's data):
 *   bTimerOut          p->timeout (0: the reader's default)
 *   bTimerOut2         0
 *   bmFormatString     80 (byte units) | position << 3 | format:
 *                      BCD 01 at 0, ASCII 02 at 0, ISO 9564 format 2:
 *                      BCD 01 at 1 (after the control byte)
 *   bmPINBlockString   length field bits << 4 | PIN digit bytes:
 *                      BCD (max + 1) / 2, ASCII max, format 2: 4 bits, 7
 *   bmPINLengthFormat  format 2: 04 (bit units, after the control nibble),
 *                      else 00
 *   bInsertionOffsetOld p->offset, 00 when the template has no old PIN
 *   bInsertionOffsetNew p->new_offset
 *   wPINMaxExtraDigit  min << 8 | max (bytes max, min)
 *   bConfirmPIN        p->confirm (bit 0) | 02 when there is an old PIN
 *   bEntryValidationCondition 02 (the reader's OK key)
 *   bNumberMessage     the prompts: old (when present) + new + confirm
 *                      (when asked), 1..3
 *   wLangId            0409 (bytes 09 04)
 *   bMsgIndex1..3      the prompts in order, old 00, new 01, confirm 02,
 *                      unused 00
 *   bTeoPrologue       00 00 00
 *   ulDataLength       the APDU's length, then abData: the template APDU,
 *                      for format 2 with 20 FF FF FF FF FF FF FF written
 *                      over each 8-byte block.
 * out NULL (size 0) only checks: *len gets the size. Returns CL_OK, or
 * CL_ERR_ARG (NULL p or len, no new PIN offset, confirm above 1, an APDU
 * shorter than 6 or above CL_DEV_CMD_MAX, Lc not covering a PIN block, the
 * old and new blocks overlapping), CL_ERR_UNSUPPORTED (a PIN block above
 * 15 digit bytes, a length byte (p->len_offset: one field cannot describe
 * two PINs) for BCD or ASCII, an encoding the structure has no format
 * for), CL_ERR_BUFFER (size below *len).
 */
CL_WUR int cl_dev_part10_modify(const struct cl_relay_pin *p, uint8_t *out, size_t size,
                                size_t *len);

/* ------------------------------------------------------------ network */

/* The transport is up: the session sends HELLO (resuming when it holds a
 * session). Returns cl_relay_device_connect()'s result. */
CL_WUR int cl_dev_net_up(struct cl_dev *d, uint32_t now);

/* The transport is gone: the session is kept for resumption; a job
 * running goes on and its answer waits in the replay buffer. */
void cl_dev_net_down(struct cl_dev *d, uint32_t now);

/*
 * Bytes from the transport. Every event they raise is handled (requests
 * start jobs) before the call returns.
 * Returns the bytes used (all of them unless the session closed), or
 * cl_relay_session_feed()'s error (the session closed or failed: the
 * device goes on without a server; CL_ERR_ARG on NULL).
 */
CL_WUR int cl_dev_net_feed(struct cl_dev *d, uint32_t now, const uint8_t *b, size_t n);

/*
 * A whole message larger than CL_DEV_MSG_MAX arrived on a transport that
 * delivers whole messages (the lossy link: cl_relay_lossy_take() answered
 * CL_ERR_TOO_LONG and lent start[0..len), its header at least). The
 * session answers it with ERROR TOO_LARGE and goes on (during the
 * handshake it fails); cl_relay_session_too_large()'s results. On a byte
 * stream there is no such call: feed() fails with CL_ERR_TOO_LONG.
 */
CL_WUR int cl_dev_net_too_large(struct cl_dev *d, uint32_t now, const uint8_t *start,
                                size_t len);

/* The next bytes for the transport, valid until the next call on d; 0
 * when none. */
size_t cl_dev_net_pull(struct cl_dev *d, uint32_t now, const uint8_t **p);

/* n of them went out. Returns CL_OK, CL_ERR_ARG (NULL, n above lent). */
CL_WUR int cl_dev_net_sent(struct cl_dev *d, size_t n);

/* ------------------------------------------------------------ holder */

/*
 * Take the screen waiting (CL_DEV_W_UI) into *s: 1 when one was taken, 0
 * when none, CL_ERR_ARG (NULL). Taking it means it is being shown: a TXN
 * page counts as seen (cl_policy_page_shown), a DISPLAY is answered
 * DISPLAY-DONE.
 */
CL_WUR int cl_dev_ui_take(struct cl_dev *d, struct cl_ui_screen *s);

/*
 * A key press (CL_UI_KEY_CONFIRM, _CANCEL, _UP, _DOWN; digits ignored).
 * The only call that confirms an approval (cl_policy_confirm).
 * Returns CL_OK (also for a key no screen wants), CL_ERR_ARG (NULL).
 */
CL_WUR int cl_dev_ui_key(struct cl_dev *d, uint32_t now, unsigned key);

/*
 * The holder's PIN: digits[0..n), values 0..9, for the PIN screen up.
 * Written into the command the job builds, then digits[0..n) is wiped
 * (whatever the result).
 * Returns CL_OK; CL_ERR_STATE (no PIN screen up); CL_ERR_LENGTH (n
 * outside the template's min..max: the screen stays); CL_ERR_ARG (NULL,
 * a value above 9).
 */
CL_WUR int cl_dev_ui_pin(struct cl_dev *d, uint32_t now, uint8_t *digits, size_t n);

/*
 * A PROMPT's entry: text[0..n), printable ASCII.
 * Returns CL_OK; CL_ERR_STATE (no entry prompt up); CL_ERR_LENGTH (n
 * outside the prompt's range); CL_ERR_ARG.
 */
CL_WUR int cl_dev_ui_entry(struct cl_dev *d, uint32_t now, const uint8_t *text, size_t n);

/* Dispatch a struct cl_ui_event to the three calls above, then wipe it.
 * Returns their result; CL_ERR_ARG for an unknown type. */
CL_WUR int cl_dev_ui_event(struct cl_dev *d, uint32_t now, struct cl_ui_event *ev);

/* ------------------------------------------------------------ clock */

/* Milliseconds until cl_dev_timeout() is due (session keep-alives, HELLO
 * time-out, dead link, the holder's entry time); CL_TIMER_NONE. A
 * keep-alive or acknowledgement that falls due is queued by
 * cl_dev_timeout() (cl_dev_wants() then has CL_DEV_W_NET_SEND until
 * cl_dev_net_pull() takes it) and the timer goes on to the next deadline,
 * so a loop whose transport is busy can sleep until it is not. */
uint32_t cl_dev_timer(const struct cl_dev *d, uint32_t now);

/* The timer ran out (calling it early is harmless). Returns CL_OK,
 * CL_ERR_ARG. */
CL_WUR int cl_dev_timeout(struct cl_dev *d, uint32_t now);

/* ------------------------------------------------------------ tickets */

/*
 * Validate a ticket offline, as a transport validator does, with no
 * server: GET BALANCE (the card's serial), then READ RECORD 1, 2, ... of
 * the e-goods file (SFI 4, `00 B2 rec 24 00`) until a record is unused
 * (status 00), its issuer signature over SHA-256("CLEG" serial payload)
 * verifies with cfg->issuer_pub (digest through cfg.hash of the device,
 * signature through cfg->verify) and cfg->accept takes it; then one USE
 * (`80 56 rec 00 Lc challenge 00`) marks it used and answers the receipt.
 * Nothing is sent after the reads unless a ticket qualifies; nothing goes
 * to the server. The job runs on the card line's events like a relay
 * request; cl_dev_ticket_result() tells when it ended. A relay request
 * arriving meanwhile is answered ERROR STATE.
 * Returns CL_OK (started); CL_ERR_ARG (NULL, no verify port,
 * challenge_len above 64, no hash port in the device's config);
 * CL_ERR_STATE (a job runs, or the card is not in or not active yet).
 */
CL_WUR int cl_dev_validate(struct cl_dev *d, uint32_t now, const struct cl_dev_ticket_cfg *cfg);

/*
 * The last validation's outcome into *out (copied). Returns CL_OK when one
 * ended (out->err says how), CL_ERR_STATE (none started, or still
 * running), CL_ERR_ARG (NULL). out->err:
 *   CL_OK               record out->rec was used now: payload, receipt
 *   CL_ERR_SIGNATURE    no usable ticket, and a record's issuer signature
 *                       did not verify (a forged or altered ticket)
 *   CL_ERR_DUPLICATE    no usable ticket, and a record was already used
 *                       (also USE answering 6985)
 *   CL_ERR_NOT_FOUND    no ticket on the card (or none the validator accepts)
 *   CL_ERR_CARD_REMOVED the card left during the validation
 *   CL_ERR_SW           the card refused a command (out->sw)
 *   CL_ERR_MALFORMED    a record or GET BALANCE answer does not parse
 *   CL_ERR_CRYPTO, CL_ERR_UNSUPPORTED  the hash port failed
 *   the card engine's errors (time-out, protocol) otherwise.
 */
CL_WUR int cl_dev_ticket_result(const struct cl_dev *d, struct cl_dev_ticket *out);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_DEVICE_H */
