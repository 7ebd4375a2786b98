/*
 * cardlink — card simulator: application, line session, fault injector.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cardlink/atr.h"
#include "cardlink/error.h"
#include "cardlink/fault.h"
#include "cardlink/sim.h"
#include "harness.h"
#include "test_util.h"

/* ------------------------------------------------------ application */

/* A script run in order against one fresh application (ISO 7816-4 clause
 * of each status word in the comment). */
static const struct { const char *cmd, *resp; } fs_script[] = {
    /* SELECT MF by id, FCP (7816-4 §7.1.1, FCP §5.3.3) */
    {"00 A4 00 04 02 3F 00 00", "62 0A 82 01 38 83 02 3F 00 8A 01 05 90 00"},
    {"00 A4 00 0C 02 3F 00", "90 00"},
    /* READ BINARY without a current EF: 6986 */
    {"00 B0 00 00 04", "69 86"},
    /* EF 0011 under the MF */
    {"00 A4 00 0C 02 00 11", "90 00"},
    {"00 B0 00 00 05", "63 61 72 64 6C 90 00"},
    {"00 B0 00 0E 04", "00 00 62 82"},        /* end of file: 6282 */
    {"00 B0 00 10 01", "6B 00"},              /* offset beyond: 6B00 */
    {"00 B0 00 0E 00", "00 00 90 00"},        /* Le 00: what is there */
    {"00 B0 00 00", "67 00"},                 /* no Le */
    /* file not found, wrong P1P2 */
    {"00 A4 00 00 02 77 77", "6A 82"},
    {"00 A4 07 00 02 3F 00", "6A 86"},
    {"00 A4 00 01 02 3F 00", "6A 86"},
    {"00 A4 00 00 01 3F", "67 00"},
    /* SELECT by AID (partial), FCP of the DF */
    {"00 A4 04 00 05 F0 43 41 52 44 00",
     "62 14 82 01 38 83 02 10 00 84 08 F0 43 41 52 44 4C 4E 4B 8A 01 05 90 00"},
    {"00 A4 04 00 03 A0 00 00 00", "6A 82"},
    /* EF 0102 by P1=02: FCP of a transparent EF */
    {"00 A4 02 04 02 01 02 00",
     "62 11 80 02 00 20 82 01 01 83 02 01 02 88 01 10 8A 01 05 90 00"},
    {"00 D6 00 1E 02 AB CD", "90 00"},
    {"00 D6 00 1F 02 AB CD", "67 00"},       /* past the end: 6700 */
    {"00 D6 00 20 01 AB", "6B 00"},
    {"00 B0 00 1C 04", "00 00 AB CD 90 00"},
    /* READ BINARY by SFI 1 (EF 0101, 1 KiB pattern) */
    {"00 B0 81 02 03", "0F 16 1D 90 00"},
    {"00 B0 A1 00 01", "6A 86"},
    {"00 B0 9F 00 01", "6A 82"},
    /* record EFs: SFI 3 linear, SFI 4 cyclic */
    {"00 B2 01 1C 10", "6A 83"},
    {"00 E2 00 18 10 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F 10", "90 00"},
    {"00 E2 00 18 02 01 02", "67 00"},
    {"00 B2 01 1C 00", "01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F 10 90 00"},
    {"00 B2 01 1C 04", "6C 10"},
    {"00 B2 02 1C 10", "6A 83"},
    {"00 B2 01 1D 10", "6A 86"},
    {"00 B0 00 00 01", "69 81"},             /* current EF is a record EF */
    {"00 E2 00 20 10 AA AA AA AA AA AA AA AA AA AA AA AA AA AA AA AA", "90 00"},
    {"00 E2 00 20 10 BB BB BB BB BB BB BB BB BB BB BB BB BB BB BB BB", "90 00"},
    {"00 B2 01 24 10", "BB BB BB BB BB BB BB BB BB BB BB BB BB BB BB BB 90 00"},
    {"00 B2 02 24 10", "AA AA AA AA AA AA AA AA AA AA AA AA AA AA AA AA 90 00"},
    {"00 B2 01 0C 10", "69 81"},             /* SFI 1 is transparent */
    /* GET CHALLENGE: 6A86 / 6700 */
    {"00 84 00 01 08", "6A 86"},
    {"00 84 00 00", "67 00"},
    /* class and instruction */
    {"A0 A4 00 00 02 3F 00", "6E 00"},
    {"10 A4 00 00 02 3F 00", "68 84"},
    {"00 12 00 00", "6D 00"},
    {"00 C0 00 00 00", "6D 00"},
    {"00 A4", "67 00"},
    /* test commands */
    {"80 E2 00 03 00", "01 08 0F 90 00"},
    {"80 EE 00 04 02 AA BB 00", "AA BB 0F 16 90 00"},
    {"80 EE 00 01 02 AA BB", "AA 90 00"},
    {"80 E2 00 01 01 AA", "67 00"},
    {"80 E2 FF FF", "67 00"},
    {"80 E4 00 01", "6A 86"},
    {"80 00 00 00", "6D 00"},
};

static void run_fs(struct cl_sim_fs *fs, const char *cmdhex, uint8_t *resp,
                   size_t *rlen)
{
    uint8_t cmd[300];
    int n = cl_test_hex(cmdhex, cmd, sizeof(cmd));
    ck_assert_int_ge(n, 0);
    ck_assert_int_eq(cl_sim_fs_process(fs, cmd, (size_t)n, resp, 1100, rlen),
                     CL_OK);
}

START_TEST(fs_script_all)
{
    static struct cl_sim_fs fs;
    uint8_t resp[1100];
    size_t rlen, i;
    cl_sim_fs_init(&fs, 1, 0);
    for (i = 0; i < CL_ARRAY_LEN(fs_script); i++) {
        run_fs(&fs, fs_script[i].cmd, resp, &rlen);
        cl_assert_bytes_for(fs_script[i].cmd, resp, rlen, fs_script[i].resp);
    }
}
END_TEST

START_TEST(fs_big_and_challenge)
{
    static struct cl_sim_fs fs, fs2;
    uint8_t resp[1100], r2[1100];
    size_t rlen, r2len, i;
    cl_sim_fs_init(&fs, 7, 0);
    cl_sim_fs_init(&fs2, 7, 0);
    /* extended Le 0400: the whole 1 KiB EF */
    run_fs(&fs, "00 A4 00 0C 02 10 00", resp, &rlen);
    run_fs(&fs, "00 B0 81 00 00 04 00", resp, &rlen);
    ck_assert_uint_eq(rlen, 1026);
    for (i = 0; i < 1024; i++)
        ck_assert_uint_eq(resp[i], (uint8_t)(i * 7 + 1));
    cl_assert_bytes(resp + 1024, 2, "90 00");
    /* linear EF full: 6A84 */
    run_fs(&fs, "00 A4 02 0C 02 02 01", resp, &rlen);
    for (i = 0; i < 9; i++) {
        run_fs(&fs, "00 E2 00 00 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
               resp, &rlen);
        cl_assert_bytes(resp, rlen, i < 8 ? "90 00" : "6A 84");
    }
    /* GET CHALLENGE: seeded, reproducible, differs each time */
    run_fs(&fs, "00 84 00 00 08", resp, &rlen);
    run_fs(&fs2, "00 84 00 00 08", r2, &r2len);
    ck_assert_uint_eq(rlen, 10);
    ck_assert_mem_eq(resp, r2, 10);
    run_fs(&fs2, "00 84 00 00 08", r2, &r2len);
    ck_assert_int_ne(memcmp(resp, r2, 8), 0);
    /* reset clears the selection */
    cl_sim_fs_reset(&fs);
    run_fs(&fs, "00 B0 00 00 01", resp, &rlen);
    cl_assert_bytes(resp, rlen, "69 86");
}
END_TEST

