/*
 * cardlink — the device controller driven in process: the card simulator
 * with the cardlink applet on the line, a server-role relay session
 * scripted by the test, the holder's keys and PIN typed by the test.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <string.h>

#include "applet_crypto.h"
#include "cardlink/applet.h"
#include "cardlink/cert.h"
#include "cardlink/device.h"
#include "cardlink/error.h"
#include "cardlink/sim.h"
#include "device_rig.h"
#include "test_util.h"

static struct cl_posix_crypto pc;
static struct cl_applet_crypto port;
static struct cl_applet_state st;
static struct cl_applet ap;
static struct cl_cardapp inner;
static struct cl_sim sim;
static struct cl_dev dev;
static struct cl_relay_session srv;
static struct cl_relay_session_config scfg;
static uint8_t srx[CL_DEV_MSG_MAX], srb[4096];
static struct cl_relay_event sev;
static bool sev_ok;
static uint8_t ans_buf[CL_DEV_MSG_MAX];
static struct cl_relay_msg ans;
static uint32_t now = 1000;
static const char *merchant = "Cafe Rosa";
/* what reached the card application */
static unsigned napdu;
static uint8_t last_ins[64], last_p1[64];
static uint8_t pso_data[48];
static size_t pso_len;

/* a forced answer: the card answers a command with INS force_ins with
 * force_resp[0..force_len) instead of the applet (0: none) */
static uint8_t force_ins;
static uint8_t force_resp[32];
static size_t force_len;

/* the first commands that reached the card, whole (up to 64 bytes) */
static uint8_t cmd_log[16][64];
static size_t cmd_log_len[16];

static int spy(void *ctx, const uint8_t *cmd, size_t n, uint8_t *r, size_t rs, size_t *rl)
{
    if (napdu < 16) {
        cmd_log_len[napdu] = n < 64 ? n : 64;
        memcpy(cmd_log[napdu], cmd, cmd_log_len[napdu]);
    }
    if (force_len > 0 && n >= 2 && cmd[1] == force_ins && force_len <= rs) {
        napdu++;
        memcpy(r, force_resp, force_len);
        *rl = force_len;
        return CL_OK;
    }
    if (napdu < sizeof(last_ins) && n >= 2)
        last_ins[napdu] = cmd[1];
    if (napdu < sizeof(last_p1) && n >= 3)
        last_p1[napdu] = cmd[2];
    napdu++;
    if (n >= 5 + 32 && cmd[1] == 0x2A) {
        pso_len = cmd[4];
        memcpy(pso_data, cmd + 5, pso_len <= 48 ? pso_len : 48);
    }
    return inner.process(ctx, cmd, n, r, rs, rl);
}

/* The resets and power-offs the device asked of the line, in order; card_held stalls the card line (nothing moves on it) so that
 * a test can fail it mid-exchange. */
static unsigned ctrl_log[16], nctrl;
static bool card_held;

static bool card_step(void)
{
    if (card_held)
        return false;
    if (cl_dev_card_want(&dev) == CL_WANT_CTRL && cl_dev_card_ctrl(&dev) != CL_CARD_CTRL_PARAMS &&
        nctrl < 16)
        ctrl_log[nctrl++] = cl_dev_card_ctrl(&dev);
    return rig_card_step(&dev, &sim, now);
}

/* One round: the card line, the device's bytes to the server, the first
 * answer kept in ans, the server's bytes to the device. */
static bool round_trip(void)
{
    bool moved = card_step();

    moved |= rig_dev_to_server(&dev, &srv, now, false, NULL);
    rig_poll_answer(&srv, &sev, &sev_ok, ans_buf, sizeof(ans_buf), &ans);
    moved |= rig_server_to_dev(&srv, &dev, now);
    return moved;
}

/* Move bytes until nobody has anything to do. */
static void pump(void)
{
    rig_pump(round_trip, 100000);
}

/* Every message the server received while the line settles, in order:
 * its type and, for ERROR and the results, its error code. */
static uint8_t seen_type[16], seen_code[16];
static unsigned nseen;
static bool seen_resumed;   /* the last OPEN was a resumption */

static bool round_log(void)
{
    struct cl_relay_event ev;
    bool moved = card_step();

    moved |= rig_dev_to_server(&dev, &srv, now, false, NULL);
    while (cl_relay_session_poll(&srv, &ev)) {
        if (ev.kind == CL_RELAY_EV_OPEN)
            seen_resumed = ev.resumed;
        if (ev.msg == NULL || nseen >= 16)
            continue;
        seen_type[nseen] = ev.msg->type;
        seen_code[nseen] = ev.msg->type == CL_RELAY_ERROR ? ev.msg->u.status.code
                         : ev.msg->type == CL_RELAY_CARD_RESET_RESULT ? ev.msg->u.card.error
                         : 0;
        nseen++;
    }
    moved |= rig_server_to_dev(&srv, &dev, now);
    return moved;
}

/* the fixture's device: as the product builds it, without a hash port, or
 * with a policy that knows no cardlink card */
enum { V_PRODUCT, V_NO_HASH, V_PLAIN_POLICY };
static unsigned variant;
/* the display size the next setup() asks for (0, 0: the device's default);
 * dirty: set the device up over memory full of 0xA5 instead of after
 * cl_dev_init() */
static uint8_t geo_cols, geo_rows;
static bool dirty;

static void setup(void)
{
    struct cl_dev_config cfg;
    static const uint8_t id[4] = {'d', 'e', 'v', '1'};
    static const uint8_t token[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    static const uint8_t serial[8] = {1, 2, 3, 4, 5, 6, 7, 8};

    rig_applet_state(&pc, &port, &st, serial);
    st.balance = 1000;
    st.balance_max = 100000;
    st.counter = 5;
    rig_applet_card(&ap, &st, &port, &inner, &sim, spy);
    napdu = 0;
    pso_len = 0;
    force_len = 0;
    nctrl = 0;
    card_held = false;
    merchant = "Cafe Rosa";

    rig_dev_config(&cfg, id, sizeof(id));
    cfg.hash.digest = variant == V_NO_HASH ? NULL : cl_dev_hash_sha256;
    if (variant == V_PLAIN_POLICY)
        cfg.policy.flags = 0;   /* no cardlink card: cleanup by card reset */
    cfg.cols = geo_cols;
    cfg.rows = geo_rows;
    if (dirty)
        memset(&dev, 0xA5, sizeof(dev));
    else
        cl_dev_init(&dev);
    ck_assert_int_eq(cl_dev_setup(&dev, &cfg), CL_OK);

    rig_server_open(&srv, &scfg, srx, sizeof(srx), srb, sizeof(srb), now, token, sizeof(token));
    ck_assert_int_eq(cl_dev_net_up(&dev, now), CL_OK);
    ck_assert_int_eq(cl_dev_card_inserted(&dev, now), CL_OK);
    pump();
    ck_assert_uint_eq(cl_relay_session_state(&srv), CL_RELAY_ST_OPEN);
    ck_assert_int_eq(cl_card_state(&dev.card), CL_CARD_ACTIVE);
}

static void teardown(void)
{
    cl_dev_free(&dev);
    cl_relay_session_free(&srv);
    cl_sim_free(&sim);
    cl_posix_crypto_free(&pc);
    cl_applet_state_wipe(&st);
}

/* Send request m from the server and run until its answer came back. */
static void request(struct cl_relay_msg *m)
{
    sev_ok = false;
    ck_assert_int_eq(cl_relay_session_send(&srv, now, m), CL_OK);
    pump();
}

static void apdu(const char *hex)
{
    static uint8_t cmd[300];
    struct cl_relay_msg m;
    size_t n = (size_t)cl_test_hex(hex, cmd, sizeof(cmd));

    cl_relay_msg_init(&m, CL_RELAY_APDU);
    m.u.apdu.apdu.data = cmd;
    m.u.apdu.apdu.len = n;
    request(&m);
    ck_assert(sev_ok);
}

START_TEST(t_apdu_relay)
{
    apdu("80 5C 00 00 00");
    ck_assert_uint_eq(ans.type, CL_RELAY_APDU_RESPONSE);
    ck_assert_uint_eq(ans.u.apdu.apdu.len, 20);
    ck_assert_uint_eq(ans.u.apdu.apdu.data[3], 0xE8);   /* balance 1000 */
    ck_assert_uint_eq(ans.u.apdu.apdu.data[18], 0x90);
    ck_assert_uint_eq(napdu, 1);
}
END_TEST

/* The longest command the device carries (CL_DEV_CMD_MAX bytes: Lc 255 and
 * Le) goes to the card whole. (An UPDATE BINARY the applet refuses: what
 * matters is what reached it. One byte more never leaves the server's
 * session: the device announced its maximum in HELLO.) */
START_TEST(t_apdu_longest)
{
    static uint8_t cmd[CL_DEV_CMD_MAX];
    struct cl_relay_msg m;

    memset(cmd, 0x5A, sizeof(cmd));
    cmd[0] = 0x00;
    cmd[1] = 0xD6;
    cmd[2] = 0x00;
    cmd[3] = 0x00;
    cmd[4] = 0xFF;
    cl_relay_msg_init(&m, CL_RELAY_APDU);
    m.u.apdu.apdu.data = cmd;
    m.u.apdu.apdu.len = sizeof(cmd);
    request(&m);
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.type, CL_RELAY_APDU_RESPONSE);
    ck_assert_uint_eq(napdu, 1);
    ck_assert_uint_eq(cmd_log_len[0], 64);   /* (the log keeps 64) */
    ck_assert_mem_eq(cmd_log[0], cmd, 64);
}
END_TEST

/* The hash port lib/device ships: SHA-256 only, into at least 32 bytes. */
START_TEST(t_hash_port)
{
    uint8_t out[33], want[32];

    ck_assert_int_eq(cl_sha256((const uint8_t *)"abc", 3, want), CL_OK);
    ck_assert_int_eq(cl_dev_hash_sha256(NULL, CL_RELAY_DIGEST_SHA256, (const uint8_t *)"abc", 3,
                                        out, 32), 32);
    ck_assert_mem_eq(out, want, 32);
    ck_assert_int_eq(cl_dev_hash_sha256(NULL, CL_RELAY_DIGEST_SHA256, (const uint8_t *)"abc", 3,
                                        out, 31), CL_ERR_BUFFER);
    ck_assert_int_eq(cl_dev_hash_sha256(NULL, CL_RELAY_DIGEST_SHA256, (const uint8_t *)"abc", 3,
                                        NULL, 32), CL_ERR_BUFFER);
    ck_assert_int_eq(cl_dev_hash_sha256(NULL, CL_RELAY_DIGEST_SHA384, (const uint8_t *)"abc", 3,
                                        out, sizeof(out)), CL_ERR_UNSUPPORTED);
}
END_TEST

static const uint8_t bal_cmd_hdr[5] = {0x80, 0x5C, 0x00, 0x00, 0x00};

/* A whole message too large for the device, as the lossy link reports it
 * (only its header lent): the server's request gets ERROR TOO_LARGE with
 * REF, the card is not touched, and the session goes on. */
START_TEST(t_net_too_large)
{
    struct cl_relay_msg m;
    const uint8_t *p;
    uint8_t hdr[CL_RELAY_HEADER_LEN];
    size_t n;

    cl_relay_msg_init(&m, CL_RELAY_APDU);
    m.u.apdu.apdu.data = bal_cmd_hdr;
    m.u.apdu.apdu.len = sizeof(bal_cmd_hdr);
    sev_ok = false;
    ck_assert_int_eq(cl_relay_session_send(&srv, now, &m), CL_OK);
    n = cl_relay_session_pull(&srv, now, &p);
    ck_assert_uint_ge(n, CL_RELAY_HEADER_LEN);
    memcpy(hdr, p, sizeof(hdr));
    ck_assert_int_eq(cl_relay_session_sent(&srv, n), CL_OK);
    ck_assert_int_eq(cl_dev_net_too_large(NULL, now, hdr, sizeof(hdr)), CL_ERR_ARG);
    ck_assert_int_eq(cl_dev_net_too_large(&dev, now, hdr, sizeof(hdr)), CL_OK);
    pump();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.type, CL_RELAY_ERROR);
    ck_assert_uint_eq(ans.u.status.code, CL_RELAY_E_TOO_LARGE);
    ck_assert_uint_eq(ans.ref, hdr[3]);
    ck_assert_uint_eq(napdu, 0);
    apdu("80 5C 00 00 00");
    ck_assert_uint_eq(ans.type, CL_RELAY_APDU_RESPONSE);
    ck_assert_uint_eq(napdu, 1);
}
END_TEST

static const char *const refused[] = {
    "00 88 00 00 08 01 02 03 04 05 06 07 08 00",       /* INTERNAL AUTHENTICATE */
    "00 20 00 80 08 24 12 34 FF FF FF FF FF",          /* VERIFY with a PIN */
    "80 54 00 00 08 00 00 00 01 00 00 00 05",      /* DEBIT */
    /* PSO over 32 zero bytes */
    "00 2A 9E 9A 20 0000000000000000000000000000000000000000000000000000000000000000 00",
};

START_TEST(t_refused)
{
    apdu(refused[_i]);
    ck_assert_uint_eq(ans.type, CL_RELAY_ERROR);
    ck_assert_uint_eq(ans.u.status.code, CL_RELAY_E_DENIED);
    ck_assert_uint_eq(napdu, 0);   /* nothing reached the card */
    ck_assert_uint_eq(cl_dev_stats(&dev)->apdus, 0);
}
END_TEST

static struct cl_ui_screen scr;

static bool take(uint8_t kind)
{
    int r = cl_dev_ui_take(&dev, &scr);
    pump();
    return r == 1 && scr.kind == kind;
}

static void pin_verify(const uint8_t *pin, size_t n)
{
    static uint8_t tmpl[13];
    struct cl_relay_msg m;
    uint8_t digits[12];

    rig_pin_verify_msg(&m, tmpl);
    request(&m);
    ck_assert(!sev_ok);
    ck_assert(take(CL_UI_PIN));
    ck_assert_uint_eq((uint8_t)scr.text[0], CL_POLICY_SECURE_GLYPH);
    ck_assert_int_eq(cl_ui_screen_check(NULL, &scr), CL_OK);
    memcpy(digits, pin, n);
    ck_assert_int_eq(cl_dev_ui_pin(&dev, now, digits, n), CL_OK);
    ck_assert_uint_eq(digits[0] | digits[1] | digits[2] | digits[3], 0);   /* wiped */
    pump();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.type, CL_RELAY_PIN_VERIFY_RESULT);
}

/* The device's own screen after a refused PIN: the tries left as the
 * card counts them (0..15), or blocked; other refusals show nothing. */
static const struct {
    const char *sw;
    const char *screen;
} tries[] = {
    { "63 C2", "Wrong PIN\n2 tries left\n" },
    { "63 C1", "Wrong PIN\n1 try left\n" },
    { "63 C0", "Wrong PIN\n0 tries left\n" },
    { "63 CA", "Wrong PIN\n10 tries left\n" },
    { "63 CF", "Wrong PIN\n15 tries left\n" },
    { "69 83", "PIN blocked\n" },
    { "69 82", NULL },
    { "63 00", NULL },
};

