/*
 * cardlink tests — in-process card line harness (see harness.h).
 * SPDX-License-Identifier: Apache-2.0
 */
#include "harness.h"
#include "cardlink/error.h"

#include <string.h>

static void log_byte(uint8_t *buf, size_t *n, size_t cap, uint8_t b)
{
    if (*n < cap)
        buf[(*n)++] = b;
}

/* Card -> reader: everything the card wants to send, through c2r. Returns
 * CL_ERR_CARD_REMOVED when the card was pulled, else the bytes delivered. */
static int pump_card(struct hline *hl, int (*deliver)(struct hline *, uint8_t, bool))
{
    int total = 0;
    while (cl_sim_want(hl->sim) == CL_WANT_SEND) {
        const uint8_t *p;
        size_t n = cl_sim_pull(hl->sim, &p), m, i;
        struct cl_fault_item items[2 * 64 + 1];
        if (n > 64)
            n = 64;
        /* p is only valid until the next call on the session: take the
         * bytes (through the fault injector) before acknowledging them */
        if (cl_fault_apply(hl->c2r, p, n, items, CL_ARRAY_LEN(items), &m) != CL_OK ||
            cl_sim_sent(hl->sim, n) != CL_OK)
            return CL_ERR_INTERNAL;
        for (i = 0; i < m; i++) {
            if (items[i].kind == CL_FAULT_REMOVED)
                return CL_ERR_CARD_REMOVED;
            log_byte(hl->to_reader, &hl->n_to_reader, sizeof(hl->to_reader),
                     items[i].byte);
            if (deliver != NULL)
                (void)deliver(hl, items[i].byte, items[i].kind == CL_FAULT_PARITY);
            total++;
        }
    }
    return total;
}

static int to_card(struct hline *hl, const uint8_t *p, size_t n)
{
    struct cl_fault_item items[2 * 64 + 1];
    size_t m, i;
    while (n > 0) {
        size_t k = n > 64 ? 64 : n;
        if (cl_fault_apply(hl->r2c, p, k, items, CL_ARRAY_LEN(items), &m) != CL_OK)
            return CL_ERR_INTERNAL;
        for (i = 0; i < m; i++) {
            if (items[i].kind == CL_FAULT_REMOVED)
                continue;
            log_byte(hl->to_card, &hl->n_to_card, sizeof(hl->to_card),
                     items[i].byte);
            if (items[i].kind == CL_FAULT_PARITY &&
                cl_sim_parity_error(hl->sim) != CL_OK)
                return CL_ERR_INTERNAL;
            if (cl_sim_feed(hl->sim, &items[i].byte, 1) != 1)
                return CL_ERR_INTERNAL;
        }
        p += k;
        n -= k;
    }
    return CL_OK;
}

static int collect_raw_buf_len;
static uint8_t *collect_raw_buf;
static size_t collect_raw_size;

static int collect(struct hline *hl, uint8_t b, bool parity)
{
    (void)hl;
    (void)parity;
    if ((size_t)collect_raw_buf_len < collect_raw_size)
        collect_raw_buf[collect_raw_buf_len++] = b;
    return 0;
}

/* see harness.h */
int hl_reset(struct hline *hl, uint8_t *atr, size_t atr_size)
{
    int rc = cl_sim_reset(hl->sim, false);
    if (rc != CL_OK)
        return rc;
    return hl_raw(hl, NULL, 0, atr, atr_size);
}

/* see harness.h */
int hl_raw(struct hline *hl, const uint8_t *out, size_t len, uint8_t *in,
           size_t in_size)
{
    int rc;
    if (len > 0 && (rc = to_card(hl, out, len)) != CL_OK)
        return rc;
    collect_raw_buf = in;
    collect_raw_size = in_size;
    collect_raw_buf_len = 0;
    rc = pump_card(hl, collect);
    return rc < 0 ? rc : collect_raw_buf_len;
}

/* see harness.h */
int hl_reader_setup(struct hline *hl, uint8_t proto, uint8_t ifsc, uint8_t edc)
{
    hl->proto = proto;
    if (proto == 1) {
        struct cl_t1_config c;
        cl_t1_config_default(&c, CL_T1_ROLE_READER);
        c.ifsc = ifsc;
        c.edc = edc;
        return cl_t1_setup(&hl->t1, &c, &hl->t1_stats);
    } else {
        struct cl_t0_config c;
        cl_t0_config_default(&c, CL_T0_ROLE_READER);
        return cl_t0_setup(&hl->t0, &c);
    }
}

static int deliver_reader(struct hline *hl, uint8_t b, bool parity)
{
    if (hl->proto == 1) {
        if (cl_t1_want(&hl->t1) != CL_WANT_RECV)
            return 0;   /* out of turn: the line layer drops it */
        if (parity && cl_t1_parity_error(&hl->t1) != CL_OK)
            return 0;
        return cl_t1_feed(&hl->t1, &b, 1);
    }
    if (cl_t0_want(&hl->t0) == CL_T0_DONE || cl_t0_want(&hl->t0) == CL_T0_IDLE) {
        hl->late_bytes++;
        return 0;
    }
    if (cl_t0_want(&hl->t0) != CL_T0_RECV)
        return 0;
    if (parity)
        return cl_t0_parity_error(&hl->t0);
    return cl_t0_feed(&hl->t0, &b, 1);
}

