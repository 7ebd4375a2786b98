/*
 * tests/sim — the file-system application as OpenSC drives it (SELECT by
 * path, parent, DF; LIST FILES) and file systems of one's own: the builder
 * (cl_sim_fs_add_*) and the text description (cl_sim_fs_parse).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <string.h>

#include <check.h>

#include "cardlink/error.h"
#include "cardlink/sim.h"
#include "test_util.h"

static void run_fs(struct cl_sim_fs *fs, const char *cmdhex, const char *want)
{
    uint8_t cmd[300], resp[1100];
    size_t rlen = 0;
    int n = cl_test_hex(cmdhex, cmd, sizeof(cmd));

    ck_assert_int_ge(n, 0);
    ck_assert_int_eq(cl_sim_fs_process(fs, cmd, (size_t)n, resp, sizeof(resp),
                                       &rlen), CL_OK);
    cl_assert_bytes_for(cmdhex, resp, rlen, want);
}

#define FCP_MF "62 0A 82 01 38 83 02 3F 00 8A 01 05"
#define FCP_DF "62 14 82 01 38 83 02 10 00 84 08 F0 43 41 52 44 4C 4E 4B 8A 01 05"
#define FCP_0102 "62 11 80 02 00 20 82 01 01 83 02 01 02 88 01 10 8A 01 05"
#define FCP_0011 "62 11 80 02 00 10 82 01 01 83 02 00 11 88 01 88 8A 01 05"

/* The default files, the commands OpenSC's ISO 7816 and TCOS drivers send
 * (7816-4 §11.2.2 SELECT: P1 00/01/02/03/04/08/09). */
static const struct { const char *cmd, *resp; } opensc_script[] = {
    /* path from the MF (P1 08), with and without the MF's own 3F00 */
    {"00 A4 08 00 04 10 00 01 02 00", FCP_0102 " 90 00"},
    {"00 B0 00 00 00", "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
                       "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 90 00"},
    {"00 A4 08 00 06 3F 00 10 00 01 02 00", FCP_0102 " 90 00"},
    {"00 A4 08 00 02 10 00 00", FCP_DF " 90 00"},
    {"00 A4 08 0C 02 00 11", "90 00"},
    {"00 B0 00 00 05", "63 61 72 64 6C 90 00"},
    /* EF 0011's FCP: size 16, SFI 17 */
    {"00 A4 00 04 02 00 11 00", FCP_0011 " 90 00"},
    /* errors: no such file, an EF in the middle, odd or no path */
    {"00 A4 08 0C 04 10 00 07 77", "6A 82"},
    {"00 A4 08 0C 04 00 11 01 01", "6A 82"},
    {"00 A4 08 0C 03 10 00 01", "67 00"},
    {"00 A4 08 0C", "67 00"},
    /* path from the current DF (P1 09) */
    {"00 A4 08 0C 02 10 00", "90 00"},
    {"00 A4 09 00 02 01 02 00", FCP_0102 " 90 00"},
    {"00 A4 09 0C 02 00 11", "6A 82"},          /* not below DF 1000 */
    /* parent DF (P1 03): from an EF's DF, and the MF's parent is itself */
    {"00 A4 03 00 00", FCP_MF " 90 00"},
    {"00 A4 03 0C", "90 00"},
    {"00 A4 03 0C 02 10 00", "67 00"},
    /* DF under the current DF (P1 01), EF only (P1 02) */
    {"00 A4 01 00 02 10 00 00", FCP_DF " 90 00"},
    {"00 A4 01 0C 02 01 02", "6A 82"},          /* an EF is not a DF */
    {"00 A4 02 0C 02 01 02", "90 00"},
    /* P1 00: the current DF itself, its parent, a child of its parent */
    {"00 A4 00 0C 02 10 00", "90 00"},
    {"00 A4 00 0C 02 3F 00", "90 00"},
    {"00 A4 00 0C 02 10 00", "90 00"},
    {"00 A4 00 0C 02 01 02", "90 00"},          /* EF 0102 in DF 1000 */
    {"00 A4 00 0C 02 00 11", "90 00"},          /* EF of the MF, from the DF */
    {"00 A4 00 0C 02 01 01", "6A 82"},          /* now in the MF: not here */
    {"00 A4 00 04 00", FCP_MF " 90 00"},        /* no data: the MF */
    /* LIST FILES: 00 AA (all, DFs first), TCOS's 80 AA 01 DFs / 02 EFs */
    {"00 AA 00 00 00", "10 00 00 11 90 00"},
    {"80 AA 01 00 00", "10 00 90 00"},
    {"80 AA 02 00 00", "00 11 90 00"},
    {"00 A4 00 0C 02 10 00", "90 00"},
    {"00 AA 00 00 00", "01 01 01 02 02 01 02 02 90 00"},
    {"80 AA 01 00 00", "6A 82"},
    {"80 AA 02 00 00", "01 01 01 02 02 01 02 02 90 00"},
    {"00 AA 00 00 04", "6A 84"},                /* Le too short */
    {"00 AA 00 00", "67 00"},
    {"00 AA 01 00 00", "6A 86"},
    {"80 AA 03 00 00", "6A 86"},
    /* READ BINARY at an offset above 255 (P1 high bits) of the 1 KiB EF */
    {"00 A4 02 0C 02 01 01", "90 00"},
    {"00 B0 03 FE 03", "F3 FA 62 82"},
    /* GET RESPONSE is the transport's (T=0: cl_t0_apdu_card_*) */
    {"00 C0 00 00 00", "6D 00"},
};

