#!/usr/bin/env python3
# cardlink — the T=1 scenarios added after issue 11 §7's fault-injection run
# was measured again (t1_gaps.inc): the behaviours that one-at-a-time faults
# in lib/t1 left unnoticed. Same step language and the same independent
# block model as gen_vectors.py (read from it, without its output), plus
#   K NAME N ...  the named struct cl_t1_stats counters are N
#   U  nothing written past the buffer the scenario gives (buf)
# Measured with every mutant of /tmp/mutate.py's kinds (411 in t1.c, 327 in
# t1_block.c; ASan/UBSan build; t1, t1-small, t1-reader-only, the card, sim,
# device suites and the t1/card/sim/device fuzz corpus replays), killed /
# (killed + survived): t1.c 290/359 = 80.8 % -> 315/359 = 87.7 %, t1_block.c
# 244/273 = 89.4 % -> 252/273 = 92.3 %. The 65 left are equivalent (a store
# overwritten or cleared on every path before it is read, a boundary where
# both branches give the same value, the one-step receive path narrowed to
# the general one, code no state reaches).
# SPDX-License-Identifier: Apache-2.0
import os

here = os.path.dirname(os.path.abspath(__file__))
src = open(os.path.join(here, 'gen_vectors.py')).read()
exec(src[:src.index('with open(__file__')])   # the model, not its writer
out.clear()
EDC = 'lrc'

# A response or command exactly as long as the buffer fits (LEN equal to
# the room left is not an overflow): unchained (the reader's one-step path
# in CL_T1_FAST builds, the byte-wise path otherwise), the first block of a
# chain filling the buffer and an empty last block, and the card's command.
sc('reader_exact_fit', 'response as long as the buffer', 'R', cfg(ifs=0, buf=2), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), '< ' + h(I(0, 0, SW)), 'D 2 90 00'])
sc('reader_chain_exact_fit', 'rule 5: a chained block fills the buffer, the last one is empty', 'R',
   cfg(ifs=0, buf=32), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), '< ' + h(I(0, 1, R80[:32])), '> ' + h(R(1)),
    '< ' + h(I(1, 0, b'')), 'D 32 ' + h(R80[:32])])
sc('card_exact_fit', 'command as long as the card buffer', 'C', cfg(buf=5), [
    '< ' + h(I(0, 0, CMD5)), 'G ' + h(CMD5)])

# The CWT runs out after one byte of a block: a block cut short, counted as
# received and invalid (as after more bytes), then rule 7.1.
sc('reader_cwt_one_byte', '§11.4.3, rule 7.1: CWT after the first byte', 'R', cfg(ifs=0), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), '< 00', 'W %d' % CWT, 'T',
    'K timeouts 1 blocks_received 1 invalid_blocks 1', '> ' + h(R(0, 2)),
    '< ' + h(I(0, 0, SW)), 'D 2 90 00', 'K blocks_sent 2 blocks_received 2 invalid_blocks 1'])
# The card aborts an exchange that had a retry (rule 9): the next exchange
# gets all its tries again (two R-blocks before S(RESYNCH)); the card's
# S(ABORT request) is counted.
sc('reader_abort_resets_tries', 'rule 9 then 7.1: tries counted per exchange', 'R', cfg(ifs=0), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), 'T', '> ' + h(R(0, 2)), '< ' + h(S(0xC2)),
    '> ' + h(S(0xE2)), 'D -37', 'K aborts 1 timeouts 1',
    'S ' + h(CMD5), '> ' + h(I(1, 0, CMD5)), 'T', '> ' + h(R(0, 2)), 'T', '> ' + h(R(0, 2)),
    '< ' + h(I(0, 0, SW)), 'D 2 90 00', 'K aborts 1 timeouts 3 resynchs 0'])

# Our S-request unanswered max_retries times (rule 7.3, then rule 6): the
# start-up S(IFS request) ends idle, IFSD left at 32 and not asked for again
# after the resynch; an S(ABORT request) keeps the result it was sent for
# (the response did not fit: CL_ERR_BUFFER) rather than CL_ERR_PROTOCOL.
sc('reader_ifs_start_mute', 'rule 7.3 then 6: S(IFS request) unanswered, resynch, idle', 'R', cfg(), [
    '> ' + h(S(0xC1, b'\xFE')), 'T', '> ' + h(S(0xC1, b'\xFE')), 'T', '> ' + h(S(0xC1, b'\xFE')),
    'T', '> ' + h(S(0xC0)), '< ' + h(S(0xE0)), 'I', 'J 32',
    'K timeouts 3 retransmissions 2 resynchs 1'])
