/*
 * cardlink — the card applet: a payment / identity card application in the
 * card role (PIN, key pair and certificate chain, signatures, purse,
 * e-goods, transaction records), sans-I/O.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The applet is card-side logic only: it is fed one command APDU and
 * writes the response APDU. It keeps no I/O, allocates nothing and reaches
 * its cryptography through a small port (struct cl_applet_crypto), so the
 * same code runs in the simulator (plugged into struct cl_sim like the
 * file-system application, see cl_applet_app()) and in firmware for a real
 * card. Its interface to the card side is cardlink/cardapp.h; it is part
 * of libcardlink-card, which a device never links.
 *
 * Two objects:
 *  - struct cl_applet_state: the persistent card image (what a real card
 *    keeps in EEPROM/flash): PIN and PUK with their retry counters, the two
 *    key pairs (authentication and signing, as PIV and the OpenPGP card
 *    keep them apart), the certificate files, the purse, the e-goods
 *    records and the transaction-record file. cl_applet_state_save()/
 *    _load() turn it into a versioned, checked byte image so a program can
 *    keep it in a file.
 *  - struct cl_applet: the runtime (a pointer to the state, the crypto
 *    port, the store port that makes the image durable, and the volatile
 *    security state, cleared at every card reset).
 *
 * The command set, every APDU and every status word are documented in
 * docs/applet.md. In short (CLA 00 interindustry, CLA 80 proprietary):
 *
 *   00 A4 04 0C|00 Lc AID          SELECT the applet
 *   00 A4 00|02 0C|04 02 FID       SELECT an EF (0101 card (auth) cert,
 *                                  0102 issuer cert, 0103 root cert, 0104
 *                                  signing cert, 0201 e-goods, 0202
 *                                  transaction records)
 *   00 B0 off off|SFI Le           READ BINARY (short or extended Le)
 *   00 B2 rec P2 Le                READ RECORD (e-goods, records)
 *   00 E2 00 P2 Lc data            APPEND RECORD (e-goods with issuer
 *                                  signature, transaction records)
 *   00 20 00 80 [08 block]         VERIFY (ISO 9564 format 2 PIN block)
 *   00 20 FF 80                    VERIFY: reset the verified state
 *   00 24 00 80 10 old new         CHANGE REFERENCE DATA
 *   00 2C 00|01 80 Lc PUK [new]    RESET RETRY COUNTER
 *   00 88 00 00 Lc challenge       INTERNAL AUTHENTICATE: auth key over
 *                                  SHA-256("CLIA" serial challenge)
 *   00 2A 9E 9A Lc digest          PSO: COMPUTE DIGITAL SIGNATURE: the
 *                                  signing key, PIN for each signature
 *   00 84 00 00 Le                 GET CHALLENGE
 *   00 CA 7F 49 Le                 GET DATA: the auth public key
 *   80 5C 00 00 Le                 GET BALANCE
 *   80 52 00 00 Lc ...             CREDIT (issuer-signed)
 *   80 54 00 00 28 ...             DEBIT (PIN; names the payee)
 *   80 56 rec 00 [Lc challenge]    USE an e-goods record (once)
 *   80 1E 00 00 Lc signature       BLOCK the card (issuer-signed over
 *                                  "CLBK" serial and the last GET
 *                                  CHALLENGE); for good: a blocked card
 *                                  answers SELECT with 6283 and 6985 to
 *                                  everything that signs, moves value,
 *                                  writes or checks a PIN
 */
#ifndef CARDLINK_APPLET_H
#define CARDLINK_APPLET_H

#include "cardlink/defs.h"
#include "cardlink/cardapp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ sizes */

/* Largest certificate file (DER) the image holds. */
#ifndef CL_APPLET_CERT_MAX
#define CL_APPLET_CERT_MAX 1024u
#endif

/* e-goods: records and the largest issuer payload of one record. */
#ifndef CL_APPLET_EGOODS_MAX
#define CL_APPLET_EGOODS_MAX 8u
#endif
#ifndef CL_APPLET_EGOODS_DATA
#define CL_APPLET_EGOODS_DATA 64u
#endif

/* Transaction-record file: cyclic, this many records. */
#ifndef CL_APPLET_TXLOG_MAX
#define CL_APPLET_TXLOG_MAX 10u
#endif

