/*
 * cardlink benchmarks — count instructions with callgrind, not seconds.
 * SPDX-License-Identifier: Apache-2.0
 *
 * A benchmark program is a table of cases. Run with no arguments it prints a
 * wall-clock figure per case (informative only: these machines are shared);
 * with --callgrind it re-runs itself under valgrind once per case, collecting
 * only inside the case's function (--toggle-collect), twice (N and 2N
 * iterations) so that start-up costs cancel, and prints instructions per call.
 */
#ifndef CL_BENCH_UTIL_H
#define CL_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

struct cl_bench_case {
    const char *id;        /* short name, no spaces: --run ID N */
    const char *name;      /* what is measured */
    const char *collect;   /* function(s) callgrind counts, e.g. "cl_atr_parse" */
    void (*run)(unsigned long iterations);
    unsigned long target;  /* the target in instructions per call, 0 none */
    const char *unit;      /* "call" by default; per what a figure is given */
    unsigned long per;     /* divide per-call instructions by this (bytes), 0 = 1 */
};

/* main() of a benchmark program: dispatches --callgrind, --run NAME N. */
int cl_bench_main(int argc, char **argv, const struct cl_bench_case *cases, size_t n);

/* Keep the compiler from optimising a result away. */
void cl_bench_sink(const void *p, size_t len);

#endif
