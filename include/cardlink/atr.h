/*
 * cardlink — Answer-to-Reset of ISO/IEC 7816-3 §8 and its historical bytes
 * (ISO/IEC 7816-4 §8.1.1).
 * SPDX-License-Identifier: Apache-2.0
 *
 * What this module does:
 *  - cl_atr_parse(): split an ATR into its interface-byte groups, list the
 *    protocols it offers, check TCK, locate the historical bytes and derive
 *    every parameter the card session needs (Fi, Di, f(max), N, WI, the
 *    specific/negotiable mode, T=1 IFSC/CWI/BWI/EDC, the T=15 class and clock
 *    stop indicators). It fails only on a structural error; odd values cards
 *    carry in the field (reserved Fi/Di, IFSC 0, BWI 10) are reported through
 *    flags instead (see "Reserved values" below).
 *  - cl_atr_expected_len(): how long the ATR being received byte by byte
 *    will be, so the line layer knows when it is complete.
 *  - cl_atr_build(): the card simulator's side, spec in, bytes with TCK out
 *    (lib/atr/atr_build.c: device firmware does not link it).
 *  - cl_atr_hist_parse(): the historical bytes (category 0x00, 0x10, 0x80
 *    with compact-TLV objects), in lib/atr/atr_hist.c so that firmware that
 *    does not need it does not link it.
 *
 * Conventions. Every buffer given to these functions is in the direct
 * convention: the line layer decodes inverse-convention characters as they
 * arrive (cl_atr_inverse_byte()). TS then reads 0x3B for a direct-convention
 * card and 0x3F for an inverse-convention one (the byte 0x03 seen on the line
 * in direct terms decodes to 0x3F). That is also how
 * /usr/share/pcsc/smartcard_list.txt and PC/SC readers present ATRs.
 *
 * Numbering. The standard numbers groups from 1: group 1 holds TA1 TB1 TC1
 * TD1 and is announced by T0; group i+1 is announced by TD(i).
 * struct cl_atr's group[] array is 0-based: group[0] is group 1.
 *
 * Reserved values. A parse succeeds on reserved or invalid parameter values:
 * Fi/Di (TA1), WI = 0 (TC2), IFSC 0 or 255, BWI > 9, T=15 in TD1. Each sets a
 * flag in cl_atr_params.flags and the derived value is 0 where no value can be
 * given (fi, di, fmax_khz) or the raw value otherwise; cl_atr_rate() returns
 * CL_ERR_RESERVED for the rate. The card session decides: typically it keeps
 * Fd/Dd and the defaults and, for a bad IFSC, does not select T=1.
 */
#ifndef CARDLINK_ATR_H
#define CARDLINK_ATR_H

#include "cardlink/defs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Interface-byte groups an ATR can carry: 32 bytes after TS leave room for
 * T0 and 31 TD bytes, announcing groups 1..32 (ISO 7816-3 §8.2.3). */
#define CL_ATR_GROUPS_MAX 32

/* Most historical bytes: K is T0's low nibble (§8.2.2). */
#define CL_ATR_HIST_MAX 15

/* Indexes into cl_atr_group.b[] and bit numbers in cl_atr_group.present
 * (present = the announcing nibble Y: bit 0 TA, 1 TB, 2 TC, 3 TD). */
#define CL_ATR_TA 0
#define CL_ATR_TB 1
#define CL_ATR_TC 2
#define CL_ATR_TD 3

/* One group of interface bytes. b[x] is 0 where bit x of present is clear. */
struct cl_atr_group {
    uint8_t present;   /* bit (1 << CL_ATR_Tx) set when that byte is present */
    uint8_t b[4];      /* TA, TB, TC, TD values */
};

/* cl_atr_params.flags. TA1..TC2 follow the presence bits of groups 1 and 2
 * (flags >> 1 & 7 is group 1's, flags >> 4 & 7 group 2's). */
