/*
 * cardlink — libFuzzer target: the T=0 reader engine against an arbitrary
 * card.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Input: byte 0 configuration (b0 EMV warning rule, b1..b2 D index, b3..b6
 * WI), byte 1 response buffer size (n * 5 + 2; FF: 4096), bytes 2..3 the
 * command APDU length (big-endian, mod 1024), the command APDU, then the
 * card's bytes. In the card's bytes FE is an escape: FE 00 the WT timer
 * expires, FE 01 a parity error, FE 02 the next feed is split byte by
 * byte, FE anything else a literal FE.
 *
 * Cross-checks (abort()): what the engine sends is 5-byte headers whose INS
 * is the command's, GET RESPONSE or ENVELOPE, and command data taken in
 * order straight from the caller's buffer (case 3/4: after the header,
 * 3E/4E: the whole APDU); a response is 2..resp_size bytes ending in a
 * valid SW1; a failure is CL_ERR_TIMEOUT, CL_ERR_PARITY or CL_ERR_PROTOCOL;
 * the counters add up; nothing is accepted after a failure.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cardlink/t0.h"
#include "cardlink/apdu.h"
#include "cardlink/error.h"

static void check(int ok)
{
    if (!ok)
        abort();
}

static const uint8_t di[4] = { 1, 2, 4, 8 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t resp[4096];
    struct cl_t0 t0;
    struct cl_t0_config cfg;
    struct cl_apdu a;
    enum cl_apdu_case c;
    const uint8_t *cmd, *next_data = NULL;
    size_t clen, rsize, i, hdr_bytes = 0;
    int rc;
    bool split = false;

    if (size < 4)
        return 0;
    cl_t0_config_default(&cfg, CL_T0_ROLE_READER);
    cfg.warning_get_response = data[0] & 1u;
    cfg.d = di[(data[0] >> 1) & 3u];
    cfg.wi = (uint8_t)((data[0] >> 3) & 15u);
    rsize = data[1] == 0xFF ? sizeof(resp) : (size_t)data[1] * 5u + 2u;
    clen = ((size_t)data[2] << 8 | data[3]) % 1024u;
    if (clen > size - 4)
        clen = size - 4;
    cmd = data + 4;
    i = 4 + clen;
    check(cl_t0_setup(&t0, &cfg) == CL_OK);
    rc = cl_t0_transmit_start(&t0, cmd, clen, resp, rsize);
    if (rc != CL_OK) {
        check(rc == CL_ERR_TRUNCATED || rc == CL_ERR_MALFORMED ||
              rc == CL_ERR_LENGTH || rc == CL_ERR_RESERVED ||
              rc == CL_ERR_BUFFER);
        check(cl_t0_want(&t0) == CL_T0_IDLE);
        return 0;
    }
    check(cl_apdu_decode(cmd, clen, &a, &c) == CL_OK);
    next_data = CL_APDU_CASE_IS_EXTENDED(c) && c != CL_APDU_CASE_2E ? cmd
                                                                    : cmd + 5;

    for (;;) {
        enum cl_want w = cl_t0_want(&t0);
        if (w == CL_T0_SEND) {
            const uint8_t *p;
            size_t n = cl_t0_pull(&t0, &p);
            check(n > 0 && p != NULL);
            if (p >= cmd && p < cmd + clen) {
                check(hdr_bytes % 5u == 0);
                check(p == next_data && p + n <= cmd + clen);
                next_data += n;
            } else {
                size_t k;
                for (k = 0; k < n; k++, hdr_bytes++)
                    if (hdr_bytes % 5u == 1)
                        check(p[k] == a.ins || p[k] == 0xC0 || p[k] == 0xC2);
            }
            check(cl_t0_sent(&t0, n) == CL_OK);
            continue;
        }
        if (w != CL_T0_RECV)
            break;
        check(cl_t0_timer(&t0) >= 960u && cl_t0_timer(&t0) != CL_TIMER_NONE);
        if (i >= size)
            break;
        if (data[i] == 0xFE && i + 1 < size && data[i + 1] <= 2) {
            if (data[i + 1] == 0)
                check(cl_t0_timeout(&t0) == CL_OK);
            else if (data[i + 1] == 1)
                check(cl_t0_parity_error(&t0) == CL_OK);
            else
                split = true;
            i += 2;
            continue;
        }
        {
            size_t n = 1;
            if (data[i] == 0xFE)
                i++;        /* literal FE (FE FE, or FE at the end) */
            if (!split)
                while (i + n < size && data[i + n] != 0xFE)
                    n++;
            split = false;
            if (i >= size)
                break;
            rc = cl_t0_feed(&t0, data + i, n);
            if (rc < 0) {
                check(rc == CL_ERR_PROTOCOL);
                break;
            }
            check(rc >= 1 && (size_t)rc <= n);
            i += (size_t)rc;
        }
    }

    switch (cl_t0_want(&t0)) {
    case CL_T0_DONE: {
        const struct cl_t0_stats *st = cl_t0_stats(&t0);
        rc = cl_t0_result(&t0);
        check(rc >= 2 && (size_t)rc <= rsize);
        check((resp[rc - 2] & 0xF0u) == 0x90u ||
              ((resp[rc - 2] & 0xF0u) == 0x60u && resp[rc - 2] != 0x60u));
        check(st->tpdus == st->get_responses + st->reissues + st->envelopes +
                               (st->envelopes ? 0u : 1u));
        check(hdr_bytes == 5u * st->tpdus);
        /* bytes after the end are out of turn */
        if (i < size) {
            check(cl_t0_feed(&t0, data + i, size - i) == CL_ERR_PROTOCOL);
            check(cl_t0_want(&t0) == CL_T0_DEACTIVATE);
        }
        break;
    }
    case CL_T0_DEACTIVATE:
        rc = cl_t0_error(&t0);
        check(rc == CL_ERR_TIMEOUT || rc == CL_ERR_PARITY ||
              rc == CL_ERR_PROTOCOL);
        check(cl_t0_feed(&t0, data, 1) == CL_ERR_STATE);
        check(cl_t0_result(&t0) == CL_ERR_STATE);
        break;
    case CL_T0_RECV:
        check(i >= size);
        break;
    default:
        check(0);
    }
    return 0;
}
