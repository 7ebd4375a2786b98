#!/usr/bin/env python3
# cardlink — independent model of ISO 7816-3 §11 T=1 block encoding, used to
# write the exact line bytes of the scenarios in test_t1.c (t1_vectors.inc).
# SPDX-License-Identifier: Apache-2.0
#
# Step language (one scenario = ';'-separated steps), the transcript
# notation of every cardlink suite: R is what the Reader sends (reader ->
# card), C what the Card sends (card -> reader), whichever role the engine
# under test plays:
#   R HEX, C HEX  line bytes: the engine under test must want SEND and pull
#           exactly HEX when it is the sender; else HEX is fed in one call
#           (all consumed);  R1 HEX, C1 HEX  fed byte by byte
#   T  timeout      P  parity error      W N  want RECV with timer N etu (0: none)
#   D N [HEX]  reader DONE with result N (and response HEX)
#   I  want IDLE    X  FAILED (CL_ERR_RESYNCH; X T: CL_ERR_TIMEOUT, the card mute)
#   S HEX  reader: transmit_start(HEX)   B  cl_t1_abort()
#   G HEX  card: got the command HEX (DONE)   Y HEX  card: reply HEX
#   Q N  card: request WTX N             F N  card: request IFS N
#   N N  reader: cl_t1_request_ifs(N)    Z  reader: cl_t1_resynch()
#   J N  cl_t1_ifsd() is N
# The scenarios below write the line from the engine's side ('>' it sends,
# '<' it is fed: one scenario body serves either role); notation() turns
# those two into R/C when the file is written. Every other step is written
# as above.

def lrc(b):
    x = 0
    for c in b:
        x ^= c
    return bytes([x])

def crc(b):
    c = 0xFFFF
    for byte in b:
        c ^= byte
        for _ in range(8):
            c = (c >> 1) ^ 0x8408 if c & 1 else c >> 1
    return bytes([c >> 8, c & 0xFF])

EDC = 'lrc'

def blk(pcb, inf=b'', nad=0, edc=None, length=None):
    edc = edc or EDC
    L = len(inf) if length is None else length
    b = bytes([nad, pcb, L]) + inf
    return b + (crc(b) if edc == 'crc' else lrc(b))

def I(ns, more, inf, **k): return blk((ns << 6) | (0x20 if more else 0), inf, **k)
def R(nr, bits=0, **k): return blk(0x80 | (nr << 4) | bits, **k)
def S(pcb, inf=b'', **k): return blk(pcb, inf, **k)

def h(b): return b.hex(' ').upper()

def bad(b):   # flip the last (EDC) byte
    return b[:-1] + bytes([b[-1] ^ 0x01])

BWT = 11 + 16 * 960     # BWI 4, F 372, D 1 (§11.4.3)
CWT = 11 + (1 << 13)    # CWI 13

CMD5 = bytes.fromhex('0084000008')
RSP10 = bytes.fromhex('0102030405060708 9000')
C100 = bytes((i * 7 + 3) & 0xFF for i in range(100))
R80 = bytes((0xA0 + i) & 0xFF for i in range(78)) + b'\x90\x00'
SW = b'\x90\x00'

out = []

def sc(name, clause, role, cfg, steps):
    out.append((name, clause, role, cfg, ';'.join(steps)))

# cfg: edc, ifsc, ifsd, ifs_at_start, resp/cmd buffer size
D = dict(edc=0, ifsc=32, ifsd=254, ifs=1, buf=300)
def cfg(**k):
    c = dict(D); c.update(k); return c

# ------------------------------------------------------------------ reader
EDC = 'lrc'
sc('reader_ifs_start_lrc', '§11.4.2, EMV 9.2.4.3: IFSD 254 announced, then I(0,0)', 'R', cfg(), [
    '> ' + h(S(0xC1, b'\xFE')), 'W %d' % BWT, '< ' + h(S(0xE1, b'\xFE')), 'I',
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), 'W %d' % BWT,
    '< ' + h(I(0, 0, RSP10)), 'D 10 ' + h(RSP10)])