#define CL_ATR_F_INVERSE       0x00001u /* TS = 3F: inverse convention */
#define CL_ATR_F_TA1           0x00002u /* TA1 present */
#define CL_ATR_F_TB1           0x00004u /* TB1 present (VPP, deprecated since 2006) */
#define CL_ATR_F_TC1           0x00008u /* TC1 present */
#define CL_ATR_F_SPECIFIC      0x00010u /* TA2 present: specific mode, else negotiable */
#define CL_ATR_F_TB2           0x00020u /* TB2 present (VPP, deprecated since 2006) */
#define CL_ATR_F_TC2           0x00040u /* TC2 present */
#define CL_ATR_F_IMPLICIT      0x00080u /* TA2 bit 5: Fi/Di implicit, not from TA1 */
#define CL_ATR_F_NO_CHANGE     0x00100u /* TA2 bit 8: card cannot change mode */
#define CL_ATR_F_RATE_RESERVED 0x00200u /* TA1 names a reserved Fi or Di (RFU) */
#define CL_ATR_F_WI_RESERVED   0x00400u /* TC2 = 0 (reserved) */
#define CL_ATR_F_IFSC_INVALID  0x00800u /* first TA for T=1 is 0 or 255 */
#define CL_ATR_F_BWI_RESERVED  0x01000u /* first TB for T=1 has BWI 10..15 */
#define CL_ATR_F_CRC           0x02000u /* first TC for T=1 bit 1: EDC is CRC, else LRC */
#define CL_ATR_F_T15_TA        0x04000u /* first TA for T=15 present (class, clock stop) */
#define CL_ATR_F_TCK           0x08000u /* TCK present (and checked) */
#define CL_ATR_F_TD1_T15       0x10000u /* TD1 indicates T=15, invalid in §8.2.3 (tolerated) */

/* Class bits of cl_atr_params.classes (first TA for T=15 bits 1..6, §8.3). */
#define CL_ATR_CLASS_A 0x01u   /* 5 V */
#define CL_ATR_CLASS_B 0x02u   /* 3 V */
#define CL_ATR_CLASS_C 0x04u   /* 1.8 V */

/* cl_atr_params.clock_stop (first TA for T=15 bits 7..8, §8.3). */
#define CL_ATR_CLOCK_STOP_NONE 0u  /* clock stop not supported */
#define CL_ATR_CLOCK_STOP_LOW  1u  /* state L */
#define CL_ATR_CLOCK_STOP_HIGH 2u  /* state H */
#define CL_ATR_CLOCK_STOP_ANY  3u  /* no preference */

/* The parameters derived from the interface bytes; defaults where a byte is
 * absent (§8.3). */
struct cl_atr_params {
    uint32_t flags;     /* CL_ATR_F_* */
    uint16_t fi;        /* Fi from TA1 (default 372); 0 if reserved */
    uint16_t fmax_khz;  /* f(max) from TA1 (default 5000); 0 if reserved */
    uint8_t di;         /* Di from TA1 (default 1); 0 if reserved */
    uint8_t ta1;        /* TA1 as sent, 0x11 when absent: the PPS1 to propose */
    uint8_t n;          /* TC1: extra guard time N in etu (default 0). 255 means
                         * the minimum: 12 etu character time for T=0, 11 etu
                         * for T=1 (no extra guard time, §8.3). */
    uint8_t wi;         /* TC2: T=0 waiting time integer WI (default 10) */
    uint8_t specific_t; /* TA2 low nibble: the protocol of the specific mode */
    uint8_t ifsc;       /* first TA for T=1 (default 32); valid 1..254 */
    uint8_t cwi;        /* first TB for T=1 low nibble (default 13) */
    uint8_t bwi;        /* first TB for T=1 high nibble (default 4) */
    uint8_t classes;    /* first TA for T=15 bits 1..6 (default CL_ATR_CLASS_A) */
    uint8_t clock_stop; /* first TA for T=15 bits 7..8 (default NONE) */
};

/*
 * A parsed ATR. Caller-owned, self-contained (a copy of the bytes is kept in
 * raw[]), filled by cl_atr_parse(). Read the fields; do not write them.
 */
struct cl_atr {
    uint8_t raw[CL_ATR_MAX];  /* the ATR, TS first, direct convention */
    uint8_t len;              /* bytes in raw */
    uint8_t hist_off;         /* historical bytes are raw[hist_off ..] */
    uint8_t hist_len;         /* K, 0..15 */
    uint8_t ngroups;          /* groups announced: 1 + number of TD bytes */
    uint8_t nproto;           /* entries in proto[], >= 1 */
    uint8_t proto[15];        /* protocols offered, in ATR order, without
                               * duplicates and without T=15; {0} when no TD
                               * names one. proto[0] is the default protocol
                               * in negotiable mode. */
    uint16_t t_mask;          /* bit T set for every T a TD byte names,
                               * T=15 included; bit 0 also when implicit */
    struct cl_atr_group group[CL_ATR_GROUPS_MAX];  /* [0 .. ngroups) valid */
    struct cl_atr_params p;   /* derived parameters */
};

