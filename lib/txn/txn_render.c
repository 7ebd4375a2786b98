/*
 * cardlink — rendering a transaction for a character display.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The layout (docs/transaction.md §6) is produced as one sequence of lines
 * by gen(); pagination cuts it every `height` lines. The first line of each
 * page has a page marker on its right when there is more than one page, so
 * it is narrower; since the marker's width depends on the number of pages,
 * the lines are counted again until the marker width is stable.
 */
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/txn.h"
#include "txn_int.h"

#define NO_PAGE 0xFFFFFFFFu

struct sink {
    unsigned w, h;
    unsigned markw;   /* width reserved for " n/m" on first lines, or 0 */
    unsigned line;    /* lines produced so far */
    unsigned page;    /* the page to write, or NO_PAGE to count only */
    unsigned pages;   /* total, for the marker (when writing) */
    char *out;
    size_t pos;
};

static unsigned digits(unsigned v)
{
    unsigned d = 1;

    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

static size_t put_dec(char *out, unsigned v)
{
    unsigned d = digits(v), i;

    for (i = d; i-- > 0;) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return d;
}

/* Width available for the next line's content. */
static unsigned avail(const struct sink *s)
{
    return s->line % s->h == 0 ? s->w - s->markw : s->w;
}

static void put_line(struct sink *s, const char *txt, size_t n)
{
    if (s->page != NO_PAGE && s->line / s->h == s->page) {
        memcpy(s->out + s->pos, txt, n);
        s->pos += n;
        if (s->markw && s->line % s->h == 0) {
            char m[24];
            size_t ml = put_dec(m, s->page + 1);

            m[ml++] = '/';
            ml += put_dec(m + ml, s->pages);
            for (; n < s->w - ml; n++)
                s->out[s->pos++] = ' ';
            memcpy(s->out + s->pos, m, ml);
            s->pos += ml;
        }
        s->out[s->pos++] = '\n';
    }
    s->line++;
}

/* A line that is never split: on a page's (narrower) first line where it
 * does not fit, that line stays empty and it goes on the next. */
static int emit_fixed(struct sink *s, const char *txt, size_t n)
{
    if (n > s->w)
        return CL_ERR_LIMIT;
    if (n > avail(s))
        put_line(s, "", 0);
    put_line(s, txt, n);
    return CL_OK;
}

/* Text wrapped at spaces (the space dropped), or split inside a word longer
 * than the line. Valid text has no leading, trailing or doubled space. */
static void emit_wrapped(struct sink *s, const char *txt, size_t n)
{
    size_t p = 0;

    while (p < n) {
        size_t a = avail(s), k;

        if (n - p <= a) {
            put_line(s, txt + p, n - p);
            return;
        }
        for (k = p + a; k > p && txt[k] != ' '; k--)
            ;
        if (k > p) {
            put_line(s, txt + p, k - p);
            p = k + 1;
        } else {
            put_line(s, txt + p, a);
            p += a;
        }
    }
}

static void two(char *out, unsigned v)
{
    out[0] = (char)('0' + v / 10 % 10);
    out[1] = (char)('0' + v % 10);
}

/* Produce every line of the layout into s. */
static int gen(struct sink *s, const struct cl_txn *txn)
{
    char buf[CL_TXN_I_DISPLAY_MAX];
    char amt[CL_TXN_AMOUNT_TEXT_MAX + 16];
    const char *label = cl_txn_i_kind_label(txn->kind);
    size_t n, a;
    bool truncated = false;
    unsigned i;
    int r;

    /* Page 1, line 1: the payee, truncated with '~' if it must be. */
    n = cl_txn_i_display(txn->merchant, buf);
    a = avail(s);
    if (n > a) {
        buf[a - 1] = '~';
        n = a;
        truncated = true;
    }
    put_line(s, buf, n);

    /* Line 2: the amount labelled with the kind ("Pay EUR 1.00"), whole
     * or not at all; where that is too wide, the kind's name on line 2 and
     * the amount alone on line 3, still on page 1 (height >= 3). Without
     * an amount, the kind's name. Lines 2 and 3 are never a page's first
     * line, so they have the full width. */
    if (txn->has_amount) {
        const char *al = cl_txn_i_amount_label(txn->kind);

        n = cl_txn_i_len(al);
        memcpy(amt, al, n);
        amt[n++] = ' ';
        r = cl_txn_format_amount(txn->amount, txn->currency, txn->exponent,
                                 amt + n, sizeof(amt) - n);
        if (r < 0)
            return r;
        if (n + (size_t)r <= s->w) {
            put_line(s, amt, n + (size_t)r);
        } else if (s->h >= 3 && (unsigned)r <= s->w) {
            put_line(s, label, cl_txn_i_len(label));
            put_line(s, amt + n, (size_t)r);
        } else {
            return CL_ERR_LIMIT;
        }
    } else {
        put_line(s, label, cl_txn_i_len(label));
    }

    if (truncated) {
        if ((r = emit_fixed(s, "Payee:", 6)) != CL_OK)
            return r;
        n = cl_txn_i_display(txn->merchant, buf);
        emit_wrapped(s, buf, n);
    }

    for (i = 0; i < txn->n_items; i++) {
        const struct cl_txn_item *it = &txn->items[i];

        n = cl_txn_i_display(it->desc, buf);
        emit_wrapped(s, buf, n);
        if (it->has_unit) {
            n = 2 + put_dec(amt + 2, it->quantity);
            memcpy(amt + n, " x ", 3);
            n += 3;
            r = cl_txn_format_amount(it->unit, txn->currency, txn->exponent,
                                     amt + n, sizeof(amt) - n);
            if (r < 0)
                return r;
            n += (size_t)r;
        } else if (it->quantity != 1) {
            memcpy(amt + 2, "qty ", 4);
            n = 6 + put_dec(amt + 6, it->quantity);
        } else {
            continue;
        }
        amt[0] = amt[1] = ' ';
        if ((r = emit_fixed(s, amt, n)) != CL_OK)
            return r;
    }

    /* "YYYY-MM-DD hh:mm:ss UTC", on two lines where one is too narrow. */
    two(buf, txn->time.year / 100u);
    two(buf + 2, txn->time.year);
    buf[4] = '-';
    two(buf + 5, txn->time.month);
    buf[7] = '-';
    two(buf + 8, txn->time.day);
    buf[10] = ' ';
    two(buf + 11, txn->time.hour);
    buf[13] = ':';
    two(buf + 14, txn->time.minute);
    buf[16] = ':';
    two(buf + 17, txn->time.second);
    memcpy(buf + 19, " UTC", 4);
    if (avail(s) >= 23) {
        put_line(s, buf, 23);
    } else {
        if ((r = emit_fixed(s, buf, 10)) != CL_OK ||
            (r = emit_fixed(s, buf + 11, 12)) != CL_OK)
            return r;
    }

    if (txn->text[0]) {
        n = cl_txn_i_display(txn->text, buf);
        emit_wrapped(s, buf, n);
    }

    /* The transaction id, which the digest covers too. */
    memcpy(buf, "Ref ", 4);
    for (i = 0; i < CL_TXN_ID_LEN; i++) {
        static const char hex[] = "0123456789ABCDEF";

        buf[4 + 2 * i] = hex[txn->id[i] >> 4];
        buf[5 + 2 * i] = hex[txn->id[i] & 0x0F];
    }
    emit_wrapped(s, buf, 4 + 2 * CL_TXN_ID_LEN);
    return CL_OK;
}

/* Number of pages with markw reserved on first lines. */
static int count(const struct cl_txn *txn, unsigned w, unsigned h,
                 unsigned markw, unsigned *pages)
{
    struct sink s;
    int r;

    memset(&s, 0, sizeof(s));
    s.w = w;
    s.h = h;
    s.markw = markw;
    s.page = NO_PAGE;
    if ((r = gen(&s, txn)) != CL_OK)
        return r;
    *pages = (s.line + h - 1) / h;
    return CL_OK;
}

/* see cardlink/txn.h */
int cl_txn_render(const struct cl_txn *txn, unsigned width, unsigned height,
                  unsigned page, char *out, size_t out_size, unsigned *pages)
{
    struct sink s;
    unsigned n, d, markw = 0;
    int r;

    if (!txn || !out || width < CL_TXN_WIDTH_MIN ||
        width > CL_TXN_WIDTH_MAX || height < CL_TXN_HEIGHT_MIN ||
        height > CL_TXN_HEIGHT_MAX)
        return CL_ERR_ARG;
    if ((r = cl_txn_check(txn)) != CL_OK)
        return r;
    if (out_size < (size_t)height * (width + 1u) + 1u)
        return CL_ERR_BUFFER;
    if ((r = count(txn, width, height, 0, &n)) != CL_OK)
        return r;
    if (n > 1) {
        /* A wider marker can only add lines: iterate to a fixed point. */
        d = digits(n);
        for (;;) {
            markw = 2 * d + 2;
            if ((r = count(txn, width, height, markw, &n)) != CL_OK)
                return r;
            if (digits(n) <= d)
                break;
            d = digits(n);
        }
    }
    if (pages)
        *pages = n;
    if (page >= n)
        return CL_ERR_NOT_FOUND;
    memset(&s, 0, sizeof(s));
    s.w = width;
    s.h = height;
    s.markw = markw;
    s.page = page;
    s.pages = n;
    s.out = out;
    if ((r = gen(&s, txn)) != CL_OK)
        return r;
    out[s.pos] = '\0';
    return CL_OK;
}
