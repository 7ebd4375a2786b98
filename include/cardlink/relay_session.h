/*
 * cardlink — relay protocol sessions, device side and server side
 * (docs/protocol.md §7, §8, §9, §11).
 * SPDX-License-Identifier: Apache-2.0
 *
 * One engine, two roles. It owns the session rules: HELLO / HELLO-ACK with
 * version choice and resumption, sequence numbers and acknowledgements,
 * duplicate suppression, request/answer matching by REF, keep-alives and
 * dead-link detection, the replay buffer (caller memory: every sequenced
 * message sent and not yet acknowledged, replayed with REPLAY after a
 * resumption), transaction-id idempotency through a caller-provided log,
 * and CLOSE. The application executes requests (device) or issues them
 * (server); device policy (cardlink/policy.h) is the device application's call.
 *
 * Sans-I/O, with the engine shape of cardlink/engine.h. Time is a caller
 * millisecond counter (uint32_t, may wrap).
 *
 *   both:    cl_relay_session_init(&s); then
 *            cl_relay_session_setup(&s, role, &cfg, rx, rx_size, rb, rb_size)
 *   device:  transport up:   cl_relay_device_connect(&s, now)
 *   server:  transport up:   cl_relay_server_accept(&s, now, fresh_token, 16)
 *   both:    switch (cl_relay_session_want(&s)):
 *            SEND:  n = cl_relay_session_pull(&s, now, &p); write p[0..k),
 *                   k <= n; cl_relay_session_sent(&s, k)
 *            DONE:  while (cl_relay_session_poll(&s, &ev)) handle(ev)
 *            RECV:  used = cl_relay_session_feed(&s, now, p, n) (< 0: failed
 *                   or closed); feed the rest after polling
 *            timer: arm cl_relay_session_timer(&s, now) ms; on expiry
 *                   cl_relay_session_timeout(&s, now), then pull
 *            transport lost: cl_relay_session_disconnect(&s, now)
 *            send:  cl_relay_session_send(&s, now, &msg)
 *                   (device: answers, notifications; server: requests)
 *            end:   cl_relay_session_close(&s, now, CL_RELAY_E_NONE)
 *            cl_relay_session_free(&s) wipes it (the token included).
 *
 * Over a lossy link (cardlink/relay_lossy.h) feed each delivered message as
 * bytes, and pull only while cl_relay_lossy_can_send() (one message each,
 * acknowledged in full with sent()).
 * On a NULL engine: int functions return CL_ERR_ARG, want() CL_WANT_FAILED,
 * pull() 0, timer() CL_TIMER_NONE, poll()/busy() false, accessors NULL
 * (state(): CL_RELAY_ST_IDLE).
 */
#ifndef CARDLINK_RELAY_SESSION_H
#define CARDLINK_RELAY_SESSION_H

#include "cardlink/defs.h"
#include "cardlink/engine.h"
#include "cardlink/relay_frame.h"
#include "cardlink/relay_msg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Size of the internal buffer for HELLO, HELLO-ACK, KEEPALIVE and CLOSE. */
#define CL_RELAY_CTRL_MAX 192u
/* Replay buffer record overhead: 2 bytes length and 1 byte flags. */
#define CL_RELAY_REPLAY_REC 3u
/* Most unacknowledged sequenced messages (§7.1). */
#define CL_RELAY_WINDOW_MAX 127u

enum cl_relay_role { CL_RELAY_DEVICE = 1, CL_RELAY_SERVER = 2 };

/*
 * Device firmware never plays the server: it may define CL_RELAY_SERVER_ROLE
 * to 0 (-DCL_RELAY_SERVER_ROLE=0, the same for every file that includes this
 * header, as CL_T0_CARD in cardlink/t0.h) to leave the server's rows out of
 * the engine (the struct keeps its layout). setup() then refuses
 * CL_RELAY_SERVER with CL_ERR_UNSUPPORTED, cl_relay_server_accept() answers
 * CL_ERR_UNSUPPORTED and cl_relay_server_resumes() false.
 */
#ifndef CL_RELAY_SERVER_ROLE
#define CL_RELAY_SERVER_ROLE 1
#endif

