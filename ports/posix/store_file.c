/*
 * cardlink — POSIX port: the device's non-volatile store over files, with
 * atomic replace (write a temporary file, fsync, rename, fsync the
 * directory).
 * SPDX-License-Identifier: Apache-2.0
 */
#define _DEFAULT_SOURCE 1   /* flock(), dirfd() */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>      /* renameat() */
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cardlink/error.h"
#include "store_file.h"

#define MAGIC "CLS1"
#define NAME_MAX_ (CL_STORE_KEY_MAX + 5u)   /* KEY + ".rec" / ".tmp" + NUL */

static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    while (n-- > 0) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* The test hook: true when this operation is the one to fail. */
static bool fault(struct cl_store_file *s)
{
    if (s->fault_at == 0)
        return false;
    if (--s->fault_at == 0) {
        errno = EIO;
        return true;
    }
    return false;
}

static void name_of(char out[NAME_MAX_], const char *key, const char *ext)
{
    size_t n = strlen(key);   /* <= CL_STORE_KEY_MAX: checked by the caller */
    memcpy(out, key, n);
    memcpy(out + n, ext, 5);  /* ".rec" or ".tmp" with the NUL */
}

static int sync_fd(struct cl_store_file *s, int fd)
{
    if (fault(s))
        return CL_ERR_IO;
    s->stats.syncs++;
    while (fsync(fd) != 0) {
        if (errno != EINTR)
            return CL_ERR_IO;
    }
    return CL_OK;
}

/* Read exactly n bytes; CL_ERR_CHECKSUM when the file ends first. */
static int read_all(struct cl_store_file *s, int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t r;
        if (fault(s))
            return CL_ERR_IO;
        r = read(fd, p, n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return CL_ERR_IO;
        }
        if (r == 0)
            return CL_ERR_CHECKSUM;   /* shrank under us: not a record */
        p += r;
        n -= (size_t)r;
    }
    return CL_OK;
}

static int write_all(struct cl_store_file *s, int fd, struct iovec *iov, int cnt)
{
    while (cnt > 0) {
        ssize_t r;
        if (iov->iov_len == 0) {
            iov++;
            cnt--;
            continue;
        }
        if (fault(s))
            return CL_ERR_IO;
        r = writev(fd, iov, cnt);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return CL_ERR_IO;
        }
        while (r > 0) {
            size_t k = (size_t)r < iov->iov_len ? (size_t)r : iov->iov_len;
            iov->iov_base = (uint8_t *)iov->iov_base + k;
            iov->iov_len -= k;
            r -= (ssize_t)k;
            if (iov->iov_len == 0) {
                iov++;
                cnt--;
            }
        }
    }
    return CL_OK;
}

/* see store_file.h */
void cl_store_file_init(struct cl_store_file *s)
{
    if (s == NULL)
        return;
    memset(s, 0, sizeof(*s));
    s->dirfd = -1;
    s->lockfd = -1;
}

/* Remove the KEY.tmp files a killed writer left (we hold the lock). */
static void remove_stale(struct cl_store_file *s)
{
    int fd = dup(s->dirfd);
    DIR *d;
    struct dirent *e;
    if (fd < 0)
        return;
    d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n > 4 && n <= CL_STORE_KEY_MAX + 4 && strcmp(e->d_name + n - 4, ".tmp") == 0 &&
            unlinkat(s->dirfd, e->d_name, 0) == 0)
            s->stats.stale_tmp++;
    }
    closedir(d);
}

