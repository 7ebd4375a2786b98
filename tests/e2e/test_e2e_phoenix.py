#!/usr/bin/env python3
"""cardlink end to end through the Phoenix serial reader (issue 12).

    test_e2e_phoenix.py PKI PERSO VCARD SERVER DEVICE SHIM

The same programs as test_e2e.py, with the card behind a serial reader
instead of on the virtual line: the test PKI (cardlink-pki testpki), a card
image (cardlink-perso), the card (cardlink-vcard --line tcp:127.0.0.1:0
--applet IMG), the Phoenix / Smartmouse reader emulated on a pseudo-terminal
in front of it (tests/tool/phoenix_emu.py: echo, RST on RTS, rate and parity
checks), the server (cardlink-server --flows auth:pin,purchase:1 --once on
loopback) and cardlink-device --card serial:/dev/pts/N (ports/posix/serial.c
over libserialport, with tests/tool/modem_shim.c preloaded to give the pty
its modem lines and parity) with a scripted holder. Checked: the device's
activation line (the exact ATR, T=1, F=512 D=16 after the PPS), the
server's decisions (authentication APPROVED, purchase APPROVED), the
device's exit 0, the ledger row (cardlink-server --db F txns), the card's
new log record (cardlink-perso --show IMG), a clean line (no rate or parity
error, 8E2 frames, no clock mismatch at the card), and that no PIN digit
reached a log line or the relay stream.

Exit 77 (skipped) when cardlink-server or the serial port (libserialport,
the shim) was not built (SERVER or SHIM is "none"), or when this machine
has no pseudo-terminal the shim can serve (as tests/tool/test_serial.py).
"""
import ctypes
import os
import re
import subprocess
import sys
import tempfile
import termios
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from e2e_common import (  # noqa: E402
    PIN, approve, check, clean_work, exit_summary, first_line, perso_args, pin_alone,
    pin_in_stream, read, run, start, stop_all, wait_or_stop)

AUTH_PAGES = 2        # pages of an authentication on the device's display
# The applet card's T=1 ATR (cardlink-vcard --applet, default --atr t1):
# TA1 96 (F=512 D=16 offered), T=1, TA3 FE (IFSC 254), TB3 45, the
# historical bytes "cardlink", TCK.
ATR = "3b989681 31fe45 636172646c696e6b 11".replace(" ", "")
BAUD = 111593         # 3571 kHz * 16 / 512: the rate after the PPS

if len(sys.argv) != 7:
    sys.exit("usage: test_e2e_phoenix.py PKI PERSO VCARD SERVER DEVICE SHIM")
PKI, PERSO, VCARD, SERVER, DEVICE, SHIM = sys.argv[1:]
if SERVER == "none" or not os.path.exists(SERVER):
    print("cardlink-server not built: skipped")
    sys.exit(77)
if SHIM == "none" or not os.path.exists(SHIM):
    print("the serial reader port (libserialport) or modem_shim not built: skipped")
    sys.exit(77)
SHIM = os.path.abspath(SHIM)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tool"))
from phoenix_emu import Phoenix  # noqa: E402


def preflight():
    """A pty, sysfs and the shim that work here, or skip (test_serial.py's)."""
    try:
        master, slave = os.openpty()
    except OSError as e:
        print("no pseudo-terminal: %s: skipped" % e)
        sys.exit(77)
    try:
        if not os.path.islink("/sys/class/tty/ptmx"):
            print("no /sys/class/tty/ptmx (libserialport cannot look ports up): skipped")
            sys.exit(77)
        lib = ctypes.CDLL(SHIM)
        bits = ctypes.c_int(0)
        lib.ioctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p]
        if lib.ioctl(slave, termios.TIOCMGET, ctypes.byref(bits)) != 0:
            print("the shim does not answer TIOCMGET on a pty: skipped")
            sys.exit(77)
    finally:
        os.close(master)
        os.close(slave)


preflight()
work = tempfile.mkdtemp(prefix="cl-e2e-phoenix-")

