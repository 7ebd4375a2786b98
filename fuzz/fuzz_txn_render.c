/*
 * cardlink — libFuzzer target for the transaction renderer.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Input: width (byte 0, taken modulo 96), height (byte 1, modulo 72), page
 * (byte 2), then a canonical transaction. Sizes outside the accepted range
 * must give CL_ERR_ARG; otherwise the render must succeed or fail with a
 * documented error (CL_ERR_LIMIT exactly when the amount cannot be shown
 * whole on page 1, or an item's amount line is wider than the display;
 * CL_ERR_NOT_FOUND past the last page). No device policy: a decoded
 * transaction always passes cl_txn_check. Checks, each an abort() when it
 * fails: no line wider than the display, nothing but printable ASCII, at
 * most height lines, all but the last page full; page 1 shows the payee
 * (whole, or cut and ended with '~') on line 1 and on line 2 the amount
 * labelled with the kind ("Pay EUR 1.00"), or, when that is wider than the
 * display, the kind's name on line 2 and the whole amount on line 3; with
 * several pages, each first line ends with "n/m"; the same call gives the
 * same bytes.
 */
#include <stdio.h>
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

static char page[CL_TXN_HEIGHT_MAX * (CL_TXN_WIDTH_MAX + 1) + 1];
static char again[sizeof(page)];

/* Length of line n of s (0-based), its start in *start; -1 if absent. */
static int line_of(const char *s, unsigned n, const char **start)
{
    const char *nl;

    while (n-- > 0) {
        nl = strchr(s, '\n');
        if (!nl)
            return -1;
        s = nl + 1;
    }
    nl = strchr(s, '\n');
    if (!nl)
        return -1;
    *start = s;
    return (int)(nl - s);
}

/* The amount label and the kind's name (docs/transaction.md §6). */
static const char *const labels[7] = { "?", "Pay", "Auth", "Load", "Goods", "Access", "Purse" };
static const char *const names[7] = { "?", "Purchase", "Sign-in", "E-money load", "E-goods load",
                                      "Access grant", "Pay by purse" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cl_txn t;
    unsigned w, h, pg, pages = 0, pages2 = 0, lines = 0, i;
    const char *l;
    char amt[CL_TXN_AMOUNT_TEXT_MAX];
    int r, n, an = 0;
    size_t lw = 0, item_w = 0;

    if (size < 3)
        return 0;
    w = data[0] % 96u;
    h = data[1] % 72u;
    pg = data[2];
    if (cl_txn_decode(data + 3, size - 3, &t) != CL_OK)
        return 0;
    CHECK(cl_txn_check(&t) == CL_OK);
    CHECK(t.kind >= 1 && t.kind <= 6);
    r = cl_txn_render(&t, w, h, pg, page, sizeof(page), &pages);
    if (w < CL_TXN_WIDTH_MIN || w > CL_TXN_WIDTH_MAX ||
        h < CL_TXN_HEIGHT_MIN || h > CL_TXN_HEIGHT_MAX) {
        CHECK(r == CL_ERR_ARG);
        return 0;
    }
    /* CL_ERR_LIMIT exactly when the amount or an item's amount line does
     * not fit */
    if (t.has_amount) {
        an = cl_txn_format_amount(t.amount, t.currency, t.exponent, amt, sizeof(amt));
        CHECK(an > 0);
        lw = strlen(labels[t.kind]) + 1 + (size_t)an;
    }
    for (i = 0; i < t.n_items; i++) {
        char ia[CL_TXN_AMOUNT_TEXT_MAX], q[8];
        size_t iw = 0;

        if (t.items[i].has_unit) {
            int k = cl_txn_format_amount(t.items[i].unit, t.currency, t.exponent, ia,
                                         sizeof(ia));
            CHECK(k > 0);
            iw = 2 + (size_t)snprintf(q, sizeof(q), "%u", t.items[i].quantity) + 3 + (size_t)k;
        } else if (t.items[i].quantity != 1) {
            iw = 6 + (size_t)snprintf(q, sizeof(q), "%u", t.items[i].quantity);
        }
        if (iw > item_w)
            item_w = iw;
    }
    if (item_w > w || (t.has_amount && lw > w && (h < 3 || (size_t)an > w))) {
        CHECK(r == CL_ERR_LIMIT);
        return 0;
    }
    CHECK(r != CL_ERR_LIMIT);
    if (r == CL_ERR_NOT_FOUND) {
        CHECK(pg >= pages && pages >= 1);
        pg = pages - 1;
        r = cl_txn_render(&t, w, h, pg, page, sizeof(page), &pages2);
        CHECK(pages2 == pages);
    }
    CHECK(r == CL_OK);
    CHECK(cl_txn_render(&t, w, h, pg, again, sizeof(again), &pages2) == CL_OK);
    CHECK(pages2 == pages && strcmp(page, again) == 0);

    for (l = page; *l; lines++) {
        const char *c = l;

        while (*c && *c != '\n') {
            CHECK(*c >= 0x20 && *c <= 0x7E);
            c++;
        }
        CHECK(*c == '\n' && (unsigned)(c - l) <= w);
        l = c + 1;
    }
    CHECK(lines >= 1 && lines <= h);
    CHECK(pg + 1 == pages || lines == h);
    if (pages > 1) {
        char m[16];
        size_t ml = (size_t)snprintf(m, sizeof(m), "%u/%u", pg + 1, pages);

        n = line_of(page, 0, &l);
        CHECK(n == (int)w && memcmp(l + w - ml, m, ml) == 0 && l[w - ml - 1] == ' ');
    }

    /* Page 1: the payee on line 1, then the kind and the whole amount. */
    CHECK(cl_txn_render(&t, w, h, 0, page, sizeof(page), NULL) == CL_OK);
    n = line_of(page, 0, &l);
    CHECK(n > 0);
    if (t.merchant[0] && !(t.merchant[0] & 0x80)) {
        CHECK(l[0] == t.merchant[0]);
    }
    n = line_of(page, 1, &l);
    if (!t.has_amount) {
        CHECK(n == (int)strlen(names[t.kind]) && memcmp(l, names[t.kind], (size_t)n) == 0);
    } else if (lw <= w) {
        size_t ll = strlen(labels[t.kind]);

        CHECK(n == (int)lw && memcmp(l, labels[t.kind], ll) == 0 && l[ll] == ' ' &&
              memcmp(l + ll + 1, amt, (size_t)an) == 0);
    } else {
        CHECK(n == (int)strlen(names[t.kind]) && memcmp(l, names[t.kind], (size_t)n) == 0);
        n = line_of(page, 2, &l);
        CHECK(n == an && memcmp(l, amt, (size_t)an) == 0);
    }
    return 0;
}
