/*
 * cardlink — POSIX port: a PC/SC card reader (pcsc-lite) as a
 * struct cl_card_apdu (cardlink/card.h).
 * SPDX-License-Identifier: Apache-2.0
 *
 * A PC/SC reader does the transport itself: pcscd and the reader's driver
 * read the ATR, run PPS and T=0 or T=1, and hand over whole APDUs. This port
 * binds one reader to a card session:
 *
 *     struct cl_pcsc pc;
 *     struct cl_card card;
 *     cl_pcsc_init(&pc);
 *     if (cl_pcsc_open(&pc, "Virtual PCD") == CL_OK) {
 *         cl_card_init_apdu(&card, cl_pcsc_apdu(), &pc, NULL);
 *         cl_card_activate(&card); cl_card_transmit(&card, ...); ...
 *         cl_card_deactivate(&card);
 *     }
 *     cl_pcsc_close(&pc);
 *
 * The callbacks of cl_pcsc_apdu():
 *   connect     cold: SCardConnect, or SCardReconnect with
 *               SCARD_UNPOWER_CARD when already connected; warm:
 *               SCardReconnect with SCARD_RESET_CARD; always
 *               SCARD_SHARE_EXCLUSIVE: no other program reaches the card
 *               while it is connected (a card another program holds fails
 *               with SCARD_E_SHARING_VIOLATION). Protocols asked:
 *               T=0, T=1 or both (CL_CARD_T_ANY: pcscd picks the card's
 *               default). The ATR comes from SCardStatus.
 *   transmit    SCardTransmit with SCARD_PCI_T0 or SCARD_PCI_T1. pcsc-lite
 *               hands T=0 status words 61xx and 6Cxx to the application;
 *               the interface says the reader collects the response, so
 *               under T=0 this port does it (cl_pcsc_t0_transmit(), the
 *               rules of cardlink/t0.h's reader role: GET RESPONSE with
 *               CLA of the command and P3 = min(xx, room), one re-issue
 *               with P3 = xx on 6Cxx before any data came).
 *   disconnect  SCardDisconnect with SCARD_UNPOWER_CARD.
 *   present     SCardGetStatusChange with a zero timeout.
 *
 * PC/SC return codes map to enum cl_err with cl_pcsc_error(); the last
 * PC/SC code is kept in the context for logs (cl_pcsc_last()).
 *
 * The client library honours PCSCLITE_CSOCK_NAME (the path of pcscd's
 * socket), so a program can talk to a private pcscd (tests/pcsc does).
 */
#ifndef CARDLINK_POSIX_PCSC_H
#define CARDLINK_POSIX_PCSC_H

#include <winscard.h>

#include "cardlink/card.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest reader name kept (pcsc-lite: MAX_READERNAME is 128). */
#define CL_PCSC_NAME_MAX 256u

/* The port's context. Caller-allocated; do not touch the fields. */
struct cl_pcsc {
    SCARDCONTEXT sctx;
    SCARDHANDLE handle;
    DWORD proto;            /* SCARD_PROTOCOL_T0 / _T1 while connected */
    LONG last;              /* last PC/SC return code */
    bool have_ctx;
    bool connected;
    char reader[CL_PCSC_NAME_MAX];
};

/* Empty context (no PC/SC context yet). NULL does nothing. */
void cl_pcsc_init(struct cl_pcsc *p);

/*
 * Establish a PC/SC context and choose a reader among those whose name
 * contains match (match NULL or "": all): the first that holds a card, or,
 * when none does, the first of them (connecting then says there is no
 * card). No card is touched yet. p must be cl_pcsc_init()ed or closed.
 * Returns CL_OK, or
 *   CL_ERR_ARG        p NULL;
 *   CL_ERR_STATE      p already open;
 *   CL_ERR_NOT_FOUND  no reader at all, or none whose name matches
 *                     (cl_pcsc_last() stays SCARD_S_SUCCESS when readers
 *                     exist but none matches);
 *   CL_ERR_IO         pcscd cannot be reached (cl_pcsc_last():
 *                     SCARD_E_NO_SERVICE), or another PC/SC failure
 *                     (cl_pcsc_last() says which).
 * On error p is closed.
 */
CL_WUR int cl_pcsc_open(struct cl_pcsc *p, const char *match);

/* One reader as cl_pcsc_list() sees it. */
struct cl_pcsc_reader_state {
    char name[CL_PCSC_NAME_MAX];
    unsigned long state;        /* SCARD_STATE_* bits (pcsclite.h) */
    bool present;               /* a card in the reader */
    bool exclusive;             /* another program holds it exclusively */
    bool mute;                  /* the card does not answer its reset */
    size_t atr_len;             /* 0: none */
    uint8_t atr[CL_ATR_MAX];
};

