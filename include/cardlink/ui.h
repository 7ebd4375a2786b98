/*
 * cardlink — the UI port: display, keypad, PIN entry, confirmation.
 * SPDX-License-Identifier: Apache-2.0
 *
 * What the device controller (lib/device) reaches the person in front of
 * the device through. Like every port it is a pair: a const struct
 * cl_ui_ops (the callbacks; read-only, one per kind of UI) and the void
 * *ctx each callback receives (one per display). The controller is
 * sans-I/O: it hands out screens (cl_dev_ui_take) and is fed what the
 * holder did (cl_dev_ui_key, cl_dev_ui_pin). The program's loop moves
 * both through a struct cl_ui:
 *
 *     device screen  --show()-->  port draws it (and starts its entry)
 *     port event     --poll()-->  device's engine (a key, a PIN, an entry)
 *
 * Non-blocking rules, for every callback:
 *  - no callback waits for the holder. poll() returns CL_ERR_AGAIN when
 *    nothing happened; a port with CL_UI_CAP_FD gives a descriptor to wait
 *    on, and timer() says when to call poll() again without input (an
 *    escape sequence that may be a lone Esc, a scripted holder's pause);
 *  - a screen is drawn whole by show(); nothing the port does changes it
 *    except the echo of an entry on the screen's entry row.
 *
 * Screens are laid out by the device: text of at most rows lines of at
 * most cols characters each (cl_txn_render, cl_policy_mark_text and the
 * device's own messages), LF after each line. Kinds:
 *   IDLE         the device's idle screen;
 *   SERVER_TEXT  a DISPLAY text, every line marked CL_POLICY_SERVER_MARK;
 *   PROMPT       a PROMPT text, marked likewise, with a YES/NO answer
 *                (Confirm / Cancel) or a DIGITS or TEXT entry;
 *   TXN          page `page` of `pages` of a transaction (cl_txn_render),
 *                CL_UI_F_CONFIRM set only once lib/policy's pager says every
 *                page was shown (cl_policy_page_shown, cl_policy_confirm);
 *   PIN          the device's own secure PIN entry: CL_POLICY_SECURE_GLYPH
 *                as the first character of line 1, the LED on while it is
 *                up (CL_UI_CAP_SECURE_LED), digits echoed as '*' on the
 *                entry row, handed back only as a CL_UI_EV_PIN event
 *                carrying digit values 0..9, never text;
 *   MESSAGE      the device's own text (result, error, "Remove card").
 *
 * The secure-PIN indicator rule (docs/security.md, docs/protocol.md §10.4):
 * only a PIN screen may show the glyph or light the LED, a PIN screen must
 * show it, server text is always marked and the device's own screens never
 * start a line with the mark. cl_ui_screen_check() states it; every port
 * calls it in show() and refuses (CL_ERR_DENIED) a screen that breaks it,
 * so that a bug in the controller cannot put the glyph under server text.
 * (lib/policy refuses the glyph in server text before: cl_policy_check_text.)
 *
 * PIN digits live in the port's entry buffer while typed and in the
 * event's data after Confirm; the port wipes its copy when poll() hands
 * the event out and whenever a screen replaces the entry; the device
 * wipes the event (cl_ui_event_wipe) once it has built its VERIFY.
 *
 * Ports in this tree: ports/posix/ui_term.h (a framed terminal display and
 * keypad), ports/posix/ui_script.h (a scripted holder for tests and the
 * demo). docs/porting.md, "User interface", says how to write one.
 */
#ifndef CARDLINK_UI_H
#define CARDLINK_UI_H

#include <string.h>

#include "cardlink/defs.h"
#include "cardlink/error.h"
#include "cardlink/policy.h"
#include "cardlink/wipe.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest display a screen is sized for (characters); override with -D to
 * shrink struct cl_ui_screen on small targets. */
#ifndef CL_UI_COLS_MAX
#define CL_UI_COLS_MAX 40
#endif
#ifndef CL_UI_ROWS_MAX
#define CL_UI_ROWS_MAX 16
#endif
/* Screen text: every row and its LF, and a NUL. */
#define CL_UI_TEXT_MAX (CL_UI_ROWS_MAX * (CL_UI_COLS_MAX + 1) + 1)
/* Longest entry (PIN digits, a prompt's answer) an event carries: the
 * relay's PROMPT-ANSWER bound (64); a PIN is 4..12 digits. */
