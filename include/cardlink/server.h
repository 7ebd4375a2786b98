/*
 * cardlink — the server side of every flow (docs/server.md).
 * SPDX-License-Identifier: Apache-2.0
 *
 * One struct cl_server per device connection, in caller memory (its size
 * is sizeof(struct cl_server): docs/server.md gives it; thousands fit in a
 * process). It holds a server-role relay session (cardlink/relay_session.h)
 * with its receive and replay buffers, and the flow being run. Each flow is
 * a small step machine with the shape of the device's jobs: it sends a
 * request, verifies the answer, and either sends the next request or is
 * done; the caller reads the outcome with cl_server_result().
 *
 * Sans-I/O, with the engine shape of cardlink/engine.h:
 *
 *   cl_server_init(&s); cl_server_setup(&s, &cfg);
 *   transport up:   cl_server_accept(&s, now)      (fresh token from the
 *                   crypto port's random)
 *   loop on cl_server_want(&s):
 *     SEND:  n = cl_server_pull(&s, now, &p); write k <= n; cl_server_sent(&s, k)
 *     DONE:  cl_server_poll(&s, &ev): OPEN, CARD_INSERTED / REMOVED, NOTIFY,
 *            FLOW_DONE (cl_server_result()), LINK_DEAD, CLOSED
 *     RECV:  used = cl_server_feed(&s, now, p, n); feed the rest after polling
 *     timer: cl_server_timer(&s, now) ms, then cl_server_timeout(&s, now)
 *   start a flow (OPEN session, no flow running): cl_server_apdu,
 *   cl_server_script, cl_server_purchase, cl_server_authenticate,
 *   cl_server_purse_pay, cl_server_load, cl_server_egoods_load.
 *
 * The flows decide with four ports: the ledger and the session store
 * (cardlink/ledger.h), the crypto backend (below: signature verification
 * and chain validation with a cache per card certificate, random, SHA-256,
 * the issuer's signing key) and the operator's catalogue. Time: the relay
 * session's millisecond counter `now` (uint32_t, may wrap), and wall-clock
 * seconds since 1970 from cfg->clock for certificates, the ledger's times
 * and the transaction time.
 *
 * Flows (docs/server.md says what the device does for each):
 *  - relay: one APDU or one SCRIPT, answered as the device answered it;
 *  - purchase: read the card's signing certificate and the issuer
 *    certificate (one SCRIPT; with cfg->cert_cache, GET BALANCE too, or
 *    GET BALANCE alone when the device's last card is cached and says
 *    that serial), validate for CL_CERT_ROLE_CARD_SIGN, ledger
 *    begin, TXN-APPROVE (PSO, PIN template), verify the signature over
 *    cl_txn_digest(txn, challenge), ledger commit;
 *  - authentication: the same with the authentication certificate (EF
 *    0101, CL_CERT_ROLE_CARD_AUTH) and INTERNAL AUTHENTICATE: the card signs
 *    SHA-256("CLIA" || serial || digest); no ledger; a wrong PIN (63Cx,
 *    tries left) is shown to the holder (DISPLAY "Wrong PIN / x tries
 *    left") and retried with a fresh id and challenge up to
 *    cfg->auth_tries attempts; the holder's cancel ends it DECLINED, not
 *    retried; with cfg->auth_block_after and the issuer key, a PIN the
 *    card says is exhausted (63C0, 6983) or the last wrong try blocks the
 *    card (GET CHALLENGE, the issuer-signed BLOCK 80 1E: result.blocked);
 *  - purse payment: GET BALANCE relayed with the certificates, ledger
 *    begin, TXN-APPROVE kind 6 (DEBIT), the CLRD receipt verified;
 *  - load: GET BALANCE, the CREDIT signed with the issuer key, sent as an
 *    APDU with the transaction id, the CLRC receipt verified; e-goods: the
 *    APPEND RECORD to SFI 4 signed with the issuer key.
 * A money-moving flow whose transaction id the ledger holds as decided is
 * answered from the ledger at once (result.recorded): nothing is sent.
 *
 * On a NULL context: int functions return CL_ERR_ARG, want() CL_WANT_FAILED,
 * pull() 0, timer() CL_TIMER_NONE, poll() false, result() NULL.
 */
#ifndef CARDLINK_SERVER_H
#define CARDLINK_SERVER_H

