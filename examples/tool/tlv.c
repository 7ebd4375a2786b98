/*
 * cardlink-tool — BER-TLV trees with ISO 7816 / EMV tag names.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Names: ISO/IEC 7816-4 (FCP/FCI/FMD, §7.4 and §8), ISO/IEC 7816-6 and
 * EMV Book 3 annex A. The context tags below 0xC0 of an FCP (62) or FCI
 * (6F) mean file control parameters; elsewhere the EMV meanings are used.
 */
#include <stdio.h>
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/tlv.h"
#include "tool.h"

#define DEPTH_MAX 10

struct tag_name {
    uint32_t tag;
    const char *name;
};

/* Inside an FCP or FCI template (ISO 7816-4 table 12). */
static const struct tag_name fcp_names[] = {
    { 0x80, "file size (data bytes)" }, { 0x81, "file size (with structural information)" },
    { 0x82, "file descriptor" }, { 0x83, "file identifier" }, { 0x84, "DF name" },
    { 0x85, "proprietary information" }, { 0x86, "security attributes (proprietary)" },
    { 0x87, "EF with FCI extension" }, { 0x88, "short EF identifier" },
    { 0x8A, "life cycle status" }, { 0x8B, "security attributes (expanded, referenced)" },
    { 0x8C, "security attributes (compact)" }, { 0x8D, "EF with security environment templates" },
    { 0x8E, "channel security attribute" },
    { 0xA0, "security attribute template for data objects" },
    { 0xA1, "security attribute template (proprietary)" },
    { 0xA5, "proprietary information (FCI proprietary template)" },
    { 0xAB, "security attributes (expanded)" },
    { 0xAC, "cryptographic mechanism identifier template" },
};

/* Everywhere else: interindustry and EMV tags. */
static const struct tag_name names[] = {
    { 0x4F, "application identifier (AID)" }, { 0x50, "application label" },
    { 0x57, "track 2 equivalent data" }, { 0x5A, "application PAN" },
    { 0x5F20, "cardholder name" }, { 0x5F24, "application expiration date" },
    { 0x5F25, "application effective date" }, { 0x5F28, "issuer country code" },
    { 0x5F2A, "transaction currency code" }, { 0x5F2D, "language preference" },
    { 0x5F30, "service code" }, { 0x5F34, "PAN sequence number" },
    { 0x5F50, "issuer URL" }, { 0x5F53, "IBAN" }, { 0x5F54, "bank identifier code" },
    { 0x61, "application template" }, { 0x62, "FCP template" }, { 0x64, "FMD template" },
    { 0x6F, "FCI template" }, { 0x70, "record template" },
    { 0x71, "issuer script template 1" }, { 0x72, "issuer script template 2" },
    { 0x73, "directory discretionary template" },
    { 0x77, "response message template format 2" },
    { 0x7C, "dynamic authentication template" }, { 0x7F21, "card verifiable certificate" },
    { 0x7F49, "public key" }, { 0x7F4E, "certificate body" },
    { 0x80, "response message template format 1" }, { 0x82, "application interchange profile" },
    { 0x84, "DF name" }, { 0x87, "application priority indicator" },
    { 0x88, "short EF identifier" }, { 0x8C, "CDOL1" }, { 0x8D, "CDOL2" },
    { 0x8E, "CVM list" }, { 0x8F, "certification authority public key index" },
    { 0x90, "issuer public key certificate" }, { 0x92, "issuer public key remainder" },
    { 0x93, "signed static application data" }, { 0x94, "application file locator" },
    { 0x95, "terminal verification results" }, { 0x9A, "transaction date" },
    { 0x9C, "transaction type" }, { 0x9D, "DDF name" },
    { 0x9F02, "amount, authorised" }, { 0x9F03, "amount, other" },
    { 0x9F07, "application usage control" }, { 0x9F08, "application version number" },
    { 0x9F0D, "issuer action code, default" }, { 0x9F0E, "issuer action code, denial" },
    { 0x9F0F, "issuer action code, online" }, { 0x9F10, "issuer application data" },
    { 0x9F11, "issuer code table index" }, { 0x9F12, "application preferred name" },
    { 0x9F13, "last online ATC register" }, { 0x9F17, "PIN try counter" },
    { 0x9F1A, "terminal country code" }, { 0x9F1F, "track 1 discretionary data" },
    { 0x9F26, "application cryptogram" }, { 0x9F27, "cryptogram information data" },
    { 0x9F32, "issuer public key exponent" }, { 0x9F34, "CVM results" },
    { 0x9F36, "application transaction counter (ATC)" }, { 0x9F37, "unpredictable number" },
    { 0x9F38, "PDOL" }, { 0x9F42, "application currency code" },
    { 0x9F44, "application currency exponent" }, { 0x9F46, "ICC public key certificate" },
    { 0x9F47, "ICC public key exponent" }, { 0x9F48, "ICC public key remainder" },
    { 0x9F4A, "static data authentication tag list" },
    { 0x9F4B, "signed dynamic application data" }, { 0x9F4C, "ICC dynamic number" },
    { 0x9F4D, "log entry" }, { 0x9F4F, "log format" }, { 0x9F6E, "form factor indicator" },
    { 0xA5, "FCI proprietary template" }, { 0xBF0C, "FCI issuer discretionary data" },
};

