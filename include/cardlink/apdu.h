/*
 * cardlink — command and response APDUs (ISO/IEC 7816-4 §5).
 * SPDX-License-Identifier: Apache-2.0
 *
 * A command APDU is a 4-byte header CLA INS P1 P2 and a body of up to three
 * fields: Lc (the length Nc of the command data), the command data, and Le
 * (which encodes Ne, the maximum number of response data bytes expected).
 * The presence of the fields gives the four cases; each of cases 2, 3 and 4
 * has a short and an extended form:
 *
 *   case 1   header only
 *   case 2S  Le                           Le 1 byte, 00 means Ne = 256
 *   case 3S  Lc data                      Lc 1 byte, 01..FF
 *   case 4S  Lc data Le
 *   case 2E  00 Le1 Le2                   0000 means Ne = 65536
 *   case 3E  00 Lc1 Lc2 data              Lc 0001..FFFF
 *   case 4E  00 Lc1 Lc2 data Le1 Le2      no second 00 before Le
 *
 * Short and extended length fields are never mixed in one APDU. A response
 * APDU is the response data (at most Ne bytes) followed by SW1 SW2.
 *
 * Nothing here copies: a decoded command's data points into the input, an
 * encoded command is written to a buffer the caller owns.
 */
#ifndef CARDLINK_APDU_H
#define CARDLINK_APDU_H

#include "cardlink/defs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest Nc and Ne (ISO 7816-4 §5.1), and the longest command APDU:
 * header, extended Lc, 65535 data bytes, extended Le. */
#define CL_APDU_NC_MAX 65535u
#define CL_APDU_NE_MAX 65536u
#define CL_APDU_ENCODED_MAX (4u + 3u + 65535u + 2u)

/* Longest response APDU: 65536 data bytes and the status word. */
#define CL_RAPDU_MAX (65536u + 2u)

/* The case of a command APDU (ISO 7816-4 §5.1). */
enum cl_apdu_case {
    CL_APDU_CASE_1 = 1,  /* no Lc, no data, no Le */
    CL_APDU_CASE_2S = 2, /* Le, short */
    CL_APDU_CASE_3S = 3, /* Lc and data, short */
    CL_APDU_CASE_4S = 4, /* Lc, data and Le, short */
    CL_APDU_CASE_2E = 5, /* Le, extended */
    CL_APDU_CASE_3E = 6, /* Lc and data, extended */
    CL_APDU_CASE_4E = 7  /* Lc, data and Le, extended */
};

/* Whether a case uses extended length fields (2E, 3E, 4E). */
#define CL_APDU_CASE_IS_EXTENDED(c) ((int)(c) >= (int)CL_APDU_CASE_2E)

/*
 * A command APDU as values, independent of its encoding.
 *
 * ne == 0 means "no Le field": no response data expected. Otherwise ne is
 * Ne itself, 1..65536: the Le field value 00 (short) stands for ne == 256
 * and 0000 (extended) for ne == 65536, so a decoded Le=00 gives ne = 256
 * and ne = 256 encodes as Le=00 in short form (0100 in extended form).
 *
 * data points to nc bytes (0..65535); it may be NULL when nc == 0. The
 * struct does not own them.
 */
struct cl_apdu {
    uint8_t cla;
    uint8_t ins;
    uint8_t p1;
    uint8_t p2;
    const uint8_t *data;
    size_t nc;
    size_t ne;
};

/*
 * The case a command is encoded in. With extended == false the short form is
 * chosen whenever nc <= 255 and ne <= 256, the extended form otherwise; with
 * extended == true every case except 1 uses the extended form. Case 1 has no
 * length fields, so it is case 1 either way.
 *
 * Returns the case (a positive enum cl_apdu_case), or
 *   CL_ERR_ARG  a is NULL, nc > 65535, ne > 65536, or data is NULL with nc > 0.
 */
CL_WUR int cl_apdu_case(const struct cl_apdu *a, bool extended);

/*
 * Encode a command APDU into out[0..out_size), in the case cl_apdu_case(a,
 * extended) gives. On success *out_len is the encoded length. out may be
 * NULL when out_size is 0 (to ask for the length). The data must not
 * overlap out.
 *
 * Returns CL_OK, or
 *   CL_ERR_ARG     as cl_apdu_case(), or out_len is NULL, or out is NULL
 *                  with out_size > 0;
 *   CL_ERR_BUFFER  out_size is smaller than the encoding: *out_len is set to
 *                  the size needed and nothing is written.
 */
