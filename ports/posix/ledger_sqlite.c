/*
 * cardlink — POSIX port: the server's ledger and session store over SQLite
 * (WAL, the transaction id UNIQUE, prepared statements, every write in one
 * BEGIN IMMEDIATE ... COMMIT). The schema is in docs/porting.md, "Stores".
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cardlink/error.h"
#include "ledger_sqlite.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS txns ("
    " seq INTEGER PRIMARY KEY,"
    " id BLOB NOT NULL UNIQUE CHECK (length(id) = 16),"
    " device_id BLOB NOT NULL CHECK (length(device_id) BETWEEN 1 AND 32),"
    " account BLOB NOT NULL CHECK (length(account) BETWEEN 1 AND 32),"
    " kind INTEGER NOT NULL CHECK (kind BETWEEN 1 AND 255),"
    " currency INTEGER NOT NULL CHECK (currency BETWEEN 1 AND 999),"
    " amount INTEGER NOT NULL,"
    " created INTEGER NOT NULL,"
    " outcome INTEGER NOT NULL DEFAULT 0 CHECK (outcome BETWEEN 0 AND 3),"
    " decided INTEGER NOT NULL DEFAULT 0,"
    " receipt BLOB NOT NULL DEFAULT x'');"
    "CREATE INDEX IF NOT EXISTS txns_device ON txns (device_id, seq);"
    "CREATE INDEX IF NOT EXISTS txns_account ON txns (account, seq);"
    "CREATE TABLE IF NOT EXISTS balances ("
    " account BLOB NOT NULL,"
    " currency INTEGER NOT NULL,"
    " balance INTEGER NOT NULL,"
    " txns INTEGER NOT NULL,"
    " updated INTEGER NOT NULL,"
    " PRIMARY KEY (account, currency)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS devices ("
    " id BLOB PRIMARY KEY,"
    " first_seen INTEGER NOT NULL,"
    " last_seen INTEGER NOT NULL,"
    " txns INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS sessions ("
    " token BLOB PRIMARY KEY,"
    " device_id BLOB NOT NULL,"
    " saved INTEGER NOT NULL,"
    " state BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS sessions_device ON sessions (device_id);"
    "PRAGMA user_version = 1;";

enum {
    S_BEGIN, S_COMMIT, S_ROLLBACK,
    S_TXN_INSERT, S_TXN_GET, S_TXN_DECIDE, S_DEV_SEEN,
    S_BAL_GET, S_BAL_PUT,
    S_LIST_TXNS, S_LIST_BALANCES, S_LIST_DEVICES,
    S_SES_BY_DEVICE, S_SES_OWNER, S_SES_PUT, S_SES_DROP, S_SES_EXPIRE,
    S_COUNT
};

#define TXN_COLS "id, device_id, account, kind, currency, amount, created, outcome, decided, receipt"

static const char *const sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_TXN_INSERT] = "INSERT INTO txns (id, device_id, account, kind, currency, amount, created)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO NOTHING",
    [S_TXN_GET] = "SELECT " TXN_COLS " FROM txns WHERE id = ?1",
    [S_TXN_DECIDE] = "UPDATE txns SET outcome = ?2, receipt = ?3, decided = ?4"
                     " WHERE id = ?1 AND outcome = 0",
    [S_DEV_SEEN] = "INSERT INTO devices (id, first_seen, last_seen, txns) VALUES (?1, ?2, ?2, ?3)"
                   " ON CONFLICT (id) DO UPDATE SET last_seen = max(last_seen, ?2),"
                   " txns = txns + ?3",
    [S_BAL_GET] = "SELECT balance, txns, updated FROM balances WHERE account = ?1 AND currency = ?2",
    [S_BAL_PUT] = "INSERT INTO balances (account, currency, balance, txns, updated)"
                  " VALUES (?1, ?2, ?3, 1, ?4) ON CONFLICT (account, currency)"
                  " DO UPDATE SET balance = ?3, txns = txns + 1, updated = ?4",
    [S_LIST_TXNS] = "SELECT " TXN_COLS " FROM txns"
                    " WHERE (?1 IS NULL OR device_id = ?1) AND (?2 IS NULL OR account = ?2)"
                    " ORDER BY seq DESC LIMIT ?3",
    [S_LIST_BALANCES] = "SELECT account, currency, balance, txns, updated FROM balances"
                        " ORDER BY account, currency",
    [S_LIST_DEVICES] = "SELECT id, first_seen, last_seen, txns FROM devices ORDER BY id",
    [S_SES_BY_DEVICE] = "SELECT token, saved, state FROM sessions WHERE device_id = ?1",
    [S_SES_OWNER] = "SELECT device_id FROM sessions WHERE token = ?1",
    [S_SES_PUT] = "INSERT INTO sessions (token, device_id, saved, state) VALUES (?1, ?2, ?3, ?4)"
                  " ON CONFLICT (token) DO UPDATE SET saved = ?3, state = ?4",
    [S_SES_DROP] = "DELETE FROM sessions WHERE token = ?1",
    [S_SES_EXPIRE] = "DELETE FROM sessions WHERE saved < ?1",
};

typedef char stmt_table_fits[(S_COUNT <= CL_LEDGER_SQLITE_STMTS) ? 1 : -1];

/* An SQLite result code as an enum cl_err, kept for cl_ledger_sqlite_last(). */
static int fail(struct cl_ledger_sqlite *l, int rc)
{
    l->last = rc;
    switch (rc & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return CL_ERR_TIMEOUT;
    default:
        return CL_ERR_IO;
    }
}

