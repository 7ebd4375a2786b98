/*
 * cardlink — the PC/SC port without a reader: the PC/SC error mapping, the
 * T=0 response collection (61xx, 6Cxx) against a scripted fake reader, and
 * the port's calls before a reader is open or with no pcscd at all.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>

#include "cardlink/error.h"
#include "pcsc.h"
#include "test_util.h"

/* ------------------------------------------------------ error mapping */

static const struct {
    long rv;
    int err;
} err_map[] = {
    { SCARD_S_SUCCESS, CL_OK },
    { SCARD_W_REMOVED_CARD, CL_ERR_CARD_REMOVED },
    { SCARD_E_NO_SMARTCARD, CL_ERR_CARD_REMOVED },
    { SCARD_W_UNRESPONSIVE_CARD, CL_ERR_CARD_MUTE },
    { SCARD_W_UNPOWERED_CARD, CL_ERR_CARD_MUTE },
    { SCARD_E_CARD_UNSUPPORTED, CL_ERR_CARD_MUTE },
    { SCARD_E_TIMEOUT, CL_ERR_TIMEOUT },
    { SCARD_E_INSUFFICIENT_BUFFER, CL_ERR_BUFFER },
    { SCARD_E_PROTO_MISMATCH, CL_ERR_UNSUPPORTED },
    { SCARD_E_UNSUPPORTED_FEATURE, CL_ERR_UNSUPPORTED },
    { SCARD_E_NOT_TRANSACTED, CL_ERR_PROTOCOL },
    { SCARD_E_CANCELLED, CL_ERR_CANCELLED },
    { SCARD_E_INVALID_PARAMETER, CL_ERR_ARG },
    { SCARD_E_INVALID_VALUE, CL_ERR_ARG },
    { SCARD_E_UNKNOWN_READER, CL_ERR_NOT_FOUND },
    { SCARD_E_NO_READERS_AVAILABLE, CL_ERR_NOT_FOUND },
    { SCARD_E_NO_SERVICE, CL_ERR_IO },
    { SCARD_E_SERVICE_STOPPED, CL_ERR_IO },
    { SCARD_E_READER_UNAVAILABLE, CL_ERR_IO },
    { SCARD_F_COMM_ERROR, CL_ERR_IO },
    { SCARD_E_SHARING_VIOLATION, CL_ERR_IO },
    { SCARD_W_RESET_CARD, CL_ERR_IO },
    { SCARD_E_INVALID_HANDLE, CL_ERR_IO },
    { SCARD_F_INTERNAL_ERROR, CL_ERR_IO },
    { 0x12345678L, CL_ERR_IO },
};

START_TEST(test_error_map)
{
    ck_assert_int_eq(cl_pcsc_error(err_map[_i].rv), err_map[_i].err);
}
END_TEST

/* ------------------------------------------- T=0 with a fake reader */

/* A scripted reader: each step is the command expected and the answer
 * given (hex), or an error returned. */
#define STEPS_MAX 6
struct step {
    const char *cmd;
    const char *resp;   /* NULL: return err */
    int err;
};

/*
 * Scenarios: the command, the caller's buffer size, the reader's steps,
 * the result. Rules: cardlink/t0.h "Status words while collecting the
 * response" (ISO 7816-3 §10.3.4 / ISO 7816-4 §5.3.4 61xx and 6Cxx).
 */
