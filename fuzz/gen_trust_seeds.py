#!/usr/bin/env python3
"""Seeds of fuzz/fuzz_trust.c (the trust-boundary invariant): the attacks
of issue 10 as a hostile server sends them, and the approval flows a holder
completes. Usage: gen_trust_seeds.py [DIR] (default fuzz/corpus/trust).
The record layout is described at the top of fuzz_trust.c."""
import os
import sys

D = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "trust")

RELAY, SCRIPT, PIN, TXN, RESET, PROMPT = range(6)
# TXN bits
B_PIN, B_384, B_ALL_PAGES, B_CONFIRM, B_CLEANUP, B_OTHER_ID, B_AMOUNT = 0x01, 0x02, 0x0C, 0x10, 0x20, 0x40, 0x80
# TXN "more" byte
M_DROP, M_WRONG_PIN = 0x01, 0x04
# sign headers of fuzz_trust.c: 0 PSO, 1 INTERNAL AUTH, 2 DEBIT, 3 PSO P2 9B, 4 chained PSO, 5 DEBIT P2 01
PSO, IAUTH, DEBIT, PSO_9B, PSO_CHAINED, DEBIT_P2 = range(6)
# payees: 0 "Cafe Rosa", 1 "Evil Corp", 2 "EUR 1.00", 3 "Shop 24", 4 "1.00 EUR", 5 "Kiosk"


def rec(op, body=()):
    body = bytes(body)
    return bytes([op, len(body)]) + body


def txn(kind, amount, payee, sign, bits, chal=0, more=0, template=()):
    body = [kind] + list(amount.to_bytes(4, "big")) + [payee, sign, bits, chal, 0, 0, 0, 0, 0, 0, more]
    return rec(TXN, body + list(template))


