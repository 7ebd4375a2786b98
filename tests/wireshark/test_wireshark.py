#!/usr/bin/env python3
"""The Wireshark dissector (tools/wireshark/cardlink.lua) against tshark.

    test_wireshark.py SRCROOT [--write]

Writes its own capture: every ```hex example=NAME message of docs/protocol.md
on a TCP connection to port 7817 (device and server each in their direction,
two messages in one segment, one message split across two segments), a
second connection on another port that only the heuristic finds, and the
```frame example=NAME lossy-link frames of §13.4 (plus a frame built here
that needs escaping and one with a bad CRC) as UDP datagrams to port 7818.
Runs tshark with the dissector and compares the Info column of every packet
and every field the dissector adds (PDML name and showname, in tree order)
with tests/wireshark/expected.txt exactly. --write rewrites that file.
Exit 77 (skipped) when tshark is not installed.
"""
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

TCP_PORT = 7817
UDP_PORT = 7818
HEUR_PORT = 5555


def examples(root):
    """(kind, name, bytes) of every example block, in file order."""
    text = open(os.path.join(root, 'docs', 'protocol.md')).read()
    out = []
    for m in re.finditer(r'```(hex|frame) ([^\n]*)\n(.*?)```', text, re.S):
        attrs = dict(a.split('=', 1) for a in m.group(2).split())
        if 'example' not in attrs:
            continue
        hexs = ''.join(line.split('#')[0] for line in m.group(3).splitlines())
        out.append((m.group(1), attrs['example'], bytes.fromhex(hexs.replace(' ', ''))))
    return out


def crc16(data):
    """CRC-16/MCRF4XX (§13.1)."""
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc


def frame(content, bad_crc=False):
    crc = crc16(content) ^ (0x0001 if bad_crc else 0)
    raw = content + struct.pack('<H', crc)
    esc = bytearray()
    for b in raw:
        if b in (0x7E, 0x7D):
            esc += bytes([0x7D, b ^ 0x20])
        else:
            esc.append(b)
    return b'\x7e' + bytes(esc) + b'\x7e'