#include "cardlink/defs.h"
#include "cardlink/cert.h"
#include "cardlink/engine.h"
#include "cardlink/ledger.h"
#include "cardlink/relay_msg.h"
#include "cardlink/relay_session.h"
#include "cardlink/txn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Receive buffer: the largest message accepted from a device (a SCRIPT-
 * RESULT with two certificates read in 256-byte pieces fits). */
#ifndef CL_SERVER_RX_MAX
#define CL_SERVER_RX_MAX 3072u
#endif
/* Replay buffer: the requests sent and not yet acknowledged. */
#ifndef CL_SERVER_REPLAY_MAX
#define CL_SERVER_REPLAY_MAX 1536u
#endif
/* Largest card certificate (and issuer certificate) read from a card:
 * 4 READ BINARY of 256 bytes. */
#ifndef CL_SERVER_CERT_MAX
#define CL_SERVER_CERT_MAX 1024u
#endif
/* Signature / receipt kept from a card's answer. */
#define CL_SERVER_SIG_MAX 128u
/* Built card command (CREDIT, e-goods APPEND RECORD). */
#define CL_SERVER_APDU_MAX 160u
#define CL_SERVER_SERIAL_LEN 8u
#define CL_SERVER_CHALLENGE_LEN 16u
/* e-goods payload: 16..64 bytes, starting with its 16-byte id. */
#define CL_SERVER_EGOODS_MIN 16u
#define CL_SERVER_EGOODS_MAX 64u

/* ------------------------------------------------------------ ports */

/*
 * The crypto backend. Each callback takes ctx first and does not block for
 * long. Implementations: cl_server_crypto_cert_init() (lib/cert, mbedtls)
 * below, ports/posix/server_crypto_openssl.h (OpenSSL; the reference
 * server's).
 *
 * random: fill out[0..len) with unpredictable bytes (tokens, challenges,
 *   transaction ids). CL_OK, or CL_ERR_CRYPTO.
 * sha256: out = SHA-256(data[0..len)). CL_OK, or CL_ERR_CRYPTO.
 * verify: validate chain[0..n) (leaf first) against the backend's trust
 *   anchors at `now_s` (seconds since 1970) for `role` (enum
 *   cl_cert_role), as cl_cert_verify_chain does (the same rules); a
 *   backend keeps a cache keyed by the leaf's SHA-256 fingerprint and the
 *   role, so a card seen before costs no chain validation. Then, when sig
 *   is not NULL, verify the ECDSA signature sig[0..sig_len) (DER) over
 *   digest[0..32) with the leaf's key. Returns CL_OK, the errors of
 *   cl_cert_verify_chain (CL_ERR_CERT_*, CL_ERR_SIGNATURE for a forged
 *   certificate), CL_ERR_SIGNATURE (sig does not verify), CL_ERR_CRYPTO.
 * issuer_sign: sign digest[0..32) with the card issuer's key (purse credits
 *   and e-goods, docs/applet.md): a DER ECDSA signature into sig[0..size),
 *   its length in *len. CL_OK, CL_ERR_BUFFER, CL_ERR_CRYPTO. NULL: the
 *   server holds no issuer key (load flows answer CL_ERR_UNSUPPORTED).
 * gate_sign: sign digest[0..32) with the server's gate key (ACTUATE,
 *   docs/protocol.md §5.14; a key of its own, which devices trust for
 *   their actuators and nothing else), as issuer_sign. NULL: no gate key
 *   (cl_server_gate answers CL_ERR_UNSUPPORTED).
 */
struct cl_server_crypto {
    int (*random)(void *ctx, uint8_t *out, size_t len);
    int (*sha256)(void *ctx, const uint8_t *data, size_t len, uint8_t out[32]);
    int (*verify)(void *ctx, const struct cl_cert_der *chain, size_t n, uint8_t role,
                  uint64_t now_s, const uint8_t digest[32], const uint8_t *sig, size_t sig_len);
    int (*issuer_sign)(void *ctx, const uint8_t digest[32], uint8_t *sig, size_t size,
                       size_t *len);
    int (*gate_sign)(void *ctx, const uint8_t digest[32], uint8_t *sig, size_t size,
                     size_t *len);
    void *ctx;
};

/* One catalogue item (the operator's product list). */
struct cl_server_item {
    char desc[2 * CL_TXN_ITEM_MAX + 1];   /* as cl_txn_item.desc */
    uint64_t price;                       /* minor units */
    uint16_t currency;                    /* ISO 4217 numeric */
    uint8_t exponent;
};

