/*
 * cardlink — relay protocol messages: the codec (docs/protocol.md).
 * SPDX-License-Identifier: Apache-2.0
 *
 * A relay message is an 8-byte header (magic/version C1, type, flags, seq,
 * ack, ref, body length) and a body of BER-TLV fields (docs/protocol.md §2,
 * §3). struct cl_relay_msg holds one decoded message: the header values and
 * a union with one member per message family. Variable-size data (APDUs,
 * texts, tokens, ids) is never copied: decoded pointers point into the
 * caller's input buffer, and the encoder reads from wherever the caller's
 * pointers point. Nothing allocates.
 *
 * Absent optional fields: byte strings have len 0 (and data NULL after
 * decoding), transaction ids are NULL, and the integer fields hold their
 * default (0 unless stated) or CL_RELAY_NONE where 0 is a meaningful value.
 * cl_relay_msg_init() sets all of that up for a message to be encoded.
 *
 * Encoding is canonical: fields in ascending tag order, minimal lengths,
 * optional fields left out when they hold their default or "absent" value;
 * the HELLO capabilities, whose struct value 0 means absent, are sent
 * whenever set, a value equal to the receiver's default included
 * (docs/protocol.md §3). Decoding checks
 * everything the specification states about the syntax and returns the
 * error it names; cl_relay_encode() applies the same checks to the struct,
 * so what it writes always decodes again, to the same struct.
 *
 * The codec keeps to syntax (sizes, tags, ranges, enumerations, offsets
 * inside the command, non-overlapping regions). What a command may do is
 * device policy and not its business: a PIN template with any CLA/INS and a
 * TXN-APPROVE with any sign command header decode; the device refuses them
 * with lib/policy (cardlink/policy.h) before acting on them.
 */
#ifndef CARDLINK_RELAY_MSG_H
#define CARDLINK_RELAY_MSG_H

#include "cardlink/defs.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CL_RELAY_MAGIC 0xC1u          /* byte 0: magic C, header format 1 */
#define CL_RELAY_HEADER_LEN 8u
#define CL_RELAY_BODY_MAX 65535u
#define CL_RELAY_MSG_MAX (CL_RELAY_HEADER_LEN + CL_RELAY_BODY_MAX)
#define CL_RELAY_TXN_ID_LEN 16u
#define CL_RELAY_TOKEN_MIN 8u
#define CL_RELAY_TOKEN_MAX 32u
#define CL_RELAY_VERSION 1u           /* the protocol version this code speaks */

/* Most steps in a SCRIPT (and responses in a SCRIPT-RESULT) a decoded
 * message can hold; more is CL_ERR_TOO_LONG (wire TOO_LARGE, §6). 1..254.
 * A device announces at most this many in HELLO capability 87. */
#ifndef CL_RELAY_SCRIPT_MAX
#define CL_RELAY_SCRIPT_MAX 32
#endif
#if CL_RELAY_SCRIPT_MAX < 1 || CL_RELAY_SCRIPT_MAX > 254
#error "CL_RELAY_SCRIPT_MAX must be 1..254"
#endif

/* "Absent" for one-byte fields whose 0 means something (offsets, indexes,
 * the card protocol). */
#define CL_RELAY_NONE 0xFFu

