/*
 * cardlink-tool — command APDUs explained (ISO/IEC 7816-4 §5, GlobalPlatform, PC/SC).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardlink/apdu.h"
#include "cardlink/error.h"
#include "cardlink/tlv.h"
#include "tool.h"

/* ----------------------------------------------------------------- APDU */

/* The commands a card engineer meets every day: the interindustry ones of
 * ISO 7816-4/-8/-9 (CLA b8 = 0), GlobalPlatform's, EMV's and cardlink's
 * own (CLA b8 = 1), the PC/SC pseudo-APDUs (CLA FF). */
enum family { ISO, GP, EMV, CARDLINK, PCSC };

struct ins_name {
    uint8_t fam, ins;
    const char *name;
};

static const struct ins_name ins_names[] = {
    { ISO, 0x04, "DEACTIVATE FILE" }, { ISO, 0x0C, "ERASE RECORD(S)" },
    { ISO, 0x0E, "ERASE BINARY" }, { ISO, 0x0F, "ERASE BINARY" },
    { ISO, 0x10, "PERFORM SCQL OPERATION" }, { ISO, 0x12, "PERFORM TRANSACTION OPERATION" },
    { ISO, 0x14, "PERFORM USER OPERATION" },
    { ISO, 0x20, "VERIFY" }, { ISO, 0x21, "VERIFY" },
    { ISO, 0x22, "MANAGE SECURITY ENVIRONMENT" }, { ISO, 0x24, "CHANGE REFERENCE DATA" },
    { ISO, 0x26, "DISABLE VERIFICATION REQUIREMENT" },
    { ISO, 0x28, "ENABLE VERIFICATION REQUIREMENT" },
    { ISO, 0x2A, "PERFORM SECURITY OPERATION" }, { ISO, 0x2C, "RESET RETRY COUNTER" },
    { ISO, 0x44, "ACTIVATE FILE" }, { ISO, 0x46, "GENERATE ASYMMETRIC KEY PAIR" },
    { ISO, 0x47, "GENERATE ASYMMETRIC KEY PAIR" },
    { ISO, 0x70, "MANAGE CHANNEL" }, { ISO, 0x82, "EXTERNAL (MUTUAL) AUTHENTICATE" },
    { ISO, 0x84, "GET CHALLENGE" }, { ISO, 0x86, "GENERAL AUTHENTICATE" },
    { ISO, 0x87, "GENERAL AUTHENTICATE" }, { ISO, 0x88, "INTERNAL AUTHENTICATE" },
    { ISO, 0xA0, "SEARCH BINARY" }, { ISO, 0xA1, "SEARCH BINARY" },
    { ISO, 0xA2, "SEARCH RECORD" }, { ISO, 0xA4, "SELECT" },
    { ISO, 0xB0, "READ BINARY" }, { ISO, 0xB1, "READ BINARY" },
    { ISO, 0xB2, "READ RECORD(S)" }, { ISO, 0xB3, "READ RECORD(S)" },
    { ISO, 0xC0, "GET RESPONSE" }, { ISO, 0xC2, "ENVELOPE" }, { ISO, 0xC3, "ENVELOPE" },
    { ISO, 0xCA, "GET DATA" }, { ISO, 0xCB, "GET DATA" },
    { ISO, 0xD0, "WRITE BINARY" }, { ISO, 0xD1, "WRITE BINARY" },
    { ISO, 0xD2, "WRITE RECORD" }, { ISO, 0xD6, "UPDATE BINARY" },
    { ISO, 0xD7, "UPDATE BINARY" }, { ISO, 0xDA, "PUT DATA" }, { ISO, 0xDB, "PUT DATA" },
    { ISO, 0xDC, "UPDATE RECORD" }, { ISO, 0xDD, "UPDATE RECORD" },
    { ISO, 0xE0, "CREATE FILE" }, { ISO, 0xE2, "APPEND RECORD" },
    { ISO, 0xE4, "DELETE FILE" }, { ISO, 0xE6, "TERMINATE DF" },
    { ISO, 0xE8, "TERMINATE EF" }, { ISO, 0xFE, "TERMINATE CARD USAGE" },

    { CARDLINK, 0x52, "CREDIT (cardlink applet: purse)" },
    { CARDLINK, 0x54, "DEBIT (cardlink applet: purse, PIN required)" },
    { CARDLINK, 0x56, "USE (cardlink applet: e-goods record)" },
    { CARDLINK, 0x5C, "GET BALANCE (cardlink applet: purse)" },
    { CARDLINK, 0x1E, "BLOCK (cardlink applet: issuer-signed, the card for good)" },
    { CARDLINK, 0xEE, "ECHO (cardlink-vcard's simulated card: test command)" },

    { GP, 0x50, "INITIALIZE UPDATE (GlobalPlatform)" },
    { GP, 0x82, "EXTERNAL AUTHENTICATE (GlobalPlatform)" },
    { GP, 0xCA, "GET DATA (GlobalPlatform)" }, { GP, 0xCB, "GET DATA (GlobalPlatform)" },
    { GP, 0xD8, "PUT KEY (GlobalPlatform)" }, { GP, 0xE2, "STORE DATA (GlobalPlatform)" },
    { GP, 0xE4, "DELETE (GlobalPlatform)" }, { GP, 0xE6, "INSTALL (GlobalPlatform)" },
    { GP, 0xE8, "LOAD (GlobalPlatform)" }, { GP, 0xF0, "SET STATUS (GlobalPlatform)" },
    { GP, 0xF2, "GET STATUS (GlobalPlatform)" }, { GP, 0x78, "END R-MAC SESSION (GlobalPlatform)" },
    { GP, 0x7A, "BEGIN R-MAC SESSION (GlobalPlatform)" },

    { EMV, 0xA8, "GET PROCESSING OPTIONS (EMV)" }, { EMV, 0xAE, "GENERATE AC (EMV)" },
    { EMV, 0x1E, "APPLICATION BLOCK (EMV)" }, { EMV, 0x18, "APPLICATION UNBLOCK (EMV)" },
    { EMV, 0x16, "CARD BLOCK (EMV)" }, { EMV, 0x24, "PIN CHANGE/UNBLOCK (EMV)" },

    { PCSC, 0xCA, "GET DATA (PC/SC pseudo-APDU)" }, { PCSC, 0x82, "LOAD KEYS (PC/SC pseudo-APDU)" },
    { PCSC, 0x86, "GENERAL AUTHENTICATE (PC/SC pseudo-APDU)" },
    { PCSC, 0x88, "AUTHENTICATE, obsolete form (PC/SC pseudo-APDU)" },
    { PCSC, 0xB0, "READ BINARY (PC/SC pseudo-APDU)" },
    { PCSC, 0xD6, "UPDATE BINARY (PC/SC pseudo-APDU)" },
    { PCSC, 0xC2, "MANAGE SESSION / TRANSPARENT EXCHANGE (PC/SC pseudo-APDU)" },
};