/* Session states (§11; BUSY / WAITING are cl_relay_session_busy()). */
enum cl_relay_state {
    CL_RELAY_ST_IDLE = 0,      /* no transport, no session */
    CL_RELAY_ST_HELLO,         /* transport up; device: HELLO sent; server: awaiting HELLO */
    CL_RELAY_ST_OPEN,          /* session running */
    CL_RELAY_ST_SUSPENDED,     /* transport lost, session kept for resumption */
    CL_RELAY_ST_CLOSED         /* ended by CLOSE, sent or received, or by a failure */
};

enum cl_relay_event_kind {
    CL_RELAY_EV_NONE = 0,
    CL_RELAY_EV_OPEN,          /* session (re)established; msg: the peer's HELLO or
                                * HELLO-ACK; resumed: the previous session continues */
    CL_RELAY_EV_REQUEST,       /* device: a request to execute and answer with send() */
    CL_RELAY_EV_ANSWER,        /* server: the answer, or ERROR with REF, to the
                                * outstanding request; recorded: from the txn log */
    CL_RELAY_EV_NOTIFY,        /* a notification, or an ERROR without REF */
    CL_RELAY_EV_LINK_DEAD,     /* no HELLO answer in time, or 3K silence: drop the
                                * transport (disconnect() was already applied);
                                * err: CL_ERR_TIMEOUT in both cases (the session
                                * is kept, error() stays CL_OK) */
    CL_RELAY_EV_CLOSED         /* the session ended; err: CL_OK for a normal CLOSE */
};

struct cl_relay_event {
    uint8_t kind;                     /* enum cl_relay_event_kind */
    bool resumed;                     /* OPEN */
    bool recorded;                    /* ANSWER taken from the transaction log */
    int err;                          /* CLOSED: why */
    const struct cl_relay_msg *msg;   /* OPEN, REQUEST, ANSWER, NOTIFY; valid until
                                       * the next feed/send on the session */
};

/*
 * Transaction log (§9): the outcome per 16-byte transaction id. The device
 * keeps the answers of executed money-moving requests, and marks an id IN
 * PROGRESS before the request reaches its application (so before the card
 * is touched); the server keeps the outcomes it received. A port implements
 * it in its non-volatile store, so that a reboot keeps both (SQLite on the
 * server); an in-memory table is below.
 *
 * lookup: CL_OK when id is recorded, with *answer / *len the recorded
 *   answer message (header and body), valid until the next call on the log;
 *   *len 0: the id is known but no answer is held (in progress, or the
 *   answer was too long to keep); CL_ERR_NOT_FOUND when not; any other
 *   error is a failure of the store.
 * record: store the outcome for id, replacing what the id had: answer
 *   NULL / len 0 marks it in progress, else the answer message (an answer
 *   or an ERROR). CL_OK or an error (the device then refuses to execute).
 * Neither blocks for long; both may be called from feed() and send().
 */
struct cl_relay_txn_log {
    int (*lookup)(void *ctx, const uint8_t id[CL_RELAY_TXN_ID_LEN], const uint8_t **answer,
                  size_t *len);
    int (*record)(void *ctx, const uint8_t id[CL_RELAY_TXN_ID_LEN], const uint8_t *answer,
                  size_t len);
    void *ctx;
};

#ifndef CL_RELAY_TXN_ANSWER_MAX
#define CL_RELAY_TXN_ANSWER_MAX 128
#endif

/* In-memory transaction log: a ring of caller slots, the oldest replaced
 * by a new id; a known id keeps its slot. Answers longer than
 * CL_RELAY_TXN_ANSWER_MAX keep only the id (as in progress does).
 * Optionally (cl_relay_txn_table_ids) a second, longer list of bare ids,
 * oldest first: every id recorded enters it, so an id whose answer slot
 * was since reused still looks up as known with no answer (*len 0: the
 * session answers ERROR DUPLICATE, §9) instead of being executed again;
 * the oldest id leaves a full list. With the list, marking an id in
 * progress only enters it there: the slots keep the answers for longer. */
struct cl_relay_txn_slot {
    uint8_t id[CL_RELAY_TXN_ID_LEN];
    bool used;
    uint16_t len;
    uint8_t answer[CL_RELAY_TXN_ANSWER_MAX];
};

struct cl_relay_txn_table {
    struct cl_relay_txn_slot *slots;
    size_t n, next;
    uint32_t records;                 /* record() calls that stored an answer */
    uint8_t (*ids)[CL_RELAY_TXN_ID_LEN];  /* the id list, oldest first; NULL: none */
    size_t nids, ids_used;            /* its size, ids held */
};

