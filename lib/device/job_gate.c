/*
 * cardlink — the ACTUATE job (the gate, docs/protocol.md §5.14,
 * docs/device.md "Gate"): the device checks the server's authorisation
 * itself (gate-key signature, its own device id, the window against its
 * wall clock, the nonce never used), records the nonce in its store, and
 * only then calls the actuator; the holder sees the outcome.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/wipe.h"
#include "device_int.h"

/* The used-nonce record is built in the device's scratch buffer. */
typedef char cl_devj_gate_fits[sizeof(((struct cl_dev *)0)->scratch) >= CL_DEV_GATE_RECORD_MAX
                               ? 1 : -1];

#define REC_VERSION 0x01u

/* The used nonces, as read from the store. */
struct used {
    uint32_t floor;
    uint8_t n;
    uint8_t nonce[CL_DEV_GATE_SLOTS][CL_RELAY_GATE_NONCE_LEN];
    uint32_t not_after[CL_DEV_GATE_SLOTS];
};

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Read the record (absent: empty). CL_OK, or the store's error, or
 * CL_ERR_MALFORMED. */
static int load(struct cl_dev *d, struct used *u)
{
    uint8_t *b = d->scratch;
    size_t len, i;
    int r;

    memset(u, 0, sizeof(*u));
    r = d->cfg.store->read(d->cfg.store_ctx, CL_DEV_STORE_KEY_GATE, b, CL_DEV_GATE_RECORD_MAX);
    if (r == CL_ERR_NOT_FOUND)
        return CL_OK;
    if (r < 0)
        return r == CL_ERR_BUFFER ? CL_ERR_MALFORMED : r;
    len = (size_t)r;
    if (len < 6 || b[0] != REC_VERSION || b[5] > CL_DEV_GATE_SLOTS || len != 6u + 20u * b[5])
        return CL_ERR_MALFORMED;
    u->floor = get32(b + 1);
    u->n = b[5];
    for (i = 0; i < u->n; i++) {
        memcpy(u->nonce[i], b + 6 + 20 * i, CL_RELAY_GATE_NONCE_LEN);
        u->not_after[i] = get32(b + 6 + 20 * i + 16);
    }
    return CL_OK;
}

/* Add the nonce (dropping the earliest not-after when full: the floor
 * rises to it) and write the record. Returns the store's result. */
static int record(struct cl_dev *d, struct used *u, const uint8_t *nonce, uint32_t not_after)
{
    uint8_t *b = d->scratch;
    size_t i;

    if (u->n == CL_DEV_GATE_SLOTS) {
        size_t k = 0;
        for (i = 1; i < u->n; i++)
            if (u->not_after[i] < u->not_after[k])
                k = i;
        if (u->not_after[k] > u->floor)
            u->floor = u->not_after[k];
        memmove(u->nonce[k], u->nonce[u->n - 1], CL_RELAY_GATE_NONCE_LEN);
        u->not_after[k] = u->not_after[u->n - 1];
        u->n--;
    }
    memcpy(u->nonce[u->n], nonce, CL_RELAY_GATE_NONCE_LEN);
    u->not_after[u->n] = not_after;
    u->n++;
    b[0] = REC_VERSION;
    put32(b + 1, u->floor);
    b[5] = u->n;
    for (i = 0; i < u->n; i++) {
        memcpy(b + 6 + 20 * i, u->nonce[i], CL_RELAY_GATE_NONCE_LEN);
        put32(b + 6 + 20 * i + 16, u->not_after[i]);
    }
    return d->cfg.store->write(d->cfg.store_ctx, CL_DEV_STORE_KEY_GATE, b, 6u + 20u * u->n);
}

static const char *const refused[] = {
    "", "Access refused\nexpired\n", "Access refused\nnot yet valid\n",
    "Access refused\nalready used\n", "Access refused\nbad signature\n",
    "Access refused\nwrong device\n", "Access refused\nno actuator\n",
    "Access refused\nactuator failed\n", "Access refused\ndenied\n",
    "Access refused\nunavailable\n",
};

