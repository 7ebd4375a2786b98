/*
 * cardlink — the card applet: command processing (docs/applet.md).
 * SPDX-License-Identifier: Apache-2.0
 */
#include "cardlink/applet.h"
#include "cardlink/apdu.h"
#include "cardlink/error.h"
#include "cardlink/sw.h"
#include "applet_impl.h"

#include <string.h>

/* see cardlink/applet.h */
const uint8_t CL_APPLET_AID[CL_APPLET_AID_LEN] = {
    0xF0, 0x43, 0x4C, 0x50, 0x41, 0x59, 0x01  /* F0 "CLPAY" 01 */
};

/* Status words (ISO 7816-4 §5.6). */
#define SW_OK 0x9000u
#define SW_EOF 0x6282u          /* end of file/record before Ne bytes */
#define SW_DEACTIVATED 0x6283u  /* selected file deactivated (blocked) */
#define SW_AUTH_FAILED 0x6300u  /* issuer signature does not verify */
#define SW_MEMORY 0x6581u       /* memory failure: the store did not persist */
#define SW_WRONG_LENGTH 0x6700u
#define SW_CHANNEL 0x6881u      /* logical channel not supported */
#define SW_SM 0x6882u           /* secure messaging not supported */
#define SW_CHAINING 0x6884u     /* command chaining not supported */
#define SW_INCOMPATIBLE 0x6981u /* command incompatible with file */
#define SW_SECURITY 0x6982u     /* security status not satisfied */
#define SW_BLOCKED 0x6983u      /* authentication method blocked */
#define SW_CONDITIONS 0x6985u   /* conditions of use not satisfied */
#define SW_NO_EF 0x6986u        /* no current EF */
#define SW_WRONG_DATA 0x6A80u
#define SW_NOT_FOUND 0x6A82u    /* file or application not found */
#define SW_NO_RECORD 0x6A83u
#define SW_NO_SPACE 0x6A84u     /* full; purse bound */
#define SW_WRONG_P1P2 0x6A86u
#define SW_NO_REF 0x6A88u       /* referenced data not found */
#define SW_EXISTS 0x6A89u       /* data object already exists */
#define SW_WRONG_OFFSET 0x6B00u
#define SW_INS 0x6D00u
#define SW_CLA 0x6E00u
#define SW_UNKNOWN 0x6F00u      /* the crypto port failed */

/* The EFs, by index = SFI - 1: 0..2 and 5 certificates (card, issuer,
 * root, signing), 3 e-goods, 4 transaction records. */
enum { EF_CARD = 0, EF_ISSUER, EF_ROOT, EF_EGOODS, EF_TXLOG, EF_SIGN,
       EF_COUNT };

static const uint16_t ef_fid[EF_COUNT] = {
    CL_APPLET_FID_CARD_CERT, CL_APPLET_FID_ISSUER_CERT,
    CL_APPLET_FID_ROOT_CERT, CL_APPLET_FID_EGOODS, CL_APPLET_FID_TXLOG,
    CL_APPLET_FID_SIGN_CERT
};

/* Longest message the applet hashes itself (a USE receipt, or INTERNAL
 * AUTHENTICATE's with the longest challenge). */
#define USE_CHALLENGE_MAX 64u
#define MSG_MAX (4u + CL_APPLET_SERIAL_LEN + CL_APPLET_EGOODS_DATA + \
                 USE_CHALLENGE_MAX)
#if CL_APPLET_EGOODS_DATA + USE_CHALLENGE_MAX < CL_APPLET_AUTH_CHALLENGE_MAX
#error "MSG_MAX must hold an INTERNAL AUTHENTICATE message"
#endif

/* see cardlink/applet.h */
int cl_applet_init(struct cl_applet *ap, struct cl_applet_state *st,
                   const struct cl_applet_crypto *crypto,
                   const struct cl_applet_store *store)
{
    if (ap == NULL || st == NULL || crypto == NULL || crypto->sign == NULL ||
        crypto->verify == NULL || crypto->random == NULL ||
        crypto->sha256 == NULL)
        return CL_ERR_ARG;
    memset(ap, 0, sizeof(*ap));
    ap->st = st;
    ap->crypto = *crypto;
    if (store != NULL)
        ap->store = *store;
    ap->cur_ef = -1;
    return CL_OK;
}

/* see cardlink/applet.h */
void cl_applet_reset(struct cl_applet *ap)
{
    if (ap == NULL)
        return;
    ap->verified = false;
    ap->cur_ef = -1;
    cl_wipe(ap->chal, sizeof(ap->chal));
    ap->chal_len = 0;
}

static void reset_hook(void *ctx)
{
    cl_applet_reset(ctx);
}

/* see cardlink/applet.h */
bool cl_applet_take_dirty(struct cl_applet *ap)
{
    bool d;
    if (ap == NULL)
        return false;
    d = ap->dirty;
    ap->dirty = false;
    return d;
}

/* see cardlink/applet.h */
bool cl_applet_t0_has_data(void *ap, const uint8_t hdr[5])
{
    (void)ap;
    if (hdr == NULL)
        return false;
    if (hdr[0] & 0x80u)
        return hdr[1] == CL_APPLET_INS_CREDIT ||
               hdr[1] == CL_APPLET_INS_DEBIT || hdr[1] == CL_APPLET_INS_USE ||
               hdr[1] == CL_APPLET_INS_BLOCK;
    return cl_cardapp_t0_has_data(hdr);
}

/* see cardlink/applet.h */
int cl_applet_app(struct cl_applet *ap, struct cl_cardapp *out)
{
    if (ap == NULL || out == NULL)
        return CL_ERR_ARG;
    out->process = cl_applet_process;
    out->reset = reset_hook;
    out->t0_has_data = cl_applet_t0_has_data;
    out->ctx = ap;
    return CL_OK;
}

