/*
 * cardlink — the card simulator: the card's end of an ISO 7816-3 line and a
 * small ISO 7816-4 card application, sans-I/O.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Two independent parts:
 *
 * 1. struct cl_sim, the card-side line session. Fed line events (reset,
 *    power off, parity error, clock) and the bytes the reader sends, it
 *    answers with the bytes the card sends: the configured ATR after each
 *    reset (cl_atr_build(), in the inverse convention when asked), the
 *    answer to a PPS request, then the T=0 or T=1 card-role engine
 *    (cardlink/t0.h, cardlink/t1.h). Each complete command APDU goes to the
 *    application (struct cl_cardapp) and its response goes back on the line.
 *    The engine shape of cardlink/engine.h (docs/porting.md):
 *
 *        cl_sim_setup(&sim, &cfg, &app);
 *        cl_sim_reset(&sim, false);               // cold reset: ATR follows
 *        for (;;) switch (cl_sim_want(&sim)) {
 *        case CL_WANT_SEND:  n = cl_sim_pull(&sim, &p); send p[0..n);
 *                            cl_sim_sent(&sim, n); break;
 *        case CL_WANT_RECV:  bytes -> cl_sim_feed(); a parity error on the
 *                            next byte -> cl_sim_parity_error(); the
 *                            reader's CLOCK -> cl_sim_clock(); the timer
 *                            cl_sim_timer() -> cl_sim_timeout(); break;
 *        case CL_WANT_CLOSED: not powered (after setup and power off);
 *        case CL_WANT_FAILED: mute (cl_sim_error()): wait for a reset.
 *        }
 *
 *    The session never wants CL_WANT_IDLE, _DONE or _CTRL: the application
 *    is called from inside. Its protocol reset is the card's: cl_sim_reset()
 *    (cold or warm). NULL: int functions return CL_ERR_ARG, want()
 *    CL_WANT_FAILED, pull() 0, cl_sim_timer() CL_TIMER_NONE, accessors NULL.
 *
 *    Bytes in and out are line bytes: with the inverse convention the
 *    session decodes what it is fed and encodes what it sends.
 *
 * 2. struct cl_sim_fs, a card application (file system, test commands) that
 *    plugs in as a struct cl_cardapp. Another application (the payment
 *    applet) plugs in the same way.
 *
 * No I/O, no malloc, no clock: the caller owns every buffer.
 */
#ifndef CARDLINK_SIM_H
#define CARDLINK_SIM_H

#include "cardlink/defs.h"
#include "cardlink/engine.h"
#include "cardlink/atr.h"
#include "cardlink/cardapp.h"
#include "cardlink/t0.h"
#include "cardlink/t1.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Command and response buffer size of the session: an extended APDU with
 * 1024 data bytes and its response fit. */
#ifndef CL_SIM_BUF_MAX
#define CL_SIM_BUF_MAX 1040u
#endif

/* ------------------------------------------------------ application */

/* The application interface is cardlink/cardapp.h (struct cl_cardapp).
 * Compatibility names for callers not moved yet (examples/cardlink-vcard.c,
 * tests/card); new code uses the cardapp.h names. */
#define cl_sim_app cl_cardapp
#define CL_SIM_BUSY CL_CARDAPP_BUSY

/* The session's default T=0 rule: cl_cardapp_t0_has_data(), and for the
 * simulator's test commands (CLA 80) true for ECHO only. */
bool cl_sim_t0_has_data(const uint8_t hdr[5]);

/* ---------------------------------------------------- line session */

/* What the session wants is an enum cl_want (cardlink/engine.h):
 *   CL_WANT_CLOSED  not powered: waiting for a reset;
 *   CL_WANT_SEND    cl_sim_pull() bytes to send;
 *   CL_WANT_RECV    waiting for the reader's bytes;
 *   CL_WANT_FAILED  mute, will not answer until the next reset.
 * Compatibility names of the former enum cl_sim_want, for callers not moved
 * yet (examples/cardlink-vcard.c, tests/card); new code uses CL_WANT_*. */