static const char *lookup(enum family f, uint8_t ins)
{
    size_t i;

    for (i = 0; i < sizeof(ins_names) / sizeof(ins_names[0]); i++)
        if (ins_names[i].fam == f && ins_names[i].ins == ins)
            return ins_names[i].name;
    return NULL;
}

/* The family a proprietary class byte most likely belongs to, in the order
 * a card engineer would guess: cardlink's applet, GlobalPlatform, EMV. */
static const char *ins_name(uint8_t cla, uint8_t ins, enum family *fam)
{
    const char *n;

    if (cla == 0xFF) {
        *fam = PCSC;
        n = lookup(PCSC, ins);
        return n ? n : "unknown PC/SC pseudo-APDU";
    }
    if (!(cla & 0x80)) {
        *fam = ISO;
        n = lookup(ISO, ins);
        return n ? n : "unknown instruction";
    }
    /* (84/8C 1E stays EMV's APPLICATION BLOCK: cardlink's BLOCK is 80 1E) */
    if ((n = lookup(CARDLINK, ins)) != NULL && (cla & 0xF0) == 0x80 &&
        (ins != 0x1E || cla == 0x80)) {
        *fam = CARDLINK;
        return n;
    }
    if ((n = lookup(GP, ins)) != NULL) {
        *fam = GP;
        return n;
    }
    if ((n = lookup(EMV, ins)) != NULL) {
        *fam = EMV;
        return n;
    }
    *fam = ISO;
    return "proprietary instruction";
}

/* see tool/tool.h */
const char *apdu_name(const uint8_t *cmd, size_t len)
{
    enum family f;

    if (len < 4)
        return "";
    return ins_name(cmd[0], cmd[1], &f);
}