static const struct scenario {
    const char *name;
    const char *cmd;
    size_t resp_size;
    struct step steps[STEPS_MAX];
    int rv;
    const char *resp;
} t0_cases[] = {
    { "case 2, exact", "00 B0 00 00 04", 64,
      { { "00 B0 00 00 04", "01 02 03 04 90 00", 0 } },
      CL_OK, "01 02 03 04 90 00" },
    { "case 1, status only", "00 44 00 00", 64,
      { { "00 44 00 00", "90 00", 0 } }, CL_OK, "90 00" },
    { "warning passes", "00 20 00 80 02 12 34", 64,
      { { "00 20 00 80 02 12 34", "63 C2", 0 } }, CL_OK, "63 C2" },
    { "case 4, 61xx then GET RESPONSE", "00 A4 04 00 02 3F 00 00", 64,
      { { "00 A4 04 00 02 3F 00 00", "61 04", 0 },
        { "00 C0 00 00 04", "AA BB CC DD 90 00", 0 } },
      CL_OK, "AA BB CC DD 90 00" },
    { "61xx chain", "80 EE 01 00 01 55 00", 64,
      { { "80 EE 01 00 01 55 00", "61 03", 0 },
        { "80 C0 00 00 03", "01 02 03 61 02", 0 },
        { "80 C0 00 00 02", "04 05 90 00", 0 } },
      CL_OK, "01 02 03 04 05 90 00" },
    { "61 00 asks min(256, room)", "00 A4 00 00 02 01 02", 10,
      { { "00 A4 00 00 02 01 02", "61 00", 0 },
        { "00 C0 00 00 08", "01 02 03 04 05 06 07 08 61 F8", 0 } },
      CL_OK, "01 02 03 04 05 06 07 08 61 F8" },
    { "room runs out: the 61xx ends it", "00 A4 00 00 02 01 02", 5,
      { { "00 A4 00 00 02 01 02", "61 10", 0 },
        { "00 C0 00 00 03", "01 02 03 61 0D", 0 } },
      CL_OK, "01 02 03 61 0D" },
    { "data with 61xx in the first answer", "00 B0 00 00 02", 64,
      { { "00 B0 00 00 02", "01 02 61 01", 0 },
        { "00 C0 00 00 01", "03 90 00", 0 } },
      CL_OK, "01 02 03 90 00" },
    { "empty GET RESPONSE: one more try", "00 A4 00 00 01 01", 64,
      { { "00 A4 00 00 01 01", "61 04", 0 },
        { "00 C0 00 00 04", "61 04", 0 },
        { "00 C0 00 00 04", "01 02 03 04 90 00", 0 } },
      CL_OK, "01 02 03 04 90 00" },
    { "two empty GET RESPONSEs end it", "00 A4 00 00 01 01", 64,
      { { "00 A4 00 00 01 01", "61 04", 0 },
        { "00 C0 00 00 04", "61 04", 0 },
        { "00 C0 00 00 04", "61 04", 0 } },
      CL_OK, "61 04" },
    { "6Cxx: re-issue with P3 = xx", "00 B0 00 00 00", 64,
      { { "00 B0 00 00 00", "6C 04", 0 },
        { "00 B0 00 00 04", "01 02 03 04 90 00", 0 } },
      CL_OK, "01 02 03 04 90 00" },
    { "6Cxx twice: the second ends it", "00 B0 00 00 00", 64,
      { { "00 B0 00 00 00", "6C 04", 0 },
        { "00 B0 00 00 04", "6C 02", 0 } },
      CL_OK, "6C 02" },
    { "6Cxx larger than room", "00 B0 00 00 00", 4,
      { { "00 B0 00 00 00", "6C 08", 0 } }, CL_OK, "6C 08" },
    { "6Cxx on a command with data", "00 D6 00 00 01 AA", 64,
      { { "00 D6 00 00 01 AA", "6C 01", 0 } }, CL_OK, "6C 01" },
    { "6Cxx 00 means 256", "00 B0 00 00 10", 300,
      { { "00 B0 00 00 10", "6C 00", 0 },
        { "00 B0 00 00 00", "01 90 00", 0 } },
      CL_OK, "01 90 00" },
    { "6Cxx on GET RESPONSE before data", "00 A4 04 00 01 AA", 64,
      { { "00 A4 04 00 01 AA", "61 05", 0 },
        { "00 C0 00 00 05", "6C 03", 0 },
        { "00 C0 00 00 03", "01 02 03 90 00", 0 } },
      CL_OK, "01 02 03 90 00" },
    { "6Cxx after data ends it", "00 A4 04 00 01 AA", 64,
      { { "00 A4 04 00 01 AA", "61 05", 0 },
        { "00 C0 00 00 05", "01 02 61 03", 0 },
        { "00 C0 00 00 03", "6C 01", 0 } },
      CL_OK, "01 02 6C 01" },
    { "card pulled during GET RESPONSE", "00 A4 04 00 01 AA", 64,
      { { "00 A4 04 00 01 AA", "61 05", 0 },
        { "00 C0 00 00 05", NULL, CL_ERR_CARD_REMOVED } },
      CL_ERR_CARD_REMOVED, "" },
    { "first answer does not fit", "00 B0 00 00 04", 4,
      { { "00 B0 00 00 04", "01 02 03 04 90 00", 0 } },
      CL_ERR_BUFFER, "" },
    { "reader answers one byte", "00 B0 00 00 04", 64,
      { { "00 B0 00 00 04", "90", 0 } }, CL_ERR_PROTOCOL, "" },
    { "reader answers nothing", "00 B0 00 00 04", 64,
      { { "00 B0 00 00 04", "", 0 } }, CL_ERR_PROTOCOL, "" },
    { "time-out", "00 B0 00 00 04", 64,
      { { "00 B0 00 00 04", NULL, CL_ERR_TIMEOUT } }, CL_ERR_TIMEOUT, "" },
};

