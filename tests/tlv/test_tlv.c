/*
 * cardlink — BER-TLV decoding, iteration, look-up and building.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Vectors follow ISO/IEC 7816-4 §5.2 (BER-TLV data objects, padding) and
 * X.690 §8.1.2 (identifier octets), §8.1.3 (length octets), §10.1 (DER
 * minimal length); the FCI shape is the one EMV Book 1 §11.3.4 gives for a
 * payment application selected with SELECT.
 */
#include <stdlib.h>
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/tlv.h"
#include "test_util.h"

/* 6F{84 AID, A5{50 label, 87 priority, 88 SFI, 5F2D languages,
 *             BF0C{9F4D log entry, 9F5A}}} */
static const char fci_hex[] =
    "6F 35 84 07 A0 00 00 00 03 10 10 A5 2A 50 0B 56 49 53 41 20 43 52 45 44"
    "49 54 87 01 01 88 01 01 5F 2D 04 65 6E 66 72 BF 0C 0D 9F 4D 02 0B 0A 9F"
    "5A 05 11 08 40 08 40";

/* ------------------------------------------------------------ decode */

/* One data object: hex header (and maybe value), fill bytes appended after
 * it, flags, and the expected outcome. off is the value's offset. */
static const struct {
    const char *clause;
    const char *hex;
    size_t fill;
    unsigned flags;
    int rc;
    uint32_t tag;
    bool cons;
    size_t off, len, total;
} dec_vectors[] = {
    /* identifier octets */
    { "X.690 8.1.2.3 one-byte tag", "5A 02 12 34", 0, 0, CL_OK, 0x5A, false, 2, 2, 4 },
    { "X.690 8.1.2.5 constructed", "6F 00", 0, 0, CL_OK, 0x6F, true, 2, 0, 2 },
    { "EMV 5F2A two-byte tag", "5F 2A 02 09 78", 0, 0, CL_OK, 0x5F2A, false, 3, 2, 5 },
    { "EMV 9F02 two-byte tag", "9F 02 06 00 00 00 01 00 00", 0, 0, CL_OK, 0x9F02, false, 3, 6, 9 },
    { "EMV BF0C constructed", "BF 0C 03 9F 4D 00", 0, 0, CL_OK, 0xBF0C, true, 3, 3, 6 },
    { "X.690 8.1.2.4 three-byte tag", "1F 81 01 01 AA", 0, 0, CL_OK, 0x1F8101, false, 4, 1, 5 },
    { "X.690 8.1.2.4 three-byte tag, last byte 00", "DF 81 00 00", 0, 0, CL_OK, 0xDF8100, false, 4, 0, 4 },
    { "X.690 8.1.2.4 four-byte tag", "9F 81 80 01 01 EE", 0, 0, CL_OK, 0x9F818001, false, 5, 1, 6 },
    { "X.690 8.1.2.4 four-byte tag, private constructed", "FF FF FF 7F 00", 0, 0, CL_OK, 0xFFFFFF7F, true, 5, 0, 5 },
    { "X.690 8.1.2.4 tag 31 low", "1F 1F 00", 0, CL_TLV_DER, CL_OK, 0x1F1F, false, 3, 0, 3 },
    { "trailing bytes are not looked at", "5A 01 11 22 33", 0, 0, CL_OK, 0x5A, false, 2, 1, 3 },
    { "tag 00 is decoded (no padding skip)", "00 00", 0, 0, CL_OK, 0x00, false, 2, 0, 2 },
    /* length octets */
    { "X.690 8.1.3.4 short 127", "04 7F", 127, CL_TLV_DER, CL_OK, 0x04, false, 2, 127, 129 },
    { "X.690 8.1.3.5 0x81 128", "04 81 80", 128, CL_TLV_DER, CL_OK, 0x04, false, 3, 128, 131 },
    { "X.690 8.1.3.5 0x81 255", "04 81 FF", 255, CL_TLV_DER, CL_OK, 0x04, false, 3, 255, 258 },
    { "X.690 8.1.3.5 0x82 256", "04 82 01 00", 256, CL_TLV_DER, CL_OK, 0x04, false, 4, 256, 260 },
    { "X.690 8.1.3.5 0x82 65535", "04 82 FF FF", 65535, CL_TLV_DER, CL_OK, 0x04, false, 4, 65535, 65539 },
    { "X.690 8.1.3.5 0x83 65536", "04 83 01 00 00", 65536, CL_TLV_DER, CL_OK, 0x04, false, 5, 65536, 65541 },
    { "X.690 8.1.3.5 0x84 65536 lenient", "04 84 00 01 00 00", 65536, 0, CL_OK, 0x04, false, 6, 65536, 65542 },
    { "non-minimal 0x81 05 accepted (cards send it)", "70 81 05 5A 03 01 02 03", 0, 0, CL_OK, 0x70, true, 3, 5, 8 },
    { "non-minimal 0x82 00 80 accepted", "04 82 00 80", 128, 0, CL_OK, 0x04, false, 4, 128, 132 },
    { "non-minimal 0x84 00 00 00 02 accepted", "04 84 00 00 00 02 AA BB", 0, 0, CL_OK, 0x04, false, 6, 2, 8 },
    { "zero-length long form accepted", "04 81 00", 0, 0, CL_OK, 0x04, false, 3, 0, 3 },
    /* errors */
    { "empty input", "", 0, 0, CL_ERR_TRUNCATED, 0, false, 0, 0, 0 },
    { "truncated tag: 9F then end", "9F", 0, 0, CL_ERR_TRUNCATED, 0, false, 0, 0, 0 },
    { "truncated tag: 1F 81 then end", "1F 81", 0, 0, CL_ERR_TRUNCATED, 0, false, 0, 0, 0 },
    { "no length byte", "5A", 0, 0, CL_ERR_TRUNCATED, 0, false, 0, 0, 0 },
    { "no length byte after multi-byte tag", "9F 02", 0, 0, CL_ERR_TRUNCATED, 0, false, 0, 0, 0 },
    { "truncated length 0x81", "5A 81", 0, 0, CL_ERR_TRUNCATED, 0, false, 0, 0, 0 },
    { "truncated length 0x82", "5A 82 01", 0, 0, CL_ERR_TRUNCATED, 0, false, 0, 0, 0 },
    { "truncated length 0x84", "5A 84 00 00 01", 0, 0, CL_ERR_TRUNCATED, 0, false, 0, 0, 0 },
    { "length past buffer, short", "5A 03 01 02", 0, 0, CL_ERR_TRUNCATED, 0, false, 0, 0, 0 },
    { "length past buffer, 0x83", "04 83 01 00 00", 65535, 0, CL_ERR_TRUNCATED, 0, false, 0, 0, 0 },
    { "length past buffer, 0x84 FFFFFFFF", "04 84 FF FF FF FF 00", 0, 0, CL_ERR_TRUNCATED, 0, false, 0, 0, 0 },
    { "X.690 8.1.3.6 indefinite", "30 80 00 00", 0, 0, CL_ERR_INDEFINITE, 0, false, 0, 0, 0 },
    { "X.690 8.1.3.5 more than 4 length bytes", "04 85 00 00 00 00 01 AA", 0, 0, CL_ERR_UNSUPPORTED, 0, false, 0, 0, 0 },
    { "X.690 8.1.3.5 0xFE", "04 FE", 0, 0, CL_ERR_UNSUPPORTED, 0, false, 0, 0, 0 },
    { "X.690 8.1.3.5 c) 0xFF reserved", "04 FF", 0, 0, CL_ERR_MALFORMED, 0, false, 0, 0, 0 },
    { "X.690 8.1.2.4.2 c) non-minimal tag 9F 80", "9F 80 01 00", 0, 0, CL_ERR_MALFORMED, 0, false, 0, 0, 0 },
    { "non-minimal tag 1F 80 even if short", "1F 80", 0, 0, CL_ERR_MALFORMED, 0, false, 0, 0, 0 },
    { "five-byte tag", "1F 81 81 81 01 00", 0, 0, CL_ERR_UNSUPPORTED, 0, false, 0, 0, 0 },
    { "five-byte tag, input ends after four", "1F 81 81 81", 0, 0, CL_ERR_UNSUPPORTED, 0, false, 0, 0, 0 },
    { "X.690 10.1 DER: 0x81 05", "5A 81 05 01 02 03 04 05", 0, CL_TLV_DER, CL_ERR_MALFORMED, 0, false, 0, 0, 0 },
    { "X.690 10.1 DER: 0x81 00", "5A 81 00", 0, CL_TLV_DER, CL_ERR_MALFORMED, 0, false, 0, 0, 0 },
    { "X.690 10.1 DER: 0x82 00 80", "04 82 00 80", 128, CL_TLV_DER, CL_ERR_MALFORMED, 0, false, 0, 0, 0 },
    { "X.690 10.1 DER: 0x83 00 FF FF", "04 83 00 FF FF", 65535, CL_TLV_DER, CL_ERR_MALFORMED, 0, false, 0, 0, 0 },
    { "X.690 10.1 DER: 0x84 00 01 00 00", "04 84 00 01 00 00", 65536, CL_TLV_DER, CL_ERR_MALFORMED, 0, false, 0, 0, 0 },
};

