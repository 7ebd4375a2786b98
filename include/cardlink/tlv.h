/*
 * cardlink — BER-TLV data objects (ISO/IEC 7816-4 §5.2, the X.690 subset).
 * SPDX-License-Identifier: Apache-2.0
 *
 * Decoding, a non-allocating iterator, look-up by tag and by tag path, and a
 * builder that writes into the caller's buffer. Nothing here allocates or
 * copies: a decoded element points into the buffer it was decoded from.
 *
 * Tags. A tag is held in a uint32_t as its bytes written big-endian, exactly
 * as they appear on the wire: 0x6F, 0x9F02, 0x5F2A, 0xBF0C, 0x1F8101. The
 * first byte carries the class (bits 8-7) and the constructed flag (bit 6);
 * when its low five bits are all one (0x1F) one or more subsequent bytes
 * follow, each with bit 8 set except the last (X.690 §8.1.2.4). cardlink
 * handles tags of up to 4 bytes (ISO 7816-4 uses up to 3):
 *  - a first subsequent byte of 0x80 (leading zero bits in the tag number)
 *    is CL_ERR_MALFORMED, as X.690 §8.1.2.4.2 c) requires;
 *  - a tag that needs a fifth byte is CL_ERR_UNSUPPORTED (valid BER, but not
 *    representable in the uint32_t), reported as soon as the fourth byte
 *    says another one follows, even if the input ends there;
 *  - a tag number below 31 in the multi-byte form (0x9F02, 0x5F2A) is
 *    accepted in every mode: EMV defines many such tags.
 *
 * Lengths. Short form 0x00..0x7F; long form 0x81..0x84 followed by 1..4
 * length bytes (values up to 0xFFFFFFFF where size_t holds them).
 *  - 0x80, the indefinite form, is CL_ERR_INDEFINITE (not used by ISO 7816);
 *  - 0x85..0xFE (more than 4 length bytes) is CL_ERR_UNSUPPORTED;
 *  - 0xFF is CL_ERR_MALFORMED (X.690 §8.1.3.5 c) reserves it);
 *  - a length past the end of the buffer is CL_ERR_TRUNCATED.
 * Non-minimal long forms (0x81 0x05, 0x82 0x00 0x80) are accepted by default
 * because deployed cards send them; with CL_TLV_DER they are
 * CL_ERR_MALFORMED. The builder always writes the minimal form.
 *
 * Padding. ISO 7816-4 §5.2 allows '00' and 'FF' bytes without meaning
 * before, between and after data objects, and makes them invalid as the
 * first byte of a tag. The iterator (and so cl_tlv_find and
 * cl_tlv_find_path) skips them, unless CL_TLV_DER is given, in which case
 * every byte is read as the start of a data object. cl_tlv_decode never
 * skips anything: it decodes the data object that starts at buf[0].
 */
#ifndef CARDLINK_TLV_H
#define CARDLINK_TLV_H

#include "cardlink/defs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Tag classes: bits 8-7 of the first tag byte (X.690 §8.1.2.2). */
#define CL_TLV_UNIVERSAL 0x00u
#define CL_TLV_APPLICATION 0x40u
#define CL_TLV_CONTEXT 0x80u
#define CL_TLV_PRIVATE 0xC0u

/* Decoder flags. */
#define CL_TLV_DER 0x01u    /* reject non-minimal lengths; do not skip padding */

/* Longest header (tag + length) the builder writes: 4 + 5 bytes. */
#define CL_TLV_HEADER_MAX 9

/* One decoded data object. value points into the decoded buffer. */
struct cl_tlv {
    uint32_t tag;          /* tag bytes, big-endian as written (0x9F02) */
    bool constructed;      /* bit 6 of the first tag byte */
    const uint8_t *value;  /* first value byte (inside the decoded buffer) */
    size_t len;            /* value length in bytes */
    size_t total;          /* tag + length + value bytes */
};