#define CL_SIM_OFF CL_WANT_CLOSED
#define CL_SIM_SEND CL_WANT_SEND
#define CL_SIM_RECV CL_WANT_RECV
#define CL_SIM_MUTE CL_WANT_FAILED

/* What the card does with a PPS request (negotiable mode). */
enum cl_sim_pps {
    CL_SIM_PPS_ACCEPT = 0,  /* echo what it supports: the protocol if
                               offered, PPS1 if its Fi/Di are at most
                               TA1's (else PPS1 left out: Fd, Dd) */
    CL_SIM_PPS_DEFAULTS,    /* answer with PPS1 left out: keep Fd, Dd */
    CL_SIM_PPS_MUTE         /* never answer a PPS */
};

struct cl_sim_config {
    struct cl_atr_build_spec atr;  /* the ATR; a T=1 card needs a TCK */
    uint8_t pps;            /* enum cl_sim_pps */
    uint8_t wtx;            /* T=1: multiplier asked when busy (1..255) */
    bool bad_tck;           /* fault: send the ATR with TCK xor 01 */
    uint16_t sblock_after;  /* fault (T=1): 0 none; N: instead of the first
                               block answering the Nth command, send an
                               unexpected S(WTX response) once */
    bool t0_single_byte_ack;/* T=0: one INS ^ FF per data byte */
};

struct cl_sim_stats {
    uint32_t resets;
    uint32_t pps_answered;  /* PPS requests answered (echo or defaults) */
    uint32_t pps_ignored;   /* erroneous or refused PPS requests */
    uint32_t apdus;         /* commands passed to the application */
    uint32_t busy;          /* NULL bytes / S(WTX) sent for a busy app */
    uint32_t parity_errors; /* reported by the line */
    uint32_t clock_mismatch;/* CLOCK with other F/D than negotiated */
    uint32_t sblocks;       /* unexpected S-blocks injected */
};

/* The session. Caller-allocated; do not touch the fields. */
struct cl_sim {
    struct cl_sim_config cfg;
    struct cl_sim_stats stats;
    struct cl_cardapp app;
    uint8_t want;           /* enum cl_want */
    uint8_t phase;          /* internal */
    uint8_t proto;          /* protocol in use once the engine runs */
    uint8_t first_proto;    /* after a reset: TA2's, else the first offered */
    uint8_t offered;        /* bit T set for each protocol of the ATR */
    bool inverse;
    bool specific;          /* TA2 present: no PPS */
    bool parity_next;       /* the next byte fed has a parity error */
    bool sblock_done;
    bool sblock_arm;        /* replace the engine's next block */
    bool implicit;          /* TA2 b5: F/D implicit */
    bool has_tck;
    bool ready;             /* set up */
    bool repeat;            /* the app said busy: same command again */
    uint16_t f;             /* negotiated F and D */
    uint8_t d;
    uint8_t ta1;            /* TA1 of the ATR (0x11 when absent) */
    uint8_t ifsc, bwi, cwi, edc, wi;
    uint8_t atr_len;
    uint8_t atr[CL_ATR_MAX];
    uint8_t pps_len;        /* PPS request bytes received */
    uint8_t pps[6];
    size_t out_len, out_off;/* own output (ATR, PPS answer, S-block) */
    uint8_t out[CL_ATR_MAX];
    size_t chunk;           /* bytes handed out by the last pull */
    uint8_t txbuf[64];      /* inverse-convention encoding of a chunk */
    int busy_err;           /* last application error */
    int err;                /* sticky: why the session is mute */
    union {
        struct cl_t0 t0;
        struct cl_t1 t1;
    } e;
    size_t resp_len;
    uint8_t cmd[CL_SIM_BUF_MAX];
    uint8_t resp[CL_SIM_BUF_MAX];
};

/* Fill cfg for a card offering T=0 (t1 false) or T=1 (t1 true): TA1 = 96
 * (Fi 512, Di 32), T=1 with IFSC 254, BWI 4, CWI 5 and LRC, PPS accepted,
 * WTX 1, historical bytes "cardlink". NULL does nothing. */