static int reader_want(struct hline *hl)
{
    return hl->proto == 1 ? (int)cl_t1_want(&hl->t1) : (int)cl_t0_want(&hl->t0);
}

/* see harness.h */
int hl_transmit(struct hline *hl, const uint8_t *cmd, size_t cmd_len,
                uint8_t *resp, size_t resp_size)
{
    bool started = false;
    int guard;

    hl->late_bytes = 0;
    for (guard = 0; guard < 100000; guard++) {
        int w = reader_want(hl), rc;
        bool moved = false;

        if (w == CL_WANT_IDLE || (w == CL_WANT_DONE && !started)) {
            if (started)
                return CL_ERR_INTERNAL;
            rc = hl->proto == 1
                     ? cl_t1_transmit_start(&hl->t1, cmd, cmd_len, resp, resp_size)
                     : cl_t0_transmit_start(&hl->t0, cmd, cmd_len, resp, resp_size);
            if (rc != CL_OK)
                return rc;
            started = true;
            continue;
        }
        if (w == CL_WANT_DONE) {
            /* drain what the card still sends: in T=0 a byte after the
             * end makes the response suspect */
            rc = pump_card(hl, deliver_reader);
            if (rc == CL_ERR_CARD_REMOVED)
                return rc;
            if (hl->proto == 0 && hl->late_bytes > 0)
                return CL_ERR_PROTOCOL;
            return hl->proto == 1 ? cl_t1_result(&hl->t1) : cl_t0_result(&hl->t0);
        }
        if (w == CL_WANT_FAILED)
            return hl->proto == 1 ? cl_t1_error(&hl->t1) : cl_t0_error(&hl->t0);
        if (w == CL_WANT_SEND) {
            const uint8_t *p;
            size_t n = hl->proto == 1 ? cl_t1_pull(&hl->t1, &p)
                                      : cl_t0_pull(&hl->t0, &p);
            /* copy: the pointer dies with the next engine call */
            uint8_t tmp[CL_T1_BLOCK_MAX + 300];
            if (n > sizeof(tmp))
                return CL_ERR_INTERNAL;
            memcpy(tmp, p, n);
            rc = hl->proto == 1 ? cl_t1_sent(&hl->t1, n) : cl_t0_sent(&hl->t0, n);
            if (rc != CL_OK || to_card(hl, tmp, n) != CL_OK)
                return CL_ERR_INTERNAL;
            moved = true;
        }
        rc = pump_card(hl, deliver_reader);
        if (rc == CL_ERR_CARD_REMOVED)
            return rc;
        if (rc > 0)
            moved = true;
        if (moved)
            continue;
        /* Nobody moves: time passes. The card's CWT first (shorter). */
        if (cl_sim_timer(hl->sim) != CL_TIMER_NONE &&
            cl_sim_want(hl->sim) == CL_WANT_RECV) {
            if (cl_sim_timeout(hl->sim) != CL_OK)
                return CL_ERR_INTERNAL;
            continue;
        }
        if (reader_want(hl) == CL_WANT_RECV) {
            rc = hl->proto == 1 ? cl_t1_timeout(&hl->t1) : cl_t0_timeout(&hl->t0);
            if (rc != CL_OK)
                return CL_ERR_INTERNAL;
            continue;
        }
        return CL_ERR_INTERNAL;
    }
    return CL_ERR_INTERNAL;
}

/* ------------------------------------------- in-process cl_card_line */

static void hcl_queue(struct hcline *h, uint8_t b, bool parity)
{
    if (h->qoff > 0 && h->qlen == sizeof(h->q)) {
        memmove(h->q, h->q + h->qoff, h->qlen - h->qoff);
        memmove(h->qpar, h->qpar + h->qoff, h->qlen - h->qoff);
        h->qlen -= h->qoff;
        h->qoff = 0;
    }
    if (h->qlen == sizeof(h->q)) {
        h->overflow++;
        return;
    }
    h->q[h->qlen] = b;
    h->qpar[h->qlen++] = parity ? 1u : 0u;
}

/* Move what the card sends through c2r into the queue. */
static int hcl_pump(struct hcline *h)
{
    while (!h->pulled && cl_sim_want(h->sim) == CL_WANT_SEND) {
        const uint8_t *p;
        struct cl_fault_item items[2 * 64 + 1];
        size_t n = cl_sim_pull(h->sim, &p), m, i;
        if (n > 64)
            n = 64;
        if (cl_fault_apply(h->c2r, p, n, items, CL_ARRAY_LEN(items), &m) != CL_OK ||
            cl_sim_sent(h->sim, n) != CL_OK)
            return CL_ERR_INTERNAL;
        for (i = 0; i < m; i++) {
            if (items[i].kind == CL_FAULT_REMOVED) {
                h->pulled = true;
                cl_sim_power_off(h->sim);
                break;
            }
            hcl_queue(h, items[i].byte, items[i].kind == CL_FAULT_PARITY);
        }
    }
    return CL_OK;
}