static void cla_explain(uint8_t cla, enum family fam, char *out, size_t size)
{
    static const char *const sm[4] = {
        "no secure messaging", "proprietary secure messaging",
        "secure messaging, header not authenticated", "secure messaging, header authenticated"
    };

    if (cla == 0xFF) {
        snprintf(out, size, "PC/SC: handled by the reader, not sent to the card");
    } else if ((cla & 0xE0) == 0x00) {
        snprintf(out, size, "interindustry, %s, logical channel %u%s", sm[(cla >> 2) & 3], cla & 3u,
                 cla & 0x10 ? ", command chaining: more commands follow" : "");
    } else if ((cla & 0xC0) == 0x40) {
        snprintf(out, size, "interindustry, %s, logical channel %u%s",
                 cla & 0x20 ? "secure messaging, header not authenticated" : "no secure messaging",
                 4u + (cla & 0x0Fu), cla & 0x10 ? ", command chaining: more commands follow" : "");
    } else if ((cla & 0xE0) == 0x20) {
        snprintf(out, size, "RFU class");
    } else {
        /* GlobalPlatform and most card OSes code 80..8F like the first
         * interindustry class, b3 for their secure messaging. */
        snprintf(out, size, "proprietary%s, logical channel %u",
                 fam == CARDLINK ? " (cardlink)" : fam != GP ? "" :
                 cla & 0x04 ? " (GlobalPlatform: secure messaging, C-MAC)"
                            : " (GlobalPlatform: no secure messaging)",
                 (cla & 0x40) ? 4u + (cla & 0x0Fu) : cla & 3u);
    }
}