START_TEST(fs_opensc_commands)
{
    static struct cl_sim_fs fs;
    size_t i;

    cl_sim_fs_init(&fs, 1, 0);
    for (i = 0; i < CL_ARRAY_LEN(opensc_script); i++)
        run_fs(&fs, opensc_script[i].cmd, opensc_script[i].resp);
}
END_TEST

/* The builder's errors. */
START_TEST(fs_builder)
{
    static struct cl_sim_fs fs;
    static const uint8_t aid[] = {0xA0, 0x00, 0x00, 0x00, 0x01};
    uint8_t rec[4] = {1, 2, 3, 4};
    int df, ef, lin, cyc, i;

    cl_sim_fs_init_empty(&fs, 1, 0);
    ck_assert_uint_eq(fs.nfiles, 1);
    df = cl_sim_fs_add_df(&fs, 0, 0x5000, aid, sizeof(aid));
    ck_assert_int_eq(df, 1);
    ck_assert_int_eq(cl_sim_fs_add_df(&fs, 0, 0x5000, NULL, 0), CL_ERR_DUPLICATE);
    ck_assert_int_eq(cl_sim_fs_add_df(&fs, 0, 0x5001, aid, sizeof(aid)),
                     CL_ERR_DUPLICATE);
    ck_assert_int_eq(cl_sim_fs_add_df(&fs, 0, 0, NULL, 0), CL_ERR_ARG);
    ck_assert_int_eq(cl_sim_fs_add_df(&fs, 0, 0x3F00, NULL, 0), CL_ERR_ARG);
    ck_assert_int_eq(cl_sim_fs_add_df(&fs, 0, 0x5002, aid, 17), CL_ERR_ARG);
    ck_assert_int_eq(cl_sim_fs_add_df(NULL, 0, 0x5002, NULL, 0), CL_ERR_ARG);
    ef = cl_sim_fs_add_ef(&fs, (unsigned)df, 0x0001, 1, CL_SIM_FS_TRANSPARENT, 3, 0);
    ck_assert_int_eq(ef, 2);
    ck_assert_int_eq(cl_sim_fs_add_ef(&fs, (unsigned)ef, 0x0002, 0,
                                      CL_SIM_FS_TRANSPARENT, 3, 0), CL_ERR_ARG);
    ck_assert_int_eq(cl_sim_fs_add_ef(&fs, (unsigned)df, 0x0001, 0,
                                      CL_SIM_FS_TRANSPARENT, 3, 0), CL_ERR_DUPLICATE);
    ck_assert_int_eq(cl_sim_fs_add_ef(&fs, (unsigned)df, 0x0002, 1,
                                      CL_SIM_FS_TRANSPARENT, 3, 0), CL_ERR_DUPLICATE);
    ck_assert_int_eq(cl_sim_fs_add_ef(&fs, (unsigned)df, 0x0002, 31,
                                      CL_SIM_FS_TRANSPARENT, 3, 0), CL_ERR_ARG);
    ck_assert_int_eq(cl_sim_fs_add_ef(&fs, (unsigned)df, 0x0002, 0, 0x07, 3, 0),
                     CL_ERR_ARG);
    ck_assert_int_eq(cl_sim_fs_add_ef(&fs, (unsigned)df, 0x0002, 0,
                                      CL_SIM_FS_TRANSPARENT,
                                      CL_SIM_FS_DATA_MAX, 0), CL_ERR_LIMIT);
    ck_assert_int_eq(cl_sim_fs_add_ef(&fs, (unsigned)df, 0x0002, 0,
                                      CL_SIM_FS_LINEAR, 256, 2), CL_ERR_ARG);
    lin = cl_sim_fs_add_ef(&fs, (unsigned)df, 0x0002, 0, CL_SIM_FS_LINEAR, 4, 2);
    cyc = cl_sim_fs_add_ef(&fs, (unsigned)df, 0x0003, 0, CL_SIM_FS_CYCLIC, 4, 2);
    ck_assert_int_eq(lin, 3);
    ck_assert_int_eq(cyc, 4);
    ck_assert_int_eq(cl_sim_fs_write(&fs, (unsigned)ef, 1, rec, 2), CL_OK);
    ck_assert_int_eq(cl_sim_fs_write(&fs, (unsigned)ef, 1, rec, 3), CL_ERR_TOO_LONG);
    ck_assert_int_eq(cl_sim_fs_write(&fs, (unsigned)lin, 0, rec, 1), CL_ERR_ARG);
    ck_assert_int_eq(cl_sim_fs_append(&fs, (unsigned)ef, rec, 4), CL_ERR_ARG);
    ck_assert_int_eq(cl_sim_fs_append(&fs, (unsigned)lin, rec, 3), CL_ERR_LENGTH);
    for (i = 0; i < 3; i++) {
        rec[0] = (uint8_t)(0x10 + i);
        ck_assert_int_eq(cl_sim_fs_append(&fs, (unsigned)lin, rec, 4),
                         i < 2 ? CL_OK : CL_ERR_LIMIT);
        ck_assert_int_eq(cl_sim_fs_append(&fs, (unsigned)cyc, rec, 4), CL_OK);
    }
    run_fs(&fs, "00 A4 04 00 05 A0 00 00 00 01 00",
           "62 11 82 01 38 83 02 50 00 84 05 A0 00 00 00 01 8A 01 05 90 00");
    run_fs(&fs, "00 B0 81 00 00", "00 01 02 90 00");
    run_fs(&fs, "00 A4 02 0C 02 00 02", "90 00");
    run_fs(&fs, "00 B2 02 04 00", "11 02 03 04 90 00");
    run_fs(&fs, "00 A4 02 04 02 00 03 00",
           "62 12 80 02 00 08 82 05 06 21 00 04 02 83 02 00 03 8A 01 05 90 00");
    run_fs(&fs, "00 B2 01 04 00", "12 02 03 04 90 00");    /* newest first */
    run_fs(&fs, "00 B2 02 04 00", "11 02 03 04 90 00");
    run_fs(&fs, "00 B2 03 04 00", "6A 83");
    /* the files' limit */
    for (i = 5; i < (int)CL_SIM_FS_FILES_MAX; i++)
        ck_assert_int_eq(cl_sim_fs_add_ef(&fs, 0, (uint16_t)(0x6000 + i), 0,
                                          CL_SIM_FS_TRANSPARENT, 1, 0), i);
    ck_assert_int_eq(cl_sim_fs_add_ef(&fs, 0, 0x7000, 0, CL_SIM_FS_TRANSPARENT, 1, 0),
                     CL_ERR_LIMIT);
}
END_TEST