/* Message types (docs/protocol.md §4). */
enum cl_relay_type {
    CL_RELAY_HELLO = 0x01,
    CL_RELAY_HELLO_ACK = 0x02,
    CL_RELAY_KEEPALIVE = 0x03,
    CL_RELAY_CLOSE = 0x04,
    CL_RELAY_ERROR = 0x10,
    CL_RELAY_APDU = 0x20,
    CL_RELAY_APDU_RESPONSE = 0x21,
    CL_RELAY_SCRIPT = 0x22,
    CL_RELAY_SCRIPT_RESULT = 0x23,
    CL_RELAY_DISPLAY = 0x24,
    CL_RELAY_DISPLAY_DONE = 0x25,
    CL_RELAY_PROMPT = 0x26,
    CL_RELAY_PROMPT_ANSWER = 0x27,
    CL_RELAY_PIN_VERIFY = 0x28,
    CL_RELAY_PIN_VERIFY_RESULT = 0x29,
    CL_RELAY_PIN_CHANGE = 0x2A,
    CL_RELAY_PIN_CHANGE_RESULT = 0x2B,
    CL_RELAY_TXN_APPROVE = 0x2C,
    CL_RELAY_TXN_RESULT = 0x2D,
    CL_RELAY_CARD_RESET = 0x2E,
    CL_RELAY_CARD_RESET_RESULT = 0x2F,
    CL_RELAY_CARD_INSERTED = 0x30,
    CL_RELAY_CARD_REMOVED = 0x31,
    CL_RELAY_READER_STATUS = 0x32,
    CL_RELAY_ACTUATE = 0x40,          /* §5.14: the second request block 40..4F */
    CL_RELAY_ACTUATE_RESULT = 0x41
};

/* Header flags (§2). */
#define CL_RELAY_F_ACK 0x01u      /* ack field valid */
#define CL_RELAY_F_REPLAY 0x02u   /* retransmitted after resumption */
#define CL_RELAY_F_REF 0x04u      /* ref field valid: this answers request ref */
#define CL_RELAY_F_RESERVED 0xF8u

/* Type classes (§4): requests are the even types of 20..2F and 40..4F,
 * their answers the odd ones. */
#define CL_RELAY_IS_SEQUENCED(t) ((unsigned)(t) >= 0x10u)
#define CL_RELAY_IS_EXCHANGE(t) (((unsigned)(t) & 0xF0u) == 0x20u || ((unsigned)(t) & 0xF0u) == 0x40u)
#define CL_RELAY_IS_REQUEST(t) (CL_RELAY_IS_EXCHANGE(t) && ((unsigned)(t) & 1u) == 0u)
#define CL_RELAY_IS_ANSWER(t) (CL_RELAY_IS_EXCHANGE(t) && ((unsigned)(t) & 1u) == 1u)

/* Wire error codes (§6). */
enum cl_relay_code {
    CL_RELAY_E_NONE = 0x00,
    CL_RELAY_E_MALFORMED = 0x01,
    CL_RELAY_E_UNSUPPORTED = 0x02,
    CL_RELAY_E_VERSION = 0x03,
    CL_RELAY_E_SEQUENCE = 0x04,
    CL_RELAY_E_TOO_LARGE = 0x05,
    CL_RELAY_E_STATE = 0x06,
    CL_RELAY_E_NO_CARD = 0x07,
    CL_RELAY_E_CARD_MUTE = 0x08,
    CL_RELAY_E_CARD_IO = 0x09,
    CL_RELAY_E_DENIED = 0x0A,
    CL_RELAY_E_CANCELLED = 0x0B,
    CL_RELAY_E_TIMEOUT = 0x0C,
    CL_RELAY_E_DUPLICATE = 0x0D,
    CL_RELAY_E_LIMIT = 0x0E,
    CL_RELAY_E_SHUTDOWN = 0x0F,
    CL_RELAY_E_INTERNAL = 0x10,
    CL_RELAY_E_PROTOCOL = 0x11
};

/* Capability bits (HELLO, §5.1). */
#define CL_RELAY_IF_T0 0x01u
#define CL_RELAY_IF_T1 0x02u
#define CL_RELAY_IF_CONTACTLESS 0x04u
#define CL_RELAY_IF_APDU_READER 0x08u
#define CL_RELAY_IN_KEYPAD 0x01u
#define CL_RELAY_IN_PINPAD 0x02u
#define CL_RELAY_IN_CONFIRM 0x04u
#define CL_RELAY_IN_ALPHA 0x08u
#define CL_RELAY_FEAT_SCRIPT 0x0001u
#define CL_RELAY_FEAT_DISPLAY 0x0002u
#define CL_RELAY_FEAT_PROMPT 0x0004u
#define CL_RELAY_FEAT_PIN_VERIFY 0x0008u
#define CL_RELAY_FEAT_PIN_CHANGE 0x0010u
#define CL_RELAY_FEAT_TXN 0x0020u
#define CL_RELAY_FEAT_CARD_RESET 0x0040u
#define CL_RELAY_FEAT_RESUME 0x0080u
#define CL_RELAY_HELLO_RESUMED 0x01u     /* HELLO-ACK flags */