static int hcl_send(void *ctx, const uint8_t *buf, size_t len)
{
    struct hcline *h = ctx;
    size_t off = 0;
    /* half duplex: what arrived out of turn is dropped when the reader
     * turns the line around */
    h->stale += h->qlen - h->qoff;
    h->qlen = h->qoff = 0;
    while (off < len) {
        struct cl_fault_item items[2 * 64 + 1];
        size_t k = len - off > 64 ? 64 : len - off, m, i;
        if (h->pulled)
            return CL_ERR_CARD_REMOVED;
        if (cl_fault_apply(h->r2c, buf + off, k, items, CL_ARRAY_LEN(items),
                           &m) != CL_OK)
            return CL_ERR_INTERNAL;
        for (i = 0; i < m; i++) {
            if (items[i].kind == CL_FAULT_REMOVED) {
                h->pulled = true;
                cl_sim_power_off(h->sim);
                return CL_ERR_CARD_REMOVED;
            }
            if (items[i].kind == CL_FAULT_PARITY &&
                cl_sim_parity_error(h->sim) != CL_OK)
                return CL_ERR_INTERNAL;
            if (cl_sim_feed(h->sim, &items[i].byte, 1) != 1)
                return CL_ERR_INTERNAL;
        }
        off += k;
    }
    /* the card answers once the reader's burst is over */
    return hcl_pump(h);
}

static int hcl_recv(void *ctx, uint8_t *buf, size_t size, uint32_t *t)
{
    struct hcline *h = ctx;
    size_t n = 0;
    if (hcl_pump(h) != CL_OK)
        return CL_ERR_INTERNAL;
    if (h->qoff == h->qlen) {
        if (h->pulled)
            return CL_ERR_CARD_REMOVED;
        /* nobody has anything to say: time passes; the card's character
         * timer (shorter than any reader timer) runs out first */
        if (cl_sim_timer(h->sim) != CL_TIMER_NONE &&
            cl_sim_want(h->sim) == CL_WANT_RECV) {
            h->card_timeouts++;
            if (cl_sim_timeout(h->sim) != CL_OK || hcl_pump(h) != CL_OK)
                return CL_ERR_INTERNAL;
        }
        if (h->qoff == h->qlen) {
            h->reader_timeouts++;
            *t = 0;
            return 0;
        }
    }
    if (h->qpar[h->qoff] && h->parity_report) {
        buf[0] = h->q[h->qoff++];
        return CL_ERR_PARITY;
    }
    while (n < size && h->qoff < h->qlen &&
           (n == 0 || !h->qpar[h->qoff] || !h->parity_report))
        buf[n++] = h->q[h->qoff++];
    return (int)n;
}

static int hcl_reset(void *ctx, bool warm)
{
    struct hcline *h = ctx;
    if (h->pulled)
        return CL_ERR_CARD_REMOVED;
    h->qlen = h->qoff = 0;
    h->f = 372;
    h->d = 1;
    h->parity_report = false;
    if (cl_sim_reset(h->sim, warm) != CL_OK || hcl_pump(h) != CL_OK)
        return CL_ERR_INTERNAL;
    return CL_OK;
}

static int hcl_set_params(void *ctx, const struct cl_card_line_params *p)
{
    struct hcline *h = ctx;
    h->parity_report = p->parity;
    if (p->f != h->f || p->d != h->d) {
        h->f = p->f;
        h->d = p->d;
        int rv = cl_sim_clock(h->sim, p->f, p->d);
        (void)rv;   /* a mismatch is counted in the simulator's stats */
    }
    return CL_OK;
}

static void hcl_power_off(void *ctx)
{
    struct hcline *h = ctx;
    cl_sim_power_off(h->sim);
    h->qlen = h->qoff = 0;
}

static int hcl_present(void *ctx)
{
    const struct hcline *h = ctx;
    return h->pulled ? 0 : 1;
}

/* see harness.h */
const struct cl_card_line hcl_line = {
    hcl_send, hcl_recv, hcl_reset, hcl_set_params, hcl_power_off, hcl_present,
    { 3571u, 5000u, 0u, NULL, 0, true, CL_CARD_LINE_PARITY }
};

/* see harness.h */
size_t hcl_pending(const struct hcline *h)
{
    return h->qlen - h->qoff;
}

/* see harness.h */
void hcl_reinsert(struct hcline *h)
{
    h->pulled = false;
    h->qlen = h->qoff = 0;
    cl_fault_rearm(h->r2c);
    cl_fault_rearm(h->c2r);
}
