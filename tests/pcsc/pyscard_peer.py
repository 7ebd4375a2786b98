#!/usr/bin/env python3
"""pyscard (python3-pyscard) as a PC/SC peer for test_pcsc.py: lists the
readers, connects to the first whose name contains READER, and sends each
APDU raw with connection.transmit (pyscard does no GET RESPONSE of its own).
Prints one JSON object: {"readers": [...], "atr": HEX, "protocol": N,
"responses": [HEX, ...]} (each response is data then SW1 SW2).
Usage: pyscard_peer.py READER APDU-HEX..."""
import json
import sys

from smartcard.System import readers
from smartcard.CardConnection import CardConnection


def main():
    want, apdus = sys.argv[1], sys.argv[2:]
    names = [str(r) for r in readers()]
    reader = next(r for r in readers() if want in str(r))
    conn = reader.createConnection()
    conn.connect()
    out = {"readers": names, "atr": bytes(conn.getATR()).hex().upper(),
           "protocol": {CardConnection.T0_protocol: 0,
                        CardConnection.T1_protocol: 1}.get(conn.getProtocol(), -1),
           "responses": []}
    for a in apdus:
        data, sw1, sw2 = conn.transmit(list(bytes.fromhex(a.replace(" ", ""))))
        out["responses"].append((bytes(data) + bytes([sw1, sw2])).hex().upper())
    conn.disconnect()
    print(json.dumps(out))


main()
