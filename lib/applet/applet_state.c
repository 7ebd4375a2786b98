/*
 * cardlink — the card applet's persistent image: set-up and the checked,
 * versioned serialisation.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "cardlink/applet.h"
#include "cardlink/edc.h"
#include "cardlink/error.h"
#include "applet_impl.h"

#include <string.h>

static const uint8_t magic[4] = {'C', 'L', 'A', 'P'};

/* see applet_impl.h */
bool cl_applet_pin_block_ok(const uint8_t b[CL_APPLET_PIN_BLOCK],
                            unsigned min, unsigned max)
{
    unsigned len = b[0] & 0x0Fu, i;
    uint8_t bad = 0;

    if ((b[0] >> 4) != 2u || len < min || len > max)
        return false;
    for (i = 0; i < 14u; i++) {
        uint8_t nib = (uint8_t)(i & 1u ? b[1 + i / 2] & 0x0Fu
                                       : b[1 + i / 2] >> 4);
        if (i < len)
            bad |= (uint8_t)(nib > 9u);
        else
            bad |= (uint8_t)(nib != 0x0Fu);
    }
    return bad == 0;
}

/* see cardlink/applet.h */
void cl_applet_state_init(struct cl_applet_state *st)
{
    if (st == NULL)
        return;
    cl_wipe(st, sizeof(*st));
    st->pin_tries = st->pin_max = 3;
    st->puk_tries = st->puk_max = 10;
    st->balance_max = 0x7FFFFFFFu;
}

/* see cardlink/applet.h */
void cl_applet_state_wipe(struct cl_applet_state *st)
{
    if (st != NULL)
        cl_wipe(st, sizeof(*st));
}

/* see cardlink/applet.h */
int cl_applet_state_set_pin(struct cl_applet_state *st, bool puk,
                            const char *digits, size_t len, uint8_t max)
{
    uint8_t block[CL_APPLET_PIN_BLOCK];
    size_t i;

    if (st == NULL || digits == NULL || len < (puk ? 8u : 4u) || len > 12u ||
        max < 1u || max > 15u)
        return CL_ERR_ARG;
    memset(block, 0xFF, sizeof(block));
    block[0] = (uint8_t)(0x20u | len);
    for (i = 0; i < len; i++) {
        uint8_t d = (uint8_t)(digits[i] - '0');
        if (digits[i] < '0' || digits[i] > '9') {
            cl_wipe(block, sizeof(block));
            return CL_ERR_ARG;
        }
        if (i & 1u)
            block[1 + i / 2] = (uint8_t)((block[1 + i / 2] & 0xF0u) | d);
        else
            block[1 + i / 2] = (uint8_t)((d << 4) | 0x0Fu);
    }
    if (puk) {
        memcpy(st->puk, block, sizeof(block));
        st->puk_tries = st->puk_max = max;
    } else {
        memcpy(st->pin, block, sizeof(block));
        st->pin_tries = st->pin_max = max;
    }
    cl_wipe(block, sizeof(block));
    return CL_OK;
}

/* see cardlink/applet.h */
int cl_applet_state_set_cert(struct cl_applet_state *st, int which,
                             const uint8_t *der, size_t len)
{
    if (st == NULL || der == NULL || which < 0 ||
        which >= (int)CL_APPLET_CERT_SLOTS || len == 0)
        return CL_ERR_ARG;
    if (len > CL_APPLET_CERT_MAX)
        return CL_ERR_TOO_LONG;
    memcpy(st->cert[which], der, len);
    st->cert_len[which] = (uint16_t)len;
    return CL_OK;
}

/* ------------------------------------------------------- writer */

struct wr {
    uint8_t *p;
    size_t size, n;
};

static void w_bytes(struct wr *w, const void *src, size_t len)
{
    if (w->n <= w->size && len <= w->size - w->n)
        memcpy(w->p + w->n, src, len);
    w->n += len;
}

static void w_u8(struct wr *w, unsigned v)
{
    uint8_t b = (uint8_t)v;
    w_bytes(w, &b, 1);
}

static void w_u16(struct wr *w, unsigned v)
{
    uint8_t b[2];
    cl_applet_put16(b, v);
    w_bytes(w, b, 2);
}

static void w_u32(struct wr *w, uint32_t v)
{
    uint8_t b[4];
    cl_applet_put32(b, v);
    w_bytes(w, b, 4);
}

static bool state_sane(const struct cl_applet_state *st)
{
    unsigned i;

    if (st->pin_max < 1u || st->pin_max > 15u || st->pin_tries > st->pin_max ||
        st->puk_max < 1u || st->puk_max > 15u || st->puk_tries > st->puk_max ||
        st->egoods_count > CL_APPLET_EGOODS_MAX ||
        st->txlog_count > CL_APPLET_TXLOG_MAX ||
        st->txlog_head >= CL_APPLET_TXLOG_MAX || st->blocked > 1u)
        return false;
    for (i = 0; i < CL_APPLET_CERT_SLOTS; i++)
        if (st->cert_len[i] > CL_APPLET_CERT_MAX)
            return false;
    for (i = 0; i < st->egoods_count; i++) {
        const struct cl_applet_egoods *e = &st->egoods[i];
        if (e->used > 1u || e->data_len < CL_APPLET_EGOODS_ID_LEN ||
            e->data_len > CL_APPLET_EGOODS_DATA || e->sig_len < 8u ||
            e->sig_len > CL_APPLET_SIG_MAX)
            return false;
    }
    return true;
}

