/*
 * cardlink — POSIX terminal UI: a framed ASCII display and a raw-mode
 * keypad (see ui_term.h).
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cardlink/engine.h"
#include "cardlink/error.h"
#include "cardlink/wipe.h"
#include "ui_term.h"

/* Escape-sequence states. */
enum { ESC_NONE = 0, ESC_SEEN = 1, ESC_BRACKET = 2, ESC_NUM = 3 };

#define OUT_MAX (64 + (CL_UI_ROWS_MAX + 6) * (CL_UI_COLS_MAX + 64))

struct outbuf {
    char b[OUT_MAX];
    size_t n;
};

static void put(struct outbuf *o, const char *s, size_t n)
{
    if (n > sizeof(o->b) - o->n)
        n = sizeof(o->b) - o->n;
    memcpy(o->b + o->n, s, n);
    o->n += n;
}

static void puts_(struct outbuf *o, const char *s)
{
    put(o, s, strlen(s));
}

static void putn(struct outbuf *o, char c, unsigned n)
{
    while (n-- > 0)
        put(o, &c, 1);
}

static void putu(struct outbuf *o, unsigned v)
{
    char d[12];
    size_t i = sizeof(d);
    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    put(o, d + i, sizeof(d) - i);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct pollfd pf = {.fd = fd, .events = POLLOUT};
                (void)poll(&pf, 1, 100);
                continue;
            }
            return CL_ERR_IO;
        }
        p += w;
        n -= (size_t)w;
    }
    return CL_OK;
}

/* Draw the whole display: frame, rows, the entry's echo, LED and hints. */
static int draw(struct cl_ui_term *t)
{
    struct outbuf o;
    const struct cl_ui_screen *s = &t->cur;
    unsigned cols = t->caps.cols, rows = t->caps.rows, r;
    bool pin = t->have_screen && s->kind == CL_UI_PIN;

    o.n = 0;
    puts_(&o, "\033[H\033[2J");
    put(&o, "+", 1);
    putn(&o, '-', cols);
    puts_(&o, "+\r\n");
    for (r = 0; r < rows; r++) {
        size_t len = 0, i;
        const char *l = t->have_screen ? cl_ui_screen_line(s, r, &len) : NULL;
        put(&o, "|", 1);
        if (l != NULL) {
            for (i = 0; i < len; i++) {
                if ((unsigned char)l[i] == CL_POLICY_SECURE_GLYPH)
                    puts_(&o, "\033[7m#\033[27m");   /* the padlock's cell */
                else
                    put(&o, &l[i], 1);
            }
        } else if (t->have_screen && s->entry != CL_UI_ENTRY_NONE && r == s->entry_row) {
            len = t->entry_len;
            for (i = 0; i < len; i++) {
                char c = s->entry == CL_UI_ENTRY_PIN ? '*' : (char)t->entry[i];
                put(&o, &c, 1);
            }
            if (len < cols) {
                put(&o, "_", 1);   /* the cursor */
                len++;
            }
        }
        putn(&o, ' ', cols - (unsigned)len);
        puts_(&o, "|\r\n");
    }
    put(&o, "+", 1);
    putn(&o, '-', cols);
    puts_(&o, "+\r\n");
    puts_(&o, pin ? " (*) SECURE PIN ENTRY\r\n" : " ( ) secure pin entry\r\n");
    if (t->have_screen) {
        put(&o, " ", 1);
        if (s->flags & CL_UI_F_CONFIRM)
            puts_(&o, "[Enter] OK  ");
        if (s->flags & CL_UI_F_CANCEL)
            puts_(&o, "[Esc] Cancel  ");
        if (s->entry != CL_UI_ENTRY_NONE)
            puts_(&o, "[Bksp] Clear  ");
        if (s->kind == CL_UI_TXN && s->pages > 1) {
            puts_(&o, "page ");
            putu(&o, s->page + 1u);
            put(&o, "/", 1);
            putu(&o, s->pages);
            puts_(&o, " [+/-]");
        }
        puts_(&o, "\r\n");
    }
    return write_all(t->out_fd, o.b, o.n);
}

