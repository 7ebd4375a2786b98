/*
 * cardlink — relay message codec: the field tables (docs/protocol.md §5).
 * SPDX-License-Identifier: Apache-2.0
 *
 * One row per field, per message type, in ascending field number: what the
 * walker (relay_msg_walk.c) needs to decode and encode every body. Each
 * table mirrors a field table of §5.x; change them together.
 */
#include <string.h>

#include "relay_msg_int.h"

#define OFF(T, f) ((uint8_t)offsetof(T, f))
#define U8(n, T, f, fl, r) { 0x80 | n, CL_RM_U8 | (fl), OFF(T, f), r }
#define U16(n, T, f, fl, lo) { 0x80 | n, CL_RM_U16 | (fl), OFF(T, f), lo }
#define PAIR(n, T, f, fl) { 0x80 | n, CL_RM_PAIR | (fl), OFF(T, f), 0 }
#define BYTES(n, T, f, fl, r, c) { 0x80 | n, CL_RM_BYTES | (fl), OFF(T, f), (r) | (c) << 4 }
#define TXNID(n, T, f, fl) { 0x80 | n, CL_RM_TXNID | (fl), OFF(T, f), 0 }
#define U32(n, T, f, fl) { 0x80 | n, CL_RM_U32 | (fl), OFF(T, f), 0 }

/* Size ranges of byte-string fields (BYTES p & 15). */
enum { S_VERSIONS, S_1_32, S_TOKEN, S_1_64, S_ATR, S_CAPDU, S_RAPDU, S_DISPLAY, S_PROMPT,
       S_TEMPLATE, S_TXN, S_CHALLENGE, S_SIGNATURE, S_GATE_SIG };

const uint16_t cl_rm_range[][2] = {
    { 1, 8 }, { 1, 32 }, { CL_RELAY_TOKEN_MIN, CL_RELAY_TOKEN_MAX }, { 1, 64 },
    { 2, CL_ATR_MAX }, { 4, 0xFFFF }, { 2, 0xFFFF }, { 0, 512 }, { 1, 128 },
    { 6, 261 }, { 1, 4096 }, { 8, 64 }, { 1, CL_RELAY_SIGNATURE_MAX }, { 8, CL_RELAY_GATE_SIG_MAX },
};

/* One-byte fields (U8 p): the default (or "absent") and the allowed range. */
enum { B_ANY, B_NZ, B_BOOL, B_PROTO, B_NONE, B_1_3, B_0_3, B_0_2, B_DIGEST, B_GATE };

const uint8_t cl_rm_u8[][3] = {
    { 0, 0, 255 },                                                  /* B_ANY */
    { 0, 1, 255 },                                                  /* B_NZ */
    { 0, 0, 1 },                                                    /* B_BOOL */
    { CL_RELAY_NONE, 0, CL_RELAY_PROTO_APDU },                      /* B_PROTO */
    { CL_RELAY_NONE, 0, 255 },                                      /* B_NONE */
    { 0, 1, 3 },                                                    /* B_1_3 */
    { 0, 0, 3 },                                                    /* B_0_3 */
    { 0, 0, 2 },                                                    /* B_0_2 */
    { CL_RELAY_DIGEST_SHA256, CL_RELAY_DIGEST_SHA256, CL_RELAY_DIGEST_SHA384 }, /* B_DIGEST */
    { 0, 0, CL_RELAY_GATE_UNAVAILABLE },                            /* B_GATE */
};

const uint8_t cl_rm_sign_default[4] = { 0x00, 0x2A, 0x9E, 0x9A };

