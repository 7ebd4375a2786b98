/*
 * cardlink — POSIX terminal UI (cardlink/ui.h): a framed cols x rows
 * display drawn in plain ASCII, a keypad read from a terminal in raw mode.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The display is a box of '+', '-' and '|' around the screen's rows; the
 * secure glyph (CL_POLICY_SECURE_GLYPH) takes its one cell as '#' in
 * reverse video, and the line under the box is the LED: "(*) SECURE PIN
 * ENTRY" while a PIN screen is up, "( ) secure pin entry" otherwise. A
 * hint line names the keys the screen answers and the page.
 *
 * Keys: 0-9 digits; Enter = Confirm; Esc = Cancel; Backspace or Delete =
 * Clear; Up/Down arrows, PgUp/PgDn, '-'/'+' = previous/next page; Ctrl-D
 * = end of input (CL_ERR_CLOSED). In a TEXT entry printable characters are
 * typed. A lone Esc is told from an arrow key's escape sequence by 50 ms
 * of silence: timer() asks for the poll() that decides.
 *
 * Capabilities: SECURE_LED, SECURE_GLYPH, KEYPAD, CONFIRM, CLEAR, PAGE,
 * PINPAD, TEXT, FD.
 */
#ifndef CARDLINK_POSIX_UI_TERM_H
#define CARDLINK_POSIX_UI_TERM_H

#include <termios.h>

#include "cardlink/ui.h"

/* Milliseconds a lone Esc waits for the rest of an escape sequence. */
#define CL_UI_TERM_ESC_MS 50u

/* One terminal UI. Set it up with cl_ui_term_open(); do not touch the
 * fields. */
struct cl_ui_term {
    int in_fd, out_fd;
    bool open, raw;
    struct termios saved;       /* the terminal's mode before raw */
    struct cl_ui_caps caps;
    struct cl_ui_screen cur;    /* what is displayed (id, entry bounds) */
    bool have_screen;
    uint8_t entry[CL_UI_ENTRY_MAX];  /* the entry in progress (PIN digits: values) */
    uint8_t entry_len;
    uint8_t esc;                /* escape-sequence state */
    uint8_t esc_arg;            /* its numeric parameter */
    uint32_t esc_at;            /* when the Esc came (poll's now) */
};

/*
 * Open a terminal UI of cols x rows (1..CL_UI_COLS_MAX, 1..CL_UI_ROWS_MAX)
 * reading keys from in_fd and drawing to out_fd. in_fd is made
 * non-blocking; if it is a terminal it is put in raw mode (no canonical
 * input, no echo; signals stay on) and its mode is saved for
 * cl_ui_term_close(). Draws an empty display.
 * Returns CL_OK, CL_ERR_ARG (t NULL, sizes out of range, a negative fd),
 * CL_ERR_IO (the terminal's mode cannot be read or set).
 */
CL_WUR int cl_ui_term_open(struct cl_ui_term *t, int in_fd, int out_fd, unsigned cols,
                           unsigned rows);

/* Restore the terminal's mode and in_fd's blocking flag, clear the LED,
 * wipe the entry and the context. NULL or closed: nothing. Safe from a
 * signal handler only through cl_ui_term_restore(). */
void cl_ui_term_close(struct cl_ui_term *t);

/* Put the saved terminal mode back, and nothing else (async-signal-safe:
 * tcsetattr only). For a SIGINT/SIGTERM handler. t may be NULL. */
void cl_ui_term_restore(const struct cl_ui_term *t);

/* The ops (caps, show, poll, timer, fd, close) for a struct cl_ui with ctx
 * a struct cl_ui_term. */
extern const struct cl_ui_ops cl_ui_term_ops;

/* The struct cl_ui of t. */
struct cl_ui cl_ui_term_ui(struct cl_ui_term *t);

#endif /* CARDLINK_POSIX_UI_TERM_H */
