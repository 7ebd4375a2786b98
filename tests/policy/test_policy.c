/*
 * cardlink — the device's rules (lib/policy, docs/protocol.md §10).
 * SPDX-License-Identifier: Apache-2.0
 *
 * Tables first: §10's rule sets as data, checked against the library's
 * tables entry by entry (the last entry included) and each entry tried in
 * each state, class and APDU case. Then every limit at N-1, N, N+1 and 0,
 * chains, extension tables, the state, PIN templates, the approval flow
 * and its builders, prompts, transaction texts, whole messages, and the
 * attack bytes of issue 10 replayed. Every output (*reason, *step, built
 * bytes) is asserted on allowed results too.
 */
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/policy.h"
#include "test_util.h"

#ifndef CL_PROTOCOL_MD
#error "CL_PROTOCOL_MD must name docs/protocol.md"
#endif

#define R(x) CL_POLICY_R_##x
#define OK_R CL_POLICY_ALLOWED

static size_t hx(const char *hex, uint8_t *b, size_t max)
{
    int n = cl_test_hex(hex, b, max);
    ck_assert_msg(n >= 0, "bad hex %s", hex);
    return (size_t)n;
}

static void verified(struct cl_policy_state *st)
{
    cl_policy_init(st);
    cl_policy_pin_result(st, 0x80, 0x9000);
}

/* rc and *reason agree with the expected reason. */
#define assert_reason(rc, reason, want, what)                                              \
    do {                                                                                   \
        ck_assert_msg((rc) == ((want) == OK_R ? CL_OK : CL_ERR_DENIED), "%s: rc %d", what, \
                      (int)(rc));                                                          \
        ck_assert_msg((reason) == (want), "%s: reason %u (%s), want %u", what,             \
                      (unsigned)(reason), cl_policy_reason_name(reason), (unsigned)(want));  \
    } while (0)