EDC = 'crc'
sc('reader_simple_crc', '§11.4.4 CRC, §11.6.2 rule 1 and 2', 'R', cfg(edc=1, ifs=0), [
    'I', 'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), '<1 ' + h(I(0, 0, RSP10)), 'D 10 ' + h(RSP10),
    'S 00 C0 00 00 0A', '> ' + h(I(1, 0, bytes.fromhex('00C000000A'))),
    '< ' + h(I(1, 0, SW)), 'D 2 90 00'])
EDC = 'lrc'
steps = ['S ' + h(C100)]
ns = 0
for k in range(4):
    part = C100[32 * k:32 * k + 32]
    more = k < 3
    steps.append('> ' + h(I(ns, more, part)))
    ns ^= 1
    if more:
        steps.append('< ' + h(R(ns)))
steps += ['< ' + h(I(0, 0, SW)), 'D 2 90 00']
sc('reader_chain_tx', '§11.6.2.3 rule 5: IFSC 32, 100-byte command', 'R', cfg(ifs=0), steps)
sc('reader_chain_rx', '§11.6.2.3 rule 5: response longer than IFSD 32', 'R', cfg(ifs=0), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)),
    '< ' + h(I(0, 1, R80[:32])), '> ' + h(R(1)),
    '< ' + h(I(1, 1, R80[32:64])), '> ' + h(R(0)),
    '< ' + h(I(0, 0, R80[64:])), 'D 80 ' + h(R80)])
steps = ['S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), '< ' + h(S(0xC1, b'\x40')),
         '> ' + h(S(0xE1, b'\x40')), 'W %d' % BWT, '< ' + h(I(0, 0, SW)), 'D 2 90 00',
         'S ' + h(C100), '> ' + h(I(1, 1, C100[:64])), '< ' + h(R(0)),
         '> ' + h(I(0, 0, C100[64:])), '< ' + h(I(1, 0, SW)), 'D 2 90 00']
sc('reader_card_ifs_request', '§11.6.2.2 rule 4: the card announces IFSC 64', 'R', cfg(ifs=0), steps)
sc('reader_wtx', '§11.6.2.2 rule 3: BWT x 3 for the next block only', 'R', cfg(ifs=0), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), 'W %d' % BWT,
    '< ' + h(S(0xC3, b'\x03')), '> ' + h(S(0xE3, b'\x03')), 'W %d' % (3 * BWT),
    '< ' + h(I(0, 0, RSP10)[:1]), 'W %d' % CWT, '< ' + h(I(0, 0, RSP10)[1:]), 'D 10 ' + h(RSP10),
    'S ' + h(CMD5), '> ' + h(I(1, 0, CMD5)), 'W %d' % BWT,
    '< ' + h(S(0xC3, b'\x02')), '> ' + h(S(0xE3, b'\x02')), 'W %d' % (2 * BWT),
    'T', '> ' + h(R(1, 2)), 'W %d' % BWT, '< ' + h(I(1, 0, SW)), 'D 2 90 00'])
sc('reader_bad_lrc', '§11.6.3.2 rule 7.1: EDC error, R(0) with b1 set', 'R', cfg(ifs=0), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), '< ' + h(bad(I(0, 0, RSP10))),
    '> ' + h(R(0, 1)), '< ' + h(I(0, 0, RSP10)), 'D 10 ' + h(RSP10)])
EDC = 'crc'
sc('reader_bad_crc', '§11.6.3.2 rule 7.1: CRC error', 'R', cfg(edc=1, ifs=0), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), '< ' + h(bad(I(0, 0, RSP10))),
    '> ' + h(R(0, 1)), '< ' + h(I(0, 0, RSP10)), 'D 10 ' + h(RSP10)])
