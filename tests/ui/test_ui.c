/*
 * cardlink — the UI port (cardlink/ui.h): its helpers, the scripted
 * holder (ports/posix/ui_script.c) and the terminal UI (ports/posix/
 * ui_term.c, over a pipe) driven through struct cl_ui as the device will:
 * exact screens, the indicator rules refused in both ports, PIN digits
 * wiped once the event is taken.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cardlink/engine.h"
#include "cardlink/policy.h"
#include "cardlink/txn.h"
#include "cardlink/ui.h"
#include "ui_script.h"
#include "ui_term.h"

static const struct cl_ui_caps caps20x4 = {
    20, 4, 12,
    CL_UI_CAP_SECURE_LED | CL_UI_CAP_SECURE_GLYPH | CL_UI_CAP_KEYPAD | CL_UI_CAP_CONFIRM |
        CL_UI_CAP_CLEAR | CL_UI_CAP_PAGE | CL_UI_CAP_PINPAD};

static void screen(struct cl_ui_screen *s, uint8_t kind, uint16_t id, const char *text)
{
    cl_ui_screen_init(s, kind, id);
    strcpy(s->text, text);
}

static void pin_screen(struct cl_ui_screen *s, uint16_t id)
{
    screen(s, CL_UI_PIN, id, "\001Enter PIN\n");
    s->flags = CL_UI_F_CONFIRM | CL_UI_F_CANCEL;
    s->entry = CL_UI_ENTRY_PIN;
    s->entry_min = 4;
    s->entry_max = 8;
    s->entry_row = 1;
}

/* ------------------------------------------------------------ cl_ui_screen_check */

static const struct check_case {
    const char *why;
    uint8_t kind;
    const char *text;
    uint8_t entry;
    int rc;
} check_cases[] = {
    {"idle, empty", CL_UI_IDLE, "", 0, CL_OK},
    {"own message", CL_UI_MESSAGE, "Thank you\nRemove card\n", 0, CL_OK},
    {"last LF missing", CL_UI_MESSAGE, "Thank you", 0, CL_OK},
    {"20 columns", CL_UI_MESSAGE, "12345678901234567890\n", 0, CL_OK},
    {"21 columns", CL_UI_MESSAGE, "123456789012345678901\n", 0, CL_ERR_ARG},
    {"4 rows", CL_UI_MESSAGE, "a\nb\nc\nd\n", 0, CL_OK},
    {"5 rows", CL_UI_MESSAGE, "a\nb\nc\nd\ne", 0, CL_ERR_ARG},
    {"server text marked", CL_UI_SERVER_TEXT, "> Hello\n> World\n", 0, CL_OK},
    {"server text cleared", CL_UI_SERVER_TEXT, "", 0, CL_OK},
    {"server line unmarked", CL_UI_SERVER_TEXT, "> Hello\nWorld\n", 0, CL_ERR_DENIED},
    {"server empty line", CL_UI_SERVER_TEXT, "> Hello\n\n", 0, CL_ERR_DENIED},
    {"server mark cut (>)", CL_UI_SERVER_TEXT, ">Hello\n", 0, CL_ERR_DENIED},
    {"glyph in server text", CL_UI_SERVER_TEXT, "> \001Enter PIN\n", 0, CL_ERR_DENIED},
    {"glyph first in server text", CL_UI_SERVER_TEXT, "\001> Enter PIN\n", 0, CL_ERR_DENIED},
    {"glyph in prompt", CL_UI_PROMPT, "> Code \001\n", 0, CL_ERR_DENIED},
    {"glyph in a message", CL_UI_MESSAGE, "\001Enter PIN\n", 0, CL_ERR_DENIED},
    {"glyph in a txn", CL_UI_TXN, "\001Pay EUR 1.00\n", 0, CL_ERR_DENIED},
    {"glyph on PIN line 2", CL_UI_PIN, "\001Enter PIN\n\001\n", CL_UI_ENTRY_PIN, CL_ERR_DENIED},
    {"PIN without glyph", CL_UI_PIN, "Enter PIN\n", CL_UI_ENTRY_PIN, CL_ERR_DENIED},
    {"PIN without PIN entry", CL_UI_PIN, "\001Enter PIN\n", CL_UI_ENTRY_DIGITS, CL_ERR_DENIED},
    {"PIN entry on a prompt", CL_UI_PROMPT, "> Code\n", CL_UI_ENTRY_PIN, CL_ERR_DENIED},
    {"PIN entry on a message", CL_UI_MESSAGE, "Enter PIN\n", CL_UI_ENTRY_PIN, CL_ERR_DENIED},
    {"own screen marked", CL_UI_MESSAGE, "OK\n> spoof\n", 0, CL_ERR_DENIED},
    {"txn line marked", CL_UI_TXN, "> Pay\n", 0, CL_ERR_DENIED},
    {"control byte", CL_UI_MESSAGE, "a\tb\n", 0, CL_ERR_DENIED},
    {"escape byte", CL_UI_SERVER_TEXT, "> \033[2J\n", 0, CL_ERR_DENIED},
    {"byte above 7E", CL_UI_SERVER_TEXT, "> \x80\n", 0, CL_ERR_DENIED},
    {"the secure PIN screen", CL_UI_PIN, "\001Enter PIN\n", CL_UI_ENTRY_PIN, CL_OK},
    {"prompt digits entry", CL_UI_PROMPT, "> Table number\n", CL_UI_ENTRY_DIGITS, CL_OK},
    {"text entry, no letters", CL_UI_PROMPT, "> Name\n", CL_UI_ENTRY_TEXT, CL_ERR_UNSUPPORTED},
    {"kind 6", 6, "", 0, CL_ERR_ARG},
    {"entry 4", CL_UI_PROMPT, "> x\n", 4, CL_ERR_ARG},
};

