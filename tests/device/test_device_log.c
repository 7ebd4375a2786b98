/*
 * cardlink — the device's transaction log (protocol §9) beyond its answer
 * slots, CARD-INSERTED for a card that was active before the session
 * opened (§5.6), and the card accessors of cardlink/device.h. The device
 * runs against the card simulator with a card application that answers
 * 90 00 and counts what reached it, a server-role relay session scripted
 * by the test, and an in-memory store that survives "reboots"
 * (cl_dev_free then cl_dev_setup on the same store).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <string.h>

#include "cardlink/atr.h"
#include "cardlink/device.h"
#include "cardlink/error.h"
#include "cardlink/sim.h"
#include "cardlink/store.h"
#include "device_rig.h"
#include "test_util.h"

/* ------------------------------------------------------------ store */

#define MS_KEYS 4
static struct mstore {
    char key[MS_KEYS][CL_STORE_KEY_MAX + 1];
    uint8_t rec[MS_KEYS][CL_STORE_RECORD_MAX];
    size_t len[MS_KEYS];
    bool used[MS_KEYS];
    unsigned writes;
    const char *fail_key;   /* write() of this key fails CL_ERR_IO */
} ms;

static int ms_find(const char *key)
{
    int i;

    for (i = 0; i < MS_KEYS; i++)
        if (ms.used[i] && strcmp(ms.key[i], key) == 0)
            return i;
    return -1;
}

static int ms_read(void *ctx, const char *key, uint8_t *buf, size_t size)
{
    int i = ms_find(key);

    (void)ctx;
    if (i < 0)
        return CL_ERR_NOT_FOUND;
    if (ms.len[i] > size)
        return CL_ERR_BUFFER;
    memcpy(buf, ms.rec[i], ms.len[i]);
    return (int)ms.len[i];
}

static int ms_write(void *ctx, const char *key, const uint8_t *data, size_t len)
{
    int i = ms_find(key);

    (void)ctx;
    ck_assert(cl_store_key_ok(key));
    if (len > CL_STORE_RECORD_MAX)
        return CL_ERR_LIMIT;
    if (ms.fail_key != NULL && strcmp(ms.fail_key, key) == 0)
        return CL_ERR_IO;
    if (i < 0) {
        for (i = 0; i < MS_KEYS && ms.used[i]; i++)
            continue;
        ck_assert_int_lt(i, MS_KEYS);
    }
    ms.used[i] = true;
    strcpy(ms.key[i], key);
    memcpy(ms.rec[i], data, len);
    ms.len[i] = len;
    ms.writes++;
    return CL_OK;
}

static int ms_erase(void *ctx, const char *key)
{
    int i = ms_find(key);

    (void)ctx;
    if (i >= 0)
        ms.used[i] = false;
    return CL_OK;
}

static const struct cl_store mstore_port = {ms_read, ms_write, ms_erase};

/* ------------------------------------------------------------ card */

static struct cl_sim sim;
static unsigned napdu;   /* commands that reached the card application */
static bool inverse;     /* the card answers in the inverse convention */
static bool vary;        /* answers of 0..3 data bytes before 90 00, by count */

static int app_process(void *ctx, const uint8_t *cmd, size_t n, uint8_t *r, size_t rs, size_t *rl)
{
    (void)ctx;
    (void)cmd;
    (void)n;
    ck_assert_uint_ge(rs, 2);
    napdu++;
    *rl = 0;
    if (vary) {   /* nonzero bytes, a length that moves the log's records */
        size_t i, extra = napdu % 4;
        ck_assert_uint_ge(rs, extra + 2);
        for (i = 0; i < extra; i++)
            r[(*rl)++] = (uint8_t)(0xC0 + napdu + i);
    }
    r[(*rl)++] = 0x90;
    r[(*rl)++] = 0x00;
    return CL_OK;
}

/* ------------------------------------------------------------ device, server */

static struct cl_dev dev;
static struct cl_relay_session srv;
static struct cl_relay_session_config scfg;
static uint8_t srx[CL_DEV_MSG_MAX], srb[4096];
static struct cl_relay_event sev;
static bool sev_ok;
static uint8_t ans_buf[CL_DEV_MSG_MAX];
static struct cl_relay_msg ans;
static unsigned n_inserted;          /* CARD-INSERTED the server received */
static uint8_t ins_atr[CL_ATR_MAX];
static size_t ins_atr_len;
static uint8_t dout[8192];           /* what the device sent, since the last reset */
static size_t dlen;
static const uint32_t now = 1000;

/* Appends what the server took from the device to dout. */
static void keep_dout(const uint8_t *p, size_t n, size_t used)
{
    (void)n;
    ck_assert_uint_le(dlen + used, sizeof(dout));
    memcpy(dout + dlen, p, used);
    dlen += used;
}

/* One round: the card line (rig_card_step() codes the inverse convention
 * while cl_dev_card_inverse() says so), the device's bytes to a server
 * that listens, the server's events (the first answer kept in ans,
 * CARD-INSERTED counted with its ATR), the server's bytes to the device. */