/* The first (class-carrying) byte of a tag held as described above. */
static inline uint8_t cl_tlv_tag_first(uint32_t tag)
{
    while (tag > 0xFFu)
        tag >>= 8;
    return (uint8_t)tag;
}

/* The tag's class: CL_TLV_UNIVERSAL, _APPLICATION, _CONTEXT or _PRIVATE. */
static inline unsigned cl_tlv_tag_class(uint32_t tag)
{
    return cl_tlv_tag_first(tag) & 0xC0u;
}

/* Whether the tag says constructed (its value is a sequence of TLVs). */
static inline bool cl_tlv_tag_constructed(uint32_t tag)
{
    return (cl_tlv_tag_first(tag) & 0x20u) != 0;
}

/*
 * Decode the one data object that starts at buf[0]; bytes after it are not
 * looked at (out->total says where it ends). buf may be NULL when len is 0.
 * out must not be NULL; it is written only on success.
 * cl_tlv_decode is cl_tlv_decode_flags with flags 0 (lenient BER).
 *
 * Returns CL_OK, or
 *  CL_ERR_TRUNCATED   len is 0, or the input ends inside the tag, the length
 *                     or the value;
 *  CL_ERR_MALFORMED   tag's first subsequent byte is 0x80; length byte 0xFF;
 *                     with CL_TLV_DER, a non-minimal length;
 *  CL_ERR_UNSUPPORTED a tag longer than 4 bytes, a length of more than 4 bytes
 *                     (0x85..0xFE);
 *  CL_ERR_INDEFINITE  the indefinite length form 0x80.
 */
CL_WUR int cl_tlv_decode(const uint8_t *buf, size_t len, struct cl_tlv *out);
CL_WUR int cl_tlv_decode_flags(const uint8_t *buf, size_t len, unsigned flags,
                               struct cl_tlv *out);

/*
 * Read a primitive value of 1 to 4 bytes as a big-endian unsigned number
 * (EMV "b" fields such as the ATC 9F36 or the AIP 82). tlv and out must not
 * be NULL. Returns CL_OK, or CL_ERR_LENGTH when tlv->len is 0 or above 4.
 */
CL_WUR int cl_tlv_get_uint(const struct cl_tlv *tlv, uint32_t *out);

/* ------------------------------------------------------------ iterator */

/* Walks the data objects at one level of a buffer. Do not touch the fields. */
struct cl_tlv_iter {
    const uint8_t *p;
    size_t left;
    unsigned flags;
    int err;
};

/* Start iterating over buf[0..len) (buf may be NULL when len is 0).
 * cl_tlv_iter_init uses flags 0: lenient lengths, padding skipped. */
void cl_tlv_iter_init(struct cl_tlv_iter *it, const uint8_t *buf, size_t len);
void cl_tlv_iter_init_flags(struct cl_tlv_iter *it, const uint8_t *buf,
                            size_t len, unsigned flags);

/*
 * Produce the next data object into out (which must not be NULL), skipping
 * '00'/'FF' padding unless CL_TLV_DER. Returns 1 when an object was
 * produced, 0 at the end of the buffer (padding only left counts as the end),
 * or a negative error of cl_tlv_decode for a malformed object. An error is
 * sticky: every later call returns it again. To descend into a constructed
 * object, start a new iterator over out->value, out->len.
 */
CL_WUR int cl_tlv_iter_next(struct cl_tlv_iter *it, struct cl_tlv *out);

/* ------------------------------------------------------------ look-up */

/*
 * Find the first data object with this tag at the top level of buf[0..len)
 * (not inside constructed objects), skipping padding. out must not be NULL;
 * it is written only on success. Objects are decoded in order, so an object
 * found before a malformed one is returned.
 *
 * Returns CL_OK, CL_ERR_NOT_FOUND, or an error of cl_tlv_decode met before
 * the tag was found.
 */
CL_WUR int cl_tlv_find(const uint8_t *buf, size_t len, uint32_t tag,
                       struct cl_tlv *out);