sc('reader_abort_mute', 'rule 7.3 then 6: S(ABORT request) unanswered, the result kept', 'R',
   cfg(ifs=0, buf=40), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), '< ' + h(I(0, 1, R80[:32])), '> ' + h(R(1)),
    '< ' + h(I(1, 1, R80[32:64])), '> ' + h(S(0xC2)), 'T', '> ' + h(S(0xC2)), 'T', '> ' + h(S(0xC2)),
    'T', '> ' + h(S(0xC0)), '< ' + h(S(0xE0)), 'D -2', 'K aborts 1 resynchs 1'])

# The card's cl_t1_abort() crosses the reader's S(ABORT request) (rule 9):
# the card answers it, and its own abort is spent: the reader's next chained
# command is acknowledged, not aborted.
sc('card_abort_crossed', 'rule 9: the card\'s abort crosses the reader\'s, the next chain goes on', 'C',
   cfg(), [
    '< ' + h(I(0, 1, C100[:32])), '> ' + h(R(1)), 'B', '< ' + h(S(0xC2)), '> ' + h(S(0xE2)),
    '< ' + h(I(1, 1, C100[:32])), '> ' + h(R(0)), '< ' + h(I(0, 0, C100[32:40])),
    'G ' + h(C100[:40]), 'K aborts 1'])
# cl_t1_request_ifs() takes IFSD 254, the largest (§11.4.2).
sc('reader_request_ifs_254', '§11.4.2: IFSD 254 asked for from IDLE', 'R', cfg(ifs=0), [
    'I', 'J 32', 'N 254', '> ' + h(S(0xC1, b'\xFE')), '< ' + h(S(0xE1, b'\xFE')), 'I', 'J 254'])

# Tries are counted per block: after the card acknowledges a chained block
# that needed a retry, the next one gets all three (two R-blocks, no
# S(RESYNCH)); the first R-block after a new I-block is no retransmission.
sc('reader_chain_tries', 'rule 5 then 7.1: the next chained block gets every try', 'R', cfg(ifs=0), [
    'S ' + h(C100[:40]), '> ' + h(I(0, 1, C100[:32])), 'T', '> ' + h(R(0, 2)), '< ' + h(R(1)),
    '> ' + h(I(1, 0, C100[32:40])), 'T', '> ' + h(R(0, 2)), 'T', '> ' + h(R(0, 2)),
    '< ' + h(I(0, 0, SW)), 'D 2 90 00', 'K timeouts 3 resynchs 0 retransmissions 1'])
# While the card sends its chain, an R-block from it is answered with the
# reader's last R-block (rule 7.2), not with the command again.
sc('reader_rblock_in_card_chain', 'rule 5, 7.2: R-block inside the card\'s chain', 'R', cfg(ifs=0), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), '< ' + h(I(0, 1, R80[:32])), '> ' + h(R(1)),
    '< ' + h(R(0)), '> ' + h(R(1)), '< ' + h(I(1, 0, R80[32:40])), 'D 40 ' + h(R80[:40]),
    'K retransmissions 1'])
# The card's IFSC announced by S(IFS request) is the one it holds the
# reader to: LEN 65 after IFSC 64 is refused (rule 7.1), 64 taken; and the
# card may announce 254, the largest.
sc('card_ifs_request_enforced', '§11.6.2.2 rule 4, §11.3.2.3: LEN above the new IFSC refused', 'C',
   cfg(), [
    '< ' + h(I(0, 0, CMD5)), 'G ' + h(CMD5), 'F 64', '> ' + h(S(0xC1, b'\x40')),
    '< ' + h(S(0xE1, b'\x40')), 'G ' + h(CMD5), 'Y 90 00', '> ' + h(I(0, 0, SW)),
    '< ' + h(I(1, 0, C100[:65])), '> ' + h(R(1, 2)),
    '< ' + h(I(1, 1, C100[:64])), '> ' + h(R(0)), '< ' + h(I(0, 0, C100[64:65])),
    'G ' + h(C100[:65]), 'K invalid_blocks 1'])
sc('card_request_ifs_254', '§11.6.2.2 rule 4: the card announces IFSC 254', 'C', cfg(), [
    '< ' + h(I(0, 0, CMD5)), 'G ' + h(CMD5), 'F 254', '> ' + h(S(0xC1, b'\xFE')),
    '< ' + h(S(0xE1, b'\xFE')), 'G ' + h(CMD5), 'Y 90 00', '> ' + h(I(0, 0, SW))])
# S(RESYNCH request) while the card's own S(WTX request) is outstanding:
# answered (rule 6), sequence numbers back to 0.
sc('card_resynch_while_busy', 'rule 6: S(RESYNCH request) instead of S(WTX response)', 'C', cfg(), [
    '< ' + h(I(0, 0, CMD5)), 'G ' + h(CMD5), 'Y 90 00', '> ' + h(I(0, 0, SW)),
    '< ' + h(I(1, 0, CMD5)), 'G ' + h(CMD5), 'Q 2', '> ' + h(S(0xC3, b'\x02')),
    '< ' + h(S(0xC0)), '> ' + h(S(0xE0)), '< ' + h(I(0, 0, CMD5)), 'G ' + h(CMD5),
    'Y 90 00', '> ' + h(I(0, 0, SW)), 'K resynchs 1 wtx 1'])

