/*
 * cardlink — status word classes and texts (ISO/IEC 7816-4 §5.6).
 * SPDX-License-Identifier: Apache-2.0
 *
 * The texts live in one constant blob of records, sorted by key:
 * KEY_HI KEY_LO text NUL. Keys 0000..0007 hold the class texts (SW1 00 is
 * never a status word, so they cannot collide); the other keys are status
 * words. Ranges share one record: 6202..6280 and 6402..6480 ("triggering
 * by the card") look up 6202, 63C0..63CF look up 63C0; 9000, 61XX and 6CXX
 * are fully described by their class text. No pointer table: on a
 * Cortex-M0+ the records cost 3 bytes each beyond their text, where a
 * pointer per text would cost 4 or more.
 */
#include "cardlink/sw.h"

/* One record: the two key bytes as string pieces, then the text. The key
 * pieces are separate literals so that a hex escape never swallows the
 * first letter of the text. */
#define R(k1, k2, text) k1 k2 text "\0"

static const char sw_texts[] =
    R("\x00", "\x00", "Invalid status word")
    R("\x00", "\x01", "No error")
    R("\x00", "\x02", "More data available")
    R("\x00", "\x03", "Warning")
    R("\x00", "\x04", "Execution error")
    R("\x00", "\x05", "Checking error")
    R("\x00", "\x06", "Wrong Le, SW2 = bytes available")
    R("\x00", "\x07", "Proprietary status")
#if CL_SW_TEXTS
    R("\x62", "\x00", "Warning, memory unchanged")
    R("\x62", "\x02", "Triggering by the card")
    R("\x62", "\x81", "Data may be corrupted")
    R("\x62", "\x82", "End reached before Ne bytes")
    R("\x62", "\x83", "Selected file deactivated")
    R("\x62", "\x84", "File control info bad format")
    R("\x62", "\x85", "Selected file terminated")
    R("\x62", "\x86", "No input data from sensor")
    R("\x62", "\x87", "Referenced record deactivated")
    R("\x63", "\x00", "Warning, memory changed")
    R("\x63", "\x81", "File filled up by last write")
    R("\x63", "\xC0", "Verify failed, X tries left")
    R("\x64", "\x00", "Error, memory unchanged")
    R("\x64", "\x01", "Immediate response required")
    R("\x65", "\x00", "Error, memory changed")
    R("\x65", "\x81", "Memory failure")
    R("\x66", "\x00", "Security-related issue")
    R("\x67", "\x00", "Wrong length")
    R("\x68", "\x00", "CLA function not supported")
    R("\x68", "\x81", "Logical channel not supported")
    R("\x68", "\x82", "Secure messaging not supported")
    R("\x68", "\x83", "Last command of chain expected")
    R("\x68", "\x84", "Command chaining not supported")
    R("\x69", "\x00", "Command not allowed")
    R("\x69", "\x81", "Incompatible with file structure")
    R("\x69", "\x82", "Security status not satisfied")
    R("\x69", "\x83", "Authentication method blocked")
    R("\x69", "\x84", "Reference data not usable")
    R("\x69", "\x85", "Conditions of use not satisfied")
    R("\x69", "\x86", "No current EF")
    R("\x69", "\x87", "SM data objects missing")
    R("\x69", "\x88", "SM data objects incorrect")
    R("\x6A", "\x00", "Wrong parameters")
    R("\x6A", "\x80", "Incorrect data field")
    R("\x6A", "\x81", "Function not supported")
    R("\x6A", "\x82", "File or application not found")
    R("\x6A", "\x83", "Record not found")
    R("\x6A", "\x84", "Not enough memory in file")
    R("\x6A", "\x85", "Nc inconsistent with TLV")
    R("\x6A", "\x86", "Incorrect P1-P2")
    R("\x6A", "\x87", "Nc inconsistent with P1-P2")
    R("\x6A", "\x88", "Referenced data not found")
    R("\x6A", "\x89", "File already exists")
    R("\x6A", "\x8A", "DF name already exists")
    R("\x6B", "\x00", "Wrong P1-P2")
    R("\x6D", "\x00", "INS not supported or invalid")
    R("\x6E", "\x00", "CLA not supported")
    R("\x6F", "\x00", "No precise diagnosis")
#endif
    ;

/* Class of SW1 60..6F, by its low nibble. */
static const uint8_t sw1_6x_class[16] = {
    CL_SW_CLASS_INVALID, CL_SW_CLASS_MORE_DATA,
    CL_SW_CLASS_WARNING, CL_SW_CLASS_WARNING,
    CL_SW_CLASS_EXEC_ERROR, CL_SW_CLASS_EXEC_ERROR, CL_SW_CLASS_EXEC_ERROR,
    CL_SW_CLASS_CHECK_ERROR, CL_SW_CLASS_CHECK_ERROR, CL_SW_CLASS_CHECK_ERROR,
    CL_SW_CLASS_CHECK_ERROR, CL_SW_CLASS_CHECK_ERROR,
    CL_SW_CLASS_WRONG_LE,
    CL_SW_CLASS_CHECK_ERROR, CL_SW_CLASS_CHECK_ERROR, CL_SW_CLASS_CHECK_ERROR
};

/* see cardlink/sw.h */
enum cl_sw_class cl_sw_class(uint16_t sw)
{
    unsigned sw1 = (unsigned)sw >> 8;

    if (sw == CL_SW_OK)
        return CL_SW_CLASS_SUCCESS;
    if ((sw1 & 0xF0u) == 0x90u)
        return CL_SW_CLASS_PROPRIETARY;
    if ((sw1 & 0xF0u) == 0x60u)
        return (enum cl_sw_class)sw1_6x_class[sw1 & 0x0Fu];
    return CL_SW_CLASS_INVALID;
}

/* see cardlink/sw.h */
bool cl_sw_is_success(uint16_t sw)
{
    return sw == CL_SW_OK || (sw >> 8) == 0x61u;
}

/* see cardlink/sw.h */
int cl_sw_retries(uint16_t sw)
{
    return (sw & 0xFFF0u) == 0x63C0u ? (int)(sw & 0x0Fu) : -1;
}

/* The text of the record with this key, or NULL. */
static const char *sw_find(unsigned key)
{
    const char *p = sw_texts;
    const char *end = sw_texts + sizeof(sw_texts) - 1;

    while (p < end) {
        unsigned k = (unsigned)(uint8_t)p[0] << 8 | (uint8_t)p[1];

        if (k >= key)
            return k == key ? p + 2 : NULL;
        p += 2;
        while (*p++ != '\0')
            ;
    }
    return NULL;
}

/* see cardlink/sw.h */
const char *cl_sw_text(uint16_t sw)
{
    enum cl_sw_class c = cl_sw_class(sw);
    const char *t = NULL;

#if CL_SW_TEXTS
    if (c != CL_SW_CLASS_INVALID) {
        unsigned key = sw, sw2 = sw & 0xFFu;

        if (((sw >> 8) == 0x62u || (sw >> 8) == 0x64u) && sw2 >= 0x02u && sw2 <= 0x80u)
            key = 0x6202u;
        else if (cl_sw_retries(sw) >= 0)
            key = 0x63C0u;
        t = sw_find(key);
    }
#endif
    if (!t)
        t = sw_find((unsigned)c);
    return t;
}