/* Where each table starts in cl_rm_fields (the counts are the steps). */
enum {
    R_HELLO = 0, R_HELLO_ACK = R_HELLO + 5, R_CLOSE = R_HELLO_ACK + 6, R_ERROR = R_CLOSE + 2,
    R_CARD = R_ERROR + 2, R_RRESULT = R_CARD + 2, R_RSTATUS = R_RRESULT + 3,
    R_RESET = R_RSTATUS + 1, R_APDU = R_RESET + 1, R_RAPDU = R_APDU + 2,
    R_SCRIPT = R_RAPDU + 1, R_SRESULT = R_SCRIPT + 3, R_DISPLAY = R_SRESULT + 3,
    R_PROMPT = R_DISPLAY + 2, R_PANSWER = R_PROMPT + 4, R_PINV = R_PANSWER + 2,
    R_PINC = R_PINV + 7, R_PINR = R_PINC + 9, R_TXN = R_PINR + 2, R_TXNR = R_TXN + 6,
    R_CAPS = R_TXNR + 5, R_ACT = R_CAPS + 8, R_ACTR = R_ACT + 7, R_END = R_ACTR + 2
};

#define PIN_COMMON(offset_flags)                                                       \
    BYTES(0, struct cl_relay_pin, apdu, CL_RM_MAND, S_TEMPLATE, CL_RM_C_APDU),         \
    U8(1, struct cl_relay_pin, encoding, CL_RM_MAND, B_1_3),                           \
    PAIR(2, struct cl_relay_pin, min_len, CL_RM_MAND),                                 \
    U8(3, struct cl_relay_pin, offset, offset_flags, B_NONE),                          \
    U8(4, struct cl_relay_pin, len_offset, CL_RM_SENT, B_NONE),                        \
    U8(5, struct cl_relay_pin, timeout, 0, B_ANY),                                     \
    U8(6, struct cl_relay_pin, msg_index, 0, B_0_2)

