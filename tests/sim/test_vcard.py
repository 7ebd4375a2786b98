#!/usr/bin/env python3
# cardlink — integration test of the real cardlink-vcard program.
# SPDX-License-Identifier: Apache-2.0
#
# usage: test_vcard.py PATH/TO/cardlink-vcard
#
# Starts the program on tcp:127.0.0.1:0 and on a pty, connects as the
# device end speaking the virtual-line frame format of docs/porting.md
# (type, 2-byte big-endian length, payload), and checks the exact bytes:
# CARD_INSERTED on connection, the ATR after COLD_RESET, the PPS echo
# (ISO 7816-3 §9), one T=1 I-block carrying SELECT by AID and the card's
# I-block answer (ISO 7816-3 §11.3), a warm reset in T=0 with a case 2
# command, then SIGTERM and a clean exit (status 0).
import os
import select
import signal
import socket
import subprocess
import sys
import termios
import time
import tty

DATA, COLD_RESET, WARM_RESET, POWER_OFF = 0x01, 0x02, 0x03, 0x04
CARD_INSERTED, CARD_REMOVED, PARITY_ERROR, CLOCK = 0x05, 0x06, 0x07, 0x08

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def hx(s):
    return bytes.fromhex(s.replace(" ", ""))


def lrc(b):
    x = 0
    for c in b:
        x ^= c
    return x


class Line:
    """The device end of a virtual card line over a file descriptor."""

    def __init__(self, fd, close):
        self.fd = fd
        self.close_fn = close
        self.buf = b""

    def send(self, ftype, payload=b""):
        frame = bytes([ftype, len(payload) >> 8, len(payload) & 0xFF]) + payload
        while frame:
            n = os.write(self.fd, frame)
            frame = frame[n:]

    def recv(self, timeout=5.0):
        """One frame (type, payload), or None on timeout."""
        end = time.monotonic() + timeout
        while True:
            if len(self.buf) >= 3:
                n = (self.buf[1] << 8) | self.buf[2]
                if len(self.buf) >= 3 + n:
                    f = (self.buf[0], self.buf[3:3 + n])
                    self.buf = self.buf[3 + n:]
                    return f
            left = end - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                chunk = os.read(self.fd, 4096)
                if not chunk:
                    return None
                self.buf += chunk

    def recv_data(self, count, timeout=5.0):
        """count characters from DATA frames (other frames are an error)."""
        out = b""
        while len(out) < count:
            f = self.recv(timeout)
            if f is None:
                break
            if f[0] != DATA:
                out += b"<%02X>" % f[0]
                break
            out += f[1]
        return out

    def quiet(self, timeout=0.3):
        """True when nothing more arrives within timeout."""
        return self.recv(timeout) is None

    def close(self):
        self.close_fn()


