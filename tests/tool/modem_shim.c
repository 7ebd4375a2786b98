/*
 * cardlink tests — modem lines for a pseudo-terminal (LD_PRELOAD shim).
 * SPDX-License-Identifier: Apache-2.0
 *
 * A pty has no modem lines, and libserialport will not open one as it
 * comes. This shim, preloaded into the program that drives the serial
 * reader port (ports/posix/serial.c) on the slave end of a pty, supplies
 * what is missing, and nothing else:
 *
 *  - ioctl(TIOCMGET / TIOCMSET / TIOCMBIS / TIOCMBIC): when the kernel
 *    refuses one of them (ENOTTY, EINVAL) on a pty slave, the shim keeps
 *    RTS and DTR itself (one set per process, both asserted at first, as
 *    Linux raises them when a serial port opens). TIOCMGET adds the inputs
 *    named in the file CL_TEST_MODEM_STATUS ("CTS", "DSR", "DCD", "RI"
 *    anywhere in it; no file: none), so the emulator can drive a
 *    card-detect input.
 *  - tcsetattr() / tcgetattr(): a pty slave drops PARENB (the kernel forces
 *    8 bits, no parity) and glibc's tcsetattr() then fails with EINVAL, so
 *    libserialport cannot set even, odd or mark parity. The shim keeps
 *    PARENB, PARODD and CMSPAR itself, sets the rest, and gives them back
 *    on tcgetattr() of the same descriptor.
 *  - Each change of the line state a Phoenix reader acts on goes out as one
 *    datagram "RTS=r DTR=d BAUD=b PARITY=p STOP=s T=usec\n" (p: N, E, O, M
 *    or S; T: CLOCK_MONOTONIC in microseconds) to the Unix datagram socket
 *    named by CL_TEST_MODEM_EVENTS (the reader emulator,
 *    tests/tool/phoenix_emu.py, binds it; no listener: the report is
 *    dropped). It is sent before the call returns, so the emulator, reading
 *    its socket before the pty, sees a change before any character written
 *    after it.
 *  - lstat() / lstat64() / __lxstat() / readlink() of "/sys/class/tty/pts/N":
 *    libserialport looks the port up in sysfs (sp_get_port_by_name), where
 *    pty slaves have no entry; the shim answers with the entry of
 *    /dev/ptmx (a virtual tty, so the port is "native" and has no USB
 *    details).
 * Every other call goes to the real function (dlsym RTLD_NEXT).
 *
 * Built without sanitizers (a preloaded library comes before the ASan
 * runtime; the test sets ASAN_OPTIONS=verify_asan_link_order=0).
 * Linux and glibc only.
 */
#define _GNU_SOURCE 1
/* the symbols interposed are lstat and lstat64 by these names (meson's
 * default -D_FILE_OFFSET_BITS=64 would rename lstat to lstat64) */
#undef _FILE_OFFSET_BITS

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* Unix 98 pty slaves: majors 136..143 (Documentation/admin-guide/devices) */
#define PTS_MAJOR_FIRST 136u
#define PTS_MAJOR_LAST 143u
#define PTS_SYSFS "/sys/class/tty/pts/"
#define PTMX_SYSFS "/sys/class/tty/ptmx"

typedef int (*ioctl_fn)(int, unsigned long, ...);
typedef int (*lstat_fn)(const char *, struct stat *);
typedef int (*lstat64_fn)(const char *, struct stat64 *);
typedef int (*lxstat_fn)(int, const char *, struct stat *);
typedef ssize_t (*readlink_fn)(const char *, char *, size_t);
typedef int (*tcget_fn)(int, struct termios *);
typedef int (*tcset_fn)(int, int, const struct termios *);

/* The kernel's struct termios2 (asm/termbits.h, which clashes with
 * <termios.h>): the baud rate as a number. */
