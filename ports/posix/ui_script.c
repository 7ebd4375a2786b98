/*
 * cardlink — a scripted card holder (see ui_script.h).
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cardlink/error.h"
#include "cardlink/wipe.h"
#include "ui_script.h"

enum op {
    OP_EXPECT_SCREEN = 1,
    OP_WAIT_SCREEN,
    OP_EXPECT_LINE,
    OP_EXPECT_CONFIRM,
    OP_EXPECT_NONE,
    OP_KEY,
    OP_PIN,
    OP_ENTER,
    OP_WAIT_FILE,
    OP_END
};

struct cmd {
    enum op op;
    uint8_t kind;
    unsigned page, pages;     /* 1-based page; 0 = any */
    unsigned row;             /* expect-line, 1-based */
    uint8_t key;
    bool yes;
    const char *arg;          /* expect-line text, pin digits, enter text */
    size_t arglen;
};

static bool word_is(const char *w, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(w, lit, n) == 0;
}

/* Next word of p[*i..n): start and length; 0 length at the end. */
static const char *word(const char *p, size_t n, size_t *i, size_t *wl)
{
    const char *w;
    while (*i < n && (p[*i] == ' ' || p[*i] == '\t'))
        (*i)++;
    w = p + *i;
    *wl = 0;
    while (*i < n && p[*i] != ' ' && p[*i] != '\t') {
        (*i)++;
        (*wl)++;
    }
    return w;
}

static bool parse_uint(const char *w, size_t n, unsigned *v)
{
    size_t i;
    *v = 0;
    if (n == 0 || n > 5)
        return false;
    for (i = 0; i < n; i++) {
        if (w[i] < '0' || w[i] > '9')
            return false;
        *v = *v * 10u + (unsigned)(w[i] - '0');
    }
    return true;
}

/* "KIND [P/N]" */
static bool parse_screen(const char *p, size_t n, size_t *i, struct cmd *c)
{
    size_t wl, k;
    const char *w = word(p, n, i, &wl);
    for (k = 0; k < CL_UI_KIND_COUNT; k++)
        if (word_is(w, wl, cl_ui_kind_name((unsigned)k)))
            break;
    if (k == CL_UI_KIND_COUNT)
        return false;
    c->kind = (uint8_t)k;
    w = word(p, n, i, &wl);
    if (wl > 0) {
        const char *slash = memchr(w, '/', wl);
        if (slash == NULL || !parse_uint(w, (size_t)(slash - w), &c->page) ||
            !parse_uint(slash + 1, wl - (size_t)(slash - w) - 1, &c->pages) || c->page == 0 ||
            c->page > c->pages)
            return false;
    }
    (void)word(p, n, i, &wl);
    return wl == 0;
}

/* Parse one command line p[0..n) (no LF). Returns 1 for a command, 0 for
 * a blank or comment line, -1 for a line that is no command. */
