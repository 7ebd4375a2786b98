/*
 * cardlink — libFuzzer target for the transaction decoder.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Decodes the input as a canonical transaction. Cross-checks, each an
 * abort() when it fails:
 *  - a rejected input leaves the output struct zeroed;
 *  - an accepted input re-encodes to exactly the input (the encoding is
 *    canonical: one transaction, one byte string), and into a buffer one
 *    byte short fails with CL_ERR_BUFFER;
 *  - cl_txn_check accepts every decoded transaction (it is syntax only, no
 *    device policy), and a kind that needs an amount has one;
 *  - rendering at 12x2, 16x2, 20x4 and 40x8 fails only with CL_ERR_LIMIT
 *    (the amount does not fit page 1, or an item's amount line is too
 *    wide), and every page is printable and within the width;
 *  - the to-be-signed bytes build, start with the prefix and an E1
 *    template and end with the challenge.
 */
#include <stdlib.h>
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/txn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)        \
    do {                \
        if (!(c))       \
            abort();    \
    } while (0)

static void check_render(const struct cl_txn *t, unsigned w, unsigned h)
{
    char page[64 * 81 + 1];
    unsigned pages = 0, again, p;
    int r = cl_txn_render(t, w, h, 0, page, sizeof(page), &pages);

    CHECK(r == CL_OK || r == CL_ERR_LIMIT);
    if (r != CL_OK)
        return;
    CHECK(pages >= 1);
    for (p = 0; p < pages; p++) {
        const char *l = page;
        unsigned lines = 0;

        CHECK(cl_txn_render(t, w, h, p, page, sizeof(page), &again) == CL_OK);
        CHECK(again == pages);
        while (*l) {
            const char *c = l;

            while (*c && *c != '\n') {
                CHECK(*c >= 0x20 && *c <= 0x7E);
                c++;
            }
            CHECK(*c == '\n');
            CHECK((unsigned)(c - l) <= w);
            lines++;
            l = c + 1;
        }
        CHECK(lines >= 1 && lines <= h);
        CHECK(p + 1 == pages || lines == h);
    }
    CHECK(cl_txn_render(t, w, h, pages, page, sizeof(page), &again) ==
          CL_ERR_NOT_FOUND);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t ch[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    static uint8_t out[CL_TXN_ENCODED_MAX], tbs[CL_TXN_TBS_MAX];
    struct cl_txn t;
    size_t len, i;
    int r;

    r = cl_txn_decode(data, size, &t);
    if (r != CL_OK) {
        const uint8_t *b = (const uint8_t *)&t;

        CHECK(r < 0);
        for (i = 0; i < sizeof(t); i++)
            CHECK(b[i] == 0);
        return 0;
    }
    CHECK(cl_txn_encode(&t, out, sizeof(out), &len) == CL_OK);
    CHECK(len == size && memcmp(out, data, size) == 0);
    CHECK(cl_txn_encode(&t, out, len - 1, &len) == CL_ERR_BUFFER);

    CHECK(cl_txn_check(&t) == CL_OK);
    CHECK(t.has_amount || !CL_TXN_KIND_NEEDS_AMOUNT(t.kind));
    check_render(&t, 12, 2);
    check_render(&t, 16, 2);
    check_render(&t, 20, 4);
    check_render(&t, 40, 8);

    r = cl_txn_tbs(&t, t.challenge_len ? NULL : ch, sizeof(ch), tbs,
                   sizeof(tbs), &len);
    CHECK(r == CL_OK);
    {
        size_t cl = t.challenge_len ? t.challenge_len : sizeof(ch);

        CHECK(len > CL_TXN_TBS_PREFIX_LEN + cl);
        CHECK(memcmp(tbs, CL_TXN_TBS_PREFIX, CL_TXN_TBS_PREFIX_LEN) == 0);
        CHECK(memcmp(tbs + len - cl, t.challenge_len ? t.challenge : ch, cl) == 0);
        CHECK(tbs[CL_TXN_TBS_PREFIX_LEN] == 0xE1);
    }
    return 0;
}