START_TEST(t_pin_tries)
{
    static uint8_t tmpl[13];
    struct cl_relay_msg m;
    uint8_t digits[4] = {1, 2, 3, 4};
    uint8_t sw[2];

    force_ins = 0x20;
    force_len = (size_t)cl_test_hex(tries[_i].sw, force_resp, sizeof(force_resp));
    memcpy(sw, force_resp, 2);
    rig_pin_verify_msg(&m, tmpl);
    request(&m);
    ck_assert(take(CL_UI_PIN));
    ck_assert_int_eq(cl_dev_ui_pin(&dev, now, digits, 4), CL_OK);
    pump();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.u.pin_result.sw, (unsigned)(sw[0] << 8 | sw[1]));
    if (tries[_i].screen != NULL) {
        ck_assert(take(CL_UI_MESSAGE));
        ck_assert_str_eq(scr.text, tries[_i].screen);
    } else {
        ck_assert(!take(CL_UI_MESSAGE));
    }
}
END_TEST

/* A PIN-VERIFY that ends without the card's answer, or with an answer
 * that is no status word: no sw, the error says why (no entry, the card
 * pulled with the VERIFY queued, an answer 1234, the card pulled on the
 * PIN screen). */
START_TEST(t_pin_verify_ends)
{
    static uint8_t tmpl[13];
    struct cl_relay_msg m;
    uint8_t digits[4] = {1, 2, 3, 4};

    rig_pin_verify_msg(&m, tmpl);
    switch (_i) {
    case 0:   /* nobody types */
        request(&m);
        ck_assert(take(CL_UI_PIN));
        now += 60000;
        ck_assert_int_eq(cl_dev_timeout(&dev, now), CL_OK);
        break;
    case 3:   /* the card pulled while the PIN screen is up */
        request(&m);
        ck_assert(take(CL_UI_PIN));
        cl_sim_power_off(&sim);
        cl_dev_card_removed(&dev, now);
        break;
    case 1:   /* the card pulled with the VERIFY queued */
        request(&m);
        ck_assert(take(CL_UI_PIN));
        ck_assert_int_eq(cl_dev_ui_pin(&dev, now, digits, 4), CL_OK);
        cl_sim_power_off(&sim);
        cl_dev_card_removed(&dev, now);
        break;
    default:   /* the card answers 1234 */
        force_ins = 0x20;
        force_len = (size_t)cl_test_hex("12 34", force_resp, sizeof(force_resp));
        request(&m);
        ck_assert(take(CL_UI_PIN));
        ck_assert_int_eq(cl_dev_ui_pin(&dev, now, digits, 4), CL_OK);
        break;
    }
    pump();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.type, CL_RELAY_PIN_VERIFY_RESULT);
    ck_assert_uint_eq(ans.u.pin_result.sw, 0);
    ck_assert_uint_eq(ans.u.pin_result.error, _i == 0   ? CL_RELAY_E_TIMEOUT
                                              : _i == 2 ? CL_RELAY_E_CARD_IO
                                                        : CL_RELAY_E_NO_CARD);
    ck_assert_uint_eq(cl_dev_policy(&dev)->flags & CL_POLICY_S_PIN_VERIFIED, 0);
}
END_TEST

/* The PIN written into each template kind, byte by byte, as the card
 * receives it: ISO 9564 format 2 (control nibble 2, the length, the
 * digits, F filler: the template's own length nibble replaced), BCD with
 * an odd count, ASCII, a length byte; and the entries refused before
 * anything is written (too few or too many digits, a value above 9). */
static const struct {
    uint8_t encoding, min, max, offset, len_offset;
    const char *tmpl;
    const char *digits;     /* one hex byte per digit */
    int rc;                 /* of cl_dev_ui_pin() */
    const char *verify;     /* the command the card got (rc CL_OK) */
} tmpls[] = {
    { CL_RELAY_PIN_ISO9564_2, 4, 12, 0, CL_RELAY_NONE, "00 20 00 80 08 24 FF FF FF FF FF FF FF",
      "01 02 03 04 05 06", CL_OK, "00 20 00 80 08 26 12 34 56 FF FF FF FF" },
    { CL_RELAY_PIN_ISO9564_2, 4, 12, 0, CL_RELAY_NONE, "00 20 00 80 08 2C FF FF FF FF FF FF FF",
      "09 08 07 06 05 04 03 02 01 00 09 08", CL_OK, "00 20 00 80 08 2C 98 76 54 32 10 98 FF" },
    { CL_RELAY_PIN_BCD, 4, 5, 0, CL_RELAY_NONE, "00 20 00 80 03 FF FF FF", "01 02 03 04 05",
      CL_OK, "00 20 00 80 03 12 34 5F" },
    { CL_RELAY_PIN_BCD, 4, 6, 1, 0, "00 20 00 81 04 00 FF FF FF", "09 00 09 00", CL_OK,
      "00 20 00 81 04 04 90 90 FF" },
    { CL_RELAY_PIN_ASCII, 4, 6, 0, CL_RELAY_NONE, "00 20 00 80 06 FF FF FF FF FF FF",
      "00 01 02 03 04", CL_OK, "00 20 00 80 06 30 31 32 33 34 FF" },
    { CL_RELAY_PIN_ISO9564_2, 4, 12, 0, CL_RELAY_NONE, "00 20 00 80 08 24 FF FF FF FF FF FF FF",
      "01 02 03", CL_ERR_LENGTH, NULL },
    { CL_RELAY_PIN_ASCII, 4, 6, 0, CL_RELAY_NONE, "00 20 00 80 06 FF FF FF FF FF FF",
      "01 02 03 04 05 06 07", CL_ERR_LENGTH, NULL },
    { CL_RELAY_PIN_ISO9564_2, 4, 12, 0, CL_RELAY_NONE, "00 20 00 80 08 24 FF FF FF FF FF FF FF",
      "0A 02 03 04", CL_ERR_ARG, NULL },
    { CL_RELAY_PIN_ISO9564_2, 4, 12, 0, CL_RELAY_NONE, "00 20 00 80 08 24 FF FF FF FF FF FF FF",
      "01 02 03 0A", CL_ERR_ARG, NULL },
};

START_TEST(t_pin_templates)
{
    static uint8_t tmpl[16];
    struct cl_relay_msg m;
    uint8_t digits[12], want[16];
    size_t n = (size_t)cl_test_hex(tmpls[_i].digits, digits, sizeof(digits));

    cl_relay_msg_init(&m, CL_RELAY_PIN_VERIFY);
    m.u.pin.apdu.data = tmpl;
    m.u.pin.apdu.len = (size_t)cl_test_hex(tmpls[_i].tmpl, tmpl, sizeof(tmpl));
    m.u.pin.encoding = tmpls[_i].encoding;
    m.u.pin.min_len = tmpls[_i].min;
    m.u.pin.max_len = tmpls[_i].max;
    m.u.pin.offset = tmpls[_i].offset;
    m.u.pin.len_offset = tmpls[_i].len_offset;
    force_ins = 0x20;
    force_len = (size_t)cl_test_hex("90 00", force_resp, sizeof(force_resp));
    request(&m);
    ck_assert(take(CL_UI_PIN));
    ck_assert_int_eq(cl_dev_ui_pin(&dev, now, digits, n), tmpls[_i].rc);
    pump();
    if (tmpls[_i].rc != CL_OK) {
        ck_assert(!sev_ok);          /* the PIN screen is still up */
        ck_assert_uint_eq(napdu, 0);
        return;
    }
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.u.pin_result.sw, 0x9000);
    ck_assert_uint_eq(napdu, 1);
    ck_assert_int_eq((int)cmd_log_len[0], cl_test_hex(tmpls[_i].verify, want, sizeof(want)));
    ck_assert_mem_eq(cmd_log[0], want, cmd_log_len[0]);
}
END_TEST

/* Once the card answered, no copy of the PIN is left anywhere in the
 * device's memory (command buffer, card engine, line buffers, job):
 * searched as bytes, not by field. */
static bool dev_holds(const uint8_t *pat, size_t n)
{
    const uint8_t *p = (const uint8_t *)&dev;
    size_t i;

    for (i = 0; i + n <= sizeof(dev); i++)
        if (memcmp(p + i, pat, n) == 0)
            return true;
    return false;
}

START_TEST(t_pin_not_kept)
{
    static uint8_t tmpl[13];
    struct cl_relay_msg m;
    uint8_t digits[6] = {9, 7, 5, 3, 1, 8};
    static const uint8_t block[4] = {0x26, 0x97, 0x53, 0x18};

    if (_i == 1) {   /* the same over T=0 */
        struct cl_sim_config sc;
        struct cl_cardapp app = inner;
        cl_sim_power_off(&sim);
        cl_dev_card_removed(&dev, now);
        pump();
        cl_sim_free(&sim);
        app.process = spy;
        cl_sim_config_default(&sc, false);
        ck_assert_int_eq(cl_sim_setup(&sim, &sc, &app), CL_OK);
        ck_assert_int_eq(cl_dev_card_inserted(&dev, now), CL_OK);
        pump();
        ck_assert_int_eq(cl_dev_card_protocol(&dev), 0);
        sev_ok = false;
    }
    ck_assert(!dev_holds(block + 1, 3));
    rig_pin_verify_msg(&m, tmpl);
    request(&m);
    ck_assert(take(CL_UI_PIN));
    ck_assert_int_eq(cl_dev_ui_pin(&dev, now, digits, 6), CL_OK);
    pump();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.type, CL_RELAY_PIN_VERIFY_RESULT);
    ck_assert_uint_eq(napdu, 1);
    ck_assert_mem_eq(cmd_log[0] + 5, block, 4);   /* the card got it */
    ck_assert(!dev_holds(block + 1, 3));
}
END_TEST

START_TEST(t_pin_verify)
{
    static const uint8_t good[4] = {1, 2, 3, 4}, bad[4] = {1, 2, 3, 5};

    pin_verify(bad, 4);
    ck_assert_uint_eq(ans.u.pin_result.sw, 0x63C2);
    ck_assert(take(CL_UI_MESSAGE));
    ck_assert_str_eq(scr.text, "Wrong PIN\n2 tries left\n");
    pin_verify(good, 4);
    ck_assert_uint_eq(ans.u.pin_result.sw, 0x9000);
    ck_assert(cl_dev_policy(&dev)->flags & CL_POLICY_S_PIN_VERIFIED);
}
END_TEST

static uint8_t txn_buf[CL_TXN_ENCODED_MAX];
static size_t txn_len;
static struct cl_txn txn;
static uint8_t tid[16] = {0x3F, 0x2A, 0x91, 0x0C, 0x5B, 0xE8, 0x47, 0xD2,
                          0xA6, 0x13, 0x7C, 0x09, 0xE4, 0xB5, 0x68, 0xF1};
static const uint8_t chal[8] = {0xC4, 0x5D, 0x19, 0x7A, 0x0B, 0xE2, 0x68, 0xF3};
static uint8_t ptmpl[13];

static void approve_msg(struct cl_relay_msg *m, uint8_t kind, uint64_t amount)
{
    memset(&txn, 0, sizeof(txn));
    memcpy(txn.id, tid, 16);
    txn.kind = kind;
    txn.has_amount = true;
    txn.amount = amount;
    txn.currency = 978;
    txn.exponent = 2;
    txn.time.year = 2024;
    txn.time.month = 5;
    txn.time.day = 1;
    txn.time.hour = 14;
    txn.time.minute = 3;
    strcpy(txn.merchant, merchant);
    ck_assert_int_eq(cl_txn_encode(&txn, txn_buf, sizeof(txn_buf), &txn_len), CL_OK);
    cl_relay_msg_init(m, CL_RELAY_TXN_APPROVE);
    m->u.txn.txn_id = tid;
    m->u.txn.txn.data = txn_buf;
    m->u.txn.txn.len = txn_len;
    m->u.txn.challenge.data = chal;
    m->u.txn.challenge.len = sizeof(chal);
    cl_test_hex("00 20 00 80 08 24 FF FF FF FF FF FF FF", ptmpl, sizeof(ptmpl));
    m->u.txn.has_pin = true;
    m->u.txn.pin.apdu.data = ptmpl;
    m->u.txn.pin.apdu.len = 13;
    m->u.txn.pin.encoding = CL_RELAY_PIN_ISO9564_2;
    m->u.txn.pin.min_len = 4;
    m->u.txn.pin.max_len = 12;
    m->u.txn.pin.offset = 0;
    if (kind == CL_TXN_PURSE_PAYMENT)
        memcpy(m->u.txn.sign_cmd, "\x80\x54\x00\x00", 4);
}

/* Show every page, then Confirm (nothing reached the card before). */
static void confirm_all_pages(void)
{
    for (;;) {
        ck_assert(take(CL_UI_TXN));
        if (scr.page + 1u == scr.pages)
            break;
        ck_assert_int_eq(cl_dev_ui_key(&dev, now, CL_UI_KEY_DOWN), CL_OK);
    }
    ck_assert_uint_eq(napdu, 0);
    ck_assert_int_eq(cl_dev_ui_key(&dev, now, CL_UI_KEY_CONFIRM), CL_OK);
}

/* Show every page, confirm, type the PIN. */
static void holder_approves(void)
{
    uint8_t digits[4] = {1, 2, 3, 4};

    confirm_all_pages();
    ck_assert(take(CL_UI_PIN));
    ck_assert_int_eq(cl_dev_ui_pin(&dev, now, digits, 4), CL_OK);
    pump();
}

START_TEST(t_purchase)
{
    struct cl_relay_msg m;
    uint8_t dig[32];

    approve_msg(&m, CL_TXN_PURCHASE, 12345);
    request(&m);
    ck_assert(!sev_ok);
    holder_approves();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.type, CL_RELAY_TXN_RESULT);
    ck_assert_uint_eq(ans.u.txn_result.result, CL_RELAY_TXN_APPROVED);
    ck_assert_uint_gt(ans.u.txn_result.signature.len, 8);
    /* the card signed exactly the digest of what was shown */
    ck_assert_int_eq(cl_txn_digest(&txn, chal, sizeof(chal), dig), CL_OK);
    ck_assert_uint_eq(pso_len, 32);
    ck_assert_mem_eq(pso_data, dig, 32);
    /* VERIFY, PSO, APPEND RECORD */
    ck_assert_uint_eq(napdu, 3);
    ck_assert_uint_eq(last_ins[0], 0x20);
    ck_assert_uint_eq(last_ins[1], 0x2A);
    ck_assert_uint_eq(last_ins[2], 0xE2);
    ck_assert_uint_eq(cl_dev_stats(&dev)->records, 1);
    /* the same id again: the recorded answer, the card untouched */
    request(&m);
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.u.txn_result.result, CL_RELAY_TXN_APPROVED);
    ck_assert_uint_eq(napdu, 3);
}
END_TEST

START_TEST(t_declined)
{
    struct cl_relay_msg m;

    approve_msg(&m, CL_TXN_PURCHASE, 500);
    request(&m);
    ck_assert(take(CL_UI_TXN));
    ck_assert_int_eq(cl_dev_ui_key(&dev, now, CL_UI_KEY_CANCEL), CL_OK);
    pump();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.u.txn_result.result, CL_RELAY_TXN_DECLINED);
    ck_assert_uint_eq(napdu, 0);
}
END_TEST

START_TEST(t_purse)
{
    struct cl_relay_msg m;

    approve_msg(&m, CL_TXN_PURSE_PAYMENT, 250);
    request(&m);
    holder_approves();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.u.txn_result.result, CL_RELAY_TXN_APPROVED);
    ck_assert_uint_eq(st.balance, 750);
    request(&m);   /* retried: recorded answer, balance down once */
    ck_assert_uint_eq(ans.u.txn_result.result, CL_RELAY_TXN_APPROVED);
    ck_assert_uint_eq(st.balance, 750);
}
END_TEST