/* ------------------------------------------------------- helpers */

/* Constant-time comparison of two PIN blocks. */
static bool block_equal(const uint8_t *a, const uint8_t *b)
{
    volatile uint8_t diff = 0;
    size_t i;
    for (i = 0; i < CL_APPLET_PIN_BLOCK; i++)
        diff = (uint8_t)(diff | (a[i] ^ b[i]));
    return diff == 0;
}

static bool ne_is_max(size_t ne)
{
    return ne == 256u || ne == 65536u;
}

/* Make the image durable through the store port (cardlink/applet.h,
 * struct cl_applet_store); true when it is, or when there is no store. */
static bool persist(struct cl_applet *ap)
{
    ap->dirty = true;
    if (ap->store.persist == NULL)
        return true;
    return ap->store.persist(ap->store.ctx, ap->st) == CL_OK;
}

/* SHA-256 of msg[0..len) (a message starting with one of the card's own
 * tags) and the AUTHENTICATION key's signature over it into out; *n the
 * signature length. Returns a status word. */
static uint16_t sign_msg(struct cl_applet *ap, const uint8_t *msg, size_t len,
                         uint8_t *out, size_t *n)
{
    uint8_t h[CL_APPLET_HASH_LEN];
    size_t sl = 0;
    int rc = ap->crypto.sha256(ap->crypto.ctx, msg, len, h);

    if (rc == CL_OK)
        rc = ap->crypto.sign(ap->crypto.ctx, ap->st->priv, h, sizeof(h), out,
                             CL_APPLET_SIG_MAX, &sl);
    cl_wipe(h, sizeof(h));
    if (rc != CL_OK || sl == 0 || sl > CL_APPLET_SIG_MAX)
        return SW_UNKNOWN;
    *n = sl;
    return SW_OK;
}

/* Verify the issuer's signature over SHA-256(msg). A status word. */
static uint16_t issuer_check(struct cl_applet *ap, const uint8_t *msg,
                             size_t len, const uint8_t *sig, size_t sig_len)
{
    uint8_t h[CL_APPLET_HASH_LEN];
    int rc = ap->crypto.sha256(ap->crypto.ctx, msg, len, h);

    if (rc == CL_OK)
        rc = ap->crypto.verify(ap->crypto.ctx, ap->st->issuer_pub, h,
                               sizeof(h), sig, sig_len);
    if (rc == CL_OK)
        return SW_OK;
    return rc == CL_ERR_SIGNATURE ? SW_AUTH_FAILED : SW_UNKNOWN;
}

/* Whether EF ef is a (transparent) certificate file, and its slot. */
static bool ef_is_cert(int ef)
{
    return ef != EF_EGOODS && ef != EF_TXLOG;
}

static int ef_slot(int ef)
{
    return ef == EF_SIGN ? (int)CL_APPLET_CERT_SIGN : ef;
}

static size_t ef_size(const struct cl_applet_state *st, int ef)
{
    if (ef == EF_EGOODS)
        return (size_t)CL_APPLET_EGOODS_MAX * CL_APPLET_EGOODS_REC_MAX;
    if (ef == EF_TXLOG)
        return (size_t)CL_APPLET_TXLOG_MAX * CL_APPLET_TXREC_LEN;
    return st->cert_len[ef_slot(ef)];
}

/* An EF exists when it is a record file or a personalised certificate. */
static bool ef_exists(const struct cl_applet_state *st, int ef)
{
    return !ef_is_cert(ef) || st->cert_len[ef_slot(ef)] != 0;
}

/* FCP of the current EF (or of the applet) into out; its length. */
static size_t fcp(const struct cl_applet *ap, uint8_t *out)
{
    size_t n = 2, size;
    int ef = ap->cur_ef;

    if (ef < 0) {
        out[n++] = 0x82; out[n++] = 1; out[n++] = 0x38;     /* DF */
        out[n++] = 0x84; out[n++] = CL_APPLET_AID_LEN;
        memcpy(out + n, CL_APPLET_AID, CL_APPLET_AID_LEN);
        n += CL_APPLET_AID_LEN;
    } else {
        size = ef_size(ap->st, ef);
        out[n++] = 0x80; out[n++] = 2;
        out[n++] = (uint8_t)(size >> 8); out[n++] = (uint8_t)size;
        out[n++] = 0x82;
        if (ef == EF_EGOODS) {          /* linear variable */
            out[n++] = 1; out[n++] = 0x04;
        } else if (ef == EF_TXLOG) {    /* cyclic, fixed records */
            out[n++] = 5; out[n++] = 0x06; out[n++] = 0x21; out[n++] = 0x00;
            out[n++] = CL_APPLET_TXREC_LEN; out[n++] = CL_APPLET_TXLOG_MAX;
        } else {                        /* transparent */
            out[n++] = 1; out[n++] = 0x01;
        }
        out[n++] = 0x83; out[n++] = 2;
        out[n++] = (uint8_t)(ef_fid[ef] >> 8); out[n++] = (uint8_t)ef_fid[ef];
        out[n++] = 0x88; out[n++] = 1; out[n++] = (uint8_t)((ef + 1) << 3);
    }
    /* life cycle status: 05 operational activated, 04 deactivated */
    out[n++] = 0x8A; out[n++] = 1;
    out[n++] = ef < 0 && ap->st->blocked ? 0x04 : 0x05;
    out[0] = 0x62;
    out[1] = (uint8_t)(n - 2);
    return n;
}

/* ------------------------------------------------------- files */