/* Enumerations of single fields. */
#define CL_RELAY_PROTO_T0 0x00u          /* CARD-INSERTED protocol */
#define CL_RELAY_PROTO_T1 0x01u
#define CL_RELAY_PROTO_APDU 0x02u
#define CL_RELAY_RS_CARD_PRESENT 0x01u   /* READER-STATUS bits */
#define CL_RELAY_RS_POWERED 0x02u
#define CL_RELAY_RS_FAULT 0x04u
#define CL_RELAY_RS_TAMPER 0x08u
#define CL_RELAY_RS_LOW_POWER 0x10u
#define CL_RELAY_SCRIPT_CONTINUE 0x01u   /* SCRIPT options */
#define CL_RELAY_STEP_SW_ONLY 0x01u      /* step options */
#define CL_RELAY_PROMPT_TEXT 0x01u
#define CL_RELAY_PROMPT_NUMERIC 0x02u
#define CL_RELAY_PROMPT_YESNO 0x03u
#define CL_RELAY_ANSWER_OK 0x00u
#define CL_RELAY_ANSWER_NO 0x01u
#define CL_RELAY_ANSWER_CANCELLED 0x02u
#define CL_RELAY_ANSWER_TIMEOUT 0x03u
#define CL_RELAY_PIN_BCD 0x01u
#define CL_RELAY_PIN_ASCII 0x02u
#define CL_RELAY_PIN_ISO9564_2 0x03u
#define CL_RELAY_TXN_APPROVED 0x00u
#define CL_RELAY_TXN_DECLINED 0x01u
#define CL_RELAY_TXN_FAILED 0x02u
#define CL_RELAY_DIGEST_SHA256 0x01u
#define CL_RELAY_DIGEST_SHA384 0x02u
#define CL_RELAY_RESET_WARM 0x00u
#define CL_RELAY_RESET_COLD 0x01u
#define CL_RELAY_GATE_DONE 0x00u         /* ACTUATE-RESULT result (§5.14) */
#define CL_RELAY_GATE_EXPIRED 0x01u      /* device time after not-after */
#define CL_RELAY_GATE_NOT_YET 0x02u      /* device time before not-before */
#define CL_RELAY_GATE_REPLAYED 0x03u     /* nonce used before (or below the floor) */
#define CL_RELAY_GATE_BAD_SIGNATURE 0x04u
#define CL_RELAY_GATE_WRONG_DEVICE 0x05u /* bound to another device id */
#define CL_RELAY_GATE_NO_ACTUATOR 0x06u  /* no actuator, no gate key, or action unknown */
#define CL_RELAY_GATE_ACTUATOR_FAILED 0x07u
#define CL_RELAY_GATE_DENIED 0x08u       /* device policy (validity too long, ...) */
#define CL_RELAY_GATE_UNAVAILABLE 0x09u  /* no wall clock, the store failed */
#define CL_RELAY_GATE_NONCE_LEN 16u
#define CL_RELAY_GATE_SIG_MAX 72u        /* DER ECDSA P-256 */

/* A byte string: data points to len bytes (data may be NULL when len is 0). */
struct cl_relay_bytes {
    const uint8_t *data;
    size_t len;
};

/* HELLO capabilities; 0 (both 0 for pairs) means absent (§5.1 defaults). */
struct cl_relay_caps {
    uint8_t interfaces;        /* CL_RELAY_IF_* */
    uint8_t display_cols, display_rows;
    uint8_t input;             /* CL_RELAY_IN_* */
    uint8_t printer_cols;
    uint16_t max_msg;          /* largest message accepted, header included (a
                                * device session announces at most its buffer) */
    uint16_t max_cmd_apdu, max_resp_apdu;
    uint16_t features;         /* CL_RELAY_FEAT_* */
    uint8_t script_steps;      /* most steps per SCRIPT (a device session
                                * announces at most CL_RELAY_SCRIPT_MAX) */
};

