/*
 * cardlink — the APDU firewall (docs/protocol.md §10).
 * SPDX-License-Identifier: Apache-2.0
 *
 * §10 as a data table (rule, INS, condition, reason), checked against the
 * library's table entry by entry, and each entry tried in each state
 * (PIN verified or not), from each relayed origin (APDU, SCRIPT step), for
 * several classes (interindustry, secure messaging, chained, proprietary)
 * and APDU cases (1, 3 short, 4 extended). Then rule 1 (form, size, CLA
 * FF), rules 5 and 6 (signing command, templates), integrator rules and
 * whole messages.
 */
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/firewall.h"
#include "test_util.h"

/* §10 rules 2, 3, 4: every INS named, in the document's order. */
static const struct {
    uint8_t ins;
    uint8_t when;
    uint8_t reason;
    const char *clause;
} spec[] = {
    { 0x20, CL_FW_WHEN_DATA, CL_FW_R_PIN, "§10.2 VERIFY (no data: retry counter only)" },
    { 0x21, CL_FW_WHEN_DATA, CL_FW_R_PIN, "§10.2 VERIFY odd INS" },
    { 0x24, CL_FW_WHEN_ALWAYS, CL_FW_R_PIN, "§10.2 CHANGE REFERENCE DATA" },
    { 0x25, CL_FW_WHEN_ALWAYS, CL_FW_R_PIN, "§10.2 CHANGE REFERENCE DATA odd" },
    { 0x2C, CL_FW_WHEN_ALWAYS, CL_FW_R_PIN, "§10.2 RESET RETRY COUNTER" },
    { 0x2D, CL_FW_WHEN_ALWAYS, CL_FW_R_PIN, "§10.2 RESET RETRY COUNTER odd" },
    { 0x26, CL_FW_WHEN_ALWAYS, CL_FW_R_PIN, "§10.2 DISABLE VERIFICATION REQUIREMENT" },
    { 0x27, CL_FW_WHEN_ALWAYS, CL_FW_R_PIN, "§10.2 DISABLE VERIFICATION REQUIREMENT odd" },
    { 0x28, CL_FW_WHEN_ALWAYS, CL_FW_R_PIN, "§10.2 ENABLE VERIFICATION REQUIREMENT" },
    { 0x29, CL_FW_WHEN_ALWAYS, CL_FW_R_PIN, "§10.2 ENABLE VERIFICATION REQUIREMENT odd" },
    { 0xC2, CL_FW_WHEN_ALWAYS, CL_FW_R_TUNNEL, "§10.3 ENVELOPE" },
    { 0xC3, CL_FW_WHEN_ALWAYS, CL_FW_R_TUNNEL, "§10.3 ENVELOPE odd" },
    { 0x2A, CL_FW_WHEN_PIN_VERIFIED, CL_FW_R_AFTER_PIN, "§10.4 PERFORM SECURITY OPERATION" },
    { 0x88, CL_FW_WHEN_PIN_VERIFIED, CL_FW_R_AFTER_PIN, "§10.4 INTERNAL AUTHENTICATE" },
    { 0x86, CL_FW_WHEN_PIN_VERIFIED, CL_FW_R_AFTER_PIN, "§10.4 GENERAL AUTHENTICATE" },
    { 0x87, CL_FW_WHEN_PIN_VERIFIED, CL_FW_R_AFTER_PIN, "§10.4 GENERAL AUTHENTICATE odd" },
    { 0x22, CL_FW_WHEN_PIN_VERIFIED, CL_FW_R_AFTER_PIN, "§10.4 MANAGE SECURITY ENVIRONMENT" },
    { 0xAE, CL_FW_WHEN_PIN_VERIFIED, CL_FW_R_AFTER_PIN, "§10.4 GENERATE AC" },
};

static const uint8_t classes[] = { 0x00, 0x0C, 0x10, 0x80, 0x90, 0xA0 };