START_TEST(fs_busy_and_errors)
{
    static struct cl_sim_fs fs;
    uint8_t cmd[] = {0x80, 0xE4, 0x02, 0x00}, resp[100];
    size_t rlen;
    int i;
    cl_sim_fs_init(&fs, 1, 1);
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(cl_sim_fs_process(&fs, cmd, 4, resp, 100, &rlen),
                         CL_CARDAPP_BUSY);
    ck_assert_int_eq(cl_sim_fs_process(&fs, cmd, 4, resp, 100, &rlen), CL_OK);
    cl_assert_bytes(resp, rlen, "90 00");
    ck_assert_int_eq(cl_sim_fs_process(NULL, cmd, 4, resp, 100, &rlen), CL_ERR_ARG);
    ck_assert_int_eq(cl_sim_fs_process(&fs, NULL, 4, resp, 100, &rlen), CL_ERR_ARG);
    ck_assert_int_eq(cl_sim_fs_process(&fs, cmd, 4, resp, 10, &rlen), CL_ERR_BUFFER);
    ck_assert(cl_sim_t0_has_data((const uint8_t *)"\x00\xA4\x00\x00\x02"));
    ck_assert(!cl_sim_t0_has_data((const uint8_t *)"\x00\xB0\x00\x00\x02"));
    ck_assert(cl_sim_t0_has_data((const uint8_t *)"\x80\xEE\x00\x00\x02"));
    ck_assert(!cl_sim_t0_has_data((const uint8_t *)"\x80\xE2\x00\x00\x02"));
    ck_assert(!cl_sim_t0_has_data(NULL));
}
END_TEST

/* ------------------------------------------------------ session */

static struct cl_sim sim;
static struct cl_sim_fs fs;
static struct hline hl;

/* The session over app, the harness's line on it. */
static void sim_up_app(const struct cl_sim_config *cfg, const struct cl_cardapp *app)
{
    ck_assert_int_eq(cl_sim_setup(&sim, cfg, app), CL_OK);
    memset(&hl, 0, sizeof(hl));
    hl.sim = &sim;
}

static void sim_up(const struct cl_sim_config *cfg, uint16_t slow)
{
    struct cl_cardapp app;
    cl_sim_fs_init(&fs, 42, slow);
    app = cl_sim_fs_app(&fs);
    sim_up_app(cfg, &app);
}

#define ATR_T1 "3B 98 96 81 31 FE 45 63 61 72 64 6C 69 6E 6B 11"

START_TEST(session_atr_direct_inverse)
{
    struct cl_sim_config cfg;
    uint8_t atr[40], dec[40];
    int n, i;
    cl_sim_config_default(&cfg, true);
    sim_up(&cfg, 0);
    ck_assert_int_eq(cl_sim_want(&sim), CL_WANT_CLOSED);
    n = hl_reset(&hl, atr, sizeof(atr));
    cl_assert_bytes(atr, (size_t)n, ATR_T1);
    ck_assert_int_eq(cl_sim_want(&sim), CL_WANT_RECV);

    /* inverse: TS 3F is 03 on the line, every byte encoded (§8.1) */
    cfg.atr.opts |= CL_ATR_B_INVERSE;
    sim_up(&cfg, 0);
    n = hl_reset(&hl, atr, sizeof(atr));
    ck_assert_int_eq(n, 16);
    ck_assert_uint_eq(atr[0], 0x03);
    for (i = 0; i < n; i++)
        dec[i] = cl_atr_inverse_byte(atr[i]);
    cl_assert_bytes(dec, (size_t)n, "3F 98 96 81 31 FE 45 63 61 72 64 6C 69 6E 6B 11");

    /* T=0 only, no TCK; warm reset sends it again */
    cl_sim_config_default(&cfg, false);
    sim_up(&cfg, 0);
    n = hl_reset(&hl, atr, sizeof(atr));
    cl_assert_bytes(atr, (size_t)n, "3B 18 96 63 61 72 64 6C 69 6E 6B");
    ck_assert_int_eq(cl_sim_reset(&sim, true), CL_OK);
    ck_assert_int_eq(cl_sim_want(&sim), CL_WANT_SEND);
    cl_sim_power_off(&sim);
    ck_assert_int_eq(cl_sim_want(&sim), CL_WANT_CLOSED);
    ck_assert_uint_eq(cl_sim_stats(&sim)->resets, 2);
}
END_TEST

START_TEST(session_bad_tck)
{
    struct cl_sim_config cfg;
    struct cl_atr a;
    uint8_t atr[40];
    int n;
    cl_sim_config_default(&cfg, true);
    cfg.bad_tck = true;
    sim_up(&cfg, 0);
    n = hl_reset(&hl, atr, sizeof(atr));
    cl_assert_bytes(atr, (size_t)n, "3B 98 96 81 31 FE 45 63 61 72 64 6C 69 6E 6B 10");
    ck_assert_int_eq(cl_atr_parse(&a, atr, (size_t)n), CL_ERR_CHECKSUM);
}
END_TEST

/* PPS (ISO 7816-3 §9): request, policy, expected answer ("" = none) */
static const struct { const char *req; uint8_t policy; const char *resp;
                      uint16_t f; uint8_t d; } pps_cases[] = {
    {"FF 11 96 78", CL_SIM_PPS_ACCEPT, "FF 11 96 78", 512, 32},
    {"FF 11 94 7A", CL_SIM_PPS_ACCEPT, "FF 11 94 7A", 512, 8},
    {"FF 11 11 FF", CL_SIM_PPS_ACCEPT, "FF 11 11 FF", 372, 1},
    {"FF 11 97 79", CL_SIM_PPS_ACCEPT, "FF 01 FE", 372, 1},   /* Di 64 > 32 */
    {"FF 11 18 F6", CL_SIM_PPS_ACCEPT, "FF 01 FE", 372, 1},   /* Fi 372 Di 12 */
    {"FF 11 91 7F", CL_SIM_PPS_ACCEPT, "FF 11 91 7F", 512, 1},  /* TA1's Fi, D 1 */
    {"FF 11 90 7E", CL_SIM_PPS_ACCEPT, "FF 01 FE", 372, 1},   /* Di RFU */
    {"FF 11 96 78", CL_SIM_PPS_DEFAULTS, "FF 01 FE", 372, 1},
    {"FF 01 FE", CL_SIM_PPS_ACCEPT, "FF 01 FE", 372, 1},
    {"FF 31 96 00 58", CL_SIM_PPS_ACCEPT, "FF 11 96 78", 512, 32}, /* PPS2 not echoed */
    {"FF 11 96 79", CL_SIM_PPS_ACCEPT, "", 372, 1},           /* bad PCK */
    {"FF 10 96 79", CL_SIM_PPS_ACCEPT, "", 372, 1},           /* T=0 not offered */
    {"FF 11 96 78", CL_SIM_PPS_MUTE, "", 372, 1},
};

