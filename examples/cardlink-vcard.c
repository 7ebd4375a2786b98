/*
 * cardlink-vcard — a simulated smart card on a virtual card line.
 * SPDX-License-Identifier: Apache-2.0
 *
 *   cardlink-vcard --line SPEC [options]
 *
 * Listens on the virtual card line SPEC (ports/posix/vline.h,
 * docs/porting.md: "tcp:HOST:PORT", "unix:/PATH" or "pty"), prints the name
 * the device end connects to as the first line on stdout ("line
 * tcp:127.0.0.1:40123", "line pty:/dev/pts/5"), accepts one device at a
 * time and serves the card simulator (cardlink/sim.h) to it:
 *
 *   COLD_RESET, WARM_RESET  cl_sim_reset(), the ATR follows as DATA
 *   DATA                    cl_sim_feed(); the card's answer goes out as DATA
 *   PARITY_ERROR            the next byte fed carries a parity error
 *   CLOCK                   cl_sim_clock() (a mismatch with the PPS is logged)
 *   POWER_OFF               cl_sim_power_off()
 *
 * CARD_INSERTED is sent when a device connects. The card's outgoing
 * characters pass through the fault injector (cardlink/fault.h): a byte
 * marked with a parity error goes out as PARITY_ERROR then DATA, and when
 * the injector pulls the card CARD_REMOVED is sent and the card stays out
 * until the device connects again (a new connection is a new insertion).
 *
 * Timing. The virtual line carries no time: the only timer the card runs is
 * the T=1 character waiting time inside a block the device is sending
 * (cl_sim_timer()). It is converted to milliseconds with rate.h at the
 * F and D in use and the clock of the device's last CLOCK frame (3.571 MHz
 * until one arrives), then raised to --min-wait (default 100 ms): on a host
 * a few milliseconds of scheduling jitter must not cut a block that a real
 * UART would have delivered at once.
 *
 * vpcd mode (--vpcd HOST:PORT instead of --line): the card is a virtual
 * ICC of vsmartcard's vpcd, the PC/SC reader driver of pcscd
 * (vsmartcard-vpcd: pcscd listens for virtual cards on port 35963). The
 * program connects to HOST:PORT and answers vpcd's messages, each a 2-byte
 * big-endian length and that many bytes: 00 power off, 01 power on, 02
 * reset (no answer; the application's security state is cleared), 04 get
 * ATR (answered with length + the configured ATR), anything longer a
 * command APDU (answered with length + response). The reader does the
 * transport, so the line options (PPS, --slow's NULL bytes, --fault) do
 * not apply; the application (file system, --fs FILE or --applet) is the
 * same. A
 * card whose ATR offers T=0 only answers as a T=0 card behind an
 * APDU-level reader does (ISO 7816-3 §12.2, cardlink/t0.h card role):
 * response data of a case 4 command is announced with 61xx and fetched
 * with GET RESPONSE, a case 2 command whose Le is not the data length is
 * answered 6Cxx; extended APDUs go to the application as they are. When
 * vpcd drops the connection (pcscd restarted) the card connects again
 * every half second. The first line on stdout, once connected, is
 * "vpcd HOST:PORT".
 *
 * The card runs the file-system application of lib/sim (default files, or
 * --fs FILE: the files described in FILE, docs/vcard.md; a mistake in it
 * ends the program with "FILE:LINE: what" and exit status 2) or, with
 * --applet IMAGE, the applet of lib/applet.
 *
 * One log line per event on stderr unless -q; vpcd's ATR requests (pcscd's
 * presence poll, several a second) only with -v. SIGINT and SIGTERM end the
 * program cleanly (exit 0); so does the end of the first connection with
 * --once. Exit status 1 on a line error, 2 on a usage error.
 */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE 1

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cardlink/apdu.h"
#include "cardlink/atr.h"
#include "cardlink/error.h"
#include "cardlink/fault.h"
#include "cardlink/rate.h"
#include "cardlink/sim.h"
#include "vline.h"
#include "vpcd.h"

#ifndef CL_VCARD_APPLET
#define CL_VCARD_APPLET 0
#endif
#if CL_VCARD_APPLET
#include <fcntl.h>

#include "applet_crypto.h"
#include "cardlink/applet.h"
#include "cardlink/wipe.h"
#endif

#define PROG "cardlink-vcard"
/* Default clock of the virtual line until the device sends CLOCK (kHz). */
#define VC_CLOCK_KHZ 3571u
/* How often the loop looks at the stop flag when nothing happens (ms). */
#define VC_TICK_MS 100

#ifndef CL_TOOL_VERSION
#define CL_TOOL_VERSION "unknown"
#endif