/* see ui_term.h */
int cl_ui_term_open(struct cl_ui_term *t, int in_fd, int out_fd, unsigned cols, unsigned rows)
{
    if (t == NULL)
        return CL_ERR_ARG;
    memset(t, 0, sizeof(*t));
    if (in_fd < 0 || out_fd < 0 || cols < 1 || cols > CL_UI_COLS_MAX || rows < 1 ||
        rows > CL_UI_ROWS_MAX)
        return CL_ERR_ARG;
    t->in_fd = in_fd;
    t->out_fd = out_fd;
    t->caps.cols = (uint8_t)cols;
    t->caps.rows = (uint8_t)rows;
    t->caps.pin_max = CL_UI_PIN_MAX;
    t->caps.flags = CL_UI_CAP_SECURE_LED | CL_UI_CAP_SECURE_GLYPH | CL_UI_CAP_KEYPAD |
                    CL_UI_CAP_CONFIRM | CL_UI_CAP_CLEAR | CL_UI_CAP_PAGE | CL_UI_CAP_PINPAD |
                    CL_UI_CAP_TEXT | CL_UI_CAP_FD;
    if (isatty(in_fd)) {
        struct termios raw;
        if (tcgetattr(in_fd, &t->saved) != 0)
            return CL_ERR_IO;
        raw = t->saved;
        raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ECHONL | IEXTEN);
        raw.c_iflag &= ~(tcflag_t)(IXON | ICRNL | INLCR | IGNCR | ISTRIP);
        raw.c_cc[VMIN] = 1;
        raw.c_cc[VTIME] = 0;
        if (tcsetattr(in_fd, TCSAFLUSH, &raw) != 0)
            return CL_ERR_IO;
        t->raw = true;
    }
    t->open = true;
    (void)write_all(t->out_fd, "\033[?25l", 6);   /* no blinking cursor */
    if (draw(t) != CL_OK) {
        cl_ui_term_close(t);
        return CL_ERR_IO;
    }
    return CL_OK;
}

/* see ui_term.h */
void cl_ui_term_restore(const struct cl_ui_term *t)
{
    if (t != NULL && t->raw)
        (void)tcsetattr(t->in_fd, TCSAFLUSH, &t->saved);
}

/* see ui_term.h */
void cl_ui_term_close(struct cl_ui_term *t)
{
    if (t == NULL || !t->open)
        return;
    t->have_screen = false;
    t->entry_len = 0;
    (void)draw(t);   /* blank display, LED off */
    (void)write_all(t->out_fd, "\033[?25h", 6);
    cl_ui_term_restore(t);
    cl_wipe(t, sizeof(*t));
}

static void term_caps(void *ctx, struct cl_ui_caps *out)
{
    *out = ((struct cl_ui_term *)ctx)->caps;
}

static void entry_wipe(struct cl_ui_term *t)
{
    cl_wipe(t->entry, sizeof(t->entry));
    t->entry_len = 0;
}

static int term_show(void *ctx, const struct cl_ui_screen *s)
{
    struct cl_ui_term *t = ctx;
    int rc;

    if (!t->open)
        return CL_ERR_CLOSED;
    rc = cl_ui_screen_check(&t->caps, s);
    if (rc != CL_OK)
        return rc;
    entry_wipe(t);
    t->cur = *s;
    t->have_screen = true;
    return draw(t);
}

static void key_event(const struct cl_ui_term *t, uint8_t key, uint32_t at,
                      struct cl_ui_event *ev)
{
    ev->type = CL_UI_EV_KEY;
    ev->key = key;
    ev->screen = t->cur.id;
    ev->at = at;
}

/* Key `key` (0..9, CL_UI_KEY_*, or 0xFF with `ch` a printable character
 * for a TEXT entry). Returns true when *ev holds an event. */
static bool on_key(struct cl_ui_term *t, unsigned key, unsigned char ch, uint32_t now,
                   struct cl_ui_event *ev)
{
    const struct cl_ui_screen *s = &t->cur;
    bool entry = t->have_screen && s->entry != CL_UI_ENTRY_NONE;

    if (!entry) {
        if (key == 0xFF)
            return false;   /* letters are no keys */
        key_event(t, (uint8_t)key, now, ev);
        return true;
    }
    if (key <= 9 || (key == 0xFF && s->entry == CL_UI_ENTRY_TEXT)) {
        if (t->entry_len < s->entry_max) {
            if (s->entry == CL_UI_ENTRY_PIN)
                t->entry[t->entry_len++] = (uint8_t)key;
            else
                t->entry[t->entry_len++] = key <= 9 ? (uint8_t)('0' + key) : ch;
            (void)draw(t);
        }
        return false;
    }
    switch (key) {
    case CL_UI_KEY_CLEAR:
        if (t->entry_len > 0) {
            t->entry[--t->entry_len] = 0;
            (void)draw(t);
        }
        return false;
    case CL_UI_KEY_CONFIRM:
        if (t->entry_len < s->entry_min)
            return false;   /* too short: keep typing */
        ev->type = s->entry == CL_UI_ENTRY_PIN ? CL_UI_EV_PIN : CL_UI_EV_ENTRY;
        ev->screen = s->id;
        ev->at = now;
        ev->len = t->entry_len;
        memcpy(ev->data, t->entry, t->entry_len);
        entry_wipe(t);
        t->cur.entry = CL_UI_ENTRY_NONE;   /* done: the screen's keys are keys again */
        (void)draw(t);
        return true;
    case CL_UI_KEY_CANCEL:
        entry_wipe(t);
        (void)draw(t);
        key_event(t, (uint8_t)key, now, ev);
        return true;
    default:
        if (key == 0xFF)
            return false;
        key_event(t, (uint8_t)key, now, ev);
        return true;
    }
}

