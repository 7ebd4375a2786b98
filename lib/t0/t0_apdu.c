/*
 * cardlink — the T=0 rules at the APDU level (61xx GET RESPONSE, 6Cxx
 * re-issue), for both roles, where something else moves whole TPDUs: a
 * PC/SC reader with a T=0 card (reader role), a virtual card behind vpcd
 * (card role). The same rules as the character engine (t0.c).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/t0.h"
#include "cardlink/apdu.h"
#include "cardlink/error.h"

/* Hard bound on the exchanges of one command (each GET RESPONSE step but
 * one brings data, and the data is bounded by resp_size; this only guards
 * against a peer that answers nonsense for ever). */
#define STEPS_MAX 65536u

/* struct cl_t0_apdu.flags */
#define X_REISSUED 0x01u
#define X_GR 0x02u
#define X_EMPTY_GR 0x04u

/* see cardlink/t0.h */
int cl_t0_apdu_start(struct cl_t0_apdu *x, const uint8_t *cmd,
                     size_t cmd_len, size_t resp_size)
{
    if (x == NULL || cmd == NULL || cmd_len < 4 || resp_size < 2)
        return CL_ERR_ARG;
    memset(x, 0, sizeof(*x));
    x->cmd = cmd;
    x->cur = cmd;
    x->cur_len = cmd_len;
    x->resp_size = resp_size;
    return CL_OK;
}

/* see cardlink/t0.h */
size_t cl_t0_apdu_next(const struct cl_t0_apdu *x, const uint8_t **cmd,
                       size_t *resp_off)
{
    if (x == NULL || cmd == NULL || resp_off == NULL)
        return 0;
    *cmd = x->cur;
    *resp_off = x->off;
    return x->cur_len;
}

/* see cardlink/t0.h */
int cl_t0_apdu_answer(struct cl_t0_apdu *x, const uint8_t *resp, size_t n,
                      size_t *resp_len)
{
    size_t data, room, xx;
    uint8_t sw1, sw2;

    if (x == NULL || resp == NULL || resp_len == NULL)
        return CL_ERR_ARG;
    *resp_len = 0;
    if (n < 2 || n > x->resp_size - x->off || ++x->steps > STEPS_MAX)
        return CL_ERR_PROTOCOL;
    data = n - 2;
    sw1 = resp[x->off + data];
    sw2 = resp[x->off + data + 1];
    xx = sw2 ? sw2 : 256u;
    if (sw1 == 0x61u) {
        bool again = (x->flags & X_GR) && data == 0;   /* brought nothing */

        x->off += data;
        room = x->resp_size - 2u - x->off;
        if (room > 0 && !(again && (x->flags & X_EMPTY_GR))) {
            x->flags = (uint8_t)(X_GR | (again ? X_EMPTY_GR : 0u));
            x->hdr[0] = x->cmd[0];
            x->hdr[1] = CL_T0_INS_GET_RESPONSE;
            x->hdr[2] = 0;
            x->hdr[3] = 0;
            x->hdr[4] = (uint8_t)(xx < room ? xx : room);
            x->cur = x->hdr;
            x->cur_len = 5;
            return 1;
        }
        *resp_len = x->off + 2;     /* the 61xx ends it where it stands */
        return 0;
    }
    if (sw1 == 0x6Cu && x->cur_len == 5 && x->off == 0 && data == 0 &&
        !(x->flags & X_REISSUED) && xx <= x->resp_size - 2u) {
        if (x->cur != x->hdr)
            memcpy(x->hdr, x->cur, 4);
        x->hdr[4] = sw2;
        x->cur = x->hdr;
        x->flags |= X_REISSUED;
        return 1;
    }
    *resp_len = x->off + n;
    return 0;
}

#if CL_T0_CARD

/* The kept data go out for a header asking ne bytes; gr: the header is a
 * GET RESPONSE (the rules of the engine's card role, card_out() in t0.c). */
