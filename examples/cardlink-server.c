/*
 * cardlink-server — the reference server: devices connect over TLS, and
 * every flow of a list runs on each connection (lib/server), with the
 * ledger in SQLite. docs/server.md, "The reference server", says more.
 * SPDX-License-Identifier: Apache-2.0
 *
 *   cardlink-server --listen HOST:PORT --pki DIR --db FILE [--flows LIST]
 *       [--block-after N] [--gate-replay] [--catalogue FILE] [--devices FILE]
 *       [--merchant NAME] [--once] [-v]
 *   cardlink-server --db FILE txns|balances|devices|pending|expire
 *   cardlink-server --help | --version
 *
 * DIR is a `cardlink-pki testpki` output: server.der + server.key.der (the
 * TLS identity), device-ca.der (device trust), root.der (card chains),
 * issuer.key.der (the issuer key signing loads and e-goods; optional).
 * LIST: comma-separated flows run in order on each device connection after
 * its HELLO and CARD-INSERTED: auth | auth:pin | purchase:ITEM | purse:AMOUNT |
 * load:AMOUNT | egoods:HEX | relay:SCRIPTFILE | gate:ACTION (default
 * auth,purchase:1; gate needs DIR/gate.key.der and follows an auth);
 * then the server closes the session. One line per decision on stdout.
 * Exit status: 0 done, 1 failure, 2 usage error.
 */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cardlink/error.h"
#include "cardlink/ledger.h"
#include "cardlink/server.h"
#include "cardlink/wipe.h"
#include "clock_posix.h"
#include "ledger_sqlite.h"
#include "net_tcp.h"
#include "server_crypto_openssl.h"
#include "tls_openssl.h"

#ifndef CL_TOOL_VERSION
#define CL_TOOL_VERSION "0"
#endif

#define PROG "cardlink-server"
#define DER_MAX 8192u
#define HS_TIMEOUT_MS 10000u
#define MAX_CONNS 1024u
#define MAX_FLOWS 64u
#define MAX_ITEMS 256u
#define MAX_DEVICES 256u
/* How long a lost session waits for its device to come back. */
#define KEEP_MS 60000u
/* How long the session store keeps a saved session, and a PENDING row
 * waits for its answer, before both expire (docs/server.md "Session
 * store": the row then ends FAILED, outcome unknown). */
#define SESSION_KEEP_S 900u

/* ------------------------------------------------------------ options */

enum fkind { FK_AUTH, FK_PURCHASE, FK_PURSE, FK_LOAD, FK_EGOODS, FK_RELAY, FK_GATE,
             FK_GATE_AGAIN };

struct flowspec {
    int kind;                       /* enum fkind */
    uint32_t item;                  /* purchase */
    uint64_t amount;                /* purse, load: minor units */
    uint8_t egoods[CL_SERVER_EGOODS_MAX];
    size_t egoods_len;
    struct cl_relay_script *script; /* relay: one parsed script */
    uint8_t *script_buf;
    unsigned script_no, script_n;   /* relay: this is script no of n */
};

struct item {
    uint32_t code;
    struct cl_server_item it;
};

struct device {
    uint8_t fp[32];
    char id[CL_LEDGER_DEVICE_ID_MAX + 1];   /* "" = any device id */
};

static struct {
    const char *listen, *pki, *db, *flows, *catalogue, *devices, *merchant;
    int once, verbose;
    int gate_replay;                /* test switch: each gate's authorisation is sent twice */
    int block_after;                /* auth failure policy: block after N wrong PINs (0 off) */
} opt;

static struct flowspec flows[MAX_FLOWS];
static size_t n_flows;
static struct item items[MAX_ITEMS];
static size_t n_items;
static struct device enrolled[MAX_DEVICES];
static size_t n_enrolled;

static volatile sig_atomic_t stop_sig;

/* ------------------------------------------------------------ small helpers */

static void print_usage(FILE *f)
{
    fputs("usage: " PROG " --listen HOST:PORT --pki DIR --db FILE [--flows LIST]\n"
          "           [--block-after N] [--gate-replay] [--catalogue FILE] [--devices FILE]\n"
          "           [--merchant NAME] [--once] [-v]\n"
          "       " PROG " --db FILE txns|balances|devices|pending|expire\n"
          "       " PROG " --help | --version\n"
          "\n"
          "  --listen HOST:PORT  numeric address to listen on (port 0: a free one, printed)\n"
          "  --pki DIR           cardlink-pki testpki output: server.der, server.key.der,\n"
          "                      device-ca.der, root.der, issuer.key.der (loads, e-goods)\n"
          "  --db FILE           the SQLite ledger (created if absent; WAL)\n"
          "  --flows LIST        run on each device after CARD-INSERTED, in order\n"
          "                      (default auth,purchase:1): auth | purchase:ITEM |\n"
          "                      purse:AMOUNT | load:AMOUNT | egoods:HEX | relay:SCRIPTFILE |\n"
          "                      gate:ACTION (right after auth; DIR/gate.key.der signs it);\n"
          "                      auth:pin asks the holder's PIN (the card checks it);\n"
          "                      AMOUNT: minor units (250) or with a point (2.50)\n"
          "  --block-after N     auth: block the card (issuer-signed BLOCK) when its PIN is\n"
          "                      exhausted or after N wrong PINs (needs issuer.key.der)\n"
          "  --gate-replay       test: send each gate authorisation again (the device refuses)\n"
          "  --catalogue FILE    lines \"ID PRICE CURRENCY TEXT\" (default: 1 2.50 EUR Coffee)\n"
          "  --devices FILE      enrolment: lines \"SHA256-FINGERPRINT [DEVICE-ID]\"; other\n"
          "                      device certificates are refused\n"
          "  --merchant NAME     the payee (default \"Demo Shop\")\n"
          "  --once              exit after the first device connection ends\n"
          "  -v                  more lines (notifications, TLS details)\n"
          "  txns|balances|devices  print the ledger's table and exit\n"
          "  pending             the PENDING transactions; expire: end those older than\n"
          "                      15 min FAILED (outcome unknown) and drop saved sessions\n",
          f);
}

static int usage(const char *why)
{
    if (why != NULL)
        fprintf(stderr, PROG ": %s\n", why);
    print_usage(stderr);
    return 2;
}

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void out(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("server: ", stdout);
    vfprintf(stdout, fmt, ap);
    fputc('\n', stdout);
    fflush(stdout);
    va_end(ap);
}

static void hex(char *dst, const uint8_t *b, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        dst[2 * i] = digits[b[i] >> 4];
        dst[2 * i + 1] = digits[b[i] & 15];
    }
    dst[2 * n] = '\0';
}

static int unhex(const char *s, uint8_t *out_b, size_t max, size_t *len)
{
    size_t n = 0;

    while (*s) {
        unsigned v = 0;
        int k;
        if (*s == ' ' || *s == ':') {
            s++;
            continue;
        }
        for (k = 0; k < 2; k++, s++) {
            char c = *s;
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= (unsigned)(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= (unsigned)(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                v |= (unsigned)(c - 'A' + 10);
            else
                return -1;
        }
        if (n == max)
            return -1;
        out_b[n++] = (uint8_t)v;
    }
    *len = n;
    return 0;
}

static const struct {
    uint16_t num;
    const char *alpha;
    uint8_t exp;
} currencies[] = {
    {978, "EUR", 2}, {840, "USD", 2}, {826, "GBP", 2}, {756, "CHF", 2}, {392, "JPY", 0},
    {752, "SEK", 2}, {578, "NOK", 2}, {208, "DKK", 2}, {124, "CAD", 2}, {36, "AUD", 2},
};

static const char *cur_alpha(uint16_t num, uint8_t *exp)
{
    static char buf[8];
    size_t i;

    for (i = 0; i < sizeof(currencies) / sizeof(currencies[0]); i++)
        if (currencies[i].num == num) {
            if (exp != NULL)
                *exp = currencies[i].exp;
            return currencies[i].alpha;
        }
    if (exp != NULL)
        *exp = 2;
    snprintf(buf, sizeof(buf), "%03u", (unsigned)num);
    return buf;
}

static int cur_parse(const char *s, uint16_t *num, uint8_t *exp)
{
    size_t i;
    char *end;
    unsigned long v;

    for (i = 0; i < sizeof(currencies) / sizeof(currencies[0]); i++)
        if (strcmp(currencies[i].alpha, s) == 0) {
            *num = currencies[i].num;
            *exp = currencies[i].exp;
            return 0;
        }
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || end == s || v < 1 || v > 999)
        return -1;
    *num = (uint16_t)v;
    (void)cur_alpha(*num, exp);
    return 0;
}

/* "2.50" (exponent exp) or "250" (minor units) -> minor units. */
static int amount_parse(const char *s, uint8_t exp, uint64_t *v)
{
    uint64_t a = 0;
    int frac = -1;

    if (*s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s == '.' && frac < 0) {
            frac = 0;
            continue;
        }
        if (*s < '0' || *s > '9' || a > 99999999999999999ULL)
            return -1;
        if (frac >= 0 && ++frac > exp)
            return -1;
        a = a * 10u + (uint64_t)(*s - '0');
    }
    if (frac >= 0)
        for (; frac < exp; frac++)
            a *= 10u;
    *v = a;
    return 0;
}