/* The catalogue: item(ctx, code, out) -> CL_OK, or CL_ERR_NOT_FOUND. */
struct cl_server_catalogue {
    int (*item)(void *ctx, uint32_t code, struct cl_server_item *out);
    void *ctx;
};

/* ------------------------------------------------------------ certificate cache */

/*
 * The certificates a card showed, kept so that its next flow need not read
 * them again (docs/server.md "Certificate cache"). Caller memory, shared by
 * every context whose config points at it (one thread: the contexts of one
 * process loop), CL_SERVER_CERT_CACHE_SLOTS entries replaced least recently
 * used first. An entry is keyed by the card's purse serial (GET BALANCE)
 * and the certificate role, holds the chain [leaf, issuer] as the card gave
 * it, and names the device the card was last seen on. It is written only
 * after a flow whose signature (or receipt) verified with that chain; the
 * chain is still validated through the crypto port on every use. Holds no
 * secret. Do not touch the fields.
 */
#ifndef CL_SERVER_CERT_CACHE_SLOTS
#define CL_SERVER_CERT_CACHE_SLOTS 8u
#endif

struct cl_server_cert_entry {
    bool used;
    uint8_t role;                  /* enum cl_cert_role */
    uint8_t serial[CL_SERVER_SERIAL_LEN];
    uint8_t device_id_len;         /* 0: no device would try it first */
    uint16_t leaf_len, issuer_len;
    uint32_t stamp;                /* last use (LRU) */
    uint8_t device_id[CL_LEDGER_DEVICE_ID_MAX];
    uint8_t leaf[CL_SERVER_CERT_MAX];
    uint8_t issuer[CL_SERVER_CERT_MAX];
};

struct cl_server_cert_cache {
    uint32_t clock;                /* LRU counter */
    uint32_t hits;                 /* flows run without reading certificates */
    uint32_t misses;               /* flows that read them (also after a wrong guess:
                                    * once per flow, so hits + misses = flows) */
    struct cl_server_cert_entry e[CL_SERVER_CERT_CACHE_SLOTS];
};

/* Empty c. Does nothing when c is NULL. Cannot fail. */
void cl_server_cert_cache_init(struct cl_server_cert_cache *c);

/* ------------------------------------------------------------ config */

/* Configuration; must outlive every context that uses it. */
struct cl_server_config {
    const struct cl_ledger *ledger;        /* required for the money flows */
    void *ledger_ctx;
    const struct cl_session_store *sessions;  /* may be NULL (see docs/server.md) */
    void *sessions_ctx;
    const struct cl_server_crypto *crypto; /* required */
    const struct cl_server_catalogue *catalogue;  /* may be NULL */
    uint64_t (*clock)(void *ctx);          /* wall clock, seconds since 1970; required */
    void *clock_ctx;
    const char *merchant;                  /* the payee of catalogue purchases */
    uint8_t auth_tries;                    /* authentication attempts; 0 = 3 */
    uint8_t auth_block_after;              /* failure policy of the authentication
                                           * flow (docs/server.md): 0 never blocks;
                                           * N > 0 (with crypto->issuer_sign) blocks
                                           * the card when its PIN is exhausted
                                           * (63C0, 6983) or after min(N,
                                           * auth_tries) wrong PINs in one flow */
    uint16_t keepalive_s;                  /* relay: K in HELLO-ACK; 0 = none */
    struct cl_server_cert_cache *cert_cache;  /* may be NULL: certificates are
                                           * read on every flow (below) */
};

/* ------------------------------------------------------------ results */

enum cl_server_flow {
    CL_SERVER_FLOW_NONE = 0,
    CL_SERVER_FLOW_RELAY = 1,      /* cl_server_apdu, cl_server_script */
    CL_SERVER_FLOW_PURCHASE = 2,
    CL_SERVER_FLOW_AUTH = 3,
    CL_SERVER_FLOW_PURSE = 4,      /* purse payment (DEBIT) */
    CL_SERVER_FLOW_LOAD = 5,       /* e-money load (CREDIT) */
    CL_SERVER_FLOW_EGOODS = 6,     /* e-goods load (APPEND RECORD SFI 4) */
    CL_SERVER_FLOW_GATE = 7        /* one authorised action (ACTUATE, cl_server_gate) */
};

/* The ledger kind of a gate row (outside enum cl_txn_kind); its currency
 * is 999 (ISO 4217: no currency), its amount 0. */
#define CL_SERVER_LEDGER_GATE 0x40u