START_TEST(test_decode_vectors)
{
    uint8_t hdr[64];
    int n = cl_test_hex(dec_vectors[_i].hex, hdr, sizeof(hdr));
    size_t len;
    uint8_t *buf;
    struct cl_tlv t;
    int rc;

    ck_assert_int_ge(n, 0);
    len = (size_t)n + dec_vectors[_i].fill;
    /* exact-size heap copy so ASan sees any read past the input */
    buf = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, hdr, (size_t)n);
    memset(buf + n, 0xA5, dec_vectors[_i].fill);
    memset(&t, 0x55, sizeof(t));
    rc = cl_tlv_decode_flags(len ? buf : NULL, len, dec_vectors[_i].flags, &t);
    ck_assert_msg(rc == dec_vectors[_i].rc, "%s: rc %d, want %d",
                  dec_vectors[_i].clause, rc, dec_vectors[_i].rc);
    if (rc == CL_OK) {
        ck_assert_uint_eq(t.tag, dec_vectors[_i].tag);
        ck_assert_int_eq(t.constructed, dec_vectors[_i].cons);
        ck_assert_ptr_eq(t.value, buf + dec_vectors[_i].off);
        ck_assert_uint_eq(t.len, dec_vectors[_i].len);
        ck_assert_uint_eq(t.total, dec_vectors[_i].total);
        ck_assert_uint_eq(cl_tlv_tag_constructed(t.tag), t.constructed);
    } else {
        /* out is untouched on failure */
        ck_assert_uint_eq(t.tag, 0x55555555u);
    }
    /* the lenient entry point agrees whenever the vector is not DER-only */
    if (dec_vectors[_i].flags == 0) {
        struct cl_tlv u;
        rc = cl_tlv_decode(len ? buf : NULL, len, &u);
        ck_assert_int_eq(rc, dec_vectors[_i].rc);
        if (rc == CL_OK)
            ck_assert_uint_eq(u.total, t.total);
    }
    free(buf);
}
END_TEST

