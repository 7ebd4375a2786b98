/*
 * cardlink tests — an in-process relay link: a device session and a server
 * session with their applications (a counting "card" on the device, a list
 * of requests on the server), over a stream or over lossy framing with
 * drops, duplicates, reordering and corruption, and connection cuts at any
 * message boundary. Used by test_session.c and the relay benchmark.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CL_TEST_RELAY_SIM_H
#define CL_TEST_RELAY_SIM_H

#include "cardlink/relay_lossy.h"
#include "cardlink/relay_msg.h"
#include "cardlink/relay_session.h"

#define SIM_NREQ 7          /* requests in the standard dialogue */
#define SIM_WIRE 16384
#define SIM_CHUNKS 64

enum { SIM_STREAM = 0, SIM_LOSSY = 1 };
enum { SIM_CUT_NONE = 0, SIM_CUT_LOSE, SIM_CUT_DELIVER };

struct sim_chunk {
    uint8_t b[1200];
    size_t n;
};

struct sim_chan {
    struct sim_chunk q[SIM_CHUNKS];
    size_t n;
};

struct sim {
    int mode;
    struct cl_relay_session dev, srv;
    struct cl_relay_session_config dcfg, scfg;
    uint8_t dev_rx[2048], srv_rx[2048], dev_rb[4096], srv_rb[4096];
    struct cl_relay_txn_table dtab, stab;
    struct cl_relay_txn_slot dslots[8], sslots[8];
    struct cl_relay_txn_log dlog, slog;
    struct cl_relay_lossy dl, sl;
    uint8_t dl_rx[1100], dl_tx[1100], sl_rx[1100], sl_tx[1100];
    uint8_t epoch;
    /* wires */
    uint8_t d2s[SIM_WIRE], s2d[SIM_WIRE];
    size_t d2s_len, s2d_len;
    struct sim_chan cd2s, cs2d;
    uint32_t now, rng;
    unsigned drop, dup, reorder, corrupt;   /* per mille, lossy mode */
    /* cuts */
    long cut_at;          /* cut after this many messages (session level), -1 none */
    long cut_every;       /* and then every n more (0: once) */
    int cut_mode;
    bool cut_pending;
    long msgs;            /* session messages pulled, both directions */
    int cuts, link_failures;
    /* bytes and messages on the wire, per direction */
    unsigned long bytes_d2s, bytes_s2d, msgs_d2s, msgs_s2d;
    /* applications */
    int nreq;                         /* requests to issue (<= SIM_NREQ) */
    const uint8_t *req_kinds;         /* which request types; NULL: the standard list */
    int exec[SIM_NREQ], answers[SIM_NREQ];
    int next_req;
    bool srv_sent;
    bool dev_pending;
    uint8_t pend_type, pend_idx, pend_steps;
    int opens_fresh, opens_resumed, dev_closed, srv_closed, dead;
    int err_events;
};

/* Set up the standard pair over mode; no faults, no cuts. */
void sim_init(struct sim *s, int mode);

/* Run until both sides closed or max steps; returns the steps taken, or -1
 * if the run did not finish. */
long sim_run(struct sim *s, long max_steps);

/* Build request idx of the standard dialogue into m (pointers into static
 * storage). */
void sim_request(struct cl_relay_msg *m, int idx);

#endif
