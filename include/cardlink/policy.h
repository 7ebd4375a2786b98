/*
 * cardlink — the device's rules, in one place (docs/protocol.md §10,
 * docs/security.md "Device policy").
 * SPDX-License-Identifier: Apache-2.0
 *
 * The server is not fully trusted. Every decision the device makes about
 * what a server may have the card do or the holder see is a call into this
 * module: pure functions over data (command bytes, decoded relay messages,
 * decoded transactions, the card's answers) and a small state struct the
 * device keeps (struct cl_policy_state) and updates through the functions
 * below. Nothing here talks to the card, the network or the holder.
 *
 *  A  relayed commands (APDU messages, SCRIPT steps): form, bounds, and the
 *     rule tables: the ISO 7816-4 default set (cl_policy_iso), the cardlink
 *     applet's set (cl_policy_cardlink, enabled by CL_POLICY_F_CARDLINK) and
 *     the integrator's extension tables for other card applications;
 *  B  the approval flow of TXN-APPROVE: exact signing command per kind,
 *     the amount rule, a pager that accepts Confirm only after every page
 *     was shown, builders that derive the card command from what was
 *     displayed, and the cleanup after a failed or abandoned signature;
 *  C  the state: PIN verified, the relayed chain in progress, the approval
 *     in progress, the cleanup pending;
 *  D  PIN templates (PIN-VERIFY, PIN-CHANGE, TXN-APPROVE's PIN);
 *  E  server texts (DISPLAY, PROMPT): the marking rule, the secure-PIN
 *     indicator, prompts that could be mistaken for PIN entry;
 *  F  transaction texts that read like an amount or a currency;
 *  G  reasons, their names and wire codes, a whole decoded message.
 *
 * Every check returns CL_OK, or CL_ERR_DENIED with *reason (enum
 * cl_policy_reason) saying why; reason pointers may be NULL and are set to
 * CL_POLICY_ALLOWED on CL_OK. A refusal never changes the state.
 */
#ifndef CARDLINK_POLICY_H
#define CARDLINK_POLICY_H

#include "cardlink/defs.h"
#include "cardlink/relay_msg.h"
#include "cardlink/txn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ reasons */

/* Why something was refused. The value is stable (logs, tests); the wire
 * code sent back is cl_policy_wire_code(). */
enum cl_policy_reason {
    CL_POLICY_ALLOWED = 0,
    /* A: relayed commands (wire code DENIED unless noted) */
    CL_POLICY_R_MALFORMED = 1,    /* not a well-formed command APDU */
    CL_POLICY_R_TOO_LARGE = 2,    /* APDU longer than max_apdu (TOO_LARGE) */
    CL_POLICY_R_SCRIPT_STEPS = 3, /* more SCRIPT steps than max_steps (TOO_LARGE) */
    CL_POLICY_R_MSG_SIZE = 4,     /* message longer than max_msg (TOO_LARGE) */
    CL_POLICY_R_READER_CLA = 5,   /* CLA FF: a reader pseudo-APDU */
    CL_POLICY_R_PIN = 6,          /* PIN handling (VERIFY with data, CHANGE, RESET ...) */
    CL_POLICY_R_CHAIN_PIN = 7,    /* the chaining bit with a PIN or signing INS */
    CL_POLICY_R_CHAIN_INS = 8,    /* a chain in progress and another CLA/INS */
    CL_POLICY_R_TUNNEL = 9,       /* ENVELOPE */
    CL_POLICY_R_SIGN = 10,        /* a signing or authenticating command */
    CL_POLICY_R_VALUE = 11,       /* moves value or consumes e-goods (approved flows only) */
    CL_POLICY_R_CLEANUP = 12,     /* the card's verified state must be ended first */
    CL_POLICY_R_STATE = 13,       /* not now: an approval in progress, or none */
    CL_POLICY_R_USER = 14,        /* an integrator's rule without its own reason */
    /* B: approvals */
    CL_POLICY_R_SIGN_CMD = 20,    /* sign command header not exact, or not the kind's */
    CL_POLICY_R_AMOUNT = 21,      /* zero or missing amount for a kind that moves value */
    CL_POLICY_R_TXN_ID = 22,      /* the transaction's id is not the message's (MALFORMED) */
    CL_POLICY_R_NOT_SEEN = 23,    /* Confirm before every page was shown */
    CL_POLICY_R_PURSE = 24,       /* the DEBIT cannot be derived from the card's purse */
    /* D: PIN templates */
    CL_POLICY_R_TEMPLATE_HEADER = 30, /* not CLA 00, INS 20/24 with P1 00, short case 3/4 */
    CL_POLICY_R_TEMPLATE_LEN = 31,    /* PIN length range not within 4..12 */
    CL_POLICY_R_TEMPLATE_DATA = 32,   /* a data byte outside the regions, or not filler */
    /* E, F: texts */
    CL_POLICY_R_TEXT = 40,        /* a server text with a byte no server text may carry */
    CL_POLICY_R_PIN_PROMPT = 41,  /* a prompt that could be mistaken for PIN entry */
    CL_POLICY_R_AMOUNT_TEXT = 42  /* a payee or item text that reads like an amount */
};

