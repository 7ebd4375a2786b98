#!/usr/bin/env python3
"""cardlink — what the bare-metal device image (ports/baremetal/firmware.c,
linked with --gc-sections) holds: flash per module of the core as the
linker kept it, RAM per static object, and the relay engines' linked share
beside issue 11's 7 KiB (relay codec + session + lossy link).

Reads the GNU ld map the cross build writes next to the image.
Usage: firmware-size.py BUILD_DIR   (e.g. build/cortex-m0plus)
Prints figures only; exits 1 when the map is missing."""
import os
import re
import sys

# The relay engines issue 11's target counts (as engine-size.py does).
RELAY = ("relay_msg_", "relay_session.c", "relay_session_roles.c", "relay_txn_table.c",
         "relay_lossy.c")


def owner(path):
    """(module, object file) of an input file of the map."""
    m = re.search(r"lib_([a-z0-9]+)_([^/]*)\.o\)?$", path)   # .._.._lib_relay_x.c.o
    if m:                                   # the core (a thin archive's member)
        return m.group(1), m.group(2)
    m = re.search(r"\(([^)]*)\)$", path)
    if m:                                   # libc, libgcc
        lib = os.path.basename(path[:m.start()])
        return re.sub(r"(_nano)?\.a$", "", lib), m.group(1)
    return "firmware", os.path.basename(path)


def parse(mapfile):
    """[(output section, input section, size, module, object)]."""
    rows, out, pending = [], None, None
    text = open(mapfile).read()
    text = text[text.index("Linker script and memory map"):]
    for line in text.splitlines():
        m = re.match(r"^(\.[\w.]+)\s+0x[0-9a-f]+\s+0x[0-9a-f]+", line)
        if m:
            out = m.group(1)
            continue
        m = re.match(r"^ (\.[\w.]+|COMMON)\s*$", line)
        if m:                               # a long name: values on the next line
            pending = m.group(1)
            continue
        m = re.match(r"^ (\.[\w.]+|COMMON)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$", line)
        if m and (m.group(1) or pending):
            name = m.group(1) or pending
            pending = None
            size = int(m.group(3), 16)
            if size and out is not None:
                mod, obj = owner(m.group(4).strip())
                rows.append((out, name, size, mod, obj))
            continue
        pending = None
    return rows


def main():
    build = sys.argv[1]
    mapfile = os.path.join(build, "ports/baremetal/cardlink-firmware.map")
    if not os.path.exists(mapfile):
        print("  no firmware map in %s" % build)
        return 1
    rows = parse(mapfile)
    flash, ram, relay = {}, {}, 0
    for out, name, size, mod, obj in rows:
        if out == ".text":
            flash[mod] = flash.get(mod, 0) + size
            if mod == "relay" and obj.startswith(RELAY):
                relay += size
        elif out in (".data", ".bss"):
            key = re.sub(r"^\.(bss|data)\.", "", name) if mod == "firmware" else mod
            ram[key] = ram.get(key, 0) + size
            if out == ".data":
                flash[mod] = flash.get(mod, 0) + size
    print("  device image (firmware.c, reader engines, device-side relay, --gc-sections)")
    print("  flash by module, bytes:")
    for mod, size in sorted(flash.items(), key=lambda kv: -kv[1]):
        print("    %-10s %7d" % (mod, size))
    print("    %-10s %7d" % ("total", sum(flash.values())))
    print("  RAM by object, bytes (the stack not counted):")
    for key, size in sorted(ram.items(), key=lambda kv: -kv[1]):
        print("    %-10s %7d" % (key, size))
    print("    %-10s %7d" % ("total", sum(ram.values())))
    print("  relay codec + session + txn table + lossy link as linked: %d (issue 11 target 7168)"
          % relay)
    return 0


if __name__ == "__main__":
    sys.exit(main())