/* APDU forms: case 1, case 2S, case 3S, case 4S, case 4E. */
static size_t build(uint8_t *b, uint8_t cla, uint8_t ins, int form, bool *data)
{
    b[0] = cla, b[1] = ins, b[2] = 0x00, b[3] = 0x80;
    *data = form >= 2;
    switch (form) {
    case 0:
        return 4;
    case 1:
        b[4] = 0x00;
        return 5;
    case 2:
        b[4] = 0x02, b[5] = 0x12, b[6] = 0x34;
        return 7;
    case 3:
        b[4] = 0x02, b[5] = 0x12, b[6] = 0x34, b[7] = 0x00;
        return 8;
    default:
        b[4] = 0x00, b[5] = 0x00, b[6] = 0x02, b[7] = 0x12, b[8] = 0x34, b[9] = 0x00, b[10] = 0x00;
        return 11;
    }
}

START_TEST(test_table_matches_spec)
{
    size_t i;

    ck_assert_uint_eq(cl_fw_nrules, CL_ARRAY_LEN(spec));
    for (i = 0; i < cl_fw_nrules; i++) {
        ck_assert_msg(cl_fw_rules[i].ins == spec[i].ins, "entry %zu: %s", i, spec[i].clause);
        ck_assert_uint_eq(cl_fw_rules[i].when, spec[i].when);
        ck_assert_uint_eq(cl_fw_rules[i].reason, spec[i].reason);
        ck_assert_uint_eq(cl_fw_rules[i].cla_mask, 0);   /* any CLA */
    }
}
END_TEST

/* One spec entry in every state, origin, class and case. */
START_TEST(test_entry)
{
    uint8_t b[16], reason;
    size_t c, n;
    int form, pin, origin;
    bool data;

    for (pin = 0; pin < 2; pin++)
        for (origin = CL_FW_RELAY; origin <= CL_FW_SCRIPT; origin++)
            for (c = 0; c < sizeof(classes); c++)
                for (form = 0; form < 5; form++) {
                    struct cl_fw_state st = { pin != 0, false };
                    bool deny;
                    int rc;
                    n = build(b, classes[c], spec[_i].ins, form, &data);
                    deny = spec[_i].when == CL_FW_WHEN_ALWAYS ||
                           (spec[_i].when == CL_FW_WHEN_DATA && data) ||
                           (spec[_i].when == CL_FW_WHEN_PIN_VERIFIED && pin);
                    rc = cl_firewall_check(NULL, &st, (uint8_t)origin, b, n, &reason);
                    ck_assert_msg(rc == (deny ? CL_ERR_DENIED : CL_OK),
                                  "%s: CLA %02X form %d pin %d origin %d: rc %d", spec[_i].clause,
                                  classes[c], form, pin, origin, rc);
                    ck_assert_uint_eq(reason, deny ? spec[_i].reason : CL_FW_ALLOWED);
                    ck_assert_uint_eq(cl_firewall_wire_code(reason),
                                      deny ? CL_RELAY_E_DENIED : CL_RELAY_E_NONE);
                }
}
END_TEST

/* Everyday commands pass in every state. */
START_TEST(test_allowed)
{
    static const uint8_t ins[] = { 0xA4, 0xB0, 0xB2, 0xD6, 0xDC, 0xCA, 0xCB, 0x84, 0x82,
                                   0xE2, 0xC0, 0x52, 0x0E, 0x44, 0x70 };
    uint8_t b[16], reason = 0xEE;
    size_t i, n;
    int pin, form;
    bool data;

    for (i = 0; i < sizeof(ins); i++)
        for (pin = 0; pin < 2; pin++)
            for (form = 0; form < 5; form++) {
                struct cl_fw_state st = { pin != 0, pin != 0 };
                n = build(b, 0x00, ins[i], form, &data);
                ck_assert_int_eq(cl_firewall_check(NULL, &st, CL_FW_RELAY, b, n, &reason), CL_OK);
                ck_assert_uint_eq(reason, CL_FW_ALLOWED);
            }
    /* NULL state: nothing verified, so PSO passes */
    n = build(b, 0x00, 0x2A, 3, &data);
    ck_assert_int_eq(cl_firewall_check(NULL, NULL, CL_FW_RELAY, b, n, NULL), CL_OK);
}
END_TEST