/* The wire error code (docs/protocol.md §6) for a reason: NONE for
 * CL_POLICY_ALLOWED, TOO_LARGE for the three size reasons, MALFORMED for
 * CL_POLICY_R_TXN_ID, DENIED for every other value (unknown ones too). */
uint8_t cl_policy_wire_code(uint8_t reason);

/* A short constant English name for a reason ("PIN handling"); "?" for a
 * value that is not a reason. Never NULL. */
const char *cl_policy_reason_name(uint8_t reason);

/* ------------------------------------------------------------ rule tables */

/* When a rule refuses. */
enum cl_policy_when {
    CL_POLICY_WHEN_ALWAYS = 0,      /* always */
    CL_POLICY_WHEN_DATA = 1,        /* when the command has a data field (Nc > 0) */
    CL_POLICY_WHEN_PIN_VERIFIED = 2 /* while the card may be PIN-verified (state) */
};

/*
 * One rule: it matches a command when (CLA & cla_mask) == cla, INS == ins,
 * (P1 & p1_mask) == p1 and (P2 & p2_mask) == p2, and its condition holds;
 * a match refuses the command with reason (0: CL_POLICY_R_USER). Masks of
 * 0 match every value. A rule whose reason is CL_POLICY_R_PIN or
 * CL_POLICY_R_SIGN also refuses the chained form of its command (CLA b5
 * set) whatever its condition, with CL_POLICY_R_CHAIN_PIN.
 */
struct cl_policy_rule {
    uint8_t cla_mask, cla;
    uint8_t ins;
    uint8_t p1_mask, p1;
    uint8_t p2_mask, p2;
    uint8_t when;       /* enum cl_policy_when */
    uint8_t reason;     /* enum cl_policy_reason */
};

/* A rule table: rules[0..n), tried in order. */
struct cl_policy_table {
    const struct cl_policy_rule *rules;
    size_t n;
};

/* The default rule set for ISO 7816-4 cards, always applied (§10 rules
 * 2-4): PIN handling, tunnels, signing and authentication. */
extern const struct cl_policy_table cl_policy_iso;

/* The cardlink applet's rule set (docs/applet.md), applied with
 * CL_POLICY_F_CARDLINK: DEBIT (80 54), USE (80 56) and APPEND RECORD to
 * the transaction log (E2 with P2 SFI 5, or SFI 0: the current EF) run
 * only inside the device's own approved flows. The issuer's BLOCK (80 1E,
 * GET CHALLENGE before it) is relayed: no rule refuses it (docs/security.md
 * "Card blocking"). */
extern const struct cl_policy_table cl_policy_cardlink;

/* ------------------------------------------------------------ configuration */

/* The card runs the cardlink applet: its rule table, purse-payment
 * approvals signed by DEBIT, and the PIN-status reset VERIFY P1 FF. */
#define CL_POLICY_F_CARDLINK 0x01u
/* The card application resets its PIN status with VERIFY P1 FF (ISO
 * 7816-4), so the cleanup is that command rather than a card reset.
 * Implied by CL_POLICY_F_CARDLINK. */
#define CL_POLICY_F_PIN_RESET 0x02u
/* Also end the verified state after a successful signature (cards that
 * keep the PIN verified across signatures). */
#define CL_POLICY_F_CLEANUP_ALWAYS 0x04u
/* Allow NUMERIC prompts whose length range admits 4..12 digits unless their
 * text mentions a PIN word (default: refused outright). */
