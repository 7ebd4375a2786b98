/*
 * cardlink — a scripted card holder (cardlink/ui.h) for tests and the demo.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The port plays a script against the screens the device shows and
 * records every screen, so that a test asserts exactly what the holder
 * saw. It presses nothing the script does not say: no Confirm, no PIN of
 * its own. One command per line; '#' starts a comment; blank lines skip.
 *
 *   expect-screen KIND [P/N]  the next screen shown (not yet looked at) is
 *                             KIND (IDLE, SERVER_TEXT, PROMPT, TXN, PIN,
 *                             MESSAGE), for a TXN page P of N (1-based)
 *   wait-screen KIND [P/N]    screens are looked at until one is KIND (and
 *                             page P/N)
 *   expect-line R TEXT        row R (1-based) of the last screen looked at
 *                             is TEXT exactly (the rest of the line; the
 *                             glyph is written \g)
 *   expect-confirm yes|no     whether that screen accepts Confirm
 *   expect-none               no screen shown after the last looked at
 *   confirm | cancel | clear | page-down | page-up | key D
 *                             press that key on the current screen (the
 *                             last shown): a key event
 *   pin DIGITS                type a PIN (4..12 digits) and Confirm: one
 *                             CL_UI_EV_PIN event. Refused (the script
 *                             fails) unless the current screen is the
 *                             device's secure PIN screen with a PIN entry
 *                             that takes that many digits: a holder types
 *                             a PIN nowhere else
 *   enter TEXT                answer a DIGITS or TEXT entry: CL_UI_EV_ENTRY
 *   wait-file PATH            the holder pauses (poll: CL_ERR_AGAIN) until
 *                             the file PATH exists: a test holds the holder
 *                             at a chosen point of a flow
 *   end                       the holder is done: poll answers CL_ERR_CLOSED
 *
 * A command that needs a screen not shown yet waits (poll: CL_ERR_AGAIN).
 * A screen that is not what the script expects fails the script: poll
 * returns CL_ERR_PROTOCOL from then on and cl_ui_script_error() says
 * which line and what was shown. The end of the script is "end".
 */
#ifndef CARDLINK_POSIX_UI_SCRIPT_H
#define CARDLINK_POSIX_UI_SCRIPT_H

#include "cardlink/ui.h"

/* Longest script text; most screens recorded (later ones are counted but
 * not kept). */
#ifndef CL_UI_SCRIPT_TEXT_MAX
#define CL_UI_SCRIPT_TEXT_MAX 8192
#endif
#ifndef CL_UI_SCRIPT_LOG_MAX
#define CL_UI_SCRIPT_LOG_MAX 64
#endif

/* One scripted holder. Set it up with cl_ui_script_setup(); do not touch
 * the fields. */
struct cl_ui_script {
    bool open;
    struct cl_ui_caps caps;
    char text[CL_UI_SCRIPT_TEXT_MAX + 1];
    size_t len, pos;             /* the script and the next command's offset */
    unsigned line;               /* the next command's line number (1-based) */
    struct cl_ui_screen log[CL_UI_SCRIPT_LOG_MAX];
    struct cl_ui_screen cur;     /* the last screen shown */
    size_t shown;                /* screens shown (may exceed the log) */
    size_t looked;               /* screens the script has looked at */
    size_t refused;              /* show() calls refused */
    int last_refusal;            /* the last refusal's error */
    int err;                     /* sticky: CL_ERR_PROTOCOL, CL_ERR_CLOSED */
    char msg[160];               /* why the script failed */
};

/*
 * Set up a holder for a display described by caps (NULL: 20 x 4, PIN of up
 * to 12, every capability but FD) playing script[0..len) (copied).
 * Returns CL_OK; CL_ERR_ARG (s NULL, script NULL with len > 0, caps sizes
 * out of range); CL_ERR_LIMIT (len > CL_UI_SCRIPT_TEXT_MAX); CL_ERR_MALFORMED
 * (a line that is no command: cl_ui_script_error() names it). Scripts are
 * checked whole before anything runs.
 */
CL_WUR int cl_ui_script_setup(struct cl_ui_script *s, const struct cl_ui_caps *caps,
                              const char *script, size_t len);

/* As cl_ui_script_setup with the script read from file `path`; also
 * CL_ERR_IO (cannot read it). */
CL_WUR int cl_ui_script_load(struct cl_ui_script *s, const struct cl_ui_caps *caps,
                             const char *path);

/* Wipe the context (the script may hold PIN digits). NULL: nothing. */
void cl_ui_script_free(struct cl_ui_script *s);

/* Screens shown (accepted by show()) so far, and screen i of them (NULL
 * past the log). s not NULL. */
size_t cl_ui_script_shown(const struct cl_ui_script *s);
const struct cl_ui_screen *cl_ui_script_screen(const struct cl_ui_script *s, size_t i);

/* show() calls refused, and the last refusal's error (CL_OK: none). */
size_t cl_ui_script_refused(const struct cl_ui_script *s, int *last);

/* Why the script failed ("line 3: expect-screen TXN: shown PIN"), or NULL. */
const char *cl_ui_script_error(const struct cl_ui_script *s);

/* Whether the script has run to its end ("end" reached, or no command
 * left). */
bool cl_ui_script_done(const struct cl_ui_script *s);

/* The ops (caps, show, poll, close; no timer, no fd) for a struct cl_ui
 * with ctx a struct cl_ui_script. */
extern const struct cl_ui_ops cl_ui_script_ops;

/* The struct cl_ui of s. */
struct cl_ui cl_ui_script_ui(struct cl_ui_script *s);

#endif /* CARDLINK_POSIX_UI_SCRIPT_H */