static const char fs_text[] =
    "# a card of one's own\n"
    "ef 2F00 sfi 30 transparent\n"
    "data \"hello, \\\"card\\\"\" # a comment\n"
    "data 0A 0b0C\n"
    "df 5000 name A000000001\n"
    "  ef 0001 sfi 0x1 transparent 8\n"
    "  data 11 22\n"
    "  ef 0002 linear 3 4\n"
    "  record 010203\n"
    "  record \"abc\"\n"
    "  df 5100\n"
    "    ef 0003 cyclic 2 2\n"
    "    record 0102\n"
    "    record 0304\n"
    "    record 0506\n"
    "  end\n"
    "end\n"
    "df name D27600000101\n"
    "  ef 0001 transparent 1\n"
    "end\n";

START_TEST(fs_parse_ok)
{
    static struct cl_sim_fs fs;
    struct cl_sim_fs_error err;

    cl_sim_fs_init_empty(&fs, 1, 0);
    ck_assert_int_eq(cl_sim_fs_parse(&fs, fs_text, sizeof(fs_text) - 1, &err), CL_OK);
    ck_assert_uint_eq(err.line, 0);
    ck_assert_uint_eq(fs.nfiles, 9);
    run_fs(&fs, "00 AA 00 00 00", "50 00 2F 00 90 00");     /* DF by name: no FID */
    run_fs(&fs, "00 B0 9E 00 00",
           "68 65 6C 6C 6F 2C 20 22 63 61 72 64 22 0A 0B 0C 90 00");
    run_fs(&fs, "00 A4 08 00 04 50 00 00 01 00",
           "62 11 80 02 00 08 82 01 01 83 02 00 01 88 01 08 8A 01 05 90 00");
    run_fs(&fs, "00 B0 00 00 00", "11 22 00 00 00 00 00 00 90 00");
    run_fs(&fs, "00 B2 02 14 00", "6A 82");                 /* no SFI given */
    run_fs(&fs, "00 A4 02 0C 02 00 02", "90 00");
    run_fs(&fs, "00 B2 01 04 00", "01 02 03 90 00");
    run_fs(&fs, "00 B2 02 04 00", "61 62 63 90 00");
    run_fs(&fs, "00 B2 03 04 00", "6A 83");
    run_fs(&fs, "00 A4 08 0C 06 3F 00 50 00 51 00", "90 00");
    run_fs(&fs, "00 AA 00 00 00", "00 03 90 00");
    run_fs(&fs, "00 A4 09 0C 02 00 03", "90 00");
    run_fs(&fs, "00 B2 01 04 00", "05 06 90 00");
    run_fs(&fs, "00 B2 02 04 00", "03 04 90 00");
    run_fs(&fs, "00 A4 03 0C", "90 00");                    /* back to 5000 */
    run_fs(&fs, "00 AA 00 00 00", "51 00 00 01 00 02 90 00");
    run_fs(&fs, "00 A4 04 0C 06 D2 76 00 00 01 01", "90 00");
    run_fs(&fs, "00 A4 00 04 02 00 01 00",
           "62 0E 80 02 00 01 82 01 01 83 02 00 01 8A 01 05 90 00");
    run_fs(&fs, "00 A4 03 00 00", "62 0A 82 01 38 83 02 3F 00 8A 01 05 90 00");
}
END_TEST

