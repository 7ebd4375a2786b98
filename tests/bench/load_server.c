/*
 * cardlink — load program (issue 12): N simulated devices, each with its
 * own simulated card (tests/bench/load_server.h), against lib/server
 * contexts driven by one loop in this process, the crypto backend the
 * reference server uses (OpenSSL where built, else lib/cert's).
 *
 *   load_server [DEVICES [PURCHASES_PER_DEVICE [ROUNDS]]]   (default 50 4 2)
 *
 * Runs the purchases twice per round in the same process: lib/server's
 * certificate cache off (the baseline: every purchase reads the card's
 * certificates; the crypto port still caches the chain validation), then
 * on (cfg.cert_cache, emptied at the start of the phase, then one
 * unmeasured purchase per device fills it: the measured ones hit while
 * the devices' cards fit its CL_SERVER_CERT_CACHE_SLOTS entries, else the
 * least recently used entry is the one the next device needs and every
 * purchase misses). Per phase it prints:
 * purchases per second of the whole simulation (cards and devices
 * included, one thread), relay bytes per purchase, the server side's CPU
 * time per purchase (thread CPU time around every lib/server call only,
 * the clock reads taken out) divided by the cost of one P-256 signature
 * verification measured in the same run with the same backend (goal <=
 * 2x), the server's capacity that implies; then the memory per connected
 * device (sizeof(struct cl_server): its receive and replay buffers are
 * inside; the certificate cache is one per process). Figures, never
 * assertions: the machine is shared; compare the ratio, not the seconds.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include "load_server.h"

static double srv_ns;
static unsigned long srv_calls;
static struct timespec srv_t0;

static double ns_of(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) * 1e9 + (double)(b->tv_nsec - a->tv_nsec);
}

static void hook_srv(int begin)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    if (begin)
        srv_t0 = t;
    else {
        srv_ns += ns_of(&srv_t0, &t);
        srv_calls++;
    }
}

struct phase {
    unsigned long done, calls, verifies, bytes;
    double srv_ns, wall_ns;
    uint32_t hits, misses;
};

/* per purchases on each of ndev devices, the cache on or off. */
static void run_phase(struct rig *rigs, unsigned long ndev, unsigned long per, bool cache,
                      struct phase *ph)
{
    struct timespec w0, w1;
    unsigned long i, k, b0 = 0, b1 = 0;

    cl_server_cert_cache_init(&rig_certs);
    rig_scfg.cert_cache = cache ? &rig_certs : NULL;
    /* unmeasured: one purchase per device (with the cache: its miss, the
     * chain stored), so the phase measures the steady state */
    for (i = 0; i < ndev; i++)
        rig_flow(&rigs[i], RIG_PURCHASE);
    rig_certs.hits = rig_certs.misses = 0;
    for (i = 0; i < ndev; i++)
        b0 += rigs[i].s2d.bytes + rigs[i].d2s.bytes;
    srv_ns = 0;
    srv_calls = 0;
    rig_verifies = 0;
    rig_srv_hook = hook_srv;
    clock_gettime(CLOCK_MONOTONIC, &w0);
    for (k = 0; k < per; k++)
        for (i = 0; i < ndev; i++)
            rig_flow(&rigs[i], RIG_PURCHASE);
    clock_gettime(CLOCK_MONOTONIC, &w1);
    rig_srv_hook = NULL;
    for (i = 0; i < ndev; i++)
        b1 += rigs[i].s2d.bytes + rigs[i].d2s.bytes;
    ph->done += ndev * per;
    ph->calls += srv_calls;
    ph->srv_ns += srv_ns;
    ph->verifies += rig_verifies;
    ph->bytes += b1 - b0;
    ph->wall_ns += ns_of(&w0, &w1);
    ph->hits += rig_certs.hits;
    ph->misses += rig_certs.misses;
}

/* One P-256 signature verification, chain cached, same backend. */
static double verify_cost(void)
{
    struct timespec c0, c1;
    const unsigned reps = 200;
    unsigned k;

    if (rig_verify_last() != CL_OK)
        rig_die("verify", CL_ERR_SIGNATURE);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    for (k = 0; k < reps; k++)
        if (rig_verify_last() != CL_OK)
            rig_die("verify", CL_ERR_SIGNATURE);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    return ns_of(&c0, &c1) / reps;
}

