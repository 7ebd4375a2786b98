/*
 * cardlink — error strings.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "cardlink/error.h"

/* see cardlink/error.h */
const char *cl_strerror(int err)
{
    switch (err) {
    case CL_OK: return "success";
    case CL_ERR_ARG: return "invalid argument";
    case CL_ERR_BUFFER: return "output buffer too small";
    case CL_ERR_STATE: return "call not valid in this state";
    case CL_ERR_MALFORMED: return "malformed input";
    case CL_ERR_TRUNCATED: return "input truncated";
    case CL_ERR_TOO_LONG: return "input too long";
    case CL_ERR_CHECKSUM: return "checksum mismatch";
    case CL_ERR_MISSING_TCK: return "ATR check byte TCK missing";
    case CL_ERR_BAD_TS: return "ATR initial character TS invalid";
    case CL_ERR_RESERVED: return "reserved value";
    case CL_ERR_TRAILING: return "unexpected trailing bytes";
    case CL_ERR_TAG: return "unexpected or duplicate tag";
    case CL_ERR_LENGTH: return "length field inconsistent with data";
    case CL_ERR_INDEFINITE: return "indefinite length not allowed";
    case CL_ERR_PROTOCOL: return "protocol violation";
    case CL_ERR_TIMEOUT: return "timeout";
    case CL_ERR_PARITY: return "parity error";
    case CL_ERR_CARD_REMOVED: return "card removed";
    case CL_ERR_CARD_MUTE: return "card does not answer";
    case CL_ERR_PPS_REFUSED: return "PPS refused by card";
    case CL_ERR_RESYNCH: return "T=1 resynchronisation failed";
    case CL_ERR_ABORTED: return "aborted";
    case CL_ERR_IO: return "I/O error";
    case CL_ERR_CLOSED: return "closed";
    case CL_ERR_VERSION: return "no common protocol version";
    case CL_ERR_SEQUENCE: return "bad sequence number";
    case CL_ERR_SW: return "card returned an error status word";
    case CL_ERR_AGAIN: return "would block, try again when ready";
    case CL_ERR_DENIED: return "denied by policy";
    case CL_ERR_CANCELLED: return "cancelled by the user";
    case CL_ERR_PIN_BLOCKED: return "PIN blocked";
    case CL_ERR_DUPLICATE: return "duplicate transaction id";
    case CL_ERR_NOT_FOUND: return "not found";
    case CL_ERR_UNSUPPORTED: return "unsupported";
    case CL_ERR_LIMIT: return "configured limit exceeded";
    case CL_ERR_OVERFLOW: return "arithmetic overflow";
    case CL_ERR_CRYPTO: return "cryptographic backend failure";
    case CL_ERR_SIGNATURE: return "signature does not verify";
    case CL_ERR_CERT_PARSE: return "certificate cannot be parsed";
    case CL_ERR_CERT_EXPIRED: return "certificate expired";
    case CL_ERR_CERT_NOT_YET_VALID: return "certificate not yet valid";
    case CL_ERR_CERT_UNTRUSTED: return "certificate not trusted";
    case CL_ERR_CERT_KEY_USAGE: return "certificate key usage forbids this use";
    case CL_ERR_CERT_PATH_LEN: return "certificate path too long";
    case CL_ERR_CERT_CRITICAL: return "unknown critical certificate extension";
    case CL_ERR_CERT_ALGORITHM: return "certificate algorithm not accepted";
    case CL_ERR_CERT_PURPOSE: return "certificate not issued for this purpose";
    case CL_ERR_INTERNAL: return "internal error";
    default: return "unknown error";
    }
}
