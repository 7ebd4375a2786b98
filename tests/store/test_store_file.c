/*
 * cardlink tests — the device's non-volatile store over POSIX files
 * (ports/posix/store_file.c, cardlink/store.h): every call and its exact
 * errors, the file format byte for byte, every failure point of a write,
 * and writers killed with SIGKILL in the middle of their writes.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _DEFAULT_SOURCE 1

#include <errno.h>
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

#include "cardlink/error.h"
#include "store_file.h"
#include "test_util.h"

static char dir[256];
static struct cl_store_file sf;
static const struct cl_store *st;

static void rm_rf(const char *d)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
    ck_assert_int_eq(system(cmd), 0);
}

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/cl-store-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    cl_store_file_init(&sf);
    ck_assert_int_eq(cl_store_file_open(&sf, dir), CL_OK);
    st = cl_store_file_port();
}

static void teardown(void)
{
    cl_store_file_close(&sf);
    rm_rf(dir);
}

/* The bytes of DIR/name, or -1 when absent. */
static long file_bytes(const char *name, uint8_t *out, size_t size)
{
    char p[400];
    FILE *f;
    size_t n;
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    f = fopen(p, "rb");
    if (f == NULL)
        return -1;
    n = fread(out, 1, size, f);
    fclose(f);
    return (long)n;
}

static void put_file(const char *name, const uint8_t *b, size_t n)
{
    char p[400];
    FILE *f;
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, n, f), n);
    fclose(f);
}