struct shim_termios2 {
    tcflag_t c_iflag, c_oflag, c_cflag, c_lflag;
    cc_t c_line;
    cc_t c_cc[19];
    speed_t c_ispeed, c_ospeed;
};
#define SHIM_TCGETS2 _IOR('T', 0x2A, struct shim_termios2)
#define SHIM_TCSETS2 _IOW('T', 0x2B, struct shim_termios2)
#define SHIM_TCSETSW2 _IOW('T', 0x2C, struct shim_termios2)
#define SHIM_TCSETSF2 _IOW('T', 0x2D, struct shim_termios2)
#define SHIM_PARITY (PARENB | PARODD | CMSPAR)

/* glibc >= 2.33 no longer declares it; libserialport 0.1.1 calls it */
int __lxstat(int ver, const char *path, struct stat *st);

static int shim_bits = TIOCM_RTS | TIOCM_DTR;  /* as last set; open raises both */
static tcflag_t shim_parity;   /* SHIM_PARITY bits as last set */
static int shim_fd = -1;       /* the pty slave they were set on */
static char shim_last[80];     /* the state last reported */

static void *next(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

static int is_pty_slave(int fd)
{
    struct stat st;

    if (fstat(fd, &st) != 0 || !S_ISCHR(st.st_mode))
        return 0;
    return major(st.st_rdev) >= PTS_MAJOR_FIRST &&
           major(st.st_rdev) <= PTS_MAJOR_LAST;
}

static char parity_name(void)
{
    if (!(shim_parity & PARENB))
        return 'N';
    if (shim_parity & CMSPAR)
        return (shim_parity & PARODD) ? 'M' : 'S';
    return (shim_parity & PARODD) ? 'O' : 'E';
}

/* Send the line state of fd when it differs from the last one sent. */
static void report(int fd)
{
    ioctl_fn real = (ioctl_fn)next("ioctl");
    const char *path = getenv("CL_TEST_MODEM_EVENTS");
    struct shim_termios2 t2;
    struct sockaddr_un sa;
    struct timespec ts;
    char state[sizeof(shim_last)], line[sizeof(shim_last) + 32];
    int sk, n;

    if (path == NULL || strlen(path) >= sizeof(sa.sun_path) || real == NULL ||
        real(fd, SHIM_TCGETS2, &t2) != 0)
        return;
    snprintf(state, sizeof(state), "RTS=%d DTR=%d BAUD=%u PARITY=%c STOP=%d",
             (shim_bits & TIOCM_RTS) != 0, (shim_bits & TIOCM_DTR) != 0,
             (unsigned)t2.c_ospeed, parity_name(),
             (t2.c_cflag & CSTOPB) ? 2 : 1);
    if (strcmp(state, shim_last) == 0)
        return;
    memcpy(shim_last, state, sizeof(state));
    clock_gettime(CLOCK_MONOTONIC, &ts);
    n = snprintf(line, sizeof(line), "%s T=%lld\n", state,
                 (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000);
    sk = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sk < 0)
        return;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path));
    (void)sendto(sk, line, (size_t)n, 0, (const struct sockaddr *)&sa,
                 sizeof(sa));
    close(sk);
}

