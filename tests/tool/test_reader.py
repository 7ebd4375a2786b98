#!/usr/bin/env python3
"""The real programs end to end: cardlink-vcard serves a simulated card on the
virtual card line (TCP loopback and a pseudo-terminal), cardlink-tool
--reader activates it (ATR, PPS, T=0 or T=1) and sends APDUs and scripts.
Exact bytes of responses, exact activation outcome, exit statuses.
Usage: test_reader.py PATH/TO/cardlink-tool PATH/TO/cardlink-vcard"""
import os
import subprocess
import sys
import tempfile

TOOL, VCARD = sys.argv[1], sys.argv[2]
checks = failures = 0

AID_SELECT = "00 A4 04 00 08 F0 43 41 52 44 4C 4E 4B"
FCI = ("62 14 82 01 38 83 02 10 00 84 08 F0 43 41 52 44 4C 4E 4B 8A 01 05 90 00")
EF_SELECT = "00 A4 00 00 02 01 02"
ECHO_256 = "80 EE 01 00 03 01 02 03 00"       # 256 bytes back: T=0 GET RESPONSE / T=1 chaining
ECHO_EXT = "80 EE 01 04 00 00 03 01 02 03 01 04"  # case 4E, 260 bytes back


def check(name, cond, detail=""):
    global checks, failures
    checks += 1
    if not cond:
        failures += 1
        print(f"FAIL {name}: {detail}")