/* P1/P2 texts for the commands the table above names. Empty: nothing to say. */
static void explain_p1p2(enum family f, const struct cl_apdu *a, char *t1, char *t2, size_t size)
{
    static const char *const fci[4] = {
        "return FCI", "return FCP", "return FMD", "no response data"
    };
    static const char *const occ[4] = {
        "first or only occurrence", "last occurrence", "next occurrence", "previous occurrence"
    };
    static const char *const rec_mode[8] = {
        "first occurrence of record identifier P1", "last occurrence of record identifier P1",
        "next occurrence of record identifier P1", "previous occurrence of record identifier P1",
        "record P1", "records from P1 to the last", "records from the last up to P1", "RFU mode"
    };
    uint8_t p1 = a->p1, p2 = a->p2, ins = a->ins;
    unsigned sfi;

    t1[0] = t2[0] = '\0';
    if (f == PCSC) {
        switch (ins) {
        case 0xCA:
            snprintf(t1, size, "%s", p1 == 0x00 ? "the card's UID (serial number)" :
                     p1 == 0x01 ? "the card's ATS (ISO 14443 A) or historical bytes" : "RFU");
            snprintf(t2, size, "%s", p2 == 0 ? "" : "RFU (00 expected)");
            return;
        case 0x82:
            snprintf(t1, size, "key structure: %s%s", p1 & 0x80 ? "reader key" : "card key",
                     p1 & 0x20 ? ", non-volatile" : ", volatile");
            snprintf(t2, size, "key number %u", p2);
            return;
        case 0x86:
            snprintf(t1, size, "%s", p1 == 0 && p2 == 0 ? "" : "RFU (00 expected)");
            return;
        case 0xB0:
        case 0xD6:
            snprintf(t1, size, "block/page address %u (P1 P2)", (unsigned)p1 << 8 | p2);
            return;
        default:
            return;
        }
    }
    if (f == CARDLINK) {
        if (ins == 0x56)
            snprintf(t1, size, "record %u of EF 0201", p1);
        else if (p1)
            snprintf(t1, size, "RFU (00 expected)");
        if (p2)
            snprintf(t2, size, "RFU (00 expected)");
        return;
    }
    if (f == GP) {
        switch (ins) {
        case 0x50:
            snprintf(t1, size, "key version number %u%s", p1, p1 == 0 ? " (first available)" : "");
            snprintf(t2, size, "key identifier %u", p2);
            return;
        case 0x82:
            snprintf(t1, size, "security level %02X:%s%s%s%s", p1, p1 & 1 ? " C-MAC" : " no MAC",
                     p1 & 2 ? ", C-DECRYPTION" : "", p1 & 0x10 ? ", R-MAC" : "",
                     p1 & 0x20 ? ", R-ENCRYPTION" : "");
            return;
        case 0xE4:
            snprintf(t1, size, "%s", p1 & 0x80 ? "more DELETE commands follow" : "last (or only) command");
            snprintf(t2, size, "%s", p2 & 0x80 ? "delete the object and its related objects"
                                               : "delete the object");
            return;
        case 0xE6:
            snprintf(t1, size, "for%s%s%s%s%s%s", p1 & 0x02 ? " load," : "", p1 & 0x04 ? " install," : "",
                     p1 & 0x08 ? " make selectable," : "", p1 & 0x10 ? " extradition," : "",
                     p1 & 0x20 ? " personalization," : "", p1 & 0x40 ? " registry update," : "");
            if (t1[strlen(t1) - 1] == ',')
                t1[strlen(t1) - 1] = '\0';
            return;
        case 0xE8:
            snprintf(t1, size, "%s", p1 & 0x80 ? "last block" : "more blocks follow");
            snprintf(t2, size, "block number %u", p2);
            return;
        case 0xE2:
            snprintf(t1, size, "%s", p1 & 0x80 ? "last block" : "more blocks follow");
            snprintf(t2, size, "block number %u", p2);
            return;
        case 0xF2:
            snprintf(t1, size, "%s", p1 == 0x80 ? "Issuer Security Domain" :
                     p1 == 0x40 ? "applications and security domains" :
                     p1 == 0x20 ? "executable load files" :
                     p1 == 0x10 ? "executable load files and their modules" : "combination or RFU");
            snprintf(t2, size, "%s, %s", p2 & 1 ? "next occurrence(s)" : "first or all occurrences",
                     p2 & 2 ? "TLV format" : "legacy format");
            return;
        case 0xF0:
            snprintf(t1, size, "%s", p1 == 0x80 ? "Issuer Security Domain" :
                     p1 == 0x40 ? "application or security domain" :
                     p1 == 0x60 ? "security domain and its associated applications" : "RFU");
            snprintf(t2, size, "state control %02X", p2);
            return;
        case 0xD8:
            snprintf(t1, size, "key version number %u%s", p1 & 0x7F, p1 & 0x80 ? ", more commands follow" : "");
            snprintf(t2, size, "key identifier %u%s", p2 & 0x7F, p2 & 0x80 ? ", several keys" : "");
            return;
        default:
            break;   /* GET DATA: as ISO below */
        }
    }
    switch (ins) {
    case 0xA4: {
        static const char *const sel[] = {
            "select MF, DF or EF by file identifier (no data: the MF)", "select child DF",
            "select EF under the current DF", "select parent DF of the current DF",
            "select by DF name (AID)"
        };
        if (p1 <= 4)
            snprintf(t1, size, "%s", sel[p1]);
        else if (p1 == 8)
            snprintf(t1, size, "select by path from the MF");
        else if (p1 == 9)
            snprintf(t1, size, "select by path from the current DF");
        else
            snprintf(t1, size, "RFU");
        snprintf(t2, size, "%s; %s%s", occ[p2 & 3], fci[(p2 >> 2) & 3], p2 & 0xF0 ? "; RFU bits set" : "");
        if (a->nc == 2 && p1 <= 2)
            snprintf(t2 + strlen(t2), size - strlen(t2), " (file %02X%02X)", a->data[0], a->data[1]);
        return;
    }
    case 0xB0: case 0xD0: case 0xD6: case 0x0E:
        if (p1 & 0x80)
            snprintf(t1, size, "short EF identifier %u", p1 & 0x1F);
        else
            snprintf(t1, size, "offset %u (P1 P2, 15 bits)", (unsigned)(p1 & 0x7F) << 8 | p2);
        if (p1 & 0x80)
            snprintf(t2, size, "offset %u", p2);
        return;
    case 0xB1: case 0xD1: case 0xD7: case 0x0F:
        snprintf(t1, size, "odd INS: P1 P2 = file identifier %02X%02X%s, offset in data object 54",
                 p1, p2, (p1 | p2) == 0 ? " (current EF)" : "");
        return;
    case 0xB2: case 0xB3: case 0xD2: case 0xDC: case 0xDD: case 0xE2: case 0x0C:
        if (p1)
            snprintf(t1, size, "record %u", p1);
        else
            snprintf(t1, size, "current record (00)");
        sfi = p2 >> 3;
        if (sfi == 0)
            snprintf(t2, size, "current EF; %s", ins == 0xE2 ? "append" : rec_mode[p2 & 7]);
        else
            snprintf(t2, size, "%s %u; %s", sfi == 31 ? "RFU SFI" : "short EF identifier", sfi,
                     ins == 0xE2 ? "append" : rec_mode[p2 & 7]);
        return;
    case 0x20: case 0x21: case 0x24: case 0x2C: case 0x26: case 0x28:
        if (ins == 0x24)
            snprintf(t1, size, "%s", p1 == 0 ? "old and new reference data" : p1 == 1 ? "new reference data only" : "RFU");
        else if (ins == 0x2C)
            snprintf(t1, size, "%s", p1 == 0 ? "resetting code and new reference data" :
                     p1 == 1 ? "resetting code only" : p1 == 2 ? "new reference data only" :
                     p1 == 3 ? "no data" : "RFU");
        else if (ins == 0x20 && p1 == 0xFF)
            snprintf(t1, size, "reset the verification status");
        else if (p1)
            snprintf(t1, size, "RFU (00 expected)");
        snprintf(t2, size, "%s reference data, number %u%s", p2 & 0x80 ? "specific (DF)" : "global",
                 p2 & 0x1F, (ins == 0x20 && a->nc == 0) ? "; no data: ask for the tries left" : "");
        return;
    case 0x22: {
        static const char *const fn[16] = {
            "RFU", "SET", "STORE", "RESTORE", "ERASE", "RFU", "RFU", "RFU",
            "RFU", "RFU", "RFU", "RFU", "RFU", "RFU", "RFU", "RFU"
        };
        static const struct { uint8_t tag; const char *name; } crt[] = {
            { 0xA4, "authentication (AT)" }, { 0xA6, "key agreement (KAT)" },
            { 0xAA, "hash-code (HT)" }, { 0xB4, "cryptographic checksum (CCT)" },
            { 0xB6, "digital signature (DST)" }, { 0xB8, "confidentiality (CT)" },
        };
        size_t i;
        snprintf(t1, size, "%s%s%s%s%s", fn[p1 & 15],
                 p1 & 0x10 ? ", SM in command data" : "", p1 & 0x20 ? ", SM in response data" : "",
                 p1 & 0x40 ? ", for computation / decipherment / internal auth / key agreement" : "",
                 p1 & 0x80 ? ", for verification / encipherment / external auth / key agreement" : "");
        if ((p1 & 15) == 3 || (p1 & 15) == 2 || (p1 & 15) == 4)
            snprintf(t2, size, "security environment number %u", p2);
        for (i = 0; i < sizeof(crt) / sizeof(crt[0]); i++)
            if (crt[i].tag == p2 && (p1 & 15) == 1)
                snprintf(t2, size, "control reference template %02X: %s", p2, crt[i].name);
        return;
    }
    case 0x2A: {
        unsigned pp = (unsigned)p1 << 8 | p2;
        const char *op = pp == 0x9E9A ? "COMPUTE DIGITAL SIGNATURE" :
                         pp == 0x00A8 ? "VERIFY DIGITAL SIGNATURE" :
                         (pp == 0x0092 || pp == 0x00AE || pp == 0x00BE) ? "VERIFY CERTIFICATE" :
                         pp == 0x8E80 ? "COMPUTE CRYPTOGRAPHIC CHECKSUM" :
                         pp == 0x00A2 ? "VERIFY CRYPTOGRAPHIC CHECKSUM" :
                         (pp == 0x9080 || pp == 0x90A0) ? "HASH" :
                         (pp == 0x8680 || pp == 0x8480 || pp == 0x8280) ? "ENCIPHER" :
                         (pp == 0x8086 || pp == 0x8084 || pp == 0x8082) ? "DECIPHER" : NULL;
        if (op)
            snprintf(t1, size, "PSO: %s (P1 P2 %02X%02X)", op, p1, p2);
        else
            snprintf(t1, size, "PSO with P1 P2 %02X%02X: not a known operation", p1, p2);
        return;
    }
    case 0xCA: case 0xCB: case 0xDA: case 0xDB: {
        uint32_t tag = p1 ? ((uint32_t)p1 << 8 | p2) : p2;
        const char *n = tlv_tag_name(tag);
        if ((ins & 1) && (p1 | p2) == 0)
            snprintf(t1, size, "odd INS: the data objects are named in the data field");
        else if (ins & 1)
            snprintf(t1, size, "odd INS: P1 P2 = file identifier %02X%02X", p1, p2);
        else if (p1 == 0 && p2 < 0x40)
            snprintf(t1, size, "P1 P2 %02X%02X: RFU", p1, p2);
        else if (p1 == 0x01)
            snprintf(t1, size, "proprietary data object %02X (P1 01)", p2);
        else if (p1 == 0x02)
            snprintf(t1, size, "SIMPLE-TLV tag %02X (P1 02)", p2);
        else
            snprintf(t1, size, "tag %0*X%s%s", p1 ? 4 : 2, (unsigned)tag, n ? ": " : "", n ? n : "");
        return;
    }
    case 0xC0:
        if (p1 | p2)
            snprintf(t1, size, "RFU (00 expected)");
        return;
    case 0x84:
        if (p1 | p2)
            snprintf(t1, size, "RFU (00 expected)");
        return;
    case 0x82: case 0x88: case 0x86: case 0x87:
        snprintf(t1, size, "algorithm reference %02X%s", p1, p1 == 0 ? " (known before, or none)" : "");
        snprintf(t2, size, "%s key, number %u%s", p2 & 0x80 ? "specific (DF)" : "global", p2 & 0x1F,
                 p2 == 0 ? " (known before, or none)" : "");
        if (ins == 0x86 || ins == 0x87)
            snprintf(t2, size, "key reference %02X%s", p2, p2 == 0 ? " (known before, or none)" : "");
        return;
    case 0x46: case 0x47:
        snprintf(t1, size, "%s", p1 == 0x80 ? "generate a key pair" : p1 == 0x81 ? "read the public key" :
                 p1 == 0x00 ? "generate (see the control reference template)" : "proprietary");
        snprintf(t2, size, "key reference %02X", p2);
        return;
    case 0x70:
        snprintf(t1, size, "%s", p1 == 0 ? "open a logical channel" : p1 == 0x80 ? "close a logical channel" : "RFU");
        snprintf(t2, size, p2 == 0 && p1 == 0 ? "the card assigns the channel number" : "channel %u", p2);
        return;
    case 0xA8:
        if (f == EMV && (p1 | p2))
            snprintf(t1, size, "RFU (00 expected)");
        return;
    case 0xAE:
        if (f == EMV) {
            snprintf(t1, size, "%s%s", (p1 & 0xC0) == 0x00 ? "AAC (decline)" :
                     (p1 & 0xC0) == 0x40 ? "TC (approve offline)" :
                     (p1 & 0xC0) == 0x80 ? "ARQC (go online)" : "RFU",
                     p1 & 0x10 ? ", CDA signature requested" : "");
        }
        return;
    default:
        return;
    }
}

