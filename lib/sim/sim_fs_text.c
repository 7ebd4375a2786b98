/*
 * cardlink — the simulator's file system described in text (cl_sim_fs_parse,
 * cardlink/sim.h; the format is docs/vcard.md's).
 * SPDX-License-Identifier: Apache-2.0
 */
#include "cardlink/sim.h"
#include "cardlink/error.h"

#include <string.h>

/* Deepest DF nesting below the MF. */
#define DEPTH_MAX 8u

struct parser {
    struct cl_sim_fs *fs;
    const char *p, *end;        /* the current line's unread part */
    unsigned stack[DEPTH_MAX + 1];
    unsigned depth;             /* stack[depth]: the DF files go into */
    int last;                   /* the last EF's index, -1 none */
    bool autosize;              /* last: transparent, sized by its data */
    size_t wr;                  /* last (transparent): bytes written */
    unsigned line, ef_line;     /* the current line, the last EF's */
    unsigned err_line;          /* the line an error is about, 0: current */
    const char *what;
};

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static bool at_end(struct parser *ps)
{
    while (ps->p < ps->end && is_space(*ps->p))
        ps->p++;
    return ps->p == ps->end || *ps->p == '#';
}

/* The next bare word (up to a space or '#'): *w, *n; false at the end. */
static bool word(struct parser *ps, const char **w, size_t *n)
{
    if (at_end(ps))
        return false;
    *w = ps->p;
    while (ps->p < ps->end && !is_space(*ps->p) && *ps->p != '#')
        ps->p++;
    *n = (size_t)(ps->p - *w);
    return true;
}

