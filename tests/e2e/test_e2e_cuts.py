#!/usr/bin/env python3
"""cardlink end to end with the link cut (issue 12): resumption, exactly once.

    test_e2e_cuts.py PKI PERSO VCARD SERVER DEVICE

The programs of test_e2e.py (test PKI, a personalised card on
cardlink-vcard, cardlink-server, cardlink-device --reconnect with a
scripted holder), with a cutting proxy between the device and the server:
a TCP relay that forwards whole TLS records and, on the first connection
of a run, closes both sides right after the N-th record (either
direction; N = 0: at once). The device reconnects through the proxy
(those connections are not cut) and resumes its session.

For the purchase, the load and the purse payment, N runs from 0 up until
a run completes without a cut (every record boundary of the flow: the TLS
handshake, HELLO, CARD-INSERTED, each request and answer, CLOSE). After
each run: the device exits 0, the ledger (cardlink-server --db FILE txns)
has exactly one new row, APPROVED, under the id the server's decision
line names; the card's balance moved by exactly the amount once; for the
purchase, the card's transaction log has exactly one more record.

Then the server is killed with SIGKILL mid-flow (after the TXN-APPROVE
went out) and restarted on the same database and port: the device
reconnects and resumes the session the killed server saved in its
database (docs/server.md "Session store"), the card signs once and the
purchase ends APPROVED exactly once: one ledger row, APPROVED, none
PENDING, one new record in the card's log.

Exit 77 (skipped) when cardlink-server was not built (SERVER is "none").
"""
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
import e2e_common  # noqa: E402
from e2e_common import (  # noqa: E402
    PIN, approve, check, clean_work, exit_summary, find_line, perso_args, start, stop_all)

if len(sys.argv) != 6:
    sys.exit("usage: test_e2e_cuts.py PKI PERSO VCARD SERVER DEVICE")
PKI, PERSO, VCARD, SERVER, DEVICE = sys.argv[1:]
if SERVER == "none" or not os.path.exists(SERVER):
    print("cardlink-server not built: skipped")
    sys.exit(77)

T0 = time.time()
work = tempfile.mkdtemp(prefix="cl-e2e-cuts-")


def run(args, **kw):
    """e2e_common.run() with a 60 s limit."""
    return e2e_common.run(args, timeout=60, **kw)


def wait_line(path, pattern, proc, timeout=20, start_at=0):
    """find_line(), or exit with the file's last 3000 characters."""
    m = find_line(path, pattern, proc, timeout, start_at=start_at, interval=0.02)
    if m is None:
        with open(path) as f:
            sys.exit("no '%s' in %s: %s" % (pattern, path, f.read()[-3000:]))
    return m


class Proxy:
    """A TCP relay that forwards whole TLS records (5-byte header, length)
    and cuts the first connection after arm(n) right after record n."""

    def __init__(self, target_port):
        self.target = target_port
        self.ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(16)
        self.port = self.ls.getsockname()[1]
        self.lock = threading.Lock()
        self.cut_at = None
        self.did_cut = False
        self.conns = 0
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def arm(self, n):
        with self.lock:
            self.cut_at = n
            self.did_cut = False
            self.conns = 0

    def accept_loop(self):
        while True:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            with self.lock:
                cut, self.cut_at = self.cut_at, None
                self.conns += 1
            threading.Thread(target=self.relay, args=(c, cut), daemon=True).start()

    def relay(self, a, cut):
        if cut == 0:
            self.did_cut = True
            a.close()
            return
        try:
            b = socket.create_connection(("127.0.0.1", self.target))
        except OSError:
            a.close()
            return
        peer = {a: b, b: a}
        buf = {a: b"", b: b""}
        n = 0
        try:
            while True:
                rd, _, _ = select.select([a, b], [], [], 30)
                if not rd:
                    return
                for s in rd:
                    data = s.recv(65536)
                    if not data:
                        return
                    buf[s] += data
                    while len(buf[s]) >= 5:
                        ln = 5 + int.from_bytes(buf[s][3:5], "big")
                        if len(buf[s]) < ln:
                            break
                        peer[s].sendall(buf[s][:ln])
                        buf[s] = buf[s][ln:]
                        n += 1
                        if cut is not None and n >= cut:
                            self.did_cut = True
                            return
        except OSError:
            return
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()


# ---------------------------------------------------------------- set-up
main_pki = os.path.join(work, "pki")
os.makedirs(main_pki)
r = run([PKI, "testpki", main_pki])
if r.returncode != 0:
    sys.exit("cardlink-pki: " + r.stdout)