/* Fixed sizes. */
#define CL_APPLET_PIN_BLOCK 8u      /* ISO 9564 format 2 block */
#define CL_APPLET_PRIV_LEN 32u      /* P-256 private scalar */
#define CL_APPLET_PUB_LEN 65u       /* P-256 point, uncompressed 04 X Y */
#define CL_APPLET_SERIAL_LEN 8u     /* card serial number */
#define CL_APPLET_TXN_ID_LEN 16u    /* transaction id (idempotency key) */
#define CL_APPLET_SIG_MAX 72u       /* DER ECDSA P-256 signature */
#define CL_APPLET_HASH_LEN 32u      /* SHA-256 */
#define CL_APPLET_PAYEE_LEN 16u     /* DEBIT: payee, display form, 00 pad */

/* INTERNAL AUTHENTICATE: the challenge is 8..96 bytes. */
#define CL_APPLET_AUTH_CHALLENGE_MIN 8u
#define CL_APPLET_AUTH_CHALLENGE_MAX 96u

/* One transaction record (EF 0202): id 16 || amount 4 || currency 2 ||
 * time 4 (seconds, opaque to the card) || result 1 || payee 16 (text,
 * padded with 00). Big-endian numbers. */
#define CL_APPLET_TXREC_LEN 43u

/* One e-goods record as READ RECORD returns it: status 1 (00 valid, 01
 * used) || payload length 1 || payload || signature length 1 || issuer
 * signature. The payload starts with a 16-byte id, unique on the card. */
#define CL_APPLET_EGOODS_REC_MAX (3u + CL_APPLET_EGOODS_DATA + CL_APPLET_SIG_MAX)
#define CL_APPLET_EGOODS_ID_LEN 16u

/* The applet's AID: F0 "CLPAY" 01. */
#define CL_APPLET_AID_LEN 7u
extern const uint8_t CL_APPLET_AID[CL_APPLET_AID_LEN];

/* The PIN's reference (VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER
 * P2), as docs/protocol.md's PIN templates build it. */
#define CL_APPLET_PIN_REF 0x80u

/* Instructions of the proprietary commands (CLA 80). */
#define CL_APPLET_CLA_PROP 0x80u
#define CL_APPLET_INS_CREDIT 0x52u
#define CL_APPLET_INS_DEBIT 0x54u
#define CL_APPLET_INS_USE 0x56u
#define CL_APPLET_INS_BALANCE 0x5Cu
#define CL_APPLET_INS_BLOCK 0x1Eu   /* as EMV's APPLICATION BLOCK */

/* GET CHALLENGE: the card remembers the last challenge it gave (up to
 * this many bytes) for one BLOCK; BLOCK needs at least
 * CL_APPLET_BLOCK_CHALLENGE_MIN bytes of it. */
#define CL_APPLET_CHALLENGE_MAX 32u
#define CL_APPLET_BLOCK_CHALLENGE_MIN 8u

/* File identifiers and short file identifiers. */
#define CL_APPLET_FID_CARD_CERT 0x0101u    /* SFI 1, transparent: auth */
#define CL_APPLET_FID_ISSUER_CERT 0x0102u  /* SFI 2, transparent */
#define CL_APPLET_FID_ROOT_CERT 0x0103u    /* SFI 3, transparent */
#define CL_APPLET_FID_SIGN_CERT 0x0104u    /* SFI 6, transparent: signing */
#define CL_APPLET_FID_EGOODS 0x0201u       /* SFI 4, linear variable */
#define CL_APPLET_FID_TXLOG 0x0202u        /* SFI 5, cyclic fixed */
#define CL_APPLET_SFI_EGOODS 4u
#define CL_APPLET_SFI_TXLOG 5u
#define CL_APPLET_SFI_SIGN_CERT 6u

/* Domain tags of the signed messages (docs/applet.md, "Signed messages"):
 * each message is SHA-256 hashed and signed with ECDSA P-256. Every
 * message the card signs with its authentication key starts with one of
 * the card's tags, written by the card itself; the signing key signs only
 * PSO digests. So no command yields another command's kind of signature. */
#define CL_APPLET_TAG_CREDIT "CLCR"   /* issuer: credit request */
#define CL_APPLET_TAG_CREDIT_RC "CLRC"/* card (auth key): credit receipt */
#define CL_APPLET_TAG_DEBIT_RC "CLRD" /* card (auth key): debit receipt */
#define CL_APPLET_TAG_EGOODS "CLEG"   /* issuer: e-goods record */
#define CL_APPLET_TAG_USE "CLUT"      /* card (auth key): e-goods use */
#define CL_APPLET_TAG_AUTH "CLIA"     /* card (auth key): INTERNAL AUTH. */
#define CL_APPLET_TAG_BLOCK "CLBK"    /* issuer: block the card */