void cl_sim_config_default(struct cl_sim_config *cfg, bool t1);

/*
 * Set up sim with cfg (copied) and app (copied; app->process required).
 * The ATR is built and checked here. The session is then CLOSED (off).
 * Returns CL_OK, or CL_ERR_ARG (a NULL pointer, no process callback,
 * pps or wtx out of range, an ATR spec cl_atr_build() refuses or one whose
 * parse fails, or a T=1 ATR with an invalid IFSC); sim is then wiped, as
 * after cl_sim_free(): want() answers CL_WANT_IDLE and cl_sim_reset()
 * CL_ERR_STATE until it is set up.
 */
CL_WUR int cl_sim_setup(struct cl_sim *sim, const struct cl_sim_config *cfg,
                        const struct cl_cardapp *app);

/* Wipe sim with cl_wipe(): its buffers held commands and responses, which
 * may carry a PIN (nothing happens on NULL). Then want() answers
 * CL_WANT_IDLE; set it up again before use. */
void cl_sim_free(struct cl_sim *sim);

/*
 * A cold (warm = false) or warm reset, the session's protocol reset: the
 * application's reset() is called, any exchange is dropped, F and D go
 * back to Fd and Dd, a mute card speaks again (cl_sim_error() is CL_OK),
 * and the session wants to SEND the ATR.
 * Returns CL_OK, or CL_ERR_ARG (NULL), CL_ERR_STATE (not set up).
 */
CL_WUR int cl_sim_reset(struct cl_sim *sim, bool warm);

/* Deactivation: the session is CLOSED until the next reset. NULL: nothing. */
void cl_sim_power_off(struct cl_sim *sim);

/* What the session wants (CL_WANT_FAILED on NULL). */
enum cl_want cl_sim_want(const struct cl_sim *sim);

/* Sticky: CL_OK, or CL_ERR_PROTOCOL while the card is mute (CL_WANT_FAILED:
 * a T=0 character out of turn or with a parity error, an erroneous or
 * refused PPS under CL_SIM_PPS_MUTE, a failed engine) until the next
 * reset. CL_ERR_ARG on NULL. */
int cl_sim_error(const struct cl_sim *sim);

/*
 * The bytes to send (line bytes), *out pointing into sim, valid until the
 * next call; 0 (and *out NULL) unless CL_WANT_SEND.
 */
size_t cl_sim_pull(struct cl_sim *sim, const uint8_t **out);

/*
 * The first n pulled bytes were sent.
 * Returns CL_OK; CL_ERR_STATE unless CL_WANT_SEND; CL_ERR_ARG (NULL, n more
 * than the last pull).
 */
CL_WUR int cl_sim_sent(struct cl_sim *sim, size_t n);

/*
 * Bytes from the reader. In RECV they are consumed and the session moves
 * on (it may then want SEND); bytes arriving out of turn (CLOSED, FAILED, SEND)
 * are dropped, as a card's UART would lose them, except that in T=0 (which
 * has no checksum) a byte out of turn makes the card mute: it lost count of
 * the characters and must not act on a shifted command. Returns the count taken
 * (len: every byte is either used or dropped), or CL_ERR_ARG (NULL sim,
 * NULL bytes with len > 0).
 */
CL_WUR int cl_sim_feed(struct cl_sim *sim, const uint8_t *bytes, size_t len);

/*
 * The next byte fed arrives with a parity error. In T=1 the engine counts
 * the block invalid; in T=0, and during PPS, the card goes mute.
 * Returns CL_OK, or CL_ERR_ARG (NULL).
 */
CL_WUR int cl_sim_parity_error(struct cl_sim *sim);

/*
 * The event: a T=1 timer armed by the engine (CWT inside a block) expired:
 * pass it on.
 * Returns CL_OK, or CL_ERR_ARG (NULL), CL_ERR_STATE (no timer armed).
 */
CL_WUR int cl_sim_timeout(struct cl_sim *sim);

/* The timer query: the engine's timer in etu, CL_TIMER_NONE when none is
 * armed (and on NULL). */
