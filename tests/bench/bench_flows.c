/*
 * cardlink — figures of the end-to-end flows (issue 12, docs/performance.md
 * "Flows"): lib/device + lib/server + the card simulator with the cardlink
 * applet, all in-process (tests/bench/load_server.h), joined by memory
 * pipes. Per flow after the HELLO: round trips (server requests answered
 * by the device), messages and bytes of the relay stream each way (what
 * TLS carries as plaintext): purchase with the server's certificate cache
 * warm and cold (lib/server's certificate cache and the crypto port's),
 * authentication, purse payment, load; and the cold purchase's card
 * dialogue relayed one APDU per APDU message, for comparison.
 * --callgrind: instructions per flow on the device side (every lib/device
 * call) and the server side (every lib/server call, its crypto included),
 * the part of the server's spent in the crypto port's verify, and one
 * P-256 signature verification alone with the chain cached. Counted with
 * callgrind's client requests (--collect-atstart=no), one flow per run.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "load_server.h"

#include <valgrind/callgrind.h>

#include "cardlink/relay_msg.h"

enum { SIDE_NONE, SIDE_DEV, SIDE_SRV, SIDE_VERIFY, SIDE_ONE_VERIFY };
static int side;

static void hook_dev(int b) { (void)b; if (side == SIDE_DEV) CALLGRIND_TOGGLE_COLLECT; }
static void hook_srv(int b) { (void)b; if (side == SIDE_SRV) CALLGRIND_TOGGLE_COLLECT; }
static void hook_verify(int b) { (void)b; if (side == SIDE_VERIFY) CALLGRIND_TOGGLE_COLLECT; }

struct fcase {
    const char *id, *name;
    int flow;
    bool cold;
};

static const struct fcase cases[] = {
    {"purchase-warm", "purchase, certificate cache warm", RIG_PURCHASE, false},
    {"purchase-cold", "purchase, certificate cache cold", RIG_PURCHASE, true},
    {"auth", "authentication", RIG_AUTH, false},
    {"purse", "purse payment", RIG_PURSE, false},
#ifdef CL_HAVE_OPENSSL
    {"load", "load (e-money CREDIT)", RIG_LOAD, false},
#endif
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

struct figures {
    unsigned long trips, msgs_s2d, msgs_d2s, s2d, d2s, verifies, card_apdus;
};

static struct rig g;
static struct rig_log purchase_log;

/* Run case c once after a warm-up of the same flow; with `measure` the
 * hooks are on for the measured flow only. */
static void run_case(const struct fcase *c, struct figures *f, bool measure)
{
    static const uint8_t id[] = "bench-1";

    rig_open(&g, id, sizeof(id) - 1);
    rig_flow(&g, c->flow);               /* warm-up: caches, lazy symbols */
    if (c->cold) {
        rig_crypto_free();
        rig_crypto_init();
        cl_server_cert_cache_init(&rig_certs);   /* lib/server's cache too */
    }
    memset(&g.s2d, 0, sizeof(g.s2d));
    memset(&g.d2s, 0, sizeof(g.d2s));
    g.card_apdus = 0;
    rig_verifies = 0;
    if (c->flow == RIG_PURCHASE && c->cold) {   /* the whole dialogue */
        purchase_log.n = 0;
        rig_log = &purchase_log;
    }
    if (measure) {
        rig_dev_hook = hook_dev;
        rig_srv_hook = hook_srv;
        rig_verify_hook = hook_verify;
    }
    rig_flow(&g, c->flow);
    rig_dev_hook = rig_srv_hook = NULL;
    rig_verify_hook = NULL;
    rig_log = NULL;
    if (f != NULL) {
        f->trips = g.s2d.requests;
        f->msgs_s2d = g.s2d.msgs;
        f->msgs_d2s = g.d2s.msgs;
        f->s2d = g.s2d.bytes;
        f->d2s = g.d2s.bytes;
        f->verifies = rig_verifies;
        f->card_apdus = g.card_apdus;
    }
    rig_close(&g);
}

/* The purchase's card dialogue as per-APDU relay: each command its own
 * APDU message, each answer an APDU-RESPONSE, with the headers a session
 * gives them (seq, ack, REF). */
static void per_apdu(unsigned long *s2d, unsigned long *d2s)
{
    static uint8_t buf[1200];
    struct cl_relay_msg m;
    size_t i, len;

    *s2d = *d2s = 0;
    for (i = 0; i < purchase_log.n; i++) {
        cl_relay_msg_init(&m, CL_RELAY_APDU);
        m.seq = (uint8_t)(i + 1);
        if (i > 0) {
            m.flags = CL_RELAY_F_ACK;
            m.ack = (uint8_t)i;
        }
        m.u.apdu.apdu.data = purchase_log.cmd[i];
        m.u.apdu.apdu.len = purchase_log.cmd_len[i];
        RIG_OK(cl_relay_encode(&m, buf, sizeof(buf), &len));
        *s2d += len;
        cl_relay_msg_init(&m, CL_RELAY_APDU_RESPONSE);
        m.seq = (uint8_t)(i + 1);
        m.flags = CL_RELAY_F_ACK | CL_RELAY_F_REF;
        m.ack = m.ref = (uint8_t)(i + 1);
        m.u.apdu.apdu.data = purchase_log.rsp[i];
        m.u.apdu.apdu.len = purchase_log.rsp_len[i];
        RIG_OK(cl_relay_encode(&m, buf, sizeof(buf), &len));
        *d2s += len;
    }
}