/* Lengths of the card's messages before hashing: CLRC 40, CLRD 56 (with
 * the payee), CLIA 12 + challenge. */
#define CL_APPLET_MSG_CREDIT_RC_LEN 40u
#define CL_APPLET_MSG_DEBIT_RC_LEN 56u

/* Least response buffer cl_applet_process() accepts: the longest computed
 * response (an e-goods record, a receipt) and its status word fit. */
#define CL_APPLET_RESP_MIN (CL_APPLET_EGOODS_REC_MAX + 2u)

/* The serialised image: header (magic "CLAP", version, length) and CRC.
 * Version 2: two key pairs and four certificate files. Version 3: the
 * blocked flag after the records (a version 2 image still loads, not
 * blocked; save writes version 3). */
#define CL_APPLET_IMAGE_VERSION 3u
#define CL_APPLET_CERT_SLOTS 4u
#define CL_APPLET_IMAGE_MAX                                                 \
    (9u + 2u * CL_APPLET_PIN_BLOCK + 4u + 2u * CL_APPLET_PRIV_LEN +         \
     3u * CL_APPLET_PUB_LEN + CL_APPLET_SERIAL_LEN + 14u +                  \
     CL_APPLET_CERT_SLOTS * (2u + CL_APPLET_CERT_MAX) + 1u +                \
     CL_APPLET_EGOODS_MAX * CL_APPLET_EGOODS_REC_MAX + 1u +                 \
     CL_APPLET_TXLOG_MAX * CL_APPLET_TXREC_LEN + 1u + 2u)

/* ------------------------------------------------------ crypto port */

/*
 * The applet's cryptography. Every callback returns CL_OK or a negative
 * enum cl_err; they are called synchronously, may take time, and must not
 * keep the pointers they are given.
 *
 * sign:   ECDSA P-256 over digest[0..digest_len) (32 or 48 bytes; a longer
 *         digest is truncated as ECDSA says) with the private scalar
 *         priv; writes the DER signature SEQUENCE { r, s } to
 *         sig[0..sig_size) (sig_size >= CL_APPLET_SIG_MAX) and *sig_len.
 *         CL_ERR_CRYPTO on any failure (an invalid key included).
 * verify: the DER ECDSA P-256 signature sig[0..sig_len) over digest with
 *         the public point pub (uncompressed). CL_OK when it verifies,
 *         CL_ERR_SIGNATURE when it does not (a malformed signature or an
 *         invalid key included), CL_ERR_CRYPTO when the backend failed.
 * random: len (<= 256) unpredictable bytes. CL_ERR_CRYPTO on failure.
 * sha256: the SHA-256 of data[0..len). CL_ERR_CRYPTO on failure.
 */
struct cl_applet_crypto {
    int (*sign)(void *ctx, const uint8_t priv[CL_APPLET_PRIV_LEN],
                const uint8_t *digest, size_t digest_len, uint8_t *sig,
                size_t sig_size, size_t *sig_len);
    int (*verify)(void *ctx, const uint8_t pub[CL_APPLET_PUB_LEN],
                  const uint8_t *digest, size_t digest_len,
                  const uint8_t *sig, size_t sig_len);
    int (*random)(void *ctx, uint8_t *out, size_t len);
    int (*sha256)(void *ctx, const uint8_t *data, size_t len,
                  uint8_t out[CL_APPLET_HASH_LEN]);
    void *ctx;
};

/* ------------------------------------------------- persistent state */

struct cl_applet_egoods {
    uint8_t used;           /* 0 valid, 1 used */
    uint8_t data_len;       /* payload bytes, CL_APPLET_EGOODS_ID_LEN.. */
    uint8_t sig_len;        /* issuer signature bytes, 8..72 */
    uint8_t data[CL_APPLET_EGOODS_DATA];
    uint8_t sig[CL_APPLET_SIG_MAX];
};

/*
 * The card image. Fill it with cl_applet_state_init() and the perso
 * setters below (or load it); then treat the fields as the applet's.
 * Numbers are host integers here; the image is big-endian.
 */