START_TEST(session_pps)
{
    struct cl_sim_config cfg;
    uint8_t buf[40], req[8];
    int n, rn;
    cl_sim_config_default(&cfg, true);
    cfg.pps = pps_cases[_i].policy;
    sim_up(&cfg, 0);
    n = hl_reset(&hl, buf, sizeof(buf));
    ck_assert_int_eq(n, 16);
    rn = cl_test_hex(pps_cases[_i].req, req, sizeof(req));
    n = hl_raw(&hl, req, (size_t)rn, buf, sizeof(buf));
    ck_assert_int_ge(n, 0);
    cl_assert_bytes(buf, (size_t)n, pps_cases[_i].resp);
    ck_assert_uint_eq(cl_sim_f(&sim), pps_cases[_i].f);
    ck_assert_uint_eq(cl_sim_d(&sim), pps_cases[_i].d);
    if (n == 0) {
        ck_assert_int_eq(cl_sim_want(&sim), CL_WANT_FAILED);
        ck_assert_uint_eq(cl_sim_stats(&sim)->pps_ignored, 1);
    } else {
        ck_assert_int_eq(cl_sim_want(&sim), CL_WANT_RECV);
        ck_assert_uint_eq(cl_sim_stats(&sim)->pps_answered, 1);
        ck_assert_int_eq(cl_sim_clock(&sim, pps_cases[_i].f, pps_cases[_i].d), CL_OK);
        ck_assert_int_eq(cl_sim_clock(&sim, 1, 1), CL_ERR_PROTOCOL);
        ck_assert_uint_eq(cl_sim_stats(&sim)->clock_mismatch, 1);
    }
    /* a parity error inside a PPS: the card ignores it and goes mute */
    (void)hl_reset(&hl, buf, sizeof(buf));
    ck_assert_int_eq(cl_sim_feed(&sim, req, 1), 1);
    ck_assert_int_eq(cl_sim_parity_error(&sim), CL_OK);
    ck_assert_int_eq(cl_sim_feed(&sim, req + 1, 1), 1);
    ck_assert_int_eq(cl_sim_want(&sim), CL_WANT_FAILED);
    ck_assert_uint_eq(cl_sim_stats(&sim)->pps_ignored, n == 0 ? 2u : 1u);
    /* a reset goes back to the ATR's rate, whatever the PPS chose */
    n = hl_reset(&hl, buf, sizeof(buf));
    ck_assert_int_eq(n, 16);
    ck_assert_uint_eq(cl_sim_f(&sim), 372);
    ck_assert_uint_eq(cl_sim_d(&sim), 1);
}
END_TEST

START_TEST(session_t1_exchange)
{
    struct cl_sim_config cfg;
    uint8_t buf[1100], cmd[] = {0x80, 0xEE, 0x00, 0x02, 0x02, 0xAA, 0xBB};
    int n;
    cl_sim_config_default(&cfg, true);
    sim_up(&cfg, 0);
    n = hl_reset(&hl, buf, sizeof(buf));
    ck_assert_int_eq(hl_reader_setup(&hl, 1, 254, CL_T1_EDC_LRC), CL_OK);
    hl.n_to_card = hl.n_to_reader = 0;
    n = hl_transmit(&hl, cmd, sizeof(cmd), buf, sizeof(buf));
    ck_assert_msg(n >= 0, "%d to card %s", n, cl_test_tohex(hl.to_card, hl.n_to_card));
    ck_assert_msg(n >= 0, "%d to reader %s", n, cl_test_tohex(hl.to_reader, hl.n_to_reader));
    cl_assert_bytes(buf, (size_t)n, "AA BB 90 00");
    /* S(IFS) first (§11.4.2), then the I-blocks */
    cl_assert_bytes(hl.to_card, hl.n_to_card,
                    "00 C1 01 FE 3E  00 00 07 80 EE 00 02 02 AA BB 78");
    cl_assert_bytes(hl.to_reader, hl.n_to_reader,
                    "00 E1 01 FE 1E  00 00 04 AA BB 90 00 85");
    ck_assert_uint_eq(cl_sim_protocol(&sim), 1);
    ck_assert_uint_eq(cl_sim_stats(&sim)->apdus, 1);
}
END_TEST

START_TEST(session_t1_chaining_crc_wtx_sblock)
{
    struct cl_sim_config cfg;
    static uint8_t buf[1100];
    uint8_t cmd[] = {0x00, 0xB0, 0x81, 0x00, 0x00, 0x04, 0x00};
    uint8_t cmd2[] = {0x80, 0xE4, 0x01, 0x00};
    uint8_t sel[] = {0x00, 0xA4, 0x04, 0x0C, 0x08, 0xF0, 0x43, 0x41, 0x52,
                     0x44, 0x4C, 0x4E, 0x4B};
    struct cl_t1_stats before;
    int n, i;
    cl_sim_config_default(&cfg, true);
    cfg.atr.opts |= CL_ATR_B_CRC;
    cfg.atr.ifsc = 32;
    cfg.sblock_after = 3;
    sim_up(&cfg, 1);
    n = hl_reset(&hl, buf, sizeof(buf));
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(hl_reader_setup(&hl, 1, 32, CL_T1_EDC_CRC), CL_OK);
    cl_t1_free(&hl.t1);
    {
        struct cl_t1_config c;
        cl_t1_config_default(&c, CL_T1_ROLE_READER);
        c.ifsc = 32;
        c.edc = CL_T1_EDC_CRC;
        c.ifsd = 100;
        ck_assert_int_eq(cl_t1_setup(&hl.t1, &c, &hl.t1_stats), CL_OK);
    }
    /* 1 KiB response chained to IFSD 100, WTX once (slow 1) */
    n = hl_transmit(&hl, sel, sizeof(sel), buf, sizeof(buf));
    cl_assert_bytes(buf, (size_t)n, "90 00");
    n = hl_transmit(&hl, cmd, sizeof(cmd), buf, sizeof(buf));
    ck_assert_int_eq(n, 1026);
    for (i = 0; i < 1024; i++)
        ck_assert_uint_eq(buf[i], (uint8_t)(i * 7 + 1));
    ck_assert_uint_eq(cl_t1_stats(&hl.t1)->wtx, 2);
    /* second command: unexpected S-block first, then recovered */
    before = *cl_t1_stats(&hl.t1);
    hl.n_to_card = hl.n_to_reader = 0;
    n = hl_transmit(&hl, cmd2, sizeof(cmd2), buf, sizeof(buf));
    /* R: the command, S(WTX response) twice, R(0) "other error" for the
     * stray S(WTX response); C: S(WTX request) twice (busy), the stray
     * S(WTX response) in place of the I-block, then the I-block again */
    cl_assert_bytes(hl.to_card, hl.n_to_card,
                    "00 00 04 80 E4 01 00 00 E9  00 E3 01 01 ED B5  00 E3 01 01 ED B5"
                    "  00 82 00 86 4F");
    cl_assert_bytes(hl.to_reader, hl.n_to_reader,
                    "00 C3 01 01 EE 8E  00 C3 01 01 EE 8E  00 E3 01 01 ED B5"
                    "  00 00 02 90 00 9C 6D");
    ck_assert_uint_eq(cl_t1_stats(&hl.t1)->blocks_sent - before.blocks_sent, 4);
    ck_assert_uint_eq(cl_t1_stats(&hl.t1)->blocks_received - before.blocks_received, 4);
    ck_assert_uint_eq(cl_t1_stats(&hl.t1)->wtx - before.wtx, 2);
    ck_assert_uint_eq(cl_t1_stats(&hl.t1)->invalid_blocks, before.invalid_blocks);
    cl_assert_bytes(buf, (size_t)n, "90 00");
    ck_assert_uint_eq(cl_sim_stats(&sim)->sblocks, 1);
    ck_assert_uint_eq(cl_sim_stats(&sim)->busy, 4);
    /* the stray S-block is sent once: the next command runs plainly */
    hl.n_to_card = hl.n_to_reader = 0;
    n = hl_transmit(&hl, cmd2, sizeof(cmd2), buf, sizeof(buf));
    cl_assert_bytes(buf, (size_t)n, "90 00");
    ck_assert_uint_eq(cl_sim_stats(&sim)->sblocks, 1);
}
END_TEST