#define CL_UI_ENTRY_MAX 64
#define CL_UI_PIN_MAX 12

/* struct cl_ui_caps.flags: what the UI has, declared by its port. */
#define CL_UI_CAP_SECURE_LED CL_POLICY_SECURE_LED /* 0x01: a "secure PIN entry" LED */
#define CL_UI_CAP_SECURE_GLYPH 0x02u /* the font draws CL_POLICY_SECURE_GLYPH */
#define CL_UI_CAP_KEYPAD 0x04u       /* digit keys 0..9 */
#define CL_UI_CAP_CONFIRM 0x08u      /* Confirm and Cancel keys */
#define CL_UI_CAP_CLEAR 0x10u        /* a Clear (correction) key */
#define CL_UI_CAP_PAGE 0x20u         /* Up / Down keys to page */
#define CL_UI_CAP_PINPAD 0x40u       /* PIN entry collected by the port (a PIN pad) */
#define CL_UI_CAP_TEXT 0x80u         /* letters: TEXT prompts can be answered */
#define CL_UI_CAP_FD 0x100u          /* fd() gives a descriptor to poll() on */

/* What a UI is. A PIN-entry device needs at least SECURE_GLYPH, KEYPAD,
 * CONFIRM and PINPAD; lib/device refuses to run PIN entry without them. */
struct cl_ui_caps {
    uint8_t cols, rows;     /* display size, 1..CL_UI_COLS_MAX, 1..CL_UI_ROWS_MAX */
    uint8_t pin_max;        /* longest PIN the pad collects, 4..CL_UI_PIN_MAX */
    uint32_t flags;         /* CL_UI_CAP_* */
};

/* Screen kinds. */
enum cl_ui_kind {
    CL_UI_IDLE = 0,
    CL_UI_SERVER_TEXT = 1,
    CL_UI_PROMPT = 2,
    CL_UI_TXN = 3,
    CL_UI_PIN = 4,
    CL_UI_MESSAGE = 5
};
#define CL_UI_KIND_COUNT 6

/* What the holder types on a screen (struct cl_ui_screen.entry). */
enum cl_ui_entry {
    CL_UI_ENTRY_NONE = 0,   /* keys only: each key is a CL_UI_EV_KEY event */
    CL_UI_ENTRY_DIGITS = 1, /* digits echoed as typed; CL_UI_EV_ENTRY (ASCII) */
    CL_UI_ENTRY_TEXT = 2,   /* printable ASCII echoed; CL_UI_EV_ENTRY (ASCII) */
    CL_UI_ENTRY_PIN = 3     /* PIN screens only: '*' echoed; CL_UI_EV_PIN (values 0..9) */
};

/* struct cl_ui_screen.flags: the keys this screen answers, which the port
 * shows as hints. A key pressed anyway is still reported (the device
 * decides); a port never synthesises one. */
#define CL_UI_F_CONFIRM 0x01u   /* Confirm accepted (a TXN: every page seen) */
#define CL_UI_F_CANCEL 0x02u    /* Cancel accepted */

/*
 * One screen, laid out by the device. Plain data: the port copies what it
 * needs during show(); the caller may reuse the struct afterwards.
 */
struct cl_ui_screen {
    uint8_t kind;        /* enum cl_ui_kind */
    uint8_t flags;       /* CL_UI_F_* */
    uint16_t id;         /* the device's serial for this screen, echoed in events */
    uint16_t page, pages;/* TXN: page (0-based) of pages (>= 1); others 0, 0 */
    uint8_t entry;       /* enum cl_ui_entry */
    uint8_t entry_min;   /* entry length bounds, 1 <= min <= max; PIN 4..12 */
    uint8_t entry_max;   /* (<= CL_UI_ENTRY_MAX; a PIN <= caps.pin_max) */
    uint8_t entry_row;   /* 0-based row the echo is drawn on, below the text */
    char text[CL_UI_TEXT_MAX]; /* the rows, each followed by LF; then NUL */
};