def start(exe, args):
    p = subprocess.Popen([exe] + args, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    first = p.stdout.readline().strip()
    check(first.startswith("line "), "first stdout line names the line: %r" % first)
    return p, first[5:]


def stop(p, what):
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
        check(False, what + ": exits on SIGTERM")
        return
    err = p.stderr.read()
    check(rc == 0, "%s: clean exit on SIGTERM (status %d)" % (what, rc))
    check("stopping" in err, what + ": logs its stop")
    return err


ATR_T1 = hx("3B 98 96 81 31 FE 45 63 61 72 64 6C 69 6E 6B 11")
ATR_BOTH = None  # computed by the program; checked structurally below
SELECT = hx("00 A4 04 00 08 F0 43 41 52 44 4C 4E 4B 00")
# FCP of the DF (ISO 7816-4 §5.3.3) then 9000, as the file-system app
# answers (tests/sim/test_sim.c).
SELECT_RESP = hx("62 14 82 01 38 83 02 10 00 84 08 F0 43 41 52 44 4C 4E 4B"
                 " 8A 01 05 90 00")


def t1_block(nad, pcb, inf):
    b = bytes([nad, pcb, len(inf)]) + inf
    return b + bytes([lrc(b)])


def session_t1(line, what):
    f = line.recv()
    check(f == (CARD_INSERTED, b""), what + ": CARD_INSERTED on connection")
    line.send(COLD_RESET)
    atr = line.recv_data(len(ATR_T1))
    check(atr == ATR_T1, what + ": ATR " + atr.hex(" ").upper())
    # PPS: T=1, Fi 512 / Di 32 (TA1 96) — echoed as is (§9.3)
    pps = hx("FF 11 96 78")
    line.send(DATA, pps)
    echo = line.recv_data(4)
    check(echo == pps, what + ": PPS echo " + echo.hex(" ").upper())
    line.send(CLOCK, bytes([0x02, 0x00, 0x00, 0x20, 0x00, 0x36, 0x7D, 0x58]))
    # I-block N(S)=0 with SELECT by AID; the answer is I-block N(S)=0
    blk = t1_block(0x00, 0x00, SELECT)
    check(blk == hx("00 00 0E") + SELECT + bytes([lrc(hx("00 00 0E") + SELECT)]),
          what + ": block built")
    line.send(DATA, blk)
    want = hx("00 00 18 62 14 82 01 38 83 02 10 00 84 08 F0 43 41 52 44 4C"
              " 4E 4B 8A 01 05 90 00 7B")
    check(want == hx("00 00 18") + SELECT_RESP + bytes([lrc(want[:-1])]),
          what + ": expected block is I(0) with the FCP and its LRC")
    got = line.recv_data(len(want))
    check(got == want, what + ": I-block answer " + got.hex(" ").upper())
    # the next I-block, N(S)=1: a case 2 READ BINARY of EF 0102 by SFI 2
    line.send(DATA, t1_block(0x00, 0x40, hx("00 B0 82 00 04")))
    want = hx("00 40 06 00 00 00 00 90 00")
    want += bytes([lrc(want)])
    got = line.recv_data(len(want))
    check(got == want, what + ": second I-block answer " + got.hex(" ").upper())
    check(line.quiet(), what + ": nothing more on the line")


def test_tcp(exe):
    p, name = start(exe, ["--line", "tcp:127.0.0.1:0"])
    check(name.startswith("tcp:127.0.0.1:") and not name.endswith(":0"),
          "tcp: port chosen: " + name)
    port = int(name.rsplit(":", 1)[1])
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    line = Line(s.fileno(), s.close)
    session_t1(line, "tcp")
    line.close()
    # a second device on the same program: a fresh insertion, T=1 again
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    line = Line(s.fileno(), s.close)
    f = line.recv()
    check(f == (CARD_INSERTED, b""), "tcp: second connection served")
    line.send(COLD_RESET)
    check(line.recv_data(len(ATR_T1)) == ATR_T1, "tcp: second ATR")
    line.close()
    stop(p, "tcp")


def test_pty_t0(exe):
    p, name = start(exe, ["--line", "pty", "--atr", "t0", "--slow", "1"])
    check(name.startswith("pty:/dev/"), "pty: slave path printed: " + name)
    fd = os.open(name[4:], os.O_RDWR | os.O_NOCTTY)
    # raw mode without flushing what the card already sent (TCSANOW)
    tty.setraw(fd, termios.TCSANOW)
    line = Line(fd, lambda: os.close(fd))
    f = line.recv()
    check(f == (CARD_INSERTED, b""), "pty: CARD_INSERTED")
    atr_t0 = hx("3B 18 96 63 61 72 64 6C 69 6E 6B")
    line.send(COLD_RESET)
    check(line.recv_data(len(atr_t0)) == atr_t0, "pty: T=0 ATR")
    line.send(WARM_RESET)
    check(line.recv_data(len(atr_t0)) == atr_t0, "pty: T=0 ATR after a warm reset")
    # T=0 without PPS, case 3 SELECT of the MF by file id (§10.3.3):
    # header, ACK (INS), the data, then one NULL byte (slow 1) and SW
    line.send(DATA, hx("00 A4 00 0C 02"))
    got = line.recv_data(1)
    check(got == hx("A4"), "pty: ACK " + got.hex(" ").upper())
    line.send(DATA, hx("3F 00"))
    got = line.recv_data(3)
    check(got == hx("60 90 00"), "pty: NULL then 9000: " + got.hex(" ").upper())
    check(line.quiet(), "pty: nothing more on the line")
    line.close()
    stop(p, "pty")


def test_fault_once(exe):
    # pulled after 5 card bytes: 5 ATR bytes, then CARD_REMOVED; --once
    # ends the program when the device hangs up (status 0)
    p, name = start(exe, ["--line", "tcp:127.0.0.1:0", "--once", "-q",
                          "--fault", "pull-after=5"])
    port = int(name.rsplit(":", 1)[1])
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    line = Line(s.fileno(), s.close)
    check(line.recv() == (CARD_INSERTED, b""), "fault: CARD_INSERTED")
    line.send(COLD_RESET)
    check(line.recv_data(5) == ATR_T1[:5], "fault: 5 ATR bytes")
    check(line.recv() == (CARD_REMOVED, b""), "fault: CARD_REMOVED")
    line.send(COLD_RESET)
    check(line.quiet(), "fault: a pulled card does not answer a reset")
    line.close()
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
    check(rc == 0, "fault: --once exits after the connection (status %d)" % rc)
    check(p.stderr.read() == "", "fault: -q logs nothing")


def test_usage(exe):
    r = subprocess.run([exe], capture_output=True, text=True)
    check(r.returncode == 2 and "usage" in r.stderr, "no --line: usage, status 2")
    r = subprocess.run([exe, "--line", "pty", "--ifsc", "300"],
                       capture_output=True, text=True)
    check(r.returncode == 2, "bad --ifsc: status 2")
    r = subprocess.run([exe, "--line", "pty", "--fault", "drop=2%,what=1"],
                       capture_output=True, text=True)
    check(r.returncode == 2, "bad --fault: status 2")
    r = subprocess.run([exe, "--line", "pty", "--applet", "/nonexistent/x.img"],
                       capture_output=True, text=True)
    # 1: the image cannot be read (2 in a build without mbedtls: no applet)
    check(r.returncode in (1, 2) and "x.img" in r.stderr,
          "--applet with a missing image: an error naming it")


def main():
    if len(sys.argv) != 2:
        print("usage: test_vcard.py CARDLINK-VCARD", file=sys.stderr)
        return 2
    exe = sys.argv[1]
    test_usage(exe)
    test_tcp(exe)
    test_pty_t0(exe)
    test_fault_once(exe)
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