static uint16_t do_select(struct cl_applet *ap, const struct cl_apdu *a,
                          uint8_t *resp, size_t *n)
{
    if (a->p2 != 0x00u && a->p2 != 0x04u && a->p2 != 0x0Cu)
        return SW_WRONG_P1P2;
    if (a->p1 == 0x04u) {
        if (a->nc < 5u || a->nc > 16u)
            return SW_WRONG_LENGTH;
        if (a->nc != CL_APPLET_AID_LEN ||
            memcmp(a->data, CL_APPLET_AID, CL_APPLET_AID_LEN) != 0)
            return SW_NOT_FOUND;
        ap->cur_ef = -1;
        if (a->p2 == 0x00u) {           /* FCI: 6F 84 AID */
            resp[0] = 0x6F;
            resp[1] = 2 + CL_APPLET_AID_LEN;
            resp[2] = 0x84;
            resp[3] = CL_APPLET_AID_LEN;
            memcpy(resp + 4, CL_APPLET_AID, CL_APPLET_AID_LEN);
            *n = 4 + CL_APPLET_AID_LEN;
        } else if (a->p2 == 0x04u) {
            *n = fcp(ap, resp);
        }
        if (ap->st->blocked) {          /* selected, but deactivated */
            *n = 0;
            return SW_DEACTIVATED;
        }
        return SW_OK;
    }
    /* 00 file id, 02 EF under the applet's DF, 08 path from the MF and 09
     * from the current DF (OpenSC's: one FID below the applet's DF, which
     * stands for the MF; a leading 3F00 is skipped) */
    if (a->p1 == 0x00u || a->p1 == 0x02u || a->p1 == 0x08u || a->p1 == 0x09u) {
        unsigned fid;
        int ef;
        const uint8_t *d = a->data;
        size_t nc = a->nc;

        if (a->p1 == 0x08u && nc == 4u && cl_applet_get16(d) == 0x3F00u) {
            d += 2;
            nc = 2;
        }
        if (a->p1 == 0x00u && nc == 0) {        /* the MF: the applet's DF */
            ap->cur_ef = -1;
            if (a->p2 != 0x0Cu)
                *n = fcp(ap, resp);
            return SW_OK;
        }
        if (nc != 2u)
            return SW_WRONG_LENGTH;
        fid = cl_applet_get16(d);
        if (fid == 0x3F00u && a->p1 == 0x00u) {
            ap->cur_ef = -1;
        } else {
            for (ef = 0; ef < EF_COUNT; ef++)
                if (ef_fid[ef] == fid)
                    break;
            if (ef == EF_COUNT || !ef_exists(ap->st, ef))
                return SW_NOT_FOUND;
            ap->cur_ef = (int8_t)ef;
        }
        if (a->p2 != 0x0Cu)
            *n = fcp(ap, resp);
        return SW_OK;
    }
    return SW_WRONG_P1P2;
}

/* EF of an SFI (1..6), -1 when none. */
static int ef_of_sfi(unsigned sfi)
{
    return sfi >= 1u && sfi <= EF_COUNT ? (int)sfi - 1 : -1;
}

static uint16_t do_read_binary(struct cl_applet *ap, const struct cl_apdu *a,
                               uint8_t *resp, size_t room, size_t *n)
{
    size_t off, size, cnt;
    uint16_t sw = SW_OK;
    int ef;

    if (a->nc != 0 || a->ne == 0)
        return SW_WRONG_LENGTH;
    if (a->p1 & 0x80u) {
        if (a->p1 & 0x60u)
            return SW_WRONG_P1P2;
        ef = ef_of_sfi(a->p1 & 0x1Fu);
        if (ef < 0 || !ef_exists(ap->st, ef))
            return SW_NOT_FOUND;
        ap->cur_ef = (int8_t)ef;
        off = a->p2;
    } else {
        if (ap->cur_ef < 0)
            return SW_NO_EF;
        ef = ap->cur_ef;
        off = (size_t)a->p1 << 8 | a->p2;
    }
    if (!ef_is_cert(ef))
        return SW_INCOMPATIBLE;
    size = ap->st->cert_len[ef_slot(ef)];
    if (off >= size)
        return SW_WRONG_OFFSET;
    cnt = size - off;
    if (cnt > a->ne)
        cnt = a->ne;
    else if (cnt < a->ne && !ne_is_max(a->ne))
        sw = SW_EOF;
    if (cnt > room)
        cnt = room;
    memcpy(resp, ap->st->cert[ef_slot(ef)] + off, cnt);
    *n = cnt;
    return sw;
}

/* The record EF named by P2's SFI (0: the current EF). */
static uint16_t record_ef(struct cl_applet *ap, uint8_t p2, int *ef)
{
    unsigned sfi = p2 >> 3;
    if (sfi == 0) {
        if (ap->cur_ef < 0)
            return SW_NO_EF;
        *ef = ap->cur_ef;
    } else {
        *ef = ef_of_sfi(sfi);
        if (*ef < 0 || !ef_exists(ap->st, *ef))
            return SW_NOT_FOUND;
    }
    if (ef_is_cert(*ef))
        return SW_INCOMPATIBLE;
    ap->cur_ef = (int8_t)*ef;
    return SW_OK;
}

/* Record k (1-based) of the e-goods file into out; its length. */
static size_t egoods_record(const struct cl_applet_egoods *e, uint8_t *out)
{
    out[0] = e->used;
    out[1] = e->data_len;
    memcpy(out + 2, e->data, e->data_len);
    out[2 + e->data_len] = e->sig_len;
    memcpy(out + 3 + e->data_len, e->sig, e->sig_len);
    return 3u + e->data_len + e->sig_len;
}