static const char usage_text[] =
    "usage: " PROG " --line SPEC [options]\n"
    "       " PROG " --vpcd HOST:PORT [options]\n"
    "       " PROG " --help | --version\n"
    "  --line SPEC        tcp:HOST:PORT (PORT 0: any), unix:/PATH or pty\n"
    "  --vpcd HOST:PORT   be a virtual card of vsmartcard's vpcd (pcscd's\n"
    "                     virtual reader; its default port is 35963)\n"
    "  --atr t0|t1|both   protocols offered (default t1)\n"
    "  --edc lrc|crc      T=1 error detection code (default lrc)\n"
    "  --ifsc N           T=1 IFSC, 1..254 (default 254)\n"
    "  --bwi N, --cwi N   T=1 BWI 0..9 (default 4), CWI 0..15 (default 5)\n"
    "  --ta1 HEX          TA1 (Fi/Di indices, default 96; 'none' omits it)\n"
    "  --tc1 N            TC1 extra guard time\n"
    "  --wi N             TC2 work waiting integer (T=0), 1..255\n"
    "  --inverse          inverse convention (TS 3F)\n"
    "  --specific T       specific mode: TA2 names protocol T (no PPS)\n"
    "  --pps accept|default|mute  answer to a PPS request (default accept)\n"
    "  --slow N           the application is busy N times before each answer\n"
    "                     (T=0 NULL bytes, T=1 S(WTX) requests)\n"
    "  --wtx N            T=1 WTX multiplier asked when busy (default 1)\n"
    "  --fault LIST       comma-separated: corrupt=R,drop=R,insert=R,parity=R\n"
    "                     (R per 10,000 bytes, or a percentage such as 1%%),\n"
    "                     seed=N, pull-after=N, mute-after=N (card bytes),\n"
    "                     bad-tck, sblock-after=N (T=1 commands)\n"
    "  --applet IMAGE     run the applet in IMAGE instead of the file system\n"
    "  --fs FILE          the file system described in FILE (docs/vcard.md)\n"
    "                     instead of the default one\n"
    "  --min-wait MS      least card-side waiting time (default 100)\n"
    "  --once             serve one connection, then exit\n"
    "  -v                 log more: vpcd's ATR requests (pcscd's presence\n"
    "                     polls, several a second) too\n"
    "  -q                 no log on stderr\n"
    "  -h, --help         this text; --version: the program's version\n";

struct vc_opts {
    const char *line;
    const char *vpcd;           /* --vpcd HOST:PORT */
    const char *applet;         /* --applet IMAGE, NULL: file-system app */
    const char *fs;             /* --fs FILE: the file system's description */
    struct cl_sim_config sim;
    struct cl_fault_config fault;
    uint16_t slow;
    unsigned min_wait_ms;
    bool once;
    bool quiet;
    bool verbose;               /* -v */
};

static volatile sig_atomic_t stop_flag;
static bool quiet;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static void logf_(const char *fmt, ...);