/* Run a statement without rows (BEGIN, COMMIT, an INSERT...). */
static int exec(struct cl_ledger_sqlite *l, sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE ? CL_OK : fail(l, rc);
}

static void done(sqlite3_stmt *s)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

static int bind_blob(sqlite3_stmt *s, int i, const uint8_t *p, size_t n)
{
    if (n == 0)
        return sqlite3_bind_zeroblob(s, i, 0);   /* x'', not NULL */
    return sqlite3_bind_blob(s, i, p, (int)n, SQLITE_STATIC);   /* reset before p goes */
}

/* Copy a BLOB column into out[0..max); returns its length, or -1 when it
 * does not fit (a database someone else wrote). */
static int col_blob(sqlite3_stmt *s, int i, uint8_t *out, size_t max)
{
    const void *p = sqlite3_column_blob(s, i);
    int n = sqlite3_column_bytes(s, i);
    if (n < 0 || (size_t)n > max)
        return -1;
    if (n > 0)
        memcpy(out, p, (size_t)n);
    return n;
}

static int tx_begin(struct cl_ledger_sqlite *l)
{
    return exec(l, l->st[S_BEGIN]);
}

/* End the database transaction: COMMIT when rc is CL_OK (or a non-negative
 * answer), else ROLLBACK; returns rc, or the COMMIT's failure. */
static int tx_end(struct cl_ledger_sqlite *l, int rc)
{
    if (rc >= 0) {
        int c = exec(l, l->st[S_COMMIT]);
        if (c == CL_OK)
            return rc;
        rc = c;
    }
    if (!sqlite3_get_autocommit(l->db))
        (void)sqlite3_step(l->st[S_ROLLBACK]);
    done(l->st[S_ROLLBACK]);
    return rc;
}

/* see ledger_sqlite.h */
void cl_ledger_sqlite_init(struct cl_ledger_sqlite *l)
{
    if (l != NULL)
        memset(l, 0, sizeof(*l));
}

/* see ledger_sqlite.h */
void cl_ledger_sqlite_close(struct cl_ledger_sqlite *l)
{
    if (l == NULL || l->db == NULL)
        return;
    for (size_t i = 0; i < CL_LEDGER_SQLITE_STMTS; i++)
        sqlite3_finalize(l->st[i]);   /* NULL is a no-op */
    sqlite3_close(l->db);
    l->db = NULL;
    memset(l->st, 0, sizeof(l->st));
}

/* see ledger_sqlite.h */
int cl_ledger_sqlite_last(const struct cl_ledger_sqlite *l)
{
    return l == NULL ? 0 : l->last;
}

