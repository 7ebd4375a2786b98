#!/usr/bin/env python3
"""A Phoenix / Smartmouse serial card reader, emulated on a pseudo-terminal,
with cardlink-vcard as the card (tests/tool/test_serial.py drives it).

The program under test (cardlink-tool --reader serial:/dev/pts/N, i.e.
ports/posix/serial.c over libserialport) opens the pty slave with
tests/tool/modem_shim.c preloaded: the shim gives the pty RTS/DTR and
parity and reports every change of them, of the baud rate and of the stop
bits as one datagram on a Unix socket (CL_TEST_MODEM_EVENTS). This module
holds the pty master and is the reader's hardware:

- the card's I/O contact is tied to RxD and TxD: every byte the device
  writes comes straight back to it (the echo), then goes to the card;
- RST is the reset control line (RTS, or DTR), low while the line is
  asserted: RST rising after a low time of COLD_MS or more is a COLD_RESET of
  the card, a shorter one a WARM_RESET (the reader has no VCC switch: the
  card cannot tell, serial.c means a cold reset by a long pulse). While RST
  is low the card is silent and deaf;
- the card is cardlink-vcard --line tcp:..., reached as the device side of
  the virtual card line (ports/posix/vline.h: type, 2-byte length, payload).
  Line bytes pass unchanged both ways: the vline carries characters as a
  direct-convention UART samples them (an inverse card's TS is 03), which is
  what the device's UART sends and receives too; serial.c leaves the
  inverse coding to the card session.

What a real line would do to a device that gets the physical layer wrong is
checked here, not trusted to the card simulator:
- rate: each character the device sends or receives must be at the card's
  current rate, clock * D / F within 1 % (Fd = 372, Dd = 1 after a reset;
  the F and D of PPS1 once the card has answered a PPS request with it).
  Every character off rate counts in rate_errors; when the device moves to
  the card's new rate the card is told with a CLOCK frame, so the
  simulator's own check (its "clock mismatches") agrees;
- parity: the parity bit the device's UART adds (from the PARITY the shim
  reported: E, O, M, S or N) must be the one the card's convention wants
  (direct: even; inverse, as a direct UART codes it: odd). A wrong one counts
  in parity_errors and goes to the card as a PARITY_ERROR frame before the
  byte, as the card would see it;
- stop bits: the last STOP the device set is kept in `params`.

Faults for the tests: corrupt_echo=K flips bit 0 of the echo of the K-th
byte (0-based) the device sends, once; corrupt_card=K flips bit 0 of the K-th
byte the card sends, once; echo=False is a reader whose RxD is not tied to
TxD. clock_khz is the reader's crystal (the device must be told the same).
noise=BYTES reach the device each time RST falls, and when the port opens
with RST low (line noise the port must flush before RST rises, so that it
is not taken for the ATR).
pace (default on) hands the ATR and the PPS response to the device one
character at a time, 12 etu apart at the card's rate, as a UART receives
them (so the device reads a partial ATR, and changes the parity after TS
while the rest is on its way). The T=0/T=1 exchanges go at once: a stalled
Python thread on a loaded machine must not stretch a gap past T=1's
character waiting time (43 etu: 0.4 ms at 111593 bit/s). The device's own
writes arrive at once (a pty has no wire) and are echoed at once.

Usage as a program (manual runs): phoenix_emu.py tcp:127.0.0.1:PORT prints
the slave path and the environment to run the device with, then serves
until interrupted."""
import os
import select
import socket
import struct
import sys
import tempfile
import threading
import time
import tty

DATA, COLD_RESET, WARM_RESET, POWER_OFF = 0x01, 0x02, 0x03, 0x04
CARD_INSERTED, CARD_REMOVED, PARITY_ERROR, CLOCK = 0x05, 0x06, 0x07, 0x08

COLD_MS = 60          # RST low at least this long: a cold reset (serial.c: 100 cold, 10 warm)
FI = {0: 372, 1: 372, 2: 558, 3: 744, 4: 1116, 5: 1488, 6: 1860,
      9: 512, 10: 768, 11: 1024, 12: 1536, 13: 2048}
DI = {1: 1, 2: 2, 3: 4, 4: 8, 5: 16, 6: 32, 7: 64, 8: 12, 9: 20}