struct cl_applet_state {
    uint8_t pin[CL_APPLET_PIN_BLOCK];   /* format 2 block of the PIN */
    uint8_t puk[CL_APPLET_PIN_BLOCK];   /* format 2 block of the PUK */
    uint8_t pin_tries, pin_max;         /* tries left, limit (1..15) */
    uint8_t puk_tries, puk_max;
    uint8_t priv[CL_APPLET_PRIV_LEN];   /* authentication key (P-256) */
    uint8_t pub[CL_APPLET_PUB_LEN];     /* its public key, 04 X Y */
    uint8_t sign_priv[CL_APPLET_PRIV_LEN]; /* signing key (PSO only) */
    uint8_t sign_pub[CL_APPLET_PUB_LEN];   /* its public key; 00..: none */
    uint8_t issuer_pub[CL_APPLET_PUB_LEN]; /* verifies credits, e-goods */
    uint8_t serial[CL_APPLET_SERIAL_LEN];
    uint32_t balance;                   /* minor units */
    uint32_t balance_max;               /* a credit may not exceed it */
    uint16_t currency;                  /* ISO 4217 numeric, e.g. 978 */
    uint32_t counter;                   /* purse transaction counter */
    uint16_t cert_len[CL_APPLET_CERT_SLOTS]; /* enum cl_applet_cert */
    uint8_t cert[CL_APPLET_CERT_SLOTS][CL_APPLET_CERT_MAX];
    uint8_t egoods_count;
    struct cl_applet_egoods egoods[CL_APPLET_EGOODS_MAX];
    uint8_t txlog_count;                /* records held, <= TXLOG_MAX */
    uint8_t txlog_head;                 /* slot of record 1 (newest) */
    uint8_t txlog[CL_APPLET_TXLOG_MAX][CL_APPLET_TXREC_LEN];
    uint8_t blocked;                    /* 1: blocked by the issuer (BLOCK);
                                         * nothing sets it back to 0 */
};

/* Certificate slots of cl_applet_state_set_cert(). */
enum cl_applet_cert {
    CL_APPLET_CERT_CARD = 0,    /* EF 0101: the authentication key's */
    CL_APPLET_CERT_ISSUER = 1,  /* EF 0102 */
    CL_APPLET_CERT_ROOT = 2,    /* EF 0103 */
    CL_APPLET_CERT_SIGN = 3     /* EF 0104: the signing key's */
};

/* A blank image: everything zero, retry limits 3 (PIN) and 10 (PUK) with
 * that many tries left, balance_max 0x7FFFFFFF. The PIN and PUK are not
 * set: set them (cl_applet_state_set_pin()) before use. NULL: nothing. */
void cl_applet_state_init(struct cl_applet_state *st);

/* Wipe the image (keys, PIN, everything). NULL does nothing. */
void cl_applet_state_wipe(struct cl_applet_state *st);

/*
 * Set the PIN (puk false) or the PUK (puk true) from digits[0..len),
 * ASCII '0'..'9', 4..12 digits (PUK 8..12), and its retry limit max
 * (1..15); the tries left become max.
 * Returns CL_OK, or CL_ERR_ARG (NULL, a non-digit, a length or max out
 * of range).
 */
CL_WUR int cl_applet_state_set_pin(struct cl_applet_state *st, bool puk,
                                   const char *digits, size_t len,
                                   uint8_t max);

/*
 * Copy a DER certificate into slot which (enum cl_applet_cert).
 * Returns CL_OK, or CL_ERR_ARG (NULL, which out of range, len 0),
 * CL_ERR_TOO_LONG (len > CL_APPLET_CERT_MAX).
 */
CL_WUR int cl_applet_state_set_cert(struct cl_applet_state *st, int which,
                                    const uint8_t *der, size_t len);

/*
 * Serialise st into out[0..out_size) (at most CL_APPLET_IMAGE_MAX bytes);
 * *out_len is the image length. Layout: docs/applet.md, "Card image".
 * Returns CL_OK, or CL_ERR_ARG (NULL; a state whose counts or lengths are
 * out of range, or blocked not 0/1), CL_ERR_BUFFER (out_size too small; *out_len is then the
 * size needed).
 */
CL_WUR int cl_applet_state_save(const struct cl_applet_state *st,
                                uint8_t *out, size_t out_size,
                                size_t *out_len);

/*
 * Load an image of exactly len bytes into st. Every field is checked
 * before st is written: on error st is unchanged.
 * Returns CL_OK, or CL_ERR_ARG (NULL), CL_ERR_MALFORMED (not an image:
 * bad magic), CL_ERR_VERSION (not version 3, nor 2: a version 2 image
 * loads as not blocked), CL_ERR_TRUNCATED
 * (shorter than its header says), CL_ERR_TRAILING (longer),
 * CL_ERR_CHECKSUM (CRC mismatch), CL_ERR_RESERVED (a field out of range:
 * a malformed PIN block, a counter above its limit, a length or count
 * above its maximum, a ring index out of range, a blocked flag not 0/1).
 */
