#!/usr/bin/env python3
"""cardlink-tool as a user runs it: exact JSON fields for real ATRs (from
pcsc-tools' smartcard_list.txt), exit status and error offsets for malformed
ones, APDU and SW decodes. Usage: test_tool.py PATH/TO/cardlink-tool"""
import difflib
import json
import os
import re
import subprocess
import sys
import tempfile

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
check("sw 63C2", rc == 0 and out == "63C2  warning: Verify failed, 2 tries left\n", out)
rc, out, _ = run("sw", "6A82")
check("sw 6A82", rc == 0 and "File or application not found" in out, out)
rc, out, _ = run("sw", "6110")
check("sw 6110", rc == 0 and "(16 bytes available)" in out, out)
rc, _, _ = run("sw", "90")
check("sw short", rc == 1)
rc, _, _ = run("bogus")
check("usage", rc == 2)

# --help and --version: stdout, exit 0; a usage error: stderr, exit 2.
rc, out, err = run("--help")
check("--help", rc == 0 and out.startswith("usage: cardlink-tool atr [--json] HEX") and err == ""
      and "3F 00 => 9000" in out and "cardlink-tool tlv HEX" in out, out + err)
rc, out, err = run("-h")
check("-h", rc == 0 and out.startswith("usage:"), out + err)
rc, out, err = run("--version")
check("--version", rc == 0 and re.fullmatch(r"cardlink-tool \d+\.\d+\.\d+\n", out) is not None
      and err == "", out + err)
rc, out, err = run("atr")
check("usage on stderr", rc == 2 and out == "" and err.startswith("usage: cardlink-tool"), out + err)

# The names of smartcard_list.txt: a list this test writes (patterns with
# '.' and [...] classes, as pcsc_scan reads them); CL_SMARTCARD_LIST="" none.
LIST = """# test list
3B 8F 80 01 80 4F 0C A0 00 00 03 06 .. 00 01 00 00 00 00 ..
\tMIFARE Classic 1K (as per PCSC std part3)

3B 2A 00 80 65 A2 01 02 01 3[01] 72 D6 4[13]
\tTest card, pattern with classes
\tsecond line
"""
listdir = tempfile.mkdtemp()
listfile = os.path.join(listdir, "smartcard_list.txt")
with open(listfile, "w") as f:
    f.write(LIST)
os.environ["CL_SMARTCARD_LIST"] = listfile