/* Rule 1: form, size, CLA FF. */
static const struct {
    const char *apdu;
    size_t max;
    uint8_t reason;
    const char *why;
} rule1[] = {
    { "00 A4 04", 0, CL_FW_R_MALFORMED, "3 bytes" },
    { "00 A4 04 00 07 A0 00", 0, CL_FW_R_MALFORMED, "Lc 7, 2 data bytes" },
    { "00 A4 04 00 00 00", 0, CL_FW_R_MALFORMED, "Lc 00 (short) with a byte" },
    { "FF CA 00 00 00", 0, CL_FW_R_READER_CLA, "PC/SC GET DATA pseudo-APDU" },
    { "FF 20 00 80 00", 0, CL_FW_R_READER_CLA, "CLA FF before the INS rules" },
    { "00 B0 00 00 00 01 00", 0, CL_OK, "case 2E, 7 bytes" },
    { "00 D6 00 00 05 01 02 03 04 05", 9, CL_FW_R_TOO_LARGE, "10 bytes, max 9" },
    { "00 D6 00 00 05 01 02 03 04 05", 10, CL_OK, "10 bytes, max 10" },
};

START_TEST(test_rule1)
{
    uint8_t b[64], reason;
    int n = cl_test_hex(rule1[_i].apdu, b, sizeof(b));
    struct cl_firewall fw = { 0, 0, 0, NULL, 0 };
    int rc;

    fw.max_apdu = rule1[_i].max;
    ck_assert_int_gt(n, 0);
    rc = cl_firewall_check(&fw, NULL, CL_FW_SCRIPT, b, (size_t)n, &reason);
    ck_assert_msg(rc == (rule1[_i].reason == CL_OK ? CL_OK : CL_ERR_DENIED), "%s: %d",
                  rule1[_i].why, rc);
    ck_assert_uint_eq(reason, rule1[_i].reason);
}
END_TEST

/* Extended APDUs against the default bound (CL_APDU_MAX, 261). */
START_TEST(test_extended_size)
{
    static uint8_t b[300];
    struct cl_firewall fw = { 65544, 0, 0, NULL, 0 };
    uint8_t reason;
    size_t nc;

    for (nc = 250; nc < 260; nc++) {
        size_t len = 4 + 3 + nc;
        memset(b, 0x41, sizeof(b));
        b[0] = 0x00, b[1] = 0xD6, b[2] = 0, b[3] = 0, b[4] = 0;
        b[5] = (uint8_t)(nc >> 8), b[6] = (uint8_t)nc;
        ck_assert_int_eq(cl_firewall_check(NULL, NULL, CL_FW_RELAY, b, len, &reason),
                         len <= 261 ? CL_OK : CL_ERR_DENIED);
        ck_assert_uint_eq(reason, len <= 261 ? CL_FW_ALLOWED : CL_FW_R_TOO_LARGE);
        ck_assert_int_eq(cl_firewall_check(&fw, NULL, CL_FW_RELAY, b, len, &reason), CL_OK);
        b[1] = 0x20;   /* extended VERIFY: still PIN handling */
        ck_assert_int_eq(cl_firewall_check(&fw, NULL, CL_FW_RELAY, b, len, &reason), CL_ERR_DENIED);
        ck_assert_uint_eq(reason, CL_FW_R_PIN);
    }
    ck_assert_uint_eq(cl_firewall_wire_code(CL_FW_R_TOO_LARGE), CL_RELAY_E_TOO_LARGE);
}
END_TEST

/* Rules 5 and 6 by origin. */
static const struct {
    uint8_t origin;
    const char *apdu;
    bool approved, pin;
    uint8_t reason;
    const char *why;
} origins[] = {
    { CL_FW_SIGN, "00 2A 9E 9A 02 01 02 00", true, true, CL_FW_ALLOWED, "PSO after approval and PIN" },
    { CL_FW_SIGN, "00 88 00 00 02 01 02 00", true, false, CL_FW_ALLOWED, "INTERNAL AUTHENTICATE" },
    { CL_FW_SIGN, "00 2A 9E 9A 02 01 02 00", false, true, CL_FW_R_NOT_APPROVED, "not approved" },
    { CL_FW_SIGN, "00 B0 00 00 00", true, false, CL_FW_R_SIGN_INS, "READ BINARY as signer" },
    { CL_FW_SIGN, "00 86 00 00 02 01 02 00", true, false, CL_FW_R_SIGN_INS, "GENERAL AUTHENTICATE" },
    { CL_FW_SIGN, "FF 2A 9E 9A 02 01 02 00", true, false, CL_FW_R_READER_CLA, "CLA FF" },
    { CL_FW_TEMPLATE_VERIFY, "00 20 00 80 08 24 FF FF FF FF FF FF FF", false, false, CL_FW_ALLOWED,
      "§5.11 pin-verify template" },
    { CL_FW_TEMPLATE_VERIFY, "00 24 00 80 08 24 FF FF FF FF FF FF FF", false, false,
      CL_FW_R_TEMPLATE_INS, "CHANGE as a verify template" },
    { CL_FW_TEMPLATE_VERIFY, "00 D6 00 00 08 24 FF FF FF FF FF FF FF", false, false,
      CL_FW_R_TEMPLATE_INS, "UPDATE BINARY template (bad-pin-ins)" },
    { CL_FW_TEMPLATE_CHANGE, "00 24 00 80 10 24 FF FF FF FF FF FF FF 24 FF FF FF FF FF FF FF",
      false, false, CL_FW_ALLOWED, "§5.11 pin-change template" },
    { CL_FW_TEMPLATE_CHANGE, "00 20 00 80 08 24 FF FF FF FF FF FF FF", false, false,
      CL_FW_R_TEMPLATE_INS, "VERIFY as a change template" },
};

