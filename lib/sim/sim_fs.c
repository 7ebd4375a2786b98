/*
 * cardlink — the simulator's ISO 7816-4 file-system application.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "cardlink/sim.h"
#include "cardlink/apdu.h"
#include "cardlink/error.h"
#include "cardlink/fault.h"
#include "cardlink/sw.h"

#include <string.h>

/* see cardlink/sim.h */
const uint8_t CL_SIM_AID[CL_SIM_AID_LEN] = {
    0xF0, 0x43, 0x41, 0x52, 0x44, 0x4C, 0x4E, 0x4B  /* F0 "CARDLNK" */
};

#define FID_MF 0x3F00u

#if CL_SIM_FS_DATA_MAX > 0xFFFFu || CL_SIM_FS_FILES_MAX > 127u
#error "CL_SIM_FS_DATA_MAX above 65535 or CL_SIM_FS_FILES_MAX above 127"
#endif

/* EF 0101's initial content and the test commands' filler. */
static uint8_t pattern(size_t i)
{
    return (uint8_t)(i * 7u + 1u);
}

static bool is_df(const struct cl_sim_fs_file *f)
{
    return f->type == CL_SIM_FS_DF;
}

static bool is_record(uint8_t type)
{
    return type == CL_SIM_FS_LINEAR || type == CL_SIM_FS_CYCLIC;
}

/* see cardlink/sim.h */
void cl_sim_fs_init_empty(struct cl_sim_fs *fs, uint32_t seed, uint16_t slow)
{
    if (fs == NULL)
        return;
    memset(fs, 0, sizeof(*fs));
    fs->seed = seed;
    fs->rng = seed;
    fs->slow = slow;
    fs->cur_ef = -1;
    fs->nfiles = 1;
    fs->files[0].fid = FID_MF;
    fs->files[0].type = CL_SIM_FS_DF;
}

/* A new file under parent: its index, or an error. */
static int add_file(struct cl_sim_fs *fs, unsigned parent, uint16_t fid,
                    uint8_t sfi, uint8_t type, size_t bytes)
{
    struct cl_sim_fs_file *f;
    unsigned i;

    if (fs == NULL || parent >= fs->nfiles || !is_df(&fs->files[parent]) ||
        fid == FID_MF || fid == 0xFFFFu || fid == 0x3FFFu || sfi > 30u)
        return CL_ERR_ARG;
    for (i = 1; i < fs->nfiles; i++) {
        const struct cl_sim_fs_file *o = &fs->files[i];
        if (o->parent != parent)
            continue;
        if ((fid != 0 && o->fid == fid) || (sfi != 0 && o->sfi == sfi))
            return CL_ERR_DUPLICATE;
    }
    if (fs->nfiles >= CL_SIM_FS_FILES_MAX ||
        bytes > (size_t)CL_SIM_FS_DATA_MAX - fs->used)
        return CL_ERR_LIMIT;
    f = &fs->files[fs->nfiles];
    memset(f, 0, sizeof(*f));
    f->fid = fid;
    f->parent = (uint8_t)parent;
    f->type = type;
    f->sfi = sfi;
    f->size = (uint16_t)bytes;
    f->off = fs->used;
    fs->used = (uint16_t)(fs->used + bytes);
    return fs->nfiles++;
}

/* see cardlink/sim.h */
int cl_sim_fs_add_df(struct cl_sim_fs *fs, unsigned parent, uint16_t fid,
                     const uint8_t *name, size_t name_len)
{
    int idx;
    unsigned i;

    if (fs == NULL || name_len > CL_SIM_FS_NAME_MAX ||
        (name_len > 0 && name == NULL) || (fid == 0 && name_len == 0))
        return CL_ERR_ARG;
    for (i = 0; name_len > 0 && i < fs->nfiles; i++)
        if (fs->files[i].name_len == name_len &&
            memcmp(fs->files[i].name, name, name_len) == 0)
            return CL_ERR_DUPLICATE;
    idx = add_file(fs, parent, fid, 0, CL_SIM_FS_DF, 0);
    if (idx < 0)
        return idx;
    if (name_len > 0)
        memcpy(fs->files[idx].name, name, name_len);
    fs->files[idx].name_len = (uint8_t)name_len;
    return idx;
}

