#!/usr/bin/env python3
"""The Phoenix serial reader port end to end, through libserialport, on a
pseudo-terminal: cardlink-tool --reader serial:/dev/pts/N (ports/posix/
serial.c) with modem_shim.so preloaded, phoenix_emu.py as the reader
hardware on the pty master (echo, RST on RTS or DTR, rate and parity checks)
and cardlink-vcard as the card behind it. Exact ATRs, responses, status
words, activation outcome, resets, baud rates and parity the port set.
Exits 77 (skipped) when the pty, sysfs or the shim cannot work here.
Usage: test_serial.py PATH/TO/cardlink-tool PATH/TO/cardlink-vcard PATH/TO/modem_shim.so"""
import ctypes
import os
import re
import subprocess
import sys
import tempfile
import termios
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from phoenix_emu import Phoenix  # noqa: E402

TOOL, VCARD, SHIM = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3])
checks = failures = 0

AID_SELECT = "00 A4 04 00 08 F0 43 41 52 44 4C 4E 4B"
FCI = "62 14 82 01 38 83 02 10 00 84 08 F0 43 41 52 44 4C 4E 4B 8A 01 05 90 00"
ECHO_5 = "80 EE 00 05 03 01 02 03 05"          # case 4: 3 bytes in, 5 out
ECHO_5_RESP = "01 02 03 16 1D 90 00"
ECHO_256 = "80 EE 01 00 03 01 02 03 00"        # T=0 GET RESPONSE / T=1 chaining
ATR_T0 = "3B 18 96 63 61 72 64 6C 69 6E 6B"
ATR_T1 = "3B 98 96 81 31 FE 45 63 61 72 64 6C 69 6E 6B 11"
ATR_T1_INV = "3F 98 96 81 31 FE 45 63 61 72 64 6C 69 6E 6B 11"
BAUD_FD = 9599          # 3571 kHz / 372
BAUD_512_16 = 111593    # 3571 kHz * 16 / 512: PPS to the fastest rate <= 115200


def check(name, cond, detail=""):
    global checks, failures
    checks += 1
    if not cond:
        failures += 1
        print(f"FAIL {name}: {detail}")


def skip(why):
    print(f"skipped: {why}")
    sys.exit(77)


def preflight():
    """The pty, sysfs and the shim work here, or skip."""
    try:
        master, slave = os.openpty()
    except OSError as e:
        skip(f"no pseudo-terminal: {e}")
    try:
        if not os.path.islink("/sys/class/tty/ptmx"):
            skip("no /sys/class/tty/ptmx: libserialport cannot look ports up")
        try:
            lib = ctypes.CDLL(SHIM)
        except OSError as e:
            skip(f"cannot load the shim: {e}")
        bits = ctypes.c_int(0)
        lib.ioctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p]
        if lib.ioctl(slave, termios.TIOCMGET, ctypes.byref(bits)) != 0:
            skip("the shim does not answer TIOCMGET on a pty")
    finally:
        os.close(master)
        os.close(slave)


class Card:
    """cardlink-vcard with ARGS on a TCP virtual line, one connection; its
    log (not -q) goes to a file for the session counters."""

    def __init__(self, args):
        self.logf = tempfile.TemporaryFile(mode="w+")
        self.p = subprocess.Popen([VCARD, "--line", "tcp:127.0.0.1:0", "--once", *args],
                                  stdout=subprocess.PIPE, stderr=self.logf, text=True)
        first = self.p.stdout.readline().strip()
        if not first.startswith("line "):
            raise RuntimeError(f"vcard did not start: {first!r}")
        self.spec = first[5:]

    def close(self):
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.terminate()
            self.p.wait()
        self.logf.seek(0)
        self.log = self.logf.read()
        self.logf.close()
        return self.p.returncode

    def stat(self, what):
        """A counter of the simulator's closing session line."""
        m = re.search(r"(\d+) " + what, self.log)
        return int(m.group(1)) if m else -1


def run(name, vopts, args, emu_opts=None, suffix="", timeout=60):
    """One tool run: returns (rc, stdout, stderr, emulator, card)."""
    card = Card(vopts)
    emu = Phoenix(card.spec, **(emu_opts or {}))
    try:
        p = subprocess.run([TOOL, "--reader", f"serial:{emu.path}{suffix}", "-v", *args],
                           env=emu.env(SHIM), capture_output=True, text=True,
                           timeout=timeout)
        rc, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        rc, out, err = -1, str(e.stdout), f"timed out: {e.stderr}"
    time.sleep(0.05)                 # the emulator takes the last reports
    emu.close()
    card.close()
    check(f"[{name}] emulator ran", emu.error is None, f"{emu.error}\n" + "\n".join(emu.log))
    return rc, out, err, emu, card


def responses(out):
    return [l[2:] for l in out.splitlines() if l.startswith("< ")]


