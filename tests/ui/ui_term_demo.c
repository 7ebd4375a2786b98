/*
 * cardlink — ui_term_demo: the terminal UI (ports/posix/ui_term.h) driven
 * through the UI port as the device will drive it: a marked server text, a
 * 2-page transaction (cl_txn_render, Confirm only after every page by
 * lib/policy's pager), a secure PIN entry; then it prints what it received
 * (never a PIN digit). tests/ui/test_ui_term.py runs it in tmux.
 * Usage: ui_term_demo EXPECTED-PIN
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L

#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cardlink/engine.h"
#include "cardlink/policy.h"
#include "cardlink/txn.h"
#include "cardlink/ui.h"
#include "cardlink/wipe.h"
#include "ui_term.h"

#define COLS 20
#define ROWS 4

static struct cl_ui_term term;
static char report[4096];
static size_t report_len;

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(report + report_len, sizeof(report) - report_len, fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < sizeof(report) - report_len)
        report_len += (size_t)n;
}

static void on_signal(int sig)
{
    cl_ui_term_restore(&term);
    signal(sig, SIG_DFL);
    raise(sig);
}

static uint32_t ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

static const char *key_name(const struct cl_ui_event *ev)
{
    static const char *const names[] = {"CONFIRM", "CANCEL", "CLEAR", "UP", "DOWN"};
    static const char *const digits[] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
    if (ev->type == CL_UI_EV_PIN)
        return "PIN";
    if (ev->type == CL_UI_EV_ENTRY)
        return "ENTRY";
    if (ev->key <= 9)
        return digits[ev->key];
    if (ev->key >= CL_UI_KEY_CONFIRM && ev->key <= CL_UI_KEY_DOWN)
        return names[ev->key - CL_UI_KEY_CONFIRM];
    return "?";
}

/* Wait for the next event; false when the input ended. */
static bool next_event(struct cl_ui *ui, struct cl_ui_event *ev)
{
    for (;;) {
        uint32_t now = ms_now(), t;
        struct pollfd pf;
        int rc = ui->ops->poll(ui->ctx, now, ev);
        if (rc == CL_OK) {
            note("  event %s on screen %u\n", key_name(ev), (unsigned)ev->screen);
            return true;
        }
        if (rc != CL_ERR_AGAIN)
            return false;
        t = ui->ops->timer(ui->ctx, now);
        pf.fd = ui->ops->fd(ui->ctx);
        pf.events = POLLIN;
        (void)poll(&pf, 1, t == CL_TIMER_NONE ? -1 : (int)t + 1);
    }
}