START_TEST(t_resume_mid_approval)
{
    struct cl_relay_msg m;
    static const uint8_t token[16] = {9};

    approve_msg(&m, CL_TXN_PURCHASE, 700);
    request(&m);
    ck_assert(take(CL_UI_TXN));
    cl_dev_net_down(&dev, now);
    cl_relay_session_disconnect(&srv, now);
    holder_approves_rest:
    ck_assert_int_eq(cl_dev_ui_key(&dev, now, CL_UI_KEY_CONFIRM), CL_OK);
    if (take(CL_UI_TXN))
        goto holder_approves_rest;
    {
        uint8_t digits[4] = {1, 2, 3, 4};
        ck_assert_uint_eq(scr.kind, CL_UI_PIN);
        ck_assert_int_eq(cl_dev_ui_pin(&dev, now, digits, 4), CL_OK);
    }
    pump();
    ck_assert(!sev_ok);
    ck_assert_int_eq(cl_relay_server_accept(&srv, now, token, sizeof(token)), CL_OK);
    ck_assert_int_eq(cl_dev_net_up(&dev, now), CL_OK);
    pump();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.u.txn_result.result, CL_RELAY_TXN_APPROVED);
}
END_TEST


/* The link drops during an approval and the server comes back with a
 * fresh session (it kept nothing): a new request is refused with ERROR
 * STATE while the holder still decides, and nothing reaches the card. */
START_TEST(t_fresh_session_while_busy)
{
    struct cl_relay_msg m;
    static const uint8_t token[16] = {7, 7, 7};
    static uint8_t cmd[5] = {0x80, 0x5C, 0x00, 0x00, 0x00};

    approve_msg(&m, CL_TXN_PURCHASE, 700);
    request(&m);
    ck_assert(take(CL_UI_TXN));
    cl_dev_net_down(&dev, now);
    cl_relay_session_free(&srv);
    rig_server_open(&srv, &scfg, srx, sizeof(srx), srb, sizeof(srb), now, token, sizeof(token));
    ck_assert_int_eq(cl_dev_net_up(&dev, now), CL_OK);
    pump();
    ck_assert_uint_eq(cl_relay_session_state(&srv), CL_RELAY_ST_OPEN);
    cl_relay_msg_init(&m, CL_RELAY_APDU);
    m.u.apdu.apdu.data = cmd;
    m.u.apdu.apdu.len = sizeof(cmd);
    request(&m);
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.type, CL_RELAY_ERROR);
    ck_assert_uint_eq(ans.u.status.code, CL_RELAY_E_STATE);
    ck_assert_uint_eq(napdu, 0);
}
END_TEST

/* ------------------------------------------------------------ SCRIPT */

static uint8_t bal_cmd[5] = {0x80, 0x5C, 0x00, 0x00, 0x00};

static void script(uint8_t options, uint16_t first_expect)
{
    struct cl_relay_msg m;
    size_t i;

    cl_relay_msg_init(&m, CL_RELAY_SCRIPT);
    m.u.script.options = options;
    m.u.script.nsteps = 3;
    for (i = 0; i < 3; i++) {
        m.u.script.steps[i].apdu.data = bal_cmd;
        m.u.script.steps[i].apdu.len = sizeof(bal_cmd);
    }
    if (first_expect != 0) {
        m.u.script.steps[0].expect.kind = CL_RELAY_EXPECT_EXACT;
        m.u.script.steps[0].expect.value = first_expect;
    }
    m.u.script.steps[2].options = CL_RELAY_STEP_SW_ONLY;
    request(&m);
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.type, CL_RELAY_SCRIPT_RESULT);
}

START_TEST(t_script_all)
{
    script(0, 0);
    ck_assert_uint_eq(ans.u.script_result.mismatch, CL_RELAY_NONE);
    ck_assert_uint_eq(ans.u.script_result.error, 0);
    ck_assert_uint_eq(ans.u.script_result.nresp, 3);
    ck_assert_uint_eq(ans.u.script_result.resp[0].len, 20);
    ck_assert_uint_eq(ans.u.script_result.resp[0].data[3], 0xE8);
    ck_assert_uint_eq(ans.u.script_result.resp[1].len, 20);
    ck_assert_uint_eq(ans.u.script_result.resp[2].len, 2);   /* SW only */
    ck_assert_uint_eq(ans.u.script_result.resp[2].data[0], 0x90);
    ck_assert_uint_eq(napdu, 3);
}
END_TEST

START_TEST(t_script_stop)
{
    script(0, 0x6A82);   /* step 0 answers 9000: a mismatch */
    ck_assert_uint_eq(ans.u.script_result.mismatch, 0);
    ck_assert_uint_eq(ans.u.script_result.nresp, 1);
    ck_assert_uint_eq(ans.u.script_result.resp[0].len, 20);
    ck_assert_uint_eq(napdu, 1);
}
END_TEST

START_TEST(t_script_continue)
{
    script(CL_RELAY_SCRIPT_CONTINUE, 0x6A82);
    ck_assert_uint_eq(ans.u.script_result.mismatch, 0);
    ck_assert_uint_eq(ans.u.script_result.nresp, 3);
    ck_assert_uint_eq(ans.u.script_result.resp[2].len, 2);
    ck_assert_uint_eq(napdu, 3);
}
END_TEST

/* A SCRIPT's result exactly: each response where the step put it, the
 * SW-only step's own status word (not a neighbour's bytes). */
START_TEST(t_script_exact)
{
    static uint8_t sel[7] = {0x00, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x77};
    struct cl_relay_msg m;

    cl_relay_msg_init(&m, CL_RELAY_SCRIPT);
    m.u.script.options = CL_RELAY_SCRIPT_CONTINUE;
    m.u.script.nsteps = 3;
    m.u.script.steps[0].apdu.data = bal_cmd;
    m.u.script.steps[0].apdu.len = sizeof(bal_cmd);
    m.u.script.steps[1].apdu.data = sel;
    m.u.script.steps[1].apdu.len = sizeof(sel);
    m.u.script.steps[1].expect.kind = CL_RELAY_EXPECT_EXACT;
    m.u.script.steps[1].expect.value = 0x6A82;
    m.u.script.steps[2].apdu.data = bal_cmd;
    m.u.script.steps[2].apdu.len = sizeof(bal_cmd);
    m.u.script.steps[2].options = CL_RELAY_STEP_SW_ONLY;
    force_ins = 0xA4;
    force_len = (size_t)cl_test_hex("6A 82", force_resp, sizeof(force_resp));
    request(&m);
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.type, CL_RELAY_SCRIPT_RESULT);
    ck_assert_uint_eq(ans.u.script_result.mismatch, CL_RELAY_NONE);
    ck_assert_uint_eq(ans.u.script_result.error, 0);
    ck_assert_uint_eq(ans.u.script_result.nresp, 3);
    /* GET BALANCE: balance 1000 (03E8), EUR, counter 5, serial, 9000 */
    cl_assert_bytes(ans.u.script_result.resp[0].data, ans.u.script_result.resp[0].len,
                    "00 00 03 E8 03 D2 00 00 00 05 01 02 03 04 05 06 07 08 90 00");
    cl_assert_bytes(ans.u.script_result.resp[1].data, ans.u.script_result.resp[1].len, "6A 82");
    cl_assert_bytes(ans.u.script_result.resp[2].data, ans.u.script_result.resp[2].len, "90 00");
}
END_TEST

/* A chain a SCRIPT leaves open binds what is relayed next, as a chain an
 * APDU leaves open does (§10 rule 1: nothing interleaves with a chain). */
START_TEST(t_script_chain_state)
{
    static uint8_t part1[7] = {0x10, 0xD6, 0x00, 0x00, 0x02, 0xAA, 0xBB};
    struct cl_relay_msg m;

    cl_relay_msg_init(&m, CL_RELAY_SCRIPT);
    m.u.script.nsteps = 1;
    m.u.script.steps[0].apdu.data = part1;
    m.u.script.steps[0].apdu.len = sizeof(part1);
    force_ins = 0xD6;   /* this card takes the chain */
    force_len = (size_t)cl_test_hex("90 00", force_resp, sizeof(force_resp));
    request(&m);
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.type, CL_RELAY_SCRIPT_RESULT);
    ck_assert_uint_eq(ans.u.script_result.nresp, 1);
    ck_assert(cl_dev_policy(&dev)->flags & CL_POLICY_S_CHAIN);
    apdu("80 5C 00 00 00");   /* another command inside the chain: refused */
    ck_assert_uint_eq(ans.type, CL_RELAY_ERROR);
    ck_assert_uint_eq(ans.u.status.code, CL_RELAY_E_DENIED);
    ck_assert_uint_eq(napdu, 1);
    apdu("00 D6 00 00 02 CC DD");   /* the chain's last command */
    ck_assert_uint_eq(ans.type, CL_RELAY_APDU_RESPONSE);
    ck_assert_uint_eq(napdu, 2);
    ck_assert_uint_eq(cl_dev_policy(&dev)->flags & CL_POLICY_S_CHAIN, 0);
}
END_TEST

/* ------------------------------------------------------------ PIN-CHANGE */

/* The PIN screen up is the one asked for, whole: the secure glyph and the
 * text, a PIN entry of the template's 4..12 digits on the row below,
 * Confirm and Cancel, and the next screen id of the device's. */
static uint16_t last_screen_id;

static void pin_screen_is(const char *text)
{
    ck_assert(take(CL_UI_PIN));
    ck_assert_uint_eq((uint8_t)scr.text[0], CL_POLICY_SECURE_GLYPH);
    ck_assert_str_eq(scr.text + 1, text);
    ck_assert_uint_eq(scr.entry, CL_UI_ENTRY_PIN);
    ck_assert_uint_eq(scr.entry_min, 4);
    ck_assert_uint_eq(scr.entry_max, 12);
    ck_assert_uint_eq(scr.entry_row, 1);
    ck_assert_uint_eq(scr.flags, CL_UI_F_CONFIRM | CL_UI_F_CANCEL);
    if (last_screen_id != 0)
        ck_assert_uint_eq(scr.id, (uint16_t)(last_screen_id + 1u));
    last_screen_id = scr.id;
    ck_assert_int_eq(cl_ui_screen_check(NULL, &scr), CL_OK);
}

static void pin_change(const uint8_t *old, const uint8_t *new1, const uint8_t *new2)
{
    static uint8_t tmpl[21];
    struct cl_relay_msg m;
    uint8_t digits[4];

    cl_test_hex("00 24 00 80 10 24 FF FF FF FF FF FF FF 24 FF FF FF FF FF FF FF", tmpl,
                sizeof(tmpl));
    cl_relay_msg_init(&m, CL_RELAY_PIN_CHANGE);
    m.u.pin.apdu.data = tmpl;
    m.u.pin.apdu.len = sizeof(tmpl);
    m.u.pin.encoding = CL_RELAY_PIN_ISO9564_2;
    m.u.pin.min_len = 4;
    m.u.pin.max_len = 12;
    m.u.pin.offset = 0;
    m.u.pin.new_offset = 8;
    m.u.pin.confirm = 1;
    request(&m);
    ck_assert_msg(!sev_ok, "answered %u error %u", ans.type, ans.u.pin_result.error);
    last_screen_id = 0;
    pin_screen_is("Enter PIN\n");
    memcpy(digits, old, 4);
    ck_assert_int_eq(cl_dev_ui_pin(&dev, now, digits, 4), CL_OK);
    pump();
    pin_screen_is("Enter new PIN\n");
    memcpy(digits, new1, 4);
    ck_assert_int_eq(cl_dev_ui_pin(&dev, now, digits, 4), CL_OK);
    pump();
    pin_screen_is("Confirm new PIN\n");
    ck_assert(!sev_ok);
    ck_assert_uint_eq(napdu, 0);   /* nothing before the confirmation */
    memcpy(digits, new2, 4);
    ck_assert_int_eq(cl_dev_ui_pin(&dev, now, digits, 4), CL_OK);
    pump();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.type, CL_RELAY_PIN_CHANGE_RESULT);
}

START_TEST(t_pin_change)
{
    static const uint8_t old[4] = {1, 2, 3, 4}, nw[4] = {5, 6, 7, 8};

    pin_change(old, nw, nw);
    ck_assert_uint_eq(ans.u.pin_result.sw, 0x9000);
    ck_assert_uint_eq(napdu, 1);
    ck_assert_uint_eq(last_ins[0], 0x24);
    /* the new PIN is the card's now */
    pin_verify(old, 4);
    ck_assert_uint_eq(ans.u.pin_result.sw, 0x63C2);
    ck_assert(take(CL_UI_MESSAGE));
    pin_verify(nw, 4);
    ck_assert_uint_eq(ans.u.pin_result.sw, 0x9000);
}
END_TEST

START_TEST(t_pin_change_mismatch)
{
    static const uint8_t old[4] = {1, 2, 3, 4}, nw[4] = {5, 6, 7, 8}, other[4] = {5, 6, 7, 9};

    pin_change(old, nw, other);
    ck_assert_uint_eq(ans.u.pin_result.sw, 0);
    ck_assert_uint_eq(ans.u.pin_result.error, CL_RELAY_E_CANCELLED);
    ck_assert_uint_eq(napdu, 0);
    ck_assert(take(CL_UI_MESSAGE));
    ck_assert_str_eq(scr.text, "PINs differ\n");
    pin_verify(old, 4);   /* the old PIN stays */
    ck_assert_uint_eq(ans.u.pin_result.sw, 0x9000);
}
END_TEST

/* ------------------------------------------------------------ PROMPT */

static void prompt(uint8_t kind, const char *text, uint8_t min, uint8_t max, uint8_t timeout)
{
    struct cl_relay_msg m;

    cl_relay_msg_init(&m, CL_RELAY_PROMPT);
    m.u.prompt.kind = kind;
    m.u.prompt.text.data = (const uint8_t *)text;
    m.u.prompt.text.len = strlen(text);
    m.u.prompt.min_len = min;
    m.u.prompt.max_len = max;
    m.u.prompt.timeout = timeout;
    request(&m);
}

START_TEST(t_prompt_yes)
{
    prompt(CL_RELAY_PROMPT_YESNO, "Print receipt?", 0, 0, 0);
    ck_assert(!sev_ok);
    ck_assert(take(CL_UI_PROMPT));
    ck_assert_int_eq(cl_dev_ui_key(&dev, now, CL_UI_KEY_CONFIRM), CL_OK);
    pump();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.type, CL_RELAY_PROMPT_ANSWER);
    ck_assert_uint_eq(ans.u.prompt_answer.result, CL_RELAY_ANSWER_OK);
    ck_assert_uint_eq(ans.u.prompt_answer.value.len, 0);
    /* the prompt answered, the device's own idle screen is back */
    ck_assert(take(CL_UI_IDLE));
    ck_assert_str_eq(scr.text, "Ready\n");
    ck_assert(!take(CL_UI_IDLE));
}
END_TEST

START_TEST(t_prompt_entry)
{
    prompt(CL_RELAY_PROMPT_TEXT, "Your name", 1, 10, 0);
    ck_assert(take(CL_UI_PROMPT));
    ck_assert_uint_eq(scr.entry, CL_UI_ENTRY_TEXT);
    ck_assert_int_eq(cl_dev_ui_entry(&dev, now, (const uint8_t *)"Rosa", 4), CL_OK);
    pump();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.u.prompt_answer.result, CL_RELAY_ANSWER_OK);
    ck_assert_uint_eq(ans.u.prompt_answer.value.len, 4);
    ck_assert_mem_eq(ans.u.prompt_answer.value.data, "Rosa", 4);
}
END_TEST