EDC = 'lrc'
sc('reader_bad_len', '§11.3.2.3, rule 7.1: LEN 33 > IFSD 32, then LEN FF cut by CWT', 'R', cfg(ifs=0), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), '< ' + h(I(0, 0, bytes(33))),
    '> ' + h(R(0, 2)), '< 00 00 FF 01 02', 'W %d' % CWT, 'T', '> ' + h(R(0, 2)),
    '< ' + h(I(0, 0, SW)), 'D 2 90 00'])
sc('reader_bad_pcb', '§11.3.2.2: I-block RFU bits, unknown S type, R-block with INF', 'R', cfg(ifs=0, buf=300), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), '< ' + h(blk(0x01, SW)), '> ' + h(R(0, 2)),
    '< ' + h(blk(0xC5)), '> ' + h(R(0, 2)), '< ' + h(I(0, 0, SW)), 'D 2 90 00'])
sc('reader_bad_sequence', '§11.6.3.2: I-block with the wrong N(S)', 'R', cfg(ifs=0), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), '< ' + h(I(1, 0, SW)), '> ' + h(R(0, 2)),
    '< ' + h(I(0, 0, SW)), 'D 2 90 00'])
sc('reader_parity', '§11.6.3.2 rule 7.1: parity error, R(0) with b1 set', 'R', cfg(ifs=0), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), 'P', '< ' + h(I(0, 0, RSP10)),
    '> ' + h(R(0, 1)), '< ' + h(I(0, 0, RSP10)), 'D 10 ' + h(RSP10)])
sc('reader_timeout', '§11.6.3.2 rule 7.1: BWT exceeded (block lost)', 'R', cfg(ifs=0), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), 'T', '> ' + h(R(0, 2)),
    '< ' + h(I(0, 0, RSP10)), 'D 10 ' + h(RSP10)])
sc('reader_card_asks_repeat', '§11.6.3.2 rule 7.2: R(0) from the card repeats I(0,0)', 'R', cfg(ifs=0), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), '< ' + h(R(0, 1)), '> ' + h(I(0, 0, CMD5)),
    '< ' + h(I(0, 0, SW)), 'D 2 90 00'])
sc('reader_lost_card_ack', '§11.6.3.2 rule 7.2: the card\'s R(1) lost in a chain', 'R', cfg(ifs=0), [
    'S ' + h(C100[:40]), '> ' + h(I(0, 1, C100[:32])), 'T', '> ' + h(R(0, 2)),
    '< ' + h(R(1)), '> ' + h(I(1, 0, C100[32:40])), '< ' + h(I(0, 0, SW)), 'D 2 90 00'])
sc('reader_lost_r_block', '§11.6.3.2 rule 7.2: the reader\'s R(1) lost in the card\'s chain', 'R', cfg(ifs=0), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), '< ' + h(I(0, 1, R80[:32])), '> ' + h(R(1)),
    'T', '> ' + h(R(1, 2)), '< ' + h(I(1, 0, R80[32:40])), 'D 40 ' + h(R80[:40])])
sc('reader_resynch', '§11.6.3.2 rule 6: three failed attempts, S(RESYNCH)', 'R', cfg(ifs=0), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), 'T', '> ' + h(R(0, 2)), 'T', '> ' + h(R(0, 2)),
    'T', '> ' + h(S(0xC0)), '< ' + h(S(0xE0)), 'D -30',
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), '< ' + h(I(0, 0, SW)), 'D 2 90 00'])
sc('reader_resynch_ifs', '§11.6.3.2 rule 6 then IFSD again (§11.4.2)', 'R', cfg(), [
    '> ' + h(S(0xC1, b'\xFE')), '< ' + h(S(0xE1, b'\xFE')), 'I',
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), '< ' + h(bad(I(0, 0, SW))), '> ' + h(R(0, 1)),
    '< ' + h(R(0)), '> ' + h(I(0, 0, CMD5)), '< ' + h(bad(I(0, 0, SW))),
    '> ' + h(S(0xC0)), 'T', '> ' + h(S(0xC0)), '< ' + h(S(0xE0)),
    '> ' + h(S(0xC1, b'\xFE')), '< ' + h(S(0xE1, b'\xFE')), 'D -30'])