/* Start a table over slots[0..n) (n may be 0: it records nothing) and
 * point log at it; no id list. Cannot fail. */
void cl_relay_txn_table_init(struct cl_relay_txn_table *t, struct cl_relay_txn_slot *slots,
                             size_t n, struct cl_relay_txn_log *log);

/* Give t the id list ids[0..n) (emptied; NULL or n 0: none). Call after
 * cl_relay_txn_table_init. Cannot fail. */
void cl_relay_txn_table_ids(struct cl_relay_txn_table *t, uint8_t (*ids)[CL_RELAY_TXN_ID_LEN],
                            size_t n);

/* Append id to t's id list (the oldest leaves a full list; an id already
 * there stays where it is). Returns true when the list changed. Used by
 * record() and by a store's reload. NULL t or id, no list: false. */
bool cl_relay_txn_table_id_add(struct cl_relay_txn_table *t,
                               const uint8_t id[CL_RELAY_TXN_ID_LEN]);

/* Session configuration; must outlive the session. Zero means default. */
struct cl_relay_session_config {
    /* device */
    const uint8_t *versions;          /* offered, most preferred first; NULL: {1} */
    size_t nversions;                 /* 1..8 */
    const uint8_t *device_id;         /* 1..32 bytes (required for a device) */
    size_t device_id_len;
    struct cl_relay_caps caps;        /* sent in HELLO; features bit RESUME enables resumption;
                                       * max_msg above rx_size (or 0 with rx_size below
                                       * §5.1's 512) goes out as rx_size */
    const char *software;             /* NULL or 1..32 printable characters */
    uint32_t hello_timeout_ms;        /* HELLO unanswered: LINK_DEAD; 0 = 10000 */
    /* server */
    uint16_t keepalive_s;             /* K announced in HELLO-ACK; 0 = none */
    uint16_t max_msg;                 /* announced in HELLO-ACK; 0 = absent (no limit) when
                                       * rx_size takes any message; never above rx_size:
                                       * a smaller rx goes out as its size */
    /* both */
    uint8_t keepalive_missed;         /* intervals of silence before the link is dead; 0 = 3 */
    uint32_t ack_delay_ms;            /* send KEEPALIVE with ACK when nothing else carried
                                       * an ack this long; 0 = 1000, use 1 for "at once" */
    const struct cl_relay_txn_log *txn_log;  /* NULL: no idempotency log */
};

/* Counters, read through cl_relay_session_stats(). */
struct cl_relay_session_stats {
    uint32_t executed;                /* device: requests handed to the application */
    uint32_t duplicates;              /* duplicate seqs dropped, logged txn ids answered */
    uint32_t replayed;                /* messages sent again with REPLAY */
};

/* The engine. Caller-allocated; do not touch the fields. (The small
 * fields come first: Thumb-1 loads reach 31 bytes into a struct for a
 * byte, 124 for a word, without an extra instruction.) */