struct cl_relay_hello {
    struct cl_relay_bytes versions;   /* 1..8 versions, each 01..FF */
    struct cl_relay_bytes device_id;  /* 1..32 bytes */
    struct cl_relay_caps caps;
    struct cl_relay_bytes token;      /* 8..32 bytes, len 0 = fresh session */
    struct cl_relay_bytes software;   /* 1..32 text, len 0 = absent */
};

struct cl_relay_hello_ack {
    uint8_t version;                  /* 01..FF */
    struct cl_relay_bytes token;      /* 8..32 bytes */
    uint8_t flags;                    /* CL_RELAY_HELLO_RESUMED */
    uint16_t keepalive;               /* seconds, 0 = none */
    uint16_t max_msg;                 /* 0 = absent */
    struct cl_relay_bytes text;       /* 1..32 text, len 0 = absent */
};

/* CLOSE (code may be CL_RELAY_E_NONE) and ERROR (code 01..FF). */
struct cl_relay_status {
    uint8_t code;                     /* enum cl_relay_code */
    struct cl_relay_bytes text;       /* 1..64 text, len 0 = absent */
};

/* CARD-INSERTED (atr and protocol), CARD-RESET-RESULT (atr and protocol,
 * or error alone: atr.len 0, protocol CL_RELAY_NONE). */
struct cl_relay_card {
    struct cl_relay_bytes atr;        /* 2..33 bytes */
    uint8_t protocol;                 /* CL_RELAY_PROTO_*, or CL_RELAY_NONE */
    uint8_t error;                    /* enum cl_relay_code, 0 = none */
};

/* APDU (command, optional txn id) and APDU-RESPONSE (response only). */
struct cl_relay_apdu {
    struct cl_relay_bytes apdu;
    const uint8_t *txn_id;            /* CL_RELAY_TXN_ID_LEN bytes or NULL */
};

/* Expected status word of a script step (§5.8). */
enum cl_relay_expect_kind {
    CL_RELAY_EXPECT_SUCCESS = 0,      /* 9000 or 61xx (field absent) */
    CL_RELAY_EXPECT_EXACT = 1,        /* sw == value */
    CL_RELAY_EXPECT_MASKED = 2        /* (sw & mask) == value, mask != FFFF */
};

struct cl_relay_expect {
    uint8_t kind;                     /* enum cl_relay_expect_kind */
    uint16_t value;
    uint16_t mask;                    /* MASKED only */
};

struct cl_relay_step {
    struct cl_relay_bytes apdu;
    struct cl_relay_expect expect;
    uint8_t options;                  /* CL_RELAY_STEP_SW_ONLY */
};

struct cl_relay_script {
    uint8_t options;                  /* CL_RELAY_SCRIPT_CONTINUE */
    const uint8_t *txn_id;            /* or NULL */
    size_t nsteps;                    /* 1..CL_RELAY_SCRIPT_MAX */
    struct cl_relay_step steps[CL_RELAY_SCRIPT_MAX];
};

struct cl_relay_script_result {
    uint8_t mismatch;                 /* first mismatching step or CL_RELAY_NONE */
    uint8_t error;                    /* enum cl_relay_code, 0 = none */
    size_t nresp;                     /* 0..CL_RELAY_SCRIPT_MAX */
    struct cl_relay_bytes resp[CL_RELAY_SCRIPT_MAX];
};

struct cl_relay_display {
    struct cl_relay_bytes text;       /* 0..512, printable ASCII and LF */
    uint8_t duration;                 /* seconds, 0 = until replaced */
};

struct cl_relay_prompt {
    uint8_t kind;                     /* CL_RELAY_PROMPT_* */
    struct cl_relay_bytes text;       /* 1..128, printable ASCII and LF */
    uint8_t min_len, max_len;         /* both 0 for YES/NO; max 1..64 otherwise */
    uint8_t timeout;                  /* seconds, 0 = device default */
};