EXACT = [
    # capabilities of 2 bytes: no third byte shown; pre-issuing data; a name by pattern
    ("3B 2A 00 80 65 A2 01 02 01 31 72 D6 43", 0, """\
ATR: 3B 2A 00 80 65 A2 01 02 01 31 72 D6 43
  TS  3B  direct convention
  T0  2A  Y1=2: TB1; K=10 historical bytes
  TB1 00  VPP (deprecated since ISO 7816-3:2006): not connected
  historical bytes (10): 80 65 A2 01 02 01 31 72 D6 43
    category 80: compact-TLV objects
    65 A2 01 02 01 31      pre-issuing data: A2 01 02 01 31
    72 D6 43               card capabilities (2 bytes)
      1st D6: DF selection by full DF name, partial DF name, file identifier; short EF identifier, record number supported
      2nd 43: no EFs of BER-TLV structure; write OR; FF as first tag byte invalid; data unit 4 bytes
  no TCK (T=0 only)
protocols: T=0 (negotiable mode)
rate: Fi=372 Di=1 f(max)=5000 kHz: 372 clock cycles per bit at best
T=0: WI=10, extra guard time N=0
smartcard_list.txt:
  (3B 2A 00 80 65 A2 01 02 01 3[01] 72 D6 4[13])
  Test card, pattern with classes
  second line
""", ""),
    # PC/SC Part 3: RID, standard, card name
    ("3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A", 0, """\
ATR: 3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A
  TS  3B  direct convention
  T0  8F  Y1=8: TD1; K=15 historical bytes
  TD1 80  Y2=8: next group has TD; T=0
  TD2 01  Y3=0: no more interface bytes; T=1
  historical bytes (15): 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00
    category 80 with a PC/SC Part 3 application identifier: a contactless
    storage card, its ATR made up by the reader
    4F 0C  AID, 12 bytes
      RID A0 00 00 03 06: PC/SC Workgroup
      standard 03: ISO 14443 A, part 3
      card name 00 01: MIFARE Classic 1K
      RFU: 00 00 00 00
  TCK 6A  correct
protocols: T=0 T=1 (negotiable mode)
rate: Fi=372 Di=1 f(max)=5000 kHz: 372 clock cycles per bit at best
T=0: WI=10, extra guard time N=0
T=1: IFSC=32 CWI=13 BWI=4 EDC=LRC
smartcard_list.txt:
  (3B 8F 80 01 80 4F 0C A0 00 00 03 06 .. 00 01 00 00 00 00 ..)
  MIFARE Classic 1K (as per PCSC std part3)
""", ""),
    # category 00: objects, then the status indicator; service data, 3 capability bytes
    ("3B 9F 96 80 1F C7 80 31 E0 73 FE 21 1B 64 07 59 51 00 82 90 00 CE 00 00", 1, """\
ATR: 3B 9F 96 80 1F C7 80 31 E0 73 FE 21 1B 64 07 59 51 00 82 90 00 CE + 00 00
  TS  3B  direct convention
  T0  9F  Y1=9: TA1 TD1; K=15 historical bytes
  TA1 96  Fi=512 f(max)=5.0 MHz, Di=32
  TD1 80  Y2=8: next group has TD; T=0
  TD2 1F  Y3=1: next group has TA; T=15
  TA3 C7  class A (5 V), B (3 V), C (1.8 V); clock stop no preference
  historical bytes (15): 80 31 E0 73 FE 21 1B 64 07 59 51 00 82 90 00
    category 80: compact-TLV objects
    31 E0                  card service data E0
      application selection: by full DF name, by partial DF name
      BER-TLV data objects in EF.DIR; access by READ RECORD
      card with MF
    73 FE 21 1B            card capabilities (3 bytes)
      1st FE: DF selection by full DF name, partial DF name, path, file identifier, implicit DF; short EF identifier, record number supported
      2nd 21: no EFs of BER-TLV structure; proprietary; FF as first tag byte invalid; data unit 1 byte
      3rd 1B: no command chaining, short Lc/Le only; logical channels assigned by card and reader, at most 4
    64 07 59 51 00         pre-issuing data: 07 59 51 00
    82 90 00               status indicator
      status word 9000: No error
  TCK CE  correct
  warning: 2 bytes after the ATR's end, not part of it
protocols: T=0 (negotiable mode)
rate: Fi=512 Di=32 f(max)=5000 kHz: 16 clock cycles per bit at best
T=0: WI=10, extra guard time N=0
""", "cardlink-tool: malformed ATR at offset 22: unexpected trailing bytes (decoded leniently)\n"),
    # historical bytes cut short and no TCK (JCOP41 V221 in smartcard_list.txt)
    ("3B FA 13 00 00 81 31 FE 45 4A 43 4F 50 34 31 56", 1, """\
ATR: 3B FA 13 00 00 81 31 FE 45 4A 43 4F 50 34 31 56
  TS  3B  direct convention
  T0  FA  Y1=F: TA1 TB1 TC1 TD1; K=10 historical bytes
  TA1 13  Fi=372 f(max)=5.0 MHz, Di=4
  TB1 00  VPP (deprecated since ISO 7816-3:2006): not connected
  TC1 00  extra guard time N=0 etu
  TD1 81  Y2=8: next group has TD; T=1
  TD2 31  Y3=3: next group has TA TB; T=1
  TA3 FE  IFSC=254
  TB3 45  BWI=4 CWI=5
  historical bytes (7): 4A 43 4F 50 34 31 56 "JCOP41V"
    category 4A: proprietary (not ISO 7816-4 coded)
  warning: T0 announces 10 historical bytes, the ATR holds 7
  TCK     missing: due since a TD byte names T=1 (accepted, as pcsc-lite does)
protocols: T=1 (negotiable mode)
rate: Fi=372 Di=4 f(max)=5000 kHz: 93 clock cycles per bit at best
extra guard time N=0
T=1: IFSC=254 CWI=5 BWI=4 EDC=LRC
""", "cardlink-tool: malformed ATR at offset 16: input truncated (decoded leniently)\n"),
]
for atr, want_rc, want_out, want_err in EXACT:
    rc, out, err = run("atr", atr)
    check(f"exact atr {atr}", (rc, out, err) == (want_rc, want_out, want_err),
          "\n" + "".join(difflib.unified_diff(want_out.splitlines(True), out.splitlines(True)))
          + f"rc {rc} err {err!r}")

