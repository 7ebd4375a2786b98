/*
 * cardlink — libFuzzer target: lib/device with an APDU-level card port
 * (cfg.apdu_card, a PC/SC reader), the reader played by the input: it
 * answers commands with any bytes, fails transmits and resets, hands over
 * any ATR, and the card comes and goes; a server-role relay session sends
 * APDU, PIN-VERIFY and PIN-CHANGE (any template) and CARD-RESET requests; a
 * holder types PINs and presses keys; the reader's PIN pad verifies and
 * modifies, or not, each on its own.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Oracle (abort()):
 *  - CL_WANT_SEND with nothing to pull, or more than CL_DEV_PART10_MAX;
 *  - a PIN_VERIFY_STRUCTURE (cl_dev_card_apdu_structure) while the PIN
 *    pad does not verify, a PIN_MODIFY_STRUCTURE while it does not modify,
 *    or either one whose ulDataLength is not the APDU that follows it, or
 *    whose APDU is not a VERIFY (20, 21) / CHANGE REFERENCE DATA (24, 25);
 *  - a VERIFY / CHANGE REFERENCE DATA / RESET RETRY COUNTER with data
 *    handed to the reader as an APDU without a PIN typed for it;
 *  - the reader's calls accepted in a state that did not ask for them.
 *
 * Input: byte 0 configures (b0 the PIN pad verifies, b1 it modifies); then
 * records
 * [op][len][body]:
 *   0 APDU request       body = the command
 *   1 PIN-VERIFY         [enc][min][max][off][lenoff][timeout][template...]
 *     PIN-CHANGE         the same with enc b7 set, then [newoff][confirm]
 *                        before the template
 *   2 CARD-RESET         [mode]
 *   3 reader answers     body = the response (when a command is out)
 *   4 reader fails       [e] (a command or a reset)
 *   5 reader connected   [proto] ATR... (a reset asked), or OFF done
 *   6 card               in / out of the slot
 *   7 key                [k]: 0 Confirm 1 Cancel 2 Up 3 Down
 *   8 PIN                digits (each % 10)
 *   9 PIN pad            [b0 verifies, b1 modifies]
 *  10 time               [t]: t x 250 ms pass
 *  11 screen             take one
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cardlink/apdu.h"
#include "cardlink/device.h"
#include "cardlink/error.h"

static struct cl_dev dev;
static struct cl_relay_session srv;
static uint8_t srx[CL_DEV_MSG_MAX], srb[4096];
static uint32_t now;
static bool present, pinpad, pinpad_mod, pin_typed;

static void ign(int r)
{
    (void)r;
}

/* The oracle's failure, numbered (a debugger shows which). */
static void fail(int why) __attribute__((noinline, noreturn));
static void fail(int why)
{
    volatile int w = why;
    (void)w;
    abort();
}

/* Move relay bytes both ways until neither side has any. */
static void pump(void)
{
    unsigned guard;

    for (guard = 0; guard < 64; guard++) {
        struct cl_relay_event ev;
        const uint8_t *p;
        size_t n = cl_dev_net_pull(&dev, now, &p);
        bool moved = false;

        if (n > 0) {
            int used = cl_relay_session_feed(&srv, now, p, n);
            ign(cl_dev_net_sent(&dev, used > 0 ? (size_t)used : n));
            moved = true;
        }
        while (cl_relay_session_poll(&srv, &ev))
            ;
        n = cl_relay_session_pull(&srv, now, &p);
        if (n > 0) {
            int used = cl_dev_net_feed(&dev, now, p, n);
            ign(cl_relay_session_sent(&srv, used > 0 ? (size_t)used : n));
            moved = true;
        }
        if (!moved)
            return;
    }
}

/* A VERIFY / CHANGE REFERENCE DATA / RESET RETRY COUNTER carrying data. */
static bool pin_cmd(const uint8_t *c, size_t n)
{
    struct cl_apdu a;
    enum cl_apdu_case k;
    uint8_t ins;

    if (cl_apdu_decode(c, n, &a, &k) != CL_OK || a.nc == 0 || (a.cla & 0x80u) != 0)
        return false;
    ins = a.ins;
    return ins == 0x20 || ins == 0x21 || ins == 0x24 || ins == 0x25 || ins == 0x2C ||
           ins == 0x2D;
}