static bool word_is(const char *w, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(w, lit, n) == 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* n hex digits (even) into out (room >= n / 2). */
static bool hex_bytes(const char *w, size_t n, uint8_t *out)
{
    size_t i;
    if (n == 0 || (n & 1u) != 0)
        return false;
    for (i = 0; i < n; i += 2) {
        int hi = hexval(w[i]), lo = hexval(w[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static bool fid_of(const char *w, size_t n, uint16_t *fid)
{
    uint8_t b[2];
    if (n != 4 || !hex_bytes(w, 4, b))
        return false;
    *fid = (uint16_t)(b[0] << 8 | b[1]);
    return true;
}

/* A decimal number, or hex after 0x, at most max. */
static bool number(const char *w, size_t n, unsigned long max,
                   unsigned long *v)
{
    size_t i = 0;
    unsigned base = 10;

    if (n > 2 && w[0] == '0' && (w[1] == 'x' || w[1] == 'X')) {
        base = 16;
        i = 2;
    }
    if (i == n)
        return false;
    for (*v = 0; i < n; i++) {
        int d = hexval(w[i]);
        if (d < 0 || (unsigned)d >= base)
            return false;
        *v = *v * base + (unsigned)d;
        if (*v > max)
            return false;
    }
    return true;
}

/* The rest of the line as bytes: hex words or one "text"; each chunk goes
 * to sink(ps, bytes, n). Returns CL_OK or an error (ps->what set). */
typedef int (*sink_fn)(struct parser *ps, const uint8_t *b, size_t n);

static int bytes_of_line(struct parser *ps, uint8_t *buf, size_t room,
                         size_t *total, bool whole, sink_fn sink)
{
    const char *w;
    size_t n;
    int rc;

    *total = 0;
    if (at_end(ps)) {
        ps->what = "bytes expected: hex digits or \"text\"";
        return CL_ERR_MALFORMED;
    }
    if (*ps->p == '"') {
        size_t k = 0;
        ps->p++;
        for (;;) {
            char c;
            if (ps->p == ps->end) {
                ps->what = "unterminated \"text\"";
                return CL_ERR_MALFORMED;
            }
            c = *ps->p++;
            if (c == '"')
                break;
            if (c == '\\') {
                if (ps->p == ps->end || (*ps->p != '"' && *ps->p != '\\')) {
                    ps->what = "bad escape in \"text\" (\\\" and \\\\ only)";
                    return CL_ERR_MALFORMED;
                }
                c = *ps->p++;
            } else if ((unsigned char)c < 0x20u || (unsigned char)c > 0x7Eu) {
                ps->what = "\"text\" holds a character that is not printable ASCII";
                return CL_ERR_MALFORMED;
            }
            if (k == room) {
                if (whole) {
                    ps->what = "record longer than 255 bytes";
                    return CL_ERR_TOO_LONG;
                }
                rc = sink(ps, buf, k);
                if (rc != CL_OK)
                    return rc;
                k = 0;
            }
            buf[k++] = (uint8_t)c;
            (*total)++;
        }
        if (!at_end(ps)) {
            ps->what = "something after the \"text\"";
            return CL_ERR_MALFORMED;
        }
        return whole ? CL_OK : sink(ps, buf, k);
    }
    {
        size_t k = 0;
        while (word(ps, &w, &n)) {
            size_t i;
            if (n == 0 || (n & 1u) != 0) {
                ps->what = "hex bytes expected (an even number of hex digits)";
                return CL_ERR_MALFORMED;
            }
            for (i = 0; i < n; i += 2) {
                if (k == room) {
                    if (whole) {
                        ps->what = "record longer than 255 bytes";
                        return CL_ERR_TOO_LONG;
                    }
                    rc = sink(ps, buf, k);
                    if (rc != CL_OK)
                        return rc;
                    k = 0;
                }
                if (!hex_bytes(w + i, 2, buf + k)) {
                    ps->what = "hex bytes expected (an even number of hex digits)";
                    return CL_ERR_MALFORMED;
                }
                k++;
                (*total)++;
            }
        }
        return whole ? CL_OK : sink(ps, buf, k);
    }
}

/* data: append to the last transparent EF. */
static int data_sink(struct parser *ps, const uint8_t *b, size_t n)
{
    struct cl_sim_fs *fs = ps->fs;
    struct cl_sim_fs_file *f = &fs->files[ps->last];
    int rc;

    if (ps->autosize) {
        if (n > (size_t)CL_SIM_FS_DATA_MAX - fs->used ||
            n > 0xFFFFu - (size_t)f->size) {
            ps->what = "no room left for the EF's data (CL_SIM_FS_DATA_MAX)";
            return CL_ERR_LIMIT;
        }
        f->size = (uint16_t)(f->size + n);
        fs->used = (uint16_t)(fs->used + n);
    }
    rc = cl_sim_fs_write(fs, (unsigned)ps->last, ps->wr, b, n);
    if (rc != CL_OK) {
        ps->what = "data longer than the EF";
        return rc;
    }
    ps->wr += n;
    return CL_OK;
}

/* Close the last EF: an EF sized by its data needs some. */
static int close_ef(struct parser *ps)
{
    if (ps->last >= 0 && ps->autosize && ps->fs->files[ps->last].size == 0) {
        ps->what = "transparent EF without a size or data";
        ps->err_line = ps->ef_line;
        return CL_ERR_MALFORMED;
    }
    ps->last = -1;
    ps->autosize = false;
    ps->wr = 0;
    return CL_OK;
}

static int add_error(struct parser *ps, int rc)
{
    switch (rc) {
    case CL_ERR_DUPLICATE:
        ps->what = "FID, SFI or DF name already used";
        break;
    case CL_ERR_LIMIT:
        ps->what = "too many files or bytes (CL_SIM_FS_FILES_MAX, _DATA_MAX)";
        break;
    default:
        ps->what = "reserved FID (3F00, 3FFF, FFFF) or a value out of range";
        break;
    }
    return rc;
}

static int st_df(struct parser *ps)
{
    const char *w;
    size_t n;
    uint16_t fid = 0;
    uint8_t name[CL_SIM_FS_NAME_MAX];
    size_t name_len = 0;
    int rc;

    if (!word(ps, &w, &n)) {
        ps->what = "df: a FID or 'name HEX' expected";
        return CL_ERR_MALFORMED;
    }
    if (!word_is(w, n, "name")) {
        if (!fid_of(w, n, &fid)) {
            ps->what = "bad FID (4 hex digits)";
            return CL_ERR_MALFORMED;
        }
        if (!word(ps, &w, &n))
            goto add;
        if (!word_is(w, n, "name")) {
            ps->what = "df FID: only 'name HEX' may follow";
            return CL_ERR_MALFORMED;
        }
    }
    if (!word(ps, &w, &n) || n > 2u * CL_SIM_FS_NAME_MAX ||
        !hex_bytes(w, n, name)) {
        ps->what = "bad DF name (1 to 16 bytes in hex, no spaces)";
        return CL_ERR_MALFORMED;
    }
    name_len = n / 2;
    if (!at_end(ps)) {
        ps->what = "something after the DF name";
        return CL_ERR_MALFORMED;
    }
add:
    if (ps->depth >= DEPTH_MAX) {
        ps->what = "DFs nested deeper than 8";
        return CL_ERR_LIMIT;
    }
    rc = cl_sim_fs_add_df(ps->fs, ps->stack[ps->depth], fid, name, name_len);
    if (rc < 0)
        return add_error(ps, rc);
    ps->stack[++ps->depth] = (unsigned)rc;
    return CL_OK;
}

static int st_ef(struct parser *ps)
{
    const char *w;
    size_t n;
    uint16_t fid;
    unsigned long sfi = 0, size = 0, recs = 0;
    uint8_t type;
    int rc;

    if (!word(ps, &w, &n) || !fid_of(w, n, &fid)) {
        ps->what = "bad FID (4 hex digits)";
        return CL_ERR_MALFORMED;
    }
    if (!word(ps, &w, &n)) {
        ps->what = "ef FID: transparent, linear or cyclic expected";
        return CL_ERR_MALFORMED;
    }
    if (word_is(w, n, "sfi")) {
        if (!word(ps, &w, &n) || !number(w, n, 30, &sfi) || sfi == 0) {
            ps->what = "bad SFI (1..30, decimal or 0x hex)";
            return CL_ERR_MALFORMED;
        }
        if (!word(ps, &w, &n)) {
            ps->what = "ef FID: transparent, linear or cyclic expected";
            return CL_ERR_MALFORMED;
        }
    }
    if (word_is(w, n, "transparent")) {
        type = CL_SIM_FS_TRANSPARENT;
        if (word(ps, &w, &n) && (!number(w, n, 0xFFFF, &size) || size == 0)) {
            ps->what = "bad size (1..65535 bytes)";
            return CL_ERR_MALFORMED;
        }
    } else if (word_is(w, n, "linear") || word_is(w, n, "cyclic")) {
        type = word_is(w, n, "linear") ? CL_SIM_FS_LINEAR : CL_SIM_FS_CYCLIC;
        if (!word(ps, &w, &n) || !number(w, n, 255, &size) || size == 0) {
            ps->what = "bad record length (1..255)";
            return CL_ERR_MALFORMED;
        }
        if (!word(ps, &w, &n) || !number(w, n, 255, &recs) || recs == 0) {
            ps->what = "bad number of records (1..255)";
            return CL_ERR_MALFORMED;
        }
    } else {
        ps->what = "ef FID: transparent, linear or cyclic expected";
        return CL_ERR_MALFORMED;
    }
    if (!at_end(ps)) {
        ps->what = "something after the EF's description";
        return CL_ERR_MALFORMED;
    }
    rc = cl_sim_fs_add_ef(ps->fs, ps->stack[ps->depth], fid, (uint8_t)sfi,
                          type, size == 0 ? 1u : size, (unsigned)recs);
    if (rc < 0)
        return add_error(ps, rc);
    ps->last = rc;
    ps->ef_line = ps->line;
    ps->wr = 0;
    ps->autosize = type == CL_SIM_FS_TRANSPARENT && size == 0;
    if (ps->autosize) {                 /* grows with its data */
        ps->fs->files[rc].size = 0;
        ps->fs->used = (uint16_t)(ps->fs->used - 1u);
    }
    return CL_OK;
}

static int st_data(struct parser *ps)
{
    uint8_t buf[64];
    size_t total;

    if (ps->last < 0 ||
        ps->fs->files[ps->last].type != CL_SIM_FS_TRANSPARENT) {
        ps->what = "data without a transparent EF before it";
        return CL_ERR_MALFORMED;
    }
    return bytes_of_line(ps, buf, sizeof(buf), &total, false, data_sink);
}

static int st_record(struct parser *ps)
{
    uint8_t buf[255];
    size_t total;
    int rc;

    if (ps->last < 0 ||
        ps->fs->files[ps->last].type == CL_SIM_FS_TRANSPARENT) {
        ps->what = "record without a record EF before it";
        return CL_ERR_MALFORMED;
    }
    rc = bytes_of_line(ps, buf, sizeof(buf), &total, true, NULL);
    if (rc != CL_OK)
        return rc;
    rc = cl_sim_fs_append(ps->fs, (unsigned)ps->last, buf, total);
    if (rc == CL_ERR_LENGTH)
        ps->what = "record length differs from the EF's";
    else if (rc == CL_ERR_LIMIT)
        ps->what = "more records than the EF holds";
    return rc;
}

static int statement(struct parser *ps)
{
    const char *w;
    size_t n;
    int rc;

    if (!word(ps, &w, &n))
        return CL_OK;                   /* blank or comment */
    if (word_is(w, n, "data"))
        return st_data(ps);
    if (word_is(w, n, "record"))
        return st_record(ps);
    rc = close_ef(ps);
    if (rc != CL_OK)
        return rc;
    if (word_is(w, n, "df"))
        return st_df(ps);
    if (word_is(w, n, "ef"))
        return st_ef(ps);
    if (word_is(w, n, "end")) {
        if (ps->depth == 0) {
            ps->what = "end without a df";
            return CL_ERR_MALFORMED;
        }
        ps->depth--;
        if (!at_end(ps)) {
            ps->what = "something after end";
            return CL_ERR_MALFORMED;
        }
        return CL_OK;
    }
    ps->what = "unknown statement (df, ef, data, record, end)";
    return CL_ERR_MALFORMED;
}

/* see cardlink/sim.h */
int cl_sim_fs_parse(struct cl_sim_fs *fs, const char *text, size_t len,
                    struct cl_sim_fs_error *err)
{
    struct parser ps;
    const char *line = text, *end = text + len;
    unsigned lineno = 0;
    int rc = CL_OK;

    if (err != NULL) {
        err->line = 0;
        err->what = NULL;
    }
    if (fs == NULL || (text == NULL && len > 0) || fs->nfiles == 0)
        return CL_ERR_ARG;
    memset(&ps, 0, sizeof(ps));
    ps.fs = fs;
    ps.last = -1;
    while (line < end) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        const char *eol = nl != NULL ? nl : end;

        lineno++;
        if (memchr(line, '\0', (size_t)(eol - line)) != NULL) {
            ps.what = "NUL byte in the text";
            rc = CL_ERR_MALFORMED;
            break;
        }
        ps.p = line;
        ps.end = eol;
        ps.line = lineno;
        rc = statement(&ps);
        if (rc != CL_OK)
            break;
        line = nl != NULL ? nl + 1 : end;
    }
    if (rc == CL_OK)
        rc = close_ef(&ps);
    if (rc != CL_OK && err != NULL) {
        err->line = ps.err_line != 0 ? ps.err_line : lineno;
        err->what = ps.what;
    }
    return rc;
}