/* X.690 8.1.2.2 Table 1: class from bits 8-7, constructed from bit 6. */
static const struct {
    uint32_t tag;
    unsigned cls;
    bool cons;
} class_vectors[] = {
    { 0x00, CL_TLV_UNIVERSAL, false },
    { 0x04, CL_TLV_UNIVERSAL, false },
    { 0x30, CL_TLV_UNIVERSAL, true },
    { 0x5A, CL_TLV_APPLICATION, false },
    { 0x6F, CL_TLV_APPLICATION, true },
    { 0x5F2A, CL_TLV_APPLICATION, false },
    { 0x7F49, CL_TLV_APPLICATION, true },
    { 0x84, CL_TLV_CONTEXT, false },
    { 0xA5, CL_TLV_CONTEXT, true },
    { 0x9F02, CL_TLV_CONTEXT, false },
    { 0x9F818001, CL_TLV_CONTEXT, false },
    { 0xBF0C, CL_TLV_CONTEXT, true },
    { 0xC1, CL_TLV_PRIVATE, false },
    { 0xDF8100, CL_TLV_PRIVATE, false },
    { 0xFFFFFF7F, CL_TLV_PRIVATE, true },
    { 0x1F8101, CL_TLV_UNIVERSAL, false },
};

START_TEST(test_tag_class)
{
    ck_assert_uint_eq(cl_tlv_tag_class(class_vectors[_i].tag), class_vectors[_i].cls);
    ck_assert_int_eq(cl_tlv_tag_constructed(class_vectors[_i].tag), class_vectors[_i].cons);
}
END_TEST

/* get_uint: 1..4 big-endian bytes (EMV ATC 9F36, AIP 82). */
START_TEST(test_get_uint)
{
    uint8_t buf[16];
    struct cl_tlv t;
    uint32_t v = 7;
    int n;

    n = cl_test_hex("9F 36 02 00 2A", buf, sizeof(buf));
    ck_assert_int_eq(cl_tlv_decode(buf, (size_t)n, &t), CL_OK);
    ck_assert_int_eq(cl_tlv_get_uint(&t, &v), CL_OK);
    ck_assert_uint_eq(v, 0x2A);
    n = cl_test_hex("04 04 FF FE FD FC", buf, sizeof(buf));
    ck_assert_int_eq(cl_tlv_decode(buf, (size_t)n, &t), CL_OK);
    ck_assert_int_eq(cl_tlv_get_uint(&t, &v), CL_OK);
    ck_assert_uint_eq(v, 0xFFFEFDFCu);
    n = cl_test_hex("04 01 80", buf, sizeof(buf));
    ck_assert_int_eq(cl_tlv_decode(buf, (size_t)n, &t), CL_OK);
    ck_assert_int_eq(cl_tlv_get_uint(&t, &v), CL_OK);
    ck_assert_uint_eq(v, 0x80);
    v = 7;
    n = cl_test_hex("04 05 01 02 03 04 05", buf, sizeof(buf));
    ck_assert_int_eq(cl_tlv_decode(buf, (size_t)n, &t), CL_OK);
    ck_assert_int_eq(cl_tlv_get_uint(&t, &v), CL_ERR_LENGTH);
    n = cl_test_hex("04 00", buf, sizeof(buf));
    ck_assert_int_eq(cl_tlv_decode(buf, (size_t)n, &t), CL_OK);
    ck_assert_int_eq(cl_tlv_get_uint(&t, &v), CL_ERR_LENGTH);
    ck_assert_uint_eq(v, 7);
}
END_TEST

/* ------------------------------------------------------------ iterator */

/* A level of objects, the tags the iterator must produce in order, and how
 * it must end (0, or the sticky error). ISO 7816-4 §5.2: '00'/'FF' padding
 * before, between and after objects. */