START_TEST(t_prompt_cancel)
{
    prompt(CL_RELAY_PROMPT_TEXT, "Your name", 1, 10, 0);
    ck_assert(take(CL_UI_PROMPT));
    ck_assert_int_eq(cl_dev_ui_key(&dev, now, CL_UI_KEY_CANCEL), CL_OK);
    pump();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.u.prompt_answer.result, CL_RELAY_ANSWER_CANCELLED);
    ck_assert_uint_eq(ans.u.prompt_answer.value.len, 0);
}
END_TEST

START_TEST(t_prompt_timeout)
{
    prompt(CL_RELAY_PROMPT_YESNO, "Continue?", 0, 0, 2);
    ck_assert(take(CL_UI_PROMPT));
    ck_assert_uint_le(cl_dev_timer(&dev, now), 2000);
    now += 1999;
    ck_assert_int_eq(cl_dev_timeout(&dev, now), CL_OK);
    pump();
    ck_assert(!sev_ok);
    now += 1;
    ck_assert_int_eq(cl_dev_timeout(&dev, now), CL_OK);
    pump();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.u.prompt_answer.result, CL_RELAY_ANSWER_TIMEOUT);
}
END_TEST

START_TEST(t_prompt_pin_like)
{
    prompt(CL_RELAY_PROMPT_NUMERIC, "Enter your PIN", 4, 8, 0);
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.type, CL_RELAY_ERROR);
    ck_assert_uint_eq(ans.u.status.code, CL_RELAY_E_DENIED);
    ck_assert_int_eq(cl_dev_ui_take(&dev, &scr), 0);   /* nothing shown */
    ck_assert_int_eq(cl_dev_ui_entry(&dev, now, (const uint8_t *)"1234", 4), CL_ERR_STATE);
    ck_assert_uint_eq(cl_dev_stats(&dev)->denied, 1);
}
END_TEST

/* A PROMPT's entry, as cl_dev_ui_entry() takes it: the length inside the
 * prompt's range (a min of 0 means 1), printable ASCII, digits only for a
 * NUMERIC prompt. A refused entry leaves the prompt up; the next one that
 * passes is the answer, byte for byte. */
static const struct {
    uint8_t kind, min, max;
    const char *entry;   /* tried first */
    int rc;              /* its result */
} entries[] = {
    { CL_RELAY_PROMPT_TEXT, 2, 5, "A", CL_ERR_LENGTH },
    { CL_RELAY_PROMPT_TEXT, 2, 5, "AB", CL_OK },
    { CL_RELAY_PROMPT_TEXT, 2, 5, "ABCDE", CL_OK },
    { CL_RELAY_PROMPT_TEXT, 2, 5, "ABCDEF", CL_ERR_LENGTH },
    { CL_RELAY_PROMPT_TEXT, 0, 5, "", CL_ERR_LENGTH },
    { CL_RELAY_PROMPT_TEXT, 0, 5, "x", CL_OK },
    { CL_RELAY_PROMPT_TEXT, 1, 5, " ~", CL_OK },
    { CL_RELAY_PROMPT_TEXT, 1, 5, "A\x1F", CL_ERR_ARG },
    { CL_RELAY_PROMPT_TEXT, 1, 5, "A\x7F", CL_ERR_ARG },
    { CL_RELAY_PROMPT_TEXT, 1, 5, "\x80", CL_ERR_ARG },
    { CL_RELAY_PROMPT_TEXT, 1, 64, "0123456789012345678901234567890123456789"
                                   "012345678901234567890123", CL_OK },
    { CL_RELAY_PROMPT_NUMERIC, 1, 3, "09", CL_OK },
    { CL_RELAY_PROMPT_NUMERIC, 1, 3, "0/", CL_ERR_ARG },
    { CL_RELAY_PROMPT_NUMERIC, 1, 3, "9:", CL_ERR_ARG },
    { CL_RELAY_PROMPT_NUMERIC, 1, 3, "1 2", CL_ERR_ARG },
    { CL_RELAY_PROMPT_NUMERIC, 1, 3, "1234", CL_ERR_LENGTH },
};

START_TEST(t_prompt_entry_rules)
{
    const char *e = entries[_i].entry;
    size_t n = strlen(e);
    const char *good = entries[_i].kind == CL_RELAY_PROMPT_NUMERIC ? "7" : "ok";

    prompt(entries[_i].kind, "Your answer", entries[_i].min, entries[_i].max, 0);
    ck_assert(!sev_ok);
    ck_assert(take(CL_UI_PROMPT));
    ck_assert_uint_eq(scr.entry, entries[_i].kind == CL_RELAY_PROMPT_NUMERIC
                                     ? CL_UI_ENTRY_DIGITS : CL_UI_ENTRY_TEXT);
    ck_assert_uint_eq(scr.entry_min, entries[_i].min > 0 ? entries[_i].min : 1);
    ck_assert_uint_eq(scr.entry_max, entries[_i].max);
    ck_assert_uint_eq(scr.entry_row, 1);   /* below the prompt's one row */
    ck_assert_int_eq(cl_dev_ui_entry(&dev, now, (const uint8_t *)e, n), entries[_i].rc);
    pump();
    if (entries[_i].rc == CL_OK) {
        ck_assert(sev_ok);
        ck_assert_uint_eq(ans.u.prompt_answer.result, CL_RELAY_ANSWER_OK);
        ck_assert_uint_eq(ans.u.prompt_answer.value.len, n);
        ck_assert_mem_eq(ans.u.prompt_answer.value.data, e, n);
        return;
    }
    ck_assert(!sev_ok);   /* still asking */
    ck_assert_int_eq(cl_dev_ui_take(&dev, &scr), 0);
    ck_assert_int_eq(cl_dev_ui_entry(&dev, now, (const uint8_t *)good, strlen(good)), CL_OK);
    pump();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.u.prompt_answer.value.len, strlen(good));
    ck_assert_mem_eq(ans.u.prompt_answer.value.data, good, strlen(good));
}
END_TEST

/* A YES/NO prompt takes keys, not an entry; an entry with nothing asked,
 * or keys with nothing asked, change nothing. */
START_TEST(t_prompt_entry_state)
{
    ck_assert_int_eq(cl_dev_ui_entry(&dev, now, (const uint8_t *)"1", 1), CL_ERR_STATE);
    ck_assert_int_eq(cl_dev_ui_key(&dev, now, CL_UI_KEY_CONFIRM), CL_OK);
    ck_assert_int_eq(cl_dev_ui_key(&dev, now, 0x7F), CL_OK);   /* unknown key: ignored */
    pump();
    ck_assert_uint_eq(cl_dev_stats(&dev)->requests, 0);
    prompt(CL_RELAY_PROMPT_YESNO, "Print receipt?", 0, 0, 0);
    ck_assert(take(CL_UI_PROMPT));
    ck_assert_uint_eq(scr.entry, CL_UI_ENTRY_NONE);
    ck_assert_uint_eq(scr.flags, CL_UI_F_CONFIRM | CL_UI_F_CANCEL);
    ck_assert_int_eq(cl_dev_ui_entry(&dev, now, (const uint8_t *)"y", 1), CL_ERR_STATE);
    ck_assert_int_eq(cl_dev_ui_key(&dev, now, 0x7F), CL_OK);
    pump();
    ck_assert(!sev_ok);
    ck_assert_int_eq(cl_dev_ui_key(&dev, now, CL_UI_KEY_CANCEL), CL_OK);
    pump();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.u.prompt_answer.result, CL_RELAY_ANSWER_NO);
    /* a TEXT prompt ignores CONFIRM without an entry */
    prompt(CL_RELAY_PROMPT_TEXT, "Your name", 1, 10, 0);
    ck_assert(take(CL_UI_PROMPT));
    ck_assert_int_eq(cl_dev_ui_key(&dev, now, CL_UI_KEY_CONFIRM), CL_OK);
    pump();
    ck_assert(!sev_ok);
}
END_TEST

/* cl_dev_ui_event() hands each event type to its call and wipes the event
 * whatever the result. */
START_TEST(t_ui_events)
{
    struct cl_ui_event ev;
    static const struct cl_ui_event zero;
    uint8_t tmpl[13];
    struct cl_relay_msg m;

    prompt(CL_RELAY_PROMPT_TEXT, "Your name", 1, 10, 0);
    ck_assert(take(CL_UI_PROMPT));
    memset(&ev, 0, sizeof(ev));
    ev.type = CL_UI_EV_ENTRY;
    ev.len = CL_UI_ENTRY_MAX + 1;   /* longer than its data */
    ck_assert_int_eq(cl_dev_ui_event(&dev, now, &ev), CL_ERR_ARG);
    ck_assert_mem_eq(&ev, &zero, sizeof(ev));
    ev.type = CL_UI_EV_ENTRY;
    ev.len = CL_UI_ENTRY_MAX;   /* as long as it gets: the prompt takes 10 */
    memset(ev.data, 'a', sizeof(ev.data));
    ck_assert_int_eq(cl_dev_ui_event(&dev, now, &ev), CL_ERR_LENGTH);
    ck_assert_mem_eq(&ev, &zero, sizeof(ev));
    ev.type = 9;   /* no such type */
    ev.len = 1;
    ev.data[0] = 'R';
    ck_assert_int_eq(cl_dev_ui_event(&dev, now, &ev), CL_ERR_ARG);
    ck_assert_mem_eq(&ev, &zero, sizeof(ev));
    ev.type = CL_UI_EV_PIN;   /* no PIN screen up */
    ev.len = 4;
    ck_assert_int_eq(cl_dev_ui_event(&dev, now, &ev), CL_ERR_STATE);
    ck_assert_mem_eq(&ev, &zero, sizeof(ev));
    pump();
    ck_assert(!sev_ok);
    ev.type = CL_UI_EV_ENTRY;
    ev.len = 4;
    memcpy(ev.data, "Rosa", 4);
    ck_assert_int_eq(cl_dev_ui_event(&dev, now, &ev), CL_OK);
    ck_assert_mem_eq(&ev, &zero, sizeof(ev));
    pump();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.u.prompt_answer.value.len, 4);
    ck_assert_mem_eq(ans.u.prompt_answer.value.data, "Rosa", 4);

    prompt(CL_RELAY_PROMPT_YESNO, "Print receipt?", 0, 0, 0);
    ck_assert(take(CL_UI_PROMPT));
    ev.type = CL_UI_EV_KEY;
    ev.key = CL_UI_KEY_CONFIRM;
    ck_assert_int_eq(cl_dev_ui_event(&dev, now, &ev), CL_OK);
    ck_assert_mem_eq(&ev, &zero, sizeof(ev));
    pump();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.u.prompt_answer.result, CL_RELAY_ANSWER_OK);

    rig_pin_verify_msg(&m, tmpl);
    request(&m);
    ck_assert(take(CL_UI_PIN));
    ev.type = CL_UI_EV_PIN;
    ev.len = 4;
    memcpy(ev.data, "\x01\x02\x03\x04", 4);
    ck_assert_int_eq(cl_dev_ui_event(&dev, now, &ev), CL_OK);
    ck_assert_mem_eq(&ev, &zero, sizeof(ev));
    pump();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.type, CL_RELAY_PIN_VERIFY_RESULT);
    ck_assert_uint_eq(ans.u.pin_result.sw, 0x9000);
}
END_TEST

/* The holder's entry time as cl_dev_timer() counts it down: exact to the
 * millisecond, 0 once due, and no entry timer once the prompt is answered. */
START_TEST(t_prompt_timer)
{
    uint32_t t0 = now;

    prompt(CL_RELAY_PROMPT_YESNO, "Continue?", 0, 0, 3);
    ck_assert(take(CL_UI_PROMPT));
    ck_assert_uint_eq(cl_dev_timer(&dev, t0 + 2998), 2);
    ck_assert_uint_eq(cl_dev_timer(&dev, t0 + 2999), 1);
    ck_assert_uint_eq(cl_dev_timer(&dev, t0 + 3000), 0);
    ck_assert_uint_eq(cl_dev_timer(&dev, t0 + 4000), 0);
    ck_assert_int_eq(cl_dev_ui_key(&dev, now, CL_UI_KEY_CONFIRM), CL_OK);
    pump();
    ck_assert(sev_ok);
    ck_assert_uint_gt(cl_dev_timer(&dev, t0 + 3000), 0);   /* the session's only */
    /* a prompt without its own time-out waits the device's entry time */
    prompt(CL_RELAY_PROMPT_YESNO, "Continue?", 0, 0, 0);
    ck_assert(take(CL_UI_PROMPT));
    ck_assert_uint_eq(cl_dev_timer(&dev, now + 59999), 1);
    ck_assert_uint_eq(cl_dev_timer(&dev, now + 60000), 0);
}
END_TEST

/* cl_dev_setup() over memory that was never zeroed gives the same device
 * (a firmware's struct cl_dev in .noinit RAM, or reused): it opens, relays,
 * verifies a PIN and approves a payment. cl_dev_free() leaves nothing but
 * zeros behind, and a second free is harmless. */
START_TEST(t_setup_dirty_memory)
{
    static const uint8_t good[4] = {1, 2, 3, 4};
    static const struct cl_dev zero;

    teardown();
    dirty = true;
    setup();
    dirty = false;
    ck_assert_uint_eq(cl_dev_stats(&dev)->requests, 0);
    ck_assert_uint_eq(cl_dev_stats(&dev)->apdus, 0);
    ck_assert_uint_eq(cl_dev_wants(&dev) & (CL_DEV_W_FAILED | CL_DEV_W_NET_DROP | CL_DEV_W_UI), 0);
    ck_assert_int_eq(cl_dev_error(&dev), CL_OK);
    apdu("80 5C 00 00 00");
    ck_assert_uint_eq(ans.type, CL_RELAY_APDU_RESPONSE);
    ck_assert_uint_eq(ans.u.apdu.apdu.len, 20);
    pin_verify(good, 4);
    ck_assert_uint_eq(ans.u.pin_result.sw, 0x9000);
    ck_assert_uint_eq(cl_dev_stats(&dev)->requests, 2);
    cl_dev_free(&dev);
    ck_assert_mem_eq(&dev, &zero, sizeof(dev));
    cl_dev_free(&dev);
    ck_assert_mem_eq(&dev, &zero, sizeof(dev));
}
END_TEST

/* ------------------------------------------------------------ DISPLAY */

/* The display size a device is set up with, as its screens show it: a
 * width or height of 0 means the default 20 x 4, larger ones are cut to
 * CL_UI_COLS_MAX x CL_UI_ROWS_MAX. A DISPLAY's line is cut at the width
 * less the server mark; a PROMPT needs a row left for its entry. */
static const struct {
    uint8_t cols, rows;   /* asked for */
    uint8_t w, h;         /* what the device uses */
} geos[] = {
    { 0, 0, 20, 4 },
    { 0, 7, 20, 4 },
    { 30, 0, 20, 4 },
    { 12, 3, 12, 3 },
    { 40, 16, 40, 16 },
    { 41, 17, 40, 16 },
    { 255, 255, 40, 16 },
};

static void display(const char *text)
{
    struct cl_relay_msg m;

    cl_relay_msg_init(&m, CL_RELAY_DISPLAY);
    m.u.display.text.data = (const uint8_t *)text;
    m.u.display.text.len = strlen(text);
    request(&m);
}