/*
 * Parse an ATR of len bytes, TS first, already in the direct convention.
 *
 * On success atr is fully filled. On failure its content is unspecified.
 * Reserved parameter values are not errors (see the top of this file).
 * Rules checked (ISO 7816-3 §8.2): TS is 3B or 3F; each interface byte the
 * Y nibbles announce is present; K historical bytes follow; TCK is present
 * and makes the XOR of T0..TCK zero when any TD names a T other than 0
 * (T=15 included), and absent when only T=0 is offered; nothing follows.
 *
 * Errors: CL_ERR_ARG (atr NULL, or buf NULL with len > 0),
 * CL_ERR_TRUNCATED (len 0, or it ends inside T0, the interface bytes or the
 * historical bytes), CL_ERR_BAD_TS, CL_ERR_TOO_LONG (len > CL_ATR_MAX),
 * CL_ERR_MISSING_TCK, CL_ERR_CHECKSUM (TCK wrong), CL_ERR_TRAILING (bytes
 * after the last historical byte or TCK).
 */
CL_WUR int cl_atr_parse(struct cl_atr *atr, const uint8_t *buf, size_t len);

/* Warnings of cl_atr_parse_lenient(): what the strict parser would refuse. */
#define CL_ATR_W_TCK_MISSING 0x01u /* T other than 0 offered, no TCK sent */
#define CL_ATR_W_TCK_WRONG   0x02u /* TCK present but wrong (kept in raw[]) */
#define CL_ATR_W_HIST_SHORT  0x04u /* fewer historical bytes than T0's K */
#define CL_ATR_W_TRAILING    0x08u /* bytes after the ATR: not part of it */

/*
 * Parse an ATR the way pcsc-lite and pyscard take one from a real card: as
 * cl_atr_parse(), but where the interface bytes are whole, what the strict
 * parser refuses is accepted with a warning bit in *warn (warn may be NULL):
 *  - CL_ATR_W_HIST_SHORT: the bytes end inside the historical bytes;
 *    hist_len is the number actually there (T0 in raw[] is kept as sent),
 *    and no TCK is taken from them (CL_ATR_W_TCK_MISSING too when one is
 *    due);
 *  - CL_ATR_W_TCK_MISSING: the ATR ends where the TCK is due; the
 *    CL_ATR_F_TCK flag is clear;
 *  - CL_ATR_W_TCK_WRONG: raw[] holds the TCK as sent, CL_ATR_F_TCK is set;
 *  - CL_ATR_W_TRAILING: bytes after the TCK (or after the last historical
 *    byte, when none is due) are not part of the ATR: atr->len says where
 *    it ends, and len - atr->len bytes were left over (they may be more
 *    than CL_ATR_MAX).
 * The parameters are derived as cl_atr_parse() derives them. On success
 * atr->len <= len; raw[0 .. atr->len) are the bytes as sent.
 *
 * Errors: CL_ERR_ARG (atr NULL, or buf NULL with len > 0), CL_ERR_BAD_TS,
 * CL_ERR_TRUNCATED (len < 2, or the bytes end inside the interface bytes),
 * CL_ERR_TOO_LONG (the interface and historical bytes, with the TCK, take
 * more than CL_ATR_MAX bytes). On failure *warn is 0 and atr unspecified.
 */
CL_WUR int cl_atr_parse_lenient(struct cl_atr *atr, const uint8_t *buf, size_t len,
                                unsigned *warn);

/*
 * For a line layer receiving an ATR byte by byte: the total length, TS
 * included, that the ATR starting with buf[0..len) has at least.
 *
 * Returns N >= 1. While N > len, at least N - len more bytes are needed:
 * receive them and ask again (N grows as TD bytes announce more groups).
 * Once N <= len the ATR is complete and its length is exactly N: buf[0..N)
 * is the whole ATR (cl_atr_parse() checks the rest) and anything beyond N is
 * not part of it. Cost: a walk over the TD chain, no state kept between calls.
 * Whether TCK is counted follows the TD bytes seen so far, so it is exact
 * once the last TD is in.
 *
 * Errors: CL_ERR_ARG (buf NULL with len > 0), CL_ERR_BAD_TS (buf[0] is not
 * 3B or 3F: not an ATR, or the convention was not decoded), CL_ERR_TOO_LONG
 * (the bytes so far already imply more than CL_ATR_MAX bytes: stop waiting).
 */