static bool exists(const char *name)
{
    char p[400];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

/* ------------------------------------------------------------ basics */

START_TEST(test_open_close)
{
    struct cl_store_file other;
    char sub[300];
    cl_store_file_init(&other);
    ck_assert_int_eq(cl_store_file_open(NULL, dir), CL_ERR_ARG);
    ck_assert_int_eq(cl_store_file_open(&other, NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_store_file_open(&other, ""), CL_ERR_ARG);
    ck_assert_int_eq(cl_store_file_open(&sf, dir), CL_ERR_STATE);   /* already open */
    ck_assert_int_eq(cl_store_file_open(&other, dir), CL_ERR_STATE);  /* locked */
    snprintf(sub, sizeof(sub), "%s/no/such", dir);
    ck_assert_int_eq(cl_store_file_open(&other, sub), CL_ERR_IO);    /* parent missing */
    ck_assert_int_eq(other.dirfd, -1);
    /* a new directory is created, once */
    snprintf(sub, sizeof(sub), "%s/sub", dir);
    ck_assert_int_eq(cl_store_file_open(&other, sub), CL_OK);
    cl_store_file_close(&other);
    cl_store_file_close(&other);   /* twice: nothing */
    ck_assert_int_eq(cl_store_file_open(&other, sub), CL_OK);
    cl_store_file_close(&other);
    cl_store_file_close(NULL);
    cl_store_file_init(NULL);
    ck_assert_ptr_null(cl_store_file_stats(NULL));
    /* closing releases the lock */
    cl_store_file_close(&sf);
    ck_assert_int_eq(cl_store_file_open(&other, dir), CL_OK);
    cl_store_file_close(&other);
    ck_assert_int_eq(cl_store_file_open(&sf, dir), CL_OK);
}
END_TEST

START_TEST(test_closed_store)
{
    struct cl_store_file c;
    uint8_t b[4];
    cl_store_file_init(&c);
    ck_assert_int_eq(st->read(&c, "txnlog", b, sizeof(b)), CL_ERR_STATE);
    ck_assert_int_eq(st->write(&c, "txnlog", b, 1), CL_ERR_STATE);
    ck_assert_int_eq(st->erase(&c, "txnlog"), CL_ERR_STATE);
    ck_assert_int_eq(st->read(NULL, "txnlog", b, sizeof(b)), CL_ERR_ARG);
    ck_assert_int_eq(st->write(NULL, "txnlog", b, 1), CL_ERR_ARG);
    ck_assert_int_eq(st->erase(NULL, "txnlog"), CL_ERR_ARG);
}
END_TEST

/* Keys: 1..16 of a-z 0-9 _ - */
static const struct {
    const char *key;
    bool ok;
} keys[] = {
    {"a", true},
    {"txnlog", true},
    {"session", true},
    {"abcdefghijklmno", true},     /* 15 */
    {"abcdefghijklmnop", true},    /* 16 = CL_STORE_KEY_MAX */
    {"abcdefghijklmnopq", false},  /* 17 */
    {"0_9-z", true},
    {"", false},
    {"A", false},
    {"a/b", false},
    {"a.b", false},
    {"..", false},
    {"a b", false},
    {"a\x80", false},
    {NULL, false},
};

START_TEST(test_keys)
{
    const char *k = keys[_i].key;
    uint8_t b[4] = {1, 2, 3, 4};
    int want = keys[_i].ok ? CL_OK : CL_ERR_ARG;
    ck_assert_int_eq(cl_store_key_ok(k), keys[_i].ok);
    ck_assert_int_eq(st->write(&sf, k, b, 4), want);
    ck_assert_int_eq(st->read(&sf, k, b, sizeof(b)), keys[_i].ok ? 4 : CL_ERR_ARG);
    ck_assert_int_eq(st->erase(&sf, k), want);
    ck_assert_int_eq(st->read(&sf, k, b, sizeof(b)), keys[_i].ok ? CL_ERR_NOT_FOUND : CL_ERR_ARG);
}
END_TEST

START_TEST(test_read_write_erase)
{
    uint8_t b[16];
    const struct cl_store_file_stats *ss = cl_store_file_stats(&sf);
    ck_assert_int_eq(st->read(&sf, "txnlog", b, sizeof(b)), CL_ERR_NOT_FOUND);
    ck_assert_int_eq(st->read(&sf, "txnlog", NULL, 0), CL_ERR_NOT_FOUND);
    ck_assert_int_eq(st->read(&sf, "txnlog", NULL, 1), CL_ERR_ARG);
    ck_assert_int_eq(st->write(&sf, "txnlog", NULL, 1), CL_ERR_ARG);
    ck_assert_int_eq(st->write(&sf, "txnlog", (const uint8_t *)"abc", 3), CL_OK);
    memset(b, 0xEE, sizeof(b));
    ck_assert_int_eq(st->read(&sf, "txnlog", b, sizeof(b)), 3);
    cl_assert_bytes(b, 3, "61 62 63");
    ck_assert_int_eq(st->read(&sf, "txnlog", b, 3), 3);              /* exact size */
    ck_assert_int_eq(st->read(&sf, "txnlog", b, 2), CL_ERR_BUFFER);  /* one short */
    ck_assert_int_eq(st->read(&sf, "txnlog", NULL, 0), CL_ERR_BUFFER);
    /* replace, longer and shorter */
    ck_assert_int_eq(st->write(&sf, "txnlog", (const uint8_t *)"defghij", 7), CL_OK);
    ck_assert_int_eq(st->read(&sf, "txnlog", b, sizeof(b)), 7);
    cl_assert_bytes(b, 7, "64 65 66 67 68 69 6A");
    ck_assert_int_eq(st->write(&sf, "txnlog", (const uint8_t *)"k", 1), CL_OK);
    ck_assert_int_eq(st->read(&sf, "txnlog", b, sizeof(b)), 1);
    cl_assert_bytes(b, 1, "6B");
    /* an empty record exists */
    ck_assert_int_eq(st->write(&sf, "session", NULL, 0), CL_OK);
    ck_assert_int_eq(st->read(&sf, "session", NULL, 0), 0);
    ck_assert_int_eq(st->read(&sf, "session", b, sizeof(b)), 0);
    /* erase: gone, twice is fine, the other key stays */
    ck_assert_int_eq(st->erase(&sf, "session"), CL_OK);
    ck_assert_int_eq(st->read(&sf, "session", b, sizeof(b)), CL_ERR_NOT_FOUND);
    ck_assert_int_eq(st->erase(&sf, "session"), CL_OK);
    ck_assert_int_eq(st->erase(&sf, "never"), CL_OK);
    ck_assert_int_eq(st->read(&sf, "txnlog", b, sizeof(b)), 1);
    ck_assert_uint_eq(ss->writes, 4);
    ck_assert_uint_eq(ss->erases, 3);
    ck_assert_uint_eq(ss->reads, 7);
    ck_assert_uint_eq(ss->syncs, 4 * 2 + 3);   /* file + directory per write, directory per erase */
    ck_assert(!exists("txnlog.tmp"));
    ck_assert(!exists("session.rec"));
}
END_TEST

/* The file format, byte for byte (CRC-32 computed with Python's zlib). */
START_TEST(test_format)
{
    uint8_t b[64];
    ck_assert_int_eq(st->write(&sf, "txnlog", (const uint8_t *)"abc", 3), CL_OK);
    ck_assert_int_eq(file_bytes("txnlog.rec", b, sizeof(b)), 15);
    cl_assert_bytes(b, 15, "43 4C 53 31 00 00 00 03 61 62 63 7A C3 30 42");
    ck_assert_int_eq(st->write(&sf, "session", NULL, 0), CL_OK);
    ck_assert_int_eq(file_bytes("session.rec", b, sizeof(b)), 12);
    cl_assert_bytes(b, 12, "43 4C 53 31 00 00 00 00 57 C0 EE 05");
}
END_TEST

/* Sizes at the bound: CL_STORE_RECORD_MAX - 1, MAX, MAX + 1. */
START_TEST(test_sizes)
{
    static uint8_t in[CL_STORE_RECORD_MAX + 1], out[CL_STORE_RECORD_MAX + 1];
    size_t n = CL_STORE_RECORD_MAX - 1 + (size_t)_i;
    for (size_t j = 0; j < sizeof(in); j++)
        in[j] = (uint8_t)(j * 7 + _i);
    ck_assert_int_eq(st->write(&sf, "big", (const uint8_t *)"x", 1), CL_OK);
    if (n > CL_STORE_RECORD_MAX) {
        ck_assert_int_eq(st->write(&sf, "big", in, n), CL_ERR_LIMIT);
        ck_assert_int_eq(st->read(&sf, "big", out, sizeof(out)), 1);   /* unchanged */
        return;
    }
    ck_assert_int_eq(st->write(&sf, "big", in, n), CL_OK);
    ck_assert_int_eq(st->read(&sf, "big", out, n - 1), CL_ERR_BUFFER);
    memset(out, 0, sizeof(out));
    ck_assert_int_eq(st->read(&sf, "big", out, n), (int)n);
    ck_assert_mem_eq(out, in, n);
}
END_TEST

/* Files no write leaves (a disk error, a person): CL_ERR_CHECKSUM. */
START_TEST(test_corrupt)
{
    uint8_t good[15], bad[40], b[32];
    ck_assert_int_eq(st->write(&sf, "txnlog", (const uint8_t *)"abc", 3), CL_OK);
    ck_assert_int_eq(file_bytes("txnlog.rec", good, sizeof(good)), 15);
    for (size_t i = 0; i < 15; i++) {       /* every byte flipped */
        memcpy(bad, good, 15);
        bad[i] ^= 0x01;
        put_file("txnlog.rec", bad, 15);
        ck_assert_int_eq(st->read(&sf, "txnlog", b, sizeof(b)), CL_ERR_CHECKSUM);
    }
    for (size_t n = 0; n < 15; n++) {       /* every truncation */
        put_file("txnlog.rec", good, n);
        ck_assert_int_eq(st->read(&sf, "txnlog", b, sizeof(b)), CL_ERR_CHECKSUM);
    }
    memcpy(bad, good, 15);                   /* a byte too many */
    bad[15] = 0;
    put_file("txnlog.rec", bad, 16);
    ck_assert_int_eq(st->read(&sf, "txnlog", b, sizeof(b)), CL_ERR_CHECKSUM);
    put_file("txnlog.rec", good, 15);
    ck_assert_int_eq(st->read(&sf, "txnlog", b, sizeof(b)), 3);
    /* a record over the bound on disk */
    {
        static uint8_t big[CL_STORE_RECORD_MAX + CL_STORE_FILE_OVERHEAD + 1];
        memcpy(big, "CLS1", 4);
        big[4] = (uint8_t)((CL_STORE_RECORD_MAX + 1) >> 24);
        big[5] = (uint8_t)((CL_STORE_RECORD_MAX + 1) >> 16);
        big[6] = (uint8_t)((CL_STORE_RECORD_MAX + 1) >> 8);
        big[7] = (uint8_t)(CL_STORE_RECORD_MAX + 1);
        put_file("txnlog.rec", big, sizeof(big));
        ck_assert_int_eq(st->read(&sf, "txnlog", b, sizeof(b)), CL_ERR_CHECKSUM);
    }
    /* a write repairs it */
    ck_assert_int_eq(st->write(&sf, "txnlog", (const uint8_t *)"z", 1), CL_OK);
    ck_assert_int_eq(st->read(&sf, "txnlog", b, sizeof(b)), 1);
}
END_TEST

/* A killed writer's KEY.tmp is removed when the store is opened again. */
START_TEST(test_stale_tmp)
{
    uint8_t b[8];
    ck_assert_int_eq(st->write(&sf, "txnlog", (const uint8_t *)"ab", 2), CL_OK);
    put_file("txnlog.tmp", (const uint8_t *)"CLS1\0\0", 6);
    put_file("other.tmp", (const uint8_t *)"", 0);
    put_file("keep.me", (const uint8_t *)"x", 1);
    cl_store_file_close(&sf);
    ck_assert_int_eq(cl_store_file_open(&sf, dir), CL_OK);
    ck_assert_uint_eq(cl_store_file_stats(&sf)->stale_tmp, 2);
    ck_assert(!exists("txnlog.tmp"));
    ck_assert(!exists("other.tmp"));
    ck_assert(exists("keep.me"));
    ck_assert_int_eq(st->read(&sf, "txnlog", b, sizeof(b)), 2);
}
END_TEST

/* The stale-file rule's edges: NAME.tmp is removed when NAME could be a
 * key (1..CL_STORE_KEY_MAX characters before ".tmp"), anything else kept. */
START_TEST(test_stale_tmp_names)
{
    char longest[CL_STORE_KEY_MAX + 5], over[CL_STORE_KEY_MAX + 6];
    memset(longest, 'k', CL_STORE_KEY_MAX);
    memcpy(longest + CL_STORE_KEY_MAX, ".tmp", 5);
    memset(over, 'k', CL_STORE_KEY_MAX + 1);
    memcpy(over + CL_STORE_KEY_MAX + 1, ".tmp", 5);
    put_file(longest, (const uint8_t *)"", 0);
    put_file(over, (const uint8_t *)"", 0);
    put_file("a.tmp", (const uint8_t *)"", 0);
    put_file(".tmp", (const uint8_t *)"", 0);
    put_file("a.tmpx", (const uint8_t *)"", 0);
    cl_store_file_close(&sf);
    ck_assert_int_eq(cl_store_file_open(&sf, dir), CL_OK);
    ck_assert_uint_eq(cl_store_file_stats(&sf)->stale_tmp, 2);
    ck_assert(!exists(longest));
    ck_assert(!exists("a.tmp"));
    ck_assert(exists(over));
    ck_assert(exists(".tmp"));
    ck_assert(exists("a.tmpx"));
}
END_TEST

/* A record that fails its CRC leaves nothing of itself in the buffer. */
START_TEST(test_corrupt_wiped)
{
    uint8_t good[16], bad[16], b[8];
    ck_assert_int_eq(st->write(&sf, "pin", (const uint8_t *)"1234", 4), CL_OK);
    ck_assert_int_eq(file_bytes("pin.rec", good, sizeof(good)), 16);
    for (size_t i = 8; i < 16; i++) {       /* a data or CRC byte flipped */
        memcpy(bad, good, 16);
        bad[i] ^= 0x80;
        put_file("pin.rec", bad, 16);
        memset(b, 0xAA, sizeof(b));
        ck_assert_int_eq(st->read(&sf, "pin", b, sizeof(b)), CL_ERR_CHECKSUM);
        ck_assert_mem_eq(b, "\0\0\0\0\xAA\xAA\xAA\xAA", 8);
    }
}
END_TEST

/* Modes: the directory 0700, the lock and every record 0600 (the store
 * holds the device's transaction log), whatever the umask lets through. */
START_TEST(test_modes)
{
    char p[400];
    struct stat sb;
    mode_t old = umask(0);
    char sub[300];
    struct cl_store_file o;
    snprintf(sub, sizeof(sub), "%s/m", dir);
    cl_store_file_init(&o);
    ck_assert_int_eq(cl_store_file_open(&o, sub), CL_OK);
    ck_assert_int_eq(st->write(&o, "txnlog", (const uint8_t *)"x", 1), CL_OK);
    umask(old);
    ck_assert_int_eq(stat(sub, &sb), 0);
    ck_assert_uint_eq(sb.st_mode & 07777, 0700);
    snprintf(p, sizeof(p), "%s/.lock", sub);
    ck_assert_int_eq(stat(p, &sb), 0);
    ck_assert_uint_eq(sb.st_mode & 07777, 0600);
    snprintf(p, sizeof(p), "%s/txnlog.rec", sub);
    ck_assert_int_eq(stat(p, &sb), 0);
    ck_assert_uint_eq(sb.st_mode & 07777, 0600);
    cl_store_file_close(&o);
}
END_TEST

/* A device runs for months: no call leaves a descriptor open, whether it
 * succeeds or fails. */
START_TEST(test_no_fd_leak)
{
    struct cl_store_file o;
    char sub[300], lockdir[400];
    uint8_t b[8];
    int before = cl_test_open_fds();
    cl_store_file_init(&o);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(cl_store_file_open(&o, dir), CL_ERR_STATE);   /* locked */
        ck_assert_int_eq(st->write(&sf, "txnlog", (const uint8_t *)"ab", 2), CL_OK);
        ck_assert_int_eq(st->read(&sf, "txnlog", b, sizeof(b)), 2);
        ck_assert_int_eq(st->read(&sf, "txnlog", b, 1), CL_ERR_BUFFER);
        ck_assert_int_eq(st->read(&sf, "nothing", b, sizeof(b)), CL_ERR_NOT_FOUND);
        put_file("bad.rec", (const uint8_t *)"CLS1\0\0\0\0\0\0\0\0", 12);
        ck_assert_int_eq(st->read(&sf, "bad", b, sizeof(b)), CL_ERR_CHECKSUM);
        put_file("bad.rec", (const uint8_t *)"CLS1", 4);
        ck_assert_int_eq(st->read(&sf, "bad", b, sizeof(b)), CL_ERR_CHECKSUM);
        ck_assert_int_eq(st->erase(&sf, "txnlog"), CL_OK);
        /* close and open again (the stale-file scan runs each time) */
        cl_store_file_close(&sf);
        ck_assert_int_eq(cl_store_file_open(&sf, dir), CL_OK);
        ck_assert_int_eq(cl_test_open_fds(), before);
    }
    /* a lock file that cannot be opened (a directory in its place) */
    snprintf(sub, sizeof(sub), "%s/x", dir);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    snprintf(lockdir, sizeof(lockdir), "%s/.lock", sub);
    ck_assert_int_eq(mkdir(lockdir, 0700), 0);
    ck_assert_int_eq(cl_store_file_open(&o, sub), CL_ERR_IO);
    ck_assert_int_eq(o.dirfd, -1);
    ck_assert_int_eq(cl_test_open_fds(), before);
}
END_TEST

/* Descriptor 0 is a descriptor like any other: a daemon that closed its
 * standard input gets it for the store's directory or for a record. */
START_TEST(test_fd_zero)
{
    struct cl_store_file o;
    char sub[300];
    uint8_t b[8];
    int keep = dup(0);   /* given back at the end */
    ck_assert_int_ge(keep, 0);
    snprintf(sub, sizeof(sub), "%s/z", dir);
    cl_store_file_close(&sf);
    close(0);
    ck_assert_int_eq(cl_store_file_open(&sf, dir), CL_OK);
    ck_assert_int_eq(sf.dirfd, 0);
    ck_assert_int_eq(cl_store_file_open(&sf, sub), CL_ERR_STATE);   /* open already */
    ck_assert_int_eq(st->write(&sf, "txnlog", (const uint8_t *)"ab", 2), CL_OK);
    ck_assert_int_eq(st->read(&sf, "txnlog", b, sizeof(b)), 2);
    ck_assert_int_eq(st->erase(&sf, "txnlog"), CL_OK);
    cl_store_file_close(&sf);                   /* releases the lock */
    cl_store_file_init(&o);
    ck_assert_int_eq(cl_store_file_open(&o, dir), CL_OK);
    ck_assert_int_eq(o.dirfd, 0);
    ck_assert_int_eq(st->write(&o, "txnlog", (const uint8_t *)"cd", 2), CL_OK);
    cl_store_file_close(&o);
    /* the store open elsewhere, 0 free: a record is read through it */
    ck_assert_int_eq(open("/dev/null", O_RDONLY), 0);
    ck_assert_int_eq(cl_store_file_open(&sf, dir), CL_OK);
    close(0);
    memset(b, 0, sizeof(b));
    ck_assert_int_eq(st->read(&sf, "txnlog", b, sizeof(b)), 2);
    ck_assert_mem_eq(b, "cd", 2);
    ck_assert_int_eq(dup2(keep, 0), 0);
    close(keep);
}
END_TEST

/* ------------------------------------------------- every failure point */

/* write: open tmp (1), writev (2), fsync file (3), rename (4), fsync
 * directory (5). Before the rename the old record stays; a failed
 * directory fsync comes after it (the new record reads back, not yet
 * durable, and the caller hears CL_ERR_IO). No tmp is left either way. */
START_TEST(test_write_faults)
{
    uint8_t b[16];
    uint32_t k;
    for (k = 1;; k++) {
        int rc, n;
        uint32_t left;
        ck_assert_int_eq(st->write(&sf, "txnlog", (const uint8_t *)"old", 3), CL_OK);
        sf.fault_at = k;
        rc = st->write(&sf, "txnlog", (const uint8_t *)"newer", 5);
        left = sf.fault_at;
        sf.fault_at = 0;
        n = st->read(&sf, "txnlog", b, sizeof(b));
        ck_assert(!exists("txnlog.tmp"));
        if (rc == CL_OK) {
            ck_assert_uint_eq(k, 6);
            ck_assert_uint_eq(left, 1);   /* five operations, the sixth not reached */
            ck_assert_int_eq(n, 5);
            break;
        }
        ck_assert_int_eq(rc, CL_ERR_IO);
        ck_assert_uint_eq(left, 0);
        ck_assert_int_eq(n, k == 5 ? 5 : 3);
        ck_assert_mem_eq(b, k == 5 ? "newer" : "old", (size_t)n);
    }
}
END_TEST

/* read: open (1), header (2), record (3), CRC (4); erase: unlink (1),
 * fsync directory (2). */
START_TEST(test_read_erase_faults)
{
    uint8_t b[16];
    ck_assert_int_eq(st->write(&sf, "txnlog", (const uint8_t *)"abc", 3), CL_OK);
    for (uint32_t k = 1; k <= 4; k++) {
        sf.fault_at = k;
        ck_assert_int_eq(st->read(&sf, "txnlog", b, sizeof(b)), CL_ERR_IO);
    }
    sf.fault_at = 5;
    ck_assert_int_eq(st->read(&sf, "txnlog", b, sizeof(b)), 3);
    sf.fault_at = 1;
    ck_assert_int_eq(st->erase(&sf, "txnlog"), CL_ERR_IO);
    ck_assert_int_eq(st->read(&sf, "txnlog", b, sizeof(b)), 3);
    sf.fault_at = 2;
    ck_assert_int_eq(st->erase(&sf, "txnlog"), CL_ERR_IO);   /* unlinked, not synced */
    ck_assert_int_eq(st->read(&sf, "txnlog", b, sizeof(b)), CL_ERR_NOT_FOUND);
    ck_assert_int_eq(st->erase(&sf, "txnlog"), CL_OK);       /* the retry syncs */
}
END_TEST

/* ------------------------------------------- SIGKILL in the middle */

/* Record i: 4 bytes i (BE), then 4 + (i * 397) % (MAX - 8) bytes, each
 * (i + j) & 0xFF: its length and content say whether it is whole. */
static size_t make_rec(uint32_t i, uint8_t *out)
{
    size_t n = 8 + (i * 397u) % (CL_STORE_RECORD_MAX - 8);
    out[0] = (uint8_t)(i >> 24);
    out[1] = (uint8_t)(i >> 16);
    out[2] = (uint8_t)(i >> 8);
    out[3] = (uint8_t)i;
    for (size_t j = 4; j < n; j++)
        out[j] = (uint8_t)(i + j);
    return n;
}

struct progress {
    volatile uint32_t started;   /* the write in flight (0: none yet) */
    volatile uint32_t done;      /* the last write that returned CL_OK */
};

START_TEST(test_sigkill)
{
    static uint8_t rec[CL_STORE_RECORD_MAX], want[CL_STORE_RECORD_MAX];
    struct progress *pg = mmap(NULL, sizeof(*pg), PROT_READ | PROT_WRITE,
                               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    unsigned mid = 0, torn = 0;
    bool any = false;   /* some round left a record (until then none may be there) */
    ck_assert_ptr_ne(pg, MAP_FAILED);
    cl_store_file_close(&sf);   /* the children own the store in turn */
    for (int round = 0; round < 40; round++) {
        pid_t pid;
        int status, n;
        uint32_t r, started, done, stale;
        pg->started = pg->done = 0;
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            struct cl_store_file c;
            uint32_t base = (uint32_t)round * 100000u;
            cl_store_file_init(&c);
            if (cl_store_file_open(&c, dir) != CL_OK)
                _exit(2);
            for (uint32_t i = base + 1;; i++) {
                size_t len = make_rec(i, rec);
                pg->started = i;
                __sync_synchronize();
                if (cl_store_file_port()->write(&c, "txnlog", rec, len) != CL_OK)
                    _exit(3);
                pg->done = i;
                __sync_synchronize();
            }
        }
        /* let it write a few records, more or less each round */
        usleep(2000u + (unsigned)(round % 10) * 1500u);
        ck_assert_int_eq(kill(pid, SIGKILL), 0);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        __sync_synchronize();
        started = pg->started;
        done = pg->done;
        stale = sf.stats.stale_tmp;
        ck_assert_int_eq(cl_store_file_open(&sf, dir), CL_OK);
        torn += sf.stats.stale_tmp - stale;   /* killed before its rename */
        n = st->read(&sf, "txnlog", rec, sizeof(rec));
        ck_assert_int_eq(st->read(&sf, "never", rec, sizeof(rec)), CL_ERR_NOT_FOUND);
        if (!any && n == CL_ERR_NOT_FOUND) {
            /* nothing written yet: on a loaded machine the first children
             * can be killed before their first write */
            ck_assert_uint_eq(done, 0);
        } else {
            any = true;
            ck_assert_int_ge(n, 8);
            r = ((uint32_t)rec[0] << 24) | ((uint32_t)rec[1] << 16) | ((uint32_t)rec[2] << 8) |
                rec[3];
            /* the last one written, or the one in flight, or (before this
             * child wrote anything) the previous child's */
            ck_assert_msg(r == done || r == started || (done == 0 && r < (uint32_t)round * 100000u),
                          "round %d: read %u, done %u, started %u", round, r, done, started);
            ck_assert_uint_eq((size_t)n, make_rec(r, want));
            ck_assert_mem_eq(rec, want, (size_t)n);
            if (r == started && started != done)
                mid++;
        }
        cl_store_file_close(&sf);
    }
    /* Where the kills landed (informational: depends on the machine):
     * with a half-written KEY.tmp left, or after the rename but before
     * write() returned. */
    fprintf(stderr, "sigkill: 40 kills, %u left a temporary file, %u read the record in flight\n",
            torn, mid);
    munmap(pg, sizeof(*pg));
    ck_assert_int_eq(cl_store_file_open(&sf, dir), CL_OK);
}
END_TEST

static Suite *store_file_suite(void)
{
    Suite *s = suite_create("store_file");
    TCase *tc = tcase_create("calls");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_open_close);
    tcase_add_test(tc, test_closed_store);
    tcase_add_loop_test(tc, test_keys, 0, (int)CL_ARRAY_LEN(keys));
    tcase_add_test(tc, test_read_write_erase);
    tcase_add_test(tc, test_format);
    tcase_add_loop_test(tc, test_sizes, 0, 3);
    tcase_add_test(tc, test_corrupt);
    tcase_add_test(tc, test_stale_tmp);
    tcase_add_test(tc, test_stale_tmp_names);
    tcase_add_test(tc, test_corrupt_wiped);
    tcase_add_test(tc, test_modes);
    tcase_add_test(tc, test_no_fd_leak);
    tcase_add_test(tc, test_fd_zero);
    suite_add_tcase(s, tc);
    tc = tcase_create("faults");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_write_faults);
    tcase_add_test(tc, test_read_erase_faults);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_sigkill);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(store_file_suite());
}
