/*
 * cardlink — status word texts built with CL_SW_TEXTS == 0: class texts only.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Compiles lib/apdu/sw.c into this program with the texts dropped (the
 * library itself keeps the default), so the firmware setting is tested too.
 */
#define CL_SW_TEXTS 0
#include "../../lib/apdu/sw.c"

#include <string.h>

#include "test_util.h"

static const struct {
    uint16_t sw;
    const char *text;
} vectors[] = {
    { 0x9000, "No error" },
    { 0x6110, "More data available" },
    { 0x6200, "Warning" },
    { 0x63C2, "Warning" },
    { 0x6581, "Execution error" },
    { 0x6A82, "Checking error" },
    { 0x6C10, "Wrong Le, SW2 = bytes available" },
    { 0x9100, "Proprietary status" },
    { 0x6000, "Invalid status word" },
    { 0x0005, "Invalid status word" },
};

START_TEST(test_class_texts)
{
    ck_assert_str_eq(cl_sw_text(vectors[_i].sw), vectors[_i].text);
    ck_assert_int_eq(cl_sw_retries(0x63C2), 2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sw_notexts");
    TCase *tc = tcase_create("class");

    tcase_add_loop_test(tc, test_class_texts, 0, (int)CL_ARRAY_LEN(vectors));
    suite_add_tcase(s, tc);
    return cl_test_run(s);
}