START_TEST(t_display_geometry)
{
    static const char line[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    char want[CL_UI_TEXT_MAX], text[64];
    size_t k, n = 0, cut = (size_t)geos[_i].w - CL_POLICY_SERVER_MARK_LEN;
    unsigned rows;

    teardown();
    geo_cols = geos[_i].cols;
    geo_rows = geos[_i].rows;
    setup();
    geo_cols = geo_rows = 0;

    display(line);
    ck_assert(!sev_ok);   /* answered once shown */
    ck_assert(take(CL_UI_SERVER_TEXT));
    for (k = 0; k < sizeof(line) - 1; k += cut) {
        size_t piece = sizeof(line) - 1 - k < cut ? sizeof(line) - 1 - k : cut;
        memcpy(want + n, CL_POLICY_SERVER_MARK, CL_POLICY_SERVER_MARK_LEN);
        memcpy(want + n + CL_POLICY_SERVER_MARK_LEN, line + k, piece);
        n += CL_POLICY_SERVER_MARK_LEN + piece;
        want[n++] = '\n';
    }
    want[n] = '\0';
    ck_assert_str_eq(scr.text, want);
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.type, CL_RELAY_DISPLAY_DONE);
    ck_assert(!take(CL_UI_IDLE));   /* the text stays up */

    /* a prompt of h - 1 rows fits, one of h rows does not */
    for (rows = geos[_i].h - 1; rows <= geos[_i].h; rows++) {
        memset(text, 'x', sizeof(text));
        for (k = 0; k < rows; k++)
            text[2 * k] = k + 1 < rows ? 'a' : '?', text[2 * k + 1] = '\n';
        text[2 * rows - 1] = '\0';
        prompt(CL_RELAY_PROMPT_YESNO, text, 0, 0, 0);
        if (rows < geos[_i].h) {
            ck_assert(!sev_ok);
            ck_assert(take(CL_UI_PROMPT));
            ck_assert_uint_eq(cl_ui_screen_rows(&scr), rows);
            ck_assert_int_eq(cl_dev_ui_key(&dev, now, CL_UI_KEY_CONFIRM), CL_OK);
            pump();
            ck_assert(sev_ok);
            ck_assert_uint_eq(ans.type, CL_RELAY_PROMPT_ANSWER);
            ck_assert(take(CL_UI_IDLE));
        } else {
            ck_assert(sev_ok);
            ck_assert_uint_eq(ans.type, CL_RELAY_ERROR);
            ck_assert_uint_eq(ans.u.status.code, CL_RELAY_E_TOO_LARGE);
        }
    }
}
END_TEST

/* ------------------------------------------------------------ network */

/* Two messages in one cl_dev_net_feed() call: a fresh session's HELLO-ACK
 * and the server's first request right behind it. Both are read and
 * handled before the call returns. */
START_TEST(t_net_two_in_one_feed)
{
    static uint8_t wire[512];
    static const uint8_t token[16] = {9, 9, 9};
    size_t w = 0, n;
    const uint8_t *p;
    struct cl_relay_msg m;

    cl_dev_net_down(&dev, now);
    cl_relay_session_free(&srv);
    rig_server_open(&srv, &scfg, srx, sizeof(srx), srb, sizeof(srb), now, token, sizeof(token));
    ck_assert_int_eq(cl_dev_net_up(&dev, now), CL_OK);
    ck_assert(rig_dev_to_server(&dev, &srv, now, false, NULL));   /* the HELLO */
    ck_assert_uint_eq(cl_relay_session_state(&srv), CL_RELAY_ST_OPEN);
    while (cl_relay_session_poll(&srv, &sev))
        ;   /* OPEN */
    cl_relay_msg_init(&m, CL_RELAY_DISPLAY);
    m.u.display.text.data = (const uint8_t *)"Hello";
    m.u.display.text.len = 5;
    ck_assert_int_eq(cl_relay_session_send(&srv, now, &m), CL_OK);
    while ((n = cl_relay_session_pull(&srv, now, &p)) > 0) {
        ck_assert_uint_le(w + n, sizeof(wire));
        memcpy(wire + w, p, n);
        w += n;
        ck_assert_int_eq(cl_relay_session_sent(&srv, n), CL_OK);
    }
    ck_assert_uint_gt(w, 16);
    ck_assert_int_eq(cl_dev_net_feed(&dev, now, wire, w), (int)w);
    ck_assert_uint_eq(cl_relay_session_state(&dev.rs), CL_RELAY_ST_OPEN);
    ck_assert_uint_eq(cl_dev_stats(&dev)->requests, 1);
    sev_ok = false;
    ck_assert(take(CL_UI_SERVER_TEXT));
    ck_assert_str_eq(scr.text, "> Hello\n");
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.type, CL_RELAY_DISPLAY_DONE);
}
END_TEST

/* A session that failed on bytes from the network: cl_dev_net_feed() says
 * so, and the device goes on without a server (cl_dev_timeout() is not an
 * error source for the caller's loop). */
START_TEST(t_net_session_fails)
{
    static const uint8_t junk[16] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    int r = cl_dev_net_feed(&dev, now, junk, sizeof(junk));

    ck_assert_int_lt(r, 0);
    ck_assert_int_ne(r, CL_ERR_ARG);
    ck_assert_int_eq(cl_dev_timeout(&dev, now), CL_OK);
    ck_assert_int_eq(cl_dev_timeout(&dev, now + 600000), CL_OK);
    ck_assert_uint_eq(cl_dev_wants(&dev) & CL_DEV_W_FAILED, 0);
}
END_TEST

/* A link that swallows everything: the HELLO goes unanswered until the
 * session calls the link dead (CL_DEV_W_NET_DROP); cl_dev_timeout() stays
 * CL_OK on the way. Both cl_dev_net_down() and cl_dev_net_up() clear the
 * flag. */
START_TEST(t_net_link_dead)
{
    unsigned guard, k;

    cl_dev_net_down(&dev, now);
    ck_assert_int_eq(cl_dev_net_up(&dev, now), CL_OK);
    for (k = 0; k < 2; k++) {
        for (guard = 0; guard < 100 && !(cl_dev_wants(&dev) & CL_DEV_W_NET_DROP); guard++) {
            const uint8_t *p;
            size_t n;
            uint32_t t = cl_dev_timer(&dev, now);
            ck_assert_uint_ne(t, CL_TIMER_NONE);
            now += t;
            ck_assert_int_eq(cl_dev_timeout(&dev, now), CL_OK);
            while ((n = cl_dev_net_pull(&dev, now, &p)) > 0)
                ck_assert_int_eq(cl_dev_net_sent(&dev, n), CL_OK);   /* lost */
        }
        ck_assert(cl_dev_wants(&dev) & CL_DEV_W_NET_DROP);
        if (k == 0) {
            cl_dev_net_down(&dev, now);
        } else {
            ck_assert_int_eq(cl_dev_net_up(&dev, now), CL_OK);
        }
        ck_assert_uint_eq(cl_dev_wants(&dev) & CL_DEV_W_NET_DROP, 0);
        if (k == 0)
            ck_assert_int_eq(cl_dev_net_up(&dev, now), CL_OK);
    }
}
END_TEST

/* ------------------------------------------------------------ CARD-RESET */

START_TEST(t_card_reset)
{
    static const uint8_t good[4] = {1, 2, 3, 4};
    const struct cl_atr *inf = cl_card_atr(&dev.card);
    uint8_t atr[40];
    size_t alen = inf->len;
    struct cl_relay_msg m;

    memcpy(atr, inf->raw, alen);
    pin_verify(good, 4);
    ck_assert(cl_dev_policy(&dev)->flags & CL_POLICY_S_PIN_VERIFIED);
    cl_relay_msg_init(&m, CL_RELAY_CARD_RESET);
    m.u.reset_mode = _i == 0 ? CL_RELAY_RESET_WARM : CL_RELAY_RESET_COLD;
    request(&m);
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.type, CL_RELAY_CARD_RESET_RESULT);
    ck_assert_uint_eq(ans.u.card.error, 0);
    ck_assert_uint_eq(ans.u.card.atr.len, alen);
    ck_assert_mem_eq(ans.u.card.atr.data, atr, alen);
    ck_assert_uint_eq(ans.u.card.protocol, CL_RELAY_PROTO_T1);
    ck_assert_uint_eq(cl_dev_policy(&dev)->flags & CL_POLICY_S_PIN_VERIFIED, 0);
    ck_assert_int_eq(cl_card_state(&dev.card), CL_CARD_ACTIVE);
    apdu("80 5C 00 00 00");   /* the card works after it */
    ck_assert_uint_eq(ans.u.apdu.apdu.len, 20);
}
END_TEST

/* An answer longer than the server takes (its HELLO-ACK's max message):
 * the session refuses it, and the device sends ERROR TOO_LARGE in its
 * place (REF to the request), so the server is not left waiting. */
START_TEST(t_answer_too_long)
{
    static const uint8_t token[16] = {5, 5, 5};
    static uint8_t cmd[5] = {0x00, 0x84, 0x00, 0x00, 0xC8};   /* 200 random bytes back */
    struct cl_relay_msg m;

    cl_dev_net_down(&dev, now);
    cl_relay_session_free(&srv);
    memset(&scfg, 0, sizeof(scfg));
    scfg.ack_delay_ms = 1;
    scfg.max_msg = 128;
    cl_relay_session_init(&srv);
    ck_assert_int_eq(cl_relay_session_setup(&srv, CL_RELAY_SERVER, &scfg, srx, sizeof(srx), srb,
                                            sizeof(srb)), CL_OK);
    ck_assert_int_eq(cl_relay_server_accept(&srv, now, token, sizeof(token)), CL_OK);
    ck_assert_int_eq(cl_dev_net_up(&dev, now), CL_OK);
    pump();
    ck_assert_uint_eq(cl_relay_session_state(&srv), CL_RELAY_ST_OPEN);
    cl_relay_msg_init(&m, CL_RELAY_APDU);
    m.u.apdu.apdu.data = cmd;
    m.u.apdu.apdu.len = sizeof(cmd);
    request(&m);
    ck_assert(sev_ok);
    ck_assert_uint_eq(napdu, 1);   /* the card answered */
    ck_assert_uint_eq(ans.type, CL_RELAY_ERROR);
    ck_assert_uint_eq(ans.u.status.code, CL_RELAY_E_TOO_LARGE);
    ck_assert_uint_eq(ans.flags & CL_RELAY_F_REF, CL_RELAY_F_REF);
    apdu("80 5C 00 00 00");   /* a short answer still goes through */
    ck_assert_uint_eq(ans.type, CL_RELAY_APDU_RESPONSE);
    ck_assert_uint_eq(ans.u.apdu.apdu.len, 20);
}
END_TEST

/* The network half of cl_dev_wants(): RECV while a transport is up, SEND
 * (with RECV) while bytes wait, neither once the transport is down. */
START_TEST(t_wants_net)
{
    struct cl_relay_msg m;
    unsigned w;

    w = cl_dev_wants(&dev);
    ck_assert_uint_eq(w & (CL_DEV_W_NET_SEND | CL_DEV_W_NET_RECV), CL_DEV_W_NET_RECV);
    cl_relay_msg_init(&m, CL_RELAY_DISPLAY);
    m.u.display.text.data = (const uint8_t *)"Hi";
    m.u.display.text.len = 2;
    request(&m);
    ck_assert_int_eq(cl_dev_ui_take(&dev, &scr), 1);   /* the answer waits to go */
    w = cl_dev_wants(&dev);
    ck_assert_uint_eq(w & (CL_DEV_W_NET_SEND | CL_DEV_W_NET_RECV),
                      CL_DEV_W_NET_SEND | CL_DEV_W_NET_RECV);
    pump();
    ck_assert(sev_ok);
    cl_dev_net_down(&dev, now);
    ck_assert_uint_eq(cl_dev_wants(&dev) & (CL_DEV_W_NET_SEND | CL_DEV_W_NET_RECV), 0);
}
END_TEST

/* NULL bytes with a length are refused however short (and change
 * nothing); NULL with none is no input. */
START_TEST(t_null_with_length)
{
    uint8_t tmpl[13];
    struct cl_relay_msg m;

    ck_assert_int_eq(cl_dev_net_feed(&dev, now, NULL, 1), CL_ERR_ARG);
    ck_assert_int_eq(cl_dev_net_feed(&dev, now, NULL, 0), 0);
    rig_pin_verify_msg(&m, tmpl);
    request(&m);
    ck_assert(take(CL_UI_PIN));
    ck_assert_int_eq(cl_dev_ui_pin(&dev, now, NULL, 1), CL_ERR_ARG);
    ck_assert_int_eq(cl_dev_ui_pin(&dev, now, NULL, 0), CL_ERR_LENGTH);
    pump();
    ck_assert(!sev_ok);   /* the PIN screen still waits */
    {
        uint8_t digits[4] = {1, 2, 3, 4};
        ck_assert_int_eq(cl_dev_ui_pin(&dev, now, digits, 4), CL_OK);
    }
    pump();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.u.pin_result.sw, 0x9000);
}
END_TEST

/* A PIN-VERIFY with its time-out (s, 0: the device's), the right PIN typed,
 * and the VERIFY left on a stalled card line; then, after release_pin(),
 * the answer it must give whatever happened meanwhile: 9000. */
static void pin_typed_card_held(uint8_t timeout_s)
{
    uint8_t tmpl[13];
    struct cl_relay_msg m;
    uint8_t digits[4] = {1, 2, 3, 4};

    rig_pin_verify_msg(&m, tmpl);
    m.u.pin.timeout = timeout_s;
    request(&m);
    ck_assert(take(CL_UI_PIN));
    ck_assert_uint_eq(cl_dev_timer(&dev, now + 4000), timeout_s == 5 ? 1000 : 56000);
    card_held = true;
    ck_assert_int_eq(cl_dev_ui_pin(&dev, now, digits, 4), CL_OK);
    pump();
}

static void release_pin(void)
{
    ck_assert(!sev_ok);
    card_held = false;
    pump();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.type, CL_RELAY_PIN_VERIFY_RESULT);
    ck_assert_uint_eq(ans.u.pin_result.sw, 0x9000);
    ck_assert_uint_eq(ans.u.pin_result.error, 0);
}

/* A PIN typed stops the holder's clock: while the card works on the
 * VERIFY the entry time may run out without ending anything. */
START_TEST(t_pin_stops_clock)
{
    pin_typed_card_held(5);
    ck_assert(cl_dev_timer(&dev, now + 5000) != 0);
    now += 6000;
    ck_assert_int_eq(cl_dev_timeout(&dev, now), CL_OK);
    release_pin();
}
END_TEST

/* A card that became active while no session was open is announced when
 * one opens, once: after a fresh start (card first, network second) and
 * after a resumption (the card swapped while the link was down, put back
 * before the line had powered the old one off: started after the OFF). */