START_TEST(test_check_table)
{
    const struct check_case *c = &check_cases[_i];
    struct cl_ui_screen s;
    screen(&s, c->kind, 1, c->text);
    if (c->kind == CL_UI_TXN)
        s.pages = 1;
    if (c->entry != CL_UI_ENTRY_NONE) {
        s.entry = c->entry;
        s.entry_min = 4;
        s.entry_max = 8;
        s.entry_row = 2;
    }
    ck_assert_msg(cl_ui_screen_check(&caps20x4, &s) == c->rc, "%s: %d", c->why,
                  cl_ui_screen_check(&caps20x4, &s));
}
END_TEST

START_TEST(test_check_fields)
{
    struct cl_ui_screen s;
    struct cl_ui_caps nopad = caps20x4;

    ck_assert_int_eq(cl_ui_screen_check(&caps20x4, NULL), CL_ERR_ARG);
    /* text without its NUL */
    screen(&s, CL_UI_MESSAGE, 1, "");
    memset(s.text, 'a', sizeof(s.text));
    ck_assert_int_eq(cl_ui_screen_check(NULL, &s), CL_ERR_ARG);
    /* flags */
    screen(&s, CL_UI_MESSAGE, 1, "x\n");
    s.flags = 0x04;
    ck_assert_int_eq(cl_ui_screen_check(&caps20x4, &s), CL_ERR_ARG);
    /* TXN pages: 0 of 0, 2 of 2 refused; 1 of 2 (index 1) fine */
    screen(&s, CL_UI_TXN, 1, "Pay EUR 1.00\n");
    ck_assert_int_eq(cl_ui_screen_check(&caps20x4, &s), CL_ERR_ARG);
    s.pages = 2;
    s.page = 2;
    ck_assert_int_eq(cl_ui_screen_check(&caps20x4, &s), CL_ERR_ARG);
    s.page = 1;
    ck_assert_int_eq(cl_ui_screen_check(&caps20x4, &s), CL_OK);
    /* PIN bounds: 4..pin_max, min <= max, row below the text, within rows */
    pin_screen(&s, 1);
    ck_assert_int_eq(cl_ui_screen_check(&caps20x4, &s), CL_OK);
    s.entry_min = 3;
    ck_assert_int_eq(cl_ui_screen_check(&caps20x4, &s), CL_ERR_ARG);
    s.entry_min = 4;
    s.entry_max = 13;
    ck_assert_int_eq(cl_ui_screen_check(&caps20x4, &s), CL_ERR_ARG);
    s.entry_max = 12;
    ck_assert_int_eq(cl_ui_screen_check(&caps20x4, &s), CL_OK);
    nopad.pin_max = 8;
    ck_assert_int_eq(cl_ui_screen_check(&nopad, &s), CL_ERR_ARG);
    s.entry_max = 8;
    ck_assert_int_eq(cl_ui_screen_check(&nopad, &s), CL_OK);
    s.entry_min = 9;
    ck_assert_int_eq(cl_ui_screen_check(&nopad, &s), CL_ERR_ARG);
    s.entry_min = 4;
    s.entry_row = 0;   /* on the text */
    ck_assert_int_eq(cl_ui_screen_check(&caps20x4, &s), CL_ERR_ARG);
    s.entry_row = 3;
    ck_assert_int_eq(cl_ui_screen_check(&caps20x4, &s), CL_OK);
    s.entry_row = 4;   /* below the display */
    ck_assert_int_eq(cl_ui_screen_check(&caps20x4, &s), CL_ERR_ARG);
    s.entry_row = 1;
    /* a UI without the glyph in its font or without a PIN pad: no PIN screen */
    nopad.flags &= ~(uint32_t)CL_UI_CAP_PINPAD;
    ck_assert_int_eq(cl_ui_screen_check(&nopad, &s), CL_ERR_UNSUPPORTED);
    nopad.flags = caps20x4.flags & ~(uint32_t)CL_UI_CAP_SECURE_GLYPH;
    ck_assert_int_eq(cl_ui_screen_check(&nopad, &s), CL_ERR_UNSUPPORTED);
}
END_TEST

START_TEST(test_lines)
{
    struct cl_ui_screen s;
    size_t len = 99;
    const char *l;

    screen(&s, CL_UI_MESSAGE, 1, "ab\n\ncde");
    ck_assert_uint_eq(cl_ui_screen_rows(&s), 3);
    l = cl_ui_screen_line(&s, 0, &len);
    ck_assert_ptr_eq(l, s.text);
    ck_assert_uint_eq(len, 2);
    l = cl_ui_screen_line(&s, 1, &len);
    ck_assert_ptr_eq(l, s.text + 3);
    ck_assert_uint_eq(len, 0);
    l = cl_ui_screen_line(&s, 2, &len);
    ck_assert_ptr_eq(l, s.text + 4);
    ck_assert_uint_eq(len, 3);
    ck_assert_ptr_null(cl_ui_screen_line(&s, 3, &len));
    ck_assert_uint_eq(len, 0);
    ck_assert_str_eq(cl_ui_kind_name(CL_UI_TXN), "TXN");
    ck_assert_str_eq(cl_ui_kind_name(6), "?");
}
END_TEST