# After the start-up S(IFS request) went unanswered (IFSD left at 32), a
# resynchronisation asked for by the application, or one after a failed
# exchange, announces IFSD again (§11.4.2): the skip is for that one
# resynch only.
MUTE_IFS = ['> ' + h(S(0xC1, b'\xFE')), 'T', '> ' + h(S(0xC1, b'\xFE')), 'T',
            '> ' + h(S(0xC1, b'\xFE')), 'T', '> ' + h(S(0xC0)), '< ' + h(S(0xE0)), 'I', 'J 32']
sc('reader_ifs_mute_then_resynch', '§11.4.2, rule 6: IFSD announced again after cl_t1_resynch()', 'R',
   cfg(), MUTE_IFS + [
    'Z', '> ' + h(S(0xC0)), '< ' + h(S(0xE0)), '> ' + h(S(0xC1, b'\xFE')), '< ' + h(S(0xE1, b'\xFE')),
    'I', 'J 254'])
sc('reader_ifs_mute_then_fail', '§11.4.2, rule 6: IFSD announced again after a failed exchange', 'R',
   cfg(), MUTE_IFS + [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), 'T', '> ' + h(R(0, 2)), 'T', '> ' + h(R(0, 2)), 'T',
    '> ' + h(S(0xC0)), '< ' + h(S(0xE0)), '> ' + h(S(0xC1, b'\xFE')), '< ' + h(S(0xE1, b'\xFE')),
    'D -30', 'J 254'])
# The reader's own S(IFS request) after an exchange the card aborted
# following a retry gets all its tries (rule 7.3: three, then S(RESYNCH)).
sc('reader_ifs_tries_after_abort', 'rule 9 then 7.3: S(IFS request) gets every try', 'R', cfg(ifs=0), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), 'T', '> ' + h(R(0, 2)), '< ' + h(S(0xC2)),
    '> ' + h(S(0xE2)), 'D -37', 'N 64', '> ' + h(S(0xC1, b'\x40')), 'T', '> ' + h(S(0xC1, b'\x40')),
    'T', '> ' + h(S(0xC1, b'\x40')), '< ' + h(S(0xE1, b'\x40')), 'I', 'J 64'])

# The same for the card's chain: each I-block received starts the count
# again (a block lost, R(1) error, then two more R-blocks on the next one).
sc('reader_chain_rx_tries', 'rule 5 then 7.1: each of the card\'s blocks gets every try', 'R', cfg(ifs=0), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), '< ' + h(I(0, 1, R80[:32])), '> ' + h(R(1)),
    'T', '> ' + h(R(1, 2)), '< ' + h(I(1, 1, R80[32:64])), '> ' + h(R(0)),
    'T', '> ' + h(R(0, 2)), 'T', '> ' + h(R(0, 2)), '< ' + h(I(0, 0, R80[64:])), 'D 80 ' + h(R80),
    'K timeouts 3 resynchs 0'])

# An APDU exactly as long as the peer's IFS goes in one I-block without the
# M bit (§11.4.2, rule 5), at both roles.
sc('reader_cmd_exact_ifsc', '§11.4.2: a 32-byte command at IFSC 32, one block', 'R', cfg(ifs=0), [
    'S ' + h(C100[:32]), '> ' + h(I(0, 0, C100[:32])), '< ' + h(I(0, 0, SW)), 'D 2 90 00'])
sc('card_resp_exact_ifsd', '§11.4.2: a 32-byte response at IFSD 32, one block', 'C', cfg(), [
    '< ' + h(I(0, 0, CMD5)), 'G ' + h(CMD5), 'Y ' + h(R80[:32]), '> ' + h(I(0, 0, R80[:32]))])
# Rule 6: after a resynchronisation the card's IFSC is the ATR's again (the
# 64 it announced is forgotten): a 40-byte command chained at 32.
sc('reader_resynch_restores_ifsc', 'rule 6: IFSC back to the ATR\'s after S(RESYNCH)', 'R', cfg(ifs=0), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), '< ' + h(S(0xC1, b'\x40')), '> ' + h(S(0xE1, b'\x40')),
    '< ' + h(I(0, 0, SW)), 'D 2 90 00', 'Z', '> ' + h(S(0xC0)), '< ' + h(S(0xE0)), 'I',
    'S ' + h(C100[:40]), '> ' + h(I(0, 1, C100[:32])), '< ' + h(R(1)), '> ' + h(I(1, 0, C100[32:40])),
    '< ' + h(I(0, 0, SW)), 'D 2 90 00'])

