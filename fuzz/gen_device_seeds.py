#!/usr/bin/env python3
"""Seeds of fuzz/fuzz_device.c (the device controller as an invariant): every
job the server can start, the holder's answers to each, the attacks the device
must refuse, link drops and card pulls in the middle of an approval.
Usage: gen_device_seeds.py [DIR] (default fuzz/corpus/device).
The record layout is described at the top of fuzz_device.c."""
import os
import sys

D = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "device")

(APDU, SCRIPT, DISPLAY, PROMPT, PINV, PINC, TXN, RESET, KEY, PIN, ENTRY, CARD, LINK, TIME,
 APPROVE) = range(15)
CONFIRM, CANCEL, UP, DOWN = range(4)
# TXN headers: 0 PSO, 1 INTERNAL AUTH, 2 DEBIT, 3 PSO P2 9B, 4 chained PSO, 5 PSO DECIPHER
PSO, IAUTH, DEBIT, PSO_9B, PSO_CHAINED, PSO_DEC = range(6)
# TXN kinds (byte value): purchase 0, authentication 1, e-money load 2, e-goods load 3,
# access 4, purse payment 5
PURCHASE, AUTH, LOAD, EGOODS, ACCESS, PURSE = range(6)
B_PIN, B_384, B_OTHER_ID, B_AMOUNT, B_ITEMS1, B_ITEMS2, B_TEXT, B_RAW = 1, 2, 4, 8, 16, 32, 64, 128


def rec(op, body=()):
    body = bytes(body)
    return bytes([op, len(body)]) + body


def txn(pool, kind, amount, payee, sign, bits, chal=0, raw=(0, 0, 0, 0), template=()):
    body = [pool, kind] + list(amount.to_bytes(4, "big")) + [payee, bits, chal]
    body += [sign if not bits & B_RAW else raw[0]] + list(raw[1:]) + [0]
    return rec(TXN, body + list(template))


def key(k):
    return rec(KEY, [k])


STORE = b"\x40"   # the configuration byte: the device keeps its log in a store


def cut():
    """The power is cut now: the device reboots from its store."""
    return rec(LINK, [0x81])


def fail(after, keep=False, cut=False):
    """The store write after `after` more fails (CL_ERR_IO), leaving the new
    record when keep, and cutting the power there when cut."""
    return rec(LINK, [0x82 | (4 if keep else 0) | (8 if cut else 0), after])


RIGHT, WRONG = rec(PIN, [0]), rec(PIN, [1])
CHANGE_TMPL = [2, 4, 12, 0, 8, 1] + [0x00, 0x24, 0x00, 0x80, 0x10] + ([0x24] + [0xFF] * 7) * 2
CHANGE_TMPL_NOCONFIRM = [2, 4, 12, 0, 8, 0] + [0x00, 0x24, 0x00, 0x80, 0x10] + ([0x24] + [0xFF] * 7) * 2
BCD_TMPL = [0, 8, 12, 1, 0, 0] + [0x00, 0x20, 0x00, 0x80, 0x07] + [0x00] + [0xFF] * 6
ASCII_TMPL = [1, 6, 12, 0, 0xFF, 1] + [0x00, 0x20, 0x00, 0x80, 0x0C] + [0xFF] * 12
BAL = [0x80, 0x5C, 0x00, 0x00, 0x00]
PSO_RAW = [0x00, 0x2A, 0x9E, 0x9A, 0x20] + [7] * 32 + [0]

