#!/usr/bin/env python3
"""cardlink end to end: the real programs on loopback (issue 12).

    test_e2e.py PKI PERSO VCARD SERVER DEVICE

The test PKI (cardlink-pki testpki), a card image personalised with both
keys and certificates and a purse of 5000 (cardlink-perso), the virtual
card (cardlink-vcard --line tcp:127.0.0.1:0 --applet IMG), the server
(cardlink-server --flows ... --db in a temporary directory --once) and the
device (cardlink-device) with a scripted holder, over TLS on loopback, each
program on a free port. Every case checks what the holder saw, what the
server decided, the ledger (cardlink-server --db FILE txns) and the card
(cardlink-perso --show IMG); then that no PIN digit reached a log line or
the relay stream (the device's --trace).

Exit 77 (skipped) when cardlink-server was not built (SERVER is "none").
"""
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from e2e_common import (  # noqa: E402
    PIN, approve, ascii_hex, check, clean_work, exit_summary, first_line, hex_runs, perso_args,
    pin_alone, pin_in_stream, relay_stream, run, start, stop_all, wait_or_stop)

AUTH_PAGES = 2        # pages of an authentication on the device's display
WRONG = "5820"        # a wrong one the holder types once

if len(sys.argv) != 6:
    sys.exit("usage: test_e2e.py PKI PERSO VCARD SERVER DEVICE")
PKI, PERSO, VCARD, SERVER, DEVICE = sys.argv[1:]
if SERVER == "none" or not os.path.exists(SERVER):
    print("cardlink-server not built: skipped")
    sys.exit(77)

work = tempfile.mkdtemp(prefix="cl-e2e-")
logs = []       # every program output, searched for PIN digits at the end
traces = []     # the device's relay streams


def pki(dir_, seed=None):
    os.makedirs(dir_)
    args = [PKI, "testpki", dir_] + (["--seed", seed] if seed else [])
    r = run(args)
    if r.returncode != 0:
        sys.exit("cardlink-pki: " + r.stdout)


main_pki = os.path.join(work, "pki")
pki(main_pki)
img = os.path.join(work, "card.img")
r = run(perso_args(PERSO, main_pki, img, PIN, "5000"))
if r.returncode != 0:
    sys.exit("cardlink-perso: " + r.stdout)

vcard_out = os.path.join(work, "vcard.out")
vcard, _ = start([VCARD, "--line", "tcp:127.0.0.1:0", "--applet", img], vcard_out)
line = "vline:" + first_line(vcard_out, r"^line (\S+)", vcard).group(1)
store = os.path.join(work, "store")
case_no = 0


def balance():
    out = run([PERSO, "--show", img]).stdout
    m = re.search(r"^balance\s+(\d+)", out, re.M)
    return int(m.group(1)) if m else None


def pin_tries():
    out = run([PERSO, "--show", img]).stdout
    m = re.search(r"^PIN tries\s+(\d+)/", out, re.M)
    return int(m.group(1)) if m else None