static bool round_trip(void)
{
    bool moved = rig_card_step(&dev, &sim, now);

    moved |= rig_dev_to_server(&dev, &srv, now, true, keep_dout);
    while (cl_relay_session_poll(&srv, &sev)) {
        if (sev.kind == CL_RELAY_EV_ANSWER && sev.msg != NULL && !sev_ok) {
            rig_keep_msg(sev.msg, ans_buf, sizeof(ans_buf), &ans);
            sev_ok = true;
        } else if (sev.kind == CL_RELAY_EV_NOTIFY && sev.msg != NULL &&
                   sev.msg->type == CL_RELAY_CARD_INSERTED) {
            n_inserted++;
            ck_assert_uint_le(sev.msg->u.card.atr.len, sizeof(ins_atr));
            memcpy(ins_atr, sev.msg->u.card.atr.data, sev.msg->u.card.atr.len);
            ins_atr_len = sev.msg->u.card.atr.len;
        }
    }
    moved |= rig_server_to_dev(&srv, &dev, now);
    return moved;
}

/* Move bytes until nobody has anything to do. */
static void pump(void)
{
    rig_pump(round_trip, 100000);
}

/* The device (re)booted on the store as it is. */
static int boot(void)
{
    struct cl_dev_config cfg;
    static const uint8_t id[4] = {'d', 'e', 'v', '9'};

    rig_dev_config(&cfg, id, sizeof(id));
    cfg.store = &mstore_port;
    cl_dev_init(&dev);
    return cl_dev_setup(&dev, &cfg);
}

/* A new server session (a server that holds nothing for the device). */
static void server_new(uint8_t tok)
{
    uint8_t token[16];

    memset(token, tok, sizeof(token));
    cl_relay_session_free(&srv);
    rig_server_open(&srv, &scfg, srx, sizeof(srx), srb, sizeof(srb), now, token, sizeof(token));
}

static void card_setup(void)
{
    struct cl_sim_config sc;
    struct cl_cardapp app;

    memset(&app, 0, sizeof(app));
    app.process = app_process;
    cl_sim_config_default(&sc, true);
    if (inverse)
        sc.atr.opts |= CL_ATR_B_INVERSE;
    ck_assert_int_eq(cl_sim_setup(&sim, &sc, &app), CL_OK);
}

static void setup(void)
{
    memset(&ms, 0, sizeof(ms));
    napdu = 0;
    vary = false;
    n_inserted = 0;
    dlen = 0;
    inverse = false;
    card_setup();
    cl_relay_session_init(&srv);
    ck_assert_int_eq(boot(), CL_OK);
}

static void teardown(void)
{
    cl_dev_free(&dev);
    cl_relay_session_free(&srv);
    cl_sim_free(&sim);
}

/* Session open, card in and active (CARD-INSERTED told). */
static void online(void)
{
    server_new(1);
    ck_assert_int_eq(cl_dev_net_up(&dev, now), CL_OK);
    ck_assert_int_eq(cl_dev_card_inserted(&dev, now), CL_OK);
    pump();
    ck_assert_uint_eq(cl_relay_session_state(&srv), CL_RELAY_ST_OPEN);
    ck_assert(cl_dev_card_active(&dev));
}

static void txn_id(uint8_t id[16], unsigned k)
{
    unsigned i;

    for (i = 0; i < 16; i++)
        id[i] = (uint8_t)(0xA0 + i);
    id[14] = (uint8_t)(k >> 8);
    id[15] = (uint8_t)k;
}

/* GET BALANCE under transaction id k; the answer in ans, the device's
 * bytes in dout[0..dlen). */
static void apdu_txn(unsigned k)
{
    static uint8_t cmd[5] = {0x80, 0x5C, 0x00, 0x00, 0x00};
    uint8_t id[16];
    struct cl_relay_msg m;

    txn_id(id, k);
    cl_relay_msg_init(&m, CL_RELAY_APDU);
    m.u.apdu.apdu.data = cmd;
    m.u.apdu.apdu.len = sizeof(cmd);
    m.u.apdu.txn_id = id;
    sev_ok = false;
    dlen = 0;
    ck_assert_int_eq(cl_relay_session_send(&srv, now, &m), CL_OK);
    pump();
    ck_assert(sev_ok);
}

/* The device's answer was ERROR DUPLICATE: exactly these bytes (header:
 * C1 10, flags ACK+REF, seq, ack = ref = the request's seq, body 3). */
static void expect_duplicate(uint8_t seq, uint8_t ref)
{
    const uint8_t want[11] = {0xC1, 0x10, 0x05, seq, ref, ref, 0x00, 0x03, 0x80, 0x01, 0x0D};

    ck_assert_uint_eq(ans.type, CL_RELAY_ERROR);
    ck_assert_uint_eq(ans.u.status.code, CL_RELAY_E_DUPLICATE);
    char got[3 * sizeof(want) + 64];

    snprintf(got, sizeof(got), "%s", cl_test_tohex(dout, dlen));
    ck_assert_str_eq(got, cl_test_tohex(want, sizeof(want)));
}