sc('reader_resynch_fails', '§11.6.3.2 rule 6.4: three S(RESYNCH) unanswered, deactivate', 'R', cfg(ifs=0), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), 'T', '> ' + h(R(0, 2)), 'T', '> ' + h(R(0, 2)),
    'T', '> ' + h(S(0xC0)), 'T', '> ' + h(S(0xC0)), '< ' + h(I(0, 0, SW)), '> ' + h(S(0xC0)),
    'T', 'X T'])
sc('reader_resynch_answered_wrongly', '§11.6.3.2 rule 6.4: three S(RESYNCH) answered with a bad '
   'block, deactivate', 'R', cfg(ifs=0), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), 'T', '> ' + h(R(0, 2)), 'T', '> ' + h(R(0, 2)),
    'T', '> ' + h(S(0xC0)), '< ' + h(bad(S(0xE0))), '> ' + h(S(0xC0)), '< ' + h(bad(S(0xE0))),
    '> ' + h(S(0xC0)), '< ' + h(bad(S(0xE0))), 'X'])
sc('reader_ifs_retry', '§11.6.3.2 rule 7.3: wrong S(IFS response) repeats the request', 'R', cfg(), [
    '> ' + h(S(0xC1, b'\xFE')), '< ' + h(S(0xE1, b'\x20')), '> ' + h(S(0xC1, b'\xFE')),
    'T', '> ' + h(S(0xC1, b'\xFE')), '< ' + h(S(0xE1, b'\xFE')), 'I'])
sc('reader_abort_by_card', '§11.6.2.3 rule 9: the card aborts the reader\'s chain', 'R', cfg(ifs=0), [
    'S ' + h(C100), '> ' + h(I(0, 1, C100[:32])), '< ' + h(S(0xC2)), '> ' + h(S(0xE2)), 'D -37'])
sc('reader_abort_api', '§11.6.2.3 rule 9: the reader aborts the card\'s chain', 'R', cfg(ifs=0), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), 'B', '< ' + h(I(0, 1, R80[:32])),
    '> ' + h(S(0xC2)), '< ' + h(R(1)), '> ' + h(S(0xC2)), '< ' + h(S(0xE2)), 'D -37',
    'S ' + h(CMD5), '> ' + h(I(1, 0, CMD5)), '< ' + h(I(1, 0, SW)), 'D 2 90 00'])
sc('reader_overflow', 'response longer than the buffer: S(ABORT), CL_ERR_BUFFER', 'R', cfg(ifs=0, buf=40), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), '< ' + h(I(0, 1, R80[:32])), '> ' + h(R(1)),
    '< ' + h(I(1, 1, R80[32:64])), '> ' + h(S(0xC2)), '< ' + h(S(0xE2)), 'D -2'])
sc('reader_overflow_last', 'last block does not fit: CL_ERR_BUFFER', 'R', cfg(ifs=0, buf=1), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), '< ' + h(I(0, 0, SW)), 'D -2',
    'S ' + h(CMD5), '> ' + h(I(1, 0, CMD5))])
sc('reader_nad', '§11.3.2.1: NAD 21 sent, any NAD accepted', 'R', cfg(ifs=0, nad=0x21), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5, nad=0x21)), '< ' + h(I(0, 0, SW, nad=0x12)), 'D 2 90 00'])
sc('reader_empty_apdu', 'an empty I-block', 'R', cfg(ifs=0), [
    'S ', '> ' + h(I(0, 0, b'')), '< ' + h(I(0, 0, b'')), 'D 0'])