static int parse(const char *p, size_t n, struct cmd *c)
{
    size_t i = 0, wl;
    const char *w;

    memset(c, 0, sizeof(*c));
    w = word(p, n, &i, &wl);
    if (wl == 0 || w[0] == '#')
        return 0;
    if (word_is(w, wl, "expect-screen") || word_is(w, wl, "wait-screen")) {
        c->op = w[0] == 'e' ? OP_EXPECT_SCREEN : OP_WAIT_SCREEN;
        return parse_screen(p, n, &i, c) ? 1 : -1;
    }
    if (word_is(w, wl, "expect-line")) {
        c->op = OP_EXPECT_LINE;
        w = word(p, n, &i, &wl);
        if (!parse_uint(w, wl, &c->row) || c->row == 0 || c->row > CL_UI_ROWS_MAX)
            return -1;
        if (i < n)
            i++;   /* the one separating space; the rest is the text */
        c->arg = p + i;
        c->arglen = n - i;
        return 1;
    }
    if (word_is(w, wl, "expect-confirm")) {
        c->op = OP_EXPECT_CONFIRM;
        w = word(p, n, &i, &wl);
        if (word_is(w, wl, "yes"))
            c->yes = true;
        else if (!word_is(w, wl, "no"))
            return -1;
    } else if (word_is(w, wl, "expect-none")) {
        c->op = OP_EXPECT_NONE;
    } else if (word_is(w, wl, "confirm")) {
        c->op = OP_KEY;
        c->key = CL_UI_KEY_CONFIRM;
    } else if (word_is(w, wl, "cancel")) {
        c->op = OP_KEY;
        c->key = CL_UI_KEY_CANCEL;
    } else if (word_is(w, wl, "clear")) {
        c->op = OP_KEY;
        c->key = CL_UI_KEY_CLEAR;
    } else if (word_is(w, wl, "page-down")) {
        c->op = OP_KEY;
        c->key = CL_UI_KEY_DOWN;
    } else if (word_is(w, wl, "page-up")) {
        c->op = OP_KEY;
        c->key = CL_UI_KEY_UP;
    } else if (word_is(w, wl, "key")) {
        c->op = OP_KEY;
        w = word(p, n, &i, &wl);
        if (wl != 1 || w[0] < '0' || w[0] > '9')
            return -1;
        c->key = (uint8_t)(w[0] - '0');
    } else if (word_is(w, wl, "pin")) {
        size_t k;
        c->op = OP_PIN;
        c->arg = word(p, n, &i, &c->arglen);
        if (c->arglen < 4 || c->arglen > CL_UI_PIN_MAX)
            return -1;
        for (k = 0; k < c->arglen; k++)
            if (c->arg[k] < '0' || c->arg[k] > '9')
                return -1;
    } else if (word_is(w, wl, "enter")) {
        c->op = OP_ENTER;
        if (i < n)
            i++;
        c->arg = p + i;
        c->arglen = n - i;
        return c->arglen >= 1 && c->arglen <= CL_UI_ENTRY_MAX ? 1 : -1;
    } else if (word_is(w, wl, "wait-file")) {
        c->op = OP_WAIT_FILE;
        c->arg = word(p, n, &i, &c->arglen);
        if (c->arglen == 0 || c->arglen >= 256)
            return -1;
    } else if (word_is(w, wl, "end")) {
        c->op = OP_END;
    } else {
        return -1;
    }
    (void)word(p, n, &i, &wl);
    return wl == 0 ? 1 : -1;
}

/* The command at s->pos (skipping blank lines): 1 with *c and *next (the
 * offset after its line), 0 at the end of the script. */
static int next_cmd(struct cl_ui_script *s, struct cmd *c, size_t *next)
{
    for (;;) {
        const char *p = s->text + s->pos, *lf;
        size_t n;
        int r;
        if (s->pos >= s->len)
            return 0;
        lf = memchr(p, '\n', s->len - s->pos);
        n = lf ? (size_t)(lf - p) : s->len - s->pos;
        *next = s->pos + n + (lf ? 1 : 0);
        if (n > 0 && p[n - 1] == '\r')
            n--;
        r = parse(p, n, c);
        if (r == 1)
            return 1;
        s->pos = *next;   /* blank or comment (errors were refused at setup) */
        s->line++;
    }
}

static void advance(struct cl_ui_script *s, size_t next)
{
    s->pos = next;
    s->line++;
}

static int fail(struct cl_ui_script *s, const char *what, const struct cl_ui_screen *sc)
{
    if (sc != NULL)
        (void)snprintf(s->msg, sizeof(s->msg), "line %u: %s (shown: %s %u/%u id %u)", s->line,
                       what, cl_ui_kind_name(sc->kind), sc->page + 1u, sc->pages,
                       (unsigned)sc->id);
    else
        (void)snprintf(s->msg, sizeof(s->msg), "line %u: %s", s->line, what);
    s->err = CL_ERR_PROTOCOL;
    return s->err;
}

