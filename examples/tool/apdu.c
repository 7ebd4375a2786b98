/*
 * cardlink-tool — command APDUs explained (ISO/IEC 7816-4 §5, GlobalPlatform, PC/SC).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardlink/apdu.h"
#include "cardlink/error.h"
#include "tool.h"

/* ----------------------------------------------------------------- APDU */

/* Names of the interindustry commands of ISO 7816-4 (and the few others a
 * card engineer meets every day), for the decode. */
static const char *ins_name(uint8_t cla, uint8_t ins)
{
    static const struct { uint8_t ins; const char *name; } names[] = {
        { 0x0E, "ERASE BINARY" }, { 0x20, "VERIFY" }, { 0x21, "VERIFY" },
        { 0x22, "MANAGE SECURITY ENVIRONMENT" }, { 0x24, "CHANGE REFERENCE DATA" },
        { 0x26, "DISABLE VERIFICATION REQUIREMENT" },
        { 0x28, "ENABLE VERIFICATION REQUIREMENT" },
        { 0x2A, "PERFORM SECURITY OPERATION" }, { 0x2C, "RESET RETRY COUNTER" },
        { 0x44, "ACTIVATE FILE" }, { 0x46, "GENERATE ASYMMETRIC KEY PAIR" },
        { 0x70, "MANAGE CHANNEL" }, { 0x82, "EXTERNAL AUTHENTICATE" },
        { 0x84, "GET CHALLENGE" }, { 0x86, "GENERAL AUTHENTICATE" },
        { 0x88, "INTERNAL AUTHENTICATE" }, { 0xA0, "SEARCH BINARY" },
        { 0xA2, "SEARCH RECORD" }, { 0xA4, "SELECT" }, { 0xAE, "GENERATE AC" },
        { 0xB0, "READ BINARY" }, { 0xB1, "READ BINARY" }, { 0xB2, "READ RECORD" },
        { 0xC0, "GET RESPONSE" }, { 0xC2, "ENVELOPE" }, { 0xCA, "GET DATA" },
        { 0xCB, "GET DATA" }, { 0xD0, "WRITE BINARY" }, { 0xD2, "WRITE RECORD" },
        { 0xD6, "UPDATE BINARY" }, { 0xDA, "PUT DATA" }, { 0xDC, "UPDATE RECORD" },
        { 0xE0, "CREATE FILE" }, { 0xE2, "APPEND RECORD" }, { 0xE4, "DELETE FILE" },
        { 0xE6, "TERMINATE DF" }, { 0xE8, "TERMINATE EF" },
        { 0xFE, "TERMINATE CARD USAGE" },
    };
    size_t i;

    if (cla & 0x80)
        return "proprietary class";
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].ins == ins)
            return names[i].name;
    return "unknown instruction";
}

int cmd_apdu(int argc, char **argv)
{
    static const char *const case_names[] = { "", "1", "2S", "3S", "4S", "2E", "3E", "4E" };
    struct cl_apdu a;
    enum cl_apdu_case c;
    long n;
    int err;

    if (argc < 3)
        return usage();
    n = parse_hex_args(argc, argv, 2);
    if (n < 0)
        return 1;
    err = cl_apdu_decode(inbuf, (size_t)n, &a, &c);
    if (err != CL_OK) {
        fprintf(stderr, "cardlink-tool: malformed command APDU (%ld bytes): %s\n", n,
                cl_strerror(err));
        return 1;
    }
    printf("case %s (%s)\n", case_names[c], CL_APDU_CASE_IS_EXTENDED(c) ? "extended" : "short");
    printf("CLA %02X  %s, logical channel %u%s\n", a.cla,
           a.cla & 0x80 ? "proprietary" : "interindustry",
           (a.cla & 0x40) ? 4u + (a.cla & 0x0Fu) : a.cla & 3u,
           (a.cla & 0x10) && !(a.cla & 0x80) ? ", command chaining" : "");
    printf("INS %02X  %s\n", a.ins, ins_name(a.cla, a.ins));
    printf("P1  %02X\nP2  %02X\n", a.p1, a.p2);
    if (a.nc) {
        printf("Lc  %zu\ndata ", a.nc);
        print_hex(stdout, a.data, a.nc, " ");
        putchar('\n');
    }
    if (a.ne)
        printf("Le  %zu%s\n", a.ne,
               (a.ne == 256 && !CL_APDU_CASE_IS_EXTENDED(c)) ||
                       (a.ne == 65536 && CL_APDU_CASE_IS_EXTENDED(c))
                   ? " (Le field 0: maximum)" : "");
    err = cl_apdu_check_header(&a);
    if (err != CL_OK)
        printf("warning: %s (CLA FF or INS 6X/9X cannot be sent)\n", cl_strerror(err));
    return 0;
}

