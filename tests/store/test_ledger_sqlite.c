/*
 * cardlink tests — the server's ledger and session store over SQLite
 * (ports/posix/ledger_sqlite.c, cardlink/ledger.h): every call and its
 * exact errors, sizes at the bounds, idempotency (begin twice, commit
 * twice), processes racing to begin one id, writers killed with SIGKILL
 * inside a transaction, sessions bound to their device, and the file read
 * back with the sqlite3 command-line shell.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _DEFAULT_SOURCE 1

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <sqlite3.h>

#include "cardlink/error.h"
#include "ledger_sqlite.h"
#include "test_util.h"

static char dir[256], path[300];
static struct cl_ledger_sqlite db;
static const struct cl_ledger *lg;
static const struct cl_session_store *ss;

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/cl-ledger-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/ledger.db", dir);
    cl_ledger_sqlite_init(&db);
    ck_assert_int_eq(cl_ledger_sqlite_open(&db, path, 10000), CL_OK);
    lg = cl_ledger_sqlite_port();
    ss = cl_session_sqlite_port();
}

static void teardown(void)
{
    char cmd[400];
    cl_ledger_sqlite_close(&db);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* A transaction: id n (16 bytes: 0x11 then n), device "dev-A", account
 * "card-1", a purchase of amount in EUR (978). */
static struct cl_ledger_txn mk(uint32_t n, int64_t amount)
{
    struct cl_ledger_txn t;
    memset(&t, 0, sizeof(t));
    memset(t.id, 0x11, sizeof(t.id));
    t.id[12] = (uint8_t)(n >> 24);
    t.id[13] = (uint8_t)(n >> 16);
    t.id[14] = (uint8_t)(n >> 8);
    t.id[15] = (uint8_t)n;
    memcpy(t.device_id, "dev-A", 5);
    t.device_id_len = 5;
    memcpy(t.account, "card-1", 6);
    t.account_len = 6;
    t.kind = 1;
    t.currency = 978;
    t.amount = amount;
    t.created = 1000 + n;
    return t;
}

static int64_t balance_of(const char *account, uint16_t cur, uint32_t *txns)
{
    struct cl_ledger_balance b;
    ck_assert_int_eq(lg->balance(&db, (const uint8_t *)account, strlen(account), cur, &b), CL_OK);
    if (txns != NULL)
        *txns = b.txns;
    return b.balance;
}

/* ---------------------------------------------------------- open */

START_TEST(test_open)
{
    struct cl_ledger_sqlite o;
    char p[400];
    FILE *f;
    cl_ledger_sqlite_init(&o);
    ck_assert_int_eq(cl_ledger_sqlite_open(NULL, path, 0), CL_ERR_ARG);
    ck_assert_int_eq(cl_ledger_sqlite_open(&o, NULL, 0), CL_ERR_ARG);
    ck_assert_int_eq(cl_ledger_sqlite_open(&o, "", 0), CL_ERR_ARG);
    ck_assert_int_eq(cl_ledger_sqlite_open(&db, path, 0), CL_ERR_STATE);
    /* a second connection to the same file is fine (WAL, many processes) */
    ck_assert_int_eq(cl_ledger_sqlite_open(&o, path, 0), CL_OK);
    cl_ledger_sqlite_close(&o);
    cl_ledger_sqlite_close(&o);
    cl_ledger_sqlite_close(NULL);
    cl_ledger_sqlite_init(NULL);
    ck_assert_int_eq(cl_ledger_sqlite_last(NULL), 0);
    /* no such directory */
    snprintf(p, sizeof(p), "%s/no/such.db", dir);
    ck_assert_int_eq(cl_ledger_sqlite_open(&o, p, 0), CL_ERR_IO);
    ck_assert_ptr_null(o.db);
    /* not a database */
    snprintf(p, sizeof(p), "%s/junk.db", dir);
    f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < 64; i++)
        fputs("this is not an SQLite file ", f);
    fclose(f);
    ck_assert_int_eq(cl_ledger_sqlite_open(&o, p, 0), CL_ERR_IO);
    ck_assert_int_eq(cl_ledger_sqlite_last(&o), 26);   /* SQLITE_NOTADB */
    ck_assert_ptr_null(o.db);
    /* the next open starts clean */
    ck_assert_int_eq(cl_ledger_sqlite_open(&o, path, 0), CL_OK);
    ck_assert_int_eq(cl_ledger_sqlite_last(&o), 0);
    cl_ledger_sqlite_close(&o);
    /* a new database is made 0600 whatever the umask (it holds resume
     * tokens), its -wal too */
    {
        struct stat st;
        char w[420];
        mode_t old = umask(0);
        snprintf(p, sizeof(p), "%s/mode.db", dir);
        ck_assert_int_eq(cl_ledger_sqlite_open(&o, p, 0), CL_OK);
        umask(old);
        ck_assert_int_eq(stat(p, &st), 0);
        ck_assert_uint_eq(st.st_mode & 0777u, 0600u);
        snprintf(w, sizeof(w), "%s-wal", p);
        ck_assert_int_eq(stat(w, &st), 0);
        ck_assert_uint_eq(st.st_mode & 0777u, 0600u);
        cl_ledger_sqlite_close(&o);
    }
}
END_TEST

/* A server that closed its standard input: the file made 0600 before
 * SQLite opens it may get descriptor 0, which must be closed like any
 * other. (SQLite itself then parks /dev/null on descriptors 0..2 rather
 * than put a database there: that one stays, by design.) */
START_TEST(test_open_fd_zero)
{
    struct cl_ledger_sqlite o;
    char p[400], at0[400];
    ssize_t n;
    int keep = dup(0), before;
    ck_assert_int_ge(keep, 0);
    close(0);
    before = cl_test_open_fds();
    snprintf(p, sizeof(p), "%s/fd0.db", dir);
    cl_ledger_sqlite_init(&o);
    ck_assert_int_eq(cl_ledger_sqlite_open(&o, p, 0), CL_OK);
    cl_ledger_sqlite_close(&o);
    ck_assert_int_le(cl_test_open_fds(), before + 1);
    n = readlink("/proc/self/fd/0", at0, sizeof(at0) - 1);
    if (n >= 0) {
        at0[n] = '\0';
        ck_assert_str_eq(at0, "/dev/null");
    }
    ck_assert_int_eq(dup2(keep, 0), 0);
    close(keep);
}
END_TEST

/* busy_ms: a writer holding the database makes begin() wait that long,
 * then CL_ERR_TIMEOUT; 0 means the default, 5 s, not "do not wait". */