#define CL_POLICY_F_NUMERIC_PROMPTS 0x08u

/* The device's policy. All zero is the default: CL_APDU_MAX, at most
 * CL_RELAY_SCRIPT_MAX steps, no message bound beyond the codec's, the ISO
 * set only, numeric prompts refused. */
struct cl_policy {
    size_t max_apdu;    /* largest relayed command APDU; 0 = CL_APDU_MAX */
    size_t max_steps;   /* most SCRIPT steps; 0 = CL_RELAY_SCRIPT_MAX (larger
                           values are capped to it: the decoder holds no more) */
    size_t max_msg;     /* largest request message, header included; 0 = no bound */
    unsigned flags;     /* CL_POLICY_F_* */
    const struct cl_policy_table *extra;   /* extension tables, tried after */
    size_t nextra;                         /* the built-in ones, in order */
};

/* ------------------------------------------------------------ state */

/* Cleanup the device must do before anything else is relayed. */
enum cl_policy_cleanup {
    CL_POLICY_CLEANUP_NONE = 0,
    CL_POLICY_CLEANUP_PIN_RESET = 1,  /* send cl_policy_build_cleanup()'s VERIFY P1 FF */
    CL_POLICY_CLEANUP_CARD_RESET = 2  /* reset the card (warm or cold) */
};

/* Approval steps. */
enum cl_policy_step {
    CL_POLICY_IDLE = 0,      /* no approval in progress */
    CL_POLICY_SHOWING = 1,   /* the transaction is on the display */
    CL_POLICY_CONFIRMED = 2, /* the holder pressed Confirm after every page */
    CL_POLICY_SIGNING = 3    /* the signing command (or DEBIT) was built */
};

#define CL_POLICY_S_PIN_VERIFIED 0x01u  /* the card may be PIN-verified */
#define CL_POLICY_S_CHAIN 0x02u         /* a relayed command chain is in progress */

/*
 * What the device keeps (one per card slot). Set it up with
 * cl_policy_init(); change it only through the functions below. Do not
 * touch the fields.
 */
struct cl_policy_state {
    uint8_t flags;          /* CL_POLICY_S_* */
    uint8_t chain_cla;      /* the chain's CLA without b5, and INS */
    uint8_t chain_ins;
    uint8_t pin_ref;        /* P2 of the last device-built VERIFY/CHANGE */
    uint8_t cleanup;        /* enum cl_policy_cleanup */
    uint8_t step;           /* enum cl_policy_step */
    uint8_t kind;           /* the approved transaction's kind */
    uint8_t digest_len;     /* 32 or 48 (PSO / INTERNAL AUTHENTICATE) */
    uint8_t sign_cmd[4];    /* the approved signing command's header */
    uint8_t txn_id[CL_TXN_ID_LEN];
    uint16_t pages, seen;   /* pages of the transaction, pages shown in order */
};

/* Nothing verified, no chain, no approval, no cleanup. st not NULL. */
void cl_policy_init(struct cl_policy_state *st);

/* The card was reset (warm or cold), removed or inserted: its security
 * state is gone. Clears everything, an approval in progress included (the
 * device answers it FAILED). st not NULL. */
void cl_policy_card_reset(struct cl_policy_state *st);

/* ------------------------------------------------------------ A: relay */

/*
 * Check one relayed command APDU (an APDU message, or a SCRIPT step on its
 * own) of len bytes. cfg and st may be NULL (defaults; fresh state).
 * Order: state (cleanup pending: CLEANUP; approval in progress: STATE);
 * well-formed (ISO 7816-4 §5.1, short or extended: MALFORMED); len <=
 * max_apdu (TOO_LARGE); CLA FF (READER_CLA); a chain in progress and
 * another CLA (b5 ignored) or INS (CHAIN_INS); the ISO table, the cardlink
 * table (with CL_POLICY_F_CARDLINK), the extension tables.
 * Returns CL_OK, CL_ERR_DENIED (with *reason), or CL_ERR_ARG (apdu NULL
 * with len > 0; an extension table with rules NULL and n > 0).
 */
CL_WUR int cl_policy_check_apdu(const struct cl_policy *cfg, const struct cl_policy_state *st,
                                const uint8_t *apdu, size_t len, uint8_t *reason);