/* The layouts lib/policy and lib/txn produce pass as they are. */
START_TEST(test_library_layouts)
{
    struct cl_ui_screen s;
    struct cl_txn t;
    unsigned pages = 0, p;
    size_t len;
    static const char text[] = "Your balance is low. Please top up at the counter";

    screen(&s, CL_UI_SERVER_TEXT, 1, "");
    ck_assert_int_eq(cl_policy_mark_text((const uint8_t *)text, strlen(text), 20, s.text,
                                         sizeof(s.text), &len), CL_OK);
    ck_assert_str_eq(s.text, "> Your balance is lo\n> w. Please top up a\n> t the counter\n");
    ck_assert_int_eq(cl_ui_screen_check(&caps20x4, &s), CL_OK);

    memset(&t, 0, sizeof(t));
    t.kind = CL_TXN_PURCHASE;
    t.has_amount = true;
    t.amount = 100000;
    t.currency = 978;
    t.exponent = 2;
    t.time = (struct cl_txn_time){2025, 1, 2, 3, 4, 5};
    strcpy(t.merchant, "Corner Shop");
    cl_ui_screen_init(&s, CL_UI_TXN, 2);
    ck_assert_int_eq(cl_txn_render(&t, 20, 4, 0, s.text, sizeof(s.text), &pages), CL_OK);
    ck_assert_uint_ge(pages, 1);
    for (p = 0; p < pages; p++) {
        ck_assert_int_eq(cl_txn_render(&t, 20, 4, p, s.text, sizeof(s.text), NULL), CL_OK);
        s.page = (uint16_t)p;
        s.pages = (uint16_t)pages;
        ck_assert_int_eq(cl_ui_screen_check(&caps20x4, &s), CL_OK);
    }
}
END_TEST

/* ------------------------------------------------------------ ui_script */

static struct cl_ui_script *new_script(const char *text, int rc)
{
    struct cl_ui_script *s = malloc(sizeof(*s));
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(cl_ui_script_setup(s, NULL, text, strlen(text)), rc);
    return s;
}

static void done(struct cl_ui_script *s)
{
    cl_ui_script_free(s);
    free(s);
}

/* A purchase as the device will run it: server text, two pages, an early
 * Confirm, paging, Confirm, the PIN. Every event and screen exact. */
START_TEST(test_script_flow)
{
    struct cl_ui_script *s = new_script(
        "# a holder who reads everything\n"
        "expect-screen SERVER_TEXT\n"
        "expect-line 1 > Welcome\n"
        "expect-confirm yes\n"
        "confirm\n"
        "\n"
        "expect-screen TXN 1/2\n"
        "expect-line 1 ACME             1/2\n"
        "expect-confirm no\n"
        "confirm\n"
        "page-down\n"
        "wait-screen TXN 2/2\n"
        "expect-confirm yes\n"
        "confirm\n"
        "wait-screen PIN\n"
        "expect-line 1 \\gEnter PIN\n"
        "pin 2468\n"
        "expect-screen MESSAGE\n"
        "expect-none\n"
        "end\n", CL_OK);
    struct cl_ui ui = cl_ui_script_ui(s);
    struct cl_ui_screen sc;
    struct cl_ui_event ev;
    struct cl_ui_caps caps;
    static const uint8_t zero[sizeof(struct cl_ui_event)];

    ui.ops->caps(ui.ctx, &caps);
    ck_assert_uint_eq(caps.cols, 20);
    ck_assert_uint_eq(caps.rows, 4);
    ck_assert_uint_eq(caps.flags & CL_UI_CAP_FD, 0);
    ck_assert_ptr_null(ui.ops->fd);
    ck_assert_ptr_null(ui.ops->timer);

    /* nothing shown: the holder waits */
    ck_assert_int_eq(ui.ops->poll(ui.ctx, 5, &ev), CL_ERR_AGAIN);
    ck_assert_mem_eq(&ev, zero, sizeof(ev));

    screen(&sc, CL_UI_SERVER_TEXT, 1, "> Welcome\n");
    sc.flags = CL_UI_F_CONFIRM;
    ck_assert_int_eq(ui.ops->show(ui.ctx, &sc), CL_OK);
    ck_assert_int_eq(ui.ops->poll(ui.ctx, 10, &ev), CL_OK);
    ck_assert_uint_eq(ev.type, CL_UI_EV_KEY);
    ck_assert_uint_eq(ev.key, CL_UI_KEY_CONFIRM);
    ck_assert_uint_eq(ev.screen, 1);
    ck_assert_uint_eq(ev.at, 10);

    screen(&sc, CL_UI_TXN, 2, "ACME             1/2\nPay EUR 1.00\n");
    sc.page = 0;
    sc.pages = 2;
    sc.flags = CL_UI_F_CANCEL;
    ck_assert_int_eq(ui.ops->show(ui.ctx, &sc), CL_OK);
    ck_assert_int_eq(ui.ops->poll(ui.ctx, 20, &ev), CL_OK);   /* the early Confirm */
    ck_assert_uint_eq(ev.key, CL_UI_KEY_CONFIRM);
    ck_assert_uint_eq(ev.screen, 2);
    ck_assert_int_eq(ui.ops->poll(ui.ctx, 21, &ev), CL_OK);
    ck_assert_uint_eq(ev.key, CL_UI_KEY_DOWN);
    ck_assert_int_eq(ui.ops->poll(ui.ctx, 22, &ev), CL_ERR_AGAIN);   /* waits for page 2 */
    screen(&sc, CL_UI_TXN, 3, "Ref              2/2\n00112233\n");
    sc.page = 1;
    sc.pages = 2;
    sc.flags = CL_UI_F_CANCEL | CL_UI_F_CONFIRM;
    ck_assert_int_eq(ui.ops->show(ui.ctx, &sc), CL_OK);
    ck_assert_int_eq(ui.ops->poll(ui.ctx, 30, &ev), CL_OK);
    ck_assert_uint_eq(ev.key, CL_UI_KEY_CONFIRM);
    ck_assert_uint_eq(ev.screen, 3);

    /* the glyph under server text is refused by the port, and not recorded */
    screen(&sc, CL_UI_SERVER_TEXT, 4, "> \001Enter PIN\n");
    ck_assert_int_eq(ui.ops->show(ui.ctx, &sc), CL_ERR_DENIED);
    ck_assert_int_eq(ui.ops->poll(ui.ctx, 31, &ev), CL_ERR_AGAIN);

    pin_screen(&sc, 5);
    ck_assert_int_eq(ui.ops->show(ui.ctx, &sc), CL_OK);
    ck_assert_int_eq(ui.ops->poll(ui.ctx, 40, &ev), CL_OK);
    ck_assert_uint_eq(ev.type, CL_UI_EV_PIN);
    ck_assert_uint_eq(ev.screen, 5);
    ck_assert_uint_eq(ev.len, 4);
    ck_assert_mem_eq(ev.data, "\x02\x04\x06\x08", 4);   /* values, never ASCII */
    cl_ui_event_wipe(&ev);
    ck_assert_mem_eq(&ev, zero, sizeof(ev));

    ck_assert_int_eq(ui.ops->poll(ui.ctx, 41, &ev), CL_ERR_AGAIN);
    screen(&sc, CL_UI_MESSAGE, 6, "Approved\n");
    ck_assert_int_eq(ui.ops->show(ui.ctx, &sc), CL_OK);
    ck_assert_int_eq(ui.ops->poll(ui.ctx, 50, &ev), CL_ERR_CLOSED);
    ck_assert_int_eq(ui.ops->poll(ui.ctx, 51, &ev), CL_ERR_CLOSED);   /* sticky */
    ck_assert(cl_ui_script_done(s));
    ck_assert_ptr_null(cl_ui_script_error(s));

    /* exactly what the holder saw */
    ck_assert_uint_eq(cl_ui_script_shown(s), 5);
    {
        static const uint8_t kinds[] = {CL_UI_SERVER_TEXT, CL_UI_TXN, CL_UI_TXN, CL_UI_PIN,
                                        CL_UI_MESSAGE};
        static const uint16_t ids[] = {1, 2, 3, 5, 6};
        size_t i;
        int last = 0;
        for (i = 0; i < 5; i++) {
            ck_assert_uint_eq(cl_ui_script_screen(s, i)->kind, kinds[i]);
            ck_assert_uint_eq(cl_ui_script_screen(s, i)->id, ids[i]);
        }
        ck_assert_ptr_null(cl_ui_script_screen(s, 5));
        ck_assert_str_eq(cl_ui_script_screen(s, 2)->text, "Ref              2/2\n00112233\n");
        ck_assert_uint_eq(cl_ui_script_refused(s, &last), 1);
        ck_assert_int_eq(last, CL_ERR_DENIED);
    }
    ui.ops->close(ui.ctx);
    ck_assert_int_eq(ui.ops->show(ui.ctx, &sc), CL_ERR_CLOSED);
    done(s);
}
END_TEST