/* Event types. */
enum cl_ui_ev_type {
    CL_UI_EV_KEY = 1,    /* key: a key press */
    CL_UI_EV_PIN = 2,    /* data[0..len): PIN digit values 0..9 (never ASCII) */
    CL_UI_EV_ENTRY = 3   /* data[0..len): a DIGITS or TEXT entry, ASCII */
};

/* Keys (CL_UI_EV_KEY). Digits 0..9 are their values. */
#define CL_UI_KEY_CONFIRM 0x10u
#define CL_UI_KEY_CANCEL 0x11u
#define CL_UI_KEY_CLEAR 0x12u
#define CL_UI_KEY_UP 0x13u     /* previous page */
#define CL_UI_KEY_DOWN 0x14u   /* next page */

/* What the holder did. A CL_UI_EV_PIN event holds PIN digits: the device
 * wipes it with cl_ui_event_wipe() as soon as it has used them. */
struct cl_ui_event {
    uint8_t type;        /* enum cl_ui_ev_type */
    uint8_t key;         /* CL_UI_EV_KEY: 0..9 or CL_UI_KEY_* */
    uint16_t screen;     /* id of the screen shown when it happened */
    uint32_t at;         /* when, in the device's ms time base (wrapping) */
    uint8_t len;         /* PIN / ENTRY: bytes in data */
    uint8_t data[CL_UI_ENTRY_MAX];
};

/*
 * Describe the UI into *out (size, flags). Cannot fail; the answer does
 * not change while the port is open.
 */
typedef void (*cl_ui_caps_fn)(void *ctx, struct cl_ui_caps *out);

/*
 * Replace the display with screen s (copied or drawn now; s may be reused
 * after the call), end any entry in progress (its digits wiped, nothing
 * reported) and start s's entry, if any. The secure LED is lit for a PIN
 * screen and off for every other. Never blocks.
 * Returns CL_OK; CL_ERR_DENIED (s breaks the indicator rules of
 * cl_ui_screen_check: the display keeps what it showed, LED included);
 * CL_ERR_ARG (s NULL, or a layout this display cannot show:
 * cl_ui_screen_check's CL_ERR_ARG); CL_ERR_UNSUPPORTED (an entry the port
 * cannot collect: TEXT without CL_UI_CAP_TEXT); CL_ERR_IO (the display
 * failed); CL_ERR_CLOSED (closed).
 */
typedef int (*cl_ui_show_fn)(void *ctx, const struct cl_ui_screen *s);

/*
 * Take the next thing the holder did into *ev (the whole struct written),
 * stamped in the device's ms time base: `now` is the caller's clock at
 * this call, which a port that cannot tell when a key went down uses.
 * Keys while an entry runs edit it (digits, Clear: delete the last
 * character; Confirm with min..max characters ends it with one PIN or
 * ENTRY event; Confirm with fewer is ignored); Cancel is reported as a key
 * either way (the entry's digits wiped). The port wipes its own copy of
 * the digits before returning the event. Never blocks.
 * Returns CL_OK (*ev filled); CL_ERR_AGAIN (nothing now: *ev zeroed);
 * CL_ERR_CLOSED (the input ended: end of file, the script's end);
 * CL_ERR_IO; a port's own sticky error (ui_script: CL_ERR_PROTOCOL when
 * the device showed what the script did not expect).
 */
typedef int (*cl_ui_poll_fn)(void *ctx, uint32_t now, struct cl_ui_event *ev);

/*
 * Milliseconds after `now` at which poll() should be called even when no
 * input arrives; CL_TIMER_NONE (cardlink/engine.h) when only input can
 * make progress. Cannot fail. May be NULL: no timers.
 */
typedef uint32_t (*cl_ui_timer_fn)(void *ctx, uint32_t now);

/*
 * With CL_UI_CAP_FD: the descriptor whose readability means poll() has
 * something to read; CL_ERR_CLOSED when there is none. May be NULL
 * without the capability.
 */