/* *step value when no single step was refused. */
#define CL_POLICY_NO_STEP ((size_t)-1)

/*
 * Check a SCRIPT as a whole, before its first step is sent: the step count
 * (1..max_steps: SCRIPT_STEPS; 0 steps: MALFORMED), then every step as
 * cl_policy_check_apdu() would in the state the earlier steps leave (a
 * chained step makes the next one a continuation). *step (step may be
 * NULL) is the index of the refused step, CL_POLICY_NO_STEP otherwise
 * (allowed, or refused as a whole).
 * Returns CL_OK, CL_ERR_DENIED (with *reason), or CL_ERR_ARG (s NULL, and
 * as cl_policy_check_apdu).
 */
CL_WUR int cl_policy_check_script(const struct cl_policy *cfg, const struct cl_policy_state *st,
                                  const struct cl_relay_script *s, uint8_t *reason, size_t *step);

/*
 * A relayed command (checked and allowed) was sent and the card answered
 * sw (0 when it did not answer: the device then resets the card and calls
 * cl_policy_card_reset). Tracks command chains: a chained command answered
 * 9000 or 61xx starts or continues one; anything else ends it. Malformed
 * apdu bytes are ignored. st not NULL.
 */
void cl_policy_relayed(struct cl_policy_state *st, const uint8_t *apdu, size_t len, uint16_t sw);

/* ------------------------------------------------------------ D: PIN templates */

/*
 * Check a PIN template (PIN-VERIFY: change false; PIN-CHANGE: change true;
 * TXN-APPROVE's PIN: change false) before the holder is asked:
 *  - state: cleanup pending (CLEANUP), a relayed chain in progress
 *    (CHAIN_INS), an approval in progress for a PIN-VERIFY/PIN-CHANGE
 *    message (STATE; cl_policy_approve_start checks its own template with
 *    st's approval not yet started);
 *  - header: a short case 3 or 4 APDU, CLA 00, INS 20 (24 for change), P1
 *    00 (TEMPLATE_HEADER);
 *  - 4 <= min_len <= max_len <= 12 (TEMPLATE_LEN);
 *  - data: the PIN regions (offset and, for change, new_offset; each
 *    ceil(max/2) bytes BCD, max bytes ASCII, 8 bytes format 2) and the
 *    length byte lie inside the data without overlapping, and cover every
 *    data byte; each region byte is filler: FF, except the first byte of a
 *    format 2 block, 2x (any x: the device writes the length); the length
 *    byte any value (TEMPLATE_DATA). A mandatory offset missing or an
 *    unknown encoding is TEMPLATE_DATA too.
 * Returns CL_OK, CL_ERR_DENIED (with *reason), or CL_ERR_ARG (p NULL, or
 * p->apdu.data NULL with len > 0).
 */
CL_WUR int cl_policy_check_template(const struct cl_policy *cfg,
                                    const struct cl_policy_state *st,
                                    const struct cl_relay_pin *p, bool change, uint8_t *reason);

/* A device-built VERIFY or CHANGE REFERENCE DATA (from a template) with P2
 * p2 was answered sw: 9000 marks the card PIN-verified (the only way the
 * state gets set) and remembers p2 for the cleanup. st not NULL. */
void cl_policy_pin_result(struct cl_policy_state *st, uint8_t p2, uint16_t sw);

/* ------------------------------------------------------------ E: server texts */

/*
 * The UI port's secure-PIN indicator. The device's own PIN-entry screen,
 * and only it, shows CL_POLICY_SECURE_GLYPH (a character code the port's
 * font draws as a padlock; outside the printable ASCII any server text may
 * carry) at the start of its first line, and a port with an LED lights it
 * (CL_POLICY_SECURE_LED names the capability in the UI port's flags) for as
 * long as the screen is up. A UI port MUST honour both: nothing else turns
 * them on.
 */
#define CL_POLICY_SECURE_GLYPH 0x01u
#define CL_POLICY_SECURE_LED 0x01u

/* The mark every line of server text is shown after (DISPLAY and PROMPT
 * texts): the device's own screens never begin a line with it. */
#define CL_POLICY_SERVER_MARK "> "
#define CL_POLICY_SERVER_MARK_LEN 2u

