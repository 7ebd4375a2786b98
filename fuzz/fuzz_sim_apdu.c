/*
 * cardlink — libFuzzer target: the simulator's file-system application
 * (cl_sim_fs_process(), cardlink/sim.h) fed arbitrary command APDUs.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Input: byte 0 configuration: b0-b1 slow (busy 0..3 times before every
 * answer), b2-b4 the response buffer size (64, 65, 100, 258, 259, 1026,
 * 1040, 1040); then a sequence of commands, each a length byte L and L
 * bytes (L = FE: a two-byte big-endian length follows, for extended
 * APDUs; L = FF: the reset hook instead of a command). A truncated last
 * command is passed with what is there.
 *
 * Cross-checks (abort()): process() returns CL_OK, or CL_CARDAPP_BUSY at most
 * slow + P1 (SLOW) times in a row for one command and never for a
 * reset; the response is 2..resp_size bytes and ends in a status word
 * (SW1 61..6F or 90..9F); GENERATE and ECHO answered 9000 carry exactly
 * the data their definition gives (P1P2 bytes: the command data, then the
 * pattern); the application is deterministic: a copy of its state given
 * the same command answers the same bytes and ends in the same state; and
 * nothing is read past the command (ASan).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cardlink/apdu.h"
#include "cardlink/error.h"
#include "cardlink/sim.h"

static void check(int ok)
{
    if (!ok)
        abort();
}

static const size_t resp_sizes[8] = {64, 65, 100, 258, 259, 1026, 1040, 1040};

static struct cl_sim_fs fs, twin;
static uint8_t resp[1040], resp2[1040];

/* Run one command to its answer (through the busy calls). */
static size_t run(struct cl_sim_fs *f, const uint8_t *cmd, size_t len,
                  uint8_t *out, size_t out_size, unsigned max_busy)
{
    unsigned busy = 0;
    size_t rlen = 0;
    for (;;) {
        int rc = cl_sim_fs_process(f, cmd, len, out, out_size, &rlen);
        if (rc == CL_CARDAPP_BUSY) {
            check(busy < max_busy);
            busy++;
            continue;
        }
        check(rc == CL_OK);
        break;
    }
    check(rlen >= 2 && rlen <= out_size);
    return rlen;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint16_t slow;
    size_t rsize, off = 1;

    if (size < 1)
        return 0;
    slow = (uint16_t)(data[0] & 3u);
    rsize = resp_sizes[(data[0] >> 2) & 7u];
    cl_sim_fs_init(&fs, 0x1234u, slow);

    while (off < size) {
        uint8_t l = data[off++];
        size_t len, rlen, i;
        const uint8_t *cmd;
        unsigned max_busy;
        struct cl_apdu a;
        enum cl_apdu_case ac;
        uint8_t sw1;

        if (l == 0xFF) {
            cl_sim_fs_reset(&fs);
            continue;
        }
        if (l == 0xFE) {
            if (size - off < 2)
                break;
            len = (size_t)data[off] << 8 | data[off + 1];
            off += 2;
        } else {
            len = l;
        }
        if (len > size - off)
            len = size - off;
        cmd = data + off;
        off += len;

        max_busy = slow;
        if (len >= 3 && cmd[0] == CL_SIM_CLA_TEST && cmd[1] == CL_SIM_INS_SLOW)
            max_busy += cmd[2];
        memcpy(&twin, &fs, sizeof(fs));
        rlen = run(&fs, cmd, len, resp, rsize, max_busy);
        sw1 = resp[rlen - 2];
        check((sw1 >= 0x61 && sw1 <= 0x6F) || (sw1 >= 0x90 && sw1 <= 0x9F));

        /* deterministic: the same state answers the same bytes */
        check(run(&twin, cmd, len, resp2, rsize, max_busy) == rlen);
        check(memcmp(resp, resp2, rlen) == 0);
        check(memcmp(&twin, &fs, sizeof(fs)) == 0);

        /* the test commands' answers are fully defined */
        if (resp[rlen - 2] == 0x90 && resp[rlen - 1] == 0x00 && len >= 4 &&
            cmd[0] == CL_SIM_CLA_TEST &&
            (cmd[1] == CL_SIM_INS_GENERATE || cmd[1] == CL_SIM_INS_ECHO) &&
            cl_apdu_decode(cmd, len, &a, &ac) == CL_OK) {
            size_t want = (size_t)a.p1 << 8 | a.p2;
            check(rlen == want + 2);
            if (a.ins == CL_SIM_INS_GENERATE)
                check(a.nc == 0);
            for (i = 0; i < want; i++)
                check(resp[i] == (i < a.nc ? a.data[i] : (uint8_t)(i * 7u + 1u)));
        }
    }
    return 0;
}
