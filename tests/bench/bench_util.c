/*
 * cardlink benchmarks — callgrind driver. See bench_util.h.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile uint8_t sink;

void cl_bench_sink(const void *p, size_t len)
{
    const uint8_t *b = p;
    size_t i;
    for (i = 0; i < len; i++)
        sink ^= b[i];
}

/* Instructions collected in c->collect over `iter` iterations, or -1. */
static long long callgrind_count(const char *self, const struct cl_bench_case *c,
                                 unsigned long iter)
{
    char cmd[1024], line[512];
    FILE *p;
    long long total = -1;
    const char *f = c->collect;
    char toggles[512] = "";
    size_t o = 0;

    /* "a,b" -> --toggle-collect=a --toggle-collect=b */
    while (*f && o < sizeof(toggles) - 64) {
        size_t n = strcspn(f, ",");
        o += (size_t)snprintf(toggles + o, sizeof(toggles) - o, " --toggle-collect=%.*s",
                              (int)n, f);
        f += n;
        if (*f == ',')
            f++;
    }
    snprintf(cmd, sizeof(cmd),
             "valgrind --tool=callgrind --callgrind-out-file=/dev/null%s %s --run %s %lu 2>&1",
             toggles, self, c->id, iter);
    p = popen(cmd, "r");
    if (!p)
        return -1;
    while (fgets(line, sizeof(line), p)) {
        char *s = strstr(line, "Collected : ");
        if (s)
            total = atoll(s + 12);
    }
    if (pclose(p) != 0)
        return -1;
    return total;
}

int cl_bench_main(int argc, char **argv, const struct cl_bench_case *cases, size_t n)
{
    size_t i;

    if (argc == 4 && strcmp(argv[1], "--run") == 0) {
        for (i = 0; i < n; i++)
            if (strcmp(cases[i].id, argv[2]) == 0) {
                cases[i].run(strtoul(argv[3], NULL, 10));
                return 0;
            }
        fprintf(stderr, "no case %s\n", argv[2]);
        return 2;
    }
    if (argc == 2 && strcmp(argv[1], "--callgrind") == 0) {
        const unsigned long n1 = 100, n2 = 200;
        for (i = 0; i < n; i++) {
            const struct cl_bench_case *c = &cases[i];
            long long a = callgrind_count(argv[0], c, n1);
            long long b = callgrind_count(argv[0], c, n2);
            double per;
            if (a < 0 || b < 0) {
                printf("%-36s callgrind failed (is valgrind installed?)\n", c->name);
                return 1;
            }
            per = (double)(b - a) / (double)(n2 - n1) / (double)(c->per ? c->per : 1);
            printf("%-36s %10.1f instructions/%s", c->name, per, c->unit ? c->unit : "call");
            if (c->target)
                printf("  (target <= %lu: %s)", c->target,
                       per <= (double)c->target ? "met" : "MISSED");
            putchar('\n');
        }
        return 0;
    }
    for (i = 0; i < n; i++) {
        struct timespec t0, t1;
        const unsigned long iter = 200000;
        double ns;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        cases[i].run(iter);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / iter;
        printf("%-36s %10.1f ns/call (wall clock, informative)\n", cases[i].name, ns);
    }
    return 0;
}