static void logf_(const char *fmt, ...)
{
    va_list ap;
    if (quiet)
        return;
    va_start(ap, fmt);
    fputs(PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Log bytes as hex: "tag N: AA BB ..." (at most 48 bytes shown). */
static void log_bytes(const char *tag, const uint8_t *p, size_t n)
{
    char line[48 * 3 + 8];
    size_t i, k = n > 48 ? 48 : n, o = 0;
    if (quiet)
        return;
    for (i = 0; i < k; i++)
        o += (size_t)snprintf(line + o, sizeof(line) - o, "%s%02X",
                              i ? " " : "", p[i]);
    if (k < n)
        snprintf(line + o, sizeof(line) - o, " ...");
    logf_("%s %zu: %s", tag, n, line);
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* ------------------------------------------------------------ options */

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    unsigned long v;
    if (s == NULL || *s == '\0' || *s == '-')
        return false;
    errno = 0;
    v = strtoul(s, &end, 0);
    if (errno != 0 || *end != '\0' || v > max)
        return false;
    *out = v;
    return true;
}

/* A rate: an integer per 10,000 bytes, or a percentage ("1%", "0.5%"). */
static bool parse_rate(const char *s, uint16_t *out)
{
    size_t n = strlen(s);
    unsigned long v;
    if (n > 1 && s[n - 1] == '%') {
        char buf[32], *end;
        double d;
        if (n >= sizeof(buf))
            return false;
        memcpy(buf, s, n - 1);
        buf[n - 1] = '\0';
        d = strtod(buf, &end);
        if (*end != '\0' || !(d >= 0.0) || d > 100.0)
            return false;
        *out = (uint16_t)(d * 100.0 + 0.5);
        return true;
    }
    if (!parse_uint(s, 10000, &v))
        return false;
    *out = (uint16_t)v;
    return true;
}

static bool parse_fault(struct vc_opts *o, const char *list)
{
    char buf[256], *tok, *save = NULL;
    if (strlen(list) >= sizeof(buf))
        return false;
    strcpy(buf, list);
    for (tok = strtok_r(buf, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        char *val = strchr(tok, '=');
        unsigned long v;
        if (val != NULL)
            *val++ = '\0';
        if (strcmp(tok, "bad-tck") == 0 && val == NULL) {
            o->sim.bad_tck = true;
            continue;
        }
        if (val == NULL)
            return false;
        if (strcmp(tok, "corrupt") == 0) {
            if (!parse_rate(val, &o->fault.corrupt))
                return false;
        } else if (strcmp(tok, "drop") == 0) {
            if (!parse_rate(val, &o->fault.drop))
                return false;
        } else if (strcmp(tok, "insert") == 0) {
            if (!parse_rate(val, &o->fault.insert))
                return false;
        } else if (strcmp(tok, "parity") == 0) {
            if (!parse_rate(val, &o->fault.parity))
                return false;
        } else if (strcmp(tok, "seed") == 0 && parse_uint(val, 0xFFFFFFFFul, &v)) {
            o->fault.seed = (uint32_t)v;
        } else if (strcmp(tok, "pull-after") == 0 &&
                   parse_uint(val, 0xFFFFFFFFul, &v)) {
            o->fault.pull_after = (uint32_t)v;
        } else if (strcmp(tok, "mute-after") == 0 &&
                   parse_uint(val, 0xFFFFFFFFul, &v)) {
            o->fault.mute_after = (uint32_t)v;
        } else if (strcmp(tok, "sblock-after") == 0 &&
                   parse_uint(val, 0xFFFF, &v)) {
            o->sim.sblock_after = (uint16_t)v;
        } else {
            return false;
        }
    }
    return true;
}

static int bad_opt(const char *opt, const char *val)
{
    fprintf(stderr, PROG ": bad value for %s: '%s'\n", opt, val ? val : "");
    fputs(usage_text, stderr);
    return 2;
}

/* Parse argv into o. Returns 0, or the exit status for a usage error. */
static int parse_args(int argc, char **argv, struct vc_opts *o)
{
    int i;
    uint16_t protos = CL_ATR_B_T1;
    bool crc = false, no_ta1 = false;
    unsigned long v;

    memset(o, 0, sizeof(*o));
    cl_sim_config_default(&o->sim, true);
    o->min_wait_ms = 100;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = true;
        if (strcmp(a, "--once") == 0) {
            o->once = true;
            takes = false;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            o->quiet = true;
            takes = false;
        } else if (strcmp(a, "--inverse") == 0) {
            o->sim.atr.opts |= CL_ATR_B_INVERSE;
            takes = false;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            o->verbose = true;
            takes = false;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage_text, stdout);
            exit(0);
        } else if (strcmp(a, "--version") == 0) {
            fputs(PROG " " CL_TOOL_VERSION "\n", stdout);
            exit(0);
        } else if (val == NULL) {
            return bad_opt(a, NULL);
        } else if (strcmp(a, "--line") == 0) {
            o->line = val;
        } else if (strcmp(a, "--vpcd") == 0) {
            if (strrchr(val, ':') == NULL || strrchr(val, ':') == val)
                return bad_opt(a, val);
            o->vpcd = val;
        } else if (strcmp(a, "--applet") == 0) {
            o->applet = val;
        } else if (strcmp(a, "--fs") == 0) {
            o->fs = val;
        } else if (strcmp(a, "--atr") == 0) {
            if (strcmp(val, "t0") == 0)
                protos = CL_ATR_B_T0;
            else if (strcmp(val, "t1") == 0)
                protos = CL_ATR_B_T1;
            else if (strcmp(val, "both") == 0)
                protos = CL_ATR_B_T0 | CL_ATR_B_T1;
            else
                return bad_opt(a, val);
        } else if (strcmp(a, "--edc") == 0) {
            if (strcmp(val, "lrc") == 0)
                crc = false;
            else if (strcmp(val, "crc") == 0)
                crc = true;
            else
                return bad_opt(a, val);
        } else if (strcmp(a, "--ifsc") == 0) {
            if (!parse_uint(val, 254, &v) || v == 0)
                return bad_opt(a, val);
            o->sim.atr.ifsc = (uint8_t)v;
        } else if (strcmp(a, "--bwi") == 0) {
            if (!parse_uint(val, 9, &v))
                return bad_opt(a, val);
            o->sim.atr.bwi = (uint8_t)v;
        } else if (strcmp(a, "--cwi") == 0) {
            if (!parse_uint(val, 15, &v))
                return bad_opt(a, val);
            o->sim.atr.cwi = (uint8_t)v;
        } else if (strcmp(a, "--ta1") == 0) {
            char *end;
            if (strcmp(val, "none") == 0) {
                no_ta1 = true;
            } else {
                v = strtoul(val, &end, 16);
                if (*val == '\0' || *end != '\0' || v > 0xFF)
                    return bad_opt(a, val);
                o->sim.atr.ta1 = (uint8_t)v;
                no_ta1 = false;
            }
        } else if (strcmp(a, "--tc1") == 0) {
            if (!parse_uint(val, 255, &v))
                return bad_opt(a, val);
            o->sim.atr.opts |= CL_ATR_B_TC1;
            o->sim.atr.n = (uint8_t)v;
        } else if (strcmp(a, "--wi") == 0) {
            if (!parse_uint(val, 255, &v) || v == 0)
                return bad_opt(a, val);
            o->sim.atr.opts |= CL_ATR_B_TC2;
            o->sim.atr.wi = (uint8_t)v;
        } else if (strcmp(a, "--specific") == 0) {
            if (!parse_uint(val, 1, &v))
                return bad_opt(a, val);
            o->sim.atr.opts |= CL_ATR_B_TA2;
            o->sim.atr.ta2 = (uint8_t)v;
        } else if (strcmp(a, "--pps") == 0) {
            if (strcmp(val, "accept") == 0)
                o->sim.pps = CL_SIM_PPS_ACCEPT;
            else if (strcmp(val, "default") == 0)
                o->sim.pps = CL_SIM_PPS_DEFAULTS;
            else if (strcmp(val, "mute") == 0)
                o->sim.pps = CL_SIM_PPS_MUTE;
            else
                return bad_opt(a, val);
        } else if (strcmp(a, "--slow") == 0) {
            if (!parse_uint(val, 0xFFFF, &v))
                return bad_opt(a, val);
            o->slow = (uint16_t)v;
        } else if (strcmp(a, "--wtx") == 0) {
            if (!parse_uint(val, 255, &v) || v == 0)
                return bad_opt(a, val);
            o->sim.wtx = (uint8_t)v;
        } else if (strcmp(a, "--fault") == 0) {
            if (!parse_fault(o, val))
                return bad_opt(a, val);
        } else if (strcmp(a, "--min-wait") == 0) {
            if (!parse_uint(val, 60000, &v))
                return bad_opt(a, val);
            o->min_wait_ms = (unsigned)v;
        } else {
            fprintf(stderr, PROG ": unknown option '%s'\n", a);
            fputs(usage_text, stderr);
            return 2;
        }
        if (takes)
            i++;
    }
    if (o->fs != NULL && o->applet != NULL) {
        fputs(PROG ": --fs and --applet: one application only\n", stderr);
        fputs(usage_text, stderr);
        return 2;
    }
    if ((o->line == NULL) == (o->vpcd == NULL)) {
        fputs(PROG ": one of --line SPEC or --vpcd HOST:PORT is required\n",
              stderr);
        fputs(usage_text, stderr);
        return 2;
    }
    /* The protocol options: the T=1 bytes only when T=1 is offered. */
    o->sim.atr.opts &= (uint16_t)~(CL_ATR_B_T0 | CL_ATR_B_T1 | CL_ATR_B_IFSC |
                                   CL_ATR_B_T1_TB | CL_ATR_B_CRC);
    o->sim.atr.opts |= protos;
    if (protos & CL_ATR_B_T1) {
        o->sim.atr.opts |= CL_ATR_B_IFSC | CL_ATR_B_T1_TB;
        if (crc)
            o->sim.atr.opts |= CL_ATR_B_CRC;
    }
    if (no_ta1)
        o->sim.atr.opts &= (uint16_t)~CL_ATR_B_TA1;
    return 0;
}

/* ------------------------------------------------------- application */

/* Storage of whichever application runs; the simulator only sees the
 * struct cl_sim_app choose_app() returns. */
struct vc_app {
    struct cl_sim_fs fs;
#if CL_VCARD_APPLET
    struct cl_applet_state st;      /* the card image, persisted in path */
    struct cl_applet ap;
    struct cl_posix_crypto pc;
    struct cl_applet_crypto port;
    struct cl_applet_store store;   /* persist_image: path, atomic replace */
    const char *path;
#endif
};

#if CL_VCARD_APPLET
/* fsync the directory holding path, so that a rename in it is durable. */
static int sync_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    size_t n = slash == NULL ? 0 : (size_t)(slash - path);
    int fd, rc;

    if (n >= sizeof(dir))
        return -1;
    if (slash == NULL)
        strcpy(dir, ".");
    else if (n == 0)
        strcpy(dir, "/");
    else {
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    fd = open(dir, O_RDONLY);
    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

/* Write the image st to path.tmp, fsync, rename over path, fsync the
 * directory: a crash leaves the old image or the new one, never half of
 * one. */
static int save_image(const char *path, const struct cl_applet_state *st)
{
    static uint8_t img[CL_APPLET_IMAGE_MAX];
    char tmp[4096];
    size_t len;
    FILE *f;
    int ok;

    if (cl_applet_state_save(st, img, sizeof(img), &len) != CL_OK)
        return -1;
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "wb");
    if (!f) {
        cl_wipe(img, sizeof(img));
        return -1;
    }
    ok = fwrite(img, 1, len, f) == len && fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = (fclose(f) == 0) && ok;
    cl_wipe(img, sizeof(img));      /* it holds the PIN block and the keys */
    if (!ok || rename(tmp, path) != 0 || sync_dir(path) != 0)
        return -1;
    return 0;
}

/* The applet's store port (cardlink/applet.h): the applet calls it at each
 * point where the image must be durable before it goes on (before a PIN
 * comparison, before a receipt leaves), not once after the command. */
static int persist_image(void *ctx, const struct cl_applet_state *st)
{
    struct vc_app *a = ctx;

    if (save_image(a->path, st) != 0) {
        logf_("cannot save the card image %s", a->path);
        return CL_ERR_IO;   /* the applet answers 6581 */
    }
    return CL_OK;
}

static int applet_process(void *ctx, const uint8_t *cmd, size_t cmd_len,
                          uint8_t *resp, size_t resp_size, size_t *resp_len)
{
    struct vc_app *a = ctx;
    int rc = cl_applet_process(&a->ap, cmd, cmd_len, resp, resp_size, resp_len);

    (void)cl_applet_take_dirty(&a->ap);    /* the store saved already */
    return rc;
}

static void applet_reset(void *ctx)
{
    cl_applet_reset(&((struct vc_app *)ctx)->ap);
}

static bool applet_t0_has_data(void *ctx, const uint8_t hdr[5])
{
    return cl_applet_t0_has_data(&((struct vc_app *)ctx)->ap, hdr);
}

static int load_applet(const char *path, struct vc_app *a, struct cl_sim_app *app)
{
    static uint8_t img[CL_APPLET_IMAGE_MAX + 1];
    FILE *f = fopen(path, "rb");
    size_t len;
    int rc;

    if (!f) {
        fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
        return 1;
    }
    len = fread(img, 1, sizeof(img), f);
    fclose(f);
    cl_applet_state_init(&a->st);
    rc = len > CL_APPLET_IMAGE_MAX ? CL_ERR_TOO_LONG : cl_applet_state_load(&a->st, img, len);
    cl_wipe(img, sizeof(img));
    if (rc != CL_OK) {
        fprintf(stderr, PROG ": %s: not a card image: %s\n", path, cl_strerror(rc));
        return 1;
    }
    a->path = path;
    a->store.persist = persist_image;
    a->store.ctx = a;
    rc = cl_posix_crypto_init(&a->pc, &a->port, (const uint8_t *)path, strlen(path));
    if (rc == CL_OK)
        rc = cl_applet_init(&a->ap, &a->st, &a->port, &a->store);
    if (rc != CL_OK) {
        fprintf(stderr, PROG ": applet: %s\n", cl_strerror(rc));
        return 1;
    }
    app->process = applet_process;
    app->reset = applet_reset;
    app->t0_has_data = applet_t0_has_data;
    app->ctx = a;
    return 0;
}
#endif

/* --fs FILE: the file system described in FILE (cl_sim_fs_parse, the
 * format of docs/vcard.md). Returns 0, or the exit status (message
 * printed: FILE:LINE: what). */
#define VC_FS_TEXT_MAX (1024u * 1024u)

static int load_fs(const char *path, struct cl_sim_fs *fs, uint32_t seed,
                   uint16_t slow)
{
    static char text[VC_FS_TEXT_MAX + 1];
    struct cl_sim_fs_error err;
    FILE *f = fopen(path, "rb");
    size_t len;
    int rc;

    if (f == NULL) {
        fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
        return 1;
    }
    len = fread(text, 1, sizeof(text), f);
    rc = ferror(f);
    fclose(f);
    if (rc != 0) {
        fprintf(stderr, PROG ": %s: read error\n", path);
        return 1;
    }
    if (len > VC_FS_TEXT_MAX) {
        fprintf(stderr, PROG ": %s: longer than %u bytes\n", path,
                VC_FS_TEXT_MAX);
        return 2;
    }
    cl_sim_fs_init_empty(fs, seed, slow);
    rc = cl_sim_fs_parse(fs, text, len, &err);
    if (rc != CL_OK) {
        fprintf(stderr, PROG ": %s:%u: %s\n", path, err.line,
                err.what != NULL ? err.what : cl_strerror(rc));
        return 2;
    }
    logf_("file system from %s: %u files, %u bytes", path,
          (unsigned)fs->nfiles, (unsigned)fs->used);
    return 0;
}

/*
 * The one place the card application is chosen. Without --applet the card
 * runs the ISO 7816-4 file-system application of lib/sim (cl_sim_fs_*).
 * --applet IMAGE runs the payment/identity applet of lib/applet on the card
 * image IMAGE (made by cardlink-perso), which the applet's store port
 * rewrites (atomic replace) at each point where the card needs it durable,
 * so PIN counters, the purse and records persist and survive a kill.
 * Returns 0, or the exit status on failure (message printed).
 */
static int choose_app(const struct vc_opts *o, struct vc_app *store,
                      struct cl_sim_app *app)
{
    if (o->applet != NULL) {
#if CL_VCARD_APPLET
        return load_applet(o->applet, store, app);
#else
        fprintf(stderr, PROG ": --applet %s: built without mbedtls, no applet\n",
                o->applet);
        return 2;
#endif
    }
    if (o->fs != NULL) {
        int rc = load_fs(o->fs, &store->fs,
                         o->fault.seed != 0 ? o->fault.seed : 1u, o->slow);
        if (rc != 0)
            return rc;
    } else {
        cl_sim_fs_init(&store->fs, o->fault.seed != 0 ? o->fault.seed : 1u,
                       o->slow);
    }
    *app = cl_sim_fs_app(&store->fs);
    return 0;
}

/* --------------------------------------------------------- the server */

struct vc {
    struct cl_vline vl;
    struct cl_sim sim;
    struct cl_fault fault;
    bool pulled;            /* the injector pulled the card: out until the
                               next connection */
    bool parity_next;       /* device's PARITY_ERROR: marks the next byte */
    uint32_t clock_khz;
    long deadline;          /* card timer (ms), 0: none */
    unsigned min_wait_ms;
    struct cl_vline_event ev;
};

/* Send the card's pending output through the fault injector. */
static int flush_card(struct vc *v)
{
    while (!v->pulled && cl_sim_want(&v->sim) == CL_SIM_SEND) {
        const uint8_t *p;
        uint8_t out[256];
        struct cl_fault_item items[2 * 256 + 1];
        size_t n = cl_sim_pull(&v->sim, &p), m, i, k = 0;
        int rc;
        if (n > sizeof(out))
            n = sizeof(out);
        memcpy(out, p, n);
        if (cl_sim_sent(&v->sim, n) != CL_OK ||
            cl_fault_apply(&v->fault, out, n, items, CL_ARRAY_LEN(items), &m) !=
                CL_OK)
            return CL_ERR_INTERNAL;
        /* Re-pack the items as frames: runs of bytes as DATA, a byte with a
         * parity error as PARITY_ERROR + DATA starting with it. */
        for (i = 0; i <= m; i++) {
            bool end = i == m;
            uint8_t kind = end ? CL_FAULT_BYTE : items[i].kind;
            if ((end || kind != CL_FAULT_BYTE) && k > 0) {
                log_bytes("-> DATA", out, k);
                rc = cl_vline_send_data(&v->vl, out, k);
                if (rc != CL_OK)
                    return rc;
                k = 0;
            }
            if (end)
                break;
            if (kind == CL_FAULT_REMOVED) {
                logf_("-> CARD_REMOVED (fault: card pulled)");
                v->pulled = true;
                cl_sim_power_off(&v->sim);
                return cl_vline_send(&v->vl, CL_VLINE_CARD_REMOVED, NULL, 0);
            }
            if (kind == CL_FAULT_PARITY) {
                logf_("-> PARITY_ERROR (fault)");
                rc = cl_vline_send(&v->vl, CL_VLINE_PARITY_ERROR, NULL, 0);
                if (rc != CL_OK)
                    return rc;
            }
            out[k++] = items[i].byte;
        }
    }
    return CL_OK;
}

/* Arm or clear the card's timer after the session moved. */
static void arm_timer(struct vc *v)
{
    uint32_t etu = cl_sim_timer(&v->sim), us, ms;
    if (etu == CL_TIMER_NONE || cl_sim_want(&v->sim) != CL_SIM_RECV) {
        v->deadline = 0;
        return;
    }
    us = cl_rate_etu_to_us(etu, cl_rate_etu_ns(v->clock_khz, cl_sim_f(&v->sim),
                                               cl_sim_d(&v->sim)));
    ms = (us + 999u) / 1000u;
    if (ms < v->min_wait_ms)
        ms = v->min_wait_ms;
    v->deadline = now_ms() + (long)ms;
}

static void log_sim_state(const struct vc *v)
{
    enum cl_want w = cl_sim_want(&v->sim);
    if (w == CL_SIM_MUTE)
        logf_("card is mute until the next reset");
}

/* Handle one frame from the device. Returns CL_OK or a line error. */
static int on_frame(struct vc *v)
{
    const struct cl_vline_event *ev = &v->ev;
    int rc;
    switch (ev->type) {
    case CL_VLINE_COLD_RESET:
    case CL_VLINE_WARM_RESET:
        logf_("<- %s", cl_vline_type_name(ev->type));
        if (v->pulled) {
            logf_("no card: reset ignored");
            return CL_OK;
        }
        v->parity_next = false;
        rc = cl_sim_reset(&v->sim, ev->type == CL_VLINE_WARM_RESET);
        if (rc != CL_OK)
            return rc;
        {
            size_t n;
            const uint8_t *atr = cl_sim_atr(&v->sim, &n);
            log_bytes("ATR", atr, n);
        }
        break;
    case CL_VLINE_POWER_OFF:
        logf_("<- POWER_OFF");
        cl_sim_power_off(&v->sim);
        break;
    case CL_VLINE_PARITY_ERROR:
        logf_("<- PARITY_ERROR (next byte)");
        v->parity_next = true;
        break;
    case CL_VLINE_CLOCK: {
        uint16_t f, d;
        uint32_t hz;
        if (cl_vline_clock_parse(ev, &f, &d, &hz) != CL_OK) {
            logf_("<- CLOCK: malformed (%u bytes), ignored", (unsigned)ev->len);
            break;
        }
        if (hz >= 1000u)
            v->clock_khz = hz / 1000u;
        rc = cl_sim_clock(&v->sim, f, d);
        logf_("<- CLOCK F %u D %u %lu Hz%s", (unsigned)f, (unsigned)d,
              (unsigned long)hz,
              rc == CL_OK ? "" : ": differs from the negotiated rate");
        break;
    }
    case CL_VLINE_DATA: {
        size_t off = 0;
        log_bytes("<- DATA", ev->data, ev->len);
        if (v->pulled)
            break;
        if (v->parity_next && ev->len > 0) {
            v->parity_next = false;
            if (cl_sim_parity_error(&v->sim) != CL_OK)
                return CL_ERR_INTERNAL;
        }
        /* Feed byte-wise so the card's answer goes out as soon as it is
         * due (a half-duplex card answers before more bytes arrive). */
        while (off < ev->len) {
            rc = cl_sim_feed(&v->sim, ev->data + off, 1);
            if (rc < 0)
                return rc;
            off++;
            rc = flush_card(v);
            if (rc != CL_OK)
                return rc;
        }
        break;
    }
    default:
        logf_("<- %s (type %u), ignored", cl_vline_type_name(ev->type),
              (unsigned)ev->type);
        break;
    }
    rc = flush_card(v);
    log_sim_state(v);
    return rc;
}

static void log_stats(const struct vc *v)
{
    const struct cl_sim_stats *s = cl_sim_stats(&v->sim);
    const struct cl_fault_stats *f = cl_fault_stats(&v->fault);
    logf_("session: %lu resets, %lu PPS answered, %lu PPS ignored, %lu APDUs, "
          "%lu busy, %lu parity errors, %lu clock mismatches",
          (unsigned long)s->resets, (unsigned long)s->pps_answered,
          (unsigned long)s->pps_ignored, (unsigned long)s->apdus,
          (unsigned long)s->busy, (unsigned long)s->parity_errors,
          (unsigned long)s->clock_mismatch);
    if (f->corrupted + f->dropped + f->inserted + f->parity + f->muted + f->pulls)
        logf_("faults: %lu corrupted, %lu dropped, %lu inserted, %lu parity, "
              "%lu muted, %lu pulls",
              (unsigned long)f->corrupted, (unsigned long)f->dropped,
              (unsigned long)f->inserted, (unsigned long)f->parity,
              (unsigned long)f->muted, (unsigned long)f->pulls);
}

/* Serve one connected device until it goes away or we are told to stop.
 * Returns CL_OK (peer closed or stop) or a line error. */
static int serve(struct vc *v)
{
    int rc;
    cl_sim_power_off(&v->sim);
    cl_fault_rearm(&v->fault);
    v->pulled = false;
    v->parity_next = false;
    v->deadline = 0;
    v->clock_khz = VC_CLOCK_KHZ;
    logf_("-> CARD_INSERTED");
    rc = cl_vline_send(&v->vl, CL_VLINE_CARD_INSERTED, NULL, 0);
    if (rc != CL_OK)
        return rc == CL_ERR_CLOSED ? CL_OK : rc;
    while (!stop_flag) {
        int wait = VC_TICK_MS;
        if (v->deadline != 0) {
            long left = v->deadline - now_ms();
            if (left <= 0) {
                logf_("character waiting time expired");
                v->deadline = 0;
                if (cl_sim_timeout(&v->sim) == CL_OK) {
                    rc = flush_card(v);
                    if (rc != CL_OK)
                        break;
                    arm_timer(v);
                }
                continue;
            }
            if (left < wait)
                wait = (int)left;
        }
        rc = cl_vline_recv(&v->vl, &v->ev, wait);
        if (rc == CL_ERR_TIMEOUT)
            continue;
        if (rc == CL_ERR_CLOSED) {
            logf_("device closed the line");
            rc = CL_OK;
            break;
        }
        if (rc != CL_OK) {
            logf_("line error: %s", cl_strerror(rc));
            break;
        }
        rc = on_frame(v);
        if (rc != CL_OK) {
            logf_("error: %s", cl_strerror(rc));
            break;
        }
        arm_timer(v);
    }
    if (stop_flag)
        rc = CL_OK;
    log_stats(v);
    return rc == CL_ERR_CLOSED ? CL_OK : rc;
}

/* ------------------------------------------------------ the vpcd card */

/* The vpcd client is ports/posix/vpcd.c; here: the application and the
 * log. Pause between two connection attempts (ms). */
#define VPCD_RETRY_MS 500

struct vp_app {
    struct cl_sim_app app;
};

/* The application's answer (it may ask for more time: ask again). */
static int vp_app_process(void *ctx, const uint8_t *cmd, size_t len,
                          uint8_t *resp, size_t size, size_t *n)
{
    struct vp_app *a = ctx;
    int rc;

    do
        rc = a->app.process(a->app.ctx, cmd, len, resp, size, n);
    while (rc == CL_SIM_BUSY);
    return rc;
}

static void vp_app_reset(void *ctx)
{
    struct vp_app *a = ctx;

    if (a->app.reset != NULL)
        a->app.reset(a->app.ctx);
}

static void vp_log(void *ctx, const char *event, const uint8_t *b, size_t n)
{
    (void)ctx;
    if (b != NULL)
        log_bytes(event, b, n);
    else
        logf_("%s", event);
}

/* --vpcd: connect, serve, reconnect, until SIGINT/SIGTERM. */
static int run_vpcd(const struct vc_opts *o, const struct cl_sim_app *app,
                    const struct cl_sim *sim)
{
    static struct cl_vpcd v;
    static struct vp_app a;
    bool announced = false, waiting = false;
    int fd;

    memset(&v, 0, sizeof(v));
    a.app = *app;
    v.atr = cl_sim_atr(sim, &v.atr_len);
    v.t0 = (o->sim.atr.opts & (CL_ATR_B_T0 | CL_ATR_B_T1)) == CL_ATR_B_T0;
    v.process = vp_app_process;
    v.reset = vp_app_reset;
    v.log = vp_log;
    v.log_polls = o->verbose;
    v.ctx = &a;
    while (!stop_flag) {
        int rc;

        fd = cl_vpcd_connect(o->vpcd);
        if (fd < 0) {
            if (!waiting)
                logf_("waiting for vpcd at %s", o->vpcd);
            waiting = true;
            (void)poll(NULL, 0, VPCD_RETRY_MS);
            continue;
        }
        waiting = false;
        logf_("connected to vpcd at %s (T=%d card)", o->vpcd, v.t0 ? 0 : 1);
        if (!announced) {
            printf("vpcd %s\n", o->vpcd);
            fflush(stdout);
            announced = true;
        }
        rc = cl_vpcd_serve(&v, fd, &stop_flag, VC_TICK_MS);
        close(fd);
        if (rc == CL_OK)
            break;
        logf_("vpcd connection ended: %s", cl_strerror(rc));
        if (!stop_flag)
            (void)poll(NULL, 0, VPCD_RETRY_MS);
    }
    logf_("stopping");
    return 0;
}

static struct vc vc;
static struct vc_app vc_app;

int main(int argc, char **argv)
{
    struct vc_opts o;
    struct cl_sim_app app;
    struct sigaction sa;
    int rc, status = 0;

    rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc;
    quiet = o.quiet;
    o.sim.t0_single_byte_ack = false;
    rc = choose_app(&o, &vc_app, &app);
    if (rc != 0)
        return rc;
    rc = cl_sim_setup(&vc.sim, &o.sim, &app);
    if (rc != CL_OK) {
        fprintf(stderr, PROG ": this ATR configuration is not usable (%s)\n",
                cl_strerror(rc));
        return 2;
    }
    if (cl_fault_setup(&vc.fault, &o.fault) != CL_OK) {
        fputs(PROG ": bad --fault rates\n", stderr);
        return 2;
    }
    vc.min_wait_ms = o.min_wait_ms;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGINT, &sa, NULL);
    (void)sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    (void)sigaction(SIGPIPE, &sa, NULL);

    if (o.vpcd != NULL) {
        rc = run_vpcd(&o, &app, &vc.sim);
        cl_sim_free(&vc.sim);
        return rc;
    }
    cl_vline_init(&vc.vl);
    rc = cl_vline_listen(&vc.vl, o.line);
    if (rc != CL_OK) {
        fprintf(stderr, PROG ": cannot listen on %s: %s (%s)\n", o.line,
                cl_strerror(rc), strerror(errno));
        return 1;
    }
    printf("line %s\n", cl_vline_name(&vc.vl));
    fflush(stdout);
    {
        size_t n;
        const uint8_t *atr = cl_sim_atr(&vc.sim, &n);
        log_bytes("ready, ATR", atr, n);
    }

    while (!stop_flag) {
        rc = cl_vline_accept(&vc.vl, VC_TICK_MS);
        if (rc == CL_ERR_TIMEOUT)
            continue;
        if (rc != CL_OK) {
            if (stop_flag)
                break;
            logf_("accept failed: %s", cl_strerror(rc));
            status = 1;
            break;
        }
        logf_("device connected");
        rc = serve(&vc);
        /* A broken connection ends that device's session only. */
        if (o.once) {
            status = rc == CL_OK ? 0 : 1;
            break;
        }
    }
    if (stop_flag)
        logf_("stopping");
    cl_vline_close(&vc.vl);
    cl_sim_free(&vc.sim);
    return status;
}
