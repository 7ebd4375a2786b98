#!/usr/bin/env python3
"""The payment/identity applet end to end with the real programs:
cardlink-pki makes the test PKI, cardlink-perso personalises a card image,
cardlink-vcard --applet serves it on the virtual card line, cardlink-tool
--reader runs card dialogues over T=0 and T=1. openssl (a peer nobody here
wrote) verifies the card's chain and its signatures. The image persists
between runs: PIN counters and the purse survive a restart.
Usage: test_applet.py TOOL VCARD PKI PERSO"""
import os
import shutil
import subprocess
import sys
import tempfile

TOOL, VCARD, PKI, PERSO = sys.argv[1:5]
checks = failures = 0

SELECT = "00 A4 04 00 07 F0 43 4C 50 41 59 01"
PIN_OK = "00 20 00 80 08 24 12 34 FF FF FF FF FF"      # ISO 9564 format 2, PIN 1234
PIN_BAD = "00 20 00 80 08 24 19 99 FF FF FF FF FF"
DIGEST = bytes(range(32))


def check(name, cond, detail=""):
    global checks, failures
    checks += 1
    if not cond:
        failures += 1
        print(f"FAIL {name}: {str(detail)[:2000]}")


def run(*args, **kw):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=120, **kw)


def session(image, proto, script_text, d):
    """One card session: vcard --applet IMAGE, tool --reader script."""
    path = os.path.join(d, "s.script")
    with open(path, "w") as f:
        f.write(script_text)
    card = subprocess.Popen([VCARD, "--line", "tcp:127.0.0.1:0", "--once", "-q", "--atr", proto,
                             "--applet", image], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    spec = "vline:" + card.stdout.readline().strip()[5:]
    r = run(TOOL, "--reader", spec, "script", path)
    card.terminate()
    card.wait(timeout=10)
    resp = [bytes.fromhex(l[2:].replace(" ", "")) for l in r.stdout.splitlines() if l.startswith("< ")]
    return r.returncode, r.stdout + r.stderr, resp


with tempfile.TemporaryDirectory() as d:
    pki = os.path.join(d, "pki")
    os.mkdir(pki)
    r = run(PKI, "testpki", pki)
    check("pki", r.returncode == 0, r.stderr)
    img = os.path.join(d, "card.img")
    r = run(PERSO, "--out", img, "--card-key", f"{pki}/card.key.der", "--card-cert",
            f"{pki}/card.der", "--sign-key", f"{pki}/card-sign.key.der", "--sign-cert",
            f"{pki}/card-sign.der", "--issuer-cert", f"{pki}/issuer.der", "--root-cert",
            f"{pki}/root.der", "--issuer-pub", f"{pki}/issuer.der", "--balance", "5000")
    check("perso", r.returncode == 0, r.stderr)
    have_openssl = shutil.which("openssl") is not None

    for proto in ("t0", "t1"):
        script = (f"{SELECT} => 9000\n"
                  f"80 5C 00 00 00 => 9000\n"                       # balance
                  f"{PIN_BAD} => 63C2\n{PIN_OK} => 9000\n"
                  f"00 2A 9E 9A 20 {DIGEST.hex()} 00 => 9000\n"     # PSO: CDS
                  f"00 2A 9E 9A 20 {DIGEST.hex()} 00 => 6982\n"     # one per PIN
                  "00 A4 00 0C 02 01 04 => 9000\n00 B0 00 00 00 => 90XX\n"   # signing certificate
                  "00 B0 01 00 00\n")
        rc, out, resp = session(img, proto, script, d)
        check(f"{proto} script", rc == 0 and "9 APDUs sent, all as expected" in out, out)
        if len(resp) != 9:
            continue
        bal = resp[1]
        check(f"{proto} balance", bal[:4] == (5000).to_bytes(4, "big") and bal[4:6] == bytes([3, 0xD2]),
              bal.hex())
        sig = resp[4][:-2]
        cert = resp[7][:-2] + resp[8][:-2]
        with open(f"{pki}/card-sign.der", "rb") as f:
            issued = f.read()
        check(f"{proto} certificate read back", cert[:len(issued)] == issued,
              f"{len(cert)} vs {len(issued)}")
        if have_openssl:
            # openssl checks the card's ECDSA signature over the digest with
            # the public key of the signing certificate the card returned.
            open(f"{d}/cert.der", "wb").write(cert[:len(issued)])
            run("openssl", "x509", "-inform", "DER", "-in", f"{d}/cert.der", "-pubkey",
                "-noout", "-out", f"{d}/pub.pem")
            open(f"{d}/digest", "wb").write(DIGEST)
            open(f"{d}/sig", "wb").write(sig)
            r = run("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", f"{d}/pub.pem",
                    "-in", f"{d}/digest", "-sigfile", f"{d}/sig")
            check(f"{proto} openssl verifies the PSO signature", r.returncode == 0,
                  r.stdout + r.stderr)
            bad = bytearray(DIGEST)
            bad[0] ^= 1
            open(f"{d}/digest2", "wb").write(bytes(bad))
            r = run("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", f"{d}/pub.pem",
                    "-in", f"{d}/digest2", "-sigfile", f"{d}/sig")
            check(f"{proto} openssl rejects another digest", r.returncode != 0, r.stdout)

    if have_openssl:
        r = run("openssl", "verify", "-CAfile", f"{pki}/root.pem", "-untrusted",
                f"{pki}/issuer.pem", f"{pki}/card.pem")
        check("openssl verifies the card chain", r.returncode == 0, r.stdout + r.stderr)
        r = run("openssl", "verify", "-purpose", "smimesign", "-CAfile", f"{pki}/root.pem",
                "-untrusted", f"{pki}/issuer.pem", f"{pki}/card-sign.pem")
        check("openssl verifies the signing chain for signing", r.returncode == 0,
              r.stdout + r.stderr)

    # Persistence: two wrong PINs in one run, the third in the next run
    # blocks the PIN; the correct PIN is then refused with 6983.
    rc, out, _ = session(img, "t1", f"{SELECT} => 9000\n{PIN_BAD} => 63C2\n{PIN_BAD} => 63C1\n", d)
    check("two wrong PINs", rc == 0, out)
    r = run(PERSO, "--show", img)
    check("image shows 1 try left", "PIN tries   1/3" in r.stdout, r.stdout)
    rc, out, _ = session(img, "t0", f"{SELECT} => 9000\n{PIN_BAD} => 63C0\n{PIN_OK} => 6983\n", d)
    check("PIN blocked across restarts", rc == 0, out)

    # The purse: an issuer-signed credit is accepted once, its replay refused.
    r = run(PERSO, "--credit", "250", "--image", img, "--issuer-key", f"{pki}/issuer.key.der")
    credit = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
    check("credit APDU", r.returncode == 0 and credit.replace(" ", "").startswith("80520000"),
          r.stdout + r.stderr)
    rc, out, resp = session(img, "t1", f"{SELECT} => 9000\n{credit} => 9000\n{credit} => 6985\n"
                                        "80 5C 00 00 00 => 9000\n", d)
    check("credit once, replay refused", rc == 0, out)
    if len(resp) == 4:
        check("balance after credit", resp[3][:4] == (5250).to_bytes(4, "big"), resp[3].hex())

print(f"{checks - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
