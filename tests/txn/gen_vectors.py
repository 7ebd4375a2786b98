#!/usr/bin/env python3
"""Independent model of the canonical transaction encoding (docs/transaction.md)
and of the to-be-signed bytes, used to produce the documented hex examples and
the SHA-256 digest vectors of tests/txn/test_txn.c. Run: python3 gen_vectors.py
"""
import hashlib

def tlv(tag, value):
    n = len(value)
    if n < 0x80:
        ln = bytes([n])
    elif n < 0x100:
        ln = bytes([0x81, n])
    else:
        ln = bytes([0x82, n >> 8, n & 0xFF])
    return bytes([tag]) + ln + value

def uint(v):
    b = v.to_bytes(6, 'big').lstrip(b'\0')
    return b or b'\0'

def bcd2(v):
    return bytes([((v // 10) << 4) | (v % 10)])

TRANSLIT = {}
for cp in range(0xC0, 0x100):
    base = "AAAAAAACEEEEIIIIDNOOOOO*OUUUUYTsaaaaaaaceeeeiiiidnooooo*ouuuuyty"[cp - 0xC0]
    extra = {0xC6: 'E', 0xDE: 'H', 0xDF: 's', 0xE6: 'e', 0xFE: 'h'}.get(cp, '')
    TRANSLIT[chr(cp)] = base + extra

def display(s):
    return ''.join(TRANSLIT.get(c, c) for c in s)

def encode(t, disp=False):
    txt = (lambda s: display(s).encode()) if disp else (lambda s: s.encode('utf-8'))
    body = tlv(0x80, t['id']) + tlv(0x81, bytes([t['kind']]))
    if 'amount' in t:
        cur, exp = t['currency']
        body += tlv(0x82, uint(t['amount']))
        body += tlv(0x83, bcd2(cur // 100) + bcd2(cur % 100) + bytes([exp]))
    y, mo, d, h, mi, s = t['time']
    body += tlv(0x84, bcd2(y // 100) + bcd2(y % 100) + b''.join(bcd2(v) for v in (mo, d, h, mi, s)))
    body += tlv(0x85, txt(t['merchant']))
    if t.get('items'):
        items = b''
        for it in t['items']:
            v = tlv(0x80, txt(it['desc']))
            q = it.get('qty', 1)
            if q != 1:
                v += tlv(0x81, q.to_bytes(1 if q < 256 else 2, 'big'))
            if 'unit' in it:
                v += tlv(0x82, uint(it['unit']))
            items += tlv(0xA0, v)
        body += tlv(0xA6, items)
    if t.get('text'):
        body += tlv(0x87, txt(t['text']))
    if t.get('challenge') and not disp:
        body += tlv(0x88, t['challenge'])
    return tlv(0xE1, body)

def tbs(t, challenge=None):
    ch = challenge or t['challenge']
    return b'cardlink-txn-v1\0' + encode(t, True) + ch

ID = bytes.fromhex('3F2A910C5BE847D2A6137C09E4B568F1')
CH = bytes.fromhex('C45D197A0BE268F3')

EXAMPLES = {
    'minimal purchase': dict(id=ID, kind=1, amount=12345, currency=(978, 2),
                             time=(2024, 5, 1, 14, 3, 0), merchant='Cafe Rosa'),
    'full purchase': dict(id=bytes(range(0x10, 0x20)), kind=1, amount=700, currency=(978, 2),
                          time=(2024, 2, 29, 23, 59, 59), merchant='B\u00e4ckerei M\u00fcller',
                          items=[dict(desc='Croissant', qty=3, unit=120),
                                 dict(desc='Kaffee gro\u00df', unit=280),
                                 dict(desc='Tasche', qty=2)],
                          text='Danke f\u00fcr Ihren Einkauf!', challenge=CH),
    'authentication': dict(id=bytes([0xA5] * 16), kind=2, time=(2025, 12, 31, 0, 0, 1),
                           merchant='Example Bank Online'),
    'purse payment': dict(id=bytes.fromhex('9C4E21D708B35AF6136E82C9047DE53B'), kind=6,
                          amount=250, currency=(978, 2), time=(2025, 3, 14, 8, 15, 30),
                          merchant='City Transit', text='Day ticket zone A-B'),
}

if __name__ == '__main__':
    for name, t in EXAMPLES.items():
        e = encode(t)
        print(name, len(e))
        print('  enc ', e.hex().upper())
        ch = None if t.get('challenge') else CH
        b = tbs(t, ch)
        print('  tbs ', b.hex().upper())
        print('  sha ', hashlib.sha256(b).hexdigest().upper())