/* see cardlink/applet.h */
int cl_applet_state_save(const struct cl_applet_state *st, uint8_t *out,
                         size_t out_size, size_t *out_len)
{
    struct wr w;
    unsigned i;
    uint16_t crc;

    if (st == NULL || out_len == NULL || (out == NULL && out_size > 0) ||
        !state_sane(st))
        return CL_ERR_ARG;
    w.p = out;
    w.size = out_size;
    w.n = 0;
    w_bytes(&w, magic, 4);
    w_u8(&w, CL_APPLET_IMAGE_VERSION);
    w_u32(&w, 0);                       /* total length, patched below */
    w_bytes(&w, st->pin, CL_APPLET_PIN_BLOCK);
    w_bytes(&w, st->puk, CL_APPLET_PIN_BLOCK);
    w_u8(&w, st->pin_tries);
    w_u8(&w, st->pin_max);
    w_u8(&w, st->puk_tries);
    w_u8(&w, st->puk_max);
    w_bytes(&w, st->priv, CL_APPLET_PRIV_LEN);
    w_bytes(&w, st->pub, CL_APPLET_PUB_LEN);
    w_bytes(&w, st->sign_priv, CL_APPLET_PRIV_LEN);
    w_bytes(&w, st->sign_pub, CL_APPLET_PUB_LEN);
    w_bytes(&w, st->issuer_pub, CL_APPLET_PUB_LEN);
    w_bytes(&w, st->serial, CL_APPLET_SERIAL_LEN);
    w_u32(&w, st->balance);
    w_u32(&w, st->balance_max);
    w_u16(&w, st->currency);
    w_u32(&w, st->counter);
    for (i = 0; i < CL_APPLET_CERT_SLOTS; i++) {
        w_u16(&w, st->cert_len[i]);
        w_bytes(&w, st->cert[i], st->cert_len[i]);
    }
    w_u8(&w, st->egoods_count);
    for (i = 0; i < st->egoods_count; i++) {
        const struct cl_applet_egoods *e = &st->egoods[i];
        w_u8(&w, e->used);
        w_u8(&w, e->data_len);
        w_bytes(&w, e->data, e->data_len);
        w_u8(&w, e->sig_len);
        w_bytes(&w, e->sig, e->sig_len);
    }
    /* Records newest first (record 1, 2, ...): the image is canonical. */
    w_u8(&w, st->txlog_count);
    for (i = 0; i < st->txlog_count; i++)
        w_bytes(&w, st->txlog[(st->txlog_head + i) % CL_APPLET_TXLOG_MAX],
                CL_APPLET_TXREC_LEN);
    w_u8(&w, st->blocked);              /* version 3 */
    w.n += 2;
    *out_len = w.n;
    if (w.n > out_size)
        return CL_ERR_BUFFER;
    cl_applet_put32(out + 5, (uint32_t)w.n);
    crc = cl_crc16(out, w.n - 2);
    cl_applet_put16(out + w.n - 2, crc);
    return CL_OK;
}

/* ------------------------------------------------------- reader */

struct rd {
    const uint8_t *p;
    size_t len, n;
};

/* Take len bytes (the image length was checked: never past the end, but
 * the reader checks anyway). NULL when they are not there. */
static const uint8_t *r_take(struct rd *r, size_t len)
{
    const uint8_t *q;
    if (r->n > r->len || len > r->len - r->n)
        return NULL;
    q = r->p + r->n;
    r->n += len;
    return q;
}

/* Parse img (image version `version`: 2 or 3) into st (NULL: check
 * only). */
static int parse(const uint8_t *img, size_t len, unsigned version,
                 struct cl_applet_state *st)
{
    struct rd r;
    const uint8_t *q;
    uint8_t tries[4];
    unsigned i, cnt;

    r.p = img;
    r.len = len - 2;    /* without the CRC */
    r.n = 9;

#define TAKE(n_)                                                             \
    do {                                                                     \
        q = r_take(&r, (n_));                                                \
        if (q == NULL)                                                       \
            return CL_ERR_TRUNCATED;                                         \
    } while (0)