/* What the reader is handed, checked. */
static void look(void)
{
    const uint8_t *p = NULL;
    size_t n;

    if (cl_dev_card_want(&dev) != CL_WANT_SEND)
        return;
    n = cl_dev_card_pull(&dev, &p);
    if (n == 0 || p == NULL || n > CL_DEV_PART10_MAX)
        fail(2);
    if (cl_dev_card_apdu_secure(&dev)) {
        bool mod = cl_dev_card_apdu_structure(&dev) == CL_DEV_PART10_MODIFY;
        size_t hdr = mod ? CL_DEV_PART10_MOD_HDR : CL_DEV_PART10_HDR, dl;
        uint8_t ins;
        if (!(mod ? pinpad_mod : pinpad) || n < hdr + 6)
            fail(3);
        dl = (size_t)p[hdr - 4] | ((size_t)p[hdr - 3] << 8) | ((size_t)p[hdr - 2] << 16) |
             ((size_t)p[hdr - 1] << 24);
        ins = (uint8_t)(p[hdr + 1] & 0xFEu);
        if (dl != n - hdr || ins != (mod ? 0x24 : 0x20))
            fail(4);
    } else if (pin_cmd(p, n)) {
        if (!pin_typed)
            fail(5);   /* a PIN command nobody typed a PIN for */
    }
}

static void request(uint8_t op, const uint8_t *b, size_t n)
{
    struct cl_relay_msg m;

    if (op == 0) {
        cl_relay_msg_init(&m, CL_RELAY_APDU);
        m.u.apdu.apdu.data = b;
        m.u.apdu.apdu.len = n;
    } else if (op == 1) {
        bool change = n > 0 && (b[0] & 0x80u) != 0;
        size_t h = change ? 8 : 6;
        if (n < h)
            return;
        cl_relay_msg_init(&m, change ? CL_RELAY_PIN_CHANGE : CL_RELAY_PIN_VERIFY);
        if (change) {
            m.u.pin.new_offset = b[6];
            m.u.pin.confirm = b[7] & 1u;
        }
        m.u.pin.encoding = b[0] % 4;
        m.u.pin.min_len = b[1];
        m.u.pin.max_len = b[2];
        m.u.pin.offset = b[3];
        m.u.pin.len_offset = b[4];
        m.u.pin.timeout = b[5];
        m.u.pin.apdu.data = b + h;
        m.u.pin.apdu.len = n - h;
    } else {
        cl_relay_msg_init(&m, CL_RELAY_CARD_RESET);
        m.u.reset_mode = n > 0 && (b[0] & 1) ? CL_RELAY_RESET_COLD : CL_RELAY_RESET_WARM;
    }
    if (cl_relay_session_send(&srv, now, &m) == CL_OK)
        pump();
}