static int setup_db(struct cl_ledger_sqlite *l, int busy_ms)
{
    sqlite3_stmt *s;
    int rc, version = 0;
    sqlite3_busy_timeout(l->db, busy_ms > 0 ? busy_ms : 5000);
    /* WAL: readers never wait for the writer; FULL: a COMMIT that returned
     * survives a power cut too, not just a crash. */
    rc = sqlite3_prepare_v2(l->db, "PRAGMA journal_mode = WAL", -1, &s, NULL);
    if (rc != SQLITE_OK)
        return fail(l, rc);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW &&
        sqlite3_stricmp((const char *)sqlite3_column_text(s, 0), "wal") != 0)
        rc = SQLITE_CANTOPEN;   /* a file system without shared memory */
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW)
        return fail(l, rc);
    rc = sqlite3_exec(l->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return fail(l, rc);
    rc = sqlite3_exec(l->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return fail(l, rc);
    rc = sqlite3_prepare_v2(l->db, "PRAGMA user_version", -1, &s, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
        version = sqlite3_column_int(s, 0);
        sqlite3_finalize(s);
        rc = rc == SQLITE_ROW ? SQLITE_OK : rc;
    }
    if (rc == SQLITE_OK && version > CL_LEDGER_SQLITE_SCHEMA) {
        sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
        return CL_ERR_VERSION;
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(l->db, schema, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        int r = fail(l, rc);
        sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
        return r;
    }
    for (size_t i = 0; i < S_COUNT; i++) {
        rc = sqlite3_prepare_v3(l->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &l->st[i], NULL);
        if (rc != SQLITE_OK)
            return fail(l, rc);
    }
    return CL_OK;
}

/* see ledger_sqlite.h */
int cl_ledger_sqlite_open(struct cl_ledger_sqlite *l, const char *path, int busy_ms)
{
    int rc;
    if (l == NULL || path == NULL || path[0] == '\0')
        return CL_ERR_ARG;
    if (l->db != NULL)
        return CL_ERR_STATE;
    l->last = SQLITE_OK;
    /* The file holds resume tokens (the session store): a new one is made
     * 0600 before SQLite opens it (its -wal and -shm take the same mode).
     * Not for SQLite's special names (":memory:", "file:" URIs). */
    if (path[0] != ':' && strncmp(path, "file:", 5) != 0) {
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0)
            close(fd);
    }
    rc = sqlite3_open_v2(path, &l->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        rc = fail(l, rc);
        sqlite3_close(l->db);   /* a handle comes back even on failure */
        l->db = NULL;
        return rc;
    }
    rc = setup_db(l, busy_ms);
    if (rc != CL_OK)
        cl_ledger_sqlite_close(l);
    return rc;
}

static struct cl_ledger_sqlite *open_ctx(void *ctx, int *rc)
{
    struct cl_ledger_sqlite *l = ctx;
    *rc = l == NULL ? CL_ERR_ARG : l->db == NULL ? CL_ERR_STATE : CL_OK;
    return l;
}

/* ------------------------------------------------------------ ledger */

static bool txn_fields_ok(const struct cl_ledger_txn *t)
{
    return t->device_id_len >= 1 && t->device_id_len <= CL_LEDGER_DEVICE_ID_MAX &&
           t->account_len >= 1 && t->account_len <= CL_LEDGER_ACCOUNT_MAX && t->kind != 0 &&
           t->currency >= 1 && t->currency <= 999 && t->amount <= CL_LEDGER_AMOUNT_MAX &&
           t->amount >= -CL_LEDGER_AMOUNT_MAX;
}

/* Read a row of TXN_COLS into *out; CL_ERR_IO if it does not fit. */
static int row_txn(sqlite3_stmt *s, struct cl_ledger_txn *out)
{
    int a, b, c, d;
    memset(out, 0, sizeof(*out));
    a = col_blob(s, 0, out->id, CL_LEDGER_TXN_ID_LEN);
    b = col_blob(s, 1, out->device_id, CL_LEDGER_DEVICE_ID_MAX);
    c = col_blob(s, 2, out->account, CL_LEDGER_ACCOUNT_MAX);
    d = col_blob(s, 9, out->receipt, CL_LEDGER_RECEIPT_MAX);
    if (a != (int)CL_LEDGER_TXN_ID_LEN || b < 1 || c < 1 || d < 0)
        return CL_ERR_IO;
    out->device_id_len = (uint8_t)b;
    out->account_len = (uint8_t)c;
    out->receipt_len = (uint16_t)d;
    out->kind = (uint8_t)sqlite3_column_int(s, 3);
    out->currency = (uint16_t)sqlite3_column_int(s, 4);
    out->amount = sqlite3_column_int64(s, 5);
    out->created = (uint64_t)sqlite3_column_int64(s, 6);
    out->outcome = (uint8_t)sqlite3_column_int(s, 7);
    out->decided = (uint64_t)sqlite3_column_int64(s, 8);
    return CL_OK;
}

/* The transaction under id into *out (may be NULL); CL_ERR_NOT_FOUND. */
static int get_txn(struct cl_ledger_sqlite *l, const uint8_t *id, struct cl_ledger_txn *out)
{
    sqlite3_stmt *s = l->st[S_TXN_GET];
    struct cl_ledger_txn tmp;
    int rc;
    sqlite3_bind_blob(s, 1, id, (int)CL_LEDGER_TXN_ID_LEN, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        rc = row_txn(s, out != NULL ? out : &tmp);
    else if (rc == SQLITE_DONE)
        rc = CL_ERR_NOT_FOUND;
    else
        rc = fail(l, rc);
    done(s);
    return rc;
}

static int ledger_begin(void *ctx, const struct cl_ledger_txn *t, struct cl_ledger_txn *out)
{
    int rc;
    struct cl_ledger_sqlite *l = open_ctx(ctx, &rc);
    struct cl_ledger_txn rec;
    sqlite3_stmt *s;
    bool fresh;
    if (l != NULL && t == NULL)
        rc = CL_ERR_ARG;
    if (rc != CL_OK)
        return rc;
    if (!txn_fields_ok(t))
        return CL_ERR_ARG;
    rc = tx_begin(l);
    if (rc != CL_OK)
        return rc;
    s = l->st[S_TXN_INSERT];
    sqlite3_bind_blob(s, 1, t->id, (int)CL_LEDGER_TXN_ID_LEN, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, t->device_id, t->device_id_len, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, t->account, t->account_len, SQLITE_STATIC);
    sqlite3_bind_int(s, 4, t->kind);
    sqlite3_bind_int(s, 5, t->currency);
    sqlite3_bind_int64(s, 6, t->amount);
    sqlite3_bind_int64(s, 7, (sqlite3_int64)t->created);
    rc = exec(l, s);
    fresh = rc == CL_OK && sqlite3_changes(l->db) == 1;
    if (rc == CL_OK && fresh) {
        s = l->st[S_DEV_SEEN];
        sqlite3_bind_blob(s, 1, t->device_id, t->device_id_len, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, (sqlite3_int64)t->created);
        sqlite3_bind_int(s, 3, 1);
        rc = exec(l, s);
        if (rc == CL_OK)
            rc = CL_LEDGER_NEW;
    } else if (rc == CL_OK) {
        rc = get_txn(l, t->id, &rec);
        if (rc == CL_OK) {
            bool same = rec.device_id_len == t->device_id_len &&
                        memcmp(rec.device_id, t->device_id, t->device_id_len) == 0 &&
                        rec.account_len == t->account_len &&
                        memcmp(rec.account, t->account, t->account_len) == 0 &&
                        rec.kind == t->kind && rec.currency == t->currency &&
                        rec.amount == t->amount;
            if (out != NULL)
                *out = rec;
            rc = same ? CL_LEDGER_ALREADY : CL_ERR_DUPLICATE;
        } else if (rc == CL_ERR_NOT_FOUND) {
            rc = CL_ERR_INTERNAL;   /* the insert was refused, yet no row */
        }
    }
    return tx_end(l, rc);   /* DUPLICATE: rolled back, nothing was written */
}

static int ledger_commit(void *ctx, const uint8_t id[CL_LEDGER_TXN_ID_LEN], uint8_t outcome,
                         const uint8_t *receipt, size_t len, uint64_t now)
{
    int rc;
    struct cl_ledger_sqlite *l = open_ctx(ctx, &rc);
    struct cl_ledger_txn rec;
    sqlite3_stmt *s;
    if (rc != CL_OK)
        return rc;
    if (id == NULL || outcome < CL_LEDGER_APPROVED || outcome > CL_LEDGER_FAILED ||
        len > CL_LEDGER_RECEIPT_MAX || (receipt == NULL) != (len == 0))
        return CL_ERR_ARG;
    rc = tx_begin(l);
    if (rc != CL_OK)
        return rc;
    rc = get_txn(l, id, &rec);
    if (rc == CL_OK && rec.outcome != CL_LEDGER_PENDING) {
        /* decided before: the same decision is a retry, another is refused */
        bool same = rec.outcome == outcome && rec.receipt_len == len &&
                    (len == 0 || memcmp(rec.receipt, receipt, len) == 0);
        return tx_end(l, same ? CL_OK : CL_ERR_STATE);
    }
    if (rc == CL_OK) {
        s = l->st[S_TXN_DECIDE];
        sqlite3_bind_blob(s, 1, id, (int)CL_LEDGER_TXN_ID_LEN, SQLITE_STATIC);
        sqlite3_bind_int(s, 2, outcome);
        bind_blob(s, 3, receipt, len);
        sqlite3_bind_int64(s, 4, (sqlite3_int64)now);
        rc = exec(l, s);
        if (rc == CL_OK && sqlite3_changes(l->db) != 1)
            rc = CL_ERR_INTERNAL;   /* PENDING a moment ago, inside our lock */
    }
    if (rc == CL_OK && l->test_hook != NULL)
        l->test_hook(l, 1);
    if (rc == CL_OK && outcome == CL_LEDGER_APPROVED) {
        int64_t bal = 0;
        s = l->st[S_BAL_GET];
        bind_blob(s, 1, rec.account, rec.account_len);
        sqlite3_bind_int(s, 2, rec.currency);
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
            bal = sqlite3_column_int64(s, 0);
        rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? CL_OK : fail(l, rc);
        done(s);
        if (rc == CL_OK &&
            ((rec.amount > 0 && bal > INT64_MAX - rec.amount) ||
             (rec.amount < 0 && bal < INT64_MIN - rec.amount)))
            rc = CL_ERR_OVERFLOW;
        if (rc == CL_OK) {
            s = l->st[S_BAL_PUT];
            bind_blob(s, 1, rec.account, rec.account_len);
            sqlite3_bind_int(s, 2, rec.currency);
            sqlite3_bind_int64(s, 3, bal + rec.amount);
            sqlite3_bind_int64(s, 4, (sqlite3_int64)now);
            rc = exec(l, s);
        }
    }
    if (rc == CL_OK && l->test_hook != NULL)
        l->test_hook(l, 2);
    return tx_end(l, rc);
}

static int ledger_get(void *ctx, const uint8_t id[CL_LEDGER_TXN_ID_LEN], struct cl_ledger_txn *out)
{
    int rc;
    struct cl_ledger_sqlite *l = open_ctx(ctx, &rc);
    if (rc != CL_OK)
        return rc;
    if (id == NULL || out == NULL)
        return CL_ERR_ARG;
    return get_txn(l, id, out);
}

static int ledger_balance(void *ctx, const uint8_t *account, size_t account_len,
                          uint16_t currency, struct cl_ledger_balance *out)
{
    int rc;
    struct cl_ledger_sqlite *l = open_ctx(ctx, &rc);
    sqlite3_stmt *s;
    if (rc != CL_OK)
        return rc;
    if (account == NULL || account_len < 1 || account_len > CL_LEDGER_ACCOUNT_MAX ||
        currency < 1 || currency > 999 || out == NULL)
        return CL_ERR_ARG;
    memset(out, 0, sizeof(*out));
    memcpy(out->account, account, account_len);
    out->account_len = (uint8_t)account_len;
    out->currency = currency;
    s = l->st[S_BAL_GET];
    sqlite3_bind_blob(s, 1, account, (int)account_len, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, currency);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        out->balance = sqlite3_column_int64(s, 0);
        out->txns = (uint32_t)sqlite3_column_int64(s, 1);
        out->updated = (uint64_t)sqlite3_column_int64(s, 2);
    }
    rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? CL_OK : fail(l, rc);
    done(s);
    return rc;
}

static int ledger_list_txns(void *ctx, const struct cl_ledger_filter *f, cl_ledger_txn_cb cb,
                            void *arg)
{
    int rc;
    struct cl_ledger_sqlite *l = open_ctx(ctx, &rc);
    struct cl_ledger_txn row;
    sqlite3_stmt *s;
    if (rc != CL_OK)
        return rc;
    if (cb == NULL ||
        (f != NULL && f->device_id != NULL &&
         (f->device_id_len < 1 || f->device_id_len > CL_LEDGER_DEVICE_ID_MAX)) ||
        (f != NULL && f->account != NULL &&
         (f->account_len < 1 || f->account_len > CL_LEDGER_ACCOUNT_MAX)))
        return CL_ERR_ARG;
    s = l->st[S_LIST_TXNS];
    if (f != NULL && f->device_id != NULL)
        sqlite3_bind_blob(s, 1, f->device_id, (int)f->device_id_len, SQLITE_STATIC);
    if (f != NULL && f->account != NULL)
        sqlite3_bind_blob(s, 2, f->account, (int)f->account_len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, f != NULL && f->limit != 0 ? (sqlite3_int64)f->limit : -1);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int r = row_txn(s, &row);
        if (r == CL_OK)
            r = cb(arg, &row);
        if (r != CL_OK) {
            done(s);
            return r;
        }
    }
    rc = rc == SQLITE_DONE ? CL_OK : fail(l, rc);
    done(s);
    return rc;
}