def line_clean(name, emu, card):
    """What the wire says about a run that should be clean."""
    detail = emu.summary() + "\n" + "\n".join(emu.log[-30:])
    check(f"[{name}] rate", emu.rate_errors == 0, detail)
    check(f"[{name}] parity bits", emu.parity_errors == 0, detail)
    check(f"[{name}] 8E2/8O2 frames", all(s == 2 for _, _, s in emu.params), detail)
    check(f"[{name}] simulator: no clock mismatch", card.stat("clock mismatches") == 0, card.log[-400:])
    check(f"[{name}] simulator: no parity error", card.stat("parity errors") == 0, card.log[-400:])


preflight()

# ---- ATRs, exactly as the card sent them, and the PPS the port carried out.
for name, vopts, atr, proto in [
        ("T=0 ATR", ["--atr", "t0"], ATR_T0, "T=0"),
        ("T=1 ATR", ["--atr", "t1"], ATR_T1, "T=1"),
        ("inverse T=1 ATR", ["--atr", "t1", "--inverse"], ATR_T1_INV, "T=1")]:
    rc, out, err, emu, card = run(name, vopts, ["atr"])
    check(f"[{name}] exit", rc == 0, out + err)
    check(f"[{name}] ATR bytes", f"ATR: {atr}\n" in out, out)
    check(f"[{name}] running", f"running: {proto}" in out, out)
    check(f"[{name}] activation", f"activated: {proto}, F=512 D=16, clock 3571 kHz, PPS accepted, "
          "1 cold / 0 warm resets" in err, err)
    check(f"[{name}] one cold reset (RST low 100 ms)",
          [k for k, _ in emu.resets] == ["cold"] and emu.resets[0][1] >= 95, emu.resets)
    inv = "--inverse" in vopts
    # TS read with mark parity (its parity bit is 1 either way), the PPS
    # request sent at Fd/Dd with even parity (odd for an inverse card), T=1's
    # S(IFS request) at the new rate
    check(f"[{name}] TS at 9599 bit/s, mark parity", emu.ts_params == [(BAUD_FD, "M")], emu.ts_params)
    par = "O" if inv else "E"
    sent = [(BAUD_FD, par, 2)] + ([(BAUD_512_16, par, 2)] if proto == "T=1" else [])
    check(f"[{name}] PPS sent at 9599 bit/s (T=1: S(IFS) at 111593)", emu.params == sent,
          emu.params)
    check(f"[{name}] PPS to 111593 bit/s", emu.state.get("BAUD") == str(BAUD_512_16), emu.state)
    line_clean(name, emu, card)

# ---- Case 4 APDUs (and long responses) over T=0 and T=1, both conventions.
CONFIGS = [
    ("T=0", ["--atr", "t0"], [], {}, "", "T=0, F=512 D=16"),
    ("T=1", ["--atr", "t1"], [], {}, "", "T=1, F=512 D=16"),
    ("T=1 CRC IFSC 32", ["--atr", "t1", "--edc", "crc", "--ifsc", "32"], [], {}, "",
     "T=1, F=512 D=16"),
    ("inverse T=0", ["--atr", "t0", "--inverse"], [], {}, "", "T=0, F=512 D=16"),
    ("inverse T=1", ["--atr", "both", "--inverse"], ["--protocol", "1"], {}, "", "T=1, F=512 D=16"),
    ("noise as RST falls", ["--atr", "t1"], [], {"noise": b"\xff\x00\x3b"}, "", "T=1, F=512 D=16"),
    ("RST on DTR", ["--atr", "t1"], [], {"reset_line": "DTR"}, ",dtr", "T=1, F=512 D=16"),
    ("TA1 13: F=372 D=4", ["--atr", "t0", "--ta1", "13"], [], {}, "", "T=0, F=372 D=4"),
    ("TC1 3 guard time", ["--atr", "t0", "--tc1", "3"], [], {}, "", "T=0, F=512 D=16"),
    ("T=0 NULL bytes", ["--atr", "t0", "--slow", "3"], [], {}, "", "T=0, F=512 D=16"),
    ("T=1 WTX", ["--atr", "t1", "--slow", "2", "--wtx", "3"], [], {}, "", "T=1, F=512 D=16"),
    ("PPS refused: reset", ["--atr", "t0", "--pps", "mute"], [], {}, "",
     "T=0, F=372 D=1, clock 3571 kHz, PPS failed: reset, default rate, 2 cold / 0 warm resets"),
    ("T=1 no PPS", ["--atr", "t1"], ["--no-pps"], {}, "", "T=1, F=372 D=1, clock 3571 kHz, no PPS"),
    ("4 MHz crystal", ["--atr", "t0"], [], {"clock_khz": 4000}, ",clock=4000",
     "T=0, F=512 D=12, clock 4000 kHz"),
    # TA1 96 offers F=512 D=32 (223187 bit/s): above the default 115200
    # limit the session stays at D=16; max_baud=0 lifts the limit
    ("TA1 96 within 115200", ["--atr", "t0", "--ta1", "96"], [], {}, "", "T=0, F=512 D=16"),
    ("TA1 96, no baud limit", ["--atr", "t0", "--ta1", "96"], [], {}, ",max_baud=0",
     "T=0, F=512 D=32"),
]
for name, vopts, topts, eopts, suffix, want in CONFIGS:
    rc, out, err, emu, card = run(name, vopts, [*topts, "apdu", AID_SELECT, ECHO_5, ECHO_256],
                                  eopts, suffix)
    check(f"[{name}] exit", rc == 0, out + err)
    check(f"[{name}] activation", f"activated: {want}" in err, err)
    r = responses(out)
    check(f"[{name}] 3 responses", len(r) == 3, out + err)
    if len(r) == 3:
        check(f"[{name}] SELECT AID", r[0] == FCI, r[0])
        check(f"[{name}] case 4 response and SW", r[1] == ECHO_5_RESP, r[1])
        data = bytes.fromhex(r[2].replace(" ", ""))
        check(f"[{name}] 256 bytes back", len(data) == 258 and data[:5] == bytes.fromhex("0102031" "61D")
              and data[-2:] == b"\x90\x00", r[2][:60])
    check(f"[{name}] simulator saw the APDUs", card.stat("APDUs") >= 3, card.log[-300:])
    line_clean(name, emu, card)
    m = re.search(r"F=(\d+) D=(\d+)", want)
    baud = eopts.get("clock_khz", 3571) * 1000 * int(m.group(2)) // int(m.group(1))
    check(f"[{name}] APDUs sent at {baud} bit/s", emu.params and emu.params[-1][0] == baud,
          emu.params)
    if "inverse" in name:
        check(f"[{name}] odd parity", {p for _, p, _ in emu.params} == {"O"}, emu.params)
    else:
        check(f"[{name}] even parity", {p for _, p, _ in emu.params} == {"E"}, emu.params)
    if name == "PPS refused: reset":
        check(f"[{name}] two cold resets", [k for k, _ in emu.resets] == ["cold", "cold"], emu.resets)