# ------------------------------------------------------------------ card
sc('card_ifs_simple', '§11.4.2: S(IFS) answered, IFSD 254 used', 'C', cfg(), [
    'W 0', '< ' + h(S(0xC1, b'\xFE')), '> ' + h(S(0xE1, b'\xFE')), 'W 0',
    '< ' + h(I(0, 0, CMD5)), 'G ' + h(CMD5), 'Y ' + h(RSP10), '> ' + h(I(0, 0, RSP10)), 'W 0',
    '< ' + h(I(1, 0, CMD5)), 'G ' + h(CMD5), 'Y ' + h(R80), '> ' + h(I(1, 0, R80))])
EDC = 'crc'
sc('card_simple_crc', '§11.4.4 CRC on the card side', 'C', cfg(edc=1), [
    '<1 ' + h(I(0, 0, CMD5)), 'G ' + h(CMD5), 'Y 90 00', '> ' + h(I(0, 0, SW))])
EDC = 'lrc'
sc('card_chain_rx', '§11.6.2.3 rule 5: the card acknowledges chained I-blocks', 'C', cfg(), [
    '< ' + h(I(0, 1, C100[:32])), '> ' + h(R(1)), '< ' + h(I(1, 1, C100[32:64])), '> ' + h(R(0)),
    '< ' + h(I(0, 1, C100[64:96])), '> ' + h(R(1)),
    '< ' + h(I(1, 0, C100[96:])), 'G ' + h(C100), 'Y 90 00', '> ' + h(I(0, 0, SW))])
sc('card_chain_tx', '§11.6.2.3 rule 5: response chained to IFSD 32', 'C', cfg(), [
    '< ' + h(I(0, 0, CMD5)), 'G ' + h(CMD5), 'Y ' + h(R80), '> ' + h(I(0, 1, R80[:32])),
    '< ' + h(R(1)), '> ' + h(I(1, 1, R80[32:64])), '< ' + h(R(0)), '> ' + h(I(0, 0, R80[64:])),
    '< ' + h(I(1, 0, CMD5)), 'G ' + h(CMD5)])
sc('card_wtx', '§11.6.2.2 rule 3: S(WTX request) from the application', 'C', cfg(), [
    '< ' + h(I(0, 0, CMD5)), 'G ' + h(CMD5), 'Q 5', '> ' + h(S(0xC3, b'\x05')), 'W 0',
    '< ' + h(S(0xE3, b'\x06')), '> ' + h(S(0xC3, b'\x05')),
    '< ' + h(S(0xE3, b'\x05')), 'G ' + h(CMD5), 'Y 90 00', '> ' + h(I(0, 0, SW))])
sc('card_ifs_request', '§11.6.2.2 rule 4: the card announces IFSC 64', 'C', cfg(), [
    '< ' + h(I(0, 0, CMD5)), 'G ' + h(CMD5), 'F 64', '> ' + h(S(0xC1, b'\x40')),
    '< ' + h(S(0xE1, b'\x40')), 'G ' + h(CMD5), 'Y 90 00', '> ' + h(I(0, 0, SW)),
    '< ' + h(I(1, 1, C100[:64])), '> ' + h(R(0)), '< ' + h(I(0, 0, C100[64:])), 'G ' + h(C100)])
sc('card_bad_edc', '§11.6.3.2: invalid block, R(0) with b1', 'C', cfg(), [
    '< ' + h(bad(I(0, 0, CMD5))), '> ' + h(R(0, 1)), '< ' + h(I(0, 0, CMD5)), 'G ' + h(CMD5)])
sc('card_bad_len', '§11.3.2.3: LEN 33 > IFSC 32, R(0) other error', 'C', cfg(), [
    '< ' + h(I(0, 0, bytes(33))), '> ' + h(R(0, 2)), '< ' + h(I(0, 0, CMD5)), 'G ' + h(CMD5)])
sc('card_parity', '§11.6.3.2: parity error, R(0) with b1', 'C', cfg(), [
    'P', '< ' + h(I(0, 0, CMD5)), '> ' + h(R(0, 1)), '< ' + h(I(0, 0, CMD5)), 'G ' + h(CMD5)])