static void expect_executed(void)
{
    ck_assert_uint_eq(ans.type, CL_RELAY_APDU_RESPONSE);
    ck_assert_uint_eq(ans.u.apdu.apdu.len, 2);
    ck_assert_uint_eq(ans.u.apdu.apdu.data[0], 0x90);
}

static const uint8_t *record(const char *key, size_t *len)
{
    int i = ms_find(key);

    ck_assert_int_ge(i, 0);
    *len = ms.len[i];
    return ms.rec[i];
}

/* ------------------------------------------------------------ §9 */

/* 70 ids executed: the first one's answer left the 4 slots long ago, its
 * retry is refused without the card, here and after a reboot. */
START_TEST(t_evicted_not_executed)
{
    unsigned k;
    const uint8_t *r;
    size_t len;
    uint8_t id[16];

    online();
    for (k = 0; k < 70; k++) {
        apdu_txn(k);
        expect_executed();
    }
    ck_assert_uint_eq(napdu, 70);
    /* in progress: one write of the id list; answered: one of the answers */
    ck_assert_uint_eq(ms.writes, 140);

    apdu_txn(0);                 /* request seq 71; CARD-INSERTED was 1 */
    ck_assert_uint_eq(napdu, 70);
    expect_duplicate(72, 71);
    apdu_txn(65);                /* the oldest evicted answer */
    ck_assert_uint_eq(napdu, 70);
    expect_duplicate(73, 72);
    apdu_txn(69);                /* still held: the recorded answer */
    ck_assert_uint_eq(napdu, 70);
    expect_executed();
    ck_assert_uint_eq(dout[3], 74);
    ck_assert_uint_eq(ms.writes, 140);   /* a refused retry writes nothing */

    /* the records: ids oldest first; answers of 66..69 oldest first */
    r = record(CL_STORE_KEY_TXN_IDS, &len);
    ck_assert_uint_eq(len, 2 + 70 * 16);
    ck_assert_uint_eq(r[0], 0);
    ck_assert_uint_eq(r[1], 70);
    txn_id(id, 0);
    ck_assert_mem_eq(r + 2, id, 16);
    txn_id(id, 69);
    ck_assert_mem_eq(r + 2 + 69 * 16, id, 16);
    r = record(CL_STORE_KEY_TXN_LOG, &len);
    ck_assert_uint_eq(r[0], 4);
    txn_id(id, 66);
    ck_assert_mem_eq(r + 1, id, 16);

    /* reboot: a fresh session (the server holds nothing either) */
    cl_dev_free(&dev);
    ck_assert_int_eq(boot(), CL_OK);
    online();                    /* CARD-INSERTED seq 1 */
    ck_assert_uint_eq(n_inserted, 2);
    apdu_txn(0);                 /* request seq 1 */
    ck_assert_uint_eq(napdu, 70);
    expect_duplicate(2, 1);
    apdu_txn(69);
    expect_executed();
    ck_assert_uint_eq(napdu, 70);
    apdu_txn(70);                /* a new id runs */
    expect_executed();
    ck_assert_uint_eq(napdu, 71);
}
END_TEST

/* The list's reach: an id older than the last CL_DEV_TXN_IDS is no longer
 * known (the limit docs/protocol.md §9 states). */
START_TEST(t_window)
{
    unsigned k;

    online();
    for (k = 0; k <= CL_DEV_TXN_IDS; k++)
        apdu_txn(k);
    ck_assert_uint_eq(napdu, CL_DEV_TXN_IDS + 1);
    apdu_txn(1);                 /* the oldest still listed */
    ck_assert_uint_eq(ans.type, CL_RELAY_ERROR);
    ck_assert_uint_eq(ans.u.status.code, CL_RELAY_E_DUPLICATE);
    apdu_txn(0);                 /* left the list: executed again */
    expect_executed();
    ck_assert_uint_eq(napdu, CL_DEV_TXN_IDS + 2);
}
END_TEST

/* The id list cannot be written: ERROR INTERNAL, the card untouched; the
 * id stays refused (at most once) when the store works again. */
START_TEST(t_store_fails)
{
    online();
    ms.fail_key = CL_STORE_KEY_TXN_IDS;
    apdu_txn(7);
    ck_assert_uint_eq(ans.type, CL_RELAY_ERROR);
    ck_assert_uint_eq(ans.u.status.code, CL_RELAY_E_INTERNAL);
    ck_assert_uint_eq(napdu, 0);
    ms.fail_key = NULL;
    apdu_txn(7);
    ck_assert_uint_eq(ans.u.status.code, CL_RELAY_E_DUPLICATE);
    ck_assert_uint_eq(napdu, 0);
    apdu_txn(8);
    expect_executed();
    ck_assert_uint_eq(napdu, 1);
}
END_TEST

/* A store written before the id list (answers only) loads; its ids are
 * known, and the list starts with them. */