def inverse_byte(b):
    """ISO 7816-3 inverse convention: complement and reverse the bits."""
    b ^= 0xFF
    return int(f"{b:08b}"[::-1], 2)


def frame(kind, payload=b""):
    return struct.pack(">BH", kind, len(payload)) + payload


class PPS:
    """Follows one PPS exchange: the request from the device, the answer
    from the card (both decoded to the direct convention)."""

    def __init__(self):
        self.req, self.resp = [], []

    @staticmethod
    def length(msg):
        return 3 + bin(msg[1] & 0x70).count("1") if len(msg) >= 2 else 99

    def request_done(self):
        return len(self.req) >= self.length(self.req)

    def response_done(self):
        return len(self.resp) >= self.length(self.resp)


class Phoenix:
    def __init__(self, card_spec, clock_khz=3571, reset_line="RTS",
                 corrupt_echo=None, corrupt_card=None, echo=True, pace=True,
                 noise=b""):
        self.clock_hz = clock_khz * 1000
        self.echo = echo
        self.pace = pace
        self.noise = noise
        self.reset_line = reset_line
        self.corrupt_echo, self.corrupt_card = corrupt_echo, corrupt_card
        self.tmp = tempfile.TemporaryDirectory(prefix="cl-phoenix-")
        self.events_path = os.path.join(self.tmp.name, "modem.sock")
        self.status_path = os.path.join(self.tmp.name, "modem.status")
        self.events = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.events.bind(self.events_path)
        self.events.setblocking(False)
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)       # the device configures it again itself
        self.path = os.ttyname(self.slave)
        host, port = card_spec.split(":")[1:]
        self.card = socket.create_connection((host, int(port)), timeout=10)
        self.card.setblocking(False)
        self.card_gone = False
        self.card_buf = b""
        # line state as the shim reported it (None: not yet known)
        self.state = {}
        self.rst_high = None
        self.rst_low_at = None
        self.in_reset = True         # until the first RST rising edge
        self.inverse = False
        self.atr_seen = False
        self.pps = None              # PPS exchange in progress
        self.pps_state = "none"      # none | req | resp | done
        self.dev_since_reset = 0
        self.card_fd = (372, 1)      # the card's rate now
        self.sent_fd = (372, 1)      # the rate last told to the simulator
        # what the tests look at
        self.resets = []             # ("cold" | "warm", ms of RST low)
        self.params = []             # (baud, parity, stop) the device sent with
        self.ts_params = []          # (baud, parity) the device had at each TS
        self.log = []
        self.rate_errors = self.parity_errors = 0
        self.echo_corrupted = self.card_corrupted = 0
        self.dev_count = self.card_count = 0
        self.clocks = []             # (F, D) CLOCK frames sent to the card
        self.card_present = False
        self._write_status("")
        self.stop_flag = False
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    # ------------------------------------------------------------ plumbing
    def env(self, shim):
        """Environment for the device process."""
        e = dict(os.environ)
        e["LD_PRELOAD"] = shim
        e["CL_TEST_MODEM_EVENTS"] = self.events_path
        e["CL_TEST_MODEM_STATUS"] = self.status_path
        asan = e.get("ASAN_OPTIONS", "")
        e["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "verify_asan_link_order=0"
        return e

    def close(self):
        self.stop_flag = True
        self.thread.join(timeout=10)
        for s in (self.card, self.events):
            s.close()
        for fd in (self.master, self.slave):
            os.close(fd)
        self.tmp.cleanup()

    def _write_status(self, text):
        with open(self.status_path + ".new", "w") as f:
            f.write(text)
        os.replace(self.status_path + ".new", self.status_path)

    def _note(self, text):
        self.log.append(text)

    def _to_card(self, kind, payload=b""):
        if self.card_gone:
            return
        try:
            self.card.setblocking(True)
            self.card.sendall(frame(kind, payload))
            self.card.setblocking(False)
        except OSError:                  # the simulator went away first
            self.card_gone = True

    def _run(self):
        try:
            while not self.stop_flag:
                watch = [self.events, self.master] + ([] if self.card_gone else [self.card])
                r, _, _ = select.select(watch, [], [], 0.05)
                # shim reports first: a change the device made before writing
                # is queued before the bytes written after it
                self._drain_events()
                if self.master in r:
                    try:
                        data = os.read(self.master, 4096)
                    except OSError:
                        data = b""
                    if data:
                        self._from_device(data)
                if self.card in r:
                    try:
                        data = self.card.recv(4096)
                    except BlockingIOError:
                        data = None
                    if data == b"":
                        # the card is gone, the reader is not: its I/O line
                        # still echoes what the device sends (as the wiring
                        # of a real Phoenix does), until the test stops it
                        self._note("card: simulator closed the line")
                        self.card_present = False
                        self.card_gone = True
                        self._write_status("")
                        continue
                    if data:
                        self.card_buf += data
                        self._card_frames()
        except Exception as e:           # reported by the test
            self.error = repr(e)
            self._note(f"emulator error: {e!r}")

    # ------------------------------------------------------- modem events
    def _drain_events(self):
        while True:
            try:
                line = self.events.recv(256).decode()
            except BlockingIOError:
                return
            st = dict(kv.split("=") for kv in line.split())
            self._on_state(st)

    def _on_state(self, st):
        self._note("shim: " + " ".join(f"{k}={v}" for k, v in st.items()))
        self.state = st
        t = int(st["T"]) / 1000.0
        high = st[self.reset_line] == "0"    # control line asserted: RST low
        if self.rst_high is None:            # first report: no edge yet
            self.rst_high = high
            if not high:
                self.rst_low_at = t
                self._noise()
            return
        if high == self.rst_high:
            return
        self.rst_high = high
        if not high:
            self.rst_low_at = t
            self.in_reset = True
            self._note("RST low: card in reset")
            self._noise()
            return
        low_ms = t - self.rst_low_at if self.rst_low_at is not None else 1e9
        kind = "cold" if low_ms >= COLD_MS else "warm"
        self.resets.append((kind, round(low_ms)))
        self._note(f"RST high after {low_ms:.1f} ms: {kind} reset")
        self.in_reset = False
        self.atr_seen = False
        self.pps = None
        self.pps_state = "none"
        self.dev_since_reset = 0
        self.card_fd = self.sent_fd = (372, 1)
        self._to_card(COLD_RESET if kind == "cold" else WARM_RESET)

    def _noise(self):
        if self.noise:
            os.write(self.master, self.noise)
            self._note(f"fault: noise {self.noise.hex(' ')} while RST is low")

    # ------------------------------------------------------ physical checks
    def _baud(self):
        return int(self.state.get("BAUD", "0"))

    def _on_rate(self):
        f, d = self.card_fd
        want = self.clock_hz * d / f
        return abs(self._baud() - want) <= want / 100

    def _parity_ok(self, b):
        par = self.state.get("PARITY", "N")
        ones = bin(b).count("1") & 1
        bit = {"E": ones, "O": ones ^ 1, "M": 1, "S": 0}.get(par)
        if bit is None:
            return False                 # no parity bit at all: 11-bit frames
        # direct: even parity; inverse as a direct UART codes it: odd
        return (ones + bit) & 1 == (1 if self.inverse else 0)

    def _decode(self, b):
        return inverse_byte(b) if self.inverse else b

    # ------------------------------------------------------- device -> card
    def _from_device(self, data):
        echo = bytearray(data)
        for i in range(len(echo)):
            if self.corrupt_echo is not None and self.dev_count + i == self.corrupt_echo:
                echo[i] ^= 0x01
                self.echo_corrupted += 1
                self._note(f"fault: echo of device byte {self.corrupt_echo} corrupted")
        if self.echo:
            os.write(self.master, bytes(echo))   # the I/O line is RxD and TxD
        self.dev_count += len(data)
        if self.in_reset:
            self._note(f"device -> (card in reset, lost) {data.hex(' ')}")
            return
        p = (self._baud(), self.state.get("PARITY"), int(self.state.get("STOP", "0")))
        if not self.params or self.params[-1] != p:
            self.params.append(p)
        if not self._on_rate():
            self.rate_errors += len(data)
            self._note(f"rate error: device sends at {self._baud()} bit/s, card runs "
                       f"F={self.card_fd[0]} D={self.card_fd[1]}")
        elif self.card_fd != self.sent_fd:
            f, d = self.card_fd
            self._to_card(CLOCK, struct.pack(">HHI", f, d, self.clock_hz))
            self.sent_fd = self.card_fd
            self.clocks.append(self.card_fd)
        self._note(f"device -> card {data.hex(' ')}")
        out = bytearray()
        for b in data:
            self._track_device(b)
            if not self._parity_ok(b):
                self.parity_errors += 1
                self._note(f"parity error on device byte {b:02X} "
                           f"(PARITY={self.state.get('PARITY')}, inverse={self.inverse})")
                if out:
                    self._to_card(DATA, bytes(out))
                    out = bytearray()
                self._to_card(PARITY_ERROR)
            out.append(b)
        if out:
            self._to_card(DATA, bytes(out))

    def _track_device(self, b):
        self.dev_since_reset += 1
        if self.dev_since_reset == 1 and self.atr_seen and self._decode(b) == 0xFF:
            self.pps = PPS()
            self.pps_state = "req"
        if self.pps_state == "req":
            self.pps.req.append(self._decode(b))
            if self.pps.request_done():
                self.pps_state = "resp"

    # ------------------------------------------------------- card -> device
    def _card_frames(self):
        while len(self.card_buf) >= 3:
            kind, n = struct.unpack(">BH", self.card_buf[:3])
            if len(self.card_buf) < 3 + n:
                return
            payload, self.card_buf = self.card_buf[3:3 + n], self.card_buf[3 + n:]
            if kind == DATA:
                self._from_card(payload)
            elif kind == CARD_INSERTED:
                self.card_present = True
                self._write_status("CTS DSR DCD")
                self._note("card inserted")
            elif kind == CARD_REMOVED:
                self.card_present = False
                self._write_status("")
                self._note("card removed")
            elif kind == PARITY_ERROR:
                self._note("card: next byte with a parity error (the UART does not check)")

    def _from_card(self, data):
        if self.in_reset:
            self._note(f"card -> (RST low, dropped) {data.hex(' ')}")
            return
        data = bytearray(data)
        for i in range(len(data)):
            if self.corrupt_card is not None and self.card_count + i == self.corrupt_card:
                data[i] ^= 0x01
                self.card_corrupted += 1
                self._note(f"fault: card byte {self.corrupt_card} corrupted")
        self.card_count += len(data)
        if not self._on_rate():
            self.rate_errors += len(data)
            self._note(f"rate error: device receives at {self._baud()} bit/s, card runs "
                       f"F={self.card_fd[0]} D={self.card_fd[1]}")
        for b in data:
            if not self.atr_seen:
                self.atr_seen = True
                self.inverse = b == 0x03
                self.ts_params.append((self._baud(), self.state.get("PARITY")))
            elif self.pps_state == "resp":
                self.pps.resp.append(self._decode(b))
                if self.pps.response_done():
                    self.pps_state = "done"
                    r = self.pps.resp
                    if r[1] & 0x10:
                        self.card_fd = (FI.get(r[2] >> 4, 372), DI.get(r[2] & 15, 1))
                    self._note(f"PPS answered: card now F={self.card_fd[0]} D={self.card_fd[1]}")
        self._note(f"card -> device {bytes(data).hex(' ')}")
        if not self.pace or (self.dev_since_reset > 0 and self.pps_state in ("none", "done")):
            os.write(self.master, bytes(data))   # protocol blocks: at once
            return
        # one character per 12 etu at the card's rate, as a UART receives them
        f, d = self.card_fd
        char_s = 12 * f / (d * self.clock_hz)
        start = time.monotonic()
        for i, b in enumerate(data):
            delay = start + (i + 1) * char_s - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            os.write(self.master, bytes([b]))

    def summary(self):
        return (f"resets {self.resets}, params {self.params}, rate errors {self.rate_errors}, "
                f"parity errors {self.parity_errors}, clocks {self.clocks}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: phoenix_emu.py tcp:HOST:PORT   (a cardlink-vcard --line)")
    emu = Phoenix(sys.argv[1])
    print(f"reader on {emu.path}")
    print(f"run the device with LD_PRELOAD=.../modem_shim.so "
          f"CL_TEST_MODEM_EVENTS={emu.events_path} CL_TEST_MODEM_STATUS={emu.status_path}")
    try:
        while emu.thread.is_alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    print("\n".join(emu.log))
    print(emu.summary())
    emu.close()