# The lenient decode in JSON: warnings and trailing bytes named.
for atr, warnings, trailing in [
        ("3B 10 14 50", ["trailing"], "50"),
        ("3B 95 96 C0 F0 1F C2 0F 10 0A 0A 16", ["tck_missing"], ""),
        ("3B 8F 80 01 80 4F 0C A0 00 1A 00 00 00 00 78", ["tck_missing", "hist_short"], ""),
        ("3B DB 96 00 80 B1 FE 45 1F 83 00 31 C0 64 C7 FC 10 00 01 90 00 75", ["tck_wrong"], ""),
        ("3B 02 14 50", [], "")]:
    rc, out, err = run("atr", "--json", atr)
    got = json.loads(out) if out else {}
    check(f"json lenient {atr}", rc == (1 if warnings else 0) and got.get("warnings") == warnings
          and got.get("trailing") == trailing, out + err)
os.environ["CL_SMARTCARD_LIST"] = ""
rc, out, err = run("atr", "3B 2A 00 80 65 A2 01 02 01 31 72 D6 43")
check("no list", rc == 0 and "smartcard_list" not in out, out)

# Exact decodes: P1/P2 explained (ISO 7816-4, GlobalPlatform, cardlink, PC/SC),
# BER-TLV trees with tag names, status words with counts and 9XXX families.
DECODES = [
    ('apdu', '00 A4 00 0C 02 3F 00', 'case 3S (short)\nCLA 00  interindustry, no secure messaging, logical channel 0\nINS A4  SELECT\nP1  00  select MF, DF or EF by file identifier (no data: the MF)\nP2  0C  first or only occurrence; no response data (file 3F00)\nLc  2\ndata 3F 00\n'),
    ('apdu', '00 B2 01 0C 00', 'case 2S (short)\nCLA 00  interindustry, no secure messaging, logical channel 0\nINS B2  READ RECORD(S)\nP1  01  record 1\nP2  0C  short EF identifier 1; record P1\nLe  256 (Le field 0: maximum)\n'),
    ('apdu', '00 20 00 80', 'case 1 (short)\nCLA 00  interindustry, no secure messaging, logical channel 0\nINS 20  VERIFY\nP1  00\nP2  80  specific (DF) reference data, number 0; no data: ask for the tries left\n'),
    ('apdu', '0C CA 9F 36 00', 'case 2S (short)\nCLA 0C  interindustry, secure messaging, header authenticated, logical channel 0\nINS CA  GET DATA\nP1  9F  tag 9F36: application transaction counter (ATC)\nP2  36\nLe  256 (Le field 0: maximum)\n'),
    ('apdu', '84 E6 0C 00 05 01 02 03 04 05', 'case 3S (short)\nCLA 84  proprietary (GlobalPlatform: secure messaging, C-MAC), logical channel 0\nINS E6  INSTALL (GlobalPlatform)\nP1  0C  for install, make selectable\nP2  00\nLc  5\ndata 01 02 03 04 05\n'),
    ('apdu', '80 F2 40 02 02 4F 00 00', 'case 4S (short)\nCLA 80  proprietary (GlobalPlatform: no secure messaging), logical channel 0\nINS F2  GET STATUS (GlobalPlatform)\nP1  40  applications and security domains\nP2  02  first or all occurrences, TLV format\nLc  2\ndata 4F 00\nLe  256 (Le field 0: maximum)\n'),
    ('apdu', '80 56 02 00', 'case 1 (short)\nCLA 80  proprietary (cardlink), logical channel 0\nINS 56  USE (cardlink applet: e-goods record)\nP1  02  record 2 of EF 0201\nP2  00\n'),
    ('apdu', 'FF CA 00 00 00', "case 2S (short)\nCLA FF  PC/SC: handled by the reader, not sent to the card\nINS CA  GET DATA (PC/SC pseudo-APDU)\nP1  00  the card's UID (serial number)\nP2  00\nLe  256 (Le field 0: maximum)\n"),
    ('apdu', '00 2A 9E 9A 04 01 02 03 04 00', 'case 4S (short)\nCLA 00  interindustry, no secure messaging, logical channel 0\nINS 2A  PERFORM SECURITY OPERATION\nP1  9E  PSO: COMPUTE DIGITAL SIGNATURE (P1 P2 9E9A)\nP2  9A\nLc  4\ndata 01 02 03 04\nLe  256 (Le field 0: maximum)\n'),
    ('apdu', '00 87 11 9A 04 7C 02 81 00 00', 'case 4S (short)\nCLA 00  interindustry, no secure messaging, logical channel 0\nINS 87  GENERAL AUTHENTICATE (odd INS: BER-TLV data field)\nP1  11  algorithm reference 11\nP2  9A  key reference 9A\nLc  4\ndata 7C 02 81 00\nLe  256 (Le field 0: maximum)\n     7C 02  dynamic authentication template\n       81 00\n'),
    ('apdu', '10 DB 3F FF 03 5C 01 7E', 'case 3S (short)\nCLA 10  interindustry, no secure messaging, logical channel 0, command chaining: more commands follow\nINS DB  PUT DATA (odd INS: BER-TLV data field)\nP1  3F  odd INS: P1 P2 = file identifier 3FFF\nP2  FF\nLc  3\ndata 5C 01 7E\n'),
    ('apdu', '84 82 33 00 08 00 00 00 00 00 00 00 00', 'case 3S (short)\nCLA 84  proprietary (GlobalPlatform: secure messaging, C-MAC), logical channel 0\nINS 82  EXTERNAL AUTHENTICATE (GlobalPlatform)\nP1  33  security level 33: C-MAC, C-DECRYPTION, R-MAC, R-ENCRYPTION\nP2  00\nLc  8\ndata 00 00 00 00 00 00 00 00\n'),
    ('tlv', '6F 1B 84 08 F0 43 41 52 44 4C 4E 4B A5 0F 50 04 43 41 52 44 87 01 01 9F 38 03 9F 1A 02', '6F 1B  FCI template\n  84 08  DF name: F0 43 41 52 44 4C 4E 4B\n  A5 0F  proprietary information (FCI proprietary template)\n    50 04  application label: 43 41 52 44  "CARD"\n    87 01  application priority indicator: 01  (priority 1)\n    9F 38 03  PDOL: 9F 1A 02\n'),
    ('tlv', '62 14 82 01 38 83 02 10 00 84 08 F0 43 41 52 44 4C 4E 4B 8A 01 05', '62 14  FCP template\n  82 01  file descriptor: 38  (DF)\n  83 02  file identifier: 10 00\n  84 08  DF name: F0 43 41 52 44 4C 4E 4B\n  8A 01  life cycle status: 05  (operational, activated)\n'),
    ('tlv', '70 10 5A 08 47 61 73 90 01 01 00 10 5F 24 03 25 12 31', '70 10  record template\n  5A 08  application PAN: 47 61 73 90 01 01 00 10\n  5F 24 03  application expiration date: 25 12 31  (2025-12-31)\n'),
    ('tlv', '77 0D 9F 27 01 80 9F 36 02 00 1C 9F 26 01 00', '77 0D  response message template format 2\n  9F 27 01  cryptogram information data: 80  (ARQC)\n  9F 36 02  application transaction counter (ATC): 00 1C  (28)\n  9F 26 01  application cryptogram: 00\n'),
    ('sw', '63C2', '63C2  warning: Verify failed, 2 tries left\n'),
    ('sw', '63C1', '63C1  warning: Verify failed, 1 try left\n'),
    ('sw', '6C00', '6C00  wrong Le: Wrong Le, SW2 = bytes available (resend with Le=00: Ne = 256)\n'),
    ('sw', '6C1A', '6C1A  wrong Le: Wrong Le, SW2 = bytes available (resend with Le=1A: Ne = 26)\n'),
    ('sw', '6100', '6100  success, more data: More data available (256 bytes available or more)\n'),
    ('sw', '9143', '9143  proprietary: UICC (TS 102 221): normal ending, a proactive command of 67 bytes pending (FETCH); MIFARE DESFire: native status 43\n'),
    ('sw', '9202', '9202  proprietary: SIM (GSM 11.11): command successful after 2 internal retries\n'),
    ('sw', '9300', '9300  proprietary: SIM toolkit (GSM 11.14, TS 102 221): toolkit busy, retry later\n'),
    ('sw', '9404', '9404  proprietary: SIM (GSM 11.11): file ID or pattern not found\n'),
    ('sw', '9840', '9840  proprietary: SIM (GSM 11.11): CHV verification failed, no attempt left: CHV blocked\n'),
    ('sw', '9F10', '9F10  proprietary: SIM (GSM 11.11): 16 bytes of response available (GET RESPONSE)\n'),
    ('sw', '9A00', '9A00  proprietary: Proprietary status\n'),
]
for cmd, arg, want in DECODES:
    rc, out, err = run(cmd, arg)
    check(f"{cmd} {arg}", rc == 0 and out == want and err == "",
          "\n" + "".join(difflib.unified_diff(want.splitlines(True), out.splitlines(True))) + err)