struct cl_relay_session {
    uint8_t role, state;
    uint8_t tx_seq;                   /* next seq to assign */
    uint8_t tx_acked;                 /* last own seq acknowledged */
    uint8_t rx_next;                  /* next peer seq expected */
    bool has_session;
    bool resume_sent;                 /* device: the last HELLO named the token */
    bool rx_any;                      /* a sequenced message was received: send ACK */
    bool ack_due;
    bool busy;                        /* device: executing; server: waiting for the answer */
    bool req_txn;                     /* the request carries a transaction id */
    bool ctrl_first;                  /* HELLO / HELLO-ACK / failure CLOSE: before anything */
    bool ctrl_close;                  /* ctrl is a CLOSE: CLOSED once it is sent */
    bool closing;                     /* close() called: CLOSE after the queue */
    bool ev_pending, dead_pending;
    bool ka_due;                      /* timeout() found a KEEPALIVE (or an ack) due:
                                       * want() says SEND, the timer waits no more for it */
    uint8_t req_seq, req_type;
    uint8_t close_reason;
    uint8_t out_kind;                 /* what pull() lends: 0 none, 1 ctrl, 2 record */
    uint8_t version;
    uint8_t token_len, new_token_len, peer_id_len;
    uint16_t keepalive;               /* K in seconds */
    int err;                          /* sticky once CLOSED by a failure */
    const struct cl_relay_session_config *cfg;
    uint8_t *rb;                      /* replay buffer: records [len16][sent][msg] */
    size_t rb_size, rb_used, rb_tx;   /* rb_tx: offset of the next record to send */
    size_t peer_max;                  /* largest message the peer accepts */
    size_t ctrl_len;
    size_t out_off;                   /* bytes of what pull() lends acknowledged by sent() */
    uint32_t ack_since, last_rx, last_tx, hello_at;
    struct cl_relay_session_stats stats;
    struct cl_relay_stream in;        /* deframer over the caller's rx buffer */
    struct cl_relay_event ev;
    uint8_t token[CL_RELAY_TOKEN_MAX];
    struct cl_relay_msg msg;          /* the message decoded last */
    uint8_t new_token[CL_RELAY_TOKEN_MAX];   /* server: for a fresh session */
    uint8_t peer_id[32];              /* server: the device id (HELLO field 81) the
                                       * session was opened by; resuming needs it */
    uint8_t req_txn_id[CL_RELAY_TXN_ID_LEN];
    uint8_t ctrl[CL_RELAY_CTRL_MAX];  /* HELLO, HELLO-ACK, KEEPALIVE, CLOSE */
};

/* Zero s (no role yet: every call but setup and free answers CL_ERR_ARG
 * or CL_WANT_IDLE). Does nothing when s is NULL. Cannot fail. */
void cl_relay_session_init(struct cl_relay_session *s);

/*
 * Set the engine up for a role over caller buffers, from any prior content
 * of *s (it need not be zeroed or initialised): rx[0..rx_size) holds one
 * incoming message (its size is the largest message accepted; HELLO and
 * HELLO-ACK never announce more), replay[0..replay_size) the replay
 * buffer (each message takes its size + 3; NULL / 0: nothing can be sent
 * but control messages). cfg and the buffers must stay valid.
 * Returns CL_OK, or CL_ERR_ARG (s, cfg or rx NULL, role not DEVICE or
 * SERVER, rx_size below 8; device: no device id, or more than 32 bytes;
 * versions NULL with nversions > 0 or 0 / more than 8 versions),
 * CL_ERR_UNSUPPORTED (CL_RELAY_SERVER in a build with CL_RELAY_SERVER_ROLE
 * 0). On an error s is left as after init().
 */
CL_WUR int cl_relay_session_setup(struct cl_relay_session *s, uint8_t role,
                                  const struct cl_relay_session_config *cfg, uint8_t *rx,
                                  size_t rx_size, uint8_t *replay, size_t replay_size);

/* Wipe the engine with cl_wipe() (the tokens included). Does nothing when
 * s is NULL. */
void cl_relay_session_free(struct cl_relay_session *s);

/*
 * Device: the transport is up; queue HELLO (with the resume token and ack
 * when a session is held and caps.features has RESUME). From IDLE,
 * SUSPENDED or CLOSED (which starts afresh, the sticky error cleared).
 * Returns CL_OK, or CL_ERR_ARG (s NULL, not set up as a device),
 * CL_ERR_STATE (the transport is already up: HELLO or OPEN; or an event
 * not yet polled, whose message the new connection would overwrite: poll
 * it first), CL_ERR_BUFFER (HELLO longer than CL_RELAY_CTRL_MAX).
 */
CL_WUR int cl_relay_device_connect(struct cl_relay_session *s, uint32_t now);

/*
 * Server: the transport is up; wait for HELLO. token (8..32 bytes) names
 * the session if the HELLO starts a fresh one; a HELLO that carries this
 * session's current token and the device id the session was opened by
 * resumes it (cl_relay_server_resumes), any other HELLO starts a fresh
 * session under token (docs/protocol.md §8). From IDLE, SUSPENDED or
 * CLOSED (which starts afresh, the sticky error cleared).
 * Returns CL_OK, or CL_ERR_ARG (s or token NULL, not set up as a server,
 * token size), CL_ERR_STATE (the transport is already up, or an event
 * waits to be polled, as for connect()), CL_ERR_UNSUPPORTED (built with CL_RELAY_SERVER_ROLE 0).
 */
