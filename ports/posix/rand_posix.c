/*
 * cardlink — POSIX random from getrandom().
 * SPDX-License-Identifier: Apache-2.0
 */
#define _GNU_SOURCE
#include "rand_posix.h"

#include <errno.h>
#include <sys/random.h>

/* see rand_posix.h */
int cl_posix_random(uint8_t *buf, size_t len)
{
    size_t off = 0;

    if (buf == NULL && len > 0)
        return CL_ERR_ARG;
    while (off < len) {
        ssize_t n = getrandom(buf + off, len - off, 0);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return CL_ERR_IO;
        }
        off += (size_t)n;
    }
    return CL_OK;
}

/* see rand_posix.h */
int cl_posix_entropy(void *ctx, unsigned char *buf, size_t len)
{
    (void)ctx;
    return cl_posix_random(buf, len) == CL_OK ? 0 : -0x003C;
}