uint32_t cl_sim_timer(const struct cl_sim *sim);

/*
 * The reader says it now runs at F and D (virtual line CLOCK event).
 * Returns CL_OK when they match what was negotiated, CL_ERR_PROTOCOL when
 * not (counted in clock_mismatch: a real card would read garbage),
 * CL_ERR_ARG (NULL).
 */
CL_WUR int cl_sim_clock(struct cl_sim *sim, uint16_t f, uint16_t d);

/* The ATR bytes in the direct convention (TS 3B/3F), as configured. */
const uint8_t *cl_sim_atr(const struct cl_sim *sim, size_t *len);

/* Protocol in use (0 or 1) and the negotiated F and D. */
uint8_t cl_sim_protocol(const struct cl_sim *sim);
uint16_t cl_sim_f(const struct cl_sim *sim);
uint8_t cl_sim_d(const struct cl_sim *sim);

/* Counters (NULL on NULL). */
const struct cl_sim_stats *cl_sim_stats(const struct cl_sim *sim);

/* --------------------------------------------- the file-system app */

/* Test commands (CLA 80):
 *   80 E2 P1P2 [Le]       GENERATE: P1P2 bytes of the pattern, 9000.
 *   80 EE P1P2 Lc data [Le]  ECHO: the data, cut or padded with the pattern
 *                         to P1P2 bytes, 9000 (the response length never
 *                         depends on Le, so T=0 and T=1 give the same).
 *   80 E4 P1 00 [Le]      SLOW: busy P1 times, then 9000.
 * pattern(i) = (uint8_t)(i * 7 + 1). */
#define CL_SIM_CLA_TEST 0x80u
#define CL_SIM_INS_GENERATE 0xE2u
#define CL_SIM_INS_ECHO 0xEEu
#define CL_SIM_INS_SLOW 0xE4u

/* The default files (cl_sim_fs_init): MF 3F00 with EF 0011 (16 bytes,
 * transparent, SFI 17) and DF 1000 (name CL_SIM_AID) holding EF 0101 (1024
 * bytes, transparent, SFI 1), EF 0102 (32 bytes, transparent, SFI 2),
 * EF 0201 (linear fixed, 8 records of 16 bytes, SFI 3), EF 0202 (cyclic,
 * 4 records of 16 bytes, SFI 4). */
#define CL_SIM_AID_LEN 8u
extern const uint8_t CL_SIM_AID[CL_SIM_AID_LEN];
#define CL_SIM_FS_BIG 1024u
#define CL_SIM_FS_SMALL 32u
#define CL_SIM_FS_MFEF 16u
#define CL_SIM_FS_RECLEN 16u
#define CL_SIM_FS_LINEAR_RECS 8u
#define CL_SIM_FS_CYCLIC_RECS 4u
/* Least response buffer cl_sim_fs_process() accepts (an FCP fits). */
#define CL_SIM_FS_RESP_MIN 64u

/* Room of a file system: files (the MF included) and content bytes (all
 * transparent EFs' sizes plus record EFs' record length x records). */
#ifndef CL_SIM_FS_FILES_MAX
#define CL_SIM_FS_FILES_MAX 32u
#endif
#ifndef CL_SIM_FS_DATA_MAX
#define CL_SIM_FS_DATA_MAX 8192u
#endif
/* Longest DF name (AID), ISO 7816-4: 16 bytes. */
#define CL_SIM_FS_NAME_MAX 16u

/* File types: the FCP file descriptor byte (tag 82) of each. */
#define CL_SIM_FS_DF 0x38u
#define CL_SIM_FS_TRANSPARENT 0x01u
#define CL_SIM_FS_LINEAR 0x02u
#define CL_SIM_FS_CYCLIC 0x06u