sc('card_cwt', '§11.4.3: CWT exceeded inside a block', 'C', cfg(), [
    '< 00 00 05 00', 'W %d' % CWT, 'T', '> ' + h(R(0, 2)), 'W 0', '< ' + h(I(0, 0, CMD5)), 'G ' + h(CMD5)])
sc('card_repeat', '§11.6.3.2 rule 7.2: the reader asks for the response again', 'C', cfg(), [
    '< ' + h(I(0, 0, CMD5)), 'G ' + h(CMD5), 'Y 90 00', '> ' + h(I(0, 0, SW)),
    '< ' + h(R(0, 1)), '> ' + h(I(0, 0, SW)), '< ' + h(I(1, 0, CMD5)), 'G ' + h(CMD5)])
sc('card_lost_reader_block', '§11.6.3.2: reader timed out on a lost I-block: card says N(R)', 'C', cfg(), [
    '< ' + h(I(0, 0, CMD5)), 'G ' + h(CMD5), 'Y 90 00', '> ' + h(I(0, 0, SW)),
    '< ' + h(R(1, 2)), '> ' + h(R(1)), '< ' + h(I(1, 0, CMD5)), 'G ' + h(CMD5)])
sc('card_lost_ack', '§11.6.3.2 rule 7.2: the card\'s R(1) lost, sent again', 'C', cfg(), [
    '< ' + h(I(0, 1, C100[:32])), '> ' + h(R(1)), '< ' + h(R(0, 2)), '> ' + h(R(1)),
    '< ' + h(I(1, 0, C100[32:40])), 'G ' + h(C100[:40])])
sc('card_resynch', '§11.6.3.2 rule 6: S(RESYNCH) resets N(S), N(R) and IFS', 'C', cfg(), [
    '< ' + h(S(0xC1, b'\xFE')), '> ' + h(S(0xE1, b'\xFE')),
    '< ' + h(I(0, 0, CMD5)), 'G ' + h(CMD5), 'Y ' + h(R80), '> ' + h(I(0, 0, R80)),
    '< ' + h(S(0xC0)), '> ' + h(S(0xE0)), '< ' + h(I(0, 0, CMD5)), 'G ' + h(CMD5),
    'Y ' + h(R80), '> ' + h(I(0, 1, R80[:32]))])
sc('card_abort_by_reader', '§11.6.2.3 rule 9: the reader aborts its chain', 'C', cfg(), [
    '< ' + h(I(0, 1, C100[:32])), '> ' + h(R(1)), '< ' + h(S(0xC2)), '> ' + h(S(0xE2)),
    '< ' + h(I(1, 0, CMD5)), 'G ' + h(CMD5)])
sc('card_abort_api', '§11.6.2.3 rule 9: the card aborts its response chain', 'C', cfg(), [
    '< ' + h(I(0, 0, CMD5)), 'G ' + h(CMD5), 'Y ' + h(R80), '> ' + h(I(0, 1, R80[:32])), 'B',
    '< ' + h(R(1)), '> ' + h(S(0xC2)), '< ' + h(R(1, 1)), '> ' + h(S(0xC2)), '< ' + h(S(0xE2)),
    'W 0', '< ' + h(I(1, 0, CMD5)), 'G ' + h(CMD5)])
sc('card_overflow', 'command longer than the card buffer: S(ABORT request)', 'C', cfg(buf=40), [
    '< ' + h(I(0, 1, C100[:32])), '> ' + h(R(1)), '< ' + h(I(1, 0, C100[32:64])),
    '> ' + h(S(0xC2)), '< ' + h(S(0xE2)), '< ' + h(I(0, 0, CMD5)), 'G ' + h(CMD5)])
sc('card_nad', '§11.3.2.1: the card swaps SAD and DAD', 'C', cfg(), [
    '< ' + h(I(0, 0, CMD5, nad=0x21)), 'G ' + h(CMD5), 'Y 90 00', '> ' + h(I(0, 0, SW, nad=0x12))])