struct cl_relay_prompt_answer {
    uint8_t result;                   /* CL_RELAY_ANSWER_* */
    struct cl_relay_bytes value;      /* 0..64 text, only with OK */
};

/* PIN-VERIFY / PIN-CHANGE template (§5.11); also TXN-APPROVE's PIN. */
struct cl_relay_pin {
    struct cl_relay_bytes apdu;       /* short case 3 or 4 (any CLA/INS: the
                                       * INS rule is lib/policy's) */
    uint8_t encoding;                 /* CL_RELAY_PIN_* */
    uint8_t min_len, max_len;         /* 1 <= min <= max <= 16 (14 format 2) */
    uint8_t offset;                   /* PIN (old PIN) data offset, or NONE */
    uint8_t len_offset;               /* length byte offset, or NONE */
    uint8_t timeout;                  /* seconds, 0 = device default */
    uint8_t msg_index;                /* 0..2 */
    uint8_t new_offset;               /* PIN-CHANGE: new PIN offset (ignored */
    uint8_t confirm;                  /* PIN-CHANGE: 0 or 1   for PIN-VERIFY) */
};

/* PIN-VERIFY-RESULT / PIN-CHANGE-RESULT: exactly one of sw, error. */
struct cl_relay_pin_result {
    uint16_t sw;                      /* 0 = absent; else SW1 6x or 9x */
    uint8_t error;                    /* enum cl_relay_code, 0 = absent */
};

struct cl_relay_txn_approve {
    const uint8_t *txn_id;            /* CL_RELAY_TXN_ID_LEN bytes */
    struct cl_relay_bytes txn;        /* canonical transaction, DER TLV, 1..4096 */
    struct cl_relay_bytes challenge;  /* 8..64 bytes */
    bool has_pin;
    struct cl_relay_pin pin;          /* a VERIFY template when has_pin */
    uint8_t sign_cmd[4];              /* CLA INS P1 P2, default 00 2A 9E 9A; any
                                       * value decodes (lib/policy judges it) */
    uint8_t digest;                   /* CL_RELAY_DIGEST_*, default SHA-256 */
};

/* The longest card signature a TXN-RESULT carries (RSA-4096). */
#define CL_RELAY_SIGNATURE_MAX 512u

struct cl_relay_txn_result {
    const uint8_t *txn_id;
    uint8_t result;                   /* CL_RELAY_TXN_* */
    struct cl_relay_bytes signature;  /* 1..CL_RELAY_SIGNATURE_MAX, iff APPROVED */
    uint16_t sw;                      /* FAILED: 0 = absent */
    uint8_t error;                    /* FAILED: 0 = absent */
};

/* ACTUATE (§5.14): one action the server authorises, signed with its gate
 * key over the gate digest (§5.14: SHA-256 of "CLGA", the device id, the
 * action, the nonce and the window). The codec checks syntax only; the
 * device checks the signature, binding, window and single use. */
struct cl_relay_actuate {
    const uint8_t *txn_id;            /* CL_RELAY_TXN_ID_LEN bytes */
    uint16_t action;                  /* 1..65535 */
    struct cl_relay_bytes device_id;  /* 1..32 bytes: the device it is for */
    const uint8_t *nonce;             /* CL_RELAY_GATE_NONCE_LEN bytes */
    uint32_t not_before, not_after;   /* seconds since 1970 UTC, nb <= na */
    struct cl_relay_bytes signature;  /* 8..72 bytes, DER */
};

/* ACTUATE-RESULT (§5.14). */
struct cl_relay_actuate_result {
    const uint8_t *txn_id;
    uint8_t result;                   /* CL_RELAY_GATE_* */
};