const struct cl_rm_field cl_rm_fields[] = {
    /* R_HELLO (§5.1) */
    BYTES(0, struct cl_relay_hello, versions, CL_RM_MAND, S_VERSIONS, CL_RM_C_NZ),
    BYTES(1, struct cl_relay_hello, device_id, CL_RM_MAND, S_1_32, CL_RM_C_ANY),
    { 0xA2, CL_RM_NEST | CL_RM_MAND, OFF(struct cl_relay_hello, caps), CL_RM_SLOT_CAPS },
    BYTES(3, struct cl_relay_hello, token, 0, S_TOKEN, CL_RM_C_ANY),
    BYTES(16, struct cl_relay_hello, software, 0, S_1_32, CL_RM_C_TEXT),
    /* R_HELLO_ACK (§5.2) */
    U8(0, struct cl_relay_hello_ack, version, CL_RM_MAND, B_NZ),
    BYTES(1, struct cl_relay_hello_ack, token, CL_RM_MAND, S_TOKEN, CL_RM_C_ANY),
    U8(2, struct cl_relay_hello_ack, flags, 0, B_BOOL),   /* CL_RELAY_HELLO_RESUMED */
    U16(3, struct cl_relay_hello_ack, keepalive, 0, 0),
    U16(4, struct cl_relay_hello_ack, max_msg, 0, CL_RELAY_HEADER_LEN),
    BYTES(16, struct cl_relay_hello_ack, text, 0, S_1_32, CL_RM_C_TEXT),
    /* R_CLOSE (§5.4) */
    U8(0, struct cl_relay_status, code, CL_RM_MAND, B_ANY),
    BYTES(16, struct cl_relay_status, text, 0, S_1_64, CL_RM_C_TEXT),
    /* R_ERROR (§5.5) */
    U8(0, struct cl_relay_status, code, CL_RM_MAND, B_NZ),
    BYTES(16, struct cl_relay_status, text, 0, S_1_64, CL_RM_C_TEXT),
    /* R_CARD: CARD-INSERTED (§5.6) */
    BYTES(0, struct cl_relay_card, atr, CL_RM_MAND, S_ATR, CL_RM_C_ANY),
    U8(1, struct cl_relay_card, protocol, CL_RM_MAND, B_PROTO),
    /* R_RRESULT: CARD-RESET-RESULT (§5.13) */
    BYTES(0, struct cl_relay_card, atr, 0, S_ATR, CL_RM_C_ANY),
    U8(1, struct cl_relay_card, protocol, 0, B_PROTO),
    U8(2, struct cl_relay_card, error, CL_RM_SENT, B_ANY),
    /* R_RSTATUS: READER-STATUS (§5.6) */
    { 0x80, CL_RM_U8 | CL_RM_MAND, 0, B_ANY },
    /* R_RESET: CARD-RESET (§5.13): RESET_WARM (0) or RESET_COLD (1) */
    { 0x80, CL_RM_U8, 0, B_BOOL },
    /* R_APDU (§5.7) */
    BYTES(0, struct cl_relay_apdu, apdu, CL_RM_MAND, S_CAPDU, CL_RM_C_APDU),
    TXNID(1, struct cl_relay_apdu, txn_id, 0),
    /* R_RAPDU */
    BYTES(0, struct cl_relay_apdu, apdu, CL_RM_MAND, S_RAPDU, CL_RM_C_ANY),
    /* R_SCRIPT (§5.8) */
    U8(0, struct cl_relay_script, options, 0, B_BOOL),    /* CL_RELAY_SCRIPT_CONTINUE */
    TXNID(1, struct cl_relay_script, txn_id, 0),
    { 0xA2, CL_RM_STEPS | CL_RM_MAND, 0, 0 },
    /* R_SRESULT */
    U8(0, struct cl_relay_script_result, mismatch, CL_RM_SENT, B_NONE),
    U8(1, struct cl_relay_script_result, error, CL_RM_SENT, B_ANY),
    { 0xA2, CL_RM_RESPS | CL_RM_MAND, 0, 0 },
    /* R_DISPLAY (§5.9) */
    BYTES(0, struct cl_relay_display, text, CL_RM_MAND, S_DISPLAY, CL_RM_C_TEXT_LF),
    U8(1, struct cl_relay_display, duration, 0, B_ANY),
    /* R_PROMPT (§5.10) */
    U8(0, struct cl_relay_prompt, kind, CL_RM_MAND, B_1_3),   /* PROMPT_TEXT..YESNO */
    BYTES(1, struct cl_relay_prompt, text, CL_RM_MAND, S_PROMPT, CL_RM_C_TEXT_LF),
    PAIR(2, struct cl_relay_prompt, min_len, CL_RM_SENT),
    U8(3, struct cl_relay_prompt, timeout, 0, B_ANY),
    /* R_PANSWER */
    U8(0, struct cl_relay_prompt_answer, result, CL_RM_MAND, B_0_3),  /* ..ANSWER_TIMEOUT */
    BYTES(1, struct cl_relay_prompt_answer, value, 0, S_1_64, CL_RM_C_TEXT),
    /* R_PINV (§5.11), also TXN-APPROVE's template */
    PIN_COMMON(CL_RM_MAND),
    /* R_PINC */
    PIN_COMMON(CL_RM_SENT),
    U8(7, struct cl_relay_pin, new_offset, CL_RM_MAND, B_NONE),
    U8(8, struct cl_relay_pin, confirm, 0, B_BOOL),
    /* R_PINR */
    U16(0, struct cl_relay_pin_result, sw, CL_RM_SW, 0),
    U8(1, struct cl_relay_pin_result, error, CL_RM_SENT, B_ANY),
    /* R_TXN (§5.12) */
    TXNID(0, struct cl_relay_txn_approve, txn_id, CL_RM_MAND),
    BYTES(1, struct cl_relay_txn_approve, txn, CL_RM_MAND, S_TXN, CL_RM_C_DER),
    BYTES(2, struct cl_relay_txn_approve, challenge, CL_RM_MAND, S_CHALLENGE, CL_RM_C_ANY),
    { 0xA3, CL_RM_NEST | CL_RM_HAS, OFF(struct cl_relay_txn_approve, pin), 13 /* PIN-VERIFY */ },
    { 0x84, CL_RM_RAW4, OFF(struct cl_relay_txn_approve, sign_cmd), 0 },
    U8(5, struct cl_relay_txn_approve, digest, 0, B_DIGEST),
    /* R_TXNR */
    TXNID(0, struct cl_relay_txn_result, txn_id, CL_RM_MAND),
    U8(1, struct cl_relay_txn_result, result, CL_RM_MAND, B_0_2),   /* ..TXN_FAILED */
    BYTES(2, struct cl_relay_txn_result, signature, 0, S_SIGNATURE, CL_RM_C_ANY),
    U16(3, struct cl_relay_txn_result, sw, CL_RM_SW, 0),
    U8(4, struct cl_relay_txn_result, error, CL_RM_SENT, B_ANY),
    /* R_CAPS: HELLO capabilities (§5.1); 0 is "absent" in the struct */
    U8(0, struct cl_relay_caps, interfaces, 0, B_ANY),
    PAIR(1, struct cl_relay_caps, display_cols, CL_RM_SENT),
    U8(2, struct cl_relay_caps, input, 0, B_ANY),
    U8(3, struct cl_relay_caps, printer_cols, CL_RM_SENT, B_ANY),
    U16(4, struct cl_relay_caps, max_msg, 0, CL_RELAY_HEADER_LEN),
    { 0x85, CL_RM_QUAD, OFF(struct cl_relay_caps, max_cmd_apdu), 0 },
    U16(6, struct cl_relay_caps, features, 0, 0),
    U8(7, struct cl_relay_caps, script_steps, CL_RM_SENT, B_ANY),
    /* R_ACT: ACTUATE (§5.14) */
    TXNID(0, struct cl_relay_actuate, txn_id, CL_RM_MAND),
    U16(1, struct cl_relay_actuate, action, CL_RM_MAND, 1),
    BYTES(2, struct cl_relay_actuate, device_id, CL_RM_MAND, S_1_32, CL_RM_C_ANY),
    TXNID(3, struct cl_relay_actuate, nonce, CL_RM_MAND),
    U32(4, struct cl_relay_actuate, not_before, CL_RM_MAND),
    U32(5, struct cl_relay_actuate, not_after, CL_RM_MAND),
    BYTES(6, struct cl_relay_actuate, signature, CL_RM_MAND, S_GATE_SIG, CL_RM_C_ANY),
    /* R_ACTR: ACTUATE-RESULT */
    TXNID(0, struct cl_relay_actuate_result, txn_id, CL_RM_MAND),
    U8(1, struct cl_relay_actuate_result, result, CL_RM_MAND, B_GATE),
};