static size_t card_out(struct cl_t0_apdu_card *k, const uint8_t *h,
                       uint32_t ne, bool gr, uint8_t *out)
{
    size_t n = k->len - k->off - 2u;    /* data left */

    if (n == ne || (n > ne && (gr || n > 256u))) {
        const uint8_t *p = k->buf + k->off;

        k->off += ne;
        k->reissue = false;
        memmove(out, p, ne);
        if (n == ne) {                  /* the data and the app's SW */
            out[ne] = p[ne];
            out[ne + 1u] = p[ne + 1u];
            k->kept = false;
        } else {                        /* part of it, 61xx for the rest */
            out[ne] = 0x61u;
            out[ne + 1u] = (uint8_t)((n - ne) & 0xFFu);
        }
        return ne + 2u;
    }
    memcpy(k->hdr, h, 4);
    k->reissue = true;
    out[0] = 0x6Cu;
    out[1] = (uint8_t)(n & 0xFFu);
    return 2;
}

static size_t sw(uint8_t *out, unsigned v)
{
    out[0] = (uint8_t)(v >> 8);
    out[1] = (uint8_t)v;
    return 2;
}

/* see cardlink/t0.h */
void cl_t0_apdu_card_reset(struct cl_t0_apdu_card *k)
{
    if (k != NULL) {
        k->kept = false;
        k->reissue = false;
    }
}

/* see cardlink/t0.h */
int cl_t0_apdu_card_command(struct cl_t0_apdu_card *k, const uint8_t *cmd,
                            size_t len, uint8_t tpdu[CL_T0_TPDU_MAX],
                            size_t *tpdu_len, uint8_t out[CL_T0_OUT_MAX],
                            size_t *out_len)
{
    struct cl_apdu a;
    enum cl_apdu_case c;
    uint32_t ne;
    bool gr;

    if (k == NULL || cmd == NULL || tpdu == NULL || tpdu_len == NULL ||
        out == NULL || out_len == NULL)
        return CL_ERR_ARG;
    *tpdu_len = 0;
    *out_len = 0;
    if (len < 4 || cl_apdu_decode(cmd, len, &a, &c) != CL_OK) {
        *out_len = sw(out, 0x6700u);
        return 1;
    }
    if ((cmd[1] & 0xF0u) == 0x60u || (cmd[1] & 0xF0u) == 0x90u) {
        k->kept = false;
        *out_len = sw(out, 0x6D00u);
        return 1;
    }
    k->had_data = a.nc > 0;
    if (CL_APDU_CASE_IS_EXTENDED(c)) {  /* no TPDU for it: as it is */
        k->kept = false;
        k->extended = true;
        return 0;
    }
    k->extended = false;
    /* P3 of the TPDU: Lc (cases 3, 4), Le (case 2), 00 (case 1) */
    memcpy(tpdu, cmd, 4);
    *tpdu_len = 5;
    if (a.nc > 0) {
        tpdu[4] = (uint8_t)a.nc;
        memcpy(tpdu + 5, a.data, a.nc);
        *tpdu_len += a.nc;
    } else {
        tpdu[4] = len > 4 ? cmd[4] : 0;
    }
    ne = tpdu[4] ? tpdu[4] : 256u;
    gr = cmd[1] == CL_T0_INS_GET_RESPONSE;
    if (k->kept && a.nc == 0 &&
        (gr || (k->reissue && memcmp(cmd, k->hdr, 4) == 0))) {
        *out_len = card_out(k, tpdu, ne, gr, out);
        *tpdu_len = 0;
        return 1;
    }
    k->kept = false;
    k->reissue = false;
    memcpy(k->cur, tpdu, 5);
    return 0;
}

/* see cardlink/t0.h */
int cl_t0_apdu_card_response(struct cl_t0_apdu_card *k,
                             const uint8_t *buf,
                             size_t n, uint8_t out[CL_T0_OUT_MAX],
                             size_t *out_len)
{
    if (k == NULL || buf == NULL || out == NULL || out_len == NULL ||
        n < 2 || n > CL_RAPDU_MAX)
        return CL_ERR_ARG;
    *out_len = 0;
    if (k->extended || n == 2)
        return 1;                       /* buf goes out as it is */
    k->buf = buf;
    k->len = n;
    k->off = 0;
    k->kept = true;
    if (k->had_data)                    /* cases 3, 4: announce it */
        *out_len = sw(out, 0x6100u | (unsigned)((n - 2u) & 0xFFu));
    else
        *out_len = card_out(k, k->cur, k->cur[4] ? k->cur[4] : 256u, false,
                            out);
    return 0;
}

#endif /* CL_T0_CARD */