typedef int (*cl_ui_fd_fn)(void *ctx);

/*
 * Blank the display, turn the LED off, wipe any entry and release what
 * ctx holds (a terminal gets its saved mode back). Cannot fail; closing
 * twice does nothing; later show/poll return CL_ERR_CLOSED.
 */
typedef void (*cl_ui_close_fn)(void *ctx);

/* One kind of UI: its callbacks (all given unless marked "may be NULL"). */
struct cl_ui_ops {
    cl_ui_caps_fn caps;
    cl_ui_show_fn show;
    cl_ui_poll_fn poll;
    cl_ui_timer_fn timer;   /* may be NULL */
    cl_ui_fd_fn fd;         /* may be NULL without CL_UI_CAP_FD */
    cl_ui_close_fn close;
};

/* A UI: its kind and its context. A plain value. */
struct cl_ui {
    const struct cl_ui_ops *ops;
    void *ctx;
};

/* ------------------------------------------------------------ helpers
 * Pure functions every port and the device share; static inline so that
 * a port needs nothing but this header and cl_wipe. */

/* A zeroed screen of kind `kind` with id `id` (s not NULL). */
static inline void cl_ui_screen_init(struct cl_ui_screen *s, uint8_t kind, uint16_t id)
{
    memset(s, 0, sizeof(*s));
    s->kind = kind;
    s->id = id;
}

/*
 * Line `row` (0-based) of s->text: a pointer to its first character and
 * its length in *len (without the LF); NULL (and *len 0) past the last
 * line. The last line's LF may be missing. s and len not NULL.
 */
static inline const char *cl_ui_screen_line(const struct cl_ui_screen *s, unsigned row,
                                            size_t *len)
{
    const char *p = s->text, *end = s->text + sizeof(s->text);
    *len = 0;
    while (row > 0) {
        while (p < end && *p != '\0' && *p != '\n')
            p++;
        if (p >= end || *p == '\0')
            return NULL;
        p++;
        row--;
    }
    if (p >= end || *p == '\0')
        return NULL;
    while (p + *len < end && p[*len] != '\0' && p[*len] != '\n')
        (*len)++;
    return p;
}

/* Number of lines in s->text (s not NULL). */
static inline unsigned cl_ui_screen_rows(const struct cl_ui_screen *s)
{
    size_t len;
    unsigned n = 0;
    while (n <= CL_UI_ROWS_MAX && cl_ui_screen_line(s, n, &len) != NULL)
        n++;
    return n;
}

/*
 * Whether screen s may be shown on a display described by caps (NULL: the
 * largest, every capability).
 *  CL_ERR_ARG (layout): s NULL; kind unknown; text without a NUL inside
 *   its array; more lines than caps->rows or a line longer than caps->cols;
 *   a TXN without 1 <= pages, page < pages; an entry kind unknown, its
 *   bounds not 1 <= min <= max <= CL_UI_ENTRY_MAX (a PIN: 4 <= min <= max
 *   <= caps->pin_max), or its row not below the text within caps->rows;
 *   flags other than CL_UI_F_*.
 *  CL_ERR_DENIED (the indicator rules): CL_POLICY_SECURE_GLYPH anywhere
 *   but as the first character of a PIN screen; a PIN screen without it
 *   there or without a PIN entry; a PIN entry on another kind; any other
 *   byte outside 20..7E and LF; a SERVER_TEXT or PROMPT line not starting
 *   with CL_POLICY_SERVER_MARK; a line of the device's own screens (IDLE,
 *   TXN, PIN, MESSAGE) starting with it.
 *  CL_ERR_UNSUPPORTED: a PIN screen on a UI without CL_UI_CAP_SECURE_GLYPH
 *   or CL_UI_CAP_PINPAD; a TEXT entry without CL_UI_CAP_TEXT.
 * Layout is checked first, then the rules. Returns CL_OK otherwise.
 */
