/*
 * cardlink — POSIX port: a PC/SC card reader over pcsc-lite.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>

#include <winscard.h>

#include "cardlink/error.h"
#include "cardlink/t0.h"
#include "pcsc.h"

/* see pcsc.h */
int cl_pcsc_error(long rv)
{
    switch (rv) {
    case SCARD_S_SUCCESS:
        return CL_OK;
    case SCARD_W_REMOVED_CARD:
    case SCARD_E_NO_SMARTCARD:
        return CL_ERR_CARD_REMOVED;
    case SCARD_W_UNRESPONSIVE_CARD:
    case SCARD_W_UNPOWERED_CARD:
    case SCARD_E_CARD_UNSUPPORTED:
        return CL_ERR_CARD_MUTE;
    case SCARD_E_TIMEOUT:
        return CL_ERR_TIMEOUT;
    case SCARD_E_INSUFFICIENT_BUFFER:
        return CL_ERR_BUFFER;
    case SCARD_E_PROTO_MISMATCH:
    case SCARD_E_UNSUPPORTED_FEATURE:
        return CL_ERR_UNSUPPORTED;
    case SCARD_E_NOT_TRANSACTED:
        return CL_ERR_PROTOCOL;
    case SCARD_E_CANCELLED:
        return CL_ERR_CANCELLED;
    case SCARD_E_INVALID_PARAMETER:
    case SCARD_E_INVALID_VALUE:
        return CL_ERR_ARG;
    case SCARD_E_UNKNOWN_READER:
    case SCARD_E_NO_READERS_AVAILABLE:
        return CL_ERR_NOT_FOUND;
    default:
        return CL_ERR_IO;
    }
}

/* see pcsc.h */
int cl_pcsc_t0_transmit(cl_pcsc_xfer_fn xfer, void *ctx, const uint8_t *cmd,
                        size_t cmd_len, uint8_t *resp, size_t resp_size,
                        size_t *resp_len)
{
    struct cl_t0_apdu x;    /* the rules live in lib/t0 (t0_apdu.c) */
    int rv;

    if (xfer == NULL || resp == NULL || resp_len == NULL)
        return CL_ERR_ARG;
    *resp_len = 0;
    rv = cl_t0_apdu_start(&x, cmd, cmd_len, resp_size);
    while (rv == CL_OK) {
        const uint8_t *c;
        size_t off, n = 0, len = cl_t0_apdu_next(&x, &c, &off);

        rv = xfer(ctx, c, len, resp + off, resp_size - off, &n);
        if (rv != CL_OK)
            return rv;
        rv = cl_t0_apdu_answer(&x, resp, n, resp_len);
        if (rv == 1)
            rv = CL_OK;
        else if (rv == 0)
            return CL_OK;
    }
    return rv;
}

/* ------------------------------------------------------------ the port */

/* see pcsc.h */
void cl_pcsc_init(struct cl_pcsc *p)
{
    if (p == NULL)
        return;
    memset(p, 0, sizeof(*p));
    p->last = SCARD_S_SUCCESS;
}

static int fail(struct cl_pcsc *p, LONG rv)
{
    p->last = rv;
    return cl_pcsc_error(rv);
}

/* see pcsc.h */
void cl_pcsc_close(struct cl_pcsc *p)
{
    if (p == NULL)
        return;
    if (p->connected)
        (void)SCardDisconnect(p->handle, SCARD_UNPOWER_CARD);
    if (p->have_ctx)
        (void)SCardReleaseContext(p->sctx);
    p->connected = false;
    p->have_ctx = false;
    p->proto = 0;
    p->reader[0] = '\0';
}

/* see pcsc.h */
int cl_pcsc_open(struct cl_pcsc *p, const char *match)
{
    DWORD len = 0;
    char *names = NULL, *name;
    LONG rv;
    int err = CL_ERR_NOT_FOUND;

    if (p == NULL)
        return CL_ERR_ARG;
    if (p->have_ctx)
        return CL_ERR_STATE;
    p->connected = false;
    p->reader[0] = '\0';
    rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &p->sctx);
    if (rv != SCARD_S_SUCCESS)
        return fail(p, rv) == CL_ERR_NOT_FOUND ? CL_ERR_NOT_FOUND : CL_ERR_IO;
    p->have_ctx = true;
    rv = SCardListReaders(p->sctx, NULL, NULL, &len);
    if (rv == SCARD_S_SUCCESS && len > 0) {
        names = malloc(len);
        if (names == NULL) {
            cl_pcsc_close(p);
            return CL_ERR_IO;
        }
        rv = SCardListReaders(p->sctx, NULL, names, &len);
    }
    if (rv != SCARD_S_SUCCESS) {
        err = fail(p, rv);
        free(names);
        cl_pcsc_close(p);
        return err == CL_ERR_NOT_FOUND ? CL_ERR_NOT_FOUND : CL_ERR_IO;
    }
    /* a multi-string: names separated by NUL, an empty name ends it */
    for (name = names; name != NULL && name < names + len && *name != '\0';
         name += strlen(name) + 1) {
        if (match == NULL || *match == '\0' || strstr(name, match) != NULL) {
            size_t n = strlen(name);
            if (n >= sizeof(p->reader))
                n = sizeof(p->reader) - 1;
            memcpy(p->reader, name, n);
            p->reader[n] = '\0';
            err = CL_OK;
            break;
        }
    }
    free(names);
    if (err != CL_OK)
        cl_pcsc_close(p);
    return err;
}

/* see pcsc.h */
const char *cl_pcsc_reader(const struct cl_pcsc *p)
{
    return p != NULL && p->have_ctx ? p->reader : "";
}

