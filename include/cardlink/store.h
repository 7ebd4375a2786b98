/*
 * cardlink — the device's non-volatile store (a porting interface).
 * SPDX-License-Identifier: Apache-2.0
 *
 * A few small records by key, each replaced as a whole: what a device must
 * keep across a reboot or a power cut. The records it keeps:
 *
 *   CL_STORE_KEY_TXN_LOG   the transaction log of the relay protocol (§9,
 *                          struct cl_relay_txn_log in cardlink/relay_session.h):
 *                          the last N transaction ids with their answers
 *   CL_STORE_KEY_TXN_IDS   the longer list of transaction ids executed or in
 *                          progress (no answers), so that a retry of an id
 *                          whose answer left the log is still refused
 *   CL_STORE_KEY_SESSION   the resume token and sequence state of the relay
 *                          session (§8), so a device resumes after a reboot
 *
 * The record's bytes are the caller's format; the store neither reads nor
 * changes them. A port implements it over what its hardware has: files with
 * atomic rename (ports/posix/store_file.h), two flash sectors with a
 * sequence number and a CRC, an EEPROM page pair.
 *
 * The one promise every port makes: a record is written whole or not at
 * all. A power cut (or a killed process) during write() leaves the key
 * holding either its previous record or the new one, complete, never a mix
 * and never a truncated record; during erase() it leaves the record or no
 * record. read() never returns part of a record.
 *
 * Keys: 1..CL_STORE_KEY_MAX characters, each a-z, 0-9, '_' or '-' (so a
 * key is a file name and a flash record tag on every platform).
 * Records: 0..CL_STORE_RECORD_MAX bytes (an empty record exists, unlike an
 * erased one).
 *
 * Each callback takes the port's ctx first, blocks until its work is done
 * (a flash write takes milliseconds: call it from the superloop, never from
 * an interrupt) and is not re-entered by the core. Errors common to all:
 * CL_ERR_ARG (NULL where a pointer is required, a key outside the
 * alphabet or too long, len > CL_STORE_RECORD_MAX), CL_ERR_IO (the medium
 * failed; the previous record, if any, is still the one that reads back).
 */
#ifndef CARDLINK_STORE_H
#define CARDLINK_STORE_H

#include "cardlink/defs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest key, in characters. */
#define CL_STORE_KEY_MAX 16u

/* Largest record, in bytes. A port may support less (then write() of a
 * longer record answers CL_ERR_LIMIT); it must document its own bound. */
#ifndef CL_STORE_RECORD_MAX
#define CL_STORE_RECORD_MAX 4096u
#endif

/* The records a device keeps (the device controller's keys). */
#define CL_STORE_KEY_TXN_LOG "txnlog"
#define CL_STORE_KEY_TXN_IDS "txnids"
#define CL_STORE_KEY_SESSION "session"

/*
 * Read the record under key into buf[0..size).
 * Returns the record's length (0..CL_STORE_RECORD_MAX; 0 is an empty
 * record) with the whole record in buf, or:
 *   CL_ERR_NOT_FOUND  no record under key (never written, or erased);
 *   CL_ERR_BUFFER     the record is longer than size (buf unspecified,
 *                     the record unchanged);
 *   CL_ERR_CHECKSUM   the medium holds a record that fails its check
 *                     (corruption by something other than a power cut:
 *                     the writes never leave one);
 *   CL_ERR_ARG, CL_ERR_IO as above.
 * buf may be NULL when size is 0 (asks only whether the record exists and,
 * if it is empty, reads it).
 */
typedef int (*cl_store_read_fn)(void *ctx, const char *key, uint8_t *buf, size_t size);

/*
 * Replace the record under key by data[0..len) (create it if absent),
 * atomically: when write() returns CL_OK the new record is durable (a
 * power cut after that reads it back); when it returns an error, or the
 * power is cut before it returns, the key holds its old record or the new
 * one, whole (never a mix, never a read error). data may be NULL when len
 * is 0.
 * Returns CL_OK, CL_ERR_LIMIT (len above the port's bound, nothing
 * changed), CL_ERR_ARG, CL_ERR_IO.
 */
typedef int (*cl_store_write_fn)(void *ctx, const char *key, const uint8_t *data, size_t len);

/*
 * Remove the record under key, durably. An absent key is not an error
 * (erasing twice, or after a power cut during the first erase, is safe).
 * Returns CL_OK, CL_ERR_ARG, CL_ERR_IO (the record may still be there).
 */
typedef int (*cl_store_erase_fn)(void *ctx, const char *key);

/* The port: all three callbacks required. Const, shared by every store
 * of the kind; the store itself is the ctx passed with it. */
struct cl_store {
    cl_store_read_fn read;
    cl_store_write_fn write;
    cl_store_erase_fn erase;
};

/*
 * Whether key is a valid store key (1..CL_STORE_KEY_MAX characters of
 * a-z, 0-9, '_', '-'). Ports call it before touching the medium. Pure.
 */
static inline bool cl_store_key_ok(const char *key)
{
    size_t n = 0;
    if (key == NULL)
        return false;
    for (; key[n] != '\0'; n++) {
        char c = key[n];
        if (n >= CL_STORE_KEY_MAX)
            return false;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return n > 0;
}

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_STORE_H */