static int ledger_list_balances(void *ctx, cl_ledger_balance_cb cb, void *arg)
{
    int rc;
    struct cl_ledger_sqlite *l = open_ctx(ctx, &rc);
    struct cl_ledger_balance row;
    sqlite3_stmt *s;
    if (rc != CL_OK)
        return rc;
    if (cb == NULL)
        return CL_ERR_ARG;
    s = l->st[S_LIST_BALANCES];
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int r, n;
        memset(&row, 0, sizeof(row));
        n = col_blob(s, 0, row.account, CL_LEDGER_ACCOUNT_MAX);
        row.account_len = (uint8_t)(n > 0 ? n : 0);
        row.currency = (uint16_t)sqlite3_column_int(s, 1);
        row.balance = sqlite3_column_int64(s, 2);
        row.txns = (uint32_t)sqlite3_column_int64(s, 3);
        row.updated = (uint64_t)sqlite3_column_int64(s, 4);
        r = n < 1 ? CL_ERR_IO : cb(arg, &row);
        if (r != CL_OK) {
            done(s);
            return r;
        }
    }
    rc = rc == SQLITE_DONE ? CL_OK : fail(l, rc);
    done(s);
    return rc;
}

static int ledger_list_devices(void *ctx, cl_ledger_device_cb cb, void *arg)
{
    int rc;
    struct cl_ledger_sqlite *l = open_ctx(ctx, &rc);
    struct cl_ledger_device row;
    sqlite3_stmt *s;
    if (rc != CL_OK)
        return rc;
    if (cb == NULL)
        return CL_ERR_ARG;
    s = l->st[S_LIST_DEVICES];
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int r, n;
        memset(&row, 0, sizeof(row));
        n = col_blob(s, 0, row.id, CL_LEDGER_DEVICE_ID_MAX);
        row.id_len = (uint8_t)(n > 0 ? n : 0);
        row.first_seen = (uint64_t)sqlite3_column_int64(s, 1);
        row.last_seen = (uint64_t)sqlite3_column_int64(s, 2);
        row.txns = (uint32_t)sqlite3_column_int64(s, 3);
        r = n < 1 ? CL_ERR_IO : cb(arg, &row);
        if (r != CL_OK) {
            done(s);
            return r;
        }
    }
    rc = rc == SQLITE_DONE ? CL_OK : fail(l, rc);
    done(s);
    return rc;
}

