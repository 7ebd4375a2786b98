/*
 * cardlink — the server's ledger and session store over SQLite
 * (struct cl_ledger and struct cl_session_store of cardlink/ledger.h).
 * SPDX-License-Identifier: Apache-2.0
 *
 *   struct cl_ledger_sqlite db;
 *   cl_ledger_sqlite_init(&db);
 *   if (cl_ledger_sqlite_open(&db, "/var/lib/cardlink/ledger.db", 5000) != CL_OK) ...
 *   const struct cl_ledger *lg = cl_ledger_sqlite_port();
 *   rc = lg->begin(&db, &txn, &rec);     (ctx: &db for both ports)
 *   cl_ledger_sqlite_close(&db);
 *
 * One database file in WAL mode (readers never wait for the writer) with
 * synchronous=FULL (a commit that returned survives a power cut), the
 * schema of docs/porting.md "Stores" (the txn id UNIQUE), every statement
 * prepared once at open, every write in one BEGIN IMMEDIATE ... COMMIT (a
 * crash leaves it whole or absent), a busy time-out for other writers
 * (other processes, other server nodes on the same file). Built only when
 * meson finds sqlite3 (library cl_ledger_sqlite, dependency
 * cl_ledger_sqlite_dep, which defines CL_HAVE_SQLITE=1).
 *
 * A listing's callback must not call the same ctx (its statement is open).
 */
#ifndef CARDLINK_POSIX_LEDGER_SQLITE_H
#define CARDLINK_POSIX_LEDGER_SQLITE_H

#include "cardlink/ledger.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sqlite3;
struct sqlite3_stmt;

/* The schema version this code writes (PRAGMA user_version). */
#define CL_LEDGER_SQLITE_SCHEMA 1

/* Number of prepared statements (internal). */
#define CL_LEDGER_SQLITE_STMTS 20

/* Caller-allocated; do not touch the fields (but test_hook). */
struct cl_ledger_sqlite {
    struct sqlite3 *db;               /* NULL when closed */
    struct sqlite3_stmt *st[CL_LEDGER_SQLITE_STMTS];
    int last;                         /* the last SQLite result code that failed a call */
    /* Test hook: called inside commit()'s database transaction, after the
     * outcome is written and before the balance moves (point 1) and
     * before COMMIT (point 2). Tests kill the process there. NULL: none. */
    void (*test_hook)(struct cl_ledger_sqlite *l, int point);
};

/* A closed ledger. Cannot fail. */
void cl_ledger_sqlite_init(struct cl_ledger_sqlite *l);

/*
 * Open (creating it and its schema if absent) the database at path, with
 * busy_ms the longest wait for another writer (0: 5000). Returns CL_OK, or
 *   CL_ERR_ARG      l or path NULL, path empty;
 *   CL_ERR_STATE    l is already open;
 *   CL_ERR_VERSION  the file's schema is newer than CL_LEDGER_SQLITE_SCHEMA;
 *   CL_ERR_TIMEOUT  another process held the database past busy_ms;
 *   CL_ERR_IO       not a database, or it cannot be opened or created
 *                   (cl_ledger_sqlite_last() has SQLite's code).
 * On failure l stays closed.
 */
CL_WUR int cl_ledger_sqlite_open(struct cl_ledger_sqlite *l, const char *path, int busy_ms);

/* Finalise the statements and close the database. NULL or closed: nothing. */
void cl_ledger_sqlite_close(struct cl_ledger_sqlite *l);

/* The ports (ctx: the struct cl_ledger_sqlite). On a closed ledger every
 * callback returns CL_ERR_STATE. */
const struct cl_ledger *cl_ledger_sqlite_port(void);
const struct cl_session_store *cl_session_sqlite_port(void);

/* The SQLite result code of the last failure (SQLITE_OK when none), for
 * sqlite3_errstr(). 0 for NULL. */
int cl_ledger_sqlite_last(const struct cl_ledger_sqlite *l);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_POSIX_LEDGER_SQLITE_H */