START_TEST(t_old_record)
{
    uint8_t rec[1 + 18], id[16];
    const uint8_t *r;
    size_t len;

    cl_dev_free(&dev);
    txn_id(id, 500);
    rec[0] = 1;
    memcpy(rec + 1, id, 16);
    rec[17] = rec[18] = 0;       /* in progress when the power went */
    ck_assert_int_eq(ms_write(NULL, CL_STORE_KEY_TXN_LOG, rec, sizeof(rec)), CL_OK);
    ck_assert_int_eq(boot(), CL_OK);
    online();
    apdu_txn(500);
    ck_assert_uint_eq(ans.u.status.code, CL_RELAY_E_DUPLICATE);
    apdu_txn(501);
    expect_executed();
    ck_assert_uint_eq(napdu, 1);
    r = record(CL_STORE_KEY_TXN_IDS, &len);
    ck_assert_uint_eq(len, 2 + 2 * 16);
    ck_assert_mem_eq(r + 2, id, 16);
}
END_TEST

/* Id lists that do not parse fail the setup. */
static const struct {
    size_t len;
    uint8_t count_hi, count_lo;
    int err;
} bad_lists[] = {
    {1, 0, 0, CL_ERR_MALFORMED},                                  /* no count */
    {2 + 16, 0, 2, CL_ERR_MALFORMED},                             /* count above the ids */
    {2 + 2 * 16, 0, 1, CL_ERR_MALFORMED},                         /* ids beyond the count */
    {2 + 17, 0, 1, CL_ERR_MALFORMED},                             /* part of an id */
    {2 + (CL_DEV_TXN_IDS + 1) * 16, (CL_DEV_TXN_IDS + 1) >> 8,   /* longer than this */
     (CL_DEV_TXN_IDS + 1) & 0xFF, CL_ERR_BUFFER},                 /* build's list */
};

START_TEST(t_bad_list)
{
    static uint8_t rec[2 + (CL_DEV_TXN_IDS + 1) * 16];

    cl_dev_free(&dev);
    memset(rec, 0x11, sizeof(rec));
    rec[0] = bad_lists[_i].count_hi;
    rec[1] = bad_lists[_i].count_lo;
    ck_assert_int_eq(ms_write(NULL, CL_STORE_KEY_TXN_IDS, rec, bad_lists[_i].len), CL_OK);
    ck_assert_int_eq(boot(), bad_lists[_i].err);
}
END_TEST

/* Answer records (count(1), then id(16) len(2) answer per entry) and id
 * lists that load, at their edges, and answer records that do not. */
static const struct {
    const char *key;
    const char *hex;   /* "" means: count, then `entries` entries of `alen` bytes */
    unsigned entries, alen;
    int err;
} records[] = {
    {CL_STORE_KEY_TXN_LOG, "00", 0, 0, CL_OK},                    /* no answer yet */
    {CL_STORE_KEY_TXN_IDS, "00 00", 0, 0, CL_OK},                 /* no id yet */
    {CL_STORE_KEY_TXN_LOG, "", 1, CL_RELAY_TXN_ANSWER_MAX, CL_OK},      /* the longest answer */
    {CL_STORE_KEY_TXN_LOG, "", CL_DEV_TXN_SLOTS, 8, CL_OK},             /* every slot */
    {CL_STORE_KEY_TXN_LOG, "", 1, CL_RELAY_TXN_ANSWER_MAX + 1, CL_ERR_MALFORMED},
    {CL_STORE_KEY_TXN_LOG, "", CL_DEV_TXN_SLOTS + 1, 8, CL_ERR_MALFORMED},   /* a slot more */
    {CL_STORE_KEY_TXN_LOG, "01 A0 A1 A2 A3 A4 A5 A6 A7 A8 A9 AA AB AC AD AE AF 00", 0, 0,
     CL_ERR_MALFORMED},                                            /* the length cut */
    {CL_STORE_KEY_TXN_LOG, "01 A0 A1 A2 A3 A4 A5 A6 A7 A8 A9 AA AB AC AD AE AF 00 02 90", 0, 0,
     CL_ERR_MALFORMED},                                            /* the answer cut */
    {CL_STORE_KEY_TXN_LOG, "01 A0 A1 A2 A3 A4 A5 A6 A7 A8 A9 AA AB AC AD AE AF 00 00 55", 0, 0,
     CL_ERR_MALFORMED},                                            /* a byte after it */
    {CL_STORE_KEY_TXN_LOG, "02 A0 A1 A2 A3 A4 A5 A6 A7 A8 A9 AA AB AC AD AE AF 00 00", 0, 0,
     CL_ERR_MALFORMED},                                            /* one entry of two */
};

START_TEST(t_records)
{
    static uint8_t rec[1 + (CL_DEV_TXN_SLOTS + 1) * (18 + CL_RELAY_TXN_ANSWER_MAX + 1)];
    size_t n = 0;
    unsigned i;

    cl_dev_free(&dev);
    if (records[_i].hex[0] != '\0') {
        n = (size_t)cl_test_hex(records[_i].hex, rec, sizeof(rec));
    } else {
        rec[n++] = (uint8_t)records[_i].entries;
        for (i = 0; i < records[_i].entries; i++) {
            txn_id(rec + n, 300 + i);
            rec[n + 16] = (uint8_t)(records[_i].alen >> 8);
            rec[n + 17] = (uint8_t)records[_i].alen;
            memset(rec + n + 18, 0x77, records[_i].alen);
            n += 18 + records[_i].alen;
        }
    }
    ck_assert_int_eq(ms_write(NULL, records[_i].key, rec, n), CL_OK);
    ck_assert_int_eq(boot(), records[_i].err);
}
END_TEST