static const struct cl_ledger ledger_port = {
    ledger_begin, ledger_commit, ledger_get, ledger_balance,
    ledger_list_txns, ledger_list_balances, ledger_list_devices,
};

/* see ledger_sqlite.h */
const struct cl_ledger *cl_ledger_sqlite_port(void)
{
    return &ledger_port;
}

/* ----------------------------------------------------- session store */

/* Equal tokens, in time that depends on the lengths only. */
static bool token_eq(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    uint8_t d = 0;
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++)
        d |= (uint8_t)(a[i] ^ b[i]);
    return d == 0;
}

static int session_find(void *ctx, const uint8_t *token, size_t token_len,
                        const uint8_t *device_id, size_t device_id_len,
                        struct cl_ledger_session *out)
{
    int rc;
    struct cl_ledger_sqlite *l = open_ctx(ctx, &rc);
    sqlite3_stmt *s;
    bool found = false;
    if (rc != CL_OK)
        return rc;
    if (token == NULL || token_len < 1 || token_len > CL_LEDGER_TOKEN_MAX || device_id == NULL ||
        device_id_len < 1 || device_id_len > CL_LEDGER_DEVICE_ID_MAX || out == NULL)
        return CL_ERR_ARG;
    /* By device id (an index lookup that says nothing about the token),
     * then every candidate's token compared in constant time. */
    s = l->st[S_SES_BY_DEVICE];
    sqlite3_bind_blob(s, 1, device_id, (int)device_id_len, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const void *tok = sqlite3_column_blob(s, 0);
        int tn = sqlite3_column_bytes(s, 0);
        if (!found && tn > 0 && token_eq(tok, (size_t)tn, token, token_len)) {
            int n = col_blob(s, 2, out->state, CL_LEDGER_SESSION_MAX);
            if (n < 0) {
                done(s);
                return CL_ERR_IO;
            }
            found = true;
            memcpy(out->token, token, token_len);
            out->token_len = (uint8_t)token_len;
            memcpy(out->device_id, device_id, device_id_len);
            out->device_id_len = (uint8_t)device_id_len;
            out->saved = (uint64_t)sqlite3_column_int64(s, 1);
            out->state_len = (uint32_t)n;
        }
    }
    rc = rc == SQLITE_DONE ? (found ? CL_OK : CL_ERR_NOT_FOUND) : fail(l, rc);
    done(s);
    return rc;
}