START_TEST(session_t0_exchange)
{
    struct cl_sim_config cfg;
    uint8_t buf[400], cmd[] = {0x80, 0xEE, 0x00, 0x02, 0x02, 0xAA, 0xBB, 0x00};
    uint8_t cmd2[] = {0x80, 0xE2, 0x00, 0x03, 0x03};
    int n;
    cl_sim_config_default(&cfg, false);
    sim_up(&cfg, 0);
    n = hl_reset(&hl, buf, sizeof(buf));
    ck_assert_int_eq(hl_reader_setup(&hl, 0, 0, 0), CL_OK);
    hl.n_to_card = hl.n_to_reader = 0;
    n = hl_transmit(&hl, cmd, sizeof(cmd), buf, sizeof(buf));
    ck_assert_int_eq(n, 4);
    cl_assert_bytes(buf, (size_t)n, "AA BB 90 00");
    /* case 4 (§10.3.4): header, ACK, data, 61 02, GET RESPONSE */
    cl_assert_bytes(hl.to_card, hl.n_to_card,
                    "80 EE 00 02 02  AA BB  80 C0 00 00 02");
    cl_assert_bytes(hl.to_reader, hl.n_to_reader, "EE  61 02  C0 AA BB 90 00");
    /* case 2 (§10.3.3): header, ACK once, Le data bytes, SW */
    hl.n_to_card = hl.n_to_reader = 0;
    n = hl_transmit(&hl, cmd2, sizeof(cmd2), buf, sizeof(buf));
    cl_assert_bytes(buf, (size_t)n, "01 08 0F 90 00");
    cl_assert_bytes(hl.to_card, hl.n_to_card, "80 E2 00 03 03");
    cl_assert_bytes(hl.to_reader, hl.n_to_reader, "E2  01 08 0F  90 00");
    ck_assert_uint_eq(cl_sim_protocol(&sim), 0);
}
END_TEST

/* An application without its own T=0 rule for "does this command carry
 * data": the simulator's (cl_sim_t0_has_data) decides, and a case 4
 * command runs as with the file system's rule. */
START_TEST(session_t0_builtin_has_data)
{
    struct cl_sim_config cfg;
    struct cl_cardapp app;
    uint8_t buf[400], cmd[] = {0x80, 0xEE, 0x00, 0x02, 0x02, 0xAA, 0xBB, 0x00};
    int n;
    cl_sim_config_default(&cfg, false);
    cl_sim_fs_init(&fs, 42, 0);
    app = cl_sim_fs_app(&fs);
    app.t0_has_data = NULL;
    sim_up_app(&cfg, &app);
    n = hl_reset(&hl, buf, sizeof(buf));
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(hl_reader_setup(&hl, 0, 0, 0), CL_OK);
    hl.n_to_card = hl.n_to_reader = 0;
    n = hl_transmit(&hl, cmd, sizeof(cmd), buf, sizeof(buf));
    ck_assert_int_eq(n, 4);
    cl_assert_bytes(buf, (size_t)n, "AA BB 90 00");
    cl_assert_bytes(hl.to_card, hl.n_to_card, "80 EE 00 02 02  AA BB  80 C0 00 00 02");
}
END_TEST

/* A card that acknowledges byte by byte (ISO 7816-3 10.3.3, INS ^ FF
 * before each data byte): the case 4 command's data goes one byte per
 * procedure byte, and so does the GET RESPONSE's answer. */
START_TEST(session_t0_single_byte_ack)
{
    struct cl_sim_config cfg;
    uint8_t buf[400], cmd[] = {0x80, 0xEE, 0x00, 0x02, 0x02, 0xAA, 0xBB, 0x00};
    int n;
    cl_sim_config_default(&cfg, false);
    cfg.t0_single_byte_ack = true;
    sim_up(&cfg, 0);
    n = hl_reset(&hl, buf, sizeof(buf));
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(hl_reader_setup(&hl, 0, 0, 0), CL_OK);
    hl.n_to_card = hl.n_to_reader = 0;
    n = hl_transmit(&hl, cmd, sizeof(cmd), buf, sizeof(buf));
    cl_assert_bytes(buf, (size_t)n, "AA BB 90 00");
    cl_assert_bytes(hl.to_card, hl.n_to_card, "80 EE 00 02 02  AA  BB  80 C0 00 00 02");
    cl_assert_bytes(hl.to_reader, hl.n_to_reader, "11  11  61 02  3F AA  3F BB  90 00");
}
END_TEST

/* A slow card on a case 2 command: the application is busy once on the
 * header, so the card sends a NULL byte from the HEADER state (§10.3.3),
 * then ACK, the Le data bytes and the SW. */
START_TEST(session_t0_slow_case2)
{
    struct cl_sim_config cfg;
    uint8_t buf[400], cmd2[] = {0x80, 0xE2, 0x00, 0x03, 0x03};
    int n;
    cl_sim_config_default(&cfg, false);
    sim_up(&cfg, 1);
    n = hl_reset(&hl, buf, sizeof(buf));
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(hl_reader_setup(&hl, 0, 0, 0), CL_OK);
    hl.n_to_card = hl.n_to_reader = 0;
    n = hl_transmit(&hl, cmd2, sizeof(cmd2), buf, sizeof(buf));
    ck_assert_int_eq(n, 5);
    cl_assert_bytes(buf, (size_t)n, "01 08 0F 90 00");
    cl_assert_bytes(hl.to_card, hl.n_to_card, "80 E2 00 03 03");
    cl_assert_bytes(hl.to_reader, hl.n_to_reader, "60  E2  01 08 0F  90 00");
    ck_assert_uint_eq(cl_t0_stats(&hl.t0)->nulls, 1);
    ck_assert_uint_eq(cl_sim_stats(&sim)->apdus, 1);   /* the repeat is the same APDU */
    ck_assert_uint_eq(cl_sim_stats(&sim)->busy, 1);
}
END_TEST

