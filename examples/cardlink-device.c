/*
 * cardlink-device — the reference device: a card reader, a TLS link to a
 * cardlink server and a holder (display, keypad), with lib/device
 * (cardlink/device.h) in the middle deciding nothing on its own: every
 * request the server sends passes lib/policy, every approval is the
 * holder's key press.
 * SPDX-License-Identifier: Apache-2.0
 *
 *   cardlink-device --card SPEC --server HOST:PORT --pki DIR --store DIR
 *                   [--ui term|script:FILE] [--id DEVICE_ID] [--trace FILE]
 *                   [--reconnect N] [--actuator FILE] [-v]
 *   cardlink-device --validate --card SPEC --pki DIR [--id VALIDATOR_ID]
 *   cardlink-device --help | --version
 *
 * --validate: an offline ticket validator (docs/device.md "Tickets"), no
 * server, no holder: the card is activated, cl_dev_validate runs once with
 * the issuer key of DIR/issuer.der (the card issuer's certificate) and
 * uses the first unused e-goods ticket whose issuer signature verifies.
 * One line on stdout: "validator: ticket ID accepted, used now (...)", or
 * "validator: no usable ticket: already used | forged | none | ...".
 * Exit 0 when a ticket was used now, 1 otherwise.
 *
 * --actuator FILE: the gate (docs/device.md "Gate"): an ACTUATE whose
 * signature verifies with DIR/gate.pub (the server's gate key), naming
 * this device, inside its window by the host's clock and never used
 * before appends "ACTION n" to FILE (ports/posix/actuator_file.h).
 *
 * SPEC: vline:tcp:HOST:PORT | vline:unix:PATH | vline:pty:/dev/pts/N (the
 * virtual card line of cardlink-vcard) | serial:DEVICE[,dtr][,clock=KHZ]
 * (a Phoenix reader), as cardlink-tool's --reader; pcsc:READER (a PC/SC
 * reader whose name contains READER, through pcscd: an APDU-level card
 * port, its slot watched for insertion and removal, the PIN taken on the
 * reader's PIN pad where it has one: ports/posix/pcsc_dev.h).
 * DIR (a cardlink-pki testpki output): device.der + device.key.der are the
 * device's TLS identity; server-ca.der (and root.der when present) are the
 * anchors the server's certificate must chain to, for the name
 * "localhost" (the test server certificate's subjectAltName).
 * --store DIR: the device's non-volatile store (ports/posix/store_file.h):
 * the transaction log that makes a retried transaction id answer from the
 * log instead of touching the card again.
 * --ui term (default): the terminal display and keypad (ui_term.h);
 * --ui script:FILE: a scripted holder (ui_script.h) whose screens are
 * printed, each line prefixed "holder: ".
 * --trace FILE: every byte of the relay stream (inside TLS), "> " device
 * to server, "< " server to device, in hex: for tests that search it.
 *
 * Logs: one line per event ("device: ..."), on stdout with a scripted
 * holder, on stderr with the terminal (whose display owns stdout). No
 * line ever carries a PIN digit: PIN entries are logged as "PIN entered".
 *
 * --reconnect N: when the link drops without the session's end (no CLOSE,
 * no close_notify, or the keep-alive found it dead), connect again up to N
 * times in a row (back-off 100 ms doubling to 2 s) and offer the session's
 * resume token in HELLO: the server continues the session (the replay
 * buffers carry what was lost), or starts a fresh one and re-sends an
 * outstanding request under its transaction id, which the transaction log
 * answers without touching the card. Default 0: one connection.
 *
 * The program runs one session: it ends when the server closes it
 * (exit 0), or fails (exit 1: the card, the TLS handshake, a scripted
 * holder that saw what its script did not expect). Exit 2: usage.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE 1

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cardlink/atr.h"
#include "cardlink/cert.h"
#include "cardlink/device.h"
#include "cardlink/error.h"
#include "cardlink/wipe.h"
#include "actuator_file.h"
#include "applet_crypto.h"
#include "clock_posix.h"
#include "net_tcp.h"
#include "store_file.h"
#include "tls_mbedtls.h"
#include "ui_script.h"
#include "ui_term.h"
#include "vline.h"
#include "vline_card.h"
#ifdef CL_HAVE_LIBSERIALPORT
#include "serial.h"
#endif
#ifdef CL_HAVE_PCSC
#include "pcsc_dev.h"
#endif

#define PROG "cardlink-device"
#ifndef CL_TOOL_VERSION
#define CL_TOOL_VERSION "0"
#endif

/* Characters moved per card line call (as lib/card/card_io.c). */
#define IO_CHUNK 32u
/* How long the TLS handshake may take. */
#define HANDSHAKE_MS 15000
/* Largest certificate or key file read from the PKI directory. */
#define FILE_MAX 8192u

static void usage(FILE *f)
{
    fputs("usage: " PROG " --card SPEC --server HOST:PORT --pki DIR --store DIR\n"
          "                       [--ui term|script:FILE] [--id DEVICE_ID] [--trace FILE]\n"
          "                       [--reconnect N] [--actuator FILE] [-v]\n"
          "       " PROG " --validate --card SPEC --pki DIR [--id VALIDATOR_ID]\n"
          "       " PROG " --help | --version\n"
          "  SPEC: vline:tcp:HOST:PORT | vline:unix:PATH | vline:pty:/dev/pts/N |\n"
          "        serial:DEVICE[,dtr][,clock=KHZ] | pcsc:READER\n"
          "  DIR (--pki): device.der, device.key.der (the device's TLS identity),\n"
          "        server-ca.der and root.der (the server's certificate must chain to\n"
          "        them and name \"localhost\")\n"
          "  --store DIR: the device's store (transaction log), created if absent\n"
          "  --ui term: the terminal display and keypad (default); script:FILE: a\n"
          "        scripted holder, each screen printed as \"holder: \" lines\n"
          "  --trace FILE: the relay stream in hex (> sent, < received)\n"
          "  --reconnect N: reconnect up to N times in a row when the link drops,\n"
          "        resuming the session (default 0)\n"
          "  --actuator FILE: perform server-authorised actions (ACTUATE signed with\n"
          "        DIR/gate.pub's key) as lines \"ACTION n\" appended to FILE\n"
          "  --validate: an offline ticket validator, no server: use one e-goods\n"
          "        ticket of the card whose issuer signature verifies with\n"
          "        DIR/issuer.der's key (exit 0 used now, 1 none usable)\n"
          "Exit status: 0 the server closed the connection, 1 failure, 2 usage.\n",
          f);
}

/* ------------------------------------------------------------ state */

struct blob {
    uint8_t b[FILE_MAX];
    size_t len;
};

