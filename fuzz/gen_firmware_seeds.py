#!/usr/bin/env python3
"""Seeds of fuzz/fuzz_firmware.c (the bare-metal device's loop): boot with
a T=0 card and the radio, the server's HELLO-ACK and requests as relay
messages over its lossy link, the card's answers, partial radio writes, the
radio lost and back, a PIN typed on the keypad, the card pulled.
Usage: gen_firmware_seeds.py [DIR] (default fuzz/corpus/firmware).
The record layout is described at the top of fuzz_firmware.c."""
import os
import sys

D = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "firmware")
CARD, CARDRX, PARITY, RADIO, MSG, RAW, WRITE, KEY, PIN, TIME = range(10)
TOKEN = bytes(range(1, 17))


def rec(op, body=b""):
    body = bytes(body)
    return bytes([op, len(body)]) + body


def msg(typ, body, seq=0, flags=0, ack=0, ref=0):
    return bytes([0xC1, typ, flags, seq, ack, ref, len(body) >> 8, len(body) & 0xFF]) + body


def tlv(tag, v):
    return bytes([tag, len(v)]) + bytes(v)


HELLO_ACK = msg(0x02, tlv(0x80, [1]) + tlv(0x81, TOKEN))
READ = msg(0x20, tlv(0x80, [0x00, 0xB0, 0x00, 0x00, 0x02]), seq=1)
SELECT = msg(0x20, tlv(0x80, [0x00, 0xA4, 0x04, 0x00, 0x02, 0x3F, 0x00]), seq=2)
PINV = msg(0x28, tlv(0x80, [0x00, 0x20, 0x00, 0x80, 0x08, 0x24] + [0xFF] * 7) + tlv(0x81, [3])
           + tlv(0x82, [4, 12]) + tlv(0x83, [0]), seq=2)
DISPLAY = msg(0x24, tlv(0x80, b"Pay 12.50?"), seq=1)
BOOT = rec(CARD) + rec(CARDRX, [0x3B, 0x00]) + rec(TIME, [1]) + rec(RADIO) + rec(TIME, [1])
OPEN = BOOT + rec(MSG, HELLO_ACK) + rec(TIME, [1])
READ_DONE = rec(MSG, READ) + rec(TIME, [1]) + rec(CARDRX, [0xB0, 0xD0, 0xD1, 0x90, 0x00]) + rec(TIME, [4])

SEEDS = {
    "boot": BOOT + rec(TIME, [40]),
    "open": OPEN,
    "apdu_t0": OPEN + READ_DONE,
    "apdu_partial_writes": rec(WRITE, [3]) + OPEN + READ_DONE,
    "apdu_one_byte_writes": rec(WRITE, [1]) + OPEN + READ_DONE,
    "apdu_then_select": OPEN + READ_DONE + rec(MSG, SELECT) + rec(TIME, [1])
    + rec(CARDRX, [0xA4]) + rec(TIME, [1]) + rec(CARDRX, [0x61, 0x10]) + rec(TIME, [4]),
    "pin_keypad": OPEN + READ_DONE + rec(MSG, PINV) + rec(TIME, [1]) + rec(PIN, [1, 2, 3, 4])
    + rec(TIME, [1]) + rec(CARDRX, [0x20]) + rec(TIME, [1]) + rec(CARDRX, [0x90, 0x00]) + rec(TIME, [4]),
    "display_confirm": OPEN + rec(MSG, DISPLAY) + rec(TIME, [2]) + rec(KEY, [0x10]) + rec(TIME, [2]),
    "radio_lost": OPEN + READ_DONE + rec(RADIO) + rec(TIME, [2]) + rec(RADIO) + rec(TIME, [2])
    + rec(MSG, msg(0x02, tlv(0x80, [1]) + tlv(0x81, TOKEN) + tlv(0x82, [1]), flags=0x01, ack=2))
    + rec(TIME, [4]),
    "card_pulled": OPEN + READ_DONE + rec(CARD) + rec(TIME, [4]) + rec(MSG, SELECT) + rec(TIME, [4]),
    "parity_in_atr": rec(CARD) + rec(PARITY, [0x3B]) + rec(TIME, [2]) + rec(CARDRX, [0x3B, 0x00])
    + rec(TIME, [2]),
    "raw_noise": OPEN + rec(RAW, [0x7E, 0x01, 0x02, 0x7D, 0x7E, 0x7E]) + READ_DONE,
    "silence": OPEN + rec(TIME, [255]) + rec(TIME, [255]),
    # K of 1 s: keep-alives fall due, one-byte radio writes keep the link busy
    "keepalive_busy_link": BOOT + rec(MSG, msg(0x02, tlv(0x80, [1]) + tlv(0x81, TOKEN)
                                               + tlv(0x83, [0, 1])))
    + rec(WRITE, [1]) + rec(TIME, [40]) + rec(TIME, [40]) + READ_DONE,
}

os.makedirs(D, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(D, name), "wb") as f:
        f.write(data)
