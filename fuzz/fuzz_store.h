/*
 * cardlink — a store for fuzz harnesses (include/cardlink/store.h): records
 * in RAM that outlive the device's power cuts, and the faults store.h
 * allows, played on cue. Included by a harness (static functions).
 * SPDX-License-Identifier: Apache-2.0
 *
 * store.h's one promise is kept: a record is replaced whole or not at all.
 * A write the harness marks as failing returns CL_ERR_IO, and the key then
 * holds its old record or the new one (store.h allows both; fs_keep_new
 * picks which). A failing write can also be a power cut: fs_cut is set and
 * the harness must not let the device run on (the power is gone) but
 * reboot it from the records as they are.
 */
#ifndef CL_FUZZ_STORE_H
#define CL_FUZZ_STORE_H

#include <string.h>

#include "cardlink/error.h"
#include "cardlink/store.h"

#define FS_KEYS 4

static struct {
    bool used;
    char key[CL_STORE_KEY_MAX + 1];
    size_t len;
    uint8_t rec[CL_STORE_RECORD_MAX];
} fs_rec[FS_KEYS];
static int fs_fail_in = -1;   /* writes to let through before the failing one; -1 none */
static bool fs_keep_new;      /* the failing write leaves the new record */
static bool fs_cut_on_fail;   /* the failing write is a power cut */
static bool fs_cut;           /* the power was cut during a write */

static void fs_reset(void)
{
    memset(fs_rec, 0, sizeof(fs_rec));
    fs_fail_in = -1;
    fs_keep_new = fs_cut_on_fail = fs_cut = false;
}

static int fs_find(const char *key)
{
    int i;
    for (i = 0; i < FS_KEYS; i++)
        if (fs_rec[i].used && strcmp(fs_rec[i].key, key) == 0)
            return i;
    return -1;
}

static int fs_read(void *ctx, const char *key, uint8_t *buf, size_t size)
{
    int i = fs_find(key);

    (void)ctx;
    if (!cl_store_key_ok(key))
        return CL_ERR_ARG;
    if (i < 0)
        return CL_ERR_NOT_FOUND;
    if (fs_rec[i].len > size)
        return CL_ERR_BUFFER;
    if (fs_rec[i].len > 0)
        memcpy(buf, fs_rec[i].rec, fs_rec[i].len);
    return (int)fs_rec[i].len;
}

static int fs_put(const char *key, const uint8_t *data, size_t len)
{
    int i = fs_find(key);

    if (i < 0)
        for (i = 0; i < FS_KEYS && fs_rec[i].used; i++)
            continue;
    if (i == FS_KEYS)
        return CL_ERR_LIMIT;      /* a key the device never uses: the harness's bound */
    fs_rec[i].used = true;
    strcpy(fs_rec[i].key, key);
    if (len > 0)
        memcpy(fs_rec[i].rec, data, len);
    fs_rec[i].len = len;
    return CL_OK;
}

static int fs_write(void *ctx, const char *key, const uint8_t *data, size_t len)
{
    (void)ctx;
    if (!cl_store_key_ok(key) || (data == NULL && len > 0))
        return CL_ERR_ARG;
    if (len > CL_STORE_RECORD_MAX)
        return CL_ERR_LIMIT;
    if (fs_cut)
        return CL_ERR_IO;         /* no power: nothing reaches the medium */
    if (fs_fail_in == 0) {
        fs_fail_in = -1;
        if (fs_keep_new)
            (void)fs_put(key, data, len);
        fs_cut = fs_cut_on_fail;
        return CL_ERR_IO;
    }
    if (fs_fail_in > 0)
        fs_fail_in--;
    return fs_put(key, data, len);
}

static int fs_erase(void *ctx, const char *key)
{
    int i = fs_find(key);

    (void)ctx;
    if (!cl_store_key_ok(key))
        return CL_ERR_ARG;
    if (fs_cut)
        return CL_ERR_IO;
    if (i >= 0)
        fs_rec[i].used = false;
    return CL_OK;
}

static const struct cl_store fs_port = {fs_read, fs_write, fs_erase};

#endif
