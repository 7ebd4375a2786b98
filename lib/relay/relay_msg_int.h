/*
 * cardlink — relay message codec internals: the field descriptors that
 * relay_msg_table.c fills in, the walker of relay_msg_walk.c reads and the
 * rules of relay_msg_rules.c check (docs/protocol.md §3, §5, §15).
 * SPDX-License-Identifier: Apache-2.0
 *
 * A message body is described by one row per field, in ascending field
 * number. The walker decodes and encodes every type with the same code;
 * what a row cannot say (rules that tie two fields together) is in
 * cl_rm_rules(), run after the walk on both paths.
 */
#ifndef CARDLINK_RELAY_MSG_INT_H
#define CARDLINK_RELAY_MSG_INT_H

#include "cardlink/error.h"
#include "cardlink/relay_msg.h"

/* Field kinds: how the value is stored at base + off. */
enum cl_rm_kind {
    CL_RM_U8,       /* uint8_t; cl_rm_u8[p]: default, range lo..hi [RESERVED] */
    CL_RM_U16,      /* uint16_t; >= p [MALFORMED], F_SW: a status word */
    CL_RM_PAIR,     /* two uint8_t */
    CL_RM_QUAD,     /* two uint16_t (max APDU sizes: >= 4 and >= 2) */
    CL_RM_BYTES,    /* struct cl_relay_bytes; size range cl_rm_range[p & 15],
                     * content p >> 4 (CL_RM_C_*) */
    CL_RM_TXNID,    /* const uint8_t * to CL_RELAY_TXN_ID_LEN bytes */
    CL_RM_RAW4,     /* uint8_t[4], default cl_rm_sign_default */
    CL_RM_U32,      /* uint32_t, 4 bytes big-endian, any value (0 absent unless MAND) */
    CL_RM_NEST,     /* constructed: the table of slot p (CL_RM_HAS: TXN-APPROVE's
                     * has_pin set when present) */
    CL_RM_STEPS,    /* SCRIPT step list (constructed) */
    CL_RM_RESPS     /* SCRIPT-RESULT response list (constructed) */
};

/* Row flags, beside the kind in kf. */
#define CL_RM_KIND 0x0Fu   /* the kind */
#define CL_RM_MAND 0x10u   /* mandatory */
#define CL_RM_SENT 0x20u   /* the default means "absent": sent explicitly [MALFORMED] */
#define CL_RM_SW 0x40u     /* U16: SW1 6X or 9X [MALFORMED] */
#define CL_RM_HAS 0x40u    /* NEST: the bool has_pin of TXN-APPROVE */

/* What a byte string holds (BYTES p >> 4). */
enum cl_rm_content {
    CL_RM_C_ANY,
    CL_RM_C_NZ,      /* no 00 byte [RESERVED] */
    CL_RM_C_TEXT,    /* printable ASCII [MALFORMED] */
    CL_RM_C_TEXT_LF, /* ... and LF */
    CL_RM_C_APDU,    /* a command APDU */
    CL_RM_C_DER      /* one DER TLV object, checked to its leaves [MALFORMED] */
};

/* One field: four bytes. */
struct cl_rm_field {
    uint8_t tag;    /* 0x80 | number, 0xA0 | number when constructed (< 31) */
    uint8_t kf;     /* kind | CL_RM_MAND | CL_RM_SENT | CL_RM_SW / CL_RM_HAS */
    uint8_t off;    /* offset of the value in the union member */
    uint8_t p;      /* U8: row of cl_rm_u8; U16: minimum; BYTES: range | content;
                     * NEST: slot */
};

/* A message type's body: rows first .. first + n - 1 of cl_rm_fields;
 * zero: bytes of the union member cleared before decoding. */
struct cl_rm_type {
    uint8_t first, n, zero;
};

extern const struct cl_rm_field cl_rm_fields[];
extern const uint16_t cl_rm_range[][2];
extern const uint8_t cl_rm_u8[][3];   /* U8 rows: default, lo, hi */
extern const uint8_t cl_rm_sign_default[4];

/* The slot of a message type (an index into cl_rm_types), or -1 for an
 * unknown type. Slot CL_RM_SLOT_CAPS is HELLO's capabilities. */
int cl_rm_slot(uint8_t type);
extern const struct cl_rm_type cl_rm_types[];
#define CL_RM_SLOT_CAPS 24
#define CL_RM_SLOT_ACTUATE 25   /* then ACTUATE-RESULT */

/* Defaults of the rows of a table into base (U8 def, sign command, nested
 * tables); cl_rm_default: of one row. */
void cl_rm_defaults(const struct cl_rm_type *t, uint8_t *base);
void cl_rm_default(const struct cl_rm_field *d, uint8_t *base);

/* Field-level checks, the same for decoding and encoding. check_bytes:
 * a byte string's size range, then its content (CL_RM_C_*). */
int cl_rm_check_bytes(const struct cl_rm_field *d, const uint8_t *p, size_t len);
int cl_rm_check_expect(const struct cl_relay_expect *e);
int cl_rm_der(const uint8_t *p, size_t len);

/* A command APDU's shape: the rules of cl_apdu_decode() (ISO 7816-4 §5.1)
 * without filling a struct (test_relay.c checks that both agree). */
int cl_rm_apdu(const uint8_t *p, size_t len);

/* A status word: SW1 6X or 9X (ISO 7816-4 §5.6). */
static inline bool cl_rm_sw_ok(uint16_t sw)
{
    unsigned hi = (unsigned)sw >> 12;
    return hi == 0x6u || hi == 0x9u;
}

/* A u16 field's value: a status word (CL_RM_SW) or at least p. */
static inline int cl_rm_check_u16(const struct cl_rm_field *d, uint16_t x)
{
    if ((d->kf & CL_RM_SW) ? !cl_rm_sw_ok(x) : x < d->p)
        return CL_ERR_MALFORMED;
    return CL_OK;
}

/* One BER-TLV at p[0..len) as the relay body reads it (§3). */
struct cl_rm_tlv {
    const uint8_t *v;   /* value */
    size_t len;         /* value bytes */
    size_t total;       /* tag + length + value bytes */
    uint32_t num;       /* tag number */
    bool c;             /* constructed */
    bool ctx;           /* context class, number in its shortest form */
};
int cl_rm_read(const uint8_t *p, size_t len, struct cl_rm_tlv *t);

/* The rules that tie a message's fields together, after the walk. */
int cl_rm_rules(const struct cl_relay_msg *m);

#endif /* CARDLINK_RELAY_MSG_INT_H */