/* The scripted holder types a PIN on the secure screen only: a server
 * prompt dressed as a PIN screen gets no digits. */
START_TEST(test_script_pin_refused)
{
    static const struct {
        uint8_t kind;
        const char *text;
        uint8_t entry;
    } spoofs[] = {
        {CL_UI_PROMPT, "> Enter PIN\n", CL_UI_ENTRY_DIGITS},
        {CL_UI_SERVER_TEXT, "> Enter PIN\n", CL_UI_ENTRY_NONE},
        {CL_UI_MESSAGE, "Enter PIN\n", CL_UI_ENTRY_DIGITS},
    };
    size_t i;
    for (i = 0; i < CL_ARRAY_LEN(spoofs); i++) {
        struct cl_ui_script *s = new_script("wait-screen " "PROMPT\npin 1234\n", CL_OK);
        struct cl_ui_screen sc;
        struct cl_ui_event ev;
        static const uint8_t zero[sizeof(struct cl_ui_event)];
        done(s);
        s = new_script(i == 0 ? "expect-screen PROMPT\npin 1234\n"
                       : i == 1 ? "expect-screen SERVER_TEXT\npin 1234\n"
                                : "expect-screen MESSAGE\npin 1234\n", CL_OK);
        screen(&sc, spoofs[i].kind, 7, spoofs[i].text);
        if (spoofs[i].entry) {
            sc.entry = spoofs[i].entry;
            sc.entry_min = 4;
            sc.entry_max = 4;
            sc.entry_row = 1;
        }
        ck_assert_int_eq(cl_ui_script_ui(s).ops->show(s, &sc), CL_OK);
        ck_assert_int_eq(cl_ui_script_ui(s).ops->poll(s, 1, &ev), CL_ERR_PROTOCOL);
        ck_assert_mem_eq(&ev, zero, sizeof(ev));
        ck_assert_str_eq(cl_ui_script_error(s),
                         i == 0 ? "line 2: pin: refused, not the secure PIN screen (shown: PROMPT 1/0 id 7)"
                         : i == 1 ? "line 2: pin: refused, not the secure PIN screen (shown: SERVER_TEXT 1/0 id 7)"
                                  : "line 2: pin: refused, not the secure PIN screen (shown: MESSAGE 1/0 id 7)");
        ck_assert_int_eq(cl_ui_script_ui(s).ops->poll(s, 2, &ev), CL_ERR_PROTOCOL);
        done(s);
    }
}
END_TEST

START_TEST(test_script_mismatch)
{
    struct cl_ui_script *s = new_script("expect-screen TXN 1/2\n", CL_OK);
    struct cl_ui_screen sc;
    struct cl_ui_event ev;

    screen(&sc, CL_UI_TXN, 3, "Pay EUR 1.00\n");
    sc.page = 1;
    sc.pages = 2;
    ck_assert_int_eq(cl_ui_script_ops.show(s, &sc), CL_OK);
    ck_assert_int_eq(cl_ui_script_ops.poll(s, 1, &ev), CL_ERR_PROTOCOL);
    ck_assert_str_eq(cl_ui_script_error(s),
                     "line 1: expect-screen: another screen (shown: TXN 2/2 id 3)");
    done(s);

    s = new_script("wait-screen PIN\nexpect-line 1 \\gEnter PIN!\n", CL_OK);
    pin_screen(&sc, 4);
    ck_assert_int_eq(cl_ui_script_ops.show(s, &sc), CL_OK);
    ck_assert_int_eq(cl_ui_script_ops.poll(s, 1, &ev), CL_ERR_PROTOCOL);
    ck_assert_str_eq(cl_ui_script_error(s),
                     "line 2: expect-line: another text (shown: PIN 1/0 id 4)");
    done(s);

    s = new_script("expect-none\n", CL_OK);
    screen(&sc, CL_UI_IDLE, 1, "");
    ck_assert_int_eq(cl_ui_script_ops.show(s, &sc), CL_OK);
    ck_assert_int_eq(cl_ui_script_ops.poll(s, 1, &ev), CL_ERR_PROTOCOL);
    done(s);

    /* the PIN's length is the screen's */
    s = new_script("wait-screen PIN\npin 123456789\n", CL_OK);
    pin_screen(&sc, 4);
    ck_assert_int_eq(cl_ui_script_ops.show(s, &sc), CL_OK);
    ck_assert_int_eq(cl_ui_script_ops.poll(s, 1, &ev), CL_ERR_PROTOCOL);
    ck_assert_str_eq(cl_ui_script_error(s),
                     "line 2: pin: the screen takes another length (shown: PIN 1/0 id 4)");
    done(s);
}
END_TEST

