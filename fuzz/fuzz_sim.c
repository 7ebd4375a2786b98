/*
 * cardlink — libFuzzer target: the whole card-side session of the
 * simulator (cl_sim_*, cardlink/sim.h: ATR, PPS, T=0/T=1 card roles, the
 * file-system application) fed arbitrary reader bytes and line events.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Input: byte 0 configuration: b0 T=1 (else T=0), b1 both protocols,
 * b2 inverse convention, b3 CRC, b4-b5 PPS policy (3: accept), b6 T=0
 * single-byte ACKs, b7 an unexpected S-block after the 2nd command;
 * byte 1: b0-b1 slow (busy 0..3 times), b2-b7 IFSC (0: 254). Then events,
 * each an opcode byte: F0 cold reset, F1 warm reset, F2 parity error on
 * the next byte, F3 the card's timer expires (when armed), F4 CLOCK with
 * the negotiated F and D, F5 CLOCK with F 1 D 1, F6 power off; any other
 * byte L: feed the next (L & 0x3F) + 1 bytes. After every event the card's
 * output is drained.
 *
 * Cross-checks (abort()): no call on a set-up session fails other than as
 * documented; cl_sim_pull() gives 1..n bytes exactly in SEND and nothing
 * otherwise; cl_sim_sent() accepts what was pulled; after a partial
 * sent() the next pull starts with the rest, byte for byte; draining ends (the
 * card waits again) within a bound; right after a reset the card sends its
 * ATR, byte-exact (coded in the inverse convention when configured); the
 * protocol is 0 or 1 and F, D stay values of the tables; feeding always
 * consumes every byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cardlink/atr.h"
#include "cardlink/error.h"
#include "cardlink/rate.h"
#include "cardlink/sim.h"

static void check(int ok)
{
    if (!ok)
        abort();
}

static struct cl_sim sim;
static struct cl_sim_fs fs;

/* Drain the card's output into out (up to out_size kept); returns the
 * count sent. */
static size_t drain(uint8_t *out, size_t out_size)
{
    size_t total = 0;
    unsigned guard = 0;
    while (cl_sim_want(&sim) == CL_WANT_SEND) {
        const uint8_t *p = NULL;
        size_t n = cl_sim_pull(&sim, &p), k;
        check(n > 0 && p != NULL);
        check(++guard < 100000u);
        for (k = 0; k < n && total + k < out_size; k++)
            out[total + k] = p[k];
        /* sometimes acknowledge in two steps */
        if (n > 1 && (guard & 1u)) {
            size_t m;
            check(cl_sim_sent(&sim, 1) == CL_OK);
            n--;
            total++;
            if (cl_sim_want(&sim) != CL_WANT_SEND)
                continue;
            /* the rest of the chunk comes first, the same bytes; a chunk
             * cut to the inverse-coding buffer (64 bytes) may now lend
             * more behind it */
            m = cl_sim_pull(&sim, &p);
            check(m >= n && p != NULL);
            for (k = 0; k < n && total + k < out_size; k++)
                check(p[k] == out[total + k]);
        }
        check(cl_sim_sent(&sim, n) == CL_OK);
        total += n;
    }
    {
        const uint8_t *p = (const uint8_t *)1;
        check(cl_sim_pull(&sim, &p) == 0 && p == NULL);
        check(cl_sim_sent(&sim, 0) == CL_ERR_STATE);
    }
    return total;
}

static void check_state(void)
{
    enum cl_want w = cl_sim_want(&sim);
    check(w == CL_WANT_CLOSED || w == CL_WANT_RECV || w == CL_WANT_FAILED);
    check(cl_sim_protocol(&sim) <= 1);
    check(cl_rate_fi_index(cl_sim_f(&sim)) >= 0);
    check(cl_rate_di_index(cl_sim_d(&sim)) >= 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cl_sim_config cfg;
    struct cl_cardapp app;
    static uint8_t out[4096];
    size_t off = 2;
    uint8_t c0, c1;

    if (size < 2)
        return 0;
    c0 = data[0];
    c1 = data[1];
    cl_sim_config_default(&cfg, (c0 & 1u) != 0);
    if (c0 & 2u)
        cfg.atr.opts |= CL_ATR_B_T0 | CL_ATR_B_T1 | CL_ATR_B_IFSC |
                        CL_ATR_B_T1_TB;
    if (c0 & 4u)
        cfg.atr.opts |= CL_ATR_B_INVERSE;
    if ((c0 & 8u) && (cfg.atr.opts & CL_ATR_B_T1))
        cfg.atr.opts |= CL_ATR_B_CRC;
    cfg.pps = (uint8_t)((c0 >> 4) & 3u);
    if (cfg.pps > CL_SIM_PPS_MUTE)
        cfg.pps = CL_SIM_PPS_ACCEPT;
    cfg.t0_single_byte_ack = (c0 & 0x40u) != 0;
    cfg.sblock_after = (c0 & 0x80u) ? 2 : 0;
    if (c1 >> 2)
        cfg.atr.ifsc = (uint8_t)(c1 >> 2);
    cl_sim_fs_init(&fs, 7, (uint16_t)(c1 & 3u));
    app = cl_sim_fs_app(&fs);
    check(cl_sim_setup(&sim, &cfg, &app) == CL_OK);
    check(cl_sim_want(&sim) == CL_WANT_CLOSED);

    while (off < size) {
        uint8_t op = data[off++];
        switch (op) {
        case 0xF0:
        case 0xF1: {
            size_t atr_len, n, i;
            const uint8_t *atr;
            check(cl_sim_reset(&sim, op == 0xF1) == CL_OK);
            check(cl_sim_want(&sim) == CL_WANT_SEND);
            atr = cl_sim_atr(&sim, &atr_len);
            check(atr != NULL && atr_len >= 2);
            n = drain(out, sizeof(out));
            check(n == atr_len);
            for (i = 0; i < n; i++)
                check(out[i] == ((c0 & 4u) ? cl_atr_inverse_byte(atr[i]) : atr[i]));
            break;
        }
        case 0xF2:
            check(cl_sim_parity_error(&sim) == CL_OK);
            break;
        case 0xF3:
            if (cl_sim_timer(&sim) != CL_TIMER_NONE)
                check(cl_sim_timeout(&sim) == CL_OK);
            else
                check(cl_sim_timeout(&sim) == CL_ERR_STATE);
            (void)drain(out, sizeof(out));
            break;
        case 0xF4:
            check(cl_sim_clock(&sim, cl_sim_f(&sim), cl_sim_d(&sim)) == CL_OK);
            break;
        case 0xF5: {
            int rc = cl_sim_clock(&sim, 1, 1);
            check(rc == CL_ERR_PROTOCOL);
            break;
        }
        case 0xF6:
            cl_sim_power_off(&sim);
            check(cl_sim_want(&sim) == CL_WANT_CLOSED);
            break;
        default: {
            size_t len = (size_t)(op & 0x3Fu) + 1u;
            if (len > size - off)
                len = size - off;
            check(cl_sim_feed(&sim, data + off, len) == (int)len);
            off += len;
            (void)drain(out, sizeof(out));
            break;
        }
        }
        check_state();
    }
    cl_sim_free(&sim);
    return 0;
}