struct fake {
    const struct scenario *sc;
    unsigned at;
    bool lie;           /* claim more bytes than the room given */
};

static int fake_xfer(void *ctx, const uint8_t *cmd, size_t cmd_len,
                     uint8_t *resp, size_t resp_size, size_t *resp_len)
{
    struct fake *f = ctx;
    const struct step *st;
    uint8_t buf[512];
    int n;

    ck_assert_uint_lt(f->at, STEPS_MAX);
    st = &f->sc->steps[f->at++];
    ck_assert_msg(st->cmd != NULL, "%s: unexpected command %s", f->sc->name,
                  cl_test_tohex(cmd, cmd_len));
    cl_assert_bytes(cmd, cmd_len, st->cmd);
    if (st->resp == NULL)
        return st->err;
    n = cl_test_hex(st->resp, buf, sizeof(buf));
    ck_assert_int_ge(n, 0);
    if (f->lie) {
        *resp_len = resp_size + 1;
        return CL_OK;
    }
    if ((size_t)n > resp_size)
        return CL_ERR_BUFFER;   /* SCARD_E_INSUFFICIENT_BUFFER */
    memcpy(resp, buf, (size_t)n);
    *resp_len = (size_t)n;
    return CL_OK;
}

START_TEST(test_t0_scenarios)
{
    const struct scenario *sc = &t0_cases[_i];
    struct fake f = { sc, 0, false };
    uint8_t cmd[300], resp[512];
    size_t len = 99;
    int n = cl_test_hex(sc->cmd, cmd, sizeof(cmd));
    int rv;

    ck_assert_int_ge(n, 4);
    memset(resp, 0xEE, sizeof(resp));
    rv = cl_pcsc_t0_transmit(fake_xfer, &f, cmd, (size_t)n, resp,
                             sc->resp_size, &len);
    ck_assert_msg(rv == sc->rv, "%s: rv %d, want %d", sc->name, rv, sc->rv);
    if (rv == CL_OK)
        cl_assert_bytes(resp, len, sc->resp);
    else
        ck_assert_uint_eq(len, 0);
    /* every scripted step was used, nothing beyond */
    ck_assert_msg(f.at == STEPS_MAX || sc->steps[f.at].cmd == NULL,
                  "%s: step %u not reached", sc->name, f.at);
    /* never a byte written past resp_size */
    ck_assert_uint_eq(resp[sc->resp_size], 0xEE);
}
END_TEST

START_TEST(test_t0_reader_overruns)
{
    struct fake f = { &t0_cases[0], 0, true };
    uint8_t cmd[5] = { 0x00, 0xB0, 0x00, 0x00, 0x04 }, resp[64];
    size_t len = 0;

    ck_assert_int_eq(cl_pcsc_t0_transmit(fake_xfer, &f, cmd, 5, resp,
                                         sizeof(resp), &len),
                     CL_ERR_PROTOCOL);
}
END_TEST

START_TEST(test_t0_args)
{
    struct fake f = { &t0_cases[0], 0, false };
    uint8_t cmd[5] = { 0x00, 0xB0, 0x00, 0x00, 0x04 }, resp[64];
    size_t len = 0;

    ck_assert_int_eq(cl_pcsc_t0_transmit(NULL, &f, cmd, 5, resp, 64, &len),
                     CL_ERR_ARG);
    ck_assert_int_eq(cl_pcsc_t0_transmit(fake_xfer, &f, NULL, 5, resp, 64, &len),
                     CL_ERR_ARG);
    ck_assert_int_eq(cl_pcsc_t0_transmit(fake_xfer, &f, cmd, 3, resp, 64, &len),
                     CL_ERR_ARG);
    ck_assert_int_eq(cl_pcsc_t0_transmit(fake_xfer, &f, cmd, 5, NULL, 64, &len),
                     CL_ERR_ARG);
    ck_assert_int_eq(cl_pcsc_t0_transmit(fake_xfer, &f, cmd, 5, resp, 1, &len),
                     CL_ERR_ARG);
    ck_assert_int_eq(cl_pcsc_t0_transmit(fake_xfer, &f, cmd, 5, resp, 64, NULL),
                     CL_ERR_ARG);
    ck_assert_uint_eq(f.at, 0);
}
END_TEST

/* ----------------------------------------------- the port, no reader */