CL_WUR int cl_relay_server_accept(struct cl_relay_session *s, uint32_t now, const uint8_t *token,
                                  size_t token_len);

/*
 * The transport was lost (or dropped on LINK_DEAD). The session is kept
 * (SUSPENDED) when one was established, unsent output is kept in the replay
 * buffer for the next connection, a partly sent message is sent again in
 * full. Does nothing when s is NULL or CLOSED.
 */
void cl_relay_session_disconnect(struct cl_relay_session *s, uint32_t now);

/*
 * What the engine needs next (cardlink/engine.h):
 *  CL_WANT_DONE    an event waits: poll() it;
 *  CL_WANT_SEND    a message is ready for pull() (also the CLOSE that
 *                  follows a failure, before CL_WANT_FAILED);
 *  CL_WANT_RECV    the transport is up (HELLO, OPEN): feed() its bytes and
 *                  arm timer(); keep-alives come out of pull() when timer()
 *                  runs out;
 *  CL_WANT_IDLE    no transport (IDLE, SUSPENDED): connect() / accept();
 *  CL_WANT_CLOSED  closed by a CLOSE with reason NONE, sent or received;
 *  CL_WANT_FAILED  closed by a failure or the peer's CLOSE with an error
 *                  reason: error() says which.
 */
enum cl_want cl_relay_session_want(const struct cl_relay_session *s);

/*
 * Bytes from the transport. Processes complete messages as they come and
 * stops after one that raised an event (poll it; want() is CL_WANT_DONE);
 * feed the rest after polling. While an event waits unpolled nothing is
 * consumed (0). Protocol violations close the session (CLOSE is queued,
 * CLOSED raised); undecodable or unwelcome messages are answered with
 * ERROR as §11 says and the session goes on.
 * Returns the bytes used (0..len; at most INT_MAX), or
 *  CL_ERR_ARG       s NULL, in NULL with len > 0, not set up;
 *  CL_ERR_STATE     no transport is up (IDLE, SUSPENDED);
 *  CL_ERR_CLOSED    the session was closed (a normal CLOSE) before the call;
 *  the failure that closed it (sticky), now or before: CL_ERR_VERSION (no
 *  common version), CL_ERR_SEQUENCE (seq gap, ack of a message never
 *  sent), CL_ERR_PROTOCOL (a message not valid in the state, an answer
 *  with an unknown REF), CL_ERR_MALFORMED / CL_ERR_VERSION /
 *  CL_ERR_RESERVED / CL_ERR_TOO_LONG (stream framing), or the peer's CLOSE
 *  reason mapped by cl_relay_err_from_wire(). (The bytes of a call that
 *  fails are used up; a CLOSE with reason NONE returns the bytes used and
 *  raises CLOSED.)
 */
CL_WUR int cl_relay_session_feed(struct cl_relay_session *s, uint32_t now, const uint8_t *in,
                                 size_t len);

/*
 * A whole message arrived that was larger than the largest accepted: over
 * a lossy link, which delivers whole messages, cl_relay_lossy_take()
 * answers CL_ERR_TOO_LONG and lends its start[0..len) (8 bytes at least:
 * the header). In OPEN it counts like any message (ack, seq) and is
 * answered with ERROR TOO_LARGE (REF when its header shows a request; at
 * the server, an answer to the outstanding request is raised as a failed
 * ANSWER, err CL_ERR_TOO_LONG); the session goes on. During the handshake,
 * or with a bad header, it fails the session as feed() would. (On a stream
 * a message too large loses the framing: feed() fails with CL_ERR_TOO_LONG.)
 * Returns CL_OK, or the errors of feed() (CL_ERR_STATE also while an event
 * waits unpolled).
 */
CL_WUR int cl_relay_session_too_large(struct cl_relay_session *s, uint32_t now,
                                      const uint8_t *start, size_t len);

/* Take the pending event into *ev: true when there was one. False (ev
 * zeroed when not NULL) when s or ev is NULL or none waits. */
bool cl_relay_session_poll(struct cl_relay_session *s, struct cl_relay_event *ev);