static bool screen_is(const struct cmd *c, const struct cl_ui_screen *sc)
{
    if (sc->kind != c->kind)
        return false;
    return c->pages == 0 || (sc->page + 1u == c->page && sc->pages == c->pages);
}

/* expect-line: TEXT with \g for the glyph and \\ for a backslash. */
static bool line_is(const struct cmd *c, const struct cl_ui_screen *sc)
{
    size_t len, i = 0, k = 0;
    const char *l = cl_ui_screen_line(sc, c->row - 1u, &len);
    if (l == NULL)
        len = 0;
    while (i < c->arglen) {
        char want = c->arg[i++];
        if (want == '\\' && i < c->arglen) {
            char e = c->arg[i++];
            want = e == 'g' ? (char)CL_POLICY_SECURE_GLYPH : e;
        }
        if (k >= len || l[k] != want)
            return false;
        k++;
    }
    return k == len;
}

/* see ui_script.h */
int cl_ui_script_setup(struct cl_ui_script *s, const struct cl_ui_caps *caps, const char *script,
                       size_t len)
{
    size_t pos = 0;
    unsigned line = 1;

    if (s == NULL)
        return CL_ERR_ARG;
    memset(s, 0, sizeof(*s));
    if ((script == NULL && len > 0) ||
        (caps != NULL && (caps->cols < 1 || caps->cols > CL_UI_COLS_MAX || caps->rows < 1 ||
                          caps->rows > CL_UI_ROWS_MAX || caps->pin_max < 4 ||
                          caps->pin_max > CL_UI_PIN_MAX)))
        return CL_ERR_ARG;
    if (len > CL_UI_SCRIPT_TEXT_MAX)
        return CL_ERR_LIMIT;
    if (caps != NULL) {
        s->caps = *caps;
    } else {
        s->caps.cols = 20;
        s->caps.rows = 4;
        s->caps.pin_max = CL_UI_PIN_MAX;
        s->caps.flags = CL_UI_CAP_SECURE_LED | CL_UI_CAP_SECURE_GLYPH | CL_UI_CAP_KEYPAD |
                        CL_UI_CAP_CONFIRM | CL_UI_CAP_CLEAR | CL_UI_CAP_PAGE |
                        CL_UI_CAP_PINPAD | CL_UI_CAP_TEXT;
    }
    s->caps.flags &= ~(uint32_t)CL_UI_CAP_FD;
    if (len > 0)
        memcpy(s->text, script, len);
    s->len = len;
    while (pos < len) {
        const char *p = s->text + pos, *lf = memchr(p, '\n', len - pos);
        size_t n = lf ? (size_t)(lf - p) : len - pos;
        struct cmd c;
        pos += n + (lf ? 1 : 0);
        if (n > 0 && p[n - 1] == '\r')
            n--;
        if (memchr(p, '\0', n) != NULL || parse(p, n, &c) < 0) {
            (void)snprintf(s->msg, sizeof(s->msg), "line %u: not a command", line);
            s->err = CL_ERR_MALFORMED;
            return CL_ERR_MALFORMED;
        }
        line++;
    }
    s->line = 1;
    s->open = true;
    return CL_OK;
}

/* see ui_script.h */
int cl_ui_script_load(struct cl_ui_script *s, const struct cl_ui_caps *caps, const char *path)
{
    char *buf;
    FILE *f;
    size_t n;
    int rc;

    if (s == NULL || path == NULL)
        return CL_ERR_ARG;
    buf = malloc(CL_UI_SCRIPT_TEXT_MAX + 1);
    if (buf == NULL)
        return CL_ERR_IO;
    f = fopen(path, "rb");
    if (f == NULL) {
        free(buf);
        return CL_ERR_IO;
    }
    n = fread(buf, 1, CL_UI_SCRIPT_TEXT_MAX + 1, f);
    rc = ferror(f) ? CL_ERR_IO : CL_OK;
    fclose(f);
    if (rc == CL_OK)
        rc = n > CL_UI_SCRIPT_TEXT_MAX ? CL_ERR_LIMIT : cl_ui_script_setup(s, caps, buf, n);
    cl_wipe(buf, CL_UI_SCRIPT_TEXT_MAX + 1);
    free(buf);
    return rc;
}