    TAKE(2u * CL_APPLET_PIN_BLOCK + 4u);
    if (!cl_applet_pin_block_ok(q, 4, 12) ||
        !cl_applet_pin_block_ok(q + CL_APPLET_PIN_BLOCK, 4, 12))
        return CL_ERR_RESERVED;
    memcpy(tries, q + 2u * CL_APPLET_PIN_BLOCK, 4);
    if (tries[1] < 1u || tries[1] > 15u || tries[0] > tries[1] ||
        tries[3] < 1u || tries[3] > 15u || tries[2] > tries[3])
        return CL_ERR_RESERVED;
    if (st) {
        memcpy(st->pin, q, CL_APPLET_PIN_BLOCK);
        memcpy(st->puk, q + CL_APPLET_PIN_BLOCK, CL_APPLET_PIN_BLOCK);
        st->pin_tries = tries[0];
        st->pin_max = tries[1];
        st->puk_tries = tries[2];
        st->puk_max = tries[3];
    }
    TAKE(2u * CL_APPLET_PRIV_LEN + 3u * CL_APPLET_PUB_LEN +
         CL_APPLET_SERIAL_LEN + 14u);
    if (st) {
        memcpy(st->priv, q, CL_APPLET_PRIV_LEN);
        q += CL_APPLET_PRIV_LEN;
        memcpy(st->pub, q, CL_APPLET_PUB_LEN);
        q += CL_APPLET_PUB_LEN;
        memcpy(st->sign_priv, q, CL_APPLET_PRIV_LEN);
        q += CL_APPLET_PRIV_LEN;
        memcpy(st->sign_pub, q, CL_APPLET_PUB_LEN);
        q += CL_APPLET_PUB_LEN;
        memcpy(st->issuer_pub, q, CL_APPLET_PUB_LEN);
        q += CL_APPLET_PUB_LEN;
        memcpy(st->serial, q, CL_APPLET_SERIAL_LEN);
        q += CL_APPLET_SERIAL_LEN;
        st->balance = cl_applet_get32(q);
        st->balance_max = cl_applet_get32(q + 4);
        st->currency = (uint16_t)cl_applet_get16(q + 8);
        st->counter = cl_applet_get32(q + 10);
    }
    for (i = 0; i < CL_APPLET_CERT_SLOTS; i++) {
        size_t cl;
        TAKE(2);
        cl = cl_applet_get16(q);
        if (cl > CL_APPLET_CERT_MAX)
            return CL_ERR_RESERVED;
        TAKE(cl);
        if (st) {
            st->cert_len[i] = (uint16_t)cl;
            memcpy(st->cert[i], q, cl);
        }
    }
    TAKE(1);
    cnt = q[0];
    if (cnt > CL_APPLET_EGOODS_MAX)
        return CL_ERR_RESERVED;
    if (st)
        st->egoods_count = (uint8_t)cnt;
    for (i = 0; i < cnt; i++) {
        uint8_t used, dl, sl;
        const uint8_t *data;
        TAKE(2);
        used = q[0];
        dl = q[1];
        if (used > 1u || dl < CL_APPLET_EGOODS_ID_LEN ||
            dl > CL_APPLET_EGOODS_DATA)
            return CL_ERR_RESERVED;
        TAKE(dl);
        data = q;
        TAKE(1);
        sl = q[0];
        if (sl < 8u || sl > CL_APPLET_SIG_MAX)
            return CL_ERR_RESERVED;
        TAKE(sl);
        if (st) {
            struct cl_applet_egoods *e = &st->egoods[i];
            e->used = used;
            e->data_len = dl;
            e->sig_len = sl;
            memcpy(e->data, data, dl);
            memcpy(e->sig, q, sl);
        }
    }
    TAKE(1);
    cnt = q[0];
    if (cnt > CL_APPLET_TXLOG_MAX)
        return CL_ERR_RESERVED;
    if (st) {
        st->txlog_count = (uint8_t)cnt;
        st->txlog_head = 0;
    }
    for (i = 0; i < cnt; i++) {
        TAKE(CL_APPLET_TXREC_LEN);
        if (st)
            memcpy(st->txlog[i], q, CL_APPLET_TXREC_LEN);
    }
    if (version >= 3u) {                /* the blocked flag */
        TAKE(1);
        if (q[0] > 1u)
            return CL_ERR_RESERVED;
        if (st)
            st->blocked = q[0];
    }
#undef TAKE
    if (r.n != r.len)
        return CL_ERR_TRAILING;
    return CL_OK;
}

/* see cardlink/applet.h */
int cl_applet_state_load(struct cl_applet_state *st, const uint8_t *img,
                         size_t len)
{
    uint32_t total;
    int rc;

    if (st == NULL || (img == NULL && len > 0))
        return CL_ERR_ARG;
    if (len < 4 || memcmp(img, magic, 4) != 0)
        return CL_ERR_MALFORMED;
    if (len < 5)
        return CL_ERR_TRUNCATED;
    if (img[4] != CL_APPLET_IMAGE_VERSION && img[4] != 2u)
        return CL_ERR_VERSION;
    if (len < 11)
        return CL_ERR_TRUNCATED;
    total = cl_applet_get32(img + 5);
    if (len < total)
        return CL_ERR_TRUNCATED;
    if (len > total)
        return CL_ERR_TRAILING;
    if (cl_crc16(img, len - 2) != cl_applet_get16(img + len - 2))
        return CL_ERR_CHECKSUM;
    rc = parse(img, len, img[4], NULL);
    if (rc != CL_OK)
        return rc;
    cl_wipe(st, sizeof(*st));
    return parse(img, len, img[4], st);
}