/* What a flow ended with (cl_server_result, after FLOW_DONE). */
struct cl_server_result {
    uint8_t flow;                  /* enum cl_server_flow */
    uint8_t outcome;               /* enum cl_ledger_outcome: APPROVED (relay:
                                    * the device answered), DECLINED (the
                                    * holder said no), FAILED */
    int err;                       /* CL_OK when APPROVED; why otherwise:
                                    * CL_ERR_CANCELLED (declined), CL_ERR_SW
                                    * (sw), CL_ERR_SIGNATURE, CL_ERR_CERT_*,
                                    * CL_ERR_DUPLICATE (the ledger holds the id
                                    * still PENDING, or for another
                                    * transaction; e-goods: the item is paid
                                    * already), CL_ERR_AGAIN (e-goods: another
                                    * delivery to the card is PENDING), the device's ERROR
                                    * (cl_relay_err_from_wire), CL_ERR_CLOSED,
                                    * a port's error */
    bool recorded;                 /* answered from the ledger: nothing sent */
    uint16_t sw;                   /* the card's failing status word, or 0 */
    uint8_t tries;                 /* authentication: attempts made */
    bool blocked;                  /* authentication FAILED and the failure
                                    * policy blocked the card (its BLOCK
                                    * answered 9000); err, sw stay the PIN's */
    uint8_t gate;                  /* flow GATE only: the ACTUATE-RESULT code
                                    * (CL_RELAY_GATE_*), CL_RELAY_NONE when none came */
    uint8_t txn_id[CL_TXN_ID_LEN];
    uint8_t account[CL_LEDGER_ACCOUNT_MAX];   /* the ledger account */
    uint8_t account_len;
    uint8_t serial[CL_SERVER_SERIAL_LEN];     /* card serial, when read */
    uint32_t balance, counter;     /* purse flows: the purse after, from the
                                    * verified receipt */
    const struct cl_relay_msg *answer;  /* relay: the device's answer
                                    * (APDU-RESPONSE, SCRIPT-RESULT or ERROR),
                                    * valid until the next feed */
};

enum cl_server_event_kind {
    CL_SERVER_EV_NONE = 0,
    CL_SERVER_EV_OPEN,             /* session (re)established; resumed says which */
    CL_SERVER_EV_CARD_INSERTED,    /* msg: CARD-INSERTED */
    CL_SERVER_EV_CARD_REMOVED,
    CL_SERVER_EV_NOTIFY,           /* another notification or ERROR without REF */
    CL_SERVER_EV_FLOW_DONE,        /* cl_server_result() holds the outcome */
    CL_SERVER_EV_LINK_DEAD,        /* drop the transport (the session is kept) */
    CL_SERVER_EV_CLOSED            /* err: why (CL_OK for a normal CLOSE) */
};

struct cl_server_event {
    uint8_t kind;                  /* enum cl_server_event_kind */
    bool resumed;
    int err;
    const struct cl_relay_msg *msg;   /* valid until the next feed */
};

/* ------------------------------------------------------------ engine */

/* The context. Caller-allocated; do not touch the fields. */
struct cl_server {
    uint8_t flow, step, outcome;
    bool ev_pending, has_pin, recorded_done;
    uint8_t tries;
    uint8_t role;                  /* the certificate role of the flow */
    uint8_t device_id_len;
    bool cheap;                    /* the READ script is GET BALANCE alone */
    uint16_t leaf_len, issuer_len, sig_len, apdu_len;
    uint16_t sw;
    int err;
    const struct cl_server_config *cfg;
    struct cl_relay_session_config rcfg;
    uint32_t balance, counter;     /* from GET BALANCE */
    uint16_t currency;
    bool have_balance;
    uint8_t serial[CL_SERVER_SERIAL_LEN];
    uint8_t device_id[CL_LEDGER_DEVICE_ID_MAX];
    uint8_t challenge[CL_SERVER_CHALLENGE_LEN];
    uint8_t egoods[CL_SERVER_EGOODS_MAX];
    uint8_t egoods_len;
    struct cl_relay_pin pin;       /* PIN template; apdu points into pin_apdu */
    uint8_t pin_apdu[32];
    struct cl_server_event ev;
    struct cl_server_result res;
    struct cl_txn txn;             /* the transaction of the flow */
    uint8_t leaf[CL_SERVER_CERT_MAX];
    uint8_t issuer[CL_SERVER_CERT_MAX];
    uint8_t apdu[CL_SERVER_APDU_MAX];
    struct {                       /* the gate's authorisation (server_gate.c) */
        bool have;                 /* one was signed in this context */
        uint16_t action;
        uint32_t not_before, not_after;
        uint8_t nonce[CL_RELAY_GATE_NONCE_LEN];
        uint8_t sig_len;
        uint8_t sig[CL_RELAY_GATE_SIG_MAX];
    } gate;
    /* session store (docs/server.md "Session store") */
    bool persist;                  /* a snapshot of this session is in cfg->sessions */
    uint8_t snap_token_len;
    uint32_t snap_key;             /* what the last snapshot saw */
    uint32_t restores;             /* sessions taken over from the store */
    uint32_t restore_failures;     /* snapshots found but refused */
    uint32_t save_failures;        /* snapshots that could not be saved */
    uint8_t snap_token[CL_RELAY_TOKEN_MAX];
    struct cl_relay_session rs;
    uint8_t rx[CL_SERVER_RX_MAX];
    uint8_t rb[CL_SERVER_REPLAY_MAX];
};