/* see cardlink/sim.h */
int cl_sim_fs_add_ef(struct cl_sim_fs *fs, unsigned parent, uint16_t fid,
                     uint8_t sfi, uint8_t type, size_t size, unsigned records)
{
    int idx;

    if (fid == 0)
        return CL_ERR_ARG;
    if (type == CL_SIM_FS_TRANSPARENT) {
        if (size == 0 || size > 0xFFFFu)
            return CL_ERR_ARG;
        return add_file(fs, parent, fid, sfi, type, size);
    }
    if (!is_record(type) || size == 0 || size > 255u || records == 0 ||
        records > 255u)
        return CL_ERR_ARG;
    idx = add_file(fs, parent, fid, sfi, type, size * records);
    if (idx < 0)
        return idx;
    fs->files[idx].rec_len = (uint8_t)size;
    fs->files[idx].rec_max = (uint8_t)records;
    return idx;
}

/* see cardlink/sim.h */
int cl_sim_fs_write(struct cl_sim_fs *fs, unsigned index, size_t off,
                    const uint8_t *b, size_t n)
{
    const struct cl_sim_fs_file *f;

    if (fs == NULL || index >= fs->nfiles || (b == NULL && n > 0))
        return CL_ERR_ARG;
    f = &fs->files[index];
    if (f->type != CL_SIM_FS_TRANSPARENT)
        return CL_ERR_ARG;
    if (off > f->size || n > f->size - off)
        return CL_ERR_TOO_LONG;
    if (n > 0)
        memcpy(fs->data + f->off + off, b, n);
    return CL_OK;
}

/* see cardlink/sim.h */
int cl_sim_fs_append(struct cl_sim_fs *fs, unsigned index, const uint8_t *b,
                     size_t n)
{
    struct cl_sim_fs_file *f;
    uint8_t slot;

    if (fs == NULL || index >= fs->nfiles || b == NULL)
        return CL_ERR_ARG;
    f = &fs->files[index];
    if (!is_record(f->type))
        return CL_ERR_ARG;
    if (n != f->rec_len)
        return CL_ERR_LENGTH;
    if (f->type == CL_SIM_FS_LINEAR) {
        if (f->rec_count >= f->rec_max)
            return CL_ERR_LIMIT;
        slot = f->rec_count++;
    } else {
        f->rec_head = (uint8_t)(f->rec_head == 0 ? f->rec_max - 1u
                                                 : f->rec_head - 1u);
        slot = f->rec_head;
        if (f->rec_count < f->rec_max)
            f->rec_count++;
    }
    memcpy(fs->data + f->off + (size_t)slot * f->rec_len, b, n);
    return CL_OK;
}

/* see cardlink/sim.h */
void cl_sim_fs_init(struct cl_sim_fs *fs, uint32_t seed, uint16_t slow)
{
    static const char label[] = "cardlink vcard";
    int df, ef, rc;
    size_t i;

    if (fs == NULL)
        return;
    cl_sim_fs_init_empty(fs, seed, slow);
    /* Cannot fail: the sizes fit the defaults of CL_SIM_FS_*_MAX. */
    ef = cl_sim_fs_add_ef(fs, 0, 0x0011u, 0x11u, CL_SIM_FS_TRANSPARENT,
                          CL_SIM_FS_MFEF, 0);
    rc = ef > 0 ? cl_sim_fs_write(fs, (unsigned)ef, 0, (const uint8_t *)label,
                                  sizeof(label) - 1u)
                : ef;
    df = cl_sim_fs_add_df(fs, 0, 0x1000u, CL_SIM_AID, CL_SIM_AID_LEN);
    if (rc != CL_OK || df < 0)
        return;
    ef = cl_sim_fs_add_ef(fs, (unsigned)df, 0x0101u, 1, CL_SIM_FS_TRANSPARENT,
                          CL_SIM_FS_BIG, 0);
    if (ef < 0)
        return;
    for (i = 0; i < CL_SIM_FS_BIG; i++)
        fs->data[fs->files[ef].off + i] = pattern(i);
    if (cl_sim_fs_add_ef(fs, (unsigned)df, 0x0102u, 2, CL_SIM_FS_TRANSPARENT,
                         CL_SIM_FS_SMALL, 0) < 0 ||
        cl_sim_fs_add_ef(fs, (unsigned)df, 0x0201u, 3, CL_SIM_FS_LINEAR,
                         CL_SIM_FS_RECLEN, CL_SIM_FS_LINEAR_RECS) < 0)
        return;
    (void)!cl_sim_fs_add_ef(fs, (unsigned)df, 0x0202u, 4, CL_SIM_FS_CYCLIC,
                            CL_SIM_FS_RECLEN, CL_SIM_FS_CYCLIC_RECS);
}

