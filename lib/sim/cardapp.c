/*
 * cardlink — the card-application interface's shared rule (cardlink/cardapp.h).
 * SPDX-License-Identifier: Apache-2.0
 */
#include "cardlink/cardapp.h"

/* see cardlink/cardapp.h */
bool cl_cardapp_t0_has_data(const uint8_t hdr[5])
{
    if (hdr == NULL)
        return false;
    switch (hdr[1]) {
    case 0x0E: /* ERASE BINARY */
    case 0x20: /* VERIFY */
    case 0x21:
    case 0x22: /* MANAGE SECURITY ENVIRONMENT */
    case 0x24: /* CHANGE REFERENCE DATA */
    case 0x2A: /* PERFORM SECURITY OPERATION */
    case 0x2C: /* RESET RETRY COUNTER */
    case 0x46: /* GENERATE ASYMMETRIC KEY PAIR */
    case 0x82: /* EXTERNAL AUTHENTICATE */
    case 0x86: /* GENERAL AUTHENTICATE */
    case 0x88: /* INTERNAL AUTHENTICATE */
    case 0xA0: /* SEARCH BINARY */
    case 0xA2: /* SEARCH RECORD */
    case 0xA4: /* SELECT */
    case 0xC2: /* ENVELOPE */
    case 0xD0: /* WRITE BINARY */
    case 0xD2: /* WRITE RECORD */
    case 0xD6: /* UPDATE BINARY */
    case 0xDA: /* PUT DATA */
    case 0xDB:
    case 0xDC: /* UPDATE RECORD */
    case 0xE2: /* APPEND RECORD */
        return true;
    default:
        return false;
    }
}
