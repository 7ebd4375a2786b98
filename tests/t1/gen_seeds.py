#!/usr/bin/env python3
# cardlink — seed corpora for fuzz/fuzz_t1_reader.c and fuzz/fuzz_t1_card.c
# (see the input format at the top of each target).
# SPDX-License-Identifier: Apache-2.0
import os

def lrc(b):
    x = 0
    for c in b: x ^= c
    return bytes([x])

def crc(b):
    c = 0xFFFF
    for byte in b:
        c ^= byte
        for _ in range(8):
            c = (c >> 1) ^ 0x8408 if c & 1 else c >> 1
    return bytes([c >> 8, c & 0xFF])

class E:
    edc = 'lrc'

def blk(pcb, inf=b'', nad=0):
    b = bytes([nad, pcb, len(inf)]) + inf
    return b + (crc(b) if E.edc == 'crc' else lrc(b))
def I(ns, more, inf): return blk((ns << 6) | (0x20 if more else 0), inf)
def R(nr, bits=0): return blk(0x80 | (nr << 4) | bits)
def S(pcb, inf=b''): return blk(pcb, inf)

def feed(b, bytewise=False):
    out = b''
    while b:
        n = min(len(b), 64)
        out += bytes([(0x40 if bytewise else 0) | (n - 1)]) + b[:n]
        b = b[n:]
    return out

T, P, ABORT = b'\x80', b'\xA0', b'\xC0'
root = os.path.join(os.path.dirname(__file__), '..', '..', 'fuzz', 'corpus')
SW = b'\x90\x00'
R80 = bytes(range(0xA0, 0xA0 + 78)) + SW

def write(target, name, data):
    d = os.path.join(root, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)

# reader: cfg0 = edc | ifs_at_start<<1 | (retries-1)<<2 | ifsd32<<4 | nad<<5
for edc in ('lrc', 'crc'):
    E.edc = edc
    e = 1 if edc == 'crc' else 0
    tag = edc
    write('t1_reader', 'simple_' + tag, bytes([e | 8, 32, 2, 100]) +
          feed(I(0, 0, SW)) + feed(I(1, 0, b'\x61\x10')) + feed(I(0, 0, R80[:20])))
    write('t1_reader', 'ifs_start_' + tag, bytes([e | 2 | 8, 32, 2, 100]) +
          feed(S(0xE1, b'\xFE')) + feed(I(0, 0, SW), True))
    write('t1_reader', 'chain_tx_' + tag, bytes([e | 8, 32, 50, 100]) +
          feed(R(1)) + feed(R(0)) + feed(R(1)) + feed(I(0, 0, SW)))
    write('t1_reader', 'chain_rx_' + tag, bytes([e | 8 | 0x10, 32, 2, 200]) +
          feed(I(0, 1, R80[:32])) + feed(I(1, 1, R80[32:64])) + feed(I(0, 0, R80[64:])))
    write('t1_reader', 'wtx_' + tag, bytes([e | 8, 32, 2, 100]) +
          feed(S(0xC3, b'\x05')) + T + feed(I(0, 0, SW)))
    write('t1_reader', 'card_ifs_' + tag, bytes([e | 8, 32, 60, 100]) +
          feed(S(0xC1, b'\x40')) + feed(R(1)) + feed(I(0, 0, SW)))
    write('t1_reader', 'card_abort_' + tag, bytes([e | 8, 32, 60, 100]) +
          feed(S(0xC2)) + feed(I(0, 0, SW)))
    write('t1_reader', 'errors_' + tag, bytes([e | 8, 32, 2, 100]) +
          feed(I(0, 0, SW)[:-1] + b'\x00') + P + feed(I(0, 0, SW)) + T + feed(R(0, 1)) +
          feed(I(0, 0, SW)))
    write('t1_reader', 'resynch_' + tag, bytes([e | 8, 32, 2, 100]) +
          T + T + T + feed(S(0xE0)) + feed(I(0, 0, SW)))
    write('t1_reader', 'deactivate_' + tag, bytes([e | 8, 32, 2, 100]) + T * 7)
    write('t1_reader', 'overflow_' + tag, bytes([e | 8 | 0x10, 32, 2, 20]) +
          feed(I(0, 1, R80[:32])) + feed(S(0xE2)))
    write('t1_reader', 'reader_abort_' + tag, bytes([e | 8 | 0x10, 32, 2, 200]) + ABORT +
          feed(I(0, 1, R80[:32])) + feed(S(0xE2)) + b'\xE1' + feed(I(1, 0, SW)))
    write('t1_reader', 'badlen_' + tag, bytes([e | 8 | 0x10, 32, 2, 200]) +
          feed(b'\x00\x00\xFF\x01\x02') + T + feed(I(0, 0, bytes(33))) + feed(I(0, 0, SW)))

# card: cfg0 = edc | app<<1 ; ifsc ; buffer size / 2
for edc in ('lrc', 'crc'):
    E.edc = edc
    e = 1 if edc == 'crc' else 0
    tag = edc
    cmd = bytes(range(5))
    write('t1_card', 'simple_' + tag, bytes([e, 32, 150]) + feed(S(0xC1, b'\xFE')) +
          feed(I(0, 0, cmd)) + feed(I(1, 0, cmd), True))
    write('t1_card', 'chain_rx_' + tag, bytes([e, 32, 150]) +
          feed(I(0, 1, bytes(32))) + feed(I(1, 1, bytes(32))) + feed(I(0, 0, bytes(4))))
    write('t1_card', 'chain_tx_' + tag, bytes([e, 32, 150]) + b'\xE0' +
          feed(I(0, 0, bytes(40))) + feed(R(1)) + feed(R(0)) + feed(R(1)) + feed(R(0)) +
          feed(I(1, 0, cmd)))
    write('t1_card', 'wtx_' + tag, bytes([e | (2 << 1), 32, 150]) + feed(I(0, 0, cmd)) +
          feed(S(0xE3, b'\x01')) + feed(I(1, 0, cmd)))
    write('t1_card', 'ifs_req_' + tag, bytes([e | (3 << 1), 32, 150]) + feed(I(0, 0, cmd)) +
          feed(S(0xE1, b'\x01')) + feed(I(1, 0, cmd)))
    write('t1_card', 'errors_' + tag, bytes([e, 32, 150]) + P + feed(I(0, 0, cmd)) +
          feed(b'\x00\x00\x05\x01') + T + feed(I(0, 0, cmd)[:-1] + b'\x77') +
          feed(I(0, 0, cmd)) + feed(R(0, 1)) + feed(R(1, 2)))
    write('t1_card', 'resynch_' + tag, bytes([e, 32, 150]) + feed(I(0, 0, cmd)) +
          feed(S(0xC0)) + feed(I(0, 0, cmd)))
    write('t1_card', 'abort_' + tag, bytes([e, 32, 150]) + feed(I(0, 1, bytes(32))) +
          feed(S(0xC2)) + feed(I(1, 0, cmd)))
    write('t1_card', 'card_abort_' + tag, bytes([e, 32, 150]) + b'\xE0' +
          feed(I(0, 0, bytes(60))) + ABORT + feed(R(1)) + feed(S(0xE2)) + feed(I(1, 0, cmd)))
    write('t1_card', 'overflow_' + tag, bytes([e, 32, 10]) + feed(I(0, 1, bytes(32))) +
          feed(S(0xE2)))
print('seeds written')