static void report(const char *name, const struct phase *ph, double hook_ns, double verify_ns)
{
    double per_srv = (ph->srv_ns - (double)ph->calls * hook_ns / 2.0) / (double)ph->done;

    printf("  %s: %lu purchases\n", name, ph->done);
    printf("    purchases per second, whole simulation (cards, devices, server; 1 thread): %.0f\n",
           (double)ph->done / (ph->wall_ns / 1e9));
    printf("    relay bytes per purchase (both ways): %.0f; certificate cache hits %u, "
           "misses %u\n", (double)ph->bytes / (double)ph->done, ph->hits, ph->misses);
    printf("    server CPU per purchase: %.1f us (%lu lib/server calls, %.0f per purchase)\n",
           per_srv / 1e3, ph->calls, (double)ph->calls / (double)ph->done);
    printf("    signature verifications per purchase: %.2f\n",
           (double)ph->verifies / (double)ph->done);
    printf("    server CPU per purchase / one verification: %.2fx (goal <= 2x)\n",
           per_srv / verify_ns);
    printf("    server capacity implied: %.0f purchases per second per core\n", 1e9 / per_srv);
}

int main(int argc, char **argv)
{
    unsigned long ndev = argc > 1 ? strtoul(argv[1], NULL, 10) : 50;
    unsigned long per = argc > 2 ? strtoul(argv[2], NULL, 10) : 4;
    unsigned long rounds = argc > 3 ? strtoul(argv[3], NULL, 10) : 2;
    struct rig *rigs;
    struct timespec c0, c1;
    struct phase off, on;
    unsigned long i, k;
    double verify_ns, hook_ns;

    if (ndev == 0 || ndev > 10000 || per == 0 || rounds == 0 || rounds > 100) {
        fprintf(stderr, "usage: load_server [DEVICES [PURCHASES_PER_DEVICE [ROUNDS]]]\n");
        return 2;
    }
    rigs = calloc(ndev, sizeof(*rigs));
    if (rigs == NULL)
        return 2;
    rig_pki();
    rig_crypto_init();
    rig_server_config();
    for (i = 0; i < ndev; i++) {
        char id[16];
        int n = snprintf(id, sizeof(id), "load-%05lu", i);
        rig_open(&rigs[i], (const uint8_t *)id, (size_t)n);
    }

    /* the phases in turn, each after its warm-up purchase per device (the
     * crypto port's chain cache too) */
    memset(&off, 0, sizeof(off));
    memset(&on, 0, sizeof(on));
    for (k = 0; k < rounds; k++) {
        run_phase(rigs, ndev, per, false, &off);
        run_phase(rigs, ndev, per, true, &on);
    }

    /* the cost of the hook itself (two clock reads), to subtract */
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    for (k = 0; k < 10000; k++) {
        hook_srv(1);
        hook_srv(0);
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    hook_ns = ns_of(&c0, &c1) / 10000.0;
    verify_ns = verify_cost();

    printf("load: %lu devices, %lu rounds of %lu purchases per device with lib/server's "
           "certificate cache off, then on; server crypto %s\n", ndev, rounds, per,
           RIG_BACKEND);
    printf("  one P-256 signature verification (chain cached): %.1f us\n", verify_ns / 1e3);
    printf("  timing: thread CPU time inside each lib/server call, less half of a clock-read "
           "pair (%.0f ns) each\n", hook_ns / 2.0);
    report("cache off (baseline)", &off, hook_ns, verify_ns);
    report("cache on", &on, hook_ns, verify_ns);
    printf("  memory per connected device: sizeof(struct cl_server) = %lu bytes "
           "(rx %u, replay %u, two certificates %u); the certificate cache, one per "
           "process: %lu bytes (%u entries); the device's struct cl_dev: %lu\n",
           (unsigned long)sizeof(struct cl_server), CL_SERVER_RX_MAX, CL_SERVER_REPLAY_MAX,
           2 * CL_SERVER_CERT_MAX, (unsigned long)sizeof(struct cl_server_cert_cache),
           CL_SERVER_CERT_CACHE_SLOTS, (unsigned long)sizeof(struct cl_dev));
    for (i = 0; i < ndev; i++)
        rig_close(&rigs[i]);
    free(rigs);
    rig_crypto_free();
    return 0;
}