/*
 * Check a server text (DISPLAY text, PROMPT text): every byte printable
 * ASCII (20..7E) or LF. The secure glyph, any other control byte and any
 * byte above 7E are TEXT. text may be NULL when len is 0.
 * Returns CL_OK, CL_ERR_DENIED (TEXT), or CL_ERR_ARG (text NULL, len > 0).
 */
CL_WUR int cl_policy_check_text(const uint8_t *text, size_t len, uint8_t *reason);

/*
 * Lay out a server text for a display width characters wide (3..255): every
 * line (LF-separated, and every piece of a line longer than width - 2,
 * cut hard) becomes CL_POLICY_SERVER_MARK followed by the text, ending in
 * LF; then a NUL. An empty text gives an empty layout (a cleared display);
 * a final LF adds no empty line. *out_len (out_len not NULL) is the length
 * without the NUL. The text must pass cl_policy_check_text.
 * Returns CL_OK; CL_ERR_DENIED (the text fails cl_policy_check_text);
 * CL_ERR_ARG (NULL pointers, width out of range); CL_ERR_BUFFER (out too
 * small: (len + 1) * (CL_POLICY_SERVER_MARK_LEN + 1) + len + 1 always
 * suffices).
 */
CL_WUR int cl_policy_mark_text(const uint8_t *text, size_t len, unsigned width, char *out,
                               size_t size, size_t *out_len);

/*
 * Check a PROMPT before it is shown:
 *  - its text (cl_policy_check_text: TEXT);
 *  - NUMERIC whose length range admits an entry of 4..12 digits (max >= 4
 *    and min <= 12): PIN_PROMPT, unless cfg has
 *    CL_POLICY_F_NUMERIC_PROMPTS;
 *  - TEXT or NUMERIC whose text mentions a PIN word: PIN_PROMPT. The text
 *    is normalised (case folded; Latin-1 letters in UTF-8 transliterated;
 *    digits and look-alikes read as letters: 0 o, 1 i, 3 e, 4 a, 5 s, 6 g,
 *    7 t, 8 b, 9 g, @ a, $ s, ! | i, once with l kept and once with l read
 *    as i; everything but letters dropped) and searched for the words of
 *    docs/protocol.md §10 (pin, passcode, password, geheimzahl, mot de
 *    passe, clave, senha, wachtwoord, tunnusluku, ...).
 * YES/NO prompts are checked for their text only.
 * Returns CL_OK, CL_ERR_DENIED (with *reason), or CL_ERR_ARG (p NULL, or
 * its text NULL with len > 0).
 */
CL_WUR int cl_policy_check_prompt(const struct cl_policy *cfg, const struct cl_relay_prompt *p,
                                  uint8_t *reason);

/* Whether text[0..len), normalised as cl_policy_check_prompt does, holds a
 * PIN word (false for NULL). */
bool cl_policy_pin_words(const uint8_t *text, size_t len);

/* ------------------------------------------------------------ F: transaction texts */

/*
 * Check the payee and every item description of txn (their display forms)
 * for text that reads like an amount or a currency: a digit, then '.', ','
 * or '\'', then a digit ("1.00", "12,50"); '$'; '#' before a digit (how an
 * unknown currency is shown); an upper-case word that is an ISO 4217 code
 * of lib/txn's table ("EUR"); a currency word (euro, dollar, pound, franc,
 * yen, krona/krone/kr, zloty, any case, or a code in any case) in a text
 * that also holds a digit ("5 euro", "Eur 5"); a currency sign in UTF-8
 * (U+00A2..U+00A5, U+20AC: outside the repertoire, but a struct may be
 * filled by hand). The free text is not checked.
 * Returns CL_OK, CL_ERR_DENIED (AMOUNT_TEXT), or CL_ERR_ARG (txn NULL).
 */
CL_WUR int cl_policy_check_txn_text(const struct cl_txn *txn, uint8_t *reason);

/* ------------------------------------------------------------ B: approvals */

/* The transaction kind paid from the card's purse, whose signing command
 * is the cardlink applet's DEBIT. */
#define CL_POLICY_KIND_PURSE CL_TXN_PURSE_PAYMENT

/* The cardlink applet's GET BALANCE, which the device sends itself before
 * building a DEBIT (5 bytes). */
extern const uint8_t cl_policy_get_balance[5];