/* One file; the application's own (cl_sim_fs_add_* fill it in). */
struct cl_sim_fs_file {
    uint16_t fid;           /* file identifier (0000: none, DF by name) */
    uint16_t size;          /* transparent: bytes; record EF: rec_len x
                               rec_max */
    uint16_t off;           /* content: data[off .. off + size) */
    uint8_t parent;         /* index of the DF holding it (MF: 0, itself) */
    uint8_t type;           /* CL_SIM_FS_DF, _TRANSPARENT, _LINEAR, _CYCLIC */
    uint8_t sfi;            /* short EF identifier 1..30, 0: none */
    uint8_t rec_len;        /* record EF: bytes per record */
    uint8_t rec_max;        /* record EF: record slots */
    uint8_t rec_count;      /* record EF: records written */
    uint8_t rec_head;       /* cyclic EF: slot of record 1 (the newest) */
    uint8_t name_len;       /* DF: name (AID) length, 0: none */
    uint8_t name[CL_SIM_FS_NAME_MAX];
};

struct cl_sim_fs {
    uint32_t rng;           /* GET CHALLENGE xorshift32 state */
    uint32_t seed;
    uint16_t slow;          /* busy this many times before every answer */
    uint16_t busy_left;
    bool pending;           /* a busy command is being repeated */
    uint8_t nfiles;         /* files[0] is the MF */
    uint8_t cur_df;         /* index of the current DF */
    int8_t cur_ef;          /* index of the current EF, -1 none */
    uint16_t used;          /* bytes of data[] given to files */
    struct cl_sim_fs_file files[CL_SIM_FS_FILES_MAX];
    uint8_t data[CL_SIM_FS_DATA_MAX];
};

/* Initialise the application: files with their initial content (EF 0101
 * byte i = pattern(i), EF 0011 "cardlink vcard\0\0", others zero, no
 * records), GET CHALLENGE seeded with seed, busy slow times before every
 * answer. Cannot fail; NULL does nothing. */
void cl_sim_fs_init(struct cl_sim_fs *fs, uint32_t seed, uint16_t slow);

/*
 * Building a file system of one's own (cardlink-vcard --fs FILE, the text
 * format of cl_sim_fs_parse(); docs/vcard.md). cl_sim_fs_init_empty()
 * leaves the MF 3F00 alone (index 0); each cl_sim_fs_add_*() appends a
 * file under the DF of index parent and returns the new file's index (>=
 * 1) or an error:
 *   CL_ERR_ARG      NULL fs, parent not a DF, a FID of 0000 for an EF, a
 *                   reserved FID (3F00, FFFF, 3FFF), an SFI above 30, a
 *                   name longer than CL_SIM_FS_NAME_MAX, an unknown type,
 *                   a record length or count of 0, a DF with neither FID
 *                   nor name
 *   CL_ERR_DUPLICATE the FID or the SFI already used in that DF, the name
 *                   already used by another DF
 *   CL_ERR_LIMIT    CL_SIM_FS_FILES_MAX files or CL_SIM_FS_DATA_MAX bytes
 *                   reached
 * Contents start zero; cl_sim_fs_write() and cl_sim_fs_append() fill them.
 */
void cl_sim_fs_init_empty(struct cl_sim_fs *fs, uint32_t seed, uint16_t slow);
CL_WUR int cl_sim_fs_add_df(struct cl_sim_fs *fs, unsigned parent,
                            uint16_t fid, const uint8_t *name,
                            size_t name_len);
/* size: the transparent EF's bytes (1..65535) or, for a record EF, the
 * record length (1..255) with records record slots (1..255; ignored for a
 * transparent EF). */
CL_WUR int cl_sim_fs_add_ef(struct cl_sim_fs *fs, unsigned parent,
                            uint16_t fid, uint8_t sfi, uint8_t type,
                            size_t size, unsigned records);
/* Write b[0..n) at offset off of the transparent EF index. CL_ERR_ARG (not
 * a transparent EF, NULL), CL_ERR_TOO_LONG (past the end of the file). */
CL_WUR int cl_sim_fs_write(struct cl_sim_fs *fs, unsigned index, size_t off,
                           const uint8_t *b, size_t n);
/* Append a record of n bytes (n == the record length) to the record EF
 * index, as APPEND RECORD does (a cyclic EF's newest record is record 1).
 * CL_ERR_ARG (not a record EF, NULL), CL_ERR_LENGTH (n is not the record
 * length), CL_ERR_LIMIT (a linear EF full). */