/*
 * Find a data object by a path of tags, each looked up (as cl_tlv_find
 * does) in the value of the one before: {0x6F, 0xA5, 0x88} finds the SFI of
 * the directory elementary file in an FCI. Every object on the path except
 * the last must be constructed. path must hold depth tags; out must not be
 * NULL and is written only on success.
 *
 * Returns CL_OK;
 *  CL_ERR_ARG        depth is 0 (or path is NULL);
 *  CL_ERR_NOT_FOUND  a tag is absent at its level, or an object on the way
 *                    is primitive;
 *  or an error of cl_tlv_decode met on the way.
 */
CL_WUR int cl_tlv_find_path(const uint8_t *buf, size_t len,
                            const uint32_t *path, size_t depth,
                            struct cl_tlv *out);

/* ------------------------------------------------------------ builder */

/*
 * Writes data objects into the caller's buffer. Writing functions return
 * nothing: the first error is kept (sticky), every later call does nothing,
 * and cl_tlv_builder_finish reports it. Do not touch the fields.
 */
struct cl_tlv_builder {
    uint8_t *buf;
    size_t size;
    size_t pos;      /* bytes written so far */
    unsigned open;   /* constructed objects opened and not yet closed */
    int err;         /* first error, CL_OK while none */
};

/* Start writing into buf[0..size). buf may be NULL when size is 0 (every
 * write then fails with CL_ERR_BUFFER: useful to reject, not to measure). */
void cl_tlv_builder_init(struct cl_tlv_builder *b, uint8_t *buf, size_t size);

/*
 * Append tag, the minimal length of len, and len bytes of value (value may
 * be NULL when len is 0; it must not overlap the builder's buffer).
 * Sticky errors: CL_ERR_BUFFER when it does not fit (the buffer's content
 * after the last complete object is then undefined); CL_ERR_ARG when tag is not a well-formed tag of 1-4 bytes as
 * described at the top of this file (0x9F alone, 0x0102, 0x9F80, 0x1F8001).
 */
void cl_tlv_put(struct cl_tlv_builder *b, uint32_t tag, const void *value,
                size_t len);

/*
 * Append tag with a value of exactly width (1..4) bytes holding v
 * big-endian. Sticky errors: those of cl_tlv_put; CL_ERR_ARG when width is
 * not 1..4 or v does not fit in width bytes.
 */
void cl_tlv_put_uint(struct cl_tlv_builder *b, uint32_t tag, uint32_t v,
                     size_t width);

/* Append len bytes that already are encoded data objects, as they are.
 * Sticky error: CL_ERR_BUFFER. */
void cl_tlv_put_raw(struct cl_tlv_builder *b, const void *bytes, size_t len);

/*
 * Start an object whose value is the objects written until the matching
 * cl_tlv_close(b, *mark). It writes the tag and reserves one length byte;
 * close moves the value up when the length needs more, so the builder fails
 * only when the finished output does not fit. The tag is written as given
 * (open it with a constructed tag for a template; a primitive tag such as an
 * OCTET STRING wrapping DER is allowed). Opens nest; close them in reverse
 * order. mark must not be NULL.
 * Sticky errors: those of cl_tlv_put (for the tag and one length byte).
 */
void cl_tlv_open(struct cl_tlv_builder *b, uint32_t tag, size_t *mark);

/*
 * Finish the object opened with mark: write its minimal length.
 * Sticky errors: CL_ERR_BUFFER when the length needs more bytes than are
 * left; CL_ERR_STATE when mark does not belong to an open object (closed
 * twice, never opened, or closed out of order when detectable).
 */
void cl_tlv_close(struct cl_tlv_builder *b, size_t mark);

/*
 * Report the outcome. On CL_OK, *len (when len is not NULL) is the number of
 * bytes written at the start of the buffer; on error it is 0.
 * Returns CL_OK or the first error of the writing calls; CL_ERR_STATE when an
 * opened object was not closed.
 */
CL_WUR int cl_tlv_builder_finish(const struct cl_tlv_builder *b, size_t *len);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_TLV_H */
