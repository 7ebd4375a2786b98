/*
 * cardlink — the card session over the virtual card line (ports/posix
 * vline_card.c) to the card simulator in a child process: activation with
 * PPS, APDUs over T=0 and T=1, both conventions, a parity error event and
 * the card pulled (a CARD_REMOVED frame) mid-session.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cardlink/card.h"
#include "cardlink/error.h"
#include "cardlink/sim.h"
#include "test_util.h"
#include "vline.h"
#include "vline_card.h"

/* A private frame type the test sends to the child: pull the card. */
#define T_PULL 0x7Fu

static void child_pump(struct cl_sim *sim, struct cl_vline *vl)
{
    const uint8_t *p;
    size_t n;
    int rv;

    while (cl_sim_want(sim) == CL_SIM_SEND) {
        n = cl_sim_pull(sim, &p);
        if (n == 0)
            _exit(3);
        rv = cl_vline_send_data(vl, p, n);
        /* The device hung up while the card still answered (it sends a
         * command after pulling the card and closes once it sees the
         * removal): the end, as when recv sees it. */
        if (rv == CL_ERR_CLOSED)
            _exit(cl_sim_stats(sim)->clock_mismatch == 0 ? 0 : 7);
        if (rv != CL_OK || cl_sim_sent(sim, n) != CL_OK)
            _exit(3);
    }
}

/* The card side: the simulator driven by vline frames until the stream
 * closes. */
static void child(int fd, unsigned k)
{
    static struct cl_sim sim;
    static struct cl_sim_fs fs;
    static struct cl_vline vl;
    static struct cl_vline_event ev;
    struct cl_sim_config cfg;
    struct cl_sim_app app;
    uint16_t f, d;
    uint32_t hz;
    int rv;

    cl_sim_config_default(&cfg, (k & 1u) != 0);
    if (k & 2u)
        cfg.atr.opts |= CL_ATR_B_INVERSE;
    cl_sim_fs_init(&fs, 1, 0);
    app = cl_sim_fs_app(&fs);
    cl_vline_init(&vl);
    if (cl_sim_setup(&sim, &cfg, &app) != CL_OK ||
        cl_vline_open_fd(&vl, fd) != CL_OK)
        _exit(2);
    for (;;) {
        rv = cl_vline_recv(&vl, &ev, 5000);
        if (rv == CL_ERR_CLOSED)    /* done: the device saw no mismatch */
            _exit(cl_sim_stats(&sim)->clock_mismatch == 0 ? 0 : 7);
        if (rv != CL_OK)
            _exit(4);
        switch (ev.type) {
        case CL_VLINE_COLD_RESET:
        case CL_VLINE_WARM_RESET:
            if (cl_sim_reset(&sim, ev.type == CL_VLINE_WARM_RESET) != CL_OK)
                _exit(5);
            break;
        case CL_VLINE_POWER_OFF:
            cl_sim_power_off(&sim);
            break;
        case CL_VLINE_DATA:
            if (cl_sim_feed(&sim, ev.data, ev.len) < 0)
                _exit(6);
            break;
        case CL_VLINE_CLOCK:
            if (cl_vline_clock_parse(&ev, &f, &d, &hz) == CL_OK)
                rv = cl_sim_clock(&sim, f, d);
            break;
        case T_PULL:
            rv = cl_vline_send(&vl, CL_VLINE_CARD_REMOVED, NULL, 0);
            break;
        default:
            break;
        }
        child_pump(&sim, &vl);
    }
}

START_TEST(test_vline_session)
{
    static struct cl_vline vl;
    static struct cl_vline_card vc;
    struct cl_card card;
    uint8_t cmd[300], resp[300];
    size_t rl = 0, i;
    int sv[2], status = -1;
    pid_t pid;

    signal(SIGPIPE, SIG_IGN);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(sv[0]);
        child(sv[1], (unsigned)_i);
    }
    close(sv[1]);
    cl_vline_init(&vl);
    ck_assert_int_eq(cl_vline_open_fd(&vl, sv[0]), CL_OK);
    cl_vline_card_init(&vc, &vl);
    cl_card_init_line(&card, cl_vline_card_line(), &vc, NULL);

    ck_assert_int_eq(cl_card_activate(&card), CL_OK);
    ck_assert_int_eq(cl_card_protocol(&card), (_i & 1) ? 1 : 0);
    ck_assert_uint_eq(cl_card_info(&card)->pps, CL_CARD_PPS_ACCEPTED);
    ck_assert_uint_eq(cl_card_params(&card)->f, 512);
    ck_assert_uint_eq(cl_card_params(&card)->inverse, (_i & 2) != 0);

    /* GENERATE 200 bytes: case 2 */
    memcpy(cmd, "\x80\xE2\x00\xC8\xC8", 5);
    ck_assert_int_eq(cl_card_transmit(&card, cmd, 5, resp, sizeof(resp), &rl),
                     CL_OK);
    ck_assert_uint_eq(rl, 202);
    for (i = 0; i < 200; i++)
        ck_assert_uint_eq(resp[i], (uint8_t)(i * 7u + 1u));
    /* ECHO 100 bytes: case 4 */
    memcpy(cmd, "\x80\xEE\x00\x64\x64", 5);
    for (i = 0; i < 100; i++)
        cmd[5 + i] = (uint8_t)(0xA0 ^ i);
    cmd[105] = 0x00;
    ck_assert_int_eq(cl_card_transmit(&card, cmd, 106, resp, sizeof(resp),
                                      &rl), CL_OK);
    ck_assert_uint_eq(rl, 102);
    ck_assert_mem_eq(resp, cmd + 5, 100);
    ck_assert_int_eq(cl_vline_card_line()->present(&vc), 1);

    /* the card is pulled */
    ck_assert_int_eq(cl_vline_send(&vl, T_PULL, NULL, 0), CL_OK);
    ck_assert_int_eq(cl_card_transmit(&card, cmd, 106, resp, sizeof(resp),
                                      &rl), CL_ERR_CARD_REMOVED);
    ck_assert_uint_eq(cl_card_state(&card), CL_CARD_CLOSED);
    ck_assert_int_eq(cl_card_activate(&card), CL_ERR_CARD_REMOVED);

    cl_vline_close(&vl);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

static Suite *card_vline_suite(void)
{
    Suite *s = suite_create("card_vline");
    TCase *tc = tcase_create("vline");

    /* 0: T=0, 1: T=1, 2: T=0 inverse, 3: T=1 inverse */
    tcase_add_loop_test(tc, test_vline_session, 0, 4);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(card_vline_suite());
}