emu = None
try:
    pki = os.path.join(work, "pki")
    os.makedirs(pki)
    r = run([PKI, "testpki", pki])
    if r.returncode != 0:
        sys.exit("cardlink-pki: " + r.stdout)

    img = os.path.join(work, "card.img")
    r = run(perso_args(PERSO, pki, img, PIN, "5000"))
    if r.returncode != 0:
        sys.exit("cardlink-perso: " + r.stdout)
    shown0 = run([PERSO, "--show", img]).stdout

    # The card, then the reader in front of it (one connection to the card).
    vcard_out = os.path.join(work, "vcard.out")
    vcard, vf = start([VCARD, "--line", "tcp:127.0.0.1:0", "--applet", img, "--once"], vcard_out)
    line = first_line(vcard_out, r"^line (\S+)", vcard, timeout=60).group(1)
    emu = Phoenix(line)

    db = os.path.join(work, "ledger.db")
    sout = os.path.join(work, "server.out")
    srv, sf = start([SERVER, "--listen", "127.0.0.1:0", "--pki", pki, "--db", db,
                     "--flows", "auth:pin,purchase:1", "--once"], sout)
    port = first_line(sout, r"listening on \S+ port (\d+)", srv, timeout=60).group(1)

    holder = os.path.join(work, "holder")
    with open(holder, "w") as f:
        f.write(approve(AUTH_PAGES) + "wait-screen MESSAGE\nexpect-line 1 Approved\n" +
                approve(2) + "wait-screen MESSAGE\nexpect-line 1 Approved\nend\n")
    trace = os.path.join(work, "device.trace")
    args = [DEVICE, "--card", "serial:" + emu.path, "--server", "127.0.0.1:" + port,
            "--pki", pki, "--store", os.path.join(work, "store"), "--ui", "script:" + holder,
            "--trace", trace, "-v"]
    try:
        d = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=240, env=emu.env(SHIM))
        drc, dout = d.returncode, d.stdout
    except subprocess.TimeoutExpired as e:
        out = e.stdout or ""
        drc, dout = -1, out.decode(errors="replace") if isinstance(out, bytes) else out
    wait_or_stop(srv, 60)
    sdata = read(sout)
    time.sleep(0.1)                  # the emulator takes the last reports
    emu.close()
    wait_or_stop(vcard, 30)
    vdata = read(vcard_out)
    print("---- device (rc %d)\n%s---- server\n%s---- card\n%s---- reader\n%s\n%s"
          % (drc, dout, sdata, vdata, emu.summary(), "\n".join(emu.log[-40:])))

    # the device: the card over the serial line, the session to its end
    check(drc == 0, "device exit 0")
    check(emu.error is None, "reader emulator ran", emu.error)
    m = re.search(r"^device: card active: ATR (\S+), T=(\d), F=(\d+) D=(\d+)", dout, re.M)
    check(m is not None and m.group(1) == ATR, "the device logs the exact ATR %s" % ATR,
          m.group(0) if m else "no 'card active' line")
    check(m is not None and m.groups()[1:] == ("1", "512", "16"),
          "T=1 at F=512 D=16 after the PPS", m.group(0) if m else "")
    check([k for k, _ in emu.resets] == ["cold"], "one cold reset (RST on RTS)", emu.resets)
    check(emu.ts_params == [(9599, "M")], "TS read at 9599 bit/s with mark parity", emu.ts_params)

    # the server's decisions
    check(re.search(r"server: device \S+ .*connected", sdata) is not None,
          "server: the device connected over TLS")
    check(re.search(r"authentication \S+ card \S+: APPROVED, signature verified \(card-auth\), "
                    r"1 attempt", sdata) is not None,
          "server: authentication APPROVED (card-auth), 1 attempt")
    check(re.search(r'server: purchase \S+ EUR 2\.50 "Demo Shop".*: APPROVED, signature verified',
                    sdata) is not None, "server: purchase EUR 2.50 APPROVED, signature verified")
    check("holder:   Pay EUR 2.50" in dout, "the holder saw 'Pay EUR 2.50'")

    # the ledger: one purchase row, APPROVED
    t = run([SERVER, "--db", db, "txns"]).stdout
    print("---- txns\n" + t)
    check(len(re.findall(r"purchase .* EUR -2\.50\s+APPROVED", t)) == 1,
          "ledger: one purchase EUR -2.50 APPROVED", t)

    # the card: the new log records (cardlink-perso --show: "N ID(16) AMOUNT(4)
    # CURRENCY(2) ...", record 1 the newest): the sign-in's (amount 0) and
    # the purchase's, whose id is the ledger's and amount 250, EUR (978)
    check("transaction record appended on the card (2)" in dout,
          "device: two records appended on the card (authentication, purchase)")
    shown = run([PERSO, "--show", img]).stdout
    print("---- card image\n" + shown)
    m0 = re.search(r"^records\s+(\d+)", shown0, re.M)
    m1 = re.search(r"^records\s+(\d+)", shown, re.M)
    check(m0 is not None and m1 is not None and int(m1.group(1)) == int(m0.group(1)) + 2,
          "card image: two records more (%s -> %s)" % (m0 and m0.group(1), m1 and m1.group(1)),
          shown)
    recs = dict(re.findall(r"^\s+(\d+) ([0-9A-F]+)$", shown, re.M))
    tm = re.search(r"^\S+\s+([0-9a-f]{32})\s+\S+\s+purchase", t, re.M)
    newest, sign_in = recs.get("1", ""), recs.get("2", "")
    check(tm is not None and newest[:32] == tm.group(1).upper() and newest[32:44] == "000000FA03D2",
          "card image: record 1 is the purchase (the ledger's id, 250, currency 978)",
          (newest, tm and tm.group(1)))
    check(len(sign_in) == 86 and sign_in[32:40] == "00000000",
          "card image: record 2 is the sign-in (amount 0)", sign_in)
    check(re.search(r"^PIN tries\s+3/", shown, re.M) is not None, "card image: PIN tries 3/3")

    # the line itself
    check(emu.rate_errors == 0 and emu.parity_errors == 0,
          "serial line: no rate or parity error", emu.summary())
    check(emu.params and all(s == 2 for _, _, s in emu.params) and
          {par for _, par, _ in emu.params} == {"E"} and emu.params[-1][0] == BAUD,
          "serial line: 8E2 frames, at %d bit/s after the PPS" % BAUD, emu.params)
    mm = re.search(r"(\d+) clock mismatches", vdata)
    check(mm is None or mm.group(1) == "0", "card: no clock mismatch", vdata[-400:])

    check(re.search(r"server: device \S+: card inserted, ATR " + ATR + "$", sdata, re.M)
          is not None, "server: the card's ATR as the device reported it")

    # no PIN digit in the device's or the server's logs (together or as
    # hex bytes), nor in the relay stream. The card's own log (vcard.out)
    # dumps the line, VERIFY included: it is the card, not a log of ours.
    # Hex runs (keys, ids, fingerprints) are left out of the plain search,
    # where 4 random digits would turn up now and then; the PIN as the
    # VERIFY block codes it (24 PIN FF..) is looked for in them too.
    text = dout + sdata + t + shown
    # (and port numbers: the PIN is looked for as a number of its own)
    alone = pin_alone(PIN, text)
    pin_hex = " ".join(PIN[i:i + 2] for i in range(0, len(PIN), 2))
    packed = re.sub(r"[^0-9A-F]", "", text.upper())
    check(alone is None and pin_hex not in text and ("24" + PIN + "FF") not in packed,
          "PIN in no log line of the device or the server (%d bytes of logs)" % len(text))
    stream = ""
    if os.path.exists(trace):
        stream = "".join(l[2:].strip() for l in read(trace).splitlines())
    found = pin_in_stream(PIN, stream)
    check(len(stream) > 0 and not found,
          "PIN nowhere in the relay stream (%d hex chars): %s" % (len(stream), found or "absent"))
finally:
    stop_all()
    if emu is not None and not emu.stop_flag:
        emu.close()
    clean_work(work, keep=sys.exc_info()[0] is not None)

exit_summary()
