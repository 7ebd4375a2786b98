/*
 * cardlink — the POSIX virtual card line over a socketpair, a pty, TCP and
 * a Unix socket, carrying every event type.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE 1
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "cardlink/error.h"
#include "test_util.h"
#include "vline.h"

static void all_events(struct cl_vline *a, struct cl_vline *b)
{
    struct cl_vline_event ev;
    static uint8_t big[3000];
    uint8_t types[] = {CL_VLINE_COLD_RESET, CL_VLINE_WARM_RESET, CL_VLINE_POWER_OFF,
                       CL_VLINE_CARD_INSERTED, CL_VLINE_CARD_REMOVED,
                       CL_VLINE_PARITY_ERROR, 0x7E};
    uint16_t f, d;
    uint32_t clk;
    size_t i, got = 0;

    for (i = 0; i < sizeof(types); i++) {
        ck_assert_int_eq(cl_vline_send(a, types[i], NULL, 0), CL_OK);
        ck_assert_int_eq(cl_vline_recv(b, &ev, 2000), CL_OK);
        ck_assert_uint_eq(ev.type, types[i]);
        ck_assert_uint_eq(ev.len, 0);
    }
    ck_assert_int_eq(cl_vline_send_clock(a, 512, 32, 4000000), CL_OK);
    ck_assert_int_eq(cl_vline_recv(b, &ev, 2000), CL_OK);
    cl_assert_bytes(ev.data, ev.len, "02 00 00 20 00 3D 09 00");
    ck_assert_int_eq(cl_vline_clock_parse(&ev, &f, &d, &clk), CL_OK);
    ck_assert_uint_eq(f, 512);
    ck_assert_uint_eq(d, 32);
    ck_assert_uint_eq(clk, 4000000);
    /* DATA of every byte value, split in frames of 1024 (a pattern whose
     * period is not 1024, so a frame sent from the wrong offset shows) */
    for (i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i ^ (i >> 8));
    ck_assert_int_eq(cl_vline_send_data(b, big, sizeof(big)), CL_OK);
    while (got < sizeof(big)) {
        ck_assert_int_eq(cl_vline_recv(a, &ev, 2000), CL_OK);
        ck_assert_uint_eq(ev.type, CL_VLINE_DATA);
        ck_assert_mem_eq(ev.data, big + got, ev.len);
        got += ev.len;
    }
    ck_assert_int_eq(cl_vline_recv(a, &ev, 0), CL_ERR_TIMEOUT);
    ck_assert_int_eq(cl_vline_recv(a, &ev, 20), CL_ERR_TIMEOUT);
    ck_assert_int_eq(cl_vline_clock_parse(&ev, &f, NULL, &clk), CL_ERR_ARG);
}

START_TEST(vline_socketpair)
{
    struct cl_vline a, b;
    struct cl_vline_event ev;
    int sv[2];
    uint8_t bad[] = {0x01, 0x04, 0x01};
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    cl_vline_init(&a);
    cl_vline_init(&b);
    ck_assert_int_eq(cl_vline_open_fd(&a, sv[0]), CL_OK);
    ck_assert_int_eq(cl_vline_open_fd(&b, sv[1]), CL_OK);
    ck_assert_int_eq(cl_vline_open_fd(&b, sv[1]), CL_ERR_STATE);
    all_events(&a, &b);
    /* a length beyond the maximum: out of step */
    ck_assert_int_eq(write(sv[0], bad, 3), 3);
    ck_assert_int_eq(cl_vline_recv(&b, &ev, 1000), CL_ERR_TOO_LONG);
    ck_assert_int_eq(cl_vline_send(&a, 1, NULL, 1), CL_ERR_ARG);
    ck_assert_int_eq(cl_vline_send(&a, 1, bad, 1025), CL_ERR_ARG);
    cl_vline_close(&a);
    ck_assert_int_eq(cl_vline_recv(&b, &ev, 1000), CL_ERR_CLOSED);
    ck_assert_int_eq(cl_vline_send(&a, 1, NULL, 0), CL_ERR_STATE);
    ck_assert_int_eq(cl_vline_recv(&a, &ev, 0), CL_ERR_STATE);
    cl_vline_close(&b);
    cl_vline_close(NULL);
    ck_assert_str_eq(cl_vline_type_name(CL_VLINE_COLD_RESET), "COLD_RESET");
    ck_assert_str_eq(cl_vline_type_name(0x99), "?");
}
END_TEST