CL_WUR int cl_sim_fs_append(struct cl_sim_fs *fs, unsigned index,
                            const uint8_t *b, size_t n);

/* Where cl_sim_fs_parse() stopped: the 1-based line and a static text. */
struct cl_sim_fs_error {
    unsigned line;
    const char *what;
};

/*
 * Build fs (cl_sim_fs_init_empty() first) from the text description
 * text[0..len) (docs/vcard.md):
 *
 *   # comment                          (also after a statement)
 *   df FID [name HEX] [sfi ...]        a DF under the MF or the current DF
 *   df name HEX                        a DF known by name only
 *   end                                back to the DF above
 *   ef FID [sfi N] transparent SIZE    (SIZE may be omitted with data)
 *   ef FID [sfi N] linear RECLEN RECORDS
 *   ef FID [sfi N] cyclic RECLEN RECORDS
 *   data HEX... | data "text"          content of the last transparent EF
 *                                      (several data lines: appended)
 *   record HEX... | record "text"      a record of the last record EF
 *
 * FIDs are 4 hex digits, HEX is hex digits with optional spaces between
 * bytes, "text" is printable ASCII with \" and \\ escapes. A transparent
 * EF without SIZE is as long as its data. Returns CL_OK, or
 * CL_ERR_MALFORMED (a syntax error), CL_ERR_ARG / CL_ERR_DUPLICATE /
 * CL_ERR_LIMIT / CL_ERR_LENGTH / CL_ERR_TOO_LONG (as cl_sim_fs_add_* and
 * the writers give them) with err (may be NULL) saying which line and
 * what; fs is then partly built.
 */
CL_WUR int cl_sim_fs_parse(struct cl_sim_fs *fs, const char *text, size_t len,
                           struct cl_sim_fs_error *err);

/* The application's struct cl_cardapp for fs (process, reset, the default
 * T=0 rule). */
struct cl_cardapp cl_sim_fs_app(struct cl_sim_fs *fs);

/*
 * Process one command APDU (the cl_cardapp.process contract): SELECT
 * (A4: P1 00 file id: a child of the current DF, the current DF, its
 * parent, a child of its parent, 3F00 the MF / 01 DF under the current DF
 * / 02 EF under the current DF / 03 the parent DF / 04 DF name, a prefix of
 * it, none: the MF / 08 path from the MF (a leading 3F00 is skipped) / 09
 * path from the current DF; P2 00 or 04 returns the FCP (tags 80 size, 82,
 * 83, 84 name, 88 SFI, 8A), 0C nothing), LIST FILES (00 AA 00 00 Le: the
 * FIDs of the current DF's children, DFs first; 80 AA 01|02 00 Le: the DFs
 * | the EFs only, 6A82 when there are none, as TCOS answers), READ BINARY (B0, offset or SFI), UPDATE BINARY
 * (D6), READ RECORD (B2, P2 = SFI << 3 | 4), APPEND RECORD (E2), GET
 * CHALLENGE (84) and the test commands. Status words of ISO 7816-4: 6700,
 * 6981, 6986, 6A82, 6A83, 6A84, 6A86, 6B00, 6Cxx, 6282, 6884, 6D00, 6E00
 * Data longer than resp_size - 2 is
 * cut to fit (GENERATE/ECHO answer 6700 instead).
 * Returns CL_OK, CL_CARDAPP_BUSY, or CL_ERR_ARG (NULL fs, cmd, resp or
 * resp_len), CL_ERR_BUFFER (resp_size < CL_SIM_FS_RESP_MIN).
 */
CL_WUR int cl_sim_fs_process(void *fs, const uint8_t *cmd, size_t cmd_len,
                             uint8_t *resp, size_t resp_size,
                             size_t *resp_len);

/* Clear the current file selection (MF current, no EF) and a pending busy
 * command: the reset hook. NULL does nothing. */
void cl_sim_fs_reset(void *fs);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_SIM_H */