/* see tool/tool.h */
int cmd_apdu(int argc, char **argv)
{
    static const char *const case_names[] = { "", "1", "2S", "3S", "4S", "2E", "3E", "4E" };
    struct cl_apdu a;
    enum cl_apdu_case c;
    enum family fam;
    char cla_txt[160], t1[400], t2[400];
    const char *name;
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
    name = ins_name(a.cla, a.ins, &fam);
    cla_explain(a.cla, fam, cla_txt, sizeof(cla_txt));
    explain_p1p2(fam, &a, t1, t2, sizeof(t1));
    printf("case %s (%s)\n", case_names[c], CL_APDU_CASE_IS_EXTENDED(c) ? "extended" : "short");
    printf("CLA %02X  %s\n", a.cla, cla_txt);
    printf("INS %02X  %s%s\n", a.ins, name,
           (a.ins & 1) && fam == ISO && a.cla != 0xFF && strcmp(name, "unknown instruction") != 0
               ? " (odd INS: BER-TLV data field)" : "");
    printf("P1  %02X%s%s\nP2  %02X%s%s\n", a.p1, t1[0] ? "  " : "", t1, a.p2, t2[0] ? "  " : "", t2);
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
    if (a.nc && (a.data[0] == 0x6F || a.data[0] == 0x62 || a.data[0] == 0x7C ||
                 a.data[0] == 0x70 || a.data[0] == 0x83) && tlv_tree(a.data, a.nc, "     ")) {
        /* the data field decoded as BER-TLV, where it is */
    }
    err = cl_apdu_check_header(&a);
    if (err != CL_OK && a.cla != 0xFF)
        printf("warning: %s (INS 6X/9X cannot be sent)\n", cl_strerror(err));
    return 0;
}
