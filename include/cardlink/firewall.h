/*
 * cardlink — the device's APDU firewall (docs/protocol.md §10,
 * docs/security.md "Device policy and the APDU firewall").
 * SPDX-License-Identifier: Apache-2.0
 *
 * The server is not fully trusted. Before the device sends a command that
 * came from the network to the card (a relayed APDU, each SCRIPT step, a
 * TXN-APPROVE signing command, a PIN template) it asks this pure function,
 * which looks only at the command bytes, where they come from, and the
 * session's state (PIN verified, transaction approved). The rules are a
 * table: the built-in one (cl_fw_rules, §10 rules 2-4) and the
 * integrator's extra rules (their card application's proprietary PIN or
 * signing commands), tried after it.
 */
#ifndef CARDLINK_FIREWALL_H
#define CARDLINK_FIREWALL_H

#include "cardlink/defs.h"
#include "cardlink/relay_msg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where a command comes from. */
enum cl_fw_origin {
    CL_FW_RELAY = 0,          /* an APDU message */
    CL_FW_SCRIPT,             /* a SCRIPT step */
    CL_FW_SIGN,               /* the signing command of an approved TXN-APPROVE */
    CL_FW_TEMPLATE_VERIFY,    /* a PIN-VERIFY (or TXN-APPROVE) template */
    CL_FW_TEMPLATE_CHANGE     /* a PIN-CHANGE template */
};

/* Why a command was refused (0: it was not). */
enum cl_fw_reason {
    CL_FW_ALLOWED = 0,
    CL_FW_R_MALFORMED,        /* rule 1: not a well-formed command APDU */
    CL_FW_R_TOO_LARGE,        /* rule 1: longer than the device's max command APDU */
    CL_FW_R_SCRIPT_STEPS,     /* rule 1: more steps than the device's limit */
    CL_FW_R_MSG_SIZE,         /* sizes: message longer than the device's max */
    CL_FW_R_READER_CLA,       /* rule 1: CLA FF (reader pseudo-APDU) */
    CL_FW_R_PIN,              /* rule 2: PIN handling */
    CL_FW_R_TUNNEL,           /* rule 3: ENVELOPE */
    CL_FW_R_AFTER_PIN,        /* rule 4: signing or authentication after a PIN verification */
    CL_FW_R_SIGN_INS,         /* rule 5: signing command other than PSO / INTERNAL AUTHENTICATE */
    CL_FW_R_NOT_APPROVED,     /* rule 5: signing command with no approved transaction */
    CL_FW_R_TEMPLATE_INS,     /* rule 6: template INS other than VERIFY / CHANGE REFERENCE DATA */
    CL_FW_R_USER              /* an integrator's rule (the rule may name another reason) */
};

/* When a rule refuses. */
enum cl_fw_when {
    CL_FW_WHEN_ALWAYS = 0,    /* always */
    CL_FW_WHEN_DATA,          /* when the command has a data field (Nc > 0) */
    CL_FW_WHEN_PIN_VERIFIED   /* after a PIN verification (until card reset / removal) */
};

/* One rule: it matches when (CLA & cla_mask) == cla and INS == ins and its
 * condition holds; a match refuses the command with reason. cla_mask 0
 * matches every class (the built-in rules: "any CLA, chained or not"). */
struct cl_fw_rule {
    uint8_t cla_mask, cla;
    uint8_t ins;
    uint8_t when;             /* enum cl_fw_when */
    uint8_t reason;           /* enum cl_fw_reason */
};

/* The built-in table, in order (§10 rules 2, 3, 4). */
extern const struct cl_fw_rule cl_fw_rules[];
extern const size_t cl_fw_nrules;

/* The session's state as policy sees it. */
struct cl_fw_state {
    bool pin_verified;        /* a PIN entry was answered 9000, card not reset since */
    bool txn_approved;        /* the holder approved the transaction being signed */
};

/* The device's policy: bounds and extra rules. Zero means default. */
struct cl_firewall {
    size_t max_apdu;          /* largest command APDU relayed; 0 = CL_APDU_MAX */
    size_t max_steps;         /* most SCRIPT steps; 0 = CL_RELAY_SCRIPT_MAX */
    size_t max_msg;           /* largest message; 0 = no bound beyond the codec's */
    const struct cl_fw_rule *extra;   /* tried after the built-in table */
    size_t nextra;
};

/*
 * Check one command APDU of len bytes coming from origin. fw and st may be
 * NULL (defaults; nothing verified, nothing approved). *reason (reason may
 * be NULL) is CL_FW_ALLOWED or why it was refused.
 * Order: well-formed (ISO 7816-4 §5.1, short or extended), size, CLA FF;
 * then by origin: RELAY and SCRIPT: the built-in table then the extra
 * rules; SIGN: INS 2A or 88 and st->txn_approved; TEMPLATE_VERIFY: INS 20;
 * TEMPLATE_CHANGE: INS 24.
 * Returns CL_OK, or CL_ERR_DENIED (with *reason), or CL_ERR_ARG (apdu NULL
 * with len > 0, or an unknown origin).
 */
CL_WUR int cl_firewall_check(const struct cl_firewall *fw, const struct cl_fw_state *st,
                             uint8_t origin, const uint8_t *apdu, size_t len, uint8_t *reason);

/*
 * Check a decoded request message as a whole: its wire size (wire_len)
 * against max_msg; APDU: its command (RELAY); SCRIPT: the step count, then
 * every step (SCRIPT), *step (may be NULL) set to the first refused one;
 * PIN-VERIFY / PIN-CHANGE: the template; TXN-APPROVE: the PIN template if
 * any and the signing command's header (INS 2A or 88, not CLA FF; the
 * approval itself is checked when the command is built, with CL_FW_SIGN).
 * Other types are allowed. Nothing is sent when one part is refused.
 * Returns CL_OK, CL_ERR_DENIED (with *reason), or CL_ERR_ARG (m NULL).
 */
CL_WUR int cl_firewall_check_msg(const struct cl_firewall *fw, const struct cl_fw_state *st,
                                 const struct cl_relay_msg *m, size_t wire_len, uint8_t *reason,
                                 size_t *step);

/* The wire error code (§6) for a refusal: TOO_LARGE for the size reasons,
 * DENIED for the others, NONE for CL_FW_ALLOWED. */
uint8_t cl_firewall_wire_code(uint8_t reason);

/* A short constant name for a reason ("PIN handling"); never NULL. */
const char *cl_firewall_reason_name(uint8_t reason);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_FIREWALL_H */