/* see ui_script.h */
void cl_ui_script_free(struct cl_ui_script *s)
{
    if (s != NULL)
        cl_wipe(s, sizeof(*s));
}

/* see ui_script.h */
size_t cl_ui_script_shown(const struct cl_ui_script *s)
{
    return s->shown;
}

/* see ui_script.h */
const struct cl_ui_screen *cl_ui_script_screen(const struct cl_ui_script *s, size_t i)
{
    return i < s->shown && i < CL_UI_SCRIPT_LOG_MAX ? &s->log[i] : NULL;
}

/* see ui_script.h */
size_t cl_ui_script_refused(const struct cl_ui_script *s, int *last)
{
    if (last != NULL)
        *last = s->last_refusal;
    return s->refused;
}

/* see ui_script.h */
const char *cl_ui_script_error(const struct cl_ui_script *s)
{
    return s->msg[0] != '\0' ? s->msg : NULL;
}

/* see ui_script.h */
bool cl_ui_script_done(const struct cl_ui_script *s)
{
    struct cmd c;
    size_t next;
    struct cl_ui_script *m = (struct cl_ui_script *)s;   /* next_cmd skips blank lines only */
    if (s->err == CL_ERR_CLOSED)
        return true;
    if (s->err != CL_OK)
        return false;
    return next_cmd(m, &c, &next) == 0;
}

static void script_caps(void *ctx, struct cl_ui_caps *out)
{
    *out = ((struct cl_ui_script *)ctx)->caps;
}

static int script_show(void *ctx, const struct cl_ui_screen *sc)
{
    struct cl_ui_script *s = ctx;
    int rc;

    if (!s->open)
        return CL_ERR_CLOSED;
    rc = cl_ui_screen_check(&s->caps, sc);
    if (rc != CL_OK) {
        s->refused++;
        s->last_refusal = rc;
        return rc;
    }
    if (s->shown < CL_UI_SCRIPT_LOG_MAX)
        s->log[s->shown] = *sc;
    s->cur = *sc;
    s->shown++;
    return CL_OK;
}