/* The answers' order across a reboot: after the slots wrapped, the record
 * holds them oldest first, and after the reboot the oldest is the first
 * to go; a log not full keeps its free slots for the new answers. */
START_TEST(t_reboot_order)
{
    const uint8_t *r;
    size_t len;
    uint8_t id[16];
    unsigned k, first = _i == 0 ? 6 : 2;   /* answers before the reboot */

    online();
    for (k = 0; k < first; k++) {
        apdu_txn(k);
        expect_executed();
    }
    r = record(CL_STORE_KEY_TXN_LOG, &len);
    ck_assert_uint_eq(r[0], first < CL_DEV_TXN_SLOTS ? first : CL_DEV_TXN_SLOTS);
    {
        size_t off = 1;
        for (k = 0; k < r[0]; k++) {   /* oldest first */
            txn_id(id, first - r[0] + k);
            ck_assert_uint_le(off + 18, len);
            ck_assert_mem_eq(r + off, id, 16);
            off += 18u + ((size_t)r[off + 16] << 8 | r[off + 17]);
        }
        ck_assert_uint_eq(off, len);
    }
    cl_dev_free(&dev);
    ck_assert_int_eq(boot(), CL_OK);
    online();
    /* two new answers */
    apdu_txn(100);
    expect_executed();
    apdu_txn(101);
    expect_executed();
    ck_assert_uint_eq(napdu, first + 2);
    /* the slots now hold the newest four: the rest is refused, not run */
    for (k = 0; k < first; k++) {
        apdu_txn(k);
        if (first + 2 - k <= CL_DEV_TXN_SLOTS)
            expect_executed();   /* its recorded answer */
        else
            ck_assert_uint_eq(ans.u.status.code, CL_RELAY_E_DUPLICATE);
    }
    ck_assert_uint_eq(napdu, first + 2);
}
END_TEST

/* Answers of different lengths (their records move in the log) come back
 * byte for byte after a reboot; the evicted ones are refused. */
START_TEST(t_reboot_answers_exact)
{
    uint8_t held[6][8];
    size_t held_len[6];
    unsigned k;

    vary = true;
    online();
    for (k = 0; k < 6; k++) {
        apdu_txn(k);
        ck_assert_uint_eq(ans.type, CL_RELAY_APDU_RESPONSE);
        ck_assert_uint_le(ans.u.apdu.apdu.len, sizeof(held[k]));
        held_len[k] = ans.u.apdu.apdu.len;
        memcpy(held[k], ans.u.apdu.apdu.data, held_len[k]);
    }
    ck_assert_uint_eq(held_len[0], 3);   /* 1 + 2: the lengths do move */
    ck_assert_uint_eq(held_len[2], 5);
    ck_assert_uint_eq(held_len[3], 2);
    cl_dev_free(&dev);
    ck_assert_int_eq(boot(), CL_OK);
    online();
    for (k = 2; k < 6; k++) {           /* the four slots, as recorded */
        apdu_txn(k);
        ck_assert_uint_eq(ans.type, CL_RELAY_APDU_RESPONSE);
        ck_assert_uint_eq(ans.u.apdu.apdu.len, held_len[k]);
        ck_assert_mem_eq(ans.u.apdu.apdu.data, held[k], held_len[k]);
    }
    apdu_txn(1);
    ck_assert_uint_eq(ans.u.status.code, CL_RELAY_E_DUPLICATE);
    ck_assert_uint_eq(napdu, 6);
}
END_TEST

/* A list stored full (CL_DEV_TXN_IDS ids) loads: its oldest and newest
 * ids are refused; a new id runs and pushes the oldest out. */
START_TEST(t_full_list_reboot)
{
    static uint8_t rec[2 + CL_DEV_TXN_IDS * 16];
    const uint8_t *r;
    size_t len;
    uint8_t id[16];
    unsigned i;

    cl_dev_free(&dev);
    rec[0] = (uint8_t)(CL_DEV_TXN_IDS >> 8);
    rec[1] = (uint8_t)CL_DEV_TXN_IDS;
    for (i = 0; i < CL_DEV_TXN_IDS; i++)
        txn_id(rec + 2 + i * 16, 1000 + i);
    ck_assert_int_eq(ms_write(NULL, CL_STORE_KEY_TXN_IDS, rec, sizeof(rec)), CL_OK);
    ck_assert_int_eq(boot(), CL_OK);
    online();
    apdu_txn(1000);
    ck_assert_uint_eq(ans.u.status.code, CL_RELAY_E_DUPLICATE);
    apdu_txn(1000 + CL_DEV_TXN_IDS - 1);
    ck_assert_uint_eq(ans.u.status.code, CL_RELAY_E_DUPLICATE);
    ck_assert_uint_eq(napdu, 0);
    apdu_txn(5);
    expect_executed();
    ck_assert_uint_eq(napdu, 1);
    r = record(CL_STORE_KEY_TXN_IDS, &len);
    ck_assert_uint_eq(len, sizeof(rec));
    txn_id(id, 1001);
    ck_assert_mem_eq(r + 2, id, 16);
    txn_id(id, 5);
    ck_assert_mem_eq(r + 2 + (CL_DEV_TXN_IDS - 1) * 16, id, 16);
}
END_TEST

