#!/usr/bin/env python3
# cardlink — cardlink-vcard --fs FILE end to end (docs/vcard.md).
# SPDX-License-Identifier: Apache-2.0
#
# usage: test_vcard_fs.py PATH/TO/cardlink-tool PATH/TO/cardlink-vcard
#
# A file system described in text is served by cardlink-vcard on the virtual
# card line (tcp:127.0.0.1:0) with a T=1 and a T=0 ATR and read back with
# cardlink-tool --reader vline:... script: SELECT by DF name, by path from
# the MF and the current DF, the parent, LIST FILES, READ BINARY (SFI,
# offset), READ RECORD, with every response checked byte for byte. Then the
# description's errors: exit status 2 and "cardlink-vcard: FILE:LINE: what"
# on stderr, nothing on stdout; --fs with --applet is a usage error.
import os
import subprocess
import sys
import tempfile

TOOL, VCARD = sys.argv[1], sys.argv[2]
checks = failures = 0


def check(cond, what, detail=""):
    global checks, failures
    checks += 1
    if os.environ.get("CL_VERBOSE"):
        print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures += 1
        print(f"FAIL {what}: {str(detail)[:2000]}")
    return cond


FS = """# a card of one's own (docs/vcard.md)
ef 2F00 sfi 30 transparent
data "cardlink"      # sized by its data: 8 bytes
df 5000 name A000000001
  ef 0001 sfi 1 transparent 300
  data 11 22 33 44
  ef 0002 sfi 2 linear 3 4
  record 010203
  record "abc"
  df 5100
    ef 0003 cyclic 2 2
    record 0102
    record 0304
  end
end
"""

# (command, expected response) in order; the script expects each SW
DIALOGUE = [
    ("00 A4 04 00 05 A0 00 00 00 01 00",
     "62 11 82 01 38 83 02 50 00 84 05 A0 00 00 00 01 8A 01 05 90 00"),
    ("00 AA 00 00 00", "51 00 00 01 00 02 90 00"),
    ("00 B0 81 00 04", "11 22 33 44 90 00"),
    ("00 B0 01 2A 04", "00 00 62 82"),                  # offset 298 of 300
    ("00 B2 02 14 00", "61 62 63 90 00"),               # SFI 2, record 2
    ("00 A4 09 0C 02 51 00", "90 00"),
    ("00 A4 02 04 02 00 03 00",
     "62 12 80 02 00 04 82 05 06 21 00 02 02 83 02 00 03 8A 01 05 90 00"),
    ("00 B2 01 04 00", "03 04 90 00"),                  # cyclic: newest first
    ("00 A4 03 00 00",
     "62 11 82 01 38 83 02 50 00 84 05 A0 00 00 00 01 8A 01 05 90 00"),
    ("00 A4 08 00 02 2F 00 00",
     "62 11 80 02 00 08 82 01 01 83 02 2F 00 88 01 F0 8A 01 05 90 00"),
    ("00 B0 00 00 00", "63 61 72 64 6C 69 6E 6B 90 00"),
    ("00 A4 08 0C 06 3F 00 50 00 07 77", "6A 82"),
    ("00 AA 00 00 00", "50 00 2F 00 90 00"),            # back in the MF
]


def hx(s):
    return s.replace(" ", "").upper()


def serve_and_read(work, fs_path, atr):
    vc = subprocess.Popen([VCARD, "--line", "tcp:127.0.0.1:0", "--fs", fs_path,
                           "--atr", atr, "--once"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = vc.stdout.readline().split()
        if not check(len(first) == 2 and first[0] == "line", f"[{atr}] vcard announces its line",
                     first):
            return
        script = os.path.join(work, "dialogue.txt")
        with open(script, "w") as f:
            for cmd, resp in DIALOGUE:
                f.write(f"{cmd} => {hx(resp)[-4:]}\n")
        r = subprocess.run([TOOL, "--reader", "vline:" + first[1], "script", script],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, f"[{atr}] cardlink-tool script exit 0", r.stdout + r.stderr)
        got = [hx(l[2:]) for l in r.stdout.splitlines() if l.startswith("< ")]
        want = [hx(resp) for _, resp in DIALOGUE]
        check(got == want, f"[{atr}] responses byte for byte",
              "\n".join(f"{g}\n{w}" for g, w in zip(got, want) if g != w) or got)
        check(f"{len(DIALOGUE)} APDUs sent, all as expected" in r.stdout,
              f"[{atr}] summary line", r.stdout[-300:])
        vc.wait(timeout=20)
        err = vc.stderr.read()
        check(vc.returncode == 0, f"[{atr}] vcard --once exits 0", err)
        check("file system from " + fs_path + ": 7 files, 324 bytes" in err,
              f"[{atr}] vcard logs the file system", err)
    finally:
        if vc.poll() is None:
            vc.kill()
            vc.wait()


ERRORS = [
    ("ef 0001 transparent 2\ndata 010203\n", "2: data longer than the EF"),
    ("df 5000\n  ef 0001 linear 2 2\n  record 01\nend\n",
     "3: record length differs from the EF's"),
    ("# x\n\nef 12 transparent 1\n", "3: bad FID (4 hex digits)"),
    ("df 5000\nend\nend\n", "3: end without a df"),
    ("ef 0001 transparent\n", "1: transparent EF without a size or data"),
    ("ef 0001 transparent 1\nef 0001 transparent 1\n", "2: FID, SFI or DF name already used"),
    ("frobnicate\n", "1: unknown statement (df, ef, data, record, end)"),
]


def main():
    with tempfile.TemporaryDirectory(prefix="cl-vcard-fs-") as work:
        fs_path = os.path.join(work, "card.fs")
        with open(fs_path, "w") as f:
            f.write(FS)
        for atr in ("t1", "t0"):
            serve_and_read(work, fs_path, atr)
        for i, (text, msg) in enumerate(ERRORS):
            bad = os.path.join(work, f"bad{i}.fs")
            with open(bad, "w") as f:
                f.write(text)
            r = subprocess.run([VCARD, "--line", "tcp:127.0.0.1:0", "--fs", bad],
                               capture_output=True, text=True, timeout=10)
            check(r.returncode == 2 and r.stdout == ""
                  and r.stderr == f"cardlink-vcard: {bad}:{msg}\n",
                  f"error {msg!r}", (r.returncode, r.stdout, r.stderr))
        r = subprocess.run([VCARD, "--line", "tcp:127.0.0.1:0", "--fs",
                            os.path.join(work, "missing.fs")],
                           capture_output=True, text=True, timeout=10)
        check(r.returncode == 1 and "missing.fs: No such file or directory" in r.stderr,
              "a missing file", (r.returncode, r.stderr))
        r = subprocess.run([VCARD, "--line", "tcp:127.0.0.1:0", "--fs", fs_path,
                            "--applet", "x.img"], capture_output=True, text=True, timeout=10)
        check(r.returncode == 2 and r.stdout == "" and "usage:" in r.stderr,
              "--fs with --applet: usage error", (r.returncode, r.stderr))
    print(f"{checks - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