static int script_poll(void *ctx, uint32_t now, struct cl_ui_event *ev)
{
    struct cl_ui_script *s = ctx;
    struct cmd c;
    size_t next, k;

    memset(ev, 0, sizeof(*ev));
    if (!s->open)
        return CL_ERR_CLOSED;
    for (;;) {
        const struct cl_ui_screen *sc;
        if (s->err != CL_OK)
            return s->err;
        if (next_cmd(s, &c, &next) == 0) {
            s->err = CL_ERR_CLOSED;
            continue;
        }
        switch (c.op) {
        case OP_EXPECT_SCREEN:
        case OP_WAIT_SCREEN:
            for (;;) {
                if (s->looked >= s->shown)
                    return CL_ERR_AGAIN;
                if (s->looked >= CL_UI_SCRIPT_LOG_MAX)
                    return fail(s, "more screens than the log holds", NULL);
                sc = &s->log[s->looked++];
                if (screen_is(&c, sc))
                    break;
                if (c.op == OP_EXPECT_SCREEN)
                    return fail(s, "expect-screen: another screen", sc);
            }
            advance(s, next);
            continue;
        case OP_EXPECT_LINE:
        case OP_EXPECT_CONFIRM:
            if (s->looked == 0)
                return fail(s, "no screen looked at yet", NULL);
            sc = s->looked - 1 < CL_UI_SCRIPT_LOG_MAX ? &s->log[s->looked - 1] : NULL;
            if (sc == NULL)
                return fail(s, "more screens than the log holds", NULL);
            if (c.op == OP_EXPECT_LINE && !line_is(&c, sc))
                return fail(s, "expect-line: another text", sc);
            if (c.op == OP_EXPECT_CONFIRM && c.yes != ((sc->flags & CL_UI_F_CONFIRM) != 0))
                return fail(s, "expect-confirm: not so", sc);
            advance(s, next);
            continue;
        case OP_EXPECT_NONE:
            if (s->shown > s->looked)
                return fail(s, "expect-none: a screen was shown", &s->cur);
            advance(s, next);
            continue;
        case OP_END:
            advance(s, next);
            s->err = CL_ERR_CLOSED;
            continue;
        case OP_WAIT_FILE: {
            char path[256];
            memcpy(path, c.arg, c.arglen);
            path[c.arglen] = '\0';
            if (access(path, F_OK) != 0)
                return CL_ERR_AGAIN;     /* the holder pauses until it exists */
            advance(s, next);
            continue;
        }
        default:
            break;
        }
        /* the holder acts on the current screen */
        if (s->shown == 0)
            return CL_ERR_AGAIN;
        sc = &s->cur;
        ev->screen = sc->id;
        ev->at = now;
        if (c.op == OP_KEY) {
            ev->type = CL_UI_EV_KEY;
            ev->key = c.key;
        } else if (c.op == OP_PIN) {
            if (sc->kind != CL_UI_PIN || sc->entry != CL_UI_ENTRY_PIN ||
                (unsigned char)sc->text[0] != CL_POLICY_SECURE_GLYPH) {
                memset(ev, 0, sizeof(*ev));
                return fail(s, "pin: refused, not the secure PIN screen", sc);
            }
            if (c.arglen < sc->entry_min || c.arglen > sc->entry_max) {
                memset(ev, 0, sizeof(*ev));
                return fail(s, "pin: the screen takes another length", sc);
            }
            ev->type = CL_UI_EV_PIN;
            ev->len = (uint8_t)c.arglen;
            for (k = 0; k < c.arglen; k++)
                ev->data[k] = (uint8_t)(c.arg[k] - '0');
        } else {   /* OP_ENTER */
            if (sc->entry != CL_UI_ENTRY_DIGITS && sc->entry != CL_UI_ENTRY_TEXT) {
                memset(ev, 0, sizeof(*ev));
                return fail(s, "enter: the screen takes no entry", sc);
            }
            if (c.arglen < sc->entry_min || c.arglen > sc->entry_max) {
                memset(ev, 0, sizeof(*ev));
                return fail(s, "enter: the screen takes another length", sc);
            }
            for (k = 0; k < c.arglen; k++) {
                unsigned char ch = (unsigned char)c.arg[k];
                if (sc->entry == CL_UI_ENTRY_DIGITS ? (ch < '0' || ch > '9')
                                                    : (ch < 0x20 || ch > 0x7E)) {
                    memset(ev, 0, sizeof(*ev));
                    return fail(s, "enter: a character the entry refuses", sc);
                }
            }
            ev->type = CL_UI_EV_ENTRY;
            ev->len = (uint8_t)c.arglen;
            memcpy(ev->data, c.arg, c.arglen);
        }
        advance(s, next);
        return CL_OK;
    }
}

static void script_close(void *ctx)
{
    struct cl_ui_script *s = ctx;
    s->open = false;
    s->err = CL_ERR_CLOSED;
}

const struct cl_ui_ops cl_ui_script_ops = {
    .caps = script_caps,
    .show = script_show,
    .poll = script_poll,
    .timer = NULL,
    .fd = NULL,
    .close = script_close,
};

/* see ui_script.h */
struct cl_ui cl_ui_script_ui(struct cl_ui_script *s)
{
    struct cl_ui ui = {&cl_ui_script_ops, s};
    return ui;
}
