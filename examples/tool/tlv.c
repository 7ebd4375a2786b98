/*
 * cardlink-tool — BER-TLV trees with ISO 7816 / EMV tag names.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/tlv.h"
#include "tool.h"

/* see tool/tool.h */
bool tlv_tree(const uint8_t *data, size_t len, const char *indent)
{
    (void)data;
    (void)len;
    (void)indent;
    return false;
}

/* see tool/tool.h */
int cmd_tlv(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return usage();
}