/* An old store whose log is full (every slot, no id list): every one of
 * its ids enters the list, so each is still refused once new answers
 * have pushed the old ones out of the slots. */
START_TEST(t_old_record_full)
{
    uint8_t rec[1 + CL_DEV_TXN_SLOTS * 18], id[16];
    const uint8_t *r;
    size_t len;
    unsigned k;

    cl_dev_free(&dev);
    rec[0] = CL_DEV_TXN_SLOTS;
    for (k = 0; k < CL_DEV_TXN_SLOTS; k++) {
        txn_id(rec + 1 + k * 18, 600 + k);
        rec[1 + k * 18 + 16] = rec[1 + k * 18 + 17] = 0;   /* in progress */
    }
    ck_assert_int_eq(ms_write(NULL, CL_STORE_KEY_TXN_LOG, rec, sizeof(rec)), CL_OK);
    ck_assert_int_eq(boot(), CL_OK);
    online();
    for (k = 0; k < CL_DEV_TXN_SLOTS; k++) {
        apdu_txn(700 + k);
        expect_executed();
    }
    for (k = 0; k < CL_DEV_TXN_SLOTS; k++) {
        apdu_txn(600 + k);
        ck_assert_uint_eq(ans.u.status.code, CL_RELAY_E_DUPLICATE);
    }
    ck_assert_uint_eq(napdu, CL_DEV_TXN_SLOTS);
    r = record(CL_STORE_KEY_TXN_IDS, &len);
    ck_assert_uint_eq(len, 2 + 2 * CL_DEV_TXN_SLOTS * 16);
    for (k = 0; k < CL_DEV_TXN_SLOTS; k++) {   /* the log's ids first, in order */
        txn_id(id, 600 + k);
        ck_assert_mem_eq(r + 2 + k * 16, id, 16);
    }
}
END_TEST

/* A record of no bytes at all is neither format: the setup fails. */
START_TEST(t_empty_record)
{
    const uint8_t none[1] = {0};

    cl_dev_free(&dev);
    ck_assert_int_eq(ms_write(NULL, _i == 0 ? CL_STORE_KEY_TXN_LOG : CL_STORE_KEY_TXN_IDS,
                              none, 0), CL_OK);
    ck_assert_int_eq(boot(), CL_ERR_MALFORMED);
}
END_TEST

/* ------------------------------------------------------------ §5.6 */

/* The card is active before any session: CARD-INSERTED goes once the
 * session opens, once; not again on a resumed session; again (once) on a
 * fresh one. */
START_TEST(t_inserted_before_session)
{
    const struct cl_atr *atr;
    static const uint8_t tok[16] = {5};

    ck_assert_int_eq(cl_dev_card_inserted(&dev, now), CL_OK);
    pump();
    ck_assert(cl_dev_card_active(&dev));
    ck_assert_uint_eq(dlen, 0);
    server_new(1);
    ck_assert_int_eq(cl_dev_net_up(&dev, now), CL_OK);
    pump();
    ck_assert_uint_eq(cl_relay_session_state(&srv), CL_RELAY_ST_OPEN);
    ck_assert_uint_eq(n_inserted, 1);
    atr = cl_dev_card_atr(&dev);
    ck_assert_ptr_nonnull(atr);
    ck_assert_uint_eq(ins_atr_len, atr->len);
    ck_assert_mem_eq(ins_atr, atr->raw, atr->len);
    pump();
    ck_assert_uint_eq(n_inserted, 1);

    /* the link drops, the session resumes: not told twice */
    cl_dev_net_down(&dev, now);
    cl_relay_session_disconnect(&srv, now);
    ck_assert_int_eq(cl_relay_server_accept(&srv, now, tok, sizeof(tok)), CL_OK);
    ck_assert_int_eq(cl_dev_net_up(&dev, now), CL_OK);
    pump();
    ck_assert_uint_eq(cl_relay_session_state(&srv), CL_RELAY_ST_OPEN);
    ck_assert_uint_eq(n_inserted, 1);
    apdu_txn(1);
    expect_executed();

    /* a server that lost the session: a fresh one hears of the card */
    cl_dev_net_down(&dev, now);
    server_new(2);
    ck_assert_int_eq(cl_dev_net_up(&dev, now), CL_OK);
    pump();
    ck_assert_uint_eq(cl_relay_session_state(&srv), CL_RELAY_ST_OPEN);
    ck_assert_uint_eq(n_inserted, 2);
}
END_TEST

/* The card becomes active while the link is down: told once when the
 * session resumes. */