START_TEST(t_card_told_on_open)
{
    static const uint8_t token[16] = {4, 4, 4};
    unsigned i;

    if (_i == 0) {
        cl_dev_net_down(&dev, now);
        cl_relay_session_free(&srv);
        cl_dev_free(&dev);
        {
            struct cl_dev_config cfg;
            static const uint8_t id[4] = {'d', 'e', 'v', '2'};
            rig_dev_config(&cfg, id, sizeof(id));
            cfg.hash.digest = cl_dev_hash_sha256;
            cl_dev_init(&dev);
            ck_assert_int_eq(cl_dev_setup(&dev, &cfg), CL_OK);
        }
        ck_assert_int_eq(cl_dev_card_inserted(&dev, now), CL_OK);
        while (card_step())
            ;
        ck_assert_int_eq(cl_card_state(&dev.card), CL_CARD_ACTIVE);
        rig_server_open(&srv, &scfg, srx, sizeof(srx), srb, sizeof(srb), now, token,
                        sizeof(token));
    } else {
        cl_dev_net_down(&dev, now);
        cl_relay_session_disconnect(&srv, now);
        cl_sim_power_off(&sim);
        cl_dev_card_removed(&dev, now);
        /* put back before the line powered the old one off */
        ck_assert_int_eq(cl_dev_card_inserted(&dev, now), CL_OK);
        ck_assert_int_eq(cl_dev_card_inserted(&dev, now), CL_ERR_STATE);
        nctrl = 0;
        while (card_step())
            ;
        ck_assert_int_eq(cl_card_state(&dev.card), CL_CARD_ACTIVE);
        ck_assert_uint_eq(nctrl, 2);
        ck_assert_uint_eq(ctrl_log[0], CL_CARD_CTRL_OFF);
        ck_assert_uint_eq(ctrl_log[1], CL_CARD_CTRL_COLD);
        ck_assert_int_eq(cl_relay_server_accept(&srv, now, token, sizeof(token)), CL_OK);
    }
    ck_assert_int_eq(cl_dev_net_up(&dev, now), CL_OK);
    nseen = 0;
    rig_pump(round_log, 100000);
    ck_assert_uint_eq(cl_relay_session_state(&srv), CL_RELAY_ST_OPEN);
    ck_assert(seen_resumed == (_i == 1));
    for (i = 0; i < nseen; i++)
        if (seen_type[i] == CL_RELAY_CARD_INSERTED)
            break;
    ck_assert_uint_lt(i, nseen);
    /* after a resumption the server hears of the old card leaving first */
    ck_assert(_i == 0 || (i > 0 && seen_type[i - 1] == CL_RELAY_CARD_REMOVED));
    for (i++; i < nseen; i++)
        ck_assert_uint_ne(seen_type[i], CL_RELAY_CARD_INSERTED);
    apdu("80 5C 00 00 00");
    ck_assert_uint_eq(ans.u.apdu.apdu.len, 20);
}
END_TEST

/* A CARD-RESET with the slot empty: CARD-RESET-RESULT NO_CARD at once,
 * nothing on the line. */
START_TEST(t_reset_no_card)
{
    struct cl_relay_msg m;

    cl_sim_power_off(&sim);
    cl_dev_card_removed(&dev, now);
    pump();
    nctrl = 0;
    cl_relay_msg_init(&m, CL_RELAY_CARD_RESET);
    m.u.reset_mode = _i == 0 ? CL_RELAY_RESET_WARM : CL_RELAY_RESET_COLD;
    request(&m);
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.type, CL_RELAY_CARD_RESET_RESULT);
    ck_assert_uint_eq(ans.u.card.error, CL_RELAY_E_NO_CARD);
    ck_assert_uint_eq(ans.u.card.atr.len, 0);
    ck_assert_uint_eq(nctrl, 0);
    ck_assert_uint_eq(cl_dev_wants(&dev) & CL_DEV_W_CARD, 0);
}
END_TEST

/* Keys pressed while the card works on the request (the PIN typed, the
 * VERIFY on the line) change nothing: Cancel does not cancel what the
 * card is already doing. */
START_TEST(t_keys_while_card_busy)
{
    pin_typed_card_held(0);
    ck_assert_int_eq(cl_dev_ui_key(&dev, now, CL_UI_KEY_CANCEL), CL_OK);
    ck_assert_int_eq(cl_dev_ui_key(&dev, now, CL_UI_KEY_CONFIRM), CL_OK);
    ck_assert_int_eq(cl_dev_ui_key(&dev, now, CL_UI_KEY_DOWN), CL_OK);
    pump();
    release_pin();
}
END_TEST

/* ------------------------------------------------------------ the card line fails */

/* The line fails under an APDU in flight: the request ends in ERROR with
 * the line's own code (a failure that gives none reads as NO_CARD), one
 * card error is counted, and the card stays out of use until a CARD-RESET
 * brings it back: a warm one asked of a failed card is done cold. */
static const struct {
    int err;          /* cl_dev_card_fail() */
    uint8_t code;     /* the ERROR */
    uint8_t mode;     /* the CARD-RESET asked afterwards */
} line_fails[] = {
    { CL_ERR_IO, CL_RELAY_E_CARD_IO, CL_RELAY_RESET_COLD },
    { CL_ERR_CARD_MUTE, CL_RELAY_E_CARD_MUTE, CL_RELAY_RESET_WARM },
    { CL_ERR_TIMEOUT, CL_RELAY_E_TIMEOUT, CL_RELAY_RESET_COLD },
    { CL_ERR_CARD_REMOVED, CL_RELAY_E_NO_CARD, CL_RELAY_RESET_WARM },
};

START_TEST(t_card_line_fails)
{
    static uint8_t cmd[5] = {0x80, 0x5C, 0x00, 0x00, 0x00};
    struct cl_relay_msg m;

    card_held = true;
    cl_relay_msg_init(&m, CL_RELAY_APDU);
    m.u.apdu.apdu.data = cmd;
    m.u.apdu.apdu.len = sizeof(cmd);
    request(&m);
    ck_assert(!sev_ok);
    ck_assert(cl_dev_wants(&dev) & CL_DEV_W_CARD);
    ck_assert_int_eq(cl_dev_card_fail(&dev, now, line_fails[_i].err), CL_OK);
    card_held = false;
    pump();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.type, CL_RELAY_ERROR);
    ck_assert_uint_eq(ans.u.status.code, line_fails[_i].code);
    ck_assert_uint_eq(cl_dev_stats(&dev)->card_errors, 1);
    ck_assert_uint_eq(cl_dev_stats(&dev)->apdus, 1);
    ck_assert_uint_eq(cl_dev_wants(&dev) & CL_DEV_W_CARD, 0);

    /* the failed card takes no APDU */
    request(&m);
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.type, CL_RELAY_ERROR);
    ck_assert_uint_eq(ans.u.status.code, CL_RELAY_E_NO_CARD);
    ck_assert_uint_eq(cl_dev_stats(&dev)->card_errors, 1);

    nctrl = 0;
    cl_relay_msg_init(&m, CL_RELAY_CARD_RESET);
    m.u.reset_mode = line_fails[_i].mode;
    request(&m);
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.type, CL_RELAY_CARD_RESET_RESULT);
    ck_assert_uint_eq(ans.u.card.error, 0);
    ck_assert_uint_eq(ans.u.card.protocol, CL_RELAY_PROTO_T1);
    ck_assert_uint_ge(nctrl, 1);
    ck_assert_uint_eq(ctrl_log[0], CL_CARD_CTRL_COLD);
    apdu("80 5C 00 00 00");
    ck_assert_uint_eq(ans.type, CL_RELAY_APDU_RESPONSE);
    ck_assert_uint_eq(ans.u.apdu.apdu.len, 20);
}
END_TEST

/* The line controls a CARD-RESET asks for on an active card: WARM alone
 * for a warm reset; OFF, then COLD, for a cold one. */
START_TEST(t_card_reset_ctrl)
{
    struct cl_relay_msg m;

    nctrl = 0;
    cl_relay_msg_init(&m, CL_RELAY_CARD_RESET);
    m.u.reset_mode = _i == 0 ? CL_RELAY_RESET_WARM : CL_RELAY_RESET_COLD;
    request(&m);
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.u.card.error, 0);
    ck_assert_uint_ge(nctrl, 1);
    if (_i == 0) {
        ck_assert_uint_eq(ctrl_log[0], CL_CARD_CTRL_WARM);
    } else {
        ck_assert_uint_ge(nctrl, 2);
        ck_assert_uint_eq(ctrl_log[0], CL_CARD_CTRL_OFF);
        ck_assert_uint_eq(ctrl_log[1], CL_CARD_CTRL_COLD);
    }
}
END_TEST

/* The line fails at the CARD-RESET's reset itself (a cold reset's
 * power-off went through): the result carries the line's code and no ATR. */
START_TEST(t_card_reset_fails)
{
    struct cl_relay_msg m;
    unsigned guard;

    card_held = true;
    cl_relay_msg_init(&m, CL_RELAY_CARD_RESET);
    m.u.reset_mode = _i == 0 ? CL_RELAY_RESET_WARM : CL_RELAY_RESET_COLD;
    request(&m);
    ck_assert(!sev_ok);
    for (guard = 0; guard < 8; guard++) {
        unsigned c = cl_dev_card_ctrl(&dev);
        if (cl_dev_card_want(&dev) == CL_WANT_CTRL &&
            (c == CL_CARD_CTRL_COLD || c == CL_CARD_CTRL_WARM))
            break;
        ck_assert(rig_card_step(&dev, &sim, now));
    }
    ck_assert_uint_eq(cl_dev_card_ctrl(&dev),
                      _i == 0 ? CL_CARD_CTRL_WARM : CL_CARD_CTRL_COLD);
    ck_assert_int_eq(cl_dev_card_fail(&dev, now, CL_ERR_IO), CL_OK);
    card_held = false;
    pump();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.type, CL_RELAY_CARD_RESET_RESULT);
    ck_assert_uint_eq(ans.u.card.error, CL_RELAY_E_CARD_IO);
    ck_assert_uint_eq(ans.u.card.atr.len, 0);
}
END_TEST

/* The card pulled under a request on the line (an APDU, a warm CARD-RESET,
 * a cold one before and after its power-off): CARD-REMOVED reaches the server first, then the request's
 * answer with NO_CARD (protocol §5.6). A card put back is announced again
 * with its ATR, works, and holds no state from before (the PIN verified
 * on the old one is forgotten). */
START_TEST(t_removed_on_the_line)
{
    static uint8_t cmd[5] = {0x80, 0x5C, 0x00, 0x00, 0x00};
    static const uint8_t good[4] = {1, 2, 3, 4};
    struct cl_relay_msg m;
    unsigned guard;

    pin_verify(good, 4);
    ck_assert(cl_dev_policy(&dev)->flags & CL_POLICY_S_PIN_VERIFIED);
    card_held = true;
    if (_i == 0) {
        cl_relay_msg_init(&m, CL_RELAY_APDU);
        m.u.apdu.apdu.data = cmd;
        m.u.apdu.apdu.len = sizeof(cmd);
    } else {
        cl_relay_msg_init(&m, CL_RELAY_CARD_RESET);
        m.u.reset_mode = _i == 1 ? CL_RELAY_RESET_WARM : CL_RELAY_RESET_COLD;
    }
    request(&m);
    ck_assert(!sev_ok);
    if (_i == 3)   /* the cold reset's power-off done (2: before it) */
        for (guard = 0; guard < 4 && cl_dev_card_want(&dev) == CL_WANT_CTRL &&
                        cl_dev_card_ctrl(&dev) != CL_CARD_CTRL_COLD; guard++)
            ck_assert(rig_card_step(&dev, &sim, now));
    cl_sim_power_off(&sim);
    cl_dev_card_removed(&dev, now);
    ck_assert_uint_eq(cl_dev_policy(&dev)->flags & CL_POLICY_S_PIN_VERIFIED, 0);
    card_held = false;
    nseen = 0;
    rig_pump(round_log, 1000);
    ck_assert_uint_eq(nseen, 2);
    ck_assert_uint_eq(seen_type[0], CL_RELAY_CARD_REMOVED);
    ck_assert_uint_eq(seen_type[1], _i == 0 ? CL_RELAY_ERROR : CL_RELAY_CARD_RESET_RESULT);
    ck_assert_uint_eq(seen_code[1], CL_RELAY_E_NO_CARD);
    ck_assert_uint_eq(cl_dev_wants(&dev) & CL_DEV_W_CARD, 0);

    nctrl = 0;
    ck_assert_int_eq(cl_dev_card_inserted(&dev, now), CL_OK);
    ck_assert_int_eq(cl_dev_card_inserted(&dev, now), CL_ERR_STATE);
    nseen = 0;
    rig_pump(round_log, 100000);
    ck_assert_uint_eq(nseen, 1);
    ck_assert_uint_eq(seen_type[0], CL_RELAY_CARD_INSERTED);
    ck_assert_uint_eq(nctrl, 1);   /* one cold reset: nothing left pending */
    ck_assert_uint_eq(ctrl_log[0], CL_CARD_CTRL_COLD);
    apdu("80 5C 00 00 00");
    ck_assert_uint_eq(ans.type, CL_RELAY_APDU_RESPONSE);
    ck_assert_uint_eq(ans.u.apdu.apdu.len, 20);
    ck_assert_uint_eq(cl_dev_policy(&dev)->flags & CL_POLICY_S_PIN_VERIFIED, 0);
}
END_TEST

/* ------------------------------------------------------------ card removed */

START_TEST(t_removed_mid_approval)
{
    struct cl_relay_msg m;

    approve_msg(&m, CL_TXN_PURCHASE, 900);
    request(&m);
    ck_assert(take(CL_UI_TXN));
    if (_i == 1) {   /* after Confirm, on the PIN screen */
        while (scr.page + 1u < scr.pages) {
            ck_assert_int_eq(cl_dev_ui_key(&dev, now, CL_UI_KEY_DOWN), CL_OK);
            ck_assert(take(CL_UI_TXN));
        }
        ck_assert_int_eq(cl_dev_ui_key(&dev, now, CL_UI_KEY_CONFIRM), CL_OK);
        ck_assert(take(CL_UI_PIN));
    }
    ck_assert_uint_eq(cl_dev_policy(&dev)->step, _i == 0 ? CL_POLICY_SHOWING : CL_POLICY_CONFIRMED);
    cl_sim_power_off(&sim);
    cl_dev_card_removed(&dev, now);
    pump();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.type, CL_RELAY_TXN_RESULT);
    ck_assert_uint_eq(ans.u.txn_result.result, CL_RELAY_TXN_FAILED);
    ck_assert_uint_eq(ans.u.txn_result.error, CL_RELAY_E_NO_CARD);
    ck_assert_uint_eq(cl_dev_policy(&dev)->step, CL_POLICY_IDLE);
    ck_assert_uint_eq(cl_dev_policy(&dev)->cleanup, CL_POLICY_CLEANUP_NONE);
    ck_assert_uint_eq(cl_dev_policy(&dev)->flags, 0);
    ck_assert_uint_eq(napdu, 0);
    {   /* the PIN screen is gone with the job */
        uint8_t digits[4] = {1, 2, 3, 4};
        ck_assert_int_eq(cl_dev_ui_pin(&dev, now, digits, 4), CL_ERR_STATE);
    }
}
END_TEST

/* ------------------------------------------------------------ cleanup */

START_TEST(t_cleanup_after_abandon)
{
    static const uint8_t good[4] = {1, 2, 3, 4};
    struct cl_relay_msg m;

    pin_verify(good, 4);   /* the card is verified */
    ck_assert_uint_eq(napdu, 1);
    approve_msg(&m, CL_TXN_PURCHASE, 300);
    m.u.txn.has_pin = false;
    request(&m);
    ck_assert(take(CL_UI_TXN));
    ck_assert_int_eq(cl_dev_ui_key(&dev, now, CL_UI_KEY_CANCEL), CL_OK);
    pump();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.u.txn_result.result, CL_RELAY_TXN_DECLINED);
    /* VERIFY P1 FF went to the card before the answer */
    ck_assert_uint_eq(napdu, 2);
    ck_assert_uint_eq(cmd_log_len[1], 4);
    ck_assert_mem_eq(cmd_log[1], "\x00\x20\xFF\x80", 4);   /* the reference verified */
    ck_assert_uint_eq(cl_dev_policy(&dev)->cleanup, CL_POLICY_CLEANUP_NONE);
    ck_assert_uint_eq(cl_dev_policy(&dev)->flags & CL_POLICY_S_PIN_VERIFIED, 0);
    apdu("80 5C 00 00 00");
    ck_assert_uint_eq(ans.type, CL_RELAY_APDU_RESPONSE);
    ck_assert_uint_eq(napdu, 3);
    ck_assert_uint_eq(last_ins[2], 0x5C);
}
END_TEST