static const char *find(const struct tag_name *t, size_t n, uint32_t tag)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (t[i].tag == tag)
            return t[i].name;
    return NULL;
}

static const char *name_in(uint32_t tag, uint32_t parent)
{
    const char *n = NULL;

    if (parent == 0x62 || parent == 0x6F || parent == 0x64)
        n = find(fcp_names, sizeof(fcp_names) / sizeof(fcp_names[0]), tag);
    if (!n)
        n = find(names, sizeof(names) / sizeof(names[0]), tag);
    return n;
}

/* see tool/tool.h */
const char *tlv_tag_name(uint32_t tag)
{
    return name_in(tag, 0);
}

/* Whether buf[0..len) is a whole sequence of data objects, constructed
 * ones included, down to DEPTH_MAX levels. */
static bool valid(const uint8_t *buf, size_t len, unsigned depth)
{
    struct cl_tlv_iter it;
    struct cl_tlv t;
    int r;

    if (depth > DEPTH_MAX)
        return false;
    cl_tlv_iter_init(&it, buf, len);
    while ((r = cl_tlv_iter_next(&it, &t)) == 1)
        if (t.constructed && !valid(t.value, t.len, depth + 1))
            return false;
    return r == 0;
}

static bool printable(const uint8_t *v, size_t n)
{
    size_t i;

    if (n < 2)
        return false;
    for (i = 0; i < n; i++)
        if (v[i] < 0x20 || v[i] >= 0x7F)
            return false;
    return true;
}