/*
 * Check a transaction and the signing command header it would be signed
 * with (independent of the state): the kind's header is exact, 00 2A 9E 9A
 * (PSO: COMPUTE DIGITAL SIGNATURE) or 00 88 00 00 (INTERNAL AUTHENTICATE)
 * for every kind but the purse payment, 80 54 00 00 (DEBIT) for it and
 * only with CL_POLICY_F_CARDLINK (SIGN_CMD); purchase, e-money load,
 * e-goods load and purse payment carry an amount above zero, a purse
 * payment one that fits 32 bits (AMOUNT); payee and items pass
 * cl_policy_check_txn_text (AMOUNT_TEXT).
 * Returns CL_OK, CL_ERR_DENIED (with *reason), or CL_ERR_ARG (txn or
 * sign_cmd NULL).
 */
CL_WUR int cl_policy_check_txn(const struct cl_policy *cfg, const struct cl_txn *txn,
                               const uint8_t sign_cmd[4], uint8_t *reason);

/*
 * Start the approval of TXN-APPROVE m whose transaction (decoded by the
 * device with cl_txn_decode from m->txn) is txn, rendered in pages pages
 * (1..65535; cl_txn_render's count for the device's display). Checks: the
 * state (cleanup pending: CLEANUP; a chain in progress: CHAIN_INS; an
 * approval in progress: STATE); txn's id equals m->txn_id (TXN_ID);
 * cl_policy_check_txn with m->sign_cmd; the PIN template when m->has_pin.
 * On CL_OK the state holds the approval (step SHOWING, no page seen).
 * Returns CL_OK, CL_ERR_DENIED (with *reason), or CL_ERR_ARG (NULL
 * pointers, m->txn_id NULL, pages 0).
 */
CL_WUR int cl_policy_approve_start(const struct cl_policy *cfg, struct cl_policy_state *st,
                                   const struct cl_relay_txn_approve *m,
                                   const struct cl_txn *txn, unsigned pages, uint8_t *reason);

/* The device displayed page `page` (0-based) of the approval: pages shown
 * in order count (page == pages seen so far); any other page changes
 * nothing. Does nothing outside the SHOWING step. st not NULL. */
void cl_policy_page_shown(struct cl_policy_state *st, unsigned page);

/*
 * The holder pressed Confirm (a physical key; nothing remote calls this).
 * Accepted (step CONFIRMED) only in the SHOWING step (else STATE) after
 * every page was shown (else NOT_SEEN: the device keeps showing).
 * Returns CL_OK, CL_ERR_DENIED (with *reason), CL_ERR_ARG (st NULL).
 */
CL_WUR int cl_policy_confirm(struct cl_policy_state *st, uint8_t *reason);

/*
 * Build the approved signing command from the digest the device computed
 * over what it displayed (cl_txn_digest of the approved transaction and
 * the message's challenge): `00 2A 9E 9A Lc digest 00` or `00 88 00 00 Lc
 * digest 00`, Lc = dlen, 32 for SHA-256 or 48 for SHA-384 (the message's
 * digest field). Only in the CONFIRMED step of a PSO / INTERNAL
 * AUTHENTICATE approval; on success the step is SIGNING.
 * Returns CL_OK; CL_ERR_STATE (another step or a DEBIT approval);
 * CL_ERR_ARG (NULL pointers, dlen not the approval's digest length);
 * CL_ERR_BUFFER (size < 6 + dlen). *len is 0 on failure.
 */
CL_WUR int cl_policy_build_sign(struct cl_policy_state *st, const uint8_t *digest, size_t dlen,
                                uint8_t *out, size_t size, size_t *len);

/* Length of the DEBIT cl_policy_build_debit writes. */
#define CL_POLICY_DEBIT_LEN 46u

/*
 * Build the cardlink applet's DEBIT for the approved purse payment txn
 * from the card's answer to cl_policy_get_balance (balance(4) currency(2)
 * counter(4) serial(8) 90 00, 20 bytes):
 * `80 54 00 00 28 amount(4) counter(4) txn-id(16) payee(16) 00`, payee the
 * display form of txn's payee, first 16 bytes, padded with 00. Only in the
 * CONFIRMED step of a DEBIT approval, for the approved transaction (same
 * id); on success the step is SIGNING.
 * Returns CL_OK; CL_ERR_STATE (another step or approval kind; another
 * transaction); CL_ERR_DENIED with *reason PURSE (the answer not 20 bytes
 * ending 9000; no amount, amount 0 or above 2^32 - 1; the purse's currency
 * not the transaction's); CL_ERR_ARG (NULL pointers); CL_ERR_BUFFER (size <
 * CL_POLICY_DEBIT_LEN). *len is 0 on failure.
 */