START_TEST(test_port_closed)
{
    const struct cl_card_apdu *ap = cl_pcsc_apdu();
    struct cl_pcsc p;
    uint8_t atr[CL_ATR_MAX], resp[16], cmd[5] = { 0, 0xB0, 0, 0, 1 };
    size_t alen = 7, rlen = 7;
    uint8_t proto = 9;

    ck_assert_ptr_nonnull(ap);
    ck_assert_ptr_nonnull(ap->connect);
    ck_assert_ptr_nonnull(ap->transmit);
    ck_assert_ptr_nonnull(ap->disconnect);
    ck_assert_ptr_nonnull(ap->present);
    cl_pcsc_init(NULL);
    cl_pcsc_close(NULL);
    ck_assert_int_eq(cl_pcsc_open(NULL, ""), CL_ERR_ARG);
    ck_assert_str_eq(cl_pcsc_reader(NULL), "");
    ck_assert_int_eq(cl_pcsc_last(NULL), 0);

    cl_pcsc_init(&p);
    ck_assert_str_eq(cl_pcsc_reader(&p), "");
    ck_assert_int_eq(cl_pcsc_last(&p), SCARD_S_SUCCESS);
    ck_assert_int_eq(ap->connect(&p, false, CL_CARD_T_ANY, atr, &alen, &proto),
                     CL_ERR_STATE);
    ck_assert_int_eq(ap->connect(NULL, false, CL_CARD_T_ANY, atr, &alen, &proto),
                     CL_ERR_ARG);
    ck_assert_int_eq(ap->transmit(&p, cmd, 5, resp, sizeof(resp), &rlen),
                     CL_ERR_STATE);
    ck_assert_uint_eq(rlen, 0);
    ck_assert_int_eq(ap->transmit(NULL, cmd, 5, resp, sizeof(resp), &rlen),
                     CL_ERR_ARG);
    ck_assert_int_eq(ap->present(&p), CL_ERR_IO);
    ck_assert_int_eq(ap->present(NULL), CL_ERR_IO);
    ap->disconnect(&p);
    ap->disconnect(NULL);
    cl_pcsc_close(&p);
    cl_pcsc_close(&p);
}
END_TEST

/* No pcscd behind the socket: the context cannot be established. */
START_TEST(test_port_no_service)
{
    struct cl_pcsc p;
    struct cl_card card;

    ck_assert_int_eq(setenv("PCSCLITE_CSOCK_NAME",
                            "/nonexistent/cardlink-test/pcscd.comm", 1), 0);
    cl_pcsc_init(&p);
    ck_assert_int_eq(cl_pcsc_open(&p, ""), CL_ERR_IO);
    ck_assert_int_eq(cl_pcsc_last(&p), SCARD_E_NO_SERVICE);
    ck_assert_str_eq(cl_pcsc_reader(&p), "");
    /* the session over the closed port: activation fails cleanly */
    cl_card_init_apdu(&card, cl_pcsc_apdu(), &p, NULL);
    ck_assert_int_eq(cl_card_activate(&card), CL_ERR_STATE);
    cl_pcsc_close(&p);
}
END_TEST

/* cl_pcsc_list without pcscd, and its argument checks. */
START_TEST(test_list_no_service)
{
    struct cl_pcsc_reader_state st[2];
    size_t n = 99;
    long last = 0;

    ck_assert_int_eq(setenv("PCSCLITE_CSOCK_NAME",
                            "/nonexistent/cardlink-test/pcscd.comm", 1), 0);
    ck_assert_int_eq(cl_pcsc_list(st, 2, &n, &last), CL_ERR_IO);
    ck_assert_int_eq(last, SCARD_E_NO_SERVICE);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(cl_pcsc_list(st, 2, NULL, &last), CL_ERR_ARG);
    ck_assert_int_eq(last, SCARD_S_SUCCESS);
    ck_assert_int_eq(cl_pcsc_list(NULL, 1, &n, NULL), CL_ERR_ARG);
}
END_TEST

static Suite *pcsc_suite(void)
{
    Suite *s = suite_create("pcsc");
    TCase *tc = tcase_create("map");

    tcase_add_loop_test(tc, test_error_map, 0,
                        (int)(sizeof(err_map) / sizeof(err_map[0])));
    suite_add_tcase(s, tc);
    tc = tcase_create("t0");
    tcase_add_loop_test(tc, test_t0_scenarios, 0,
                        (int)(sizeof(t0_cases) / sizeof(t0_cases[0])));
    tcase_add_test(tc, test_t0_reader_overruns);
    tcase_add_test(tc, test_t0_args);
    suite_add_tcase(s, tc);
    tc = tcase_create("port");
    tcase_add_test(tc, test_port_closed);
    tcase_add_test(tc, test_port_no_service);
    tcase_add_test(tc, test_list_no_service);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(pcsc_suite());
}