static struct {
    /* options */
    const char *card_spec, *server, *pki, *store_dir, *ui_spec, *trace_path;
    char id[33];
    bool verbose;
    unsigned reconnect;             /* --reconnect N */
    const char *actuator_path;      /* --actuator FILE */
    struct cl_actuator_file act;
    struct blob gate_pub;
    /* the device */
    struct cl_dev dev;
    struct cl_dev_stats seen;
    /* card line */
    struct cl_vline vl;
    struct cl_vline_card vc;
#ifdef CL_HAVE_LIBSERIALPORT
    struct cl_serial serial;
#endif
    const struct cl_card_line *line;
    void *line_ctx;
    bool is_vline, is_serial, is_pcsc;
#ifdef CL_HAVE_PCSC
    struct cl_pcsc_dev pcsc;        /* --card pcsc: (APDU-level) */
#endif
    /* network */
    struct cl_tcp tcp;
    struct cl_mtls tls;
    struct cl_net net;
    bool tls_set;
    struct blob dev_cert, dev_key, server_ca, root;
    struct cl_cert_der anchors[2], chain[1];
    /* store */
    struct cl_store_file store;
    /* holder */
    struct cl_ui_term term;
    struct cl_ui_script script;
    struct cl_ui ui;
    struct cl_ui_caps caps;
    bool scripted, ui_open, ui_done;
    /* logs */
    FILE *log;
    FILE *trace;
} g;

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
    if (g.ui_open && !g.scripted)
        cl_ui_term_restore(&g.term);
}

__attribute__((format(printf, 1, 2)))
static void logf_(const char *fmt, ...)
{
    va_list ap;

    fputs("device: ", g.log);
    va_start(ap, fmt);
    vfprintf(g.log, fmt, ap);
    va_end(ap);
    fputc('\n', g.log);
    fflush(g.log);
}

static void hex_short(const uint8_t *b, size_t n, char *out, size_t size)
{
    size_t i, o = 0;

    for (i = 0; i < n && o + 3 <= size; i++)
        o += (size_t)snprintf(out + o, size - o, "%02x", b[i]);
    if (size > 0)
        out[o < size ? o : size - 1] = '\0';
}

static void trace_bytes(char dir, const uint8_t *b, size_t n)
{
    size_t i;

    if (g.trace == NULL || n == 0)
        return;
    fputc(dir, g.trace);
    fputc(' ', g.trace);
    for (i = 0; i < n; i++)
        fprintf(g.trace, "%02X", b[i]);
    fputc('\n', g.trace);
    fflush(g.trace);
}

/* ------------------------------------------------------------ files */

static int load(const char *dir, const char *name, struct blob *b, bool required)
{
    char path[1024];
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (f == NULL) {
        if (required)
            fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
        return CL_ERR_IO;
    }
    n = fread(b->b, 1, sizeof(b->b), f);
    if (ferror(f) || !feof(f) || n == 0) {
        fprintf(stderr, PROG ": %s: unreadable, empty or above %u bytes\n", path, FILE_MAX);
        fclose(f);
        return CL_ERR_IO;
    }
    fclose(f);
    b->len = n;
    return CL_OK;
}

/* ------------------------------------------------------------ card line */

static int card_open(const char *spec)
{
    int err;

    if (strncmp(spec, "vline:", 6) == 0) {
        cl_vline_init(&g.vl);
        err = cl_vline_connect(&g.vl, spec + 6);
        if (err != CL_OK) {
            fprintf(stderr, PROG ": cannot reach the card line %s: %s\n", spec + 6,
                    cl_strerror(err));
            return err;
        }
        cl_vline_card_init(&g.vc, &g.vl);
        g.line = cl_vline_card_line();
        g.line_ctx = &g.vc;
        g.is_vline = true;
        return CL_OK;
    }
#ifdef CL_HAVE_LIBSERIALPORT
    if (strncmp(spec, "serial:", 7) == 0) {
        static char dev[256];
        struct cl_serial_config sc;
        char *opt;

        cl_serial_config_default(&sc);
        snprintf(dev, sizeof(dev), "%s", spec + 7);
        for (opt = strchr(dev, ','); opt; opt = strchr(opt, ',')) {
            *opt++ = '\0';
            if (strncmp(opt, "dtr", 3) == 0 && (opt[3] == ',' || opt[3] == '\0'))
                sc.reset_line = CL_SERIAL_RESET_DTR;
            else if (strncmp(opt, "clock=", 6) == 0)
                sc.clock_khz = (uint32_t)strtoul(opt + 6, NULL, 10);
            else if (strncmp(opt, "max_baud=", 9) == 0)
                sc.max_baud = (uint32_t)strtoul(opt + 9, NULL, 10);
            else {
                fprintf(stderr, PROG ": unknown serial option '%s'\n", opt);
                return CL_ERR_ARG;
            }
        }
        sc.port = dev;
        err = cl_serial_open(&g.serial, &sc);
        if (err != CL_OK) {
            fprintf(stderr, PROG ": cannot open %s: %s\n", dev, cl_strerror(err));
            return err;
        }
        g.line = cl_serial_line(&g.serial);
        g.line_ctx = &g.serial;
        g.is_serial = true;
        return CL_OK;
    }
#endif
#ifdef CL_HAVE_PCSC
    if (strncmp(spec, "pcsc:", 5) == 0) {
        cl_pcsc_dev_init(&g.pcsc);
        err = cl_pcsc_dev_open(&g.pcsc, spec + 5);
        if (err != CL_OK) {
            fprintf(stderr, PROG ": no PC/SC reader matching '%s': %s\n", spec + 5,
                    err == CL_ERR_NOT_FOUND ? "not found" : "is pcscd running?");
            return err;
        }
        g.is_pcsc = true;
        return CL_OK;
    }
#endif
    fprintf(stderr, PROG ": unknown card reader '%s'%s\n", spec,
            strncmp(spec, "serial:", 7) == 0 ? " (built without libserialport)" : "");
    return CL_ERR_ARG;
}

static void card_close(void)
{
    if (g.is_vline)
        cl_vline_close(&g.vl);
#ifdef CL_HAVE_PCSC
    if (g.is_pcsc)
        cl_pcsc_dev_close(&g.pcsc);
#endif
#ifdef CL_HAVE_LIBSERIALPORT
    if (g.is_serial)
        cl_serial_close(&g.serial);
#endif
}

/* Send through the line, coding inverse characters when the session does
 * and reading back the echo of lines that have one (lib/card/card_io.c's
 * rules). */
