/*
 * cardlink tests — helpers shared by the Check suites.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CL_TEST_UTIL_H
#define CL_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <check.h>

/*
 * Decode hex text into out (spaces, colons and newlines ignored). Returns the
 * byte count, or -1 on a bad digit, an odd digit count or overflow of max.
 */
int cl_test_hex(const char *hex, uint8_t *out, size_t max);

/* Render len bytes as upper-case hex with single spaces ("3B 00"), into a
 * static buffer: for messages in ck_assert_msg only. */
const char *cl_test_tohex(const uint8_t *buf, size_t len);

/* Assert that buf[0..len) equals the bytes spelled by hex, with both shown
 * and, when what is not "", what produced them (the command sent). */
#define cl_assert_bytes_for(what, buf, len, hex)                              \
    do {                                                                      \
        uint8_t exp_[4096];                                                   \
        const char *what_ = (what);                                           \
        int n_ = cl_test_hex((hex), exp_, sizeof(exp_));                      \
        ck_assert_msg(n_ >= 0, "bad hex in test: %s", (hex));                 \
        ck_assert_msg((size_t)n_ == (size_t)(len) &&                          \
                          memcmp(exp_, (buf), (size_t)n_) == 0,               \
                      "bytes differ%s%s:\n  got  %s\n  want %s",              \
                      what_[0] != '\0' ? " after " : "", what_,               \
                      cl_test_tohex((buf), (len)), (hex));                    \
    } while (0)

#define cl_assert_bytes(buf, len, hex) cl_assert_bytes_for("", buf, len, hex)

/* The last check of an API wall (docs/testing.md, "API walls"): every
 * (state, call) pair of the states x calls matrix seen has a row. */
static inline void cl_assert_wall_complete(const bool *seen, size_t states, size_t calls)
{
    size_t i;

    for (i = 0; i < states * calls; i++)
        ck_assert_msg(seen[i], "state %zu, call %zu: no row", i / calls, i % calls);
}

/*
 * The bytes of the fenced block "```KIND example=NAME" in the Markdown file
 * at path (docs are test vectors: docs/protocol.md, docs/transaction.md).
 * '#' starts a comment on each line. Fails the running test when the file or
 * the block is missing or the hex is bad; returns the byte count.
 */
size_t cl_test_doc_example(const char *path, const char *kind, const char *name,
                           uint8_t *out, size_t size);

/* Run one suite and return the process exit status (0 when all passed). */
int cl_test_run(Suite *s);

/* How many descriptors below 1024 the process has open (leak checks:
 * count before, do the calls, count after). */
int cl_test_open_fds(void);

#endif