static uint16_t do_read_record(struct cl_applet *ap, const struct cl_apdu *a,
                               uint8_t *resp, size_t *n)
{
    const struct cl_applet_state *st = ap->st;
    unsigned k = a->p1;
    size_t len;
    uint16_t sw;
    int ef;

    if (a->nc != 0 || a->ne == 0)
        return SW_WRONG_LENGTH;
    if ((a->p2 & 7u) != 4u || k == 0)
        return SW_WRONG_P1P2;
    sw = record_ef(ap, a->p2, &ef);
    if (sw != SW_OK)
        return sw;
    if (ef == EF_EGOODS) {
        if (k > st->egoods_count)
            return SW_NO_RECORD;
        len = egoods_record(&st->egoods[k - 1u], resp);
    } else {
        if (k > st->txlog_count)
            return SW_NO_RECORD;
        memcpy(resp, st->txlog[(st->txlog_head + k - 1u) % CL_APPLET_TXLOG_MAX],
               CL_APPLET_TXREC_LEN);
        len = CL_APPLET_TXREC_LEN;
    }
    if (a->ne < len && !ne_is_max(a->ne))
        return (uint16_t)(0x6C00u | len);
    *n = len;
    return a->ne > len && !ne_is_max(a->ne) ? SW_EOF : SW_OK;
}

static uint16_t append_egoods(struct cl_applet *ap, const struct cl_apdu *a)
{
    struct cl_applet_state *st = ap->st;
    uint8_t msg[4 + CL_APPLET_SERIAL_LEN + CL_APPLET_EGOODS_DATA];
    struct cl_applet_egoods *e;
    size_t dl, sl, i;
    uint16_t sw;

    dl = a->data[0];
    if (dl < CL_APPLET_EGOODS_ID_LEN || dl > CL_APPLET_EGOODS_DATA ||
        a->nc < 1u + dl + 8u || a->nc - 1u - dl > CL_APPLET_SIG_MAX)
        return SW_WRONG_DATA;
    sl = a->nc - 1u - dl;
    if (st->egoods_count >= CL_APPLET_EGOODS_MAX)
        return SW_NO_SPACE;
    memcpy(msg, CL_APPLET_TAG_EGOODS, 4);
    memcpy(msg + 4, st->serial, CL_APPLET_SERIAL_LEN);
    memcpy(msg + 4 + CL_APPLET_SERIAL_LEN, a->data + 1, dl);
    sw = issuer_check(ap, msg, 4 + CL_APPLET_SERIAL_LEN + dl, a->data + 1 + dl,
                      sl);
    if (sw != SW_OK)
        return sw;
    for (i = 0; i < st->egoods_count; i++)
        if (memcmp(st->egoods[i].data, a->data + 1,
                   CL_APPLET_EGOODS_ID_LEN) == 0)
            return SW_EXISTS;
    e = &st->egoods[st->egoods_count];
    memset(e, 0, sizeof(*e));
    e->data_len = (uint8_t)dl;
    e->sig_len = (uint8_t)sl;
    memcpy(e->data, a->data + 1, dl);
    memcpy(e->sig, a->data + 1 + dl, sl);
    st->egoods_count++;
    if (!persist(ap)) {
        st->egoods_count--;
        memset(e, 0, sizeof(*e));
        return SW_MEMORY;
    }
    return SW_OK;
}

static uint16_t do_append_record(struct cl_applet *ap, const struct cl_apdu *a)
{
    struct cl_applet_state *st = ap->st;
    uint8_t old[CL_APPLET_TXREC_LEN], old_head, old_count;
    uint16_t sw;
    int ef;

    if (a->p1 != 0 || (a->p2 & 7u) != 0)
        return SW_WRONG_P1P2;
    sw = record_ef(ap, a->p2, &ef);
    if (sw != SW_OK)
        return sw;
    if (a->nc == 0)
        return SW_WRONG_LENGTH;
    if (ef == EF_EGOODS)
        return append_egoods(ap, a);
    if (a->nc != CL_APPLET_TXREC_LEN)
        return SW_WRONG_LENGTH;
    old_head = st->txlog_head;
    old_count = st->txlog_count;
    st->txlog_head = (uint8_t)(st->txlog_head == 0 ? CL_APPLET_TXLOG_MAX - 1u
                                                   : st->txlog_head - 1u);
    memcpy(old, st->txlog[st->txlog_head], CL_APPLET_TXREC_LEN);
    memcpy(st->txlog[st->txlog_head], a->data, CL_APPLET_TXREC_LEN);
    if (st->txlog_count < CL_APPLET_TXLOG_MAX)
        st->txlog_count++;
    if (!persist(ap)) {                 /* the overwritten record back */
        memcpy(st->txlog[st->txlog_head], old, CL_APPLET_TXREC_LEN);
        st->txlog_head = old_head;
        st->txlog_count = old_count;
        return SW_MEMORY;
    }
    return SW_OK;
}

/* ------------------------------------------------------- PIN */

static uint16_t tries_sw(unsigned tries)
{
    return (uint16_t)(0x63C0u | (tries & 0x0Fu));
}

/*
 * Check a presented block against the reference ref with its counter
 * *tries (limit max), tearing-safe (cardlink/applet.h, struct
 * cl_applet_store):
 *  1. the counter is decremented and PERSISTED before anything is
 *     compared; a failed write: counter back, 6581, nothing compared;
 *  2. the blocks are compared in constant time;
 *  3. the image is persisted a second time in both outcomes: a match
 *     restores the counter and applies the command's change (new_pin: the
 *     new PIN block; reset_pin: the PIN counter back to its limit), a
 *     mismatch writes the same decremented value again. A failed second
 *     write: the RAM image back to what the first write made durable
 *     (the try stays spent), 6581.
 * Returns 9000, 63Cx, 6983 or 6581.
 */