START_TEST(t_cleanup_after_failed_sign)
{
    static const uint8_t good[4] = {1, 2, 3, 4};
    struct cl_relay_msg m;

    pin_verify(good, 4);
    approve_msg(&m, CL_TXN_PURCHASE, 300);
    m.u.txn.has_pin = false;
    request(&m);
    /* the card's signing key is unset: PSO fails (6985 / 6F00) */
    memset(st.sign_priv, 0, sizeof(st.sign_priv));
    holder_approves_nopin:
    ck_assert(take(CL_UI_TXN));
    if (scr.page + 1u < scr.pages) {
        ck_assert_int_eq(cl_dev_ui_key(&dev, now, CL_UI_KEY_DOWN), CL_OK);
        goto holder_approves_nopin;
    }
    ck_assert_int_eq(cl_dev_ui_key(&dev, now, CL_UI_KEY_CONFIRM), CL_OK);
    pump();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.u.txn_result.result, CL_RELAY_TXN_FAILED);
    ck_assert_uint_ne(ans.u.txn_result.sw, 0x9000);
    /* VERIFY, PSO (refused), VERIFY P1 FF: before anything is relayed */
    ck_assert_uint_eq(napdu, 3);
    ck_assert_uint_eq(last_ins[1], 0x2A);
    ck_assert_uint_eq(last_ins[2], 0x20);
    ck_assert_uint_eq(last_p1[2], 0xFF);
    ck_assert_uint_eq(cl_dev_policy(&dev)->cleanup, CL_POLICY_CLEANUP_NONE);
    apdu("80 5C 00 00 00");
    ck_assert_uint_eq(napdu, 4);
}
END_TEST

/* ------------------------------------------------------------ failures */

/* Every way an approval ends without a signature, as the server reads it
 * (TXN-RESULT result, sw, error), as the holder sees it (the last screen)
 * and as the device counts it. */
enum { AT_PIN, AT_SHOW_TIMEOUT, AT_PIN_TIMEOUT, AT_PIN_CANCEL, AT_PIN_REMOVED, AT_START };

static const struct {
    const char *why;
    uint8_t kind;
    uint8_t at;             /* what the holder does: AT_PIN types the PIN */
    uint8_t force_ins;      /* a card answer forced, hex (NULL: the applet's) */
    const char *force;
    uint8_t result;
    uint16_t sw;
    uint8_t error;
    const char *screen;
    unsigned signs, records;
    bool cleanup;           /* the card's PIN state reset last (VERIFY FF, P2 80) */
} fails[] = {
    { "wrong PIN", CL_TXN_PURCHASE, AT_PIN, 0x20, "63 C2", CL_RELAY_TXN_FAILED, 0x63C2, 0,
      "Failed\n", 0, 0, false },
    { "PSO refused", CL_TXN_PURCHASE, AT_PIN, 0x2A, "69 82", CL_RELAY_TXN_FAILED, 0x6982, 0,
      "Failed\n", 1, 0, true },
    { "PSO 9000 without a signature", CL_TXN_PURCHASE, AT_PIN, 0x2A, "90 00",
      CL_RELAY_TXN_FAILED, 0x6F00, 0, "Failed\n", 1, 0, false },
    { "record refused: still approved", CL_TXN_PURCHASE, AT_PIN, 0xE2, "6A 84",
      CL_RELAY_TXN_APPROVED, 0, 0, "Approved\n", 1, 0, false },
    { "GET BALANCE refused", CL_TXN_PURSE_PAYMENT, AT_PIN, 0x5C, "6A 82", CL_RELAY_TXN_FAILED,
      0x6A82, 0, "Failed\n", 0, 0, true },
    { "purse in another currency", CL_TXN_PURSE_PAYMENT, AT_PIN, 0x5C,
      "00 00 27 10 03 48 00 00 00 05 01 02 03 04 05 06 07 08 90 00", CL_RELAY_TXN_FAILED, 0,
      CL_RELAY_E_DENIED, "Failed\n", 0, 0, true },
    { "DEBIT refused", CL_TXN_PURSE_PAYMENT, AT_PIN, 0x54, "69 85", CL_RELAY_TXN_FAILED, 0x6985,
      0, "Failed\n", 1, 0, true },
    { "no answer on the show screen", CL_TXN_PURCHASE, AT_SHOW_TIMEOUT, 0, NULL,
      CL_RELAY_TXN_FAILED, 0, CL_RELAY_E_TIMEOUT, "Failed\n", 0, 0, false },
    { "no PIN", CL_TXN_PURCHASE, AT_PIN_TIMEOUT, 0, NULL, CL_RELAY_TXN_FAILED, 0,
      CL_RELAY_E_TIMEOUT, "Failed\n", 0, 0, false },
    { "PIN cancelled", CL_TXN_PURCHASE, AT_PIN_CANCEL, 0, NULL, CL_RELAY_TXN_DECLINED, 0, 0,
      "Declined\n", 0, 0, false },
    { "card pulled during the VERIFY", CL_TXN_PURCHASE, AT_PIN_REMOVED, 0, NULL,
      CL_RELAY_TXN_FAILED, 0, CL_RELAY_E_NO_CARD, "Failed\n", 0, 0, false },
};

START_TEST(t_txn_failures)
{
    struct cl_relay_msg m;
    uint8_t digits[4] = {1, 2, 3, 4};
    const struct cl_dev_stats *ds;

    approve_msg(&m, fails[_i].kind, 250);
    if (fails[_i].force != NULL) {
        force_ins = fails[_i].force_ins;
        force_len = (size_t)cl_test_hex(fails[_i].force, force_resp, sizeof(force_resp));
    }
    request(&m);
    if (fails[_i].at == AT_SHOW_TIMEOUT) {
        ck_assert(take(CL_UI_TXN));
    } else {
        confirm_all_pages();
        ck_assert(take(CL_UI_PIN));
    }
    switch (fails[_i].at) {
    case AT_SHOW_TIMEOUT:
    case AT_PIN_TIMEOUT:   /* the holder's 60 s, not a millisecond less */
        now += 59999;
        ck_assert_int_eq(cl_dev_timeout(&dev, now), CL_OK);
        pump();
        ck_assert(!sev_ok);
        now += 1;
        ck_assert_int_eq(cl_dev_timeout(&dev, now), CL_OK);
        break;
    case AT_PIN_CANCEL:
        ck_assert_int_eq(cl_dev_ui_key(&dev, now, CL_UI_KEY_CANCEL), CL_OK);
        break;
    default:
        ck_assert_int_eq(cl_dev_ui_pin(&dev, now, digits, 4), CL_OK);
        if (fails[_i].at == AT_PIN_REMOVED) {
            cl_sim_power_off(&sim);   /* the VERIFY is queued, not yet on the line */
            cl_dev_card_removed(&dev, now);
        }
        break;
    }
    pump();
    ck_assert_msg(sev_ok, "%s: no answer", fails[_i].why);
    ck_assert_uint_eq(ans.type, CL_RELAY_TXN_RESULT);
    ck_assert_mem_eq(ans.u.txn_result.txn_id, tid, 16);
    ck_assert_msg(ans.u.txn_result.result == fails[_i].result, "%s: result %u", fails[_i].why,
                  ans.u.txn_result.result);
    ck_assert_msg(ans.u.txn_result.sw == fails[_i].sw, "%s: sw %04X", fails[_i].why,
                  ans.u.txn_result.sw);
    ck_assert_msg(ans.u.txn_result.error == fails[_i].error, "%s: error %u", fails[_i].why,
                  ans.u.txn_result.error);
    if (fails[_i].result != CL_RELAY_TXN_APPROVED)
        ck_assert_uint_eq(ans.u.txn_result.signature.len, 0);
    ck_assert(take(CL_UI_MESSAGE));
    ck_assert_str_eq(scr.text, fails[_i].screen);
    ds = cl_dev_stats(&dev);
    ck_assert_uint_eq(ds->confirms, fails[_i].at == AT_SHOW_TIMEOUT ? 0 : 1);
    ck_assert_uint_eq(ds->signs, fails[_i].signs);
    ck_assert_uint_eq(ds->records, fails[_i].records);
    ck_assert_uint_eq(ds->denied, 0);
    ck_assert_uint_eq(cl_dev_policy(&dev)->step, CL_POLICY_IDLE);
    if (fails[_i].cleanup) {
        ck_assert_uint_ge(napdu, 2);
        ck_assert_uint_eq(cmd_log_len[napdu - 1], 4);
        ck_assert_mem_eq(cmd_log[napdu - 1], "\x00\x20\xFF\x80", 4);
    } else if (napdu > 0) {
        ck_assert(cmd_log_len[napdu - 1] != 4 || cmd_log[napdu - 1][2] != 0xFF);
    }
    ck_assert_uint_eq(cl_dev_policy(&dev)->flags & CL_POLICY_S_PIN_VERIFIED, 0);
}
END_TEST

/* No digest for the card to sign: the device has no hash port, or not the
 * one the server asked for (SHA-384 from a SHA-256 port). */
START_TEST(t_txn_no_digest)
{
    struct cl_relay_msg m;

    approve_msg(&m, CL_TXN_PURCHASE, 250);
    m.u.txn.has_pin = false;
    if (variant == V_PRODUCT)
        m.u.txn.digest = CL_RELAY_DIGEST_SHA384;
    request(&m);
    confirm_all_pages();
    pump();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.u.txn_result.result, CL_RELAY_TXN_FAILED);
    ck_assert_uint_eq(ans.u.txn_result.sw, 0);
    ck_assert_uint_eq(ans.u.txn_result.error,
                      variant == V_PRODUCT ? CL_RELAY_E_UNSUPPORTED : CL_RELAY_E_INTERNAL);
    ck_assert_uint_eq(napdu, 0);
    ck_assert_uint_eq(cl_dev_stats(&dev)->signs, 0);
}
END_TEST

/* A card the policy knows no PIN reset for: after a failed signature the
 * device resets the card (no PIN state survives) before it answers. */
START_TEST(t_cleanup_card_reset)
{
    struct cl_relay_msg m;

    approve_msg(&m, CL_TXN_PURCHASE, 250);
    force_ins = 0x2A;
    force_len = (size_t)cl_test_hex("69 82", force_resp, sizeof(force_resp));
    request(&m);
    holder_approves();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.u.txn_result.result, CL_RELAY_TXN_FAILED);
    ck_assert_uint_eq(ans.u.txn_result.sw, 0x6982);
    ck_assert_uint_eq(napdu, 2);                      /* VERIFY, PSO: no VERIFY FF */
    ck_assert_uint_eq(cl_dev_policy(&dev)->flags, 0);
    ck_assert_uint_eq(cl_dev_policy(&dev)->cleanup, CL_POLICY_CLEANUP_NONE);
    ck_assert_uint_eq(cl_dev_policy(&dev)->step, CL_POLICY_IDLE);
    ck_assert_int_eq(cl_card_state(&dev.card), CL_CARD_ACTIVE);   /* reset, and up again */
    apdu("80 5C 00 00 00");
    ck_assert_uint_eq(ans.type, CL_RELAY_APDU_RESPONSE);
}
END_TEST

static void setup_no_hash(void)
{
    variant = V_NO_HASH;
    setup();
}

static void setup_plain_policy(void)
{
    variant = V_PLAIN_POLICY;
    setup();
}

static void teardown_variant(void)
{
    teardown();
    variant = V_PRODUCT;
}

/* Refused by the policy before any job runs: the answer in the request's
 * own form (TXN-RESULT, PIN-VERIFY-RESULT, PIN-CHANGE-RESULT), the error
 * DENIED, nothing at the card. */
START_TEST(t_refused_typed)
{
    static uint8_t bad[13];
    struct cl_relay_msg m;

    switch (_i) {
    case 0:   /* a signing header the policy knows no kind for */
        approve_msg(&m, CL_TXN_PURCHASE, 250);
        memcpy(m.u.txn.sign_cmd, "\x00\x2A\x9E\x9B", 4);
        request(&m);
        ck_assert_uint_eq(ans.type, CL_RELAY_TXN_RESULT);
        ck_assert_mem_eq(ans.u.txn_result.txn_id, tid, 16);
        ck_assert_uint_eq(ans.u.txn_result.result, CL_RELAY_TXN_FAILED);
        ck_assert_uint_eq(ans.u.txn_result.error, CL_RELAY_E_DENIED);
        break;
    default:  /* a PIN template that is no VERIFY / CHANGE REFERENCE DATA (MSE) */
        rig_pin_verify_msg(&m, bad);
        bad[1] = 0x22;
        if (_i == 2) {   /* old PIN block at 0, new at 8 */
            static uint8_t chg[21];
            cl_test_hex("00 22 00 80 10 24 FF FF FF FF FF FF FF 24 FF FF FF FF FF FF FF", chg,
                        sizeof(chg));
            m.type = CL_RELAY_PIN_CHANGE;
            m.u.pin.apdu.data = chg;
            m.u.pin.apdu.len = sizeof(chg);
            m.u.pin.new_offset = 8;
        }
        request(&m);
        ck_assert_uint_eq(ans.type, m.type + 1);
        ck_assert_uint_eq(ans.u.pin_result.sw, 0);
        ck_assert_uint_eq(ans.u.pin_result.error, CL_RELAY_E_DENIED);
        break;
    }
    ck_assert(sev_ok);
    ck_assert_uint_eq(napdu, 0);
    ck_assert_uint_eq(cl_dev_stats(&dev)->denied, 1);
}
END_TEST

/* Paging through an approval: Confirm is offered on the last page and,
 * once every page was seen, on every page; Confirm before that turns the
 * page; Up and Down stop at the ends. */
START_TEST(t_txn_pages)
{
    struct cl_relay_msg m;
    unsigned i, pages;

    approve_msg(&m, CL_TXN_PURCHASE, 250);
    txn.n_items = 3;
    for (i = 0; i < 3; i++) {
        snprintf(txn.items[i].desc, sizeof(txn.items[i].desc), "Item number %u", i + 1);
        txn.items[i].quantity = 1;
    }
    txn.amount = 3;
    ck_assert_int_eq(cl_txn_encode(&txn, txn_buf, sizeof(txn_buf), &txn_len), CL_OK);
    m.u.txn.txn.len = txn_len;
    request(&m);
    ck_assert(take(CL_UI_TXN));
    pages = scr.pages;
    ck_assert_uint_ge(pages, 3);
    ck_assert_uint_eq(scr.page, 0);
    ck_assert_uint_eq(scr.flags, CL_UI_F_CANCEL);
    /* Up on the first page: nothing */
    ck_assert_int_eq(cl_dev_ui_key(&dev, now, CL_UI_KEY_UP), CL_OK);
    ck_assert(!take(CL_UI_TXN));
    /* Confirm before the last page: the next page, nothing confirmed */
    ck_assert_int_eq(cl_dev_ui_key(&dev, now, CL_UI_KEY_CONFIRM), CL_OK);
    ck_assert(take(CL_UI_TXN));
    ck_assert_uint_eq(scr.page, 1);
    ck_assert_uint_eq(cl_dev_stats(&dev)->confirms, 0);
    ck_assert_int_eq(cl_dev_ui_key(&dev, now, CL_UI_KEY_UP), CL_OK);
    ck_assert(take(CL_UI_TXN));
    ck_assert_uint_eq(scr.page, 0);
    ck_assert_uint_eq(scr.flags, CL_UI_F_CANCEL);
    for (i = 1; i < pages; i++) {
        ck_assert_int_eq(cl_dev_ui_key(&dev, now, CL_UI_KEY_DOWN), CL_OK);
        ck_assert(take(CL_UI_TXN));
        ck_assert_uint_eq(scr.page, i);
        ck_assert_uint_eq(scr.flags, i + 1 == pages ? CL_UI_F_CANCEL | CL_UI_F_CONFIRM
                                                    : CL_UI_F_CANCEL);
    }
    /* Down on the last page: nothing */
    ck_assert_int_eq(cl_dev_ui_key(&dev, now, CL_UI_KEY_DOWN), CL_OK);
    ck_assert(!take(CL_UI_TXN));
    /* every page seen: Confirm offered on the first page too, and taken there */
    for (i = pages - 1; i > 0; i--) {
        ck_assert_int_eq(cl_dev_ui_key(&dev, now, CL_UI_KEY_UP), CL_OK);
        ck_assert(take(CL_UI_TXN));
        ck_assert_uint_eq(scr.page, i - 1);
        ck_assert_uint_eq(scr.flags, CL_UI_F_CANCEL | CL_UI_F_CONFIRM);
    }
    ck_assert_int_eq(cl_dev_ui_key(&dev, now, CL_UI_KEY_CONFIRM), CL_OK);
    ck_assert(take(CL_UI_PIN));
    ck_assert_uint_eq(cl_dev_stats(&dev)->confirms, 1);
    ck_assert_uint_eq(napdu, 0);
}
END_TEST