/* "EUR 2.50" into buf; amount may be negative. */
static const char *fmt_money(char *buf, size_t size, int64_t amount, uint16_t currency)
{
    uint8_t exp;
    const char *a = cur_alpha(currency, &exp);
    uint64_t m = amount < 0 ? (uint64_t)(-(amount + 1)) + 1u : (uint64_t)amount;
    uint64_t div = 1;
    uint8_t i;

    for (i = 0; i < exp; i++)
        div *= 10u;
    int r;

    if (currency == 999 && amount == 0) {   /* ISO 4217 999, no currency: a gate row */
        r = snprintf(buf, size, "-");
        return r < 0 ? "?" : buf;
    }

    if (exp == 0) {
        r = snprintf(buf, size, "%s %s%llu", a, amount < 0 ? "-" : "", (unsigned long long)m);
    } else {
        char frac[24];
        /* div + remainder: "1" then exactly exp digits */
        r = snprintf(frac, sizeof(frac), "%llu", (unsigned long long)(div + m % div));
        if (r < 0 || (size_t)r >= sizeof(frac))
            frac[1] = '\0';
        r = snprintf(buf, size, "%s %s%llu.%s", a, amount < 0 ? "-" : "",
                     (unsigned long long)(m / div), frac + 1);
    }
    if (r < 0 && size > 0)      /* snprintf cuts a long log text itself */
        buf[0] = '\0';
    return buf;
}

static int read_file(const char *path, uint8_t **buf, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *b;
    size_t n;

    if (f == NULL) {
        fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
        return -1;
    }
    b = malloc(max + 1);
    if (b == NULL) {
        fclose(f);
        return -1;
    }
    n = fread(b, 1, max + 1, f);
    fclose(f);
    if (n > max || n == 0) {
        fprintf(stderr, PROG ": %s: %s\n", path, n ? "too large" : "empty");
        free(b);
        return -1;
    }
    b[n] = 0;
    *buf = b;
    *len = n;
    return 0;
}

static int read_pki(const char *name, uint8_t **buf, size_t *len)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s/%s", opt.pki, name);
    return read_file(path, buf, DER_MAX, len);
}

/* ------------------------------------------------------------ catalogue */

static int cat_item(void *ctx, uint32_t code, struct cl_server_item *o)
{
    size_t i;

    (void)ctx;
    for (i = 0; i < n_items; i++)
        if (items[i].code == code) {
            *o = items[i].it;
            return CL_OK;
        }
    return CL_ERR_NOT_FOUND;
}

static const struct cl_server_catalogue catalogue = {cat_item, NULL};