static const struct {
    const char *script;
    int rc;
} script_syntax[] = {
    {"", CL_OK},
    {"# only a comment\n\n   \n", CL_OK},
    {"confirm\r\ncancel\r\n", CL_OK},
    {"expect-screen BOGUS\n", CL_ERR_MALFORMED},
    {"expect-screen TXN 0/2\n", CL_ERR_MALFORMED},
    {"expect-screen TXN 3/2\n", CL_ERR_MALFORMED},
    {"expect-screen TXN 1/2 x\n", CL_ERR_MALFORMED},
    {"expect-line 0 x\n", CL_ERR_MALFORMED},
    {"expect-confirm maybe\n", CL_ERR_MALFORMED},
    {"pin 123\n", CL_ERR_MALFORMED},
    {"pin 1234567890123\n", CL_ERR_MALFORMED},
    {"pin 12a4\n", CL_ERR_MALFORMED},
    {"key 10\n", CL_ERR_MALFORMED},
    {"enter\n", CL_ERR_MALFORMED},
    {"confirm now\n", CL_ERR_MALFORMED},
    {"approve\n", CL_ERR_MALFORMED},
};

START_TEST(test_script_syntax)
{
    struct cl_ui_script *s = new_script(script_syntax[_i].script, script_syntax[_i].rc);
    if (script_syntax[_i].rc == CL_ERR_MALFORMED)
        ck_assert_str_eq(cl_ui_script_error(s), "line 1: not a command");
    done(s);
}
END_TEST

START_TEST(test_script_args)
{
    struct cl_ui_script *s = malloc(sizeof(*s));
    struct cl_ui_caps bad = caps20x4;
    struct cl_ui_event ev;
    struct cl_ui_screen sc;
    char path[] = "/tmp/cl-ui-script-XXXXXX";
    int fd;

    ck_assert_int_eq(cl_ui_script_setup(NULL, NULL, "", 0), CL_ERR_ARG);
    ck_assert_int_eq(cl_ui_script_setup(s, NULL, NULL, 1), CL_ERR_ARG);
    bad.cols = 0;
    ck_assert_int_eq(cl_ui_script_setup(s, &bad, "", 0), CL_ERR_ARG);
    bad.cols = 20;
    bad.pin_max = 3;
    ck_assert_int_eq(cl_ui_script_setup(s, &bad, "", 0), CL_ERR_ARG);
    ck_assert_int_eq(cl_ui_script_setup(s, NULL, "", CL_UI_SCRIPT_TEXT_MAX + 1), CL_ERR_LIMIT);
    ck_assert_int_eq(cl_ui_script_load(s, NULL, "/nonexistent/script"), CL_ERR_IO);

    /* a script file; the caps given are the ones declared (no FD) */
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "enter 42\n", 9), 9);
    close(fd);
    bad = caps20x4;
    bad.flags |= CL_UI_CAP_FD;
    ck_assert_int_eq(cl_ui_script_load(s, &bad, path), CL_OK);
    unlink(path);
    cl_ui_script_ops.caps(s, &bad);
    ck_assert_uint_eq(bad.flags, caps20x4.flags);
    screen(&sc, CL_UI_PROMPT, 9, "> Table\n");
    sc.entry = CL_UI_ENTRY_DIGITS;
    sc.entry_min = 1;
    sc.entry_max = 2;
    sc.entry_row = 1;
    ck_assert_int_eq(cl_ui_script_ops.show(s, &sc), CL_OK);
    ck_assert_int_eq(cl_ui_script_ops.poll(s, 3, &ev), CL_OK);
    ck_assert_uint_eq(ev.type, CL_UI_EV_ENTRY);
    ck_assert_uint_eq(ev.len, 2);
    ck_assert_mem_eq(ev.data, "42", 2);
    ck_assert_int_eq(cl_ui_script_ops.poll(s, 4, &ev), CL_ERR_CLOSED);   /* no "end": end */
    cl_ui_script_free(s);
    cl_ui_script_free(NULL);
    free(s);
}
END_TEST

/* ------------------------------------------------------------ ui_term over a pipe */

struct term_rig {
    struct cl_ui_term t;
    int keys[2], display[2];
};

static void rig_open(struct term_rig *r)
{
    ck_assert_int_eq(pipe(r->keys), 0);
    ck_assert_int_eq(pipe(r->display), 0);
    ck_assert_int_eq(fcntl(r->display[0], F_SETFL, O_NONBLOCK), 0);
    ck_assert_int_eq(cl_ui_term_open(&r->t, r->keys[0], r->display[1], 20, 4), CL_OK);
}

static void rig_close(struct term_rig *r)
{
    cl_ui_term_close(&r->t);
    close(r->keys[0]);
    close(r->keys[1]);
    close(r->display[0]);
    close(r->display[1]);
}

static void type(struct term_rig *r, const char *k)
{
    ck_assert_int_eq(write(r->keys[1], k, strlen(k)), (ssize_t)strlen(k));
}