/* A PIN template whose PIN is not at the start of the data: the digits go
 * where the template says, the length where it says. */
START_TEST(t_txn_pin_offset)
{
    struct cl_relay_msg m;
    uint8_t digits[4] = {1, 2, 3, 4};
    static uint8_t tmpl[10];

    approve_msg(&m, CL_TXN_PURCHASE, 250);
    cl_test_hex("00 20 00 80 05 00 FF FF FF FF", tmpl, sizeof(tmpl));
    m.u.txn.pin.apdu.data = tmpl;
    m.u.txn.pin.apdu.len = sizeof(tmpl);
    m.u.txn.pin.encoding = CL_RELAY_PIN_ASCII;
    m.u.txn.pin.min_len = 4;
    m.u.txn.pin.max_len = 4;
    m.u.txn.pin.offset = 1;
    m.u.txn.pin.len_offset = 0;
    force_ins = 0x20;   /* this card takes it */
    force_len = (size_t)cl_test_hex("90 00", force_resp, sizeof(force_resp));
    request(&m);
    confirm_all_pages();
    ck_assert(take(CL_UI_PIN));
    ck_assert_int_eq(cl_dev_ui_pin(&dev, now, digits, 4), CL_OK);
    pump();
    ck_assert(sev_ok);
    ck_assert_uint_ge(napdu, 1);
    ck_assert_uint_eq(cmd_log_len[0], 10);
    ck_assert_mem_eq(cmd_log[0], "\x00\x20\x00\x80\x05\x04" "1234", 10);
}
END_TEST

/* Refused before anything is shown: the answer names why, the card is
 * untouched, the refusal counted. */
START_TEST(t_txn_refused_at_start)
{
    struct cl_relay_msg m;

    approve_msg(&m, CL_TXN_PURSE_PAYMENT, 250);
    memcpy(m.u.txn.sign_cmd, "\x00\x2A\x9E\x9A", 4);   /* a purse payment signed by PSO */
    request(&m);
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.u.txn_result.result, CL_RELAY_TXN_FAILED);
    ck_assert_uint_eq(ans.u.txn_result.sw, 0);
    ck_assert_uint_eq(ans.u.txn_result.error, CL_RELAY_E_DENIED);
    ck_assert_uint_eq(cl_dev_stats(&dev)->denied, 1);
    ck_assert_uint_eq(napdu, 0);
    /* transaction bytes that are DER but no transaction */
    approve_msg(&m, CL_TXN_PURCHASE, 250);
    tid[15] ^= 1;
    m.u.txn.txn.data = (const uint8_t *)"\x04\x01\x00";
    m.u.txn.txn.len = 3;
    request(&m);
    tid[15] ^= 1;
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.u.txn_result.result, CL_RELAY_TXN_FAILED);
    ck_assert_uint_eq(ans.u.txn_result.sw, 0);
    ck_assert_uint_eq(ans.u.txn_result.error, CL_RELAY_E_MALFORMED);
    ck_assert_uint_eq(cl_dev_stats(&dev)->denied, 1);
    ck_assert_uint_eq(napdu, 0);
}
END_TEST

/* ------------------------------------------------------------ signature */

START_TEST(t_purchase_signature_verifies)
{
    struct cl_relay_msg m;
    uint8_t dig[32];

    approve_msg(&m, CL_TXN_PURCHASE, 4200);
    request(&m);
    holder_approves();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.u.txn_result.result, CL_RELAY_TXN_APPROVED);
    ck_assert_int_eq(cl_txn_digest(&txn, chal, sizeof(chal), dig), CL_OK);
    /* the card's signing key, with the mbedtls port */
    ck_assert_int_eq(cl_posix_crypto_verify(&pc, st.sign_pub, dig, 32,
                                            ans.u.txn_result.signature.data,
                                            ans.u.txn_result.signature.len), CL_OK);
    /* not the authentication key's, not another digest */
    ck_assert_int_ne(cl_posix_crypto_verify(&pc, st.pub, dig, 32,
                                            ans.u.txn_result.signature.data,
                                            ans.u.txn_result.signature.len), CL_OK);
    dig[0] ^= 1;
    ck_assert_int_ne(cl_posix_crypto_verify(&pc, st.sign_pub, dig, 32,
                                            ans.u.txn_result.signature.data,
                                            ans.u.txn_result.signature.len), CL_OK);
}
END_TEST

/* ------------------------------------------------------------ the record */

START_TEST(t_record_payee_display)
{
    struct cl_relay_msg m;
    const uint8_t *rec;
    static const uint8_t payee[16] = "Cafe Rosa";

    merchant = _i == 0 ? "Caf\xC3\xA9 Rosa" : "Stra\xC3\x9F" "e 5 Kiosk Nord";
    approve_msg(&m, _i == 0 ? CL_TXN_PURCHASE : CL_TXN_PURSE_PAYMENT, 250);
    request(&m);
    holder_approves();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.u.txn_result.result, CL_RELAY_TXN_APPROVED);
    ck_assert_uint_eq(st.txlog_count, 1);
    rec = st.txlog[st.txlog_head];
    ck_assert_mem_eq(rec, tid, 16);
    ck_assert_uint_eq(rec[19], 250);
    ck_assert_uint_eq(rec[26], CL_RELAY_TXN_APPROVED);
    if (_i == 0)
        ck_assert_mem_eq(rec + 27, payee, 16);   /* e-acute shown as e */
    else
        ck_assert_mem_eq(rec + 27, "Strasse 5 Kiosk ", 16);   /* sharp s as ss, cut at 16 */
}
END_TEST

/* The whole record the device appends, byte by byte: the amount (a purchase
 * above 2^32 - 1 saturates), the currency, the time in seconds since
 * 1970-01-01 UTC (January and February count into the previous year's
 * cycle; leap days; a century; FFFFFFFF from 2106-02-07 06:28:15 on, the
 * year running to 9999), the result (00 approved), the payee padded with
 * zeros. */
static const struct {
    uint16_t year;
    uint8_t month, day, hour, minute, second;
    uint64_t amount;
    uint16_t currency;
    const char *tail;   /* amount(4) currency(2) time(4); then result 00, payee */
} records[] = {
    { 2024, 5, 1, 14, 3, 0, 0x01020304u, 978,
      "01 02 03 04 03 D2 66 32 4B 94" },
    { 2024, 2, 29, 23, 59, 59, 250, 840,
      "00 00 00 FA 03 48 65 E1 1A 7F" },
    { 2000, 1, 1, 0, 0, 0, 0xFFFFFFFFu, 756,
      "FF FF FF FF 02 F4 38 6D 43 80" },
    { 2023, 3, 1, 0, 0, 1, 0x100000000ull, 978,
      "FF FF FF FF 03 D2 63 FE 95 81" },
    { 2003, 6, 15, 12, 0, 0, 7, 978,
      "00 00 00 07 03 D2 3E EC 5F C0" },
    { 2100, 3, 1, 0, 0, 0, 7, 978,
      "00 00 00 07 03 D2 F4 D4 1F 80" },
    { 2099, 12, 31, 23, 59, 59, 1, 392,
      "00 00 00 01 01 88 F4 86 56 FF" },
    /* the 32-bit count's last seconds, then saturated, never wrapped */
    { 2106, 2, 7, 6, 28, 14, 1, 978,
      "00 00 00 01 03 D2 FF FF FF FE" },
    { 2106, 2, 7, 6, 28, 15, 1, 978,
      "00 00 00 01 03 D2 FF FF FF FF" },
    { 2106, 2, 7, 6, 28, 16, 1, 978,
      "00 00 00 01 03 D2 FF FF FF FF" },
    { 2106, 2, 8, 0, 0, 0, 1, 978,
      "00 00 00 01 03 D2 FF FF FF FF" },
    { 9999, 12, 31, 23, 59, 59, 1, 978,
      "00 00 00 01 03 D2 FF FF FF FF" },
};

START_TEST(t_record_bytes)
{
    struct cl_relay_msg m;
    uint8_t want[CL_APPLET_TXREC_LEN];

    approve_msg(&m, CL_TXN_PURCHASE, records[_i].amount);
    txn.currency = records[_i].currency;
    txn.exponent = records[_i].currency == 392 ? 0 : 2;
    txn.time.year = records[_i].year;
    txn.time.month = records[_i].month;
    txn.time.day = records[_i].day;
    txn.time.hour = records[_i].hour;
    txn.time.minute = records[_i].minute;
    txn.time.second = records[_i].second;
    ck_assert_int_eq(cl_txn_encode(&txn, txn_buf, sizeof(txn_buf), &txn_len), CL_OK);
    m.u.txn.txn.len = txn_len;
    request(&m);
    holder_approves();
    ck_assert(sev_ok);
    ck_assert_uint_eq(ans.u.txn_result.result, CL_RELAY_TXN_APPROVED);
    ck_assert_uint_eq(st.txlog_count, 1);
    memset(want, 0, sizeof(want));
    memcpy(want, tid, 16);
    ck_assert_int_eq(cl_test_hex(records[_i].tail, want + 16, 10), 10);
    want[26] = CL_RELAY_TXN_APPROVED;
    memcpy(want + 27, "Cafe Rosa", 9);   /* padded with zeros to 16 */
    ck_assert_mem_eq(st.txlog[st.txlog_head], want, sizeof(want));
}
END_TEST

static Suite *device_suite(void)
{
    Suite *s = suite_create("device");
    TCase *tc = tcase_create("flows");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, t_apdu_relay);
    tcase_add_test(tc, t_apdu_longest);
    tcase_add_test(tc, t_hash_port);
    tcase_add_test(tc, t_net_too_large);
    tcase_add_loop_test(tc, t_refused, 0, (int)(sizeof(refused) / sizeof(refused[0])));
    tcase_add_test(tc, t_pin_verify);
    tcase_add_loop_test(tc, t_pin_not_kept, 0, 2);
    tcase_add_loop_test(tc, t_pin_templates, 0, (int)(sizeof(tmpls) / sizeof(tmpls[0])));
    tcase_add_loop_test(tc, t_pin_verify_ends, 0, 4);
    tcase_add_loop_test(tc, t_pin_tries, 0, (int)(sizeof(tries) / sizeof(tries[0])));
    tcase_add_test(tc, t_purchase);
    tcase_add_test(tc, t_declined);
    tcase_add_test(tc, t_purse);
    tcase_add_test(tc, t_resume_mid_approval);
    tcase_add_test(tc, t_fresh_session_while_busy);
    tcase_add_test(tc, t_script_all);
    tcase_add_test(tc, t_script_stop);
    tcase_add_test(tc, t_script_continue);
    tcase_add_test(tc, t_script_exact);
    tcase_add_test(tc, t_script_chain_state);
    tcase_add_test(tc, t_pin_change);
    tcase_add_test(tc, t_pin_change_mismatch);
    tcase_add_test(tc, t_prompt_yes);
    tcase_add_test(tc, t_prompt_entry);
    tcase_add_test(tc, t_prompt_cancel);
    tcase_add_test(tc, t_prompt_timeout);
    tcase_add_test(tc, t_prompt_pin_like);
    tcase_add_loop_test(tc, t_prompt_entry_rules, 0, (int)(sizeof(entries) / sizeof(entries[0])));
    tcase_add_test(tc, t_prompt_entry_state);
    tcase_add_test(tc, t_ui_events);
    tcase_add_test(tc, t_prompt_timer);
    tcase_add_test(tc, t_net_two_in_one_feed);
    tcase_add_test(tc, t_net_session_fails);
    tcase_add_test(tc, t_net_link_dead);
    tcase_add_loop_test(tc, t_display_geometry, 0, (int)(sizeof(geos) / sizeof(geos[0])));
    tcase_add_loop_test(tc, t_card_reset, 0, 2);
    tcase_add_test(tc, t_answer_too_long);
    tcase_add_test(tc, t_wants_net);
    tcase_add_loop_test(tc, t_reset_no_card, 0, 2);
    tcase_add_test(tc, t_keys_while_card_busy);
    tcase_add_test(tc, t_null_with_length);
    tcase_add_test(tc, t_pin_stops_clock);
    tcase_add_loop_test(tc, t_card_told_on_open, 0, 2);
    tcase_add_test(tc, t_setup_dirty_memory);
    tcase_add_loop_test(tc, t_removed_on_the_line, 0, 4);
    tcase_add_loop_test(tc, t_card_line_fails, 0, (int)(sizeof(line_fails) / sizeof(line_fails[0])));
    tcase_add_loop_test(tc, t_card_reset_ctrl, 0, 2);
    tcase_add_loop_test(tc, t_card_reset_fails, 0, 2);
    tcase_add_loop_test(tc, t_removed_mid_approval, 0, 2);
    tcase_add_test(tc, t_cleanup_after_abandon);
    tcase_add_test(tc, t_cleanup_after_failed_sign);
    tcase_add_test(tc, t_purchase_signature_verifies);
    tcase_add_loop_test(tc, t_txn_failures, 0, (int)(sizeof(fails) / sizeof(fails[0])));
    tcase_add_test(tc, t_txn_refused_at_start);
    tcase_add_loop_test(tc, t_refused_typed, 0, 3);
    tcase_add_test(tc, t_txn_pages);
    tcase_add_test(tc, t_txn_pin_offset);
    tcase_add_loop_test(tc, t_record_payee_display, 0, 2);
    tcase_add_loop_test(tc, t_record_bytes, 0, (int)(sizeof(records) / sizeof(records[0])));
    tcase_add_test(tc, t_txn_no_digest);
    suite_add_tcase(s, tc);
    tc = tcase_create("no hash port");
    tcase_add_checked_fixture(tc, setup_no_hash, teardown_variant);
    tcase_add_test(tc, t_txn_no_digest);
    suite_add_tcase(s, tc);
    tc = tcase_create("plain policy");
    tcase_add_checked_fixture(tc, setup_plain_policy, teardown_variant);
    tcase_add_test(tc, t_cleanup_card_reset);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cl_test_run(device_suite());
}