static int line_send(const uint8_t *buf, size_t len)
{
    uint8_t tmp[IO_CHUNK], echo[IO_CHUNK];
    bool inv = cl_dev_card_inverse(&g.dev);

    while (len > 0) {
        size_t n = len < IO_CHUNK ? len : IO_CHUNK, i, got = 0;
        const uint8_t *p = buf;
        int rv;

        if (inv) {
            for (i = 0; i < n; i++)
                tmp[i] = cl_atr_inverse_byte(buf[i]);
            p = tmp;
        }
        rv = g.line->send(g.line_ctx, p, n);
        if (rv != CL_OK)
            return rv;
        while ((g.line->caps.flags & CL_CARD_LINE_ECHO) && got < n) {
            uint32_t t = 1000000u;
            int r = g.line->recv(g.line_ctx, echo + got, n - got, &t);

            if (r == CL_ERR_PARITY) {
                echo[got] = p[got];
                r = 1;
            }
            if (r <= 0)
                return r == 0 ? CL_ERR_IO : r;
            if ((size_t)r > n - got)
                return CL_ERR_IO;
            got += (size_t)r;
        }
        if (got > 0 && memcmp(echo, p, n) != 0)
            return CL_ERR_IO;
        buf += n;
        len -= n;
    }
    return CL_OK;
}

#ifdef CL_HAVE_PCSC
/* One step of the PC/SC port (pcsc_dev.h): the device's CTRL / SEND, then
 * the slot watcher. Returns whether something happened. */
static bool pcsc_step(void)
{
    int r = cl_pcsc_dev_step(&g.pcsc, &g.dev, cl_posix_ms_now());
    char ah[2 * CL_ATR_MAX + 1];

    switch (r) {
    case CL_PCSC_DEV_IDLE:
        return false;
    case CL_PCSC_DEV_INSERTED:
        logf_("card inserted (PC/SC %s)", cl_pcsc_reader(&g.pcsc.pc));
        return true;
    case CL_PCSC_DEV_REMOVED:
        logf_("card removed (PC/SC %s)", cl_pcsc_reader(&g.pcsc.pc));
        return true;
    case CL_PCSC_DEV_ACTIVE:
        hex_short(g.pcsc.atr, g.pcsc.atr_len, ah, sizeof(ah));
        /* the first word is what a log reader greps: "none" or what the
         * pad does; then the Part 10 features found */
        logf_("card active (PC/SC): ATR %s, T=%u, PIN pad: %s", ah, g.pcsc.protocol,
              g.pcsc.verify_code != 0 && g.pcsc.modify_code != 0
                  ? "verify+modify (Part 10 FEATURE_VERIFY_PIN_DIRECT, FEATURE_MODIFY_PIN_DIRECT)"
              : g.pcsc.verify_code != 0 ? "verify (Part 10 FEATURE_VERIFY_PIN_DIRECT)"
              : g.pcsc.modify_code != 0 ? "modify (Part 10 FEATURE_MODIFY_PIN_DIRECT)"
                                        : "none");
        return true;
    case CL_PCSC_DEV_PINPAD:
        logf_("PIN verified on the reader's PIN pad");
        return true;
    case CL_PCSC_DEV_FAILED:
        logf_("card (PC/SC): %s (%s)", cl_strerror(g.pcsc.last_err),
              pcsc_stringify_error(cl_pcsc_last(&g.pcsc.pc)));
        return true;
    case CL_PCSC_DEV_APDU:
    case CL_PCSC_DEV_OFF:
        return true;
    default:
        if (g.verbose)
            logf_("card (PC/SC): %s", cl_strerror(r));
        return false;
    }
}
#endif

/* One step of the card engine the device passes through, blocking on the
 * line for at most the engine's own time-out. Returns whether the engine
 * wanted the line. */
static bool card_step(void)
{
    enum cl_want w = cl_dev_card_want(&g.dev);
    uint32_t now = cl_posix_ms_now();
    int rv = CL_OK;

#ifdef CL_HAVE_PCSC
    if (g.is_pcsc)
        return pcsc_step();
#endif
    if (w == CL_WANT_CTRL) {
        unsigned c = cl_dev_card_ctrl(&g.dev);
        int rc = CL_OK;

        if (c == CL_CARD_CTRL_COLD || c == CL_CARD_CTRL_WARM)
            rc = g.line->reset(g.line_ctx, c == CL_CARD_CTRL_WARM);
        else if (c == CL_CARD_CTRL_PARAMS)
            rc = g.line->set_params(g.line_ctx, cl_dev_card_params(&g.dev));
        else
            g.line->power_off(g.line_ctx);
        rv = cl_dev_card_ctrl_done(&g.dev, now, rc);
    } else if (w == CL_WANT_SEND) {
        const uint8_t *p;
        size_t n = cl_dev_card_pull(&g.dev, &p);
        int rc = n > 0 ? line_send(p, n) : CL_ERR_INTERNAL;

        if (rc == CL_OK)
            rv = cl_dev_card_sent(&g.dev, now, n);
        else if (rc == CL_ERR_CARD_REMOVED)
            cl_dev_card_removed(&g.dev, now);
        else
            rv = cl_dev_card_fail(&g.dev, now, rc);
    } else if (w == CL_WANT_RECV) {
        uint8_t rx[IO_CHUNK];
        size_t max = cl_dev_card_recv_max(&g.dev);
        uint32_t t = cl_dev_card_timer(&g.dev), t0;
        int r;

        if (t == CL_TIMER_NONE)
            t = UINT32_MAX;
        t0 = t;
        r = g.line->recv(g.line_ctx, rx, max < sizeof(rx) ? max : sizeof(rx), &t);
        if (t0 != UINT32_MAX && t <= t0)
            cl_dev_card_elapsed(&g.dev, t0 - t);
        now = cl_posix_ms_now();
        if (r > 0 && cl_dev_card_inverse(&g.dev))
            cl_atr_decode_inverse(rx, (size_t)r);
        if (r == 0) {
            rv = cl_dev_card_timeout(&g.dev, now);
        } else if (r == CL_ERR_PARITY) {
            if (cl_dev_card_inverse(&g.dev))
                cl_atr_decode_inverse(rx, 1);
            rv = cl_dev_card_parity(&g.dev, now, rx[0]);
        } else if (r == CL_ERR_CARD_REMOVED) {
            logf_("card removed");
            cl_dev_card_removed(&g.dev, now);
        } else if (r < 0) {
            rv = cl_dev_card_fail(&g.dev, now, r);
        } else {
            size_t off = 0;

            while (off < (size_t)r && cl_dev_card_want(&g.dev) == CL_WANT_RECV) {
                int used = cl_dev_card_feed(&g.dev, now, rx + off, (size_t)r - off);

                if (used <= 0) {
                    rv = used < 0 ? used : CL_ERR_INTERNAL;
                    break;
                }
                off += (size_t)used;
            }
        }
    } else {
        return false;
    }
    if (rv != CL_OK && g.verbose)
        logf_("card line: %s", cl_strerror(rv));
    return true;
}

/* ------------------------------------------------------------ holder */

static const char *key_name(unsigned k)
{
    switch (k) {
    case CL_UI_KEY_CONFIRM: return "Confirm";
    case CL_UI_KEY_CANCEL: return "Cancel";
    case CL_UI_KEY_CLEAR: return "Clear";
    case CL_UI_KEY_UP: return "Up";
    case CL_UI_KEY_DOWN: return "Down";
    default: return "a digit key";
    }
}