START_TEST(vline_pty)
{
    struct cl_vline card, dev;
    cl_vline_init(&card);
    cl_vline_init(&dev);
    ck_assert_int_eq(cl_vline_listen(&card, "pty"), CL_OK);
    ck_assert_int_eq(strncmp(cl_vline_name(&card), "pty:/dev/", 9), 0);
    ck_assert_int_eq(cl_vline_accept(&card, 0), CL_OK);
    ck_assert_int_eq(cl_vline_connect(&dev, cl_vline_name(&card)), CL_OK);
    all_events(&dev, &card);
    all_events(&card, &dev);
    cl_vline_close(&dev);
    cl_vline_close(&card);
    ck_assert_int_eq(cl_vline_connect(&dev, "pty:/nonexistent/x"), CL_ERR_IO);
}
END_TEST

START_TEST(vline_tcp_unix)
{
    struct cl_vline card, dev;
    char path[64];
    cl_vline_init(&card);
    cl_vline_init(&dev);
    ck_assert_int_eq(cl_vline_listen(&card, "tcp:127.0.0.1:0"), CL_OK);
    ck_assert_int_eq(cl_vline_accept(&card, 10), CL_ERR_TIMEOUT);
    ck_assert_int_eq(cl_vline_connect(&dev, cl_vline_name(&card)), CL_OK);
    ck_assert_int_eq(cl_vline_accept(&card, 2000), CL_OK);
    all_events(&dev, &card);
    cl_vline_close(&dev);
    cl_vline_close(&card);

    snprintf(path, sizeof(path), "unix:/tmp/cl-vline-test-%d", (int)getpid());
    ck_assert_int_eq(cl_vline_listen(&card, path), CL_OK);
    ck_assert_int_eq(cl_vline_listen(&card, path), CL_ERR_STATE);
    ck_assert_int_eq(cl_vline_connect(&dev, path), CL_OK);
    ck_assert_int_eq(cl_vline_accept(&card, 2000), CL_OK);
    all_events(&card, &dev);
    cl_vline_close(&dev);
    cl_vline_close(&card);
    ck_assert_int_eq(access(path + 5, F_OK), -1);

    ck_assert_int_eq(cl_vline_listen(&card, "udp:1"), CL_ERR_ARG);
    ck_assert_int_eq(cl_vline_listen(&card, "tcp:1.2.3:5"), CL_ERR_ARG);
    ck_assert_int_eq(cl_vline_listen(&card, "tcp:127.0.0.1:70000"), CL_ERR_ARG);
    ck_assert_int_eq(cl_vline_connect(&dev, "bogus"), CL_ERR_ARG);
    ck_assert_int_eq(cl_vline_accept(&card, 0), CL_ERR_STATE);
    ck_assert_int_eq(cl_vline_open_fd(&card, -1), CL_ERR_ARG);
}
END_TEST

/* The NULL contract, a Unix path at its longest, and no descriptor left
 * behind by a listen or connect that fails. */
