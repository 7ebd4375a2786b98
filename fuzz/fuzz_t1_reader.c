/*
 * cardlink — libFuzzer target: the T=1 engine in the reader role, fed
 * whatever a card (or a noisy line) could send.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Input: 4 configuration bytes (EDC, IFS negotiation and retries; IFSC;
 * command length; response buffer size), then a program of control bytes:
 *   0x00-0x7F  feed the next (c & 0x3F) + 1 bytes (byte by byte when b6)
 *   0x80-0x9F  timer expired         0xA0-0xBF  parity error
 *   0xC0-0xDF  cl_t1_abort()
 *   0xE0-0xFF  skip (c & 3) rounds of the idle actions
 * After every step the engine is serviced: pending blocks are pulled (by
 * pieces or as a gather list, each acknowledged in two parts) and checked
 * (length, EDC, LEN within IFSC for I-blocks, NAD, PCB, I-block data
 * equal to the command at the engine's offset), finished exchanges are
 * checked (length within the buffer, only the documented errors) and the next
 * action started (an exchange, or a resynch or IFS request every few
 * rounds). abort() on any broken invariant.
 */
#include <stdlib.h>
#include <string.h>

#include "cardlink/edc.h"
#include "cardlink/error.h"
#include "cardlink/t1.h"
#include "t1_fuzz_block.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t cmd[600], resp[600];
static uint8_t edc;
static struct cl_t1_stats stats;

static void check_block(const struct cl_t1 *t1, const uint8_t *p, size_t n)
{
    t1_fuzz_check_frame(p, n, edc);
    if (p[0] != t1->nad)
        abort();
    if (!(p[1] & 0x80)) {           /* I-block: a slice of the command */
        if (p[2] > cl_t1_ifsc(t1) || t1->tx < cmd || p[2] != t1->i_len || p[2] > t1->tx_len ||
            (size_t)(t1->tx - cmd) + p[2] > sizeof(cmd) || memcmp(p + 3, t1->tx, p[2]) != 0)
            abort();
        if (p[1] & 0x1F)
            abort();
    } else if ((p[1] & 0xC0) == 0x80) {
        if (p[2] != 0 || (p[1] & 0x2F) > 2)
            abort();
    } else if ((p[1] & 0x1F) > 3) {
        abort();
    }
}

/* Take the block being sent (by pieces or as a gather list, alternately)
 * and check it. */
static void send_block(struct cl_t1 *t1)
{
    uint8_t blk[CL_T1_BLOCK_MAX];

    check_block(t1, blk, t1_fuzz_take_block(t1, blk));
}

/* The reader is idle: start the next exchange, or now and then a resynch
 * or an IFS request; false after 64 rounds. */
static int next_action(struct cl_t1 *t1, size_t cmd_len, size_t resp_size, unsigned *round)
{
    int rc;

    if (++*round > 64)
        return 0;
    if (*round % 8 == 7)
        rc = cl_t1_resynch(t1);
    else if (*round % 8 == 5)
        rc = cl_t1_request_ifs(t1, (uint8_t)(1 + cmd_len % 254));
    else
        rc = cl_t1_transmit_start(t1, cmd, (cmd_len + *round) % sizeof(cmd), resp, resp_size);
    if (rc != CL_OK)
        abort();
    return 1;
}

/* Move pending bytes out, finish exchanges; false when deactivated. */
static int service(struct cl_t1 *t1, size_t cmd_len, size_t resp_size, unsigned *round)
{
    for (;;) {
        enum cl_want w = cl_t1_want(t1);
        int rc;

        switch (w) {
        case CL_WANT_SEND:
            send_block(t1);
            break;
        case CL_WANT_RECV:
            if (cl_t1_timer(t1) == CL_TIMER_NONE || cl_t1_result(t1) != CL_ERR_STATE)
                abort();
            return 1;
        case CL_WANT_DONE:
            rc = cl_t1_result(t1);
            if (rc >= 0 ? (size_t)rc > resp_size
                        : (rc != CL_ERR_ABORTED && rc != CL_ERR_BUFFER && rc != CL_ERR_PROTOCOL))
                abort();
            if (!next_action(t1, cmd_len, resp_size, round))
                return 0;
            break;
        case CL_WANT_IDLE:
            if (!next_action(t1, cmd_len, resp_size, round))
                return 0;
            break;
        case CL_WANT_FAILED:
            if (cl_t1_error(t1) != CL_ERR_RESYNCH && cl_t1_error(t1) != CL_ERR_TIMEOUT)
                abort();
            return 0;
        default:
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct cl_t1 t1;
    struct cl_t1_config cfg;
    size_t i, cmd_len, resp_size;
    unsigned round = 0;

    t1_fuzz_block_no = 0;

    if (size < 4)
        return 0;
    for (i = 0; i < sizeof(cmd); i++)
        cmd[i] = (uint8_t)(i * 13 + 7);
    cl_t1_config_default(&cfg, CL_T1_ROLE_READER);
    cfg.edc = data[0] & 1;
    edc = cfg.edc;
    cfg.ifs_at_start = (data[0] >> 1) & 1;
    cfg.max_retries = (uint8_t)(1 + ((data[0] >> 2) & 3));
    cfg.ifsd = (data[0] & 0x10) ? 32 : 254;
    cfg.nad = (data[0] & 0x20) ? 0x21 : 0;
    cfg.ifsc = data[1] == 0 || data[1] == 255 ? 32 : data[1];
    cmd_len = (size_t)data[2] * 2;
    resp_size = (size_t)data[3] * 2;
    if (cl_t1_setup(&t1, &cfg, &stats) != CL_OK)
        abort();
    if (!service(&t1, cmd_len, resp_size, &round))
        return 0;
    i = 4;
    while (i < size) {
        uint8_t c = data[i++];

        if (c < 0x80) {
            size_t n = (size_t)(c & 0x3F) + 1;

            if (n > size - i)
                n = size - i;
            while (n > 0 && cl_t1_want(&t1) == CL_WANT_RECV) {
                size_t chunk = (c & 0x40) ? 1 : n;
                int rc = cl_t1_feed(&t1, data + i, chunk);

                if (rc < 1 || (size_t)rc > chunk)
                    abort();
                i += (size_t)rc;
                n -= (size_t)rc;
                if (!service(&t1, cmd_len, resp_size, &round))
                    return 0;
            }
            i += n;     /* out of turn: dropped */
        } else if (c < 0xA0) {
            if (cl_t1_timeout(&t1) != CL_OK)    /* service() left it in RECV */
                abort();
        } else if (c < 0xC0) {
            if (cl_t1_parity_error(&t1) != CL_OK)
                abort();
        } else if (c < 0xE0) {
            int rc = cl_t1_abort(&t1);

            if (rc != CL_OK && rc != CL_ERR_STATE)
                abort();
        } else {
            round += c & 3;     /* steer the next idle action */
        }
        if (!service(&t1, cmd_len, resp_size, &round))
            return 0;
    }
    return 0;
}