CL_WUR int cl_atr_expected_len(const uint8_t *buf, size_t len);

/* The inverse-convention decoder for one character (§8.1): complement the
 * bits and reverse their order. Its own inverse, so it also encodes.
 * 0x03 on the line decodes to 0x3F; 0x3F decodes to 0x03. */
uint8_t cl_atr_inverse_byte(uint8_t raw);

/* cl_atr_inverse_byte() over len bytes in place. buf may be NULL if len 0. */
void cl_atr_decode_inverse(uint8_t *buf, size_t len);

/*
 * The value of interface byte TA/TB/TC/TD (which = CL_ATR_TA..CL_ATR_TD) of
 * group i, numbered as in the standard (i >= 1: TC1 is (1, CL_ATR_TC)).
 * Returns the byte 0..255, or CL_ERR_NOT_FOUND if that byte is absent or
 * there is no such group; CL_ERR_ARG for a NULL atr or which > 3.
 */
CL_WUR int cl_atr_ib(const struct cl_atr *atr, unsigned i, unsigned which);

/*
 * The transmission factors TA1 announces (or the defaults 372, 1, 5000 kHz
 * when TA1 is absent). Any output pointer may be NULL. The outputs are
 * always written; a reserved nibble gives 0 for the factors it names.
 * Errors: CL_ERR_ARG (atr NULL), CL_ERR_RESERVED (TA1 names a reserved Fi
 * or Di: propose Fd/Dd instead).
 */
CL_WUR int cl_atr_rate(const struct cl_atr *atr, uint16_t *fi, uint8_t *di,
                       uint16_t *fmax_khz);

/* The historical bytes: a pointer into atr->raw and their count in *len.
 * atr and len must not be NULL. */
const uint8_t *cl_atr_hist(const struct cl_atr *atr, size_t *len);

/* ------------------------------------------------------------ builder */

/* cl_atr_build_spec.opts: which optional parts to emit. */
#define CL_ATR_B_INVERSE 0x0001u /* TS 3F instead of 3B */
#define CL_ATR_B_T0      0x0002u /* offer T=0 */
#define CL_ATR_B_T1      0x0004u /* offer T=1 (after T=0 when both) */
#define CL_ATR_B_TA1     0x0008u /* TA1 = ta1 */
#define CL_ATR_B_TC1     0x0010u /* TC1 = n */
#define CL_ATR_B_TA2     0x0020u /* TA2 = ta2: specific mode */
#define CL_ATR_B_TC2     0x0040u /* TC2 = wi (1..255) */
#define CL_ATR_B_IFSC    0x0080u /* T=1: TA = ifsc (1..254) */
#define CL_ATR_B_T1_TB   0x0100u /* T=1: TB = bwi << 4 | cwi */
#define CL_ATR_B_CRC     0x0200u /* T=1: TC = 01, CRC */
#define CL_ATR_B_T15     0x0400u /* T=15: TA = clock_stop << 6 | classes */

/* What cl_atr_build() emits. Zero it, then set opts and the fields the
 * options use. Neither T0 nor T1 in opts means T=0. */
struct cl_atr_build_spec {
    uint16_t opts;        /* CL_ATR_B_* */
    uint8_t ta1;          /* Fi index << 4 | Di index */
    uint8_t n;            /* TC1 */
    uint8_t wi;           /* TC2 */
    uint8_t ta2;          /* TA2 as sent (low nibble: specific protocol) */
    uint8_t ifsc;         /* 1..254 */
    uint8_t cwi, bwi;     /* 0..15 each */
    uint8_t classes;      /* 1..63, CL_ATR_CLASS_* */
    uint8_t clock_stop;   /* 0..3, CL_ATR_CLOCK_STOP_* */
    uint8_t hist_len;     /* 0..15 */
    uint8_t hist[CL_ATR_HIST_MAX];
};

/*
 * Build an ATR (direct convention, TS = 3B or 3F) from spec into out and set
 * *out_len. Layout: TA1 TC1 in group 1; TA2 TC2 in group 2 (announced by TD1
 * naming the first protocol); the T=1 bytes TA/TB/TC in the group after the
 * first TD naming T=1 at i >= 2; the T=15 TA after a TD naming T=15; then the
 * historical bytes and TCK when anything other than T=0 is named. At most
 * 29 bytes. cl_atr_parse() of the result gives back the spec's parameters.
 * Errors: CL_ERR_ARG (a NULL pointer, hist_len > 15, TC2 with wi 0, IFSC 0
 * or 255, cwi/bwi > 15, classes 0 or > 63, clock_stop > 3, or T=1 options
 * without T=1), CL_ERR_BUFFER (out_size too small; *out_len untouched).
 */