sc('card_unexpected', 'S(WTX request) or a stray S-response from the reader: R(0) error', 'C', cfg(), [
    '< ' + h(S(0xC3, b'\x01')), '> ' + h(R(0, 2)), '< ' + h(S(0xE1, b'\x20')), '> ' + h(R(0, 2)),
    '< ' + h(I(1, 0, CMD5)), '> ' + h(R(0, 2)), '< ' + h(R(0)), '> ' + h(R(0, 2)),
    '< ' + h(I(0, 0, CMD5)), 'G ' + h(CMD5)])

# Issue 11 §7: what the fault-injection run found untested.
# Malformed R-blocks (§11.3.2.2: b6 is 0, error bits 0..2, no INF): invalid
# blocks, answered with an R-block "other error" for the I-block expected
# (rule 7.1), two per exchange so that the third try still gets through.
sc('reader_bad_rblock_b6_inf', '§11.3.2.2, rule 7.1: R-block with b6 set, R-block with INF', 'R',
   cfg(ifs=0), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), '< ' + h(blk(0xA0)), '> ' + h(R(0, 2)),
    '< ' + h(blk(0x80, b'\x00')), '> ' + h(R(0, 2)), '< ' + h(I(0, 0, SW)), 'D 2 90 00'])
sc('reader_bad_rblock_bits', '§11.3.2.2, rule 7.1: R-block error bits 3 and 0F', 'R', cfg(ifs=0), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), '< ' + h(blk(0x83)), '> ' + h(R(0, 2)),
    '< ' + h(blk(0x9F)), '> ' + h(R(0, 2)), '< ' + h(I(0, 0, SW)), 'D 2 90 00'])
sc('card_bad_rblock', '§11.3.2.2, rule 7.1: the card answers malformed R-blocks with R(0) error', 'C',
   cfg(), [
    '< ' + h(blk(0xA0)), '> ' + h(R(0, 2)), '< ' + h(blk(0x80, b'\x00')), '> ' + h(R(0, 2)),
    '< ' + h(blk(0x87)), '> ' + h(R(0, 2)), '< ' + h(I(0, 0, CMD5)), 'G ' + h(CMD5)])
# An I-block while the card is busy: the card asked for time (S(WTX
# request)) and the reader sends an I-block instead of the S-response: the
# card repeats its S-request (rule 7.3) and takes nothing of the I-block.
sc('card_iblock_while_busy', 'rule 3, 7.3: I-block instead of S(WTX response)', 'C', cfg(), [
    '< ' + h(I(0, 0, CMD5)), 'G ' + h(CMD5), 'Q 2', '> ' + h(S(0xC3, b'\x02')),
    '< ' + h(I(1, 0, bytes.fromhex('00B0000002'))), '> ' + h(S(0xC3, b'\x02')),
    '< ' + h(S(0xE3, b'\x02')), 'G ' + h(CMD5), 'Y 90 00', '> ' + h(I(0, 0, SW)),
    '< ' + h(I(1, 0, CMD5)), 'G ' + h(CMD5)])
# The card aborts a command chain it is receiving (cl_t1_abort()); the
# reader's next chained command is taken whole, sequence numbers going on.
sc('card_abort_then_chain', 'rule 9 then 5: the card aborts a command chain, then a second chain', 'C',
   cfg(), [
    '< ' + h(I(0, 1, C100[:32])), '> ' + h(R(1)), 'B', '< ' + h(I(1, 1, C100[32:64])),
    '> ' + h(S(0xC2)), '< ' + h(S(0xE2)),
    '< ' + h(I(0, 1, C100[:32])), '> ' + h(R(1)), '< ' + h(I(1, 1, C100[32:64])), '> ' + h(R(0)),
    '< ' + h(I(0, 0, C100[64:70])), 'G ' + h(C100[:70]), 'Y 90 00', '> ' + h(I(0, 0, SW))])