static int inputs(void)
{
    const char *path = getenv("CL_TEST_MODEM_STATUS");
    char text[64];
    ssize_t n;
    int fd, bits = 0;

    if (path == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return 0;
    n = read(fd, text, sizeof(text) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    text[n] = '\0';
    if (strstr(text, "CTS") != NULL)
        bits |= TIOCM_CTS;
    if (strstr(text, "DSR") != NULL)
        bits |= TIOCM_DSR;
    if (strstr(text, "DCD") != NULL)
        bits |= TIOCM_CAR;
    if (strstr(text, "RI") != NULL)
        bits |= TIOCM_RNG;
    return bits;
}

static int modem(int fd, unsigned long req, int *arg)
{
    int mask = TIOCM_RTS | TIOCM_DTR;

    if (arg == NULL) {
        errno = EFAULT;
        return -1;
    }
    switch (req) {
    case TIOCMGET: *arg = shim_bits | inputs(); return 0;
    case TIOCMSET: shim_bits = *arg & mask; break;
    case TIOCMBIS: shim_bits |= *arg & mask; break;
    default: shim_bits &= ~(*arg & mask); break;   /* TIOCMBIC */
    }
    report(fd);
    return 0;
}

int ioctl(int fd, unsigned long req, ...)
{
    ioctl_fn real = (ioctl_fn)next("ioctl");
    va_list ap;
    void *arg;
    int r, e;

    va_start(ap, req);
    arg = va_arg(ap, void *);
    va_end(ap);
    if (real == NULL) {
        errno = ENOSYS;
        return -1;
    }
    r = real(fd, req, arg);
    if (r == 0 && (req == SHIM_TCSETS2 || req == SHIM_TCSETSW2 ||
                   req == SHIM_TCSETSF2) && is_pty_slave(fd))
        report(fd);
    if (r == 0 || (req != TIOCMGET && req != TIOCMSET && req != TIOCMBIS &&
                   req != TIOCMBIC))
        return r;
    e = errno;
    if ((e != ENOTTY && e != EINVAL) || !is_pty_slave(fd)) {
        errno = e;
        return r;
    }
    return modem(fd, req, arg);
}

/* "/sys/class/tty/pts/N" -> the sysfs entry of ptmx; anything else as is */
static const char *sysfs_path(const char *path)
{
    return path != NULL && strncmp(path, PTS_SYSFS, strlen(PTS_SYSFS)) == 0
               ? PTMX_SYSFS : path;
}

int lstat(const char *path, struct stat *st)
{
    lstat_fn real = (lstat_fn)next("lstat");
    lxstat_fn old;

    if (real != NULL)
        return real(sysfs_path(path), st);
    old = (lxstat_fn)dlvsym(RTLD_NEXT, "__lxstat", "GLIBC_2.2.5");
    if (old == NULL) {
        errno = ENOSYS;
        return -1;
    }
    return old(1, sysfs_path(path), st);
}

int lstat64(const char *path, struct stat64 *st)
{
    lstat64_fn real = (lstat64_fn)next("lstat64");

    if (real == NULL) {
        errno = ENOSYS;
        return -1;
    }
    return real(sysfs_path(path), st);
}

int __lxstat(int ver, const char *path, struct stat *st)
{
    lxstat_fn real = (lxstat_fn)dlvsym(RTLD_NEXT, "__lxstat", "GLIBC_2.2.5");

    if (real == NULL)
        real = (lxstat_fn)next("__lxstat");
    if (real != NULL)
        return real(ver, sysfs_path(path), st);
    return lstat(path, st);
}

ssize_t readlink(const char *path, char *buf, size_t size)
{
    readlink_fn real = (readlink_fn)next("readlink");

    if (real == NULL) {
        errno = ENOSYS;
        return -1;
    }
    return real(sysfs_path(path), buf, size);
}

int tcgetattr(int fd, struct termios *t)
{
    tcget_fn real = (tcget_fn)next("tcgetattr");
    int r;

    if (real == NULL) {
        errno = ENOSYS;
        return -1;
    }
    r = real(fd, t);
    if (r == 0 && fd == shim_fd && is_pty_slave(fd))
        t->c_cflag = (t->c_cflag & ~(tcflag_t)SHIM_PARITY) | shim_parity;
    return r;
}

int tcsetattr(int fd, int act, const struct termios *t)
{
    tcset_fn real = (tcset_fn)next("tcsetattr");
    struct termios copy;
    int r;

    if (real == NULL) {
        errno = ENOSYS;
        return -1;
    }
    if (t == NULL || !is_pty_slave(fd))
        return real(fd, act, t);
    copy = *t;
    copy.c_cflag &= ~(tcflag_t)SHIM_PARITY;
    r = real(fd, act, &copy);
    if (r == 0) {
        shim_parity = t->c_cflag & SHIM_PARITY;
        shim_fd = fd;
        report(fd);
    }
    return r;
}