/* Errors: the text, the code, the line, the message. */
static const struct {
    const char *text;
    int rc;
    unsigned line;
    const char *what;
} parse_errors[] = {
    {"ef 0001 transparent 4\nfoo\n", CL_ERR_MALFORMED, 2,
     "unknown statement (df, ef, data, record, end)"},
    {"ef 001 transparent 4\n", CL_ERR_MALFORMED, 1, "bad FID (4 hex digits)"},
    {"ef 00G1 transparent 4\n", CL_ERR_MALFORMED, 1, "bad FID (4 hex digits)"},
    {"ef 0001 sfi 31 transparent 4\n", CL_ERR_MALFORMED, 1,
     "bad SFI (1..30, decimal or 0x hex)"},
    {"ef 0001 sfi 0 transparent 4\n", CL_ERR_MALFORMED, 1,
     "bad SFI (1..30, decimal or 0x hex)"},
    {"ef 0001 binary 4\n", CL_ERR_MALFORMED, 1,
     "ef FID: transparent, linear or cyclic expected"},
    {"ef 0001\n", CL_ERR_MALFORMED, 1, "ef FID: transparent, linear or cyclic expected"},
    {"ef 0001 transparent 0\n", CL_ERR_MALFORMED, 1, "bad size (1..65535 bytes)"},
    {"ef 0001 transparent 65536\n", CL_ERR_MALFORMED, 1, "bad size (1..65535 bytes)"},
    {"ef 0001 transparent 4 5\n", CL_ERR_MALFORMED, 1,
     "something after the EF's description"},
    {"ef 0001 linear 0 1\n", CL_ERR_MALFORMED, 1, "bad record length (1..255)"},
    {"ef 0001 cyclic 4\n", CL_ERR_MALFORMED, 1, "bad number of records (1..255)"},
    {"ef 0001 cyclic 4 256\n", CL_ERR_MALFORMED, 1, "bad number of records (1..255)"},
    {"\n\nef 0001 transparent 2\ndata 010203\n", CL_ERR_TOO_LONG, 4,
     "data longer than the EF"},
    {"ef 0001 transparent 2\ndata 01\ndata 0203\n", CL_ERR_TOO_LONG, 3,
     "data longer than the EF"},
    {"ef 0001 transparent 2\ndata 012\n", CL_ERR_MALFORMED, 2,
     "hex bytes expected (an even number of hex digits)"},
    {"ef 0001 transparent 2\ndata\n", CL_ERR_MALFORMED, 2,
     "bytes expected: hex digits or \"text\""},
    {"ef 0001 transparent 9\ndata \"abc\n", CL_ERR_MALFORMED, 2, "unterminated \"text\""},
    {"ef 0001 transparent 9\ndata \"a\\b\"\n", CL_ERR_MALFORMED, 2,
     "bad escape in \"text\" (\\\" and \\\\ only)"},
    {"ef 0001 transparent 9\ndata \"a\tb\"\n", CL_ERR_MALFORMED, 2,
     "\"text\" holds a character that is not printable ASCII"},
    {"ef 0001 transparent 9\ndata \"ab\" 01\n", CL_ERR_MALFORMED, 2,
     "something after the \"text\""},
    {"data 01\n", CL_ERR_MALFORMED, 1, "data without a transparent EF before it"},
    {"ef 0001 linear 2 2\ndata 0102\n", CL_ERR_MALFORMED, 2,
     "data without a transparent EF before it"},
    {"ef 0001 transparent 2\nrecord 0102\n", CL_ERR_MALFORMED, 2,
     "record without a record EF before it"},
    {"ef 0001 linear 2 1\nrecord 01\n", CL_ERR_LENGTH, 2,
     "record length differs from the EF's"},
    {"ef 0001 linear 2 1\nrecord 0102\nrecord 0304\n", CL_ERR_LIMIT, 3,
     "more records than the EF holds"},
    {"ef 0001 transparent\n# nothing\nef 0002 transparent 1\n", CL_ERR_MALFORMED, 1,
     "transparent EF without a size or data"},
    {"df 1000\n  ef 0001 transparent\n", CL_ERR_MALFORMED, 2,
     "transparent EF without a size or data"},
    {"end\n", CL_ERR_MALFORMED, 1, "end without a df"},
    {"df 1000\nend x\n", CL_ERR_MALFORMED, 2, "something after end"},
    {"df\n", CL_ERR_MALFORMED, 1, "df: a FID or 'name HEX' expected"},
    {"df 1000 sfi 1\n", CL_ERR_MALFORMED, 1, "df FID: only 'name HEX' may follow"},
    {"df 1000 name\n", CL_ERR_MALFORMED, 1, "bad DF name (1 to 16 bytes in hex, no spaces)"},
    {"df name 00112233445566778899AABBCCDDEEFF00\n", CL_ERR_MALFORMED, 1,
     "bad DF name (1 to 16 bytes in hex, no spaces)"},
    {"df name A0000001 x\n", CL_ERR_MALFORMED, 1, "something after the DF name"},
    {"df 1000\nend\ndf 1000\n", CL_ERR_DUPLICATE, 3, "FID, SFI or DF name already used"},
    {"df name A0000001\nend\ndf 1000 name A0000001\n", CL_ERR_DUPLICATE, 3,
     "FID, SFI or DF name already used"},
    {"ef 0001 sfi 2 transparent 1\nef 0002 sfi 2 transparent 1\n", CL_ERR_DUPLICATE, 2,
     "FID, SFI or DF name already used"},
    {"df 3F00\n", CL_ERR_ARG, 1,
     "reserved FID (3F00, 3FFF, FFFF) or a value out of range"},
    {"ef 0001 transparent 9000\n", CL_ERR_LIMIT, 1,
     "too many files or bytes (CL_SIM_FS_FILES_MAX, _DATA_MAX)"},
    {"df 0001\ndf 0002\ndf 0003\ndf 0004\ndf 0005\ndf 0006\ndf 0007\ndf 0008\ndf 0009\n",
     CL_ERR_LIMIT, 9, "DFs nested deeper than 8"},
};