def csum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class Pcap:
    """Ethernet/IPv4/TCP and UDP packets in a classic pcap file."""

    def __init__(self):
        self.packets = []
        self.tcp_seq = {}

    def _ip(self, src, dst, proto, l4):
        hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(l4), len(self.packets) + 1, 0x4000,
                          64, proto, 0, bytes(src), bytes(dst))
        hdr = hdr[:10] + struct.pack('!H', csum(hdr)) + hdr[12:]
        eth = b'\x02\0\0\0\0\x01' + b'\x02\0\0\0\0\x02' + b'\x08\x00'
        self.packets.append(eth + hdr + l4)

    def tcp(self, src, sport, dst, dport, payload):
        key = (tuple(src), sport, tuple(dst), dport)
        seq = self.tcp_seq.get(key, 1000)
        self.tcp_seq[key] = seq + len(payload)
        ack = self.tcp_seq.get((tuple(dst), dport, tuple(src), sport), 1000)
        hdr = struct.pack('!HHIIBBHHH', sport, dport, seq, ack, 5 << 4, 0x18, 65535, 0, 0)
        pseudo = bytes(src) + bytes(dst) + struct.pack('!BBH', 0, 6, len(hdr) + len(payload))
        c = csum(pseudo + hdr + payload)
        hdr = hdr[:16] + struct.pack('!H', c) + hdr[18:]
        self._ip(src, dst, 6, hdr + payload)

    def udp(self, src, sport, dst, dport, payload):
        hdr = struct.pack('!HHHH', sport, dport, 8 + len(payload), 0)
        self._ip(src, dst, 17, hdr + payload)

    def write(self, path):
        with open(path, 'wb') as f:
            f.write(struct.pack('<IHHiIII', 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
            for i, p in enumerate(self.packets):
                f.write(struct.pack('<IIII', 1700000000 + i, 0, len(p), len(p)))
                f.write(p)


DEV, SRV = [10, 0, 0, 2], [10, 0, 0, 1]


def from_server(msg):
    """Server-to-device types: HELLO-ACK and the requests (even 20..2E)."""
    t = msg[1]
    return t == 0x02 or (0x20 <= t <= 0x2F and t % 2 == 0)


def build_capture(root, path):
    ex = examples(root)
    msgs = [(n, b) for k, n, b in ex if k == 'hex']
    frames = [(n, b) for k, n, b in ex if k == 'frame']
    cap = Pcap()
    notes = []
    split_done = pair_done = False
    i = 0
    while i < len(msgs):
        name, m = msgs[i]
        direction = (SRV, TCP_PORT, DEV, 40001) if from_server(m) else (DEV, 40001, SRV, TCP_PORT)
        if name == 'reader-status' and not pair_done and i + 1 < len(msgs):
            # two device messages in one segment
            cap.tcp(*direction, m + msgs[i + 1][1])
            notes.append('%d: %s + %s in one segment' % (len(cap.packets), name, msgs[i + 1][0]))
            pair_done = True
            i += 2
            continue
        if name == 'txn-approve' and not split_done:
            # one message across two segments (reassembled)
            cap.tcp(*direction, m[:50])
            cap.tcp(*direction, m[50:])
            notes.append('%d-%d: %s split at byte 50' % (len(cap.packets) - 1, len(cap.packets), name))
            split_done = True
            i += 1
            continue
        cap.tcp(*direction, m)
        notes.append('%d: %s' % (len(cap.packets), name))
        i += 1
    by = dict(msgs)
    # another port: only the heuristic finds it
    cap.tcp(DEV, 40002, SRV, HEUR_PORT, by['hello'])
    notes.append('%d: hello on port %d (heuristic)' % (len(cap.packets), HEUR_PORT))
    cap.tcp(SRV, HEUR_PORT, DEV, 40002, by['hello-ack'])
    notes.append('%d: hello-ack on port %d (heuristic)' % (len(cap.packets), HEUR_PORT))
    for name, f in frames:
        cap.udp(DEV if name != 'lossy-ack' else SRV, 40003, SRV, UDP_PORT, f)
        notes.append('%d: %s' % (len(cap.packets), name))
    # a DATA+ACK frame (epochs 3/5, seq 7D, ack 00) carrying the APDU example,
    # and a frame with a bad CRC (dropped), in one datagram sharing the flag
    f1 = frame(bytes([0x03, 0x35, 0x7D, 0x00]) + by['apdu'])
    f2 = frame(bytes([0x01, 0x35, 0x7E, 0x00]) + by['keepalive'], bad_crc=True)
    cap.udp(DEV, 40003, SRV, UDP_PORT, f1 + f2[1:])
    notes.append('%d: lossy apdu (escaped seq 7D) + keepalive with a bad CRC' % len(cap.packets))
    cap.write(path)
    return notes


def tshark(args, lua):
    cmd = ['tshark', '-n', '-o', 'tcp.check_checksum:FALSE', '-X', 'lua_script:' + lua] + args
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0 or 'Lua: Error' in r.stderr or 'lua_script' in r.stderr:
        sys.stderr.write(r.stderr)
        raise SystemExit('tshark failed: %s' % ' '.join(cmd))
    return r.stdout


def walk(el, depth, out):
    for f in el:
        name = f.get('name', '')
        label = f.get('showname') or f.get('show') or ''
        out.append('  ' * depth + '%s: %s' % (name or '-', label))
        walk(f, depth + 1, out)


def decode(pcap, lua):
    info = tshark(['-r', pcap, '-T', 'fields', '-e', 'frame.number', '-e', '_ws.col.Info'], lua)
    pdml = tshark(['-r', pcap, '-T', 'pdml'], lua)
    if 'Lua Error' in pdml or 'Lua Error' in info:
        raise SystemExit('the dissector raised a Lua error:\n' +
                         '\n'.join(l for l in pdml.splitlines() if 'Lua Error' in l))
    lines = []
    infos = {}
    for line in info.splitlines():
        num, _, text = line.partition('\t')
        infos[num] = text
    root = ET.fromstring(pdml)
    for pkt in root.findall('packet'):
        num = pkt.find("proto[@name='geninfo']/field[@name='num']").get('show')
        lines.append('packet %s: %s' % (num, infos.get(num, '')))
        for proto in pkt.findall('proto'):
            if proto.get('name') in ('cardlink', 'cardlink_lossy'):
                lines.append('  [%s] %s' % (proto.get('name'), proto.get('showname')))
                walk(proto, 2, lines)
            elif proto.get('name') == '_ws.expert':
                for f in proto.iter('field'):
                    if f.get('name') == '_ws.expert.message':
                        lines.append('  [expert] %s' % f.get('show'))
    return lines


def main():
    root = sys.argv[1]
    write = '--write' in sys.argv[2:]
    if shutil.which('tshark') is None:
        print('tshark is not installed: skipped')
        return 77
    lua = os.path.join(root, 'tools', 'wireshark', 'cardlink.lua')
    expected_path = os.path.join(root, 'tests', 'wireshark', 'expected.txt')
    with tempfile.TemporaryDirectory() as d:
        pcap = os.path.join(d, 'cardlink.pcap')
        notes = build_capture(root, pcap)
        got = ['# ' + n for n in notes] + decode(pcap, lua)
    if write:
        with open(expected_path, 'w') as f:
            f.write('\n'.join(got) + '\n')
        print('wrote %s (%d lines)' % (expected_path, len(got)))
        return 0
    want = open(expected_path).read().splitlines()
    if got == want:
        print('%d packets, %d lines as expected' % (sum(1 for l in got if l.startswith('packet ')), len(got)))
        return 0
    import difflib
    sys.stdout.writelines(difflib.unified_diff([l + '\n' for l in want], [l + '\n' for l in got],
                                               'expected.txt', 'tshark'))
    return 1


if __name__ == '__main__':
    sys.exit(main())