/* APDU forms: case 1, case 2S, case 3S, case 4S, case 4E. */
static size_t build(uint8_t *b, uint8_t cla, uint8_t ins, uint8_t p2, int form, bool *data)
{
    b[0] = cla, b[1] = ins, b[2] = 0x00, b[3] = p2;
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

/* ------------------------------------------------------------ the ISO table */

static const struct {
    uint8_t ins, when, reason;
    const char *clause;
} iso_spec[] = {
    { 0x20, CL_POLICY_WHEN_DATA, R(PIN), "§10.2 VERIFY (no data: retry counter)" },
    { 0x21, CL_POLICY_WHEN_DATA, R(PIN), "§10.2 VERIFY odd" },
    { 0x24, CL_POLICY_WHEN_ALWAYS, R(PIN), "§10.2 CHANGE REFERENCE DATA" },
    { 0x25, CL_POLICY_WHEN_ALWAYS, R(PIN), "§10.2 CHANGE REFERENCE DATA odd" },
    { 0x2C, CL_POLICY_WHEN_ALWAYS, R(PIN), "§10.2 RESET RETRY COUNTER" },
    { 0x2D, CL_POLICY_WHEN_ALWAYS, R(PIN), "§10.2 RESET RETRY COUNTER odd" },
    { 0x26, CL_POLICY_WHEN_ALWAYS, R(PIN), "§10.2 DISABLE VERIFICATION REQUIREMENT" },
    { 0x27, CL_POLICY_WHEN_ALWAYS, R(PIN), "§10.2 DISABLE VERIFICATION REQUIREMENT odd" },
    { 0x28, CL_POLICY_WHEN_ALWAYS, R(PIN), "§10.2 ENABLE VERIFICATION REQUIREMENT" },
    { 0x29, CL_POLICY_WHEN_ALWAYS, R(PIN), "§10.2 ENABLE VERIFICATION REQUIREMENT odd" },
    { 0xC2, CL_POLICY_WHEN_ALWAYS, R(TUNNEL), "§10.3 ENVELOPE" },
    { 0xC3, CL_POLICY_WHEN_ALWAYS, R(TUNNEL), "§10.3 ENVELOPE odd" },
    { 0x2A, CL_POLICY_WHEN_ALWAYS, R(SIGN), "§10.4 PERFORM SECURITY OPERATION" },
    { 0x2B, CL_POLICY_WHEN_ALWAYS, R(SIGN), "§10.4 PERFORM SECURITY OPERATION odd" },
    { 0x88, CL_POLICY_WHEN_ALWAYS, R(SIGN), "§10.4 INTERNAL AUTHENTICATE" },
    { 0x86, CL_POLICY_WHEN_ALWAYS, R(SIGN), "§10.4 GENERAL AUTHENTICATE" },
    { 0x87, CL_POLICY_WHEN_ALWAYS, R(SIGN), "§10.4 GENERAL AUTHENTICATE odd" },
    { 0xAE, CL_POLICY_WHEN_ALWAYS, R(SIGN), "§10.4 GENERATE AC" },
    { 0x22, CL_POLICY_WHEN_PIN_VERIFIED, R(SIGN), "§10.4 MANAGE SECURITY ENVIRONMENT" },
};

/* interindustry, SM, chained, chained SM, proprietary, chained proprietary,
 * further interindustry, chained further interindustry */
static const uint8_t classes[] = { 0x00, 0x0C, 0x10, 0x1C, 0x80, 0x84, 0x90, 0x40, 0x50, 0xA0 };

START_TEST(test_iso_table)
{
    size_t i;

    ck_assert_uint_eq(cl_policy_iso.n, CL_ARRAY_LEN(iso_spec));
    for (i = 0; i < cl_policy_iso.n; i++) {
        const struct cl_policy_rule *r = &cl_policy_iso.rules[i];
        ck_assert_msg(r->ins == iso_spec[i].ins, "entry %zu: %s", i, iso_spec[i].clause);
        ck_assert_uint_eq(r->when, iso_spec[i].when);
        ck_assert_uint_eq(r->reason, iso_spec[i].reason);
        ck_assert_uint_eq(r->cla_mask, 0);
        ck_assert_uint_eq(r->p1_mask, 0);
        ck_assert_uint_eq(r->p2_mask, 0);
    }
}
END_TEST

/* One entry in every state, class and case, as an APDU and as a SCRIPT. */
START_TEST(test_iso_entry)
{
    struct cl_relay_script s;
    uint8_t b[16], reason;
    size_t c, n, step;
    int form, pin;
    bool data;

    for (pin = 0; pin < 2; pin++)
        for (c = 0; c < sizeof(classes); c++)
            for (form = 0; form < 5; form++) {
                struct cl_policy_state st;
                uint8_t want = OK_R;
                bool ch = (classes[c] & 0x10) != 0;
                int rc;

                if (pin)
                    verified(&st);
                else
                    cl_policy_init(&st);
                n = build(b, classes[c], iso_spec[_i].ins, 0x80, form, &data);
                if (ch && (iso_spec[_i].reason == R(PIN) || iso_spec[_i].reason == R(SIGN)))
                    want = R(CHAIN_PIN);
                else if (iso_spec[_i].when == CL_POLICY_WHEN_ALWAYS ||
                         (iso_spec[_i].when == CL_POLICY_WHEN_DATA && data) ||
                         (iso_spec[_i].when == CL_POLICY_WHEN_PIN_VERIFIED && pin))
                    want = iso_spec[_i].reason;
                reason = 0xEE;
                rc = cl_policy_check_apdu(NULL, &st, b, n, &reason);
                assert_reason(rc, reason, want, iso_spec[_i].clause);
                ck_assert_uint_eq(cl_policy_wire_code(reason),
                                  want == OK_R ? CL_RELAY_E_NONE : CL_RELAY_E_DENIED);
                memset(&s, 0, sizeof(s));
                s.nsteps = 1;
                s.steps[0].apdu.data = b;
                s.steps[0].apdu.len = n;
                reason = 0xEE;
                step = 77;
                rc = cl_policy_check_script(NULL, &st, &s, &reason, &step);
                assert_reason(rc, reason, want, iso_spec[_i].clause);
                ck_assert_uint_eq(step, want == OK_R ? CL_POLICY_NO_STEP : 0);
            }
}
END_TEST

/* ------------------------------------------------------------ the cardlink table */

static const struct {
    uint8_t ins, p2_mask, p2;
    const char *what;
} cardlink_spec[] = {
    { 0x54, 0x00, 0x00, "DEBIT" },
    { 0x56, 0x00, 0x00, "USE (e-goods)" },
    { 0xE2, 0xF8, 0x28, "APPEND RECORD to the transaction log (SFI 5)" },
    { 0xE2, 0xF8, 0x00, "APPEND RECORD to the current EF (SFI 0)" },
};

START_TEST(test_cardlink_table)
{
    size_t i;

    ck_assert_uint_eq(cl_policy_cardlink.n, CL_ARRAY_LEN(cardlink_spec));
    for (i = 0; i < cl_policy_cardlink.n; i++) {
        const struct cl_policy_rule *r = &cl_policy_cardlink.rules[i];
        ck_assert_msg(r->ins == cardlink_spec[i].ins, "%s", cardlink_spec[i].what);
        ck_assert_uint_eq(r->p2_mask, cardlink_spec[i].p2_mask);
        ck_assert_uint_eq(r->p2, cardlink_spec[i].p2);
        ck_assert_uint_eq(r->cla_mask, 0);
        ck_assert_uint_eq(r->p1_mask, 0);
        ck_assert_uint_eq(r->when, CL_POLICY_WHEN_ALWAYS);
        ck_assert_uint_eq(r->reason, R(VALUE));
    }
}
END_TEST

/* Each entry (the last included) with the set enabled, and not. */
START_TEST(test_cardlink_entry)
{
    const struct cl_policy on = { 0, 0, 0, CL_POLICY_F_CARDLINK, NULL, 0 };
    uint8_t b[16], reason;
    unsigned low;
    int form, pin;
    bool data;

    for (pin = 0; pin < 2; pin++)
        for (form = 0; form < 5; form++)
            for (low = 0; low < 8; low++) {
                struct cl_policy_state st;
                uint8_t p2 = (uint8_t)(cardlink_spec[_i].p2 | (cardlink_spec[_i].p2_mask ? low : 0));
                size_t n = build(b, 0x80, cardlink_spec[_i].ins, p2, form, &data);
                int rc;

                if (pin)
                    verified(&st);
                else
                    cl_policy_init(&st);
                reason = 0xEE;
                rc = cl_policy_check_apdu(&on, &st, b, n, &reason);
                assert_reason(rc, reason, R(VALUE), cardlink_spec[_i].what);
                b[0] = 0x00;
                rc = cl_policy_check_apdu(&on, &st, b, n, &reason);
                assert_reason(rc, reason, R(VALUE), cardlink_spec[_i].what);
                rc = cl_policy_check_apdu(NULL, &st, b, n, &reason);
                assert_reason(rc, reason, OK_R, cardlink_spec[_i].what);
            }
}
END_TEST

/* What the cardlink applet's servers do relay. */
static const struct {
    const char *apdu;
    const char *what;
} cardlink_ok[] = {
    { "80 5C 00 00 00", "GET BALANCE" },
    { "80 52 00 00 08 00 00 27 10 11 22 33 44", "CREDIT (issuer-signed)" },
    { "00 E2 00 20 03 10 AA BB", "APPEND RECORD e-goods (SFI 4, issuer-signed)" },
    { "00 E2 00 08 01 00", "APPEND RECORD SFI 1" },
    { "00 E2 00 30 01 00", "APPEND RECORD SFI 6" },
    { "00 B2 01 2C 00", "READ RECORD the log" },
    { "00 20 00 80", "VERIFY retry counter query" },
    { "00 84 00 00 08", "GET CHALLENGE" },
    { "00 A4 04 00 07 F0 43 4C 50 41 59 01", "SELECT the applet" },
    { "00 CA 7F 49 00", "GET DATA public key" },
    /* the issuer's BLOCK (docs/applet.md): relayed on purpose, a server
     * without the issuer key cannot make one the card accepts */
    { "80 1E 00 00 08 30 06 02 01 01 02 01 01", "BLOCK, shortest signature" },
};

/* GET CHALLENGE then BLOCK as one SCRIPT (what a server's failure policy
 * sends as two APDUs): allowed with the cardlink set, and after a PIN. */
START_TEST(test_cardlink_block_script)
{
    const struct cl_policy on = { 0, 0, 0, CL_POLICY_F_CARDLINK, NULL, 0 };
    struct cl_policy_state st;
    struct cl_relay_script sc;
    uint8_t gc[5], bk[80], reason = 0xEE;
    size_t step = 0;

    memset(&sc, 0, sizeof(sc));
    sc.nsteps = 2;
    sc.steps[0].apdu.data = gc;
    sc.steps[0].apdu.len = hx("00 84 00 00 08", gc, sizeof(gc));
    sc.steps[1].apdu.data = bk;
    /* a 71-byte DER signature, as the issuer's P-256 key makes */
    sc.steps[1].apdu.len = hx("80 1E 00 00 47 30 45 02 21 00 C3 5E 19 77 0A 42 D8 6B 11 22 33 44"
                              " 55 66 77 88 99 AA BB CC DD EE FF 00 11 22 33 44 55 66 77 88 99 02"
                              " 20 0A 0B 0C 0D 0E 0F 10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E"
                              " 1F 20 21 22 23 24 25 26 27 28",
                              bk, sizeof(bk));
    ck_assert_uint_eq(sc.steps[1].apdu.len, 76);
    cl_policy_init(&st);
    assert_reason(cl_policy_check_script(&on, &st, &sc, &reason, &step), reason, OK_R,
                  "GET CHALLENGE + BLOCK");
    ck_assert_uint_eq(step, CL_POLICY_NO_STEP);
    verified(&st);
    assert_reason(cl_policy_check_script(&on, &st, &sc, &reason, &step), reason, OK_R,
                  "GET CHALLENGE + BLOCK, PIN verified");
    /* no rule of either table names INS 1E */
    {
        size_t i;
        for (i = 0; i < cl_policy_cardlink.n; i++)
            ck_assert_uint_ne(cl_policy_cardlink.rules[i].ins, 0x1E);
        for (i = 0; i < cl_policy_iso.n; i++)
            ck_assert_uint_ne(cl_policy_iso.rules[i].ins, 0x1E);
    }
}
END_TEST

START_TEST(test_cardlink_allowed)
{
    const struct cl_policy on = { 0, 0, 0, CL_POLICY_F_CARDLINK, NULL, 0 };
    struct cl_policy_state st;
    uint8_t b[64], reason = 0xEE;
    size_t n = hx(cardlink_ok[_i].apdu, b, sizeof(b));

    verified(&st);
    assert_reason(cl_policy_check_apdu(&on, &st, b, n, &reason), reason, OK_R, cardlink_ok[_i].what);
    cl_policy_init(&st);
    reason = 0xEE;
    assert_reason(cl_policy_check_apdu(&on, &st, b, n, &reason), reason, OK_R, cardlink_ok[_i].what);
}
END_TEST

/* Everyday ISO commands pass in every state. */
START_TEST(test_allowed)
{
    static const uint8_t ins[] = { 0xA4, 0xB0, 0xB2, 0xD6, 0xDC, 0xCA, 0xCB, 0x84, 0x82,
                                   0xE2, 0xC0, 0x0E, 0x44, 0x70, 0x47 };
    uint8_t b[16], reason;
    size_t i, n;
    int pin, form;
    bool data;

    for (i = 0; i < sizeof(ins); i++)
        for (pin = 0; pin < 2; pin++)
            for (form = 0; form < 5; form++) {
                struct cl_policy_state st;
                if (pin)
                    verified(&st);
                else
                    cl_policy_init(&st);
                n = build(b, 0x00, ins[i], 0x80, form, &data);
                reason = 0xEE;
                ck_assert_int_eq(cl_policy_check_apdu(NULL, &st, b, n, &reason), CL_OK);
                ck_assert_uint_eq(reason, OK_R);
            }
    /* NULL state and NULL reason: defaults */
    n = build(b, 0x00, 0x22, 0x80, 3, &data);
    ck_assert_int_eq(cl_policy_check_apdu(NULL, NULL, b, n, NULL), CL_OK);
}
END_TEST

/* ------------------------------------------------------------ form and limits */

static const struct {
    const char *apdu;
    size_t max;
    uint8_t reason;
    const char *why;
} form_cases[] = {
    { "00 A4 04", 0, R(MALFORMED), "3 bytes" },
    { "", 0, R(MALFORMED), "nothing" },
    { "00 A4 04 00 07 A0 00", 0, R(MALFORMED), "Lc 7, 2 data bytes" },
    { "00 A4 04 00 00 00", 0, R(MALFORMED), "Lc 00 (short) with a byte" },
    { "FF CA 00 00 00", 0, R(READER_CLA), "PC/SC GET DATA pseudo-APDU" },
    { "FF 20 00 80 00", 0, R(READER_CLA), "CLA FF before the INS rules" },
    { "00 B0 00 00 00 01 00", 0, OK_R, "case 2E, 7 bytes" },
    { "00 D6 00 00 05 01 02 03 04 05", 9, R(TOO_LARGE), "10 bytes, max 9 (N-1)" },
    { "00 D6 00 00 05 01 02 03 04 05", 10, OK_R, "10 bytes, max 10 (N)" },
    { "00 D6 00 00 05 01 02 03 04 05", 11, OK_R, "10 bytes, max 11 (N+1)" },
    { "00 D6 00 00 05 01 02 03 04 05", 0, OK_R, "10 bytes, max 0 (default 261)" },
    { "FF D6 00 00 05 01 02 03 04 05", 9, R(TOO_LARGE), "size before CLA FF" },
    { "00 20 00 80 05 01 02 03 04 05", 9, R(TOO_LARGE), "size before the INS rules" },
    { "00 20 00 80 01 31", 0, R(PIN), "VERIFY with exactly one data byte" },
    { "00 20 00 80 00", 0, OK_R, "VERIFY case 2 (Le only)" },
    { "00 21 00 80 00 00 01 31", 0, R(PIN), "VERIFY odd, extended, 1 byte" },
    /* tries left: no data field, whatever the length bytes (the device
     * fuzzer's oracle once took this for a PIN) */
    { "00 21 21 10 00 00 82", 0, OK_R, "VERIFY odd, case 2E: no data" },
    { "00 20 00 80 00 00 00", 0, OK_R, "VERIFY, case 2E, Le 65536: no data" },
};

START_TEST(test_form)
{
    uint8_t b[64], reason = 0xEE;
    size_t n = hx(form_cases[_i].apdu, b, sizeof(b));
    struct cl_policy cfg = { 0, 0, 0, 0, NULL, 0 };
    int rc;

    cfg.max_apdu = form_cases[_i].max;
    rc = cl_policy_check_apdu(&cfg, NULL, n ? b : NULL, n, &reason);
    assert_reason(rc, reason, form_cases[_i].reason, form_cases[_i].why);
}
END_TEST

/* The default bound (CL_APDU_MAX, 261) at N-1, N, N+1, and a configured one. */
START_TEST(test_apdu_max)
{
    static uint8_t b[300];
    size_t len;

    for (len = 258; len <= 264; len++) {
        size_t nc = len - 7;
        struct cl_policy cfg = { 0, 0, 0, 0, NULL, 0 };
        uint8_t reason = 0xEE;

        memset(b, 0x41, sizeof(b));
        b[0] = 0x00, b[1] = 0xD6, b[2] = 0, b[3] = 0, b[4] = 0;
        b[5] = (uint8_t)(nc >> 8), b[6] = (uint8_t)nc;
        assert_reason(cl_policy_check_apdu(NULL, NULL, b, len, &reason), reason,
                      len <= 261 ? OK_R : R(TOO_LARGE), "default");
        cfg.max_apdu = 0;
        assert_reason(cl_policy_check_apdu(&cfg, NULL, b, len, &reason), reason,
                      len <= 261 ? OK_R : R(TOO_LARGE), "max 0");
        cfg.max_apdu = 261;
        assert_reason(cl_policy_check_apdu(&cfg, NULL, b, len, &reason), reason,
                      len <= 261 ? OK_R : R(TOO_LARGE), "max 261");
        cfg.max_apdu = 262;
        assert_reason(cl_policy_check_apdu(&cfg, NULL, b, len, &reason), reason,
                      len <= 262 ? OK_R : R(TOO_LARGE), "max 262");
        cfg.max_apdu = 65544;
        assert_reason(cl_policy_check_apdu(&cfg, NULL, b, len, &reason), reason, OK_R, "max 65544");
        b[1] = 0x20;   /* extended VERIFY: still PIN handling */
        assert_reason(cl_policy_check_apdu(&cfg, NULL, b, len, &reason), reason, R(PIN), "VERIFY");
    }
    ck_assert_uint_eq(cl_policy_wire_code(R(TOO_LARGE)), CL_RELAY_E_TOO_LARGE);
}
END_TEST

static const uint8_t read_rec[] = { 0x00, 0xB2, 0x01, 0x0C, 0x00 };

static void script_of(struct cl_relay_script *s, size_t n)
{
    size_t i;

    memset(s, 0, sizeof(*s));
    s->nsteps = n;
    for (i = 0; i < n && i < CL_RELAY_SCRIPT_MAX; i++) {
        s->steps[i].apdu.data = read_rec;
        s->steps[i].apdu.len = sizeof(read_rec);
    }
}

/* Step limit at N-1, N, N+1, with 0 (the decoder's CL_RELAY_SCRIPT_MAX) and
 * a value above it (capped). */
static const struct {
    size_t max, nsteps;
    uint8_t reason;
} steps_cases[] = {
    { 3, 2, OK_R },
    { 3, 3, OK_R },
    { 3, 4, R(SCRIPT_STEPS) },
    { 1, 1, OK_R },
    { 1, 2, R(SCRIPT_STEPS) },
    { 0, CL_RELAY_SCRIPT_MAX - 1, OK_R },
    { 0, CL_RELAY_SCRIPT_MAX, OK_R },
    { 0, CL_RELAY_SCRIPT_MAX + 1, R(SCRIPT_STEPS) },
    { CL_RELAY_SCRIPT_MAX, CL_RELAY_SCRIPT_MAX, OK_R },
    { 100, CL_RELAY_SCRIPT_MAX, OK_R },
    { 100, CL_RELAY_SCRIPT_MAX + 1, R(SCRIPT_STEPS) },
    { 0, 0, R(MALFORMED) },
    { 3, 0, R(MALFORMED) },
};

START_TEST(test_steps)
{
    struct cl_relay_script s;
    struct cl_policy cfg = { 0, 0, 0, 0, NULL, 0 };
    uint8_t reason = 0xEE;
    size_t step = 77;
    int rc;

    cfg.max_steps = steps_cases[_i].max;
    script_of(&s, steps_cases[_i].nsteps);
    rc = cl_policy_check_script(&cfg, NULL, &s, &reason, &step);
    assert_reason(rc, reason, steps_cases[_i].reason, "steps");
    ck_assert_uint_eq(step, CL_POLICY_NO_STEP);
    ck_assert_uint_eq(cl_policy_wire_code(reason),
                      steps_cases[_i].reason == OK_R ? CL_RELAY_E_NONE
                      : steps_cases[_i].reason == R(MALFORMED) ? CL_RELAY_E_DENIED
                                                              : CL_RELAY_E_TOO_LARGE);
}
END_TEST

/* Message size at N-1, N, N+1 and 0 (no bound). */
START_TEST(test_msg_size)
{
    struct cl_relay_msg m;
    struct cl_policy cfg = { 0, 0, 40, 0, NULL, 0 };
    uint8_t reason = 0xEE;
    size_t step = 77;

    cl_relay_msg_init(&m, CL_RELAY_KEEPALIVE);
    assert_reason(cl_policy_check_msg(&cfg, NULL, &m, 39, &reason, &step), reason, OK_R, "N-1");
    ck_assert_uint_eq(step, CL_POLICY_NO_STEP);
    assert_reason(cl_policy_check_msg(&cfg, NULL, &m, 40, &reason, &step), reason, OK_R, "N");
    assert_reason(cl_policy_check_msg(&cfg, NULL, &m, 41, &reason, &step), reason, R(MSG_SIZE),
                  "N+1");
    ck_assert_uint_eq(step, CL_POLICY_NO_STEP);
    ck_assert_uint_eq(cl_policy_wire_code(reason), CL_RELAY_E_TOO_LARGE);
    cfg.max_msg = 0;
    assert_reason(cl_policy_check_msg(&cfg, NULL, &m, CL_RELAY_MSG_MAX, &reason, &step), reason,
                  OK_R, "0: no bound");
    assert_reason(cl_policy_check_msg(&cfg, NULL, &m, (size_t)-1, &reason, &step), reason, OK_R,
                  "0: no bound, huge");
    assert_reason(cl_policy_check_msg(NULL, NULL, &m, (size_t)-1, &reason, &step), reason, OK_R,
                  "NULL config");
}
END_TEST

/* ------------------------------------------------------------ chains */

START_TEST(test_chain)
{
    struct cl_policy_state st;
    uint8_t b[32], reason = 0xEE;
    size_t n;

    cl_policy_init(&st);
    /* a chained UPDATE BINARY answered 9000: the next must be its continuation */
    n = hx("10 D6 00 00 02 01 02", b, sizeof(b));
    assert_reason(cl_policy_check_apdu(NULL, &st, b, n, &reason), reason, OK_R, "chain start");
    cl_policy_relayed(&st, b, n, 0x9000);
    n = hx("00 B0 00 00 00", b, sizeof(b));
    assert_reason(cl_policy_check_apdu(NULL, &st, b, n, &reason), reason, R(CHAIN_INS),
                  "other INS in a chain");
    n = hx("80 D6 00 00 01 03", b, sizeof(b));
    assert_reason(cl_policy_check_apdu(NULL, &st, b, n, &reason), reason, R(CHAIN_INS),
                  "other CLA in a chain");
    n = hx("10 D6 00 02 01 03", b, sizeof(b));
    assert_reason(cl_policy_check_apdu(NULL, &st, b, n, &reason), reason, OK_R, "chain goes on");
    cl_policy_relayed(&st, b, n, 0x9000);
    n = hx("00 D6 00 03 01 04", b, sizeof(b));
    assert_reason(cl_policy_check_apdu(NULL, &st, b, n, &reason), reason, OK_R, "chain ends");
    cl_policy_relayed(&st, b, n, 0x9000);
    n = hx("00 B0 00 00 00", b, sizeof(b));
    assert_reason(cl_policy_check_apdu(NULL, &st, b, n, &reason), reason, OK_R, "after the chain");
    /* a refused link ends the chain; so does a card reset */
    n = hx("10 D6 00 00 02 01 02", b, sizeof(b));
    cl_policy_relayed(&st, b, n, 0x6884);
    n = hx("00 B0 00 00 00", b, sizeof(b));
    assert_reason(cl_policy_check_apdu(NULL, &st, b, n, &reason), reason, OK_R, "6884 ends it");
    n = hx("10 D6 00 00 02 01 02", b, sizeof(b));
    cl_policy_relayed(&st, b, n, 0x6100);
    n = hx("00 B0 00 00 00", b, sizeof(b));
    assert_reason(cl_policy_check_apdu(NULL, &st, b, n, &reason), reason, R(CHAIN_INS), "61xx");
    cl_policy_card_reset(&st);
    assert_reason(cl_policy_check_apdu(NULL, &st, b, n, &reason), reason, OK_R, "after reset");
    /* a proprietary class: the chain is continued in its class, 80 */
    n = hx("90 D6 00 00 02 01 02", b, sizeof(b));
    cl_policy_relayed(&st, b, n, 0x9000);
    n = hx("00 D6 00 02 01 03", b, sizeof(b));
    assert_reason(cl_policy_check_apdu(NULL, &st, b, n, &reason), reason, R(CHAIN_INS),
                  "class 00 after a class 90 link");
    n = hx("80 D6 00 02 01 03", b, sizeof(b));
    assert_reason(cl_policy_check_apdu(NULL, &st, b, n, &reason), reason, OK_R,
                  "class 80 after a class 90 link");
    cl_policy_relayed(&st, b, n, 0x9000);
    /* malformed bytes leave it alone */
    n = hx("10 D6 00 00 02 01 02", b, sizeof(b));
    cl_policy_relayed(&st, b, n, 0x9000);
    cl_policy_relayed(&st, b, 3, 0x9000);
    n = hx("00 B0 00 00 00", b, sizeof(b));
    assert_reason(cl_policy_check_apdu(NULL, &st, b, n, &reason), reason, R(CHAIN_INS),
                  "malformed report ignored");
}
END_TEST

/* Chains inside a script: the script is checked as the card would see it. */
static const struct {
    const char *steps[3];
    uint8_t reason;
    size_t step;
    const char *why;
} chain_scripts[] = {
    { { "10 D6 00 00 01 01", "00 D6 00 01 01 02", NULL }, OK_R, CL_POLICY_NO_STEP, "one INS" },
    { { "10 D6 00 00 01 01", "00 B0 00 00 00", NULL }, R(CHAIN_INS), 1, "chain then READ" },
    { { "10 D6 00 00 01 01", "10 D6 00 01 01 02", "00 B0 00 00 00" }, R(CHAIN_INS), 2,
      "two links then READ" },
    { { "10 D6 00 00 01 01", "00 20 00 80 08 24 12 34 FF FF FF FF FF", NULL }, R(CHAIN_INS), 1,
      "continuation carrying a PIN block under another INS" },
    { { "10 20 00 80", "00 20 00 80", NULL }, R(CHAIN_PIN), 0, "chained VERIFY without data" },
    { { "00 B0 00 00 00", "10 2A 9E 9A 01 01", NULL }, R(CHAIN_PIN), 1, "chained PSO" },
    { { "00 D6 00 00 01 01", "00 B0 00 00 00", "00 20 00 80" }, OK_R, CL_POLICY_NO_STEP,
      "no chain" },
    { { "90 D6 00 00 01 01", "80 D6 00 01 01 02", NULL }, OK_R, CL_POLICY_NO_STEP,
      "a proprietary class chains in its own class" },
    { { "90 D6 00 00 01 01", "00 D6 00 01 01 02", NULL }, R(CHAIN_INS), 1,
      "a proprietary chain continued in class 00" },
};

START_TEST(test_chain_script)
{
    static uint8_t b[3][32];
    struct cl_relay_script s;
    uint8_t reason = 0xEE;
    size_t i, step = 77;

    memset(&s, 0, sizeof(s));
    for (i = 0; i < 3 && chain_scripts[_i].steps[i] != NULL; i++) {
        s.steps[i].apdu.data = b[i];
        s.steps[i].apdu.len = hx(chain_scripts[_i].steps[i], b[i], sizeof(b[i]));
    }
    s.nsteps = i;
    assert_reason(cl_policy_check_script(NULL, NULL, &s, &reason, &step), reason,
                  chain_scripts[_i].reason, chain_scripts[_i].why);
    ck_assert_uint_eq(step, chain_scripts[_i].step);
}
END_TEST

/* A script's first step continues the relayed chain in progress. */
START_TEST(test_chain_state_script)
{
    struct cl_policy_state st;
    struct cl_relay_script s;
    uint8_t b[16], reason = 0xEE;
    size_t n, step = 77;

    cl_policy_init(&st);
    n = hx("10 D6 00 00 01 01", b, sizeof(b));
    cl_policy_relayed(&st, b, n, 0x9000);
    script_of(&s, 2);
    assert_reason(cl_policy_check_script(NULL, &st, &s, &reason, &step), reason, R(CHAIN_INS),
                  "script after a chain link");
    ck_assert_uint_eq(step, 0);
}
END_TEST

/* ------------------------------------------------------------ extension tables */

START_TEST(test_extra_tables)
{
    static const struct cl_policy_rule app_a[] = {
        { 0xF0, 0x80, 0x5A, 0x00, 0x00, 0x00, 0x00, CL_POLICY_WHEN_PIN_VERIFIED, 0 },
        { 0xEC, 0x80, 0x66, 0x00, 0x00, 0x00, 0x00, CL_POLICY_WHEN_ALWAYS, R(PIN) },
    };
    static const struct cl_policy_rule app_b[] = {
        { 0xFF, 0x80, 0x10, 0xFF, 0x01, 0x00, 0x00, CL_POLICY_WHEN_DATA, R(VALUE) },
        { 0xFF, 0x80, 0x12, 0x00, 0x00, 0xF8, 0x18, CL_POLICY_WHEN_ALWAYS, R(SIGN) },
    };
    static const struct cl_policy_table tabs[] = { { app_a, 2 }, { app_b, 2 } };
    struct cl_policy cfg = { 0, 0, 0, 0, tabs, 2 };
    struct cl_policy_state st;
    uint8_t b[16], reason = 0xEE;
    size_t n;
    bool data;

    cl_policy_init(&st);
    n = build(b, 0x80, 0x5A, 0x00, 2, &data);
    assert_reason(cl_policy_check_apdu(&cfg, &st, b, n, &reason), reason, OK_R, "5A not verified");
    verified(&st);
    assert_reason(cl_policy_check_apdu(&cfg, &st, b, n, &reason), reason, R(USER), "5A verified");
    n = build(b, 0x84, 0x5A, 0x00, 2, &data);   /* 84 & F0 == 80 */
    assert_reason(cl_policy_check_apdu(&cfg, &st, b, n, &reason), reason, R(USER), "84 5A");
    n = build(b, 0x00, 0x5A, 0x00, 2, &data);
    assert_reason(cl_policy_check_apdu(&cfg, &st, b, n, &reason), reason, OK_R, "00 5A");
    n = build(b, 0x83, 0x66, 0x00, 0, &data);   /* 83 & EC == 80 */
    assert_reason(cl_policy_check_apdu(&cfg, NULL, b, n, &reason), reason, R(PIN), "83 66");
    n = build(b, 0x93, 0x66, 0x00, 0, &data);   /* chained: a PIN rule refuses it as such */
    assert_reason(cl_policy_check_apdu(&cfg, NULL, b, n, &reason), reason, R(CHAIN_PIN), "93 66");
    n = build(b, 0x94, 0x66, 0x00, 0, &data);
    assert_reason(cl_policy_check_apdu(&cfg, NULL, b, n, &reason), reason, OK_R, "94 66");
    /* the second table: P1 mask, then (its last rule) P2 mask */
    n = build(b, 0x80, 0x10, 0x00, 2, &data);
    b[2] = 0x01;
    assert_reason(cl_policy_check_apdu(&cfg, NULL, b, n, &reason), reason, R(VALUE), "P1 01");
    b[2] = 0x02;
    assert_reason(cl_policy_check_apdu(&cfg, NULL, b, n, &reason), reason, OK_R, "P1 02");
    n = build(b, 0x80, 0x10, 0x00, 1, &data);
    b[2] = 0x01;
    assert_reason(cl_policy_check_apdu(&cfg, NULL, b, n, &reason), reason, OK_R, "P1 01 no data");
    n = build(b, 0x80, 0x12, 0x1C, 0, &data);
    assert_reason(cl_policy_check_apdu(&cfg, NULL, b, n, &reason), reason, R(SIGN), "last rule");
    n = build(b, 0x80, 0x12, 0x20, 0, &data);
    assert_reason(cl_policy_check_apdu(&cfg, NULL, b, n, &reason), reason, OK_R, "P2 20");
    /* only the first table */
    cfg.nextra = 1;
    n = build(b, 0x80, 0x12, 0x1C, 0, &data);
    assert_reason(cl_policy_check_apdu(&cfg, NULL, b, n, &reason), reason, OK_R, "nextra 1");
    /* a rule with a signing reason refuses its chained form */
    cfg.nextra = 2;
    n = build(b, 0x80, 0x12, 0x00, 0, &data);
    b[0] = 0x90;
    assert_reason(cl_policy_check_apdu(&cfg, NULL, b, n, &reason), reason, OK_R, "90: CLA FF mask");
    /* bad tables */
    cfg.extra = NULL;
    ck_assert_int_eq(cl_policy_check_apdu(&cfg, NULL, b, n, &reason), CL_ERR_ARG);
    {
        static const struct cl_policy_table bad[] = { { NULL, 1 } };
        struct cl_policy c2 = { 0, 0, 0, 0, bad, 1 };
        struct cl_relay_script s;
        script_of(&s, 1);
        ck_assert_int_eq(cl_policy_check_apdu(&c2, NULL, b, n, &reason), CL_ERR_ARG);
        ck_assert_int_eq(cl_policy_check_script(&c2, NULL, &s, &reason, NULL), CL_ERR_ARG);
    }
}
END_TEST

/* ------------------------------------------------------------ PIN templates */

static const struct {
    const char *apdu;
    uint8_t enc, min, max, off, len_off, new_off;
    bool change;
    uint8_t reason;
    const char *why;
} tmpl[] = {
    { "00 20 00 80 08 24 FF FF FF FF FF FF FF", 3, 4, 12, 0, 0xFF, 0xFF, false, OK_R,
      "§5.11 pin-verify (format 2)" },
    { "00 20 00 80 08 2C FF FF FF FF FF FF FF", 3, 4, 12, 0, 0xFF, 0xFF, false, OK_R,
      "format 2, any length nibble" },
    { "00 20 00 81 08 20 FF FF FF FF FF FF FF 00", 3, 4, 12, 0, 0xFF, 0xFF, false, OK_R,
      "case 4, P2 81" },
    { "00 24 00 80 10 24 FF FF FF FF FF FF FF 24 FF FF FF FF FF FF FF", 3, 4, 12, 0, 0xFF, 8, true,
      OK_R, "§5.11 pin-change" },
    { "00 24 00 80 08 24 FF FF FF FF FF FF FF", 3, 4, 12, 0xFF, 0xFF, 0, true, OK_R,
      "change: new PIN only" },
    { "00 20 00 80 05 00 FF FF FF FF", 1, 4, 8, 1, 0, 0xFF, false, OK_R, "length byte + BCD" },
    { "00 20 00 80 06 FF FF FF FF FF FF", 2, 4, 6, 0, 0xFF, 0xFF, false, OK_R, "ASCII 6" },
    { "00 20 00 80 07 FF FF FF FF FF FF 06", 2, 4, 6, 0, 6, 0xFF, false, OK_R,
      "ASCII, length byte after" },
    { "00 20 00 80 06 FF FF FF FF FF FF", 1, 4, 12, 0, 0xFF, 0xFF, false, OK_R, "BCD 12" },
    { "00 20 00 80 02 FF FF", 1, 4, 4, 0, 0xFF, 0xFF, false, OK_R, "BCD 4" },
    /* header */
    { "80 20 00 80 08 24 FF FF FF FF FF FF FF", 3, 4, 12, 0, 0xFF, 0xFF, false,
      R(TEMPLATE_HEADER), "CLA 80" },
    { "0C 20 00 80 08 24 FF FF FF FF FF FF FF", 3, 4, 12, 0, 0xFF, 0xFF, false,
      R(TEMPLATE_HEADER), "CLA 0C" },
    { "10 20 00 80 08 24 FF FF FF FF FF FF FF", 3, 4, 12, 0, 0xFF, 0xFF, false,
      R(TEMPLATE_HEADER), "CLA 10 (chained)" },
    { "FF 20 00 80 08 24 FF FF FF FF FF FF FF", 3, 4, 12, 0, 0xFF, 0xFF, false,
      R(TEMPLATE_HEADER), "CLA FF" },
    { "00 20 01 80 08 24 FF FF FF FF FF FF FF", 3, 4, 12, 0, 0xFF, 0xFF, false,
      R(TEMPLATE_HEADER), "P1 01" },
    { "00 20 FF 80 08 24 FF FF FF FF FF FF FF", 3, 4, 12, 0, 0xFF, 0xFF, false,
      R(TEMPLATE_HEADER), "P1 FF" },
    { "00 24 00 80 08 24 FF FF FF FF FF FF FF", 3, 4, 12, 0, 0xFF, 0xFF, false,
      R(TEMPLATE_HEADER), "CHANGE as a verify template" },
    { "00 20 00 80 08 24 FF FF FF FF FF FF FF", 3, 4, 12, 0xFF, 0xFF, 0, true,
      R(TEMPLATE_HEADER), "VERIFY as a change template" },
    { "00 24 01 80 10 24 FF FF FF FF FF FF FF 24 FF FF FF FF FF FF FF", 3, 4, 12, 0, 0xFF, 8, true,
      R(TEMPLATE_HEADER), "change P1 01" },
    { "00 D6 00 00 08 24 FF FF FF FF FF FF FF", 3, 4, 12, 0, 0xFF, 0xFF, false,
      R(TEMPLATE_HEADER), "UPDATE BINARY" },
    { "00 20 00 80", 3, 4, 12, 0, 0xFF, 0xFF, false, R(TEMPLATE_HEADER), "case 1" },
    { "00 20 00 80 00 00 08 24 FF FF FF FF FF FF FF", 3, 4, 12, 0, 0xFF, 0xFF, false,
      R(TEMPLATE_HEADER), "extended" },
    { "00 20 00", 3, 4, 12, 0, 0xFF, 0xFF, false, R(TEMPLATE_HEADER), "truncated" },
    /* lengths: 4..12 at N-1, N, N+1 */
    { "00 20 00 80 08 24 FF FF FF FF FF FF FF", 3, 3, 12, 0, 0xFF, 0xFF, false,
      R(TEMPLATE_LEN), "min 3" },
    { "00 20 00 80 08 24 FF FF FF FF FF FF FF", 3, 5, 12, 0, 0xFF, 0xFF, false, OK_R, "min 5" },
    { "00 20 00 80 08 24 FF FF FF FF FF FF FF", 3, 4, 13, 0, 0xFF, 0xFF, false,
      R(TEMPLATE_LEN), "max 13" },
    { "00 20 00 80 08 24 FF FF FF FF FF FF FF", 3, 4, 11, 0, 0xFF, 0xFF, false, OK_R, "max 11" },
    { "00 20 00 80 08 24 FF FF FF FF FF FF FF", 3, 4, 4, 0, 0xFF, 0xFF, false, OK_R, "4..4" },
    { "00 20 00 80 08 24 FF FF FF FF FF FF FF", 3, 12, 12, 0, 0xFF, 0xFF, false, OK_R, "12..12" },
    { "00 20 00 80 08 24 FF FF FF FF FF FF FF", 3, 8, 6, 0, 0xFF, 0xFF, false, R(TEMPLATE_LEN),
      "min > max" },
    { "00 20 00 80 08 24 FF FF FF FF FF FF FF", 3, 0, 12, 0, 0xFF, 0xFF, false, R(TEMPLATE_LEN),
      "min 0" },
    /* data */
    { "00 20 00 80 08 24 12 34 FF FF FF FF FF", 3, 4, 12, 0, 0xFF, 0xFF, false,
      R(TEMPLATE_DATA), "pre-filled digits (format 2)" },
    { "00 20 00 80 08 24 FF FF FF FF FF FF FE", 3, 4, 12, 0, 0xFF, 0xFF, false,
      R(TEMPLATE_DATA), "format 2 last byte FE" },
    { "00 20 00 80 08 14 FF FF FF FF FF FF FF", 3, 4, 12, 0, 0xFF, 0xFF, false,
      R(TEMPLATE_DATA), "control nibble 1" },
    { "00 20 00 80 09 24 FF FF FF FF FF FF FF FF", 3, 4, 12, 0, 0xFF, 0xFF, false,
      R(TEMPLATE_DATA), "a byte after the block" },
    { "00 20 00 80 09 FF 24 FF FF FF FF FF FF FF", 3, 4, 12, 1, 0xFF, 0xFF, false,
      R(TEMPLATE_DATA), "a byte before the block" },
    { "00 20 00 80 08 00 FF FF FF FF FF FF FF", 1, 4, 8, 1, 0, 0xFF, false, R(TEMPLATE_DATA),
      "3 bytes past the BCD region" },
    { "00 20 00 80 05 00 12 FF FF FF", 1, 4, 8, 1, 0, 0xFF, false, R(TEMPLATE_DATA),
      "BCD pre-filled" },
    { "00 20 00 80 05 00 FF FF FF FF", 1, 4, 8, 1, 1, 0xFF, false, R(TEMPLATE_DATA),
      "length byte inside the region" },
    { "00 20 00 80 06 30 FF FF FF FF FF", 2, 4, 6, 0, 0xFF, 0xFF, false, R(TEMPLATE_DATA),
      "ASCII pre-filled '0'" },
    { "00 20 00 80 06 FF FF FF FF FF 20", 2, 4, 6, 0, 0xFF, 0xFF, false, R(TEMPLATE_DATA),
      "ASCII space filler" },
    { "00 20 00 80 05 FF FF FF FF FF", 2, 4, 6, 0, 0xFF, 0xFF, false, R(TEMPLATE_DATA),
      "ASCII region past the data" },
    { "00 20 00 80 08 24 FF FF FF FF FF FF FF", 3, 4, 12, 0xFF, 0xFF, 0xFF, false,
      R(TEMPLATE_DATA), "verify without offset" },
    { "00 20 00 80 08 24 FF FF FF FF FF FF FF", 4, 4, 12, 0, 0xFF, 0xFF, false, R(TEMPLATE_DATA),
      "encoding 4" },
    { "00 20 00 80 08 24 FF FF FF FF FF FF FF", 0, 4, 12, 0, 0xFF, 0xFF, false, R(TEMPLATE_DATA),
      "encoding 0" },
    { "00 24 00 80 10 24 FF FF FF FF FF FF FF 24 12 34 FF FF FF FF FF", 3, 4, 12, 0, 0xFF, 8, true,
      R(TEMPLATE_DATA), "a new PIN pre-filled" },
    { "00 24 00 80 10 24 FF FF FF FF FF FF FF 24 FF FF FF FF FF FF FF", 3, 4, 12, 0, 0xFF, 4, true,
      R(TEMPLATE_DATA), "regions overlap" },
    { "00 24 00 80 10 24 FF FF FF FF FF FF FF 24 FF FF FF FF FF FF FF", 3, 4, 12, 0, 0xFF, 0xFF,
      true, R(TEMPLATE_DATA), "change without new offset" },
    { "00 24 00 80 10 24 FF FF FF FF FF FF FF 24 FF FF FF FF FF FF FF", 3, 4, 12, 0xFF, 0xFF, 8,
      true, R(TEMPLATE_DATA), "old block not a region: 8 stray bytes" },
    { "00 20 00 80 02 FF FF", 1, 4, 4, 0, 2, 0xFF, false, R(TEMPLATE_DATA),
      "length byte past the data" },
    { "00 20 00 80 04 FF FF FF FF", 1, 4, 8, 0, 0, 0xFF, false, R(TEMPLATE_DATA),
      "length byte on the region's first byte, every byte covered" },
    { "00 20 00 80 05 04 FF FF FF FF", 1, 4, 8, 1, 0, 0xFF, false, OK_R,
      "length byte, then the BCD region" },
};

START_TEST(test_template)
{
    struct cl_relay_pin p;
    uint8_t b[64], reason = 0xEE;
    int rc;

    memset(&p, 0, sizeof(p));
    p.apdu.data = b;
    p.apdu.len = hx(tmpl[_i].apdu, b, sizeof(b));
    p.encoding = tmpl[_i].enc;
    p.min_len = tmpl[_i].min;
    p.max_len = tmpl[_i].max;
    p.offset = tmpl[_i].off;
    p.len_offset = tmpl[_i].len_off;
    p.new_offset = tmpl[_i].new_off;
    rc = cl_policy_check_template(NULL, NULL, &p, tmpl[_i].change, &reason);
    assert_reason(rc, reason, tmpl[_i].reason, tmpl[_i].why);
    ck_assert_uint_eq(cl_policy_wire_code(reason),
                      tmpl[_i].reason == OK_R ? CL_RELAY_E_NONE : CL_RELAY_E_DENIED);
}
END_TEST

/* The state a template meets. */
START_TEST(test_template_state)
{
    struct cl_policy_state st;
    struct cl_relay_pin p;
    uint8_t b[32], reason = 0xEE;
    size_t n;

    memset(&p, 0, sizeof(p));
    p.apdu.data = b;
    p.apdu.len = hx("00 20 00 80 08 24 FF FF FF FF FF FF FF", b, sizeof(b));
    p.encoding = CL_RELAY_PIN_ISO9564_2, p.min_len = 4, p.max_len = 12, p.offset = 0;
    p.len_offset = CL_RELAY_NONE, p.new_offset = CL_RELAY_NONE;
    cl_policy_init(&st);
    assert_reason(cl_policy_check_template(NULL, &st, &p, false, &reason), reason, OK_R, "fresh");
    {
        uint8_t c[8];
        n = hx("10 D6 00 00 01 01", c, sizeof(c));
        cl_policy_relayed(&st, c, n, 0x9000);
    }
    assert_reason(cl_policy_check_template(NULL, &st, &p, false, &reason), reason, R(CHAIN_INS),
                  "during a relayed chain");
    cl_policy_card_reset(&st);
    st.cleanup = CL_POLICY_CLEANUP_PIN_RESET;
    assert_reason(cl_policy_check_template(NULL, &st, &p, false, &reason), reason, R(CLEANUP),
                  "cleanup pending");
    cl_policy_init(&st);
    st.step = CL_POLICY_SHOWING;
    assert_reason(cl_policy_check_template(NULL, &st, &p, false, &reason), reason, R(STATE),
                  "approval in progress");
    ck_assert_int_eq(cl_policy_check_template(NULL, NULL, NULL, false, &reason), CL_ERR_ARG);
    p.apdu.data = NULL;
    ck_assert_int_eq(cl_policy_check_template(NULL, NULL, &p, false, &reason), CL_ERR_ARG);
    /* pin results: only 9000 verifies; its P2 is the cleanup's */
    cl_policy_init(&st);
    cl_policy_pin_result(&st, 0x81, 0x63C2);
    ck_assert_uint_eq(st.flags & CL_POLICY_S_PIN_VERIFIED, 0);
    cl_policy_pin_result(&st, 0x81, 0x6A80);
    ck_assert_uint_eq(st.flags & CL_POLICY_S_PIN_VERIFIED, 0);
    cl_policy_pin_result(&st, 0x81, 0x9000);
    ck_assert_uint_eq(st.flags & CL_POLICY_S_PIN_VERIFIED, CL_POLICY_S_PIN_VERIFIED);
    ck_assert_uint_eq(st.pin_ref, 0x81);
}
END_TEST

/* ------------------------------------------------------------ approvals */

/* docs/protocol.md example txn-approve: txn-minimal (purchase, EUR 123.45,
 * "Cafe Rosa"), a PIN template, sign command default (PSO). */
static uint8_t approve_wire[512];
static size_t approve_len;

static void approve_msg(struct cl_relay_msg *m, struct cl_txn *txn)
{
    approve_len = cl_test_doc_example(CL_PROTOCOL_MD, "hex", "txn-approve", approve_wire,
                                      sizeof(approve_wire));
    ck_assert_int_eq(cl_relay_decode(approve_wire, approve_len, m), CL_OK);
    ck_assert_int_eq(cl_txn_decode(m->u.txn.txn.data, m->u.txn.txn.len, txn), CL_OK);
}

static void set_hdr(struct cl_relay_msg *m, const char *hex)
{
    ck_assert_uint_eq(hx(hex, m->u.txn.sign_cmd, 4), 4);
}

/* Signing header against kind (exact headers; DEBIT for purse only). */
static const struct {
    uint8_t kind;
    const char *hdr;
    unsigned flags;
    uint8_t reason;
    const char *why;
} sign_hdr[] = {
    { CL_TXN_PURCHASE, "00 2A 9E 9A", 0, OK_R, "purchase PSO" },
    { CL_TXN_PURCHASE, "00 88 00 00", 0, OK_R, "purchase INTERNAL AUTHENTICATE" },
    { CL_TXN_AUTHENTICATION, "00 88 00 00", 0, OK_R, "sign-in IA" },
    { CL_TXN_EMONEY_LOAD, "00 2A 9E 9A", CL_POLICY_F_CARDLINK, OK_R, "load PSO" },
    { CL_TXN_ACCESS_GRANT, "00 2A 9E 9A", 0, OK_R, "access PSO" },
    { CL_TXN_PURCHASE, "00 2A 9E 9B", 0, R(SIGN_CMD), "P2 9B (fails on purpose)" },
    { CL_TXN_PURCHASE, "00 2A 9E 9C", 0, R(SIGN_CMD), "P2 9C" },
    { CL_TXN_PURCHASE, "00 2A 80 86", 0, R(SIGN_CMD), "PSO DECIPHER" },
    { CL_TXN_PURCHASE, "80 2A 9E 9A", 0, R(SIGN_CMD), "CLA 80" },
    { CL_TXN_PURCHASE, "10 2A 9E 9A", 0, R(SIGN_CMD), "chained" },
    { CL_TXN_PURCHASE, "0C 2A 9E 9A", 0, R(SIGN_CMD), "secure messaging" },
    { CL_TXN_PURCHASE, "FF 2A 9E 9A", 0, R(SIGN_CMD), "CLA FF" },
    { CL_TXN_PURCHASE, "00 88 00 01", 0, R(SIGN_CMD), "IA P2 01" },
    { CL_TXN_PURCHASE, "00 86 00 00", 0, R(SIGN_CMD), "GENERAL AUTHENTICATE" },
    { CL_TXN_PURCHASE, "00 B0 00 00", 0, R(SIGN_CMD), "READ BINARY" },
    { CL_TXN_PURCHASE, "80 54 00 00", CL_POLICY_F_CARDLINK, R(SIGN_CMD), "DEBIT for a purchase" },
    { CL_POLICY_KIND_PURSE, "80 54 00 00", CL_POLICY_F_CARDLINK, OK_R, "purse DEBIT" },
    { CL_POLICY_KIND_PURSE, "80 54 00 00", 0, R(SIGN_CMD), "purse DEBIT, not a cardlink card" },
    { CL_POLICY_KIND_PURSE, "00 2A 9E 9A", CL_POLICY_F_CARDLINK, R(SIGN_CMD), "purse with PSO" },
    { CL_POLICY_KIND_PURSE, "00 88 00 00", CL_POLICY_F_CARDLINK, R(SIGN_CMD), "purse with IA" },
    { CL_POLICY_KIND_PURSE, "80 54 00 01", CL_POLICY_F_CARDLINK, R(SIGN_CMD), "DEBIT P2 01" },
    { CL_POLICY_KIND_PURSE, "80 56 00 00", CL_POLICY_F_CARDLINK, R(SIGN_CMD), "USE" },
};

START_TEST(test_sign_header)
{
    struct cl_relay_msg m;
    struct cl_txn txn;
    struct cl_policy cfg = { 0, 0, 0, 0, NULL, 0 };
    struct cl_policy_state st;
    uint8_t reason = 0xEE;
    int rc;

    approve_msg(&m, &txn);
    cfg.flags = sign_hdr[_i].flags;
    txn.kind = sign_hdr[_i].kind;
    set_hdr(&m, sign_hdr[_i].hdr);
    rc = cl_policy_check_txn(&cfg, &txn, m.u.txn.sign_cmd, &reason);
    assert_reason(rc, reason, sign_hdr[_i].reason, sign_hdr[_i].why);
    cl_policy_init(&st);
    reason = 0xEE;
    rc = cl_policy_approve_start(&cfg, &st, &m.u.txn, &txn, 2, &reason);
    assert_reason(rc, reason, sign_hdr[_i].reason, sign_hdr[_i].why);
    ck_assert_uint_eq(st.step, rc == CL_OK ? CL_POLICY_SHOWING : CL_POLICY_IDLE);
}
END_TEST

/* The amount rule (moved here from lib/txn). */
static const struct {
    uint8_t kind;
    bool has;
    uint64_t amount;
    uint8_t reason;
} amounts[] = {
    { CL_TXN_PURCHASE, true, 0, R(AMOUNT) },
    { CL_TXN_PURCHASE, false, 0, R(AMOUNT) },
    { CL_TXN_PURCHASE, true, 1, OK_R },
    { CL_TXN_EMONEY_LOAD, true, 0, R(AMOUNT) },
    { CL_TXN_EMONEY_LOAD, false, 0, R(AMOUNT) },
    { CL_TXN_EMONEY_LOAD, true, 1, OK_R },
    { CL_TXN_EGOODS_LOAD, true, 0, R(AMOUNT) },
    { CL_TXN_EGOODS_LOAD, false, 0, R(AMOUNT) },
    { CL_TXN_EGOODS_LOAD, true, CL_TXN_AMOUNT_MAX, OK_R },
    { CL_POLICY_KIND_PURSE, true, 0, R(AMOUNT) },
    { CL_POLICY_KIND_PURSE, false, 0, R(AMOUNT) },
    { CL_POLICY_KIND_PURSE, true, 1, OK_R },
    { CL_POLICY_KIND_PURSE, true, 0xFFFFFFFEu, OK_R },
    { CL_POLICY_KIND_PURSE, true, 0xFFFFFFFFu, OK_R },
    { CL_POLICY_KIND_PURSE, true, 0x100000000u, R(AMOUNT) },
    { CL_TXN_AUTHENTICATION, false, 0, OK_R },
    { CL_TXN_AUTHENTICATION, true, 0, OK_R },
    { CL_TXN_ACCESS_GRANT, false, 0, OK_R },
};

START_TEST(test_amount)
{
    static const uint8_t pso[4] = { 0x00, 0x2A, 0x9E, 0x9A };
    static const uint8_t debit[4] = { 0x80, 0x54, 0x00, 0x00 };
    const struct cl_policy cfg = { 0, 0, 0, CL_POLICY_F_CARDLINK, NULL, 0 };
    struct cl_relay_msg m;
    struct cl_txn txn;
    uint8_t reason = 0xEE;

    approve_msg(&m, &txn);
    txn.kind = amounts[_i].kind;
    txn.has_amount = amounts[_i].has;
    txn.amount = amounts[_i].amount;
    assert_reason(cl_policy_check_txn(&cfg, &txn, txn.kind == CL_POLICY_KIND_PURSE ? debit : pso,
                                      &reason),
                  reason, amounts[_i].reason, "amount");
}
END_TEST

/* Payee and item texts that read like an amount (finding 6). */
static const struct {
    const char *text;
    bool item;
    uint8_t reason;
} texts[] = {
    { "EUR 1.00", false, R(AMOUNT_TEXT) },
    { "1.00 EUR", false, R(AMOUNT_TEXT) },
    { "$5", false, R(AMOUNT_TEXT) },
    { "12,50", false, R(AMOUNT_TEXT) },
    { "Pay 1'000", false, R(AMOUNT_TEXT) },
    { "EUR", false, R(AMOUNT_TEXT) },
    { "Shop USD", false, R(AMOUNT_TEXT) },
    { "Total CHF", true, R(AMOUNT_TEXT) },
    { "#978 5", false, R(AMOUNT_TEXT) },
    { "5 euro", false, R(AMOUNT_TEXT) },
    { "Eur 5", false, R(AMOUNT_TEXT) },
    { "10 Dollars", true, R(AMOUNT_TEXT) },
    { "Kr 250", false, R(AMOUNT_TEXT) },
    { "gbp 3", false, R(AMOUNT_TEXT) },
    { "\xC2\xA3" "5", false, R(AMOUNT_TEXT) },         /* pound sign (hand-filled) */
    { "Shop \xE2\x82\xAC", true, R(AMOUNT_TEXT) },     /* euro sign (hand-filled) */
    { "\xC2\xA5", false, R(AMOUNT_TEXT) },              /* yen sign */
    { "\xC2\xA6", false, OK_R },                       /* broken bar: not a currency */
    { "Cafe Rosa", false, OK_R },
    { "Caf\xC3\xA9 Ros\xC3\xA9", false, OK_R },
    { "Metro Line 12", false, OK_R },
    { "Euro Shop", false, OK_R },
    { "Ticket Zone 2", true, OK_R },
    { "Room #A", false, OK_R },
    { "Eur", false, OK_R },
    { "Try it", true, OK_R },
    { "Gate 12-14", false, OK_R },
    /* each edge of the rules */
    { "Seat #9", false, R(AMOUNT_TEXT) },          /* '#' and a digit, at the end */
    { "1.5", false, R(AMOUNT_TEXT) },              /* a separator right after the first digit */
    { "12,5", false, R(AMOUNT_TEXT) },             /* ... right before the last */
    { "Vol.2", false, OK_R },                      /* a separator with a digit on one side */
    { "Gate 1.A", true, OK_R },
    { "ABC Shop", false, OK_R },                   /* three capitals, not a code */
    { "Pen 5", true, OK_R },                       /* a money word's beginning is not one */
    { "Zen Garden 5", false, OK_R },               /* nor its end ("yen") */
    { "5\xC2\xA2", true, R(AMOUNT_TEXT) },         /* cent sign, the range's low end */
};

START_TEST(test_txn_text)
{
    struct cl_relay_msg m;
    struct cl_txn txn;
    uint8_t reason = 0xEE;
    char *dst;

    approve_msg(&m, &txn);
    if (texts[_i].item) {
        txn.n_items = 2;
        memset(txn.items, 0, sizeof(txn.items));
        memcpy(txn.items[0].desc, "Coffee", 7);
        dst = txn.items[1].desc;   /* the last item */
    } else {
        dst = txn.merchant;
    }
    memcpy(dst, texts[_i].text, strlen(texts[_i].text) + 1);
    assert_reason(cl_policy_check_txn_text(&txn, &reason), reason, texts[_i].reason,
                  texts[_i].text);
    reason = 0xEE;
    assert_reason(cl_policy_check_txn(NULL, &txn, m.u.txn.sign_cmd, &reason), reason,
                  texts[_i].reason, texts[_i].text);
}
END_TEST

/* Every item of the list is read, the first as the last, and nothing past
 * n_items (a stale entry of a reused struct). */
START_TEST(test_txn_text_items)
{
    struct cl_relay_msg m;
    struct cl_txn txn;
    uint8_t reason = 0xEE;

    approve_msg(&m, &txn);
    memset(txn.items, 0, sizeof(txn.items));
    txn.n_items = 2;
    memcpy(txn.items[0].desc, "EUR 1.00", 9);
    memcpy(txn.items[1].desc, "Coffee", 7);
    assert_reason(cl_policy_check_txn_text(&txn, &reason), reason, R(AMOUNT_TEXT), "first item");
    memcpy(txn.items[0].desc, "Tea", 4);
    memcpy(txn.items[2].desc, "EUR 1.00", 9);
    assert_reason(cl_policy_check_txn_text(&txn, &reason), reason, OK_R, "past n_items");
    txn.n_items = 3;
    assert_reason(cl_policy_check_txn_text(&txn, &reason), reason, R(AMOUNT_TEXT), "third item");
    /* nor past a text's NUL: a euro sign left there is not the payee's */
    txn.n_items = 1;
    memset(txn.merchant, 0, sizeof(txn.merchant));
    memcpy(txn.merchant, "Cafe\0\xE2\x82\xAC", 8);
    assert_reason(cl_policy_check_txn_text(&txn, &reason), reason, OK_R, "stale bytes");
    memcpy(txn.merchant, "Cafe \xE2\x82\xAC", 8);
    assert_reason(cl_policy_check_txn_text(&txn, &reason), reason, R(AMOUNT_TEXT), "euro sign");
}
END_TEST

/* Every code of lib/txn's table, as a payee word, upper case: refused;
 * in lower case without a digit: allowed. */
START_TEST(test_txn_text_codes)
{
    struct cl_relay_msg m;
    struct cl_txn txn;
    uint8_t reason = 0xEE;
    unsigned num, codes = 0;

    approve_msg(&m, &txn);
    for (num = 1; num <= 999; num++) {
        const char *a = cl_txn_currency_alpha((uint16_t)num, NULL);
        if (a == NULL)
            continue;
        codes++;
        memcpy(txn.merchant, "Shop ", 5);
        memcpy(txn.merchant + 5, a, 3);
        txn.merchant[8] = '\0';
        assert_reason(cl_policy_check_txn_text(&txn, &reason), reason, R(AMOUNT_TEXT), a);
        txn.merchant[5] = (char)(txn.merchant[5] + 32);
        txn.merchant[6] = (char)(txn.merchant[6] + 32);
        txn.merchant[7] = (char)(txn.merchant[7] + 32);
        assert_reason(cl_policy_check_txn_text(&txn, &reason), reason, OK_R, txn.merchant);
        txn.merchant[8] = '1';
        txn.merchant[9] = '\0';
        assert_reason(cl_policy_check_txn_text(&txn, &reason), reason, R(AMOUNT_TEXT),
                      txn.merchant);
    }
    ck_assert_uint_ge(codes, 30);
}
END_TEST

/* The whole flow with PSO: pages, confirm, PIN, signing command, result. */
/* Once an approval ended (done, refused or aborted) the state keeps
 * nothing of it: no kind, digest size, signing header, transaction id or
 * page count that a later approval or a reader of the state could take. */
static void assert_approval_cleared(const struct cl_policy_state *st)
{
    static const uint8_t zero[CL_TXN_ID_LEN];

    ck_assert_uint_eq(st->step, CL_POLICY_IDLE);
    ck_assert_uint_eq(st->kind, 0);
    ck_assert_uint_eq(st->digest_len, 0);
    ck_assert_mem_eq(st->sign_cmd, zero, sizeof(st->sign_cmd));
    ck_assert_mem_eq(st->txn_id, zero, sizeof(st->txn_id));
    ck_assert_uint_eq(st->pages, 0);
    ck_assert_uint_eq(st->seen, 0);
}

START_TEST(test_flow_pso)
{
    static const uint8_t digest[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                        17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
                                        31, 32 };
    struct cl_relay_msg m;
    struct cl_txn txn;
    struct cl_policy_state st;
    uint8_t out[64], reason = 0xEE, b[8];
    size_t len = 99;

    char page[3 * 17 + 1];
    unsigned pages = 0;

    approve_msg(&m, &txn);
    cl_policy_init(&st);
    /* the pages as lib/txn renders them for a 16x3 display */
    ck_assert_int_eq(cl_txn_render(&txn, 16, 3, 0, page, sizeof(page), &pages), CL_OK);
    ck_assert_uint_eq(pages, 3);
    assert_reason(cl_policy_check_msg(NULL, &st, &m, approve_len, &reason, NULL), reason, OK_R,
                  "message");
    reason = 0xEE;   /* set by each call, not left from the one before */
    assert_reason(cl_policy_check_txn(NULL, &txn, m.u.txn.sign_cmd, &reason), reason, OK_R,
                  "the transaction");
    reason = 0xEE;
    assert_reason(cl_policy_approve_start(NULL, &st, &m.u.txn, &txn, pages, &reason), reason, OK_R,
                  "start");
    ck_assert_uint_eq(st.step, CL_POLICY_SHOWING);
    ck_assert_uint_eq(st.pages, 3);
    ck_assert_uint_eq(st.seen, 0);
    /* a second approval, a relayed command, a PIN-VERIFY: not now */
    assert_reason(cl_policy_approve_start(NULL, &st, &m.u.txn, &txn, 3, &reason), reason, R(STATE),
                  "second start");
    assert_reason(cl_policy_check_apdu(NULL, &st, read_rec, sizeof(read_rec), &reason), reason,
                  R(STATE), "relay during approval");
    assert_reason(cl_policy_check_template(NULL, &st, &m.u.txn.pin, false, &reason), reason,
                  R(STATE), "template during approval");
    /* the signing command only after confirm */
    ck_assert_int_eq(cl_policy_build_sign(&st, digest, 32, out, sizeof(out), &len), CL_ERR_STATE);
    ck_assert_uint_eq(len, 0);
    /* Confirm only after every page, shown in order */
    assert_reason(cl_policy_confirm(&st, &reason), reason, R(NOT_SEEN), "0 of 3");
    cl_policy_page_shown(&st, 0);
    cl_policy_page_shown(&st, 2);   /* skipped ahead: does not count */
    ck_assert_uint_eq(st.seen, 1);
    assert_reason(cl_policy_confirm(&st, &reason), reason, R(NOT_SEEN), "1 of 3");
    cl_policy_page_shown(&st, 1);
    cl_policy_page_shown(&st, 0);   /* back: nothing */
    ck_assert_uint_eq(st.seen, 2);
    assert_reason(cl_policy_confirm(&st, &reason), reason, R(NOT_SEEN), "2 of 3 (N-1)");
    cl_policy_page_shown(&st, 2);
    cl_policy_page_shown(&st, 3);   /* past the end */
    ck_assert_uint_eq(st.seen, 3);
    assert_reason(cl_policy_confirm(&st, &reason), reason, OK_R, "3 of 3");
    ck_assert_uint_eq(st.step, CL_POLICY_CONFIRMED);
    assert_reason(cl_policy_confirm(&st, &reason), reason, R(STATE), "confirm twice");
    cl_policy_page_shown(&st, 3);
    ck_assert_uint_eq(st.seen, 3);
    /* the PIN (template-built) answered 9000 */
    cl_policy_pin_result(&st, 0x80, 0x9000);
    /* builders: wrong kind, wrong digest length, small buffer */
    ck_assert_int_eq(cl_policy_build_debit(&st, &txn, out, 20, out, sizeof(out), &len, &reason),
                     CL_ERR_STATE);
    ck_assert_int_eq(cl_policy_build_sign(&st, digest, 48, out, sizeof(out), &len), CL_ERR_ARG);
    ck_assert_int_eq(cl_policy_build_sign(&st, digest, 32, out, 37, &len), CL_ERR_BUFFER);
    ck_assert_uint_eq(len, 0);
    memset(out, 0xAA, sizeof(out));
    ck_assert_int_eq(cl_policy_build_sign(&st, digest, 32, out, 38, &len), CL_OK);
    cl_assert_bytes(out, len, "00 2A 9E 9A 20 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F 10 "
                              "11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E 1F 20 00");
    ck_assert_uint_eq(out[38], 0xAA);   /* nothing past the command */
    ck_assert_uint_eq(st.step, CL_POLICY_SIGNING);
    ck_assert_int_eq(cl_policy_build_sign(&st, digest, 32, out, sizeof(out), &len), CL_ERR_STATE);
    /* success: no cleanup, the approval is over, the card stays verified */
    ck_assert_uint_eq(cl_policy_sign_result(NULL, &st, 0x9000), CL_POLICY_CLEANUP_NONE);
    assert_approval_cleared(&st);
    ck_assert_uint_eq(st.flags & CL_POLICY_S_PIN_VERIFIED, CL_POLICY_S_PIN_VERIFIED);
    assert_reason(cl_policy_check_apdu(NULL, &st, read_rec, sizeof(read_rec), &reason), reason,
                  OK_R, "relay after");
    /* MSE after a PIN */
    ck_assert_uint_eq(hx("00 22 41 B6 03 84 01 01", b, sizeof(b)), 8);
    assert_reason(cl_policy_check_apdu(NULL, &st, b, 8, &reason), reason, R(SIGN), "MSE after PIN");
    /* a result outside SIGNING changes nothing */
    ck_assert_uint_eq(cl_policy_sign_result(NULL, &st, 0x6A86), CL_POLICY_CLEANUP_NONE);
    ck_assert_uint_eq(cl_policy_cleanup(&st), CL_POLICY_CLEANUP_NONE);
}
END_TEST

/* INTERNAL AUTHENTICATE with SHA-384, no PIN; the cardlink card uses the
 * verification up; CLEANUP_ALWAYS. */
START_TEST(test_flow_ia)
{
    uint8_t digest[48], out[64], reason = 0xEE;
    struct cl_relay_msg m;
    struct cl_txn txn;
    struct cl_policy_state st;
    struct cl_policy cfg = { 0, 0, 0, CL_POLICY_F_CARDLINK, NULL, 0 };
    size_t len;
    int pass;

    memset(digest, 0xAB, sizeof(digest));
    for (pass = 0; pass < 3; pass++) {
        approve_msg(&m, &txn);
        m.u.txn.has_pin = false;
        m.u.txn.digest = CL_RELAY_DIGEST_SHA384;
        set_hdr(&m, "00 88 00 00");
        cl_policy_init(&st);
        if (pass > 0)
            cl_policy_pin_result(&st, 0x80, 0x9000);
        cfg.flags = pass == 2 ? CL_POLICY_F_CLEANUP_ALWAYS : CL_POLICY_F_CARDLINK;
        assert_reason(cl_policy_approve_start(&cfg, &st, &m.u.txn, &txn, 1, &reason), reason, OK_R,
                      "start");
        cl_policy_page_shown(&st, 0);
        assert_reason(cl_policy_confirm(&st, &reason), reason, OK_R, "confirm");
        ck_assert_int_eq(cl_policy_build_sign(&st, digest, 32, out, sizeof(out), &len), CL_ERR_ARG);
        ck_assert_int_eq(cl_policy_build_sign(&st, digest, 48, out, 53, &len), CL_ERR_BUFFER);
        ck_assert_int_eq(cl_policy_build_sign(&st, digest, 48, out, 54, &len), CL_OK);
        ck_assert_uint_eq(len, 54);
        cl_assert_bytes(out, 5, "00 88 00 00 30");
        ck_assert_uint_eq(out[53], 0x00);
        ck_assert_int_eq(memcmp(out + 5, digest, 48), 0);
        if (pass == 2) {
            ck_assert_uint_eq(cl_policy_sign_result(&cfg, &st, 0x9000),
                              CL_POLICY_CLEANUP_CARD_RESET);
            assert_reason(cl_policy_check_apdu(&cfg, &st, read_rec, sizeof(read_rec), &reason),
                          reason, R(CLEANUP), "cleanup always");
        } else {
            ck_assert_uint_eq(cl_policy_sign_result(&cfg, &st, 0x9000), CL_POLICY_CLEANUP_NONE);
            ck_assert_uint_eq(st.flags & CL_POLICY_S_PIN_VERIFIED, 0);   /* used up */
        }
    }
}
END_TEST

/* After a failed or abandoned signature: cleanup before anything else. */
static const struct {
    unsigned flags;
    bool pin;         /* the card verified during the flow */
    int stage;        /* 0 abort while showing, 1 after confirm, 2 sign failed, 3 sign no answer */
    uint8_t cleanup;
} aborts[] = {
    { 0, false, 0, CL_POLICY_CLEANUP_NONE },
    { 0, true, 0, CL_POLICY_CLEANUP_CARD_RESET },
    { CL_POLICY_F_PIN_RESET, true, 1, CL_POLICY_CLEANUP_PIN_RESET },
    { CL_POLICY_F_CARDLINK, true, 1, CL_POLICY_CLEANUP_PIN_RESET },
    { 0, false, 1, CL_POLICY_CLEANUP_NONE },
    { 0, false, 2, CL_POLICY_CLEANUP_CARD_RESET },
    { CL_POLICY_F_CARDLINK, false, 2, CL_POLICY_CLEANUP_PIN_RESET },
    { CL_POLICY_F_CARDLINK, true, 3, CL_POLICY_CLEANUP_PIN_RESET },
    { 0, true, 3, CL_POLICY_CLEANUP_CARD_RESET },
};

START_TEST(test_abort)
{
    static const uint8_t digest[32];
    struct cl_policy cfg = { 0, 0, 0, 0, NULL, 0 };
    struct cl_relay_msg m;
    struct cl_txn txn;
    struct cl_policy_state st;
    uint8_t out[64], reason = 0xEE;
    size_t len = 99;
    uint8_t got;

    cfg.flags = aborts[_i].flags;
    approve_msg(&m, &txn);
    cl_policy_init(&st);
    ck_assert_int_eq(cl_policy_approve_start(&cfg, &st, &m.u.txn, &txn, 1, &reason), CL_OK);
    if (aborts[_i].stage == 0) {
        if (aborts[_i].pin)
            cl_policy_pin_result(&st, 0x81, 0x9000);
        got = cl_policy_approve_abort(&cfg, &st);
    } else {
        cl_policy_page_shown(&st, 0);
        ck_assert_int_eq(cl_policy_confirm(&st, &reason), CL_OK);
        cl_policy_pin_result(&st, 0x81, aborts[_i].pin ? 0x9000 : 0x63C2);
        if (aborts[_i].stage == 1) {
            got = cl_policy_approve_abort(&cfg, &st);
        } else {
            ck_assert_int_eq(cl_policy_build_sign(&st, digest, 32, out, sizeof(out), &len), CL_OK);
            got = cl_policy_sign_result(&cfg, &st, aborts[_i].stage == 2 ? 0x6A86 : 0);
        }
    }
    ck_assert_uint_eq(got, aborts[_i].cleanup);
    ck_assert_uint_eq(cl_policy_cleanup(&st), aborts[_i].cleanup);
    assert_approval_cleared(&st);
    if (got == CL_POLICY_CLEANUP_NONE) {
        assert_reason(cl_policy_check_apdu(&cfg, &st, read_rec, sizeof(read_rec), &reason), reason,
                      OK_R, "no cleanup");
        ck_assert_int_eq(cl_policy_build_cleanup(&st, out, sizeof(out), &len), CL_ERR_STATE);
        return;
    }
    /* everything refused until the cleanup is done */
    assert_reason(cl_policy_check_apdu(&cfg, &st, read_rec, sizeof(read_rec), &reason), reason,
                  R(CLEANUP), "relay");
    assert_reason(cl_policy_check_msg(&cfg, &st, &m, approve_len, &reason, NULL), reason,
                  R(CLEANUP), "approve message");
    assert_reason(cl_policy_approve_start(&cfg, &st, &m.u.txn, &txn, 1, &reason), reason,
                  R(CLEANUP), "approve");
    if (got == CL_POLICY_CLEANUP_CARD_RESET) {
        ck_assert_int_eq(cl_policy_build_cleanup(&st, out, sizeof(out), &len), CL_ERR_STATE);
        cl_policy_cleanup_done(&st, 0x9000);   /* not a PIN reset: ignored */
        ck_assert_uint_eq(cl_policy_cleanup(&st), CL_POLICY_CLEANUP_CARD_RESET);
        cl_policy_card_reset(&st);
    } else {
        ck_assert_int_eq(cl_policy_build_cleanup(&st, out, 3, &len), CL_ERR_BUFFER);
        ck_assert_uint_eq(len, 0);
        ck_assert_int_eq(cl_policy_build_cleanup(&st, out, 4, &len), CL_OK);
        cl_assert_bytes(out, len, aborts[_i].pin || aborts[_i].stage == 0 ? "00 20 FF 81"
                                                                          : "00 20 FF 80");
        cl_policy_cleanup_done(&st, 0x9000);
    }
    ck_assert_uint_eq(cl_policy_cleanup(&st), CL_POLICY_CLEANUP_NONE);
    ck_assert_uint_eq(st.flags, 0);
    assert_reason(cl_policy_check_apdu(&cfg, &st, read_rec, sizeof(read_rec), &reason), reason,
                  OK_R, "after cleanup");
}
END_TEST

/* A PIN reset the card refuses becomes a card reset. */
START_TEST(test_cleanup_escalates)
{
    struct cl_policy_state st;
    uint8_t out[8], reason = 0xEE;
    size_t len;

    verified(&st);
    st.cleanup = CL_POLICY_CLEANUP_PIN_RESET;
    ck_assert_int_eq(cl_policy_build_cleanup(&st, out, sizeof(out), &len), CL_OK);
    cl_assert_bytes(out, len, "00 20 FF 80");
    cl_policy_cleanup_done(&st, 0x6A86);
    ck_assert_uint_eq(cl_policy_cleanup(&st), CL_POLICY_CLEANUP_CARD_RESET);
    assert_reason(cl_policy_check_apdu(NULL, &st, read_rec, sizeof(read_rec), &reason), reason,
                  R(CLEANUP), "still pending");
    cl_policy_card_reset(&st);
    ck_assert_uint_eq(cl_policy_cleanup(&st), CL_POLICY_CLEANUP_NONE);
    ck_assert_int_eq(cl_policy_build_cleanup(NULL, out, sizeof(out), &len), CL_ERR_ARG);
}
END_TEST

/* The DEBIT derived from the approved purse payment and GET BALANCE. */
static const struct {
    const char *payee;
    uint64_t amount;
    bool has;
    const char *balance;
    uint8_t reason;
    const char *debit;
    const char *why;
} debits[] = {
    { "Cafe Rosa", 12345, true,
      "00 00 27 10 03 D2 00 00 00 07 01 02 03 04 05 06 07 08 90 00", OK_R,
      "80 54 00 00 28 00 00 30 39 00 00 00 07 3F 2A 91 0C 5B E8 47 D2 A6 13 7C 09 E4 B5 68 F1 "
      "43 61 66 65 20 52 6F 73 61 00 00 00 00 00 00 00 00", "short payee, padded" },
    { "Stra\xC3\x9F" "enbahn K\xC3\xB6ln Hbf", 1, true,
      "00 00 27 10 03 D2 FF FF FF FE 01 02 03 04 05 06 07 08 90 00", OK_R,
      "80 54 00 00 28 00 00 00 01 FF FF FF FE 3F 2A 91 0C 5B E8 47 D2 A6 13 7C 09 E4 B5 68 F1 "
      "53 74 72 61 73 73 65 6E 62 61 68 6E 20 4B 6F 6C 00", "display form, cut at 16" },
    { "Cafe Rosa", 0xFFFFFFFFu, true,
      "00 00 27 10 03 D2 00 00 00 07 01 02 03 04 05 06 07 08 90 00", OK_R,
      "80 54 00 00 28 FF FF FF FF 00 00 00 07 3F 2A 91 0C 5B E8 47 D2 A6 13 7C 09 E4 B5 68 F1 "
      "43 61 66 65 20 52 6F 73 61 00 00 00 00 00 00 00 00", "amount 2^32-1" },
    { "Cafe Rosa", 0x12345678u, true,
      "00 00 27 10 03 D2 00 00 00 07 01 02 03 04 05 06 07 08 90 00", OK_R,
      "80 54 00 00 28 12 34 56 78 00 00 00 07 3F 2A 91 0C 5B E8 47 D2 A6 13 7C 09 E4 B5 68 F1 "
      "43 61 66 65 20 52 6F 73 61 00 00 00 00 00 00 00 00", "every amount byte its own" },
    { "Cafe Rosa", 0x100000000u, true,
      "00 00 27 10 03 D2 00 00 00 07 01 02 03 04 05 06 07 08 90 00", R(PURSE), NULL,
      "amount 2^32" },
    { "Cafe Rosa", 0, true,
      "00 00 27 10 03 D2 00 00 00 07 01 02 03 04 05 06 07 08 90 00", R(PURSE), NULL, "amount 0" },
    { "Cafe Rosa", 5, false,
      "00 00 27 10 03 D2 00 00 00 07 01 02 03 04 05 06 07 08 90 00", R(PURSE), NULL, "no amount" },
    { "Cafe Rosa", 5, true,
      "00 00 27 10 03 48 00 00 00 07 01 02 03 04 05 06 07 08 90 00", R(PURSE), NULL,
      "purse in USD" },
    { "Cafe Rosa", 5, true,
      "00 00 27 10 03 D2 00 00 00 07 01 02 03 04 05 06 07 08 6A 86", R(PURSE), NULL, "SW 6A86" },
    { "Cafe Rosa", 5, true,
      "00 00 27 10 03 D2 00 00 00 07 01 02 03 04 05 06 07 90 00", R(PURSE), NULL, "19 bytes" },
    { "Cafe Rosa", 5, true,
      "00 00 27 10 03 D2 00 00 00 07 01 02 03 04 05 06 07 08 00 90 00", R(PURSE), NULL,
      "21 bytes" },
};

/* A purse payment to payee, approved up to Confirm (one page, no PIN
 * template): what cl_policy_build_debit() starts from. */
static void purse_confirmed(const struct cl_policy *cfg, struct cl_relay_msg *m,
                            struct cl_txn *txn, struct cl_policy_state *st, const char *payee)
{
    uint8_t reason = 0xEE;

    approve_msg(m, txn);
    m->u.txn.has_pin = false;
    set_hdr(m, "80 54 00 00");
    txn->kind = CL_POLICY_KIND_PURSE;
    memset(txn->merchant, 0, sizeof(txn->merchant));
    memcpy(txn->merchant, payee, strlen(payee));
    cl_policy_init(st);
    ck_assert_int_eq(cl_policy_approve_start(cfg, st, &m->u.txn, txn, 1, &reason), CL_OK);
    ck_assert_uint_eq(reason, OK_R);
    cl_policy_page_shown(st, 0);
    ck_assert_int_eq(cl_policy_confirm(st, &reason), CL_OK);
}

START_TEST(test_debit)
{
    const struct cl_policy cfg = { 0, 0, 0, CL_POLICY_F_CARDLINK, NULL, 0 };
    struct cl_relay_msg m;
    struct cl_txn txn;
    struct cl_policy_state st;
    uint8_t bal[32], out[64], reason = 0xEE;
    size_t blen = hx(debits[_i].balance, bal, sizeof(bal)), len = 99;
    int rc;

    purse_confirmed(&cfg, &m, &txn, &st, debits[_i].payee);
    cl_policy_pin_result(&st, 0x80, 0x9000);
    /* the approved transaction is checked; then its amount as the card sees it */
    txn.has_amount = debits[_i].has;
    txn.amount = debits[_i].amount;
    reason = 0xEE;
    memset(out, 0xAA, sizeof(out));
    rc = cl_policy_build_debit(&st, &txn, bal, blen, out, sizeof(out), &len, &reason);
    assert_reason(rc, reason, debits[_i].reason, debits[_i].why);
    if (rc != CL_OK) {
        ck_assert_uint_eq(len, 0);
        ck_assert_uint_eq(st.step, CL_POLICY_CONFIRMED);
        return;
    }
    cl_assert_bytes(out, len, debits[_i].debit);
    ck_assert_uint_eq(len, CL_POLICY_DEBIT_LEN);
    ck_assert_uint_eq(out[len], 0xAA);   /* nothing past the command */
    {
        /* the payee bytes are what lib/txn shows on the first line */
        char page[5 * 41 + 1];
        unsigned pages;
        size_t k;
        ck_assert_int_eq(cl_txn_render(&txn, 40, 5, 0, page, sizeof(page), &pages), CL_OK);
        for (k = 0; k < 16 && out[29 + k] != 0; k++)
            ck_assert_msg(page[k] == (char)out[29 + k], "payee byte %zu: %s", k, page);
    }
    ck_assert_uint_eq(st.step, CL_POLICY_SIGNING);
    ck_assert_int_eq(cl_policy_build_debit(&st, &txn, bal, blen, out, sizeof(out), &len, &reason),
                     CL_ERR_STATE);
    ck_assert_uint_eq(cl_policy_sign_result(&cfg, &st, 0x9000), CL_POLICY_CLEANUP_NONE);
    ck_assert_uint_eq(st.flags & CL_POLICY_S_PIN_VERIFIED, 0);
}
END_TEST

/* The DEBIT's payee field (16 bytes, zero-padded) is the payee's display
 * form, byte by byte: Latin-1 letters transliterated wherever they stand,
 * a byte that is not one as '?', nothing at all as zeros. lib/txn would
 * not show most of these; a struct filled by hand still gets exact bytes. */
static const struct {
    const char *merchant;
    const char *payee;
} payees[] = {
    { "", "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00" },
    { "Caf\xC3\xA9", "43 61 66 65 00 00 00 00 00 00 00 00 00 00 00 00" },
    { "Stra\xC3\x9F" "e", "53 74 72 61 73 73 65 00 00 00 00 00 00 00 00 00" },
    { "A\x80" "B", "41 3F 42 00 00 00 00 00 00 00 00 00 00 00 00 00" },
    { "Caf\xC3", "43 61 66 3F 00 00 00 00 00 00 00 00 00 00 00 00" },
    { "\xC3\x86" "bcdefghijklmno", "41 45 62 63 64 65 66 67 68 69 6A 6B 6C 6D 6E 6F" },
};

START_TEST(test_debit_payee)
{
    const struct cl_policy cfg = { 0, 0, 0, CL_POLICY_F_CARDLINK, NULL, 0 };
    struct cl_relay_msg m;
    struct cl_txn txn;
    struct cl_policy_state st;
    uint8_t bal[32], out[64], reason = 0xEE;
    size_t blen = hx("00 00 27 10 03 D2 00 00 00 07 01 02 03 04 05 06 07 08 90 00", bal,
                     sizeof(bal)),
           len = 99;

    purse_confirmed(&cfg, &m, &txn, &st, payees[_i].merchant);
    memset(out, 0xAA, sizeof(out));
    ck_assert_int_eq(cl_policy_build_debit(&st, &txn, bal, blen, out, sizeof(out), &len, &reason),
                     CL_OK);
    ck_assert_uint_eq(len, CL_POLICY_DEBIT_LEN);
    cl_assert_bytes(out + 29, 16, payees[_i].payee);
    ck_assert_uint_eq(out[45], 0x00);
}
END_TEST

START_TEST(test_debit_state)
{
    const struct cl_policy cfg = { 0, 0, 0, CL_POLICY_F_CARDLINK, NULL, 0 };
    struct cl_relay_msg m;
    struct cl_txn txn, other;
    struct cl_policy_state st;
    uint8_t bal[32], out[64], reason = 0xEE;
    size_t blen = hx("00 00 27 10 03 D2 00 00 00 07 01 02 03 04 05 06 07 08 90 00", bal,
                     sizeof(bal)),
           len = 99;
    static const uint8_t digest[32];

    approve_msg(&m, &txn);
    set_hdr(&m, "80 54 00 00");
    txn.kind = CL_POLICY_KIND_PURSE;
    cl_policy_init(&st);
    ck_assert_int_eq(cl_policy_approve_start(&cfg, &st, &m.u.txn, &txn, 2, &reason), CL_OK);
    cl_policy_page_shown(&st, 0);
    ck_assert_int_eq(cl_policy_build_debit(&st, &txn, bal, blen, out, sizeof(out), &len, &reason),
                     CL_ERR_STATE);
    cl_policy_page_shown(&st, 1);
    ck_assert_int_eq(cl_policy_confirm(&st, &reason), CL_OK);
    ck_assert_int_eq(cl_policy_build_sign(&st, digest, 32, out, sizeof(out), &len), CL_ERR_STATE);
    other = txn;
    other.id[0] ^= 1;
    ck_assert_int_eq(cl_policy_build_debit(&st, &other, bal, blen, out, sizeof(out), &len, &reason),
                     CL_ERR_STATE);
    other = txn;
    other.kind = CL_TXN_PURCHASE;
    ck_assert_int_eq(cl_policy_build_debit(&st, &other, bal, blen, out, sizeof(out), &len, &reason),
                     CL_ERR_STATE);
    ck_assert_int_eq(cl_policy_build_debit(&st, &txn, bal, blen, out, CL_POLICY_DEBIT_LEN - 1, &len,
                                           &reason),
                     CL_ERR_BUFFER);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(cl_policy_build_debit(&st, &txn, NULL, blen, out, sizeof(out), &len, &reason),
                     CL_ERR_ARG);
    ck_assert_int_eq(cl_policy_build_debit(&st, &txn, bal, blen, out, CL_POLICY_DEBIT_LEN, &len,
                                           &reason),
                     CL_OK);
    ck_assert_uint_eq(reason, OK_R);
    /* the DEBIT fails: cleanup by VERIFY FF */
    ck_assert_uint_eq(cl_policy_sign_result(&cfg, &st, 0x6A84), CL_POLICY_CLEANUP_PIN_RESET);
    cl_assert_bytes(cl_policy_get_balance, sizeof(cl_policy_get_balance), "80 5C 00 00 00");
}
END_TEST

/* TXN-APPROVE checks that need the state or the message. */
START_TEST(test_approve_args)
{
    struct cl_relay_msg m;
    struct cl_txn txn;
    struct cl_policy_state st;
    uint8_t reason = 0xEE, b[8];
    size_t n;

    approve_msg(&m, &txn);
    cl_policy_init(&st);
    txn.id[15] ^= 0x01;
    assert_reason(cl_policy_approve_start(NULL, &st, &m.u.txn, &txn, 1, &reason), reason,
                  R(TXN_ID), "other id");
    ck_assert_uint_eq(cl_policy_wire_code(reason), CL_RELAY_E_MALFORMED);
    txn.id[15] ^= 0x01;
    ck_assert_int_eq(cl_policy_approve_start(NULL, &st, &m.u.txn, &txn, 0, &reason), CL_ERR_ARG);
    ck_assert_int_eq(cl_policy_approve_start(NULL, &st, &m.u.txn, &txn, 65536, &reason), CL_ERR_ARG);
    ck_assert_int_eq(cl_policy_approve_start(NULL, &st, &m.u.txn, NULL, 1, &reason), CL_ERR_ARG);
    ck_assert_int_eq(cl_policy_approve_start(NULL, NULL, &m.u.txn, &txn, 1, &reason), CL_ERR_ARG);
    {
        /* a PIN template of one byte at NULL */
        struct cl_relay_bytes keep = m.u.txn.pin.apdu;
        m.u.txn.pin.apdu.data = NULL;
        m.u.txn.pin.apdu.len = 1;
        ck_assert_int_eq(cl_policy_approve_start(NULL, &st, &m.u.txn, &txn, 1, &reason),
                         CL_ERR_ARG);
        ck_assert_int_eq(cl_policy_check_msg(NULL, &st, &m, approve_len, &reason, NULL),
                         CL_ERR_ARG);
        m.u.txn.pin.apdu = keep;
    }
    ck_assert_uint_eq(st.step, CL_POLICY_IDLE);
    assert_reason(cl_policy_approve_start(NULL, &st, &m.u.txn, &txn, 65535, &reason), reason, OK_R,
                  "65535 pages");
    cl_policy_init(&st);
    /* its PIN template is checked (pre-filled digits) */
    ((uint8_t *)m.u.txn.pin.apdu.data)[6] = 0x12;
    assert_reason(cl_policy_approve_start(NULL, &st, &m.u.txn, &txn, 1, &reason), reason,
                  R(TEMPLATE_DATA), "pre-filled PIN template");
    assert_reason(cl_policy_check_msg(NULL, &st, &m, approve_len, &reason, NULL), reason,
                  R(TEMPLATE_DATA), "message");
    ((uint8_t *)m.u.txn.pin.apdu.data)[6] = 0xFF;
    /* a relayed chain in progress */
    n = hx("10 D6 00 00 01 01", b, sizeof(b));
    cl_policy_relayed(&st, b, n, 0x9000);
    assert_reason(cl_policy_approve_start(NULL, &st, &m.u.txn, &txn, 1, &reason), reason,
                  R(CHAIN_INS), "chain");
    assert_reason(cl_policy_check_msg(NULL, &st, &m, approve_len, &reason, NULL), reason,
                  R(CHAIN_INS), "chain, message");
    /* confirm with no approval */
    cl_policy_init(&st);
    assert_reason(cl_policy_confirm(&st, &reason), reason, R(STATE), "no approval");
    ck_assert_int_eq(cl_policy_confirm(NULL, &reason), CL_ERR_ARG);
    cl_policy_page_shown(&st, 0);
    ck_assert_uint_eq(st.seen, 0);
}
END_TEST

/* ------------------------------------------------------------ prompts */

static const struct {
    uint8_t kind;
    const char *text;
    uint8_t min, max;
    unsigned flags;
    uint8_t reason;
} prompts[] = {
    /* wordings a phisher would try */
    { CL_RELAY_PROMPT_NUMERIC, "Enter PIN", 4, 12, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_NUMERIC, "Enter PIN", 4, 12, CL_POLICY_F_NUMERIC_PROMPTS, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_TEXT, "Enter PIN", 1, 64, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_TEXT, "P I N", 1, 16, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_TEXT, "Enter P1N", 1, 16, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_TEXT, "Enter PlN", 1, 16, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_TEXT, "Enter P.I.N.", 1, 16, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_TEXT, "p|n please", 1, 16, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_TEXT, "Geheimzahl eingeben", 1, 16, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_TEXT, "Code secret", 1, 16, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_TEXT, "Code confidentiel", 1, 16, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_TEXT, "Introduzca su clave", 1, 16, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_TEXT, "Please re-enter your card code", 1, 16, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_TEXT, "Password", 1, 16, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_TEXT, "Pa55w0rd", 1, 16, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_TEXT, "Passcode", 1, 16, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_TEXT, "Kennwort", 1, 16, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_TEXT, "Passwort eingeben", 1, 16, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_TEXT, "Mot de passe", 1, 16, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_TEXT, "Contrasena", 1, 16, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_TEXT, "Contrasena", 1, 16, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_TEXT, "Codice segreto", 1, 16, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_TEXT, "Digite a senha", 1, 16, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_TEXT, "Wachtwoord", 1, 16, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_TEXT, "Pincode invoeren", 1, 16, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_TEXT, "Tunnusluku", 1, 16, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_TEXT, "Ange PIN-kod", 1, 16, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_TEXT, "Losenord", 1, 16, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_TEXT, "Contrase\xC3\xB1" "a", 1, 16, 0, R(TEXT) },
    { CL_RELAY_PROMPT_TEXT, "Tast adgangskode", 1, 16, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_TEXT, "Entrez votre NIP", 1, 16, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_TEXT, "Your s3cr3t", 1, 16, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_TEXT, "CVV", 3, 3, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_NUMERIC, "Card security code", 1, 3, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_NUMERIC, "Number please", 4, 4, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_NUMERIC, "Number please", 1, 4, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_NUMERIC, "Number please", 12, 16, 0, R(PIN_PROMPT) },
    { CL_RELAY_PROMPT_NUMERIC, "Number please", 1, 64, 0, R(PIN_PROMPT) },
    /* legitimate prompts that pass */
    { CL_RELAY_PROMPT_NUMERIC, "Ticket count", 1, 2, 0, OK_R },
    { CL_RELAY_PROMPT_NUMERIC, "Ticket count", 1, 3, 0, OK_R },
    { CL_RELAY_PROMPT_NUMERIC, "Card number", 13, 19, 0, OK_R },
    { CL_RELAY_PROMPT_NUMERIC, "Meter reading", 1, 8, CL_POLICY_F_NUMERIC_PROMPTS, OK_R },
    { CL_RELAY_PROMPT_YESNO, "Load 100.00?", 0, 0, 0, OK_R },
    { CL_RELAY_PROMPT_YESNO, "Change your PIN now?", 0, 0, 0, OK_R },
    { CL_RELAY_PROMPT_TEXT, "Your name", 1, 32, 0, OK_R },
    { CL_RELAY_PROMPT_TEXT, "Voucher number", 4, 12, 0, OK_R },
    { CL_RELAY_PROMPT_TEXT, "Postcode", 4, 8, 0, OK_R },
    /* server text bytes */
    { CL_RELAY_PROMPT_YESNO, "\x01 Enter", 0, 0, 0, R(TEXT) },
    { CL_RELAY_PROMPT_TEXT, "Tab\there", 1, 4, 0, R(TEXT) },
    { CL_RELAY_PROMPT_TEXT, "Del\x7F", 1, 4, 0, R(TEXT) },
};

START_TEST(test_prompt)
{
    struct cl_relay_prompt p;
    struct cl_policy cfg = { 0, 0, 0, 0, NULL, 0 };
    uint8_t reason = 0xEE;

    memset(&p, 0, sizeof(p));
    p.kind = prompts[_i].kind;
    p.text.data = (const uint8_t *)prompts[_i].text;
    p.text.len = strlen(prompts[_i].text);
    p.min_len = prompts[_i].min;
    p.max_len = prompts[_i].max;
    cfg.flags = prompts[_i].flags;
    assert_reason(cl_policy_check_prompt(&cfg, &p, &reason), reason, prompts[_i].reason,
                  prompts[_i].text);
    if (prompts[_i].flags == 0) {
        reason = 0xEE;
        assert_reason(cl_policy_check_prompt(NULL, &p, &reason), reason, prompts[_i].reason,
                      prompts[_i].text);
    }
}
END_TEST

/* The words are found wherever they are, also past a long text's first
 * window, and not in texts without them. */
START_TEST(test_pin_words)
{
    static uint8_t t[600];

    memset(t, 'x', sizeof(t));
    ck_assert(!cl_policy_pin_words(t, sizeof(t)));
    memcpy(t + 250, "PIN", 3);     /* across the first window's end */
    ck_assert(cl_policy_pin_words(t, sizeof(t)));
    memset(t, 'x', sizeof(t));
    memcpy(t + 580, "password", 8);
    ck_assert(cl_policy_pin_words(t, sizeof(t)));
    ck_assert(!cl_policy_pin_words(NULL, 3));
    ck_assert(!cl_policy_pin_words((const uint8_t *)"Ticket count", 12));
    /* Latin-1 letters in UTF-8 are transliterated (sharp s -> ss) */
    ck_assert(cl_policy_pin_words((const uint8_t *)"\xC3\x9F" "ecret", 7));
    ck_assert(cl_policy_pin_words((const uint8_t *)"Contrase\xC3\xB1" "a", 11));
    ck_assert(cl_policy_pin_words((const uint8_t *)"L\xC3\xB6senord", 9));
    ck_assert(cl_policy_pin_words((const uint8_t *)"G\xC3\x89HEIMZAHL", 11));
    ck_assert(!cl_policy_pin_words((const uint8_t *)"Caf\xC3\xA9", 5));
    /* a ligature's second letter counts (sharp s -> ss) */
    ck_assert(cl_policy_pin_words((const uint8_t *)"Pa\xC3\x9Fwort", 8));
    /* both ends of both letter ranges: A and Z, a and z */
    ck_assert(cl_policy_pin_words((const uint8_t *)"PASSWORD", 8));
    ck_assert(cl_policy_pin_words((const uint8_t *)"CODICE CONFIDENZIALE", 20));
    ck_assert(cl_policy_pin_words((const uint8_t *)"codice confidenziale", 20));
    /* a word across a window's end: its first letter is the window's last,
     * kept in the tail the next window starts with */
    memset(t, 'x', sizeof(t));
    memcpy(t + 255, "PIN", 3);
    ck_assert(cl_policy_pin_words(t, sizeof(t)));
    memset(t, 'x', sizeof(t));
    memcpy(t + 254, "PIN", 3);
    ck_assert(cl_policy_pin_words(t, sizeof(t)));
}
END_TEST

/* ------------------------------------------------------------ server texts */

static const struct {
    const char *text;
    unsigned width;
    int rc;
    const char *out;
} marks[] = {
    { "Insert card", 16, CL_OK, "> Insert card\n" },
    { "Thank you\nGoodbye", 16, CL_OK, "> Thank you\n> Goodbye\n" },
    { "Thank you\n", 16, CL_OK, "> Thank you\n" },
    { "A\n\nB", 16, CL_OK, "> A\n> \n> B\n" },
    { "", 16, CL_OK, "" },
    { "abcdefghij", 6, CL_OK, "> abcd\n> efgh\n> ij\n" },
    { "abcd", 6, CL_OK, "> abcd\n" },
    { "abcd\nef", 6, CL_OK, "> abcd\n> ef\n" },
    { "abcde", 6, CL_OK, "> abcd\n> e\n" },
    { "abc", 3, CL_OK, "> a\n> b\n> c\n" },
    { "abc", 2, CL_ERR_ARG, "" },
    { "abc", 256, CL_ERR_ARG, "" },
    { "abc", 255, CL_OK, "> abc\n" },
    { "a\x01", 16, CL_ERR_DENIED, "" },
};

START_TEST(test_mark)
{
    char out[128];
    size_t len = 99, n = strlen(marks[_i].text);
    int rc = cl_policy_mark_text((const uint8_t *)marks[_i].text, n, marks[_i].width, out,
                                 sizeof(out), &len);

    ck_assert_int_eq(rc, marks[_i].rc);
    if (rc != CL_OK) {
        ck_assert_uint_eq(len, 0);
        return;
    }
    ck_assert_str_eq(out, marks[_i].out);
    ck_assert_uint_eq(len, strlen(marks[_i].out));
    /* one byte less than needed (the NUL counted) fails; the bound suffices */
    ck_assert_int_eq(cl_policy_mark_text((const uint8_t *)marks[_i].text, n, marks[_i].width, out,
                                         len, &len),
                     CL_ERR_BUFFER);
    ck_assert_int_eq(cl_policy_mark_text((const uint8_t *)marks[_i].text, n, marks[_i].width, out,
                                         (n + 1) * 3 + n + 1, &len),
                     CL_OK);
    /* every smaller buffer fails and nothing is written past its end */
    {
        size_t size;
        for (size = 0; size <= len; size++) {
            char small[128];
            size_t got = 99;
            memset(small, 0x55, sizeof(small));
            ck_assert_int_eq(cl_policy_mark_text((const uint8_t *)marks[_i].text, n,
                                                 marks[_i].width, small, size, &got),
                             CL_ERR_BUFFER);
            ck_assert_uint_eq(got, 0);
            ck_assert_msg(small[size] == 0x55, "size %zu: byte %zu written", size, size);
        }
    }
    /* exactly the bytes needed, the NUL counted, suffice */
    ck_assert_int_eq(cl_policy_mark_text((const uint8_t *)marks[_i].text, n, marks[_i].width, out,
                                         len + 1, &len),
                     CL_OK);
    ck_assert_str_eq(out, marks[_i].out);
}
END_TEST

START_TEST(test_text)
{
    uint8_t t[256], reason = 0xEE;
    unsigned c;

    for (c = 0; c < 256; c++) {
        bool ok = (c >= 0x20 && c <= 0x7E) || c == '\n';
        t[0] = 'a';
        t[1] = (uint8_t)c;
        assert_reason(cl_policy_check_text(t, 2, &reason), reason, ok ? OK_R : R(TEXT), "byte");
    }
    t[0] = CL_POLICY_SECURE_GLYPH;
    assert_reason(cl_policy_check_text(t, 1, &reason), reason, R(TEXT), "secure glyph");
    assert_reason(cl_policy_check_text(NULL, 0, &reason), reason, OK_R, "empty");
    ck_assert_int_eq(cl_policy_check_text(NULL, 1, &reason), CL_ERR_ARG);
    ck_assert_int_eq(cl_policy_mark_text(t, 1, 16, NULL, 10, NULL), CL_ERR_ARG);
    {
        char out[16];
        size_t len = 99;
        ck_assert_int_eq(cl_policy_mark_text(NULL, 1, 16, out, sizeof(out), &len), CL_ERR_ARG);
        ck_assert_int_eq(cl_policy_mark_text(NULL, 0, 16, out, sizeof(out), &len), CL_OK);
        ck_assert_uint_eq(len, 0);
    }
}
END_TEST

/* ------------------------------------------------------------ issue 10, replayed */

START_TEST(test_attacks)
{
    const struct cl_policy cfg = { 0, 0, 0, CL_POLICY_F_CARDLINK, NULL, 0 };
    struct cl_policy_state st;
    struct cl_relay_msg m;
    struct cl_txn txn;
    uint8_t b[256], reason = 0xEE;
    size_t n, step = 77;

    /* 1: INTERNAL AUTHENTICATE with the to-be-signed bytes of a transaction
     * the holder never saw, relayed: refused before and after a PIN */
    n = hx("00 88 00 00 20 63 61 72 64 6C 69 6E 6B 2D 74 78 6E 2D 76 31 00 E1 32 80 10 3F 2A 91 0C "
           "5B E8 47 D2 A6 13 7C 09 00", b, sizeof(b));
    cl_policy_init(&st);
    assert_reason(cl_policy_check_apdu(&cfg, &st, b, n, &reason), reason, R(SIGN), "IA relayed");
    verified(&st);
    assert_reason(cl_policy_check_apdu(&cfg, &st, b, n, &reason), reason, R(SIGN),
                  "IA after PIN");
    /* 2: DEBIT after a PIN */
    n = hx("80 54 00 00 18 00 00 27 10 00 00 00 07 3F 2A 91 0C 5B E8 47 D2 A6 13 7C 09 E4 B5 68 F1",
           b, sizeof(b));
    assert_reason(cl_policy_check_apdu(&cfg, &st, b, n, &reason), reason, R(VALUE),
                  "DEBIT after PIN");
    /* 2: a sign command with P2 9B */
    approve_msg(&m, &txn);
    set_hdr(&m, "00 2A 9E 9B");
    cl_policy_init(&st);
    assert_reason(cl_policy_check_msg(&cfg, &st, &m, approve_len, &reason, &step), reason,
                  R(SIGN_CMD), "9E 9B message");
    assert_reason(cl_policy_approve_start(&cfg, &st, &m.u.txn, &txn, 1, &reason), reason,
                  R(SIGN_CMD), "9E 9B approval");
    /* 3: PROMPT NUMERIC "Enter PIN" 4..12 */
    n = hx("C1 26 00 07 00 00 00 12 80 01 02 81 09 45 6E 74 65 72 20 50 49 4E 82 02 04 0C", b,
           sizeof(b));
    ck_assert_int_eq(cl_relay_decode(b, n, &m), CL_OK);
    assert_reason(cl_policy_check_msg(&cfg, &st, &m, n, &reason, &step), reason, R(PIN_PROMPT),
                  "PIN prompt");
    ck_assert_uint_eq(step, CL_POLICY_NO_STEP);
    ck_assert_uint_eq(cl_policy_wire_code(reason), CL_RELAY_E_DENIED);
    /* 8: chained VERIFY without data */
    n = hx("10 20 00 80", b, sizeof(b));
    assert_reason(cl_policy_check_apdu(&cfg, &st, b, n, &reason), reason, R(CHAIN_PIN),
                  "10 20 00 80");
    /* 7: templates with CLA 80, P1 01, pre-filled digits */
    {
        static const char *const bad[] = {
            "C1 28 01 08 08 00 00 1C 80 0D 80 20 00 80 08 24 FF FF FF FF FF FF FF "
            "81 01 03 82 02 04 0C 83 01 00 85 01 1E",
            "C1 28 01 08 08 00 00 1C 80 0D 00 20 01 80 08 24 FF FF FF FF FF FF FF "
            "81 01 03 82 02 04 0C 83 01 00 85 01 1E",
            "C1 28 01 08 08 00 00 1C 80 0D 00 20 00 80 08 24 12 34 FF FF FF FF FF "
            "81 01 03 82 02 04 0C 83 01 00 85 01 1E",
        };
        static const uint8_t want[] = { R(TEMPLATE_HEADER), R(TEMPLATE_HEADER), R(TEMPLATE_DATA) };
        size_t i;
        for (i = 0; i < CL_ARRAY_LEN(bad); i++) {
            n = hx(bad[i], b, sizeof(b));
            ck_assert_int_eq(cl_relay_decode(b, n, &m), CL_OK);
            assert_reason(cl_policy_check_msg(&cfg, &st, &m, n, &reason, &step), reason, want[i],
                          bad[i]);
        }
    }
}
END_TEST

/* ------------------------------------------------------------ whole messages */

static const struct {
    const char *name;
    uint8_t reason;
} doc_msgs[] = {
    { "apdu", OK_R },
    { "apdu-txn", OK_R },
    { "display", OK_R },
    { "display-timed", OK_R },
    { "prompt-yesno", OK_R },
    { "prompt-numeric", OK_R },
    { "pin-verify", OK_R },
    { "pin-verify-bcd", OK_R },
    { "pin-change", OK_R },
    { "txn-approve", OK_R },
    { "txn-approve-nopin", OK_R },
    { "card-reset", OK_R },
    { "keepalive", OK_R },
};

START_TEST(test_doc_messages)
{
    static uint8_t b[1024];
    struct cl_relay_msg m;
    uint8_t reason = 0xEE;
    size_t step = 77, n;

    if (strcmp(doc_msgs[_i].name, "keepalive") == 0)
        n = hx("C1 03 00 00 00 00 00 00", b, sizeof(b));
    else
        n = cl_test_doc_example(CL_PROTOCOL_MD, "hex", doc_msgs[_i].name, b, sizeof(b));
    ck_assert_int_eq(cl_relay_decode(b, n, &m), CL_OK);
    assert_reason(cl_policy_check_msg(NULL, NULL, &m, n, &reason, &step), reason,
                  doc_msgs[_i].reason, doc_msgs[_i].name);
    ck_assert_uint_eq(step, CL_POLICY_NO_STEP);
}
END_TEST

START_TEST(test_script_messages)
{
    struct cl_relay_msg m;
    struct cl_policy_state st;
    uint8_t b[256], reason = 0xEE;
    size_t step = 77, n;

    /* step 1 is a VERIFY with data: nothing of the script goes */
    n = hx("C1 22 01 03 03 00 00 14 A2 12 80 05 00 B2 01 0C 00 80 09 00 20 00 80 04 31 32 33 34", b,
           sizeof(b));
    ck_assert_int_eq(cl_relay_decode(b, n, &m), CL_OK);
    assert_reason(cl_policy_check_msg(NULL, NULL, &m, n, &reason, &step), reason, R(PIN), "VERIFY");
    ck_assert_uint_eq(step, 1);
    /* PSO at step 0, in both states */
    n = hx("C1 22 01 03 03 00 00 09 A2 07 80 05 00 2A 9E 9A 00", b, sizeof(b));
    ck_assert_int_eq(cl_relay_decode(b, n, &m), CL_OK);
    assert_reason(cl_policy_check_msg(NULL, NULL, &m, n, &reason, &step), reason, R(SIGN), "PSO");
    ck_assert_uint_eq(step, 0);
    verified(&st);
    assert_reason(cl_policy_check_msg(NULL, &st, &m, n, &reason, &step), reason, R(SIGN), "PSO");
    ck_assert_uint_eq(step, 0);
    /* three reads: allowed, *step NO_STEP */
    n = hx("C1 22 01 03 03 00 00 17 A2 15 80 05 00 B2 01 0C 00 80 05 00 B2 02 0C 00 80 05 00 B2 03 "
           "0C 00", b, sizeof(b));
    ck_assert_int_eq(cl_relay_decode(b, n, &m), CL_OK);
    assert_reason(cl_policy_check_msg(NULL, &st, &m, n, &reason, &step), reason, OK_R, "reads");
    ck_assert_uint_eq(step, CL_POLICY_NO_STEP);
    /* the last step refused */
    b[n - 4] = 0xC2;
    ck_assert_int_eq(cl_relay_decode(b, n, &m), CL_OK);
    assert_reason(cl_policy_check_msg(NULL, &st, &m, n, &reason, &step), reason, R(TUNNEL),
                  "last step ENVELOPE");
    ck_assert_uint_eq(step, 2);
}
END_TEST

START_TEST(test_names_and_args)
{
    static const uint8_t reasons[] = {
        OK_R, R(MALFORMED), R(TOO_LARGE), R(SCRIPT_STEPS), R(MSG_SIZE), R(READER_CLA), R(PIN),
        R(CHAIN_PIN), R(CHAIN_INS), R(TUNNEL), R(SIGN), R(VALUE), R(CLEANUP), R(STATE), R(USER),
        R(SIGN_CMD), R(AMOUNT), R(TXN_ID), R(NOT_SEEN), R(PURSE), R(TEMPLATE_HEADER),
        R(TEMPLATE_LEN), R(TEMPLATE_DATA), R(TEXT), R(PIN_PROMPT), R(AMOUNT_TEXT),
    };
    uint8_t b[4] = { 0, 0xA4, 0, 0 }, reason = 0xEE;
    unsigned r, named = 0;
    size_t i, step = 77;

    for (i = 0; i < sizeof(reasons); i++) {
        uint8_t want = reasons[i] == OK_R ? CL_RELAY_E_NONE
                     : (reasons[i] == R(TOO_LARGE) || reasons[i] == R(SCRIPT_STEPS) ||
                        reasons[i] == R(MSG_SIZE)) ? CL_RELAY_E_TOO_LARGE
                     : reasons[i] == R(TXN_ID) ? CL_RELAY_E_MALFORMED
                                               : CL_RELAY_E_DENIED;
        ck_assert_str_ne(cl_policy_reason_name(reasons[i]), "?");
        ck_assert_uint_eq(cl_policy_wire_code(reasons[i]), want);
    }
    for (r = 0; r < 256; r++)
        if (strcmp(cl_policy_reason_name((uint8_t)r), "?") != 0)
            named++;
    ck_assert_uint_eq(named, sizeof(reasons));
    ck_assert_str_eq(cl_policy_reason_name(R(PIN)), "PIN handling");
    ck_assert_uint_eq(cl_policy_wire_code(200), CL_RELAY_E_DENIED);
    ck_assert_int_eq(cl_policy_check_apdu(NULL, NULL, NULL, 4, &reason), CL_ERR_ARG);
    ck_assert_int_eq(cl_policy_check_apdu(NULL, NULL, b, 4, &reason), CL_OK);
    ck_assert_int_eq(cl_policy_check_script(NULL, NULL, NULL, &reason, &step), CL_ERR_ARG);
    ck_assert_uint_eq(step, CL_POLICY_NO_STEP);
    ck_assert_int_eq(cl_policy_check_msg(NULL, NULL, NULL, 0, &reason, &step), CL_ERR_ARG);
    ck_assert_int_eq(cl_policy_check_prompt(NULL, NULL, &reason), CL_ERR_ARG);
    ck_assert_int_eq(cl_policy_check_txn_text(NULL, &reason), CL_ERR_ARG);
    ck_assert_int_eq(cl_policy_check_txn(NULL, NULL, b, &reason), CL_ERR_ARG);
    {
        struct cl_relay_script s;
        script_of(&s, 2);
        s.steps[1].apdu.data = NULL;
        ck_assert_int_eq(cl_policy_check_script(NULL, NULL, &s, &reason, &step), CL_ERR_ARG);
        script_of(&s, 2);
        s.steps[0].apdu.data = NULL;   /* the first step, a 1-byte length */
        s.steps[0].apdu.len = 1;
        ck_assert_int_eq(cl_policy_check_script(NULL, NULL, &s, &reason, &step), CL_ERR_ARG);
    }
    {
        /* steps past nsteps are not the script's: not read */
        struct cl_relay_script s;
        script_of(&s, 1);
        s.steps[1].apdu.data = NULL;
        s.steps[1].apdu.len = 5;
        assert_reason(cl_policy_check_script(NULL, NULL, &s, &reason, &step), reason, OK_R,
                      "a stale step past nsteps");
    }
    ck_assert_str_eq(cl_policy_reason_name(R(VALUE)), "value or e-goods outside an approval");
    /* a NULL pointer with a length of 1 is an argument error everywhere */
    ck_assert_int_eq(cl_policy_check_apdu(NULL, NULL, NULL, 1, &reason), CL_ERR_ARG);
    {
        struct cl_relay_pin p;
        memset(&p, 0, sizeof(p));
        p.apdu.len = 1;
        ck_assert_int_eq(cl_policy_check_template(NULL, NULL, &p, false, &reason), CL_ERR_ARG);
    }
    {
        /* extension tables: one announced and none given; the second one
         * with rules announced and none given */
        static const struct cl_policy_rule rule = { 0xFF, 0x80, 0x5A, 0, 0, 0, 0,
                                                    CL_POLICY_WHEN_ALWAYS, 0 };
        struct cl_policy_table t[2] = { { &rule, 1 }, { NULL, 1 } };
        struct cl_policy cfg = { 0, 0, 0, 0, NULL, 1 };
        ck_assert_int_eq(cl_policy_check_apdu(&cfg, NULL, b, 4, &reason), CL_ERR_ARG);
        cfg.extra = t;
        cfg.nextra = 2;
        ck_assert_int_eq(cl_policy_check_apdu(&cfg, NULL, b, 4, &reason), CL_ERR_ARG);
        t[1].n = 0;
        ck_assert_int_eq(cl_policy_check_apdu(&cfg, NULL, b, 4, &reason), CL_OK);
    }
}
END_TEST

static Suite *policy_suite(void)
{
    Suite *s = suite_create("policy");
    TCase *tc = tcase_create("tables");

    tcase_add_test(tc, test_iso_table);
    tcase_add_loop_test(tc, test_iso_entry, 0, (int)CL_ARRAY_LEN(iso_spec));
    tcase_add_test(tc, test_cardlink_table);
    tcase_add_loop_test(tc, test_cardlink_entry, 0, (int)CL_ARRAY_LEN(cardlink_spec));
    tcase_add_loop_test(tc, test_cardlink_allowed, 0, (int)CL_ARRAY_LEN(cardlink_ok));
    tcase_add_test(tc, test_cardlink_block_script);
    tcase_add_test(tc, test_allowed);
    tcase_add_test(tc, test_extra_tables);
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_loop_test(tc, test_form, 0, (int)CL_ARRAY_LEN(form_cases));
    tcase_add_test(tc, test_apdu_max);
    tcase_add_loop_test(tc, test_steps, 0, (int)CL_ARRAY_LEN(steps_cases));
    tcase_add_test(tc, test_msg_size);
    suite_add_tcase(s, tc);
    tc = tcase_create("chains");
    tcase_add_test(tc, test_chain);
    tcase_add_loop_test(tc, test_chain_script, 0, (int)CL_ARRAY_LEN(chain_scripts));
    tcase_add_test(tc, test_chain_state_script);
    suite_add_tcase(s, tc);
    tc = tcase_create("templates");
    tcase_add_loop_test(tc, test_template, 0, (int)CL_ARRAY_LEN(tmpl));
    tcase_add_test(tc, test_template_state);
    suite_add_tcase(s, tc);
    tc = tcase_create("approvals");
    tcase_add_loop_test(tc, test_sign_header, 0, (int)CL_ARRAY_LEN(sign_hdr));
    tcase_add_loop_test(tc, test_amount, 0, (int)CL_ARRAY_LEN(amounts));
    tcase_add_loop_test(tc, test_txn_text, 0, (int)CL_ARRAY_LEN(texts));
    tcase_add_test(tc, test_txn_text_codes);
    tcase_add_test(tc, test_txn_text_items);
    tcase_add_test(tc, test_flow_pso);
    tcase_add_test(tc, test_flow_ia);
    tcase_add_loop_test(tc, test_abort, 0, (int)CL_ARRAY_LEN(aborts));
    tcase_add_test(tc, test_cleanup_escalates);
    tcase_add_loop_test(tc, test_debit, 0, (int)CL_ARRAY_LEN(debits));
    tcase_add_test(tc, test_debit_state);
    tcase_add_loop_test(tc, test_debit_payee, 0, (int)CL_ARRAY_LEN(payees));
    tcase_add_test(tc, test_approve_args);
    suite_add_tcase(s, tc);
    tc = tcase_create("texts");
    tcase_add_loop_test(tc, test_prompt, 0, (int)CL_ARRAY_LEN(prompts));
    tcase_add_test(tc, test_pin_words);
    tcase_add_loop_test(tc, test_mark, 0, (int)CL_ARRAY_LEN(marks));
    tcase_add_test(tc, test_text);
    suite_add_tcase(s, tc);
    tc = tcase_create("messages");
    tcase_add_test(tc, test_attacks);
    tcase_add_loop_test(tc, test_doc_messages, 0, (int)CL_ARRAY_LEN(doc_msgs));
    tcase_add_test(tc, test_script_messages);
    tcase_add_test(tc, test_names_and_args);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(policy_suite());
}