/* A screen as the holder sees it, one "holder: " line per row. The
 * screen's text is the device's and the server's: it never holds a PIN
 * digit (the entry's echo is the port's, '*'). */
static void print_screen(const struct cl_ui_screen *s)
{
    unsigned row, rows = cl_ui_screen_rows(s);
    char head[64];

    if (s->kind == CL_UI_TXN)
        snprintf(head, sizeof(head), "%s %u/%u", cl_ui_kind_name(s->kind), s->page + 1u,
                 s->pages);
    else
        snprintf(head, sizeof(head), "%s", cl_ui_kind_name(s->kind));
    fprintf(stdout, "holder: [%s%s%s]\n", head,
            (s->flags & CL_UI_F_CONFIRM) ? ", Confirm" : "",
            (s->flags & CL_UI_F_CANCEL) ? ", Cancel" : "");
    for (row = 0; row < rows; row++) {
        size_t n;
        const char *l = cl_ui_screen_line(s, row, &n);
        char buf[CL_UI_COLS_MAX + 1];
        size_t i;

        if (l == NULL)
            break;
        for (i = 0; i < n && i < CL_UI_COLS_MAX; i++)
            buf[i] = (l[i] == (char)CL_POLICY_SECURE_GLYPH) ? '#' : l[i];
        buf[i] = '\0';
        fprintf(stdout, "holder:   %s\n", buf);
    }
    fflush(stdout);
}

/* Screens waiting go to the holder; the holder's actions to the device.
 * Returns whether anything moved, or -1 when the scripted holder failed. */
static int holder_step(void)
{
    struct cl_ui_screen s;
    struct cl_ui_event ev;
    int moved = 0, rc;

    while (cl_dev_ui_take(&g.dev, &s) == 1) {
        moved = 1;
        if (g.scripted)
            print_screen(&s);
        rc = g.ui.ops->show(g.ui.ctx, &s);
        if (rc != CL_OK)
            logf_("display refused a %s screen: %s", cl_ui_kind_name(s.kind), cl_strerror(rc));
    }
    if (g.ui_done)
        return moved;
    for (;;) {
        uint32_t now = cl_posix_ms_now();

        rc = g.ui.ops->poll(g.ui.ctx, now, &ev);
        if (rc == CL_ERR_AGAIN)
            break;
        if (rc == CL_ERR_CLOSED) {
            if (g.verbose)
                logf_("holder: input ended");
            g.ui_done = true;
            break;
        }
        if (rc != CL_OK) {
            if (g.scripted)
                logf_("holder script failed: %s", cl_ui_script_error(&g.script) ?
                      cl_ui_script_error(&g.script) : cl_strerror(rc));
            else
                logf_("holder input failed: %s", cl_strerror(rc));
            return -1;
        }
        moved = 1;
        if (ev.type == CL_UI_EV_KEY)
            logf_("holder pressed %s", key_name(ev.key));
        else if (ev.type == CL_UI_EV_PIN)
            logf_("holder entered the PIN on the secure screen");
        else
            logf_("holder answered the prompt");
        rc = cl_dev_ui_event(&g.dev, now, &ev);   /* wipes ev */
        cl_ui_event_wipe(&ev);
        if (rc != CL_OK)
            logf_("the device did not take it: %s", cl_strerror(rc));
    }
    return moved;
}

/* ------------------------------------------------------------ network */

static int tls_connect(void)
{
    char host[256], *port;
    struct cl_mtls_config mc;
    uint32_t t0;
    int rc;

    snprintf(host, sizeof(host), "%s", g.server);
    port = strrchr(host, ':');
    if (port == NULL || port == host || port[1] == '\0') {
        fprintf(stderr, PROG ": --server wants HOST:PORT, got '%s'\n", g.server);
        return CL_ERR_ARG;
    }
    *port++ = '\0';
    if (host[0] == '[' && port[-2] == ']') {   /* [::1]:PORT */
        port[-2] = '\0';
        memmove(host, host + 1, strlen(host));
    }
    cl_tcp_init(&g.tcp);
    rc = cl_tcp_connect(&g.tcp, host, port);
    if (rc != CL_OK) {
        logf_("cannot connect to %s: %s", g.server, cl_strerror(rc));
        return rc;
    }
    memset(&mc, 0, sizeof(mc));
    mc.anchors = g.anchors;
    mc.n_anchors = g.root.len > 0 ? 2 : 1;
    mc.chain = g.chain;
    mc.n_chain = 1;
    mc.key = g.dev_key.b;
    mc.key_len = g.dev_key.len;
    mc.server_name = "localhost";
    cl_mtls_init(&g.tls);
    rc = cl_mtls_setup(&g.tls, &mc, cl_tcp_net(&g.tcp), cl_posix_time_now());
    if (rc != CL_OK) {
        logf_("TLS set-up failed: %s", cl_strerror(rc));
        cl_mtls_free(&g.tls);
        cl_tcp_close(&g.tcp);
        return rc;
    }
    g.tls_set = true;
    g.net = cl_mtls_net(&g.tls);
    t0 = cl_posix_ms_now();
    for (;;) {
        rc = cl_mtls_handshake(&g.tls);
        if (rc != CL_ERR_AGAIN)
            break;
        if (stop_signal || cl_posix_ms_now() - t0 > HANDSHAKE_MS) {
            rc = stop_signal ? CL_ERR_CLOSED : CL_ERR_TIMEOUT;
            break;
        }
        rc = cl_net_wait(&g.net, 200);
        if (rc != CL_OK && rc != CL_ERR_TIMEOUT)
            break;
    }
    if (rc != CL_OK) {
        int alert = cl_mtls_peer_alert(&g.tls);
        if (rc == CL_ERR_CLOSED)
            logf_("TLS to %s refused: the server closed the connection during the handshake "
                  "(does it trust this device's certificate?)", g.server);
        else if (alert == 42 || alert == 43 || alert == 48)
            /* bad_certificate, unsupported_certificate, unknown_ca: the
             * server's verdict on this device, not this device's on it
             * (whether the alert or the close arrives first is a race) */
            logf_("TLS to %s refused: the server closed the connection during the handshake "
                  "with alert %d (does it trust this device's certificate?)", g.server, alert);
        else
            logf_("TLS to %s refused: %s%s", g.server, cl_strerror(rc),
                  rc == CL_ERR_CERT_UNTRUSTED ? " (the server's certificate must chain to "
                  "server-ca or root and name localhost)" : "");
        return rc;
    }
    {
        struct cl_net_peer peer;
        char fp[20];

        if (g.net.ops->peer != NULL && g.net.ops->peer(g.net.ctx, &peer) == CL_OK) {
            hex_short(peer.fingerprint, 8, fp, sizeof(fp));
            logf_("TLS up to %s: server \"%s\" (fingerprint %s..), %s %s", g.server,
                  peer.subject, fp, cl_mtls_version(&g.tls), cl_mtls_suite(&g.tls));
        }
    }
    return CL_OK;
}

