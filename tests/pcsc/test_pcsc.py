#!/usr/bin/env python3
"""PC/SC end to end with peers nobody here wrote. The test starts its own
pcscd (foreground, socket-activated on a private socket in a temporary
directory, so a system pcscd is never touched; clients find it through
PCSCLITE_CSOCK_NAME) with a private reader.conf that loads vsmartcard's vpcd
driver on two free TCP ports. cardlink-vcard --vpcd then plugs the simulated
card into pcscd's virtual reader: the file-system application with a T=0 and
a T=1 ATR, then the payment applet on a card image made with cardlink-pki and
cardlink-perso. For each, the same card dialogue through
  - opensc-tool (OpenSC): --list-readers, --atr, -s APDU;
  - pyscard (python3-pyscard): readers(), getATR(), raw transmit (T=0 status
    words 61xx/6Cxx reach it as the card sent them);
  - cardlink-tool --reader pcsc: (ports/posix/pcsc.c through pcscd, which
    collects T=0 responses itself);
  - cardlink-tool readers (both vpcd readers, card state, ATR), --reader
    pcsc: taking the reader that holds the card, the messages for a missing
    pcscd and a missing reader;
  - opensc-explorer: ls, cd, cat of both applications (-c tcos: OpenSC's
    default driver has no file listing; cd and cat with it too), the files
    listed and their bytes checked exactly (docs/vcard.md);
with the exact ATR and exact response bytes. Exit 77 (skip) only when
pcscd itself cannot run here. Every process started is stopped.
Usage: test_pcsc.py TOOL VCARD [PKI PERSO]"""
import json
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
from e2e_common import free_port_pair, pyscard_python, spawn_pcscd, stop  # noqa: E402

TOOL, VCARD = sys.argv[1], sys.argv[2]
PKI = sys.argv[3] if len(sys.argv) > 4 else None
PERSO = sys.argv[4] if len(sys.argv) > 4 else None
HERE = os.path.dirname(os.path.abspath(__file__))
VPCD_DRIVER = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"
READER = "Virtual PCD 00 00"
checks = failures = 0
procs = []
our_pids = []


def check(name, cond, detail=""):
    global checks, failures
    checks += 1
    if not cond:
        failures += 1
        print(f"FAIL {name}: {str(detail)[:3000]}")
    return cond


def hx(s):
    """Normalised upper-case hex without spaces."""
    return s.replace(" ", "").replace(":", "").upper()


def skip(why):
    print(f"SKIP: {why}")
    cleanup()
    sys.exit(77)


def cleanup():
    for p in reversed(procs):
        stop(p)
    procs.clear()


def on_alarm(sig, frame):
    raise TimeoutError("test_pcsc.py: overall time limit reached")


signal.signal(signal.SIGALRM, on_alarm)
signal.alarm(240)

# ----------------------------------------------------------- expectations

ATR_T0 = "3B 18 96 63 61 72 64 6C 69 6E 6B"                    # TA1 96, "cardlink"
ATR_T1 = "3B 98 96 81 31 FE 45 63 61 72 64 6C 69 6E 6B 11"     # + T=1 IFSC FE, BWI/CWI 45

SELECT_AID = "00 A4 04 00 08 F0 43 41 52 44 4C 4E 4B"
FCI = "62 14 82 01 38 83 02 10 00 84 08 F0 43 41 52 44 4C 4E 4B 8A 01 05 90 00"
SELECT_EF = "00 A4 00 00 02 01 02"
FCP = "62 11 80 02 00 20 82 01 01 83 02 01 02 88 01 10 8A 01 05 90 00"
READ4 = "00 B0 00 00 04"
READ4_R = "00 00 00 00 90 00"
READ_ALL = "00 B0 00 00 00"                 # Le 256, the EF has 32 bytes
READ_ALL_R = "00" * 32 + "9000"
ECHO = "80 EE 01 00 03 01 02 03 00"         # 256 bytes back: 61 00 in T=0
ECHO_R = bytes([1, 2, 3] + [(i * 7 + 1) & 0xFF for i in range(3, 256)]).hex() + "9000"