/* Compile-time checks: the row count, offsets and sizes fit a byte. */
typedef char cl_rm_rows_ok[sizeof(cl_rm_fields) / sizeof(cl_rm_fields[0]) == R_END ? 1 : -1];
typedef char cl_rm_size_ok[sizeof(struct cl_relay_txn_approve) <= 255 &&
                           sizeof(struct cl_relay_hello) <= 255 &&
                           offsetof(struct cl_relay_script, steps) <= 255 &&
                           offsetof(struct cl_relay_script_result, resp) <= 255 ? 1 : -1];
/* A byte string's range index and content share its p byte (4 bits each). */
typedef char cl_rm_nibbles_ok[sizeof(cl_rm_range) / sizeof(cl_rm_range[0]) <= 16 &&
                              CL_RM_C_DER <= 15 ? 1 : -1];

#define T(first, n, member) { first, n, (uint8_t)sizeof(((struct cl_relay_msg *)0)->u.member) }

/* By slot (cl_rm_slot). */
const struct cl_rm_type cl_rm_types[] = {
    T(R_HELLO, 5, hello),                        /* 01 */
    T(R_HELLO_ACK, 6, hello_ack),                /* 02 */
    { 0, 0, 0 },                                 /* 03 KEEPALIVE */
    T(R_CLOSE, 2, status),                       /* 04 */
    T(R_ERROR, 2, status),                       /* 10 */
    T(R_APDU, 2, apdu),                          /* 20 */
    T(R_RAPDU, 1, apdu),                         /* 21 */
    { R_SCRIPT, 3, (uint8_t)offsetof(struct cl_relay_script, steps) },
    { R_SRESULT, 3, (uint8_t)offsetof(struct cl_relay_script_result, resp) },
    T(R_DISPLAY, 2, display),                    /* 24 */
    { 0, 0, 0 },                                 /* 25 DISPLAY-DONE */
    T(R_PROMPT, 4, prompt),                      /* 26 */
    T(R_PANSWER, 2, prompt_answer),              /* 27 */
    T(R_PINV, 7, pin),                           /* 28 */
    T(R_PINR, 2, pin_result),                    /* 29 */
    T(R_PINC, 9, pin),                           /* 2A */
    T(R_PINR, 2, pin_result),                    /* 2B */
    T(R_TXN, 6, txn),                            /* 2C */
    T(R_TXNR, 5, txn_result),                    /* 2D */
    T(R_RESET, 1, reset_mode),                   /* 2E */
    T(R_RRESULT, 3, card),                       /* 2F */
    T(R_CARD, 2, card),                          /* 30 */
    { 0, 0, 0 },                                 /* 31 CARD-REMOVED */
    T(R_RSTATUS, 1, reader_status),              /* 32 */
    { R_CAPS, 8, 0 },                            /* CL_RM_SLOT_CAPS */
    T(R_ACT, 7, actuate),                        /* 40 CL_RM_SLOT_ACTUATE */
    T(R_ACTR, 2, actuate_result),                /* 41 */
};