START_TEST(vline_edges)
{
    struct cl_vline a, b;
    struct cl_vline_event ev;
    char path[128], spec[140];
    int before;
    size_t n;

    cl_vline_init(&a);
    cl_vline_init(&b);
    ck_assert_int_eq(cl_vline_listen(NULL, "pty"), CL_ERR_ARG);
    ck_assert_int_eq(cl_vline_listen(&a, NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_vline_connect(NULL, "pty:/dev/null"), CL_ERR_ARG);
    ck_assert_int_eq(cl_vline_connect(&a, NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_vline_recv(NULL, &ev, 0), CL_ERR_ARG);
    ck_assert_int_eq(cl_vline_recv(&a, NULL, 0), CL_ERR_ARG);
    ck_assert_int_eq(cl_vline_fd(&a), -1);

    /* "unix:" + path + NUL fits the 108-byte name: a path of 102 bytes */
    n = (size_t)snprintf(path, sizeof(path), "/tmp/cl-vl-%d-", (int)getpid());
    memset(path + n, 'p', 102 - n);
    path[102] = '\0';
    snprintf(spec, sizeof(spec), "unix:%s", path);
    ck_assert_int_eq(cl_vline_listen(&a, spec), CL_OK);
    ck_assert_str_eq(cl_vline_name(&a), spec);
    cl_vline_close(&a);
    ck_assert_int_eq(access(path, F_OK), -1);
    strcat(spec, "q");   /* 103 */
    ck_assert_int_eq(cl_vline_listen(&a, spec), CL_ERR_ARG);
    ck_assert_int_eq(cl_vline_connect(&a, spec), CL_ERR_ARG);

    before = cl_test_open_fds();
    ck_assert_int_eq(cl_vline_listen(&b, "tcp:127.0.0.1:0"), CL_OK);
    snprintf(spec, sizeof(spec), "%s", cl_vline_name(&b));
    ck_assert_int_eq(cl_vline_connect(&a, spec), CL_OK);
    ck_assert_str_eq(cl_vline_name(&a), spec);   /* the peer it was given */
    ck_assert_int_eq(cl_vline_send_data(&a, NULL, 1), CL_ERR_ARG);
    ck_assert_int_eq(cl_vline_send_data(&a, NULL, 0), CL_OK);
    cl_vline_close(&a);
    ck_assert_int_eq(cl_vline_send_data(&a, NULL, 0), CL_ERR_STATE);
    ck_assert_int_eq(cl_vline_listen(&a, spec), CL_ERR_IO);          /* port in use */
    ck_assert_int_eq(cl_vline_listen(&a, "unix:/nonexistent/dir/s"), CL_ERR_IO);
    ck_assert_int_eq(cl_vline_connect(&a, "unix:/nonexistent/dir/s"), CL_ERR_IO);
    cl_vline_close(&b);
    ck_assert_int_eq(cl_vline_connect(&a, spec), CL_ERR_IO);         /* refused now */
    ck_assert_int_eq(cl_vline_connect(&a, "pty:/nonexistent/x"), CL_ERR_IO);
    ck_assert_int_eq(cl_test_open_fds(), before);
    ck_assert_int_eq(cl_vline_fd(&a), -1);

    /* recv with a negative time-out waits for as long as it takes */
    {
        int sv[2];
        pid_t pid;
        ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            struct cl_vline c;
            cl_vline_init(&c);
            usleep(300 * 1000);
            _exit(cl_vline_open_fd(&c, sv[1]) == CL_OK &&
                          cl_vline_send(&c, CL_VLINE_CARD_INSERTED, NULL, 0) == CL_OK
                      ? 0
                      : 1);
        }
        close(sv[1]);
        ck_assert_int_eq(cl_vline_open_fd(&a, sv[0]), CL_OK);
        ck_assert_int_eq(cl_vline_recv(&a, &ev, -1), CL_OK);
        ck_assert_uint_eq(ev.type, CL_VLINE_CARD_INSERTED);
        ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
        cl_vline_close(&a);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vline");
    TCase *tc = tcase_create("vline");
    tcase_add_test(tc, vline_socketpair);
    tcase_add_test(tc, vline_pty);
    tcase_add_test(tc, vline_tcp_unix);
    tcase_add_test(tc, vline_edges);
    suite_add_tcase(s, tc);
    return cl_test_run(s);
}