PIN_OK = rec(PIN)                 # the standard format 2 template, the right PIN
SEEDS = {
    # finding 1: INTERNAL AUTHENTICATE / PSO relayed, before and after a PIN
    "relay_internal_auth": rec(RELAY, [0x00, 0x88, 0x00, 0x00, 0x10] + list(range(16)) + [0x00]),
    "relay_pso_after_pin": PIN_OK + rec(RELAY, [0x00, 0x2A, 0x9E, 0x9A, 0x20] + [7] * 32 + [0]),
    # finding 2: the relayed DEBIT after any PIN entry; USE; the transaction log
    "relay_debit_after_pin": PIN_OK + rec(RELAY, [0x80, 0x54, 0, 0, 0x28, 0, 0, 0x13, 0x88] + [0] * 4 + [9] * 32),
    "relay_use": PIN_OK + rec(RELAY, [0x80, 0x56, 0x01, 0x00]),
    "relay_txlog": rec(RELAY, [0x00, 0xE2, 0x00, 0x28, 0x2B] + [1] * 43),
    # finding 8: chained VERIFY, then a continuation with the PIN
    "relay_chained_verify": rec(RELAY, [0x10, 0x20, 0x00, 0x80]) +
        rec(RELAY, [0x00, 0x20, 0x00, 0x80, 0x08, 0x24, 0x12, 0x34, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
    "script_mix": rec(SCRIPT, [2, 5, 0x00, 0xA4, 0x04, 0x00, 0x00, 5, 0x80, 0x5C, 0, 0, 0,
                               4, 0x00, 0x88, 0, 0]),
    # finding 7: a template with pre-filled digits, CLA 80, P1 01
    "pin_prefilled": rec(PIN, [2, 4, 12, 0, 0xFF, 0, 0x00, 0x20, 0x00, 0x80, 0x0C] + [0x31, 0x32] + [0xFF] * 10),
    "pin_cla80": rec(PIN, [2, 4, 8, 0, 0xFF, 0, 0x80, 0x20, 0x00, 0x80, 0x08] + [0x24] + [0xFF] * 7),
    # approvals the holder completes
    "txn_purchase_pin": txn(1, 12345, 0, PSO, B_PIN | B_ALL_PAGES | B_CONFIRM | B_CLEANUP),
    "txn_purchase_after_verify": PIN_OK + txn(1, 999, 5, PSO, B_ALL_PAGES | B_CONFIRM),
    "txn_internal_auth": PIN_OK + txn(1, 100, 0, IAUTH, B_ALL_PAGES | B_CONFIRM | B_CLEANUP),
    "txn_sha384": txn(5, 0, 3, PSO, B_384 | B_PIN | B_ALL_PAGES | B_CONFIRM | B_CLEANUP),
    "txn_purse_debit": txn(6, 250, 0, DEBIT, B_PIN | B_ALL_PAGES | B_CONFIRM | B_CLEANUP),
    "txn_purse_twice": txn(6, 250, 0, DEBIT, B_PIN | B_ALL_PAGES | B_CONFIRM | B_CLEANUP) +
        txn(6, 250, 0, DEBIT, B_ALL_PAGES | B_CONFIRM | B_CLEANUP),
    # approvals that must end without a signature
    "txn_wrong_pin_then_relay": txn(6, 250, 0, DEBIT, B_PIN | B_ALL_PAGES | B_CONFIRM, more=M_WRONG_PIN) +
        rec(RELAY, [0x80, 0x5C, 0, 0, 0]),
    "txn_cancel_then_relay": PIN_OK + txn(1, 500, 1, PSO, B_ALL_PAGES) +
        rec(RELAY, [0x00, 0x2A, 0x9E, 0x9A, 0x20] + [1] * 32 + [0]),
    "txn_dropped_no_cleanup": txn(1, 500, 1, PSO, B_PIN | B_ALL_PAGES | B_CONFIRM, more=M_DROP) +
        rec(RELAY, [0x80, 0x5C, 0, 0, 0]),
    "txn_dropped_cleanup": txn(1, 500, 1, PSO, B_PIN | B_ALL_PAGES | B_CONFIRM | B_CLEANUP, more=M_DROP) +
        rec(RELAY, [0x80, 0x5C, 0, 0, 0]),
    "txn_header_9b": PIN_OK + txn(1, 500, 0, PSO_9B, B_ALL_PAGES | B_CONFIRM),
    "txn_header_chained": PIN_OK + txn(1, 500, 0, PSO_CHAINED, B_ALL_PAGES | B_CONFIRM),
    "txn_debit_for_purchase": PIN_OK + txn(1, 500, 0, DEBIT, B_ALL_PAGES | B_CONFIRM),
    "txn_pso_for_purse": PIN_OK + txn(6, 500, 0, PSO, B_ALL_PAGES | B_CONFIRM),
    "txn_unseen_pages": txn(1, 500, 0, PSO, B_PIN | 0x04 | B_CONFIRM | B_CLEANUP),
    "txn_payee_amount": PIN_OK + txn(1, 100000, 2, PSO, B_ALL_PAGES | B_CONFIRM),
    "txn_zero": PIN_OK + txn(1, 0, 0, PSO, B_ALL_PAGES | B_CONFIRM),
    "txn_other_id": PIN_OK + txn(1, 700, 0, PSO, B_ALL_PAGES | B_CONFIRM | B_OTHER_ID),
    # finding 3: prompts
    "prompt_phish": rec(PROMPT, [1, 4, 12] + list(b"Enter PIN")),
    "prompt_text_phish": rec(PROMPT, [0, 4, 12] + list(b"Enter P1N")),
    "prompt_ok": rec(PROMPT, [1, 1, 2] + list(b"Ticket count")),
    "reset_mid": PIN_OK + rec(RESET) + rec(RELAY, [0x00, 0x20, 0x00, 0x80]),
}

os.makedirs(D, exist_ok=True)
for name, body in SEEDS.items():
    with open(os.path.join(D, name), "wb") as f:
        f.write(bytes([0x00]) + body)
print(f"{len(SEEDS)} seeds in {D}")