static const struct {
    const char *clause;
    const char *hex;
    unsigned flags;
    uint32_t tags[6];
    size_t ntags;
    int end;
} iter_vectors[] = {
    { "empty level", "", 0, { 0 }, 0, 0 },
    { "two objects", "5A 01 11 9F 02 02 12 34", 0, { 0x5A, 0x9F02 }, 2, 0 },
    { "ISO 7816-4 5.2 padding before/between/after",
      "00 FF 5A 01 11 00 00 FF 9F 02 02 12 34 FF 00", 0, { 0x5A, 0x9F02 }, 2, 0 },
    { "padding only", "00 00 FF FF 00", 0, { 0 }, 0, 0 },
    { "01 and FE are tags, not padding", "01 01 AA FE 00 00 02 01 BB", 0, { 0x01, 0xFE, 0x02 }, 3, 0 },
    { "padding bytes inside a value are data", "5A 03 00 FF 00 04 00", 0, { 0x5A, 0x04 }, 2, 0 },
    { "EMV FCI top level", fci_hex, 0, { 0x6F }, 1, 0 },
    { "error after two objects", "5A 01 11 5F 2A 02 09 78 9F 02 80", 0, { 0x5A, 0x5F2A }, 2, CL_ERR_INDEFINITE },
    { "truncated last object", "5A 01 11 5A 05 11", 0, { 0x5A }, 1, CL_ERR_TRUNCATED },
    { "padding then truncated tag", "5A 00 00 9F", 0, { 0x5A }, 1, CL_ERR_TRUNCATED },
    { "DER: no padding skip, 00 00 is an object", "00 00 5A 00", CL_TLV_DER, { 0x00, 0x5A }, 2, 0 },
    { "DER: FF starts a tag", "5A 00 FF", CL_TLV_DER, { 0x5A }, 1, CL_ERR_TRUNCATED },
    { "DER: non-minimal length in the level", "5A 00 5A 81 01 00", CL_TLV_DER, { 0x5A }, 1, CL_ERR_MALFORMED },
};

START_TEST(test_iter_vectors)
{
    uint8_t buf[128];
    int n = cl_test_hex(iter_vectors[_i].hex, buf, sizeof(buf));
    struct cl_tlv_iter it;
    struct cl_tlv t;
    size_t k = 0;
    int r;

    ck_assert_int_ge(n, 0);
    cl_tlv_iter_init_flags(&it, buf, (size_t)n, iter_vectors[_i].flags);
    while ((r = cl_tlv_iter_next(&it, &t)) == 1) {
        ck_assert_msg(k < iter_vectors[_i].ntags, "%s: extra object", iter_vectors[_i].clause);
        ck_assert_uint_eq(t.tag, iter_vectors[_i].tags[k]);
        ck_assert(t.value >= buf && t.value + t.len <= buf + n);
        k++;
    }
    ck_assert_msg(r == iter_vectors[_i].end, "%s: end %d, want %d",
                  iter_vectors[_i].clause, r, iter_vectors[_i].end);
    ck_assert_uint_eq(k, iter_vectors[_i].ntags);
    /* the end, or the error, is sticky */
    ck_assert_int_eq(cl_tlv_iter_next(&it, &t), iter_vectors[_i].end);
    ck_assert_int_eq(cl_tlv_iter_next(&it, &t), iter_vectors[_i].end);
}
END_TEST

START_TEST(test_iter_null_empty)
{
    struct cl_tlv_iter it;
    struct cl_tlv t;

    cl_tlv_iter_init(&it, NULL, 0);
    ck_assert_int_eq(cl_tlv_iter_next(&it, &t), 0);
}
END_TEST

/* Walk the FCI two levels down with nested iterators. */
START_TEST(test_iter_nested)
{
    uint8_t buf[128];
    int n = cl_test_hex(fci_hex, buf, sizeof(buf));
    struct cl_tlv_iter top, in;
    struct cl_tlv fci, t;
    static const uint32_t want[] = { 0x84, 0xA5 };
    size_t k = 0;

    cl_tlv_iter_init(&top, buf, (size_t)n);
    ck_assert_int_eq(cl_tlv_iter_next(&top, &fci), 1);
    ck_assert(fci.constructed);
    ck_assert_uint_eq(fci.total, (size_t)n);
    cl_tlv_iter_init(&in, fci.value, fci.len);
    while (cl_tlv_iter_next(&in, &t) == 1) {
        ck_assert_uint_lt(k, 2);
        ck_assert_uint_eq(t.tag, want[k]);
        k++;
    }
    ck_assert_uint_eq(k, 2);
    ck_assert_int_eq(cl_tlv_iter_next(&top, &fci), 0);
}
END_TEST

/* ------------------------------------------------------------ look-up */