START_TEST(t_inserted_while_down)
{
    static const uint8_t tok[16] = {6};

    server_new(1);
    ck_assert_int_eq(cl_dev_net_up(&dev, now), CL_OK);
    pump();
    ck_assert_uint_eq(cl_relay_session_state(&srv), CL_RELAY_ST_OPEN);
    ck_assert_uint_eq(n_inserted, 0);
    cl_dev_net_down(&dev, now);
    cl_relay_session_disconnect(&srv, now);
    ck_assert_int_eq(cl_dev_card_inserted(&dev, now), CL_OK);
    pump();
    ck_assert(cl_dev_card_active(&dev));
    ck_assert_int_eq(cl_relay_server_accept(&srv, now, tok, sizeof(tok)), CL_OK);
    ck_assert_int_eq(cl_dev_net_up(&dev, now), CL_OK);
    pump();
    ck_assert_uint_eq(cl_relay_session_state(&srv), CL_RELAY_ST_OPEN);
    ck_assert_uint_eq(n_inserted, 1);
    pump();
    ck_assert_uint_eq(n_inserted, 1);
}
END_TEST

/* Pulled before any session: nothing is told when one opens. */
START_TEST(t_removed_before_session)
{
    ck_assert_int_eq(cl_dev_card_inserted(&dev, now), CL_OK);
    pump();
    cl_dev_card_removed(&dev, now);
    pump();
    server_new(1);
    ck_assert_int_eq(cl_dev_net_up(&dev, now), CL_OK);
    pump();
    ck_assert_uint_eq(cl_relay_session_state(&srv), CL_RELAY_ST_OPEN);
    ck_assert_uint_eq(n_inserted, 0);
}
END_TEST

/* ------------------------------------------------------------ accessors */

/* cl_dev_card / cl_dev_card_inverse for a direct and an inverse card: a
 * program reads the card through them, not through the device's fields. */
START_TEST(t_card_accessors)
{
    const struct cl_card *c;
    const struct cl_atr *atr;

    ck_assert_ptr_null(cl_dev_card(NULL));
    ck_assert(!cl_dev_card_inverse(NULL));
    ck_assert(!cl_dev_card_active(NULL));
    ck_assert_ptr_null(cl_dev_card_atr(NULL));
    ck_assert_int_eq(cl_dev_card_protocol(NULL), CL_ERR_ARG);
    cl_sim_free(&sim);
    inverse = _i == 1;
    card_setup();
    c = cl_dev_card(&dev);
    ck_assert_ptr_nonnull(c);
    ck_assert(!cl_dev_card_inverse(&dev));
    ck_assert(!cl_dev_card_active(&dev));
    ck_assert_ptr_null(cl_dev_card_atr(&dev));
    ck_assert_int_eq(cl_dev_card_protocol(&dev), CL_ERR_CLOSED);
    online();
    ck_assert_uint_eq(cl_card_state(c), CL_CARD_ACTIVE);
    ck_assert(cl_dev_card_active(&dev));
    ck_assert(cl_dev_card_inverse(&dev) == inverse);
    ck_assert_int_eq(cl_dev_card_protocol(&dev), 1);
    atr = cl_dev_card_atr(&dev);
    ck_assert_ptr_eq(atr, cl_card_atr(c));
    ck_assert_ptr_nonnull(atr);
    ck_assert_uint_eq(atr->raw[0], inverse ? 0x3F : 0x3B);
    ck_assert_uint_eq(ins_atr_len, atr->len);
    ck_assert_mem_eq(ins_atr, atr->raw, atr->len);
    ck_assert_uint_eq(n_inserted, 1);
    apdu_txn(3);
    expect_executed();
    ck_assert_uint_eq(napdu, 1);
}
END_TEST

/* The header's NULL contract, call by call: int functions CL_ERR_ARG,
 * pulls 0, timers CL_TIMER_NONE, wants 0 (card want FAILED), accessors
 * NULL / false, void ones nothing; and NULL buffers with lengths. */
