/*
 * cardlink-tool — what the tool's source files share.
 * SPDX-License-Identifier: Apache-2.0
 *
 * cardlink-tool.c: main, usage, hex input, status words, readers, scripts.
 * tool/atr.c: the ATR decode (strict and lenient, smartcard_list.txt names).
 * tool/apdu.c: command APDUs explained, CLA/INS/P1/P2.
 * tool/tlv.c: BER-TLV trees with ISO 7816 / EMV tag names.
 * tool/policy.c: what a device's lib/policy does with a relayed command.
 */
#ifndef CARDLINK_TOOL_H
#define CARDLINK_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cardlink/atr.h"

#define HEX_MAX 70000

/* The decoded hex input of the last parse_hex_args() call. */
extern uint8_t inbuf[HEX_MAX];

/* Join argv[first..argc) and decode it as hex into inbuf; spaces, colons
 * and tabs allowed. Returns the byte count, or -1 with a message on stderr. */
long parse_hex_args(int argc, char **argv, int first);

/* Hex bytes separated by sep. */
void print_hex(FILE *f, const uint8_t *b, size_t n, const char *sep);

/* Usage on stderr, returns 2. */
int usage(void);

/* tool/atr.c: `atr [--json] HEX`; and the decode of a card's ATR. */
int cmd_atr(int argc, char **argv);
void atr_human(const struct cl_atr *a, bool tck_ok, unsigned warn,
               const uint8_t *trailing, size_t ntrailing);

/* tool/apdu.c: `apdu HEX`, and the name of a command ("" when len < 4). */
int cmd_apdu(int argc, char **argv);
const char *apdu_name(const uint8_t *cmd, size_t len);

/* tool/tlv.c: `tlv HEX`; and the tree of a response's data (indented). */
int cmd_tlv(int argc, char **argv);
/* Print data as a TLV tree; false (nothing printed) when it is not BER-TLV. */
bool tlv_tree(const uint8_t *data, size_t len, const char *indent);
/* The ISO 7816 / EMV name of a tag (held as in cardlink/tlv.h), or NULL. */
const char *tlv_tag_name(uint32_t tag);

/* tool/policy.c: `policy [--iso] [--after-pin] HEX`. */
int cmd_policy(int argc, char **argv);

#endif