static const struct {
    const char *what;
    const char *hex;         /* NULL: the FCI */
    uint32_t path[4];
    size_t depth;
    int rc;
    const char *value;       /* expected value bytes on success */
} path_vectors[] = {
    { "FCI template", NULL, { 0x6F }, 1, CL_OK, NULL },
    { "DF name", NULL, { 0x6F, 0x84 }, 2, CL_OK, "A0 00 00 00 03 10 10" },
    { "SFI of the directory EF", NULL, { 0x6F, 0xA5, 0x88 }, 3, CL_OK, "01" },
    { "application label", NULL, { 0x6F, 0xA5, 0x50 }, 3, CL_OK, "56 49 53 41 20 43 52 45 44 49 54" },
    { "language preference", NULL, { 0x6F, 0xA5, 0x5F2D }, 3, CL_OK, "65 6E 66 72" },
    { "log entry in FCI discretionary data", NULL, { 0x6F, 0xA5, 0xBF0C, 0x9F4D }, 4, CL_OK, "0B 0A" },
    { "9F5A after 9F4D", NULL, { 0x6F, 0xA5, 0xBF0C, 0x9F5A }, 4, CL_OK, "11 08 40 08 40" },
    { "absent at top", NULL, { 0x70 }, 1, CL_ERR_NOT_FOUND, NULL },
    { "absent one level down", NULL, { 0x6F, 0x88 }, 2, CL_ERR_NOT_FOUND, NULL },
    { "absent at the bottom", NULL, { 0x6F, 0xA5, 0x9F38 }, 3, CL_ERR_NOT_FOUND, NULL },
    { "no descent into a primitive", NULL, { 0x6F, 0x84, 0x00 }, 3, CL_ERR_NOT_FOUND, NULL },
    { "no descent into a primitive that looks like TLV", "5A 03 88 01 01", { 0x5A, 0x88 }, 2, CL_ERR_NOT_FOUND, NULL },
    { "depth 0", NULL, { 0 }, 0, CL_ERR_ARG, NULL },
    { "first match wins", "5A 01 01 5A 01 02", { 0x5A }, 1, CL_OK, "01" },
    { "padding skipped at every level", "00 70 07 FF 00 A5 03 00 88 00 FF", { 0x70, 0xA5, 0x88 }, 3, CL_OK, "" },
    { "found before a malformed object", "5A 01 01 5B 80", { 0x5A }, 1, CL_OK, "01" },
    { "malformed before the tag", "5A 80 5B 01 01", { 0x5B }, 1, CL_ERR_INDEFINITE, NULL },
    { "malformed one level down", "70 04 5A 82 01 00", { 0x70, 0x88 }, 2, CL_ERR_TRUNCATED, NULL },
    { "multi-byte tag is not its first byte", "9F 02 01 00", { 0x9F }, 1, CL_ERR_NOT_FOUND, NULL },
};

START_TEST(test_find_path)
{
    uint8_t buf[128], want[64];
    const char *hex = path_vectors[_i].hex ? path_vectors[_i].hex : fci_hex;
    int n = cl_test_hex(hex, buf, sizeof(buf));
    struct cl_tlv t;
    int rc;

    ck_assert_int_ge(n, 0);
    rc = cl_tlv_find_path(buf, (size_t)n, path_vectors[_i].path, path_vectors[_i].depth, &t);
    ck_assert_msg(rc == path_vectors[_i].rc, "%s: rc %d, want %d",
                  path_vectors[_i].what, rc, path_vectors[_i].rc);
    if (rc == CL_OK) {
        ck_assert_uint_eq(t.tag, path_vectors[_i].path[path_vectors[_i].depth - 1]);
        if (path_vectors[_i].value) {
            int m = cl_test_hex(path_vectors[_i].value, want, sizeof(want));
            ck_assert_int_ge(m, 0);
            cl_assert_bytes(t.value, t.len, path_vectors[_i].value);
        }
    }
    /* a one-tag path is cl_tlv_find */
    if (path_vectors[_i].depth == 1) {
        struct cl_tlv u;
        ck_assert_int_eq(cl_tlv_find(buf, (size_t)n, path_vectors[_i].path[0], &u), rc);
        if (rc == CL_OK)
            ck_assert_ptr_eq(u.value, t.value);
    }
}
END_TEST

START_TEST(test_find_path_null)
{
    struct cl_tlv t;

    ck_assert_int_eq(cl_tlv_find_path(NULL, 0, NULL, 1, &t), CL_ERR_ARG);
    ck_assert_int_eq(cl_tlv_find(NULL, 0, 0x5A, &t), CL_ERR_NOT_FOUND);
}
END_TEST

/* ------------------------------------------------------------ builder */

/* Primitive objects: tag, value length (value bytes 0..len-1 mod 256) and
 * the exact header the builder must write (X.690 §10.1: minimal). */
static const struct {
    uint32_t tag;
    size_t len;
    const char *hdr;
} put_vectors[] = {
    { 0x5A, 0, "5A 00" },
    { 0x5A, 1, "5A 01" },
    { 0x00, 2, "00 02" },
    { 0x5F2A, 2, "5F 2A 02" },
    { 0x9F02, 6, "9F 02 06" },
    { 0x1F1F, 0, "1F 1F 00" },
    { 0x1F8101, 3, "1F 81 01 03" },
    { 0xDF8100, 1, "DF 81 00 01" },
    { 0x9F818001, 1, "9F 81 80 01 01" },
    { 0xFFFFFF7F, 0, "FF FF FF 7F 00" },
    { 0x04, 127, "04 7F" },
    { 0x04, 128, "04 81 80" },
    { 0x04, 255, "04 81 FF" },
    { 0x04, 256, "04 82 01 00" },
    { 0x04, 65535, "04 82 FF FF" },
    { 0x04, 65536, "04 83 01 00 00" },
};