# S-block INF (§11.3.2.2): IFS 0 and IFS 255 are invalid blocks (rule 7.1),
# WTX 255 is valid: BWT x 255 for the next block.
sc('reader_s_inf_range', '§11.3.2.2: S(IFS) INF 0 and FF refused, S(WTX) FF taken', 'R', cfg(ifs=0), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), '< ' + h(S(0xC1, b'\x00')), '> ' + h(R(0, 2)),
    '< ' + h(S(0xC1, b'\xFF')), '> ' + h(R(0, 2)), '< ' + h(S(0xC3, b'\xFF')),
    '> ' + h(S(0xE3, b'\xFF')), 'W %d' % (255 * BWT), '< ' + h(I(0, 0, SW)), 'D 2 90 00',
    'K invalid_blocks 2 wtx 1'])

# S-block coding (§11.3.2.2), one fault at a time: S(IFS request) without
# INF, S(ABORT request) with INF, S(ABORT request) with b5 set: invalid
# blocks (rule 7.1), none of them acted upon.
sc('reader_bad_sblock_len', '§11.3.2.2: S(IFS) without INF, S(ABORT) with INF', 'R', cfg(ifs=0), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), '< ' + h(S(0xC1)), '> ' + h(R(0, 2)),
    '< ' + h(S(0xC2, b'\x00')), '> ' + h(R(0, 2)), '< ' + h(I(0, 0, SW)), 'D 2 90 00',
    'K invalid_blocks 2 aborts 0'])
sc('reader_bad_sblock_rfu', '§11.3.2.2: S(ABORT request) with b5 set', 'R', cfg(ifs=0), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), '< ' + h(S(0xD2)), '> ' + h(R(0, 2)),
    '< ' + h(I(0, 0, SW)), 'D 2 90 00', 'K invalid_blocks 1 aborts 0'])
# Rule 3: BWT x WTX for the next block only, even when that block is
# invalid: the R-block that answers it waits BWT again.
sc('reader_wtx_once', 'rule 3: WTX spent by an invalid block', 'R', cfg(ifs=0), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), '< ' + h(S(0xC3, b'\x03')), '> ' + h(S(0xE3, b'\x03')),
    'W %d' % (3 * BWT), '< ' + h(bad(I(0, 0, SW))), '> ' + h(R(0, 1)), 'W %d' % BWT,
    '< ' + h(I(0, 0, SW)), 'D 2 90 00'])
# The last block of a chain overflows what is left of the buffer:
# CL_ERR_BUFFER (reader) or S(ABORT request) (card), and nothing is written
# past the buffer (step U), fed in one call or byte by byte.
sc('reader_overflow_chain_last', 'rule 5: the chain\'s last block does not fit: CL_ERR_BUFFER', 'R',
   cfg(ifs=0, buf=40), [
    'S ' + h(CMD5), '> ' + h(I(0, 0, CMD5)), '< ' + h(I(0, 1, R80[:32])), '> ' + h(R(1)),
    '< ' + h(I(1, 0, R80[32:42])), 'D -2', 'U',
    'S ' + h(CMD5), '> ' + h(I(1, 0, CMD5)), '< ' + h(I(0, 1, R80[:32])), '> ' + h(R(1)),
    '<1 ' + h(I(1, 0, R80[32:42])), 'D -2', 'U'])
sc('card_overflow_chain_last', 'rule 5: the chain\'s last block does not fit the card buffer', 'C',
   cfg(buf=40), [
    '< ' + h(I(0, 1, C100[:32])), '> ' + h(R(1)), '< ' + h(I(1, 0, C100[32:42])), 'U',
    '> ' + h(S(0xC2)), '< ' + h(S(0xE2)),
    '< ' + h(I(0, 1, C100[:32])), '> ' + h(R(1)), '<1 ' + h(I(1, 0, C100[32:42])), 'U',
    '> ' + h(S(0xC2)), '< ' + h(S(0xE2)), '< ' + h(I(0, 0, CMD5)), 'G ' + h(CMD5)])

with open(os.path.join(here, 't1_gaps.inc'), 'w') as f:
    f.write('/* Generated by gen_gaps.py (gen_vectors.py\'s model of the T=1 block\n'
            ' * format): the scenarios issue 11 §7\'s second fault run asked for. */\n')
    for name, clause, role, c, steps in out:
        f.write('{ "%s", "%s", \'%s\', %d, %d, %d, %d, 0x%02X, %d,\n  "%s" },\n' % (
            name, clause.replace('"', '\\"'), role, c['edc'], c['ifsc'], c['ifsd'], c['ifs'],
            c.get('nad', 0), c['buf'], notation(role, steps)))
print(len(out), 'scenarios')
