#!/usr/bin/env python3
"""cardlink — one closing line for the whole suite from meson's testlog.json:
Check's per-suite counts are summed; a test that is not a Check suite counts
as one check (or by its own 'N passed, N failed' line). Prints 'N passed, N failed' (and skipped) and exits 1 on any
failure."""
import json
import re
import sys

CHECK = re.compile(r"(\d+)%: Checks: (\d+), Failures: (\d+), Errors: (\d+)")
PLAIN = re.compile(r"^(\d+) passed, (\d+) failed", re.M)
passed = failed = skipped = 0
for line in open(sys.argv[1]):
    t = json.loads(line)
    res = t.get("result")
    out = t.get("stdout", "") or ""
    m = CHECK.search(out)
    p = PLAIN.search(out)
    if res == "SKIP":
        skipped += 1
    elif m:
        n, f, e = int(m.group(2)), int(m.group(3)), int(m.group(4))
        passed += n - f - e
        failed += f + e
        if res not in ("OK", "EXPECTEDFAIL") and f + e == 0:
            failed += 1      # crashed after Check's summary (e.g. a leak report)
    elif p:
        passed += int(p.group(1))
        failed += int(p.group(2))
        if res not in ("OK", "EXPECTEDFAIL") and int(p.group(2)) == 0:
            failed += 1
    elif res in ("OK", "EXPECTEDFAIL"):
        passed += 1
    else:
        failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