CL_WUR int cl_applet_state_load(struct cl_applet_state *st,
                                const uint8_t *img, size_t len);

/* ------------------------------------------------------- store port */

/*
 * Where the image becomes durable (a real card's EEPROM write; a file in
 * the simulator). The applet calls persist at each point where what it
 * holds in st must survive a power cut before it goes on (docs/applet.md,
 * "Tearing"):
 *  - VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER: once with the
 *    decremented counter BEFORE comparing (a failure: 6581, nothing
 *    compared), then once more after comparing in both outcomes (right:
 *    the counter restored and any new PIN; wrong: the same value again),
 *    so a right and a wrong PIN write in the same order;
 *  - CREDIT, DEBIT: the new balance and counter before the receipt leaves;
 *  - APPEND RECORD and USE: the record before 9000 (USE: before the
 *    receipt leaves);
 *  - BLOCK: the blocked flag, once, before 9000.
 *
 * persist: make the whole image st durable (typically cl_applet_state_save
 *          then an atomic replace). CL_OK only once it is durable; any
 *          negative enum cl_err otherwise, and the previous durable image
 *          must then still be the one a restart finds (atomic replace).
 *          Called synchronously; must not keep st. The applet answers
 *          6581 (memory failure) to a failed persist and rolls its RAM
 *          image back to what was last persisted.
 */
struct cl_applet_store {
    int (*persist)(void *ctx, const struct cl_applet_state *st);
    void *ctx;
};

/* ---------------------------------------------------------- runtime */

/* The applet runtime. Caller-allocated; do not touch the fields. */
struct cl_applet {
    struct cl_applet_state *st;
    struct cl_applet_crypto crypto;
    struct cl_applet_store store;   /* persist NULL: RAM only */
    bool verified;          /* PIN verified, not yet consumed */
    int8_t cur_ef;          /* current EF index, -1 none */
    bool dirty;             /* a persist point passed since take_dirty */
    uint8_t chal_len;       /* last GET CHALLENGE kept for BLOCK, 0 none */
    uint8_t chal[CL_APPLET_CHALLENGE_MAX];
};

/*
 * Set up ap over the image st (not copied: it must outlive ap) with the
 * crypto port (copied; every callback required) and the store port
 * (copied; NULL, or a NULL persist, keeps the image in RAM only: the
 * caller then saves it when cl_applet_take_dirty() says so, which is not
 * tearing-safe). The security state starts cleared and the applet
 * selected.
 * Returns CL_OK, or CL_ERR_ARG (NULL ap, st or crypto, a missing crypto
 * callback).
 */
CL_WUR int cl_applet_init(struct cl_applet *ap, struct cl_applet_state *st,
                          const struct cl_applet_crypto *crypto,
                          const struct cl_applet_store *store);

/* The card reset: clear the security state (PIN verified, the challenge
 * kept for BLOCK) and the file selection; the applet stays selected. NULL
 * does nothing. */
void cl_applet_reset(struct cl_applet *ap);

/*
 * Process one command APDU cmd[0..cmd_len) and write the response (data,
 * SW1 SW2) to resp[0..resp_size), *resp_len >= 2. Every status word is a
 * response, not an error: docs/applet.md lists them per command.
 * Returns CL_OK, or CL_ERR_ARG (NULL ap, cmd, resp or resp_len),
 * CL_ERR_BUFFER (resp_size < CL_APPLET_RESP_MIN).
 * (The struct cl_cardapp.process contract of cardlink/cardapp.h: ctx is a
 * struct cl_applet.)
 */
CL_WUR int cl_applet_process(void *ap, const uint8_t *cmd, size_t cmd_len,
                             uint8_t *resp, size_t resp_size,
                             size_t *resp_len);

/*
 * Whether the applet passed a persist point (see struct cl_applet_store:
 * every PIN comparison, a purse change, a record) since the last call, and
 * clear the mark. Without a store the caller then saves the image (after
 * the command: not tearing-safe); with a store the applet has already
 * persisted and the mark is only informative. false on NULL.
 */
bool cl_applet_take_dirty(struct cl_applet *ap);

/* The T=0 rule: whether a header's P3 counts command data bytes. */
bool cl_applet_t0_has_data(void *ap, const uint8_t hdr[5]);

/*
 * Fill *out with the applet's struct cl_cardapp (process, reset, the T=0
 * rule; ctx = ap), e.g. for cl_sim_setup().
 * Returns CL_OK, or CL_ERR_ARG (NULL).
 */
CL_WUR int cl_applet_app(struct cl_applet *ap, struct cl_cardapp *out);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_APPLET_H */
