/*
 * cardlink — libFuzzer target: relay lossy-link framing (docs/protocol.md §13).
 * SPDX-License-Identifier: Apache-2.0
 *
 * Engine A is driven by the input; engine B is its clean peer. Input: byte
 * 0 configures A (epoch, retries), then operations, each an opcode byte:
 *   0: feed A the next n bytes (n = next byte): arbitrary link bytes
 *   1: A sends a message of the next n bytes (n >= 1) when it can
 *   2: time advances by next byte x 20 ms; tick both
 *   3: move A's output to B (in pulls of next byte + 1 bytes) and B's to A
 *   4: B sends a message (its sequence number as content)
 *   5: pull A's output and drop it (a lost frame)
 * Checks: B delivers A's messages in order, each at most once, byte for
 * byte (an input may forge acknowledgements, which can only skip, never
 * repeat or reorder); A delivers B's messages in order, each at most once;
 * nothing is read or written outside the buffers; errors are sticky.
 */
#include <stdlib.h>
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/relay_lossy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NMSG 64

static uint8_t arx[300], atx[300], brx[300], btx[300];
static uint8_t sent[NMSG][256];
static size_t sent_len[NMSG];

static void check(bool ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cl_relay_lossy a, b;
    struct cl_relay_lossy_config ca = { 50, 3, 0, 0 }, cb = { 50, 20, 0, 0 };
    size_t pos = 1, nsent = 0, next_b = 0, used, ml;
    unsigned bsent = 0, bnext = 0;
    uint32_t now = 0;
    const uint8_t *m;
    uint8_t buf[700];
    int guard = 0;

    if (size < 1)
        return 0;
    ca.epoch = (uint8_t)(data[0] & 0x0F);
    ca.max_retries = (uint8_t)(1 + (data[0] >> 4));
    ca.rto_max_ms = data[0] & 0x10u ? 120u : 0u;   /* a capped RTO on odd retry counts */
    cb.epoch = (uint8_t)((data[0] + 1) & 0x0F);
    cl_relay_lossy_init(&a, &ca, arx, sizeof(arx), atx, sizeof(atx));
    cl_relay_lossy_init(&b, &cb, brx, sizeof(brx), btx, sizeof(btx));
    while (pos < size && guard++ < 4096) {
        uint8_t op = data[pos++] % 6;
        size_t n = pos < size ? data[pos] : 0, off = 0;
        int rc;
        switch (op) {
        case 0:
            pos++;
            if (n > size - pos)
                n = size - pos;
            while (off < n) {
                int err_before = cl_relay_lossy_error(&a);
                rc = cl_relay_lossy_feed(&a, now, data + pos + off, n - off);
                check(rc <= (int)(n - off));
                check(err_before == CL_OK || rc == err_before);
                if (rc < 0)
                    break;
                used = (size_t)rc;
                off += used;
                if (cl_relay_lossy_take(&a, &m, &ml) == CL_OK) {
                    /* a forged frame may deliver anything; B's are checked in op 3 */
                    check(ml >= 1 && ml <= sizeof(arx) - 6);
                } else if (used == 0) {
                    break;
                }
            }
            pos += n;
            /* close any partial frame, so that B's next bytes start a new one */
            if (cl_relay_lossy_feed(&a, now, (const uint8_t *)"\x7E", 1) >= 0 &&
                cl_relay_lossy_take(&a, &m, &ml) == CL_OK)
                check(ml >= 1);
            break;
        case 1:
            pos++;
            if (n > size - pos)
                n = size - pos;
            if (n >= 1 && nsent < NMSG && cl_relay_lossy_can_send(&a)) {
                check(cl_relay_lossy_send(&a, now, data + pos, n) == CL_OK);
                memcpy(sent[nsent], data + pos, n);
                sent_len[nsent++] = n;
            } else if (n >= 1 && !cl_relay_lossy_can_send(&a)) {
                rc = cl_relay_lossy_send(&a, now, data + pos, n);
                check(rc == CL_ERR_STATE || rc == cl_relay_lossy_error(&a));
            }
            pos += n;
            break;
        case 2:
            pos++;
            now += (uint32_t)n * 20u;
            rc = cl_relay_lossy_timeout(&a, now);
            check(rc == cl_relay_lossy_error(&a));
            if (cl_relay_lossy_timeout(&b, now) != CL_OK)
                return 0;  /* B gave up on a link A refuses to acknowledge */
            break;
        case 3: {
            size_t chunk = n + 1, k;
            pos++;
            while ((k = cl_relay_lossy_pull(&a, now, buf, chunk)) > 0) {
                off = 0;
                check(k <= chunk);
                while (off < k) {
                    rc = cl_relay_lossy_feed(&b, now, buf + off, k - off);
                    if (rc < 0)
                        return 0;  /* A restarted? it cannot: only one epoch */
                    off += (size_t)rc;
                    if (cl_relay_lossy_take(&b, &m, &ml) == CL_OK) {
                        /* the next of A's messages, or a later one (skipped by a forged ack) */
                        while (next_b < nsent &&
                               (sent_len[next_b] != ml || memcmp(sent[next_b], m, ml) != 0))
                            next_b++;
                        check(next_b < nsent);
                        next_b++;
                    }
                }
            }
            while ((k = cl_relay_lossy_pull(&b, now, buf, sizeof(buf))) > 0) {
                off = 0;
                while (off < k) {
                    rc = cl_relay_lossy_feed(&a, now, buf + off, k - off);
                    if (rc < 0)
                        break;
                    off += (size_t)rc;
                    if (cl_relay_lossy_take(&a, &m, &ml) == CL_OK) {
                        unsigned v = (unsigned)m[0] | (unsigned)m[1] << 8;
                        check(ml == 2 && v >= bnext && v < bsent);
                        bnext = v + 1;
                    }
                }
                if (rc != CL_OK)
                    break;
            }
            break;
        }
        case 4:
            if (cl_relay_lossy_can_send(&b)) {
                uint8_t v[2] = { (uint8_t)bsent, (uint8_t)(bsent >> 8) };
                check(cl_relay_lossy_send(&b, now, v, 2) == CL_OK);
                bsent++;
            }
            break;
        default:
            pos++;
            (void)cl_relay_lossy_pull(&a, now, buf, n + 1);
            break;
        }
        check(cl_relay_lossy_timer(&a, now) == CL_TIMER_NONE ||
              cl_relay_lossy_timer(&a, now) <= (ca.rto_max_ms != 0 ? ca.rto_max_ms : 50u << 20));
    }
    return 0;
}