/* Map one input byte; returns a key, 0xFF for a TEXT character, 0xFE for
 * nothing (part of a sequence, ignored), 0xFD for end of input. */
static unsigned decode(struct cl_ui_term *t, unsigned char c, uint32_t now)
{
    switch (t->esc) {
    case ESC_SEEN:
        if (c == '[' || c == 'O') {
            t->esc = ESC_BRACKET;
            return 0xFE;
        }
        t->esc = ESC_NONE;   /* Alt-<key>: read as Esc, the key dropped */
        return CL_UI_KEY_CANCEL;
    case ESC_BRACKET:
        t->esc = ESC_NONE;
        if (c == 'A')
            return CL_UI_KEY_UP;
        if (c == 'B')
            return CL_UI_KEY_DOWN;
        if (c >= '0' && c <= '9') {
            t->esc = ESC_NUM;
            t->esc_arg = (uint8_t)(c - '0');
        }
        return 0xFE;
    case ESC_NUM:
        if (c >= '0' && c <= '9') {
            t->esc_arg = (uint8_t)(t->esc_arg * 10u + (unsigned)(c - '0'));
            return 0xFE;
        }
        t->esc = ESC_NONE;
        if (c != '~')
            return 0xFE;
        return t->esc_arg == 5 ? CL_UI_KEY_UP : t->esc_arg == 6 ? CL_UI_KEY_DOWN :
               t->esc_arg == 3 ? CL_UI_KEY_CLEAR : 0xFE;
    default:
        break;
    }
    if (c >= '0' && c <= '9')
        return (unsigned)(c - '0');
    switch (c) {
    case 0x1B:
        t->esc = ESC_SEEN;
        t->esc_at = now;
        return 0xFE;
    case '\r':
    case '\n':
        return CL_UI_KEY_CONFIRM;
    case 0x7F:
    case 0x08:
        return CL_UI_KEY_CLEAR;
    case 0x04:
        return 0xFD;
    default:
        break;
    }
    if (t->have_screen && t->cur.entry == CL_UI_ENTRY_TEXT && c >= 0x20 && c <= 0x7E)
        return 0xFF;
    if (c == '+')
        return CL_UI_KEY_DOWN;
    if (c == '-')
        return CL_UI_KEY_UP;
    return 0xFE;
}

static int term_poll(void *ctx, uint32_t now, struct cl_ui_event *ev)
{
    struct cl_ui_term *t = ctx;

    memset(ev, 0, sizeof(*ev));
    if (!t->open)
        return CL_ERR_CLOSED;
    for (;;) {
        struct pollfd pf = {.fd = t->in_fd, .events = POLLIN};
        unsigned char c;
        unsigned key;
        ssize_t r;
        bool got;

        r = poll(&pf, 1, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return CL_ERR_IO;
        if (r == 0 || !(pf.revents & (POLLIN | POLLHUP))) {
            if (t->esc == ESC_SEEN && (uint32_t)(now - t->esc_at) >= CL_UI_TERM_ESC_MS) {
                t->esc = ESC_NONE;   /* a lone Esc */
                if (on_key(t, CL_UI_KEY_CANCEL, 0, t->esc_at, ev))
                    return CL_OK;
                continue;
            }
            return CL_ERR_AGAIN;
        }
        r = read(t->in_fd, &c, 1);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r < 0)
            return CL_ERR_IO;
        if (r == 0)
            return CL_ERR_CLOSED;
        key = decode(t, c, now);
        got = key <= 0xFF && key != 0xFE && key != 0xFD && on_key(t, key, c, now, ev);
        cl_wipe(&c, sizeof(c));   /* it may have been a PIN digit */
        if (key == 0xFD)
            return CL_ERR_CLOSED;
        if (got)
            return CL_OK;
    }
}

static uint32_t term_timer(void *ctx, uint32_t now)
{
    const struct cl_ui_term *t = ctx;
    uint32_t gone;

    if (!t->open || t->esc != ESC_SEEN)
        return CL_TIMER_NONE;
    gone = now - t->esc_at;
    return gone >= CL_UI_TERM_ESC_MS ? 0 : CL_UI_TERM_ESC_MS - gone;
}

static int term_fd(void *ctx)
{
    const struct cl_ui_term *t = ctx;
    return t->open ? t->in_fd : CL_ERR_CLOSED;
}

static void term_close(void *ctx)
{
    cl_ui_term_close(ctx);
}

const struct cl_ui_ops cl_ui_term_ops = {
    .caps = term_caps,
    .show = term_show,
    .poll = term_poll,
    .timer = term_timer,
    .fd = term_fd,
    .close = term_close,
};

/* see ui_term.h */
struct cl_ui cl_ui_term_ui(struct cl_ui_term *t)
{
    struct cl_ui ui = {&cl_ui_term_ops, t};
    return ui;
}
