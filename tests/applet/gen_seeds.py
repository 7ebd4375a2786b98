# Writes the seed corpus of fuzz/fuzz_applet.c: run from fuzz/corpus/applet.
# Records: [L][L bytes] an APDU; FF a card reset; FE a power cut at the
# next write of the store (image version 2: DEBIT names the payee, INTERNAL
# AUTHENTICATE takes 8..96 bytes, EF 0104 / SFI 6 is the signing cert).
import struct, os
def mix(d):
    h = 2166136261
    for b in d:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    out = []
    for i in range(32):
        h = ((h ^ i) * 16777619) & 0xFFFFFFFF
        out.append(h >> 24)
    return bytes(out)
SERIAL = b'\x11' * 8
def H(s): return bytes.fromhex(s)
def rec(apdus):
    out = b''
    for a in apdus:
        if a is None: out += b'\xff'
        elif a == 'CUT': out += b'\xfe'
        else: out += bytes([len(a)]) + a
    return out
def fsig(h): return bytes([0x30, 6, 2, 1, h[0], 2, 1, 0x42])
SEL = H('00A4040C07F0434C504159 01'.replace(' ', ''))
PIN_OK = H('002000800824 1234FFFFFFFFFF'.replace(' ', ''))
PIN_BAD = H('0020008008241235FFFFFFFFFF')
PUK_OK = H('002C0180082812345678FFFFFF')
def credit(amount, ctr, txid=b'\x3f' * 16, good=True):
    body = struct.pack('>II', amount, ctr) + txid
    h = mix(b'CLCR' + SERIAL + body)
    sig = fsig(h) if good else fsig(bytes([h[0] ^ 1]))
    return bytes([0x80, 0x52, 0, 0, len(body) + len(sig)]) + body + sig + b'\x00'
PAYEE = b'Demo Shop' + b'\x00' * 7
def debit(amount, ctr, txid=b'\x3e' * 16, payee=PAYEE):
    body = struct.pack('>II', amount, ctr) + txid + payee
    return bytes([0x80, 0x54, 0, 0, len(body)]) + body + b'\x00'
def egoods(idb, plen, good=True):
    payload = bytes([idb]) * 16 + bytes(range(plen - 16))
    h = mix(b'CLEG' + SERIAL + payload)
    sig = fsig(h) if good else fsig(bytes([h[0] ^ 1]))
    data = bytes([plen]) + payload + sig
    return bytes([0, 0xE2, 0, 0x20, len(data)]) + data
def txrec(i):
    return bytes([0, 0xE2, 0, 0x28, 43]) + bytes([i]) * 43
PSO = H('002A9E9A20') + bytes(range(32)) + b'\x00'
# BLOCK (image version 3): the issuer's signature over CLBK serial and the
# last GET CHALLENGE (the test crypto's random is 5A..)
GETCHAL = H('0084000008')
def block(good=True, chal=b'\x5a' * 8):
    h = mix(b'CLBK' + SERIAL + chal)
    sig = fsig(h) if good else fsig(bytes([h[0] ^ 1]))
    return bytes([0x80, 0x1E, 0, 0, len(sig)]) + sig