START_TEST(test_busy_wait)
{
    struct cl_ledger_sqlite quick, dflt, one;
    struct cl_ledger_txn t = mk(1, 5);
    int pfd[2], st;
    char c;
    pid_t pid;
    cl_ledger_sqlite_init(&quick);
    cl_ledger_sqlite_init(&dflt);
    ck_assert_int_eq(cl_ledger_sqlite_open(&quick, path, 50), CL_OK);
    ck_assert_int_eq(cl_ledger_sqlite_open(&dflt, path, 0), CL_OK);
    cl_ledger_sqlite_init(&one);
    ck_assert_int_eq(cl_ledger_sqlite_open(&one, path, 1), CL_OK);
    ck_assert_int_eq(pipe(pfd), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        sqlite3 *h;
        if (sqlite3_open(path, &h) != SQLITE_OK ||
            sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
            _exit(1);
        if (write(pfd[1], "L", 1) != 1)
            _exit(1);
        usleep(2000 * 1000);   /* hold the write lock 2 s */
        _exit(sqlite3_exec(h, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : 1);
    }
    close(pfd[1]);
    ck_assert_int_eq(read(pfd[0], &c, 1), 1);
    close(pfd[0]);
    ck_assert_int_eq(lg->begin(&one, &t, NULL), CL_ERR_TIMEOUT);   /* 1 ms is 1 ms */
    ck_assert_int_eq(lg->begin(&quick, &t, NULL), CL_ERR_TIMEOUT);
    ck_assert_int_eq(lg->begin(&dflt, &t, NULL), CL_LEDGER_NEW);   /* waited */
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    cl_ledger_sqlite_close(&quick);
    cl_ledger_sqlite_close(&dflt);
    cl_ledger_sqlite_close(&one);
}
END_TEST

/* Names SQLite reserves (":memory:") are not files to create; a name
 * with a colon further on is an ordinary file, made 0600 like any. */
START_TEST(test_special_names)
{
    struct cl_ledger_sqlite o;
    struct stat sb;
    char cwd[400];
    mode_t old = umask(022);
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
    ck_assert_int_eq(chdir(dir), 0);
    cl_ledger_sqlite_init(&o);
    ck_assert_int_eq(cl_ledger_sqlite_open(&o, ":memory:", 0), CL_ERR_IO);   /* no WAL */
    ck_assert_int_eq(access(":memory:", F_OK), -1);
    ck_assert_int_eq(cl_ledger_sqlite_open(&o, "a:b.db", 0), CL_OK);
    cl_ledger_sqlite_close(&o);
    ck_assert_int_eq(stat("a:b.db", &sb), 0);
    ck_assert_uint_eq(sb.st_mode & 0777u, 0600u);
    umask(old);
    ck_assert_int_eq(chdir(cwd), 0);
}
END_TEST

START_TEST(test_newer_schema)
{
    struct cl_ledger_sqlite o;
    sqlite3 *raw;
    cl_ledger_sqlite_close(&db);
    ck_assert_int_eq(sqlite3_open(path, &raw), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(raw, "PRAGMA user_version = 2", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    cl_ledger_sqlite_init(&o);
    ck_assert_int_eq(cl_ledger_sqlite_open(&o, path, 0), CL_ERR_VERSION);
    ck_assert_ptr_null(o.db);
    ck_assert_int_eq(sqlite3_open(path, &raw), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(raw, "PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    ck_assert_int_eq(cl_ledger_sqlite_open(&db, path, 0), CL_OK);
}
END_TEST

static int count_txn(void *arg, const struct cl_ledger_txn *row)
{
    (void)row;
    (*(int *)arg)++;
    return 0;
}

static int count_bal(void *arg, const struct cl_ledger_balance *row)
{
    (void)row;
    (*(int *)arg)++;
    return 0;
}

static int count_dev(void *arg, const struct cl_ledger_device *row)
{
    (void)row;
    (*(int *)arg)++;
    return 0;
}

START_TEST(test_closed)
{
    struct cl_ledger_sqlite c;
    struct cl_ledger_txn t = mk(1, -5), o;
    struct cl_ledger_balance b;
    struct cl_ledger_session s;
    int n = 0;
    memset(&s, 0, sizeof(s));
    s.token_len = s.device_id_len = 1;
    cl_ledger_sqlite_init(&c);
    ck_assert_int_eq(lg->begin(&c, &t, &o), CL_ERR_STATE);
    ck_assert_int_eq(lg->commit(&c, t.id, 1, NULL, 0, 1), CL_ERR_STATE);
    ck_assert_int_eq(lg->get(&c, t.id, &o), CL_ERR_STATE);
    ck_assert_int_eq(lg->balance(&c, t.account, 6, 978, &b), CL_ERR_STATE);
    ck_assert_int_eq(lg->list_txns(&c, NULL, count_txn, &n), CL_ERR_STATE);
    ck_assert_int_eq(lg->list_balances(&c, count_bal, &n), CL_ERR_STATE);
    ck_assert_int_eq(lg->list_devices(&c, count_dev, &n), CL_ERR_STATE);
    ck_assert_int_eq(ss->find(&c, s.token, 1, s.device_id, 1, &s), CL_ERR_STATE);
    ck_assert_int_eq(ss->save(&c, &s), CL_ERR_STATE);
    ck_assert_int_eq(ss->drop(&c, s.token, 1), CL_ERR_STATE);
    ck_assert_int_eq(ss->expire(&c, 1), CL_ERR_STATE);
    ck_assert_int_eq(lg->begin(NULL, &t, &o), CL_ERR_ARG);
    ck_assert_int_eq(lg->commit(NULL, t.id, 1, NULL, 0, 1), CL_ERR_ARG);
    ck_assert_int_eq(lg->get(NULL, t.id, &o), CL_ERR_ARG);
    ck_assert_int_eq(ss->find(NULL, s.token, 1, s.device_id, 1, &s), CL_ERR_ARG);
    ck_assert_int_eq(ss->expire(NULL, 1), CL_ERR_ARG);
    ck_assert_int_eq(n, 0);
}
END_TEST

/* ------------------------------------------------------- idempotency */

START_TEST(test_begin_twice)
{
    struct cl_ledger_txn t = mk(1, -1234), o, again;
    const uint8_t sig[4] = {0x30, 0x44, 0x02, 0x20};
    ck_assert_int_eq(lg->begin(&db, &t, &o), CL_LEDGER_NEW);
    /* the retry: ALREADY, PENDING, the first begin's fields */
    again = t;
    again.created = 99999;   /* a later retry's clock: not a difference */
    memset(&o, 0xAA, sizeof(o));
    ck_assert_int_eq(lg->begin(&db, &again, &o), CL_LEDGER_ALREADY);
    ck_assert_mem_eq(o.id, t.id, 16);
    ck_assert_int_eq(o.outcome, CL_LEDGER_PENDING);
    ck_assert_uint_eq(o.created, 1001);
    ck_assert_uint_eq(o.decided, 0);
    ck_assert_uint_eq(o.receipt_len, 0);
    ck_assert_int_eq(o.amount, -1234);
    ck_assert_int_eq(lg->begin(&db, &again, NULL), CL_LEDGER_ALREADY);
    /* committed: the retry sees the outcome and the signature */
    ck_assert_int_eq(lg->commit(&db, t.id, CL_LEDGER_APPROVED, sig, 4, 2000), CL_OK);
    ck_assert_int_eq(lg->begin(&db, &again, &o), CL_LEDGER_ALREADY);
    ck_assert_int_eq(o.outcome, CL_LEDGER_APPROVED);
    ck_assert_uint_eq(o.decided, 2000);
    cl_assert_bytes(o.receipt, o.receipt_len, "30 44 02 20");
    ck_assert_int_eq(balance_of("card-1", 978, NULL), -1234);
    /* another transaction reusing the id: DUPLICATE, the record shown */
    for (int k = 0; k < 5; k++) {
        struct cl_ledger_txn d = t;
        if (k == 0)
            d.amount = -1235;
        if (k == 1)
            d.device_id[0] = 'X';
        if (k == 2)
            d.account_len = 5;
        if (k == 3)
            d.kind = 3;
        if (k == 4)
            d.currency = 840;
        memset(&o, 0, sizeof(o));
        ck_assert_int_eq(lg->begin(&db, &d, &o), CL_ERR_DUPLICATE);
        ck_assert_int_eq(o.amount, -1234);
        ck_assert_int_eq(o.outcome, CL_LEDGER_APPROVED);
    }
    ck_assert_int_eq(balance_of("card-1", 978, NULL), -1234);
}
END_TEST

START_TEST(test_commit)
{
    struct cl_ledger_txn t = mk(7, 5000), o;
    const uint8_t r1[2] = {1, 2}, r2[2] = {1, 3};
    uint32_t n;
    t.kind = 3;   /* a load */
    ck_assert_int_eq(lg->commit(&db, t.id, CL_LEDGER_APPROVED, NULL, 0, 1), CL_ERR_NOT_FOUND);
    ck_assert_int_eq(lg->begin(&db, &t, NULL), CL_LEDGER_NEW);
    ck_assert_int_eq(lg->commit(&db, NULL, CL_LEDGER_APPROVED, NULL, 0, 1), CL_ERR_ARG);
    ck_assert_int_eq(lg->commit(&db, t.id, CL_LEDGER_PENDING, NULL, 0, 1), CL_ERR_ARG);
    ck_assert_int_eq(lg->commit(&db, t.id, 4, NULL, 0, 1), CL_ERR_ARG);
    ck_assert_int_eq(lg->commit(&db, t.id, CL_LEDGER_APPROVED, NULL, 1, 1), CL_ERR_ARG);
    ck_assert_int_eq(lg->commit(&db, t.id, CL_LEDGER_APPROVED, r1, 0, 1), CL_ERR_ARG);
    ck_assert_int_eq(lg->get(&db, t.id, &o), CL_OK);
    ck_assert_int_eq(o.outcome, CL_LEDGER_PENDING);
    ck_assert_int_eq(lg->commit(&db, t.id, CL_LEDGER_APPROVED, r1, 2, 50), CL_OK);
    ck_assert_int_eq(balance_of("card-1", 978, &n), 5000);
    ck_assert_uint_eq(n, 1);
    /* the same commit again: CL_OK, the balance moved once */
    ck_assert_int_eq(lg->commit(&db, t.id, CL_LEDGER_APPROVED, r1, 2, 60), CL_OK);
    ck_assert_int_eq(balance_of("card-1", 978, &n), 5000);
    ck_assert_uint_eq(n, 1);
    /* another decision: refused */
    ck_assert_int_eq(lg->commit(&db, t.id, CL_LEDGER_DECLINED, NULL, 0, 60), CL_ERR_STATE);
    ck_assert_int_eq(lg->commit(&db, t.id, CL_LEDGER_APPROVED, r2, 2, 60), CL_ERR_STATE);
    ck_assert_int_eq(lg->commit(&db, t.id, CL_LEDGER_APPROVED, NULL, 0, 60), CL_ERR_STATE);
    ck_assert_int_eq(lg->get(&db, t.id, &o), CL_OK);
    ck_assert_uint_eq(o.decided, 50);
    /* a one-byte receipt: the same byte is the retry, another is not */
    t = mk(90, 1);
    ck_assert_int_eq(lg->begin(&db, &t, NULL), CL_LEDGER_NEW);
    ck_assert_int_eq(lg->commit(&db, t.id, CL_LEDGER_FAILED, r1, 1, 70), CL_OK);
    ck_assert_int_eq(lg->commit(&db, t.id, CL_LEDGER_FAILED, r1, 1, 71), CL_OK);
    ck_assert_int_eq(lg->commit(&db, t.id, CL_LEDGER_FAILED, r1 + 1, 1, 71), CL_ERR_STATE);
    /* a purchase approved, another declined, one failed */
    t = mk(8, -1250);
    ck_assert_int_eq(lg->begin(&db, &t, NULL), CL_LEDGER_NEW);
    ck_assert_int_eq(lg->commit(&db, t.id, CL_LEDGER_APPROVED, r2, 2, 70), CL_OK);
    t = mk(9, -99);
    ck_assert_int_eq(lg->begin(&db, &t, NULL), CL_LEDGER_NEW);
    ck_assert_int_eq(lg->commit(&db, t.id, CL_LEDGER_DECLINED, NULL, 0, 80), CL_OK);
    t = mk(10, -98);
    ck_assert_int_eq(lg->begin(&db, &t, NULL), CL_LEDGER_NEW);
    ck_assert_int_eq(lg->commit(&db, t.id, CL_LEDGER_FAILED, (const uint8_t *)"\x69\x83", 2, 90),
                     CL_OK);
    ck_assert_int_eq(balance_of("card-1", 978, &n), 3750);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(balance_of("card-2", 978, &n), 0);   /* never moved */
    ck_assert_uint_eq(n, 0);
    {
        struct cl_ledger_balance b;
        ck_assert_int_eq(lg->balance(&db, NULL, 1, 978, &b), CL_ERR_ARG);
        ck_assert_int_eq(lg->balance(&db, (const uint8_t *)"x", 0, 978, &b), CL_ERR_ARG);
        ck_assert_int_eq(lg->balance(&db, (const uint8_t *)"x", 1, 0, &b), CL_ERR_ARG);
        ck_assert_int_eq(lg->balance(&db, (const uint8_t *)"x", 1, 1000, &b), CL_ERR_ARG);
        ck_assert_int_eq(lg->balance(&db, (const uint8_t *)"x", 1, 978, NULL), CL_ERR_ARG);
        ck_assert_int_eq(lg->get(&db, t.id, NULL), CL_ERR_ARG);
        ck_assert_int_eq(lg->get(&db, NULL, &o), CL_ERR_ARG);
        ck_assert_int_eq(lg->get(&db, mk(999, 1).id, &o), CL_ERR_NOT_FOUND);
    }
}
END_TEST

START_TEST(test_overflow)
{
    struct cl_ledger_txn t, o;
    int i;
    for (i = 0; i < 9; i++) {   /* 9 * (10^18 - 1) fits in int64 */
        t = mk(100 + (uint32_t)i, CL_LEDGER_AMOUNT_MAX);
        ck_assert_int_eq(lg->begin(&db, &t, NULL), CL_LEDGER_NEW);
        ck_assert_int_eq(lg->commit(&db, t.id, CL_LEDGER_APPROVED, NULL, 0, 1), CL_OK);
    }
    t = mk(200, CL_LEDGER_AMOUNT_MAX);
    ck_assert_int_eq(lg->begin(&db, &t, NULL), CL_LEDGER_NEW);
    ck_assert_int_eq(lg->commit(&db, t.id, CL_LEDGER_APPROVED, NULL, 0, 1), CL_ERR_OVERFLOW);
    ck_assert_int_eq(lg->get(&db, t.id, &o), CL_OK);
    ck_assert_int_eq(o.outcome, CL_LEDGER_PENDING);   /* rolled back whole */
    ck_assert_int_eq(balance_of("card-1", 978, NULL), 9 * CL_LEDGER_AMOUNT_MAX);
    /* it can still be declined */
    ck_assert_int_eq(lg->commit(&db, t.id, CL_LEDGER_DECLINED, NULL, 0, 1), CL_OK);
    /* up to INT64_MAX exactly, then one minor unit more */
    t = mk(201, INT64_MAX - 9 * CL_LEDGER_AMOUNT_MAX);
    ck_assert_int_eq(lg->begin(&db, &t, NULL), CL_LEDGER_NEW);
    ck_assert_int_eq(lg->commit(&db, t.id, CL_LEDGER_APPROVED, NULL, 0, 1), CL_OK);
    ck_assert_int_eq(balance_of("card-1", 978, NULL), INT64_MAX);
    t = mk(202, 1);
    ck_assert_int_eq(lg->begin(&db, &t, NULL), CL_LEDGER_NEW);
    ck_assert_int_eq(lg->commit(&db, t.id, CL_LEDGER_APPROVED, NULL, 0, 1), CL_ERR_OVERFLOW);
    /* and down: a purchase of 1 takes it back from the top */
    t = mk(203, -1);
    ck_assert_int_eq(lg->begin(&db, &t, NULL), CL_LEDGER_NEW);
    ck_assert_int_eq(lg->commit(&db, t.id, CL_LEDGER_APPROVED, NULL, 0, 1), CL_OK);
    ck_assert_int_eq(balance_of("card-1", 978, NULL), INT64_MAX - 1);
}
END_TEST

/* The other end: down to INT64_MIN exactly, then one minor unit less. */
START_TEST(test_underflow)
{
    struct cl_ledger_txn t;
    for (int i = 0; i < 9; i++) {
        t = mk(100 + (uint32_t)i, -CL_LEDGER_AMOUNT_MAX);
        ck_assert_int_eq(lg->begin(&db, &t, NULL), CL_LEDGER_NEW);
        ck_assert_int_eq(lg->commit(&db, t.id, CL_LEDGER_APPROVED, NULL, 0, 1), CL_OK);
    }
    t = mk(200, INT64_MIN + 9 * CL_LEDGER_AMOUNT_MAX);
    ck_assert_int_eq(lg->begin(&db, &t, NULL), CL_LEDGER_NEW);
    ck_assert_int_eq(lg->commit(&db, t.id, CL_LEDGER_APPROVED, NULL, 0, 1), CL_OK);
    ck_assert_int_eq(balance_of("card-1", 978, NULL), INT64_MIN);
    t = mk(201, -1);
    ck_assert_int_eq(lg->begin(&db, &t, NULL), CL_LEDGER_NEW);
    ck_assert_int_eq(lg->commit(&db, t.id, CL_LEDGER_APPROVED, NULL, 0, 1), CL_ERR_OVERFLOW);
    ck_assert_int_eq(balance_of("card-1", 978, NULL), INT64_MIN);
}
END_TEST

/* ----------------------------------------------------------- sizes */

/* begin()'s fields at N-1, N, N+1 and the edges of each range. */
START_TEST(test_txn_bounds)
{
    static const struct {
        int field;        /* 0 device_id_len, 1 account_len, 2 kind, 3 currency, 4 amount */
        int64_t v;
        int want;
    } c[] = {
        {0, 0, CL_ERR_ARG}, {0, 1, CL_LEDGER_NEW}, {0, 31, CL_LEDGER_NEW},
        {0, 32, CL_LEDGER_NEW}, {0, 33, CL_ERR_ARG},
        {1, 0, CL_ERR_ARG}, {1, 1, CL_LEDGER_NEW}, {1, 31, CL_LEDGER_NEW},
        {1, 32, CL_LEDGER_NEW}, {1, 33, CL_ERR_ARG},
        {2, 0, CL_ERR_ARG}, {2, 1, CL_LEDGER_NEW}, {2, 255, CL_LEDGER_NEW},
        {3, 0, CL_ERR_ARG}, {3, 1, CL_LEDGER_NEW}, {3, 998, CL_LEDGER_NEW},
        {3, 999, CL_LEDGER_NEW}, {3, 1000, CL_ERR_ARG},
        {4, CL_LEDGER_AMOUNT_MAX - 1, CL_LEDGER_NEW}, {4, CL_LEDGER_AMOUNT_MAX, CL_LEDGER_NEW},
        {4, CL_LEDGER_AMOUNT_MAX + 1, CL_ERR_ARG}, {4, -CL_LEDGER_AMOUNT_MAX, CL_LEDGER_NEW},
        {4, -CL_LEDGER_AMOUNT_MAX - 1, CL_ERR_ARG}, {4, 0, CL_LEDGER_NEW},
    };
    for (size_t i = 0; i < CL_ARRAY_LEN(c); i++) {
        struct cl_ledger_txn t = mk(300 + (uint32_t)i, 1), o;
        uint8_t big[40];
        memset(big, 'd', sizeof(big));
        switch (c[i].field) {
        case 0:
            memcpy(t.device_id, big, CL_LEDGER_DEVICE_ID_MAX);
            t.device_id_len = (uint8_t)c[i].v;
            break;
        case 1:
            memcpy(t.account, big, CL_LEDGER_ACCOUNT_MAX);
            t.account_len = (uint8_t)c[i].v;
            break;
        case 2:
            t.kind = (uint8_t)c[i].v;
            break;
        case 3:
            t.currency = (uint16_t)c[i].v;
            break;
        default:
            t.amount = c[i].v;
            break;
        }
        ck_assert_msg(lg->begin(&db, &t, &o) == c[i].want, "case %zu", i);
        if (c[i].want == CL_LEDGER_NEW) {
            ck_assert_int_eq(lg->get(&db, t.id, &o), CL_OK);
            ck_assert_uint_eq(o.device_id_len, t.device_id_len);
            ck_assert_mem_eq(o.device_id, t.device_id, t.device_id_len);
            ck_assert_uint_eq(o.account_len, t.account_len);
            ck_assert_uint_eq(o.kind, t.kind);
            ck_assert_uint_eq(o.currency, t.currency);
            ck_assert_int_eq(o.amount, t.amount);
        } else {
            ck_assert_int_eq(lg->get(&db, t.id, &o), CL_ERR_NOT_FOUND);
        }
    }
    ck_assert_int_eq(lg->begin(&db, NULL, NULL), CL_ERR_ARG);
}
END_TEST

/* A receipt of CL_LEDGER_RECEIPT_MAX - 1, MAX, MAX + 1 bytes. */
START_TEST(test_receipt_bounds)
{
    static uint8_t r[CL_LEDGER_RECEIPT_MAX + 1];
    size_t n = CL_LEDGER_RECEIPT_MAX - 1 + (size_t)_i;
    struct cl_ledger_txn t = mk(400, -1), o;
    for (size_t i = 0; i < sizeof(r); i++)
        r[i] = (uint8_t)(i * 13 + 1);
    ck_assert_int_eq(lg->begin(&db, &t, NULL), CL_LEDGER_NEW);
    if (n > CL_LEDGER_RECEIPT_MAX) {
        ck_assert_int_eq(lg->commit(&db, t.id, CL_LEDGER_APPROVED, r, n, 1), CL_ERR_ARG);
        ck_assert_int_eq(lg->get(&db, t.id, &o), CL_OK);
        ck_assert_int_eq(o.outcome, CL_LEDGER_PENDING);
        return;
    }
    ck_assert_int_eq(lg->commit(&db, t.id, CL_LEDGER_APPROVED, r, n, 1), CL_OK);
    ck_assert_int_eq(lg->get(&db, t.id, &o), CL_OK);
    ck_assert_uint_eq(o.receipt_len, n);
    ck_assert_mem_eq(o.receipt, r, n);
}
END_TEST

/* -------------------------------------------------------- listings */

struct collect {
    int n, stop_at;
    uint32_t ids[16];
    int64_t vals[16];
    uint64_t upd[16];
    char names[16][40];
};

static int txn_cb(void *arg, const struct cl_ledger_txn *t)
{
    struct collect *c = arg;
    c->ids[c->n] = t->id[15];
    c->vals[c->n] = t->amount;
    c->n++;
    return c->n == c->stop_at ? 77 : 0;
}

static int bal_cb(void *arg, const struct cl_ledger_balance *b)
{
    struct collect *c = arg;
    snprintf(c->names[c->n], sizeof(c->names[0]), "%.*s/%u/%u", (int)b->account_len,
             (const char *)b->account, b->currency, b->txns);
    c->vals[c->n] = b->balance;
    c->upd[c->n] = b->updated;
    c->n++;
    return 0;
}

static int dev_cb(void *arg, const struct cl_ledger_device *d)
{
    struct collect *c = arg;
    snprintf(c->names[c->n], sizeof(c->names[0]), "%.*s/%u/%u/%u", (int)d->id_len,
             (const char *)d->id, (unsigned)d->first_seen, (unsigned)d->last_seen, d->txns);
    c->n++;
    return 0;
}

static int bal_stop(void *arg, const struct cl_ledger_balance *b)
{
    (void)arg;
    (void)b;
    return 78;
}

static int dev_stop(void *arg, const struct cl_ledger_device *d)
{
    (void)arg;
    (void)d;
    return 79;
}

START_TEST(test_listings)
{
    struct collect c;
    struct cl_ledger_filter f;
    for (uint32_t i = 1; i <= 6; i++) {
        struct cl_ledger_txn t = mk(i, -(int64_t)i * 100);
        if (i % 2 == 0) {
            memcpy(t.device_id, "dev-B", 5);
            memcpy(t.account, "card-2", 6);
        }
        if (i == 6)
            t.currency = 840;
        ck_assert_int_eq(lg->begin(&db, &t, NULL), CL_LEDGER_NEW);
        if (i != 5)
            ck_assert_int_eq(lg->commit(&db, t.id, CL_LEDGER_APPROVED, NULL, 0, 2000 + i), CL_OK);
    }
    memset(&c, 0, sizeof(c));
    ck_assert_int_eq(lg->list_txns(&db, NULL, txn_cb, &c), CL_OK);
    ck_assert_int_eq(c.n, 6);
    for (int i = 0; i < 6; i++)
        ck_assert_uint_eq(c.ids[i], 6 - (uint32_t)i);   /* newest first */
    memset(&c, 0, sizeof(c));
    memset(&f, 0, sizeof(f));
    f.device_id = (const uint8_t *)"dev-B";
    f.device_id_len = 5;
    ck_assert_int_eq(lg->list_txns(&db, &f, txn_cb, &c), CL_OK);
    ck_assert_int_eq(c.n, 3);
    ck_assert_uint_eq(c.ids[0], 6);
    ck_assert_uint_eq(c.ids[2], 2);
    memset(&c, 0, sizeof(c));
    f.limit = 2;
    ck_assert_int_eq(lg->list_txns(&db, &f, txn_cb, &c), CL_OK);
    ck_assert_int_eq(c.n, 2);
    memset(&c, 0, sizeof(c));
    memset(&f, 0, sizeof(f));
    f.account = (const uint8_t *)"card-1";
    f.account_len = 6;
    ck_assert_int_eq(lg->list_txns(&db, &f, txn_cb, &c), CL_OK);
    ck_assert_int_eq(c.n, 3);
    ck_assert_int_eq(c.vals[0], -500);
    memset(&c, 0, sizeof(c));
    c.stop_at = 2;   /* the callback stops the listing */
    ck_assert_int_eq(lg->list_txns(&db, NULL, txn_cb, &c), 77);
    ck_assert_int_eq(c.n, 2);
    /* a listing stopped half-way leaves nothing behind: the next one is whole */
    memset(&c, 0, sizeof(c));
    ck_assert_int_eq(lg->list_txns(&db, NULL, txn_cb, &c), CL_OK);
    ck_assert_int_eq(c.n, 6);
    ck_assert_uint_eq(c.ids[0], 6);
    memset(&c, 0, sizeof(c));
    c.stop_at = 1;
    ck_assert_int_eq(lg->list_balances(&db, bal_stop, &c), 78);
    ck_assert_int_eq(lg->list_devices(&db, dev_stop, &c), 79);
    f.account_len = 0;
    ck_assert_int_eq(lg->list_txns(&db, &f, txn_cb, &c), CL_ERR_ARG);
    f.account_len = 33;
    ck_assert_int_eq(lg->list_txns(&db, &f, txn_cb, &c), CL_ERR_ARG);
    memset(&f, 0, sizeof(f));
    f.device_id = (const uint8_t *)"dev-B";
    ck_assert_int_eq(lg->list_txns(&db, &f, txn_cb, &c), CL_ERR_ARG);   /* length 0 */
    f.device_id_len = 33;
    ck_assert_int_eq(lg->list_txns(&db, &f, txn_cb, &c), CL_ERR_ARG);
    ck_assert_int_eq(lg->list_txns(&db, NULL, NULL, &c), CL_ERR_ARG);
    /* balances: by account then currency; txn 5 pending moved nothing */
    memset(&c, 0, sizeof(c));
    ck_assert_int_eq(lg->list_balances(&db, bal_cb, &c), CL_OK);
    ck_assert_int_eq(c.n, 3);
    ck_assert_str_eq(c.names[0], "card-1/978/2");
    ck_assert_int_eq(c.vals[0], -400);
    ck_assert_str_eq(c.names[1], "card-2/840/1");
    ck_assert_int_eq(c.vals[1], -600);
    ck_assert_str_eq(c.names[2], "card-2/978/2");
    ck_assert_int_eq(c.vals[2], -600);
    ck_assert_int_eq(lg->list_balances(&db, NULL, &c), CL_ERR_ARG);
    memset(&c, 0, sizeof(c));   /* whole again after the stop above */
    ck_assert_int_eq(lg->list_balances(&db, bal_cb, &c), CL_OK);
    ck_assert_int_eq(c.n, 3);
    /* devices: first and last seen from the begin() clocks */
    memset(&c, 0, sizeof(c));
    ck_assert_int_eq(lg->list_devices(&db, dev_cb, &c), CL_OK);
    ck_assert_int_eq(c.n, 2);
    ck_assert_str_eq(c.names[0], "dev-A/1001/1005/3");
    ck_assert_str_eq(c.names[1], "dev-B/1002/1006/3");   /* whole after the stop */
    ck_assert_int_eq(lg->list_devices(&db, NULL, &c), CL_ERR_ARG);
}
END_TEST

/* The smallest and largest ids a listing shows, and what a row reads
 * back: the update times, nothing past a field's length. */
START_TEST(test_listing_edges)
{
    struct collect c;
    struct cl_ledger_filter f;
    struct cl_ledger_txn t = mk(1, 250), o;
    struct cl_ledger_balance b;
    memcpy(t.device_id, "d", 1);
    t.device_id_len = 1;
    memcpy(t.account, "a", 1);
    t.account_len = 1;
    ck_assert_int_eq(lg->begin(&db, &t, NULL), CL_LEDGER_NEW);
    ck_assert_int_eq(lg->commit(&db, t.id, CL_LEDGER_APPROVED, NULL, 0, 4242), CL_OK);
    t = mk(2, 7);
    memset(t.account, 'A', CL_LEDGER_ACCOUNT_MAX);
    t.account_len = CL_LEDGER_ACCOUNT_MAX;
    ck_assert_int_eq(lg->begin(&db, &t, NULL), CL_LEDGER_NEW);
    memset(&c, 0, sizeof(c));
    ck_assert_int_eq(lg->list_balances(&db, bal_cb, &c), CL_OK);
    ck_assert_int_eq(c.n, 1);
    ck_assert_str_eq(c.names[0], "a/978/1");
    ck_assert_uint_eq(c.upd[0], 4242);
    memset(&c, 0, sizeof(c));
    ck_assert_int_eq(lg->list_devices(&db, dev_cb, &c), CL_OK);
    ck_assert_int_eq(c.n, 2);
    ck_assert_str_eq(c.names[0], "d/1001/1001/1");
    /* one-byte filters */
    memset(&c, 0, sizeof(c));
    memset(&f, 0, sizeof(f));
    f.account = (const uint8_t *)"a";
    f.account_len = 1;
    f.device_id = (const uint8_t *)"d";
    f.device_id_len = 1;
    ck_assert_int_eq(lg->list_txns(&db, &f, txn_cb, &c), CL_OK);
    ck_assert_int_eq(c.n, 1);
    ck_assert_uint_eq(c.ids[0], 1);
    /* an account of 32 bytes filters */
    memset(&c, 0, sizeof(c));
    memset(&f, 0, sizeof(f));
    f.account = t.account;
    f.account_len = CL_LEDGER_ACCOUNT_MAX;
    ck_assert_int_eq(lg->list_txns(&db, &f, txn_cb, &c), CL_OK);
    ck_assert_int_eq(c.n, 1);
    ck_assert_uint_eq(c.ids[0], 2);
    /* balance(): the time of the last move */
    ck_assert_int_eq(lg->balance(&db, (const uint8_t *)"a", 1, 978, &b), CL_OK);
    ck_assert_int_eq(b.balance, 250);
    ck_assert_uint_eq(b.txns, 1);
    ck_assert_uint_eq(b.updated, 4242);
    ck_assert_uint_eq(b.account_len, 1);
    ck_assert_uint_eq(b.account[0], 'a');
    ck_assert_uint_eq(b.currency, 978);
    /* an account of 32 bytes has a balance */
    ck_assert_int_eq(lg->balance(&db, t.account, CL_LEDGER_ACCOUNT_MAX, 978, &b), CL_OK);
    ck_assert_uint_eq(b.account_len, CL_LEDGER_ACCOUNT_MAX);
    /* currencies 1 and 999 are currencies (nothing moved them) */
    ck_assert_int_eq(lg->balance(&db, (const uint8_t *)"a", 1, 999, &b), CL_OK);
    ck_assert_uint_eq(b.currency, 999);
    ck_assert_int_eq(lg->balance(&db, (const uint8_t *)"a", 1, 1, &b), CL_OK);
    ck_assert_int_eq(b.balance, 0);
    ck_assert_uint_eq(b.currency, 1);
    /* a device id of 32 bytes filters */
    t = mk(3, 9);
    memset(t.device_id, 'D', CL_LEDGER_DEVICE_ID_MAX);
    t.device_id_len = CL_LEDGER_DEVICE_ID_MAX;
    ck_assert_int_eq(lg->begin(&db, &t, NULL), CL_LEDGER_NEW);
    memset(&c, 0, sizeof(c));
    memset(&f, 0, sizeof(f));
    f.device_id = t.device_id;
    f.device_id_len = CL_LEDGER_DEVICE_ID_MAX;
    ck_assert_int_eq(lg->list_txns(&db, &f, txn_cb, &c), CL_OK);
    ck_assert_int_eq(c.n, 1);
    ck_assert_uint_eq(c.ids[0], 3);
    /* get(): the bytes past each field's length are zero */
    memset(&o, 0xEE, sizeof(o));
    ck_assert_int_eq(lg->get(&db, mk(1, 0).id, &o), CL_OK);
    ck_assert_uint_eq(o.device_id_len, 1);
    ck_assert_uint_eq(o.device_id[1], 0);
    ck_assert_uint_eq(o.device_id[CL_LEDGER_DEVICE_ID_MAX - 1], 0);
    ck_assert_uint_eq(o.account[1], 0);
    ck_assert_uint_eq(o.receipt[0], 0);
    ck_assert_uint_eq(o.decided, 4242);
}
END_TEST

/* --------------------------------------------------- session store */

static struct cl_ledger_session ses_a, out_s;

static void mk_ses(struct cl_ledger_session *s, const char *tok, const char *dev, uint64_t saved,
                   uint32_t state_len)
{
    memset(s, 0, sizeof(*s));
    s->token_len = (uint8_t)strlen(tok);
    memcpy(s->token, tok, s->token_len);
    s->device_id_len = (uint8_t)strlen(dev);
    memcpy(s->device_id, dev, s->device_id_len);
    s->saved = saved;
    s->state_len = state_len;
    for (uint32_t i = 0; i < state_len; i++)
        s->state[i] = (uint8_t)(i ^ saved);
}

START_TEST(test_sessions)
{
    static struct cl_ledger_session b;
    mk_ses(&ses_a, "tok-0123456789ab", "dev-A", 10, 100);
    ck_assert_int_eq(ss->find(&db, ses_a.token, 16, (const uint8_t *)"dev-A", 5, &out_s),
                     CL_ERR_NOT_FOUND);
    ck_assert_int_eq(ss->save(&db, &ses_a), CL_OK);
    ck_assert_int_eq(ss->find(&db, ses_a.token, 16, (const uint8_t *)"dev-A", 5, &out_s), CL_OK);
    ck_assert_uint_eq(out_s.saved, 10);
    ck_assert_uint_eq(out_s.state_len, 100);
    ck_assert_mem_eq(out_s.state, ses_a.state, 100);
    ck_assert_uint_eq(out_s.token_len, 16);
    ck_assert_mem_eq(out_s.token, ses_a.token, 16);
    ck_assert_uint_eq(out_s.device_id_len, 5);
    ck_assert_mem_eq(out_s.device_id, "dev-A", 5);
    /* the right token with another device id: not found */
    ck_assert_int_eq(ss->find(&db, ses_a.token, 16, (const uint8_t *)"dev-B", 5, &out_s),
                     CL_ERR_NOT_FOUND);
    ck_assert_int_eq(ss->find(&db, ses_a.token, 16, (const uint8_t *)"dev-", 4, &out_s),
                     CL_ERR_NOT_FOUND);
    /* the right device with a wrong, a shorter or a longer token */
    ck_assert_int_eq(ss->find(&db, (const uint8_t *)"tok-0123456789aX", 16,
                              (const uint8_t *)"dev-A", 5, &out_s),
                     CL_ERR_NOT_FOUND);
    ck_assert_int_eq(ss->find(&db, (const uint8_t *)"Tok-0123456789ab", 16,
                              (const uint8_t *)"dev-A", 5, &out_s),
                     CL_ERR_NOT_FOUND);   /* the first byte counts too */
    ck_assert_int_eq(ss->find(&db, ses_a.token, 15, (const uint8_t *)"dev-A", 5, &out_s),
                     CL_ERR_NOT_FOUND);
    ck_assert_int_eq(ss->find(&db, (const uint8_t *)"tok-0123456789abc", 17,
                              (const uint8_t *)"dev-A", 5, &out_s),
                     CL_ERR_NOT_FOUND);
    /* another device cannot save over the token */
    mk_ses(&b, "tok-0123456789ab", "dev-B", 11, 3);
    ck_assert_int_eq(ss->save(&db, &b), CL_ERR_DUPLICATE);
    ck_assert_int_eq(ss->find(&db, ses_a.token, 16, (const uint8_t *)"dev-A", 5, &out_s), CL_OK);
    ck_assert_uint_eq(out_s.state_len, 100);
    /* the same device replaces its session; a second session for it */
    mk_ses(&ses_a, "tok-0123456789ab", "dev-A", 12, 0);
    ck_assert_int_eq(ss->save(&db, &ses_a), CL_OK);
    mk_ses(&b, "tok-second", "dev-A", 20, 7);
    ck_assert_int_eq(ss->save(&db, &b), CL_OK);
    ck_assert_int_eq(ss->find(&db, ses_a.token, 16, (const uint8_t *)"dev-A", 5, &out_s), CL_OK);
    ck_assert_uint_eq(out_s.saved, 12);
    ck_assert_uint_eq(out_s.state_len, 0);
    ck_assert_int_eq(ss->find(&db, b.token, 10, (const uint8_t *)"dev-A", 5, &out_s), CL_OK);
    ck_assert_uint_eq(out_s.state_len, 7);
    /* another server node (another connection) resumes it */
    {
        struct cl_ledger_sqlite node2;
        cl_ledger_sqlite_init(&node2);
        ck_assert_int_eq(cl_ledger_sqlite_open(&node2, path, 0), CL_OK);
        ck_assert_int_eq(ss->find(&node2, b.token, 10, (const uint8_t *)"dev-A", 5, &out_s),
                         CL_OK);
        ck_assert_mem_eq(out_s.state, b.state, 7);
        cl_ledger_sqlite_close(&node2);
    }
    /* expire: sessions saved before 15 */
    /* saved exactly at the limit: kept ("before" is strict) */
    mk_ses(&b, "tok-at-15", "dev-A", 15, 1);
    ck_assert_int_eq(ss->save(&db, &b), CL_OK);
    ck_assert_int_eq(ss->expire(&db, 15), 1);
    ck_assert_int_eq(ss->find(&db, b.token, 9, (const uint8_t *)"dev-A", 5, &out_s), CL_OK);
    ck_assert_int_eq(ss->drop(&db, b.token, 9), CL_OK);
    mk_ses(&b, "tok-second", "dev-A", 20, 7);
    ck_assert_int_eq(ss->expire(&db, 15), 0);
    ck_assert_int_eq(ss->find(&db, ses_a.token, 16, (const uint8_t *)"dev-A", 5, &out_s),
                     CL_ERR_NOT_FOUND);
    /* drop, twice */
    ck_assert_int_eq(ss->drop(&db, b.token, 10), CL_OK);
    ck_assert_int_eq(ss->drop(&db, b.token, 10), CL_OK);
    ck_assert_int_eq(ss->find(&db, b.token, 10, (const uint8_t *)"dev-A", 5, &out_s),
                     CL_ERR_NOT_FOUND);
    /* arguments */
    ck_assert_int_eq(ss->find(&db, NULL, 1, (const uint8_t *)"d", 1, &out_s), CL_ERR_ARG);
    ck_assert_int_eq(ss->find(&db, b.token, 1, NULL, 1, &out_s), CL_ERR_ARG);
    ck_assert_int_eq(ss->find(&db, b.token, 1, (const uint8_t *)"d", 1, NULL), CL_ERR_ARG);
    ck_assert_int_eq(ss->save(&db, NULL), CL_ERR_ARG);
    ck_assert_int_eq(ss->drop(&db, NULL, 1), CL_ERR_ARG);
    ck_assert_int_eq(ss->drop(&db, b.token, 0), CL_ERR_ARG);
    ck_assert_int_eq(ss->drop(&db, b.token, 33), CL_ERR_ARG);
    /* a session saved by a device that never began a transaction makes it
     * known (first and last seen: the save's clock, no transactions) */
    mk_ses(&b, "tok-newdev", "dev-N", 9, 1);
    ck_assert_int_eq(ss->save(&db, &b), CL_OK);
    {
        struct collect c;
        memset(&c, 0, sizeof(c));
        ck_assert_int_eq(lg->list_devices(&db, dev_cb, &c), CL_OK);
        ck_assert_int_eq(c.n, 2);
        ck_assert_str_eq(c.names[1], "dev-N/9/9/0");
    }
    /* tokens of 1 and 32 bytes are tokens */
    mk_ses(&b, "1", "dev-A", 30, 2);
    ck_assert_int_eq(ss->save(&db, &b), CL_OK);
    ck_assert_int_eq(ss->drop(&db, b.token, 1), CL_OK);
    ck_assert_int_eq(ss->find(&db, b.token, 1, (const uint8_t *)"dev-A", 5, &out_s),
                     CL_ERR_NOT_FOUND);
    mk_ses(&b, "0123456789abcdef0123456789abcdef", "dev-A", 31, 2);
    ck_assert_int_eq(ss->save(&db, &b), CL_OK);
    ck_assert_int_eq(ss->drop(&db, b.token, 32), CL_OK);
    ck_assert_int_eq(ss->find(&db, b.token, 32, (const uint8_t *)"dev-A", 5, &out_s),
                     CL_ERR_NOT_FOUND);
}
END_TEST

/* Token length, device id length and state size at N-1, N, N+1. */
START_TEST(test_session_bounds)
{
    static const struct {
        int field;      /* 0 token_len, 1 device_id_len, 2 state_len */
        uint32_t v;
        int want;
    } c[] = {
        {0, 0, CL_ERR_ARG}, {0, 1, CL_OK}, {0, 31, CL_OK}, {0, 32, CL_OK}, {0, 33, CL_ERR_ARG},
        {1, 0, CL_ERR_ARG}, {1, 1, CL_OK}, {1, 31, CL_OK}, {1, 32, CL_OK}, {1, 33, CL_ERR_ARG},
        {2, 0, CL_OK}, {2, CL_LEDGER_SESSION_MAX - 1, CL_OK}, {2, CL_LEDGER_SESSION_MAX, CL_OK},
        {2, CL_LEDGER_SESSION_MAX + 1, CL_ERR_ARG},
    };
    for (size_t i = 0; i < CL_ARRAY_LEN(c); i++) {
        char tok[40];
        snprintf(tok, sizeof(tok), "T%02zu", i);
        mk_ses(&ses_a, tok, "dev-bounds", i, 5);
        memset(ses_a.token + 3, 't', sizeof(ses_a.token) - 3);
        memset(ses_a.device_id + 10, 'd', sizeof(ses_a.device_id) - 10);
        if (c[i].field == 0)
            ses_a.token_len = (uint8_t)c[i].v;
        else if (c[i].field == 1)
            ses_a.device_id_len = (uint8_t)c[i].v;
        else if (c[i].v <= CL_LEDGER_SESSION_MAX)
            mk_ses(&ses_a, tok, "dev-bounds", i, c[i].v);
        else
            ses_a.state_len = c[i].v;
        ck_assert_msg(ss->save(&db, &ses_a) == c[i].want, "case %zu", i);
        if (c[i].want == CL_OK) {
            memset(&out_s, 0, sizeof(out_s));
            ck_assert_int_eq(ss->find(&db, ses_a.token, ses_a.token_len, ses_a.device_id,
                                      ses_a.device_id_len, &out_s),
                             CL_OK);
            ck_assert_uint_eq(out_s.state_len, ses_a.state_len);
            ck_assert_mem_eq(out_s.state, ses_a.state, ses_a.state_len);
        }
        if (c[i].field < 2 && c[i].v <= 32)
            ck_assert_int_eq(ss->find(&db, ses_a.token, ses_a.token_len, ses_a.device_id,
                                      ses_a.device_id_len, &out_s),
                             c[i].want == CL_OK ? CL_OK : CL_ERR_ARG);
    }
}
END_TEST

/* ------------------------------------------------- processes and kills */

#define RACERS 6
#define RACE_IDS 25

/* RACERS processes, each its own connection, released at once, begin the
 * same RACE_IDS ids: each id is NEW for exactly one of them. */
START_TEST(test_race)
{
    int (*res)[RACE_IDS] = mmap(NULL, sizeof(int) * RACERS * RACE_IDS, PROT_READ | PROT_WRITE,
                                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int go[2];
    pid_t pids[RACERS];
    ck_assert_ptr_ne(res, MAP_FAILED);
    ck_assert_int_eq(pipe(go), 0);
    for (int p = 0; p < RACERS; p++) {
        pids[p] = fork();
        ck_assert_int_ge(pids[p], 0);
        if (pids[p] == 0) {
            struct cl_ledger_sqlite mine;
            char c;
            close(go[1]);
            cl_ledger_sqlite_init(&mine);
            if (cl_ledger_sqlite_open(&mine, path, 30000) != CL_OK)
                _exit(2);
            if (read(go[0], &c, 1) != 0)   /* EOF: everyone starts */
                _exit(3);
            for (int i = 0; i < RACE_IDS; i++) {
                struct cl_ledger_txn t = mk(500 + (uint32_t)i, -10);
                memcpy(t.device_id, "racer", 5);
                res[p][i] = cl_ledger_sqlite_port()->begin(&mine, &t, NULL);
            }
            cl_ledger_sqlite_close(&mine);
            _exit(0);
        }
    }
    close(go[0]);
    usleep(100000);   /* let them open */
    close(go[1]);
    for (int p = 0; p < RACERS; p++) {
        int st;
        ck_assert_int_eq(waitpid(pids[p], &st, 0), pids[p]);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "racer %d: status %d", p, st);
    }
    for (int i = 0; i < RACE_IDS; i++) {
        int fresh = 0, already = 0;
        for (int p = 0; p < RACERS; p++) {
            fresh += res[p][i] == CL_LEDGER_NEW;
            already += res[p][i] == CL_LEDGER_ALREADY;
        }
        ck_assert_msg(fresh == 1 && already == RACERS - 1, "id %d: %d NEW, %d ALREADY", i, fresh,
                      already);
    }
    {
        struct collect c;
        memset(&c, 0, sizeof(c));
        ck_assert_int_eq(lg->list_devices(&db, dev_cb, &c), CL_OK);
        ck_assert_int_eq(c.n, 1);
        ck_assert_str_eq(c.names[0], "racer/1500/1524/25");   /* counted once per id */
    }
    munmap(res, sizeof(int) * RACERS * RACE_IDS);
}
END_TEST

static int kill_point;

static void kill_self(struct cl_ledger_sqlite *l, int point)
{
    (void)l;
    if (point == kill_point)
        raise(SIGKILL);
}

/* A writer killed inside commit()'s transaction (after the outcome is
 * written, before the balance moves; before COMMIT): the database opens,
 * the transaction is PENDING, the balance unmoved; the retry commits once. */
START_TEST(test_kill_in_commit)
{
    struct cl_ledger_txn t = mk(600, -700), o;
    pid_t pid;
    int st;
    uint32_t n;
    ck_assert_int_eq(lg->begin(&db, &t, NULL), CL_LEDGER_NEW);
    kill_point = _i;
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct cl_ledger_sqlite w;
        cl_ledger_sqlite_init(&w);
        if (cl_ledger_sqlite_open(&w, path, 0) != CL_OK)
            _exit(2);
        w.test_hook = kill_self;
        (void)cl_ledger_sqlite_port()->commit(&w, t.id, CL_LEDGER_APPROVED, NULL, 0, 9);
        _exit(4);
    }
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    cl_ledger_sqlite_close(&db);
    ck_assert_int_eq(cl_ledger_sqlite_open(&db, path, 0), CL_OK);
    ck_assert_int_eq(lg->get(&db, t.id, &o), CL_OK);
    ck_assert_int_eq(o.outcome, CL_LEDGER_PENDING);
    ck_assert_int_eq(balance_of("card-1", 978, &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(lg->commit(&db, t.id, CL_LEDGER_APPROVED, NULL, 0, 10), CL_OK);
    ck_assert_int_eq(balance_of("card-1", 978, &n), -700);
    ck_assert_uint_eq(n, 1);
}
END_TEST

struct sums {
    int64_t by_acct[3];
    uint32_t n[3];
};

static int sum_cb(void *arg, const struct cl_ledger_txn *t)
{
    struct sums *s = arg;
    if (t->outcome == CL_LEDGER_APPROVED) {
        int a = t->account[5] - '0';
        s->by_acct[a] += t->amount;
        s->n[a]++;
    }
    return 0;
}

/* Writers killed at random points of a begin/commit loop: every time the
 * database opens and each balance equals the sum of its APPROVED
 * transactions (nothing half-committed). */
START_TEST(test_kill_loop)
{
    uint32_t next = 1000, total = 0;
    volatile uint32_t *commits = mmap(NULL, sizeof(*commits), PROT_READ | PROT_WRITE,
                                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne((void *)commits, MAP_FAILED);
    for (int round = 0; round < 12; round++) {
        *commits = 0;
        pid_t pid = fork();
        int st;
        struct sums s;
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            struct cl_ledger_sqlite w;
            cl_ledger_sqlite_init(&w);
            if (cl_ledger_sqlite_open(&w, path, 30000) != CL_OK)
                _exit(2);
            for (uint32_t i = next;; i++) {
                struct cl_ledger_txn t = mk(i, (int64_t)(i % 7) * 10 - 30);
                t.account[5] = (uint8_t)('0' + i % 3);
                if (t.amount == 0)
                    t.amount = 1;
                if (cl_ledger_sqlite_port()->begin(&w, &t, NULL) < 0)
                    _exit(3);
                if (cl_ledger_sqlite_port()->commit(&w, t.id,
                                                    i % 5 ? CL_LEDGER_APPROVED
                                                          : CL_LEDGER_DECLINED,
                                                    t.id, 16, i) != CL_OK)
                    _exit(4);
                __sync_fetch_and_add(commits, 1);
            }
        }
        /* after a few commits, then a little later each round, so that
         * the kill lands at different points of a begin or a commit */
        while (*commits < 2)
            usleep(500);
        usleep((unsigned)round * 1700u);
        ck_assert_int_eq(kill(pid, SIGKILL), 0);
        ck_assert_int_eq(waitpid(pid, &st, 0), pid);
        ck_assert_msg(WIFSIGNALED(st), "writer exited %d", WEXITSTATUS(st));
        cl_ledger_sqlite_close(&db);
        ck_assert_int_eq(cl_ledger_sqlite_open(&db, path, 0), CL_OK);
        memset(&s, 0, sizeof(s));
        ck_assert_int_eq(lg->list_txns(&db, NULL, sum_cb, &s), CL_OK);
        for (int a = 0; a < 3; a++) {
            char acct[8];
            uint32_t n;
            snprintf(acct, sizeof(acct), "card-%d", a);
            ck_assert_int_eq(balance_of(acct, 978, &n), s.by_acct[a]);
            ck_assert_uint_eq(n, s.n[a]);
        }
        /* the writer got somewhere each round */
        ck_assert_uint_gt(s.n[0] + s.n[1] + s.n[2], total);
        total = s.n[0] + s.n[1] + s.n[2];
        next += 100000;
    }
    fprintf(stderr, "kill loop: 12 writers killed, %u approved transactions kept\n", total);
    munmap((void *)commits, sizeof(*commits));
}
END_TEST

/* ------------------------------------------------- the sqlite3 shell */

/* Run the sqlite3 shell on the database; its output into out. */
static void shell(const char *query, char *out, size_t size)
{
    char cmd[1024];
    FILE *p;
    size_t n;
    snprintf(cmd, sizeof(cmd), "'%s' -readonly -batch '%s' \"%s\"", CL_SQLITE3_CLI, path, query);
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    ck_assert_int_eq(pclose(p), 0);
}

START_TEST(test_sqlite3_shell)
{
    char out[4096];
    struct cl_ledger_txn t = mk(0x0A0B0C0D, -1999);
    static struct cl_ledger_session s;
    ck_assert_int_eq(lg->begin(&db, &t, NULL), CL_LEDGER_NEW);
    ck_assert_int_eq(lg->commit(&db, t.id, CL_LEDGER_APPROVED, (const uint8_t *)"\x30\x45", 2, 77),
                     CL_OK);
    t = mk(2, 500);
    ck_assert_int_eq(lg->begin(&db, &t, NULL), CL_LEDGER_NEW);
    mk_ses(&s, "tok", "dev-A", 5, 2);
    ck_assert_int_eq(ss->save(&db, &s), CL_OK);
    shell("PRAGMA journal_mode; PRAGMA user_version;", out, sizeof(out));
    ck_assert_str_eq(out, "wal\n1\n");
    shell("SELECT hex(id), CAST(device_id AS TEXT), CAST(account AS TEXT), kind, currency,"
          " amount, created, outcome, decided, hex(receipt) FROM txns ORDER BY seq;",
          out, sizeof(out));
    ck_assert_str_eq(out,
                     "111111111111111111111111" "0A0B0C0D|dev-A|card-1|1|978|-1999|168497141|1|77|3045\n"
                     "11111111111111111111111100000002|dev-A|card-1|1|978|500|1002|0|0|\n");
    shell("SELECT CAST(account AS TEXT), currency, balance, txns, updated FROM balances;"
          " SELECT CAST(id AS TEXT), first_seen, last_seen, txns FROM devices;"
          " SELECT CAST(token AS TEXT), CAST(device_id AS TEXT), saved, hex(state) FROM sessions;",
          out, sizeof(out));
    ck_assert_str_eq(out, "card-1|978|-1999|1|77\n"
                          "dev-A|168497141|168497141|2\n"
                          "tok|dev-A|5|0504\n");
    /* the id is UNIQUE in the schema itself, not only in this code */
    shell("SELECT sql FROM sqlite_schema WHERE name = 'txns';", out, sizeof(out));
    ck_assert_ptr_nonnull(strstr(out, "id BLOB NOT NULL UNIQUE"));
    shell("PRAGMA integrity_check;", out, sizeof(out));
    ck_assert_str_eq(out, "ok\n");
}
END_TEST

/* One row written by another program: its SQLite result code. */
static int raw_insert(int id_len, int dev_len, int acct_len, int kind, int currency)
{
    sqlite3 *h;
    char q[300];
    int rc;
    snprintf(q, sizeof(q),
             "INSERT INTO txns (id, device_id, account, kind, currency, amount, created)"
             " VALUES (randomblob(%d), zeroblob(%d), zeroblob(%d), %d, %d, 1, 1)",
             id_len, dev_len, acct_len, kind, currency);
    ck_assert_int_eq(sqlite3_open(path, &h), SQLITE_OK);
    sqlite3_busy_timeout(h, 5000);
    rc = sqlite3_exec(h, q, NULL, NULL, NULL);
    sqlite3_close(h);
    return rc;
}

/* The schema holds the ranges itself, against a program that writes the
 * database without this port: each CHECK at its edges. */
START_TEST(test_schema_checks)
{
    static const struct {
        int id, dev, acct, kind, cur, want;
    } c[] = {
        {16, 5, 6, 1, 978, SQLITE_OK},
        {15, 5, 6, 1, 978, SQLITE_CONSTRAINT}, {17, 5, 6, 1, 978, SQLITE_CONSTRAINT},
        {16, 0, 6, 1, 978, SQLITE_CONSTRAINT}, {16, 1, 6, 1, 978, SQLITE_OK},
        {16, 32, 6, 1, 978, SQLITE_OK},        {16, 33, 6, 1, 978, SQLITE_CONSTRAINT},
        {16, 5, 0, 1, 978, SQLITE_CONSTRAINT}, {16, 5, 1, 1, 978, SQLITE_OK},
        {16, 5, 32, 1, 978, SQLITE_OK},        {16, 5, 33, 1, 978, SQLITE_CONSTRAINT},
        {16, 5, 6, 0, 978, SQLITE_CONSTRAINT}, {16, 5, 6, 255, 978, SQLITE_OK},
        {16, 5, 6, 256, 978, SQLITE_CONSTRAINT},
        {16, 5, 6, 1, 0, SQLITE_CONSTRAINT},   {16, 5, 6, 1, 1, SQLITE_OK},
        {16, 5, 6, 1, 999, SQLITE_OK},         {16, 5, 6, 1, 1000, SQLITE_CONSTRAINT},
    };
    struct cl_ledger_txn t = mk(1, 5);
    sqlite3 *h;
    for (size_t i = 0; i < CL_ARRAY_LEN(c); i++)
        ck_assert_msg(raw_insert(c[i].id, c[i].dev, c[i].acct, c[i].kind, c[i].cur) == c[i].want,
                      "case %zu", i);
    /* outcome 0..3 only; the id once */
    ck_assert_int_eq(lg->begin(&db, &t, NULL), CL_LEDGER_NEW);
    ck_assert_int_eq(sqlite3_open(path, &h), SQLITE_OK);
    sqlite3_busy_timeout(h, 5000);
    ck_assert_int_eq(sqlite3_exec(h, "UPDATE txns SET outcome = 3 WHERE amount = 5", NULL, NULL,
                                  NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(h, "UPDATE txns SET outcome = 4 WHERE amount = 5", NULL, NULL,
                                  NULL),
                     SQLITE_CONSTRAINT);
    ck_assert_int_eq(sqlite3_exec(h, "UPDATE txns SET outcome = -1 WHERE amount = 5", NULL,
                                  NULL, NULL),
                     SQLITE_CONSTRAINT);
    ck_assert_int_eq(sqlite3_exec(h,
                                  "INSERT INTO txns (id, device_id, account, kind, currency,"
                                  " amount, created) SELECT id, device_id, account, kind,"
                                  " currency, 6, 1 FROM txns WHERE amount = 5",
                                  NULL, NULL, NULL),
                     SQLITE_CONSTRAINT);
    sqlite3_close(h);
}
END_TEST

/* A row another program wrote past this port's bounds (a receipt of
 * CL_LEDGER_RECEIPT_MAX + 1 bytes; the schema does not bound receipts)
 * is refused whole, CL_ERR_IO, by every call that reads it. */
START_TEST(test_foreign_rows)
{
    struct cl_ledger_txn t = mk(1, 5), o;
    struct collect c;
    sqlite3 *h;
    char q[200];
    ck_assert_int_eq(lg->begin(&db, &t, NULL), CL_LEDGER_NEW);
    ck_assert_int_eq(sqlite3_open(path, &h), SQLITE_OK);
    sqlite3_busy_timeout(h, 5000);
    snprintf(q, sizeof(q), "UPDATE txns SET receipt = zeroblob(%u) WHERE amount = 5",
             CL_LEDGER_RECEIPT_MAX + 1);
    ck_assert_int_eq(sqlite3_exec(h, q, NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(lg->get(&db, t.id, &o), CL_ERR_IO);
    ck_assert_int_eq(lg->begin(&db, &t, &o), CL_ERR_IO);
    memset(&c, 0, sizeof(c));
    ck_assert_int_eq(lg->list_txns(&db, NULL, txn_cb, &c), CL_ERR_IO);
    ck_assert_int_eq(c.n, 0);
    /* CL_LEDGER_RECEIPT_MAX itself reads back */
    snprintf(q, sizeof(q), "UPDATE txns SET receipt = zeroblob(%u) WHERE amount = 5",
             CL_LEDGER_RECEIPT_MAX);
    ck_assert_int_eq(sqlite3_exec(h, q, NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(lg->get(&db, t.id, &o), CL_OK);
    ck_assert_uint_eq(o.receipt_len, CL_LEDGER_RECEIPT_MAX);
    sqlite3_close(h);
    /* a device id of one byte replaces its own session */
    mk_ses(&ses_a, "tok-one", "1", 3, 4);
    ck_assert_int_eq(ss->save(&db, &ses_a), CL_OK);
    mk_ses(&ses_a, "tok-one", "1", 4, 5);
    ck_assert_int_eq(ss->save(&db, &ses_a), CL_OK);
    ck_assert_int_eq(ss->find(&db, ses_a.token, 7, (const uint8_t *)"1", 1, &out_s), CL_OK);
    ck_assert_uint_eq(out_s.saved, 4);
}
END_TEST

static Suite *ledger_suite(void)
{
    Suite *s = suite_create("ledger_sqlite");
    TCase *tc = tcase_create("calls");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_open);
    tcase_add_test(tc, test_open_fd_zero);
    tcase_add_test(tc, test_busy_wait);
    tcase_add_test(tc, test_special_names);
    tcase_add_test(tc, test_newer_schema);
    tcase_add_test(tc, test_closed);
    tcase_add_test(tc, test_begin_twice);
    tcase_add_test(tc, test_commit);
    tcase_add_test(tc, test_overflow);
    tcase_add_test(tc, test_underflow);
    tcase_add_test(tc, test_txn_bounds);
    tcase_add_loop_test(tc, test_receipt_bounds, 0, 3);
    tcase_add_test(tc, test_listings);
    tcase_add_test(tc, test_listing_edges);
    tcase_add_test(tc, test_schema_checks);
    tcase_add_test(tc, test_foreign_rows);
    tcase_add_test(tc, test_sessions);
    tcase_add_test(tc, test_session_bounds);
    tcase_add_test(tc, test_sqlite3_shell);
    suite_add_tcase(s, tc);
    tc = tcase_create("processes");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_race);
    tcase_add_loop_test(tc, test_kill_in_commit, 1, 3);
    tcase_add_test(tc, test_kill_loop);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(ledger_suite());
}
