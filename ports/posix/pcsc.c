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

/* The readers' names (a multi-string: names separated by NUL, an empty
 * name ends it; malloc'ed, *len bytes) and their states (malloc'ed, *count
 * of them, SCardGetStatusChange without waiting). Returns SCARD_S_SUCCESS
 * (*names NULL, *count 0 when there is no reader) or the PC/SC failure. */
static LONG list_readers(SCARDCONTEXT sctx, char **names, DWORD *len,
                         SCARD_READERSTATE **states, size_t *count)
{
    SCARD_READERSTATE *rs;
    size_t k = 0;
    char *name;
    LONG rv;

    *names = NULL;
    *states = NULL;
    *count = 0;
    *len = 0;
    rv = SCardListReaders(sctx, NULL, NULL, len);
    if (rv == SCARD_E_NO_READERS_AVAILABLE || (rv == SCARD_S_SUCCESS && *len <= 1))
        return SCARD_S_SUCCESS;
    if (rv != SCARD_S_SUCCESS)
        return rv;
    *names = malloc(*len);
    if (*names == NULL)
        return SCARD_E_NO_MEMORY;
    rv = SCardListReaders(sctx, NULL, *names, len);
    if (rv == SCARD_E_NO_READERS_AVAILABLE) {
        free(*names);
        *names = NULL;
        return SCARD_S_SUCCESS;
    }
    if (rv != SCARD_S_SUCCESS)
        return rv;
    for (name = *names; name < *names + *len && *name != '\0';
         name += strlen(name) + 1)
        k++;
    if (k == 0)
        return SCARD_S_SUCCESS;
    rs = calloc(k, sizeof(*rs));
    if (rs == NULL)
        return SCARD_E_NO_MEMORY;
    k = 0;
    for (name = *names; name < *names + *len && *name != '\0';
         name += strlen(name) + 1) {
        rs[k].szReader = name;
        rs[k].dwCurrentState = SCARD_STATE_UNAWARE;
        k++;
    }
    rv = SCardGetStatusChange(sctx, 0, rs, (DWORD)k);
    if (rv == SCARD_E_TIMEOUT)
        rv = SCARD_S_SUCCESS;
    *states = rs;
    *count = k;
    return rv;
}

/* see pcsc.h */
int cl_pcsc_list(struct cl_pcsc_reader_state *out, size_t max, size_t *n,
                 long *last)
{
    SCARDCONTEXT sctx;
    SCARD_READERSTATE *rs = NULL;
    char *names = NULL;
    DWORD len = 0;
    size_t count = 0, i;
    LONG rv;

    if (last != NULL)
        *last = SCARD_S_SUCCESS;
    if (n == NULL || (out == NULL && max > 0))
        return CL_ERR_ARG;
    *n = 0;
    rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &sctx);
    if (rv != SCARD_S_SUCCESS) {
        if (last != NULL)
            *last = rv;
        return CL_ERR_IO;
    }
    rv = list_readers(sctx, &names, &len, &rs, &count);
    for (i = 0; rv == SCARD_S_SUCCESS && i < count && i < max; i++) {
        struct cl_pcsc_reader_state *o = &out[i];
        size_t k = strlen(rs[i].szReader);
        DWORD st = rs[i].dwEventState;

        memset(o, 0, sizeof(*o));
        if (k >= sizeof(o->name))
            k = sizeof(o->name) - 1;
        memcpy(o->name, rs[i].szReader, k);
        o->state = (unsigned long)st;
        o->present = (st & SCARD_STATE_PRESENT) != 0;
        o->exclusive = (st & SCARD_STATE_EXCLUSIVE) != 0;
        o->mute = (st & SCARD_STATE_MUTE) != 0;
        if (o->present && rs[i].cbAtr > 0) {
            o->atr_len = rs[i].cbAtr < CL_ATR_MAX ? rs[i].cbAtr : CL_ATR_MAX;
            memcpy(o->atr, rs[i].rgbAtr, o->atr_len);
        }
    }
    if (rv == SCARD_S_SUCCESS)
        *n = count;
    free(rs);
    free(names);
    (void)SCardReleaseContext(sctx);
    if (rv != SCARD_S_SUCCESS) {
        if (last != NULL)
            *last = rv;
        return cl_pcsc_error(rv) == CL_ERR_NOT_FOUND ? CL_OK : CL_ERR_IO;
    }
    return CL_OK;
}

/* see pcsc.h */
int cl_pcsc_open(struct cl_pcsc *p, const char *match)
{
    SCARD_READERSTATE *rs = NULL;
    char *names = NULL;
    DWORD len = 0;
    size_t count = 0, i, pick = (size_t)-1;
    LONG rv;

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
    rv = list_readers(p->sctx, &names, &len, &rs, &count);
    if (rv != SCARD_S_SUCCESS) {
        int err = fail(p, rv);
        free(rs);
        free(names);
        cl_pcsc_close(p);
        return err == CL_ERR_NOT_FOUND ? CL_ERR_NOT_FOUND : CL_ERR_IO;
    }
    if (count == 0)
        p->last = SCARD_E_NO_READERS_AVAILABLE;
    /* the first matching reader with a card, else the first matching */
    for (i = 0; i < count; i++) {
        if (match != NULL && *match != '\0' &&
            strstr(rs[i].szReader, match) == NULL)
            continue;
        if (pick == (size_t)-1)
            pick = i;
        if (rs[i].dwEventState & SCARD_STATE_PRESENT) {
            pick = i;
            break;
        }
    }
    if (pick != (size_t)-1) {
        size_t n = strlen(rs[pick].szReader);
        if (n >= sizeof(p->reader))
            n = sizeof(p->reader) - 1;
        memcpy(p->reader, rs[pick].szReader, n);
        p->reader[n] = '\0';
    }
    free(rs);
    free(names);
    if (pick == (size_t)-1) {
        cl_pcsc_close(p);
        return CL_ERR_NOT_FOUND;
    }
    return CL_OK;
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
    /* Exclusive: in shared mode any program on the host could talk to the
     * card between two of ours, say a PSO right after the holder's VERIFY,
     * and have it sign what the holder never saw. */
    if (p->connected) {
        rv = SCardReconnect(p->handle, SCARD_SHARE_EXCLUSIVE, want,
                            warm ? SCARD_RESET_CARD : SCARD_UNPOWER_CARD,
                            &active);
        if (rv != SCARD_S_SUCCESS) {
            (void)SCardDisconnect(p->handle, SCARD_LEAVE_CARD);
            p->connected = false;
        }
    } else {
        rv = SCardConnect(p->sctx, p->reader, SCARD_SHARE_EXCLUSIVE, want,
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
