/*
 * cardlink — the error model and the wipe.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/engine.h"
#include "cardlink/error.h"
#include "cardlink/wipe.h"
#include "test_util.h"

/* Every code of enum cl_err: each has its own text, none is "unknown". */
static const int codes[] = {
    CL_ERR_ARG, CL_ERR_BUFFER, CL_ERR_STATE, CL_ERR_MALFORMED, CL_ERR_TRUNCATED,
    CL_ERR_TOO_LONG, CL_ERR_CHECKSUM, CL_ERR_MISSING_TCK, CL_ERR_BAD_TS, CL_ERR_RESERVED,
    CL_ERR_TRAILING, CL_ERR_TAG, CL_ERR_LENGTH, CL_ERR_INDEFINITE, CL_ERR_PROTOCOL,
    CL_ERR_TIMEOUT, CL_ERR_PARITY, CL_ERR_CARD_REMOVED, CL_ERR_CARD_MUTE,
    CL_ERR_PPS_REFUSED, CL_ERR_RESYNCH, CL_ERR_ABORTED, CL_ERR_IO, CL_ERR_CLOSED,
    CL_ERR_VERSION, CL_ERR_SEQUENCE, CL_ERR_SW, CL_ERR_DENIED, CL_ERR_CANCELLED,
    CL_ERR_PIN_BLOCKED, CL_ERR_DUPLICATE, CL_ERR_NOT_FOUND, CL_ERR_UNSUPPORTED,
    CL_ERR_LIMIT, CL_ERR_OVERFLOW, CL_ERR_CRYPTO, CL_ERR_SIGNATURE, CL_ERR_CERT_PARSE,
    CL_ERR_CERT_EXPIRED, CL_ERR_CERT_NOT_YET_VALID, CL_ERR_CERT_UNTRUSTED,
    CL_ERR_CERT_KEY_USAGE, CL_ERR_CERT_PATH_LEN, CL_ERR_CERT_CRITICAL,
    CL_ERR_CERT_ALGORITHM, CL_ERR_CERT_PURPOSE, CL_ERR_AGAIN, CL_ERR_INTERNAL,
};

START_TEST(test_strerror_distinct)
{
    const char *t = cl_strerror(codes[_i]);
    size_t j;

    ck_assert_int_lt(codes[_i], 0);
    ck_assert_ptr_nonnull(t);
    ck_assert_str_ne(t, "unknown error");
    for (j = 0; j < CL_ARRAY_LEN(codes); j++)
        if (j != (size_t)_i)
            ck_assert_str_ne(t, cl_strerror(codes[j]));
}
END_TEST

START_TEST(test_strerror_edges)
{
    ck_assert_str_eq(cl_strerror(CL_OK), "success");
    ck_assert_str_eq(cl_strerror(1), "unknown error");
    ck_assert_str_eq(cl_strerror(-1000), "unknown error");
}
END_TEST

START_TEST(test_want_name)
{
    /* the shared want values (cardlink/engine.h), each named, the ends too */
    ck_assert_str_eq(cl_want_name(CL_WANT_IDLE), "idle");
    ck_assert_str_eq(cl_want_name(CL_WANT_SEND), "send");
    ck_assert_str_eq(cl_want_name(CL_WANT_RECV), "recv");
    ck_assert_str_eq(cl_want_name(CL_WANT_DONE), "done");
    ck_assert_str_eq(cl_want_name(CL_WANT_CTRL), "ctrl");
    ck_assert_str_eq(cl_want_name(CL_WANT_CLOSED), "closed");
    ck_assert_str_eq(cl_want_name(CL_WANT_FAILED), "failed");
    ck_assert_str_eq(cl_want_name(CL_WANT_FAILED + 1), "?");
    ck_assert_str_eq(cl_want_name(-1), "?");
    ck_assert_uint_ne(CL_TIMER_MAX, CL_TIMER_NONE);
}
END_TEST

START_TEST(test_wipe)
{
    uint8_t buf[37];
    size_t i;

    memset(buf, 0xA5, sizeof(buf));
    cl_wipe(buf + 1, 35);
    ck_assert_uint_eq(buf[0], 0xA5);
    for (i = 1; i < 36; i++)
        ck_assert_uint_eq(buf[i], 0);
    ck_assert_uint_eq(buf[36], 0xA5);
    cl_wipe(NULL, 0);
}
END_TEST

static Suite *core_suite(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("error model");

    tcase_add_loop_test(tc, test_strerror_distinct, 0, (int)CL_ARRAY_LEN(codes));
    tcase_add_test(tc, test_strerror_edges);
    tcase_add_test(tc, test_want_name);
    tcase_add_test(tc, test_wipe);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(core_suite());
}