def flow(flows, script, db=None, dev_pki=main_pki, srv_pki=main_pki, srv_args=(), card=None,
         dev_args=()):
    """Run one server (--once) and one device; return (device rc, device
    output, server output, db path). srv_args: more server options; card:
    another card line than the shared card's."""
    global case_no
    case_no += 1
    tag = "c%d" % case_no
    db = db or os.path.join(work, tag + ".db")
    sout = os.path.join(work, tag + ".server")
    srv, sf = start([SERVER, "--listen", "127.0.0.1:0", "--pki", srv_pki, "--db", db,
                     "--flows", flows, "--once"] + list(srv_args), sout)
    port = first_line(sout, r"listening on \S+ port (\d+)", srv).group(1)
    hfile = os.path.join(work, tag + ".holder")
    with open(hfile, "w") as f:
        f.write(script)
    trace = os.path.join(work, tag + ".trace")
    try:
        d = run([DEVICE, "--card", card or line, "--server", "127.0.0.1:" + port, "--pki", dev_pki,
                 "--store", store, "--ui", "script:" + hfile, "--trace", trace] + list(dev_args))
        drc, dout = d.returncode, d.stdout
    except subprocess.TimeoutExpired as e:
        drc, dout = -1, (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
    wait_or_stop(srv, 30)
    with open(sout) as f:
        sdata = f.read()
    sf.close()
    logs.append(dout)
    logs.append(sdata)
    if os.path.exists(trace):
        with open(trace) as f:
            traces.append(f.read())
    print("---- %s: flows %s\n%s---- server\n%s" % (tag, flows, dout, sdata))
    return drc, dout, sdata, db


def txns(db):
    return run([SERVER, "--db", db, "txns"]).stdout


try:
    # 1. A purchase approved: the holder saw the amount, the server line
    #    says APPROVED, the ledger holds it once.
    rc, dout, sout, db = flow("purchase:1", approve() + "wait-screen MESSAGE\nexpect-line 1 Approved\nend\n")
    check(rc == 0, "purchase: device exit 0")
    check("holder:   Pay EUR 2.50" in dout, "purchase: the holder saw 'Pay EUR 2.50'")
    check(re.search(r'server: purchase \S+ EUR 2\.50 "Demo Shop".*: APPROVED, signature verified',
                    sout) is not None, "purchase: server APPROVED with the signature verified")
    t = txns(db)
    check(len(re.findall(r"purchase .* EUR -2\.50\s+APPROVED", t)) == 1 and
          "1 transaction(s)" in t, "purchase: the ledger holds it once, APPROVED")
    check("transaction record appended on the card" in dout, "purchase: record on the card")

    # 2. A wrong PIN, then the right one: the first purchase fails on the
    #    card (63C2, one try gone), the second is approved (tries back to 3).
    tries0 = pin_tries()
    rc, dout, sout, db = flow("purchase:1,purchase:1",
                              approve(pin=WRONG) + "wait-screen MESSAGE\nexpect-line 1 Failed\n" +
                              approve() + "wait-screen MESSAGE\nexpect-line 1 Approved\nend\n")
    check(rc == 0, "wrong PIN then right: device exit 0")
    check(re.search(r"purchase .*: FAILED .*63C2", sout) is not None,
          "wrong PIN: the server saw FAILED with SW 63C2")
    check(re.search(r"purchase .*: APPROVED", sout) is not None, "right PIN: APPROVED")
    t = txns(db)
    check(len(re.findall(r"APPROVED", t)) == 1, "wrong PIN then right: one APPROVED in the ledger")
    check(tries0 == 3 and pin_tries() == 3, "PIN tries 3/3 again after the right PIN")

    # 3. Declined: the holder presses Cancel on the transaction.
    b0 = balance()
    rc, dout, sout, db = flow("purchase:1", "wait-screen TXN 1/2\ncancel\nend\n")
    check(rc == 0, "declined: device exit 0")
    check("holder pressed Cancel" in dout, "declined: the holder cancelled")
    check(re.search(r"purchase .*: DECLINED", sout) is not None, "declined: server says DECLINED")
    check("APPROVED" not in txns(db), "declined: nothing approved in the ledger")
    check("the card signed" not in dout and balance() == b0, "declined: the card signed nothing")

    # 4. A purse payment: the balance goes down by exactly the amount, once.
    b0 = balance()
    rc, dout, sout, db = flow("purse:1.50", approve() + "wait-screen MESSAGE\nexpect-line 1 Approved\nend\n")
    check(rc == 0, "purse: device exit 0")
    check("holder:   Purse EUR 1.50" in dout, "purse: the holder saw 'Purse EUR 1.50'")
    check(re.search(r"purse payment .* EUR 1\.50 .*: APPROVED, receipt verified", sout) is not None,
          "purse: server APPROVED, receipt verified")
    check(b0 is not None and balance() == b0 - 150, "purse: balance %s -> %s (150 less, once)"
          % (b0, balance()))

    # 5. A load: the issuer-signed credit lands once.
    b0 = balance()
    rc, dout, sout, db = flow("load:10.00", "end\n")
    check(rc == 0, "load: device exit 0")
    check(re.search(r"load .* EUR 10\.00 .*: APPROVED", sout) is not None, "load: server APPROVED")
    check(b0 is not None and balance() == b0 + 1000, "load: balance %s -> %s (1000 more)"
          % (b0, balance()))

    # 6. A server certificate the device does not trust: the device's
    #    anchors are another PKI's (another seed).
    other = os.path.join(work, "other")
    pki(other, seed="not-our-server")
    dev_pki = os.path.join(work, "dev-untrusting")
    shutil.copytree(main_pki, dev_pki)
    for n in ("server-ca.der", "root.der"):
        shutil.copy(os.path.join(other, n), os.path.join(dev_pki, n))
    rc, dout, sout, db = flow("purchase:1", "end\n", dev_pki=dev_pki)
    check(rc == 1, "untrusted server: device exit 1")
    check(re.search(r"device: TLS to \S+ refused: .*", dout) is not None,
          "untrusted server: the device logged the refusal")
    check(re.search(r"server: connection from \S+ refused: TLS handshake", sout) is not None,
          "untrusted server: the server logged the failed handshake")
    check("purchase" not in txns(db), "untrusted server: no transaction")

    # 7. A device certificate the server does not trust: the device's
    #    identity from the other PKI.
    dev_pki = os.path.join(work, "dev-foreign")
    shutil.copytree(main_pki, dev_pki)
    for n in ("device.der", "device.key.der"):
        shutil.copy(os.path.join(other, n), os.path.join(dev_pki, n))
    rc, dout, sout, db = flow("purchase:1", "end\n", dev_pki=dev_pki)
    check(rc == 1, "untrusted device: device exit 1")
    check(re.search(r"device: TLS to \S+ refused: the server closed the connection", dout)
          is not None, "untrusted device: the device logged the failure")
    check(re.search(r"server: connection from \S+ refused: TLS handshake: certificate not trusted",
                    sout) is not None, "untrusted device: the server logged the refusal")
    check("purchase" not in txns(db), "untrusted device: no transaction")

    # 8. The terminal holder (ui_term on a pseudo-terminal): Down, Enter,
    #    the PIN and Enter typed as keys; the display never echoes a digit.
    db = os.path.join(work, "term.db")
    sout = os.path.join(work, "term.server")
    srv, sf = start([SERVER, "--listen", "127.0.0.1:0", "--pki", main_pki, "--db", db,
                     "--flows", "purchase:1", "--once"], sout)
    port = first_line(sout, r"listening on \S+ port (\d+)", srv).group(1)
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(DEVICE, [DEVICE, "--card", line, "--server", "127.0.0.1:" + port, "--pki",
                          main_pki, "--store", store, "--ui", "term"])
    screen = b""

    def until(pat, t=30):
        global screen
        t0 = time.time()
        while time.time() - t0 < t:
            rd, _, _ = select.select([fd], [], [], 0.2)
            if rd:
                try:
                    screen += os.read(fd, 4096)
                except OSError:
                    return False
            if re.search(pat, screen):
                return True
        return False

    ok = until(rb"Pay EUR 2\.50") and until(rb"1/2")
    os.write(fd, b"+")
    ok = ok and until(rb"2/2")
    os.write(fd, b"\r")
    ok = ok and until(rb"Enter PIN")
    os.write(fd, PIN.encode() + b"\r")
    ok = ok and until(rb"Approved")
    until(rb"closed the connection", 10)
    _, st = os.waitpid(pid, 0)
    os.close(fd)
    srv.wait(timeout=30)
    sf.close()
    with open(sout) as f:
        sdata = f.read()
    term_text = screen.decode(errors="replace")
    logs.append(term_text)
    logs.append(sdata)
    if not (ok and os.WEXITSTATUS(st) == 0):
        print("---- terminal holder: the screen (%d bytes)\n%r\n---- server\n%s"
              % (len(screen), term_text[-3000:], sdata))
    check(ok and os.WEXITSTATUS(st) == 0, "terminal holder: pages, Confirm, PIN, Approved, exit 0")
    check("(*) SECURE PIN ENTRY" in term_text, "terminal holder: the secure LED was on for the PIN")
    check(re.search(r"purchase .*: APPROVED", sdata) is not None, "terminal holder: APPROVED")

    # 10. Authentication with the PIN (auth:pin): the holder approves and
    #     types the PIN on the device; the card checks it, signs the
    #     challenge (INTERNAL AUTHENTICATE); the server verifies (card-auth).
    rc, dout, sout, db = flow("auth:pin", approve(pages=AUTH_PAGES) +
                              "wait-screen MESSAGE\nexpect-line 1 Approved\nend\n")
    check(rc == 0, "auth with PIN: device exit 0")
    check(re.search(r"authentication \S+ card \S+: APPROVED, signature verified \(card-auth\), "
                    r"1 attempt", sout) is not None, "auth with PIN: server APPROVED (card-auth)")
    check(pin_tries() == 3, "auth with PIN: PIN tries 3/3")

    # 11. Wrong PIN twice, then right: before each retry the holder is shown
    #     the tries left (the server's DISPLAY); the third try is approved.
    rc, dout, sout, db = flow("auth:pin",
                              approve(pages=AUTH_PAGES, pin=WRONG) + "wait-screen SERVER_TEXT\n" +
                              approve(pages=AUTH_PAGES, pin=WRONG) + "wait-screen SERVER_TEXT\n" +
                              approve(pages=AUTH_PAGES) +
                              "wait-screen MESSAGE\nexpect-line 1 Approved\nend\n")
    check(rc == 0, "auth wrong twice: device exit 0")
    check("2 tries left" in dout and "1 try left" in dout,
          "auth wrong twice: the holder saw '2 tries left' then '1 try left'")
    check(re.search(r"authentication \S+ card \S+: APPROVED.*, 3 attempt", sout) is not None,
          "auth wrong twice: APPROVED at the 3rd attempt")
    check(pin_tries() == 3, "auth wrong twice: PIN tries 3/3 again")

    # 12. Wrong PIN until exhausted, blocking on (--block-after 3): the
    #     server blocks the card with the issuer-signed BLOCK; a later
    #     purchase on it fails with the blocked status (6985). Its own card
    #     (another image, another virtual card): the shared one stays usable.
    img_b = os.path.join(work, "card-b.img")
    r = run(perso_args(PERSO, main_pki, img_b, PIN, "5000"))
    check(r.returncode == 0, "blocking: second card personalised")
    vb_out = os.path.join(work, "vcard-b.out")
    vcard_b, _ = start([VCARD, "--line", "tcp:127.0.0.1:0", "--applet", img_b], vb_out)
    line_b = "vline:" + first_line(vb_out, r"^line (\S+)", vcard_b).group(1)
    rc, dout, sout, db = flow("auth:pin",
                              approve(pages=AUTH_PAGES, pin=WRONG) + "wait-screen SERVER_TEXT\n" +
                              approve(pages=AUTH_PAGES, pin=WRONG) + "wait-screen SERVER_TEXT\n" +
                              approve(pages=AUTH_PAGES, pin=WRONG) +
                              "wait-screen MESSAGE\nexpect-line 1 Failed\nend\n",
                              srv_args=["--block-after", "3"], card=line_b)
    check(rc == 0, "blocking: device exit 0")
    check(re.search(r"authentication \S+ card \S+: FAILED, card blocked \(issuer\).*63C0.*"
                    r"3 attempt", sout) is not None,
          "blocking: server says 'FAILED, card blocked (issuer)' after 3 attempts (63C0)")
    check("state       BLOCKED (issuer)" in run([PERSO, "--show", img_b]).stdout and
          "state       active" in run([PERSO, "--show", img]).stdout,
          "blocking: the second card's image says BLOCKED, the shared card's active")
    rc, dout, sout, db = flow("purchase:1", approve() +
                              "wait-screen MESSAGE\nexpect-line 1 Failed\nend\n", card=line_b)
    check(re.search(r"purchase .*: FAILED .*SW 6985", sout) is not None,
          "blocked card: a later purchase FAILED with SW 6985")
    check("APPROVED" not in txns(db), "blocked card: nothing approved")

    # 8b. The gate (issue 12 fig. 3): after the authentication the server
    #     authorises action 1; the device checks the signed authorisation
    #     and appends one line to its actuator file. The same signed bytes
    #     sent again (--gate-replay) are refused: still one line.
    door = os.path.join(work, "door.log")
    auth = (approve(pages=AUTH_PAGES, pin=None) +
            "wait-screen MESSAGE\nexpect-line 1 Approved\n")
    rc, dout, sout, db = flow("auth,gate:1", auth + "wait-screen MESSAGE\nexpect-line 1 Door opened\n"
                              "wait-screen MESSAGE\nexpect-line 1 Access refused\nend\n",
                              srv_args=["--gate-replay"], dev_args=["--actuator", door])
    check(rc == 0, "gate: device exit 0")
    check("device: ACTION 1 performed (door)" in dout, "gate: the device performed action 1")
    check(re.search(r"server: gate \S+ action 1 for device CL-0001.*: APPROVED, device answered DONE",
                    sout) is not None, "gate: server APPROVED, the device answered DONE")
    check(re.search(r"server: gate \S+ action 1 \(the same authorisation again\).*: DECLINED, "
                    r"device answered REPLAYED", sout) is not None,
          "gate: the same authorisation again DECLINED, REPLAYED")
    lines = open(door).read().splitlines() if os.path.exists(door) else []
    check(lines == ["ACTION 1"], "gate: the actuator file has exactly one line: %r" % lines)
    t = txns(db)
    check(len(re.findall(r" gate .*APPROVED", t)) == 1 and len(re.findall(r" gate .*DECLINED", t)) == 1,
          "gate: the ledger holds one gate APPROVED and one DECLINED")
    # a gate with no authentication before it is not even sent
    rc, dout, sout, db = flow("gate:1", "end\n", dev_args=["--actuator", door])
    check(re.search(r"flow 1 not started: ", sout) is not None and "gate" not in txns(db),
          "gate without authentication: not started, nothing in the ledger")
    check((open(door).read().splitlines() if os.path.exists(door) else []) == ["ACTION 1"],
          "gate without authentication: still one line")

    # 13. e-goods (issue 12 flow 3): the server loads an e-ticket signed
    #     with the card issuer's key (egoods:HEX); then a validator with no
    #     server (cardlink-device --validate) checks the issuer signature
    #     itself and has the card use the ticket, once.
    def validate(vpki):
        r = run([DEVICE, "--validate", "--card", line, "--pki", vpki, "--id", "GATE-7"], timeout=60)
        logs.append(r.stdout)
        print("---- validate (--pki %s)\n%s" % (os.path.basename(vpki), r.stdout))
        return r.returncode, r.stdout

    ticket = b"TICKET-0001 BUS ZONE A-C".hex()
    rc, dout, sout, db = flow("egoods:" + ticket, "end\n")
    check(rc == 0, "e-goods: device exit 0")
    check(re.search(r"server: e-goods \S+ item %s\.\. card \S+: APPROVED" % ticket[:16], sout)
          is not None, "e-goods: server APPROVED the load")
    t = txns(db)
    check(len(re.findall(r"APPROVED", t)) == 1 and "1 transaction(s)" in t,
          "e-goods: the ledger holds the load once, APPROVED")
    card_tk = run([PERSO, "--show", img]).stdout
    check(re.search(r"^\s+\d+ valid\s+%s" % ticket.upper(), card_tk, re.M) is not None,
          "e-goods: the card holds the ticket, valid")
    # a validator that trusts another issuer: the ticket's signature fails
    foreign = os.path.join(work, "val-foreign")
    os.makedirs(foreign)
    shutil.copy(os.path.join(other, "issuer.der"), foreign)
    vrc, vout = validate(foreign)
    check(vrc == 1 and "validator: no usable ticket: forged" in vout,
          "validator with another issuer's key: exit 1, 'forged', nothing used")
    vrc, vout = validate(main_pki)
    check(vrc == 0 and re.search(r"validator: ticket %s accepted, used now" % ticket[:16], vout)
          is not None, "validator: exit 0, the ticket accepted, used now")
    vrc, vout = validate(main_pki)
    check(vrc == 1 and "validator: no usable ticket: already used" in vout,
          "validator again: exit 1, 'already used'")
    check(re.search(r"^\s+\d+ used\s+%s" % ticket.upper(), run([PERSO, "--show", img]).stdout,
                    re.M) is not None, "e-goods: the card's image says the ticket is used")

    # 14. Transparent relay (issue 12 flow 4): the server runs a script file
    #     (relay:FILE): SELECT the cardlink applet, GET BALANCE; the device
    #     relays it (policy allows both); the server prints the status words.
    script = os.path.join(work, "relay.script")
    with open(script, "w") as f:
        f.write("# SELECT the cardlink applet by AID, then GET BALANCE\n"
                "00 A4 04 00 07 F0 43 4C 50 41 59 01  sw=9000\n"
                "80 5C 00 00 00                       sw=9000\n")
    rc, dout, sout, db = flow("relay:" + script, "end\n")
    check(rc == 0, "relay script: device exit 0")
    check(re.search(r"server: relay script 1/1 \(2 step\(s\)\) card CL-0001: APPROVED, SW 9000 9000$",
                    sout, re.M) is not None, "relay script: both steps answered 9000, APPROVED")
    check("policy refused" not in dout, "relay script: the device's policy refused nothing")

    # 9. No PIN digit in any log line, nor in the relay stream (hex).
    text = "\n".join(logs)
    # Longer numbers and hex runs (ids, fingerprints, ATRs, the reference
    # on the approval screen, port numbers) hold any 4 digits by chance: the
    # plain PIN is looked for as a number of its own, its command encodings
    # inside the hex runs.
    hexruns = hex_runs(text)
    for pin in (PIN, WRONG):
        check(pin_alone(pin, text) is None and "24" + pin + "FF" not in hexruns and
              ascii_hex(pin) not in hexruns,
              "PIN %s in no log line (%d bytes of logs)" % (pin, len(text)))
        stream = relay_stream(traces)
        found = pin_in_stream(pin, stream)
        check(len(traces) >= 5 and not found,
              "PIN %s nowhere in the relay stream (%d hex chars, %d traces): %s"
              % (pin, len(stream), len(traces), found or "absent"))
finally:
    stop_all()
    clean_work(work)

exit_summary()