static uint16_t check_ref(struct cl_applet *ap, const uint8_t *ref,
                          uint8_t *tries, uint8_t max, const uint8_t *block,
                          const uint8_t *new_pin, bool reset_pin)
{
    struct cl_applet_state *st = ap->st;
    uint8_t before = *tries, left, old_pin[CL_APPLET_PIN_BLOCK], old_tries;
    uint16_t sw;
    bool ok;

    if (before == 0)
        return SW_BLOCKED;
    left = (uint8_t)(before - 1u);
    *tries = left;
    if (!persist(ap)) {
        *tries = before;
        return SW_MEMORY;
    }
    ok = block_equal(ref, block);
    memcpy(old_pin, st->pin, CL_APPLET_PIN_BLOCK);
    old_tries = st->pin_tries;
    if (ok) {
        if (new_pin != NULL)
            memcpy(st->pin, new_pin, CL_APPLET_PIN_BLOCK);
        if (reset_pin)
            st->pin_tries = st->pin_max;
        *tries = max;
    }
    sw = ok ? SW_OK : tries_sw(left);
    if (!persist(ap)) {
        memcpy(st->pin, old_pin, CL_APPLET_PIN_BLOCK);
        st->pin_tries = old_tries;
        *tries = left;
        sw = SW_MEMORY;
    }
    cl_wipe(old_pin, sizeof(old_pin));
    return sw;
}

static uint16_t do_verify(struct cl_applet *ap, const struct cl_apdu *a)
{
    struct cl_applet_state *st = ap->st;
    uint16_t sw;

    if (a->p1 != 0x00u && a->p1 != 0xFFu)
        return SW_WRONG_P1P2;
    if (a->p2 != CL_APPLET_PIN_REF)
        return SW_NO_REF;
    if (a->p1 == 0xFFu) {               /* ISO 7816-4: reset the status */
        if (a->nc != 0)
            return SW_WRONG_LENGTH;
        ap->verified = false;
        return SW_OK;
    }
    if (a->nc == 0) {                   /* ask for the retry counter */
        if (ap->verified)
            return SW_OK;
        return st->pin_tries == 0 ? SW_BLOCKED : tries_sw(st->pin_tries);
    }
    if (a->nc != CL_APPLET_PIN_BLOCK)
        return SW_WRONG_LENGTH;
    if (!cl_applet_pin_block_ok(a->data, 4, 14))
        return SW_WRONG_DATA;
    ap->verified = false;
    sw = check_ref(ap, st->pin, &st->pin_tries, st->pin_max, a->data, NULL,
                   false);
    ap->verified = sw == SW_OK;
    return sw;
}

static uint16_t do_change(struct cl_applet *ap, const struct cl_apdu *a)
{
    struct cl_applet_state *st = ap->st;
    uint16_t sw;

    if (a->p1 != 0x00u)
        return SW_WRONG_P1P2;
    if (a->p2 != CL_APPLET_PIN_REF)
        return SW_NO_REF;
    if (a->nc != 2u * CL_APPLET_PIN_BLOCK)
        return SW_WRONG_LENGTH;
    if (!cl_applet_pin_block_ok(a->data, 4, 14) ||
        !cl_applet_pin_block_ok(a->data + CL_APPLET_PIN_BLOCK, 4, 12))
        return SW_WRONG_DATA;
    ap->verified = false;
    sw = check_ref(ap, st->pin, &st->pin_tries, st->pin_max, a->data,
                   a->data + CL_APPLET_PIN_BLOCK, false);
    ap->verified = sw == SW_OK;
    return sw;
}

static uint16_t do_reset_retry(struct cl_applet *ap, const struct cl_apdu *a)
{
    struct cl_applet_state *st = ap->st;
    size_t want;

    if (a->p1 != 0x00u && a->p1 != 0x01u)
        return SW_WRONG_P1P2;
    if (a->p2 != CL_APPLET_PIN_REF)
        return SW_NO_REF;
    want = a->p1 == 0x00u ? 2u * CL_APPLET_PIN_BLOCK : CL_APPLET_PIN_BLOCK;
    if (a->nc != want)
        return SW_WRONG_LENGTH;
    if (!cl_applet_pin_block_ok(a->data, 4, 14) ||
        (a->p1 == 0x00u &&
         !cl_applet_pin_block_ok(a->data + CL_APPLET_PIN_BLOCK, 4, 12)))
        return SW_WRONG_DATA;
    ap->verified = false;
    return check_ref(ap, st->puk, &st->puk_tries, st->puk_max, a->data,
                     a->p1 == 0x00u ? a->data + CL_APPLET_PIN_BLOCK : NULL,
                     true);
}

/* ------------------------------------------------- signatures */

/* INTERNAL AUTHENTICATE: the authentication key over SHA-256("CLIA" ||
 * serial || challenge), a message the card builds itself: it never equals
 * a transaction digest (PSO, the signing key) nor a receipt (other tags). */
static uint16_t do_internal_auth(struct cl_applet *ap, const struct cl_apdu *a,
                                 uint8_t *resp, size_t *n)
{
    uint8_t msg[MSG_MAX];
    uint16_t sw;

    if (a->p1 != 0 || a->p2 != 0)
        return SW_WRONG_P1P2;
    if (a->nc < CL_APPLET_AUTH_CHALLENGE_MIN ||
        a->nc > CL_APPLET_AUTH_CHALLENGE_MAX)
        return SW_WRONG_LENGTH;
    memcpy(msg, CL_APPLET_TAG_AUTH, 4);
    memcpy(msg + 4, ap->st->serial, CL_APPLET_SERIAL_LEN);
    memcpy(msg + 4 + CL_APPLET_SERIAL_LEN, a->data, a->nc);
    sw = sign_msg(ap, msg, 4u + CL_APPLET_SERIAL_LEN + a->nc, resp, n);
    cl_wipe(msg, sizeof(msg));
    return sw;
}