/* A card offering T=0 then T=1, in the specific mode of T=1 (TA2 = 01):
 * no PPS, it runs T=1 from the ATR on. Set up over memory that was not
 * zeroed: nothing of it shows. */
START_TEST(session_specific_second_protocol)
{
    struct cl_sim_config cfg;
    struct cl_cardapp app;
    uint8_t buf[400], cmd[] = {0x80, 0xEE, 0x00, 0x02, 0x02, 0xAA, 0xBB, 0x00};
    const struct cl_sim_stats *st;
    int n;
    cl_sim_config_default(&cfg, false);
    cfg.atr.opts |= CL_ATR_B_T1 | CL_ATR_B_IFSC | CL_ATR_B_T1_TB | CL_ATR_B_TA2;
    cfg.atr.ta2 = 0x01;
    cl_sim_fs_init(&fs, 42, 0);
    app = cl_sim_fs_app(&fs);
    memset(&sim, 0xA5, sizeof(sim));
    sim_up_app(&cfg, &app);
    st = cl_sim_stats(&sim);
    ck_assert_uint_eq(st->apdus + st->resets + st->busy + st->parity_errors, 0);
    ck_assert_int_eq(cl_sim_error(&sim), CL_OK);
    n = hl_reset(&hl, buf, sizeof(buf));
    ck_assert_int_gt(n, 0);
    ck_assert_uint_eq(cl_sim_protocol(&sim), 1);
    ck_assert_int_eq(hl_reader_setup(&hl, 1, 254, CL_T1_EDC_LRC), CL_OK);
    n = hl_transmit(&hl, cmd, sizeof(cmd), buf, sizeof(buf));
    ck_assert_int_eq(n, 4);
    cl_assert_bytes(buf, (size_t)n, "AA BB 90 00");
}
END_TEST

/* A card offering T=0 then T=1 (negotiable): a PPS picks T=1, a reset
 * goes back to T=0; a parity error reported before the reset does not
 * spoil the first byte after it. */
START_TEST(session_pps_second_protocol)
{
    struct cl_sim_config cfg;
    uint8_t buf[64], req[] = {0xFF, 0x11, 0x96, 0x78};
    int n;
    cl_sim_config_default(&cfg, false);
    cfg.atr.opts |= CL_ATR_B_T1 | CL_ATR_B_IFSC | CL_ATR_B_T1_TB;
    sim_up(&cfg, 0);
    n = hl_reset(&hl, buf, sizeof(buf));
    ck_assert_int_gt(n, 0);
    ck_assert_uint_eq(cl_sim_protocol(&sim), 0);
    ck_assert_int_eq(cl_sim_parity_error(&sim), CL_OK);
    n = hl_reset(&hl, buf, sizeof(buf));
    ck_assert_int_gt(n, 0);
    n = hl_raw(&hl, req, sizeof(req), buf, sizeof(buf));
    cl_assert_bytes(buf, (size_t)n, "FF 11 96 78");
    ck_assert_uint_eq(cl_sim_protocol(&sim), 1);
    n = hl_reset(&hl, buf, sizeof(buf));
    ck_assert_int_gt(n, 0);
    ck_assert_uint_eq(cl_sim_protocol(&sim), 0);
}
END_TEST

/* Whether n bytes of p occur anywhere in the simulator's memory. */
static bool sim_holds(const uint8_t *p, size_t n)
{
    const uint8_t *m = (const uint8_t *)&sim;
    size_t i;
    for (i = 0; i + n <= sizeof(sim); i++)
        if (memcmp(m + i, p, n) == 0)
            return true;
    return false;
}

/* A command's data may be a PIN block: once the card answered, no copy of
 * it is left in the simulator (T=0 and T=1; docs/security.md). */