/* What was drawn since the last call, NUL-terminated, in buf. */
static const char *drawn(struct term_rig *r, char *buf, size_t size)
{
    size_t n = 0;
    ssize_t k;
    while (n + 1 < size && (k = read(r->display[0], buf + n, size - 1 - n)) > 0)
        n += (size_t)k;
    buf[n] = '\0';
    return buf;
}

/* The last frame in buf (after the last clear). */
static const char *last_frame(const char *buf)
{
    const char *p = buf, *q;
    while ((q = strstr(p, "\033[H\033[2J")) != NULL)
        p = q + 7;
    return p;
}

START_TEST(test_term_flow)
{
    struct term_rig r;
    struct cl_ui ui;
    struct cl_ui_screen sc;
    struct cl_ui_event ev;
    struct cl_ui_caps caps;
    static char buf[65536];
    static const uint8_t zero[CL_UI_ENTRY_MAX];

    rig_open(&r);
    ui = cl_ui_term_ui(&r.t);
    ui.ops->caps(ui.ctx, &caps);
    ck_assert_uint_eq(caps.cols, 20);
    ck_assert_uint_eq(caps.rows, 4);
    ck_assert_uint_eq(caps.flags & (CL_UI_CAP_SECURE_LED | CL_UI_CAP_SECURE_GLYPH |
                                    CL_UI_CAP_PINPAD | CL_UI_CAP_FD),
                      CL_UI_CAP_SECURE_LED | CL_UI_CAP_SECURE_GLYPH | CL_UI_CAP_PINPAD |
                          CL_UI_CAP_FD);
    ck_assert_int_eq(ui.ops->fd(ui.ctx), r.keys[0]);
    ck_assert_uint_eq(ui.ops->timer(ui.ctx, 0), CL_TIMER_NONE);
    (void)drawn(&r, buf, sizeof(buf));

    /* server text: framed, marked, LED off */
    screen(&sc, CL_UI_SERVER_TEXT, 1, "> Hello\n");
    sc.flags = CL_UI_F_CONFIRM;
    ck_assert_int_eq(ui.ops->show(ui.ctx, &sc), CL_OK);
    ck_assert_str_eq(last_frame(drawn(&r, buf, sizeof(buf))),
                     "+--------------------+\r\n"
                     "|> Hello             |\r\n"
                     "|                    |\r\n"
                     "|                    |\r\n"
                     "|                    |\r\n"
                     "+--------------------+\r\n"
                     " ( ) secure pin entry\r\n"
                     " [Enter] OK  \r\n");
    /* the glyph under server text: refused, nothing drawn */
    screen(&sc, CL_UI_SERVER_TEXT, 2, "> \001Enter PIN\n");
    ck_assert_int_eq(ui.ops->show(ui.ctx, &sc), CL_ERR_DENIED);
    ck_assert_str_eq(drawn(&r, buf, sizeof(buf)), "");

    /* keys: digits, Enter, '+', '-', arrows, PgDn, Delete, Backspace */
    ck_assert_int_eq(ui.ops->poll(ui.ctx, 1, &ev), CL_ERR_AGAIN);
    type(&r, "7\r+-\033[B\033[A\033[6~\033[3~\177x");
    {
        static const uint8_t want[] = {7, CL_UI_KEY_CONFIRM, CL_UI_KEY_DOWN, CL_UI_KEY_UP,
                                       CL_UI_KEY_DOWN, CL_UI_KEY_UP, CL_UI_KEY_DOWN,
                                       CL_UI_KEY_CLEAR, CL_UI_KEY_CLEAR};
        size_t i;
        for (i = 0; i < sizeof(want); i++) {
            ck_assert_int_eq(ui.ops->poll(ui.ctx, 100 + (uint32_t)i, &ev), CL_OK);
            ck_assert_uint_eq(ev.type, CL_UI_EV_KEY);
            ck_assert_uint_eq(ev.key, want[i]);
            ck_assert_uint_eq(ev.screen, 1);
            ck_assert_uint_eq(ev.at, 100 + i);
        }
        ck_assert_int_eq(ui.ops->poll(ui.ctx, 200, &ev), CL_ERR_AGAIN);   /* 'x': no key */
    }
    /* a lone Esc: Cancel once 50 ms have passed without a sequence */
    type(&r, "\033");
    ck_assert_int_eq(ui.ops->poll(ui.ctx, 1000, &ev), CL_ERR_AGAIN);
    ck_assert_uint_eq(ui.ops->timer(ui.ctx, 1010), 40);
    ck_assert_int_eq(ui.ops->poll(ui.ctx, 1049, &ev), CL_ERR_AGAIN);
    ck_assert_int_eq(ui.ops->poll(ui.ctx, 1050, &ev), CL_OK);
    ck_assert_uint_eq(ev.key, CL_UI_KEY_CANCEL);
    ck_assert_uint_eq(ev.at, 1000);
    ck_assert_uint_eq(ui.ops->timer(ui.ctx, 1050), CL_TIMER_NONE);
    (void)drawn(&r, buf, sizeof(buf));

    /* the PIN: '*' echoed, LED on, digits handed over as values and wiped */
    pin_screen(&sc, 3);
    ck_assert_int_eq(ui.ops->show(ui.ctx, &sc), CL_OK);
    ck_assert_str_eq(last_frame(drawn(&r, buf, sizeof(buf))),
                     "+--------------------+\r\n"
                     "|\033[7m#\033[27mEnter PIN          |\r\n"
                     "|_                   |\r\n"
                     "|                    |\r\n"
                     "|                    |\r\n"
                     "+--------------------+\r\n"
                     " (*) SECURE PIN ENTRY\r\n"
                     " [Enter] OK  [Esc] Cancel  [Bksp] Clear  \r\n");
    type(&r, "135\r");   /* 3 digits: Enter too early, ignored */
    ck_assert_int_eq(ui.ops->poll(ui.ctx, 2000, &ev), CL_ERR_AGAIN);
    type(&r, "9\1778");  /* 9, Clear, 8 */
    ck_assert_int_eq(ui.ops->poll(ui.ctx, 2001, &ev), CL_ERR_AGAIN);
    ck_assert_uint_eq(r.t.entry_len, 4);
    ck_assert_str_eq(last_frame(drawn(&r, buf, sizeof(buf))),
                     "+--------------------+\r\n"
                     "|\033[7m#\033[27mEnter PIN          |\r\n"
                     "|****_               |\r\n"
                     "|                    |\r\n"
                     "|                    |\r\n"
                     "+--------------------+\r\n"
                     " (*) SECURE PIN ENTRY\r\n"
                     " [Enter] OK  [Esc] Cancel  [Bksp] Clear  \r\n");
    ck_assert_ptr_null(strstr(buf, "1358"));
    type(&r, "\r");
    ck_assert_int_eq(ui.ops->poll(ui.ctx, 2002, &ev), CL_OK);
    ck_assert_uint_eq(ev.type, CL_UI_EV_PIN);
    ck_assert_uint_eq(ev.screen, 3);
    ck_assert_uint_eq(ev.len, 4);
    ck_assert_mem_eq(ev.data, "\x01\x03\x05\x08", 4);
    /* the port's copy is gone the moment the event is taken */
    ck_assert_mem_eq(r.t.entry, zero, sizeof(zero));
    ck_assert_uint_eq(r.t.entry_len, 0);
    cl_ui_event_wipe(&ev);
    ck_assert_mem_eq(ev.data, zero, sizeof(zero));
    /* no digit of the PIN ever drawn in clear (the escapes hold 2 and 7) */
    (void)drawn(&r, buf, sizeof(buf));
    ck_assert_ptr_null(strpbrk(last_frame(buf), "1358"));

    /* a new screen ends an entry: its digits wiped, nothing reported */
    pin_screen(&sc, 4);
    ck_assert_int_eq(ui.ops->show(ui.ctx, &sc), CL_OK);
    type(&r, "24");
    ck_assert_int_eq(ui.ops->poll(ui.ctx, 3000, &ev), CL_ERR_AGAIN);
    ck_assert_uint_eq(r.t.entry_len, 2);
    screen(&sc, CL_UI_MESSAGE, 5, "Card removed\n");
    ck_assert_int_eq(ui.ops->show(ui.ctx, &sc), CL_OK);
    ck_assert_mem_eq(r.t.entry, zero, sizeof(zero));
    ck_assert_str_eq(last_frame(drawn(&r, buf, sizeof(buf))),
                     "+--------------------+\r\n"
                     "|Card removed        |\r\n"
                     "|                    |\r\n"
                     "|                    |\r\n"
                     "|                    |\r\n"
                     "+--------------------+\r\n"
                     " ( ) secure pin entry\r\n"
                     " \r\n");
    /* Cancel during a PIN entry: a key, the digits wiped */
    pin_screen(&sc, 6);
    ck_assert_int_eq(ui.ops->show(ui.ctx, &sc), CL_OK);
    type(&r, "99\033x");
    ck_assert_int_eq(ui.ops->poll(ui.ctx, 4000, &ev), CL_OK);
    ck_assert_uint_eq(ev.type, CL_UI_EV_KEY);
    ck_assert_uint_eq(ev.key, CL_UI_KEY_CANCEL);
    ck_assert_uint_eq(ev.screen, 6);
    ck_assert_mem_eq(r.t.entry, zero, sizeof(zero));

    /* Ctrl-D and the end of input */
    type(&r, "\004");
    ck_assert_int_eq(ui.ops->poll(ui.ctx, 5000, &ev), CL_ERR_CLOSED);
    close(r.keys[1]);
    r.keys[1] = open("/dev/null", O_WRONLY);
    ck_assert_int_eq(ui.ops->poll(ui.ctx, 5001, &ev), CL_ERR_CLOSED);

    ui.ops->close(ui.ctx);
    ck_assert_int_eq(ui.ops->show(ui.ctx, &sc), CL_ERR_CLOSED);
    ck_assert_int_eq(ui.ops->poll(ui.ctx, 1, &ev), CL_ERR_CLOSED);
    ck_assert_int_eq(ui.ops->fd(ui.ctx), CL_ERR_CLOSED);
    ui.ops->close(ui.ctx);   /* twice: nothing */
    rig_close(&r);
}
END_TEST