img = os.path.join(work, "card.img")
r = run(perso_args(PERSO, main_pki, img, PIN, "100000"))
if r.returncode != 0:
    sys.exit("cardlink-perso: " + r.stdout)

vcard_out = os.path.join(work, "vcard.out")
vcard, _ = start([VCARD, "--line", "tcp:127.0.0.1:0", "--applet", img], vcard_out, mode="a+")
line = "vline:" + wait_line(vcard_out, r"^line (\S+)", vcard).group(1)
store = os.path.join(work, "store")


def card():
    out = run([PERSO, "--show", img]).stdout
    b = re.search(r"^balance\s+(\d+)", out, re.M)
    # the log holds the last 10 records (cyclic): the records themselves,
    # each unique, tell what was added
    recs = re.findall(r"^  \d+ ([0-9A-F]{86})$", out, re.M)
    return (int(b.group(1)) if b else None, recs)


def ledger(db):
    """The ledger's rows: [(id, outcome)]."""
    out = run([SERVER, "--db", db, "txns"]).stdout
    rows = []
    for l in out.splitlines():
        m = re.search(r"\b([0-9a-f]{32})\b.*\s(APPROVED|PENDING|DECLINED|FAILED)\s*$", l)
        if m:
            rows.append((m.group(1), m.group(2)))
    return rows


class Server:
    def __init__(self, name, flows, port=0, db=None):
        self.name, self.flows = name, flows
        self.db = db or os.path.join(work, name + ".db")
        self.out = os.path.join(work, name + ".server")
        self.start(port)

    def start(self, port=0):
        self.proc, self.f = start([SERVER, "--listen", "127.0.0.1:%d" % port, "--pki", main_pki,
                                   "--db", self.db, "--flows", self.flows] +
                                  (["-v"] if os.environ.get("CL_E2E_VERBOSE") else []), self.out,
                                  mode="a+")
        self.off = os.path.getsize(self.out) if os.path.exists(self.out) else 0
        self.port = int(wait_line(self.out, r"listening on \S+ port (\d+)", self.proc,
                                  start_at=0 if port == 0 else self.pos0).group(1))

    def mark(self):
        self.pos0 = os.path.getsize(self.out)
        return self.pos0

    def text_since(self, pos):
        with open(self.out) as f:
            f.seek(pos)
            return f.read()

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        self.proc.wait(timeout=10)


def device(port, script, tag):
    hfile = os.path.join(work, tag + ".holder")
    with open(hfile, "w") as f:
        f.write(script)
    return [DEVICE, "--card", line, "--server", "127.0.0.1:%d" % port, "--pki", main_pki,
            "--store", store, "--ui", "script:" + hfile, "--reconnect", "8"] + \
        (["-v"] if os.environ.get("CL_E2E_VERBOSE") else [])


