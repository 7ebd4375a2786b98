/*
 * cardlink — the device's non-volatile store over POSIX files
 * (struct cl_store of cardlink/store.h).
 * SPDX-License-Identifier: Apache-2.0
 *
 *   struct cl_store_file sf;
 *   cl_store_file_init(&sf);
 *   if (cl_store_file_open(&sf, "/var/lib/cardlink") != CL_OK) ...
 *   const struct cl_store *st = cl_store_file_port();
 *   n = st->read(&sf, CL_STORE_KEY_TXN_LOG, buf, sizeof buf);
 *   cl_store_file_close(&sf);
 *
 * One file per record in one directory: KEY.rec holds
 *
 *   "CLS1" | length (4 bytes, big-endian) | the record | CRC-32 (4 bytes,
 *   big-endian, ISO-HDLC as zlib's crc32, over everything before it)
 *
 * write(): the new record goes to KEY.tmp, which is fsync()ed, renamed over
 * KEY.rec (rename is atomic: a reader or a reboot sees the old file or the
 * new one), and the directory is fsync()ed so that the rename itself
 * survives a power cut. erase(): unlink KEY.rec, fsync the directory.
 * read(): checks the magic, that the length matches the file's size and is
 * at most CL_STORE_RECORD_MAX, and the CRC; a file that fails (not
 * something a write leaves, but a disk or a person can) is CL_ERR_CHECKSUM.
 *
 * One process owns a directory: cl_store_file_open() takes an exclusive
 * flock() on DIR/.lock (released by close or by the process's death) and
 * then removes the *.tmp files a killed writer left behind. Not for use by
 * two threads at once.
 */
#ifndef CARDLINK_POSIX_STORE_FILE_H
#define CARDLINK_POSIX_STORE_FILE_H

#include "cardlink/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Size of a record file beyond the record: magic, length, CRC. */
#define CL_STORE_FILE_OVERHEAD 12u

/* Counters, read through cl_store_file_stats(). */
struct cl_store_file_stats {
    uint32_t reads, writes, erases;   /* calls that returned CL_OK (read: >= 0) */
    uint32_t syncs;                   /* fsync() calls made (file and directory) */
    uint32_t stale_tmp;               /* leftover KEY.tmp files removed at open */
};

/* Caller-allocated; do not touch the fields (but fault_at, a test hook). */
struct cl_store_file {
    int dirfd;                        /* -1 when closed */
    int lockfd;
    /* Test hook: when non-zero, the fault_at-th file-system operation from
     * now (open, read, write, fsync, rename, unlink) fails as if with EIO;
     * counts down, 0 = no fault. */
    uint32_t fault_at;
    struct cl_store_file_stats stats;
};

/* A closed store. Cannot fail. */
void cl_store_file_init(struct cl_store_file *s);

/*
 * Open (creating it with mode 0700 if absent, but not its parents) the
 * directory dir as the store. Returns CL_OK, or:
 *   CL_ERR_ARG    s or dir NULL, or dir empty;
 *   CL_ERR_STATE  s is already open, or another process holds the store;
 *   CL_ERR_IO     the directory cannot be created, opened or locked.
 * On failure s stays closed.
 */
CL_WUR int cl_store_file_open(struct cl_store_file *s, const char *dir);

/* Close (release the lock). NULL or closed: nothing. */
void cl_store_file_close(struct cl_store_file *s);

/*
 * The port's callbacks; ctx is the struct cl_store_file. Beyond
 * cardlink/store.h: every callback on a closed store returns CL_ERR_STATE;
 * the port's bound is CL_STORE_RECORD_MAX (write of more: CL_ERR_LIMIT).
 */
const struct cl_store *cl_store_file_port(void);

/* Counters; NULL for NULL. */
const struct cl_store_file_stats *cl_store_file_stats(const struct cl_store_file *s);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_POSIX_STORE_FILE_H */