static void report(void)
{
    struct figures f;
    unsigned long ps, pd;
    size_t i;

    printf("Flows after the HELLO (relay stream bytes = TLS plaintext), server crypto: %s\n",
           RIG_BACKEND);
    printf("%-34s %5s %9s %19s %8s %6s\n", "flow", "trips", "msgs S/D", "bytes S>D + D>S",
           "verify", "APDUs");
    for (i = 0; i < NCASES; i++) {
        run_case(&cases[i], &f, false);
        printf("%-34s %5lu %4lu/%-4lu %5lu + %4lu = %4lu %8lu %6lu\n", cases[i].name, f.trips,
               f.msgs_s2d, f.msgs_d2s, f.s2d, f.d2s, f.s2d + f.d2s, f.verifies, f.card_apdus);
    }
    per_apdu(&ps, &pd);
    printf("%-34s %5lu %4lu/%-4lu %5lu + %4lu = %4lu %8s %6lu\n",
           "cold purchase dialogue, per-APDU", (unsigned long)purchase_log.n,
           (unsigned long)purchase_log.n, (unsigned long)purchase_log.n, ps, pd, ps + pd, "-",
           (unsigned long)purchase_log.n);
    printf("goal: purchase (cache warm) <= 2 round trips and <= 1024 bytes; "
           "per-APDU relay of the cold dialogue >= 8 round trips\n");
    printf("card dialogue of the cold purchase (warm: 5C00 2000 2A9E E200):");
    for (i = 0; i < purchase_log.n; i++)
        printf(" %02X%02X/%lu+%lu", purchase_log.cmd[i][1], purchase_log.cmd[i][2],
               (unsigned long)purchase_log.cmd_len[i], (unsigned long)purchase_log.rsp_len[i]);
    printf(" (INS P1/command+response bytes)\n\n");
}

/* ------------------------------------------------------------ callgrind */

static long long collect(const char *self, const char *id, int s)
{
    char cmd[1024], line[512];
    FILE *p;
    long long total = -1;

    snprintf(cmd, sizeof(cmd),
             "valgrind --tool=callgrind --callgrind-out-file=/dev/null --collect-atstart=no "
             "%s --run %s %d 2>&1", self, id, s);
    p = popen(cmd, "r");
    if (p == NULL)
        return -1;
    while (fgets(line, sizeof(line), p)) {
        char *c = strstr(line, "Collected : ");
        if (c != NULL)
            total = atoll(c + 12);
    }
    if (pclose(p) != 0)
        return -1;
    return total;
}

static int callgrind(const char *self)
{
    long long one;
    size_t i;

    one = collect(self, "one-verify", SIDE_ONE_VERIFY);
    if (one <= 0) {
        printf("callgrind failed (is valgrind installed?)\n");
        return 1;
    }
    printf("Instructions per flow (callgrind, one flow after a warm-up of the same flow)\n");
    printf("one P-256 signature verification, chain cached (%s): %lld\n", RIG_BACKEND, one);
    printf("%-34s %10s %10s %10s %8s\n", "flow", "device", "server", "of it verify",
           "srv/1 ver");
    for (i = 0; i < NCASES; i++) {
        long long d = collect(self, cases[i].id, SIDE_DEV);
        long long s = collect(self, cases[i].id, SIDE_SRV);
        long long v = collect(self, cases[i].id, SIDE_VERIFY);
        if (d < 0 || s < 0 || v < 0) {
            printf("%-34s callgrind failed\n", cases[i].name);
            return 1;
        }
        printf("%-34s %10lld %10lld %10lld %8.2f\n", cases[i].name, d, s, v,
               (double)s / (double)one);
    }
    return 0;
}

int main(int argc, char **argv)
{
    size_t i;

    rig_pki();
    rig_crypto_init();
    rig_server_config();
    if (argc == 4 && strcmp(argv[1], "--run") == 0) {
        side = atoi(argv[3]);
        if (side == SIDE_ONE_VERIFY) {
            run_case(&cases[0], NULL, false);
            if (rig_verify_last() != CL_OK)   /* once outside: lazy set-up */
                return 2;
            CALLGRIND_TOGGLE_COLLECT;
            i = (size_t)rig_verify_last();
            CALLGRIND_TOGGLE_COLLECT;
            return i == CL_OK ? 0 : 2;
        }
        for (i = 0; i < NCASES; i++)
            if (strcmp(cases[i].id, argv[2]) == 0) {
                run_case(&cases[i], NULL, true);
                return 0;
            }
        fprintf(stderr, "no case %s\n", argv[2]);
        return 2;
    }
    report();
    if (argc == 2 && strcmp(argv[1], "--callgrind") == 0)
        return callgrind(argv[0]);
    rig_crypto_free();
    return 0;
}