/* Zero s. Does nothing when s is NULL. Cannot fail. */
void cl_server_init(struct cl_server *s);

/*
 * Set s up for one connection with cfg (which must outlive s). Returns
 * CL_OK, or CL_ERR_ARG (s or cfg NULL, cfg->crypto, its random, sha256
 * or verify, or cfg->clock NULL). On an error s is as after init().
 */
CL_WUR int cl_server_setup(struct cl_server *s, const struct cl_server_config *cfg);

/* Wipe s (session token, certificates, the flow). NULL does nothing. */
void cl_server_free(struct cl_server *s);

/*
 * The transport is up: wait for HELLO under a fresh 16-byte token from
 * cfg->crypto->random (a HELLO with this context's current token and
 * device id resumes the session held). Returns CL_OK, CL_ERR_CRYPTO (no
 * random), or the errors of cl_relay_server_accept.
 */
CL_WUR int cl_server_accept(struct cl_server *s, uint32_t now);

/* Whether HELLO h resumes the session s holds (cl_relay_server_resumes):
 * for a server that keeps one context per device, to find the context a
 * HELLO belongs to. False on NULL. */
bool cl_server_resumes(const struct cl_server *s, const struct cl_relay_hello *h);

/* The transport was lost (cl_relay_session_disconnect); a running flow
 * keeps waiting for its answer, which comes after a resumption. */
void cl_server_disconnect(struct cl_server *s, uint32_t now);

/* DONE while an event waits, else the relay session's want(). */
enum cl_want cl_server_want(const struct cl_server *s);

/*
 * The device's bytes. Processes messages until one raises an event for
 * the caller (then want() is DONE: poll it, then feed the rest), and runs
 * the flow on each answer (verifications, ledger, the next request).
 * Returns the bytes used (0 while an event waits), or the relay session's
 * errors (cl_relay_session_feed; a running flow then ends FAILED with that
 * error, reported by a FLOW_DONE event).
 */
CL_WUR int cl_server_feed(struct cl_server *s, uint32_t now, const uint8_t *in, size_t len);

/* Take the waiting event: true when there was one. */
bool cl_server_poll(struct cl_server *s, struct cl_server_event *ev);

/* As cl_relay_session_pull / _sent. */
size_t cl_server_pull(struct cl_server *s, uint32_t now, const uint8_t **p);
CL_WUR int cl_server_sent(struct cl_server *s, size_t n);

/* As cl_relay_session_timer / _timeout (a LINK_DEAD becomes an event). */
uint32_t cl_server_timer(const struct cl_server *s, uint32_t now);
CL_WUR int cl_server_timeout(struct cl_server *s, uint32_t now);

/* Close the session (cl_relay_session_close); a running flow ends FAILED
 * with CL_ERR_CLOSED. */
CL_WUR int cl_server_close(struct cl_server *s, uint32_t now, uint8_t reason);

/* The last flow's result (flow NONE before any ended); NULL when s is NULL. */
const struct cl_server_result *cl_server_result(const struct cl_server *s);

/* The running flow (enum cl_server_flow; NONE when idle). */
uint8_t cl_server_flow(const struct cl_server *s);

/* The relay session inside s, for its accessors (state, stats, token). */
const struct cl_relay_session *cl_server_session(const struct cl_server *s);

/* ------------------------------------------------------------ session store */