CL_WUR int cl_policy_build_debit(struct cl_policy_state *st, const struct cl_txn *txn,
                                 const uint8_t *balance, size_t blen, uint8_t *out, size_t size,
                                 size_t *len, uint8_t *reason);

/*
 * The signing command (or DEBIT) was answered sw (0: no answer). 9000 ends
 * the approval (with CL_POLICY_F_CARDLINK the verification is used up;
 * with CL_POLICY_F_CLEANUP_ALWAYS a cleanup follows while the card may
 * still be verified); anything else is a failed signature: as
 * cl_policy_approve_abort. Outside the SIGNING step nothing changes.
 * Returns the cleanup now pending (enum cl_policy_cleanup). st not NULL.
 */
uint8_t cl_policy_sign_result(const struct cl_policy *cfg, struct cl_policy_state *st,
                              uint16_t sw);

/*
 * The approval ends without a signature (the holder cancelled, a timeout,
 * a wrong PIN, the link went down, the device gave up). When the card may
 * be verified or the signing command was built, a cleanup becomes pending:
 * PIN_RESET where the card supports VERIFY P1 FF (CL_POLICY_F_PIN_RESET or
 * CL_POLICY_F_CARDLINK), CARD_RESET otherwise; until it is done every
 * relayed command, template and approval is refused (CLEANUP).
 * Returns the cleanup now pending. st not NULL.
 */
uint8_t cl_policy_approve_abort(const struct cl_policy *cfg, struct cl_policy_state *st);

/* The cleanup pending (enum cl_policy_cleanup). st not NULL. */
uint8_t cl_policy_cleanup(const struct cl_policy_state *st);

/*
 * Build the PIN-status reset for a PIN_RESET cleanup: `00 20 FF p2` (VERIFY,
 * P1 FF, no data; p2 the reference of the last device-built VERIFY/CHANGE,
 * 80 when there was none), 4 bytes.
 * Returns CL_OK; CL_ERR_STATE (no PIN_RESET cleanup pending); CL_ERR_ARG
 * (NULL pointers); CL_ERR_BUFFER (size < 4). *len is 0 on failure.
 */
CL_WUR int cl_policy_build_cleanup(const struct cl_policy_state *st, uint8_t *out, size_t size,
                                   size_t *len);

/* The PIN-status reset was answered sw: 9000 ends the cleanup and the
 * verified state (and any chain); anything else makes the cleanup a card
 * reset (which cl_policy_card_reset reports done). st not NULL. */
void cl_policy_cleanup_done(struct cl_policy_state *st, uint16_t sw);

/* ------------------------------------------------------------ G: messages */

/*
 * Check a decoded request message of wire_len bytes as a whole before any
 * of it runs: wire_len against max_msg (MSG_SIZE); then by type: APDU
 * (cl_policy_check_apdu), SCRIPT (cl_policy_check_script, *step), PIN-VERIFY
 * and PIN-CHANGE (cl_policy_check_template), DISPLAY (cl_policy_check_text),
 * PROMPT (cl_policy_check_prompt), TXN-APPROVE (the state as
 * cl_policy_approve_start; the sign command one of the exact headers,
 * DEBIT only with CL_POLICY_F_CARDLINK: SIGN_CMD; its PIN template; the
 * rules that need the decoded transaction come with
 * cl_policy_approve_start). Other types are allowed. *step (may be NULL)
 * as cl_policy_check_script, CL_POLICY_NO_STEP for other types.
 * Returns CL_OK, CL_ERR_DENIED (with *reason), or CL_ERR_ARG (m NULL, and
 * the argument errors of the functions named).
 */
CL_WUR int cl_policy_check_msg(const struct cl_policy *cfg, const struct cl_policy_state *st,
                               const struct cl_relay_msg *m, size_t wire_len, uint8_t *reason,
                               size_t *step);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_POLICY_H */