# ---- A bad ATR (TCK flipped on the way) gets one warm reset, then works.
rc, out, err, emu, card = run("bad ATR", ["--atr", "t1"], ["apdu", ECHO_5], {"corrupt_card": 15})
check("[bad ATR] exit", rc == 0, out + err)
check("[bad ATR] warm reset", "1 cold / 1 warm resets" in err, err)
check("[bad ATR] RST: long then short pulse",
      [k for k, _ in emu.resets] == ["cold", "warm"] and 5 <= emu.resets[1][1] < 60, emu.resets)
check("[bad ATR] response", responses(out) == [ECHO_5_RESP], out)
check("[bad ATR] TCK corrupted once", emu.card_corrupted == 1, emu.summary())

# ---- The echo is checked: a corrupted echo is an error, never carried on.
# Device byte 6 is inside T=1's S(IFS request) during activation (4 PPS
# bytes first); byte 12 is inside the first I-block.
rc, out, err, emu, card = run("echo in activation", ["--atr", "t1"], ["apdu", ECHO_5],
                              {"corrupt_echo": 6})
check("[echo in activation] fails", rc == 1 and "activation failed: I/O error" in err, out + err)
check("[echo in activation] corrupted once", emu.echo_corrupted == 1, emu.summary())
check("[echo in activation] no APDU", responses(out) == [], out)
rc, out, err, emu, card = run("echo in APDU", ["--atr", "t1"], ["apdu", ECHO_5, AID_SELECT],
                              {"corrupt_echo": 12})
check("[echo in APDU] fails", rc == 1 and "! I/O error" in out, out + err)
check("[echo in APDU] stops at the first", out.count("> ") == 1 and responses(out) == [], out)
check("[echo in APDU] corrupted once", emu.echo_corrupted == 1, emu.summary())

# ---- A reader whose I/O line does not echo: the port says so.
rc, out, err, emu, card = run("no echo", ["--atr", "t1"], ["apdu", ECHO_5], {"echo": False})
check("[no echo] fails", rc == 1 and "activation failed: I/O error" in err, out + err)

# ---- A card pulled mid-exchange: cardlink-tool's serial reader has no
# card-detect input configured, so the port only sees silence; T=1 gives up
# after its retries, and says the card went mute: a time-out (issue 11 §4;
# the emulator drops CTS/DSR/DCD, unused here).
rc, out, err, emu, card = run("pulled", ["--atr", "t1", "--fault", "pull-after=40"],
                              ["apdu", AID_SELECT, ECHO_256])
check("[pulled] fails cleanly", rc == 1 and "! timeout" in out, out + err)
check("[pulled] detect inputs dropped", not emu.card_present, emu.log[-5:])

# ---- A mute card: nothing after RST.
rc, out, err, emu, card = run("mute", ["--atr", "t1", "--fault", "mute-after=1"], ["atr"])
check("[mute] fails", rc == 1 and "activation failed: card does not answer" in err, err)

# ---- A script through the serial reader.
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "serial.script")
    with open(path, "w") as f:
        f.write(f"{AID_SELECT} => 9000\n{ECHO_5} => 9000\n00 A4 00 00 02 77 77 => 6A82\n")
    rc, out, err, emu, card = run("script", ["--atr", "t0"], ["script", path])
    check("[script] exit", rc == 0, out + err)
    check("[script] summary", "3 APDUs sent, all as expected" in out, out)

print(f"{checks - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