seeds = {
 'select': [SEL, H('00A4040007F0434C50415901 00'.replace(' ', '')), H('00A4040C07F0434C50415902')],
 'select_ef_fcp': [H('00A4020402010100'), H('00A4020402020200'), H('00A4000C023F00')],
 'read_binary': [H('00A4020C020101'), H('00B0000000'), H('00B0001000'), H('00B0820005'), H('00B0000000 0100'.replace(' ', ''))],
 'read_binary_errors': [H('00B0000001'), H('00B0840004'), H('00B0890004'), H('00B0000028')],
 'verify_ok_pso': [PIN_OK, PSO, PSO],
 'verify_counter': [H('00200080'), PIN_BAD, PIN_BAD, PIN_BAD, PIN_BAD, PIN_OK, H('00200080')],
 'puk_unblock': [PIN_BAD, PIN_BAD, PIN_BAD, PUK_OK, H('00200080'), PIN_OK],
 'puk_new_pin': [H('002C0080102812345678FFFFFF266543 21FFFFFFFF'.replace(' ', '')), H('0020008008266543 21FFFFFFFF'.replace(' ', ''))],
 'puk_block': [H('002C0180082812345679FFFFFF')] * 11 + [PUK_OK],
 'change_pin': [H('00240080102412 34FFFFFFFFFF2665432 1FFFFFFFF'.replace(' ', '')), PSO],
 'verify_reset': [PIN_OK, None, PSO, PIN_OK, H('0020FF80'), PSO],
 'credit': [H('805C000000'), credit(500, 5)],
 'credit_replay': [credit(500, 5), credit(500, 5), credit(500, 6)],
 'credit_forged': [credit(500, 5, good=False)],
 'credit_overflow': [credit(99001, 5), credit(99000, 5), credit(1, 6)],
 'credit_zero': [credit(0, 5)],
 'debit': [PIN_OK, debit(300, 5), debit(300, 6)],
 'debit_replay': [PIN_OK, debit(300, 5), PIN_OK, debit(300, 5)],
 'debit_insufficient': [PIN_OK, debit(1001, 5), PIN_OK, debit(1000, 5)],
 'credit_debit': [credit(50, 5), PIN_OK, debit(1050, 6), H('805C000000')],
 'egoods': [egoods(0x21, 40), H('00B2012400'), H('8056010004DEADBEEF00'), H('8056010000'), H('00B2012400')],
 'egoods_dup_forged': [egoods(0x21, 16), egoods(0x21, 16), egoods(0x22, 20, good=False)],
 'egoods_full': [egoods(0x30 + i, 16 + i) for i in range(9)],
 'txlog': [txrec(i) for i in range(1, 12)] + [H('00B2012C00'), H('00B20A2C2B'), H('00B20B2C00')],
 'txlog_current': [H('00A4020C020202'), txrec(1)[:3] + b'\x00' + txrec(1)[4:], H('00B2010400')],
 'get_data': [H('00CA7F4900'), H('00CA005A00'), H('0084000008'), H('008400000004 00'.replace(' ', ''))],
 'internal_auth': [H('0088000008C45D197A0BE268F300'), H('0088000008C45D197A0BE268F3'), H('00880000'),
                   H('0088000007C45D197A0BE268'), bytes([0, 0x88, 0, 0, 96]) + bytes(range(96)) + b'\x00',
                   bytes([0, 0x88, 0, 0, 97]) + bytes(range(97))],
 'select_sign_cert': [H('00A4020402010400'), H('00B0000000'), H('00B0860010'), H('00B2013400')],
 'debit_old_form': [PIN_OK, bytes([0x80, 0x54, 0, 0, 24]) + struct.pack('>II', 10, 5) + b'\x3e' * 16, H('00200080'),
                    debit(10, 5), debit(10, 6)],
 'debit_extended': [PIN_OK, bytes([0x80, 0x54, 0, 0, 0, 0, 40]) + struct.pack('>II', 20, 5) + b'\x3e' * 16 + PAYEE + b'\x00\x00'],
 'chaining_pin': [H('10200080'), H('1020008008241234FFFFFFFFFF'), H('00200080'), PIN_OK, H('102A9E9A20') + bytes(32)],
 'tear_verify': ['CUT', PIN_OK, H('00200080'), PIN_BAD, 'CUT', PIN_BAD, H('00200080'), PIN_OK, 'CUT', PIN_OK],
 'tear_brute': sum([['CUT', bytes.fromhex('002000800824%04dFFFFFFFFFF' % g)] for g in range(12)], []) + [PIN_OK],
 'tear_change': ['CUT', H('0024008010241234FFFFFFFFFF26654321FFFFFFFF'), H('00200080'),
                 H('0024008010241234FFFFFFFFFF26654321FFFFFFFF'), H('002000800826654321FFFFFFFF')],
 'tear_puk': [PIN_BAD, PIN_BAD, PIN_BAD, 'CUT', PUK_OK, PUK_OK, H('00200080'), 'CUT',
              H('002C0080102812345678FFFFFF26654321FFFFFFFF')],
 'tear_purse': ['CUT', credit(500, 5), credit(500, 5), PIN_OK, 'CUT', debit(300, 6), PIN_OK, debit(300, 6), H('805C000000')],
 'tear_records': ['CUT', txrec(1), txrec(2), 'CUT', egoods(0x21, 20), egoods(0x21, 20), 'CUT', H('8056010000'), H('8056010000')],
 'classes': [H('90A4040C00'), H('10200080'), H('0C200080'), H('01200080'), H('00D6000001 00'.replace(' ', ''))],
 'malformed': [H('00A404'), H('00A4040C050102'), H('00A4040C0000'), b'', b'\x00'],
 'reset_mid': [PIN_OK, None, debit(10, 5), None, None],
 'purchase_flow': [SEL, H('00B0810000'), PIN_OK, PSO, txrec(7), H('00B2012C00')],
 'block': [PIN_OK, GETCHAL, block(), SEL, PIN_OK, PSO, H('0088000008C45D197A0BE268F300'), credit(500, 5),
           debit(10, 5), PUK_OK, H('805C000000'), GETCHAL, block()],
 'block_forged': [block(), GETCHAL, block(good=False), block(), GETCHAL, None, block(), GETCHAL,
                  H('0084000004'), block(), PIN_OK, PSO],
 'tear_block': [GETCHAL, 'CUT', block(), block(), GETCHAL, block(), PIN_OK, debit(10, 5)],
}
for name, apdus in seeds.items():
    open(name, 'wb').write(rec(apdus))
print(len(seeds))