CL_WUR int cl_apdu_encode(const struct cl_apdu *a, bool extended,
                          uint8_t *out, size_t out_size, size_t *out_len);

/*
 * Decode a command APDU of exactly len bytes with the rules of ISO 7816-4
 * §5.1 (L is the body length, len - 4; B1 the first body byte):
 *   L = 0                          case 1
 *   L = 1                          case 2S, Ne = B1 (00 means 256)
 *   B1 != 00, L = 1 + B1           case 3S, Nc = B1
 *   B1 != 00, L = 2 + B1           case 4S, Nc = B1, Ne = last byte (00: 256)
 *   B1 == 00, L = 3                case 2E, Ne = B2B3 (0000 means 65536)
 *   B1 == 00, B2B3 != 0000, L = 3 + B2B3   case 3E, Nc = B2B3
 *   B1 == 00, B2B3 != 0000, L = 5 + B2B3   case 4E, Nc = B2B3,
 *                                  Ne = last two bytes (0000 means 65536)
 * a->data points into buf (NULL for cases 1 and 2). On success *a is
 * filled and, when apdu_case is not NULL, *apdu_case is the case found, so
 * that cl_apdu_encode(a, CL_APDU_CASE_IS_EXTENDED(case)) gives back the same
 * bytes. On error *a and *apdu_case are left unchanged.
 *
 * Returns CL_OK, or
 *   CL_ERR_ARG        a is NULL, or buf is NULL with len > 0;
 *   CL_ERR_TRUNCATED  len < 4: no complete header;
 *   CL_ERR_MALFORMED  B1 == 00 with L = 2 (a short Lc of 0, which is
 *                     invalid, or half an extended Le), or B1 == 00 with
 *                     L > 3 and B2B3 == 0000 (an extended Lc of 0);
 *   CL_ERR_LENGTH     an Lc field whose value fits neither case 3 nor case
 *                     4 with the bytes present (also any extended Lc with a
 *                     one-byte Le, or a short Lc with two Le bytes).
 */
CL_WUR int cl_apdu_decode(const uint8_t *buf, size_t len, struct cl_apdu *a,
                          enum cl_apdu_case *apdu_case);

/*
 * Check the header bytes that the transmission protocols reserve: CLA FF
 * is invalid (ISO 7816-4, class byte; ISO 7816-3 uses FF to start a PPS),
 * and INS 6X and 9X are invalid (ISO 7816-4, instruction byte; T=0 would
 * read them as SW1). Decoding does not check these: call this before sending a command
 * that did not come from this program.
 *
 * Returns CL_OK, or
 *   CL_ERR_ARG       a is NULL;
 *   CL_ERR_RESERVED  CLA is FF, or INS is 60..6F or 90..9F.
 */
CL_WUR int cl_apdu_check_header(const struct cl_apdu *a);

/*
 * Split a response APDU of len bytes into its data (the first len - 2
 * bytes; *data points into buf, or is NULL when there are none) and its
 * status word SW1 << 8 | SW2. Nothing is written on error.
 *
 * Returns CL_OK, or
 *   CL_ERR_ARG        buf, data, data_len or sw is NULL;
 *   CL_ERR_TRUNCATED  len < 2: no status word;
 *   CL_ERR_TOO_LONG   len > CL_RAPDU_MAX (more than 65536 data bytes).
 */
CL_WUR int cl_rapdu_split(const uint8_t *buf, size_t len, const uint8_t **data,
                          size_t *data_len, uint16_t *sw);

/*
 * Build a response APDU in out[0..out_size): data_len bytes of data, then
 * SW1 SW2 from sw. data may be out itself (then only the status word is
 * appended) or overlap it; it may be NULL when data_len is 0. On success
 * *out_len is data_len + 2.
 *
 * Returns CL_OK, or
 *   CL_ERR_ARG     out or out_len is NULL, data is NULL with data_len > 0,
 *                  or data_len > 65536;
 *   CL_ERR_BUFFER  out_size < data_len + 2 (nothing is written).
 */
CL_WUR int cl_rapdu_build(const uint8_t *data, size_t data_len, uint16_t sw,
                          uint8_t *out, size_t out_size, size_t *out_len);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_APDU_H */