/* see cardlink/sim.h */
void cl_sim_fs_reset(void *ctx)
{
    struct cl_sim_fs *fs = ctx;
    if (fs == NULL)
        return;
    fs->cur_df = 0;
    fs->cur_ef = -1;
    fs->pending = false;
    fs->busy_left = 0;
}

static bool fs_has_data(void *ctx, const uint8_t hdr[5])
{
    (void)ctx;
    return cl_sim_t0_has_data(hdr);
}

/* see cardlink/sim.h */
struct cl_cardapp cl_sim_fs_app(struct cl_sim_fs *fs)
{
    struct cl_cardapp app;
    app.process = cl_sim_fs_process;
    app.reset = cl_sim_fs_reset;
    app.t0_has_data = fs_has_data;
    app.ctx = fs;
    return app;
}

/* see cardlink/sim.h */
bool cl_sim_t0_has_data(const uint8_t hdr[5])
{
    if (hdr != NULL && hdr[0] == CL_SIM_CLA_TEST)
        return hdr[1] == CL_SIM_INS_ECHO;
    return cl_cardapp_t0_has_data(hdr);
}

/* Response helpers: data already in resp[0..n); append the SW. */
static int finish(uint8_t *resp, size_t n, uint16_t sw, size_t *resp_len)
{
    resp[n] = CL_SW1(sw);
    resp[n + 1] = CL_SW2(sw);
    *resp_len = n + 2;
    return CL_OK;
}

/* The child of DF df with this FID (df_only / ef_only: of that kind), or
 * -1. */
static int find_child(const struct cl_sim_fs *fs, unsigned df, uint16_t fid,
                      int kind)
{
    unsigned i;
    for (i = 1; i < fs->nfiles; i++) {
        const struct cl_sim_fs_file *f = &fs->files[i];
        if (f->parent != df || f->fid != fid || fid == 0)
            continue;
        if ((kind == 1 && !is_df(f)) || (kind == 2 && is_df(f)))
            continue;
        return (int)i;
    }
    return -1;
}

static int find_sfi(const struct cl_sim_fs *fs, uint8_t sfi)
{
    unsigned i;
    for (i = 1; i < fs->nfiles; i++)
        if (fs->files[i].sfi == sfi && fs->files[i].parent == fs->cur_df &&
            !is_df(&fs->files[i]))
            return (int)i;
    return -1;
}

static void put_tlv(uint8_t *out, size_t *n, uint8_t tag, const uint8_t *v,
                    size_t len)
{
    out[(*n)++] = tag;
    out[(*n)++] = (uint8_t)len;
    memcpy(out + *n, v, len);
    *n += len;
}