START_TEST(test_origins)
{
    uint8_t b[64], reason;
    int n = cl_test_hex(origins[_i].apdu, b, sizeof(b));
    struct cl_fw_state st = { origins[_i].pin, origins[_i].approved };
    int rc = cl_firewall_check(NULL, &st, origins[_i].origin, b, (size_t)n, &reason);

    ck_assert_msg(rc == (origins[_i].reason == CL_FW_ALLOWED ? CL_OK : CL_ERR_DENIED), "%s",
                  origins[_i].why);
    ck_assert_uint_eq(reason, origins[_i].reason);
}
END_TEST

/* Integrator rules after the built-in table. */
START_TEST(test_extra_rules)
{
    static const struct cl_fw_rule extra[] = {
        { 0xF0, 0x80, 0x5A, CL_FW_WHEN_PIN_VERIFIED, 0 },                /* proprietary sign */
        { 0xFC, 0x90, 0x66, CL_FW_WHEN_ALWAYS, CL_FW_R_PIN },            /* proprietary PIN */
    };
    struct cl_firewall fw = { 0, 0, 0, extra, CL_ARRAY_LEN(extra) };
    struct cl_fw_state st = { false, false };
    uint8_t b[16], reason;
    size_t n;
    bool data;

    n = build(b, 0x80, 0x5A, 2, &data);
    ck_assert_int_eq(cl_firewall_check(&fw, &st, CL_FW_RELAY, b, n, &reason), CL_OK);
    st.pin_verified = true;
    ck_assert_int_eq(cl_firewall_check(&fw, &st, CL_FW_SCRIPT, b, n, &reason), CL_ERR_DENIED);
    ck_assert_uint_eq(reason, CL_FW_R_USER);
    n = build(b, 0x84, 0x5A, 2, &data);   /* 84 & F0 == 80 */
    ck_assert_int_eq(cl_firewall_check(&fw, &st, CL_FW_SCRIPT, b, n, &reason), CL_ERR_DENIED);
    n = build(b, 0x00, 0x5A, 2, &data);   /* interindustry 5A: not the rule's */
    ck_assert_int_eq(cl_firewall_check(&fw, &st, CL_FW_SCRIPT, b, n, &reason), CL_OK);
    n = build(b, 0x93, 0x66, 0, &data);
    ck_assert_int_eq(cl_firewall_check(&fw, NULL, CL_FW_RELAY, b, n, &reason), CL_ERR_DENIED);
    ck_assert_uint_eq(reason, CL_FW_R_PIN);
    n = build(b, 0x94, 0x66, 0, &data);
    ck_assert_int_eq(cl_firewall_check(&fw, NULL, CL_FW_RELAY, b, n, &reason), CL_OK);
    /* the extra rules do not apply to the device's own commands */
    n = build(b, 0x80, 0x5A, 2, &data);
    ck_assert_int_eq(cl_firewall_check(&fw, &st, CL_FW_TEMPLATE_VERIFY, b, n, &reason), CL_ERR_DENIED);
    ck_assert_uint_eq(reason, CL_FW_R_TEMPLATE_INS);
}
END_TEST