/* Names by slot, NUL-separated. */
static const char names[] =
    "HELLO\0HELLO-ACK\0KEEPALIVE\0CLOSE\0ERROR\0APDU\0APDU-RESPONSE\0SCRIPT\0"
    "SCRIPT-RESULT\0DISPLAY\0DISPLAY-DONE\0PROMPT\0PROMPT-ANSWER\0PIN-VERIFY\0"
    "PIN-VERIFY-RESULT\0PIN-CHANGE\0PIN-CHANGE-RESULT\0TXN-APPROVE\0TXN-RESULT\0"
    "CARD-RESET\0CARD-RESET-RESULT\0CARD-INSERTED\0CARD-REMOVED\0READER-STATUS\0"
    "\0ACTUATE\0ACTUATE-RESULT";   /* the capabilities' slot has no name */

int cl_rm_slot(uint8_t type)
{
    if (type - 1u < 4u)
        return type - 1;
    if (type == CL_RELAY_ERROR)
        return 4;
    if (type - (unsigned)CL_RELAY_APDU <= (unsigned)(CL_RELAY_READER_STATUS - CL_RELAY_APDU))
        return type - CL_RELAY_APDU + 5;
    if (type == CL_RELAY_ACTUATE || type == CL_RELAY_ACTUATE_RESULT)
        return type - CL_RELAY_ACTUATE + CL_RM_SLOT_ACTUATE;
    return -1;
}

void cl_rm_default(const struct cl_rm_field *d, uint8_t *base)
{
    unsigned kind = d->kf & CL_RM_KIND;

    if (kind == CL_RM_U8)
        base[d->off] = cl_rm_u8[d->p][0];
    else if (kind == CL_RM_RAW4)
        memcpy(base + d->off, cl_rm_sign_default, 4);
    else if (kind == CL_RM_NEST)
        cl_rm_defaults(&cl_rm_types[d->p], base + d->off);
}

void cl_rm_defaults(const struct cl_rm_type *t, uint8_t *base)
{
    const struct cl_rm_field *d = cl_rm_fields + t->first, *end = d + t->n;

    for (; d < end; d++)
        cl_rm_default(d, base);
}

/* see cardlink/relay_msg.h */
void cl_relay_msg_init(struct cl_relay_msg *m, uint8_t type)
{
    int slot = cl_rm_slot(type);

    memset(m, 0, sizeof(*m));
    m->type = type;
    if (slot >= 0)
        cl_rm_defaults(&cl_rm_types[slot], (uint8_t *)&m->u);
    if (type == CL_RELAY_PIN_VERIFY)   /* a field the verify table lacks */
        m->u.pin.new_offset = CL_RELAY_NONE;
}

/* see cardlink/relay_msg.h */
const char *cl_relay_type_name(uint8_t type)
{
    const char *p = names;
    int slot = cl_rm_slot(type);

    if (slot < 0)
        return "?";
    while (slot--)
        while (*p++ != '\0') {
        }
    return p;
}