/* Build the FCP template of the current file into out (room >= 48). */
static size_t fcp(const struct cl_sim_fs *fs, uint8_t *out)
{
    const struct cl_sim_fs_file *f =
        &fs->files[fs->cur_ef < 0 ? fs->cur_df : (unsigned)fs->cur_ef];
    uint8_t v[5];
    size_t n = 2;

    if (is_df(f)) {
        v[0] = CL_SIM_FS_DF;
        put_tlv(out, &n, 0x82, v, 1);
        if (f->fid != 0) {
            v[0] = (uint8_t)(f->fid >> 8);
            v[1] = (uint8_t)f->fid;
            put_tlv(out, &n, 0x83, v, 2);
        }
        if (f->name_len > 0)
            put_tlv(out, &n, 0x84, f->name, f->name_len);
    } else {
        v[0] = (uint8_t)(f->size >> 8);
        v[1] = (uint8_t)f->size;
        put_tlv(out, &n, 0x80, v, 2);
        v[0] = f->type;
        if (f->type == CL_SIM_FS_TRANSPARENT) {
            put_tlv(out, &n, 0x82, v, 1);
        } else {
            v[1] = 0x21;
            v[2] = 0x00;
            v[3] = f->rec_len;
            v[4] = f->rec_max;
            put_tlv(out, &n, 0x82, v, 5);
        }
        v[0] = (uint8_t)(f->fid >> 8);
        v[1] = (uint8_t)f->fid;
        put_tlv(out, &n, 0x83, v, 2);
        if (f->sfi != 0) {
            v[0] = (uint8_t)(f->sfi << 3);
            put_tlv(out, &n, 0x88, v, 1);
        }
    }
    v[0] = 0x05;                        /* operational, activated */
    put_tlv(out, &n, 0x8A, v, 1);
    out[0] = 0x62;
    out[1] = (uint8_t)(n - 2);
    return n;
}

/* Make file idx current (a DF: current DF, no EF; an EF: current EF of
 * its DF). */
static void make_current(struct cl_sim_fs *fs, unsigned idx)
{
    if (is_df(&fs->files[idx])) {
        fs->cur_df = (uint8_t)idx;
        fs->cur_ef = -1;
    } else {
        fs->cur_df = fs->files[idx].parent;
        fs->cur_ef = (int8_t)idx;
    }
}

/* SELECT by FID (P1 00): 3F00, a child of the current DF, the current DF,
 * its parent, a child of the parent. */
static int select_fid(const struct cl_sim_fs *fs, uint16_t fid)
{
    unsigned df = fs->cur_df, up = fs->files[df].parent;
    int i;

    if (fid == FID_MF)
        return 0;
    if ((i = find_child(fs, df, fid, 0)) >= 0)
        return i;
    if (fs->files[df].fid == fid)
        return (int)df;
    if (fs->files[up].fid == fid)
        return (int)up;
    return find_child(fs, up, fid, 0);
}

/* SELECT by path from DF start: every step but the last a DF. */
static int select_path(const struct cl_sim_fs *fs, unsigned start,
                       const uint8_t *p, size_t n)
{
    unsigned at = start;
    size_t k;

    for (k = 0; k < n; k += 2) {
        uint16_t fid = (uint16_t)(p[k] << 8 | p[k + 1]);
        int i;

        if (!is_df(&fs->files[at]))
            return -1;
        i = find_child(fs, at, fid, 0);
        if (i < 0)
            return -1;
        at = (unsigned)i;
    }
    return (int)at;
}

static int select_name(const struct cl_sim_fs *fs, const uint8_t *name,
                       size_t n)
{
    unsigned i;
    for (i = 0; i < fs->nfiles; i++)
        if (is_df(&fs->files[i]) && fs->files[i].name_len >= n &&
            memcmp(fs->files[i].name, name, n) == 0)
            return (int)i;
    return -1;
}