/*
 * Lend the next bytes to transmit: *p points to the returned count of
 * bytes, valid until the next call on s other than sent(); 0 (*p NULL)
 * when nothing is to be sent. Order: HELLO / HELLO-ACK (or the CLOSE of a
 * failure), then the replay buffer's unsent messages (first those to
 * replay, REPLAY set), then CLOSE, then a KEEPALIVE when an acknowledgement
 * or the keep-alive interval is due. Each call lends the rest of one
 * message; a message counts as sent (and a CLOSE closes) when sent() has
 * acknowledged all of it. s and p must not be NULL (0 when they are).
 */
size_t cl_relay_session_pull(struct cl_relay_session *s, uint32_t now, const uint8_t **p);

/*
 * n bytes of what pull() lent went out (a partial write is fine: the rest
 * is lent again). Returns CL_OK, or CL_ERR_ARG (s NULL, n more than
 * lent). n 0 is a no-op.
 */
CL_WUR int cl_relay_session_sent(struct cl_relay_session *s, size_t n);

/*
 * Send a sequenced message: it gets its seq, ACK/ack and (for answers) REF,
 * is encoded into the replay buffer and goes out with pull(). m's header
 * fields are written.
 * Device: an answer (type = request + 1) or an ERROR while a request is
 * executing answers it; ERROR otherwise and notifications (30..3F) are
 * spontaneous. The outcome (answer or ERROR) of a request with a
 * transaction id is recorded in the txn log; an answer is recorded also
 * when it can no longer be sent because the session was closed or replaced
 * by a fresh one meanwhile (CL_ERR_CLOSED / CL_ERR_STATE is returned then;
 * an ERROR is not: the id stays in progress). Server: requests
 * (20..2E even) and ERROR without REF; a request whose transaction id the
 * log holds is not sent: its recorded outcome is raised as an ANSWER event
 * (recorded) at once, with err CL_ERR_DUPLICATE and no msg when no answer
 * is held or the answer is not of this request's type.
 * Allowed while OPEN, HELLO or SUSPENDED with a session held.
 * Returns CL_OK, or
 *  CL_ERR_ARG       s or m NULL, a type this role does not send, an answer
 *                   type that does not match the request;
 *  CL_ERR_STATE     no session; device: an answer with no request executing;
 *                   server: a request while one is outstanding;
 *  CL_ERR_LIMIT     the replay buffer is full or 127 messages are unacknowledged;
 *  CL_ERR_TOO_LONG  the message exceeds the peer's maximum message size;
 *  CL_ERR_CLOSED    the session is closed or closing;
 *  the sticky error; the errors of cl_relay_encode() for an invalid message.
 */
CL_WUR int cl_relay_session_send(struct cl_relay_session *s, uint32_t now,
                                 struct cl_relay_msg *m);

/*
 * Close the session. OPEN: CLOSE with reason (enum cl_relay_code) goes out
 * after the messages already queued, then the state is CLOSED. HELLO: the
 * CLOSE replaces an unsent HELLO / goes next. SUSPENDED: there is no
 * transport to carry a CLOSE: CLOSED at once. In every case the token is
 * void (wiped) and the replay buffer dropped once CLOSED, so the next
 * connect() starts a fresh session.
 * Returns CL_OK, CL_ERR_ARG (s NULL), CL_ERR_STATE (no session and no
 * transport: IDLE), CL_ERR_CLOSED (already closed or closing).
 */
CL_WUR int cl_relay_session_close(struct cl_relay_session *s, uint32_t now, uint8_t reason);

/*
 * Timer event: the HELLO timeout, and 3K (keepalive_missed x K) silence,
 * suspend the session (or drop the transport when no session is held) and
 * raise LINK_DEAD with err CL_ERR_TIMEOUT. Keep-alives and delayed
 * acknowledgements come out of pull(). Calling it early is harmless.
 * Returns CL_OK, or CL_ERR_ARG (s NULL), or the sticky error.
 */
CL_WUR int cl_relay_session_timeout(struct cl_relay_session *s, uint32_t now);

/* Milliseconds until timeout() and pull() should run again; CL_TIMER_NONE
 * when nothing is timed (or s is NULL). A keep-alive or a delayed
 * acknowledgement falls due at 0: timeout() then queues it (want() says
 * SEND until it is pulled) and the timer goes on to the next deadline, so
 * a caller whose transport cannot take it yet sleeps until it can. */
uint32_t cl_relay_session_timer(const struct cl_relay_session *s, uint32_t now);

