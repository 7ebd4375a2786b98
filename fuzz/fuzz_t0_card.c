/*
 * cardlink — libFuzzer target: the T=0 card engine against an arbitrary
 * reader and an arbitrary card application.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Input: byte 0 configuration (b0 single-byte ACKs, b1 warning first),
 * byte 1 the command buffer size (5 + n), then a stream read in turn by
 * the line and by the application. When the engine wants bytes, the next
 * input byte L gives a feed length (L & 7, 0 meaning 8; L = FF: a parity
 * error) of the following bytes. When it wants the application, the next
 * byte chooses: & 3 = 0 receive, 1 NULL, 2 respond with SW only (two
 * bytes), 3 respond with a data length (next byte * 3, up to 765) of a
 * pattern and a status word (next two bytes).
 *
 * Cross-checks (abort()): a header is 5 bytes, an APDU 5 + P3 bytes within
 * the buffer; response data goes out straight from the application's
 * buffer, in order, never past its data; the card sends nothing but
 * procedure bytes, status words and that data; a refused call changes
 * nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cardlink/t0.h"
#include "cardlink/error.h"

static void check(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The APDU-level card rules (t0_apdu.c, what the vpcd client runs) on the
 * same input read as commands: a length byte, that many command bytes, a
 * response length byte; the answers must fit and say what they promise. */
static void apdu_level(const uint8_t *data, size_t size)
{
    static struct cl_t0_apdu_card k;
    static uint8_t tpdu[CL_T0_TPDU_MAX], out[CL_T0_OUT_MAX], resp[300];
    size_t i = 0;

    memset(&k, 0, sizeof(k));
    while (i < size) {
        size_t n = data[i++], tl = 99, ol = 99, r, j;
        int rc;

        if (n > size - i)
            n = size - i;
        rc = cl_t0_apdu_card_command(&k, data + i, n, tpdu, &tl, out, &ol);
        i += n;
        check(rc == 0 || rc == 1);
        if (rc == 1) {
            check(tl == 0 && ol >= 2 && ol <= CL_T0_OUT_MAX);
            continue;
        }
        check(ol == 0 && tl <= CL_T0_TPDU_MAX && (tl == 0 || tl >= 5));
        r = i < size ? (size_t)data[i++] + 2u : 2u;
        for (j = 0; j + 2 < r; j++)
            resp[j] = (uint8_t)j;
        resp[r - 2] = 0x90;
        resp[r - 1] = 0x00;
        rc = cl_t0_apdu_card_response(&k, resp, r, out, &ol);
        check(rc == 0 || rc == 1);
        check(rc == 1 ? ol == 0 : (ol >= 2 && ol <= CL_T0_OUT_MAX));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t cmd[260], app[800];
    struct cl_t0 t0;
    struct cl_t0_config cfg;
    size_t i = 2, csize, app_len = 0, served = 0, rounds = 0;
    int rc;

    apdu_level(data, size);
    if (size < 2)
        return 0;
    cl_t0_config_default(&cfg, CL_T0_ROLE_CARD);
    cfg.single_byte_ack = data[0] & 1u;
    cfg.warning_first = (data[0] >> 1) & 1u;
    csize = 5u + data[1] % 256u;
    check(cl_t0_setup(&t0, &cfg) == CL_OK);
    check(cl_t0_card_listen(&t0, cmd, csize) == CL_OK);

    while (++rounds < 100000u) {
        enum cl_want w = cl_t0_want(&t0);

        if (w == CL_T0_SEND) {
            const uint8_t *p;
            size_t n = cl_t0_pull(&t0, &p);
            check(n > 0 && p);
            if (p >= app && p < app + sizeof(app)) {
                /* response data: in order, inside what the app gave */
                check(p == app + served && served + n <= app_len - 2u);
                served += n;
            } else {
                check(n <= 2);
            }
            check(cl_t0_sent(&t0, n) == CL_OK);
            continue;
        }
        if (i >= size)
            break;
        if (w == CL_T0_RECV) {
            size_t n = data[i] & 7u;
            if (data[i++] == 0xFF) {
                check(cl_t0_parity_error(&t0) == CL_OK);
                check(cl_t0_want(&t0) == CL_T0_DEACTIVATE);
                break;
            }
            if (!n)
                n = 8;
            if (n > size - i)
                n = size - i;
            if (!n)
                break;
            rc = cl_t0_feed(&t0, data + i, n);
            check(rc >= 1 && (size_t)rc <= n);
            i += (size_t)rc;
            continue;
        }
        if (w == CL_T0_HEADER || w == CL_T0_APDU) {
            unsigned op = data[i++] & 3u;
            rc = cl_t0_result(&t0);
            if (w == CL_T0_HEADER)
                check(rc == 5);
            else
                check(rc == 5 + cmd[4] && (size_t)rc <= csize);
            if (op == 0) {
                rc = cl_t0_card_receive(&t0);
                if (w == CL_T0_APDU)
                    check(rc == CL_ERR_STATE);
                else if (5u + cmd[4] > csize)
                    check(rc == CL_ERR_BUFFER && cl_t0_want(&t0) == CL_T0_HEADER);
                else
                    check(rc == CL_OK);
                if (rc == CL_OK || rc == CL_ERR_BUFFER)
                    continue;
                op = 2;
            }
            if (op == 1) {
                check(cl_t0_card_null(&t0) == CL_OK);
                continue;
            }
            app_len = 0;
            if (op == 3 && i < size) {
                size_t k;
                app_len = (size_t)data[i++] * 3u;
                for (k = 0; k < app_len; k++)
                    app[k] = (uint8_t)(k * 7u + 1u);
            }
            app[app_len] = i < size ? data[i++] : 0x90;
            app[app_len + 1] = i < size ? data[i++] : 0x00;
            app_len += 2;
            served = 0;
            rc = cl_t0_card_respond(&t0, app, app_len);
            if (rc != CL_OK) {
                unsigned sw1 = app[app_len - 2];
                check(rc == CL_ERR_ARG);
                check((sw1 & 0xF0u) != 0x90u &&
                      ((sw1 & 0xF0u) != 0x60u || sw1 == 0x60u));
                check(cl_t0_want(&t0) == w);
                app[app_len - 2] = 0x90;
                check(cl_t0_card_respond(&t0, app, app_len) == CL_OK);
            }
            continue;
        }
        check(w == CL_T0_DEACTIVATE);
        check(cl_t0_error(&t0) == CL_ERR_PROTOCOL || cl_t0_error(&t0) == CL_ERR_PARITY);
        break;
    }
    check(cl_t0_timeout(&t0) == CL_ERR_STATE);
    return 0;
}