static inline int cl_ui_screen_check(const struct cl_ui_caps *caps, const struct cl_ui_screen *s)
{
    unsigned cols = caps ? caps->cols : CL_UI_COLS_MAX;
    unsigned rows = caps ? caps->rows : CL_UI_ROWS_MAX;
    unsigned pin_max = caps ? caps->pin_max : CL_UI_PIN_MAX;
    uint32_t flags = caps ? caps->flags : 0xFFFFFFFFu;
    unsigned nrows = 0, row;
    bool own;
    size_t i, n;

    if (s == NULL || s->kind >= CL_UI_KIND_COUNT || (s->flags & ~0x03u) != 0 ||
        memchr(s->text, '\0', sizeof(s->text)) == NULL)
        return CL_ERR_ARG;
    for (i = 0, n = 0; s->text[i] != '\0'; i++) {
        if (s->text[i] == '\n') {
            nrows++;
            n = 0;
        } else if (++n > cols) {
            return CL_ERR_ARG;
        }
    }
    if (n > 0)
        nrows++;
    if (nrows > rows)
        return CL_ERR_ARG;
    if (s->kind == CL_UI_TXN && (s->pages == 0 || s->page >= s->pages))
        return CL_ERR_ARG;
    if (s->entry > CL_UI_ENTRY_PIN)
        return CL_ERR_ARG;
    if (s->entry != CL_UI_ENTRY_NONE) {
        unsigned lo = s->entry == CL_UI_ENTRY_PIN ? 4 : 1;
        unsigned hi = s->entry == CL_UI_ENTRY_PIN ? pin_max : CL_UI_ENTRY_MAX;
        if (hi > CL_UI_ENTRY_MAX)
            hi = CL_UI_ENTRY_MAX;
        if (s->entry_min < lo || s->entry_min > s->entry_max || s->entry_max > hi ||
            s->entry_row < nrows || s->entry_row >= rows)
            return CL_ERR_ARG;
    }
    /* the rules */
    for (i = 0; s->text[i] != '\0'; i++) {
        unsigned char c = (unsigned char)s->text[i];
        if (c == CL_POLICY_SECURE_GLYPH && i == 0 && s->kind == CL_UI_PIN)
            continue;
        if (c != '\n' && (c < 0x20 || c > 0x7E))
            return CL_ERR_DENIED;
    }
    if (s->kind == CL_UI_PIN &&
        ((unsigned char)s->text[0] != CL_POLICY_SECURE_GLYPH || s->entry != CL_UI_ENTRY_PIN))
        return CL_ERR_DENIED;
    if (s->kind != CL_UI_PIN && s->entry == CL_UI_ENTRY_PIN)
        return CL_ERR_DENIED;
    own = s->kind != CL_UI_SERVER_TEXT && s->kind != CL_UI_PROMPT;
    for (row = 0; row < nrows; row++) {
        const char *l = cl_ui_screen_line(s, row, &n);
        bool marked = l != NULL && n >= CL_POLICY_SERVER_MARK_LEN &&
                      memcmp(l, CL_POLICY_SERVER_MARK, CL_POLICY_SERVER_MARK_LEN) == 0;
        if (own ? marked : !marked)
            return CL_ERR_DENIED;
    }
    if (s->kind == CL_UI_PIN &&
        (!(flags & CL_UI_CAP_SECURE_GLYPH) || !(flags & CL_UI_CAP_PINPAD)))
        return CL_ERR_UNSUPPORTED;
    if (s->entry == CL_UI_ENTRY_TEXT && !(flags & CL_UI_CAP_TEXT))
        return CL_ERR_UNSUPPORTED;
    return CL_OK;
}

/* Wipe an event (the PIN digits it may hold). ev may be NULL. */
static inline void cl_ui_event_wipe(struct cl_ui_event *ev)
{
    if (ev != NULL)
        cl_wipe(ev, sizeof(*ev));
}

/* A short constant English name for a screen kind ("TXN"), for logs and
 * scripts; "?" for others. The names ui_script reads. */
static inline const char *cl_ui_kind_name(unsigned kind)
{
    static const char *const names[CL_UI_KIND_COUNT] = {
        "IDLE", "SERVER_TEXT", "PROMPT", "TXN", "PIN", "MESSAGE"};
    return kind < CL_UI_KIND_COUNT ? names[kind] : "?";
}

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_UI_H */