/* Current state (enum cl_relay_state); CL_RELAY_ST_IDLE when s is NULL. */
uint8_t cl_relay_session_state(const struct cl_relay_session *s);

/* Device: a request is executing; server: a request is outstanding. */
bool cl_relay_session_busy(const struct cl_relay_session *s);

/*
 * Server: whether HELLO h would resume the session s holds: s holds a
 * session with a token, h names that token (same length, same bytes) and
 * the device id (field 81) is the one the session was opened by. The bytes
 * are compared in constant time (the time depends on the lengths only), so
 * a device that guesses tokens learns nothing from how long the answer
 * takes. A server with an engine per session uses it to find the engine a
 * HELLO belongs to; a HELLO that matches no engine gets a new engine and a
 * fresh session, so that another device's HELLO never touches (or ends) a
 * session it does not own. False when s or h is NULL, s is not a server,
 * or s holds no session.
 */
bool cl_relay_server_resumes(const struct cl_relay_session *s, const struct cl_relay_hello *h);

/* The session's resume token (*len 0 when none); NULL (*len 0 when len is
 * not NULL) when s or len is NULL. */
const uint8_t *cl_relay_session_token(const struct cl_relay_session *s, size_t *len);

/*
 * Snapshot of what a resumption needs (docs/protocol.md §8, "Resumption
 * across a restart"), so that a server that stops (a crash, SIGKILL, an
 * upgrade) and starts again, or another server node, can take the session
 * over: the role, the token, the peer's device id (server), the sequence
 * numbers both ways, the outstanding request (REF, type, transaction id),
 * the negotiated version, keep-alive and peer message size, the counters,
 * and every unacknowledged message of the replay buffer. Versioned binary
 * (the format is written at the top of relay_session_snapshot.c). It holds
 * the resume token, a secret: store it like a key (docs/security.md).
 * Allowed with a session held (OPEN, SUSPENDED, or HELLO while resuming).
 * *len receives the snapshot's size, also when buf is too small.
 * Returns CL_OK, or CL_ERR_ARG (s or len NULL, buf NULL with size > 0, s
 * not set up), CL_ERR_STATE (no session held, closed, or failed),
 * CL_ERR_BUFFER (size below *len; nothing useful written).
 */
CL_WUR int cl_relay_session_save(const struct cl_relay_session *s, uint8_t *buf, size_t size,
                                 size_t *len);

/*
 * Replace whatever s held with the session in snapshot buf[0..len), made
 * by cl_relay_session_save (any process, same format version). s must
 * have been set up (cl_relay_session_setup: its buffers are kept) for the
 * snapshot's role; cfg becomes its configuration. The session is
 * SUSPENDED afterwards: accept() / connect() and the peer's resuming HELLO
 * (HELLO-ACK RESUMED) continue it; every restored message counts as sent
 * and is replayed (REPLAY) after the resumption, as it may or may not have
 * gone out before the snapshot's owner stopped. Reads nothing outside
 * buf[0..len).
 * Returns CL_OK, or
 *  CL_ERR_ARG       s or cfg NULL, buf NULL with len > 0, s not set up, a
 *                   device cfg without a valid device id;
 *  CL_ERR_MALFORMED not a snapshot of this format version: wrong magic or
 *                   version, truncated, trailing bytes, a field out of
 *                   range, a record whose header or seq is wrong, the
 *                   record count not the unacknowledged window, another
 *                   role than s's;
 *  CL_ERR_LIMIT     the records do not fit s's replay buffer.
 * On an error s is unchanged.
 */
CL_WUR int cl_relay_session_restore(struct cl_relay_session *s,
                                    const struct cl_relay_session_config *cfg,
                                    const uint8_t *buf, size_t len);

/* The sticky error: CL_OK while the session has not failed; CL_ERR_ARG
 * when s is NULL. */
int cl_relay_session_error(const struct cl_relay_session *s);

/* The counters; NULL when s is NULL. */
const struct cl_relay_session_stats *cl_relay_session_stats(const struct cl_relay_session *s);

/* Bytes of the replay buffer in use: the sequenced messages sent (or
 * queued) that the peer has not acknowledged yet, with their record
 * headers (§8). 0 once everything is acknowledged, after a fresh session
 * discarded the buffer, and when s is NULL. */
size_t cl_relay_session_replay_used(const struct cl_relay_session *s);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_RELAY_SESSION_H */