/* see store_file.h */
int cl_store_file_open(struct cl_store_file *s, const char *dir)
{
    int dfd, lfd;
    if (s == NULL || dir == NULL || dir[0] == '\0')
        return CL_ERR_ARG;
    if (s->dirfd >= 0)
        return CL_ERR_STATE;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return CL_ERR_IO;
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return CL_ERR_IO;
    lfd = openat(dfd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lfd < 0) {
        close(dfd);
        return CL_ERR_IO;
    }
    if (flock(lfd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(lfd);
        close(dfd);
        return e == EWOULDBLOCK ? CL_ERR_STATE : CL_ERR_IO;
    }
    s->dirfd = dfd;
    s->lockfd = lfd;
    remove_stale(s);
    return CL_OK;
}

/* see store_file.h */
void cl_store_file_close(struct cl_store_file *s)
{
    if (s == NULL || s->dirfd < 0)
        return;
    close(s->lockfd);   /* releases the flock */
    close(s->dirfd);
    s->dirfd = -1;
    s->lockfd = -1;
}

/* see store_file.h */
const struct cl_store_file_stats *cl_store_file_stats(const struct cl_store_file *s)
{
    return s == NULL ? NULL : &s->stats;
}

static int check_call(struct cl_store_file *s, const char *key)
{
    if (s == NULL || !cl_store_key_ok(key))
        return CL_ERR_ARG;
    if (s->dirfd < 0)
        return CL_ERR_STATE;
    return CL_OK;
}

static int file_read(void *ctx, const char *key, uint8_t *buf, size_t size)
{
    struct cl_store_file *s = ctx;
    char name[NAME_MAX_];
    uint8_t head[8], tail[4];
    struct stat st;
    uint32_t len, crc;
    int fd, rc = check_call(s, key);
    if (rc != CL_OK)
        return rc;
    if (buf == NULL && size != 0)
        return CL_ERR_ARG;
    name_of(name, key, ".rec");
    if (fault(s))
        return CL_ERR_IO;
    fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? CL_ERR_NOT_FOUND : CL_ERR_IO;
    if (fstat(fd, &st) != 0) {
        rc = CL_ERR_IO;
        goto out;
    }
    if (st.st_size < (off_t)CL_STORE_FILE_OVERHEAD ||
        st.st_size > (off_t)(CL_STORE_FILE_OVERHEAD + CL_STORE_RECORD_MAX)) {
        rc = CL_ERR_CHECKSUM;
        goto out;
    }
    rc = read_all(s, fd, head, sizeof(head));
    if (rc != CL_OK)
        goto out;
    len = get32(head + 4);
    if (memcmp(head, MAGIC, 4) != 0 || (off_t)len + (off_t)CL_STORE_FILE_OVERHEAD != st.st_size) {
        rc = CL_ERR_CHECKSUM;
        goto out;
    }
    if (len > size) {
        rc = CL_ERR_BUFFER;
        goto out;
    }
    if (len > 0)
        rc = read_all(s, fd, buf, len);
    if (rc == CL_OK)
        rc = read_all(s, fd, tail, sizeof(tail));
    if (rc != CL_OK)
        goto out;
    crc = crc32_update(0, head, sizeof(head));
    if (len > 0)
        crc = crc32_update(crc, buf, len);
    if (crc != get32(tail)) {
        memset(buf, 0, len);
        rc = CL_ERR_CHECKSUM;
        goto out;
    }
    s->stats.reads++;
    rc = (int)len;
out:
    close(fd);
    return rc;
}

static int file_write(void *ctx, const char *key, const uint8_t *data, size_t len)
{
    struct cl_store_file *s = ctx;
    char tmp[NAME_MAX_], rec[NAME_MAX_];
    uint8_t head[8], tail[4];
    struct iovec iov[3];
    int fd, rc = check_call(s, key);
    if (rc != CL_OK)
        return rc;
    if (data == NULL && len != 0)
        return CL_ERR_ARG;
    if (len > CL_STORE_RECORD_MAX)
        return CL_ERR_LIMIT;
    memcpy(head, MAGIC, 4);
    put32(head + 4, (uint32_t)len);
    put32(tail, len > 0 ? crc32_update(crc32_update(0, head, 8), data, len)
                        : crc32_update(0, head, 8));
    name_of(tmp, key, ".tmp");
    name_of(rec, key, ".rec");
    if (fault(s))
        return CL_ERR_IO;
    fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return CL_ERR_IO;
    iov[0].iov_base = head;
    iov[0].iov_len = sizeof(head);
    iov[1].iov_base = (void *)(uintptr_t)data;
    iov[1].iov_len = len;
    iov[2].iov_base = tail;
    iov[2].iov_len = sizeof(tail);
    rc = write_all(s, fd, iov, 3);
    if (rc == CL_OK)
        rc = sync_fd(s, fd);
    if (close(fd) != 0 && rc == CL_OK)
        rc = CL_ERR_IO;
    if (rc == CL_OK && (fault(s) || renameat(s->dirfd, tmp, s->dirfd, rec) != 0))
        rc = CL_ERR_IO;
    if (rc != CL_OK) {
        (void)unlinkat(s->dirfd, tmp, 0);
        return rc;
    }
    /* Renamed: the new record is what reads back now; make the rename
     * itself durable. On failure here it may not survive a power cut. */
    rc = sync_fd(s, s->dirfd);
    if (rc == CL_OK)
        s->stats.writes++;
    return rc;
}

static int file_erase(void *ctx, const char *key)
{
    struct cl_store_file *s = ctx;
    char rec[NAME_MAX_];
    int rc = check_call(s, key);
    if (rc != CL_OK)
        return rc;
    name_of(rec, key, ".rec");
    if (fault(s))
        return CL_ERR_IO;
    if (unlinkat(s->dirfd, rec, 0) != 0 && errno != ENOENT)
        return CL_ERR_IO;
    /* Always: an earlier erase may have unlinked without the sync. */
    rc = sync_fd(s, s->dirfd);
    if (rc == CL_OK)
        s->stats.erases++;
    return rc;
}

static const struct cl_store file_port = {file_read, file_write, file_erase};

/* see store_file.h */
const struct cl_store *cl_store_file_port(void)
{
    return &file_port;
}