/* The page line only under a transaction of several pages; escape
 * sequences with a numeric argument read whole (leading zero, two digits). */
START_TEST(test_term_edges)
{
    struct term_rig r;
    struct cl_ui ui;
    struct cl_ui_screen sc;
    struct cl_ui_event ev;
    static char buf[65536];
    const char *f;

    rig_open(&r);
    ui = cl_ui_term_ui(&r.t);
    (void)drawn(&r, buf, sizeof(buf));
    screen(&sc, CL_UI_TXN, 1, "Pay EUR 1.00\n");
    sc.flags = CL_UI_F_CONFIRM | CL_UI_F_CANCEL;
    sc.pages = 2;
    ck_assert_int_eq(ui.ops->show(ui.ctx, &sc), CL_OK);
    f = last_frame(drawn(&r, buf, sizeof(buf)));
    ck_assert_ptr_nonnull(strstr(f, "\r\n [Enter] OK  [Esc] Cancel  page 1/2 [+/-]\r\n"));
    sc.page = 1;
    ck_assert_int_eq(ui.ops->show(ui.ctx, &sc), CL_OK);
    f = last_frame(drawn(&r, buf, sizeof(buf)));
    ck_assert_ptr_nonnull(strstr(f, " page 2/2 [+/-]\r\n"));
    sc.pages = 12;   /* numbers of two digits */
    sc.page = 10;
    ck_assert_int_eq(ui.ops->show(ui.ctx, &sc), CL_OK);
    f = last_frame(drawn(&r, buf, sizeof(buf)));
    ck_assert_ptr_nonnull(strstr(f, " page 11/12 [+/-]\r\n"));
    sc.pages = 1;
    sc.page = 0;
    ck_assert_int_eq(ui.ops->show(ui.ctx, &sc), CL_OK);
    f = last_frame(drawn(&r, buf, sizeof(buf)));
    ck_assert_ptr_nonnull(strstr(f, "\r\n [Enter] OK  [Esc] Cancel  \r\n"));
    ck_assert_ptr_null(strstr(f, "page"));

    /* ESC [ 0 5 ~ is PgUp (5), ESC [ 3 5 ~ no key here, ESC [ 0 3 ~ Delete */
    type(&r, "\033[05~\033[35~\033[06~");
    memset(&ev, 0xEE, sizeof(ev));   /* a key event is whole: no field left over */
    ck_assert_int_eq(ui.ops->poll(ui.ctx, 10, &ev), CL_OK);
    ck_assert_uint_eq(ev.key, CL_UI_KEY_UP);
    ck_assert_uint_eq(ev.len, 0);
    ck_assert_uint_eq(ev.data[0], 0);
    ck_assert_int_eq(ui.ops->poll(ui.ctx, 11, &ev), CL_OK);
    ck_assert_uint_eq(ev.key, CL_UI_KEY_DOWN);
    ck_assert_int_eq(ui.ops->poll(ui.ctx, 12, &ev), CL_ERR_AGAIN);
    pin_screen(&sc, 2);
    ck_assert_int_eq(ui.ops->show(ui.ctx, &sc), CL_OK);
    type(&r, "12\033[03~\033[35~");
    ck_assert_int_eq(ui.ops->poll(ui.ctx, 20, &ev), CL_ERR_AGAIN);
    ck_assert_uint_eq(r.t.entry_len, 1);
    ck_assert_uint_eq(r.t.entry[0], 1);
    type(&r, "034\r");
    ck_assert_int_eq(ui.ops->poll(ui.ctx, 21, &ev), CL_OK);
    ck_assert_uint_eq(ev.type, CL_UI_EV_PIN);
    ck_assert_uint_eq(ev.at, 21);
    ck_assert_uint_eq(ev.len, 4);
    ck_assert_mem_eq(ev.data, "\x01\x00\x03\x04", 4);
    cl_ui_event_wipe(&ev);
    rig_close(&r);
}
END_TEST