START_TEST(fs_parse_errors)
{
    static struct cl_sim_fs fs;
    struct cl_sim_fs_error err;
    int rc;

    cl_sim_fs_init_empty(&fs, 1, 0);
    rc = cl_sim_fs_parse(&fs, parse_errors[_i].text, strlen(parse_errors[_i].text), &err);
    ck_assert_msg(rc == parse_errors[_i].rc, "%s: rc %d", parse_errors[_i].text, rc);
    ck_assert_uint_eq(err.line, parse_errors[_i].line);
    ck_assert_ptr_nonnull(err.what);
    ck_assert_str_eq(err.what, parse_errors[_i].what);
}
END_TEST

START_TEST(fs_parse_edges)
{
    static struct cl_sim_fs fs;
    struct cl_sim_fs_error err;
    static const char nul[] = "ef 0001 transparent 1\n\0\n";
    static char big[12000];
    size_t n, i;

    /* NUL, NULL, an empty text, no final newline, CR LF */
    cl_sim_fs_init_empty(&fs, 1, 0);
    ck_assert_int_eq(cl_sim_fs_parse(&fs, nul, sizeof(nul) - 1, &err), CL_ERR_MALFORMED);
    ck_assert_uint_eq(err.line, 2);
    ck_assert_str_eq(err.what, "NUL byte in the text");
    ck_assert_int_eq(cl_sim_fs_parse(NULL, "", 0, &err), CL_ERR_ARG);
    ck_assert_int_eq(cl_sim_fs_parse(&fs, NULL, 1, NULL), CL_ERR_ARG);
    cl_sim_fs_init_empty(&fs, 1, 0);
    ck_assert_int_eq(cl_sim_fs_parse(&fs, "", 0, NULL), CL_OK);
    ck_assert_int_eq(cl_sim_fs_parse(&fs, "ef 0001 transparent\r\ndata \"x\"", 29, &err),
                     CL_OK);
    run_fs(&fs, "00 B0 81 00 00", "6A 82");
    run_fs(&fs, "00 A4 00 0C 02 00 01", "90 00");
    run_fs(&fs, "00 B0 00 00 00", "78 90 00");
    /* a transparent EF sized by long data, chunk after chunk */
    cl_sim_fs_init_empty(&fs, 1, 0);
    n = (size_t)snprintf(big, sizeof(big), "ef 0001 transparent\ndata ");
    for (i = 0; i < 1000; i++)
        n += (size_t)snprintf(big + n, sizeof(big) - n, "%02X", (unsigned)(i & 0xFF));
    ck_assert_int_eq(cl_sim_fs_parse(&fs, big, n, &err), CL_OK);
    ck_assert_uint_eq(fs.files[1].size, 1000);
    ck_assert_uint_eq(fs.used, 1000);
    run_fs(&fs, "00 A4 00 0C 02 00 01", "90 00");
    run_fs(&fs, "00 B0 03 E6 00", "E6 E7 90 00");     /* Le 256: all */
    run_fs(&fs, "00 B0 03 E6 03", "E6 E7 62 82");
    /* more data than the pool holds */
    cl_sim_fs_init_empty(&fs, 1, 0);
    n = (size_t)snprintf(big, sizeof(big), "ef 0001 transparent 8000\nef 0002 transparent\n"
                                           "data \"");
    for (i = 0; i < 200; i++)
        big[n++] = 'a';
    big[n++] = '"';
    ck_assert_int_eq(cl_sim_fs_parse(&fs, big, n, &err), CL_ERR_LIMIT);
    ck_assert_uint_eq(err.line, 3);
    ck_assert_str_eq(err.what, "no room left for the EF's data (CL_SIM_FS_DATA_MAX)");
}
END_TEST

