/*
 * cardlink — ports/posix/pcsc_dev.c without a reader: the slot watcher's
 * state rules and the Part 10 feature list parser.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include <winscard.h>

#include "cardlink/error.h"
#include "pcsc_dev.h"
#include "test_util.h"

#define CTR(n) ((unsigned long)(n) << 16)

START_TEST(t_watch)
{
    struct cl_pcsc_watch w;

    cl_pcsc_watch_init(&w);
    /* first look, empty reader: nothing; a card comes: INSERTED */
    ck_assert_int_eq(cl_pcsc_watch_update(&w, SCARD_STATE_EMPTY), CL_PCSC_EV_NONE);
    ck_assert_int_eq(cl_pcsc_watch_update(&w, SCARD_STATE_PRESENT | SCARD_STATE_CHANGED | CTR(1)),
                     CL_PCSC_EV_INSERTED);
    ck_assert_uint_eq(w.state, SCARD_STATE_PRESENT | CTR(1));   /* CHANGED dropped */
    /* we connect: INUSE, same card */
    ck_assert_int_eq(cl_pcsc_watch_update(&w, SCARD_STATE_PRESENT | SCARD_STATE_INUSE | CTR(1)),
                     CL_PCSC_EV_NONE);
    /* it leaves */
    ck_assert_int_eq(cl_pcsc_watch_update(&w, SCARD_STATE_EMPTY | CTR(2)), CL_PCSC_EV_REMOVED);
    ck_assert_int_eq(cl_pcsc_watch_update(&w, SCARD_STATE_EMPTY | CTR(2)), CL_PCSC_EV_NONE);
    /* a card at the first look: INSERTED */
    cl_pcsc_watch_init(&w);
    ck_assert_int_eq(cl_pcsc_watch_update(&w, SCARD_STATE_PRESENT | CTR(7)), CL_PCSC_EV_INSERTED);
    /* swapped between two looks (counter +2): REMOVED, then INSERTED */
    ck_assert_int_eq(cl_pcsc_watch_update(&w, SCARD_STATE_PRESENT | CTR(9)), CL_PCSC_EV_REMOVED);
    ck_assert(w.pending_insert);
    ck_assert(!w.present);
    /* the reader disappears: a card that was there is gone */
    cl_pcsc_watch_init(&w);
    ck_assert_int_eq(cl_pcsc_watch_update(&w, SCARD_STATE_PRESENT), CL_PCSC_EV_INSERTED);
    ck_assert_int_eq(cl_pcsc_watch_update(&w, SCARD_STATE_UNKNOWN | SCARD_STATE_PRESENT),
                     CL_PCSC_EV_REMOVED);
    ck_assert_int_eq(cl_pcsc_watch_update(NULL, SCARD_STATE_PRESENT), CL_PCSC_EV_NONE);
}
END_TEST

START_TEST(t_watch_poll_args)
{
    struct cl_pcsc p;
    struct cl_pcsc_watch w;

    cl_pcsc_init(&p);
    cl_pcsc_watch_init(&w);
    ck_assert_int_eq(cl_pcsc_watch_poll(NULL, &w, 0), CL_ERR_ARG);
    ck_assert_int_eq(cl_pcsc_watch_poll(&p, NULL, 0), CL_ERR_ARG);
    ck_assert_int_eq(cl_pcsc_watch_poll(&p, &w, 0), CL_ERR_ARG);   /* not open */
}
END_TEST

START_TEST(t_features)
{
    /* a reader with VERIFY_PIN_DIRECT (06) and MODIFY_PIN_DIRECT (07),
     * then IFD_PIN_PROPERTIES (0A), as libccid lists them */
    uint8_t tlv[18];
    uint32_t code = 0;

    cl_test_hex("06 04 42 33 00 06  07 04 42 33 00 07  0A 04 42 33 00 0A", tlv, sizeof(tlv));
    ck_assert_int_eq(cl_pcsc_feature_find(tlv, 18, CL_PCSC_FEATURE_VERIFY_PIN_DIRECT, &code), CL_OK);
    ck_assert_uint_eq(code, 0x42330006u);
    ck_assert_int_eq(cl_pcsc_feature_find(tlv, 18, 0x0A, &code), CL_OK);
    ck_assert_uint_eq(code, 0x4233000Au);
    ck_assert_int_eq(cl_pcsc_feature_find(tlv + 6, 12, 0x06, &code), CL_ERR_NOT_FOUND);
    ck_assert_int_eq(cl_pcsc_feature_find(tlv, 0, 0x06, &code), CL_ERR_NOT_FOUND);   /* none */
    ck_assert_int_eq(cl_pcsc_feature_find(tlv, 17, 0x0A, &code), CL_ERR_MALFORMED);  /* cut */
    ck_assert_int_eq(cl_pcsc_feature_find(tlv, 1, 0x06, &code), CL_ERR_MALFORMED);
    tlv[1] = 2;
    ck_assert_int_eq(cl_pcsc_feature_find(tlv, 18, 0x06, &code), CL_ERR_MALFORMED);
    ck_assert_int_eq(cl_pcsc_feature_find(tlv, 18, 0x06, NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_pcsc_feature_find(NULL, 6, 0x06, &code), CL_ERR_ARG);
}
END_TEST

START_TEST(t_not_connected)
{
    struct cl_pcsc p;
    uint32_t code = 1;
    uint8_t out[4];
    size_t got;

    cl_pcsc_init(&p);
    ck_assert_int_eq(cl_pcsc_pinpad(&p, &code), CL_ERR_STATE);
    ck_assert_uint_eq(code, 0);
    ck_assert_int_eq(cl_pcsc_control(&p, CL_PCSC_FEATURE_REQUEST, NULL, 0, out, 4, &got),
                     CL_ERR_STATE);
    ck_assert_int_eq(cl_pcsc_pinpad(NULL, &code), CL_ERR_ARG);
    ck_assert_int_eq(cl_pcsc_dev_step(NULL, NULL, 0), CL_ERR_ARG);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("pcsc_dev");
    TCase *tc = tcase_create("pure");

    tcase_add_test(tc, t_watch);
    tcase_add_test(tc, t_watch_poll_args);
    tcase_add_test(tc, t_features);
    tcase_add_test(tc, t_not_connected);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(suite());
}