/* Whole messages, decoded. */
START_TEST(test_messages)
{
    struct cl_relay_msg m;
    struct cl_firewall fw = { 0, 2, 40, NULL, 0 };
    struct cl_fw_state st = { true, false };
    uint8_t b[256], reason;
    size_t step;
    int n;

    /* APDU (docs example apdu: SELECT) */
    n = cl_test_hex("C1 20 01 01 02 00 00 0F 80 0D 00 A4 04 00 07 A0 00 00 00 03 10 10 00", b, sizeof(b));
    ck_assert_int_eq(cl_relay_decode(b, (size_t)n, &m), CL_OK);
    ck_assert_int_eq(cl_firewall_check_msg(&fw, &st, &m, (size_t)n, &reason, &step), CL_OK);
    ck_assert_int_eq(cl_firewall_check_msg(&fw, &st, &m, 41, &reason, &step), CL_ERR_DENIED);
    ck_assert_uint_eq(reason, CL_FW_R_MSG_SIZE);
    ck_assert_uint_eq(cl_firewall_wire_code(reason), CL_RELAY_E_TOO_LARGE);
    /* SCRIPT whose step 1 is a VERIFY with data: nothing of it goes */
    n = cl_test_hex("C1 22 01 03 03 00 00 14 A2 12 80 05 00 B2 01 0C 00 80 09 00 20 00 80 04 31 32 33 34",
                    b, sizeof(b));
    ck_assert_int_eq(cl_relay_decode(b, (size_t)n, &m), CL_OK);
    ck_assert_int_eq(cl_firewall_check_msg(NULL, NULL, &m, (size_t)n, &reason, &step), CL_ERR_DENIED);
    ck_assert_uint_eq(reason, CL_FW_R_PIN);
    ck_assert_uint_eq(step, 1);
    /* SCRIPT after PIN: PSO refused at step 0 */
    n = cl_test_hex("C1 22 01 03 03 00 00 09 A2 07 80 05 00 2A 9E 9A 00", b, sizeof(b));
    ck_assert_int_eq(cl_relay_decode(b, (size_t)n, &m), CL_OK);
    ck_assert_int_eq(cl_firewall_check_msg(NULL, &st, &m, (size_t)n, &reason, &step), CL_ERR_DENIED);
    ck_assert_uint_eq(reason, CL_FW_R_AFTER_PIN);
    ck_assert_uint_eq(step, 0);
    ck_assert_int_eq(cl_firewall_check_msg(NULL, NULL, &m, (size_t)n, &reason, &step), CL_OK);
    /* three steps over a limit of 2 */
    n = cl_test_hex("C1 22 01 03 03 00 00 17 A2 15 80 05 00 B2 01 0C 00 80 05 00 B2 02 0C 00 80 05 00 B2 03 0C 00",
                    b, sizeof(b));
    ck_assert_int_eq(cl_relay_decode(b, (size_t)n, &m), CL_OK);
    ck_assert_int_eq(cl_firewall_check_msg(&fw, NULL, &m, (size_t)n, &reason, NULL), CL_ERR_DENIED);
    ck_assert_uint_eq(reason, CL_FW_R_SCRIPT_STEPS);
    ck_assert_int_eq(cl_firewall_check_msg(NULL, NULL, &m, (size_t)n, &reason, NULL), CL_OK);
    /* PIN-VERIFY (doc example pin-verify) and PIN-CHANGE templates */
    n = cl_test_hex("C1 28 01 08 08 00 00 1C 80 0D 00 20 00 80 08 24 FF FF FF FF FF FF FF "
                    "81 01 03 82 02 04 0C 83 01 00 85 01 1E", b, sizeof(b));
    ck_assert_int_eq(cl_relay_decode(b, (size_t)n, &m), CL_OK);
    ck_assert_int_eq(cl_firewall_check_msg(NULL, &st, &m, (size_t)n, &reason, NULL), CL_OK);
    m.type = CL_RELAY_PIN_CHANGE;
    ck_assert_int_eq(cl_firewall_check_msg(NULL, &st, &m, (size_t)n, &reason, NULL), CL_ERR_DENIED);
    ck_assert_uint_eq(reason, CL_FW_R_TEMPLATE_INS);
    /* TXN-APPROVE: sign command header, PIN template */
    cl_relay_msg_init(&m, CL_RELAY_TXN_APPROVE);
    ck_assert_int_eq(cl_firewall_check_msg(NULL, &st, &m, 0, &reason, NULL), CL_OK);
    m.u.txn.sign_cmd[1] = 0x88;
    ck_assert_int_eq(cl_firewall_check_msg(NULL, &st, &m, 0, &reason, NULL), CL_OK);
    m.u.txn.sign_cmd[1] = 0xB0;
    ck_assert_int_eq(cl_firewall_check_msg(NULL, &st, &m, 0, &reason, NULL), CL_ERR_DENIED);
    ck_assert_uint_eq(reason, CL_FW_R_SIGN_INS);
    m.u.txn.sign_cmd[0] = 0xFF;
    ck_assert_int_eq(cl_firewall_check_msg(NULL, &st, &m, 0, &reason, NULL), CL_ERR_DENIED);
    ck_assert_uint_eq(reason, CL_FW_R_READER_CLA);
    m.u.txn.sign_cmd[0] = 0x00;
    m.u.txn.sign_cmd[1] = 0x2A;
    m.u.txn.has_pin = true;
    n = cl_test_hex("00 24 00 80 08 24 FF FF FF FF FF FF FF", b, sizeof(b));
    m.u.txn.pin.apdu.data = b;
    m.u.txn.pin.apdu.len = (size_t)n;
    ck_assert_int_eq(cl_firewall_check_msg(NULL, &st, &m, 0, &reason, NULL), CL_ERR_DENIED);
    ck_assert_uint_eq(reason, CL_FW_R_TEMPLATE_INS);
    b[1] = 0x20;
    ck_assert_int_eq(cl_firewall_check_msg(NULL, &st, &m, 0, &reason, NULL), CL_OK);
    /* other types pass; NULL message */
    cl_relay_msg_init(&m, CL_RELAY_DISPLAY);
    ck_assert_int_eq(cl_firewall_check_msg(NULL, &st, &m, 0, &reason, &step), CL_OK);
    ck_assert_int_eq(cl_firewall_check_msg(NULL, &st, NULL, 0, &reason, &step), CL_ERR_ARG);
}
END_TEST