# The peer lowers its IFS (S(IFS request)) while our I-block is still
# unacknowledged, then asks for that block again (rule 7.2): it is cut again
# to the new size, never sent longer than the peer now takes (§11.4.2).
C20 = C100[:20]
R20 = R80[:18] + SW
sc('reader_ifs_shrink_resend', '§11.4.2, rule 4 then 7.2: I-block cut again to the new IFSC', 'R',
   cfg(ifs=0), [
    'S ' + h(C20), '> ' + h(I(0, 0, C20)), '< ' + h(S(0xC1, b'\x08')), '> ' + h(S(0xE1, b'\x08')),
    '< ' + h(R(0)), '> ' + h(I(0, 1, C20[:8])), '< ' + h(R(1)), '> ' + h(I(1, 1, C20[8:16])),
    '< ' + h(R(0)), '> ' + h(I(0, 0, C20[16:])), '< ' + h(I(0, 0, SW)), 'D 2 90 00'])
sc('card_ifs_shrink_resend', '§11.4.2, rule 4 then 7.2: I-block cut again to the new IFSD', 'C', cfg(), [
    '< ' + h(S(0xC1, b'\xFE')), '> ' + h(S(0xE1, b'\xFE')),
    '< ' + h(I(0, 0, CMD5)), 'G ' + h(CMD5), 'Y ' + h(R20), '> ' + h(I(0, 0, R20)),
    '< ' + h(S(0xC1, b'\x08')), '> ' + h(S(0xE1, b'\x08')),
    '< ' + h(R(0)), '> ' + h(I(0, 1, R20[:8])), '< ' + h(R(1)), '> ' + h(I(1, 1, R20[8:16])),
    '< ' + h(R(0)), '> ' + h(I(0, 0, R20[16:])), '< ' + h(I(1, 0, CMD5)), 'G ' + h(CMD5)])

# The reader's own S(IFS request) and S(RESYNCH request) from IDLE; after a
# resynchronisation IFSD is announced again (§11.6.3.2 rule 6.4).
sc('reader_request_ifs_resynch', '§11.4.2, §11.6.3.2 rule 6: IFSD 128 asked for, then RESYNCH', 'R',
   cfg(), [
    '> ' + h(S(0xC1, b'\xFE')), '< ' + h(S(0xE1, b'\xFE')), 'I', 'J 254',
    'N 128', '> ' + h(S(0xC1, b'\x80')), '< ' + h(S(0xE1, b'\x80')), 'I', 'J 128',
    'Z', '> ' + h(S(0xC0)), '< ' + h(S(0xE0)),
    '> ' + h(S(0xC1, b'\xFE')), '< ' + h(S(0xE1, b'\xFE')), 'I', 'J 254'])

def notation(role, steps):
    """Engine-side line steps ('>' it sends, '<' it is fed) to the R
    (reader -> card) / C (card -> reader) transcript."""
    mine, peer = ('R', 'C') if role == 'R' else ('C', 'R')
    res = []
    for st in steps.split(';'):
        if st.startswith('>'):
            st = mine + st[1:]
        elif st.startswith('<'):
            st = peer + st[1:]
        res.append(st)
    return ';'.join(res)

with open(__file__.replace('gen_vectors.py', 't1_vectors.inc'), 'w') as f:
    f.write('/* Generated by gen_vectors.py (an independent Python model of the\n'
            ' * T=1 block format): exact line bytes of every scenario. */\n')
    for name, clause, role, c, steps in out:
        f.write('{ "%s", "%s", \'%s\', %d, %d, %d, %d, 0x%02X, %d,\n  "%s" },\n' % (
            name, clause.replace('"', '\\"'), role, c['edc'], c['ifsc'], c['ifsd'], c['ifs'],
            c.get('nad', 0), c['buf'], notation(role, steps)))
print(len(out), 'scenarios')
