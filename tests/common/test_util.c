/*
 * cardlink tests — helpers shared by the Check suites.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L   /* fcntl() */
#include "test_util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int cl_test_hex(const char *hex, uint8_t *out, size_t max)
{
    size_t n = 0;
    int hi = -1;

    for (; *hex; hex++) {
        int v;
        if (*hex == ' ' || *hex == ':' || *hex == '\n' || *hex == '\t')
            continue;
        v = hexval(*hex);
        if (v < 0)
            return -1;
        if (hi < 0) {
            hi = v;
        } else {
            if (n >= max)
                return -1;
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    return hi < 0 ? (int)n : -1;
}

const char *cl_test_tohex(const uint8_t *buf, size_t len)
{
    static char text[3 * 4096 + 1];
    size_t i, o = 0;

    text[0] = '\0';
    for (i = 0; i < len && o + 4 < sizeof(text); i++)
        o += (size_t)snprintf(text + o, sizeof(text) - o, i ? " %02X" : "%02X", buf[i]);
    return text;
}

size_t cl_test_doc_example(const char *path, const char *kind, const char *name,
                           uint8_t *out, size_t size)
{
    FILE *f = fopen(path, "r");
    char line[512], hex[8192] = "", want[128];
    int in = 0, n;

    ck_assert_msg(f != NULL, "cannot open %s", path);
    snprintf(want, sizeof(want), "```%s example=%s", kind, name);
    while (fgets(line, sizeof(line), f)) {
        if (!in) {
            size_t wl = strlen(want);
            if (strncmp(line, want, wl) == 0 && (line[wl] == '\n' || line[wl] == ' '))
                in = 1;
        } else if (strncmp(line, "```", 3) == 0) {
            break;
        } else {
            char *c = strchr(line, '#');
            if (c)
                *c = '\0';
            ck_assert_msg(strlen(hex) + strlen(line) < sizeof(hex), "example %s too long", name);
            strcat(hex, line);
        }
    }
    fclose(f);
    ck_assert_msg(in, "no %s example %s in %s", kind, name, path);
    n = cl_test_hex(hex, out, size);
    ck_assert_int_gt(n, 0);
    return (size_t)n;
}

int cl_test_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int cl_test_open_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 1024; fd++)
        if (fcntl(fd, F_GETFD) != -1)
            n++;
    return n;
}