/* The answer, and the holder's screen (left up: the job does not wait). */
static uint8_t answer(struct cl_dev *d, uint8_t result)
{
    const char *text = result == CL_RELAY_GATE_DONE
                       ? (d->cfg.gate.done_text != NULL ? d->cfg.gate.done_text : "Door opened\n")
                       : refused[result < sizeof(refused) / sizeof(refused[0]) ? result : 9];
    const uint8_t *id = d->req.u.actuate.txn_id;

    cl_devj_screen(d, CL_UI_MESSAGE, text);
    d->screen_ready = true;
    cl_relay_msg_init(&d->ans, CL_RELAY_ACTUATE_RESULT);
    d->ans.u.actuate_result.txn_id = id;
    d->ans.u.actuate_result.result = result;
    return CL_DEVJ_DONE;
}

/* The checks of §5.14 in order; the result code. */
static uint8_t check(struct cl_dev *d)
{
    const struct cl_relay_actuate *a = &d->req.u.actuate;
    const struct cl_dev_gate_cfg *g = &d->cfg.gate;
    uint8_t tbs[CL_RELAY_GATE_TBS_MAX], dig[32];
    size_t n;
    uint32_t now, skew = g->skew_s, win = g->window_max_s ? g->window_max_s : CL_DEV_GATE_WINDOW_S;
    int h;

    if (g->verify == NULL || g->pub[0] != 0x04 || g->actuator.act == NULL)
        return CL_RELAY_GATE_NO_ACTUATOR;
    n = cl_relay_gate_tbs(a, tbs);
    if (n == 0 || d->cfg.hash.digest == NULL)
        return CL_RELAY_GATE_UNAVAILABLE;
    h = d->cfg.hash.digest(d->cfg.hash.ctx, CL_RELAY_DIGEST_SHA256, tbs, n, dig, sizeof(dig));
    if (h != 32)
        return CL_RELAY_GATE_UNAVAILABLE;
    if (g->verify(g->verify_ctx, g->pub, dig, sizeof(dig), a->signature.data, a->signature.len) !=
        CL_OK)
        return CL_RELAY_GATE_BAD_SIGNATURE;
    if (a->device_id.len != d->cfg.relay.device_id_len ||
        memcmp(a->device_id.data, d->cfg.relay.device_id, a->device_id.len) != 0)
        return CL_RELAY_GATE_WRONG_DEVICE;
    now = g->wall_s != NULL ? g->wall_s(g->wall_ctx) : 0;
    if (now == 0)
        return CL_RELAY_GATE_UNAVAILABLE;
    if (now < a->not_before && a->not_before - now > skew)
        return CL_RELAY_GATE_NOT_YET;
    if (now > a->not_after && now - a->not_after > skew)
        return CL_RELAY_GATE_EXPIRED;
    if (a->not_after - a->not_before > win)
        return CL_RELAY_GATE_DENIED;
    if (d->cfg.store == NULL)
        return CL_RELAY_GATE_UNAVAILABLE;   /* single use needs a store */
    return CL_RELAY_GATE_DONE;
}

uint8_t cl_devj_gate_step(struct cl_dev *d)
{
    const struct cl_relay_actuate *a = &d->req.u.actuate;
    const struct cl_actuator *act = &d->cfg.gate.actuator;
    struct used u;
    uint8_t result;
    size_t i;
    int r;

    if (d->ev != CL_DEVJ_EV_START)
        return CL_DEVJ_WAIT;
    result = check(d);
    if (result != CL_RELAY_GATE_DONE)
        return answer(d, result);
    if (load(d, &u) != CL_OK)
        return answer(d, CL_RELAY_GATE_UNAVAILABLE);
    if (a->not_after <= u.floor)
        return answer(d, CL_RELAY_GATE_REPLAYED);
    for (i = 0; i < u.n; i++)
        if (memcmp(u.nonce[i], a->nonce, CL_RELAY_GATE_NONCE_LEN) == 0)
            return answer(d, CL_RELAY_GATE_REPLAYED);
    /* durable before acting: a power cut after this never opens twice */
    if (record(d, &u, a->nonce, a->not_after) != CL_OK)
        return answer(d, CL_RELAY_GATE_UNAVAILABLE);
    r = act->act(act->ctx, a->action, d->cfg.gate.hold_ms);
    if (r == CL_ERR_UNSUPPORTED)
        return answer(d, CL_RELAY_GATE_NO_ACTUATOR);
    if (r != CL_OK)
        return answer(d, CL_RELAY_GATE_ACTUATOR_FAILED);
    return answer(d, CL_RELAY_GATE_DONE);
}
