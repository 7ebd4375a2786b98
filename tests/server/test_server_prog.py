#!/usr/bin/env python3
"""cardlink-server end to end on loopback (issue 12).

    test_server_prog.py CARDLINK_SERVER CARDLINK_PKI VERSION

A test PKI from cardlink-pki; the server on a free port. `openssl s_client`
with the device certificate completes the handshake, sends protocol.md's
HELLO example and gets a HELLO-ACK; without a certificate, or with a card's,
the handshake is refused. A small scripted device (Python's ssl, the relay
protocol by hand: HELLO, CARD-INSERTED, answers from the test PKI's files)
runs the flow list auth, purchase:1, egoods:HEX: the holder declines the
first two, the e-goods load is approved; the decision lines, the CLOSE at
the end and the operator tables (empty before, the two ledger rows after)
are checked. Enrolment (--devices) refuses an unknown fingerprint and a
device id other than the enrolled one. SIGTERM stops the server (exit 0).
"""
import os
import re
import select
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time

checks = failures = 0
HELLO = bytes.fromhex(
    'C1 01 00 00 00 00 00 29 80 01 01 81 07 43 4C 2D 30 30 30 31 A2 1B 80 01 03'
    ' 81 02 10 02 82 01 07 84 02 04 00 85 04 01 05 01 02 86 02 00 FF 87 01 20')
CARD_INSERTED = bytes.fromhex('C1 30 00 01 00 00 00 09 80 04 3B 02 14 50 81 01 00')
EGOODS = '45474f4f44532d544553542d30303031' + '00112233'


def check(ok, what):
    global checks, failures
    checks += 1
    if not ok:
        failures += 1
        print('FAIL: ' + what)
    return ok


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=60, **kw)