START_TEST(t_null_contract)
{
    const uint8_t *p = (const uint8_t *)"x";
    struct cl_ui_screen scr;
    struct cl_ui_event ev;
    struct cl_dev_ticket tk;
    struct cl_dev_ticket_cfg tc;
    uint8_t b[4] = {1, 2, 3, 4};

    memset(&ev, 0, sizeof(ev));
    memset(&tc, 0, sizeof(tc));
    cl_dev_init(NULL);
    cl_dev_free(NULL);
    ck_assert_int_eq(cl_dev_setup(NULL, NULL), CL_ERR_ARG);
    ck_assert_uint_eq(cl_dev_wants(NULL), 0);
    ck_assert_int_eq(cl_dev_error(NULL), CL_ERR_ARG);
    ck_assert_ptr_null(cl_dev_stats(NULL));
    ck_assert_ptr_null(cl_dev_policy(NULL));
    ck_assert_ptr_null(cl_dev_session(NULL));
    ck_assert_int_eq(cl_dev_card_inserted(NULL, now), CL_ERR_ARG);
    cl_dev_card_removed(NULL, now);
    ck_assert_int_eq(cl_dev_card_want(NULL), CL_WANT_FAILED);
    ck_assert_uint_eq(cl_dev_card_ctrl(NULL), CL_CARD_CTRL_NONE);
    ck_assert_ptr_null(cl_dev_card_params(NULL));
    ck_assert_int_eq(cl_dev_card_ctrl_done(NULL, now, CL_OK), CL_ERR_ARG);
    ck_assert_uint_eq(cl_dev_card_pull(NULL, &p), 0);
    ck_assert_int_eq(cl_dev_card_sent(NULL, now, 1), CL_ERR_ARG);
    ck_assert_uint_eq(cl_dev_card_recv_max(NULL), 0);
    ck_assert_uint_eq(cl_dev_card_timer(NULL), CL_TIMER_NONE);
    cl_dev_card_elapsed(NULL, 5);
    ck_assert_int_eq(cl_dev_card_feed(NULL, now, b, 1), CL_ERR_ARG);
    ck_assert_int_eq(cl_dev_card_timeout(NULL, now), CL_ERR_ARG);
    ck_assert_int_eq(cl_dev_card_parity(NULL, now, 0x3B), CL_ERR_ARG);
    ck_assert_int_eq(cl_dev_card_fail(NULL, now, CL_ERR_IO), CL_ERR_ARG);
    ck_assert_int_eq(cl_dev_net_up(NULL, now), CL_ERR_ARG);
    cl_dev_net_down(NULL, now);
    ck_assert_int_eq(cl_dev_net_feed(NULL, now, b, 1), CL_ERR_ARG);
    ck_assert_int_eq(cl_dev_net_too_large(NULL, now, b, 1), CL_ERR_ARG);
    ck_assert_uint_eq(cl_dev_net_pull(NULL, now, &p), 0);
    ck_assert_int_eq(cl_dev_net_sent(NULL, 1), CL_ERR_ARG);
    ck_assert_int_eq(cl_dev_ui_take(NULL, &scr), CL_ERR_ARG);
    ck_assert_int_eq(cl_dev_ui_key(NULL, now, CL_UI_KEY_CONFIRM), CL_ERR_ARG);
    ck_assert_int_eq(cl_dev_ui_pin(NULL, now, b, 4), CL_ERR_ARG);
    ck_assert_uint_eq(b[0] | b[1] | b[2] | b[3], 1 | 2 | 3 | 4);   /* not the device's to wipe */
    ck_assert_int_eq(cl_dev_ui_entry(NULL, now, b, 1), CL_ERR_ARG);
    ck_assert_int_eq(cl_dev_ui_event(NULL, now, &ev), CL_ERR_ARG);
    ck_assert_uint_eq(cl_dev_timer(NULL, now), CL_TIMER_NONE);
    ck_assert_int_eq(cl_dev_timeout(NULL, now), CL_ERR_ARG);
    ck_assert_int_eq(cl_dev_validate(NULL, now, &tc), CL_ERR_ARG);
    ck_assert_int_eq(cl_dev_ticket_result(NULL, &tk), CL_ERR_ARG);
    /* a device, NULL buffers with lengths, NULL outputs */
    ck_assert_int_eq(cl_dev_net_feed(&dev, now, NULL, 1), CL_ERR_ARG);
    ck_assert_int_eq(cl_dev_net_feed(&dev, now, NULL, 0), 0);
    ck_assert_uint_eq(cl_dev_net_pull(&dev, now, NULL), 0);
    ck_assert_int_eq(cl_dev_ui_take(&dev, NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_dev_ui_pin(&dev, now, NULL, 4), CL_ERR_ARG);
    ck_assert_int_eq(cl_dev_ui_entry(&dev, now, NULL, 1), CL_ERR_ARG);
    ck_assert_int_eq(cl_dev_ui_event(&dev, now, NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_dev_card_feed(&dev, now, NULL, 1), CL_ERR_ARG);
    ck_assert_int_eq(cl_dev_error(&dev), CL_OK);
}
END_TEST

static Suite *device_log_suite(void)
{
    Suite *s = suite_create("device_log");
    TCase *tc = tcase_create("log");

    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, t_evicted_not_executed);
    tcase_add_test(tc, t_window);
    tcase_add_test(tc, t_store_fails);
    tcase_add_test(tc, t_old_record);
    tcase_add_test(tc, t_old_record_full);
    tcase_add_test(tc, t_full_list_reboot);
    tcase_add_test(tc, t_reboot_answers_exact);
    tcase_add_loop_test(tc, t_empty_record, 0, 2);
    tcase_add_loop_test(tc, t_bad_list, 0, (int)(sizeof(bad_lists) / sizeof(bad_lists[0])));
    tcase_add_loop_test(tc, t_records, 0, (int)(sizeof(records) / sizeof(records[0])));
    tcase_add_loop_test(tc, t_reboot_order, 0, 2);
    tcase_add_test(tc, t_inserted_before_session);
    tcase_add_test(tc, t_inserted_while_down);
    tcase_add_test(tc, t_removed_before_session);
    tcase_add_loop_test(tc, t_card_accessors, 0, 2);
    tcase_add_test(tc, t_null_contract);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(device_log_suite());
}