static int session_save(void *ctx, const struct cl_ledger_session *ses)
{
    int rc;
    struct cl_ledger_sqlite *l = open_ctx(ctx, &rc);
    sqlite3_stmt *s;
    if (rc != CL_OK)
        return rc;
    if (ses == NULL || ses->token_len < 1 || ses->token_len > CL_LEDGER_TOKEN_MAX ||
        ses->device_id_len < 1 || ses->device_id_len > CL_LEDGER_DEVICE_ID_MAX ||
        ses->state_len > CL_LEDGER_SESSION_MAX)
        return CL_ERR_ARG;
    rc = tx_begin(l);
    if (rc != CL_OK)
        return rc;
    s = l->st[S_SES_OWNER];
    sqlite3_bind_blob(s, 1, ses->token, ses->token_len, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const void *d = sqlite3_column_blob(s, 0);
        int n = sqlite3_column_bytes(s, 0);
        rc = n == ses->device_id_len && n > 0 && memcmp(d, ses->device_id, (size_t)n) == 0
                 ? CL_OK
                 : CL_ERR_DUPLICATE;
    } else {
        rc = rc == SQLITE_DONE ? CL_OK : fail(l, rc);
    }
    done(s);
    if (rc == CL_OK) {
        s = l->st[S_SES_PUT];
        sqlite3_bind_blob(s, 1, ses->token, ses->token_len, SQLITE_STATIC);
        sqlite3_bind_blob(s, 2, ses->device_id, ses->device_id_len, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, (sqlite3_int64)ses->saved);
        bind_blob(s, 4, ses->state, ses->state_len);
        rc = exec(l, s);
    }
    if (rc == CL_OK) {
        s = l->st[S_DEV_SEEN];
        sqlite3_bind_blob(s, 1, ses->device_id, ses->device_id_len, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, (sqlite3_int64)ses->saved);
        sqlite3_bind_int(s, 3, 0);
        rc = exec(l, s);
    }
    return tx_end(l, rc);
}

