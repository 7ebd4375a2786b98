/*
 * cardlink — the server's ledger and session store (porting interfaces of
 * the server side; docs/porting.md, "Stores").
 * SPDX-License-Identifier: Apache-2.0
 *
 * The ledger holds every money-moving transaction under its 16-byte
 * transaction id (docs/protocol.md §9) as a unique key: begin() records it
 * once, so a retried message (the same id, in any session, on any server
 * node that shares the ledger) finds the recorded transaction and its
 * outcome and never charges or loads twice; commit() records the outcome
 * once, with the signature or receipt that proves it, and moves the
 * account's balance in the same database transaction. get() and the
 * listings serve the operator's command line (transactions, balances,
 * devices).
 *
 * The session store keeps the server's side of each relay session that may
 * be resumed (§8) by resume token, bound to the device id that opened it:
 * find() needs both, so a leaked token cannot resume another device's
 * session. Ports compare the token in constant time (they look a session
 * up by device id and compare the token's bytes with no early exit).
 *
 * Ports: ports/posix/ledger_sqlite.h (SQLite, one file, both interfaces).
 * Every callback takes the port's ctx first, blocks until the store
 * answers (a busy database is waited for up to the port's time-out) and is
 * safe to call from several processes on one database; one ctx is not for
 * two threads at once. Every write is atomic: a crash leaves it done or
 * not done. Errors common to all: CL_ERR_ARG (a NULL pointer, a length or
 * value outside its documented range), CL_ERR_TIMEOUT (the database stayed
 * locked by another writer past the time-out: nothing changed), CL_ERR_IO
 * (the database failed: nothing changed).
 */
#ifndef CARDLINK_LEDGER_H
#define CARDLINK_LEDGER_H

#include "cardlink/defs.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CL_LEDGER_TXN_ID_LEN 16u      /* = CL_RELAY_TXN_ID_LEN, CL_TXN_ID_LEN */
#define CL_LEDGER_DEVICE_ID_MAX 32u   /* device id: HELLO field 81, 1..32 bytes */
#define CL_LEDGER_ACCOUNT_MAX 32u     /* account (a card's id): 1..32 bytes */
#define CL_LEDGER_TOKEN_MAX 32u       /* resume token: 1..32 bytes (= CL_RELAY_TOKEN_MAX) */
#define CL_LEDGER_AMOUNT_MAX 999999999999999999LL   /* |amount| bound, minor units (10^18 - 1) */

/* Largest signature or receipt kept with an outcome (a TXN-RESULT
 * signature is at most 512 bytes; a receipt may add a certificate). */
#ifndef CL_LEDGER_RECEIPT_MAX
#define CL_LEDGER_RECEIPT_MAX 2048u
#endif

/* Largest saved session: the server's snapshot of a relay session (its
 * replay buffer included) and the flow being run; the format is lib/server's. */
#ifndef CL_LEDGER_SESSION_MAX
#define CL_LEDGER_SESSION_MAX 16384u
#endif

/* A transaction's outcome. PENDING until commit(). */
enum cl_ledger_outcome {
    CL_LEDGER_PENDING = 0,
    CL_LEDGER_APPROVED = 1,   /* the card signed, the server verified: the balance moved */
    CL_LEDGER_DECLINED = 2,   /* the holder or the server said no */
    CL_LEDGER_FAILED = 3      /* the card, the link or a check failed */
};

/* begin()'s answers (non-negative). */
enum cl_ledger_begin {
    CL_LEDGER_NEW = 0,        /* recorded now, PENDING: run the transaction */
    CL_LEDGER_ALREADY = 1     /* recorded before: *out is the record (its outcome
                               * may still be PENDING: ask the device, §9) */
};

/* One transaction. */
struct cl_ledger_txn {
    uint8_t id[CL_LEDGER_TXN_ID_LEN];
    uint8_t device_id[CL_LEDGER_DEVICE_ID_MAX];
    uint8_t device_id_len;            /* 1..CL_LEDGER_DEVICE_ID_MAX */
    uint8_t account[CL_LEDGER_ACCOUNT_MAX];
    uint8_t account_len;              /* 1..CL_LEDGER_ACCOUNT_MAX */
    uint8_t kind;                     /* enum cl_txn_kind (cardlink/txn.h), 1..255 */
    uint16_t currency;                /* ISO 4217 numeric, 1..999 */
    int64_t amount;                   /* minor units, signed as it moves the account
                                       * on APPROVED: a load +, a purchase -;
                                       * |amount| <= CL_LEDGER_AMOUNT_MAX */
    uint64_t created;                 /* the caller's clock (e.g. Unix ms) at begin() */
    /* set by the ledger (ignored by begin()) */
    uint8_t outcome;                  /* enum cl_ledger_outcome */
    uint64_t decided;                 /* the commit's time; 0 while PENDING */
    uint16_t receipt_len;             /* 0..CL_LEDGER_RECEIPT_MAX; what lib/server
                                       * keeps: the card's signature or receipt,
                                       * an e-goods delivery's payload (its
                                       * first 16 bytes the item id) */
    uint8_t receipt[CL_LEDGER_RECEIPT_MAX];
};

/* An account's balance in one currency. */
struct cl_ledger_balance {
    uint8_t account[CL_LEDGER_ACCOUNT_MAX];
    uint8_t account_len;
    uint16_t currency;
    int64_t balance;                  /* minor units */
    uint32_t txns;                    /* APPROVED transactions that moved it */
    uint64_t updated;                 /* time of the last one */
};

/* A device the ledger has seen (begin() and session_save() record it). */
struct cl_ledger_device {
    uint8_t id[CL_LEDGER_DEVICE_ID_MAX];
    uint8_t id_len;
    uint64_t first_seen, last_seen;   /* the callers' clock */
    uint32_t txns;                    /* transactions begun */
};