/*
 * The readers pcscd knows, in its order, with their card state and ATR
 * (SCardGetStatusChange without waiting): out[0..*n), at most max (*n is
 * the number of readers even when more than max; only max are filled).
 * *last (may be NULL) gets the PC/SC code of a failure, SCARD_S_SUCCESS
 * otherwise. Uses a context of its own.
 * Returns CL_OK (also for no reader at all: *n = 0), or
 *   CL_ERR_ARG  n NULL, out NULL with max > 0;
 *   CL_ERR_IO   pcscd cannot be reached (*last SCARD_E_NO_SERVICE) or
 *               another PC/SC failure.
 */
CL_WUR int cl_pcsc_list(struct cl_pcsc_reader_state *out, size_t max,
                        size_t *n, long *last);

/* Disconnect (unpowering the card) and release the context. NULL, or a
 * closed p: nothing. p may be opened again. */
void cl_pcsc_close(struct cl_pcsc *p);

/* The chosen reader's name ("" when not open). */
const char *cl_pcsc_reader(const struct cl_pcsc *p);

/* The last PC/SC return code (SCARD_S_SUCCESS when none failed); 0 on
 * NULL. pcsc_stringify_error() names it. */
long cl_pcsc_last(const struct cl_pcsc *p);

/* The struct cl_card_apdu whose callbacks take a struct cl_pcsc * as ctx
 * (read-only, static storage). */
const struct cl_card_apdu *cl_pcsc_apdu(void);

/*
 * The enum cl_err for a PC/SC return code:
 *   SCARD_S_SUCCESS                              CL_OK
 *   SCARD_W_REMOVED_CARD, SCARD_E_NO_SMARTCARD   CL_ERR_CARD_REMOVED
 *   SCARD_W_UNRESPONSIVE_CARD, _UNPOWERED_CARD,
 *   SCARD_E_CARD_UNSUPPORTED                     CL_ERR_CARD_MUTE
 *   SCARD_E_TIMEOUT                              CL_ERR_TIMEOUT
 *   SCARD_E_INSUFFICIENT_BUFFER                  CL_ERR_BUFFER
 *   SCARD_E_PROTO_MISMATCH, SCARD_E_UNSUPPORTED_FEATURE   CL_ERR_UNSUPPORTED
 *   SCARD_E_NOT_TRANSACTED                       CL_ERR_PROTOCOL
 *   SCARD_E_CANCELLED                            CL_ERR_CANCELLED
 *   SCARD_E_INVALID_PARAMETER, SCARD_E_INVALID_VALUE      CL_ERR_ARG
 *   SCARD_E_UNKNOWN_READER, SCARD_E_NO_READERS_AVAILABLE  CL_ERR_NOT_FOUND
 *   anything else (no service, reader gone, communication error,
 *   sharing violation, reset by another application ...)  CL_ERR_IO
 */
int cl_pcsc_error(long rv);

/*
 * One raw exchange with a reader: send cmd[0..cmd_len), the reader's whole
 * answer (data and SW1 SW2) in resp[0..*resp_len), resp_len <= resp_size.
 * Returns CL_OK or an enum cl_err.
 */
typedef int (*cl_pcsc_xfer_fn)(void *ctx, const uint8_t *cmd, size_t cmd_len,
                               uint8_t *resp, size_t resp_size,
                               size_t *resp_len);

/*
 * A T=0 command APDU through xfer, the response collected as the card
 * session's reader does it (cardlink/t0.h, "Status words while collecting
 * the response"): 61xx is answered with GET RESPONSE (CLA of the command,
 * C0 00 00, P3 = min(xx, room), xx 00 meaning 256, room the space left for
 * data in resp); the response ends with the 61xx status word when room is
 * 0 or a second GET RESPONSE in a row brought no data. 6Cxx on a 5-byte
 * command (case 1 or 2, or a GET RESPONSE) before any data came: the same
 * header again with P3 = xx, once, when xx fits; otherwise the 6Cxx ends
 * the response. The data of every step is concatenated, the last status
 * word follows: resp[0..*resp_len).
 * Returns CL_OK, or
 *   CL_ERR_ARG       a NULL pointer, cmd_len < 4, resp_size < 2;
 *   CL_ERR_PROTOCOL  the reader answered fewer than 2 bytes or more than
 *                    it was given room for, or more than 65536 steps;
 *   xfer's error     (CL_ERR_BUFFER when the first answer does not fit).
 */
CL_WUR int cl_pcsc_t0_transmit(cl_pcsc_xfer_fn xfer, void *ctx,
                               const uint8_t *cmd, size_t cmd_len,
                               uint8_t *resp, size_t resp_size,
                               size_t *resp_len);

#ifdef __cplusplus
}
#endif

#endif /* CARDLINK_POSIX_PCSC_H */