START_TEST(test_put_vectors)
{
    size_t len = put_vectors[_i].len, got = 1, i;
    uint8_t *val = malloc(len + 1), *out = malloc(len + 16);
    uint8_t hdr[16];
    int h = cl_test_hex(put_vectors[_i].hdr, hdr, sizeof(hdr));
    struct cl_tlv_builder b;
    struct cl_tlv t;

    ck_assert_ptr_nonnull(val);
    ck_assert_ptr_nonnull(out);
    for (i = 0; i < len; i++)
        val[i] = (uint8_t)i;
    cl_tlv_builder_init(&b, out, len + 16);
    cl_tlv_put(&b, put_vectors[_i].tag, len ? val : NULL, len);
    ck_assert_int_eq(cl_tlv_builder_finish(&b, &got), CL_OK);
    ck_assert_uint_eq(got, (size_t)h + len);
    cl_assert_bytes(out, (size_t)h, put_vectors[_i].hdr);
    ck_assert(len == 0 || memcmp(out + h, val, len) == 0);
    /* and it decodes back, in DER mode */
    ck_assert_int_eq(cl_tlv_decode_flags(out, got, CL_TLV_DER, &t), CL_OK);
    ck_assert_uint_eq(t.tag, put_vectors[_i].tag);
    ck_assert_uint_eq(t.len, len);
    ck_assert_uint_eq(t.total, got);
    free(val);
    free(out);
}
END_TEST

START_TEST(test_put_uint_raw)
{
    uint8_t out[64];
    struct cl_tlv_builder b;
    size_t n;

    cl_tlv_builder_init(&b, out, sizeof(out));
    cl_tlv_put_uint(&b, 0x9F36, 0x2A, 2);
    cl_tlv_put_uint(&b, 0x82, 0x1980, 2);
    cl_tlv_put_uint(&b, 0x9F27, 0x80, 1);
    cl_tlv_put_uint(&b, 0x02, 0xDEADBEEFu, 4);
    cl_tlv_put_uint(&b, 0x02, 0x010203, 3);
    cl_tlv_put_raw(&b, "\x5A\x01\x11", 3);
    cl_tlv_put_raw(&b, NULL, 0);
    ck_assert_int_eq(cl_tlv_builder_finish(&b, &n), CL_OK);
    cl_assert_bytes(out, n, "9F 36 02 00 2A 82 02 19 80 9F 27 01 80"
                            "02 04 DE AD BE EF 02 03 01 02 03 5A 01 11");
}
END_TEST

/* Sticky argument and state errors: the first one is kept. */
static const struct {
    const char *what;
    int op;           /* 0 put, 1 put_uint, 2 close without open, 3 double close,
                         4 unclosed, 5 open bad tag, 6 stale mark */
    uint32_t tag, v;
    size_t width;
    int rc;
} arg_vectors[] = {
    { "9F alone says more bytes follow", 0, 0x9F, 0, 0, CL_ERR_ARG },
    { "1F alone", 0, 0x1F, 0, 0, CL_ERR_ARG },
    { "FF alone", 0, 0xFF, 0, 0, CL_ERR_ARG },
    { "01 02: first byte is a one-byte tag", 0, 0x0102, 0, 0, CL_ERR_ARG },
    { "9F 82: last byte has bit 8", 0, 0x9F82, 0, 0, CL_ERR_ARG },
    { "9F 80 01: non-minimal", 0, 0x9F8001, 0, 0, CL_ERR_ARG },
    { "5F 01 02: tag ends after 5F 01", 0, 0x5F0102, 0, 0, CL_ERR_ARG },
    { "9F 02 81 (three bytes, middle lacks bit 8)", 0, 0x9F0281, 0, 0, CL_ERR_ARG },
    { "1F 81 81 81 needs a fifth byte", 0, 0x1F818181, 0, 0, CL_ERR_ARG },
    { "put_uint width 0", 1, 0x02, 0, 0, CL_ERR_ARG },
    { "put_uint width 5", 1, 0x02, 0, 5, CL_ERR_ARG },
    { "put_uint 0x100 in 1 byte", 1, 0x02, 0x100, 1, CL_ERR_ARG },
    { "put_uint 0x10000 in 2 bytes", 1, 0x02, 0x10000, 2, CL_ERR_ARG },
    { "put_uint 0x1000000 in 3 bytes", 1, 0x02, 0x1000000, 3, CL_ERR_ARG },
    { "put_uint bad tag", 1, 0x9F, 1, 1, CL_ERR_ARG },
    { "close without open", 2, 0x70, 0, 0, CL_ERR_STATE },
    { "double close", 3, 0x70, 0, 0, CL_ERR_STATE },
    { "finish with an open object", 4, 0x70, 0, 0, CL_ERR_STATE },
    { "open with a bad tag", 5, 0xBF, 0, 0, CL_ERR_ARG },
    { "close with a mark past the end", 6, 0x70, 0, 0, CL_ERR_STATE },
};