START_TEST(session_pin_wiped)
{
    struct cl_sim_config cfg;
    uint8_t buf[64], verify[] = {0x00, 0x20, 0x00, 0x80, 0x08,
                                 0x24, 0x73, 0x91, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    int n;
    cl_sim_config_default(&cfg, _i == 1);
    sim_up(&cfg, 0);
    n = hl_reset(&hl, buf, sizeof(buf));
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(hl_reader_setup(&hl, (uint8_t)_i, _i == 1 ? 254 : 0, CL_T1_EDC_LRC), CL_OK);
    n = hl_transmit(&hl, verify, sizeof(verify), buf, sizeof(buf));
    ck_assert_int_ge(n, 2);
    ck_assert_uint_eq(cl_sim_stats(&sim)->apdus, 1);
    ck_assert(!sim_holds(verify + 5, 8));
}
END_TEST

START_TEST(session_errors)
{
    struct cl_sim_config cfg;
    struct cl_cardapp app = {0};
    const uint8_t *p;
    uint8_t b = 0;
    size_t len;
    cl_sim_config_default(&cfg, true);
    ck_assert_int_eq(cl_sim_setup(NULL, &cfg, &app), CL_ERR_ARG);
    ck_assert_int_eq(cl_sim_setup(&sim, &cfg, &app), CL_ERR_ARG); /* no process */
    ck_assert_int_eq(cl_sim_reset(&sim, false), CL_ERR_STATE);
    ck_assert_int_eq(cl_sim_reset(NULL, false), CL_ERR_ARG);
    app = cl_sim_fs_app(&fs);
    cfg.wtx = 0;
    ck_assert_int_eq(cl_sim_setup(&sim, &cfg, &app), CL_ERR_ARG);
    cfg.wtx = 1;
    cfg.pps = 9;
    ck_assert_int_eq(cl_sim_setup(&sim, &cfg, &app), CL_ERR_ARG);
    cfg.pps = 0;
    cfg.atr.ifsc = 0;
    ck_assert_int_eq(cl_sim_setup(&sim, &cfg, &app), CL_ERR_ARG);
    cfg.atr.ifsc = 32;
    cfg.atr.opts |= CL_ATR_B_TA2;
    cfg.atr.ta2 = 0x02;   /* specific T=2: not a protocol it runs */
    ck_assert_int_eq(cl_sim_setup(&sim, &cfg, &app), CL_ERR_ARG);
    cfg.atr.ta2 = 0x01;
    ck_assert_int_eq(cl_sim_setup(&sim, &cfg, &app), CL_OK);
    ck_assert_int_eq(cl_sim_sent(&sim, 1), CL_ERR_ARG);
    ck_assert_uint_eq(cl_sim_pull(&sim, &p), 0);
    ck_assert_int_eq(cl_sim_feed(&sim, &b, 1), 1);     /* OFF: dropped */
    ck_assert_int_eq(cl_sim_feed(&sim, NULL, 1), CL_ERR_ARG);
    ck_assert_int_eq(cl_sim_timeout(&sim), CL_ERR_STATE);
    ck_assert_int_eq(cl_sim_timeout(NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_sim_parity_error(NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_sim_clock(NULL, 372, 1), CL_ERR_ARG);
    ck_assert_ptr_null(cl_sim_stats(NULL));
    ck_assert_ptr_null(cl_sim_atr(NULL, &len));
    ck_assert_uint_eq(len, 0);
    ck_assert_ptr_null(cl_sim_atr(&sim, NULL));
    ck_assert_uint_eq(cl_sim_protocol(NULL), 0);
    ck_assert_uint_eq(cl_sim_f(NULL), 0);
    ck_assert_uint_eq(cl_sim_d(NULL), 0);
    /* specific mode: no PPS, the engine runs at TA1's rate at once */
    ck_assert_int_eq(cl_sim_reset(&sim, false), CL_OK);
    ck_assert_int_eq(cl_sim_sent(&sim, 1), CL_ERR_ARG);   /* nothing pulled yet */
    while (cl_sim_want(&sim) == CL_WANT_SEND) {
        size_t n = cl_sim_pull(&sim, &p);
        ck_assert_int_eq(cl_sim_sent(&sim, n), CL_OK);
    }
    ck_assert_uint_eq(cl_sim_f(&sim), 512);
    ck_assert_uint_eq(cl_sim_d(&sim), 32);
    ck_assert_int_eq(cl_sim_sent(&sim, 0), CL_ERR_STATE);
    ck_assert_int_eq(cl_sim_error(&sim), CL_OK);
    cl_sim_power_off(&sim);
    ck_assert_int_eq(cl_sim_want(&sim), CL_WANT_CLOSED);
    cl_sim_free(&sim);
    cl_sim_free(NULL);
    ck_assert_int_eq(cl_sim_want(&sim), CL_WANT_IDLE);     /* wiped */
    ck_assert_int_eq(cl_sim_reset(&sim, false), CL_ERR_STATE);
    ck_assert_int_eq(cl_sim_want(NULL), CL_WANT_FAILED);
    ck_assert_int_eq(cl_sim_error(NULL), CL_ERR_ARG);
    ck_assert_uint_eq(cl_sim_timer(NULL), CL_TIMER_NONE);
}
END_TEST

/* The session's API-error wall: {state, call, expected}, each state
 * reached through the API on a fresh session. */
enum sim_wall_state {
    SS_NULL,        /* a NULL session */
    SS_CLOSED,      /* set up, not powered */
    SS_ATR,         /* cold reset: the ATR to send */
    SS_FIRST,       /* T=1 card, ATR sent: PPSS or the first block byte */
    SS_BLOCK,       /* one byte of a T=1 block received: CWT armed */
    SS_FAILED,      /* T=0 card mute after a parity error */
    SS_OFF          /* powered off after a reset */
};

enum sim_wall_call {
    SC_WANT, SC_TIMER, SC_ERROR, SC_RESET, SC_PULL, SC_SENT0, SC_FEED1,
    SC_PARITY, SC_TIMEOUT, SC_CLOCK
};

static const struct sim_wall_row {
    uint8_t state, call;
    long expected;
} sim_wall[] = {
    { SS_NULL, SC_WANT, CL_WANT_FAILED }, { SS_NULL, SC_TIMER, CL_TIMER_NONE },
    { SS_NULL, SC_ERROR, CL_ERR_ARG }, { SS_NULL, SC_RESET, CL_ERR_ARG },
    { SS_NULL, SC_PULL, 0 }, { SS_NULL, SC_SENT0, CL_ERR_ARG },
    { SS_NULL, SC_FEED1, CL_ERR_ARG }, { SS_NULL, SC_PARITY, CL_ERR_ARG },
    { SS_NULL, SC_TIMEOUT, CL_ERR_ARG }, { SS_NULL, SC_CLOCK, CL_ERR_ARG },

    { SS_CLOSED, SC_WANT, CL_WANT_CLOSED }, { SS_CLOSED, SC_TIMER, CL_TIMER_NONE },
    { SS_CLOSED, SC_ERROR, CL_OK }, { SS_CLOSED, SC_RESET, CL_OK },
    { SS_CLOSED, SC_PULL, 0 }, { SS_CLOSED, SC_SENT0, CL_ERR_STATE },
    { SS_CLOSED, SC_FEED1, 1 }, { SS_CLOSED, SC_PARITY, CL_OK },
    { SS_CLOSED, SC_TIMEOUT, CL_ERR_STATE }, { SS_CLOSED, SC_CLOCK, CL_OK },

    { SS_ATR, SC_WANT, CL_WANT_SEND }, { SS_ATR, SC_TIMER, CL_TIMER_NONE },
    { SS_ATR, SC_ERROR, CL_OK }, { SS_ATR, SC_RESET, CL_OK },
    { SS_ATR, SC_PULL, 16 }, { SS_ATR, SC_SENT0, CL_OK },
    { SS_ATR, SC_FEED1, 1 }, { SS_ATR, SC_PARITY, CL_OK },
    { SS_ATR, SC_TIMEOUT, CL_ERR_STATE }, { SS_ATR, SC_CLOCK, CL_OK },

    { SS_FIRST, SC_WANT, CL_WANT_RECV }, { SS_FIRST, SC_TIMER, CL_TIMER_NONE },
    { SS_FIRST, SC_ERROR, CL_OK }, { SS_FIRST, SC_RESET, CL_OK },
    { SS_FIRST, SC_PULL, 0 }, { SS_FIRST, SC_SENT0, CL_ERR_STATE },
    { SS_FIRST, SC_FEED1, 1 }, { SS_FIRST, SC_PARITY, CL_OK },
    { SS_FIRST, SC_TIMEOUT, CL_ERR_STATE }, { SS_FIRST, SC_CLOCK, CL_OK },

    /* CWI 5: CWT = 11 + 2^5 etu */
    { SS_BLOCK, SC_WANT, CL_WANT_RECV }, { SS_BLOCK, SC_TIMER, 43 },
    { SS_BLOCK, SC_ERROR, CL_OK }, { SS_BLOCK, SC_RESET, CL_OK },
    { SS_BLOCK, SC_PULL, 0 }, { SS_BLOCK, SC_SENT0, CL_ERR_STATE },
    { SS_BLOCK, SC_FEED1, 1 }, { SS_BLOCK, SC_PARITY, CL_OK },
    { SS_BLOCK, SC_TIMEOUT, CL_OK }, { SS_BLOCK, SC_CLOCK, CL_OK },

    { SS_FAILED, SC_WANT, CL_WANT_FAILED }, { SS_FAILED, SC_TIMER, CL_TIMER_NONE },
    { SS_FAILED, SC_ERROR, CL_ERR_PROTOCOL }, { SS_FAILED, SC_RESET, CL_OK },
    { SS_FAILED, SC_PULL, 0 }, { SS_FAILED, SC_SENT0, CL_ERR_STATE },
    { SS_FAILED, SC_FEED1, 1 }, { SS_FAILED, SC_PARITY, CL_OK },
    { SS_FAILED, SC_TIMEOUT, CL_ERR_STATE }, { SS_FAILED, SC_CLOCK, CL_OK },

    { SS_OFF, SC_WANT, CL_WANT_CLOSED }, { SS_OFF, SC_TIMER, CL_TIMER_NONE },
    { SS_OFF, SC_ERROR, CL_OK }, { SS_OFF, SC_RESET, CL_OK },
    { SS_OFF, SC_PULL, 0 }, { SS_OFF, SC_SENT0, CL_ERR_STATE },
    { SS_OFF, SC_FEED1, 1 }, { SS_OFF, SC_PARITY, CL_OK },
    { SS_OFF, SC_TIMEOUT, CL_ERR_STATE }, { SS_OFF, SC_CLOCK, CL_OK },
};

START_TEST(session_api_wall)
{
    const struct sim_wall_row *w = &sim_wall[_i];
    struct cl_sim_config cfg;
    struct cl_sim *sp = &sim;
    const uint8_t *p;
    uint8_t buf[40], hdr[] = {0x80, 0xE2, 0x00, 0x01, 0x01};
    long got = 0;

    cl_sim_config_default(&cfg, w->state != SS_FAILED);
    sim_up(&cfg, 0);
    switch (w->state) {
    case SS_NULL:
        sp = NULL;
        break;
    case SS_ATR:
        ck_assert_int_eq(cl_sim_reset(&sim, false), CL_OK);
        break;
    case SS_FIRST:
    case SS_BLOCK:
    case SS_OFF:
        ck_assert_int_eq(hl_reset(&hl, buf, sizeof(buf)), 16);
        if (w->state == SS_BLOCK)
            ck_assert_int_eq(cl_sim_feed(&sim, hdr, 1), 1);
        if (w->state == SS_OFF)
            cl_sim_power_off(&sim);
        break;
    case SS_FAILED:
        (void)hl_reset(&hl, buf, sizeof(buf));
        ck_assert_int_eq(cl_sim_parity_error(&sim), CL_OK);
        ck_assert_int_eq(cl_sim_feed(&sim, hdr, 5), 5);
        break;
    default:
        break;
    }
    switch (w->call) {
    case SC_WANT: got = cl_sim_want(sp); break;
    case SC_TIMER: got = (long)cl_sim_timer(sp); break;
    case SC_ERROR: got = cl_sim_error(sp); break;
    case SC_RESET: got = cl_sim_reset(sp, false); break;
    case SC_PULL: got = (long)cl_sim_pull(sp, &p); break;
    case SC_SENT0: got = cl_sim_sent(sp, 0); break;
    case SC_FEED1: got = cl_sim_feed(sp, hdr, 1); break;
    case SC_PARITY: got = cl_sim_parity_error(sp); break;
    case SC_TIMEOUT: got = cl_sim_timeout(sp); break;
    case SC_CLOCK: got = cl_sim_clock(sp, 372, 1); break;
    default: ck_abort_msg("bad call");
    }
    ck_assert_msg(got == w->expected, "row %d: state %d call %d: %ld, expected %ld",
                  _i, w->state, w->call, got, w->expected);
}
END_TEST

START_TEST(session_t0_parity_mutes)
{
    struct cl_sim_config cfg;
    uint8_t buf[40], hdr[] = {0x80, 0xE2, 0x00, 0x01, 0x01};
    cl_sim_config_default(&cfg, false);
    sim_up(&cfg, 0);
    (void)hl_reset(&hl, buf, sizeof(buf));
    ck_assert_int_eq(cl_sim_feed(&sim, hdr, 2), 2);
    ck_assert_int_eq(cl_sim_parity_error(&sim), CL_OK);
    ck_assert_int_eq(cl_sim_feed(&sim, hdr + 2, 3), 3);
    ck_assert_int_eq(cl_sim_want(&sim), CL_WANT_FAILED);
    ck_assert_int_eq(cl_sim_error(&sim), CL_ERR_PROTOCOL);    /* sticky */
    ck_assert_int_eq(cl_sim_feed(&sim, hdr, 5), 5);
    ck_assert_int_eq(cl_sim_error(&sim), CL_ERR_PROTOCOL);
    (void)hl_reset(&hl, buf, sizeof(buf));                      /* speaks again */
    ck_assert_int_eq(cl_sim_error(&sim), CL_OK);
    ck_assert_int_eq(cl_sim_want(&sim), CL_WANT_RECV);
    /* a byte from the reader while the card has its procedure byte to
     * send: the card lost count, it goes mute rather than shift */
    ck_assert_int_eq(cl_sim_feed(&sim, hdr, 5), 5);
    ck_assert_int_eq(cl_sim_want(&sim), CL_WANT_SEND);
    ck_assert_int_eq(cl_sim_feed(&sim, hdr, 1), 1);
    ck_assert_int_eq(cl_sim_want(&sim), CL_WANT_FAILED);
}
END_TEST

/* ------------------------------------------------------ fault */

START_TEST(fault_reproducible)
{
    struct cl_fault f1, f2;
    struct cl_fault_config c = {0};
    struct cl_fault_item o1[2001], o2[2001];
    uint8_t in[1000];
    size_t n1, n2, i;
    for (i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)i;
    c.seed = 1234;
    c.corrupt = c.drop = c.insert = c.parity = 300;
    ck_assert_int_eq(cl_fault_setup(&f1, &c), CL_OK);
    ck_assert_int_eq(cl_fault_setup(&f2, &c), CL_OK);
    ck_assert_int_eq(cl_fault_apply(&f1, in, 1000, o1, 2001, &n1), CL_OK);
    ck_assert_int_eq(cl_fault_apply(&f2, in, 1000, o2, 2001, &n2), CL_OK);
    ck_assert_uint_eq(n1, n2);
    ck_assert_mem_eq(o1, o2, n1 * sizeof(o1[0]));
    ck_assert_uint_gt(cl_fault_stats(&f1)->corrupted, 10);
    ck_assert_uint_gt(cl_fault_stats(&f1)->dropped, 10);
    ck_assert_uint_gt(cl_fault_stats(&f1)->inserted, 10);
    ck_assert_uint_gt(cl_fault_stats(&f1)->parity, 10);
    ck_assert_uint_eq(n1, 1000 - cl_fault_stats(&f1)->dropped + cl_fault_stats(&f1)->inserted);
    c.seed = 1235;
    ck_assert_int_eq(cl_fault_setup(&f2, &c), CL_OK);
    ck_assert_int_eq(cl_fault_apply(&f2, in, 1000, o2, 2001, &n2), CL_OK);
    ck_assert(n1 != n2 || memcmp(o1, o2, n1 * sizeof(o1[0])) != 0);
}
END_TEST

/* The engine contract: init cannot fail and gives a transparent filter;
 * free wipes (the seed too); NULL does nothing. */
START_TEST(fault_init_free)
{
    struct cl_fault f, zero;
    struct cl_fault_config c;
    struct cl_fault_item o[21];
    uint8_t in[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    size_t n, i;

    memset(&f, 0xA5, sizeof(f));
    cl_fault_init(&f);
    ck_assert_int_eq(cl_fault_apply(&f, in, 10, o, 21, &n), CL_OK);
    ck_assert_uint_eq(n, 10);
    for (i = 0; i < n; i++) {
        ck_assert_uint_eq(o[i].kind, CL_FAULT_BYTE);
        ck_assert_uint_eq(o[i].byte, in[i]);
    }
    ck_assert_uint_eq(cl_fault_stats(&f)->bytes, 10);
    ck_assert_uint_eq(cl_fault_stats(&f)->corrupted, 0);
    ck_assert(!cl_fault_pulled(&f));

    memset(&c, 0, sizeof(c));
    c.seed = 0xDEADBEEFu;
    c.corrupt = 5000;
    ck_assert_int_eq(cl_fault_setup(&f, &c), CL_OK);
    ck_assert_int_eq(cl_fault_apply(&f, in, 10, o, 21, &n), CL_OK);
    cl_fault_free(&f);
    memset(&zero, 0, sizeof(zero));
    ck_assert_mem_eq(&f, &zero, sizeof(f));
    ck_assert_ptr_null(cl_fault_stats(NULL));
    cl_fault_init(NULL);
    cl_fault_free(NULL);
}
END_TEST

START_TEST(fault_each_kind)
{
    struct cl_fault f;
    struct cl_fault_config c;
    struct cl_fault_item o[21];
    uint8_t in[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    size_t n, i;

    memset(&c, 0, sizeof(c));
    c.drop = 10000;
    ck_assert_int_eq(cl_fault_setup(&f, &c), CL_OK);
    ck_assert_int_eq(cl_fault_apply(&f, in, 10, o, 21, &n), CL_OK);
    ck_assert_uint_eq(n, 0);

    memset(&c, 0, sizeof(c));
    c.corrupt = 10000;
    ck_assert_int_eq(cl_fault_setup(&f, &c), CL_OK);
    ck_assert_int_eq(cl_fault_apply(&f, in, 10, o, 21, &n), CL_OK);
    ck_assert_uint_eq(n, 10);
    for (i = 0; i < 10; i++)
        ck_assert(o[i].kind == CL_FAULT_BYTE && o[i].byte != in[i]);

    memset(&c, 0, sizeof(c));
    c.parity = 10000;
    ck_assert_int_eq(cl_fault_setup(&f, &c), CL_OK);
    ck_assert_int_eq(cl_fault_apply(&f, in, 10, o, 21, &n), CL_OK);
    for (i = 0; i < 10; i++)
        ck_assert(o[i].kind == CL_FAULT_PARITY && o[i].byte == in[i]);

    memset(&c, 0, sizeof(c));
    c.insert = 10000;
    ck_assert_int_eq(cl_fault_setup(&f, &c), CL_OK);
    ck_assert_int_eq(cl_fault_apply(&f, in, 10, o, 21, &n), CL_OK);
    ck_assert_uint_eq(n, 20);
    for (i = 0; i < 10; i++)
        ck_assert_uint_eq(o[2 * i].byte, in[i]);

    memset(&c, 0, sizeof(c));
    c.mute_after = 3;
    ck_assert_int_eq(cl_fault_setup(&f, &c), CL_OK);
    ck_assert_int_eq(cl_fault_apply(&f, in, 10, o, 21, &n), CL_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(cl_fault_stats(&f)->muted, 7);
    cl_fault_rearm(&f);
    ck_assert_int_eq(cl_fault_apply(&f, in, 4, o, 21, &n), CL_OK);
    ck_assert_uint_eq(n, 3);

    memset(&c, 0, sizeof(c));
    c.pull_after = 3;
    ck_assert_int_eq(cl_fault_setup(&f, &c), CL_OK);
    ck_assert_int_eq(cl_fault_apply(&f, in, 10, o, 21, &n), CL_OK);
    ck_assert_uint_eq(n, 4);
    ck_assert_uint_eq(o[3].kind, CL_FAULT_REMOVED);
    ck_assert(cl_fault_pulled(&f));
    ck_assert_int_eq(cl_fault_apply(&f, in, 10, o, 21, &n), CL_OK);
    ck_assert_uint_eq(n, 0);
    cl_fault_rearm(&f);
    ck_assert(!cl_fault_pulled(&f));
    ck_assert_uint_eq(cl_fault_stats(&f)->pulls, 1);

    /* NULL injector: transparent; errors */
    ck_assert_int_eq(cl_fault_apply(NULL, in, 10, o, 10, &n), CL_OK);
    ck_assert_uint_eq(n, 10);
    ck_assert_int_eq(cl_fault_apply(&f, in, 10, o, 20, &n), CL_ERR_BUFFER);
    ck_assert_int_eq(cl_fault_apply(&f, NULL, 1, o, 20, &n), CL_ERR_ARG);
    ck_assert_int_eq(cl_fault_apply(&f, in, 1, NULL, 20, &n), CL_ERR_ARG);
    c.corrupt = 10001;
    ck_assert_int_eq(cl_fault_setup(&f, &c), CL_ERR_ARG);
    ck_assert_int_eq(cl_fault_setup(NULL, &c), CL_ERR_ARG);
    ck_assert_int_eq(cl_fault_setup(&f, NULL), CL_ERR_ARG);
    ck_assert_ptr_null(cl_fault_stats(NULL));
    {
        uint32_t s = 0;
        ck_assert_uint_ne(cl_fault_rand(&s), 0);
    }
}
END_TEST

START_TEST(fault_pull_mid_exchange)
{
    struct cl_sim_config cfg;
    struct cl_fault c2r;
    struct cl_fault_config fc = {0};
    uint8_t buf[1100], cmd[] = {0x80, 0xE2, 0x01, 0x00, 0x00};
    int n;
    cl_sim_config_default(&cfg, true);
    sim_up(&cfg, 0);
    (void)hl_reset(&hl, buf, sizeof(buf));
    ck_assert_int_eq(hl_reader_setup(&hl, 1, 254, CL_T1_EDC_LRC), CL_OK);
    fc.pull_after = 20;
    ck_assert_int_eq(cl_fault_setup(&c2r, &fc), CL_OK);
    hl.c2r = &c2r;
    n = hl_transmit(&hl, cmd, sizeof(cmd), buf, sizeof(buf));
    ck_assert_int_eq(n, CL_ERR_CARD_REMOVED);
}
END_TEST

static Suite *sim_suite(void)
{
    Suite *s = suite_create("sim");
    TCase *tc = tcase_create("app");
    tcase_add_test(tc, fs_script_all);
    tcase_add_test(tc, fs_big_and_challenge);
    tcase_add_test(tc, fs_busy_and_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("session");
    tcase_add_test(tc, session_atr_direct_inverse);
    tcase_add_test(tc, session_bad_tck);
    tcase_add_loop_test(tc, session_pps, 0, (int)CL_ARRAY_LEN(pps_cases));
    tcase_add_test(tc, session_t1_exchange);
    tcase_add_test(tc, session_t1_chaining_crc_wtx_sblock);
    tcase_add_test(tc, session_t0_exchange);
    tcase_add_test(tc, session_t0_builtin_has_data);
    tcase_add_loop_test(tc, session_pin_wiped, 0, 2);
    tcase_add_test(tc, session_specific_second_protocol);
    tcase_add_test(tc, session_t0_single_byte_ack);
    tcase_add_test(tc, session_pps_second_protocol);
    tcase_add_test(tc, session_t0_slow_case2);
    tcase_add_test(tc, session_errors);
    tcase_add_loop_test(tc, session_api_wall, 0, (int)CL_ARRAY_LEN(sim_wall));
    tcase_add_test(tc, session_t0_parity_mutes);
    suite_add_tcase(s, tc);
    tc = tcase_create("fault");
    tcase_add_test(tc, fault_reproducible);
    tcase_add_test(tc, fault_each_kind);
    tcase_add_test(tc, fault_init_free);
    tcase_add_test(tc, fault_pull_mid_exchange);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(sim_suite());
}