/* Whether the signing key was personalised (an uncompressed point). */
static bool have_sign_key(const struct cl_applet_state *st)
{
    return st->sign_pub[0] == 0x04u;
}

/* PSO: COMPUTE DIGITAL SIGNATURE: the SIGNING key (nothing else uses it)
 * over the digest as given; the PIN for each signature. */
static uint16_t do_pso(struct cl_applet *ap, const struct cl_apdu *a,
                       uint8_t *resp, size_t *n)
{
    size_t sl = 0;
    int rc;

    if (a->p1 != 0x9Eu || a->p2 != 0x9Au)
        return SW_WRONG_P1P2;
    if (a->nc != 32u && a->nc != 48u)
        return SW_WRONG_LENGTH;
    if (!ap->verified)
        return SW_SECURITY;
    if (!have_sign_key(ap->st))
        return SW_CONDITIONS;
    ap->verified = false;               /* one signature per verification */
    rc = ap->crypto.sign(ap->crypto.ctx, ap->st->sign_priv, a->data, a->nc,
                         resp, CL_APPLET_SIG_MAX, &sl);
    if (rc != CL_OK || sl == 0 || sl > CL_APPLET_SIG_MAX)
        return SW_UNKNOWN;
    *n = sl;
    return SW_OK;
}

/* ------------------------------------------------------- purse */

/* The 18-byte balance: balance 4, currency 2, counter 4, serial 8. */
static size_t balance_data(const struct cl_applet_state *st, uint8_t *out)
{
    cl_applet_put32(out, st->balance);
    cl_applet_put16(out + 4, st->currency);
    cl_applet_put32(out + 6, st->counter);
    memcpy(out + 10, st->serial, CL_APPLET_SERIAL_LEN);
    return 10u + CL_APPLET_SERIAL_LEN;
}

/* A receipt message: tag || serial || amount || balance || counter || id
 * [|| payee (DEBIT)]. Its length. */
static size_t receipt_msg(const struct cl_applet_state *st, const char *tag,
                          uint32_t amount, uint32_t balance, uint32_t counter,
                          const uint8_t *id, const uint8_t *payee,
                          uint8_t *msg)
{
    memcpy(msg, tag, 4);
    memcpy(msg + 4, st->serial, CL_APPLET_SERIAL_LEN);
    cl_applet_put32(msg + 12, amount);
    cl_applet_put32(msg + 16, balance);
    cl_applet_put32(msg + 20, counter);
    memcpy(msg + 24, id, CL_APPLET_TXN_ID_LEN);
    if (payee == NULL)
        return CL_APPLET_MSG_CREDIT_RC_LEN;
    memcpy(msg + 40, payee, CL_APPLET_PAYEE_LEN);
    return CL_APPLET_MSG_DEBIT_RC_LEN;
}

/* Sign the receipt (auth key), then persist the new balance and counter
 * together, and only then answer new balance || new counter || signature.
 * A failed signature changes nothing (6F00); a failed persist rolls the
 * RAM purse back, wipes the receipt and answers 6581. */
static uint16_t purse_commit(struct cl_applet *ap, const char *tag,
                             uint32_t amount, uint32_t balance,
                             const uint8_t *id, const uint8_t *payee,
                             uint8_t *resp, size_t *n)
{
    struct cl_applet_state *st = ap->st;
    uint8_t msg[CL_APPLET_MSG_DEBIT_RC_LEN];
    uint32_t counter = st->counter + 1u, old_balance = st->balance;
    size_t len = receipt_msg(st, tag, amount, balance, counter, id, payee,
                             msg);
    size_t sl = 0;
    uint16_t sw = sign_msg(ap, msg, len, resp + 8, &sl);

    if (sw != SW_OK)
        return sw;
    st->balance = balance;
    st->counter = counter;
    if (!persist(ap)) {
        st->balance = old_balance;
        st->counter = counter - 1u;
        cl_wipe(resp + 8, sl);          /* the receipt does not leave */
        return SW_MEMORY;
    }
    cl_applet_put32(resp, balance);
    cl_applet_put32(resp + 4, counter);
    *n = 8u + sl;
    return SW_OK;
}

static uint16_t do_credit(struct cl_applet *ap, const struct cl_apdu *a,
                          uint8_t *resp, size_t *n)
{
    struct cl_applet_state *st = ap->st;
    uint8_t msg[4 + CL_APPLET_SERIAL_LEN + 8 + CL_APPLET_TXN_ID_LEN];
    uint32_t amount, ctr;
    uint16_t sw;

    if (a->p1 != 0 || a->p2 != 0)
        return SW_WRONG_P1P2;
    if (a->nc < 24u + 8u || a->nc > 24u + CL_APPLET_SIG_MAX)
        return SW_WRONG_LENGTH;
    amount = cl_applet_get32(a->data);
    ctr = cl_applet_get32(a->data + 4);
    if (amount == 0)
        return SW_WRONG_DATA;
    if (st->counter == 0xFFFFFFFFu || ctr != st->counter)
        return SW_CONDITIONS;
    memcpy(msg, CL_APPLET_TAG_CREDIT, 4);
    memcpy(msg + 4, st->serial, CL_APPLET_SERIAL_LEN);
    memcpy(msg + 12, a->data, 8u + CL_APPLET_TXN_ID_LEN);
    sw = issuer_check(ap, msg, sizeof(msg), a->data + 24, a->nc - 24u);
    if (sw != SW_OK)
        return sw;
    if (st->balance > st->balance_max ||
        amount > st->balance_max - st->balance)
        return SW_NO_SPACE;
    return purse_commit(ap, CL_APPLET_TAG_CREDIT_RC, amount,
                        st->balance + amount, a->data + 8, NULL, resp, n);
}