static uint16_t do_select(struct cl_sim_fs *fs, const struct cl_apdu *a,
                          uint8_t *resp, size_t *n)
{
    int i;

    if ((a->p2 & 0xF3u) != 0 || (a->p2 & 0x0Cu) == 0x08u)
        return 0x6A86;
    switch (a->p1) {
    case 0x00:
        if (a->nc == 0) {
            i = 0;
            break;
        }
        if (a->nc != 2)
            return 0x6700;
        i = select_fid(fs, (uint16_t)(a->data[0] << 8 | a->data[1]));
        break;
    case 0x01:
    case 0x02:
        if (a->nc != 2)
            return 0x6700;
        i = find_child(fs, fs->cur_df, (uint16_t)(a->data[0] << 8 | a->data[1]),
                       a->p1 == 0x01 ? 1 : 2);
        break;
    case 0x03:
        if (a->nc != 0)
            return 0x6700;
        i = fs->files[fs->cur_df].parent;
        break;
    case 0x04:
        if (a->nc == 0) {
            i = 0;
            break;
        }
        if (a->nc > CL_SIM_FS_NAME_MAX)
            return 0x6700;
        i = select_name(fs, a->data, a->nc);
        break;
    case 0x08:
    case 0x09: {
        const uint8_t *p = a->data;
        size_t len = a->nc;

        if (len == 0 || (len & 1u) != 0)
            return 0x6700;
        if (a->p1 == 0x08 && p[0] == 0x3F && p[1] == 0x00) {
            p += 2;
            len -= 2;
        }
        i = select_path(fs, a->p1 == 0x08 ? 0u : fs->cur_df, p, len);
        break;
    }
    default:
        return 0x6A86;
    }
    if (i < 0)
        return 0x6A82;
    make_current(fs, (unsigned)i);
    if ((a->p2 & 0x0Cu) != 0x0Cu)
        *n = fcp(fs, resp);
    return CL_SW_OK;
}

/* LIST FILES: the FIDs of the current DF's children (what: 0 all, DFs
 * first; 1 DFs; 2 EFs). */
static uint16_t do_list(const struct cl_sim_fs *fs, const struct cl_apdu *a,
                        int what, uint8_t *resp, size_t room, size_t *n)
{
    size_t k = 0;
    unsigned pass, i;

    if (a->nc != 0 || a->ne == 0)
        return 0x6700;
    for (pass = 1; pass <= 2; pass++) {
        if (what != 0 && (unsigned)what != pass)
            continue;
        for (i = 1; i < fs->nfiles; i++) {
            const struct cl_sim_fs_file *f = &fs->files[i];
            if (f->parent != fs->cur_df || f->fid == 0 ||
                is_df(f) != (pass == 1))
                continue;
            if (k + 2 > room || k + 2 > a->ne)
                return 0x6A84;
            resp[k++] = (uint8_t)(f->fid >> 8);
            resp[k++] = (uint8_t)f->fid;
        }
    }
    if (k == 0 && what != 0)
        return 0x6A82;
    *n = k;
    return CL_SW_OK;
}

/* Resolve the EF of a READ/UPDATE BINARY: SFI in P1 or the current one. */
static uint16_t binary_target(struct cl_sim_fs *fs, const struct cl_apdu *a,
                              size_t *off)
{
    if (a->p1 & 0x80u) {
        int ef;
        if (a->p1 & 0x60u)
            return 0x6A86;
        ef = find_sfi(fs, (uint8_t)(a->p1 & 0x1Fu));
        if (ef < 0)
            return 0x6A82;
        fs->cur_ef = (int8_t)ef;
        *off = a->p2;
    } else {
        if (fs->cur_ef < 0)
            return 0x6986;
        *off = (size_t)(a->p1 & 0x7Fu) << 8 | a->p2;
    }
    if (fs->files[fs->cur_ef].type != CL_SIM_FS_TRANSPARENT)
        return 0x6981;
    return CL_SW_OK;
}

static bool ne_is_max(size_t ne)
{
    return ne == 256u || ne == 65536u;
}