/*
 * Snapshot of the context: the relay session (cl_relay_session_save) and
 * the running flow, any flow at any step (its step, attempts,
 * transaction, challenge, PIN template, certificates, purse reading,
 * ledger account, the card command or BLOCK), and the gate's signed
 * authorisation when one is held (action, window, nonce, signature: a
 * resent ACTUATE is the same bytes), enough to finish the flow when the
 * device's answer comes after a resumption in another process
 * (docs/server.md, "Session store", gives the format: version 2). It
 * holds the resume token: a secret. *len receives the size, also when buf
 * is too small (at most CL_SERVER_SNAPSHOT_MAX).
 * Returns CL_OK, or CL_ERR_ARG (s or len NULL, s not set up, buf NULL with
 * size > 0), CL_ERR_STATE (no relay session held), CL_ERR_BUFFER (size
 * too small), the errors of cl_txn_encode (a flow's transaction).
 *
 * With cfg->sessions the context does this itself: it saves (under the
 * session's token and the device id) as soon as a flow waits for an answer
 * that changes the ledger (TXN-APPROVE of a purchase or purse payment, the
 * CREDIT or e-goods command, the gate's ACTUATE), and from then on before anything more goes
 * out whenever the snapshot is out of date; a fresh context whose
 * HELLO names a token it does not hold looks the token up (find, with the
 * device id) and, when found, restores it and answers HELLO-ACK RESUMED:
 * the flow finishes, the ledger committed once, when the answer comes
 * (replayed by the device). The saved session is dropped when the session
 * ends (CLOSE, either side). The store's failures do not stop a flow.
 */
#define CL_SERVER_SNAPSHOT_MAX                                                \
    (64u + 2u * CL_SERVER_CERT_MAX + CL_SERVER_APDU_MAX + CL_TXN_ENCODED_MAX +  \
     CL_SERVER_EGOODS_MAX + 2u * 32u + 48u + 128u + CL_SERVER_REPLAY_MAX +       \
     2u * CL_RELAY_WINDOW_MAX + 11u + CL_RELAY_GATE_NONCE_LEN +                \
     CL_RELAY_GATE_SIG_MAX)
CL_WUR int cl_server_save(const struct cl_server *s, uint8_t *buf, size_t size, size_t *len);

/*
 * Replace the session and flow s holds with snapshot buf[0..len) (made by
 * cl_server_save, format 2 or the older 1; s set up with its config). The
 * relay session is SUSPENDED: cl_server_accept() and the device's resuming
 * HELLO continue it. Reads nothing outside buf[0..len).
 * Returns CL_OK, or CL_ERR_ARG (s NULL or not set up, buf NULL with
 * len > 0), CL_ERR_MALFORMED (not a snapshot of these formats: wrong
 * magic or version, truncated, trailing bytes, a field out of range (a
 * step that is not the flow's, attempts, status word, BLOCK command or
 * gate window that the flow cannot be in), a transaction that does not
 * decode or is not the flow's; or the relay part's,
 * cl_relay_session_restore), CL_ERR_LIMIT (the relay part's).
 * On an error s is unchanged.
 */
CL_WUR int cl_server_restore(struct cl_server *s, const uint8_t *buf, size_t len);

/* ------------------------------------------------------------ flows */
/*
 * Errors common to the flow starters: CL_ERR_ARG (NULL pointer, a value
 * out of range), CL_ERR_STATE (no open session, or a flow is running),
 * CL_ERR_UNSUPPORTED (a port the flow needs is missing), CL_ERR_CRYPTO
 * (random failed), the errors of cl_relay_session_send. When the flow
 * could not start nothing was sent and no event comes. A flow that
 * starts may end at once (answered from the ledger): FLOW_DONE is then
 * waiting when the starter returns.
 */

/* Relay one command APDU (cl_apdu syntax, at most CL_SERVER_APDU_MAX
 * bytes) with an optional 16-byte transaction id (txn_id NULL: none).
 * The device applies its policy; result.answer is its APDU-RESPONSE or
 * ERROR. */
CL_WUR int cl_server_apdu(struct cl_server *s, uint32_t now, const uint8_t *apdu, size_t len,
                          const uint8_t *txn_id);

/* Relay one SCRIPT (cl_server_script_parse makes one from text); the data
 * it points to is encoded at once and need not outlive the call.
 * result.answer is the SCRIPT-RESULT or ERROR. */
CL_WUR int cl_server_script(struct cl_server *s, uint32_t now,
                            const struct cl_relay_script *script);

/*
 * The cardlink applet's VERIFY template, the one the flows use when their
 * pin argument is NULL: 00 20 00 80 08 24 FF FF FF FF FF FF FF, ISO 9564
 * format 2 at offset 0, 4..12 digits (its apdu points at static data).
 * Pass it to cl_server_authenticate to have the PIN checked. Cannot fail.
 */
