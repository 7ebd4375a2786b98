#!/usr/bin/env python3
"""cardlink-tool as a user runs it: exact JSON fields for real ATRs (from
pcsc-tools' smartcard_list.txt), exit status and error offsets for malformed
ones, APDU and SW decodes. Usage: test_tool.py PATH/TO/cardlink-tool"""
import json
import subprocess
import sys

TOOL = sys.argv[1]
failures = 0
checks = 0


def run(*args):
    p = subprocess.run([TOOL, *args], capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def check(name, cond, detail=""):
    global failures, checks
    checks += 1
    if not cond:
        failures += 1
        print(f"FAIL {name}: {detail}")


# (ATR, expected subset of the JSON object)
ATRS = [
    ("3B DB 96 00 80 B1 FE 45 1F 83 00 31 C0 64 C7 FC 10 00 01 90 00 74", {
        "convention": "direct", "protocols": [0, 1],
        "interface": [{"ta": 0x96, "tb": None, "tc": 0, "td": 0x80},
                      {"ta": None, "tb": None, "tc": None, "td": 0xB1},
                      {"ta": 0xFE, "tb": 0x45, "tc": None, "td": 0x1F},
                      {"ta": 0x83, "tb": None, "tc": None, "td": None}],
        "historical": "0031C064C7FC1000019000", "tck": 0x74, "tck_ok": True,
        "fi": 512, "di": 32, "f_max_khz": 5000, "n": 0, "wi": 10, "ifsc": 254,
        "cwi": 5, "bwi": 4, "edc": "lrc", "specific_mode": False}),
    # inverse convention, as PC/SC and smartcard_list.txt show it (decoded)
    ("3F 96 18 80 01 80 51 00 61 10 30 9F", {
        "convention": "inverse", "protocols": [0, 1], "fi": 372, "di": 12,
        "tck": 0x9F, "tck_ok": True, "historical": "805100611030"}),
    # specific mode (TA2 = 81: T=1, cannot change)
    ("3B 90 96 91 81 B1 FE 55 1F C7 D4", {
        "protocols": [1], "specific_mode": True, "ifsc": 254, "bwi": 5, "cwi": 5,
        "historical": ""}),
    # T=0 only: no TCK
    ("3B 02 14 50", {"protocols": [0], "tck": None, "tck_ok": None,
                     "interface": [{"ta": None, "tb": None, "tc": None, "td": None}],
                     "fi": 372, "di": 1, "f_max_khz": 5000, "wi": 10}),
    # colons accepted, TC2 = WI
    ("3B:6E:00:00:80:31:80:66:B0:84:0C:01:6E:01:83:00:90:00", {
        "protocols": [0], "historical": "80318066B0840C016E0183009000"}),
]

for atr, want in ATRS:
    rc, out, err = run("atr", "--json", atr)
    check(f"atr {atr} exit", rc == 0, err)
    if rc != 0:
        continue
    got = json.loads(out)
    for k, v in want.items():
        check(f"atr {atr} {k}", got.get(k) == v, f"got {got.get(k)!r} want {v!r}")

# Malformed ATRs: exit 1, one line on stderr naming the problem and offset.
BAD = [
    ("3B DB 96 00 80 B1 FE 45 1F 83 00 31 C0 64 C7 FC 10 00 01 90 00 75",
     "offset 21: checksum mismatch"),
    ("3B DB 96 00 80", "offset 5: input truncated"),
    ("3C 00", "offset 0: ATR initial character TS invalid"),
    ("3B 80 01", "offset 3: ATR check byte TCK missing"),
    ("3B 00 00", "offset 2: unexpected trailing bytes"),
]
for atr, msg in BAD:
    rc, out, err = run("atr", atr)
    check(f"bad atr {atr} exit", rc == 1, f"rc {rc}")
    lines = err.strip().splitlines()
    check(f"bad atr {atr} message", len(lines) == 1 and msg in lines[0], err)

rc, out, _ = run("apdu", "00 A4 04 00 07 A0 00 00 00 04 10 10 00")
check("apdu select", rc == 0 and "case 4S" in out and "INS A4  SELECT" in out
      and "Lc  7" in out and "data A0 00 00 00 04 10 10" in out and "Le  256" in out, out)
rc, out, _ = run("apdu", "00 B0 00 00 00 01 00")
check("apdu 2E", rc == 0 and "case 2E (extended)" in out and "Le  256" in out, out)
rc, _, err = run("apdu", "00 A4 04 00 00 00")
check("apdu 4-byte+Lc0 rejected", rc == 1 and "malformed" in err, err)
rc, out, _ = run("sw", "63C2")
check("sw 63C2", rc == 0 and out.startswith("63C2  warning") and "(2 tries left)" in out, out)
rc, out, _ = run("sw", "6A82")
check("sw 6A82", rc == 0 and "File or application not found" in out, out)
rc, out, _ = run("sw", "6110")
check("sw 6110", rc == 0 and "(16 bytes available)" in out, out)
rc, _, _ = run("sw", "90")
check("sw short", rc == 1)
rc, _, _ = run("bogus")
check("usage", rc == 2)

print(f"{checks - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