static uint16_t do_read_binary(struct cl_sim_fs *fs, const struct cl_apdu *a,
                               uint8_t *resp, size_t room, size_t *n)
{
    size_t off = 0, size, cnt;
    const struct cl_sim_fs_file *f;
    uint16_t sw;

    if (a->nc != 0 || a->ne == 0)
        return 0x6700;
    sw = binary_target(fs, a, &off);
    if (sw != CL_SW_OK)
        return sw;
    f = &fs->files[fs->cur_ef];
    size = f->size;
    if (off >= size)
        return 0x6B00;
    cnt = size - off;
    sw = CL_SW_OK;
    if (cnt > a->ne)
        cnt = a->ne;
    else if (cnt < a->ne && !ne_is_max(a->ne))
        sw = 0x6282;
    if (cnt > room)
        cnt = room;
    memcpy(resp, fs->data + f->off + off, cnt);
    *n = cnt;
    return sw;
}

static uint16_t do_update_binary(struct cl_sim_fs *fs, const struct cl_apdu *a)
{
    size_t off = 0;
    const struct cl_sim_fs_file *f;
    uint16_t sw;

    if (a->nc == 0)
        return 0x6700;
    sw = binary_target(fs, a, &off);
    if (sw != CL_SW_OK)
        return sw;
    f = &fs->files[fs->cur_ef];
    if (off >= f->size)
        return 0x6B00;
    if (a->nc > f->size - off)
        return 0x6700;
    memcpy(fs->data + f->off + off, a->data, a->nc);
    return CL_SW_OK;
}

/* Resolve the record EF from P2's SFI (0: current). */
static uint16_t record_target(struct cl_sim_fs *fs, uint8_t p2)
{
    uint8_t sfi = (uint8_t)(p2 >> 3);
    if (sfi != 0) {
        int ef = find_sfi(fs, sfi);
        if (ef < 0)
            return 0x6A82;
        fs->cur_ef = (int8_t)ef;
    } else if (fs->cur_ef < 0) {
        return 0x6986;
    }
    if (!is_record(fs->files[fs->cur_ef].type))
        return 0x6981;
    return CL_SW_OK;
}

static uint16_t do_read_record(struct cl_sim_fs *fs, const struct cl_apdu *a,
                               uint8_t *resp, size_t room, size_t *n)
{
    uint16_t sw;
    const struct cl_sim_fs_file *f;
    unsigned k = a->p1, slot;

    if (a->nc != 0 || a->ne == 0)
        return 0x6700;
    if ((a->p2 & 7u) != 4u || k == 0 || (a->p2 >> 3) == 0x1Fu)
        return 0x6A86;
    sw = record_target(fs, a->p2);
    if (sw != CL_SW_OK)
        return sw;
    f = &fs->files[fs->cur_ef];
    if (k > f->rec_count)
        return 0x6A83;
    slot = k - 1u;
    if (f->type == CL_SIM_FS_CYCLIC) {
        slot += f->rec_head;
        if (slot >= f->rec_max)
            slot -= f->rec_max;
    }
    if (a->ne < f->rec_len || (a->ne > f->rec_len && !ne_is_max(a->ne)))
        return (uint16_t)(0x6C00u | f->rec_len);
    if (f->rec_len > room)
        return 0x6700;
    memcpy(resp, fs->data + f->off + (size_t)slot * f->rec_len, f->rec_len);
    *n = f->rec_len;
    return CL_SW_OK;
}

static uint16_t do_append_record(struct cl_sim_fs *fs, const struct cl_apdu *a)
{
    uint16_t sw;
    int rc;

    if (a->p1 != 0 || (a->p2 & 7u) != 0 || (a->p2 >> 3) == 0x1Fu)
        return 0x6A86;
    sw = record_target(fs, a->p2);
    if (sw != CL_SW_OK)
        return sw;
    rc = cl_sim_fs_append(fs, (unsigned)fs->cur_ef, a->data, a->nc);
    if (rc == CL_ERR_LENGTH || (rc == CL_ERR_ARG && a->nc == 0))
        return 0x6700;
    if (rc == CL_ERR_LIMIT)
        return 0x6A84;
    return rc == CL_OK ? CL_SW_OK : 0x6F00;
}