class Server:
    def __init__(self, prog, args):
        self.p = subprocess.Popen([prog] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines = []
        self.part = b''
        self.port = None
        line = self.wait(r'listening on \S+ port (\d+)')
        if line:
            self.port = int(re.search(r'port (\d+)', line).group(1))

    def wait(self, pattern, timeout=20, count=1):
        """The count-th line (of all read so far) matching pattern."""
        rx = re.compile(pattern)
        end = time.time() + timeout
        while True:
            hits = [line for line in self.lines if rx.search(line)]
            if len(hits) >= count:
                return hits[count - 1]
            left = end - time.time()
            if left <= 0:
                return None
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if not r:
                return None
            chunk = os.read(self.p.stdout.fileno(), 65536)
            if not chunk:
                return None
            self.part += chunk
            while b'\n' in self.part:
                line, self.part = self.part.split(b'\n', 1)
                self.lines.append(line.decode(errors='replace'))

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            outs, errs = self.p.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            outs, errs = self.p.communicate()
        self.lines += (self.part + outs).decode(errors='replace').splitlines()
        self.part = b''
        self.stderr = errs.decode(errors='replace')
        return self.p.returncode


def s_client(port, pki, cert=None, key=None, data=b'', linger=1.0):
    """openssl s_client; returns (exit code, bytes received, stderr)."""
    cmd = ['openssl', 's_client', '-connect', '127.0.0.1:%d' % port, '-quiet',
           '-CAfile', os.path.join(pki, 'ca.pem'), '-verify_return_error']
    if cert:
        cmd += ['-cert', cert, '-key', key]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    got = b''
    try:
        if data:
            p.stdin.write(data)
            p.stdin.flush()
        end = time.time() + linger + 4
        while time.time() < end:
            r, _, _ = select.select([p.stdout], [], [], 0.2)
            if r:
                chunk = os.read(p.stdout.fileno(), 4096)
                if not chunk:
                    break
                got += chunk
                if len(got) >= 8 and len(got) >= 8 + struct.unpack('>H', got[6:8])[0]:
                    break
            elif p.poll() is not None:
                break
    finally:
        if p.poll() is None:
            p.kill()
        _, err = p.communicate()
    return p.returncode, got, err.decode(errors='replace')


# ------------------------------------------------------------ scripted device

def tlv(tag, value):
    n = len(value)
    if n < 0x80:
        ln = bytes([n])
    elif n < 0x100:
        ln = bytes([0x81, n])
    else:
        ln = bytes([0x82, n >> 8, n & 0xFF])
    return bytes([tag]) + ln + value


def parse_tlvs(body):
    out, i = [], 0
    while i < len(body):
        tag = body[i]
        n = body[i + 1]
        i += 2
        if n == 0x81:
            n = body[i]
            i += 1
        elif n == 0x82:
            n = body[i] << 8 | body[i + 1]
            i += 2
        out.append((tag, body[i:i + n]))
        i += n
    return out


class Device:
    """The device's side of the relay protocol, by hand, over TLS."""

    def __init__(self, port, pki, device_hello=HELLO):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(os.path.join(pki, 'ca.pem'))
        ctx.load_cert_chain(os.path.join(pki, 'device.pem'), os.path.join(pki, 'device.key.pem'))
        raw = socket.create_connection(('127.0.0.1', port), timeout=10)
        self.s = ctx.wrap_socket(raw, server_hostname='localhost')
        self.buf = b''
        self.items = set()    # e-goods item ids the card holds
        self.seq = 0          # last sequenced message sent
        self.peer = 0         # last sequenced message received
        self.files = {
            1: open(os.path.join(pki, 'card.der'), 'rb').read(),
            2: open(os.path.join(pki, 'issuer.der'), 'rb').read(),
            6: open(os.path.join(pki, 'card-sign.der'), 'rb').read(),
        }
        self.s.sendall(device_hello)

    def recv(self, timeout=15):
        end = time.time() + timeout
        while True:
            if len(self.buf) >= 8:
                n = struct.unpack('>H', self.buf[6:8])[0]
                if len(self.buf) >= 8 + n:
                    msg, self.buf = self.buf[:8 + n], self.buf[8 + n:]
                    typ, seq = msg[1], msg[3]
                    if typ >= 0x10:
                        self.peer = seq
                    return typ, seq, msg[8:]
            self.s.settimeout(max(0.1, end - time.time()))
            chunk = self.s.recv(4096)
            if not chunk:
                return None, None, b''
            self.buf += chunk

    def send(self, typ, body, ref=None):
        self.seq += 1
        flags = 0x01 | (0x04 if ref is not None else 0)
        hdr = bytes([0xC1, typ, flags, self.seq, self.peer, ref or 0]) + struct.pack('>H', len(body))
        self.s.sendall(hdr + body)

    def card_answer(self, apdu, cur):
        ins, p1 = apdu[1], apdu[2]
        if ins == 0xB0:
            if p1 & 0x80:
                cur[0] = p1 & 0x1F
                piece = 0
            else:
                piece = p1
            data = self.files.get(cur[0], b'')[256 * piece:256 * piece + 256]
            return data + b'\x90\x00' if data else b'\x6B\x00'
        if ins == 0xE2:   # APPEND RECORD of e-goods: Lc, len, payload (item id first)
            item = bytes(apdu[6:22])
            if item in self.items:
                return b'\x6A\x89'
            self.items.add(item)
            return b'\x90\x00'
        if ins == 0x5C:   # GET BALANCE: balance currency counter serial
            return struct.pack('>IHI', 1000, 978, 3) + bytes.fromhex('0102030405060708') + b'\x90\x00'
        return b'\x90\x00'

    def serve(self):
        """Answer requests until CLOSE; returns the CLOSE's body."""
        self.send(CARD_INSERTED[1], CARD_INSERTED[8:])
        cur = [0]
        while True:
            typ, seq, body = self.recv()
            if typ is None:
                return None
            if typ == 0x04:
                return body
            if typ == 0x22:      # SCRIPT
                resps = b''
                for tag, val in parse_tlvs(body):
                    if tag == 0xA2:
                        for t2, v2 in parse_tlvs(val):
                            if t2 == 0x80:
                                resps += tlv(0x80, self.card_answer(v2, cur))
                self.send(0x23, tlv(0xA2, resps), ref=seq)
            elif typ == 0x20:    # APDU
                apdu = dict(parse_tlvs(body))[0x80]
                self.send(0x21, tlv(0x80, self.card_answer(apdu, cur)), ref=seq)
            elif typ == 0x2C:    # TXN-APPROVE: the holder declines
                txn_id = dict(parse_tlvs(body))[0x80]
                self.send(0x2D, tlv(0x80, txn_id) + tlv(0x81, b'\x01'), ref=seq)

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


# ------------------------------------------------------------ the test

def main():
    prog, pki_tool, version = sys.argv[1:4]
    prog = os.path.abspath(prog)
    tmp = tempfile.mkdtemp(prefix='cl-srvprog-')
    try:
        return test(prog, os.path.abspath(pki_tool), version, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test(prog, pki_tool, version, tmp):
    pki = os.path.join(tmp, 'pki')
    os.mkdir(pki)
    r = run([pki_tool, 'testpki', pki])
    if not check(r.returncode == 0, 'cardlink-pki testpki: %s' % r.stderr):
        return 1
    for name in ('device', 'card'):
        r = run(['openssl', 'pkey', '-inform', 'DER', '-in', os.path.join(pki, name + '.key.der'),
                 '-out', os.path.join(pki, name + '.key.pem')])
        check(r.returncode == 0, 'openssl pkey %s: %s' % (name, r.stderr))
    with open(os.path.join(pki, 'ca.pem'), 'w') as f:
        for name in ('server-ca', 'root'):
            f.write(open(os.path.join(pki, name + '.pem')).read())
    db = os.path.join(tmp, 'ledger.db')

    # --help, --version, usage errors
    r = run([prog, '--help'])
    check(r.returncode == 0 and r.stdout.startswith('usage: cardlink-server'), '--help')
    r = run([prog, '--version'])
    check(r.returncode == 0 and r.stdout == 'cardlink-server %s\n' % version,
          '--version: %r' % r.stdout)
    r = run([prog, '--bogus'])
    check(r.returncode == 2 and r.stdout == '' and 'usage: cardlink-server' in r.stderr,
          'bad option: exit %d' % r.returncode)
    r = run([prog, '--db', db, '--listen', '127.0.0.1:0', '--pki', pki, '--flows', 'fly'])
    check(r.returncode == 2, 'bad --flows: exit %d' % r.returncode)
    r = run([prog, '--db', db, 'txns'])
    check(r.returncode == 1 and not os.path.exists(db), 'txns on a missing database: exit %d'
          % r.returncode)

    cat = os.path.join(tmp, 'catalogue.txt')
    with open(cat, 'w') as f:
        f.write('# id price currency text\n1 3.20 EUR Tea\n2 12.50 EUR Sandwich\n')
    srv = Server(prog, ['--listen', '127.0.0.1:0', '--pki', pki, '--db', db, '--catalogue', cat,
                        '--flows', 'auth,purchase:1,egoods:' + EGOODS + ',egoods:' + EGOODS])
    if not check(srv.port is not None, 'server listening: %r' % srv.lines):
        srv.stop()
        return 1
    port = srv.port

    # operator tables, empty, while the server runs (WAL: readers do not wait)
    empty = {'txns': '0 transaction(s)', 'balances': '0 account(s)', 'devices': '0 device(s)'}
    for cmd, last in empty.items():
        r = run([prog, '--db', db, cmd])
        rows = r.stdout.splitlines()
        check(r.returncode == 0 and len(rows) == 2 and rows[-1] == last,
              'empty %s: %r' % (cmd, r.stdout))

    # s_client with the device certificate: HELLO -> HELLO-ACK
    rc, got, err = s_client(port, pki, os.path.join(pki, 'device.pem'),
                            os.path.join(pki, 'device.key.pem'), HELLO)
    check(got[:2] == b'\xC1\x02' and got[8:13] == bytes.fromhex('8001018110'),
          's_client with the device certificate: HELLO-ACK, got %s (%s)' % (got.hex(), err[-200:]))
    check(srv.wait(r'TLS from 127\.0\.0\.1:\d+: TLSv1\.3 \S+, device certificate '
                   r'"CN=cardlink test device 0001, O=cardlink test" fingerprint [0-9a-f]{64}$')
          is not None, 'TLS line with subject and fingerprint')
    check(srv.wait(r'^server: device CL-0001 \(fingerprint [0-9a-f]{16}\.\.\) connected, TLS 1\.3$')
          is not None, 'device connected line')
    check(srv.wait(r'device CL-0001: connection ended') is not None, 's_client end seen')

    # without a certificate, and with a card's: refused
    n_refused = 0
    for what, cert, key in (('no certificate', None, None),
                            ('a card certificate', os.path.join(pki, 'card.pem'),
                             os.path.join(pki, 'card.key.pem'))):
        rc, got, err = s_client(port, pki, cert, key, HELLO)
        check(rc != 0 and not got.startswith(b'\xC1\x02'),
              's_client with %s: rc %d, got %s' % (what, rc, got.hex()))
        n_refused += 1
        check(srv.wait(r'refused: TLS handshake: certificate not trusted', 5, n_refused)
              is not None, 'server refused %s' % what)

    # a scripted device: auth (declined), purchase:1 (declined), e-goods (approved), the
    # same e-goods again (the card answers 6A89: the ledger has the item paid)
    dev = Device(port, pki)
    close = dev.serve()
    dev.close()
    check(close is not None, 'CLOSE at the end of the list')
    check(srv.wait(r'device CL-0001: card inserted, ATR 3b021450$') is not None, 'card line')
    check(srv.wait(r'^server: authentication [0-9a-f]{12}\.\. card 0102030405060708: DECLINED '
                   r'by the holder, 1 attempt\(s\)$') is not None, 'auth line')
    check(srv.wait(r'^server: purchase [0-9a-f]{12}\.\. EUR 3\.20 "Demo Shop" by card '
                   r'[0-9a-f]{12}\.\.: DECLINED by the holder$') is not None, 'purchase line')
    check(srv.wait(r'^server: e-goods [0-9a-f]{12}\.\. item 45474f4f44532d54\.\. card '
                   r'0102030405060708: APPROVED$') is not None, 'e-goods line')
    check(srv.wait(r'^server: e-goods [0-9a-f]{12}\.\. item 45474f4f44532d54\.\. card '
                   r'0102030405060708: FAILED \(the card holds the item, paid already: not '
                   r'charged\)$') is not None, 'e-goods again line')
    check(srv.wait(r'^server: device CL-0001: 4 flow\(s\) done, closing the session$')
          is not None, 'list done line')

    # the operator tables after
    r = run([prog, '--db', db, 'txns'])
    print(r.stdout)
    rows = r.stdout.splitlines()
    check(r.returncode == 0 and rows[-1] == '3 transaction(s)' and
          re.search(r'CL-0001\s+egoods\s+0102030405060708\s+EUR 0\.00\s+FAILED$', rows[1]) and
          re.search(r'CL-0001\s+egoods\s+0102030405060708\s+EUR 0\.00\s+APPROVED$', rows[2]) and
          re.search(r'CL-0001\s+purchase\s+[0-9a-f]{16}\.\.\s+EUR -3\.20\s+DECLINED$', rows[3]),
          'txns after: %r' % r.stdout)
    r = run([prog, '--db', db, 'devices'])
    rows = r.stdout.splitlines()
    check(r.returncode == 0 and rows[-1] == '1 device(s)' and
          re.match(r'CL-0001\s+\S+Z\s+\S+Z\s+3$', rows[1]), 'devices after: %r' % r.stdout)
    r = run([prog, '--db', db, 'balances'])
    rows = r.stdout.splitlines()
    check(r.returncode == 0 and rows[0].startswith('ACCOUNT') and
          re.match(r'\d+ account\(s\)$', rows[-1]), 'balances after: %r' % r.stdout)

    rc = srv.stop()
    check(rc == 0 and srv.lines[-1].startswith('server: stopped after'),
          'SIGTERM: exit %d, last %r' % (rc, srv.lines[-1:]))
    check(not any(re.search(r'PIN|key\.der|BEGIN', l) for l in srv.lines), 'no secret logged')
    print('\n'.join(srv.lines))

    # enrolment: an unknown fingerprint; the device's under another id
    fp = re.search(r'fingerprint ([0-9a-f]{64})', '\n'.join(srv.lines)).group(1)
    enrol = os.path.join(tmp, 'devices.txt')
    for content, pattern in ((('00' * 32) + ' CL-0001\n', r'refused: fingerprint [0-9a-f]{16}\.\. '
                              r'is not enrolled'),
                             (fp + ' CL-0002\n', r'device CL-0001 \(fingerprint [0-9a-f]{16}\.\.\) '
                              r'refused: its certificate is enrolled as CL-0002')):
        with open(enrol, 'w') as f:
            f.write('# fingerprint device-id\n' + content)
        srv = Server(prog, ['--listen', '127.0.0.1:0', '--pki', pki, '--db', db, '--devices',
                            enrol, '--once'])
        if srv.port is None:
            check(False, 'server with --devices: %r' % srv.lines)
            srv.stop()
            continue
        rc, got, err = s_client(srv.port, pki, os.path.join(pki, 'device.pem'),
                                os.path.join(pki, 'device.key.pem'), HELLO)
        if 'not enrolled' in pattern:
            check(got == b'', 'not enrolled: nothing on the wire: %s' % got.hex())
        check(srv.wait(pattern) is not None, 'enrolment: %s' % pattern)
        try:
            srv.p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        rc = srv.stop()
        check(rc == 0, '--once: exit %d' % rc)

    print('%d checks, %d failures' % (checks, failures))
    if failures:
        print('\n'.join(srv.lines))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