START_TEST(test_builder_errors)
{
    uint8_t out[64];
    struct cl_tlv_builder b;
    size_t n = 99, m1, m2;

    cl_tlv_builder_init(&b, out, sizeof(out));
    switch (arg_vectors[_i].op) {
    case 0:
        cl_tlv_put(&b, arg_vectors[_i].tag, "x", 1);
        break;
    case 1:
        cl_tlv_put_uint(&b, arg_vectors[_i].tag, arg_vectors[_i].v, arg_vectors[_i].width);
        break;
    case 2:
        cl_tlv_close(&b, 0);
        break;
    case 3:
        cl_tlv_open(&b, arg_vectors[_i].tag, &m1);
        cl_tlv_put(&b, 0x5A, "x", 1);
        cl_tlv_close(&b, m1);
        cl_tlv_close(&b, m1);
        break;
    case 4:
        cl_tlv_open(&b, arg_vectors[_i].tag, &m1);
        cl_tlv_open(&b, 0xA5, &m2);
        cl_tlv_close(&b, m2);
        break;
    case 5:
        cl_tlv_open(&b, arg_vectors[_i].tag, &m1);
        cl_tlv_close(&b, m1);
        break;
    case 6:
        cl_tlv_open(&b, arg_vectors[_i].tag, &m1);
        cl_tlv_close(&b, m1 + 5);
        break;
    }
    /* the error is sticky: later valid calls change nothing */
    cl_tlv_put(&b, 0x5A, "y", 1);
    cl_tlv_open(&b, 0x70, &m2);
    cl_tlv_close(&b, m2);
    cl_tlv_put_uint(&b, 0x5A, 1, 1);
    cl_tlv_put_raw(&b, "z", 1);
    ck_assert_msg(cl_tlv_builder_finish(&b, &n) == arg_vectors[_i].rc, "%s: %d",
                  arg_vectors[_i].what, cl_tlv_builder_finish(&b, NULL));
    ck_assert_uint_eq(n, 0);
}
END_TEST

/* Nested templates, byte-exact. Value bytes of "fill" objects are the
 * pattern i & 0xFF; the expected text writes headers and the fills apart. */
static void fill(uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        p[i] = (uint8_t)i;
}

/* Build 70{ A5{ BF0C{ 9F4D(big) } 5F2D "en" } 5A 01 11 } into out. */
static int build_nested(uint8_t *out, size_t size, size_t big, size_t *n)
{
    static uint8_t val[70000];
    struct cl_tlv_builder b;
    size_t m70, mA5, mBF;

    fill(val, big);
    cl_tlv_builder_init(&b, out, size);
    cl_tlv_open(&b, 0x70, &m70);
    cl_tlv_open(&b, 0xA5, &mA5);
    cl_tlv_open(&b, 0xBF0C, &mBF);
    cl_tlv_put(&b, 0x9F4D, val, big);
    cl_tlv_close(&b, mBF);
    cl_tlv_put(&b, 0x5F2D, "en", 2);
    cl_tlv_close(&b, mA5);
    cl_tlv_put(&b, 0x5A, "\x11", 1);
    cl_tlv_close(&b, m70);
    return cl_tlv_builder_finish(&b, n);
}

static const struct {
    size_t big;
    const char *head;   /* headers down to 9F4D's length */
    const char *tail;   /* after the big value */
} nest_vectors[] = {
    /* everything short */
    { 10, "70 1A A5 15 BF 0C 0D 9F 4D 0A", "5F 2D 02 65 6E 5A 01 11" },
    /* BF0C content exactly 127: still short */
    { 124, "70 81 8D A5 81 87 BF 0C 7F 9F 4D 7C", "5F 2D 02 65 6E 5A 01 11" },
    /* BF0C content 128: long from BF0C up */
    { 125, "70 81 8F A5 81 89 BF 0C 81 80 9F 4D 7D", "5F 2D 02 65 6E 5A 01 11" },
    /* child > 127 forces long lengths on every ancestor */
    { 200, "70 81 DB A5 81 D5 BF 0C 81 CC 9F 4D 81 C8", "5F 2D 02 65 6E 5A 01 11" },
    /* the outer level crosses 255 */
    { 240, "70 82 01 03 A5 81 FD BF 0C 81 F4 9F 4D 81 F0", "5F 2D 02 65 6E 5A 01 11" },
    /* BF0C content exactly 65535; ancestors need 0x83 */
    { 65530, "70 83 01 00 11 A5 83 01 00 09 BF 0C 82 FF FF 9F 4D 82 FF FA", "5F 2D 02 65 6E 5A 01 11" },
};

START_TEST(test_builder_nested)
{
    static uint8_t out[70100], pat[70000];
    size_t n = 0, big = nest_vectors[_i].big;
    uint8_t head[64], tail[64];
    int h = cl_test_hex(nest_vectors[_i].head, head, sizeof(head));
    int t = cl_test_hex(nest_vectors[_i].tail, tail, sizeof(tail));
    static const uint32_t path[] = { 0x70, 0xA5, 0xBF0C, 0x9F4D };
    struct cl_tlv e;

    ck_assert_int_ge(h, 0);
    ck_assert_int_ge(t, 0);
    ck_assert_int_eq(build_nested(out, sizeof(out), big, &n), CL_OK);
    ck_assert_uint_eq(n, (size_t)h + big + (size_t)t);
    cl_assert_bytes(out, (size_t)h, nest_vectors[_i].head);
    fill(pat, big);
    ck_assert(memcmp(out + h, pat, big) == 0);
    cl_assert_bytes(out + h + big, (size_t)t, nest_vectors[_i].tail);
    /* the result is DER-minimal and readable by path */
    ck_assert_int_eq(cl_tlv_decode_flags(out, n, CL_TLV_DER, &e), CL_OK);
    ck_assert_uint_eq(e.total, n);
    ck_assert_int_eq(cl_tlv_find_path(out, n, path, 4, &e), CL_OK);
    ck_assert_uint_eq(e.len, big);
    ck_assert_ptr_eq(e.value, out + h);
}
END_TEST

/* Every buffer size short of the result fails with CL_ERR_BUFFER and writes
 * nothing past the size it was given; the exact size succeeds. */