static int session_drop(void *ctx, const uint8_t *token, size_t token_len)
{
    int rc;
    struct cl_ledger_sqlite *l = open_ctx(ctx, &rc);
    sqlite3_stmt *s;
    if (rc != CL_OK)
        return rc;
    if (token == NULL || token_len < 1 || token_len > CL_LEDGER_TOKEN_MAX)
        return CL_ERR_ARG;
    rc = tx_begin(l);
    if (rc != CL_OK)
        return rc;
    s = l->st[S_SES_DROP];
    sqlite3_bind_blob(s, 1, token, (int)token_len, SQLITE_STATIC);
    return tx_end(l, exec(l, s));
}

static int session_expire(void *ctx, uint64_t before)
{
    int rc;
    struct cl_ledger_sqlite *l = open_ctx(ctx, &rc);
    sqlite3_stmt *s;
    if (rc != CL_OK)
        return rc;
    rc = tx_begin(l);
    if (rc != CL_OK)
        return rc;
    s = l->st[S_SES_EXPIRE];
    sqlite3_bind_int64(s, 1, (sqlite3_int64)before);
    rc = exec(l, s);
    if (rc == CL_OK)
        rc = sqlite3_changes(l->db);
    return tx_end(l, rc);
}

static const struct cl_session_store session_port = {
    session_find, session_save, session_drop, session_expire,
};

/* see ledger_sqlite.h */
const struct cl_session_store *cl_session_sqlite_port(void)
{
    return &session_port;
}
