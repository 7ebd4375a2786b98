/*
 * cardlink — load program (issue 12): N simulated devices, each with its
 * own simulated card (tests/bench/load_server.h), against lib/server
 * contexts driven by one loop in this process, the crypto backend the
 * reference server uses (OpenSSL where built, else lib/cert's).
 *
 *   load_server [DEVICES [PURCHASES_PER_DEVICE]]     (default 50 4)
 *
 * Prints: purchases per second of the whole simulation (cards and devices
 * included, one thread), the server side's CPU time per purchase (thread
 * CPU time around every lib/server call only) divided by the cost of one
 * P-256 signature verification measured in the same run with the same
 * backend (goal <= 2x), the server's capacity that implies, and the
 * memory per connected device (sizeof(struct cl_server): its receive and
 * replay buffers are inside). Figures, never assertions: the machine is
 * shared; compare the ratio, not the seconds.
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

int main(int argc, char **argv)
{
    unsigned long ndev = argc > 1 ? strtoul(argv[1], NULL, 10) : 50;
    unsigned long per = argc > 2 ? strtoul(argv[2], NULL, 10) : 4;
    struct rig *rigs;
    struct timespec w0, w1, c0, c1;
    unsigned long i, k, done = 0, verifies;
    double verify_ns, wall_ns, hook_ns;
    const unsigned reps = 200;

    if (ndev == 0 || ndev > 10000 || per == 0) {
        fprintf(stderr, "usage: load_server [DEVICES [PURCHASES_PER_DEVICE]]\n");
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

    /* the purchases: round after round, one per device */
    rig_srv_hook = hook_srv;
    rig_verifies = 0;
    clock_gettime(CLOCK_MONOTONIC, &w0);
    for (k = 0; k < per; k++)
        for (i = 0; i < ndev; i++) {
            rig_flow(&rigs[i], RIG_PURCHASE);
            done++;
        }
    clock_gettime(CLOCK_MONOTONIC, &w1);
    rig_srv_hook = NULL;
    verifies = rig_verifies;
    wall_ns = ns_of(&w0, &w1);

    /* the cost of the hook itself (two clock reads), to subtract */
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    for (k = 0; k < 10000; k++) {
        hook_srv(1);
        hook_srv(0);
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    hook_ns = ns_of(&c0, &c1) / 10000.0;

    /* one P-256 signature verification, chain cached, same backend */
    if (rig_verify_last() != CL_OK)
        rig_die("verify", CL_ERR_SIGNATURE);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    for (k = 0; k < reps; k++)
        if (rig_verify_last() != CL_OK)
            rig_die("verify", CL_ERR_SIGNATURE);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    verify_ns = ns_of(&c0, &c1) / reps;

    {
        /* the clock reads inside the measured intervals, taken out */
        double per_srv = (srv_ns - (double)srv_calls * hook_ns / 2.0) / (double)done;
        printf("load: %lu devices x %lu purchases = %lu purchases, server crypto %s\n", ndev,
               per, done, RIG_BACKEND);
        printf("  purchases per second, whole simulation (cards, devices, server; 1 thread): %.0f\n",
               (double)done / (wall_ns / 1e9));
        printf("  server CPU per purchase: %.1f us (thread CPU time inside %lu lib/server calls, "
               "less half of a clock-read pair, %.0f ns, each)\n", per_srv / 1e3, srv_calls,
               hook_ns / 2.0);
        printf("  one P-256 signature verification (chain cached): %.1f us\n", verify_ns / 1e3);
        printf("  signature verifications per purchase: %.2f\n", (double)verifies / (double)done);
        printf("  server CPU per purchase / one verification: %.2fx (goal <= 2x)\n",
               per_srv / verify_ns);
        printf("  server capacity implied: %.0f purchases per second per core\n",
               1e9 / per_srv);
        printf("  memory per connected device: sizeof(struct cl_server) = %lu bytes "
               "(rx %u, replay %u, two certificates %u; the device's struct cl_dev: %lu)\n",
               (unsigned long)sizeof(struct cl_server), CL_SERVER_RX_MAX, CL_SERVER_REPLAY_MAX,
               2 * CL_SERVER_CERT_MAX, (unsigned long)sizeof(struct cl_dev));
    }
    for (i = 0; i < ndev; i++)
        rig_close(&rigs[i]);
    free(rigs);
    rig_crypto_free();
    return 0;
}