rc, out, err = run("tlv", "6F 05 84")
check("tlv malformed", rc == 1 and out == "" and err == "cardlink-tool: not BER-TLV: input truncated\n", err)
rc, out, err = run("tlv", "6F 03 84 02 01")
check("tlv malformed inside", rc == 1 and out == ""
      and err == "cardlink-tool: not BER-TLV: a constructed object holds malformed data\n", err)

# lib/policy through `cardlink-tool policy`: the issue-10 attack bytes a
# server would relay are refused with their reason, ordinary commands pass.
POLICY = [
    (["00 88 00 00 08 01 02 03 04 05 06 07 08 00"], 1,
     "relay 00 88 00 00 08 01 02 03 04 05 06 07 08 00: refused, signing or authentication (ERROR DENIED)\n"),
    (["--after-pin", "80 54 00 00 18 00 00 27 0F 00 00 00 00" + " AB" * 16], 1,
     "relay 80 54 00 00 18 00 00 27 0F 00 00 00 00" + " AB" * 16 +
     ": refused, value or e-goods outside an approval (ERROR DENIED)\n"),
    (["10 20 00 80"], 1, "relay 10 20 00 80: refused, chained PIN or signing command (ERROR DENIED)\n"),
    (["00 20 00 80 08 24 12 34 FF FF FF FF FF"], 1,
     "relay 00 20 00 80 08 24 12 34 FF FF FF FF FF: refused, PIN handling (ERROR DENIED)\n"),
    (["00 20 00 80"], 0, "relay 00 20 00 80: relayed\n"),
    (["00 E2 00 28 01 00"], 1,
     "relay 00 E2 00 28 01 00: refused, value or e-goods outside an approval (ERROR DENIED)\n"),
    (["--iso", "80 54 00 00 01 00"], 0, "relay 80 54 00 00 01 00: relayed\n"),
    (["00 A4 04 00 07 F0 43 4C 50 41 59 01"], 0, "relay 00 A4 04 00 07 F0 43 4C 50 41 59 01: relayed\n"),
]
for args, want_rc, want in POLICY:
    rc, out, err = run("policy", *args)
    check(f"policy {' '.join(args)}", rc == want_rc and out == want and err == "", repr(out) + err)
rc, out, err = run("policy", "--bogus", "00 A4")
check("policy usage", rc == 2, err)

print(f"{checks - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