SEEDS = {
    "apdu_balance": rec(APDU, BAL),
    "apdu_internal_auth": rec(APDU, [0x00, 0x88, 0x00, 0x00, 0x08] + [1] * 8 + [0]),
    "apdu_verify_pin": rec(APDU, [0x00, 0x20, 0x00, 0x80, 0x08, 0x2C, 0x73, 0x91, 0x58, 0x26, 0x40, 0x17, 0xFF]),
    "apdu_pso_after_pin": rec(PINV) + RIGHT + rec(APDU, PSO_RAW),
    "apdu_debit_after_pin": rec(PINV) + RIGHT + rec(APDU, [0x80, 0x54, 0, 0, 0x28] + [0] * 40 + [0]),
    "apdu_txlog": rec(APDU, [0x00, 0xE2, 0x00, 0x28, 0x2B] + [1] * 43),
    "apdu_use": rec(APDU, [0x80, 0x56, 0x01, 0x00]),
    "script_all": rec(SCRIPT, [0, 0, 2] + ([5, 0, 0x90, 0] + BAL) * 3),
    "script_mismatch_stop": rec(SCRIPT, [0, 0, 2] + [5, 1, 0x6A, 0x82] + BAL + ([5, 0, 0x90, 0] + BAL) * 2),
    "script_mismatch_continue": rec(SCRIPT, [1, 0, 2] + [5, 1, 0x6A, 0x82] + BAL + ([5, 4, 0x90, 0] + BAL) * 2),
    "script_with_pso": rec(SCRIPT, [0, 0, 1] + [5, 0, 0x90, 0] + BAL + [len(PSO_RAW), 0, 0x90, 0] + PSO_RAW),
    "script_txn_id_twice": rec(SCRIPT, [0, 4, 0] + [5, 0, 0x90, 0] + BAL) * 2,
    "display": rec(DISPLAY, b"Welcome\nInsert card"),
    "prompt_yes": rec(PROMPT, [2, 0, 0, 0] + list(b"Continue?")) + key(CONFIRM),
    "prompt_no": rec(PROMPT, [2, 0, 0, 0] + list(b"Continue?")) + key(CANCEL),
    "prompt_text": rec(PROMPT, [0, 1, 10, 0] + list(b"Your name")) + rec(ENTRY, b"Rosa"),
    "prompt_timeout": rec(PROMPT, [0, 1, 10, 2] + list(b"Your name")) + rec(TIME, [20]),
    "prompt_pin_phish": rec(PROMPT, [1, 4, 8, 0] + list(b"Enter PIN")) + rec(ENTRY, b"7391"),
    "pin_verify_right": rec(PINV) + RIGHT,
    "pin_verify_wrong": rec(PINV) + WRONG + rec(PINV) + RIGHT,
    "pin_verify_cancel": rec(PINV) + key(CANCEL),
    "pin_verify_timeout": rec(PINV) + rec(TIME, [255]),
    "pin_verify_bcd": rec(PINV, BCD_TMPL) + RIGHT,
    "pin_verify_ascii": rec(PINV, ASCII_TMPL) + RIGHT,
    "pin_change_confirm": rec(PINC, CHANGE_TMPL) + RIGHT + rec(PIN, [2]) + rec(PIN, [2]),
    "pin_change_mismatch": rec(PINC, CHANGE_TMPL) + RIGHT + rec(PIN, [2]) + rec(PIN, [3]),
    "pin_change_plain": rec(PINC, CHANGE_TMPL_NOCONFIRM) + RIGHT + rec(PIN, [2]),
    "reset_warm": rec(RESET, [0]) + rec(APDU, BAL),
    "reset_cold": rec(RESET, [1]) + rec(APDU, BAL),
    "card_pull_reinsert": rec(CARD) + rec(APDU, BAL) + rec(CARD) + rec(APDU, BAL),
    "purchase_pin": txn(0, PURCHASE, 1234, 0, PSO, B_PIN) + rec(APPROVE),
    "purchase_nopin": txn(0, PURCHASE, 1234, 1, PSO, 0) + rec(APPROVE),
    "purchase_items_pages": txn(1, PURCHASE, 99999, 2, PSO, B_PIN | B_ITEMS2 | B_TEXT) + rec(APPROVE),
    "purchase_early_confirm": txn(1, PURCHASE, 500, 0, PSO, B_ITEMS2 | B_TEXT) + key(CONFIRM) + key(CONFIRM) + key(CONFIRM),
    "purchase_sha384": txn(2, PURCHASE, 700, 3, PSO, B_384) + rec(APPROVE),
    "purchase_iauth": txn(0, AUTH, 0, 0, IAUTH, 0) + rec(APPROVE),
    "purchase_pso_9b": txn(0, PURCHASE, 100, 0, PSO_9B, 0) + rec(APPROVE),
    "purchase_chained": txn(0, PURCHASE, 100, 0, PSO_CHAINED, 0) + rec(APPROVE),
    "purchase_decipher": txn(0, PURCHASE, 100, 0, PSO_DEC, 0) + rec(APPROVE),
    "purchase_raw_hdr": txn(0, PURCHASE, 100, 0, 0, B_RAW, raw=(0x00, 0x2A, 0x9E, 0x9A)) + rec(APPROVE),
    "purchase_zero": txn(0, PURCHASE, 0, 0, PSO, 0) + rec(APPROVE),
    "purchase_declined": txn(0, PURCHASE, 1234, 0, PSO, B_PIN) + key(CANCEL),
    "purchase_pin_cancel": txn(0, PURCHASE, 1234, 0, PSO, B_PIN) + key(DOWN) + key(CONFIRM) + key(CANCEL),
    "purchase_wrong_pin": txn(0, PURCHASE, 1234, 0, PSO, B_PIN) + key(DOWN) + key(CONFIRM) + WRONG + rec(APDU, BAL),
    "purchase_other_id": txn(0, PURCHASE, 1234, 0, PSO, B_OTHER_ID) + rec(APPROVE),
    "purchase_timeout": txn(0, PURCHASE, 1234, 0, PSO, B_PIN) + rec(TIME, [255]) * 2,
    "purchase_twice": txn(3, PURCHASE, 1234, 0, PSO, B_PIN) + rec(APPROVE) + txn(3, PURCHASE, 1234, 0, PSO, B_PIN) + rec(APPROVE),
    "purchase_same_id_other_txn": txn(3, PURCHASE, 1234, 0, PSO, 0) + rec(APPROVE) + txn(3, PURCHASE, 4321, 4, PSO, 0) + rec(APPROVE),
    "purchase_link_drop": txn(0, PURCHASE, 1234, 0, PSO, B_PIN) + rec(LINK) + rec(APPROVE) + rec(LINK) + txn(0, PURCHASE, 1234, 0, PSO, B_PIN),
    "purchase_card_pulled": txn(0, PURCHASE, 1234, 0, PSO, B_PIN) + key(DOWN) + key(CONFIRM) + rec(CARD) + RIGHT + rec(CARD) + rec(APDU, BAL),
    "purchase_reset_after_pin": rec(PINV) + RIGHT + txn(0, PURCHASE, 1234, 0, PSO, 0) + rec(RESET, [0]) + rec(APPROVE),
    "purse_payment": txn(1, PURSE, 250, 1, DEBIT, B_PIN) + rec(APPROVE) + txn(1, PURSE, 250, 1, DEBIT, B_PIN),
    "purse_payment_utf8": txn(2, PURSE, 250, 2, DEBIT, 0) + rec(APPROVE),
    "purse_declined_then_relay": txn(2, PURSE, 250, 0, DEBIT, B_PIN) + key(DOWN) + key(CONFIRM) + rec(LINK) + rec(LINK) + rec(APDU, BAL),
    "load_egoods": txn(0, EGOODS, 10, 0, PSO, 0) + rec(APPROVE) + txn(1, LOAD, 10, 0, PSO, 0) + rec(APPROVE),
    "access": txn(0, ACCESS, 0, 0, IAUTH, B_PIN) + rec(APPROVE),
    "small_display": b"\x20" + txn(0, PURCHASE, 123456, 3, PSO, B_PIN | B_ITEMS2) + rec(APPROVE),
    "t1_purchase": b"\x01" + txn(0, PURCHASE, 1234, 1, PSO, B_PIN) + rec(APPROVE) + rec(SCRIPT, [0, 0, 2] + ([5, 0, 0x90, 0] + BAL) * 3),
    "cleanup_always": b"\x04" + txn(0, PURCHASE, 1234, 0, PSO, B_PIN) + rec(APPROVE) + rec(APDU, BAL),
    # with a store (configuration b6): power cuts and failing writes around one purchase;
    # whatever the cut, id 0 executes at most once (the retry after the reboot is answered
    # from the log, or DUPLICATE, or executed when the first never reached the card)
    "store_cut_after_sign": STORE + txn(0, PURCHASE, 1234, 0, PSO, 0) + rec(APPROVE) + cut()
        + rec(LINK) + txn(0, PURCHASE, 1234, 0, PSO, 0) + rec(APPROVE),
    "store_cut_mid_approval": STORE + txn(0, PURCHASE, 1234, 0, PSO, B_PIN) + key(DOWN) + cut()
        + rec(LINK) + txn(0, PURCHASE, 1234, 0, PSO, B_PIN) + rec(APPROVE),
    "store_cut_marking": STORE + fail(0, cut=True) + txn(0, PURCHASE, 1234, 0, PSO, 0)
        + rec(APPROVE) + rec(LINK) + txn(0, PURCHASE, 1234, 0, PSO, 0) + rec(APPROVE),
    "store_cut_marking_kept": STORE + fail(0, keep=True, cut=True) + txn(0, PURCHASE, 1234, 0, PSO, 0)
        + rec(APPROVE) + rec(LINK) + txn(0, PURCHASE, 1234, 0, PSO, 0) + rec(APPROVE),
    "store_cut_answer": STORE + fail(1, cut=True) + txn(0, PURCHASE, 1234, 0, PSO, 0) + rec(APPROVE)
        + rec(LINK) + txn(0, PURCHASE, 1234, 0, PSO, 0) + rec(APPROVE),
    "store_answer_write_fails": STORE + fail(1) + txn(0, PURCHASE, 1234, 0, PSO, 0) + rec(APPROVE)
        + txn(0, PURCHASE, 1234, 0, PSO, 0) + cut() + rec(LINK) + txn(0, PURCHASE, 1234, 0, PSO, 0),
    "store_write_fails": STORE + fail(0) + txn(0, PURCHASE, 1234, 0, PSO, 0) + rec(APPROVE)
        + txn(0, PURCHASE, 1234, 0, PSO, 0) + rec(APPROVE) + cut() + rec(LINK)
        + txn(0, PURCHASE, 1234, 0, PSO, 0) + rec(APPROVE),
    "store_full_log_reboot": STORE + b"".join(txn(p, PURCHASE, 100 + p, 0, PSO, 0) + rec(APPROVE)
        for p in range(4)) + cut() + rec(LINK) + b"".join(txn(p, PURCHASE, 100 + p, 0, PSO, 0)
        for p in range(4)),
}

os.makedirs(D, exist_ok=True)
for name, data in SEEDS.items():
    if not data or data[0] > 0x3F or name in ("apdu_balance",):
        pass
    # byte 0 is the configuration: seeds that start with a record get 00
    body = data if name in ("small_display", "t1_purchase", "cleanup_always") or \
        name.startswith("store_") else b"\x00" + data
    with open(os.path.join(D, name), "wb") as f:
        f.write(body)
print(len(SEEDS), "seeds in", D)