# ------------------------------------------------------------ the cuts
FLOWS = [
    # name, --flows, holder script, the server's decision line, the purse's
    # change, the card log's change (None: not checked)
    ("purchase", "purchase:1", approve() + "wait-screen MESSAGE\nexpect-line 1 Approved\nend\n",
     r'purchase (\S+?)\.\. EUR 2\.50 .*: APPROVED', 0, 1),
    ("load", "load:10.00", "end\n", r'load (\S+?)\.\. EUR 10\.00 .*: APPROVED', 1000, 0),
    ("purse", "purse:1.50", approve() + "wait-screen MESSAGE\nexpect-line 1 Approved\nend\n",
     r'purse payment (\S+?)\.\. EUR 1\.50 .*: APPROVED', -150, None),
]
positions = {}
tally = {}
try:
    # CL_E2E_KILL_ONLY=1: the killed-server case alone (while working on it)
    for name, flows, script, decided, dbal, drec in ([] if os.environ.get("CL_E2E_KILL_ONLY")
                                                     else FLOWS):
        srv = Server(name, flows)
        proxy = Proxy(srv.port)
        n = 0
        bad = 0
        while n < 200:
            tag = "%s-%d" % (name, n)
            bal0, rec0 = card()
            rows0 = ledger(srv.db)
            pos = srv.mark()
            proxy.arm(n)
            d = run(device(proxy.port, script, tag))
            cut = proxy.did_cut
            t = tally.setdefault(name, {"resumed": 0, "fresh": 0, "reconnects": 0})
            t["resumed"] += d.stdout.count("relay session resumed")
            t["fresh"] += d.stdout.count("fresh session")
            t["reconnects"] += d.stdout.count("reconnecting in")
            time.sleep(0.05)
            stext = srv.text_since(pos)
            bal1, rec1 = card()
            rows1 = ledger(srv.db)
            new = [row for row in rows1 if row not in rows0]
            m = re.search(decided, stext)
            ok = d.returncode == 0
            ok = ok and len(new) == 1 and new[0][1] == "APPROVED" and len(rows1) == len(rows0) + 1
            ok = ok and m is not None and new[0][0].startswith(m.group(1))
            ok = ok and bal0 is not None and bal1 is not None and rec1 is not None
            if ok:
                added = len([x for x in rec1 if x not in rec0])
                ok = bal1 - bal0 == dbal and (drec is None or added == drec)
            if not ok:
                bad += 1
                print("---- %s: cut after record %d (cut %s): device rc %d\n%s---- server\n%s"
                      "---- ledger new %s, balance %s -> %s, records %s -> %s"
                      % (name, n, cut, d.returncode, d.stdout, stext, new, bal0, bal1,
                         rec0 and len(rec0), rec1 and len(rec1)))
                check(False, "%s: cut after record %d: exactly once" % (name, n))
            if not cut:
                break
            n += 1
        positions[name] = n
        check(bad == 0 and n > 10, "%s: %d cut positions (records 0..%d), each exactly once, "
              "then the uncut run" % (name, n, n - 1))
        srv.stop()

    # -------------------------------------------------- the server killed
    srv = Server("kill", "purchase:1")
    port = srv.port
    bal0, rec0 = card()
    pos = srv.mark()
    go = os.path.join(work, "kill.go")
    # the holder waits at the first page until the test says go, so that it
    # cannot approve before the device is held, however loaded the machine
    # (then it goes on from that screen: the first wait-screen is the same)
    first = "wait-screen TXN 1/2\n"
    assert FLOWS[0][2].startswith(first)
    kill_script = first + "wait-file %s\n" % go + FLOWS[0][2][len(first):]
    dev, df = start(device(port, kill_script, "kill"), os.path.join(work, "kill.device"),
                    mode="a+")
    # the TXN-APPROVE went out when the device shows the transaction; the
    # device is held (SIGSTOP) while the server is killed and restarted,
    # then the holder approves: the card signs, the answer finds no server,
    # the device reconnects and resumes the session the restarted server
    # took from the session store, and the signature is replayed to it
    wait_line(os.path.join(work, "kill.device"), r"holder: \[TXN 1/2", dev)
    dev.send_signal(signal.SIGSTOP)
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait(timeout=10)
    rows_dead = ledger(srv.db)
    pos = srv.mark()
    srv.start(port)
    open(go, "w").close()
    dev.send_signal(signal.SIGCONT)
    try:
        drc = dev.wait(timeout=40)
    except subprocess.TimeoutExpired:
        dev.kill()
        drc = -1
    df.close()
    with open(os.path.join(work, "kill.device")) as f:
        dtext = f.read()
    time.sleep(0.2)
    stext = srv.text_since(pos)
    rows = ledger(srv.db)
    pend = run([SERVER, "--db", srv.db, "pending"]).stdout
    bal1, rec1 = card()
    print("---- killed server: device\n%s---- server after the restart\n%s---- ledger %s"
          % (dtext, stext, rows))
    check(len(rows_dead) == 1 and rows_dead[0][1] == "PENDING",
          "server killed: the ledger held the purchase PENDING (begun before TXN-APPROVE)")
    check("reconnecting" in dtext and "relay session resumed" in dtext,
          "server killed: the device reconnected and resumed its session")
    check("taken over from the session store" in stext,
          "server killed: the restarted server took the session over from its database")
    m = re.search(r'purchase (\S+?)\.\. EUR 2\.50 .*: APPROVED', stext)
    check(m is not None and rows_dead != [] and rows_dead[0][0].startswith(m.group(1)),
          "server killed: the restarted server approved the pending id")
    added = len([x for x in rec1 if x not in rec0])
    check(drc == 0 and added == 1 and "the card signed" in dtext,
          "server killed: the card signed once, device exit 0 (exit %d, %d new record(s))"
          % (drc, added))
    check(len(rows) == 1 and rows_dead != [] and rows[0] == (rows_dead[0][0], "APPROVED"),
          "server killed: one ledger row, that id, APPROVED: %s" % rows)
    check("0 pending transaction(s)" in pend,
          "server killed: no PENDING row left (cardlink-server pending)")
    srv.stop()
finally:
    stop_all()
    clean_work(work)

print("cut positions: %s; reconnections: %s; %.1f s" % (positions, tally, time.time() - T0))
exit_summary()