static void setup(uint8_t conf)
{
    struct cl_dev_config cfg;
    static struct cl_relay_session_config scfg;   /* the session keeps it */
    static const uint8_t id[4] = {'f', 'u', 'z', 'z'};
    static const uint8_t token[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

    now = 1000;
    present = pin_typed = false;
    memset(&cfg, 0, sizeof(cfg));
    cfg.relay.device_id = id;
    cfg.relay.device_id_len = sizeof(id);
    cfg.relay.caps.features = CL_RELAY_FEAT_RESUME | CL_RELAY_FEAT_TXN | CL_RELAY_FEAT_SCRIPT;
    cfg.relay.ack_delay_ms = 1;
    cl_card_config_default(&cfg.card);
    cfg.apdu_card = true;
    cl_dev_init(&dev);
    if (cl_dev_setup(&dev, &cfg) != CL_OK)
        fail(6);
    pinpad = (conf & 1u) != 0;
    pinpad_mod = (conf & 2u) != 0;
    cl_dev_card_set_pinpad(&dev, pinpad);
    cl_dev_card_set_pinpad_modify(&dev, pinpad_mod);
    memset(&scfg, 0, sizeof(scfg));
    scfg.ack_delay_ms = 1;
    cl_relay_session_init(&srv);
    if (cl_relay_session_setup(&srv, CL_RELAY_SERVER, &scfg, srx, sizeof(srx), srb,
                               sizeof(srb)) != CL_OK)
        fail(7);
    ign(cl_relay_server_accept(&srv, now, token, sizeof(token)));
    ign(cl_dev_net_up(&dev, now));
    pump();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t i = 1;

    if (size < 1)
        return 0;
    setup(data[0]);
    while (i + 2 <= size) {
        uint8_t op = data[i] % 12, len = data[i + 1];
        const uint8_t *b = data + i + 2;
        size_t n = size - i - 2 < len ? size - i - 2 : len;
        struct cl_ui_screen s;
        int r;

        i += 2 + n;
        switch (op) {
        case 0:
        case 1:
        case 2:
            request(op, b, n);
            break;
        case 3:
            r = cl_dev_card_apdu_done(&dev, now, b, n);
            if (r == CL_OK)
                pin_typed = false;
            break;
        case 4: {
            static const int errs[] = {CL_ERR_CARD_REMOVED, CL_ERR_TIMEOUT, CL_ERR_IO,
                                       CL_ERR_PROTOCOL, CL_ERR_CARD_MUTE, CL_ERR_BUFFER};
            r = cl_dev_card_fail(&dev, now, errs[(n > 0 ? b[0] : 0) % 6]);
            if (r == CL_OK && n > 0 && errs[b[0] % 6] == CL_ERR_CARD_REMOVED)
                present = false;
            if (r == CL_OK)
                pin_typed = false;
            break;
        }
        case 5:
            if (cl_dev_card_want(&dev) == CL_WANT_CTRL &&
                cl_dev_card_ctrl(&dev) == CL_CARD_CTRL_OFF) {
                if (cl_dev_card_ctrl_done(&dev, now, CL_OK) != CL_OK)
                    fail(8);
            } else if (n >= 2) {
                r = cl_dev_card_apdu_reset(&dev, now, b + 1, n - 1, b[0] & 1);
                if (r == CL_OK && !(cl_dev_card_want(&dev) == CL_WANT_IDLE ||
                                    cl_dev_card_want(&dev) == CL_WANT_SEND ||
                                    cl_dev_card_want(&dev) == CL_WANT_CTRL))
                    fail(9);
            }
            break;
        case 6:
            if (present) {
                cl_dev_card_removed(&dev, now);
                present = false;
                pin_typed = false;
            } else if (cl_dev_card_inserted(&dev, now) == CL_OK) {
                present = true;
            }
            break;
        case 7: {
            static const unsigned keys[] = {CL_UI_KEY_CONFIRM, CL_UI_KEY_CANCEL, CL_UI_KEY_UP,
                                            CL_UI_KEY_DOWN};
            ign(cl_dev_ui_key(&dev, now, keys[(n > 0 ? b[0] : 0) % 4]));
            break;
        }
        case 8: {
            uint8_t dg[16];
            size_t k, m = n < sizeof(dg) ? n : sizeof(dg);
            for (k = 0; k < m; k++)
                dg[k] = (uint8_t)(b[k] % 10);
            if (cl_dev_ui_pin(&dev, now, dg, m) == CL_OK)
                pin_typed = true;
            break;
        }
        case 9:
            pinpad = n > 0 && (b[0] & 1);
            pinpad_mod = n > 0 && (b[0] & 2);
            /* the structure out stays what it was */
            if (cl_dev_card_apdu_structure(&dev) == CL_DEV_PART10_VERIFY)
                pinpad = true;
            if (cl_dev_card_apdu_structure(&dev) == CL_DEV_PART10_MODIFY)
                pinpad_mod = true;
            cl_dev_card_set_pinpad(&dev, pinpad);
            cl_dev_card_set_pinpad_modify(&dev, pinpad_mod);
            break;
        case 10:
            now += (n > 0 ? b[0] : 1) * 250u;
            ign(cl_dev_timeout(&dev, now));
            break;
        default:
            ign(cl_dev_ui_take(&dev, &s));
            break;
        }
        pump();
        look();
    }
    cl_dev_free(&dev);
    cl_relay_session_free(&srv);
    return 0;
}