/* What list_txns() lists: zero fields mean "any". */
struct cl_ledger_filter {
    const uint8_t *device_id;         /* NULL: every device */
    size_t device_id_len;
    const uint8_t *account;           /* NULL: every account */
    size_t account_len;
    uint32_t limit;                   /* 0: no limit */
};

/* A listing's callback: called once per row, newest first for
 * transactions, by account and currency for balances, by id for devices.
 * The row is valid only during the call. Return 0 to go on, anything else
 * to stop the listing (which then returns that value). */
typedef int (*cl_ledger_txn_cb)(void *arg, const struct cl_ledger_txn *t);
typedef int (*cl_ledger_balance_cb)(void *arg, const struct cl_ledger_balance *b);
typedef int (*cl_ledger_device_cb)(void *arg, const struct cl_ledger_device *d);

/*
 * begin: record t (id, device_id, account, kind, currency, amount,
 *   created; the rest ignored) as PENDING unless its id is known.
 *   Returns CL_LEDGER_NEW, or CL_LEDGER_ALREADY with *out the record as it
 *   stands (the first begin's fields and the outcome if committed); exactly
 *   one of any number of concurrent begin() calls with one id gets NEW.
 *   CL_ERR_DUPLICATE: the id is known with other fields (device, account,
 *   kind, currency or amount differ): not a retry but another transaction
 *   reusing the id; *out is the recorded one, nothing changed.
 *   CL_ERR_ARG for a field out of range (device_id_len, account_len 0 or
 *   too long, kind 0, currency 0 or > 999, |amount| too large).
 *   out may be NULL (then ALREADY/DUPLICATE say only that).
 * commit: record the outcome (APPROVED, DECLINED or FAILED; not PENDING:
 *   CL_ERR_ARG) of a PENDING transaction with receipt[0..len) (len <=
 *   CL_LEDGER_RECEIPT_MAX, receipt NULL iff len 0) at time now; on APPROVED
 *   the account's balance in the currency moves by amount, in the same
 *   database transaction. Returns CL_OK; CL_OK too when the transaction
 *   already has this outcome and receipt (a retried commit changes
 *   nothing); CL_ERR_NOT_FOUND (id never begun); CL_ERR_STATE (already
 *   decided otherwise: nothing changed); CL_ERR_OVERFLOW (the balance
 *   would leave the int64 range: nothing changed).
 * get: *out = the transaction; CL_OK or CL_ERR_NOT_FOUND.
 * balance: *out = the balance of account in currency (balance 0, txns 0
 *   when nothing moved it: CL_OK all the same).
 * list_txns / list_balances / list_devices: call cb for each row (f may
 *   be NULL: everything). Return CL_OK, or the callback's non-zero value.
 */
struct cl_ledger {
    int (*begin)(void *ctx, const struct cl_ledger_txn *t, struct cl_ledger_txn *out);
    int (*commit)(void *ctx, const uint8_t id[CL_LEDGER_TXN_ID_LEN], uint8_t outcome,
                  const uint8_t *receipt, size_t len, uint64_t now);
    int (*get)(void *ctx, const uint8_t id[CL_LEDGER_TXN_ID_LEN], struct cl_ledger_txn *out);
    int (*balance)(void *ctx, const uint8_t *account, size_t account_len, uint16_t currency,
                   struct cl_ledger_balance *out);
    int (*list_txns)(void *ctx, const struct cl_ledger_filter *f, cl_ledger_txn_cb cb,
                     void *arg);
    int (*list_balances)(void *ctx, cl_ledger_balance_cb cb, void *arg);
    int (*list_devices)(void *ctx, cl_ledger_device_cb cb, void *arg);
};

/* One saved session. */
struct cl_ledger_session {
    uint8_t token[CL_LEDGER_TOKEN_MAX];
    uint8_t token_len;                /* 1..CL_LEDGER_TOKEN_MAX */
    uint8_t device_id[CL_LEDGER_DEVICE_ID_MAX];
    uint8_t device_id_len;            /* 1..CL_LEDGER_DEVICE_ID_MAX */
    uint64_t saved;                   /* the caller's clock at save() */
    uint32_t state_len;               /* 0..CL_LEDGER_SESSION_MAX */
    uint8_t state[CL_LEDGER_SESSION_MAX];  /* opaque: lib/server's snapshot */
};

/*
 * find: the session saved under token for device_id, into *out. CL_OK, or
 *   CL_ERR_NOT_FOUND when no session has that token for that device (also
 *   when the token is another device's: which is not told apart).
 * save: store s (token, device_id, saved, state) under its token,
 *   replacing the session the token had. CL_OK; CL_ERR_DUPLICATE when the
 *   token is held by another device's session (tokens are random: a
 *   collision or a misuse; nothing changed).
 * drop: forget the session under token (for any device). CL_OK whether or
 *   not it was there.
 * expire: forget every session saved before time `before`; returns how
 *   many (>= 0).
 * The state is kept as given: a database holds tokens and replay buffers,
 * so protect it like the server's keys (file mode 0600); *out's buffers
 * are the caller's to wipe.
 */
struct cl_session_store {
    int (*find)(void *ctx, const uint8_t *token, size_t token_len, const uint8_t *device_id,
                size_t device_id_len, struct cl_ledger_session *out);
    int (*save)(void *ctx, const struct cl_ledger_session *s);
    int (*drop)(void *ctx, const uint8_t *token, size_t token_len);
    int (*expire)(void *ctx, uint64_t before);
};

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_LEDGER_H */