/* One message. type selects the union member:
 *   HELLO hello; HELLO-ACK hello_ack; CLOSE, ERROR status;
 *   APDU, APDU-RESPONSE apdu; SCRIPT script; SCRIPT-RESULT script_result;
 *   DISPLAY display; PROMPT prompt; PROMPT-ANSWER prompt_answer;
 *   PIN-VERIFY, PIN-CHANGE pin; both results pin_result;
 *   TXN-APPROVE txn; TXN-RESULT txn_result; CARD-RESET reset_mode;
 *   CARD-INSERTED, CARD-RESET-RESULT card; READER-STATUS reader_status;
 *   ACTUATE actuate; ACTUATE-RESULT actuate_result;
 *   KEEPALIVE, DISPLAY-DONE, CARD-REMOVED: no body. */
struct cl_relay_msg {
    uint8_t type;                     /* enum cl_relay_type */
    uint8_t flags;                    /* CL_RELAY_F_* */
    uint8_t seq, ack, ref;
    union {
        struct cl_relay_hello hello;
        struct cl_relay_hello_ack hello_ack;
        struct cl_relay_status status;
        struct cl_relay_card card;
        uint8_t reader_status;        /* CL_RELAY_RS_* */
        uint8_t reset_mode;           /* CL_RELAY_RESET_* */
        struct cl_relay_apdu apdu;
        struct cl_relay_script script;
        struct cl_relay_script_result script_result;
        struct cl_relay_display display;
        struct cl_relay_prompt prompt;
        struct cl_relay_prompt_answer prompt_answer;
        struct cl_relay_pin pin;
        struct cl_relay_pin_result pin_result;
        struct cl_relay_txn_approve txn;
        struct cl_relay_txn_result txn_result;
        struct cl_relay_actuate actuate;
        struct cl_relay_actuate_result actuate_result;
    } u;
};

/* The fixed header alone (what the stream deframer looks at). */
struct cl_relay_header {
    uint8_t type, flags, seq, ack, ref;
    uint16_t length;                  /* body bytes */
};

/*
 * Prepare m for encoding a message of this type: everything zero, header
 * values 0, and the fields whose absence is not 0 set to their defaults
 * (CL_RELAY_NONE offsets, mismatch and protocol; sign_cmd 00 2A 9E 9A;
 * digest SHA-256). m must not be NULL. Any type value is accepted.
 */
void cl_relay_msg_init(struct cl_relay_msg *m, uint8_t type);

/*
 * Decode the 8-byte header at in[0..len) without looking at the body or at
 * the type: the checks a stream deframer makes (§12). h must not be NULL
 * and is written only on success.
 * Returns CL_OK, or
 *  CL_ERR_ARG        in is NULL with len > 0;
 *  CL_ERR_TRUNCATED  len < 8;
 *  CL_ERR_MALFORMED  byte 0's high nibble is not C;
 *  CL_ERR_VERSION    byte 0's low nibble is not 1;
 *  CL_ERR_RESERVED   a reserved flag bit is set.
 */
CL_WUR int cl_relay_header_decode(const uint8_t *in, size_t len,
                                  struct cl_relay_header *h);