struct cl_relay_pin cl_server_pin_cardlink(void);

/*
 * Card-present purchase of txn (kind PURCHASE; id, amount, currency,
 * time, payee filled by the caller, or by cl_server_txn_from_catalogue).
 * pin: the VERIFY template sent with TXN-APPROVE (NULL: the cardlink
 * applet's, 00 20 00 80 08 24 FF.. ISO 9564 format 2, 4..12 digits). The
 * ledger account is the SHA-256 fingerprint of the card's signing
 * certificate; the amount is charged (negative).
 * Also CL_ERR_ARG: txn invalid (cl_txn_check), its kind not PURCHASE, no
 * amount or an amount of 0.
 */
CL_WUR int cl_server_purchase(struct cl_server *s, uint32_t now, const struct cl_txn *txn,
                              const struct cl_relay_pin *pin);

/*
 * Authentication (challenge-response) with txn (kind AUTHENTICATION, its
 * id a fresh one is drawn for each retry when the first fails). pin: a
 * VERIFY template, or NULL (INTERNAL AUTHENTICATE needs none).
 */
CL_WUR int cl_server_authenticate(struct cl_server *s, uint32_t now, const struct cl_txn *txn,
                                  const struct cl_relay_pin *pin);

/* Purse payment of txn (kind PURSE_PAYMENT, amount 1..2^32-1, an ASCII
 * payee). pin as cl_server_purchase (DEBIT needs the PIN). Account: the
 * card serial. */
CL_WUR int cl_server_purse_pay(struct cl_server *s, uint32_t now, const struct cl_txn *txn,
                               const struct cl_relay_pin *pin);

/* Load amount (1..2^32-1) onto the card's purse under txn_id (16 bytes).
 * Account: the card serial; the currency is the purse's. */
CL_WUR int cl_server_load(struct cl_server *s, uint32_t now, const uint8_t txn_id[16],
                          uint32_t amount);

/* Load an e-goods record payload[0..len) (16..64 bytes, its first 16 the
 * item's id) under txn_id, with amount (minor units, >= 0) and currency
 * recorded in the ledger; an APPROVED row keeps the payload as its
 * receipt. A card that already holds the id (6A89) got it from an earlier
 * transaction, and the item is charged once: the ledger's rows of the
 * card (list_txns, so the ledger must have it: CL_ERR_UNSUPPORTED
 * otherwise) decide. An APPROVED e-goods row with this item id: FAILED,
 * CL_ERR_DUPLICATE (paid already). Another e-goods row of the card still
 * PENDING (it may be the delivery, its answer may still come): FAILED,
 * CL_ERR_AGAIN (try again once it is decided). Neither: APPROVED (the
 * delivery's own transaction ended without charging). sw is 6A89 in both
 * failures. */
CL_WUR int cl_server_egoods_load(struct cl_server *s, uint32_t now, const uint8_t txn_id[16],
                                 const uint8_t *payload, size_t len, uint64_t amount,
                                 uint16_t currency);

/*
 * Fill txn as a purchase of qty (1..9999) of catalogue item `code`, payee
 * cfg->merchant, time from cfg->clock, a fresh id from cfg->crypto.
 * Returns CL_OK, CL_ERR_ARG, CL_ERR_UNSUPPORTED (no catalogue or
 * merchant), CL_ERR_NOT_FOUND (no such item), CL_ERR_OVERFLOW (price x qty
 * above CL_TXN_AMOUNT_MAX), CL_ERR_CRYPTO, or the errors of cl_txn_check.
 */
CL_WUR int cl_server_txn_from_catalogue(const struct cl_server_config *cfg, uint32_t code,
                                        unsigned qty, struct cl_txn *txn);

/*
 * The gate (docs/server.md "Gate"): authorise one action of the device,
 * `action` (1..65535), valid from `now_s - 30` to `now_s + validity_s`
 * (validity_s 1..3600; now_s from cfg->clock), bound to the device's id
 * from its HELLO, with a fresh 16-byte nonce, signed with the gate key
 * (cfg->crypto->gate_sign), sent as ACTUATE under a fresh transaction id;
 * recorded in the ledger when there is one (kind CL_SERVER_LEDGER_GATE,
 * account the authenticated card's, the receipt: result, nonce, window,
 * signature). The flow must directly follow a successful authentication
 * in this context (cl_server_result: flow AUTH, APPROVED): one
 * authentication, one action. result.gate is the device's result code;
 * outcome APPROVED (DONE), DECLINED (the device refused: err
 * CL_ERR_DENIED) or FAILED (ACTUATOR_FAILED: CL_ERR_IO; an ERROR answer,
 * the link).
 * Also CL_ERR_STATE (no authentication just before, or no device id);
 * CL_ERR_UNSUPPORTED (no gate_sign); the ledger's and gate_sign's errors.
 */