static uint16_t do_test(const struct cl_apdu *a, uint8_t *resp, size_t room,
                        size_t *n)
{
    size_t want = (size_t)a->p1 << 8 | a->p2, i;

    switch (a->ins) {
    case CL_SIM_INS_GENERATE:
        if (a->nc != 0)
            return 0x6700;
        break;
    case CL_SIM_INS_ECHO:
        break;
    case CL_SIM_INS_SLOW:
        return a->p2 == 0 ? CL_SW_OK : 0x6A86;
    default:
        return 0x6D00;
    }
    if (want > room)
        return 0x6700;
    for (i = 0; i < want; i++)
        resp[i] = i < a->nc ? a->data[i] : pattern(i);
    *n = want;
    return CL_SW_OK;
}

/* see cardlink/sim.h */
int cl_sim_fs_process(void *ctx, const uint8_t *cmd, size_t cmd_len,
                      uint8_t *resp, size_t resp_size, size_t *resp_len)
{
    struct cl_sim_fs *fs = ctx;
    struct cl_apdu a;
    size_t n = 0, room, i;
    uint16_t sw;

    if (fs == NULL || cmd == NULL || resp == NULL || resp_len == NULL)
        return CL_ERR_ARG;
    if (resp_size < CL_SIM_FS_RESP_MIN)
        return CL_ERR_BUFFER;
    room = resp_size - 2;

    if (!fs->pending) {
        fs->busy_left = fs->slow;
        if (cmd_len >= 4 && cmd[0] == CL_SIM_CLA_TEST &&
            cmd[1] == CL_SIM_INS_SLOW)
            fs->busy_left = (uint16_t)(fs->busy_left + cmd[2]);
    }
    if (fs->busy_left > 0) {
        fs->busy_left--;
        fs->pending = true;
        return CL_CARDAPP_BUSY;
    }
    fs->pending = false;

    if (cl_apdu_decode(cmd, cmd_len, &a, NULL) != CL_OK)
        return finish(resp, 0, 0x6700, resp_len);
    if (a.cla == CL_SIM_CLA_TEST && a.ins == 0xAA) {
        sw = a.p1 >= 1 && a.p1 <= 2 && a.p2 == 0
                 ? do_list(fs, &a, a.p1, resp, room, &n)
                 : 0x6A86;
        return finish(resp, n, sw, resp_len);
    }
    if (a.cla == CL_SIM_CLA_TEST) {
        sw = do_test(&a, resp, room, &n);
        return finish(resp, n, sw, resp_len);
    }
    if (!((a.cla & 0xF0u) == 0x00u || (a.cla & 0xF0u) == 0x10u ||
          (a.cla & 0xC0u) == 0x40u))
        return finish(resp, 0, 0x6E00, resp_len);
    if ((a.cla & 0xF0u) == 0x10u)
        return finish(resp, 0, 0x6884, resp_len);
    switch (a.ins) {
    case 0xA4:
        sw = do_select(fs, &a, resp, &n);
        break;
    case 0xB0:
        sw = do_read_binary(fs, &a, resp, room, &n);
        break;
    case 0xD6:
        sw = do_update_binary(fs, &a);
        break;
    case 0xB2:
        sw = do_read_record(fs, &a, resp, room, &n);
        break;
    case 0xE2:
        sw = do_append_record(fs, &a);
        break;
    case 0xAA:
        sw = a.p1 == 0 && a.p2 == 0 ? do_list(fs, &a, 0, resp, room, &n)
                                    : 0x6A86;
        break;
    case 0x84:
        if (a.p1 != 0 || a.p2 != 0) {
            sw = 0x6A86;
        } else if (a.nc != 0 || a.ne == 0) {
            sw = 0x6700;
        } else {
            n = a.ne < room ? a.ne : room;
            for (i = 0; i < n; i++)
                resp[i] = (uint8_t)(cl_fault_rand(&fs->rng) >> 24);
            sw = CL_SW_OK;
        }
        break;
    default:
        sw = 0x6D00;
        break;
    }
    return finish(resp, n, sw, resp_len);
}