static uint16_t do_debit(struct cl_applet *ap, const struct cl_apdu *a,
                         uint8_t *resp, size_t *n)
{
    struct cl_applet_state *st = ap->st;
    uint32_t amount, ctr;

    if (a->p1 != 0 || a->p2 != 0)
        return SW_WRONG_P1P2;
    if (a->nc != 8u + CL_APPLET_TXN_ID_LEN + CL_APPLET_PAYEE_LEN)
        return SW_WRONG_LENGTH;
    if (!ap->verified)
        return SW_SECURITY;
    ap->verified = false;               /* one debit per verification */
    amount = cl_applet_get32(a->data);
    ctr = cl_applet_get32(a->data + 4);
    if (amount == 0)
        return SW_WRONG_DATA;
    if (st->counter == 0xFFFFFFFFu || ctr != st->counter)
        return SW_CONDITIONS;
    if (amount > st->balance)
        return SW_NO_SPACE;
    return purse_commit(ap, CL_APPLET_TAG_DEBIT_RC, amount,
                        st->balance - amount, a->data + 8,
                        a->data + 8 + CL_APPLET_TXN_ID_LEN, resp, n);
}

static uint16_t do_use(struct cl_applet *ap, const struct cl_apdu *a,
                       uint8_t *resp, size_t *n)
{
    struct cl_applet_state *st = ap->st;
    struct cl_applet_egoods *e;
    uint8_t msg[MSG_MAX];
    size_t len;
    uint16_t sw;

    if (a->p2 != 0)
        return SW_WRONG_P1P2;
    if (a->nc > USE_CHALLENGE_MAX)
        return SW_WRONG_LENGTH;
    if (a->p1 == 0 || a->p1 > st->egoods_count)
        return SW_NO_RECORD;
    e = &st->egoods[a->p1 - 1u];
    if (e->used)
        return SW_CONDITIONS;
    memcpy(msg, CL_APPLET_TAG_USE, 4);
    memcpy(msg + 4, st->serial, CL_APPLET_SERIAL_LEN);
    len = 4u + CL_APPLET_SERIAL_LEN;
    memcpy(msg + len, e->data, e->data_len);
    len += e->data_len;
    if (a->nc > 0)
        memcpy(msg + len, a->data, a->nc);
    len += a->nc;
    sw = sign_msg(ap, msg, len, resp, n);
    if (sw != SW_OK)
        return sw;
    e->used = 1;
    if (!persist(ap)) {                 /* the receipt does not leave */
        e->used = 0;
        cl_wipe(resp, *n);
        *n = 0;
        return SW_MEMORY;
    }
    return SW_OK;
}

/* ------------------------------------------------------- others */

static uint16_t do_get_data(struct cl_applet *ap, const struct cl_apdu *a,
                            uint8_t *resp, size_t *n)
{
    if (a->nc != 0)
        return SW_WRONG_LENGTH;
    if (a->p1 != 0x7Fu || a->p2 != 0x49u)
        return SW_NO_REF;
    /* 7F49 { 86 point }: the public key template of ISO 7816-8. */
    resp[0] = 0x7F;
    resp[1] = 0x49;
    resp[2] = 2 + CL_APPLET_PUB_LEN;
    resp[3] = 0x86;
    resp[4] = CL_APPLET_PUB_LEN;
    memcpy(resp + 5, ap->st->pub, CL_APPLET_PUB_LEN);
    *n = 5u + CL_APPLET_PUB_LEN;
    return SW_OK;
}

static uint16_t do_get_challenge(struct cl_applet *ap, const struct cl_apdu *a,
                                 uint8_t *resp, size_t room, size_t *n)
{
    size_t cnt;

    if (a->p1 != 0 || a->p2 != 0)
        return SW_WRONG_P1P2;
    if (a->nc != 0 || a->ne == 0)
        return SW_WRONG_LENGTH;
    cnt = a->ne > 256u ? 256u : a->ne;
    if (cnt > room)
        cnt = room;
    cl_wipe(ap->chal, sizeof(ap->chal));
    ap->chal_len = 0;
    if (ap->crypto.random(ap->crypto.ctx, resp, cnt) != CL_OK)
        return SW_UNKNOWN;
    if (cnt <= CL_APPLET_CHALLENGE_MAX) {   /* kept for one BLOCK */
        memcpy(ap->chal, resp, cnt);
        ap->chal_len = (uint8_t)cnt;
    }
    *n = cnt;
    return SW_OK;
}

/* BLOCK: the issuer's signature over SHA-256("CLBK" || serial || the
 * challenge of the last GET CHALLENGE) blocks the card for good. The
 * challenge is used up by any BLOCK that gets past its format checks, so
 * a recorded BLOCK never works twice, nor on another card (serial). */
static uint16_t do_block(struct cl_applet *ap, const struct cl_apdu *a)
{
    struct cl_applet_state *st = ap->st;
    uint8_t msg[4 + CL_APPLET_SERIAL_LEN + CL_APPLET_CHALLENGE_MAX];
    size_t len;
    uint16_t sw;

    if (a->p1 != 0 || a->p2 != 0)
        return SW_WRONG_P1P2;
    if (a->nc < 8u || a->nc > CL_APPLET_SIG_MAX)
        return SW_WRONG_LENGTH;
    if (ap->chal_len < CL_APPLET_BLOCK_CHALLENGE_MIN) {
        ap->chal_len = 0;
        return SW_CONDITIONS;
    }
    memcpy(msg, CL_APPLET_TAG_BLOCK, 4);
    memcpy(msg + 4, st->serial, CL_APPLET_SERIAL_LEN);
    memcpy(msg + 4 + CL_APPLET_SERIAL_LEN, ap->chal, ap->chal_len);
    len = 4u + CL_APPLET_SERIAL_LEN + ap->chal_len;
    cl_wipe(ap->chal, sizeof(ap->chal));
    ap->chal_len = 0;
    sw = issuer_check(ap, msg, len, a->data, a->nc);
    if (sw == SW_AUTH_FAILED)
        return SW_SECURITY;
    if (sw != SW_OK || st->blocked)
        return sw;                      /* blocked already: nothing to write */
    st->blocked = 1;
    ap->verified = false;
    if (!persist(ap)) {
        st->blocked = 0;
        return SW_MEMORY;
    }
    return SW_OK;
}

