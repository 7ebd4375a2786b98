/*
 * cardlink — the offline ticket validation (cl_dev_validate): GET
 * BALANCE for the card's serial, READ RECORD of the e-goods file until a
 * record is unused, signed by the issuer (checked here, through the
 * validator's verify port) and accepted, then one USE for its receipt.
 * A local job: nothing goes to the server (docs/device.md, "Tickets").
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/wipe.h"
#include "device_int.h"

enum { S_BALANCE = 0, S_READ, S_USE };

#define REC_MAX 254u   /* records tried at most (the applet holds 8) */

static const uint8_t tag_eg[4] = {'C', 'L', 'E', 'G'};

static uint8_t finish(struct cl_dev *d, int err, uint16_t sw)
{
    struct cl_dev_ticket *o = &d->tk.out;

    o->err = err;
    o->sw = sw;
    if (err != CL_OK) {
        o->rec = 0;
        o->receipt_len = 0;
        memset(o->payload, 0, sizeof(o->payload));
        o->payload_len = 0;
    }
    d->tk.running = false;
    d->tk.done = true;
    return CL_DEVJ_DONE;
}

/* The reason no ticket was used, from what the reads saw. */
static uint8_t none_left(struct cl_dev *d)
{
    const struct cl_dev_ticket *o = &d->tk.out;

    if (o->forged_seen != 0)
        return finish(d, CL_ERR_SIGNATURE, 0);
    if (o->used_seen != 0)
        return finish(d, CL_ERR_DUPLICATE, 0);
    return finish(d, CL_ERR_NOT_FOUND, 0);
}

static uint8_t read_rec(struct cl_dev *d, uint8_t rec)
{
    d->job.idx = rec;
    d->job.step = S_READ;
    d->cmd[0] = 0x00;
    d->cmd[1] = 0xB2;
    d->cmd[2] = rec;
    d->cmd[3] = 0x24;   /* SFI 4 << 3 | 100: P1 is a record number */
    d->cmd[4] = 0x00;
    d->cmd_len = 5;
    d->job.off = 0;
    return CL_DEVJ_CARD;
}

static uint8_t use(struct cl_dev *d)
{
    const struct cl_dev_ticket_cfg *c = &d->tk.cfg;
    size_t n = 0;

    d->job.step = S_USE;
    d->cmd[n++] = 0x80;
    d->cmd[n++] = 0x56;
    d->cmd[n++] = d->job.idx;
    d->cmd[n++] = 0x00;
    if (c->challenge_len > 0) {
        d->cmd[n++] = c->challenge_len;
        memcpy(d->cmd + n, c->challenge, c->challenge_len);
        n += c->challenge_len;
    }
    d->cmd[n++] = 0x00;
    d->cmd_len = n;
    d->job.off = 0;
    d->stats.signs++;
    return CL_DEVJ_CARD;
}

/*
 * One record `status plen payload siglen signature` (r[0..n)): 1 when it
 * is a usable ticket (then copied into the result), 0 when skipped (the
 * reason counted), or a negative error of the hash port.
 */
static int check_rec(struct cl_dev *d, const uint8_t *r, size_t n)
{
    struct cl_dev_ticket *o = &d->tk.out;
    const struct cl_dev_ticket_cfg *c = &d->tk.cfg;
    uint8_t dig[32];
    size_t plen, slen;
    int h;

    if (n < 3 || r[1] < 16 || r[1] > CL_DEV_TICKET_DATA_MAX || n < 3u + r[1]) {
        o->forged_seen++;   /* cannot be checked: as good as forged */
        return 0;
    }
    plen = r[1];
    slen = r[2 + plen];
    if (slen == 0 || slen > CL_DEV_TICKET_SIG_MAX || n != 3u + plen + slen) {
        o->forged_seen++;
        return 0;
    }
    if (r[0] != 0x00) {
        o->used_seen++;
        return 0;
    }
    memcpy(d->scratch, tag_eg, 4);
    memcpy(d->scratch + 4, o->serial, 8);
    memcpy(d->scratch + 12, r + 2, plen);
    h = d->cfg.hash.digest(d->cfg.hash.ctx, CL_RELAY_DIGEST_SHA256, d->scratch, 12 + plen, dig,
                           sizeof(dig));
    if (h < 0)
        return h;
    if (h != 32)
        return CL_ERR_CRYPTO;
    if (c->verify(c->verify_ctx, c->issuer_pub, dig, 32, r + 3 + plen, slen) != CL_OK) {
        o->forged_seen++;
        return 0;
    }
    if (c->accept != NULL && !c->accept(c->accept_ctx, r + 2, plen))
        return 0;
    memcpy(o->payload, r + 2, plen);
    o->payload_len = (uint8_t)plen;
    return 1;
}

static uint8_t on_card(struct cl_dev *d)
{
    struct cl_dev_ticket *o = &d->tk.out;
    int rc = d->card_rc;
    uint16_t sw;
    int k;

    if (rc < 0)
        return finish(d, rc == CL_ERR_CLOSED ? CL_ERR_CARD_REMOVED : rc, 0);
    if (rc < 2)
        return finish(d, CL_ERR_PROTOCOL, 0);
    sw = cl_devj_sw(d->resp, rc);
    switch (d->job.step) {
    case S_BALANCE:
        if (sw != 0x9000)
            return finish(d, CL_ERR_SW, sw);
        if (rc != 18 + 2)
            return finish(d, CL_ERR_MALFORMED, sw);
        memcpy(o->serial, d->resp + 10, 8);
        return read_rec(d, 1);
    case S_READ:
        if (sw == 0x6A83)
            return none_left(d);
        if (sw != 0x9000 && sw != 0x6282)
            return finish(d, CL_ERR_SW, sw);
        k = check_rec(d, d->resp, (size_t)rc - 2);
        if (k < 0)
            return finish(d, k, 0);
        if (k == 1)
            return use(d);
        if (d->job.idx >= REC_MAX)
            return none_left(d);
        return read_rec(d, (uint8_t)(d->job.idx + 1));
    case S_USE:
        if (sw == 0x6985)
            return finish(d, CL_ERR_DUPLICATE, sw);
        if (sw != 0x9000)
            return finish(d, CL_ERR_SW, sw);
        if (rc == 2 || (size_t)rc - 2 > sizeof(o->receipt))
            return finish(d, CL_ERR_MALFORMED, sw);
        memcpy(o->receipt, d->resp, (size_t)rc - 2);
        o->receipt_len = (uint8_t)(rc - 2);
        o->rec = d->job.idx;
        return finish(d, CL_OK, sw);
    default:
        return CL_DEVJ_WAIT;
    }
}

uint8_t cl_devj_ticket_step(struct cl_dev *d)
{
    switch (d->ev) {
    case CL_DEVJ_EV_START:
        d->job.step = S_BALANCE;
        memcpy(d->cmd, cl_policy_get_balance, sizeof(cl_policy_get_balance));
        d->cmd_len = sizeof(cl_policy_get_balance);
        d->job.off = 0;
        return CL_DEVJ_CARD;
    case CL_DEVJ_EV_CARD:
        return on_card(d);
    case CL_DEVJ_EV_NO_CARD:
        return finish(d, CL_ERR_CARD_REMOVED, 0);
    default:
        return CL_DEVJ_WAIT;
    }
}

/* see cardlink/device.h */
int cl_dev_ticket_result(const struct cl_dev *d, struct cl_dev_ticket *out)
{
    if (d == NULL || out == NULL)
        return CL_ERR_ARG;
    if (!d->tk.done || d->tk.running)
        return CL_ERR_STATE;
    *out = d->tk.out;
    return CL_OK;
}