/* Pending output to the stream; returns bytes sent, 0 none / would block,
 * or an error. */
static int net_send_step(void)
{
    const uint8_t *p;
    size_t n = cl_dev_net_pull(&g.dev, cl_posix_ms_now(), &p);
    int rc;

    if (n == 0)
        return 0;
    rc = g.net.ops->send(g.net.ctx, p, n);
    if (rc == CL_ERR_AGAIN)
        return 0;
    if (rc < 0)
        return rc;
    trace_bytes('>', p, (size_t)rc);
    if (cl_dev_net_sent(&g.dev, (size_t)rc) != CL_OK)
        return CL_ERR_INTERNAL;
    return rc;
}

/* ------------------------------------------------------------ logs */

static void log_progress(void)
{
    const struct cl_dev_stats *s = cl_dev_stats(&g.dev);

    if (s->requests != g.seen.requests && g.verbose)
        logf_("%u request(s) from the server so far", s->requests);
    if (s->denied != g.seen.denied)
        logf_("policy refused a request (%u so far): nothing reached the card", s->denied);
    if (s->confirms != g.seen.confirms)
        logf_("the holder approved the transaction on the device");
    if (s->signs != g.seen.signs)
        logf_("the card signed what was shown (signing command / DEBIT %u)", s->signs);
    if (s->records != g.seen.records)
        logf_("transaction record appended on the card (%u)", s->records);
    if (s->card_errors != g.seen.card_errors)
        logf_("card exchange failed (%u so far)", s->card_errors);
    if (s->apdus != g.seen.apdus && g.verbose)
        logf_("%u APDU(s) sent to the card so far", s->apdus);
    g.seen = *s;
}

/* ------------------------------------------------------------ main loop */

/* The transport is gone: free it (the session stays, suspended). */
static void net_close(void)
{
    if (g.tls_set) {
        cl_mtls_free(&g.tls);
        g.tls_set = false;
    }
    cl_tcp_close(&g.tcp);
}

/*
 * The link dropped with the session still to finish: connect again, up to
 * g.reconnect attempts in a row (*tries counts them; the caller resets it
 * once a session is open again), waiting 100 ms doubling to 2 s before
 * each, the card and the holder served meanwhile. Returns CL_OK when a
 * transport is up and HELLO queued (with the resume token the session
 * holds; only the transport when !session: the first connection), else
 * an error (give up).
 */
static int reconnect(unsigned *tries, bool session)
{
    net_close();
    while (*tries < g.reconnect && !stop_signal) {
        uint32_t backoff = 100u << (*tries < 5 ? *tries : 5), t0;
        size_t tl = 0;
        int rc;

        if (backoff > 2000)
            backoff = 2000;
        (*tries)++;
        (void)cl_relay_session_token(cl_dev_session(&g.dev), &tl);
        logf_("reconnecting in %u ms (attempt %u of %u)%s", (unsigned)backoff, *tries,
              g.reconnect, tl > 0 ? ", offering the session's resume token" : "");
        t0 = cl_posix_ms_now();
        while (cl_posix_ms_now() - t0 < backoff && !stop_signal) {
            uint32_t now;

            while (card_step())
                ;
            if (holder_step() < 0)
                return CL_ERR_CLOSED;
            now = cl_posix_ms_now();
            if (cl_dev_timer(&g.dev, now) == 0 && cl_dev_timeout(&g.dev, now) != CL_OK &&
                g.verbose)
                logf_("timer: %s", cl_strerror(cl_dev_error(&g.dev)));
            log_progress();
            (void)poll(NULL, 0, 10);
        }
        if (stop_signal)
            break;
        if (tls_connect() == CL_OK) {
            if (!session)
                return CL_OK;
            rc = cl_dev_net_up(&g.dev, cl_posix_ms_now());
            if (rc == CL_OK)
                return CL_OK;
            logf_("relay session: %s", cl_strerror(rc));
            net_close();
            return rc;
        }
        net_close();
    }
    if (!stop_signal)
        logf_("gave up after %u reconnection attempt(s)", *tries);
    return CL_ERR_CLOSED;
}

/* After a reconnection, once the session is open: resumed (the token it
 * held) or fresh; the attempts count again from 0. */
static void note_reopen(bool *reopened, unsigned *tries, const uint8_t *tok, size_t tok_len)
{
    size_t tl = 0;
    const uint8_t *t2;

    if (*reopened || cl_relay_session_state(cl_dev_session(&g.dev)) != CL_RELAY_ST_OPEN)
        return;
    t2 = cl_relay_session_token(cl_dev_session(&g.dev), &tl);
    *reopened = true;
    *tries = 0;
    if (t2 != NULL && tl == tok_len && tl > 0 && memcmp(t2, tok, tl) == 0)
        logf_("relay session resumed");
    else
        logf_("the server started a fresh session (an outstanding request comes again "
              "under its transaction id)");
}

