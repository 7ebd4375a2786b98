/*
 * cardlink — the error model.
 * SPDX-License-Identifier: Apache-2.0
 *
 * One enum of negative values, CL_OK == 0. Every function that can fail
 * returns `int`: CL_OK (or a non-negative count where documented) on success,
 * one of these codes on failure. Codes are grouped by class but never packed
 * into bit ranges: compare against the names, never against numbers.
 */
#ifndef CARDLINK_ERROR_H
#define CARDLINK_ERROR_H

#include "cardlink/defs.h"

#ifdef __cplusplus
extern "C" {
#endif

enum cl_err {
    CL_OK = 0,

    /* Caller errors */
    CL_ERR_ARG = -1,           /* a NULL pointer, a length or value out of range */
    CL_ERR_BUFFER = -2,        /* the caller's output buffer is too small */
    CL_ERR_STATE = -3,         /* call not valid in the object's current state */

    /* Malformed input (from the card, the network or the user) */
    CL_ERR_MALFORMED = -10,    /* input does not follow the format */
    CL_ERR_TRUNCATED = -11,    /* input ends before the format says it does */
    CL_ERR_TOO_LONG = -12,     /* input longer than the format allows */
    CL_ERR_CHECKSUM = -13,     /* TCK, PCK, LRC or CRC mismatch */
    CL_ERR_MISSING_TCK = -14,  /* ATR offers T!=0 but carries no TCK */
    CL_ERR_BAD_TS = -15,       /* ATR initial character is neither 3B nor 3F */
    CL_ERR_RESERVED = -16,     /* a value the standard reserves */
    CL_ERR_TRAILING = -17,     /* bytes left over after a complete object */
    CL_ERR_TAG = -18,          /* unexpected, unknown or duplicate tag/field */
    CL_ERR_LENGTH = -19,       /* a length field that contradicts the data */
    CL_ERR_INDEFINITE = -20,   /* BER indefinite length (not allowed here) */

    /* Protocol and transport */
    CL_ERR_PROTOCOL = -30,     /* peer broke the protocol's rules */
    CL_ERR_TIMEOUT = -31,      /* a waiting time expired */
    CL_ERR_PARITY = -32,       /* character parity error on the card line */
    CL_ERR_CARD_REMOVED = -33, /* no card, or the card was pulled */
    CL_ERR_CARD_MUTE = -34,    /* card present but does not answer */
    CL_ERR_PPS_REFUSED = -35,  /* card did not accept the proposed PPS */
    CL_ERR_RESYNCH = -36,      /* T=1 resynchronisation failed: deactivate */
    CL_ERR_ABORTED = -37,      /* exchange aborted (T=1 S(ABORT), user, peer) */
    CL_ERR_IO = -38,           /* a port reported an I/O failure */
    CL_ERR_CLOSED = -39,       /* the link or session is closed */
    CL_ERR_VERSION = -40,      /* no protocol version in common */
    CL_ERR_SEQUENCE = -41,     /* out-of-order or replayed sequence number */
    CL_ERR_SW = -42,           /* the card answered with an error status word */
    CL_ERR_AGAIN = -43,        /* a non-blocking port would block: call again
                                  when it is ready (cardlink/net.h) */

    /* Policy and user */
    CL_ERR_DENIED = -50,       /* refused by policy (cardlink/policy.h, text repertoire) */
    CL_ERR_CANCELLED = -51,    /* the holder declined or cancelled */
    CL_ERR_PIN_BLOCKED = -52,  /* PIN retry counter is zero */
    CL_ERR_DUPLICATE = -53,    /* idempotency key already used */
    CL_ERR_NOT_FOUND = -54,    /* looked-up item absent */
    CL_ERR_UNSUPPORTED = -55,  /* valid, but this build or the peer does not offer it */
    CL_ERR_LIMIT = -56,        /* a configured bound was exceeded */
    CL_ERR_OVERFLOW = -57,     /* arithmetic overflow (amount, counter) */

    /* Cryptography and certificates */
    CL_ERR_CRYPTO = -70,       /* the crypto backend failed */
    CL_ERR_SIGNATURE = -71,    /* a signature does not verify */
    CL_ERR_CERT_PARSE = -72,   /* certificate not parseable */
    CL_ERR_CERT_EXPIRED = -73,
    CL_ERR_CERT_NOT_YET_VALID = -74,
    CL_ERR_CERT_UNTRUSTED = -75,  /* no path to a trust anchor / wrong issuer */
    CL_ERR_CERT_KEY_USAGE = -76,  /* key usage or basic constraints forbid it */
    CL_ERR_CERT_PATH_LEN = -77,   /* path length constraint exceeded */
    CL_ERR_CERT_CRITICAL = -78,   /* unknown critical extension */
    CL_ERR_CERT_ALGORITHM = -79,  /* signature algorithm or key too weak */
    CL_ERR_CERT_PURPOSE = -80,    /* extendedKeyUsage / nsCertType exclude the role */

    CL_ERR_INTERNAL = -99      /* a bug in cardlink: please report it */
};

/*
 * A short, constant English description of an error code, for logs.
 * Never NULL: unknown codes give "unknown error".
 */
const char *cl_strerror(int err);


#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_ERROR_H */
