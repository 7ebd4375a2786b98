/*
 * cardlink — libFuzzer target: the T=1 engine in the card role, fed
 * whatever a reader (or a noisy line) could send.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Input: 3 configuration bytes (EDC and application behaviour; IFSC;
 * command buffer size), then a program of control bytes:
 *   0x00-0x7F  feed the next (c & 0x3F) + 1 bytes (byte by byte when b6)
 *   0x80-0x9F  timer expired (refused unless inside a block)
 *   0xA0-0xBF  parity error          0xC0-0xDF  cl_t1_abort()
 *   0xE0-0xFF  the application's next answer: respond (c & 3 == 0, 1),
 *              S(WTX request) (2), S(IFS request) (3)
 * The engine is serviced after every step: blocks pulled (by pieces or as
 * a gather list, acknowledged in two parts) are checked (length, EDC,
 * LEN within IFSD for I-blocks, PCB, I-block data equal to the response at
 * the engine's offset); a command handed to
 * the application must fit its buffer. abort() on any broken invariant.
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
    if (p[0] & 0x88)
        abort();
    if (!(p[1] & 0x80)) {
        if (p[2] > cl_t1_ifsd(t1) || p[2] != t1->i_len || p[2] > t1->tx_len ||
            t1->tx < resp || (size_t)(t1->tx - resp) + p[2] > sizeof(resp) ||
            memcmp(p + 3, t1->tx, p[2]) != 0 || (p[1] & 0x1F))
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

static void service(struct cl_t1 *t1, size_t buf_size, uint8_t *app)
{
    for (;;) {
        int rc;

        switch (cl_t1_want(t1)) {
        case CL_WANT_SEND:
            send_block(t1);
            break;
        case CL_WANT_RECV:
            if (cl_t1_result(t1) != CL_ERR_STATE)
                abort();
            return;
        case CL_WANT_DONE:
            rc = cl_t1_result(t1);
            if (rc < 0 || (size_t)rc > buf_size)
                abort();
            switch (*app & 3) {
            case 2:
                rc = cl_t1_card_request_wtx(t1, (uint8_t)(1 + (*app >> 2)));
                break;
            case 3:
                rc = cl_t1_card_request_ifs(t1, (uint8_t)(1 + (*app >> 2)));
                break;
            default:    /* a response of a length derived from the command */
                memcpy(resp, cmd, (size_t)rc);
                rc = cl_t1_card_respond(t1, resp, ((size_t)rc * 3 + *app) % sizeof(resp));
                break;
            }
            *app = 0;   /* then respond */
            if (rc != CL_OK)
                abort();
            break;
        default:
            abort();    /* a card never idles, finishes or deactivates */
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct cl_t1 t1;
    struct cl_t1_config cfg;
    size_t i, buf_size;
    uint8_t app = 0;

    t1_fuzz_block_no = 0;

    if (size < 3)
        return 0;
    cl_t1_config_default(&cfg, CL_T1_ROLE_CARD);
    cfg.edc = data[0] & 1;
    edc = cfg.edc;
    app = (uint8_t)(data[0] >> 1);
    cfg.ifsc = data[1] == 0 || data[1] == 255 ? 32 : data[1];
    buf_size = 1 + (size_t)data[2] * 2;
    if (cl_t1_setup(&t1, &cfg, &stats) != CL_OK || cl_t1_card_listen(&t1, cmd, buf_size) != CL_OK)
        abort();
    service(&t1, buf_size, &app);
    i = 3;
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
                service(&t1, buf_size, &app);
            }
            i += n;
        } else if (c < 0xA0) {
            uint32_t tmo = cl_t1_timer(&t1);

            if (cl_t1_timeout(&t1) != (tmo != CL_TIMER_NONE ? CL_OK : CL_ERR_STATE))
                abort();
        } else if (c < 0xC0) {
            if (cl_t1_parity_error(&t1) != CL_OK)
                abort();
        } else if (c < 0xE0) {
            int rc = cl_t1_abort(&t1);

            if (rc != CL_OK && rc != CL_ERR_STATE)
                abort();
        } else {
            app = c;
        }
        service(&t1, buf_size, &app);
    }
    return 0;
}