START_TEST(test_args_and_names)
{
    uint8_t b[4] = { 0, 0xA4, 0, 0 }, reason;
    unsigned r;

    ck_assert_int_eq(cl_firewall_check(NULL, NULL, CL_FW_RELAY, NULL, 4, &reason), CL_ERR_ARG);
    ck_assert_int_eq(cl_firewall_check(NULL, NULL, 9, b, 4, &reason), CL_ERR_ARG);
    ck_assert_int_eq(cl_firewall_check(NULL, NULL, CL_FW_RELAY, NULL, 0, &reason), CL_ERR_DENIED);
    ck_assert_uint_eq(reason, CL_FW_R_MALFORMED);
    for (r = 0; r <= CL_FW_R_USER; r++) {
        ck_assert_str_ne(cl_firewall_reason_name((uint8_t)r), "?");
        ck_assert_uint_eq(cl_firewall_wire_code((uint8_t)r),
                          r == 0 ? CL_RELAY_E_NONE
                          : (r == CL_FW_R_TOO_LARGE || r == CL_FW_R_SCRIPT_STEPS ||
                             r == CL_FW_R_MSG_SIZE) ? CL_RELAY_E_TOO_LARGE
                                                    : CL_RELAY_E_DENIED);
    }
    ck_assert_str_eq(cl_firewall_reason_name(200), "?");
    ck_assert_str_eq(cl_firewall_reason_name(CL_FW_R_PIN), "PIN handling");
}
END_TEST

static Suite *firewall_suite(void)
{
    Suite *s = suite_create("firewall");
    TCase *tc = tcase_create("table");

    tcase_add_test(tc, test_table_matches_spec);
    tcase_add_loop_test(tc, test_entry, 0, (int)CL_ARRAY_LEN(spec));
    tcase_add_test(tc, test_allowed);
    suite_add_tcase(s, tc);
    tc = tcase_create("rules");
    tcase_add_loop_test(tc, test_rule1, 0, (int)CL_ARRAY_LEN(rule1));
    tcase_add_test(tc, test_extended_size);
    tcase_add_loop_test(tc, test_origins, 0, (int)CL_ARRAY_LEN(origins));
    tcase_add_test(tc, test_extra_rules);
    tcase_add_test(tc, test_messages);
    tcase_add_test(tc, test_args_and_names);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(firewall_suite());
}