/*
 * Decode exactly one message of len bytes (header and body). On success
 * *out is filled and its pointers point into in, which must outlive their
 * use; union members other than the type's, and steps or responses past
 * nsteps / nresp, are not touched. On error *out is undefined. Never reads
 * outside in[0..len). When a message has several faults, the error is the
 * one of the first check that fails in the order of docs/protocol.md §15
 * (header, then each field in turn, then the rules between fields).
 * Returns CL_OK, or (docs/protocol.md §15):
 *  CL_ERR_ARG         in or out is NULL;
 *  CL_ERR_TRUNCATED   len < 8 or len < 8 + the header's length;
 *  CL_ERR_TRAILING    len > 8 + the header's length;
 *  CL_ERR_MALFORMED   bad magic; a header rule of §2 broken (seq of an
 *                     unsequenced type, ack/ref without their flag, REF
 *                     missing on an answer or present on another type,
 *                     REPLAY on an unsequenced type); a non-minimal BER
 *                     length; a mandatory field missing; a forbidden field
 *                     combination; a byte outside a text field's set;
 *                     a bad SW expectation (mask, or an exact SW1 not 6X/9X);
 *                     a malformed command APDU or transaction TLV; a size
 *                     field below its minimum (max message < 8, max APDU
 *                     < 4 / < 2); a PIN template out of bounds;
 *  CL_ERR_VERSION     header format (byte 0 low nibble) not 1;
 *  CL_ERR_RESERVED    reserved flag bits; an undefined enumerated value or
 *                     option bit;
 *  CL_ERR_UNSUPPORTED unknown message type; a tag of more than 4 bytes or a
 *                     length field of more than 4 bytes after the first;
 *  CL_ERR_TAG         a field tag of another class than context-specific,
 *                     with the wrong constructed bit, out of order,
 *                     repeated, unknown and critical;
 *  CL_ERR_LENGTH      a field running past its container; a field value
 *                     size outside its range; a command APDU whose length
 *                     fields contradict its size;
 *  CL_ERR_INDEFINITE  an indefinite BER length;
 *  CL_ERR_TOO_LONG    more than CL_RELAY_SCRIPT_MAX steps or responses.
 * It never returns CL_ERR_DENIED: no device policy is applied (a PIN
 * template's CLA/INS and the sign command are lib/policy's to refuse).
 */
CL_WUR int cl_relay_decode(const uint8_t *in, size_t len, struct cl_relay_msg *out);

/*
 * Encode m into out[0..size) canonically; *len is the message length on
 * success (0 on error). out may be NULL when size is 0. The data m points
 * to must not overlap out.
 * Returns CL_OK, or
 *  CL_ERR_ARG          m or len is NULL; out NULL with size > 0; a byte
 *                      string with len > 0 and data NULL; an expectation
 *                      kind that does not exist;
 *  CL_ERR_BUFFER       out is too small;
 *  CL_ERR_TOO_LONG     the body would exceed 65535 bytes (when out is large
 *                      enough for it; else CL_ERR_BUFFER); nsteps or nresp
 *                      above CL_RELAY_SCRIPT_MAX;
 *  CL_ERR_UNSUPPORTED  unknown type;
 *  and every error of cl_relay_decode that describes the content of m
 *  (CL_ERR_MALFORMED, _RESERVED, _LENGTH), for the same reasons, checked
 *  in the same order (fields in table order, then the rules between
 *  fields); a content error is returned before CL_ERR_BUFFER.
 */
CL_WUR int cl_relay_encode(const struct cl_relay_msg *m, uint8_t *out,
                           size_t size, size_t *len);

/* Whether a status word matches an expectation (§5.8). e must not be NULL;
 * an unknown kind matches nothing. */
bool cl_relay_expect_match(const struct cl_relay_expect *e, uint16_t sw);

/* The wire code for an error (§6): CL_OK gives NONE, an error without a
 * wire equivalent gives PROTOCOL (caller, input-format and crypto errors:
 * MALFORMED for the input-format class). */
uint8_t cl_relay_err_to_wire(int err);

/* The cl_err for a wire code (§6): NONE gives CL_OK, reserved codes
 * CL_ERR_PROTOCOL. */
int cl_relay_err_from_wire(uint8_t code);

/* Longest gate digest input (§5.14). */
#define CL_RELAY_GATE_TBS_MAX 63u

/*
 * The bytes an ACTUATE's signature covers, hashed with SHA-256 (§5.14):
 * "CLGA" | len(device id) | device id | action (2) | nonce (16) |
 * not before (4) | not after (4), integers big-endian, into out.
 * Returns the length (31..63), or 0 when a is NULL, its nonce is NULL or
 * its device id is not 1..32 bytes (with data).
 */
CL_WUR size_t cl_relay_gate_tbs(const struct cl_relay_actuate *a,
                                uint8_t out[CL_RELAY_GATE_TBS_MAX]);

/* The specification's name of a message type ("SCRIPT-RESULT"), or "?"
 * for an unknown one. Never NULL. */
const char *cl_relay_type_name(uint8_t type);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_RELAY_MSG_H */
