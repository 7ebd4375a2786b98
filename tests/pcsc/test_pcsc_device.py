#!/usr/bin/env python3
"""cardlink-device over PC/SC, end to end (issue 12): a private pcscd (socket
activated on a private socket, a private reader.conf loading vsmartcard's
vpcd driver on two free ports), cardlink-vcard --vpcd with a personalised
payment card as the card in pcscd's virtual reader, cardlink-server (TLS,
SQLite ledger in a temporary directory, --once) and cardlink-device
--card pcsc:"Virtual PCD 00 00" with a scripted holder:

  1. the slot watcher sees the card (SCardGetStatusChange): "card inserted
     (PC/SC ...)", the reader connects it, the Part 10 feature request
     finds no PIN pad on vpcd ("PIN pad: none"), CARD-INSERTED with the
     card's ATR reaches the server;
  2. a purchase completes over SCardTransmit: the holder types the PIN on
     the device's keypad (vpcd has no PIN pad: the fallback), the server
     verifies the signature, APPROVED, the ledger holds it once, the purse
     is untouched and the record is on the card;
  3. a second purchase waits on the holder's screen: meanwhile no other
     program can connect to the card (the device holds it exclusively:
     pcscd lists it so, pyscard's connect fails with a sharing violation);
     then the card is removed (cardlink-vcard stopped): the device logs "card removed
     (PC/SC ...)", the approval ends FAILED with NO_CARD, and the server
     logs the CARD-REMOVED it got ("device ...: card removed").

Exit 77 (skipped) only when pcscd, the vpcd driver or cardlink-server are
absent. Every process started is stopped.
Usage: test_pcsc_device.py PKI PERSO VCARD SERVER DEVICE TOOL"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
sys.dont_write_bytecode = True
from e2e_common import free_port_pair, perso_args, pyscard_python, spawn_pcscd, stop  # noqa: E402

if len(sys.argv) != 7:
    sys.exit(__doc__.splitlines()[-1])
PKI, PERSO, VCARD, SERVER, DEVICE, TOOL = sys.argv[1:]
VPCD_DRIVER = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"
READER = "Virtual PCD 00 00"
PIN = "7391"
procs = []
checks = failures = 0


def check(cond, what, detail=""):
    global checks, failures
    checks += 1
    if cond:
        print("ok   " + what)
    else:
        failures += 1
        print("FAIL " + what + ("\n" + str(detail)[-4000:] if detail else ""))
    return cond


def skip(why):
    print("SKIP: " + why)
    sys.exit(77)


def on_alarm(sig, frame):
    raise TimeoutError("test_pcsc_device.py: overall time limit reached")


if SERVER == "none" or not os.path.exists(SERVER):
    skip("cardlink-server not built")
PCSCD = shutil.which("pcscd") or ("/usr/sbin/pcscd" if os.path.exists("/usr/sbin/pcscd") else None)
if PCSCD is None:
    skip("pcscd is not installed (Debian: pcscd)")
if not os.path.exists(VPCD_DRIVER):
    skip("vsmartcard's vpcd driver is not installed (Debian: vsmartcard-vpcd)")
signal.signal(signal.SIGALRM, on_alarm)
signal.alarm(240)

work = tempfile.mkdtemp(prefix="cl-pcsc-dev-")
SOCK = os.path.join(work, "pcscd.comm")
ENV = dict(os.environ, PCSCLITE_CSOCK_NAME=SOCK)


def start_pcscd(port):
    p = spawn_pcscd(work, SOCK, port, VPCD_DRIVER, PCSCD)
    procs.append(p)
    return p


def start(args, name, env=None):
    path = os.path.join(work, name)
    f = open(path, "w+")
    p = subprocess.Popen(args, stdout=f, stderr=subprocess.STDOUT, text=True, env=env)
    procs.append(p)
    return p, path


def read(path):
    with open(path) as f:
        return f.read()


def until(path, pattern, proc=None, timeout=30):
    t0 = time.time()
    while time.time() - t0 < timeout:
        m = re.search(pattern, read(path), re.M)
        if m:
            return m
        if proc is not None and proc.poll() is not None:
            m = re.search(pattern, read(path), re.M)
            return m
        time.sleep(0.05)
    return None


def run(args, **kw):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=120, **kw)


status = 1
pcscd = None
try:
    # the card image: test PKI, both keys, a purse of 5000
    pki = os.path.join(work, "pki")
    r = run([PKI, "testpki", pki])
    if not check(r.returncode == 0, "cardlink-pki testpki", r.stdout):
        raise SystemExit
    img = os.path.join(work, "card.img")

    r = run(perso_args(PERSO, pki, img, PIN, "5000"))
    if not check(r.returncode == 0, "cardlink-perso", r.stdout):
        raise SystemExit

    port = free_port_pair()
    pcscd = start_pcscd(port)
    t0 = time.time()
    up = False
    while time.time() - t0 < 15 and pcscd.poll() is None:
        r = run([TOOL, "readers"], env=ENV)
        if READER in r.stdout:
            up = True
            break
        time.sleep(0.3)
    if not up:
        if pcscd.poll() is not None:
            skip(f"pcscd cannot run here (exit {pcscd.returncode}): "
                 f"{read(os.path.join(work, 'pcscd.log'))[-2000:]}")
        check(False, "pcscd serves the vpcd readers", read(os.path.join(work, "pcscd.log")))
        raise SystemExit

    vcard, vout = start([VCARD, "--vpcd", f"127.0.0.1:{port}", "--applet", img], "vcard.out")
    check(until(vout, rf"^vpcd 127\.0\.0\.1:{port}", vcard) is not None,
          "cardlink-vcard plugs the card into vpcd", read(vout))
    t0 = time.time()
    atr = None
    while time.time() - t0 < 20:
        r = run([TOOL, "readers"], env=ENV)
        m = re.search(r"^0: " + re.escape(READER) + r"\n\s+card, ATR ([0-9A-F ]+)$", r.stdout,
                      re.M)
        if m:
            atr = m.group(1).strip()
            break
        time.sleep(0.3)
    check(atr is not None, "pcscd reports the card in " + READER, r.stdout)

    db = os.path.join(work, "ledger.db")
    srv, sout = start([SERVER, "--listen", "127.0.0.1:0", "--pki", pki, "--db", db,
                       "--flows", "purchase:1,purchase:1", "--once"], "server.out")
    m = until(sout, r"listening on \S+ port (\d+)", srv)
    if not check(m is not None, "cardlink-server listens", read(sout)):
        raise SystemExit
    sport = m.group(1)
    holder = os.path.join(work, "holder")
    with open(holder, "w") as f:
        # the first purchase: both pages, Confirm, the PIN on the device's
        # keypad; the second: its first page stays up until the card leaves
        f.write("wait-screen TXN 1/2\npage-down\nwait-screen TXN 2/2\nconfirm\n"
                f"wait-screen PIN\npin {PIN}\nwait-screen MESSAGE\nexpect-line 1 Approved\n"
                "wait-screen TXN 1/2\nwait-screen MESSAGE\nexpect-line 1 Failed\nend\n")
    store = os.path.join(work, "store")
    dev, dout = start([DEVICE, "--card", "pcsc:" + READER, "--server", "127.0.0.1:" + sport,
                       "--pki", pki, "--store", store, "--ui", "script:" + holder],
                      "device.out", env=ENV)

    check(until(dout, r"device: card inserted \(PC/SC " + re.escape(READER) + r"\)", dev)
          is not None, "device: card inserted (PC/SC) from the slot watcher", read(dout))
    m = until(dout, r"device: card active \(PC/SC\): ATR ([0-9A-Fa-f]+), T=(\d), PIN pad: (\S+)",
              dev)
    if check(m is not None, "device: the card connected over PC/SC", read(dout)):
        check(atr is not None and m.group(1).upper() == atr.replace(" ", "").upper(),
              "device: the ATR pcscd reports", (m.group(1), atr))
        check(m.group(3) == "none", "device: vpcd has no PIN pad (Part 10 detection: none, "
              "the device's keypad is used)", m.group(0))
    check(until(sout, r"card inserted, ATR", srv) is not None,
          "server: CARD-INSERTED with the ATR", read(sout))

    # the first purchase completes
    check(until(sout, r'server: purchase \S+ EUR 2\.50 "Demo Shop".*: APPROVED, signature '
                r'verified', srv) is not None,
          "purchase over PC/SC: server APPROVED with the signature verified", read(sout))
    check(until(dout, r"transaction record appended on the card", dev) is not None,
          "purchase over PC/SC: the record on the card", read(dout))

    # the second waits on the holder: the card leaves
    m = until(dout, r"holder:.*TXN 1/2(?:.|\n)*holder:.*TXN 1/2", dev, timeout=30)
    check(m is not None, "the second purchase is on the holder's screen", read(dout))
    # while the device holds the card no other program reaches it (exclusive
    # connection): pcscd says so, and pyscard's connect is refused
    r = run([TOOL, "readers"], env=ENV)
    check("in exclusive use by another program" in r.stdout,
          "pcscd: the card is in exclusive use (by the device)", r.stdout)
    py = pyscard_python()
    if check(py is not None, "pyscard importable (Debian: python3-pyscard)"):
        r = run([py, "-c", "import sys\nfrom smartcard.System import readers\n"
                 "c = next(x for x in readers() if sys.argv[1] in str(x)).createConnection()\n"
                 "try:\n    c.connect()\nexcept Exception as e:\n    print('refused:', e)\n"
                 "else:\n    print('connected:', c.transmit([0x80, 0x5C, 0, 0, 0]))\n",
                 READER], env=ENV)
        check(r.returncode == 0 and "refused:" in r.stdout and
              "sharing violation" in r.stdout.lower(),
              "pyscard: another program's connect is refused (SCARD_E_SHARING_VIOLATION)",
              r.stdout)
    time.sleep(0.3)
    check(stop(vcard) == 0, "cardlink-vcard stopped (the card removed)")
    procs.remove(vcard)
    check(until(dout, r"device: card removed \(PC/SC " + re.escape(READER) + r"\)", dev)
          is not None, "device: card removed (PC/SC) from the slot watcher", read(dout))
    check(until(sout, r"device \S+: card removed", srv) is not None,
          "server: the device reported CARD-REMOVED", read(sout))
    try:
        drc = dev.wait(timeout=30)
    except subprocess.TimeoutExpired:
        drc = None
    check(drc == 0, "device exit 0 (the holder saw 'Failed', the server closed)",
          (drc, read(dout)))
    try:
        srv.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    sdata = read(sout)
    check(re.search(r"purchase .*: FAILED", sdata) is not None,
          "server: the second purchase FAILED (the card left)", sdata)
    t = run([SERVER, "--db", db, "txns"]).stdout
    check(len(re.findall(r"purchase .* EUR -2\.50\s+APPROVED", t)) == 1,
          "ledger: one purchase APPROVED", t)
    # no PIN digits in any log line
    logs = read(dout) + read(sout)
    # (longer numbers and hex runs, ids, fingerprints, port numbers, hold
    # any 4 digits by chance: the plain PIN as a number of its own, its
    # VERIFY encoding inside the hex runs)
    hexruns = "".join(re.findall(r"[0-9A-Fa-f]{8,}", logs)).upper()
    check(re.search(r"(?<![0-9A-Fa-f])" + PIN + r"(?![0-9A-Fa-f])", logs) is None and "24" + PIN + "FF" not in hexruns,
          "no PIN digits in the device's or the server's log")
    print("---- device\n" + read(dout) + "---- server\n" + read(sout))
except TimeoutError as e:
    check(False, "overall time limit", e)
except SystemExit:
    pass
finally:
    for pr in reversed(procs):
        stop(pr)
    shutil.rmtree(work, ignore_errors=True)

print(f"{checks - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