class Card:
    """cardlink-vcard on LINE with ARGS, one connection (--once)."""

    def __init__(self, args, line="tcp:127.0.0.1:0"):
        self.p = subprocess.Popen([VCARD, "--line", line, "--once", "-q", *args],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = self.p.stdout.readline().strip()
        if not first.startswith("line "):
            raise RuntimeError(f"vcard did not start: {first!r} {self.p.stderr.read()}")
        self.spec = "vline:" + first[5:]

    def close(self):
        if self.p.poll() is None:
            self.p.terminate()
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        return self.p.returncode


def tool(spec, *args, timeout=60):
    p = subprocess.run([TOOL, "--reader", spec, "-v", *args],
                       capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def responses(out):
    return [l[2:] for l in out.splitlines() if l.startswith("< ")]


# (vcard options, tool options, expected activation line fragment)
CONFIGS = [
    (["--atr", "t0"], [], "T=0, F=512 D=32, clock 5000 kHz, PPS accepted"),
    (["--atr", "t1"], [], "T=1, F=512 D=32, clock 5000 kHz, PPS accepted"),
    (["--atr", "t1", "--edc", "crc", "--ifsc", "32"], [], "T=1, F=512 D=32"),
    (["--atr", "t0", "--inverse"], [], "T=0, F=512 D=32"),
    (["--atr", "both", "--inverse"], ["--protocol", "1"], "T=1, F=512 D=32"),
    (["--atr", "t1", "--specific", "1"], [], "no PPS, specific mode"),
    (["--atr", "t0", "--pps", "mute"], [], "T=0, F=372 D=1, clock 3571 kHz, PPS failed"),
    (["--atr", "t0", "--pps", "default"], [], "T=0, F=372 D=1"),
    (["--atr", "t1"], ["--no-pps"], "T=1, F=372 D=1, clock 3571 kHz, no PPS"),
    (["--atr", "t0", "--slow", "3"], [], "T=0"),
    (["--atr", "t1", "--slow", "2", "--wtx", "3"], [], "T=1"),
    (["--atr", "t0", "--ta1", "none"], [], "T=0, F=372 D=1, clock 3571 kHz, no PPS"),
]

for vopts, topts, want in CONFIGS:
    name = " ".join(vopts + topts)
    card = Card(vopts)
    rc, out, err = tool(card.spec, *topts, "apdu", AID_SELECT, EF_SELECT, "00 B0 00 00 04",
                        ECHO_256)
    card.close()
    check(f"[{name}] exit", rc == 0, err)
    check(f"[{name}] activation", want in err, err)
    r = responses(out)
    check(f"[{name}] 4 responses", len(r) == 4, out)
    if len(r) == 4:
        check(f"[{name}] SELECT AID", r[0] == FCI, r[0])
        check(f"[{name}] SELECT EF", r[1].endswith("90 00") and r[1].startswith("62 11"), r[1])
        check(f"[{name}] READ BINARY", r[2] == "00 00 00 00 90 00", r[2])
        data = bytes.fromhex(r[3].replace(" ", ""))
        check(f"[{name}] ECHO 256", len(data) == 258 and data[:3] == b"\x01\x02\x03"
              and data[-2:] == b"\x90\x00", r[3][:60])

# Extended APDU (case 4E) over T=1: the response is chained in IFSD blocks.
card = Card(["--atr", "t1", "--ifsc", "32"])
rc, out, err = tool(card.spec, "--ifsd", "64", "apdu", ECHO_EXT)
card.close()
r = responses(out)
data = bytes.fromhex(r[0].replace(" ", "")) if r else b""
check("T=1 case 4E", rc == 0 and len(data) == 262 and data[-2:] == b"\x90\x00", out + err)

# The ATR decode through a reader.
card = Card(["--atr", "t1", "--edc", "crc"])
rc, out, err = tool(card.spec, "atr")
card.close()
check("atr exit", rc == 0, err)
check("atr decode", "T=1: IFSC=254 CWI=5 BWI=4 EDC=CRC" in out and "running: T=1" in out, out)

# A script: expectations met, then one missed (exit 1, stops there).
# Syntax: "APDU => SW [SW...]" (X wildcards, "any"), "reset [warm|cold]",
# '#' comments; a lone 4-digit group at the end of an APDU that is not data
# is refused with a pointer to "=>".
with tempfile.TemporaryDirectory() as d:
    def script(name, text):
        path = os.path.join(d, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    good = script("good", f"# select the test application, read its 32-byte EF\n{AID_SELECT} => 9000\n"
                  f"{EF_SELECT} => 9000\n00 B0 00 00 40 => 6282  # past the end: warning\n"
                  "\n   # an indented comment\n"
                  "00 A4 00 00 02 77 77 => 6A82\n00 84 00 00 08 => 6XXX 90XX\nreset\n"
                  f"{AID_SELECT} => any\nreset cold\n00 A4 00 00 02 0102\n")
    card = Card(["--atr", "t0"])
    rc, out, err = tool(card.spec, "script", good)
    card.close()
    check("script ok exit", rc == 0, out + err)
    check("script ok summary", "7 APDUs sent, 2 resets, all as expected" in out, out)
    check("script reset lines", out.count("* reset: card re-activated, ATR 3B") == 1
          and out.count("* reset cold: card re-activated, ATR 3B") == 1, out)
    check("script 4-digit data", "> 00 A4 00 00 02 01 02\n" in out, out)
    bad = script("bad", f"{AID_SELECT} => 9000\n00 A4 00 00 02 77 77 => 9000 6A88\n00 84 00 00 08\n")
    card = Card(["--atr", "t1"])
    rc, out, err = tool(card.spec, "script", bad)
    card.close()
    check("script mismatch exit", rc == 1, out)
    check("script mismatch stops", "! expected 9000 or 6A88: stop" in out
          and "2 APDUs sent, stopped" in out, out)
    # The old form: refused before anything is sent, the line named.
    old = script("old", f"{AID_SELECT} 9000\n")
    card = Card(["--atr", "t1"])
    rc, out, err = tool(card.spec, "script", old)
    card.close()
    check("script old syntax", rc == 1 and err.endswith(
        "old:1: the last group looks like an expected status word: write 'APDU => SW' "
        "(e.g. '00 A4 00 0C 02 3F 00 => 9000')\n") and "0 APDUs sent, stopped" in out, out + err)
    for name, text, msg in [
            ("pat", "00 84 00 00 08 => 9G00\n", "pat:1: bad status word pattern '9G00' (9000, 61XX, any)"),
            ("empty", "00 84 00 00 08 =>\n", "empty:1: no status word after '=>'"),
            ("rst", "reset hard\n", "rst:1: write \"reset\", \"reset warm\" or \"reset cold\""),
            ("short", "00 84 00\n", "short:1: not a command APDU")]:
        path = script(name, text)
        card = Card(["--atr", "t0"])
        rc, out, err = tool(card.spec, "script", path)
        card.close()
        check(f"script error {name}", rc == 1 and err.endswith(msg + "\n"), err)

# Failures are clean: a mute card, a card pulled mid-exchange.
card = Card(["--atr", "t1", "--fault", "mute-after=1"])
rc, out, err = tool(card.spec, "atr", timeout=60)
card.close()
check("mute card", rc == 1 and "activation failed: card does not answer" in err, err)

card = Card(["--atr", "t1", "--fault", "pull-after=40"])
rc, out, err = tool(card.spec, "apdu", AID_SELECT, ECHO_256)
card.close()
check("card pulled", rc == 1 and "! card removed" in out, out + err)

# The same over a pseudo-terminal (no modem lines: resets travel in-band).
card = Card(["--atr", "t1"], line="pty")
check("pty spec", card.spec.startswith("vline:pty:/dev/"), card.spec)
rc, out, err = tool(card.spec, "apdu", AID_SELECT)
card.close()
check("pty exchange", rc == 0 and responses(out) == [FCI], out + err)
# -v: the command named, the FCP decoded under the response.
check("-v decode", "> " + AID_SELECT + "\n  SELECT\n" in out and
      "    62 14  FCP template\n      82 01  file descriptor: 38  (DF)\n" in out
      and "      8A 01  life cycle status: 05  (operational, activated)\n" in out, out)

print(f"{checks - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