static int run(void)
{
    uint8_t rx[2048];
    bool closing = false, card_seen = false, session_seen = false, reopened = true;
    uint8_t tok[CL_RELAY_TOKEN_MAX];
    size_t tok_len = 0;
    unsigned tries = 0;
    uint32_t close_at = 0;
    int rc;

    rc = cl_dev_net_up(&g.dev, cl_posix_ms_now());
    if (rc != CL_OK) {
        logf_("relay session: %s", cl_strerror(rc));
        return 1;
    }
    for (;;) {
        bool progress, lost = false;
        struct pollfd pf[2];
        nfds_t nf = 0;
        uint32_t now, t, tu;
        unsigned w;

        do {
            int h;

            progress = false;
            while (card_step())
                progress = true;
            if (!card_seen && cl_dev_card_active(&g.dev)) {
                const struct cl_atr *atr = cl_dev_card_atr(&g.dev);
                const struct cl_card_line_params *lp = cl_dev_card_params(&g.dev);
                char ah[2 * CL_ATR_MAX + 1];

                card_seen = true;
                hex_short(atr ? atr->raw : NULL, atr ? atr->len : 0, ah, sizeof(ah));
                logf_("card active: ATR %s, T=%d, F=%u D=%u", ah, cl_dev_card_protocol(&g.dev),
                      lp ? lp->f : 0u, lp ? lp->d : 0u);
            }
            h = holder_step();
            if (h < 0)
                return 1;
            if (h > 0)
                progress = true;
            if (!closing) {
                int s = net_send_step();

                if (s < 0) {
                    logf_("connection lost while sending: %s", cl_strerror(s));
                    cl_dev_net_down(&g.dev, cl_posix_ms_now());
                    lost = true;
                    break;
                }
                if (s > 0)
                    progress = true;
                for (;;) {
                    int r = g.net.ops->recv(g.net.ctx, rx, sizeof(rx));

                    if (r == CL_ERR_AGAIN)
                        break;
                    if (r <= 0) {
                        if (r == 0)
                            logf_("the server closed the connection");
                        else
                            logf_("the connection ended: %s", cl_strerror(r));
                        cl_dev_net_down(&g.dev, cl_posix_ms_now());
                        log_progress();
                        /* an orderly end (close_notify) or one after the
                         * session's CLOSE is the server's; any other is not */
                        if (r == 0 || cl_relay_session_state(cl_dev_session(&g.dev)) ==
                                      CL_RELAY_ST_CLOSED)
                            return 0;
                        lost = true;
                        break;
                    }
                    trace_bytes('<', rx, (size_t)r);
                    progress = true;
                    r = cl_dev_net_feed(&g.dev, cl_posix_ms_now(), rx, (size_t)r);
                    note_reopen(&reopened, &tries, tok, tok_len);
                    if (r < 0) {
                        const struct cl_relay_session *rs = cl_dev_session(&g.dev);

                        if (cl_relay_session_state(rs) == CL_RELAY_ST_CLOSED &&
                            cl_relay_session_error(rs) == CL_OK)
                            logf_("the server ended the session (CLOSE)");
                        else
                            logf_("relay session failed: %s", cl_strerror(r));
                        closing = true;
                        close_at = cl_posix_ms_now();
                        break;
                    }
                }
                if (lost)
                    break;
            }
            note_reopen(&reopened, &tries, tok, tok_len);
            if (!session_seen &&
                cl_relay_session_state(cl_dev_session(&g.dev)) == CL_RELAY_ST_OPEN) {
                session_seen = true;
                logf_("relay session open as \"%s\"", g.id);
                /* The card is activated once the session is open, so that
                 * the log reads in order; lib/device would also tell the
                 * server CARD-INSERTED for a card activated earlier, when
                 * the session opens (once per session). */
#ifdef CL_HAVE_PCSC
                if (g.is_pcsc)   /* the slot watcher inserts the card */
                    cl_pcsc_dev_arm(&g.pcsc);
#endif
                rc = g.is_pcsc ? CL_OK : cl_dev_card_inserted(&g.dev, cl_posix_ms_now());
                if (rc != CL_OK) {
                    logf_("card: %s", cl_strerror(rc));
                    return 1;
                }
                progress = true;
            }
            now = cl_posix_ms_now();
            if (cl_dev_timer(&g.dev, now) == 0) {
                rc = cl_dev_timeout(&g.dev, now);
                (void)rc;
                progress = true;
            }
            log_progress();
        } while (progress && !stop_signal);

        if (stop_signal) {
            logf_("stopped by signal %d", (int)stop_signal);
            return 1;
        }
        w = cl_dev_wants(&g.dev);
        if (!lost && !closing && (w & CL_DEV_W_NET_DROP) && g.reconnect > 0) {
            logf_("the link is dead (no answer from the server)");
            cl_dev_net_down(&g.dev, cl_posix_ms_now());
            lost = true;
        }
        if (lost) {
            const uint8_t *t2;

            if (g.reconnect == 0)
                return 1;
            tok_len = 0;
            t2 = cl_relay_session_token(cl_dev_session(&g.dev), &tok_len);
            if (t2 != NULL && tok_len <= sizeof(tok))
                memcpy(tok, t2, tok_len);
            else
                tok_len = 0;
            if (reconnect(&tries, true) != CL_OK)
                return 1;
            reopened = false;
            continue;
        }
        if (w & CL_DEV_W_FAILED) {
            logf_("device failed: %s", cl_strerror(cl_dev_error(&g.dev)));
            return 1;
        }
        if (closing) {
            /* the session ended: what it still has to say goes out, then
             * the connection closes */
            int s;

            do
                s = net_send_step();
            while (s > 0);
            if (cl_posix_ms_now() - close_at > 200)
                return 0;
        } else if (w & CL_DEV_W_NET_DROP) {
            logf_("the link is dead (no answer from the server)");
            return 1;
        }
        now = cl_posix_ms_now();
        t = cl_dev_timer(&g.dev, now);
        if (g.ui.ops->timer != NULL && !g.ui_done) {
            tu = g.ui.ops->timer(g.ui.ctx, now);
            if (tu < t)
                t = tu;
        }
        if (closing && t > 50)
            t = 50;
        if (g.is_pcsc && t > 100)
            t = 100;   /* the slot watcher looks at least every 100 ms */
        if (!closing) {
            int fd = g.net.ops->fd(g.net.ctx);
            unsigned nw = g.net.ops->want(g.net.ctx);

            if (fd >= 0) {
                pf[nf].fd = fd;
                pf[nf].events = POLLIN;
                if ((nw & CL_NET_WANT_WRITE) && (w & CL_DEV_W_NET_SEND))
                    pf[nf].events |= POLLOUT;
                pf[nf].revents = 0;
                nf++;
            }
        }
        if (!g.scripted && !g.ui_done && g.ui.ops->fd != NULL) {
            int fd = g.ui.ops->fd(g.ui.ctx);

            if (fd >= 0) {
                pf[nf].fd = fd;
                pf[nf].events = POLLIN;
                pf[nf].revents = 0;
                nf++;
            }
        }
        if (poll(pf, nf, t == CL_TIMER_NONE ? 1000 : (int)(t > 1000 ? 1000 : t)) < 0 &&
            errno != EINTR) {
            logf_("poll: %s", strerror(errno));
            return 1;
        }
    }
}

/* The gate's ports: the host's clock, the file actuator with a log line. */
static uint32_t gate_wall(void *ctx)
{
    uint64_t t = cl_posix_time_now();
    (void)ctx;
    return t > 0xFFFFFFFFu ? 0 : (uint32_t)t;
}

static int gate_act(void *ctx, uint16_t action, uint32_t hold_ms)
{
    int rc = cl_actuator_file_act(ctx, action, hold_ms);

    if (rc == CL_OK)
        logf_("ACTION %u performed%s", (unsigned)action, action == 1 ? " (door)" : "");
    else
        logf_("ACTION %u not performed: %s", (unsigned)action, cl_strerror(rc));
    return rc;
}

/* ------------------------------------------------------------ validator */

/*
 * --validate: the device as an offline ticket validator (docs/device.md
 * "Tickets"): no server, no holder. The card is activated, cl_dev_validate
 * runs once with the issuer key of DIR/issuer.der, the card line is driven
 * until cl_dev_ticket_result says the validation ended. One line on
 * stdout; exit 0 when a ticket was used now, 1 otherwise.
 */
