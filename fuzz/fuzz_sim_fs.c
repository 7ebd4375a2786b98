/*
 * cardlink — libFuzzer target: the simulator's file-system text description
 * (cl_sim_fs_parse(), cardlink/sim.h; cardlink-vcard --fs FILE), then
 * commands against what it built.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Input: the text, up to a first byte 0x00; after it, command APDUs, each
 * a length byte L and L bytes, run against the file system the text built
 * (even a partly built one, after an error).
 *
 * Cross-checks (abort()): the parser returns CL_OK or one of its documented
 * errors; an error carries a line within the text (1 .. lines + 1) and a
 * message, success none; the file system stays consistent (files' contents
 * inside data[], used <= CL_SIM_FS_DATA_MAX, every parent a DF that comes
 * first); every command is answered CL_OK with 2..size bytes (after at
 * most 255 CL_CARDAPP_BUSY: the test class's SLOW); nothing is
 * read past the input (ASan).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/sim.h"

static void check(int ok)
{
    if (!ok)
        abort();
}

static struct cl_sim_fs fs;
static uint8_t resp[1040];

static void consistent(void)
{
    unsigned i;

    check(fs.nfiles >= 1 && fs.nfiles <= CL_SIM_FS_FILES_MAX);
    check(fs.used <= CL_SIM_FS_DATA_MAX);
    check(fs.files[0].type == CL_SIM_FS_DF && fs.files[0].fid == 0x3F00u);
    for (i = 1; i < fs.nfiles; i++) {
        const struct cl_sim_fs_file *f = &fs.files[i];
        check(f->parent < i && fs.files[f->parent].type == CL_SIM_FS_DF);
        check((size_t)f->off + f->size <= fs.used);
        if (f->type == CL_SIM_FS_LINEAR || f->type == CL_SIM_FS_CYCLIC)
            check(f->rec_count <= f->rec_max &&
                  (size_t)f->rec_len * f->rec_max == f->size);
        check(f->name_len <= CL_SIM_FS_NAME_MAX);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t tlen = nul != NULL ? (size_t)(nul - data) : size, i, lines = 1;
    struct cl_sim_fs_error err;
    int rc;

    for (i = 0; i < tlen; i++)
        lines += data[i] == '\n';
    cl_sim_fs_init_empty(&fs, 1, 0);
    rc = cl_sim_fs_parse(&fs, (const char *)data, tlen, &err);
    check(rc == CL_OK || rc == CL_ERR_MALFORMED || rc == CL_ERR_ARG ||
          rc == CL_ERR_DUPLICATE || rc == CL_ERR_LIMIT ||
          rc == CL_ERR_LENGTH || rc == CL_ERR_TOO_LONG);
    if (rc == CL_OK)
        check(err.line == 0 && err.what == NULL);
    else
        check(err.line >= 1 && err.line <= lines && err.what != NULL);
    consistent();
    i = nul != NULL ? tlen + 1 : size;
    while (i < size) {
        size_t len = data[i++], rlen = 0;
        if (len > size - i)
            len = size - i;
        unsigned busy = 0;

        /* the test class's SLOW asks for more time P1 times */
        while ((rc = cl_sim_fs_process(&fs, data + i, len, resp, sizeof(resp),
                                       &rlen)) == CL_CARDAPP_BUSY)
            check(++busy <= 255u);
        check(rc == CL_OK && rlen >= 2 && rlen <= sizeof(resp));
        i += len;
    }
    consistent();
    return 0;
}