static int load_catalogue(void)
{
    uint8_t *text;
    size_t len;
    char *line, *save = NULL;
    unsigned lineno = 0;

    if (opt.catalogue == NULL) {
        items[0].code = 1;
        strcpy(items[0].it.desc, "Coffee");
        items[0].it.price = 250;
        items[0].it.currency = 978;
        items[0].it.exponent = 2;
        n_items = 1;
        return 0;
    }
    if (read_file(opt.catalogue, &text, 1u << 20, &len) != 0)
        return -1;
    for (line = strtok_r((char *)text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *p = line, *id, *price, *cur, *desc, *end;
        struct item *it;
        unsigned long code;
        size_t dl;

        lineno++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\0' || *p == '\r')
            continue;
        id = strtok_r(p, " \t", &end);
        price = strtok_r(NULL, " \t", &end);
        cur = strtok_r(NULL, " \t", &end);
        desc = end;
        while (desc && (*desc == ' ' || *desc == '\t'))
            desc++;
        if (desc) {
            dl = strlen(desc);
            while (dl && (desc[dl - 1] == '\r' || desc[dl - 1] == ' '))
                desc[--dl] = '\0';
        }
        if (n_items == MAX_ITEMS || !id || !price || !cur || !desc || !*desc) {
            fprintf(stderr, PROG ": %s:%u: expected \"ID PRICE CURRENCY TEXT\"\n",
                    opt.catalogue, lineno);
            free(text);
            return -1;
        }
        it = &items[n_items];
        errno = 0;
        code = strtoul(id, &end, 10);
        if (errno || *end || code > 0xFFFFFFFFul || cur_parse(cur, &it->it.currency,
                                                                &it->it.exponent) != 0 ||
            amount_parse(price, it->it.exponent, &it->it.price) != 0 || it->it.price == 0 ||
            strlen(desc) > CL_TXN_ITEM_MAX) {
            fprintf(stderr, PROG ": %s:%u: bad id, price, currency or text (1..%u characters)\n",
                    opt.catalogue, lineno, (unsigned)CL_TXN_ITEM_MAX);
            free(text);
            return -1;
        }
        it->code = (uint32_t)code;
        strcpy(it->it.desc, desc);
        n_items++;
    }
    free(text);
    if (n_items == 0) {
        fprintf(stderr, PROG ": %s: no item\n", opt.catalogue);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ enrolment */

static int load_devices(void)
{
    uint8_t *text;
    size_t len;
    char *line, *save = NULL;
    unsigned lineno = 0;

    if (opt.devices == NULL)
        return 0;
    if (read_file(opt.devices, &text, 1u << 20, &len) != 0)
        return -1;
    for (line = strtok_r((char *)text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *p = line, *fp, *id, *end;
        size_t n;

        lineno++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\0' || *p == '\r')
            continue;
        fp = strtok_r(p, " \t\r", &end);
        id = strtok_r(NULL, " \t\r", &end);
        if (n_enrolled == MAX_DEVICES || unhex(fp, enrolled[n_enrolled].fp, 32, &n) != 0 ||
            n != 32 || (id && strlen(id) > CL_LEDGER_DEVICE_ID_MAX)) {
            fprintf(stderr, PROG ": %s:%u: expected \"SHA256-FINGERPRINT [DEVICE-ID]\"\n",
                    opt.devices, lineno);
            free(text);
            return -1;
        }
        strcpy(enrolled[n_enrolled].id, id ? id : "");
        n_enrolled++;
    }
    free(text);
    return 0;
}

static const struct device *find_enrolled(const uint8_t fp[32])
{
    size_t i;

    for (i = 0; i < n_enrolled; i++)
        if (memcmp(enrolled[i].fp, fp, 32) == 0)
            return &enrolled[i];
    return NULL;
}

/* ------------------------------------------------------------ flow list */

static int add_relay(const char *path)
{
    uint8_t *text;
    size_t len, pos = 0;
    unsigned first = (unsigned)n_flows, k;

    if (read_file(path, &text, 1u << 20, &len) != 0)
        return -1;
    for (;;) {
        struct flowspec *f;
        size_t used = 0, size = CL_RELAY_SCRIPT_MAX * 270u;
        unsigned line = 0;
        int rc;

        if (n_flows == MAX_FLOWS) {
            fprintf(stderr, PROG ": too many flows\n");
            free(text);
            return -1;
        }
        f = &flows[n_flows];
        f->kind = FK_RELAY;
        f->script = calloc(1, sizeof(*f->script));
        f->script_buf = malloc(size);
        if (f->script == NULL || f->script_buf == NULL) {
            free(text);
            return -1;
        }
        rc = cl_server_script_parse((const char *)text + pos, len - pos, f->script,
                                    f->script_buf, size, &used, &line);
        if (rc == CL_ERR_NOT_FOUND) {
            free(f->script);
            free(f->script_buf);
            f->script = NULL;
            f->script_buf = NULL;
            break;
        }
        if (rc != CL_OK) {
            fprintf(stderr, PROG ": %s: script error at line %u of the script from byte %zu: %s\n",
                    path, line, pos, cl_strerror(rc));
            free(text);
            return -1;
        }
        pos += used;
        n_flows++;
    }
    free(text);
    if (n_flows == first) {
        fprintf(stderr, PROG ": %s: no script\n", path);
        return -1;
    }
    for (k = first; k < n_flows; k++) {
        flows[k].script_no = k - first + 1;
        flows[k].script_n = (unsigned)n_flows - first;
    }
    return 0;
}

static int parse_flows(const char *list)
{
    char *copy = strdup(list), *tok, *save = NULL;
    int ret = 0;

    if (copy == NULL)
        return -1;
    for (tok = strtok_r(copy, ",", &save); tok && ret == 0; tok = strtok_r(NULL, ",", &save)) {
        char *arg = strchr(tok, ':');
        struct flowspec *f = &flows[n_flows];
        char *end;

        if (arg)
            *arg++ = '\0';
        if (n_flows == MAX_FLOWS) {
            ret = -1;
            break;
        }
        memset(f, 0, sizeof(*f));
        if (strcmp(tok, "auth") == 0 && (arg == NULL || strcmp(arg, "pin") == 0)) {
            f->kind = FK_AUTH;
            f->item = arg != NULL;      /* 1: with the PIN (the VERIFY template) */
        } else if (strcmp(tok, "purchase") == 0 && arg) {
            unsigned long v;
            errno = 0;
            v = strtoul(arg, &end, 10);
            if (errno || *end || end == arg || v > 0xFFFFFFFFul)
                ret = -1;
            f->kind = FK_PURCHASE;
            f->item = (uint32_t)v;
        } else if ((strcmp(tok, "purse") == 0 || strcmp(tok, "load") == 0) && arg) {
            f->kind = tok[0] == 'p' ? FK_PURSE : FK_LOAD;
            if (amount_parse(arg, 2, &f->amount) != 0 || f->amount == 0 ||
                f->amount > 0xFFFFFFFFu)
                ret = -1;
        } else if (strcmp(tok, "egoods") == 0 && arg) {
            f->kind = FK_EGOODS;
            if (unhex(arg, f->egoods, sizeof(f->egoods), &f->egoods_len) != 0 ||
                f->egoods_len < CL_SERVER_EGOODS_MIN)
                ret = -1;
        } else if (strcmp(tok, "gate") == 0 && arg) {
            unsigned long v;
            errno = 0;
            v = strtoul(arg, &end, 10);
            if (errno || *end || end == arg || v == 0 || v > 0xFFFFul)
                ret = -1;
            f->kind = FK_GATE;
            f->item = (uint32_t)v;
            if (ret == 0 && opt.gate_replay) {
                if (n_flows + 1 == MAX_FLOWS) {
                    ret = -1;
                    break;
                }
                flows[n_flows + 1] = *f;
                flows[n_flows + 1].kind = FK_GATE_AGAIN;
                n_flows++;
            }
        } else if (strcmp(tok, "relay") == 0 && arg && *arg) {
            if (add_relay(arg) != 0) {
                free(copy);
                return -2;
            }
            continue;
        } else {
            ret = -1;
        }
        if (ret == 0)
            n_flows++;
    }
    free(copy);
    if (ret == 0 && n_flows == 0)
        ret = -1;
    return ret;
}

/* ------------------------------------------------------------ server state */

static struct cl_ledger_sqlite ledger_db;
static struct cl_server_ossl crypto_ossl;
static struct cl_server_crypto crypto_port;
static struct cl_server_config scfg;
/* Validated card chains by purse serial (docs/server.md, "Certificate
 * cache"): a returning card's purchase reads no certificate. */
static struct cl_server_cert_cache cert_cache;
static struct cl_ossl_server tls_srv;
static struct cl_tcp_listener listener;
static struct cl_cert_der card_roots[1], dev_anchors[1], srv_chain[1];

/* PH_KEPT: the transport is gone, the session (open when it was lost:
 * resumable; ended: its token remembered) stays for KEEP_MS so that a
 * device coming back with its token finds it. PH_GONE: merged into the
 * connection that resumed it, freed without counting as an end. */
enum phase { PH_HANDSHAKE, PH_RUN, PH_DEAD, PH_KEPT, PH_GONE };

struct conn {
    struct conn *next;
    struct cl_tcp tcp;
    struct cl_ossl_conn tls;
    struct cl_net net;
    int phase;                      /* enum phase */
    unsigned wait;                  /* CL_NET_WANT_* after CL_ERR_AGAIN */
    uint32_t started;               /* ms, for the handshake's time-out */
    char addr[64];
    char dev[CL_LEDGER_DEVICE_ID_MAX * 4 + 1];
    char fp[65];
    struct cl_net_peer peer;
    const struct device *enrol;
    bool running;                   /* the flow list runs */
    bool list_done;
    size_t fi;                      /* next flow */
    uint32_t req_amount;            /* the flow's amount (line) */
    uint16_t req_currency;
    uint8_t in[4096];
    size_t in_off, in_len;
    bool hello_checked;             /* the first HELLO was looked at */
    bool ended;                     /* PH_KEPT: the session had ended */
    bool after_end;                 /* the HELLO named an ended session */
    bool stale_token;               /* the HELLO named a session not held here */
    bool tls_gone;                  /* the transport was freed (PH_KEPT) */
    bool restored;                  /* taken over from the session store */
    uint32_t kept_at;               /* ms, PH_KEPT since */
    uint8_t token[32];              /* the session's token, from OPEN */
    size_t token_len;
    struct cl_server *srv;          /* its own allocation: a resumption moves it */
};

static struct conn *conns;
static size_t n_conns;

static uint64_t wall_clock(void *ctx)
{
    (void)ctx;
    return cl_posix_time_now();
}

static void printable(char *dst, size_t size, const uint8_t *b, size_t n)
{
    size_t i, o = 0;

    for (i = 0; i < n && o + 5 < size; i++) {
        if (b[i] >= 0x20 && b[i] < 0x7F && b[i] != '"' && b[i] != '\\')
            dst[o++] = (char)b[i];
        else
            o += (size_t)snprintf(dst + o, size - o, "\\x%02x", b[i]);
    }
    dst[o] = '\0';
}

static const char *outcome_name(uint8_t o)
{
    switch (o) {
    case CL_LEDGER_PENDING: return "PENDING";
    case CL_LEDGER_APPROVED: return "APPROVED";
    case CL_LEDGER_DECLINED: return "DECLINED";
    case CL_LEDGER_FAILED: return "FAILED";
    default: return "?";
    }
}

static const char *kind_name(uint8_t k)
{
    switch (k) {
    case CL_TXN_PURCHASE: return "purchase";
    case CL_TXN_AUTHENTICATION: return "auth";
    case CL_TXN_EMONEY_LOAD: return "load";
    case CL_TXN_EGOODS_LOAD: return "egoods";
    case CL_TXN_ACCESS_GRANT: return "access";
    case CL_TXN_PURSE_PAYMENT: return "purse";
    case CL_SERVER_LEDGER_GATE: return "gate";
    default: return "?";
    }
}

static void txn_now(struct cl_txn *t, uint8_t kind)
{
    time_t now = (time_t)cl_posix_time_now();
    struct tm tm;

    memset(t, 0, sizeof(*t));
    t->kind = kind;
    gmtime_r(&now, &tm);
    t->time.year = (uint16_t)(tm.tm_year + 1900);
    t->time.month = (uint8_t)(tm.tm_mon + 1);
    t->time.day = (uint8_t)tm.tm_mday;
    t->time.hour = (uint8_t)tm.tm_hour;
    t->time.minute = (uint8_t)tm.tm_min;
    t->time.second = (uint8_t)(tm.tm_sec > 59 ? 59 : tm.tm_sec);
    snprintf(t->merchant, sizeof(t->merchant), "%s", opt.merchant);
}

/* The end of the flow list (or a refusal): close the session. */
static void conn_close_session(struct conn *c, uint8_t reason)
{
    if (cl_server_close(c->srv, cl_posix_ms_now(), reason) != CL_OK)
        c->phase = PH_DEAD;
}

static void start_next_flow(struct conn *c)
{
    uint32_t now = cl_posix_ms_now();

    while (c->fi < n_flows) {
        const struct flowspec *f = &flows[c->fi++];
        struct cl_txn txn;
        uint8_t id[16];
        int rc;

        c->req_amount = (uint32_t)f->amount;
        c->req_currency = 978;
        switch (f->kind) {
        case FK_AUTH: {
            /* auth:pin: the cardlink applet's VERIFY template, typed on
             * the device, checked by the card */
            struct cl_relay_pin pin = cl_server_pin_cardlink();

            txn_now(&txn, CL_TXN_AUTHENTICATION);
            rc = crypto_port.random(crypto_port.ctx, txn.id, sizeof(txn.id));
            if (rc == CL_OK)
                rc = cl_server_authenticate(c->srv, now, &txn, f->item ? &pin : NULL);
            break;
        }
        case FK_PURCHASE:
            rc = cl_server_txn_from_catalogue(&scfg, f->item, 1, &txn);
            if (rc == CL_OK)
                rc = cl_server_purchase(c->srv, now, &txn, NULL);
            break;
        case FK_PURSE:
            txn_now(&txn, CL_TXN_PURSE_PAYMENT);
            txn.has_amount = true;
            txn.amount = f->amount;
            txn.currency = 978;
            txn.exponent = 2;
            rc = crypto_port.random(crypto_port.ctx, txn.id, sizeof(txn.id));
            if (rc == CL_OK)
                rc = cl_server_purse_pay(c->srv, now, &txn, NULL);
            break;
        case FK_LOAD:
            rc = crypto_port.random(crypto_port.ctx, id, sizeof(id));
            if (rc == CL_OK)
                rc = cl_server_load(c->srv, now, id, (uint32_t)f->amount);
            break;
        case FK_EGOODS:
            rc = crypto_port.random(crypto_port.ctx, id, sizeof(id));
            if (rc == CL_OK)
                rc = cl_server_egoods_load(c->srv, now, id, f->egoods, f->egoods_len, 0, 978);
            break;
        case FK_GATE:
            rc = cl_server_gate(c->srv, now, (uint16_t)f->item, 60);
            break;
        case FK_GATE_AGAIN:
            rc = cl_server_gate_again(c->srv, now);
            break;
        default:
            rc = cl_server_script(c->srv, now, f->script);
            break;
        }
        if (rc == CL_OK) {
            c->running = true;
            return;
        }
        out("device %s: flow %zu not started: %s", c->dev, c->fi, cl_strerror(rc));
        if (rc == CL_ERR_STATE)
            break;
    }
    c->running = false;
    c->list_done = true;
    out("device %s: %zu flow(s) done, closing the session", c->dev, n_flows);
    conn_close_session(c, CL_RELAY_E_NONE);
}

static void report(struct conn *c, const struct cl_server_result *r)
{
    const struct flowspec *f = &flows[c->fi > 0 ? c->fi - 1 : 0];
    char id[40], serial[20], acct[20], money[48], bal[48], why[160];
    struct cl_ledger_txn lt;
    const struct cl_ledger *lg = cl_ledger_sqlite_port();
    bool have_lt;

    hex(id, r->txn_id, 6);
    hex(serial, r->serial, CL_SERVER_SERIAL_LEN);
    hex(acct, r->account, r->account_len > 6 ? 6 : r->account_len);
    have_lt = r->flow != CL_SERVER_FLOW_RELAY && r->flow != CL_SERVER_FLOW_AUTH &&
              lg->get(&ledger_db, r->txn_id, &lt) == CL_OK;
    if (r->outcome == CL_LEDGER_APPROVED)
        why[0] = '\0';
    else if (r->outcome == CL_LEDGER_DECLINED)
        snprintf(why, sizeof(why), " by the holder");
    else if (r->sw != 0)
        snprintf(why, sizeof(why), " (%s, SW %04X)", cl_strerror(r->err), (unsigned)r->sw);
    else
        snprintf(why, sizeof(why), " (%s)", cl_strerror(r->err));

    switch (r->flow) {
    case CL_SERVER_FLOW_PURCHASE:
        out("purchase %s.. %s \"%s\" by card %s..: %s%s%s%s", id,
            have_lt ? fmt_money(money, sizeof(money), -lt.amount, lt.currency) : "?",
            opt.merchant, acct, outcome_name(r->outcome), why,
            r->outcome == CL_LEDGER_APPROVED ? ", signature verified (card-sign)" : "",
            r->recorded ? ", answered from the ledger" : "");
        break;
    case CL_SERVER_FLOW_AUTH:
        out("authentication %s.. card %s: %s%s%s%s, %u attempt(s)", id, serial,
            outcome_name(r->outcome), r->blocked ? ", card blocked (issuer)" : "", why,
            r->outcome == CL_LEDGER_APPROVED ? ", signature verified (card-auth)" : "",
            (unsigned)r->tries);
        break;
    case CL_SERVER_FLOW_PURSE:
        out("purse payment %s.. %s \"%s\" card %s: %s%s%s%s%s", id,
            fmt_money(money, sizeof(money), (int64_t)f->amount, 978), opt.merchant, serial,
            outcome_name(r->outcome), why,
            r->outcome == CL_LEDGER_APPROVED ? ", receipt verified, purse " : "",
            r->outcome == CL_LEDGER_APPROVED
                ? fmt_money(bal, sizeof(bal), (int64_t)r->balance, have_lt ? lt.currency : 978)
                : "",
            r->recorded ? ", answered from the ledger" : "");
        break;
    case CL_SERVER_FLOW_LOAD:
        out("load %s.. %s card %s: %s%s%s%s%s", id,
            fmt_money(money, sizeof(money), (int64_t)f->amount, have_lt ? lt.currency : 978),
            serial, outcome_name(r->outcome), why,
            r->outcome == CL_LEDGER_APPROVED ? ", receipt verified, purse " : "",
            r->outcome == CL_LEDGER_APPROVED
                ? fmt_money(bal, sizeof(bal), (int64_t)r->balance, have_lt ? lt.currency : 978)
                : "",
            r->recorded ? ", answered from the ledger" : "");
        break;
    case CL_SERVER_FLOW_EGOODS: {
        char item[40];
        hex(item, f->egoods, 8);
        /* 6A89: the card holds the item already (docs/server.md, e-goods) */
        if (r->sw == 0x6A89 && r->err == CL_ERR_DUPLICATE)
            snprintf(why, sizeof(why), " (the card holds the item, paid already: not charged)");
        else if (r->sw == 0x6A89 && r->err == CL_ERR_AGAIN)
            snprintf(why, sizeof(why), " (the card holds the item and another delivery to it "
                                       "is PENDING: send it again once that is decided)");
        out("e-goods %s.. item %s.. card %s: %s%s%s", id, item, serial,
            outcome_name(r->outcome), why, r->recorded ? ", answered from the ledger" : "");
        break;
    }
    case CL_SERVER_FLOW_GATE: {
        static const char *const codes[] = {
            "DONE", "EXPIRED", "NOT_YET_VALID", "REPLAYED", "BAD_SIGNATURE", "WRONG_DEVICE",
            "NO_ACTUATOR", "ACTUATOR_FAILED", "DENIED", "UNAVAILABLE"};
        out("gate %s.. action %u%s for device %s, card %s..: %s, device answered %s", id,
            (unsigned)f->item, f->kind == FK_GATE_AGAIN ? " (the same authorisation again)" : "",
            c->dev, acct, outcome_name(r->outcome),
            r->gate < sizeof(codes) / sizeof(codes[0]) ? codes[r->gate] : "nothing");
        break;
    }
    default: {
        char sws[CL_RELAY_SCRIPT_MAX * 5 + 64];
        size_t o = 0, i;
        const struct cl_relay_msg *m = r->answer;

        sws[0] = '\0';
        if (m != NULL && m->type == CL_RELAY_SCRIPT_RESULT) {
            const struct cl_relay_script_result *sr = &m->u.script_result;
            o += (size_t)snprintf(sws, sizeof(sws), ", SW");
            for (i = 0; i < sr->nresp && o + 6 < sizeof(sws); i++) {
                const struct cl_relay_bytes *b = &sr->resp[i];
                unsigned sw = b->len >= 2 ? ((unsigned)b->data[b->len - 2] << 8) |
                                                b->data[b->len - 1]
                                          : 0;
                o += (size_t)snprintf(sws + o, sizeof(sws) - o, " %04X", sw);
            }
            if (sr->mismatch != CL_RELAY_NONE && o < sizeof(sws))
                snprintf(sws + o, sizeof(sws) - o, ", mismatch at step %u",
                         (unsigned)sr->mismatch + 1u);
        }
        out("relay script %u/%u (%zu step(s)) card %s: %s%s%s", f->script_no, f->script_n,
            f->script ? f->script->nsteps : (size_t)0, c->dev, outcome_name(r->outcome), why,
            sws);
        break;
    }
    }
}

static bool pending_after_loss(struct conn *c, const struct cl_relay_hello *h);

/* A session taken over from the session store (saved by the process
 * before a restart, or another node): the flow it was running goes on and
 * ends once in the ledger; nothing else of the flow list runs again (it
 * ran there), and the session closes after it. */
static void taken_over(struct conn *c)
{
    static const uint8_t kinds[] = {CL_SERVER_FLOW_AUTH, CL_SERVER_FLOW_PURCHASE,
                                    CL_SERVER_FLOW_PURSE, CL_SERVER_FLOW_LOAD,
                                    CL_SERVER_FLOW_EGOODS, CL_SERVER_FLOW_RELAY};
    uint8_t fl = cl_server_flow(c->srv);
    size_t i;

    c->restored = true;
    c->list_done = true;
    out("device %s: session taken over from the session store, %s", c->dev,
        fl != CL_SERVER_FLOW_NONE ? "its flow goes on" : "no flow was running");
    if (fl == CL_SERVER_FLOW_NONE) {
        conn_close_session(c, CL_RELAY_E_NONE);
        return;
    }
    c->running = true;
    c->fi = 0;
    for (i = 0; i < n_flows && c->fi == 0; i++)
        if ((size_t)flows[i].kind < sizeof(kinds) && kinds[flows[i].kind] == fl)
            c->fi = i + 1;
}

static void on_event(struct conn *c, const struct cl_server_event *ev)
{
    switch (ev->kind) {
    case CL_SERVER_EV_OPEN:
        if (ev->msg != NULL && ev->msg->type == CL_RELAY_HELLO)
            printable(c->dev, sizeof(c->dev), ev->msg->u.hello.device_id.data,
                      ev->msg->u.hello.device_id.len);
        if (c->enrol != NULL && c->enrol->id[0] != '\0' && strcmp(c->enrol->id, c->dev) != 0) {
            out("device %s (fingerprint %.16s..) refused: its certificate is enrolled as %s",
                c->dev, c->fp, c->enrol->id);
            conn_close_session(c, CL_RELAY_E_DENIED);
            return;
        }
        out("device %s (fingerprint %.16s..) %s, %s", c->dev, c->fp,
            ev->resumed ? "resumed" : "connected",
            strcmp(cl_ossl_conn_version(&c->tls), "TLSv1.3") == 0 ? "TLS 1.3" : "TLS 1.2");
        {
            size_t tl = 0;
            const uint8_t *tok = cl_relay_session_token(cl_server_session(c->srv), &tl);

            if (tok != NULL && tl <= sizeof(c->token)) {
                memcpy(c->token, tok, tl);
                c->token_len = tl;
            }
        }
        if (c->stale_token && ev->resumed) {
            taken_over(c);
            break;
        }
        if (c->stale_token && !ev->resumed && ev->msg != NULL &&
            ev->msg->type == CL_RELAY_HELLO && pending_after_loss(c, &ev->msg->u.hello))
            break;
        if (c->after_end) {
            out("device %s: the session it named had ended: closing, nothing runs again",
                c->dev);
            conn_close_session(c, CL_RELAY_E_NONE);
        }
        break;
    case CL_SERVER_EV_CARD_INSERTED: {
        char atr[80] = "";
        if (ev->msg != NULL && ev->msg->u.card.atr.len <= 33)
            hex(atr, ev->msg->u.card.atr.data, ev->msg->u.card.atr.len);
        out("device %s: card inserted, ATR %s", c->dev, atr);
        if (!c->running && !c->list_done) {
            c->fi = 0;
            start_next_flow(c);
        }
        break;
    }
    case CL_SERVER_EV_CARD_REMOVED:
        out("device %s: card removed", c->dev);
        break;
    case CL_SERVER_EV_NOTIFY:
        if (opt.verbose)
            out("device %s: notification (type %02X)", c->dev,
                ev->msg ? (unsigned)ev->msg->type : 0u);
        break;
    case CL_SERVER_EV_FLOW_DONE:
        c->running = false;
        report(c, cl_server_result(c->srv));
        if (!c->list_done) {
            start_next_flow(c);
        } else if (c->restored) {
            out("device %s: the taken-over flow is done, closing the session", c->dev);
            conn_close_session(c, CL_RELAY_E_NONE);
        }
        break;
    case CL_SERVER_EV_LINK_DEAD:
        out("device %s: link dead (no answer in time), dropped", c->dev);
        c->phase = PH_DEAD;
        break;
    case CL_SERVER_EV_CLOSED:
        out("device %s: session closed%s%s", c->dev, ev->err == CL_OK ? "" : ": ",
            ev->err == CL_OK ? "" : cl_strerror(ev->err));
        break;
    default:
        break;
    }
}

static void tls_up(struct conn *c)
{
    int rc = c->net.ops->peer(c->net.ctx, &c->peer);

    if (rc != CL_OK) {
        out("connection from %s refused: no peer identity (%s)", c->addr, cl_strerror(rc));
        c->phase = PH_DEAD;
        return;
    }
    hex(c->fp, c->peer.fingerprint, 32);
    out("TLS from %s: %s %s, device certificate \"%s\" fingerprint %s", c->addr,
        cl_ossl_conn_version(&c->tls), cl_ossl_conn_cipher(&c->tls), c->peer.subject, c->fp);
    if (n_enrolled > 0) {
        c->enrol = find_enrolled(c->peer.fingerprint);
        if (c->enrol == NULL) {
            out("connection from %s refused: fingerprint %.16s.. is not enrolled", c->addr,
                c->fp);
            c->phase = PH_DEAD;
            return;
        }
    }
    rc = cl_server_setup(c->srv, &scfg);
    if (rc == CL_OK)
        rc = cl_server_accept(c->srv, cl_posix_ms_now());
    if (rc != CL_OK) {
        out("connection from %s: server context failed: %s", c->addr, cl_strerror(rc));
        c->phase = PH_DEAD;
        return;
    }
    snprintf(c->dev, sizeof(c->dev), "?");
    c->phase = PH_RUN;
}

/* The connection is over: a session that was open (or that ended) stays
 * for KEEP_MS, its transport freed, so that the device's next HELLO with
 * its token finds it (route_hello). Not with --once, whose server ends
 * with its first connection. */
static void conn_keep(struct conn *c, uint32_t now, bool ended)
{
    if (opt.once || c->token_len == 0 || c->after_end) {
        c->phase = PH_DEAD;
        return;
    }
    cl_ossl_conn_free(&c->tls);
    c->tls_gone = true;
    c->phase = PH_KEPT;
    c->ended = ended;
    c->kept_at = now;
    c->wait = 0;
    c->in_len = 0;
    if (!ended)
        out("device %s: session kept %u s for the device to resume", c->dev, KEEP_MS / 1000u);
}

static void conn_lost(struct conn *c, uint32_t now)
{
    cl_server_disconnect(c->srv, now);
    if (cl_relay_session_state(cl_server_session(c->srv)) == CL_RELAY_ST_SUSPENDED)
        conn_keep(c, now, false);
    else if (cl_relay_session_state(cl_server_session(c->srv)) == CL_RELAY_ST_CLOSED)
        conn_keep(c, now, true);
    else
        c->phase = PH_DEAD;
}

static bool same_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    uint8_t d = 0;
    size_t i;

    if (alen != blen || alen == 0)
        return false;
    for (i = 0; i < alen; i++)
        d |= (uint8_t)(a[i] ^ b[i]);
    return d == 0;
}

/*
 * The first bytes of a connection: when they hold a whole HELLO naming a
 * token, the kept connection of the same device certificate whose session
 * it resumes (cl_server_resumes) takes this transport: the two swap their
 * struct cl_server, the kept one goes. A HELLO naming a session that had
 * ended gets a fresh session that is closed at once (no flow runs twice).
 * Returns whether c changed (the caller goes round again).
 */
static bool route_hello(struct conn *c, uint32_t now)
{
    static struct cl_relay_msg m;
    struct cl_relay_header h;
    const uint8_t *in = c->in + c->in_off;
    struct conn *o;

    if (c->in_len < 8 || cl_relay_header_decode(in, c->in_len, &h) != CL_OK ||
        c->in_len < 8u + h.length || cl_relay_decode(in, 8u + h.length, &m) != CL_OK ||
        m.type != CL_RELAY_HELLO || m.u.hello.token.len == 0)
        return false;
    for (o = conns; o; o = o->next) {
        if (o == c || o->phase != PH_KEPT || strcmp(o->fp, c->fp) != 0)
            continue;
        if (!o->ended && cl_server_resumes(o->srv, &m.u.hello)) {
            struct cl_server *t = c->srv;

            c->srv = o->srv;
            o->srv = t;
            c->running = o->running;
            c->list_done = o->list_done;
            c->fi = o->fi;
            c->req_amount = o->req_amount;
            c->req_currency = o->req_currency;
            memcpy(c->token, o->token, sizeof(c->token));
            c->token_len = o->token_len;
            snprintf(c->dev, sizeof(c->dev), "%s", o->dev);
            o->phase = PH_GONE;
            if (cl_server_accept(c->srv, now) != CL_OK) {
                out("device %s: the kept session cannot take the connection", c->dev);
                c->phase = PH_DEAD;
            }
            return true;
        }
        if (o->ended && same_bytes(o->token, o->token_len, m.u.hello.token.data,
                                   m.u.hello.token.len)) {
            c->after_end = true;
            c->list_done = true;
            return false;
        }
    }
    c->stale_token = true;
    return false;
}

struct pending_scan {
    struct conn *c;
    unsigned n;
};

static int pending_row(void *arg, const struct cl_ledger_txn *t)
{
    struct pending_scan *ps = arg;
    char id[2 * CL_LEDGER_TXN_ID_LEN + 1];

    if (t->outcome != CL_LEDGER_PENDING)
        return 0;
    hex(id, t->id, sizeof(t->id));
    out("device %s: transaction %s (%s) is PENDING from a session this server no longer "
        "holds: not run again (the device's log holds its outcome)", ps->c->dev, id,
        kind_name(t->kind));
    ps->n++;
    return 0;
}

/* A device back with a token of a session this server does not hold (a
 * restart, or the session expired) whose ledger rows are still PENDING:
 * its flow list does not run again (it would charge under new ids); the
 * session is closed and the rows stay for the operator. Returns whether
 * it was closed. */
static bool pending_after_loss(struct conn *c, const struct cl_relay_hello *h)
{
    struct cl_ledger_filter f;
    struct pending_scan ps;

    memset(&f, 0, sizeof(f));
    f.device_id = h->device_id.data;
    f.device_id_len = h->device_id.len;
    ps.c = c;
    ps.n = 0;
    if (scfg.ledger->list_txns(scfg.ledger_ctx, &f, pending_row, &ps) != CL_OK || ps.n == 0)
        return false;
    c->list_done = true;
    out("device %s: closing the session, nothing runs again", c->dev);
    conn_close_session(c, CL_RELAY_E_NONE);
    return true;
}

/* Move bytes until the connection would block (or ends). */
static void conn_run(struct conn *c)
{
    for (;;) {
        uint32_t now = cl_posix_ms_now();
        struct cl_server_event ev;
        const uint8_t *p;
        size_t n;
        int rc;

        if (c->phase == PH_DEAD)
            return;
        if (c->phase == PH_HANDSHAKE) {
            rc = cl_ossl_conn_handshake(&c->tls);
            if (rc == CL_ERR_AGAIN) {
                c->wait = c->net.ops->want(c->net.ctx);
                return;
            }
            if (rc != CL_OK) {
                out("connection from %s refused: TLS handshake: %s", c->addr, cl_strerror(rc));
                c->phase = PH_DEAD;
                return;
            }
            tls_up(c);
            continue;
        }
        switch (cl_server_want(c->srv)) {
        case CL_WANT_SEND:
            n = cl_server_pull(c->srv, now, &p);
            if (n == 0) {
                c->wait = 0;
                return;
            }
            rc = c->net.ops->send(c->net.ctx, p, n);
            if (rc == CL_ERR_AGAIN) {
                c->wait = c->net.ops->want(c->net.ctx);
                return;
            }
            if (rc < 0 || cl_server_sent(c->srv, (size_t)rc) != CL_OK) {
                out("device %s: link lost (%s)", c->dev, cl_strerror(rc < 0 ? rc : CL_ERR_IO));
                conn_lost(c, now);
                return;
            }
            break;
        case CL_WANT_DONE:
            if (cl_server_poll(c->srv, &ev))
                on_event(c, &ev);
            break;
        case CL_WANT_RECV:
            if (c->in_len > 0 && !c->hello_checked) {
                c->hello_checked = true;
                if (route_hello(c, now))
                    break;
            }
            if (c->in_len > 0) {
                rc = cl_server_feed(c->srv, now, c->in + c->in_off, c->in_len);
                if (rc < 0) {
                    if (opt.verbose)
                        out("device %s: bad input: %s", c->dev, cl_strerror(rc));
                    c->in_len = 0;
                } else {
                    c->in_off += (size_t)rc;
                    c->in_len -= (size_t)rc;
                }
                break;
            }
            rc = c->net.ops->recv(c->net.ctx, c->in, sizeof(c->in));
            if (rc == CL_ERR_AGAIN) {
                c->wait = c->net.ops->want(c->net.ctx);
                return;
            }
            if (rc <= 0) {
                out("device %s: connection ended%s%s", c->dev, rc == 0 ? "" : ": ",
                    rc == 0 ? "" : cl_strerror(rc));
                conn_lost(c, now);
                return;
            }
            c->in_off = 0;
            c->in_len = (size_t)rc;
            break;
        case CL_WANT_CLOSED:
            out("device %s: disconnected", c->dev);
            conn_keep(c, now, true);
            return;
        case CL_WANT_FAILED:
            out("device %s: session failed: %s", c->dev,
                cl_strerror(cl_relay_session_error(cl_server_session(c->srv))));
            c->phase = PH_DEAD;
            return;
        default:
            c->wait = CL_NET_WANT_READ;
            return;
        }
    }
}

static void conn_free(struct conn *c)
{
    if (c->srv != NULL) {
        cl_server_free(c->srv);
        free(c->srv);
    }
    if (!c->tls_gone)
        cl_ossl_conn_free(&c->tls);   /* closes the TCP connection under it */
    cl_wipe(c, sizeof(*c));
    free(c);
    n_conns--;
}

static void accept_all(void)
{
    for (;;) {
        struct conn *c;
        struct sockaddr_storage sa;
        socklen_t sl = sizeof(sa);
        char host[INET6_ADDRSTRLEN] = "?";
        int rc, fd;

        if (n_conns >= MAX_CONNS)
            return;
        c = calloc(1, sizeof(*c));
        if (c == NULL)
            return;
        cl_tcp_init(&c->tcp);
        rc = cl_tcp_accept(&listener, &c->tcp);
        if (rc != CL_OK) {
            free(c);
            return;
        }
        fd = cl_tcp_ops.fd(&c->tcp);
        if (getpeername(fd, (struct sockaddr *)&sa, &sl) == 0) {
            if (sa.ss_family == AF_INET) {
                const struct sockaddr_in *s4 = (const struct sockaddr_in *)&sa;
                inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
                snprintf(c->addr, sizeof(c->addr), "%s:%u", host, ntohs(s4->sin_port));
            } else if (sa.ss_family == AF_INET6) {
                const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&sa;
                inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
                snprintf(c->addr, sizeof(c->addr), "[%s]:%u", host, ntohs(s6->sin6_port));
            }
        }
        c->srv = calloc(1, sizeof(*c->srv));
        if (c->srv == NULL) {
            cl_tcp_close(&c->tcp);
            free(c);
            return;
        }
        cl_ossl_conn_init(&c->tls);
        cl_server_init(c->srv);
        rc = cl_ossl_conn_setup(&c->tls, &tls_srv, cl_tcp_net(&c->tcp), cl_posix_time_now());
        if (rc != CL_OK) {
            cl_ossl_conn_free(&c->tls);
            cl_tcp_close(&c->tcp);
            free(c->srv);
            free(c);
            out("connection refused: TLS setup: %s", cl_strerror(rc));
            continue;
        }
        c->net = cl_ossl_conn_net(&c->tls);
        c->phase = PH_HANDSHAKE;
        c->started = cl_posix_ms_now();
        c->next = conns;
        conns = c;
        n_conns++;
        if (opt.verbose)
            out("connection from %s", c->addr);
        conn_run(c);
    }
}

static void on_signal(int sig)
{
    stop_sig = sig;
}

/* ------------------------------------------------------------ serve */

static int setup_server(void)
{
    static uint8_t *srv_der, *srv_key, *dca_der, *root_der, *issuer_key;
    static size_t srv_len, key_len, dca_len, root_len, ik_len;
    struct cl_ossl_config tc;
    char path[4096];
    int rc;

    if (read_pki("server.der", &srv_der, &srv_len) || read_pki("server.key.der", &srv_key, &key_len) ||
        read_pki("device-ca.der", &dca_der, &dca_len) || read_pki("root.der", &root_der, &root_len))
        return -1;
    snprintf(path, sizeof(path), "%s/issuer.key.der", opt.pki);
    if (access(path, R_OK) == 0 && read_pki("issuer.key.der", &issuer_key, &ik_len) != 0)
        return -1;

    card_roots[0].der = root_der;
    card_roots[0].len = root_len;
    dev_anchors[0].der = dca_der;
    dev_anchors[0].len = dca_len;
    srv_chain[0].der = srv_der;
    srv_chain[0].len = srv_len;

    rc = cl_server_ossl_init(&crypto_ossl, &crypto_port, card_roots, 1, 0, 0, issuer_key,
                             ik_len);
    if (issuer_key != NULL) {
        cl_wipe(issuer_key, ik_len);
        free(issuer_key);
    }
    if (rc != CL_OK) {
        fprintf(stderr, PROG ": crypto backend: %s\n", cl_strerror(rc));
        return -1;
    }
    snprintf(path, sizeof(path), "%s/gate.key.der", opt.pki);
    if (access(path, R_OK) == 0) {
        uint8_t *gk = NULL;
        size_t gk_len = 0;
        if (read_pki("gate.key.der", &gk, &gk_len) != 0)
            return -1;
        rc = cl_server_ossl_gate_key(&crypto_ossl, &crypto_port, gk, gk_len);
        cl_wipe(gk, gk_len);
        free(gk);
        if (rc != CL_OK) {
            fprintf(stderr, PROG ": gate.key.der: %s\n", cl_strerror(rc));
            return -1;
        }
    }
    memset(&tc, 0, sizeof(tc));
    tc.anchors = dev_anchors;
    tc.n_anchors = 1;
    tc.chain = srv_chain;
    tc.n_chain = 1;
    tc.key = srv_key;
    tc.key_len = key_len;
    cl_ossl_server_init(&tls_srv);
    rc = cl_ossl_server_setup(&tls_srv, &tc);
    cl_wipe(srv_key, key_len);
    free(srv_key);
    if (rc != CL_OK) {
        fprintf(stderr, PROG ": TLS: %s\n", cl_strerror(rc));
        return -1;
    }
    memset(&scfg, 0, sizeof(scfg));
    scfg.ledger = cl_ledger_sqlite_port();
    scfg.ledger_ctx = &ledger_db;
    /* sessions saved in the same database: a restarted server (same --db)
     * resumes a device's session (docs/server.md "Session store") */
    scfg.sessions = cl_session_sqlite_port();
    scfg.sessions_ctx = &ledger_db;
    scfg.crypto = &crypto_port;
    cl_server_cert_cache_init(&cert_cache);
    scfg.cert_cache = &cert_cache;
    scfg.catalogue = &catalogue;
    scfg.clock = wall_clock;
    scfg.merchant = opt.merchant;
    scfg.keepalive_s = 30;
    scfg.auth_block_after = (uint8_t)opt.block_after;
    if (opt.block_after != 0 && crypto_port.issuer_sign == NULL)
        out("--block-after %d: no issuer key, cards are not blocked", opt.block_after);
    out("issuer key %s, %zu catalogue item(s), %zu flow(s)%s",
        crypto_port.issuer_sign ? "loaded" : "absent (no loads or e-goods)", n_items, n_flows,
        n_enrolled ? ", enrolment on" : ", any device certificate from the device CA");
    return 0;
}

/* The retention rule (docs/server.md "Session store"): saved sessions
 * older than SESSION_KEEP_S are dropped, and a transaction still PENDING
 * after as long (its device never came back to finish it) ends FAILED
 * with the receipt "expired: outcome unknown": the charge is not taken,
 * as a terminal's time-out reversal does; the card's log is the reference
 * for the operator's reconciliation. Returns the rows ended. */
struct pend_ids {
    uint8_t id[64][CL_LEDGER_TXN_ID_LEN];
    unsigned n;
    uint64_t before;
};

static int pend_collect(void *arg, const struct cl_ledger_txn *t)
{
    struct pend_ids *p = arg;

    if (t->outcome == CL_LEDGER_PENDING && t->created < p->before && p->n < 64)
        memcpy(p->id[p->n++], t->id, CL_LEDGER_TXN_ID_LEN);
    return 0;
}

static unsigned expire_pending(void)
{
    static const char why[] = "expired: outcome unknown";
    static struct pend_ids p;
    const struct cl_ledger *lg = cl_ledger_sqlite_port();
    uint64_t now = cl_posix_time_now();
    unsigned i, done = 0;
    int n;

    if (now < SESSION_KEEP_S)
        return 0;
    p.n = 0;
    p.before = now - SESSION_KEEP_S;
    n = cl_session_sqlite_port()->expire(&ledger_db, p.before);
    if (n > 0)
        out("session store: %d saved session(s) older than %u s dropped", n, SESSION_KEEP_S);
    if (lg->list_txns(&ledger_db, NULL, pend_collect, &p) != CL_OK)
        return 0;
    for (i = 0; i < p.n; i++) {
        char id[2 * CL_LEDGER_TXN_ID_LEN + 1];
        hex(id, p.id[i], CL_LEDGER_TXN_ID_LEN);
        if (lg->commit(&ledger_db, p.id[i], CL_LEDGER_FAILED, (const uint8_t *)why,
                       sizeof(why) - 1, now) == CL_OK) {
            out("transaction %s PENDING for more than %u s: FAILED, outcome unknown", id,
                SESSION_KEEP_S);
            done++;
        }
    }
    return done;
}

static int serve(void)
{
    char host[256], *colon, port[16];
    struct sigaction sa;
    struct pollfd *pfd;
    struct conn **slot;
    int rc, served = 0;

    snprintf(host, sizeof(host), "%s", opt.listen);
    colon = strrchr(host, ':');
    if (colon == NULL || colon[1] == '\0')
        return usage("--listen HOST:PORT");
    *colon = '\0';
    snprintf(port, sizeof(port), "%s", colon + 1);
    if (host[0] == '[' && colon > host + 1 && colon[-1] == ']') {
        colon[-1] = '\0';
        memmove(host, host + 1, strlen(host));
    }
    if (setup_server() != 0)
        return 1;
    cl_tcp_listener_init(&listener);
    rc = cl_tcp_listen(&listener, host, port, 64);
    if (rc != CL_OK) {
        fprintf(stderr, PROG ": listen on %s: %s\n", opt.listen, cl_strerror(rc));
        return 1;
    }
    out("listening on %s port %d", host, cl_tcp_listener_port(&listener));
    (void)expire_pending();

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    pfd = calloc(MAX_CONNS + 1, sizeof(*pfd));
    if (pfd == NULL)
        return 1;
    while (!stop_sig) {
        uint32_t now = cl_posix_ms_now(), wait_ms = 60000;
        struct conn *c;
        size_t np = 1;
        static uint32_t expired_at;

        if (now - expired_at >= 60000u) {   /* the retention rule, once a minute */
            expired_at = now;
            (void)expire_pending();
        }

        /* timers, then the connections that ended */
        for (c = conns; c; c = c->next) {
            uint32_t t;
            if (c->phase == PH_HANDSHAKE) {
                if (now - c->started >= HS_TIMEOUT_MS) {
                    out("connection from %s refused: TLS handshake timed out", c->addr);
                    c->phase = PH_DEAD;
                    continue;
                }
                t = HS_TIMEOUT_MS - (now - c->started);
            } else if (c->phase == PH_RUN) {
                t = cl_server_timer(c->srv, now);
                if (t == 0) {
                    if (cl_server_timeout(c->srv, now) != CL_OK && opt.verbose)
                        out("device %s: timer: %s", c->dev,
                            cl_strerror(cl_relay_session_error(cl_server_session(c->srv))));
                    conn_run(c);
                    t = c->phase == PH_RUN ? cl_server_timer(c->srv, now) : 0;
                    if (t == 0)
                        t = 1;
                }
            } else if (c->phase == PH_KEPT) {
                if (now - c->kept_at >= KEEP_MS) {
                    if (!c->ended)
                        out("device %s: not back within %u s, its session dropped", c->dev,
                            KEEP_MS / 1000u);
                    c->phase = PH_DEAD;
                    t = 0;
                } else {
                    t = KEEP_MS - (now - c->kept_at);
                }
            } else {
                t = 0;
            }
            if (t < wait_ms)
                wait_ms = t;
        }
        for (slot = &conns; *slot;) {
            c = *slot;
            if (c->phase == PH_GONE) {
                *slot = c->next;
                conn_free(c);
                continue;
            }
            if (c->phase == PH_DEAD) {
                *slot = c->next;
                conn_free(c);
                served++;
                if (opt.once)
                    goto done;
                continue;
            }
            slot = &c->next;
        }

        pfd[0].fd = cl_tcp_listener_fd(&listener);
        pfd[0].events = POLLIN;
        pfd[0].revents = 0;
        for (c = conns; c; c = c->next, np++) {
            pfd[np].fd = c->phase == PH_KEPT ? -1 : c->net.ops->fd(c->net.ctx);
            pfd[np].events = (short)(((c->wait & CL_NET_WANT_READ) ? POLLIN : 0) |
                                     ((c->wait & CL_NET_WANT_WRITE) ? POLLOUT : 0));
            pfd[np].revents = 0;
        }
        rc = poll(pfd, (nfds_t)np, (int)wait_ms);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, PROG ": poll: %s\n", strerror(errno));
            break;
        }
        np = 1;
        for (c = conns; c; c = c->next, np++)
            if (pfd[np].revents != 0)
                conn_run(c);
        if (pfd[0].revents & POLLIN)
            accept_all();
    }
done:
    if (stop_sig)
        out("signal %d: closing %zu connection(s)", (int)stop_sig, n_conns);
    while (conns) {
        struct conn *c = conns;
        conns = c->next;
        if (c->phase == PH_RUN && cl_server_want(c->srv) != CL_WANT_CLOSED &&
            cl_server_want(c->srv) != CL_WANT_FAILED) {
            const uint8_t *p;
            size_t n;
            /* CLOSE SHUTDOWN, sent once without waiting */
            if (cl_server_close(c->srv, cl_posix_ms_now(), CL_RELAY_E_SHUTDOWN) == CL_OK &&
                (n = cl_server_pull(c->srv, cl_posix_ms_now(), &p)) > 0 &&
                c->net.ops->send(c->net.ctx, p, n) > 0)
                out("device %s: session closed (shutdown)", c->dev);
        }
        conn_free(c);
    }
    free(pfd);
    cl_tcp_listener_close(&listener);
    cl_ossl_server_free(&tls_srv);
    cl_server_ossl_free(&crypto_ossl);
    out("stopped after %d connection(s)", served);
    return 0;
}

/* ------------------------------------------------------------ operator */

static int row_txn(void *arg, const struct cl_ledger_txn *t)
{
    char id[40], acct[80], dev[140], money[48], when[32];
    time_t s = (time_t)t->created;
    struct tm tm;

    (*(unsigned *)arg)++;
    hex(id, t->id, 16);
    hex(acct, t->account, t->account_len > 8 ? 8 : t->account_len);
    if (t->account_len > 8)
        strcat(acct, "..");
    printable(dev, sizeof(dev), t->device_id, t->device_id_len);
    gmtime_r(&s, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("%-20s  %-32s  %-12s  %-8s  %-18s  %15s  %s\n", when, id, dev, kind_name(t->kind),
           acct, fmt_money(money, sizeof(money), t->amount, t->currency),
           outcome_name(t->outcome));
    return 0;
}

static int row_pending(void *arg, const struct cl_ledger_txn *t)
{
    return t->outcome == CL_LEDGER_PENDING ? row_txn(arg, t) : 0;
}

static int row_balance(void *arg, const struct cl_ledger_balance *b)
{
    char acct[80], money[48], when[32];
    time_t s = (time_t)b->updated;
    struct tm tm;

    (*(unsigned *)arg)++;
    hex(acct, b->account, b->account_len > 8 ? 8 : b->account_len);
    if (b->account_len > 8)
        strcat(acct, "..");
    gmtime_r(&s, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("%-18s  %15s  %6lu  %s\n", acct, fmt_money(money, sizeof(money), b->balance,
                                                      b->currency),
           (unsigned long)b->txns, b->updated ? when : "-");
    return 0;
}

static int row_device(void *arg, const struct cl_ledger_device *d)
{
    char dev[140], w1[32], w2[32];
    time_t a = (time_t)d->first_seen, b = (time_t)d->last_seen;
    struct tm tm;

    (*(unsigned *)arg)++;
    printable(dev, sizeof(dev), d->id, d->id_len);
    gmtime_r(&a, &tm);
    strftime(w1, sizeof(w1), "%Y-%m-%dT%H:%M:%SZ", &tm);
    gmtime_r(&b, &tm);
    strftime(w2, sizeof(w2), "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("%-12s  %-20s  %-20s  %6lu\n", dev, w1, w2, (unsigned long)d->txns);
    return 0;
}

static int operator_cmd(const char *cmd)
{
    const struct cl_ledger *lg = cl_ledger_sqlite_port();
    unsigned rows = 0;
    int rc;

    if (access(opt.db, F_OK) != 0) {
        fprintf(stderr, PROG ": %s: %s\n", opt.db, strerror(errno));
        return 1;
    }
    rc = cl_ledger_sqlite_open(&ledger_db, opt.db, 5000);
    if (rc != CL_OK) {
        fprintf(stderr, PROG ": %s: %s\n", opt.db, cl_strerror(rc));
        return 1;
    }
    if (strcmp(cmd, "txns") == 0) {
        printf("%-20s  %-32s  %-12s  %-8s  %-18s  %15s  %s\n", "CREATED", "TXN ID", "DEVICE",
               "KIND", "ACCOUNT", "AMOUNT", "OUTCOME");
        rc = lg->list_txns(&ledger_db, NULL, row_txn, &rows);
        if (rc == CL_OK)
            printf("%u transaction(s)\n", rows);
    } else if (strcmp(cmd, "pending") == 0) {
        printf("%-20s  %-32s  %-12s  %-8s  %-18s  %15s  %s\n", "CREATED", "TXN ID", "DEVICE",
               "KIND", "ACCOUNT", "AMOUNT", "OUTCOME");
        rc = lg->list_txns(&ledger_db, NULL, row_pending, &rows);
        if (rc == CL_OK)
            printf("%u pending transaction(s)\n", rows);
    } else if (strcmp(cmd, "expire") == 0) {
        printf("%u transaction(s) ended FAILED (outcome unknown)\n", expire_pending());
    } else if (strcmp(cmd, "balances") == 0) {
        printf("%-18s  %15s  %6s  %s\n", "ACCOUNT", "BALANCE", "TXNS", "UPDATED");
        rc = lg->list_balances(&ledger_db, row_balance, &rows);
        if (rc == CL_OK)
            printf("%u account(s)\n", rows);
    } else {
        printf("%-12s  %-20s  %-20s  %6s\n", "DEVICE", "FIRST SEEN", "LAST SEEN", "TXNS");
        rc = lg->list_devices(&ledger_db, row_device, &rows);
        if (rc == CL_OK)
            printf("%u device(s)\n", rows);
    }
    cl_ledger_sqlite_close(&ledger_db);
    if (rc != CL_OK) {
        fprintf(stderr, PROG ": %s: %s\n", opt.db, cl_strerror(rc));
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    const char *cmd = NULL;
    int i, rc;

    opt.merchant = "Demo Shop";
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **val = NULL;

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            print_usage(stdout);
            return 0;
        }
        if (strcmp(a, "--version") == 0) {
            printf(PROG " %s\n", CL_TOOL_VERSION);
            return 0;
        }
        if (strcmp(a, "--listen") == 0)
            val = &opt.listen;
        else if (strcmp(a, "--pki") == 0)
            val = &opt.pki;
        else if (strcmp(a, "--db") == 0)
            val = &opt.db;
        else if (strcmp(a, "--flows") == 0)
            val = &opt.flows;
        else if (strcmp(a, "--catalogue") == 0)
            val = &opt.catalogue;
        else if (strcmp(a, "--devices") == 0)
            val = &opt.devices;
        else if (strcmp(a, "--merchant") == 0)
            val = &opt.merchant;
        else if (strcmp(a, "--once") == 0)
            opt.once = 1;
        else if (strcmp(a, "--gate-replay") == 0)
            opt.gate_replay = 1;
        else if (strcmp(a, "--block-after") == 0) {
            char *end;
            long v;
            if (i + 1 >= argc)
                return usage(NULL);
            errno = 0;
            v = strtol(argv[++i], &end, 10);
            if (errno || *end || end == argv[i] || v < 1 || v > 15)
                return usage("--block-after: 1..15");
            opt.block_after = (int)v;
        }
        else if (strcmp(a, "-v") == 0)
            opt.verbose = 1;
        else if (a[0] != '-' && cmd == NULL &&
                 (strcmp(a, "txns") == 0 || strcmp(a, "balances") == 0 ||
                  strcmp(a, "devices") == 0 || strcmp(a, "pending") == 0 ||
                  strcmp(a, "expire") == 0))
            cmd = a;
        else
            return usage(NULL);
        if (val != NULL) {
            if (i + 1 >= argc)
                return usage(NULL);
            *val = argv[++i];
        }
    }
    if (opt.db == NULL)
        return usage("--db FILE is required");
    if (cmd != NULL) {
        if (opt.listen || opt.pki || opt.flows || opt.catalogue || opt.devices || opt.once)
            return usage("an operator command takes --db FILE only");
        return operator_cmd(cmd);
    }
    if (opt.listen == NULL || opt.pki == NULL)
        return usage("--listen and --pki are required");
    if (strlen(opt.merchant) < 1 || strlen(opt.merchant) > CL_TXN_MERCHANT_MAX)
        return usage("--merchant: 1..40 characters");
    rc = parse_flows(opt.flows ? opt.flows : "auth,purchase:1");
    if (rc == -1)
        return usage("--flows: auth | auth:pin | purchase:ITEM | purse:AMOUNT | load:AMOUNT | egoods:HEX "
                     "(16..64 bytes) | relay:SCRIPTFILE | gate:ACTION, comma-separated");
    if (rc != 0 || load_catalogue() != 0 || load_devices() != 0)
        return 1;
    rc = cl_ledger_sqlite_open(&ledger_db, opt.db, 5000);
    if (rc != CL_OK) {
        fprintf(stderr, PROG ": %s: %s\n", opt.db, cl_strerror(rc));
        return 1;
    }
    rc = serve();
    cl_ledger_sqlite_close(&ledger_db);
    for (i = 0; i < (int)n_flows; i++) {
        free(flows[i].script);
        free(flows[i].script_buf);
    }
    return rc;
}