static int validate_main(void)
{
    struct cl_dev_config cfg;
    struct cl_dev_ticket_cfg tc;
    struct cl_dev_ticket res;
    struct blob issuer;
    uint64_t wall = cl_posix_time_now();
    uint32_t t0;
    size_t idl = strlen(g.id);
    char idh[2 * 8 + 1], serial[2 * 8 + 1];
    int rc, status = 1;
    bool started = false;

    memset(&tc, 0, sizeof(tc));
    memset(&res, 0, sizeof(res));
    if (load(g.pki, "issuer.der", &issuer, true) != CL_OK)
        return 1;
    rc = cl_posix_crypto_pub_from_der(issuer.b, issuer.len, tc.issuer_pub);
    if (rc != CL_OK) {
        fprintf(stderr, PROG ": %s/issuer.der: no P-256 public key (%s)\n", g.pki,
                cl_strerror(rc));
        return 1;
    }
    tc.verify = cl_posix_crypto_verify;
    /* the USE challenge: this validator's id and the time (the receipt
     * names the gate and the moment) */
    memcpy(tc.challenge, g.id, idl);
    for (rc = 0; rc < 8; rc++)
        tc.challenge[idl + (size_t)rc] = (uint8_t)(wall >> (56 - 8 * rc));
    tc.challenge_len = (uint8_t)(idl + 8);

    if (card_open(g.card_spec) != CL_OK)
        return 1;
    memset(&cfg, 0, sizeof(cfg));
    cfg.relay.device_id = (const uint8_t *)g.id;
    cfg.relay.device_id_len = idl;
    cfg.relay.software = PROG " " CL_TOOL_VERSION;   /* no server: features 0 */
    cfg.policy.flags = CL_POLICY_F_CARDLINK;
    cl_card_config_default(&cfg.card);
    cfg.line = g.line;
    cfg.line_ctx = g.line_ctx;
    cfg.apdu_card = g.is_pcsc;
    cfg.hash.digest = cl_dev_hash_sha256;
    cl_dev_init(&g.dev);
    rc = cl_dev_setup(&g.dev, &cfg);
    if (rc != CL_OK) {
        logf_("set-up failed: %s", cl_strerror(rc));
        card_close();
        return 1;
    }
    logf_("validator %s, card on %s, issuer key from %s/issuer.der", g.id, g.card_spec, g.pki);
#ifdef CL_HAVE_PCSC
    if (g.is_pcsc)   /* the slot watcher inserts the card */
        cl_pcsc_dev_arm(&g.pcsc);
#endif
    rc = g.is_pcsc ? CL_OK : cl_dev_card_inserted(&g.dev, cl_posix_ms_now());
    /* the card's activation, then the validation, on the card line's events */
    t0 = cl_posix_ms_now();
    while (rc == CL_OK && !stop_signal) {
        uint32_t now = cl_posix_ms_now(), t;

        if (now - t0 > 20000) {
            rc = CL_ERR_TIMEOUT;
            break;
        }
        if (!started) {
            rc = cl_dev_validate(&g.dev, now, &tc);
            started = rc == CL_OK;
            if (rc == CL_ERR_STATE)   /* the card is not active yet */
                rc = CL_OK;
        } else if (cl_dev_ticket_result(&g.dev, &res) == CL_OK) {
            break;
        }
        if (cl_dev_wants(&g.dev) & CL_DEV_W_FAILED) {
            rc = cl_dev_error(&g.dev);
            break;
        }
        if (!card_step()) {
            t = cl_dev_timer(&g.dev, now);
            if (t == 0) {
                int r = cl_dev_timeout(&g.dev, now);
                (void)r;
            } else {
                poll(NULL, 0, t == CL_TIMER_NONE || t > 10 ? 10 : (int)t);
            }
        }
    }
    if (rc != CL_OK || stop_signal) {
        printf("validator: no validation: %s\n",
               stop_signal ? "stopped by a signal" : cl_strerror(rc));
    } else if (res.err == CL_OK) {
        hex_short(res.payload, res.payload_len < 8 ? res.payload_len : 8, idh, sizeof(idh));
        hex_short(res.serial, 8, serial, sizeof(serial));
        printf("validator: ticket %s accepted, used now (card %s, record %u, receipt %u bytes)\n",
               idh, serial, (unsigned)res.rec, (unsigned)res.receipt_len);
        status = 0;
    } else {
        const char *why = res.err == CL_ERR_DUPLICATE   ? "already used"
                          : res.err == CL_ERR_SIGNATURE ? "forged"
                          : res.err == CL_ERR_NOT_FOUND ? "none"
                                                        : cl_strerror(res.err);

        if (res.err == CL_ERR_SW)
            printf("validator: no usable ticket: %s (SW %04X)\n", why, (unsigned)res.sw);
        else
            printf("validator: no usable ticket: %s\n", why);
    }
    cl_dev_free(&g.dev);
    card_close();
    return status;
}

static int opt_value(int argc, char **argv, int *i, const char **out)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, PROG ": %s needs a value\n", argv[*i]);
        return -1;
    }
    *out = argv[++*i];
    return 0;
}

