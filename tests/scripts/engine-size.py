#!/usr/bin/env python3
"""cardlink — Cortex-M0+ text of the transport engines (issue 4 targets),
with both roles and as a reader firmware builds them (CL_T0_CARD=0 /
CL_T1_CARD=0: the card role left out).

Each engine is compiled again with the exact command meson used for it
(compile_commands.json of the cross build), once with the option set to 0.
Usage: engine-size.py BUILD_DIR PREFIX   (e.g. build/cortex-m0plus arm-none-eabi-)
Prints figures only; exits 1 only when a build fails."""
import json
import os
import shlex
import subprocess
import sys
import tempfile

# (name, its source files (their text is summed; a name ending in "_" takes
# every file it starts), the header with the role macro, the macro, target)
ENGINES = [("t0", ["lib/t0/t0.c"], "t0", "CL_T0_CARD", 1536),
           ("t1", ["lib/t1/t1.c", "lib/t1/t1_block.c"], "t1", "CL_T1_CARD", 2457),
           # issue 11: relay codec + session + lossy link <= 7 KiB; a device
           # leaves the server role out (CL_RELAY_SERVER_ROLE=0)
           ("relay", ["lib/relay/relay_msg_", "lib/relay/relay_session.c",
                      "lib/relay/relay_session_roles.c", "lib/relay/relay_txn_table.c",
                      "lib/relay/relay_lossy.c"], "relay_session", "CL_RELAY_SERVER_ROLE", 7168)]


def text_size(prefix, obj):
    out = subprocess.check_output([prefix + "size", obj], text=True)
    return int(out.splitlines()[1].split()[0])


def object_sizes(entry, macro, header, prefix, tmp, name):
    """Text of one source compiled with macro 1 and 0 ([both, reader]; None
    where it failed or the header has no such macro)."""
    argv = shlex.split(entry["command"])
    # drop the dependency-file and output arguments, keep the rest
    keep, skip = [], False
    for a in argv:
        if skip:
            skip = False
            continue
        if a in ("-MD",):
            continue
        if a in ("-MQ", "-MF", "-o"):
            skip = True
            continue
        keep.append(a)
    sizes = []
    for value in ("1", "0"):
        if value == "0" and macro not in header:
            sizes.append(None)
            continue
        obj = os.path.join(tmp, "%s-%s.o" % (name, value))
        r = subprocess.run(keep + ["-D%s=%s" % (macro, value), "-o", obj],
                           cwd=entry["directory"])
        sizes.append(text_size(prefix, obj) if r.returncode == 0 else None)
    return sizes


def main():
    build, prefix = sys.argv[1], sys.argv[2]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    # the core library's own compile lines (ports/baremetal compiles the
    # same sources again, with the device's role macros set)
    cmds = [e for e in json.load(open(os.path.join(build, "compile_commands.json")))
            if e.get("output", "").startswith("lib/libcardlink.a.p/")]
    print("  engines, text bytes (M0+ targets: t0 <= 1536, t1 <= 2457, relay <= 7168)")
    status = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, srcs, hname, macro, target in ENGINES:
            header = open(os.path.join(root, "include/cardlink/%s.h" % hname)).read()
            entries = []
            for src in srcs:
                if src.endswith("_"):
                    entries.append([e for e in cmds
                                    if src in e["file"] and e["file"].endswith(".c")])
                else:
                    entries.append([e for e in cmds if e["file"].endswith(src)])
            if not all(entries):
                continue
            sizes = [0, 0]
            for entry in [e for group in entries for e in group]:
                one = object_sizes(entry, macro, header, prefix, tmp,
                                   os.path.basename(entry["file"]))
                sizes = [None if a is None or b is None else a + b
                         for a, b in zip(sizes, one)]
                if one[0] is None:
                    status = 1
            both, reader = sizes
            line = "    %s  both roles %5s" % (name, both)
            if both is not None:
                line += " (%s)" % ("met" if both <= target else "over by %d" % (both - target))
            if reader is not None:
                line += "   %s (%s=0) %5d  %s" % (
                    "device only" if name == "relay" else "reader only",
                    macro, reader, "met" if reader <= target else "over by %d" % (reader - target))
            print(line)
    return status


if __name__ == "__main__":
    sys.exit(main())