/* see pcsc.h */
long cl_pcsc_last(const struct cl_pcsc *p)
{
    return p != NULL ? (long)p->last : 0;
}

static int pcsc_connect(void *ctx, bool warm, uint8_t prefer,
                        uint8_t atr[CL_ATR_MAX], size_t *atr_len,
                        uint8_t *protocol)
{
    struct cl_pcsc *p = ctx;
    DWORD want, active = 0, state = 0, proto = 0, rlen, alen;
    BYTE abuf[MAX_ATR_SIZE];
    char rname[CL_PCSC_NAME_MAX];
    LONG rv;

    if (p == NULL || atr == NULL || atr_len == NULL || protocol == NULL)
        return CL_ERR_ARG;
    if (!p->have_ctx)
        return CL_ERR_STATE;
    *atr_len = 0;
    switch (prefer) {
    case 0:
        want = SCARD_PROTOCOL_T0;
        break;
    case 1:
        want = SCARD_PROTOCOL_T1;
        break;
    default:
        want = SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1;
        break;
    }
    if (p->connected) {
        rv = SCardReconnect(p->handle, SCARD_SHARE_SHARED, want,
                            warm ? SCARD_RESET_CARD : SCARD_UNPOWER_CARD,
                            &active);
        if (rv != SCARD_S_SUCCESS) {
            (void)SCardDisconnect(p->handle, SCARD_LEAVE_CARD);
            p->connected = false;
        }
    } else {
        rv = SCardConnect(p->sctx, p->reader, SCARD_SHARE_SHARED, want,
                          &p->handle, &active);
        if (rv == SCARD_S_SUCCESS)
            p->connected = true;
    }
    if (rv != SCARD_S_SUCCESS)
        return fail(p, rv);

    rlen = sizeof(rname);
    alen = sizeof(abuf);
    rv = SCardStatus(p->handle, rname, &rlen, &state, &proto, abuf, &alen);
    if (rv != SCARD_S_SUCCESS)
        return fail(p, rv);
    if (alen == 0)
        return CL_ERR_CARD_MUTE;
    if (alen > CL_ATR_MAX)
        return CL_ERR_IO;
    if (proto == 0)
        proto = active;
    if (proto == SCARD_PROTOCOL_T0)
        *protocol = 0;
    else if (proto == SCARD_PROTOCOL_T1)
        *protocol = 1;
    else
        return CL_ERR_UNSUPPORTED;
    p->proto = proto;
    memcpy(atr, abuf, alen);
    *atr_len = alen;
    return CL_OK;
}

/* One SCardTransmit with the protocol's PCI. */
static int pcsc_xfer(void *ctx, const uint8_t *cmd, size_t cmd_len,
                     uint8_t *resp, size_t resp_size, size_t *resp_len)
{
    struct cl_pcsc *p = ctx;
    const SCARD_IO_REQUEST *pci =
        p->proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
    DWORD rlen = resp_size > 0xFFFFFFFFu ? 0xFFFFFFFFu : (DWORD)resp_size;
    LONG rv;

    if (cmd_len > 0xFFFFFFFFu)
        return CL_ERR_ARG;
    rv = SCardTransmit(p->handle, pci, cmd, (DWORD)cmd_len, NULL, resp, &rlen);
    if (rv != SCARD_S_SUCCESS)
        return fail(p, rv);
    if (rlen > resp_size)
        return CL_ERR_PROTOCOL;
    *resp_len = rlen;
    return CL_OK;
}

static int pcsc_transmit(void *ctx, const uint8_t *cmd, size_t cmd_len,
                         uint8_t *resp, size_t resp_size, size_t *resp_len)
{
    struct cl_pcsc *p = ctx;
    size_t n = 0;
    int rv;

    if (p == NULL || cmd == NULL || resp == NULL || resp_len == NULL)
        return CL_ERR_ARG;
    *resp_len = 0;
    if (!p->connected)
        return CL_ERR_STATE;
    if (p->proto == SCARD_PROTOCOL_T0)
        rv = cl_pcsc_t0_transmit(pcsc_xfer, p, cmd, cmd_len, resp, resp_size,
                                 &n);
    else
        rv = pcsc_xfer(p, cmd, cmd_len, resp, resp_size, &n);
    if (rv == CL_OK && n < 2)
        rv = CL_ERR_PROTOCOL;
    if (rv == CL_OK)
        *resp_len = n;
    return rv;
}

static void pcsc_disconnect(void *ctx)
{
    struct cl_pcsc *p = ctx;

    if (p == NULL || !p->connected)
        return;
    (void)SCardDisconnect(p->handle, SCARD_UNPOWER_CARD);
    p->connected = false;
    p->proto = 0;
}

static int pcsc_present(void *ctx)
{
    struct cl_pcsc *p = ctx;
    SCARD_READERSTATE rs;
    LONG rv;

    if (p == NULL || !p->have_ctx)
        return CL_ERR_IO;
    memset(&rs, 0, sizeof(rs));
    rs.szReader = p->reader;
    rs.dwCurrentState = SCARD_STATE_UNAWARE;
    rv = SCardGetStatusChange(p->sctx, 0, &rs, 1);
    if (rv != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT) {
        p->last = rv;
        return CL_ERR_IO;
    }
    if (rs.dwEventState & (SCARD_STATE_UNKNOWN | SCARD_STATE_UNAVAILABLE))
        return CL_ERR_IO;
    return (rs.dwEventState & SCARD_STATE_PRESENT) ? 1 : 0;
}

static const struct cl_card_apdu pcsc_apdu = {
    pcsc_connect, pcsc_transmit, pcsc_disconnect, pcsc_present
};

/* see pcsc.h */
const struct cl_card_apdu *cl_pcsc_apdu(void)
{
    return &pcsc_apdu;
}
