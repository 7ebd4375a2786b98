#!/usr/bin/env python3
"""cardlink-tool --reader SPEC -vv: the line trace (examples/tool/trace.c)
against cardlink-vcard over the virtual card line (TCP loopback). Exact
lines: ATR and PPS decoded, T=1 blocks (chaining, WTX, a retransmission
after a corrupted block), T=0 headers, procedure bytes and data; -v alone
prints no trace.
Usage: test_trace.py PATH/TO/cardlink-tool PATH/TO/cardlink-vcard"""
import subprocess
import sys

TOOL, VCARD = sys.argv[1], sys.argv[2]
checks = failures = 0

AID_SELECT = "00 A4 04 00 08 F0 43 41 52 44 4C 4E 4B"
FCI = "62 14 82 01 38 83 02 10 00 84 08 F0 43 41 52 44 4C 4E 4B 8A 01 05 90 00"
ECHO_256 = "80 EE 01 00 03 01 02 03 00"


def check(name, cond, detail=""):
    global checks, failures
    checks += 1
    if not cond:
        failures += 1
        print(f"FAIL {name}:\n{detail}")


def run(vopts, *args, verbose="-vv"):
    """One vcard connection; the tool's exit status, stdout, stderr."""
    card = subprocess.Popen([VCARD, "--line", "tcp:127.0.0.1:0", "--once", "-q", *vopts],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = card.stdout.readline().strip()
    if not first.startswith("line "):
        raise RuntimeError(f"vcard did not start: {first!r}")
    p = subprocess.run([TOOL, "--reader", "vline:" + first[5:], verbose, *args],
                       capture_output=True, text=True, timeout=60)
    if card.poll() is None:
        card.terminate()
    card.wait(timeout=10)
    return p.returncode, p.stdout, p.stderr


def has(name, out, lines):
    """The lines appear in out, in this order, one after the other."""
    check(name, "\n".join(lines) + "\n" in out, out)


T1_ACTIVATION = [
    "-- line: F=372 D=1, 3571 kHz, N=0, T=0",
    "-- cold reset (activation)",
    "C> ATR 3B 98 96 81 31 FE 45 63 61 72 64 6C 69 6E 6B 11",
    "   direct convention, T=1, Fi=512 Di=32 (TA1 96), IFSC 254, BWI 4 CWI 5, LRC, "
    "TCK ok, 8 historical bytes",
    "R> PPS FF 11 96 78: T=1, PPS1 96 Fi=512 Di=32, PCK ok",
    "C> PPS FF 11 96 78: T=1, PPS1 96 Fi=512 Di=32, PCK ok: accepted",
    "-- line: F=512 D=32, 5000 kHz, N=0, T=1",
    "R> S(IFS request 254) NAD 00, LRC ok",
    "C> S(IFS response 254) NAD 00, LRC ok",
]

# T=1: the whole story of one SELECT.
rc, out, err = run(["--atr", "t1"], "apdu", AID_SELECT)
check("T=1 exit", rc == 0, err)
check("T=1 SELECT, exact", out == "\n".join(T1_ACTIVATION + [
    "> " + AID_SELECT,
    "  SELECT",
    "R> I(0) NAD 00 LEN 13: " + AID_SELECT + ", LRC ok",
    "C> I(0) NAD 00 LEN 24: " + FCI + ", LRC ok",
    "< " + FCI,
    "  9000 No error",
    "    62 14  FCP template",
    "      82 01  file descriptor: 38  (DF)",
    "      83 02  file identifier: 10 00",
    "      84 08  DF name: F0 43 41 52 44 4C 4E 4B",
    "      8A 01  life cycle status: 05  (operational, activated)",
    "-- power off", ""]), out)

# T=1 chaining: 256 bytes back in an IFSD-sized chain; CRC.
rc, out, err = run(["--atr", "t1", "--edc", "crc"], "apdu", ECHO_256)
has("T=1 chained response", out, [
    "R> I(0) NAD 00 LEN 9: " + ECHO_256 + ", CRC ok",
    "C> I(0,M) NAD 00 LEN 254: 01 02 03 16 1D 24 2B 32 39 40 47 4E 55 5C 63 6A 71 78 7F "
    "86 8D 94 9B A2 ... (254 bytes), CRC ok",
    "R> R(1) error-free NAD 00, CRC ok",
    "C> I(1) NAD 00 LEN 4: F3 FA 90 00, CRC ok"])

# T=1 WTX: the card asks twice for 3 times the waiting time.
rc, out, err = run(["--atr", "t1", "--slow", "2", "--wtx", "3"], "apdu", AID_SELECT)
has("T=1 WTX", out, [
    "R> I(0) NAD 00 LEN 13: " + AID_SELECT + ", LRC ok",
    "C> S(WTX request 0x03) NAD 00, LRC ok",
    "R> S(WTX response 0x03) NAD 00, LRC ok",
    "C> S(WTX request 0x03) NAD 00, LRC ok",
    "R> S(WTX response 0x03) NAD 00, LRC ok",
    "C> I(0) NAD 00 LEN 24: " + FCI + ", LRC ok"])

# Faults (seeded): a corrupted TS, then a corrupted block retransmitted.
rc, out, err = run(["--atr", "t1", "--fault", "corrupt=2%,seed=4"], "apdu", AID_SELECT)
check("fault exit", rc == 0, out + err)
has("fault ATR", out, [
    "-- cold reset (activation)",
    "C> 2B (not an ATR: ATR initial character TS invalid)",
    "-- warm reset (a bad ATR)",
    "C> ATR 3B 98 96 81 31 FE 45 63 61 72 64 6C 69 6E 6B 11"])
has("fault retransmission", out, [
    "R> I(0) NAD 00 LEN 13: " + AID_SELECT + ", LRC ok",
    "C> I(0) NAD 00 LEN 24: 62 14 82 01 38 83 02 10 00 84 08 F0 43 41 52 44 4C 4E 4B "
    "8A 01 A6 90 00, LRC WRONG",
    "R> R(0) EDC/parity error NAD 00, LRC ok",
    "C> I(0) NAD 00 LEN 24: " + FCI + ", LRC ok"])

# T=0: header, ACK, data, 61xx, GET RESPONSE; the ATR and PPS.
rc, out, err = run(["--atr", "t0"], "apdu", AID_SELECT, "00 B0 00 00 04")
check("T=0 exit", rc == 0, err)
has("T=0 activation", out, [
    "C> ATR 3B 18 96 63 61 72 64 6C 69 6E 6B",
    "   direct convention, T=0, Fi=512 Di=32 (TA1 96), WI 10, 8 historical bytes",
    "R> PPS FF 10 96 79: T=0, PPS1 96 Fi=512 Di=32, PCK ok",
    "C> PPS FF 10 96 79: T=0, PPS1 96 Fi=512 Di=32, PCK ok: accepted"])
has("T=0 SELECT", out, [
    "> " + AID_SELECT,
    "  SELECT",
    "R> header 00 A4 04 00 08 (SELECT)",
    "C> A4 ACK: all 8 data bytes",
    "R> data, 8 bytes: F0 43 41 52 44 4C 4E 4B",
    "C> 61 16 SW: 22 bytes to GET RESPONSE",
    "R> header 00 C0 00 00 16 (GET RESPONSE)",
    "C> C0 ACK: all 22 data bytes",
    "C> data, 22 bytes: 62 14 82 01 38 83 02 10 00 84 08 F0 43 41 52 44 4C 4E 4B 8A 01 05",
    "C> 90 00 SW"])
has("T=0 READ BINARY", out, [
    "R> header 00 B0 00 00 04 (READ BINARY)",
    "C> 69 86 SW"])

# T=0, inverse convention, a busy card: NULL procedure bytes.
rc, out, err = run(["--atr", "t0", "--inverse", "--slow", "2"], "apdu", "00 A4 00 00 02 01 02")
check("T=0 inverse ATR", "C> ATR 3F 18 96" in out and "   inverse convention, T=0" in out, out)
has("T=0 NULL", out, [
    "R> header 00 A4 00 00 02 (SELECT)",
    "C> A4 ACK: all 2 data bytes",
    "R> data, 2 bytes: 01 02",
    "C> 60 NULL: more time",
    "C> 60 NULL: more time",
    "C> 6A 82 SW"])

# -v alone: no trace.
rc, out, err = run(["--atr", "t1"], "apdu", AID_SELECT, verbose="-v")
check("-v without trace", rc == 0 and "R> " not in out and "C> " not in out
      and "-- " not in out, out)

print(f"{checks - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