CL_WUR int cl_atr_build(const struct cl_atr_build_spec *spec, uint8_t *out,
                        size_t out_size, size_t *out_len);

/* ------------------------------------------------- historical bytes */

/* cl_atr_hist_info.status: which status parts are present. */
#define CL_ATR_HIST_LCS 0x01u /* lcs valid */
#define CL_ATR_HIST_SW  0x02u /* sw valid */

/* Card capabilities third byte (tag 7, ISO 7816-4 table 87). */
#define CL_ATR_CAP3_CHAINING 0x80u  /* command chaining */
#define CL_ATR_CAP3_EXTENDED 0x40u  /* extended Lc and Le fields */
/* bits 5-4: logical channel assignment, bits 3-1: max channels - 1 (7: 8+) */

/*
 * Decoded historical bytes (ISO 7816-4 §8.1.1). Self-contained: the bytes
 * are copied into bytes[]; off[t]/vlen[t] locate the value of compact-TLV
 * tag t (1..15) in bytes[] when bit t of tags is set.
 */
struct cl_atr_hist_info {
    uint8_t category;      /* bytes[0]: 0x00, 0x10 or 0x80 when decoded */
    uint8_t len;           /* K */
    uint8_t bytes[CL_ATR_HIST_MAX];
    uint16_t tags;         /* bit t: compact-TLV tag t seen (1..15) */
    uint8_t off[16];
    uint8_t vlen[16];
    uint8_t service;       /* tag 3 card service data (0 if absent) */
    uint8_t caps[3];       /* tag 7 card capabilities (0 where absent) */
    uint8_t dir_ref;       /* category 0x10: DIR data reference */
    uint8_t status;        /* CL_ATR_HIST_LCS | CL_ATR_HIST_SW */
    uint8_t lcs;           /* life cycle status */
    uint16_t sw;           /* SW1 << 8 | SW2 */
};

/*
 * Decode len historical bytes into h.
 *  - category 0x80: compact-TLV objects to the end, each a byte tag << 4 |
 *    length then length bytes. Tag 8 is the status indicator: 1 byte LCS,
 *    2 bytes SW, 3 bytes LCS SW. A byte 0x00 (tag 0, length 0) is padding
 *    some cards carry: it is skipped. Other tags are stored whatever they
 *    mean; country code 1, issuer 2, service data 3, initial access data 4,
 *    card issuer's data 5, pre-issuing data 6, capabilities 7, AID 15.
 *  - category 0x00: compact-TLV objects then a 3-byte status (LCS SW1 SW2)
 *    that is not TLV-coded.
 *  - category 0x10: one byte, the DIR data reference.
 * Position of the status indicator is not enforced (some cards pad after it).
 * On failure h holds the category and bytes and whatever was decoded.
 *
 * Errors: CL_ERR_ARG (h NULL, or buf NULL with len > 0), CL_ERR_NOT_FOUND
 * (len 0: no historical bytes), CL_ERR_TOO_LONG (len > 15),
 * CL_ERR_UNSUPPORTED (another category: proprietary or RFU),
 * CL_ERR_TRUNCATED (an object runs past the end; category 0x00 shorter than
 * 4 bytes; category 0x10 without its byte), CL_ERR_TRAILING (category 0x10
 * longer than 2 bytes), CL_ERR_TAG (a tag 1..15 twice, or a status
 * indicator object, tag 8, in category 0x00),
 * CL_ERR_LENGTH (service data not 1 byte, capabilities or status not 1..3).
 */
CL_WUR int cl_atr_hist_parse(struct cl_atr_hist_info *h, const uint8_t *buf,
                             size_t len);

/*
 * The value of compact-TLV tag (1..15) in a decoded h.
 * Errors: CL_ERR_ARG (NULL pointer, tag 0 or > 15), CL_ERR_NOT_FOUND.
 */
CL_WUR int cl_atr_hist_get(const struct cl_atr_hist_info *h, unsigned tag,
                           const uint8_t **val, size_t *len);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_ATR_H */