int main(int argc, char **argv)
{
    struct cl_dev_config cfg;
    const char *id = "CL-0001";
    int i, rc, status;
    struct sigaction sa;
    bool validate = false;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--version") == 0) {
            printf(PROG " " CL_TOOL_VERSION "\n");
            return 0;
        }
        if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
            g.verbose = true;
        else if (strcmp(a, "--card") == 0 || strcmp(a, "--reader") == 0) {
            if (opt_value(argc, argv, &i, &g.card_spec))
                return 2;
        } else if (strcmp(a, "--server") == 0) {
            if (opt_value(argc, argv, &i, &g.server))
                return 2;
        } else if (strcmp(a, "--pki") == 0) {
            if (opt_value(argc, argv, &i, &g.pki))
                return 2;
        } else if (strcmp(a, "--store") == 0) {
            if (opt_value(argc, argv, &i, &g.store_dir))
                return 2;
        } else if (strcmp(a, "--ui") == 0) {
            if (opt_value(argc, argv, &i, &g.ui_spec))
                return 2;
        } else if (strcmp(a, "--id") == 0) {
            if (opt_value(argc, argv, &i, &id))
                return 2;
        } else if (strcmp(a, "--trace") == 0) {
            if (opt_value(argc, argv, &i, &g.trace_path))
                return 2;
        } else if (strcmp(a, "--validate") == 0) {
            validate = true;
        } else if (strcmp(a, "--actuator") == 0) {
            if (opt_value(argc, argv, &i, &g.actuator_path))
                return 2;
        } else if (strcmp(a, "--reconnect") == 0) {
            const char *v;
            char *end;
            unsigned long n;

            if (opt_value(argc, argv, &i, &v))
                return 2;
            n = strtoul(v, &end, 10);
            if (*v == '\0' || *end != '\0' || n > 1000) {
                fprintf(stderr, PROG ": --reconnect takes 0..1000\n");
                return 2;
            }
            g.reconnect = (unsigned)n;
        } else {
            fprintf(stderr, PROG ": unknown argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (validate) {
        if (g.card_spec == NULL || g.pki == NULL) {
            fprintf(stderr, PROG ": --validate needs --card and --pki\n");
            usage(stderr);
            return 2;
        }
        if (strlen(id) < 1 || strlen(id) > 32) {
            fprintf(stderr, PROG ": --id takes 1..32 characters\n");
            return 2;
        }
        snprintf(g.id, sizeof(g.id), "%s", id);
        g.log = stdout;
        setvbuf(stdout, NULL, _IOLBF, 0);
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        return validate_main();
    }
    if (g.card_spec == NULL || g.server == NULL || g.pki == NULL || g.store_dir == NULL) {
        fprintf(stderr, PROG ": --card, --server, --pki and --store are required\n");
        usage(stderr);
        return 2;
    }
    if (strlen(id) < 1 || strlen(id) > 32) {
        fprintf(stderr, PROG ": --id takes 1..32 characters\n");
        return 2;
    }
    snprintf(g.id, sizeof(g.id), "%s", id);
    if (g.ui_spec == NULL || strcmp(g.ui_spec, "term") == 0) {
        g.scripted = false;
    } else if (strncmp(g.ui_spec, "script:", 7) == 0 && g.ui_spec[7] != '\0') {
        g.scripted = true;
    } else {
        fprintf(stderr, PROG ": --ui takes term or script:FILE\n");
        return 2;
    }
    g.log = g.scripted ? stdout : stderr;
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* identity and trust */
    if (load(g.pki, "device.der", &g.dev_cert, true) != CL_OK ||
        load(g.pki, "device.key.der", &g.dev_key, true) != CL_OK ||
        load(g.pki, "server-ca.der", &g.server_ca, true) != CL_OK)
        return 1;
    if (load(g.pki, "root.der", &g.root, false) != CL_OK)
        g.root.len = 0;
    if (g.actuator_path != NULL &&
        (load(g.pki, "gate.pub", &g.gate_pub, true) != CL_OK || g.gate_pub.len != 65 ||
         g.gate_pub.b[0] != 0x04)) {
        fprintf(stderr, PROG ": --actuator needs %s/gate.pub (65 bytes, 04 X Y)\n", g.pki);
        return 1;
    }
    g.chain[0].der = g.dev_cert.b;
    g.chain[0].len = g.dev_cert.len;
    g.anchors[0].der = g.server_ca.b;
    g.anchors[0].len = g.server_ca.len;
    g.anchors[1].der = g.root.b;
    g.anchors[1].len = g.root.len;

    if (g.trace_path != NULL) {
        g.trace = fopen(g.trace_path, "w");
        if (g.trace == NULL) {
            fprintf(stderr, PROG ": %s: %s\n", g.trace_path, strerror(errno));
            return 1;
        }
    }

    /* the store */
    cl_store_file_init(&g.store);
    rc = cl_store_file_open(&g.store, g.store_dir);
    if (rc != CL_OK) {
        fprintf(stderr, PROG ": store %s: %s\n", g.store_dir, cl_strerror(rc));
        return 1;
    }

    /* the holder */
    if (g.scripted) {
        rc = cl_ui_script_load(&g.script, NULL, g.ui_spec + 7);
        if (rc != CL_OK) {
            fprintf(stderr, PROG ": holder script %s: %s%s%s\n", g.ui_spec + 7,
                    cl_strerror(rc), cl_ui_script_error(&g.script) ? ": " : "",
                    cl_ui_script_error(&g.script) ? cl_ui_script_error(&g.script) : "");
            cl_store_file_close(&g.store);
            return 1;
        }
        g.ui = cl_ui_script_ui(&g.script);
    } else {
        rc = cl_ui_term_open(&g.term, 0, 1, 20, 4);
        if (rc != CL_OK) {
            fprintf(stderr, PROG ": terminal: %s\n", cl_strerror(rc));
            cl_store_file_close(&g.store);
            return 1;
        }
        g.ui = cl_ui_term_ui(&g.term);
    }
    g.ui_open = true;
    g.ui.ops->caps(g.ui.ctx, &g.caps);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    status = 1;
    if (card_open(g.card_spec) != CL_OK)
        goto out_ui;

    memset(&cfg, 0, sizeof(cfg));
    cfg.relay.device_id = (const uint8_t *)g.id;
    cfg.relay.device_id_len = strlen(g.id);
    cfg.relay.caps.features = CL_RELAY_FEAT_RESUME | CL_RELAY_FEAT_TXN | CL_RELAY_FEAT_SCRIPT;
    cfg.relay.software = PROG " " CL_TOOL_VERSION;
    cfg.relay.ack_delay_ms = 1;
    cfg.policy.flags = CL_POLICY_F_CARDLINK;
    cl_card_config_default(&cfg.card);
    cfg.line = g.line;
    cfg.line_ctx = g.line_ctx;
    cfg.apdu_card = g.is_pcsc;   /* a PC/SC reader: APDU-level */
    cfg.hash.digest = cl_dev_hash_sha256;
    cfg.store = cl_store_file_port();
    cfg.store_ctx = &g.store;
    cfg.cols = g.caps.cols;
    cfg.rows = g.caps.rows;
    if (g.actuator_path != NULL) {
        cl_actuator_file_init(&g.act, g.actuator_path, 0);
        memcpy(cfg.gate.pub, g.gate_pub.b, 65);
        cfg.gate.verify = cl_posix_crypto_verify;
        cfg.gate.actuator.act = gate_act;
        cfg.gate.actuator.ctx = &g.act;
        cfg.gate.wall_s = gate_wall;
        cfg.gate.skew_s = 60;
    }
    cl_dev_init(&g.dev);
    rc = cl_dev_setup(&g.dev, &cfg);
    if (rc != CL_OK) {
        logf_("set-up failed: %s", cl_strerror(rc));
        goto out_card;
    }
    logf_("%s, card on %s, store %s, holder %s", g.id, g.card_spec, g.store_dir,
          g.scripted ? g.ui_spec : "on this terminal");
    {
        unsigned tries = 0;

        /* the first connection is retried as a lost one (--reconnect) */
        if (tls_connect() == CL_OK || (g.reconnect > 0 && reconnect(&tries, false) == CL_OK))
            status = run();
    }
    if (g.scripted && status == 0 && !cl_ui_script_done(&g.script)) {
        logf_("the holder's script did not run to its end");
        status = 1;
    }
    {
        const struct cl_dev_stats *s = cl_dev_stats(&g.dev);

        logf_("done: %u request(s), %u refused, %u APDU(s), %u approval(s), %u record(s)",
              s->requests, s->denied, s->apdus, s->confirms, s->records);
    }
    cl_dev_free(&g.dev);
out_card:
    if (g.tls_set) {
        cl_mtls_free(&g.tls);
        g.tls_set = false;
    }
    card_close();
out_ui:
    g.ui.ops->close(g.ui.ctx);
    if (g.scripted)
        cl_ui_script_free(&g.script);
    g.ui_open = false;
    cl_store_file_close(&g.store);
    if (g.trace != NULL)
        fclose(g.trace);
    cl_wipe(&g.dev_key, sizeof(g.dev_key));
    return status;
}