/* The edges of the default file system's commands, each at the value that
 * still works and the next one: LIST FILES with Le exactly the list, a
 * name of CL_SIM_FS_NAME_MAX bytes, SELECT by name with no name (the MF),
 * READ BINARY with an extended Le of 65536 (the maximum: no 6282), READ
 * RECORD with an Le of 1 (6Cxx, the record's length), the test generator
 * filling the response buffer exactly and past P1's 256s, and the
 * smallest response buffer taken. */
#define REC16 "01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F 10"

START_TEST(fs_edges)
{
    static struct cl_sim_fs fs;
    static const uint8_t gen_room[4] = {0x80, 0xE2, 0x00, CL_SIM_FS_RESP_MIN - 2};
    static const uint8_t gen_over[4] = {0x80, 0xE2, 0x00, CL_SIM_FS_RESP_MIN - 1};
    static const uint8_t gen_256[4] = {0x80, 0xE2, 0x01, 0x02};
    uint8_t resp[300];
    size_t rlen, i;

    cl_sim_fs_init(&fs, 1, 0);
    run_fs(&fs, "00 A4 08 0C 02 10 00", "90 00");
    run_fs(&fs, "00 AA 00 00 08", "01 01 01 02 02 01 02 02 90 00");
    run_fs(&fs, "00 AA 00 00 07", "6A 84");
    run_fs(&fs, "00 A4 04 0C 10 " "F0 43 41 52 44 4C 4E 4B 00 00 00 00 00 00 00 00", "6A 82");
    run_fs(&fs, "00 A4 04 0C 11 " "F0 43 41 52 44 4C 4E 4B 00 00 00 00 00 00 00 00 00",
           "67 00");
    run_fs(&fs, "00 A4 04 0C", "90 00");                   /* no name: the MF */
    run_fs(&fs, "00 AA 00 00 00", "10 00 00 11 90 00");
    run_fs(&fs, "00 A4 00 0C 02 00 11", "90 00");
    run_fs(&fs, "00 B0 00 00 00 00 00",                     /* Le 65536 */
           "63 61 72 64 6C 69 6E 6B 20 76 63 61 72 64 00 00 90 00");
    run_fs(&fs, "00 B0 00 00 00 00 11",                     /* Le 17: one short */
           "63 61 72 64 6C 69 6E 6B 20 76 63 61 72 64 00 00 62 82");
    run_fs(&fs, "00 A4 08 0C 02 10 00", "90 00");
    run_fs(&fs, "00 E2 00 18 10 " REC16, "90 00");          /* a record in EF 0201 (SFI 3) */
    run_fs(&fs, "00 B2 01 1C 01", "6C 10");
    run_fs(&fs, "00 B2 01 1C 10", REC16 " 90 00");
    /* the generator: room - 0 bytes fit, one more does not */
    ck_assert_int_eq(cl_sim_fs_process(&fs, gen_room, 4, resp, CL_SIM_FS_RESP_MIN, &rlen), CL_OK);
    ck_assert_uint_eq(rlen, CL_SIM_FS_RESP_MIN);
    for (i = 0; i + 2 < rlen; i++)
        ck_assert_uint_eq(resp[i], (uint8_t)(i * 7u + 1u));
    ck_assert_mem_eq(resp + rlen - 2, "\x90\x00", 2);
    ck_assert_int_eq(cl_sim_fs_process(&fs, gen_over, 4, resp, CL_SIM_FS_RESP_MIN, &rlen), CL_OK);
    cl_assert_bytes(resp, rlen, "67 00");
    ck_assert_int_eq(cl_sim_fs_process(&fs, gen_256, 4, resp, sizeof(resp), &rlen), CL_OK);
    ck_assert_uint_eq(rlen, 258u + 2u);                     /* P1 counts 256s */
    ck_assert_uint_eq(resp[257], (uint8_t)(257u * 7u + 1u));
    /* the smallest response buffer */
    ck_assert_int_eq(cl_sim_fs_process(&fs, gen_room, 4, resp, CL_SIM_FS_RESP_MIN - 1, &rlen),
                     CL_ERR_BUFFER);
}
END_TEST

static Suite *sim_fs_suite(void)
{
    Suite *s = suite_create("sim_fs");
    TCase *tc = tcase_create("fs");

    tcase_add_test(tc, fs_opensc_commands);
    tcase_add_test(tc, fs_builder);
    tcase_add_test(tc, fs_parse_ok);
    tcase_add_loop_test(tc, fs_parse_errors, 0, (int)CL_ARRAY_LEN(parse_errors));
    tcase_add_test(tc, fs_parse_edges);
    tcase_add_test(tc, fs_edges);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(sim_fs_suite());
}