SELECT_APP = "00 A4 04 00 07 F0 43 4C 50 41 59 01"
FCI_APP = "6F 09 84 07 F0 43 4C 50 41 59 01 90 00"
BALANCE = "80 5C 00 00 00"
PIN_BAD = "00 20 00 80 08 24 19 99 FF FF FF FF FF"
PIN_OK = "00 20 00 80 08 24 12 34 FF FF FF FF FF"


# -------------------------------------------------------------- the peers

def env():
    return dict(os.environ, PCSCLITE_CSOCK_NAME=SOCK)


def run(args, timeout=30):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env())


def opensc_apdus(apdus):
    """opensc-tool -r 0 -s ...: the responses (data + SW) as hex."""
    args = ["opensc-tool", "-r", "0"]
    for a in apdus:
        args += ["-s", a]
    r = run(args)
    out, cur = [], None
    for line in r.stdout.splitlines():
        if line.startswith("Received (SW1=0x"):
            if cur is not None:
                out.append(cur[0] + cur[1])
            cur = ["", line[16:18].upper() + line[26:28].upper()]
        elif cur is not None and line and not line.startswith("Sending"):
            # k bytes: "XX " k times, then k ASCII characters
            cur[0] += hx(line[:3 * (len(line) // 4)])
    if cur is not None:
        out.append(cur[0] + cur[1])
    return r, out


def opensc_atr():
    r = run(["opensc-tool", "-r", "0", "--atr"])
    return hx(r.stdout.strip())


def pyscard(apdus):
    r = subprocess.run([PYTHON, os.path.join(HERE, "pyscard_peer.py"), READER, *apdus],
                       capture_output=True, text=True, timeout=30, env=env())
    try:
        return r, json.loads(r.stdout)
    except ValueError:
        return r, None


def tool_apdus(apdus):
    r = run([TOOL, "--reader", "pcsc:" + READER, "-v", "apdu", *apdus])
    return r, [hx(l[2:]) for l in r.stdout.splitlines() if l.startswith("< ")]


def explorer(commands, driver=None):
    """opensc-explorer -r 0 [-c DRIVER] fed commands on stdin: (result, the
    listed files as (FID, type, size), the bytes of every cat, in order)."""
    args = ["opensc-explorer", "-r", "0"] + (["-c", driver] if driver else [])
    r = subprocess.run(args, input="\n".join(commands) + "\n", capture_output=True,
                       text=True, timeout=60, env=env())
    files, cats, cur = [], [], None
    for line in r.stdout.splitlines():
        line = line.split("> ", 1)[1] if line.startswith("OpenSC [") else line
        m = re.match(r"^([ \[])([0-9A-F]{4})[ \]]\t\s*(\S+)\s+(\d+)", line)
        if m:
            files.append((m.group(2), m.group(3), int(m.group(4))))
            continue
        m = re.match(r"^([0-9A-F]{8}): ((?:[0-9A-F]{2} )+)", line)
        if m:
            if int(m.group(1), 16) == 0:
                cur = bytearray()
                cats.append(cur)
            cur += bytes.fromhex(m.group(2))
    return r, files, [bytes(c) for c in cats]


def explorer_fs(name):
    """ls, cd, cat on the file-system application (docs/vcard.md)."""
    r, files, cats = explorer(["ls", "cd 1000", "ls", "cat 0102", "cat 0101", "cd ..",
                               "cat 0011"], driver="tcos")
    check(f"[{name}] opensc-explorer -c tcos exit", r.returncode == 0, r.stdout + r.stderr)
    check(f"[{name}] opensc-explorer ls 3F00, ls 3F00/1000", files == [
        ("1000", "DF", 0), ("0011", "wEF", 16),
        ("0101", "wEF", 1024), ("0102", "wEF", 32), ("0201", "wEF", 128),
        ("0202", "wEF", 64)], f"{files}\n{r.stdout}{r.stderr}")
    check(f"[{name}] opensc-explorer cat 0102, 0101, ../0011", cats == [
        bytes(32), bytes((i * 7 + 1) & 0xFF for i in range(1024)),
        b"cardlink vcard\0\0"], f"{[c.hex() for c in cats]}\n{r.stdout}{r.stderr}")
    # OpenSC's default driver: cd and cat (SELECT by path), no ls
    r, files, cats = explorer(["cd 1000", "cat 0102", "cd ..", "cat 0011", "ls"])
    check(f"[{name}] opensc-explorer (default driver) cd, cat",
          cats == [bytes(32), b"cardlink vcard\0\0"], f"{r.stdout}{r.stderr}")
    check(f"[{name}] opensc-explorer (default driver) ls: not supported by OpenSC's driver",
          "Unable to receive file listing: Not supported" in r.stderr, r.stderr)


def explorer_applet(name, pki):
    """ls and cat on the applet: its certificate EFs are the DER files."""
    ders = [open(os.path.join(pki, f), "rb").read()
            for f in ("card.der", "issuer.der", "root.der", "card-sign.der")]
    r, files, cats = explorer(["ls", "cat 0101", "cat 0102", "cat 0103", "cat 0104"],
                              driver="tcos")
    check(f"[{name}] opensc-explorer -c tcos exit", r.returncode == 0, r.stdout + r.stderr)
    check(f"[{name}] opensc-explorer ls", files == [
        ("0101", "wEF", len(ders[0])), ("0102", "wEF", len(ders[1])),
        ("0103", "wEF", len(ders[2])), ("0201", "wEF", 1112), ("0202", "wEF", 430),
        ("0104", "wEF", len(ders[3]))], f"{files}\n{r.stdout}{r.stderr}")
    check(f"[{name}] opensc-explorer cat: the certificates byte for byte", cats == ders,
          f"{r.stdout[-1500:]}{r.stderr}")


# ------------------------------------------------------- pcscd and vcard

def start_pcscd(work, port):
    """pcscd -f on a private socket and a private reader.conf (spawn_pcscd),
    stopped at the end."""
    p = spawn_pcscd(work, SOCK, port, VPCD_DRIVER)
    procs.append(p)
    our_pids.append(str(p.pid))
    return p


def pcscd_log(work):
    try:
        with open(os.path.join(work, "pcscd.log")) as f:
            return f.read()[-3000:]
    except OSError:
        return ""


def start_vcard(port, args):
    p = subprocess.Popen([VCARD, "--vpcd", f"127.0.0.1:{port}", "-q", *args],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    procs.append(p)
    first = p.stdout.readline().strip()
    if not check(f"vcard {' '.join(args)} connects to vpcd", first == f"vpcd 127.0.0.1:{port}",
                 first + p.stderr.read() if p.poll() is not None else first):
        return None
    return p


def wait_for_atr(want, seconds=20):
    """Until pcscd reports the card with this ATR in reader 0."""
    end = time.time() + seconds
    got = ""
    while time.time() < end:
        got = opensc_atr()
        if got == hx(want):
            return got
        time.sleep(0.3)
    return got


def stop_vcard(p, name):
    rc = stop(p)
    procs.remove(p)
    check(f"[{name}] vcard exits 0 on SIGTERM", rc == 0, rc)


# -------------------------------------------------------------- dialogues

def fs_dialogue(name, atr, proto):
    # opensc-tool: readers, ATR, APDUs (OpenSC does GET RESPONSE / Le retry)
    r = run(["opensc-tool", "--list-readers"])
    line = next((l for l in r.stdout.splitlines() if READER in l), "")
    check(f"[{name}] opensc-tool lists {READER} with a card",
          line.split()[1:2] == ["Yes"] if line else False, r.stdout)
    check(f"[{name}] opensc-tool --atr", opensc_atr() == hx(atr))
    r, resp = opensc_apdus([SELECT_AID + " 00", SELECT_EF + " 00", READ4, READ_ALL, ECHO])
    want = [hx(FCI), hx(FCP), hx(READ4_R), hx(READ_ALL_R), hx(ECHO_R)]
    check(f"[{name}] opensc-tool exit", r.returncode == 0, r.stdout + r.stderr)
    check(f"[{name}] opensc-tool responses", resp == want, f"{resp}\n{r.stdout}{r.stderr}")

    # pyscard: raw, T=0 status words as the card sends them
    if proto == 0:
        apdus = [SELECT_AID, "00 C0 00 00 16", SELECT_EF, "00 C0 00 00 13", READ4, READ_ALL,
                 "00 B0 00 00 20", ECHO, "00 C0 00 00 00"]
        want = ["6116", hx(FCI), "6113", hx(FCP), hx(READ4_R), "6C20", hx(READ_ALL_R),
                "6100", hx(ECHO_R)]
    else:
        apdus = [SELECT_AID, SELECT_EF, READ4, READ_ALL, ECHO]
        want = [hx(FCI), hx(FCP), hx(READ4_R), hx(READ_ALL_R), hx(ECHO_R)]
    r, out = pyscard(apdus)
    if check(f"[{name}] pyscard ran", out is not None, r.stdout + r.stderr):
        check(f"[{name}] pyscard readers", READER in out["readers"], out["readers"])
        check(f"[{name}] pyscard ATR", out["atr"] == hx(atr), out["atr"])
        check(f"[{name}] pyscard protocol T={proto}", out["protocol"] == proto, out["protocol"])
        check(f"[{name}] pyscard responses", out["responses"] == want, out["responses"])

    # cardlink-tool through ports/posix/pcsc.c: whole responses either way
    r = run([TOOL, "--reader", "pcsc:" + READER, "atr"])
    check(f"[{name}] cardlink-tool atr", r.returncode == 0 and f"ATR: {atr}\n" in r.stdout
          and f"running: T={proto}" in r.stdout, r.stdout + r.stderr)
    r, resp = tool_apdus([SELECT_AID, SELECT_EF, READ4, READ_ALL, ECHO])
    check(f"[{name}] cardlink-tool exit", r.returncode == 0, r.stdout + r.stderr)
    check(f"[{name}] cardlink-tool activation", f"activated: T={proto}" in r.stderr
          and f"PC/SC reader: {READER}" in r.stderr, r.stderr)
    check(f"[{name}] cardlink-tool responses",
          resp == [hx(FCI), hx(FCP), hx(READ4_R), hx(READ_ALL_R), hx(ECHO_R)], resp)
    explorer_fs(name)


def applet_dialogue(name, proto, pki=None):
    seen = {}
    r, resp = opensc_apdus([SELECT_APP + " 00", BALANCE, PIN_BAD, PIN_OK])
    check(f"[{name}] opensc-tool exit", r.returncode == 0, r.stdout + r.stderr)
    if check(f"[{name}] opensc-tool 4 responses", len(resp) == 4, resp):
        seen["opensc"] = resp
    # pyscard raw: under T=0 the FCI is announced with 61 0B and GET
    # BALANCE's Le 00 (256) is answered 6C 12 (18 bytes)
    if proto == 0:
        r, out = pyscard([SELECT_APP, BALANCE])
        if check(f"[{name}] pyscard ran", out is not None, r.stdout + r.stderr):
            check(f"[{name}] pyscard T=0: 610B, 6C12", out["responses"] == ["610B", "6C12"],
                  out["responses"])
        r, out = pyscard([SELECT_APP, "00 C0 00 00 0B", "80 5C 00 00 12", PIN_BAD, PIN_OK])
        if out is not None:
            out["responses"] = out["responses"][1:]
    else:
        r, out = pyscard([SELECT_APP, BALANCE, PIN_BAD, PIN_OK])
    if check(f"[{name}] pyscard ran", out is not None, r.stdout + r.stderr):
        seen["pyscard"] = out["responses"]
    r, resp = tool_apdus([SELECT_APP, BALANCE, PIN_BAD, PIN_OK])
    check(f"[{name}] cardlink-tool exit", r.returncode == 0, r.stdout + r.stderr)
    seen["cardlink-tool"] = resp
    for peer, resp in seen.items():
        if not check(f"[{name}] {peer}: 4 responses", len(resp) == 4, resp):
            continue
        check(f"[{name}] {peer}: SELECT, the FCI", resp[0] == hx(FCI_APP), resp[0])
        bal = bytes.fromhex(resp[1])
        check(f"[{name}] {peer}: GET BALANCE 5000, currency 03D2, 9000",
              bal[:4] == (5000).to_bytes(4, "big") and bal[4:6] == bytes([3, 0xD2])
              and bal[-2:] == b"\x90\x00", resp[1])
        check(f"[{name}] {peer}: wrong PIN 63C2", resp[2] == "63C2", resp[2])
        check(f"[{name}] {peer}: right PIN 9000", resp[3] == "9000", resp[3])
    vals = list(seen.values())
    check(f"[{name}] the three peers agree byte for byte",
          len(vals) == 3 and vals[0] == vals[1] == vals[2], seen)
    if pki is not None:
        explorer_applet(name, pki)


# ---------------------------------------------- cardlink-tool readers

def readers_checks(work, port):
    """cardlink-tool readers; --reader pcsc: takes the first reader holding a
    card; the messages for no pcscd and no such reader."""
    empty = f"0: {READER}\n   no card\n1: Virtual PCD 00 01\n   no card\n"
    r = run([TOOL, "readers"])
    check("[readers] two empty readers", r.returncode == 0 and r.stdout == empty,
          (r.returncode, r.stdout, r.stderr))
    r = run([TOOL, "--reader", "pcsc:", "atr"])
    check("[readers] pcsc: with no card anywhere: exit 1, no '(Command successful.)'",
          r.returncode == 1 and "successful" not in r.stderr and r.stdout == "",
          (r.returncode, r.stdout, r.stderr))
    r = run([TOOL, "--reader", "pcsc:No Such Reader", "atr"])
    check("[readers] a reader that is not there",
          r.returncode == 1 and r.stderr == "cardlink-tool: no PC/SC reader matching "
          "'No Such Reader' (cardlink-tool readers lists them)\n", (r.returncode, r.stderr))
    # the card in the second reader: pcsc: finds it there
    vc = start_vcard(port + 1, ["--atr", "t1"])
    if vc is None:
        return
    want = (f"0: {READER}\n   no card\n1: Virtual PCD 00 01\n   card, ATR "
            f"{ATR_T1}\n")
    end = time.time() + 20
    while time.time() < end:
        r = run([TOOL, "readers"])
        if r.stdout == want:
            break
        time.sleep(0.3)
    check("[readers] the card in reader 1, its ATR", r.returncode == 0 and r.stdout == want,
          (r.returncode, r.stdout, r.stderr))
    r = run([TOOL, "--reader", "pcsc:", "-v", "atr"])
    check("[readers] pcsc: picks the reader holding the card",
          r.returncode == 0 and "PC/SC reader: Virtual PCD 00 01\n" in r.stderr
          and f"ATR: {ATR_T1}\n" in r.stdout, (r.returncode, r.stdout, r.stderr))
    r = run([TOOL, "--reader", "pcsc:" + READER, "atr"])
    check("[readers] pcsc:NAME of the empty reader: exit 1, no '(Command successful.)'",
          r.returncode == 1 and "successful" not in r.stderr, (r.returncode, r.stderr))
    stop_vcard(vc, "readers")
    # no pcscd behind the socket
    r = subprocess.run([TOOL, "readers"], capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, PCSCLITE_CSOCK_NAME=os.path.join(work, "none")))
    check("[readers] no pcscd: readers",
          r.returncode == 1 and r.stderr == "cardlink-tool: no PC/SC service: is pcscd running?\n"
          and r.stdout == "", (r.returncode, r.stdout, r.stderr))
    r = subprocess.run([TOOL, "--reader", "pcsc:", "atr"], capture_output=True, text=True,
                       timeout=30,
                       env=dict(os.environ, PCSCLITE_CSOCK_NAME=os.path.join(work, "none")))
    check("[readers] no pcscd: --reader pcsc:",
          r.returncode == 1 and r.stderr == "cardlink-tool: no PC/SC service: is pcscd running?\n",
          (r.returncode, r.stdout, r.stderr))


# ------------------------------------------------------------ the scenarios

def body(work, port, pcscd):
    readers_checks(work, port)

    # 1. the file-system application, T=0 and T=1
    for name, args, atr, proto in (("fs T=0", ["--atr", "t0"], ATR_T0, 0),
                                   ("fs T=1", ["--atr", "t1"], ATR_T1, 1)):
        vc = start_vcard(port, args)
        if vc is None:
            continue
        got = wait_for_atr(atr)
        if check(f"[{name}] pcscd reports the card's ATR", got == hx(atr),
                 f"{got}\n{pcscd_log(work)}"):
            fs_dialogue(name, atr, proto)
        stop_vcard(vc, name)

    # 2. the payment applet on a personalised image
    if PKI and PERSO:
        pki = os.path.join(work, "pki")
        os.mkdir(pki)
        r = subprocess.run([PKI, "testpki", pki], capture_output=True, text=True, timeout=120)
        check("pki", r.returncode == 0, r.stderr)
        img = os.path.join(work, "card.img")
        r = subprocess.run([PERSO, "--out", img, "--card-key", f"{pki}/card.key.der",
                            "--card-cert", f"{pki}/card.der",
                            "--sign-key", f"{pki}/card-sign.key.der",
                            "--sign-cert", f"{pki}/card-sign.der", "--issuer-cert",
                            f"{pki}/issuer.der", "--root-cert", f"{pki}/root.der",
                            "--issuer-pub", f"{pki}/issuer.der", "--balance", "5000"],
                           capture_output=True, text=True, timeout=120)
        check("perso", r.returncode == 0, r.stderr)
        for name, args, atr, proto in (("applet T=1", ["--atr", "t1"], ATR_T1, 1),
                                       ("applet T=0", ["--atr", "t0"], ATR_T0, 0)):
            vc = start_vcard(port, args + ["--applet", img])
            if vc is None:
                continue
            got = wait_for_atr(atr)
            if check(f"[{name}] pcscd reports the card's ATR", got == hx(atr), got):
                applet_dialogue(name, proto, pki)
            stop_vcard(vc, name)

    # 3. vpcd drops the card (pcscd stops): the card waits and comes back
    vc = start_vcard(port, ["--atr", "t1"])
    if vc is not None:
        check("[reconnect] card up", wait_for_atr(ATR_T1) == hx(ATR_T1))
        stop(pcscd)
        procs.remove(pcscd)
        time.sleep(1.0)
        check("[reconnect] vcard survives pcscd going away", vc.poll() is None, vc.returncode)
        os.unlink(SOCK)
        work2 = os.path.join(work, "2")
        os.mkdir(work2)
        pcscd = start_pcscd(work2, port)
        check("[reconnect] the card is back after pcscd restarts",
              wait_for_atr(ATR_T1) == hx(ATR_T1), pcscd_log(work2))
        stop_vcard(vc, "reconnect")


# ------------------------------------------------------------------- main

if shutil.which("pcscd") is None and not os.path.exists("/usr/sbin/pcscd"):
    skip("pcscd is not installed (Debian: pcscd)")
os.environ["PATH"] = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
for need in ("opensc-tool", "opensc-explorer"):
    check(f"{need} installed", shutil.which(need) is not None, "Debian: opensc")
check("vpcd driver installed", os.path.exists(VPCD_DRIVER), "Debian: vsmartcard-vpcd")
PYTHON = pyscard_python()
check("pyscard importable", PYTHON is not None, "Debian: python3-pyscard")
if failures:
    print(f"{checks - failures} passed, {failures} failed")
    sys.exit(1)

work = tempfile.mkdtemp(prefix="cl-pcsc-")
SOCK = os.path.join(work, "pcscd.comm")
pidfile = "/run/pcscd/pcscd.pid"
saved_pid = None
had_rundir = os.path.isdir(os.path.dirname(pidfile))
try:
    # pcscd writes its pid file even when socket-activated: keep a system
    # pcscd's one as it was
    if os.path.exists(pidfile):
        with open(pidfile) as f:
            saved_pid = f.read()
    port = free_port_pair()
    pcscd = start_pcscd(work, port)
    end = time.time() + 15
    up = False
    while time.time() < end and pcscd.poll() is None:
        r = run(["opensc-tool", "--list-readers"], timeout=10)
        if READER in r.stdout:
            up = True
            break
        time.sleep(0.3)
    if not up:
        if pcscd.poll() is not None:
            skip(f"pcscd cannot run here (exit {pcscd.returncode}):\n{pcscd_log(work)}")
        check("pcscd serves the vpcd readers", False, pcscd_log(work))
    else:
        body(work, port, pcscd)
except TimeoutError as e:
    check("overall time limit", False, e)
finally:
    cleanup()
    try:
        if saved_pid is not None:
            os.makedirs(os.path.dirname(pidfile), exist_ok=True)
            with open(pidfile, "w") as f:
                f.write(saved_pid)
        elif os.path.exists(pidfile):
            with open(pidfile) as f:
                left = f.read().strip()
            if left in our_pids:            # ours, left behind: remove it
                os.unlink(pidfile)
        rundir = os.path.dirname(pidfile)
        if not had_rundir and os.path.isdir(rundir) and not os.listdir(rundir):
            os.rmdir(rundir)
    except OSError:
        pass
    shutil.rmtree(work, ignore_errors=True)

print(f"{checks - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