START_TEST(test_builder_overflow_every_size)
{
    static const size_t bigs[] = { 10, 125, 200, 240, 300 };
    size_t big = bigs[_i], need, size, n;
    static uint8_t ref[512];
    uint8_t *out;

    ck_assert_int_eq(build_nested(ref, sizeof(ref), big, &need), CL_OK);
    for (size = 0; size < need; size++) {
        out = malloc(size + 32);
        ck_assert_ptr_nonnull(out);
        memset(out, 0xEE, size + 32);
        n = 1;
        ck_assert_int_eq(build_nested(out, size, big, &n), CL_ERR_BUFFER);
        ck_assert_uint_eq(n, 0);
        for (n = size; n < size + 32; n++)
            ck_assert_msg(out[n] == 0xEE, "size %zu: byte %zu written", size, n);
        free(out);
    }
    out = malloc(need);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(build_nested(out, need, big, &n), CL_OK);
    ck_assert_uint_eq(n, need);
    ck_assert(memcmp(out, ref, need) == 0);
    free(out);
}
END_TEST

/* Every size for a sequence of the simple writers, too. */
START_TEST(test_builder_overflow_simple)
{
    static const char want[] = "9F 36 02 00 2A 5F 2D 02 65 6E 5A 01 11 6F 00";
    size_t size, n;
    uint8_t *out;
    int rc;

    for (size = 0; size <= 15; size++) {
        struct cl_tlv_builder b;
        size_t m;

        out = malloc(size ? size : 1);
        ck_assert_ptr_nonnull(out);
        cl_tlv_builder_init(&b, size ? out : NULL, size);
        cl_tlv_put_uint(&b, 0x9F36, 0x2A, 2);
        cl_tlv_put(&b, 0x5F2D, "en", 2);
        cl_tlv_put_raw(&b, "\x5A\x01\x11", 3);
        cl_tlv_open(&b, 0x6F, &m);
        cl_tlv_close(&b, m);
        rc = cl_tlv_builder_finish(&b, &n);
        if (size < 15) {
            ck_assert_int_eq(rc, CL_ERR_BUFFER);
        } else {
            ck_assert_int_eq(rc, CL_OK);
            cl_assert_bytes(out, n, want);
        }
        free(out);
    }
}
END_TEST

/* Rebuild the EMV FCI with the builder: identical bytes. */
START_TEST(test_builder_fci)
{
    uint8_t out[128];
    struct cl_tlv_builder b;
    size_t n, m6F, mA5, mBF;

    cl_tlv_builder_init(&b, out, sizeof(out));
    cl_tlv_open(&b, 0x6F, &m6F);
    cl_tlv_put(&b, 0x84, "\xA0\x00\x00\x00\x03\x10\x10", 7);
    cl_tlv_open(&b, 0xA5, &mA5);
    cl_tlv_put(&b, 0x50, "VISA CREDIT", 11);
    cl_tlv_put_uint(&b, 0x87, 1, 1);
    cl_tlv_put_uint(&b, 0x88, 1, 1);
    cl_tlv_put(&b, 0x5F2D, "enfr", 4);
    cl_tlv_open(&b, 0xBF0C, &mBF);
    cl_tlv_put(&b, 0x9F4D, "\x0B\x0A", 2);
    cl_tlv_put(&b, 0x9F5A, "\x11\x08\x40\x08\x40", 5);
    cl_tlv_close(&b, mBF);
    cl_tlv_close(&b, mA5);
    cl_tlv_close(&b, m6F);
    ck_assert_int_eq(cl_tlv_builder_finish(&b, &n), CL_OK);
    cl_assert_bytes(out, n, fci_hex);
}
END_TEST

static Suite *tlv_suite(void)
{
    Suite *s = suite_create("tlv");
    TCase *tc = tcase_create("decode");

    tcase_add_loop_test(tc, test_decode_vectors, 0, (int)CL_ARRAY_LEN(dec_vectors));
    tcase_add_loop_test(tc, test_tag_class, 0, (int)CL_ARRAY_LEN(class_vectors));
    tcase_add_test(tc, test_get_uint);
    suite_add_tcase(s, tc);

    tc = tcase_create("iterate");
    tcase_add_loop_test(tc, test_iter_vectors, 0, (int)CL_ARRAY_LEN(iter_vectors));
    tcase_add_test(tc, test_iter_null_empty);
    tcase_add_test(tc, test_iter_nested);
    tcase_add_loop_test(tc, test_find_path, 0, (int)CL_ARRAY_LEN(path_vectors));
    tcase_add_test(tc, test_find_path_null);
    suite_add_tcase(s, tc);

    tc = tcase_create("build");
    tcase_add_loop_test(tc, test_put_vectors, 0, (int)CL_ARRAY_LEN(put_vectors));
    tcase_add_test(tc, test_put_uint_raw);
    tcase_add_loop_test(tc, test_builder_errors, 0, (int)CL_ARRAY_LEN(arg_vectors));
    tcase_add_loop_test(tc, test_builder_nested, 0, (int)CL_ARRAY_LEN(nest_vectors));
    tcase_add_loop_test(tc, test_builder_overflow_every_size, 0, 5);
    tcase_add_test(tc, test_builder_overflow_simple);
    tcase_add_test(tc, test_builder_fci);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(tlv_suite());
}
