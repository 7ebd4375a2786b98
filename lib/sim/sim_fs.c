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
#define FID_DF 0x1000u

enum { EF_TRANSPARENT = 1, EF_LINEAR = 2, EF_CYCLIC = 6 };

struct ef_desc {
    uint16_t fid;
    uint8_t df;     /* 0 MF, 1 DF */
    uint8_t sfi;
    uint8_t type;   /* EF_* (the FCP file descriptor byte) */
};

static const struct ef_desc efs[] = {
    {0x0011u, 0, 0x11, EF_TRANSPARENT},
    {0x0101u, 1, 1, EF_TRANSPARENT},
    {0x0102u, 1, 2, EF_TRANSPARENT},
    {0x0201u, 1, 3, EF_LINEAR},
    {0x0202u, 1, 4, EF_CYCLIC},
};
#define NEFS ((int)CL_ARRAY_LEN(efs))

static uint8_t pattern(size_t i)
{
    return (uint8_t)(i * 7u + 1u);
}

/* see cardlink/sim.h */
void cl_sim_fs_init(struct cl_sim_fs *fs, uint32_t seed, uint16_t slow)
{
    static const char label[] = "cardlink vcard";
    size_t i;

    if (fs == NULL)
        return;
    memset(fs, 0, sizeof(*fs));
    fs->seed = seed;
    fs->rng = seed;
    fs->slow = slow;
    fs->cur_ef = -1;
    memcpy(fs->mf_ef, label, sizeof(label) - 1);
    for (i = 0; i < CL_SIM_FS_BIG; i++)
        fs->big[i] = pattern(i);
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

static uint8_t *ef_data(struct cl_sim_fs *fs, int ef, size_t *size)
{
    switch (ef) {
    case 0: *size = CL_SIM_FS_MFEF; return fs->mf_ef;
    case 1: *size = CL_SIM_FS_BIG; return fs->big;
    case 2: *size = CL_SIM_FS_SMALL; return fs->small;
    case 3: *size = sizeof(fs->linear); return fs->linear;
    default: *size = sizeof(fs->cyclic); return fs->cyclic;
    }
}

static int find_ef(const struct cl_sim_fs *fs, uint16_t fid)
{
    int i;
    for (i = 0; i < NEFS; i++)
        if (efs[i].fid == fid && efs[i].df == fs->cur_df)
            return i;
    return -1;
}

static int find_sfi(const struct cl_sim_fs *fs, uint8_t sfi)
{
    int i;
    for (i = 0; i < NEFS; i++)
        if (efs[i].sfi == sfi && efs[i].df == fs->cur_df)
            return i;
    return -1;
}

/* Build the FCP template of the current file into out (room >= 40). */
static size_t fcp(const struct cl_sim_fs *fs, uint8_t *out)
{
    size_t n = 2;
    if (fs->cur_ef < 0) {
        out[n++] = 0x82; out[n++] = 1; out[n++] = 0x38;
        out[n++] = 0x83; out[n++] = 2;
        if (fs->cur_df == 0) {
            out[n++] = 0x3F; out[n++] = 0x00;
        } else {
            out[n++] = 0x10; out[n++] = 0x00;
            out[n++] = 0x84; out[n++] = CL_SIM_AID_LEN;
            memcpy(out + n, CL_SIM_AID, CL_SIM_AID_LEN);
            n += CL_SIM_AID_LEN;
        }
    } else {
        const struct ef_desc *e = &efs[fs->cur_ef];
        size_t size = e->type == EF_TRANSPARENT
                          ? (e->fid == 0x0011u ? CL_SIM_FS_MFEF
                             : e->fid == 0x0101u ? CL_SIM_FS_BIG
                                                 : CL_SIM_FS_SMALL)
                          : (size_t)(e->type == EF_LINEAR
                                         ? CL_SIM_FS_LINEAR_RECS
                                         : CL_SIM_FS_CYCLIC_RECS) *
                                CL_SIM_FS_RECLEN;
        out[n++] = 0x80; out[n++] = 2;
        out[n++] = (uint8_t)(size >> 8); out[n++] = (uint8_t)size;
        if (e->type == EF_TRANSPARENT) {
            out[n++] = 0x82; out[n++] = 1; out[n++] = EF_TRANSPARENT;
        } else {
            out[n++] = 0x82; out[n++] = 5; out[n++] = e->type;
            out[n++] = 0x21; out[n++] = 0x00; out[n++] = CL_SIM_FS_RECLEN;
            out[n++] = (uint8_t)(size / CL_SIM_FS_RECLEN);
        }
        out[n++] = 0x83; out[n++] = 2;
        out[n++] = (uint8_t)(e->fid >> 8); out[n++] = (uint8_t)e->fid;
        out[n++] = 0x88; out[n++] = 1; out[n++] = (uint8_t)(e->sfi << 3);
    }
    out[n++] = 0x8A; out[n++] = 1; out[n++] = 0x05;  /* operational, activated */
    out[0] = 0x62;
    out[1] = (uint8_t)(n - 2);
    return n;
}

static uint16_t do_select(struct cl_sim_fs *fs, const struct cl_apdu *a,
                          uint8_t *resp, size_t *n)
{
    uint16_t fid;
    int ef;

    if ((a->p2 & 0xF3u) != 0 || (a->p2 & 0x0Cu) == 0x08u)
        return 0x6A86;
    switch (a->p1) {
    case 0x00:
        if (a->nc == 0) {
            fs->cur_df = 0;
            fs->cur_ef = -1;
            break;
        }
        if (a->nc != 2)
            return 0x6700;
        fid = (uint16_t)(a->data[0] << 8 | a->data[1]);
        if (fid == FID_MF) {
            fs->cur_df = 0;
            fs->cur_ef = -1;
        } else if (fid == FID_DF && fs->cur_df == 0) {
            fs->cur_df = 1;
            fs->cur_ef = -1;
        } else if ((ef = find_ef(fs, fid)) >= 0) {
            fs->cur_ef = (int8_t)ef;
        } else {
            return 0x6A82;
        }
        break;
    case 0x02:
        if (a->nc != 2)
            return 0x6700;
        fid = (uint16_t)(a->data[0] << 8 | a->data[1]);
        ef = find_ef(fs, fid);
        if (ef < 0)
            return 0x6A82;
        fs->cur_ef = (int8_t)ef;
        break;
    case 0x04:
        if (a->nc == 0) {
            fs->cur_df = 0;
            fs->cur_ef = -1;
            break;
        }
        if (a->nc > 16)
            return 0x6700;
        if (a->nc > CL_SIM_AID_LEN || memcmp(a->data, CL_SIM_AID, a->nc) != 0)
            return 0x6A82;
        fs->cur_df = 1;
        fs->cur_ef = -1;
        break;
    default:
        return 0x6A86;
    }
    if ((a->p2 & 0x0Cu) != 0x0Cu)
        *n = fcp(fs, resp);
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
    if (efs[fs->cur_ef].type != EF_TRANSPARENT)
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
    const uint8_t *d;
    uint16_t sw;

    if (a->nc != 0 || a->ne == 0)
        return 0x6700;
    sw = binary_target(fs, a, &off);
    if (sw != CL_SW_OK)
        return sw;
    d = ef_data(fs, fs->cur_ef, &size);
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
    memcpy(resp, d + off, cnt);
    *n = cnt;
    return sw;
}

static uint16_t do_update_binary(struct cl_sim_fs *fs, const struct cl_apdu *a)
{
    size_t off = 0, size;
    uint8_t *d;
    uint16_t sw;

    if (a->nc == 0)
        return 0x6700;
    sw = binary_target(fs, a, &off);
    if (sw != CL_SW_OK)
        return sw;
    d = ef_data(fs, fs->cur_ef, &size);
    if (off >= size)
        return 0x6B00;
    if (a->nc > size - off)
        return 0x6700;
    memcpy(d + off, a->data, a->nc);
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
    if (efs[fs->cur_ef].type == EF_TRANSPARENT)
        return 0x6981;
    return CL_SW_OK;
}

static uint16_t do_read_record(struct cl_sim_fs *fs, const struct cl_apdu *a,
                               uint8_t *resp, size_t *n)
{
    uint16_t sw;
    const uint8_t *rec;
    unsigned k = a->p1;

    if (a->nc != 0 || a->ne == 0)
        return 0x6700;
    if ((a->p2 & 7u) != 4u || k == 0 || (a->p2 >> 3) == 0x1Fu)
        return 0x6A86;
    sw = record_target(fs, a->p2);
    if (sw != CL_SW_OK)
        return sw;
    if (efs[fs->cur_ef].type == EF_LINEAR) {
        if (k > fs->linear_count)
            return 0x6A83;
        rec = fs->linear + (k - 1u) * CL_SIM_FS_RECLEN;
    } else {
        unsigned slot;
        if (k > fs->cyclic_count)
            return 0x6A83;
        slot = fs->cyclic_head + k - 1u;
        if (slot >= CL_SIM_FS_CYCLIC_RECS)
            slot -= CL_SIM_FS_CYCLIC_RECS;
        rec = fs->cyclic + slot * CL_SIM_FS_RECLEN;
    }
    if (a->ne < CL_SIM_FS_RECLEN ||
        (a->ne > CL_SIM_FS_RECLEN && !ne_is_max(a->ne)))
        return (uint16_t)(0x6C00u | CL_SIM_FS_RECLEN);
    memcpy(resp, rec, CL_SIM_FS_RECLEN);
    *n = CL_SIM_FS_RECLEN;
    return CL_SW_OK;
}

static uint16_t do_append_record(struct cl_sim_fs *fs, const struct cl_apdu *a)
{
    uint16_t sw;

    if (a->p1 != 0 || (a->p2 & 7u) != 0 || (a->p2 >> 3) == 0x1Fu)
        return 0x6A86;
    sw = record_target(fs, a->p2);
    if (sw != CL_SW_OK)
        return sw;
    if (a->nc != CL_SIM_FS_RECLEN)
        return 0x6700;
    if (efs[fs->cur_ef].type == EF_LINEAR) {
        if (fs->linear_count >= CL_SIM_FS_LINEAR_RECS)
            return 0x6A84;
        memcpy(fs->linear + fs->linear_count * CL_SIM_FS_RECLEN, a->data,
               CL_SIM_FS_RECLEN);
        fs->linear_count++;
    } else {
        fs->cyclic_head = (uint8_t)(fs->cyclic_head == 0
                                        ? CL_SIM_FS_CYCLIC_RECS - 1u
                                        : fs->cyclic_head - 1u);
        memcpy(fs->cyclic + fs->cyclic_head * CL_SIM_FS_RECLEN, a->data,
               CL_SIM_FS_RECLEN);
        if (fs->cyclic_count < CL_SIM_FS_CYCLIC_RECS)
            fs->cyclic_count++;
    }
    return CL_SW_OK;
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
        sw = do_read_record(fs, &a, resp, &n);
        break;
    case 0xE2:
        sw = do_append_record(fs, &a);
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