CL_WUR int cl_server_gate(struct cl_server *s, uint32_t now, uint16_t action,
                          uint32_t validity_s);

/*
 * For tests and demonstrations of the device's single-use check: send the
 * last authorisation this context signed again, the same signed bytes
 * (nonce, window, signature) under a fresh transaction id, as a gate flow
 * of its own. A device that acted on it answers REPLAYED. Needs no new
 * authentication (it authorises nothing new).
 * Also CL_ERR_STATE (no authorisation signed in this context).
 */
CL_WUR int cl_server_gate_again(struct cl_server *s, uint32_t now);

/* ------------------------------------------------------------ script files */

/*
 * Parse one script of the reference server's script file format
 * (docs/server.md, "Script files") from text[0..len): lines up to a line
 * "." or the end of the text. Each step line is a command APDU in hex
 * (spaces allowed), optionally followed by "sw=XXXX", "sw=XXXX/MMMM",
 * "sw=any" and "swonly"; "continue" on a line of its own sets the
 * SCRIPT's CONTINUE option; '#' starts a comment. The APDU bytes go to
 * buf[0..size) and out's steps point there. *used receives the bytes of
 * text consumed (the next script starts there), *line (may be NULL) the
 * 1-based line of an error.
 * Returns CL_OK; CL_ERR_NOT_FOUND (no step before the end: the file is
 * done); CL_ERR_MALFORMED (a bad token, odd hex, a bad SW); CL_ERR_BUFFER
 * (buf too small); CL_ERR_TOO_LONG (more than CL_RELAY_SCRIPT_MAX steps);
 * CL_ERR_ARG (NULL pointers).
 */
CL_WUR int cl_server_script_parse(const char *text, size_t len, struct cl_relay_script *out,
                                  uint8_t *buf, size_t size, size_t *used, unsigned *line);

/* ------------------------------------------------------------ lib/cert backend */

#ifndef CL_SERVER_CACHE_SLOTS
#define CL_SERVER_CACHE_SLOTS 8u
#endif

/* One cached validated chain (lib/cert backend). */
struct cl_server_cache_slot {
    uint8_t fp[CL_CERT_FINGERPRINT_LEN];
    uint8_t role;
    bool used;
    uint64_t at;                   /* validated at (seconds) */
    struct cl_cert cert;
};

/*
 * The crypto backend over lib/cert (mbedtls): chain validation with
 * cl_cert_verify_chain against roots[0..n_roots) (which must outlive it),
 * a cache of CL_SERVER_CACHE_SLOTS validated chains keyed by fingerprint
 * and role (an entry is validated again after ttl_s seconds, 0 = 3600, or
 * once a certificate of its chain has expired: cl_cert_valid_until()),
 * signatures with cl_cert_verify_digest, SHA-256 with cl_sha256. It has no
 * random of its own (rnd, rnd_ctx: the caller's) and no issuer key
 * (issuer_sign NULL). Only in builds with mbedtls.
 */
struct cl_server_crypto_cert {
    const struct cl_cert_der *roots;
    size_t n_roots;
    uint64_t ttl_s;
    int (*rnd)(void *ctx, uint8_t *out, size_t len);
    void *rnd_ctx;
    size_t next;
    uint32_t hits, misses;         /* cache statistics */
    struct cl_server_cache_slot slots[CL_SERVER_CACHE_SLOTS];
};

/* Set up c and point port at it. Returns CL_OK or CL_ERR_ARG (NULL
 * c, port or rnd, roots NULL with n_roots > 0). */
CL_WUR int cl_server_crypto_cert_init(struct cl_server_crypto_cert *c,
                                      struct cl_server_crypto *port,
                                      const struct cl_cert_der *roots, size_t n_roots,
                                      uint64_t ttl_s,
                                      int (*rnd)(void *ctx, uint8_t *out, size_t len),
                                      void *rnd_ctx);

/* Release c's cached chains. NULL does nothing. */
void cl_server_crypto_cert_free(struct cl_server_crypto_cert *c);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_SERVER_H */