START_TEST(test_term_args)
{
    struct cl_ui_term t;
    struct cl_ui_screen sc;
    int p[2];

    ck_assert_int_eq(cl_ui_term_open(NULL, 0, 1, 20, 4), CL_ERR_ARG);
    ck_assert_int_eq(cl_ui_term_open(&t, -1, 1, 20, 4), CL_ERR_ARG);
    ck_assert_int_eq(cl_ui_term_open(&t, 0, 1, 0, 4), CL_ERR_ARG);
    ck_assert_int_eq(cl_ui_term_open(&t, 0, 1, CL_UI_COLS_MAX + 1, 4), CL_ERR_ARG);
    ck_assert_int_eq(cl_ui_term_open(&t, 0, 1, 20, CL_UI_ROWS_MAX + 1), CL_ERR_ARG);
    cl_ui_term_close(NULL);
    cl_ui_term_restore(NULL);

    /* a 16 x 2 display refuses what does not fit; a text entry is typed */
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(cl_ui_term_open(&t, p[0], open("/dev/null", O_WRONLY), 16, 2), CL_OK);
    screen(&sc, CL_UI_MESSAGE, 1, "12345678901234567\n");
    ck_assert_int_eq(cl_ui_term_ops.show(&t, &sc), CL_ERR_ARG);
    screen(&sc, CL_UI_MESSAGE, 1, "a\nb\nc\n");
    ck_assert_int_eq(cl_ui_term_ops.show(&t, &sc), CL_ERR_ARG);
    screen(&sc, CL_UI_PROMPT, 2, "> Your name\n");
    sc.entry = CL_UI_ENTRY_TEXT;
    sc.entry_min = 1;
    sc.entry_max = 3;
    sc.entry_row = 1;
    ck_assert_int_eq(cl_ui_term_ops.show(&t, &sc), CL_OK);
    {
        struct cl_ui_event ev;
        ck_assert_int_eq(write(p[1], "Bo+b-!\r", 7), 7);
        ck_assert_int_eq(cl_ui_term_ops.poll(&t, 9, &ev), CL_OK);
        ck_assert_uint_eq(ev.type, CL_UI_EV_ENTRY);
        ck_assert_uint_eq(ev.len, 3);
        ck_assert_mem_eq(ev.data, "Bo+", 3);   /* max 3: the rest dropped */
    }
    close(t.out_fd);
    cl_ui_term_close(&t);
    close(p[0]);
    close(p[1]);
}
END_TEST

static Suite *ui_suite(void)
{
    Suite *s = suite_create("ui");
    TCase *tc = tcase_create("helpers");
    tcase_add_loop_test(tc, test_check_table, 0, (int)CL_ARRAY_LEN(check_cases));
    tcase_add_test(tc, test_check_fields);
    tcase_add_test(tc, test_lines);
    tcase_add_test(tc, test_library_layouts);
    suite_add_tcase(s, tc);
    tc = tcase_create("script");
    tcase_add_test(tc, test_script_flow);
    tcase_add_test(tc, test_script_pin_refused);
    tcase_add_test(tc, test_script_mismatch);
    tcase_add_loop_test(tc, test_script_syntax, 0, (int)CL_ARRAY_LEN(script_syntax));
    tcase_add_test(tc, test_script_args);
    suite_add_tcase(s, tc);
    tc = tcase_create("term");
    tcase_add_test(tc, test_term_flow);
    tcase_add_test(tc, test_term_edges);
    tcase_add_test(tc, test_term_args);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ui_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