static void print_value_note(uint32_t tag, uint32_t parent, const uint8_t *v, size_t n)
{
    bool fcp = parent == 0x62 || parent == 0x6F || parent == 0x64;
    size_t i;

    if (fcp && (tag == 0x80 || tag == 0x81) && n >= 1 && n <= 4) {
        uint32_t x = 0;
        for (i = 0; i < n; i++)
            x = x << 8 | v[i];
        printf("  (%lu bytes)", (unsigned long)x);
    } else if (fcp && tag == 0x82 && n >= 1) {
        static const char *const ef[8] = {
            "no EF structure", "transparent", "linear fixed", "linear fixed, TLV",
            "linear variable", "linear variable, TLV", "cyclic", "cyclic, TLV"
        };
        uint8_t d = v[0];
        if ((d & 0x3F) == 0x38)
            printf("  (DF%s)", d & 0x40 ? ", shareable" : "");
        else if ((d & 0x80) == 0)
            printf("  (%s EF, %s%s)", (d & 0x38) == 0 ? "working" : (d & 0x38) == 0x08 ? "internal" : "proprietary",
                   ef[d & 7], d & 0x40 ? ", shareable" : "");
        if (n >= 4)
            printf("  max record size %u", n >= 5 ? (unsigned)v[2] << 8 | v[3] : v[3]);
        if (n == 5 || n == 6)
            printf(", %u records", n == 5 ? v[4] : (unsigned)v[4] << 8 | v[5]);
    } else if (fcp && tag == 0x8A && n == 1) {
        uint8_t l = v[0];
        printf("  (%s)", l == 1 ? "creation" : l == 3 ? "initialisation" :
               (l == 5 || l == 7) ? "operational, activated" : (l == 4 || l == 6) ? "operational, deactivated" :
               (l & 0xFC) == 0x0C ? "terminated" : l >= 0x10 ? "proprietary" : "no information");
    } else if ((tag == 0x5F24 || tag == 0x5F25 || tag == 0x9A) && n == 3) {
        printf("  (20%02X-%02X-%02X)", v[0], v[1], v[2]);
    } else if ((tag == 0x9F36 || tag == 0x9F13 || tag == 0x9F17) && n >= 1 && n <= 2) {
        printf("  (%u)", n == 2 ? (unsigned)v[0] << 8 | v[1] : v[0]);
    } else if (tag == 0x9F27 && n == 1) {
        printf("  (%s)", (v[0] & 0xC0) == 0 ? "AAC" : (v[0] & 0xC0) == 0x40 ? "TC" :
               (v[0] & 0xC0) == 0x80 ? "ARQC" : "RFU");
    } else if (tag == 0x87 && !fcp && n == 1) {
        printf("  (priority %u%s)", v[0] & 15, v[0] & 0x80 ? ", not without confirmation" : "");
    }
}

static void tree(const uint8_t *buf, size_t len, const char *indent, unsigned depth, uint32_t parent)
{
    struct cl_tlv_iter it;
    struct cl_tlv t;
    size_t i;

    cl_tlv_iter_init(&it, buf, len);
    while (cl_tlv_iter_next(&it, &t) == 1) {
        const char *n = name_in(t.tag, parent);
        const uint8_t *hdr = t.value - (t.total - t.len);

        printf("%s%*s", indent, (int)(2 * depth), "");
        for (i = 0; i < t.total - t.len; i++)
            printf("%s%02X", i ? " " : "", hdr[i]);
        if (t.constructed) {
            printf("  %s\n", n ? n : "(constructed)");
            tree(t.value, t.len, indent, depth + 1, t.tag);
            continue;
        }
        if (n)
            printf("  %s:", n);
        else if (t.len)
            printf(" ");
        for (i = 0; i < t.len; i++)
            printf(" %02X", t.value[i]);
        if (n && t.len == 0)
            printf(" (empty)");
        if (printable(t.value, t.len)) {
            printf("  \"");
            fwrite(t.value, 1, t.len, stdout);
            putchar('"');
        }
        print_value_note(t.tag, parent, t.value, t.len);
        putchar('\n');
    }
}

/* see tool/tool.h */
bool tlv_tree(const uint8_t *data, size_t len, const char *indent)
{
    if (len == 0 || !valid(data, len, 0))
        return false;
    tree(data, len, indent, 0, 0);
    return true;
}

/* see tool/tool.h */
int cmd_tlv(int argc, char **argv)
{
    struct cl_tlv_iter it;
    struct cl_tlv t;
    long n;
    int r;

    if (argc < 3)
        return usage();
    n = parse_hex_args(argc, argv, 2);
    if (n < 0)
        return 1;
    if (tlv_tree(inbuf, (size_t)n, ""))
        return 0;
    /* Say where it breaks: the objects before, then the error. */
    cl_tlv_iter_init(&it, inbuf, (size_t)n);
    while ((r = cl_tlv_iter_next(&it, &t)) == 1)
        ;
    fprintf(stderr, "cardlink-tool: not BER-TLV: %s\n",
            n == 0 ? "no data" : r < 0 ? cl_strerror(r) : "a constructed object holds malformed data");
    return 1;
}