/* Whether a blocked card refuses the command (6985): everything that
 * signs, moves value, writes or checks a PIN. Reading (SELECT, READ
 * BINARY/RECORD, GET DATA, GET BALANCE, LIST FILES), GET CHALLENGE, VERIFY
 * P1 FF (ending a verification) and BLOCK itself stay. */
static bool refused_when_blocked(const struct cl_apdu *a)
{
    if (a->cla == CL_APPLET_CLA_PROP)
        return a->ins == CL_APPLET_INS_CREDIT || a->ins == CL_APPLET_INS_DEBIT ||
               a->ins == CL_APPLET_INS_USE;
    switch (a->ins) {
    case 0x20:
        return a->p1 != 0xFFu;
    case 0x24: case 0x2C: case 0x88: case 0x2A: case 0xE2:
        return true;
    default:
        return false;
    }
}

static uint16_t dispatch_prop(struct cl_applet *ap, const struct cl_apdu *a,
                              uint8_t *resp, size_t *n)
{
    switch (a->ins) {
    case CL_APPLET_INS_BALANCE:
        if (a->p1 != 0 || a->p2 != 0)
            return SW_WRONG_P1P2;
        if (a->nc != 0)
            return SW_WRONG_LENGTH;
        *n = balance_data(ap->st, resp);
        return SW_OK;
    case CL_APPLET_INS_CREDIT:
        return do_credit(ap, a, resp, n);
    case CL_APPLET_INS_DEBIT:
        return do_debit(ap, a, resp, n);
    case CL_APPLET_INS_USE:
        return do_use(ap, a, resp, n);
    case CL_APPLET_INS_BLOCK:
        return do_block(ap, a);
    case 0xAAu:     /* LIST FILES (TCOS's 80 AA): P1 01 DFs, 02 EFs */
        if ((a->p1 != 1u && a->p1 != 2u) || a->p2 != 0)
            return SW_WRONG_P1P2;
        if (a->nc != 0 || a->ne == 0)
            return SW_WRONG_LENGTH;
        if (a->p1 == 1u)
            return SW_NOT_FOUND;        /* no DF below the applet's */
        {
            int ef;
            for (ef = 0; ef < EF_COUNT; ef++) {
                if (!ef_exists(ap->st, ef) || *n + 2u > a->ne)
                    continue;
                resp[(*n)++] = (uint8_t)(ef_fid[ef] >> 8);
                resp[(*n)++] = (uint8_t)ef_fid[ef];
            }
        }
        return SW_OK;
    default:
        return SW_INS;
    }
}

static uint16_t dispatch(struct cl_applet *ap, const struct cl_apdu *a,
                         uint8_t *resp, size_t room, size_t *n)
{
    if (ap->st->blocked && (a->cla == CL_APPLET_CLA_PROP || a->cla == 0x00u) &&
        refused_when_blocked(a)) {
        ap->verified = false;
        return SW_CONDITIONS;
    }
    if (a->cla == CL_APPLET_CLA_PROP)
        return dispatch_prop(ap, a, resp, n);
    if (a->cla & 0xE0u)     /* other proprietary, RFU, further classes */
        return SW_CLA;
    if (a->cla & 0x10u)
        return SW_CHAINING;
    if (a->cla & 0x0Cu)
        return SW_SM;
    if (a->cla & 0x03u)
        return SW_CHANNEL;
    switch (a->ins) {
    case 0xA4: return do_select(ap, a, resp, n);
    case 0xB0: return do_read_binary(ap, a, resp, room, n);
    case 0xB2: return do_read_record(ap, a, resp, n);
    case 0xE2: return do_append_record(ap, a);
    case 0x20: return do_verify(ap, a);
    case 0x24: return do_change(ap, a);
    case 0x2C: return do_reset_retry(ap, a);
    case 0x88: return do_internal_auth(ap, a, resp, n);
    case 0x2A: return do_pso(ap, a, resp, n);
    case 0x84: return do_get_challenge(ap, a, resp, room, n);
    case 0xCA: return do_get_data(ap, a, resp, n);
    default: return SW_INS;
    }
}

/* see cardlink/applet.h */
int cl_applet_process(void *ctx, const uint8_t *cmd, size_t cmd_len,
                      uint8_t *resp, size_t resp_size, size_t *resp_len)
{
    struct cl_applet *ap = ctx;
    struct cl_apdu a;
    size_t n = 0;
    uint16_t sw;

    if (ap == NULL || ap->st == NULL || cmd == NULL || resp == NULL ||
        resp_len == NULL)
        return CL_ERR_ARG;
    if (resp_size < CL_APPLET_RESP_MIN)
        return CL_ERR_BUFFER;
    if (cl_apdu_decode(cmd, cmd_len, &a, NULL) != CL_OK) {
        sw = SW_WRONG_LENGTH;
    } else {
        sw = dispatch(ap, &a, resp, resp_size - 2u, &n);
        if ((sw != SW_OK && sw != SW_EOF) || n > resp_size - 2u)
            n = 0;      /* errors carry no data */
    }
    cl_wipe(&a, sizeof(a));     /* it pointed at a PIN block, maybe */
    resp[n] = CL_SW1(sw);
    resp[n + 1] = CL_SW2(sw);
    *resp_len = n + 2u;
    return CL_OK;
}