static void demo_txn(struct cl_txn *t)
{
    memset(t, 0, sizeof(*t));
    memcpy(t->id, "demo-txn-0000001", CL_TXN_ID_LEN);
    t->kind = CL_TXN_PURCHASE;
    t->has_amount = true;
    t->amount = 1250;
    t->currency = 978;
    t->exponent = 2;
    t->time = (struct cl_txn_time){2025, 3, 14, 9, 26, 53};
    strcpy(t->merchant, "ACME Coffee");
    t->challenge_len = 8;
    memcpy(t->challenge, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
}

int main(int argc, char **argv)
{
    struct cl_ui ui;
    struct cl_ui_screen s;
    struct cl_ui_event ev;
    struct cl_txn txn;
    struct cl_policy_state st;
    struct cl_relay_txn_approve m;
    const char *want = argc > 1 ? argv[1] : "1234";
    static const char server[] = "Welcome to ACME\nCoffee & more";
    unsigned pages = 0, page = 0, seen = 0;
    uint8_t reason;
    size_t len;
    int rc;
    bool approved = false;

    if (cl_ui_term_open(&term, 0, 1, COLS, ROWS) != CL_OK) {
        fprintf(stderr, "ui_term_demo: cannot open the terminal\n");
        return 1;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    ui = cl_ui_term_ui(&term);

    /* 1: a server text may not carry the glyph, marked or not */
    cl_ui_screen_init(&s, CL_UI_SERVER_TEXT, 1);
    strcpy(s.text, "> \001Enter PIN\n");
    rc = ui.ops->show(ui.ctx, &s);
    note("glyph in server text: %s (%d)\n", rc == CL_ERR_DENIED ? "refused" : "SHOWN", rc);

    /* 2: the server's text, marked */
    cl_ui_screen_init(&s, CL_UI_SERVER_TEXT, 1);
    s.flags = CL_UI_F_CONFIRM;
    if (cl_policy_mark_text((const uint8_t *)server, strlen(server), COLS, s.text,
                            sizeof(s.text), &len) != CL_OK ||
        ui.ops->show(ui.ctx, &s) != CL_OK)
        goto out;
    note("screen SERVER_TEXT 1 shown\n");
    if (!next_event(&ui, &ev))
        goto out;

    /* 3: the transaction, Confirm only after every page */
    demo_txn(&txn);
    memset(&m, 0, sizeof(m));
    m.txn_id = txn.id;
    m.challenge.data = txn.challenge;
    m.challenge.len = txn.challenge_len;
    memcpy(m.sign_cmd, "\x00\x2A\x9E\x9A", 4);
    cl_policy_init(&st);
    cl_ui_screen_init(&s, CL_UI_TXN, 2);
    if (cl_txn_render(&txn, COLS, ROWS, 0, s.text, sizeof(s.text), &pages) != CL_OK ||
        cl_policy_approve_start(NULL, &st, &m, &txn, pages, &reason) != CL_OK)
        goto out;
    note("transaction: %u pages\n", pages);
    for (;;) {
        cl_ui_screen_init(&s, CL_UI_TXN, (uint16_t)(2 + page));
        s.page = (uint16_t)page;
        s.pages = (uint16_t)pages;
        if (cl_txn_render(&txn, COLS, ROWS, page, s.text, sizeof(s.text), NULL) != CL_OK)
            goto out;
        cl_policy_page_shown(&st, page);   /* the pager counts pages shown in order */
        if (page == seen)
            seen++;
        s.flags = CL_UI_F_CANCEL | (seen >= pages ? CL_UI_F_CONFIRM : 0);
        if (ui.ops->show(ui.ctx, &s) != CL_OK)
            goto out;
        if (!next_event(&ui, &ev))
            goto out;
        if (ev.type != CL_UI_EV_KEY || ev.screen != s.id)
            continue;
        if (ev.key == CL_UI_KEY_DOWN && page + 1 < pages)
            page++;
        else if (ev.key == CL_UI_KEY_UP && page > 0)
            page--;
        else if (ev.key == CL_UI_KEY_CANCEL)
            break;
        else if (ev.key == CL_UI_KEY_CONFIRM) {
            if (cl_policy_confirm(&st, &reason) == CL_OK) {
                approved = true;
                break;
            }
            note("confirm refused: %s (%u)\n", cl_policy_reason_name(reason), (unsigned)reason);
        }
    }
    note("transaction %s\n", approved ? "confirmed" : "cancelled");

    /* 4: the secure PIN entry */
    cl_ui_screen_init(&s, CL_UI_PIN, 10);
    strcpy(s.text, "\001Enter PIN\n");
    s.flags = CL_UI_F_CONFIRM | CL_UI_F_CANCEL;
    s.entry = CL_UI_ENTRY_PIN;
    s.entry_min = 4;
    s.entry_max = 12;
    s.entry_row = 1;
    if (ui.ops->show(ui.ctx, &s) != CL_OK)
        goto out;
    while (next_event(&ui, &ev)) {
        if (ev.type == CL_UI_EV_PIN) {
            size_t i;
            bool same = ev.len == strlen(want);
            for (i = 0; same && i < ev.len; i++)
                same = ev.data[i] <= 9 && (char)('0' + ev.data[i]) == want[i];
            note("PIN: %u digits, %s\n", (unsigned)ev.len, same ? "as expected" : "NOT as expected");
            cl_ui_event_wipe(&ev);
            break;
        }
        if (ev.type == CL_UI_EV_KEY && ev.key == CL_UI_KEY_CANCEL) {
            note("PIN entry cancelled\n");
            break;
        }
    }
    cl_ui_screen_init(&s, CL_UI_MESSAGE, 11);
    strcpy(s.text, "Thank you\n");
    (void)ui.ops->show(ui.ctx, &s);
    note("done\n");
out:
    ui.ops->close(ui.ctx);
    fwrite(report, 1, report_len, stdout);
    printf("ui_term_demo: end\n");
    return 0;
}
